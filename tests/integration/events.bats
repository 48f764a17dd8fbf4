#!/usr/bin/env bats
# ctr events: live events, replay from a timestamp, --stored-only, --id.

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

# events_after NS [ID]: "type id pid status" of every stored event newer
# than NS (ns since the epoch), in order, straight from SQLite.
events_after() {
	local where="ts > $1"
	[ -z "${2:-}" ] || where="$where AND container_id = '$2'"
	db "SELECT type || ' ' || container_id || ' ' || pid || ' ' || status
		FROM events WHERE $where ORDER BY seq"
}

# ctr_events_norm OUTPUT: "TYPE ID STATUS" of each event line of `ctr events`
# ("TIME TYPE ID PID STATUS"): TYPE is the first lower-case word (TIME starts
# with a digit, however it is spelled), ID the field after it, STATUS the
# last. The boundary marker "live" (no id) is not a stored event: dropped.
ctr_events_norm() {
	awk '{
		for (i = 1; i <= NF; i++)
			if ($i ~ /^[a-z][a-z-]*$/) break
		if (i > NF || $i == "live" || i + 1 > NF) next
		print $i, $(i + 1), $NF
	}' <<<"$1"
}

@test "events --stored-only --timestamp T lists exactly the events after T" {
	start_container before "${SLEEP_ARGS[@]}"
	t=$(now_rfc3339)
	t_ns=$(rfc3339_to_ns "$t")
	start_container after "${SLEEP_ARGS[@]}"
	run -0 ctr containers kill --signal 9 after
	wait_exit after 137

	run -0 ctr events --timestamp "$t" --stored-only
	echo "$output"
	assert_match "$output" 'start-container[[:space:]]+after([[:space:]]|$)'
	ctr_has_event "$output" exit after init 137
	assert_not_contains "$output" before

	# Exactly the stored rows newer than T, in the same order.
	want=$(events_after "$t_ns")
	got=$(ctr_events_norm "$output")
	# PID may be empty for start-container, so compare type, id, status.
	assert_eq "$got" "$(awk '{ print $1, $2, $NF }' <<<"$want")" "events after T (ctr vs sqlite)"
}

@test "events --stored-only from long ago lists every stored event, in order" {
	start_container e1 "${SLEEP_ARGS[@]}"
	start_container e2 "${SLEEP_ARGS[@]}"
	run -0 ctr containers kill --signal 9 e1
	wait_exit e1 137

	run -0 ctr events --timestamp 2000-01-01T00:00:00Z --stored-only
	echo "$output"
	got=$(ctr_events_norm "$output")
	# The daemon's start is history (sqlite) but no event of the API.
	want=$(events_after 0 | awk '$1 != "start-daemon" { print $1, $2, $NF }')
	assert_eq "$got" "$want" "all events (ctr vs sqlite)"
	events_after 0 | grep -q '^start-daemon ' || fail "no start-daemon row in sqlite"
	! grep -q 'start-daemon' <<<"$output" || fail "start-daemon sent: $output"
	# start e1 < start e2 < exit e1
	order=$(grep -E ' (e1|e2) ' <<<"$got" | awk '{ print $1 "/" $2 }' | tr '\n' ' ')
	assert_eq "$order" "start-container/e1 start-container/e2 exit/e1 " "order"
}

@test "events --stored-only with a timestamp in the future lists nothing and ends" {
	start_container f1 "${SLEEP_ARGS[@]}"
	future=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
	run -0 ctr events --timestamp "$future" --stored-only
	[ -z "$(ctr_events_norm "$output")" ] || fail "unexpected events: $output"
}

@test "events --id: only that container's events" {
	start_container a1 "${SLEEP_ARGS[@]}"
	start_container b1 "${SLEEP_ARGS[@]}"
	run -0 ctr containers kill --signal 9 a1
	run -0 ctr containers kill --signal 9 b1
	wait_exit a1 137
	wait_exit b1 137

	run -0 ctr events --timestamp 2000-01-01T00:00:00Z --stored-only --id a1
	echo "$output"
	ctr_has_event "$output" exit a1 init 137
	assert_not_contains "$output" b1
	got=$(ctr_events_norm "$output" | awk '{ print $1, $2 }' | tr '\n' ' ')
	assert_eq "$got" "start-container a1 exit a1 " "a1's events"
}

