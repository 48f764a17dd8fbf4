#!/bin/sh
# tests/fuzz/run.sh: runs the libFuzzer targets built into build/fuzz/.
#
#   sh tests/fuzz/run.sh short   for `make test`: each target replays its
#                                corpus, then FUZZ_RUNS more inputs (default
#                                100000) or FUZZ_SHORT_TIME s (default 12),
#                                whichever ends first; prints TAP
#   sh tests/fuzz/run.sh long    for `make fuzz`: FUZZ_TIME s (default 300)
#                                each, new inputs kept in build/fuzz/work-*,
#                                crashes in build/fuzz/crash-*
#
# The committed corpus tests/fuzz/corpus/<target>/ (seeds and regression
# inputs) is only read: libFuzzer writes what it finds into the first
# directory it is given, which is a scratch one. An input worth keeping (a
# crash, once fixed, as its regression test) is copied in by hand:
#   cp build/fuzz/crash-grpc-... tests/fuzz/corpus/grpc/regress-<what>
set -u
cd "$(dirname "$0")/../.." || exit 1

MODE=${1:-short}
BIN_DIR=${FUZZ_BIN_DIR:-build/fuzz}
TARGETS=${FUZZ_TARGETS:-grpc proto control validate shimjson jsonlax}
RUNS=${FUZZ_RUNS:-100000}
SHORT_TIME=${FUZZ_SHORT_TIME:-12}
LONG_TIME=${FUZZ_TIME:-300}

# Symbolized stacks in reports; a sanitizer finding is a crash.
if [ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]; then
	ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
	export ASAN_SYMBOLIZER_PATH
fi
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS UBSAN_OPTIONS

set -- $TARGETS
n=0
echo "1..$#"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
failed=0
for t in "$@"; do
	n=$((n + 1))
	bin=$BIN_DIR/fuzz_$t
	corpus=tests/fuzz/corpus/$t
	if [ ! -x "$bin" ]; then
		echo "not ok $n - fuzz $t: $bin not built (make fuzz-build)"
		failed=1
		continue
	fi
	if [ "$MODE" = long ]; then
		work=$BIN_DIR/work-$t
		mkdir -p "$work"
		echo "# fuzz $t: ${LONG_TIME}s, new inputs in $work"
		"$bin" -max_total_time="$LONG_TIME" -timeout=10 -print_final_stats=1 \
			-artifact_prefix="$BIN_DIR/crash-$t-" "$work" "$corpus" \
			>"$scratch/$t.log" 2>&1
		rc=$?
	else
		work=$scratch/$t
		mkdir -p "$work"
		"$bin" -runs="$RUNS" -max_total_time="$SHORT_TIME" -timeout=10 \
			-artifact_prefix="$scratch/crash-$t-" "$work" "$corpus" \
			>"$scratch/$t.log" 2>&1
		rc=$?
	fi
	# libFuzzer's last words: "Done N runs in S second(s)".
	done_line=$(grep -E '^Done [0-9]+ runs' "$scratch/$t.log" | tail -n 1)
	runs=$(echo "$done_line" | awk '{ print $2 }')
	secs=$(echo "$done_line" | awk '{ print $5 }')
	if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
		echo "ok $n - fuzz $t: $runs runs in ${secs}s, no crash"
	else
		failed=1
		echo "not ok $n - fuzz $t: exit status $rc"
		# The report: the sanitizer's or libFuzzer's summary and stack.
		grep -E -A 30 'ERROR:|runtime error:|deadly signal|Test unit written' \
			"$scratch/$t.log" | head -n 60 | sed 's/^/# /'
		for f in "$scratch"/crash-"$t"-* "$BIN_DIR"/crash-"$t"-*; do
			[ -f "$f" ] || continue
			echo "# input ($(wc -c <"$f") bytes, base64): $(base64 -w0 "$f" | head -c 2000)"
			[ "$MODE" = long ] || cp "$f" "$BIN_DIR/" 2>/dev/null
		done
	fi
done
exit $failed
