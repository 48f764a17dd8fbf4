/*
 * grpc_budget: how much a client can make the server core hold (see
 * grpc_core.h): stream windows given back only while partial messages fit
 * the connection's and the global budgets, and streams fed only while
 * queued output does.
 */
#include <stddef.h>

#include "grpc_core.h"

/* Over every connection. */
static size_t total_in, total_out;
static struct grpc_call *owed_global, *room_global;	/* held by the totals */

#define OWED offsetof(struct grpc_call, owed_q)
#define ROOM offsetof(struct grpc_call, room_q)

#define QLINK(call, off) ((struct qlink *)((char *)(call) + (off)))

static void
q_del(struct grpc_call *call, size_t off)
{
	struct qlink *l = QLINK(call, off);

	if (l->head == NULL)
		return;
	if (l->prev != NULL)
		QLINK(l->prev, off)->next = l->next;
	else
		*l->head = l->next;
	if (l->next != NULL)
		QLINK(l->next, off)->prev = l->prev;
	l->prev = l->next = NULL;
	l->head = NULL;
}

static void
q_add(struct grpc_call **head, struct grpc_call *call, size_t off)
{
	struct qlink *l = QLINK(call, off);

	if (l->head == head)
		return;
	q_del(call, off);
	l->next = *head;
	if (*head != NULL)
		QLINK(*head, off)->prev = call;
	*head = call;
	l->head = head;
}

static bool
in_conn_over(const struct grpc_conn *c)
{
	return c->in_bytes > c->max_msg + IN_SLACK;
}

/* Gives held-back stream windows of the calls in *head back where the
 * budgets allow now (the WINDOW_UPDATE goes with the connection's next
 * output); a call still held waits in the list of what holds it. Each
 * call is looked at once per change of its lot, not at every message. */
static void
in_repay(struct grpc_call **head)
{
	struct grpc_call *call, *next;

	for (call = *head; call != NULL; call = next) {
		next = call->owed_q.next;
		if (in_conn_over(call->conn)) {
			q_add(&call->conn->owed_head, call, OWED);
			continue;
		}
		if (total_in > IN_TOTAL) {
			q_add(&owed_global, call, OWED);
			continue;
		}
		if (call->conn->ses != NULL && !call->closed)
			nghttp2_session_consume_stream(call->conn->ses, call->stream_id,
			    call->owed);
		call->owed = 0;
		q_del(call, OWED);
	}
}

/* call->in changed size: the totals follow. */
void
grpc_call_in_sync(struct grpc_call *call)
{
	struct grpc_conn *c = call->conn;
	size_t now = gbuf_used(&call->in), was = call->in_counted;

	c->in_bytes = c->in_bytes - was + now;
	total_in = total_in - was + now;
	call->in_counted = now;
	if (now >= was)
		return;
	if (c->owed_head != NULL && !in_conn_over(c))
		in_repay(&c->owed_head);
	if (owed_global != NULL && total_in <= IN_TOTAL)
		in_repay(&owed_global);
}

/* Calls refused for want of room hear `drained` once what held them is
 * down to half its budget. */
static void
out_wake(struct grpc_call **head)
{
	struct grpc_call *call;

	while ((call = *head) != NULL) {
		q_del(call, ROOM);
		if (!call->closed)
			grpc_drain_note(call->conn, call->id);
	}
}

/* call->out changed size: the totals follow. */
void
grpc_call_out_sync(struct grpc_call *call)
{
	struct grpc_conn *c = call->conn;
	size_t now = gbuf_used(&call->out), was = call->out_counted;

	c->out_queued = c->out_queued - was + now;
	total_out = total_out - was + now;
	call->out_counted = now;
	if (now >= was)
		return;
	if (c->room_head != NULL && c->out_queued <= CONN_OUT_HIGH / 2)
		out_wake(&c->room_head);
	if (room_global != NULL && total_out <= OUT_TOTAL / 2)
		out_wake(&room_global);
}

bool
grpc_call_writable(struct grpc_call *call)
{
	const struct grpc_conn *c = call->conn;

	if (gbuf_used(&call->out) > CALL_OUT_HIGH) {
		call->above_low = true; /* `drained` below GRPC_LOW_WATER */
		return false;
	}
	if (c->out_queued > CONN_OUT_HIGH) {
		q_add(&call->conn->room_head, call, ROOM);
		return false;
	}
	if (total_out > OUT_TOTAL) {
		q_add(&room_global, call, ROOM);
		return false;
	}
	return true;
}

void
grpc_budget_window(nghttp2_session *ses, int32_t stream_id, struct grpc_call *call, size_t len)
{
	/* The connection's window always: the other calls go on. */
	nghttp2_session_consume_connection(ses, len);
	/* The stream's only while its message fits the budgets. */
	if (call != NULL && call->state == CALL_RECV &&
	    (in_conn_over(call->conn) || total_in > IN_TOTAL)) {
		call->owed += len;
		q_add(in_conn_over(call->conn) ? &call->conn->owed_head : &owed_global, call,
		    OWED);
	} else {
		nghttp2_session_consume_stream(ses, stream_id, len);
	}
}

void
grpc_budget_forget(struct grpc_call *call)
{
	q_del(call, OWED);
	q_del(call, ROOM);
}
