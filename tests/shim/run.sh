#!/bin/bash
# tests/shim/run.sh: bin/containerd-shim end to end, against the real runc.
# Prints TAP; exits non-zero if a test failed. Needs root, runc, jq and a
# static busybox. Usage: tests/shim/run.sh [path/to/containerd-shim]

# `sh tests/shim/run.sh` works too: bash is needed (arrays), so re-exec.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SHIM=${1:-$HERE/../../bin/containerd-shim}
SHIM=$(cd "$(dirname "$SHIM")" && pwd)/$(basename "$SHIM")
RUNTIME=${RUNTIME:-runc}

n=0 failed=0
ok()   { n=$((n + 1)); echo "ok $n - $1"; }
nok()  { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
check() { # check NAME CONDITION-COMMAND... ; diagnostics from $DIAG
	local name=$1; shift
	if "$@"; then ok "$name"; else nok "$name" "${DIAG:-}"; fi
	DIAG=
}

for tool in "$RUNTIME" jq busybox; do
	if ! command -v "$tool" >/dev/null; then echo "1..0 # SKIP $tool is missing"; exit 0; fi
done
if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP needs root"; exit 0; fi
if [ ! -x "$SHIM" ]; then echo "Bail out! no shim at $SHIM"; exit 1; fi

T=$(mktemp -d "${TMPDIR:-/tmp}/shimtest.XXXXXX")
IDS=() PIDS=()
cleanup() {
	local id p
	for id in "${IDS[@]}"; do "$RUNTIME" delete -f "$id" >/dev/null 2>&1; done
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

# A busybox rootfs shared by all bundles.
mkdir -p "$T/rootfs/bin" "$T/rootfs/proc" "$T/rootfs/dev"
cp "$(command -v busybox)" "$T/rootfs/bin/busybox"
for c in sh ls cat sleep echo tty stty true head dd; do ln -s busybox "$T/rootfs/bin/$c"; done
(cd "$T" && "$RUNTIME" spec) || { echo "Bail out! runc spec failed"; exit 1; }
mv "$T/config.json" "$T/spec.json"

seq=0
# new_bundle ARGS-JSON [JQ-FILTER]: a bundle in $B, an id in $ID, a proc dir in $P.
new_bundle() {
	seq=$((seq + 1))
	ID=shimtest-$$-$seq
	B=$T/b$seq
	P=$T/p$seq
	mkdir -p "$B" "$P"
	jq --argjson a "$1" --arg r "$T/rootfs" \
		".root.path=\$r | .process.terminal=false | .process.args=\$a | ${2:-.}" \
		"$T/spec.json" > "$B/config.json"
	IDS+=("$ID")
}

# start_shim [EXTRA ARGS...]: runs the shim for $ID/$B/$P in the background,
# its sync fd to $P.sync (a file); the shim's pid in $SP.
start_shim() {
	"$SHIM" --id "$ID" --bundle "$B" --dir "$P" --runtime "$RUNTIME" "$@" \
		3>"$P.sync" </dev/null >/dev/null 2>"$P.stderr" &
	SP=$!
	PIDS+=("$SP")
}

# wait_for SECONDS COMMAND...: retries until the command succeeds.
wait_for() {
	local end=$((SECONDS + $1)); shift
	until "$@" 2>/dev/null; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.05
	done
}
sync_has() { grep -q "$1" "$P.sync"; }
# wait_shim [SECONDS]: waits for $SP to end; its status in $RC (999: still running).
wait_shim() {
	if wait_for "${1:-10}" eval "! kill -0 $SP"; then wait "$SP"; RC=$?; else RC=999; fi
}
created_pid() { sed -n 's/^created \([0-9]*\)$/\1/p' "$P.sync"; }
exit_status() { cut -d' ' -f1 "$P/exit" 2>/dev/null; }

# run_init ARGS-JSON [JQ] -- [SHIM ARGS]: create through the shim and start it.
run_init() {
	local args=$1 filter=${2:-.}
	shift 2
	new_bundle "$args" "$filter"
	start_shim "$@"
	wait_for 10 sync_has '^created \|^error ' || return 1
	CPID=$(created_pid)
	[ -n "$CPID" ] && "$RUNTIME" start "$ID"
}

# --- usage
"$SHIM" --help >/dev/null 2>&1
check "--help exits 0" [ $? = 0 ]
"$SHIM" --id x --dir /tmp 3>/dev/null >/dev/null 2>&1
check "bad usage exits 2" [ $? = 2 ]

# --- exit status of a plain exit
if run_init '["sh","-c","exit 3"]' . ; then
	wait_shim
	DIAG="rc=$RC exit=$(cat "$P/exit" 2>/dev/null) sync=$(cat "$P.sync")"
	check "exit 3: created <pid>, exit file says 3, shim exits 0" \
		eval '[ $RC = 0 ] && [ "$(exit_status)" = 3 ] && [ -n "$CPID" ]'
	DIAG="$(cat "$P/exit")"
	check "exit file: STATUS EXITED_AT_NS, a recent time" eval \
		'grep -Eq "^3 [0-9]{19}\$" "$P/exit" && [ $(( $(date +%s) - $(cut -d" " -f2 "$P/exit") / 1000000000 )) -lt 60 ]'
	check "control fifo removed at exit" [ ! -e "$P/control" ]
else
	nok "exit 3: created <pid>" "$(cat "$P.sync")"; nok "exit file format"; nok "control fifo removed"
fi

# --- SIGKILL -> 137, and the fds the process sees
if run_init '["sleep","100"]' . ; then
	FDS=$(ls /proc/"$CPID"/fd | sort -n | tr '\n' ' ')
	DIAG="fds: $FDS"
	check "no fd leaks into the container (only 0 1 2)" [ "$FDS" = "0 1 2 " ]
	RSS=$(awk '/VmRSS/ {print $2}' /proc/"$SP"/status)
	echo "# shim VmRSS while a container runs: ${RSS} kB"
	SHIMFDS=$(ls /proc/"$SP"/fd | wc -l)
	echo "# shim fds: $SHIMFDS"
	DIAG="VmRSS ${RSS} kB"
	if grep -q '\.so' /proc/"$SP"/maps; then
		skip "shim RSS: a dynamically linked build (the 128 kB target is for static musl)"
	else
		check "shim RSS <= 128 kB (static musl build)" [ "$RSS" -le 128 ]
	fi
	kill -9 "$CPID"
	wait_shim
	DIAG="rc=$RC exit=$(cat "$P/exit" 2>/dev/null)"
	check "kill -9 of the process: exit 137" eval '[ $RC = 0 ] && [ "$(exit_status)" = 137 ]'
else
	nok "no fd leaks" "$(cat "$P.sync")"; nok "shim RSS"; nok "kill -9: 137"
fi

# --- a TERM trap exiting 143
if run_init '["sh","-c","trap \"exit 143\" TERM; echo ready; while true; do sleep 0.1; done"]' . \
	--stdout "$T/term.out"; then
	wait_for 10 grep -q ready "$T/term.out"
	"$RUNTIME" kill "$ID" TERM
	wait_shim
	DIAG="rc=$RC exit=$(cat "$P/exit" 2>/dev/null)"
	check "TERM trapped with exit 143: 143 (stdout to a regular file)" \
		eval '[ $RC = 0 ] && [ "$(exit_status)" = 143 ]'
else
	nok "TERM: 143" "$(cat "$P.sync")"
fi

# --- stdout and stderr to fifos read by cat
mkfifo "$T/o1" "$T/e1"
cat "$T/o1" > "$T/o1.txt" & CAT1=$!
cat "$T/e1" > "$T/e1.txt" & CAT2=$!
if run_init '["sh","-c","echo to-stdout; echo to-stderr >&2; exit 0"]' . \
	--stdout "$T/o1" --stderr "$T/e1"; then
	wait_shim
	# the shim held the fifos open; with it gone the cats see EOF
	wait_for 5 eval "! kill -0 $CAT1 && ! kill -0 $CAT2"
	DIAG="stdout=$(cat "$T/o1.txt") stderr=$(cat "$T/e1.txt") rc=$RC exit=$(exit_status)"
	check "stdout and stderr reach their fifos" eval \
		'[ "$(cat "$T/o1.txt")" = to-stdout ] && [ "$(cat "$T/e1.txt")" = to-stderr ] && [ "$(exit_status)" = 0 ]'
else
	nok "stdout/stderr fifos" "$(cat "$P.sync")"
fi
kill $CAT1 $CAT2 2>/dev/null

# --- stdin through a fifo, EOF only on close-stdin
mkfifo "$T/i2" "$T/o2"
cat "$T/o2" > "$T/o2.txt" & CAT=$!
if run_init '["cat"]' . --stdin "$T/i2" --stdout "$T/o2"; then
	echo line-one > "$T/i2"		# opens, writes, closes: must not be an EOF
	echo line-two > "$T/i2"
	wait_for 10 grep -q line-two "$T/o2.txt"
	sleep 0.2
	DIAG="$(cat "$P/exit" 2>/dev/null)"
	check "a writer closing the stdin fifo is not an EOF" eval 'kill -0 $SP && [ ! -e "$P/exit" ]'
	echo close-stdin > "$P/control"
	wait_shim
	wait_for 5 eval "! kill -0 $CAT"
	DIAG="rc=$RC exit=$(exit_status) out=$(tr '\n' '|' < "$T/o2.txt")"
	check "stdin relayed; close-stdin makes cat exit 0" eval \
		'[ $RC = 0 ] && [ "$(exit_status)" = 0 ] && [ "$(cat "$T/o2.txt")" = "$(printf "line-one\nline-two")" ]'
else
	nok "stdin a writer closing" "$(cat "$P.sync")"; nok "stdin close-stdin"
fi
kill $CAT 2>/dev/null

# --- data written just before close-stdin is delivered first
mkfifo "$T/i3" "$T/o3"
cat "$T/o3" > "$T/o3.txt" & CAT=$!
if run_init '["cat"]' . --stdin "$T/i3" --stdout "$T/o3"; then
	# the writer is done once all is in the fifo: up to 64 kB may still wait there
	timeout 20 sh -c "head -c 200000 /dev/zero | tr '\\0' x > '$T/i3'"
	echo close-stdin > "$P/control"
	wait_shim
	wait_for 5 eval "! kill -0 $CAT"
	DIAG="rc=$RC exit=$(exit_status) bytes=$(wc -c < "$T/o3.txt")"
	check "200000 bytes of stdin through a full pipe, then EOF" eval \
		'[ "$(exit_status)" = 0 ] && [ "$(wc -c < "$T/o3.txt")" = 200000 ]'
else
	nok "stdin bulk" "$(cat "$P.sync")"
fi
kill $CAT 2>/dev/null

# --- runtime failures
new_bundle '["true"]' ".root.path=\"$T/no-rootfs\""
start_shim
wait_shim
MSG=$(cat "$P.sync")
DIAG="rc=$RC sync=$MSG"
check "missing rootfs: error <runc's message>, shim exits 1" eval \
	'[ $RC = 1 ] && [[ "$MSG" == "error "*rootfs* ]] && [ $(wc -l < "$P.sync") = 1 ]'
check "failed create leaves no control fifo or console socket" eval '[ ! -e "$P/control" ] && [ ! -e "$P/console.sock" ]'

new_bundle '["true"]' .
echo '{ not json' > "$B/config.json"
start_shim
wait_shim
MSG=$(cat "$P.sync")
DIAG="rc=$RC sync=$MSG"
check "bad config.json: error with runc's message" eval '[ $RC = 1 ] && [[ "$MSG" == "error runc create failed: "?* ]]'

new_bundle '["true"]' .
"$SHIM" --id "$ID" --bundle "$B" --dir "$P" --runtime "$T/no-such-runc" 3>"$P.sync" 2>/dev/null
RC=$?
MSG=$(cat "$P.sync")
DIAG="rc=$RC sync=$MSG"
check "missing runtime binary: error ... No such file" eval \
	'[ $RC = 1 ] && [[ "$MSG" == "error "*no-such-runc*"No such file"* ]]'

new_bundle '["true"]' .
printf '#!/bin/sh\nexit 5\n' > "$T/fake-runtime"; chmod +x "$T/fake-runtime"
"$SHIM" --id "$ID" --bundle "$B" --dir "$P" --runtime "$T/fake-runtime" 3>"$P.sync" 2>/dev/null
RC=$?
MSG=$(cat "$P.sync")
DIAG="rc=$RC sync=$MSG"
check "a silent runtime failure: exited with status 5" eval \
	'[ $RC = 1 ] && [ "$MSG" = "error $T/fake-runtime create exited with status 5" ]'

# the runtime's argv for each verb, and its JSON log error, with a fake runtime
cat > "$T/argv-runtime" <<'EOS'
#!/bin/sh
printf '%s\n' "$@" > "$FAKE_ARGS"
while [ $# -gt 0 ]; do [ "$1" = --log ] && log=$2; shift; done
echo '{"level":"info","msg":"starting"}' >> "$log"
printf '%s\n' '{"level":"error","msg":"fake: line one\nline \"two\"","time":"x"}' >> "$log"
echo '{"level":"warning","msg":"later, not an error"}' >> "$log"
exit 1
EOS
chmod +x "$T/argv-runtime"
argv_case() { # NAME EXPECTED-ARGV(space separated) SHIM-ARGS...
	local name=$1 want=$2; shift 2
	new_bundle '["true"]' .
	local args=("${@//@B/$B}")
	FAKE_ARGS=$P.args "$SHIM" --id "$ID" --dir "$P" --runtime "$T/argv-runtime" \
		--runtime-arg --root=/r --runtime-arg=--debug "${args[@]}" 3>"$P.sync" 2>/dev/null
	RC=$?
	GOT=$(tr '\n' ' ' < "$P.args")
	want=${want//@P/$P}; want=${want//@B/$B}; want=${want//@ID/$ID}; want=${want//@T/$T}
	DIAG="got:  $GOT|want: $want|sync: $(cat "$P.sync")"
	check "argv: $name" eval '[ "$GOT" = "$want" ] && [ $RC = 1 ] &&
		[ "$(cat "$P.sync")" = "error fake: line one line \"two\"" ]'
}
argv_case create "--root=/r --debug --log @P/runtime.log --log-format json create --bundle @B --pid-file @P/pid @ID " \
	--bundle @B
argv_case "create, tty, no-pivot" "--root=/r --debug --log @P/runtime.log --log-format json create --bundle @B --pid-file @P/pid --console-socket @P/console.sock --no-pivot @ID " \
	--bundle @B --terminal --no-pivot
argv_case restore "--root=/r --debug --log @P/runtime.log --log-format json restore --detach --bundle @B --image-path @T/img --work-path @P/criu-work --pid-file @P/pid --no-pivot @ID " \
	--bundle @B --checkpoint "$T/img" --no-pivot
# The options of the checkpoint's config.json, as the 2017 shim passed them.
mkdir -p "$T/img2"
echo '{"created":"2017-06-01T10:00:00Z","name":"img2","tcp":true,"unixSockets":true,"shell":true,"exit":false,"emptyNS":["network"]}' >"$T/img2/config.json"
argv_case "restore, options from config.json" "--root=/r --debug --log @P/runtime.log --log-format json restore --detach --bundle @B --image-path @T/img2 --work-path @P/criu-work --tcp-established --ext-unix-sk --shell-job --empty-ns network --pid-file @P/pid @ID " \
	--bundle @B --checkpoint "$T/img2"
argv_case exec "--root=/r --debug --log @P/runtime.log --log-format json exec --detach --pid-file @P/pid --process @T/proc.json --console-socket @P/console.sock @ID " \
	--exec "$T/proc.json" --terminal

mkdir -p "$T/img3"
echo '{"name":"img3","shell":1}' >"$T/img3/config.json"
new_bundle '["true"]' .
FAKE_ARGS=$P.args "$SHIM" --id "$ID" --bundle "$B" --dir "$P" --runtime "$T/argv-runtime" --checkpoint "$T/img3" 3>"$P.sync" 2>/dev/null
RC=$?
MSG=$(cat "$P.sync")
DIAG="rc=$RC sync=$MSG"
check "restore, a config.json that is not the 2017 format: error naming it, no runtime run" eval \
	'[ $RC = 1 ] && [ "$MSG" = "error checkpoint config $T/img3/config.json: not a JSON object with a true/false \"shell\"" ] && [ ! -e "$P.args" ]'

new_bundle '["true"]' .
"$SHIM" --id "$ID" --bundle "$B" --dir "$P" --runtime "$RUNTIME" --stdout /nonexistent/dir/out 3>"$P.sync" 2>/dev/null
RC=$?
MSG=$(cat "$P.sync")
DIAG="rc=$RC sync=$MSG"
check "unopenable stdout: error open stdout" eval '[ $RC = 1 ] && [[ "$MSG" == "error open stdout"* ]]'

# --- exec into a running container
if run_init '["sleep","100"]' . ; then
	INIT_ID=$ID INIT_P=$P INIT_SP=$SP INIT_PID=$CPID
	jq '.process | .args=["sh","-c","ls /proc/self/fd; exit 7"] | .terminal=false' \
		"$B/config.json" > "$T/exec7.json"
	P=$T/exec7; mkdir -p "$P"
	"$SHIM" --id "$ID" --dir "$P" --runtime "$RUNTIME" --exec "$T/exec7.json" \
		--stdout "$T/exec7.out" 3>"$P.sync" 2>/dev/null &
	SP=$!; PIDS+=("$SP")
	wait_shim
	EPID=$(created_pid)
	DIAG="rc=$RC sync=$(cat "$P.sync") exit=$(cat "$P/exit" 2>/dev/null)"
	check "exec: its own pid, its exit status 7" eval \
		'[ $RC = 0 ] && [ -n "$EPID" ] && [ "$EPID" != "$INIT_PID" ] && [ "$(exit_status)" = 7 ]'
	FDS=$(tr '\n' ' ' < "$T/exec7.out")
	DIAG="fds: $FDS"
	check "exec: no fd leaks (0 1 2, and 3 is ls's own)" [ "$FDS" = "0 1 2 3 " ]

	# an exec that runc cannot start
	jq '.process | .args=["/no/such/binary"] | .terminal=false' "$B/config.json" > "$T/execbad.json"
	P=$T/execbad; mkdir -p "$P"
	"$SHIM" --id "$ID" --dir "$P" --runtime "$RUNTIME" --exec "$T/execbad.json" 3>"$P.sync" 2>/dev/null
	RC=$?
	DIAG="rc=$RC sync=$(cat "$P.sync")"
	check "exec of a missing binary: error with runc's message" eval \
		'[ $RC = 1 ] && grep -q "^error .*no/such/binary" "$P.sync"'

	# a tty exec answers `tty`
	jq '.process | .args=["tty"] | .terminal=true' "$B/config.json" > "$T/exectty.json"
	mkfifo "$T/o4"
	cat "$T/o4" > "$T/o4.txt" & CAT=$!
	P=$T/exectty; mkdir -p "$P"
	"$SHIM" --id "$ID" --dir "$P" --runtime "$RUNTIME" --exec "$T/exectty.json" --terminal \
		--stdout "$T/o4" 3>"$P.sync" 2>/dev/null &
	SP=$!; PIDS+=("$SP")
	wait_shim
	wait_for 5 eval "! kill -0 $CAT"
	DIAG="rc=$RC sync=$(cat "$P.sync") out=$(cat -v "$T/o4.txt") exit=$(exit_status)"
	check "tty exec: tty says /dev/pts/N" eval \
		'[ $RC = 0 ] && grep -q "^/dev/pts/[0-9]*.\?$" "$T/o4.txt" && [ "$(exit_status)" = 0 ]'
	check "console socket removed" [ ! -e "$P/console.sock" ]
	kill $CAT 2>/dev/null

	# a tty exec reading stdin; close-stdin is a ^D
	jq '.process | .args=["sh","-c","stty size; cat; echo done"] | .terminal=true' "$B/config.json" > "$T/execcat.json"
	mkfifo "$T/i5" "$T/o5"
	cat "$T/o5" > "$T/o5.txt" & CAT=$!
	P=$T/execcat; mkdir -p "$P"
	"$SHIM" --id "$ID" --dir "$P" --runtime "$RUNTIME" --exec "$T/execcat.json" --terminal \
		--stdin "$T/i5" --stdout "$T/o5" 3>"$P.sync" 2>/dev/null &
	SP=$!; PIDS+=("$SP")
	wait_for 10 sync_has '^created '
	wait_for 10 test -p "$P/control"
	echo "resize 100 40" > "$P/control"
	printf 'hello-tty\n' > "$T/i5"
	wait_for 10 grep -q "hello-tty.*hello-tty" <(tr -d '\r' < "$T/o5.txt" | tr '\n' ' ')
	echo "# tty exec shim VmRSS (stdin and tty relays): $(awk '/VmRSS/ {print $2}' /proc/"$SP"/status) kB"
	echo close-stdin > "$P/control"
	wait_shim
	wait_for 5 eval "! kill -0 $CAT"
	OUT=$(tr -d '\r' < "$T/o5.txt" | tr '\n' '|')
	DIAG="rc=$RC out=$OUT exit=$(exit_status)"
	check "tty exec: stdin relayed, ^D on close-stdin, output drained" eval \
		'[ $RC = 0 ] && [[ "$OUT" == *"hello-tty|hello-tty|done|" ]] && [ "$(exit_status)" = 0 ]'
	kill $CAT 2>/dev/null

	kill -9 "$INIT_PID"
	SP=$INIT_SP P=$INIT_P
	wait_shim
else
	for t in "exec" "exec bad" "tty exec" "console sock" "tty stdin"; do nok "$t" "$(cat "$P.sync")"; done
fi

# --- a tty init: resize before start, stty size sees it
mkfifo "$T/o6"
cat "$T/o6" > "$T/o6.txt" & CAT=$!
new_bundle '["sh","-c","stty size; exit 4"]' '.process.terminal=true'
start_shim --terminal --stdout "$T/o6"
if wait_for 10 sync_has '^created '; then
	echo "resize 123 45" > "$P/control"
	sleep 0.1
	"$RUNTIME" start "$ID"
	wait_shim
	wait_for 5 eval "! kill -0 $CAT"
	OUT=$(tr -d '\r' < "$T/o6.txt")
	DIAG="rc=$RC out=$OUT exit=$(exit_status)"
	check "tty init: resize applied, exit 4" eval '[ $RC = 0 ] && [ "$OUT" = "45 123" ] && [ "$(exit_status)" = 4 ]'
else
	nok "tty init" "$(cat "$P.sync")"
fi
kill $CAT 2>/dev/null

# --- the daemon goes away: the shim does not care
mkfifo "$T/sync7"
new_bundle '["sh","-c","sleep 0.5; exit 9"]' .
"$SHIM" --id "$ID" --bundle "$B" --dir "$P" --runtime "$RUNTIME" 3<>"$T/sync7" 2>/dev/null &
SP=$!; PIDS+=("$SP")
head -n1 "$T/sync7" > "$P.sync"	# the "daemon" reads one line and dies
if grep -q '^created ' "$P.sync"; then
	"$RUNTIME" start "$ID"
	wait_shim
	DIAG="rc=$RC exit=$(cat "$P/exit" 2>/dev/null)"
	check "daemon gone after created: exit still recorded (9)" eval '[ $RC = 0 ] && [ "$(exit_status)" = 9 ]'
else
	nok "daemon gone" "$(cat "$P.sync")"
fi

# --- OOM (cgroup v1 memory or v2 memory.events)
new_bundle '["sh","-c","x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; while true; do x=$x$x; done"]' \
	'.linux.resources.memory={"limit":16777216,"swap":16777216}'
start_shim
if wait_for 10 sync_has '^created ' && "$RUNTIME" start "$ID"; then
	wait_shim 30
	DIAG="rc=$RC sync=$(tr '\n' '|' < "$P.sync") exit=$(cat "$P/exit" 2>/dev/null) oom=$(cat "$P/oom" 2>/dev/null)"
	if [ "$(exit_status)" = 137 ]; then
		check "OOM kill: exit 137, \"oom\" on the sync fd, PROC_DIR/oom" eval \
			'grep -qx oom "$P.sync" && grep -Eq "^oom [0-9]+$" "$P/oom"'
	else
		skip "OOM: the process was not OOM killed here ($DIAG)"
	fi
else
	skip "OOM: memory limit not supported ($(cat "$P.sync"))"
fi

# --- no runc leftovers from the shim
sleep 0.1
LEFT=$(pgrep -f -- "--id shimtest-$$-" | wc -l)
DIAG="$LEFT shims left"
check "no shim left running" [ "$LEFT" = 0 ]

echo "1..$n"
[ $failed = 0 ]
