/*
 * Checkpoints, laid out as the 2017 daemon and Docker 17.x have them: a
 * checkpoint NAME of a container lives in DIR/NAME, DIR being the
 * request's checkpointDir or, without one, <bundle>/checkpoints. The
 * directory holds the runtime's (CRIU's) image and NAME/config.json, the
 * options it was taken with ({"created", "name", "tcp", "unixSockets",
 * "shell", "exit", "emptyNS"}), which Docker reads to list checkpoints and
 * a restore reads (the shim, shim_restore_load) to pass the same options
 * to `runtime restore`.
 *
 * The directory is the truth: ListCheckpoint (rpc_checkpoint_list.c)
 * lists DIR's subdirectories that have a config.json, so a checkpoint
 * copied in from another host is listed, with its options from its
 * config.json. The checkpoints table is this daemon's record of what it
 * made (one row per container and name: the last one made under that
 * name, its path and options), with the create-checkpoint and
 * delete-checkpoint events: a checkpoint of a previous version of this
 * daemon (no config.json) is still listed from its row.
 * DeleteCheckpoint removes DIR/NAME only if it is a checkpoint (it has a
 * config.json, or the table says this daemon made it there), never
 * following a symlink nor crossing into another filesystem.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "procinfo.h"

/* emptyNS: namespace names ("network"), as runc restore takes them; the
 * shim reads at most SHIM_MAX_EMPTY_NS (8) of up to 62 bytes back. */
#define EMPTY_NS_MAX 8
#define EMPTY_NS_LEN 32

void
checkpoint_path(char *buf, size_t n, const char *dir, const char *bundle, const char *name)
{
	if (dir != NULL && *dir != '\0')
		snprintf(buf, n, "%s%s%s", dir, name ? "/" : "", name ? name : "");
	else
		snprintf(buf, n, "%s/checkpoints%s%s", bundle, name ? "/" : "", name ? name : "");
}

/*
 * The image directory is the client's path: making it, writing its
 * config.json, reading CRIU's log from it, listing and removing run off
 * the loop (offload.c), so a filesystem that stops answering cannot stop
 * the daemon. Each step is a job of the same context: PREPARE (mkdir,
 * config.json) -> the runtime's checkpoint -> on failure CLEAN (the log's
 * gist, rm -r, the parents it made). A delete is one job: REMOVE, then
 * the row.
 */
enum ckpt_step { CK_PREPARE, CK_CLEAN, CK_REMOVE };

struct ckpt_ctx {
	struct offload job;	/* first: the context is the job */
	enum ckpt_step step;
	bool in_runtime;	/* the runtime's call holds it: release leaves it */
	uint64_t call_id;
	char *id;
	char *name;
	char *path;		/* DIR/NAME */
	char *what;		/* for offload's messages */
	char *config;		/* PREPARE: the config.json text */
	char *made_top;		/* PREPARE: the topmost parent it made, or NULL */
	int64_t created;
	bool exit, tcp, unix_sockets, shell;
	char *empty_ns;		/* JSON array */
	char **empty_ns_v;	/* the same, for argv */
	size_t n_empty_ns;
	bool ours;		/* REMOVE: the table's row has this path */
	bool row_exists;	/* REMOVE: the table has a row of this name */
	bool absent;		/* REMOVE: out: there was nothing at path */
	bool making;		/* create: on the making list until freed */
	struct ckpt_ctx *making_next;
	int runtime_code;	/* CLEAN: the runtime's failure, as a gRPC code */
	char runtime_err[1024];	/* CLEAN: the runtime's message */
	char criu[512];		/* CLEAN: the last "Error" lines of CRIU's log */
};

/* rm -r of one tree, on its filesystem only, symlinks not followed: the
 * first failure is kept (per thread: jobs run in parallel). */
static _Thread_local int rm_errno;

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	if (remove(path) < 0 && rm_errno == 0)
		rm_errno = errno;
	return 0;
}

/* 0 once path is gone, else -1 with errno. */
static int
rm_tree(const char *path)
{
	struct stat st;

	rm_errno = 0;
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	if (lstat(path, &st) == 0) {
		errno = rm_errno ? rm_errno : EBUSY;
		return -1;
	}
	return 0;
}

/* The checkpoints being made, from the request until the context is
 * freed (answered and its files settled): a delete or a second create of
 * the same directory meanwhile is refused rather than racing it. */
static struct ckpt_ctx *making;

static struct ckpt_ctx *
making_find(const char *path)
{
	for (struct ckpt_ctx *k = making; k != NULL; k = k->making_next)
		if (strcmp(k->path, path) == 0)
			return k;
	return NULL;
}

