/* store: SQLite behind a small API; see store.h. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "migrations.h"
#include "store_internal.h"

#define ID_COPY_MAX 160

/* Every statement, prepared once beside its SQL. */
enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_CONTAINER_INSERT,
	ST_CONTAINER_STATUS,
	ST_CONTAINER_REMOVE,
	ST_LABEL_ADD,
	ST_PROCESS_INSERT,
	ST_PROCESS_REMOVE,
	ST_PROCESS_STARTED,
	ST_PROCESS_EXITED,
	ST_CHECKPOINT_INSERT,
	ST_CHECKPOINT_REMOVE,
	ST_EVENT_APPEND,
	ST_EVENT_LAST,
	ST_EVENT_LAST_TS,
	ST_EVENT_SEEK_TS,
	ST_CONTAINERS_ALL,
	ST_CONTAINERS_LIVE,
	ST_PROCESSES_ONE,
	ST_PROCESSES_ALL,
	ST_LABELS_ONE,
	ST_CHECKPOINTS_ONE,
	ST_CONTAINER_KNOWN,
	ST_CONTAINER_BUNDLE,
	ST_CONTAINER_RECORDED,
	ST_EVENT_COUNT,
	ST_PRUNE_CANDIDATES,
	ST_PRUNE_EVENTS,
	ST_FOLD_PAIRS,
	ST_EVENT_DELETE,
	ST_EVENTS_ALL,
	ST_EVENTS_ONE,
	ST_PROCESS_START_TIME,
	ST_PROCESS_SHIM,
	ST_PROCESS_GET_START_TIME,
	ST_PRUNE_EXEC_CANDIDATES,
	ST_PRUNE_EXEC_EVENTS,
	ST_RECORD_STATUS,
	ST_RECORDS_STOPPED,
	ST_RECORDS_PRUNABLE,
	ST_FORGET_EVENTS,
	ST_COUNT
};
_Static_assert(ST_COUNT <= 64, "struct store holds 64 statements");
_Static_assert((int)ST_BEGIN == (int)STORE_BEGIN && (int)ST_COMMIT == (int)STORE_COMMIT &&
    (int)ST_ROLLBACK == (int)STORE_ROLLBACK, "store_txn_step's statements");

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_CONTAINER_INSERT] =
	    "INSERT INTO containers (id, bundle, runtime, runtime_args, status, created_at,"
	    " updated_at, stdin, stdout, stderr, no_pivot_root, checkpoint, checkpoint_dir)"
	    " VALUES (:id, :bundle, :runtime, :runtime_args, :status, :created_at, :updated_at,"
	    " :stdin, :stdout, :stderr, :no_pivot_root, :checkpoint, :checkpoint_dir)",
	[ST_CONTAINER_STATUS] =
	    "UPDATE containers SET status = :status, updated_at = :ts WHERE id = :id",
	[ST_CONTAINER_REMOVE] = "DELETE FROM containers WHERE id = :id",
	[ST_LABEL_ADD] = "INSERT OR IGNORE INTO labels (container_id, label) VALUES (:id, :label)",
	[ST_PROCESS_INSERT] =
	    "INSERT INTO processes (container_id, pid, system_pid, shim_pid, shim_start_time,"
	    " args, env, cwd, uid, gid, terminal, stdin, stdout, stderr, spec, status,"
	    " exit_status, started_at, exited_at)"
	    " VALUES (:cid, :pid, :system_pid, :shim_pid, :shim_start_time, :args, :env, :cwd,"
	    " :uid, :gid, :terminal, :stdin, :stdout, :stderr, :spec, :status, :exit_status,"
	    " :started_at, :exited_at)",
	[ST_PROCESS_REMOVE] = "DELETE FROM processes WHERE container_id = :cid AND pid = :pid",
	[ST_PROCESS_STARTED] =
	    "UPDATE processes SET status = 'running', system_pid = :system_pid,"
	    " shim_pid = :shim_pid, shim_start_time = :shim_start_time, started_at = :ts"
	    " WHERE container_id = :cid AND pid = :pid",
	[ST_PROCESS_EXITED] =
	    "UPDATE processes SET status = 'exited', exit_status = :exit_status, exited_at = :ts"
	    " WHERE container_id = :cid AND pid = :pid",
	/* One row per container and name: the last checkpoint this daemon made
	 * under that name (in whichever directory), with its options. */
	[ST_CHECKPOINT_INSERT] =
	    "INSERT OR REPLACE INTO checkpoints (container_id, name, path, created_at, exit, tcp,"
	    " unix_sockets, shell, empty_ns) VALUES (:cid, :name, :path, :created_at, :exit,"
	    " :tcp, :unix_sockets, :shell, :empty_ns)",
	[ST_CHECKPOINT_REMOVE] = "DELETE FROM checkpoints WHERE container_id = :cid AND name = :name"
				 " AND path = :path",
	/* seq and ts are the store's (see store_event_append_note). */
	[ST_EVENT_APPEND] =
	    "INSERT INTO events (seq, ts, type, container_id, pid, status, note, occurred_at)"
	    " VALUES (:seq, :ts, :type, :cid, :pid, :status, :note, :occurred_at)",
	/* The last seq handed out, even if pruning removed its row. */
	[ST_EVENT_LAST] = "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'),"
			  " 0), coalesce((SELECT max(seq) FROM events), 0))",
	[ST_EVENT_LAST_TS] = "SELECT coalesce(max(ts), 0) FROM events",
	/* ts grows with seq (schema 004): the first event after a time is
	 * found by the ts index, not by a scan from the first seq. */
	[ST_EVENT_SEEK_TS] = "SELECT seq FROM events WHERE ts > :ts ORDER BY ts LIMIT 1",
#define CONTAINER_COLUMNS \
	"id, bundle, runtime, runtime_args, status, created_at, updated_at, stdin, stdout," \
	" stderr, no_pivot_root, checkpoint, checkpoint_dir"
	[ST_CONTAINERS_ALL] = "SELECT " CONTAINER_COLUMNS " FROM containers ORDER BY created_at, id",
	[ST_CONTAINERS_LIVE] = "SELECT " CONTAINER_COLUMNS " FROM containers"
			       " WHERE status NOT IN ('stopped', 'deleted', 'failed')"
			       " ORDER BY created_at, id",
