"""Support for the python3-grpcio tests: message classes generated from
schema/*.proto at run time, a small client for types.API and the health
service, and a private daemon in its own temp root.

Run with Debian's /usr/bin/python3 (python3-grpcio, python3-protobuf).
"""

import atexit
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import grpc

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(REPO, "bin")
CONTAINERD = os.environ.get("CONTAINERD", os.path.join(BIN, "containerd"))
SHIM = os.environ.get("SHIM", os.path.join(BIN, "containerd-shim"))
MKBUNDLE = os.path.join(REPO, "tools", "mkbundle")
RUNC = os.environ.get("RUNC", "runc")

RPC_TIMEOUT = 20.0

_pb = None


def load_protos():
    """Generate api_pb2, health_pb2 and records_pb2 with protoc and import them.

    CTRD_PB_DIR, when set, is a directory that holds (or will hold) the
    generated modules, so several runs share one protoc call."""
    global _pb
    if _pb is not None:
        return _pb
    out = os.environ.get("CTRD_PB_DIR")
    if out:
        os.makedirs(out, exist_ok=True)
    else:
        out = tempfile.mkdtemp(prefix="ctrd-pb.")
        atexit.register(shutil.rmtree, out, True)
    if not (os.path.exists(os.path.join(out, "api_pb2.py"))
            and os.path.exists(os.path.join(out, "health_pb2.py"))
            and os.path.exists(os.path.join(out, "records_pb2.py"))):
        tmp = tempfile.mkdtemp(prefix="gen.", dir=out)
        cmd = ["protoc", "--python_out=" + tmp, "-I" + os.path.join(REPO, "schema"),
               "-I/usr/include", os.path.join(REPO, "schema", "api.proto"),
               os.path.join(REPO, "schema", "health.proto"),
               os.path.join(REPO, "schema", "records.proto")]
        res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True)
        if res.returncode != 0:
            raise RuntimeError("protoc failed: %s\n%s" % (" ".join(cmd), res.stdout))
        for f in ("api_pb2.py", "health_pb2.py", "records_pb2.py"):
            os.replace(os.path.join(tmp, f), os.path.join(out, f))
        shutil.rmtree(tmp, True)
    if out not in sys.path:
        sys.path.insert(0, out)
    api = importlib.import_module("api_pb2")
    health = importlib.import_module("health_pb2")
    records = importlib.import_module("records_pb2")

    class PB:
        pass

    _pb = PB()
    _pb.api = api
    _pb.health = health
    _pb.records = records
    return _pb


# Request and response classes of each method of types.API.
API_METHODS = {
    "GetServerVersion": ("GetServerVersionRequest", "GetServerVersionResponse", False),
    "CreateContainer": ("CreateContainerRequest", "CreateContainerResponse", False),
    "UpdateContainer": ("UpdateContainerRequest", "UpdateContainerResponse", False),
    "Signal": ("SignalRequest", "SignalResponse", False),
    "UpdateProcess": ("UpdateProcessRequest", "UpdateProcessResponse", False),
    "AddProcess": ("AddProcessRequest", "AddProcessResponse", False),
    "CreateCheckpoint": ("CreateCheckpointRequest", "CreateCheckpointResponse", False),
    "DeleteCheckpoint": ("DeleteCheckpointRequest", "DeleteCheckpointResponse", False),
    "ListCheckpoint": ("ListCheckpointRequest", "ListCheckpointResponse", False),
    "State": ("StateRequest", "StateResponse", False),
    "Events": ("EventsRequest", "Event", True),
    "Stats": ("StatsRequest", "StatsResponse", False),
}


class Client:
    """types.API and grpc.health.v1.Health over a unix socket, by hand:
    channel.unary_unary / unary_stream with the generated classes."""

    def __init__(self, sock, own_connection=False):
        self.pb = load_protos()
        self.sock = sock
        # grpcio shares one connection among channels to the same target
        # unless told otherwise: own_connection gives this one its own.
        opts = [("grpc.use_local_subchannel_pool", 1)] if own_connection else None
        self.channel = grpc.insecure_channel("unix://" + sock, options=opts)

    def close(self):
        self.channel.close()

    def _method(self, name):
        req, resp, stream = API_METHODS[name]
        api = self.pb.api
        make = self.channel.unary_stream if stream else self.channel.unary_unary
        return make("/types.API/" + name,
                    request_serializer=getattr(api, req).SerializeToString,
                    response_deserializer=getattr(api, resp).FromString)

    def request(self, name, **fields):
        return getattr(self.pb.api, API_METHODS[name][0])(**fields)

    def call(self, name, request=None, timeout=RPC_TIMEOUT, **fields):
        if request is None:
            request = self.request(name, **fields)
        return self._method(name)(request, timeout=timeout)

    def health(self, service="", timeout=RPC_TIMEOUT, wait_for_ready=False):
        h = self.pb.health
        check = self.channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=h.HealthCheckRequest.SerializeToString,
            response_deserializer=h.HealthCheckResponse.FromString)
        return check(h.HealthCheckRequest(service=service), timeout=timeout,
                     wait_for_ready=wait_for_ready)

    def version(self):
        return self.call("GetServerVersion")

    def create(self, cid, bundle, **kw):
        return self.call("CreateContainer", id=cid, bundlePath=bundle, **kw)

    def state(self, cid=""):
        return self.call("State", id=cid)

    def signal(self, cid, sig, pid="init"):
        return self.call("Signal", id=cid, pid=pid, signal=sig)

    def events(self, timeout=RPC_TIMEOUT, **fields):
        """An Events stream (an iterator of Event; .cancel() ends it)."""
        return self.call("Events", timeout=timeout, **fields)


