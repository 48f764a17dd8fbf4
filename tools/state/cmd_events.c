/* events: the event history from the table, as a table or JSON lines. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "state.h"
#include "validate.h"

/* The same columns as `ctr events`; times here are UTC, always 9 digits. */
#define EVENTS_ROW "%-31s %-17s %-21s %-11s %s\n"

struct events_opts {
	struct store_event_filter f;
	bool json;
	const char *since, *until;	/* as given, for messages */
};

static int
events_flag(void *arg, int opt, const char *v)
{
	struct events_opts *o = arg;
	int64_t now = now_ns();
	struct err e;

	switch (opt) {
	case 's':
		if (state_time_parse(v, now, &o->f.since) < 0)
			return state_usage_error(&state_cmd_events, "invalid --since \"%s\": want RFC"
			    " 3339 (2024-05-01T10:00:00Z) or a duration ago (10m, 1h30m)", v);
		o->since = v;
		break;
	case 'u':
		if (state_time_parse(v, now, &o->f.until) < 0)
			return state_usage_error(&state_cmd_events, "invalid --until \"%s\": want RFC"
			    " 3339 (2024-05-01T10:00:00Z) or a duration ago (10m, 1h30m)", v);
		if (o->f.until <= 0)
			o->f.until = 1; /* 0 means "no bound" to the query */
		o->until = v;
		break;
	case 'i':
		if (validate_id("--id", v, &e) < 0)
			return state_usage_error(&state_cmd_events, "%s", e.msg);
		o->f.container_id = v;
		break;
	case 't':
		if (*v == '\0')
			return state_usage_error(&state_cmd_events, "--type is empty");
		o->f.type = v;
		break;
	case 'j':
		o->json = true;
		break;
	}
	return 0;
}

static int
event_line_cb(void *arg, const struct store_event *ev)
{
	struct events_opts *o = arg;
	char when[STATE_TIME_LEN], occurred[STATE_TIME_LEN], status[24];

	state_time_format(ev->ts, when);
	if (o->json) {
		json_t *j;

		state_time_format(ev->occurred_at, occurred);
		j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:s}", "seq", (json_int_t)ev->seq,
		    "time", when, "type", ev->type, "id", ev->container_id, "pid", ev->pid,
		    "status", (json_int_t)ev->status, "occurred", occurred);

		if (j == NULL)
			state_oom();
		json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(j);
	} else {
		snprintf(status, sizeof(status), "%lld", (long long)ev->status);
		printf(EVENTS_ROW, when, ev->type, ev->container_id, ev->pid, status);
	}
	return ferror(stdout) ? -1 : 0;
}

static int
events_run(struct state_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "id", required_argument, NULL, 'i' },
		{ "type", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		STATE_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct events_opts o = { 0 };
	struct store_query *q;
	struct err e = { 0 };
	int rc;

	if ((rc = state_parse_flags(ctx, &state_cmd_events, argc, argv, opts, events_flag,
		 &o)) != 0)
		return rc > 0 ? 0 : 1;
	if (o.since != NULL && o.until != NULL && o.f.until < o.f.since) {
		state_usage_error(&state_cmd_events, "--until %s is before --since %s", o.until,
		    o.since);
		return 1;
	}
	if ((q = state_open(ctx)) == NULL)
		return 1;
	if (!o.json)
		printf(EVENTS_ROW, "TIME", "TYPE", "ID", "PID", "STATUS");
	rc = store_query_events(q, &o.f, event_line_cb, &o, &e);
	if (rc < 0 && e.msg[0] != '\0')
		return state_fail("%s", e.msg);
	return state_flush();
}

const struct state_cmd state_cmd_events = {
	.name = "events",
	.usage = "[--since T] [--until T] [--id ID] [--type TYPE] [--json]",
	.summary = "print the event history: TIME TYPE ID PID STATUS",
	.options = (const struct helpdoc_flag[]){
	    { "--since T", "only events at or after T" },
	    { "--until T", "only events at or before T" },
	    { "--id ID", "only this container's events" },
	    { "--type TYPE",
		"only events of this type (start-container, start-process,\n"
		"exit, oom, pause, resume, create-checkpoint, ...)" },
	    { "--json",
		"one JSON object a line: {seq, time, type, id, pid, status,\n"
		"occurred}" },
	    { NULL, NULL },
	},
	.help =
	    "T is an RFC 3339 time (2024-05-01T10:00:00Z, 2024-05-01T12:00:00.5+02:00) or a\n"
	    "duration meaning that long ago (30s, 10m, 1h30m). Times print in UTC with\n"
	    "nanoseconds. The events come in the order they were recorded (seq).\n"
	    "\n"
	    "TIME is when the daemon recorded the event: it strictly increases with seq,\n"
	    "so it is an exact resume point (ctr events --timestamp T: every event after\n"
	    "T). \"occurred\" is when it happened by its source: for an exit, the shim's\n"
	    "time of the exit (the process row's exitedAt), which can be earlier than\n"
	    "events recorded before it.\n",
	.run = events_run,
};
