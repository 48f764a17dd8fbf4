/*
 * sync: making commits durable without stopping the daemon's loop.
 *
 * With synchronous=FULL, SQLite fsyncs the WAL inside every COMMIT, and the
 * daemon's single thread waits: on a busy disk that was 10 ms and more per
 * iteration, during which no request was even read (measured with the
 * slow-iteration log under tools/bench-events). Here SQLite runs with
 * synchronous=NORMAL (the commit is written to the WAL, not synced) and
 * the store syncs the WAL itself with an asynchronous fdatasync (Linux
 * native AIO, IOCB_CMD_FDSYNC), whose completion arrives on an eventfd the
 * loop watches. The daemon sends the replies and events of a commit only
 * once that commit is durable, so the promise is the same as with FULL:
 * an acknowledged change is on disk. One sync covers every commit made
 * before it was submitted, so a burst costs one fsync at a time.
 *
 * Where native AIO cannot be had (no io_setup, a file system that does not
 * take it), the store stays on synchronous=FULL and every commit is
 * durable when store_commit returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "store_internal.h"

struct store_sync {
	aio_context_t ctx;
	int efd;		/* eventfd: a sync finished */
	int wal_fd;		/* <db>-wal, opened by store_sync_async */
	bool in_flight;
	uint64_t flight_gen;	/* commits the sync in flight covers */
	int64_t flight_seq;
	struct iocb cb;
};

static void
sync_free(struct store_sync *y)
{
	if (y == NULL)
		return;
	if (y->ctx != 0)
		syscall(SYS_io_destroy, y->ctx);
	if (y->efd >= 0)
		close(y->efd);
	if (y->wal_fd >= 0)
		close(y->wal_fd);
	free(y);
}

/* Blocks until the sync in flight, if any, is done (closing, stopping). */
static void
sync_wait(struct store_sync *y)
{
	struct io_event ev;

	if (y->in_flight)
		syscall(SYS_io_getevents, y->ctx, 1, 1, &ev, NULL);
	y->in_flight = false;
}

void
store_sync_close(struct store *s)
{
	if (s->sync != NULL)
		sync_wait(s->sync);
	sync_free(s->sync);
	s->sync = NULL;
}

static int
wal_open(struct store *s)
{
	char wal[sizeof(s->path) + 8];

	if (s->sync->wal_fd >= 0)
		return 0;
	snprintf(wal, sizeof(wal), "%s-wal", s->path);
	s->sync->wal_fd = open(wal, O_RDONLY | O_CLOEXEC);
	return s->sync->wal_fd < 0 ? -1 : 0;
}

/* Queues an fdatasync of the WAL; notify: its completion signals the
 * eventfd. 0, or -1 when the kernel would not take it. */
static int
sync_submit(struct store_sync *y, bool notify)
{
	struct iocb *list[1] = { &y->cb };

	memset(&y->cb, 0, sizeof(y->cb));
	y->cb.aio_fildes = (uint32_t)y->wal_fd;
	y->cb.aio_lio_opcode = IOCB_CMD_FDSYNC;
	if (notify) {
		y->cb.aio_flags = IOCB_FLAG_RESFD;
		y->cb.aio_resfd = (uint32_t)y->efd;
	}
	return syscall(SYS_io_submit, y->ctx, 1, list) == 1 ? 0 : -1;
}

/* Submits an fdatasync of the WAL and takes the completion back at once:
 * proves that this kernel and file system run it asynchronously. */
static int
sync_probe(struct store *s)
{
	struct io_event ev;
	struct timespec limit = { 5, 0 };

	if (sync_submit(s->sync, false) < 0)
		return -1;
	if (syscall(SYS_io_getevents, s->sync->ctx, 1, 1, &ev, &limit) != 1)
		return -1;
	return ev.res == 0 ? 0 : -1;
}

int
store_sync_async(struct store *s, struct err *e)
{
	struct store_sync *y;

	if (s->readonly || s->sync != NULL)
		return 0;
	if ((y = calloc(1, sizeof(*y))) == NULL)
		return err_set(e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
	y->efd = y->wal_fd = -1;
	s->sync = y;
	/* The -wal file exists from the first read in WAL mode (store_open's
	 * quick_check), and stays while this connection is open. */
	if (syscall(SYS_io_setup, 4, &y->ctx) < 0 ||
	    (y->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 || wal_open(s) < 0 ||
	    sync_probe(s) < 0 ||
	    sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
		err_set(e, GRPC_UNAVAILABLE, "asynchronous fdatasync unavailable: %s",
		    strerror(errno));
		sync_free(y);
		s->sync = NULL;
		return -1;
	}
	return 0;
}

int
store_sync_fd(struct store *s)
{
	return s->sync != NULL ? s->sync->efd : -1;
}

uint64_t
store_commits(struct store *s)
{
	return s->commits;
}

uint64_t
store_durable(struct store *s)
{
	return s->durable;
}

int64_t
store_durable_seq(struct store *s)
{
	return s->durable_seq;
}

/* After a commit: synchronous mode is durable already. */
void
store_sync_committed(struct store *s)
{
	if (s->sync == NULL) {
		s->durable = s->commits;
		s->durable_seq = s->commit_seq;
	}
}

void
store_sync_kick(struct store *s)
{
	struct store_sync *y = s->sync;

	if (y == NULL || y->in_flight || s->durable == s->commits)
		return;
	y->flight_gen = s->commits;
	y->flight_seq = s->commit_seq;
	if (sync_submit(y, true) == 0) {
		y->in_flight = true;
		return;
	}
	/* Could not queue it: sync here, the loop waits this once. */
	fdatasync(y->wal_fd);
	s->durable = y->flight_gen;
	s->durable_seq = y->flight_seq;
}

int
store_sync_reap(struct store *s, struct err *e)
{
	struct store_sync *y = s->sync;
	struct io_event ev;
	struct timespec zero = { 0, 0 };
	uint64_t n;

	if (y == NULL)
		return 0;
	(void)!read(y->efd, &n, sizeof(n));
	if (!y->in_flight || syscall(SYS_io_getevents, y->ctx, 1, 1, &ev, &zero) != 1)
		return 0;
	y->in_flight = false;
	s->durable = y->flight_gen;
	s->durable_seq = y->flight_seq;
	if (ev.res < 0)
		return err_set(e, GRPC_INTERNAL, "cannot sync %s-wal to disk: %s", s->path,
		    strerror((int)-ev.res));
	return 0;
}

void
store_sync_now(struct store *s)
{
	struct store_sync *y = s->sync;

	if (y == NULL)
		return;
	sync_wait(y);
	if (s->durable != s->commits)
		fdatasync(y->wal_fd);
	s->durable = s->commits;
	s->durable_seq = s->commit_seq;
}
