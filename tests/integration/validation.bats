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

# grpc_cases: each line of stdin "WANT METHOD JSON" is one call over grpcio,
# all in one python process; prints the cases that did not get WANT and
# fails if there is any.
grpc_cases() {
	timeout -k 5 60 "$PY" -c '
import sys
sys.path.insert(0, sys.argv[1])
import grpc
from google.protobuf import json_format
import ctrdtest
cl = ctrdtest.Client(sys.argv[2])
bad = 0
for line in sys.stdin:
    if not line.strip():
        continue
    want, method, js = line.split(None, 2)
    req = json_format.Parse(js, cl.request(method))
    try:
        r = cl.call(method, req, timeout=20)
        if ctrdtest.API_METHODS[method][2]:
            list(r)
        got, msg = "OK", ""
    except grpc.RpcError as e:
        got, msg = e.code().name, e.details()
    print("%s <- %s %s: %s" % (got, method, js.strip()[:160], msg[:200]))
    if got != want or (got != "OK" and not msg):
        print("  ^ want %s" % want)
        bad += 1
sys.exit(1 if bad else 0)
' "$REPO/tests/grpc" "$SOCK"
}

@test "stdio paths: relative, with .., overlong, with a control character: INVALID_ARGUMENT, nothing created" {
	requires grpcio
	long=/$(printf 'p%.0s' {1..4100})
	run grpc_cases <<-EOF
	INVALID_ARGUMENT CreateContainer {"id": "io1", "bundlePath": "$GOOD", "stdin": "rel/in"}
	INVALID_ARGUMENT CreateContainer {"id": "io2", "bundlePath": "$GOOD", "stderr": "err"}
	INVALID_ARGUMENT CreateContainer {"id": "io3", "bundlePath": "$GOOD", "stdout": "$T/../../etc/x"}
	INVALID_ARGUMENT CreateContainer {"id": "io4", "bundlePath": "$GOOD", "stdout": "/tmp/.."}
	INVALID_ARGUMENT CreateContainer {"id": "io5", "bundlePath": "$GOOD", "stderr": "$long"}
	INVALID_ARGUMENT CreateContainer {"id": "io6", "bundlePath": "$GOOD", "stdout": "/tmp/a\nb"}
	INVALID_ARGUMENT CreateContainer {"id": "io7", "bundlePath": "$long"}
	INVALID_ARGUMENT CreateContainer {"id": "io8", "bundlePath": "$GOOD/.."}
	INVALID_ARGUMENT CreateContainer {"id": "io9", "bundlePath": ""}
	EOF
	echo "$output"
	[ "$status" -eq 0 ] || fail "some cases were not refused"
	nothing_created
}

@test "checkpoint names and dirs: with /, .., relative, overlong: INVALID_ARGUMENT, nothing created" {
	requires grpcio
	long=/$(printf 'c%.0s' {1..4100})
	run grpc_cases <<-EOF
	INVALID_ARGUMENT CreateContainer {"id": "ck1", "bundlePath": "$GOOD", "checkpoint": "a/b"}
	INVALID_ARGUMENT CreateContainer {"id": "ck2", "bundlePath": "$GOOD", "checkpoint": ".."}
	INVALID_ARGUMENT CreateContainer {"id": "ck3", "bundlePath": "$GOOD", "checkpoint": "cp", "checkpointDir": "rel"}
	INVALID_ARGUMENT CreateContainer {"id": "ck4", "bundlePath": "$GOOD", "checkpoint": "cp", "checkpointDir": "$T/../x"}
	INVALID_ARGUMENT CreateContainer {"id": "ck5", "bundlePath": "$GOOD", "checkpoint": "cp", "checkpointDir": "$long"}
	INVALID_ARGUMENT CreateCheckpoint {"id": "nosuch", "checkpoint": {"name": "../x"}}
	INVALID_ARGUMENT CreateCheckpoint {"id": "nosuch", "checkpoint": {"name": "a/b"}}
	INVALID_ARGUMENT CreateCheckpoint {"id": "nosuch", "checkpoint": {"name": "cp"}, "checkpointDir": "rel"}
	INVALID_ARGUMENT DeleteCheckpoint {"id": "nosuch", "name": "../../x"}
	INVALID_ARGUMENT DeleteCheckpoint {"id": "nosuch", "name": "cp", "checkpointDir": "/a/../b"}
	INVALID_ARGUMENT ListCheckpoint {"id": "nosuch", "checkpointDir": "rel/dir"}
	INVALID_ARGUMENT ListCheckpoint {"id": "../x"}
	EOF
	echo "$output"
	[ "$status" -eq 0 ] || fail "some cases were not refused"
	nothing_created
}

