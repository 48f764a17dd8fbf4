/*
 * test_stats.c: daemon/stats.c against fake cgroup v1 and v2 trees with known
 * values, then one real busybox container under runc. Unit tests do not link
 * daemon objects, so the module's source is included here.
 */
#include "../../daemon/stats.c"

#include <signal.h>
#include <sys/wait.h>

#include "putfile.h"
#include "tap.h"

static char tmp[PATH_MAX];

/* A fake host: <tmp>/<name>/proc standing for /proc, <tmp>/<name>/cg for /sys/fs/cgroup. */
struct fake {
	char root[PATH_MAX], proc[PATH_MAX], cg[PATH_MAX];
};

static void pathf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
pathf(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX) {
		fprintf(stderr, "path too long\n");
		exit(2);
	}
}

static void
fake_init(struct fake *f, const char *name)
{
	pathf(f->root, "%s/%s", tmp, name);
	pathf(f->proc, "%s/proc", f->root);
	pathf(f->cg, "%s/cg", f->root);
	mkdir(f->root, 0755);
}

static uint64_t
ns(uint64_t ticks)
{
	return ticks * NSEC_PER_SEC / (uint64_t)sysconf(_SC_CLK_TCK);
}

/* A memory.stat map value, or -1 when the key is absent. */
static long long
stat_get(const Types__MemoryStats *ms, const char *key)
{
	for (size_t i = 0; i < ms->n_stats; i++)
		if (strcmp(ms->stats[i]->key, key) == 0)
			return (long long)ms->stats[i]->value;
	return -1;
}

static int
blk_is(const Types__BlkioStatsEntry *e, uint64_t major, uint64_t minor, const char *op,
    uint64_t value)
{
	return e->major == major && e->minor == minor && strcmp(e->op, op) == 0 &&
	    e->value == value;
}

/* The response survives a pack/unpack round trip (no NULL strings, sane tree). */
static void
roundtrip(const Types__StatsResponse *r, const char *what)
{
	size_t len = types__stats_response__get_packed_size(r);
	uint8_t *buf = malloc(len);
	Types__StatsResponse *u;

	types__stats_response__pack(r, buf);
	u = types__stats_response__unpack(NULL, len, buf);
	ok(u != NULL && u->cgroup_stats != NULL && u->timestamp != NULL &&
	    u->cgroup_stats->cpu_stats->cpu_usage->total_usage ==
		r->cgroup_stats->cpu_stats->cpu_usage->total_usage &&
	    u->cgroup_stats->memory_stats->n_stats == r->cgroup_stats->memory_stats->n_stats,
	    "%s: packs and unpacks", what);
	if (u != NULL)
		types__stats_response__free_unpacked(u, NULL);
	free(buf);
}

