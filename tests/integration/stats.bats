#!/usr/bin/env bats
# ctr containers stats --json: one sample of the container's cgroup, as JSON with
# the contract's field names (cgroup_stats.memory_stats.usage.usage, ...).

load helpers

setup_file() {
	setup_base_bundle
}

setup() {
	requires_e2e
	setup_common
	start_daemon
}

teardown() {
	teardown_common
}

# stat_num JSON FILTER: a number from the stats JSON (uint64s may be strings).
stat_num() {
	jq -r "($2) // 0 | tonumber" <<<"$1"
}

@test "containers stats: non-zero memory usage, cpu time and pids, as JSON" {
	requires_cgroup_v1 memory cpuacct pids
	id=$(unique_id st1)
	# Touch some memory so the sample cannot be empty.
	start_container "$id" sh -c 'x=0123456789; for k in 1 2 3 4 5 6 7 8 9 10 11 12; do x=$x$x; done; touch /tmp/ready; sleep 1000'
	wait_for test -e "$BUNDLE/rootfs/tmp/ready"

	run -0 ctr containers stats --json "$id"
	echo "$output"
	jq -e . <<<"$output" >/dev/null || fail "not JSON: $output"
	mem=$(stat_num "$output" .cgroup_stats.memory_stats.usage.usage)
	[ "$mem" -gt 0 ] || fail "memory usage is $mem"
	cpu=$(stat_num "$output" .cgroup_stats.cpu_stats.cpu_usage.total_usage)
	[ "$cpu" -gt 0 ] || fail "cpu total_usage is $cpu"
	pids=$(stat_num "$output" .cgroup_stats.pids_stats.current)
	[ "$pids" -ge 1 ] || fail "pids current is $pids"
}

@test "containers stats: limits set by update show; an exec counts in pids" {
	requires_cgroup_v1 memory pids
	id=$(unique_id st2)
	start_container "$id" "${SLEEP_ARGS[@]}"
	run -0 ctr containers update "$id" --memory-limit 64m --pids-limit 50

	run -0 ctr containers exec --id "$id" --pid extra sleep 1000
	wait_for process_listed "$id" extra

	run -0 ctr containers stats --json "$id"
	echo "$output"
	assert_eq "$(stat_num "$output" .cgroup_stats.memory_stats.usage.limit)" 67108864 "memory limit"
	assert_eq "$(stat_num "$output" .cgroup_stats.pids_stats.limit)" 50 "pids limit"
	pids=$(stat_num "$output" .cgroup_stats.pids_stats.current)
	[ "$pids" -ge 2 ] || fail "pids current is $pids with an exec running"
	mem=$(stat_num "$output" .cgroup_stats.memory_stats.usage.usage)
	[ "$mem" -gt 0 ] && [ "$mem" -le 67108864 ] || fail "memory usage $mem not in (0, limit]"
}

@test "containers stats of an unknown container: an error" {
	run ctr containers stats no-such-ctr
	[ "$status" -ne 0 ] || fail "stats no-such-ctr succeeded: $output"
	assert_match "$output" 'no such container|not found'
}