@test "ids everywhere (Signal, State, Stats, Update*, AddProcess, Events): / .. overlong are INVALID_ARGUMENT" {
	requires grpcio
	run grpc_cases <<-EOF
	INVALID_ARGUMENT Signal {"id": "../x", "pid": "init", "signal": 9}
	INVALID_ARGUMENT Stats {"id": "a/b"}
	INVALID_ARGUMENT UpdateContainer {"id": "..", "status": "paused"}
	INVALID_ARGUMENT UpdateProcess {"id": "a/../b", "pid": "init", "closeStdin": true}
	INVALID_ARGUMENT AddProcess {"id": "../x", "pid": "e1", "args": ["true"]}
	INVALID_ARGUMENT Events {"id": "a/b"}
	INVALID_ARGUMENT State {"id": "$LONG_ID"}
	INVALID_ARGUMENT State {"id": "../x"}
	NOT_FOUND State {"id": "nosuch"}
	EOF
	echo "$output"
	[ "$status" -eq 0 ] || fail "some cases were not refused"
	nothing_created
}

@test "AddProcess: bad pid names, relative stdio or cwd: INVALID_ARGUMENT, no process added" {
	requires grpcio
	run -0 ctr containers start ap "$GOOD"
	long=/$(printf 'x%.0s' {1..4100})
	run grpc_cases <<-EOF
	INVALID_ARGUMENT AddProcess {"id": "ap", "pid": "../x", "args": ["true"]}
	INVALID_ARGUMENT AddProcess {"id": "ap", "pid": "a/b", "args": ["true"]}
	INVALID_ARGUMENT AddProcess {"id": "ap", "pid": "", "args": ["true"]}
	INVALID_ARGUMENT AddProcess {"id": "ap", "pid": "$LONG_ID", "args": ["true"]}
	INVALID_ARGUMENT AddProcess {"id": "ap", "pid": "init", "args": ["true"]}
	INVALID_ARGUMENT AddProcess {"id": "ap", "pid": "e1", "args": []}
	INVALID_ARGUMENT AddProcess {"id": "ap", "pid": "e2", "args": ["true"], "stdout": "rel"}
	INVALID_ARGUMENT AddProcess {"id": "ap", "pid": "e3", "args": ["true"], "stdin": "/a/../b"}
	INVALID_ARGUMENT AddProcess {"id": "ap", "pid": "e4", "args": ["true"], "stderr": "$long"}
	INVALID_ARGUMENT AddProcess {"id": "ap", "pid": "e5", "args": ["true"], "cwd": "tmp"}
	INVALID_ARGUMENT AddProcess {"id": "ap", "pid": "e6", "args": ["true"], "cwd": "/../.."}
	EOF
	echo "$output"
	[ "$status" -eq 0 ] || fail "some cases were not refused"
	assert_eq "$(db "SELECT count(*) FROM processes WHERE container_id = 'ap' AND pid != 'init'")" 0 \
		"exec rows"
	[ ! -e "$T/x" ] || fail "../x escaped"
}

@test "an exec stays in its container: same pid, mount, net, ipc, uts namespaces and root as the init" {
	requires grpcio
	run -0 ctr containers start nsc "$GOOD"
	init=$(init_pid nsc)
	# As root, with every capability it names and the host's PATH: still
	# the container's, since the daemon writes process.json itself.
	run -0 grpc_call AddProcess '{"id": "nsc", "pid": "e1", "args": ["sleep", "1000"], "cwd": "/",
		"env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LD_PRELOAD=/nonexistent.so"],
		"user": {"uid": 0, "gid": 0, "additionalGids": [0]}, "noNewPrivileges": false}'
	echo "$output"
	pid=$(jq -r .systemPid <<<"$output")
	[ "${pid:-0}" -gt 0 ] || fail "no systemPid"
	for ns in pid mnt net ipc uts; do
		assert_eq "$(readlink "/proc/$pid/ns/$ns")" "$(readlink "/proc/$init/ns/$ns")" "$ns namespace"
		[ "$(readlink "/proc/$pid/ns/$ns")" != "$(readlink "/proc/$$/ns/$ns")" ] ||
			fail "the exec shares the host's $ns namespace"
	done
	assert_eq "$(stat -L -c %d:%i "/proc/$pid/root/")" "$(stat -L -c %d:%i "/proc/$init/root/")" "root"
	# Its pid as the container sees it is not 1 and not its host pid.
	nspid=$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")
	[ "$nspid" != "$pid" ] && [ "$nspid" -gt 1 ] || fail "NSpid $nspid (host pid $pid)"
}

