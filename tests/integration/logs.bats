#!/usr/bin/env bats
# Process logs: a process started without stdout/stderr paths has its output
# written by its shim to <state>/_logs/ID/PID.log (k8s-file records), read
# back through containerd.records.v1.Records/Logs by `ctr containers logs`.

load helpers

setup_file() {
	setup_base_bundle
}

setup() {
	requires_e2e
	setup_common
}

teardown() {
	if [ -n "${LOGS_MNT:-}" ]; then
		umount -l "$LOGS_MNT" 2>/dev/null || true
	fi
	teardown_common
}

# k8s-file: TIME STREAM F|P DATA, TIME fixed-width RFC 3339 UTC with ns.
K8S_LINE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z (stdout|stderr) [FP] '

# run_detached ID SCRIPT: a container running `sh -c SCRIPT`, started
# without --attach; waits for its exit event (status in $2, default 0).
run_detached() {
	make_bundle "$1" sh -c "$2"
	run -0 --separate-stderr ctr containers start "$1" "$BUNDLE"
	START_ERR=$stderr
	wait_exit "$1" "${3:-0}"
}

@test "logs: a detached container's output is logged as k8s-file records, stdout and stderr apart, a partial line at exit marked P" {
	start_daemon
	run_detached web 'echo out1; echo err1 >&2; echo out2; printf tail-no-newline'
	assert_contains "$START_ERR" "web: started; its output is logged: ctr containers logs web"
	local f=$STATE/_logs/web/init.log
	[ -f "$f" ] || fail "no log file $f"
	echo "# $(wc -l <"$f") records on disk:" >&3
	sed 's/^/#   /' "$f" >&3
	[ "$(stat -c %a "$f")" = 600 ] || fail "log mode $(stat -c %a "$f")"
	[ "$(stat -c %a "$STATE/_logs/web")" = 700 ] || fail "dir mode"
	[ "$(grep -Ec "$K8S_LINE" "$f")" = 4 ] || fail "not 4 k8s-file lines"
	grep -Eq "$K8S_LINE" "$f"
	grep -q ' stdout F out1$' "$f"
	grep -q ' stderr F err1$' "$f"
	grep -q ' stdout F out2$' "$f"
	grep -q ' stdout P tail-no-newline$' "$f"
	# stdout to stdout, stderr to stderr; the partial record printed whole.
	run -0 --separate-stderr ctr containers logs web
	[ "$output" = $'out1\nout2\ntail-no-newline' ] || fail "stdout: $output"
	[ "$stderr" = err1 ] || fail "stderr: $stderr"
	# The state dir's _logs is the daemon's own: no "not the daemon's" at start.
	stop_daemon
	start_daemon
	! grep -q "_logs: not the daemon's" "$T/daemon.log"
}

@test "logs: a line longer than the shim's 8 KiB buffer is split into P records and printed whole; bytes that are not UTF-8 pass unchanged" {
	start_daemon
	run_detached long 'head -c 40000 /dev/zero | tr "\0" x; echo; printf "\377\376caf\351\n"'
	local f=$STATE/_logs/long/init.log
	echo "# tags: $(cut -d' ' -f3 "$f" | tr '\n' ' ')" >&3
	[ "$(cut -d' ' -f3 "$f" | tr -d '\n')" = PPPPFF ] || fail "tags $(cut -d' ' -f3 "$f")"
	ctr containers logs long >"$T/out"
	[ "$(head -n1 "$T/out" | tr -d '\n' | wc -c)" = 40000 ] || fail "the long line is not whole"
	printf '\377\376caf\351\n' >"$T/want"
	tail -n1 "$T/out" | cmp - "$T/want"
	echo "# 40000-byte line: $(grep -c '' "$f") records, printed as one; non-UTF-8 bytes equal" >&3
}

