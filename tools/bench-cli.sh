#!/bin/bash
# bench-cli.sh: what `ctr containers start` from a shell costs against the
# same CreateContainer through the API (issue 13, "the modern runtimes").
#
# One private daemon (own --state-dir, --runtime-args --root=<own>) on one
# busybox `sleep` bundle (tools/mkbundle). Then:
#
#   per call   against the idle daemon: the wall time of `ctr --version`
#              (process start, no connection), `ctr version` (process +
#              connection + one call), one `ctr containers start` (and its
#              --debug split: connect+health check, CreateContainer) and
#              one CreateContainer through containerd-bench (--count 1);
#              medians of BENCH_CALLS. `perf stat` (software counters) of
#              one ctr start and one ctr version, `strace -c -f` and
#              `strace -r` of one ctr start.
#   rounds     BENCH_ROUNDS interleaved rounds (the order alternates): N
#              creates through bin/containerd-bench from W clients, and N
#              `ctr containers start` from W parallel shells (xargs -P W).
#              Each prints its rate, the client CPU per container (the
#              bench's, or all ctr processes' as xargs' children) and the
#              daemon's CPU per container; the ratio ctr/bench per round
#              and their medians. Between the two, everything started is
#              killed and the runtime root is empty again.
#
# Environment: BENCH_N (100), BENCH_W (10), BENCH_ROUNDS (3), BENCH_CALLS
# (10), BENCH_CONCURRENCY the daemon's --concurrency (its default, 10),
# BENCH_CONN_TIMEOUT ctr's --conn-timeout in the rounds (10s),
# CTR_BEFORE another ctr binary (e.g. an older build) run in the same rounds,
# CONTAINERD, SHIM, CTR, BENCH, RUNC (the programs; default bin/ and runc),
# BENCH_KEEP=1 keeps the temp dir. Needs root.
#
# Everything runs under a child subreaper, as tools/bench.sh does; what it
# started (containers, shims, the daemon, the temp dir) is removed at the
# end, also on ^C.
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
SELF=$REPO/tools/bench-cli.sh

# ---- the subreaper: re-exec this script under it, once.
if [ -z "${BENCH_REAPER:-}" ]; then
	export BENCH_REAPER=1
	exec /usr/bin/python3 "$REPO/tools/subreaper" /bin/bash "$SELF" "$@"
fi

N=${BENCH_N:-100}
W=${BENCH_W:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CALLS=${BENCH_CALLS:-10}
CONCURRENCY=${BENCH_CONCURRENCY:-10}
# A busy machine makes the daemon slower than ctr's default 1 s to answer.
CONN_TIMEOUT=${BENCH_CONN_TIMEOUT:-10s}
CONTAINERD=${CONTAINERD:-$REPO/bin/containerd}
SHIM=${SHIM:-$REPO/bin/containerd-shim}
CTR=${CTR:-$REPO/bin/ctr}
BENCH=${BENCH:-$REPO/bin/containerd-bench}
RUNC=${RUNC:-runc}

say() { printf '%s\n' "$*"; }
die() {
	say "bench-cli.sh: $*" >&2
	exit 1
}
now_ns() { date +%s%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'; }
# median of the numbers on stdin
median() {
	sort -n | awk 'NF { v[++n] = $1 } END {
		if (n == 0) { print "-"; exit }
		printf "%.2f\n", (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'
}
load() { cut -d' ' -f1-3 /proc/loadavg; }
# The daemon's CPU so far (user + system), in ms.
daemon_cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000 / hz }' \
		"/proc/$DAEMON_PID/stat" 2>/dev/null || echo 0
}

[ "$(id -u)" -eq 0 ] || die "needs root (runc)"
for f in "$CONTAINERD" "$SHIM" "$CTR" "$BENCH"; do
	[ -x "$f" ] || die "$f not built: run make"
done
command -v "$RUNC" >/dev/null || die "$RUNC not found"
case $N$W$ROUNDS$CALLS in *[!0-9]*) die "BENCH_N, BENCH_W, BENCH_ROUNDS, BENCH_CALLS must be numbers" ;; esac
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null

TMP=$(mktemp -d /tmp/ctrd-bench-cli.XXXXXX) || die "mktemp failed"
BUNDLE=$TMP/bundle
STATE=$TMP/state
SOCK=$STATE/containerd.sock
RUNC_ROOT=$TMP/runc
DAEMON_PID=
# Ids name host cgroups, shared by every runc root: unique per run.
PFX=cli-$$-

