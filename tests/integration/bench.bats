#!/usr/bin/env bats
# containerd-bench against a private daemon: a small run prints every
# figure with plausible values and leaves nothing behind; bad runs fail.

load helpers

BENCH_BIN=$REPO/bin/containerd-bench

setup_file() {
	setup_base_bundle
}

setup() {
	requires_e2e
	[ -x "$BENCH_BIN" ] || skip "bin/containerd-bench not built"
	setup_common
	start_daemon
}

teardown() {
	teardown_common
}

# value KEY: the first word after "KEY" at the start of a line of $output.
value() {
	awk -v k="$1" '$1 == k { print $2; exit }' <<<"$output"
}

# ns DURATION: "12.3ms" -> nanoseconds (integer); empty if not a duration.
ns() {
	awk -v d="$1" 'BEGIN {
		if (d ~ /^[0-9.]+ns$/) m = 1
		else if (d ~ /^[0-9.]+us$/) m = 1e3
		else if (d ~ /^[0-9.]+ms$/) m = 1e6
		else if (d ~ /^[0-9.]+s$/) m = 1e9
		else exit
		sub(/[a-z]+$/, "", d)
		printf "%d\n", d * m
	}'
}

# shims_of_state: pids of the shims working under this test's state dir.
shims_of_state() {
	pgrep -f -- "containerd-shim.* --dir $STATE/" || true
}

no_shims_left() {
	[ -z "$(shims_of_state)" ]
}

runc_root_empty() {
	[ -z "$(runc_list)" ]
}

@test "containerd-bench: 10 containers from 5 workers, every figure, nothing left" {
	make_bundle bench "${SLEEP_ARGS[@]}"
	prefix=$(unique_id b)-
	run -0 timeout -k 5 60 "$BENCH_BIN" --count 10 --workers 5 --address "$SOCK" \
		--bundle "$BUNDLE" --id-prefix "$prefix" --slice 4
	echo "$output"

	assert_eq "$(value count:)" 10 "count"
	assert_eq "$(value errors:)" 0 "errors"
	local key d
	for key in min: max: mean: stddev: median: 75%: 95%: 99%: 99.9%: state: teardown:; do
		d=$(value "$key")
		[ -n "$(ns "$d")" ] || fail "$key: not a duration: '$d'"
	done
	min=$(ns "$(value min:)")
	median=$(ns "$(value median:)")
	p99=$(ns "$(value 99%:)")
	max=$(ns "$(value max:)")
	[ "$min" -gt 0 ] || fail "min is 0"
	[ "$min" -le "$median" ] || fail "min $min > median $median"
	[ "$median" -le "$p99" ] || fail "median $median > p99 $p99"
	[ "$p99" -le "$max" ] || fail "p99 $p99 > max $max"

	rate=$(value containers/second:)
	awk -v r="$rate" 'BEGIN { exit !(r > 0) }' || fail "containers/second: '$rate'"

	# The rate per slice of 4: "slice: END SECONDS RATE" for 4, 8, and
	# the partial 10; the seconds add up to the elapsed time.
	slices=$(awk '$1 == "slice:" { print $2 }' <<<"$output" | tr '\n' ' ')
	assert_eq "$slices" "4 8 10 " "slice ends"
	awk '$1 == "slice:" { if (!($3 > 0 && $4 > 0)) bad = 1; s += $3 }
		$1 == "elapsed:" { e = $2 }
		END { sub(/s$/, "", e); if (e ~ /m$/) { sub(/m$/, "", e); e /= 1000 }
			exit !(!bad && s > 0.99 * e && s < 1.01 * e) }' <<<"$output" ||
		fail "slice seconds do not add up to elapsed"
	echo "# slices of 4: $(awk '$1 == "slice:" { printf "%s/s ", $4 }' <<<"$output")" >&3

	assert_match "$output" '^state: .*10 of 10 listed, 10 running'
	assert_match "$output" '^teardown: .*\(10 exit events'
	[ "$(ns "$(value teardown:)")" -gt 0 ] || fail "teardown is 0"
	awk -v r="$(value exits/second:)" 'BEGIN { exit !(r > 0) }' || fail "no exits/second"
	assert_match "$output" '^state empty: .*\(0 left\)'

	# Gone everywhere: State, runc, the shims; each exit recorded as 137.
	run -0 ctr containers
	! grep -qF -- "$prefix" <<<"$output" || fail "still listed: $output"
	wait_for runc_root_empty
	wait_for no_shims_left
	assert_eq "$(db "SELECT count(*) FROM events WHERE type = 'exit'
		AND container_id LIKE '$prefix%' AND status = 137")" 10 "exit events with 137"
}

