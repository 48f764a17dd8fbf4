#!/usr/bin/env bats
# Stopped containers' records: `ctr containers --all`, `rm` and `prune`
# (the containerd.records.v1.Records service), against the real daemon,
# shim and runc; containerd-state check/replay must agree with the tables.

load helpers

STATE_BIN=$REPO/bin/containerd-state

setup_file() {
	setup_base_bundle
}

setup() {
	requires_e2e
	setup_common
	start_daemon
}

teardown() {
	[ -z "${T:-}" ] || touch "$T/release" 2>/dev/null || true
	teardown_common
}

# stopped_container ID CODE [CTR START FLAGS...]: a container that ran
# `exit CODE`; returns once its exit is durable and it left State.
stopped_container() {
	local id=$1 code=$2
	shift 2
	make_bundle "$id" sh -c "exit $code"
	run -0 ctr containers start "$@" "$id" "$BUNDLE"
	wait_exit "$id" "$code"
	wait_for container_not_listed "$id"
}

# rows ID: "containers labels processes events" row counts of ID.
rows() {
	db "SELECT (SELECT count(*) FROM containers WHERE id = '$1') || ' ' ||
		(SELECT count(*) FROM labels WHERE container_id = '$1') || ' ' ||
		(SELECT count(*) FROM processes WHERE container_id = '$1') || ' ' ||
		(SELECT count(*) FROM events WHERE container_id = '$1')"
}

# state_tools_agree: containerd-state check and replay find nothing wrong.
state_tools_agree() {
	run "$STATE_BIN" --db "$DB" check
	[ "$status" -eq 0 ] || fail "containerd-state check: $output"
	run "$STATE_BIN" --db "$DB" replay
	[ "$status" -eq 0 ] || fail "containerd-state replay: $output"
}

@test "containers --all: a stopped container with its exit status and time; the live listing unchanged" {
	start_container live "${SLEEP_ARGS[@]}"
	t0=$(date +%s)
	stopped_container gone 3 --label app=web

	# Without --all: as before (no stopped row, no EXITED column).
	run -0 ctr containers
	assert_match "${lines[0]}" '^ID[[:space:]]+PATH[[:space:]]+STATUS[[:space:]]+PROCESSES[[:space:]]+CREATED$'
	assert_not_contains "$output" gone
	assert_eq "$(awk '$1 == "live" { print $3 }' <<<"$output")" running "live STATUS"

	run -0 ctr containers --all
	echo "$output"
	assert_match "${lines[0]}" '^ID[[:space:]]+PATH[[:space:]]+STATUS[[:space:]]+PROCESSES[[:space:]]+CREATED[[:space:]]+EXITED$'
	row=$(awk '$1 == "gone"' <<<"$output")
	assert_eq "$(awk '{ print $2, $3, $4 }' <<<"$row")" "$T/bundles/gone stopped(3) -" "gone's row"
	assert_match "$row" 'ago[[:space:]]+(less than a second|[0-9]+ seconds?) ago$'
	assert_eq "$(awk '$1 == "live" { print $3 }' <<<"$output")" running "live STATUS with --all"
	assert_eq "$(ctr containers -a -q | tr '\n' ' ')" "gone live " "-a -q, sorted by id"

	run -0 ctr containers -a --format json
	j=$(jq -c '.[] | select(.id == "gone") | [.status, .exitStatus, (.exited != null), (.created != null)]' <<<"$output")
	assert_eq "$j" '["stopped",3,true,true]' "gone in JSON"
	exited=$(jq -r '.[] | select(.id == "gone") | .exited' <<<"$output")
	secs=$(($(date -d "$exited" +%s) - t0))
	echo "# exited $secs s after the test began (${exited})" >&3
	[ "$secs" -ge 0 ] && [ "$secs" -le 60 ] || fail "exited at $exited, test began at $t0"

	# Filters: a stopped status filter implies --all; labels of stopped ones.
	assert_eq "$(ctr containers -q -f status=stopped | tr '\n' ' ')" "gone " "-f status=stopped"
	assert_eq "$(ctr containers -a -q -f label=app=web | tr '\n' ' ')" "gone " "-a -f label=app=web"
	assert_eq "$(ctr containers -q -f label=app=web | tr '\n' ' ')" "" "-f label without -a"

	# One stopped container in detail.
	run -0 ctr containers gone
	assert_contains "$output" "Status:    stopped"
	assert_contains "$output" "Exit:      3"
}

@test "containers rm: rows, events and logs go; check/replay agree; a restarted daemon does not list it; the id is reusable" {
	stopped_container old 0 --label k=v
	assert_match "$(rows old)" '^1 1 1 [1-9][0-9]* ?$'
	# The logs the shim would have written (the logs helper's files).
	mkdir -p "$STATE/_logs/old"
	echo out >"$STATE/_logs/old/init.log"
	echo out >"$STATE/_logs/old/init.log.1"

	run -0 ctr containers rm old
	assert_eq "$output" old "rm prints the id"
	assert_eq "$(rows old)" "0 0 0 0" "rows of old after rm"
	[ ! -e "$STATE/_logs/old" ] || fail "_logs/old is still there"
	state_tools_agree
	echo "# rm: 0 rows and 0 events left; check and replay agree" >&3

	stop_daemon
	start_daemon
	assert_eq "$(ctr containers -a -q)" "" "listing after a restart"
	run -1 ctr containers rm old
	assert_contains "$output" "not found"

	# The id again: a new container, listed, running.
	start_container old "${SLEEP_ARGS[@]}"
	assert_eq "$(ctr containers -a | awk '$1 == "old" { print $3 }')" running "new old"
	state_tools_agree
}

