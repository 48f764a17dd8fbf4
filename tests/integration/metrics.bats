#!/usr/bin/env bats
# --metrics-interval and --graphite-address: the report on stdout in
# go-metrics' log format, and the same figures in Graphite's plaintext
# protocol to a receiver that may come and go.

load helpers

setup_file() {
	setup_base_bundle
}

setup() {
	setup_common
}

teardown() {
	teardown_common
}

TIMER_FIELDS=(count min max mean stddev median 75% 95% 99% 99.9% "1-min rate" "5-min rate"
	"15-min rate" "mean rate")

# last_block KIND NAME: the lines of the last complete "KIND NAME" report in
# the daemon's output, the "[containerd] DATE TIME " prefix cut off.
last_block() {
	local n=15
	[ "$1" = timer ] || n=2
	awk -v head="$1 $2" -v n="$n" '
		{ line = $0; sub(/^\[containerd\] [0-9\/]+ [0-9:]+ /, "", line) }
		line == head { k = 0; delete cur }
		line == head || (k > 0 && k < n) { cur[k++] = line; if (k == n) { for (x = 0; x < n; x++) best[x] = cur[x]; got = 1 } }
		END { if (got) for (x = 0; x < n; x++) print best[x] }' "$T/daemon.log"
}

# metric_value KIND NAME FIELD: FIELD's value in the last KIND NAME report.
metric_value() {
	last_block "$1" "$2" | awk -v f="$3:" '{ v = $NF; $NF = ""; sub(/^ +/, ""); sub(/ +$/, "") } $0 == f { print v }'
}

# metric_is KIND NAME FIELD VALUE: for wait_for.
metric_is() {
	[ "$(metric_value "$1" "$2" "$3")" = "$4" ]
}

# A Graphite receiver on 127.0.0.1: appends what it gets to $1, port in $2
# (0: any; the one it got is written to $T/graphite.port). Threads, so a
# reconnecting daemon is served whatever happened to the last connection.
start_receiver() {
	cat >"$T/receiver.py" <<'EOF'
import socketserver, sys
out, port = sys.argv[1], int(sys.argv[2])
class H(socketserver.StreamRequestHandler):
    def handle(self):
        with open(out, "ab", buffering=0) as f:
            for line in self.rfile:
                f.write(line)
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
s = S(("127.0.0.1", port), H)
with open(sys.argv[3] + ".tmp", "w") as f:
    f.write(str(s.server_address[1]))
import os
os.rename(sys.argv[3] + ".tmp", sys.argv[3])
s.serve_forever()
EOF
	rm -f "$T/graphite.port"
	"$PY" "$T/receiver.py" "$1" "$2" "$T/graphite.port" 3>&- &
	RECEIVER_PID=$!
	BG_PIDS+=("$RECEIVER_PID")
	wait_for test -s "$T/graphite.port"
	PORT=$(cat "$T/graphite.port")
}

# graphite_has FILE LINE-PREFIX: a line starting so arrived.
graphite_has() {
	[ -f "$1" ] && grep -q -- "^$2" "$1"
}