static void
test_v1(void)
{
	struct fake fk;
	const char *t = fk.root;
	Types__StatsResponse r;
	struct err e = { 0 };
	Types__CgroupStats *cg;
	Types__CpuStats *cpu;
	Types__MemoryStats *mem;
	Types__BlkioStats *b;
	struct timespec now;

	fake_init(&fk, "v1");
	put(t, "proc/4242/cgroup",
	    "12:hugetlb:/ctr\n11:pids:/ctr\n10:blkio:/ctr\n9:memory:/ctr\n"
	    "4:cpu,cpuacct:/ctr\n1:name=systemd:/ctr\n0::/\n");
	put(t, "proc/stat", "cpu  100 2 30 400 5 6 7 8 9 10\ncpu0 50 1 15 200 2 3 3 4 0 0\n");
	/* co-mounted cpu,cpuacct without per-controller symlinks */
	put(t, "cg/cpu,cpuacct/ctr/cpuacct.usage", "123456789\n");
	put(t, "cg/cpu,cpuacct/ctr/cpuacct.usage_percpu", "100 200 300 \n");
	put(t, "cg/cpu,cpuacct/ctr/cpuacct.stat", "user 150\nsystem 250\n");
	put(t, "cg/cpu,cpuacct/ctr/cpu.stat",
	    "nr_periods 10\nnr_throttled 3\nthrottled_time 4000\nnr_bursts 0\n");
	put(t, "cg/memory/ctr/memory.usage_in_bytes", "1000\n");
	put(t, "cg/memory/ctr/memory.max_usage_in_bytes", "2000\n");
	put(t, "cg/memory/ctr/memory.failcnt", "3\n");
	put(t, "cg/memory/ctr/memory.limit_in_bytes", "9223372036854771712\n");
	put(t, "cg/memory/ctr/memory.memsw.usage_in_bytes", "1100\n");
	put(t, "cg/memory/ctr/memory.memsw.max_usage_in_bytes", "2100\n");
	put(t, "cg/memory/ctr/memory.memsw.failcnt", "4\n");
	put(t, "cg/memory/ctr/memory.memsw.limit_in_bytes", "5000\n");
	put(t, "cg/memory/ctr/memory.kmem.usage_in_bytes", "10\n");
	put(t, "cg/memory/ctr/memory.kmem.max_usage_in_bytes", "20\n");
	put(t, "cg/memory/ctr/memory.kmem.failcnt", "0\n");
	put(t, "cg/memory/ctr/memory.kmem.limit_in_bytes", "30\n");
	put(t, "cg/memory/ctr/memory.stat", "cache 4096\nrss 8192\ntotal_cache 4096\n");
	put(t, "cg/blkio/ctr/blkio.io_service_bytes_recursive",
	    "8:0 Read 512\n8:0 Write 1024\n8:0 Sync 1536\n8:0 Async 0\n8:0 Total 1536\n"
	    "8:16 Read 7\nTotal 1543\n");
	put(t, "cg/blkio/ctr/blkio.io_serviced_recursive", "8:0 Read 2\n8:0 Total 2\nTotal 2\n");
	put(t, "cg/blkio/ctr/blkio.io_queued_recursive", "8:0 Read 3\n");
	put(t, "cg/blkio/ctr/blkio.io_service_time_recursive", "8:0 Read 4\n");
	put(t, "cg/blkio/ctr/blkio.io_wait_time_recursive", "8:0 Write 5\n");
	put(t, "cg/blkio/ctr/blkio.io_merged_recursive", "8:0 Async 6\n");
	put(t, "cg/blkio/ctr/blkio.time_recursive", "8:0 17\n");
	put(t, "cg/blkio/ctr/blkio.sectors_recursive", "8:0 42\n");
	/* CFQ comes first in runc's order, so the throttle counters are not read */
	put(t, "cg/blkio/ctr/blkio.throttle.io_service_bytes_recursive", "8:0 Read 999\n");
	put(t, "cg/hugetlb/ctr/hugetlb.2MB.usage_in_bytes", "2097152\n");
	put(t, "cg/hugetlb/ctr/hugetlb.2MB.max_usage_in_bytes", "4194304\n");
	put(t, "cg/hugetlb/ctr/hugetlb.2MB.failcnt", "1\n");
	put(t, "cg/hugetlb/ctr/hugetlb.2MB.limit_in_bytes", "8388608\n");
	put(t, "cg/hugetlb/ctr/hugetlb.2MB.rsvd.usage_in_bytes", "77\n");
	put(t, "cg/hugetlb/ctr/hugetlb.1GB.usage_in_bytes", "0\n");
	put(t, "cg/hugetlb/ctr/hugetlb.1GB.limit_in_bytes", "1073741824\n");
	put(t, "cg/pids/ctr/pids.current", "5\n");
	put(t, "cg/pids/ctr/pids.max", "max\n");

	is_int(stats_collect_at(fk.proc, 4242, fk.cg, &r, &e), 0, "v1: collects");
	cg = r.cgroup_stats;
	if (cg == NULL) {
		ok(0, "v1: cgroup_stats present");
		return;
	}
	cpu = cg->cpu_stats;
	is_int(cpu->cpu_usage->total_usage, 123456789, "v1: total_usage from cpuacct.usage");
	is_int(cpu->cpu_usage->n_percpu_usage, 3, "v1: three cpus in usage_percpu");
	ok(cpu->cpu_usage->n_percpu_usage == 3 && cpu->cpu_usage->percpu_usage[0] == 100 &&
	    cpu->cpu_usage->percpu_usage[1] == 200 && cpu->cpu_usage->percpu_usage[2] == 300,
	    "v1: percpu 100 200 300");
	is_int(cpu->cpu_usage->usage_in_usermode, ns(150), "v1: user ticks in ns");
	is_int(cpu->cpu_usage->usage_in_kernelmode, ns(250), "v1: system ticks in ns");
	is_int(cpu->throttling_data->periods, 10, "v1: nr_periods");
	is_int(cpu->throttling_data->throttled_periods, 3, "v1: nr_throttled");
	is_int(cpu->throttling_data->throttled_time, 4000, "v1: throttled_time");
	is_int(cpu->system_usage, ns(100 + 2 + 30 + 400 + 5 + 6 + 7),
	    "v1: system_usage sums user..softirq of /proc/stat");

	mem = cg->memory_stats;
	is_int(mem->usage->usage, 1000, "v1: memory usage");
	is_int(mem->usage->max_usage, 2000, "v1: memory max_usage");
	is_int(mem->usage->failcnt, 3, "v1: memory failcnt");
	is_int(mem->usage->limit, 9223372036854771712LL, "v1: memory limit as the kernel says");
	ok(mem->swap_usage->usage == 1100 && mem->swap_usage->max_usage == 2100 &&
	    mem->swap_usage->failcnt == 4 && mem->swap_usage->limit == 5000,
	    "v1: swap_usage from memory.memsw.*");
	ok(mem->kernel_usage->usage == 10 && mem->kernel_usage->max_usage == 20 &&
	    mem->kernel_usage->failcnt == 0 && mem->kernel_usage->limit == 30,
	    "v1: kernel_usage from memory.kmem.*");
	is_int(mem->cache, 4096, "v1: cache");
	is_int(mem->n_stats, 3, "v1: the whole memory.stat in the map");
	is_int(stat_get(mem, "rss"), 8192, "v1: stats[rss]");
	is_int(stat_get(mem, "total_cache"), 4096, "v1: stats[total_cache]");

	b = cg->blkio_stats;
	is_int(b->n_io_service_bytes_recursive, 6, "v1: service bytes keeps per-device Total, not the summary");
	ok(b->n_io_service_bytes_recursive == 6 &&
	    blk_is(b->io_service_bytes_recursive[0], 8, 0, "Read", 512) &&
	    blk_is(b->io_service_bytes_recursive[1], 8, 0, "Write", 1024) &&
	    blk_is(b->io_service_bytes_recursive[4], 8, 0, "Total", 1536) &&
	    blk_is(b->io_service_bytes_recursive[5], 8, 16, "Read", 7),
	    "v1: service bytes entries");
	ok(b->n_io_serviced_recursive == 2 && blk_is(b->io_serviced_recursive[0], 8, 0, "Read", 2) &&
	    blk_is(b->io_serviced_recursive[1], 8, 0, "Total", 2), "v1: serviced");
	ok(b->n_io_queued_recursive == 1 && blk_is(b->io_queued_recursive[0], 8, 0, "Read", 3),
	    "v1: queued");
	ok(b->n_io_service_time_recursive == 1 &&
	    blk_is(b->io_service_time_recursive[0], 8, 0, "Read", 4), "v1: service time");
	ok(b->n_io_wait_time_recursive == 1 &&
	    blk_is(b->io_wait_time_recursive[0], 8, 0, "Write", 5), "v1: wait time");
	ok(b->n_io_merged_recursive == 1 && blk_is(b->io_merged_recursive[0], 8, 0, "Async", 6),
	    "v1: merged");
	ok(b->n_io_time_recursive == 1 && blk_is(b->io_time_recursive[0], 8, 0, "", 17),
	    "v1: time (no op)");
	ok(b->n_sectors_recursive == 1 && blk_is(b->sectors_recursive[0], 8, 0, "", 42),
	    "v1: sectors (no op)");

	is_int(cg->n_hugetlb_stats, 2, "v1: two page sizes, rsvd files left out");
	if (cg->n_hugetlb_stats == 2) {
		Types__HugetlbStats *h1 = cg->hugetlb_stats[0]->value, *h2 = cg->hugetlb_stats[1]->value;

		is_str(cg->hugetlb_stats[0]->key, "1GB", "v1: hugetlb keys sorted, 1GB first");
		is_str(cg->hugetlb_stats[1]->key, "2MB", "v1: then 2MB");
		ok(h1->usage == 0 && h1->max_usage == 0 && h1->failcnt == 0 && h1->limit == 1073741824,
		    "v1: 1GB: missing files read as zero");
		ok(h2->usage == 2097152 && h2->max_usage == 4194304 && h2->failcnt == 1 &&
		    h2->limit == 8388608, "v1: 2MB usage, max_usage, failcnt, limit");
	}
	is_int(cg->pids_stats->current, 5, "v1: pids current");
	is_int(cg->pids_stats->limit, 0, "v1: pids.max \"max\" is 0");

	clock_gettime(CLOCK_REALTIME, &now);
	ok(r.legacytimestamp > 0 && (int64_t)r.legacytimestamp <= now.tv_sec &&
	    now.tv_sec - (int64_t)r.legacytimestamp < 5, "v1: legacyTimestamp is now");
	ok(r.timestamp != NULL && r.timestamp->seconds == (int64_t)r.legacytimestamp &&
	    r.timestamp->nanos >= 0 && r.timestamp->nanos < 1000000000, "v1: timestamp is now");
	is_int(r.n_network_stats, 0, "v1: no network stats");
	roundtrip(&r, "v1");
	stats_free(&r);
	ok(r.cgroup_stats == NULL && r.timestamp == NULL, "stats_free empties the response");
	stats_free(&r);
	ok(1, "stats_free twice is harmless");
}

