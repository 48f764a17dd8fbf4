#!/usr/bin/env bash
# Helpers for the end-to-end bats tests: the real daemon, shim, ctr and runc.
#
# Every test gets its own temp root $T:
#   $T/state/            the daemon's --state-dir (state.db, containerd.sock)
#   $T/runc/             runc's --root (passed with --runtime-args)
#   $T/bundles/NAME/     per-test bundles, copied from the file's base bundle
#   $T/daemon.log        the daemon's stdout+stderr (printed when a test fails)
# teardown_common kills the daemon, force-deletes every container of $T/runc,
# kills the shims left for $T and removes $T, so no test leaks into the next.

bats_require_minimum_version 1.5.0
# NB: bats 1.8.2's `run -N` sets a global $i (bats_version_lt), so tests
# never use `i` as a loop variable; use k.

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
CONTAINERD=${CONTAINERD:-$REPO/bin/containerd}
CTR_BIN=${CTR_BIN:-$REPO/bin/ctr}
SHIM=${SHIM:-$REPO/bin/containerd-shim}
MKBUNDLE=$REPO/tools/mkbundle
RUNC=${RUNC:-runc}
PY=${PY:-/usr/bin/python3}
GRPC_CALL=$REPO/tests/grpc/call.py

# Seconds a wait_for gives up after; the whole test is bounded too.
WAIT_TIMEOUT=${WAIT_TIMEOUT:-20}
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-120}

export PATH="$REPO/bin:$PATH"

# ---------------------------------------------------------------- skipping

# requires CAP...: skip the test (with the reason) unless every capability
# is there. Known: root, runc, busybox, jq, sqlite3, grpcio, daemon, ctr,
# shim, cgroup-memory.
requires() {
	local c
	for c in "$@"; do
		case $c in
		root)
			[ "$(id -u)" -eq 0 ] || skip "needs root"
			;;
		runc)
			command -v "$RUNC" >/dev/null || skip "needs $RUNC (apt-get install runc)"
			;;
		busybox)
			[ -x /bin/busybox ] || skip "needs busybox-static"
			;;
		jq)
			command -v jq >/dev/null || skip "needs jq"
			;;
		sqlite3)
			command -v sqlite3 >/dev/null || skip "needs the sqlite3 CLI"
			;;
		grpcio)
			"$PY" -c 'import grpc, google.protobuf' 2>/dev/null ||
				skip "needs $PY with grpcio and protobuf (python3-grpcio python3-protobuf)"
			command -v protoc >/dev/null || skip "needs protoc (protobuf-compiler)"
			;;
		daemon)
			[ -x "$CONTAINERD" ] || skip "$CONTAINERD not built"
			;;
		ctr)
			[ -x "$CTR_BIN" ] || skip "$CTR_BIN not built"
			;;
		shim)
			[ -x "$SHIM" ] || skip "$SHIM not built"
			;;
		cgroup-memory)
			[ -d /sys/fs/cgroup/memory ] || [ -f /sys/fs/cgroup/memory.max ] ||
				[ -f /sys/fs/cgroup/cgroup.controllers ] || skip "needs the memory cgroup"
			;;
		*)
			fail "requires: unknown capability '$c'"
			;;
		esac
	done
}

# The usual set for a test that runs containers through the daemon.
requires_e2e() {
	requires root runc busybox jq sqlite3 daemon ctr shim
}

# fail, assert_*, figure, wait_for, pid_alive, pid_gone, now_ms
# shellcheck source=../lib/common.bash
source "$REPO/tests/lib/common.bash"

# ---------------------------------------------------------------- bundles

# Built once per .bats file in setup_file: a busybox bundle running `sh`.
setup_base_bundle() {
	[ -x /bin/busybox ] && command -v jq >/dev/null && command -v "$RUNC" >/dev/null || return 0
	BASE_BUNDLE=$BATS_FILE_TMPDIR/base-bundle
	"$MKBUNDLE" "$BASE_BUNDLE" sh >&2 || return 1
	export BASE_BUNDLE
}

