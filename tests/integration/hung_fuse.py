#!/usr/bin/python3
"""hung_fuse.py MOUNTPOINT: mounts a FUSE filesystem whose server never
answers, so every stat(), open() or read() under MOUNTPOINT waits (as on a
network filesystem whose server is gone). Prints "mounted" once it is there;
on SIGTERM or SIGINT it aborts the connection (waiters get ENOTCONN) and
detaches the mount."""

import ctypes
import os
import signal
import sys

MNT_DETACH = 2


def main():
    mnt = sys.argv[1].encode()
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/dev/fuse", os.O_RDWR)
    opts = f"fd={fd},rootmode=40000,user_id=0,group_id=0".encode()
    if libc.mount(b"hung", mnt, b"fuse.hung", 0, opts) != 0:
        print("mount:", os.strerror(ctypes.get_errno()), flush=True)
        return 1

    def bye(*_):
        os.close(fd)
        libc.umount2(mnt, MNT_DETACH)
        sys.exit(0)

    signal.signal(signal.SIGTERM, bye)
    signal.signal(signal.SIGINT, bye)
    print("mounted", flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main())
