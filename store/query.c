/* query: read-only queries for the tools; see query.h. */
#include "query.h"

#include <errno.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_internal.h"

/* Every statement, prepared once beside its SQL. */
enum query_id {
	Q_BEGIN,
	Q_END,
	Q_CONTAINERS,
	Q_CONTAINER_ONE,
	Q_PROCESSES,
	Q_PROCESS_STATES,
	Q_LABELS,
	Q_CHECKPOINTS_ALL,
	Q_CHECKPOINTS_ONE,
	Q_EVENTS,
	Q_EVENTS_ONE,
	Q_EVENTS_TYPE,
	Q_INTEGRITY,
	Q_FOREIGN_KEYS,
	Q_ORPHAN_LABELS,
	Q_ORPHAN_PROCESSES,
	Q_COUNT
};

#define Q_CONTAINER_COLS \
	"id, bundle, runtime, runtime_args, status, created_at, updated_at, stdin, stdout," \
	" stderr, no_pivot_root, checkpoint, checkpoint_dir"
#define Q_PROCESS_COLS \
	"p.container_id, p.pid, p.system_pid, p.shim_pid, p.shim_start_time, p.args, p.env," \
	" p.cwd, p.uid, p.gid, p.terminal, p.stdin, p.stdout, p.stderr, p.spec, p.status," \
	" p.exit_status, p.started_at, p.exited_at"
#define Q_CHECKPOINT_COLS \
	"container_id, name, path, created_at, exit, tcp, unix_sockets, shell, empty_ns"
/* occurred_at (schema 004): a file from before it reads ts there (see
 * store_query_open). */
#define Q_EVENT_COLS "seq, ts, type, container_id, pid, status, occurred_at"

static const char *const query_sql[Q_COUNT] = {
	/* One read transaction per handle: every query sees the same moment. */
	[Q_BEGIN] = "BEGIN DEFERRED",
	[Q_END] = "COMMIT",
	[Q_CONTAINERS] = "SELECT " Q_CONTAINER_COLS " FROM containers ORDER BY created_at, id",
	[Q_CONTAINER_ONE] = "SELECT " Q_CONTAINER_COLS " FROM containers WHERE id = :id",
	[Q_PROCESSES] = "SELECT " Q_PROCESS_COLS " FROM processes p WHERE p.container_id = :cid"
			" ORDER BY p.pid != 'init', p.started_at, p.pid",
	/* Only what replay compares: read from the processes_exits index
	 * (schema 007), not the rows with their args, env and spec (~2 KB). */
	[Q_PROCESS_STATES] = "SELECT pid, status, exit_status FROM processes"
			     " WHERE container_id = :cid ORDER BY pid",
	[Q_LABELS] = "SELECT container_id, label FROM labels WHERE container_id = :cid"
		     " ORDER BY rowid",
	[Q_CHECKPOINTS_ALL] = "SELECT " Q_CHECKPOINT_COLS " FROM checkpoints"
			      " ORDER BY container_id, created_at, name",
	[Q_CHECKPOINTS_ONE] = "SELECT " Q_CHECKPOINT_COLS " FROM checkpoints"
			      " WHERE container_id = :cid ORDER BY created_at, name",
	/* Events between two times, in seq order. ts grows with seq (schema
	 * 004), so the times are first turned into a seq range by the ts index
	 * (two seeks), and the rows are read by that range, by container or
	 * by type through their indexes: already in seq order, nothing sorted
	 * (ordering a million rows found by ts took seconds). `+ts` keeps the
	 * planner off the ts index for the rows themselves. */
#define Q_EVENT_RANGE \
	" seq >= coalesce((SELECT seq FROM events WHERE ts >= :since ORDER BY ts LIMIT 1)," \
	"                 9223372036854775807)" \
	" AND seq <= coalesce((SELECT seq FROM events WHERE ts <= :until ORDER BY ts DESC" \
	"                      LIMIT 1), -1)" \
	" AND +ts >= :since AND +ts <= :until"
	[Q_EVENTS] = "SELECT " Q_EVENT_COLS " FROM events WHERE" Q_EVENT_RANGE " ORDER BY seq",
	[Q_EVENTS_ONE] = "SELECT " Q_EVENT_COLS " FROM events WHERE container_id = :cid AND"
			 Q_EVENT_RANGE " AND (:type = '' OR type = :type) ORDER BY seq",
	/* By the type index (schema 007; before it, the seq range). */
	[Q_EVENTS_TYPE] = "SELECT " Q_EVENT_COLS " FROM events WHERE type = :type AND"
			  Q_EVENT_RANGE " ORDER BY seq",
	[Q_INTEGRITY] = "PRAGMA integrity_check",
	[Q_FOREIGN_KEYS] = "PRAGMA foreign_key_check",
	[Q_ORPHAN_LABELS] = "SELECT l.container_id, l.label FROM labels l WHERE NOT EXISTS"
			    " (SELECT 1 FROM containers c WHERE c.id = l.container_id)"
			    " ORDER BY l.container_id, l.rowid",
	[Q_ORPHAN_PROCESSES] = "SELECT " Q_PROCESS_COLS " FROM processes p WHERE NOT EXISTS"
			       " (SELECT 1 FROM containers c WHERE c.id = p.container_id)"
			       " ORDER BY p.container_id, p.pid",
};

