#!/usr/bin/env bash
# tests/san/run.sh: the ASan+UBSan build (make san-build: build-san/,
# bin-san/) under test, as one TAP stream for tests/run-all.sh:
#   - each unit test of build-san/tests/ is one test point (prove runs it);
#   - then the bats files SAN_BATS (default: most of tests/integration) with
#     CONTAINERD and CTR_BIN pointing at bin-san/ and CTRD_SAN=1, which makes
#     teardown_common stop the daemon with SIGTERM (so LeakSanitizer runs at
#     its exit) and fail the test on a non-zero exit or any sanitizer report
#     in the daemon's log. The shim is the normal (musl) build.
# A sanitizer finding aborts the program (abort_on_error, halt_on_error), so
# a unit test or ctr that hits one fails too.
set -u
cd "$(dirname "$0")/../.." || exit 1

SAN_BIN=${SAN_BIN:-bin-san}
SAN_B=${SAN_B:-build-san}
# The bats files of tests/san/bats-files: every file but the load, timing
# and crash tests (chaos, faults, hostile access, bench, metrics, fds, tty,
# attach, ...), which an ASan daemon's slowness would turn into timeouts
# rather than findings. tests/run-all.sh runs these files here only, not in
# its bats section as well: each of their tests runs once, sanitized.
# A line "NAME both" runs in both sections (a test there behaves otherwise
# under the sanitizer, e.g. layout's hung-filesystem stop).
SAN_BATS=${SAN_BATS:-$(while read -r f _; do
	[ -n "$f" ] && printf 'tests/integration/%s.bats ' "$f"
done <tests/san/bats-files)}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
if [ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]; then
	export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi

units=()
for f in "$SAN_B"/tests/test_*; do
	[ -f "$f" ] && [ -x "$f" ] && units+=("$f")
done
for b in containerd ctr; do
	if [ ! -x "$SAN_BIN/$b" ]; then
		echo "1..1"
		echo "not ok 1 - $SAN_BIN/$b not built (make san-build)"
		exit 1
	fi
done

# shellcheck disable=SC2086
nbats=$(bats --count $SAN_BATS) || nbats=0
echo "1..$((${#units[@]} + nbats))"

n=0
log=$(mktemp "${TMPDIR:-/tmp}/san-unit.XXXXXX")
for f in "${units[@]}"; do
	n=$((n + 1))
	if prove "$f" >"$log" 2>&1; then
		echo "ok $n - sanitized unit $(basename "$f")"
	else
		echo "not ok $n - sanitized unit $(basename "$f")"
		grep -E -v '^ok ' "$log" | head -n 60 | sed 's/^/# /'
	fi
done
rm -f "$log"

# bats' own numbering continues after the unit tests; its plan is ours.
# shellcheck disable=SC2086
CTRD_SAN=1 CONTAINERD=$PWD/$SAN_BIN/containerd CTR_BIN=$PWD/$SAN_BIN/ctr \
	bats --tap $SAN_BATS | awk -v off="$n" '
	/^1\.\.[0-9]+$/ { next }
	/^(not )?ok [0-9]+/ {
		neg = ($1 == "not")
		k = neg ? $3 : $2
		rest = $0
		sub(/^(not )?ok [0-9]+/, "", rest)
		print (neg ? "not ok " : "ok ") (k + off) rest
		next
	}
	{ print }'
exit "${PIPESTATUS[0]}"
