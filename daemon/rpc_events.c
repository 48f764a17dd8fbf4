/*
 * The event bus. The events table is the log; a subscriber is a cursor
 * into it. After each commit every subscriber whose stream has room gets
 * the rows past its cursor; one whose stream is full stops receiving and,
 * once the client drained it, catches up from the table. So a slow reader
 * is never dropped and loses nothing, and replay-then-live has no gap and
 * no duplicate: both are the same query on seq.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "grpc.h"
#include "log.h"

#define SUB_BATCH 256
/* Events sent per loop iteration, all subscribers together: a thousand
 * subscribers replaying a long history are served a batch at a time, in
 * turn, across iterations, and every other client in between. */
#define PUSH_BUDGET 4096

struct sub {
	struct sub *next;
	uint64_t call_id;
	int64_t scanned;	/* every event with seq <= scanned was considered */
	int64_t after_ts;	/* replay: only events newer than this (ns) */
	char *id;		/* "" or one container */
	bool stored_only;
	int64_t end_seq;	/* stored_only: the last seq to send */
	bool blocked;
};

static struct sub *subs;
static int n_subs;
static int64_t committed_seq = -1;
static unsigned push_turn;	/* where the next round starts, for fairness */
static ev_timer more_w;		/* a round left work: the loop must not sleep */

int64_t
events_min_cursor(void)
{
	int64_t min = INT64_MAX;

	for (struct sub *s = subs; s != NULL; s = s->next)
		if (s->scanned < min)
			min = s->scanned;
	return min;
}

int
events_subscriber_count(void)
{
	return n_subs;
}

