#!/usr/bin/env bats
# The upgrade path: the previous release's daemon (built from git) runs
# containers on a state dir, is stopped (SIGTERM, or SIGKILL), and this
# tree's daemon starts on the same state dir. Its promise: every container
# and every acknowledged fact survives, the old shims keep working, and
# nothing that is not the daemon's is removed.
#
# The previous release is pinned by commit (the last one before issue 10's
# state-dir layout, schema 004 and 005), so the test keeps meaning the same
# after this tree lands. It is built once, into a cache directory, and
# reused by later runs.

load helpers

OLD_COMMIT=19dfed9da05d6ee0ff6d6cd9a10a28b3f3429707
NEWEST_SCHEMA=$(ls "$REPO"/schema/[0-9]*.sql | wc -l)

# build_old: OLD_BIN=<dir with the previous release's binaries>, built from
# git into a cache shared by runs (made under a temporary name, renamed when
# complete, so a build cut short is never taken for a build).
build_old() {
	local cache=${CTRD_RELEASE_CACHE:-${TMPDIR:-/tmp}/ctrd-release-${OLD_COMMIT:0:12}}
	OLD_BIN=$cache/bin
	if [ -x "$OLD_BIN/containerd" ] && [ -x "$OLD_BIN/containerd-shim" ]; then
		return 0
	fi
	command -v git >/dev/null || { OLD_SKIP="needs git to build the previous release"; return 0; }
	git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1 ||
		{ OLD_SKIP="$REPO has no git history (a tarball?): cannot build the previous release"; return 0; }
	git -C "$REPO" cat-file -e "$OLD_COMMIT^{commit}" 2>/dev/null ||
		{ OLD_SKIP="the previous release $OLD_COMMIT is not in this clone (shallow?)"; return 0; }
	local tmp=$cache.tmp.$$
	rm -rf "$tmp"
	mkdir -p "$tmp"
	git -C "$REPO" archive "$OLD_COMMIT" | tar -x -C "$tmp" || return 1
	echo "# building the previous release ${OLD_COMMIT:0:12} in $tmp" >&3
	make -C "$tmp" -j2 all >"$tmp/build.log" 2>&1 || {
		tail -n 30 "$tmp/build.log" >&2
		return 1
	}
	# Another run may have finished first: either copy is as good.
	mv -T "$tmp" "$cache" 2>/dev/null || rm -rf "$tmp"
}

setup_file() {
	setup_base_bundle
	OLD_SKIP=
	build_old
	export OLD_BIN OLD_SKIP
}

setup() {
	requires_e2e
	[ -z "${OLD_SKIP:-}" ] || skip "$OLD_SKIP"
	setup_common
	NEW_CONTAINERD=$CONTAINERD
	NEW_SHIM=$SHIM
}

teardown() {
	teardown_common
}

start_old_daemon() {
	CONTAINERD=$OLD_BIN/containerd SHIM=$OLD_BIN/containerd-shim start_daemon "$@"
	# start_daemon read them; the rest of the test speaks of the new ones.
	CONTAINERD=$NEW_CONTAINERD
	SHIM=$NEW_SHIM
}

# listing: "ID STATUS PROCESSES" per container, sorted.
listing() {
	ctr containers 2>/dev/null | awk 'NR > 1 { print $1, $3, $4 }' | sort
}

# files_of DIR: every path under DIR, relative, sorted.
files_of() {
	(cd "$1" && find . -mindepth 1 | sed 's|^\./||' | sort)
}

ev_has() {
	ctr_has_event "$(cat "$T/events.out" 2>/dev/null)" "$@"
}

