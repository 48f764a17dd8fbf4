#!/usr/bin/env bats
# What the daemon checks at start (daemon/preflight.c), each a warning in
# its log, never a refusal: not root, --runtime missing or failing its
# --version, --shim missing or not this project's shim (the --version
# handshake of shim/protocol.h). And the errors of a failed create or
# restore: the failure's own words, never the path of a log the undo
# removed (daemon/errtext.c).

load helpers

setup_file() {
	setup_base_bundle
}

setup() {
	requires_e2e
	setup_common
}

teardown() {
	teardown_common
}

# launch [FLAGS...]: start_daemon, with the time from launch to the socket
# accepting in START_MS.
launch() {
	LAUNCH_NS=$(date +%s%N)
	start_daemon "$@"
	START_MS=$((($(date +%s%N) - LAUNCH_NS) / 1000000))
}

# warned TEXT: a warning line of the daemon holds TEXT.
warned() {
	grep -F -- "$1" "$T/daemon.log" | grep -q ' warn '
}

# wait_warned TEXT: waits for it; WARN_MS is the time since the launch.
wait_warned() {
	wait_for -t 10 warned "$1"
	WARN_MS=$((($(date +%s%N) - LAUNCH_NS) / 1000000))
}

# line_no TEXT: the number of the first log line holding TEXT.
line_no() {
	grep -nF -m1 -- "$1" "$T/daemon.log" | cut -d: -f1
}

# script NAME BODY: an executable $T/NAME running BODY under sh.
script() {
	printf '#!/bin/sh\n%s\n' "$2" >"$T/$1"
	chmod +x "$T/$1"
}

# no_probe_left MARK: no process whose command line holds MARK, and no
# zombie child of the daemon.
no_probe_left() {
	local left
	left=$(pgrep -f -- "$1" || true)
	[ -z "$left" ] || fail "left running: $(ps -o pid,ppid,stat,args -p "$left")"
	left=$(ps --ppid "$DAEMON_PID" -o stat=,pid=,args= | awk '$1 ~ /^Z/' || true)
	[ -z "$left" ] || fail "zombie children of the daemon: $left"
}

# paths_named_exist TEXT: every absolute path under $T that TEXT names exists.
paths_named_exist() {
	local p
	while read -r p; do
		[ -z "$p" ] && continue
		[ -e "$p" ] || fail "the error names $p, which does not exist: $1"
	done < <(grep -oE "$T/[^ :;,\"'|)]+" <<<"$1" || true)
}

utf8_valid() {
	iconv -f UTF-8 -t UTF-8 <<<"$1" >/dev/null || fail "not valid UTF-8: $1"
}

@test "no warning with the real runc and the real shim: the checks answer and stay quiet" {
	launch --debug
	wait_for file_has "$T/daemon.log" "shim $SHIM: containerd-shim (containerd in C) shim protocol"
	wait_for file_has "$T/daemon.log" "info runtime "
	run -0 "$SHIM" --version
	assert_eq "${lines[0]}" "containerd-shim (containerd in C) shim protocol 1" "the handshake line"
	line=$(grep -m1 "info runtime " "$T/daemon.log")
	assert_contains "$line" "runc version"
	warns=$(grep -E '^[^ ]+ warn ' "$T/daemon.log" || true)
	[ -z "$warns" ] || fail "warnings with the real runtime and shim: $warns"
	echo "# start ${START_MS} ms; $(grep -o -- '--runtime [^ ]*: --version answered in [0-9.]* ms' "$T/daemon.log"), $(grep -o -- '--shim [^ ]*: --version answered in [0-9.]* ms' "$T/daemon.log" | sed "s|$SHIM|SHIM|")" >&3
	start_container quiet "${SLEEP_ARGS[@]}"
	no_probe_left "$SHIM --version"
}

@test "--runtime not found (a path, a bare name, a file not executable): a warning, the daemon serves, a create says what failed" {
	launch --runtime "$T/no-such-runc"
	wait_warned "--runtime $T/no-such-runc: No such file or directory: every create will fail"
	echo "# missing path: start ${START_MS} ms, warning after ${WARN_MS} ms" >&3
	run -0 ctr containers
	make_bundle nort "${SLEEP_ARGS[@]}"
	run ctr containers start nort "$BUNDLE"
	[ "$status" -ne 0 ] || fail "created with a runtime that is not there"
	assert_contains "$output" "no-such-runc"
	stop_daemon

	launch --runtime no-such-runtime-in-path
	wait_warned "--runtime no-such-runtime-in-path: no such program in PATH ("
	stop_daemon

	printf '#!/bin/sh\nexit 0\n' >"$T/not-exec"
	chmod 644 "$T/not-exec"
	launch --runtime "$T/not-exec"
	wait_warned "--runtime $T/not-exec: not executable"
	run -0 ctr containers
}

