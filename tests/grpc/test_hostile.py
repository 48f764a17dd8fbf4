"""Hostile and broken clients: whatever a peer sends, the daemon stays up,
answers the others, and gives back what the connection cost it.

HTTP/2 is spoken by hand here (raw unix sockets, frames built below), so
the malformed cases can be sent at all: garbage before the preface, frames
with bad lengths or on the wrong streams, headers too big, a stream reset
halfway through a message, a gRPC length prefix that lies, a message over
the 16 MiB limit, protobuf that does not parse, unknown methods, 1,000 idle
connections, a connection cap and a file descriptor limit reached, an
Events reader that stops reading, clients that hang up mid-request. Only
the response headers are decoded with libnghttp2's HPACK inflater (ctypes),
since the daemon's encoder may use Huffman codes and its dynamic table.

After each case the daemon is alive, answers GetServerVersion promptly, and
where it matters its fd count and memory are back near where they were.

Run by run.py, which calls register(run) with itself (as test_api3.py); or
alone: /usr/bin/python3 tests/grpc/test_hostile.py [NAME-PART...]
"""

import ctypes
import os
import random
import resource
import select
import socket
import sqlite3
import struct
import sys
import time

import grpc

import ctrdtest
from ctrdtest import wait_for

R = None        # the run.py module, set by register()
_TESTS = []

MAX_MSG = 16 << 20              # lib/grpc.h GRPC_MAX_MESSAGE


def test(fn):
    _TESTS.append(fn)
    return fn


def register(run):
    """Appends these tests to run.py's list (run: the run.py module)."""
    global R
    R = run
    for fn in _TESTS:
        run.test(fn)


# ---------------------------------------------------------------- HTTP/2 by hand

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
(DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY,
 WINDOW_UPDATE, CONTINUATION) = range(10)
END_STREAM = ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20
SETTINGS_ENABLE_PUSH = 0x2
SETTINGS_INITIAL_WINDOW_SIZE = 0x4
CANCEL = 0x8


def frame(ftype, flags, stream, payload=b"", length=None):
    """One frame; LENGTH, when given, is what the header claims."""
    n = len(payload) if length is None else length
    return struct.pack(">BHBBI", (n >> 16) & 0xFF, n & 0xFFFF, ftype, flags,
                       stream & 0xFFFFFFFF) + payload


def hpack_int(n, prefix, first=0):
    limit = (1 << prefix) - 1
    if n < limit:
        return bytes([first | n])
    out = [first | limit]
    n -= limit
    while n >= 128:
        out.append((n & 127) | 128)
        n >>= 7
    out.append(n)
    return bytes(out)


def hpack(headers):
    """Literal fields without indexing, no Huffman: the simplest block."""
    out = b""
    for k, v in headers:
        out += b"\x00" + hpack_int(len(k), 7) + k + hpack_int(len(v), 7) + v
    return out


def grpc_headers(path, content_type=b"application/grpc", extra=()):
    return [(b":method", b"POST"), (b":scheme", b"http"), (b":path", path),
            (b":authority", b"localhost"), (b"content-type", content_type),
            (b"te", b"trailers")] + list(extra)


def grpc_msg(body, flag=0, length=None):
    return struct.pack(">BI", flag, len(body) if length is None else length) + body


class _NV(ctypes.Structure):
    _fields_ = [("name", ctypes.POINTER(ctypes.c_uint8)),
                ("value", ctypes.POINTER(ctypes.c_uint8)),
                ("namelen", ctypes.c_size_t), ("valuelen", ctypes.c_size_t),
                ("flags", ctypes.c_uint8)]


_ng = None


