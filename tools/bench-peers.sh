#!/bin/bash
# bench-peers.sh: this daemon beside the runtimes people use today
# (`make bench-peers`, issue 13). Needs root.
#
# In interleaved rounds (round 1 of every runtime, then round 2, ...), on
# one busybox `sleep 100000` bundle made by tools/mkbundle, each runtime
# starts N containers from 10 parallel clients:
#   raw        `runc create` + `runc start`, private runc --root (xargs -P10)
#   daemon     this daemon (private --state-dir and runc root) through
#              bin/containerd-bench, 10 client threads
#   ctr        this daemon through `bin/ctr containers start`, 10 shells
#   containerd Debian's containerd 1.6: `/usr/bin/ctr run -d` from 10 shells;
#              its own config.toml (root, state, sockets, CRI plugin off),
#              the image imported from the bundle's rootfs (a docker-archive
#              tar made here with tar and a hand-written manifest)
#   podman     Debian's podman 4.3: `podman run -d` from 10 shells; own
#              --root/--runroot/--tmpdir, cgroupfs, --network none, file
#              events, runc; the image is `podman import` of the rootfs tar
# and, with all N running, measures the daemon's RSS and threads, every
# shim's (conmon's) RSS and PSS (smaps_rollup), the total PSS of daemon +
# shims, the list latency (median of 3), then the teardown (kill + delete
# all N until nothing of them is left). Prints one table, per round and
# the medians over the rounds.
#
# Default paths are never touched: containerd 1.6 puts its shims' sockets
# under /run/containerd/s and podman its runc state in /run/runc, its locks
# in /dev/shm and a cache in /var/lib/containers whatever the flags say, so
# each runs in a private mount namespace (unshare -m) with tmpfs over /run,
# /dev/shm and /var/lib; their roots and sockets are under the temp dir.
# The two packages are installed when missing (apt-get, no recommends)
# with a policy-rc.d that forbids starting services, and every unit the
# packages enabled is disabled again; nothing is started as a service.
#
# Environment: BENCH_PEERS_N ("100 500"), BENCH_PEERS_ROUNDS (3),
# BENCH_PEERS_ONLY (raw,daemon,ctr,containerd,podman: which runtimes),
# BENCH_PEERS_INSTALL (1: apt-get install what is missing; 0: never),
# BENCH_PEERS_KEEP=1 keeps the temp dir; CONTAINERD, SHIM, CTR, BENCH, RUNC.
# Runs with N > 100 should hold `flock /work/wt/bench.lock` on a shared host.
#
# Everything runs under a child subreaper (as tools/bench.sh); everything it
# started (daemons, shims, conmons, containers, mounts, cgroups, temp dir)
# is removed at the end and on ^C. A runtime that cannot run is reported
# in the table as failed, with the reason; the others still run.
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
SELF=$REPO/tools/bench-peers.sh

# ---- the subreaper: re-exec this script under it, once.
if [ -z "${BENCH_PEERS_REAPER:-}" ] && [ "${1:-}" != --measure ]; then
	export BENCH_PEERS_REAPER=1
	exec /usr/bin/python3 "$REPO/tools/subreaper" /bin/bash "$SELF" "$@"
fi

NS_LIST=${BENCH_PEERS_N:-100 500}
ROUNDS=${BENCH_PEERS_ROUNDS:-3}
ONLY=${BENCH_PEERS_ONLY:-raw,daemon,ctr,containerd,podman}
INSTALL=${BENCH_PEERS_INSTALL:-1}
P=10
CONTAINERD=${CONTAINERD:-$REPO/bin/containerd}
SHIM=${SHIM:-$REPO/bin/containerd-shim}
CTR=${CTR:-$REPO/bin/ctr}
BENCH=${BENCH:-$REPO/bin/containerd-bench}
RUNC=${RUNC:-runc}
# Debian's, by full path: never our bin/ctr or bin/containerd.
DEB_CONTAINERD=/usr/bin/containerd
DEB_CTR=/usr/bin/ctr
DEB_PODMAN=/usr/bin/podman

say() { printf '%s\n' "$*"; }
die() {
	say "bench-peers: $*" >&2
	exit 1
}
now_ns() { date +%s%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'; }
# median of the numbers on stdin (empty if none)
median() {
	sort -g | awk 'NF { v[++n] = $1 } END {
		if (n == 0) exit
		m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		print m }'
}

