#!/usr/bin/python3
"""run.py: types.API tests with an independent gRPC client (python3-grpcio).

Message classes are generated from schema/api.proto and schema/health.proto
by protoc at run time; methods are called by path with
channel.unary_unary / unary_stream. One private daemon (own state dir, own
runc root) serves all tests; every test uses its own container ids.
Prints TAP. Run with Debian's python: /usr/bin/python3 tests/grpc/run.py
"""

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import grpc
    import ctrdtest
    from ctrdtest import wait_for, pid_alive, timestamp_ns, make_timestamp
    IMPORT_ERROR = None
except Exception as e:  # reported as a skip of every test
    IMPORT_ERROR = "%s: %s" % (type(e).__name__, e)

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Skip(Exception):
    pass


class Ctx:
    daemon = None
    client = None
    sleep_args = ["sleep", "1000"]


C = Ctx()


def eq(got, want, what="value"):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def rpc_error(fn, *args, **kw):
    """Call fn, expecting a grpc.RpcError; return it."""
    try:
        r = fn(*args, **kw)
        if hasattr(r, "__iter__") and not isinstance(r, (str, bytes)) and not hasattr(r, "ListFields"):
            list(r)  # a stream: the error comes while reading
    except grpc.RpcError as e:
        return e
    raise AssertionError("expected a gRPC error, the call succeeded")


def expect_code(err, code, what):
    check(err.code() == code, "%s: got %s (%s), want %s"
          % (what, err.code().name, err.details(), code.name))
    check(err.details(), "%s: %s without a message" % (what, code.name))


def create_sleeper(cid, args=None, **kw):
    bundle = C.daemon.bundle(cid, args or C.sleep_args)
    resp = C.client.create(cid, bundle, **kw)
    return bundle, resp.container


class EventReader:
    """Reads an Events stream in a thread so a test can wait with a deadline."""

    def __init__(self, call):
        self.call = call
        self.q = queue.Queue()
        self.done = False
        self.error = None
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            for ev in self.call:
                self.q.put(ev)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.CANCELLED:
                self.error = e
        finally:
            self.done = True
            self.q.put(None)

    def next_matching(self, pred, timeout=20.0, seen=None):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no matching event within %.0fs (seen: %s)"
                                     % (timeout, [fmt_event(e) for e in (seen or [])]))
            try:
                ev = self.q.get(timeout=left)
            except queue.Empty:
                continue
            if ev is None:
                self.q.put(None)
                raise AssertionError("the stream ended (%s) before the event came; seen: %s"
                                     % (self.error and self.error.code().name,
                                        [fmt_event(e) for e in (seen or [])]))
            if seen is not None:
                seen.append(ev)
            if pred(ev):
                return ev

    def close(self):
        self.call.cancel()
        self.t.join(5)


def fmt_event(e):
    return "%s/%s/%s/%s" % (e.type, e.id, e.pid, e.status)


def stored_events(**fields):
    """All events of a storedOnly stream; fails if it does not end by itself."""
    call = C.client.events(timeout=20, storedOnly=True, **fields)
    try:
        return [e for e in call]
    except grpc.RpcError as e:
        if e.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
            raise AssertionError("a storedOnly stream did not end within 20s")
        raise


def real(events):
    """Events of containers (the daemon sends none without an id)."""
    return [e for e in events if e.id]


def db_events_after(ns, cid=None):
    q = "SELECT type, container_id, pid, status FROM events WHERE ts > ?"
    args = [ns]
    if cid is not None:
        q += " AND container_id = ?"
        args.append(cid)
    return C.daemon.sql(q + " ORDER BY seq", args)


def wait_exit_row(cid):
    return wait_for(lambda: C.daemon.sql(
        "SELECT status FROM events WHERE type = 'exit' AND container_id = ? AND pid = 'init'",
        (cid,)), what="the exit event of %s in state.db" % cid)


# ---------------------------------------------------------------- tests

