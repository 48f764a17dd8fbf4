#!/usr/bin/env bats
# Bad input: duplicate and malformed ids, missing or broken bundles. Each is
# refused with a clear error and leaves nothing behind (SQLite, runc, state dir).

load helpers

setup_file() {
	setup_base_bundle
}

setup() {
	requires_e2e
	setup_common
	start_daemon
	make_bundle good "${SLEEP_ARGS[@]}"
	GOOD=$BUNDLE
	DIRS_BEFORE=$(state_dirs)
}

teardown() {
	teardown_common
}

LONG_ID=$(printf 'a%.0s' {1..200})

# nothing_created: no container row, no runc container, no new state dir.
nothing_created() {
	assert_eq "$(db 'SELECT count(*) FROM containers')" 0 "rows in containers"
	assert_eq "$(db 'SELECT count(*) FROM processes')" 0 "rows in processes"
	assert_eq "$(runc_list | tr '\n' ' ')" "" "runc list"
	assert_eq "$(state_dirs)" "$DIRS_BEFORE" "directories under the state dir"
	[ ! -e "$T/x" ] || fail "$T/x was created (../x escaped the state dir)"
	[ -z "$(pgrep -f "containerd-shim.*$T" || true)" ] || fail "a shim was left running"
}

@test "duplicate id: ALREADY_EXISTS-style error, the first container untouched" {
	run -0 ctr containers start dup "$GOOD"
	pid=$(init_pid dup)
	make_bundle dup2 "${SLEEP_ARGS[@]}"
	run ctr containers start dup "$BUNDLE"
	echo "$output"
	[ "$status" -ne 0 ]
	assert_match "$output" 'already exists'
	assert_contains "$output" dup

	assert_eq "$(ctr_status dup)" running "the first dup"
	assert_eq "$(init_pid dup)" "$pid" "the first dup's init"
	assert_eq "$(db "SELECT count(*) FROM containers WHERE id = 'dup'")" 1 "rows for dup"
	assert_eq "$(db "SELECT bundle FROM containers WHERE id = 'dup'")" "$GOOD" "dup's bundle"
	assert_eq "$(runc_list | tr '\n' ' ')" "dup " "runc list"
}

@test "duplicate id over gRPC: ALREADY_EXISTS" {
	requires grpcio
	run -0 ctr containers start dupg "$GOOD"
	run -1 grpc_call CreateContainer "{\"id\": \"dupg\", \"bundlePath\": \"$GOOD\"}"
	echo "$output"
	assert_match "$output" '^ALREADY_EXISTS: '
}

@test "the id of a stopped container can be used again (as old clients restart)" {
	run -0 ctr containers start again "$GOOD"
	run -0 ctr containers kill --signal 9 again
	wait_exit again 137
	wait_for container_not_listed again
	run -0 ctr containers start again "$GOOD"
	assert_eq "$(ctr_status again)" running "again, second run"
	assert_eq "$(db "SELECT status FROM containers WHERE id = 'again'")" running "again's row"
	# The history keeps both runs.
	assert_eq "$(db "SELECT count(*) FROM events WHERE type = 'start-container' AND container_id = 'again'")" \
		2 "start-container events"
	assert_eq "$(db "SELECT count(*) FROM events WHERE type = 'exit' AND container_id = 'again'")" 1 "exit events"
}

@test "bad id '../x': INVALID_ARGUMENT, nothing created" {
	run ctr containers start ../x "$GOOD"
	echo "$output"
	[ "$status" -ne 0 ]
	assert_match "$output" 'invalid|id'
	nothing_created
}

@test "bad id '' (empty): INVALID_ARGUMENT, nothing created" {
	run ctr containers start "" "$GOOD"
	echo "$output"
	[ "$status" -ne 0 ]
	nothing_created
}

@test "bad id of 200 characters: INVALID_ARGUMENT, nothing created" {
	run ctr containers start "$LONG_ID" "$GOOD"
	echo "$output"
	[ "$status" -ne 0 ]
	assert_match "$output" 'invalid|long|id'
	nothing_created
}

@test "bad ids over gRPC (../x, empty, 200 chars, a/b, .hidden): INVALID_ARGUMENT, nothing created" {
	requires grpcio
	for id in ../x "" "$LONG_ID" a/b .hidden "-x" "a b"; do
		run -1 grpc_call CreateContainer "{\"id\": \"$id\", \"bundlePath\": \"$GOOD\"}"
		echo "id '$id': $output"
		assert_match "$output" '^INVALID_ARGUMENT: '
	done
	nothing_created
}

