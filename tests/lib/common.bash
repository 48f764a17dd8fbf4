#!/usr/bin/env bash
# What every bats suite of this repository asserts and waits with, sourced
# by tests/integration/helpers.bash and tests/compat/docker_helpers.bash.

# ---------------------------------------------------------------- asserting

fail() {
	echo "FAIL: $*" >&2
	return 1
}

# assert_contains HAYSTACK NEEDLE
assert_contains() {
	[[ "$1" == *"$2"* ]] || fail "expected to find '$2' in: $1"
}

# assert_not_contains HAYSTACK NEEDLE
assert_not_contains() {
	[[ "$1" != *"$2"* ]] || fail "did not expect '$2' in: $1"
}

# assert_match HAYSTACK ERE (grep -E, case-insensitive)
assert_match() {
	grep -Eqi -- "$2" <<<"$1" || fail "expected /$2/ in: $1"
}

# assert_eq GOT WANT [WHAT]
assert_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: got '$1', want '$2'"
}

# figure TEXT: one line of what a test measured, on bats' fd 3.
figure() {
	echo "# $*" >&3
}

# ---------------------------------------------------------------- waiting

# wait_for [-t SECONDS] CMD...: retry CMD every 0.1 s until it succeeds;
# fails (with CMD in the message) after SECONDS*10 tries (default
# $WAIT_TIMEOUT s): a slow CMD on a busy machine stretches the wait rather
# than failing a test that would have passed.
wait_for() {
	local t=${WAIT_TIMEOUT:-20}
	if [ "$1" = -t ]; then
		t=$2
		shift 2
	fi
	local tries=$((t * 10)) k
	for ((k = 0; k < tries; k++)); do
		"$@" && return 0
		sleep 0.1
	done
	fail "timed out after ${t}s waiting for: $*"
}

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
	local st
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	# Without a fork (it is polled): the state is the field after "(comm) ".
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	st=${st%% *}
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

pid_gone() {
	! pid_alive "$1"
}

# now_ms: milliseconds since the epoch.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# ms_since NS: milliseconds since NS (date +%s%N).
ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}
