/*
 * store: the only code that speaks SQL. One SQLite database, state.db, in
 * WAL mode, every acknowledged commit synced (see sync.c). The daemon is the one writer; tools open
 * it read-only and never migrate.
 *
 * Writes go into one transaction that the first write of a loop iteration
 * opens and store_commit() closes (group commit: the daemon calls it once
 * per iteration, before it sends the replies that depend on the writes).
 *
 * Strings passed in are copied by SQLite; strings in the records handed to
 * foreach callbacks are valid only during the callback: copy what you keep.
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define STORE_APPLICATION_ID 0x63744364 /* "ctCd" */

struct store;

struct store_container {
	const char *id;
	const char *bundle;
	const char *runtime;
	const char *runtime_args;	/* JSON array */
	const char *status;		/* creating running paused stopped deleted failed */
	int64_t created_at;		/* ns since the epoch */
	int64_t updated_at;
	const char *stdin_path;
	const char *stdout_path;
	const char *stderr_path;
	bool no_pivot_root;
	const char *checkpoint;
	const char *checkpoint_dir;
};

struct store_process {
	const char *container_id;
	const char *pid;		/* "init" or the exec's name */
	int64_t system_pid;
	int64_t shim_pid;
	int64_t shim_start_time;
	const char *args;		/* JSON array */
	const char *env;		/* JSON array */
	const char *cwd;
	int64_t uid, gid;
	bool terminal;
	const char *stdin_path;
	const char *stdout_path;
	const char *stderr_path;
	const char *spec;		/* JSON object: the rest of the process */
	const char *status;		/* creating running exited */
	bool exited;			/* exit_status/exited_at are set */
	int64_t exit_status;
	int64_t started_at;
	int64_t exited_at;
};

struct store_checkpoint {
	const char *container_id;
	const char *name;
	const char *path;		/* the image directory */
	int64_t created_at;
	bool exit, tcp, unix_sockets, shell;
	const char *empty_ns;		/* JSON array */
};

struct store_event {
	int64_t seq;
	int64_t ts;			/* ns since the epoch: when it was recorded */
	const char *type;
	const char *container_id;
	const char *pid;
	int64_t status;
	int64_t occurred_at;		/* when it happened, by its source (schema 004) */
};

/* Opens (creating if needed, mode 0600) and migrates; checks the file is
 * ours and not newer than this binary; runs PRAGMA quick_check. readonly:
 * no creation, no migration (tools). NULL with e on failure. */
struct store *store_open(const char *path, bool readonly, struct err *e);
void store_close(struct store *s);
/* The schema version of the open file, and the newest this binary knows. */
int store_schema_version(struct store *s);
int store_schema_latest(void);

/*
 * Commits the open write transaction, if any.
 *
 * Nothing written is lost when the database cannot take it (another
 * process holds the write lock: the daemon's connection never waits for
 * it; the disk is full; an I/O error; the file was deleted or replaced):
 * every write since the last successful commit is also kept in order in a
 * journal in memory. A failed commit rolls back, returns -1 with e, and
 * stalls the store: later writes are only journaled (and succeed), until
 * store_retry re-applies the whole journal in a fresh transaction and
 * commits it. Event seqs and times are the store's, so an event keeps
 * them across retries.
 */
int store_commit(struct store *s, struct err *e);
/* Stalled: 0 once the journal is committed (or nothing waited), -1 with e
 * while the database still cannot take it. */
int store_retry(struct store *s, struct err *e);
bool store_stalled(struct store *s);
/* Writes kept in memory that no commit holds yet. */
int store_unwritten(struct store *s);
/* The store_commits() value once everything written so far is committed. */
uint64_t store_commit_target(struct store *s);
bool store_in_transaction(struct store *s);
/* Writes made since the last commit, how many. */
int store_pending_writes(struct store *s);

int store_container_insert(struct store *s, const struct store_container *c, struct err *e);
int store_container_set_status(struct store *s, const char *id, const char *status,
    int64_t ts, struct err *e);
/* Removes a container and its labels, processes, checkpoints (a failed create). */
int store_container_remove(struct store *s, const char *id, struct err *e);
int store_label_add(struct store *s, const char *id, const char *label, struct err *e);

int store_process_insert(struct store *s, const struct store_process *p, struct err *e);
/* Removes one process row (an exec that never started). */
int store_process_remove(struct store *s, const char *container_id, const char *pid,
    struct err *e);