# make_bundle NAME [--tty] [ARGS...]: a private copy of the base bundle at
# $T/bundles/NAME with process.args = ARGS (default sh); sets $BUNDLE.
make_bundle() {
	local name=$1 tty=false
	shift
	if [ "${1:-}" = --tty ]; then
		tty=true
		shift
	fi
	[ $# -gt 0 ] || set -- sh
	BUNDLE=$T/bundles/$name
	mkdir -p "$T/bundles"
	if [ -n "${BASE_BUNDLE:-}" ] && [ -f "$BASE_BUNDLE/config.json" ]; then
		rm -rf "$BUNDLE"
		cp -a "$BASE_BUNDLE" "$BUNDLE"
	else
		"$MKBUNDLE" "$BUNDLE" sh >/dev/null
	fi
	# One jq --arg per element: `jq --args` would eat an arg like -c.
	local a args='[]'
	for a in "$@"; do
		args=$(jq -c -n --argjson l "$args" --arg v "$a" '$l + [$v]') || return 1
	done
	jq --argjson tty "$tty" --argjson args "$args" \
		'.process.terminal = $tty | .process.args = $args' \
		<"$BUNDLE/config.json" >"$BUNDLE/config.json.tmp" &&
		mv "$BUNDLE/config.json.tmp" "$BUNDLE/config.json"
}

# A container that runs until killed with SIGKILL (pid 1 ignores TERM).
SLEEP_ARGS=(sleep 1000)

# A container whose init exits 143 on SIGTERM. It touches /tmp/trapped once
# the trap is in place, so the test never signals before that.
TRAP_ARGS=(sh -c 'trap "exit 143" TERM; touch /tmp/trapped; while true; do sleep 1; done')

# ---------------------------------------------------------------- the temp root

setup_common() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/ctrd.XXXXXX")
	STATE=$T/state
	# The containers' directories: <id>/<pid>/ (daemon/layout.c).
	CDIR=$STATE/_containers
	SOCK=$STATE/containerd.sock
	RUNC_ROOT=$T/runc
	DB=$STATE/state.db
	DAEMON_PID=
	BG_PIDS=()
}

# Kill what the test left, by pid: the daemon, runc's containers under
# $T/runc, the shims working for $T; then remove $T.
teardown_common() {
	[ -n "${T:-}" ] && [ -d "$T" ] || return 0
	local p id pids san_rc=0

	# Under tests/san/run.sh (sanitized daemon): a graceful stop, so
	# LeakSanitizer runs at exit; any sanitizer report fails the test.
	if [ -n "${CTRD_SAN:-}" ]; then
		san_check || san_rc=1
	fi
	for p in "${BG_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	stop_daemon -9 || true
	# Any other daemon started on this root (restart tests).
	pids=$(pgrep -f "containerd --state-dir $T/" 2>/dev/null || true)
	for p in $pids; do kill -9 "$p" 2>/dev/null || true; done

	if [ -d "$RUNC_ROOT" ]; then
		for id in $("$RUNC" --root "$RUNC_ROOT" list -q 2>/dev/null); do
			"$RUNC" --root "$RUNC_ROOT" delete -f "$id" >/dev/null 2>&1 || true
		done
	fi

	pids=$(pgrep -f "containerd-shim.*$T" 2>/dev/null || true)
	if [ -f "$DB" ] && command -v sqlite3 >/dev/null; then
		pids="$pids $(sqlite3 -cmd '.timeout 1000' "$DB" \
			'SELECT shim_pid FROM processes WHERE shim_pid > 0' 2>/dev/null || true)"
	fi
	for p in $pids; do
		# Only a shim of this test (its --dir is under $T): the recorded
		# pid may have been reused by now, even by another daemon's shim.
		if { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -q "containerd-shim.*$T/"; then
			kill -9 "$p" 2>/dev/null || true
		fi
	done

	if [ -f "$T/daemon.log" ]; then
		echo "# ---- $T/daemon.log (last 60 lines)"
		tail -n 60 "$T/daemon.log" | sed 's/^/# /'
	fi
	rm -rf "$T"
	return $san_rc
}

# san_check: stop this test's daemon with SIGTERM and fail if it exited
# non-zero or its log holds an ASan, LSan or UBSan report.
san_check() {
	local rc=0
	if [ -n "$DAEMON_PID" ]; then
		stop_daemon -TERM
		if [ "$DAEMON_STATUS" -ne 0 ]; then
			echo "san: the daemon exited with status $DAEMON_STATUS" >&2
			rc=1
		fi
	fi
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/daemon.log" 2>/dev/null; then
		echo "san: sanitizer report in the daemon's log:" >&2
		grep -E -A 40 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/daemon.log" |
			head -n 80 >&2
		rc=1
	fi
	return $rc
}

# ---------------------------------------------------------------- the daemon

# daemon_cmd [EXTRA...]: the command line of this test's daemon.
daemon_cmd() {
	DAEMON_ARGV=("$CONTAINERD" --state-dir "$STATE" --listen "$SOCK"
		--runtime-args "--root=$RUNC_ROOT" --shim "$SHIM" "$@")
}

# start_daemon [EXTRA FLAGS...]: start the daemon in the background and wait
# until it accepts connections. fd 3 is closed: bats waits on it otherwise.
start_daemon() {
	daemon_cmd "$@"
	echo "# start: ${DAEMON_ARGV[*]}" >>"$T/daemon.log"
	"${DAEMON_ARGV[@]}" >>"$T/daemon.log" 2>&1 3>&- &
	DAEMON_PID=$!
	wait_daemon_ready
}

# sock_accepts PATH: something listens on the unix socket PATH (a stale
# socket file left by a killed daemon refuses the connection).
sock_accepts() {
	[ -S "$1" ] || return 1
	if [ -x "$PY" ]; then
		"$PY" -S -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])' "$1" 2>/dev/null
	else
		"$CTR_BIN" --address "$1" version >/dev/null 2>&1
	fi
}

