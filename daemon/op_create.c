/*
 * op_create: CreateContainer as a state machine.
 *
 *   VALIDATE -> READ (the bundle and config.json, off the loop: bundle_read)
 *            -> RECORD (its own directory, rows "creating", wait for their commit)
 *            -> SHIM (spawn, wait "created PID") -> START (runtime start)
 *            -> DONE (row running + start-container, reply)
 *   any failure -> UNDO (runtime delete --force) -> rows removed, reply error
 *
 * The shim is spawned only once the "creating" rows are committed: a
 * daemon killed after that finds them and undoes the create; one whose
 * commit failed (a full disk) spawns nothing and says why.
 *
 * advance() holds the only switch; each callback records its result and
 * calls advance(). Every transition is logged.
 */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "op.h"
#include "procinfo.h"

enum create_state {
	CR_RECORD,	/* rows written, waiting for the commit */
	CR_SHIM,	/* waiting for the shim's report */
	CR_START,	/* runtime start in flight */
	CR_DONE,
	CR_UNDO,	/* runtime delete in flight */
	CR_FAILED,
};

static const char *const state_names[] = { "RECORD", "SHIM", "START", "DONE", "UNDO",
	"FAILED" };

struct op_create {
	struct op op;
	uint64_t call_id;
	enum create_state state;
	struct container *c;
	struct process *init;
	struct err err;		/* why it failed */
	bool in_runtime;	/* runtime create succeeded: undo must delete */
	bool restore;		/* from a checkpoint: `runtime restore` also starts it */
	bool shim_gone;
	bool exited;		/* the init already ended (before START finished) */
	int exit_status;
	int64_t exited_at;
	int64_t started;	/* when the request arrived, ns */
	int64_t shim_spawned;	/* mono ns, for container-create-time */
	ev_timer timeout;
	uint64_t start_job;	/* START: the runtime start in flight */
	ev_timer recorded_w;	/* RECORD: fires after the iteration's commit */
	struct shim_spec spec;	/* RECORD: what to spawn; strings owned below */
	char *spec_strs[4];
	char *cg_path;		/* config.json's linux.cgroupsPath, "" for none */
	bool shim_started;	/* the runtime's create may have run, even in part */
};

static void advance(struct op_create *op);

/* How long the undo of a create past --start-timeout may take: half of
 * it, between 1 and 5 s (a `runtime delete` takes a fraction of a second). */
static int64_t
undo_late_ns(void)
{
	int64_t t = D.cfg.start_timeout_ns / 2;

	return t < 1000000000LL ? 1000000000LL : t > 5000000000LL ? 5000000000LL : t;
}

static void
enter_state(struct op_create *op, enum create_state next)
{
	log_debug("op %llu create ctr=%s %s -> %s", (unsigned long long)op->op.id, op->c->id,
	    state_names[op->state], state_names[next]);
	op->state = next;
}

static void
op_free(struct op_create *op)
{
	ev_timer_stop(D.loop, &op->timeout);
	ev_timer_stop(D.loop, &op->recorded_w);
	for (int i = 0; i < 4; i++)
		free(op->spec_strs[i]);
	free(op->cg_path);
	op_unregister(&op->op);
	free(op);
}

static void
fail(struct op_create *op, int code, const char *fmt, const char *detail)
{
	if (op->err.code == GRPC_OK)
		err_set(&op->err, code, fmt, op->c->id, detail);
	enter_state(op, CR_UNDO);
	advance(op);
}

static void
start_done_cb(void *arg, int status, const char *out, const char *errmsg)
{
	struct op_create *op = op_find((uint64_t)(uintptr_t)arg, "create");

	if (op == NULL || op->state != CR_START)
		return;
	op->start_job = 0;
	if (status != 0) {
		fail(op, runtime_error_code(status),
		    "container %s: the runtime could not start it: %s", errmsg);
		return;
	}
	enter_state(op, CR_DONE);
	advance(op);
}

