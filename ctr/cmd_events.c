/*
 * ctr events: the daemon's event stream as a table (or JSON lines), one
 * line per event, flushed at once (scripts read it live).
 *
 * --since/--timestamp pick where the daemon's replay starts, --id is the
 * request's own filter; --until and --type are applied here, since the
 * API has no field for them. --until in the past asks for the stored
 * events only (the stream ends by itself); in the future, the read's
 * deadline is --until, so ctr exits when that moment comes.
 */
#include "ctr.h"

#include <string.h>

#include "google/protobuf/timestamp.pb-c.h"
#include "timefmt.h"
#include "utf8.h"

/* Fixed widths: a live table cannot measure rows that have not come yet. */
#define EV_ROW "%-31s %-17s %-21s %-11s %s\n"
#define EV_ROW_FMT "%-31s %-17s %-21s %-11s %u\n"

/* The types the daemon records (the 2017 ones, then checkpoints'). */
static const char *const event_types[] = {
	"start-container", "start-process", "exit", "oom", "pause", "resume",
	"create-checkpoint", "delete-checkpoint",
};
#define N_EVENT_TYPES (sizeof(event_types) / sizeof(event_types[0]))
#define EVENT_TYPES_TEXT "start-container, start-process, exit, oom, pause, " \
	"resume, create-checkpoint, delete-checkpoint"

