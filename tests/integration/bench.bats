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
		--bundle "$BUNDLE" --id-prefix "$prefix"
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
