/*
 * stats: reads one sample of a process's cgroup files into a StatsResponse.
 *
 * Meanings follow runc's `events --stats` (libcontainer/cgroups fs and fs2):
 * v1 nanoseconds and bytes as the kernel gives them, cpuacct.stat ticks turned
 * into ns, v2 microseconds into ns, v2 swap reported as memory+swap like v1's
 * memsw. Nothing here fails because a controller or a file is missing: the
 * fields stay zero. Only a gone process and an allocation failure are errors.
 *
 * Every message and string is malloc'd one by one (strings never point at
 * protobuf_c_empty_string), so protobuf_c_message_free_unpacked releases a
 * whole sub-tree.
 */
#include "stats.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "google/protobuf/timestamp.pb-c.h"

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_USEC 1000ULL
#define TEXT_MAX (4 << 20)	/* no cgroup file we read comes near this */

/* Where one process's cgroups are; NULL where it has none. */
struct cgpaths {
	int v2;			/* no v1 controller: read `unified` */
	char *cpu, *cpuacct, *memory, *blkio, *hugetlb, *pids;
	char *unified;
};

/* One collection in progress. Allocation failures only set nomem, so the
 * fillers stay straight-line; stats_collect_at checks it once at the end. */
struct collect {
	const char *proc_root;
	struct cgpaths p;
	int nomem;
};

/* ---- allocation ---- */

static void *
msg_new(struct collect *c, const ProtobufCMessageDescriptor *d)
{
	void *m = malloc(d->sizeof_message);

	if (m == NULL) {
		c->nomem = 1;
		return NULL;
	}
	protobuf_c_message_init(d, m);
	return m;
}

static void *
array_new(struct collect *c, size_t n, size_t size)
{
	void *a = calloc(n ? n : 1, size);

	if (a == NULL)
		c->nomem = 1;
	return a;
}

static char *
str_dup(struct collect *c, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		c->nomem = 1;
	return d;
}

/* ---- reading and parsing ---- */

/* The whole of path as a malloc'd NUL-terminated string, or NULL with errno. */
static char *
read_text(const char *path)
{
	size_t cap = 4096, len = 0;
	char *buf = NULL, *nbuf;
	ssize_t r;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		if (buf == NULL || len + 1 >= cap) {
			if (buf != NULL)
				cap *= 2;
			if (cap > TEXT_MAX || (nbuf = realloc(buf, cap)) == NULL) {
				errno = cap > TEXT_MAX ? EFBIG : ENOMEM;
				goto fail;
			}
			buf = nbuf;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return NULL;
}

/* dir/name read whole; NULL (quietly) when dir is NULL or the file unreadable. */
static char *
slurp(struct collect *c, const char *dir, const char *name)
{
	char path[PATH_MAX];
	char *text;

	if (dir == NULL)
		return NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return NULL;
	text = read_text(path);
	if (text == NULL && errno == ENOMEM)
		c->nomem = 1;
	return text;
}

/* Unsigned decimal up to `end` (or the first blank), nothing else; 0 or -1. */
static int
parse_u64(const char *s, uint64_t *v)
{
	unsigned long long x;
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0')
		return -1;
	*v = x;
	return 0;
}

/* A single-value file: its number, UINT64_MAX for "max", 0 if missing or bad. */
static uint64_t
file_u64(struct collect *c, const char *dir, const char *name)
{
	char *text = slurp(c, dir, name);
	uint64_t v = 0;

	if (text == NULL)
		return 0;
	if (strncmp(text, "max", 3) == 0 && (text[3] == '\0' || isspace((unsigned char)text[3])))
		v = UINT64_MAX;
	else if (parse_u64(text, &v) < 0)
		v = 0;
	free(text);
	return v;
}

/* Value of "key value" in a flat keyed file's text; 0 if absent or bad. */
static uint64_t
keyed(const char *text, const char *key)
{
	size_t kl = strlen(key);
	const char *l = text;

	while (l != NULL && *l != '\0') {
		const char *nl = strchr(l, '\n');

		if (strncmp(l, key, kl) == 0 && (l[kl] == ' ' || l[kl] == '\t')) {
			char num[32];
			size_t n = nl ? (size_t)(nl - l) - kl : strlen(l + kl);
			uint64_t v;

			if (n >= sizeof(num))
				return 0;
			memcpy(num, l + kl, n);
			num[n] = '\0';
			return parse_u64(num, &v) == 0 ? v : 0;
		}
		l = nl ? nl + 1 : NULL;
	}
	return 0;
}

static size_t
count_lines(const char *text)
{
	size_t n = 1;

	for (; *text != '\0'; text++)
		if (*text == '\n')
			n++;
	return n;
}

/* Cuts the next line out of *cur in place; NULL at the end. */
static char *
next_line(char **cur)
{
	char *s = *cur, *nl;

	if (s == NULL || *s == '\0')
		return NULL;
	nl = strchr(s, '\n');
	if (nl != NULL) {
		*nl = '\0';
		*cur = nl + 1;
	} else {
		*cur = s + strlen(s);
	}
	return s;
}

/* Splits line in place at any of seps; the number of fields (may exceed max). */
static int
split(char *line, const char *seps, char **f, int max)
{
	char *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(line, seps, &save); tok != NULL; tok = strtok_r(NULL, seps, &save)) {
		if (n < max)
			f[n] = tok;
		n++;
	}
	return n;
}

