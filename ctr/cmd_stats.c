/*
 * ctr containers stats ID...: containers' resource usage as a table (CPU %,
 * memory used / limit, pids, block I/O), as docker stats prints it; --json
 * for the daemon's raw sample; --watch to refresh until interrupted.
 *
 * CPU % needs two samples: it is the cpu time the container's cgroup used
 * between them over the time between them (the samples' own timestamps),
 * so 100% is one CPU busy and 200% two. Memory used leaves out the page
 * cache the kernel can drop at once (inactive_file), as docker does; an
 * unlimited cgroup shows the machine's memory as its limit.
 */
#include "ctr.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "google/protobuf/timestamp.pb-c.h"
#include "statejson.h"
#include "validate.h"

static const struct ctr_opt stats_opts[] = {
	{ "json", 0, CTR_OPT_BOOL, NULL,
	    "print the daemon's raw sample as JSON instead of the table "
	    "(with --watch, one line per sample)" },
	{ "watch", 'w', CTR_OPT_BOOL, NULL,
	    "refresh every --interval until interrupted or the containers are gone" },
	{ "interval", 'i', CTR_OPT_STRING, "1s",
	    "time between the two samples that give CPU %, and between refreshes" },
	{ NULL, 0, 0, NULL, NULL },
};

/* One container: its previous and newest samples. */
struct target {
	const char *id;
	Types__StatsResponse *prev, *cur;
	bool gone;
};

static int
sample(struct ctr *c, const char *id, Types__StatsResponse **out, struct err *e)
{
	Types__StatsRequest req = TYPES__STATS_REQUEST__INIT;

	req.id = (char *)id;
	return ctr_call(c, "Stats", &req.base, &types__stats_response__descriptor,
	    (ProtobufCMessage **)out, e);
}

/* The sample's time in ns: its own timestamp, else its seconds. */
static double
sample_ns(const Types__StatsResponse *r)
{
	if (r->timestamp != NULL && (r->timestamp->seconds || r->timestamp->nanos))
		return (double)r->timestamp->seconds * 1e9 + r->timestamp->nanos;
	return (double)r->legacytimestamp * 1e9;
}

static uint64_t
cpu_total(const Types__StatsResponse *r)
{
	const Types__CgroupStats *cg = r->cgroup_stats;

	return cg && cg->cpu_stats && cg->cpu_stats->cpu_usage ?
	    cg->cpu_stats->cpu_usage->total_usage : 0;
}

static bool
mem_stat(const Types__MemoryStats *m, const char *key, uint64_t *v)
{
	size_t i;

	for (i = 0; i < m->n_stats; i++)
		if (strcmp(m->stats[i]->key, key) == 0) {
			*v = m->stats[i]->value;
			return true;
		}
	return false;
}

/* Block I/O read and written, in bytes, over every device. */
static void
blkio(const Types__CgroupStats *cg, uint64_t *rd, uint64_t *wr)
{
	const Types__BlkioStats *b = cg ? cg->blkio_stats : NULL;
	size_t i;

	*rd = *wr = 0;
	for (i = 0; b != NULL && i < b->n_io_service_bytes_recursive; i++) {
		const Types__BlkioStatsEntry *en = b->io_service_bytes_recursive[i];

		if (strcasecmp(en->op, "read") == 0)
			*rd += en->value;
		else if (strcasecmp(en->op, "write") == 0)
			*wr += en->value;
	}
}

static void
row(struct ctr_table *t, const struct target *tg, uint64_t machine_mem)
{
	const Types__CgroupStats *cg = tg->cur->cgroup_stats;
	const Types__MemoryStats *m = cg ? cg->memory_stats : NULL;
	uint64_t used = 0, limit = 0, inactive, rd, wr, pids = 0;
	char cpu[32], mused[32], mlimit[32], mpct[32], brd[32], bwr[32];
	double dt;

	dt = tg->prev ? sample_ns(tg->cur) - sample_ns(tg->prev) : 0;
	if (dt > 0 && cpu_total(tg->cur) >= cpu_total(tg->prev))
		snprintf(cpu, sizeof(cpu), "%.2f%%",
		    (double)(cpu_total(tg->cur) - cpu_total(tg->prev)) / dt * 100);
	else
		snprintf(cpu, sizeof(cpu), "-");
	if (m != NULL && m->usage != NULL) {
		used = m->usage->usage;
		limit = m->usage->limit;
		if ((mem_stat(m, "total_inactive_file", &inactive) ||
		    mem_stat(m, "inactive_file", &inactive)) && inactive <= used)
			used -= inactive;
	}
	/* cgroup v1 says "no limit" with a huge number, v2 with none. */
	if (machine_mem > 0 && (limit == 0 || limit > machine_mem))
		limit = machine_mem;
	ctr_bytes_binary(used, mused, sizeof(mused));
	ctr_bytes_binary(limit, mlimit, sizeof(mlimit));
	if (limit > 0)
		snprintf(mpct, sizeof(mpct), "%.2f%%", (double)used / (double)limit * 100);
	else
		snprintf(mpct, sizeof(mpct), "-");
	if (cg != NULL && cg->pids_stats != NULL)
		pids = cg->pids_stats->current;
	blkio(cg, &rd, &wr);
	ctr_bytes_decimal(rd, brd, sizeof(brd));
	ctr_bytes_decimal(wr, bwr, sizeof(bwr));
	ctr_table_addf(t, "%s\t%s\t%s / %s\t%s\t%llu\t%s / %s", tg->id, cpu,
	    mused, mlimit, mpct, (unsigned long long)pids, brd, bwr);
}

