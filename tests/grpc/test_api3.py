"""types.API over raw gRPC, the rest of the contract: every method answered
(none UNIMPLEMENTED), AddProcess, Signal to an exec, UpdateProcess,
UpdateContainer, Stats, checkpoints and the oom event, with their error
codes.

Run by run.py, which calls register(run) with itself: these tests use its
private daemon, client and helpers (eq, check, rpc_error, EventReader...)
and are appended to its TESTS.
"""

import json
import os
import signal
import subprocess
import threading
import time

import grpc

from ctrdtest import wait_for, pid_alive, make_timestamp

R = None        # the run.py module, set by register()
_TESTS = []

PATH_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]


def test(fn):
    _TESTS.append(fn)
    return fn


def register(run):
    """Appends these tests to run.py's list (run: the run.py module)."""
    global R
    R = run
    for fn in _TESTS:
        run.test(fn)


# ---------------------------------------------------------------- helpers

def cid(name):
    """A container id unique to this daemon's root: ids name host cgroups,
    which every runc root on the machine shares."""
    return "%s-%s" % (name, os.path.basename(R.C.daemon.root).rsplit(".", 1)[-1])


def client():
    return R.C.client


def request(method, **fields):
    """The request message of METHOD (built here: a field may be called name)."""
    from ctrdtest import API_METHODS
    return getattr(client().pb.api, API_METHODS[method][0])(**fields)


def call(method, **fields):
    return client().call(method, request(method, **fields))


def sleeper(name, args=None, **kw):
    """A running container; returns (id, bundle, Container)."""
    c = cid(name)
    bundle, cont = R.create_sleeper(c, args, **kw)
    return c, bundle, cont


def add_process(id_, pid, args, **kw):
    kw.setdefault("cwd", "/")
    kw.setdefault("env", PATH_ENV)
    return call("AddProcess", id=id_, pid=pid, args=args, **kw)


def process_of(id_, pid):
    for c in client().state(id_).containers:
        for p in c.processes:
            if p.pid == pid:
                return p
    return None


def event_rows(id_, type_=None, pid=None):
    q = "SELECT seq, type, pid, status FROM events WHERE container_id = ?"
    args = [id_]
    if type_ is not None:
        q += " AND type = ?"
        args.append(type_)
    if pid is not None:
        q += " AND pid = ?"
        args.append(pid)
    return R.C.daemon.sql(q + " ORDER BY seq", args)


def wait_event_row(id_, type_, pid=None):
    return wait_for(lambda: event_rows(id_, type_, pid), what="a %s event of %s/%s in state.db"
                    % (type_, id_, pid))[0]


def cgroup_dir(ctrl, pid):
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if ctrl in ctrls.split(","):
                return "/sys/fs/cgroup/%s%s" % (ctrl, path.rstrip("/"))
    raise AssertionError("pid %d has no %s cgroup" % (pid, ctrl))


def cgroup_read(ctrl, pid, name):
    with open(os.path.join(cgroup_dir(ctrl, pid), name)) as f:
        return f.read().strip()


def need_cgroup_v1(*ctrls):
    for c in ctrls:
        d = "/sys/fs/cgroup/" + c
        if not os.path.isdir(d) or os.path.exists(os.path.join(d, "cgroup.controllers")):
            raise R.Skip("needs the cgroup v1 %s controller" % c)


