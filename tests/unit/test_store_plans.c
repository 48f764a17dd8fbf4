/*
 * The query plans of the history's hot statements (issue 13: 1,000,000
 * events). Every statement the daemon's store and the tools' query handle
 * prepare is explained; none may scan the events or processes table, nor
 * sort events, except those whose answer needs every row (listed below).
 * A plan, not a timing: it holds on any machine, at any size. The figures
 * at 1M events are in BENCHMARKS.md ("The event history at scale").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "query.h"
#include "store.h"
#include "store_internal.h"
#include "tap.h"

static char dir[] = "/tmp/test_store_plans.XXXXXX";
static char path[256];

/* The plan of sql on db, its rows joined by "; ". */
static void
plan_of(sqlite3 *db, const char *sql, char *out, size_t len)
{
	sqlite3_stmt *st;
	char *q = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);

	out[0] = '\0';
	if (q == NULL || sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
		snprintf(out, len, "(cannot explain: %s)", sqlite3_errmsg(db));
		sqlite3_free(q);
		return;
	}
	sqlite3_free(q);
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t n = strlen(out);

		snprintf(out + n, len - n, "%s%s", n ? "; " : "",
		    (const char *)sqlite3_column_text(st, 3));
	}
	sqlite3_finalize(st);
}

/* Statements that read every row by nature: a count of the table, every
 * process (store_processes_foreach(NULL)), and `check`'s search for orphan
 * rows. */
static bool
whole_table(const char *sql)
{
	return strcmp(sql, "SELECT count(*) FROM events") == 0 ||
	    strstr(sql, " FROM processes ORDER BY ") != NULL ||
	    strstr(sql, "WHERE NOT EXISTS (SELECT 1 FROM containers c") != NULL;
}

/* A full scan of a big table in a plan: "SCAN events", "SCAN p" (an
 * alias) ..., but not "SCAN c" (containers: one row each) nor a scan of a
 * covering index. */
static bool
scans_history(const char *sql, const char *plan)
{
	const char *p = plan;

	while ((p = strstr(p, "SCAN ")) != NULL) {
		const char *end = strchr(p, ';');
		char row[512];

		snprintf(row, sizeof(row), "%.*s", end ? (int)(end - p) : (int)strlen(p), p);
		p += 5;
		if (strncmp(row, "SCAN c", 6) == 0 &&
		    (row[6] == '\0' || row[6] == ' ') && strstr(sql, "containers c") != NULL)
			continue;
		if (strncmp(row, "SCAN containers", 15) == 0 || strncmp(row, "SCAN labels", 11) == 0 ||
		    strncmp(row, "SCAN checkpoints", 16) == 0 ||
		    strncmp(row, "SCAN sqlite_sequence", 20) == 0)
			continue;
		if (strstr(row, "CONSTANT ROW") != NULL)
			continue;
		return true;
	}
	return false;
}

/* A statement whose rows are events (not a statement on containers or
 * processes that looks events up) sorting them: every one of them must
 * come in seq order from an index. */
static bool
sorts_events(const char *sql, const char *plan)
{
	return (strncmp(sql, "SELECT seq", 10) == 0 || strncmp(sql, "SELECT p.seq", 12) == 0) &&
	    strstr(plan, "TEMP B-TREE") != NULL;
}

/* A correlated subquery (once per container) through the type index would
 * visit every event of that type in the history, each time. */
static bool
type_index_per_container(const char *plan)
{
	const char *c = strstr(plan, "CORRELATED");

	return c != NULL && strstr(c, "events_type") != NULL;
}