static uint64_t
ticks_to_ns(uint64_t ticks)
{
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t h = hz > 0 ? (uint64_t)hz : 100;

	/* split so that large tick counts do not overflow */
	return ticks / h * NSEC_PER_SEC + ticks % h * NSEC_PER_SEC / h;
}

/* ---- where the cgroups are ---- */

static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * A co-mounted v1 hierarchy is mounted as e.g. "cpu,cpuacct", usually with a
 * symlink per controller; try the controller's own name first, then the list.
 */
static char *
v1_dir(struct collect *c, const char *root, const char *ctrl, const char *list, const char *path)
{
	char buf[PATH_MAX];

	if ((size_t)snprintf(buf, sizeof(buf), "%s/%s%s", root, ctrl, path) < sizeof(buf) &&
	    is_dir(buf))
		return str_dup(c, buf);
	if (strcmp(ctrl, list) != 0 &&
	    (size_t)snprintf(buf, sizeof(buf), "%s/%s%s", root, list, path) < sizeof(buf) &&
	    is_dir(buf))
		return str_dup(c, buf);
	return NULL;
}

/* Fills c->p from the text of /proc/<pid>/cgroup ("id:controllers:path" lines). */
static void
cgpaths_parse(struct collect *c, char *text, const char *root)
{
	static const char *names[] = { "cpu", "cpuacct", "memory", "blkio", "hugetlb", "pids" };
	char **slots[] = { &c->p.cpu, &c->p.cpuacct, &c->p.memory, &c->p.blkio, &c->p.hugetlb,
		&c->p.pids };
	const char *unified = NULL;
	char *cur = text, *line;
	int have_v1 = 0;

	while ((line = next_line(&cur)) != NULL) {
		char *list, *path, *save = NULL, *ctrl, *copy;

		if ((list = strchr(line, ':')) == NULL || (path = strchr(list + 1, ':')) == NULL)
			continue;
		*path++ = '\0';
		list++;
		if (*path != '/')
			continue;
		if (*list == '\0') {
			unified = path;
			continue;
		}
		if ((copy = str_dup(c, list)) == NULL)
			return;
		for (ctrl = strtok_r(copy, ",", &save); ctrl != NULL; ctrl = strtok_r(NULL, ",", &save)) {
			if (strncmp(ctrl, "name=", 5) == 0)
				continue;	/* a named hierarchy such as systemd's holds no stats */
			have_v1 = 1;
			for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
				if (strcmp(ctrl, names[i]) == 0 && *slots[i] == NULL)
					*slots[i] = v1_dir(c, root, ctrl, list, path);
		}
		free(copy);
	}
	if (!have_v1 && unified != NULL) {
		char probe[PATH_MAX], buf[PATH_MAX];
		int pure, n;

		/* pure v2 mounts cgroup2 at the root; hybrid hosts at <root>/unified */
		snprintf(probe, sizeof(probe), "%s/cgroup.controllers", root);
		pure = access(probe, F_OK) == 0;
		n = snprintf(buf, sizeof(buf), "%s%s%s", root, pure ? "" : "/unified", unified);
		c->p.v2 = 1;
		if ((size_t)n < sizeof(buf))
			c->p.unified = str_dup(c, buf);
	}
}

