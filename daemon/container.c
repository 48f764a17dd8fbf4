/* container: the in-memory model of live containers, and what happens when
 * a process exits. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "procinfo.h"

/*
 * The containers by id, chained: every request names one, and a walk of
 * the list with strcmp was 18% of the daemon's CPU with 7,500 running.
 * 4,096 chains keep them short well past 10,000.
 */
#define ID_BUCKETS 4096
static struct container *by_id[ID_BUCKETS];

static struct container **
id_bucket(const char *id)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *s = (const unsigned char *)id; *s != '\0'; s++)
		h = (h ^ *s) * 16777619u;
	return &by_id[h % ID_BUCKETS];
}

struct container *
container_find(const char *id)
{
	for (struct container *c = *id_bucket(id); c != NULL; c = c->id_next)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

struct container *
container_new(const char *id)
{
	struct container *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->id = strdup(id)) == NULL) {
		free(c);
		return NULL;
	}
	{
		struct container **b = id_bucket(c->id);

		c->id_next = *b;
		*b = c;
	}
	c->prev = D.containers_tail;
	if (D.containers_tail != NULL)
		D.containers_tail->next = c;
	else
		D.containers = c;
	D.containers_tail = c;
	D.n_containers++;
	return c;
}

static void
strv_free(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void runtime_free(struct container *c);

void
container_free(struct container *c)
{
	if (c == NULL)
		return;
	while (c->procs != NULL)
		process_free(c->procs);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		D.containers = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		D.containers_tail = c->prev;
	D.n_containers--;
	for (struct container **pp = id_bucket(c->id); *pp != NULL; pp = &(*pp)->id_next) {
		if (*pp == c) {
			*pp = c->id_next;
			break;
		}
	}
	free(c->exit_note);
	free(c->id);
	free(c->bundle);
	runtime_free(c);
	strv_free(c->labels, c->n_labels);
	free(c);
}

static char *no_args[1];

static void
runtime_free(struct container *c)
{
	if (c->runtime != D.cfg.runtime)
		free(c->runtime);
	if (c->runtime_args != D.cfg.runtime_args && c->runtime_args != no_args)
		strv_free(c->runtime_args, c->n_runtime_args);
	c->runtime = NULL;
	c->runtime_args = NULL;
	c->n_runtime_args = 0;
}

static bool
strv_same(char **a, int na, char **b, int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

int
container_set_runtime(struct container *c, const char *runtime, char **args, int n)
{
	runtime_free(c);
	if (runtime == NULL || *runtime == '\0' || strcmp(runtime, D.cfg.runtime) == 0)
		c->runtime = (char *)D.cfg.runtime;
	else if ((c->runtime = strdup(runtime)) == NULL)
		return -1;
	if (n == 0) {
		c->runtime_args = no_args;
		return 0;
	}
	if (D.cfg.runtime_args != NULL && strv_same(args, n, D.cfg.runtime_args,
		D.cfg.n_runtime_args)) {
		c->runtime_args = D.cfg.runtime_args;
		c->n_runtime_args = n;
		return 0;
	}
	if ((c->runtime_args = calloc((size_t)n + 1, sizeof(char *))) == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		if ((c->runtime_args[i] = strdup(args[i])) == NULL)
			return -1; /* c->n_runtime_args counts what runtime_free frees */
		c->n_runtime_args = i + 1;
	}
	return 0;
}

struct process *
process_find(struct container *c, const char *name)
{
	for (struct process *p = c->procs; p != NULL; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

struct process *
process_new(struct container *c, const char *name)
{
	struct process *p = calloc(1, sizeof(*p));
	struct process **tail;
	char cdir[PATH_MAX_LEN + 64];

	if (p == NULL)
		return NULL;
	p->ctr = c;
	p->sync_fd = -1;
	p->pidfd = -1;
	layout_container_path(c->id, cdir, sizeof(cdir));
	if ((p->name = strdup(name)) == NULL || asprintf(&p->dir, "%s/%s", cdir, name) < 0) {
		free(p->name);
		free(p);
		return NULL;
	}
	for (tail = &c->procs; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = p;
	return p;
}

void
process_free(struct process *p)
{
	struct process **pp;

	shimctl_stop_watching(p);
	shimctl_process_freed(p);
	for (pp = &p->ctr->procs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	procinfo_put(p->info);
	free(p->stdio);
	free(p->timers);
	free(p->name);
	free(p->dir);
	free(p);
}

const char *
container_status_name(enum container_status s)
{
	switch (s) {
	case CONTAINER_CREATING:
		return "creating";
	case CONTAINER_RUNNING:
		return "running";
	case CONTAINER_PAUSED:
		return "paused";
	case CONTAINER_STOPPED:
		return "stopped";
	}
	return "unknown";
}

int
event_record(const char *type, const char *id, const char *pid, uint32_t status, int64_t ts,
    struct err *e)
{
	return event_record_note(type, id, pid, status, ts, "", e);
}

int
event_record_note(const char *type, const char *id, const char *pid, uint32_t status, int64_t ts,
    const char *note, struct err *e)
{
	if (store_event_append_note(D.store, ts, type, id, pid, status, note, e) < 0) {
		log_warnx("event %s %s %s lost: %s", type, id, pid, e->msg);
		return -1;
	}
	metrics_event_recorded(type);
	return 0;
}

int
exit_status_of(int wstatus)
{
	return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

int
process_read_exit_file(const char *dir, int *status, int64_t *exited_at)
{
	char path[4200], buf[64];
	long long st, at;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/exit", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%lld %lld", &st, &at) != 2)
		return -1;
	*status = (int)st;
	*exited_at = at;
	return 0;
}

int64_t
proc_start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may hold spaces and parens: fields restart after the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	/* field 3 is the state; starttime is field 22. */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d"
			  " %*d %*d %llu", &start) != 1)
		return 0;
	return (int64_t)start;
}

/*
 * The init's exit, written once the runtime no longer has the container.
 * The container stays in the model (State lists it "stopped", Create
 * refuses its id) until the commit holding the exit is durable; then
 * retention_durable frees it and removes its directory just before the bus
 * pushes that commit's events. So the moment a client can see the exit is
 * the moment State and Create both say the id is free (as the 2017
 * daemon, whose exit event followed its `runtime delete`). Until the exit
 * is written the shim's exit file keeps it: a daemon that dies in between
 * finds it at its start, deletes again and records the exit once.
 */
static void
init_exit_record(struct container *c, bool deleted)
{
	struct err e;

	if (store_process_exited(D.store, c->id, "init", c->exit_status, c->exited_at, &e) < 0)
		log_warnx("container %s: %s", c->id, e.msg);
	event_record_note("exit", c->id, "init", (uint32_t)c->exit_status, c->exited_at,
	    c->exit_note, &e);
	if (store_container_set_status(D.store, c->id, "stopped", c->exited_at, &e) < 0)
		log_warnx("container %s: %s", c->id, e.msg);
	metrics_observe(METRIC_EXIT_PROCESS, mono_ns() - c->delete_started);
	c->exit_commit = store_commit_target(D.store);
	/* A failed delete leaves the directory: the next start's reconcile
	 * finds it and deletes again, so the runtime's copy is not left for
	 * good. */
	retention_container_stopped(c->id, c->exit_commit, deleted);
}

static void
delete_done_cb(void *arg, int status, const char *out, const char *errmsg)
{
	char *id = arg;
	struct container *c = container_find(id);

	if (status != 0)
		log_warnx("container %s: runtime delete failed: %s (retried when the daemon"
			  " next starts)", id, errmsg);
	if (c != NULL && c->deleting) {
		metrics_observe(METRIC_CONTAINER_DELETE, mono_ns() - c->delete_started);
		log_info("container %s deleted", c->id);
		init_exit_record(c, status == 0);
	}
	free(id);
}

void
process_exited(struct process *p, int status, int64_t exited_at, const char *why)
{
	struct container *c = p->ctr;
	struct err e;
	bool init = strcmp(p->name, "init") == 0;
	int64_t noticed = mono_ns();

	if (p->state == PROCESS_EXITED)
		return;
	/* A process that ended before the runtime's start returned (runc start
	 * exits after the process it let go) ended, by its shim's clock,
	 * before the start recorded for it. Nothing may be listed as exited
	 * before it started (ListContainers' created and exited): it ended
	 * then. */
	if (p->started_at > 0 && exited_at < p->started_at)
		exited_at = p->started_at;
	if (init && !p->exit_pending) {
		/* The execs die with the init; their exits are recorded first,
		 * and an exec still being started gets its answer first. */
		for (struct process *x = c->procs; x != NULL; x = x->next) {
			if (x != p && x->state != PROCESS_EXITED) {
				shimctl_stop_watching(p);
				p->exit_pending = true;
				p->pending_status = status;
				p->pending_at = exited_at;
				return;
			}
		}
	}
	shimctl_stop_watching(p);
	p->state = PROCESS_EXITED;
	/* exited_at is the shim's time of the exit, kept as it is (the row's
	 * exited_at, the event's occurred_at): the event's own ts, the time of
	 * recording, is what orders the history. */
	if (why != NULL)
		log_warnx("container %s process %s: exit status %d: %s", c->id, p->name, status,
		    why);
	else
		log_info("container %s process %s exited with status %d", c->id, p->name, status);
	if (init && c->op_id == 0) {
		/* Recorded once the runtime has deleted it (init_exit_record);
		 * meanwhile State lists it "stopped" and Create refuses its id. */
		const char *args[] = { "delete", "--force", c->id, NULL };
		char *id = strdup(c->id);

		c->status = CONTAINER_STOPPED;
		c->deleting = true;
		c->delete_started = noticed;
		c->exit_status = status;
		c->exited_at = exited_at;
		c->exit_note = why != NULL ? strdup(why) : NULL;
		if (id == NULL || runtime_run(c, args, delete_done_cb, id) < 0) {
			free(id);
			init_exit_record(c, true);
		}
		return;
	}
	if (store_process_exited(D.store, c->id, p->name, status, exited_at, &e) < 0)
		log_warnx("container %s: %s", c->id, e.msg);
	event_record_note("exit", c->id, p->name, (uint32_t)status, exited_at, why, &e);
	metrics_observe(METRIC_EXIT_PROCESS, mono_ns() - noticed);
	if (!init) {
		struct process *ip = process_find(c, "init");

		retention_exec_exited(p->dir);
		process_free(p); /* its rows keep the record */
		if (ip != NULL && ip->exit_pending) {
			for (struct process *x = c->procs; x != NULL; x = x->next)
				if (x != ip && x->state != PROCESS_EXITED)
					return;
			process_exited(ip, ip->pending_status, ip->pending_at, NULL);
		}
		return;
	}
	/* A create under way cleans up itself. */
	c->status = CONTAINER_STOPPED;
	if (store_container_set_status(D.store, c->id, "stopped", exited_at, &e) < 0)
		log_warnx("container %s: %s", c->id, e.msg);
}

struct process_timers *
process_timers(struct process *p)
{
	if (p->timers == NULL)
		p->timers = calloc(1, sizeof(*p->timers));
	return p->timers;
}

void
process_set_info(struct process *p, json_t *process, const char *in, const char *out,
    const char *err)
{
	procinfo_put(p->info);
	free(p->stdio);
	p->stdio = NULL;
	p->info = procinfo_get(process);
	if (p->info != NULL && procinfo_stdio(in, out, err, &p->stdio) < 0) {
		procinfo_put(p->info);
		p->info = NULL;
	}
}

void
container_to_pb(struct container *c, Types__Container *out, Types__Process **procs,
    Types__Process *store, uint32_t *pids)
{
	size_t n = 0;

	types__container__init(out);
	out->id = c->id;
	out->bundlepath = c->bundle;
	out->status = (char *)container_status_name(c->status);
	out->runtime = c->runtime;
	out->labels = c->labels;
	out->n_labels = (size_t)c->n_labels;
	out->processes = procs;
	out->pids = pids;
	for (struct process *p = c->procs; p != NULL; p = p->next) {
		if (p->state != PROCESS_RUNNING || p->info == NULL)
			continue;
		procinfo_fill(&store[n], p->info, p->name, p->stdio, p->system_pid);
		procs[n] = &store[n];
		pids[n] = (uint32_t)p->system_pid;
		n++;
	}
	out->n_processes = n;
	out->n_pids = n;
}
