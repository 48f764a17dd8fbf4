/*
 * grpc: gRPC over HTTP/2 cleartext (prior knowledge), on libnghttp2.
 *
 * The server side is a protocol core that does no I/O: the owner feeds it
 * the bytes it read (grpc_conn_recv) and writes out what it produces
 * (grpc_conn_pending + grpc_conn_consumed). So it is tested in memory, and
 * the daemon decides when to flush (once per loop iteration).
 *
 * A call (one HTTP/2 stream, one RPC) is addressed by its id, never kept by
 * raw pointer across loop iterations: grpc_call_find(id) returns NULL once
 * the client reset it or hung up, which makes every reply handle weak.
 *
 * Message framing: 1-byte compressed flag (must be 0), 4-byte big-endian
 * length, protobuf bytes. A request is delivered when the client
 * half-closes its stream after exactly one message (unary and
 * server-streaming calls). A message longer than max_msg is answered
 * RESOURCE_EXHAUSTED without buffering it; a compressed one UNIMPLEMENTED;
 * none, or more than one, INVALID_ARGUMENT.
 */
#ifndef LIB_GRPC_H
#define LIB_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define GRPC_MAX_MESSAGE (16u << 20)

struct grpc_conn;
struct grpc_call;

struct grpc_server_cbs {
	/* One whole request arrived. path is e.g. "/types.API/State"; msg is
	 * valid only during the callback. Reply now or later, via the id. */
	void (*request)(void *ctx, struct grpc_call *call, const char *path,
	    const uint8_t *msg, size_t len);
	/* The call ends: finished and flushed, reset by the client, or its
	 * connection freed. grpc_call_find() no longer returns it. May be NULL. */
	void (*closed)(void *ctx, struct grpc_call *call);
	/* The call's queued output fell below GRPC_LOW_WATER after having been
	 * above it (a streaming reader caught up). May be NULL. */
	void (*drained)(void *ctx, struct grpc_call *call);
};

#define GRPC_LOW_WATER (64u << 10)

/* A new server connection. ctx is passed to every callback. */
struct grpc_conn *grpc_conn_new(const struct grpc_server_cbs *cbs, void *ctx,
    size_t max_msg);
/* Frees the connection; each open call gets `closed` first. */
void grpc_conn_free(struct grpc_conn *c);
/* Feeds bytes read from the peer. Returns 0, or -1 when the connection must
 * be closed (bad preface or frames: the GOAWAY, if any, is pending output). */
int grpc_conn_recv(struct grpc_conn *c, const uint8_t *data, size_t len);
/* Points *data at the next bytes to write; returns their count (0: none). */
size_t grpc_conn_pending(struct grpc_conn *c, const uint8_t **data);
/* The first n bytes from grpc_conn_pending were written. */
void grpc_conn_consumed(struct grpc_conn *c, size_t n);
/* True when the session is over (GOAWAY both ways, or fatal error) and all
 * output was written: the owner closes the socket. */
bool grpc_conn_done(struct grpc_conn *c);

/* Calls handed to cbs->request and not yet closed (a reply or a stream
 * under way): a connection with none and no traffic is idle. */
size_t grpc_conn_active_calls(const struct grpc_conn *c);
/* Says goodbye (GOAWAY, NO_ERROR) and reads no more: the owner flushes
 * and closes, as after grpc_conn_recv's -1. */
void grpc_conn_shutdown(struct grpc_conn *c);

/* Call ids are unique for the life of the process, never 0. */
uint64_t grpc_call_id(const struct grpc_call *call);
struct grpc_call *grpc_call_find(uint64_t id);
struct grpc_conn *grpc_call_conn(const struct grpc_call *call);
void grpc_call_set_data(struct grpc_call *call, void *data);
void *grpc_call_data(const struct grpc_call *call);
/* Queues one response message (response headers go first, once). */
int grpc_call_send(struct grpc_call *call, const uint8_t *msg, size_t len);
/* The same for a message of len bytes at buf + GRPC_PREFIX_LEN (room for
 * the message prefix before it): buf is taken, always, and used as the
 * call's output instead of copied when nothing else is queued, so a big
 * reply (State of 1000 containers: 270 kB) is in memory once, not twice. */
#define GRPC_PREFIX_LEN 5
int grpc_call_send_take(struct grpc_call *call, uint8_t *buf, size_t len);
/* Queues the trailers (grpc-status, and grpc-message percent-encoded when
 * not OK); nothing may be sent after. The call closes once they are out. */
int grpc_call_finish(struct grpc_call *call, int code, const char *message);
/* Whether a stream should be fed another message now: false while the
 * call, its connection or all connections hold their share of unsent
 * output; `drained` follows once there is room (see grpc.c). */
bool grpc_call_writable(struct grpc_call *call);
/* Response bytes queued on this call and not yet handed to
 * grpc_conn_pending (flow control or unflushed). */
size_t grpc_call_queued(const struct grpc_call *call);

/*
 * Client: blocking, one connection, for ctr, tools and tests.
 * address: a socket path, or "unix:///path".
 */
struct grpc_client;
struct grpc_stream;

struct grpc_client *grpc_client_connect(const char *address, struct err *e);
void grpc_client_free(struct grpc_client *cl);
int grpc_client_fd(const struct grpc_client *cl);
/* A unary call. On success returns 0 and *resp (malloc'd, caller frees).
 * Otherwise -1 with e->code the grpc-status and e->msg the grpc-message (or
 * a transport error as UNAVAILABLE). timeout_ms 0 = none. */
int grpc_client_unary(struct grpc_client *cl, const char *path,
    const uint8_t *req, size_t req_len, uint8_t **resp, size_t *resp_len,
    int timeout_ms, struct err *e);
/* A server-streaming call: sends the request and half-closes. */
struct grpc_stream *grpc_client_stream(struct grpc_client *cl, const char *path,
    const uint8_t *req, size_t req_len, struct err *e);
/* Next message: 1 and *msg (malloc'd); 0 when the stream ended with OK;
 * -1 with e on error status or transport error. timeout_ms 0 = block;
 * on timeout returns -1 with e->code GRPC_DEADLINE_EXCEEDED and the stream
 * stays usable. */
int grpc_stream_next(struct grpc_stream *st, uint8_t **msg, size_t *len,
    int timeout_ms, struct err *e);
/* Resets the stream if still open and frees it. */
void grpc_stream_free(struct grpc_stream *st);

#endif
