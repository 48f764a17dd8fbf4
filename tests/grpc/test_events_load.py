"""The event bus under load: a subscriber that reads nothing while
thousands of events are produced still gets every one, in order, once;
replay from a timestamp in the middle of a live burst has no gap; streams
whose clients vanish are released; retention never takes from a
subscriber an event it has not been sent (its own daemons: the shared one
keeps everything).

Run by run.py, which calls register(run) with itself (as test_api3.py).

The events come from pause/resume of a few containers whose runtime is a
wrapper: runc for everything, except that pause and resume succeed at once
without touching the container. The bus is under test, not the freezer: a
real `runc pause` costs ~30 ms of CPU and would make 5,000 events take
minutes on two cores; with the wrapper they take ~25 s on a busy 2-core
machine (~200 events/s: each event is one runtime process the daemon
spawns; daemon/spawn.c says why that is a vfork, which doubled this rate).
The daemon records and publishes exactly the same events either way.

The slow reader is `ctr events` with its stdout on a pipe shrunk to one
page that the test does not read: ctr blocks on write, stops reading its
socket, the socket fills, and the daemon's stream queue grows until the
daemon stops pushing to that subscriber (256 KiB). Container ids of the
longest length allowed make each event ~165 bytes on the wire: 5,000 of
them are ~800 KiB, of which the pipe, ctr and its socket take ~150 KiB.
"""

import fcntl
import os
import re
import select
import signal
import subprocess
import termios
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import grpc

import ctrdtest
from ctrdtest import wait_for, timestamp_ns, make_timestamp

R = None        # the run.py module, set by register()
_TESTS = []

CTR = os.environ.get("CTR", os.path.join(ctrdtest.BIN, "ctr"))
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)

N_LOAD = 8              # containers paused and resumed concurrently
SUB_HIGH_WATER = 256 << 10      # daemon/rpc_events.c
CONN_OUT_HIGH = (128 << 10) + (16 << 10)  # lib/grpc.c OUT_HIGH, plus one frame

RUNTIME_WRAPPER = """#!/bin/sh
# runc, except that pause and resume succeed without doing anything.
for a; do case $a in pause|resume) exit 0;; esac; done
exec %s "$@"
"""


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