@test "metrics-interval: every timer, counter and gauge on stdout in go-metrics' format, with sane figures" {
	requires_e2e
	start_daemon --metrics-interval 1s
	start_container web "${SLEEP_ARGS[@]}"
	wait_for metric_is timer container-start-time count 1

	# Every line of a report carries Go's log prefix and local time.
	grep -Eq '^\[containerd\] [0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} timer container-start-time$' \
		"$T/daemon.log" || fail "no prefixed timer header"
	grep -Eq '^\[containerd\] [0-9/]{10} [0-9:]{8}   99\.9%: +[0-9]+\.[0-9]{2}$' "$T/daemon.log" ||
		fail "no prefixed 99.9% line"

	block=$(last_block timer container-start-time)
	echo "$block"
	assert_eq "$(wc -l <<<"$block")" 15 "lines in the timer block"
	k=1
	for f in "${TIMER_FIELDS[@]}"; do
		line=$(sed -n "$((k + 1))p" <<<"$block")
		[[ "$line" == "  $f:"* ]] || fail "line $((k + 1)) is '$line', want '  $f: ...'"
		k=$((k + 1))
	done

	# One observation: min = max = mean = every percentile, no spread.
	min=$(metric_value timer container-start-time min)
	max=$(metric_value timer container-start-time max)
	assert_eq "$min" "$max" "min vs max of one value"
	# Nanoseconds: more than 1 ms (a runc create and start), under 30 s.
	[ "$min" -gt 1000000 ] && [ "$min" -lt 30000000000 ] || fail "start time $min ns is not sane"
	for f in mean median 75% 95% 99% 99.9%; do
		assert_eq "$(metric_value timer container-start-time "$f")" "$min.00" "$f of one value"
	done
	assert_eq "$(metric_value timer container-start-time stddev)" 0.00 "stddev of one value"
	rate=$(metric_value timer container-start-time "mean rate")
	awk -v r="$rate" 'BEGIN { exit !(r > 0 && r <= 1) }' || fail "mean rate $rate not in (0, 1]"

	# The runtime's create is part of the start, so no longer than it.
	cmin=$(metric_value timer container-create-time min)
	assert_eq "$(metric_value timer container-create-time count)" 1 "container-create-time count"
	[ "$cmin" -gt 0 ] && [ "$cmin" -le "$min" ] || fail "create $cmin ns vs start $min ns"

	assert_eq "$(metric_value counter containers count)" 1 "containers"
	assert_eq "$(metric_value counter events-subscribers count)" 0 "events-subscribers"
	assert_eq "$(metric_value counter tasks count)" 0 "tasks (nothing in flight)"
	assert_eq "$(metric_value gauge shims value)" 1 "shims"
	ev=$(metric_value counter events count)
	[ "$ev" -ge 2 ] || fail "events $ev: want start-daemon and start-container at least"
	fds=$(metric_value gauge fds value)
	want_fds=$(($(ls /proc/"$DAEMON_PID"/fd | wc -l)))
	[ "$fds" -gt 3 ] && [ "$fds" -lt $((want_fds + 10)) ] || fail "fds $fds (now $want_fds)"
	rss=$(metric_value gauge memory-used value)
	want_rss=$(awk '/^VmRSS:/ { print $2 * 1024 }' /proc/"$DAEMON_PID"/status)
	[ "$rss" -gt 1000000 ] && [ "$rss" -lt $((want_rss * 2)) ] || fail "memory-used $rss (VmRSS $want_rss)"

	# An exec, then the container's end.
	run -0 ctr containers exec --id web --pid e1 --attach true
	wait_for metric_is timer exec-process-time count 1
	run -0 ctr containers kill --signal 9 web
	wait_exit web 137
	wait_for metric_is timer container-delete-time count 1
	wait_for metric_is counter containers count 0
	# e1 and init: two exits recorded.
	assert_eq "$(metric_value timer exit-process-time count)" 2 "exit-process-time count"
	assert_eq "$(metric_value gauge shims value)" 0 "shims after the end"
	dmax=$(metric_value timer container-delete-time max)
	[ "$dmax" -gt 0 ] && [ "$dmax" -lt 30000000000 ] || fail "delete time $dmax ns"
}

@test "metrics-interval 0: no report; --graphite-address without an interval or a port is refused" {
	requires daemon shim
	start_daemon --metrics-interval 0
	sleep 1.5
	assert_not_contains "$(cat "$T/daemon.log")" "[containerd]"
	stop_daemon

	daemon_cmd --metrics-interval 0 --graphite-address 127.0.0.1:2003
	run "${DAEMON_ARGV[@]}"
	[ "$status" -ne 0 ] || fail "started with a graphite address and no interval"
	assert_contains "$output" "--graphite-address needs a --metrics-interval"

	daemon_cmd --metrics-interval 1s --graphite-address localhost
	run "${DAEMON_ARGV[@]}"
	[ "$status" -ne 0 ] || fail "started with no port"
	assert_contains "$output" "want host:port"
}

@test "graphite: lines arrive, the receiver restarts, lines arrive again; the daemon answers throughout" {
	requires_e2e
	start_receiver "$T/g1.txt" 0
	start_daemon --metrics-interval 1s --graphite-address "127.0.0.1:$PORT"
	start_container gweb "${SLEEP_ARGS[@]}"
	wait_for graphite_has "$T/g1.txt" "containerd.container-start-time.count 1 "

	# Every line is "containerd.NAME.FIELD VALUE UNIX_TIME".
	bad=$(grep -Ev '^containerd\.[a-z0-9-]+\.[a-z0-9-]+ -?[0-9]+(\.[0-9]+)? [0-9]{10}$' "$T/g1.txt" || true)
	[ -z "$bad" ] || fail "malformed graphite lines: $bad"
	for f in count min max mean std-dev 50-percentile 75-percentile 95-percentile 99-percentile \
		999-percentile one-minute five-minute fifteen-minute mean-rate; do
		graphite_has "$T/g1.txt" "containerd.container-start-time.$f " || fail "no $f"
	done
	graphite_has "$T/g1.txt" "containerd.containers.count 1 " || fail "no containers count"
	graphite_has "$T/g1.txt" "containerd.memory-used.value " || fail "no memory-used"
	ts=$(grep '^containerd.containers.count ' "$T/g1.txt" | tail -n1 | awk '{ print $3 }')
	now=$(date +%s)
	[ $((now - ts)) -lt 30 ] && [ $((ts - now)) -lt 5 ] || fail "timestamp $ts vs now $now"

	# The receiver goes away: the daemon notices, says so once, keeps serving.
	kill -9 "$RECEIVER_PID"
	wait "$RECEIVER_PID" 2>/dev/null || true
	wait_for file_has "$T/daemon.log" "metrics: graphite 127.0.0.1:$PORT"
	sleep 2.5
	assert_eq "$(grep -c "metrics: graphite 127.0.0.1:$PORT.*retrying" "$T/daemon.log")" 1 \
		"complaints about one outage"
	container_running gweb || fail "the daemon stopped answering while the receiver was down"
	pid_alive "$DAEMON_PID" || fail "the daemon died"

	# Back on the same port: the next rounds arrive there.
	start_receiver "$T/g2.txt" "$PORT"
	wait_for graphite_has "$T/g2.txt" "containerd.container-start-time.count 1 "
	wait_for file_has "$T/daemon.log" "metrics: graphite 127.0.0.1:$PORT connected again"
	run -0 ctr containers
	assert_contains "$output" gweb
	pid_alive "$DAEMON_PID" || fail "the daemon died"
}

