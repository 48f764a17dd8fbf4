#!/usr/bin/env python3
"""promclient.py: raw HTTP clients for the --metrics-address tests
(tests/integration/prometheus.bats), the cases curl will not make.

    promclient.py ADDR send BYTES-AS-PYTHON-LITERAL   one request; prints the status
                                                      line (or RESET / EOF)
    promclient.py ADDR sendbody BYTES                 the same, then " body=N": the
                                                      bytes after the head
    promclient.py ADDR silent SECONDS                 connects, says nothing; prints
                                                      the ms until the daemon drops it
                                                      (or TIMEOUT)
    promclient.py ADDR huge MIB                       sends MIB of header without end;
                                                      prints the status line (or RESET)
                                                      and the KiB that went out
    promclient.py ADDR many N [SILENT]                N clients open at once, each
                                                      asking as it connects (after
                                                      SILENT ones that say nothing
                                                      took their places); prints how
                                                      many got each status
    promclient.py ADDR hold N SECONDS                 N silent clients, held open
                                                      SECONDS (in the background)

ADDR: HOST:PORT or a unix socket path.
"""
import ast
import collections
import socket
import sys
import time


def connect(addr, timeout=10):
    if addr.startswith("/"):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        s.connect(addr)
        return s
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
    return s


def read_all(s):
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except ConnectionResetError:
        if not data:
            return None
    except socket.timeout:
        pass
    return data


def status_line(data):
    if data is None:
        return "RESET"
    if not data:
        return "EOF"
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def main():
    addr, cmd = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    if cmd in ("send", "sendbody"):
        s = connect(addr)
        s.sendall(ast.literal_eval(args[0]))
        data = read_all(s)
        if cmd == "send":
            print(status_line(data))
        else:
            body = data.split(b"\r\n\r\n", 1)[1] if data and b"\r\n\r\n" in data else b""
            print("%s body=%d" % (status_line(data), len(body)))
    elif cmd == "silent":
        s = connect(addr, timeout=float(args[0]))
        t0 = time.monotonic()
        try:
            b = s.recv(1)
            print("%d %s" % ((time.monotonic() - t0) * 1000, "EOF" if not b else "DATA"))
        except socket.timeout:
            print("TIMEOUT")
        except ConnectionResetError:
            print("%d RESET" % ((time.monotonic() - t0) * 1000))
    elif cmd == "huge":
        s = connect(addr)
        total = int(args[0]) << 20
        sent = 0
        chunk = b"GET /metrics HTTP/1.1\r\n" + b"X-Junk: " + b"a" * 4000 + b"\r\n"
        try:
            s.sendall(chunk[:4096])
            sent = 4096
            line = b"X-Junk: " + b"a" * 1000 + b"\r\n"
            while sent < total:
                s.sendall(line)
                sent += len(line)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
        print(status_line(read_all(s)), sent // 1024)
    elif cmd == "many":
        n = int(args[0])
        silent = [connect(addr) for _ in range(int(args[1]) if len(args) > 1 else 0)]
        # Each asks as soon as it is connected (one silent for a second at
        # the cap may be pushed out: that is the hold case), and all stay
        # open until every answer is read.
        socks = []
        for _ in range(n):
            s = connect(addr)
            try:
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            socks.append(s)
        got = collections.Counter()
        for s in socks:
            got[status_line(read_all(s))] += 1
        print(" ".join("%s=%d" % (k.replace(" ", "_"), v) for k, v in sorted(got.items())))
        for s in silent:
            s.close()
    elif cmd == "hold":
        socks = [connect(addr) for _ in range(int(args[0]))]
        print("held", len(socks), flush=True)
        time.sleep(float(args[1]))
    else:
        sys.exit("unknown command " + cmd)


main()
