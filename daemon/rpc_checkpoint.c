/*
 * Checkpoints: CreateCheckpoint runs `runtime checkpoint` into
 * <checkpointDir or bundle>/checkpoints/<name> and records it with its
 * options; ListCheckpoint answers from the table; DeleteCheckpoint removes
 * the files and the row. Restoring is CreateContainer with `checkpoint`.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "procinfo.h"

/*
 * The image directory is the client's path: making it, reading CRIU's log
 * from it and removing it run off the loop (offload.c), so a filesystem
 * that stops answering cannot stop the daemon. Each step is a job of the
 * same context: PREPARE (mkdir) -> the runtime's checkpoint -> on failure
 * CLEAN (the log's gist, rm -r). A delete is one job: REMOVE, then the row.
 */
enum ckpt_step { CK_PREPARE, CK_CLEAN, CK_REMOVE };

struct ckpt_ctx {
	struct offload job;	/* first: the context is the job */
	enum ckpt_step step;
	bool in_runtime;	/* the runtime's call holds it: release leaves it */
	uint64_t call_id;
	char *id;
	char *name;
	char *path;
	char *what;		/* for offload's messages */
	bool exit, tcp, unix_sockets, shell;
	char *empty_ns;		/* JSON array */
	char **empty_ns_v;	/* the same, for argv */
	size_t n_empty_ns;
	int runtime_code;	/* CLEAN: the runtime's failure, as a gRPC code */
	char runtime_err[1024];	/* CLEAN: the runtime's message */
	char criu[512];		/* CLEAN: the last "Error" line of CRIU's log */
};

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void
rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
ctx_free(struct ckpt_ctx *k)
{
	free(k->id);
	free(k->name);
	free(k->path);
	free(k->what);
	free(k->empty_ns);
	for (size_t i = 0; i < k->n_empty_ns; i++)
		free(k->empty_ns_v[i]);
	free(k->empty_ns_v);
	free(k);
}

/* The last "Error" line of CRIU's dump log, if any. */
static void
criu_error(const char *path, char *out, size_t n)
{
	char file[PATH_MAX_LEN + 400], line[512];
	FILE *f;
	int fd;

	out[0] = '\0';
	snprintf(file, sizeof(file), "%s/criu.work/dump.log", path);
	/* Non-blocking and regular only: a FIFO planted there must not hang. */
	if ((fd = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;
	{
		struct stat st;

		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (f = fdopen(fd, "r")) == NULL) {
			close(fd);
			return;
		}
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "Error") != NULL) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, n, "%s", line);
		}
	}
	fclose(f);
}