static void
cgpaths_free(struct cgpaths *p)
{
	free(p->cpu);
	free(p->cpuacct);
	free(p->memory);
	free(p->blkio);
	free(p->hugetlb);
	free(p->pids);
	free(p->unified);
}

/* ---- cpu ---- */

/* The host's total cpu time in ns: user..softirq of /proc/stat's "cpu" line,
 * the seven fields docker and containerd 0.2 summed (steal and guest left out). */
static uint64_t
system_usage(struct collect *c)
{
	char *text = slurp(c, c->proc_root, "stat"), *cur = text, *line;
	uint64_t sum = 0;

	while ((line = next_line(&cur)) != NULL) {
		char *f[8];
		uint64_t v;

		if (strncmp(line, "cpu ", 4) != 0)
			continue;
		if (split(line, " \t", f, 8) >= 8) {
			for (int i = 1; i < 8; i++)
				if (parse_u64(f[i], &v) == 0)
					sum += v;
			sum = ticks_to_ns(sum);
		}
		break;
	}
	free(text);
	return sum;
}

static void
percpu_parse(struct collect *c, char *text, Types__CpuUsage *u)
{
	char *save = NULL, *tok;
	size_t cap = 0;

	for (const char *s = text; *s != '\0'; s++)
		if (!isspace((unsigned char)*s) && (s == text || isspace((unsigned char)s[-1])))
			cap++;
	if (cap == 0 || (u->percpu_usage = array_new(c, cap, sizeof(uint64_t))) == NULL)
		return;
	for (tok = strtok_r(text, " \t\n", &save); tok != NULL && u->n_percpu_usage < cap;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		uint64_t v;

		if (parse_u64(tok, &v) < 0)
			break;
		u->percpu_usage[u->n_percpu_usage++] = v;
	}
}

static void
cpu_v1(struct collect *c, Types__CpuStats *cs)
{
	char *text;

	cs->cpu_usage->total_usage = file_u64(c, c->p.cpuacct, "cpuacct.usage");
	if ((text = slurp(c, c->p.cpuacct, "cpuacct.usage_percpu")) != NULL) {
		percpu_parse(c, text, cs->cpu_usage);
		free(text);
	}
	if ((text = slurp(c, c->p.cpuacct, "cpuacct.stat")) != NULL) {
		cs->cpu_usage->usage_in_usermode = ticks_to_ns(keyed(text, "user"));
		cs->cpu_usage->usage_in_kernelmode = ticks_to_ns(keyed(text, "system"));
		free(text);
	}
	if ((text = slurp(c, c->p.cpu, "cpu.stat")) != NULL) {
		cs->throttling_data->periods = keyed(text, "nr_periods");
		cs->throttling_data->throttled_periods = keyed(text, "nr_throttled");
		cs->throttling_data->throttled_time = keyed(text, "throttled_time");
		free(text);
	}
}

static void
cpu_v2(struct collect *c, Types__CpuStats *cs)
{
	char *text = slurp(c, c->p.unified, "cpu.stat");

	if (text == NULL)
		return;
	cs->cpu_usage->total_usage = keyed(text, "usage_usec") * NSEC_PER_USEC;
	cs->cpu_usage->usage_in_usermode = keyed(text, "user_usec") * NSEC_PER_USEC;
	cs->cpu_usage->usage_in_kernelmode = keyed(text, "system_usec") * NSEC_PER_USEC;
	cs->throttling_data->periods = keyed(text, "nr_periods");
	cs->throttling_data->throttled_periods = keyed(text, "nr_throttled");
	cs->throttling_data->throttled_time = keyed(text, "throttled_usec") * NSEC_PER_USEC;
	free(text);
}

/* ---- memory ---- */

