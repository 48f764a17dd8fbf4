#!/usr/bin/env bats
# ctr events --since/--until/--type/--json, and the one time format
# (RFC 3339, UTC, nine fraction digits, fixed width) wherever a time is
# printed: ctr events, ctr containers, the daemon's log, containerd-state.

load helpers

STATE_BIN=${STATE_BIN:-$REPO/bin/containerd-state}
TIME_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$'

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

# rows_between FROM TO: "TIME TYPE ID PID STATUS" of the stored API events
# with FROM <= ts <= TO (ns), in order, TIME written by sqlite itself in the
# one format, so it is compared with ctr's text as it is.
rows_between() {
	db "SELECT strftime('%Y-%m-%dT%H:%M:%S', ts / 1000000000, 'unixepoch') ||
			printf('.%09dZ', ts % 1000000000) || ' ' || type || ' ' ||
			container_id || ' ' || pid || ' ' || status
		FROM events WHERE ts >= $1 AND ts <= $2 AND type != 'start-daemon'
		ORDER BY seq" | tr -s ' '
}

# table_rows OUTPUT: ctr events' table without its header, one space between
# fields (an empty PID collapses, as in rows_between's text).
table_rows() {
	tail -n +2 <<<"$1" | tr -s ' ' | sed 's/ $//'
}

event_ts() { # TYPE ID: ts of ID's last TYPE event
	db "SELECT max(ts) FROM events WHERE type = '$1' AND container_id = '$2'"
}