/* Separate cpu and cpuacct mounts, throttle-only blkio, a numeric pids limit. */
static void
test_v1_fallbacks(void)
{
	struct fake fk;
	const char *t = fk.root;
	Types__StatsResponse r;
	struct err e = { 0 };
	Types__BlkioStats *b;

	fake_init(&fk, "v1b");
	put(t, "proc/7/cgroup", "5:pids:/a/b\n3:blkio:/a/b\n2:cpuacct:/a/b\n1:cpu:/a/b\n");
	put(t, "cg/cpuacct/a/b/cpuacct.usage", "77\n");
	put(t, "cg/cpu/a/b/cpu.stat", "nr_periods 1\nnr_throttled 1\nthrottled_time 9\n");
	put(t, "cg/blkio/a/b/blkio.bfq.io_serviced_recursive", "Total 0\n");
	put(t, "cg/blkio/a/b/blkio.throttle.io_service_bytes_recursive",
	    "8:0 Read 4096\n8:0 Write 0\n8:0 Total 4096\nTotal 4096\n");
	put(t, "cg/blkio/a/b/blkio.throttle.io_serviced_recursive", "8:0 Read 1\nTotal 1\n");
	put(t, "cg/blkio/a/b/blkio.throttle.io_serviced", "8:0 Read 1000\n");
	put(t, "cg/pids/a/b/pids.current", "2\n");
	put(t, "cg/pids/a/b/pids.max", "100\n");

	is_int(stats_collect_at(fk.proc, 7, fk.cg, &r, &e), 0, "v1 fallbacks: collects");
	is_int(r.cgroup_stats->cpu_stats->cpu_usage->total_usage, 77, "v1: separate cpuacct mount");
	is_int(r.cgroup_stats->cpu_stats->throttling_data->throttled_time, 9, "v1: separate cpu mount");
	is_int(r.cgroup_stats->cpu_stats->system_usage, 0, "no /proc/stat: system_usage 0");
	b = r.cgroup_stats->blkio_stats;
	ok(b->n_io_service_bytes_recursive == 3 &&
	    blk_is(b->io_service_bytes_recursive[0], 8, 0, "Read", 4096) &&
	    blk_is(b->io_service_bytes_recursive[2], 8, 0, "Total", 4096),
	    "v1: empty BFQ counters fall back to the throttle recursive ones");
	ok(b->n_io_serviced_recursive == 1 && blk_is(b->io_serviced_recursive[0], 8, 0, "Read", 1),
	    "v1: ... for serviced too, not the non-recursive file");
	ok(b->n_io_queued_recursive == 0 && b->n_sectors_recursive == 0,
	    "v1: the throttle layer has no queue or sector counts");
	is_int(r.cgroup_stats->pids_stats->limit, 100, "v1: numeric pids.max");
	ok(r.cgroup_stats->memory_stats->usage->usage == 0 && r.cgroup_stats->memory_stats->n_stats == 0,
	    "v1: no memory controller: memory zero");
	is_int(r.cgroup_stats->n_hugetlb_stats, 0, "v1: no hugetlb controller: no entries");
	roundtrip(&r, "v1 fallbacks");
	stats_free(&r);
}