/* memory.stat as the stats map, every "key value" line in file order. */
static void
memory_stat_map(struct collect *c, char *text, Types__MemoryStats *ms)
{
	size_t cap = count_lines(text);
	char *cur = text, *line;

	if ((ms->stats = array_new(c, cap, sizeof(*ms->stats))) == NULL)
		return;
	while ((line = next_line(&cur)) != NULL && ms->n_stats < cap) {
		Types__MemoryStats__StatsEntry *en;
		char *f[2];
		uint64_t v;

		if (split(line, " \t", f, 2) != 2 || parse_u64(f[1], &v) < 0)
			continue;
		if ((en = msg_new(c, &types__memory_stats__stats_entry__descriptor)) == NULL)
			return;
		if ((en->key = str_dup(c, f[0])) == NULL) {
			free(en);
			return;
		}
		en->value = v;
		ms->stats[ms->n_stats++] = en;
	}
}

/* <prefix>.usage_in_bytes and friends: "memory", "memory.memsw", "memory.kmem". */
static void
memory_data_v1(struct collect *c, const char *prefix, Types__MemoryData *md)
{
	static const char *suffix[] = { "usage_in_bytes", "max_usage_in_bytes", "failcnt",
		"limit_in_bytes" };
	uint64_t *dst[] = { &md->usage, &md->max_usage, &md->failcnt, &md->limit };
	char name[64];

	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "%s.%s", prefix, suffix[i]);
		*dst[i] = file_u64(c, c->p.memory, name);
	}
}

static void
memory_v1(struct collect *c, Types__MemoryStats *ms)
{
	char *text;

	memory_data_v1(c, "memory", ms->usage);
	memory_data_v1(c, "memory.memsw", ms->swap_usage);
	memory_data_v1(c, "memory.kmem", ms->kernel_usage);
	if ((text = slurp(c, c->p.memory, "memory.stat")) != NULL) {
		ms->cache = keyed(text, "cache");
		memory_stat_map(c, text, ms);
		free(text);
	}
}

static int
file_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];

	return dir != NULL && (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path) &&
	    access(path, F_OK) == 0;
}

static void
memory_v2(struct collect *c, Types__MemoryStats *ms)
{
	const char *dir = c->p.unified;
	char *text;

	ms->usage->usage = file_u64(c, dir, "memory.current");
	ms->usage->max_usage = file_u64(c, dir, "memory.peak");	/* kernels >= 5.19 */
	ms->usage->limit = file_u64(c, dir, "memory.max");
	if ((text = slurp(c, dir, "memory.events")) != NULL) {
		/* times the usage hit the limit: v1's failcnt */
		ms->usage->failcnt = keyed(text, "max");
		free(text);
	}
	/* v1's memsw counts memory plus swap; v2's swap files count swap alone */
	if (file_exists(dir, "memory.swap.current")) {
		uint64_t swap_max = file_u64(c, dir, "memory.swap.max");

		ms->swap_usage->usage = file_u64(c, dir, "memory.swap.current") + ms->usage->usage;
		ms->swap_usage->limit = swap_max == UINT64_MAX ? UINT64_MAX : swap_max + ms->usage->limit;
	}
	if ((text = slurp(c, dir, "memory.stat")) != NULL) {
		ms->cache = keyed(text, "file");
		memory_stat_map(c, text, ms);
		free(text);
	}
}

/* ---- blkio ---- */

enum {
	BLK_SERVICE_BYTES, BLK_SERVICED, BLK_QUEUED, BLK_SERVICE_TIME,
	BLK_WAIT_TIME, BLK_MERGED, BLK_TIME, BLK_SECTORS, BLK_N
};

/*
 * Where a v1 blkio hierarchy keeps its counters, tried in runc's order: the
 * first source whose `probe` file has entries is used. BFQ (with or without
 * its debug files) and CFQ give the *_recursive set; without an I/O
 * scheduler's files only the throttling layer counts.
 */
static const struct blkio_source {
	int probe;
	const char *files[BLK_N];
} blkio_sources[] = {
	{ BLK_SECTORS, { "blkio.bfq.io_service_bytes_recursive", "blkio.bfq.io_serviced_recursive",
	    "blkio.bfq.io_queued_recursive", "blkio.bfq.io_service_time_recursive",
	    "blkio.bfq.io_wait_time_recursive", "blkio.bfq.io_merged_recursive",
	    "blkio.bfq.time_recursive", "blkio.bfq.sectors_recursive" } },
	{ BLK_SERVICED, { "blkio.bfq.io_service_bytes_recursive", "blkio.bfq.io_serviced_recursive" } },
	{ BLK_SECTORS, { "blkio.io_service_bytes_recursive", "blkio.io_serviced_recursive",
	    "blkio.io_queued_recursive", "blkio.io_service_time_recursive",
	    "blkio.io_wait_time_recursive", "blkio.io_merged_recursive", "blkio.time_recursive",
	    "blkio.sectors_recursive" } },
	{ BLK_SERVICED, { "blkio.throttle.io_service_bytes_recursive",
	    "blkio.throttle.io_serviced_recursive" } },
	{ BLK_SERVICED, { "blkio.throttle.io_service_bytes", "blkio.throttle.io_serviced" } },
};