/* mkdir -p, 0700 for what it makes. */
static int
mkdir_parents(const char *path)
{
	char buf[PATH_MAX_LEN + 300];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* In the job's thread: only k's own strings and the filesystem. */
static void
ckpt_work(struct offload *o)
{
	struct ckpt_ctx *k = (struct ckpt_ctx *)o;
	struct stat st;
	char *slash;

	switch (k->step) {
	case CK_PREPARE:
		if (stat(k->path, &st) == 0) {
			err_set(&o->err, GRPC_ALREADY_EXISTS, "checkpoint %s of container %s already"
			    " exists (%s)", k->name, k->id, k->path);
			break;
		}
		slash = strrchr(k->path, '/');
		*slash = '\0';
		if (mkdir_parents(k->path) < 0) {
			*slash = '/';
			goto mkdir_failed;
		}
		*slash = '/';
		if (mkdir(k->path, 0700) < 0)
			goto mkdir_failed;
		break;
	mkdir_failed:
		err_set(&o->err, errno == ENOSPC ? GRPC_RESOURCE_EXHAUSTED : GRPC_INTERNAL,
		    "cannot create %s: %s", k->path, strerror(errno));
		break;
	case CK_CLEAN:
		/* The log runc points at goes with the directory: keep its gist. */
		criu_error(k->path, k->criu, sizeof(k->criu));
		rm_tree(k->path);
		break;
	case CK_REMOVE:
		rm_tree(k->path);
		break;
	}
}

static void ckpt_done(struct offload *o, const struct err *e);

static void
ckpt_release(struct offload *o)
{
	struct ckpt_ctx *k = (struct ckpt_ctx *)o;

	if (!k->in_runtime)
		ctx_free(k);
}

/* Runs the next step of k off the loop; -1 with e if it cannot start. */
static int
ckpt_step(struct ckpt_ctx *k, enum ckpt_step step, struct err *e)
{
	k->step = step;
	memset(&k->job.err, 0, sizeof(k->job.err));
	k->job.work = ckpt_work;
	k->job.done = ckpt_done;
	k->job.release = ckpt_release;
	k->job.what = k->what;
	k->job.timeout = (double)D.cfg.runtime_timeout_ns / 1e9;
	return offload_start(&k->job, e);
}

static void
create_done_cb(void *arg, int status, const char *out, const char *errmsg)
{
	struct ckpt_ctx *k = arg;
	struct err e;

	k->in_runtime = false;
	if (status != 0) {
		snprintf(k->runtime_err, sizeof(k->runtime_err), "%s", errmsg);
		k->runtime_code = runtime_error_code(status);
		if (ckpt_step(k, CK_CLEAN, &e) == 0)
			return;
		err_set(&e, runtime_error_code(status), "container %s: checkpoint %s failed: %s"
		    " (its directory %s is left: %s)", k->id, k->name, errmsg, k->path, e.msg);
		log_warnx("%s", e.msg);
		server_reply_error(k->call_id, &e);
	} else {
		int64_t now = now_ns();
		struct store_checkpoint c = {
			.container_id = k->id,
			.name = k->name,
			.path = k->path,
			.created_at = now,
			.exit = k->exit,
			.tcp = k->tcp,
			.unix_sockets = k->unix_sockets,
			.shell = k->shell,
			.empty_ns = k->empty_ns,
		};
		Types__CreateCheckpointResponse resp = TYPES__CREATE_CHECKPOINT_RESPONSE__INIT;

		if (store_checkpoint_insert(D.store, &c, &e) < 0) {
			server_reply_error(k->call_id, &e);
		} else {
			event_record("create-checkpoint", k->id, k->name, 0, now, &e);
			log_info("container %s: checkpoint %s written to %s", k->id, k->name, k->path);
			server_reply(k->call_id, &resp.base);
		}
	}
	ctx_free(k);
}

/* The image directory is made: run the runtime's checkpoint into it. */
static void
run_checkpoint(struct ckpt_ctx *k)
{
	char work[PATH_MAX_LEN + 320];
	const char *argv[32];
	struct process *init;
	struct err e;
	int n = 0;

	/* The container may have gone while the directory was made. */
	if ((init = rpc_lookup_process(k->call_id, k->id, "init")) == NULL) {
		if (ckpt_step(k, CK_REMOVE, &e) < 0)
			log_warnx("container %s: checkpoint directory %s is left: %s", k->id, k->path,
			    e.msg);
		k->call_id = 0; /* answered */
		return;
	}
	snprintf(work, sizeof(work), "%s/criu.work", k->path);
	argv[n++] = "checkpoint";
	argv[n++] = "--image-path";
	argv[n++] = k->path;
	argv[n++] = "--work-path";
	argv[n++] = work;
	if (!k->exit)
		argv[n++] = "--leave-running";
	if (k->tcp)
		argv[n++] = "--tcp-established";
	if (k->unix_sockets)
		argv[n++] = "--ext-unix-sk";
	if (k->shell)
		argv[n++] = "--shell-job";
	for (size_t i = 0; i < k->n_empty_ns && n < 28; i++) {
		argv[n++] = "--empty-ns";
		argv[n++] = k->empty_ns_v[i];
	}
	argv[n++] = k->id;
	argv[n] = NULL;
	k->in_runtime = true;
	if (runtime_run(init->ctr, argv, create_done_cb, k) < 0) {
		k->in_runtime = false;
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "cannot run the runtime");
		server_reply_error(k->call_id, &e);
		k->call_id = 0;
		if (ckpt_step(k, CK_REMOVE, &e) < 0)
			log_warnx("container %s: checkpoint directory %s is left: %s", k->id, k->path,
			    e.msg);
	}
}