# True when the socket accepts connections, false when not yet; a dead
# daemon ends the wait at once instead of waiting out the timeout.
daemon_ready() {
	if ! pid_alive "$DAEMON_PID"; then
		echo "daemon (pid $DAEMON_PID) exited early" >&2
		DAEMON_DIED=1
		return 0
	fi
	sock_accepts "$SOCK"
}

wait_daemon_ready() {
	DAEMON_DIED=
	wait_for daemon_ready || return 1
	if [ -n "$DAEMON_DIED" ]; then
		cat "$T/daemon.log" >&2
		fail "the daemon did not start"
	fi
}

# stop_daemon [-SIG]: signal the daemon (default SIGTERM) and wait until it
# is gone; sets DAEMON_STATUS to its exit status.
stop_daemon() {
	local sig=${1:--TERM}
	[ -n "$DAEMON_PID" ] || return 0
	kill "$sig" "$DAEMON_PID" 2>/dev/null || true
	local i
	# Polled finely: every test stops a daemon, which takes milliseconds.
	for ((i = 0; i < WAIT_TIMEOUT * 50; i++)); do
		pid_alive "$DAEMON_PID" || break
		sleep 0.02
	done
	if pid_alive "$DAEMON_PID"; then
		kill -9 "$DAEMON_PID" 2>/dev/null || true
	fi
	DAEMON_STATUS=0
	wait "$DAEMON_PID" 2>/dev/null || DAEMON_STATUS=$?
	DAEMON_PID=
}

# hold_lock: another process takes the database's write lock (BEGIN
# IMMEDIATE, held open) until $T/release exists.
hold_lock() {
	rm -f "$T/release" "$T/locked"
	"$PY" -c 'import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
c.execute("ROLLBACK")' "$DB" "$T/locked" "$T/release" 3>&- &
	BG_PIDS+=($!)
	wait_for test -f "$T/locked"
}

# ---------------------------------------------------------------- clients

# ctr ARGS...: bin/ctr against this test's daemon, time-bounded.
ctr() {
	timeout -k 5 "${CTR_TIMEOUT:-30}" "$CTR_BIN" --address "$SOCK" "$@"
}

