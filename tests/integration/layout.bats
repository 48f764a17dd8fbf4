#!/usr/bin/env bats
# The state dir's layout (daemon/layout.c): what the daemon may create and
# remove there, its lock, and what it reads from a client's bundle.
#   - container dirs live in $STATE/_containers/<id>/, where no id can name
#     the database or the socket; a create never removes what it did not make
#   - the start-up sweep removes only directories with the daemon's marker
#   - one daemon per state dir (a lock held for its lifetime)
#   - config.json that is a FIFO or huge is refused at once
#   - a create cut short inside `runc create` leaves no cgroup after a restart

load helpers

setup_file() {
	setup_base_bundle
}

setup() {
	requires_e2e
	setup_common
}

teardown() {
	# The hung filesystem's test: detach it before anything walks $T.
	if [ -n "${FUSE_PID:-}" ]; then
		kill "$FUSE_PID" 2>/dev/null || true
		wait "$FUSE_PID" 2>/dev/null || true
		umount -l "$T/hung" 2>/dev/null || true
	fi
	# A create held in its hook, in a test that failed: its runtime
	# processes (runc with this test's --root) are this test's.
	local p
	for p in $(pgrep -f -- "^[^ ]*runc --root=$T/" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null || true
	done
	teardown_common
}

# hold_create BUNDLE FLAG: a prestart hook, which `runc create` runs after it
# made the container's cgroups and before it saved its state: it touches
# FLAG and waits for FLAG.go. A create held mid-way, with real runc.
hold_create() {
	jq --arg f "$2" '.hooks = {prestart: [{path: "/bin/sh",
		args: ["sh", "-c", "touch \"$0\"; while [ ! -e \"$0.go\" ]; do sleep 0.05; done", $f]}]}' \
		"$1/config.json" >"$1/config.json.tmp"
	mv "$1/config.json.tmp" "$1/config.json"
}

# cgroup_dirs ID: every cgroup directory named ID, in every hierarchy.
cgroup_dirs() {
	find /sys/fs/cgroup -mindepth 1 -maxdepth 6 -type d -name "$1" 2>/dev/null | sort
}

# vm_kb PID FIELD: VmHWM, VmRSS... of PID in kB.
vm_kb() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

@test "ids naming the daemon's files (state.db, -wal, -shm, containerd.sock) run without touching them; a dir already there is refused and left; all survive a restart" {
	start_daemon
	start_container keep "${SLEEP_ARGS[@]}"
	db_ino=$(stat -c %i "$DB")
	sock_ino=$(stat -c %i "$SOCK")
	ids=(state.db state.db-wal state.db-shm containerd.sock)
	for id in "${ids[@]}"; do
		make_bundle "$id" "${SLEEP_ARGS[@]}"
		run ctr containers start "$id" "$BUNDLE"
		echo "# id $id: status $status ${output:0:200}" >&3
		[ -f "$DB" ] && [ "$(stat -c %i "$DB")" = "$db_ino" ] || fail "state.db replaced or gone after create $id"
		[ -S "$SOCK" ] && [ "$(stat -c %i "$SOCK")" = "$sock_ino" ] || fail "the socket replaced or gone after create $id"
		[ "$status" -eq 0 ] || fail "create $id: $output"
	done
	# A directory or a file of someone else's in the containers area, under
	# the id: a clear error, and left exactly as it was.
	mkdir -p "$CDIR/planted/sub"
	echo mine >"$CDIR/planted/sub/file"
	echo mine >"$CDIR/pfile"
	for id in planted pfile; do
		make_bundle "$id" "${SLEEP_ARGS[@]}"
		run grpc_call CreateContainer "{\"id\": \"$id\", \"bundlePath\": \"$BUNDLE\"}"
		echo "# id $id (planted): $output" >&3
		[ "$status" -ne 0 ] || fail "create $id over a planted entry succeeded"
		assert_contains "$output" "FAILED_PRECONDITION"
		assert_contains "$output" "did not make it"
	done
	assert_eq "$(cat "$CDIR/planted/sub/file")" mine "the planted dir's file"
	assert_eq "$(cat "$CDIR/pfile")" mine "the planted file"
	# And an id that would name the area itself is not an id.
	run grpc_call CreateContainer "{\"id\": \"_containers\", \"bundlePath\": \"$BUNDLE\"}"
	assert_contains "$output" INVALID_ARGUMENT
	assert_eq "$(db 'PRAGMA integrity_check')" ok "integrity_check"

	stop_daemon -KILL
	start_daemon
	n=0
	for id in keep "${ids[@]}"; do
		assert_eq "$(ctr_status "$id")" running "$id after the restart"
		assert_eq "$(runc_status "$id")" running "$id in runc after the restart"
		n=$((n + 1))
	done
	[ "$(stat -c %i "$DB")" = "$db_ino" ] || fail "state.db replaced"
	echo "# figure: $n of $((${#ids[@]} + 1)) containers running after the restart; state.db inode $db_ino kept; planted entries intact" >&3
	assert_eq "$(cat "$CDIR/planted/sub/file")" mine "the planted dir's file after the restart"
	assert_eq "$(cat "$CDIR/pfile")" mine "the planted file after the restart"
}

