#!/usr/bin/python3
"""store_load.py: load and probes for the store's tests (issue 10, items 3,
5, 13; tests/integration/durability.bats and chaos_store.bats).

    store_load.py --address SOCK probe --stop-file F [--seconds N]
        GetServerVersion and State in a loop until F exists (or N seconds):
        prints "worst_ms W calls N".
    store_load.py --address SOCK resume
        Every stored event's timestamp as a resume point: the stream from
        it must be exactly the events after it. Prints
        "N resume points checked, W wrong".
    store_load.py --address SOCK subs --count N --ts NS
        N Events subscriptions from time NS, each read up to its first
        event: prints "subscriptions N served N in Ss".
    store_load.py --address SOCK load --bundle B --prefix P --count N --out F
        [--workers W] [--seed S] [--no-kill]: creates P1..PN with W
        workers, each killed with SIGKILL once acknowledged (unless
        --no-kill), at seeded moments. F gets
        "ack create ID", "ack kill ID", "err create ID CODE".
    store_load.py --address SOCK follow --out F --stop-file S
        A subscriber that resumes from the last timestamp it received
        whenever its stream breaks (the daemon killed): one line per
        event, "TS TYPE ID PID STATUS", until S exists and the stream
        was idle a second.
"""

import argparse
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402

import ctrdtest  # noqa: E402


def ev_key(ev):
    return (ctrdtest.timestamp_ns(ev.timestamp), ev.type, ev.id, ev.pid, ev.status)


def stored_after(client, ts):
    return [ev_key(ev) for ev in client.events(timestamp=ctrdtest.make_timestamp(ts),
                                                storedOnly=True)]


def timed(fn):
    t0 = time.monotonic()
    try:
        fn()
    except grpc.RpcError:
        pass
    return time.monotonic() - t0


def probe_loop(client, stop):
    worst, calls = 0.0, 0
    while not stop():
        worst = max(worst, timed(lambda: client.version()))
        worst = max(worst, timed(lambda: client.state()))
        calls += 2
        time.sleep(0.02)
    return worst, calls


def cmd_probe(a, client):
    deadline = time.monotonic() + a.seconds
    worst, calls = probe_loop(client, lambda: os.path.exists(a.stop_file) or
                              time.monotonic() > deadline)
    print("worst_ms %.0f calls %d" % (worst * 1000, calls))
    return 0


def cmd_resume(a, client):
    full = stored_after(client, 1)
    wrong = 0
    for k, ev in enumerate(full):
        got = stored_after(client, ev[0])
        want = full[k + 1:]
        if got[:len(want)] != want:
            wrong += 1
            if wrong <= 5:
                print("# resume after %s: got %d events, want %d" % (ev, len(got), len(want)))
    print("%d resume points checked, %d wrong" % (len(full), wrong))
    return 0 if wrong == 0 and len(full) > 0 else 1


def cmd_subs(a, client):
    # 50 streams a connection: whatever a server's stream limit, they open.
    streams, clients = [], []
    for k in range(a.count):
        if k % 50 == 0:
            clients.append(ctrdtest.Client(client.sock, own_connection=True))
        streams.append(clients[-1].events(timeout=600,
                                          timestamp=ctrdtest.make_timestamp(a.ts)))
    # Each stream's first event: the subscriptions are open and served.
    t0 = time.monotonic()
    got = 0
    for st in streams:
        try:
            next(st)
            got += 1
        except (grpc.RpcError, StopIteration):
            pass
    print("subscriptions %d served %d in %.1fs" % (len(streams), got, time.monotonic() - t0))
    for st in streams:
        st.cancel()
    return 0 if got == len(streams) else 1


def cmd_load(a, client):
    rnd = random.Random(a.seed)
    ids = ["%s%d" % (a.prefix, k) for k in range(1, a.count + 1)]
    delays = {cid: rnd.random() * a.spread for cid in ids}
    out = open(a.out, "a", buffering=1)
    lock = threading.Lock()
    left = list(ids)

    def log(*words):
        with lock:
            out.write(" ".join(str(w) for w in words) + "\n")

    def worker():
        c = ctrdtest.Client(client.sock)
        while True:
            with lock:
                if not left:
                    break
                cid = left.pop(0)
            time.sleep(delays[cid])
            try:
                c.create(cid, a.bundle)
                log("ack", "create", cid)
            except grpc.RpcError as e:
                log("err", "create", cid, e.code().name)
                continue
            if a.no_kill:
                continue
            time.sleep(rnd.random() * a.spread)
            try:
                c.signal(cid, 9)
                log("ack", "kill", cid)
            except grpc.RpcError as e:
                log("err", "kill", cid, e.code().name)
        c.close()

    threads = [threading.Thread(target=worker) for _ in range(a.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.close()
    return 0


def cmd_follow(a, client):
    out = open(a.out, "a", buffering=1)
    last = 1
    idle_since = None
    while True:
        try:
            st = client.events(timeout=2, timestamp=ctrdtest.make_timestamp(last))
            for ev in st:
                k = ev_key(ev)
                last = k[0]
                out.write("%d %s %s %s %d\n" % k)
                idle_since = None
        except grpc.RpcError:
            pass  # the deadline (idle) or the daemon gone: resume from last
        if os.path.exists(a.stop_file):
            if idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= 1.0:
                break
        else:
            idle_since = None
        time.sleep(0.05)
        client.close()
        client = ctrdtest.Client(client.sock)
    out.close()
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--address", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("probe")
    p.add_argument("--stop-file", required=True)
    p.add_argument("--seconds", type=float, default=60)
    sub.add_parser("resume")
    p = sub.add_parser("subs")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--ts", type=int, required=True)
    p = sub.add_parser("load")
    p.add_argument("--bundle", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--spread", type=float, default=0.5)
    p.add_argument("--no-kill", action="store_true", help="create only")
    p.add_argument("--out", required=True)
    p = sub.add_parser("follow")
    p.add_argument("--out", required=True)
    p.add_argument("--stop-file", required=True)
    a = ap.parse_args()
    client = ctrdtest.Client(a.address)
    return globals()["cmd_" + a.cmd](a, client)


if __name__ == "__main__":
    sys.exit(main())