@test
def health_check_right_after_connect():
    """health Check right after connect: SERVING"""
    c = ctrdtest.Client(C.daemon.sock)
    try:
        r = c.health("", wait_for_ready=True)
        eq(r.status, c.pb.health.HealthCheckResponse.SERVING, "status")
    finally:
        c.close()


@test
def health_check_api_service():
    """health Check for service types.API: SERVING"""
    r = C.client.health("types.API")
    eq(r.status, C.client.pb.health.HealthCheckResponse.SERVING, "status")


@test
def get_server_version():
    """GetServerVersion: a version, the same containerd -v prints"""
    r = C.client.version()
    check(r.major or r.minor or r.patch, "version is 0.0.0")
    v = "%d.%d.%d" % (r.major, r.minor, r.patch)
    out = subprocess.run([ctrdtest.CONTAINERD, "-v"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True).stdout
    check(v in out, "GetServerVersion says %s, containerd -v says %r" % (v, out.strip()))


@test
def create_container():
    """CreateContainer: a running Container with id, bundlePath, init process"""
    bundle, c = create_sleeper("g-create")
    eq(c.id, "g-create", "id")
    eq(c.bundlePath, bundle, "bundlePath")
    eq(c.status, "running", "status")
    inits = [p for p in c.processes if p.pid == "init"]
    eq(len(inits), 1, "init processes")
    init = inits[0]
    check(init.systemPid > 0, "init systemPid is %d" % init.systemPid)
    check(pid_alive(init.systemPid), "init pid %d is not alive" % init.systemPid)
    st = C.daemon.runc_state("g-create")
    check(st is not None, "runc does not know g-create")
    eq(st["status"], "running", "runc status")
    eq(init.systemPid, st["pid"], "systemPid vs runc's pid")
    eq(list(init.args), C.sleep_args, "init args")


@test
def create_with_labels():
    """CreateContainer with labels: State returns them"""
    create_sleeper("g-labels", labels=["a=1", "b=2"])
    r = C.client.state("g-labels")
    eq(sorted(r.containers[0].labels), ["a=1", "b=2"], "labels")


@test
def state_one():
    """State by id: that container only, running, with its init"""
    create_sleeper("g-state1")
    r = C.client.state("g-state1")
    eq([c.id for c in r.containers], ["g-state1"], "containers")
    c = r.containers[0]
    eq(c.status, "running", "status")
    check(any(p.pid == "init" and p.systemPid > 0 for p in c.processes), "no init process")


@test
def state_all_and_machine():
    """State of all: every running container, machine cpus and memory"""
    create_sleeper("g-all1")
    create_sleeper("g-all2")
    r = C.client.state()
    ids = [c.id for c in r.containers]
    for cid in ("g-all1", "g-all2"):
        eq(ids.count(cid), 1, "%s in State" % cid)
    check(r.machine.cpus > 0, "machine.cpus = %d" % r.machine.cpus)
    eq(r.machine.cpus, os.cpu_count(), "machine.cpus")
    check(r.machine.memory > 0, "machine.memory = %d" % r.machine.memory)


@test
def state_unknown():
    """State of an unknown id: NOT_FOUND"""
    e = rpc_error(C.client.state, "no-such-container")
    expect_code(e, grpc.StatusCode.NOT_FOUND, "State(no-such-container)")


@test
def create_duplicate():
    """CreateContainer with a duplicate id: ALREADY_EXISTS, the first untouched"""
    _, c = create_sleeper("g-dup")
    pid = c.processes[0].systemPid
    bundle2 = C.daemon.bundle("g-dup-2", C.sleep_args)
    e = rpc_error(C.client.create, "g-dup", bundle2)
    expect_code(e, grpc.StatusCode.ALREADY_EXISTS, "duplicate create")
    r = C.client.state("g-dup")
    eq(r.containers[0].status, "running", "the first g-dup")
    eq(r.containers[0].processes[0].systemPid, pid, "the first g-dup's pid")


@test
def create_bad_ids():
    """CreateContainer with bad ids (../x, empty, 200 chars): INVALID_ARGUMENT, nothing created"""
    bundle = C.daemon.bundle("g-badid", C.sleep_args)
    before_dirs = sorted(os.listdir(C.daemon.state))
    before_runc = sorted(C.daemon.runc_list())
    for cid in ("../x", "", "a" * 200, "a/b", "..", "-x"):
        e = rpc_error(C.client.create, cid, bundle)
        expect_code(e, grpc.StatusCode.INVALID_ARGUMENT, "create %r" % cid)
        eq(C.daemon.sql("SELECT count(*) FROM containers WHERE id = ?", (cid,))[0][0], 0,
           "rows for %r" % cid)
    eq(sorted(os.listdir(C.daemon.state)), before_dirs, "state dir entries")
    eq(sorted(C.daemon.runc_list()), before_runc, "runc list")
    check(not os.path.exists(os.path.join(C.daemon.root, "x")), "../x escaped the state dir")


@test
def create_missing_bundle():
    """CreateContainer with a missing bundle: an error naming it, nothing left"""
    path = os.path.join(C.daemon.root, "no-such-bundle")
    e = rpc_error(C.client.create, "g-nobundle", path)
    check(e.code() != grpc.StatusCode.OK, "OK")
    check(path in (e.details() or ""), "message does not name the bundle: %r" % e.details())
    eq(C.daemon.sql("SELECT count(*) FROM containers WHERE id = 'g-nobundle'")[0][0], 0, "rows")
    check("g-nobundle" not in C.daemon.runc_list(), "left in runc")


@test
def signal_sigkill_exit_event():
    """Signal SIGKILL: exit status 137 pid init on an Events stream opened before"""
    reader = EventReader(C.client.events(timeout=60))
    try:
        seen = []
        # The stream is live once it shows an event made after it opened.
        create_sleeper("g-kill")
        reader.next_matching(lambda e: e.type == "start-container" and e.id == "g-kill",
                             seen=seen)
        C.client.signal("g-kill", signal.SIGKILL)
        ev = reader.next_matching(lambda e: e.type == "exit" and e.id == "g-kill", seen=seen)
        eq(ev.pid, "init", "pid")
        eq(ev.status, 137, "status")
    finally:
        reader.close()
    # The stopped container leaves State; its rows stay.
    wait_for(lambda: "g-kill" not in [c.id for c in C.client.state().containers],
             what="g-kill to leave State")
    e = rpc_error(C.client.state, "g-kill")
    expect_code(e, grpc.StatusCode.NOT_FOUND, "State(g-kill) after exit")
    eq(C.daemon.sql("SELECT status FROM containers WHERE id = 'g-kill'"), [("stopped",)], "row")


@test
def signal_sigterm_trap():
    """Signal SIGTERM to a trapping shell: exit 143"""
    args = ["sh", "-c", 'trap "exit 143" TERM; touch /tmp/trapped; while true; do sleep 1; done']
    bundle = C.daemon.bundle("g-term", args)
    C.client.create("g-term", bundle)
    wait_for(lambda: os.path.exists(os.path.join(bundle, "rootfs/tmp/trapped")),
             what="the trap to be set")
    C.client.signal("g-term", signal.SIGTERM)
    eq(wait_exit_row("g-term"), [(143,)], "exit status")


@test
def signal_unknown():
    """Signal to an unknown container: NOT_FOUND"""
    e = rpc_error(C.client.signal, "no-such-container", 9)
    expect_code(e, grpc.StatusCode.NOT_FOUND, "Signal(no-such-container)")


@test
def events_replay_timestamp():
    """Events replay from the timestamp field (2), storedOnly: exactly the events after it"""
    create_sleeper("g-rep-before")
    t = time.time_ns()
    create_sleeper("g-rep-after")
    C.client.signal("g-rep-after", signal.SIGKILL)
    wait_exit_row("g-rep-after")

    # A storedOnly replay ends at what is on disk: the row may be committed
    # a moment before its sync covers it.
    def replayed():
        v = real(stored_events(timestamp=make_timestamp(t)))
        return v if any(e.type == "exit" and e.id == "g-rep-after" for e in v) else None
    evs = wait_for(replayed, what="g-rep-after's exit in a storedOnly replay")
    got = [(e.type, e.id) for e in evs]
    want = [(r[0], r[1]) for r in db_events_after(t)]
    eq(got, want, "events after t (stream vs state.db)")
    check(("start-container", "g-rep-after") in got, "no start-container g-rep-after")
    check(("exit", "g-rep-after") in got, "no exit g-rep-after")
    check(all(e.id != "g-rep-before" for e in evs), "an event before t was replayed")
    for e in evs:
        check(timestamp_ns(e.timestamp) > t, "event %s at %d not after %d"
              % (fmt_event(e), timestamp_ns(e.timestamp), t))


@test
def events_replay_legacy_timestamp():
    """Events replay from the legacy uint64 field (1, seconds), storedOnly"""
    create_sleeper("g-leg-before")
    # Let the wall clock pass into a second after that event.
    sec = time.time_ns() // 1000000000 + 1
    wait_for(lambda: time.time_ns() >= sec * 1000000000 + 1000000, timeout=3,
             what="the next second")
    create_sleeper("g-leg-after")
    evs = real(stored_events(legacyTimestamp=sec))
    ids = [e.id for e in evs]
    check("g-leg-after" in ids, "g-leg-after not replayed: %s" % ids)
    check("g-leg-before" not in ids, "g-leg-before (older than the timestamp) replayed")
    eq([(e.type, e.id) for e in evs],
       [(r[0], r[1]) for r in db_events_after(sec * 1000000000)], "stream vs state.db")


@test
def events_stored_only_ends():
    """Events storedOnly: the stream ends by itself after the stored events"""
    create_sleeper("g-ends")
    start = time.monotonic()
    evs = stored_events(timestamp=make_timestamp(0 + 1000000000))
    check(time.monotonic() - start < 10, "storedOnly took too long")
    check(any(e.id == "g-ends" for e in evs), "g-ends not in the stored events")


@test
def events_stored_only_without_timestamp():
    """Events storedOnly without or with the zero timestamp (dockerd's restore query): the whole history, then the end"""
    create_sleeper("g-nots-a")
    create_sleeper("g-nots-b")
    want = [(r[0], r[1]) for r in db_events_after(-1) if r[1]]
    for what, fields in (("no timestamp", {}),
                         ("zero timestamp", dict(timestamp=make_timestamp(0)))):
        got = [(e.type, e.id) for e in real(stored_events(**fields))]
        eq(got, want, "stored events, %s (stream vs state.db)" % what)
        got = [(e.type, e.id) for e in real(stored_events(id="g-nots-a", **fields))]
        eq(got, [w for w in want if w[1] == "g-nots-a"], "id filter, %s" % what)
        check(got, "no events for g-nots-a, %s" % what)
    # The daemon's start is in the history (state.db) but, as in 2017, no
    # event of types.API: dockerd takes an empty id for an unknown container.
    starts = [r for r in db_events_after(-1) if r[0] == "start-daemon"]
    check(starts, "no start-daemon row in state.db")
    eq([(e.type, e.id) for e in stored_events() if not e.id], [],
       "events with an empty id on the wire")
    print("# %d stored events from the beginning, without a timestamp; "
          "%d start-daemon rows kept off the wire" % (len(want), len(starts)))


@test
def events_id_filter():
    """Events with id: only that container's events (replay and live)"""
    create_sleeper("g-filt-a")
    create_sleeper("g-filt-b")
    evs = real(stored_events(timestamp=make_timestamp(1000000000), id="g-filt-a"))
    check(evs, "no events for g-filt-a")
    eq(set(e.id for e in evs), {"g-filt-a"}, "ids")
    # Live with a filter: b's exit is not shown, a's is.
    reader = EventReader(C.client.events(timeout=60, id="g-filt-a",
                                         timestamp=make_timestamp(time.time_ns())))
    try:
        seen = []
        C.client.signal("g-filt-b", signal.SIGKILL)
        wait_exit_row("g-filt-b")
        C.client.signal("g-filt-a", signal.SIGKILL)
        reader.next_matching(lambda e: e.type == "exit" and e.id == "g-filt-a", seen=seen)
        eq([e.id for e in real(seen)], ["g-filt-a"], "live events with id filter")
    finally:
        reader.close()


@test
def events_both_timestamps():
    """Event has both timestamp fields set (5 legacy seconds, 6 Timestamp)"""
    create_sleeper("g-ts")
    evs = real(stored_events(timestamp=make_timestamp(1000000000), id="g-ts"))
    check(evs, "no events for g-ts")
    now = time.time()
    for e in evs:
        check(e.HasField("timestamp"), "%s: field 6 (timestamp) missing" % fmt_event(e))
        check(e.legacyTimestamp > 0, "%s: field 5 (legacy timestamp) is 0" % fmt_event(e))
        check(abs(e.legacyTimestamp - e.timestamp.seconds) <= 1,
              "%s: legacy %d vs timestamp %d" % (fmt_event(e), e.legacyTimestamp, e.timestamp.seconds))
        check(abs(now - e.timestamp.seconds) < 600, "%s: timestamp %d is not now"
              % (fmt_event(e), e.timestamp.seconds))


@test
def events_replay_then_live_no_gap():
    """Events with a timestamp (not storedOnly): replay then live, no duplicate"""
    t = time.time_ns()
    create_sleeper("g-gap1")
    reader = EventReader(C.client.events(timeout=60, timestamp=make_timestamp(t)))
    try:
        seen = []
        reader.next_matching(lambda e: e.type == "start-container" and e.id == "g-gap1", seen=seen)
        create_sleeper("g-gap2")
        reader.next_matching(lambda e: e.type == "start-container" and e.id == "g-gap2", seen=seen)
        keys = [(e.type, e.id, e.pid, timestamp_ns(e.timestamp)) for e in real(seen)]
        eq(len(keys), len(set(keys)), "duplicate events in %s" % [fmt_event(e) for e in seen])
        eq([k[:2] for k in keys if k[1].startswith("g-gap")],
           [("start-container", "g-gap1"), ("start-container", "g-gap2")], "g-gap events")
    finally:
        reader.close()


@test
def stdout_fifo():
    """CreateContainer stdout = a fifo: ls / comes through"""
    fifo = os.path.join(C.daemon.root, "g-ls.fifo")
    os.mkfifo(fifo)
    out = []

    def reader():
        with open(fifo, "rb") as f:
            out.append(f.read())

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    bundle = C.daemon.bundle("g-ls", ["ls", "/"])
    C.client.create("g-ls", bundle, stdout=fifo)
    eq(wait_exit_row("g-ls"), [(0,)], "exit status")
    t.join(20)
    check(not t.is_alive(), "the fifo was never closed")
    names = out[0].decode().split()
    for d in ("bin", "etc", "proc", "tmp"):
        check(d in names, "%s missing from ls / output %r" % (d, names))


@test
def daemon_survives_garbage():
    """A malformed request is refused without harming the daemon"""
    junk = C.client.channel.unary_unary("/types.API/CreateContainer",
                                        request_serializer=lambda b: b,
                                        response_deserializer=lambda b: b)
    try:
        junk(b"\xff\xff\xff\xff\x0f", timeout=10)
        raise AssertionError("garbage accepted")
    except grpc.RpcError as e:
        check(e.code() != grpc.StatusCode.OK, "OK")
    e = rpc_error(C.client.channel.unary_unary("/types.API/NoSuchMethod",
                                               request_serializer=lambda b: b,
                                               response_deserializer=lambda b: b), b"",
                  timeout=10)
    expect_code(e, grpc.StatusCode.UNIMPLEMENTED, "unknown method")
    C.client.version()
    check(C.daemon.proc.poll() is None, "the daemon exited")


# Exec, pause, update, stats, oom, checkpoints, every method: test_api3.py.
if IMPORT_ERROR is None:
    import test_api3
    test_api3.register(sys.modules[__name__])

# The event bus under load: test_events_load.py.
if IMPORT_ERROR is None:
    import test_events_load
    test_events_load.register(sys.modules[__name__])

# Hostile and broken clients, raw HTTP/2: test_hostile.py.
if IMPORT_ERROR is None:
    import test_hostile
    test_hostile.register(sys.modules[__name__])

# Bounds: UTF-8, idle connections, buffering, runtime deadlines, labels.
if IMPORT_ERROR is None:
    import test_bounds
    test_bounds.register(sys.modules[__name__])

# containerd.records.v1.Records: stopped containers' records.
if IMPORT_ERROR is None:
    import test_records
    test_records.register(sys.modules[__name__])


# Records/Logs, read directly (not through ctr): test_logs.py.
if IMPORT_ERROR is None:
    import test_logs
    test_logs.register(sys.modules[__name__])


# ---------------------------------------------------------------- runner

def requirements():
    if IMPORT_ERROR:
        return "python3-grpcio/protobuf not importable: " + IMPORT_ERROR
    if os.geteuid() != 0:
        return "needs root"
    for p in (ctrdtest.CONTAINERD, ctrdtest.SHIM):
        if not os.access(p, os.X_OK):
            return "%s not built" % p
    for tool in ("runc", "protoc"):
        if subprocess.run(["sh", "-c", "command -v " + tool], stdout=subprocess.DEVNULL).returncode:
            return "%s not installed" % tool
    if not os.access("/bin/busybox", os.X_OK):
        return "busybox-static not installed"
    return None


def diag(text):
    for line in str(text).rstrip("\n").split("\n"):
        print("# " + line)


def main():
    # run.py -k WORD: only the tests whose function name holds WORD.
    if len(sys.argv) == 3 and sys.argv[1] == "-k":
        TESTS[:] = [fn for fn in TESTS if sys.argv[2] in fn.__name__]
    print("1..%d" % len(TESTS), flush=True)
    reason = requirements()
    if reason:
        for i, fn in enumerate(TESTS, 1):
            print("ok %d - %s # SKIP %s" % (i, fn.__doc__, reason))
        return 0

    def on_term(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)

    failures = 0
    C.daemon = ctrdtest.Daemon()
    try:
        setup_error = None
        try:
            ctrdtest.load_protos()
            C.daemon.start()
            C.client = ctrdtest.Client(C.daemon.sock)
        except Exception as e:
            setup_error = "%s: %s" % (type(e).__name__, e)
        for i, fn in enumerate(TESTS, 1):
            name = fn.__doc__ or fn.__name__
            if setup_error:
                print("not ok %d - %s" % (i, name))
                if i == 1:
                    diag("setup failed: " + setup_error)
                failures += 1
                continue
            t0 = time.monotonic()
            try:
                fn()
                print("ok %d - %s" % (i, name), flush=True)
            except Skip as e:
                print("ok %d - %s # SKIP %s" % (i, name, e), flush=True)
            except Exception as e:
                failures += 1
                print("not ok %d - %s" % (i, name), flush=True)
                if isinstance(e, grpc.RpcError):
                    diag("gRPC error %s: %s" % (e.code().name, e.details()))
                elif isinstance(e, AssertionError):
                    diag(str(e))
                diag(traceback.format_exc(limit=4))
                if C.daemon.proc is not None and C.daemon.proc.poll() is not None:
                    diag("the daemon exited with status %s" % C.daemon.proc.returncode)
            dt = time.monotonic() - t0
            if dt > 10:
                diag("(%s took %.1fs)" % (fn.__name__, dt))
        if failures:
            diag("---- daemon.log (last 80 lines)")
            diag("\n".join(C.daemon.log().splitlines()[-80:]))
    finally:
        if C.client:
            C.client.close()
        C.daemon.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
