#!/usr/bin/env bats
# The README's walk-through, run exactly as it is printed (readme_walk.sh:
# each line unchanged, in a private mount namespace so /run/containerd,
# /run/runc and /tmp are the run's own), then every step's output checked.
# A change to the README that breaks the walk-through, or a change to a verb
# that breaks the README, fails here.

load helpers

setup_file() {
	requires root runc busybox sqlite3 daemon ctr shim
	W=$REPO/build/readme-walk.$$
	rm -rf "$W"
	mkdir -p "$W"
	export W
	local t0=$SECONDS
	"$REPO/tests/integration/readme_walk.sh" "$W" >"$W/walk.log" 2>&1
	echo "$?" >"$W/walk.rc"
	echo "$((SECONDS - t0))" >"$W/walk.secs"
}

teardown_file() {
	[ -n "${W:-}" ] && rm -rf "$W"
}

# step PATTERN: the number of the first step whose line contains PATTERN
# (after step $2 when given).
step() {
	local k n after=${2:-0}
	n=$(cat "$W/count")
	for ((k = after + 1; k <= n; k++)); do
		if grep -qF -- "$1" "$W/$k.cmd"; then
			echo "$k"
			return 0
		fi
	done
	echo "no step contains: $1" >&2
	return 1
}

show() {
	local k=$1
	echo "step $k: $(cat "$W/$k.cmd")"
	echo "  rc $(cat "$W/$k.rc")"
	sed 's/^/  out: /' "$W/$k.out"
	sed 's/^/  err: /' "$W/$k.err" | head -20
}

# ok_step K: the step exited 0.
ok_step() {
	show "$1"
	[ "$(cat "$W/$1.rc")" = 0 ]
}

@test "readme: the walk-through runs to its end, every step exiting 0" {
	cat "$W/walk.log"
	[ "$(cat "$W/walk.rc")" = 0 ]
	n=$(cat "$W/count")
	echo "# $n steps in $(cat "$W/walk.secs") s" >&3
	[ "$n" -ge 12 ]
	for ((k = 1; k <= n; k++)); do
		ok_step "$k"
	done
}

@test "readme: start says where the output goes, and logs has it, also after the stop" {
	k=$(step "containers start web")
	show "$k"
	grep -q "ctr containers logs web" "$W/$k.err"
	k=$(step "containers logs web")
	show "$k"
	[ "$(cat "$W/$k.out")" = hello ]
	k=$(step "containers logs web" "$k")
	show "$k"
	[ "$(cat "$W/$k.out")" = hello ]
}

@test "readme: the listings show web running, then stopped with its status" {
	k=$(step "ctr containers  ")
	show "$k"
	grep -Eq '^web +/tmp/web +running' "$W/$k.out"
	k=$(step "containers --all")
	show "$k"
	grep -Eq '^web .*stopped\(137\)' "$W/$k.out"
}

@test "readme: exec, pause, resume, update and stats do what the comments say" {
	k=$(step "--attach ls /")
	show "$k"
	grep -qx bin "$W/$k.out"
	grep -qx proc "$W/$k.out"
	k=$(step "containers stats web")
	show "$k"
	grep -q "CPU" "$W/$k.out"
	grep -q "67108864\|64.0 *MiB\|64 *MiB" "$W/$k.out"
}

@test "readme: the live events and the history agree, and sqlite3 reads the table" {
	k=$(step "ctr events &")
	show "$k"
	for t in start-process pause resume exit; do
		grep -q " $t " "$W/$k.out"
	done
	grep -Eq ' exit +web +init +137' "$W/$k.out"
	k=$(step "--stored-only")
	show "$k"
	for t in start-container start-process pause resume exit; do
		grep -q " $t " "$W/$k.out"
	done
	k=$(step "sqlite3 ")
	show "$k"
	grep -q '|start-container|web|' "$W/$k.out"
	grep -q '|exit|web|init|137|' "$W/$k.out"
}

@test "readme: rm forgets web" {
	k=$(step "containers rm web")
	show "$k"
	ok_step "$k"
	# Looked at once the walk-through ended: web is in no listing, its
	# history and its logs are gone.
	cat "$W/after-list.out" "$W/after-events.out" "$W/after-logs.out"
	! grep -q '^web ' "$W/after-list.out"
	[ "$(cat "$W/after-events.out")" = 0 ]
	! grep -qx web "$W/after-logs.out"
}