static void
undo_done_cb(void *arg, int status, const char *out, const char *errmsg)
{
	struct op_create *op = op_find((uint64_t)(uintptr_t)arg, "create");

	if (op == NULL)
		return;
	if (status != 0) {
		log_warnx("op %llu create ctr=%s: runtime delete during undo: %s%s",
		    (unsigned long long)op->op.id, op->c->id, errmsg,
		    status == RUNTIME_TIMED_OUT ? "; its process killed, the runtime's record of"
		    " it left" : "");
		/* Its init waits in the runtime's create: nothing of it may run on. */
		if (status == RUNTIME_TIMED_OUT && op->init->system_pid > 0)
			kill(op->init->system_pid, SIGKILL);
	}
	op->in_runtime = false;
	advance(op);
}

static void
timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct op_create *op = w->data;
	char detail[64];

	if (op->state != CR_RECORD && op->state != CR_SHIM && op->state != CR_START)
		return;
	snprintf(detail, sizeof(detail), "%.1fs", (double)D.cfg.start_timeout_ns / 1e9);
	/* A start still running (or queued) never answers now: its slot goes. */
	runtime_cancel(op->start_job);
	op->start_job = 0;
	if (op->init->shim_pid > 0)
		kill(-op->init->shim_pid, SIGKILL); /* the shim's session: it and the runtime */
	op->in_runtime = true;			    /* the runtime may have got that far */
	fail(op, GRPC_DEADLINE_EXCEEDED, "container %s did not start within --start-timeout %s",
	    detail);
}

/* The iteration that wrote the rows has committed (timers run after the
 * prepare watcher that commits). Spawn only if the rows made it. */
static void
recorded_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct op_create *op = w->data;
	const struct err *ce;
	struct err e;
	int k;

	if (op->state != CR_RECORD)
		return;
	if (store_in_transaction(D.store)) {
		/* Other writes of this iteration came first: the rows would be
		 * read back uncommitted. Ask again after the next commit. */
		ev_timer_set(w, 0., 0.);
		ev_timer_start(loop, w);
		return;
	}
	k = store_container_recorded(D.store, op->c->id, "creating", op->c->created_at, &e);
	if (k < 0) {
		fail(op, e.code, "container %s: %s", e.msg);
		return;
	}
	if (k == 0) {
		ce = store_commit_error(D.store);
		if (ce->code != GRPC_OK)
			fail(op, ce->code, "container %s: not recorded: %s", ce->msg);
		else
			fail(op, GRPC_INTERNAL, "container %s: %s",
			    "its rows were not committed (see the daemon log)");
		return;
	}
	enter_state(op, CR_SHIM);
	advance(op);
}

void
op_create_shim_reported(struct process *p, pid_t pid, const char *errmsg)
{
	struct op_create *op = op_find(p->op_id, "create");

	if (op == NULL || op->state != CR_SHIM)
		return;
	if (errmsg != NULL) {
		char quoted[ERR_MSG_MAX];

		/* A restore's CRIU log is in p->dir, which the undo removes. */
		if (errtext_criu_log(errmsg, p->dir, quoted, sizeof(quoted)) == 0)
			errmsg = quoted;
		fail(op, GRPC_UNKNOWN, "container %s: the runtime could not create it: %s", errmsg);
		return;
	}
	p->system_pid = pid;
	op->in_runtime = true;
	metrics_observe(METRIC_CONTAINER_CREATE, mono_ns() - op->shim_spawned);
	enter_state(op, op->restore ? CR_DONE : CR_START);
	advance(op);
}

void
op_create_shim_died(struct process *p)
{
	struct op_create *op = op_find(p->op_id, "create");

	if (op == NULL)
		return;
	op->shim_gone = true;
	p->shim_pid = 0;
	if (process_read_exit_file(p->dir, &op->exit_status, &op->exited_at) == 0)
		op->exited = true;
	if (op->state == CR_SHIM) {
		char path[PATH_MAX_LEN + 300], said[ERR_MSG_MAX / 2];

		/* Its shim.log goes with p->dir in the undo: quoted, not named. */
		snprintf(path, sizeof(path), "%s/shim.log", p->dir);
		if (errtext_log_tail(path, NULL, said, sizeof(said)) < 0)
			snprintf(said, sizeof(said), "its log is empty");
		fail(op, GRPC_INTERNAL, "container %s: the shim exited before reporting: %s",
		    said);
	}
	/* In START: the process ran and already ended; DONE records both. */
}