# ---- --measure: with all N running. Reads M_DAEMON (pid or empty),
# M_SHIM_RE (pgrep -f pattern of the shims), M_LIST (a command, timed 3
# times); prints key=value lines.
measure() {
	local p pids=() rss=() pss=() thr=() k t0 t1 times=() dpss=0
	if [ -n "${M_DAEMON:-}" ] && [ -r "/proc/$M_DAEMON/status" ]; then
		say "daemon_rss_kb=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$M_DAEMON/status")"
		say "daemon_threads=$(awk '$1 == "Threads:" { print $2 }' "/proc/$M_DAEMON/status")"
		dpss=$(awk '$1 == "Pss:" { print $2 }' "/proc/$M_DAEMON/smaps_rollup")
		say "daemon_pss_kb=$dpss"
	fi
	# One pgrep and one awk for all of them: a /proc walk in shell forks
	# per process, which takes minutes on a loaded 2-core machine.
	read -r -a pids <<<"$(pgrep -f -- "$M_SHIM_RE" | tr "\n" " ")"
	if [ ${#pids[@]} -gt 0 ]; then
		local files=()
		for p in "${pids[@]}"; do files+=("/proc/$p/smaps_rollup" "/proc/$p/status"); done
		read -r -a rss <<<"$(awk '$1 == "Rss:" && FILENAME ~ /smaps/ { printf "%s ", $2 }' "${files[@]}" 2>/dev/null)"
		read -r -a pss <<<"$(awk '$1 == "Pss:" && FILENAME ~ /smaps/ { printf "%s ", $2 }' "${files[@]}" 2>/dev/null)"
		read -r -a thr <<<"$(awk '$1 == "Threads:" { printf "%s ", $2 }' "${files[@]}" 2>/dev/null)"
		pids=("${pss[@]}")
	fi
	say "shims=${#pids[@]}"
	if [ ${#pids[@]} -gt 0 ]; then
		say "shim_rss_kb=$(printf '%s\n' "${rss[@]}" | median)"
		say "shim_pss_kb=$(printf '%s\n' "${pss[@]}" | median)"
		say "shim_threads=$(printf '%s\n' "${thr[@]}" | median)"
		say "total_pss_kb=$(printf '%s\n' "${pss[@]}" | awk -v d="$dpss" '{ s += $1 } END { print s + d }')"
	elif [ -n "${M_DAEMON:-}" ]; then
		say "total_pss_kb=$dpss"
	fi
	if [ -n "${M_LIST:-}" ]; then
		for k in 1 2 3; do
			t0=$(now_ns)
			eval "$M_LIST" >/dev/null 2>&1 || say "list_failed=1"
			t1=$(now_ns)
			times+=("$(ms "$t0" "$t1")")
		done
		say "list_ms=$(printf '%s\n' "${times[@]}" | median)"
	fi
	say "teardown_start_ns=$(now_ns)"
}

if [ "${1:-}" = --measure ]; then
	measure
	exit 0
fi

# ---- checks
[ "$(id -u)" -eq 0 ] || die "needs root (runc)"
command -v "$RUNC" >/dev/null || die "$RUNC not found"
RUNC_PATH=$(command -v "$RUNC")
for n in $NS_LIST; do
	case $n in '' | *[!0-9]*) die "BENCH_PEERS_N: not a number: '$n'" ;; esac
done
case $ROUNDS in '' | *[!0-9]* | 0) die "BENCH_PEERS_ROUNDS must be a number >= 1" ;; esac
RTS=()
for rt in raw daemon ctr containerd podman; do
	case ,$ONLY, in *",$rt,"*) RTS+=("$rt") ;; esac
done
[ ${#RTS[@]} -gt 0 ] || die "BENCH_PEERS_ONLY names no runtime (raw,daemon,ctr,containerd,podman)"
want() { case ,$ONLY, in *",$1,"*) return 0 ;; esac; return 1; }

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
ulimit -u unlimited 2>/dev/null || true

TMP=$(mktemp -d /tmp/ctrd-peers.XXXXXX) || die "mktemp failed"
TAG=peers$$
BUNDLE=$TMP/bundle
RESULTS=$TMP/results
: >"$RESULTS"
DAEMON_PID=
HOLDER_PID=
TICKER_PID=
BENCH_PID=
POLICY=/usr/sbin/policy-rc.d
POLICY_SAVED=
POLICY_INSTALLED=

policy_restore() {
	[ -n "$POLICY_INSTALLED" ] || return 0
	if [ -n "$POLICY_SAVED" ]; then
		mv -f "$POLICY_SAVED" "$POLICY"
	else
		rm -f "$POLICY"
	fi
	POLICY_INSTALLED=
}

# kill_matching RE: SIGKILL, by pid, every process whose command line
# matches (the patterns name this run's temp dir).
kill_matching() {
	local p
	for p in $(pgrep -f -- "$1"); do
		[ "$p" = $$ ] || kill -9 "$p" 2>/dev/null
	done
}

# cgroups_clean: kill what is in this run's cgroups, then remove them.
cgroups_clean() {
	local d k
	for k in 1 2 3; do
		for d in /sys/fs/cgroup/*/"$TAG"* /sys/fs/cgroup/"$TAG"*; do
			[ -d "$d" ] || continue
			find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -9 2>/dev/null
			find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
		done
		ls -d /sys/fs/cgroup/*/"$TAG"* /sys/fs/cgroup/"$TAG"* >/dev/null 2>&1 || return 0
		sleep 0.2
	done
}

# umount_under DIR: every mount at or below DIR (this namespace), deepest first.
umount_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print length($5), $5 }' /proc/self/mountinfo |
		sort -rn | cut -d' ' -f2- | while read -r m; do umount -l "$m" 2>/dev/null; done
}

stop_ticker() {
	[ -n "$TICKER_PID" ] && kill "$TICKER_PID" 2>/dev/null && wait "$TICKER_PID" 2>/dev/null
	TICKER_PID=
}

# Removes everything this run made; safe to run twice.
cleanup() {
	local root
	trap - EXIT INT TERM
	stop_ticker
	policy_restore
	[ -n "$BENCH_PID" ] && kill -9 "$BENCH_PID" 2>/dev/null
	for root in "$TMP"/raw-runc "$TMP"/runc; do
		[ -d "$root" ] && "$RUNC" --root "$root" list -q 2>/dev/null |
			xargs -r -P "$P" -n 1 "$RUNC" --root "$root" delete -f >/dev/null 2>&1
	done
	# Daemons, shims, conmons, namespace holders, the clients: all name $TMP.
	kill_matching "$TMP"
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
	[ -n "$HOLDER_PID" ] && kill -9 "$HOLDER_PID" 2>/dev/null
	cgroups_clean
	sleep 0.2
	kill_matching "$TMP"
	umount_under "$TMP"
	if [ "${BENCH_PEERS_KEEP:-0}" = 1 ]; then
		say "# kept $TMP"
	else
		rm -rf "$TMP" 2>/dev/null || { sleep 1; umount_under "$TMP"; rm -rf "$TMP"; }
	fi
}
trap cleanup EXIT
trap 'interrupted' INT TERM

