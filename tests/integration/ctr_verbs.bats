#!/usr/bin/env bats
# The verbs and listings people expect from ctr (issue 12): the listing
# sorted, filtered, quiet, as JSON, with CREATED; one container in detail;
# stop, wait, stats as a table; --version, --debug, CONTAINERD_ADDRESS,
# "did you mean", usage errors and exit statuses in --help.

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

# A container whose init ignores SIGTERM: only SIGKILL ends it.
IGNORE_TERM_ARGS=(sh -c 'trap "" TERM; touch /tmp/ready; while true; do sleep 1; done')

@test "containers: sorted by id, -q, --filter label=K[=V] and status=, CREATED, --format json" {
	for id in zeta alpha mid; do
		make_bundle "$id" "${SLEEP_ARGS[@]}"
		case $id in
		zeta) labels=(--label tier=front --label app=web) ;;
		alpha) labels=(--label tier=back) ;;
		*) labels=() ;;
		esac
		run -0 ctr containers start "${labels[@]}" "$id" "$BUNDLE"
	done
	wait_for container_running mid

	run -0 ctr containers
	echo "$output"
	assert_match "${lines[0]}" '^ID +PATH +STATUS +PROCESSES +CREATED$'
	assert_eq "$(awk 'NR > 1 { print $1 }' <<<"$output" | tr '\n' ' ')" "alpha mid zeta " "order"
	# The first four columns stay where scripts read them.
	assert_eq "$(awk '$1 == "mid" { print $3, $4 }' <<<"$output")" "running init" "STATUS PROCESSES"
	assert_match "$(awk '$1 == "mid"' <<<"$output")" 'init +(less than a second|[0-9]+ seconds?) ago$'

	run -0 ctr containers -q
	assert_eq "$(tr '\n' ' ' <<<"$output")" "alpha mid zeta " "-q"
	run -0 ctr containers -q --filter label=tier
	assert_eq "$(tr '\n' ' ' <<<"$output")" "alpha zeta " "label=tier"
	run -0 ctr containers list -q -f label=tier=front
	assert_eq "$output" zeta "label=tier=front"
	run -0 ctr containers -q -f label=tier -f label=app=web
	assert_eq "$output" zeta "two filters: both must match"
	run -0 ctr containers -q -f status=paused
	assert_eq "$output" "" "status=paused"
	run -2 ctr containers -f colour=red
	assert_contains "$output" 'invalid filter "colour=red"'

	# JSON: the State fields plus "created", the start-container event's
	# time exactly (the daemon's record).
	run -0 env TZ=UTC "$CTR_BIN" --address "$SOCK" containers --format json
	echo "$output"
	assert_eq "$(jq -r 'map(.id) | join(" ")' <<<"$output")" "alpha mid zeta" "json order"
	assert_eq "$(jq -r '.[] | select(.id == "zeta") | .labels | join(",")' <<<"$output")" \
		"tier=front,app=web" "json labels"
	created=$(jq -r '.[] | select(.id == "mid") | .created' <<<"$output")
	got=$(rfc3339_to_ns "$created")
	want=$(db "SELECT max(ts) FROM events WHERE type = 'start-container' AND container_id = 'mid'")
	assert_eq "$got" "$want" "created (ns) against the start-container row"
	echo "# figure: mid created $created = start-container row ts $want; listed $(( ($(date +%s%N) - got) / 1000000 )) ms later" >&3
	run -2 ctr containers --format yaml
}

@test "containers: CREATED of every container from one ListContainers call, no history replay per container" {
	for id in c1 c2 c3 c4; do
		make_bundle "$id" "${SLEEP_ARGS[@]}"
		run -0 ctr containers start "$id" "$BUNDLE"
	done
	wait_for container_running c4
	t0=$(date +%s%N)
	run -0 --separate-stderr "$CTR_BIN" --address "$SOCK" --debug containers
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "$output"
	echo "$stderr"
	# Before, each row's CREATED was a stored-only Events replay of its id:
	# 10,000 containers made 10,000 calls (1.7-2.7 s for 1,000-2,000).
	assert_eq "$(grep -c 'Events: stream opened' <<<"$stderr")" 0 "Events replays"
	assert_eq "$(awk 'NR > 1 && $5 == "?"' <<<"$output")" "" "an unknown CREATED"
	assert_eq "$(awk 'NR > 1' <<<"$output" | wc -l)" 4 "rows"
	echo "# figure: ctr containers of 4 in $ms ms, 0 Events replays, every CREATED known" >&3
}

