#!/usr/bin/env bats
# Containers through ctr: start, list, kill, exit statuses, stdio.

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

@test "containers start: the container runs and is listed as running" {
	make_bundle c1 "${SLEEP_ARGS[@]}"
	run -0 ctr containers start c1 "$BUNDLE"

	run -0 ctr containers
	echo "$output"
	# Header then one row: ID PATH STATUS PROCESSES
	assert_match "${lines[0]}" '^ID[[:space:]]+PATH[[:space:]]+STATUS[[:space:]]+PROCESSES'
	row=$(awk '$1 == "c1"' <<<"$output")
	[ -n "$row" ] || fail "c1 not listed"
	assert_eq "$(awk '{ print $2 }' <<<"$row")" "$BUNDLE" "PATH"
	assert_eq "$(awk '{ print $3 }' <<<"$row")" running "STATUS"

	# runc agrees, and the init pid is a live process on the host.
	assert_eq "$(runc_status c1)" running "runc status"
	pid=$(init_pid c1)
	pid_alive "$pid"
}

@test "containers start: several containers are listed, each once" {
	for k in 1 2 3; do
		start_container "multi$k" "${SLEEP_ARGS[@]}"
	done
	run -0 ctr containers
	for k in 1 2 3; do
		n=$(awk -v id="multi$k" '$1 == id' <<<"$output" | wc -l)
		assert_eq "$n" 1 "rows for multi$k"
	done
	assert_eq "$(runc_list | sort | tr '\n' ' ')" "multi1 multi2 multi3 " "runc list"
}

@test "containers kill --signal 9: exit status 137, the container leaves the list" {
	start_container k9 "${SLEEP_ARGS[@]}"
	pid=$(init_pid k9)

	run -0 ctr containers kill --signal 9 k9
	wait_exit k9 137
	wait_for pid_gone "$pid"
	wait_for container_not_listed k9

	# The rows stay, stopped, with the real status.
	assert_eq "$(db "SELECT status FROM containers WHERE id = 'k9'")" stopped "containers.status"
	assert_eq "$(db "SELECT exit_status FROM processes WHERE container_id = 'k9' AND pid = 'init'")" \
		137 "processes.exit_status"
	# runc no longer knows it (the daemon ran runc delete).
	wait_for eval '! runc_list | grep -qxF k9'
}

@test "containers kill (default SIGTERM) of a trapping shell: exit status 143" {
	start_container trap1 "${TRAP_ARGS[@]}"
	wait_for test -e "$BUNDLE/rootfs/tmp/trapped"

	run -0 ctr containers kill trap1
	wait_exit trap1 143

	t0=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
	run -0 ctr events --timestamp "$t0" --stored-only --id trap1
	echo "$output"
	ctr_has_event "$output" exit trap1 init 143
	assert_eq "$(db "SELECT exit_status FROM processes WHERE container_id = 'trap1' AND pid = 'init'")" \
		143 "processes.exit_status"
	wait_for container_not_listed trap1
}

@test "containers kill --pid init --signal 15: explicit flags work the same" {
	start_container trap2 "${TRAP_ARGS[@]}"
	wait_for test -e "$BUNDLE/rootfs/tmp/trapped"
	run -0 ctr containers kill --pid init --signal 15 trap2
	wait_exit trap2 143
}

@test "a container whose init exits by itself: exit event with its code" {
	make_bundle ex7 sh -c 'exit 7'
	# It may be gone before ctr returns; either way the exit must be recorded.
	run ctr containers start ex7 "$BUNDLE"
	echo "$output"
	wait_exit ex7 7
	wait_for container_not_listed ex7
	assert_eq "$(db "SELECT status FROM containers WHERE id = 'ex7'")" stopped "containers.status"
}

