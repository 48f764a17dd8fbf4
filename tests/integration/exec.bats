#!/usr/bin/env bats
# ctr containers exec: a second process in a running container, through its
# own shim; its output, status, events, signals and name.

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

@test "exec --attach: output and exit status come back; start-process and exit events name it" {
	start_container ex1 "${SLEEP_ARGS[@]}"

	run -0 ctr containers exec --id ex1 --pid hello --attach echo hello from exec
	assert_eq "$output" "hello from exec" "output"

	run -3 ctr containers exec --id ex1 --pid three --attach sh -c 'echo out; exit 3'
	assert_eq "$output" out "output"

	wait_event exit ex1 hello 0
	wait_event exit ex1 three 3
	has_event start-process ex1 hello 0
	has_event start-process ex1 three 0
	# Each exit comes after its own start.
	[ "$(event_seq start-process ex1 three)" -lt "$(event_seq exit ex1 three)" ] ||
		fail "exit of three before its start-process"

	run -0 ctr events --timestamp 2000-01-01T00:00:00Z --stored-only --id ex1
	echo "$output"
	ctr_has_event "$output" start-process ex1 three 0
	ctr_has_event "$output" exit ex1 three 3

	# The execs are over; the container runs on with its init only.
	assert_eq "$(db "SELECT exit_status FROM processes WHERE container_id = 'ex1' AND pid = 'three'")" \
		3 "processes.exit_status"
	wait_for eval '[ "$(ctr_processes ex1)" = init ]'
	assert_eq "$(ctr_status ex1)" running "container status"
}

@test "exec --cwd --env --uid --gid: the process gets them" {
	start_container ex2 "${SLEEP_ARGS[@]}"

	run -0 ctr containers exec --id ex2 --pid env1 --attach --cwd /tmp \
		-e PATH=/bin -e GREETING=hi -e OTHER=x --uid 1000 --gid 1001 \
		sh -c 'echo "$GREETING $OTHER"; pwd; id -u; id -g'
	assert_eq "${lines[0]}" "hi x" "env"
	assert_eq "${lines[1]}" /tmp "cwd"
	assert_eq "${lines[2]}" 1000 "uid"
	assert_eq "${lines[3]}" 1001 "gid"

	# Without --env a default PATH is given, so a bare command name runs.
	run -0 ctr containers exec --id ex2 --pid env2 --attach sh -c 'echo "$PATH"'
	assert_match "$output" '(^|:)/bin(:|$)'
}

@test "exec detached: listed with its pid while it runs, and State shows it" {
	start_container ex3 "${SLEEP_ARGS[@]}"

	run -0 ctr containers exec --id ex3 --pid sleeper sleep 1000
	wait_for process_listed ex3 sleeper
	pid=$(exec_system_pid ex3 sleeper)
	[ -n "$pid" ] && [ "$pid" -gt 0 ] || fail "no systemPid for sleeper: '$pid'"
	pid_alive "$pid"
	assert_eq "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "sleep 1000 " "cmdline of $pid"

	run -0 ctr containers state ex3
	assert_eq "$(jq -r '.containers[0].processes[] | select(.pid == "sleeper") | .args | join(" ")' <<<"$output")" \
		"sleep 1000" "State args"
	assert_eq "$(jq -r '.containers[0].pids | length' <<<"$output")" 2 "State pids"
}

@test "containers kill --pid NAME --signal KILL: the exec exits 137, init runs on" {
	start_container ex4 "${SLEEP_ARGS[@]}"
	init=$(init_pid ex4)

	run -0 ctr containers exec --id ex4 --pid victim sleep 1000
	wait_for process_listed ex4 victim
	pid=$(exec_system_pid ex4 victim)

	run -0 ctr containers kill --pid victim --signal KILL ex4
	wait_event exit ex4 victim 137
	wait_for pid_gone "$pid"
	wait_for process_not_listed ex4 victim

	pid_alive "$init"
	assert_eq "$(ctr_status ex4)" running "container status"
	assert_eq "$(event_count exit ex4 init)" 0 "init exit events"
}

