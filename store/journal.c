/*
 * journal: nothing written is lost when the database cannot take it.
 *
 * Every write of store.c (write_step) is also kept here, as its SQL with
 * the values bound, in order, until a commit holds it. When a commit or a
 * write fails for a reason that passes (another process holds the write
 * lock: the daemon's connection never waits for it; the disk is full; an
 * I/O error; the file deleted or replaced), the transaction is rolled
 * back and the store is stalled: later writes are only journaled, and
 * store_retry re-applies the whole journal in a fresh transaction. Event
 * seqs and times are handed out by the store, so an event keeps both.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "store_internal.h"

/* Failures that say the database cannot take writes now (locked, full,
 * I/O, moved), not that a statement is wrong: its facts wait. */
bool
store_transient(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_NOMEM:
	case SQLITE_PROTOCOL:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return true;
	default:
		return false;
	}
}

int
store_journal_add(struct store *s, char *sql)
{
	if (s->n_journal == s->cap_journal) {
		int cap = s->cap_journal ? 2 * s->cap_journal : 64;
		char **j = realloc(s->journal, (size_t)cap * sizeof(*j));

		if (j == NULL)
			return -1;
		s->journal = j;
		s->cap_journal = cap;
	}
	s->journal[s->n_journal++] = sql;
	return 0;
}

void
store_journal_clear(struct store *s)
{
	for (int i = 0; i < s->n_journal; i++)
		sqlite3_free(s->journal[i]);
	s->n_journal = 0;
	if (s->cap_journal > 4096) { /* a long stall's array goes back */
		free(s->journal);
		s->journal = NULL;
		s->cap_journal = 0;
	}
}

/* The path still names the file we opened: an acknowledgement written
 * into a deleted or replaced file would be lost at the next start. */
static int
check_same_file(struct store *s, struct err *e)
{
	struct stat st;
	bool gone;

	if (s->ino == 0)
		return 0;
	gone = stat(s->path, &st) < 0;
	if (!gone && st.st_dev == s->dev && st.st_ino == s->ino)
		return 0;
	return err_set(e, GRPC_FAILED_PRECONDITION,
	    "%s was %s while the daemon ran: nothing more can be recorded, so changes are"
	    " refused (the running containers are kept; what happens to them is held in"
	    " memory and logged). Move the original file back if it was moved (then all"
	    " is recorded); otherwise stop the daemon and restore %s from a backup before"
	    " starting it again", s->path, gone ? "deleted" : "replaced", s->path);
}

/* A commit or a write failed for a reason that passes: roll back, keep
 * the journal; from now on writes are only journaled until store_retry. */
void
store_stall(struct store *s, const char *what)
{
	if (what != NULL) /* NULL: commit_err already says why */
		store_sql_fail(s, &s->commit_err, what);
	if (!sqlite3_get_autocommit(s->db))
		store_txn_step(s, STORE_ROLLBACK);
	s->in_txn = false;
	s->stalled = true;
}

static void
committed(struct store *s)
{
	if (s->pending > 0)
		s->commits++;
	s->pending = 0;
	s->commit_seq = s->last_seq;
	store_journal_clear(s);
	store_sync_committed(s);
}

int
store_commit(struct store *s, struct err *e)
{
	if (s->stalled)
		goto fail; /* the writes wait for store_retry */
	if (!s->in_txn)
		return 0;
	if (check_same_file(s, &s->commit_err) < 0) {
		store_stall(s, NULL);
		goto fail;
	}
	if (store_txn_step(s, STORE_COMMIT) != SQLITE_DONE) {
		store_stall(s, "commit");
		goto fail;
	}
	s->in_txn = false;
	committed(s);
	return 0;
fail:
	if (e != NULL)
		*e = s->commit_err;
	return -1;
}

int
store_retry(struct store *s, struct err *e)
{
	char *msg;
	int rc, i;

	if (!s->stalled)
		return 0;
	if (check_same_file(s, &s->commit_err) < 0)
		goto fail;
	if (store_txn_step(s, STORE_BEGIN) != SQLITE_DONE) {
		store_sql_fail(s, &s->commit_err, "begin transaction");
		goto fail;
	}
	for (i = 0; i < s->n_journal; i++) {
		msg = NULL;
		rc = sqlite3_exec(s->db, s->journal[i], NULL, NULL, &msg);
		if (rc == SQLITE_OK)
			continue;
		rc = sqlite3_extended_errcode(s->db);
		if (store_transient(rc)) {
			sqlite3_free(msg);
			store_sql_fail(s, &s->commit_err, "record the changes kept in memory");
			goto rollback;
		}
		/* A write that cannot ever apply must not hold back the others. */
		log_errorx("database %s: a change kept in memory cannot be recorded and is"
			   " dropped: %s: %s", s->path, s->journal[i], msg ? msg : "");
		sqlite3_free(msg);
		sqlite3_free(s->journal[i]);
		memmove(&s->journal[i], &s->journal[i + 1],
		    (size_t)(s->n_journal - i - 1) * sizeof(char *));
		s->n_journal--;
		i--;
	}
	if (store_txn_step(s, STORE_COMMIT) != SQLITE_DONE) {
		store_sql_fail(s, &s->commit_err, "commit");
		goto rollback;
	}
	s->stalled = false;
	s->pending = 1; /* the journal's writes: one commit */
	committed(s);
	return 0;
rollback:
	if (!sqlite3_get_autocommit(s->db))
		store_txn_step(s, STORE_ROLLBACK);
fail:
	if (e != NULL)
		*e = s->commit_err;
	return -1;
}

bool
store_stalled(struct store *s)
{
	return s->stalled;
}

int
store_unwritten(struct store *s)
{
	return s->n_journal;
}

uint64_t
store_commit_target(struct store *s)
{
	return s->commits + (s->n_journal > 0 ? 1 : 0);
}

bool
store_in_transaction(struct store *s)
{
	return s->in_txn;
}

int
store_pending_writes(struct store *s)
{
	return s->pending;
}