#define PROCESS_COLUMNS \
	"container_id, pid, system_pid, shim_pid, shim_start_time, args, env, cwd, uid, gid," \
	" terminal, stdin, stdout, stderr, spec, status, exit_status, started_at, exited_at"
	[ST_PROCESSES_ONE] = "SELECT " PROCESS_COLUMNS " FROM processes WHERE container_id = :cid"
			     " ORDER BY pid != 'init', started_at, pid",
	[ST_PROCESSES_ALL] = "SELECT " PROCESS_COLUMNS " FROM processes"
			     " ORDER BY container_id, pid != 'init', started_at, pid",
	[ST_LABELS_ONE] = "SELECT container_id, label FROM labels WHERE container_id = :cid"
			  " ORDER BY rowid",
	[ST_CHECKPOINTS_ONE] = "SELECT container_id, name, path, created_at, exit, tcp,"
			       " unix_sockets, shell, empty_ns FROM checkpoints"
			       " WHERE container_id = :cid ORDER BY created_at, name",
	[ST_CONTAINER_KNOWN] = "SELECT count(*) FROM containers WHERE id = :id",
	[ST_CONTAINER_BUNDLE] = "SELECT bundle FROM containers WHERE id = :id",
	[ST_CONTAINER_RECORDED] = "SELECT count(*) FROM containers WHERE id = :id"
				  " AND status = :status AND created_at = :created_at",
	[ST_EVENT_COUNT] = "SELECT count(*) FROM events",
	/* Whole histories only: a stopped container without checkpoints goes
	 * with every event of its id, so replay never sees half a history. */
	[ST_PRUNE_CANDIDATES] =
	    "SELECT id FROM containers c WHERE status IN ('stopped', 'failed')"
	    " AND updated_at < :before"
	    " AND NOT EXISTS (SELECT 1 FROM checkpoints k WHERE k.container_id = c.id)"
	    " AND NOT EXISTS (SELECT 1 FROM events e WHERE e.container_id = c.id"
	    "                 AND e.seq > :delivered)"
	    " ORDER BY updated_at LIMIT :batch",
	[ST_PRUNE_EVENTS] = "DELETE FROM events WHERE container_id = :id",
	/* A pause whose container's very next event is its resume, both
	 * delivered: the pair changes nothing a replay rebuilds. */
	[ST_FOLD_PAIRS] =
	    "SELECT p.seq, r.seq FROM events p JOIN events r ON r.seq ="
	    "  (SELECT min(x.seq) FROM events x WHERE x.container_id = p.container_id"
	    "   AND x.seq > p.seq)"
	    " WHERE p.type = 'pause' AND r.type = 'resume' AND p.container_id != ''"
	    " AND r.seq <= :delivered ORDER BY p.seq LIMIT :batch",
	[ST_EVENT_DELETE] = "DELETE FROM events WHERE seq = :seq",
	[ST_EVENTS_ALL] = "SELECT seq, ts, type, container_id, pid, status FROM events"
			  " WHERE seq > :after_seq AND ts > :after_ts ORDER BY seq LIMIT :limit",
	[ST_EVENTS_ONE] = "SELECT seq, ts, type, container_id, pid, status FROM events"
			  " WHERE container_id = :cid AND seq > :after_seq AND ts > :after_ts"
			  " ORDER BY seq LIMIT :limit",
	[ST_PROCESS_START_TIME] =
	    "UPDATE processes SET start_time = :start_time WHERE container_id = :cid AND pid = :pid",
	[ST_PROCESS_SHIM] =
	    "UPDATE processes SET shim_pid = :shim_pid, shim_start_time = :shim_start_time"
	    " WHERE container_id = :cid AND pid = :pid",
	[ST_PROCESS_GET_START_TIME] =
	    "SELECT start_time FROM processes WHERE container_id = :cid AND pid = :pid",
	/* Finished execs of live containers, oldest exit first, whose events
	 * were all sent to every subscriber. */
	[ST_PRUNE_EXEC_CANDIDATES] =
	    "SELECT p.container_id, p.pid FROM processes p JOIN containers c"
	    " ON c.id = p.container_id"
	    " WHERE p.status = 'exited' AND p.pid != 'init' AND c.status IN ('running', 'paused')"
	    " AND p.exited_at < :before AND NOT EXISTS (SELECT 1 FROM events e WHERE e.container_id = p.container_id"
	    "                 AND e.pid = p.pid AND e.seq > :delivered)"
	    " ORDER BY p.exited_at LIMIT :batch",
	[ST_PRUNE_EXEC_EVENTS] = "DELETE FROM events WHERE container_id = :cid AND pid = :pid",
	/* Records (store_records_*): stopped containers, by id. */
	[ST_RECORD_STATUS] = "SELECT status FROM containers WHERE id = :id",
	/* The init's start and exit, and the note of the id's last init exit
	 * event (the events_container index, from the end; `+e.type` keeps the
	 * planner off the type index, which would visit every exit of the
	 * history for each container). */
	[ST_RECORDS_STOPPED] =
	    "SELECT c.id, c.bundle, c.status, c.created_at, coalesce(p.exit_status, 255),"
	    " coalesce(p.exited_at, c.updated_at),"
	    " coalesce((SELECT e.note FROM events e WHERE e.container_id = c.id"
	    "           AND +e.type = 'exit' AND e.pid IN ('', 'init') ORDER BY e.seq DESC"
	    "           LIMIT 1), ''), p.started_at"
	    " FROM containers c LEFT JOIN processes p ON p.container_id = c.id AND p.pid = 'init'"
	    " WHERE c.status IN ('stopped', 'deleted', 'failed') AND c.id > :after"
	    " ORDER BY c.id LIMIT :limit",
	[ST_RECORDS_PRUNABLE] =
	    "SELECT c.id FROM containers c"
	    " LEFT JOIN processes p ON p.container_id = c.id AND p.pid = 'init'"
	    " WHERE c.status IN ('stopped', 'deleted', 'failed') AND c.id > :after"
	    " AND (:before = 0 OR coalesce(p.exited_at, c.updated_at) < :before)"
	    " ORDER BY c.id LIMIT :limit",
	/* A checkpoint's events stay with its row (rpc_records.c says why). */
	[ST_FORGET_EVENTS] = "DELETE FROM events WHERE container_id = :id"
			     " AND type NOT IN ('create-checkpoint', 'delete-checkpoint')",
};