class Env:
    """A daemon with N_LOAD load containers and a marker container, all on
    a runtime whose pause and resume do nothing (RUNTIME_WRAPPER)."""

    def __init__(self, daemon, client):
        self.d = daemon
        self.client = client
        self.ids = None
        self.marker = None

    def long_id(self, name):
        """An id unique to this daemon's root (ids name host cgroups),
        padded to 128 characters (the most allowed) so that each event is
        big on the wire."""
        base = "%s-%s-" % (name, os.path.basename(self.d.root).rsplit(".", 1)[-1])
        return (base + "x" * 128)[:128]

    def setup(self):
        d = self.d
        runtime = os.path.join(d.root, "runtime-nopause")
        runc = subprocess.run(["sh", "-c", "command -v " + ctrdtest.RUNC],
                              stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
        with open(runtime, "w") as f:
            f.write(RUNTIME_WRAPPER % (runc or ctrdtest.RUNC))
        os.chmod(runtime, 0o755)
        self.runtime = runtime
        self.bundle = d.bundle("evload", ["sleep", "1000"])
        ids = [self.long_id("evl%d" % i) for i in range(N_LOAD)]
        marker = self.long_id("evl-mark")
        for c in ids + [marker]:
            self.client.create(c, self.bundle, runtime=runtime)
        self.ids, self.marker = ids, marker
        return self

    def toggle(self, cid, status):
        self.client.call("UpdateContainer", id=cid, status=status)

    def toggle_quietly(self, cid, status):
        """toggle() in a cleanup: an error there must not hide the test's."""
        try:
            self.toggle(cid, status)
        except grpc.RpcError:
            pass

    def burst(self, rounds, ids=None):
        """Each container of IDS paused and resumed ROUNDS times, all at
        once: 2 * ROUNDS * len(IDS) events."""
        ids = ids or self.ids

        def one(c):
            for _ in range(rounds):
                self.toggle(c, "paused")
                self.toggle(c, "running")

        with ThreadPoolExecutor(len(ids)) as ex:
            for f in [ex.submit(one, c) for c in ids]:
                f.result()

    def max_seq(self):
        return self.d.sql("SELECT coalesce(max(seq), 0) FROM events")[0][0]

    def rows_between(self, first_seq, last_seq):
        return self.d.sql("SELECT seq, ts, type, container_id, pid, status FROM events"
                          " WHERE seq >= ? AND seq <= ? ORDER BY seq", (first_seq, last_seq))

    def marker_row(self, type_, after_seq):
        """The seq of the marker's TYPE event after AFTER_SEQ, once in the table."""
        return wait_for(lambda: self.d.sql(
            "SELECT seq FROM events WHERE container_id = ? AND type = ? AND seq > ?"
            " ORDER BY seq LIMIT 1", (self.marker, type_, after_seq)),
            what="the marker's %s event in state.db" % type_)[0][0]


_shared = []


def shared():
    """The Env of run.py's daemon, set up by the first test that needs it."""
    if not _shared:
        _shared.append(Env(R.C.daemon, R.C.client).setup())
    return _shared[0]


def ctr_time(ns):
    """A time as ctr prints it (lib/timefmt.c time_format): RFC 3339 in UTC,
    nine fraction digits, fixed width."""
    sec, nsec = divmod(ns, 1000000000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ".%09dZ" % nsec


def row_key(r):
    """(time, type, id, pid, status) of an events row, as ctr prints it."""
    _, ts, type_, cid, pid, status = r
    return (ctr_time(ts), type_, cid, pid, str(status))


def line_key(line):
    """(time, type, id, pid, status) of a `ctr events` line: the columns
    are padded with spaces, and pid may be empty (never id, live)."""
    f = line.split()
    if len(f) == 5:
        return tuple(f)
    if len(f) == 4:
        return (f[0], f[1], f[2], "", f[3])
    raise AssertionError("cannot parse ctr events line %r" % line)


def event_wire_size(r):
    """Bytes of one Event message on the wire (gRPC prefix included) as the
    daemon sends it: both timestamps."""
    _, ts, type_, cid, pid, status = r
    ev = ctrdtest.load_protos().api.Event(type=type_, id=cid, pid=pid, status=status,
                                          legacyTimestamp=ts // 1000000000,
                                          timestamp=make_timestamp(ts))
    return ev.ByteSize() + 5


class CtrEvents:
    """`ctr events` with its stdout on a one-page pipe read only when asked."""

    def __init__(self, d, *args):
        self.rfd, wfd = os.pipe()
        try:
            fcntl.fcntl(wfd, F_SETPIPE_SZ, 4096)
        except OSError:
            pass
        self.errpath = os.path.join(d.root, "ctr-events.%d.err" % id(self))
        with open(self.errpath, "wb") as err:
            self.proc = subprocess.Popen([CTR, "--address", d.sock, "events"] + list(args),
                                         stdin=subprocess.DEVNULL, stdout=wfd, stderr=err)
        os.close(wfd)
        os.set_blocking(self.rfd, False)
        self.buf = b""
        self.eof = False
        self.header = None
        self.keys = []

    def pipe_bytes(self):
        return int.from_bytes(fcntl.ioctl(self.rfd, termios.FIONREAD, b"\0\0\0\0"), "little")

    def _read_some(self, deadline):
        """Reads what the pipe has, waiting up to DEADLINE; False at EOF or
        past the deadline, True when it read or waited a second."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.rfd], [], [], min(left, 1.0))
        if not r:
            return True
        try:
            data = os.read(self.rfd, 1 << 20)
        except BlockingIOError:
            return True
        if not data:
            self.eof = True
            return False
        self.last_data = time.monotonic()
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.decode()
            if self.header is None:
                self.header = line
            else:
                self.keys.append(line_key(line))
        return True

    def read_until(self, pred, timeout=20.0, idle=10.0, what="an event"):
        """Reads lines until one satisfies PRED; returns its key. Gives up
        after TIMEOUT, or once nothing came for IDLE seconds."""
        deadline = time.monotonic() + timeout
        self.last_data = time.monotonic()
        i = 0
        while True:
            while i < len(self.keys):
                if pred(self.keys[i]):
                    return self.keys[i]
                i += 1
            quiet = time.monotonic() - self.last_data
            if quiet > idle or not self._read_some(deadline):
                raise AssertionError(
                    "ctr events: %s not seen (%d lines read, %s; stderr: %r)"
                    % (what, len(self.keys), "EOF" if self.eof else "nothing for %.0fs" % quiet
                       if quiet > idle else "%.0fs passed" % timeout, self.stderr()))

    def wait_header(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        while self.header is None:
            if not self._read_some(deadline):
                raise AssertionError("ctr events printed no header (stderr: %r)"
                                     % self.stderr())

    def stderr(self):
        try:
            with open(self.errpath) as f:
                return f.read().strip()
        except OSError:
            return ""

    def stalled(self):
        """True when ctr sleeps in a write to its stdout pipe."""
        try:
            with open("/proc/%d/wchan" % self.proc.pid) as f:
                return "pipe_w" in f.read()    # pipe_write, anon_pipe_write, pipe_wait
        except OSError:
            return False

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.rfd >= 0:
            os.close(self.rfd)
            self.rfd = -1


def socket_recvq(pid):
    """Bytes waiting in the receive queue of PID's unix sockets (ss), or None."""
    try:
        out = subprocess.run(["ss", "-xpn"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True).stdout
    except OSError:
        return None
    total, found = 0, False
    for line in out.splitlines():
        if "pid=%d," % pid in line:
            f = line.split()
            total += int(f[2])
            found = True
    return total if found else None


def subscriber_count(d):
    """The events-subscriber count the daemon last logged (--debug), or None."""
    counts = re.findall(r"events: subscriber \d+ (?:gone \((\d+) left\)|\(.*\), (\d+)"
                        r" subscribers)", d.log())
    return int(counts[-1][0] or counts[-1][1]) if counts else None


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def diag(text):
    for line in str(text).splitlines():
        print("# " + line, flush=True)


# ---------------------------------------------------------------- tests

@test
def slow_subscriber_gets_everything():
    """a subscriber that reads nothing while 5,000 events are produced, then reads: receives every one, in order, no duplicate"""
    E = shared()
    ctr = CtrEvents(R.C.daemon)
    try:
        ctr.wait_header()
        # The stream is live once it shows an event made after it opened.
        E.toggle(E.marker, "paused")
        ctr.read_until(lambda k: k[1] == "pause" and k[2] == E.marker,
                       what="the marker's pause")
        first = ctr.keys[0]
        start_seq = E.max_seq()
        read_before = len(ctr.keys)

        t0 = time.monotonic()
        E.burst(313)    # 8 * 313 * 2 = 5,008 events
        dt = time.monotonic() - t0
        E.toggle(E.marker, "running")
        end_seq = E.marker_row("resume", start_seq)
        produced = end_seq - start_seq
        diag("%d events in %.1fs (%.0f/s) while the subscriber read nothing"
             % (produced, dt, produced / dt))
        R.check(produced >= 5000, "only %d events were produced" % produced)

        # How far the backpressure went: what ctr and the sockets hold,
        # against what the daemon had to send. The rest was the daemon's.
        time.sleep(0.5)
        stalled = ctr.stalled()
        in_pipe = ctr.pipe_bytes()
        in_sock = socket_recvq(ctr.proc.pid)
        R.check(ctr.proc.poll() is None, "ctr events exited: %r" % ctr.stderr())

        unfinished = None
        try:
            ctr.read_until(lambda k: k[1] == "resume" and k[2] == E.marker, timeout=60,
                           what="the marker's resume (the last event)")
        except AssertionError as e:
            unfinished = str(e)     # the comparison below says where it broke
        rows = E.rows_between(0, end_seq)
        keys = [row_key(r) for r in rows]
        R.check(first in keys, "the first line %r is no row of the events table" % (first,))
        i0 = keys.index(first)
        want = keys[i0:]
        got = ctr.keys[:len(want)]
        if got != want:
            n = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b),
                     min(len(got), len(want)))
            raise AssertionError(
                "the stream differs from the events table at event %d of %d (%d received,"
                " %d duplicate): got %r, want %r"
                % (n, len(want), len(ctr.keys), len(ctr.keys) - len(set(ctr.keys)),
                   got[n:n + 2], want[n:n + 2]))
        R.check(unfinished is None, unfinished)

        # ctr had taken at most the lines in its pipe, one in its hand and
        # one 64 KiB read; the rest of the stream was in the socket or the
        # daemon. Lines counted short and frame headers left out: a lower bound.
        unread = rows[i0 + read_before:]
        wire = [event_wire_size(r) for r in unread]
        lines = 0
        n = 0
        for k in ctr.keys[read_before:]:
            n += len(" ".join(k)) + 1
            if n > in_pipe:
                break
            lines += 1
        taken = sum(wire[:lines + 1]) + 65536
        if in_sock is None:
            diag("ss cannot see ctr's socket: the daemon's share is not measured")
            return
        held = sum(wire) - taken - in_sock
        diag("the stalled subscriber: ctr %s, %d KiB in its pipe, %d KiB in its socket, "
             "%d KiB of %d KiB stream at least in the daemon"
             % ("blocked writing" if stalled else "not blocked", in_pipe >> 10, in_sock >> 10,
                held >> 10, sum(wire) >> 10))
        R.check(held > SUB_HIGH_WATER + CONN_OUT_HIGH,
                "the daemon never held more than its %d KiB stream high water (held >= %d KiB):"
                " the test did not reach backpressure" % (SUB_HIGH_WATER >> 10, held >> 10))
    finally:
        ctr.kill()


@test
def replay_mid_burst_no_gap():
    """replay from a timestamp in the middle of a live burst has no gap"""
    E = shared()
    start_seq = E.max_seq()
    done = threading.Event()
    errors = []

    def produce():
        try:
            E.burst(60)     # 960 events, ~3 s
        except Exception as e:  # raised below
            errors.append(e)
        finally:
            done.set()

    threading.Thread(target=produce, daemon=True).start()
    readers = []
    try:
        wait_for(lambda: E.max_seq() - start_seq >= 300 or done.is_set(), timeout=30,
                 what="300 events of the burst")
        t = time.time_ns()
        time.sleep(0.3)     # events after t that only the replay can deliver
        open_seq = E.max_seq()
        readers.append(R.EventReader(R.C.client.events(timeout=60, timestamp=make_timestamp(t))))
        readers.append(R.EventReader(R.C.client.events(timeout=60, timestamp=make_timestamp(t),
                                                       id=E.ids[0])))
        R.check(not done.is_set(), "the burst ended before the streams opened")
        R.check(done.wait(60), "the burst did not end within 60s")
        if errors:
            raise errors[0]
        # End markers: one for the id-filtered stream, one for the other.
        burst_end = E.max_seq()
        E.toggle(E.ids[0], "paused")
        E.toggle(E.marker, "paused")
        # (seq, ts) of each marker: an acknowledged request is in the table.
        end = {c: tuple(R.C.daemon.sql(
            "SELECT seq, ts FROM events WHERE seq > ? AND type = 'pause' AND container_id = ?"
            " ORDER BY seq LIMIT 1", (burst_end, c))[0]) for c in (E.ids[0], E.marker)}
        for reader, cid, last in ((readers[0], None, E.marker), (readers[1], E.ids[0], E.ids[0])):
            end_seq, end_ts = end[last]
            what = "the stream" + (" of %s..." % cid[:12] if cid else "")
            seen = []
            reader.next_matching(lambda e: e.type == "pause" and e.id == last
                                 and timestamp_ns(e.timestamp) == end_ts, timeout=30, seen=seen)
            got = [(timestamp_ns(e.timestamp), e.type, e.id, e.pid, e.status)
                   for e in R.real(seen)]
            q = ("SELECT seq, ts, type, container_id, pid, status FROM events"
                 " WHERE ts > ? AND seq <= ?")
            args = [t, end_seq]
            if cid:
                q += " AND container_id = ?"
                args.append(cid)
            rows = R.C.daemon.sql(q + " ORDER BY seq", args)
            want = [tuple(r[1:]) for r in rows]
            R.check(len(got) == len(set(got)), "%s: %d duplicate events"
                    % (what, len(got) - len(set(got))))
            if got != want:
                n = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b),
                         min(len(got), len(want)))
                raise AssertionError("%s differs from the rows with ts > t at event %d of %d"
                                     " (got %d): got %r, want %r" % (what, n, len(want),
                                                                     len(got), got[n:n + 2],
                                                                     want[n:n + 2]))
            replayed = sum(1 for r in rows if r[0] <= open_seq)
            live = sum(1 for r in rows if open_seq < r[0] <= burst_end)
            R.check(replayed > 0 and live > 0, "%s: %d replayed and %d live events of the"
                    " burst: not a replay into a live burst" % (what, replayed, live))
            diag("%s: %d events after t, %d stored before it opened, %d of the burst after"
                 % (what, len(got), replayed, live))
    finally:
        for r in readers:
            r.close()
        done.wait(60)
        E.toggle_quietly(E.ids[0], "running")
        E.toggle_quietly(E.marker, "running")


