"""Bounds the daemon keeps against a client, and what it accepts:

- strings that are not UTF-8, in every string field of every request, are
  refused with INVALID_ARGUMENT naming the field (never dropped on the way
  to JSON, never stored to break State for everyone);
- connections that say nothing are closed after the handshake timeout, and
  at the connection cap a new client still gets in;
- many stalled Events streams, or many half-sent big messages, on one
  connection cost bounded memory, and others are served meanwhile;
- a runtime call that hangs is killed at its deadline, its caller answered
  DEADLINE_EXCEEDED, its --concurrency slot freed;
- labels are bounded per container, so State of many containers stays
  readable by a default grpcio client (4 MiB).

Run by run.py, which calls register(run) with itself; or alone:
/usr/bin/python3 tests/grpc/test_bounds.py [NAME-PART...]
"""

import os
import socket
import stat
import struct
import subprocess
import sys
import threading
import time

import grpc

import ctrdtest
from ctrdtest import wait_for
import test_hostile as H

R = None        # the run.py module, set by register()
_TESTS = []


def test(fn):
    _TESTS.append(fn)
    return fn


def register(run):
    global R
    R = run
    for fn in _TESTS:
        run.test(fn)


def shared():
    return R.C.daemon, R.C.client


def raw_call(cl, path, body, timeout=10):
    call = cl.channel.unary_unary(path, request_serializer=lambda b: b,
                                  response_deserializer=lambda b: b)
    return call(body, timeout=timeout)


# ---------------------------------------------------------------- protobuf by hand

def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def ld_field(num, payload):
    """A length-delimited field: a string, bytes or a nested message."""
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def string_paths(desc, depth=0):
    """Every string field reachable from message DESC: lists of field
    descriptors from the top message down to the string."""
    from google.protobuf.descriptor import FieldDescriptor as F
    out = []
    for f in desc.fields:
        if f.type == F.TYPE_STRING:
            out.append([f])
        elif f.type == F.TYPE_MESSAGE and depth < 4 and not f.message_type.GetOptions().map_entry \
                and f.message_type.full_name != "google.protobuf.Timestamp":
            out += [[f] + rest for rest in string_paths(f.message_type, depth + 1)]
    return out


def bad_field(path, bad):
    """The bytes of a message that sets PATH (field descriptors) to BAD."""
    b = ld_field(path[-1].number, bad)
    for f in reversed(path[:-1]):
        b = ld_field(f.number, b)
    return b


