/*
 * retention: bounds the history. Once a second (sooner while there is a
 * backlog) it removes, in batches inside the iteration's transaction, the
 * oldest stopped containers together with their whole event history:
 * while the events table holds more than --retain-count rows, and for any
 * container stopped longer ago than --retain-age. Whole histories only, so
 * replaying the events always rebuilds the tables; a container with
 * checkpoints is kept (its images are on disk), and so is any history a
 * subscriber has not been sent yet.
 *
 * Live containers keep their history too, with one exception, so that a
 * container paused and resumed for ever cannot grow the table without
 * bound: when no stopped history is left to prune, the oldest pause/resume
 * pairs of live containers are folded away (a pair changes no state, so
 * the replay still rebuilds the tables; only `replay --until` a moment
 * inside a folded pair sees the container running rather than paused).
 */
#include "daemon.h"
#include "log.h"

#define PRUNE_BATCH 64

static ev_timer timer;

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	int64_t now = now_ns(), count;
	/* Never what a subscriber has yet to receive: a stalled reader loses nothing. */
	int64_t delivered = events_min_cursor();
	struct err e;
	int n = 0, more = 0;

	/* Not while facts wait in memory: what it would find and remove is
	 * not what the database will hold once they are written. */
	if (store_stalled(D.store)) {
		w->repeat = 1.0;
		ev_timer_again(loop, w);
		return;
	}
	if (D.cfg.retain_age_ns > 0) {
		n = store_prune(D.store, now - D.cfg.retain_age_ns, delivered, 0, PRUNE_BATCH, &e);
		if (n < 0)
			log_warnx("retention: %s", e.msg);
		more = n == PRUNE_BATCH;
	}
	if (D.cfg.retain_count > 0 && (count = store_event_count(D.store)) > D.cfg.retain_count) {
		int k = store_prune(D.store, now, delivered, count - D.cfg.retain_count,
		    PRUNE_BATCH, &e);

		if (k < 0)
			log_warnx("retention: %s", e.msg);
		else if (k > 0)
			more = 1;
		n += k > 0 ? k : 0;
		/* No stopped history left to give: live containers' old
		 * pause/resume pairs go next, as few as the bound asks. */
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
