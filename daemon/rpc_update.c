/*
 * UpdateContainer (pause, resume, resources) and UpdateProcess (stdin, tty
 * size).
 *
 * Pause and resume of one container run one at a time, in arrival order:
 * two `runtime pause`/`resume` at once finish in any order, and the state
 * recorded from the last to finish need not be the runtime's. A request
 * arriving while one runs is queued behind it (and answered in turn). After
 * a restart the same queue first asks the runtime (`state`) whether each
 * live container is paused: a crash between `runtime pause` and its commit
 * left the table saying running; the truth is recorded, with its event, so
 * the history still replays to the tables.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

/* THAW: the daemon's own resume of a container whose init was sent SIGKILL
 * while paused (rpc_update_thaw_killed). */
enum update_kind { UPDATE_RESOURCES, UPDATE_PAUSE, UPDATE_RESUME, UPDATE_PROBE, UPDATE_THAW };

struct update_ctx {
	uint64_t call_id;		/* 0: the daemon's own (a probe) */
	char *id;
	enum update_kind kind;
	struct update_ctx *next;	/* in its container's queue */
};

/* Containers with a pause, resume or probe under way, and what waits. */
struct pause_queue {
	char *id;
	struct update_ctx *head, *tail;	/* head: the one running */
	struct pause_queue *next;
};

static struct pause_queue *queues;

static void
update_free(struct update_ctx *u)
{
	free(u->id);
	free(u);
}

static const char *
kind_verb(enum update_kind k)
{
	return k == UPDATE_PAUSE ? "pause" : k == UPDATE_RESUME || k == UPDATE_THAW ? "resume" :
	    "state";
}

/* The runtime's word differs from the model: record it, with its event. */
static void
record_pause_state(struct container *c, bool paused, const char *note)
{
	int64_t now = now_ns();
	struct err e;

	c->status = paused ? CONTAINER_PAUSED : CONTAINER_RUNNING;
	if (store_container_set_status(D.store, c->id, paused ? "paused" : "running", now, &e) < 0)
		log_warnx("%s", e.msg);
	event_record_note(paused ? "pause" : "resume", c->id, "", 0, now, note, &e);
}

static void queue_next(struct pause_queue *q);

static void
pause_done_cb(void *arg, int status, const char *out, const char *errmsg)
{
	struct update_ctx *u = arg;
	struct container *c = container_find(u->id);
	bool live = c != NULL && c->status != CONTAINER_STOPPED && !c->deleting;
	struct pause_queue *q;
	struct err e;

	if (u->kind == UPDATE_PROBE) {
		json_t *j = status == 0 ? json_loads(out, 0, NULL) : NULL;
		const char *st = json_string_value(json_object_get(j, "status"));

		if (live && st != NULL && (strcmp(st, "paused") == 0) !=
		    (c->status == CONTAINER_PAUSED)) {
			log_warnx("container %s: %s in the database, %s by the runtime: recording"
				  " the runtime's", c->id, container_status_name(c->status), st);
			record_pause_state(c, strcmp(st, "paused") == 0,
			    "the runtime's state at the daemon's start");
		} else if (live && st == NULL) {
			log_warnx("container %s: runtime state unreadable at start: %s", u->id,
			    status == 0 ? "no status" : errmsg);
		}
		json_decref(j);
	} else if (u->kind == UPDATE_THAW) {
		/* The init, sent SIGKILL, dies as it thaws: its exit may have
		 * come first (then the runtime no longer knows it). */
		if (status != 0 && live)
			log_warnx("container %s: cannot thaw it for the SIGKILL sent to it: %s",
			    u->id, errmsg);
		else if (status == 0 && live && c->status == CONTAINER_PAUSED)
			record_pause_state(c, false, "thawed so that the SIGKILL sent to it"
						     " takes effect");
	} else if (status != 0) {
		err_set(&e, runtime_error_code(status), "container %s: the runtime refused to %s it:"
		    " %s", u->id, kind_verb(u->kind), errmsg);
		server_reply_error(u->call_id, &e);
	} else {
		Types__UpdateContainerResponse resp = TYPES__UPDATE_CONTAINER_RESPONSE__INIT;
		bool pause = u->kind == UPDATE_PAUSE;

		if (live && pause != (c->status == CONTAINER_PAUSED))
			record_pause_state(c, pause, "");
		server_reply(u->call_id, &resp.base);
	}
	for (q = queues; q != NULL && q->head != u; q = q->next)
		;
	if (q != NULL) {
		q->head = u->next;
		queue_next(q);
	}
	update_free(u);
}

