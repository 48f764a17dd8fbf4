/* rpc: decodes each request and hands it to its handler. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "daemon.h"
#include "health.pb-c.h"
#include "records.pb-c.h"
#include "log.h"
#include "pbwalk.h"
#include "records.pb-c.h"
#include "stats.h"

static void
rpc_health(uint64_t call_id, const void *reqp)
{
	const Grpc__Health__V1__HealthCheckRequest *req = reqp;
	Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
	struct err e;

	/* As grpc-go's health server (the 2017 daemon's): "" is the server
	 * itself; a service it never registered is NOT_FOUND. */
	if (req->service != NULL && req->service[0] != '\0' &&
	    strcmp(req->service, "types.API") != 0 &&
	    strcmp(req->service, "grpc.health.v1.Health") != 0 &&
	    strcmp(req->service, "containerd.records.v1.Records") != 0) {
		err_set(&e, GRPC_NOT_FOUND, "unknown service %s", req->service);
		server_reply_error(call_id, &e);
		return;
	}
	resp.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	server_reply(call_id, &resp.base);
}

static void
rpc_version(uint64_t call_id, const void *req)
{
	Types__GetServerVersionResponse resp = TYPES__GET_SERVER_VERSION_RESPONSE__INIT;

	resp.major = DAEMON_VERSION_MAJOR;
	resp.minor = DAEMON_VERSION_MINOR;
	resp.patch = DAEMON_VERSION_PATCH;
	resp.revision = DAEMON_REVISION;
	server_reply(call_id, &resp.base);
}

static void
rpc_logs(uint64_t call_id, const void *req)
{
	logs_start(call_id, req);
}

static void
rpc_create(uint64_t call_id, const void *req)
{
	op_create_start(call_id, req);
}

/*
 * pc->pids: every pid of the container, from its init's cgroup, as the 2017
 * daemon listed them (`runc ps`); `docker top` shows these (dockerd asks
 * State of that one id). Only State of one id walks the cgroup: reading a
 * container's cgroup costs some 15 system calls on cgroupfs (its
 * /proc/PID/cgroup, a stat per hierarchy, cgroup.procs, the directory),
 * 0.1-4 ms each container on this 2-core machine under load, so State of
 * 10,000 would take seconds; State of all lists the pids the daemon
 * keeps (the init's and the execs'). Returns the
 * malloc'd array put in place of the processes' pids (the caller frees it),
 * or NULL: those stay when the cgroup cannot be read.
 */
static uint32_t *
cgroup_pids(struct container *c, Types__Container *pc)
{
	struct process *init = NULL;
	uint32_t *all;
	size_t n;

	if (c->status != CONTAINER_RUNNING && c->status != CONTAINER_PAUSED)
		return NULL;
	for (struct process *p = c->procs; p != NULL; p = p->next)
		if (strcmp(p->name, "init") == 0 && p->state == PROCESS_RUNNING)
			init = p;
	if (init == NULL || init->system_pid <= 0 ||
	    stats_cgroup_pids(init->system_pid, "/sys/fs/cgroup", &all, &n) < 0)
		return NULL;
	pc->pids = all;
	pc->n_pids = n;
	return all;
}

