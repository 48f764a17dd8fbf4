/*
 * dump: the containers as JSON, built as the daemon builds its State reply
 * (Types__StateResponse printed by statejson), so that while the daemon runs
 * `containerd-state dump` and `ctr state` print the same text.
 *
 * A process as State shows it comes from the OCI process object kept in
 * processes.spec; the row's own columns stand in for a key the object lacks.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "state.h"
#include "statejson.h"
#include "validate.h"

struct dump_opts {
	const char *id;
	bool all;
};

/* One container being dumped; everything in the bag. */
struct dump_ctr {
	Types__Container pb;
	json_t *exited;			/* --all: [{pid, exitStatus, exitedAt}] */
	json_t *checkpoints;
};

struct dump {
	struct bag bag;
	struct dump_opts *o;
	struct dump_ctr **ctrs;
	size_t n, cap;
	bool found;			/* --id matched a row (of any status) */
	char found_status[32];
};

static bool
listed(const char *status)
{
	return strcmp(status, "running") == 0 || strcmp(status, "paused") == 0;
}

static int
dump_container_cb(void *arg, const struct store_container *c)
{
	struct dump *d = arg;
	struct dump_ctr *dc;

	if (d->o->id != NULL) {
		d->found = true;
		snprintf(d->found_status, sizeof(d->found_status), "%s", c->status);
	}
	if (!d->o->all && !listed(c->status))
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct dump_ctr **nv = bag_alloc(&d->bag, cap * sizeof(*nv));

		if (d->n > 0)
			memcpy(nv, d->ctrs, d->n * sizeof(*nv));
		d->ctrs = nv;
		d->cap = cap;
	}
	dc = bag_alloc(&d->bag, sizeof(*dc));
	types__container__init(&dc->pb);
	dc->pb.id = bag_strdup(&d->bag, c->id);
	dc->pb.bundlepath = bag_strdup(&d->bag, c->bundle);
	dc->pb.status = bag_strdup(&d->bag, c->status);
	dc->pb.runtime = bag_strdup(&d->bag, c->runtime);
	d->ctrs[d->n++] = dc;
	return 0;
}

/* Grows a bag-held array of n pointers by one slot. */
static void *
grow(struct bag *b, void *v, size_t n, size_t size)
{
	void *nv = bag_alloc(b, (n + 1) * size);

	if (n > 0)
		memcpy(nv, v, n * size);
	return nv;
}

static int
dump_label_cb(void *arg, const char *cid, const char *label)
{
	void **a = arg;
	struct bag *b = a[0];
	Types__Container *pc = a[1];

	pc->labels = grow(b, pc->labels, pc->n_labels, sizeof(char *));
	pc->labels[pc->n_labels++] = bag_strdup(b, label);
	return 0;
}

/* The string array v of a JSON array's strings (others skipped). */
static size_t
strv_of(struct bag *b, json_t *arr, char ***v)
{
	size_t n = 0;

	*v = NULL;
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return 0;
	*v = bag_alloc(b, json_array_size(arr) * sizeof(char *));
	for (size_t k = 0; k < json_array_size(arr); k++) {
		const char *s = json_string_value(json_array_get(arr, k));

		if (s != NULL)
			(*v)[n++] = bag_strdup(b, s);
	}
	return n;
}

/* spec[key], or the row's column text parsed as JSON when spec lacks it
 * (the caller json_decref()s *own). */
static json_t *
spec_or_column(json_t *spec, const char *key, const char *column, json_t **own)
{
	json_t *v = json_object_get(spec, key);

	*own = NULL;
	if (v != NULL)
		return v;
	*own = json_loads(column != NULL ? column : "null", JSON_DECODE_ANY, NULL);
	return *own;
}

static const char *
stdio_path(const char *p)
{
	return p != NULL && *p != '\0' ? p : "/dev/null";
}

