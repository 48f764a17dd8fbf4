/*
 * ctr containers [list] [ID]: the group of container verbs, the listing,
 * and one container in detail.
 *
 * State gives no creation time: CREATED is the time of the container's
 * last "start-container" event, from a stored-only replay of its own
 * events (the daemon's record, on the same clock as `ctr events`). Those
 * replays share a time budget, so a daemon whose history is slow to read
 * still lists at once, with "?" where the time is unknown.
 *
 * --all (or a status=stopped filter, as `docker ps` takes one) adds the
 * stopped containers the daemon's database keeps, from the Records
 * service's ListContainers, with their exit status and time; so does
 * `ctr containers ID` for an ID that State no longer has.
 */
#include "ctr.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "records.pb-c.h"
#include "statejson.h"

/* All CREATED lookups of one listing together. */
#define CREATED_BUDGET_MS 2000

static const struct ctr_cmd *const containers_subs[] = {
	&cmd_containers_list, &cmd_containers_start, &cmd_containers_exec,
	&cmd_containers_kill, &cmd_containers_stop, &cmd_containers_wait,
	&cmd_containers_pause, &cmd_containers_resume, &cmd_containers_update,
	&cmd_containers_stats, &cmd_containers_state, &cmd_containers_watch,
	&cmd_containers_rm, &cmd_containers_prune, &cmd_containers_logs,
	NULL,
};

const struct ctr_cmd cmd_containers = {
	.name = "containers",
	.summary = "start, list and manage containers",
	.subs = containers_subs,
};

static const struct ctr_opt list_opts[] = {
	{ "all", 'a', CTR_OPT_BOOL, NULL,
	    "the stopped containers too (the daemon's records: STATUS stopped(CODE),"
	    " EXITED)" },
	{ "quiet", 'q', CTR_OPT_BOOL, NULL, "print only the ids" },
	{ "format", 0, CTR_OPT_STRING, "table", "table or json" },
	{ "filter", 'f', CTR_OPT_LIST, NULL,
	    "only the containers that match: label=KEY, label=KEY=VALUE or "
	    "status=running|paused|stopped (stopped implies --all); every filter must"
	    " match" },
	{ NULL, 0, 0, NULL, NULL },
};

/* One listed container and what its history says. */
struct row {
	const Types__Container *ct;
	bool known;		/* the start time was found */
	int64_t sec;
	int32_t nsec;
	/* A stopped container's record (ct made from it), NULL: a live one. */
	const Containerd__Records__V1__ContainerRecord *rec;
};

/* The stopped containers of a ListContainers reply as State's type, for
 * the filters and columns they share (owned by the listing). */
struct stopped {
	Containerd__Records__V1__ListContainersResponse *resp;
	Types__Container *cts;
	size_t n;
};

/* "init,e1,e2": the process names of one container. */
static char *
process_names(const Types__Container *ct)
{
	size_t i, len = 1;
	char *s;

	for (i = 0; i < ct->n_processes; i++)
		len += strlen(ct->processes[i]->pid) + 1;
	if ((s = malloc(len)) == NULL)
		return NULL;
	s[0] = '\0';
	for (i = 0; i < ct->n_processes; i++) {
		if (i > 0)
			strcat(s, ",");
		strcat(s, ct->processes[i]->pid);
	}
	return s;
}

static int
row_cmp(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;

	return strcmp(a->ct->id, b->ct->id);
}

/* label=K (any value), label=K=V (exactly), status=S. */
static int
filter_check(const struct ctr_args *a, const char *f)
{
	if (strncmp(f, "label=", 6) == 0 && f[6] != '\0' && f[6] != '=')
		return 0;
	if (strncmp(f, "status=", 7) == 0 && f[7] != '\0')
		return 0;
	return ctr_usage_error(a, "invalid filter \"%s\": want label=KEY, "
	    "label=KEY=VALUE or status=STATUS", f);
}