# ---- the Debian packages, when missing
install_peers() {
	local pkgs=() before after u rc
	want containerd && { [ -x "$DEB_CONTAINERD" ] && [ -x "$DEB_CTR" ] || pkgs+=(containerd); }
	want podman && { [ -x "$DEB_PODMAN" ] || pkgs+=(podman); }
	[ ${#pkgs[@]} -gt 0 ] || return 0
	[ "$INSTALL" = 1 ] || return 0
	say "# installing ${pkgs[*]}: apt-get install --no-install-recommends, no service started"
	before=$(find /etc/systemd/system -type l 2>/dev/null | sort)
	if [ -e "$POLICY" ] || [ -L "$POLICY" ]; then
		POLICY_SAVED=$(mktemp "$POLICY.peers.XXXXXX") || return 1
		cp -a "$POLICY" "$POLICY_SAVED"
	fi
	POLICY_INSTALLED=1
	printf '#!/bin/sh\n# bench-peers: no service starts during its apt-get install\nexit 101\n' >"$POLICY.peers-new" &&
		chmod 755 "$POLICY.peers-new" && mv -f "$POLICY.peers-new" "$POLICY"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		-o DPkg::Lock::Timeout=600 "${pkgs[@]}" </dev/null >"$TMP/apt.log" 2>&1
	rc=$?
	[ $rc -ne 0 ] && { apt-get update -q >>"$TMP/apt.log" 2>&1 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			-o DPkg::Lock::Timeout=600 "${pkgs[@]}" </dev/null >>"$TMP/apt.log" 2>&1; rc=$?; }
	policy_restore
	# The packages enable their units (podman.socket, containerd.service,
	# ...): disable each one they enabled, as a package would.
	after=$(find /etc/systemd/system -type l 2>/dev/null | sort)
	comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | while read -r u; do
		[ -n "$u" ] || continue
		DPKG_MAINTSCRIPT_PACKAGE=bench-peers deb-systemd-helper disable "$(basename "$u")" >/dev/null 2>&1 ||
			rm -f "$u"
		say "# disabled $(basename "$u") (enabled by the package)"
	done
	[ $rc -eq 0 ] || { tail -n 5 "$TMP/apt.log" | sed 's/^/# apt: /'; return 1; }
}

# ---- private mount namespaces for containerd 1.6 and podman
# ns_holder DIR: a process in a new mount namespace with tmpfs over /run,
# /dev/shm and /var/lib; prints its pid. Everything of that runtime runs in
# it (nsenter), so what it puts at its default paths stays private.
ns_holder() {
	unshare -m --propagation private -- /bin/sh -c '
		mount -t tmpfs -o mode=755,size=256m peers-run /run &&
		mount -t tmpfs -o mode=1777,size=64m peers-shm /dev/shm &&
		mount -t tmpfs -o mode=755,size=64m peers-varlib /var/lib &&
		touch "$1/holder-ready" && exec sleep 1000000' sh "$1" >/dev/null 2>&1 &
	local pid=$! k
	for k in $(seq 100); do
		[ -e "$1/holder-ready" ] && { echo "$pid"; return 0; }
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	kill -9 "$pid"
	return 1
}

# ---- the image for containerd and podman: from the bundle's rootfs
make_images() {
	local d=$TMP/image diff cfgsum
	mkdir -p "$d/docker"
	tar -C "$BUNDLE/rootfs" --numeric-owner -cf "$d/rootfs.tar" . || return 1
	cp "$d/rootfs.tar" "$d/docker/layer.tar"
	diff=$(sha256sum "$d/docker/layer.tar" | cut -d' ' -f1)
	cat >"$d/docker/config.json" <<EOF
{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sleep","100000"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:$diff"]},"history":[{"created_by":"bench-peers: tools/mkbundle rootfs"}]}
EOF
	cfgsum=$(sha256sum "$d/docker/config.json" | cut -d' ' -f1)
	mv "$d/docker/config.json" "$d/docker/$cfgsum.json"
	cat >"$d/docker/manifest.json" <<EOF
[{"Config":"$cfgsum.json","RepoTags":["peers/sleep:latest"],"Layers":["layer.tar"]}]
EOF
	tar -C "$d/docker" -cf "$d/docker.tar" manifest.json "$cfgsum.json" layer.tar || return 1
}

# ---------------------------------------------------------------- progress
# ticker COUNT-CMD N: prints "started X of N, R/s" every 10 s until stopped.
ticker() {
	local t0 c
	t0=$(now_ns)
	while sleep 10; do
		c=$(eval "$1" 2>/dev/null)
		say "    ... $c of $2 started, $(awk -v c="${c:-0}" -v a="$t0" -v b="$(now_ns)" \
			'BEGIN { printf "%.1f", c * 1e9 / (b - a) }')/s"
	done
}
start_ticker() {
	ticker "$1" "$2" &
	TICKER_PID=$!
}

# rec KEY VALUE: one result of this step (N, round, runtime set by step).
rec() { say "$CUR_N $CUR_ROUND $CUR_RT $1 $2" >>"$RESULTS"; }
# rec_peak FILE: every key=value of a --measure output.
rec_peak() {
	local k v
	while IFS='=' read -r k v; do
		[ -n "$k" ] && [ "$k" != teardown_start_ns ] && rec "$k" "$v"
	done <"$1"
}

