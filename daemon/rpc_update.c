/* UpdateContainer (pause, resume, resources) and UpdateProcess (stdin, tty size). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

struct update_ctx {
	uint64_t call_id;
	char *id;
	char *status;		/* "paused", "running", or NULL for resources */
};

static void
update_done_cb(void *arg, int status, const char *out, const char *errmsg)
{
	struct update_ctx *u = arg;
	Types__UpdateContainerResponse resp = TYPES__UPDATE_CONTAINER_RESPONSE__INIT;
	struct container *c = container_find(u->id);
	struct err e;

	if (status != 0) {
		err_set(&e, runtime_error_code(status),
		    "container %s: the runtime refused the update: %s", u->id, errmsg);
		server_reply_error(u->call_id, &e);
	} else {
		if (u->status != NULL && c != NULL && c->status != CONTAINER_STOPPED) {
			bool pause = strcmp(u->status, "paused") == 0;
			int64_t now = now_ns();

			c->status = pause ? CONTAINER_PAUSED : CONTAINER_RUNNING;
			if (store_container_set_status(D.store, c->id, u->status, now, &e) < 0)
				log_warnx("%s", e.msg);
			event_record(pause ? "pause" : "resume", c->id, "", 0, now, &e);
		}
		server_reply(u->call_id, &resp.base);
	}
	free(u->id);
	free(u->status);
	free(u);
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
			argv[k++] = "pause";
		} else if (strcmp(req->status, "running") == 0) {
			argv[k++] = "resume";
		} else {
			err_set(&e, GRPC_INVALID_ARGUMENT,
			    "status \"%s\": only \"paused\" and \"running\" can be asked for",
			    req->status);
			goto refuse;
		}
		u->status = strdup(req->status);
		argv[k++] = c->id;
		argv[k] = NULL;
		runtime_run(c, argv, update_done_cb, u);
		return;
	}
	if (req->resources == NULL) {
		err_set(&e, GRPC_INVALID_ARGUMENT, "nothing to update: give a status or resources");
		goto refuse;
	}
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
		if (n == 0) {
			err_set(&e, GRPC_INVALID_ARGUMENT, "no resource to update was given");
			goto refuse;
		}
		argv[k++] = c->id;
		argv[k] = NULL;
		runtime_run(c, argv, update_done_cb, u);
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
