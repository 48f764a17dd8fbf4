#!/usr/bin/env bats
# Durability of the store (issue 10): a commit that cannot be made (the
# write lock held by another process, a full disk) loses nothing and does
# not stop the loop; event timestamps are exact resume points; a timestamp
# subscription seeks by index; a state.db deleted under the daemon is
# noticed and no change is acknowledged into it.

load helpers

LOAD_PY=$REPO/tests/grpc/store_load.py

setup_file() {
	setup_base_bundle
}

setup() {
	requires_e2e
	requires grpcio
	setup_common
	MNT=
}

teardown() {
	[ -z "${T:-}" ] || touch "$T/release" 2>/dev/null || true
	if [ -n "${MNT:-}" ] && mountpoint -q "$MNT"; then
		stop_daemon -9 || true
		local id p
		for id in $(runc_list); do
			"$RUNC" --root "$RUNC_ROOT" delete -f "$id" >/dev/null 2>&1 || true
		done
		for p in $(pgrep -f "containerd-shim.*$T" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
		sleep 0.2
		umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
	fi
	teardown_common
}

# subscribe FILE: an Events stream from now on into FILE (one JSON line
# per event), in the background.
subscribe() {
	timeout 120 "$PY" "$GRPC_CALL" --address "$SOCK" --timeout 110 Events \
		"{\"timestamp\": \"$(now_rfc3339)\"}" >"$1" 2>&1 3>&- &
	BG_PIDS+=($!)
}

# got_event FILE TYPE ID STATUS: the subscriber in FILE received it.
got_event() {
	jq -c --arg t "$2" --arg id "$3" --argjson st "$4" \
		'select(.type == $t and .id == $id and .status == $st)' "$1" 2>/dev/null | grep -q .
}

@test "item 3: write lock held by another process: reads answer at once, an exit is recorded with its real status and delivered once released, no restart" {
	start_daemon
	start_container lk1 "${SLEEP_ARGS[@]}"
	start_container lk2 "${SLEEP_ARGS[@]}"
	subscribe "$T/events.out"
	hold_lock
	pid=$(init_pid lk1)
	kill -9 "$pid"
	# The exit is noticed (State answers from memory) but cannot be written:
	# lk1 stays listed, stopped, until it is (its id is not free before).
	wait_for listed_stopped lk1
	# No exec starts whose row cannot be written.
	run ctr containers exec --id lk2 --pid x1 -- sleep 100
	echo "exec while locked: $output"
	[ "$status" -ne 0 ]
	assert_match "$output" 'locked by another process'
	process_not_listed lk2 x1 || fail "the refused exec is listed"
	# A change whose effect happens at once (a pause) waits for its commit,
	# then is told it is made and will be recorded.
	grpc_call UpdateContainer '{"id": "lk2", "status": "paused"}' >"$T/pause.out" 2>&1 3>&- &
	BG_PIDS+=($!)
	# A create cannot start a container whose rows are not on disk.
	make_bundle lk3 "${SLEEP_ARGS[@]}"
	run grpc_call CreateContainer "{\"id\": \"lk3\", \"bundlePath\": \"$BUNDLE\"}"
	echo "create while locked: $output"
	[ "$status" -ne 0 ]
	assert_match "$output" 'UNAVAILABLE.*locked by another process'
	run -0 "$PY" "$LOAD_PY" --address "$SOCK" probe --stop-file "$T/none" --seconds 6
	echo "$output"
	worst=$(awk '{ print $2 }' <<<"$output")
	echo "# figure: worst GetServerVersion/State latency with the lock held ${worst} ms" >&3
	[ "$worst" -lt 1000 ] || fail "reads waited ${worst} ms behind another process's lock"
	# ctr containers (State, then ListContainers for CREATED) too.
	t0=$(date +%s%N)
	run -0 ctr containers
	list_ms=$(ms_since "$t0")
	echo "# figure: ctr containers with the lock held: $list_ms ms" >&3
	assert_contains "$output" lk2
	[ "$list_ms" -lt 2000 ] || fail "ctr containers waited ${list_ms} ms behind another process's lock"
	assert_eq "$(event_count exit lk1 init)" 0 "the exit cannot be in the table yet"
	wait_for file_has "$T/pause.out" UNAVAILABLE
	cat "$T/pause.out"
	assert_match "$(cat "$T/pause.out")" 'made but not yet recorded'
	! got_event "$T/events.out" exit lk1 137 || fail "an exit was delivered before it was on disk"

	touch "$T/release"
	wait_exit lk1 137
	wait_for got_event "$T/events.out" exit lk1 137
	wait_for container_not_listed lk1
	wait_for has_event_of pause lk2
	assert_eq "$(db "SELECT count(*) FROM events WHERE status = 255")" 0 "no exit recorded as 255"
	assert_eq "$(db "SELECT count(*) FROM containers WHERE id = 'lk3'")" 0 "the refused create left no row"
	[ -z "$(runc_list | grep -x lk3)" ] || fail "the refused create left a container"
	assert_eq "$(ctr_status lk2)" paused "lk2"
	grep -q "kept in memory are recorded" "$T/daemon.log" || fail "no recovery logged"
	pid_alive "$DAEMON_PID" || fail "the daemon died"
}

@test "item 3: disk full: an exit is kept, then recorded with its real status and delivered once space is freed, no restart" {
	requires_tool mountpoint util-linux
	MNT=$T/state
	mkdir -p "$MNT"
	mount -t tmpfs -o size=4m,mode=0711 tmpfs "$MNT" || skip "cannot mount a tmpfs here"
	start_daemon
	start_container full1 "${SLEEP_ARGS[@]}"
	subscribe "$T/events.out"
	# The WAL back to nothing, so the next commit must grow it; one page
	# kept for the shim's exit file.
	db 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
	head -c 4096 /dev/zero >"$MNT/reserve"
	dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null || true
	dd if=/dev/zero of="$MNT/filler2" bs=1k 2>/dev/null || true
	rm -f "$MNT/reserve"
	kill -9 "$(init_pid full1)"
	wait_for listed_stopped full1
	run -0 "$PY" "$LOAD_PY" --address "$SOCK" probe --stop-file "$T/none" --seconds 2
	echo "# figure: full disk: worst read latency $(awk '{ print $2 }' <<<"$output") ms; exit in the table before space is freed: $(event_count exit full1 init)" >&3
	assert_eq "$(event_count exit full1 init)" 0 "the exit cannot be in the table yet"
	rm -f "$MNT/filler" "$MNT/filler2"
	wait_exit full1 137
	wait_for got_event "$T/events.out" exit full1 137
	wait_for container_not_listed full1
	assert_eq "$(db "SELECT count(*) FROM events WHERE status = 255")" 0 "no exit recorded as 255"
	grep -q "kept in memory are recorded" "$T/daemon.log" || fail "no recovery logged"
	pid_alive "$DAEMON_PID" || fail "the daemon died"
}

# has_exit_event ID: ID's init exit is in the table, whatever its status.
has_exit_event() {
	[ "$(event_count exit "$1" init)" -gt 0 ]
}

@test "item 3: disk full for the shim too (no room for its exit file): the status it reported on its pipe is recorded, not 255" {
	requires_tool mountpoint util-linux
	MNT=$T/state
	mkdir -p "$MNT"
	mount -t tmpfs -o size=4m,mode=0711 tmpfs "$MNT" || skip "cannot mount a tmpfs here"
	start_daemon
	start_container full2 "${SLEEP_ARGS[@]}"
	db 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
	dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null || true
	dd if=/dev/zero of="$MNT/filler2" bs=1k 2>/dev/null || true
	dd if=/dev/zero of="$MNT/filler3" bs=1 2>/dev/null || true
	kill -9 "$(init_pid full2)"
	wait_for listed_stopped full2
	shim_log=$(cat "$CDIR/full2/init/shim.log" 2>/dev/null | tail -n1)
	echo "# figure: exit file written by the shim: $([ -e "$CDIR/full2/init/exit" ] && echo yes || echo no); shim.log: ${shim_log:-(empty)}" >&3
	rm -f "$MNT/filler" "$MNT/filler2" "$MNT/filler3"
	wait_for has_exit_event full2
	wait_for container_not_listed full2
	status_now=$(db "SELECT status FROM events WHERE type = 'exit' AND container_id = 'full2'")
	echo "# figure: exit recorded with status $status_now (want 137)" >&3
	assert_eq "$status_now" 137 "the exit status"
}

@test "item 5: event timestamps strictly increase; resuming from each received event's timestamp continues exactly" {
	start_daemon
	make_bundle quick sh -c 'exit 3'
	quick=$BUNDLE
	make_bundle sleeper "${SLEEP_ARGS[@]}"
	sleeper=$BUNDLE
	# Bursts: creates whose init exits at once, a container with execs, and
	# many containers killed in the same instant.
	for k in 1 2 3 4 5 6; do
		ctr containers start "q$k" "$quick" >/dev/null 2>&1 &
		ctr containers start "s$k" "$sleeper" >/dev/null 2>&1 &
	done
	wait_for container_running s6
	for k in 1 2 3 4 5; do wait_for container_running "s$k"; done
	for k in 1 2 3 4; do
		ctr containers exec --id s1 --pid "e$k" -- sh -c "exit $k" >/dev/null 2>&1 &
	done
	sleep 0.5
	pids=$(for k in 1 2 3 4 5 6; do init_pid "s$k"; done)
	kill -9 $pids
	for k in 1 2 3 4 5 6; do wait_exit "s$k" 137; done
	for k in 1 2 3 4 5 6; do wait_exit "q$k" 3; done
	run "$PY" "$LOAD_PY" --address "$SOCK" resume
	echo "$output"
	echo "# figure: $(tail -n1 <<<"$output")" >&3
	[ "$status" -eq 0 ]
	assert_match "$(tail -n1 <<<"$output")" '^[0-9]+ resume points checked, 0 wrong$'
	run -0 db "SELECT count(*) FROM events a JOIN events b ON b.seq > a.seq AND b.ts <= a.ts"
	assert_eq "$output" 0 "events whose ts is not above an earlier event's"
	# The exit's own time is kept beside it, and the process row has it.
	run -0 db "SELECT count(*) FROM events e JOIN processes p ON p.container_id = e.container_id AND p.pid = e.pid WHERE e.type = 'exit' AND e.occurred_at != p.exited_at"
	assert_eq "$output" 0 "exits whose occurred_at is not the process's exited_at"
}

@test "item 13: 1000 timestamp subscriptions on 100000 events, 200 replaying all of it: State and GetServerVersion stay fast" {
	start_daemon
	stop_daemon -TERM
	# 100000 events written directly while the daemon is down.
	sqlite3 "$DB" "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 100000)
		INSERT INTO events (seq, ts, type, container_id, pid, status)
		SELECT (SELECT coalesce(max(seq), 0) FROM events) + k, 1000000000000000000 + k * 1000,
		       'exit', 'old' || (k % 500), 'init', 0 FROM n"
	start_daemon
	ts=$(db "SELECT ts FROM events ORDER BY seq DESC LIMIT 1 OFFSET 20")
	"$PY" "$LOAD_PY" --address "$SOCK" probe --stop-file "$T/subs.done" --seconds 120 \
		>"$T/probe.out" 2>&1 3>&- &
	probe=$!
	BG_PIDS+=($probe)
	run "$PY" "$LOAD_PY" --address "$SOCK" subs --count 1000 --ts "$ts"
	touch "$T/subs.done"
	wait "$probe"
	echo "$output"
	cat "$T/probe.out"
	[ "$status" -eq 0 ]
	worst=$(awk '{ print $2 }' "$T/probe.out")
	echo "# figure: 1000 timestamp subscriptions on 100000 events ($output): $(cat "$T/probe.out")" >&3
	[ "$worst" -lt 1000 ] || fail "reads waited ${worst} ms behind the subscriptions"
	# 200 replaying the whole history: served in turns, a budget of events
	# per loop iteration, so nobody else waits for them.
	rm -f "$T/subs.done"
	"$PY" "$LOAD_PY" --address "$SOCK" probe --stop-file "$T/subs.done" --seconds 120 \
		>"$T/probe.out" 2>&1 3>&- &
	probe=$!
	BG_PIDS+=($probe)
	run "$PY" "$LOAD_PY" --address "$SOCK" subs --count 200 --ts 1
	touch "$T/subs.done"
	wait "$probe"
	echo "$output"
	[ "$status" -eq 0 ]
	worst=$(awk '{ print $2 }' "$T/probe.out")
	echo "# figure: 200 subscriptions replaying 100000 events ($output): $(cat "$T/probe.out")" >&3
	[ "$worst" -lt 500 ] || fail "reads waited ${worst} ms behind the replays"
	pid_alive "$DAEMON_PID" || fail "the daemon died"
}

@test "item 18: state.db deleted under the running daemon: creates are refused saying so; nothing runs unlisted" {
	start_daemon
	start_container keep1 "${SLEEP_ARGS[@]}"
	rm -f "$DB"
	make_bundle gone1 "${SLEEP_ARGS[@]}"
	run grpc_call CreateContainer "{\"id\": \"gone1\", \"bundlePath\": \"$BUNDLE\"}"
	echo "# figure: create after rm state.db: $output" >&3
	[ "$status" -ne 0 ]
	assert_match "$output" 'FAILED_PRECONDITION.*state.db was deleted while the daemon ran'
	run -0 ctr containers
	echo "$output"
	container_not_listed gone1 || fail "gone1 listed"
	[ -z "$(runc_list | grep -x gone1)" ] || fail "gone1 runs, unlisted"
	assert_eq "$(ctr_status keep1)" running "keep1"
	grep -q "was deleted while the daemon ran" "$T/daemon.log" || fail "not logged"
	pid_alive "$DAEMON_PID" || fail "the daemon died"
}
