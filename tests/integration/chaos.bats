#!/usr/bin/env bats
# Chaos: the daemon SIGKILLed (or stopped) at a random moment of a burst of
# concurrent creates, shims SIGKILLed, containers killed while nobody
# watches. After a restart on the same state dir, what the client saw
# acknowledged is there, nothing runs unlisted, nothing half-made is left,
# and every exit is in the history with its real status.
#
# The moments are seeded: CHAOS_SEED=N runs seed N alone; CHAOS_SEEDS=K runs
# seeds 1..K (`make chaos`, K=20 by default); `make test` runs a fixed few.

load helpers

CHAOS_PY=$REPO/tests/grpc/chaos.py
STATE_BIN=$REPO/bin/containerd-state

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
	chaos_clean
	teardown_common
}

# chaos_seeds: the seeds this run covers.
chaos_seeds() {
	if [ -n "${CHAOS_SEED:-}" ]; then
		echo "$CHAOS_SEED"
	elif [ -n "${CHAOS_SEEDS:-}" ]; then
		seq 1 "$CHAOS_SEEDS"
	else
		echo 3 11
	fi
}

# chaos_clean: force-delete this root's containers in parallel (teardown_common
# does it one by one, slow for a hundred).
chaos_clean() {
	[ -n "${T:-}" ] && [ -d "$RUNC_ROOT" ] || return 0
	local id pids=()
	for id in $(runc_list); do
		"$RUNC" --root "$RUNC_ROOT" delete -f "$id" >/dev/null 2>&1 &
		pids+=($!)
	done
	# By pid: a bare `wait` would wait for the daemon too.
	[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}" 2>/dev/null || true
}

# new_round: a fresh temp root for one seed (the previous one removed).
new_round() {
	chaos_clean
	teardown_common >/dev/null
	setup_common
	start_daemon "$@"
	make_bundle chaos "${SLEEP_ARGS[@]}"
}

# acked FILE WHAT: the ids of the calls acknowledged in the driver's FILE.
acked() {
	awk -v w="$2" '$1 == "ack" && $2 == w { print $3 }' "$1" | sort -u
}

# state_ids: the containers State lists, sorted.
state_ids() {
	grpc_call State '{}' | jq -r '.containers[]?.id' | sort
}

# runc_live_ids: what runc runs (or has created) under this root, sorted.
runc_live_ids() {
	"$RUNC" --root "$RUNC_ROOT" list -f json 2>/dev/null |
		jq -r '.[]? | select(.status == "running" or .status == "created" or .status == "paused") | .id' | sort
}

# shim_ids: the --id of every shim alive for this state dir, sorted.
shim_ids() {
	local p
	for p in $(pgrep -f "containerd-shim.*--dir $STATE/" 2>/dev/null); do
		tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | awk 'prev == "--id" { print; exit } { prev = $0 }'
	done | sort
}

# wait_secs SECONDS CMD...: like wait_for, but bounded by the clock (each
# try of a slow CMD costs more than wait_for's 0.1 s tick).
wait_secs() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# settled: runc, the shims and State agree; no row is still 'creating'.
settled() {
	local s r
	s=$(state_ids) || return 1
	r=$(runc_live_ids)
	[ "$s" = "$r" ] || return 1
	[ "$(shim_ids)" = "$s" ] || return 1
	[ "$(db "SELECT count(*) FROM containers WHERE status = 'creating'")" = 0 ]
}

# explain_unsettled: what disagrees, for a failure message.
explain_unsettled() {
	echo "state: $(state_ids | tr '\n' ' ')"
	echo "runc:  $(runc_live_ids | tr '\n' ' ')"
	echo "shims: $(shim_ids | tr '\n' ' ')"
	echo "creating rows: $(db "SELECT id FROM containers WHERE status = 'creating'" | tr '\n' ' ')"
	"$RUNC" --root "$RUNC_ROOT" list 2>&1 | head -n 20
}

