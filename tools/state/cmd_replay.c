/*
 * replay: rebuild every container's state from the events alone, then
 * compare it with the tables (or, with --until, print it as it was then).
 *
 * The daemon writes each state change and its event in one transaction, so
 * the two must agree; the rules for what is legitimately not in both are in
 * the verb's help below.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "validate.h"

enum r_status { R_UNKNOWN, R_RUNNING, R_PAUSED, R_STOPPED, R_DELETED };

static const char *const r_status_name[] = {
	[R_UNKNOWN] = "unknown",
	[R_RUNNING] = "running",
	[R_PAUSED] = "paused",
	[R_STOPPED] = "stopped",
	[R_DELETED] = "deleted",
};

struct r_proc {
	char *name;
	bool exited;
	int64_t status;			/* exit status once exited */
	int64_t seq;			/* the event that set this state */
	bool matched;			/* a row was compared with it */
	struct r_proc *next;
};

struct r_ctr {
	char *id;
	enum r_status status;
	bool started;			/* a start-container was seen */
	int64_t start_ts, start_seq;	/* the last start-container */
	int64_t last_seq;		/* the last event about it */
	bool matched;
	struct r_proc *procs;
	struct r_ctr *next;		/* first seen first */
	struct r_ctr *hnext;
};

struct r_ckpt {
	char *cid, *name;
	int64_t seq;
	bool matched;
	struct r_ckpt *next;
};

struct r_unknown {
	char *type;
	int64_t count;
	struct r_unknown *next;
};

#define R_BUCKETS 1024

struct replay {
	struct bag bag;
	struct r_ctr *ctrs, *tail;
	struct r_ctr *bucket[R_BUCKETS];
	struct r_ckpt *ckpts;
	struct r_unknown *unknown;
	int64_t n_events;
	/* comparison */
	struct store_query *q;
	struct r_ctr *cur;		/* the container whose rows are being compared */
	int64_t n_diffs, n_skipped, n_ctrs;
	struct err e;
};

static unsigned
hash_id(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % R_BUCKETS;
}

