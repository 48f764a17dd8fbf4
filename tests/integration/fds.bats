#!/usr/bin/env bats
# File descriptor leaks: the daemon's open fds come back to their baseline
# after a mix of requests, and a running shim holds only what it needs.

load helpers

setup_file() {
	setup_base_bundle
}

setup() {
	requires_e2e
	setup_common
	start_daemon
}

teardown() {
	teardown_common
}

# fd_list PID: "FD -> TARGET" per open fd of PID, sorted by fd.
fd_list() {
	local f
	for f in /proc/"$1"/fd/*; do
		echo "${f##*/} -> $(readlink "$f" 2>/dev/null)"
	done | sort -n
}

fd_count() {
	ls /proc/"$1"/fd 2>/dev/null | wc -l
}

# daemon_idle: no container runc knows, no child of the daemon left (runc
# delete jobs, shims), nothing listed.
daemon_idle() {
	[ -z "$(runc_list)" ] && [ -z "$(pgrep -P "$DAEMON_PID" 2>/dev/null)" ] &&
		[ -z "$(ctr containers 2>/dev/null | awk 'NR > 1')" ]
}

# events_hangup: subscribe to Events and vanish mid-stream (SIGKILL, so
# the client says no goodbye).
events_hangup() {
	# In a subshell, so bash's "Killed" notice goes nowhere.
	(timeout -s KILL 0.5 "$CTR_BIN" --address "$SOCK" events) >/dev/null 2>&1 || true
}

# one_round NAME EXEC_KIND: five requests: CreateContainer, AddProcess (a
# good one or one of a missing command), State, Events + hang-up, Signal.
one_round() {
	local id=$1
	start_container "$id" "${SLEEP_ARGS[@]}" || return 1
	if [ "$2" = good ]; then
		run -0 ctr containers exec --id "$id" --pid e1 --attach echo hi
	else
		run ! ctr containers exec --id "$id" --pid e1 --attach /no/such/command
	fi
	run -0 ctr containers state "$id"
	events_hangup
	run -0 ctr containers kill --signal KILL "$id"
	wait_exit "$id" 137
}

# fds_back_to BASE: the daemon's fd count falls back to BASE (closing a
# finished connection or a reaped job's pipes may take a loop iteration).
fds_back_to() {
	local k
	for ((k = 0; k < 100; k++)); do
		[ "$(fd_count "$DAEMON_PID")" -le "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

@test "daemon: after 50 requests of every kind its open fds are back to the baseline" {
	# Warm-up: every kind once, so what is opened once and kept (SQLite's
	# files, the listening socket, lazily opened handles) is in the baseline.
	one_round warm good
	one_round warm2 bad
	wait_for daemon_idle
	local base
	base=$(fd_count "$DAEMON_PID")
	fd_list "$DAEMON_PID" >"$T/fds.before"

	local k
	for ((k = 0; k < 10; k++)); do
		if ((k % 2 == 0)); then
			one_round "fd$k" good
		else
			one_round "fd$k" bad
		fi
	done
	wait_for daemon_idle

	if ! fds_back_to "$base"; then
		fd_list "$DAEMON_PID" >"$T/fds.after"
		echo "baseline $base fds, now $(fd_count "$DAEMON_PID"); new ones:"
		diff "$T/fds.before" "$T/fds.after" | grep '^>' || true
		fail "the daemon leaks file descriptors"
	fi
}

# shim_fd_reason FD TARGET KIND: why a shim of KIND (init, exec) may hold
# TARGET on FD; prints nothing when it may not.
shim_fd_reason() {
	local fd=$1 target=$2 kind=$3 dir=$4 log=${5:-} proc=${6:-}
	case $target in
	"$log")
		# A process started without stdout/stderr paths: its log.
		[ -n "$log" ] && echo "the process's log (no stdout/stderr paths given)"
		;;
	/dev/null)
		# Its own stdio (it detached from the daemon's), and the
		# process's stdio when the request gave no paths.
		echo "stdio: /dev/null"
		;;
	pipe:*)
		# fd 3: the sync pipe the daemon reads "created"/"error"/"oom"
		# from; checked to be the daemon's below.
		if [ "$fd" = 3 ]; then
			echo "sync pipe to the daemon"
		elif [ -n "$proc" ] && { [ "$(readlink "/proc/$proc/fd/1")" = "$target" ] ||
			[ "$(readlink "/proc/$proc/fd/2")" = "$target" ]; }; then
			echo "the read end of the process's stdout/stderr pipe, logged"
		fi
		;;
	anon_inode:\[signalfd\])
		echo "signalfd: SIGCHLD of the process it reaps, SIGTERM"
		;;
	"$dir/shim.log")
		echo "its own error log"
		;;
	"$dir/control")
		echo "the control fifo (close-stdin, resize), held open read-write"
		;;
	*/memory.oom_control | */memory.events)
		[ "$kind" = init ] && echo "the container's memory cgroup, for OOM events"
		;;
	anon_inode:\[eventfd\] | anon_inode:inotify)
		[ "$kind" = init ] && echo "OOM notification (cgroup v1 eventfd, v2 inotify)"
		;;
	esac
}

