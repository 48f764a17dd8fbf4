/*
 * rpc_records: containerd.records.v1.Records' ListContainers,
 * RemoveContainer and Prune (schema/records.proto is the contract).
 *
 * Live containers come from the model, as State sees them; stopped ones
 * from the database (their rows stay until retention, RemoveContainer or
 * Prune forgets them). Rows whose status is 'deleted' or 'failed' are
 * written by no version of this daemon (the schema allows them for another
 * writer); they are not live either, so they are listed with that status
 * and can be removed like a stopped one: nothing the database keeps is
 * hidden from the listing that is meant to show it, or kept for ever.
 *
 * The database is read on the loop, as every daemon read is, but in
 * bounded steps: a listing reads PAGE stopped rows per loop iteration and
 * a prune forgets PAGE containers per iteration (each step inside that
 * iteration's transaction), so a database of 50,000 stopped containers
 * never holds the loop for long.
 *
 * Forgetting a container (store_container_forget) removes its row, labels,
 * processes and every event of its id, in one transaction, acknowledged
 * once that is durable; then its logs directory goes (logs_forget, once
 * the commit is durable: retention_logs_forget). Its
 * checkpoints stay: their rows, their create-/delete-checkpoint events
 * (so `containerd-state replay` still finds an event for each row) and
 * their folders, which are files on disk that outlive the container (a
 * restore under the same id reads them).
 *
 * A create of the same id is never raced: a container in the model
 * (creating, running, paused, or stopping: its exit not durable yet) is
 * refused with FAILED_PRECONDITION, and everything here runs between two
 * loop callbacks, so a create either has not reached its rows yet (its
 * own rows are written after these are gone) or is in the model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "log.h"
#include "records.pb-c.h"

#define PAGE 256

/* One listed container, owned copies. */
struct rec {
	char *id, *bundle, *status, *note;
	char **labels;
	size_t n_labels;
	int64_t created;		/* ns; 0: unknown */
	int64_t exited;			/* ns; 0: still runs */
	uint32_t exit_status;
	uint32_t processes;
};

struct list_job {
	uint64_t call_id;
	struct rec *live, *stopped;
	size_t n_live, n_stopped, cap_stopped;
	char after[STORE_ID_COPY];	/* the last stopped id read */
	bool failed;			/* out of memory (or a label unread) */
	ev_timer next_w;
};

static void
rec_clear(struct rec *r)
{
	free(r->id);
	free(r->bundle);
	free(r->status);
	free(r->note);
	for (size_t i = 0; i < r->n_labels; i++)
		free(r->labels[i]);
	free(r->labels);
}

static void
list_free(struct list_job *l)
{
	for (size_t i = 0; i < l->n_live; i++)
		rec_clear(&l->live[i]);
	for (size_t i = 0; i < l->n_stopped; i++)
		rec_clear(&l->stopped[i]);
	free(l->live);
	free(l->stopped);
	free(l);
}

static int
rec_cmp(const void *pa, const void *pb)
{
	const struct rec *a = pa, *b = pb;

	return strcmp(a->id, b->id);
}

/* The model's containers, as State lists them; the stopping ones (exit
 * known, not yet durable) only with all. */
static int
snapshot_live(struct list_job *l, bool all)
{
	size_t n = 0;

	if ((l->live = calloc((size_t)D.n_containers + 1, sizeof(*l->live))) == NULL)
		return -1;
	for (struct container *c = D.containers; c != NULL; c = c->next) {
		struct rec *r = &l->live[n];
		struct process *init = process_find(c, "init");
		bool stopped = c->status == CONTAINER_STOPPED;

		if (stopped && !all)
			continue;
		n++;
		r->id = strdup(c->id);
		r->bundle = strdup(c->bundle ? c->bundle : "");
		r->status = strdup(container_status_name(c->status));
		r->note = strdup(stopped && c->exit_note ? c->exit_note : "");
		r->labels = calloc((size_t)c->n_labels + 1, sizeof(*r->labels));
		if (r->id == NULL || r->bundle == NULL || r->status == NULL || r->note == NULL ||
		    r->labels == NULL)
			goto oom;
		for (int i = 0; i < c->n_labels; i++)
			if ((r->labels[r->n_labels++] = strdup(c->labels[i])) == NULL)
				goto oom;
		/* The init's start: the moment its start-container event records. */
		r->created = init != NULL && init->started_at > 0 ? init->started_at : 0;
		for (struct process *p = c->procs; p != NULL; p = p->next)
			if (p->state == PROCESS_RUNNING)
				r->processes++;
		if (stopped && c->deleting) {
			r->exit_status = (uint32_t)c->exit_status;
			r->exited = c->exited_at;
		}
	}
	l->n_live = n;
	qsort(l->live, n, sizeof(*l->live), rec_cmp);
	return 0;
oom:
	l->n_live = n;
	return -1;
}