static int
sql_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return GRPC_RESOURCE_EXHAUSTED;
	case SQLITE_CONSTRAINT:
		return GRPC_ALREADY_EXISTS;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return GRPC_UNAVAILABLE;
	default:
		return GRPC_INTERNAL;
	}
}

int
store_sql_fail(struct store *s, struct err *e, const char *what)
{
	int rc = sqlite3_extended_errcode(s->db);

	if ((rc & 0xff) == SQLITE_FULL)
		return err_set(e, GRPC_RESOURCE_EXHAUSTED,
		    "%s: the disk holding %s is full; free some space and retry", what, s->path);
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return err_set(e, GRPC_UNAVAILABLE,
		    "%s: %s is locked by another process (a write transaction held open);"
		    " retry once it lets go", what, s->path);
	return err_set(e, sql_code(rc), "%s: %s (database %s)", what, sqlite3_errmsg(s->db),
	    s->path);
}

static sqlite3_stmt *
stmt_get(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->stmt[id];

	if (st == NULL)
		return NULL; /* a write statement on a read-only handle */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static void
bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
	int i = st ? sqlite3_bind_parameter_index(st, name) : 0;

	if (i > 0)
		sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_TRANSIENT);
}

static void
bind_int(sqlite3_stmt *st, const char *name, int64_t v)
{
	int i = st ? sqlite3_bind_parameter_index(st, name) : 0;

	if (i > 0)
		sqlite3_bind_int64(st, i, v);
}

static void
bind_null(sqlite3_stmt *st, const char *name)
{
	int i = st ? sqlite3_bind_parameter_index(st, name) : 0;

	if (i > 0)
		sqlite3_bind_null(st, i);
}

int
store_txn_step(struct store *s, enum store_txn which)
{
	sqlite3_stmt *st = stmt_get(s, (enum stmt_id)which);
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc;
}

const char *
store_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

static int
exec_sql(struct store *s, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, sql_code(sqlite3_extended_errcode(s->db)), "database %s: %s", s->path,
		    msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
pragma_int(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int
store_schema_latest(void)
{
	return migrations_count > 0 ? migrations[migrations_count - 1].version : 0;
}

int
store_schema_version(struct store *s)
{
	return pragma_int(s, "PRAGMA user_version");
}

/* Each migration in its own transaction, tracked by user_version. */
static int
migrate(struct store *s, struct err *e)
{
	int version = store_schema_version(s);
	char sql[128];

	for (int i = 0; i < migrations_count; i++) {
		if (migrations[i].version <= version)
			continue;
		if (exec_sql(s, "BEGIN IMMEDIATE", e) < 0)
			return -1;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d; PRAGMA application_id = %d",
		    migrations[i].version, STORE_APPLICATION_ID);
		if (exec_sql(s, migrations[i].sql, e) < 0 || exec_sql(s, sql, e) < 0) {
			char why[ERR_MSG_MAX];

			snprintf(why, sizeof(why), "%s", e ? e->msg : "");
			exec_sql(s, "ROLLBACK", NULL);
			return err_set(e, GRPC_INTERNAL, "migration %s failed: %s",
			    migrations[i].name, why);
		}
		if (exec_sql(s, "COMMIT", e) < 0)
			return -1;
		log_info("database %s migrated to schema %d (%s)", s->path, migrations[i].version,
		    migrations[i].name);
	}
	return 0;
}

static int
check_file(struct store *s, struct err *e)
{
	int app = pragma_int(s, "PRAGMA application_id");
	int version = store_schema_version(s);
	int tables = pragma_int(s, "SELECT count(*) FROM sqlite_schema");

	if (app < 0 || version < 0 || tables < 0)
		return err_set(e, GRPC_FAILED_PRECONDITION,
		    "%s is not a readable SQLite database (%s); move it away to start afresh",
		    s->path, sqlite3_errmsg(s->db));
	if (app != STORE_APPLICATION_ID && tables > 0)
		return err_set(e, GRPC_FAILED_PRECONDITION,
		    "%s is an SQLite database but not containerd's (application_id %d);"
		    " point --state-dir elsewhere", s->path, app);
	if (version > store_schema_latest())
		return err_set(e, GRPC_FAILED_PRECONDITION,
		    "%s has schema version %d, newer than this binary's %d;"
		    " run a newer containerd", s->path, version, store_schema_latest());
	return 0;
}

static int
quick_check(struct store *s, struct err *e)
{
	sqlite3_stmt *st;
	const char *res;
	int ok;

	if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK)
		return store_sql_fail(s, e, "PRAGMA quick_check");
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return store_sql_fail(s, e, "PRAGMA quick_check");
	}
	res = store_col_text(st, 0);
	ok = strcmp(res, "ok") == 0;
	if (!ok)
		err_set(e, GRPC_INTERNAL,
		    "%s is damaged (quick_check: %s); restore it from a backup or move it away",
		    s->path, res);
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

