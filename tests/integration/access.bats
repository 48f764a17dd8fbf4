#!/usr/bin/env bats
# Who may talk to the daemon: the socket's and the state dir's modes, peer
# credentials (root, or the --group; anyone else gets PERMISSION_DENIED and
# a log line), and the socket path itself (a stale socket is replaced, a
# live one or a file that is no socket makes the daemon refuse to start).
#
# The other users (nobody, 65534) must reach the socket, so the state dir
# lives under a directory of its own in /tmp that they may traverse: the
# test roots are 0700.

load helpers

setup() {
	requires root daemon shim grpcio
	requires_tool setpriv util-linux
	setup_common
	A=$(mktemp -d /tmp/ctrd-access.XXXXXX)
	chmod 0711 "$A"
	STATE=$A/state
	SOCK=$STATE/containerd.sock
	DB=$STATE/state.db
	# Where call.py, run as nobody, generates its protobuf modules.
	PBDIR=$A/pb
	mkdir -m 1777 "$PBDIR"
}

teardown() {
	teardown_common
	[ -n "${A:-}" ] && rm -rf "$A"
}

# as_nobody CMD...: CMD as uid and gid 65534, no other group.
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# call_as SETPRIV-ARGS... -- METHOD: call.py as that user; "CODE: msg" on error.
call_as() {
	local a=()
	while [ "$1" != -- ]; do
		a+=("$1")
		shift
	done
	shift
	timeout -k 5 30 setpriv "${a[@]}" env TMPDIR="$PBDIR" CTRD_PB_DIR="$PBDIR" \
		"$PY" "$GRPC_CALL" --address "$SOCK" "$@"
}

@test "the socket is 0660, the state dir 0711 (not world-writable), both root's" {
	start_daemon
	assert_eq "$(stat -c %a "$SOCK")" 660 "socket mode"
	assert_eq "$(stat -c %u "$SOCK")" 0 "socket owner"
	assert_eq "$(stat -c %a "$STATE")" 711 "state dir mode"
	assert_eq "$(stat -c %u "$STATE")" 0 "state dir owner"
	assert_eq "$(stat -c %a "$DB")" 600 "state.db mode"
}

@test "without --group, another user cannot even connect (the socket is 0660)" {
	start_daemon
	run as_nobody "$PY" -S -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])' "$SOCK"
	echo "$output"
	[ "$status" -ne 0 ]
	assert_match "$output" 'permission denied'
	run -0 grpc_call GetServerVersion
}

@test "a peer that is not root nor in --group gets PERMISSION_DENIED and a log line" {
	start_daemon --group 54321
	# As if the admin had opened the socket to all: the daemon still checks.
	chmod 0666 "$SOCK"
	run call_as --reuid=65534 --regid=65534 --clear-groups -- GetServerVersion
	echo "$output"
	[ "$status" -eq 1 ] || fail "status $status"
	assert_match "$output" '^PERMISSION_DENIED: .*65534.*--group'
	run call_as --reuid=65534 --regid=65534 --groups=54322 -- State
	echo "$output"
	assert_match "$output" '^PERMISSION_DENIED: '
	wait_for grep -q 'refused a connection from uid 65534 gid 65534' "$T/daemon.log"
	# The daemon closes such a connection after a while, and serves root.
	run -0 grpc_call GetServerVersion
	pid_alive "$DAEMON_PID"
}

@test "a member of --group may use it (primary or supplementary group)" {
	start_daemon --group 54321
	assert_eq "$(stat -c %g "$SOCK")" 54321 "socket group"
	assert_eq "$(stat -c %a "$SOCK")" 660 "socket mode"
	run call_as --reuid=65534 --regid=65534 --groups=54321 -- GetServerVersion
	echo "$output"
	[ "$status" -eq 0 ] || fail "a supplementary member was refused: $output"
	assert_contains "$output" major
	run call_as --reuid=65534 --regid=54321 --clear-groups -- GetServerVersion
	echo "$output"
	[ "$status" -eq 0 ] || fail "a primary member was refused: $output"
	# And not one that left the group: a fresh connection, checked again.
	run call_as --reuid=65534 --regid=65534 --clear-groups -- GetServerVersion
	[ "$status" -ne 0 ]
}

@test "a stale socket file (daemon killed) is replaced at the next start" {
	start_daemon
	stop_daemon -KILL
	[ -S "$SOCK" ] || fail "the killed daemon left no socket to test with"
	start_daemon
	run -0 grpc_call GetServerVersion
}

@test "a live socket: a second daemon refuses to start, with a clear message; the first is fine" {
	start_daemon
	first=$DAEMON_PID
	# Same socket, another state dir; then the same state dir too.
	run timeout 10 "$CONTAINERD" --state-dir "$A/state2" --listen "$SOCK" --shim "$SHIM"
	echo "$output"
	[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "status $status"
	assert_contains "$output" "another daemon is already listening on $SOCK"
	# The same state dir: its lock answers first (layout.bats tests it).
	run timeout 10 "$CONTAINERD" --state-dir "$STATE" --listen "$SOCK" --shim "$SHIM"
	echo "$output"
	[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "status $status"
	assert_contains "$output" "another containerd (pid $first) is using the state dir $STATE"
	pid_alive "$first"
	[ -S "$SOCK" ] || fail "the refused daemon removed the live socket"
	run -0 grpc_call GetServerVersion
}

@test "--listen at a file that is not a socket: refused, the file untouched" {
	mkdir -p "$STATE"
	echo precious >"$A/file"
	run timeout 10 "$CONTAINERD" --state-dir "$STATE" --listen "$A/file" --shim "$SHIM"
	echo "$output"
	[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "status $status"
	assert_contains "$output" "not a socket"
	assert_eq "$(cat "$A/file")" precious "the file"
}
