#!/bin/sh
# run-all.sh: the whole `make test` suite, run from the repo root after the
# build:  sh tests/run-all.sh
#
# Runs, each bounded in time and printed as it goes:
#   unit   prove -v build/tests/test_*          (C unit tests, TAP)
#   shim   tests/shim/run.sh                    (TAP, when present)
#   fuzz   tests/fuzz/run.sh short              (libFuzzer targets, a short run each)
#   bats   bats --tap tests/integration         (end to end: daemon, shim, ctr, runc)
#   compat bats --tap tests/compat              (the real dockerd 17.09 on top; needs
#                                                DOCKERD and DOCKER, skips saying so)
#   grpc   /usr/bin/python3 tests/grpc/run.py   (independent python3-grpcio client)
#   san    tests/san/run.sh                     (ASan+UBSan build: unit tests, and the
#                                                bats files of tests/san/bats-files, which
#                                                the bats section then leaves out)
# then counts TAP results over all of them. A runner that crashes, times out,
# bails out or whose plan does not match its tests counts as one failure.
# The last line is "N passed, N failed[, N skipped]"; exit 1 if any failed.
#
# Each section gets its cap, or what is left of the budget if less; the
# sections before san leave SAN_RESERVE seconds of the budget to it, so a
# busy machine that makes them run long cuts them short (their tests not
# reached counted skipped, said so), never the sanitizer section.
#
# Environment: SUITE_BUDGET (seconds for everything, default 1380),
# UNIT_TIMEOUT, SHIM_TIMEOUT, FUZZ_TIMEOUT, BATS_TIMEOUT, COMPAT_TIMEOUT,
# GRPC_TIMEOUT, SAN_TIMEOUT (per runner caps), SAN_RESERVE (default 600,
# what the whole san section takes on a busy 2-core machine; 0 when
# tests/san/run.sh is absent), DOCKERD and DOCKER (dockerd
# 17.09 and the docker client for tests/compat; .ci/run sets them),
# BATS_FILTER (passed to bats --filter), KEEP_SUITE_TMP=1 (keep the temp dir).

# bash is needed (PIPESTATUS, arrays); `sh tests/run-all.sh` re-execs.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/.." || exit 1

SUITE_BUDGET=${SUITE_BUDGET:-1380}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-120}
SHIM_TIMEOUT=${SHIM_TIMEOUT:-180}
BATS_TIMEOUT=${BATS_TIMEOUT:-600}
COMPAT_TIMEOUT=${COMPAT_TIMEOUT:-300}
GRPC_TIMEOUT=${GRPC_TIMEOUT:-300}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-90}
SAN_TIMEOUT=${SAN_TIMEOUT:-720}
if [ -f tests/san/run.sh ]; then
	SAN_RESERVE=${SAN_RESERVE:-600}
else
	SAN_RESERVE=0
fi
# Seconds of the budget the section being started must leave to later ones.
reserve=$SAN_RESERVE
PY=/usr/bin/python3

passed=0
failed=0
skipped=0
problems=()
out_of_time=()

# Everything the runners make (test roots, bundles) goes under one private
# TMPDIR, so whatever a killed runner leaves is found and removed here.
SUITE_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ctrd-suite.XXXXXX") || exit 1
LOGS=$SUITE_TMP/logs
mkdir -p "$LOGS"
export TMPDIR=$SUITE_TMP