struct store *
store_open(const char *path, bool readonly, struct err *e)
{
	struct store *s = calloc(1, sizeof(*s));
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int rc;

	if (s == NULL) {
		err_set(e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->readonly = readonly;
	if (!readonly) {
		/* Create it 0600 ourselves: SQLite would use the umask. */
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0) {
			err_set(e, errno == ENOSPC ? GRPC_RESOURCE_EXHAUSTED : GRPC_INTERNAL,
			    "cannot open %s: %s", path, strerror(errno));
			free(s);
			return NULL;
		}
		fchmod(fd, 0600);
		close(fd);
	} else if (access(path, R_OK) != 0) {
		err_set(e, GRPC_NOT_FOUND, "cannot read %s: %s", path, strerror(errno));
		free(s);
		return NULL;
	}
	rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		err_set(e, GRPC_INTERNAL, "cannot open database %s: %s", path,
		    s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	/* Tools wait for a writer; the daemon's migration too, below. */
	sqlite3_busy_timeout(s->db, 5000);
	/* 512 KiB of page cache, not SQLite's 2 MB: State is answered from
	 * memory, so the cache serves only writes (a few pages each) and
	 * startup, and a miss is a pread from the OS's cache. With 1000
	 * containers the file is ~1.3 MB, which the default would hold
	 * entirely in the daemon's heap. */
	exec_sql(s, "PRAGMA cache_size = -512", NULL);
	sqlite3_extended_result_codes(s->db, 1);
	if (check_file(s, e) < 0)
		goto fail;
	if (!readonly) {
		if (exec_sql(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
				 " PRAGMA foreign_keys = ON", e) < 0)
			goto fail;
		if (quick_check(s, e) < 0 || migrate(s, e) < 0)
			goto fail;
	} else if (store_schema_version(s) == 0) {
		err_set(e, GRPC_FAILED_PRECONDITION, "%s has no schema yet: start containerd once",
		    path);
		goto fail;
	}
	for (int i = 0; i < ST_COUNT; i++) {
		if (readonly && (i <= ST_EVENT_APPEND && i != ST_EVENT_LAST))
			continue;
		/* A read-only look at a file not yet migrated to 002 has no
		 * sqlite_sequence: the plain max is right there. */
		if (i == ST_EVENT_LAST && readonly && store_schema_version(s) < 2 &&
		    sqlite3_prepare_v3(s->db, "SELECT coalesce(max(seq), 0) FROM events", -1,
			SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL) == SQLITE_OK)
			continue;
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
			&s->stmt[i], NULL) != SQLITE_OK) {
			store_sql_fail(s, e, stmt_sql[i]);
			goto fail;
		}
	}
	s->durable_seq = s->commit_seq = s->last_seq = store_event_last_seq(s);
	{
		sqlite3_stmt *st = stmt_get(s, ST_EVENT_LAST_TS);

		if (sqlite3_step(st) == SQLITE_ROW)
			s->last_ts = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	if (!readonly) {
		struct stat st;

		/* The daemon's loop never waits for another process's lock: a
		 * busy database stalls the store (its writes wait in memory). */
		sqlite3_busy_timeout(s->db, 0);
		if (stat(path, &st) == 0) {
			s->dev = st.st_dev;
			s->ino = st.st_ino;
		}
	}
	return s;
fail:
	store_close(s);
	return NULL;
}

/*
 * The file was deleted under the daemon (its inode is still open here):
 * before the last reference goes, its content and the journal are written
 * to a new file, linked at the path once the connection is closed (closing
 * removes the -wal and -shm of the deleted file, which must not be applied
 * to the new one). Without it the next start would find no database and
 * kill every container as unknown. Returns the temporary path ("" if none).
 */
static void
save_deleted(struct store *s, char *tmp, size_t n)
{
	struct stat st;
	sqlite3 *db = NULL;
	char *sql;
	int i, rc;

	tmp[0] = '\0';
	if (s->readonly || s->ino == 0 || stat(s->path, &st) == 0 || errno != ENOENT)
		return;
	snprintf(tmp, n, "%s.saved-%ld", s->path, (long)getpid());
	unlink(tmp);
	if (!sqlite3_get_autocommit(s->db))
		exec_sql(s, "ROLLBACK", NULL);
	if ((sql = sqlite3_mprintf("VACUUM INTO %Q", tmp)) == NULL ||
	    sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		log_errorx("database %s was deleted while the daemon ran, and its content cannot"
			   " be saved to %s: %s", s->path, tmp, sqlite3_errmsg(s->db));
		sqlite3_free(sql);
		unlink(tmp);
		tmp[0] = '\0';
		return;
	}
	sqlite3_free(sql);
	/* The facts kept in memory since, as a retry would write them. */
	rc = sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (i = 0; rc == SQLITE_OK && i < s->n_journal; i++)
		if (sqlite3_exec(db, s->journal[i], NULL, NULL, NULL) != SQLITE_OK)
			log_errorx("database %s: a change kept in memory cannot be saved: %s: %s",
			    s->path, s->journal[i], sqlite3_errmsg(db));
	if (rc != SQLITE_OK || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		log_errorx("database %s: the %d change(s) kept in memory cannot be saved: %s",
		    s->path, s->n_journal, db != NULL ? sqlite3_errmsg(db) : "out of memory");
	else
		store_journal_clear(s);
	sqlite3_close(db);
}

/* Puts the saved copy at the path, never over a file someone put there
 * (then it stays at tmp, and the log says so). */
static void
link_saved(const char *path, const char *tmp)
{
	char side[sizeof(((struct store *)0)->path) + 8];

	if (tmp[0] == '\0')
		return;
	if (access(path, F_OK) == 0) {
		log_errorx("database %s was deleted while the daemon ran, and another file is"
			   " there now: what the daemon held is saved as %s", path, tmp);
		return;
	}
	/* The deleted file's WAL and shared memory, left at their names: the
	 * saved copy holds their content, and they must not be replayed into it. */
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	if (link(tmp, path) == 0) {
		log_errorx("database %s was deleted while the daemon ran: what it held, and the"
			   " changes refused since, are saved back there", path);
		unlink(tmp);
	} else {
		log_errorx("database %s was deleted while the daemon ran: what it held is saved"
			   " as %s (not linked back: %s)", path, tmp, strerror(errno));
	}
}

void
store_close(struct store *s)
{
	char saved[sizeof(s->path) + 32];

	if (s == NULL)
		return;
	store_sync_close(s);
	save_deleted(s, saved, sizeof(saved));
	if (saved[0] == '\0' && (s->in_txn || s->stalled)) {
		struct err e;

		/* The last chance for facts kept in memory: wait for a lock a
		 * while, and sync in the commit (the async sync is gone). */
		sqlite3_busy_timeout(s->db, 2000);
		exec_sql(s, "PRAGMA synchronous = FULL", NULL);
		store_commit(s, &e);
		if (s->stalled && store_retry(s, &e) < 0)
			log_errorx("database %s: %d change(s) kept in memory are lost: %s", s->path,
			    s->n_journal, e.msg);
	}
	store_journal_clear(s);
	free(s->journal);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	if (s->in_txn)
		exec_sql(s, "ROLLBACK", NULL);
	sqlite3_close(s->db);
	link_saved(s->path, saved);
	free(s);
}

/* Runs a write statement inside the iteration's transaction, and journals
 * it. While the store is stalled it is only journaled: it runs when the
 * journal is re-applied. */
static int
write_step(struct store *s, sqlite3_stmt *st, struct err *e, const char *what)
{
	char *sql;
	int rc;

	if (s->readonly)
		return err_set(e, GRPC_FAILED_PRECONDITION, "%s: the database is open read-only",
		    what);
	if ((sql = sqlite3_expanded_sql(st)) == NULL) {
		sqlite3_reset(st);
		return err_set(e, GRPC_RESOURCE_EXHAUSTED, "%s: out of memory", what);
	}
	if (!s->stalled && !s->in_txn) {
		sqlite3_stmt *b = stmt_get(s, ST_BEGIN);

		if ((rc = sqlite3_step(b)) == SQLITE_DONE)
			s->in_txn = true;
		else if (store_transient(rc))
			store_stall(s, "begin transaction");
		sqlite3_reset(b);
		if (!s->in_txn && !s->stalled) {
			sqlite3_free(sql);
			sqlite3_reset(st);
			return store_sql_fail(s, e, "begin transaction");
		}
	}
	if (!s->stalled) {
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE && store_transient(rc)) {
			store_stall(s, what);
		} else if (rc != SQLITE_DONE) {
			/* This statement is wrong, not the database: it is
			 * undone alone and the transaction goes on. */
			sqlite3_free(sql);
			return store_sql_fail(s, e, what);
		}
	} else {
		sqlite3_reset(st);
	}
	if (store_journal_add(s, sql) < 0) {
		sqlite3_free(sql);
		return err_set(e, GRPC_RESOURCE_EXHAUSTED, "%s: out of memory", what);
	}
	s->pending++;
	return 0;
}

int
store_container_insert(struct store *s, const struct store_container *c, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_CONTAINER_INSERT);

	bind_text(st, ":id", c->id);
	bind_text(st, ":bundle", c->bundle);
	bind_text(st, ":runtime", c->runtime);
	bind_text(st, ":runtime_args", c->runtime_args ? c->runtime_args : "[]");
	bind_text(st, ":status", c->status);
	bind_int(st, ":created_at", c->created_at);
	bind_int(st, ":updated_at", c->updated_at ? c->updated_at : c->created_at);
	bind_text(st, ":stdin", c->stdin_path);
	bind_text(st, ":stdout", c->stdout_path);
	bind_text(st, ":stderr", c->stderr_path);
	bind_int(st, ":no_pivot_root", c->no_pivot_root);
	bind_text(st, ":checkpoint", c->checkpoint);
	bind_text(st, ":checkpoint_dir", c->checkpoint_dir);
	return write_step(s, st, e, "record container");
}