# wait_until SECS CMD...: until CMD succeeds; 1 on timeout.
wait_until() {
	local end=$(($(date +%s) + $1))
	shift
	while ! "$@"; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

# xargs_start ONE-SCRIPT N: run ONE-SCRIPT ID for N ids, P at a time;
# sets START_MS. Ids are $ID_PREFIX$k; each success appends to $PROG.
xargs_start() {
	local t0 t1
	: >"$PROG"
	start_ticker "wc -l <'$PROG'" "$2"
	t0=$(now_ns)
	seq 0 $(($2 - 1)) | sed "s/^/$ID_PREFIX/" | xargs -P "$P" -n 1 "$1"
	t1=$(now_ns)
	stop_ticker
	START_MS=$(ms "$t0" "$t1")
}

# errors_of DIR: the most common error lines of failed starts.
errors_of() {
	cat "$1"/err.* 2>/dev/null | grep -v '^$' | sed 's/time="[^"]*" //' |
		sort | uniq -c | sort -rn | head -n 2 | sed 's/^ *//' | tr '\n' ';' | cut -c1-300
}

rate_of() { awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.1f", (ms > 0 ? n * 1000 / ms : 0) }'; }

# ---------------------------------------------------------------- raw runc
step_raw() {
	local N=$1 root=$TMP/raw-runc d=$TMP/step t0 t1 ok
	rm -rf "$root" "$d"
	mkdir -p "$root" "$d"
	cat >"$d/one" <<EOF
#!/bin/sh
"$RUNC" --root "$root" create --bundle "$BUNDLE" "\$1" </dev/null >/dev/null 2>"$d/err.\$1" &&
	"$RUNC" --root "$root" start "\$1" 2>>"$d/err.\$1" && rm -f "$d/err.\$1" && echo >>"$PROG"
EOF
	chmod +x "$d/one"
	xargs_start "$d/one" "$N"
	ok=$("$RUNC" --root "$root" list -q | wc -l)
	rec started "$ok"
	rec start_ms "$START_MS"
	rec rate "$(rate_of "$ok" "$START_MS")"
	[ "$ok" -lt "$N" ] && rec errors "$(errors_of "$d")"
	M_DAEMON='' M_SHIM_RE='^bench-peers: none$' \
		M_LIST="'$RUNC' --root '$root' list -q" measure >"$d/peak"
	rec_peak "$d/peak"
	t0=$(now_ns)
	"$RUNC" --root "$root" list -q | xargs -r -P "$P" -n 1 "$RUNC" --root "$root" delete -f
	wait_until 60 eval "[ -z \"\$('$RUNC' --root '$root' list -q)\" ]"
	t1=$(now_ns)
	rec teardown_ms "$(ms "$t0" "$t1")"
	rec left "$("$RUNC" --root "$root" list -q | wc -l)"
}

# ---------------------------------------------------------------- this daemon
daemon_start() {
	STATE=$TMP/state
	SOCK=$STATE/containerd.sock
	RUNC_ROOT=$TMP/runc
	rm -rf "$STATE" "$RUNC_ROOT"
	mkdir -p "$STATE" "$RUNC_ROOT"
	"$CONTAINERD" --state-dir "$STATE" --listen "$SOCK" --shim "$SHIM" \
		--runtime-args "--root=$RUNC_ROOT" >"$TMP/daemon.log" 2>&1 &
	DAEMON_PID=$!
	local k
	for k in $(seq 100); do
		[ -S "$SOCK" ] && "$CTR" --address "$SOCK" version >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	FAIL="the daemon did not start: $(tail -n 1 "$TMP/daemon.log")"
	return 1
}

daemon_stop() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait_until 10 eval "! kill -0 $DAEMON_PID 2>/dev/null"
	kill -9 "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	kill_matching " --dir $STATE/"
	"$RUNC" --root "$RUNC_ROOT" list -q 2>/dev/null |
		xargs -r -P "$P" -n 1 "$RUNC" --root "$RUNC_ROOT" delete -f >/dev/null 2>&1
	rm -rf "$STATE" "$RUNC_ROOT"
}

# Nothing of this daemon's containers left: runc's root, shims, the list.
daemon_empty() {
	[ -z "$(ls -A "$RUNC_ROOT" 2>/dev/null)" ] &&
		! pgrep -f -- "containerd-shim.* --dir $STATE/" >/dev/null &&
		[ "$("$CTR" --address "$SOCK" containers 2>/dev/null | grep -c "$TAG")" -eq 0 ]
}

daemon_measure_env() {
	export M_DAEMON=$DAEMON_PID M_SHIM_RE="^[^ ]*containerd-shim .* --dir $STATE/"
	export M_LIST="'$CTR' --address '$SOCK' containers"
}

step_daemon() {
	local N=$1 d=$TMP/step t1 rc td0 rate
	rm -rf "$d"
	mkdir -p "$d"
	daemon_start || return 1
	daemon_measure_env
	start_ticker "ls '$RUNC_ROOT' | wc -l" "$N"
	"$BENCH" --count "$N" --workers "$P" --address "$SOCK" --bundle "$BUNDLE" \
		--id-prefix "$ID_PREFIX" \
		--at-peak "BENCH_PEERS_REAPER=1 /bin/bash '$SELF' --measure > '$d/peak'" \
		>"$d/bench.out" 2>"$d/bench.err" &
	BENCH_PID=$!
	wait "$BENCH_PID"
	rc=$?
	BENCH_PID=
	stop_ticker
	wait_until 120 daemon_empty
	t1=$(now_ns)
	rate=$(awk '$1 == "containers/second:" { print $2; exit }' "$d/bench.out")
	rec started "$(awk '$1 == "count:" { print $2; exit }' "$d/bench.out")"
	rec rate "${rate:-0}"
	[ $rc -ne 0 ] && rec errors "containerd-bench exit $rc: $(grep -i -m1 -E 'fail|error' "$d/bench.out" "$d/bench.err" | cut -c1-200)"
	[ -s "$d/peak" ] && rec_peak "$d/peak"
	td0=$(sed -n 's/^teardown_start_ns=//p' "$d/peak" 2>/dev/null)
	[ -n "$td0" ] && rec teardown_ms "$(ms "$td0" "$t1")"
	daemon_empty && rec left 0 || rec left "$(ls "$RUNC_ROOT" | wc -l)"
	daemon_stop
}

step_ctr() {
	local N=$1 d=$TMP/step t0 t1 ok
	rm -rf "$d"
	mkdir -p "$d"
	daemon_start || return 1
	cat >"$d/one" <<EOF
#!/bin/sh
"$CTR" --address "$SOCK" containers start "\$1" "$BUNDLE" </dev/null >/dev/null 2>"$d/err.\$1" &&
	rm -f "$d/err.\$1" && echo >>"$PROG"
EOF
	chmod +x "$d/one"
	xargs_start "$d/one" "$N"
	ok=$("$CTR" --address "$SOCK" containers | grep -c "^$ID_PREFIX.*running")
	rec started "$ok"
	rec start_ms "$START_MS"
	rec rate "$(rate_of "$ok" "$START_MS")"
	[ "$ok" -lt "$N" ] && rec errors "$(errors_of "$d")"
	daemon_measure_env
	measure >"$d/peak"
	rec_peak "$d/peak"
	t0=$(now_ns)
	"$CTR" --address "$SOCK" containers | awk -v p="$ID_PREFIX" 'index($1, p) == 1 { print $1 }' |
		xargs -r -P "$P" -n 1 "$CTR" --address "$SOCK" containers kill -s KILL >/dev/null 2>"$d/kill.err"
	wait_until 120 daemon_empty
	t1=$(now_ns)
	rec teardown_ms "$(ms "$t0" "$t1")"
	daemon_empty && rec left 0 || rec left "$(ls "$RUNC_ROOT" | wc -l)"
	daemon_stop
}

# ---------------------------------------------------------------- containerd 1.6
CD=$TMP/containerd
cd_ctr() { "$DEB_CTR" --address "$CD/containerd.sock" -n bench "$@"; }

cd_start() {
	rm -rf "$CD"
	mkdir -p "$CD/root" "$CD/state" "$CD/opt" "$CD/logs"
	cat >"$CD/config.toml" <<EOF
version = 2
root = "$CD/root"
state = "$CD/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CD/containerd.sock"
[ttrpc]
  address = "$CD/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$CD/opt"
EOF
	HOLDER_PID=$(ns_holder "$CD") || { FAIL="unshare -m failed"; return 1; }
	nsenter -t "$HOLDER_PID" -m -- "$DEB_CONTAINERD" --config "$CD/config.toml" \
		>"$CD/daemon.log" 2>&1 &
	DAEMON_PID=$!
	local k
	for k in $(seq 200); do
		[ -S "$CD/containerd.sock" ] && cd_ctr version >/dev/null 2>&1 && break
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! cd_ctr version >/dev/null 2>&1; then
		FAIL="containerd did not start: $(tail -n 1 "$CD/daemon.log" | cut -c1-200)"
		return 1
	fi
	cd_ctr images import "$TMP/image/docker.tar" >"$CD/import.log" 2>&1 ||
		{ FAIL="ctr images import: $(tail -n 1 "$CD/import.log")"; return 1; }
}

cd_shims() { pgrep -f -- "containerd-shim-runc-v2 .*-address $CD/containerd.sock" >/dev/null; }
cd_empty() {
	[ -z "$(cd_ctr containers ls -q 2>/dev/null)" ] && [ -z "$(cd_ctr tasks ls -q 2>/dev/null)" ] && ! cd_shims
}

cd_stop() {
	[ -n "$DAEMON_PID" ] && kill -TERM "$DAEMON_PID" 2>/dev/null &&
		wait_until 10 eval "! kill -0 $DAEMON_PID 2>/dev/null"
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	kill_matching "-address $CD/containerd.sock"
	cgroups_clean
	# The overlay mounts are in the namespace: it goes with its last process.
	[ -n "$HOLDER_PID" ] && {
		nsenter -t "$HOLDER_PID" -m -- /bin/sh -c "$(declare -f umount_under); umount_under '$CD'" 2>/dev/null
		kill -9 "$HOLDER_PID" 2>/dev/null
		wait "$HOLDER_PID" 2>/dev/null
	}
	HOLDER_PID=
	rm -rf "$CD"
}

step_containerd() {
	local N=$1 d=$TMP/step t0 t1 ok
	rm -rf "$d"
	mkdir -p "$d"
	cd_start || return 1
	cat >"$d/one" <<EOF
#!/bin/sh
"$DEB_CTR" --address "$CD/containerd.sock" -n bench run -d --log-uri "file://$CD/logs/\$1.log" \
	--cgroup "/$TAG-ctrd/\$1" docker.io/peers/sleep:latest "\$1" sleep 100000 \
	</dev/null >/dev/null 2>"$d/err.\$1" && rm -f "$d/err.\$1" && echo >>"$PROG"
EOF
	chmod +x "$d/one"
	xargs_start "$d/one" "$N"
	ok=$(cd_ctr tasks ls | grep -c "^$ID_PREFIX.*RUNNING")
	rec started "$ok"
	rec start_ms "$START_MS"
	rec rate "$(rate_of "$ok" "$START_MS")"
	[ "$ok" -lt "$N" ] && rec errors "$(errors_of "$d")"
	M_DAEMON=$DAEMON_PID M_SHIM_RE="^[^ ]*containerd-shim-runc-v2 .*-address $CD/containerd.sock( |$)" \
		M_LIST="'$DEB_CTR' --address '$CD/containerd.sock' -n bench containers ls" measure >"$d/peak"
	rec_peak "$d/peak"
	M_DAEMON='' M_SHIM_RE='^bench-peers: none$' \
		M_LIST="'$DEB_CTR' --address '$CD/containerd.sock' -n bench tasks ls" measure >"$d/peak2"
	rec list2_ms "$(sed -n 's/^list_ms=//p' "$d/peak2")"
	cat >"$d/del" <<EOF
#!/bin/sh
"$DEB_CTR" --address "$CD/containerd.sock" -n bench tasks delete --force "\$1" >/dev/null 2>>"$d/del.err"
"$DEB_CTR" --address "$CD/containerd.sock" -n bench containers delete "\$1" >/dev/null 2>>"$d/del.err"
EOF
	chmod +x "$d/del"
	t0=$(now_ns)
	cd_ctr containers ls -q | xargs -r -P "$P" -n 1 "$d/del"
	wait_until 120 cd_empty
	t1=$(now_ns)
	rec teardown_ms "$(ms "$t0" "$t1")"
	cd_empty && rec left 0 || rec left "$(cd_ctr containers ls -q | wc -l)"
	cd_stop
}

# ---------------------------------------------------------------- podman 4.3
PD=$TMP/podman
pm() {
	CONTAINERS_CONF=$PD/containers.conf TMPDIR=$PD/vartmp \
		nsenter -t "$HOLDER_PID" -m -- "$DEB_PODMAN" --root "$PD/root" --runroot "$PD/runroot" \
		--tmpdir "$PD/tmp" --cgroup-manager cgroupfs --events-backend file \
		--runtime "$RUNC_PATH" --network-config-dir "$PD/net" --storage-driver overlay "$@"
}

pd_start() {
	rm -rf "$PD"
	mkdir -p "$PD/root" "$PD/runroot" "$PD/tmp" "$PD/net" "$PD/vartmp"
	# Read instead of the user's and the system's containers.conf.
	cat >"$PD/containers.conf" <<EOF
[engine]
events_logger = "file"
cgroup_manager = "cgroupfs"
EOF
	HOLDER_PID=$(ns_holder "$PD") || { FAIL="unshare -m failed"; return 1; }
	pm import "$TMP/image/rootfs.tar" localhost/peers-sleep:latest >"$PD/import.log" 2>&1 ||
		{ FAIL="podman import: $(tail -n 1 "$PD/import.log" | cut -c1-200)"; return 1; }
}

pd_conmons() { pgrep -f -- "conmon .*$PD/" >/dev/null; }
pd_empty() { [ -z "$(pm ps -aq 2>/dev/null)" ] && ! pd_conmons; }

pd_stop() {
	[ -n "$HOLDER_PID" ] && pm rm -af -t 0 >/dev/null 2>&1
	kill_matching "$PD/"
	cgroups_clean
	[ -n "$HOLDER_PID" ] && {
		nsenter -t "$HOLDER_PID" -m -- /bin/sh -c "$(declare -f umount_under); umount_under '$PD'" 2>/dev/null
		kill -9 "$HOLDER_PID" 2>/dev/null
		wait "$HOLDER_PID" 2>/dev/null
	}
	HOLDER_PID=
	umount_under "$PD"
	rm -rf "$PD"
}

step_podman() {
	local N=$1 d=$TMP/step t0 t1 ok
	rm -rf "$d"
	mkdir -p "$d"
	pd_start || return 1
	# nofile and nproc as the bundle's (runc spec) and containerd's
	# default: podman's own default, above the hard limit, fails here
	# when root lacks CAP_SYS_RESOURCE.
	cat >"$d/one" <<EOF
#!/bin/bash
$(declare -p PD HOLDER_PID DEB_PODMAN RUNC_PATH)
$(declare -f pm)
pm run -d --pull never --name "\$1" --network none --cgroup-parent "/$TAG-podman" \
	--log-driver k8s-file --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
	localhost/peers-sleep:latest sleep 100000 </dev/null >/dev/null 2>"$d/err.\$1" &&
	rm -f "$d/err.\$1" && echo >>"$PROG"
EOF
	chmod +x "$d/one"
	xargs_start "$d/one" "$N"
	ok=$(pm ps --format '{{.Names}}' | grep -c "^$ID_PREFIX")
	rec started "$ok"
	rec start_ms "$START_MS"
	rec rate "$(rate_of "$ok" "$START_MS")"
	[ "$ok" -lt "$N" ] && rec errors "$(errors_of "$d")"
	M_DAEMON='' M_SHIM_RE="^[^ ]*conmon .*$PD/" \
		M_LIST="pm ps" measure >"$d/peak"
	rec_peak "$d/peak"
	cat >"$d/del" <<EOF
#!/bin/bash
$(declare -p PD HOLDER_PID DEB_PODMAN RUNC_PATH)
$(declare -f pm)
pm rm -f -t 0 "\$1" >/dev/null 2>>"$d/del.err"
EOF
	chmod +x "$d/del"
	t0=$(now_ns)
	pm ps -aq | xargs -r -P "$P" -n 1 "$d/del"
	wait_until 120 pd_empty
	t1=$(now_ns)
	rec teardown_ms "$(ms "$t0" "$t1")"
	pd_empty && rec left 0 || rec left "$(pm ps -aq | wc -l)"
	pd_stop
}

# ---------------------------------------------------------------- the table
label() {
	case $1 in
	raw) say "raw runc (create+start)" ;;
	daemon) say "this daemon, containerd-bench" ;;
	ctr) say "this daemon, bin/ctr x10 shells" ;;
	containerd) say "containerd ${CD_VERSION:-1.6}, ctr run -d" ;;
	podman) say "podman ${PD_VERSION:-4.3}, run -d" ;;
	esac
}

