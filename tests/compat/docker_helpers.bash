#!/usr/bin/env bash
# Helpers for tests/compat/docker.bats: the real Docker Engine (dockerd
# 17.09.1-ce, the docker 17.03.2-ce client) on top of this daemon.
#
# DOCKERD and DOCKER name the two binaries (.ci/run sets them); without them
# every test skips, saying so. Everything is private, under one temp dir $DK
# (under $TMPDIR, which tests/run-all.sh points at the suite's temp dir):
#   $DK/bin/         dockerd's PATH head: docker-runc -> runc, and for the
#                    default mode docker-containerd{,-shim} -> bin/containerd{,-shim}
#   $DK/ctrd/        this daemon's --state-dir; $DK/c.sock its socket
#   $DK/runc/        runc's --root (both modes)
#   $DK/data/        dockerd's --data-root; $DK/exec/ its --exec-root
#   $DK/d.sock       dockerd's socket; $DK/dockerd.log, $DK/containerd.log
#   $DK/*.pid        the pids of what the tests started (files: tests run in
#                    subshells, and a test that restarts a daemon updates them)
# dockerd runs with --bridge=none --iptables=false --ip-masq=false and without
# /sbin and /usr/sbin in its PATH (it would add a DOCKER-USER chain to the
# host's firewall when it finds iptables), containers with --net=none, under a
# cgroup parent of their own. dockerd makes /run/docker (plugins, libnetwork):
# removed at the end when it was not there before and no other dockerd runs.

bats_require_minimum_version 1.5.0

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
CONTAINERD=${CONTAINERD:-$REPO/bin/containerd}
SHIM=${SHIM:-$REPO/bin/containerd-shim}
MKBUNDLE=$REPO/tools/mkbundle
RUNC=${RUNC:-runc}
PY=${PY:-/usr/bin/python3}
IP=$(PATH=/usr/sbin:/sbin:$PATH command -v ip)
UNSHARE=$(command -v unshare)

# Seconds a dk_wait gives up after; a docker command's own bound.
DK_WAIT=${DK_WAIT:-30}
DK_CMD_TIMEOUT=${DK_CMD_TIMEOUT:-60}
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-120}

# ---------------------------------------------------------------- skipping

# dk_skip_reason: prints why these tests cannot run here (empty: they can).
dk_skip_reason() {
	if [ -z "${DOCKERD:-}" ] || [ -z "${DOCKER:-}" ]; then
		echo "DOCKERD and DOCKER do not name dockerd 17.09 and the docker client (.ci/run sets them)"
	elif [ ! -x "$DOCKERD" ] || [ ! -x "$DOCKER" ]; then
		echo "DOCKERD=$DOCKERD or DOCKER=$DOCKER is not an executable"
	elif [ "$(id -u)" -ne 0 ]; then
		echo "needs root"
	elif ! command -v "$RUNC" >/dev/null; then
		echo "needs $RUNC"
	elif [ ! -x /bin/busybox ]; then
		echo "needs busybox-static"
	elif ! command -v jq >/dev/null; then
		echo "needs jq"
	elif [ ! -x "$CONTAINERD" ] || [ ! -x "$SHIM" ]; then
		echo "$CONTAINERD or $SHIM not built"
	elif [ ! -x "$PY" ]; then
		echo "needs $PY"
	elif [ -z "$IP" ] || [ -z "$UNSHARE" ]; then
		echo "needs ip (iproute2) and unshare (util-linux)"
	fi
}

# fail, assert_*, figure, wait_for, pid_alive, pid_gone, now_ms
# shellcheck source=../lib/common.bash
source "$REPO/tests/lib/common.bash"

# dk_wait [-t SECONDS] CMD...: wait_for with this file's default deadline.
dk_wait() {
	WAIT_TIMEOUT=$DK_WAIT wait_for "$@"
}

# ---------------------------------------------------------------- clients

# docker ARGS...: the 17.03 client against this file's dockerd, bounded.
docker() {
	DOCKER_CONFIG=$DK/client timeout -k 5 "$DK_CMD_TIMEOUT" "$DOCKER" -H "unix://$DK/d.sock" "$@"
}

# dk_inspect FORMAT CONTAINER: one field of docker inspect.
dk_inspect() {
	docker inspect -f "$1" "$2"
}

dk_status() {
	dk_inspect '{{.State.Status}}' "$1"
}

dk_is() {
	[ "$(dk_status "$2" 2>/dev/null)" = "$1" ]
}

# dk_run ARGS...: docker run -d --net=none ARGS..., prints the container id.
dk_run() {
	docker run -d --net=none "$@"
}

