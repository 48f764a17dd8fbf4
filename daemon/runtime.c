/*
 * runtime: runs the OCI runtime's CLI (runc or compatible) as child jobs.
 * A job is finished once it is reaped *and* its output pipes reached EOF,
 * in either order. At most cfg.concurrency jobs run at once; the rest wait
 * in FIFO order.
 *
 * Every job has a deadline from when it starts (runtime_timeout_for): past
 * it the job's process group is killed, its pipes closed, its caller told
 * RUNTIME_TIMED_OUT, and its slot given to the next job at once. A process
 * that does not die (stuck in the kernel) then holds nothing but its entry
 * here until it is reaped: a hung runtime cannot keep the others waiting.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"


#define JOB_OUT_MAX (1u << 20)

struct job {
	struct job *next;	/* queue, or the running list */
	uint64_t id;
	char **argv;
	const char *verb;	/* in argv */
	runtime_done_cb cb;	/* NULL once answered (deadline) or cancelled */
	void *arg;
	pid_t pid;
	int64_t timeout_ns;	/* 0: none */
	bool slot;		/* counts in `running` */
	struct reap child_w;
	ev_io out_w, err_w;
	ev_timer deadline_w;
	char *out, *errbuf;
	size_t out_len, err_len;
	int pipes_open;
	bool reaped;
	int status;
};

static struct job *queue_head, *queue_tail;
/* Started and not yet reaped (and answered), slot or not. */
static struct job *started;
static int running;
static uint64_t next_job_id;

static void job_start(struct job *j);

void
runtime_jobs_init(void)
{
	queue_head = queue_tail = NULL;
	running = 0;
}

/* The runtime's own message: the last `msg="..."` of its log lines, else
 * the last non-empty line of stderr. */
static void
runtime_message(const char *errtext, char *out, size_t outsz)
{
	const char *last = NULL, *p = errtext;
	size_t n = 0;

	out[0] = '\0';
	if (errtext == NULL)
		return;
	while ((p = strstr(p, "msg=\"")) != NULL) {
		last = p + 5;
		p = last;
	}
	if (last != NULL) {
		for (p = last; *p && *p != '\n' && n + 1 < outsz; p++) {
			if (*p == '\\' && p[1] != '\0') {
				p++;
				out[n++] = *p == 'n' ? ' ' : *p;
				continue;
			}
			if (*p == '"')
				break;
			out[n++] = *p;
		}
		out[n] = '\0';
		return;
	}
	/* Plain text: the last non-empty line. */
	{
		const char *end = errtext + strlen(errtext), *start;

		while (end > errtext && (end[-1] == '\n' || end[-1] == ' '))
			end--;
		start = end;
		while (start > errtext && start[-1] != '\n')
			start--;
		n = (size_t)(end - start);
		if (n >= outsz)
			n = outsz - 1;
		memcpy(out, start, n);
		out[n] = '\0';
	}
}