cleanup() {
	local p line
	trap - EXIT INT TERM
	if [ -n "$DAEMON_PID" ]; then
		kill -9 "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	if [ -d "$RUNC_ROOT" ]; then
		"$RUNC" --root "$RUNC_ROOT" list -q 2>/dev/null |
			xargs -r -P "$W" -n 1 "$RUNC" --root "$RUNC_ROOT" delete -f >/dev/null 2>&1
	fi
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
trap 'say "bench-cli.sh: interrupted, cleaning up" >&2; exit 130' INT TERM

# Kills the containers named on stdin (SIGKILL through ctr, W at a time)
# and waits until the daemon has deleted every one of them from runc's
# root; returns 1 if some are still there after 60 s.
teardown() {
	xargs -r -P "$W" -n 1 "$CTR" --address "$SOCK" --conn-timeout 30s \
		containers kill -s KILL >/dev/null 2>"$TMP/kill.err"
	local end=$(($(date +%s) + 60))
	while [ "$(date +%s)" -lt "$end" ]; do
		[ -z "$(ls -A "$RUNC_ROOT" 2>/dev/null)" ] && return 0
		sleep 0.02
	done
	say "# teardown: $(ls "$RUNC_ROOT" | wc -l) containers left in runc's root: $(ls "$RUNC_ROOT" | head -n 3 | tr '\n' ' ')" >&2
	sed 's/^/# kill: /' "$TMP/kill.err" | head -n 3 >&2
	return 1
}

say "== machine"
say "cpus: $(nproc), $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
say "kernel $(uname -r), runc: $("$RUNC" --version | head -n1)"
say "build: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO" diff --quiet 2>/dev/null || echo '+dirty')"
say "ctr: $(stat -c %s "$CTR") bytes, $(ldd "$CTR" 2>/dev/null | grep -c '=>') shared libraries" \
	"($(ldd "$CTR" 2>/dev/null | awk '/=>/ { printf "%s ", $1 }'))"
say "load before: $(load)"
say "N=$N W=$W rounds=$ROUNDS calls=$CALLS daemon --concurrency $CONCURRENCY"

sh "$REPO/tools/mkbundle" "$BUNDLE" sleep 100000 >/dev/null || die "mkbundle failed"
mkdir -p "$STATE" "$RUNC_ROOT"
"$CONTAINERD" --state-dir "$STATE" --listen "$SOCK" --shim "$SHIM" \
	--runtime-args "--root=$RUNC_ROOT" --concurrency "$CONCURRENCY" \
	>"$TMP/daemon.log" 2>&1 &
DAEMON_PID=$!
for k in $(seq 100); do
	[ -S "$SOCK" ] && "$CTR" --address "$SOCK" version >/dev/null 2>&1 && break
	kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$TMP/daemon.log" >&2; die "the daemon exited"; }
	sleep 0.1
done

# ---- per call, against the idle daemon
say ""
say "== one call against the idle daemon (median of $CALLS, ms)"
# wall CMD...: the wall time of one run, in ms.
wall() {
	local t0 t1
	t0=$(now_ns)
	"$@" >/dev/null 2>&1
	t1=$(now_ns)
	ms "$t0" "$t1"
}
for k in $(seq "$CALLS"); do
	echo "$(wall "$CTR" --version)" >>"$TMP/w.bare"
	echo "$(wall "$CTR" --address "$SOCK" version)" >>"$TMP/w.version"
	t0=$(now_ns)
	"$CTR" --address "$SOCK" --debug containers start "${PFX}one-$k" "$BUNDLE" 2>"$TMP/debug.$k"
	t1=$(now_ns)
	echo "$(ms "$t0" "$t1")" >>"$TMP/w.start"
	sed -n 's/.*connect and health check: OK in \([0-9.]*\) ms/\1/p' "$TMP/debug.$k" >>"$TMP/w.connect"
	sed -n 's/.*CreateContainer: OK in \([0-9.]*\) ms/\1/p' "$TMP/debug.$k" >>"$TMP/w.create"
	echo "${PFX}one-$k" | teardown
	"$BENCH" --count 1 --workers 1 --address "$SOCK" --bundle "$BUNDLE" \
		--id-prefix "${PFX}api-$k-" >"$TMP/bench1.out" 2>&1
	awk '$1 == "median:" { print $2 }' "$TMP/bench1.out" |
		awk '/ms$/ { sub(/ms$/, ""); print; next } /us$/ { sub(/us$/, ""); print $0 / 1000; next }
		     /s$/ { sub(/s$/, ""); print $0 * 1000 }' >>"$TMP/w.api"
done
say "ctr --version (process only):                 $(median <"$TMP/w.bare")"
say "ctr version (process + connection + 1 call):  $(median <"$TMP/w.version")"
say "ctr containers start, whole process:          $(median <"$TMP/w.start")"
say "  of which connect + health check (--debug):  $(median <"$TMP/w.connect")"
say "  of which CreateContainer (--debug):         $(median <"$TMP/w.create")"
say "CreateContainer through containerd-bench:     $(median <"$TMP/w.api")"
say "load: $(load)"

