#!/usr/bin/env bats
# A killed shim (issue 11 item 6). A process whose shim dies has lost its
# stdio and its supervisor: as the 2017 daemon did (and containerd does
# today), the daemon kills it and reports its exit, 137, within about a
# second, with a note saying why; the init through the runtime (`runc kill`
# then `runc delete`), so the container leaves the runtime and State too.
# An exit the shim recorded still wins, and a daemon that is being stopped
# kills nothing.

load helpers

setup_file() {
	setup_base_bundle
}

setup() {
	requires_e2e
	setup_common
}

teardown() {
	teardown_common
}

# The exit is due within 2 s; the sanitized daemon (tests/san/run.sh) is
# several times slower, and gets 6 s.
LIMIT_MS=2000
[ -z "${CTRD_SAN:-}" ] || LIMIT_MS=6000

# shim_of ID PID: the recorded shim pid of ID's process PID.
shim_of() {
	db "SELECT shim_pid FROM processes WHERE container_id = '$1' AND pid = '$2'"
}

# exit_note ID PID: the note of ID's PID exit event.
exit_note() {
	db "SELECT note FROM events WHERE type = 'exit' AND container_id = '$1' AND pid = '$2'"
}

# watch_events: `ctr events` (live, from a second ago) into $T/ev.out.
watch_events() {
	ctr events --timestamp "$(date -u -d '-1 sec' +%Y-%m-%dT%H:%M:%SZ)" >"$T/ev.out" 2>&1 3>&- &
	BG_PIDS+=("$!")
}

# streamed_exit ID PID STATUS: the events stream delivered that exit.
streamed_exit() {
	ctr_has_event "$(cat "$T/ev.out")" exit "$1" "$2" "$3"
}

# in_runc ID: runc still lists ID.
in_runc() {
	runc_list | grep -qxF -- "$1"
}

@test "a shim SIGKILLed while its container runs: the container is killed, exit 137 streamed within 2 s with a note, gone from runc and State" {
	start_daemon
	watch_events
	start_container sk1 "${SLEEP_ARGS[@]}"
	pid=$(init_pid sk1)
	shim=$(shim_of sk1 init)
	[ "${shim:-0}" -gt 0 ] || fail "no shim pid recorded"

	t0=$(date +%s%N)
	kill -9 "$shim"
	wait_for -t 5 streamed_exit sk1 init 137
	ms=$(ms_since "$t0")
	echo "# figure: shim killed -> exit 137 streamed after $ms ms" >&3
	[ "$ms" -lt "$LIMIT_MS" ] || fail "the exit came after $ms ms (over $LIMIT_MS ms)"
	wait_for pid_gone "$pid"
	wait_for container_not_listed sk1
	wait_for eval '! in_runc sk1'
	note=$(exit_note sk1 init)
	echo "# figure: note: $note" >&3
	assert_contains "$note" "its shim was killed: the process was killed with it"
	assert_contains "$(cat "$T/daemon.log")" "container sk1 process init: its shim was killed (signal 9) while the process ran: killing the process"
	run ctr containers state sk1
	[ "$status" -ne 0 ] || fail "State still lists sk1: $output"
	# The id is free again.
	start_container sk1 "${SLEEP_ARGS[@]}"
}

@test "an exec's shim SIGKILLed: the exec is killed, exit 137 streamed within 2 s with a note, the container runs on" {
	start_daemon
	watch_events
	start_container sk2 "${SLEEP_ARGS[@]}"
	run -0 ctr containers exec --id sk2 --pid victim sleep 1000
	wait_for process_listed sk2 victim
	pid=$(exec_system_pid sk2 victim)
	shim=$(shim_of sk2 victim)
	[ "${pid:-0}" -gt 0 ] && [ "${shim:-0}" -gt 0 ] || fail "exec pid '$pid', shim '$shim'"

	t0=$(date +%s%N)
	kill -9 "$shim"
	wait_for -t 5 streamed_exit sk2 victim 137
	ms=$(ms_since "$t0")
	echo "# figure: exec's shim killed -> exit 137 streamed after $ms ms" >&3
	[ "$ms" -lt "$LIMIT_MS" ] || fail "the exit came after $ms ms (over $LIMIT_MS ms)"
	wait_for pid_gone "$pid"
	wait_for process_not_listed sk2 victim
	assert_contains "$(exit_note sk2 victim)" "its shim was killed: the process was killed with it"
	# Only the exec: the init and its shim run on.
	assert_eq "$(ctr_status sk2)" running "sk2"
	pid_alive "$(init_pid sk2)" || fail "the init died with the exec"
	assert_eq "$(event_count exit sk2 init)" 0 "sk2's init exits"
	kill -9 "$(init_pid sk2)"
	wait_exit sk2 137
	assert_eq "$(exit_note sk2 init)" "" "the init's exit (its shim alive) note"
}