on_exit() {
	cleanup_leftovers quiet
	if [ "${KEEP_SUITE_TMP:-0}" = 1 ]; then
		echo "# kept $SUITE_TMP" >&2
	else
		rm -rf "$SUITE_TMP"
	fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# cleanup_leftovers [quiet]: kill processes still working under $SUITE_TMP
# (daemons, shims, helpers) and force-delete runc containers of any runc
# root in it. Prints what it found; returns 1 if it found anything.
cleanup_leftovers() {
	local found=0 p root id
	local me=$$
	for p in $(pgrep -f -- "$SUITE_TMP/" 2>/dev/null); do
		[ "$p" = "$me" ] && continue
		# Not our own pipeline (tee into $LOGS).
		if { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -q -- "^tee $LOGS/"; then
			continue
		fi
		if [ -z "${1:-}" ]; then
			echo "# leftover process $p: $({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null)"
		fi
		found=1
		kill -9 "$p" 2>/dev/null
	done
	while IFS= read -r root; do
		for id in $(runc --root "$root" list -q 2>/dev/null); do
			[ -z "${1:-}" ] && echo "# leftover container $id (runc --root $root)"
			found=1
			runc --root "$root" delete -f "$id" >/dev/null 2>&1
		done
	done < <(find "$SUITE_TMP" -maxdepth 4 -type d -name runc 2>/dev/null)
	return $((!found ? 0 : 1))
}

# count_tap FILE MODE: count TAP results in FILE (MODE "prove": several
# streams, each starting at prove's "name .. " header; test lines must be
# numbered so prove's own per-file "ok" is not counted). Prints
# "PASS FAIL SKIP EXTRA" where EXTRA is the number of broken streams (plan
# missing or not matching, Bail out!); explains each on stderr as "# ...".
count_tap() {
	awk -v mode="$2" '
	function end_stream() {
		if (!open) return
		if (bail) {
			extra++
			printf("# %s: bailed out\n", name) > "/dev/stderr"
		} else if (!hasplan && ntests == 0) {
			extra++
			printf("# %s: no TAP plan and no tests\n", name) > "/dev/stderr"
		} else if (!hasplan) {
			extra++
			printf("# %s: no TAP plan (ran %d tests)\n", name, ntests) > "/dev/stderr"
		} else if (planned != ntests) {
			extra++
			printf("# %s: planned %d tests, ran %d\n", name, planned, ntests) > "/dev/stderr"
		}
		open = 0
	}
	function start_stream(n) {
		end_stream()
		open = 1; name = n; hasplan = 0; planned = 0; ntests = 0; bail = 0
	}
	BEGIN {
		pass = fail = skip = extra = 0
		if (mode != "prove") start_stream("output")
	}
	{ sub(/\r$/, "") }
	# prove pads the header with dots: "build/tests/test_x ..... "
	mode == "prove" && /^[^ #].* \.\.+[ ]?$/ && !/^(not )?ok/ {
		n = $0; sub(/ \.\.+[ ]?$/, "", n); start_stream(n); next
	}
	!open { next }
	/^1\.\.[0-9]+/ {
		if (!hasplan) {
			hasplan = 1
			planned = substr($0, 4) + 0
			if (planned == 0 && tolower($0) ~ /#[ \t]*skip/) skip++
		}
		next
	}
	/^Bail out!/ { bail = 1; next }
	/^(not )?ok([ \t]|$)/ {
		numbered = ($0 ~ /^(not )?ok[ \t]+[0-9]+/)
		if (mode == "prove" && !numbered) next
		ntests++
		low = tolower($0)
		directive = ""
		if (match(low, /#[ \t]*(skip|todo)/)) directive = substr(low, RSTART + 1)
		sub(/^[ \t]*/, "", directive)
		if (directive ~ /^skip/) skip++
		else if (directive ~ /^todo/) { if ($0 ~ /^not ok/) skip++; else pass++ }
		else if ($0 ~ /^not ok/) fail++
		else pass++
		next
	}
	END { end_stream(); print pass, fail, skip, extra }
	' "$1"
}

elapsed() {
	echo $((SECONDS - suite_start))
}

# run_section NAME CAP MODE CMD...: run CMD bounded by min(CAP, what is left
# of the budget), tee its output to the terminal, count its TAP.
run_section() {
	local name=$1 cap=$2 mode=$3
	shift 3
	local left=$((SUITE_BUDGET - $(elapsed) - reserve))
	local limit=$cap
	[ "$left" -lt "$limit" ] && limit=$left
	local log=$LOGS/$name.tap

	echo "# ==== $name: $* (time limit ${limit}s)"
	if [ "$limit" -lt 10 ]; then
		# Out of time is no failure of the tests: said, counted skipped.
		local kept=""
		[ "$reserve" -gt 0 ] && kept=" (${reserve}s of it kept for san)"
		echo "# $name: not run, the suite's time budget (${SUITE_BUDGET}s) is spent$kept"
		skipped=$((skipped + 1))
		out_of_time+=("$name: not run, the suite's time budget (${SUITE_BUDGET}s) was spent$kept")
		return
	fi

	local t0=$SECONDS rc
	timeout -k 15 "$limit" "$@" </dev/null 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}

	local p f s x
	count_tap "$log" "$mode" >"$LOGS/$name.count" 2>"$LOGS/$name.why"
	cat "$LOGS/$name.why"
	read -r p f s x <"$LOGS/$name.count"

	if { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } && [ "$mode" = tap ] &&
		grep -q '^# output: planned [0-9]* tests, ran [0-9]*$' "$LOGS/$name.why"; then
		# The time ran out, not a test: the tests that ran count as they
		# ended, those never reached (and the one cut short) are skipped,
		# and the summary says so.
		local planned ran
		read -r planned ran < <(sed -n 's/^# output: planned \([0-9]*\) tests, ran \([0-9]*\)$/\1 \2/p' "$LOGS/$name.why")
		echo "# $name: its time (${limit}s) ran out: $((planned - ran)) of $planned tests not run, counted as skipped"
		out_of_time+=("$name: time limit ${limit}s ran out, $((planned - ran)) of $planned tests not run (skipped)")
		s=$((s + planned - ran))
		x=$((x - 1))
		grep -v '^# output: planned [0-9]* tests, ran [0-9]*$' "$LOGS/$name.why" >"$LOGS/$name.why2"
		mv "$LOGS/$name.why2" "$LOGS/$name.why"
	elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "# $name: timed out after ${limit}s"
		problems+=("$name: timed out after ${limit}s")
		x=$((x + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && [ "$x" -eq 0 ]; then
		echo "# $name: exited with status $rc but reported no failing test"
		problems+=("$name: exited with status $rc")
		x=1
	fi
	if [ "$x" -gt 0 ] && [ -s "$LOGS/$name.why" ]; then
		while IFS= read -r l; do problems+=("$name: ${l#\# }"); done <"$LOGS/$name.why"
	fi
	if ! cleanup_leftovers; then
		echo "# $name: left processes or containers behind (killed now)"
		problems+=("$name: left processes or containers behind")
		x=$((x + 1))
	fi

	echo "# ---- $name: $p passed, $((f + x)) failed, $s skipped ($((SECONDS - t0))s)"
	passed=$((passed + p))
	failed=$((failed + f + x))
	skipped=$((skipped + s))
}

suite_start=$SECONDS

# (a) unit tests
units=()
for f in build/tests/test_*; do
	[ -f "$f" ] && [ -x "$f" ] && units+=("$f")
done
if [ ${#units[@]} -gt 0 ]; then
	run_section unit "$UNIT_TIMEOUT" prove prove -v "${units[@]}"
else
	echo "# ==== unit: no unit tests in build/tests/"
fi

# (b) the shim's own tests
if [ -f tests/shim/run.sh ]; then
	run_section shim "$SHIM_TIMEOUT" tap sh tests/shim/run.sh
else
	echo "# ==== shim: tests/shim/run.sh not present"
fi

# (b2) fuzz targets, briefly (make fuzz runs them long)
if [ -f tests/fuzz/run.sh ]; then
	run_section fuzz "$FUZZ_TIMEOUT" tap sh tests/fuzz/run.sh short
fi

# (c) end to end
if command -v bats >/dev/null; then
	bats_args=(--tap --timing)
	[ -n "${BATS_FILTER:-}" ] && bats_args+=(--filter "$BATS_FILTER")
	# The files the san section runs against the sanitized build are not
	# run here as well (each test runs once), but for those marked "both"
	# in tests/san/bats-files; SAN_TWICE=1 runs all of them in both.
	bats_files=()
	for f in tests/integration/*.bats; do
		if [ -z "${SAN_TWICE:-}" ] && [ -f tests/san/run.sh ] && [ -x bin-san/containerd ] &&
			grep -qx "$(basename "$f" .bats)" tests/san/bats-files 2>/dev/null; then
			continue
		fi
		bats_files+=("$f")
	done
	run_section bats "$BATS_TIMEOUT" tap bats "${bats_args[@]}" "${bats_files[@]}"
else
	echo "# ==== bats: not installed (apt-get install bats)"
	failed=$((failed + 1))
	problems+=("bats: not installed")
fi

# (c2) the real Docker Engine on this daemon (issue 11), when DOCKERD and
# DOCKER name its binaries (a relative name is taken from the repo root);
# otherwise one skip, saying why. Set but unusable: each test skips, saying why.
if [ -z "${DOCKERD:-}" ] || [ -z "${DOCKER:-}" ]; then
	echo "# ==== compat: skipped: DOCKERD and DOCKER do not name dockerd 17.09 and the docker client (.ci/run sets them)"
	skipped=$((skipped + 1))
elif command -v bats >/dev/null; then
	for v in DOCKERD DOCKER; do
		f=${!v}
		if [ "${f#/}" = "$f" ] && [ -d "$(dirname "$f")" ]; then
			export "$v=$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"
		fi
	done
	run_section compat "$COMPAT_TIMEOUT" tap bats --tap --timing tests/compat
fi

# (d) the independent gRPC client
if [ -x "$PY" ]; then
	run_section grpc "$GRPC_TIMEOUT" tap "$PY" tests/grpc/run.py
else
	echo "# ==== grpc: $PY not found"
	failed=$((failed + 1))
	problems+=("grpc: $PY not found")
fi

# (e) the sanitizer build (make san-build) under unit and some bats tests
if [ -f tests/san/run.sh ]; then
	reserve=0
	run_section san "$SAN_TIMEOUT" tap bash tests/san/run.sh
fi

if [ ${#problems[@]} -gt 0 ]; then
	echo "# runner problems (each counted as a failure where it says so above):"
	for l in "${problems[@]}"; do echo "#   $l"; done
fi
if [ ${#out_of_time[@]} -gt 0 ]; then
	echo "# out of time (a busy machine? the tests not reached are counted as skipped, not failed):"
	for l in "${out_of_time[@]}"; do echo "#   $l"; done
fi
echo "# suite took $(elapsed)s"

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
