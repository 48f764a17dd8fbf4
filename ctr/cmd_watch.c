/*
 * ctr containers watch [ID]: prints events (one container's, or all) until
 * that container's init exits; without ID, until interrupted.
 */
#include "ctr.h"

#include <string.h>
#include <time.h>

#include "google/protobuf/timestamp.pb-c.h"

static int
watch_run(struct ctr *c, const struct ctr_args *a)
{
	Types__EventsRequest req = TYPES__EVENTS_REQUEST__INIT;
	Types__StateRequest sreq = TYPES__STATE_REQUEST__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	const char *id = a->argc > 0 ? a->argv[0] : NULL;
	ProtobufCMessage *state;
	struct grpc_client *cl;
	struct grpc_stream *st;
	struct timespec now;
	Types__Event *ev;
	struct err e;
	bool done = false;
	int rc = 0;

	if (id != NULL) {
		/* Replaying from just before the State call means an exit
		 * between the call and the subscription is still seen. */
		clock_gettime(CLOCK_REALTIME, &now);
		ts.seconds = now.tv_sec;
		ts.nanos = (int32_t)now.tv_nsec;
		req.timestamp = &ts;
		req.legacytimestamp = (uint64_t)now.tv_sec;
		req.id = (char *)id;
		sreq.id = (char *)id;
		if (ctr_call(c, "State", &sreq.base,
		    &types__state_response__descriptor, &state, &e) < 0)
			return ctr_fail(&e);
		protobuf_c_message_free_unpacked(state, NULL);
	}
	if ((st = ctr_events_open(c, &req, &cl, &e)) == NULL)
		return ctr_fail(&e);
	if (ctr_event_header(stdout) < 0)
		rc = -2;
	/* rc: 1 an event, 0 the stream ended, -1 an error, -2 stdout failed. */
	while (!done && (rc = ctr_events_next(st, &ev, 0, &e)) > 0) {
		if (id == NULL || strcmp(ev->id, id) == 0) {
			if (ctr_event_print(stdout, ev) < 0) {
				rc = -2;
				types__event__free_unpacked(ev, NULL);
				break;
			}
			done = id != NULL && strcmp(ev->type, "exit") == 0 &&
			    strcmp(ev->pid, "init") == 0;
		}
		types__event__free_unpacked(ev, NULL);
	}
	grpc_stream_free(st);
	grpc_client_free(cl);
	if (rc == -2)
		return ctr_stdout_failed();
	if (done)
		return 0;
	return rc < 0 ? ctr_fail(&e) : 0;
}

const struct ctr_cmd cmd_containers_watch = {
	.name = "watch",
	.args = "[ID]",
	.summary = "print events until the container's init exits (all "
	    "containers' events without ID)",
	.max_args = 1,
	.run = watch_run,
};