static int
label_cb(void *arg, const char *cid, const char *label)
{
	struct rec *r = arg;
	char **nv = realloc(r->labels, (r->n_labels + 2) * sizeof(*nv));

	if (nv == NULL)
		return 1;
	r->labels = nv;
	if ((r->labels[r->n_labels] = strdup(label)) == NULL)
		return 1;
	r->n_labels++;
	return 0;
}

static int
stopped_cb(void *arg, const struct store_record *sr)
{
	struct list_job *l = arg;
	struct rec *r;
	struct err e;

	snprintf(l->after, sizeof(l->after), "%s", sr->id);
	if (l->n_stopped == l->cap_stopped) {
		size_t cap = l->cap_stopped ? 2 * l->cap_stopped : PAGE;
		struct rec *nv = realloc(l->stopped, cap * sizeof(*nv));

		if (nv == NULL)
			return l->failed = true;
		l->stopped = nv;
		l->cap_stopped = cap;
	}
	r = &l->stopped[l->n_stopped++];
	memset(r, 0, sizeof(*r));
	r->id = strdup(sr->id);
	r->bundle = strdup(sr->bundle);
	r->status = strdup(sr->status);
	r->note = strdup(sr->note);
	if (r->id == NULL || r->bundle == NULL || r->status == NULL || r->note == NULL ||
	    store_labels_foreach(D.store, sr->id, label_cb, r, &e) != 0)
		return l->failed = true;
	r->created = sr->started ? sr->started_at : sr->created_at;
	r->exit_status = (uint32_t)sr->exit_status;
	r->exited = sr->exited_at;
	return 0;
}

static Google__Protobuf__Timestamp *
ts_set(Google__Protobuf__Timestamp *t, int64_t ns)
{
	if (ns <= 0)
		return NULL;
	google__protobuf__timestamp__init(t);
	t->seconds = ns / 1000000000;
	t->nanos = (int32_t)(ns % 1000000000);
	return t;
}

/* The live ones and the stopped ones merged by id; a stopped row whose id
 * the model has (made anew, or still stopping) is the model's. */
static void
list_reply(struct list_job *l)
{
	Containerd__Records__V1__ListContainersResponse resp =
	    CONTAINERD__RECORDS__V1__LIST_CONTAINERS_RESPONSE__INIT;
	size_t n = l->n_live + l->n_stopped, k = 0, i = 0, j = 0;
	Containerd__Records__V1__ContainerRecord *v = calloc(n + 1, sizeof(*v));
	Containerd__Records__V1__ContainerRecord **ptrs = calloc(n + 1, sizeof(*ptrs));
	Google__Protobuf__Timestamp *ts = calloc(2 * n + 2, sizeof(*ts));
	struct err e;

	if (v == NULL || ptrs == NULL || ts == NULL) {
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		server_reply_error(l->call_id, &e);
		goto out;
	}
	while (i < l->n_live || j < l->n_stopped) {
		const struct rec *r;
		int cmp = i == l->n_live ? 1 : j == l->n_stopped ? -1 :
		    strcmp(l->live[i].id, l->stopped[j].id);

		if (cmp == 0)
			j++; /* the model's copy wins */
		r = cmp <= 0 ? &l->live[i++] : &l->stopped[j++];
		containerd__records__v1__container_record__init(&v[k]);
		v[k].id = r->id;
		v[k].bundle = r->bundle;
		v[k].status = r->status;
		v[k].labels = r->labels;
		v[k].n_labels = r->n_labels;
		v[k].created = ts_set(&ts[2 * k], r->created);
		v[k].processes = r->processes;
		v[k].exit_status = r->exit_status;
		v[k].exited = ts_set(&ts[2 * k + 1], r->exited);
		v[k].note = r->note;
		ptrs[k] = &v[k];
		k++;
	}
	resp.containers = ptrs;
	resp.n_containers = k;
	server_reply(l->call_id, &resp.base);
out:
	free(v);
	free(ptrs);
	free(ts);
}

