/*
 * retention: bounds the history. Once a second (sooner while there is a
 * backlog) it removes, in batches inside the iteration's transaction, while
 * the events table holds more than --retain-count rows (and, for
 * --retain-age, whatever ended longer ago than that), in this order:
 *   1. the oldest stopped containers, each with its rows, its whole
 *      event history and its logs (logs_forget);
 *   2. the oldest finished execs of live containers, each with its row and
 *      every event of its name (start-process, exit): a finished exec is
 *      history like a stopped container;
 *   3. the oldest pause/resume pairs of live containers (a pair changes no
 *      state; only `replay --until` a moment inside a folded pair sees the
 *      container running rather than paused).
 * Whole histories only (a row goes with its events), so replaying the
 * events always rebuilds the tables. A container with checkpoints is kept
 * (its images are on disk).
 *
 * What a subscriber has not been sent yet is kept, within a bound: a
 * subscriber more than --retain-count events (or, without one,
 * SUB_HOLD_MAX) behind the newest holds back nothing older than that. A
 * reader that stalled for good would otherwise keep the table growing for
 * ever; when it reads again it skips forward over what went meanwhile (it
 * gets every event still in the table after its cursor, in order).
 *
 * An exec's directory goes once its exit is durable (retention_exec_exited):
 * until then its shim's exit file is what a restart would record it from.
 * A stopped container likewise (retention_container_stopped), and it leaves
 * the model at that moment too: retention_durable runs just before the
 * event bus pushes what became durable, so its id is free (for State and
 * Create alike) by the time a client can see its exit.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"

#define PRUNE_BATCH 64
#define SUB_HOLD_MAX 100000

static ev_timer timer;

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* Whether a live process works in dir (a new exec of the same name). */
static bool
dir_in_use(const char *dir)
{
	for (struct container *c = D.containers; c != NULL; c = c->next)
		for (struct process *p = c->procs; p != NULL; p = p->next)
			if (strcmp(p->dir, dir) == 0)
				return true;
	return false;
}

/* What waits for a commit to be durable: an exec's directory (WAIT_EXEC);
 * a stopped container (WAIT_CONTAINER): the model's copy, then its whole
 * directory, named by its id; or a forgotten container's logs (WAIT_LOGS),
 * named by its id: they go only once the rows are gone for good, so a
 * crash before that keeps the rows and the logs together. */
enum wait_kind { WAIT_EXEC, WAIT_CONTAINER, WAIT_LOGS };

struct dir_wait {
	char *dir;
	enum wait_kind kind;
	bool remove;			/* container: its directory goes too */
	uint64_t commit;		/* store_commits() that holds the exit */
	struct dir_wait *next;
};

static struct dir_wait *dirs_head, *dirs_tail;

/* The container whose init's exit commit is durable leaves the model, and
 * its directory goes, at once: the exit it announces may go out now. */
static void
container_gone(const char *id, bool remove)
{
	struct container *c = container_find(id);

	if (c != NULL && c->deleting) {
		log_debug("container %s: its exit is durable: the id is free", id);
		container_free(c);
	}
	if (remove && container_find(id) == NULL) /* not an id made anew */
		container_remove_dir(id);
}

/* What d waits for, done now that its commit is durable. */
static void
wait_done(enum wait_kind kind, const char *dir, bool remove)
{
	switch (kind) {
	case WAIT_CONTAINER:
		container_gone(dir, remove);
		break;
	case WAIT_LOGS:
		/* An id made anew since has its own logs (its create removed
		 * the old ones). */
		if (container_find(dir) == NULL)
			logs_forget(dir);
		break;
	case WAIT_EXEC:
		if (!dir_in_use(dir))
			nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
		break;
	}
}

void
retention_durable(void)
{
	while (dirs_head != NULL && dirs_head->commit <= store_durable(D.store)) {
		struct dir_wait *d = dirs_head;

		wait_done(d->kind, d->dir, d->remove);
		dirs_head = d->next;
		free(d->dir);
		free(d);
	}
	if (dirs_head == NULL)
		dirs_tail = NULL;
}

static void
when_durable(const char *dir, enum wait_kind kind, bool remove, uint64_t commit)
{
	struct dir_wait *d;

	if (commit <= store_durable(D.store)) {
		wait_done(kind, dir, remove);
		return;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL || (d->dir = strdup(dir)) == NULL) {
		free(d);
		/* No memory to wait: the model lets the id go now (its exit is
		 * committed); the directory stays, removed at the next start.
		 * Logs stay too, until the id is created anew. */
		if (kind == WAIT_CONTAINER)
			container_gone(dir, false);
		return;
	}
	d->kind = kind;
	d->remove = remove;
	d->commit = commit;
	if (dirs_tail != NULL)
		dirs_tail->next = d;
	else
		dirs_head = d;
	dirs_tail = d;
}

