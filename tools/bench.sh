#!/bin/bash
# bench.sh: the start-rate and density benchmark of issue 6 (`make bench`).
#
# On one busybox `sleep` bundle, in one run:
#   raw      N containers by `runc create` + `runc start` directly, P at a
#            time (xargs -P), with a private runc --root: the runtime's own
#            limit. Then `runc delete -f` of all N, P at a time, timed.
#   daemon   a private containerd (own --state-dir, --runtime-args
#            --root=<own>) driven by bin/containerd-bench: N creates from W
#            clients. With all N running: the daemon's peak RSS (VmHWM),
#            threads and fds; every shim's RSS and PSS (smaps_rollup);
#            State timed. Then the bench SIGKILLs all and times the exits.
# and prints both rates, their ratio, and each figure against its target.
#
# Both halves print progress on stderr while they start (started so far,
# rate, ETA) and the start rate of every BENCH_SLICE containers; the table
# at the end puts the slices side by side and says whether the rate falls
# with N. CPU: the daemon's own (its schedstat run time, over the start
# phase) and the shims' own (not their children's) per container, against
# runc's per container in the raw half (the CPU of the raw half's children).
#
# Environment: BENCH_N (1000; 10000 with BENCH_SCALE=1), BENCH_W (100),
# BENCH_P raw parallelism (10), BENCH_CONCURRENCY the daemon's
# --concurrency (its default, 10), BENCH_SLICE (1000 from N=5000 on, else
# N/5), BENCH_PROGRESS seconds between progress lines (10), BENCH_LOAD=K
# runs K CPU-bound loops beside the whole run, BENCH_SCALE=1 (`make
# bench-scale`) the targets of issue 13 at 10,000, BENCH_DAEMON_ARGS more
# flags for the daemon (e.g. --start-timeout 120s on a loaded machine),
# BENCH_MEM_GUARD percent of memory left that stops the run (5),
# CONTAINERD, SHIM, CTR,
# BENCH, RUNC (the programs; default bin/ and runc), BENCH_KEEP=1 keeps the
# temp dir. Needs root.
#
# Host limits: pid_max, threads-max, the root keyring quota (runc makes a
# session keyring per container) and RLIMIT_NOFILE are raised when N needs
# more than they allow, and the sysctls put back at the end, also on ^C.
#
# Everything runs under a child subreaper (a few lines of python3): runc's
# containers are orphans once `runc create` returns, and this VM's pid 1
# may not reap them. Everything it started (containers, shims, the daemon,
# the temp dir) is removed at the end, also on ^C.
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
SELF=$REPO/tools/bench.sh

# ---- the subreaper: re-exec this script under it, once.
if [ -z "${BENCH_REAPER:-}" ] && [ "${1:-}" != --measure ]; then
	export BENCH_REAPER=1
	exec /usr/bin/python3 "$REPO/tools/subreaper" /bin/bash "$SELF" "$@"
fi

SCALE=${BENCH_SCALE:-0}
MEM_GUARD=${BENCH_MEM_GUARD:-5}
if [ "$SCALE" = 1 ]; then N=${BENCH_N:-10000}; else N=${BENCH_N:-1000}; fi
W=${BENCH_W:-100}
P=${BENCH_P:-10}
CONCURRENCY=${BENCH_CONCURRENCY:-10}
LOAD=${BENCH_LOAD:-0}
PIDS_PER=${BENCH_PIDS_PER_CONTAINER:-4}
PROGRESS=${BENCH_PROGRESS:-10}
CONTAINERD=${CONTAINERD:-$REPO/bin/containerd}
SHIM=${SHIM:-$REPO/bin/containerd-shim}
CTR=${CTR:-$REPO/bin/ctr}
BENCH=${BENCH:-$REPO/bin/containerd-bench}
RUNC=${RUNC:-runc}

say() { printf '%s\n' "$*"; }
die() {
	say "bench.sh: $*" >&2
	exit 1
}
now_ns() { local t=$EPOCHREALTIME; printf '%s\n' "${t/./}000"; }
# ms A B: milliseconds from ns A to ns B, one decimal.
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'; }

