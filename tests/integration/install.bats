#!/usr/bin/env bats
# make install / make uninstall into a DESTDIR under the test's temp root:
# every file, its mode and the links; the man pages as man reads them and
# against --help; the bash completions in bash; the systemd units, verified
# and then run as systemd runs them: the installed daemon started from the
# socket unit's fd (LISTEN_FDS, LISTEN_PID) with the unit's own ExecStart.

load helpers

setup_file() {
	setup_base_bundle
}

setup() {
	setup_common
	D=$T/dest
}

teardown() {
	teardown_common
}

MANFLAGS=$REPO/tests/integration/manflags.py

# do_install [MAKEVAR=VALUE...]: make install into $D.
do_install() {
	run -0 make --no-print-directory -s -C "$REPO" install DESTDIR="$D" "$@"
}

# The files `make install` puts under DESTDIR with the default PREFIX:
# path, mode, type (f file, l link) and a link's target.
EXPECTED="usr/local/bin/containerd 755 f
usr/local/bin/containerd-shim 755 f
usr/local/bin/containerd-state 755 f
usr/local/bin/ctr 755 f
usr/local/bin/docker-containerd 777 l containerd
usr/local/bin/docker-containerd-ctr 777 l ctr
usr/local/bin/docker-containerd-shim 777 l containerd-shim
usr/local/lib/systemd/system/containerd.service 644 f
usr/local/lib/systemd/system/containerd.socket 644 f
usr/local/share/bash-completion/completions/containerd 644 f
usr/local/share/bash-completion/completions/containerd-state 644 f
usr/local/share/bash-completion/completions/ctr 644 f
usr/local/share/man/man1/containerd-state.1 644 f
usr/local/share/man/man1/ctr.1 644 f
usr/local/share/man/man8/containerd.8 644 f"

# listing DIR: every entry but the directories, as in EXPECTED.
listing() {
	(cd "$1" && find . ! -type d -printf '%P %m %y %l\n' | sed 's/ $//' | LC_ALL=C sort)
}

PAGES=(usr/local/share/man/man8/containerd.8 usr/local/share/man/man1/ctr.1
	usr/local/share/man/man1/containerd-state.1)

@test "make install: the programs, the docker-containerd links, man pages, completions and units, each with its mode; PREFIX moves them all; the programs are bin/'s" {
	requires daemon ctr shim
	do_install
	run -0 listing "$D"
	echo "$output"
	assert_eq "$output" "$EXPECTED" "installed files"
	for p in containerd containerd-shim containerd-state ctr; do
		cmp "$REPO/bin/$p" "$D/usr/local/bin/$p" || fail "$p differs from bin/$p"
	done
	# The links resolve, beside their programs.
	run -0 "$D/usr/local/bin/docker-containerd-ctr" --help
	assert_contains "$output" "Usage: ctr"
	grep -qx 'ExecStart=/usr/local/bin/containerd --listen fd://' \
		"$D/usr/local/lib/systemd/system/containerd.service" || fail "ExecStart not in /usr/local/bin"
	# Twice is the same (the links are replaced, not nested).
	do_install
	run -0 listing "$D"
	assert_eq "$output" "$EXPECTED" "installed twice"
	echo "# figure: $(wc -l <<<"$EXPECTED") files installed, modes and links as listed" >&3

	rm -rf "$D"
	do_install PREFIX=/usr
	run -0 listing "$D"
	assert_eq "$output" "$(sed 's|^usr/local/|usr/|' <<<"$EXPECTED")" "PREFIX=/usr"
	grep -qx 'ExecStart=/usr/bin/containerd --listen fd://' \
		"$D/usr/lib/systemd/system/containerd.service" || fail "ExecStart not in /usr/bin"
}