# Not UTF-8: a lone continuation byte, an overlong '/', a surrogate, past U+10FFFF.
BAD_UTF8 = [b"x\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]


@test
def strings_not_utf8():
    """bounds: a string field that is not UTF-8, in every field of every request: INVALID_ARGUMENT naming it, nothing created, State still readable"""
    d, cl = shared()
    pb = cl.pb.api
    cid = "utf8-ctr"
    bundle, _ = R.create_sleeper(cid)
    # Valid requests that would do something, so a dropped field would show.
    new_bundle = d.bundle("utf8-new", R.C.sleep_args)
    bases = {
        "CreateContainer": pb.CreateContainerRequest(
            id="utf8-new", bundlePath=new_bundle, labels=["a=1"]).SerializeToString(),
        "AddProcess": pb.AddProcessRequest(
            id=cid, pid="utf8-exec", args=["sleep", "1000"], cwd="/",
            env=["PATH=/bin"]).SerializeToString(),
    }
    checked = 0
    for m, (req, _, stream) in sorted(ctrdtest.API_METHODS.items()):
        desc = getattr(pb, req).DESCRIPTOR
        for path in string_paths(desc):
            name = path[-1].name
            for k, bad in enumerate(BAD_UTF8):
                body = bases.get(m, b"") + bad_field(path, bad)
                if stream:
                    call = cl.channel.unary_stream("/types.API/" + m,
                                                   request_serializer=lambda b: b,
                                                   response_deserializer=lambda b: b)
                    e = R.rpc_error(lambda: list(call(body, timeout=10)))
                else:
                    e = R.rpc_error(raw_call, cl, "/types.API/" + m, body)
                what = "%s %s = %r" % (m, ".".join(f.name for f in path), bad)
                R.expect_code(e, grpc.StatusCode.INVALID_ARGUMENT, what)
                R.check(name in e.details() and "UTF-8" in e.details(),
                        "%s: the message does not name the field: %r" % (what, e.details()))
                if k == 0:
                    checked += 1
    R.eq(d.sql("SELECT count(*) FROM containers WHERE id = 'utf8-new'")[0][0], 0,
         "rows of utf8-new")
    R.eq(d.sql("SELECT count(*) FROM processes WHERE pid = 'utf8-exec'")[0][0], 0,
         "rows of the exec utf8-exec")
    R.check("utf8-new" not in d.runc_list(), "utf8-new is in runc")
    st = cl.state()
    R.check(cid in [c.id for c in st.containers], "State lost %s" % cid)
    procs = [p.pid for c in st.containers if c.id == cid for p in c.processes]
    R.eq(procs, ["init"], "processes of %s" % cid)
    R.diag("%d string fields checked (%d bad byte sequences each): all INVALID_ARGUMENT"
           % (checked, len(BAD_UTF8)))
    R.check(checked >= 40, "only %d string fields found" % checked)
    # Good UTF-8 beyond ASCII is fine.
    cl.call("AddProcess", id=cid, pid="utf8-ok", args=["sh", "-c", "echo h\u00e9llo \u2603"],
            cwd="/", env=["PATH=/bin", "X=\U0001f600"])
    cl.signal(cid, 9)


LABELS_MAX, LABEL_MAX_LEN, LABELS_MAX_BYTES = 64, 4096, 16 << 10   # lib/validate.h


def max_labels(tag):
    """LABELS_MAX labels of LABELS_MAX_BYTES in all: the most a container may have."""
    each = LABELS_MAX_BYTES // LABELS_MAX
    return [("%s-%02d=" % (tag, k)).ljust(each, "v") for k in range(LABELS_MAX)]


@test
def labels_bounded():
    """bounds: labels over 64, one over 4 KiB, over 16 KiB in all: INVALID_ARGUMENT naming the bound, nothing left; State of containers at the maximum under 4 MiB for a default grpcio client"""
    d, cl = shared()
    bundle = d.bundle("lbl-over", R.C.sleep_args)
    cases = [
        ("65 labels", ["k%d=v" % k for k in range(LABELS_MAX + 1)], "at most 64"),
        ("a label of 4097 bytes", ["k=" + "v" * (LABEL_MAX_LEN - 1)], "at most 4096"),
        ("5 labels of 4000 bytes", ["k%d=" % k + "v" * 3997 for k in range(5)],
         "at most 16384"),
    ]
    for what, labels, bound in cases:
        e = R.rpc_error(cl.create, "lbl-over", bundle, labels=labels)
        R.expect_code(e, grpc.StatusCode.INVALID_ARGUMENT, what)
        R.check(bound in e.details(), "%s: the message does not name the bound: %r"
                % (what, e.details()))
        R.eq(d.sql("SELECT count(*) FROM containers WHERE id = 'lbl-over'")[0][0], 0,
             "rows after %s" % what)
        R.eq(d.sql("SELECT count(*) FROM labels WHERE container_id = 'lbl-over'")[0][0], 0,
             "label rows after %s" % what)
    R.check("lbl-over" not in os.listdir(d.state), "a directory left for lbl-over")
    R.check("lbl-over" not in d.runc_list(), "lbl-over is in runc")
    # At the maximum: accepted, and State measured.
    n = 20
    ids = ["lbl-max-%02d" % k for k in range(n)]
    try:
        for cid in ids:
            R.create_sleeper(cid, labels=max_labels(cid))
        one = len(cl.state(ids[0]).SerializeToString())
        st = cl.state()     # a default grpcio client: 4 MiB at most
        whole = len(st.SerializeToString())
        got = [c for c in st.containers if c.id in ids]
        R.eq(len(got), n, "containers at the label maximum in State")
        R.eq(sorted(got[0].labels), sorted(max_labels(got[0].id)), "labels of %s" % got[0].id)
        est = 100 * one
        R.diag("State: %d bytes for one container at the label maximum, %d for all %d listed;"
               " 100 such containers: %.2f MiB (default client limit 4 MiB)"
               % (one, whole, len(st.containers), est / (1 << 20)))
        R.check(est < 4 << 20, "100 containers at the label maximum would be %d bytes" % est)
    finally:
        for cid in ids:
            try:
                cl.signal(cid, 9)
            except grpc.RpcError:
                pass


# ---------------------------------------------------------------- idle connections

class EnvDaemon(H.PrivateDaemon):
    """A private daemon with environment variables (and an fd limit)."""

    def __init__(self, env, nofile=None):
        super().__init__(nofile=nofile)
        self.env = env

    def argv(self, *extra):
        return ["env"] + ["%s=%s" % kv for kv in self.env] + super().argv(*extra)


def closed_now(s):
    """True once the daemon closed S (what it sent before, its SETTINGS, is read first)."""
    try:
        while True:
            if s.recv(65536, socket.MSG_DONTWAIT) == b"":
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


@test
def silent_connections_at_the_cap():
    """bounds: the connection cap filled with silent connections: a new client is served at once, the silent ones closed after the handshake timeout, idle ones after the idle timeout, an Events stream kept"""
    hs, idle_t = 2.0, 3.0
    d = EnvDaemon([("CONTAINERD_HANDSHAKE_TIMEOUT", "2s"), ("CONTAINERD_IDLE_TIMEOUT", "3s")],
                  nofile=64)
    socks = []
    try:
        d.start()
        H.up(d)
        pid = d.proc.pid
        lines = H.log_lines(d, "connections at most")
        cap = int(lines[-1].split(" connections at most")[0].split()[-1])
        pb = ctrdtest.load_protos().api
        # A subscriber (never idle) and a client that made one call (idle).
        ev = H.Raw(d.sock)
        ev.request(1, b"/types.API/Events", pb.EventsRequest().SerializeToString())
        ev.pump(lambda: ev._stream(1).headers is not None or ev.eof, 5)
        idle = H.Raw(d.sock)
        H.version_call(idle, 1)
        t_idle = time.monotonic()
        t0 = time.monotonic()
        for _ in range(cap):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(d.sock)
            socks.append(s)
        t_full = time.monotonic()
        dt = H.answers(d, None, within=1.5, what="the cap filled with silent connections")
        # Every silent one goes: the oldest at once (to admit others), the
        # rest at the handshake timeout.
        closed_at = {}
        deadline = time.monotonic() + hs + 10
        while len(closed_at) < len(socks) and time.monotonic() < deadline:
            for k, s in enumerate(socks):
                if k not in closed_at and closed_now(s):
                    closed_at[k] = time.monotonic() - t0
            time.sleep(0.05)
        R.eq(len(closed_at), len(socks), "silent connections closed")
        late = sorted(t for t in closed_at.values() if t > 1.0)
        # Two connections were open before: the two oldest silent ones made room.
        R.check(len(closed_at) - len(late) >= 2, "%d silent connections closed at once to"
                " admit others, want 2 or more" % (len(closed_at) - len(late)))
        R.check(late and late[0] >= hs - 0.5, "silent connections closed after %.1fs, before"
                " the handshake timeout of %.0fs" % (late[0] if late else 0, hs))
        R.check(late[-1] < hs + (t_full - t0) + 3, "the last silent connection closed after"
                " %.1fs (handshake timeout %.0fs)" % (late[-1], hs))
        # The idle client went with a GOAWAY; the subscriber stays.
        R.check(idle.wait_closed(timeout=idle_t + 5), "the idle connection is still open")
        t_idle = time.monotonic() - t_idle
        R.eq(idle.goaway, 0, "GOAWAY error code for the idle connection")
        R.check(t_idle >= idle_t - 0.5, "the idle connection closed after %.1fs" % t_idle)
        ev.pump(lambda: ev.eof, 0.5)
        R.check(not ev.eof, "the Events subscriber was closed as idle")
        R.diag("cap %d, %d silent connections: GetServerVersion answered in %.0f ms; %d closed"
               " at once to admit others, the other %d after %.1f-%.1fs (handshake timeout"
               " %.0fs); an idle client closed after %.1fs (idle timeout %.0fs), the Events"
               " subscriber kept" % (cap, len(socks), dt * 1000, len(closed_at) - len(late),
                                     len(late), late[0], late[-1], hs, t_idle, idle_t))
        ev.close()
        idle.close()
    finally:
        for s in socks:
            s.close()
        d.cleanup()


# ---------------------------------------------------------------- buffering

WINDOW_UPDATE, SETTINGS, RST_STREAM = H.WINDOW_UPDATE, H.SETTINGS, H.RST_STREAM


class FlowRaw(H.Raw):
    """A raw connection that keeps to HTTP/2 flow control as it sends (a
    client that did not would just be closed), and sees RST_STREAM."""

    def __init__(self, path, **kw):
        self.conn_win = 65535
        self.init_win = 65535
        self.win = {}
        self.reset_ids = set()
        self.got_settings = False
        super().__init__(path, **kw)

    def _process(self, f):
        ftype, flags, sid, p = f
        if ftype == WINDOW_UPDATE:
            inc = struct.unpack(">I", p[:4])[0] & 0x7FFFFFFF
            if sid == 0:
                self.conn_win += inc
            else:
                self.win[sid] = self.win.get(sid, self.init_win) + inc
        elif ftype == SETTINGS and not flags & H.ACK:
            for k in range(0, len(p) - 5, 6):
                ident, val = struct.unpack(">HI", p[k:k + 6])
                if ident == H.SETTINGS_INITIAL_WINDOW_SIZE:
                    for sid_ in self.win:
                        self.win[sid_] += val - self.init_win
                    self.init_win = val
            self.got_settings = True
        elif ftype == RST_STREAM:
            self.reset_ids.add(sid)
        super()._process(f)

    def read_some(self, timeout):
        """Processes what arrives within TIMEOUT; False at EOF."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                f = self._read_frame(deadline)
            except (socket.timeout, BlockingIOError):
                return True
            if f is None:
                return False
            self._process(f)

    def send_data(self, sid, left, chunk=16384):
        """Sends what the windows allow of LEFT bytes on SID; returns the count."""
        n = min(left, chunk, self.conn_win, self.win.setdefault(sid, self.init_win))
        if n <= 0 or sid in self.reset_ids:
            return 0
        self.send(H.frame(H.DATA, 0, sid, b"m" * n))
        self.conn_win -= n
        self.win[sid] -= n
        return n


def peak_growth_mb(pid, before):
    return (H.peak_kb(pid) - before) / 1024.0


@test
def buffering_bounded():
    """bounds: 1,000 stalled Events streams on one connection, and 128 streams each sending most of a 15 MiB message: peak memory bounded, other clients served meanwhile"""
    d = H.PrivateDaemon()
    conns = []
    try:
        d.start("--retain-count", "0")
        H.up(d)
        d.stop(ctrdtest.signal.SIGTERM)
        H.insert_events(d.db, 5000)
        d.start("--retain-count", "0")
        H.up(d)
        pid = d.proc.pid
        pb = ctrdtest.load_protos().api
        H.answers(d, None, within=2.0)
        # 1. 1,000 Events streams replaying 5,000 events each (1.5 MB), on
        # one connection with the widest windows, and nothing read.
        H.reset_peak(pid)
        before = H.peak_kb(pid)
        c = H.Raw(d.sock, settings=[(H.SETTINGS_INITIAL_WINDOW_SIZE, 0x7FFFFFFF)],
                  window=0x7FFFFFFF - 65535)
        conns.append(c)
        c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        hdr = H.hpack(H.grpc_headers(b"/types.API/Events"))
        req = H.grpc_msg(pb.EventsRequest(legacyTimestamp=1).SerializeToString())
        out = b"".join(H.frame(H.HEADERS, H.END_HEADERS, 1 + 2 * k, hdr) +
                       H.frame(H.DATA, H.END_STREAM, 1 + 2 * k, req) for k in range(1000))
        H.send_quietly(c, out)
        # Until the daemon has pushed what it will.
        last = -1
        for _ in range(50):
            t = H.cpu_s(pid)
            if t == last:
                break
            last = t
            time.sleep(0.2)
        dt1 = H.answers(d, None, within=1.0, what="1,000 stalled Events streams")
        grew1 = peak_growth_mb(pid, before)
        R.diag("1,000 stalled Events streams on one connection: peak RSS +%.1f MB,"
               " GetServerVersion in %.0f ms" % (grew1, dt1 * 1000))
        R.check(grew1 < 32, "peak RSS grew by %.1f MB" % grew1)
        c.close()
        conns.remove(c)

        # 2. 128 streams each sending a 15 MiB message, all but its end.
        H.reset_peak(pid)
        before = H.peak_kb(pid)
        c = FlowRaw(d.sock)
        conns.append(c)
        # All 128 at once, before the daemon's SETTINGS (MAX_CONCURRENT_STREAMS)
        # are acknowledged: those past the limit are refused.
        hdr = H.hpack(H.grpc_headers(b"/types.API/CreateContainer"))
        size = 15 << 20
        left = {}
        for k in range(128):
            sid = 1 + 2 * k
            c.send(H.frame(H.HEADERS, H.END_HEADERS, sid, hdr) +
                   H.frame(H.DATA, 0, sid, struct.pack(">BI", 0, size)))
            c.win[sid] = c.init_win - 5
            c.conn_win -= 5
            left[sid] = size - 4096
        sent, idle_since, t0 = 0, time.monotonic(), time.monotonic()
        lat = []
        while time.monotonic() - idle_since < 1.5 and time.monotonic() - t0 < 60:
            if not c.read_some(0.02):
                break
            moved = 0
            for sid in left:
                n = c.send_data(sid, left[sid])
                left[sid] -= n
                moved += n
            sent += moved
            if moved:
                idle_since = time.monotonic()
            if peak_growth_mb(pid, before) > 256:
                break       # the old daemon: stop before it takes gigabytes
            if len(lat) < 5 and sent > len(lat) * (4 << 20):
                lat.append(H.answers(d, None, within=2.0, what="128 big partial messages"))
        dt2 = H.answers(d, None, within=1.0, what="128 big partial messages")
        grew2 = peak_growth_mb(pid, before)
        refused = len(c.reset_ids)
        R.diag("128 streams sending 15 MiB messages: %d refused (100 at most at once),"
               " %.1f MB taken before the daemon stopped granting window; peak RSS +%.1f MB,"
               " GetServerVersion in %.0f ms meanwhile (worst %.0f ms)"
               % (refused, sent / 1e6, grew2, dt2 * 1000, max(lat + [dt2]) * 1000))
        R.check(grew2 < 64, "peak RSS grew by %.1f MB" % grew2)
        R.check(not c.eof, "the daemon closed a client that kept to flow control")
        # The connection still works for small calls, once one of its 100
        # streams is given up.
        c.send(H.frame(RST_STREAM, 0, 1, struct.pack(">I", H.CANCEL)))
        c.request(1001, b"/types.API/GetServerVersion", b"")
        r = c.response(1001)
        R.eq(r.status(), 0, "GetServerVersion on the loaded connection (%s)" % r.message())
    finally:
        for c in conns:
            c.close()
        d.cleanup()


# ---------------------------------------------------------------- runtime deadlines

HANG_MARK = "100007"    # `sleep 100007`: the hung runtime, found by pgrep


class HangDaemon(H.PrivateDaemon):
    """A daemon whose runtime is runc, except that it hangs (sleeps) for
    the verbs listed in ROOT/hang: a real runc cannot be made to hang."""

    def __init__(self):
        super().__init__()
        self.hang = os.path.join(self.root, "hang")
        self.fake = os.path.join(self.root, "hang-runtime")
        with open(self.fake, "w") as f:
            f.write("#!/bin/sh\n"
                    "for a in \"$@\"; do\n"
                    "  if grep -qxF -- \"$a\" %s 2>/dev/null; then exec sleep %s; fi\n"
                    "done\n"
                    "exec %s \"$@\"\n" % (self.hang, HANG_MARK, ctrdtest.RUNC))
        os.chmod(self.fake, 0o755)
        self.hang_verbs()

    def hang_verbs(self, *verbs):
        with open(self.hang, "w") as f:
            f.write("".join(v + "\n" for v in verbs))

    def argv(self, *extra):
        return super().argv("--runtime", self.fake, *extra)


def hung_runtimes():
    res = subprocess.run(["pgrep", "-f", "^sleep " + HANG_MARK], stdout=subprocess.PIPE,
                         universal_newlines=True)
    return res.stdout.split()


@test
def runtime_deadlines():
    """bounds: hung runtime calls (pause, exec, start, delete) are killed at their deadline: DEADLINE_EXCEEDED naming verb and deadline, slots freed, a start past --start-timeout answered, nothing left running"""
    d = HangDaemon()
    try:
        # Two slots, runtime calls of 2 s at most.
        d.start("--concurrency", "2", "--runtime-timeout", "2s", "--start-timeout", "20s")
        H.up(d)
        cl = ctrdtest.Client(d.sock)
        try:
            for cid in ("dl-a", "dl-b"):
                cl.create(cid, d.bundle(cid, R.C.sleep_args))
            d.hang_verbs("pause")
            t0 = time.monotonic()
            pauses = [cl._method("UpdateContainer").future(
                cl.request("UpdateContainer", id=cid, status="paused"), timeout=30)
                for cid in ("dl-a", "dl-b")]
            wait_for(lambda: len(hung_runtimes()) >= 2, timeout=10,
                     what="two hung pauses holding both slots")
            d.hang_verbs()
            # Both slots are held: this create's start waits for one.
            r = cl.create("dl-c", d.bundle("dl-c", R.C.sleep_args))
            t_create = time.monotonic() - t0
            R.eq(r.container.status, "running", "dl-c")
            for f in pauses:
                e = f.exception()
                R.check(e is not None, "a hung pause succeeded")
                R.expect_code(e, grpc.StatusCode.DEADLINE_EXCEEDED, "a hung pause")
                R.check("pause" in e.details() and "2.0s" in e.details(),
                        "the message names neither verb nor deadline: %r" % e.details())
            t_pause = time.monotonic() - t0
            R.check(t_create < 2 + 8, "the create answered after %.1fs" % t_create)
            R.eq(hung_runtimes(), [], "hung runtimes left")
            # An exec whose `runtime exec` (run by its shim) hangs.
            d.hang_verbs("exec")
            t1 = time.monotonic()
            e = R.rpc_error(cl.call, "AddProcess", id="dl-a", pid="dl-x", args=["true"],
                            cwd="/")
            t_exec = time.monotonic() - t1
            d.hang_verbs()
            R.expect_code(e, grpc.StatusCode.DEADLINE_EXCEEDED, "a hung exec")
            R.check("exec" in e.details() and "2.0s" in e.details(),
                    "the message names neither verb nor deadline: %r" % e.details())
            R.eq(d.sql("SELECT count(*) FROM processes WHERE pid = 'dl-x'")[0][0], 0,
                 "rows of the hung exec")
            wait_for(lambda: not hung_runtimes(), timeout=5, what="the hung exec killed")
            states = {c.id: c.status for c in cl.state().containers}
            R.eq(states.get("dl-a"), "running", "dl-a after its pause was killed")
            R.diag("runtime deadline 2s, --concurrency 2, two hung pauses: pauses answered"
                   " DEADLINE_EXCEEDED by %.1fs, a create behind them answered in %.1fs;"
                   " a hung exec answered DEADLINE_EXCEEDED in %.1fs" % (t_pause, t_create, t_exec))
        finally:
            cl.close()
        d.stop(ctrdtest.signal.SIGTERM)

        # A start and its undo's delete that both hang: answered at
        # --start-timeout plus the undo's share (half of it, 1 s here).
        d.start("--runtime-timeout", "30s", "--start-timeout", "2s")
        H.up(d)
        cl = ctrdtest.Client(d.sock)
        try:
            d.hang_verbs("start", "delete")
            bundle = d.bundle("dl-s", R.C.sleep_args)
            t0 = time.monotonic()
            e = R.rpc_error(cl.create, "dl-s", bundle)
            dt = time.monotonic() - t0
            R.expect_code(e, grpc.StatusCode.DEADLINE_EXCEEDED, "a create whose start hangs")
            R.check("start-timeout" in e.details(), "message: %r" % e.details())
            R.check(dt < 2 + 1 + 3, "the create answered after %.1fs (--start-timeout 2s)" % dt)
            wait_for(lambda: not hung_runtimes(), timeout=5, what="the hung runtimes killed")
            R.eq(d.sql("SELECT count(*) FROM containers WHERE id = 'dl-s'")[0][0], 0, "rows")
            R.check("dl-s" not in [c.id for c in cl.state().containers], "dl-s in State")
            st = d.runc_state("dl-s")
            R.check(st is None or not R.pid_alive(st.get("pid", 0)),
                    "the init of dl-s still runs: %s" % st)
            R.diag("--start-timeout 2s, start and delete hung: DEADLINE_EXCEEDED after %.1fs"
                   % dt)
            # Once the runtime works again, so does everything.
            d.hang_verbs()
            cl.create("dl-t", d.bundle("dl-t", R.C.sleep_args))
        finally:
            cl.close()
    finally:
        d.hang_verbs()
        d.cleanup()
        for p in hung_runtimes():
            subprocess.run(["kill", "-9", p])


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run
    del run.TESTS[:]
    register(run)
    if sys.argv[1:]:
        run.TESTS[:] = [fn for fn in run.TESTS if any(a in fn.__name__ for a in sys.argv[1:])]
    sys.exit(run.main())
