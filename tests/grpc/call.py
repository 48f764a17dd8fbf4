#!/usr/bin/python3
"""call.py: one types.API call from the command line, for the bats tests.

    call.py --address SOCK METHOD [JSON]
    call.py --address SOCK Check [SERVICE]

The request is given as protobuf JSON (wire names, e.g.
'{"id": "c1", "bundlePath": "/b", "stdout": "/tmp/f"}'). The response is
printed as one line of JSON (one line per Event for Events). A gRPC error
prints "CODE_NAME: message" on stderr and exits 1; bad usage exits 2.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402
from google.protobuf import json_format  # noqa: E402

import ctrdtest  # noqa: E402


def dump(msg):
    print(json_format.MessageToJson(msg, indent=None, including_default_value_fields=True,
                                    preserving_proto_field_name=False), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--address", required=True, help="the daemon's socket path")
    ap.add_argument("--timeout", type=float, default=ctrdtest.RPC_TIMEOUT)
    ap.add_argument("method")
    ap.add_argument("request", nargs="?", default="")
    a = ap.parse_args()

    sock = a.address[len("unix://"):] if a.address.startswith("unix://") else a.address
    client = ctrdtest.Client(sock)
    try:
        if a.method == "Check":
            dump(client.health(a.request, timeout=a.timeout))
            return 0
        if a.method not in ctrdtest.API_METHODS:
            print("call.py: unknown method %s" % a.method, file=sys.stderr)
            return 2
        req = client.request(a.method)
        if a.request:
            json_format.Parse(a.request, req)
        resp = client.call(a.method, request=req, timeout=a.timeout)
        if ctrdtest.API_METHODS[a.method][2]:
            for ev in resp:
                dump(ev)
        else:
            dump(resp)
        return 0
    except grpc.RpcError as e:
        print("%s: %s" % (e.code().name, e.details()), file=sys.stderr)
        return 1
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
