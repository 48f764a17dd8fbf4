#!/usr/bin/python3
"""chaos.py: a burst of concurrent types.API calls that records, on the
client side, which ones the daemon acknowledged, for the chaos tests
(tests/integration/chaos.bats) to compare with what survives a crash.

    chaos.py --address SOCK create --bundle B --count N [--threads T] [--prefix P]
    chaos.py --address SOCK load --bundle B --seconds S [--threads T] [--prefix P]

create: CreateContainer P0 .. P(N-1), T at a time.
load:   for S seconds, each thread creates a container, then kills it with
        SIGKILL (Signal), and so on; a call that fails waits a little and
        the thread goes on (the daemon may be restarting).

One line per finished call on stdout, flushed as it happens, so a test
reading it after the daemon died knows exactly what was acknowledged:

    ack create ID          the call returned OK (the reply reached us)
    ack kill ID            Signal returned OK
    err create ID CODE msg the call failed (the daemon may or may not have done it)
    err kill ID CODE msg

Exit 0 once every call has finished, whatever their results.
"""

import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402

import ctrdtest  # noqa: E402

_out_lock = threading.Lock()


def say(*words):
    line = " ".join(str(w).replace("\n", " ") for w in words)
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def call(client, what, cid, fn):
    """Runs fn(); one ack/err line; True when acknowledged."""
    try:
        fn()
        say("ack", what, cid)
        return True
    except grpc.RpcError as e:
        say("err", what, cid, e.code().name, e.details() or "")
        return False


def burst(a):
    client = ctrdtest.Client(a.address)
    ids = ["%s%d" % (a.prefix, k) for k in range(a.count)]
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not ids:
                    return
                cid = ids.pop(0)
            call(client, "create", cid,
                 lambda: client.create(cid, a.bundle, timeout=a.timeout))

    threads = [threading.Thread(target=worker) for _ in range(a.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()


def load(a):
    deadline = time.monotonic() + a.seconds
    counter = [0]
    lock = threading.Lock()

    def worker():
        # A channel per thread: one that saw the daemon die reconnects on its own.
        client = ctrdtest.Client(a.address)
        while time.monotonic() < deadline:
            with lock:
                cid = "%s%d" % (a.prefix, counter[0])
                counter[0] += 1
            if not call(client, "create", cid,
                        lambda: client.create(cid, a.bundle, timeout=a.timeout)):
                time.sleep(0.1)
                continue
            # Killed until acknowledged: an acked create must be killable.
            while time.monotonic() < deadline + 15:
                if call(client, "kill", cid, lambda: client.signal(cid, 9, timeout=a.timeout)):
                    break
                time.sleep(0.1)
        client.close()

    threads = [threading.Thread(target=worker) for _ in range(a.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--address", required=True)
    ap.add_argument("--timeout", type=float, default=30.0)
    sub = ap.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("create")
    c.add_argument("--bundle", required=True)
    c.add_argument("--count", type=int, default=100)
    c.add_argument("--threads", type=int, default=20)
    c.add_argument("--prefix", default="c")
    lo = sub.add_parser("load")
    lo.add_argument("--bundle", required=True)
    lo.add_argument("--seconds", type=float, default=5.0)
    lo.add_argument("--threads", type=int, default=4)
    lo.add_argument("--prefix", default="l")
    a = ap.parse_args()
    if a.address.startswith("unix://"):
        a.address = a.address[len("unix://"):]
    if a.mode == "create":
        burst(a)
    else:
        load(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