@test "containerd-bench: failed creates make it exit 1, each error counted once" {
	# A process that cannot exec: runc start fails for every container.
	make_bundle broken /no/such/binary
	prefix=$(unique_id f)-
	run -1 timeout -k 5 60 "$BENCH_BIN" --count 3 --workers 3 --address "$SOCK" \
		--bundle "$BUNDLE" --id-prefix "$prefix"
	echo "$output"
	assert_eq "$(value errors:)" 3 "errors"
	assert_eq "$(value count:)" 0 "count"
	# One line for the three identical errors, with its count.
	n=$(grep -c 'CreateContainer failed' <<<"$output")
	assert_eq "$n" 1 "error lines"
	assert_match "$output" 'CreateContainer failed 3 times: '
	wait_for runc_root_empty
	wait_for no_shims_left
}

@test "containerd-bench: --help, and bad flags are refused before any call" {
	run -0 "$BENCH_BIN" --help
	assert_match "$output" '--count N'
	assert_match "$output" '--workers W'

	run -2 "$BENCH_BIN" --address "$SOCK"
	assert_match "$output" '--bundle is required'
	run -2 "$BENCH_BIN" --address "$SOCK" --bundle "$T/nowhere"
	assert_match "$output" 'nowhere'
	run -2 "$BENCH_BIN" --address "$SOCK" --bundle "$T" --count 0
	assert_match "$output" '--count'
}

@test "bench.sh: a tiny run prints the slices, CPU shares, ctr containers and load; host and processes left as they were" {
	pid_max=$(cat /proc/sys/kernel/pid_max)
	# 20,000 pids per container: 4 containers need more than pid_max, so
	# the run raises it, and puts it back at the end.
	run -0 env BENCH_N=4 BENCH_W=2 BENCH_P=2 BENCH_LOAD=1 BENCH_PROGRESS=1 \
		BENCH_PIDS_PER_CONTAINER=20000 timeout -k 5 100 bash "$REPO/tools/bench.sh"
	echo "$output"
	assert_match "$output" "host: kernel.pid_max raised from $pid_max to [0-9]+ \(restored at the end\)"
	assert_match "$output" "host: kernel.pid_max restored to $pid_max"
	assert_match "$output" 'started 1 CPU-bound loops'
	assert_match "$output" 'slices of 1, load loops 1'
	assert_match "$output" "runc's CPU \(the raw half's children, user\+sys\): [0-9]+ ms, [0-9.]+ ms per container"
	assert_match "$output" 'start rate per 1 \(containers'
	# A row per container: raw and daemon rate, their ratio.
	[ "$(grep -cE '^  [1-4]-[1-4] +[0-9.]+ +[0-9.]+ +[0-9.]+$' <<<"$output")" -eq 4 ] ||
		fail "not 4 slice rows"
	# Each half's own fall, and the verdict on the ratio to raw per slice.
	assert_match "$output" 'raw: last slice [0-9.]+/s vs first [0-9.]+/s: [0-9.]+x'
	assert_match "$output" 'daemon: last slice [0-9.]+/s vs first'
	assert_match "$output" 'ratio to raw: last slice [0-9.]+x vs first [0-9.]+x \(not falling with N, target last >= 0.9x first: (met|MISSED)\)'
	assert_match "$output" 'daemon fds: [0-9]+ at 4 running, [0-9]+ before, [0-9.]+ per container'
	# One fd per container (the sync pipes) passes only with the limit read.
	assert_match "$output" "its RLIMIT_NOFILE [0-9]+ \(target not one per container, or one by design with the limit raised for N: met\)"
	assert_match "$output" "State of 4: [0-9.]+ ms \(one call to the reply's last byte, median of 5; with containerd-bench decoding it [0-9.]+(ns|us|ms|s)\)"
	assert_match "$output" 'host: PID 1 \(.*\) used [0-9.]+ s of CPU during the raw starts \([0-9]+% of a core\) and [0-9.]+ s during the daemon'
	assert_match "$output" 'ctr containers of 4: [0-9.]+ ms \(median of 5'
	assert_match "$output" 'daemon memory per container: [0-9]+ B \(VmRSS [0-9]+ kB before the creates\)'
	assert_match "$output" 'CPU per container: daemon [0-9.]+ ms .* shims [0-9.]+ ms .* runc [0-9.]+ ms'
	assert_match "$output" "CPU share of runc's: daemon [0-9.]+%, shims [0-9.]+%, together [0-9.]+% \(target < 5% each"
	assert_match "$output" 'errors: raw 0 not started, daemon 0 create errors.*\(target no error: met\)'
	assert_match "$output" 'load after: [0-9.]+ [0-9.]+ [0-9.]+ \(at N running: raw [0-9.]+'
	echo "# $(grep -E "^CPU share" <<<"$output")" >&3
	echo "# $(grep -E "^ctr containers of" <<<"$output")" >&3

	# Its load loops, its temp dir (bundle, runc roots, state) and the host
	# settings are gone.
	assert_eq "$(cat /proc/sys/kernel/pid_max)" "$pid_max" "pid_max"
	for p in $(sed -n 's/^started 1 CPU-bound loops (pids \(.*\))$/\1/p' <<<"$output"); do
		! kill -0 "$p" 2>/dev/null || fail "load loop $p is left"
	done
	tmp=$(sed -n 's,^# containerd-bench: .* bundle \(/tmp/ctrd-bench\.[^/]*\)/bundle$,\1,p' <<<"$output")
	[ -n "$tmp" ] || fail "no temp dir named"
	[ ! -e "$tmp" ] || fail "$tmp is left"
	! pgrep -f -- "containerd-shim.* --dir $tmp/" >/dev/null || fail "shims left"
}