int store_process_started(struct store *s, const char *container_id, const char *pid,
    int64_t system_pid, int64_t shim_pid, int64_t shim_start_time, int64_t started_at,
    struct err *e);
int store_process_exited(struct store *s, const char *container_id, const char *pid,
    int64_t exit_status, int64_t exited_at, struct err *e);

/* One row per (container, name): an insert replaces the row of an earlier
 * checkpoint of that name (made in another directory). */
int store_checkpoint_insert(struct store *s, const struct store_checkpoint *c, struct err *e);
/* Removes the row of (container, name) if it is the one made at path. */
int store_checkpoint_remove(struct store *s, const char *container_id, const char *name,
    const char *path, struct err *e);

/* Appends an event; returns its seq (> 0), or -1 with e. Its ts is the
 * time of recording, strictly increasing with seq; ts here is when the
 * fact happened by its source (e.g. the shim's exit time): occurred_at. */
int64_t store_event_append(struct store *s, int64_t ts, const char *type,
    const char *container_id, const char *pid, int64_t status, struct err *e);
/* The same with a note: why the event's facts are what they are (e.g. why
 * an exit status is unknown); "" for none. */
int64_t store_event_append_note(struct store *s, int64_t ts, const char *type,
    const char *container_id, const char *pid, int64_t status, const char *note, struct err *e);
/* The recording time (ts) of the last event appended. */
int64_t store_event_last_ts(struct store *s);
int64_t store_event_last_seq(struct store *s);
/* The seq after which the events with ts > the given time (ns) start,
 * found by index; never past what is committed. */
int64_t store_event_seek_ts(struct store *s, int64_t ts);

/*
 * Durability (sync.c). By default every commit is synced inside
 * store_commit (synchronous=FULL). After store_sync_async, commits are
 * only written, and store_sync_kick starts an asynchronous fdatasync of
 * the WAL covering every commit so far; its completion makes
 * store_sync_fd readable, and store_sync_reap takes it (-1 with e if the
 * sync failed). Something may be acknowledged only once
 * store_durable() >= the store_commits() value right after its commit.
 */
int store_sync_async(struct store *s, struct err *e);	/* -1: stays synchronous */
int store_sync_fd(struct store *s);			/* -1 when synchronous */
uint64_t store_commits(struct store *s);
uint64_t store_durable(struct store *s);
int64_t store_durable_seq(struct store *s);		/* events up to here are on disk */
void store_sync_kick(struct store *s);
int store_sync_reap(struct store *s, struct err *e);
void store_sync_now(struct store *s);			/* waits until all is durable */
int64_t store_event_count(struct store *s);
/* Retention: removes up to batch stopped containers (no checkpoints) last
 * updated before `before` (ns), whose events all have seq <= delivered,
 * stopping once max_events events went (0: no such bound),
 * each with its rows and its whole event history, oldest first, in the
 * current transaction; cb (may be NULL) hears of each id (pid ""), e.g. to
 * remove its logs. Returns how many. */
typedef void (*store_pruned_cb)(void *arg, const char *container_id, const char *pid);
int store_prune(struct store *s, int64_t before, int64_t delivered, int64_t max_events,
    int batch, store_pruned_cb cb, void *arg, struct err *e);
/* Retention of live containers: removes up to batch of the oldest pause
 * events whose container's next event is a resume (both seq <= delivered),
 * with that resume. A pair leaves the state as it found it, so the
 * history still replays to the tables. Returns how many pairs. */
int store_fold_pauses(struct store *s, int64_t delivered, int batch, struct err *e);

/* The process's own start time (/proc/<pid>/stat starttime; 005), set
 * when its pid is reported; 0: unknown. */
int store_process_set_start_time(struct store *s, const char *container_id, const char *pid,
    int64_t start_time, struct err *e);
int store_process_start_time(struct store *s, const char *container_id, const char *pid,
    int64_t *start_time, struct err *e);
/* The shim of a process still being created, so that a restart finds it. */
int store_process_set_shim(struct store *s, const char *container_id, const char *pid,
    int64_t shim_pid, int64_t shim_start_time, struct err *e);
