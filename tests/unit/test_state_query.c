/* store/query: the reads of containerd-state, on a database the store wrote. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "query.h"
#include "tap.h"

static char dir[] = "/tmp/test_state_query.XXXXXX";
static char path[256];

static int
exists(const char *suffix)
{
	char p[300];

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return access(p, F_OK) == 0;
}

static int
raw_exec(const char *sql)
{
	sqlite3 *db;
	int rc;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static int
ids_cb(void *arg, const struct store_container *c)
{
	strcat(arg, c->id);
	strcat(arg, ":");
	strcat(arg, c->status);
	strcat(arg, ",");
	return 0;
}

static int
labels_cb(void *arg, const char *cid, const char *label)
{
	strcat(arg, label);
	strcat(arg, ",");
	return 0;
}

static int
procs_cb(void *arg, const struct store_process *p)
{
	char buf[64];

	if (p->exited)
		snprintf(buf, sizeof(buf), "%s/%s:%s=%lld,", p->container_id, p->pid, p->status,
		    (long long)p->exit_status);
	else
		snprintf(buf, sizeof(buf), "%s/%s:%s,", p->container_id, p->pid, p->status);
	strcat(arg, buf);
	return 0;
}

static int
events_cb(void *arg, const struct store_event *ev)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%lld:%s:%s:%s,", (long long)ev->seq, ev->type,
	    ev->container_id, ev->pid);
	strcat(arg, buf);
	return 0;
}

static int
ckpt_cb(void *arg, const struct store_checkpoint *c)
{
	strcat(arg, c->container_id);
	strcat(arg, "/");
	strcat(arg, c->name);
	strcat(arg, ",");
	return 0;
}

static int
count_text(void *arg, const char *text)
{
	(*(int *)arg)++;
	return 0;
}

static int
fk_cb(void *arg, const char *table, int64_t rowid, const char *parent)
{
	strcat(arg, table);
	strcat(arg, "->");
	strcat(arg, parent);
	strcat(arg, ",");
	return 0;
}

static int
stop_cb(void *arg, const struct store_container *c)
{
	(*(int *)arg)++;
	return 7;
}

static void
events_of(struct store_query *q, const struct store_event_filter *f, char *out)
{
	struct err e;

	out[0] = '\0';
	if (store_query_events(q, f, events_cb, out, &e) < 0)
		snprintf(out, 64, "error: %.50s", e.msg);
}

/* The writer's rows: two containers, processes, labels, a checkpoint, events. */
static int
fill(struct store *s, struct err *e)
{
	struct store_container c1 = { .id = "c1", .bundle = "/b1", .runtime = "runc",
		.status = "running", .created_at = 100 };
	struct store_container c2 = { .id = "c2", .bundle = "/b2", .runtime = "runc",
		.status = "stopped", .created_at = 50 };
	struct store_process p1 = { .container_id = "c1", .pid = "init", .status = "running",
		.started_at = 110, .shim_pid = 1, .system_pid = 2 };
	struct store_process p2 = { .container_id = "c1", .pid = "e1", .status = "exited",
		.exited = true, .exit_status = 3, .started_at = 120, .exited_at = 130 };
	struct store_process p3 = { .container_id = "c2", .pid = "init", .status = "exited",
		.exited = true, .exit_status = 137, .started_at = 60, .exited_at = 70 };
	struct store_checkpoint k = { .container_id = "gone", .name = "cp1", .path = "/x",
		.created_at = 5 };

	if (store_container_insert(s, &c1, e) < 0 || store_container_insert(s, &c2, e) < 0 ||
	    store_label_add(s, "c1", "z=1", e) < 0 || store_label_add(s, "c1", "a=2", e) < 0 ||
	    store_process_insert(s, &p2, e) < 0 || store_process_insert(s, &p1, e) < 0 ||
	    store_process_insert(s, &p3, e) < 0 || store_checkpoint_insert(s, &k, e) < 0)
		return -1;
	if (store_event_append(s, 5, "create-checkpoint", "gone", "cp1", 0, e) < 0 ||
	    store_event_append(s, 60, "start-container", "c2", "init", 0, e) < 0 ||
	    store_event_append(s, 70, "exit", "c2", "init", 137, e) < 0 ||
	    store_event_append(s, 110, "start-container", "c1", "init", 0, e) < 0 ||
	    store_event_append(s, 120, "start-process", "c1", "e1", 0, e) < 0 ||
	    store_event_append(s, 130, "exit", "c1", "e1", 3, e) < 0)
		return -1;
	if (store_commit(s, e) < 0)
		return -1;
	/* The store records the time of recording; the filters here are
	 * tested on the times given (kept as occurred_at). */
	{
		sqlite3 *db;
		int rc;

		if (sqlite3_open(path, &db) != SQLITE_OK)
			return -1;
		rc = sqlite3_exec(db, "UPDATE events SET ts = occurred_at", NULL, NULL, NULL);
		sqlite3_close(db);
		return rc == SQLITE_OK ? 0 : -1;
	}
}

