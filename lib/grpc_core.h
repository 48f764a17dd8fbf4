/*
 * grpc_core: the server core's own types, shared by grpc.c (streams,
 * calls, framing) and grpc_budget.c (what a client may make it hold).
 * Not for other modules.
 */
#ifndef LIB_GRPC_CORE_H
#define LIB_GRPC_CORE_H

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grpc.h"
#include "grpc_internal.h"

/*
 * Memory a client can make the daemon hold is bounded:
 * - MAX_STREAMS calls at once per connection (clients queue the others;
 *   dockerd uses one connection for an Events stream and its calls);
 * - input: a stream may send STREAM_WINDOW bytes ahead of what was read;
 *   window is given back as its message is buffered only while the
 *   connection holds at most max_msg + IN_SLACK bytes of partial messages
 *   and all connections IN_TOTAL. Past that the stream waits, and gets
 *   its window once another message is delivered (the connection-level
 *   window is always given back, so other calls go on);
 * - output: grpc_call_writable() says no while a call has CALL_OUT_HIGH
 *   queued, its connection CONN_OUT_HIGH or all of them OUT_TOTAL, and
 *   `drained` follows once there is room again.
 */
#define MAX_STREAMS 100
#define STREAM_WINDOW (64u << 10)
#define CONN_WINDOW (1u << 20)
#define IN_SLACK (1u << 20)
#define IN_TOTAL (64u << 20)
#define CALL_OUT_HIGH (256u << 10)
#define CONN_OUT_HIGH (1u << 20)
#define OUT_TOTAL (32u << 20)

/* A place in a list of calls waiting for room: its connection's (over
 * the connection's budget) or the global one (over the total). */
struct qlink {
	struct grpc_call *prev, *next;
	struct grpc_call **head;	/* NULL: in no list */
};

enum call_state {
	CALL_RECV,	/* reading the request */
	CALL_DELIVERED,	/* handed to cbs->request */
	CALL_REJECTED,	/* answered with an error by this file */
};

struct grpc_call {
	uint64_t id;
	int32_t stream_id;
	struct grpc_conn *conn;
	void *data;
	struct grpc_call *hnext;	/* id table chain */
	struct grpc_call *prev, *next;	/* conn->calls */
	enum call_state state;
	char *path;
	char *content_type;
	bool remote_closed;	/* the client ended its side */
	bool reset_after;	/* RST_STREAM(NO_ERROR) once the reply is out */
	bool closed;

	/* Request framing. */
	uint8_t pfx[5];
	size_t pfx_len;
	uint32_t msg_len;
	bool msg_done;
	struct gbuf in;

	/* Response. */
	bool responded;		/* response HEADERS submitted */
	bool finished;		/* trailers queued */
	bool deferred;		/* data provider waits for grpc_call_send */
	bool above_low;
	struct gbuf out;
	/* What this call counts in its connection's and the global totals. */
	size_t in_counted, out_counted;
	/* Stream window held back (input over budget), and the list of calls
	 * owed some; calls refused by grpc_call_writable for want of room on
	 * the connection or overall. */
	size_t owed;
	struct qlink owed_q, room_q;
	char status[16];
	char *message;		/* percent-encoded, NULL when OK */
};

struct grpc_conn {
	nghttp2_session *ses;
	struct grpc_server_cbs cbs;
	void *ctx;
	size_t max_msg;
	struct grpc_call *calls;
	size_t n_active;	/* calls delivered and not closed */
	size_t in_bytes;	/* partial request messages buffered */
	size_t out_queued;	/* response bytes queued on the calls */
	struct grpc_call *owed_head, *room_head;	/* held by this connection's budget */
	struct gbuf out;
	bool failed;		/* fatal error: no more input */
	bool dead;		/* nghttp2 cannot produce output either */
	/* Inside nghttp2 or conn_fill: a callback asking for output gets
	 * what is buffered, nghttp2 is not re-entered. */
	bool busy;
	/* Calls that fell below GRPC_LOW_WATER, by id: `drained` runs after
	 * nghttp2 returned, and skips calls closed meanwhile. */
	uint64_t *drain;
	size_t ndrain, drain_cap;
};

void grpc_drain_note(struct grpc_conn *c, uint64_t id);

/* grpc_budget.c */
/* call->in or call->out changed size: the totals follow (and calls held
 * by them may go on). */
void grpc_call_in_sync(struct grpc_call *call);
void grpc_call_out_sync(struct grpc_call *call);
/* len bytes of DATA arrived on stream_id (call, NULL if none): window is
 * given back now, or held while the call's message is over budget. */
void grpc_budget_window(nghttp2_session *ses, int32_t stream_id, struct grpc_call *call,
    size_t len);
/* The call goes: out of every waiting list. */
void grpc_budget_forget(struct grpc_call *call);

#endif
