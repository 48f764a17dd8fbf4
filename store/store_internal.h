/* Inside store/ only: the handle's layout, for the store's other files. */
#ifndef STORE_STORE_INTERNAL_H
#define STORE_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <sys/types.h>

#include "store.h"

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[64];	/* indexed by store.c's enum stmt_id */
	bool readonly;
	bool in_txn;
	int pending;
	char path[4096];
	/* Durability (sync.c): commits that wrote something, how many of them
	 * are known to be on disk, and the last event seq they hold. */
	uint64_t commits;
	uint64_t durable;
	int64_t durable_seq;
	struct store_sync *sync;	/* NULL: synchronous=FULL */
	/* Why the last failed commit failed (code 0: none failed yet). */
	struct err commit_err;
	/* The journal: every write since the last successful commit, as its
	 * SQL with the values bound, in order. A failed commit keeps it and
	 * the store is stalled: later writes are only journaled, and
	 * store_retry re-applies the whole journal in a fresh transaction. */
	char **journal;
	int n_journal, cap_journal;
	bool stalled;
	/* Events: seqs and times are handed out here, not by SQLite, so an
	 * event keeps both across retries. ts strictly increases. */
	int64_t last_seq;	/* the last seq handed out */
	int64_t commit_seq;	/* the last seq of a successful commit */
	int64_t last_ts;
	/* The file opened, to notice it being deleted or replaced. */
	dev_t dev;
	ino_t ino;
};

/* store.c: the transaction statements (the first of store.c's). */
enum store_txn { STORE_BEGIN, STORE_COMMIT, STORE_ROLLBACK };
int store_txn_step(struct store *s, enum store_txn which);	/* sqlite3_step's result */
/* e from the connection's last error, saying what failed (a full disk, a lock). */
int store_sql_fail(struct store *s, struct err *e, const char *what);

/* journal.c */
bool store_transient(int rc);		/* the database cannot take writes now */
void store_stall(struct store *s, const char *what);	/* what NULL: commit_err says why */
int store_journal_add(struct store *s, char *sql);	/* takes sql (sqlite3_malloc'd) */
void store_journal_clear(struct store *s);

/* sync.c */
void store_sync_committed(struct store *s);
void store_sync_close(struct store *s);

/* Row decoders shared by store/ files: each reads the columns in the
 * order of the matching *_COLUMNS list of store.c; strings point into the
 * statement and live until its next step. */
const char *store_col_text(sqlite3_stmt *st, int i);
void store_row_container(sqlite3_stmt *st, struct store_container *c);
void store_row_process(sqlite3_stmt *st, struct store_process *p);
void store_row_checkpoint(sqlite3_stmt *st, struct store_checkpoint *c);
void store_row_event(sqlite3_stmt *st, struct store_event *ev);

/* The raw handle, for read-only queries in store/ files. */
sqlite3 *store_db(struct store *s);

#endif
