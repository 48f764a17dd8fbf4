"""containerd.records.v1.Records over raw gRPC: ListContainers (live, and
with all the stopped ones the database keeps), RemoveContainer and Prune,
with their error codes, and the health check of the service's name.

records_pb2 is generated from schema/records.proto by protoc at run time,
beside api_pb2 (ctrdtest.load_protos). Run by run.py, which calls register(run)
with itself: the tests use its private daemon and helpers.
"""

import os
import time

import grpc

import ctrdtest
from ctrdtest import wait_for, timestamp_ns, make_timestamp

R = None        # the run.py module, set by register()
_TESTS = []

SERVICE = "containerd.records.v1.Records"


def test(fn):
    _TESTS.append(fn)
    return fn


def register(run):
    """Appends these tests to run.py's list (run: the run.py module)."""
    global R
    R = run
    for fn in _TESTS:
        run.test(fn)


# ---------------------------------------------------------------- helpers

def load_records():
    """records_pb2, generated beside api_pb2 by ctrdtest.load_protos."""
    return ctrdtest.load_protos().records


def rec_call(method, req_cls, resp_cls, **fields):
    pb = load_records()
    fn = R.C.client.channel.unary_unary(
        "/%s/%s" % (SERVICE, method),
        request_serializer=getattr(pb, req_cls).SerializeToString,
        response_deserializer=getattr(pb, resp_cls).FromString)
    return fn(getattr(pb, req_cls)(**fields), timeout=ctrdtest.RPC_TIMEOUT)


def list_containers(all_=False):
    return rec_call("ListContainers", "ListContainersRequest", "ListContainersResponse",
                    all=all_).containers


def remove(cid_):
    return rec_call("RemoveContainer", "RemoveContainerRequest", "RemoveContainerResponse",
                    id=cid_)


def prune(before_ns=None):
    kw = {} if before_ns is None else {"before": make_timestamp(before_ns)}
    return list(rec_call("Prune", "PruneRequest", "PruneResponse", **kw).removed)


def cid(name):
    return "%s-%s" % (name, os.path.basename(R.C.daemon.root).rsplit(".", 1)[-1])


def stopped(name, code):
    """A container that ran `exit CODE` and whose exit is durable (its row
    stopped, gone from State)."""
    c = cid(name)
    bundle = R.C.daemon.bundle(c, ["sh", "-c", "exit %d" % code])
    R.C.client.create(c, bundle, labels=["k=%s" % name])
    wait_for(lambda: R.C.daemon.sql("SELECT status FROM containers WHERE id = ?", (c,))
             == [("stopped",)] and c not in [x.id for x in R.C.client.state().containers],
             what="%s stopped" % c)
    return c


def rows(c):
    d = R.C.daemon
    return {t: d.sql("SELECT count(*) FROM %s WHERE %s = ?" % (t, k), (c,))[0][0]
            for t, k in (("containers", "id"), ("labels", "container_id"),
                         ("processes", "container_id"), ("events", "container_id"))}


# ---------------------------------------------------------------- tests

@test
def records_health():
    """Records: the health service answers SERVING for its name"""
    h = R.C.client.pb.health
    r = R.C.client.health(SERVICE)
    R.eq(r.status, h.HealthCheckResponse.SERVING, "health(%s)" % SERVICE)


@test
def records_list_stopped():
    """Records: ListContainers has the live ones; with all, the stopped ones with their exit"""
    live = cid("rl-live")
    R.create_sleeper(live)
    t0 = time.time_ns()
    gone = stopped("rl-gone", 7)
    ids = [x.id for x in list_containers()]
    R.check(live in ids and gone not in ids, "live-only listing: %r" % ids)
    R.eq(ids, sorted(ids), "live-only listing sorted")
    recs = list_containers(True)
    ids = [x.id for x in recs]
    R.eq(ids, sorted(ids), "listing with all sorted")
    by = {x.id: x for x in recs}
    R.check(live in by and gone in by, "all: %r" % ids)
    L, G = by[live], by[gone]
    R.eq((L.status, L.processes, L.HasField("exited"), L.HasField("created")),
         ("running", 1, False, True), "the live one")
    R.eq((G.status, G.exit_status, G.processes, list(G.labels)),
         ("stopped", 7, 0, ["k=rl-gone"]), "the stopped one")
    R.check(G.HasField("exited") and timestamp_ns(G.exited) >= t0,
            "exited %s, after %d" % (G.exited, t0))
    R.check(G.HasField("created") and timestamp_ns(G.created) <= timestamp_ns(G.exited),
            "created %s before exited %s" % (G.created, G.exited))
    R.eq(G.bundle, os.path.join(R.C.daemon.root, "bundles", gone), "bundle")
    R.C.client.signal(live, 9)


@test
def records_remove():
    """Records: RemoveContainer forgets a stopped one (rows, events, logs); refuses live, unknown, bad ids"""
    gone = stopped("rr-gone", 3)
    logs = os.path.join(R.C.daemon.state, "_logs", gone)
    os.makedirs(logs, exist_ok=True)
    with open(os.path.join(logs, "init.log"), "w") as f:
        f.write("x\n")
    R.check(rows(gone)["events"] > 0, "events before: %r" % rows(gone))
    remove(gone)
    R.eq(rows(gone), {"containers": 0, "labels": 0, "processes": 0, "events": 0}, "rows after")
    R.check(not os.path.lexists(logs), "%s still there" % logs)
    R.check(gone not in [x.id for x in list_containers(True)], "still listed")
    e = R.rpc_error(remove, gone)
    R.expect_code(e, grpc.StatusCode.NOT_FOUND, "again")
    e = R.rpc_error(remove, "no-such-" + gone)
    R.expect_code(e, grpc.StatusCode.NOT_FOUND, "unknown id")
    e = R.rpc_error(remove, "../bad")
    R.expect_code(e, grpc.StatusCode.INVALID_ARGUMENT, "bad id")
    live = cid("rr-live")
    R.create_sleeper(live)
    e = R.rpc_error(remove, live)
    R.expect_code(e, grpc.StatusCode.FAILED_PRECONDITION, "running")
    R.eq(R.C.daemon.sql("SELECT status FROM containers WHERE id = ?", (live,)),
         [("running",)], "the running one's row")
    R.C.client.signal(live, 9)


@test
def records_prune():
    """Records: Prune removes the stopped ones (before a time when given), sorted"""
    a = stopped("rp-a", 1)
    b = stopped("rp-b", 2)
    live = cid("rp-live")
    R.create_sleeper(live)
    hour_ago = time.time_ns() - 3600 * 10**9
    R.check(a not in prune(hour_ago) and b not in prune(hour_ago), "pruned too young ones")
    R.eq(rows(a)["containers"], 1, "a kept")
    got = prune()
    R.check(a in got and b in got and live not in got, "pruned: %r" % got)
    R.eq(got, sorted(got), "sorted")
    R.eq((rows(a), rows(b)), ({"containers": 0, "labels": 0, "processes": 0, "events": 0},) * 2,
         "rows after prune")
    R.eq(R.C.daemon.sql("SELECT status FROM containers WHERE id = ?", (live,)),
         [("running",)], "the live one")
    R.eq(prune(), [], "nothing left to prune")
    R.C.client.signal(live, 9)