void
retention_exec_exited(const char *dir)
{
	/* The exit was written just now: the commit that will hold it, which
	 * is later than store_commits() while the store is stalled (its writes
	 * only journaled, no transaction open): until then the shim's exit
	 * file is all a restart would have. */
	when_durable(dir, WAIT_EXEC, false, store_commit_target(D.store));
}

void
retention_container_stopped(const char *id, uint64_t exit_commit, bool remove_dir)
{
	when_durable(id, WAIT_CONTAINER, remove_dir, exit_commit);
}

/* A pruned exec's directory, if its exit left one. */
static void
exec_pruned_cb(void *arg, const char *cid, const char *pid)
{
	struct container *c = container_find(cid);
	struct process *init = c != NULL ? process_find(c, "init") : NULL;
	const char *slash;
	char dir[PATH_MAX_LEN + 300];

	if (init == NULL || process_find(c, pid) != NULL ||
	    (slash = strrchr(init->dir, '/')) == NULL)
		return;
	snprintf(dir, sizeof(dir), "%.*s/%s", (int)(slash - init->dir), init->dir, pid);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

void
retention_logs_forget(const char *id)
{
	when_durable(id, WAIT_LOGS, false, store_commit_target(D.store));
}

/* A pruned stopped container's logs go with its history. */
static void
container_pruned_cb(void *arg, const char *cid, const char *pid)
{
	retention_logs_forget(cid);
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	int64_t now = now_ns(), count;
	/* What a subscriber has yet to receive stays, within the bound. */
	int64_t delivered = events_min_cursor();
	int64_t floor = store_event_last_seq(D.store) -
	    (D.cfg.retain_count > 0 ? D.cfg.retain_count : SUB_HOLD_MAX);
	struct err e;
	int n = 0, x = 0, more = 0;

	/* Not while facts wait in memory: what it would find and remove is
	 * not what the database will hold once they are written. */
	if (store_stalled(D.store)) {
		w->repeat = 1.0;
		ev_timer_again(loop, w);
		return;
	}
	if (delivered < floor) {
		log_debug("retention: a subscriber is more than %lld events behind: not waiting"
			  " for it", (long long)(D.cfg.retain_count > 0 ? D.cfg.retain_count
									: SUB_HOLD_MAX));
		delivered = floor;
	}
	if (D.cfg.retain_age_ns > 0) {
		int k;

		n = store_prune(D.store, now - D.cfg.retain_age_ns, delivered, 0, PRUNE_BATCH,
		    container_pruned_cb, NULL, &e);
		if (n < 0)
			log_warnx("retention: %s", e.msg);
		k = store_prune_execs(D.store, now - D.cfg.retain_age_ns, delivered, 0,
		    PRUNE_BATCH, exec_pruned_cb, NULL, &e);
		if (k < 0)
			log_warnx("retention: %s", e.msg);
		x += k > 0 ? k : 0;
		more = n == PRUNE_BATCH || k == PRUNE_BATCH;
	}
	if (D.cfg.retain_count > 0 && (count = store_event_count(D.store)) > D.cfg.retain_count) {
		int k = store_prune(D.store, now, delivered, count - D.cfg.retain_count,
		    PRUNE_BATCH, container_pruned_cb, NULL, &e);

		if (k < 0)
			log_warnx("retention: %s", e.msg);
		else if (k > 0)
			more = 1;
		n += k > 0 ? k : 0;
		/* No stopped history left to give: live containers' finished
		 * execs next, then their old pause/resume pairs, as few as the
		 * bound asks. */
		if (k == 0) {
			k = store_prune_execs(D.store, now + 1, delivered,
			    count - D.cfg.retain_count, PRUNE_BATCH, exec_pruned_cb, NULL, &e);
			if (k < 0)
				log_warnx("retention: %s", e.msg);
			else if (k > 0)
				more = 1;
			x += k > 0 ? k : 0;
		}
		if (k == 0) {
			int64_t pairs = (count - D.cfg.retain_count + 1) / 2;
			int f = store_fold_pauses(D.store, delivered,
			    pairs < PRUNE_BATCH ? (int)pairs : PRUNE_BATCH, &e);

			if (f < 0)
				log_warnx("retention: %s", e.msg);
			else if (f > 0) {
				more = 1;
				log_debug("retention: folded %d pause/resume pair(s)", f);
			}
		}
	}
	if (n > 0)
		log_debug("retention: pruned %d stopped container(s) with their history", n);
	if (x > 0)
		log_debug("retention: pruned %d finished exec(s) of live containers", x);
	/* A backlog goes in small steps, so requests keep being served between them. */
	w->repeat = more ? 0.01 : 1.0;
	ev_timer_again(loop, w);
}

void
retention_start(void)
{
	if (D.cfg.retain_count <= 0 && D.cfg.retain_age_ns <= 0)
		return;
	ev_init(&timer, tick_cb);
	timer.repeat = 1.0;
	ev_timer_again(D.loop, &timer);
}
