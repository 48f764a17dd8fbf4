#!/usr/bin/env bats
# Chaos for AddProcess: the daemon SIGKILLed at a seeded moment of a burst
# of concurrent AddProcess calls on a few containers. After the restart,
# every process that runs inside a container is listed (State) or was
# killed; no exit is invented (no 255 for an exec whose status is known);
# every acknowledged exec is listed, or its exit has its real status; the
# history replays to the tables.
#
# Seeds as in chaos.bats: CHAOS_SEED=N runs seed N alone, CHAOS_SEEDS=K
# seeds 1..K (`make chaos`); `make test` runs a fixed 3.

load helpers

STATE_BIN=$REPO/bin/containerd-state
BURST_PY=$REPO/tests/grpc/exec_burst.py

setup_file() {
	setup_base_bundle
}

setup() {
	requires_e2e
	requires grpcio
	[ -x "$STATE_BIN" ] || skip "$STATE_BIN not built"
	setup_common
}

teardown() {
	exec_chaos_clean
	teardown_common
}

chaos_seeds() {
	if [ -n "${CHAOS_SEED:-}" ]; then
		echo "$CHAOS_SEED"
	elif [ -n "${CHAOS_SEEDS:-}" ]; then
		seq 1 "$CHAOS_SEEDS"
	else
		echo 5 9
	fi
}

exec_chaos_clean() {
	[ -n "${T:-}" ] && [ -d "$RUNC_ROOT" ] || return 0
	local id
	for id in $(runc_list); do
		"$RUNC" --root "$RUNC_ROOT" delete -f "$id" >/dev/null 2>&1 || true
	done
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

# listed_pids ID: the host pids State lists for ID, sorted.
listed_pids() {
	grpc_call State "{\"id\": \"$1\"}" | jq -r '.containers[0].processes[]?.systemPid' | sort -n
}

# inside_pids ID: every process in ID's cgroup, by runc, sorted.
inside_pids() {
	"$RUNC" --root "$RUNC_ROOT" ps --format json "$1" 2>/dev/null | jq -r '.[]' | sort -n
}

# unlisted ID: the pids inside ID that State does not list.
unlisted() {
	comm -23 <(inside_pids "$1") <(listed_pids "$1")
}

# settled IDS...: no row is 'creating' and nothing runs unlisted.
settled() {
	local id
	[ "$(db "SELECT count(*) FROM processes WHERE status = 'creating'")" = 0 ] || return 1
	for id in "$@"; do
		[ -z "$(unlisted "$id")" ] || return 1
	done
}

one_round() {
	local seed=$1 delay_ms out ids=() id k creating n_ack n_err listed=0 exited=0 bad=0 invented pid row
	exec_chaos_clean
	teardown_common >/dev/null
	setup_common
	start_daemon
	RANDOM=$seed
	delay_ms=$((50 + RANDOM % 700))
	for k in 0 1 2; do
		ids+=("$(unique_id "x$k")")
		start_container "${ids[$k]}" "${SLEEP_ARGS[@]}"
	done
	out=$T/burst.out
	timeout -k 5 60 "$PY" "$BURST_PY" --address "$SOCK" --timeout 20 \
		exec --containers "$(IFS=,; echo "${ids[*]}")" --count 45 --threads 8 >"$out" 2>"$T/burst.err" &
	local burst=$!
	BG_PIDS+=("$burst")
	sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
	stop_daemon -KILL
	creating=$(db "SELECT count(*) FROM processes WHERE status = 'creating'")
	wait "$burst" || fail "the burst failed: $(cat "$T/burst.err")"
	n_ack=$(grep -c '^ack' "$out" || true)
	n_err=$(grep -c '^err' "$out" || true)

	start_daemon
	wait_secs 30 settled "${ids[@]}" || {
		for id in "${ids[@]}"; do
			echo "$id: inside $(inside_pids "$id" | tr '\n' ' '); listed $(listed_pids "$id" | tr '\n' ' ')"
		done
		db "SELECT container_id, pid, status FROM processes WHERE status = 'creating'"
		fail "seed $seed: not settled"
	}
	for id in "${ids[@]}"; do
		listed=$((listed + $(listed_pids "$id" | wc -l) - 1))
	done
	invented=$(db "SELECT count(*) FROM events WHERE type = 'exit' AND pid != 'init' AND status = 255")
	# Acknowledged: listed (running) or exited with its real status.
	for k in $(awk '$1 == "ack" { print $3 "/" $4 }' "$out"); do
		id=${k%/*} pid=${k#*/}
		row=$(db "SELECT status || ' ' || coalesce(exit_status, '') FROM processes
			WHERE container_id = '$id' AND pid = '$pid'")
		case $row in
		"running "*) ;;
		"exited "*) exited=$((exited + 1)) ;;
		*) echo "acknowledged $id/$pid: row '$row'"; bad=$((bad + 1)) ;;
		esac
	done
	echo "# figure: seed $seed: SIGKILL after ${delay_ms}ms; $n_ack acked, $n_err failed; $creating 'creating' rows at the crash; after the restart: $listed execs listed, 0 unlisted, $invented invented 255 exits, $bad acked execs missing, $exited exited" >&3
	assert_eq "$invented" 0 "invented 255 exits"
	assert_eq "$bad" 0 "acknowledged execs neither listed nor exited"
	run -0 "$STATE_BIN" --state-dir "$STATE" replay
	run -0 "$STATE_BIN" --state-dir "$STATE" check
}

@test "SIGKILL during a burst of AddProcess: every process inside is listed, no exit invented" {
	local seed
	for seed in $(chaos_seeds); do
		one_round "$seed"
	done
}
