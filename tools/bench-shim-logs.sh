#!/bin/bash
# bench-shim-logs.sh: the shim's memory with process logging on.
#
# A private daemon (own --state-dir, runc --root, --log-max-size 1m so the
# logs rotate during the run) starts BENCH_N (10) detached containers (no
# stdout/stderr: their shims log) whose init writes steadily: short lines
# on stdout, a 20,000-byte line (longer than the shim's 8 KiB buffer, so
# both its line buffers are used whole) and lines on stderr, in a loop with
# a short sleep. Plus BENCH_N quiet ones (`sleep`, also logged, writing
# nothing) for the baseline. After BENCH_SECS (10) seconds of output every
# shim's Rss and Pss are read from /proc/PID/smaps_rollup, as tools/bench.sh
# reads them; min/median/max per group. Everything is removed at the end.
# Needs root. Environment: BENCH_N, BENCH_SECS, CONTAINERD, SHIM, CTR, RUNC.
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
N=${BENCH_N:-10}
SECS=${BENCH_SECS:-10}
CONTAINERD=${CONTAINERD:-$REPO/bin/containerd}
SHIM=${SHIM:-$REPO/bin/containerd-shim}
CTR=${CTR:-$REPO/bin/ctr}
RUNC=${RUNC:-runc}
T=$(mktemp -d /tmp/bench-shim-logs.XXXXXX)
STATE=$T/state SOCK=$T/state/containerd.sock
DPID=

cleanup() {
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
	for id in $("$RUNC" --root "$T/runc" list -q 2>/dev/null); do
		"$RUNC" --root "$T/runc" delete -f "$id" >/dev/null 2>&1
	done
	for p in $(pgrep -f "containerd-shim.*$T/" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

bundle() {	# bundle DIR ARGS_JSON
	"$REPO/tools/mkbundle" "$1" sh >/dev/null
	jq --argjson a "$2" '.process.terminal = false | .process.args = $a' "$1/config.json" \
		>"$1/c.json" && mv "$1/c.json" "$1/config.json"
}

summarize() {	# min/median/max of the numbers on stdin
	sort -n | awk '{ v[NR] = $1 } END { printf "%s/%s/%s", v[1], v[int((NR + 1) / 2)], v[NR] }'
}

mkdir -p "$STATE"
"$CONTAINERD" --state-dir "$STATE" --listen "$SOCK" --runtime-args "--root=$T/runc" \
	--shim "$SHIM" --log-max-size 1m >"$T/daemon.log" 2>&1 &
DPID=$!
for k in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done

bundle "$T/loud" '["sh", "-c", "k=0; while :; do echo \"line $k of steady output\"; echo \"err $k\" >&2; if [ $((k % 50)) = 0 ]; then head -c 20000 /dev/zero | tr \"\\0\" x; echo; fi; k=$((k+1)); [ $((k % 20)) = 0 ] && sleep 0.05; done"]'
bundle "$T/quiet" '["sleep", "100000"]'
for k in $(seq "$N"); do
	"$CTR" --address "$SOCK" containers start "loud$k" "$T/loud" 2>/dev/null || echo "loud$k failed"
	"$CTR" --address "$SOCK" containers start "quiet$k" "$T/quiet" 2>/dev/null || echo "quiet$k failed"
done
sleep "$SECS"

for group in loud quiet; do
	rss=() pss=()
	for p in /proc/[0-9]*; do
		line=$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
		case $line in
		*containerd-shim*" --id $group"[0-9]*" --log "*)
			rss+=("$(awk '$1 == "Rss:" { print $2 }' "$p/smaps_rollup" 2>/dev/null)")
			pss+=("$(awk '$1 == "Pss:" { print $2 }' "$p/smaps_rollup" 2>/dev/null)")
			;;
		esac
	done
	echo "$group: shims=${#rss[@]} rss_kb=$(printf '%s\n' "${rss[@]}" | summarize)" \
		"pss_kb=$(printf '%s\n' "${pss[@]}" | summarize)"
done
echo "logged by loud1 in ${SECS}s: $(cat "$STATE/_logs/loud1/init.log.1" "$STATE/_logs/loud1/init.log" 2>/dev/null | wc -c) bytes kept" \
	"(.log $(stat -c %s "$STATE/_logs/loud1/init.log" 2>/dev/null), .log.1 $(stat -c %s "$STATE/_logs/loud1/init.log.1" 2>/dev/null))"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
