/*
 * reap: the daemon's children reaped by pid (why: reap.h).
 *
 * The loop is not libev's default loop, whose own SIGCHLD handler would
 * reap every child with waitpid(-1) before we could ask for one by pid;
 * SIGCHLD is an ordinary signal watcher here.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>

#include "daemon.h"
#include "log.h"
#include "reap.h"

#define REAP_BUCKETS 1024
#define REAP_SAFETY_S 2.0

static struct reap *table[REAP_BUCKETS];
static struct reap *cands;
static void (*other_cb)(pid_t pid, int wstatus);
static ev_signal sigchld_w;
/* soon_w: the next iteration, after the current one's pipe EOFs. */
static ev_timer soon_w, safety_w;
static bool always, unexplained;
static unsigned long sweeps;

static struct reap **
slot(pid_t pid)
{
	return &table[(unsigned)pid % REAP_BUCKETS];
}

static struct reap *
find(pid_t pid)
{
	for (struct reap *r = *slot(pid); r != NULL; r = r->hnext)
		if (r->pid == pid)
			return r;
	return NULL;
}

static void
cand_add(struct reap *r)
{
	if (r->candidate)
		return;
	r->candidate = true;
	r->cprev = NULL;
	r->cnext = cands;
	if (cands != NULL)
		cands->cprev = r;
	cands = r;
}

static void
cand_del(struct reap *r)
{
	if (!r->candidate)
		return;
	r->candidate = false;
	if (r->cprev != NULL)
		r->cprev->cnext = r->cnext;
	else
		cands = r->cnext;
	if (r->cnext != NULL)
		r->cnext->cprev = r->cprev;
	r->cnext = r->cprev = NULL;
}

void
reap_stop(struct reap *r)
{
	struct reap **pp;

	if (!r->active)
		return;
	cand_del(r);
	for (pp = slot(r->pid); *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == r) {
			*pp = r->hnext;
			break;
		}
	r->hnext = NULL;
	r->active = false;
}

bool
reap_active(const struct reap *r)
{
	return r->active;
}

/* pid ended with wstatus: to its watcher, or to other_cb. */
static void
dispatch(pid_t pid, int wstatus)
{
	struct reap *r = find(pid);

	if (r == NULL) {
		if (other_cb != NULL)
			other_cb(pid, wstatus);
		return;
	}
	reap_stop(r);
	r->status = wstatus;
	r->cb(r);
}

/* Every ended child, by waitpid(-1): a walk of all children per call. */
static void
sweep(void)
{
	pid_t pid;
	int ws;

	sweeps++;
	unexplained = false;
	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
		dispatch(pid, ws);
}

/* Asks each candidate; how many had ended. A callback may stop or start
 * any watcher, so the walk starts over after each one. */
static unsigned
ask_candidates(void)
{
	unsigned n = 0;
	bool again = true;

	while (again) {
		again = false;
		for (struct reap *r = cands; r != NULL; r = r->cnext) {
			int ws;
			pid_t got = waitpid(r->pid, &ws, WNOHANG);

			if (got == r->pid) {
				dispatch(got, ws);
				n++;
				again = true;
				break;
			}
			if (got < 0 && errno == ECHILD) {
				/* Reaped by someone else: its status is lost;
				 * its watcher hears "exited with 255". */
				log_warnx("child %d: already reaped elsewhere; its status is"
					  " lost", (int)r->pid);
				dispatch(r->pid, 255 << 8);
				again = true;
				break;
			}
		}
	}
	return n;
}

static void
soon(void)
{
	if (!ev_is_active(&soon_w)) {
		ev_timer_set(&soon_w, 0., 0.);
		ev_timer_start(D.loop, &soon_w);
	}
}

static void
sigchld_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	unsigned n = ask_candidates();

	if (always) {
		sweep();
		return;
	}
	if (n == 0) {
		/* A shim whose pipe's EOF is still queued in this iteration
		 * explains it next (reap_expect); if not, the sweep does. */
		unexplained = true;
		soon();
	}
	if (!ev_is_active(&safety_w)) {
		ev_timer_set(&safety_w, REAP_SAFETY_S, 0.);
		ev_timer_start(loop, &safety_w);
	}
}


static void
safety_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	sweep();
}

/* The candidates asked from the loop, not from the middle of whatever
 * closed a pipe; a SIGCHLD none of them explains, swept. */
static void
soon_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	if (ask_candidates() > 0)
		unexplained = false;
	if (unexplained)
		sweep();
}

void
reap_expect(struct reap *r)
{
	if (!r->active)
		return;
	cand_add(r);
	soon();
}

void
reap_start(struct reap *r, pid_t pid, bool candidate, reap_cb *cb, void *data)
{
	struct reap **s = slot(pid);

	reap_stop(r);
	r->pid = pid;
	r->cb = cb;
	r->data = data;
	r->status = 0;
	r->candidate = false;
	r->cnext = r->cprev = NULL;
	r->hnext = *s;
	*s = r;
	r->active = true;
	if (candidate)
		cand_add(r);
}

void
reap_sweep_always(bool on)
{
	always = on;
}

unsigned long
reap_sweeps(void)
{
	return sweeps;
}

void
reap_init(void (*other)(pid_t pid, int wstatus))
{
	other_cb = other;
	ev_signal_init(&sigchld_w, sigchld_cb, SIGCHLD);
	/* First in its iteration, as libev's own child handler was. */
	ev_set_priority(&sigchld_w, EV_MAXPRI);
	ev_signal_start(D.loop, &sigchld_w);
	/* Reaping is no reason for the loop to go on running. */
	ev_unref(D.loop);
	ev_init(&soon_w, soon_cb);
	ev_init(&safety_w, safety_cb);
	/* A child may have ended before the handler was there. */
	sweep();
}