@test "--runtime whose --version fails, or hangs ignoring SIGTERM, with a --shim that hangs too: the daemon serves at once, warns within about 2 s, kills them, leaves no process or zombie" {
	script fail-rt 'echo "fail-rt: cannot even say its version" >&2; exit 3'
	launch --runtime "$T/fail-rt"
	wait_warned "--runtime $T/fail-rt: \`$T/fail-rt --version\` failed (exit status 3): \"fail-rt: cannot even say its version\""
	echo "# failing runtime: start ${START_MS} ms, warning after ${WARN_MS} ms" >&3
	stop_daemon

	# Reads stdin (the daemon gives it /dev/null), then hangs; TERM ignored.
	script hang-rt "trap '' TERM; read line; exec sleep 98761"
	script hang-shim "trap '' TERM; read line; exec sleep 98762"
	launch --runtime "$T/hang-rt" --shim "$T/hang-shim"
	wait_warned "--runtime $T/hang-rt: \`$T/hang-rt --version\` did not answer within 2 s and was killed"
	rt_ms=$WARN_MS
	wait_warned "--shim $T/hang-shim: not this project's shim: \`$T/hang-shim --version\` did not answer within 2 s and was killed"
	echo "# hanging runtime and shim: start ${START_MS} ms, warnings after ${rt_ms} and ${WARN_MS} ms" >&3
	[ "$WARN_MS" -lt 6000 ] || fail "the warning came after ${WARN_MS} ms"
	# Serving did not wait for them: "listening" is logged before either.
	[ "$(line_no "listening on")" -lt "$(line_no "did not answer within")" ] ||
		fail "the daemon waited for the checks before it listened"
	wait_for no_probe_left "sleep 9876[12]"
	run -0 ctr containers
	pid_alive "$DAEMON_PID"
}

@test "--shim that is not this project's (the Go 0.2.9 shim's answer, another protocol, missing): a warning naming it, the daemon serves" {
	# What the Go 0.2.9 containerd-shim does with --version: a flag error.
	script go-shim 'echo "flag provided but not defined: -version" >&2; echo "Usage of containerd-shim:" >&2; exit 2'
	launch --shim "$T/go-shim"
	wait_warned "--shim $T/go-shim: not this project's shim: \`$T/go-shim --version\` answered \"flag provided but not defined: -version\" (exit status 2), not \"containerd-shim (containerd in C) shim protocol 1\""
	echo "# the Go shim: start ${START_MS} ms, warning after ${WARN_MS} ms" >&3
	run -0 ctr containers
	stop_daemon

	script old-shim 'echo "containerd-shim (containerd in C) shim protocol 0"'
	launch --shim "$T/old-shim"
	wait_warned "--shim $T/old-shim speaks shim protocol 0, this daemon speaks 1"
	stop_daemon

	launch --shim "$T/no-such-shim"
	wait_warned "--shim $T/no-such-shim: No such file or directory: every create will fail until it is installed"
	make_bundle noshim "${SLEEP_ARGS[@]}"
	run ctr containers start noshim "$BUNDLE"
	[ "$status" -ne 0 ] || fail "created without a shim"
	assert_contains "$output" "$T/no-such-shim"
	wait_for container_not_listed noshim
	assert_eq "$(runc_list)" "" "runc list"
}

@test "not root: the daemon starts in a private state dir, warns what will not work, and a create fails with the runtime's own words" {
	command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
	chmod 755 "$T"
	# nobody must reach $T: the suite's own temp dir (mktemp -d, 0700)
	# gets o+x, nothing else of it is opened.
	d=$T
	while [ "$d" != / ]; do
		d=$(dirname "$d")
		setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$d" || chmod o+x "$d"
	done
	mkdir -p "$T/nr"
	chown nobody "$T/nr"
	make_bundle nonroot "${SLEEP_ARGS[@]}"
	chmod -R a+rX "$T/bundles"
	STATE=$T/nr/state
	SOCK=$STATE/containerd.sock
	DB=$STATE/state.db
	RUNC_ROOT=$T/nr/runc
	LAUNCH_NS=$(date +%s%N)
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$CONTAINERD" --state-dir "$STATE" \
		--runtime-args "--root=$RUNC_ROOT" --shim "$SHIM" --metrics-interval 0 \
		>>"$T/daemon.log" 2>&1 3>&- &
	DAEMON_PID=$!
	wait_daemon_ready
	START_MS=$((($(date +%s%N) - LAUNCH_NS) / 1000000))
	wait_warned "not running as root (euid $(id -u nobody)): the runtime can run only rootless containers"
	echo "# non-root: start ${START_MS} ms, warning after ${WARN_MS} ms" >&3
	run -0 ctr containers
	run ctr containers start nonroot "$BUNDLE"
	echo "$output"
	[ "$status" -ne 0 ] || fail "a non-root daemon created a container without a user namespace"
	assert_contains "$output" "rootless container requires user namespaces"
	paths_named_exist "$output"
	assert_eq "$(ls -A "$STATE/_containers")" "" "left in _containers"
}