@test "make uninstall removes exactly what install wrote: other files beside them stay" {
	requires daemon ctr shim
	mkdir -p "$D/usr/local/bin" "$D/usr/local/share/man/man1"
	echo other >"$D/usr/local/bin/other-tool"
	echo other >"$D/usr/local/share/man/man1/other.1"
	do_install
	run -0 listing "$D"
	[ "${#lines[@]}" -eq $(($(wc -l <<<"$EXPECTED") + 2)) ] || fail "install: $output"
	run -0 make --no-print-directory -s -C "$REPO" uninstall DESTDIR="$D"
	run -0 listing "$D"
	echo "$output"
	assert_eq "$output" "usr/local/bin/other-tool 644 f
usr/local/share/man/man1/other.1 644 f" "left after uninstall"
	# A second uninstall finds nothing to remove and does not fail.
	run -0 make --no-print-directory -s -C "$REPO" uninstall DESTDIR="$D"
}

@test "man pages: man -l renders each installed page without a warning, and finds it by name under the installed MANPATH" {
	requires daemon ctr
	command -v man >/dev/null || skip "needs man (man-db)"
	do_install
	for p in "${PAGES[@]}"; do
		# groff's own warnings (-ww), then man's rendering with them on.
		run -0 groff -man -ww -z "$D/$p"
		assert_eq "$output" "" "groff warnings for $p"
		run -0 --separate-stderr env MANWIDTH=80 MANPAGER=cat man --warnings -l "$D/$p"
		assert_eq "$stderr" "" "man warnings for $p"
		for s in NAME SYNOPSIS DESCRIPTION OPTIONS "SEE ALSO"; do
			assert_contains "$output" "$s"
		done
		echo "# figure: man -l $(basename "$p"): ${#lines[@]} lines, no warning" >&3
	done
	run -0 env MANPATH="$D/usr/local/share/man" man -w containerd
	assert_eq "$output" "$D/usr/local/share/man/man8/containerd.8"
	run -0 env MANPATH="$D/usr/local/share/man" man -w 1 ctr
	assert_eq "$output" "$D/usr/local/share/man/man1/ctr.1"
	run -0 env MANPATH="$D/usr/local/share/man" MANPAGER=cat MANWIDTH=80 man containerd-state
	assert_contains "$output" "containerd-state - read containerd's database"
	assert_contains "$output" "--state-dir DIR"
}

@test "man pages list exactly the commands, usage lines and flags that --help does (a flag missing from a page fails)" {
	requires daemon ctr
	do_install
	run -0 "$PY" "$MANFLAGS" "$D/usr/local/share/man/man8/containerd.8" "$D/usr/local/bin/containerd"
	echo "# figure: $output" >&3
	run -0 "$PY" "$MANFLAGS" "$D/usr/local/share/man/man1/ctr.1" "$D/usr/local/bin/ctr"
	echo "# figure: $output" >&3
	run -0 "$PY" "$MANFLAGS" --inherit-root "$D/usr/local/share/man/man1/containerd-state.1" \
		"$D/usr/local/bin/containerd-state"
	echo "# figure: $output" >&3
	# The check itself: a page without one flag, or with a verb's usage
	# line changed, is a difference.
	awk '/^\\fB\\-\\-no\\-pivot/ { getline; next } { print }' \
		"$D/usr/local/share/man/man1/ctr.1" >"$T/drift.1"
	run -1 "$PY" "$MANFLAGS" "$T/drift.1" "$D/usr/local/bin/ctr"
	assert_eq "$output" "ctr containers start: --no-pivot in --help, not in the page"
	sed '/^\.SS .*replay/s/ \[\\-\\-until T\]$//' \
		"$D/usr/local/share/man/man1/containerd-state.1" >"$T/drift2.1"
	run -1 "$PY" "$MANFLAGS" --inherit-root "$T/drift2.1" "$D/usr/local/bin/containerd-state"
	assert_contains "$output" "containerd-state replay: usage"
}

