#!/usr/bin/env bats
# Retention: --retain-count and --retain-age bound the history by removing
# the oldest stopped containers together with their whole history.

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

run_and_kill() {
	local id=$1
	start_container "$id" "${SLEEP_ARGS[@]}"
	run -0 ctr containers kill --signal 9 "$id"
	# Not its exit row: with a small --retain-count, retention may take the
	# whole history before a poll sees it.
	wait_for container_not_listed "$id"
}

events_count() { sqlite3 "$T/state/state.db" "SELECT count(*) FROM events WHERE container_id != ''"; }

@test "retention: --retain-count bounds the events table; live containers keep their history" {
	start_daemon --retain-count 6
	start_container keeper "${SLEEP_ARGS[@]}"
	for n in 1 2 3 4 5 6; do run_and_kill "old$n"; done
	wait_for eval '[ "$(events_count)" -le 6 ]'
	# The running container's history is never pruned.
	run -0 sqlite3 "$T/state/state.db" "SELECT count(*) FROM events WHERE container_id = 'keeper'"
	[ "$output" -ge 1 ]
	# The newest stopped container is still there, whole: start and exit.
	run -0 sqlite3 "$T/state/state.db" "SELECT group_concat(type) FROM events WHERE container_id = 'old6'"
	assert_eq "$output" "start-container,exit" "old6 history"
	# A pruned one is gone whole: no rows, no events.
	run -0 sqlite3 "$T/state/state.db" "SELECT (SELECT count(*) FROM containers WHERE id = 'old1') + (SELECT count(*) FROM events WHERE container_id = 'old1')"
	[ "$output" = 0 ]
	run -0 ctr containers
	assert_contains "$output" keeper
}

@test "retention: --retain-age drops stopped containers' history older than the age" {
	start_daemon --retain-age 1s
	run_and_kill aged
	start_container fresh "${SLEEP_ARGS[@]}"
	wait_for eval '[ "$(sqlite3 "$T/state/state.db" "SELECT count(*) FROM events WHERE container_id = '"'aged'"'")" = 0 ]'
	run -0 sqlite3 "$T/state/state.db" "SELECT count(*) FROM events WHERE container_id = 'fresh'"
	[ "$output" = 1 ]
}

@test "retention: --retain-count 0 keeps everything" {
	start_daemon --retain-count 0
	for n in 1 2 3; do run_and_kill "k$n"; done
	sleep 1.5 # one retention tick: nothing may go
	[ "$(events_count)" = 6 ]
}

@test "retention: a live container paused and resumed past --retain-count has its old pairs folded; replay still agrees" {
	start_daemon --retain-count 10
	start_container flipper "${SLEEP_ARGS[@]}"
	for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
		run -0 ctr containers pause flipper
		run -0 ctr containers resume flipper
	done
	run -0 ctr containers pause flipper
	# 1 start + 25 pause/resume events, bounded to 10 by folding pairs.
	wait_for eval '[ "$(events_count)" -le 10 ]'
	run -0 sqlite3 "$T/state/state.db" "SELECT group_concat(type) FROM (SELECT type FROM events WHERE container_id = 'flipper' ORDER BY seq)"
	# The start stays first, the last pause stays last; what went were pairs.
	assert_contains "$output" "start-container,pause,resume"
	[ "${output##*,}" = pause ] || fail "the last event is not the last pause: $output"
	run -0 sqlite3 "$T/state/state.db" "SELECT (SELECT count(*) FROM events WHERE type = 'pause' AND container_id = 'flipper') - (SELECT count(*) FROM events WHERE type = 'resume' AND container_id = 'flipper')"
	assert_eq "$output" 1 "pauses minus resumes"
	run containerd-state --state-dir "$T/state" replay
	[ "$status" -eq 0 ] || fail "replay found differences: $output"
	run -0 ctr containers
	assert_contains "$output" paused
}