static void
ckpt_done(struct offload *o, const struct err *e)
{
	struct ckpt_ctx *k = (struct ckpt_ctx *)o;
	struct err re;

	switch (k->step) {
	case CK_PREPARE:
		if (e->code != GRPC_OK)
			server_reply_error(k->call_id, e);
		else
			run_checkpoint(k);
		break;
	case CK_CLEAN:
		err_set(&re, k->runtime_code, "container %s: checkpoint %s failed: %s%s%s", k->id, k->name, k->runtime_err,
		    k->criu[0] ? "; criu: " : "", k->criu);
		log_warnx("%s", re.msg);
		server_reply_error(k->call_id, &re);
		break;
	case CK_REMOVE:
		if (k->call_id == 0) /* the leftover of a create that did not run */
			break;
		if (e->code != GRPC_OK) {
			server_reply_error(k->call_id, e);
			break;
		}
		/* The files are gone: now the row and the event. */
		if (store_checkpoint_remove(D.store, k->id, k->name, &re) < 0) {
			server_reply_error(k->call_id, &re);
		} else {
			Types__DeleteCheckpointResponse resp = TYPES__DELETE_CHECKPOINT_RESPONSE__INIT;

			event_record("delete-checkpoint", k->id, k->name, 0, now_ns(), &re);
			server_reply(k->call_id, &resp.base);
		}
		break;
	}
}

/* <dir or bundle>/checkpoints[/<name>] */
static void
checkpoint_path(char *buf, size_t n, const char *dir, const char *bundle, const char *name)
{
	snprintf(buf, n, "%s/checkpoints%s%s", dir && *dir ? dir : bundle, name ? "/" : "",
	    name ? name : "");
}

static struct ckpt_ctx *
ctx_new(uint64_t call_id, const char *id, const char *name, const char *path)
{
	struct ckpt_ctx *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	k->call_id = call_id;
	k->id = strdup(id);
	k->name = strdup(name);
	k->path = strdup(path);
	if (k->id == NULL || k->name == NULL || k->path == NULL ||
	    asprintf(&k->what, "checkpoint directory %s", path) < 0) {
		k->what = NULL;
		ctx_free(k);
		return NULL;
	}
	return k;
}

void
rpc_create_checkpoint(uint64_t call_id, const Types__CreateCheckpointRequest *req)
{
	const Types__Checkpoint *cp = req->checkpoint;
	struct process *init;
	struct ckpt_ctx *k;
	char path[PATH_MAX_LEN + 300];
	struct err e;

	if (cp == NULL) {
		err_set(&e, GRPC_INVALID_ARGUMENT, "checkpoint is missing: give at least its name");
		server_reply_error(call_id, &e);
		return;
	}
	if (validate_id("checkpoint name", cp->name, &e) < 0 ||
	    validate_path("checkpoint dir", req->checkpointdir, 1, &e) < 0) {
		server_reply_error(call_id, &e);
		return;
	}
	if ((init = rpc_lookup_process(call_id, req->id, "init")) == NULL)
		return;
	checkpoint_path(path, sizeof(path), req->checkpointdir, init->ctr->bundle, cp->name);
	if ((k = ctx_new(call_id, req->id, cp->name, path)) == NULL)
		goto oom;
	k->exit = cp->exit;
	k->tcp = cp->tcp;
	k->unix_sockets = cp->unixsockets;
	k->shell = cp->shell;
	k->empty_ns = procinfo_strv_json(cp->emptyns, cp->n_emptyns);
	if (cp->n_emptyns > 0 &&
	    (k->empty_ns_v = calloc(cp->n_emptyns, sizeof(char *))) == NULL) {
		ctx_free(k);
		goto oom;
	}
	for (size_t i = 0; i < cp->n_emptyns; i++) {
		if ((k->empty_ns_v[i] = strdup(cp->emptyns[i])) == NULL) {
			ctx_free(k);
			goto oom;
		}
		k->n_empty_ns++;
	}
	if (ckpt_step(k, CK_PREPARE, &e) < 0) {
		ctx_free(k);
		server_reply_error(call_id, &e);
	}
	return;
oom:
	err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
	server_reply_error(call_id, &e);
}

/* The container must be known to the database, running or not. */
static int
known(uint64_t call_id, const char *id)
{
	struct err e;
	int k;

	if (validate_id("container id", id, &e) < 0) {
		server_reply_error(call_id, &e);
		return 0;
	}
	if ((k = store_container_known(D.store, id, &e)) <= 0) {
		if (k == 0)
			err_set(&e, GRPC_NOT_FOUND,
			    MSG_CONTAINER_NOT_FOUND ": no such container: %s", id);
		server_reply_error(call_id, &e);
		return 0;
	}
	return 1;
}

