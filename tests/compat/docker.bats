#!/usr/bin/env bats
# The real Docker Engine on this daemon (issue 11): dockerd 17.09.1-ce and the
# docker 17.03.2-ce client, unchanged, with this daemon as their containerd.
# One dockerd (--containerd, an absolute socket path) serves most tests; the
# tests that restart dockerd or this daemon leave them as they found them,
# and the default-mode tests (dockerd starts docker-containerd itself) come
# last. Needs DOCKERD and DOCKER (see docker_helpers.bash); skips otherwise.

load docker_helpers

setup_file() {
	dk_setup_file
}

teardown_file() {
	dk_teardown_file
}

setup() {
	dk_setup
	# A test that restarted something and failed half way: up again, as it was.
	dk_revive
}

teardown() {
	dk_teardown
	[ -n "${DK:-}" ] && [ -d "$DK" ] || return 0
	local ids
	ids=$(docker ps -aq 2>/dev/null) || return 0
	[ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
}

# dk_ensure [--default] [FLAGS...]: dockerd in that mode with those flags,
# restarting what must be (the current mode is in $DK/dockerd.mode).
dk_ensure() {
	local want="$*"
	if [ "${1:-}" != --default ] && ! pid_alive "$(dk_containerd_pid)"; then
		dk_start_containerd
	fi
	if [ "$(cat "$DK/dockerd.mode" 2>/dev/null)" = "$want" ] &&
		pid_alive "$(cat "$DK/dockerd.pid" 2>/dev/null)"; then
		return 0
	fi
	dk_restart_dockerd "$@"
}

# dk_revive: this daemon (unless in the default mode) and dockerd running,
# started again in the mode they were in if a test left them down.
dk_revive() {
	local mode
	mode=$(cat "$DK/dockerd.mode" 2>/dev/null)
	if [ "${mode#--default}" = "$mode" ] && ! pid_alive "$(dk_containerd_pid)"; then
		dk_start_containerd
	fi
	if ! pid_alive "$(cat "$DK/dockerd.pid" 2>/dev/null)"; then
		dk_start_dockerd $mode
	fi
}

# dk_restart_dockerd [--default] [FLAGS...]: stop dockerd (SIGTERM) and start
# it again with these flags.
dk_restart_dockerd() {
	dk_stop_dockerd
	dk_start_dockerd "$@" || return 1
	echo "$*" >"$DK/dockerd.mode"
}

# A container whose init exits 143 at once on SIGTERM (`wait` is interrupted,
# unlike a foreground sleep).
TRAP=(sh -c 'trap "exit 143" TERM; sleep 1000 & wait')

# ---------------------------------------------------------------- item 1

@test "item 1: dockerd --containerd with an absolute socket path (its :authority) talks to this daemon" {
	[[ "$DK/c.sock" == /* ]]
	run -0 docker info
	assert_contains "$output" "containerd version:"
	run -0 docker run --rm --net=none busybox echo via-absolute-path
	assert_eq "$output" via-absolute-path
	# No stream was reset: nothing about the authority in either log.
	run ! grep -Ei 'PROTOCOL_ERROR|authority' "$DK/containerd.log"
	figure "dockerd dialled $DK/c.sock; docker run answered"
}

# ---------------------------------------------------------------- the first paragraph

@test "run: docker run --rm relays output and exit 0; run -d shows Up in docker ps and the runtime" {
	local t0 id
	t0=$(now_ms)
	run -0 docker run --rm --net=none busybox sh -c 'echo hello from busybox'
	assert_eq "$output" "hello from busybox"
	figure "docker run --rm echo: $(($(now_ms) - t0)) ms"
	id=$(dk_run --name web busybox sleep 1000)
	run -0 docker ps --format '{{.Names}} {{.Status}}'
	assert_contains "$output" "web Up"
	runc_has "$id"
	assert_eq "$(runc_state "$id")" running
	docker rm -f web >/dev/null
	dk_wait runc_lacks "$id"
}

@test "logs: stdout and stderr both in docker logs, -f follows to the exit" {
	dk_run --name lg busybox sh -c 'echo out1; echo err1 >&2; sleep 0.3; echo out2' >/dev/null
	run -0 docker logs -f lg
	assert_contains "$output" out1
	assert_contains "$output" err1
	assert_contains "$output" out2
	out=$(docker logs lg 2>/dev/null)
	assert_contains "$out" out2
	assert_not_contains "$out" err1
	err=$(docker logs lg 2>&1 >/dev/null)
	assert_eq "$err" err1 "stderr alone"
	run -0 docker logs --tail 1 lg
	assert_eq "$(printf '%s\n' "$output" | grep -c .)" 1 "lines of --tail 1"
	figure "logs: $(docker logs lg 2>&1 | wc -l) lines from stdout and stderr"
}

@test "exec: -e, -u, exit status, -it with a terminal and stdin" {
	dk_run --name ex busybox sleep 1000 >/dev/null
	run -0 docker exec -e FOO=bar ex sh -c 'echo $FOO'
	assert_eq "$output" bar
	run -0 docker exec -u nobody ex id -u
	assert_eq "$output" 65534
	run -0 docker exec -u 1234:5678 ex sh -c 'echo $(id -u):$(id -g)'
	assert_eq "$output" 1234:5678
	run -7 docker exec ex sh -c 'exit 7'
	# -it: a terminal inside (the client needs one outside: script gives it).
	run -0 script -qec "$DOCKER -H unix://$DK/d.sock exec -it -e T=tt ex sh -c 'test -t 0 && echo tty-\$T; exit 0'" /dev/null
	assert_contains "$output" tty-tt
	# stdin to an exec.
	run -0 bash -c "echo piped-in | DOCKER_CONFIG=$DK/client $DOCKER -H unix://$DK/d.sock exec -i ex cat"
	assert_eq "$output" piped-in
	run -0 docker top ex
	assert_not_contains "$output" "cat"
	figure "exec: -e, -u nobody (65534), -u 1234:5678, exit 7, -it, -i all relayed"
}

@test "stdin: docker run -i passes stdin through and closes it" {
	run -0 bash -c "printf 'line1\nline2\n' | DOCKER_CONFIG=$DK/client timeout 30 $DOCKER -H unix://$DK/d.sock run -i --rm --net=none busybox sh -c 'cat; echo eof'"
	assert_eq "$output" "$(printf 'line1\nline2\neof')"
	figure "stdin: 2 lines through run -i, then EOF"
}

@test "attach/detach: docker attach relays a terminal both ways; ctrl-p ctrl-q detaches, the container runs on" {
	local id
	id=$(dk_run -it --name at busybox sh)
	dk_wait dk_is running at
	run -0 dk_attach_detach at 'echo attached-$((6 * 7))' attached-42
	assert_contains "$output" attached-42
	assert_contains "$output" "client exit 0"
	dk_is running at
	assert_eq "$(runc_state "$id")" running
	run -0 docker exec at echo still-here
	figure "attach: typed a line, read attached-42; detached (client exit 0), container running"
}

@test "resize: the API's resize reaches the container's terminal" {
	dk_run -t --name rs busybox sh -c 'while :; do stty size >/tmp/sz; sleep 0.1; done' >/dev/null
	dk_wait dk_is running rs
	run -0 dk_api POST "/v1.27/containers/rs/resize?h=33&w=77"
	has_size() { [ "$(docker exec rs cat /tmp/sz 2>/dev/null)" = "33 77" ]; }
	dk_wait has_size
	run -0 dk_api POST "/v1.27/containers/rs/resize?h=50&w=120"
	has_size() { [ "$(docker exec rs cat /tmp/sz 2>/dev/null)" = "50 120" ]; }
	dk_wait has_size
	figure "resize: 33x77 then 50x120 seen by stty inside"
}

@test "stop: SIGTERM honoured at once (143); ignored, SIGKILL after -t 1 (137)" {
	local t0 t_trap t_sleep
	dk_run --name st1 busybox "${TRAP[@]}" >/dev/null
	dk_run --name st2 busybox sleep 1000 >/dev/null
	t0=$(now_ms)
	docker stop -t 10 st1 >/dev/null
	t_trap=$(($(now_ms) - t0))
	assert_eq "$(dk_inspect '{{.State.ExitCode}}' st1)" 143 "st1 exit code"
	t0=$(now_ms)
	docker stop -t 1 st2 >/dev/null
	t_sleep=$(($(now_ms) - t0))
	assert_eq "$(dk_inspect '{{.State.ExitCode}}' st2)" 137 "st2 exit code"
	[ "$t_trap" -lt 5000 ] || fail "a trapped SIGTERM took $t_trap ms"
	[ "$t_sleep" -ge 900 ] || fail "SIGKILL came before the 1 s grace: $t_sleep ms"
	figure "stop: trapped TERM 143 in $t_trap ms; ignored TERM, 137 after $t_sleep ms"
}

@test "kill: docker kill is 137; kill -s USR1 reaches a trap" {
	dk_run --name k1 busybox sleep 1000 >/dev/null
	dk_run --name k2 busybox sh -c 'trap "exit 42" USR1; sleep 1000 & wait' >/dev/null
	docker kill k1 >/dev/null
	run -0 docker wait k1
	assert_eq "$output" 137
	dk_wait dk_is running k2
	docker kill -s USR1 k2 >/dev/null
	run -0 docker wait k2
	assert_eq "$output" 42
	run ! docker kill k1
	figure "kill: 137; USR1 -> 42; a kill of an exited container refused"
}

@test "exit codes: 0, 42, 255, and runc's not found / not executable as 127 / 126" {
	local seen=()
	run -0 docker run --rm --net=none busybox true
	seen+=($status)
	run -42 docker run --rm --net=none busybox sh -c 'exit 42'
	seen+=($status)
	run -255 docker run --rm --net=none busybox sh -c 'exit 255'
	seen+=($status)
	run -127 docker run --rm --net=none busybox /no/such/program
	seen+=($status)
	run -126 docker run --rm --net=none busybox /etc/passwd
	seen+=($status)
	figure "exit codes seen: ${seen[*]}"
}

@test "pause/unpause: frozen in the runtime, exec refused, then running again" {
	local id
	id=$(dk_run --name pz busybox sleep 1000)
	docker pause pz >/dev/null
	assert_eq "$(dk_status pz)" paused
	assert_eq "$(runc_state "$id")" paused
	run ! docker exec pz true
	assert_contains "$output" paused
	docker unpause pz >/dev/null
	assert_eq "$(dk_status pz)" running
	assert_eq "$(runc_state "$id")" running
	run -0 docker exec pz echo thawed
	figure "pause: docker and runc say paused; unpause: running, exec works"
}

@test "stats: docker stats reads the container's cgroups" {
	dk_run --name sts busybox sh -c 'x=$(head -c 2000000 /dev/zero | tr "\0" a); sleep 1000' >/dev/null
	dk_wait dk_is running sts
	run -0 docker stats --no-stream --format '{{.MemUsage}} {{.PIDs}}' sts
	[[ "$output" =~ ^[0-9.]+\ ?[KMG]i?B ]] || fail "no memory usage in: $output"
	[[ "$output" != 0\ B* && "$output" != 0B* ]] || fail "zero memory usage: $output"
	figure "stats: memory usage and pids: $output"
}

@test "update: docker update changes memory and cpu shares of a running container" {
	dk_run --name up -m 128m busybox sleep 1000 >/dev/null
	run -0 docker update -m 64m --memory-swap 128m --cpu-shares 512 up
	assert_eq "$(dk_inspect '{{.HostConfig.Memory}}' up)" 67108864
	run -0 docker exec up cat /sys/fs/cgroup/memory/memory.limit_in_bytes
	assert_eq "$output" 67108864 "memory.limit_in_bytes"
	run -0 docker exec up cat /sys/fs/cgroup/cpu/cpu.shares
	assert_eq "$output" 512 "cpu.shares"
	figure "update: memory limit 64 MiB, cpu.shares 512 in the cgroup"
}

@test "top: docker top lists all the container's processes, not only its init" {
	dk_run --name tp busybox sh -c 'sleep 1001 & exec sleep 1002' >/dev/null
	both_run() { docker exec tp ps | grep -q 'sleep 1001' && docker exec tp ps | grep -q 'sleep 1002'; }
	dk_wait both_run
	run -0 docker top tp
	figure "top: $((${#lines[@]} - 1)) processes listed: $(printf '%s\n' "${lines[@]:1}" | awk '{ $1=$2=$3=$4=$5=$6=$7=""; print }' | xargs echo)"
	assert_contains "$output" "sleep 1002"
	# The 2017 daemon's State lists every pid of the container (runc ps).
	assert_contains "$output" "sleep 1001"
}

@test "wait: docker wait returns the exit code, before and after the exit" {
	dk_run --name wt busybox sh -c 'sleep 0.5; exit 3' >/dev/null
	run -0 docker wait wt
	assert_eq "$output" 3
	run -0 docker wait wt
	assert_eq "$output" 3
	figure "wait: 3, twice"
}

@test "healthcheck: starting, unhealthy, then healthy as the probe passes" {
	local t0
	dk_run --name hc --health-cmd 'test -e /tmp/ok' --health-interval 1s \
		--health-retries 1 --health-timeout 5s busybox sleep 1000 >/dev/null
	health() { [ "$(dk_inspect '{{.State.Health.Status}}' hc)" = "$1" ]; }
	dk_wait health unhealthy
	t0=$(now_ms)
	docker exec hc touch /tmp/ok
	dk_wait health healthy
	figure "healthcheck: unhealthy, then healthy $(($(now_ms) - t0)) ms after the file appeared"
}

@test "restart policy: on-failure:2 restarts twice; always restarts a process killed from the host" {
	local pid1 pid2
	dk_run --name rp1 --restart on-failure:2 busybox sh -c 'exit 3' >/dev/null
	# "exited" is final: between the runs it is "restarting" (or running),
	# and a restart that fails leaves it exited.
	dk_wait dk_is exited rp1
	assert_eq "$(dk_inspect '{{.RestartCount}} {{.State.ExitCode}}' rp1)" "2 3" "restarts, exit code"
	dk_run --name rp2 --restart always busybox sleep 1000 >/dev/null
	dk_wait dk_is running rp2
	pid1=$(dk_inspect '{{.State.Pid}}' rp2)
	kill -9 "$pid1"
	restarted() {
		dk_is exited rp2 && return 0
		pid2=$(dk_inspect '{{.State.Pid}}' rp2)
		[ "$(dk_inspect '{{.RestartCount}}' rp2)" = 1 ] && [ "$pid2" != 0 ] && [ "$pid2" != "$pid1" ]
	}
	dk_wait restarted
	assert_eq "$(dk_status rp2)" running "rp2 after its process was killed"
	figure "restart policy: on-failure:2 ran 3 times (exit 3); always: pid $pid1 killed, now $pid2"
}

@test "OOM: a container over its memory limit is killed, 137 and OOMKilled" {
	cgroup_memory_ok=1
	[ -d /sys/fs/cgroup/memory ] || skip "needs the cgroup v1 memory controller"
	dk_run --name oom -m 16m --memory-swap 16m busybox sh -c 'x=$(head -c 100000000 /dev/zero | tr "\0" a); echo survived' >/dev/null
	run -0 docker wait oom
	assert_eq "$output" 137
	assert_eq "$(dk_inspect '{{.State.OOMKilled}}' oom)" true OOMKilled
	run -0 docker logs oom
	assert_not_contains "$output" survived
	figure "OOM: exit 137, OOMKilled true"
}

# ---------------------------------------------------------------- dockerd restarts

@test "live-restore: dockerd restarted with --live-restore while containers run and one is paused" {
	local id1 id2 pid1 pid2 t0
	dk_restart_dockerd --live-restore
	id1=$(dk_run --name lr1 busybox sh -c 'while :; do date +%s%N; sleep 0.2; done')
	id2=$(dk_run --name lr2 busybox sleep 1000)
	dk_wait dk_is running lr2
	docker pause lr2 >/dev/null
	pid1=$(dk_inspect '{{.State.Pid}}' lr1)
	pid2=$(dk_inspect '{{.State.Pid}}' lr2)
	t0=$(now_ms)
	dk_stop_dockerd
	# dockerd is gone; the containers are not.
	pid_alive "$pid1"
	assert_eq "$(runc_state "$id2")" paused
	dk_start_dockerd --live-restore
	echo "--live-restore" >"$DK/dockerd.mode"
	figure "dockerd down and up again in $(($(now_ms) - t0)) ms"
	assert_eq "$(dk_status lr1)" running
	assert_eq "$(dk_inspect '{{.State.Pid}}' lr1)" "$pid1" "lr1's pid"
	assert_eq "$(dk_status lr2)" paused
	assert_eq "$(dk_inspect '{{.State.Pid}}' lr2)" "$pid2" "lr2's pid"
	docker unpause lr2 >/dev/null
	assert_eq "$(runc_state "$id2")" running
	run -0 docker exec lr2 echo restored
	# The logs go on after the restart.
	n1=$(docker logs lr1 | wc -l)
	more_logs() { [ "$(docker logs lr1 | wc -l)" -gt "$n1" ]; }
	dk_wait more_logs
	docker stop -t 1 lr2 >/dev/null
	run -0 docker wait lr2
	assert_eq "$output" 137
	docker kill lr1 >/dev/null
	run -0 docker wait lr1
	assert_eq "$output" 137
	dk_wait runc_lacks "$id1"
	dk_wait runc_lacks "$id2"
	figure "live-restore: same pids, paused stayed paused, logs, exec, stop and kill work after"
}

@test "item 12: dockerd's restore query (Events stored_only, no or zero timestamp) answers; containers restored" {
	local id1 pid1 since
	dk_ensure --live-restore
	id1=$(dk_run --name rq1 busybox sleep 1000)
	dk_run --name rq2 busybox sh -c 'exit 5' >/dev/null
	run -0 docker wait rq2
	pid1=$(dk_inspect '{{.State.Pid}}' rq1)
	dk_stop_dockerd
	since=$(wc -l <"$DK/dockerd.log")
	dk_start_dockerd --live-restore
	echo "--live-restore" >"$DK/dockerd.mode"
	assert_eq "$(dk_status rq1)" running
	assert_eq "$(dk_inspect '{{.State.Pid}}' rq1)" "$pid1" "rq1's pid"
	assert_eq "$(dk_inspect '{{.State.Status}} {{.State.ExitCode}}' rq2)" "exited 5"
	run -0 docker exec rq1 echo ok
	log=$(tail -n +"$((since + 1))" "$DK/dockerd.log")
	assert_not_contains "$log" "failed to get container event"
	assert_not_contains "$log" "storedOnly"
	assert_not_contains "$log" "error restoring"
	assert_not_contains "$log" "failed to retrieve container"
	docker rm -f rq1 rq2 >/dev/null
	dk_wait runc_lacks "$id1"
	figure "restore: the running container kept pid $pid1, the exited one its 5; no restore error in dockerd's log"
}

@test "dockerd restarted without --live-restore: it stops the running and the paused container; they start again" {
	local id1 id2 t0
	dk_ensure
	id1=$(dk_run --name nl1 --stop-timeout 1 busybox "${TRAP[@]}")
	id2=$(dk_run --name nl2 --stop-timeout 1 busybox sleep 1000)
	dk_wait dk_is running nl2
	docker pause nl2 >/dev/null
	t0=$(now_ms)
	dk_stop_dockerd
	figure "dockerd stopped its containers and exited in $(($(now_ms) - t0)) ms"
	runc_lacks "$id1" || fail "nl1 still in the runtime"
	runc_lacks "$id2" || fail "nl2 still in the runtime: $(runc_state "$id2")"
	dk_start_dockerd
	echo "" >"$DK/dockerd.mode"
	assert_eq "$(dk_inspect '{{.State.Status}} {{.State.ExitCode}}' nl1)" "exited 143"
	assert_eq "$(dk_inspect '{{.State.Status}} {{.State.ExitCode}}' nl2)" "exited 137"
	docker start nl1 nl2 >/dev/null
	dk_is running nl1
	dk_is running nl2
	figure "without live-restore: running one 143, paused one 137; both started again"
}

@test "item 3: dockerd SIGKILLed and restarted without --live-restore kills a paused container: 137, gone from the runtime" {
	local id1 id2 t0 e1 e2
	dk_ensure
	id1=$(dk_run --name pk1 busybox sleep 1000)
	id2=$(dk_run --name pk2 busybox sleep 1000)
	dk_wait dk_is running pk2
	docker pause pk2 >/dev/null
	dk_stop_dockerd -KILL
	assert_eq "$(runc_state "$id2")" paused
	t0=$(now_ms)
	# On restore dockerd sends SIGTERM (ignored by pid 1's sleep), resumes
	# the paused one, and SIGKILLs both after 10 s.
	dk_start_dockerd
	gone() { dk_is exited pk1 && dk_is exited pk2; }
	dk_wait gone
	e1=$(dk_inspect '{{.State.ExitCode}}' pk1)
	e2=$(dk_inspect '{{.State.ExitCode}}' pk2)
	figure "after dockerd's SIGKILL and restart: running one $e1, paused one $e2, in $(($(now_ms) - t0)) ms; runc: $(runc_state "$id2")"
	assert_eq "$e1" 137 "the running container's exit"
	assert_eq "$e2" 137 "the paused container's exit"
	dk_wait -t 5 runc_lacks "$id1"
	dk_wait -t 5 runc_lacks "$id2"
}

# ---------------------------------------------------------------- this daemon restarted

@test "this daemon SIGKILLed and restarted under dockerd: containers run on, an exit meanwhile is reported" {
	local id1 pid1 ctrd t0
	mkdir -p "$DK/flag"
	id1=$(dk_run --name ck1 busybox sleep 1000)
	dk_run --name ck2 -v "$DK/flag:/flag" busybox sh -c 'while [ ! -e /flag/go ]; do sleep 0.1; done; exit 7' >/dev/null
	dk_wait dk_is running ck2
	pid1=$(dk_inspect '{{.State.Pid}}' ck1)
	dk_stop_containerd -KILL
	# While it is down: ck2's process exits.
	touch "$DK/flag/go"
	ck2_pid=$(dk_inspect '{{.State.Pid}}' ck2)
	dk_wait pid_gone "$ck2_pid"
	t0=$(now_ms)
	dk_start_containerd
	run -0 docker wait ck2
	assert_eq "$output" 7
	figure "ck2's exit 7 reported $(($(now_ms) - t0)) ms after the restart"
	assert_eq "$(dk_status ck1)" running
	assert_eq "$(dk_inspect '{{.State.Pid}}' ck1)" "$pid1"
	dk_wait -t 10 docker exec ck1 true
	run -0 docker run --rm --net=none busybox echo new
	assert_eq "$output" new
	docker stop -t 1 ck1 >/dev/null
	assert_eq "$(dk_inspect '{{.State.ExitCode}}' ck1)" 137
	dk_wait runc_lacks "$id1"
}

# ---------------------------------------------------------------- item 2

@test "item 2: docker restart 20 times in a row" {
	local k ok=0 t0 t1 worst=0 errs=()
	dk_run --name rs20 --stop-timeout 5 busybox "${TRAP[@]}" >/dev/null
	dk_wait dk_is running rs20
	t0=$(now_ms)
	for ((k = 0; k < 20; k++)); do
		t1=$(now_ms)
		if out=$(docker restart rs20 2>&1) && dk_is running rs20; then
			ok=$((ok + 1))
		else
			errs+=("$out")
		fi
		t1=$(($(now_ms) - t1))
		[ "$t1" -gt "$worst" ] && worst=$t1
	done
	figure "restarts $ok/20, $(((($(now_ms) - t0)) / 20)) ms each, worst $worst ms"
	[ "${#errs[@]}" -eq 0 ] || figure "first error: ${errs[0]}"
	assert_eq "$ok" 20 "restarts that worked"
}

@test "item 2: docker start -a right after an exit, 20 times" {
	local k ok=0 t0 errs=()
	docker create --name sa20 --net=none busybox sh -c 'echo ran' >/dev/null
	t0=$(now_ms)
	for ((k = 0; k < 20; k++)); do
		if out=$(docker start -a sa20 2>&1) && [ "$out" = ran ]; then
			ok=$((ok + 1))
		else
			errs+=("$out")
		fi
	done
	figure "start -a $ok/20, $(((($(now_ms) - t0)) / 20)) ms each"
	[ "${#errs[@]}" -eq 0 ] || figure "first error: ${errs[0]}"
	assert_eq "$ok" 20 "starts that worked"
}

# ---------------------------------------------------------------- swarm

@test "swarm mode on one node: init, a 2-replica service, scale to 3, rm, leave" {
	local port img t0 svc
	# Swarm mode refuses a dockerd with --live-restore.
	dk_ensure
	# Any port: dockerd has a network namespace of its own.
	port=2377
	img=$(docker images -q --no-trunc busybox | head -n 1)
	t0=$(now_ms)
	run -0 docker swarm init --advertise-addr 127.0.0.1 --listen-addr "127.0.0.1:$port"
	# The image by its id: no registry is asked.
	run -0 docker service create --name svc --replicas 2 "$img" sh -c 'trap "exit 0" TERM; sleep 1000 & wait'
	tasks() { [ "$(docker ps -q --filter label=com.docker.swarm.service.name=svc | wc -l)" = "$1" ]; }
	dk_wait tasks 2
	figure "swarm: 2 replicas running $(($(now_ms) - t0)) ms after init"
	run -0 docker service ls
	assert_contains "$output" "2/2"
	docker service scale svc=3 >/dev/null
	dk_wait tasks 3
	for c in $(docker ps -q --filter label=com.docker.swarm.service.name=svc); do
		runc_has "$(docker inspect -f '{{.Id}}' "$c")"
	done
	t0=$(now_ms)
	docker service rm svc >/dev/null
	all_gone() { [ -z "$(docker ps -aq --filter label=com.docker.swarm.service.name=svc)" ]; }
	dk_wait all_gone
	figure "swarm: scaled to 3, rm took $(($(now_ms) - t0)) ms"
	run -0 docker swarm leave --force
	# All of it happened in dockerd's network namespace, none on the host's.
	[ "$DK_GWBRIDGE_EXISTED" = 1 ] || run ! "$IP" link show docker_gwbridge
}

# ---------------------------------------------------------------- item 11: the default mode (last)

@test "item 11: dockerd's default mode execs docker-containerd and docker-containerd-shim from PATH and runs containers" {
	local t0 p id restarts
	dk_stop_dockerd
	dk_stop_containerd
	t0=$(now_ms)
	dk_start_dockerd --default
	echo "--default" >"$DK/dockerd.mode"
	p=$(dk_containerd_pid)
	pid_alive "$p" || fail "no docker-containerd running"
	run -0 cat "/proc/$p/cmdline"
	assert_contains "$(tr '\0' ' ' <"/proc/$p/cmdline")" "--shim docker-containerd-shim"
	id=$(dk_run --name dm busybox sleep 1000)
	run -0 docker exec dm echo default-mode
	assert_eq "$output" default-mode
	run -0 docker run --rm --net=none busybox echo ok
	# The shim is the one named on PATH.
	pgrep -f "docker-containerd-shim" >/dev/null || pgrep -f "$DK/exec/libcontainerd/containerd" >/dev/null
	# dockerd started it once, not again and again (its health check
	# restarts a docker-containerd that does not come up).
	restarts=$(grep -c 'libcontainerd: new containerd process' "$DK/dockerd.log" || true)
	figure "default mode up and running a container in $(($(now_ms) - t0)) ms; docker-containerd started $restarts time(s)"
	assert_eq "$restarts" 1 "docker-containerd starts"
	assert_eq "$(pid_alive "$p" && echo alive)" alive "docker-containerd $p"
	docker rm -f dm >/dev/null
	dk_wait runc_lacks "$id"
}

@test "default mode: docker-containerd SIGKILLed, dockerd starts it again, containers run on" {
	local p1 p2 id pid t0
	dk_ensure --default
	id=$(dk_run --name dk1 busybox sleep 1000)
	pid=$(dk_inspect '{{.State.Pid}}' dk1)
	p1=$(dk_containerd_pid)
	t0=$(now_ms)
	kill -9 "$p1"
	new_one() { p2=$(dk_containerd_pid); [ -n "$p2" ] && [ "$p2" != "$p1" ] && pid_alive "$p2"; }
	dk_wait new_one
	dk_wait -t 15 docker exec dk1 true
	figure "dockerd started docker-containerd again (pid $p1 -> $p2), exec works $(($(now_ms) - t0)) ms after the kill"
	assert_eq "$(dk_inspect '{{.State.Pid}}' dk1)" "$pid"
	docker kill dk1 >/dev/null
	run -0 docker wait dk1
	assert_eq "$output" 137
	dk_wait runc_lacks "$id"
}