static void
job_free(struct job *j)
{
	for (struct job **pp = &started; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
	ev_timer_stop(D.loop, &j->deadline_w);
	reap_stop(&j->child_w);
	for (char **a = j->argv; a && *a; a++)
		free(*a);
	free(j->argv);
	free(j->out);
	free(j->errbuf);
	free(j);
}

static void
start_queued(void)
{
	while (queue_head != NULL && running < D.cfg.concurrency) {
		struct job *n = queue_head;

		queue_head = n->next;
		if (queue_head == NULL)
			queue_tail = NULL;
		job_start(n);
	}
}

/* The job's slot goes to the next waiting job. */
static void
job_release(struct job *j)
{
	if (!j->slot)
		return;
	j->slot = false;
	running--;
	start_queued();
}

static void
job_close_pipes(struct job *j)
{
	ev_io *ws[2] = { &j->out_w, &j->err_w };

	for (int i = 0; i < 2 && j->pipes_open > 0; i++) {
		if (!ev_is_active(ws[i]))
			continue;
		ev_io_stop(D.loop, ws[i]);
		close(ws[i]->fd);
		j->pipes_open--;
	}
	j->pipes_open = 0;
}

static void
job_maybe_done(struct job *j)
{
	char msg[ERR_MSG_MAX];
	int status;
	runtime_done_cb cb = j->cb;

	if (!j->reaped || j->pipes_open > 0)
		return;
	ev_timer_stop(D.loop, &j->deadline_w);
	if (cb != NULL) {
		status = exit_status_of(j->status);
		runtime_message(j->errbuf, msg, sizeof(msg));
		if (status != 0 && msg[0] == '\0')
			snprintf(msg, sizeof(msg), "%s %s exited with status %d", j->argv[0],
			    j->verb, status);
		log_debug("runtime job %d (%s %s) done: status %d", (int)j->pid, j->argv[0],
		    j->verb, status);
		j->cb = NULL;
		/* The slot first: a callback that runs the runtime again starts
		 * at once, as before. */
		if (j->slot) {
			j->slot = false;
			running--;
		}
		cb(j->arg, status, j->out ? j->out : "", msg);
	}
	job_release(j);
	job_free(j);
	start_queued();
}

/* Kills the job's process group; the job no longer answers nor holds a
 * slot, and goes once reaped. */
static void
job_abandon(struct job *j)
{
	if (j->pid > 0) {
		kill(-j->pid, SIGKILL);
		kill(j->pid, SIGKILL);
	}
	job_close_pipes(j);
	ev_timer_stop(D.loop, &j->deadline_w);
	j->cb = NULL;
	job_release(j);
	if (j->reaped)
		job_free(j);
}

static void
job_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct job *j = w->data;
	runtime_done_cb cb = j->cb;
	void *arg = j->arg;
	char msg[ERR_MSG_MAX];

	snprintf(msg, sizeof(msg), "%s %s did not finish within %.1fs (--runtime-timeout); killed",
	    j->argv[0], j->verb, (double)j->timeout_ns / 1e9);
	log_warnx("runtime job %d: %s", (int)j->pid, msg);
	job_abandon(j);
	if (cb != NULL)
		cb(arg, RUNTIME_TIMED_OUT, "", msg);
}

static void
job_child_cb(struct reap *r)
{
	struct job *j = r->data;

	j->reaped = true;
	j->status = r->status;
	job_maybe_done(j);
}

static void
job_read(struct ev_loop *loop, ev_io *w, char **buf, size_t *len, struct job *j)
{
	char chunk[4096];
	ssize_t n = read(w->fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ev_io_stop(loop, w);
		close(w->fd);
		j->pipes_open--;
		job_maybe_done(j);
		return;
	}
	if (*len + (size_t)n > JOB_OUT_MAX)
		return; /* keep reading to EOF, drop the excess */
	{
		char *nb = realloc(*buf, *len + (size_t)n + 1);

		if (nb == NULL)
			return;
		memcpy(nb + *len, chunk, (size_t)n);
		*len += (size_t)n;
		nb[*len] = '\0';
		*buf = nb;
	}
}

static void
job_out_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct job *j = w->data;

	job_read(loop, w, &j->out, &j->out_len, j);
}

static void
job_err_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct job *j = w->data;

	job_read(loop, w, &j->errbuf, &j->err_len, j);
}

static void
job_start(struct job *j)
{
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, rc;

	running++;
	j->slot = true;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		rc = errno;
		goto fail;
	}
	rc = spawn_start(&(struct spawn_req){ .path = j->argv[0], .argv = j->argv,
			     .fds = { -1, out[1], errp[1] }, .nfds = 3, .report_fd = 2,
			     .report_prefix = "", .new_pgroup = true },
	    &j->pid);
	close(out[1]);
	close(errp[1]);
	out[1] = errp[1] = -1;
	if (rc != 0)
		goto fail;
	reap_start(&j->child_w, j->pid, true, job_child_cb, j);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	ev_io_init(&j->out_w, job_out_cb, out[0], EV_READ);
	ev_io_init(&j->err_w, job_err_cb, errp[0], EV_READ);
	j->out_w.data = j->err_w.data = j;
	ev_io_start(D.loop, &j->out_w);
	ev_io_start(D.loop, &j->err_w);
	j->pipes_open = 2;
	j->next = started;
	started = j;
	if (j->timeout_ns > 0) {
		ev_timer_init(&j->deadline_w, job_deadline_cb, (double)j->timeout_ns / 1e9, 0.);
		j->deadline_w.data = j;
		ev_timer_start(D.loop, &j->deadline_w);
	}
	log_debug("runtime job %d: %s %s", (int)j->pid, j->argv[0], j->argv[1]);
	return;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	{
		char msg[ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "cannot run the runtime %s: %s", j->argv[0],
		    strerror(rc));
		j->slot = false;
		running--;
		j->cb(j->arg, -1, "", msg);
		job_free(j);
	}
}