@test
def vanished_subscribers_released():
    """events-subscribers are released when clients vanish"""
    # A daemon of its own with --debug: it logs the subscriber count as
    # subscribers come and go.
    d = ctrdtest.Daemon(prefix="ctrd-evl.")
    ctrs, channels = [], []
    try:
        d.start("--debug")
        E = Env(d, ctrdtest.Client(d.sock)).setup()
        E.client.state()
        base_fds = fd_count(d.proc.pid)

        def eq_count(n):
            return subscriber_count(d) in (n, None)

        # Ten ctr that read everything, ten that read nothing (stalled
        # behind their pipes), ten grpcio channels with a stream each.
        for i in range(20):
            ctrs.append(CtrEvents(d))
        for c in ctrs[:10]:
            c.wait_header()
        for i in range(10):
            cl = ctrdtest.Client(d.sock)
            # Its own connection: grpcio shares one between like channels.
            cl.channel.close()
            cl.channel = grpc.insecure_channel("unix://" + d.sock,
                                               options=[("grpc.use_local_subchannel_pool", 1)])
            channels.append((cl, R.EventReader(cl.events(timeout=120))))
        E.toggle(E.marker, "paused")
        for c in ctrs[:10]:
            c.read_until(lambda k: k[1] == "pause" and k[2] == E.marker, what="the marker")
        for _, r in channels:
            r.next_matching(lambda e: e.type == "pause" and e.id == E.marker)
        R.check(fd_count(d.proc.pid) >= base_fds + 30,
                "the daemon holds %d fds with 30 clients, %d without"
                % (fd_count(d.proc.pid), base_fds))
        wait_for(lambda: eq_count(30), timeout=10, what="the daemon to count 30 subscribers"
                 " (it logs %s)" % subscriber_count(d))
        E.burst(120)    # 1,920 events, ~310 KiB: the silent ones stall with output queued
        R.check(any(c.stalled() for c in ctrs[10:]), "no silent ctr is blocked on its pipe")
        # Vanish: the ctr killed (some stalled), the channels closed.
        for c in ctrs:
            c.kill()
        for cl, r in channels:
            cl.close()
            r.t.join(5)
        try:
            wait_for(lambda: fd_count(d.proc.pid) <= base_fds and eq_count(0), timeout=20,
                     what="")
        except AssertionError:
            raise AssertionError("20s after its 30 clients vanished, the daemon holds %d fds"
                                 " (%d before they came) and counts %s subscribers"
                                 % (fd_count(d.proc.pid), base_fds, subscriber_count(d)))
        R.check(d.proc.poll() is None, "the daemon exited")
        E.client.state()
        E.client.state(E.marker)
        # A new subscriber works, and pushing to the released ones broke nothing.
        reader = R.EventReader(E.client.events(timeout=30))
        try:
            E.toggle(E.marker, "running")
            reader.next_matching(lambda e: e.type == "resume" and e.id == E.marker)
            R.check(eq_count(1), "a new subscriber: the daemon counts %s" % subscriber_count(d))
        finally:
            reader.close()
        E.burst(5)
        E.client.state()
        if subscriber_count(d) is None:
            diag("the daemon log has no subscriber count: only fds were checked")
    finally:
        for c in ctrs:
            c.kill()
        for cl, _ in channels:
            cl.close()
        d.cleanup()


