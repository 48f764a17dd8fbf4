/*
 * Checkpoints: CreateCheckpoint runs `runtime checkpoint` into
 * <checkpointDir or bundle>/checkpoints/<name> and records it with its
 * options; ListCheckpoint answers from the table; DeleteCheckpoint removes
 * the files and the row. Restoring is CreateContainer with `checkpoint`.
 */
#include <errno.h>
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

struct ckpt_ctx {
	uint64_t call_id;
	char *id;
	char *name;
	char *path;
	bool exit, tcp, unix_sockets, shell;
	char *empty_ns;		/* JSON array */
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
	free(k->empty_ns);
	free(k);
}

/* The last "Error" line of CRIU's dump log, if any. */
static void
criu_error(const char *path, char *out, size_t n)
{
	char file[PATH_MAX_LEN + 400], line[512];
	FILE *f;

	out[0] = '\0';
	snprintf(file, sizeof(file), "%s/criu.work/dump.log", path);
	if ((f = fopen(file, "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "Error") != NULL) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, n, "%s", line);
		}
	}
	fclose(f);
}

static void
create_done_cb(void *arg, int status, const char *out, const char *errmsg)
{
	struct ckpt_ctx *k = arg;
	Types__CreateCheckpointResponse resp = TYPES__CREATE_CHECKPOINT_RESPONSE__INIT;
	struct err e;

	if (status != 0) {
		char criu[512];

		/* The log runc points at goes with the directory: keep its gist. */
		criu_error(k->path, criu, sizeof(criu));
		rm_tree(k->path);
		err_set(&e, runtime_error_code(status),
		    "container %s: checkpoint %s failed: %s%s%s", k->id,
		    k->name, errmsg, criu[0] ? "; criu: " : "", criu);
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

/* mkdir -p, 0700 for what it makes. */
static int
mkdir_parents(const char *path)
{
	char buf[PATH_MAX_LEN + 300];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* <dir or bundle>/checkpoints[/<name>] */
static void
checkpoint_path(char *buf, size_t n, const char *dir, const char *bundle, const char *name)
{
	snprintf(buf, n, "%s/checkpoints%s%s", dir && *dir ? dir : bundle, name ? "/" : "",
	    name ? name : "");
}

void
rpc_create_checkpoint(uint64_t call_id, const Types__CreateCheckpointRequest *req)
{
	const Types__Checkpoint *cp = req->checkpoint;
	struct process *init;
	struct ckpt_ctx *k;
	char path[PATH_MAX_LEN + 300], work[PATH_MAX_LEN + 320], parent[PATH_MAX_LEN + 300];
	const char *argv[32];
	int n = 0;
	struct err e;
	struct stat st;

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
	checkpoint_path(parent, sizeof(parent), req->checkpointdir, init->ctr->bundle, NULL);
	checkpoint_path(path, sizeof(path), req->checkpointdir, init->ctr->bundle, cp->name);
	if (stat(path, &st) == 0) {
		err_set(&e, GRPC_ALREADY_EXISTS, "checkpoint %s of container %s already exists (%s)",
		    cp->name, req->id, path);
		server_reply_error(call_id, &e);
		return;
	}
	if (mkdir_parents(parent) < 0 || mkdir(path, 0700) < 0) {
		err_set(&e, errno == ENOSPC ? GRPC_RESOURCE_EXHAUSTED : GRPC_INTERNAL,
		    "cannot create %s: %s", path, strerror(errno));
		server_reply_error(call_id, &e);
		return;
	}
	snprintf(work, sizeof(work), "%s/criu.work", path);
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		rmdir(path);
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		server_reply_error(call_id, &e);
		return;
	}
	k->call_id = call_id;
	k->id = strdup(req->id);
	k->name = strdup(cp->name);
	k->path = strdup(path);
	k->exit = cp->exit;
	k->tcp = cp->tcp;
	k->unix_sockets = cp->unixsockets;
	k->shell = cp->shell;
	k->empty_ns = procinfo_strv_json(cp->emptyns, cp->n_emptyns);
	argv[n++] = "checkpoint";
	argv[n++] = "--image-path";
	argv[n++] = path;
	argv[n++] = "--work-path";
	argv[n++] = work;
	if (!cp->exit)
		argv[n++] = "--leave-running";
	if (cp->tcp)
		argv[n++] = "--tcp-established";
	if (cp->unixsockets)
		argv[n++] = "--ext-unix-sk";
	if (cp->shell)
		argv[n++] = "--shell-job";
	for (size_t i = 0; i < cp->n_emptyns && n < 28; i++) {
		argv[n++] = "--empty-ns";
		argv[n++] = cp->emptyns[i];
	}
	argv[n++] = req->id;
	argv[n] = NULL;
	if (runtime_run(init->ctr, argv, create_done_cb, k) < 0) {
		rm_tree(path);
		ctx_free(k);
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "cannot run the runtime");
		server_reply_error(call_id, &e);
	}
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
			err_set(&e, GRPC_NOT_FOUND, "no such container: %s", id);
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
	Types__DeleteCheckpointResponse resp = TYPES__DELETE_CHECKPOINT_RESPONSE__INIT;
	struct find_ctx f = { .name = req->name };
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
	if (store_checkpoint_remove(D.store, req->id, req->name, &e) < 0) {
		server_reply_error(call_id, &e);
		return;
	}
	rm_tree(f.path);
	event_record("delete-checkpoint", req->id, req->name, 0, now_ns(), &e);
	server_reply(call_id, &resp.base);
}