int
store_container_set_status(struct store *s, const char *id, const char *status, int64_t ts,
    struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_CONTAINER_STATUS);

	bind_text(st, ":id", id);
	bind_text(st, ":status", status);
	bind_int(st, ":ts", ts);
	return write_step(s, st, e, "update container status");
}

int
store_container_remove(struct store *s, const char *id, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_CONTAINER_REMOVE);

	bind_text(st, ":id", id);
	return write_step(s, st, e, "remove container");
}

int
store_label_add(struct store *s, const char *id, const char *label, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_LABEL_ADD);

	bind_text(st, ":id", id);
	bind_text(st, ":label", label);
	return write_step(s, st, e, "record label");
}

int
store_process_insert(struct store *s, const struct store_process *p, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_PROCESS_INSERT);

	bind_text(st, ":cid", p->container_id);
	bind_text(st, ":pid", p->pid);
	bind_int(st, ":system_pid", p->system_pid);
	bind_int(st, ":shim_pid", p->shim_pid);
	bind_int(st, ":shim_start_time", p->shim_start_time);
	bind_text(st, ":args", p->args ? p->args : "[]");
	bind_text(st, ":env", p->env ? p->env : "[]");
	bind_text(st, ":cwd", p->cwd);
	bind_int(st, ":uid", p->uid);
	bind_int(st, ":gid", p->gid);
	bind_int(st, ":terminal", p->terminal);
	bind_text(st, ":stdin", p->stdin_path);
	bind_text(st, ":stdout", p->stdout_path);
	bind_text(st, ":stderr", p->stderr_path);
	bind_text(st, ":spec", p->spec ? p->spec : "{}");
	bind_text(st, ":status", p->status ? p->status : "creating");
	if (p->exited) {
		bind_int(st, ":exit_status", p->exit_status);
		bind_int(st, ":exited_at", p->exited_at);
	} else {
		bind_null(st, ":exit_status");
		bind_null(st, ":exited_at");
	}
	if (p->started_at)
		bind_int(st, ":started_at", p->started_at);
	else
		bind_null(st, ":started_at");
	return write_step(s, st, e, "record process");
}

int
store_process_remove(struct store *s, const char *container_id, const char *pid, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_PROCESS_REMOVE);

	bind_text(st, ":cid", container_id);
	bind_text(st, ":pid", pid);
	return write_step(s, st, e, "remove process");
}

int
store_process_started(struct store *s, const char *container_id, const char *pid,
    int64_t system_pid, int64_t shim_pid, int64_t shim_start_time, int64_t started_at,
    struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_PROCESS_STARTED);

	bind_text(st, ":cid", container_id);
	bind_text(st, ":pid", pid);
	bind_int(st, ":system_pid", system_pid);
	bind_int(st, ":shim_pid", shim_pid);
	bind_int(st, ":shim_start_time", shim_start_time);
	bind_int(st, ":ts", started_at);
	return write_step(s, st, e, "record process start");
}

int
store_process_exited(struct store *s, const char *container_id, const char *pid,
    int64_t exit_status, int64_t exited_at, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_PROCESS_EXITED);

	bind_text(st, ":cid", container_id);
	bind_text(st, ":pid", pid);
	bind_int(st, ":exit_status", exit_status);
	bind_int(st, ":ts", exited_at);
	return write_step(s, st, e, "record process exit");
}