@test
def live_subscriber_after_pruned_newest_events():
    """a live subscriber gets the events that follow a pruned newest event (seq never reused)"""
    # Retention removes a stopped container with its whole history; when
    # its exit was the newest row, the next event must still get a seq the
    # subscribers' cursors have not passed. A daemon of its own: the shared
    # one keeps everything.
    d = ctrdtest.Daemon(prefix="ctrd-evl.")
    cl = None
    reader = None
    try:
        d.start("--retain-age", "1s")
        cl = ctrdtest.Client(d.sock)
        tag = os.path.basename(d.root).rsplit(".", 1)[-1]
        a, b = "evl-pruned-" + tag, "evl-next-" + tag
        bundle = d.bundle("evl-pruned", ["sleep", "1000"])
        reader = R.EventReader(cl.events(timeout=60))
        seen = []
        cl.create(a, bundle)
        reader.next_matching(lambda e: e.type == "start-container" and e.id == a, seen=seen)
        cl.signal(a, signal.SIGKILL)
        reader.next_matching(lambda e: e.type == "exit" and e.id == a, seen=seen)
        before = d.sql("SELECT seq, type FROM events WHERE container_id = ? ORDER BY seq", (a,))
        high = d.sql("SELECT max(seq) FROM events")[0][0]
        R.check(before and before[-1][0] == high, "%s's exit is not the newest event" % a)
        wait_for(lambda: not d.sql("SELECT 1 FROM events WHERE container_id = ?", (a,)),
                 timeout=15, what="retention (--retain-age 1s) to prune %s" % a)
        cl.create(b, bundle)
        row = d.sql("SELECT seq FROM events WHERE container_id = ? AND type = 'start-container'",
                    (b,))
        try:
            reader.next_matching(lambda e: e.type == "start-container" and e.id == b,
                                 timeout=10, seen=seen)
        except AssertionError:
            raise AssertionError(
                "the live stream missed start-container %s: it was stored as seq %s after"
                " retention pruned %s's events %s, the newest of the table; the stream had"
                " passed seq %d already (a seq reused: events.seq is INTEGER PRIMARY KEY"
                " without AUTOINCREMENT)" % (b, row[0][0] if row else "?", a,
                                             [s for s, _ in before], high)) from None
        R.check(not row or row[0][0] > high, "start-container %s reused seq %d (<= %d, the"
                " pruned newest event)" % (b, row[0][0], high))
    finally:
        if reader is not None:
            reader.close()
        if cl is not None:
            cl.close()
        d.cleanup()