struct store_query {
	struct store *s;		/* owned */
	sqlite3_stmt *stmt[Q_COUNT];
	bool immutable;
	bool wal_pending;
	bool in_read;
};

static int
query_fail(struct store_query *q, struct err *e, const char *what)
{
	return err_set(e, GRPC_INTERNAL, "%s: %s (database %s)", what,
	    sqlite3_errmsg(store_db(q->s)), q->s->path);
}

/* The statement, reset, inside the handle's read transaction. */
static sqlite3_stmt *
query_get(struct store_query *q, enum query_id id, struct err *e)
{
	sqlite3_stmt *st = q->stmt[id];

	if (!q->in_read) {
		sqlite3_stmt *b = q->stmt[Q_BEGIN];

		sqlite3_reset(b);
		if (sqlite3_step(b) != SQLITE_DONE) {
			query_fail(q, e, "begin a read transaction");
			sqlite3_reset(b);
			return NULL;
		}
		sqlite3_reset(b);
		q->in_read = true;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static void
put_text(sqlite3_stmt *st, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i > 0)
		sqlite3_bind_text(st, i, v != NULL ? v : "", -1, SQLITE_TRANSIENT);
}

static void
put_int(sqlite3_stmt *st, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i > 0)
		sqlite3_bind_int64(st, i, v);
}

/* Steps st to its end, calling row(st) for each row; row's non-zero stops. */
static int
query_rows(struct store_query *q, sqlite3_stmt *st, int (*row)(sqlite3_stmt *, void *),
    void *arg, const char *what, struct err *e)
{
	int rc, stop = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((stop = row(st, arg)) != 0)
			break;
	if (stop == 0 && rc != SQLITE_DONE)
		stop = query_fail(q, e, what);
	sqlite3_reset(st);
	return stop;
}

/* ---------------------------------------------------------------- opening */

/* SQLite needs to create or write <db>-shm to read a WAL database the
 * normal way; it cannot when the directory is read-only to us (a copy, a
 * read-only mount) or the -shm is. */
static bool
wal_index_unwritable(const char *path)
{
	char dir[4096], shm[4200];

	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(shm, sizeof(shm), "%s-shm", path);
	if (access(dirname(dir), W_OK) != 0)
		return true;
	return access(shm, F_OK) == 0 && access(shm, W_OK) != 0;
}

/* "file:" URI of path with immutable=1: % ? # and anything unusual escaped. */
static int
immutable_uri(const char *path, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	o += (size_t)snprintf(buf, len, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
		if (o + 4 >= len)
			return -1;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/._-~", *p) != NULL) {
			buf[o++] = (char)*p;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[*p >> 4];
			buf[o++] = hex[*p & 15];
		}
	}
	if (o + sizeof("?immutable=1") > len)
		return -1;
	memcpy(buf + o, "?immutable=1", sizeof("?immutable=1"));
	return 0;
}

