/*
 * op_exec: AddProcess. Writes the OCI process JSON, records the process,
 * spawns a shim that runs `runtime exec --detach`, and replies with the
 * host pid once the shim reports it. On failure nothing is left: no row,
 * no directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "op.h"
#include "procinfo.h"

struct op_exec {
	struct op op;
	uint64_t call_id;
	struct process *p;
	int64_t started;
	ev_timer deadline_w;	/* the shim's `runtime exec` must report by then */
};

static json_t *
strv_json(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static int
init_capabilities(void *arg, const struct store_process *sp)
{
	json_t **caps = arg, *spec;

	if (strcmp(sp->pid, "init") != 0 || *caps != NULL)
		return 0;
	spec = json_loads(sp->spec, 0, NULL);
	*caps = json_incref(json_object_get(spec, "capabilities"));
	json_decref(spec);
	return 0;
}

/* The container's own process capabilities (*caps, NULL: none named), for
 * an exec that names none: those its init was created with, as recorded.
 * The bundle's config.json is not read again: it is the client's file (a
 * FIFO, a huge file, a filesystem that stopped answering would stop the
 * loop), and the container runs with the config of its create anyway. */
static int
bundle_capabilities(const struct container *c, json_t **caps, struct err *e)
{
	*caps = NULL;
	return store_processes_foreach(D.store, c->id, init_capabilities, caps, e);
}

/* An rlimit is a uint64 (RLIM_INFINITY is 18446744073709551615) and jansson
 * holds only int64: a bigger one is a real in the daemon's view, as jsonlax
 * reads config.json (procinfo takes it back with jsonlax_uint64), and is
 * written out exactly by spec_text. */
static json_t *
u64_json(uint64_t v)
{
	return v <= INT64_MAX ? json_integer((json_int_t)v) : json_real((double)v);
}

/* The process JSON as the runtime reads it: spec with each rlimit above
 * INT64_MAX in exact decimal (Go's uint64 takes neither -1 nor 1.8e+19).
 * jansson cannot print such a number, so a copy holds a marker string in
 * its place, made unique by a random nonce, that is swapped for the digits
 * in the text. NULL: out of memory. */
static char *
spec_text(const Types__AddProcessRequest *req, const json_t *spec)
{
	json_t *copy, *rl;
	char *text, marker[64];
	uint64_t nonce = 0;
	size_t big = 0;

	for (size_t i = 0; i < req->n_rlimits; i++)
		big += (req->rlimits[i]->soft > INT64_MAX) + (req->rlimits[i]->hard > INT64_MAX);
	if (big == 0)
		return json_dumps(spec, JSON_COMPACT);
	if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) != sizeof(nonce))
		nonce = (uint64_t)now_ns() ^ (uint64_t)getpid();
	if ((copy = json_deep_copy(spec)) == NULL)
		return NULL;
	rl = json_object_get(copy, "rlimits");
	for (size_t i = 0; i < json_array_size(rl); i++) {
		const char *k[] = { "soft", "hard" };
		uint64_t v[] = { req->rlimits[i]->soft, req->rlimits[i]->hard };

		for (int j = 0; j < 2; j++) {
			if (v[j] <= INT64_MAX)
				continue;
			snprintf(marker, sizeof(marker), "u64:%016" PRIx64 ":%" PRIu64, nonce, v[j]);
			json_object_set_new(json_array_get(rl, i), k[j], json_string(marker));
		}
	}
	text = json_dumps(copy, JSON_COMPACT);
	json_decref(copy);
	if (text == NULL)
		return NULL;
	/* "u64:NONCE:DIGITS" -> DIGITS, in place: the text only shrinks. */
	snprintf(marker, sizeof(marker), "\"u64:%016" PRIx64 ":", nonce);
	for (char *m = strstr(text, marker); m != NULL; m = strstr(m, marker)) {
		char *digits = m + strlen(marker), *end = strchr(digits, '"');

		if (end == NULL)
			break;
		memmove(m, digits, (size_t)(end - digits));
		memmove(m + (end - digits), end + 1, strlen(end + 1) + 1);
		m += end - digits;
	}
	return text;
}

/* text into a new file at path; -1 with errno set. */
static int
write_text_file(const char *path, const char *text)
{
	size_t len = strlen(text), off = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int saved = n < 0 ? errno : EIO;

			close(fd);
			errno = saved;
			return -1;
		}
		off += (size_t)n;
	}
	return close(fd);
}