/* Starts the queue's head, or drops the queue once it is empty. */
static void
queue_next(struct pause_queue *q)
{
	while (q->head != NULL) {
		struct update_ctx *u = q->head;
		struct container *c = container_find(u->id);
		const char *argv[] = { kind_verb(u->kind), u->id, NULL };
		struct err e;

		/* A thaw is for a paused container only (a pause ahead of it
		 * in the queue may have made it so); else nothing to do. */
		if (c != NULL && c->status != CONTAINER_STOPPED && !c->deleting &&
		    (u->kind != UPDATE_THAW || c->status == CONTAINER_PAUSED) &&
		    runtime_run(c, argv, pause_done_cb, u) == 0)
			return;
		/* Gone while it waited (or no memory to run the runtime). */
		q->head = u->next;
		if (u->call_id != 0) {
			if (c == NULL || c->status == CONTAINER_STOPPED || c->deleting)
				err_set(&e, GRPC_NOT_FOUND, MSG_CONTAINER_NOT_FOUND ": no such container:"
				    " %s (it stopped while this request waited)", u->id);
			else
				err_set(&e, GRPC_RESOURCE_EXHAUSTED, "container %s: cannot run the"
				    " runtime (out of memory)", u->id);
			server_reply_error(u->call_id, &e);
		}
		update_free(u);
	}
	{
		struct pause_queue **pp;

		for (pp = &queues; *pp != NULL && *pp != q; pp = &(*pp)->next)
			;
		if (*pp != NULL)
			*pp = q->next;
		free(q->id);
		free(q);
	}
}

/* Queues u behind its container's pause/resume under way, or starts it. */
static void
pause_enqueue(struct update_ctx *u)
{
	struct pause_queue *q;

	for (q = queues; q != NULL && strcmp(q->id, u->id) != 0; q = q->next)
		;
	if (q != NULL) {
		q->tail->next = u;
		q->tail = u;
		return;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL || (q->id = strdup(u->id)) == NULL) {
		struct err e;

		free(q);
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		if (u->call_id != 0)
			server_reply_error(u->call_id, &e);
		update_free(u);
		return;
	}
	q->head = q->tail = u;
	q->next = queues;
	queues = q;
	queue_next(q);
}

/*
 * A frozen process does not act on a signal until it is thawed, SIGKILL
 * included (cgroup v1's freezer; runc kill is no different): the signal
 * waits, pending. For SIGKILL to the init, which a client sends to end the
 * container (dockerd does so to each container it finds when it restarts
 * without live-restore), the daemon resumes the container after the signal,
 * in the container's pause/resume queue (so a pause still running goes
 * first, and a thaw finds it paused): the init dies at once, with 137, and
 * the container leaves the runtime as on any exit. Other signals wait
 * until a client resumes it, as on the 2017 daemon, which sent them and
 * no more.
 */
void
rpc_update_thaw_killed(struct container *c)
{
	struct pause_queue *q;
	struct update_ctx *u;

	for (q = queues; q != NULL && strcmp(q->id, c->id) != 0; q = q->next)
		;
	if (c->status != CONTAINER_PAUSED && q == NULL)
		return;
	if ((u = calloc(1, sizeof(*u))) == NULL || (u->id = strdup(c->id)) == NULL) {
		free(u);
		log_warnx("container %s: out of memory: not thawed for its SIGKILL", c->id);
		return;
	}
	u->kind = UPDATE_THAW;
	log_info("container %s: paused and sent SIGKILL: thawing it so that it ends", c->id);
	pause_enqueue(u);
}

void
rpc_update_probe_pause(struct container *c)
{
	struct update_ctx *u = calloc(1, sizeof(*u));

	if (u == NULL || (u->id = strdup(c->id)) == NULL) {
		free(u);
		log_warnx("container %s: out of memory: paused state not checked", c->id);
		return;
	}
	u->kind = UPDATE_PROBE;
	pause_enqueue(u);
}

static void
update_done_cb(void *arg, int status, const char *out, const char *errmsg)
{
	struct update_ctx *u = arg;
	Types__UpdateContainerResponse resp = TYPES__UPDATE_CONTAINER_RESPONSE__INIT;
	struct err e;

	if (status != 0) {
		err_set(&e, runtime_error_code(status),
		    "container %s: the runtime refused the update: %s", u->id, errmsg);
		server_reply_error(u->call_id, &e);
	} else {
		server_reply(u->call_id, &resp.base);
	}
	update_free(u);
}

static int
add_arg(const char **argv, int *k, char bufs[][32], int *nb, const char *flag, uint64_t v)
{
	if (v == 0)
		return 0;
	snprintf(bufs[*nb], 32, "%" PRIu64, v);
	argv[(*k)++] = flag;
	argv[(*k)++] = bufs[(*nb)++];
	return 1;
}