static bool
filter_match(const Types__Container *ct, const char *f)
{
	size_t i, klen;
	const char *kv;

	if (strncmp(f, "status=", 7) == 0)
		return strcmp(ct->status, f + 7) == 0;
	kv = f + 6;
	klen = strcspn(kv, "=");
	for (i = 0; i < ct->n_labels; i++) {
		const char *l = ct->labels[i];

		if (kv[klen] == '=' ? strcmp(l, kv) == 0 :
		    strncmp(l, kv, klen) == 0 && (l[klen] == '=' || l[klen] == '\0'))
			return true;
	}
	return false;
}

static int
rec_id_cmp(const void *pa, const void *pb)
{
	const Containerd__Records__V1__ContainerRecord *const *a = pa, *const *b = pb;

	return strcmp((*a)->id, (*b)->id);
}

/*
 * The live rows' start times from one ListContainers call: its created is
 * the init's start, the time of its start-container event. One call for
 * any number of containers (a history replay per row took 1.7-2.7 s for
 * 1,000-2,000 and ran into the budget). rows are sorted by id. -1: the
 * daemon has no Records service (an earlier release), or it failed.
 */
static int
rows_created_records(struct ctr *c, struct row *rows, size_t n)
{
	Containerd__Records__V1__ListContainersRequest req =
	    CONTAINERD__RECORDS__V1__LIST_CONTAINERS_REQUEST__INIT;
	Containerd__Records__V1__ListContainersResponse *r;
	Containerd__Records__V1__ContainerRecord **recs;
	struct err e;
	size_t i, k = 0;

	if (ctr_call(c, RECORDS_PREFIX "ListContainers", &req.base,
	    &containerd__records__v1__list_containers_response__descriptor,
	    (ProtobufCMessage **)&r, &e) < 0) {
		if (c->debug)
			fprintf(stderr, "ctr: debug: ListContainers: %s\n", e.msg);
		return -1;
	}
	recs = r->containers;
	if (r->n_containers > 1)
		qsort(recs, r->n_containers, sizeof(*recs), rec_id_cmp);
	for (i = 0; i < n; i++) {
		int cmp = 1;

		if (rows[i].rec != NULL)
			continue; /* its record says */
		while (k < r->n_containers && (cmp = strcmp(recs[k]->id, rows[i].ct->id)) < 0)
			k++;
		if (k < r->n_containers && cmp == 0 && recs[k]->created != NULL &&
		    (recs[k]->created->seconds != 0 || recs[k]->created->nanos != 0)) {
			rows[i].known = true;
			rows[i].sec = recs[k]->created->seconds;
			rows[i].nsec = recs[k]->created->nanos;
		}
	}
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return 0;
}

/* Fills each row's start time: from the records (one call), else from
 * each one's history; after the budget is spent, or once the history
 * cannot be read, the rest stay unknown. */
static void
rows_created(struct ctr *c, struct row *rows, size_t n)
{
	struct timespec t0, t1;
	struct ctr_history h;
	struct err e;
	size_t i;
	long spent;
	bool from_records = rows_created_records(c, rows, n) == 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		if (rows[i].rec != NULL || rows[i].known)
			continue; /* its record says */
		/* Not started yet: no start-container event to find. */
		if (from_records && strcmp(rows[i].ct->status, "creating") == 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		spent = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (spent >= CREATED_BUDGET_MS)
			break;
		if (ctr_history_lookup(c, rows[i].ct->id,
		    (int)(CREATED_BUDGET_MS - spent), &h, &e) < 0) {
			if (c->debug)
				fprintf(stderr, "ctr: debug: CREATED of %s: %s\n",
				    rows[i].ct->id, e.msg);
			break;
		}
		rows[i].known = h.started;
		rows[i].sec = h.start_sec;
		rows[i].nsec = h.start_nsec;
	}
}

static json_t *
row_json(const struct row *r)
{
	json_t *j = statejson_container(r->ct);
	char when[64];

	if (j == NULL)
		return NULL;
	if (r->rec != NULL) {
		json_object_set_new(j, "exitStatus", json_integer(r->rec->exit_status));
		if (r->rec->exited != NULL) {
			ctr_time_format(r->rec->exited->seconds, r->rec->exited->nanos, when,
			    sizeof(when));
			json_object_set_new(j, "exited", json_string(when));
		} else {
			json_object_set_new(j, "exited", json_null());
		}
		if (r->rec->note[0] != '\0')
			json_object_set_new(j, "note", json_string(r->rec->note));
	}
	if (r->known) {
		ctr_time_format(r->sec, r->nsec, when, sizeof(when));
		json_object_set_new(j, "created", json_string(when));
	} else {
		json_object_set_new(j, "created", json_null());
	}
	return j;
}