@test "events --since: RFC 3339 (at or after T, to the ns) and a duration ago" {
	start_container s1 "${SLEEP_ARGS[@]}"
	run -0 ctr containers kill --signal 9 s1
	wait_exit s1 137
	start_container s2 "${SLEEP_ARGS[@]}"
	t2=$(event_ts start-container s2)
	t1=$(event_ts exit s1)
	since=$(db "SELECT strftime('%Y-%m-%dT%H:%M:%S', $t2 / 1000000000, 'unixepoch') ||
		printf('.%09dZ', $t2 % 1000000000)")

	# RFC 3339 at exactly s2's start: that event is included (containerd-
	# state's --since), and nothing before it.
	run -0 ctr events --since "$since" --stored-only
	echo "$output"
	assert_eq "$(table_rows "$output")" "$(rows_between "$t2" 9223372036854775807)" \
		"--since T: the stored events at or after T"
	ctr_has_event "$output" start-container s2 '' 0 || fail "s2's start missing"
	assert_not_contains "$output" s1
	# --timestamp, its old name, keeps its old meaning: after T, not at it
	# (a client resumes from the last time it saw).
	run -0 ctr events --timestamp "$since" --stored-only
	assert_not_contains "$output" s2
	# The same moment written with an offset is the same moment.
	off=$(TZ=Etc/GMT-2 date -d "@$((t2 / 1000000000))" +%Y-%m-%dT%H:%M:%S).$(printf %09d $((t2 % 1000000000)))+02:00
	run -0 ctr events --since "$off" --stored-only
	assert_eq "$(table_rows "$output")" "$(rows_between "$t2" 9223372036854775807)" "--since with +02:00"

	# A duration ago: half way between s1's exit and s2's start.
	gap=$(( (t2 - t1) / 1000000 ))
	ago=$(( ($(date +%s%N) - t2) / 1000000 + gap / 2 ))
	run -0 ctr events --since "${ago}ms" --stored-only
	echo "$output"
	ctr_has_event "$output" start-container s2 '' 0 || fail "--since ${ago}ms: s2 missing"
	assert_not_contains "$output" s1
	run -0 ctr events --since 1h --stored-only
	ctr_has_event "$output" exit s1 init 137 || fail "--since 1h: s1's exit missing"
	run -0 ctr events --since 0 --stored-only
	assert_eq "$(table_rows "$output")" "" "--since 0 (now): nothing stored"
	echo "# --since ${ago}ms split s1's exit and s2's start (${gap} ms apart)" >&3

	run -2 ctr events --since yesterday
	assert_contains "$output" 'invalid --since "yesterday"'
	run -2 ctr events --since 1h --timestamp 1h
	assert_contains "$output" "give one"
}

@test "events --until in the past: exactly the stored events up to T, then exit 0" {
	start_container u1 "${SLEEP_ARGS[@]}"
	run -0 ctr containers kill --signal 9 u1
	wait_exit u1 137
	t=$(now_rfc3339)
	t_ns=$(rfc3339_to_ns "$t")
	start_container u2 "${SLEEP_ARGS[@]}"

	t0=$(date +%s%N)
	run -0 ctr events --until "$t"
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "$output"
	want=$(rows_between 0 "$t_ns")
	assert_eq "$(table_rows "$output")" "$want" "--until T: every stored event up to T"
	ctr_has_event "$output" exit u1 init 137 || fail "u1's exit missing"
	assert_not_contains "$output" u2
	# With --since too: the window between.
	since=$(event_ts exit u1)
	run -0 ctr events --since "$(db "SELECT strftime('%Y-%m-%dT%H:%M:%S', $since / 1000000000,
		'unixepoch') || printf('.%09dZ', $since % 1000000000)")" --until "$t"
	assert_eq "$(table_rows "$output")" "$(rows_between "$since" "$t_ns")" "--since A --until B"
	echo "# --until (past): $(grep -c . <<<"$want") stored events, exit 0 after $ms ms" >&3

	run -2 ctr events --since 1m --until 2h
	assert_contains "$output" "is before --since"
	run -2 ctr events --until soon
	assert_contains "$output" 'invalid --until "soon"'
}

@test "events --until in the future: stored, then live events until T, then exit 0 at T" {
	start_container f1 "${SLEEP_ARGS[@]}"
	until_ns=$(( $(date +%s%N) + 1500000000 ))
	until=$(date -u -d "@$((until_ns / 1000000000))" +%Y-%m-%dT%H:%M:%S).$(printf %09d $((until_ns % 1000000000)))Z
	# The end time is taken by the subshell, as soon as ctr exits.
	( ctr events --since 1m --until "$until" >"$T/ev.out" 2>&1; echo "$? $(date +%s%N)" >"$T/ev.end" ) 3>&- &
	BG_PIDS+=($!)
	# Subscribed once the stored start of f1 is printed; then a live event.
	wait_for grep -q 'start-container.*f1' "$T/ev.out"
	run -0 ctr containers pause f1
	wait_for test -s "$T/ev.end"
	read -r rc end <"$T/ev.end"
	cat "$T/ev.out"
	assert_eq "$rc" 0 "ctr events --until exit status"
	late=$(( (end - until_ns) / 1000000 ))
	[ "$late" -ge 0 ] || fail "ctr events ended $(( -late )) ms before --until"
	[ "$late" -lt 1000 ] || fail "ctr events ended $late ms after --until"
	# The live pause is printed if it was recorded by T (a slow machine may
	# record it later: then it must not be).
	if [ "$(event_ts pause f1)" -le "$until_ns" ]; then
		ctr_has_event "$(cat "$T/ev.out")" pause f1 '' 0 || fail "live pause missing"
		live="the live pause printed"
	else
		assert_not_contains "$(cat "$T/ev.out")" pause
		live="the pause came after T, not printed"
	fi
	echo "# --until (future): exited $late ms after T; $live" >&3
}

@test "events --type: one type, a list, repeated; an unknown type is a usage error" {
	start_container ty1 "${SLEEP_ARGS[@]}"
	run -0 ctr containers pause ty1
	run -0 ctr containers resume ty1
	run -0 ctr containers kill --signal 9 ty1
	wait_exit ty1 137

	run -0 ctr events --stored-only --type exit
	echo "$output"
	assert_eq "$(table_rows "$output" | awk '{ print $2 }' | sort -u)" exit "--type exit"
	ctr_has_event "$output" exit ty1 init 137 || fail "ty1's exit missing"
	run -0 ctr events --stored-only --type pause,resume
	assert_eq "$(table_rows "$output" | awk '{ print $2, $3 }' | tr '\n' ' ')" \
		"pause ty1 resume ty1 " "--type pause,resume"
	run -0 ctr events --stored-only --type exit --type start-container --id ty1
	assert_eq "$(table_rows "$output" | awk '{ print $2, $3 }' | tr '\n' ' ')" \
		"start-container ty1 exit ty1 " "--type twice, with --id"

	run -2 ctr events --type stop
	echo "$output"
	assert_contains "$output" 'unknown event type "stop"'
	assert_contains "$output" "start-container, start-process, exit, oom, pause, resume, create-checkpoint, delete-checkpoint"
	run -2 ctr events --type exit,
	assert_contains "$output" 'unknown event type ""'
}

@test "events --json: one object a line, jq reads each, fields as in the table" {
	requires jq
	start_container js1 "${SLEEP_ARGS[@]}"
	run -0 ctr containers kill --signal 9 js1
	wait_exit js1 137

	run -0 ctr events --stored-only --json
	echo "$output"
	n=0
	while IFS= read -r line; do
		jq -e . >/dev/null <<<"$line" || fail "not JSON: $line"
		assert_eq "$(jq -c 'keys_unsorted' <<<"$line")" '["time","type","id","pid","status"]' "keys"
		assert_eq "$(jq -r '.status | type' <<<"$line")" number "status is a number"
		assert_match "$(jq -r .time <<<"$line")" "$TIME_RE"
		n=$((n + 1))
	done <<<"$output"
	# The same events as the table, field by field.
	got=$(jq -r '[.time, .type, .id, .pid, (.status | tostring)] | join(" ")' <<<"$output" | tr -s ' ')
	assert_eq "$got" "$(rows_between 0 9223372036854775807)" "--json vs the database"
	run -0 ctr events --stored-only --json --id js1 --type exit
	assert_eq "$(jq -r '"\(.type) \(.id) \(.pid) \(.status)"' <<<"$output")" "exit js1 init 137" "filtered"
	echo "# --json: $n lines, each read by jq" >&3
}

@test "events --json: a string that is not UTF-8 still makes JSON that jq reads" {
	requires jq
	# The API refuses such strings, but a database written by an earlier
	# release may hold one (an exec's pid name): put it there by hand.
	stop_daemon
	t=$(( $(date +%s%N) ))
	db "INSERT INTO events (ts, type, container_id, pid, status)
		VALUES ($t, 'exit', 'old1', CAST(X'6578ff6563' AS TEXT), 3)"
	start_daemon
	run -0 ctr events --stored-only --json --id old1
	echo "$output"
	jq -e . >/dev/null <<<"$output" || fail "not JSON: $output"
	pid=$(jq -r .pid <<<"$output")
	# The daemon sends the byte escaped as the text \xff, as in every
	# other reply (a checking client would fail the stream on it), and the
	# line stays UTF-8 and JSON.
	assert_eq "$pid" 'ex\xffec' "the pid name, the bad byte escaped"
	# grpcio, which checks UTF-8, reads the same event.
	run -0 grpc_call Events '{"storedOnly": true, "id": "old1"}'
	echo "$output"
	assert_contains "$output" 'ex\\xffec'

	assert_eq "$(jq -r .id <<<"$output") $(jq -r .status <<<"$output")" "old1 3" "the rest as stored"
	echo "# non-UTF-8 pid name arrives as $(jq -c .pid <<<"$output")" >&3
}

@test "one time format: ctr events, ctr containers, the daemon log, the shim log and containerd-state" {
	requires jq
	stop_daemon
	start_daemon --debug
	start_container tf1 "${SLEEP_ARGS[@]}"
	bad=0
	check() { # WHAT TIME
		if ! [[ $2 =~ $TIME_RE ]]; then
			echo "$1: \"$2\" is not in the one format" >&2
			bad=$((bad + 1))
		fi
		checked=$((checked + 1))
		per[$1]=$(( ${per[$1]:-0} + 1 ))
	}
	checked=0
	declare -A per
	run -0 ctr events --stored-only
	while read -r when _; do check "ctr events" "$when"; done < <(tail -n +2 <<<"$output")
	run -0 ctr events --stored-only --json
	while read -r when; do check "ctr events --json" "$when"; done < <(jq -r .time <<<"$output")
	run -0 ctr containers tf1
	echo "$output"
	when=$(awk '/^Created:/ { print $2 }' <<<"$output")
	check "ctr containers ID" "$when"
	sample=$when
	run -0 ctr containers --format json
	check "ctr containers --format json" "$(jq -r '.[0].created' <<<"$output")"
	while read -r when _; do check "daemon log" "$when"; done < <(grep -v '^#' "$T/daemon.log" | grep -v '^\[containerd\]')
	# The shim's own log (shim/log.c, its own code, the same format): a
	# line it does not understand on its control fifo is logged.
	echo "no-such-command" >"$CDIR/tf1/init/control"
	wait_for test -s "$CDIR/tf1/init/shim.log"
	while read -r when _; do check "shim.log" "$when"; done <"$CDIR/tf1/init/shim.log"
	run -0 "$STATE_BIN" --state-dir "$STATE" events
	while read -r when _; do check "containerd-state events" "$when"; done < <(tail -n +2 <<<"$output")
	assert_eq "$bad" 0 "times not in the one format"
	for what in "ctr events" "ctr events --json" "ctr containers ID" "ctr containers --format json" \
		"daemon log" "shim.log" "containerd-state events"; do
		[ "${per[$what]:-0}" -gt 0 ] || fail "no time checked from $what"
		counts="$counts, $what ${per[$what]}"
	done
	echo "# $checked printed times, all RFC 3339 UTC with 9 digits (e.g. $sample):${counts#,}" >&3
}
