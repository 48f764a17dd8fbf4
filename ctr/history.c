/*
 * history: what a container's events say, for the verbs that need more than
 * State gives: when it was started (State has no time), and its init's exit
 * (stop and wait wait for it; wait reads it back once the container is gone).
 */
#include "ctr.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "google/protobuf/timestamp.pb-c.h"

struct ctr_exit_watch {
	char *id;
	struct grpc_client *cl;
	struct grpc_stream *st;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
event_time(const Types__Event *ev, int64_t *sec, int32_t *nsec)
{
	if (ev->timestamp != NULL && (ev->timestamp->seconds || ev->timestamp->nanos)) {
		*sec = ev->timestamp->seconds;
		*nsec = ev->timestamp->nanos;
	} else {
		*sec = (int64_t)ev->legacytimestamp;
		*nsec = 0;
	}
}

static bool
is_init_exit(const Types__Event *ev, const char *id)
{
	return strcmp(ev->type, "exit") == 0 && strcmp(ev->id, id) == 0 &&
	    strcmp(ev->pid, "init") == 0;
}

int
ctr_history_lookup(struct ctr *c, const char *id, int timeout_ms,
    struct ctr_history *h, struct err *e)
{
	Types__EventsRequest req = TYPES__EVENTS_REQUEST__INIT;
	int64_t deadline = mono_ms() + timeout_ms;
	struct grpc_client *cl;
	struct grpc_stream *st;
	Types__Event *ev;
	int rc;

	memset(h, 0, sizeof(*h));
	/* Stored only, no time: the whole stored history of id, then the
	 * stream ends. The last of each kind is the current incarnation's
	 * (an id is reused once its init's exit went out). */
	req.id = (char *)id;
	req.storedonly = true;
	if ((st = ctr_events_open(c, &req, &cl, e)) == NULL)
		return -1;
	for (;;) {
		int left = timeout_ms > 0 ? (int)(deadline - mono_ms()) : 0;

		if (timeout_ms > 0 && left <= 0) {
			rc = err_set(e, GRPC_DEADLINE_EXCEEDED, "the history of %s "
			    "took more than %d ms", id, timeout_ms);
			break;
		}
		if ((rc = ctr_events_next(st, &ev, left, e)) <= 0)
			break;
		if (strcmp(ev->id, id) == 0 && strcmp(ev->type, "start-container") == 0) {
			h->started = true;
			event_time(ev, &h->start_sec, &h->start_nsec);
		} else if (is_init_exit(ev, id)) {
			h->exited = true;
			h->exit_status = ev->status;
			event_time(ev, &h->exit_sec, &h->exit_nsec);
		}
		types__event__free_unpacked(ev, NULL);
	}
	grpc_stream_free(st);
	grpc_client_free(cl);
	return rc < 0 ? -1 : 0;
}

struct ctr_exit_watch *
ctr_exit_watch_new(struct ctr *c, const char *id, bool *gone, struct err *e)
{
	Types__EventsRequest req = TYPES__EVENTS_REQUEST__INIT;
	Types__StateRequest sreq = TYPES__STATE_REQUEST__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct ctr_exit_watch *w;
	ProtobufCMessage *state;
	struct timespec now;

	*gone = false;
	if ((w = calloc(1, sizeof(*w))) == NULL || (w->id = strdup(id)) == NULL) {
		free(w);
		err_set(e, GRPC_INTERNAL, "out of memory");
		return NULL;
	}
	/* Replaying from just before the State call: an exit between the
	 * two is still seen (it is recorded after the container left State). */
	clock_gettime(CLOCK_REALTIME, &now);
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t)now.tv_nsec;
	req.timestamp = &ts;
	req.legacytimestamp = (uint64_t)now.tv_sec;
	req.id = (char *)id;
	if ((w->st = ctr_events_open(c, &req, &w->cl, e)) == NULL)
		goto fail;
	sreq.id = (char *)id;
	if (ctr_call(c, "State", &sreq.base, &types__state_response__descriptor,
	    &state, e) < 0) {
		if (e->code == GRPC_NOT_FOUND)
			*gone = true;
		goto fail;
	}
	protobuf_c_message_free_unpacked(state, NULL);
	return w;
fail:
	ctr_exit_watch_free(w);
	return NULL;
}

int
ctr_exit_watch_wait(struct ctr_exit_watch *w, int timeout_ms, uint32_t *status,
    struct err *e)
{
	int64_t deadline = mono_ms() + timeout_ms;
	Types__Event *ev;
	bool done;
	int rc;

	for (;;) {
		int left = timeout_ms >= 0 ? (int)(deadline - mono_ms()) : 0;

		if (timeout_ms >= 0 && left <= 0)
			return 0;
		if ((rc = ctr_events_next(w->st, &ev, left, e)) < 0)
			return timeout_ms >= 0 && e->code == GRPC_DEADLINE_EXCEEDED ? 0 : -1;
		if (rc == 0)
			return err_set(e, GRPC_UNAVAILABLE, "the daemon ended the "
			    "event stream before %s exited", w->id);
		done = is_init_exit(ev, w->id);
		if (done)
			*status = ev->status;
		types__event__free_unpacked(ev, NULL);
		if (done)
			return 1;
	}
}

void
ctr_exit_watch_free(struct ctr_exit_watch *w)
{
	if (w == NULL)
		return;
	grpc_stream_free(w->st);
	grpc_client_free(w->cl);
	free(w->id);
	free(w);
}
