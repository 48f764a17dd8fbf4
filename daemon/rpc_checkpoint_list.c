/*
 * ListCheckpoint: the checkpoint directory is the truth (rpc_checkpoint.c
 * says how checkpoints are laid out). DIR's subdirectories that have a
 * config.json are listed, in name order, each with the options of its
 * config.json, so a checkpoint copied in from another host is listed; one
 * without config.json only if this daemon recorded making it there (an
 * earlier version wrote none). Symlinks, files, names the API cannot
 * address and config.json files that are not JSON objects are left out
 * (the last with a log line). The directory is read off the loop.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

/* Bounds on what a listing reads: a config.json is a few hundred bytes. */
#define CONFIG_MAX 65536
#define LIST_MAX 4096

/* Reads a small regular file without following a symlink or hanging on a
 * fifo: the text (NUL-terminated, the caller's), or NULL with errno. */
static char *
read_small(int dirfd, const char *rel, size_t max, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd;

	fd = openat(dirfd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size && (n = read(fd, buf + got, (size_t)st.st_size - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			close(fd);
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* A checkpoint this daemon recorded whose directory is in the listed dir. */
struct list_row {
	char *name;
	bool exit, tcp, unix_sockets, shell;
	char *empty_ns;		/* JSON array */
};

struct list_entry {
	char *name;
	char *config;		/* its config.json, or NULL */
};

struct list_job {
	struct offload job;	/* first */
	uint64_t call_id;
	char *id;
	char *dir;
	char *what;
	struct list_row *rows;	/* in: */
	size_t n_rows;
	struct list_entry *v;	/* out: DIR's subdirectories */
	size_t n, cap;
	bool capped;
};

static void
list_free(struct list_job *l)
{
	for (size_t i = 0; i < l->n_rows; i++) {
		free(l->rows[i].name);
		free(l->rows[i].empty_ns);
	}
	free(l->rows);
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].config);
	}
	free(l->v);
	free(l->id);
	free(l->dir);
	free(l->what);
	free(l);
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct list_entry *)a)->name, ((const struct list_entry *)b)->name);
}

/* In the job's thread: DIR's subdirectories (not symlinks), each with its
 * config.json if it has a readable one. No DIR: none. */
static void
list_work(struct offload *o)
{
	struct list_job *l = (struct list_job *)o;
	struct dirent *d;
	struct stat st;
	struct err ve;
	DIR *dp;
	int fd;

	if ((fd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (dp = fdopendir(fd)) == NULL) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		if (err != ENOENT)
			err_set(&o->err, err == ENOTDIR ? GRPC_FAILED_PRECONDITION : checkpoint_errno_code(err),
			    "checkpoint dir %s: %s", l->dir, strerror(err));
		return;
	}
	while ((d = readdir(dp)) != NULL) {
		char rel[sizeof(d->d_name) + 16];
		size_t len;

		/* Only names the API can address (no ".", "..", nothing odd). */
		if (validate_id("name", d->d_name, &ve) < 0)
			continue;
		if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (l->n == LIST_MAX) {
			l->capped = true;
			break;
		}
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 16;
			struct list_entry *nv = realloc(l->v, cap * sizeof(*nv));

			if (nv == NULL)
				break;
			l->v = nv;
			l->cap = cap;
		}
		snprintf(rel, sizeof(rel), "%s/config.json", d->d_name);
		if ((l->v[l->n].name = strdup(d->d_name)) == NULL)
			break;
		l->v[l->n].config = read_small(fd, rel, CONFIG_MAX, &len);
		l->n++;
	}
	closedir(dp);
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), entry_cmp);
}

static Types__Checkpoint *
cp_new(const char *name, bool exit, bool tcp, bool unix_sockets, bool shell, json_t *ns)
{
	Types__Checkpoint *cp = calloc(1, sizeof(*cp));

	if (cp == NULL)
		return NULL;
	types__checkpoint__init(cp);
	cp->name = strdup(name);
	cp->exit = exit;
	cp->tcp = tcp;
	cp->unixsockets = unix_sockets;
	cp->shell = shell;
	if (json_array_size(ns) > 0 &&
	    (cp->emptyns = calloc(json_array_size(ns), sizeof(char *))) != NULL) {
		for (size_t i = 0; i < json_array_size(ns); i++) {
			const char *s = json_string_value(json_array_get(ns, i));

			if (s != NULL && (cp->emptyns[cp->n_emptyns] = strdup(s)) != NULL)
				cp->n_emptyns++;
		}
	}
	if (cp->name == NULL) {
		types__checkpoint__free_unpacked(cp, NULL);
		return NULL;
	}
	return cp;
}

/* One listed checkpoint: from its config.json, else from the table's row
 * (made by an earlier version of this daemon), else none (not a checkpoint). */