/* The container is running: record it, reply, and let the model own it. */
static void
finish_ok(struct op_create *op)
{
	struct container *c = op->c;
	struct process *p = op->init;
	int64_t now = now_ns();
	Types__CreateContainerResponse resp = TYPES__CREATE_CONTAINER_RESPONSE__INIT;
	Types__Container pc;
	Types__Process *procs[1], store[1];
	uint32_t pids[1];
	struct err e;

	c->status = CONTAINER_RUNNING;
	p->state = PROCESS_RUNNING;
	c->op_id = 0;
	p->op_id = 0;
	/* No pid, as the 2017 daemon sent it (clients compare whole events).
	 * The init's start is that event's own time (ts), so a listing that
	 * reads started_at (ListContainers' created, `ctr containers`) gives
	 * the event's time exactly without replaying the history. */
	if (event_record("start-container", c->id, "", 0, now, &e) == 0)
		now = store_event_last_ts(D.store);
	p->started_at = now;
	if (store_process_started(D.store, c->id, "init", p->system_pid, p->shim_pid,
		p->shim_start_time, now, &e) < 0 ||
	    store_container_set_status(D.store, c->id, "running", now, &e) < 0)
		log_warnx("container %s: %s", c->id, e.msg);
	container_to_pb(c, &pc, procs, store, pids);
	resp.container = &pc;
	server_reply(op->call_id, &resp.base);
	metrics_observe(METRIC_CONTAINER_START, now - op->started);
	log_info("container %s started (pid %d) in %.1f ms", c->id, (int)p->system_pid,
	    (double)(now - op->started) / 1e6);
	if (op->exited)
		process_exited(p, op->exit_status, op->exited_at, NULL);
	else if (op->shim_gone)
		process_exited(p, 255, now_ns(), "the shim died during start: status unknown");
	op_free(op);
}

/* Nothing of the container is left: rows, runtime state, files. */
static void
finish_failed(struct op_create *op)
{
	struct container *c = op->c;
	struct err e;

	if (store_container_remove(D.store, c->id, &e) < 0)
		log_warnx("container %s: %s", c->id, e.msg);
	if (op->init->shim_pid > 0 && !op->shim_gone)
		kill(-op->init->shim_pid, SIGKILL);
	/* A runtime create cut short (the timeout killed it, or its shim died)
	 * leaves cgroups its delete does not know of; the undo's delete has
	 * finished by now. A create the runtime refused cleaned up itself, and
	 * the cgroups of a container the runtime already has under this id
	 * are not this create's. */
	if (op->shim_started && (op->err.code == GRPC_DEADLINE_EXCEEDED || op->shim_gone))
		cgroups_remove_empty(c->id, op->cg_path);
	container_remove_dir(c->id);
	/* The log this attempt made, unless the id still has a record (its
	 * rows are removed just above: any left are another container's). */
	if (store_container_known(D.store, c->id, &e) == 0)
		layout_log_remove(c->id, "init");
	log_warnx("container %s not created: %s", c->id, op->err.msg);
	server_reply_error(op->call_id, &op->err);
	container_free(c);
	op_free(op);
}

static void
advance(struct op_create *op)
{
	uintptr_t id = (uintptr_t)op->op.id;

	switch (op->state) {
	case CR_RECORD:
		break; /* recorded_cb, after the commit */
	case CR_SHIM:
		op->shim_spawned = mono_ns();
		op->shim_started = true;
		if (shimctl_spawn(op->init, &op->spec, &op->err) < 0) {
			enter_state(op, CR_UNDO);
			advance(op);
		}
		break; /* the shim reports through op_create_shim_reported */
	case CR_START: {
		const char *args[] = { "start", op->c->id, NULL };

		/* Its deadline (at most --start-timeout from now) is a backstop:
		 * timeout_cb, earlier, cancels it. */
		op->start_job = runtime_run_within(op->c, args, runtime_timeout_for("start"),
		    start_done_cb, (void *)id);
		if (op->start_job == 0)
			fail(op, GRPC_RESOURCE_EXHAUSTED, "container %s: %s",
			    "cannot run the runtime (out of memory)");
		break;
	}
	case CR_DONE:
		finish_ok(op);
		break;
	case CR_UNDO:
		if (op->in_runtime) {
			const char *args[] = { "delete", "--force", op->c->id, NULL };
			int64_t t = runtime_timeout_for("delete");

			/* Past --start-timeout the answer is due: the undo gets a
			 * few seconds more, not a whole runtime deadline. */
			if (op->err.code == GRPC_DEADLINE_EXCEEDED &&
			    (t == 0 || t > undo_late_ns()))
				t = undo_late_ns();
			op->in_runtime = false;
			if (runtime_run_within(op->c, args, t, undo_done_cb, (void *)id) != 0)
				break;
		}
		enter_state(op, CR_FAILED);
		finish_failed(op);
		break;
	case CR_FAILED:
		break;
	}
}