/* bcaps: the bundle's, taken (for an exec that names none). */
static json_t *
process_json(const Types__AddProcessRequest *req, json_t *bcaps)
{
	json_t *o = json_object(), *user = json_object(), *rl = json_array();

	json_object_set_new(o, "terminal", json_boolean(req->terminal));
	json_object_set_new(user, "uid", json_integer(req->user ? req->user->uid : 0));
	json_object_set_new(user, "gid", json_integer(req->user ? req->user->gid : 0));
	if (req->user != NULL && req->user->n_additionalgids > 0) {
		json_t *g = json_array();

		for (size_t i = 0; i < req->user->n_additionalgids; i++)
			json_array_append_new(g, json_integer(req->user->additionalgids[i]));
		json_object_set_new(user, "additionalGids", g);
	}
	json_object_set_new(o, "user", user);
	json_object_set_new(o, "args", strv_json(req->args, req->n_args));
	json_object_set_new(o, "env", strv_json(req->env, req->n_env));
	json_object_set_new(o, "cwd", json_string(req->cwd[0] ? req->cwd : "/"));
	if (req->n_capabilities > 0) {
		json_t *caps = json_object();
		const char *sets[] = { "bounding", "effective", "inheritable", "permitted" };

		for (size_t i = 0; i < 4; i++)
			json_object_set_new(caps, sets[i], strv_json(req->capabilities,
			    req->n_capabilities));
		json_object_set_new(o, "capabilities", caps);
	} else if (bcaps != NULL) {
		json_object_set_new(o, "capabilities", bcaps);
		bcaps = NULL;
	}
	json_decref(bcaps);
	if (req->apparmorprofile[0])
		json_object_set_new(o, "apparmorProfile", json_string(req->apparmorprofile));
	if (req->selinuxlabel[0])
		json_object_set_new(o, "selinuxLabel", json_string(req->selinuxlabel));
	json_object_set_new(o, "noNewPrivileges", json_boolean(req->nonewprivileges));
	for (size_t i = 0; i < req->n_rlimits; i++) {
		json_t *r = json_object();

		json_object_set_new(r, "type", json_string(req->rlimits[i]->type));
		json_object_set_new(r, "soft", u64_json(req->rlimits[i]->soft));
		json_object_set_new(r, "hard", u64_json(req->rlimits[i]->hard));
		json_array_append_new(rl, r);
	}
	if (req->n_rlimits > 0)
		json_object_set_new(o, "rlimits", rl);
	else
		json_decref(rl);
	return o;
}

static int
validate(const Types__AddProcessRequest *req, struct container **cp, struct err *e)
{
	struct container *c;

	if (validate_id("container id", req->id, e) < 0 ||
	    validate_id("process id (pid)", req->pid, e) < 0 ||
	    validate_path("stdin path", req->stdin, 1, e) < 0 ||
	    validate_path("stdout path", req->stdout, 1, e) < 0 ||
	    validate_path("stderr path", req->stderr, 1, e) < 0)
		return -1;
	if (req->n_args == 0)
		return err_set(e, GRPC_INVALID_ARGUMENT, "args is empty: what should run?");
	if (req->cwd[0] != '\0' && validate_path("cwd", req->cwd, 0, e) < 0)
		return -1;
	if (strcmp(req->pid, "init") == 0)
		return err_set(e, GRPC_INVALID_ARGUMENT, "pid \"init\" names the container's"
		    " first process; choose another name");
	if ((c = container_find(req->id)) == NULL || c->status == CONTAINER_STOPPED)
		return err_set(e, GRPC_NOT_FOUND,
		    MSG_CONTAINER_NOT_FOUND ": no such container: %s", req->id);
	if (c->status != CONTAINER_RUNNING)
		return err_set(e, GRPC_FAILED_PRECONDITION, "container %s is %s, not running",
		    req->id, container_status_name(c->status));
	{
		struct process *init = process_find(c, "init");

		/* Its exit waits for the execs: no new one may join them. */
		if (init == NULL || init->exit_pending)
			return err_set(e, GRPC_FAILED_PRECONDITION, "container %s is stopping:"
			    " its init has exited", req->id);
	}
	if (process_find(c, req->pid) != NULL)
		return err_set(e, GRPC_ALREADY_EXISTS, "container %s already has a process %s",
		    req->id, req->pid);
	*cp = c;
	return 0;
}