static void
sub_free(struct sub *s)
{
	log_debug("events: subscriber %llu gone (%d left)", (unsigned long long)s->call_id,
	    n_subs - 1);
	for (struct sub **pp = &subs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	n_subs--;
	free(s->id);
	free(s);
}

static struct sub *
sub_find(uint64_t call_id)
{
	for (struct sub *s = subs; s != NULL; s = s->next)
		if (s->call_id == call_id)
			return s;
	return NULL;
}

void
events_subscribe(uint64_t call_id, const Types__EventsRequest *req)
{
	struct sub *s;
	struct err e;
	int64_t ts = 0;

	if (committed_seq < 0)
		committed_seq = store_durable_seq(D.store);
	if (req->timestamp != NULL && (req->timestamp->seconds > 0 || req->timestamp->nanos > 0))
		ts = req->timestamp->seconds * 1000000000 + req->timestamp->nanos;
	else if (req->legacytimestamp > 0)
		ts = (int64_t)req->legacytimestamp * 1000000000;
	if (req->id[0] != '\0' && validate_id("container id", req->id, &e) < 0) {
		server_reply_error(call_id, &e);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL || (s->id = strdup(req->id)) == NULL) {
		free(s);
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		server_reply_error(call_id, &e);
		return;
	}
	s->call_id = call_id;
	s->after_ts = ts;
	/* From a time: straight to the first event after it, by the ts index
	 * (ts grows with seq), not a scan of the table from its start. */
	s->scanned = ts > 0 ? store_event_seek_ts(D.store, ts) : committed_seq;
	/* Stored only with no (or the zero) time: the whole history, as the
	 * 2017 daemon answered dockerd's restore query per container. */
	if (req->storedonly && ts == 0)
		s->scanned = 0;
	s->stored_only = req->storedonly;
	s->end_seq = committed_seq;
	s->next = subs;
	subs = s;
	n_subs++;
	log_debug("events: subscriber %llu (from %s, id '%s'%s), %d subscribers",
	    (unsigned long long)call_id, ts ? "a timestamp" : "now", s->id,
	    s->stored_only ? ", stored only" : "", n_subs);
}

void
events_call_closed(uint64_t call_id)
{
	struct sub *s = sub_find(call_id);

	if (s != NULL)
		sub_free(s);
}

void
events_call_drained(uint64_t call_id)
{
	struct sub *s = sub_find(call_id);

	if (s != NULL)
		s->blocked = false; /* the next events_push catches it up */
}

struct push_ctx {
	struct sub *s;
	struct grpc_call *call;
	int64_t limit_seq;
	int seen; /* rows visited, sent or not */
	int sent;
};

static int
push_one(void *arg, const struct store_event *ev)
{
	struct push_ctx *pc = arg;
	Types__Event msg = TYPES__EVENT__INIT;
	Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	uint8_t small[1024], *buf = small;
	size_t n;
	void *fixed;
	int rc;

	if (ev->seq > pc->limit_seq)
		return 1;
	pc->seen++;
	/* The daemon's own start marks the history (containerd-state, sqlite)
	 * but is no event of types.API: the 2017 daemon sent none, and dockerd
	 * logs every event with an empty id as one of an unknown container. */
	if (ev->container_id[0] == '\0' && strcmp(ev->type, "start-daemon") == 0) {
		pc->s->scanned = ev->seq;
		return 0;
	}
	msg.type = (char *)ev->type;
	msg.id = (char *)ev->container_id;
	msg.pid = (char *)ev->pid;
	msg.status = (uint32_t)ev->status;
	msg.legacytimestamp = (uint64_t)(ev->ts / 1000000000);
	t.seconds = ev->ts / 1000000000;
	t.nanos = (int32_t)(ev->ts % 1000000000);
	msg.timestamp = &t;
	/* A string an earlier release stored that is not UTF-8 goes out
	 * escaped, as in every other reply: a checking client (grpcio) would
	 * otherwise fail the whole stream on it. */
	fixed = reply_utf8_fix(&msg.base);
	n = types__event__get_packed_size(&msg);
	if (n > sizeof(small) && (buf = malloc(n)) == NULL) {
		reply_utf8_undo(fixed);
		return 2;	/* out of memory: the stream ends, INTERNAL */
	}
	types__event__pack(&msg, buf);
	reply_utf8_undo(fixed);
	rc = grpc_call_send(pc->call, buf, n);
	if (buf != small)
		free(buf);
	if (rc < 0)
		return 2;
	pc->s->scanned = ev->seq;
	pc->sent++;
	/* Room on the call, its connection and overall (lib/grpc.c). */
	if (!grpc_call_writable(pc->call)) {
		pc->s->blocked = true;
		return 1;
	}
	return 0;
}

/* Sends what s can take now, within *budget events; returns -1 when s is
 * finished and freed, 1 when it has more to send, 0 when it is caught up
 * (or blocked). */
static int
sub_push(struct sub *s, int *budget)
{
	struct grpc_call *call = grpc_call_find(s->call_id);
	int64_t limit = s->stored_only ? s->end_seq : committed_seq;
	struct err e;

	if (call == NULL) {
		sub_free(s);
		return -1;
	}
	while (!s->blocked && s->scanned < limit && *budget > 0) {
		struct push_ctx pc = { s, call, limit, 0, 0 };
		int64_t before = s->scanned;
		int rc = store_events_foreach(D.store, s->scanned, s->after_ts, s->id,
		    *budget < SUB_BATCH ? *budget : SUB_BATCH, push_one, &pc, &e);

		if (rc < 0 || rc == 2) {
			grpc_call_finish(call, GRPC_INTERNAL, rc < 0 ? e.msg : "send failed");
			sub_free(s);
			return -1;
		}
		if (pc.seen < (*budget < SUB_BATCH ? *budget : SUB_BATCH) && !s->blocked)
			s->scanned = limit; /* no more rows up to limit match */
		*budget -= pc.sent > 0 ? pc.sent : 1;
		if (s->scanned == before)
			break;
	}
	if (s->stored_only && !s->blocked && s->scanned >= s->end_seq) {
		grpc_call_finish(call, GRPC_OK, NULL);
		sub_free(s);
		return -1;
	}
	return !s->blocked && s->scanned < limit ? 1 : 0;
}

static void
more_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	/* Nothing here: server_before_sleep pushes again in this iteration. */
}

void
events_push(void)
{
	struct sub **v, *s;
	int n = 0, k, budget = PUSH_BUDGET;
	bool more = false;

	committed_seq = store_durable_seq(D.store);
	if (n_subs == 0)
		return;
	/* The round over a copy of the list: sub_push may free the one it
	 * serves, never another. */
	if ((v = malloc((size_t)n_subs * sizeof(*v))) == NULL)
		return; /* the next iteration tries again */
	for (s = subs; s != NULL && n < n_subs; s = s->next)
		v[n++] = s;
	for (k = 0; k < n; k++) {
		s = v[(push_turn + (unsigned)k) % (unsigned)n];
		if (s->blocked)
			continue;
		if (budget <= 0) {
			more = true;
			break;
		}
		more |= sub_push(s, &budget) > 0;
	}
	push_turn = (push_turn + (unsigned)k) % (unsigned)n;
	free(v);
	if (more && !ev_is_active(&more_w)) {
		ev_timer_init(&more_w, more_cb, 0., 0.);
		ev_timer_start(D.loop, &more_w);
	}
}
