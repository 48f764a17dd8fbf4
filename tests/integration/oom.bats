#!/usr/bin/env bats
# OOM: a container over its memory limit is killed by the kernel; the shim's
# memory cgroup watch makes the daemon emit `oom`, then the exit comes.

load helpers

setup_file() {
	setup_base_bundle
}

setup() {
	requires_e2e
	requires cgroup-memory
	setup_common
	start_daemon
}

teardown() {
	teardown_common
}

# The hog doubles a shell string until the kernel kills it; it starts only
# once /tmp/go exists, so a test can subscribe first.
HOG='while [ ! -e /tmp/go ]; do sleep 0.05; done; x=a; while true; do x=$x$x; done'

# oom_bundle NAME: a bundle with a 16 MiB memory limit running the hog.
oom_bundle() {
	BUNDLE=$T/bundles/$1
	mkdir -p "$T/bundles"
	"$MKBUNDLE" --memory 16777216 "$BUNDLE" sh -c "$HOG" >/dev/null
}

@test "an OOM-killed container: oom then exit 137 events, in that order" {
	id=$(unique_id oom1)
	oom_bundle "$id"
	run -0 ctr containers start "$id" "$BUNDLE"
	pid=$(init_pid "$id")
	assert_eq "$(cgroup_file memory "$pid" memory.limit_in_bytes)" 16777216 "memory.limit_in_bytes"

	touch "$BUNDLE/rootfs/tmp/go"
	wait_exit "$id" 137
	has_event_of oom "$id" || fail "no oom event for $id"
	[ "$(first_event_seq oom "$id")" -lt "$(event_seq exit "$id" init)" ] ||
		fail "oom after the exit"
	# The kernel may notify more than once while the hog keeps allocating:
	# one event per notification, never none.
	[ "$(event_count oom "$id")" -ge 1 ] || fail "no oom event"
	wait_for container_not_listed "$id"

	run -0 ctr events --timestamp 2000-01-01T00:00:00Z --stored-only --id "$id"
	echo "$output"
	types=$(awk 'NR > 1 { print $2 }' <<<"$output" | uniq | tr '\n' ' ')
	assert_eq "$types" "start-container oom exit " "event types (repeated ooms folded)"

	# As the 2017 daemon sent them: start-container and oom carry no pid,
	# on the stream and in the history; replay reads them as the init's.
	rows=$(db "SELECT type || '/' || pid FROM events WHERE container_id = '$id'
		AND type IN ('start-container', 'oom') GROUP BY type, pid ORDER BY type")
	echo "# figure: start-container and oom (type/pid) rows: $(tr '\n' ' ' <<<"$rows")" >&3
	assert_eq "$(tr '\n' ' ' <<<"$rows")" "oom/ start-container/ " "pids of start-container and oom"
	run "$REPO/bin/containerd-state" --db "$DB" replay
	[ "$status" -eq 0 ] || fail "containerd-state replay: $output"
	# A database written before holds "init" there: replay accepts it too.
	db ".backup '$T/old.db'"
	sqlite3 "$T/old.db" "UPDATE events SET pid = 'init' WHERE type IN ('start-container', 'oom')"
	run "$REPO/bin/containerd-state" --db "$T/old.db" replay
	[ "$status" -eq 0 ] || fail "containerd-state replay of an older history: $output"
}

@test "containers watch: shows oom then exit and ends" {
	id=$(unique_id oom2)
	oom_bundle "$id"
	run -0 ctr containers start "$id" "$BUNDLE"

	ctr containers watch "$id" >"$T/watch.out" 2>"$T/watch.err" &
	watcher=$!
	BG_PIDS+=("$watcher")
	# The header comes once it subscribed.
	wait_for test -s "$T/watch.out"
	touch "$BUNDLE/rootfs/tmp/go"
	wait_exit "$id" 137

	wait_for pid_gone "$watcher"
	rc=0
	wait "$watcher" || rc=$?
	cat "$T/watch.out" "$T/watch.err"
	assert_eq "$rc" 0 "ctr containers watch status"
	types=$(awk 'NR > 1 { print $2 }' "$T/watch.out" | uniq | tr '\n' ' ')
	assert_eq "$types" "oom exit " "event types shown by watch"
	ctr_has_event "$(cat "$T/watch.out")" exit "$id" init 137
}

@test "no oom event for a container killed by a signal" {
	id=$(unique_id oom3)
	oom_bundle "$id"
	run -0 ctr containers start "$id" "$BUNDLE"
	run -0 ctr containers kill -s KILL "$id"
	wait_exit "$id" 137
	assert_eq "$(event_count oom "$id")" 0 "oom events"
}
