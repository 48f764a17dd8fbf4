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
	id=$(unique_id reuse)
	start_container "$id" "${SLEEP_ARGS[@]}"
	pid=$(init_pid "$id")
	shim=$(db "SELECT shim_pid FROM processes WHERE container_id = '$id' AND pid = 'init'")
	recorded=$(db "SELECT start_time FROM processes WHERE container_id = '$id' AND pid = 'init'" 2>/dev/null || echo none)
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
	wait_exit "$id" 255
	wait_for container_not_listed "$id"
	note=$(db "SELECT note FROM events WHERE type = 'exit' AND container_id = '$id'")
	echo "# figure: recorded exit: 255, note: $note" >&3
	assert_contains "$note" "reused"
	run ctr containers kill --signal 9 "$id"
	[ "$status" -ne 0 ] || fail "Signal to a stopped container was accepted"
	pid_alive "$STRANGER" || fail "the stranger (pid $STRANGER) was killed"
	echo "# figure: stranger $STRANGER alive after Signal: yes" >&3
}

# count_lines FILE ERE: how many lines of FILE match.
count_lines() {
	local n
	n=$(grep -c -- "$2" "$1" 2>/dev/null) || true
	echo "${n:-0}"
}

# acked_at_least FILE N: FILE has N "ack" lines or more.
acked_at_least() {
	[ "$(count_lines "$1" '^ack')" -ge "$2" ]
}

# slow_exec_runtime: a runtime that is runc, its exec a second late (so
# that execs are still being started when the init's exit and the
# runtime delete are done: the window of the race, made wide).
slow_exec_runtime() {
	cat >"$T/slow-exec" <<-EOS
	#!/bin/sh
	for a; do [ "\$a" = exec ] && { sleep 1; break; }; done
	exec $(command -v "$RUNC") "\$@"
	EOS
	chmod +x "$T/slow-exec"
}

@test "AddProcess racing the init's exit: every call answered, no 'creating' row left" {
	requires grpcio
	slow_exec_runtime
	start_daemon --runtime "$T/slow-exec"
	id=$(unique_id racy)
	start_container "$id" "${SLEEP_ARGS[@]}"
	pid=$(init_pid "$id")
	out=$T/burst.out
	timeout -k 5 60 "$PY" "$REPO/tests/grpc/exec_burst.py" --address "$SOCK" --timeout 15 \
		exec --containers "$id" --count 60 --threads 10 -- true >"$out" 2>"$T/burst.err" &
	burst=$!
	BG_PIDS+=("$burst")
	wait_for acked_at_least "$out" 1
	kill -9 "$pid"
	wait "$burst" || fail "the burst failed: $(cat "$T/burst.err")"
	wait_exit "$id" 137
	wait_for container_not_listed "$id"
	acked=$(count_lines "$out" '^ack')
	errs=$(count_lines "$out" '^err')
	lost=$(count_lines "$out" 'DEADLINE_EXCEEDED')
	creating=$(db "SELECT count(*) FROM processes WHERE status = 'creating'")
	running=$(db "SELECT count(*) FROM processes WHERE container_id = '$id' AND status = 'running'")
	echo "# figure: 60 AddProcess: $acked ok, $((errs - lost)) refused, $lost unanswered; 'creating' rows left: $creating, 'running' rows: $running" >&3
	grep '^err' "$out" | cut -d' ' -f5- | sort | uniq -c | head -5 | sed 's/^/# /' >&3
	assert_eq "$((acked + errs))" 60 "calls that finished"
	assert_eq "$lost" 0 "calls never answered"
	assert_eq "$creating" 0 "'creating' rows"
	assert_eq "$running" 0 "'running' rows of a stopped container"
	# Each acknowledged exec's exit is in the history (it died with the container).
	for p in $(awk '$1 == "ack" { print $4 }' "$out"); do
		has_event exit "$id" "$p" 0 || has_event exit "$id" "$p" 137 ||
			fail "acknowledged exec $p has no exit event"
	done
}

@test "20 concurrent pause/resume calls: State and runc agree at the end, the history replays" {
	requires grpcio
	[ -x "$STATE_BIN" ] || skip "$STATE_BIN not built"
	start_daemon
	id=$(unique_id pz)
	start_container "$id" "${SLEEP_ARGS[@]}"
	for round in 1 2 3; do
		out=$T/pause$round.out
		timeout -k 5 90 "$PY" "$REPO/tests/grpc/exec_burst.py" --address "$SOCK" --timeout 60 \
			pause --container "$id" --count 20 --threads 10 >"$out" 2>"$T/burst.err" ||
			fail "the burst failed: $(cat "$T/burst.err")"
		ours=$(ctr_state_status "$id")
		theirs=$(runc_status "$id")
		echo "# figure: round $round: $(count_lines "$out" '^ack') ok, $(count_lines "$out" '^err') refused; State says $ours, runc says $theirs" >&3
		assert_eq "$ours" "$theirs" "State vs runc after round $round"
		assert_eq "$(db "SELECT status FROM containers WHERE id = '$id'")" "$theirs" "the row"
		run -0 "$STATE_BIN" --state-dir "$STATE" replay
	done
}

