#!/usr/bin/env bats
# ctr containers update: resources through the runtime's update, read back
# from the container's cgroup v1 files (found from /proc/<init>/cgroup).

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

@test "update --memory-limit --cpu-shares --pids-limit: memory.limit_in_bytes, cpu.shares, pids.max" {
	requires_cgroup_v1 memory cpu pids
	id=$(unique_id up1)
	start_container "$id" "${SLEEP_ARGS[@]}"
	pid=$(init_pid "$id")

	run -0 ctr containers update "$id" --memory-limit 64m --cpu-shares 512 --pids-limit 77
	assert_eq "$(cgroup_file memory "$pid" memory.limit_in_bytes)" 67108864 "memory.limit_in_bytes"
	assert_eq "$(cgroup_file cpu "$pid" cpu.shares)" 512 "cpu.shares"
	assert_eq "$(cgroup_file pids "$pid" pids.max)" 77 "pids.max"

	# A second update changes only what it names.
	run -0 ctr containers update "$id" --pids-limit 99
	assert_eq "$(cgroup_file pids "$pid" pids.max)" 99 "pids.max"
	assert_eq "$(cgroup_file memory "$pid" memory.limit_in_bytes)" 67108864 "memory.limit_in_bytes"
	assert_eq "$(cgroup_file cpu "$pid" cpu.shares)" 512 "cpu.shares"
	assert_eq "$(ctr_status "$id")" running "status"
}

@test "update --cpu-quota --cpu-period --cpuset-cpus --memory-reservation --memory-swap" {
	requires_cgroup_v1 memory cpu cpuset
	id=$(unique_id up2)
	start_container "$id" "${SLEEP_ARGS[@]}"
	pid=$(init_pid "$id")
	swap=--memory-swap
	[ -f "$(cgroup_dir memory "$pid")/memory.memsw.limit_in_bytes" ] || swap=

	run -0 ctr containers update "$id" --cpu-quota 50000 --cpu-period 100000 --cpuset-cpus 0 \
		--memory-limit 64m --memory-reservation 32m ${swap:+$swap 128m}
	assert_eq "$(cgroup_file cpu "$pid" cpu.cfs_quota_us)" 50000 "cpu.cfs_quota_us"
	assert_eq "$(cgroup_file cpu "$pid" cpu.cfs_period_us)" 100000 "cpu.cfs_period_us"
	assert_eq "$(cgroup_file cpuset "$pid" cpuset.cpus)" 0 "cpuset.cpus"
	assert_eq "$(cgroup_file memory "$pid" memory.soft_limit_in_bytes)" 33554432 "memory.soft_limit_in_bytes"
	if [ -n "$swap" ]; then
		assert_eq "$(cgroup_file memory "$pid" memory.memsw.limit_in_bytes)" 134217728 \
			"memory.memsw.limit_in_bytes"
	fi
}

@test "update refused by the runtime: its message comes back, the cgroup keeps its value" {
	requires_cgroup_v1 cpuset
	id=$(unique_id up3)
	start_container "$id" "${SLEEP_ARGS[@]}"
	pid=$(init_pid "$id")
	before=$(cgroup_file cpuset "$pid" cpuset.cpus)

	# A cpu this machine does not have.
	run ctr containers update "$id" --cpuset-cpus "$(($(nproc) + 8))"
	[ "$status" -ne 0 ] || fail "an update to a missing cpu succeeded"
	assert_match "$output" 'cpuset'
	assert_eq "$(cgroup_file cpuset "$pid" cpuset.cpus)" "$before" "cpuset.cpus"
	assert_eq "$(ctr_status "$id")" running "status"
}

@test "update of an unknown container, or with nothing to update: an error" {
	run ctr containers update no-such-ctr --pids-limit 5
	[ "$status" -ne 0 ] || fail "update no-such-ctr succeeded"
	assert_match "$output" 'no such container|not found'

	id=$(unique_id up4)
	start_container "$id" "${SLEEP_ARGS[@]}"
	run ctr containers update "$id"
	[ "$status" -ne 0 ] || fail "an empty update succeeded"
	run ctr containers update "$id" --memory-limit lots
	[ "$status" -ne 0 ] || fail "--memory-limit lots accepted"
	assert_contains "$output" lots
}
