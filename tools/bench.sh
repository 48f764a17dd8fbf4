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
# Environment: BENCH_N (1000), BENCH_W (100), BENCH_P raw parallelism (10),
# BENCH_CONCURRENCY the daemon's --concurrency (its default, 10),
# CONTAINERD, SHIM, CTR, BENCH, RUNC (the programs; default bin/ and runc),
# BENCH_KEEP=1 keeps the temp dir. Needs root.
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
	exec /usr/bin/python3 -c '
import ctypes, os, signal, subprocess, sys, time
PR_SET_CHILD_SUBREAPER = 36
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
# The script traps ^C to clean up, which bash cannot do for a signal
# ignored at entry (a background job of a non-interactive shell).
def dfl():
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
child = subprocess.Popen(sys.argv[1:], preexec_fn=dfl)
# ^C reaches the script (same process group); TERM is passed on. Either
# way the reaper stays to reap what the script kills while cleaning up.
signal.signal(signal.SIGINT, lambda s, f: None)
signal.signal(signal.SIGTERM, lambda s, f: child.send_signal(s))
status = None
while status is None:
    try:
        pid, st = os.wait()
    except InterruptedError:
        continue
    if pid == child.pid:
        status = os.waitstatus_to_exitcode(st)
# Orphans the script killed last may still be dying.
end = time.monotonic() + 5
while time.monotonic() < end:
    try:
        pid, st = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if pid == 0:
        time.sleep(0.05)
sys.exit(status if status >= 0 else 128 - status)
' /bin/bash "$SELF" "$@"
fi

N=${BENCH_N:-1000}
W=${BENCH_W:-100}
P=${BENCH_P:-10}
CONCURRENCY=${BENCH_CONCURRENCY:-10}
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
now_ns() { date +%s%N; }
# ms A B: milliseconds from ns A to ns B, one decimal.
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'; }

# ---- --measure: run by containerd-bench (--at-peak) with all N running.
# Prints key=value lines; reads DAEMON_PID, STATE, SOCK from the env.
measure() {
	local p pids=() rss=() pss=() line k v t0 t1 times=()

	for k in VmHWM VmRSS Threads; do
		v=$(awk -v k="$k:" '$1 == k { print $2 }' "/proc/$DAEMON_PID/status")
		say "daemon_$k=$v"
	done
	say "daemon_fds=$(ls "/proc/$DAEMON_PID/fd" | wc -l)"

	# Every containerd-shim of this daemon: its --dir is under $STATE.
	for p in /proc/[0-9]*; do
		line=$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
		case $line in
		*containerd-shim*" --dir $STATE/"*) pids+=("${p#/proc/}") ;;
		esac
	done
	for p in "${pids[@]}"; do
		rss+=("$(awk '$1 == "Rss:" { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)")
		pss+=("$(awk '$1 == "Pss:" { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)")
	done
	say "shims=${#pids[@]}"
	say "shim_rss_kb=$(printf '%s\n' "${rss[@]}" | summarize)"
	say "shim_pss_kb=$(printf '%s\n' "${pss[@]}" | summarize)"

	# State of all N through ctr (the JSON printed too): 5 runs, median.
	for k in 1 2 3 4 5; do
		t0=$(now_ns)
		"$CTR" --address "$SOCK" state >/dev/null || say "ctr_state_failed=1"
		t1=$(now_ns)
		times+=("$(ms "$t0" "$t1")")
	done
	say "ctr_state_ms=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)"
	say "ctr_state_all_ms=${times[*]}"
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
case $N$W$P in *[!0-9]*) die "BENCH_N, BENCH_W, BENCH_P must be numbers" ;; esac

# 1000 containers: ~2 fds each in the daemon, a shim and a sleep each.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
ulimit -u unlimited 2>/dev/null || true

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

# Removes everything this run made, by root and by pid: safe to run twice.
cleanup() {
	local id p line root
	trap - EXIT INT TERM
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
	for p in /proc/[0-9]*; do
		line=$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
		case $line in
		*containerd-shim*" --dir $STATE/"*) kill -9 "${p#/proc/}" 2>/dev/null ;;
		esac
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "# kept $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'say "bench.sh: interrupted, cleaning up" >&2; exit 130' INT TERM

export DAEMON_PID STATE SOCK CTR