int
store_checkpoint_insert(struct store *s, const struct store_checkpoint *c, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_CHECKPOINT_INSERT);

	bind_text(st, ":cid", c->container_id);
	bind_text(st, ":name", c->name);
	bind_text(st, ":path", c->path);
	bind_int(st, ":created_at", c->created_at);
	bind_int(st, ":exit", c->exit);
	bind_int(st, ":tcp", c->tcp);
	bind_int(st, ":unix_sockets", c->unix_sockets);
	bind_int(st, ":shell", c->shell);
	bind_text(st, ":empty_ns", c->empty_ns ? c->empty_ns : "[]");
	return write_step(s, st, e, "record checkpoint");
}

int
store_checkpoint_remove(struct store *s, const char *container_id, const char *name,
    const char *path, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_CHECKPOINT_REMOVE);

	bind_text(st, ":cid", container_id);
	bind_text(st, ":name", name);
	bind_text(st, ":path", path);
	return write_step(s, st, e, "remove checkpoint");
}

int64_t
store_event_append(struct store *s, int64_t ts, const char *type, const char *container_id,
    const char *pid, int64_t status, struct err *e)
{
	return store_event_append_note(s, ts, type, container_id, pid, status, "", e);
}

int64_t
store_event_append_note(struct store *s, int64_t ts, const char *type, const char *container_id,
    const char *pid, int64_t status, const char *note, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_EVENT_APPEND);
	struct timespec now;
	int64_t rec;

	/* The time of recording, strictly increasing in seq order (also across
	 * restarts: last_ts starts at the table's), so that "every event after
	 * T" is exact. The caller's time is the fact's own: occurred_at. */
	clock_gettime(CLOCK_REALTIME, &now);
	rec = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	if (rec <= s->last_ts)
		rec = s->last_ts + 1;
	bind_int(st, ":seq", s->last_seq + 1);
	bind_int(st, ":ts", rec);
	bind_int(st, ":occurred_at", ts);
	bind_text(st, ":type", type);
	bind_text(st, ":cid", container_id);
	bind_text(st, ":pid", pid);
	bind_int(st, ":status", status);
	bind_text(st, ":note", note ? note : "");
	if (write_step(s, st, e, "record event") < 0)
		return -1;
	s->last_ts = rec;
	return ++s->last_seq;
}

int64_t
store_event_last_ts(struct store *s)
{
	return s->last_ts;
}

int64_t
store_event_last_seq(struct store *s)
{
	sqlite3_stmt *st = stmt_get(s, ST_EVENT_LAST);
	int64_t v = 0;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

void
store_row_container(sqlite3_stmt *st, struct store_container *c)
{
	c->id = store_col_text(st, 0);
	c->bundle = store_col_text(st, 1);
	c->runtime = store_col_text(st, 2);
	c->runtime_args = store_col_text(st, 3);
	c->status = store_col_text(st, 4);
	c->created_at = sqlite3_column_int64(st, 5);
	c->updated_at = sqlite3_column_int64(st, 6);
	c->stdin_path = store_col_text(st, 7);
	c->stdout_path = store_col_text(st, 8);
	c->stderr_path = store_col_text(st, 9);
	c->no_pivot_root = sqlite3_column_int(st, 10) != 0;
	c->checkpoint = store_col_text(st, 11);
	c->checkpoint_dir = store_col_text(st, 12);
}

void
store_row_process(sqlite3_stmt *st, struct store_process *p)
{
	p->container_id = store_col_text(st, 0);
	p->pid = store_col_text(st, 1);
	p->system_pid = sqlite3_column_int64(st, 2);
	p->shim_pid = sqlite3_column_int64(st, 3);
	p->shim_start_time = sqlite3_column_int64(st, 4);
	p->args = store_col_text(st, 5);
	p->env = store_col_text(st, 6);
	p->cwd = store_col_text(st, 7);
	p->uid = sqlite3_column_int64(st, 8);
	p->gid = sqlite3_column_int64(st, 9);
	p->terminal = sqlite3_column_int(st, 10) != 0;
	p->stdin_path = store_col_text(st, 11);
	p->stdout_path = store_col_text(st, 12);
	p->stderr_path = store_col_text(st, 13);
	p->spec = store_col_text(st, 14);
	p->status = store_col_text(st, 15);
	p->exited = sqlite3_column_type(st, 16) != SQLITE_NULL;
	p->exit_status = sqlite3_column_int64(st, 16);
	p->started_at = sqlite3_column_int64(st, 17);
	p->exited_at = sqlite3_column_int64(st, 18);
}

void
store_row_checkpoint(sqlite3_stmt *st, struct store_checkpoint *c)
{
	c->container_id = store_col_text(st, 0);
	c->name = store_col_text(st, 1);
	c->path = store_col_text(st, 2);
	c->created_at = sqlite3_column_int64(st, 3);
	c->exit = sqlite3_column_int(st, 4) != 0;
	c->tcp = sqlite3_column_int(st, 5) != 0;
	c->unix_sockets = sqlite3_column_int(st, 6) != 0;
	c->shell = sqlite3_column_int(st, 7) != 0;
	c->empty_ns = store_col_text(st, 8);
}

void
store_row_event(sqlite3_stmt *st, struct store_event *ev)
{
	ev->seq = sqlite3_column_int64(st, 0);
	ev->ts = sqlite3_column_int64(st, 1);
	ev->type = store_col_text(st, 2);
	ev->container_id = store_col_text(st, 3);
	ev->pid = store_col_text(st, 4);
	ev->status = sqlite3_column_int64(st, 5);
	/* The daemon's own reads leave it out: the time of recording then. */
	ev->occurred_at = sqlite3_column_count(st) > 6 ? sqlite3_column_int64(st, 6) : ev->ts;
}

/* Steps a read statement, handing each row to fn; the shared loop of every foreach. */
static int
read_rows(struct store *s, sqlite3_stmt *st, int (*row)(void *, sqlite3_stmt *), void *arg,
    struct err *e, const char *what)
{
	int rc, stop = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((stop = row(arg, st)) != 0)
			break;
	}
	if (stop == 0 && rc != SQLITE_DONE) {
		store_sql_fail(s, e, what);
		stop = -1;
	}
	sqlite3_reset(st);
	return stop;
}

struct row_ctx {
	void *cb;
	void *arg;
};

