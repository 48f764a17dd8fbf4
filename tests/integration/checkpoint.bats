#!/usr/bin/env bats
# ctr checkpoints create/list/delete and containers start --checkpoint.
#
# Where CRIU works (`criu check` passes) a real checkpoint is taken and
# restored. Where it does not, the real runtime's failure is checked, and
# the daemon's side (argv, bookkeeping, restore plumbing) is exercised with
# a fake runtime: a wrapper around runc that fakes `checkpoint` and turns
# `restore` into `run`.

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

# make_fake_runc: $T/fake-runc. It logs each argv to $T/fake-runc.log.
# `checkpoint` writes fake.img into its --image-path, or fails with the text
# of $T/fake-runc.fail when that file exists; `restore` becomes `run`
# without the CRIU options; every other verb goes to runc unchanged.
make_fake_runc() {
	FAKE_RUNC=$T/fake-runc
	cat >"$FAKE_RUNC" <<EOF
#!/bin/bash
log=$T/fake-runc.log
failfile=$T/fake-runc.fail
runc=$(command -v "$RUNC")
EOF
	cat >>"$FAKE_RUNC" <<'EOF'
echo "$*" >>"$log"
args=("$@")
for ((x = 0; x < ${#args[@]}; x++)); do
	case ${args[x]} in
	checkpoint)
		if [ -e "$failfile" ]; then
			echo "fake-runc: $(cat "$failfile")" >&2
			exit 1
		fi
		for ((y = x; y < ${#args[@]}; y++)); do
			[ "${args[y]}" = --image-path ] && img=${args[y + 1]}
		done
		echo fake >"$img/fake.img" || exit 1
		exit 0
		;;
	restore)
		out=("${args[@]:0:x}" run)
		for ((y = x + 1; y < ${#args[@]}; y++)); do
			case ${args[y]} in
			--image-path | --work-path | --empty-ns) y=$((y + 1)) ;;
			--tcp-established | --ext-unix-sk | --shell-job) ;;
			*) out+=("${args[y]}") ;;
			esac
		done
		exec "$runc" "${out[@]}"
		;;
	create | start | exec | kill | delete | state | update | pause | resume | ps | list | events)
		break
		;;
	esac
done
exec "$runc" "$@"
EOF
	chmod +x "$FAKE_RUNC"
}

# start_fake ID ARGS...: a container for ID run by the fake runtime.
start_fake() {
	local id=$1
	shift
	make_bundle "$id" "$@"
	run -0 ctr containers start --runtime "$FAKE_RUNC" "$id" "$BUNDLE"
	wait_for container_running "$id"
}

# checkpoint_rows ID: the checkpoints table rows of ID.
checkpoint_rows() {
	db "SELECT count(*) FROM checkpoints WHERE container_id = '$1'"
}

# list_rows ID [FLAGS]: `ctr checkpoints list` without its header.
list_rows() {
	local id=$1
	shift
	ctr checkpoints list "$@" "$id" | awk 'NR > 1'
}

@test "checkpoints create where CRIU cannot dump: the runtime's message, nothing recorded, the container runs on" {
	if criu_works; then
		skip "criu check passes here: the real checkpoint test covers this machine"
	fi
	start_container cpf "${SLEEP_ARGS[@]}"
	pid=$(init_pid cpf)

	run ctr checkpoints create cpf cp1
	echo "$output"
	[ "$status" -ne 0 ] || fail "checkpoint succeeded though criu check fails"
	# The runtime's (criu's) own words, not a generic failure.
	assert_match "$output" 'criu'
	assert_contains "$output" cp1

	assert_eq "$(list_rows cpf)" "" "checkpoints listed"
	assert_eq "$(checkpoint_rows cpf)" 0 "checkpoints rows"
	[ ! -e "$BUNDLE/checkpoints/cp1" ] || fail "$BUNDLE/checkpoints/cp1 left behind"
	assert_eq "$(ctr_status cpf)" running "container status"
	assert_eq "$(init_pid cpf)" "$pid" "init pid"
	pid_alive "$pid"

	# Same with --exit: a failed checkpoint does not stop the container.
	run ctr checkpoints create --exit cpf cp2
	[ "$status" -ne 0 ] || fail "checkpoint --exit succeeded though criu check fails"
	assert_eq "$(ctr_status cpf)" running "container status after --exit"
	pid_alive "$pid"
}

@test "checkpoints create refused by the runtime (fake): its message comes back, nothing recorded" {
	make_fake_runc
	start_fake cpr "${SLEEP_ARGS[@]}"
	echo "checkpoint refused for the test" >"$T/fake-runc.fail"

	run ctr checkpoints create cpr cp1
	[ "$status" -ne 0 ] || fail "checkpoint succeeded: $output"
	assert_contains "$output" "fake-runc: checkpoint refused for the test"
	assert_eq "$(list_rows cpr)" "" "checkpoints listed"
	assert_eq "$(checkpoint_rows cpr)" 0 "checkpoints rows"
	[ ! -e "$BUNDLE/checkpoints/cp1" ] || fail "$BUNDLE/checkpoints/cp1 left behind"
	assert_eq "$(ctr_status cpr)" running "container status"
}

@test "checkpoints create/list/delete (fake runtime): options reach the runtime and are listed; delete removes" {
	make_fake_runc
	start_fake cpl "${SLEEP_ARGS[@]}"

	run -0 ctr checkpoints create --tcp --shell cpl one
	run -0 ctr checkpoints create --unix-sockets --empty-ns network cpl two
	line=$(grep -E '(^| )checkpoint ' "$T/fake-runc.log" | grep -- "$BUNDLE/checkpoints/one" || true)
	[ -n "$line" ] || fail "no runtime checkpoint into $BUNDLE/checkpoints/one: $(cat "$T/fake-runc.log")"
	for f in --leave-running --tcp-established --shell-job cpl; do
		assert_contains "$line" "$f"
	done
	line=$(grep -- "$BUNDLE/checkpoints/two" "$T/fake-runc.log" | grep -E '(^| )checkpoint ')
	assert_contains "$line" --ext-unix-sk
	assert_contains "$line" "--empty-ns network"
	assert_not_contains "$line" --tcp-established
	[ -f "$BUNDLE/checkpoints/one/fake.img" ] || fail "no image in $BUNDLE/checkpoints/one"

	run -0 ctr checkpoints cpl
	echo "$output"
	assert_match "${lines[0]}" '^NAME[[:space:]]+TCP[[:space:]]+UNIX SOCKETS[[:space:]]+SHELL'
	assert_eq "$(awk '$1 == "one" { print $2, $3, $4 }' <<<"$output")" "true false true" "one"
	assert_eq "$(awk '$1 == "two" { print $2, $3, $4 }' <<<"$output")" "false true false" "two"
	assert_eq "$(checkpoint_rows cpl)" 2 "checkpoints rows"

	# A name in use is refused, the first one kept.
	run ctr checkpoints create cpl one
	[ "$status" -ne 0 ] || fail "a second checkpoint 'one' was accepted"
	assert_match "$output" 'already exists'
	[ -f "$BUNDLE/checkpoints/one/fake.img" ] || fail "the first 'one' was harmed"

	run -0 ctr checkpoints delete cpl one
	assert_eq "$(list_rows cpl | awk '{ print $1 }')" two "listed after delete"
	[ ! -e "$BUNDLE/checkpoints/one" ] || fail "$BUNDLE/checkpoints/one still there"
	assert_eq "$(checkpoint_rows cpl)" 1 "checkpoints rows"
	run ctr checkpoints delete cpl one
	[ "$status" -ne 0 ] || fail "deleting 'one' twice succeeded"
	assert_match "$output" 'no checkpoint|not found'
	assert_eq "$(ctr_status cpl)" running "container status"
}

@test "checkpoints --checkpoint-dir (fake runtime): written under DIR/checkpoints/NAME, listed and deleted there" {
	make_fake_runc
	start_fake cpd "${SLEEP_ARGS[@]}"
	dir=$T/cpdir
	mkdir -p "$dir"

	run -0 ctr checkpoints create --checkpoint-dir "$dir" cpd elsewhere
	[ -f "$dir/checkpoints/elsewhere/fake.img" ] || fail "no image under $dir/checkpoints/elsewhere"
	[ ! -e "$BUNDLE/checkpoints/elsewhere" ] || fail "written into the bundle too"
	assert_eq "$(list_rows cpd --checkpoint-dir "$dir" | awk '{ print $1 }')" elsewhere "listed in $dir"

	run -0 ctr checkpoints delete --checkpoint-dir "$dir" cpd elsewhere
	[ ! -e "$dir/checkpoints/elsewhere" ] || fail "$dir/checkpoints/elsewhere still there"
	assert_eq "$(list_rows cpd --checkpoint-dir "$dir")" "" "listed after delete"
}

@test "containers start --checkpoint (fake runtime): restored through the runtime's restore from the image path" {
	make_fake_runc
	start_fake cps sh -c 'touch /tmp/up; exec sleep 1000'
	run -0 ctr checkpoints create cps snap

	run -0 ctr containers start --runtime "$FAKE_RUNC" --checkpoint snap cps2 "$BUNDLE"
	wait_for container_running cps2
	line=$(grep -E '(^| )restore ' "$T/fake-runc.log" || true)
	echo "$line"
	[ -n "$line" ] || fail "the runtime was not asked to restore: $(cat "$T/fake-runc.log")"
	assert_contains "$line" "--image-path $BUNDLE/checkpoints/snap"
	assert_contains "$line" cps2
	assert_eq "$(runc_status cps2)" running "runc status"
	assert_eq "$(db "SELECT checkpoint FROM containers WHERE id = 'cps2'")" snap "containers.checkpoint"
	has_event start-container cps2 "" 0

	run -0 ctr containers kill -s KILL cps2
	wait_exit cps2 137
}

@test "containers start --checkpoint NAME that does not exist: an error naming it, nothing created" {
	make_bundle cpn "${SLEEP_ARGS[@]}"
	run ctr containers start --checkpoint nope cpn "$BUNDLE"
	[ "$status" -ne 0 ] || fail "started from a missing checkpoint"
	assert_contains "$output" nope
	assert_contains "$output" "$BUNDLE/checkpoints"
	assert_eq "$(runc_list)" "" "runc list"
	wait_for container_not_listed cpn
}

@test "checkpoints: bad names, unknown containers, unknown checkpoints are errors" {
	start_container cpe "${SLEEP_ARGS[@]}"
	for name in ../x 'a b' a/b ''; do
		run ctr checkpoints create cpe "$name"
		[ "$status" -ne 0 ] || fail "checkpoint name '$name' accepted"
	done
	[ ! -e "$T/x" ] || fail "../x escaped the bundle"
	run ctr checkpoints create no-such-ctr cp
	[ "$status" -ne 0 ] || fail "checkpoint of no-such-ctr succeeded"
	assert_match "$output" 'no such container|not found'
	run ctr checkpoints list no-such-ctr
	[ "$status" -ne 0 ] || fail "list of no-such-ctr succeeded"
	run ctr checkpoints delete cpe never-made
	[ "$status" -ne 0 ] || fail "delete of never-made succeeded"
	assert_match "$output" 'no checkpoint|not found'
	assert_eq "$(checkpoint_rows cpe)" 0 "checkpoints rows"
}

@test "checkpoint with CRIU: create, list, restore, delete" {
	requires_criu
	start_container cpc sh -c 'k=0; while true; do k=$((k+1)); echo $k >/tmp/count; sleep 0.1; done'
	wait_for test -s "$BUNDLE/rootfs/tmp/count"

	run -0 ctr checkpoints create --exit cpc real
	[ -d "$BUNDLE/checkpoints/real" ] || fail "no $BUNDLE/checkpoints/real"
	wait_for has_event_of exit cpc
	assert_eq "$(list_rows cpc | awk '{ print $1 }')" real "listed"
	count=$(cat "$BUNDLE/rootfs/tmp/count")

	run -0 ctr containers start --checkpoint real cpc2 "$BUNDLE"
	wait_for container_running cpc2
	# The restored loop goes on from where it was, not from 1.
	wait_for eval '[ "$(cat "$BUNDLE/rootfs/tmp/count")" -gt "$count" ]'

	run -0 ctr checkpoints delete cpc real
	[ ! -e "$BUNDLE/checkpoints/real" ] || fail "$BUNDLE/checkpoints/real still there"
	assert_eq "$(list_rows cpc)" "" "listed after delete"
}