# ---- --measure: run by containerd-bench (--at-peak) with all N running.
# Prints key=value lines; reads DAEMON_PID, STATE, SOCK from the env.
measure() {
	local p pids=() files=() k v t0 t1 times=()

	# First, before the calls below add to it: the daemon's CPU.
	say "daemon_cpu_ns=$(cpu_ns "$DAEMON_PID")"
	say "daemon_cpu_ticks=$(cpu_ticks "$DAEMON_PID")"
	say "pid1_cpu_ns=$(proc_cpu_ns 1)"
	for k in VmHWM VmRSS Threads; do
		v=$(awk -v k="$k:" '$1 == k { print $2 }' "/proc/$DAEMON_PID/status")
		say "daemon_$k=$v"
	done
	say "daemon_fds=$(ls "/proc/$DAEMON_PID/fd" | wc -l)"
	say "daemon_nofile=$(awk '/^Max open files/ { print $4 }' "/proc/$DAEMON_PID/limits")"
	# What the fds are: socket, pipe, anon_inode:[eventfd], /path ...
	say "daemon_fd_kinds=$(find "/proc/$DAEMON_PID/fd" -mindepth 1 -printf '%l\n' 2>/dev/null |
		sed -e 's/:\[[0-9]*\]$//' -e 's,^/.*,file,' | sort | uniq -c |
		sort -rn | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')"
	cp "/proc/$DAEMON_PID/status" "$TMP/daemon-status"
	cp "/proc/$DAEMON_PID/smaps_rollup" "$TMP/daemon-smaps_rollup"
	say "daemon_Pss=$(awk '$1 == "Pss:" { print $2 }' "$TMP/daemon-smaps_rollup")"
	say "daemon_Anonymous=$(awk '$1 == "Anonymous:" { print $2 }' "$TMP/daemon-smaps_rollup")"

	# Every containerd-shim of this daemon: its --dir is under $STATE.
	# One pgrep and one awk over all of them (at 10,000 a process per
	# shim would take minutes).
	mapfile -t pids < <(pgrep -f -- "containerd-shim.* --dir $STATE/")
	say "shims=${#pids[@]}"
	for p in "${pids[@]}"; do
		files+=("/proc/$p/smaps_rollup" "/proc/$p/schedstat" "/proc/$p/stat")
	done
	if [ "${#pids[@]}" -gt 0 ]; then
		# Per shim: Rss, Pss (kB), its own run time (ns, schedstat) and
		# utime+stime (ticks, stat fields 14+15; not the children's).
		awk '
		FILENAME ~ /smaps_rollup$/ && $1 == "Rss:" { rss[FILENAME] = $2 }
		FILENAME ~ /smaps_rollup$/ && $1 == "Pss:" { pss[FILENAME] = $2 }
		FILENAME ~ /schedstat$/ { cpu += $1 }
		FILENAME ~ /stat$/ && FILENAME !~ /schedstat$/ {
			sub(/^.*\) /, ""); n = split($0, f, " "); ticks += f[12] + f[13] }
		END {
			for (k in rss) print "rss", rss[k]
			for (k in pss) print "pss", pss[k]
			printf "cpu %.0f\nticks %.0f\n", cpu, ticks
		}' "${files[@]}" 2>/dev/null >"$TMP/shim-figures"
		say "shim_rss_kb=$(awk '$1 == "rss" { print $2 }' "$TMP/shim-figures" | summarize)"
		say "shim_pss_kb=$(awk '$1 == "pss" { print $2 }' "$TMP/shim-figures" | summarize)"
		say "shim_cpu_ns=$(awk '$1 == "cpu" { print $2 }' "$TMP/shim-figures")"
		say "shim_cpu_ticks=$(awk '$1 == "ticks" { print $2 }' "$TMP/shim-figures")"
	fi
	say "root_keys=$(key_user 0)"
	say "mem_available_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)"
	say "loadavg=$(cut -d' ' -f1-4 /proc/loadavg)"

	# State of all N through ctr (the JSON printed too): 5 runs, median.
	for k in 1 2 3 4 5; do
		t0=$(now_ns)
		"$CTR" --address "$SOCK" state >/dev/null || say "ctr_state_failed=1"
		t1=$(now_ns)
		times+=("$(ms "$t0" "$t1")")
	done
	say "ctr_state_ms=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)"
	say "ctr_state_all_ms=${times[*]}"
	# `ctr containers`, the table of all N: 5 runs, median.
	times=()
	for k in 1 2 3 4 5; do
		t0=$(now_ns)
		"$CTR" --address "$SOCK" containers >"$TMP/ctr-containers" ||
			say "ctr_containers_failed=1"
		t1=$(now_ns)
		times+=("$(ms "$t0" "$t1")")
	done
	say "ctr_containers_ms=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)"
	say "ctr_containers_all_ms=${times[*]}"
	say "ctr_containers_lines=$(wc -l <"$TMP/ctr-containers")"
	# containerd-bench sends its first kill right after this returns.
	say "teardown_start_ns=$(now_ns)"
}

# summarize: numbers on stdin -> "one median sum max" (one = the first).
summarize() {
	local first
	IFS= read -r first
	{ echo "$first"; cat; } | sort -n | awk -v first="$first" 'NF { v[++n] = $1; s += $1 }
	END {
		if (n == 0) { print "0 0 0 0"; exit }
		m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		printf "%s %s %s %s\n", first, m, s, v[n]
	}'
}

# cpu_ns PID: the task's run time so far in ns (schedstat's first field;
# exact, where stat's utime+stime come in 10 ms ticks). Both the daemon
# and the shim are one thread.
cpu_ns() { local a b c; read -r a b c <"/proc/$1/schedstat" && echo "$a"; }
# proc_cpu_ns PID: every thread's CPU (utime + stime), in ns. schedstat is the
# main thread's only, and this VM's PID 1 scans tasks from another thread.
proc_cpu_ns() { local t; t=$(cpu_ticks "$1") && echo $((t * (1000000000 / $(getconf CLK_TCK))));}
# cpu_ticks PID: utime + stime (stat fields 14 and 15), clock ticks.
cpu_ticks() {
	local line
	read -r line <"/proc/$1/stat" || return
	line=${line##*) }
	set -- $line
	echo $((${12} + ${13}))
}
# children_ticks VAR: sets VAR to this shell's reaped children's cutime +
# cstime (no subshell: $(...) would read the subshell's own).
children_ticks() {
	local var=$1 line
	read -r line <"/proc/$BASHPID/stat" || return
	line=${line##*) }
	set -- $line
	printf -v "$var" '%s' $((${14} + ${15}))
}
# key_user UID: "keys N/max, bytes B/max" from /proc/key-users.
key_user() {
	awk -v u="$1:" '$1 == u { split($4, k, "/"); split($5, b, "/");
		printf "keys %s/%s bytes %s/%s\n", k[1], k[2], b[1], b[2] }' /proc/key-users
}

if [ "${1:-}" = --measure ]; then
	measure
	exit 0
fi

# ---- checks
[ "$(id -u)" -eq 0 ] || die "needs root (runc)"
for f in "$CONTAINERD" "$SHIM" "$CTR" "$BENCH"; do
	[ -x "$f" ] || die "$f not built: run make"
done
command -v "$RUNC" >/dev/null || die "$RUNC not found"
case $N$W$P$LOAD$PROGRESS$PIDS_PER${BENCH_SLICE:-0} in
*[!0-9]*) die "BENCH_N, BENCH_W, BENCH_P, BENCH_LOAD, BENCH_PROGRESS, BENCH_SLICE must be numbers" ;;
esac
[ "$N" -gt 0 ] || die "BENCH_N must be at least 1"
if [ -n "${BENCH_SLICE:-}" ] && [ "$BENCH_SLICE" -gt 0 ]; then
	SLICE=$BENCH_SLICE