static void
rpc_state(uint64_t call_id, const void *reqp)
{
	const Types__StateRequest *req = reqp;
	Types__StateResponse resp = TYPES__STATE_RESPONSE__INIT;
	Types__Machine machine = TYPES__MACHINE__INIT;
	Types__Container *pcs = NULL, **ptrs = NULL;
	Types__Process **procs = NULL, *store = NULL;
	uint32_t *pids = NULL, **owned = NULL;
	size_t nc = 0, np = 0, k = 0, kp = 0;
	struct sysinfo si;
	struct err e;

	/* Every container of the model is listed, since Create refuses each of
	 * their ids: one being created ("creating"), running, paused, or whose
	 * init has exited and whose exit waits for the runtime's delete and its
	 * commit ("stopped"; the exit is announced as it leaves the model). So
	 * State and Create never disagree about an id, as in the 2017 daemon,
	 * which listed a container from its create to its delete. */
	/* A malformed id is the caller's mistake, not an unknown container. */
	if (req->id[0] != '\0' && validate_id("container id", req->id, &e) < 0) {
		server_reply_error(call_id, &e);
		return;
	}
	for (struct container *c = D.containers; c != NULL; c = c->next) {
		if (req->id[0] && strcmp(req->id, c->id) != 0)
			continue;
		nc++;
		for (struct process *p = c->procs; p != NULL; p = p->next)
			np++;
	}
	if (req->id[0] != '\0' && nc == 0) {
		err_set(&e, GRPC_NOT_FOUND,
		    MSG_CONTAINER_NOT_FOUND ": no such container: %s", req->id);
		server_reply_error(call_id, &e);
		return;
	}
	pcs = calloc(nc + 1, sizeof(*pcs));
	ptrs = calloc(nc + 1, sizeof(*ptrs));
	procs = calloc(np + 1, sizeof(*procs));
	store = calloc(np + 1, sizeof(*store));
	pids = calloc(np + 1, sizeof(*pids));
	owned = calloc(nc + 1, sizeof(*owned));
	if (pcs == NULL || ptrs == NULL || procs == NULL || store == NULL || pids == NULL || owned == NULL) {
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		server_reply_error(call_id, &e);
		goto out;
	}
	for (struct container *c = D.containers; c != NULL; c = c->next) {
		if (req->id[0] && strcmp(req->id, c->id) != 0)
			continue;
		container_to_pb(c, &pcs[k], procs + kp, store + kp, pids + kp);
		kp += pcs[k].n_processes;
		owned[k] = req->id[0] != '\0' ? cgroup_pids(c, &pcs[k]) : NULL;
		ptrs[k] = &pcs[k];
		k++;
	}
	resp.containers = ptrs;
	resp.n_containers = k;
	machine.cpus = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
	if (sysinfo(&si) == 0)
		machine.memory = (uint64_t)si.totalram * si.mem_unit / (1024 * 1024);
	resp.machine = &machine;
	server_reply(call_id, &resp.base);
out:
	for (size_t i = 0; owned != NULL && i < k; i++)
		free(owned[i]);
	free(owned);
	free(pcs);
	free(ptrs);
	free(procs);
	free(store);
	free(pids);
}

/* The live process a request names, or NULL with a NOT_FOUND reply. */
struct process *
rpc_lookup_process(uint64_t call_id, const char *id, const char *pid)
{
	struct container *c;
	struct process *p;
	struct err e;

	if (validate_id("container id", id, &e) < 0) {
		server_reply_error(call_id, &e);
		return NULL;
	}
	if ((c = container_find(id)) == NULL || c->status == CONTAINER_STOPPED) {
		err_set(&e, GRPC_NOT_FOUND,
		    MSG_CONTAINER_NOT_FOUND ": no such container: %s", id);
		server_reply_error(call_id, &e);
		return NULL;
	}
	if (c->status == CONTAINER_CREATING) {
		err_set(&e, GRPC_FAILED_PRECONDITION, "container %s is still being created", id);
		server_reply_error(call_id, &e);
		return NULL;
	}
	if (pid == NULL || *pid == '\0')
		pid = "init";
	if ((p = process_find(c, pid)) == NULL || p->state != PROCESS_RUNNING) {
		err_set(&e, GRPC_NOT_FOUND,
		    MSG_PROCESS_NOT_FOUND ": container %s has no running process %s", id, pid);
		server_reply_error(call_id, &e);
		return NULL;
	}
	return p;
}

static void
rpc_signal(uint64_t call_id, const void *reqp)
{
	const Types__SignalRequest *req = reqp;
	Types__SignalResponse resp = TYPES__SIGNAL_RESPONSE__INIT;
	struct process *p;
	struct err e;
	int fd;

	/* Signal 0 is a liveness probe (as kill(2)): the pidfd lookup and
	 * pidfd_send_signal below check the process exists, nothing is sent. */
	if (req->signal >= (uint32_t)NSIG) {
		err_set(&e, GRPC_INVALID_ARGUMENT, "signal %u is not a valid signal number (0-%d)",
		    req->signal, NSIG - 1);
		server_reply_error(call_id, &e);
		return;
	}
	if ((p = rpc_lookup_process(call_id, req->id, req->pid)) == NULL)
		return;
	/* Through a pidfd checked by start time: a pid reused by another
	 * process (ours exited unseen) is never signalled. */
	if ((fd = shimctl_pidfd(p)) < 0) {
		if (errno == ESRCH)
			err_set(&e, GRPC_NOT_FOUND, "container %s process %s has exited (pid %d"
			    " is not its process any more)", req->id, p->name, (int)p->system_pid);
		else
			err_set(&e, GRPC_INTERNAL, "container %s process %s: cannot signal it: %s",
			    req->id, p->name, strerror(errno));
		server_reply_error(call_id, &e);
		return;
	}
	if (syscall(SYS_pidfd_send_signal, fd, (int)req->signal, NULL, 0) < 0) {
		err_set(&e, GRPC_NOT_FOUND, "container %s process %s: cannot signal it: %s",
		    req->id, p->name, strerror(errno));
		close(fd);
		server_reply_error(call_id, &e);
		return;
	}
	close(fd);
	log_debug("container %s process %s: sent signal %u", req->id, p->name, req->signal);
	/* A paused container holds the signal pending until it is thawed:
	 * for SIGKILL to its init the daemon thaws it (rpc_update.c says why);
	 * any other signal waits for a resume, as on the 2017 daemon. */
	if (req->signal == SIGKILL && strcmp(p->name, "init") == 0)
		rpc_update_thaw_killed(p->ctr);
	server_reply(call_id, &resp.base);
}

