/*
 * ctr events: the daemon's event stream as a table, one line per event,
 * flushed at once (scripts read it live).
 */
#include "ctr.h"

#include "google/protobuf/timestamp.pb-c.h"

/* Fixed widths: a live table cannot measure rows that have not come yet. */
#define EV_ROW "%-31s %-17s %-21s %-11s %s\n"
#define EV_ROW_FMT "%-31s %-17s %-21s %-11s %u\n"

int
ctr_event_header(FILE *f)
{
	fprintf(f, EV_ROW, "TIME", "TYPE", "ID", "PID", "STATUS");
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

int
ctr_event_print(FILE *f, const Types__Event *ev)
{
	char when[64];

	/* The newer Timestamp, else the older seconds-only field. */
	if (ev->timestamp != NULL && (ev->timestamp->seconds || ev->timestamp->nanos))
		ctr_time_format(ev->timestamp->seconds, ev->timestamp->nanos,
		    when, sizeof(when));
	else
		ctr_time_format((int64_t)ev->legacytimestamp, 0, when, sizeof(when));
	fprintf(f, EV_ROW_FMT, when, ev->type, ev->id, ev->pid, ev->status);
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

static const struct ctr_opt events_opts[] = {
	{ "timestamp", 't', CTR_OPT_STRING, NULL,
	    "replay the stored events newer than this time (RFC 3339) first" },
	{ "id", 0, CTR_OPT_STRING, NULL, "only this container's events" },
	{ "stored-only", 0, CTR_OPT_BOOL, NULL,
	    "end after the stored events (all of them without --timestamp)" },
	{ NULL, 0, 0, NULL, NULL },
};

static int
events_run(struct ctr *c, const struct ctr_args *a)
{
	Types__EventsRequest req = TYPES__EVENTS_REQUEST__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	const char *t = ctr_arg_str(a, "timestamp");
	struct grpc_client *cl;
	struct grpc_stream *st;
	Types__Event *ev;
	struct err e;
	int64_t sec;
	int32_t nsec;
	int rc;

	if (t != NULL) {
		if (ctr_time_parse(t, &sec, &nsec) < 0)
			return ctr_usage_error(a, "invalid --timestamp \"%s\": want "
			    "RFC 3339 like 2017-01-02T15:04:05Z", t);
		/* Both API generations: older daemons read seconds in field 1. */
		req.legacytimestamp = sec > 0 ? (uint64_t)sec : 0;
		ts.seconds = sec;
		ts.nanos = nsec;
		req.timestamp = &ts;
	}
	if (ctr_arg_isset(a, "id"))
		req.id = (char *)ctr_arg_str(a, "id");
	req.storedonly = ctr_arg_bool(a, "stored-only");
	if ((st = ctr_events_open(c, &req, &cl, &e)) == NULL)
		return ctr_fail(&e);
	if (ctr_event_header(stdout) < 0)
		rc = -2;
	else
		while ((rc = ctr_events_next(st, &ev, 0, &e)) > 0) {
			rc = ctr_event_print(stdout, ev) < 0 ? -2 : rc;
			types__event__free_unpacked(ev, NULL);
			if (rc < 0)
				break;
		}
	grpc_stream_free(st);
	grpc_client_free(cl);
	if (rc == -2)
		return ctr_stdout_failed();
	return rc < 0 ? ctr_fail(&e) : 0;
}

const struct ctr_cmd cmd_events = {
	.name = "events",
	.summary = "print the daemon's events: TIME TYPE ID PID STATUS",
	.opts = events_opts,
	.max_args = 0,
	.run = events_run,
};