static int
container_row(void *p, sqlite3_stmt *st)
{
	struct row_ctx *rc = p;
	struct store_container c;

	store_row_container(st, &c);
	return ((store_container_cb)rc->cb)(rc->arg, &c);
}

static int
process_row(void *p, sqlite3_stmt *st)
{
	struct row_ctx *rc = p;
	struct store_process pr;

	store_row_process(st, &pr);
	return ((store_process_cb)rc->cb)(rc->arg, &pr);
}

static int
label_row(void *p, sqlite3_stmt *st)
{
	struct row_ctx *rc = p;

	return ((store_label_cb)rc->cb)(rc->arg, store_col_text(st, 0), store_col_text(st, 1));
}

static int
event_row(void *p, sqlite3_stmt *st)
{
	struct row_ctx *rc = p;
	struct store_event ev;

	store_row_event(st, &ev);
	return ((store_event_cb)rc->cb)(rc->arg, &ev);
}

int
store_containers_foreach(struct store *s, bool live_only, store_container_cb cb, void *arg,
    struct err *e)
{
	struct row_ctx rc = { (void *)cb, arg };

	return read_rows(s, stmt_get(s, live_only ? ST_CONTAINERS_LIVE : ST_CONTAINERS_ALL),
	    container_row, &rc, e, "list containers");
}

int
store_processes_foreach(struct store *s, const char *container_id, store_process_cb cb,
    void *arg, struct err *e)
{
	struct row_ctx rc = { (void *)cb, arg };
	sqlite3_stmt *st;

	if (container_id != NULL) {
		st = stmt_get(s, ST_PROCESSES_ONE);
		bind_text(st, ":cid", container_id);
	} else {
		st = stmt_get(s, ST_PROCESSES_ALL);
	}
	return read_rows(s, st, process_row, &rc, e, "list processes");
}

int
store_labels_foreach(struct store *s, const char *container_id, store_label_cb cb, void *arg,
    struct err *e)
{
	struct row_ctx rc = { (void *)cb, arg };
	sqlite3_stmt *st = stmt_get(s, ST_LABELS_ONE);

	bind_text(st, ":cid", container_id);
	return read_rows(s, st, label_row, &rc, e, "list labels");
}

int
store_events_foreach(struct store *s, int64_t after_seq, int64_t after_ts,
    const char *container_id, int limit, store_event_cb cb, void *arg, struct err *e)
{
	struct row_ctx rc = { (void *)cb, arg };
	bool one = container_id != NULL && container_id[0] != '\0';
	sqlite3_stmt *st = stmt_get(s, one ? ST_EVENTS_ONE : ST_EVENTS_ALL);

	if (one)
		bind_text(st, ":cid", container_id);
	bind_int(st, ":after_seq", after_seq);
	bind_int(st, ":after_ts", after_ts);
	bind_int(st, ":limit", limit > 0 ? limit : -1);
	return read_rows(s, st, event_row, &rc, e, "list events");
}

static int
checkpoint_row(void *p, sqlite3_stmt *st)
{
	struct row_ctx *rc = p;
	struct store_checkpoint c;

	store_row_checkpoint(st, &c);
	return ((store_checkpoint_cb)rc->cb)(rc->arg, &c);
}

int
store_checkpoints_foreach(struct store *s, const char *container_id, store_checkpoint_cb cb,
    void *arg, struct err *e)
{
	struct row_ctx rc = { (void *)cb, arg };
	sqlite3_stmt *st = stmt_get(s, ST_CHECKPOINTS_ONE);

	bind_text(st, ":cid", container_id);
	return read_rows(s, st, checkpoint_row, &rc, e, "list checkpoints");
}

int
store_container_known(struct store *s, const char *id, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_CONTAINER_KNOWN);
	int n = -1;

	bind_text(st, ":id", id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0) > 0;
	else
		store_sql_fail(s, e, "look up container");
	sqlite3_reset(st);
	return n;
}

int
store_container_bundle(struct store *s, const char *id, char **bundle, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_CONTAINER_BUNDLE);
	int rc;

	*bundle = NULL;
	bind_text(st, ":id", id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *b = (const char *)sqlite3_column_text(st, 0);

		if ((*bundle = strdup(b ? b : "")) == NULL) {
			err_set(e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
			rc = -1;
		} else
			rc = 1;
	} else if (rc == SQLITE_DONE)
		rc = 0;
	else {
		store_sql_fail(s, e, "look up container");
		rc = -1;
	}
	sqlite3_reset(st);
	return rc;
}

int
store_container_recorded(struct store *s, const char *id, const char *status,
    int64_t created_at, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_CONTAINER_RECORDED);
	int n = -1;

	bind_text(st, ":id", id);
	bind_text(st, ":status", status);
	bind_int(st, ":created_at", created_at);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0) > 0;
	else
		store_sql_fail(s, e, "look up container");
	sqlite3_reset(st);
	return n;
}

const struct err *
store_commit_error(struct store *s)
{
	return &s->commit_err;
}

sqlite3 *
store_db(struct store *s)
{
	return s->db;
}

int64_t
store_event_seek_ts(struct store *s, int64_t ts)
{
	sqlite3_stmt *st = stmt_get(s, ST_EVENT_SEEK_TS);
	int64_t v = s->commit_seq;

	bind_int(st, ":ts", ts);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0) - 1;
	sqlite3_reset(st);
	return v < s->commit_seq ? v : s->commit_seq;
}

int64_t
store_event_count(struct store *s)
{
	sqlite3_stmt *st = stmt_get(s, ST_EVENT_COUNT);
	int64_t n = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

int
store_prune(struct store *s, int64_t before, int64_t delivered, int64_t max_events, int batch,
    store_pruned_cb cb, void *arg, struct err *e)
{
	int64_t removed = 0;
	char ids[256][ID_COPY_MAX];
	int n = 0, rc;
	sqlite3_stmt *st = stmt_get(s, ST_PRUNE_CANDIDATES);

	if (batch > 256)
		batch = 256;
	bind_int(st, ":before", before);
	bind_int(st, ":delivered", delivered);
	bind_int(st, ":batch", batch);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < batch)
		snprintf(ids[n++], ID_COPY_MAX, "%s", store_col_text(st, 0));
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_fail(s, e, "find prunable containers");
	for (int i = 0; i < n; i++) {
		sqlite3_stmt *d = stmt_get(s, ST_PRUNE_EVENTS);

		if (max_events > 0 && removed >= max_events)
			return i; /* enough: no more history goes than the bound asks */
		bind_text(d, ":id", ids[i]);
		if (write_step(s, d, e, "prune events") < 0)
			return -1;
		removed += sqlite3_changes(s->db);
		if (store_container_remove(s, ids[i], e) < 0)
			return -1;
		if (cb != NULL)
			cb(arg, ids[i], "");
	}
	return n;
}