struct list_ctx {
	const char *prefix;	/* only under this dir, or NULL */
	Types__Checkpoint **items;
	size_t n, cap;
};

static int
list_one(void *arg, const struct store_checkpoint *c)
{
	struct list_ctx *l = arg;
	Types__Checkpoint *cp;
	json_t *ns;

	if (l->prefix != NULL && strncmp(c->path, l->prefix, strlen(l->prefix)) != 0)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		Types__Checkpoint **nv = realloc(l->items, cap * sizeof(*nv));

		if (nv == NULL)
			return 0;
		l->items = nv;
		l->cap = cap;
	}
	if ((cp = malloc(sizeof(*cp))) == NULL)
		return 0;
	types__checkpoint__init(cp);
	cp->name = strdup(c->name);
	cp->exit = c->exit;
	cp->tcp = c->tcp;
	cp->unixsockets = c->unix_sockets;
	cp->shell = c->shell;
	ns = json_loads(c->empty_ns, 0, NULL);
	if (json_array_size(ns) > 0 && (cp->emptyns = calloc(json_array_size(ns),
	    sizeof(char *))) != NULL) {
		for (size_t i = 0; i < json_array_size(ns); i++) {
			const char *s = json_string_value(json_array_get(ns, i));

			if (s != NULL)
				cp->emptyns[cp->n_emptyns++] = strdup(s);
		}
	}
	json_decref(ns);
	l->items[l->n++] = cp;
	return 0;
}

void
rpc_list_checkpoint(uint64_t call_id, const Types__ListCheckpointRequest *req)
{
	Types__ListCheckpointResponse resp = TYPES__LIST_CHECKPOINT_RESPONSE__INIT;
	char prefix[PATH_MAX_LEN + 300];
	struct list_ctx l = { 0 };
	struct err e;

	if (validate_path("checkpoint dir", req->checkpointdir, 1, &e) < 0) {
		server_reply_error(call_id, &e);
		return;
	}
	if (!known(call_id, req->id))
		return;
	if (req->checkpointdir[0] != '\0') {
		snprintf(prefix, sizeof(prefix), "%s/checkpoints/", req->checkpointdir);
		l.prefix = prefix;
	}
	if (store_checkpoints_foreach(D.store, req->id, list_one, &l, &e) < 0) {
		server_reply_error(call_id, &e);
	} else {
		resp.checkpoints = l.items;
		resp.n_checkpoints = l.n;
		server_reply(call_id, &resp.base);
	}
	for (size_t i = 0; i < l.n; i++)
		types__checkpoint__free_unpacked(l.items[i], NULL);
	free(l.items);
}

struct find_ctx {
	const char *name;
	char path[PATH_MAX_LEN + 300];
	bool found;
};

static int
find_one(void *arg, const struct store_checkpoint *c)
{
	struct find_ctx *f = arg;

	if (strcmp(c->name, f->name) != 0)
		return 0;
	snprintf(f->path, sizeof(f->path), "%s", c->path);
	f->found = true;
	return 1;
}

void
rpc_delete_checkpoint(uint64_t call_id, const Types__DeleteCheckpointRequest *req)
{
	struct find_ctx f = { .name = req->name };
	struct ckpt_ctx *k;
	struct err e;

	if (validate_id("checkpoint name", req->name, &e) < 0 ||
	    validate_path("checkpoint dir", req->checkpointdir, 1, &e) < 0) {
		server_reply_error(call_id, &e);
		return;
	}
	if (!known(call_id, req->id))
		return;
	if (store_checkpoints_foreach(D.store, req->id, find_one, &f, &e) < 0) {
		server_reply_error(call_id, &e);
		return;
	}
	if (!f.found) {
		err_set(&e, GRPC_NOT_FOUND, "container %s has no checkpoint %s", req->id, req->name);
		server_reply_error(call_id, &e);
		return;
	}
	/* The files first, off the loop; the row and the event once they are
	 * gone (ckpt_done), so a checkpoint made again under the name finds
	 * its directory free. */
	if ((k = ctx_new(call_id, req->id, req->name, f.path)) == NULL) {
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		server_reply_error(call_id, &e);
		return;
	}
	if (ckpt_step(k, CK_REMOVE, &e) < 0) {
		ctx_free(k);
		server_reply_error(call_id, &e);
	}
}