static void
rpc_events(uint64_t call_id, const void *req)
{
	events_subscribe(call_id, req);
}

static void
rpc_add_process(uint64_t call_id, const void *req)
{
	op_exec_start(call_id, req);
}

static void
rpc_update_ctr(uint64_t call_id, const void *req)
{
	rpc_update_container(call_id, req);
}

static void
rpc_update_proc(uint64_t call_id, const void *req)
{
	rpc_update_process(call_id, req);
}

static void
rpc_ckpt_create(uint64_t call_id, const void *req)
{
	rpc_create_checkpoint(call_id, req);
}

static void
rpc_ckpt_list(uint64_t call_id, const void *req)
{
	rpc_list_checkpoint(call_id, req);
}

static void
rpc_ckpt_delete(uint64_t call_id, const void *req)
{
	rpc_delete_checkpoint(call_id, req);
}

static void
rpc_stats(uint64_t call_id, const void *reqp)
{
	const Types__StatsRequest *req = reqp;
	Types__StatsResponse resp;
	struct process *init = rpc_lookup_process(call_id, req->id, "init");
	struct err e;

	if (init == NULL)
		return;
	if (stats_collect(init->system_pid, "/sys/fs/cgroup", &resp, &e) < 0) {
		server_reply_error(call_id, &e);
		return;
	}
	server_reply(call_id, &resp.base);
	stats_free(&resp);
}

struct method {
	const char *path;
	const ProtobufCMessageDescriptor *request;
	void (*handler)(uint64_t call_id, const void *req);
	/* Answers from memory (or the cgroup files) and changes nothing: its
	 * reply never waits behind a sync of others' changes. */
	bool readonly;
};

static const struct method methods[] = {
	{ "/grpc.health.v1.Health/Check", &grpc__health__v1__health_check_request__descriptor,
	    rpc_health, true },
	{ "/types.API/GetServerVersion", &types__get_server_version_request__descriptor,
	    rpc_version, true },
	{ "/types.API/CreateContainer", &types__create_container_request__descriptor, rpc_create, false },
	{ "/types.API/State", &types__state_request__descriptor, rpc_state, true },
	{ "/types.API/Signal", &types__signal_request__descriptor, rpc_signal, false },
	{ "/types.API/Events", &types__events_request__descriptor, rpc_events, false },
	{ "/types.API/AddProcess", &types__add_process_request__descriptor, rpc_add_process, false },
	{ "/types.API/UpdateContainer", &types__update_container_request__descriptor,
	    rpc_update_ctr, false },
	{ "/types.API/CreateCheckpoint", &types__create_checkpoint_request__descriptor,
	    rpc_ckpt_create, false },
	{ "/types.API/ListCheckpoint", &types__list_checkpoint_request__descriptor,
	    rpc_ckpt_list, true },
	{ "/types.API/DeleteCheckpoint", &types__delete_checkpoint_request__descriptor,
	    rpc_ckpt_delete, false },
	{ "/types.API/Stats", &types__stats_request__descriptor, rpc_stats, true },
	{ "/types.API/UpdateProcess", &types__update_process_request__descriptor,
	    rpc_update_proc, false },
	/* rpc_records.c. The listing reads the database inside the iteration's
	 * transaction: its reply waits for that commit, as a change's does. */
	{ "/containerd.records.v1.Records/ListContainers",
	    &containerd__records__v1__list_containers_request__descriptor, rpc_records_list,
	    false },
	{ "/containerd.records.v1.Records/RemoveContainer",
	    &containerd__records__v1__remove_container_request__descriptor, rpc_records_remove,
	    false },
	{ "/containerd.records.v1.Records/Prune",
	    &containerd__records__v1__prune_request__descriptor, rpc_records_prune, false },
	{ "/containerd.records.v1.Records/Logs",
	    &containerd__records__v1__logs_request__descriptor, rpc_logs, true },
};

