#!/usr/bin/env bats
# tools/mkbundle: the busybox OCI bundle maker.

load helpers

setup() {
	requires busybox jq runc
	setup_common
}

teardown() {
	teardown_common
}

@test "mkbundle DIR ARGS: rootfs with busybox and its applets, config.json edited" {
	run -0 "$MKBUNDLE" "$T/b" sh -c 'echo "a b"' -x
	[ -x "$T/b/rootfs/bin/busybox" ] && [ ! -L "$T/b/rootfs/bin/busybox" ]
	for a in sh ls sleep cat; do
		[ "$(readlink "$T/b/rootfs/bin/$a")" = busybox ] || fail "no applet link for $a"
	done
	n=$(/bin/busybox --list | wc -l)
	links=$(find "$T/b/rootfs/bin" -type l | wc -l)
	[ "$links" -ge $((n - 1)) ] || fail "$links applet links for $n applets"
	for d in proc sys dev tmp etc; do
		[ -d "$T/b/rootfs/$d" ] || fail "no /$d"
	done
	grep -q '^root:x:0:0:' "$T/b/rootfs/etc/passwd"
	grep -q '^root:x:0:' "$T/b/rootfs/etc/group"
	assert_eq "$(jq -c .process.args "$T/b/config.json")" '["sh","-c","echo \"a b\"","-x"]' "args"
	assert_eq "$(jq -c .process.terminal "$T/b/config.json")" false "terminal"
	assert_eq "$(jq -c .root "$T/b/config.json")" '{"path":"rootfs","readonly":false}' "root"
}

@test "mkbundle DIR: args default to sh" {
	run -0 "$MKBUNDLE" "$T/b"
	assert_eq "$(jq -c .process.args "$T/b/config.json")" '["sh"]' "args"
}

@test "mkbundle --tty --memory: terminal and memory limit" {
	run -0 "$MKBUNDLE" --tty --memory 67108864 "$T/b" sleep 5
	assert_eq "$(jq -c .process.terminal "$T/b/config.json")" true "terminal"
	assert_eq "$(jq -c .linux.resources.memory.limit "$T/b/config.json")" 67108864 "memory limit"
	assert_eq "$(jq -c .process.args "$T/b/config.json")" '["sleep","5"]' "args"
	run "$MKBUNDLE" --memory lots "$T/c"
	[ "$status" -ne 0 ]
	assert_contains "$output" lots
}

@test "mkbundle is idempotent: run twice, the second args win" {
	run -0 "$MKBUNDLE" "$T/b" sleep 1
	run -0 "$MKBUNDLE" "$T/b" echo hi
	assert_eq "$(jq -c .process.args "$T/b/config.json")" '["echo","hi"]' "args"
	[ ! -e "$T/b/config.json.tmp" ]
}

@test "mkbundle --help, and usage errors" {
	run -0 "$MKBUNDLE" --help
	assert_contains "$output" "usage:"
	run "$MKBUNDLE"
	[ "$status" -ne 0 ]
	assert_contains "$output" "DIR"
}

@test "mkbundle without busybox-static says what to install" {
	run env BUSYBOX=/nonexistent/busybox "$MKBUNDLE" "$T/b"
	[ "$status" -ne 0 ]
	assert_contains "$output" "install busybox-static"
}

@test "a mkbundle bundle runs under runc: ls / prints the rootfs" {
	requires root
	"$MKBUNDLE" "$T/b" ls / >/dev/null
	run -0 timeout 30 "$RUNC" --root "$RUNC_ROOT" run --bundle "$T/b" mkb-$$ </dev/null
	for d in bin etc proc tmp; do
		grep -qx "$d" <<<"$output" || fail "'$d' missing from: $output"
	done
}
