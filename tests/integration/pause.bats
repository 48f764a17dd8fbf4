#!/usr/bin/env bats
# ctr containers pause / resume: runc pause/resume, the freezer cgroup, the
# status in list and State, pause/resume events.

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

freezer_state() {
	cgroup_file freezer "$1" freezer.state
}

@test "pause -> paused (list, State, freezer FROZEN, pause event) -> resume -> running (THAWED, resume event)" {
	requires_cgroup_v1 freezer
	id=$(unique_id pz)
	# A counter that only moves while the container runs.
	start_container "$id" sh -c 'k=0; while true; do k=$((k+1)); echo $k >/tmp/count; sleep 0.05; done'
	pid=$(init_pid "$id")
	wait_for test -s "$BUNDLE/rootfs/tmp/count"

	run -0 ctr containers pause "$id"
	assert_eq "$(ctr_status "$id")" paused "ctr containers STATUS"
	assert_eq "$(ctr_state_status "$id")" paused "State status"
	assert_eq "$(freezer_state "$pid")" FROZEN "freezer.state"
	assert_eq "$(runc_status "$id")" paused "runc status"
	wait_for has_event_of pause "$id"
	assert_eq "$(db "SELECT status FROM containers WHERE id = '$id'")" paused "containers.status"

	# Frozen: the counter stands still.
	c1=$(cat "$BUNDLE/rootfs/tmp/count")
	sleep 0.3
	assert_eq "$(cat "$BUNDLE/rootfs/tmp/count")" "$c1" "counter while paused"

	run -0 ctr containers resume "$id"
	assert_eq "$(ctr_status "$id")" running "ctr containers STATUS"
	assert_eq "$(ctr_state_status "$id")" running "State status"
	assert_eq "$(freezer_state "$pid")" THAWED "freezer.state"
	assert_eq "$(runc_status "$id")" running "runc status"
	wait_for has_event_of resume "$id"
	[ "$(first_event_seq pause "$id")" -lt "$(first_event_seq resume "$id")" ] ||
		fail "resume event before the pause event"

	# Thawed: it counts again.
	wait_for eval '[ "$(cat "$BUNDLE/rootfs/tmp/count")" != "$c1" ]'

	run -0 ctr events --timestamp 2000-01-01T00:00:00Z --stored-only --id "$id"
	echo "$output"
	grep -Eq "[[:space:]]pause[[:space:]]+${id}[[:space:]]" <<<"$output" || fail "no pause line"
	grep -Eq "[[:space:]]resume[[:space:]]+${id}[[:space:]]" <<<"$output" || fail "no resume line"
}

@test "a paused container can be resumed and killed; its exit comes" {
	id=$(unique_id pk)
	start_container "$id" "${SLEEP_ARGS[@]}"

	run -0 ctr containers pause "$id"
	assert_eq "$(ctr_status "$id")" paused "status"
	run -0 ctr containers resume "$id"
	run -0 ctr containers kill -s KILL "$id"
	wait_exit "$id" 137
	wait_for container_not_listed "$id"
}

@test "pause / resume of an unknown container: not found" {
	run ctr containers pause no-such-ctr
	[ "$status" -ne 0 ] || fail "pause no-such-ctr succeeded"
	assert_match "$output" 'no such container|not found'
	run ctr containers resume no-such-ctr
	[ "$status" -ne 0 ] || fail "resume no-such-ctr succeeded"
	assert_match "$output" 'no such container|not found'
}