@test "logs: rotation at --log-max-size keeps .log.1 and .log, read in order" {
	start_daemon --log-max-size 4k
	run_detached rot 'k=1; while [ $k -le 400 ]; do echo "line $k"; k=$((k+1)); done'
	local d=$STATE/_logs/rot
	[ -f "$d/init.log.1" ] || fail "no init.log.1"
	local s0 s1
	s0=$(stat -c %s "$d/init.log")
	s1=$(stat -c %s "$d/init.log.1")
	echo "# init.log $s0 bytes, init.log.1 $s1 bytes (cap 4096)" >&3
	[ "$s0" -le 4096 ] && [ "$s1" -le 4096 ] || fail "over the cap"
	run -0 ctr containers logs rot
	local n first
	n=$(grep -c '' <<<"$output")
	first=$(head -n1 <<<"$output" | cut -d' ' -f2)
	echo "# read back $n lines: line $first .. line 400" >&3
	[ "$(tail -n1 <<<"$output")" = "line 400" ] || fail "last: $(tail -n1 <<<"$output")"
	# Every line from the first kept one to 400, in order, none twice.
	[ "$output" = "$(seq "$first" 400 | sed 's/^/line /')" ] || fail "not in order"
	[ "$n" -eq "$(cat "$d/init.log.1" "$d/init.log" | wc -l)" ]
}

@test "logs: --tail, --since, --until and --timestamps" {
	start_daemon
	run_detached tl 'echo a; echo b; sleep 1; echo c; echo d'
	run -0 ctr containers logs --tail 2 tl
	[ "$output" = $'c\nd' ] || fail "tail 2: $output"
	run -0 ctr containers logs --tail 100 tl
	[ "$output" = $'a\nb\nc\nd' ] || fail "tail 100: $output"
	# --since the time of record c (from the file), --until the time of b.
	local f=$STATE/_logs/tl/init.log tc tb
	tc=$(awk '$4 == "c" { print $1 }' "$f")
	tb=$(awk '$4 == "b" { print $1 }' "$f")
	run -0 ctr containers logs --since "$tc" tl
	[ "$output" = $'c\nd' ] || fail "since $tc: $output"
	run -0 ctr containers logs --until "$tb" tl
	[ "$output" = $'a\nb' ] || fail "until $tb: $output"
	run -0 ctr containers logs --since 1h tl
	[ "$output" = $'a\nb\nc\nd' ] || fail "since 1h: $output"
	run -0 ctr containers logs --since 2026-01-01T00:00:00Z --tail 1 -t tl
	[ "$output" = "$(awk '$4 == "d" { print $1 " d" }' "$f")" ] || fail "-t: $output"
	echo "# since $tc: c d; until $tb: a b; -t: $output" >&3
	run -2 ctr containers logs --since yesterday tl
	assert_contains "$output" 'invalid --since "yesterday"'
}

@test "logs: -f prints new output as it comes and returns when the process exits" {
	start_daemon
	make_bundle fol sh -c 'echo first; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo second; printf third'
	run -0 ctr containers start fol "$BUNDLE"
	ctr containers logs -f fol >"$T/follow" 2>&1 &
	local fpid=$!
	BG_PIDS+=("$fpid")
	wait_for file_has "$T/follow" first
	pid_alive "$fpid" || fail "-f returned while the process runs"
	local t0
	t0=$(date +%s%N)
	touch "$BUNDLE/rootfs/tmp/go"
	wait_for pid_gone "$fpid"
	wait "$fpid"
	echo "# -f returned $(( ($(date +%s%N) - t0) / 1000000 )) ms after the go" >&3
	[ "$(cat "$T/follow")" = $'first\nsecond\nthird' ] || fail "followed: $(cat "$T/follow")"
	# The exit is recorded, and the logs of the stopped container are still there.
	wait_exit fol 0
	run -0 ctr containers logs fol
	[ "$output" = $'first\nsecond\nthird' ] || fail "after exit: $output"
	run -0 ctr containers logs -f fol
	[ "$output" = $'first\nsecond\nthird' ] || fail "-f after exit: $output"
}

@test "logs: an exec's output is logged under its name and read with --pid" {
	start_daemon
	start_container ex "${SLEEP_ARGS[@]}"
	run -0 --separate-stderr ctr containers exec --id ex --pid e1 -- sh -c 'echo from-exec; echo exec-err >&2'
	assert_contains "$stderr" "ex e1: started; its output is logged: ctr containers logs --pid e1 ex"
	wait_for has_event exit ex e1 0
	[ -f "$STATE/_logs/ex/e1.log" ]
	run -0 --separate-stderr ctr containers logs --pid e1 ex
	[ "$output" = from-exec ] && [ "$stderr" = exec-err ] || fail "exec logs: $output / $stderr"
	# The init logged nothing yet: empty, not an error.
	run -0 ctr containers logs ex
	[ -z "$output" ]
	run -1 ctr containers logs --pid nope ex
	assert_contains "$output" "has no process nope"
	echo "# exec e1: $(wc -l <"$STATE/_logs/ex/e1.log") records" >&3
}

