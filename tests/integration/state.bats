#!/usr/bin/env bats
# containerd-state: dump, events, replay, check against the database of one
# real run (starts, execs, pause/resume, kills, a restart, an id reused),
# made once in setup_file; then with the daemon stopped, and on a read-only
# copy. The tests run in file order: the last two stop the daemon.

load helpers

STATE_BIN=${STATE_BIN:-$REPO/bin/containerd-state}

# cst ARGS...: containerd-state on this file's database.
cst() {
	timeout -k 5 30 "$STATE_BIN" --state-dir "$STATE" "$@"
}

# Quietly: can the shared run be made here? (setup() says why not.)
can_run() {
	[ "$(id -u)" -eq 0 ] && command -v "$RUNC" >/dev/null && [ -x /bin/busybox ] &&
		command -v jq >/dev/null && command -v sqlite3 >/dev/null &&
		[ -x "$CONTAINERD" ] && [ -x "$CTR_BIN" ] && [ -x "$SHIM" ] && [ -x "$STATE_BIN" ]
}

# start_again ID ARGS...: start_container, retried while the daemon is still
# deleting the stopped container of the same id.
start_again() {
	wait_for start_container "$@" 2>/dev/null
}

# start_exiting ID ARGS...: a container whose init ends at once (it may be
# over before the start is answered).
start_exiting() {
	local id=$1
	shift
	make_bundle "$id" "$@"
	ctr containers start "$id" "$BUNDLE" >/dev/null 2>&1 || true
}

# The shared run. Each step waits for its event, so the database is settled
# when the tests read it.
make_history() {
	WEB=$(unique_id web)
	PZ=$(unique_id pz)
	SHORT=$(unique_id short)
	K9=$(unique_id k9)
	DOWN=$(unique_id down)
	REUSE=$(unique_id reuse)
	export WEB PZ SHORT K9 DOWN REUSE

	make_bundle "$WEB" "${SLEEP_ARGS[@]}"
	ctr containers start --label app=web --label tier=front "$WEB" "$BUNDLE" >/dev/null
	start_container "$PZ" "${SLEEP_ARGS[@]}"
	start_exiting "$SHORT" sh -c 'exit 7'
	wait_exit "$SHORT" 7
	start_container "$K9" "${SLEEP_ARGS[@]}"
	start_container "$DOWN" "${SLEEP_ARGS[@]}"
	start_exiting "$REUSE" sh -c 'exit 0'
	wait_exit "$REUSE" 0

	ctr containers exec --id "$WEB" --pid e1 sh -c 'exit 3' >/dev/null
	wait_event exit "$WEB" e1 3
	ctr containers exec --id "$WEB" --pid e2 "${SLEEP_ARGS[@]}" >/dev/null
	wait_event start-process "$WEB" e2 0

	# Paused at the end, with a resume between; skipped without a freezer.
	PAUSED=
	if ctr containers pause "$PZ" >/dev/null 2>&1; then
		ctr containers resume "$PZ" >/dev/null
		ctr containers pause "$PZ" >/dev/null
		PAUSED=1
	fi
	export PAUSED

	ctr containers kill --signal 9 "$K9" >/dev/null
	wait_exit "$K9" 137
	# The id again, for a new container: its old rows give way.
	wait_for container_not_listed "$REUSE"
	start_again "$REUSE" "${SLEEP_ARGS[@]}"

	sleep 0.01
	T_MID=$(now_rfc3339)
	export T_MID
	sleep 0.01

	# A restart, and an exit while the daemon is down.
	local pid
	pid=$(init_pid "$DOWN")
	stop_daemon
	kill -9 "$pid"
	wait_for pid_gone "$pid"
	start_daemon
	wait_exit "$DOWN" 137

	ctr containers exec --id "$WEB" --pid e3 sh -c 'exit 5' >/dev/null
	wait_event exit "$WEB" e3 5
}