int
ctr_event_header(FILE *f)
{
	fprintf(f, EV_ROW, "TIME", "TYPE", "ID", "PID", "STATUS");
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

/* The newer Timestamp, else the older seconds-only field; ns, clamped to
 * what an int64 holds (a daemon may send any seconds). */
static int64_t
event_ns(const Types__Event *ev)
{
	if (ev->timestamp != NULL && (ev->timestamp->seconds || ev->timestamp->nanos))
		return ctr_time_ns(ev->timestamp->seconds, ev->timestamp->nanos);
	return ctr_time_ns(ev->legacytimestamp > INT64_MAX ? INT64_MAX :
	    (int64_t)ev->legacytimestamp, 0);
}

int
ctr_event_print(FILE *f, const Types__Event *ev)
{
	char when[TIME_FMT_LEN];

	fprintf(f, EV_ROW_FMT, time_format(event_ns(ev), when), ev->type, ev->id,
	    ev->pid, ev->status);
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

/* One JSON object a line, the names containerd-state events --json uses.
 * Strings are made UTF-8 first (a byte that is not becomes U+FFFD):
 * jansson refuses anything else, and jq reads the result. */
static int
event_print_json(FILE *f, const Types__Event *ev)
{
	char when[TIME_FMT_LEN];
	char *type = utf8_sanitize(ev->type), *id = utf8_sanitize(ev->id),
	     *pid = utf8_sanitize(ev->pid);
	json_t *j = NULL;
	int rc = -1;

	if (type != NULL && id != NULL && pid != NULL)
		j = json_pack("{s:s, s:s, s:s, s:s, s:I}", "time",
		    time_format(event_ns(ev), when), "type", type, "id", id,
		    "pid", pid, "status", (json_int_t)ev->status);
	if (j != NULL && json_dumpf(j, f, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0 &&
	    fputc('\n', f) != EOF && fflush(f) == 0 && !ferror(f))
		rc = 0;
	json_decref(j);
	free(type);
	free(id);
	free(pid);
	return rc;
}

static const struct ctr_opt events_opts[] = {
	{ "since", 's', CTR_OPT_STRING, NULL,
	    "replay the stored events at or after T first (RFC 3339, or a "
	    "duration ago: 10m)" },
	{ "timestamp", 't', CTR_OPT_STRING, NULL,
	    "the old --since: the stored events after T (not at it: resume from "
	    "the last time seen); T may also be seconds since the epoch" },
	{ "until", 'u', CTR_OPT_STRING, NULL,
	    "no event after T; exit at T (at once with the stored events when "
	    "T has passed)" },
	{ "type", 0, CTR_OPT_LIST, NULL,
	    "only events of this type (repeat it, or a comma-separated list)" },
	{ "id", 0, CTR_OPT_STRING, NULL, "only this container's events" },
	{ "stored-only", 0, CTR_OPT_BOOL, NULL,
	    "end after the stored events (all of them without --since)" },
	{ "json", 0, CTR_OPT_BOOL, NULL,
	    "one JSON object a line: {time, type, id, pid, status}" },
	{ NULL, 0, 0, NULL, NULL },
};

struct events_filter {
	bool by_type[N_EVENT_TYPES];
	bool any_type;		/* no --type: every type, known or not */
	int64_t since;		/* events before it are not printed; 0: none */
	int64_t until;		/* ... nor after it; 0: no bound */
	const char *id;
	bool json;
	bool stored_only;	/* the stream ends by itself: no deadline */
};

/* --type values into f->by_type; -1 with a usage error printed. */
static int
types_parse(const struct ctr_args *a, struct events_filter *f, int *rc)
{
	size_t n, k, len;
	const char **v = ctr_arg_list(a, "type", &n), **end;
	const char *p, *comma;

	f->any_type = n == 0;
	for (end = v + n; v < end; v++)
		for (p = *v;; p = comma + 1) {
			comma = strchr(p, ',');
			len = comma ? (size_t)(comma - p) : strlen(p);
			for (k = 0; k < N_EVENT_TYPES; k++)
				if (strlen(event_types[k]) == len &&
				    strncmp(event_types[k], p, len) == 0)
					break;
			if (k == N_EVENT_TYPES) {
				*rc = ctr_usage_error(a, "unknown event type \"%.*s\": "
				    "want one of " EVENT_TYPES_TEXT, (int)len, p);
				return -1;
			}
			f->by_type[k] = true;
			if (comma == NULL)
				break;
		}
	return 0;
}

static bool
wanted(const struct events_filter *f, const Types__Event *ev, int64_t ns)
{
	size_t k;

	if (f->since != 0 && ns < f->since)
		return false;
	if (f->id != NULL && strcmp(ev->id, f->id) != 0)
		return false;
	if (f->any_type)
		return true;
	for (k = 0; k < N_EVENT_TYPES; k++)
		if (f->by_type[k] && strcmp(ev->type, event_types[k]) == 0)
			return true;
	return false;
}

/* The flags into the request and the filter; -1 and *rc on a usage error. */
static int
events_flags(const struct ctr_args *a, Types__EventsRequest *req,
    Google__Protobuf__Timestamp *ts, struct events_filter *f, int *rc)
{
	const char *since = ctr_arg_str(a, "since"), *old = ctr_arg_str(a, "timestamp");
	const char *until = ctr_arg_str(a, "until");
	int64_t now = time_now_ns(), from = 0;

	if (since != NULL && old != NULL) {
		*rc = ctr_usage_error(a, "--since and --timestamp are one flag "
		    "(--timestamp is its old name): give one");
		return -1;
	}
	if (since != NULL) {
		if (time_parse(since, now, &f->since) < 0)
			goto bad_since;
		/* The daemon replays what is newer than the time it is given. */
		from = f->since > INT64_MIN ? f->since - 1 : f->since;
	} else if (old != NULL) {
		if (ctr_time_parse(old, now, &from) < 0) {
			since = old;
			goto bad_since;
		}
		f->since = from < INT64_MAX ? from + 1 : from;
	}
	if (until != NULL) {
		if (time_parse(until, now, &f->until) < 0) {
			*rc = ctr_usage_error(a, "invalid --until \"%s\": want RFC 3339 "
			    "(2024-05-01T10:00:00Z) or a duration ago (10m, 1h30m)", until);
			return -1;
		}
		if ((since != NULL || old != NULL) && f->until < f->since) {
			*rc = ctr_usage_error(a, "--until %s is before --since %s",
			    until, since ? since : old);
			return -1;
		}
		if (f->until <= 0)
			f->until = 1;
		/* Passed: the stored events are all there is to print. */
		if (f->until <= now)
			req->storedonly = true;
	}
	if (types_parse(a, f, rc) < 0)
		return -1;
	if (since != NULL || old != NULL || req->storedonly) {
		/* 1 ns rather than the zero time, which the daemon reads as
		 * "no timestamp" (live events only). */
		if (from < 1)
			from = 1;
		/* Both API generations: older daemons read seconds in field 1. */
		req->legacytimestamp = (uint64_t)(from / 1000000000);
		ctr_timestamp_set(ts, from);
		req->timestamp = ts;
	}
	if (ctr_arg_isset(a, "id"))
		req->id = (char *)(f->id = ctr_arg_str(a, "id"));
	if (ctr_arg_bool(a, "stored-only"))
		req->storedonly = true;
	f->json = ctr_arg_bool(a, "json");
	f->stored_only = req->storedonly;
	return 0;

bad_since:
	*rc = ctr_usage_error(a, "invalid --%s \"%s\": want RFC 3339 "
	    "(2024-05-01T10:00:00Z) or a duration ago (10m, 1h30m)%s",
	    old != NULL ? "timestamp" : "since", since,
	    old != NULL ? " or seconds since the epoch" : "");
	return -1;
}

/* The next event, waiting no later than f->until for a live one: 1, 0 at
 * the stream's end or at --until, -1 on error. */
static int
next_event(struct grpc_stream *st, const struct events_filter *f, Types__Event **ev,
    struct err *e)
{
	int64_t left_ms;
	int rc;

	if (f->until == 0 || f->stored_only)
		return ctr_events_next(st, ev, 0, e);
	/* Rounded up: the deadline falls at or just after --until. A far
	 * --until is waited for a day at a time (the timeout is an int). */
	while ((left_ms = (f->until - time_now_ns() + 999999) / 1000000) > 0) {
		rc = ctr_events_next(st, ev, left_ms > 86400000 ? 86400000 : (int)left_ms, e);
		if (rc >= 0 || e->code != GRPC_DEADLINE_EXCEEDED)
			return rc;
	}
	return 0;
}

static int
events_run(struct ctr *c, const struct ctr_args *a)
{
	Types__EventsRequest req = TYPES__EVENTS_REQUEST__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct events_filter f = { 0 };
	struct grpc_client *cl;
	struct grpc_stream *st;
	Types__Event *ev;
	struct err e;
	int64_t ns;
	int rc;

	if (events_flags(a, &req, &ts, &f, &rc) < 0)
		return rc;
	if ((st = ctr_events_open(c, &req, &cl, &e)) == NULL)
		return ctr_fail(&e);
	if (!f.json && ctr_event_header(stdout) < 0)
		rc = -2;
	else
		while ((rc = next_event(st, &f, &ev, &e)) > 0) {
			ns = event_ns(ev);
			/* Times strictly increase: nothing later can be wanted. */
			if (f.until != 0 && ns > f.until) {
				types__event__free_unpacked(ev, NULL);
				rc = 0;
				break;
			}
			if (wanted(&f, ev, ns) &&
			    (f.json ? event_print_json(stdout, ev) : ctr_event_print(stdout, ev)) < 0)
				rc = -2;
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
	.epilog =
	    "T is an RFC 3339 time (2024-05-01T10:00:00Z, 2024-05-01T12:00:00.5+02:00)\n"
	    "or a duration meaning that long ago (30s, 10m, 1h30m), as in\n"
	    "containerd-state events. Times print in UTC with nine fraction digits,\n"
	    "fixed width (2024-05-01T10:00:00.000000000Z). Without --since, only\n"
	    "events from now on; without --until (or --stored-only), until interrupted.\n"
	    "Event types: start-container, start-process, exit, oom, pause, resume,\n"
	    "create-checkpoint, delete-checkpoint.\n",
};
