#!/usr/bin/env bats
# The daemon's own command line, and ctr against it (version, state, errors).

load helpers

setup_file() {
	setup_base_bundle
}

setup() {
	requires root daemon
	setup_common
}

teardown() {
	teardown_common
}

@test "containerd --help: usage with the flags, exit 0" {
	run -0 "$CONTAINERD" --help
	echo "$output"
	for f in --state-dir --listen --runtime --runtime-args --shim --debug --log-level \
		--concurrency --start-timeout --metrics-interval --retain-count --version --help; do
		assert_contains "$output" "$f"
	done
	run -0 "$CONTAINERD" -h
	assert_contains "$output" --state-dir
}

@test "containerd -v / --version: prints a version, exit 0" {
	run -0 "$CONTAINERD" -v
	echo "$output"
	assert_match "$output" '[0-9]+\.[0-9]+\.[0-9]+'
	v=$output
	run -0 "$CONTAINERD" --version
	assert_eq "$output" "$v" "--version vs -v"
}

@test "containerd with an unknown flag: an error naming it, non-zero" {
	run "$CONTAINERD" --no-such-flag
	echo "$output"
	[ "$status" -ne 0 ]
	assert_contains "$output" no-such-flag
}

@test "containerd with a bad duration: refused before starting" {
	run timeout 10 "$CONTAINERD" --state-dir "$STATE" --listen "$SOCK" --start-timeout banana
	echo "$output"
	[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "status $status"
	assert_contains "$output" banana
}

@test "containerd accepts Go durations and the metrics/retain flags" {
	requires runc shim ctr
	start_daemon --start-timeout 1m30s --metrics-interval 0 --retain-count 1000 --concurrency 4 --id test
	run -0 ctr version
}

@test "containerd --listen unix:///path works like a path" {
	requires runc shim ctr
	daemon_cmd
	DAEMON_ARGV=("$CONTAINERD" --state-dir "$STATE" --listen "unix://$SOCK"
		--runtime-args "--root=$RUNC_ROOT" --shim "$SHIM")
	"${DAEMON_ARGV[@]}" >>"$T/daemon.log" 2>&1 3>&- &
	DAEMON_PID=$!
	wait_daemon_ready
	run -0 "$CTR_BIN" --address "unix://$SOCK" version
}

@test "ctr version: client and daemon versions" {
	requires runc shim ctr
	start_daemon
	run -0 ctr version
	echo "$output"
	assert_match "$output" '[0-9]+\.[0-9]+\.[0-9]+'
}

@test "ctr state: the daemon's state as JSON, with the machine and containers" {
	requires_e2e
	start_daemon
	start_container js "${SLEEP_ARGS[@]}"
	run -0 ctr state
	echo "$output"
	jq -e . <<<"$output" >/dev/null || fail "not JSON"
	assert_contains "$output" '"js"'
	assert_contains "$output" running
	cpus=$(jq -r '.. | objects | select(has("cpus")) | .cpus' <<<"$output" | head -1)
	[ "${cpus:-0}" -gt 0 ] || fail "no machine cpus in: $output"
}

@test "ctr without a daemon: 'not running' error naming the address" {
	requires ctr
	run ctr version
	echo "$output"
	[ "$status" -ne 0 ]
	assert_contains "$output" "$SOCK"
	assert_match "$output" 'not running|connect|no such file|refused'

	run "$CTR_BIN" --address "$T/nowhere.sock" containers
	[ "$status" -ne 0 ]
	assert_contains "$output" "$T/nowhere.sock"
}

@test "ctr with a stale socket file (daemon killed): error, not a hang" {
	requires runc shim ctr
	start_daemon
	stop_daemon -KILL
	run ctr containers
	echo "$output"
	[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "status $status"
	assert_contains "$output" "$SOCK"
}

@test "ctr with an unknown verb or missing arguments: usage error" {
	requires ctr
	run "$CTR_BIN" no-such-verb
	[ "$status" -ne 0 ]
	assert_contains "$output" no-such-verb
	run "$CTR_BIN" --address "$SOCK" containers start
	[ "$status" -ne 0 ]
}

@test "the daemon creates its state dir, database and socket" {
	requires runc shim
	[ ! -e "$STATE" ]
	start_daemon
	[ -d "$STATE" ] && [ -S "$SOCK" ] && [ -f "$DB" ]
}

@test "the daemon leaks no fds over container lifecycles" {
	requires_e2e
	start_daemon
	start_container warm "${SLEEP_ARGS[@]}"
	run -0 ctr containers kill --signal 9 warm
	wait_exit warm 137
	wait_for container_not_listed warm
	before=$(ls "/proc/$DAEMON_PID/fd" | wc -l)
	for k in 1 2 3 4 5; do
		start_container "fd$k" "${SLEEP_ARGS[@]}"
		run -0 ctr containers kill --signal 9 "fd$k"
		wait_exit "fd$k" 137
		wait_for container_not_listed "fd$k"
	done
	run -0 ctr events --timestamp 2000-01-01T00:00:00Z --stored-only
	after=$(ls "/proc/$DAEMON_PID/fd" | wc -l)
	ls -l "/proc/$DAEMON_PID/fd"
	[ "$after" -le "$before" ] || fail "fds: $before before, $after after"
}

@test "the shim holds none of the daemon's files or sockets" {
	requires_e2e
	start_daemon
	start_container leak "${SLEEP_ARGS[@]}"
	shim=$(db "SELECT shim_pid FROM processes WHERE container_id = 'leak'")
	[ "${shim:-0}" -gt 0 ] || fail "no shim pid"
	run -0 ls -l "/proc/$shim/fd"
	echo "$output"
	assert_not_contains "$output" state.db
	# No socket of the daemon's (its listener, its clients) in the shim.
	for s in $(ls -l "/proc/$DAEMON_PID/fd" | grep -o 'socket:\[[0-9]*\]'); do
		assert_not_contains "$output" "$s"
	done
}

@test "the daemon keeps serving when a client hangs up mid-stream" {
	requires_e2e
	start_daemon
	# Replay from a second ago: a live-only stream could subscribe after
	# the create and rightly miss it.
	ctr events --timestamp "$(date -u -d '-1 sec' +%Y-%m-%dT%H:%M:%SZ)" >"$T/ev.out" 2>&1 3>&- &
	p=$!
	BG_PIDS+=("$p")
	start_container first "${SLEEP_ARGS[@]}"
	wait_for grep -q 'start-container.*first' "$T/ev.out"
	kill -9 "$p"
	start_container second "${SLEEP_ARGS[@]}"
	run -0 ctr version
	pid_alive "$DAEMON_PID"
}

@test "relative --state-dir, --listen and --shim are taken from the working directory; a bare --shim name is looked up in PATH (as dockerd starts it)" {
	requires_e2e
	mkdir -p "$T/pathbin"
	ln -s "$SHIM" "$T/pathbin/docker-containerd-shim"
	DAEMON_ARGV=("$CONTAINERD" --state-dir state --listen ./state/containerd.sock
		--runtime-args "--root=$RUNC_ROOT" --shim docker-containerd-shim)
	(cd "$T" && PATH="$T/pathbin:$PATH" exec "${DAEMON_ARGV[@]}") >>"$T/daemon.log" 2>&1 3>&- &
	DAEMON_PID=$!
	wait_daemon_ready
	start_container rel "${SLEEP_ARGS[@]}"
	[ -f "$T/state/state.db" ] || fail "no $T/state/state.db"
	[ -d "$T/state/_containers/rel/init" ] || fail "no $T/state/_containers/rel/init"
	line=$(grep -m1 "listening on" "$T/daemon.log")
	echo "# figure: $line" >&3
	assert_contains "$line" "listening on $T/state/containerd.sock (state $T/state,"
	assert_contains "$line" "shim $T/pathbin/docker-containerd-shim)"
	kill -9 "$(init_pid rel)"
	wait_exit rel 137
}

@test "a bare --shim name that is not in PATH: a warning saying so, and the daemon serves (it may be installed later)" {
	start_daemon --shim no-such-shim-here
	wait_for file_has "$T/daemon.log" "--shim no-such-shim-here: no such program in PATH"
	grep -F -- "--shim no-such-shim-here: no such program in PATH" "$T/daemon.log" | grep -q ' warn ' ||
		fail "not a warning: $(grep -F -- no-such-shim-here "$T/daemon.log")"
	run -0 ctr containers
}

@test "the 2017 daemon's flags: --listen tcp:// refused saying why, --pprof-address accepted with a warning; SIGUSR1 logs the daemon's state and it serves on" {
	requires_e2e
	run timeout 10 "$CONTAINERD" --state-dir "$STATE" --listen tcp://127.0.0.1:2375 --shim "$SHIM"
	echo "$output"
	[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "status $status"
	assert_contains "$output" "TCP is not served: it has no authentication"
	start_daemon --pprof-address 127.0.0.1:6060
	grep -q -- "--pprof-address 127.0.0.1:6060: ignored" "$T/daemon.log" || fail "no warning for --pprof-address"
	start_container dumped "${SLEEP_ARGS[@]}"
	kill -USR1 "$DAEMON_PID"
	wait_for grep -q "dump:   container dumped running, 1 process" "$T/daemon.log"
	echo "# figure: $(grep -m1 'dump: ' "$T/daemon.log" | cut -d' ' -f3-)" >&3
	pid_alive "$DAEMON_PID" || fail "SIGUSR1 killed the daemon"
	run -0 ctr version
	assert_eq "$(ctr_status dumped)" running "dumped"
}

SOCKACT=$REPO/tests/integration/sockact.py

# start_activated SOCKETS... -- FLAGS...: the daemon exec'd by sockact.py
# with SOCKETS passed as fds 3...; $SOCK must name the one it serves.
start_activated() {
	local socks=()
	while [ "$1" != -- ]; do
		socks+=("$1")
		shift
	done
	shift
	DAEMON_ARGV=("$PY" "$SOCKACT" "${socks[@]}" -- "$CONTAINERD" --state-dir "$STATE"
		--runtime-args "--root=$RUNC_ROOT" --shim "$SHIM" "$@")
	echo "# start: ${DAEMON_ARGV[*]}" >>"$T/daemon.log"
	"${DAEMON_ARGV[@]}" >>"$T/daemon.log" 2>&1 3>&- &
	DAEMON_PID=$!
	wait_daemon_ready
}

@test "--listen fd://: serves the socket systemd passed (LISTEN_FDS, LISTEN_PID); LISTEN_* do not reach the shims; the socket file stays systemd's" {
	requires_e2e
	SOCK=$T/activated.sock
	mkdir -p "$STATE"
	start_activated "unix:$SOCK" -- --listen fd://
	# The socket was listening before the daemon ran: ready is not logged.
	wait_for grep -q "listening on" "$T/daemon.log"
	line=$(grep -m1 "listening on" "$T/daemon.log")
	echo "# figure: $line" >&3
	assert_contains "$line" "listening on fd 3 from systemd ($SOCK)"
	start_container act "${SLEEP_ARGS[@]}"
	shim=$(db "SELECT shim_pid FROM processes WHERE container_id = 'act'")
	[ "${shim:-0}" -gt 0 ] || fail "no shim pid"
	# /proc/PID/environ of the daemon shows its start; its children show
	# what it passes on.
	tr '\0' '\n' <"/proc/$DAEMON_PID/environ" | grep -q '^LISTEN_FDS=1$' || fail "launcher set no LISTEN_FDS"
	run -0 tr '\0' '\n' <"/proc/$shim/environ"
	assert_not_contains "$output" LISTEN_
	listener=$(readlink "/proc/$DAEMON_PID/fd/3")
	assert_match "$listener" '^socket:'
	assert_not_contains "$(ls -l "/proc/$shim/fd")" "$listener"
	stop_daemon -TERM
	[ -S "$SOCK" ] || fail "the daemon removed systemd's socket file"
}

@test "--listen fd://4: the passed fd named is served, the other passed sockets closed (as the 2017 daemon)" {
	requires_e2e
	SOCK=$T/b.sock
	mkdir -p "$STATE"
	start_activated "unix:$T/a.sock" "unix:$SOCK" -- --listen fd://4
	run -0 ctr version
	# No one holds fd 3's socket any more: a connection is refused.
	run "$PY" -S -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])' "$T/a.sock"
	assert_contains "$output" "Connection refused"
}

@test "--listen fd:// refuses what is not one listening unix stream socket passed to it, saying why" {
	requires daemon shim
	mkdir -p "$STATE"
	# refuse SOCKETS... -- FLAGS... -- EXPECTED: the daemon exits at once,
	# non-zero, with EXPECTED in its output.
	refuse() {
		local socks=() flags=()
		while [ "$1" != -- ]; do socks+=("$1"); shift; done
		shift
		while [ "$1" != -- ]; do flags+=("$1"); shift; done
		shift
		run timeout 10 "$PY" "$SOCKACT" "${socks[@]}" -- "$CONTAINERD" --state-dir "$STATE" \
			--shim "$SHIM" "${flags[@]}"
		echo "$output" | tail -n 1
		[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "status $status for ${socks[*]} ${flags[*]}"
		assert_contains "$output" "$1"
	}
	refuse tcp -- --listen fd:// -- "fd 3 is a TCP/IPv4 or UDP/IPv4 socket; this daemon serves only a listening unix stream socket"
	refuse "dgram:$T/d.sock" -- --listen fd:// -- "fd 3 is a unix datagram socket"
	refuse "idle:$T/i.sock" -- --listen fd:// -- "fd 3 is a unix stream socket that is not listening"
	refuse "unix:$T/1.sock" "unix:$T/2.sock" -- --listen fd:// -- "systemd passed 2 sockets (fds 3 to 4); name the one to serve, e.g. --listen fd://3"
	refuse "unix:$T/3.sock" -- --listen fd://5 -- "fd 5 was not passed by systemd (it passed 1: fds 3 to 3)"
	refuse "unix:$T/4.sock" -- --listen fd://s0 -- "fd://s0: not an fd number"
	refuse --pid-off "unix:$T/5.sock" -- --listen fd:// -- "no socket was passed to this process (LISTEN_PID is"
	run timeout 10 "$CONTAINERD" --state-dir "$STATE" --shim "$SHIM" --listen fd://
	[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "status $status"
	assert_contains "$output" "no socket was passed to this process (LISTEN_PID and LISTEN_FDS are not set)"
	echo "# figure: $output" >&3
}

@test "--listen PATH with systemd passing a socket bound to PATH: that socket is served (not 'in use')" {
	requires_e2e
	SOCK=$T/named.sock
	mkdir -p "$STATE"
	start_activated "unix:$SOCK" -- --listen "unix://$SOCK"
	run -0 ctr version
	grep -q "systemd passed 1 socket(s); the one bound to --listen's path is taken" "$T/daemon.log" ||
		fail "not taken"
}

@test "systemd-socket-activate starts the daemon with --listen fd:// and ctr runs a container through it" {
	requires_e2e
	command -v systemd-socket-activate >/dev/null || skip "needs systemd-socket-activate (systemd)"
	SOCK=$T/sa.sock
	mkdir -p "$STATE"
	DAEMON_ARGV=(systemd-socket-activate -l "$SOCK" "$CONTAINERD" --state-dir "$STATE"
		--listen fd:// --runtime-args "--root=$RUNC_ROOT" --shim "$SHIM")
	"${DAEMON_ARGV[@]}" >>"$T/daemon.log" 2>&1 3>&- &
	DAEMON_PID=$!
	wait_daemon_ready
	start_container sa "${SLEEP_ARGS[@]}"
	kill -9 "$(init_pid sa)"
	wait_exit sa 137
	echo "# figure: $(grep -m1 'listening on' "$T/daemon.log" | cut -d' ' -f3-)" >&3
}

@test "dockerd's default mode: bin/docker-containerd with dockerd 17.09's exact argv (names found in PATH), its parent gone and its output read through a pipe, runs containers; the runtime args reach runc in order" {
	requires_e2e
	for n in docker-containerd docker-containerd-shim docker-containerd-ctr; do
		[ -x "$REPO/bin/$n" ] || fail "make did not build bin/$n (dockerd finds it in PATH)"
	done
	EXEC=$T/exec
	mkdir -p "$EXEC/libcontainerd" "$T/rtbin"
	# dockerd's --runtime docker-runc, found in PATH; this one also keeps
	# runc's state under $T and notes the global flags it was given.
	cat >"$T/rtbin/docker-runc" <<-SH
		#!/bin/sh
		echo "\$*" >>"$T/runc-argv"
		exec "$(command -v "$RUNC")" --root "$RUNC_ROOT" "\$@"
	SH
	chmod +x "$T/rtbin/docker-runc"
	SOCK=$EXEC/libcontainerd/docker-containerd.sock
	STATE=$EXEC/libcontainerd/containerd
	DB=$STATE/state.db
	# libcontainerd/remote_unix.go's runContainerdDaemon, with --debug and
	# two --runtime-args (dockerd passes --systemd-cgroup=true under systemd).
	argv=(docker-containerd -l "unix://$SOCK" --metrics-interval=0 --start-timeout 2m
		--state-dir "$STATE" --shim docker-containerd-shim --runtime docker-runc --debug
		--runtime-args --systemd-cgroup=false --runtime-args --rootless=false)
	echo "# start: ${argv[*]}" >>"$T/daemon.log"
	# Its parent (this bash -c) exits at once; a cat reads its output, as
	# dockerd does; it is a session leader, as dockerd makes it.
	PATH="$REPO/bin:$T/rtbin:/usr/local/bin:/usr/bin:/bin" \
		bash -c 'setsid "$@" > >(exec cat >>"'"$T/daemon.log"'") 2>&1 </dev/null & echo $! >"'"$T/pid"'"' \
		_ "${argv[@]}" 3>&-
	DAEMON_PID=$(cat "$T/pid")
	wait_daemon_ready
	assert_eq "$(ps -o ppid= -p "$DAEMON_PID" | tr -d ' ')" 1 "the daemon's parent after bash -c exited"
	assert_match "$(readlink "/proc/$DAEMON_PID/fd/2")" '^pipe:'
	assert_eq "$(tr '\0' ' ' <"/proc/$DAEMON_PID/cmdline")" "${argv[*]} " "the daemon's argv"
	# dockerd's health check (grpc.health.v1 with service "") and version.
	if "$PY" -c 'import grpc' 2>/dev/null; then
		run -0 grpc_call Check
		assert_contains "$output" SERVING
	fi
	run -0 ctr version
	start_container dk sh -c 'echo hello; sleep 1000'
	shim=$(db "SELECT shim_pid FROM processes WHERE container_id = 'dk'")
	assert_eq "$(readlink "/proc/$shim/exe")" "$(readlink -f "$REPO/bin/containerd-shim")" "the shim's program"
	assert_eq "$(tr '\0' '\n' <"/proc/$shim/cmdline" | head -n 1)" "$REPO/bin/docker-containerd-shim" "the shim's argv[0]"
	run -0 "$REPO/bin/docker-containerd-ctr" --address "$SOCK" containers
	assert_contains "$output" dk
	grep -q -- "--systemd-cgroup=false --rootless=false .*create" "$T/runc-argv" ||
		fail "the runtime args did not reach runc in order: $(cat "$T/runc-argv")"
	grep -q "listening on $SOCK" "$T/daemon.log" || fail "the daemon's log did not come through the pipe"
	grep -q " debug " "$T/daemon.log" || fail "--debug: no debug line"
	kill -9 "$(init_pid dk)"
	wait_exit dk 137
	echo "# figure: $(grep -m1 'listening on' "$T/daemon.log" | cut -d' ' -f3-)" >&3
	# Not this shell's child (its parent exited), so no status to wait for:
	# stopped here, and the teardown's checks of a child's status skipped.
	kill -TERM "$DAEMON_PID"
	wait_for pid_gone "$DAEMON_PID"
	DAEMON_PID=
}

@test "the 2017 daemon's flag syntax (Go's flag package): -state-dir X, -debug=true, --debug=false, --log-level fatal or an unknown level (info, with a warning) all start" {
	requires_e2e
	DAEMON_ARGV=("$CONTAINERD" -state-dir "$STATE" -l "unix://$SOCK" -debug=true --debug=false
		-metrics-interval=0 -start-timeout 2m -runtime-args "--root=$RUNC_ROOT" -shim "$SHIM"
		-log-level fatal --log-level chatty)
	"${DAEMON_ARGV[@]}" >>"$T/daemon.log" 2>&1 3>&- &
	DAEMON_PID=$!
	wait_daemon_ready
	run -0 ctr version
	grep -q -- '--log-level: "chatty" is not one of debug, info, warn, error; info it is' "$T/daemon.log" ||
		fail "no warning for the unknown level"
	start_container goflags "${SLEEP_ARGS[@]}"
	run timeout 10 "$CONTAINERD" --debug=maybe
	[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "status $status"
	assert_contains "$output" "--debug=maybe: not a boolean"
}