setup_file() {
	setup_base_bundle
	can_run || return 0
	setup_common
	export T STATE SOCK RUNC_ROOT DB
	start_daemon
	make_history
	export DAEMON_PID
	export HISTORY_MADE=1
}

teardown() {
	if [ -n "${RO_DIR:-}" ]; then
		chmod -R u+w "$RO_DIR" 2>/dev/null
		rm -rf "$RO_DIR"
	fi
}

teardown_file() {
	[ -n "${T:-}" ] || return 0
	teardown_common >&2
}

setup() {
	requires_e2e
	[ -x "$STATE_BIN" ] || skip "$STATE_BIN not built"
	[ -n "${HISTORY_MADE:-}" ] || fail "setup_file did not make the shared run"
}

# ---------------------------------------------------------------- dump

@test "dump: the same JSON as ctr state while the daemon runs" {
	run -0 ctr state
	want=$output
	run -0 cst dump
	got=$output
	assert_eq "$(jq -S . <<<"$got")" "$(jq -S . <<<"$want")" "dump vs ctr state (jq -S)"
	# The very same text, key order and all.
	[ "$got" = "$want" ] || fail "same JSON but not the same text"

	ids=$(jq -r '.containers[].id' <<<"$got" | sort | tr '\n' ' ')
	want_ids=$(printf '%s\n' "$WEB" "$PZ" "$REUSE" | sort | tr '\n' ' ')
	assert_eq "$ids" "$want_ids" "listed containers"
	assert_eq "$(jq -r --arg id "$WEB" '.containers[] | select(.id == $id) |
		[.processes[].pid] | join(",")' <<<"$got")" "init,e2" "$WEB's processes"
	assert_eq "$(jq -r --arg id "$WEB" '.containers[] | select(.id == $id) |
		.labels | join(",")' <<<"$got")" "app=web,tier=front" "labels"
	if [ -n "$PAUSED" ]; then
		assert_eq "$(jq -r --arg id "$PZ" '.containers[] | select(.id == $id) | .status' \
			<<<"$got")" paused "$PZ's status"
	fi

	# One container: as `ctr state ID`.
	run -0 ctr state "$WEB"
	want=$output
	run -0 cst dump --id "$WEB"
	[ "$output" = "$want" ] || fail "dump --id differs from ctr state ID"
}

@test "dump --all: stopped containers too, with their status, exits and checkpoints" {
	run -0 cst dump --all
	out=$output
	st() {
		jq -r --arg id "$1" '.containers[] | select(.id == $id) | .status' <<<"$out"
	}
	assert_eq "$(st "$K9")" stopped "$K9"
	assert_eq "$(st "$SHORT")" stopped "$SHORT"
	assert_eq "$(st "$DOWN")" stopped "$DOWN"
	assert_eq "$(st "$WEB")" running "$WEB"
	assert_eq "$(jq -r --arg id "$K9" '.containers[] | select(.id == $id) |
		.exited[] | "\(.pid)=\(.exitStatus)"' <<<"$out")" "init=137" "$K9's exits"
	assert_eq "$(jq -r --arg id "$WEB" '.containers[] | select(.id == $id) |
		[.exited[] | "\(.pid)=\(.exitStatus)"] | sort | join(",")' <<<"$out")" \
		"e1=3,e3=5" "$WEB's exits"
	assert_eq "$(jq -r --arg id "$K9" '.containers[] | select(.id == $id) |
		.processes | length' <<<"$out")" 0 "$K9's running processes"
	assert_eq "$(jq -r '[.containers[] | .checkpoints | type] | unique | join(",")' \
		<<<"$out")" array "checkpoints key"

	# Without --all a stopped container is not there, and it says why.
	run -1 cst dump --id "$K9"
	assert_contains "$output" "$K9 is stopped: add --all"
	run -1 cst dump --id nosuch
	assert_contains "$output" "no such container: nosuch"
	run -0 cst dump --all --id "$K9"
	assert_eq "$(jq -r '.containers[0].status' <<<"$output")" stopped "dump --all --id"
}

# ---------------------------------------------------------------- events