/* A base-128 varint at p[*i]; -1 when cut short or over 10 bytes. */
static int
wire_varint(const uint8_t *p, size_t len, size_t *i, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 70 && *i < len; shift += 7) {
		uint8_t b = p[(*i)++];

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

/*
 * protobuf-c hands string fields over as C strings, so one with a NUL
 * inside would be read only up to it: id "web\0../x" would act on "web".
 * True when a string field of message d (nested messages too) holds a
 * NUL. Malformed bytes stop the walk: the unpacking refuses them.
 */
static bool
wire_string_has_nul(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len,
    int depth)
{
	size_t i = 0;
	uint64_t tag, n;

	while (i < len) {
		if (wire_varint(p, len, &i, &tag) < 0)
			return false;
		switch (tag & 7) {
		case 0:
			if (wire_varint(p, len, &i, &n) < 0)
				return false;
			break;
		case 1:
		case 5:
			n = (tag & 7) == 1 ? 8 : 4;
			if (n > len - i)
				return false;
			i += n;
			break;
		case 2: {
			const ProtobufCFieldDescriptor *f;

			if (wire_varint(p, len, &i, &n) < 0 || n > len - i)
				return false;
			f = tag >> 3 <= UINT32_MAX ?
			    protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3)) : NULL;
			if (f != NULL && f->type == PROTOBUF_C_TYPE_STRING &&
			    memchr(p + i, 0, n) != NULL)
				return true;
			if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE && depth < 32 &&
			    wire_string_has_nul(f->descriptor, p + i, n, depth + 1))
				return true;
			i += n;
			break;
		}
		default:
			return false;
		}
	}
	return false;
}

/*
 * protobuf's `string` fields are UTF-8. Bytes that are not would be
 * dropped where a string is written as JSON (jansson refuses them: an
 * exec's args or AppArmor profile lost) or make every later State
 * unreadable to clients that check (grpcio). So the whole request is
 * walked, and the first bad string named by where ("args[1]",
 * "user.username") into arg (PBWALK's 256 bytes).
 */
static int
utf8_or_name(void *arg, char **slot, const char *where)
{
	if (validate_utf8(*slot, strlen(*slot)))
		return 0;
	snprintf(arg, 256, "%s", where);
	return 1;
}

void
rpc_dispatch(uint64_t call_id, const char *path, const uint8_t *msg, size_t len)
{
	struct err e;

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		ProtobufCMessage *req;

		if (strcmp(methods[i].path, path) != 0)
			continue;
		if (wire_string_has_nul(methods[i].request, msg, len, 0)) {
			err_set(&e, GRPC_INVALID_ARGUMENT,
			    "%s: a string field of the request holds a NUL byte", path);
			server_reply_error(call_id, &e);
			return;
		}
		req = protobuf_c_message_unpack(methods[i].request, NULL, len, msg);
		if (req == NULL) {
			err_set(&e, GRPC_INVALID_ARGUMENT,
			    "%s: the request is not a valid %s message", path,
			    methods[i].request->name);
			server_reply_error(call_id, &e);
			return;
		}
		{
			char where[256] = "";

			if (pbwalk_strings(req, utf8_or_name, where) != 0) {
				err_set(&e, GRPC_INVALID_ARGUMENT,
				    "%s: field %s is not valid UTF-8 (protobuf strings must be)",
				    path, where);
				server_reply_error(call_id, &e);
				protobuf_c_message_free_unpacked(req, NULL);
				return;
			}
		}
		server_replies_readonly(methods[i].readonly);
		methods[i].handler(call_id, req);
		server_replies_readonly(false);
		protobuf_c_message_free_unpacked(req, NULL);
		return;
	}
	err_set(&e, GRPC_UNIMPLEMENTED, "unknown method %s", path);
	server_reply_error(call_id, &e);
}
