#!/usr/bin/env bats
# Reusing an id: the init's exit event goes out only once the container is
# gone from the runtime and from State, so a client that saw it can create
# the same id at once (Docker's restart does exactly that); State and
# Create always agree whether an id is taken; a daemon that dies between
# the exit and the runtime's delete finishes both at its next start and
# records the exit once.

load helpers

setup_file() {
	setup_base_bundle
}

setup() {
	requires_e2e
	setup_common
}

teardown() {
	# A wrapper still hung in its verb (it is nobody's child any more).
	[ -f "${T:-/nonexistent}/hung.pid" ] && kill -9 "$(cat "$T/hung.pid")" 2>/dev/null
	teardown_common
}

# make_hanging_runc: $T/hang-runc, runc except that the verb named in
# $T/hang-verb (while that file is there) writes its pid to $T/hung.pid and
# waits until the file is removed, then goes on as runc.
make_hanging_runc() {
	HANG_RUNC=$T/hang-runc
	cat >"$HANG_RUNC" <<EOF
#!/bin/bash
runc=$(command -v "$RUNC")
hangfile=$T/hang-verb
hungpid=$T/hung.pid
EOF
	cat >>"$HANG_RUNC" <<'EOF'
args=("$@")
verb=
for ((x = 0; x < ${#args[@]}; x++)); do
	case ${args[x]} in
	--log | --log-format | --root | --criu) x=$((x + 1)) ;;
	-*) ;;
	*) verb=${args[x]}; break ;;
	esac
done
if [ -n "$verb" ] && [ -e "$hangfile" ] && [ "$(cat "$hangfile" 2>/dev/null)" = "$verb" ]; then
	echo $$ >"$hungpid"
	while [ -e "$hangfile" ]; do sleep 0.02; done
fi
exec "$runc" "$@"
EOF
	chmod +x "$HANG_RUNC"
}

# state_lists ID: State (by id) lists ID.
state_lists() {
	ctr containers state "$1" >/dev/null 2>&1
}

@test "an id is free the moment its exit event comes: 25 rounds of exit -> create again, never ALREADY_EXISTS; State agrees" {
	requires grpcio
	start_daemon
	make_bundle reuse sh -c 'exit 3'
	# REUSE_ROUNDS: fewer rounds for a quick run (each is a create and a delete).
	rounds=${REUSE_ROUNDS:-25}
	run timeout -k 5 100 "$PY" "$REPO/tests/grpc/reuse.py" --address "$SOCK" \
		--bundle "$BUNDLE" --id reuse --count "$rounds" --runc-root "$RUNC_ROOT"
	echo "$output"
	grep '^figure:' <<<"$output" | sed 's/^figure:/# figure:/' >&3
	[ "$status" -eq 0 ] || fail "reuse.py failed ($status)"
	assert_eq "$(event_count exit reuse init)" "$rounds" "exit events of reuse"
	assert_eq "$(event_count start-container reuse)" "$rounds" "start-container events of reuse"
	[ -z "$(runc_list)" ] || fail "left in runc: $(runc_list)"
}

@test "while the runtime deletes an exited container: State lists it stopped, Create refuses its id, no exit yet; then both free it with the exit" {
	make_hanging_runc
	start_daemon --runtime "$HANG_RUNC"
	start_container hd "${SLEEP_ARGS[@]}"
	echo delete >"$T/hang-verb"
	run -0 ctr containers kill --signal 9 hd
	wait_for test -s "$T/hung.pid"

	assert_eq "$(ctr_state_status hd)" stopped "State's status while deleting"
	assert_eq "$(event_count exit hd)" 0 "exit events before the delete ended"
	run ctr containers start hd "$BUNDLE"
	[ "$status" -ne 0 ] || fail "Create of hd succeeded while it was being deleted"
	assert_match "$output" 'already exists'
	runc_list | grep -qx hd || fail "hd is not in runc while its delete hangs"

	t0=$(date +%s%N)
	rm -f "$T/hang-verb"
	wait_exit hd 137
	t1=$(date +%s%N)
	# The exit row and the model's forgetting of hd are one iteration.
	run state_lists hd
	[ "$status" -ne 0 ] || fail "State lists hd after its exit was recorded"
	runc_list | grep -qx hd && fail "hd still in runc after its exit was recorded"
	echo "# figure: delete released -> exit recorded within $(((t1 - t0) / 1000000)) ms; State and runc no longer have hd" >&3
	rm -f "$T/hung.pid"
	start_container hd "${SLEEP_ARGS[@]}"
}

@test "while a create runs: State lists the id 'creating' and Create refuses it" {
	make_hanging_runc
	start_daemon --runtime "$HANG_RUNC"
	echo start >"$T/hang-verb"
	make_bundle hc "${SLEEP_ARGS[@]}"
	ctr containers start hc "$BUNDLE" >"$T/create.out" 2>&1 &
	BG_PIDS+=($!)
	wait_for test -s "$T/hung.pid"

	assert_eq "$(ctr_state_status hc)" creating "State's status while creating"
	run ctr containers start hc "$BUNDLE"
	[ "$status" -ne 0 ] || fail "a second Create of hc succeeded"
	assert_match "$output" 'already exists'

	rm -f "$T/hang-verb" "$T/hung.pid"
	wait_for container_running hc
	assert_eq "$(ctr_state_status hc)" running "State's status once started"
}

@test "daemon killed while the runtime deletes an exited container: the next start deletes it and records the exit once" {
	make_hanging_runc
	start_daemon --runtime "$HANG_RUNC"
	start_container hk "${SLEEP_ARGS[@]}"
	echo delete >"$T/hang-verb"
	run -0 ctr containers kill --signal 9 hk
	wait_for test -s "$T/hung.pid"
	assert_eq "$(event_count exit hk)" 0 "exit events before the delete ended"

	# The daemon dies, and its delete with it: nothing of the exit is
	# recorded but the shim's exit file.
	stop_daemon -9
	kill -9 "$(cat "$T/hung.pid")"
	rm -f "$T/hang-verb" "$T/hung.pid"
	runc_list | grep -qx hk || fail "hk left runc although its delete was killed"

	start_daemon --runtime "$HANG_RUNC"
	wait_exit hk 137
	wait_for eval '! runc_list | grep -qx hk'
	run state_lists hk
	[ "$status" -ne 0 ] || fail "State lists hk after its exit was recorded"
	assert_eq "$(event_count exit hk init)" 1 "exit events of hk"
	assert_eq "$(db "SELECT status FROM containers WHERE id = 'hk'")" stopped "hk's row"
	wait_for eval '[ ! -e "$CDIR/hk" ]'
	echo "# figure: after the restart: 1 exit event (137), hk gone from runc, State and $CDIR" >&3
}
