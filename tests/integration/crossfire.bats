#!/usr/bin/env bats
# Issue 10's items together, as a hostile user and an unlucky operator would
# combine them: odd ids against the new layout, an exec's exit while the
# store is stalled (journal) against exec retention, the database deleted
# or locked when the daemon is stopped.

load helpers

setup_file() {
	setup_base_bundle
}

setup() {
	requires_e2e
	setup_common
}

teardown() {
	[ -z "${T:-}" ] || touch "$T/release" 2>/dev/null || true
	teardown_common
}

# stays_for SECONDS CMD...: CMD holds every 0.1 s for SECONDS.
stays_for() {
	local n=$(($1 * 10)) k
	shift
	for ((k = 0; k < n; k++)); do
		"$@" || return 1
		sleep 0.1
	done
}

WAIT_GO=(sh -c 'while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 3')

@test "an exec exiting while the store is stalled keeps its directory (its exit file) until the exit is on disk: SIGKILL then restart records status 3, not 255" {
	# With retention on: it removes finished execs' dirs (item 16).
	start_daemon --retain-count 5
	start_container cf1 "${SLEEP_ARGS[@]}"
	run -0 ctr containers exec --id cf1 --pid w1 "${WAIT_GO[@]}"
	wait_for process_listed cf1 w1
	hold_lock
	touch "$T/bundles/cf1/rootfs/tmp/go"
	wait_for process_not_listed cf1 w1
	# Exec retention must wait for the commit the lock holds back.
	stays_for 1 test -f "$CDIR/cf1/w1/exit" || fail "the exec's exit file went while its exit was only in memory"
	assert_eq "$(event_count exit cf1 w1)" 0 "exit rows while locked"
	stop_daemon -9
	touch "$T/release"
	start_daemon
	wait_event exit cf1 w1 3
	echo "# figure: exec exit while stalled, then SIGKILL: recorded $(db "SELECT group_concat(status) FROM events WHERE type='exit' AND pid='w1'") (want 3)" >&3
	assert_eq "$(db "SELECT count(*) FROM events WHERE type='exit' AND status=255")" 0 "exits recorded 255"
}

@test "once a stall clears, the directories held back for it go: the exec's and the stopped container's" {
	start_daemon
	start_container cf8 "${SLEEP_ARGS[@]}"
	start_container cf9 "${WAIT_GO[@]}"
	run -0 ctr containers exec --id cf8 --pid w8 "${WAIT_GO[@]}"
	wait_for process_listed cf8 w8
	hold_lock
	touch "$T/bundles/cf8/rootfs/tmp/go" "$T/bundles/cf9/rootfs/tmp/go"
	wait_for process_not_listed cf8 w8
	wait_for listed_stopped cf9
	[ -f "$CDIR/cf8/w8/exit" ] && [ -f "$CDIR/cf9/init/exit" ] || fail "exit files gone while the exits are only in memory"
	touch "$T/release"
	wait_event exit cf8 w8 3
	wait_exit cf9 3
	wait_for container_not_listed cf9
	wait_for test ! -e "$CDIR/cf8/w8"
	wait_for test ! -e "$CDIR/cf9"
	echo "# figure: held back while stalled, removed after: $CDIR/cf8/w8, $CDIR/cf9; left: $(ls -A "$CDIR" | tr '\n' ' ')" >&3
}

@test "SIGTERM while another process holds the database's lock: nothing lost, nothing invented at the next start" {
	start_daemon
	start_container cf2 "${SLEEP_ARGS[@]}"
	start_container cf3 "${WAIT_GO[@]}"
	run -0 ctr containers exec --id cf2 --pid w2 "${WAIT_GO[@]}"
	wait_for process_listed cf2 w2
	start_container cf2p "${SLEEP_ARGS[@]}"
	hold_lock
	touch "$T/bundles/cf2/rootfs/tmp/go" "$T/bundles/cf3/rootfs/tmp/go"
	wait_for process_not_listed cf2 w2
	wait_for listed_stopped cf3
	# A pause made while the store cannot record it.
	run grpc_call UpdateContainer '{"id": "cf2p", "status": "paused"}'
	echo "# pause while locked: $output" >&3
	wait_for test "$(runc_status cf2p)" = paused
	stop_daemon -TERM
	echo "# daemon exit status with the lock held: $DAEMON_STATUS" >&3
	touch "$T/release"
	start_daemon
	wait_event exit cf2 w2 3
	wait_exit cf3 3
	assert_eq "$(ctr_status cf2)" running "cf2"
	assert_eq "$(ctr_status cf2p)" paused "cf2p (runc: $(runc_status cf2p))"
	assert_eq "$(db "SELECT count(*) FROM events WHERE type='exit' AND status=255")" 0 "exits recorded 255"
	dup=$(db "SELECT container_id || '/' || pid FROM events WHERE type='exit' GROUP BY container_id, pid HAVING count(*) > 1")
	[ -z "$dup" ] || fail "exits twice: $dup"
	echo "# figure: exits after SIGTERM under a lock: $(db "SELECT group_concat(container_id || '/' || pid || '=' || status) FROM events WHERE type='exit'")" >&3
}