void
rpc_update_container(uint64_t call_id, const Types__UpdateContainerRequest *req)
{
	struct process *init = rpc_lookup_process(call_id, req->id, "init");
	struct container *c;
	struct update_ctx *u;
	const char *argv[40];
	char bufs[16][32];
	int k = 0, nb = 0;
	struct err e;

	if (init == NULL)
		return;
	c = init->ctr;
	if ((u = calloc(1, sizeof(*u))) == NULL || (u->id = strdup(c->id)) == NULL) {
		free(u);
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		server_reply_error(call_id, &e);
		return;
	}
	u->call_id = call_id;
	if (req->status[0] != '\0') {
		if (strcmp(req->status, "paused") == 0) {
			u->kind = UPDATE_PAUSE;
		} else if (strcmp(req->status, "running") == 0) {
			u->kind = UPDATE_RESUME;
		} else {
			err_set(&e, GRPC_INVALID_ARGUMENT,
			    "status \"%s\": only \"paused\" and \"running\" can be asked for",
			    req->status);
			goto refuse;
		}
		pause_enqueue(u);
		return;
	}
	/* No status and no resources: a no-op, as on the 2017 daemon (dockerd
	 * sends empty updates). */
	if (req->resources == NULL)
		goto noop;
	{
		const Types__UpdateResource *r = req->resources;
		int n = 0;

		argv[k++] = "update";
		n += add_arg(argv, &k, bufs, &nb, "--blkio-weight", r->blkioweight);
		n += add_arg(argv, &k, bufs, &nb, "--cpu-share", r->cpushares);
		n += add_arg(argv, &k, bufs, &nb, "--cpu-period", r->cpuperiod);
		n += add_arg(argv, &k, bufs, &nb, "--cpu-quota", r->cpuquota);
		n += add_arg(argv, &k, bufs, &nb, "--memory", r->memorylimit);
		n += add_arg(argv, &k, bufs, &nb, "--memory-swap", r->memoryswap);
		n += add_arg(argv, &k, bufs, &nb, "--memory-reservation", r->memoryreservation);
		n += add_arg(argv, &k, bufs, &nb, "--kernel-memory", r->kernelmemorylimit);
		n += add_arg(argv, &k, bufs, &nb, "--kernel-memory-tcp", r->kerneltcpmemorylimit);
		n += add_arg(argv, &k, bufs, &nb, "--pids-limit", r->pidslimit);
		if (r->cpusetcpus[0]) {
			argv[k++] = "--cpuset-cpus";
			argv[k++] = r->cpusetcpus;
			n++;
		}
		if (r->cpusetmems[0]) {
			argv[k++] = "--cpuset-mems";
			argv[k++] = r->cpusetmems;
			n++;
		}
		/* Nothing runc update can apply: accepted as a no-op. The blkio
		 * leaf weight and per-device weights and throttles are among these:
		 * runc update has no flags for them, so this daemon cannot apply
		 * them to a running container (dockerd sends blkio-only updates). */
		if (n == 0)
			goto noop;
		argv[k++] = c->id;
		argv[k] = NULL;
		if (runtime_run(c, argv, update_done_cb, u) < 0) {
			err_set(&e, GRPC_RESOURCE_EXHAUSTED, "container %s: cannot run the runtime"
			    " (out of memory)", c->id);
			goto refuse;
		}
	}
	return;
noop:
	free(u->id);
	free(u);
	{
		Types__UpdateContainerResponse resp = TYPES__UPDATE_CONTAINER_RESPONSE__INIT;

		server_reply(call_id, &resp.base);
	}
	return;
refuse:
	free(u->id);
	free(u);
	server_reply_error(call_id, &e);
}

void
rpc_update_process(uint64_t call_id, const Types__UpdateProcessRequest *req)
{
	Types__UpdateProcessResponse resp = TYPES__UPDATE_PROCESS_RESPONSE__INIT;
	struct process *p = rpc_lookup_process(call_id, req->id, req->pid);
	char path[PATH_MAX_LEN + 300], line[128];
	int fd, n = 0;
	struct err e;

	if (p == NULL)
		return;
	if (req->width > 0 || req->height > 0)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "resize %u %u\n", req->width,
		    req->height);
	if (req->closestdin)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "close-stdin\n");
	if (n == 0) {
		server_reply(call_id, &resp.base);
		return;
	}
	snprintf(path, sizeof(path), "%s/control", p->dir);
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* The shim removes its control fifo as the process ends. */
		err_set(&e, GRPC_NOT_FOUND, "container %s process %s has exited", req->id, p->name);
		server_reply_error(call_id, &e);
		return;
	}
	if (fd < 0 || write(fd, line, (size_t)n) != n) {
		err_set(&e, GRPC_UNAVAILABLE, "container %s process %s: cannot reach its shim"
		    " (%s): %s", req->id, p->name, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		server_reply_error(call_id, &e);
		return;
	}
	close(fd);
	server_reply(call_id, &resp.base);
}