# runc_ids: the container ids runc knows under $DK/runc.
runc_ids() {
	"$RUNC" --root "$DK/runc" list -q 2>/dev/null
}

runc_has() {
	runc_ids | grep -qx "$1"
}

runc_lacks() {
	! runc_has "$1"
}

runc_state() {
	"$RUNC" --root "$DK/runc" state "$1" 2>/dev/null | jq -r .status
}

# dk_api METHOD PATH: one request to dockerd's HTTP API (python3, no curl).
dk_api() {
	"$PY" - "$DK/d.sock" "$1" "$2" <<'EOF'
import http.client, socket, sys
class C(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.path)
c = C(sys.argv[1])
c.request(sys.argv[2], sys.argv[3])
r = c.getresponse()
sys.stdout.write(r.read().decode())
sys.exit(0 if r.status < 300 else 1)
EOF
}

# dk_attach_detach CONTAINER LINE: `docker attach` on a terminal of its own
# (a pty from python3), types LINE and Enter, then the detach keys ctrl-p
# ctrl-q in two writes (dockerd 17.09 matches them one read at a time).
# Prints what the terminal showed, then "client exit N" once attach is gone
# (or "client still attached").
dk_attach_detach() {
	"$PY" - "$DOCKER" "$DK" "$1" "$2" "$3" <<'EOF'
import os, pty, select, sys, time
docker, dk, name, line = sys.argv[1:5]
pid, fd = pty.fork()
if pid == 0:
    os.environ["DOCKER_CONFIG"] = dk + "/client"
    os.execv(docker, [docker, "-H", "unix://" + dk + "/d.sock", "attach", name])
out = b""
def pump(t, until=None):
    global out
    end = time.time() + t
    while time.time() < end:
        if until is not None and until in out:
            return True
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                b = os.read(fd, 4096)
            except OSError:
                return False
            if not b:
                return False
            out += b
    return True
time.sleep(0.5)
os.write(fd, line.encode() + b"\r")
pump(10, b"\n" + sys.argv[5].encode())
os.write(fd, b"\x10")
pump(0.3)
os.write(fd, b"\x11")
pump(10)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
end = time.time() + 10
while time.time() < end:
    p, st = os.waitpid(pid, os.WNOHANG)
    if p == pid:
        print("\nclient exit %d" % os.waitstatus_to_exitcode(st))
        sys.exit(0)
    time.sleep(0.05)
os.kill(pid, 9)
print("\nclient still attached")
EOF
}

# ---------------------------------------------------------------- the image

# dk_make_rootfs_tar: $DK/busybox.tar, a busybox root filesystem made by
# tools/mkbundle (Debian's busybox-static, applet links, /etc/passwd, /etc/group).
dk_make_rootfs_tar() {
	"$MKBUNDLE" "$DK/bb" true >/dev/null || return 1
	tar -C "$DK/bb/rootfs" -cf "$DK/busybox.tar" . || return 1
	rm -rf "$DK/bb"
}

# ---------------------------------------------------------------- the daemons

# dk_layout: the directory tree and dockerd's PATH head.
dk_layout() {
	mkdir -p "$DK/bin" "$DK/client" "$DK/runc" || return 1
	ln -sfn "$(command -v "$RUNC")" "$DK/bin/docker-runc"
	ln -sfn "$CONTAINERD" "$DK/bin/docker-containerd"
	ln -sfn "$SHIM" "$DK/bin/docker-containerd-shim"
	# The --containerd mode: runc's root comes from this daemon's --runtime-args.
	echo '{}' >"$DK/daemon.json"
	# The default mode: dockerd runs docker-containerd with no runtime
	# arguments, so the runtime and its --root come with every create.
	jq -n --arg runc "$(command -v "$RUNC")" --arg root "--root=$DK/runc" \
		'{runtimes: {r: {path: $runc, runtimeArgs: [$root]}}, "default-runtime": "r"}' \
		>"$DK/daemon-default.json"
}

dk_path() {
	echo "$DK/bin:/usr/local/bin:/usr/bin:/bin"
}

# dk_start_containerd [EXTRA...]: this daemon on $DK/c.sock, as one would
# run it for `dockerd --containerd`; waits until it answers.
dk_start_containerd() {
	# In a subshell: not a job of the test's shell, which would print
	# "Killed" when a test SIGKILLs it.
	(
		PATH=$(dk_path) "$CONTAINERD" --state-dir "$DK/ctrd" --listen "unix://$DK/c.sock" \
			--runtime-args "--root=$DK/runc" --shim "$SHIM" "$@" \
			>>"$DK/containerd.log" 2>&1 3>&- </dev/null &
		echo $! >"$DK/containerd.pid"
	)
	dk_wait sock_accepts "$DK/c.sock"
}