say "== machine"
say "cpus: $(nproc), $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
say "memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
say "runc: $("$RUNC" --version | head -n1)"
say "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
say "N=$N W=$W raw parallelism P=$P daemon --concurrency $CONCURRENCY"
say "ulimit -n $(ulimit -n), -u $(ulimit -u); pid_max $(cat /proc/sys/kernel/pid_max)"

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
	rm -f "$TMP/raw-err.\$1"
EOF
chmod +x "$TMP/raw-one"
t0=$(now_ns)
seq 0 $((N - 1)) | xargs -P "$P" -n 1 "$TMP/raw-one"
t1=$(now_ns)
raw_ok=$("$RUNC" --root "$RAW_ROOT" list -q | wc -l)
raw_start_ms=$(ms "$t0" "$t1")
raw_rate=$(awk -v n="$raw_ok" -v ms="$raw_start_ms" 'BEGIN { printf "%.1f", n * 1000 / ms }')
say "started: $raw_ok of $N in ${raw_start_ms} ms"
say "containers/second: $raw_rate"
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
	--runtime-args "--root=$RUNC_ROOT" --concurrency "$CONCURRENCY" \
	>"$TMP/daemon.log" 2>&1 &
DAEMON_PID=$!
for k in $(seq 100); do
	[ -S "$SOCK" ] && "$CTR" --address "$SOCK" version >/dev/null 2>&1 && break
	kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$TMP/daemon.log" >&2; die "the daemon exited"; }
	sleep 0.1
done
"$BENCH" --count "$N" --workers "$W" --address "$SOCK" --bundle "$BUNDLE" \
	--id-prefix "$BENCH_PREFIX" \
	--at-peak "BENCH_REAPER=1 /bin/bash '$SELF' --measure > '$TMP/peak'" \
	>"$TMP/bench.out" 2>"$TMP/bench.err" &
BENCH_PID=$!
wait "$BENCH_PID"
bench_rc=$?
BENCH_PID=
t_bench_end=$(now_ns)
cat "$TMP/bench.out"
sed 's/^/# /' "$TMP/bench.err"
say "containerd-bench exit status: $bench_rc"
# The exits are in; the daemon then runs `runc delete` for each, which
# removes the container's directory under runc's root (cheaper to watch
# than `runc list`).
for k in $(seq 3000); do
	[ -z "$(ls -A "$RUNC_ROOT" 2>/dev/null)" ] && break
	kill -0 "$DAEMON_PID" 2>/dev/null || break
	sleep 0.02
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

say ""
say "== summary (N=$N, W=$W, raw P=$P)"
if [ -n "$rate" ] && [ -n "$median" ] && [ -n "$p99" ]; then
	ratio=$(awk -v a="$rate" -v b="$raw_rate" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	say "start rate: daemon $rate/s, raw runc $raw_rate/s, ratio ${ratio}x" \
		"(target >= 0.95x: $(verdict "$(awk -v r="$ratio" 'BEGIN { print (r >= 0.95) }')"))"
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
	say "daemon: VmHWM ${hwm} kB, VmRSS $(get daemon_VmRSS) kB, threads ${threads}, fds $(get daemon_fds)" \
		"(target <= 10 MB and 1 thread: $(verdict "$(awk -v h="$hwm" -v t="$threads" 'BEGIN { print (h <= 10240 && t == 1) }')"))"
	say "State of $N: ${state_ms} ms (one call, median of 5), ctr state ${ctr_state} ms" \
		"(target < 50 ms: $(verdict "$(awk -v a="$state_ms" 'BEGIN { print (a < 50) }')"))"
fi
if [ -n "$teardown" ]; then
	say "teardown: daemon ${teardown} ms to the last exit event, ${runc_gone_ms} ms until" \
		"runc's root is empty; raw runc delete -f ${raw_del_ms} ms" \
		"(target no slower: exits $(verdict "$(awk -v a="$teardown" -v b="$raw_del_ms" 'BEGIN { print (a <= b) }')")," \
		"runc root empty $(verdict "$(awk -v a="$runc_gone_ms" -v b="$raw_del_ms" 'BEGIN { print (a <= b) }')"))"
fi
say "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# The daemon stops on SIGTERM (containers are gone by now); cleanup kills
# whatever is left.
kill -TERM "$DAEMON_PID" 2>/dev/null
for k in $(seq 50); do
	kill -0 "$DAEMON_PID" 2>/dev/null || break
	sleep 0.1
done

[ "$bench_rc" -eq 0 ] && [ "$raw_ok" -eq "$N" ] && [ "$left" -eq 0 ]