@test "the 2017 daemon's error texts that clients match: container not found, process not found for container, container already exists" {
	requires_e2e
	requires grpcio
	start_container known "${SLEEP_ARGS[@]}"
	run -1 grpc_call Signal '{"id": "nosuch", "pid": "init", "signal": 9}'
	echo "# figure: unknown container: $output" >&3
	assert_match "$output" '^NOT_FOUND: containerd: container not found'
	run -1 grpc_call Signal '{"id": "known", "pid": "nosuchpid", "signal": 9}'
	echo "# figure: unknown process: $output" >&3
	assert_match "$output" '^NOT_FOUND: containerd: process not found for container'
	run -1 grpc_call CreateContainer "{\"id\": \"known\", \"bundlePath\": \"$BUNDLE\"}"
	echo "# figure: id in use: $output" >&3
	assert_match "$output" '^ALREADY_EXISTS: containerd: container already exists'
	assert_eq "$(ctr_status known)" running "known"
}

# big_ints_config FILE: FILE's config.json as Docker 17.03 and Go write
# what the OCI spec makes uint64 (runc itself runs it): swappiness and
# RLIMIT_CORE at 18446744073709551615, an extension holding numbers beyond
# int64 and double, "\u0000", a lone surrogate, an invalid UTF-8 byte, and
# text after the object (runc's json.Decoder stops before it).
big_ints_config() {
	"$PY" - "$1" <<'PYEOF'
import json, sys
path = sys.argv[1]
c = json.load(open(path))
c["process"]["rlimits"] = [r for r in c["process"].get("rlimits", []) if r["type"] != "RLIMIT_CORE"]
c["process"]["rlimits"].append({"type": "RLIMIT_CORE", "hard": "@MAX@", "soft": "@MAX@"})
c["linux"].setdefault("resources", {})["memory"] = {"swappiness": "@MAX@"}
c["x-extension"] = {"big": "@BIG@", "neg": "@NEG@", "huge": "@HUGE@", "s": "@STR@"}
t = json.dumps(c, indent=1)
for k, v in (("@MAX@", "18446744073709551615"), ("@BIG@", "123456789012345678901234567890"),
             ("@NEG@", "-99999999999999999999"), ("@HUGE@", "1e400"),
             ("@STR@", '"\\u0000 \\ud800 \xff"')):
    t = t.replace('"%s"' % k, v)
open(path, "wb").write(t.encode("utf-8", "surrogateescape").replace(b"\xc3\xbf", b"\xff") +
                       b"\ntrailing text {")
PYEOF
}

@test "a valid OCI config jansson alone refuses (uint64 maxima as Docker writes them, 1e400, \\u0000, bad UTF-8): runc runs it, and so does the daemon" {
	requires_e2e
	requires grpcio
	make_bundle big sh -c 'ulimit -c; sleep 1000'
	big_ints_config "$BUNDLE/config.json"
	grep -q '"swappiness": 18446744073709551615' "$BUNDLE/config.json" || fail "config not written"
	sum=$(sha256sum <"$BUNDLE/config.json")
	# runc alone takes this file (the reference the daemon must match).
	make_bundle bigrunc sh -c 'ulimit -c'
	big_ints_config "$BUNDLE/config.json"
	run -0 timeout 20 "$RUNC" --root "$RUNC_ROOT" run --bundle "$BUNDLE" bigrunc </dev/null
	assert_contains "$output" unlimited
	BUNDLE=$T/bundles/big

	t0=$(date +%s%N)
	run -0 ctr containers start big "$BUNDLE"
	wait_for container_running big
	echo "# created and running in $((($(date +%s%N) - t0) / 1000000)) ms" >&3
	rl=$(grpc_call State '{"id": "big"}' | jq -r '.containers[0].processes[0].rlimits[] | select(.type == "RLIMIT_CORE") | "\(.soft) \(.hard)"')
	assert_eq "$rl" "18446744073709551615 18446744073709551615" "State's RLIMIT_CORE"
	pid=$(init_pid big)
	assert_eq "$(awk '/^Max core file size/ { print $5 " " $6 }' "/proc/$pid/limits")" "unlimited unlimited" "the init's core limit"
	assert_eq "$(sha256sum <"$BUNDLE/config.json")" "$sum" "config.json (never rewritten)"
	# The daemon's own record of it reads back the same after a restart.
	stop_daemon -9
	start_daemon
	rl=$(grpc_call State '{"id": "big"}' | jq -r '.containers[0].processes[0].rlimits[] | select(.type == "RLIMIT_CORE") | "\(.soft) \(.hard)"')
	assert_eq "$rl" "18446744073709551615 18446744073709551615" "State's RLIMIT_CORE after a restart"
	echo "# RLIMIT_CORE $rl in State, before and after a daemon restart" >&3
}
