#!/usr/bin/env bats
# Chaos for the store (issue 10, items 3 and 5): during a load of creates
# and kills, at a seeded moment (a) another process takes the database's
# write lock for a while, (b) the disk holding the database fills up for a
# while, (c) the daemon is SIGKILLed and restarted while a subscriber
# follows the events, resuming from the last timestamp it received.
# Nothing acknowledged is lost, no exit is lost or recorded twice, nothing
# runs unlisted, and the subscriber misses and repeats nothing.
#
# Seeds as in chaos.bats: CHAOS_SEED=N alone, CHAOS_SEEDS=K for 1..K
# (`make chaos`), a fixed few otherwise (`make test`).

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
	round_clean
	teardown_common
}

chaos_seeds() {
	if [ -n "${CHAOS_SEED:-}" ]; then
		echo "$CHAOS_SEED"
	elif [ -n "${CHAOS_SEEDS:-}" ]; then
		seq 1 "$CHAOS_SEEDS"
	else
		echo 3 11
	fi
}

# round_clean: this root's containers, helpers and tmpfs gone.
round_clean() {
	[ -n "${T:-}" ] && [ -d "$T" ] || return 0
	touch "$T/release" "$T/stop" 2>/dev/null || true
	local id p
	for p in "${BG_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	BG_PIDS=()
	stop_daemon -9 || true
	for id in $(runc_list); do
		"$RUNC" --root "$RUNC_ROOT" delete -f "$id" >/dev/null 2>&1 || true
	done
	for p in $(pgrep -f "containerd-shim.*$T/" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
	if [ -n "${MNT:-}" ] && mountpoint -q "$MNT"; then
		umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
	fi
	MNT=
}

new_round() {
	round_clean
	teardown_common >/dev/null
	setup_common
}

# wait_secs SECONDS CMD...: retry CMD until it succeeds, bounded by the clock.
wait_secs() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

ms() {
	printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
}

# run_load SEED [--no-kill]: the create/kill driver in the background;
# DRIVER is its pid.
run_load() {
	make_bundle chaos "${SLEEP_ARGS[@]}"
	"$PY" "$LOAD_PY" --address "$SOCK" load --bundle "$BUNDLE" --prefix c --count 8 \
		--workers 4 --seed "$1" --spread 0.7 --out "$T/acks" ${2:-} 2>"$T/driver.err" 3>&- &
	DRIVER=$!
	BG_PIDS+=("$DRIVER")
}

# started_unsettled: ids with a start-container event that are neither
# listed by State nor have an init exit yet (their exit is on its way).
started_unsettled() {
	local ids id n=0
	ids=$(grpc_call State '{}' | jq -r '.containers[]?.id') || return 1
	for id in $(db "SELECT DISTINCT container_id FROM events WHERE type = 'start-container'"); do
		grep -qxF -- "$id" <<<"$ids" && continue
		[ "$(event_count exit "$id" init)" -ge 1 ] || n=$((n + 1))
	done
	[ "$n" -eq 0 ]
}

# check_round WHAT: acknowledged creates are recorded, every started
# container has exactly one init exit (or is listed and running), killed
# ones 137, nothing runs unlisted, refused creates left nothing.
check_round() {
	local id lost=0 dup=0 exits=0 bad=0 refused=0 acked state_now
	wait_secs 30 started_unsettled || fail "$1: started containers neither listed nor exited"
	state_now=$(grpc_call State '{}' | jq -r '.containers[]?.id' | sort)
	acked=$(awk '$1 == "ack" && $2 == "create" { print $3 }' "$T/acks" | sort -u)
	for id in $acked; do
		if [ "$(db "SELECT count(*) FROM containers WHERE id = '$id'")" = 0 ] ||
			[ "$(event_count start-container "$id")" = 0 ]; then
			echo "# $1: acknowledged $id lost"
			lost=$((lost + 1))
		fi
	done
	for id in $(db "SELECT DISTINCT container_id FROM events WHERE type = 'start-container'"); do
		n=$(event_count exit "$id" init)
		if [ "$n" -gt 1 ]; then
			echo "# $1: $id has $n exits"
			dup=$((dup + 1))
		elif [ "$n" = 1 ]; then
			exits=$((exits + 1))
			if grep -qx "ack kill $id" "$T/acks" &&
				[ "$(db "SELECT status FROM events WHERE type = 'exit' AND container_id = '$id' AND pid = 'init'")" != 137 ]; then
				echo "# $1: $id killed but its exit is not 137"
				bad=$((bad + 1))
			fi
		elif ! grep -qxF -- "$id" <<<"$state_now"; then
			echo "# $1: $id started, not listed, no exit"
			lost=$((lost + 1))
		fi
	done
	for id in $(awk '$1 == "err" && $2 == "create" { print $3 }' "$T/acks" | sort -u); do
		[ "$(event_count start-container "$id")" = 0 ] || continue
		refused=$((refused + 1))
		[ "$(db "SELECT count(*) FROM containers WHERE id = '$id'")" = 0 ] || { echo "# $1: refused $id has a row"; bad=$((bad + 1)); }
		! runc_list | grep -qxF -- "$id" || { echo "# $1: refused $id runs"; bad=$((bad + 1)); }
	done
	wait_secs 20 orphans_none || { echo "# $1: state $(state_ids_sorted | tr '\n' ' '), runc $(runc_live | tr '\n' ' ')"; bad=$((bad + 1)); }
	[ "$(db "SELECT count(*) FROM events WHERE type = 'exit' AND status = 255")" = 0 ] || { echo "# $1: an exit recorded as 255"; bad=$((bad + 1)); }
	echo "# figure: $1: acked creates $(wc -w <<<"$acked"), refused $refused, exits $exits; acknowledged lost $lost, exits lost or duplicated $dup, other problems $bad; failed commits $(grep -c 'commit failed' "$T/daemon.log")" >&3
	[ "$lost" -eq 0 ] && [ "$dup" -eq 0 ] && [ "$bad" -eq 0 ] || fail "$1: $lost lost, $dup duplicated, $bad other"
}

state_ids_sorted() {
	grpc_call State '{}' | jq -r '.containers[]?.id' | sort
}

runc_live() {
	"$RUNC" --root "$RUNC_ROOT" list -f json 2>/dev/null |
		jq -r '.[]? | select(.status == "running" or .status == "created" or .status == "paused") | .id' | sort
}

orphans_none() {
	[ "$(state_ids_sorted)" = "$(runc_live)" ]
}

# probe_start / probe_worst: State and GetServerVersion timed in the
# background during the fault; probe_worst stops it and sets worst (ms).
probe_start() {
	rm -f "$T/probe.stop"
	"$PY" "$LOAD_PY" --address "$SOCK" probe --stop-file "$T/probe.stop" --seconds 120 \
		>"$T/probe.out" 2>&1 3>&- &
	PROBE=$!
	BG_PIDS+=("$PROBE")
}

probe_worst() {
	touch "$T/probe.stop"
	wait "$PROBE" || true
	worst=$(awk '{ print $2 }' "$T/probe.out")
}

# hold_lock_for MS: another process holds the write lock MS milliseconds.
hold_lock_for() {
	"$PY" -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("BEGIN IMMEDIATE")
time.sleep(int(sys.argv[2]) / 1000)
c.execute("ROLLBACK")' "$DB" "$1" 3>&-
}

@test "chaos store (a): the write lock held at a seeded moment of a create/kill load: 0 acknowledged lost, 0 exits lost or duplicated" {
	local seed at hold worst
	for seed in $(chaos_seeds); do
		new_round
		RANDOM=$seed
		: $RANDOM # (the first value after seeding grows with the seed)
		at=$((RANDOM % 1500))
		hold=$((300 + RANDOM % 2000))
		start_daemon
		run_load "$seed"
		sleep "$(ms "$at")"
		probe_start
		hold_lock_for "$hold"
		probe_worst
		wait "$DRIVER" || fail "driver: $(cat "$T/driver.err")"
		echo "# seed $seed: lock at ${at} ms for ${hold} ms"
		check_round "lock seed $seed (at ${at} ms for ${hold} ms, worst read ${worst} ms)"
		[ "$worst" -lt 1000 ] || fail "seed $seed: reads waited ${worst} ms behind the lock"
		pid_alive "$DAEMON_PID" || fail "the daemon died"
	done
}

@test "chaos store (b): the disk holding the database full at a seeded moment, then freed: 0 acknowledged lost, 0 exits lost or duplicated" {
	requires_tool mountpoint util-linux
	local seed at hold worst
	for seed in $(chaos_seeds); do
		new_round
		RANDOM=$seed
		: $RANDOM
		at=$((RANDOM % 1500))
		hold=$((300 + RANDOM % 1500))
		# The database (and so its WAL) on a small tmpfs of its own: the
		# shims' exit files stay on the state dir's disk.
		MNT=$T/dbfs
		mkdir -p "$MNT" "$STATE"
		mount -t tmpfs -o size=2m,mode=0700 tmpfs "$MNT" || skip "cannot mount a tmpfs here"
		ln -s "$MNT/state.db" "$DB"
		start_daemon
		run_load "$seed"
		sleep "$(ms "$at")"
		probe_start
		dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null || true
		dd if=/dev/zero of="$MNT/filler2" bs=1k 2>/dev/null || true
		sleep "$(ms "$hold")"
		rm -f "$MNT/filler" "$MNT/filler2"
		probe_worst
		wait "$DRIVER" || fail "driver: $(cat "$T/driver.err")"
		echo "# seed $seed: disk full at ${at} ms for ${hold} ms"
		check_round "disk full seed $seed (at ${at} ms for ${hold} ms, worst read ${worst} ms)"
		[ "$worst" -lt 1000 ] || fail "seed $seed: reads waited ${worst} ms during the full disk"
		pid_alive "$DAEMON_PID" || fail "the daemon died"
	done
}

@test "chaos store (c): a subscriber resuming from the last timestamp through daemon SIGKILL and restart: 0 events missed or repeated" {
	local seed at follower missed repeated extra burst pids id
	for seed in $(chaos_seeds); do
		new_round
		RANDOM=$seed
		: $RANDOM
		at=$((RANDOM % 1500))
		start_daemon
		"$PY" "$LOAD_PY" --address "$SOCK" follow --out "$T/followed" --stop-file "$T/stop" \
			2>"$T/follow.err" 3>&- &
		follower=$!
		BG_PIDS+=("$follower")
		# Half the containers killed one by one by the driver, the other
		# half all in the same instant at the end: exits the shims time
		# alike, recorded while other events are.
		run_load "$seed"
		"$PY" "$LOAD_PY" --address "$SOCK" load --bundle "$BUNDLE" --prefix b --count 6 \
			--workers 3 --seed "$seed" --spread 0.7 --out "$T/acks" --no-kill \
			2>>"$T/driver.err" 3>&- &
		burst=$!
		BG_PIDS+=("$burst")
		sleep "$(ms "$at")"
		stop_daemon -KILL
		start_daemon
		wait "$DRIVER" || fail "driver: $(cat "$T/driver.err")"
		wait "$burst" || fail "driver: $(cat "$T/driver.err")"
		pids=$(for id in $(runc_live); do init_pid "$id"; done)
		[ -z "$pids" ] || kill -9 $pids
		# Everything started settles (killed, exited) before the comparison.
		wait_secs 30 started_unsettled || fail "started containers neither listed nor exited"
		touch "$T/stop"
		wait "$follower" || fail "follower: $(cat "$T/follow.err")"
		# The daemon's starts are history, never sent on the API.
		db "SELECT ts || ' ' || type || ' ' || container_id || ' ' || pid || ' ' || status FROM events WHERE type != 'start-daemon' ORDER BY seq" >"$T/table"
		# A blank id prints as two spaces: so does the follower's line.
		missed=$(comm -23 <(sort "$T/table") <(sort -u "$T/followed") | wc -l)
		repeated=$(($(wc -l <"$T/followed") - $(sort -u "$T/followed" | wc -l)))
		extra=$(comm -13 <(sort "$T/table") <(sort -u "$T/followed") | wc -l)
		echo "# figure: resume seed $seed (SIGKILL at ${at} ms): table $(wc -l <"$T/table") events, received $(wc -l <"$T/followed"); missed $missed, repeated $repeated, not in the table $extra" >&3
		if ! cmp -s "$T/table" "$T/followed"; then
			diff "$T/table" "$T/followed" | head -n 20
			fail "seed $seed: the followed stream differs from the table"
		fi
		# And every event's timestamp is an exact resume point.
		run "$PY" "$LOAD_PY" --address "$SOCK" resume
		echo "# figure: resume seed $seed: $(tail -n1 <<<"$output")" >&3
		[ "$status" -eq 0 ] || fail "seed $seed: $output"
	done
}