@test "the start-up sweep removes only what the daemon made: a runc --root, a user's dir and an unmarked dir in the area are left and logged; a killed create's leftover goes" {
	# The runtime's --root inside the state dir, with a container in it.
	RUNC_ROOT=$STATE/runc
	start_daemon
	start_container inroot "${SLEEP_ARGS[@]}"
	[ -f "$RUNC_ROOT/inroot/state.json" ] || fail "runc keeps no state in $RUNC_ROOT"
	mkdir -p "$STATE/mydata/sub" "$CDIR/nomark"
	echo precious >"$STATE/mydata/sub/file"
	echo mine >"$CDIR/nomark/file"
	# A real leftover: a create held inside `runc create`, the daemon killed,
	# and its rows gone (as when they never reached the disk).
	lo=$(unique_id leftover)
	make_bundle "$lo" "${SLEEP_ARGS[@]}"
	hold_create "$BUNDLE" "$T/hook-leftover"
	ctr containers start "$lo" "$BUNDLE" >/dev/null 2>&1 &
	BG_PIDS+=($!)
	wait_for test -e "$T/hook-leftover"
	shim=$(pgrep -f "containerd-shim --id $lo --bundle $BUNDLE " | head -n 1)
	[ -n "$shim" ] || fail "no shim for $lo"
	stop_daemon -KILL
	db "DELETE FROM labels WHERE container_id = '$lo';
		DELETE FROM processes WHERE container_id = '$lo';
		DELETE FROM containers WHERE id = '$lo'"
	marked=no
	[ ! -e "$CDIR/$lo/.containerd" ] || marked=yes
	# What a create or a removal cut short between two steps leaves: a
	# temporary dir, marked (removal) or empty (create); and one that is
	# neither, which is not the daemon's.
	mkdir -p "$CDIR/.tmp-cut.1.0/init" "$CDIR/.tmp-new.1.1" "$CDIR/.tmp-odd"
	touch "$CDIR/.tmp-cut.1.0/.containerd" "$CDIR/.tmp-cut.1.0/init/shim.log"
	echo mine >"$CDIR/.tmp-odd/file"

	start_daemon
	wait_for pid_gone "$shim"
	echo "# after the restart: runc root $(ls "$RUNC_ROOT" 2>&1 | tr '\n' ' '); user's dir $(ls "$STATE/mydata/sub" 2>&1)" >&3
	assert_eq "$(cat "$STATE/mydata/sub/file")" precious "the user's file"
	assert_eq "$(runc_status inroot)" running "inroot in runc (its --root is in the state dir)"
	assert_eq "$(ctr_status inroot)" running "inroot"
	assert_eq "$(cat "$CDIR/nomark/file")" mine "the unmarked dir's file"
	run -0 grep -F "$STATE/runc: not the daemon's" "$T/daemon.log"
	run -0 grep -F "$STATE/mydata: not the daemon's" "$T/daemon.log"
	run -0 grep -F "$CDIR/nomark: left as it is" "$T/daemon.log"
	[ ! -e "$CDIR/.tmp-cut.1.0" ] && [ ! -e "$CDIR/.tmp-new.1.1" ] || fail "cut-short temporary dirs left: $(ls -a "$CDIR")"
	assert_eq "$(cat "$CDIR/.tmp-odd/file")" mine "the unmarked temporary-looking dir's file"
	run -0 grep -F "$CDIR/.tmp-odd: left as it is" "$T/daemon.log"
	assert_eq "$marked" yes "the leftover's directory had the daemon's marker"
	wait_for eval '[ ! -e "$CDIR/$lo" ]'
	wait_for -t 10 eval '[ -z "$(cgroup_dirs "$lo")" ]'
	echo "# figure: runc root, user's dir, unmarked dir kept; leftover (shim $shim, dir) removed" >&3
}

