#!/usr/bin/env bats
# The daemon dies or stops; containers live on; a restart picks them up.

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

@test "SIGKILL + restart: running containers stay running and listed; one killed meanwhile gets exit 137" {
	start_container keep1 "${SLEEP_ARGS[@]}"
	start_container keep2 "${SLEEP_ARGS[@]}"
	start_container victim "${SLEEP_ARGS[@]}"
	keep1_pid=$(init_pid keep1)
	victim_pid=$(init_pid victim)
	t0=$(now_rfc3339)

	stop_daemon -KILL
	assert_eq "$DAEMON_STATUS" 137 "daemon exit status"

	# While the daemon is down: the containers run; kill one from the host.
	assert_eq "$(runc_status keep1)" running "keep1 while the daemon is down"
	kill -9 "$victim_pid"
	wait_for pid_gone "$victim_pid"
	# Nothing was recorded yet: nobody to record it.
	! has_event exit victim init 137

	start_daemon
	wait_exit victim 137

	run -0 ctr events --timestamp "$t0" --stored-only
	echo "$output"
	ctr_has_event "$output" exit victim init 137
	assert_not_contains "$output" keep1

	run -0 ctr containers
	echo "$output"
	assert_eq "$(awk '$1 == "keep1" { print $3 }' <<<"$output")" running "keep1 after restart"
	assert_eq "$(awk '$1 == "keep2" { print $3 }' <<<"$output")" running "keep2 after restart"
	wait_for container_not_listed victim
	assert_eq "$(init_pid keep1)" "$keep1_pid" "keep1's init pid (same process)"
	assert_eq "$(db "SELECT status FROM containers WHERE id = 'victim'")" stopped "victim's row"
	assert_eq "$(db "SELECT exit_status FROM processes WHERE container_id = 'victim'")" 137 "victim's exit"
	assert_eq "$(db "SELECT status FROM containers WHERE id = 'keep1'")" running "keep1's row"
}

@test "after a restart the daemon still supervises old containers (kill -> exit event)" {
	start_container old1 "${SLEEP_ARGS[@]}"
	stop_daemon -KILL
	start_daemon

	run -0 ctr containers kill --signal 9 old1
	wait_exit old1 137
	wait_for container_not_listed old1
}

@test "an exit with its own code while the daemon is down is recorded with that code" {
	make_bundle seven sh -c 'while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 7'
	run -0 ctr containers start seven "$BUNDLE"
	pid=$(init_pid seven)

	stop_daemon -KILL
	touch "$BUNDLE/rootfs/tmp/go"
	wait_for pid_gone "$pid"

	start_daemon
	wait_exit seven 7
	assert_eq "$(db "SELECT exit_status FROM processes WHERE container_id = 'seven'")" 7 "exit_status"
	wait_for container_not_listed seven
}

@test "SIGTERM stops the daemon cleanly and leaves containers running" {
	start_container st1 "${SLEEP_ARGS[@]}"
	pid=$(init_pid st1)

	stop_daemon -TERM
	assert_eq "$DAEMON_STATUS" 0 "daemon exit status after SIGTERM"
	assert_eq "$(runc_status st1)" running "st1 after the daemon stopped"
	pid_alive "$pid"

	# ctr now reports the daemon is not running, naming the address.
	run ctr containers
	[ "$status" -ne 0 ]
	assert_contains "$output" "$SOCK"

	start_daemon
	assert_eq "$(ctr_status st1)" running "st1 after restart"
}

@test "SIGINT stops the daemon like SIGTERM" {
	start_container si1 "${SLEEP_ARGS[@]}"
	stop_daemon -INT
	assert_eq "$DAEMON_STATUS" 0 "daemon exit status after SIGINT"
	assert_eq "$(runc_status si1)" running "si1 after the daemon stopped"
}

@test "events history survives a restart; seq keeps increasing" {
	start_container h1 "${SLEEP_ARGS[@]}"
	max1=$(db "SELECT max(seq) FROM events")
	stop_daemon -KILL
	start_daemon
	start_container h2 "${SLEEP_ARGS[@]}"

	run -0 ctr events --timestamp 2000-01-01T00:00:00Z --stored-only
	echo "$output"
	assert_match "$output" 'start-container[[:space:]]+h1([[:space:]]|$)'
	assert_match "$output" 'start-container[[:space:]]+h2([[:space:]]|$)'
	h2_seq=$(db "SELECT min(seq) FROM events WHERE type = 'start-container' AND container_id = 'h2'")
	[ "$h2_seq" -gt "$max1" ] || fail "h2's seq $h2_seq not after $max1"
}

@test "restart after SIGKILL several times in a row keeps the container" {
	start_container many "${SLEEP_ARGS[@]}"
	pid=$(init_pid many)
	for k in 1 2 3; do
		stop_daemon -KILL
		start_daemon
		assert_eq "$(ctr_status many)" running "after restart $k"
	done
	assert_eq "$(init_pid many)" "$pid" "same init"
	# No duplicate exit or start events were made up on the way.
	assert_eq "$(db "SELECT count(*) FROM events WHERE container_id = 'many'")" 1 "events for 'many'"
}

@test "a second daemon on a live socket refuses to start, the first keeps serving" {
	daemon_cmd
	run timeout 20 "${DAEMON_ARGV[@]}" 3>&-
	echo "$output"
	[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "second daemon: status $status"
	assert_match "$output" 'running|in use|already|listen|lock'
	run -0 ctr version
	pid_alive "$DAEMON_PID"
}