static void
op_end(struct op_exec *op)
{
	ev_timer_stop(D.loop, &op->deadline_w);
	op_unregister(&op->op);
	free(op);
}

/* The init's exit waited for the execs being started: once the last of
 * them is settled (this one failed), it is recorded. */
static void
init_exit_resume(struct container *c)
{
	struct process *ip = process_find(c, "init");

	if (ip == NULL || !ip->exit_pending)
		return;
	for (struct process *x = c->procs; x != NULL; x = x->next)
		if (x != ip && x->state != PROCESS_EXITED)
			return;
	process_exited(ip, ip->pending_status, ip->pending_at, NULL);
}

void
op_exec_forget(struct process *p, const char *why)
{
	struct container *c = p->ctr;
	struct err e2;

	if (why != NULL)
		log_warnx("container %s: exec %s %s: no trace of it is kept", c->id, p->name, why);
	if (store_process_remove(D.store, c->id, p->name, &e2) < 0)
		log_warnx("%s", e2.msg);
	if (p->shim_pid > 0)
		kill(-p->shim_pid, SIGKILL);
	{
		char path[PATH_MAX_LEN + 300];
		const char *files[] = { "process.json", "exit", "pid", "shim.log", "runtime.log",
			"control", "console.sock", NULL };

		for (int i = 0; files[i]; i++) {
			snprintf(path, sizeof(path), "%s/%s", p->dir, files[i]);
			unlink(path);
		}
		rmdir(p->dir);
	}
	layout_log_remove(c->id, p->name);
	process_free(p);
	init_exit_resume(c);
}

static void
fail(struct op_exec *op, const struct err *e)
{
	struct process *p = op->p;

	log_warnx("exec %s in container %s failed: %s", p->name, p->ctr->id, e->msg);
	server_reply_error(op->call_id, e);
	op_end(op);
	op_exec_forget(p, NULL);
}

void
op_exec_shim_reported(struct process *p, pid_t pid, const char *errmsg)
{
	struct op_exec *op = op_find(p->op_id, "exec");
	Types__AddProcessResponse resp = TYPES__ADD_PROCESS_RESPONSE__INIT;
	int64_t now = now_ns();
	struct err e;

	if (op == NULL)
		return;
	if (errmsg != NULL) {
		err_set(&e, GRPC_UNKNOWN, "container %s: the runtime could not exec %s: %s",
		    p->ctr->id, p->name, errmsg);
		fail(op, &e);
		return;
	}
	p->system_pid = pid;
	p->state = PROCESS_RUNNING;
	p->started_at = now;
	p->op_id = 0;
	if (store_process_started(D.store, p->ctr->id, p->name, pid, p->shim_pid,
		p->shim_start_time, now, &e) < 0)
		log_warnx("%s", e.msg);
	event_record("start-process", p->ctr->id, p->name, 0, now, &e);
	resp.systempid = (uint32_t)pid;
	server_reply(op->call_id, &resp.base);
	metrics_observe(METRIC_EXEC_PROCESS, now - op->started);
	log_info("container %s: exec %s started (pid %d) in %.1f ms", p->ctr->id, p->name,
	    (int)pid, (double)(now - op->started) / 1e6);
	op_end(op);
}

void
op_exec_shim_died(struct process *p)
{
	struct op_exec *op = op_find(p->op_id, "exec");
	struct err e;

	if (op == NULL)
		return;
	p->shim_pid = 0;
	{
		char path[PATH_MAX_LEN + 300], said[ERR_MSG_MAX / 2];

		/* Its shim.log goes with p->dir (op_exec_forget): quoted, not named. */
		snprintf(path, sizeof(path), "%s/shim.log", p->dir);
		if (errtext_log_tail(path, NULL, said, sizeof(said)) < 0)
			snprintf(said, sizeof(said), "its log is empty");
		err_set(&e, GRPC_INTERNAL, "container %s: the shim for exec %s exited before"
		    " reporting: %s", p->ctr->id, p->name, said);
	}
	fail(op, &e);
}

/* A `runtime exec` that hangs: its shim (and it) killed, the call answered. */
static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct op_exec *op = w->data;
	struct err e;

	err_set(&e, GRPC_DEADLINE_EXCEEDED, "container %s: exec %s: the runtime's exec did not"
	    " finish within %.1fs (--runtime-timeout); killed", op->p->ctr->id, op->p->name,
	    (double)runtime_timeout_for("exec") / 1e9);
	fail(op, &e);
}