# assert_consistent ACKS KILLED: after a restart, the model agrees with the
# world: each acknowledged create is running and listed unless it is one of
# KILLED (killed while the daemon was down: exit 137 recorded, not listed);
# nothing runs unlisted; no half-made container is left; check passes.
assert_consistent() {
	local acks=$1 killed=$2 id ids

	wait_secs 30 settled || {
		explain_unsettled
		return 1
	}
	ids=$(state_ids)
	for id in $(acked "$acks" create); do
		if grep -qxF -- "$id" <<<"$killed"; then
			wait_exit "$id" 137
			! grep -qxF -- "$id" <<<"$ids" || fail "$id was killed but is listed"
			continue
		fi
		grep -qxF -- "$id" <<<"$ids" || fail "acknowledged $id is not listed by State"
		assert_eq "$(db "SELECT status FROM containers WHERE id = '$id'")" running "$id's row"
		assert_eq "$(runc_status "$id")" running "$id in runc"
	done
	# Not acknowledged: either it is there and running (the reply was lost
	# with the daemon), or nothing of it is left: no row, no files.
	for id in $(awk '$1 == "err" && $2 == "create" { print $3 }' "$acks" | sort -u); do
		if grep -qxF -- "$id" <<<"$ids"; then
			assert_eq "$(db "SELECT status FROM containers WHERE id = '$id'")" running "unacked $id's row"
			continue
		fi
		assert_eq "$(db "SELECT count(*) FROM containers WHERE id = '$id'")" 0 "rows of half-made $id"
		assert_eq "$(db "SELECT count(*) FROM events WHERE container_id = '$id'")" 0 "events of half-made $id"
		[ ! -e "$CDIR/$id" ] || fail "the state dir of half-made $id is left: $(find "$CDIR/$id")"
	done
	# Every state dir belongs to a listed container.
	for id in $(find "$CDIR" -mindepth 1 -maxdepth 1 -type d -printf '%f\n'); do
		grep -qxF -- "$id" <<<"$ids" || fail "state dir $CDIR/$id of unlisted $id"
	done
	run "$STATE_BIN" --db "$DB" check
	echo "$output"
	[ "$status" -eq 0 ] || fail "containerd-state check: $output"
	assert_eq "$(db 'PRAGMA integrity_check')" ok "integrity_check"
	run "$STATE_BIN" --db "$DB" replay
	[ "$status" -eq 0 ] || fail "containerd-state replay: $output"
}

# one_kill_round SEED: 100 concurrent creates, the daemon SIGKILLed at a
# seeded moment; a few acknowledged containers killed while it is down.
one_kill_round() {
	local seed=$1 delay_ms driver acks id pid killed=""

	RANDOM=$seed
	delay_ms=$((200 + RANDOM % 2500))
	echo "# seed $seed: SIGKILL after ${delay_ms}ms"
	new_round
	acks=$T/acks
	"$PY" "$CHAOS_PY" --address "$SOCK" create --bundle "$BUNDLE" --count 100 \
		--threads 20 >"$acks" 2>"$T/driver.err" 3>&- &
	driver=$!
	BG_PIDS+=("$driver")
	sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
	stop_daemon -KILL
	wait "$driver" || fail "driver: $(cat "$T/driver.err")"
	echo "# acked $(acked "$acks" create | wc -l) of 100"

	# While the daemon is down, kill up to 3 acknowledged containers.
	for id in $(acked "$acks" create | shuf -n 3 --random-source=<(yes "$seed")); do
		pid=$(init_pid "$id")
		[ -n "$pid" ] && [ "$pid" != null ] && [ "$pid" -gt 0 ] || continue
		kill -9 "$pid"
		wait_for pid_gone "$pid"
		killed+="$id"$'\n'
	done

	start_daemon
	assert_consistent "$acks" "$killed"
	# The history says the daemon restarted after those exits were recorded.
	[ "$(db "SELECT count(*) FROM events WHERE type = 'start-daemon'")" -ge 2 ] || fail "no start-daemon events"
}

@test "chaos: SIGKILL during 100 concurrent creates; acked ones run and are listed, nothing unlisted, exits while down recorded 137" {
	local seed
	for seed in $(chaos_seeds); do
		one_kill_round "$seed"
	done
}

# shim_of ID: the pid of ID's init shim, as recorded.
shim_of() {
	db "SELECT shim_pid FROM processes WHERE container_id = '$1' AND pid = 'init'"
}

