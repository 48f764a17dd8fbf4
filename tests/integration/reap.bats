#!/usr/bin/env bats
# Children reaped by pid (daemon/reap.c): every shim is the daemon's child
# while its container runs, so a waitpid(-1) per SIGCHLD walks them all.
# The daemon asks only the children that may have ended; these tests check
# that every exit still arrives and that the walks (the child-sweeps
# counter of --metrics-interval) stay rare.

load helpers

setup_file() {
	setup_base_bundle
}

setup() {
	setup_common
}

teardown() {
	teardown_common
}

# sweeps: the daemon's child-sweeps count in its last metrics report.
sweeps() {
	awk '{ sub(/^\[containerd\] [0-9\/]+ [0-9:]+ /, "") }
		$0 == "counter child-sweeps" { getline; n = $NF } END { print n }' "$T/daemon.log"
}

# reported_after N: a metrics report newer than line N of the log is there.
reported_after() {
	tail -n +"$(($1 + 1))" "$T/daemon.log" | grep -q 'counter child-sweeps$'
}

@test "20 containers, an exec in each, all killed: every exit comes, with walks of all children only as a safety net" {
	requires_e2e
	start_daemon --metrics-interval 1s
	wait_for reported_after 0
	local t0 s0 k lines
	s0=$(sweeps)
	t0=$(date +%s)
	for k in $(seq 1 20); do
		start_container "r$k" "${SLEEP_ARGS[@]}"
		run -0 ctr containers exec --id "r$k" --pid e --attach true
	done
	for k in $(seq 1 20); do
		run -0 ctr containers kill --signal 9 "r$k"
	done
	for k in $(seq 1 20); do
		wait_exit "r$k" 137
		has_event exit "r$k" e 0 || fail "r$k: the exec's exit is missing"
	done
	lines=$(wc -l <"$T/daemon.log")
	wait_for reported_after "$lines"
	local secs=$(($(date +%s) - t0 + 1)) n
	n=$(($(sweeps) - s0))
	echo "# $n walks in $secs s for 40 shims and their runtime calls" >&3
	# The safety net walks at most once per 2 s; by SIGCHLD, with no
	# shim or runtime call waited for by pid, there were 100 and more.
	[ "$n" -le $((secs / 2 + 10)) ] || fail "$n walks of all children in $secs s"
	# No zombie is left among the daemon's children.
	wait_for no_zombie_children
}

no_zombie_children() {
	! ps -o stat= --ppid "$DAEMON_PID" | grep -q '^Z'
}