# grpc_call METHOD [JSON] [--stream]: the independent python3-grpcio client
# (tests/grpc/call.py); prints the response as JSON, or "CODE: message" and
# exits 1 on a gRPC error.
grpc_call() {
	timeout -k 5 30 "$PY" "$GRPC_CALL" --address "$SOCK" "$@"
}

# db SQL: sqlite3 on the daemon's database (waits out a writer's lock).
db() {
	sqlite3 -batch -noheader -cmd '.timeout 5000' "$DB" "$@"
}

# runc_list: the container ids runc knows under this test's root.
runc_list() {
	"$RUNC" --root "$RUNC_ROOT" list -q 2>/dev/null
}

# runc_status ID: runc's status of ID ("running", "stopped", ...) or empty.
runc_status() {
	"$RUNC" --root "$RUNC_ROOT" state "$1" 2>/dev/null | jq -r .status
}

# init_pid ID: the host pid of ID's init, from runc.
init_pid() {
	"$RUNC" --root "$RUNC_ROOT" state "$1" 2>/dev/null | jq -r .pid
}

# ctr_status ID: ID's STATUS column in `ctr containers`, empty if not listed.
ctr_status() {
	ctr containers 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'
}

# start_container ID ARGS...: a bundle for ID with ARGS, started via ctr.
start_container() {
	local id=$1
	shift
	make_bundle "$id" "$@"
	run ctr containers start "$id" "$BUNDLE"
	if [ "$status" -ne 0 ]; then
		echo "ctr containers start $id failed ($status): $output" >&2
		return 1
	fi
	container_running "$id" || wait_for container_running "$id"
}

container_running() {
	[ "$(ctr_status "$1")" = running ]
}

container_not_listed() {
	! ctr containers 2>/dev/null | awk '{ print $1 }' | grep -qxF -- "$1"
}

# listed_stopped ID: State lists ID as stopped: its init's exit was noticed
# and the runtime deleted it, and the exit waits to be on disk (a stalled
# store); once it is, the exit is announced and ID leaves State.
listed_stopped() {
	[ "$(ctr_status "$1")" = stopped ]
}