static struct r_ctr *
ctr_find(struct replay *r, const char *id)
{
	for (struct r_ctr *c = r->bucket[hash_id(id)]; c != NULL; c = c->hnext)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

static struct r_ctr *
ctr_get(struct replay *r, const char *id)
{
	struct r_ctr *c = ctr_find(r, id);
	unsigned h;

	if (c != NULL)
		return c;
	c = bag_alloc(&r->bag, sizeof(*c));
	c->id = bag_strdup(&r->bag, id);
	h = hash_id(id);
	c->hnext = r->bucket[h];
	r->bucket[h] = c;
	if (r->tail != NULL)
		r->tail->next = c;
	else
		r->ctrs = c;
	r->tail = c;
	return c;
}

static struct r_proc *
proc_find(struct r_ctr *c, const char *name)
{
	for (struct r_proc *p = c->procs; p != NULL; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static struct r_proc *
proc_get(struct replay *r, struct r_ctr *c, const char *name)
{
	struct r_proc *p = proc_find(c, name), **tail;

	if (p != NULL)
		return p;
	p = bag_alloc(&r->bag, sizeof(*p));
	p->name = bag_strdup(&r->bag, name);
	for (tail = &c->procs; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = p;
	return p;
}

static struct r_ckpt **
ckpt_find(struct replay *r, const char *cid, const char *name)
{
	struct r_ckpt **pp;

	for (pp = &r->ckpts; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->cid, cid) == 0 && strcmp((*pp)->name, name) == 0)
			break;
	return pp;
}

static void
note_unknown(struct replay *r, const char *type)
{
	struct r_unknown *u;

	for (u = r->unknown; u != NULL; u = u->next)
		if (strcmp(u->type, type) == 0)
			break;
	if (u == NULL) {
		u = bag_alloc(&r->bag, sizeof(*u));
		u->type = bag_strdup(&r->bag, type);
		u->next = r->unknown;
		r->unknown = u;
	}
	u->count++;
}

/* One event, in seq order. */
static int
replay_event_cb(void *arg, const struct store_event *ev)
{
	struct replay *r = arg;
	const char *pid = *ev->pid != '\0' ? ev->pid : "init";
	struct r_ctr *c;
	struct r_proc *p;

	r->n_events++;
	if (strcmp(ev->type, "create-checkpoint") == 0 ||
	    strcmp(ev->type, "delete-checkpoint") == 0) {
		struct r_ckpt **pp = ckpt_find(r, ev->container_id, ev->pid);

		if (ev->type[0] == 'c' && *pp == NULL) {
			*pp = bag_alloc(&r->bag, sizeof(**pp));
			(*pp)->cid = bag_strdup(&r->bag, ev->container_id);
			(*pp)->name = bag_strdup(&r->bag, ev->pid);
		} else if (ev->type[0] == 'd' && *pp != NULL) {
			*pp = (*pp)->next;
			return 0;
		}
		if (*pp != NULL)
			(*pp)->seq = ev->seq;
		return 0;
	}
	if (strcmp(ev->type, "start-daemon") == 0)
		return 0; /* the daemon's own: nothing to rebuild */
	if (*ev->container_id == '\0') {
		note_unknown(r, ev->type); /* not about a container: nothing to rebuild */
		return 0;
	}
	c = ctr_get(r, ev->container_id);
	c->last_seq = ev->seq;
	if (strcmp(ev->type, "start-container") == 0) {
		/* A new life for the id: earlier rows gave way to this one. */
		c->procs = NULL;
		c->status = R_RUNNING;
		c->started = true;
		c->start_ts = ev->ts;
		c->start_seq = ev->seq;
		p = proc_get(r, c, pid);
		p->seq = ev->seq;
	} else if (strcmp(ev->type, "start-process") == 0) {
		p = proc_get(r, c, pid);
		p->exited = false;
		p->status = 0;
		p->seq = ev->seq;
	} else if (strcmp(ev->type, "exit") == 0) {
		p = proc_get(r, c, pid);
		p->exited = true;
		p->status = ev->status;
		p->seq = ev->seq;
		if (strcmp(pid, "init") == 0 && c->status != R_DELETED)
			c->status = R_STOPPED;
	} else if (strcmp(ev->type, "pause") == 0 || strcmp(ev->type, "resume") == 0) {
		if (c->status != R_STOPPED && c->status != R_DELETED)
			c->status = ev->type[0] == 'p' ? R_PAUSED : R_RUNNING;
	} else if (strcmp(ev->type, "delete-container") == 0) {
		c->status = R_DELETED;
		c->procs = NULL;
	} else if (strcmp(ev->type, "oom") != 0) {
		note_unknown(r, ev->type);
	}
	return 0;
}

/* ---------------------------------------------------------------- compare */

static void
diff(struct replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
diff(struct replay *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	r->n_diffs++;
}

static const char *
proc_state(const struct r_proc *p, char *buf, size_t len)
{
	if (p->exited)
		snprintf(buf, len, "exited %lld", (long long)p->status);
	else
		snprintf(buf, len, "running");
	return buf;
}

static int
compare_process_cb(void *arg, const struct store_process *row)
{
	struct replay *r = arg;
	struct r_ctr *c = r->cur;
	struct r_proc *p = proc_find(c, row->pid);
	char table[48], events[48];

	if (strcmp(row->status, "creating") == 0)
		return 0; /* not acknowledged yet: no event is due */
	if (strcmp(row->status, "exited") == 0)
		snprintf(table, sizeof(table), "exited %lld", (long long)row->exit_status);
	else
		snprintf(table, sizeof(table), "%s", row->status);
	if (p == NULL) {
		diff(r, "%s/%s: %s in the table, but no event since the container's start"
			" (seq %lld) mentions this process", c->id, row->pid, table,
		    (long long)c->start_seq);
		return 0;
	}
	p->matched = true;
	proc_state(p, events, sizeof(events));
	if (strcmp(table, events) != 0)
		diff(r, "%s/%s: %s in the table, %s by the events (seq %lld)", c->id, row->pid,
		    table, events, (long long)p->seq);
	return 0;
}

static int
compare_container_cb(void *arg, const struct store_container *row)
{
	struct replay *r = arg;
	struct r_ctr *c = ctr_find(r, row->id);
	char when[STATE_TIME_LEN];

	r->n_ctrs++;
	if (c != NULL)
		c->matched = true;
	/* A row still being created was never acknowledged: no event is due
	 * until its start-container, which is newer than the row. */
	if (strcmp(row->status, "creating") == 0 &&
	    (c == NULL || !c->started || c->start_ts < row->created_at)) {
		r->n_skipped++;
		return 0;
	}
	if (c == NULL) {
		diff(r, "%s: %s in the table, but no event mentions it", row->id, row->status);
		return 0;
	}
	if (!c->started) {
		diff(r, "%s: %s in the table, but the events have no start-container for it"
			" (last event seq %lld)", row->id, row->status, (long long)c->last_seq);
		return 0;
	}
	if (c->start_ts < row->created_at) {
		state_time_format(row->created_at, when);
		diff(r, "%s: the row (%s, created %s) is newer than its last start-container"
			" (seq %lld): no event announced it", row->id, row->status, when,
		    (long long)c->start_seq);
		return 0;
	}
	if (strcmp(row->status, r_status_name[c->status]) != 0)
		diff(r, "%s: %s in the table, %s by the events (seq %lld)", row->id, row->status,
		    r_status_name[c->status], (long long)c->last_seq);
	r->cur = c;
	if (store_query_process_states(r->q, row->id, compare_process_cb, r, &r->e) < 0)
		return -1;
	/* A finished exec's row may have given way to a later exec of the same
	 * name that then failed to start: only a running one must have a row. */
	for (struct r_proc *p = c->procs; p != NULL; p = p->next)
		if (!p->matched && !p->exited)
			diff(r, "%s/%s: running by the events (seq %lld), but it has no row",
			    c->id, p->name, (long long)p->seq);
	return 0;
}

static int
compare_checkpoint_cb(void *arg, const struct store_checkpoint *row)
{
	struct replay *r = arg;
	struct r_ckpt *k = *ckpt_find(r, row->container_id, row->name);

	if (k == NULL)
		diff(r, "checkpoint %s/%s: in the table, but no create-checkpoint event is left"
			" for it", row->container_id, row->name);
	else
		k->matched = true;
	return 0;
}

static int
compare(struct replay *r)
{
	if (store_query_containers(r->q, NULL, compare_container_cb, r, &r->e) < 0 ||
	    store_query_checkpoints(r->q, NULL, compare_checkpoint_cb, r, &r->e) < 0)
		return -1;
	for (struct r_ctr *c = r->ctrs; c != NULL; c = c->next) {
		if (c->matched)
			continue;
		r->n_ctrs++;
		/* A stopped container's rows give way to a create with its id that
		 * may then fail: the events outlive them. */
		if (c->status == R_RUNNING || c->status == R_PAUSED)
			diff(r, "%s: %s by the events (seq %lld), but it has no row", c->id,
			    r_status_name[c->status], (long long)c->last_seq);
	}
	for (struct r_ckpt *k = r->ckpts; k != NULL; k = k->next)
		if (!k->matched)
			diff(r, "checkpoint %s/%s: created by the events (seq %lld), but it has"
				" no row", k->cid, k->name, (long long)k->seq);
	return 0;
}

/* ---------------------------------------------------------------- --until */

static json_t *
state_at(struct replay *r, int64_t until)
{
	char when[STATE_TIME_LEN];
	json_t *out, *ctrs = json_object();

	for (struct r_ctr *c = r->ctrs; c != NULL; c = c->next) {
		json_t *procs = json_object(), *ckpts = json_array();

		for (struct r_proc *p = c->procs; p != NULL; p = p->next) {
			json_t *j = json_pack("{s:s}", "status", p->exited ? "exited" : "running");

			if (p->exited)
				json_object_set_new(j, "exitStatus", json_integer(p->status));
			json_object_set_new(procs, p->name, j);
		}
		for (struct r_ckpt *k = r->ckpts; k != NULL; k = k->next)
			if (strcmp(k->cid, c->id) == 0)
				json_array_append_new(ckpts, json_string(k->name));
		json_object_set_new(ctrs, c->id, json_pack("{s:s, s:o, s:o}", "status",
		    r_status_name[c->status], "processes", procs, "checkpoints", ckpts));
	}
	/* Checkpoints whose container the kept events never mention. */
	for (struct r_ckpt *k = r->ckpts; k != NULL; k = k->next) {
		json_t *o;

		if (ctr_find(r, k->cid) != NULL)
			continue;
		if ((o = json_object_get(ctrs, k->cid)) == NULL) {
			o = json_pack("{s:s, s:{}, s:[]}", "status", "unknown", "processes",
			    "checkpoints");
			json_object_set_new(ctrs, k->cid, o);
		}
		json_array_append_new(json_object_get(o, "checkpoints"), json_string(k->name));
	}
	state_time_format(until, when);
	out = json_pack("{s:s, s:I, s:o}", "time", when, "events", (json_int_t)r->n_events,
	    "containers", ctrs);
	if (out == NULL)
		state_oom();
	return out;
}

static int
replay_flag(void *arg, int opt, const char *v)
{
	int64_t *until = arg;

	if (opt == 'u') {
		if (state_time_parse(v, now_ns(), until) < 0)
			return state_usage_error(&state_cmd_replay, "invalid --until \"%s\": want RFC"
			    " 3339 (2024-05-01T10:00:00Z) or a duration ago (10m, 1h30m)", v);
		if (*until <= 0)
			*until = 1;
	}
	return 0;
}

static int
replay_run(struct state_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "until", required_argument, NULL, 'u' },
		STATE_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct replay *r;
	struct store_event_filter f = { 0 };
	int64_t until = 0;
	int rc;

	if ((rc = state_parse_flags(ctx, &state_cmd_replay, argc, argv, opts, replay_flag,
		 &until)) != 0)
		return rc > 0 ? 0 : 1;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		state_oom();
	rc = 1;
	if ((r->q = state_open(ctx)) == NULL)
		goto out;
	f.until = until;
	if (store_query_events(r->q, &f, replay_event_cb, r, &r->e) < 0) {
		state_fail("%s", r->e.msg);
		goto out;
	}
	for (struct r_unknown *u = r->unknown; u != NULL; u = u->next)
		fprintf(stderr, STATE_PROG " replay: note: %lld event(s) of type \"%s\" change"
				" nothing replay knows of\n", (long long)u->count, u->type);
	if (until != 0) {
		json_t *out = state_at(r, until);

		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(out);
		rc = state_flush();
		goto out;
	}
	if (compare(r) < 0) {
		state_fail("%s", r->e.msg);
		goto out;
	}
	printf("replay: %lld containers, %lld events, ", (long long)r->n_ctrs,
	    (long long)r->n_events);
	if (r->n_diffs == 0)
		printf("no difference");
	else
		printf("%lld difference%s", (long long)r->n_diffs, r->n_diffs == 1 ? "" : "s");
	if (r->n_skipped > 0)
		printf(" (%lld being created, not compared)", (long long)r->n_skipped);
	putchar('\n');
	rc = state_flush() != 0 || r->n_diffs > 0 ? 1 : 0;
out:
	bag_free(&r->bag);
	free(r);
	return rc;
}

const struct state_cmd state_cmd_replay = {
	.name = "replay",
	.usage = "[--until T]",
	.summary = "rebuild the state from the events alone and compare it with the tables",
	.options = (const struct helpdoc_flag[]){
	    { "--until T",
		"print the state rebuilt from the events up to T (RFC 3339,\n"
		"or a duration ago: 10m) as JSON and compare nothing:\n"
		"{time, events, containers: {ID: {status, processes:\n"
		"{PID: {status, exitStatus}}, checkpoints: [NAME]}}}" },
	    { NULL, NULL },
	},
	.help =
	    "The events, in seq order: start-container starts a new life of the id\n"
	    "(running, its init running, earlier processes forgotten); start-process runs\n"
	    "an exec; exit ends a process with its status, and ends the container (stopped)\n"
	    "when it is the init; pause and resume set paused and running;\n"
	    "create-checkpoint and delete-checkpoint add and remove a checkpoint;\n"
	    "delete-container marks it deleted; oom and other types change nothing (noted).\n"
	    "\n"
	    "Then each row is compared: containers.status, processes.status and\n"
	    "exit_status, the checkpoints rows. Every difference prints one line; exit 1\n"
	    "if any. What is not a difference:\n"
	    "  - a container or process row in status creating with no event yet: it was\n"
	    "    never acknowledged (the daemon removes it if it stops before the start);\n"
	    "  - a row replaced by a new create with the same id: only the events since the\n"
	    "    last start-container count (the row must not be newer than that event);\n"
	    "  - a stopped container, or an exited exec, whose row is gone (a later create\n"
	    "    or exec with the same name took its place and then failed).\n"
	    "A running or paused container, or a running process, must have its row.\n",
	.run = replay_run,
};