def nghttp2():
    global _ng
    if _ng is None:
        lib = ctypes.CDLL("libnghttp2.so.14")
        lib.nghttp2_hd_inflate_new.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
        lib.nghttp2_hd_inflate_del.argtypes = [ctypes.c_void_p]
        lib.nghttp2_hd_inflate_hd2.restype = ctypes.c_ssize_t
        lib.nghttp2_hd_inflate_hd2.argtypes = [
            ctypes.c_void_p, ctypes.POINTER(_NV), ctypes.POINTER(ctypes.c_int),
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
        lib.nghttp2_hd_inflate_end_headers.argtypes = [ctypes.c_void_p]
        _ng = lib
    return _ng


class Inflater:
    """HPACK decoding of the daemon's header blocks (one per connection:
    the dynamic table is the connection's)."""

    def __init__(self):
        self.lib = nghttp2()
        self.p = ctypes.c_void_p()
        if self.lib.nghttp2_hd_inflate_new(ctypes.byref(self.p)) != 0:
            raise RuntimeError("nghttp2_hd_inflate_new failed")

    def decode(self, block):
        out = {}
        pos = 0
        while True:
            nv = _NV()
            fl = ctypes.c_int(0)
            rest = block[pos:]
            rv = self.lib.nghttp2_hd_inflate_hd2(self.p, ctypes.byref(nv), ctypes.byref(fl),
                                                 rest, len(rest), 1)
            if rv < 0:
                raise AssertionError("the daemon sent a header block HPACK cannot decode")
            pos += rv
            if fl.value & 0x02:     # NGHTTP2_HD_INFLATE_EMIT
                out[ctypes.string_at(nv.name, nv.namelen).decode()] = \
                    ctypes.string_at(nv.value, nv.valuelen).decode("utf-8", "replace")
            if fl.value & 0x01:     # NGHTTP2_HD_INFLATE_FINAL
                self.lib.nghttp2_hd_inflate_end_headers(self.p)
                return out
            if rv == 0 and not fl.value & 0x02:
                return out

    def __del__(self):
        if getattr(self, "p", None) and self.p.value:
            self.lib.nghttp2_hd_inflate_del(self.p)


class Resp:
    def __init__(self):
        self.headers = None
        self.trailers = None
        self.data = b""
        self.done = False
        self.reset = None

    def status(self):
        h = self.trailers if self.trailers is not None else (self.headers or {})
        s = h.get("grpc-status")
        return None if s is None else int(s)

    def message(self):
        h = self.trailers if self.trailers is not None else (self.headers or {})
        from urllib.parse import unquote
        return unquote(h.get("grpc-message", ""))

    def messages(self):
        out, d = [], self.data
        while len(d) >= 5:
            n = struct.unpack(">I", d[1:5])[0]
            out.append(d[5:5 + n])
            d = d[5 + n:]
        return out


class Raw:
    """One client connection, HTTP/2 frames by hand."""

    def __init__(self, path, preface=True, settings=(), window=0, timeout=10.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.timeout = timeout
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""
        self.eof = False
        self.infl = Inflater()
        self.streams = {}
        self.goaway = None
        self.frames = []
        self.hblock = None      # (stream, flags, bytes) of a block still in CONTINUATION
        if preface:
            self.send(PREFACE + frame(SETTINGS, 0, 0, b"".join(
                struct.pack(">HI", k, v) for k, v in settings)))
        if window:
            self.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", window)))

    def close(self):
        self.s.close()

    def send(self, data):
        # A read (pump) leaves the socket's timeout at what was left of
        # its own deadline, 10 ms after pump(..., 0.01): a send must get
        # the connection's whole timeout back, or a daemon that does not
        # drain the socket within those 10 ms (a busy machine) fails it.
        self.s.settimeout(self.timeout)
        self.s.sendall(data)

    def request(self, sid, path, body=None, end=True, headers=None, msg=True):
        """HEADERS, and a DATA frame with BODY as one gRPC message unless
        msg is False (BODY sent as it is)."""
        hdrs = hpack(headers if headers is not None else grpc_headers(path))
        if body is None:
            self.send(frame(HEADERS, END_HEADERS | (END_STREAM if end else 0), sid, hdrs))
            return
        self.send(frame(HEADERS, END_HEADERS, sid, hdrs))
        payload = grpc_msg(body) if msg else body
        self.send(frame(DATA, END_STREAM if end else 0, sid, payload))

    def _read_frame(self, deadline):
        while len(self.buf) < 9 or len(self.buf) < 9 + int.from_bytes(self.buf[:3], "big"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout()
            self.s.settimeout(left)
            try:
                chunk = self.s.recv(1 << 16)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.eof = True
                return None
            self.buf += chunk
        n = int.from_bytes(self.buf[:3], "big")
        ftype, flags, sid = self.buf[3], self.buf[4], struct.unpack(">I", self.buf[5:9])[0] & 0x7FFFFFFF
        payload = self.buf[9:9 + n]
        self.buf = self.buf[9 + n:]
        return ftype, flags, sid, payload

    def _stream(self, sid):
        return self.streams.setdefault(sid, Resp())

    def _on_headers(self, sid, flags, block):
        h = self.infl.decode(block)
        r = self._stream(sid)
        if r.headers is None:
            r.headers = h
        else:
            r.trailers = h
        if flags & END_STREAM:
            r.done = True

    def _process(self, f):
        ftype, flags, sid, p = f
        self.frames.append((ftype, flags, sid))
        if ftype == SETTINGS and not flags & ACK:
            self.send(frame(SETTINGS, ACK, 0))
        elif ftype == HEADERS:
            if flags & PADDED:
                p = p[1:len(p) - p[0]]
            if flags & PRIORITY_FLAG:
                p = p[5:]
            if flags & END_HEADERS:
                self._on_headers(sid, flags, p)
            else:
                self.hblock = (sid, flags, p)
        elif ftype == CONTINUATION and self.hblock is not None:
            s, fl, b = self.hblock
            b += p
            if flags & END_HEADERS:
                self.hblock = None
                self._on_headers(s, fl, b)
            else:
                self.hblock = (s, fl, b)
        elif ftype == DATA:
            if flags & PADDED:
                p = p[1:len(p) - p[0]]
            r = self._stream(sid)
            r.data += p
            if flags & END_STREAM:
                r.done = True
            if p:       # give the window back, so long replies flow
                self.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", len(p))) +
                          frame(WINDOW_UPDATE, 0, sid, struct.pack(">I", len(p))))
        elif ftype == RST_STREAM:
            r = self._stream(sid)
            r.reset = struct.unpack(">I", p[:4])[0]
            r.done = True
        elif ftype == GOAWAY:
            self.goaway = struct.unpack(">I", p[4:8])[0]

    def pump(self, until, timeout=10.0):
        """Reads frames until until() holds; False at EOF or timeout."""
        deadline = time.monotonic() + timeout
        while not until():
            try:
                f = self._read_frame(deadline)
            except socket.timeout:
                return False
            except BrokenPipeError:
                return False
            if f is None:
                return until()
            try:
                self._process(f)
            except (BrokenPipeError, ConnectionResetError):
                pass
        return True

    def response(self, sid, timeout=10.0):
        if not self.pump(lambda: self._stream(sid).done, timeout):
            raise AssertionError("no complete response on stream %d within %.0fs%s"
                                 % (sid, timeout, " (connection closed, GOAWAY %s)"
                                    % self.goaway if self.eof else ""))
        return self.streams[sid]

    def wait_closed(self, timeout=10.0):
        """True once the daemon closed the connection (after its GOAWAY, if any)."""
        self.pump(lambda: self.eof, timeout)
        return self.eof


# ---------------------------------------------------------------- the daemon from outside

def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def rss_kb(pid):
    return status_kb(pid, "VmRSS")


def reset_peak(pid):
    """Peak RSS (VmHWM) starts again from the current RSS (Linux >= 4.0)."""
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")


def peak_kb(pid):
    return status_kb(pid, "VmHWM")


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def shared():
    return R.C.daemon, R.C.client


def answers(daemon, client, within=2.0, what=""):
    """The daemon is alive and answers GetServerVersion within WITHIN
    seconds, on a connection it did not see before."""
    R.check(daemon.proc.poll() is None, "the daemon exited (%s)%s"
            % (daemon.proc.returncode, " after " + what if what else ""))
    t0 = time.monotonic()
    c = ctrdtest.Client(daemon.sock)
    try:
        r = c.call("GetServerVersion", timeout=max(within, 5.0))
    finally:
        c.close()
    dt = time.monotonic() - t0
    R.check(r.major or r.minor or r.patch, "GetServerVersion answered 0.0.0")
    R.check(dt < within, "GetServerVersion took %.2fs%s (want < %.1fs)"
            % (dt, " after " + what if what else "", within))
    return dt


def up(daemon):
    """Waits until a private daemon answers (its socket file shows before
    it listens, and a signal before its handlers are set kills it)."""
    def ok():
        try:
            answers(daemon, None, within=5.0)
            return True
        except grpc.RpcError:
            return False
    wait_for(ok, timeout=20, what="the daemon to answer")


def fds_back(pid, baseline, slack=2, what="connections"):
    wait_for(lambda: fd_count(pid) <= baseline + slack, timeout=10,
             what="the daemon's fds back to %d (+%d) after %s, now %d"
             % (baseline, slack, what, fd_count(pid)))


def log_lines(daemon, needle):
    return [line for line in daemon.log().splitlines() if needle in line]


class PrivateDaemon(ctrdtest.Daemon):
    """A daemon of its own, optionally under a file descriptor limit."""

    def __init__(self, nofile=None):
        super().__init__(prefix="ctrd-hostile.")
        self.nofile = nofile

    def argv(self, *extra):
        base = super().argv(*extra)
        if self.nofile:
            return ["prlimit", "--nofile=%d:%d" % (self.nofile, self.nofile), "--"] + base
        return base


def raise_own_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def headers_frames(sid, block, end_stream=True):
    """BLOCK as HEADERS and CONTINUATION frames of 16 KiB (the default
    SETTINGS_MAX_FRAME_SIZE)."""
    chunks = [block[k:k + 16384] for k in range(0, len(block), 16384)] or [b""]
    flags = END_STREAM if end_stream else 0
    if len(chunks) == 1:
        return frame(HEADERS, flags | END_HEADERS, sid, chunks[0])
    out = frame(HEADERS, flags, sid, chunks[0])
    for k, ch in enumerate(chunks[1:], 1):
        out += frame(CONTINUATION, END_HEADERS if k == len(chunks) - 1 else 0, sid, ch)
    return out


def send_quietly(raw, data):
    """Sends what the daemon takes: it may close the connection midway."""
    try:
        raw.send(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def version_call(raw, sid):
    raw.request(sid, b"/types.API/GetServerVersion", b"")
    r = raw.response(sid)
    R.eq(r.status(), 0, "GetServerVersion on the same connection (%s)" % r.message())
    R.check(r.messages() and r.messages()[0], "GetServerVersion: no response message")


# ---------------------------------------------------------------- tests

@test
def garbage_before_preface():
    """hostile: garbage before the HTTP/2 preface closes that connection only"""
    d, cl = shared()
    base = fd_count(d.proc.pid)
    cases = [
        ("an HTTP/1.1 request", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("the preface with one byte wrong", PREFACE[:-3] + b"X\r\n"),
        ("64 KiB of random bytes", random.Random(5).randbytes(65536)),
        ("a frame without the preface", frame(SETTINGS, 0, 0)),
        ("NUL bytes", b"\0" * 100),
    ]
    for what, junk in cases:
        c = Raw(d.sock, preface=False)
        try:
            c.send(junk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        R.check(c.wait_closed(), "%s: the daemon kept the connection open" % what)
        c.close()
    fds_back(d.proc.pid, base, what="garbage")
    answers(d, cl, what="garbage")


@test
def bad_frames():
    """hostile: malformed frames (bogus length, HEADERS on stream 0, DATA on an idle stream, bad SETTINGS, ...): GOAWAY, that connection only"""
    d, cl = shared()
    base = fd_count(d.proc.pid)
    hdrs = hpack(grpc_headers(b"/types.API/GetServerVersion"))
    cases = [
        ("a frame longer than SETTINGS_MAX_FRAME_SIZE", frame(DATA, 0, 1, b"x" * 64, length=0xFFFFFF)),
        ("HEADERS on stream 0", frame(HEADERS, END_HEADERS | END_STREAM, 0, hdrs)),
        ("DATA on a stream never opened", frame(DATA, END_STREAM, 5, grpc_msg(b""))),
        ("SETTINGS of 5 bytes", frame(SETTINGS, 0, 0, b"\0\x02\0\0\0")),
        ("SETTINGS ENABLE_PUSH = 7", frame(SETTINGS, 0, 0, struct.pack(">HI", 2, 7))),
        ("SETTINGS ACK with a payload", frame(SETTINGS, ACK, 0, struct.pack(">HI", 4, 1))),
        ("SETTINGS on stream 1", frame(SETTINGS, 0, 1)),
        ("PING of 7 bytes", frame(PING, 0, 0, b"1234567")),
        ("WINDOW_UPDATE of 0 on the connection", frame(WINDOW_UPDATE, 0, 0, b"\0\0\0\0")),
        ("WINDOW_UPDATE overflowing the window", frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0x7FFFFFFF))),
        ("HEADERS on an even (server) stream id", frame(HEADERS, END_HEADERS | END_STREAM, 2, hdrs)),
        ("CONTINUATION without HEADERS", frame(CONTINUATION, END_HEADERS, 1, hdrs)),
        ("HEADERS then DATA on another stream mid-block",
         frame(HEADERS, END_STREAM, 1, hdrs[:10]) + frame(DATA, 0, 3, b"x")),
        ("an HPACK index past the tables", frame(HEADERS, END_HEADERS | END_STREAM, 1, b"\xff\xff\xff\x0f")),
        ("a PUSH_PROMISE from the client", frame(PUSH_PROMISE, END_HEADERS, 1, b"\0\0\0\x02" + hdrs)),
        ("RST_STREAM on stream 0", frame(RST_STREAM, 0, 0, b"\0\0\0\x08")),
        ("GOAWAY of 3 bytes", frame(GOAWAY, 0, 0, b"\0\0\0")),
        ("PADDED HEADERS whose padding is longer than the frame",
         frame(HEADERS, END_HEADERS | END_STREAM | PADDED, 1, b"\xff" + hdrs)),
        ("a stream depending on itself", frame(PRIORITY, 0, 1, struct.pack(">IB", 1, 16))),
    ]
    for what, bad in cases:
        c = Raw(d.sock)
        try:
            c.send(bad)
        except (BrokenPipeError, ConnectionResetError):
            pass
        closed = c.wait_closed()
        c.close()
        R.check(closed, "%s: the connection stays open" % what)
        R.check(c.goaway is None or c.goaway != 0, "%s: GOAWAY with NO_ERROR" % what)
    # An unknown frame type is ignored (RFC 9113 4.1): the connection works on.
    c = Raw(d.sock)
    try:
        c.send(frame(0xEE, 0xFF, 0, b"whatever") + frame(0xEE, 0, 1, b"x" * 100))
        version_call(c, 1)
    finally:
        c.close()
    fds_back(d.proc.pid, base, what="bad frames")
    answers(d, cl, what="bad frames")


@test
def any_authority_and_scheme():
    """hostile: any :authority (dockerd's absolute socket path) and :scheme (unix, https) gets a normal answer"""
    d, cl = shared()
    cases = [
        ("an absolute socket path", b"/var/run/docker/libcontainerd/docker-containerd.sock", b"http"),
        ("this socket's path", d.sock.encode(), b"http"),
        ("an empty authority", b"", b"http"),
        ("a unix: URI", b"unix:///run/containerd.sock", b"http"),
        ("localhost, scheme unix", b"localhost", b"unix"),
        ("an absolute path, scheme https", b"/run/docker-containerd.sock", b"https"),
    ]
    for what, authority, scheme in cases:
        hdrs = [(k, authority if k == b":authority" else scheme if k == b":scheme" else v)
                for k, v in grpc_headers(b"/types.API/GetServerVersion")]
        c = Raw(d.sock)
        try:
            c.request(1, None, b"", headers=hdrs)
            r = c.response(1)
            R.check(r.reset is None, "%s: stream reset (HTTP/2 error %s)" % (what, r.reset))
            R.eq(r.status(), 0, "%s: grpc-status (%s)" % (what, r.message()))
            R.check(r.messages() and r.messages()[0], "%s: no GetServerVersion answer" % what)
        finally:
            c.close()
    # The field syntax is still checked: each of these resets its stream.
    bad = [("a NUL in :path", b":path", b"/types.API/GetServerVersion\x00x"),
           ("an upper-case name", b"X-Bad", b"1"),
           ("a CR in a value", b"x-bad", b"a\rb"),
           ("an LF in :authority", b":authority", b"a\nb")]
    for what, name, value in bad:
        hdrs = [(k, value if k == name else v)
                for k, v in grpc_headers(b"/types.API/GetServerVersion")]
        if name not in [k for k, _ in hdrs]:
            hdrs.append((name, value))
        c = Raw(d.sock)
        try:
            c.request(1, None, b"", headers=hdrs)
            R.eq(c.response(1).reset, 1, "%s: RST_STREAM PROTOCOL_ERROR" % what)
        finally:
            c.close()
    print("# %d authorities and schemes answered, %d malformed fields reset"
          % (len(cases), len(bad)))
    answers(d, cl, what="odd authorities")


@test
def huge_headers():
    """hostile: headers of 1 MiB (HPACK in CONTINUATION frames), a 64 KiB :path: refused, memory flat"""
    d, cl = shared()
    pid = d.proc.pid
    base = fd_count(pid)
    reset_peak(pid)
    before = peak_kb(pid)
    # One 1 MiB header field across 64 CONTINUATION frames.
    block = hpack(grpc_headers(b"/types.API/GetServerVersion",
                               extra=[(b"x-junk", b"j" * (1 << 20))]))
    c = Raw(d.sock)
    try:
        send_quietly(c, headers_frames(1, block))
        c.pump(lambda: c.eof or c._stream(1).done, 10)
        r = c._stream(1)
        R.check(c.eof or r.reset is not None or (r.status() not in (None, 0)),
                "1 MiB of headers accepted: %s" % (r.headers,))
    finally:
        c.close()
    # Many small headers, 1 MiB in all.
    c = Raw(d.sock)
    try:
        block = hpack(grpc_headers(b"/types.API/GetServerVersion",
                                   extra=[(b"x-%d" % k, b"v" * 100) for k in range(10000)]))
        send_quietly(c, headers_frames(1, block))
        c.pump(lambda: c.eof or c._stream(1).done, 10)
    finally:
        c.close()
    # A :path of 64 KiB: unknown, and the daemon keeps at most 1 KiB of it.
    c = Raw(d.sock)
    try:
        send_quietly(c, headers_frames(1, hpack(grpc_headers(b"/types.API/" + b"p" * 65000)),
                                       end_stream=False) + frame(DATA, END_STREAM, 1, grpc_msg(b"")))
        c.pump(lambda: c.eof or c._stream(1).done, 10)
        r = c._stream(1)
        R.check(c.eof or r.reset is not None or r.status() == 12,
                "a 64 KiB :path: status %s (%s)" % (r.status(), r.message()))
    finally:
        c.close()
    grew = peak_kb(pid) - before
    R.check(grew < 8 << 10, "peak RSS grew by %d KiB on huge headers" % grew)
    fds_back(pid, base, what="huge headers")
    answers(d, cl, what="huge headers")


@test
def reset_mid_message():
    """hostile: RST_STREAM after half a DATA payload, 80 times on one connection: the connection works on, nothing kept"""
    d, cl = shared()
    pid = d.proc.pid
    base = fd_count(pid)
    reset_peak(pid)
    before = peak_kb(pid)
    c = Raw(d.sock)
    try:
        half = b"h" * (512 << 10)
        sid = 1
        for _ in range(80):
            c.send(frame(HEADERS, END_HEADERS, sid,
                         hpack(grpc_headers(b"/types.API/CreateContainer"))))
            msg = grpc_msg(half, length=1 << 20)
            for k in range(0, len(msg), 16384):
                c.send(frame(DATA, 0, sid, msg[k:k + 16384]))
            c.send(frame(RST_STREAM, 0, sid, struct.pack(">I", CANCEL)))
            # Read what the daemon sent (window updates) as we go.
            c.pump(lambda: False, 0.01)
            sid += 2
        R.check(not c.eof, "the daemon closed the connection (GOAWAY %s)" % c.goaway)
        version_call(c, sid)
    finally:
        c.close()
    grew = peak_kb(pid) - before
    # 80 half messages are 40 MiB; one at a time is 0.5 MiB.
    R.check(grew < 12 << 10, "peak RSS grew by %d KiB: reset messages kept?" % grew)
    fds_back(pid, base, what="resets")
    answers(d, cl, what="resets")


@test
def lying_length_prefix():
    """hostile: a gRPC length prefix longer than the data then END_STREAM, a cut prefix, two messages, compression: INVALID_ARGUMENT / UNIMPLEMENTED"""
    d, cl = shared()
    c = Raw(d.sock)
    try:
        cases = [
            ("prefix says 100, 10 bytes follow", grpc_msg(b"x" * 10, length=100), 3),
            ("prefix says 16 MiB, nothing follows", grpc_msg(b"", length=MAX_MSG), 3),
            ("3 bytes of a prefix", b"\0\0\0", 3),
            ("no message at all", b"", 3),
            ("two messages", grpc_msg(b"") + grpc_msg(b""), 3),
            ("a compressed message", grpc_msg(b"", flag=1), 12),
            ("compressed flag 7", grpc_msg(b"", flag=7), 3),
        ]
        sid = 1
        for what, body, code in cases:
            c.request(sid, b"/types.API/State", body, msg=False)
            r = c.response(sid)
            R.eq(r.status(), code, "%s: grpc-status (%s)" % (what, r.message()))
            R.check(r.message(), "%s: no grpc-message" % what)
            sid += 2
        # HEADERS with END_STREAM and no DATA frame at all.
        c.request(sid, b"/types.API/State", None)
        r = c.response(sid)
        R.eq(r.status(), 3, "no DATA frame: grpc-status (%s)" % r.message())
        sid += 2
        # Not gRPC: HTTP 415, and the stream ends.
        c.request(sid, None, grpc_msg(b""), msg=False,
                  headers=grpc_headers(b"/types.API/State", content_type=b"text/plain"))
        r = c.response(sid)
        R.eq((r.headers or {}).get(":status"), "415", "content-type text/plain: :status")
        sid += 2
        version_call(c, sid)
    finally:
        c.close()
    answers(d, cl, what="lying prefixes")


@test
def message_over_limit():
    """hostile: a message over 16 MiB: RESOURCE_EXHAUSTED at its prefix, not buffered"""
    d, cl = shared()
    pid = d.proc.pid
    # The raw client sends the prefix only: the answer must not wait for
    # the 16 MiB it announces.
    c = Raw(d.sock)
    try:
        c.request(1, b"/types.API/State", grpc_msg(b"", length=MAX_MSG + 1), end=False, msg=False)
        r = c.response(1, timeout=5)
        R.eq(r.status(), 8, "grpc-status (%s)" % r.message())
        R.check("limit" in r.message(), "message does not name the limit: %r" % r.message())
        version_call(c, 3)
    finally:
        c.close()
    # grpcio sends a whole 17 MiB message, the window permitting.
    reset_peak(pid)
    before = peak_kb(pid)
    big = cl.channel.unary_unary("/types.API/State", request_serializer=lambda b: b,
                                 response_deserializer=lambda b: b)
    e = R.rpc_error(big, b"\x0a" + b"\x80\x80\x88\x01" + b"a" * (17 << 20), timeout=20)
    R.expect_code(e, grpc.StatusCode.RESOURCE_EXHAUSTED, "a 17 MiB State request")
    grew = peak_kb(pid) - before
    R.check(grew < 8 << 10, "peak RSS grew by %d KiB for a refused 17 MiB message" % grew)
    # At the limit exactly the message is read (and here, is no StateRequest).
    e = R.rpc_error(big, b"\xff" * MAX_MSG, timeout=20)
    R.expect_code(e, grpc.StatusCode.INVALID_ARGUMENT, "a 16 MiB message of junk")
    answers(d, cl, what="big messages")


BAD_PROTOBUF = [
    ("a length-delimited field cut short", b"\x0a\x10abc"),
    ("a varint cut short", b"\x08"),
    ("wire type 7", b"\x0f"),
    ("a varint tag of 11 bytes", b"\xff" * 10 + b"\x01"),
    ("field number 0", b"\x00\x01"),
    ("a group never closed", b"\x0b"),
]

METHODS = ["CreateContainer", "State", "Signal", "AddProcess", "UpdateContainer",
           "UpdateProcess", "CreateCheckpoint", "ListCheckpoint", "DeleteCheckpoint", "Stats",
           "GetServerVersion"]


@test
def bad_protobuf():
    """hostile: protobuf that does not parse, to every method: INVALID_ARGUMENT"""
    d, cl = shared()
    for m in METHODS + ["Events", "Check"]:
        path = "/grpc.health.v1.Health/Check" if m == "Check" else "/types.API/" + m
        if m == "Events":
            call = cl.channel.unary_stream(path, request_serializer=lambda b: b,
                                           response_deserializer=lambda b: b)
        else:
            call = cl.channel.unary_unary(path, request_serializer=lambda b: b,
                                          response_deserializer=lambda b: b)
        for what, junk in BAD_PROTOBUF:
            e = R.rpc_error(call, junk, timeout=10)
            R.expect_code(e, grpc.StatusCode.INVALID_ARGUMENT, "%s with %s" % (m, what))
    answers(d, cl, what="bad protobuf")


@test
def strings_with_nul():
    """hostile: a string field with a NUL byte (id "x\\0y", a path "/a\\0/.."): INVALID_ARGUMENT, not cut at the NUL"""
    d, cl = shared()
    bundle = d.bundle("nul-ok", R.C.sleep_args)
    cases = [
        ("CreateContainer", dict(id="nul-ok\0../x", bundlePath=bundle)),
        ("CreateContainer", dict(id="nul-ok2", bundlePath=bundle + "\0/../../x")),
        ("CreateContainer", dict(id="nul-ok3", bundlePath=bundle, stdout="/tmp/x\0y")),
        ("State", dict(id="nul\0")),
        ("Signal", dict(id="nul\0x", pid="init", signal=9)),
        ("Stats", dict(id="nul\0x")),
    ]
    for m, fields in cases:
        e = R.rpc_error(cl.call, m, **fields)
        R.expect_code(e, grpc.StatusCode.INVALID_ARGUMENT, "%s %r" % (m, fields))
    for cid in ("nul-ok", "nul-ok2", "nul-ok3"):
        R.eq(d.sql("SELECT count(*) FROM containers WHERE id = ?", (cid,))[0][0], 0,
             "rows for %s" % cid)
    answers(d, cl, what="NUL bytes")


@test
def unknown_methods():
    """hostile: unknown methods and paths: UNIMPLEMENTED, the connection works on"""
    d, cl = shared()
    for path in ("/types.API/NoSuchMethod", "/types.API/state", "/types.API/", "/types.API",
                 "/", "/nope/nope", "/types.API/State/extra", "/grpc.health.v1.Health/Watch"):
        call = cl.channel.unary_unary(path, request_serializer=lambda b: b,
                                      response_deserializer=lambda b: b)
        e = R.rpc_error(call, b"", timeout=10)
        R.expect_code(e, grpc.StatusCode.UNIMPLEMENTED, path)
    c = Raw(d.sock)
    try:
        sid = 1
        for path in (b"*", b"x", b"/types.API/State\0", b"/" + b"\xff" * 20):
            c.request(sid, path, b"")
            r = c.response(sid)
            R.check(r.reset is not None or r.status() == 12,
                    "path %r: status %s (%s)" % (path, r.status(), r.message()))
            sid += 2
        version_call(c, sid)
    finally:
        c.close()
    answers(d, cl, what="unknown methods")


@test
def idle_connections():
    """hostile: 1,000 idle connections held open: others answered promptly, fds back to baseline after"""
    d, cl = shared()
    pid = d.proc.pid
    if raise_own_nofile(1100) < 1100:
        raise R.Skip("RLIMIT_NOFILE of the test is below 1,100")
    base = fd_count(pid)
    rss0 = rss_kb(pid)
    socks = []
    try:
        for k in range(1000):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(d.sock)
            # A third say nothing, a third the preface, a third half a frame.
            if k % 3 == 1:
                s.sendall(PREFACE + frame(SETTINGS, 0, 0))
            elif k % 3 == 2:
                s.sendall(PREFACE + frame(SETTINGS, 0, 0) + frame(HEADERS, 0, 1)[:6])
            socks.append(s)
        wait_for(lambda: fd_count(pid) >= base + 1000, timeout=10,
                 what="the daemon to accept 1,000 connections (fds %d)" % fd_count(pid))
        dt = answers(d, cl, within=1.0, what="1,000 idle connections")
        rss1 = rss_kb(pid)
        R.diag("1,000 idle connections: GetServerVersion in %.0f ms, RSS %d -> %d KiB"
               % (dt * 1000, rss0, rss1))
        R.check(rss1 - rss0 < 64 << 10, "1,000 idle connections cost %d KiB" % (rss1 - rss0))
    finally:
        for s in socks:
            s.close()
    fds_back(pid, base, what="1,000 idle connections")
    answers(d, cl, what="1,000 idle connections closed")


@test
def ping_flood_without_reading():
    """hostile: a PING flood from a client that never reads: the daemon drops it, fds and memory back"""
    d, cl = shared()
    pid = d.proc.pid
    base = fd_count(pid)
    c = Raw(d.sock)
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sent = 0
    try:
        c.s.settimeout(0.5)
        # In batches small enough not to look like a flood to nghttp2 at
        # once: its PING ACKs fill the socket, then the daemon's own
        # output buffer, and only then nghttp2's queue trips its limit.
        pings = frame(PING, 0, 0, b"12345678") * 200
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sent < 100000:
            try:
                c.s.sendall(pings)
                sent += 200
            except socket.timeout:
                break           # the daemon stopped reading: fine
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.002)
        # Without reading a byte, the connection must go: the daemon gives
        # up on output a peer does not take once the session is over.
        wait_for(lambda: fd_count(pid) <= base, timeout=15,
                 what="the daemon to drop the flooding connection (fds %d, base %d)"
                 % (fd_count(pid), base))
    finally:
        c.close()
    fds_back(pid, base, what="a PING flood")
    answers(d, cl, what="a PING flood")


@test
def hang_ups_mid_request():
    """hostile: 300 clients that hang up mid-request (cut anywhere, streams reset, Events left open): fds back, daemon fine"""
    d, cl = shared()
    pid = d.proc.pid
    base = fd_count(pid)
    rng = random.Random(7)
    req = hpack(grpc_headers(b"/types.API/State"))
    ev = hpack(grpc_headers(b"/types.API/Events"))
    full = (PREFACE + frame(SETTINGS, 0, 0) + frame(HEADERS, END_HEADERS, 1, req) +
            frame(DATA, END_STREAM, 1, grpc_msg(b"\x0a\x04none")) +
            frame(HEADERS, END_HEADERS, 3, ev) +
            frame(DATA, END_STREAM, 3, grpc_msg(b"\x12\x02\x08\x01")) +
            frame(HEADERS, END_HEADERS, 5, hpack(grpc_headers(b"/types.API/GetServerVersion"))) +
            frame(DATA, 0, 5, grpc_msg(b"")[:3]))
    for k in range(300):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(d.sock)
        try:
            s.sendall(full[:rng.randrange(len(full) + 1)])
            if k % 2:
                s.sendall(frame(RST_STREAM, 0, 3, struct.pack(">I", CANCEL)))
            if k % 5 == 0:
                s.setblocking(False)
                try:
                    s.recv(100)
                except OSError:
                    pass
        except OSError:
            pass
        s.close()
    # Rapid reset on one connection: 2,000 calls opened and reset at once.
    c = Raw(d.sock)
    try:
        out = b""
        for k in range(2000):
            sid = 1 + 2 * k
            out += frame(HEADERS, END_HEADERS, sid, hpack(grpc_headers(b"/types.API/GetServerVersion")))
            out += frame(DATA, END_STREAM, sid, grpc_msg(b""))
            out += frame(RST_STREAM, 0, sid, struct.pack(">I", CANCEL))
        try:
            c.send(out)
        except (BrokenPipeError, ConnectionResetError):
            pass
        c.pump(lambda: c.eof, 2)
    finally:
        c.close()
    fds_back(pid, base, what="hang-ups")
    answers(d, cl, what="hang-ups")


@test
def hang_up_during_create():
    """hostile: a client that hangs up right after CreateContainer: the container runs or is not there, nothing half-made"""
    d, cl = shared()
    pid = d.proc.pid
    cid = "hostile-hup"
    bundle = d.bundle(cid, R.C.sleep_args)
    body = cl.request("CreateContainer", id=cid, bundlePath=bundle).SerializeToString()
    base = fd_count(pid)
    c = Raw(d.sock)
    c.request(1, b"/types.API/CreateContainer", body)
    c.close()

    # The create is over once the daemon says how it ended (State lists a
    # container being created, so "not listed" alone would not tell). Or it
    # was never taken: the daemon saw the hang-up before the call (the
    # connection is closed, and nothing of the id is listed or recorded).
    def settled():
        log = d.log()
        rows = d.sql("SELECT status FROM containers WHERE id = ?", (cid,))
        if "container %s started" % cid in log:
            return rows and rows[0][0] in ("running", "stopped")
        if any(m in log for m in ("container %s not created" % cid,
                                  "CreateContainer %s refused" % cid)):
            return not rows
        return (fd_count(pid) <= base and not rows
                and cid not in [x.id for x in cl.state().containers])
    wait_for(settled, timeout=20, what="%s to be running or gone" % cid)
    rows = d.sql("SELECT status FROM containers WHERE id = ?", (cid,))
    listed = cid in [x.id for x in cl.state().containers]
    in_runc = cid in d.runc_list()
    if rows and rows[0][0] == "running":
        R.check(listed and in_runc, "running row, listed %s, in runc %s" % (listed, in_runc))
        cl.signal(cid, 9)
    else:
        R.check(not listed and not in_runc, "no running row but listed %s, in runc %s"
                % (listed, in_runc))
    R.check(d.proc.pid == pid and d.proc.poll() is None, "the daemon exited")
    answers(d, cl, what="a hang-up during create")


def insert_events(db, n, width=128):
    """N events of containers that never existed, with long ids and pids,
    so that replaying them is megabytes on the wire."""
    con = sqlite3.connect(db, timeout=10)
    try:
        now = time.time_ns()
        rows = [(now - (n - k) * 1000, "exit", ("e%d-" % k + "x" * width)[:width],
                 ("p%d-" % k + "y" * width)[:width], 137) for k in range(n)]
        con.executemany("INSERT INTO events (ts, type, container_id, pid, status) "
                        "VALUES (?, ?, ?, ?, ?)", rows)
        con.commit()
    finally:
        con.close()


@test
def stalled_events_readers():
    """hostile: 12 Events streams replaying 20,000 events (75 MB) to clients that never read: memory bounded, others served"""
    d = PrivateDaemon()
    socks = []
    try:
        d.start("--retain-count", "0")
        up(d)
        d.stop(ctrdtest.signal.SIGTERM)
        insert_events(d.db, 20000)
        d.start("--retain-count", "0")
        up(d)
        cl = ctrdtest.Client(d.sock)
        try:
            pid = d.proc.pid
            base = fd_count(pid)
            reset_peak(pid)
            before = peak_kb(pid)
            ev = hpack(grpc_headers(b"/types.API/Events"))
            req = cl.request("Events", legacyTimestamp=1).SerializeToString()
            for _ in range(12):
                # Windows as wide as HTTP/2 allows, and then not a byte read.
                c = Raw(d.sock, settings=[(SETTINGS_INITIAL_WINDOW_SIZE, 0x7FFFFFFF)],
                        window=0x7FFFFFFF - 65535)
                c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                c.send(frame(HEADERS, END_HEADERS, 1, ev) + frame(DATA, END_STREAM, 1, grpc_msg(req)))
                socks.append(c)
            # Until the daemon has pushed what it will.
            last = -1
            for _ in range(50):
                t = cpu_s(pid)
                if t == last:
                    break
                last = t
                time.sleep(0.2)
            dt = answers(d, cl, within=1.0, what="12 stalled readers")
            grew = peak_kb(pid) - before
            R.diag("12 stalled readers: peak RSS +%d KiB, GetServerVersion in %.0f ms"
                   % (grew, dt * 1000))
            R.check(grew < 24 << 10, "peak RSS grew by %d KiB with 12 stalled readers" % grew)
            for c in socks:
                c.close()
            socks = []
            fds_back(pid, base, what="stalled readers")
            # And a reader that does read gets all 20,000.
            n = sum(1 for e in cl.events(timeout=30, legacyTimestamp=1, storedOnly=True) if e.id)
            R.eq(n, 20000, "events replayed to a reader that reads")
        finally:
            cl.close()
    finally:
        for c in socks:
            c.close()
        d.cleanup()


@test
def connection_cap_and_fd_limit():
    """hostile: past the connection cap and at RLIMIT_NOFILE (EMFILE): refused without spinning, served again once they close"""
    d = PrivateDaemon(nofile=64)
    socks = []
    try:
        d.start()
        up(d)
        cl = ctrdtest.Client(d.sock)
        try:
            pid = d.proc.pid
            lim = int(open("/proc/%d/limits" % pid).read().split("Max open files")[1].split()[0])
            R.eq(lim, 64, "the daemon's RLIMIT_NOFILE")
            lines = log_lines(d, "connections at most")
            R.check(lines, "the daemon does not log its connection cap")
            cap = int(lines[-1].split(" connections at most")[0].split()[-1])
            R.check(0 < cap <= 64 - 16, "a cap of %d under RLIMIT_NOFILE 64" % cap)
            base = fd_count(pid)
            # The cap: connections past it are closed at once.
            for _ in range(cap + 10):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(d.sock)
                socks.append(s)
            gone = set()

            def closed():
                for k, s in enumerate(socks):
                    # What the daemon sent first (its SETTINGS) is read, then EOF.
                    while k not in gone and select.select([s], [], [], 0)[0]:
                        try:
                            if s.recv(65536, socket.MSG_DONTWAIT) == b"":
                                gone.add(k)
                        except OSError:
                            gone.add(k)
                return len(gone) >= 10 - 1
            wait_for(closed, timeout=10, what="10 of %d connections past the cap of %d"
                     " closed (%d are)" % (len(socks), cap, len(gone)))
            # Past the cap the oldest silent connections make room (test_bounds.py).
            R.check(log_lines(d, "the most allowed"), "no log line for the connections past the cap")
            t0 = cpu_s(pid)
            time.sleep(1.0)
            R.check(cpu_s(pid) - t0 < 0.3, "the daemon spins at the cap: %.2fs CPU in 1s"
                    % (cpu_s(pid) - t0))
            for s in socks:
                s.close()
            socks = []
            fds_back(pid, base, what="the cap")
            answers(d, cl, within=2.0, what="the cap")

            # EMFILE: the limit lowered under the daemon's feet to a few
            # more fds than it has open; accept(2) fails, clients wait.
            n = fd_count(pid)
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (n + 4, 64))
            for _ in range(20):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(d.sock)
                socks.append(s)
            time.sleep(0.5)
            t0 = cpu_s(pid)
            time.sleep(1.0)
            spent = cpu_s(pid) - t0
            R.check(spent < 0.3, "the daemon spins on EMFILE: %.2fs CPU in 1s" % spent)
            warn = log_lines(d, "accept")
            R.check(warn, "no log line about accept failing")
            R.check(len(warn) < 50, "%d log lines about accept in 1.5s" % len(warn))
            R.check(d.proc.poll() is None, "the daemon died on EMFILE")
            for s in socks:
                s.close()
            socks = []
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (64, 64))
            answers(d, cl, within=3.0, what="EMFILE")
            fds_back(pid, base, slack=4, what="EMFILE")
        finally:
            cl.close()
    finally:
        for s in socks:
            s.close()
        d.cleanup()


if __name__ == "__main__":
    # Alone: run.py's daemon and runner, these tests only.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run
    del run.TESTS[:]
    register(run)
    # Arguments pick tests by a part of their function name.
    if sys.argv[1:]:
        run.TESTS[:] = [fn for fn in run.TESTS if any(a in fn.__name__ for a in sys.argv[1:])]
    sys.exit(run.main())