static int
print_table(struct target *tg, size_t n, uint64_t machine_mem, bool clear)
{
	struct ctr_table *t = ctr_table_new(10, 3);
	size_t i;

	if (clear)
		fputs("\033[H\033[2J", stdout);
	ctr_table_addf(t, "ID\tCPU %%\tMEM USAGE / LIMIT\tMEM %%\tPIDS\tBLOCK I/O (READ / WRITE)");
	for (i = 0; i < n; i++)
		if (!tg[i].gone)
			row(t, &tg[i], machine_mem);
	ctr_table_flush(t, stdout);
	return ferror(stdout) ? -1 : 0;
}

static int
print_json(struct target *tg, size_t n, bool watch)
{
	json_t *arr;
	size_t i;

	if (!watch) {
		if (n == 1)
			return ctr_print_json(statejson_message(&tg[0].cur->base));
		arr = json_array();
		for (i = 0; arr != NULL && i < n; i++)
			json_array_append_new(arr, statejson_message(&tg[i].cur->base));
		return ctr_print_json(arr);
	}
	/* One compact object per line: {"id": ..., "stats": {...}}. */
	for (i = 0; i < n; i++) {
		json_t *j;

		if (tg[i].gone)
			continue;
		j = json_pack("{s:s, s:o}", "id", tg[i].id, "stats",
		    statejson_message(&tg[i].cur->base));
		if (j == NULL)
			continue;
		json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(j);
	}
	return fflush(stdout) != 0 || ferror(stdout) ? ctr_stdout_failed() : 0;
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0)
		;
}

/* A new sample for each target still there. While watching, a container
 * that went away is dropped with a note; otherwise its error is ctr's. */
static int
sample_all(struct ctr *c, struct target *tg, size_t n, bool watch, size_t *left)
{
	struct err e;
	size_t i;

	*left = 0;
	for (i = 0; i < n; i++) {
		if (tg[i].gone)
			continue;
		if (tg[i].prev != NULL)
			types__stats_response__free_unpacked(tg[i].prev, NULL);
		tg[i].prev = tg[i].cur;
		tg[i].cur = NULL;
		if (sample(c, tg[i].id, &tg[i].cur, &e) < 0) {
			if (!watch || e.code != GRPC_NOT_FOUND)
				return ctr_fail(&e);
			fprintf(stderr, "ctr: %s is gone: %s\n", tg[i].id, e.msg);
			tg[i].gone = true;
			continue;
		}
		(*left)++;
	}
	return 0;
}

static uint64_t
machine_memory(struct ctr *c)
{
	Types__StateRequest req = TYPES__STATE_REQUEST__INIT;
	Types__StateResponse *r;
	uint64_t mem = 0;
	struct err e;

	req.id = "";
	if (ctr_call(c, "State", &req.base, &types__state_response__descriptor,
	    (ProtobufCMessage **)&r, &e) < 0)
		return 0;
	if (r->machine != NULL)
		mem = r->machine->memory * 1024 * 1024;	/* MiB on the wire */
	types__state_response__free_unpacked(r, NULL);
	return mem;
}

static int
stats_run(struct ctr *c, const struct ctr_args *a)
{
	const char *iv = ctr_arg_str(a, "interval");
	bool json = ctr_arg_bool(a, "json"), watch = ctr_arg_bool(a, "watch");
	bool clear = watch && !json && isatty(STDOUT_FILENO);
	size_t i, n = (size_t)a->argc, left;
	struct target *tg;
	uint64_t mem = 0;
	int64_t ns, ms;
	int rc;

	if (duration_parse(iv, &ns) < 0 || ns <= 0 || ns / 1000000 > 24 * 3600 * 1000)
		return ctr_usage_error(a, "invalid duration \"%s\" for --interval: "
		    "want e.g. 1s, 500ms", iv);
	ms = ns / 1000000 > 0 ? ns / 1000000 : 1;
	if ((tg = calloc(n, sizeof(*tg))) == NULL) {
		struct err e;

		err_set(&e, GRPC_INTERNAL, "out of memory");
		return ctr_fail(&e);
	}
	for (i = 0; i < n; i++)
		tg[i].id = a->argv[i];
	if ((rc = sample_all(c, tg, n, false, &left)) != 0)
		goto out;
	if (json) {
		rc = print_json(tg, n, watch);
	} else {
		mem = machine_memory(c);
		sleep_ms(ms);
		if ((rc = sample_all(c, tg, n, watch, &left)) == 0 && left > 0 &&
		    print_table(tg, n, mem, clear) < 0)
			rc = ctr_stdout_failed();
	}
	while (rc == 0 && watch && left > 0) {
		sleep_ms(ms);
		if ((rc = sample_all(c, tg, n, true, &left)) != 0 || left == 0)
			break;
		if (json)
			rc = print_json(tg, n, true);
		else if (print_table(tg, n, mem, clear) < 0)
			rc = ctr_stdout_failed();
	}
out:
	for (i = 0; i < n; i++) {
		if (tg[i].prev != NULL)
			types__stats_response__free_unpacked(tg[i].prev, NULL);
		if (tg[i].cur != NULL)
			types__stats_response__free_unpacked(tg[i].cur, NULL);
	}
	free(tg);
	return rc;
}

const struct ctr_cmd cmd_containers_stats = {
	.name = "stats",
	.args = "ID [ID...]",
	.summary = "print containers' resource usage: CPU %, memory, pids, block I/O",
	.opts = stats_opts,
	.min_args = 1,
	.max_args = -1,
	.run = stats_run,
};