/* One page of stopped rows; the next in the next loop iteration. */
static void
list_step(struct list_job *l)
{
	struct err e = { 0 };
	int n = store_records_stopped(D.store, l->after, PAGE, stopped_cb, l, &e);

	if (l->failed || n < 0) {
		if (l->failed)
			err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		server_reply_error(l->call_id, &e);
		list_free(l);
		return;
	}
	if (n == PAGE) {
		ev_timer_start(D.loop, &l->next_w);
		return;
	}
	list_reply(l);
	list_free(l);
}

static void
list_next_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	list_step(w->data);
}

void
rpc_records_list(uint64_t call_id, const void *reqp)
{
	const Containerd__Records__V1__ListContainersRequest *req = reqp;
	struct list_job *l = calloc(1, sizeof(*l));
	struct err e;

	if (l == NULL || snapshot_live(l, req->all) < 0) {
		if (l != NULL)
			list_free(l);
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		server_reply_error(call_id, &e);
		return;
	}
	l->call_id = call_id;
	if (!req->all) {
		/* The model alone, no database read: answered at once, also
		 * while a commit waits on a locked or full disk (`ctr
		 * containers` asks this for its CREATED column). */
		server_replies_readonly(true);
		list_reply(l);
		list_free(l);
		return;
	}
	ev_timer_init(&l->next_w, list_next_cb, 0., 0.);
	l->next_w.data = l;
	list_step(l);
}

/* Why id cannot be forgotten now (a reply sent), or 0: it can. */
static int
refuse_live(uint64_t call_id, const char *id)
{
	struct container *c = container_find(id);
	struct err e;

	if (c == NULL)
		return 0;
	err_set(&e, GRPC_FAILED_PRECONDITION,
	    "container %s is %s: only a stopped container's records can be removed%s", id,
	    c->status == CONTAINER_STOPPED ? "stopping" : container_status_name(c->status),
	    c->status == CONTAINER_STOPPED ? " (retry in a moment)" : " (kill it first)");
	server_reply_error(call_id, &e);
	return 1;
}

/* The database can take writes now (a stalled store is retried once). */
static int
store_writable(struct err *e)
{
	if (store_stalled(D.store) && store_retry(D.store, NULL) < 0)
		return err_set(e, store_commit_error(D.store)->code,
		    "the database cannot record it now: %s", store_commit_error(D.store)->msg);
	return 0;
}

static int
forget(const char *id, struct err *e)
{
	if (store_container_forget(D.store, id, e) < 0)
		return -1;
	retention_logs_forget(id);
	log_info("container %s: its records were removed", id);
	return 0;
}

