#!/usr/bin/env python3
"""sockact.py: start a program as systemd's socket activation does.

    sockact.py [--pid-off] SOCKET... -- PROGRAM ARGS...

Each SOCKET becomes fd 3, 4, ... of PROGRAM, which is exec'd in this process,
so LISTEN_PID (this pid) names it; LISTEN_FDS counts them. SOCKET is one of
    unix:PATH    a listening unix stream socket bound to PATH
    tcp          a listening TCP socket on 127.0.0.1, any port
    dgram:PATH   a unix datagram socket bound to PATH
    idle:PATH    a unix stream socket bound to PATH, not listening
--pid-off sets LISTEN_PID to another pid (the fds were meant for a parent).
"""
import os
import socket
import sys


def make(spec):
    kind, _, path = spec.partition(":")
    if kind == "tcp":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        return s
    typ = socket.SOCK_DGRAM if kind == "dgram" else socket.SOCK_STREAM
    s = socket.socket(socket.AF_UNIX, typ)
    s.bind(path)
    if kind == "unix":
        s.listen(16)
    return s


def main(argv):
    pid_off = False
    if argv and argv[0] == "--pid-off":
        pid_off = True
        argv = argv[1:]
    sep = argv.index("--")
    specs, prog = argv[:sep], argv[sep + 1:]
    socks = [make(s) for s in specs]
    # Out of the way first, then into 3, 4, ...: a new socket may sit on 3.
    fds = [os.dup(s.fileno()) for s in socks]
    for s in socks:
        s.close()
    for k, fd in enumerate(fds):
        os.dup2(fd, 100 + k)
        os.close(fd)
    for k in range(len(fds)):
        os.dup2(100 + k, 3 + k, inheritable=True)
        os.close(100 + k)
    os.environ["LISTEN_FDS"] = str(len(socks))
    os.environ["LISTEN_PID"] = str(os.getpid() + (1 if pid_off else 0))
    os.environ["LISTEN_FDNAMES"] = ":".join("s%d" % k for k in range(len(socks)))
    os.execvp(prog[0], prog)


if __name__ == "__main__":
    main(sys.argv[1:])
