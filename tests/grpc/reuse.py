#!/usr/bin/python3
"""reuse.py: an id is free again the moment its exit event arrives.

    reuse.py --address SOCK --bundle DIR --id ID [--count N] [--runc-root R]

DIR's process exits on its own. With one Events stream (id ID) open, it
creates ID and waits for ID's init exit; on that event it creates ID again
at once, N times in all. Every other round it first checks, before the
create, that State no longer lists ID and (with --runc-root) that the
runtime no longer has it: the exit is announced only once both are true.
A create refused with ALREADY_EXISTS is a failure, and so is a State that
does not list an id Create calls taken. Prints the figures on one line
("figure: ...") and exits 1 on any failure.
"""

import argparse
import os
import queue
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402

import ctrdtest  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", required=True)
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--id", required=True)
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--runc-root")
    ap.add_argument("--runc", default=os.environ.get("RUNC", "runc"))
    a = ap.parse_args()

    client = ctrdtest.Client(a.address)
    evq = queue.Queue()
    stream = client.events(timeout=600, id=a.id)

    def read():
        try:
            for ev in stream:
                evq.put(ev)
        except grpc.RpcError:
            pass
        evq.put(None)

    threading.Thread(target=read, daemon=True).start()

    def next_exit(deadline=20.0):
        end = time.monotonic() + deadline
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise SystemExit("no exit event of %s within %.0fs" % (a.id, deadline))
            try:
                ev = evq.get(timeout=left)
            except queue.Empty:
                continue
            if ev is None:
                raise SystemExit("the Events stream ended")
            if ev.type == "exit" and ev.id == a.id and ev.pid == "init":
                return time.monotonic()

    def state_lists():
        try:
            return any(c.id == a.id for c in client.state(a.id).containers)
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return False
            raise

    def runtime_has():
        if not a.runc_root:
            return False
        return subprocess.run([a.runc, "--root", a.runc_root, "state", a.id],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0

    refused = disagree = listed_after = in_runtime = 0
    waits = []      # ms from the exit event to an acknowledged create

    def create(after_exit):
        nonlocal refused, disagree
        while True:
            try:
                client.create(a.id, a.bundle)
                if after_exit is not None:
                    waits.append((time.monotonic() - after_exit) * 1000)
                return
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.ALREADY_EXISTS:
                    raise
                refused += 1
                if not state_lists():
                    disagree += 1
                time.sleep(0.002)

    create(None)
    for k in range(a.count):
        at = next_exit()
        if k % 2 == 1:
            if state_lists():
                listed_after += 1
            if runtime_has():
                in_runtime += 1
        if k + 1 < a.count:
            create(at)
    stream.cancel()
    if state_lists():
        listed_after += 1
    waits.sort()
    print("figure: %d rounds; exit event -> create acknowledged: median %.1f ms, worst %.1f ms;"
          " ALREADY_EXISTS %d; State not listing an id Create called taken %d; listed in"
          " State after its exit event %d; in the runtime after its exit event %d"
          % (a.count, waits[len(waits) // 2] if waits else 0, waits[-1] if waits else 0,
             refused, disagree, listed_after, in_runtime), flush=True)
    client.close()
    return 1 if refused or disagree or listed_after or in_runtime else 0


if __name__ == "__main__":
    sys.exit(main())