@test "a create the runtime refuses: its own message, no path that is gone, valid UTF-8" {
	start_daemon
	make_bundle noexec /no/such/program-here
	run ctr containers start noexec "$BUNDLE"
	echo "$output"
	[ "$status" -ne 0 ] || fail "created with a missing program"
	assert_contains "$output" 'runc create failed'
	assert_contains "$output" 'program-here'
	paths_named_exist "$output"
	utf8_valid "$output"
	echo "# error: $output" >&3
	wait_for container_not_listed noexec
}

@test "a restore that CRIU fails: CRIU's last errors in the error, not the path of its log the undo removed" {
	requires_tool criu criu
	start_daemon
	make_bundle rst "${SLEEP_ARGS[@]}"
	# A checkpoint as copied in from elsewhere, with no CRIU image: runc
	# gets as far as CRIU, which fails (and logs why) either way.
	mkdir -p "$BUNDLE/checkpoints/cp1"
	echo '{"name":"cp1","tcp":false,"unixSockets":false,"shell":false,"exit":false}' \
		>"$BUNDLE/checkpoints/cp1/config.json"
	echo '["/dev/null","/dev/null","/dev/null"]' >"$BUNDLE/checkpoints/cp1/descriptors.json"
	run ctr containers start --checkpoint cp1 rst2 "$BUNDLE"
	echo "$output"
	[ "$status" -ne 0 ] || fail "restored from an empty image"
	assert_contains "$output" "criu failed"
	assert_contains "$output" "criu's log (removed with the failed attempt) ended: "
	assert_not_contains "$output" "restore.log"
	paths_named_exist "$output"
	utf8_valid "$output"
	echo "# error: $output" >&3
	wait_for container_not_listed rst2
	[ ! -e "$CDIR/rst2" ] || fail "$CDIR/rst2 left"
}

@test "a shim that exits before reporting: the last lines of its shim.log in the error, not the file's path" {
	# The real shim for the handshake; for a container it writes its log
	# line and dies, as a shim that crashed half way would.
	script dying-shim "[ \"\$1\" = --version ] && exec '$SHIM' --version
dir=
while [ \$# -gt 0 ]; do [ \"\$1\" = --dir ] && dir=\$2; shift; done
echo \"2026-01-02T03:04:05.000000000Z containerd-shim[1]: dying-shim: cannot go on (a test)\" >>\"\$dir/shim.log\"
exit 1"
	start_daemon --shim "$T/dying-shim"
	make_bundle dies "${SLEEP_ARGS[@]}"
	run ctr containers start dies "$BUNDLE"
	echo "$output"
	[ "$status" -ne 0 ] || fail "created though the shim died"
	assert_contains "$output" "the shim exited before reporting: dying-shim: cannot go on (a test)"
	assert_not_contains "$output" "shim.log"
	paths_named_exist "$output"
	echo "# error: $output" >&3
	wait_for container_not_listed dies
	warns=$(grep -E ' warn .*--shim' "$T/daemon.log" || true)
	[ -z "$warns" ] || fail "the handshake warned: $warns"
}

@test "make run RUN_FLAGS=...: the flags reach the daemon (here a private state dir, socket and --id)" {
	command -v make >/dev/null || skip "needs make"
	[ "$CONTAINERD" = "$REPO/bin/containerd" ] || skip "make run runs bin/containerd, not $CONTAINERD"
	make -s -C "$REPO" run RUN_FLAGS="--state-dir $STATE --listen $SOCK --runtime-args --root=$RUNC_ROOT --id runflags --metrics-interval 0" \
		>>"$T/daemon.log" 2>&1 3>&- &
	make_pid=$!
	BG_PIDS+=("$make_pid")
	wait_for sock_accepts "$SOCK"
	DAEMON_PID=$(pgrep -P "$make_pid" -x containerd || pgrep -f "^./bin/containerd --state-dir $STATE ")
	[ -n "$DAEMON_PID" ] || fail "no daemon under make (pid $make_pid)"
	run -0 ctr version
	line=$(grep -m1 "listening on" "$T/daemon.log")
	assert_contains "$line" "[runflags] containerd"
	assert_contains "$line" "listening on $SOCK (state $STATE,"
	echo "# ${line#* info }" >&3
	stop_daemon
	wait "$make_pid" 2>/dev/null || true
}