struct blkio_list {
	size_t *n;
	Types__BlkioStatsEntry ***v;
};

static void
blkio_lists(Types__BlkioStats *b, struct blkio_list l[BLK_N])
{
	l[BLK_SERVICE_BYTES] = (struct blkio_list){ &b->n_io_service_bytes_recursive,
		&b->io_service_bytes_recursive };
	l[BLK_SERVICED] = (struct blkio_list){ &b->n_io_serviced_recursive, &b->io_serviced_recursive };
	l[BLK_QUEUED] = (struct blkio_list){ &b->n_io_queued_recursive, &b->io_queued_recursive };
	l[BLK_SERVICE_TIME] = (struct blkio_list){ &b->n_io_service_time_recursive,
		&b->io_service_time_recursive };
	l[BLK_WAIT_TIME] = (struct blkio_list){ &b->n_io_wait_time_recursive,
		&b->io_wait_time_recursive };
	l[BLK_MERGED] = (struct blkio_list){ &b->n_io_merged_recursive, &b->io_merged_recursive };
	l[BLK_TIME] = (struct blkio_list){ &b->n_io_time_recursive, &b->io_time_recursive };
	l[BLK_SECTORS] = (struct blkio_list){ &b->n_sectors_recursive, &b->sectors_recursive };
}

static void
blkio_free_list(struct blkio_list l)
{
	for (size_t i = 0; i < *l.n; i++)
		protobuf_c_message_free_unpacked(&(*l.v)[i]->base, NULL);
	free(*l.v);
	*l.v = NULL;
	*l.n = 0;
}

/* Appends an entry to a list allocated with room for it. */
static void
blkio_add(struct collect *c, struct blkio_list l, uint64_t major, uint64_t minor, const char *op,
    uint64_t value)
{
	Types__BlkioStatsEntry *en = msg_new(c, &types__blkio_stats_entry__descriptor);

	if (en == NULL)
		return;
	if ((en->op = str_dup(c, op)) == NULL) {
		free(en);
		return;
	}
	en->major = major;
	en->minor = minor;
	en->value = value;
	(*l.v)[(*l.n)++] = en;
}

/*
 * "8:0 Read 512" lines (or "8:0 512" without an op) into l. Per-device
 * "Total" lines are kept, as runc keeps them; the bare "Total N" summary is not.
 */
static void
blkio_parse(struct collect *c, char *text, struct blkio_list l)
{
	size_t cap = count_lines(text);
	char *cur = text, *line;

	if ((*l.v = array_new(c, cap, sizeof(**l.v))) == NULL)
		return;
	while ((line = next_line(&cur)) != NULL && *l.n < cap) {
		uint64_t major, minor, value;
		char *f[4];
		int n = split(line, " :\t", f, 4);

		if ((n != 3 && n != 4) || parse_u64(f[0], &major) < 0 || parse_u64(f[1], &minor) < 0 ||
		    parse_u64(f[n - 1], &value) < 0)
			continue;
		blkio_add(c, l, major, minor, n == 4 ? f[2] : "", value);
	}
	if (*l.n == 0)
		blkio_free_list(l);
}

static void
blkio_read(struct collect *c, const char *file, struct blkio_list l)
{
	char *text = slurp(c, c->p.blkio, file);

	if (text != NULL) {
		blkio_parse(c, text, l);
		free(text);
	}
}