if perf stat -e task-clock true >/dev/null 2>&1; then
	say ""
	say "== perf stat (software counters) of one ctr start, one ctr version"
	perf stat -e task-clock,context-switches,cpu-migrations,page-faults \
		"$CTR" --address "$SOCK" containers start "${PFX}perf" "$BUNDLE" 2>&1 |
		awk '/task-clock|context-switches|cpu-migrations|page-faults|elapsed|user|sys/' | sed 's/^ */  /'
	echo "${PFX}perf" | teardown
	say "  --"
	perf stat -e task-clock,context-switches,cpu-migrations,page-faults \
		"$CTR" --address "$SOCK" version 2>&1 >/dev/null |
		awk '/task-clock|context-switches|cpu-migrations|page-faults|elapsed|user|sys/' | sed 's/^ */  /'
fi

if command -v strace >/dev/null; then
	say ""
	say "== strace -c -f of one ctr start (top 12 by time)"
	strace -c -f -o "$TMP/strace-c" "$CTR" --address "$SOCK" containers start \
		"${PFX}strace-c" "$BUNDLE" 2>/dev/null
	echo "${PFX}strace-c" | teardown
	sed -n '1,2p' "$TMP/strace-c"
	sed -n '3,$p' "$TMP/strace-c" | grep -v -e '^-' -e 'total' | head -n 12
	grep 'total' "$TMP/strace-c"
	say ""
	say "== strace -r of one ctr start: the steps (ms since exec)"
	strace -r -o "$TMP/strace-r" "$CTR" --address "$SOCK" containers start \
		"${PFX}strace-r" "$BUNDLE" 2>/dev/null
	echo "${PFX}strace-r" | teardown
	# Cumulative time at each landmark, and every gap over 1 ms.
	awk '{ t += $1; line = $0; sub(/^ *[0-9.]+ /, "", line) }
	     /openat\(.*\.so/ { libs++ }
	     /socket\(/ && !s { printf "  %7.2f  %d syscalls, %d shared libraries opened, before socket()\n", t * 1000, NR, libs; s = 1 }
	     $1 > 0.001 { printf "  %7.2f  +%.2f ms before: %.90s\n", t * 1000, $1 * 1000, line }
	     END { printf "  %7.2f  exit (%d syscalls)\n", t * 1000, NR }' "$TMP/strace-r"
fi

# ---- rounds
# run_bench R: N creates through containerd-bench; prints "rate cpu_ms".
run_bench() {
	local r=$1 d0 d1 cpu rate
	d0=$(daemon_cpu_ms)
	/usr/bin/time -f '%U %S' -o "$TMP/time.b$r" "$BENCH" --count "$N" --workers "$W" \
		--address "$SOCK" --bundle "$BUNDLE" --id-prefix "${PFX}b$r-" \
		>"$TMP/bench.b$r" 2>&1
	d1=$(daemon_cpu_ms)
	rate=$(awk '$1 == "containers/second:" { print $2 }' "$TMP/bench.b$r")
	awk '$1 == "median:" { print $2 }' "$TMP/bench.b$r" >"$TMP/split.b$r"
	grep -q '^errors: *0$' "$TMP/bench.b$r" || sed 's/^/# /' "$TMP/bench.b$r" >&2
	# The bench's CPU covers its teardown and State too (an upper bound).
	cpu=$(awk '{ printf "%.2f", ($1 + $2) * 1000 / '"$N"' }' "$TMP/time.b$r")
	say "${rate:-0} $cpu $(awk -v a="$d0" -v b="$d1" 'BEGIN { printf "%.2f", (b - a) / '"$N"' }')"
}
# run_ctr R [CTR]: N `ctr containers start` from W shells; prints "rate
# cpu_ms daemon_cpu_ms".
run_ctr() {
	local r=$1 bin=${2:-$CTR} t0 t1 d0 d1 ok el
	d0=$(daemon_cpu_ms)
	t0=$(now_ns)
	seq 0 $((N - 1)) | /usr/bin/time -f '%U %S' -o "$TMP/time.c$r" \
		xargs -P "$W" -I{} "$bin" --address "$SOCK" --conn-timeout "$CONN_TIMEOUT" \
		--debug containers start \
		"${PFX}c$r-{}" "$BUNDLE" 2>"$TMP/ctr.c$r"
	t1=$(now_ns)
	d1=$(daemon_cpu_ms)
	ok=$(grep -c ': started; ' "$TMP/ctr.c$r")
	[ "$ok" -eq "$N" ] || grep -v -e ': started; ' -e '^ctr: debug: ' "$TMP/ctr.c$r" |
		sort | uniq -c | head -n 5 | sed 's/^/# /' >&2
	# --debug's split of each ctr: connect + health check, CreateContainer.
	sed -n 's/.*connect and health check: OK in \([0-9.]*\) ms/\1/p' "$TMP/ctr.c$r" |
		median >"$TMP/split.c$r"
	sed -n 's/.*CreateContainer: OK in \([0-9.]*\) ms/\1/p' "$TMP/ctr.c$r" |
		median >>"$TMP/split.c$r"
	el=$(ms "$t0" "$t1")
	seq 0 $((N - 1)) | sed "s/^/${PFX}c$r-/" | teardown
	say "$(awk -v n="$ok" -v ms="$el" 'BEGIN { printf "%.1f", n * 1000 / ms }')" \
		"$(awk '{ printf "%.2f", ($1 + $2) * 1000 / '"$N"' }' "$TMP/time.c$r")" \
		"$(awk -v a="$d0" -v b="$d1" 'BEGIN { printf "%.2f", (b - a) / '"$N"' }')"
}

say ""
say "== $ROUNDS rounds of N=$N: containerd-bench (W=$W) and ctr containers start (xargs -P$W)"
say "round  order       bench/s  ctr/s   ctr/bench  client CPU ms/ctr: bench ctr   daemon CPU ms/ctr: bench ctr   load"
say "       (then the medians: bench's CreateContainer; ctr's connect + health check and CreateContainer, from --debug)"
for r in $(seq "$ROUNDS"); do
	if [ -n "${CTR_BEFORE:-}" ] && [ $((r % 2)) -eq 1 ]; then
		read -r pr _ _ <<<"$(run_ctr "p$r" "$CTR_BEFORE")"
	fi
	if [ $((r % 2)) -eq 1 ]; then
		read -r br bc bd <<<"$(run_bench "$r")"
		read -r cr cc cd <<<"$(run_ctr "$r")"
		order="bench,ctr"
	else
		read -r cr cc cd <<<"$(run_ctr "$r")"
		read -r br bc bd <<<"$(run_bench "$r")"
		order="ctr,bench"
	fi
	if [ -n "${CTR_BEFORE:-}" ] && [ $((r % 2)) -eq 0 ]; then
		read -r pr _ _ <<<"$(run_ctr "p$r" "$CTR_BEFORE")"
	fi
	if [ -n "${CTR_BEFORE:-}" ]; then
		say "       CTR_BEFORE ($CTR_BEFORE): $pr/s, ratio to bench" \
			"$(awk -v a="$pr" -v b="$br" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
		awk -v a="$pr" -v b="$br" 'BEGIN { printf "%.2f\n", (b > 0 ? a / b : 0) }' >>"$TMP/r.before"
	fi
	ratio=$(awk -v a="$cr" -v b="$br" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	printf '%-6s %-11s %-8s %-7s %-10s %-26s %-30s %s\n' "$r" "$order" "$br" "$cr" "$ratio" \
		"$bc $cc" "$bd $cd" "$(load)"
	say "       bench CreateContainer $(cat "$TMP/split.b$r"); ctr connect+health $(sed -n 1p "$TMP/split.c$r") ms, CreateContainer $(sed -n 2p "$TMP/split.c$r") ms"
	echo "$br" >>"$TMP/r.bench"
	echo "$cr" >>"$TMP/r.ctr"
	echo "$ratio" >>"$TMP/r.ratio"
done
say ""
say "== summary (N=$N, W=$W, $ROUNDS rounds)"
say "median rate: containerd-bench $(median <"$TMP/r.bench")/s, ctr $(median <"$TMP/r.ctr")/s;" \
	"ctr/bench per round: $(tr '\n' ' ' <"$TMP/r.ratio")(median $(median <"$TMP/r.ratio"))"
[ -n "${CTR_BEFORE:-}" ] && say "CTR_BEFORE/bench per round: $(tr '\n' ' ' <"$TMP/r.before")(median $(median <"$TMP/r.before"))"
say "load after: $(load)"
warns=$(grep -c -E ' (warn|error) ' "$TMP/daemon.log")
say "daemon log: $(wc -l <"$TMP/daemon.log") lines, $warns warnings/errors"
[ "$warns" -gt 0 ] && grep -E ' (warn|error) ' "$TMP/daemon.log" | head -n 5 | sed 's/^/# /'

kill -TERM "$DAEMON_PID" 2>/dev/null
for k in $(seq 50); do
	kill -0 "$DAEMON_PID" 2>/dev/null || break
	sleep 0.1
done
exit 0
