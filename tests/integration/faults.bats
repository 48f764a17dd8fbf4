#!/usr/bin/env bats
# Faults: the runtime failing at each verb, the disk holding the state dir
# full, the database damaged or from a newer version. Each time: a clear
# error, nothing half-made left behind, and the daemon neither crashes nor
# exits (or, for a database it cannot trust, refuses to start, clearly).

load helpers

STATE_BIN=$REPO/bin/containerd-state

setup_file() {
	setup_base_bundle
}

setup() {
	requires_e2e
	setup_common
	MNT=
}

teardown() {
	teardown_common_tmpfs
}

# teardown_common_tmpfs: teardown_common, with the tmpfs under $T unmounted
# before $T goes (once the daemon and shims no longer hold it).
teardown_common_tmpfs() {
	if [ -n "${MNT:-}" ] && mountpoint -q "$MNT"; then
		stop_daemon -9 || true
		local id
		for id in $(runc_list); do
			"$RUNC" --root "$RUNC_ROOT" delete -f "$id" >/dev/null 2>&1 || true
		done
		local p
		for p in $(pgrep -f "containerd-shim.*$T" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
		cp "$T/daemon.log" "$T/daemon.log.keep" 2>/dev/null || true
		umount -l "$MNT" 2>/dev/null || true
	fi
	teardown_common
}

# make_failing_runc: $T/fail-runc, runc except that the verb named in
# $T/fail-verb (if any) fails the way runc fails: an error on stderr (and in
# the --log file, as JSON, as runc writes it) and exit status 1.
make_failing_runc() {
	FAIL_RUNC=$T/fail-runc
	cat >"$FAIL_RUNC" <<EOF
#!/bin/bash
runc=$(command -v "$RUNC")
failfile=$T/fail-verb
EOF
	cat >>"$FAIL_RUNC" <<'EOF'
args=("$@")
verb= log=
for ((x = 0; x < ${#args[@]}; x++)); do
	case ${args[x]} in
	--log) log=${args[x + 1]}; x=$((x + 1)) ;;
	--log-format | --root | --criu) x=$((x + 1)) ;;
	-*) ;;
	*) verb=${args[x]}; break ;;
	esac
done
if [ -n "$verb" ] && [ -e "$failfile" ] && [ "$(cat "$failfile")" = "$verb" ]; then
	msg="fake-runc: $verb refused for the test"
	[ -n "$log" ] && printf '{"level":"error","msg":"%s","time":"%s"}\n' "$msg" \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$log"
	echo "time=\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\" level=error msg=\"$msg\"" >&2
	exit 1
fi
exec "$runc" "$@"
EOF
	chmod +x "$FAIL_RUNC"
}

fail_verb() {
	if [ -n "$1" ]; then echo "$1" >"$T/fail-verb"; else rm -f "$T/fail-verb"; fi
}

# nothing_of ID: no row of ID that is not stopped, no runc container, no
# state directory.
nothing_of() {
	assert_eq "$(db "SELECT count(*) FROM containers WHERE id = '$1' AND status != 'stopped'")" 0 "live rows of $1"
	assert_eq "$(db "SELECT count(*) FROM processes WHERE container_id = '$1' AND status != 'exited'")" 0 "process rows of $1"
	runc_list | grep -qxF -- "$1" && fail "$1 is left in runc: $(runc_list)"
	[ ! -e "$CDIR/$1" ] || fail "$CDIR/$1 is left: $(find "$CDIR/$1")"
}

# ---------------------------------------------------------------- the runtime fails

@test "runtime fails create: the runtime's message in the error, nothing left" {
	make_failing_runc
	start_daemon --runtime "$FAIL_RUNC"
	fail_verb create
	make_bundle fc "${SLEEP_ARGS[@]}"
	run grpc_call CreateContainer "{\"id\": \"fc\", \"bundlePath\": \"$BUNDLE\"}"
	echo "$output"
	[ "$status" -ne 0 ]
	assert_contains "$output" "fake-runc: create refused for the test"
	wait_for eval '[ -z "$(pgrep -f "containerd-shim --id .*$T" || true)" ]'
	nothing_of fc
	assert_eq "$(db "SELECT count(*) FROM containers WHERE id = 'fc'")" 0 "rows of fc"
	assert_eq "$(event_count start-container fc)" 0 "start-container events"
	fail_verb ""
	run -0 ctr containers start fc "$BUNDLE"
	assert_eq "$(ctr_status fc)" running "fc once the runtime works"
}