static char **
strv_dup(char **v, size_t n)
{
	char **out = calloc(n + 1, sizeof(char *));

	for (size_t i = 0; out != NULL && i < n; i++) {
		if ((out[i] = strdup(v[i])) == NULL) {
			for (size_t j = 0; j < i; j++)
				free(out[j]);
			free(out);
			return NULL;
		}
	}
	return out;
}

/* Checks the request as far as it can without touching the client's files
 * (bundle_read does that, off the loop). -1 with e. */
static int
validate(const Types__CreateContainerRequest *req, struct err *e)
{
	if (validate_id("container id", req->id, e) < 0 ||
	    validate_path("bundle path", req->bundlepath, 0, e) < 0 ||
	    validate_path("stdin path", req->stdin, 1, e) < 0 ||
	    validate_path("stdout path", req->stdout, 1, e) < 0 ||
	    validate_path("stderr path", req->stderr, 1, e) < 0 ||
	    validate_path("checkpoint dir", req->checkpointdir, 1, e) < 0)
		return -1;
	if (req->checkpoint[0] != '\0' && validate_id("checkpoint name", req->checkpoint, e) < 0)
		return -1;
	if (validate_labels(req->labels, req->n_labels, e) < 0)
		return -1;
	if (container_find(req->id) != NULL)
		return err_set(e, GRPC_ALREADY_EXISTS,
		    MSG_CONTAINER_EXISTS ": %s", req->id);
	return 0;
}