@test "state.db deleted, then SIGTERM: the daemon saves what it held back at the path; the next start keeps the containers and invents no exit" {
	start_daemon
	start_container cf4 "${SLEEP_ARGS[@]}"
	run -0 ctr containers exec --id cf4 --pid s4 sleep 1000
	wait_for process_listed cf4 s4
	start_container cf5 "${WAIT_GO[@]}"
	pid=$(init_pid cf4)
	rm -f "$DB"
	# A fact after the deletion: kept in memory, saved with the rest.
	touch "$T/bundles/cf5/rootfs/tmp/go"
	wait_for listed_stopped cf5
	stop_daemon -TERM
	echo "# figure: after rm state.db and SIGTERM the state dir holds: $(ls -A "$STATE" | tr '\n' ' ')" >&3
	[ -f "$DB" ] || fail "no state.db after the stop"
	start_daemon
	pid_alive "$pid" || fail "cf4's init was killed"
	assert_eq "$(ctr_status cf4)" running "cf4"
	assert_eq "$(ctr_processes cf4)" "init,s4" "cf4's processes"
	wait_exit cf5 3
	assert_eq "$(db "SELECT count(*) FROM events WHERE type='exit' AND status=255")" 0 "exits recorded 255"
	echo "# figure: next start: cf4 $(ctr_status cf4) ($(ctr_processes cf4)), cf5 exit $(db "SELECT group_concat(status) FROM events WHERE type='exit' AND container_id='cf5'")" >&3
	run -0 containerd-state --state-dir "$STATE" check
}

@test "state.db deleted, then SIGKILL: the next start refuses, saying why, and kills nothing" {
	start_daemon
	start_container cf6 "${SLEEP_ARGS[@]}"
	pid=$(init_pid cf6)
	rm -f "$DB"
	stop_daemon -KILL
	daemon_cmd
	run timeout 20 "${DAEMON_ARGV[@]}"
	echo "# figure: start without state.db, a container left: status $status: $(tail -c 300 <<<"$output")" >&3
	[ "$status" -ne 0 ] || fail "the daemon started on an empty database"
	assert_contains "$output" "state.db is missing"
	[ ! -f "$DB" ] || fail "a new state.db was made"
	pid_alive "$pid" || fail "cf6's init was killed"
	[ -f "$CDIR/cf6/.containerd" ] || fail "cf6's dir was removed"
	# The way out the message gives: move the area away, start afresh.
	"$RUNC" --root "$RUNC_ROOT" delete -f cf6 >/dev/null 2>&1 || true
	mv "$CDIR" "$T/old-containers"
	start_daemon
	container_not_listed cf6
}

@test "ids and exec names that name the layout's own entries (_containers, .tmp-x, _daemon.lock, .containerd, ..) are INVALID_ARGUMENT and leave the state dir as it was" {
	start_daemon
	start_container cf7 "${SLEEP_ARGS[@]}"
	make_bundle bad "${SLEEP_ARGS[@]}"
	before=$(cd "$STATE" && find . | sort)
	local id n=0
	for id in _containers .tmp-x _daemon.lock .containerd .. . cf7/init; do
		run grpc_call CreateContainer "{\"id\": \"$id\", \"bundlePath\": \"$BUNDLE\"}"
		[ "$status" -ne 0 ] || fail "create $id succeeded"
		assert_contains "$output" INVALID_ARGUMENT
		run grpc_call AddProcess "{\"id\": \"cf7\", \"pid\": \"$id\", \"args\": [\"true\"], \"cwd\": \"/\"}"
		[ "$status" -ne 0 ] || fail "exec $id succeeded"
		assert_contains "$output" INVALID_ARGUMENT
		n=$((n + 2))
	done
	echo "# figure: $n creates and execs with layout names refused INVALID_ARGUMENT" >&3
	assert_eq "$(cd "$STATE" && find . | sort)" "$before" "the state dir"
	assert_eq "$(ctr_processes cf7)" init "cf7's processes"
}