sock_accepts() {
	[ -S "$1" ] && "$PY" -S -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])' "$1" 2>/dev/null
}

# dk_stop_pidfile FILE [-SIG]: signal the pid in FILE (default TERM), wait
# until it is gone (SIGKILL after DK_WAIT s), remove FILE.
dk_stop_pidfile() {
	local f=$1 sig=${2:--TERM} p
	[ -f "$f" ] || return 0
	p=$(cat "$f")
	rm -f "$f"
	[ -n "$p" ] || return 0
	kill "$sig" "$p" 2>/dev/null || true
	dk_wait pid_gone "$p" 2>/dev/null || { kill -9 "$p" 2>/dev/null; dk_wait -t 5 pid_gone "$p"; }
}

dk_stop_containerd() {
	dk_stop_pidfile "$DK/containerd.pid" "$@"
}

# dk_start_dockerd [--default] [FLAGS...]: dockerd on $DK/d.sock; with
# --default in its default mode (no --containerd: it starts
# docker-containerd itself). Waits until it answers `docker version`.
dk_start_dockerd() {
	local mode=(--containerd "$DK/c.sock") cfg=$DK/daemon.json
	if [ "${1:-}" = --default ]; then
		mode=()
		cfg=$DK/daemon-default.json
		shift
	fi
	echo "# ---- dockerd ${mode[*]} $* ($(date +%T.%N))" >>"$DK/dockerd.log"
	# A dockerd killed with SIGKILL leaves its pidfile, and refuses to start
	# while that pid exists, even as a zombie not reaped yet.
	if [ -s "$DK/docker.pid" ] && pid_gone "$(cat "$DK/docker.pid")"; then
		rm -f "$DK/docker.pid"
	fi
	# In a network namespace of its own (loopback up): what dockerd and
	# swarm mode do to the network (docker_gwbridge, the ingress sandbox,
	# iptables if it found it) stays off the host's; the socket is a file.
	(
		PATH=$(dk_path) DOCKER_CONFIG=$DK/client "$UNSHARE" --net -- /bin/sh -c \
			'"$0" link set lo up && exec "$@"' "$IP" "$DOCKERD" "${mode[@]}" \
			-H "unix://$DK/d.sock" --data-root "$DK/data" --exec-root "$DK/exec" \
			--pidfile "$DK/docker.pid" --deprecated-key-path "$DK/key.json" \
			--config-file "$cfg" -s "$DK_STORAGE" --cgroup-parent "$DK_CGROUP" \
			--bridge=none --iptables=false --ip-masq=false "$@" \
			>>"$DK/dockerd.log" 2>&1 3>&- </dev/null &
		echo $! >"$DK/dockerd.pid"
	)
	DK_DOCKERD_DIED=
	dk_wait dockerd_ready || return 1
	if [ -n "$DK_DOCKERD_DIED" ]; then
		tail -n 30 "$DK/dockerd.log" >&2
		fail "dockerd did not start"
	fi
}

dockerd_ready() {
	if pid_gone "$(cat "$DK/dockerd.pid")"; then
		DK_DOCKERD_DIED=1
		return 0
	fi
	docker version >/dev/null 2>&1
}

# dk_stop_dockerd [-SIG]: stop dockerd (default SIGTERM; without
# --live-restore it stops the containers first) and wait until it is gone.
dk_stop_dockerd() {
	dk_stop_pidfile "$DK/dockerd.pid" "$@"
}

# dk_containerd_pid: the pid of this daemon under dockerd, whichever mode.
dk_containerd_pid() {
	local f=$DK/exec/libcontainerd/docker-containerd.pid
	if [ -s "$DK/containerd.pid" ]; then
		cat "$DK/containerd.pid"
	elif [ -s "$f" ]; then
		cat "$f"
	fi
}

# ---------------------------------------------------------------- per file

