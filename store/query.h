/*
 * query: the reads bin/containerd-state needs, on a read-only handle.
 *
 * store_query_open() never creates, migrates or writes the database, and
 * leaves nothing behind:
 *   - no <db>-wal file: no connection has the database open (the last one to
 *     close removes it), so the file is read as it is, as an immutable
 *     snapshot (URI immutable=1), which needs no -wal or -shm file;
 *   - else the daemon runs: store_open(readonly) and SQLite's usual locking
 *     read a consistent state while it writes. When SQLite cannot set up its
 *     WAL index because the directory (or the -shm file) is not writable by
 *     us, the main file is read as an immutable snapshot: changes still in
 *     the -wal file are then not seen, which store_query_wal_pending() tells.
 *
 * Every read of one handle happens in one read transaction, begun by the first
 * query and ended by store_query_close(), so a dump or a replay sees one
 * moment even while the daemon commits.
 *
 * The records handed to callbacks (store.h's types) are valid only during the
 * callback: copy what you keep. Callbacks return 0 to go on, non-zero to stop
 * (that value is returned). Errors: -1 with e.
 */
#ifndef STORE_QUERY_H
#define STORE_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

struct store_query;

/* NULL with e: NOT_FOUND when path does not exist, PERMISSION_DENIED when it
 * cannot be read, FAILED_PRECONDITION for a file that is not ours, has no
 * schema yet or a schema newer than this binary (store_open's checks). The
 * handle is owned by the caller: store_query_close() it. */
struct store_query *store_query_open(const char *path, struct err *e);
void store_query_close(struct store_query *q);

/* The underlying store, for store_schema_version(); owned by q. */
struct store *store_query_store(struct store_query *q);
/* Whether q reads an immutable snapshot (the fallback above), and whether a
 * non-empty -wal file beside it holds changes the snapshot does not show. */
bool store_query_immutable(struct store_query *q);
bool store_query_wal_pending(struct store_query *q);

/* Containers, oldest first (created_at, id), as the daemon lists them; id
 * NULL or "": all of them, any status. */
int store_query_containers(struct store_query *q, const char *id, store_container_cb cb,
    void *arg, struct err *e);
/* One container's processes: init first, then the execs by start time. */
int store_query_processes(struct store_query *q, const char *container_id,
    store_process_cb cb, void *arg, struct err *e);
/* The same processes with only pid, status and exit_status (exited) set,
 * the other strings "" and numbers 0, by pid: read from an index (schema
 * 007), for replay. */
int store_query_process_states(struct store_query *q, const char *container_id,
    store_process_cb cb, void *arg, struct err *e);
/* One container's labels, in the order they were given. */
int store_query_labels(struct store_query *q, const char *container_id, store_label_cb cb,
    void *arg, struct err *e);
/* Checkpoints of one container (container_id NULL or "": of all, by
 * container), oldest first. */
int store_query_checkpoints(struct store_query *q, const char *container_id,
    store_checkpoint_cb cb, void *arg, struct err *e);

struct store_event_filter {
	int64_t since;		/* ts >= since (ns; 0: from the first) */
	int64_t until;		/* ts <= until (ns; 0: to the last) */
	const char *container_id; /* NULL or "": every container */
	const char *type;	/* NULL or "": every type */
};
/* Events matching f (NULL: all), in seq order. */
int store_query_events(struct store_query *q, const struct store_event_filter *f,
    store_event_cb cb, void *arg, struct err *e);

/* For `check`. Each line of PRAGMA integrity_check other than "ok". */
typedef int (*store_text_cb)(void *arg, const char *text);
int store_query_integrity(struct store_query *q, store_text_cb cb, void *arg, struct err *e);
/* Each row of PRAGMA foreign_key_check: the child table and rowid, the parent table. */
typedef int (*store_fk_cb)(void *arg, const char *table, int64_t rowid, const char *parent);
int store_query_foreign_keys(struct store_query *q, store_fk_cb cb, void *arg, struct err *e);
/* Labels and processes rows whose container has no row (possible only if a
 * writer ran with foreign keys off). */
int store_query_orphan_labels(struct store_query *q, store_label_cb cb, void *arg,
    struct err *e);
int store_query_orphan_processes(struct store_query *q, store_process_cb cb, void *arg,
    struct err *e);

#endif