static void
test_v2(void)
{
	struct fake fk;
	const char *t = fk.root;
	Types__StatsResponse r;
	struct err e = { 0 };
	Types__CgroupStats *cg;
	Types__MemoryStats *mem;
	Types__BlkioStats *b;

	fake_init(&fk, "v2");
	put(t, "proc/77/cgroup", "0::/sys/ctr\n");
	put(t, "proc/stat", "cpu  1 1 1 1 1 1 1 1\n");
	put(t, "cg/cgroup.controllers", "cpu io memory hugetlb pids\n");
	put(t, "cg/sys/ctr/cpu.stat",
	    "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 7\nnr_throttled 2\n"
	    "throttled_usec 30\n");
	put(t, "cg/sys/ctr/memory.current", "4096\n");
	put(t, "cg/sys/ctr/memory.max", "max\n");
	put(t, "cg/sys/ctr/memory.peak", "8192\n");
	put(t, "cg/sys/ctr/memory.events", "low 0\nhigh 0\nmax 6\noom 0\noom_kill 0\n");
	put(t, "cg/sys/ctr/memory.swap.current", "100\n");
	put(t, "cg/sys/ctr/memory.swap.max", "max\n");
	put(t, "cg/sys/ctr/memory.stat", "anon 1000\nfile 3000\nkernel 50\n");
	put(t, "cg/sys/ctr/io.stat",
	    "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n"
	    "253:1 rbytes=5 wbytes=6 rios=7 wios=8 dbytes=9 dios=10\n");
	put(t, "cg/sys/ctr/pids.current", "3\n");
	put(t, "cg/sys/ctr/pids.max", "64\n");
	put(t, "cg/sys/ctr/hugetlb.2MB.current", "2097152\n");
	put(t, "cg/sys/ctr/hugetlb.2MB.max", "max\n");
	put(t, "cg/sys/ctr/hugetlb.2MB.events", "max 2\n");
	put(t, "cg/sys/ctr/hugetlb.2MB.rsvd.current", "0\n");

	is_int(stats_collect_at(fk.proc, 77, fk.cg, &r, &e), 0, "v2: collects");
	cg = r.cgroup_stats;
	is_int(cg->cpu_stats->cpu_usage->total_usage, 1500000, "v2: usage_usec in ns");
	is_int(cg->cpu_stats->cpu_usage->usage_in_usermode, 1000000, "v2: user_usec in ns");
	is_int(cg->cpu_stats->cpu_usage->usage_in_kernelmode, 500000, "v2: system_usec in ns");
	is_int(cg->cpu_stats->cpu_usage->n_percpu_usage, 0, "v2: no per-cpu usage");
	is_int(cg->cpu_stats->throttling_data->periods, 7, "v2: nr_periods");
	is_int(cg->cpu_stats->throttling_data->throttled_periods, 2, "v2: nr_throttled");
	is_int(cg->cpu_stats->throttling_data->throttled_time, 30000, "v2: throttled_usec in ns");
	is_int(cg->cpu_stats->system_usage, ns(7), "v2: system_usage");

	mem = cg->memory_stats;
	is_int(mem->usage->usage, 4096, "v2: memory.current");
	is_int(mem->usage->max_usage, 8192, "v2: memory.peak");
	ok(mem->usage->limit == UINT64_MAX, "v2: memory.max \"max\" is the largest uint64");
	is_int(mem->usage->failcnt, 6, "v2: failcnt from memory.events max");
	is_int(mem->swap_usage->usage, 4196, "v2: swap usage counts memory too, like memsw");
	ok(mem->swap_usage->limit == UINT64_MAX, "v2: unlimited swap stays unlimited");
	ok(mem->kernel_usage->usage == 0 && mem->kernel_usage->limit == 0, "v2: no kmem data");
	is_int(mem->cache, 3000, "v2: cache is stats[file]");
	is_int(mem->n_stats, 3, "v2: the whole memory.stat");
	is_int(stat_get(mem, "anon"), 1000, "v2: stats[anon]");
	is_int(stat_get(mem, "kernel"), 50, "v2: stats[kernel]");

	b = cg->blkio_stats;
	ok(b->n_io_service_bytes_recursive == 4 &&
	    blk_is(b->io_service_bytes_recursive[0], 8, 0, "Read", 10) &&
	    blk_is(b->io_service_bytes_recursive[1], 8, 0, "Write", 20) &&
	    blk_is(b->io_service_bytes_recursive[2], 253, 1, "Read", 5) &&
	    blk_is(b->io_service_bytes_recursive[3], 253, 1, "Write", 6),
	    "v2: rbytes/wbytes as service bytes Read/Write");
	ok(b->n_io_serviced_recursive == 4 && blk_is(b->io_serviced_recursive[0], 8, 0, "Read", 1) &&
	    blk_is(b->io_serviced_recursive[3], 253, 1, "Write", 8),
	    "v2: rios/wios as serviced Read/Write");
	ok(b->n_io_queued_recursive == 0 && b->n_io_time_recursive == 0 && b->n_sectors_recursive == 0,
	    "v2: nothing else in blkio");

	is_int(cg->n_hugetlb_stats, 1, "v2: one page size, rsvd left out");
	if (cg->n_hugetlb_stats == 1) {
		Types__HugetlbStats *h = cg->hugetlb_stats[0]->value;

		is_str(cg->hugetlb_stats[0]->key, "2MB", "v2: hugetlb key");
		ok(h->usage == 2097152 && h->failcnt == 2 && h->max_usage == 0 && h->limit == UINT64_MAX,
		    "v2: hugetlb current, events max, max");
	}
	is_int(cg->pids_stats->current, 3, "v2: pids.current");
	is_int(cg->pids_stats->limit, 64, "v2: pids.max");
	roundtrip(&r, "v2");
	stats_free(&r);
}