@test "events: the history as a table and as JSON lines, with filters" {
	total=$(db 'SELECT count(*) FROM events')

	run -0 cst events
	assert_match "${lines[0]}" '^TIME[[:space:]]+TYPE[[:space:]]+ID[[:space:]]+PID[[:space:]]+STATUS$'
	assert_eq "$((${#lines[@]} - 1))" "$total" "table rows"
	ctr_has_event "$output" exit "$WEB" e1 3
	ctr_has_event "$output" exit "$K9" init 137
	ctr_has_event "$output" start-process "$WEB" e2 0
	assert_match "${lines[1]}" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z '

	run -0 cst events --json
	assert_eq "${#lines[@]}" "$total" "JSON lines"
	assert_eq "$(jq -s -c '[.[] | keys_unsorted] | unique' <<<"$output")" \
		'[["seq","time","type","id","pid","status","occurred"]]' "keys"
	# time (recorded) strictly increases; an exit's occurred is its row's exitedAt.
	assert_eq "$(jq -s -c '[.[].time] as $t | [range(1; $t | length) | select($t[.] <= $t[. - 1])] | length' <<<"$output")" 0 "times strictly increasing"
	# In seq order, and each seq as in the table.
	assert_eq "$(jq -s -c '[.[].seq] == ([.[].seq] | sort)' <<<"$output")" true "seq order"
	assert_eq "$(jq -s -r '.[-1].seq' <<<"$output")" "$(db 'SELECT max(seq) FROM events')" "last seq"
	assert_eq "$(jq -s -r --arg id "$WEB" '[.[] | select(.id == $id and .pid == "e1" and
		.type == "exit")][0].status' <<<"$output")" 3 "e1's status"

	run -0 cst events --json --id "$WEB"
	assert_eq "$(jq -s -r '[.[].id] | unique | join(",")' <<<"$output")" "$WEB" "--id"
	assert_eq "${#lines[@]}" "$(db "SELECT count(*) FROM events WHERE container_id = '$WEB'")" \
		"--id count"

	run -0 cst events --json --type exit
	assert_eq "$(jq -s -r '[.[].type] | unique | join(",")' <<<"$output")" exit "--type"
	assert_eq "${#lines[@]}" "$(db "SELECT count(*) FROM events WHERE type = 'exit'")" "--type count"

	# Around the middle of the run: K9's exit before, DOWN's exit after.
	run -0 cst events --since "$T_MID"
	ctr_has_event "$output" exit "$DOWN" init 137
	! ctr_has_event "$output" exit "$K9" init 137 || fail "--since shows an older event"
	run -0 cst events --until "$T_MID"
	ctr_has_event "$output" exit "$K9" init 137
	! ctr_has_event "$output" exit "$DOWN" init 137 || fail "--until shows a newer event"
	run -0 cst events --json --since "$T_MID" --until "$T_MID"
	assert_eq "$output" "" "nothing happened at T_MID exactly"

	# A duration means that long ago.
	run -0 cst events --json --since 1h
	assert_eq "${#lines[@]}" "$total" "--since 1h"
	run -0 cst events --json --until 1h
	assert_eq "$output" "" "--until 1h"

	run -1 cst events --since yesterday
	assert_contains "$output" 'invalid --since "yesterday"'
	run -1 cst events --id 'a/b'
	assert_contains "$output" "--id"
}

# ---------------------------------------------------------------- replay