static void
created_cells(const struct row *r, char *ago, size_t alen, char *abs, size_t len)
{
	if (!r->known) {
		snprintf(ago, alen, "?");
		snprintf(abs, len, "unknown (no start-container event in the "
		    "daemon's history)");
		return;
	}
	ctr_time_ago(r->sec, (int64_t)time(NULL), ago, alen);
	ctr_time_format(r->sec, r->nsec, abs, len);
}

/* "stopped(137)": one word, as the column's other values. */
static const char *
status_cell(const struct row *r, char *buf, size_t len)
{
	if (r->rec == NULL)
		return r->ct->status;
	snprintf(buf, len, "%s(%u)", r->rec->status, r->rec->exit_status);
	return buf;
}

static int
print_table(const struct row *rows, size_t n, bool all)
{
	struct ctr_table *t = ctr_table_new(20, 3);
	char ago[64], abs[128], st[64], exited[64];
	size_t i;

	/* ID, PATH, STATUS, PROCESSES first and one word each: scripts
	 * read them by position (awk '{ print $3 }'). */
	ctr_table_addf(t, "ID\tPATH\tSTATUS\tPROCESSES\tCREATED%s", all ? "\tEXITED" : "");
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		char *procs = process_names(r->ct);

		created_cells(r, ago, sizeof(ago), abs, sizeof(abs));
		snprintf(exited, sizeof(exited), "-");
		if (r->rec != NULL && r->rec->exited != NULL)
			ctr_time_ago(r->rec->exited->seconds, (int64_t)time(NULL), exited,
			    sizeof(exited));
		ctr_table_addf(t, "%s\t%s\t%s\t%s\t%s%s%s", r->ct->id, r->ct->bundlepath,
		    status_cell(r, st, sizeof(st)), procs && *procs ? procs : "-", ago,
		    all ? "\t" : "", all ? exited : "");
		free(procs);
	}
	ctr_table_flush(t, stdout);
	return ferror(stdout) ? ctr_stdout_failed() : 0;
}

/* ctr containers ID: one container, field by field, and its processes. */
static int
print_one(const struct row *r)
{
	const Types__Container *ct = r->ct;
	struct ctr_table *t;
	char ago[64], abs[128];
	size_t i, k;

	created_cells(r, ago, sizeof(ago), abs, sizeof(abs));
	printf("ID:        %s\n", ct->id);
	printf("Bundle:    %s\n", ct->bundlepath);
	printf("Status:    %s\n", ct->status);
	printf("Created:   %s%s%s%s\n", abs, r->known ? " (" : "",
	    r->known ? ago : "", r->known ? ")" : "");
	if (r->rec != NULL) {
		printf("Exit:      %u\n", r->rec->exit_status);
		if (r->rec->exited != NULL) {
			ctr_time_format(r->rec->exited->seconds, r->rec->exited->nanos, abs,
			    sizeof(abs));
			ctr_time_ago(r->rec->exited->seconds, (int64_t)time(NULL), ago,
			    sizeof(ago));
			printf("Exited:    %s (%s)\n", abs, ago);
		}
		if (r->rec->note[0] != '\0')
			printf("Note:      %s\n", r->rec->note);
	}
	printf("Runtime:   %s\n", ct->runtime && *ct->runtime ? ct->runtime : "-");
	printf("Labels:   ");
	for (i = 0; i < ct->n_labels; i++)
		printf(" %s", ct->labels[i]);
	printf("%s\n", ct->n_labels == 0 ? " -" : "");
	printf("Processes:\n");
	t = ctr_table_new(6, 3);
	ctr_table_addf(t, "  PID\tSYSTEM PID\tCOMMAND");
	for (i = 0; i < ct->n_processes; i++) {
		const Types__Process *p = ct->processes[i];
		size_t len = 1;
		char *cmd;

		for (k = 0; k < p->n_args; k++)
			len += strlen(p->args[k]) + 1;
		if ((cmd = calloc(1, len)) == NULL)
			continue;
		for (k = 0; k < p->n_args; k++) {
			if (k > 0)
				strcat(cmd, " ");
			strcat(cmd, p->args[k]);
		}
		ctr_table_addf(t, "  %s\t%u\t%s", p->pid, p->systempid, cmd);
		free(cmd);
	}
	ctr_table_flush(t, stdout);
	return ferror(stdout) ? ctr_stdout_failed() : 0;
}

