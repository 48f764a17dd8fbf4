"""containerd.records.v1.Records/Logs called directly with grpcio, message
classes generated from schema/records.proto (independent of ctr):

- a detached container's records: stream, data (bytes as written), partial,
  pid and time; tail, since and until;
- follow streams new records and ends OK at the exit; a follower that
  hangs up mid-stream is forgotten and the daemon serves on;
- NOT_FOUND, FAILED_PRECONDITION and INVALID_ARGUMENT as the proto says.

Run by run.py (register(run)); alone: /usr/bin/python3 tests/grpc/run.py -k logs
"""

import os
import time

import grpc

import ctrdtest
from ctrdtest import wait_for, timestamp_ns, make_timestamp

R = None
_TESTS = []


def test(fn):
    _TESTS.append(fn)
    return fn


def register(run):
    global R
    R = run
    for fn in _TESTS:
        run.test(fn)


def logs(cl, timeout=20.0, **fields):
    rec = cl.pb.records
    call = cl.channel.unary_stream("/containerd.records.v1.Records/Logs",
                                   request_serializer=rec.LogsRequest.SerializeToString,
                                   response_deserializer=rec.LogRecord.FromString)
    return call(rec.LogsRequest(**fields), timeout=timeout)


def exited(d, cid, pid="init"):
    return d.sql("SELECT count(*) FROM events WHERE type = 'exit' AND container_id = ?"
                 " AND pid = ?", (cid, pid))[0][0] > 0


def log_fds(d, path):
    """How many of the daemon's fds are open on path."""
    n = 0
    fd_dir = "/proc/%d/fd" % d.proc.pid
    for fd in os.listdir(fd_dir):
        try:
            n += os.readlink(os.path.join(fd_dir, fd)) == path
        except OSError:
            pass
    return n


def code_of(fn):
    try:
        list(fn())
    except grpc.RpcError as e:
        return e.code(), e.details()
    return grpc.StatusCode.OK, ""


@test
def test_logs_records():
    """Records/Logs: a detached container's records with stream, bytes, partial, pid, time; tail, since, until"""
    d, cl = R.C.daemon, R.C.client
    t0 = time.time_ns()
    b = d.bundle("lg-rec", ["sh", "-c", "echo one; echo two >&2; printf '\\377x\\n'; sleep 1;"
                            " echo three; printf four"])
    cl.create("lg-rec", b)
    wait_for(lambda: exited(d, "lg-rec"), what="lg-rec's exit")
    got = list(logs(cl, id="lg-rec"))
    R.eq(sorted((r.stream, r.data, r.partial) for r in got),
         sorted([("stdout", b"one", False), ("stderr", b"two", False),
                 ("stdout", b"\xffx", False), ("stdout", b"three", False),
                 ("stdout", b"four", True)]), "records")
    R.check(all(r.pid == "init" for r in got), "pid init")
    times = [timestamp_ns(r.time) for r in got]
    R.check(times == sorted(times) and t0 <= times[0] <= times[-1] <= time.time_ns(),
            "times in order, within the run: %r" % times)
    R.eq([r.data for r in logs(cl, id="lg-rec", pid="init", tail=2)], [b"three", b"four"], "tail 2")
    three = [r for r in got if r.data == b"three"][0]
    R.eq([r.data for r in logs(cl, id="lg-rec", since=three.time)], [b"three", b"four"], "since")
    R.eq(len(list(logs(cl, id="lg-rec", until=make_timestamp(timestamp_ns(three.time) - 1)))), 3,
         "until")
    R.diag("%d records over %.1f ms; tail/since/until agree" % (len(got), (times[-1] - times[0]) / 1e6))


@test
def test_logs_follow():
    """Records/Logs follow: new records as they come, a hang-up mid-follow forgotten, the end OK at exit"""
    d, cl = R.C.daemon, R.C.client
    b = d.bundle("lg-fol", ["sh", "-c", "k=0; while [ ! -e /tmp/stop ]; do echo tick $k; k=$((k+1));"
                            " sleep 0.05; done; echo bye"])
    cl.create("lg-fol", b)
    # A follower that hangs up after a few records: the daemon forgets it.
    other = ctrdtest.Client(d.sock, own_connection=True)
    st = logs(other, id="lg-fol", follow=True)
    first = [next(st) for _ in range(3)]
    R.eq([r.data for r in first], [b"tick 0", b"tick 1", b"tick 2"], "first records")
    log = os.path.join(d.state, "_logs", "lg-fol", "init.log")
    R.check(log_fds(d, log) == 1, "the follower holds the log open")
    st.cancel()
    other.close()
    t = time.monotonic()
    wait_for(lambda: log_fds(d, log) == 0, timeout=5, what="the reader's fd closed")
    R.diag("a follower that hung up was freed after %.0f ms" % ((time.monotonic() - t) * 1000))
    # Still served: a new follower sees old and new records, then the end.
    st = logs(cl, id="lg-fol", follow=True, timeout=30)
    seen = []
    t_stop = None
    for r in st:
        seen.append(r.data)
        if len(seen) == 10 and t_stop is None:
            open(os.path.join(b, "rootfs/tmp/stop"), "w").close()
            t_stop = time.monotonic()
    R.check(seen[-1] == b"bye", "ends with bye: %r" % seen[-3:])
    R.check(seen[:3] == [b"tick 0", b"tick 1", b"tick 2"], "from the start")
    R.check(exited(d, "lg-fol"), "the stream ended after the exit was recorded")
    R.diag("followed %d records; the stream ended %.0f ms after the stop" %
           (len(seen), (time.monotonic() - t_stop) * 1000))
    cl.state()  # the daemon serves on


@test
def test_logs_errors():
    """Records/Logs: NOT_FOUND for an unknown container or process, FAILED_PRECONDITION for own stdio"""
    d, cl = R.C.daemon, R.C.client
    c, msg = code_of(lambda: logs(cl, id="lg-nosuch"))
    R.eq(c, grpc.StatusCode.NOT_FOUND, "unknown id: " + msg)
    b = d.bundle("lg-io", ["sh", "-c", "echo to-file"])
    out = os.path.join(d.root, "lg-io.out")
    cl.create("lg-io", b, stdout=out, stderr=out)
    wait_for(lambda: exited(d, "lg-io"), what="lg-io's exit")
    c, msg = code_of(lambda: logs(cl, id="lg-io"))
    R.eq(c, grpc.StatusCode.FAILED_PRECONDITION, "own stdio: " + msg)
    R.check("own stdio" in msg, msg)
    c, msg2 = code_of(lambda: logs(cl, id="lg-io", pid="e9"))
    R.eq(c, grpc.StatusCode.NOT_FOUND, "unknown pid: " + msg2)
    c, msg3 = code_of(lambda: logs(cl, id="../x"))
    R.eq(c, grpc.StatusCode.INVALID_ARGUMENT, "bad id: " + msg3)
    R.diag("%s | %s | %s" % (msg, msg2, msg3))