@test "logs: a process with its own stdio has no log (clear error), and Docker's fifos path makes none; an unknown id is NOT_FOUND" {
	start_daemon
	make_bundle io sh -c 'echo to-file'
	run -0 grpc_call CreateContainer "{\"id\": \"io\", \"bundlePath\": \"$BUNDLE\",
		\"stdout\": \"$T/io.out\", \"stderr\": \"$T/io.err\"}"
	wait_exit io 0
	[ "$(cat "$T/io.out")" = to-file ]
	[ ! -e "$STATE/_logs/io" ] || fail "a log dir was made for a process with its own stdio"
	run -1 ctr containers logs io
	echo "# $output" >&3
	assert_contains "$output" "has no log: it was started with its own stdio"
	run -1 ctr containers logs nosuch
	echo "# $output" >&3
	assert_contains "$output" "no such container: nosuch"
	run -2 ctr containers logs
}

@test "logs: a full disk under _logs drops output, never stalls or kills the container" {
	requires root
	start_daemon
	LOGS_MNT=$STATE/_logs
	mkdir -p "$LOGS_MNT"
	mount -t tmpfs -o size=64k,mode=0700 tmpfs "$LOGS_MNT" || skip "cannot mount a tmpfs"
	local t0
	t0=$(date +%s%N)
	run_detached full 'k=0; while [ $k -lt 3000 ]; do echo "a line of output number $k"; k=$((k+1)); done; echo done >&2'
	local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "# 3000 lines into a 64 KiB tmpfs: exit 0 after $ms ms; $(stat -c %s "$LOGS_MNT/full/init.log") bytes kept" >&3
	grep -h "dropping output\|were dropped" "$CDIR"/full/init/shim.log 2>/dev/null | sed 's/^/# /' >&3 || true
	run -0 ctr containers logs full
	assert_contains "$output" "a line of output number 0"
}

@test "logs: a create or exec that fails and is undone leaves no log behind" {
	start_daemon
	make_bundle bad /nonexistent-binary
	run -1 ctr containers start bad "$BUNDLE"
	echo "# create: $output" >&3
	[ ! -e "$STATE/_logs/bad" ] || fail "left: $(ls -la "$STATE/_logs/bad")"
	start_container ok "${SLEEP_ARGS[@]}"
	run -1 ctr containers exec --id ok --pid bx /nonexistent-binary
	echo "# exec: $output" >&3
	[ ! -e "$STATE/_logs/ok/bx.log" ] || fail "exec log left"
	[ -d "$STATE/_logs/ok" ] || fail "the init's log dir went too"
}

@test "logs: a detached container with a terminal has its tty's output logged as stdout" {
	start_daemon
	make_bundle tty1 --tty sh -c 'echo tty-hello; printf tty-end'
	run -0 ctr containers start tty1 "$BUNDLE"
	wait_exit tty1 0
	local f=$STATE/_logs/tty1/init.log
	sed 's/^/# /' "$f" >&3
	grep -q $' stdout F tty-hello\r$' "$f"
	grep -q ' stdout P tty-end$' "$f"
	run -0 ctr containers logs tty1
	[ "$output" = $'tty-hello\r\ntty-end' ] || fail "tty logs: $(od -c <<<"$output")"
}

@test "logs: a _logs/ID put there as a symlink to elsewhere: the create is refused, nothing is written through it" {
	start_daemon
	mkdir -p "$STATE/_logs" "$T/elsewhere"
	ln -s "$T/elsewhere" "$STATE/_logs/planted"
	make_bundle planted sh -c 'echo through'
	run -1 ctr containers start planted "$BUNDLE"
	echo "$output"
	assert_contains "$output" "_logs/planted is not a directory"
	[ -L "$STATE/_logs/planted" ] || fail "the symlink was removed"
	[ -z "$(ls -A "$T/elsewhere")" ] || fail "written through the symlink: $(ls -A "$T/elsewhere")"
	wait_for container_not_listed planted
	[ -z "$(runc_list)" ] || fail "left in runc: $(runc_list)"
	# Removed, the id works again.
	rm "$STATE/_logs/planted"
	run -0 ctr containers start planted "$BUNDLE"
	wait_exit planted 0
	assert_eq "$(ctr containers logs planted)" through "the log"
}