@test "containers ID: one container in detail; unknown ID an error" {
	make_bundle one "${SLEEP_ARGS[@]}"
	run -0 ctr containers start --label app=one one "$BUNDLE"
	wait_for container_running one
	pid=$(init_pid one)

	run -0 ctr containers one
	echo "$output"
	assert_match "$output" '^ID: +one$'
	assert_match "$output" "^Bundle: +$BUNDLE\$"
	assert_match "$output" '^Status: +running$'
	assert_match "$output" '^Created: +[0-9]{4}-[0-9]{2}-[0-9]{2}T.* ago\)$'
	assert_match "$output" '^Labels: +app=one$'
	assert_match "$output" "^ +init +$pid +sleep 1000\$"

	run -0 ctr containers one --format json
	assert_eq "$(jq -r '.id + " " + .status + " " + (.processes[0].systemPid | tostring)' <<<"$output")" \
		"one running $pid" "json"
	run -1 ctr containers nosuch
	assert_match "$output" 'not found|no such container'
}

@test "containers stop -t 1: a TERM-ignoring init gets SIGKILL after 1 s (137); a trapping one exits at once (143)" {
	start_container termdeaf "${IGNORE_TERM_ARGS[@]}"
	wait_for test -e "$BUNDLE/rootfs/tmp/ready"
	t0=$(now_ms)
	run -0 ctr containers stop -t 1 termdeaf
	took=$(($(now_ms) - t0))
	echo "$output"
	echo "# figure: stop -t 1 of a TERM-ignoring init took $took ms: $output" >&3
	assert_contains "$output" "termdeaf: exit status 137"
	assert_contains "$output" SIGKILL
	[ "$took" -ge 1000 ] || fail "SIGKILL came before the timeout ($took ms)"
	[ "$took" -lt 8000 ] || fail "stop took $took ms"
	# Returned once the exit was recorded: the id is free at once.
	assert_eq "$(event_count exit termdeaf init)" 1 "exit rows"
	assert_eq "$(db "SELECT status FROM events WHERE type = 'exit' AND container_id = 'termdeaf'")" 137 "exit status"
	container_not_listed termdeaf || fail "termdeaf still listed after stop returned"

	start_container polite "${TRAP_ARGS[@]}"
	wait_for test -e "$BUNDLE/rootfs/tmp/trapped"
	t0=$(now_ms)
	run -0 ctr containers stop polite
	took=$(($(now_ms) - t0))
	echo "# figure: stop (default -t 10) of a TERM-trapping init took $took ms: $output" >&3
	assert_contains "$output" "polite: exit status 143"
	assert_not_contains "$output" SIGKILL
	[ "$took" -lt 10000 ] || fail "waited out the timeout ($took ms)"

	run -1 ctr containers stop nosuch
	assert_match "$output" 'not found|no such container'
	run -2 ctr containers stop -t soon polite
}

@test "containers stop of a paused container: SIGKILL thaws it, 137" {
	start_container frozen "${SLEEP_ARGS[@]}"
	run -0 ctr containers pause frozen
	t0=$(now_ms)
	run -0 ctr containers stop -t 0 frozen
	echo "# figure: stop -t 0 of a paused container took $(($(now_ms) - t0)) ms: $output" >&3
	assert_contains "$output" "frozen: exit status 137"
}

