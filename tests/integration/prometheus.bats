#!/usr/bin/env bats
# --metrics-address: the daemon's metrics in Prometheus' text format on
# GET /metrics, over loopback TCP or a unix socket; checked by promtool,
# scraped by Debian's prometheus server itself (its own config and data
# dir, loopback only, never its service), and against hostile clients.

load helpers

PROMCLIENT=$BATS_TEST_DIRNAME/promclient.py

setup_file() {
	setup_base_bundle
}

setup() {
	setup_common
	PROM_PID=
}

teardown() {
	stop_prometheus
	teardown_common
}

requires_prom() {
	command -v curl >/dev/null || skip "needs curl"
	command -v promtool >/dev/null || skip "needs promtool (Debian's prometheus: make deps)"
}

# free_port: a TCP port on 127.0.0.1 nothing listens on now.
free_port() {
	"$PY" -S -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# scrape [CURL ARGS...]: GET /metrics from this test's daemon ($MADDR).
scrape() {
	if [[ $MADDR == /* ]]; then
		curl -sS --max-time 10 --unix-socket "$MADDR" "$@" http://localhost/metrics
	else
		curl -sS --max-time 10 "$@" "http://$MADDR/metrics"
	fi
}

# sample TEXT NAME{LABELS}: the value of that series in an exposition.
sample() {
	awk -v s="$2" '$1 == s { print $2; exit }' <<<"$1"
}

start_prom_daemon() {
	MADDR=${MADDR:-127.0.0.1:$(free_port)}
	start_daemon --metrics-address "$MADDR" --metrics-interval 0 "$@"
}

stop_prometheus() {
	[ -n "${PROM_PID:-}" ] || return 0
	kill "$PROM_PID" 2>/dev/null || true
	wait_for -t 10 pid_gone "$PROM_PID" || kill -9 "$PROM_PID" 2>/dev/null || true
	wait "$PROM_PID" 2>/dev/null || true
	PROM_PID=
}

# prom_query EXPR: the value of the first result of an instant query to
# this test's prometheus (empty when none).
prom_query() {
	curl -sS --max-time 5 -G --data-urlencode "query=$1" \
		"http://127.0.0.1:$PROM_PORT/api/v1/query" | jq -r '.data.result[0].value[1] // empty'
}

# prom_query_is EXPR VALUE: for wait_for.
prom_query_is() {
	[ "$(prom_query "$1" 2>/dev/null)" = "$2" ]
}

prom_query_ge() {
	local v
	v=$(prom_query "$1" 2>/dev/null)
	[ -n "$v" ] && [ "${v%.*}" -ge "$2" ]
}

@test "metrics-address: /metrics over loopback TCP is Prometheus text that promtool passes, with each family, the states and the memory of containers" {
	requires_e2e
	requires_prom
	start_prom_daemon
	id=$(unique_id web)
	start_container "$id" "${SLEEP_ARGS[@]}"

	run scrape -D "$T/headers"
	[ "$status" -eq 0 ] || fail "curl: $output"
	text=$output
	grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$T/headers" ||
		fail "content type: $(cat "$T/headers")"
	grep -q '^HTTP/1.1 200 OK' "$T/headers"
	# promtool's lint too: names, units, _total, HELP, TYPE.
	run promtool check metrics <<<"$text"
	[ "$status" -eq 0 ] || fail "promtool check metrics ($status): $output"
	[ -z "$output" ] || fail "promtool lint: $output"

	for h in container_start container_create container_delete exec_process exit_process; do
		assert_contains "$text" "# TYPE containerd_${h}_duration_seconds histogram"
		assert_contains "$text" "containerd_${h}_duration_seconds_bucket{le=\"+Inf\"}"
	done
	assert_eq "$(sample "$text" 'containerd_container_start_duration_seconds_count')" 1 "starts"
	assert_eq "$(sample "$text" 'containerd_container_start_duration_seconds_bucket{le="+Inf"}')" 1
	assert_eq "$(sample "$text" 'containerd_events_total{type="start-container"}')" 1 "start events"
	assert_contains "$text" "# TYPE containerd_events_total counter"
	assert_eq "$(sample "$text" containerd_containers)" 1 "containers"
	assert_eq "$(sample "$text" containerd_shims)" 1 "shims"
	fds=$(sample "$text" containerd_open_fds)
	rss=$(sample "$text" containerd_resident_memory_bytes)
	[ "$fds" -gt 3 ] && [ "$rss" -gt 1000000 ] || fail "fds $fds, rss $rss"
	assert_eq "$(sample "$text" "containerd_container_state{id=\"$id\",state=\"running\"}")" 1 "state"
	mem=$(sample "$text" "containerd_container_memory_usage_bytes{id=\"$id\"}")
	if [ -d /sys/fs/cgroup/memory ] || [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		[ -n "$mem" ] && [ "$mem" -gt 0 ] || fail "memory of $id: '$mem'"
	fi
	# The cumulative buckets never fall.
	awk '/^containerd_container_start_duration_seconds_bucket/ { if ($2 < last) bad = 1; last = $2 }
		END { exit bad }' <<<"$text" || fail "buckets fall"
	figure "scrape: $(wc -c <<<"$text") bytes, $(grep -vc '^#' <<<"$text") samples; memory of $id ${mem:-?} bytes; fds $fds, rss $((rss / 1024)) KiB"

	# A stopped container leaves its memory out, then the exposition.
	ctr containers kill -s 9 "$id" >/dev/null
	wait_exit "$id" 137
	wait_for container_not_listed "$id"
	text=$(scrape)
	assert_not_contains "$text" "id=\"$id\""
	assert_eq "$(sample "$text" 'containerd_events_total{type="exit"}')" 1 "exit events"
	assert_eq "$(sample "$text" 'containerd_exit_process_duration_seconds_count')" 1 "exits timed"
	# Other methods, paths and HEAD.
	run scrape -o /dev/null -w '%{http_code}' -X POST
	assert_eq "$output" 405 "POST"
	run curl -sS -o /dev/null -w '%{http_code}' "http://$MADDR/"
	assert_eq "$output" 404 "/"
	run curl -sS -I "http://$MADDR/metrics"
	assert_contains "$output" "HTTP/1.1 200 OK"
	assert_contains "$output" "Content-Length: "
	run "$PY" "$PROMCLIENT" "$MADDR" sendbody "b'HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n'"
	assert_eq "$output" "HTTP/1.1 200 OK body=0" "HEAD"
	run "$PY" "$PROMCLIENT" "$MADDR" sendbody "b'GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n'"
	assert_match "$output" "^HTTP/1.1 200 OK body=[0-9]{4,}$"
}

@test "metrics-address: a unix socket (0660) served to curl --unix-socket; a stale one of the daemon's is replaced, anything else there is refused and left" {
	requires_e2e
	requires_prom
	MADDR=$T/metrics.sock
	start_prom_daemon
	run scrape
	[ "$status" -eq 0 ] || fail "curl --unix-socket: $output"
	run promtool check metrics <<<"$output"
	[ "$status" -eq 0 ] && [ -z "$output" ] || fail "promtool: $output"
	assert_eq "$(stat -c %a "$MADDR")" 660 "mode"
	[ -f "$STATE/_metrics_socket" ]
	! grep -q "metrics.sock: not the daemon's\|_metrics_socket: not the daemon's" "$T/daemon.log"

	# Killed: the socket stays; the next start proves it its own and replaces it.
	stop_daemon -9
	[ -S "$MADDR" ]
	start_prom_daemon
	run scrape
	[ "$status" -eq 0 ] || fail "after a restart: $output"
	grep -q "removed the stale socket $MADDR" "$T/daemon.log"
	# A clean stop takes it and its record away.
	stop_daemon -TERM
	[ ! -e "$MADDR" ] && [ ! -e "$STATE/_metrics_socket" ]

	# A file that is not a socket: refused, untouched.
	echo precious >"$MADDR"
	daemon_cmd --metrics-address "$MADDR"
	run timeout 20 "${DAEMON_ARGV[@]}"
	[ "$status" -ne 0 ]
	assert_contains "$output" "exists and is not a socket"
	assert_eq "$(cat "$MADDR")" precious "the file"
	rm -f "$MADDR"

	# A dead socket someone else made: refused, left.
	"$PY" -S -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$MADDR"
	run timeout 20 "${DAEMON_ARGV[@]}"
	[ "$status" -ne 0 ]
	assert_contains "$output" "this daemon did not make"
	[ -S "$MADDR" ]
	rm -f "$MADDR"

	# A live one: refused (the API socket here, listening).
	start_daemon
	daemon_cmd --metrics-address "$SOCK" --state-dir "$T/state2" --listen "$T/api2.sock"
	run timeout 20 "${DAEMON_ARGV[@]}"
	[ "$status" -ne 0 ]
	assert_contains "$output" "something already listens there"
	sock_accepts "$SOCK"

	# Its own API socket, named again: refused as such.
	daemon_cmd --metrics-address "$T/api3.sock" --state-dir "$T/state3" --listen "$T/api3.sock"
	run timeout 20 "${DAEMON_ARGV[@]}"
	[ "$status" -ne 0 ]
	assert_contains "$output" "is the API's socket (--listen)"
}

@test "metrics-address: a non-loopback host, a bad port or a name is refused at start, nothing bound" {
	requires daemon
	port=$(free_port)
	for a in "0.0.0.0:$port" ":$port" "192.168.1.10:$port" "[::]:$port" "example.com:$port" \
		"10.0.0.1:$port" "tcp://0.0.0.0:$port"; do
		daemon_cmd --metrics-address "$a"
		run timeout 20 "${DAEMON_ARGV[@]}"
		[ "$status" -ne 0 ] || fail "$a was accepted"
		assert_contains "$output" "is not a loopback address"
	done
	for a in "127.0.0.1:0" "127.0.0.1:65536" "127.0.0.1:x" "::1:$port"; do
		daemon_cmd --metrics-address "$a"
		run timeout 20 "${DAEMON_ARGV[@]}"
		[ "$status" -ne 0 ] || fail "$a was accepted"
		assert_match "$output" "not a port|want 127.0.0.1:PORT"
	done
	[ ! -e "$STATE" ] || fail "the state dir was made: $(ls -la "$STATE")"
	figure "refused: 0.0.0.0, :PORT, 192.168.1.10, [::], example.com, 10.0.0.1, tcp://0.0.0.0; ports 0, 65536, x; ::1 without brackets"
}

@test "prometheus: Debian's prometheus scrapes the daemon every second and its API shows the containers started" {
	requires_e2e
	requires_prom
	command -v prometheus >/dev/null || skip "needs Debian's prometheus (make deps)"
	start_prom_daemon
	PROM_PORT=$(free_port)
	cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: containerd
    static_configs:
      - targets: ['$MADDR']
EOF
	t0=$(now_ms)
	prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
		--web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn \
		>"$T/prometheus.log" 2>&1 3>&- &
	PROM_PID=$!
	BG_PIDS+=("$PROM_PID")
	# Two scrapes that found the daemon up.
	wait_for -t 60 prom_query_ge 'count_over_time(up{job="containerd"}[1m])' 2 ||
		{ cat "$T/prometheus.log" >&2; false; }
	assert_eq "$(prom_query 'up{job="containerd"}')" 1 "up"
	t_up=$(now_ms)
	assert_eq "$(prom_query 'containerd_events_total{type="start-container"}')" 0 "starts before"

	for k in 1 2; do
		start_container "$(unique_id p$k)" "${SLEEP_ARGS[@]}"
	done
	t1=$(now_ms)
	wait_for -t 30 prom_query_is 'containerd_events_total{type="start-container"}' 2
	t2=$(now_ms)
	assert_eq "$(prom_query 'containerd_container_start_duration_seconds_count')" 2 "starts timed"
	assert_eq "$(prom_query 'sum(containerd_container_state{state="running"})')" 2 "running"
	assert_eq "$(prom_query 'count(containerd_container_memory_usage_bytes > 0)')" 2 "memory"
	# The histogram is usable as one: a quantile over it.
	q=$(prom_query 'histogram_quantile(0.5, containerd_container_start_duration_seconds_bucket)')
	[ -n "$q" ] && [ "$q" != NaN ] || fail "median start: '$q'"
	n=$(prom_query 'count_over_time(up{job="containerd"}[1m])')
	figure "prometheus: up after $((t_up - t0)) ms; 2 starts seen $((t2 - t1)) ms after the last; $n scrapes; median start ${q}s"
	stop_prometheus
}

@test "metrics-address: a client that never speaks is dropped after the timeout, while scrapes and gRPC go on" {
	requires_e2e
	requires_prom
	export CONTAINERD_METRICS_TIMEOUT=1s
	start_prom_daemon
	unset CONTAINERD_METRICS_TIMEOUT
	"$PY" "$PROMCLIENT" "$MADDR" silent 10 >"$T/silent.out" 3>&- &
	silent=$!
	BG_PIDS+=("$silent")
	# Meanwhile: a scrape and a gRPC call, each quick.
	t0=$(now_ms)
	run scrape
	[ "$status" -eq 0 ] || fail "scrape: $output"
	t1=$(now_ms)
	ctr containers >/dev/null
	t2=$(now_ms)
	wait "$silent"
	read -r ms how <"$T/silent.out"
	[ "$how" = EOF ] || [ "$how" = RESET ] || fail "the silent client: $(cat "$T/silent.out")"
	[ "$ms" -ge 900 ] && [ "$ms" -lt 5000 ] || fail "dropped after $ms ms (timeout 1s)"
	figure "silent client dropped after $ms ms (timeout 1s); meanwhile a scrape took $((t1 - t0)) ms, ctr containers $((t2 - t1)) ms"
}

@test "metrics-address: garbage gets 400, HTTP/2 505, a huge request 431 and is cut off, the daemon unmoved" {
	requires_e2e
	requires_prom
	start_prom_daemon
	rss0=$(awk '/VmRSS/ { print $2 }' "/proc/$DAEMON_PID/status")
	run "$PY" "$PROMCLIENT" "$MADDR" send "b'hello there\r\n'"
	assert_eq "$output" "HTTP/1.1 400 Bad Request" "garbage line"
	run "$PY" "$PROMCLIENT" "$MADDR" send "b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'"
	assert_eq "$output" "HTTP/1.1 400 Bad Request" "a TLS hello"
	run "$PY" "$PROMCLIENT" "$MADDR" send "b'GET /metrics HTTP/1.1\r\nno colon\r\n\r\n'"
	assert_eq "$output" "HTTP/1.1 400 Bad Request" "bad header"
	run "$PY" "$PROMCLIENT" "$MADDR" send "b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'"
	assert_eq "$output" "HTTP/1.1 505 HTTP Version Not Supported" "HTTP/2"
	run "$PY" "$PROMCLIENT" "$MADDR" send "b'GET /metrics HTTP/1.0\r\n\r\n'"
	assert_eq "$output" "HTTP/1.1 200 OK" "HTTP/1.0"
	t0=$(now_ms)
	run "$PY" "$PROMCLIENT" "$MADDR" huge 64
	t1=$(now_ms)
	read -r proto code rest kib <<<"$output"
	# The answer, or (if the peer was still sending when the daemon let
	# go) a reset; either way it stopped long before 64 MiB.
	[ "$code" = 431 ] || [ "$proto" = RESET ] || fail "huge: $output"
	kib=${output##* }
	[ "$kib" -lt 16384 ] || fail "the daemon read $kib KiB of it"
	rss1=$(awk '/VmRSS/ { print $2 }' "/proc/$DAEMON_PID/status")
	[ $((rss1 - rss0)) -lt 4096 ] || fail "rss grew from $rss0 to $rss1 KiB"
	run scrape -o /dev/null -w '%{http_code}'
	assert_eq "$output" 200 "after"
	ctr containers >/dev/null
	figure "huge request: ${proto} ${code}, cut after $kib KiB sent, in $((t1 - t0)) ms; daemon rss $rss0 -> $rss1 KiB"
}

@test "metrics-address: 100 clients at once are each answered 200 or 503; silent ones at the cap make room for a scrape; no fd is left" {
	requires_e2e
	requires_prom
	start_prom_daemon
	fds0=$(find "/proc/$DAEMON_PID/fd" -mindepth 1 | wc -l)
	run "$PY" "$PROMCLIENT" "$MADDR" many 100
	[ "$status" -eq 0 ] || fail "many: $output"
	ok=$(grep -o 'HTTP/1.1_200_OK=[0-9]*' <<<"$output" | cut -d= -f2)
	busy=$(grep -o 'HTTP/1.1_503_Service_Unavailable=[0-9]*' <<<"$output" | cut -d= -f2)
	[ $((${ok:-0} + ${busy:-0})) -eq 100 ] || fail "answers: $output"
	# The first 32 hold every place until they ask: none is pushed out.
	[ "${ok:-0}" -ge 32 ] || fail "only ${ok:-0} served: $output"
	first="$output"
	# 40 silent clients fill the 32 places; a scrape still gets in.
	"$PY" "$PROMCLIENT" "$MADDR" hold 40 30 >"$T/hold.out" 3>&- &
	hold=$!
	BG_PIDS+=("$hold")
	wait_for grep -q held "$T/hold.out"
	# Refused (503) while they have only just come; once they have been
	# silent a second, each scrape pushes the longest silent one out.
	t0=$(now_ms)
	scrape_ok() {
		[ "$(scrape -o /dev/null -w '%{http_code}' 2>/dev/null)" = 200 ]
	}
	wait_for scrape_ok
	t1=$(now_ms)
	kill "$hold"
	wait "$hold" 2>/dev/null || true
	ctr containers >/dev/null
	fds_back() {
		[ "$(find "/proc/$DAEMON_PID/fd" -mindepth 1 | wc -l)" -le "$fds0" ]
	}
	wait_for fds_back
	figure "100 at once: $first; past 40 silent clients a scrape got 200 after $((t1 - t0)) ms; fds back to $fds0"
}