static Types__Process *
process_pb(struct bag *b, const struct store_process *row)
{
	Types__Process *p = bag_alloc(b, sizeof(*p));
	json_t *spec = json_loads(row->spec, 0, NULL), *v, *own, *user, *caps, *rl;

	types__process__init(p);
	if (!json_is_object(spec)) {
		json_decref(spec);
		spec = json_object();
	}
	p->pid = bag_strdup(b, row->pid);
	p->systempid = (uint32_t)row->system_pid;
	p->stdin = bag_strdup(b, stdio_path(row->stdin_path));
	p->stdout = bag_strdup(b, stdio_path(row->stdout_path));
	p->stderr = bag_strdup(b, stdio_path(row->stderr_path));

	v = json_object_get(spec, "terminal");
	p->terminal = v != NULL ? json_is_true(v) : row->terminal;
	v = json_object_get(spec, "cwd");
	p->cwd = bag_strdup(b, v != NULL ? json_string_value(v) : row->cwd);
	v = spec_or_column(spec, "args", row->args, &own);
	p->n_args = strv_of(b, v, &p->args);
	json_decref(own);
	v = spec_or_column(spec, "env", row->env, &own);
	p->n_env = strv_of(b, v, &p->env);
	json_decref(own);

	user = json_object_get(spec, "user");
	p->user = bag_alloc(b, sizeof(*p->user));
	types__user__init(p->user);
	if (json_is_object(user)) {
		json_t *gids = json_object_get(user, "additionalGids");

		p->user->uid = (uint32_t)json_integer_value(json_object_get(user, "uid"));
		p->user->gid = (uint32_t)json_integer_value(json_object_get(user, "gid"));
		if (json_array_size(gids) > 0) {
			p->user->additionalgids = bag_alloc(b, json_array_size(gids) *
			    sizeof(uint32_t));
			for (size_t k = 0; k < json_array_size(gids); k++)
				p->user->additionalgids[p->user->n_additionalgids++] =
				    (uint32_t)json_integer_value(json_array_get(gids, k));
		}
	} else if (user == NULL) {
		p->user->uid = (uint32_t)row->uid;
		p->user->gid = (uint32_t)row->gid;
	}

	/* OCI: capabilities.bounding; older specs: a plain list. */
	caps = json_object_get(spec, "capabilities");
	if (json_is_object(caps))
		caps = json_object_get(caps, "bounding");
	p->n_capabilities = strv_of(b, caps, &p->capabilities);
	p->apparmorprofile = bag_strdup(b,
	    json_string_value(json_object_get(spec, "apparmorProfile")));
	p->selinuxlabel = bag_strdup(b, json_string_value(json_object_get(spec, "selinuxLabel")));
	p->nonewprivileges = json_is_true(json_object_get(spec, "noNewPrivileges"));
	rl = json_object_get(spec, "rlimits");
	if (json_array_size(rl) > 0) {
		p->rlimits = bag_alloc(b, json_array_size(rl) * sizeof(Types__Rlimit *));
		for (size_t k = 0; k < json_array_size(rl); k++) {
			json_t *r = json_array_get(rl, k);
			Types__Rlimit *l = bag_alloc(b, sizeof(*l));

			types__rlimit__init(l);
			l->type = bag_strdup(b, json_string_value(json_object_get(r, "type")));
			l->soft = (uint64_t)json_integer_value(json_object_get(r, "soft"));
			l->hard = (uint64_t)json_integer_value(json_object_get(r, "hard"));
			p->rlimits[p->n_rlimits++] = l;
		}
	}
	json_decref(spec);
	return p;
}

static int
dump_process_cb(void *arg, const struct store_process *row)
{
	void **a = arg;
	struct bag *b = a[0];
	struct dump_ctr *dc = a[1];
	Types__Container *pc = &dc->pb;
	char when[STATE_TIME_LEN];

	if (strcmp(row->status, "running") == 0) {
		/* As State: the running processes, and their pids beside. */
		pc->processes = grow(b, pc->processes, pc->n_processes, sizeof(Types__Process *));
		pc->processes[pc->n_processes++] = process_pb(b, row);
		pc->pids = grow(b, pc->pids, pc->n_pids, sizeof(uint32_t));
		pc->pids[pc->n_pids++] = (uint32_t)row->system_pid;
	} else if (dc->exited != NULL && row->exited) {
		state_time_format(row->exited_at, when);
		json_array_append_new(dc->exited, json_pack("{s:s, s:I, s:s}", "pid", row->pid,
		    "exitStatus", (json_int_t)row->exit_status, "exitedAt", when));
	}
	return 0;
}

static int
dump_checkpoint_cb(void *arg, const struct store_checkpoint *c)
{
	json_t *arr = arg, *ns = json_loads(c->empty_ns, 0, NULL);
	char when[STATE_TIME_LEN];

	if (!json_is_array(ns)) {
		json_decref(ns);
		ns = json_array();
	}
	state_time_format(c->created_at, when);
	json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:o}",
	    "name", c->name, "path", c->path, "created", when, "exit", c->exit, "tcp", c->tcp,
	    "unixSockets", c->unix_sockets, "shell", c->shell, "emptyNamespaces", ns));
	return 0;
}

