/*
 * bundle_read: a create's look at the client's files (the bundle directory,
 * its config.json, the checkpoint image) off the loop. Those paths are the
 * client's: on a network or FUSE filesystem that stopped answering, even
 * stat() waits for ever, and on the loop that would stop the daemon (SIGTERM
 * included). Each read runs in a thread of its own, which ends with it, so
 * the daemon is single-threaded at rest; the result comes back through a
 * pipe the loop watches. A read that outlasts --start-timeout is answered
 * DEADLINE_EXCEEDED and its thread left to end whenever the filesystem
 * answers; at most BUNDLE_READS_MAX are in flight.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

#define BUNDLE_READS_MAX 64

static int done_pipe[2] = { -1, -1 };
static ev_io done_w;
static int n_in_flight;

static void *
reader_main(void *arg)
{
	struct bundle_read *r = arg;
	struct stat st;

	if (stat(r->bundle, &st) < 0)
		err_set(&r->err, GRPC_INVALID_ARGUMENT, "bundle %s: %s", r->bundle, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		err_set(&r->err, GRPC_INVALID_ARGUMENT, "bundle %s: not a directory", r->bundle);
	else if (bundle_config_load(r->bundle, &r->config, &r->err) < 0)
		;
	else if (r->checkpoint_dir != NULL && access(r->checkpoint_dir, R_OK) != 0)
		err_set(&r->err, GRPC_NOT_FOUND, "checkpoint image not found at %s",
		    r->checkpoint_dir);
	/* One pointer: a pipe write of under PIPE_BUF bytes is whole. */
	while (write(done_pipe[1], &r, sizeof(r)) < 0 && errno == EINTR)
		;
	return NULL;
}

static void
bundle_read_free(struct bundle_read *r)
{
	ev_timer_stop(D.loop, &r->timeout_w);
	json_decref(r->config);
	free(r->bundle);
	free(r->checkpoint_dir);
	free(r->req);
	free(r);
}

static void
done_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct bundle_read *r;
	ssize_t n;

	while ((n = read(done_pipe[0], &r, sizeof(r))) == (ssize_t)sizeof(r)) {
		n_in_flight--;
		if (!r->answered) {
			r->answered = true;
			ev_timer_stop(D.loop, &r->timeout_w);
			r->done(r, &r->err, r->config);
		}
		bundle_read_free(r);
	}
}

static void
timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct bundle_read *r = w->data;
	struct err e = { 0 };

	if (r->answered)
		return;
	r->answered = true;
	/* Not r->err: the thread may still write it. */
	err_set(&e, GRPC_DEADLINE_EXCEEDED, "bundle %s: not read within --start-timeout"
	    " %.1fs: its filesystem does not answer", r->bundle,
	    (double)D.cfg.start_timeout_ns / 1e9);
	log_warnx("%s", e.msg);
	/* The thread still holds r: freed when it reports. */
	r->done(r, &e, NULL);
}

static int
init_once(struct err *e)
{
	if (done_pipe[0] >= 0)
		return 0;
	if (pipe2(done_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return err_set(e, GRPC_RESOURCE_EXHAUSTED, "cannot make a pipe: %s",
		    strerror(errno));
	/* The reader's write must not fail for a full pipe: it blocks instead
	 * (64 pointers fit many times over). */
	fcntl(done_pipe[1], F_SETFL, fcntl(done_pipe[1], F_GETFL) & ~O_NONBLOCK);
	ev_io_init(&done_w, done_cb, done_pipe[0], EV_READ);
	ev_io_start(D.loop, &done_w);
	return 0;
}

int
bundle_read_start(struct bundle_read *r, struct err *e)
{
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;
	int rc;

	if (init_once(e) < 0)
		return -1;
	if (n_in_flight >= BUNDLE_READS_MAX)
		return err_set(e, GRPC_UNAVAILABLE, "bundle %s: %d bundle reads are in flight"
		    " already (a filesystem that does not answer?); try again later", r->bundle,
		    BUNDLE_READS_MAX);
	ev_timer_init(&r->timeout_w, timeout_cb, (double)D.cfg.start_timeout_ns / 1e9, 0.);
	r->timeout_w.data = r;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 1024 * 1024);
	/* Signals stay the loop's: the thread starts with all of them blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t, &attr, reader_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return err_set(e, GRPC_RESOURCE_EXHAUSTED, "bundle %s: cannot start a thread: %s",
		    r->bundle, strerror(rc));
	n_in_flight++;
	if (D.cfg.start_timeout_ns > 0)
		ev_timer_start(D.loop, &r->timeout_w);
	return 0;
}

struct bundle_read *
bundle_read_new(const char *bundle, const char *checkpoint_dir)
{
	struct bundle_read *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->bundle = strdup(bundle)) == NULL ||
	    (checkpoint_dir != NULL && (r->checkpoint_dir = strdup(checkpoint_dir)) == NULL)) {
		if (r != NULL)
			free(r->bundle);
		free(r);
		return NULL;
	}
	return r;
}

void
bundle_read_discard(struct bundle_read *r)
{
	bundle_read_free(r);
}
