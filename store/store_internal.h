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
};

/* The raw handle, for read-only queries in store/ files. */
sqlite3 *store_db(struct store *s);

#endif