static void
blkio_v1(struct collect *c, Types__BlkioStats *b)
{
	struct blkio_list l[BLK_N];

	if (c->p.blkio == NULL)
		return;
	blkio_lists(b, l);
	for (size_t s = 0; s < sizeof(blkio_sources) / sizeof(blkio_sources[0]); s++) {
		const struct blkio_source *src = &blkio_sources[s];

		blkio_read(c, src->files[src->probe], l[src->probe]);
		if (*l[src->probe].n == 0)
			continue;
		for (int i = 0; i < BLK_N; i++)
			if (i != src->probe && src->files[i] != NULL)
				blkio_read(c, src->files[i], l[i]);
		return;
	}
}

/* io.stat "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." as v1's Read/Write entries. */
static void
io_v2(struct collect *c, Types__BlkioStats *b)
{
	char *text = slurp(c, c->p.unified, "io.stat"), *cur = text, *line;
	struct blkio_list l[BLK_N];
	size_t cap;

	if (text == NULL)
		return;
	blkio_lists(b, l);
	cap = count_lines(text) * 2;
	b->io_service_bytes_recursive = array_new(c, cap, sizeof(*b->io_service_bytes_recursive));
	b->io_serviced_recursive = array_new(c, cap, sizeof(*b->io_serviced_recursive));
	if (b->io_service_bytes_recursive == NULL || b->io_serviced_recursive == NULL) {
		free(text);
		return;
	}
	while ((line = next_line(&cur)) != NULL) {
		char *f[32], *dev[2];
		uint64_t major, minor;
		int n = split(line, " \t", f, 32);

		if (n > 32)
			n = 32;	/* io.latency and io.cost append fields we do not map */
		if (n < 2 || split(f[0], ":", dev, 2) != 2 || parse_u64(dev[0], &major) < 0 ||
		    parse_u64(dev[1], &minor) < 0)
			continue;
		for (int i = 1; i < n; i++) {
			char *eq = strchr(f[i], '=');
			uint64_t v;
			int which;
			const char *op;

			if (eq == NULL || parse_u64(eq + 1, &v) < 0)
				continue;
			*eq = '\0';
			if (strcmp(f[i], "rbytes") == 0 || strcmp(f[i], "wbytes") == 0)
				which = BLK_SERVICE_BYTES;
			else if (strcmp(f[i], "rios") == 0 || strcmp(f[i], "wios") == 0)
				which = BLK_SERVICED;
			else
				continue;	/* nothing in v1 to map dbytes/dios to */
			op = f[i][0] == 'r' ? "Read" : "Write";
			if (*l[which].n < cap)
				blkio_add(c, l[which], major, minor, op, v);
		}
	}
	free(text);
	for (int i = BLK_SERVICE_BYTES; i <= BLK_SERVICED; i++)
		if (*l[i].n == 0)
			blkio_free_list(l[i]);
}

/* ---- hugetlb ---- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Page sizes ("2MB", "1GB") named by the hugetlb.<size>.<suffix> files in dir,
 * sorted; the count, with *sizes malloc'd (free each and the array). A size
 * never holds a dot, which keeps out hugetlb.<size>.rsvd.* files.
 */