# dk_setup_file: the whole stack once per file: this daemon, dockerd (with
# --containerd, absolute path) and the busybox image ($DK_IMAGE, its id).
dk_setup_file() {
	DK_SKIP=$(dk_skip_reason)
	export DK_SKIP
	[ -z "$DK_SKIP" ] || return 0
	DK=$(mktemp -d "${TMPDIR:-/tmp}/dk.XXXXXX") || return 1
	export DK
	export DK_CGROUP=/ctrd-compat-${DK##*.}
	export DK_RUN_DOCKER_EXISTED=0
	[ -e /run/docker ] && DK_RUN_DOCKER_EXISTED=1
	export DK_GWBRIDGE_EXISTED=0
	"$IP" link show docker_gwbridge >/dev/null 2>&1 && DK_GWBRIDGE_EXISTED=1
	dk_layout || return 1
	dk_make_rootfs_tar || return 1
	dk_start_containerd || return 1
	export DK_STORAGE=overlay2
	if ! dk_start_dockerd || ! docker info 2>/dev/null | grep -q 'Storage Driver: overlay2'; then
		echo "# overlay2 does not work here; trying vfs" >>"$DK/dockerd.log"
		dk_stop_dockerd
		DK_STORAGE=vfs
		dk_start_dockerd || return 1
	fi
	: >"$DK/dockerd.mode"
	DK_IMAGE=$(docker import "$DK/busybox.tar" busybox:latest) || return 1
	export DK_IMAGE
}

# dk_teardown_file: stop and remove everything of $DK, whatever state the
# tests left it in; print the logs' tails when asked (DK_SHOW_LOGS=1).
dk_teardown_file() {
	[ -n "${DK:-}" ] && [ -d "$DK" ] || return 0
	local p id m
	if [ -S "$DK/d.sock" ] && [ -s "$DK/dockerd.pid" ]; then
		docker swarm leave --force >/dev/null 2>&1 || true
		for id in $(docker ps -aq 2>/dev/null); do
			docker rm -f "$id" >/dev/null 2>&1 || true
		done
	fi
	dk_stop_dockerd || true
	# A docker-containerd that dockerd started and left.
	p=$(cat "$DK/exec/libcontainerd/docker-containerd.pid" 2>/dev/null)
	if [ -n "$p" ] && grep -q "$DK/" "/proc/$p/cmdline" 2>/dev/null; then
		kill -TERM "$p" 2>/dev/null
		dk_wait -t 10 pid_gone "$p" 2>/dev/null || kill -9 "$p" 2>/dev/null
	fi
	dk_stop_containerd || true
	for id in $(runc_ids); do
		"$RUNC" --root "$DK/runc" delete -f "$id" >/dev/null 2>&1 || true
	done
	# Whatever else still works for $DK (shims, a stray dockerd), by pid.
	for p in $(pgrep -f -- "$DK/" 2>/dev/null); do
		[ "$p" = $$ ] || kill -9 "$p" 2>/dev/null || true
	done
	# Mounts under $DK (overlay, shm, netns), deepest first.
	for m in $(awk -v d="$DK/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	if [ "${DK_SHOW_LOGS:-0}" = 1 ]; then
		echo "# ---- $DK/dockerd.log (last 40 lines)"
		tail -n 40 "$DK/dockerd.log" 2>/dev/null | sed 's/^/# /'
		echo "# ---- $DK/containerd.log (last 20 lines)"
		tail -n 20 "$DK/containerd.log" 2>/dev/null | sed 's/^/# /'
	fi
	rm -rf "$DK"
	# The cgroup parent, in every hierarchy (empty by now).
	for m in /sys/fs/cgroup/*"$DK_CGROUP" /sys/fs/cgroup"$DK_CGROUP"; do
		[ -d "$m" ] && rmdir "$m" 2>/dev/null
	done
	if [ "$DK_RUN_DOCKER_EXISTED" = 0 ] && [ -d /run/docker ] && ! other_dockerd; then
		for m in $(awk 'index($5, "/run/docker/") == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
		done
		rm -rf /run/docker
	fi
	return 0
}

# other_dockerd: a dockerd runs on this host (not a zombie: ours, killed, may
# wait a while for its reaper).
other_dockerd() {
	local p
	for p in $(pgrep -x dockerd); do
		pid_alive "$p" && return 0
	done
	return 1
}

# dk_setup: per test: skip with the reason, or check the stack is up.
dk_setup() {
	[ -z "$DK_SKIP" ] || skip "$DK_SKIP"
	[ -n "${DK:-}" ] && [ -d "$DK" ] || fail "the setup_file of this file failed"
}

# dk_teardown: per test: on failure, the logs' tails; containers are removed
# by the tests themselves (a test's names are its own).
dk_teardown() {
	[ -n "${DK:-}" ] && [ -d "$DK" ] || return 0
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		echo "# ---- dockerd.log (last 30 lines)"
		grep -v 'level=debug' "$DK/dockerd.log" 2>/dev/null | tail -n 30 | sed 's/^/# /'
		echo "# ---- containerd.log (last 15 lines)"
		tail -n 15 "$DK/containerd.log" 2>/dev/null | sed 's/^/# /'
	fi
}