@test "replay: the events rebuild the tables exactly; --until shows a past moment" {
	total=$(db 'SELECT count(*) FROM events')
	ctrs=$(db 'SELECT count(*) FROM containers')

	run -0 cst replay
	assert_eq "$output" "replay: $ctrs containers, $total events, no difference"

	run -0 cst replay --until "$T_MID"
	out=$output
	at() {
		jq -r --arg id "$1" "$2" <<<"$out"
	}
	assert_eq "$(at "$DOWN" '.containers[$id].status')" running "$DOWN at T_MID"
	assert_eq "$(at "$K9" '.containers[$id].status')" stopped "$K9 at T_MID"
	assert_eq "$(at "$K9" '.containers[$id].processes.init.exitStatus')" 137 "$K9's exit"
	assert_eq "$(at "$WEB" '.containers[$id].processes["e1"] | "\(.status) \(.exitStatus)"')" \
		"exited 3" "e1 at T_MID"
	assert_eq "$(at "$WEB" '.containers[$id].processes["e2"].status')" running "e2 at T_MID"
	assert_eq "$(at "$WEB" '.containers[$id].processes["e3"]')" null "e3 not yet at T_MID"
	assert_eq "$(at "$REUSE" '.containers[$id].status')" running "$REUSE's second life"
	if [ -n "$PAUSED" ]; then
		assert_eq "$(at "$PZ" '.containers[$id].status')" paused "$PZ at T_MID"
	fi
	assert_eq "$(jq -r .events <<<"$out")" \
		"$(db "SELECT count(*) FROM events WHERE ts <= $(rfc3339_to_ns "$T_MID")")" "events up to T_MID"

	run -0 cst replay --until 2000-01-01T00:00:00Z
	assert_eq "$(jq -c '[.events, .containers]' <<<"$output")" '[0,{}]' "before everything"
}

# ---------------------------------------------------------------- check

@test "check: ok on the real run" {
	run -0 cst check
	assert_eq "$output" "check: ok"
}

@test "check and replay find hand-corrupted rows (in a copy)" {
	bad=$T/bad.db
	db ".backup $bad"
	run -0 "$STATE_BIN" --db "$bad" check

	# An exited exec marked running, with a shim pid that is no shim.
	sqlite3 "$bad" "UPDATE processes SET status = 'running', exit_status = NULL,
		shim_pid = 999999 WHERE container_id = '$WEB' AND pid = 'e1'"
	run -1 "$STATE_BIN" --db "$bad" check
	echo "$output"
	assert_contains "$output" "$WEB/e1: running, but its shim"
	assert_eq "${lines[-1]}" "check: 1 problem"
	run -1 "$STATE_BIN" --db "$bad" replay
	echo "$output"
	assert_contains "$output" "$WEB/e1: running in the table, exited 3 by the events"
	assert_match "${lines[-1]}" '^replay: [0-9]+ containers, [0-9]+ events, 1 difference$'

	# A container no event announced; rows of no container (foreign keys off).
	sqlite3 "$bad" "INSERT INTO containers (id, bundle, runtime, status, created_at, updated_at)
		VALUES ('ghost', '/nowhere', 'runc', 'running', 1, 1)"
	sqlite3 "$bad" "PRAGMA foreign_keys = OFF; INSERT INTO labels VALUES ('nobody', 'a=b');
		INSERT INTO processes (container_id, pid, status) VALUES ('nobody', 'init', 'running')"
	run -1 "$STATE_BIN" --db "$bad" check
	echo "$output"
	assert_contains "$output" "ghost: running, but it has no init process row"
	assert_contains "$output" 'orphan: label "a=b" of container nobody'
	assert_contains "$output" "orphan: process nobody/init"
	run -1 "$STATE_BIN" --db "$bad" replay
	echo "$output"
	assert_contains "$output" "ghost: running in the table, but no event mentions it"

	# The container stopped in the table only.
	sqlite3 "$bad" "UPDATE containers SET status = 'stopped' WHERE id = '$REUSE'"
	run -1 "$STATE_BIN" --db "$bad" replay
	assert_contains "$output" "$REUSE: stopped in the table, running by the events"

	# The live database is untouched.
	run -0 cst check
}