@test "containers wait: exits with the container's status, live or already gone (from the history)" {
	make_bundle w7 sh -c 'while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 7'
	run -0 ctr containers start w7 "$BUNDLE"
	wait_for container_running w7
	"$CTR_BIN" --debug --address "$SOCK" containers wait w7 >"$T/wait.out" 2>"$T/wait.err" 3>&- &
	wpid=$!
	BG_PIDS+=("$wpid")
	# Subscribed, and State found w7 running: the live path.
	wait_for file_has "$T/wait.err" "State: OK"
	t0=$(now_ms)
	touch "$BUNDLE/rootfs/tmp/go"
	rc=0
	wait "$wpid" || rc=$?
	echo "# figure: live wait returned $rc ($(cat "$T/wait.out")) $(($(now_ms) - t0)) ms after the exit was allowed" >&3
	assert_eq "$rc" 7 "wait's exit status"
	assert_eq "$(cat "$T/wait.out")" 7 "wait's output"

	wait_for container_not_listed w7
	run -7 ctr containers wait w7
	echo "# figure: wait on the gone w7: $status, '$output'" >&3
	assert_eq "$output" 7 "from the history"

	# The id reused: wait follows the new container, not the old exit.
	make_bundle w7b "${SLEEP_ARGS[@]}"
	run -0 ctr containers start w7 "$BUNDLE"
	wait_for container_running w7
	"$CTR_BIN" --debug --address "$SOCK" containers wait w7 >"$T/wait2.out" 2>"$T/wait2.err" 3>&- &
	wpid=$!
	BG_PIDS+=("$wpid")
	wait_for file_has "$T/wait2.err" "State: OK"
	run -0 ctr containers kill -s KILL w7
	rc=0
	wait "$wpid" || rc=$?
	assert_eq "$rc" 137 "wait on the reused id"

	run -1 ctr containers wait never-was
	assert_contains "$output" "never-was"
}

@test "containers stats: a table with CPU %, memory used / limit, pids, block I/O; --json the raw sample; --watch refreshes until the container is gone" {
	requires_cgroup_v1 memory cpuacct pids
	id=$(unique_id busy)
	start_container "$id" sh -c 'while true; do :; done'
	run -0 ctr containers update "$id" --memory-limit 64m

	run -0 ctr containers stats --interval 300ms "$id"
	echo "$output"
	assert_match "${lines[0]}" '^ID +CPU % +MEM USAGE / LIMIT +MEM % +PIDS +BLOCK I/O'
	row=${lines[1]}
	assert_match "$row" "^$id +[0-9.]+% +[0-9.]+[KMG]?i?B / 64.0MiB +[0-9.]+% +[0-9]+ +[0-9.]+[kMG]?B / [0-9.]+[kMG]?B\$"
	cpu=$(awk '{ print $2 }' <<<"$row")
	echo "# figure: a busy loop: $row" >&3
	[ "${cpu%%.*}" -ge 5 ] || fail "CPU % of a busy loop is $cpu"

	run -0 ctr containers stats --json "$id"
	jq -e '.cgroup_stats.memory_stats.usage.limit == 67108864' <<<"$output" >/dev/null ||
		fail "raw sample: $output"

	"$CTR_BIN" --address "$SOCK" containers stats --watch -i 200ms "$id" >"$T/watch.out" 2>"$T/watch.err" 3>&- &
	wpid=$!
	BG_PIDS+=("$wpid")
	wait_for eval "[ \$(grep -c '^ID ' '$T/watch.out') -ge 3 ]"
	run -0 ctr containers kill -s KILL "$id"
	rc=0
	wait "$wpid" || rc=$?
	echo "# figure: --watch printed $(grep -c '^ID ' "$T/watch.out") tables, then: $(cat "$T/watch.err") (status $rc)" >&3
	assert_eq "$rc" 0 "--watch's status once the container is gone"
	assert_contains "$(cat "$T/watch.err")" "$id is gone"
}

@test "ctr --version needs no daemon; --debug shows each call; CONTAINERD_ADDRESS is the default address" {
	run -0 "$CTR_BIN" --address "$T/nowhere.sock" --version
	echo "# figure: $output" >&3
	assert_match "$output" '^ctr version [0-9]+\.[0-9]+\.[0-9]+ commit: '
	run -0 ctr version
	assert_contains "$output" "daemon version"

	run -0 ctr --debug containers -q
	echo "$output"
	assert_match "$output" '^ctr: debug: connect and health check: OK in [0-9.]+ ms$'
	assert_match "$output" '^ctr: debug: State: OK in [0-9.]+ ms$'
	run -1 ctr --debug containers stop nosuch
	assert_match "$output" '^ctr: debug: State: NOT_FOUND after [0-9.]+ ms: '

	make_bundle envc "${SLEEP_ARGS[@]}"
	run -0 env CONTAINERD_ADDRESS="$SOCK" "$CTR_BIN" containers start envc "$BUNDLE"
	run -0 env CONTAINERD_ADDRESS="$SOCK" "$CTR_BIN" containers -q
	assert_eq "$output" envc "listed through \$CONTAINERD_ADDRESS"
	# --address still wins.
	run -1 env CONTAINERD_ADDRESS="$SOCK" "$CTR_BIN" --address "$T/nowhere.sock" containers
	assert_contains "$output" "$T/nowhere.sock"
}