# has_event TYPE ID PID STATUS: that event row is in the database.
has_event() {
	[ -f "$DB" ] || return 1
	local n
	n=$(db "SELECT count(*) FROM events WHERE type = '$1' AND container_id = '$2'
		AND pid = '$3' AND status = $4") || return 1
	[ "${n:-0}" -gt 0 ]
}

# wait_exit ID STATUS: wait for ID's init exit event with STATUS.
wait_exit() {
	wait_for has_event exit "$1" init "$2"
}

# ctr_has_event OUTPUT TYPE ID PID STATUS: a `ctr events` line
# "TIME TYPE ID PID STATUS" (TIME may hold spaces) is in OUTPUT.
ctr_has_event() {
	grep -Eq -- "(^|[[:space:]])$2[[:space:]]+$3[[:space:]]+$4[[:space:]]+$5([[:space:]]|\$)" <<<"$1"
}

# now_rfc3339: the current time, RFC 3339 with nanoseconds, UTC.
now_rfc3339() {
	date -u +%Y-%m-%dT%H:%M:%S.%NZ
}

# rfc3339_to_ns TIME: nanoseconds since the epoch.
rfc3339_to_ns() {
	local s ns
	s=$(date -u -d "${1%.*}Z" +%s)
	ns=${1#*.}
	ns=${ns%Z}
	echo "$s$(printf '%-9s' "$ns" | tr ' ' 0)"
}

# state_dirs: the directories under the state dir (to prove nothing was made).
state_dirs() {
	find "$STATE" -mindepth 1 -type d 2>/dev/null | sort
}

# ---------------------------------------------------------------- exec, pause, update, stats, oom, tty, checkpoints

# unique_id NAME: NAME plus this test root's suffix. A container's id names
# its host cgroups (/sys/fs/cgroup/CTRL/ID), shared by every runc root on the
# machine, so tests that read cgroups never reuse an id another run may hold.
unique_id() {
	echo "$1-${T##*.}"
}

# requires_tool CMD [PACKAGE]: skip unless CMD is installed.
requires_tool() {
	command -v "$1" >/dev/null || skip "needs $1${2:+ (apt-get install $2)}"
}

# requires_cgroup_v1 CTRL...: skip unless each cgroup v1 controller is
# mounted at /sys/fs/cgroup/CTRL.
requires_cgroup_v1() {
	local c
	for c in "$@"; do
		[ -d "/sys/fs/cgroup/$c" ] && [ ! -f "/sys/fs/cgroup/$c/cgroup.controllers" ] ||
			skip "needs the cgroup v1 $c controller at /sys/fs/cgroup/$c"
	done
}

# requires_criu: skip, with criu's own reason, unless `criu check` passes.
requires_criu() {
	requires_tool criu criu
	local out
	if ! out=$(criu check 2>&1); then
		# The first cause, not the "exited, status=1" of its helpers.
		out=$(grep -i error <<<"$out" | grep -v 'exited, status' | head -n1 || true)
		skip "criu check fails here: ${out:-no reason given}"
	fi
}

# criu_works: `criu check` passes.
criu_works() {
	command -v criu >/dev/null && criu check >/dev/null 2>&1
}

# cgroup_dir CTRL PID: the host directory of PID's cgroup v1 CTRL hierarchy,
# from /proc/PID/cgroup ("4:memory:/path", controllers may be comma-joined).
cgroup_dir() {
	local path
	path=$(awk -F: -v c="$1" '{
		n = split($2, a, ",")
		for (x = 1; x <= n; x++) if (a[x] == c) { print $3; exit }
	}' "/proc/$2/cgroup") || return 1
	[ -n "$path" ] || {
		fail "pid $2 has no $1 cgroup: $(cat "/proc/$2/cgroup")"
		return 1
	}
	echo "/sys/fs/cgroup/$1${path%/}"
}

# cgroup_file CTRL PID FILE: the content of FILE in PID's CTRL cgroup.
cgroup_file() {
	local d
	d=$(cgroup_dir "$1" "$2") || return 1
	cat "$d/$3"
}

# event_seq TYPE ID PID: the seq of the first such event row, empty if none.
event_seq() {
	db "SELECT min(seq) FROM events WHERE type = '$1' AND container_id = '$2' AND pid = '$3'"
}

# event_count TYPE ID [PID]: how many such event rows there are.
event_count() {
	db "SELECT count(*) FROM events WHERE type = '$1' AND container_id = '$2'${3:+ AND pid = '$3'}"
}

# wait_event TYPE ID PID STATUS: wait for that event row.
wait_event() {
	wait_for has_event "$@"
}

# ctr_state_status ID: the status `ctr containers state ID` reports.
ctr_state_status() {
	ctr containers state "$1" 2>/dev/null | jq -r '.containers[0].status'
}

# ctr_processes ID: ID's PROCESSES column in `ctr containers` (a,b,c).
ctr_processes() {
	ctr containers 2>/dev/null | awk -v id="$1" '$1 == id { print $4 }'
}

# process_listed ID PID: PID is among ID's processes in `ctr containers`.
process_listed() {
	[[ ",$(ctr_processes "$1")," == *",$2,"* ]]
}

process_not_listed() {
	! process_listed "$@"
}

# exec_system_pid ID PID: the host pid of ID's process PID, from State.
exec_system_pid() {
	ctr containers state "$1" 2>/dev/null |
		jq -r --arg p "$2" '.containers[0].processes[] | select(.pid == $p) | .systemPid'
}

# file_has PATH TEXT: PATH exists and holds TEXT (for wait_for).
file_has() {
	[ -f "$1" ] && grep -qF -- "$2" "$1"
}

# has_event_of TYPE ID: an event row of TYPE for ID, whatever its pid and
# status (pause and resume events carry no pid).
has_event_of() {
	[ -f "$DB" ] || return 1
	[ "$(event_count "$1" "$2")" -gt 0 ]
}

# first_event_seq TYPE ID: the seq of ID's first TYPE event, any pid.
first_event_seq() {
	db "SELECT min(seq) FROM events WHERE type = '$1' AND container_id = '$2'"
}