@test "graphite: a receiver that is never there costs one log line and no service" {
	requires daemon shim ctr
	# A port nobody listens on: bound, then freed.
	port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	start_daemon --metrics-interval 1s --graphite-address "127.0.0.1:$port"
	wait_for file_has "$T/daemon.log" "timer container-start-time"
	sleep 3
	assert_eq "$(grep -c "metrics: graphite" "$T/daemon.log")" 1 "log lines for the outage"
	assert_contains "$(cat "$T/daemon.log")" "cannot connect"
	run -0 ctr version
	pid_alive "$DAEMON_PID" || fail "the daemon died"
}

@test "graphite: a receiver that stops reading costs dropped rounds, never the daemon's memory or service" {
	requires daemon shim ctr
	# Accepts every connection, with a tiny receive buffer, and reads nothing.
	cat >"$T/stall.py" <<'PYEOF'
import os, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)
PYEOF
	"$PY" "$T/stall.py" "$T/stall.port" 3>&- &
	BG_PIDS+=($!)
	wait_for test -s "$T/stall.port"
	# Rounds often, so the buffers fill quickly.
	start_daemon --metrics-interval 20ms --graphite-address "127.0.0.1:$(cat "$T/stall.port")"
	wait_for file_has "$T/daemon.log" "the receiver stopped reading"
	run -0 ctr version
	rss=$(awk '/^VmRSS:/ { print $2 }' /proc/"$DAEMON_PID"/status)
	[ "$rss" -lt 65536 ] || fail "the daemon's RSS grew to $rss kB"
	pid_alive "$DAEMON_PID" || fail "the daemon died"
}

@test "--id names the daemon: every log line tagged [ID], the metrics report [containerd ID], Graphite containerd.ID.NAME; without it, the hostname at start and names as before" {
	requires_e2e
	start_receiver "$T/gid.txt" 0
	start_daemon --id node-7.a --metrics-interval 1s --graphite-address "127.0.0.1:$PORT"
	start_container idweb "${SLEEP_ARGS[@]}"
	wait_for graphite_has "$T/gid.txt" "containerd.node-7_a.container-start-time.count 1 "
	bad=$(grep -v '^containerd\.node-7_a\.' "$T/gid.txt" || true)
	[ -z "$bad" ] || fail "graphite lines without the id: $bad"
	wait_for file_has "$T/daemon.log" "[containerd node-7.a] "
	# Every log line (time, level, then the message) carries the tag.
	untagged=$(grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ ]+ (debug|info|warn|error) ' "$T/daemon.log" |
		grep -vF ' [node-7.a] ' || true)
	[ -z "$untagged" ] || fail "log lines without the id: $untagged"
	line=$(grep -m1 "listening on" "$T/daemon.log")
	assert_contains "$line" "id node-7.a, listening on"
	echo "# $(grep -m1 -- 'listening on' "$T/daemon.log" | cut -c1-80)..." >&3
	echo "# $(grep -m1 '^containerd\.node-7_a\.containers\.count' "$T/gid.txt")" >&3
	stop_daemon

	: >"$T/daemon.log"
	start_daemon --metrics-interval 0
	line=$(grep -m1 "listening on" "$T/daemon.log")
	assert_contains "$line" "id $(hostname), listening on"
	assert_not_contains "$(cat "$T/daemon.log")" "[$(hostname)]"

	run timeout 10 "$CONTAINERD" --state-dir "$T/other" --id "a b"
	[ "$status" -eq 1 ] || fail "status $status"
	assert_contains "$output" '--id "a b": want 1 to 128 letters'
}