/* Explains every prepared statement of db's connection; *n counts them. */
static void
check_all(sqlite3 *db, const char *who, int *n)
{
	char plan[4096];

	for (sqlite3_stmt *st = sqlite3_next_stmt(db, NULL); st != NULL;
	     st = sqlite3_next_stmt(db, st)) {
		const char *sql = sqlite3_sql(st);

		if (sql == NULL || (strstr(sql, "events") == NULL && strstr(sql, "processes") == NULL))
			continue;
		if (strncmp(sql, "SELECT", 6) != 0 && strncmp(sql, "DELETE", 6) != 0 &&
		    strncmp(sql, "UPDATE", 6) != 0)
			continue;
		(*n)++;
		plan_of(db, sql, plan, sizeof(plan));
		if (whole_table(sql))
			continue;
		ok(!scans_history(sql, plan) && !sorts_events(sql, plan) &&
		    !type_index_per_container(plan),
		    "%s: no scan of the history: %.60s...", who, sql);
		if (scans_history(sql, plan) || sorts_events(sql, plan) ||
		    type_index_per_container(plan))
			printf("#   sql: %s\n#   plan: %s\n", sql, plan);
	}
}

/* The plan of the statement whose SQL starts with prefix contains want. */
static void
uses(sqlite3 *db, const char *prefix, const char *want, const char *what)
{
	char plan[4096] = "(no such statement)";

	for (sqlite3_stmt *st = sqlite3_next_stmt(db, NULL); st != NULL;
	     st = sqlite3_next_stmt(db, st)) {
		const char *sql = sqlite3_sql(st);

		if (sql != NULL && strncmp(sql, prefix, strlen(prefix)) == 0) {
			plan_of(db, sql, plan, sizeof(plan));
			break;
		}
	}
	ok(strstr(plan, want) != NULL, "%s: %s", what, want);
	if (strstr(plan, want) == NULL)
		printf("#   plan: %s\n", plan);
}

int
main(void)
{
	struct err e = { 0 };
	struct store *s;
	struct store_query *q;
	int n = 0;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/state.db", dir);

	/* The daemon's statements. */
	s = store_open(path, false, &e);
	ok(s != NULL, "the store opens (%s)", s ? "" : e.msg);
	if (s == NULL)
		return done_testing();
	check_all(store_db(s), "daemon", &n);
	ok(n >= 15, "the daemon's statements on events and processes were explained (%d)", n);
	uses(store_db(s), "SELECT seq FROM events WHERE ts > :ts", "COVERING INDEX events_ts",
	    "Events from a time: the seek");
	uses(store_db(s), "SELECT seq, ts, type, container_id, pid, status FROM events WHERE seq",
	    "INTEGER PRIMARY KEY (rowid>?)", "Events: the next batch, by seq");
	uses(store_db(s), "SELECT seq, ts, type, container_id, pid, status FROM events WHERE"
	    " container_id", "INDEX events_container (container_id=? AND seq>?)",
	    "Events id=X: the next batch");
	uses(store_db(s), "SELECT p.seq, r.seq FROM events p", "INDEX events_type (type=?)",
	    "retention: pause/resume pairs by type");
	store_close(s);

	/* The tools' statements (containerd-state). */
	n = 0;
	q = store_query_open(path, &e);
	ok(q != NULL, "the query handle opens (%s)", q ? "" : e.msg);
	if (q == NULL)
		return done_testing();
	check_all(store_db(store_query_store(q)), "containerd-state", &n);
	ok(n >= 5, "containerd-state's statements on events and processes were explained (%d)", n);
	uses(store_db(store_query_store(q)), "SELECT seq, ts, type, container_id, pid, status,"
	    " occurred_at FROM events WHERE seq", "INTEGER PRIMARY KEY (rowid>? AND rowid<?)",
	    "events --since/--until: a seq range");
	uses(store_db(store_query_store(q)), "SELECT seq, ts, type, container_id, pid, status,"
	    " occurred_at FROM events WHERE type", "INDEX events_type (type=? AND rowid>? AND rowid<?)",
	    "events --type: the type index");
	uses(store_db(store_query_store(q)), "SELECT seq, ts, type, container_id, pid, status,"
	    " occurred_at FROM events WHERE container_id", "INDEX events_container (container_id=?",
	    "events --id: the container index");
	uses(store_db(store_query_store(q)), "SELECT pid, status, exit_status FROM processes",
	    "COVERING INDEX processes_exits (container_id=?)", "replay: process states from an index");
	store_query_close(q);

	unlink(path);
	rmdir(dir);
	return done_testing();
}