# complete PROG FILE WORDS...: what FILE's completion offers for the last
# word of WORDS (PROG's function), one a line.
complete_words() {
	local prog=$1 file=$2
	shift 2
	bash --norc --noprofile -c 'source "$1" || exit 1
		fn=$(complete -p "$2" | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
		[ -n "$fn" ] || { echo "no completion for $2"; exit 1; }
		shift 2
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		"$fn"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$file" "$prog" "$@"
}

@test "bash completion: each installed file loads in bash and completes verbs, flags, and skips a flag's value" {
	requires daemon ctr
	command -v bash >/dev/null || skip "needs bash"
	do_install
	C=$D/usr/local/share/bash-completion/completions
	for p in containerd ctr containerd-state; do
		run -0 bash --norc --noprofile -n "$C/$p"
	done
	run -0 complete_words ctr "$C/ctr" ctr cont
	assert_eq "$output" containers
	run -0 complete_words ctr "$C/ctr" ctr --address /x containers st
	assert_eq "$output" "start
stop
stats
state" "ctr containers st"
	run -0 complete_words ctr "$C/ctr" ctr containers start --check
	assert_eq "$output" "--checkpoint
--checkpoint-dir"
	# After a flag that takes a value: nothing of ours (bash completes files).
	run -0 complete_words ctr "$C/ctr" ctr --address ""
	assert_eq "$output" ""
	# Every verb of every group of --help is offered.
	for g in "" containers checkpoints; do
		want=$("$CTR_BIN" $g --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { on = 0 } on { print $1 }')
		run -0 complete_words ctr "$C/ctr" ctr $g ""
		assert_eq "$output" "$want" "verbs of ctr $g"
	done
	run -0 complete_words containerd "$C/containerd" containerd --state
	assert_eq "$output" --state-dir
	run -0 complete_words containerd-state "$C/containerd-state" containerd-state --db x.db ev
	assert_eq "$output" events
	run -0 complete_words containerd-state "$C/containerd-state" containerd-state events --si
	assert_eq "$output" --since
	echo "# figure: completions load; ctr cont -> containers, ctr containers start --check -> 2 flags" >&3
}

@test "systemd units: systemd-analyze verify passes (man:containerd(8) found in the install); KillMode=process, the socket starts the service" {
	requires daemon
	do_install
	U=$D/usr/local/lib/systemd/system
	grep -qx 'KillMode=process' "$U/containerd.service" || fail "no KillMode=process"
	grep -qx 'Requires=containerd.socket' "$U/containerd.service" || fail "service does not require the socket"
	grep -qx 'ListenStream=/run/containerd/containerd.sock' "$U/containerd.socket" || fail "socket path"
	grep -qx 'WantedBy=sockets.target' "$U/containerd.socket" || fail "socket not wanted by sockets.target"
	command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed (the systemd package): units not verified"
	# Verified where the programs are: the ExecStart path under DESTDIR.
	mkdir -p "$T/units"
	for u in containerd.service containerd.socket; do
		sed "s|/usr/local/bin/|$D/usr/local/bin/|" "$U/$u" >"$T/units/$u"
	done
	run -0 --separate-stderr env MANPATH="$D/usr/local/share/man" systemd-analyze verify \
		"$T/units/containerd.socket" "$T/units/containerd.service"
	echo "$output$stderr"
	assert_eq "$output$stderr" "" "systemd-analyze verify"
	echo "# figure: systemd-analyze verify: no complaint" >&3
}

# unit_value FILE KEY: KEY's value in the unit FILE.
unit_value() {
	sed -n "s/^$2=//p" "$1"
}

# start_unit: the installed daemon as containerd.socket + containerd.service
# start it: the socket unit's ListenStream (made private: $SOCK) is bound
# first; the unit's ExecStart, its program taken from DESTDIR, runs with the
# socket as fd 3 (LISTEN_FDS=1, LISTEN_PID its pid) and a private state dir
# and runc root. systemd-socket-activate starts it on the first connection,
# as systemd does; without it (or with SOCKET_ACTIVATE=none), sockact.py
# starts it at once.
SOCKET_ACTIVATE=${SOCKET_ACTIVATE:-systemd-socket-activate}
start_unit() {
	local exec argv
	exec=$(unit_value "$D/usr/local/lib/systemd/system/containerd.service" ExecStart)
	read -ra argv <<<"$exec"
	argv[0]=$D${argv[0]}
	[ -x "${argv[0]}" ] || fail "ExecStart program ${argv[0]} not installed"
	rm -f "$SOCK"
	if command -v "$SOCKET_ACTIVATE" >/dev/null; then
		DAEMON_ARGV=("$SOCKET_ACTIVATE" --listen="$SOCK" --fdname=containerd.socket
			"${argv[@]}" --state-dir "$STATE" --runtime-args "--root=$RUNC_ROOT")
	else
		DAEMON_ARGV=("$PY" "$REPO/tests/integration/sockact.py" "unix:$SOCK" --
			"${argv[@]}" --state-dir "$STATE" --runtime-args "--root=$RUNC_ROOT")
	fi
	echo "# start: ${DAEMON_ARGV[*]}" >>"$T/daemon.log"
	"${DAEMON_ARGV[@]}" >>"$T/daemon.log" 2>&1 3>&- &
	DAEMON_PID=$!
	if [ "${DAEMON_ARGV[0]}" = "$SOCKET_ACTIVATE" ]; then
		# Listening, and nothing has connected yet: no daemon runs.
		wait_for grep -qF "Listening on $SOCK as 3." "$T/daemon.log"
		ON_DEMAND=1
	else
		wait_for sock_accepts "$SOCK"
		ON_DEMAND=
	fi
}

@test "socket activation as installed: the first connection to containerd.socket starts the unit's ExecStart, which runs a container; a restart with KillMode=process leaves it running" {
	requires_e2e
	do_install
	U=$D/usr/local/lib/systemd/system
	listen=$(unit_value "$U/containerd.socket" ListenStream)
	assert_eq "$listen" /run/containerd/containerd.sock "ListenStream"
	SOCK=$T/run/containerd.sock
	mkdir -p "$T/run" "$STATE"
	start_unit
	if [ -n "$ON_DEMAND" ]; then
		[ "$(readlink "/proc/$DAEMON_PID/exe")" != "$D/usr/local/bin/containerd" ] ||
			fail "the daemon ran before any connection"
	fi
	# The first call is what starts the daemon: it waits in the queue.
	t0=$(date +%s%N)
	run -0 timeout 60 "$CTR_BIN" --address "$SOCK" --conn-timeout 30s version
	t1=$(date +%s%N)
	echo "# figure: first call answered $(((t1 - t0) / 1000000)) ms after it connected${ON_DEMAND:+ (the daemon started by it)}" >&3
	assert_eq "$(readlink "/proc/$DAEMON_PID/exe")" "$D/usr/local/bin/containerd" "the daemon"
	tr '\0' '\n' <"/proc/$DAEMON_PID/environ" | grep -qx 'LISTEN_FDS=1' || fail "no LISTEN_FDS=1"
	grep -q "listening on fd 3 from systemd ($SOCK)" "$T/daemon.log" || fail "not serving fd 3"

	start_container web "${SLEEP_ARGS[@]}"
	pid=$(init_pid web)
	shim=$(db "SELECT shim_pid FROM processes WHERE container_id = 'web'")
	assert_eq "$(readlink "/proc/$shim/exe")" "$D/usr/local/bin/containerd-shim" "the shim beside it"

	# systemctl restart with KillMode=process: SIGTERM to the main process
	# alone; the socket is made again and the next connection starts it.
	assert_eq "$(unit_value "$U/containerd.service" KillMode)" process "KillMode"
	stop_daemon -TERM
	assert_eq "$DAEMON_STATUS" 0 "the daemon's exit status"
	pid_alive "$shim" || fail "the shim died with the daemon"
	assert_eq "$(runc_status web)" running "web after the stop"
	start_unit
	run -0 timeout 60 "$CTR_BIN" --address "$SOCK" --conn-timeout 30s containers
	echo "$output"
	assert_eq "$(ctr_status web)" running "web after the restart"
	assert_eq "$(init_pid web)" "$pid" "web's init pid"
	run -0 ctr containers kill --signal KILL web
	wait_exit web 137
	echo "# figure: web (init $pid) ran on through the restart, then exited 137 on KILL" >&3
}