static void
ctx_free(struct ckpt_ctx *k)
{
	if (k->making) {
		struct ckpt_ctx **pp = &making;

		while (*pp != k)
			pp = &(*pp)->making_next;
		*pp = k->making_next;
	}
	free(k->id);
	free(k->name);
	free(k->path);
	free(k->what);
	free(k->config);
	free(k->made_top);
	free(k->empty_ns);
	for (size_t i = 0; i < k->n_empty_ns; i++)
		free(k->empty_ns_v[i]);
	free(k->empty_ns_v);
	free(k);
}

/* The last "Error" lines of CRIU's dump log, if any (errtext.c reads it:
 * regular files only, the last 16 KiB). */
static void
criu_error(const char *path, char *out, size_t n)
{
	char file[PATH_MAX_LEN + 400];

	snprintf(file, sizeof(file), "%s/criu.work/dump.log", path);
	(void)errtext_log_tail(file, "Error", out, n);
}

/* mkdir -p, 0700 for what it makes; *made: the topmost it made (or NULL),
 * so that a failure removes only those. */
static int
mkdir_parents(const char *path, char **made)
{
	char buf[PATH_MAX_LEN + 300];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1;; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0) {
			if (errno != EEXIST)
				return -1;
		} else if (*made == NULL && (*made = strdup(buf)) == NULL) {
			return -1;
		}
		if (last)
			return 0;
		*p = '/';
	}
}

/* rmdir of the empty parents k made, deepest first, up to made_top. */
static void
rmdir_made(struct ckpt_ctx *k)
{
	char buf[PATH_MAX_LEN + 300];
	char *slash;

	if (k->made_top == NULL)
		return;
	snprintf(buf, sizeof(buf), "%s", k->path);
	while ((slash = strrchr(buf, '/')) != NULL && slash != buf) {
		*slash = '\0';
		if (strlen(buf) < strlen(k->made_top) || rmdir(buf) < 0)
			break;
	}
}

int
checkpoint_errno_code(int err)
{
	switch (err) {
	case ENOSPC:
	case EDQUOT:
		return GRPC_RESOURCE_EXHAUSTED;
	case EACCES:
	case EPERM:
	case EROFS:
		return GRPC_PERMISSION_DENIED;
	case ENOTDIR:
	case EEXIST:
		return GRPC_FAILED_PRECONDITION;
	default:
		return GRPC_INTERNAL;
	}
}