int64_t
runtime_timeout_for(const char *verb)
{
	int64_t t = D.cfg.runtime_timeout_ns;

	if (t <= 0)
		return 0;
	/* CRIU writes or reads the whole memory of the container. */
	if (strcmp(verb, "checkpoint") == 0 || strcmp(verb, "restore") == 0)
		return 10 * t;
	if (strcmp(verb, "start") == 0 && D.cfg.start_timeout_ns > 0 &&
	    D.cfg.start_timeout_ns < t)
		return D.cfg.start_timeout_ns;
	return t;
}

uint64_t
runtime_run_within(const struct container *c, const char *const *args, int64_t timeout_ns,
    runtime_done_cb cb, void *arg)
{
	const char *rt = c && c->runtime && *c->runtime ? c->runtime : D.cfg.runtime;
	char **gargs = c ? c->runtime_args : D.cfg.runtime_args;
	int ngargs = c ? c->n_runtime_args : D.cfg.n_runtime_args;
	int nargs = 0, k = 0;
	struct job *j;

	while (args[nargs] != NULL)
		nargs++;
	if (nargs == 0 || (j = calloc(1, sizeof(*j))) == NULL)
		return 0;
	j->argv = calloc((size_t)(1 + ngargs + nargs + 1), sizeof(char *));
	if (j->argv == NULL) {
		free(j);
		return 0;
	}
	j->argv[k++] = strdup(rt);
	for (int i = 0; i < ngargs; i++)
		j->argv[k++] = strdup(gargs[i]);
	for (int i = 0; i < nargs; i++)
		j->argv[k++] = strdup(args[i]);
	j->verb = j->argv[1 + ngargs];
	for (int i = 0; i < k; i++) {
		if (j->argv[i] == NULL) {
			job_free(j);
			return 0;
		}
	}
	j->id = ++next_job_id;
	j->timeout_ns = timeout_ns;
	j->cb = cb;
	j->arg = arg;
	if (running < D.cfg.concurrency) {
		job_start(j);
	} else {
		if (queue_tail != NULL)
			queue_tail->next = j;
		else
			queue_head = j;
		queue_tail = j;
	}
	return j->id;
}

int
runtime_run(const struct container *c, const char *const *args, runtime_done_cb cb, void *arg)
{
	return runtime_run_within(c, args, runtime_timeout_for(args[0] ? args[0] : ""), cb,
	    arg) != 0 ? 0 : -1;
}

void
runtime_cancel(uint64_t job_id)
{
	struct job *prev = NULL;

	if (job_id == 0)
		return;
	for (struct job *j = queue_head; j != NULL; prev = j, j = j->next) {
		if (j->id != job_id)
			continue;
		if (prev != NULL)
			prev->next = j->next;
		else
			queue_head = j->next;
		if (queue_tail == j)
			queue_tail = prev;
		job_free(j);
		return;
	}
	for (struct job *j = started; j != NULL; j = j->next) {
		if (j->id == job_id && j->cb != NULL) {
			log_debug("runtime job %d (%s %s): cancelled", (int)j->pid, j->argv[0],
			    j->verb);
			job_abandon(j);
			return;
		}
	}
}

int
runtime_jobs_pending(void)
{
	int n = running;

	/* Walked, not counted: only a metrics report asks. */
	for (struct job *j = queue_head; j != NULL; j = j->next)
		n++;
	return n;
}