def criu_check():
    """None when `criu check` passes, else why not."""
    try:
        res = subprocess.run(["criu", "check"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True)
    except OSError as e:
        return "criu not installed (%s)" % e
    if res.returncode == 0:
        return None
    lines = [l for l in res.stdout.splitlines() if "rror" in l and "exited, status" not in l]
    return (lines or res.stdout.splitlines() or ["no output"])[0]


class FifoReader:
    """Reads a new fifo at PATH to EOF in a thread (the daemon's shim opens
    it for writing)."""

    def __init__(self, path):
        self.path = path
        os.mkfifo(path)
        self.data = b""
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        with open(self.path, "rb") as f:
            self.data = f.read()

    def text(self, timeout=20):
        self.t.join(timeout)
        R.check(not self.t.is_alive(), "%s never reached EOF" % self.path)
        return self.data.decode("utf-8", "replace")


def expect(fn, code, what, **fields):
    e = R.rpc_error(fn, **fields) if fields else R.rpc_error(fn)
    R.expect_code(e, code, what)
    return e


# ---------------------------------------------------------------- every method

@test
def every_method_answered():
    """every types.API method of the contract answers, none UNIMPLEMENTED"""
    pb = client().pb.api
    service = pb.DESCRIPTOR.services_by_name["API"]
    names = sorted(m.name for m in service.methods)
    R.eq(names, sorted(["GetServerVersion", "CreateContainer", "UpdateContainer", "Signal",
                        "UpdateProcess", "AddProcess", "CreateCheckpoint", "DeleteCheckpoint",
                        "ListCheckpoint", "State", "Events", "Stats"]), "methods of types.API")

    c = cid("g3-all")
    bundle = R.C.daemon.bundle(c, R.C.sleep_args)
    cp = pb.Checkpoint(name="probe")
    from ctrdtest import make_timestamp
    calls = [
        ("GetServerVersion", {}),
        ("CreateContainer", {"id": c, "bundlePath": bundle}),
        ("State", {"id": c}),
        ("AddProcess", {"id": c, "pid": "probe", "args": ["sleep", "1000"], "cwd": "/",
                        "env": PATH_ENV}),
        ("UpdateProcess", {"id": c, "pid": "probe", "closeStdin": True}),
        ("Signal", {"id": c, "pid": "probe", "signal": 9}),
        ("UpdateContainer", {"id": c, "status": "paused"}),
        ("UpdateContainer", {"id": c, "status": "running"}),
        ("Stats", {"id": c}),
        ("CreateCheckpoint", {"id": c, "checkpoint": cp}),
        ("ListCheckpoint", {"id": c}),
        ("DeleteCheckpoint", {"id": c, "name": "probe"}),
        ("Events", {"timestamp": make_timestamp(1000000000), "storedOnly": True, "id": c}),
    ]
    codes = {}
    for method, fields in calls:
        try:
            r = call(method, **fields)
            if method == "Events":
                list(r)
            code = grpc.StatusCode.OK
        except grpc.RpcError as e:
            code = e.code()
            R.check(code != grpc.StatusCode.UNIMPLEMENTED,
                    "%s answered UNIMPLEMENTED: %s" % (method, e.details()))
        codes.setdefault(method, []).append(code)
    R.eq(sorted(codes), names, "methods called")
    # The ordinary requests succeed; a checkpoint may fail where CRIU does.
    for method, got in codes.items():
        if method in ("CreateCheckpoint", "DeleteCheckpoint"):
            continue
        R.check(all(g == grpc.StatusCode.OK for g in got),
                "%s: %s" % (method, [g.name for g in got]))
    R.check(codes["DeleteCheckpoint"][0] in (grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND),
            "DeleteCheckpoint of probe: %s" % codes["DeleteCheckpoint"][0].name)


# ---------------------------------------------------------------- AddProcess

@test
def add_process_output_events():
    """AddProcess: systemPid, stdout/stderr fifos, start-process then exit (pid name, status)"""
    c, bundle, _ = sleeper("g3-exec")
    reader = R.EventReader(client().events(timeout=60, id=c, timestamp=make_timestamp(time.time_ns())))
    try:
        seen = []
        out = FifoReader(os.path.join(R.C.daemon.root, c + ".out"))
        err = FifoReader(os.path.join(R.C.daemon.root, c + ".err"))
        r = add_process(c, "sh1", ["sh", "-c", "echo to-out; echo to-err >&2; exit 3"],
                        stdout=out.path, stderr=err.path)
        R.check(r.systemPid > 0, "systemPid = %d" % r.systemPid)
        st = reader.next_matching(lambda e: e.type == "start-process", seen=seen)
        R.eq((st.id, st.pid), (c, "sh1"), "start-process")
        ex = reader.next_matching(lambda e: e.type == "exit", seen=seen)
        R.eq((ex.id, ex.pid, ex.status), (c, "sh1", 3), "exit event")
        R.eq(out.text().strip(), "to-out", "stdout")
        R.eq(err.text().strip(), "to-err", "stderr")
    finally:
        reader.close()
    R.eq(R.C.daemon.sql("SELECT exit_status FROM processes WHERE container_id = ? AND pid = ?",
                        (c, "sh1")), [(3,)], "processes.exit_status")
    wait_for(lambda: process_of(c, "sh1") is None, what="sh1 to leave State")
    R.eq(client().state(c).containers[0].status, "running", "container status")


@test
def state_processes_own_fields():
    """State: execs of one spec (its part kept once in the daemon) each report their own name, stdio and systemPid; another spec its own args"""
    c, _, _ = sleeper("g3-share")
    outs, pids = {}, {}
    for name in ("one", "two"):
        outs[name] = FifoReader(os.path.join(R.C.daemon.root, "%s-%s.out" % (c, name)))
        pids[name] = add_process(c, name, ["sleep", "1000"], stdout=outs[name].path).systemPid
    pids["other"] = add_process(c, "other", ["sleep", "999"], env=PATH_ENV + ["X=1"]).systemPid
    ps = {p.pid: p for p in client().state(c).containers[0].processes}
    R.eq(sorted(ps), ["init", "one", "other", "two"], "State's processes")
    for name in ("one", "two"):
        R.eq((ps[name].systemPid, ps[name].stdout, ps[name].stdin, ps[name].stderr),
             (pids[name], outs[name].path, "/dev/null", "/dev/null"), "%s: pid and stdio" % name)
        R.eq((list(ps[name].args), list(ps[name].env)), (["sleep", "1000"], PATH_ENV),
             "%s: args and env" % name)
    R.eq((ps["other"].systemPid, ps["other"].stdout), (pids["other"], "/dev/null"), "other: pid, stdout")
    R.eq((list(ps["other"].args), list(ps["other"].env)), (["sleep", "999"], PATH_ENV + ["X=1"]),
         "other: its own args and env")
    R.eq(list(ps["init"].args), R.C.sleep_args, "init's args")
    R.check(ps["one"].systemPid != ps["two"].systemPid, "two pids")
    call("Signal", id=c, pid="one", signal=9)
    wait_for(lambda: process_of(c, "one") is None, what="one to leave State")
    R.eq(list(process_of(c, "two").args), ["sleep", "1000"], "two still reads its args after one is gone")


@test
def add_process_spec():
    """AddProcess: user, additionalGids, env, cwd, rlimits, capabilities, noNewPrivileges reach the process"""
    c, bundle, _ = sleeper("g3-spec")
    pb = client().pb.api
    r = add_process(c, "spec", ["sleep", "1000"], cwd="/tmp",
                    env=PATH_ENV + ["GREETING=hello"],
                    user=pb.User(uid=1000, gid=1001, additionalGids=[10, 20]),
                    rlimits=[pb.Rlimit(type="RLIMIT_CORE", soft=4096, hard=8192),
                             pb.Rlimit(type="RLIMIT_NOFILE", soft=123, hard=456)],
                    capabilities=["CAP_KILL"], noNewPrivileges=True)
    pid = r.systemPid
    R.check(pid_alive(pid), "process %d not alive" % pid)
    status = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            status[k] = v.split()
    R.eq(status["Uid"][0], "1000", "uid")
    R.eq(status["Gid"][0], "1001", "gid")
    R.eq(sorted(status.get("Groups", [])), ["10", "20"], "groups")
    R.eq(status["NoNewPrivs"][0], "1", "NoNewPrivs")
    R.eq(int(status["CapBnd"][0], 16), 1 << 5, "CapBnd (CAP_KILL, bit 5, only)")
    with open("/proc/%d/limits" % pid) as f:
        limits = f.read().splitlines()
    core = [l.split()[4:6] for l in limits if l.startswith("Max core file size")][0]
    R.eq(core, ["4096", "8192"], "RLIMIT_CORE")
    # Only the hard NOFILE: runc 1.1.5's exec lets Go raise the soft one to it.
    nofile = [l.split()[3:5] for l in limits if l.startswith("Max open files")][0]
    R.eq(nofile[1], "456", "RLIMIT_NOFILE hard")
    with open("/proc/%d/environ" % pid, "rb") as f:
        env = f.read().split(b"\0")
    R.check(b"GREETING=hello" in env, "GREETING not in %r" % env)
    cwd = os.readlink("/proc/%d/cwd" % pid)
    R.check(cwd.endswith("/rootfs/tmp") or cwd == "/tmp", "cwd is %s" % cwd)

    p = process_of(c, "spec")
    R.check(p is not None, "spec not in State")
    R.eq(p.systemPid, pid, "State systemPid")
    R.eq(list(p.args), ["sleep", "1000"], "State args")
    R.eq((p.user.uid, p.user.gid), (1000, 1001), "State user")
    R.eq(p.cwd, "/tmp", "State cwd")
    R.check(pid in client().state(c).containers[0].pids, "systemPid not in Container.pids")


@test
def add_process_rlimit_infinity():
    """AddProcess: an rlimit of 18446744073709551615 (RLIM_INFINITY, a uint64) reaches runc exactly: the process runs unlimited"""
    c, _, _ = sleeper("g3-rlinf")
    pb = client().pb.api
    inf = (1 << 64) - 1
    big = (1 << 63) + 5
    r = add_process(c, "inf", ["sleep", "1000"], env=PATH_ENV,
                    rlimits=[pb.Rlimit(type="RLIMIT_CORE", soft=inf, hard=inf),
                             pb.Rlimit(type="RLIMIT_DATA", soft=big, hard=big)])
    with open("/proc/%d/limits" % r.systemPid) as f:
        limits = f.read().splitlines()
    core = [l.split()[4:6] for l in limits if l.startswith("Max core file size")][0]
    R.eq(core, ["unlimited", "unlimited"], "RLIMIT_CORE")
    data = [l.split()[3:5] for l in limits if l.startswith("Max data size")][0]
    R.eq(data, [str(big), str(big)], "RLIMIT_DATA (no double holds it)")
    # The record keeps the exact numbers too (the process JSON as written).
    rows = wait_for(lambda: R.C.daemon.sql(
        "SELECT spec FROM processes WHERE container_id = ? AND pid = 'inf'", (c,)),
        what="inf's row in state.db")
    spec = json.loads(rows[0][0])
    R.eq([(l["type"], l["soft"], l["hard"]) for l in spec["rlimits"]],
         [("RLIMIT_CORE", inf, inf), ("RLIMIT_DATA", big, big)], "recorded rlimits")
    print("# RLIMIT_CORE %s, RLIMIT_DATA %s; recorded %d" % (" ".join(core), data[0],
          spec["rlimits"][0]["soft"]))


@test
def add_process_errors():
    """AddProcess errors: unknown container NOT_FOUND, duplicate ALREADY_EXISTS, bad requests INVALID_ARGUMENT"""
    c, _, _ = sleeper("g3-execerr")
    expect(lambda: add_process("no-such-container", "x", ["true"]),
           grpc.StatusCode.NOT_FOUND, "AddProcess to an unknown container")

    first = add_process(c, "dup", ["sleep", "1000"])
    expect(lambda: add_process(c, "dup", ["sleep", "1000"]),
           grpc.StatusCode.ALREADY_EXISTS, "AddProcess with a name in use")
    p = process_of(c, "dup")
    R.eq(p and p.systemPid, first.systemPid, "the first dup's systemPid")
    R.check(pid_alive(first.systemPid), "the first dup died")
    R.eq(len(event_rows(c, "start-process", "dup")), 1, "start-process events of dup")

    for what, kw in (("pid init", dict(pid="init", args=["true"])),
                     ("empty pid", dict(pid="", args=["true"])),
                     ("no args", dict(pid="noargs", args=[])),
                     ("relative cwd", dict(pid="rel", args=["true"], cwd="tmp")),
                     ("pid with a slash", dict(pid="a/b", args=["true"]))):
        expect(lambda: add_process(c, **kw), grpc.StatusCode.INVALID_ARGUMENT,
               "AddProcess with " + what)
    R.eq(sorted(p.pid for p in client().state(c).containers[0].processes), ["dup", "init"],
         "processes after the refused calls")


# ---------------------------------------------------------------- Signal

@test
def signal_exec():
    """Signal to an exec's pid name: its exit 137 with that name; init runs on; unknown name NOT_FOUND"""
    c, _, cont = sleeper("g3-sig")
    init_pid = cont.processes[0].systemPid
    r = add_process(c, "victim", ["sleep", "1000"])
    client().signal(c, signal.SIGKILL, pid="victim")
    row = wait_event_row(c, "exit", "victim")
    R.eq(row[3], 137, "exit status of victim")
    wait_for(lambda: not pid_alive(r.systemPid), what="victim to die")
    R.check(pid_alive(init_pid), "init died with the exec")
    R.eq(event_rows(c, "exit", "init"), [], "exit events of init")
    wait_for(lambda: process_of(c, "victim") is None, what="victim to leave State")

    expect(lambda: client().signal(c, signal.SIGKILL, pid="victim"),
           grpc.StatusCode.NOT_FOUND, "Signal to an exited exec")
    expect(lambda: client().signal(c, signal.SIGKILL, pid="never-was"),
           grpc.StatusCode.NOT_FOUND, "Signal to an unknown pid name")


@test
def exec_exit_before_init_exit():
    """init killed with an exec running: the exec's exit comes first on the stream"""
    c, _, _ = sleeper("g3-order")
    add_process(c, "inner", ["sleep", "1000"])
    reader = R.EventReader(client().events(timeout=60, id=c, timestamp=make_timestamp(time.time_ns())))
    try:
        seen = []
        client().signal(c, signal.SIGKILL)
        reader.next_matching(lambda e: e.type == "exit" and e.pid == "init", seen=seen)
        exits = [(e.pid, e.status) for e in seen if e.type == "exit"]
        R.eq(exits, [("inner", 137), ("init", 137)], "exit events in order")
    finally:
        reader.close()


# ---------------------------------------------------------------- UpdateProcess

@test
def update_process_close_stdin():
    """UpdateProcess closeStdin: cat gets EOF (though a writer stays open) and exits 0"""
    c, _, _ = sleeper("g3-stdin")
    stdin = os.path.join(R.C.daemon.root, c + ".in")
    os.mkfifo(stdin)
    out = FifoReader(os.path.join(R.C.daemon.root, c + ".out"))
    holder = {}

    def writer():
        # open() blocks until the shim opens the fifo for reading.
        f = open(stdin, "wb", buffering=0)
        f.write(b"hello\n")
        holder["f"] = f

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        add_process(c, "cat", ["cat"], stdin=stdin, stdout=out.path)
        t.join(20)
        R.check("f" in holder, "the shim never opened stdin")
        call("UpdateProcess", id=c, pid="cat", closeStdin=True)
        row = wait_event_row(c, "exit", "cat")
        R.eq(row[3], 0, "exit status of cat")
        R.eq(out.text(), "hello\n", "cat's output")
    finally:
        if "f" in holder:
            holder["f"].close()


@test
def update_process_resize():
    """UpdateProcess width/height: a terminal exec's pty gets the size (stty size)"""
    c, _, _ = sleeper("g3-tty")
    out = FifoReader(os.path.join(R.C.daemon.root, c + ".out"))
    script = ('k=0; while [ "$(stty size 2>/dev/null)" != "42 111" ] && [ $k -lt 200 ]; do '
              'k=$((k+1)); sleep 0.05; done; stty size; tty')
    add_process(c, "tty", ["sh", "-c", script], terminal=True, stdout=out.path)
    call("UpdateProcess", id=c, pid="tty", width=111, height=42)
    text = out.text().replace("\r", "")
    R.check("42 111\n" in text, "stty size after the resize: %r" % text)
    R.check("/dev/pts/" in text, "tty: %r" % text)
    R.eq(wait_event_row(c, "exit", "tty")[3], 0, "exit status")


@test
def update_process_errors():
    """UpdateProcess: unknown container or pid name NOT_FOUND"""
    c, _, _ = sleeper("g3-uperr")
    expect(lambda: call("UpdateProcess", id="no-such-container", pid="init", closeStdin=True),
           grpc.StatusCode.NOT_FOUND, "UpdateProcess of an unknown container")
    expect(lambda: call("UpdateProcess", id=c, pid="never-was", width=10, height=10),
           grpc.StatusCode.NOT_FOUND, "UpdateProcess of an unknown pid name")


# ---------------------------------------------------------------- UpdateContainer

@test
def update_container_pause_resume():
    """UpdateContainer status paused/running: State paused, freezer FROZEN, pause/resume events"""
    need_cgroup_v1("freezer")
    c, _, cont = sleeper("g3-pause")
    pid = cont.processes[0].systemPid
    reader = R.EventReader(client().events(timeout=60, id=c, timestamp=make_timestamp(time.time_ns())))
    try:
        seen = []
        call("UpdateContainer", id=c, status="paused")
        reader.next_matching(lambda e: e.type == "pause", seen=seen)
        R.eq(client().state(c).containers[0].status, "paused", "State status")
        R.eq(cgroup_read("freezer", pid, "freezer.state"), "FROZEN", "freezer.state")
        R.eq(R.C.daemon.runc_state(c)["status"], "paused", "runc status")

        call("UpdateContainer", id=c, status="running")
        reader.next_matching(lambda e: e.type == "resume", seen=seen)
        R.eq(client().state(c).containers[0].status, "running", "State status")
        R.eq(cgroup_read("freezer", pid, "freezer.state"), "THAWED", "freezer.state")
        R.eq([e.type for e in seen], ["pause", "resume"], "events")
    finally:
        reader.close()


@test
def update_container_errors():
    """UpdateContainer: bad status INVALID_ARGUMENT, unknown NOT_FOUND"""
    c, _, _ = sleeper("g3-upcerr")
    expect(lambda: call("UpdateContainer", id=c, status="sleeping"),
           grpc.StatusCode.INVALID_ARGUMENT, "status sleeping")
    expect(lambda: call("UpdateContainer", id="no-such-container", status="paused"),
           grpc.StatusCode.NOT_FOUND, "an unknown container")
    R.eq(client().state(c).containers[0].status, "running", "status after the refused calls")


@test
def update_container_resources():
    """UpdateContainer resources: memory limit, cpu shares/quota/period, pids limit land in the cgroup"""
    need_cgroup_v1("memory", "cpu", "pids")
    c, _, cont = sleeper("g3-res")
    pid = cont.processes[0].systemPid
    pb = client().pb.api
    call("UpdateContainer", id=c, resources=pb.UpdateResource(
        memoryLimit=64 << 20, cpuShares=512, pidsLimit=77, cpuQuota=50000, cpuPeriod=100000))
    R.eq(cgroup_read("memory", pid, "memory.limit_in_bytes"), str(64 << 20), "memory.limit_in_bytes")
    R.eq(cgroup_read("cpu", pid, "cpu.shares"), "512", "cpu.shares")
    R.eq(cgroup_read("cpu", pid, "cpu.cfs_quota_us"), "50000", "cpu.cfs_quota_us")
    R.eq(cgroup_read("cpu", pid, "cpu.cfs_period_us"), "100000", "cpu.cfs_period_us")
    R.eq(cgroup_read("pids", pid, "pids.max"), "77", "pids.max")
    R.eq(client().state(c).containers[0].status, "running", "status")


@test
def update_container_empty_and_blkio_only():
    """UpdateContainer with nothing, empty resources or blkio-only resources: OK, a no-op (as 2017)"""
    c, _, _ = sleeper("g3-upnoop")
    pb = client().pb.api
    t0 = time.monotonic()
    call("UpdateContainer", id=c)
    call("UpdateContainer", id=c, resources=pb.UpdateResource())
    call("UpdateContainer", id=c, resources=pb.UpdateResource(
        blkioLeafWeight=300,
        blkioWeightDevice=[pb.WeightDevice(blkIODevice=pb.BlockIODevice(major=8, minor=0), weight=200)],
        blkioThrottleReadBpsDevice=[pb.ThrottleDevice(blkIODevice=pb.BlockIODevice(major=8, minor=0), rate=1 << 20)]))
    print("# 3 no-op updates answered OK in %.3f s" % (time.monotonic() - t0))
    R.eq(client().state(c).containers[0].status, "running", "status after the no-op updates")


@test
def signal_zero_probe():
    """Signal 0: OK for a live process (nothing sent), NOT_FOUND for an unknown one"""
    c, _, cont = sleeper("g3-sig0")
    pid = cont.processes[0].systemPid
    t0 = time.monotonic()
    client().signal(c, 0)
    print("# Signal 0 to a live init answered OK in %.3f s" % (time.monotonic() - t0))
    R.check(pid_alive(pid), "the init died of signal 0")
    R.eq(client().state(c).containers[0].status, "running", "status after signal 0")
    expect(lambda: client().signal(c, 0, pid="no-such-exec"), grpc.StatusCode.NOT_FOUND,
           "signal 0 to an unknown process")
    expect(lambda: client().signal("no-such-container", 0), grpc.StatusCode.NOT_FOUND,
           "signal 0 to an unknown container")


@test
def health_check_unknown_service():
    """Health.Check of an unknown service: NOT_FOUND; the empty name: SERVING"""
    e = R.rpc_error(lambda: client().health("no.such.Service"))
    R.expect_code(e, grpc.StatusCode.NOT_FOUND, "health of an unknown service")
    print("# Health.Check(no.such.Service): %s" % e.code())
    R.eq(client().health("").status, client().pb.health.HealthCheckResponse.SERVING, "health of \"\"")


# ---------------------------------------------------------------- Stats

@test
def stats_sample():
    """Stats: memory usage > 0 and its limit, cpu usage, pids, a timestamp; unknown NOT_FOUND"""
    need_cgroup_v1("memory", "cpuacct", "pids")
    c, bundle, cont = sleeper("g3-stats", ["sh", "-c", "x=0123456789; for k in 1 2 3 4 5 6 7 8 9 10 11 12; "
                                           "do x=$x$x; done; touch /tmp/ready; sleep 1000"])
    pid = cont.processes[0].systemPid
    wait_for(lambda: os.path.exists(os.path.join(bundle, "rootfs/tmp/ready")),
             what="the container to fill its memory")
    call("UpdateContainer", id=c, resources=client().pb.api.UpdateResource(
        memoryLimit=64 << 20, pidsLimit=50))
    before = time.time()
    s = call("Stats", id=c)
    cg = s.cgroup_stats
    R.check(cg.memory_stats.usage.usage > 0, "memory usage is 0")
    R.eq(cg.memory_stats.usage.limit, 64 << 20, "memory limit")
    R.eq(str(cg.memory_stats.usage.limit), cgroup_read("memory", pid, "memory.limit_in_bytes"),
         "memory limit vs memory.limit_in_bytes")
    R.check(cg.cpu_stats.cpu_usage.total_usage > 0, "cpu total_usage is 0")
    R.check(cg.pids_stats.current >= 1, "pids current is %d" % cg.pids_stats.current)
    R.eq(cg.pids_stats.limit, 50, "pids limit")
    R.check(s.HasField("timestamp") and abs(s.timestamp.seconds - before) < 60,
            "timestamp %s is not now" % s.timestamp)
    R.check(abs(s.legacyTimestamp - before) < 60, "legacyTimestamp %d is not now" % s.legacyTimestamp)
    expect(lambda: call("Stats", id="no-such-container"), grpc.StatusCode.NOT_FOUND,
           "Stats of an unknown container")


# ---------------------------------------------------------------- OOM

@test
def oom_event():
    """a container over its memory limit: oom then exit 137 on the Events stream"""
    need_cgroup_v1("memory")
    c = cid("g3-oom")
    hog = "while [ ! -e /tmp/go ]; do sleep 0.05; done; x=a; while true; do x=$x$x; done"
    bundle = R.C.daemon.bundle(c, ["sh", "-c", hog])
    import json
    cfg_path = os.path.join(bundle, "config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    cfg.setdefault("linux", {}).setdefault("resources", {})["memory"] = {"limit": 16 << 20}
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    since = time.time_ns() - 1000000000
    client().create(c, bundle)
    # Replay from before the create: a live stream might reach the daemon
    # only after the hog was already killed.
    reader = R.EventReader(client().events(timeout=60, id=c, timestamp=make_timestamp(since)))
    try:
        seen = []
        open(os.path.join(bundle, "rootfs/tmp/go"), "w").close()
        ex = reader.next_matching(lambda e: e.type == "exit", seen=seen)
        R.eq((ex.pid, ex.status), ("init", 137), "exit")
        # One oom per kernel notification: there may be several before the exit.
        types = [e.type for e in seen if e.type != "start-container"]
        types = [t for i, t in enumerate(types) if i == 0 or t != types[i - 1]]
        R.eq(types, ["oom", "exit"], "events (repeated ooms folded)")
        # As the 2017 daemon sent them: no pid on start-container and oom.
        pids = sorted({(e.type, e.pid) for e in seen if e.type in ("start-container", "oom")})
        print("# start-container and oom (type, pid) on the stream: %s" % pids)
        R.eq(pids, [("oom", ""), ("start-container", "")], "pids of start-container and oom")
    finally:
        reader.close()


# ---------------------------------------------------------------- checkpoints

@test
def checkpoint_errors():
    """checkpoints: missing checkpoint INVALID_ARGUMENT, unknown container/name NOT_FOUND, bad name INVALID_ARGUMENT"""
    c, _, _ = sleeper("g3-cperr")
    pb = client().pb.api
    expect(lambda: call("CreateCheckpoint", id=c), grpc.StatusCode.INVALID_ARGUMENT,
           "CreateCheckpoint without a checkpoint")
    for name in ("", "../x", "a/b"):
        expect(lambda: call("CreateCheckpoint", id=c, checkpoint=pb.Checkpoint(name=name)),
               grpc.StatusCode.INVALID_ARGUMENT, "CreateCheckpoint named %r" % name)
    expect(lambda: call("CreateCheckpoint", id="no-such-container",
                        checkpoint=pb.Checkpoint(name="x")),
           grpc.StatusCode.NOT_FOUND, "CreateCheckpoint of an unknown container")
    expect(lambda: call("ListCheckpoint", id="no-such-container"), grpc.StatusCode.NOT_FOUND,
           "ListCheckpoint of an unknown container")
    expect(lambda: call("DeleteCheckpoint", id=c, name="never-made"), grpc.StatusCode.NOT_FOUND,
           "DeleteCheckpoint of an unknown name")
    expect(lambda: call("DeleteCheckpoint", id="no-such-container", name="x"),
           grpc.StatusCode.NOT_FOUND, "DeleteCheckpoint of an unknown container")
    R.eq(list(call("ListCheckpoint", id=c).checkpoints), [], "checkpoints")


@test
def checkpoint_runtime_failure():
    """CreateCheckpoint where CRIU cannot dump: the runtime's message, nothing recorded, still running"""
    why = criu_check()
    if why is None:
        raise R.Skip("criu check passes here: checkpoint_with_criu covers this machine")
    c, bundle, cont = sleeper("g3-cpfail")
    pb = client().pb.api
    e = R.rpc_error(lambda: call("CreateCheckpoint", id=c, checkpoint=pb.Checkpoint(name="cp1", exit=True)))
    R.check(e.code() not in (grpc.StatusCode.OK, grpc.StatusCode.UNIMPLEMENTED),
            "CreateCheckpoint: %s" % e.code().name)
    R.check("criu" in (e.details() or "").lower(), "not the runtime's message: %r" % e.details())
    R.eq(list(call("ListCheckpoint", id=c).checkpoints), [], "checkpoints listed")
    R.eq(R.C.daemon.sql("SELECT count(*) FROM checkpoints WHERE container_id = ?", (c,)),
         [(0,)], "checkpoints rows")
    R.check(not os.path.exists(os.path.join(bundle, "checkpoints", "cp1")), "cp1 dir left behind")
    R.eq(client().state(c).containers[0].status, "running", "status after a failed exit checkpoint")
    R.check(pid_alive(cont.processes[0].systemPid), "init died")


def copied_checkpoint(dir_, name, config):
    """A checkpoint as another host left it: DIR/NAME, an image file, config.json."""
    os.makedirs(os.path.join(dir_, name))
    with open(os.path.join(dir_, name, "pages-1.img"), "w") as f:
        f.write("image\n")
    with open(os.path.join(dir_, name, "config.json"), "w") as f:
        f.write(config + "\n")


@test
def checkpoint_dir_as_2017():
    """checkpointDir DIR: ListCheckpoint lists DIR/NAME from its config.json (every field), DeleteCheckpoint removes only DIR/NAME of a checkpoint, bad names and dirs refused"""
    c, bundle, _ = sleeper("g3-cpdir")
    pb = client().pb.api
    d = os.path.join(R.C.daemon.root, "cpdir")
    copied_checkpoint(d, "moved", '{"created":"2017-06-01T10:00:00.5+02:00","name":"moved",'
                      '"tcp":true,"unixSockets":true,"shell":false,"exit":true,'
                      '"emptyNS":["network"]}')
    copied_checkpoint(d, "bare", '{"name":"other-name"}')
    os.makedirs(os.path.join(d, "no-config"))
    with open(os.path.join(d, "no-config", "data"), "w") as f:
        f.write("precious\n")
    got = [(x.name, x.exit, x.tcp, x.unixSockets, x.shell, list(x.emptyNS))
           for x in call("ListCheckpoint", id=c, checkpointDir=d).checkpoints]
    print("# ListCheckpoint of %s: %s" % (d, got))
    R.eq(got, [("bare", False, False, False, False, []),
               ("moved", True, True, True, False, ["network"])], "ListCheckpoint")
    R.eq(list(call("ListCheckpoint", id=c).checkpoints), [], "the bundle's checkpoints")

    for name in ("", ".", "..", "../cpdir", "a/b", "/abs"):
        e = expect(lambda: call("DeleteCheckpoint", id=c, name=name, checkpointDir=d),
                   grpc.StatusCode.INVALID_ARGUMENT, "DeleteCheckpoint named %r" % name)
        R.check("checkpoint name" in e.details(), "message: %r" % e.details())
    for bad in ("relative/dir", d + "/../cpdir"):
        expect(lambda: call("DeleteCheckpoint", id=c, name="moved", checkpointDir=bad),
               grpc.StatusCode.INVALID_ARGUMENT, "DeleteCheckpoint in %r" % bad)
        expect(lambda: call("ListCheckpoint", id=c, checkpointDir=bad),
               grpc.StatusCode.INVALID_ARGUMENT, "ListCheckpoint in %r" % bad)
    for ns in (["net work"], ["../x"], ["a"] * 9, [""]):
        expect(lambda: call("CreateCheckpoint", id=c, checkpointDir=d,
                            checkpoint=pb.Checkpoint(name="new", emptyNS=ns)),
               grpc.StatusCode.INVALID_ARGUMENT, "CreateCheckpoint with emptyNS %r" % ns)
    e = expect(lambda: call("DeleteCheckpoint", id=c, name="no-config", checkpointDir=d),
               grpc.StatusCode.FAILED_PRECONDITION, "DeleteCheckpoint of a folder without config.json")
    print("# DeleteCheckpoint of a folder that is no checkpoint: %s" % e.details())
    expect(lambda: call("DeleteCheckpoint", id=c, name="never", checkpointDir=d),
           grpc.StatusCode.NOT_FOUND, "DeleteCheckpoint of a name not in DIR")
    call("DeleteCheckpoint", id=c, name="moved", checkpointDir=d)
    left = sorted(os.listdir(d))
    print("# left in DIR after deleting moved: %s" % left)
    R.eq(left, ["bare", "no-config"], "left in DIR")
    R.eq([x.name for x in call("ListCheckpoint", id=c, checkpointDir=d).checkpoints], ["bare"],
         "listed after the delete")


@test
def create_from_missing_checkpoint():
    """CreateContainer with a checkpoint that does not exist: an error naming it, nothing running"""
    c = cid("g3-nocp")
    bundle = R.C.daemon.bundle(c, R.C.sleep_args)
    e = R.rpc_error(lambda: client().create(c, bundle, checkpoint="nope"))
    R.check(e.code() != grpc.StatusCode.OK, "OK")
    R.check("nope" in (e.details() or ""), "message does not name it: %r" % e.details())
    R.check(c not in R.C.daemon.runc_list(), "left in runc")
    R.check(c not in [x.id for x in client().state().containers], "listed in State")


@test
def checkpoint_with_criu():
    """CreateCheckpoint/ListCheckpoint/restore/DeleteCheckpoint with a working CRIU"""
    why = criu_check()
    if why is not None:
        raise R.Skip("criu check fails here: " + why)
    c, bundle, _ = sleeper("g3-criu")
    pb = client().pb.api
    call("CreateCheckpoint", id=c, checkpoint=pb.Checkpoint(name="cp", tcp=True))
    got = [(x.name, x.tcp, x.exit) for x in call("ListCheckpoint", id=c).checkpoints]
    R.eq(got, [("cp", True, False)], "ListCheckpoint")
    R.check(os.path.isdir(os.path.join(bundle, "checkpoints", "cp")), "no checkpoint dir")
    c2 = cid("g3-criu2")
    r = client().create(c2, bundle, checkpoint="cp")
    R.eq(r.container.status, "running", "restored status")
    client().signal(c2, signal.SIGKILL)
    R.wait_exit_row(c2)
    call("DeleteCheckpoint", id=c, name="cp")
    R.eq(list(call("ListCheckpoint", id=c).checkpoints), [], "after delete")
    R.check(not os.path.exists(os.path.join(bundle, "checkpoints", "cp")), "dir left")