/* PREPARE: DIR/NAME made, config.json in it; on failure nothing left. */
static void
prepare(struct ckpt_ctx *k, struct err *e)
{
	char *slash = strrchr(k->path, '/');
	struct stat st;
	size_t len = strlen(k->config);
	int dfd = -1, fd = -1, err;

	if (lstat(k->path, &st) == 0) {
		err_set(e, GRPC_ALREADY_EXISTS, "checkpoint %s of container %s already exists (%s)",
		    k->name, k->id, k->path);
		return;
	}
	*slash = '\0';
	err = mkdir_parents(k->path, &k->made_top) < 0 ? errno : 0;
	*slash = '/';
	if (err != 0 || mkdir(k->path, 0700) < 0) {
		err = err ? err : errno;
		err_set(e, checkpoint_errno_code(err), "cannot create %s: %s", k->path, strerror(err));
		rmdir_made(k);
		return;
	}
	errno = 0;
	if ((dfd = open(k->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (fd = openat(dfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0644)) < 0 || write(fd, k->config, len) != (ssize_t)len || fsync(fd) < 0) {
		err = errno ? errno : EIO;
		err_set(e, checkpoint_errno_code(err), "cannot write %s/config.json: %s", k->path,
		    strerror(err));
	}
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (e->code != GRPC_OK) {
		rm_tree(k->path);
		rmdir_made(k);
	}
}

/* REMOVE: DIR/NAME if it is a checkpoint. */
static void
remove_checkpoint(struct ckpt_ctx *k, struct err *e)
{
	struct stat st;
	char cfg[PATH_MAX_LEN + 320];

	if (lstat(k->path, &st) < 0) {
		if (errno == ENOENT)
			k->absent = true;
		else
			err_set(e, checkpoint_errno_code(errno), "checkpoint %s: %s", k->path, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		err_set(e, GRPC_FAILED_PRECONDITION, "%s is not a checkpoint directory (%s):"
		    " not removed", k->path, S_ISLNK(st.st_mode) ? "a symlink" : "not a directory");
		return;
	}
	snprintf(cfg, sizeof(cfg), "%s/config.json", k->path);
	if (!k->ours && (lstat(cfg, &st) < 0 || !S_ISREG(st.st_mode))) {
		err_set(e, GRPC_FAILED_PRECONDITION, "%s is not a checkpoint: it has no"
		    " config.json and this daemon did not make it there; not removed", k->path);
		return;
	}
	if (rm_tree(k->path) < 0)
		err_set(e, checkpoint_errno_code(errno), "cannot remove checkpoint %s entirely: %s", k->path,
		    strerror(errno));
	rmdir_made(k);	/* a create's own parents, if it made some */
}

/* In the job's thread: only k's own strings and the filesystem. */
static void
ckpt_work(struct offload *o)
{
	struct ckpt_ctx *k = (struct ckpt_ctx *)o;

	switch (k->step) {
	case CK_PREPARE:
		prepare(k, &o->err);
		break;
	case CK_CLEAN:
		/* The log runc points at goes with the directory: its last
		 * errors replace its path in the message (errtext.c), or, when
		 * the message names none, the last "Error" line is added. */
		{
			char quoted[sizeof(k->runtime_err)];

			if (errtext_criu_log(k->runtime_err, k->path, quoted, sizeof(quoted)) == 0)
				snprintf(k->runtime_err, sizeof(k->runtime_err), "%s", quoted);
			else
				criu_error(k->path, k->criu, sizeof(k->criu));
		}
		rm_tree(k->path);
		rmdir_made(k);
		break;
	case CK_REMOVE:
		remove_checkpoint(k, &o->err);
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
		struct store_checkpoint c = {
			.container_id = k->id,
			.name = k->name,
			.path = k->path,
			.created_at = k->created,
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
			event_record("create-checkpoint", k->id, k->name, 0, now_ns(), &e);
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
	const char *argv[16 + 2 * EMPTY_NS_MAX];
	struct process *init;
	struct err e;
	int n = 0;

	/* The container may have gone while the directory was made. */
	if ((init = rpc_lookup_process(k->call_id, k->id, "init")) == NULL) {
		k->ours = true;
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
	for (size_t i = 0; i < k->n_empty_ns; i++) {
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
		k->ours = true;
		if (ckpt_step(k, CK_REMOVE, &e) < 0)
			log_warnx("container %s: checkpoint directory %s is left: %s", k->id, k->path,
			    e.msg);
	}
}

static void
delete_done(struct ckpt_ctx *k, const struct err *e)
{
	Types__DeleteCheckpointResponse resp = TYPES__DELETE_CHECKPOINT_RESPONSE__INIT;
	struct err re;

	if (e->code != GRPC_OK) {
		log_warnx("container %s: checkpoint %s not deleted: %s", k->id, k->name, e->msg);
		server_reply_error(k->call_id, e);
		return;
	}
	if (k->absent && !k->ours) {
		err_set(&re, GRPC_NOT_FOUND, "container %s has no checkpoint %s (no %s)", k->id,
		    k->name, k->path);
		server_reply_error(k->call_id, &re);
		return;
	}
	/* The files are gone: now the row (if it is this one) and the event,
	 * unless the row is of a checkpoint of that name elsewhere (the event
	 * would take it away in a replay). */
	if (k->ours && store_checkpoint_remove(D.store, k->id, k->name, k->path, &re) < 0) {
		server_reply_error(k->call_id, &re);
		return;
	}
	if (k->ours || !k->row_exists)
		event_record("delete-checkpoint", k->id, k->name, 0, now_ns(), &re);
	log_info("container %s: checkpoint %s deleted (%s)", k->id, k->name, k->path);
	server_reply(k->call_id, &resp.base);
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
		delete_done(k, e);
		break;
	}
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

/* Namespace names for --empty-ns: lower-case words ("network"). */
static int
validate_empty_ns(char **ns, size_t n, struct err *e)
{
	if (n > EMPTY_NS_MAX) {
		err_set(e, GRPC_INVALID_ARGUMENT, "emptyNS: %zu namespaces, at most %d", n,
		    EMPTY_NS_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(ns[i]);

		if (len == 0 || len > EMPTY_NS_LEN || strspn(ns[i], "abcdefghijklmnopqrstuvwxyz")
		    != len) {
			err_set(e, GRPC_INVALID_ARGUMENT, "emptyNS: \"%.*s\" is not a namespace name"
			    " (e.g. network)", EMPTY_NS_LEN + 8, ns[i]);
			return -1;
		}
	}
	return 0;
}

/* config.json as the 2017 daemon wrote it (runtime.Checkpoint's JSON):
 * created (RFC 3339, nanoseconds), name, tcp, unixSockets, shell, exit,
 * emptyNS (left out when empty). */
static char *
config_text(const struct ckpt_ctx *k)
{
	char created[64], frac[16];
	time_t secs = (time_t)(k->created / 1000000000);
	long ns = (long)(k->created % 1000000000);
	struct tm tm;
	json_t *o, *ns_arr;
	char *text;
	size_t end;

	gmtime_r(&secs, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%S", &tm);
	/* Go's RFC3339Nano: the fraction without trailing zeros, none if 0. */
	if (ns != 0) {
		snprintf(frac, sizeof(frac), ".%09ld", ns);
		for (end = strlen(frac); frac[end - 1] == '0'; end--)
			frac[end - 1] = '\0';
		strcat(created, frac);
	}
	strcat(created, "Z");
	o = json_pack("{s:s, s:s, s:b, s:b, s:b, s:b}", "created", created, "name", k->name,
	    "tcp", k->tcp, "unixSockets", k->unix_sockets, "shell", k->shell, "exit", k->exit);
	if (o == NULL)
		return NULL;
	if (k->n_empty_ns > 0) {
		ns_arr = json_array();
		for (size_t i = 0; i < k->n_empty_ns; i++)
			json_array_append_new(ns_arr, json_string(k->empty_ns_v[i]));
		json_object_set_new(o, "emptyNS", ns_arr);
	}
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (text != NULL) {
		/* Go's json.Encoder ends the document with a newline. */
		char *nl = realloc(text, strlen(text) + 2);

		if (nl == NULL) {
			free(text);
			return NULL;
		}
		strcat(nl, "\n");
		text = nl;
	}
	return text;
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
	    validate_path("checkpoint dir", req->checkpointdir, 1, &e) < 0 ||
	    validate_empty_ns(cp->emptyns, cp->n_emptyns, &e) < 0) {
		server_reply_error(call_id, &e);
		return;
	}
	if ((init = rpc_lookup_process(call_id, req->id, "init")) == NULL)
		return;
	checkpoint_path(path, sizeof(path), req->checkpointdir, init->ctr->bundle, cp->name);
	if ((k = ctx_new(call_id, req->id, cp->name, path)) == NULL)
		goto oom;
	k->created = now_ns();
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
	if ((k->config = config_text(k)) == NULL) {
		ctx_free(k);
		goto oom;
	}
	if (making_find(path) != NULL) {
		err_set(&e, GRPC_ALREADY_EXISTS, "checkpoint %s of container %s is being made"
		    " (%s)", cp->name, req->id, path);
		ctx_free(k);
		server_reply_error(call_id, &e);
		return;
	}
	k->making = true;
	k->making_next = making;
	making = k;
	if (ckpt_step(k, CK_PREPARE, &e) < 0) {
		ctx_free(k);
		server_reply_error(call_id, &e);
	}
	return;
oom:
	err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
	server_reply_error(call_id, &e);
}

int
checkpoint_known_dir(uint64_t call_id, const char *id, const char *dir, char *buf, size_t n)
{
	struct container *c;
	char *bundle = NULL;
	struct err e;
	int k;

	if (validate_id("container id", id, &e) < 0 ||
	    validate_path("checkpoint dir", dir, 1, &e) < 0) {
		server_reply_error(call_id, &e);
		return 0;
	}
	if ((c = container_find(id)) != NULL) {
		checkpoint_path(buf, n, dir, c->bundle, NULL);
		return 1;
	}
	if ((k = store_container_bundle(D.store, id, &bundle, &e)) <= 0) {
		if (k == 0)
			err_set(&e, GRPC_NOT_FOUND,
			    MSG_CONTAINER_NOT_FOUND ": no such container: %s", id);
		server_reply_error(call_id, &e);
		return 0;
	}
	checkpoint_path(buf, n, dir, bundle, NULL);
	free(bundle);
	return 1;
}

/* ---------------------------------------------------------------- delete */

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
	char dir[PATH_MAX_LEN + 300], path[PATH_MAX_LEN + 440];
	struct ckpt_ctx *k;
	struct err e;

	if (validate_id("checkpoint name", req->name, &e) < 0) {
		server_reply_error(call_id, &e);
		return;
	}
	if (!checkpoint_known_dir(call_id, req->id, req->checkpointdir, dir, sizeof(dir)))
		return;
	if (store_checkpoints_foreach(D.store, req->id, find_one, &f, &e) < 0) {
		server_reply_error(call_id, &e);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, req->name);
	if (making_find(path) != NULL) {
		err_set(&e, GRPC_FAILED_PRECONDITION, "checkpoint %s of container %s is being made"
		    " (%s): delete it once CreateCheckpoint has answered", req->name, req->id, path);
		server_reply_error(call_id, &e);
		return;
	}
	/* The files first, off the loop; the row and the event once they are
	 * gone (delete_done), so a checkpoint made again under the name finds
	 * its directory free. */
	if ((k = ctx_new(call_id, req->id, req->name, path)) == NULL) {
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		server_reply_error(call_id, &e);
		return;
	}
	k->row_exists = f.found;
	k->ours = f.found && strcmp(f.path, path) == 0;
	if (ckpt_step(k, CK_REMOVE, &e) < 0) {
		ctx_free(k);
		server_reply_error(call_id, &e);
	}
}