@test "runtime fails start: the runtime's message in the error, nothing left" {
	make_failing_runc
	start_daemon --runtime "$FAIL_RUNC"
	fail_verb start
	make_bundle fs "${SLEEP_ARGS[@]}"
	run grpc_call CreateContainer "{\"id\": \"fs\", \"bundlePath\": \"$BUNDLE\"}"
	echo "$output"
	[ "$status" -ne 0 ]
	assert_contains "$output" "fake-runc: start refused for the test"
	wait_for eval '[ -z "$(pgrep -f "containerd-shim --id .*$T" || true)" ]'
	wait_for eval '! runc_list | grep -qx fs'
	nothing_of fs
	assert_eq "$(db "SELECT count(*) FROM containers WHERE id = 'fs'")" 0 "rows of fs"
	assert_eq "$(db "SELECT count(*) FROM events WHERE container_id = 'fs'")" 0 "events of fs"
}

@test "runtime fails exec: the runtime's message in the error, no process left" {
	make_failing_runc
	start_daemon --runtime "$FAIL_RUNC"
	start_container fe "${SLEEP_ARGS[@]}"
	fail_verb exec
	run ctr containers exec --id fe --pid e1 sleep 100
	echo "$output"
	[ "$status" -ne 0 ]
	assert_contains "$output" "fake-runc: exec refused for the test"
	process_not_listed fe e1
	assert_eq "$(db "SELECT count(*) FROM processes WHERE container_id = 'fe' AND pid = 'e1' AND status != 'exited'")" 0 "e1's rows"
	assert_eq "$(event_count start-process fe e1)" 0 "start-process events"
	[ ! -e "$CDIR/fe/e1" ] || fail "$CDIR/fe/e1 is left"
	assert_eq "$(ctr_status fe)" running "fe"
}

@test "runtime fails pause, resume, update: each error carries its message; no event, state unchanged (kill needs no runtime)" {
	make_failing_runc
	start_daemon --runtime "$FAIL_RUNC"
	start_container fv "${SLEEP_ARGS[@]}"
	before=$(db "SELECT count(*) FROM events WHERE container_id = 'fv'")

	fail_verb pause
	run ctr containers pause fv
	echo "$output"
	[ "$status" -ne 0 ]
	assert_contains "$output" "fake-runc: pause refused for the test"
	assert_eq "$(ctr_status fv)" running "after a failed pause"

	fail_verb ""
	run -0 ctr containers pause fv
	fail_verb resume
	run ctr containers resume fv
	echo "$output"
	[ "$status" -ne 0 ]
	assert_contains "$output" "fake-runc: resume refused for the test"
	assert_eq "$(ctr_status fv)" paused "after a failed resume"
	fail_verb ""
	run -0 ctr containers resume fv
	# pause and resume, each once: the failed ones recorded nothing.
	assert_eq "$(db "SELECT count(*) FROM events WHERE container_id = 'fv'")" $((before + 2)) "events of fv"

	fail_verb update
	run ctr containers update fv --pids-limit 50
	echo "$output"
	[ "$status" -ne 0 ]
	assert_contains "$output" "fake-runc: update refused for the test"

	# Signal does not go through the runtime (kill(2) on the init's pid):
	# a failing `runc kill` changes nothing.
	fail_verb kill
	assert_eq "$(event_count exit fv)" 0 "exit events before the kill"
	assert_eq "$(db "SELECT count(*) FROM events WHERE container_id = 'fv'")" $((before + 2)) "events of fv"
	assert_eq "$(db "SELECT status FROM containers WHERE id = 'fv'")" running "fv's row"
	run -0 ctr containers kill --signal 9 fv
	wait_exit fv 137
}

@test "runtime fails delete after an exit: the exit is recorded; the next start finishes the delete" {
	make_failing_runc
	start_daemon --runtime "$FAIL_RUNC"
	start_container fd "${SLEEP_ARGS[@]}"
	fail_verb delete
	run -0 ctr containers kill --signal 9 fd
	wait_exit fd 137
	wait_for container_not_listed fd
	wait_for file_has "$T/daemon.log" "fake-runc: delete refused for the test"

	fail_verb ""
	stop_daemon -TERM
	start_daemon --runtime "$FAIL_RUNC"
	wait_for eval '! runc_list | grep -qx fd'
	wait_for eval '[ ! -e "$CDIR/fd" ]'
	nothing_of fd
	run -0 "$STATE_BIN" --db "$DB" check
}

# ---------------------------------------------------------------- the disk is full