static size_t
hugetlb_sizes(struct collect *c, const char *dir, const char *suffix, char ***sizes)
{
	size_t n = 0, cap = 0, pl = strlen("hugetlb."), sl = strlen(suffix);
	struct dirent *de;
	DIR *d;

	*sizes = NULL;
	if (dir == NULL || (d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		size_t len = strlen(name);
		char *size, **grown;

		if (len <= pl + sl + 1 || strncmp(name, "hugetlb.", pl) != 0 ||
		    name[len - sl - 1] != '.' || strcmp(name + len - sl, suffix) != 0)
			continue;
		if ((size = strndup(name + pl, len - pl - sl - 1)) == NULL) {
			c->nomem = 1;
			break;
		}
		if (strchr(size, '.') != NULL) {
			free(size);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			if ((grown = realloc(*sizes, cap * sizeof(char *))) == NULL) {
				c->nomem = 1;
				free(size);
				break;
			}
			*sizes = grown;
		}
		(*sizes)[n++] = size;
	}
	closedir(d);
	if (n > 1)
		qsort(*sizes, n, sizeof(char *), cmp_str);
	return n;
}

static void
hugetlb_fill(struct collect *c, Types__CgroupStats *cg)
{
	const char *dir = c->p.v2 ? c->p.unified : c->p.hugetlb;
	char **sizes, name[NAME_MAX + 1];
	size_t n = hugetlb_sizes(c, dir, c->p.v2 ? "current" : "usage_in_bytes", &sizes);

	if (n > 0)
		cg->hugetlb_stats = array_new(c, n, sizeof(*cg->hugetlb_stats));
	for (size_t i = 0; i < n; i++) {
		Types__CgroupStats__HugetlbStatsEntry *en;
		Types__HugetlbStats *h;
		const char *sz = sizes[i];

		if (cg->hugetlb_stats == NULL ||
		    (en = msg_new(c, &types__cgroup_stats__hugetlb_stats_entry__descriptor)) == NULL)
			continue;
		if ((h = msg_new(c, &types__hugetlb_stats__descriptor)) == NULL ||
		    (en->key = str_dup(c, sz)) == NULL) {
			free(h);
			free(en);
			continue;
		}
		en->value = h;
		cg->hugetlb_stats[cg->n_hugetlb_stats++] = en;
		if (c->p.v2) {
			char *text;

			snprintf(name, sizeof(name), "hugetlb.%s.current", sz);
			h->usage = file_u64(c, dir, name);
			snprintf(name, sizeof(name), "hugetlb.%s.max", sz);
			h->limit = file_u64(c, dir, name);
			snprintf(name, sizeof(name), "hugetlb.%s.events", sz);
			if ((text = slurp(c, dir, name)) != NULL) {
				h->failcnt = keyed(text, "max");
				free(text);
			}
		} else {
			snprintf(name, sizeof(name), "hugetlb.%s.usage_in_bytes", sz);
			h->usage = file_u64(c, dir, name);
			snprintf(name, sizeof(name), "hugetlb.%s.max_usage_in_bytes", sz);
			h->max_usage = file_u64(c, dir, name);
			snprintf(name, sizeof(name), "hugetlb.%s.failcnt", sz);
			h->failcnt = file_u64(c, dir, name);
			snprintf(name, sizeof(name), "hugetlb.%s.limit_in_bytes", sz);
			h->limit = file_u64(c, dir, name);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(sizes[i]);
	free(sizes);
}

/* ---- the response ---- */

static void
pids_fill(struct collect *c, Types__PidsStats *ps)
{
	const char *dir = c->p.v2 ? c->p.unified : c->p.pids;

	ps->current = file_u64(c, dir, "pids.current");
	ps->limit = file_u64(c, dir, "pids.max");
	if (ps->limit == UINT64_MAX)
		ps->limit = 0;	/* runc's "no limit" */
}

/* Allocates every sub-message, so clients see zeros rather than absent fields. */
static Types__CgroupStats *
cgroup_stats_new(struct collect *c)
{
	Types__CgroupStats *cg = msg_new(c, &types__cgroup_stats__descriptor);

	if (cg == NULL)
		return NULL;
	if ((cg->cpu_stats = msg_new(c, &types__cpu_stats__descriptor)) != NULL) {
		cg->cpu_stats->cpu_usage = msg_new(c, &types__cpu_usage__descriptor);
		cg->cpu_stats->throttling_data = msg_new(c, &types__throttling_data__descriptor);
	}
	if ((cg->memory_stats = msg_new(c, &types__memory_stats__descriptor)) != NULL) {
		cg->memory_stats->usage = msg_new(c, &types__memory_data__descriptor);
		cg->memory_stats->swap_usage = msg_new(c, &types__memory_data__descriptor);
		cg->memory_stats->kernel_usage = msg_new(c, &types__memory_data__descriptor);
	}
	cg->blkio_stats = msg_new(c, &types__blkio_stats__descriptor);
	cg->pids_stats = msg_new(c, &types__pids_stats__descriptor);
	return cg;
}

int
stats_collect_at(const char *proc_root, pid_t pid, const char *cgroup_root,
    Types__StatsResponse *out, struct err *e)
{
	struct collect c = { .proc_root = proc_root };
	Types__CgroupStats *cg;
	struct timespec now;
	char path[PATH_MAX], *text;

	types__stats_response__init(out);
	if (pid <= 0)
		return err_set(e, GRPC_INVALID_ARGUMENT, "stats: no process (pid %d)", (int)pid);
	snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, (int)pid);
	if ((text = read_text(path)) == NULL) {
		if (errno == ENOENT || errno == ESRCH)
			return err_set(e, GRPC_NOT_FOUND, "stats: process %d is gone", (int)pid);
		return err_set(e, GRPC_INTERNAL, "stats: cannot read %s: %s", path, strerror(errno));
	}
	cgpaths_parse(&c, text, cgroup_root);
	free(text);

	out->cgroup_stats = cg = cgroup_stats_new(&c);
	if (!c.nomem) {
		if (c.p.v2) {
			cpu_v2(&c, cg->cpu_stats);
			memory_v2(&c, cg->memory_stats);
			io_v2(&c, cg->blkio_stats);
		} else {
			cpu_v1(&c, cg->cpu_stats);
			memory_v1(&c, cg->memory_stats);
			blkio_v1(&c, cg->blkio_stats);
		}
		cg->cpu_stats->system_usage = system_usage(&c);
		hugetlb_fill(&c, cg);
		pids_fill(&c, cg->pids_stats);
	}
	cgpaths_free(&c.p);

	clock_gettime(CLOCK_REALTIME, &now);
	out->legacytimestamp = (uint64_t)now.tv_sec;
	if ((out->timestamp = msg_new(&c, &google__protobuf__timestamp__descriptor)) != NULL) {
		out->timestamp->seconds = now.tv_sec;
		out->timestamp->nanos = (int32_t)now.tv_nsec;
	}
	if (c.nomem) {
		stats_free(out);
		return err_set(e, GRPC_INTERNAL, "stats: out of memory");
	}
	return 0;
}

/* Appends the pids of dir/cgroup.procs and of the cgroups below it (depth-bounded). */
static int
cgroup_procs_walk(const char *dir, int depth, uint32_t **pids, size_t *n, size_t *cap)
{
	char path[PATH_MAX], *text, *cur, *line;
	DIR *d;
	struct dirent *de;

	if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= sizeof(path) ||
	    (text = read_text(path)) == NULL)
		return -1;
	cur = text;
	while ((line = next_line(&cur)) != NULL) {
		uint64_t v;

		if (parse_u64(line, &v) < 0 || v == 0 || v > UINT32_MAX)
			continue;
		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 16;
			uint32_t *np = realloc(*pids, ncap * sizeof(*np));

			if (np == NULL) {
				free(text);
				return -1;
			}
			*pids = np;
			*cap = ncap;
		}
		(*pids)[(*n)++] = (uint32_t)v;
	}
	free(text);
	if (depth >= 8 || (d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < sizeof(path))
			(void)cgroup_procs_walk(path, depth + 1, pids, n, cap);
	}
	closedir(d);
	return 0;
}