@test "a paused container's shim SIGKILLed: thawed and killed, exit 137, gone from runc" {
	start_daemon
	start_container sk3 "${SLEEP_ARGS[@]}"
	run -0 ctr containers pause sk3
	wait_for eval '[ "$(runc_status sk3)" = paused ]'
	pid=$(init_pid sk3)
	t0=$(date +%s%N)
	kill -9 "$(shim_of sk3 init)"
	wait_for -t 5 has_event exit sk3 init 137
	echo "# figure: paused container: exit 137 recorded after $(ms_since "$t0") ms" >&3
	wait_for pid_gone "$pid"
	wait_for container_not_listed sk3
	wait_for eval '! in_runc sk3'
	# The runtime's kill did it (it thaws a paused container for a KILL).
	assert_not_contains "$(cat "$T/daemon.log")" "runtime kill failed"
}

@test "a shim that dies after recording its process's exit: the recorded status wins (3), no 137" {
	start_daemon
	start_container sk4 sh -c 'trap "exit 3" TERM; touch /tmp/trapped; while true; do sleep 1; done'
	wait_for test -e "$BUNDLE/rootfs/tmp/trapped"
	shim=$(shim_of sk4 init)
	# The daemon frozen: the shim records the exit, then is killed (if it
	# has not exited already) before the daemon hears of either.
	kill -STOP "$DAEMON_PID"
	kill -TERM "$(init_pid sk4)"
	wait_for test -s "$CDIR/sk4/init/exit"
	kill -9 "$shim" 2>/dev/null || true
	kill -CONT "$DAEMON_PID"
	wait_exit sk4 3
	wait_for container_not_listed sk4
	assert_eq "$(db "SELECT count(*) FROM events WHERE type = 'exit' AND container_id = 'sk4'")" 1 "sk4's exits"
	assert_eq "$(exit_note sk4 init)" "" "note"
}

@test "a process that ended before its shim was killed: its own status (143), not 137" {
	start_daemon
	start_container sk5 sh -c 'trap "exit 143" TERM; touch /tmp/trapped; while true; do sleep 1; done'
	wait_for test -e "$BUNDLE/rootfs/tmp/trapped"
	shim=$(shim_of sk5 init)
	pid=$(init_pid sk5)
	# The shim frozen cannot reap: the init ends (143) as a zombie, which
	# the daemon (a subreaper) inherits and reaps once the shim is killed.
	kill -STOP "$shim"
	kill -TERM "$pid"
	wait_for eval "[ \"\$(sed 's/^.*) //' /proc/$pid/stat | cut -d' ' -f1)\" = Z ]"
	kill -9 "$shim"
	wait_exit sk5 143
	echo "# figure: exit recorded: 143 (the process's own), note '$(exit_note sk5 init)'" >&3
	assert_eq "$(event_count exit sk5 init)" 1 "sk5's exits"
	wait_for container_not_listed sk5
}

@test "a shim killed while the daemon is down: at restart its process is killed (137, as the 2017 daemon's restore did), with a note; a live shim's container runs on" {
	start_daemon
	start_container sk6 "${SLEEP_ARGS[@]}"
	start_container sk7 "${SLEEP_ARGS[@]}"
	run -0 ctr containers exec --id sk7 --pid victim sleep 1000
	wait_for process_listed sk7 victim
	p6=$(init_pid sk6)
	p7=$(exec_system_pid sk7 victim)
	stop_daemon -KILL
	kill -9 "$(shim_of sk6 init)" "$(shim_of sk7 victim)"
	t0=$(date +%s%N)
	start_daemon
	wait_for -t 5 has_event exit sk6 init 137
	wait_for -t 5 has_event exit sk7 victim 137
	echo "# figure: restart -> both exits 137 recorded after $(ms_since "$t0") ms" >&3
	wait_for pid_gone "$p6"
	wait_for pid_gone "$p7"
	wait_for container_not_listed sk6
	wait_for eval '! in_runc sk6'
	wait_for process_not_listed sk7 victim
	assert_contains "$(exit_note sk6 init)" "its shim died while the daemon was down: the process was killed with it"
	assert_contains "$(exit_note sk7 victim)" "its shim died while the daemon was down: the process was killed with it"
	assert_eq "$(ctr_status sk7)" running "sk7, whose init's shim lives"
	assert_eq "$(event_count exit sk7 init)" 0 "sk7's init exits"
}