print_table() {
	local labels=() rt
	for rt in raw daemon ctr containerd podman; do labels+=("$rt=$(label "$rt")"); done
	awk -v order="raw daemon ctr containerd podman" -v rounds="$ROUNDS" -v ns="$NS_LIST" \
		-v labels="$(printf '%s\n' "${labels[@]}")" '
	function med(list,    a, n, i, j, t) {
		n = split(list, a, " ")
		if (n == 0) return ""
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function mib(kb) { return (kb == "") ? "" : sprintf("%.1f MiB", kb / 1024) }
	function kbs(kb) { return (kb == "") ? "" : (kb + 0 >= 10240 ? sprintf("%.1f MiB", kb / 1024) : sprintf("%d kB", kb)) }
	function secs(m) { return (m == "") ? "" : (m >= 1000 ? sprintf("%.1f s", m / 1000) : sprintf("%.0f ms", m)) }
	function row(n, rt, r, v,    cells, s) {
		# v: array of values for this row
		s = "| " n " | " lab[rt] " | " r " | "
		if (v["failed"] != "") {
			print s "**failed**: " v["failed"] " | | | | | | | |"
			return
		}
		s = s v["started"] " | " (v["rate"] == "" ? "" : "**" sprintf("%.1f", v["rate"]) "**") " | " v["ratio"] " | "
		if (rt == "raw") s = s "no daemon | no shim | | "
		else if (rt == "podman") s = s "no daemon (podman has none) | " v["shim"] " | " mib(v["total_pss_kb"]) " | "
		else s = s kbs(v["daemon_rss_kb"]) ", " v["daemon_threads"] " thr | " v["shim"] " | " mib(v["total_pss_kb"]) " | "
		s = s v["list"] " | " secs(v["teardown_ms"]) " |"
		if (v["errors"] != "") s = s " errors: " v["errors"]
		print s
	}
	BEGIN {
		nl = split(labels, L, "\n")
		for (i = 1; i <= nl; i++) { k = L[i]; sub(/=.*/, "", k); x = L[i]; sub(/^[^=]*=/, "", x); lab[k] = x }
	}
	{
		key = $1 SUBSEP $2 SUBSEP $3
		val = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ ?/, "", val)
		D[key, $4] = val
		seen[$1, $3] = 1
	}
	END {
		nrt = split(order, RT, " "); nn = split(ns, NN, " ")
		print "| N | runtime | round | started | start rate /s | x raw (same round) | daemon RSS, threads at N | per container: shim RSS / PSS (median), threads | total PSS daemon + shims at N | list at N (median of 3) | teardown (kill + delete all) |"
		print "|---|---|---|---|---|---|---|---|---|---|---|"
		for (i = 1; i <= nn; i++) {
			n = NN[i]
			for (j = 1; j <= nrt; j++) {
				rt = RT[j]
				if (!((n, rt) in seen)) continue
				delete M
				for (r = 1; r <= rounds; r++) {
					k = n SUBSEP r SUBSEP rt
					delete v
					if ((k, "failed") in D) { v["failed"] = D[k, "failed"]; row(n, rt, r, v); continue }
					if (!((k, "started") in D)) continue
					v["started"] = D[k, "started"] "/" n
					v["rate"] = D[k, "rate"]; M["rate"] = M["rate"] " " v["rate"]
					raw = D[n SUBSEP r SUBSEP "raw", "rate"]
					if (raw + 0 > 0) { v["ratio"] = sprintf("%.2fx", v["rate"] / raw); M["ratio"] = M["ratio"] " " v["rate"] / raw }
					else v["ratio"] = (rt == "raw") ? "" : "-"
					if (rt == "raw") v["ratio"] = "1.00x"
					for (f = 1; f <= 6; f++) {
						split("daemon_rss_kb daemon_threads total_pss_kb teardown_ms shim_rss_kb shim_pss_kb", F, " ")
						v[F[f]] = D[k, F[f]]
						if (v[F[f]] != "") M[F[f]] = M[F[f]] " " v[F[f]]
					}
					v["shim_threads"] = D[k, "shim_threads"]
					if (v["shim_threads"] != "") M["shim_threads"] = M["shim_threads"] " " v["shim_threads"]
					if (D[k, "shims"] + 0 > 0)
						v["shim"] = sprintf("%s / %s, %s thr (%d shims)", kbs(v["shim_rss_kb"]), kbs(v["shim_pss_kb"]), v["shim_threads"], D[k, "shims"])
					else v["shim"] = (rt == "raw") ? "" : "none found"
					v["list"] = (D[k, "list_ms"] == "") ? "" : sprintf("%.0f ms", D[k, "list_ms"])
					if (D[k, "list_ms"] != "") M["list"] = M["list"] " " D[k, "list_ms"]
					if (rt == "containerd" && D[k, "list2_ms"] != "") {
						v["list"] = v["list"] " (c ls), " sprintf("%.0f ms", D[k, "list2_ms"]) " (t ls)"
						M["list2"] = M["list2"] " " D[k, "list2_ms"]
					}
					if (D[k, "errors"] != "") v["errors"] = D[k, "errors"]
					if (D[k, "left"] + 0 > 0) v["errors"] = v["errors"] " " D[k, "left"] " LEFT after teardown"
					row(n, rt, r, v)
					M["n"]++
				}
				if (M["n"] < 2) continue
				delete v
				v["started"] = ""
				v["rate"] = med(M["rate"])
				v["ratio"] = (M["ratio"] == "") ? (rt == "raw" ? "1.00x" : "-") : sprintf("%.2fx", med(M["ratio"]))
				split("daemon_rss_kb daemon_threads total_pss_kb teardown_ms shim_rss_kb shim_pss_kb shim_threads", F, " ")
				for (f = 1; f <= 7; f++) v[F[f]] = med(M[F[f]])
				v["shim"] = (v["shim_rss_kb"] == "") ? "" : sprintf("%s / %s, %s thr", kbs(v["shim_rss_kb"]), kbs(v["shim_pss_kb"]), v["shim_threads"])
				v["list"] = (M["list"] == "") ? "" : sprintf("%.0f ms", med(M["list"]))
				if (M["list2"] != "") v["list"] = v["list"] " (c ls), " sprintf("%.0f ms", med(M["list2"])) " (t ls)"
				row(n, rt, "**median**", v)
			}
		}
	}' "$RESULTS"
}