int
main(void)
{
	struct err e = { 0 };
	struct store *w;
	struct store_query *q, *q2;
	struct store_event_filter f;
	char out[1024];
	int n;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/state.db", dir);

	q = store_query_open(path, &e);
	ok(q == NULL && e.code == GRPC_NOT_FOUND, "no file: NOT_FOUND (%s)", e.msg);

	w = store_open(path, false, &e);
	ok(w != NULL, "the writer opens");
	if (w == NULL)
		return done_testing();
	ok(fill(w, &e) == 0, "rows written");

	/* The daemon runs: the usual WAL reader. */
	q = store_query_open(path, &e);
	ok(q != NULL, "opens while the writer has it (%s)", q ? "" : e.msg);
	if (q == NULL)
		return done_testing();
	ok(!store_query_immutable(q), "not a snapshot while the writer runs");
	is_int(store_schema_version(store_query_store(q)), store_schema_latest(), "schema version");

	out[0] = '\0';
	store_query_containers(q, NULL, ids_cb, out, &e);
	is_str(out, "c2:stopped,c1:running,", "containers, oldest first, any status");
	out[0] = '\0';
	store_query_containers(q, "c1", ids_cb, out, &e);
	is_str(out, "c1:running,", "one container");
	out[0] = '\0';
	store_query_containers(q, "nope", ids_cb, out, &e);
	is_str(out, "", "no such container: nothing");
	n = 0;
	is_int(store_query_containers(q, NULL, stop_cb, &n, &e), 7, "a callback's value stops");
	is_int(n, 1, "after one row");

	out[0] = '\0';
	store_query_labels(q, "c1", labels_cb, out, &e);
	is_str(out, "z=1,a=2,", "labels in the order given");
	out[0] = '\0';
	store_query_processes(q, "c1", procs_cb, out, &e);
	is_str(out, "c1/init:running,c1/e1:exited=3,", "init first, then execs by start");
	out[0] = '\0';
	store_query_checkpoints(q, NULL, ckpt_cb, out, &e);
	is_str(out, "gone/cp1,", "checkpoints of all, even of a container with no row");
	out[0] = '\0';
	store_query_checkpoints(q, "c1", ckpt_cb, out, &e);
	is_str(out, "", "checkpoints of one");

	events_of(q, NULL, out);
	is_str(out, "1:create-checkpoint:gone:cp1,2:start-container:c2:init,3:exit:c2:init,"
		    "4:start-container:c1:init,5:start-process:c1:e1,6:exit:c1:e1,", "all events");
	f = (struct store_event_filter){ .since = 70, .until = 120 };
	events_of(q, &f, out);
	is_str(out, "3:exit:c2:init,4:start-container:c1:init,5:start-process:c1:e1,",
	    "since and until, both inclusive");
	f = (struct store_event_filter){ .container_id = "c1", .type = "exit" };
	events_of(q, &f, out);
	is_str(out, "6:exit:c1:e1,", "one container, one type");
	f = (struct store_event_filter){ .type = "exit" };
	events_of(q, &f, out);
	is_str(out, "3:exit:c2:init,6:exit:c1:e1,", "one type");

	/* One read transaction: a later commit is not seen by this handle. */
	{
		struct store_container c3 = { .id = "c3", .bundle = "/b3", .runtime = "runc",
			.status = "running", .created_at = 200 };

		ok(store_container_insert(w, &c3, &e) == 0 && store_commit(w, &e) == 0,
		    "the writer commits c3 meanwhile");
		out[0] = '\0';
		store_query_containers(q, NULL, ids_cb, out, &e);
		is_str(out, "c2:stopped,c1:running,", "the handle still sees its moment");
		q2 = store_query_open(path, &e);
		out[0] = '\0';
		if (q2 != NULL)
			store_query_containers(q2, NULL, ids_cb, out, &e);
		is_str(out, "c2:stopped,c1:running,c3:running,", "a new handle sees c3");
		store_query_close(q2);
	}
	n = 0;
	ok(store_query_integrity(q, count_text, &n, &e) == 0 && n == 0, "integrity: ok");
	store_query_close(q);
	store_close(w);

	/* The daemon is down: no -wal, read as it is, nothing left behind. */
	ok(!exists("-wal") && !exists("-shm"), "the writer's close removed -wal and -shm");
	q = store_query_open(path, &e);
	ok(q != NULL && store_query_immutable(q), "opens as a snapshot (%s)", q ? "" : e.msg);
	out[0] = '\0';
	if (q != NULL)
		store_query_containers(q, NULL, ids_cb, out, &e);
	is_str(out, "c2:stopped,c1:running,c3:running,", "the snapshot has every row");
	ok(q != NULL && !store_query_wal_pending(q), "no -wal: nothing pending");
	store_query_close(q);
	ok(!exists("-wal") && !exists("-shm"), "and left no -wal or -shm");

	/* Rows of no container, written with foreign keys off. */
	ok(raw_exec("PRAGMA foreign_keys = OFF; INSERT INTO labels VALUES ('x', 'l=1');"
		    " INSERT INTO processes (container_id, pid, status) VALUES ('y', 'init',"
		    " 'running')") == 0, "orphans written");
	q = store_query_open(path, &e);
	if (q != NULL) {
		out[0] = '\0';
		store_query_orphan_labels(q, labels_cb, out, &e);
		is_str(out, "l=1,", "orphan label");
		out[0] = '\0';
		store_query_orphan_processes(q, procs_cb, out, &e);
		is_str(out, "y/init:running,", "orphan process");
		out[0] = '\0';
		store_query_foreign_keys(q, fk_cb, out, &e);
		ok(strstr(out, "labels->containers") && strstr(out, "processes->containers"),
		    "foreign_key_check sees both (%s)", out);
	}
	store_query_close(q);

	/* A newer schema is refused, never migrated. */
	ok(raw_exec("PRAGMA user_version = 99") == 0, "schema set to 99");
	q = store_query_open(path, &e);
	ok(q == NULL && e.code == GRPC_FAILED_PRECONDITION && strstr(e.msg, "newer"),
	    "newer schema refused (%s)", e.msg);
	store_query_close(q);

	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return done_testing();
}