@test "a shim killed while the daemon is being stopped (SIGTERM) kills nothing: the container runs on until a restart finds its shim gone" {
	start_daemon
	start_container sk8 "${SLEEP_ARGS[@]}"
	pid=$(init_pid sk8)
	shim=$(shim_of sk8 init)
	# The stop and the shim's death reach the daemon together: frozen, it
	# gets SIGTERM, the shim dies; thawed, it sees both at once.
	kill -STOP "$DAEMON_PID"
	kill -TERM "$DAEMON_PID"
	kill -9 "$shim"
	wait_for pid_gone "$shim"
	kill -CONT "$DAEMON_PID"
	stop_daemon -TERM
	assert_eq "$DAEMON_STATUS" 0 "the daemon's exit status"
	pid_alive "$pid" || fail "the container's init was killed by a stopping daemon"
	in_runc sk8 || fail "sk8 left runc"
	echo "# figure: daemon stopped as the shim died: init $pid alive, in runc" >&3
	start_daemon
	wait_exit sk8 137
	wait_for pid_gone "$pid"
	assert_contains "$(exit_note sk8 init)" "while the daemon was down"
}

@test "a shim adopted after a restart, then SIGKILLed: its process (not the daemon's child) is killed, exit 137 within 2 s with a note" {
	start_daemon
	start_container sk9 "${SLEEP_ARGS[@]}"
	pid=$(init_pid sk9)
	stop_daemon -TERM
	start_daemon
	watch_events
	wait_for file_has "$T/daemon.log" "container sk9 process init: shim"
	shim=$(shim_of sk9 init)
	t0=$(date +%s%N)
	kill -9 "$shim"
	wait_for -t 5 streamed_exit sk9 init 137
	ms=$(ms_since "$t0")
	echo "# figure: adopted shim killed -> exit 137 streamed after $ms ms" >&3
	[ "$ms" -lt "$LIMIT_MS" ] || fail "the exit came after $ms ms (over $LIMIT_MS ms)"
	wait_for pid_gone "$pid"
	wait_for container_not_listed sk9
	wait_for eval '! in_runc sk9'
	assert_contains "$(exit_note sk9 init)" "its shim died: the process was killed with it"
}

@test "restart with a live shim the row does not name (pid or start time wrong): the shim is found by its dir and adopted, nothing killed" {
	start_daemon
	start_container sk10 "${SLEEP_ARGS[@]}"
	pid=$(init_pid sk10)
	shim=$(shim_of sk10 init)
	stop_daemon -TERM
	db "UPDATE processes SET shim_start_time = 1 WHERE container_id = 'sk10' AND pid = 'init'"
	start_daemon
	wait_for file_has "$T/daemon.log" "container sk10 process init: its shim runs as pid $shim, not the one recorded: watching it"
	assert_eq "$(ctr_status sk10)" running "sk10"
	pid_alive "$pid" || fail "sk10's init was killed"
	# Watched through that shim: its exit is the real one, no note.
	kill -9 "$pid"
	wait_exit sk10 137
	assert_eq "$(exit_note sk10 init)" "" "note"
}

@test "a shim started as docker-containerd-shim (dockerd's default mode), its row wrong, the daemon restarted with another --shim: still found by its dir and adopted" {
	start_daemon --shim "$(dirname "$SHIM")/docker-containerd-shim"
	start_container sk11 "${SLEEP_ARGS[@]}"
	pid=$(init_pid sk11)
	shim=$(shim_of sk11 init)
	tr '\0' ' ' <"/proc/$shim/cmdline" | grep -q '/docker-containerd-shim ' || fail "shim not started by that name"
	stop_daemon -TERM
	db "UPDATE processes SET shim_start_time = 1 WHERE container_id = 'sk11' AND pid = 'init'"
	start_daemon
	wait_for file_has "$T/daemon.log" "container sk11 process init: its shim runs as pid $shim, not the one recorded: watching it"
	assert_eq "$(ctr_status sk11)" running "sk11"
	pid_alive "$pid" || fail "sk11's init was killed"
	kill -9 "$pid"
	wait_exit sk11 137
}