# ^C: the table of the steps done so far, then the cleanup (EXIT trap).
interrupted() {
	trap - INT TERM
	stop_ticker
	say "bench-peers: interrupted, cleaning up" >&2
	if [ -s "$RESULTS" ]; then
		say ""
		say "== the steps done before the interrupt"
		print_table
	fi
	exit 130
}

# ---------------------------------------------------------------- run
say "== bench-peers: N = $NS_LIST, $ROUNDS round(s), $P parallel clients; runtimes: ${RTS[*]}"
say "machine: $(nproc) cpus, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
	"$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
say "build: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo ' (modified)')"
say "load before: $(cat /proc/loadavg)"
say "ulimit -n $(ulimit -n), -u $(ulimit -u); pid_max $(cat /proc/sys/kernel/pid_max)"
say "temp dir: $TMP; container ids and cgroups: $TAG-*"

sh "$REPO/tools/mkbundle" "$BUNDLE" sleep 100000 >/dev/null || die "mkbundle failed"

declare -A RT_FAIL=()
if want daemon || want ctr; then
	for f in "$CONTAINERD" "$SHIM" "$CTR" "$BENCH"; do
		[ -x "$f" ] || { RT_FAIL[daemon]="$f not built: run make"; RT_FAIL[ctr]=${RT_FAIL[daemon]}; }
	done