/* Hybrid: v2 mounted at <root>/unified, no v1 controller for the process. */
static void
test_v2_hybrid(void)
{
	struct fake fk;
	const char *t = fk.root;
	Types__StatsResponse r;
	struct err e = { 0 };

	fake_init(&fk, "v2h");
	put(t, "proc/8/cgroup", "1:name=systemd:/c\n0::/c\n");
	put(t, "cg/unified/c/memory.current", "10\n");
	put(t, "cg/unified/c/memory.max", "100\n");
	put(t, "cg/unified/c/memory.swap.current", "5\n");
	put(t, "cg/unified/c/memory.swap.max", "50\n");
	put(t, "cg/unified/c/pids.current", "1\n");
	put(t, "cg/unified/c/pids.max", "max\n");

	is_int(stats_collect_at(fk.proc, 8, fk.cg, &r, &e), 0, "hybrid v2: collects");
	is_int(r.cgroup_stats->memory_stats->usage->limit, 100, "hybrid v2: reads <root>/unified");
	is_int(r.cgroup_stats->memory_stats->swap_usage->usage, 15, "hybrid v2: swap usage mem+swap");
	is_int(r.cgroup_stats->memory_stats->swap_usage->limit, 150, "hybrid v2: swap limit mem+swap");
	is_int(r.cgroup_stats->memory_stats->usage->failcnt, 0, "hybrid v2: no memory.events: 0");
	is_int(r.cgroup_stats->memory_stats->cache, 0, "hybrid v2: no memory.stat: cache 0");
	is_int(r.cgroup_stats->cpu_stats->cpu_usage->total_usage, 0, "hybrid v2: no cpu.stat: 0");
	is_int(r.cgroup_stats->pids_stats->limit, 0, "hybrid v2: pids.max \"max\" is 0");
	is_int(r.cgroup_stats->blkio_stats->n_io_service_bytes_recursive, 0, "hybrid v2: no io.stat");
	stats_free(&r);
}