static bool
state_has(const Types__StateResponse *r, const char *id)
{
	for (size_t i = 0; r != NULL && i < r->n_containers; i++)
		if (strcmp(r->containers[i]->id, id) == 0)
			return true;
	return false;
}

/* The records that State did not list (stopped ones), as containers;
 * only id when id is set. 0, or -1 with e. */
static int
stopped_fetch(struct ctr *c, const Types__StateResponse *live, const char *id,
    struct stopped *out, struct err *e)
{
	Containerd__Records__V1__ListContainersRequest req =
	    CONTAINERD__RECORDS__V1__LIST_CONTAINERS_REQUEST__INIT;
	Containerd__Records__V1__ListContainersResponse *r;

	memset(out, 0, sizeof(*out));
	req.all = true;
	if (ctr_call(c, RECORDS_PREFIX "ListContainers", &req.base,
	    &containerd__records__v1__list_containers_response__descriptor,
	    (ProtobufCMessage **)&r, e) < 0)
		return -1;
	out->resp = r;
	if ((out->cts = calloc(r->n_containers + 1, sizeof(*out->cts))) == NULL)
		return err_set(e, GRPC_INTERNAL, "out of memory");
	for (size_t i = 0; i < r->n_containers; i++) {
		Containerd__Records__V1__ContainerRecord *rec = r->containers[i];
		Types__Container *ct = &out->cts[out->n];

		/* Live ones are State's; one that stopped in between is not
		 * listed twice. */
		if (strcmp(rec->status, "creating") == 0 || strcmp(rec->status, "running") == 0 ||
		    strcmp(rec->status, "paused") == 0 || state_has(live, rec->id) ||
		    (id != NULL && strcmp(rec->id, id) != 0))
			continue;
		types__container__init(ct);
		ct->id = rec->id;
		ct->bundlepath = rec->bundle;
		ct->status = rec->status;
		ct->labels = rec->labels;
		ct->n_labels = rec->n_labels;
		out->n++;
	}
	return 0;
}

static void
stopped_free(struct stopped *s)
{
	free(s->cts);
	if (s->resp != NULL)
		protobuf_c_message_free_unpacked(&s->resp->base, NULL);
}

/* The record of the i-th stopped container. */
static const Containerd__Records__V1__ContainerRecord *
stopped_rec(const struct stopped *s, size_t i)
{
	for (size_t k = 0; k < s->resp->n_containers; k++)
		if (strcmp(s->resp->containers[k]->id, s->cts[i].id) == 0)
			return s->resp->containers[k];
	return NULL;
}