fi
if want containerd || want podman; then
	install_peers || say "# apt-get install failed (see above)"
	if want containerd; then
		if [ ! -x "$DEB_CONTAINERD" ] || [ ! -x "$DEB_CTR" ]; then
			RT_FAIL[containerd]="Debian's containerd not installed ($DEB_CONTAINERD, $DEB_CTR)"
		elif ! command -v containerd-shim-runc-v2 >/dev/null; then
			RT_FAIL[containerd]="containerd-shim-runc-v2 not found"
		fi
		CD_VERSION=$("$DEB_CONTAINERD" --version 2>/dev/null | awk '{ print $3 }')
		say "containerd: $("$DEB_CONTAINERD" --version 2>&1 | head -n1)"
	fi
	if want podman; then
		[ -x "$DEB_PODMAN" ] || RT_FAIL[podman]="Debian's podman not installed ($DEB_PODMAN)"
		command -v conmon >/dev/null || RT_FAIL[podman]="conmon not found"
		PD_VERSION=$("$DEB_PODMAN" --version 2>/dev/null | awk '{ print $3 }')
		say "podman: $("$DEB_PODMAN" --version 2>&1 | head -n1), conmon $(conmon --version 2>/dev/null | awk 'NR == 1 { print $3 }')"
	fi
	make_images || die "could not build the image tars"