static Types__Checkpoint *
list_item(struct list_job *l, const struct list_entry *en)
{
	Types__Checkpoint *cp;
	json_error_t je;
	json_t *o;

	if (en->config == NULL) {
		for (size_t i = 0; i < l->n_rows; i++) {
			const struct list_row *r = &l->rows[i];

			if (strcmp(r->name, en->name) != 0)
				continue;
			o = json_loads(r->empty_ns, 0, NULL);
			cp = cp_new(en->name, r->exit, r->tcp, r->unix_sockets, r->shell, o);
			json_decref(o);
			return cp;
		}
		return NULL;
	}
	o = json_loads(en->config, 0, &je);
	if (!json_is_object(o)) {
		log_warnx("container %s: checkpoint %s/%s not listed: its config.json is not a"
		    " JSON object (%s)", l->id, l->dir, en->name, o ? "another value" : je.text);
		json_decref(o);
		return NULL;
	}
	/* Listed by its directory's name: that is what restore and delete take. */
	cp = cp_new(en->name, json_is_true(json_object_get(o, "exit")),
	    json_is_true(json_object_get(o, "tcp")),
	    json_is_true(json_object_get(o, "unixSockets")),
	    json_is_true(json_object_get(o, "shell")), json_object_get(o, "emptyNS"));
	json_decref(o);
	return cp;
}

static void
list_done(struct offload *o, const struct err *e)
{
	struct list_job *l = (struct list_job *)o;
	Types__ListCheckpointResponse resp = TYPES__LIST_CHECKPOINT_RESPONSE__INIT;
	Types__Checkpoint **items;

	if (e->code != GRPC_OK) {
		server_reply_error(l->call_id, e);
		return;
	}
	if (l->capped)
		log_warnx("container %s: checkpoint dir %s: only the first %d directories are"
		    " listed", l->id, l->dir, LIST_MAX);
	if ((items = calloc(l->n ? l->n : 1, sizeof(*items))) == NULL) {
		struct err oe;

		err_set(&oe, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		server_reply_error(l->call_id, &oe);
		return;
	}
	for (size_t i = 0; i < l->n; i++)
		if ((items[resp.n_checkpoints] = list_item(l, &l->v[i])) != NULL)
			resp.n_checkpoints++;
	resp.checkpoints = items;
	server_reply(l->call_id, &resp.base);
	for (size_t i = 0; i < resp.n_checkpoints; i++)
		types__checkpoint__free_unpacked(items[i], NULL);
	free(items);
}

static void
list_release(struct offload *o)
{
	list_free((struct list_job *)o);
}

/* Keeps the rows whose path is DIR/<name>: the fallback for a directory
 * without config.json. */
static int
list_row_cb(void *arg, const struct store_checkpoint *c)
{
	struct list_job *l = arg;
	size_t dl = strlen(l->dir);
	struct list_row *nv, *r;

	if (strncmp(c->path, l->dir, dl) != 0 || c->path[dl] != '/' ||
	    strcmp(c->path + dl + 1, c->name) != 0)
		return 0;
	if ((nv = realloc(l->rows, (l->n_rows + 1) * sizeof(*nv))) == NULL)
		return 0;
	l->rows = nv;
	r = &l->rows[l->n_rows];
	r->name = strdup(c->name);
	r->empty_ns = strdup(c->empty_ns ? c->empty_ns : "[]");
	r->exit = c->exit;
	r->tcp = c->tcp;
	r->unix_sockets = c->unix_sockets;
	r->shell = c->shell;
	if (r->name == NULL || r->empty_ns == NULL) {
		free(r->name);
		free(r->empty_ns);
		return 0;
	}
	l->n_rows++;
	return 0;
}

void
rpc_list_checkpoint(uint64_t call_id, const Types__ListCheckpointRequest *req)
{
	char dir[PATH_MAX_LEN + 300];
	struct list_job *l;
	struct err e;

	if (!checkpoint_known_dir(call_id, req->id, req->checkpointdir, dir, sizeof(dir)))
		return;
	if ((l = calloc(1, sizeof(*l))) == NULL || (l->id = strdup(req->id)) == NULL ||
	    (l->dir = strdup(dir)) == NULL || asprintf(&l->what, "checkpoint dir %s", dir) < 0) {
		if (l != NULL) {
			l->what = NULL;
			list_free(l);
		}
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		server_reply_error(call_id, &e);
		return;
	}
	l->call_id = call_id;
	if (store_checkpoints_foreach(D.store, req->id, list_row_cb, l, &e) < 0) {
		list_free(l);
		server_reply_error(call_id, &e);
		return;
	}
	l->job.work = list_work;
	l->job.done = list_done;
	l->job.release = list_release;
	l->job.what = l->what;
	l->job.timeout = (double)D.cfg.runtime_timeout_ns / 1e9;
	if (offload_start(&l->job, &e) < 0) {
		list_free(l);
		server_reply_error(call_id, &e);
	}
}