void
op_exec_start(uint64_t call_id, const Types__AddProcessRequest *req)
{
	struct container *c = NULL;
	struct op_exec *op = NULL;
	struct process *p = NULL;
	struct err e = { 0 };
	json_t *spec = NULL, *caps = NULL;
	char path[PATH_MAX_LEN + 300];
	char *args = NULL, *env = NULL, *spectext = NULL;

	if (validate(req, &c, &e) < 0 ||
	    (req->n_capabilities == 0 && bundle_capabilities(c, &caps, &e) < 0))
		goto refuse;
	/* The store cannot commit (locked, disk full, file gone; tried again
	 * now): no process may start whose row would not be on disk. */
	if (store_stalled(D.store) && store_retry(D.store, NULL) < 0) {
		err_set(&e, store_commit_error(D.store)->code,
		    "process %s/%s not started: the database cannot record it now: %s", req->id,
		    req->pid, store_commit_error(D.store)->msg);
		goto refuse;
	}
	if ((op = calloc(1, sizeof(*op))) == NULL || (p = process_new(c, req->pid)) == NULL) {
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		goto refuse;
	}
	op->call_id = call_id;
	op->p = p;
	op->started = now_ns();
	ev_timer_init(&op->deadline_w, deadline_cb, (double)runtime_timeout_for("exec") / 1e9, 0.);
	op->deadline_w.data = op;
	op_register(&op->op, "exec", op);
	p->op_id = op->op.id;
	spec = process_json(req, caps);
	caps = NULL;
	process_set_info(p, spec, req->stdin, req->stdout, req->stderr);
	snprintf(path, sizeof(path), "%s/process.json", p->dir);
	if (mkdir(p->dir, 0700) < 0 && errno != EEXIST) {
		err_set(&e, errno == ENOSPC ? GRPC_RESOURCE_EXHAUSTED : GRPC_INTERNAL,
		    "cannot create %s: %s", p->dir, strerror(errno));
		goto fail;
	}
	if ((spectext = spec_text(req, spec)) == NULL) {
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		goto fail;
	}
	if (write_text_file(path, spectext) < 0) {
		err_set(&e, errno == ENOSPC ? GRPC_RESOURCE_EXHAUSTED : GRPC_INTERNAL,
		    "cannot write %s: %s", path, strerror(errno));
		goto fail;
	}
	args = procinfo_strv_json(req->args, req->n_args);
	env = procinfo_strv_json(req->env, req->n_env);
	{
		struct store_process sp = {
			.container_id = c->id,
			.pid = req->pid,
			.args = args,
			.env = env,
			.cwd = req->cwd[0] ? req->cwd : "/",
			.uid = req->user ? req->user->uid : 0,
			.gid = req->user ? req->user->gid : 0,
			.terminal = req->terminal,
			.stdin_path = req->stdin,
			.stdout_path = req->stdout,
			.stderr_path = req->stderr,
			.spec = spectext,
			.status = "creating",
		};
		struct shim_spec ss = {
			.stdin_path = req->stdin,
			.stdout_path = req->stdout,
			.stderr_path = req->stderr,
			.terminal = req->terminal,
			.exec_process_json = path,
		};

		/* A finished exec's row gives way to a new one of the same name;
		 * the events keep its history. */
		if (store_process_remove(D.store, c->id, req->pid, &e) < 0 ||
		    store_process_insert(D.store, &sp, &e) < 0 || shimctl_spawn(p, &ss, &e) < 0)
			goto fail;
		/* So that a restart before the shim reports finds it. */
		if (store_process_set_shim(D.store, c->id, req->pid, p->shim_pid,
			p->shim_start_time, &e) < 0)
			log_warnx("container %s exec %s: %s", c->id, req->pid, e.msg);
	}
	if (runtime_timeout_for("exec") > 0)
		ev_timer_start(D.loop, &op->deadline_w);
	free(args);
	free(env);
	free(spectext);
	json_decref(spec);
	return;
fail:
	free(args);
	free(env);
	free(spectext);
	json_decref(spec);
	fail(op, &e);
	return;
refuse:
	json_decref(caps);
	free(op);
	log_info("AddProcess %s/%s refused: %s", req->id, req->pid, e.msg);
	server_reply_error(call_id, &e);
}
