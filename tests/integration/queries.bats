#!/usr/bin/env bats
# The README's ten sqlite3 queries, each run against a database made by a
# real run, with the rows they must return.

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

README=$BATS_TEST_DIRNAME/../../README.md

# query N: the SQL of "-- qN:" in the README.
query() {
	awk -v tag="-- q$1:" 'index($0, tag) == 1 { getline; print; exit }' "$README"
}

q() {
	local sql
	sql=$(query "$1")
	[ -n "$sql" ] || fail "README has no query q$1"
	sqlite3 -readonly "$T/state/state.db" "$sql"
}

@test "README queries: each of the ten returns the expected rows" {
	start_container db1 "${SLEEP_ARGS[@]}"
	run -0 sqlite3 "$T/state/state.db" "SELECT 1" # the file exists
	run -0 ctr containers kill --signal 9 db1
	wait_exit db1 137
	# db1 again under the same id, with a label this time.
	make_bundle db1b "${SLEEP_ARGS[@]}"
	run -0 ctr containers start --label tier=db db1 "$BUNDLE"
	wait_for container_running db1
	make_bundle quitter sh -c 'exit 3'
	run -0 ctr containers start quitter "$BUNDLE"
	wait_exit quitter 3
	start_container web "${SLEEP_ARGS[@]}"
	run -0 ctr containers exec --id web --pid tail1 sleep 1000
	run -0 ctr containers exec --id web --pid quick sh -c 'exit 5'
	wait_for has_event exit web quick 5

	run -0 q 1
	[ "$output" = "$(printf 'db1|running|%s\nweb|running|%s' "$(init_pid db1)" "$(init_pid web)")" ]
	run -0 q 2
	[ "$output" = "$(printf 'quitter|init|3\nweb|quick|5')" ]
	run -0 q 3
	# db1: start, exit, start (the first run's events outlive its rows); web: start, start-process x2, exit.
	[ "$output" = "$(printf 'web|4\ndb1|3\nquitter|2')" ]
	run -0 q 4
	[ "$output" = "db1|2" ]
	run -0 q 5
	[ "$(echo "$output" | wc -l)" = 5 ]
	assert_match "$(echo "$output" | head -1)" '^[0-9]+\|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z\|exit\|web\|quick\|5$'
	run -0 q 6
	[ "$output" = "" ] # db1's 137 went with its replaced rows; the history keeps it:
	run -0 sqlite3 "$T/state/state.db" "SELECT status FROM events WHERE container_id='db1' AND type='exit'"
	[ "$output" = 137 ]
	run -0 q 7
	[ "$output" = "" ]
	run -0 q 8
	[ "$output" = "db1|running" ]
	run -0 q 9
	[ "$output" = "web|tail1|1" ]
	run -0 q 10
	assert_match "$output" '^quitter\|[0-9.]+$'
}

# The same queries over a long history (1,000,000 events: BENCHMARKS.md,
# "The event history at scale") must not read the events or processes
# table row by row: each plan reads an index, or a covering index. q5 is
# the exception in form only: it reads the table from its end and stops
# after 5 rows.
@test "README queries: their plans use the indexes, not a scan of events or processes" {
	local n sql plan bad=0
	for n in 1 2 3 4 5 6 7 8 9 10; do
		sql=$(query "$n")
		[ -n "$sql" ] || fail "README has no query q$n"
		plan=$(sqlite3 -readonly "$T/state/state.db" "EXPLAIN QUERY PLAN $sql" | tr '\n' ' ')
		echo "# q$n: $plan" >&3
		[ "$n" = 5 ] && continue
		if grep -qE 'SCAN (events|processes)( USING INDEX [a-z_0-9]+)? *($|[|`])' <<<"$plan "; then
			echo "q$n scans a history table: $plan" >&2
			bad=1
		fi
	done
	[ "$bad" = 0 ]
}