def timestamp_ns(ts):
    return ts.seconds * 1000000000 + ts.nanos


def make_timestamp(ns):
    from google.protobuf import timestamp_pb2
    t = timestamp_pb2.Timestamp()
    t.seconds = ns // 1000000000
    t.nanos = ns % 1000000000
    return t


def wait_for(pred, timeout=20.0, what="condition", interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read().rsplit(")", 1)[1].split()[0]
        return st not in ("Z", "X")
    except (OSError, IndexError):
        return False


class Daemon:
    """A private daemon in its own temp root, as the bats tests run it."""

    def __init__(self, prefix="ctrd-grpc."):
        self.root = tempfile.mkdtemp(prefix=prefix)
        self.state = os.path.join(self.root, "state")
        self.sock = os.path.join(self.state, "containerd.sock")
        self.runc_root = os.path.join(self.root, "runc")
        self.db = os.path.join(self.state, "state.db")
        self.log_path = os.path.join(self.root, "daemon.log")
        self.proc = None
        self.base_bundle = None
        self._log = None

    def argv(self, *extra):
        return [CONTAINERD, "--state-dir", self.state, "--listen", self.sock,
                "--runtime-args", "--root=" + self.runc_root, "--shim", SHIM] + list(extra)

    def start(self, *extra, timeout=20.0):
        self._log = open(self.log_path, "ab")
        self._log.write(("# start: %s\n" % " ".join(self.argv(*extra))).encode())
        self._log.flush()
        self.proc = subprocess.Popen(self.argv(*extra), stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None:
                raise RuntimeError("the daemon exited with %s before listening:\n%s"
                                   % (self.proc.returncode, self.log()))
            if time.monotonic() >= deadline:
                raise RuntimeError("no socket at %s after %.0fs:\n%s"
                                   % (self.sock, timeout, self.log()))
            time.sleep(0.05)

    def stop(self, sig=signal.SIGKILL):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None
        return rc

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def bundle(self, name, args, tty=False):
        """A busybox bundle at ROOT/bundles/NAME running ARGS."""
        if self.base_bundle is None:
            self.base_bundle = os.path.join(self.root, "base-bundle")
            subprocess.run([MKBUNDLE, self.base_bundle, "sh"], check=True,
                           stdout=subprocess.DEVNULL)
        path = os.path.join(self.root, "bundles", name)
        if os.path.exists(path):
            shutil.rmtree(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        subprocess.run(["cp", "-a", self.base_bundle, path], check=True)
        cfg_path = os.path.join(path, "config.json")
        with open(cfg_path) as f:
            cfg = json.load(f)
        cfg["process"]["args"] = list(args)
        cfg["process"]["terminal"] = tty
        with open(cfg_path, "w") as f:
            json.dump(cfg, f, indent=1)
        return path

    def runc(self, *args):
        return subprocess.run([RUNC, "--root", self.runc_root] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True)

    def runc_list(self):
        res = self.runc("list", "-q")
        return res.stdout.split() if res.returncode == 0 else []

    def runc_state(self, cid):
        res = self.runc("state", cid)
        if res.returncode != 0:
            return None
        return json.loads(res.stdout)

    def sql(self, query, params=()):
        import sqlite3
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=5)
        try:
            return con.execute(query, params).fetchall()
        finally:
            con.close()

    def cleanup(self):
        """Kill everything this root started and remove it."""
        self.stop(signal.SIGKILL)
        for cid in self.runc_list():
            self.runc("delete", "-f", cid)
        pids = set()
        res = subprocess.run(["pgrep", "-f", "containerd-shim.*" + self.root],
                             stdout=subprocess.PIPE, universal_newlines=True)
        pids.update(int(p) for p in res.stdout.split())
        try:
            for (p,) in self.sql("SELECT shim_pid FROM processes WHERE shim_pid > 0"):
                pids.add(int(p))
        except Exception:
            pass
        for p in pids:
            try:
                with open("/proc/%d/cmdline" % p, "rb") as f:
                    if b"containerd-shim" not in f.read():
                        continue
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(self.root, True)