/* config.json's process and linux.cgroupsPath (*cg_path, the caller's). */
static int
from_config(const Types__CreateContainerRequest *req, json_t *cfg, json_t **process,
    char **cg_path, struct err *e)
{
	const char *cgp;

	*process = json_incref(json_object_get(cfg, "process"));
	if (!json_is_object(*process)) {
		json_decref(*process);
		*process = NULL;
		return err_set(e, GRPC_INVALID_ARGUMENT,
		    "bundle %s: config.json has no \"process\" object", req->bundlepath);
	}
	cgp = json_string_value(json_object_get(json_object_get(cfg, "linux"), "cgroupsPath"));
	if ((*cg_path = strdup(cgp != NULL ? cgp : "")) == NULL) {
		json_decref(*process);
		*process = NULL;
		return err_set(e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
	}
	return 0;
}

/* Rows for the new container, in the current transaction. */
static int
record(struct container *c, const Types__CreateContainerRequest *req, json_t *process,
    int64_t now, struct err *e)
{
	char *rargs = procinfo_strv_json(c->runtime_args, (size_t)c->n_runtime_args);
	char *args = json_dumps(json_object_get(process, "args"), JSON_COMPACT);
	char *env = json_dumps(json_object_get(process, "env"), JSON_COMPACT);
	char *spec = json_dumps(process, JSON_COMPACT);
	json_t *user = json_object_get(process, "user");
	struct store_container sc = {
		.id = c->id,
		.bundle = c->bundle,
		.runtime = c->runtime,
		.runtime_args = rargs,
		.status = "creating",
		.created_at = now,
		.updated_at = now,
		.stdin_path = req->stdin,
		.stdout_path = req->stdout,
		.stderr_path = req->stderr,
		.no_pivot_root = req->nopivotroot,
		.checkpoint = req->checkpoint,
		.checkpoint_dir = req->checkpointdir,
	};
	struct store_process sp = {
		.container_id = c->id,
		.pid = "init",
		.args = args,
		.env = env,
		.cwd = json_string_value(json_object_get(process, "cwd")),
		.uid = json_integer_value(json_object_get(user, "uid")),
		.gid = json_integer_value(json_object_get(user, "gid")),
		.terminal = json_is_true(json_object_get(process, "terminal")),
		.stdin_path = req->stdin,
		.stdout_path = req->stdout,
		.stderr_path = req->stderr,
		.spec = spec,
		.status = "creating",
	};
	int rc = 0;

	/* A stopped container's rows give way to a new one with its id; the
	 * events keep its history. */
	if (store_container_remove(D.store, c->id, e) < 0 ||
	    store_container_insert(D.store, &sc, e) < 0 ||
	    store_process_insert(D.store, &sp, e) < 0)
		rc = -1;
	for (int i = 0; rc == 0 && i < c->n_labels; i++)
		rc = store_label_add(D.store, c->id, c->labels[i], e);
	free(rargs);
	free(args);
	free(env);
	free(spec);
	return rc;
}

/* The checkpoint image a restore reads: DIR/NAME, or <bundle>/checkpoints/NAME
 * (rpc_checkpoint.c); the shim reads the options from its config.json. */
static void
restore_path(const Types__CreateContainerRequest *req, char *buf, size_t n)
{
	checkpoint_path(buf, n, req->checkpointdir, req->bundlepath, req->checkpoint);
}

/* The client's files are read (cfg: config.json): the create proper. */
static void
create_continue(uint64_t call_id, const Types__CreateContainerRequest *req, json_t *cfg,
    int64_t started)
{
	struct op_create *op = NULL;
	struct container *c = NULL;
	json_t *process = NULL;
	char *cg_path = NULL;
	struct err e = { 0 };
	int64_t now = now_ns();
	bool rt_ok = false;
	char dir[PATH_MAX_LEN + 256];
	struct shim_spec spec = {
		.stdin_path = req->stdin,
		.stdout_path = req->stdout,
		.stderr_path = req->stderr,
		.no_pivot = req->nopivotroot,
	};

	/* Another create of this id may have begun while the files were read. */
	if (container_find(req->id) != NULL) {
		err_set(&e, GRPC_ALREADY_EXISTS,
		    MSG_CONTAINER_EXISTS ": %s", req->id);
		goto fail;
	}
	if (from_config(req, cfg, &process, &cg_path, &e) < 0)
		goto fail;
	/* The store cannot commit (locked, disk full, file gone; tried again
	 * now): refused at once, nothing written (recorded_cb catches a stall
	 * that comes later). */
	if (store_stalled(D.store) && store_retry(D.store, NULL) < 0) {
		err_set(&e, store_commit_error(D.store)->code,
		    "container %s not created: the database cannot record it now: %s", req->id,
		    store_commit_error(D.store)->msg);
		goto fail;
	}
	if ((op = calloc(1, sizeof(*op))) == NULL || (c = container_new(req->id)) == NULL) {
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		goto fail;
	}
	c->bundle = strdup(req->bundlepath);
	if (req->n_runtimeargs > 0)
		rt_ok = container_set_runtime(c, req->runtime, req->runtimeargs,
		    (int)req->n_runtimeargs) == 0;
	else
		rt_ok = container_set_runtime(c, req->runtime, D.cfg.runtime_args,
		    D.cfg.n_runtime_args) == 0;
	c->labels = strv_dup(req->labels, req->n_labels);
	c->n_labels = (int)req->n_labels;
	c->created_at = now;
	c->status = CONTAINER_CREATING;
	if (c->bundle == NULL || !rt_ok ||
	    c->labels == NULL || (op->init = process_new(c, "init")) == NULL) {
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		goto fail;
	}
	process_set_info(op->init, process, req->stdin, req->stdout, req->stderr);
	spec.terminal = op->init->info && op->init->info->terminal;
	if (req->checkpoint[0] != '\0') {
		restore_path(req, dir, sizeof(dir));
		spec.checkpoint_dir = dir; /* bundle_read found it readable */
	}
	/* Only a directory made here is removed by the undo: one already
	 * there is not this create's to clean up. */
	if (layout_container_mkdir(c->id, &e) < 0)
		goto fail;
	/* A stopped container of this id gives way (record): its logs too, so
	 * the new one never shows the old one's output. */
	logs_forget(c->id);
	if (record(c, req, process, now, &e) < 0)
		goto fail_dir;
	op->call_id = call_id;
	op->c = c;
	op->started = started;
	op->state = CR_RECORD;
	op->cg_path = cg_path;
	cg_path = NULL;
	op->restore = spec.checkpoint_dir != NULL;
	op_register(&op->op, "create", op);
	c->op_id = op->init->op_id = op->op.id;
	ev_timer_init(&op->timeout, timeout_cb, (double)D.cfg.start_timeout_ns / 1e9, 0);
	op->timeout.data = op;
	if (D.cfg.start_timeout_ns > 0)
		ev_timer_start(D.loop, &op->timeout);
	json_decref(process);
	log_debug("op %llu create ctr=%s bundle=%s", (unsigned long long)op->op.id, c->id,
	    c->bundle);
	/* The request is freed on return: the spawn, later, needs copies. */
	op->spec = spec;
	op->spec.stdin_path = op->spec_strs[0] = strdup(req->stdin);
	op->spec.stdout_path = op->spec_strs[1] = strdup(req->stdout);
	op->spec.stderr_path = op->spec_strs[2] = strdup(req->stderr);
	if (spec.checkpoint_dir != NULL)
		op->spec.checkpoint_dir = op->spec_strs[3] = strdup(spec.checkpoint_dir);
	if (op->spec_strs[0] == NULL || op->spec_strs[1] == NULL || op->spec_strs[2] == NULL ||
	    (spec.checkpoint_dir != NULL && op->spec_strs[3] == NULL)) {
		err_set(&op->err, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		enter_state(op, CR_UNDO);
		advance(op);
		return;
	}
	ev_timer_init(&op->recorded_w, recorded_cb, 0., 0.);
	op->recorded_w.data = op;
	ev_timer_start(D.loop, &op->recorded_w);
	return;
fail_dir:
	store_container_remove(D.store, c->id, NULL);
	container_remove_dir(c->id);
fail:
	json_decref(process);
	free(cg_path);
	if (c != NULL)
		container_free(c);
	free(op);
	log_info("CreateContainer %s refused: %s", req->id, e.msg);
	server_reply_error(call_id, &e);
}

static void
create_read_done(struct bundle_read *r, const struct err *e, json_t *cfg)
{
	Types__CreateContainerRequest *req;
	struct err e2 = { 0 };

	req = types__create_container_request__unpack(NULL, r->req_len, r->req);
	if (e->code == GRPC_NOT_FOUND && req != NULL && r->checkpoint_dir != NULL) {
		err_set(&e2, GRPC_NOT_FOUND, "checkpoint %s of container %s not found at %s",
		    req->checkpoint, req->id, r->checkpoint_dir);
		e = &e2;
	}
	if (e->code != GRPC_OK || req == NULL) {
		if (e->code == GRPC_OK)
			err_set(&e2, GRPC_INTERNAL, "the request could not be read back");
		log_info("CreateContainer %s refused: %s", req ? req->id : "?",
		    e->code != GRPC_OK ? e->msg : e2.msg);
		server_reply_error(r->call_id, e->code != GRPC_OK ? e : &e2);
	} else
		create_continue(r->call_id, req, cfg, r->started);
	if (req != NULL)
		types__create_container_request__free_unpacked(req, NULL);
}

/* Checks what it can at once, then reads the client's files off the loop;
 * create_read_done goes on. */
void
op_create_start(uint64_t call_id, const Types__CreateContainerRequest *req)
{
	char dir[PATH_MAX_LEN + 256];
	struct bundle_read *r = NULL;
	struct err e = { 0 };

	if (validate(req, &e) < 0)
		goto refuse;
	if (req->checkpoint[0] != '\0')
		restore_path(req, dir, sizeof(dir));
	r = bundle_read_new(req->bundlepath, req->checkpoint[0] != '\0' ? dir : NULL);
	if (r == NULL ||
	    (r->req = malloc(types__create_container_request__get_packed_size(req) + 1)) == NULL) {
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		goto refuse;
	}
	r->req_len = types__create_container_request__pack(req, r->req);
	r->call_id = call_id;
	r->started = now_ns();
	r->done = create_read_done;
	if (bundle_read_start(r, &e) < 0)
		goto refuse;
	return;
refuse:
	if (r != NULL)
		bundle_read_discard(r);
	log_info("CreateContainer %s refused: %s", req->id, e.msg);
	server_reply_error(call_id, &e);
}
