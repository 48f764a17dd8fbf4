/* rawdb: what a unit test reads from a database file behind the store's
 * back, with sqlite3 alone (as an operator's sqlite3 would). */
#ifndef TESTS_RAWDB_H
#define TESTS_RAWDB_H

#include <sqlite3.h>

/* The first column of the first row of sql over the file at path, read
 * only; -1 when it cannot be read. */
static inline int
rawdb_count(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int n = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

#endif