@test "events --stored-only without --timestamp lists the whole history and ends (dockerd's restore query)" {
	start_container n1 "${SLEEP_ARGS[@]}"
	start_container n2 "${SLEEP_ARGS[@]}"
	run -0 ctr containers kill --signal 9 n1
	wait_exit n1 137

	run -0 ctr events --stored-only
	echo "$output"
	got=$(ctr_events_norm "$output")
	want=$(events_after -1 | awk '$1 != "start-daemon" { print $1, $2, $NF }')
	assert_eq "$got" "$want" "all events (ctr vs sqlite)"
	echo "# figure: $(wc -l <<<"$got") stored events, no timestamp" >&3

	# The id filter holds: only n1's events.
	run -0 ctr events --stored-only --id n1
	echo "$output"
	got=$(ctr_events_norm "$output" | awk '{ print $1, $2 }' | tr '\n' ' ')
	assert_eq "$got" "start-container n1 exit n1 " "n1's events"
	ctr_has_event "$output" exit n1 init 137
}

@test "events (live): a subscriber sees start-container and exit as they happen" {
	ctr events >"$T/events.out" 2>&1 3>&- &
	BG_PIDS+=($!)
	ev_pid=$!
	# The subscription is live once a container started after it shows up.
	start_container sync1 "${SLEEP_ARGS[@]}"
	wait_for grep -q 'start-container.*sync1' "$T/events.out"

	start_container live1 "${SLEEP_ARGS[@]}"
	run -0 ctr containers kill --signal 9 live1
	wait_for grep -Eq 'exit[[:space:]]+live1[[:space:]]+init[[:space:]]+137' "$T/events.out"
	grep -q 'start-container.*live1' "$T/events.out"
	pid_alive "$ev_pid" || fail "ctr events (live) ended by itself"
	cat "$T/events.out"
}

@test "events --timestamp (no --stored-only): replay, then live, no duplicates" {
	t=$(now_rfc3339)
	start_container r1 "${SLEEP_ARGS[@]}"
	ctr events --timestamp "$t" >"$T/events.out" 2>&1 3>&- &
	BG_PIDS+=($!)
	wait_for grep -q 'start-container.*r1' "$T/events.out"

	start_container r2 "${SLEEP_ARGS[@]}"
	wait_for grep -q 'start-container.*r2' "$T/events.out"
	cat "$T/events.out"
	assert_eq "$(grep -c 'start-container.*r1' "$T/events.out")" 1 "r1 start events"
	assert_eq "$(grep -c 'start-container.*r2' "$T/events.out")" 1 "r2 start events"
}

@test "events table: seq strictly increasing, ts never going back" {
	for k in 1 2 3; do
		start_container "o$k" "${SLEEP_ARGS[@]}"
	done
	for k in 1 2 3; do
		run -0 ctr containers kill --signal 9 "o$k"
	done
	for k in 1 2 3; do
		wait_exit "o$k" 137
	done
	run -0 db "SELECT count(*) FROM events a JOIN events b ON b.seq > a.seq AND b.ts < a.ts"
	assert_eq "$output" 0 "events out of time order"
	run -0 db "SELECT count(*) FROM events WHERE type IN ('start-container', 'exit')
		AND container_id IN ('o1', 'o2', 'o3')"
	assert_eq "$output" 6 "start/exit events"
}

@test "events: subscribers are counted out when their clients vanish" {
	stop_daemon
	start_daemon --debug
	for n in 1 2 3; do
		# The binary itself, not the ctr helper: killing a backgrounded
		# function would kill only its subshell.
		"$CTR_BIN" --address "$SOCK" events >"$T/sub$n.out" 2>&1 3>&- &
		BG_PIDS+=($!)
		eval "sub$n=$!"
	done
	wait_for eval 'grep -q ", 3 subscribers" "$T/daemon.log"'
	kill -9 "$sub1" "$sub2"
	wait_for eval 'grep -q "(1 left)" "$T/daemon.log"'
	kill -TERM "$sub3"
	wait_for eval 'grep -q "(0 left)" "$T/daemon.log"'
	# And the daemon serves a new subscriber as before.
	run -0 ctr events --timestamp 2000-01-01T00:00:00Z --stored-only
}