@test "errors: no database, a newer schema, not our file, bad flags" {
	run -1 "$STATE_BIN" --state-dir "$T/nowhere" dump
	assert_eq "$output" "containerd-state: no database at $T/nowhere/state.db: is --state-dir right? (the daemon creates it when it first starts)"

	newer=$T/newer.db
	db ".backup $newer"
	sqlite3 "$newer" 'PRAGMA user_version = 999'
	for verb in dump events replay check; do
		run -1 "$STATE_BIN" --db "$newer" "$verb"
		assert_contains "$output" "schema version 999, newer than this binary"
	done
	# Never migrated or written.
	assert_eq "$(sqlite3 "$newer" 'PRAGMA user_version')" 999 "user_version"

	sqlite3 "$T/other.db" 'CREATE TABLE x (y)'
	run -1 "$STATE_BIN" --db "$T/other.db" dump
	assert_contains "$output" "not containerd's"

	run -1 cst dump --bogus
	assert_contains "$output" "unknown option --bogus"
	run -1 cst frobnicate
	assert_contains "$output" 'unknown command "frobnicate"'
	run -1 cst replay --until
	assert_contains "$output" "--until needs a value"
	for verb in dump events replay check; do
		run -0 cst "$verb" --help
		assert_match "${lines[0]}" "^Usage: containerd-state .*$verb"
	done
}

# ---------------------------------------------------------------- daemon down

@test "with the daemon stopped: dump, events, replay and check work and leave no file behind" {
	run -0 ctr state
	want=$output
	events=$(cst events --json)

	stop_daemon
	before=$(ls -a "$STATE")

	run -0 cst dump
	[ "$output" = "$want" ] || fail "dump after the stop differs from ctr state before it"
	run -0 cst events --json
	[ "$output" = "$events" ] || fail "events differ"
	run -0 cst replay
	assert_contains "$output" "no difference"
	# The shims run on without the daemon.
	run -0 cst check
	assert_eq "$output" "check: ok"

	assert_eq "$(ls -a "$STATE")" "$before" "files in the state dir"
}

@test "a read-only copy of the database works, for root and for an unprivileged user" {
	stop_daemon
	want=$(cst dump --all)
	# Outside $T: the suite's own temp dirs are 0700, which nobody cannot
	# cross; this one is reachable, and teardown removes it.
	RO_DIR=$(mktemp -d /tmp/ctrd-ro.XXXXXX)
	chmod 0755 "$RO_DIR"
	ro=$RO_DIR/ro
	mkdir "$ro"
	cp "$DB" "$ro/state.db"
	chmod 0444 "$ro/state.db"
	chmod 0555 "$ro"

	run -0 "$STATE_BIN" --db "$ro/state.db" dump --all
	[ "$output" = "$want" ] || fail "dump of the copy differs"
	run -0 "$STATE_BIN" --state-dir "$ro" replay
	assert_contains "$output" "no difference"

	# Root writes anywhere; an unprivileged user really cannot write there.
	want_files="state.db "
	if command -v setpriv >/dev/null; then
		as_nobody() {
			setpriv --reuid=65534 --regid=65534 --clear-groups "$STATE_BIN" "$@"
		}
		run -0 as_nobody --db "$ro/state.db" dump --all
		[ "$output" = "$want" ] || fail "dump of the copy by nobody differs"
		run -0 as_nobody --db "$ro/state.db" replay
		assert_contains "$output" "no difference"
		run -0 as_nobody --db "$ro/state.db" events --json --type exit
		assert_eq "${#lines[@]}" "$(db "SELECT count(*) FROM events WHERE type = 'exit'")" \
			"exit events"

		# A -wal beside it (the copy was taken while the daemon ran): the main
		# file is read as a snapshot, and the tool says what it cannot show.
		chmod 0755 "$ro"
		printf 'not a wal' >"$ro/state.db-wal"
		chmod 0444 "$ro/state.db-wal"
		chmod 0555 "$ro"
		want_files="state.db state.db-wal "
		run -0 --separate-stderr as_nobody --db "$ro/state.db" dump --all
		[ "$output" = "$want" ] || fail "dump beside a -wal differs"
		assert_contains "$stderr" "changes still in $ro/state.db-wal are not shown"
	fi
	assert_eq "$(ls "$ro" | tr '\n' ' ')" "$want_files" "files in the copy's dir"
	chmod 0755 "$ro"
}