@test
def stalled_subscriber_while_retention_prunes():
    """a stalled subscriber still gets the events of a container that retention pruned meanwhile"""
    # "Subscribers never lose events": a subscriber that stopped getting
    # pushes catches up from the table, so the table must keep what a
    # subscriber has not been sent. A daemon of its own with
    # --retain-count 100; its load containers never stop, so their
    # history alone is over the count and a container that stops is
    # pruned within a second or so.
    d = ctrdtest.Daemon(prefix="ctrd-evl.")
    ctr = None
    try:
        d.start("--retain-count", "100")
        E = Env(d, ctrdtest.Client(d.sock)).setup()
        ctr = CtrEvents(d)
        ctr.wait_header()
        E.toggle(E.marker, "paused")
        ctr.read_until(lambda k: k[1] == "pause" and k[2] == E.marker, what="the marker's pause")
        E.burst(250)    # 4,000 events, ~650 KiB: the subscriber stalls
        R.check(ctr.stalled(), "ctr events is not blocked on its pipe")
        victim = E.long_id("evl-victim")
        E.client.create(victim, E.bundle)
        E.client.signal(victim, signal.SIGKILL)
        wait_for(lambda: d.sql("SELECT 1 FROM events WHERE container_id = ? AND type = 'exit'",
                               (victim,)), what="the victim's exit in state.db")
        rows = d.sql("SELECT seq, type FROM events WHERE container_id = ? ORDER BY seq",
                     (victim,))
        # Retention ticks once a second; over the count, it would prune the
        # victim at once, but the stalled subscriber has not been sent it.
        time.sleep(2.5)
        R.check(d.sql("SELECT 1 FROM events WHERE container_id = ?", (victim,)),
                "retention pruned history a stalled subscriber had not been sent")
        E.toggle(E.marker, "running")
        ctr.read_until(lambda k: k[1] == "resume" and k[2] == E.marker, timeout=60,
                       what="the marker's resume (the last event)")
        got = [k[1] for k in ctr.keys if k[2] == victim]
        want = [t for _, t in rows]
        R.check(got == want, "the stalled subscriber got %s of the victim, want %s: retention"
                " pruned its history (seq %s) while the subscriber's cursor was behind it, and"
                " the stream went on without them (%d events received)"
                % (got, want, [s for s, _ in rows], len(ctr.keys)))
        # Once delivered, the history may go: retention resumes.
        wait_for(lambda: not d.sql("SELECT 1 FROM events WHERE container_id = ?", (victim,)),
                 timeout=15, what="retention to prune the victim once it was delivered")
    finally:
        if ctr is not None:
            ctr.kill()
        d.cleanup()


