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

# pending_signals PID: the signals waiting for PID (shared and its own), as
# one hex mask.
pending_signals() {
	local k v m=0
	while read -r k v; do
		case $k in ShdPnd: | SigPnd:) m=$((m | 0x$v)) ;; esac
	done <"/proc/$1/status" || return 1
	printf '%x\n' "$m"
}

# signal_pending PID SIG: SIG (a number) waits, undelivered, for PID.
signal_pending() {
	local m
	m=$(pending_signals "$1") || return 1
	(((0x$m >> ($2 - 1)) & 1))
}

@test "SIGKILL to a paused container: it is thawed and dies (137), leaves the runtime and State" {
	requires_cgroup_v1 freezer
	id=$(unique_id pkill)
	start_container "$id" "${SLEEP_ARGS[@]}"
	pid=$(init_pid "$id")
	run -0 ctr containers pause "$id"
	assert_eq "$(ctr_state_status "$id")" paused "State status"
	assert_eq "$(freezer_state "$pid")" FROZEN "freezer.state"

	t0=$(date +%s%N)
	run -0 ctr containers kill -s KILL "$id"
	wait_exit "$id" 137
	t1=$(date +%s%N)
	wait_for eval '[ -z "$(runc_list)" ]'
	wait_for container_not_listed "$id"
	run ctr containers state "$id"
	[ "$status" -ne 0 ] || fail "State still has $id"
	assert_match "$output" 'not found'
	wait_for pid_gone "$pid"
	assert_eq "$(db "SELECT status FROM containers WHERE id = '$id'")" stopped "containers.status"
	# The thaw is in the history only if it ended before the init did
	# (then before the exit); either way the history replays to 'stopped'.
	resumed=$(event_count resume "$id")
	if [ "$resumed" -gt 0 ]; then
		[ "$(first_event_seq resume "$id")" -lt "$(event_seq exit "$id" init)" ] ||
			fail "resume event after the exit"
	fi
	run -0 "$REPO/bin/containerd-state" --db "$DB" check
	echo "# figure: paused container, SIGKILL -> exit 137 recorded within $(((t1 - t0) / 1000000)) ms; runc and State no longer have it ($resumed resume event)" >&3
}

@test "SIGTERM to a paused container: it waits, pending, until resumed (as the 2017 daemon); then the trap ends it (143)" {
	requires_cgroup_v1 freezer
	id=$(unique_id pterm)
	start_container "$id" "${TRAP_ARGS[@]}"
	wait_for test -e "$BUNDLE/rootfs/tmp/trapped"
	pid=$(init_pid "$id")
	run -0 ctr containers pause "$id"

	run -0 ctr containers kill -s TERM "$id"
	# Delivered, not acted on: pending while frozen.
	wait_for signal_pending "$pid" 15
	assert_eq "$(freezer_state "$pid")" FROZEN "freezer.state after SIGTERM"
	assert_eq "$(ctr_state_status "$id")" paused "State status after SIGTERM"
	assert_eq "$(event_count exit "$id")" 0 "exit events while paused"
	mask=$(pending_signals "$pid")

	run -0 ctr containers resume "$id"
	wait_exit "$id" 143
	wait_for container_not_listed "$id"
	echo "# figure: SIGTERM pending while paused (pending mask $mask); exit 143 after resume" >&3
}
