/*
 * offload: file work on paths a client named, run in a thread of its own.
 * Those paths are the client's: on a network or FUSE filesystem that
 * stopped answering even stat() waits for ever, and on the loop that would
 * stop the daemon (SIGTERM included). Each job's thread ends with the job,
 * so the daemon is single-threaded at rest; the result comes back through
 * a pipe the loop watches. A job that outlasts its deadline is answered
 * DEADLINE_EXCEEDED at once and its thread left to end whenever the
 * filesystem answers (the job is released only then). At most
 * OFFLOAD_MAX jobs are in flight; the next ones wait in a queue, in order,
 * their deadline already running (a queued job past it is answered and
 * released without a thread). The queue is bounded too (OFFLOAD_QUEUE_MAX):
 * a burst of creates on a busy machine waits its turn rather than being
 * refused, while a filesystem that stopped answering still cannot make
 * the daemon hold more than that.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

#define OFFLOAD_MAX 64
#define OFFLOAD_QUEUE_MAX 4096

static int done_pipe[2] = { -1, -1 };
static ev_io done_w;
static int n_in_flight, n_queued;
static struct offload *queue_head, **queue_tail = &queue_head;

static int run(struct offload *o, struct err *e);

/* The queued jobs that fit now get their threads. */
static void
start_queued(void)
{
	while (queue_head != NULL && n_in_flight < OFFLOAD_MAX) {
		struct offload *o = queue_head;
		struct err e = { 0 };

		if ((queue_head = o->next_queued) == NULL)
			queue_tail = &queue_head;
		o->queued = false;
		n_queued--;
		if (run(o, &e) < 0) {
			unsigned gen = o->gen;

			ev_timer_stop(D.loop, &o->timeout_w);
			if (!o->answered) {
				o->answered = true;
				o->done(o, &e);
			}
			if (o->gen == gen)
				o->release(o);
		}
	}
}

static void
unqueue(struct offload *o)
{
	struct offload **pp = &queue_head;

	while (*pp != NULL && *pp != o)
		pp = &(*pp)->next_queued;
	if (*pp == NULL)
		return;
	*pp = o->next_queued;
	if (*pp == NULL)
		queue_tail = pp;
	o->queued = false;
	n_queued--;
}

static void *
job_main(void *arg)
{
	struct offload *o = arg;

	o->work(o);
	/* One pointer: a pipe write of under PIPE_BUF bytes is whole. */
	while (write(done_pipe[1], &o, sizeof(o)) < 0 && errno == EINTR)
		;
	return NULL;
}

static void
done_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct offload *o;

	while (read(done_pipe[0], &o, sizeof(o)) == (ssize_t)sizeof(o)) {
		unsigned gen = o->gen;

		n_in_flight--;
		ev_timer_stop(D.loop, &o->timeout_w);
		if (!o->answered) {
			o->answered = true;
			o->done(o, &o->err);
		}
		/* done may have started the job's next step on o: that one
		 * releases it. */
		if (o->gen == gen)
			o->release(o);
	}
	start_queued();
}

static void
timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct offload *o = w->data;
	struct err e = { 0 };

	if (o->answered)
		return;
	o->answered = true;
	/* Not o->err: the thread may still write it. */
	if (o->queued)
		err_set(&e, GRPC_DEADLINE_EXCEEDED, "%s: not started within %.1fs: all %d file"
		    " jobs wait (on filesystems that do not answer?)", o->what, o->timeout,
		    OFFLOAD_MAX);
	else
		err_set(&e, GRPC_DEADLINE_EXCEEDED, "%s: not done within %.1fs: its filesystem"
		    " does not answer", o->what, o->timeout);
	log_warnx("%s", e.msg);
	if (o->queued) {
		/* No thread has it: it goes now. */
		unqueue(o);
		o->done(o, &e);
		o->release(o);
		return;
	}
	o->done(o, &e); /* the thread still holds o: released when it reports */
}

static int
init_once(struct err *e)
{
	if (done_pipe[0] >= 0)
		return 0;
	if (pipe2(done_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return err_set(e, GRPC_RESOURCE_EXHAUSTED, "cannot make a pipe: %s",
		    strerror(errno));
	/* A thread's write must not fail for a full pipe: it blocks instead
	 * (OFFLOAD_MAX pointers fit many times over). */
	fcntl(done_pipe[1], F_SETFL, fcntl(done_pipe[1], F_GETFL) & ~O_NONBLOCK);
	ev_io_init(&done_w, done_cb, done_pipe[0], EV_READ);
	ev_io_start(D.loop, &done_w);
	return 0;
}

/* A thread for o, now. */
static int
run(struct offload *o, struct err *e)
{
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 1024 * 1024);
	/* Signals stay the loop's: the thread starts with all of them blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t, &attr, job_main, o);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return err_set(e, GRPC_RESOURCE_EXHAUSTED, "%s: cannot start a thread: %s", o->what,
		    strerror(rc));
	n_in_flight++;
	return 0;
}

int
offload_start(struct offload *o, struct err *e)
{
	if (init_once(e) < 0)
		return -1;
	if (n_in_flight >= OFFLOAD_MAX && n_queued >= OFFLOAD_QUEUE_MAX)
		return err_set(e, GRPC_UNAVAILABLE, "%s: %d file jobs are in flight and %d wait"
		    " already (a filesystem that does not answer?); try again later", o->what,
		    OFFLOAD_MAX, OFFLOAD_QUEUE_MAX);
	o->answered = false;
	o->queued = false;
	ev_timer_init(&o->timeout_w, timeout_cb, o->timeout, 0.);
	o->timeout_w.data = o;
	if (n_in_flight >= OFFLOAD_MAX) {
		o->queued = true;
		o->next_queued = NULL;
		*queue_tail = o;
		queue_tail = &o->next_queued;
		n_queued++;
	} else if (run(o, e) < 0) {
		return -1;
	}
	o->gen++; /* read by done_cb on the loop, so after the thread's start is fine */
	if (o->timeout > 0)
		ev_timer_start(D.loop, &o->timeout_w);
	return 0;
}