@test "a second daemon on the same state dir (another --listen) refuses at once, naming the first; the first's create succeeds; each exit recorded once" {
	start_daemon
	held=$(unique_id held)
	make_bundle "$held" "${SLEEP_ARGS[@]}"
	hold_create "$BUNDLE" "$T/hook-held"
	ctr containers start "$held" "$BUNDLE" >"$T/held.out" 2>&1 &
	create=$!
	BG_PIDS+=("$create")
	wait_for test -e "$T/hook-held"

	daemon_cmd
	t0=$(date +%s%N)
	run timeout 10 "$CONTAINERD" --state-dir "$STATE" --listen "$T/other.sock" \
		--runtime-args "--root=$RUNC_ROOT" --shim "$SHIM"
	ms=$(ms_since "$t0")
	echo "# figure: the second daemon exited $status after $ms ms: $output" >&3
	[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "second daemon: status $status"
	assert_contains "$output" "another containerd (pid $DAEMON_PID) is using the state dir $STATE"
	[ ! -S "$T/other.sock" ] || fail "the second daemon made its socket"

	touch "$T/hook-held.go"
	wait "$create" || fail "the held create failed: $(cat "$T/held.out")"
	assert_eq "$(ctr_status "$held")" running "$held"
	ctr containers kill --signal KILL "$held"
	wait_exit "$held" 137
	start_container other "${SLEEP_ARGS[@]}"
	ctr containers kill --signal KILL other
	wait_exit other 137
	run -0 grpc_call GetServerVersion
	assert_eq "$(event_count exit "$held")" 1 "exit events of $held"
	assert_eq "$(event_count exit other)" 1 "exit events of other"
	assert_eq "$(event_count start-container "$held")" 1 "start events of $held"
}

@test "config.json a FIFO: CreateContainer answers INVALID_ARGUMENT at once, AddProcess does not read it, the daemon answers meanwhile, SIGTERM stops it" {
	start_daemon
	make_bundle fifo "${SLEEP_ARGS[@]}"
	rm "$BUNDLE/config.json"
	mkfifo "$BUNDLE/config.json"
	t0=$(date +%s%N)
	timeout -k 2 20 "$PY" "$GRPC_CALL" --address "$SOCK" CreateContainer \
		"{\"id\": \"fifo\", \"bundlePath\": \"$BUNDLE\"}" >"$T/fifo.out" 2>&1 &
	create=$!
	BG_PIDS+=("$create")
	t1=$(date +%s%N)
	run -0 timeout 5 "$PY" "$GRPC_CALL" --address "$SOCK" --timeout 3 GetServerVersion
	version_ms=$(ms_since "$t1")
	wait "$create" && fail "the create succeeded: $(cat "$T/fifo.out")"
	create_ms=$(ms_since "$t0")
	cat "$T/fifo.out"
	assert_contains "$(cat "$T/fifo.out")" INVALID_ARGUMENT
	assert_contains "$(cat "$T/fifo.out")" "$BUNDLE/config.json is a FIFO"

	# A running container whose config.json became a FIFO: an exec that
	# names no capabilities gets the container's own, as recorded at its
	# create; the bundle is not read again.
	start_container ex "${SLEEP_ARGS[@]}"
	caps=$(jq -c .process.capabilities.effective "$BUNDLE/config.json")
	rm "$BUNDLE/config.json"
	mkfifo "$BUNDLE/config.json"
	t2=$(date +%s%N)
	run timeout 20 "$PY" "$GRPC_CALL" --address "$SOCK" AddProcess \
		"{\"id\": \"ex\", \"pid\": \"e1\", \"args\": [\"/bin/sleep\", \"100\"]}"
	exec_ms=$(ms_since "$t2")
	echo "$output"
	[ "$status" -eq 0 ] || fail "AddProcess: $output"
	assert_eq "$(jq -c .capabilities.effective "$CDIR/ex/e1/process.json")" "$caps" "the exec's capabilities"

	t3=$(date +%s%N)
	stop_daemon -TERM
	stop_ms=$(ms_since "$t3")
	echo "# figure: FIFO config.json (times include the python client's start-up): CreateContainer answered in $create_ms ms, AddProcess in $exec_ms ms, GetServerVersion meanwhile in $version_ms ms, SIGTERM stopped the daemon (status $DAEMON_STATUS) in $stop_ms ms" >&3
	assert_eq "$DAEMON_STATUS" 0 "the daemon's exit status after SIGTERM"
	[ "$create_ms" -lt 5000 ] || fail "the create took $create_ms ms"
}

# mount_hung_fs: a FUSE filesystem at $T/hung whose server never answers.
mount_hung_fs() {
	[ -c /dev/fuse ] && grep -qw fuse /proc/filesystems || skip "needs FUSE (/dev/fuse)"
	mkdir -p "$T/hung"
	"$PY" "$REPO/tests/integration/hung_fuse.py" "$T/hung" >"$T/fuse.log" 2>&1 &
	FUSE_PID=$!
	wait_for file_has "$T/fuse.log" mounted
}

# call_on_hung_fs OUT METHOD JSON: the call, in the background, must fail
# DEADLINE_EXCEEDED naming the filesystem, while GetServerVersion answers
# meanwhile (the daemon's thread waits on the filesystem; the loop does
# not). Sets call_ms and version_ms.
call_on_hung_fs() {
	local out=$1 t0 t1 call
	t0=$(date +%s%N)
	timeout -k 2 30 "$PY" "$GRPC_CALL" --address "$SOCK" "$2" "$3" >"$out" 2>&1 &
	call=$!
	BG_PIDS+=("$call")
	t1=$(date +%s%N)
	run -0 timeout 5 "$PY" "$GRPC_CALL" --address "$SOCK" --timeout 3 GetServerVersion
	version_ms=$(ms_since "$t1")
	wait "$call" && fail "the $2 succeeded: $(cat "$out")"
	call_ms=$(ms_since "$t0")
	cat "$out"
	assert_contains "$(cat "$out")" DEADLINE_EXCEEDED
	assert_contains "$(cat "$out")" "its filesystem does not answer"
}

# stop_beside_hung_fs: SIGTERM stops the daemon (status 0) though a thread
# of it waits on the filesystem. Sets stop_ms.
stop_beside_hung_fs() {
	local t0
	# Under ASan, LeakSanitizer must stop every thread at exit, which the
	# kernel's FUSE wait does not let it: the filesystem answers first.
	if [ -n "${CTRD_SAN:-}" ]; then
		kill "$FUSE_PID"
		wait "$FUSE_PID" || true
		FUSE_PID=
	fi
	t0=$(date +%s%N)
	stop_daemon -TERM
	stop_ms=$(ms_since "$t0")
	assert_eq "$DAEMON_STATUS" 0 "the daemon's exit status after SIGTERM"
}

@test "a bundle on a filesystem that does not answer (FUSE): CreateContainer answers DEADLINE_EXCEEDED after --start-timeout; the daemon answers meanwhile and stops on SIGTERM" {
	mount_hung_fs
	start_daemon --start-timeout 2s
	call_on_hung_fs "$T/hung.out" CreateContainer "{\"id\": \"hung\", \"bundlePath\": \"$T/hung/bundle\"}"
	# A second create meanwhile is served as usual.
	start_container ok "${SLEEP_ARGS[@]}"
	stop_beside_hung_fs
	echo "# figure: bundle on a hung filesystem: CreateContainer DEADLINE_EXCEEDED in $call_ms ms (--start-timeout 2s), GetServerVersion meanwhile in $version_ms ms, SIGTERM stopped the daemon (status $DAEMON_STATUS) in $stop_ms ms" >&3
}

@test "more creates on a hung filesystem than the daemon has file threads: the extra ones wait their turn (no UNAVAILABLE), each answers DEADLINE_EXCEEDED; once it answers again, a create works" {
	mount_hung_fs
	start_daemon --start-timeout 3s
	n=70
	for ((i = 0; i < n; i++)); do
		ctr --conn-timeout 10s containers start "h$i" "$T/hung/bundle" >"$T/h$i.out" 2>&1 &
		BG_PIDS+=($!)
	done
	wait_for grep -q 'not started within' "$T/daemon.log"
	run -0 timeout 5 "$PY" "$GRPC_CALL" --address "$SOCK" --timeout 3 GetServerVersion
	for ((i = 0; i < n; i++)); do
		wait_for file_has "$T/h$i.out" "within"
	done
	cat "$T"/h*.out
	! grep -l 'in flight' "$T"/h*.out || fail "a create was refused for the cap"
	waited=$(grep -l 'not started within' "$T"/h*.out | wc -l)
	hung=$(grep -l 'its filesystem does not answer' "$T"/h*.out | wc -l)
	assert_eq "$((waited + hung))" "$n" "DEADLINE_EXCEEDED answers"
	[ "$waited" -ge 1 ] || fail "none waited for a slot"
	echo "# $n creates on a hung filesystem: $hung hung in a thread, $waited waited for one; all DEADLINE_EXCEEDED" >&3
	kill "$FUSE_PID"
	wait "$FUSE_PID" || true
	FUSE_PID=
	start_container ok "${SLEEP_ARGS[@]}"
	assert_eq "$(ctr_status ok)" running "ok"
}

@test "a checkpoint dir on a filesystem that does not answer (FUSE): CreateCheckpoint answers DEADLINE_EXCEEDED after --runtime-timeout; the daemon answers meanwhile and stops on SIGTERM" {
	mount_hung_fs
	start_daemon --runtime-timeout 2s
	start_container ck "${SLEEP_ARGS[@]}"
	call_on_hung_fs "$T/ck.out" CreateCheckpoint \
		"{\"id\": \"ck\", \"checkpoint\": {\"name\": \"c1\"}, \"checkpointDir\": \"$T/hung/cp\"}"
	assert_eq "$(db "SELECT count(*) FROM checkpoints")" 0 "checkpoint rows"
	assert_eq "$(ctr_status ck)" running "ck"
	stop_beside_hung_fs
	echo "# figure: checkpoint dir on a hung filesystem: CreateCheckpoint DEADLINE_EXCEEDED in $call_ms ms (--runtime-timeout 2s), GetServerVersion meanwhile in $version_ms ms, SIGTERM stopped the daemon (status $DAEMON_STATUS) in $stop_ms ms" >&3
}

@test "config.json of 300 MB (sparse), or /dev/zero: refused at once, the daemon's peak memory barely moves" {
	start_daemon
	make_bundle big "${SLEEP_ARGS[@]}"
	truncate -s 300M "$BUNDLE/config.json"
	echo 5 >"/proc/$DAEMON_PID/clear_refs" # resets VmHWM to the current RSS
	hwm0=$(vm_kb "$DAEMON_PID" VmHWM)
	t0=$(date +%s%N)
	run grpc_call CreateContainer "{\"id\": \"big\", \"bundlePath\": \"$BUNDLE\"}"
	ms=$(ms_since "$t0")
	hwm1=$(vm_kb "$DAEMON_PID" VmHWM)
	echo "$output"
	echo "# figure: 300 MB config.json refused in $ms ms (client included); VmHWM $hwm0 -> $hwm1 kB (+$((hwm1 - hwm0)) kB)" >&3
	assert_contains "$output" INVALID_ARGUMENT
	assert_contains "$output" "314572800 bytes; at most 1048576"
	[ $((hwm1 - hwm0)) -lt 4096 ] || fail "peak memory grew by $((hwm1 - hwm0)) kB"
	# A link to an endless device: never opened, never read.
	rm "$BUNDLE/config.json"
	ln -s /dev/zero "$BUNDLE/config.json"
	run grpc_call CreateContainer "{\"id\": \"big\", \"bundlePath\": \"$BUNDLE\"}"
	echo "$output"
	assert_contains "$output" "config.json is a character device"
	run -0 grpc_call GetServerVersion
}

@test "a create killed inside runc create (daemon SIGKILLed): after the restart no cgroup of it is left in any hierarchy" {
	[ -d /sys/fs/cgroup ] || skip "no /sys/fs/cgroup"
	id=$(unique_id cgleft)
	start_daemon
	make_bundle "$id" "${SLEEP_ARGS[@]}"
	hold_create "$BUNDLE" "$T/hook-cg"
	ctr containers start "$id" "$BUNDLE" >/dev/null 2>&1 &
	BG_PIDS+=($!)
	wait_for test -e "$T/hook-cg"
	stop_daemon -KILL
	before=$(cgroup_dirs "$id" | wc -l)
	[ "$before" -gt 0 ] || fail "runc made no cgroup for $id: nothing to test"

	start_daemon
	wait_for eval '[ "$(db "SELECT count(*) FROM containers WHERE id = '"'$id'"'")" = 0 ]'
	wait_for eval '[ ! -e "$CDIR/$id" ]'
	left() { [ -z "$(cgroup_dirs "$id")" ]; }
	wait_for -t 10 left || true
	after=$(cgroup_dirs "$id" | wc -l)
	echo "# figure: cgroup dirs of $id: $before while the create was held, $after after the restart" >&3
	cgroup_dirs "$id" | xargs -r rmdir 2>/dev/null || true
	assert_eq "$after" 0 "cgroup dirs left: $(cgroup_dirs "$id")"
	run -0 grep -F "removed its empty cgroup" "$T/daemon.log"
}

@test "upgrade from the old layout (<state>/<id>/): a live container's dir moves into the area and its exit still arrives; an old-layout shim of a create in flight is found and killed" {
	start_daemon
	start_container up1 "${SLEEP_ARGS[@]}"
	pid=$(init_pid up1)
	stop_daemon -KILL
	# 0.2.9-c's layout: <state>/<id>/<pid>/, no marker. The shim keeps
	# working through the move: it chdir()ed into its dir.
	mv "$CDIR/up1" "$STATE/up1"
	rm "$STATE/up1/.containerd"
	# A create of the old layout in flight: its shim started as the old
	# daemon started it (--dir <state>/<id>/init), held inside runc create,
	# its rows "creating".
	half=$(unique_id half)
	make_bundle "$half" "${SLEEP_ARGS[@]}"
	hold_create "$BUNDLE" "$T/hook-half"
	mkdir -p "$STATE/$half/init"
	now=$(date +%s%N)
	db "INSERT INTO containers (id, bundle, runtime, runtime_args, status, created_at, updated_at)
		VALUES ('$half', '$BUNDLE', '$RUNC', '[\"--root=$RUNC_ROOT\"]', 'creating', $now, $now);
		INSERT INTO processes (container_id, pid, status) VALUES ('$half', 'init', 'creating')"
	"$SHIM" --id "$half" --bundle "$BUNDLE" --dir "$STATE/$half/init" --runtime "$RUNC" \
		--runtime-arg "--root=$RUNC_ROOT" 3>"$T/half.sync" </dev/null >/dev/null 2>&1 &
	wait_for test -e "$T/hook-half"
	half_shim=$(pgrep -f "containerd-shim --id $half " | head -n 1)
	[ -n "$half_shim" ] || fail "the old-layout shim is not running"

	start_daemon
	[ -d "$CDIR/up1/init" ] && [ -f "$CDIR/up1/.containerd" ] || fail "up1's dir not moved and marked: $(ls -a "$CDIR" "$STATE")"
	[ ! -e "$STATE/up1" ] || fail "$STATE/up1 is still there"
	run -0 grep -F "container up1: its directory moved from $STATE/up1 to $CDIR/up1" "$T/daemon.log"
	assert_eq "$(ctr_status up1)" running "up1 after the upgrade"
	wait_for pid_gone "$half_shim"
	wait_for eval '[ ! -e "$CDIR/$half" ] && [ ! -e "$STATE/$half" ]'
	assert_eq "$(db "SELECT count(*) FROM containers WHERE id = '$half'")" 0 "rows of $half"
	wait_for -t 10 eval '[ -z "$(cgroup_dirs "$half")" ]'
	kill -9 "$pid"
	wait_exit up1 137
	assert_eq "$(db "SELECT exit_status FROM processes WHERE container_id = 'up1' AND pid = 'init'")" 137 "up1's exit status (from its shim's exit file)"
	wait_for eval '[ ! -e "$CDIR/up1" ]'
	echo "# figure: up1 moved and supervised (exit 137 recorded through the moved dir); old-layout shim $half_shim killed, $half undone" >&3
}

@test "a create cut by --start-timeout inside runc create: its error, and no cgroup of it is left" {
	[ -d /sys/fs/cgroup ] || skip "no /sys/fs/cgroup"
	id=$(unique_id cgtime)
	start_daemon --start-timeout 2s
	make_bundle "$id" "${SLEEP_ARGS[@]}"
	hold_create "$BUNDLE" "$T/hook-cgt"
	run grpc_call CreateContainer "{\"id\": \"$id\", \"bundlePath\": \"$BUNDLE\"}"
	echo "$output"
	assert_contains "$output" DEADLINE_EXCEEDED
	# The killed runtime's processes may take a moment to leave them.
	gone() { [ -z "$(cgroup_dirs "$id")" ]; }
	wait_for -t 10 gone || true
	after=$(cgroup_dirs "$id" | wc -l)
	echo "# figure: cgroup dirs of $id after the timed-out create: $after" >&3
	cgroup_dirs "$id" | xargs -r rmdir 2>/dev/null || true
	assert_eq "$after" 0 "cgroup dirs left"
	[ ! -e "$CDIR/$id" ] || fail "$CDIR/$id is left"
}
