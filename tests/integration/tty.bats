#!/usr/bin/env bats
# Terminals: `exec --tty` and `terminal: true` bundles get a pty through the
# runtime's console socket; ctr (under script(1) or tmux, so it has a local
# terminal) relays it, passes its window size on and exits with the status.

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
	if [ -n "${TMUX_SOCK:-}" ] && [ -S "$TMUX_SOCK" ]; then
		tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
	fi
	teardown_common
}

# in_pty CMD: run the shell command CMD under script(1): a pty of its own,
# output on stdout with \r removed; fails with CMD's status.
in_pty() {
	local rc=0
	timeout -k 5 30 script -qec "$1" /dev/null </dev/null >"$T/pty.out" 2>&1 || rc=$?
	tr -d '\r' <"$T/pty.out"
	return "$rc"
}

# Waits (bounded) inside the container until the pty has ROWS COLS; ctr
# applies its window size just after the process started.
wait_size_sh() {
	echo "k=0; while [ \"\$(stty size 2>/dev/null)\" != \"$1 $2\" ] && [ \$k -lt 100 ]; do k=\$((k+1)); sleep 0.05; done"
}

@test "exec --tty under a pty: tty answers /dev/pts/N, the status is ctr's" {
	requires_tool script util-linux
	start_container tt1 "${SLEEP_ARGS[@]}"
	run -0 in_pty "$CTR_BIN --address $SOCK containers exec --id tt1 --pid t --attach --tty sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo both-ttys'; echo \"rc=\$?\""
	echo "$output"
	assert_match "$output" '/dev/pts/[0-9]+$'
	assert_contains "$output" both-ttys
	assert_contains "$output" "rc=0"
	assert_eq "$(db "SELECT terminal FROM processes WHERE container_id = 'tt1' AND pid = 't'")" 1 \
		"processes.terminal"

	run -0 in_pty "$CTR_BIN --address $SOCK containers exec --id tt1 --pid t4 -a -t sh -c 'exit 4'; echo \"rc=\$?\""
	assert_contains "$output" "rc=4"
	wait_event exit tt1 t4 4
}

@test "exec --tty takes the local window size (stty rows 33 cols 99)" {
	requires_tool script util-linux
	start_container tt2 "${SLEEP_ARGS[@]}"
	run -0 in_pty "stty rows 33 cols 99; $CTR_BIN --address $SOCK containers exec --id tt2 --pid sz -a -t sh -c '$(wait_size_sh 33 99); stty size'"
	echo "$output"
	assert_contains "$output" "33 99"
}

@test "exec --tty under tmux: a window resize reaches the process (SIGWINCH -> UpdateProcess)" {
	requires_tool tmux tmux
	start_container tt3 "${SLEEP_ARGS[@]}"
	TMUX_SOCK=$T/tmux.sock
	rm -f "$BUNDLE/rootfs/tmp/size"
	tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s t -x 80 -y 24 \
		"$CTR_BIN --address $SOCK containers exec --id tt3 --pid win -a -t sh -c 'while true; do stty size >/tmp/size.new; mv /tmp/size.new /tmp/size; sleep 0.05; done'"
	size() { cat "$BUNDLE/rootfs/tmp/size" 2>/dev/null; }
	pane() { tmux -S "$TMUX_SOCK" display -p -t t '#{pane_height} #{pane_width}'; }
	first=$(pane)
	wait_for eval '[ "$(size)" = "$first" ]'

	tmux -S "$TMUX_SOCK" resize-window -t t -x 100 -y 30
	second=$(pane)
	[ "$second" != "$first" ] || fail "tmux did not resize its pane ($first)"
	wait_for eval '[ "$(size)" = "$second" ]'

	tmux -S "$TMUX_SOCK" kill-server
	run -0 ctr containers kill -p win -s KILL tt3
	wait_event exit tt3 win 137
}

@test "UpdateProcess width/height resizes a tty exec" {
	requires grpcio
	start_container tt4 "${SLEEP_ARGS[@]}"
	mkfifo "$T/tty4.out"
	cat "$T/tty4.out" >"$T/tty4.txt" &
	BG_PIDS+=($!)
	run -0 grpc_call AddProcess "$(jq -cn --arg out "$T/tty4.out" --arg sh "$(wait_size_sh 42 111); stty size; tty" \
		'{id: "tt4", pid: "rs", terminal: true, args: ["sh", "-c", $sh], cwd: "/",
		  env: ["PATH=/bin"], stdout: $out}')"
	run -0 grpc_call UpdateProcess '{"id": "tt4", "pid": "rs", "width": 111, "height": 42}'
	wait_event exit tt4 rs 0
	wait_for file_has "$T/tty4.txt" /dev/pts/
	run cat "$T/tty4.txt"
	assert_contains "$output" "42 111"
	assert_match "$output" '/dev/pts/[0-9]+'
}

@test "a terminal: true bundle started with --attach under a pty: tty answers, exit status comes back" {
	requires_tool script util-linux
	make_bundle tt5 --tty sh -c 'tty; exit 6'
	run -0 in_pty "$CTR_BIN --address $SOCK containers start --attach tt5 $BUNDLE; echo \"rc=\$?\""
	echo "$output"
	assert_match "$output" '/dev/pts/[0-9]+$'
	assert_contains "$output" "rc=6"
	wait_exit tt5 6
}

@test "a terminal: true container with a 64-character id (Docker's), its console socket path too long for an address, starts" {
	requires_tool script util-linux
	local id
	id=$(printf 'c%.0s' {1..64})
	make_bundle long --tty sh -c 'tty; exit 3'
	# <state>/_containers/<id>/init/console.sock: past the 108 bytes of a
	# socket address even under a short /tmp.
	local sockpath="$CDIR/$id/init/console.sock"
	[ "${#sockpath}" -gt 108 ] || skip "the state dir's path is too short to test this"
	run -0 in_pty "$CTR_BIN --address $SOCK containers start --attach $id $BUNDLE; echo \"rc=\$?\""
	echo "$output"
	assert_match "$output" '/dev/pts/[0-9]+$'
	assert_contains "$output" "rc=3"
	wait_exit "$id" 3
	echo "# console socket path of ${#sockpath} bytes; started, tty, exit 3" >&3
}