static int
int_of(sqlite3 *db, const char *sql, int *v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* The same refusals as store_open(readonly), for the snapshot. */
static struct store *
open_immutable(const char *path, struct err *e)
{
	char uri[8192 + 64];
	struct store *s;
	int app, version, tables;

	if (immutable_uri(path, uri, sizeof(uri)) < 0) {
		err_set(e, GRPC_INVALID_ARGUMENT, "%s: path too long", path);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		err_set(e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	s->readonly = true;
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
		SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		err_set(e, GRPC_INTERNAL, "cannot open database %s: %s", path,
		    s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	if (int_of(s->db, "PRAGMA application_id", &app) < 0 ||
	    int_of(s->db, "PRAGMA user_version", &version) < 0 ||
	    int_of(s->db, "SELECT count(*) FROM sqlite_schema", &tables) < 0) {
		err_set(e, GRPC_FAILED_PRECONDITION, "%s is not a readable SQLite database (%s)",
		    path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (app != STORE_APPLICATION_ID && tables > 0) {
		err_set(e, GRPC_FAILED_PRECONDITION, "%s is an SQLite database but not"
		    " containerd's (application_id %d)", path, app);
		goto fail;
	}
	if (version > store_schema_latest()) {
		err_set(e, GRPC_FAILED_PRECONDITION, "%s has schema version %d, newer than this"
		    " binary's %d; use a newer containerd-state", path, version,
		    store_schema_latest());
		goto fail;
	}
	if (version == 0) {
		err_set(e, GRPC_FAILED_PRECONDITION, "%s has no schema yet: start containerd once",
		    path);
		goto fail;
	}
	return s;
fail:
	store_close(s);
	return NULL;
}

static bool
wal_exists(const char *path)
{
	char wal[4200];

	snprintf(wal, sizeof(wal), "%s-wal", path);
	return access(wal, F_OK) == 0;
}

static bool
wal_has_data(const char *path)
{
	char wal[4200];
	struct stat sb;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	return stat(wal, &sb) == 0 && sb.st_size > 0;
}

struct store_query *
store_query_open(const char *path, struct err *e)
{
	struct store_query *q;
	struct err first = { 0 };

	if (access(path, F_OK) != 0) {
		err_set(e, errno == ENOENT ? GRPC_NOT_FOUND : GRPC_PERMISSION_DENIED,
		    "no database at %s: %s", path, strerror(errno));
		return NULL;
	}
	if (access(path, R_OK) != 0) {
		err_set(e, GRPC_PERMISSION_DENIED, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		err_set(e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	if (!wal_exists(path)) {
		/* No connection has it open in WAL mode (the last one to close
		 * removes the -wal file): read the file as it is, without leaving a
		 * -wal and -shm behind in the daemon's directory. */
		if ((q->s = open_immutable(path, e)) == NULL) {
			free(q);
			return NULL;
		}
		q->immutable = true;
	} else if ((q->s = store_open(path, true, &first)) == NULL) {
		if (!wal_index_unwritable(path)) {
			if (e != NULL)
				*e = first;
			free(q);
			return NULL;
		}
		if ((q->s = open_immutable(path, e)) == NULL) {
			free(q);
			return NULL;
		}
		q->immutable = true;
		q->wal_pending = wal_has_data(path);
	}
	for (int i = 0; i < Q_COUNT; i++) {
		const char *sql = query_sql[i];
		char old[2048];

		if ((i == Q_EVENTS || i == Q_EVENTS_ONE || i == Q_EVENTS_TYPE) &&
		    store_schema_version(q->s) < 4) {
			const char *at = strstr(sql, "occurred_at");

			snprintf(old, sizeof(old), "%.*sts AS occurred_at%s", (int)(at - sql), sql,
			    at + strlen("occurred_at"));
			sql = old;
		}
		if (sqlite3_prepare_v3(store_db(q->s), sql, -1,
			SQLITE_PREPARE_PERSISTENT, &q->stmt[i], NULL) != SQLITE_OK) {
			query_fail(q, e, sql);
			store_query_close(q);
			return NULL;
		}
	}
	return q;
}

void
store_query_close(struct store_query *q)
{
	if (q == NULL)
		return;
	if (q->in_read) {
		sqlite3_reset(q->stmt[Q_END]);
		sqlite3_step(q->stmt[Q_END]);
	}
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(q->stmt[i]);
	store_close(q->s);
	free(q);
}

struct store *
store_query_store(struct store_query *q)
{
	return q->s;
}

bool
store_query_immutable(struct store_query *q)
{
	return q->immutable;
}

bool
store_query_wal_pending(struct store_query *q)
{
	return q->wal_pending;
}

/* ---------------------------------------------------------------- rows */

struct row_cb {
	union {
		store_container_cb container;
		store_process_cb process;
		store_label_cb label;
		store_checkpoint_cb checkpoint;
		store_event_cb event;
		store_text_cb text;
		store_fk_cb fk;
	} fn;
	void *arg;
};

static int
container_row(sqlite3_stmt *st, void *arg)
{
	struct row_cb *r = arg;
	struct store_container c;

	store_row_container(st, &c);
	return r->fn.container(r->arg, &c);
}

static int
process_row(sqlite3_stmt *st, void *arg)
{
	struct row_cb *r = arg;
	struct store_process p;

	store_row_process(st, &p);
	return r->fn.process(r->arg, &p);
}

static int
label_row(sqlite3_stmt *st, void *arg)
{
	struct row_cb *r = arg;

	return r->fn.label(r->arg, store_col_text(st, 0), store_col_text(st, 1));
}

static int
checkpoint_row(sqlite3_stmt *st, void *arg)
{
	struct row_cb *r = arg;
	struct store_checkpoint c;

	store_row_checkpoint(st, &c);
	return r->fn.checkpoint(r->arg, &c);
}

static int
event_row(sqlite3_stmt *st, void *arg)
{
	struct row_cb *r = arg;
	struct store_event ev;

	store_row_event(st, &ev);
	return r->fn.event(r->arg, &ev);
}

static int
integrity_row(sqlite3_stmt *st, void *arg)
{
	struct row_cb *r = arg;
	const char *t = store_col_text(st, 0);

	return strcmp(t, "ok") == 0 ? 0 : r->fn.text(r->arg, t);
}

static int
fk_row(sqlite3_stmt *st, void *arg)
{
	struct row_cb *r = arg;

	return r->fn.fk(r->arg, store_col_text(st, 0), sqlite3_column_int64(st, 1), store_col_text(st, 2));
}

/* ---------------------------------------------------------------- queries */

int
store_query_containers(struct store_query *q, const char *id, store_container_cb cb,
    void *arg, struct err *e)
{
	bool one = id != NULL && *id != '\0';
	sqlite3_stmt *st = query_get(q, one ? Q_CONTAINER_ONE : Q_CONTAINERS, e);
	struct row_cb r = { .fn.container = cb, .arg = arg };

	if (st == NULL)
		return -1;
	if (one)
		put_text(st, ":id", id);
	return query_rows(q, st, container_row, &r, "read containers", e);
}

int
store_query_processes(struct store_query *q, const char *container_id, store_process_cb cb,
    void *arg, struct err *e)
{
	sqlite3_stmt *st = query_get(q, Q_PROCESSES, e);
	struct row_cb r = { .fn.process = cb, .arg = arg };

	if (st == NULL)
		return -1;
	put_text(st, ":cid", container_id);
	return query_rows(q, st, process_row, &r, "read processes", e);
}

static int
process_state_row(sqlite3_stmt *st, void *arg)
{
	struct row_cb *r = arg;
	struct store_process p = { .container_id = "" };

	p.pid = store_col_text(st, 0);
	p.status = store_col_text(st, 1);
	p.exited = sqlite3_column_type(st, 2) != SQLITE_NULL;
	p.exit_status = sqlite3_column_int64(st, 2);
	p.args = p.env = p.cwd = p.stdin_path = p.stdout_path = p.stderr_path = p.spec = "";
	return r->fn.process(r->arg, &p);
}

int
store_query_process_states(struct store_query *q, const char *container_id,
    store_process_cb cb, void *arg, struct err *e)
{
	sqlite3_stmt *st = query_get(q, Q_PROCESS_STATES, e);
	struct row_cb r = { .fn.process = cb, .arg = arg };

	if (st == NULL)
		return -1;
	put_text(st, ":cid", container_id);
	return query_rows(q, st, process_state_row, &r, "read processes", e);
}

int
store_query_labels(struct store_query *q, const char *container_id, store_label_cb cb,
    void *arg, struct err *e)
{
	sqlite3_stmt *st = query_get(q, Q_LABELS, e);
	struct row_cb r = { .fn.label = cb, .arg = arg };

	if (st == NULL)
		return -1;
	put_text(st, ":cid", container_id);
	return query_rows(q, st, label_row, &r, "read labels", e);
}

int
store_query_checkpoints(struct store_query *q, const char *container_id,
    store_checkpoint_cb cb, void *arg, struct err *e)
{
	bool one = container_id != NULL && *container_id != '\0';
	sqlite3_stmt *st = query_get(q, one ? Q_CHECKPOINTS_ONE : Q_CHECKPOINTS_ALL, e);
	struct row_cb r = { .fn.checkpoint = cb, .arg = arg };

	if (st == NULL)
		return -1;
	if (one)
		put_text(st, ":cid", container_id);
	return query_rows(q, st, checkpoint_row, &r, "read checkpoints", e);
}

int
store_query_events(struct store_query *q, const struct store_event_filter *f,
    store_event_cb cb, void *arg, struct err *e)
{
	static const struct store_event_filter all = { 0 };
	bool one, typed;
	sqlite3_stmt *st;
	struct row_cb r = { .fn.event = cb, .arg = arg };

	if (f == NULL)
		f = &all;
	one = f->container_id != NULL && *f->container_id != '\0';
	typed = f->type != NULL && *f->type != '\0';
	if ((st = query_get(q, one ? Q_EVENTS_ONE : typed ? Q_EVENTS_TYPE : Q_EVENTS, e)) == NULL)
		return -1;
	if (one)
		put_text(st, ":cid", f->container_id);
	put_int(st, ":since", f->since);
	put_int(st, ":until", f->until > 0 ? f->until : INT64_MAX);
	put_text(st, ":type", f->type);
	return query_rows(q, st, event_row, &r, "read events", e);
}

int
store_query_integrity(struct store_query *q, store_text_cb cb, void *arg, struct err *e)
{
	sqlite3_stmt *st = query_get(q, Q_INTEGRITY, e);
	struct row_cb r = { .fn.text = cb, .arg = arg };

	if (st == NULL)
		return -1;
	return query_rows(q, st, integrity_row, &r, "PRAGMA integrity_check", e);
}

int
store_query_foreign_keys(struct store_query *q, store_fk_cb cb, void *arg, struct err *e)
{
	sqlite3_stmt *st = query_get(q, Q_FOREIGN_KEYS, e);
	struct row_cb r = { .fn.fk = cb, .arg = arg };

	if (st == NULL)
		return -1;
	return query_rows(q, st, fk_row, &r, "PRAGMA foreign_key_check", e);
}

int
store_query_orphan_labels(struct store_query *q, store_label_cb cb, void *arg, struct err *e)
{
	sqlite3_stmt *st = query_get(q, Q_ORPHAN_LABELS, e);
	struct row_cb r = { .fn.label = cb, .arg = arg };

	if (st == NULL)
		return -1;
	return query_rows(q, st, label_row, &r, "read labels", e);
}

int
store_query_orphan_processes(struct store_query *q, store_process_cb cb, void *arg,
    struct err *e)
{
	sqlite3_stmt *st = query_get(q, Q_ORPHAN_PROCESSES, e);
	struct row_cb r = { .fn.process = cb, .arg = arg };

	if (st == NULL)
		return -1;
	return query_rows(q, st, process_row, &r, "read processes", e);
}
