/* Inside store/ only: the handle's layout, for the store's other files. */
#ifndef STORE_STORE_INTERNAL_H
#define STORE_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>

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
};

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
