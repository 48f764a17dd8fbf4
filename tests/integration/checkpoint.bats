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
# of $T/fake-runc.fail when that file exists, after waiting (10 s at most)
# while $T/fake-runc.hold exists; `restore` becomes `run`
# without the CRIU options; every other verb goes to runc unchanged.
make_fake_runc() {
	FAKE_RUNC=$T/fake-runc
	cat >"$FAKE_RUNC" <<EOF
#!/bin/bash
log=$T/fake-runc.log
failfile=$T/fake-runc.fail
holdfile=$T/fake-runc.hold
runc=$(command -v "$RUNC")
EOF
	cat >>"$FAKE_RUNC" <<'EOF'
echo "$*" >>"$log"
args=("$@")
for ((x = 0; x < ${#args[@]}; x++)); do
	case ${args[x]} in
	checkpoint)
		# Held while $T/fake-runc.hold exists (bounded: never for ever).
		for ((w = 0; w < 200; w++)); do
			[ -e "$holdfile" ] || break
			sleep 0.05
		done
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
	# The runtime's (criu's) own words, not a generic failure; CRIU's log
	# goes with the failed checkpoint's directory, so its last errors are
	# quoted and no path in the error names a file that is gone.
	assert_match "$output" 'criu'
	assert_contains "$output" cp1
	assert_contains "$output" "criu's log (removed with the failed attempt) ended: "
	assert_match "$output" "ended: .*Error \\("
	while read -r p; do
		[ -z "$p" ] || [ -e "$p" ] || fail "the error names $p, which is gone: $output"
	done < <(grep -oE "$T/[^ :;,\"'|)]+" <<<"$output" || true)

	assert_eq "$(list_rows cpf)" "" "checkpoints listed"
	assert_eq "$(checkpoint_rows cpf)" 0 "checkpoints rows"
	[ ! -e "$BUNDLE/checkpoints/cp1" ] || fail "$BUNDLE/checkpoints/cp1 left behind"
	assert_eq "$(ctr_status cpf)" running "container status"
	assert_eq "$(init_pid cpf)" "$pid" "init pid"
	pid_alive "$pid"

	echo "# the real runtime's failure: $output" >&3

	# Same with --exit: a failed checkpoint does not stop the container.
	run ctr checkpoints create --exit cpf cp2
	[ "$status" -ne 0 ] || fail "checkpoint --exit succeeded though criu check fails"
	assert_eq "$(ctr_status cpf)" running "container status after --exit"
	pid_alive "$pid"

	# In a --checkpoint-dir: neither DIR/NAME nor the config.json is left.
	mkdir -p "$T/cpdir"
	run ctr checkpoints create --checkpoint-dir "$T/cpdir/sub" cpf cp3
	[ "$status" -ne 0 ] || fail "checkpoint into $T/cpdir succeeded though criu check fails"
	assert_match "$output" 'criu'
	assert_eq "$(ls -A "$T/cpdir")" "" "left in $T/cpdir"
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

@test "checkpoints --checkpoint-dir DIR (fake runtime): the checkpoint is DIR/NAME as in 2017, restored and deleted there" {
	make_fake_runc
	start_fake cpd "${SLEEP_ARGS[@]}"
	dir=$T/cpdir
	mkdir -p "$dir"
	echo keep >"$dir/not-ours"

	run -0 ctr checkpoints create --checkpoint-dir "$dir" cpd elsewhere
	[ -f "$dir/elsewhere/fake.img" ] || fail "no image in $dir/elsewhere: $(find "$dir")"
	[ -f "$dir/elsewhere/config.json" ] || fail "no config.json in $dir/elsewhere"
	[ ! -e "$dir/checkpoints" ] || fail "written under $dir/checkpoints, not DIR/NAME"
	[ ! -e "$BUNDLE/checkpoints/elsewhere" ] || fail "written into the bundle too"
	line=$(grep -E '(^| )checkpoint ' "$T/fake-runc.log")
	assert_contains "$line" "--image-path $dir/elsewhere --work-path $dir/elsewhere/criu.work"
	assert_eq "$(list_rows cpd --checkpoint-dir "$dir" | awk '{ print $1 }')" elsewhere "listed in $dir"
	assert_eq "$(list_rows cpd)" "" "listed in the bundle's dir"
	assert_eq "$(db "SELECT path FROM checkpoints WHERE container_id = 'cpd'")" "$dir/elsewhere" "checkpoints.path"

	run -0 ctr containers start --runtime "$FAKE_RUNC" --checkpoint-dir "$dir" --checkpoint elsewhere cpd2 "$BUNDLE"
	wait_for container_running cpd2
	line=$(grep -E '(^| )restore ' "$T/fake-runc.log")
	assert_contains "$line" "--image-path $dir/elsewhere "
	echo "# DIR/NAME: $(cd "$dir" && find . -mindepth 1 | sort | tr '\n' ' ')" >&3
	run -0 ctr containers kill -s KILL cpd2
	wait_exit cpd2 137

	run -0 ctr checkpoints delete --checkpoint-dir "$dir" cpd elsewhere
	[ ! -e "$dir/elsewhere" ] || fail "$dir/elsewhere still there"
	assert_eq "$(cat "$dir/not-ours")" keep "$dir/not-ours"
	assert_eq "$(list_rows cpd --checkpoint-dir "$dir")" "" "listed after delete"
	assert_eq "$(checkpoint_rows cpd)" 0 "checkpoints rows"
}

@test "checkpoints create writes NAME/config.json in the 2017 format (runtime.Checkpoint's JSON)" {
	make_fake_runc
	start_fake cpj "${SLEEP_ARGS[@]}"
	before=$(date +%s)

	run -0 ctr checkpoints create --tcp --unix-sockets --shell --empty-ns network cpj full
	run -0 ctr checkpoints create cpj plain
	cfg=$BUNDLE/checkpoints/full/config.json
	[ -f "$cfg" ] || fail "no $cfg"
	echo "# full/config.json: $(cat "$cfg")" >&3
	echo "# plain/config.json: $(cat "$BUNDLE/checkpoints/plain/config.json")" >&3
	# The members and their order as Go's encoder wrote runtime.Checkpoint.
	assert_eq "$(jq -c keys_unsorted "$cfg")" '["created","name","tcp","unixSockets","shell","exit","emptyNS"]' "members"
	assert_eq "$(jq -c '[.name, .tcp, .unixSockets, .shell, .exit, .emptyNS]' "$cfg")" '["full",true,true,true,false,["network"]]' "values"
	# emptyNS is omitempty; everything else is always there.
	assert_eq "$(jq -c . "$BUNDLE/checkpoints/plain/config.json" | jq -c 'del(.created)')" \
		'{"name":"plain","tcp":false,"unixSockets":false,"shell":false,"exit":false}' "plain"
	# created: RFC 3339 in UTC, nanoseconds without trailing zeros, now.
	created=$(jq -r .created "$cfg")
	assert_match "$created" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]*[1-9])?Z$'
	secs=$(date -d "$created" +%s)
	[ "$secs" -ge "$before" ] && [ "$secs" -le "$(date +%s)" ] || fail "created $created is not now"
	# A file Docker reads, not a secret: 0644 in a 0700 directory.
	assert_eq "$(stat -c %a "$cfg")" 644 "config.json mode"
	assert_eq "$(stat -c %a "$BUNDLE/checkpoints/full")" 700 "checkpoint dir mode"
}

# copied_checkpoint DIR NAME JSON: a checkpoint as another host left it:
# DIR/NAME with an image file and JSON as its config.json.
copied_checkpoint() {
	mkdir -p "$1/$2"
	echo image >"$1/$2/pages-1.img"
	printf '%s\n' "$3" >"$1/$2/config.json"
}

@test "checkpoints list reads the directory: a checkpoint copied in is listed with its config.json's options; other entries are not" {
	start_container cpls "${SLEEP_ARGS[@]}"
	dir=$T/copied
	copied_checkpoint "$dir" moved '{"created":"2017-06-01T10:00:00.5+02:00","name":"moved","tcp":true,"unixSockets":false,"shell":true,"exit":true,"emptyNS":["network"]}'
	copied_checkpoint "$dir" bare '{"name":"bare"}'
	mkdir -p "$dir/no-config" "$dir/bad-config"
	echo '[1, 2' >"$dir/bad-config/config.json"
	echo x >"$dir/a-file"
	ln -s moved "$dir/a-link"
	mkfifo "$dir/moved2"

	run -0 ctr checkpoints list --checkpoint-dir "$dir" cpls
	echo "$output"
	echo "# listed from $dir (name tcp unix-sockets shell): $(awk 'NR > 1 { printf "%s %s %s %s; ", $1, $2, $3, $4 }' <<<"$output")" >&3
	assert_eq "$(list_rows cpls --checkpoint-dir "$dir" | awk '{ print $1, $2, $3, $4 }')" \
		"$(printf 'bare false false false\nmoved true false true')" "listed"
	assert_eq "$(checkpoint_rows cpls)" 0 "checkpoints rows (the directory is the truth)"
	grep -q "bad-config not listed: its config.json is not a JSON object" "$T/daemon.log" ||
		fail "no log line about bad-config"

	# The bundle's own folder likewise.
	copied_checkpoint "$BUNDLE/checkpoints" here '{"name":"here","unixSockets":true}'
	assert_eq "$(list_rows cpls | awk '{ print $1, $2, $3, $4 }')" "here false true false" "listed in the bundle"
	# No folder at all: none, not an error.
	assert_eq "$(list_rows cpls --checkpoint-dir "$T/nowhere")" "" "listed in a missing dir"
	[ ! -e "$T/nowhere" ] || fail "listing made $T/nowhere"
}

@test "containers start --checkpoint passes the options of the checkpoint's config.json to runtime restore (fake runtime)" {
	make_fake_runc
	make_bundle cpo "${SLEEP_ARGS[@]}"
	dir=$T/moved
	copied_checkpoint "$dir" all '{"created":"2017-06-01T10:00:00Z","name":"all","tcp":true,"unixSockets":true,"shell":true,"exit":false,"emptyNS":["network"]}'
	copied_checkpoint "$dir" none '{"created":"2017-06-01T10:00:00Z","name":"none","tcp":false,"unixSockets":false,"shell":false,"exit":false}'

	run -0 ctr containers start --runtime "$FAKE_RUNC" --checkpoint-dir "$dir" --checkpoint all cpo1 "$BUNDLE"
	wait_for container_running cpo1
	run -0 ctr containers start --runtime "$FAKE_RUNC" --checkpoint-dir "$dir" --checkpoint none cpo2 "$BUNDLE"
	wait_for container_running cpo2
	all=$(grep -E '(^| )restore .*cpo1$' "$T/fake-runc.log")
	none=$(grep -E '(^| )restore .*cpo2$' "$T/fake-runc.log")
	echo "# restore of all: ${all#* restore }" >&3
	echo "# restore of none: ${none#* restore }" >&3
	for f in --tcp-established --ext-unix-sk --shell-job "--empty-ns network" "--image-path $dir/all "; do
		assert_contains "$all" "$f"
	done
	for f in --tcp-established --ext-unix-sk --shell-job --empty-ns; do
		assert_not_contains "$none" "$f"
	done
	assert_contains "$none" "--image-path $dir/none "

	# A config.json that is not one: the restore fails saying so, nothing runs.
	copied_checkpoint "$dir" broken '{"tcp":"yes"}'
	run ctr containers start --runtime "$FAKE_RUNC" --checkpoint-dir "$dir" --checkpoint broken cpo3 "$BUNDLE"
	echo "# broken: $output" >&3
	[ "$status" -ne 0 ] || fail "restored from a broken config.json"
	assert_contains "$output" "$dir/broken/config.json"
	assert_contains "$output" '"tcp"'
	wait_for container_not_listed cpo3
	assert_eq "$(runc_list | grep -c cpo3)" 0 "cpo3 in runc"

	# Round trip: what create wrote, restore reads.
	run -0 ctr checkpoints create --tcp --empty-ns network cpo1 trip
	run -0 ctr containers start --runtime "$FAKE_RUNC" --checkpoint trip cpo5 "$BUNDLE"
	wait_for container_running cpo5
	trip=$(grep -E '(^| )restore .*cpo5$' "$T/fake-runc.log")
	assert_contains "$trip" "--tcp-established --empty-ns network"
	assert_not_contains "$trip" --shell-job
}

@test "checkpoints delete removes only DIR/NAME, and only a checkpoint" {
	start_container cprm "${SLEEP_ARGS[@]}"
	dir=$T/del
	copied_checkpoint "$dir" copied '{"name":"copied"}'
	copied_checkpoint "$T/elsewhere" target '{"name":"target"}'
	mkdir -p "$dir/not-a-checkpoint"
	echo precious >"$dir/not-a-checkpoint/data"
	ln -s "$T/elsewhere/target" "$dir/link"
	echo keep >"$dir/keep"

	run ctr checkpoints delete --checkpoint-dir "$dir" cprm not-a-checkpoint
	echo "# a folder without config.json: $output" >&3
	[ "$status" -ne 0 ] || fail "deleted a folder that is not a checkpoint"
	assert_contains "$output" "is not a checkpoint"
	assert_eq "$(cat "$dir/not-a-checkpoint/data")" precious "not-a-checkpoint/data"

	run ctr checkpoints delete --checkpoint-dir "$dir" cprm link
	echo "# a symlink: $output" >&3
	[ "$status" -ne 0 ] || fail "deleted through a symlink"
	assert_contains "$output" "symlink"
	[ -L "$dir/link" ] && [ -f "$T/elsewhere/target/config.json" ] || fail "the link or its target was harmed"

	run ctr checkpoints delete --checkpoint-dir "$dir" cprm never
	[ "$status" -ne 0 ] || fail "deleted a checkpoint that is not there"
	assert_match "$output" 'no checkpoint'

	for name in '' . .. ../del a/b /abs '..'/keep; do
		run ctr checkpoints delete --checkpoint-dir "$dir" cprm "$name"
		[ "$status" -ne 0 ] || fail "delete of '$name' accepted"
		assert_contains "$output" "checkpoint name"
	done

	# A checkpoint copied in (not made here) is removed, and only it.
	run -0 ctr checkpoints delete --checkpoint-dir "$dir" cprm copied
	[ ! -e "$dir/copied" ] || fail "$dir/copied still there"
	assert_eq "$(cd "$dir" && ls -A | sort | tr '\n' ' ')" "keep link not-a-checkpoint " "left in $dir"
	echo "# left in DIR after the deletes: $(cd "$dir" && ls -A | sort | tr '\n' ' ')" >&3
	assert_eq "$(cat "$dir/keep")" keep "keep"
}

@test "one name in two checkpoint dirs (fake runtime): both made and deleted apart; the table keeps the last made, an old one without config.json is listed from it; the history replays" {
	make_fake_runc
	start_fake cpt "${SLEEP_ARGS[@]}"
	a=$T/dir-a b=$T/dir-b

	run -0 ctr checkpoints create --checkpoint-dir "$a" cpt x
	run -0 ctr checkpoints create --tcp --checkpoint-dir "$b" cpt x
	assert_eq "$(list_rows cpt --checkpoint-dir "$a" | awk '{ print $1, $2 }')" "x false" "listed in A"
	assert_eq "$(list_rows cpt --checkpoint-dir "$b" | awk '{ print $1, $2 }')" "x true" "listed in B"
	assert_eq "$(db "SELECT path FROM checkpoints WHERE container_id = 'cpt'")" "$b/x" "the row: the last made"
	run -0 ctr checkpoints delete --checkpoint-dir "$a" cpt x
	[ ! -e "$a/x" ] && [ -f "$b/x/config.json" ] || fail "delete in A: $(find "$a" "$b")"
	assert_eq "$(db "SELECT path FROM checkpoints WHERE container_id = 'cpt'")" "$b/x" "the row after deleting A's"
	run -0 ctr checkpoints delete --checkpoint-dir "$b" cpt x
	assert_eq "$(checkpoint_rows cpt)" 0 "rows after deleting B's"

	# Made by an earlier version of this daemon: no config.json, a row.
	run -0 ctr checkpoints create --shell cpt old
	rm "$BUNDLE/checkpoints/old/config.json"
	assert_eq "$(list_rows cpt | awk '{ print $1, $2, $3, $4 }')" "old false false true" "listed from the row"
	run -0 ctr checkpoints delete cpt old
	[ ! -e "$BUNDLE/checkpoints/old" ] || fail "old not removed"
	assert_eq "$(checkpoint_rows cpt)" 0 "rows after deleting old"

	run "$REPO/bin/containerd-state" --state-dir "$STATE" replay
	echo "# replay after the checkpoints: $(tail -n1 <<<"$output")" >&3
	[ "$status" -eq 0 ] || fail "containerd-state replay: $output"
	assert_eq "$(db "SELECT group_concat(type || ':' || pid, ' ') FROM events WHERE type LIKE '%checkpoint'")" \
		"create-checkpoint:x create-checkpoint:x delete-checkpoint:x create-checkpoint:old delete-checkpoint:old" "checkpoint events"
}

@test "a checkpoint being made (fake runtime held): its delete and a second create are refused, the first completes" {
	make_fake_runc
	start_fake cph "${SLEEP_ARGS[@]}"
	touch "$T/fake-runc.hold"
	ctr checkpoints create cph held >"$T/held.out" 2>&1 &
	held_pid=$!
	wait_for grep -q "checkpoint .*$BUNDLE/checkpoints/held" "$T/fake-runc.log"

	run ctr checkpoints delete cph held
	echo "# delete while it is made: $output" >&3
	[ "$status" -ne 0 ] || fail "deleted a checkpoint being made"
	assert_contains "$output" "is being made"
	run ctr checkpoints create cph held
	echo "# a second create meanwhile: $output" >&3
	[ "$status" -ne 0 ] || fail "a second create of held succeeded"
	assert_contains "$output" "is being made"
	[ -f "$BUNDLE/checkpoints/held/config.json" ] || fail "the first one's config.json is gone"

	rm "$T/fake-runc.hold"
	wait "$held_pid" || fail "the held create failed: $(cat "$T/held.out")"
	[ -f "$BUNDLE/checkpoints/held/fake.img" ] || fail "no image after the held create"
	assert_eq "$(list_rows cph | awk '{ print $1 }')" held "listed"
	run -0 ctr checkpoints delete cph held
}

@test "checkpoints create that fails (fake runtime) in a new --checkpoint-dir leaves nothing behind" {
	make_fake_runc
	start_fake cpnb "${SLEEP_ARGS[@]}"
	echo "refused for the test" >"$T/fake-runc.fail"
	mkdir -p "$T/base"

	run ctr checkpoints create --checkpoint-dir "$T/base/new/deeper" cpnb cp1
	[ "$status" -ne 0 ] || fail "checkpoint succeeded: $output"
	assert_contains "$output" "refused for the test"
	assert_eq "$(ls -A "$T/base")" "" "left in $T/base"
	echo "# left in base after a failed checkpoint into base/new/deeper/cp1: '$(ls -A "$T/base")'" >&3

	# A dir that is a file: a clear error, the file untouched.
	rm -f "$T/fake-runc.fail"
	echo file >"$T/base/file"
	run ctr checkpoints create --checkpoint-dir "$T/base/file" cpnb cp2
	[ "$status" -ne 0 ] || fail "checkpoint into a file succeeded"
	assert_contains "$output" "Not a directory"
	assert_eq "$(cat "$T/base/file")" file "the file"
	assert_eq "$(checkpoint_rows cpnb)" 0 "checkpoints rows"
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
	assert_eq "$(jq -c '[.name, .exit]' "$BUNDLE/checkpoints/real/config.json")" '["real",true]' "config.json"
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