# pause_then_crash_runtime: runc, but right after a `pause` it SIGKILLs the
# daemon whose pid is in $T/daemon.pid (once, while $T/armed exists): the
# crash between the runtime's pause and the daemon's commit.
pause_then_crash_runtime() {
	cat >"$T/pause-crash" <<-EOS
	#!/bin/sh
	$(command -v "$RUNC") "\$@"
	rc=\$?
	for a; do
		if [ "\$a" = pause ] && rm "$T/armed" 2>/dev/null; then
			kill -9 "\$(cat "$T/daemon.pid")"
		fi
	done
	exit \$rc
	EOS
	chmod +x "$T/pause-crash"
}

@test "daemon SIGKILLed right after runc pause: after the restart the container is paused, as runc says" {
	[ -x "$STATE_BIN" ] || skip "$STATE_BIN not built"
	pause_then_crash_runtime
	start_daemon --runtime "$T/pause-crash"
	echo "$DAEMON_PID" >"$T/daemon.pid"
	id=$(unique_id pk)
	start_container "$id" "${SLEEP_ARGS[@]}"
	touch "$T/armed"
	run ctr containers pause "$id"
	wait_for pid_gone "$DAEMON_PID"
	stop_daemon -KILL
	before=$(db "SELECT status FROM containers WHERE id = '$id'")
	assert_eq "$(runc_status "$id")" paused "runc, the daemon dead"

	start_daemon --runtime "$T/pause-crash"
	wait_for eval "[ \"\$(ctr_state_status '$id')\" = paused ]" || true
	ours=$(ctr_state_status "$id")
	theirs=$(runc_status "$id")
	echo "# figure: after the crash the table said $before; after the restart State says $ours, runc says $theirs" >&3
	assert_eq "$ours" paused "State after the restart"
	assert_eq "$theirs" paused "runc after the restart"
	assert_eq "$(db "SELECT status FROM containers WHERE id = '$id'")" paused "the row"
	run -0 "$STATE_BIN" --state-dir "$STATE" replay
	run -0 ctr containers resume "$id"
	assert_eq "$(runc_status "$id")" running "runc after resume"
	assert_eq "$(ctr_state_status "$id")" running "State after resume"
}

@test "retention bounds a live container: --retain-count 50, 150 finished execs: events, rows and exec dirs bounded; replay and check pass" {
	requires grpcio
	[ -x "$STATE_BIN" ] || skip "$STATE_BIN not built"
	start_daemon --retain-count 50
	id=$(unique_id live)
	start_container "$id" "${SLEEP_ARGS[@]}"
	# A subscriber that never reads (stopped), for the whole run.
	ctr events >/dev/null 2>&1 &
	sub=$!
	BG_PIDS+=("$sub")
	kill -STOP "$sub"
	out=$T/burst.out
	timeout -k 5 120 "$PY" "$REPO/tests/grpc/exec_burst.py" --address "$SOCK" --timeout 60 \
		exec --containers "$id" --count 150 --threads 6 -- true >"$out" 2>"$T/burst.err" ||
		fail "the burst failed: $(cat "$T/burst.err")"
	assert_eq "$(count_lines "$out" '^ack')" 150 "execs started"
	wait_for eval "[ \$(db \"SELECT count(*) FROM processes WHERE container_id = '$id' AND status != 'exited'\") = 1 ]"
	bounded() {
		[ "$(db 'SELECT count(*) FROM events')" -le 50 ] &&
			[ "$(find "$STATE" -name process.json | wc -l)" -le 0 ]
	}
	wait_for bounded || true
	events=$(db 'SELECT count(*) FROM events')
	rows=$(db "SELECT count(*) FROM processes WHERE container_id = '$id'")
	dirs=$(find "$STATE" -name process.json | wc -l)
	exits=$(db "SELECT count(*) FROM events WHERE type = 'exit'")
	echo "# figure: 150 finished execs, --retain-count 50: $events events, $rows process rows, $dirs exec dirs left ($exits exit events kept)" >&3
	[ "$events" -le 50 ] || fail "$events events, over the bound of 50"
	[ "$rows" -le 26 ] || fail "$rows process rows"
	assert_eq "$dirs" 0 "exec directories left"
	run -0 "$STATE_BIN" --state-dir "$STATE" replay
	run -0 "$STATE_BIN" --state-dir "$STATE" check
	container_running "$id"
	kill -CONT "$sub"
}

@test "State lists every pid of the container (its cgroup, as runc ps), not only its processes': what docker top shows" {
	start_daemon
	start_container all sh -c 'sleep 1001 & sleep 1002 & wait'
	local init
	init=$(init_pid all)
	# The two sleeps are children of the init, in its cgroup.
	both() { [ "$(pgrep -P "$init" | wc -l)" -ge 2 ]; }
	wait_for both
	run -0 grpc_call State '{"id": "all"}'
	pids=$(jq -r '.containers[0].pids | sort | join(" ")' <<<"$output")
	want=$(printf '%s\n' "$init" $(pgrep -P "$init") | sort -n | xargs echo)
	want_json=$(printf '%s\n' $want | jq -s -r 'sort | join(" ")')
	assert_eq "$pids" "$want_json" "State pids"
	# runc ps says the same.
	runc_ps=$("$RUNC" --root "$RUNC_ROOT" ps --format json all | jq -r 'sort | join(" ")')
	assert_eq "$pids" "$runc_ps" "runc ps"
	# An exec is in the cgroup too.
	ctr containers exec --id all --pid e1 sleep 1003 &
	BG_PIDS+=($!)
	three() { [ "$(grpc_call State '{"id": "all"}' | jq '.containers[0].pids | length')" -ge 4 ]; }
	wait_for three
	echo "# State pids: $pids (init $init, then its children), 4 with an exec" >&3
}
