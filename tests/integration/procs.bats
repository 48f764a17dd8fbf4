#!/usr/bin/env bats
# Processes the daemon keeps: pids checked by their start time (a reused
# pid is a stranger), AddProcess racing the init's exit, retention of a
# live container's finished execs, pause/resume kept in step with runc.

load helpers

STATE_BIN=$REPO/bin/containerd-state

setup_file() {
	setup_base_bundle
}

setup() {
	requires_e2e
	setup_common
}

teardown() {
	[ -z "${STRANGER:-}" ] || kill -9 "$STRANGER" 2>/dev/null || true
	teardown_common
}

# start_time PID: field 22 of /proc/PID/stat (clock ticks since boot).
start_time() {
	sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f20
}

# spawn_at PID: a `sleep 1000` that gets PID (ns_last_pid aims the next
# fork at it; another fork may win the race: tried again). Sets STRANGER.
spawn_at() {
	local want=$1 k
	for ((k = 0; k < 200; k++)); do
		echo $((want - 1)) >/proc/sys/kernel/ns_last_pid
		sleep 1000 &
		if [ "$!" = "$want" ]; then
			STRANGER=$!
			return 0
		fi
		kill -9 "$!" 2>/dev/null
		wait "$!" 2>/dev/null || true
	done
	return 1
}

@test "pid reuse: shim and init killed while the daemon is down, a stranger gets the init's pid: not adopted, not signalled" {
	[ -w /proc/sys/kernel/ns_last_pid ] || skip "needs /proc/sys/kernel/ns_last_pid"
	start_daemon
	start_container reuse "${SLEEP_ARGS[@]}"
	pid=$(init_pid reuse)
	shim=$(db "SELECT shim_pid FROM processes WHERE container_id = 'reuse' AND pid = 'init'")
	recorded=$(db "SELECT start_time FROM processes WHERE container_id = 'reuse' AND pid = 'init'" 2>/dev/null || echo none)
	orig=$(start_time "$pid")

	stop_daemon -KILL
	kill -9 "$shim"
	wait_for pid_gone "$shim"
	kill -9 "$pid"
	wait_for pid_gone "$pid"
	wait_for eval "[ ! -e /proc/$pid ]"
	spawn_at "$pid" || skip "could not get pid $pid back (the machine forks too much)"
	stranger=$(start_time "$STRANGER")
	echo "# figure: init pid $pid: start time $orig (recorded $recorded), stranger's $stranger" >&3

	start_daemon
	wait_exit reuse 255
	wait_for container_not_listed reuse
	note=$(db "SELECT note FROM events WHERE type = 'exit' AND container_id = 'reuse'")
	echo "# figure: recorded exit: 255, note: $note" >&3
	assert_contains "$note" "reused"
	run ctr containers kill --signal 9 reuse
	[ "$status" -ne 0 ] || fail "Signal to a stopped container was accepted"
	pid_alive "$STRANGER" || fail "the stranger (pid $STRANGER) was killed"
	echo "# figure: stranger $STRANGER alive after Signal: yes" >&3
}
