/*
 * api: the few types.API calls the bench makes. Each worker passes its own
 * client: lib/grpc's client is blocking and not shared between threads.
 */
#include "bench.h"
#include "pbcall.h"

#include <stdio.h>
#include <stdlib.h>

int
bench_call(struct grpc_client *cl, const char *method,
    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *rd,
    ProtobufCMessage **resp, int timeout_ms, struct err *e)
{
	return pb_call(cl, method, req, rd, resp, timeout_ms, e);
}

int
bench_create(struct grpc_client *cl, const char *id, const char *bundle,
    int timeout_ms, struct err *e)
{
	Types__CreateContainerRequest req = TYPES__CREATE_CONTAINER_REQUEST__INIT;

	req.id = (char *)id;
	req.bundlepath = (char *)bundle;
	/* The reply is not decoded: the bench times the call, and the
	 * container's state is checked through State and Events. */
	return bench_call(cl, "CreateContainer", &req.base,
	    &types__create_container_response__descriptor, NULL, timeout_ms, e);
}

int
bench_kill(struct grpc_client *cl, const char *id, uint32_t sig,
    int timeout_ms, struct err *e)
{
	Types__SignalRequest req = TYPES__SIGNAL_REQUEST__INIT;

	req.id = (char *)id;
	req.pid = "init";
	req.signal = sig;
	return bench_call(cl, "Signal", &req.base, &types__signal_response__descriptor,
	    NULL, timeout_ms, e);
}

int
bench_state(struct grpc_client *cl, Types__StateResponse **resp, int timeout_ms,
    struct err *e)
{
	Types__StateRequest req = TYPES__STATE_REQUEST__INIT;

	return bench_call(cl, "State", &req.base, &types__state_response__descriptor,
	    (ProtobufCMessage **)resp, timeout_ms, e);
}

struct grpc_stream *
bench_events_open(struct grpc_client *cl, int64_t since_ns, struct err *e)
{
	Types__EventsRequest req = TYPES__EVENTS_REQUEST__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct grpc_stream *st;
	uint8_t *buf;
	size_t len;

	ts.seconds = since_ns / 1000000000;
	ts.nanos = (int32_t)(since_ns % 1000000000);
	req.timestamp = &ts;
	if ((buf = pb_pack(&req.base, &len, e)) == NULL)
		return NULL;
	st = grpc_client_stream(cl, "/types.API/Events", buf, len, e);
	free(buf);
	return st;
}