static void
test_missing(void)
{
	struct fake fk;
	const char *t = fk.root;
	Types__StatsResponse r;
	struct err e = { 0 };

	fake_init(&fk, "none");
	put(t, "proc/9/cgroup", "4:memory:/gone\n3:pids:/gone\n2:cpu,cpuacct:/gone\n");

	is_int(stats_collect_at(fk.proc, 9, fk.cg, &r, &e), 0, "cgroup dirs missing: still collects");
	ok(r.cgroup_stats != NULL && r.cgroup_stats->cpu_stats->cpu_usage->total_usage == 0 &&
	    r.cgroup_stats->memory_stats->usage->usage == 0 && r.cgroup_stats->pids_stats->current == 0,
	    "cgroup dirs missing: all zero");
	ok(r.timestamp != NULL && r.legacytimestamp > 0, "cgroup dirs missing: timestamps set");
	roundtrip(&r, "missing");
	stats_free(&r);

	e.code = 0;
	is_int(stats_collect_at(fk.proc, 10, fk.cg, &r, &e), -1, "no /proc entry: fails");
	is_int(e.code, GRPC_NOT_FOUND, "no /proc entry: NOT_FOUND");
	ok(r.cgroup_stats == NULL && r.timestamp == NULL, "on failure the response is empty");
	is_int(stats_collect_at(fk.proc, 0, fk.cg, &r, &e), -1, "pid 0: fails");
	is_int(e.code, GRPC_INVALID_ARGUMENT, "pid 0: INVALID_ARGUMENT");
}