@test "containers kill -p NAME -s SIGTERM: a trapping exec exits 143" {
	start_container ex5 "${SLEEP_ARGS[@]}"

	run -0 ctr containers exec --id ex5 --pid trapper \
		sh -c 'trap "exit 143" TERM; touch /tmp/exec-trapped; while true; do sleep 1; done'
	wait_for test -e "$BUNDLE/rootfs/tmp/exec-trapped"

	run -0 ctr containers kill -p trapper -s SIGTERM ex5
	wait_event exit ex5 trapper 143
}

@test "exec leaving a background child: its exit still comes, with its status" {
	start_container ex6 "${SLEEP_ARGS[@]}"

	# Detached: the exit event comes though `sleep` lives on.
	run -0 ctr containers exec --id ex6 --pid bg sh -c 'sleep 1000 & echo $! >/tmp/bgpid; exit 7'
	wait_event exit ex6 bg 7
	wait_for process_not_listed ex6 bg

	# Attached: ctr ends with the status although the child holds stdout.
	SECONDS=0
	CTR_TIMEOUT=15 run -7 ctr containers exec --id ex6 --pid bga --attach \
		sh -c 'sleep 1000 & echo started; exit 7'
	assert_eq "$output" started "output"
	[ "$SECONDS" -lt 10 ] || fail "ctr took ${SECONDS}s to return"
	wait_event exit ex6 bga 7

	# The background children are still there, in the container.
	run -0 ctr containers exec --id ex6 --pid ps --attach sh -c 'kill -0 "$(cat /tmp/bgpid)" && echo alive'
	assert_eq "$output" alive "the detached exec's child"
	assert_eq "$(ctr_status ex6)" running "container status"
}

@test "exec with a name in use: refused (already exists); the first runs on; reusable once it exited" {
	start_container ex7 "${SLEEP_ARGS[@]}"

	run -0 ctr containers exec --id ex7 --pid twin sleep 1000
	wait_for process_listed ex7 twin
	pid=$(exec_system_pid ex7 twin)

	run ctr containers exec --id ex7 --pid twin echo second
	[ "$status" -ne 0 ] || fail "a second exec named twin was accepted: $output"
	assert_match "$output" 'already|exists|in use'
	assert_eq "$(exec_system_pid ex7 twin)" "$pid" "the first twin's pid"
	pid_alive "$pid"
	assert_eq "$(event_count start-process ex7 twin)" 1 "start-process events for twin"

	# "init" is the container's own process.
	run ctr containers exec --id ex7 --pid init echo no
	[ "$status" -ne 0 ] || fail "an exec named init was accepted"

	run -0 ctr containers kill -p twin -s 9 ex7
	wait_event exit ex7 twin 137
	wait_for process_not_listed ex7 twin
	run -0 ctr containers exec --id ex7 --pid twin --attach echo again
	assert_eq "$output" again "output of the reused name"
}

@test "exec into an unknown container or a missing command: a clear error, nothing recorded" {
	start_container ex8 "${SLEEP_ARGS[@]}"

	run ctr containers exec --id no-such-ctr --pid p echo x
	[ "$status" -ne 0 ] || fail "exec into no-such-ctr succeeded"
	assert_match "$output" 'no such container|not found'

	run ctr containers exec --id ex8 --pid nocmd /no/such/binary
	[ "$status" -ne 0 ] || fail "exec of /no/such/binary succeeded"
	assert_match "$output" 'no such file|not found|executable'
	assert_eq "$(ctr_processes ex8)" init "processes"
	assert_eq "$(ctr_status ex8)" running "container status"
}

@test "init killed while an exec runs: the exec's exit event comes before the init's" {
	start_container ex9 "${SLEEP_ARGS[@]}"
	run -0 ctr containers exec --id ex9 --pid inner sleep 1000
	wait_for process_listed ex9 inner

	# SIGKILL to pid 1 of the namespace takes every process of it down.
	run -0 ctr containers kill -s KILL ex9
	wait_exit ex9 137
	wait_event exit ex9 inner 137
	a=$(event_seq exit ex9 inner)
	b=$(event_seq exit ex9 init)
	[ "$a" -lt "$b" ] || fail "exit of inner (seq $a) after the init's (seq $b)"
	wait_for container_not_listed ex9
}
