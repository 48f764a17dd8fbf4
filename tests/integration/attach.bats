#!/usr/bin/env bats
# --attach: ctr relays stdin/stdout/stderr through fifos in a private temp
# dir and exits with the process's status.

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

@test "containers start --attach: cat echoes stdin back, exit 0 at EOF" {
	make_bundle at1 cat
	run -0 ctr containers start --attach at1 "$BUNDLE" <<<$'hello\nworld'
	assert_eq "$output" $'hello\nworld' "output"
	wait_exit at1 0
	wait_for container_not_listed at1
}

@test "containers start --attach: stdout and stderr apart, the exit status is ctr's" {
	make_bundle at2 sh -c 'read line; echo "got $line"; echo oops >&2; exit 5'
	run -5 --separate-stderr ctr containers start --attach at2 "$BUNDLE" <<<"ping"
	assert_eq "$output" "got ping" "stdout"
	assert_eq "$stderr" oops "stderr"
	wait_exit at2 5
}

@test "containers start --attach: 1 MiB through cat arrives intact" {
	head -c 1048576 /dev/urandom | base64 >"$T/in"
	make_bundle at3 cat
	CTR_TIMEOUT=60 ctr containers start --attach at3 "$BUNDLE" <"$T/in" >"$T/out"
	cmp "$T/in" "$T/out"
}

@test "containers exec --attach: cat echoes stdin back; the container runs on" {
	start_container at4 "${SLEEP_ARGS[@]}"
	run -0 ctr containers exec --id at4 --pid echo --attach cat <<<$'one\ntwo'
	assert_eq "$output" $'one\ntwo' "output"
	wait_event exit at4 echo 0
	assert_eq "$(ctr_status at4)" running "container status"
}

@test "containers exec --attach: stderr apart and the status" {
	start_container at5 "${SLEEP_ARGS[@]}"
	run -4 --separate-stderr ctr containers exec --id at5 --pid err --attach \
		sh -c 'cat; echo to-stderr >&2; exit 4' <<<"in"
	assert_eq "$output" in "stdout"
	assert_eq "$stderr" to-stderr "stderr"
}

@test "--attach leaves no fifo or temp dir behind" {
	make_bundle at6 cat
	run -0 ctr containers start --attach at6 "$BUNDLE" <<<"x"
	start_container at7 "${SLEEP_ARGS[@]}"
	run -0 ctr containers exec --id at7 --pid e --attach echo x <<<""

	# The fifo paths ctr gave the daemon are recorded; their dir is gone.
	for p in "$(db "SELECT stdin FROM containers WHERE id = 'at6'")" \
		"$(db "SELECT stdout FROM processes WHERE container_id = 'at7' AND pid = 'e'")"; do
		assert_match "$p" '^/'
		[ ! -e "$p" ] || fail "$p left behind"
		[ ! -e "$(dirname "$p")" ] || fail "$(dirname "$p") left behind"
	done
}

# attach_bg ID ARGS...: ctr containers start --attach in the background
# (stdin a fifo held open), output in $T/ID.out/.err; its pid in $CTR_PID.
attach_bg() {
	local id=$1
	shift
	make_bundle "$id" "$@"
	mkfifo "$T/$id.in"
	"$CTR_BIN" --address "$SOCK" containers start --attach "$id" "$BUNDLE" \
		<"$T/$id.in" >"$T/$id.out" 2>"$T/$id.err" &
	CTR_PID=$!
	exec {HOLD_IN}>"$T/$id.in"
}

@test "start --attach: ^C goes on to the container, which handles it; ctr returns its status" {
	attach_bg at8 sh -c 'trap "echo got INT; exit 3" INT; echo ready; while :; do sleep 0.05; done'
	wait_for file_has "$T/at8.out" ready
	kill -INT "$CTR_PID"
	rc=0
	wait "$CTR_PID" || rc=$?
	exec {HOLD_IN}>&-
	cat "$T/at8.out" "$T/at8.err"
	assert_eq "$rc" 3 "ctr's exit status"
	assert_contains "$(cat "$T/at8.out")" "got INT"
	assert_contains "$(cat "$T/at8.err")" "passed to at8 init"
	wait_exit at8 3
}

@test "start --attach: ^C twice detaches from a container that ignores it, which runs on" {
	attach_bg at9 sh -c 'echo ready; exec sleep 300'
	wait_for file_has "$T/at9.out" ready
	kill -INT "$CTR_PID"
	wait_for file_has "$T/at9.err" "passed to at9 init"
	kill -INT "$CTR_PID"
	rc=0
	wait "$CTR_PID" || rc=$?
	exec {HOLD_IN}>&-
	cat "$T/at9.err"
	assert_eq "$rc" 130 "ctr's exit status"
	assert_contains "$(cat "$T/at9.err")" "detached; at9 init keeps running"
	assert_eq "$(ctr_status at9)" running "container status"
	echo "# the container ignored SIGINT (pid 1), ctr detached, at9 runs on" >&3
}