static int
list_run(struct ctr *c, const struct ctr_args *a)
{
	Types__StateRequest req = TYPES__STATE_REQUEST__INIT;
	const char *format = ctr_arg_str(a, "format");
	const char **filters;
	Types__StateResponse *r = NULL;
	struct stopped st = { 0 };
	struct row *rows;
	size_t i, k, n = 0, nf;
	bool one = a->argc > 0, json, all = ctr_arg_bool(a, "all");
	struct err e;
	int rc = 0;

	json = strcmp(format, "json") == 0;
	if (!json && strcmp(format, "table") != 0)
		return ctr_usage_error(a, "invalid --format \"%s\": want table "
		    "or json", format);
	filters = ctr_arg_list(a, "filter", &nf);
	for (k = 0; k < nf; k++) {
		if (filter_check(a, filters[k]) != 0)
			return CTR_EXIT_USAGE;
		if (strcmp(filters[k], "status=stopped") == 0)
			all = true;
	}
	req.id = one ? a->argv[0] : "";
	if (ctr_call(c, "State", &req.base, &types__state_response__descriptor,
	    (ProtobufCMessage **)&r, &e) < 0) {
		/* ctr containers ID: a stopped one is in the records. */
		if (!one || e.code != GRPC_NOT_FOUND)
			return ctr_fail(&e);
		r = NULL;
		all = true;
	}
	if (all && stopped_fetch(c, r, one ? a->argv[0] : NULL, &st, &e) < 0) {
		stopped_free(&st);
		if (r != NULL)
			types__state_response__free_unpacked(r, NULL);
		return ctr_fail(&e);
	}
	if (one && r == NULL && st.n == 0) {
		stopped_free(&st);
		err_set(&e, GRPC_NOT_FOUND, "containerd: container not found: no such container: %s",
		    a->argv[0]);
		return ctr_fail(&e);
	}
	if ((rows = calloc((r ? r->n_containers : 0) + st.n + 1, sizeof(*rows))) == NULL) {
		stopped_free(&st);
		if (r != NULL)
			types__state_response__free_unpacked(r, NULL);
		err_set(&e, GRPC_INTERNAL, "out of memory");
		return ctr_fail(&e);
	}
	for (i = 0; i < (r ? r->n_containers : 0) + st.n; i++) {
		bool live = r != NULL && i < r->n_containers;
		const Types__Container *ct = live ? r->containers[i] :
		    &st.cts[i - (r ? r->n_containers : 0)];

		for (k = 0; k < nf && filter_match(ct, filters[k]); k++)
			;
		if (k < nf)
			continue;
		rows[n].ct = ct;
		if (!live) {
			const Containerd__Records__V1__ContainerRecord *rec =
			    stopped_rec(&st, i - (r ? r->n_containers : 0));

			rows[n].rec = rec;
			if (rec != NULL && rec->created != NULL) {
				rows[n].known = true;
				rows[n].sec = rec->created->seconds;
				rows[n].nsec = rec->created->nanos;
			}
		}
		n++;
	}
	qsort(rows, n, sizeof(*rows), row_cmp);
	if (ctr_arg_bool(a, "quiet")) {
		for (i = 0; i < n; i++)
			printf("%s\n", rows[i].ct->id);
		rc = fflush(stdout) != 0 || ferror(stdout) ? ctr_stdout_failed() : 0;
	} else {
		rows_created(c, rows, n);
		if (json && one && n == 1) {
			rc = ctr_print_json(row_json(&rows[0]));
		} else if (json) {
			json_t *arr = json_array();

			for (i = 0; arr != NULL && i < n; i++)
				json_array_append_new(arr, row_json(&rows[i]));
			rc = ctr_print_json(arr);
		} else if (one && n == 1) {
			rc = print_one(&rows[0]);
		} else {
			rc = print_table(rows, n, all);
		}
	}
	free(rows);
	stopped_free(&st);
	if (r != NULL)
		types__state_response__free_unpacked(r, NULL);
	return rc;
}

const struct ctr_cmd cmd_containers_list = {
	.name = "list",
	.args = "[ID]",
	.summary = "list the containers, sorted by id: ID PATH STATUS PROCESSES "
	    "CREATED; with ID, that container in detail",
	.opts = list_opts,
	.max_args = 1,
	.run = list_run,
	.epilog = "CREATED is when the daemon started the container: the time of its\n"
	    "start-container event (\"created\" in JSON, null and \"?\" when the history\n"
	    "no longer holds it). Stopped containers are listed with --all (or\n"
	    "-f status=stopped): STATUS is stopped(EXIT CODE) and EXITED when the\n"
	    "container's init exited (\"exitStatus\", \"exited\" and \"note\" in JSON),\n"
	    "until `ctr containers rm`, `ctr containers prune` or the daemon's\n"
	    "retention forgets them. `ctr containers ID` shows a stopped one too.\n",
};