# make bench-peers at its smallest: raw runc and this daemon only (no
# package installed, no containerd 1.6 or podman run), N=2, one round.
@test "bench-peers: raw + daemon + ctr at N=2 print one table row each, nothing left" {
	PEERS=$REPO/tools/bench-peers.sh
	start=$(now_ms)
	run -0 timeout -k 5 110 env BENCH_PEERS_N=2 BENCH_PEERS_ROUNDS=1 \
		BENCH_PEERS_ONLY=raw,daemon,ctr BENCH_PEERS_INSTALL=0 \
		CONTAINERD="$CONTAINERD" SHIM="$SHIM" CTR="$CTR_BIN" BENCH="$BENCH_BIN" RUNC="$RUNC" \
		bash "$PEERS"
	echo "$output"
	took=$(($(now_ms) - start))

	# Neither peer was installed or run.
	assert_not_contains "$output" "# installing"
	! grep -qE '^(containerd|podman): ' <<<"$output" || fail "a peer was looked at"
	! grep -qE '^\| 2 \| (containerd|podman) ' <<<"$output" || fail "a peer was run"

	# One table: the header, its rule, one row per runtime (11 cells).
	n=$(grep -c '^| N | runtime | round |' <<<"$output")
	assert_eq "$n" 1 "table headers"
	assert_match "$output" '^\|---\|---\|'
	rows=$(grep -E '^\| 2 \| ' <<<"$output")
	assert_eq "$(wc -l <<<"$rows")" 3 "rows"
	while IFS= read -r row; do
		assert_eq "$(awk -F'|' '{ print NF - 2 }' <<<"$row")" 11 "cells in: $row"
	done <<<"$rows"

	raw=$(grep -F '| raw runc' <<<"$rows")
	bench=$(grep -F 'containerd-bench' <<<"$rows")
	ctr=$(grep -F 'bin/ctr' <<<"$rows")
	for row in "$raw" "$bench" "$ctr"; do
		[ -n "$row" ] || fail "a row is missing"
		# started 2/2, a rate > 0, a ratio, a list time and a teardown time.
		assert_match "$row" '^\| 2 \| [^|]+ \| 1 \| 2/2 \| \*\*[0-9.]+\*\* \| [0-9.]+x \|'
		rate=$(awk -F'|' '{ gsub(/[* ]/, "", $6); print $6 }' <<<"$row")
		awk -v r="$rate" 'BEGIN { exit !(r > 0) }' || fail "rate '$rate' in: $row"
		assert_match "$row" '\| [0-9]+ ms \| [0-9.]+ m?s \|$'
	done
	assert_match "$raw" '\| 1\.00x \| no daemon \|'
	# This daemon: one thread, a shim per container, a total PSS.
	for row in "$bench" "$ctr"; do
		assert_match "$row" '[0-9.]+ (kB|MiB), 1 thr \|'
		assert_match "$row" ' kB / [0-9]+ kB, 1 thr \(2 shims\) \| [0-9.]+ MiB \|'
	done
	assert_not_contains "$output" "LEFT"
	assert_not_contains "$output" "failed"

	# Everything it made is gone: the temp dir, its processes, its cgroups.
	tmp=$(sed -n 's/^temp dir: \([^;]*\);.*/\1/p' <<<"$output")
	tag=$(sed -n 's/^temp dir: .*cgroups: \(.*\)-\*$/\1/p' <<<"$output")
	[ -n "$tmp" ] && [ -n "$tag" ] || fail "no temp dir line"
	[ ! -e "$tmp" ] || fail "$tmp left behind"
	[ -z "$(pgrep -f -- "$tmp" || true)" ] || fail "processes of $tmp left"
	! ls -d /sys/fs/cgroup/*/"$tag"* /sys/fs/cgroup/"$tag"* 2>/dev/null || fail "cgroups of $tag left"

	figure "bench-peers N=2: raw $(awk -F'|' '{ print $6 }' <<<"$raw" | tr -d ' *')/s," \
		"daemon $(awk -F'|' '{ print $6 }' <<<"$bench" | tr -d ' *')/s ($(awk -F'|' '{ print $7 }' <<<"$bench" | tr -d ' '))," \
		"ctr $(awk -F'|' '{ print $6 }' <<<"$ctr" | tr -d ' *')/s; whole run ${took} ms"
}