@test "containers rm while another process holds the database's write lock: the logs stay until the removal is on disk; SIGKILL in that window keeps rows and logs together" {
	stopped_container held 0
	mkdir -p "$STATE/_logs/held"
	echo out >"$STATE/_logs/held/init.log"
	hold_lock
	ctr containers rm held >"$T/rm.out" 2>&1 3>&- &
	BG_PIDS+=($!)
	# The daemon has forgotten it in memory (its log says so); the commit
	# waits for the lock.
	wait_for grep -q 'container held: its records were removed' "$T/daemon.log"
	for k in 1 2 3 4 5 6 7 8 9 10; do
		[ -f "$STATE/_logs/held/init.log" ] || fail "the logs went while the removal was only in memory"
		sleep 0.1
	done
	stop_daemon -9
	touch "$T/release"
	start_daemon
	assert_match "$(rows held)" '^1 0 1 [1-9][0-9]* ?$'
	assert_eq "$(cat "$STATE/_logs/held/init.log")" out "the logs after the restart"
	echo "# rm cut off by SIGKILL before its commit: rows $(rows held), logs kept" >&3
	run -0 ctr containers rm held
	[ ! -e "$STATE/_logs/held" ] || fail "_logs/held is still there after a durable rm"
}

@test "containers rm: refuses a live container (and leaves it), an unknown id, a bad id; the others still go" {
	start_container live "${SLEEP_ARGS[@]}"
	stopped_container dead 1
	rows_live=$(rows live)

	run -1 ctr containers rm live nosuch dead 'bad/id'
	echo "$output"
	assert_contains "$output" "ctr: live: container live is running"
	assert_contains "$output" "ctr: nosuch: containerd: container not found"
	assert_contains "$output" "ctr: bad/id: container id"
	grep -qx dead <<<"$output" || fail "dead was not printed as removed"
	assert_eq "$(rows live)" "$rows_live" "live's rows"
	assert_eq "$(rows dead)" "0 0 0 0" "dead's rows"
	container_running live
	assert_eq "$(runc_status live)" running "runc: live"
}

@test "containers rm: a re-created id is live, refused; the re-create dropped the old logs" {
	stopped_container again 2
	mkdir -p "$STATE/_logs/again"
	echo old >"$STATE/_logs/again/init.log"
	start_container again "${SLEEP_ARGS[@]}"
	# The new container logs its own output there; the old line is gone.
	! grep -qx old "$STATE/_logs/again/init.log" 2>/dev/null ||
		fail "the old container's log is still there"

	run -1 ctr containers rm again
	assert_contains "$output" "is running"
	assert_eq "$(db "SELECT status FROM containers WHERE id = 'again'")" running "row"
	assert_match "$(db "SELECT count(*) FROM events WHERE container_id = 'again' AND type = 'start-container'")" '^2$'
	container_running again
}

@test "containers rm: a _logs/ID symlink to a directory outside is not followed" {
	stopped_container sneaky 0
	mkdir -p "$T/outside" "$STATE/_logs"
	echo keep >"$T/outside/keep"
	# In place of the logs the container left (a directory of the daemon's).
	rm -rf "$STATE/_logs/sneaky"
	ln -s "$T/outside" "$STATE/_logs/sneaky"

	run -0 ctr containers rm sneaky
	assert_eq "$(rows sneaky)" "0 0 0 0" "rows"
	assert_eq "$(cat "$T/outside/keep")" keep "the outside file"
	[ -L "$STATE/_logs/sneaky" ] || fail "the symlink itself was removed or replaced"
	grep -q "logs of sneaky: .* is not a directory: left alone" "$T/daemon.log" ||
		fail "no log line about the symlink"
}

@test "containers prune: every stopped container, or those that exited before --before" {
	start_container live "${SLEEP_ARGS[@]}"
	stopped_container p1 0
	between=$(now_rfc3339)
	stopped_container p2 0

	run -0 ctr containers prune --before 1h
	assert_eq "$output" "" "nothing exited an hour ago"
	run -0 ctr containers prune --before "$between"
	assert_eq "$output" p1 "exited before $between"
	assert_eq "$(rows p1)" "0 0 0 0" "p1"
	assert_match "$(rows p2)" '^1 0 1 '
	run -0 ctr containers prune
	assert_eq "$output" p2 "the rest"
	assert_eq "$(ctr containers -a -q)" live "left"
	state_tools_agree

	run -2 ctr containers prune --before yesterday
	assert_contains "$output" "invalid --before"
	echo "# prune --before: p1 went, p2 (exited after $between) stayed until a plain prune" >&3
}

@test "retention: a pruned stopped container's logs go with its history" {
	stop_daemon
	start_daemon --retain-age 2s
	stopped_container aged 0
	# Made once it stopped (a create removes an old one), well within the age.
	mkdir -p "$STATE/_logs/aged"
	echo out >"$STATE/_logs/aged/init.log"
	t0=$(date +%s%N)
	wait_for eval '[ "$(rows aged)" = "0 0 0 0" ]'
	[ ! -e "$STATE/_logs/aged" ] || fail "_logs/aged is still there after retention"
	echo "# retention (--retain-age 2s) took rows, events and logs $((($(date +%s%N) - t0) / 1000000)) ms after the logs were made" >&3
	state_tools_agree
}