@test
def stalled_subscriber_does_not_hold_retention():
    """a subscriber that never reads does not keep the events table growing past --retain-count"""
    # It holds back what it has not been sent only within the bound: more
    # than --retain-count events behind the newest, it skips forward.
    d = ctrdtest.Daemon(prefix="ctrd-evl.")
    ctr = None
    bound, slack = 100, 2 * (N_LOAD + 1)   # + each container's start-container, unfoldable
    try:
        d.start("--retain-count", str(bound))
        E = Env(d, ctrdtest.Client(d.sock)).setup()
        ctr = CtrEvents(d)
        ctr.wait_header()
        E.toggle(E.marker, "paused")
        ctr.read_until(lambda k: k[1] == "pause" and k[2] == E.marker, what="the marker's pause")
        E.burst(250)    # 4,000 events, ~650 KiB: the subscriber stalls
        R.check(ctr.stalled(), "ctr events is not blocked on its pipe")
        produced = E.max_seq()

        def count():
            return d.sql("SELECT count(*) FROM events")[0][0]
        try:
            wait_for(lambda: count() <= bound + slack, timeout=20,
                     what="the events table back within the bound")
        finally:
            diag("%d events produced, the subscriber stalled; the table holds %d"
                 " (--retain-count %d)" % (produced, count(), bound))
        R.check(ctr.proc.poll() is None, "ctr events exited: %r" % ctr.stderr())
        out = subprocess.run([ctrdtest.BIN + "/containerd-state", "--state-dir", d.state,
                              "replay"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True)
        R.check(out.returncode == 0, "replay disagrees: %s" % out.stdout[-500:])
    finally:
        if ctr is not None:
            ctr.kill()
        d.cleanup()


@test
def database_from_before_autoincrement():
    """a database from before seq was AUTOINCREMENT: the daemon starts on it, reuses no seq"""
    # The first schema had `seq INTEGER PRIMARY KEY`, with which SQLite
    # reuses the highest seq once its row is deleted. A database made then
    # must still open, and retention pruning its newest rows must not make
    # the next event reuse their seqs.
    d = ctrdtest.Daemon(prefix="ctrd-evl.")
    tag = os.path.basename(d.root).rsplit(".", 1)[-1]
    try:
        d.start()
        cl = ctrdtest.Client(d.sock)
        bundle = d.bundle("evl-old", ["sleep", "1000"])
        created_and_killed(d, cl, "evl-old0-" + tag, bundle)
        cl.close()
        d.stop(signal.SIGTERM)
        make_old_schema(d.db)
        try:
            d.start("--retain-age", "1s")
        except RuntimeError as e:   # it exited before listening
            raise AssertionError("the daemon does not start on a database from before: %s"
                                 % ("; ".join(l for l in str(e).splitlines() if " error " in l)
                                    or e)) from None
        cl = ctrdtest.Client(d.sock)
        a, b = "evl-old1-" + tag, "evl-old2-" + tag
        created_and_killed(d, cl, a, bundle)
        high = d.sql("SELECT max(seq) FROM events")[0][0]
        wait_for(lambda: not d.sql("SELECT 1 FROM events WHERE container_id = ?", (a,)),
                 timeout=15, what="retention (--retain-age 1s) to prune %s" % a)
        cl.create(b, bundle)
        seqs = d.sql("SELECT seq FROM events WHERE container_id = ?", (b,))
        R.check(seqs and seqs[0][0] > high, "on a database from before, start-container %s got"
                " seq %s after retention pruned the newest events (up to seq %d): a seq reused"
                % (b, seqs[0][0] if seqs else None, high))
        cl.close()
    finally:
        d.cleanup()


def created_and_killed(d, cl, cid, bundle):
    """CID created and killed, its exit in D's state.db."""
    cl.create(cid, bundle)
    cl.signal(cid, signal.SIGKILL)
    wait_for(lambda: d.sql("SELECT 1 FROM events WHERE container_id = ? AND type = 'exit'",
                           (cid,)), what="the exit of %s in state.db" % cid)


def make_old_schema(db):
    """Rewrites DB as the first schema made it: schema/001_init.sql with
    events.seq a plain INTEGER PRIMARY KEY (as it was), user_version 1,
    the same application_id and the rows of its tables."""
    import sqlite3
    with open(os.path.join(ctrdtest.REPO, "schema", "001_init.sql")) as f:
        schema = f.read().replace("AUTOINCREMENT", "")
    src = sqlite3.connect(db)
    try:
        app_id = src.execute("PRAGMA application_id").fetchone()[0]
        data = {}
        for (name,) in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                   " AND name NOT LIKE 'sqlite_%'").fetchall():
            cur = src.execute('SELECT * FROM "%s"' % name)
            data[name] = ([c[0] for c in cur.description], cur.fetchall())
    finally:
        src.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    dst = sqlite3.connect(db)
    try:
        dst.executescript(schema)
        for (name,) in dst.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                   " AND name NOT LIKE 'sqlite_%'").fetchall():
            cols = [r[1] for r in dst.execute('PRAGMA table_info("%s")' % name)]
            if name not in data or not data[name][1]:
                continue
            src_cols, rows = data[name]
            keep = [i for i, c in enumerate(src_cols) if c in cols]
            dst.executemany('INSERT INTO "%s" (%s) VALUES (%s)'
                            % (name, ",".join('"%s"' % src_cols[i] for i in keep),
                               ",".join("?" * len(keep))),
                            [[r[i] for i in keep] for r in rows])
        dst.execute("PRAGMA user_version = 1")
        dst.execute("PRAGMA application_id = %d" % app_id)
        dst.commit()
    finally:
        dst.close()
    os.chmod(db, 0o600)