@test "ls / through a stdout fifo (CreateContainer stdout = a fifo)" {
	requires grpcio
	make_bundle ls1 ls /
	mkfifo "$T/out.fifo"
	cat "$T/out.fifo" >"$T/out.txt" 3>&- &
	cat_pid=$!
	BG_PIDS+=("$cat_pid")

	run -0 grpc_call CreateContainer \
		"{\"id\": \"ls1\", \"bundlePath\": \"$BUNDLE\", \"stdout\": \"$T/out.fifo\"}"
	wait_exit ls1 0
	# cat sees EOF once the shim closed the fifo.
	wait_for pid_gone "$cat_pid"
	cat "$T/out.txt"
	for d in bin dev etc proc sys tmp; do
		grep -qx "$d" "$T/out.txt" || fail "'$d' missing from ls / output"
	done
}

@test "stdout and stderr fifos each get their own stream" {
	requires grpcio
	make_bundle io1 sh -c 'echo to-out; echo to-err >&2'
	mkfifo "$T/out.fifo" "$T/err.fifo"
	cat "$T/out.fifo" >"$T/out.txt" 3>&- &
	p1=$!
	cat "$T/err.fifo" >"$T/err.txt" 3>&- &
	p2=$!
	BG_PIDS+=("$p1" "$p2")

	run -0 grpc_call CreateContainer "{\"id\": \"io1\", \"bundlePath\": \"$BUNDLE\",
		\"stdout\": \"$T/out.fifo\", \"stderr\": \"$T/err.fifo\"}"
	wait_exit io1 0
	wait_for pid_gone "$p1"
	wait_for pid_gone "$p2"
	assert_eq "$(cat "$T/out.txt")" to-out "stdout"
	assert_eq "$(cat "$T/err.txt")" to-err "stderr"
}

@test "empty stdio paths mean a log: a chatty container runs fine and its output is kept" {
	make_bundle chatty sh -c 'echo hello; echo oops >&2; exit 3'
	run ctr containers start chatty "$BUNDLE"
	wait_exit chatty 3
	run -0 --separate-stderr ctr containers logs chatty
	assert_eq "$output" hello "stdout"
	assert_eq "$stderr" oops "stderr"
}

@test "containers start --attach prints the container's output (ls /)" {
	make_bundle ls2 ls /
	run -0 timeout 30 "$CTR_BIN" --address "$SOCK" containers start --attach ls2 "$BUNDLE"
	echo "$output"
	for d in bin etc proc tmp; do
		grep -qx "$d" <<<"$output" || fail "'$d' missing from attached output"
	done
	wait_exit ls2 0
}

@test "containers start --label: labels are stored, one row each" {
	make_bundle lab "${SLEEP_ARGS[@]}"
	run -0 ctr containers start --label tier=web --label owner=ops lab "$BUNDLE"
	run -0 db "SELECT label FROM labels WHERE container_id = 'lab' ORDER BY label"
	assert_eq "$(tr '\n' ' ' <<<"$output")" "owner=ops tier=web " "labels"
}

@test "a running container has one running init process row with its host pid" {
	start_container p1 "${SLEEP_ARGS[@]}"
	pid=$(init_pid p1)
	run -0 db "SELECT pid, system_pid, status FROM processes WHERE container_id = 'p1'"
	assert_eq "$output" "init|$pid|running" "processes row"
	shim=$(db "SELECT shim_pid FROM processes WHERE container_id = 'p1'")
	[ "$shim" -gt 0 ] || fail "no shim_pid recorded"
	pid_alive "$shim"
}

@test "containers kill of a container that already stopped fails, naming it" {
	start_container gone "${SLEEP_ARGS[@]}"
	run -0 ctr containers kill --signal 9 gone
	wait_exit gone 137
	wait_for container_not_listed gone
	run ctr containers kill --signal 9 gone
	[ "$status" -ne 0 ]
	assert_match "$output" 'gone'
	assert_match "$output" 'no such container|not found'
}

@test "shims and containers are gone once every container exited" {
	start_container s1 "${SLEEP_ARGS[@]}"
	start_container s2 "${SLEEP_ARGS[@]}"
	shims=$(db "SELECT shim_pid FROM processes WHERE shim_pid > 0")
	run -0 ctr containers kill --signal 9 s1
	run -0 ctr containers kill --signal 9 s2
	wait_exit s1 137
	wait_exit s2 137
	for p in $shims; do
		wait_for pid_gone "$p"
	done
	wait_for eval '[ -z "$(runc_list)" ]'
}
