#!/usr/bin/python3
"""exec_burst.py: concurrent AddProcess or pause/resume calls, each result
on its own line as it happens, for tests/integration/procs.bats and
chaos_exec.bats to compare with what the daemon recorded.

    exec_burst.py --address SOCK exec --containers C1,C2 --count N [--threads T]
                  [--prefix P] [-- ARGS...]
    exec_burst.py --address SOCK pause --container C --count N [--threads T]

exec:  AddProcess P0 .. P(N-1) (ARGS, default `sleep 1000`), spread over
       the containers in turn, T calls at a time.
pause: N UpdateContainer calls alternating "paused" / "running".

Lines, flushed one by one (so a reader after a crash knows exactly what
was acknowledged):
    ack exec CID PID SYSTEMPID     err exec CID PID CODE message
    ack pause CID STATUS K         err pause CID STATUS K CODE message
Exit 0 once every call finished (an unanswered call ends at --timeout as
DEADLINE_EXCEEDED).
"""

import argparse
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402

import ctrdtest  # noqa: E402

_out_lock = threading.Lock()
PATH_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]


def say(*words):
    line = " ".join(str(w).replace("\n", " ") for w in words)
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def drain(items, threads, one):
    """Calls one(item) for every item, from `threads` threads taking the
    next item in turn."""
    left = list(items)
    lock = threading.Lock()

    def work():
        while True:
            with lock:
                if not left:
                    return
                item = left.pop(0)
            one(item)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()


def execs(a):
    client = ctrdtest.Client(a.address)
    ctrs = a.containers.split(",")
    args = a.args or ["sleep", "1000"]

    def one(item):
        cid, pid = item
        try:
            r = client.call("AddProcess", id=cid, pid=pid, args=args, cwd="/",
                            env=PATH_ENV, timeout=a.timeout)
            say("ack", "exec", cid, pid, r.systemPid)
        except grpc.RpcError as e:
            say("err", "exec", cid, pid, e.code().name, e.details() or "")

    drain([(ctrs[k % len(ctrs)], "%s%d" % (a.prefix, k)) for k in range(a.count)],
          a.threads, one)
    client.close()


def pauses(a):
    client = ctrdtest.Client(a.address)

    def one(k):
        st = "paused" if k % 2 == 0 else "running"
        try:
            client.call("UpdateContainer", id=a.container, status=st, timeout=a.timeout)
            say("ack", "pause", a.container, st, k)
        except grpc.RpcError as e:
            say("err", "pause", a.container, st, k, e.code().name, e.details() or "")

    drain(range(a.count), a.threads, one)
    client.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--address", required=True)
    ap.add_argument("--timeout", type=float, default=30.0)
    sub = ap.add_subparsers(dest="mode", required=True)
    e = sub.add_parser("exec")
    e.add_argument("--containers", required=True)
    e.add_argument("--count", type=int, default=20)
    e.add_argument("--threads", type=int, default=8)
    e.add_argument("--prefix", default="e")
    e.add_argument("args", nargs="*")
    p = sub.add_parser("pause")
    p.add_argument("--container", required=True)
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--threads", type=int, default=8)
    a = ap.parse_args()
    if a.mode == "exec":
        execs(a)
    else:
        pauses(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