@test "ctr: did you mean, usage errors without 'ctr: ctr', exit statuses in --help" {
	run -2 "$CTR_BIN" contaners
	echo "$output"
	assert_contains "$output" 'did you mean "ctr containers"?'
	run -2 "$CTR_BIN" containers strat x y
	assert_contains "$output" 'did you mean "ctr containers start"?'
	# A word that is no verb is an id ("containers ID"); the hint comes
	# only when no such container exists either.
	run -1 ctr containers stpo
	echo "$output"
	assert_contains "$output" 'did you mean "ctr containers stop"?'
	run -2 ctr containers stop --tiem 1 x
	assert_contains "$output" 'did you mean "--time"?'

	run -2 "$CTR_BIN" containers start onlyid
	echo "$output"
	assert_not_contains "$output" "ctr: ctr"
	assert_contains "$output" '"containers start" needs ID BUNDLE'
	assert_contains "$output" "Run 'ctr containers start --help'"
	run -2 "$CTR_BIN" --bogus
	assert_not_contains "$output" "ctr: ctr"

	run -0 "$CTR_BIN" --help
	echo "$output"
	assert_match "$output" '^Exit status:'
	assert_match "$output" '^  2 +a usage error'
	assert_contains "$output" CONTAINERD_ADDRESS
	for v in stop wait stats; do
		run -0 "$CTR_BIN" containers --help
		assert_match "$output" "^  $v "
	done
	run -0 "$CTR_BIN" containers stop --help
	assert_match "$output" '-t, --time value +seconds to wait .*\(default: 10\)'
}

# A socket that answers nothing and records what ctr writes before it
# gives up: the HTTP/2 frames (type, stream) after the client preface.
silent_server() {
	"$PY" - "$1" "$2" <<'PYEOF'
import socket, struct, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(1)
open(out + ".ready", "w").close()
c, _ = s.accept()
c.settimeout(10)
data = b""
while True:
    try:
        b = c.recv(65536)
    except socket.timeout:
        break
    if not b:
        break
    data += b
data = data[24:]  # PRI * HTTP/2.0 ...
frames = []
while len(data) >= 9:
    n = int.from_bytes(data[0:3], "big")
    frames.append("%d/%d" % (data[3], struct.unpack(">I", data[5:9])[0] & 0x7fffffff))
    data = data[9 + n:]
open(out, "w").write(" ".join(frames) + "\n")
PYEOF
}

@test "ctr: linked statically; a command's call waits for the health check (a silent daemon gets none)" {
	# Static when the archives are there (the Makefile's choice): no
	# loader, no library lookups at every command.
	if [ "$(cc -print-file-name=libnghttp2.a)" != libnghttp2.a ]; then
		run ldd "$CTR_BIN"
		echo "# figure: ldd bin/ctr: $output" >&3
		assert_contains "$output" "not a dynamic executable"
	fi

	# The daemon never answers: ctr wrote the health check (HEADERS, type
	# 1, on stream 1) and nothing else, so the create cannot run later
	# behind ctr's "cannot connect" (sending it along would save a round
	# trip, but a daemon slower than --conn-timeout then carried out
	# commands ctr had reported as failed).
	silent_server "$T/silent.sock" "$T/frames" &
	spid=$!
	wait_for test -e "$T/frames.ready"
	run -1 "$CTR_BIN" --address "$T/silent.sock" --conn-timeout 300ms containers start x "$T"
	assert_contains "$output" "no answer within 300 ms (--conn-timeout)"
	wait "$spid"
	echo "# figure: frames written by ctr to a silent daemon: $(cat "$T/frames")" >&3
	assert_match "$(cat "$T/frames")" '(^| )1/1( |$)'
	assert_not_contains "$(cat "$T/frames")" "/3"
}
