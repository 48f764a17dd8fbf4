/* store: migrations, group commit, event order, read-only opening. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "rawdb.h"
#include "store.h"
#include "tap.h"

static char dir[] = "/tmp/test_store.XXXXXX";
static char path[256];

static int
count_events(void *arg, const struct store_event *ev)
{
	int64_t *last = arg;

	if (ev->seq <= last[0])
		last[1] = 1; /* out of order */
	last[0] = ev->seq;
	last[2]++;
	return 0;
}

/* The first column of the first row of sql over this test's database. */
static int
raw_count(const char *sql)
{
	return rawdb_count(path, sql);
}

static int
collect_ids(void *arg, const struct store_container *c)
{
	strcat(arg, c->id);
	strcat(arg, ",");
	return 0;
}

int
main(void)
{
	struct err e = { 0 };
	struct store *s, *ro;
	struct stat st;
	int64_t state[3] = { 0, 0, 0 };

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/state.db", dir);

	/* Migrations. */
	s = store_open(path, false, &e);
	ok(s != NULL, "a new database opens and migrates (%s)", s ? "" : e.msg);
	if (s == NULL)
		return done_testing();
	is_int(store_schema_version(s), store_schema_latest(), "schema is at the latest version");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "state.db is mode 0600");
	is_int(raw_count("PRAGMA application_id"), STORE_APPLICATION_ID, "application_id marks it ours");
	is_int(raw_count("SELECT count(*) FROM sqlite_schema WHERE name IN ('containers','labels',"
			 "'processes','checkpoints','events','event_history','running_containers')"),
	    7, "tables and views exist");

	/* Group commit: nothing is visible to another connection before commit. */
	{
		struct store_container c = { .id = "a", .bundle = "/b", .runtime = "runc",
			.status = "running", .created_at = 1 };

		ok(store_container_insert(s, &c, &e) == 0, "insert a container");
		ok(store_in_transaction(s), "the write opened a transaction");
		ok(store_event_append(s, 10, "start-container", "a", "init", 0, &e) > 0, "append an event");
		is_int(store_pending_writes(s), 2, "two writes pending");
		is_int(raw_count("SELECT count(*) FROM containers"), 0, "not visible before commit");
		ok(store_commit(s, &e) == 0, "commit");
		ok(!store_in_transaction(s), "no transaction after commit");
		is_int(raw_count("SELECT count(*) FROM containers"), 1, "visible after commit");
		ok(store_container_insert(s, &c, &e) < 0 && e.code == GRPC_ALREADY_EXISTS,
		    "a duplicate id is ALREADY_EXISTS");
		store_commit(s, &e);
	}

	/* Event order: seq strictly increasing, queries by cursor and id. */
	for (int i = 0; i < 1000; i++)
		store_event_append(s, 100 + i, "exit", i % 2 ? "a" : "b", "init", i, &e);
	ok(store_commit(s, &e) == 0, "1000 events in one transaction");
	store_events_foreach(s, 0, 0, NULL, 0, count_events, state, &e);
	is_int(state[2], 1001, "all 1001 events read back");
	is_int(state[1], 0, "in strictly increasing seq order");
	is_int(store_event_last_seq(s), state[0], "last seq is the newest");
	memset(state, 0, sizeof(state));
	store_events_foreach(s, 500, 0, "a", 0, count_events, state, &e);
	is_int(state[2], 251, "cursor + id filter: only a's events after seq 500 (odd seqs 501-1001)");
	memset(state, 0, sizeof(state));
	store_events_foreach(s, 0, 1000, NULL, 10, count_events, state, &e);
	is_int(state[2], 10, "the limit is honoured");
	memset(state, 0, sizeof(state));
	{
		/* ts is the time of recording, strictly increasing with seq: the
		 * events after the 6th newest's time are the 5 newest, found by
		 * index from that time. */
		sqlite3 *db;
		sqlite3_stmt *q;
		int64_t t = 0, prev = -1;
		int bad = 0;

		sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
		sqlite3_prepare_v2(db, "SELECT ts FROM events ORDER BY seq", -1, &q, NULL);
		while (sqlite3_step(q) == SQLITE_ROW) {
			bad += sqlite3_column_int64(q, 0) <= prev;
			prev = sqlite3_column_int64(q, 0);
		}
		sqlite3_finalize(q);
		sqlite3_prepare_v2(db, "SELECT ts FROM events ORDER BY seq DESC LIMIT 1 OFFSET 5",
		    -1, &q, NULL);
		if (sqlite3_step(q) == SQLITE_ROW)
			t = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
		sqlite3_close(db);
		is_int(bad, 0, "event times strictly increase with seq (1000 in one instant)");
		store_events_foreach(s, 0, t, NULL, 0, count_events, state, &e);
		is_int(state[2], 5, "a timestamp filter gives only newer events");
		memset(state, 0, sizeof(state));
		store_events_foreach(s, store_event_seek_ts(s, t), t, NULL, 0, count_events, state,
		    &e);
		is_int(state[2], 5, "the same from the seq found by index for that time");
		is_int(store_event_seek_ts(s, t), state[0] - 5, "seek: the seq before the first after T");
	}

	/* Status, removal. */
	{
		char ids[256] = "";
		struct store_process p = { .container_id = "a", .pid = "init", .status = "creating" };

		ok(store_process_insert(s, &p, &e) == 0, "insert a process");
		ok(store_process_exited(s, "a", "init", 137, 5, &e) == 0, "record an exit");
		ok(store_container_set_status(s, "a", "stopped", 6, &e) == 0, "stop the container");
		store_commit(s, &e);
		is_int(raw_count("SELECT exit_status FROM processes WHERE pid='init'"), 137,
		    "exit status stored");
		store_containers_foreach(s, true, collect_ids, ids, &e);
		is_str(ids, "", "a stopped container is not live");
		store_containers_foreach(s, false, collect_ids, ids, &e);
		is_str(ids, "a,", "but is still in the table");
		ok(store_container_remove(s, "a", &e) == 0 && store_commit(s, &e) == 0, "remove it");
		is_int(raw_count("SELECT count(*) FROM processes"), 0, "its processes go with it");
	}

	/* Rollback on failure: nothing of the transaction stays. */
	{
		struct store_container c = { .id = "z", .bundle = "/b", .runtime = "runc",
			.status = "bogus", .created_at = 1 };

		ok(store_container_insert(s, &c, &e) < 0, "a bad status is refused by the schema");
		store_commit(s, &e);
	}

	/* Read-only opening while the writer has it open. */
	ro = store_open(path, true, &e);
	ok(ro != NULL, "a second, read-only handle opens while the daemon's is open");
	if (ro != NULL) {
		struct store_container c = { .id = "r", .bundle = "/b", .runtime = "runc",
			.status = "running", .created_at = 1 };

		ok(store_container_insert(ro, &c, &e) < 0, "the read-only handle refuses writes");
		store_close(ro);
	}
	store_close(s);

	/* Asynchronous sync: a commit is durable only once its sync was reaped. */
	s = store_open(path, false, &e);
	ok(s != NULL, "reopen for the sync tests");
	if (s != NULL && store_sync_async(s, &e) == 0) {
		struct pollfd pfd = { .fd = store_sync_fd(s), .events = POLLIN };
		uint64_t before = store_commits(s);
		int64_t seq_before = store_durable_seq(s), seq;

		ok(store_sync_fd(s) >= 0 && store_durable(s) == before, "async: all durable at first");
		seq = store_event_append(s, 1, "pause", "a", "", 0, &e);
		ok(seq > 0 && store_commit(s, &e) == 0, "async: a commit");
		ok(store_commits(s) == before + 1 && store_durable(s) == before &&
			store_durable_seq(s) == seq_before,
		    "async: committed but not yet durable (durable %llu of %llu)",
		    (unsigned long long)store_durable(s), (unsigned long long)store_commits(s));
		store_sync_kick(s);
		ok(poll(&pfd, 1, 5000) == 1, "async: the sync's completion is signalled");
		ok(store_sync_reap(s, &e) == 0 && store_durable(s) == before + 1 &&
			store_durable_seq(s) == seq,
		    "async: durable after the reap, up to seq %lld", (long long)store_durable_seq(s));
		ok(store_commit(s, &e) == 0 && store_commits(s) == before + 1,
		    "async: a commit that wrote nothing needs no sync");
		store_sync_now(s);
		ok(store_durable(s) == store_commits(s), "async: sync_now");
	} else {
		printf("# asynchronous fdatasync unavailable here: %s\n", e.msg);
		for (int k = 0; k < 7; k++)
			skip("no native AIO");
	}
	store_close(s);
	/* Synchronous stores are durable at the commit. */
	s = store_open(path, false, &e);
	if (s != NULL) {
		ok(store_event_append(s, 2, "resume", "a", "", 0, &e) > 0 && store_commit(s, &e) == 0 &&
			store_durable(s) == store_commits(s) &&
			store_durable_seq(s) == store_event_last_seq(s),
		    "sync: durable at the commit");
	}
	store_close(s);

	/* Issue 10 item 3: another process holds the write lock. The commit
	 * fails at once (no busy wait), nothing is lost: the writes wait in
	 * memory, later writes too, and a retry once the lock is gone records
	 * them all, in order, the events with the seqs they were given. */
	s = store_open(path, false, &e);
	if (s != NULL) {
		sqlite3 *other;
		struct timespec t0, t1;
		int64_t seq1, seq2, before = raw_count("SELECT count(*) FROM events");
		uint64_t commits = store_commits(s);
		double ms;

		sqlite3_open(path, &other);
		ok(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK,
		    "lock: another connection holds the write lock");
		clock_gettime(CLOCK_MONOTONIC, &t0);
		seq1 = store_event_append(s, 7, "exit", "locked", "init", 137, &e);
		ok(seq1 > 0 && store_process_exited(s, "locked", "init", 137, 7, &e) == 0,
		    "lock: the writes are taken");
		ok(store_commit(s, &e) < 0 && store_stalled(s), "lock: the commit fails: %s", e.msg);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		printf("# figure: a commit against a held lock failed in %.1f ms\n", ms);
		ok(ms < 1000, "lock: without waiting for the busy timeout (%.1f ms)", ms);
		is_int(e.code, 14, "lock: UNAVAILABLE");
		seq2 = store_event_append(s, 8, "start-daemon", "", "", 0, &e);
		ok(seq2 == seq1 + 1 && store_unwritten(s) == 3, "lock: later writes are kept too");
		{
			/* Taken blind while stalled; on the retry it cannot apply:
			 * dropped (and logged), the others still recorded. */
			struct store_container bad = { .id = "bad", .bundle = "/b", .runtime = "r",
				.status = "bogus", .created_at = 1 };

			ok(store_container_insert(s, &bad, &e) == 0, "lock: a bad write is taken blind");
		}
		ok(store_retry(s, &e) < 0, "lock: a retry while it is held fails");
		ok(store_commit_target(s) == commits + 1, "lock: the next commit holds them");
		sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
		ok(store_retry(s, &e) == 0 && !store_stalled(s) && store_unwritten(s) == 0,
		    "lock: released, the retry records them");
		ok(store_commits(s) == commits + 1, "lock: as one commit");
		is_int(raw_count("SELECT count(*) FROM events"), (int)before + 2,
		    "lock: both events are in the table");
		is_int(raw_count("SELECT max(seq) FROM events WHERE type = 'exit' AND"
				 " container_id = 'locked'"), (int)seq1, "lock: with their seqs");
		is_int(raw_count("SELECT occurred_at FROM events WHERE container_id = 'locked'"), 7,
		    "lock: the exit's own time is occurred_at");
		is_int(raw_count("SELECT count(*) FROM containers WHERE id = 'bad'"), 0,
		    "lock: the write that could not apply was dropped");

		/* Item 18: the file deleted (or replaced) under the store. */
		sqlite3_close(other);
		{
			char moved[300];

			snprintf(moved, sizeof(moved), "%s.moved", path);
			rename(path, moved);
			ok(store_event_append(s, 9, "pause", "x", "", 0, &e) > 0 &&
				store_commit(s, &e) < 0 && e.code == 9,
			    "gone: a commit into a deleted file is refused: %s", e.msg);
			ok(strstr(e.msg, "deleted") != NULL, "gone: and says so");
			rename(moved, path);
			ok(store_retry(s, &e) == 0, "gone: the file back, the retry records it");
		}
		store_close(s);
	}

	/* A newer schema is refused with a clear message. */
	{
		sqlite3 *db;
		char sql[64];

		sqlite3_open(path, &db);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store_schema_latest() + 1);
		sqlite3_exec(db, sql, NULL, NULL, NULL);
		sqlite3_close(db);
		s = store_open(path, false, &e);
		ok(s == NULL && strstr(e.msg, "newer") != NULL, "a newer schema is refused: %s", e.msg);
		store_close(s);
	}
	/* Not our database. */
	{
		char other[300];
		sqlite3 *db;

		snprintf(other, sizeof(other), "%s/other.db", dir);
		sqlite3_open(other, &db);
		sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL);
		sqlite3_close(db);
		s = store_open(other, false, &e);
		ok(s == NULL && strstr(e.msg, "not containerd") != NULL, "a foreign database is refused: %s",
		    e.msg);
		store_close(s);
	}
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return done_testing();
}