static int
dump_flag(void *arg, int opt, const char *v)
{
	struct dump_opts *o = arg;
	struct err e;

	switch (opt) {
	case 'i':
		if (validate_id("--id", v, &e) < 0)
			return state_usage_error(&state_cmd_dump, "%s", e.msg);
		o->id = v;
		break;
	case 'a':
		o->all = true;
		break;
	}
	return 0;
}

static int
dump_run(struct state_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "all", no_argument, NULL, 'a' },
		STATE_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct dump_opts o = { 0 };
	struct dump d = { .o = &o };
	Types__StateResponse resp = TYPES__STATE_RESPONSE__INIT;
	Types__Machine machine = TYPES__MACHINE__INIT;
	struct store_query *q;
	struct sysinfo si;
	struct err e = { 0 };
	json_t *out;
	int rc = 1;

	if ((rc = state_parse_flags(ctx, &state_cmd_dump, argc, argv, opts, dump_flag, &o)) != 0)
		return rc > 0 ? 0 : 1;
	rc = 1;
	if ((q = state_open(ctx)) == NULL)
		return 1;
	if (store_query_containers(q, o.id, dump_container_cb, &d, &e) < 0)
		goto fail;
	if (o.id != NULL && d.n == 0) {
		if (d.found)
			state_fail("container %s is %s: add --all to dump it", o.id, d.found_status);
		else
			state_fail("no such container: %s", o.id);
		goto out;
	}
	for (size_t k = 0; k < d.n; k++) {
		struct dump_ctr *dc = d.ctrs[k];
		void *a[2] = { &d.bag, &dc->pb };
		void *ap[2] = { &d.bag, dc };

		if (o.all) {
			dc->exited = json_array();
			dc->checkpoints = json_array();
		}
		if (store_query_labels(q, dc->pb.id, dump_label_cb, a, &e) < 0 ||
		    store_query_processes(q, dc->pb.id, dump_process_cb, ap, &e) < 0 ||
		    (o.all && store_query_checkpoints(q, dc->pb.id, dump_checkpoint_cb,
			dc->checkpoints, &e) < 0))
			goto fail;
	}
	resp.n_containers = d.n;
	resp.containers = bag_alloc(&d.bag, (d.n + 1) * sizeof(Types__Container *));
	for (size_t k = 0; k < d.n; k++)
		resp.containers[k] = &d.ctrs[k]->pb;
	/* Like the daemon: this machine, as it is now. */
	machine.cpus = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
	if (sysinfo(&si) == 0)
		machine.memory = (uint64_t)si.totalram * si.mem_unit / (1024 * 1024);
	resp.machine = &machine;
	if ((out = statejson_state(&resp)) == NULL)
		state_oom();
	if (o.all) {
		/* Extras after State's own keys; `ctr state` never has --all. */
		json_t *arr = json_object_get(out, "containers");

		for (size_t k = 0; k < d.n; k++) {
			json_t *c = json_array_get(arr, k);

			json_object_set(c, "exited", d.ctrs[k]->exited);
			json_object_set(c, "checkpoints", d.ctrs[k]->checkpoints);
		}
	}
	json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(out);
	rc = state_flush();
	goto out;
fail:
	state_fail("%s", e.msg);
out:
	for (size_t k = 0; k < d.n; k++) {
		json_decref(d.ctrs[k]->exited);
		json_decref(d.ctrs[k]->checkpoints);
	}
	bag_free(&d.bag);
	return rc;
}

const struct state_cmd state_cmd_dump = {
	.name = "dump",
	.usage = "[--id ID] [--all]",
	.summary = "print the containers as JSON, in the shape of `ctr state`",
	.options = (const struct helpdoc_flag[]){
	    { "--id ID", "only this container" },
	    { "--all",
		"every container, stopped ones too (with their status); each\n"
		"then also has \"exited\" (its exited processes: pid,\n"
		"exitStatus, exitedAt) and \"checkpoints\"" },
	    { NULL, NULL },
	},
	.help =
	    "Without --all the output is what `ctr state` prints while the daemon runs: the\n"
	    "running and paused containers, their running processes, labels, pids, runtime,\n"
	    "and this machine's cpus and memory (MiB), so the two can be diffed.\n",
	.run = dump_run,
};