@test "disk full: creates fail with RESOURCE_EXHAUSTED or a clear message; the database stays sound; the daemon recovers" {
	requires_tool mountpoint util-linux
	MNT=$T/state
	mkdir -p "$MNT"
	mount -t tmpfs -o size=4m,mode=0711 tmpfs "$MNT" || skip "cannot mount a tmpfs here"
	start_daemon
	start_container before "${SLEEP_ARGS[@]}"

	# Fill it to the last byte.
	dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null || true
	dd if=/dev/zero of="$MNT/filler2" bs=1k 2>/dev/null || true
	make_bundle full "${SLEEP_ARGS[@]}"
	for k in 1 2 3; do
		run grpc_call CreateContainer "{\"id\": \"full$k\", \"bundlePath\": \"$BUNDLE\"}"
		echo "$output"
		if [ "$status" -eq 0 ]; then
			# Made it after all (the WAL had room): then it is really there.
			assert_eq "$(ctr_status "full$k")" running "full$k"
			continue
		fi
		assert_match "$output" 'RESOURCE_EXHAUSTED.*(is full|no space)'
	done
	pid_alive "$DAEMON_PID" || fail "the daemon died"
	# A kill while full: the container dies; the exit may not be recordable
	# yet, but the daemon stays up and serves.
	run -0 ctr containers
	pid_alive "$DAEMON_PID" || fail "the daemon died"

	# Nothing half-made: every full$k is running and listed, or gone.
	sleep 1
	for k in 1 2 3; do
		if [ "$(ctr_status "full$k")" = running ]; then
			assert_eq "$(db "SELECT status FROM containers WHERE id = 'full$k'")" running "full$k's row"
		else
			nothing_of "full$k"
		fi
	done
	assert_eq "$(db 'PRAGMA integrity_check')" ok "integrity_check while full"

	rm -f "$MNT/filler" "$MNT/filler2"
	run -0 ctr containers start after "$BUNDLE"
	assert_eq "$(ctr_status after)" running "a create once there is room"
	assert_eq "$(ctr_status before)" running "the container from before"
	run -0 ctr containers kill --signal 9 before
	wait_exit before 137
	run "$STATE_BIN" --db "$DB" check
	echo "$output"
	[ "$status" -eq 0 ]
	assert_eq "$(db 'PRAGMA integrity_check')" ok "integrity_check"
	pid_alive "$DAEMON_PID" || fail "the daemon died"
}

# ---------------------------------------------------------------- the database is damaged

# damaged_start: the daemon on $STATE refuses to start: non-zero, not a
# crash (no signal), with a message naming the database.
damaged_start() {
	daemon_cmd
	run timeout 20 "${DAEMON_ARGV[@]}" 3>&-
	echo "$output"
	[ "$status" -ne 0 ] && [ "$status" -lt 124 ] || fail "daemon exit status $status (want an error exit, not a crash or hang)"
	assert_contains "$output" "$DB"
}

# prepared_db: a database with a few containers and events, daemon stopped.
prepared_db() {
	start_daemon
	start_container d1 "${SLEEP_ARGS[@]}"
	run -0 ctr containers kill --signal 9 d1
	wait_exit d1 137
	start_container d2 "${SLEEP_ARGS[@]}"
	stop_daemon -TERM
	# Checkpoint the WAL into the file, so damage to the file is damage.
	sqlite3 "$DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
}

@test "damaged database: garbage over the header: a clear message, non-zero exit" {
	prepared_db
	printf 'this is not a database at all, garbage garbage garbage garbage garbage!!' |
		dd of="$DB" bs=1 seek=0 conv=notrunc 2>/dev/null
	damaged_start
	assert_match "$output" 'not a (readable )?SQLite database|damaged|malformed|corrupt'
}

@test "damaged database: truncated: a clear message, non-zero exit" {
	prepared_db
	size=$(stat -c %s "$DB")
	truncate -s $((size / 2 + 100)) "$DB"
	damaged_start
	assert_match "$output" 'damaged|malformed|corrupt|not a'
}

@test "damaged database: a random page overwritten: a clear message, non-zero exit" {
	prepared_db
	pages=$(($(stat -c %s "$DB") / 4096))
	[ "$pages" -ge 2 ] || skip "a database of $pages page"
	# Every page after the first: whichever the tables live in.
	for ((k = 1; k < pages; k++)); do
		head -c 4096 /dev/urandom | dd of="$DB" bs=4096 seek="$k" conv=notrunc 2>/dev/null
	done
	damaged_start
	assert_match "$output" 'damaged|malformed|corrupt|not a'
}

@test "database from a newer version (user_version bumped): refused with a clear message" {
	prepared_db
	sqlite3 "$DB" 'PRAGMA user_version = 999'
	damaged_start
	assert_contains "$output" "schema version 999, newer than this binary"
	assert_eq "$(sqlite3 "$DB" 'PRAGMA user_version')" 999 "the file is left as it was"
}