int
stats_cgroup_pids(pid_t pid, const char *cgroup_root, uint32_t **pids, size_t *n)
{
	struct collect c = { .proc_root = "/proc" };
	char path[PATH_MAX], *text;
	const char *dir;
	size_t cap = 0;
	int rc = -1;

	*pids = NULL;
	*n = 0;
	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if ((text = read_text(path)) == NULL)
		return -1;
	cgpaths_parse(&c, text, cgroup_root);
	free(text);
	dir = c.p.v2 ? c.p.unified : c.p.pids ? c.p.pids : c.p.memory ? c.p.memory : c.p.cpu;
	if (!c.nomem && dir != NULL)
		rc = cgroup_procs_walk(dir, 0, pids, n, &cap);
	cgpaths_free(&c.p);
	if (rc < 0 || *n == 0) {
		free(*pids);
		*pids = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int
stats_collect(pid_t pid, const char *cgroup_root, Types__StatsResponse *out, struct err *e)
{
	return stats_collect_at("/proc", pid, cgroup_root, out, e);
}

void
stats_free(Types__StatsResponse *out)
{
	if (out == NULL)
		return;
	if (out->cgroup_stats != NULL)
		protobuf_c_message_free_unpacked(&out->cgroup_stats->base, NULL);
	if (out->timestamp != NULL)
		protobuf_c_message_free_unpacked(&out->timestamp->base, NULL);
	for (size_t i = 0; i < out->n_network_stats; i++)
		protobuf_c_message_free_unpacked(&out->network_stats[i]->base, NULL);
	free(out->network_stats);
	types__stats_response__init(out);
}