int
store_fold_pauses(struct store *s, int64_t delivered, int batch, struct err *e)
{
	int64_t seqs[2 * 256];
	int n = 0, rc;
	sqlite3_stmt *st = stmt_get(s, ST_FOLD_PAIRS);

	if (batch > 256)
		batch = 256;
	bind_int(st, ":delivered", delivered);
	bind_int(st, ":batch", batch);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 2 * batch) {
		seqs[n++] = sqlite3_column_int64(st, 0);
		seqs[n++] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_fail(s, e, "find pause/resume pairs");
	for (int i = 0; i < n; i++) {
		sqlite3_stmt *d = stmt_get(s, ST_EVENT_DELETE);

		bind_int(d, ":seq", seqs[i]);
		if (write_step(s, d, e, "fold pause/resume") < 0)
			return -1;
	}
	return n / 2;
}

int
store_process_set_start_time(struct store *s, const char *container_id, const char *pid,
    int64_t start_time, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_PROCESS_START_TIME);

	bind_text(st, ":cid", container_id);
	bind_text(st, ":pid", pid);
	bind_int(st, ":start_time", start_time);
	return write_step(s, st, e, "record process start time");
}

int
store_process_set_shim(struct store *s, const char *container_id, const char *pid,
    int64_t shim_pid, int64_t shim_start_time, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_PROCESS_SHIM);

	bind_text(st, ":cid", container_id);
	bind_text(st, ":pid", pid);
	bind_int(st, ":shim_pid", shim_pid);
	bind_int(st, ":shim_start_time", shim_start_time);
	return write_step(s, st, e, "record process shim");
}

int
store_process_start_time(struct store *s, const char *container_id, const char *pid,
    int64_t *start_time, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_PROCESS_GET_START_TIME);
	int rc;

	*start_time = 0;
	bind_text(st, ":cid", container_id);
	bind_text(st, ":pid", pid);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*start_time = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_fail(s, e, "read process start time");
	return 0;
}

int
store_prune_execs(struct store *s, int64_t before, int64_t delivered, int64_t max_events,
    int batch, store_pruned_cb cb, void *arg, struct err *e)
{
	char cids[64][ID_COPY_MAX], pids[64][ID_COPY_MAX];
	int64_t removed = 0;
	int n = 0, rc;
	sqlite3_stmt *st = stmt_get(s, ST_PRUNE_EXEC_CANDIDATES);

	if (batch > 64)
		batch = 64;
	bind_int(st, ":before", before);
	bind_int(st, ":delivered", delivered);
	bind_int(st, ":batch", batch);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < batch) {
		snprintf(cids[n], ID_COPY_MAX, "%s", store_col_text(st, 0));
		snprintf(pids[n++], ID_COPY_MAX, "%s", store_col_text(st, 1));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_fail(s, e, "find prunable execs");
	for (int i = 0; i < n; i++) {
		sqlite3_stmt *d = stmt_get(s, ST_PRUNE_EXEC_EVENTS);

		if (max_events > 0 && removed >= max_events)
			return i;
		bind_text(d, ":cid", cids[i]);
		bind_text(d, ":pid", pids[i]);
		if (write_step(s, d, e, "prune exec events") < 0)
			return -1;
		removed += sqlite3_changes(s->db);
		if (store_process_remove(s, cids[i], pids[i], e) < 0)
			return -1;
		if (cb != NULL)
			cb(arg, cids[i], pids[i]);
	}
	return n;
}

int
store_container_status(struct store *s, const char *id, char *status, size_t len,
    struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_RECORD_STATUS);
	int rc;

	bind_text(st, ":id", id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(status, len, "%s", store_col_text(st, 0));
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return store_sql_fail(s, e, "look up container");
}

int
store_records_stopped(struct store *s, const char *after, int limit, store_record_cb cb,
    void *arg, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_RECORDS_STOPPED);
	int rc, n = 0, stop = 0;

	bind_text(st, ":after", after);
	bind_int(st, ":limit", limit);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_record r = {
			.id = store_col_text(st, 0),
			.bundle = store_col_text(st, 1),
			.status = store_col_text(st, 2),
			.created_at = sqlite3_column_int64(st, 3),
			.exit_status = sqlite3_column_int64(st, 4),
			.exited_at = sqlite3_column_int64(st, 5),
			.note = store_col_text(st, 6),
			.started = sqlite3_column_type(st, 7) != SQLITE_NULL,
			.started_at = sqlite3_column_int64(st, 7),
		};

		n++;
		stop = cb(arg, &r);
	}
	if (stop == 0 && rc != SQLITE_DONE) {
		sqlite3_reset(st);
		return store_sql_fail(s, e, "list stopped containers");
	}
	sqlite3_reset(st);
	return stop != 0 ? stop : n;
}

int
store_records_prunable(struct store *s, const char *after, int64_t before, int limit,
    char ids[][STORE_ID_COPY], struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_RECORDS_PRUNABLE);
	int rc, n = 0;

	bind_text(st, ":after", after);
	bind_int(st, ":before", before);
	bind_int(st, ":limit", limit);
	while (n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW)
		snprintf(ids[n++], STORE_ID_COPY, "%s", store_col_text(st, 0));
	if (n < limit && rc != SQLITE_DONE) {
		sqlite3_reset(st);
		return store_sql_fail(s, e, "list stopped containers");
	}
	sqlite3_reset(st);
	return n;
}

int
store_container_forget(struct store *s, const char *id, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, ST_FORGET_EVENTS);

	bind_text(st, ":id", id);
	if (write_step(s, st, e, "remove the container's events") < 0)
		return -1;
	return store_container_remove(s, id, e);
}
