#!/usr/bin/env bats
# What a person sees with `sqlite3 state.db`: the documented tables, columns
# and views, and that the tables agree with the events.

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

@test "sqlite3: SELECT id, bundle, status FROM containers" {
	start_container web "${SLEEP_ARGS[@]}"
	web_bundle=$BUNDLE
	start_container db1 "${SLEEP_ARGS[@]}"
	run -0 ctr containers kill --signal 9 db1
	wait_exit db1 137

	run -0 sqlite3 "$DB" "SELECT id, bundle, status FROM containers ORDER BY id"
	echo "$output"
	assert_eq "${lines[0]}" "db1|$T/bundles/db1|stopped" "db1 row"
	assert_eq "${lines[1]}" "web|$web_bundle|running" "web row"
	assert_eq "${#lines[@]}" 2 "rows"

	# The other documented columns are there and filled.
	run -0 db "SELECT runtime, created_at > 0, updated_at >= created_at FROM containers WHERE id = 'web'"
	assert_eq "$output" "runc|1|1" "runtime, created_at, updated_at"
}

@test "sqlite3: SELECT seq, ts, type, container_id, pid, status FROM events" {
	before=$(($(date +%s%N) - 1000000000))
	start_container ev1 "${SLEEP_ARGS[@]}"
	run -0 ctr containers kill --signal 9 ev1
	wait_exit ev1 137
	after=$(($(date +%s%N) + 1000000000))

	run -0 sqlite3 "$DB" "SELECT seq, ts, type, container_id, pid, status FROM events
		WHERE container_id = 'ev1' ORDER BY seq"
	echo "$output"
	assert_eq "${#lines[@]}" 2 "events for ev1"
	IFS='|' read -r seq1 ts1 type1 id1 pid1 st1 <<<"${lines[0]}"
	IFS='|' read -r seq2 ts2 type2 id2 pid2 st2 <<<"${lines[1]}"
	assert_eq "$type1" start-container "first event"
	assert_eq "$type2 $id2 $pid2 $st2" "exit ev1 init 137" "second event"
	[ "$seq2" -gt "$seq1" ] || fail "seq not increasing"
	# ts is nanoseconds since the epoch.
	[ "$ts1" -gt "$before" ] && [ "$ts2" -lt "$after" ] && [ "$ts2" -ge "$ts1" ] ||
		fail "ts not in ns around now: $ts1 $ts2 ($before..$after)"
}

@test "sqlite3: the running_containers view lists running ones with their init pid" {
	start_container run1 "${SLEEP_ARGS[@]}"
	start_container run2 "${SLEEP_ARGS[@]}"
	run -0 ctr containers kill --signal 9 run2
	wait_exit run2 137

	run -0 db "SELECT id, bundle, status, init_pid, created FROM running_containers"
	echo "$output"
	assert_eq "${#lines[@]}" 1 "running rows"
	IFS='|' read -r id bundle st ipid created <<<"${lines[0]}"
	assert_eq "$id|$bundle|$st" "run1|$T/bundles/run1|running" "running_containers row"
	assert_eq "$ipid" "$(init_pid run1)" "init_pid"
	assert_match "$created" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$'
	# The same moment as the table's nanoseconds, to the digit.
	ns=$(db "SELECT created_at FROM containers WHERE id = 'run1'")
	assert_eq "$created" "$(date -u -d "@${ns:0:-9}" +%Y-%m-%dT%H:%M:%S).${ns: -9}Z" "created"
}

@test "sqlite3: the event_history view shows readable times" {
	start_container hist "${SLEEP_ARGS[@]}"
	run -0 db "SELECT seq, time, type, container_id, pid, status FROM event_history
		WHERE container_id = 'hist'"
	echo "$output"
	IFS='|' read -r seq time type id pid st <<<"${lines[0]}"
	assert_eq "$type $id" "start-container hist" "event_history row"
	# The one time format of every program here, to the nanosecond.
	assert_match "$time" "^$(date -u +%Y-%m-%d)T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$"
	ns=$(db "SELECT ts FROM events WHERE seq = $seq")
	assert_eq "$time" "$(date -u -d "@${ns:0:-9}" +%Y-%m-%dT%H:%M:%S).${ns: -9}Z" "time"
}

@test "sqlite3: process_exits view and the processes columns after an exit" {
	start_container pe "${SLEEP_ARGS[@]}"
	run -0 ctr containers kill --signal 9 pe
	wait_exit pe 137
	run -0 db "SELECT container_id, pid, exit_status FROM process_exits WHERE container_id = 'pe'"
	assert_eq "$output" "pe|init|137" "process_exits"
	run -0 db "SELECT exited FROM process_exits WHERE container_id = 'pe'"
	assert_match "$output" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$'
	run -0 db "SELECT status, exited_at >= started_at, started_at > 0 FROM processes WHERE container_id = 'pe'"
	assert_eq "$output" "exited|1|1" "processes status/times"
}

@test "sqlite3: the database is ours, migrated, in WAL mode, mode 0600" {
	run -0 db "PRAGMA user_version"
	[ "$output" -ge 1 ] || fail "user_version $output"
	run -0 db "PRAGMA application_id"
	[ "$output" -ne 0 ] || fail "application_id not set"
	run -0 db "PRAGMA journal_mode"
	assert_eq "$output" wal "journal_mode"
	run -0 db "PRAGMA integrity_check"
	assert_eq "$output" ok "integrity_check"
	assert_eq "$(stat -c %a "$DB")" 600 "state.db mode"
	assert_eq "$(stat -c %a "$STATE")" 711 "state dir mode"
	assert_eq "$(stat -c %a "$SOCK")" 660 "socket mode"
	for t in containers labels processes checkpoints events; do
		run -0 db "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '$t'"
		assert_eq "$output" 1 "table $t"
	done
}

@test "sqlite3: every exit event agrees with the tables (same transaction)" {
	for k in 1 2 3; do
		start_container "tx$k" "${SLEEP_ARGS[@]}"
	done
	for k in 1 2 3; do
		run -0 ctr containers kill --signal 9 "tx$k"
	done
	for k in 1 2 3; do
		wait_exit "tx$k" 137
	done
	# A stopped container has its exit event with the same status, and the other way round.
	run -0 db "SELECT count(*) FROM containers c JOIN processes p ON p.container_id = c.id AND p.pid = 'init'
		WHERE c.status = 'stopped' AND NOT EXISTS (SELECT 1 FROM events e WHERE e.type = 'exit'
		AND e.container_id = c.id AND e.pid = 'init' AND e.status = p.exit_status)"
	assert_eq "$output" 0 "stopped containers without a matching exit event"
	run -0 db "SELECT count(*) FROM events e WHERE e.type = 'exit' AND e.pid = 'init' AND NOT EXISTS
		(SELECT 1 FROM containers c WHERE c.id = e.container_id AND c.status = 'stopped')"
	assert_eq "$output" 0 "exit events of containers not stopped"
	run -0 db "SELECT count(*) FROM containers c WHERE c.status = 'running' AND NOT EXISTS
		(SELECT 1 FROM events e WHERE e.type = 'start-container' AND e.container_id = c.id)"
	assert_eq "$output" 0 "running containers without a start-container event"
}

@test "sqlite3: the database can be read while the daemon is down" {
	start_container down1 "${SLEEP_ARGS[@]}"
	stop_daemon -KILL
	run -0 sqlite3 -readonly "$DB" "SELECT id, status FROM running_containers"
	assert_eq "$output" "down1|running" "running_containers with the daemon down"
}