static void
test_gone_pid(void)
{
	Types__StatsResponse r;
	struct err e = { 0 };
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	is_int(stats_collect(pid, "/sys/fs/cgroup", &r, &e), -1, "reaped pid: fails");
	is_int(e.code, GRPC_NOT_FOUND, "reaped pid: NOT_FOUND");
	ok(strstr(e.msg, "gone") != NULL, "reaped pid: says the process is gone (%s)", e.msg);
}

static int
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(stdout);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void
test_real_container(void)
{
	char id[64], pidfile[PATH_MAX];
	Types__StatsResponse r;
	struct err e = { 0 };
	FILE *f;
	int pid = 0;

	if (sh("command -v runc >/dev/null && command -v jq >/dev/null && test -x /bin/busybox") != 0) {
		skip("runc, jq or /bin/busybox missing");
		return;
	}
	if (geteuid() != 0) {
		skip("not root: runc cannot create cgroups");
		return;
	}
	snprintf(id, sizeof(id), "test-stats-%d", (int)getpid());
	pathf(pidfile, "%s/pid", tmp);
	if (sh("set -e; cd %s; mkdir -p B/rootfs/bin; cp /bin/busybox B/rootfs/bin/;"
	       "ln -s busybox B/rootfs/bin/sleep; cd B; runc spec;"
	       "jq '.process.terminal=false|.process.args=[\"sleep\",\"30\"]' config.json > c.json;"
	       "mv c.json config.json", tmp) != 0) {
		ok(0, "real: bundle made");
		return;
	}
	if (sh("runc --root %s/runc run -d --bundle %s/B --pid-file %s %s </dev/null >/dev/null "
	       "2>%s/runc.err || { sed 's/^/# /' %s/runc.err; exit 1; }",
	       tmp, tmp, pidfile, id, tmp, tmp) != 0) {
		ok(0, "real: runc run -d started the container");
		return;
	}
	if ((f = fopen(pidfile, "r")) != NULL) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	ok(pid > 0, "real: container init pid %d", pid);
	if (pid > 0 && stats_collect(pid, "/sys/fs/cgroup", &r, &e) == 0) {
		Types__CgroupStats *cg = r.cgroup_stats;

		ok(1, "real: stats collected");
		ok(cg->memory_stats->usage->usage > 0, "real: memory usage %llu > 0",
		    (unsigned long long)cg->memory_stats->usage->usage);
		ok(cg->cpu_stats->cpu_usage->total_usage > 0, "real: cpu total_usage %llu > 0",
		    (unsigned long long)cg->cpu_stats->cpu_usage->total_usage);
		ok(cg->pids_stats->current >= 1, "real: pids current %llu >= 1",
		    (unsigned long long)cg->pids_stats->current);
		ok(cg->cpu_stats->system_usage > 0, "real: system_usage > 0");
		ok(cg->memory_stats->n_stats > 0, "real: memory.stat map has %zu entries",
		    cg->memory_stats->n_stats);
		roundtrip(&r, "real");
		stats_free(&r);
	} else {
		ok(0, "real: stats collected: %s", e.msg);
	}
	sh("runc --root %s/runc delete -f %s >/dev/null 2>&1", tmp, id);
}

int
main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/test_stats.XXXXXX");
	if (mkdtemp(tmp) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_v1();
	test_v1_fallbacks();
	test_v2();
	test_v2_hybrid();
	test_missing();
	test_gone_pid();
	test_real_container();
	sh("rm -rf %s", tmp);
	return done_testing();
}