void
rpc_records_remove(uint64_t call_id, const void *reqp)
{
	const Containerd__Records__V1__RemoveContainerRequest *req = reqp;
	Containerd__Records__V1__RemoveContainerResponse resp =
	    CONTAINERD__RECORDS__V1__REMOVE_CONTAINER_RESPONSE__INIT;
	char status[32];
	struct err e;
	int k;

	if (validate_id("container id", req->id, &e) < 0) {
		server_reply_error(call_id, &e);
		return;
	}
	if (refuse_live(call_id, req->id))
		return;
	if (store_writable(&e) < 0 ||
	    (k = store_container_status(D.store, req->id, status, sizeof(status), &e)) < 0) {
		server_reply_error(call_id, &e);
		return;
	}
	if (k == 0) {
		err_set(&e, GRPC_NOT_FOUND, MSG_CONTAINER_NOT_FOUND ": no such container: %s",
		    req->id);
		server_reply_error(call_id, &e);
		return;
	}
	/* A live row with no container in the model: never after reconcile,
	 * but a row is not forgotten on the strength of that. */
	if (strcmp(status, "stopped") != 0 && strcmp(status, "deleted") != 0 &&
	    strcmp(status, "failed") != 0) {
		err_set(&e, GRPC_FAILED_PRECONDITION,
		    "container %s is %s in the database: only a stopped container's records can"
		    " be removed", req->id, status);
		server_reply_error(call_id, &e);
		return;
	}
	if (forget(req->id, &e) < 0) {
		server_reply_error(call_id, &e);
		return;
	}
	server_reply(call_id, &resp.base);
}

struct prune_job {
	uint64_t call_id;
	int64_t before;
	char after[STORE_ID_COPY];
	char **removed;
	size_t n, cap;
	ev_timer next_w;
};

static void
prune_free(struct prune_job *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->removed[i]);
	free(p->removed);
	free(p);
}

/* Up to PAGE containers forgotten; the rest in the next iterations. */
static void
prune_step(struct prune_job *p)
{
	char ids[PAGE][STORE_ID_COPY];
	struct err e = { 0 };
	int n = store_records_prunable(D.store, p->after, p->before, PAGE, ids, &e);

	if (n < 0)
		goto fail;
	for (int i = 0; i < n; i++) {
		memcpy(p->after, ids[i], sizeof(p->after));
		if (container_find(ids[i]) != NULL)
			continue; /* stopping, or made anew: not a record yet */
		if (p->n == p->cap) {
			size_t cap = p->cap ? 2 * p->cap : 64;
			char **nv = realloc(p->removed, cap * sizeof(*nv));

			if (nv == NULL)
				goto oom;
			p->removed = nv;
			p->cap = cap;
		}
		if ((p->removed[p->n] = strdup(ids[i])) == NULL)
			goto oom;
		if (forget(ids[i], &e) < 0) {
			free(p->removed[p->n]);
			goto fail;
		}
		p->n++;
	}
	if (n == PAGE) {
		ev_timer_start(D.loop, &p->next_w);
		return;
	}
	{
		Containerd__Records__V1__PruneResponse resp =
		    CONTAINERD__RECORDS__V1__PRUNE_RESPONSE__INIT;

		resp.removed = p->removed;
		resp.n_removed = p->n;
		server_reply(p->call_id, &resp.base);
		if (p->n > 0)
			log_info("prune: removed the records of %zu stopped container(s)", p->n);
	}
	prune_free(p);
	return;
oom:
	err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
fail:
	/* What went before stays gone (it is committed with this iteration). */
	if (p->n > 0)
		log_warnx("prune: stopped after removing %zu container(s): %s", p->n, e.msg);
	server_reply_error(p->call_id, &e);
	prune_free(p);
}

static void
prune_next_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	prune_step(w->data);
}

void
rpc_records_prune(uint64_t call_id, const void *reqp)
{
	const Containerd__Records__V1__PruneRequest *req = reqp;
	struct prune_job *p;
	struct err e;

	if (req->before != NULL && (req->before->seconds < 0 || req->before->nanos < 0 ||
	    req->before->nanos > 999999999 || req->before->seconds > INT64_MAX / 1000000000 - 1)) {
		err_set(&e, GRPC_INVALID_ARGUMENT, "before: not a valid time");
		server_reply_error(call_id, &e);
		return;
	}
	if (store_writable(&e) < 0) {
		server_reply_error(call_id, &e);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		server_reply_error(call_id, &e);
		return;
	}
	p->call_id = call_id;
	if (req->before != NULL)
		p->before = req->before->seconds * 1000000000 + req->before->nanos;
	ev_timer_init(&p->next_w, prune_next_cb, 0., 0.);
	p->next_w.data = p;
	prune_step(p);
}
