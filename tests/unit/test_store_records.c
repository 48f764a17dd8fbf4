/* store: the Records service's reads and store_container_forget (rows and
 * events go, a checkpoint's row and events stay). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "rawdb.h"
#include "store.h"
#include "tap.h"

static char dir[] = "/tmp/test_store_records.XXXXXX";
static char path[256];

/* The first column of the first row of sql over this test's database. */
static int
raw_count(const char *sql)
{
	return rawdb_count(path, sql);
}

/* A container that ran and stopped: rows and the events of its life. */
static void
stopped(struct store *s, const char *id, int64_t t, int status)
{
	struct store_container c = { .id = id, .bundle = "/b", .runtime = "runc",
		.status = "creating", .created_at = t, .updated_at = t };
	struct store_process p = { .container_id = id, .pid = "init", .status = "creating" };
	struct err e;

	store_container_insert(s, &c, &e);
	store_label_add(s, id, "k=v", &e);
	store_process_insert(s, &p, &e);
	store_process_started(s, id, "init", 100, 99, 1, t + 1, &e);
	store_container_set_status(s, id, "running", t + 1, &e);
	store_event_append(s, t + 1, "start-container", id, "", 0, &e);
	store_process_exited(s, id, "init", status, t + 2, &e);
	store_container_set_status(s, id, "stopped", t + 2, &e);
	store_event_append_note(s, t + 2, "exit", id, "init", status,
	    status == 255 ? "unknown" : "", &e);
}

struct seen {
	char ids[512];
	int n;
	struct store_record last;
	char note[64];
};

static int
seen_cb(void *arg, const struct store_record *r)
{
	struct seen *v = arg;

	strcat(v->ids, r->id);
	strcat(v->ids, ",");
	v->n++;
	v->last = *r;
	snprintf(v->note, sizeof(v->note), "%s", r->note);
	v->last.note = v->note;
	v->last.id = v->last.bundle = v->last.status = NULL;
	return 0;
}

int
main(void)
{
	struct err e = { 0 };
	struct store *s;
	struct seen v = { 0 };
	char status[32], ids[8][STORE_ID_COPY];
	int n;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/state.db", dir);
	s = store_open(path, false, &e);
	ok(s != NULL, "opens (%s)", s ? "" : e.msg);
	if (s == NULL)
		return done_testing();

	stopped(s, "c", 3000, 0);
	stopped(s, "a", 1000, 137);
	stopped(s, "b", 2000, 255);
	{
		struct store_container live = { .id = "l", .bundle = "/b", .runtime = "runc",
			.status = "running", .created_at = 5, .updated_at = 5 };

		store_container_insert(s, &live, &e);
	}
	ok(store_commit(s, &e) == 0, "three stopped containers and a live one");

	n = store_records_stopped(s, "", 2, seen_cb, &v, &e);
	is_int(n, 2, "a page of 2");
	is_str(v.ids, "a,b,", "by id");
	n = store_records_stopped(s, "b", 2, seen_cb, &v, &e);
	is_int(n, 1, "the next page: the rest");
	is_str(v.ids, "a,b,c,", "no live one, none twice");
	memset(&v, 0, sizeof(v));
	store_records_stopped(s, "a", 1, seen_cb, &v, &e);
	ok(v.last.exit_status == 255 && v.last.exited_at == 2002 && v.last.started &&
	    v.last.started_at == 2001, "b: exit 255 at 2002, started at 2001");
	is_str(v.note, "unknown", "b: its exit event's note");

	is_int(store_container_status(s, "b", status, sizeof(status), &e), 1, "b is known");
	is_str(status, "stopped", "b is stopped");
	is_int(store_container_status(s, "zz", status, sizeof(status), &e), 0, "zz is not");

	n = store_records_prunable(s, "", 2500, 8, ids, &e);
	ok(n == 2 && strcmp(ids[0], "a") == 0 && strcmp(ids[1], "b") == 0,
	    "prunable before 2500: a and b (%d)", n);
	n = store_records_prunable(s, "", 0, 8, ids, &e);
	is_int(n, 3, "prunable without a time: all three stopped ones");

	/* A checkpoint of a: its row and its events stay. */
	{
		struct store_checkpoint k = { .container_id = "a", .name = "k1", .path = "/b/k1",
			.created_at = 1500, .empty_ns = "[]" };

		store_checkpoint_insert(s, &k, &e);
		store_event_append(s, 1500, "create-checkpoint", "a", "k1", 0, &e);
		store_commit(s, &e);
	}
	ok(store_container_forget(s, "a", &e) == 0 && store_commit(s, &e) == 0, "forget a");
	is_int(raw_count("SELECT count(*) FROM containers WHERE id = 'a'"), 0, "a's row gone");
	is_int(raw_count("SELECT count(*) FROM labels WHERE container_id = 'a'"), 0,
	    "a's labels gone");
	is_int(raw_count("SELECT count(*) FROM processes WHERE container_id = 'a'"), 0,
	    "a's processes gone");
	is_int(raw_count("SELECT count(*) FROM events WHERE container_id = 'a'"), 1,
	    "a's events gone but its checkpoint's");
	is_int(raw_count("SELECT count(*) FROM checkpoints WHERE container_id = 'a'"), 1,
	    "a's checkpoint row stays");
	is_int(raw_count("SELECT count(*) FROM events WHERE container_id IN ('b', 'c')"), 4,
	    "the others' events stay");
	store_close(s);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return done_testing();
}