# upgrade SIG: the whole scenario, the old daemon stopped with SIG.
upgrade() {
	local sig=$1 id f
	start_old_daemon
	echo "# old: $("$OLD_BIN/containerd" --version 2>&1 | head -n1) (${OLD_COMMIT:0:12}), stopped with SIG$sig" >&3

	start_container up-run "${SLEEP_ARGS[@]}"
	start_container up-exec "${SLEEP_ARGS[@]}"
	run -0 ctr containers exec --id up-exec --pid sleeper sleep 1000
	wait_for process_listed up-exec sleeper
	run -0 ctr containers exec --id up-exec --pid waiter sh -c 'while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 3'
	wait_for process_listed up-exec waiter
	start_container up-paused "${SLEEP_ARGS[@]}"
	run -0 ctr containers pause up-paused
	wait_for test "$(ctr_status up-paused)" = paused
	start_container up-down sh -c 'while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 7'
	# Not the daemon's: a user's file and a directory named like an id.
	mkdir -p "$STATE/user-dir" "$STATE/looks-like-id"
	echo mine >"$STATE/user-dir/notes"
	echo mine >"$STATE/looks-like-id/data"

	local before_list before_files sleeper_pid init_run
	before_list=$(listing)
	before_files=$(files_of "$STATE")
	sleeper_pid=$(exec_system_pid up-exec sleeper)
	init_run=$(init_pid up-run)
	echo "# old daemon's containers:" >&3
	sed 's/^/#   /' <<<"$before_list" >&3

	stop_daemon "-$sig"
	# The old daemon's history, as it left it.
	local before_events
	before_events=$(db "SELECT seq, type, container_id, pid, status, ts FROM events ORDER BY seq")
	# While no daemon runs: the init of up-down and the exec waiter exit.
	touch "$T/bundles/up-down/rootfs/tmp/go" "$T/bundles/up-exec/rootfs/tmp/go"
	wait_for pid_gone "$(init_pid up-down 2>/dev/null || echo 0)"
	wait_for test "$(runc_status up-down)" != running

	start_daemon
	echo "# new: $("$CONTAINERD" --version 2>&1 | head -n1)" >&3
	local after_list
	after_list=$(listing)
	echo "# new daemon's containers:" >&3
	sed 's/^/#   /' <<<"$after_list" >&3

	# The running ones are listed, with their processes; the paused one
	# is still paused (and the runtime agrees).
	assert_eq "$(ctr_status up-run)" running "up-run"
	assert_eq "$(ctr_status up-exec)" running "up-exec"
	assert_eq "$(ctr_processes up-exec)" "init,sleeper" "up-exec's processes"
	assert_eq "$(ctr_status up-paused)" paused "up-paused"
	assert_eq "$(runc_status up-paused)" paused "runc's up-paused"
	assert_eq "$(exec_system_pid up-exec sleeper)" "$sleeper_pid" "sleeper's pid"
	# The exits while down, with their real status.
	wait_exit up-down 7
	wait_event exit up-exec waiter 3
	echo "# figure: exits while down: up-down $(db "SELECT status FROM events WHERE type='exit' AND container_id='up-down'"), waiter $(db "SELECT status FROM events WHERE type='exit' AND pid='waiter'") (want 7, 3)" >&3
	[ "$(db "SELECT count(*) FROM events WHERE type='exit' AND status=255")" -eq 0 ] ||
		fail "an exit recorded as 255: $(db "SELECT * FROM events WHERE type='exit' AND status=255")"

	# The directories moved into the area, marked.
	for id in up-run up-exec up-paused; do
		[ ! -e "$STATE/$id" ] || fail "$STATE/$id is still in the old place"
		[ -f "$CDIR/$id/.containerd" ] || fail "$CDIR/$id: not moved or not marked"
	done
	echo "# dirs: $(cd "$CDIR" && ls -A | tr '\n' ' ')" >&3

	# Nothing removed but the daemon's own: each path of before is there,
	# under the area when it was a container's, or was a finished
	# container's or process's (the daemon removes those).
	local missing=0 kept=0
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		id=${f%%/*}
		if [ -e "$STATE/$f" ] || [ -e "$CDIR/$f" ]; then
			kept=$((kept + 1))
			continue
		fi
		case $f in
		up-down | up-down/* | up-exec/waiter | up-exec/waiter/*) continue ;;	# finished: the daemon's to remove
		containerd.sock) continue ;;
		esac
		echo "missing after the upgrade: $f" >&2
		missing=$((missing + 1))
	done <<<"$before_files"
	echo "# figure: files: $kept of $(wc -l <<<"$before_files") kept, $missing missing" >&3
	[ "$missing" -eq 0 ] || fail "$missing paths removed"
	assert_eq "$(cat "$STATE/user-dir/notes")" mine "the user's file"
	assert_eq "$(cat "$STATE/looks-like-id/data")" mine "the user's id-like dir"

	# Every event of the old history is there, with its seq and its
	# time (now occurred_at); ts strictly increasing over all of them.
	local after_events bad
	after_events=$(db "SELECT seq, type, container_id, pid, status, occurred_at FROM events
		WHERE seq <= (SELECT max(seq) FROM events) ORDER BY seq" | head -n "$(wc -l <<<"$before_events")")
	echo "# figure: events: $(wc -l <<<"$before_events") of the old history compared by seq, type, id, pid, status, time" >&3
	assert_eq "$after_events" "$before_events" "the old history"
	bad=$(db "SELECT count(*) FROM events a JOIN events b ON b.seq > a.seq AND b.ts <= a.ts")
	assert_eq "$bad" 0 "event pairs out of ts order"

	# The schema is the newest; check and replay agree.
	assert_eq "$(db 'PRAGMA user_version')" "$NEWEST_SCHEMA" "schema version"
	run containerd-state --state-dir "$STATE" check
	echo "# check: status $status ${output:0:300}" >&3
	[ "$status" -eq 0 ] || fail "check: $output"
	run containerd-state --state-dir "$STATE" replay
	echo "# replay: status $status ${output:0:300}" >&3
	[ "$status" -eq 0 ] || fail "replay: $output"

	# The old shims keep working: kills after the upgrade are recorded
	# with their status, and reach a subscriber.
	CTR_TIMEOUT=120 ctr events --timestamp "$(now_rfc3339)" >"$T/events.out" 2>&1 3>&- &
	BG_PIDS+=($!)
	run -0 ctr containers resume up-paused
	wait_for test "$(ctr_status up-paused)" = running
	run -0 ctr containers kill --signal 9 up-run
	run -0 ctr containers kill --pid sleeper --signal 9 up-exec
	run -0 ctr containers kill --signal 9 up-paused
	wait_exit up-run 137
	wait_event exit up-exec sleeper 137
	wait_exit up-paused 137
	wait_for ev_has exit up-run init 137
	wait_for ev_has exit up-exec sleeper 137
	wait_for ev_has exit up-paused init 137
	wait_for pid_gone "$init_run"
	echo "# figure: after the upgrade: kills recorded 137 and streamed: up-run, sleeper, up-paused" >&3
	wait_for container_not_listed up-run

	# And the new daemon runs new containers beside them.
	start_container up-new "${SLEEP_ARGS[@]}"
	[ -f "$CDIR/up-new/.containerd" ] || fail "up-new not in the area"

	# The history holds no exit twice.
	local dup
	dup=$(db "SELECT container_id || '/' || pid FROM events WHERE type='exit'
		GROUP BY container_id, pid HAVING count(*) > 1")
	[ -z "$dup" ] || fail "exits recorded twice: $dup"
}

@test "upgrade from the previous release, stopped with SIGTERM: containers, processes, pause, exits while down and the shims all survive" {
	upgrade TERM
}

@test "upgrade from the previous release, killed with SIGKILL: the same" {
	upgrade KILL
}

# held_runtime: a runtime that is runc, except that `exec` waits (touching
# $T/exec-held) until $T/exec-go exists: an AddProcess held inside the
# runtime, so the old daemon can be killed at that moment.
held_runtime() {
	cat >"$T/runc-held" <<HELD
#!/bin/sh
for a in "\$@"; do
	if [ "\$a" = exec ]; then
		touch "$T/exec-held"
		while [ ! -e "$T/exec-go" ]; do sleep 0.05; done
		break
	fi
done
exec $(command -v "$RUNC") "\$@"
HELD
	chmod +x "$T/runc-held"
}

@test "upgrade while the previous release was inside an AddProcess (SIGKILL): the exec is listed and watched, or killed and recorded; nothing runs unlisted, no exit invented" {
	held_runtime
	start_old_daemon --runtime "$T/runc-held"
	start_container up-held "${SLEEP_ARGS[@]}"
	CTR_TIMEOUT=60 ctr containers exec --id up-held --pid late sleep 1000 >"$T/exec.out" 2>&1 3>&- &
	BG_PIDS+=($!)
	wait_for test -e "$T/exec-held"
	stop_daemon -KILL
	touch "$T/exec-go"
	# The runtime's exec goes on without the daemon (its shim is alive).
	wait_for test "$("$RUNC" --root "$RUNC_ROOT" ps --format json up-held 2>/dev/null | jq length)" -ge 2 || true
	start_daemon
	local listed inside unlisted
	wait_for test "$(db "SELECT count(*) FROM processes WHERE status = 'creating'")" = 0
	listed=$(ctr containers state up-held | jq -r '.containers[0].processes[].systemPid' | sort -n)
	inside=$("$RUNC" --root "$RUNC_ROOT" ps --format json up-held | jq -r '.[]' | sort -n)
	unlisted=$(comm -23 <(echo "$inside") <(echo "$listed"))
	echo "# figure: after the upgrade up-held lists [$(echo $listed)], runs [$(echo $inside)], unlisted [$(echo $unlisted)], late: $(ctr_processes up-held)" >&3
	[ -z "$unlisted" ] || fail "processes run unlisted in up-held: $unlisted"
	assert_eq "$(db "SELECT count(*) FROM events WHERE type='exit' AND status=255")" 0 "exits recorded 255"
	if process_listed up-held late; then
		run -0 ctr containers kill --pid late --signal 9 up-held
		wait_event exit up-held late 137
	fi
	run -0 containerd-state --state-dir "$STATE" replay
}

@test "the new daemon started while the previous release still runs on the state dir (it holds no lock file): refused, naming it; nothing moved or migrated" {
	start_old_daemon
	start_container up-both "${SLEEP_ARGS[@]}"
	local old_pid=$DAEMON_PID version_before
	version_before=$(db 'PRAGMA user_version')
	run timeout 20 "$CONTAINERD" --state-dir "$STATE" --listen "$T/second.sock" \
		--runtime-args "--root=$RUNC_ROOT" --shim "$SHIM"
	echo "# figure: new daemon beside the old one (pid $old_pid): status $status: $(tail -c 300 <<<"$output")" >&3
	[ "$status" -ne 0 ] || fail "the new daemon started beside the old one"
	assert_contains "$output" "$old_pid"
	assert_eq "$(db 'PRAGMA user_version')" "$version_before" "schema version"
	[ -d "$STATE/up-both" ] || fail "the old daemon's container dir was moved"
	pid_alive "$old_pid" || fail "the old daemon died"
	assert_eq "$(ctr_status up-both)" running "up-both, by the old daemon"
}

# raw_create ID BUNDLE LABEL_HEX: CreateContainer with one label of raw
# bytes (not UTF-8: grpcio would not send it as a string), appended by hand
# as field 7 of the request, as a client of the previous release could.
raw_create() {
	CTRD_GRPC_DIR=$REPO/tests/grpc "$PY" - "$SOCK" "$1" "$2" "$3" <<'PYEOF'
import os, sys
sys.path.insert(0, os.environ["CTRD_GRPC_DIR"])
import ctrdtest
sock, cid, bundle, label = sys.argv[1], sys.argv[2], sys.argv[3], bytes.fromhex(sys.argv[4])
c = ctrdtest.Client(sock)
raw = c.request("CreateContainer", id=cid, bundlePath=bundle).SerializeToString()
raw += bytes([7 << 3 | 2, len(label)]) + label
call = c.channel.unary_unary("/types.API/CreateContainer")
call(raw, timeout=30)
print("created", cid)
PYEOF
}

@test "upgrade: a label of raw bytes the previous release stored no longer makes every State unreadable; its bad bytes are shown as \\xNN" {
	start_old_daemon
	make_bundle up-raw "${SLEEP_ARGS[@]}"
	run -0 raw_create up-raw "$BUNDLE" "7465616d3dff6f7073"
	wait_for container_running up-raw
	start_container up-plain "${SLEEP_ARGS[@]}"
	stop_daemon -TERM
	start_daemon
	run grpc_call State '{}'
	echo "# figure: State after the upgrade: status $status, $(jq -c '[.containers[] | {id, labels}]' <<<"$output" 2>/dev/null || tail -c 200 <<<"$output")" >&3
	[ "$status" -eq 0 ] || fail "State unreadable: $output"
	assert_eq "$(jq -r '.containers[] | select(.id == "up-raw") | .labels[0]' <<<"$output")" 'team=\xffops' "the raw label as shown"
	assert_eq "$(jq -r '.containers[] | select(.id == "up-plain") | .status' <<<"$output")" running "up-plain"
	# The database keeps the bytes as they were stored.
	assert_eq "$(db "SELECT hex(label) FROM labels WHERE container_id = 'up-raw'")" 7465616D3DFF6F7073 "the stored label"
}