@test "the longest valid id (128 characters) is accepted" {
	id=$(printf 'b%.0s' {1..128})
	run -0 ctr containers start "$id" "$GOOD"
	assert_eq "$(ctr_status "$id")" running "128-char id"
}

@test "missing bundle: a clear error, nothing left in runc or SQLite" {
	run ctr containers start nob "$T/no/such/bundle"
	echo "$output"
	[ "$status" -ne 0 ]
	assert_contains "$output" "$T/no/such/bundle"
	nothing_created
	assert_eq "$(db "SELECT count(*) FROM events WHERE container_id = 'nob'")" 0 "events for nob"
}

@test "missing bundle over gRPC: an error code and the path in the message" {
	requires grpcio
	run -1 grpc_call CreateContainer "{\"id\": \"nob2\", \"bundlePath\": \"$T/nothing\"}"
	echo "$output"
	assert_match "$output" '^(INVALID_ARGUMENT|NOT_FOUND|FAILED_PRECONDITION): '
	assert_contains "$output" "$T/nothing"
	nothing_created
}

@test "bundle without config.json: a clear error, nothing left" {
	mkdir -p "$T/bundles/empty"
	run ctr containers start noconf "$T/bundles/empty"
	echo "$output"
	[ "$status" -ne 0 ]
	assert_match "$output" 'config.json'
	nothing_created
}

@test "relative bundle path over gRPC: INVALID_ARGUMENT" {
	requires grpcio
	run -1 grpc_call CreateContainer '{"id": "rel", "bundlePath": "bundles/good"}'
	echo "$output"
	assert_match "$output" '^INVALID_ARGUMENT: '
	run -1 grpc_call CreateContainer "{\"id\": \"rel2\", \"bundlePath\": \"$T/bundles/../bundles/good\"}"
	echo "$output"
	assert_match "$output" '^INVALID_ARGUMENT: '
	nothing_created
}

@test "the runtime fails (no such executable): its message comes back, everything undone" {
	make_bundle broken /no/such/binary
	run ctr containers start broken "$BUNDLE"
	echo "$output"
	[ "$status" -ne 0 ]
	assert_match "$output" 'no such file|not found|/no/such/binary'
	assert_eq "$(runc_list | tr '\n' ' ')" "" "runc list"
	wait_for eval '[ -z "$(pgrep -f "containerd-shim.*$T" || true)" ]'
	assert_eq "$(db "SELECT count(*) FROM containers WHERE id = 'broken' AND status IN ('creating', 'running')")" \
		0 "live rows for broken"
	assert_eq "$(db "SELECT count(*) FROM events WHERE container_id = 'broken' AND type = 'start-container'")" \
		0 "start-container for broken"
	# The daemon is fine.
	run -0 ctr containers start notbroken "$GOOD"
	assert_eq "$(ctr_status notbroken)" running "the next container"
}

@test "signal to an unknown container: NOT_FOUND (ctr says no such container)" {
	run ctr containers kill nosuch
	echo "$output"
	[ "$status" -ne 0 ]
	assert_match "$output" 'no such container|not found'
	assert_contains "$output" nosuch
}

@test "signal and state of an unknown container over gRPC: NOT_FOUND" {
	requires grpcio
	run -1 grpc_call Signal '{"id": "nosuch", "pid": "init", "signal": 9}'
	assert_match "$output" '^NOT_FOUND: '
	run -1 grpc_call State '{"id": "nosuch"}'
	assert_match "$output" '^NOT_FOUND: '
}

@test "a stdio path that is not absolute: INVALID_ARGUMENT, nothing created" {
	requires grpcio
	run -1 grpc_call CreateContainer "{\"id\": \"io\", \"bundlePath\": \"$GOOD\", \"stdout\": \"rel/out\"}"
	echo "$output"
	assert_match "$output" '^INVALID_ARGUMENT: '
	nothing_created
}

@test "the daemon survives all of the above" {
	for id in ../x "" "$LONG_ID"; do
		run ctr containers start "$id" "$GOOD"
	done
	run ctr containers start nob "$T/nothing"
	run ctr containers kill nosuch
	pid_alive "$DAEMON_PID"
	run -0 ctr containers start fine "$GOOD"
	assert_eq "$(ctr_status fine)" running "fine"
}
