/*
 * check: is the database sound, and do its rows make sense? One line per
 * problem, "check: ok" when there is none.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "state.h"

struct check {
	struct store_query *q;
	const char *status;		/* the container whose processes are read */
	bool init_seen;
	int64_t problems;
	struct err e;
};

static void
problem(struct check *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
problem(struct check *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	k->problems++;
}

static int
integrity_cb(void *arg, const char *text)
{
	problem(arg, "integrity: %s", text);
	return 0;
}

static int
fk_cb(void *arg, const char *table, int64_t rowid, const char *parent)
{
	/* labels and processes without their container: said better below. */
	if (strcmp(parent, "containers") == 0 &&
	    (strcmp(table, "labels") == 0 || strcmp(table, "processes") == 0))
		return 0;
	problem(arg, "foreign key: %s row %lld points at no %s row", table, (long long)rowid,
	    parent);
	return 0;
}

static int
orphan_label_cb(void *arg, const char *cid, const char *label)
{
	problem(arg, "orphan: label \"%s\" of container %s, which has no row", label, cid);
	return 0;
}

static int
orphan_process_cb(void *arg, const struct store_process *p)
{
	problem(arg, "orphan: process %s/%s (%s) of a container that has no row",
	    p->container_id, p->pid, p->status);
	return 0;
}

/* A running process needs its shim: the pid alive and the same process
 * (its start time as recorded, or the pid was reused). */
static void
check_shim(struct check *k, const struct store_process *p)
{
	int64_t start;

	if (p->shim_pid <= 0) {
		problem(k, "%s/%s: running, but no shim pid is recorded", p->container_id, p->pid);
		return;
	}
	if (!state_proc_start(p->shim_pid, &start))
		problem(k, "%s/%s: running, but its shim (pid %lld) is gone", p->container_id,
		    p->pid, (long long)p->shim_pid);
	else if (start != p->shim_start_time)
		problem(k, "%s/%s: running, but its shim's pid %lld is now another process"
			   " (start time %lld, recorded %lld)", p->container_id, p->pid,
		    (long long)p->shim_pid, (long long)start, (long long)p->shim_start_time);
}

static int
process_cb(void *arg, const struct store_process *p)
{
	struct check *k = arg;
	bool live = strcmp(k->status, "running") == 0 || strcmp(k->status, "paused") == 0;
	bool init = strcmp(p->pid, "init") == 0;

	if (init)
		k->init_seen = true;
	if (strcmp(p->status, "running") == 0) {
		if (!live)
			problem(k, "%s/%s: running, but the container is %s", p->container_id,
			    p->pid, k->status);
		check_shim(k, p);
	} else if (init && live) {
		problem(k, "%s: %s, but its init is %s", p->container_id, k->status, p->status);
	}
	if (strcmp(p->status, "exited") == 0 && !p->exited)
		problem(k, "%s/%s: exited, but no exit status is recorded", p->container_id,
		    p->pid);
	return 0;
}

static int
container_cb(void *arg, const struct store_container *c)
{
	struct check *k = arg;

	k->status = c->status;
	k->init_seen = false;
	if (store_query_processes(k->q, c->id, process_cb, k, &k->e) < 0)
		return -1;
	if (!k->init_seen && strcmp(c->status, "creating") != 0)
		problem(k, "%s: %s, but it has no init process row", c->id, c->status);
	return 0;
}

static int
checkpoint_cb(void *arg, const struct store_checkpoint *c)
{
	struct stat sb;

	if (stat(c->path, &sb) != 0 || !S_ISDIR(sb.st_mode))
		problem(arg, "checkpoint %s/%s: its directory %s is gone", c->container_id,
		    c->name, c->path);
	return 0;
}

static int
check_run(struct state_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		STATE_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct check k = { 0 };
	int version, latest, rc;

	if ((rc = state_parse_flags(ctx, &state_cmd_check, argc, argv, opts, NULL, NULL)) != 0)
		return rc > 0 ? 0 : 1;
	if ((k.q = state_open(ctx)) == NULL)
		return 1;
	if (store_query_integrity(k.q, integrity_cb, &k, &k.e) < 0)
		return state_fail("%s", k.e.msg);
	version = store_schema_version(store_query_store(k.q));
	latest = store_schema_latest();
	if (version != latest)
		problem(&k, "schema: version %d, this binary's is %d%s", version, latest,
		    version < latest ? " (containerd migrates it when it next starts)"
				     : " (use a newer containerd-state)");
	if (store_query_foreign_keys(k.q, fk_cb, &k, &k.e) < 0 ||
	    store_query_orphan_labels(k.q, orphan_label_cb, &k, &k.e) < 0 ||
	    store_query_orphan_processes(k.q, orphan_process_cb, &k, &k.e) < 0 ||
	    store_query_containers(k.q, NULL, container_cb, &k, &k.e) < 0 ||
	    store_query_checkpoints(k.q, NULL, checkpoint_cb, &k, &k.e) < 0)
		return state_fail("%s", k.e.msg);
	if (k.problems == 0)
		printf("check: ok\n");
	else
		printf("check: %lld problem%s\n", (long long)k.problems, k.problems == 1 ? "" : "s");
	if (state_flush() != 0)
		return 1;
	return k.problems > 0 ? 1 : 0;
}

const struct state_cmd state_cmd_check = {
	.name = "check",
	.usage = "",
	.summary = "check the database and its rows; one line per problem",
	.help =
	    "Checks, each problem one line, exit 1 if any, else \"check: ok\":\n"
	    "  - PRAGMA integrity_check;\n"
	    "  - the schema version against this binary's;\n"
	    "  - PRAGMA foreign_key_check, and labels or processes rows whose container has\n"
	    "    no row (possible only if something wrote with foreign keys off);\n"
	    "  - a running or paused container whose init row is missing or not running,\n"
	    "    a running process in a container that is not;\n"
	    "  - a running process whose shim is gone, or whose shim pid is now another\n"
	    "    process (its /proc start time differs from shim_start_time): while the\n"
	    "    daemon is down this is an exit it records when it next starts;\n"
	    "  - a checkpoint whose directory is gone.\n",
	.run = check_run,
};
