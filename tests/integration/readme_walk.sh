#!/bin/bash
# readme_walk.sh OUTDIR: runs the README's walk-through exactly as printed.
#
# The walk-through is the first indented block under "## Walk-through" in
# README.md, one command per line. Each line runs unchanged, from the
# repository's top, as a reader would type it. Only the environment differs:
# the script runs in a mount namespace of its own with fresh tmpfs on /run
# and /tmp, so the default state dir (/run/containerd), its socket, runc's
# default root (/run/runc) and the bundle in /tmp are private to this run and
# nothing of the host's is seen or touched.
#
# For step K it writes OUTDIR/K.cmd (the line), K.out, K.err and K.rc. A
# line ending in "&" runs in the background like in a shell; the script then
# waits for what the reader would wait for (the daemon's socket answering, a
# background ctr connected) before the next line. At the end it stops what
# the walk-through left running: the daemon (SIGTERM), background jobs, and
# any container in the private runc root. Before that it records what is
# left (after-*.out): the listing, web's events, the logs folder.
set -u

repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: readme_walk.sh OUTDIR}
out=$(cd "$out" && pwd)
STEP_TIMEOUT=${STEP_TIMEOUT:-60}

if [ -z "${WALK_INNER:-}" ]; then
	exec env WALK_INNER=1 unshare --mount --propagation private "$0" "$out"
fi

# The private world. OUTDIR must not be under /run or /tmp: it would be
# hidden by the mounts; the caller passes one elsewhere.
mount -t tmpfs -o mode=0755 readme-run /run || exit 1
mount -t tmpfs -o mode=1777 readme-tmp /tmp || exit 1
cd "$repo" || exit 1

# The first indented block of the section, without its indent.
awk '/^## Walk-through/ { f = 1; next }
     f && /^## / { exit }
     f && /^    / { print substr($0, 5); b = 1; next }
     f && b && /^$/ { exit }' README.md >"$out/steps"
[ -s "$out/steps" ] || { echo "no walk-through block in README.md" >&2; exit 1; }

bg_pids=()

cleanup() {
	local p
	for p in "${bg_pids[@]}"; do
		pkill -TERM -P "$p" 2>/dev/null
		kill -TERM "$p" 2>/dev/null
	done
	# The daemon, however the walk-through started it: only processes of
	# this mount namespace are looked at.
	pkill -TERM --ns $$ --nslist mnt -x containerd 2>/dev/null
	for _ in $(seq 100); do
		pgrep --ns $$ --nslist mnt -x containerd >/dev/null || break
		sleep 0.1
	done
	pkill -KILL --ns $$ --nslist mnt -x containerd 2>/dev/null
	for c in $(runc list -q 2>/dev/null); do
		runc delete -f "$c" >/dev/null 2>&1
	done
	pkill -KILL --ns $$ --nslist mnt -x containerd-shim 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT

# wait_until SECONDS CMD...: polls CMD until it succeeds; 1 on timeout.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.05
	done
}

connected() {
	ss -xpH state connected 2>/dev/null | grep -q "pid=$1,"
}

k=0
while IFS= read -r line <&3; do
	k=$((k + 1))
	printf '%s\n' "$line" >"$out/$k.cmd"
	cmd=${line%%#*}
	cmd=${cmd%"${cmd##*[![:space:]]}"}
	if [ "${cmd: -1}" = "&" ]; then
		eval "$cmd" >"$out/$k.out" 2>"$out/$k.err"
		pid=$!
		bg_pids+=("$pid")
		echo 0 >"$out/$k.rc"
		case $cmd in
		*"make run"* | *bin/containerd*)
			# The reader waits for the daemon to answer.
			wait_until 180 bin/ctr containers || echo 124 >"$out/$k.rc"
			;;
		*)
			# A background client: connected before the next step.
			wait_until 20 connected "$pid" || echo 124 >"$out/$k.rc"
			;;
		esac
	else
		timeout "$STEP_TIMEOUT" bash -c "$line" >"$out/$k.out" 2>"$out/$k.err" </dev/null
		echo $? >"$out/$k.rc"
	fi
done 3<"$out/steps"
echo "$k" >"$out/count"

# What is left once the reader is done, looked at before the world goes.
bin/ctr containers --all >"$out/after-list.out" 2>&1
sqlite3 /run/containerd/state.db "SELECT count(*) FROM events WHERE container_id = 'web'" \
	>"$out/after-events.out" 2>&1
ls -A /run/containerd/_logs >"$out/after-logs.out" 2>&1