# check_shim_fds SHIM_PID KIND DIR [LOG PROC_PID]: every fd of the shim has a
# reason (LOG: the process's log; PROC_PID: the process whose output pipes
# the shim reads), and
# its fd 3 is a pipe the daemon holds the other end of.
check_shim_fds() {
	local shim=$1 kind=$2 dir=$3 log=${4:-} proc=${5:-} line fd target why bad=0
	echo "# shim $shim ($kind):"
	while IFS= read -r line; do
		fd=${line%% -> *}
		target=${line#* -> }
		why=$(shim_fd_reason "$fd" "$target" "$kind" "$dir" "$log" "$proc")
		if [ -n "$why" ]; then
			echo "#   $line: $why"
		else
			echo "#   $line: NOT EXPECTED"
			bad=1
		fi
	done < <(fd_list "$shim")
	[ "$bad" -eq 0 ] || fail "shim $shim ($kind) holds fds it should not"

	local sync
	sync=$(readlink "/proc/$shim/fd/3")
	[[ $sync == pipe:* ]] || fail "shim fd 3 is $sync, not the sync pipe"
	fd_list "$DAEMON_PID" | grep -qF -- "-> $sync" ||
		fail "the daemon holds no end of the shim's sync pipe $sync"
}

@test "a running shim holds only its stdio, sync pipe, signalfd, log, control fifo and OOM watch (and, started without stdio paths, the process's log and output pipes)" {
	start_container fds1 "${SLEEP_ARGS[@]}"
	run -0 ctr containers exec --id fds1 --pid sleeper sleep 1000
	wait_for process_listed fds1 sleeper

	local init_shim exec_shim
	init_shim=$(db "SELECT shim_pid FROM processes WHERE container_id = 'fds1' AND pid = 'init'")
	exec_shim=$(db "SELECT shim_pid FROM processes WHERE container_id = 'fds1' AND pid = 'sleeper'")
	pid_alive "$init_shim" || fail "init shim $init_shim not running"
	pid_alive "$exec_shim" || fail "exec shim $exec_shim not running"

	check_shim_fds "$init_shim" init "$CDIR/fds1/init" "$STATE/_logs/fds1/init.log" \
		"$(init_pid fds1)"
	check_shim_fds "$exec_shim" exec "$CDIR/fds1/sleeper" "$STATE/_logs/fds1/sleeper.log" \
		"$(exec_system_pid fds1 sleeper)"
	# Nothing of the daemon's own: the database, its log, its socket.
	! fd_list "$init_shim" | grep -Eq 'state\.db|daemon\.log|socket:' ||
		fail "the shim holds one of the daemon's files"
}

@test "RLIMIT_NOFILE: the daemon raises its soft limit to the hard one and logs it; shims get the limit it started with" {
	local hard shim soft_shim soft_d
	stop_daemon
	hard=$(ulimit -Hn)
	[ "$hard" != unlimited ] && [ "$hard" -gt 256 ] || skip "hard RLIMIT_NOFILE $hard"
	ulimit -Sn 256
	start_daemon
	ulimit -Sn "$hard"
	soft_d=$(awk '/^Max open files/ { print $4 }' "/proc/$DAEMON_PID/limits")
	# Raised to the hard limit (as root to fs.nr_open where CAP_SYS_RESOURCE allows).
	[ "$soft_d" -ge "$hard" ] || fail "daemon soft limit $soft_d, hard $hard"
	grep -q 'fds: RLIMIT_NOFILE raised from 256' "$T/daemon.log" || fail "no log line"
	start_container rl1 "${SLEEP_ARGS[@]}"
	shim=$(db "SELECT shim_pid FROM processes WHERE container_id = 'rl1' AND pid = 'init'")
	soft_shim=$(awk '/^Max open files/ { print $4 }' "/proc/$shim/limits")
	assert_eq "$soft_shim" 256 "the shim's soft limit"
	echo "# figure: daemon soft limit 256 -> $soft_d (hard $hard); shim $soft_shim; $(grep -o 'fds: RLIMIT_NOFILE.*' "$T/daemon.log" | tail -1)" >&3
}