/* Retention of live containers' finished execs: removes up to batch exited
 * exec rows of running or paused containers that exited before `before`
 * (ns), oldest exit first, each with
 * every event of its name (start-process, exit), all seq <= delivered,
 * stopping once max_events events went (0: no such bound). A removed
 * exec leaves no row and no event, so the history still replays to the
 * tables. cb (may be NULL) hears of each, e.g. to remove its directory.
 * Returns how many. */
int store_prune_execs(struct store *s, int64_t before, int64_t delivered, int64_t max_events,
    int batch, store_pruned_cb cb, void *arg, struct err *e);

/* Iteration. The callback returns 0 to go on, non-zero to stop (that value
 * is returned). -1 with e on an SQL error. */
typedef int (*store_container_cb)(void *arg, const struct store_container *c);
typedef int (*store_process_cb)(void *arg, const struct store_process *p);
typedef int (*store_label_cb)(void *arg, const char *container_id, const char *label);
typedef int (*store_event_cb)(void *arg, const struct store_event *ev);
typedef int (*store_checkpoint_cb)(void *arg, const struct store_checkpoint *c);

/* live_only: skip stopped, deleted and failed containers. */
int store_containers_foreach(struct store *s, bool live_only, store_container_cb cb,
    void *arg, struct err *e);
/* container_id NULL: every process. */
int store_processes_foreach(struct store *s, const char *container_id, store_process_cb cb,
    void *arg, struct err *e);
int store_labels_foreach(struct store *s, const char *container_id, store_label_cb cb,
    void *arg, struct err *e);
/* A container's checkpoints, oldest first. */
int store_checkpoints_foreach(struct store *s, const char *container_id,
    store_checkpoint_cb cb, void *arg, struct err *e);
/* Whether the container has a row at all (any status); -1 on error. */
int store_container_known(struct store *s, const char *id, struct err *e);
/* The bundle of a container known to the table (any status): 1 and
 * *bundle (the caller's to free), 0 if there is no row, -1 with e. */
int store_container_bundle(struct store *s, const char *id, char **bundle, struct err *e);
/* Whether id has a row with that status and created_at, as committed so
 * far when no transaction is open; -1 on error. */
int store_container_recorded(struct store *s, const char *id, const char *status,
    int64_t created_at, struct err *e);
/*
 * Records of stopped containers (the Records service).
 */
/* 1 and the row's status in status, 0 when id has no row, -1 with e. */
int store_container_status(struct store *s, const char *id, char *status, size_t len,
    struct err *e);
/* A stopped container as ListContainers shows it (strings valid during the
 * callback only). */
struct store_record {
	const char *id;
	const char *bundle;
	const char *status;		/* stopped (deleted, failed: another writer's) */
	int64_t created_at;		/* the row's */
	bool started;			/* started_at is known */
	int64_t started_at;		/* the init's start: its start-container's time */
	int64_t exit_status;		/* the init's; 255 when it has no exit */
	int64_t exited_at;		/* the init's; the row's update time without one */
	const char *note;		/* of the init's last exit event; "" for none */
};
typedef int (*store_record_cb)(void *arg, const struct store_record *r);
/* Up to limit stopped (deleted, failed) containers with ids after `after` (""
 * from the first), in id order. Returns how many were handed to cb, the
 * callback's non-zero value, or -1 with e. */
int store_records_stopped(struct store *s, const char *after, int limit, store_record_cb cb,
    void *arg, struct err *e);
/* Up to limit ids, after `after`, of containers whose rows are not live
 * (stopped, deleted or failed) and whose init exited before `before` (ns;
 * 0: any), in id order, copied into ids. Returns how many, or -1 with e. */
#define STORE_ID_COPY 160
int store_records_prunable(struct store *s, const char *after, int64_t before, int limit,
    char ids[][STORE_ID_COPY], struct err *e);
/* Forgets a container in the current transaction: its row, labels and
 * processes, and every event of its id but those of its checkpoints (whose
 * rows stay: a checkpoint is files that outlive the container). */
int store_container_forget(struct store *s, const char *id, struct err *e);
/* Why the last failed commit or retry failed (code GRPC_OK: none has). */
const struct err *store_commit_error(struct store *s);
/* Events with seq > after_seq and ts > after_ts (0: any), for container_id
 * (NULL or "": all), in seq order, at most limit (0: no limit). */
int store_events_foreach(struct store *s, int64_t after_seq, int64_t after_ts,
    const char *container_id, int limit, store_event_cb cb, void *arg, struct err *e);

#endif