@test "chaos: shims SIGKILLed while the daemon is up and down; their processes killed (137, said why); 255 only when the status is unknown, and said why" {
	new_round
	local k
	for k in 1 2 3 4; do
		make_bundle "s$k" "${SLEEP_ARGS[@]}"
		run -0 ctr containers start "s$k" "$BUNDLE"
	done
	for k in 1 2 3 4; do wait_for container_running "s$k"; done
	s2_init=$(init_pid s2)
	s3_init=$(init_pid s3)

	# Up: s1's shim dies. Its process lost its stdio and its supervisor:
	# as the 2017 daemon did, the daemon kills it (through the runtime) and
	# records 137, saying why.
	s1_init=$(init_pid s1)
	kill -9 "$(shim_of s1)"
	wait_for file_has "$T/daemon.log" "container s1 process init: its shim was killed (signal 9) while the process ran: killing the process"
	wait_exit s1 137
	wait_for container_not_listed s1
	wait_for pid_gone "$s1_init"

	stop_daemon -KILL
	# Down: s2's shim dies (its process runs on); s3's shim and process both.
	kill -9 "$(shim_of s2)"
	kill -9 "$(shim_of s3)"
	kill -9 "$s3_init"
	wait_for pid_gone "$s3_init"
	start_daemon

	# s3: nothing left to say how it ended: 255, explained.
	wait_exit s3 255
	assert_contains "$(cat "$T/daemon.log")" "container s3 process init: exit status 255: neither its shim nor an exit record"
	wait_for container_not_listed s3
	# s2 ran on without a shim: killed at the restart, as the 2017 daemon's
	# restore did (137, said why).
	wait_exit s2 137
	assert_contains "$(cat "$T/daemon.log")" "container s2 process init: its shim died while the daemon was down and the process runs without it: killing it"
	wait_for pid_gone "$s2_init"
	wait_for container_not_listed s2
	assert_eq "$(ctr_status s4)" running "s4"
	# Each exit says why in the history itself (events.note).
	assert_contains "$(db "SELECT note FROM event_history WHERE type = 'exit' AND container_id = 's3'")" "neither its shim nor an exit record"
	assert_contains "$(db "SELECT note FROM event_history WHERE type = 'exit' AND container_id = 's2'")" "its shim died while the daemon was down: the process was killed with it"
	assert_contains "$(db "SELECT note FROM event_history WHERE type = 'exit' AND container_id = 's1'")" "its shim was killed: the process was killed with it"
	# No other status was made up on the way.
	assert_eq "$(db "SELECT count(*) FROM events WHERE type = 'exit' AND status = 255")" 1 "255 exits"
	assert_eq "$(event_count exit s4)" 0 "s4's exits"
	wait_secs 20 settled || {
		explain_unsettled
		fail "not settled"
	}
	run "$STATE_BIN" --db "$DB" check
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "chaos: SIGTERM and restart during a create/kill load; nothing acknowledged is lost" {
	local seed delay_ms acks driver id
	seed=${CHAOS_SEED:-5}
	RANDOM=$seed
	delay_ms=$((1000 + RANDOM % 2000))
	echo "# seed $seed: SIGTERM after ${delay_ms}ms"
	new_round
	acks=$T/acks
	"$PY" "$CHAOS_PY" --address "$SOCK" load --bundle "$BUNDLE" --seconds 6 --threads 4 \
		>"$acks" 2>"$T/driver.err" 3>&- &
	driver=$!
	BG_PIDS+=("$driver")
	sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
	stop_daemon -TERM
	assert_eq "$DAEMON_STATUS" 0 "daemon exit status after SIGTERM"
	start_daemon
	wait "$driver" || fail "driver: $(cat "$T/driver.err")"
	echo "# acked $(acked "$acks" create | wc -l) creates, $(acked "$acks" kill | wc -l) kills"
	[ "$(acked "$acks" create | wc -l)" -gt 0 ] || fail "no create was acknowledged"

	# Every acknowledged kill: its exit, 137, recorded.
	for id in $(acked "$acks" kill); do
		wait_exit "$id" 137
	done
	# Every acknowledged create: its row, and it runs or its exit is there.
	for id in $(acked "$acks" create); do
		assert_eq "$(db "SELECT count(*) FROM events WHERE type = 'start-container' AND container_id = '$id'")" 1 "start-container of $id"
		if ! has_event exit "$id" init 137; then
			assert_eq "$(ctr_status "$id")" running "acknowledged $id, never killed"
		fi
	done
	wait_secs 30 settled || {
		explain_unsettled
		fail "not settled"
	}
	run "$STATE_BIN" --db "$DB" check
	echo "$output"
	[ "$status" -eq 0 ]
}