fi
say "runc: $("$RUNC" --version | head -n1)"

# ETA: seconds per container (start + teardown) and per step, as measured
# so far per runtime; first guesses from this machine.
declare -A SPC=([raw]=0.12 [daemon]=0.08 [ctr]=0.12 [containerd]=0.35 [podman]=0.7)
declare -A OVH=([raw]=1 [daemon]=2 [ctr]=2 [containerd]=5 [podman]=5)
eta() {
	local left=0 n r rt started=0
	for n in $NS_LIST; do
		for r in $(seq "$ROUNDS"); do
			for rt in "${RTS[@]}"; do
				if [ "$started" = 1 ]; then
					[ -n "${RT_FAIL[$rt]:-}" ] && continue
					left=$(awk -v l="$left" -v n="$n" -v s="${SPC[$rt]}" -v o="${OVH[$rt]}" 'BEGIN { print l + n * s + o }')
				fi
				[ "$n $r $rt" = "$1" ] && started=1
			done
		done
	done
	awk -v s="$left" 'BEGIN { printf "%dm%02ds", s / 60, s % 60 }'
}

total_steps=$(($(wc -w <<<"$NS_LIST") * ROUNDS * ${#RTS[@]}))
step=0
for CUR_N in $NS_LIST; do
	for CUR_ROUND in $(seq "$ROUNDS"); do
		for CUR_RT in "${RTS[@]}"; do
			step=$((step + 1))
			if [ -n "${RT_FAIL[$CUR_RT]:-}" ]; then
				rec failed "${RT_FAIL[$CUR_RT]}"
				continue
			fi
			say "[$step/$total_steps] N=$CUR_N round $CUR_ROUND/$ROUNDS: $(label "$CUR_RT")" \
				"(load $(cut -d' ' -f1 /proc/loadavg); ETA after this step $(eta "$CUR_N $CUR_ROUND $CUR_RT"))"
			ID_PREFIX=$TAG-$CUR_RT-$CUR_ROUND-
			PROG=$TMP/progress
			FAIL=
			t_step=$(now_ns)
			"step_$CUR_RT" "$CUR_N"
			rc=$?
			stop_ticker
			if [ $rc -ne 0 ]; then
				[ -n "$FAIL" ] || FAIL="exit status $rc"
				say "    FAILED: $FAIL"
				rec failed "$FAIL"
				# A runtime that cannot start does not get tried again.
				RT_FAIL[$CUR_RT]=$FAIL
				case $CUR_RT in
				daemon | ctr) daemon_stop ;;
				containerd) cd_stop ;;
				podman) pd_stop ;;
				esac
				continue
			fi
			cgroups_clean
			secs=$(awk -v a="$t_step" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
			SPC[$CUR_RT]=$(awk -v s="$secs" -v n="$CUR_N" -v o="${OVH[$CUR_RT]}" 'BEGIN { x = (s - o) / n; print (x > 0.001 ? x : 0.001) }')
			get() { awk -v n="$CUR_N" -v r="$CUR_ROUND" -v rt="$CUR_RT" -v k="$1" \
				'$1 == n && $2 == r && $3 == rt && $4 == k { $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print; exit }' "$RESULTS"; }
			say "    $(get started)/$CUR_N started, $(get rate)/s; shims $(get shims), daemon RSS $(r=$(get daemon_rss_kb); [ -n "$r" ] && echo "$r kB" || echo none);" \
				"list $(get list_ms) ms; teardown $(get teardown_ms) ms; left $(get left); step ${secs} s"
			e=$(get errors)
			[ -n "$e" ] && say "    errors: $e"
		done
	done
done

say ""
say "load after: $(cat /proc/loadavg)"
say ""
print_table
say ""
say "Rate: containers started / wall time of the N starts (containerd-bench's own figure for"
say "it). x raw: against raw runc in the same round. RSS, PSS from /proc/PID/smaps_rollup."
say "Shims: containerd-shim (this daemon), containerd-shim-runc-v2 (containerd), conmon (podman)."
say "List: runc list; bin/ctr containers; ctr containers ls and tasks ls; podman ps."
say "Teardown: raw runc delete -f; containerd-bench's SIGKILLs / ctr containers kill -s KILL until"
say "runc's root, the shims and the list are empty; ctr tasks delete --force + containers delete;"
say "podman rm -f -t 0 (all $P in parallel) until nothing is listed and no shim is left."
awk '$4 == "failed" || $4 == "left" && $5 > 0 { bad = 1 } END { exit bad }' "$RESULTS"