elif [ "$N" -ge 5000 ]; then
	SLICE=1000
else
	SLICE=$(((N + 4) / 5))
fi
# The waits of containerd-bench (per call; for all exits; until State is
# empty) grow with N.
TIMEOUT=$((N / 10 > 300 ? N / 10 : 300))

# ---- host setup: what N containers need, restored by cleanup.
# Per container at most: the daemon ~2 fds; a shim and the container's
# init (2 pids; runc's transient processes and threads beside them); a
# session keyring of root's, made by runc.
HOST_RESTORE=()
# raise_sysctl NAME NEED: sets /proc/sys/NAME to NEED when lower.
raise_sysctl() {
	local f=/proc/sys/${1//.//} cur
	cur=$(cat "$f" 2>/dev/null) || return 0
	[ "$cur" -ge "$2" ] && return 0
	echo "$2" >"$f" || die "cannot raise $1 from $cur to $2"
	HOST_RESTORE+=("$1=$cur")
	say "host: $1 raised from $cur to $2 (restored at the end)"
}
restore_host() {
	local kv name
	for kv in "${HOST_RESTORE[@]}"; do
		name=${kv%%=*}
		echo "${kv#*=}" >"/proc/sys/${name//.//}" &&
			say "host: $name restored to ${kv#*=}"
	done
	HOST_RESTORE=()
}
host_setup() {
	local tasks nofile
	tasks=$(cut -d' ' -f4 /proc/loadavg)
	tasks=${tasks#*/}
	# 4 per container (BENCH_PIDS_PER_CONTAINER) covers the shim, the
	# init and runc's transient processes; 8192 for the rest of the
	# machine's churn.
	raise_sysctl kernel.pid_max $((tasks + PIDS_PER * N + 8192))
	raise_sysctl kernel.threads-max $((tasks + PIDS_PER * N + 8192))
	raise_sysctl kernel.keys.root_maxkeys $((2 * N + 1000))
	raise_sysctl kernel.keys.root_maxbytes $((200 * N + 100000))
	nofile=$((4 * N + 4096))
	[ "$nofile" -lt 65536 ] && nofile=65536
	[ "$nofile" -gt "$(cat /proc/sys/fs/nr_open)" ] && nofile=$(cat /proc/sys/fs/nr_open)
	# Raising the hard limit needs CAP_SYS_RESOURCE, which a container
	# may lack: then the hard limit is what there is.
	ulimit -n "$nofile" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
	[ "$(ulimit -n)" -lt "$nofile" ] &&
		say "host: RLIMIT_NOFILE $(ulimit -n), not the $nofile wanted (hard limit; no CAP_SYS_RESOURCE?):" \
			"the daemon's fds at N must stay under it"
	ulimit -u unlimited 2>/dev/null || true
}

TMP=$(mktemp -d /tmp/ctrd-bench.XXXXXX) || die "mktemp failed"
BUNDLE=$TMP/bundle
RAW_ROOT=$TMP/raw-runc
STATE=$TMP/state
SOCK=$STATE/containerd.sock
RUNC_ROOT=$TMP/runc
DAEMON_PID=
BENCH_PID=
# Ids name host cgroups, shared by every runc root: unique per run.
RAW_PREFIX=raw-$$-
BENCH_PREFIX=bench-$$-

LOAD_PIDS=()
RAW_MON_PID=
GUARD_PID=
RAW_XARGS_PID=
# Removes everything this run made, by root and by pid: safe to run twice.
cleanup() {
	local id p line root
	trap - EXIT INT TERM
	# First: a second signal (timeout -k) may kill the rest.
	restore_host
	stop_load
	[ -n "$GUARD_PID" ] && kill "$GUARD_PID" 2>/dev/null
	if [ -n "$RAW_XARGS_PID" ]; then
		kill "$RAW_XARGS_PID" 2>/dev/null
		wait "$RAW_XARGS_PID" 2>/dev/null
	fi
	[ -n "$RAW_MON_PID" ] && kill "$RAW_MON_PID" 2>/dev/null
	[ -n "$BENCH_PID" ] && kill -9 "$BENCH_PID" 2>/dev/null
	if [ -n "$DAEMON_PID" ]; then
		kill -9 "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	for root in "$RAW_ROOT" "$RUNC_ROOT"; do
		[ -d "$root" ] || continue
		"$RUNC" --root "$root" list -q 2>/dev/null |
			xargs -r -P "$P" -n 1 "$RUNC" --root "$root" delete -f >/dev/null 2>&1
	done
	pkill -9 -f -- "containerd-shim.* --dir $STATE/" 2>/dev/null
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "# kept $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'say "bench.sh: interrupted, cleaning up" >&2; exit 130' INT TERM

# BENCH_LOAD=K: K CPU-bound loops beside the whole run.
start_load() {
	local k
	for ((k = 0; k < LOAD; k++)); do
		sh -c 'while :; do :; done' &
		LOAD_PIDS+=($!)
	done
}
stop_load() {
	[ "${#LOAD_PIDS[@]}" -gt 0 ] || return 0
	kill "${LOAD_PIDS[@]}" 2>/dev/null
	wait "${LOAD_PIDS[@]}" 2>/dev/null
	LOAD_PIDS=()
}

# fmt_hms SECS: 4m05s
fmt_hms() { awk -v s="$1" 'BEGIN { s = int(s + 0.5); if (s >= 3600) printf "%dh%02dm", s / 3600, s / 60 % 60;
	else if (s >= 60) printf "%dm%02ds", s / 60, s % 60; else printf "%ds", s }'; }

# raw_monitor T0: while the raw half starts, polls the count of started
# containers (bytes in raw-done) twice a second; writes "END NS" to
# raw-slices when a slice boundary is crossed (interpolated between two
# polls), and a progress line to stderr every PROGRESS seconds. The last
# poll is at the time written to raw-stop.
raw_monitor() {
	local t0=$1 t c prev_t=$1 prev_c=0 next=$SLICE last_print=$1 last_c=0 el stop=0 ts
	while :; do
		if [ -s "$TMP/raw-stop" ]; then
			read -r t <"$TMP/raw-stop"
			stop=1
		else
			sleep 0.5
			t=$(now_ns)
		fi
		c=$(stat -c %s "$TMP/raw-done" 2>/dev/null) || c=0
		while [ "$c" -ge "$next" ] && [ "$c" -gt "$prev_c" ]; do
			ts=$((prev_t + (t - prev_t) * (next - prev_c) / (c - prev_c)))
			echo "$next $ts" >>"$TMP/raw-slices"
			next=$((next + SLICE))
		done
		if [ "$PROGRESS" -gt 0 ] && [ $((t - last_print)) -ge $((PROGRESS * 1000000000)) ] && [ "$stop" = 0 ]; then
			el=$(((t - t0) / 1000000))
			say "# raw: $c/$N started, $(awk -v c="$c" -v el="$el" -v pc="$last_c" -v pt="$last_print" -v t="$t" \
				-v p="$PROGRESS" 'BEGIN { r = el > 0 ? c * 1000 / el : 0;
				printf "%.1f/s (last %ds %.1f/s)", r, p, (t > pt ? (c - pc) * 1e9 / (t - pt) : 0) }'), elapsed $(fmt_hms $((el / 1000))), ETA $([ "$c" -gt 0 ] && fmt_hms "$(awk -v c="$c" -v el="$el" -v n="$N" 'BEGIN { print (n - c) * el / c / 1000 }')" || echo "?")" >&2
			last_print=$t
			last_c=$c
		fi
		prev_t=$t
		prev_c=$c
		[ "$stop" = 1 ] && break
	done
}

export DAEMON_PID STATE SOCK CTR

say "== machine"
say "cpus: $(nproc), $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
say "memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
say "runc: $("$RUNC" --version | head -n1)"
say "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
say "N=$N W=$W raw parallelism P=$P daemon --concurrency $CONCURRENCY, slices of $SLICE, load loops $LOAD"
host_setup
say "ulimit -n $(ulimit -n), -u $(ulimit -u); pid_max $(cat /proc/sys/kernel/pid_max)," \
	"threads-max $(cat /proc/sys/kernel/threads-max), root keys $(key_user 0)," \
	"inotify instances $(cat /proc/sys/fs/inotify/max_user_instances)"
mem0=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
# The machine is shared: when MemAvailable falls under BENCH_MEM_GUARD
# percent of MemTotal (5), or free pids under 2,000, the run stops (TERM:
# cleanup) rather than pushing the host into the OOM killer or failed
# forks. 10,000 busybox containers take 17-19 GiB here, nearly all of it
# the kernel's (slab: kmalloc-1k, 760 objects per container), so 10%
# (2.4 GiB) of a 24 GiB machine stopped the 10,000 run just short of N.
(
	trap - EXIT INT TERM
	while sleep 2; do
		read -r avail total < <(awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 } END { print a, t }' /proc/meminfo)
		tasks=$(cut -d' ' -f4 /proc/loadavg)
		tasks=${tasks#*/}
		if [ "$avail" -lt $((total * MEM_GUARD / 100)) ] || [ $(($(cat /proc/sys/kernel/pid_max) - tasks)) -lt 2000 ]; then
			say "bench.sh: stopping: MemAvailable $((avail / 1024)) MiB, $tasks tasks of pid_max $(cat /proc/sys/kernel/pid_max)" >&2
			kill -TERM $$
			break
		fi
	done
) &
GUARD_PID=$!
start_load
[ "$LOAD" -gt 0 ] && say "started $LOAD CPU-bound loops (pids ${LOAD_PIDS[*]})"

sh "$REPO/tools/mkbundle" "$BUNDLE" sleep 100000 >/dev/null || die "mkbundle failed"
mkdir -p "$RAW_ROOT" "$STATE" "$RUNC_ROOT"

# ---- (a) raw runc
say ""
say "== raw runc: create + start, $P in parallel"
# One container: its stdio is /dev/null (runc create hands it the caller's).
cat >"$TMP/raw-one" <<EOF
#!/bin/sh
"$RUNC" --root "$RAW_ROOT" create --bundle "$BUNDLE" "$RAW_PREFIX\$1" </dev/null >/dev/null 2>"$TMP/raw-err.\$1" &&
	"$RUNC" --root "$RAW_ROOT" start "$RAW_PREFIX\$1" 2>>"$TMP/raw-err.\$1" &&
	rm -f "$TMP/raw-err.\$1" &&
	printf x >>"$TMP/raw-done"
EOF
chmod +x "$TMP/raw-one"
: >"$TMP/raw-done"
: >"$TMP/raw-slices"
children_ticks raw_cpu0
pid1_raw0=$(proc_cpu_ns 1)
t0=$(now_ns)
raw_monitor "$t0" &
RAW_MON_PID=$!
# In the background, so that ^C or the guard's TERM is handled at once
# (bash runs a trap only after a foreground child ends).
seq 0 $((N - 1)) | xargs -P "$P" -n 1 "$TMP/raw-one" &
RAW_XARGS_PID=$!
wait "$RAW_XARGS_PID"
RAW_XARGS_PID=
t1=$(now_ns)
# runc's CPU: everything the raw half's children used (runc create and
# start, and the sh around them), read before anything else is reaped.
children_ticks raw_cpu1
pid1_raw1=$(proc_cpu_ns 1)
echo "$t1" >"$TMP/raw-stop"
wait "$RAW_MON_PID"
RAW_MON_PID=
raw_ok=$("$RUNC" --root "$RAW_ROOT" list -q | wc -l)
raw_start_ms=$(ms "$t0" "$t1")
raw_rate=$(awk -v n="$raw_ok" -v ms="$raw_start_ms" 'BEGIN { printf "%.1f", n * 1000 / ms }')
clk_tck=$(getconf CLK_TCK)
raw_cpu_ms=$(awk -v a="$raw_cpu0" -v b="$raw_cpu1" -v t="$clk_tck" 'BEGIN { printf "%.0f", (b - a) * 1000 / t }')
# The slices: "END SECONDS RATE", like containerd-bench's "slice:" lines;
# the last, partial one ends at t1.
awk -v t0="$t0" -v t1="$t1" -v n="$raw_ok" '
	{ printf "%d %.3f %.1f\n", $1, ($2 - prev) / 1e9, ($1 - pe) * 1e9 / ($2 - prev); prev = $2; pe = $1 }
	BEGIN { prev = t0; pe = 0 }
	END { if (n > pe && t1 > prev) printf "%d %.3f %.1f\n", n, (t1 - prev) / 1e9, (n - pe) * 1e9 / (t1 - prev) }
' "$TMP/raw-slices" >"$TMP/raw-slice-table"
say "started: $raw_ok of $N in ${raw_start_ms} ms"
say "containers/second: $raw_rate"
say "runc's CPU (the raw half's children, user+sys): ${raw_cpu_ms} ms, $(awk -v c="$raw_cpu_ms" -v n="$raw_ok" 'BEGIN { printf "%.2f", (n ? c / n : 0) }') ms per container"
raw_load=$(cut -d' ' -f1-3 /proc/loadavg)
say "at $raw_ok running: load $raw_load, root keys $(key_user 0)," \
	"MemAvailable $(awk -v a="$mem0" '/^MemAvailable:/ { printf "%+.0f", ($2 - a) / 1024 }' /proc/meminfo) MiB since the start"
if [ "$raw_ok" -lt "$N" ]; then
	say "errors: $(cat "$TMP"/raw-err.* 2>/dev/null | sort | uniq -c | sort -rn | head -n 5)"
fi
t0=$(now_ns)
"$RUNC" --root "$RAW_ROOT" list -q >/dev/null
t1=$(now_ns)
say "runc list of $raw_ok: $(ms "$t0" "$t1") ms"

say "== raw runc: delete -f, $P in parallel"
t0=$(now_ns)
"$RUNC" --root "$RAW_ROOT" list -q | xargs -r -P "$P" -n 1 "$RUNC" --root "$RAW_ROOT" delete -f
t1=$(now_ns)
raw_del_ms=$(ms "$t0" "$t1")
say "deleted: $raw_ok in ${raw_del_ms} ms ($("$RUNC" --root "$RAW_ROOT" list -q | wc -l) left)"

# ---- (b) the daemon
say ""
say "== containerd + containerd-bench: $N creates from $W clients"
"$CONTAINERD" --state-dir "$STATE" --listen "$SOCK" --shim "$SHIM" \
	--runtime-args "--root=$RUNC_ROOT" --concurrency "$CONCURRENCY" ${BENCH_DAEMON_ARGS:-} \
	>"$TMP/daemon.log" 2>&1 &
DAEMON_PID=$!
for k in $(seq 100); do
	[ -S "$SOCK" ] && "$CTR" --address "$SOCK" version >/dev/null 2>&1 && break
	kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$TMP/daemon.log" >&2; die "the daemon exited"; }
	sleep 0.1
done
# The daemon's CPU and fds before the creates.
daemon_cpu0=$(cpu_ns "$DAEMON_PID")
daemon_ticks0=$(cpu_ticks "$DAEMON_PID")
daemon_fds0=$(ls "/proc/$DAEMON_PID/fd" | wc -l)
daemon_rss0=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$DAEMON_PID/status")
pid1_d0=$(proc_cpu_ns 1)
t_bench0=$(now_ns)
export TMP
# Its progress lines (stderr, "# daemon: ...") show as they come.
"$BENCH" --count "$N" --workers "$W" --address "$SOCK" --bundle "$BUNDLE" \
	--id-prefix "$BENCH_PREFIX" --slice "$SLICE" --progress "$PROGRESS" \
	--timeout "$TIMEOUT" \
	--at-peak "BENCH_REAPER=1 /bin/bash '$SELF' --measure > '$TMP/peak'" \
	>"$TMP/bench.out" 2> >(tee "$TMP/bench.err" | grep --line-buffered '^# daemon:' >&2) &
BENCH_PID=$!
wait "$BENCH_PID"
bench_rc=$?
BENCH_PID=
t_bench_end=$(now_ns)
grep -v '^slice:' "$TMP/bench.out"
grep -v '^# daemon:' "$TMP/bench.err" | sed 's/^/# /'
say "containerd-bench exit status: $bench_rc"
# The exits are in; the daemon then runs `runc delete` for each, which
# removes the container's directory under runc's root (cheaper to watch
# than `runc list`).
gone_by=$(($(now_ns) + (N / 10 > 60 ? N / 10 : 60) * 1000000000))
while [ "$(now_ns)" -lt "$gone_by" ]; do
	# The first entry only: listing 10,000 each time would compete.
	[ -z "$(find "$RUNC_ROOT" -mindepth 1 -maxdepth 1 -print -quit 2>/dev/null)" ] && break
	kill -0 "$DAEMON_PID" 2>/dev/null || break
	sleep 0.05
done
t1=$(now_ns)
left=$("$RUNC" --root "$RUNC_ROOT" list -q 2>/dev/null | wc -l)
td0=$(sed -n 's/^teardown_start_ns=//p' "$TMP/peak" 2>/dev/null)
runc_gone_ms=$(ms "${td0:-$t_bench_end}" "$t1")
say "runc root empty ${runc_gone_ms} ms after the first kill" \
	"($(ms "$t_bench_end" "$t1") ms after containerd-bench ended; $left left)"
say "daemon peak RSS after teardown: $(awk '/VmHWM/ { print $2 " kB" }' "/proc/$DAEMON_PID/status")"
warns=$(grep -c -E ' (warn|error) ' "$TMP/daemon.log")
say "daemon log: $(wc -l <"$TMP/daemon.log") lines, $warns warnings/errors"
[ "$warns" -gt 0 ] && grep -E ' (warn|error) ' "$TMP/daemon.log" | head -n 5 | sed 's/^/# /'

say ""
say "== at $N running (measured by --at-peak)"
sed 's/^/  /' "$TMP/peak" 2>/dev/null
if [ "$SCALE" = 1 ] && [ -s "$TMP/daemon-smaps_rollup" ]; then
	say "  -- the daemon's /proc/PID/smaps_rollup at N"
	sed 's/^/  /' "$TMP/daemon-smaps_rollup"
	say "  -- the daemon's /proc/PID/status at N (memory lines)"
	grep -E '^(Vm|Rss|Threads|FDSize)' "$TMP/daemon-status" | sed 's/^/  /'
fi

# ---- summary against the targets
get() { sed -n "s/^$1=//p" "$TMP/peak" 2>/dev/null | head -n1; }
bench_val() { awk -v k="$1" '$1 == k { print $2; exit }' "$TMP/bench.out"; }
# dur_ms 12.3ms -> 12.3
dur_ms() {
	awk -v d="$1" 'BEGIN {
		if (d ~ /ms$/) { sub(/ms$/, "", d); print d + 0 }
		else if (d ~ /us$/) { sub(/us$/, "", d); print d / 1000 }
		else if (d ~ /ns$/) { sub(/ns$/, "", d); print d / 1e6 }
		else if (d ~ /s$/) { sub(/s$/, "", d); print d * 1000 }
		else print ""
	}'
}
verdict() { awk -v c="$1" 'BEGIN { print (c ? "met" : "MISSED") }'; }

rate=$(bench_val containers/second:)
median=$(dur_ms "$(bench_val median:)")
p99=$(dur_ms "$(bench_val 99%:)")
teardown=$(dur_ms "$(bench_val teardown:)")
state_ms=$(dur_ms "$(bench_val state:)")
read -r rss_one rss_med rss_sum rss_max <<<"$(get shim_rss_kb)"
read -r pss_one pss_med pss_sum pss_max <<<"$(get shim_pss_kb)"
hwm=$(get daemon_VmHWM)
threads=$(get daemon_Threads)
ctr_state=$(get ctr_state_ms)
ctr_containers=$(get ctr_containers_ms)
if [ "$SCALE" = 1 ]; then
	HWM_TARGET_MB=32 STATE_TARGET_MS=100
else
	HWM_TARGET_MB=10 STATE_TARGET_MS=50
fi
created=$(bench_val count:)

say ""
say "== summary (N=$N, W=$W, raw P=$P)"
if [ -n "$rate" ] && [ -n "$median" ] && [ -n "$p99" ]; then
	ratio=$(awk -v a="$rate" -v b="$raw_rate" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	say "start rate: daemon $rate/s, raw runc $raw_rate/s, ratio ${ratio}x" \
		"(target >= 0.95x: $(verdict "$(awk -v r="$ratio" 'BEGIN { print (r >= 0.95) }')"))"
	sed -n 's/^slice: *//p' "$TMP/bench.out" >"$TMP/daemon-slice-table"
	# Not falling with N: the last slice's rate is at least 0.9x the
	# first's, in each half (a slice is SLICE containers; the last may be
	# shorter).
	say "start rate per $SLICE (containers k..k+$((SLICE - 1)) in the order they started):"
	paste -d' ' "$TMP/raw-slice-table" "$TMP/daemon-slice-table" | awk -v s="$SLICE" '
		BEGIN { printf "  %-13s %8s %8s %8s\n", "containers", "raw/s", "daemon/s", "ratio" }
		{ from = (NR - 1) * s + 1; to = ($4 != "" ? $4 : $1)
		  printf "  %-13s %8s %8s %8s\n", from "-" to, $3, ($6 != "" ? $6 : "-"),
			($6 != "" && $3 > 0 ? sprintf("%.2f", $6 / $3) : "-") }'
	# The host's own start rate falls with N (raw runc's does: the
	# kernel's and whatever scans every task have more to do), so "not
	# falling" is judged on the daemon's rate against raw's at the same N:
	# the last slice's ratio at least 0.9x the first's. Each half's own
	# fall is printed beside it.
	for half in raw daemon; do
		read -r first last slices <<<"$(awk '{ r[NR] = $3 } END { print r[1], r[NR], NR }' "$TMP/$half-slice-table")"
		[ "${slices:-0}" -ge 2 ] && say "$half: last slice ${last}/s vs first ${first}/s:" \
			"$(awk -v a="$last" -v b="$first" 'BEGIN { printf "%.2f", a / b }')x"
	done
	read -r r_first r_last <<<"$(paste -d' ' "$TMP/raw-slice-table" "$TMP/daemon-slice-table" |
		awk '$6 != "" && $3 > 0 { r[++n] = $6 / $3 } END { if (n >= 2) printf "%.2f %.2f\n", r[1], r[n] }')"
	if [ -n "${r_last:-}" ]; then
		say "ratio to raw: last slice ${r_last}x vs first ${r_first}x" \
			"(not falling with N, target last >= 0.9x first: $(verdict "$(awk -v a="$r_last" -v b="$r_first" 'BEGIN { print (a >= 0.9 * b) }')"))"
	fi
	say "start time: median ${median} ms, p99 ${p99} ms, p99/median" \
		"$(awk -v a="$p99" -v b="$median" 'BEGIN { printf "%.2f", a / b }')" \
		"(target <= 2: $(verdict "$(awk -v a="$p99" -v b="$median" 'BEGIN { print (a <= 2 * b) }')"))"
else
	say "start rate: containerd-bench gave no figures (see above)"
fi
if [ -n "${rss_one:-}" ]; then
	say "shims: $(get shims); RSS one/median/sum/max ${rss_one}/${rss_med}/${rss_sum}/${rss_max} kB," \
		"PSS ${pss_one}/${pss_med}/${pss_sum}/${pss_max} kB" \
		"(target one <= 128 kB RSS: $(verdict "$(awk -v a="$rss_med" 'BEGIN { print (a <= 128) }')")," \
		"<= 64 kB PSS: $(verdict "$(awk -v a="$pss_med" 'BEGIN { print (a <= 64) }')"))"
	say "daemon: VmHWM ${hwm} kB, VmRSS $(get daemon_VmRSS) kB, Pss $(get daemon_Pss) kB, threads ${threads}" \
		"(target <= $HWM_TARGET_MB MB and 1 thread: $(verdict "$(awk -v h="$hwm" -v t="$threads" -v m="$HWM_TARGET_MB" 'BEGIN { print (h <= m * 1024 && t == 1) }')"))"
	# Bytes per container: VmHWM at N less VmRSS before the creates, and
	# where that line reaches 10,000.
	say "daemon memory per container: $(awk -v h="$hwm" -v r="$daemon_rss0" -v n="${created:-$N}" \
		'BEGIN { if (n > 0) printf "%.0f B (VmRSS %d kB before the creates", (h - r) * 1024 / n, r
			if (n >= 500) printf "; at 10,000 that is %.1f MB", (r + (h - r) * 10000 / n) / 1024
			printf ")" }')"
	fdsN=$(get daemon_fds)
	# The bench's own connections at that point (Events, State; the
	# workers' are closed) are not the containers'.
	fd_per=$(awk -v a="$daemon_fds0" -v b="$fdsN" -v n="${created:-$N}" \
		'BEGIN { printf "%.2f", (n > 0 ? (b - a - 2) / n : 0) }')
	# One per container is the design (README, "Bad input and limits": the
	# shim's sync pipe); the target then is that there is no more than that
	# (16 to spare: the daemon's own files, runtime calls in flight) and
	# that the daemon raised its own limit far enough for them.
	nofile=$(get daemon_nofile)
	say "daemon fds: $fdsN at $N running, $daemon_fds0 before, ${fd_per} per container" \
		"beside the bench's 2 connections ($(get daemon_fd_kinds)); its RLIMIT_NOFILE ${nofile:-?}" \
		"(target not one per container, or one by design with the limit raised for N:" \
		"$(verdict "$(awk -v p="$fd_per" -v l="${nofile:-0}" -v a="$daemon_fds0" -v f="$fdsN" -v n="${created:-$N}" \
			'BEGIN { print (p < 0.5 || (f - a - 2 - n <= 16 && l > f)) }')"))"
	state_dec=$(sed -n 's/^state:.*reply decoded \([^;]*\);.*/\1/p' "$TMP/bench.out")
	say "State of $N: ${state_ms} ms (one call to the reply's last byte, median of 5;" \
		"with containerd-bench decoding it ${state_dec:-?}), ctr state ${ctr_state} ms" \
		"(target < $STATE_TARGET_MS ms: $(verdict "$(awk -v a="$state_ms" -v t="$STATE_TARGET_MS" 'BEGIN { print (a != "" && a < t) }')"))"
	say "ctr containers of $N: ${ctr_containers} ms (median of 5; $(get ctr_containers_all_ms) ms)" \
		"(target < 300 ms: $(verdict "$(awk -v a="$ctr_containers" 'BEGIN { print (a != "" && a < 300) }')"))"
	# CPU per container, own (not the children's): the daemon over the
	# start phase (schedstat ns; stat ticks beside), the shims' at N;
	# runc's in the raw half.
	d_cpu=$(awk -v a="$daemon_cpu0" -v b="$(get daemon_cpu_ns)" 'BEGIN { printf "%.0f", (b - a) / 1e6 }')
	d_ticks=$(($(get daemon_cpu_ticks) - daemon_ticks0))
	s_cpu=$(awk -v a="$(get shim_cpu_ns)" 'BEGIN { printf "%.0f", a / 1e6 }')
	n_c=${created:-$N}
	say "CPU per container: daemon $(awk -v c="$d_cpu" -v n="$n_c" 'BEGIN { printf "%.3f", c / n }') ms" \
		"(${d_cpu} ms over the start phase; ${d_ticks} ticks), shims $(awk -v c="$s_cpu" -v n="$(get shims)" 'BEGIN { printf "%.3f", (n ? c / n : 0) }') ms" \
		"(${s_cpu} ms for $(get shims); $(get shim_cpu_ticks) ticks), runc $(awk -v c="$raw_cpu_ms" -v n="$raw_ok" 'BEGIN { printf "%.2f", (n ? c / n : 0) }') ms (raw half)"
	read -r d_pct s_pct t_pct <<<"$(awk -v d="$d_cpu" -v s="$s_cpu" -v nd="$n_c" -v ns="$(get shims)" -v r="$raw_cpu_ms" -v nr="$raw_ok" '
		BEGIN { rr = (nr ? r / nr : 0); if (rr <= 0) { print "0 0 0"; exit }
			dp = 100 * d / nd / rr; sp = (ns ? 100 * s / ns / rr : 0); printf "%.1f %.1f %.1f\n", dp, sp, dp + sp }')"
	say "CPU share of runc's: daemon ${d_pct}%, shims ${s_pct}%, together ${t_pct}%" \
		"(target < 5% each: daemon $(verdict "$(awk -v p="$d_pct" 'BEGIN { print (p < 5) }')")," \
		"shims $(verdict "$(awk -v p="$s_pct" 'BEGIN { print (p < 5) }')"))"
	# Whatever else the host runs while N containers exist: here PID 1
	# (a VM's init that scans every task) took a growing share of a core
	# as tasks grew, and the daemon's half has a shim per container too.
	pid1_d1=$(get pid1_cpu_ns)
	if [ -n "$pid1_d1" ] && [ -n "$pid1_raw0" ] && [ -n "$rate" ]; then
		say "host: PID 1 ($(cat /proc/1/comm)) used $(awk -v a="$pid1_raw0" -v b="$pid1_raw1" -v ms="$raw_start_ms" \
			'BEGIN { printf "%.1f s of CPU during the raw starts (%.0f%% of a core)", (b - a) / 1e9, (b - a) / 1e4 / ms }')" \
			"and $(awk -v a="$pid1_d0" -v b="$pid1_d1" -v n="$n_c" -v r="$rate" \
			'BEGIN { printf "%.1f s during the daemon'"'"'s (%.0f%% of a core)", (b - a) / 1e9, (b - a) / 1e7 / (n / r) }')"
	fi
fi
if [ -n "$teardown" ]; then
	say "teardown: daemon ${teardown} ms to the last exit event, ${runc_gone_ms} ms until" \
		"runc's root is empty; raw runc delete -f ${raw_del_ms} ms" \
		"(target no slower: exits $(verdict "$(awk -v a="$teardown" -v b="$raw_del_ms" 'BEGIN { print (a <= b) }')")," \
		"runc root empty $(verdict "$(awk -v a="$runc_gone_ms" -v b="$raw_del_ms" 'BEGIN { print (a <= b) }')"))"
fi
errors=$(bench_val errors:)
say "errors: raw $((N - raw_ok)) not started, daemon ${errors:-?} create errors," \
	"containerd-bench status $bench_rc, $left left in runc's root, $warns daemon warnings/errors" \
	"(target no error: $(verdict "$([ "$bench_rc" -eq 0 ] && [ "$raw_ok" -eq "$N" ] && [ "$left" -eq 0 ] && [ "$warns" -eq 0 ] && echo 1 || echo 0)"))"
say "load after: $(cut -d' ' -f1-3 /proc/loadavg) (at N running: raw $raw_load, daemon $(get loadavg | cut -d' ' -f1-3))"
stop_load

# The daemon stops on SIGTERM (containers are gone by now); cleanup kills
# whatever is left.
kill -TERM "$DAEMON_PID" 2>/dev/null
for k in $(seq 50); do
	kill -0 "$DAEMON_PID" 2>/dev/null || break
	sleep 0.1
done

[ "$bench_rc" -eq 0 ] && [ "$raw_ok" -eq "$N" ] && [ "$left" -eq 0 ]
