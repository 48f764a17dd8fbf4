/*
 * metrics: the daemon's timers, counters and gauges, reported every
 * --metrics-interval to stdout in go-metrics' log format (what the Go
 * containerd printed) and, with --graphite-address, to Graphite in its
 * plaintext protocol, named as go-metrics-graphite names them.
 *
 * Timers cost one sample update per observation (lib/metrics.c, fixed
 * memory); counters and gauges are read only when a report is made. The
 * Graphite client is one non-blocking TCP connection on the loop: a round
 * that cannot go out is dropped, never queued behind another, and a lost
 * receiver is reconnected to on the next round.
 *
 * With --metrics-address, Prometheus reads the same registry (prom.c) under
 * its own names: each timer as a histogram in seconds (the buckets kept
 * beside its sample), the counters that only grow as counters (_total), the
 * others as gauges, in base units.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "prom.h"

#define REPORT_MAX (32u << 10)
/* A connect that has not finished after this is abandoned and retried. */
#define GRAPHITE_CONNECT_NS (10 * 1000000000LL)
/* A round still unsent after this many more rounds: the receiver stalled. */
#define GRAPHITE_STALL_ROUNDS 3
#define GRAPHITE_SNDBUF (64 << 10)

enum kind { KIND_TIMER, KIND_COUNTER, KIND_GAUGE };

/* How Prometheus is told a figure: a go-metrics "counter" that goes down
 * (containers) is a gauge there. */
enum prom_kind { PROM_HISTOGRAM, PROM_COUNTER, PROM_GAUGE };

struct entry {
	const char *name;
	enum kind kind;
	enum metric_timer timer;	/* KIND_TIMER */
	int64_t (*read)(void);		/* the others: read when reported */
	const char *prom;		/* Prometheus' name */
	enum prom_kind prom_kind;
	const char *help;
};

static int64_t read_containers(void);
static int64_t read_events(void);
static int64_t read_subscribers(void);
static int64_t read_tasks(void);
static int64_t read_fds(void);
static int64_t read_memory(void);
static int64_t read_shims(void);
static int64_t read_sweeps(void);

/* In name order, so reports are stable (go-metrics' order is a map's). */
static const struct entry registry[] = {
	{ "child-sweeps", KIND_COUNTER, 0, read_sweeps, "containerd_child_sweeps_total",
	    PROM_COUNTER, "Walks of all the daemon's children with waitpid(-1); children are"
	    " reaped by pid, so these stay rare (reap.h)." },
	{ "container-create-time", KIND_TIMER, METRIC_CONTAINER_CREATE, NULL,
	    "containerd_container_create_duration_seconds", PROM_HISTOGRAM,
	    "The runtime's create of a container: its shim spawned to the container created." },
	{ "container-delete-time", KIND_TIMER, METRIC_CONTAINER_DELETE, NULL,
	    "containerd_container_delete_duration_seconds", PROM_HISTOGRAM,
	    "A stopped container's runtime delete: its init's exit noticed to the delete done." },
	{ "container-start-time", KIND_TIMER, METRIC_CONTAINER_START, NULL,
	    "containerd_container_start_duration_seconds", PROM_HISTOGRAM,
	    "Containers started (CreateContainer answered with a running container), request"
	    " to reply." },
	{ "containers", KIND_COUNTER, 0, read_containers, "containerd_containers", PROM_GAUGE,
	    "Containers the daemon holds now, in any state." },
	{ "events", KIND_COUNTER, 0, read_events, "containerd_events_total", PROM_COUNTER,
	    "Events recorded in the history since the daemon started, by type." },
	{ "events-subscribers", KIND_COUNTER, 0, read_subscribers, "containerd_event_subscribers",
	    PROM_GAUGE, "Events streams open now." },
	{ "exec-process-time", KIND_TIMER, METRIC_EXEC_PROCESS, NULL,
	    "containerd_exec_process_duration_seconds", PROM_HISTOGRAM,
	    "Processes added to containers (AddProcess answered), request to reply." },
	{ "exit-process-time", KIND_TIMER, METRIC_EXIT_PROCESS, NULL,
	    "containerd_exit_process_duration_seconds", PROM_HISTOGRAM,
	    "Process exits: noticed to recorded." },
	{ "fds", KIND_GAUGE, 0, read_fds, "containerd_open_fds", PROM_GAUGE,
	    "File descriptors the daemon holds open." },
	{ "memory-used", KIND_GAUGE, 0, read_memory, "containerd_resident_memory_bytes", PROM_GAUGE,
	    "The daemon's resident memory." },
	{ "shims", KIND_GAUGE, 0, read_shims, "containerd_shims", PROM_GAUGE,
	    "Shims the daemon watches now." },
	{ "tasks", KIND_COUNTER, 0, read_tasks, "containerd_runtime_calls", PROM_GAUGE,
	    "Runtime calls running or queued now." },
};
#define N_ENTRIES (sizeof(registry) / sizeof(registry[0]))

/* One report's figures, taken once so stdout and Graphite agree. */
struct figures {
	struct metrics_timer_snapshot t[METRIC_TIMERS];
	int64_t v[N_ENTRIES];
};

struct buf {
	char *p;
	size_t len, cap;
};

enum graphite_state { G_OFF, G_DOWN, G_CONNECTING, G_UP };

/* The event types the daemon records, for containerd_events_total's type
 * label (every one shown, 0 too, so that a rate starts from 0); one of
 * another name counts as "other". */
static const char *const event_types[] = {
	"start-container", "start-process", "exit", "oom", "pause", "resume",
	"create-checkpoint", "delete-checkpoint", "start-daemon", "other",
};
#define N_EVENT_TYPES (sizeof(event_types) / sizeof(event_types[0]))

static struct {
	bool enabled;
	int64_t events;
	int64_t events_by_type[N_EVENT_TYPES];
	struct metrics_timer timers[METRIC_TIMERS];
	int64_t scratch[METRICS_RESERVOIR];
	ev_timer tick_w;
	char out[REPORT_MAX];		/* the stdout text of one round */
	char round[REPORT_MAX];		/* the Graphite text of one round */
} M;

static struct {
	enum graphite_state state;
	const char *spec;		/* as given, for messages */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int fd;
	ev_io write_w, read_w;
	int64_t connect_started;
	char buf[REPORT_MAX];		/* the round being sent: at most one */
	size_t len, off;
	int pending_rounds;		/* rounds that came while buf was still going */
	int dropped;			/* rounds lost since the last connection */
	bool complained;		/* the current outage is in the log already */
} G = { .fd = -1 };

void
metrics_observe(enum metric_timer t, int64_t ns)
{
	if (!M.enabled || (unsigned)t >= METRIC_TIMERS)
		return;
	metrics_timer_update(&M.timers[t], ns, mono_ns());
}

void
metrics_event_recorded(const char *type)
{
	size_t k = 0;

	M.events++;
	while (k < N_EVENT_TYPES - 1 && strcmp(event_types[k], type) != 0)
		k++;
	M.events_by_type[k]++;
}

static int64_t
read_containers(void)
{
	return D.n_containers;
}

static int64_t
read_events(void)
{
	return M.events;
}

static int64_t
read_subscribers(void)
{
	return events_subscriber_count();
}

static int64_t
read_tasks(void)
{
	return runtime_jobs_pending();
}

static int64_t
read_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int64_t n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

static int64_t
read_memory(void)
{
	long long size, resident;
	FILE *f = fopen("/proc/self/statm", "re");
	int got;

	if (f == NULL)
		return -1;
	got = fscanf(f, "%lld %lld", &size, &resident);
	fclose(f);
	if (got != 2)
		return -1;
	return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

static int64_t
read_sweeps(void)
{
	return (int64_t)reap_sweeps();
}

/* Shims the daemon watches now (its children, or adopted by pidfd). */
static int64_t
read_shims(void)
{
	int64_t n = 0;

	for (struct container *c = D.containers; c != NULL; c = c->next)
		for (struct process *p = c->procs; p != NULL; p = p->next)
			if (p->shim_pid > 0 && !p->orphan &&
			    (reap_active(&p->child_w) || p->pidfd >= 0))
				n++;
	return n;
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends; a line that does not fit is dropped whole (never happens with
 * this registry, but a torn Graphite line would be worse than a missing one). */
static void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < b->cap - b->len)
		b->len += (size_t)n;
	else
		b->p[b->len] = '\0';
}

static void
take_figures(struct figures *f, int64_t now)
{
	for (size_t i = 0; i < N_ENTRIES; i++) {
		const struct entry *en = &registry[i];

		if (en->kind == KIND_TIMER)
			metrics_timer_snapshot(&M.timers[en->timer], now, M.scratch, &f->t[en->timer]);
		else
			f->v[i] = en->read();
	}
}

/* "[containerd] " before pre, or "[containerd ID] " with --id. */
static void
metrics_log_prefix(const char *when, char *pre, size_t n)
{
	if (D.cfg.id_given)
		snprintf(pre, n, "[containerd %s] %s", D.cfg.id, when);
	else
		snprintf(pre, n, "[containerd] %s", when);
}

/* go-metrics' Log through Go's log.Logger with prefix "[containerd] " and
 * LstdFlags: every line carries the prefix and the local time; durations
 * are nanoseconds. */
static size_t
format_log(const struct figures *f, time_t wall)
{
	struct buf b = { M.out, 0, sizeof(M.out) };
	char pre[200], when[32];
	struct tm tm;

	localtime_r(&wall, &tm);
	strftime(when, sizeof(when), "%Y/%m/%d %H:%M:%S", &tm);
	metrics_log_prefix(when, pre, sizeof(pre));
	M.out[0] = '\0';
	for (size_t i = 0; i < N_ENTRIES; i++) {
		const struct entry *en = &registry[i];
		const struct metrics_timer_snapshot *t = &f->t[en->timer];

		switch (en->kind) {
		case KIND_COUNTER:
			buf_printf(&b, "%s counter %s\n", pre, en->name);
			buf_printf(&b, "%s   count:       %9lld\n", pre, (long long)f->v[i]);
			break;
		case KIND_GAUGE:
			buf_printf(&b, "%s gauge %s\n", pre, en->name);
			buf_printf(&b, "%s   value:       %9lld\n", pre, (long long)f->v[i]);
			break;
		case KIND_TIMER:
			buf_printf(&b, "%s timer %s\n", pre, en->name);
			buf_printf(&b, "%s   count:       %9lld\n", pre, (long long)t->count);
			buf_printf(&b, "%s   min:         %9lld\n", pre, (long long)t->min);
			buf_printf(&b, "%s   max:         %9lld\n", pre, (long long)t->max);
			buf_printf(&b, "%s   mean:        %12.2f\n", pre, t->mean);
			buf_printf(&b, "%s   stddev:      %12.2f\n", pre, t->stddev);
			buf_printf(&b, "%s   median:      %12.2f\n", pre, t->p50);
			buf_printf(&b, "%s   75%%:         %12.2f\n", pre, t->p75);
			buf_printf(&b, "%s   95%%:         %12.2f\n", pre, t->p95);
			buf_printf(&b, "%s   99%%:         %12.2f\n", pre, t->p99);
			buf_printf(&b, "%s   99.9%%:       %12.2f\n", pre, t->p999);
			buf_printf(&b, "%s   1-min rate:  %12.2f\n", pre, t->rate1);
			buf_printf(&b, "%s   5-min rate:  %12.2f\n", pre, t->rate5);
			buf_printf(&b, "%s   15-min rate: %12.2f\n", pre, t->rate15);
			buf_printf(&b, "%s   mean rate:   %12.2f\n", pre, t->rate_mean);
			break;
		}
	}
	return b.len;
}

/* NAME, or ID.NAME with --id: "containerd.ID.NAME.FIELD", one level per
 * daemon, an id's dots made '_' so it stays one level. */
static void
graphite_name(const char *name, char *out, size_t n)
{
	size_t k;

	if (!D.cfg.id_given) {
		snprintf(out, n, "%s", name);
		return;
	}
	snprintf(out, n, "%s.%s", D.cfg.id, name);
	for (k = 0; out[k] != '\0' && k < strlen(D.cfg.id); k++)
		if (out[k] == '.')
			out[k] = '_';
}

/* Graphite plaintext, "containerd.NAME.FIELD VALUE UNIX_TIME", with
 * go-metrics-graphite's field names so existing dashboards keep working. */
static size_t
format_graphite(const struct figures *f, time_t wall)
{
	struct buf b = { M.round, 0, sizeof(M.round) };
	long long ts = (long long)wall;

	M.round[0] = '\0';
	for (size_t i = 0; i < N_ENTRIES; i++) {
		const struct entry *en = &registry[i];
		const struct metrics_timer_snapshot *t = &f->t[en->timer];
		char n[256];

		graphite_name(en->name, n, sizeof(n));

		switch (en->kind) {
		case KIND_COUNTER:
			buf_printf(&b, "containerd.%s.count %lld %lld\n", n, (long long)f->v[i], ts);
			break;
		case KIND_GAUGE:
			buf_printf(&b, "containerd.%s.value %lld %lld\n", n, (long long)f->v[i], ts);
			break;
		case KIND_TIMER:
			buf_printf(&b, "containerd.%s.count %lld %lld\n", n, (long long)t->count, ts);
			buf_printf(&b, "containerd.%s.min %lld %lld\n", n, (long long)t->min, ts);
			buf_printf(&b, "containerd.%s.max %lld %lld\n", n, (long long)t->max, ts);
			buf_printf(&b, "containerd.%s.mean %.2f %lld\n", n, t->mean, ts);
			buf_printf(&b, "containerd.%s.std-dev %.2f %lld\n", n, t->stddev, ts);
			buf_printf(&b, "containerd.%s.50-percentile %.2f %lld\n", n, t->p50, ts);
			buf_printf(&b, "containerd.%s.75-percentile %.2f %lld\n", n, t->p75, ts);
			buf_printf(&b, "containerd.%s.95-percentile %.2f %lld\n", n, t->p95, ts);
			buf_printf(&b, "containerd.%s.99-percentile %.2f %lld\n", n, t->p99, ts);
			buf_printf(&b, "containerd.%s.999-percentile %.2f %lld\n", n, t->p999, ts);
			buf_printf(&b, "containerd.%s.one-minute %.2f %lld\n", n, t->rate1, ts);
			buf_printf(&b, "containerd.%s.five-minute %.2f %lld\n", n, t->rate5, ts);
			buf_printf(&b, "containerd.%s.fifteen-minute %.2f %lld\n", n, t->rate15, ts);
			buf_printf(&b, "containerd.%s.mean-rate %.2f %lld\n", n, t->rate_mean, ts);
			break;
		}
	}
	return b.len;
}

/* ---------------------------------------------------------------- Prometheus */

/* ns as seconds, exactly. */
static void
prom_seconds(struct prom_buf *b, int64_t ns)
{
	prom_buf_printf(b, "%lld.%09lld", (long long)(ns / 1000000000), (long long)(ns % 1000000000));
}

void
metrics_prom_write(struct prom_buf *b)
{
	for (size_t i = 0; i < N_ENTRIES; i++) {
		const struct entry *en = &registry[i];
		static const char *const types[] = { "histogram", "counter", "gauge" };
		int64_t v;

		prom_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", en->prom, en->help, en->prom,
		    types[en->prom_kind]);
		if (en->prom_kind == PROM_HISTOGRAM) {
			const struct metrics_histogram *h = &M.timers[en->timer].hist;

			for (int k = 0; k < METRICS_BUCKETS; k++)
				prom_buf_printf(b, "%s_bucket{le=\"%s\"} %lld\n", en->prom,
				    metrics_bucket_le[k], (long long)metrics_histogram_cumulative(h, k));
			prom_buf_printf(b, "%s_bucket{le=\"+Inf\"} %lld\n%s_sum ", en->prom,
			    (long long)h->count, en->prom);
			prom_seconds(b, h->sum);
			prom_buf_printf(b, "\n%s_count %lld\n", en->prom, (long long)h->count);
			continue;
		}
		if (en->read == read_events) {
			for (size_t k = 0; k < N_EVENT_TYPES; k++)
				prom_buf_printf(b, "%s{type=\"%s\"} %lld\n", en->prom, event_types[k],
				    (long long)M.events_by_type[k]);
			continue;
		}
		/* -1: could not be read (/proc); no sample rather than a wrong one. */
		if ((v = en->read()) >= 0)
			prom_buf_printf(b, "%s %lld\n", en->prom, (long long)v);
	}
}

/* ---------------------------------------------------------------- Graphite */

static void graphite_flush(void);

/* The connection is gone: what it was sending is lost with it. The first
 * failure of an outage is logged; the rest are counted. */
static void
graphite_down(const char *why, int errnum)
{
	if (G.fd >= 0) {
		ev_io_stop(D.loop, &G.write_w);
		ev_io_stop(D.loop, &G.read_w);
		close(G.fd);
		G.fd = -1;
	}
	if (G.len > G.off)
		G.dropped++;
	G.len = G.off = 0;
	G.pending_rounds = 0;
	G.state = G_DOWN;
	if (!G.complained) {
		if (errnum != 0)
			log_warnx("metrics: graphite %s: %s: %s; retrying every round", G.spec, why,
			    strerror(errnum));
		else
			log_warnx("metrics: graphite %s: %s; retrying every round", G.spec, why);
		G.complained = true;
	}
}

static void
graphite_up(void)
{
	G.state = G_UP;
	ev_io_stop(D.loop, &G.write_w);
	ev_io_start(D.loop, &G.read_w);
	if (G.complained)
		log_info("metrics: graphite %s connected again (%d rounds dropped while it was"
		    " away)", G.spec, G.dropped);
	else
		log_info("metrics: graphite %s connected", G.spec);
	G.complained = false;
	G.dropped = 0;
	graphite_flush();
}

static void
graphite_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (G.state == G_CONNECTING) {
		if (getsockopt(G.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0) {
			graphite_down("cannot connect", err);
			return;
		}
		graphite_up();
		return;
	}
	graphite_flush();
}

/* Graphite never answers; readable means it hung up (or sent junk). Seeing
 * the hang-up here rather than at the next write saves losing a round. */
static void
graphite_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	char junk[512];
	ssize_t n = recv(G.fd, junk, sizeof(junk), MSG_DONTWAIT);

	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return;
	graphite_down(n == 0 ? "the receiver closed the connection" : "read", n == 0 ? 0 : errno);
}

static void
graphite_flush(void)
{
	while (G.off < G.len) {
		ssize_t n = send(G.fd, G.buf + G.off, G.len - G.off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_io_start(D.loop, &G.write_w);
			return;
		}
		if (n <= 0) {
			graphite_down("send", errno);
			return;
		}
		G.off += (size_t)n;
	}
	G.len = G.off = 0;
	G.pending_rounds = 0;
	ev_io_stop(D.loop, &G.write_w);
}

static void
graphite_connect(void)
{
	int fd = socket(G.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		graphite_down("socket", errno);
		return;
	}
	/* A fixed, small send buffer (no autotuning up to megabytes): a few
	 * rounds can wait in the kernel, and a receiver that stops reading is
	 * noticed within a few rounds. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){ GRAPHITE_SNDBUF }, sizeof(int));
	G.fd = fd;
	ev_io_init(&G.write_w, graphite_write_cb, fd, EV_WRITE);
	ev_io_init(&G.read_w, graphite_read_cb, fd, EV_READ);
	G.connect_started = mono_ns();
	if (connect(fd, (struct sockaddr *)&G.addr, G.addrlen) == 0) {
		graphite_up();
		return;
	}
	if (errno != EINPROGRESS) {
		graphite_down("cannot connect", errno);
		return;
	}
	G.state = G_CONNECTING;
	ev_io_start(D.loop, &G.write_w);
}

/* One round of len bytes in M.round. */
static void
graphite_round(size_t len)
{
	if (G.state == G_UP && G.len > G.off) {
		/* The last round is still going out: this one is dropped, and a
		 * receiver that stays stalled is given up on. */
		G.dropped++;
		if (++G.pending_rounds >= GRAPHITE_STALL_ROUNDS)
			graphite_down("the receiver stopped reading", 0);
		return;
	}
	if (G.state == G_CONNECTING && mono_ns() - G.connect_started > GRAPHITE_CONNECT_NS)
		graphite_down("connect timed out", 0);
	if (G.state == G_CONNECTING && G.len > 0)
		G.dropped++; /* never started: the newer round replaces it */
	memcpy(G.buf, M.round, len);
	G.len = len;
	G.off = 0;
	switch (G.state) {
	case G_UP:
		graphite_flush();
		break;
	case G_DOWN:
		graphite_connect();
		break;
	case G_CONNECTING:
	case G_OFF:
		break;
	}
}

/* "host:port" or "[v6addr]:port", resolved once, before the loop. */
static int
graphite_resolve(const char *spec, struct err *e)
{
	char host[256];
	const char *colon = strrchr(spec, ':'), *h = spec;
	size_t hl;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	int rc;

	if (colon == NULL || colon[1] == '\0' || colon == spec)
		return err_set(e, GRPC_INVALID_ARGUMENT,
		    "--graphite-address \"%s\": want host:port, e.g. 127.0.0.1:2003", spec);
	hl = (size_t)(colon - spec);
	if (spec[0] == '[' && colon[-1] == ']') {
		h = spec + 1;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return err_set(e, GRPC_INVALID_ARGUMENT, "--graphite-address: host too long");
	memcpy(host, h, hl);
	host[hl] = '\0';
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0)
		return err_set(e, GRPC_INVALID_ARGUMENT, "--graphite-address \"%s\": %s", spec,
		    gai_strerror(rc));
	memcpy(&G.addr, res->ai_addr, res->ai_addrlen);
	G.addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* ---------------------------------------------------------------- the round */

/* One write for the whole report where it can: stdio would cut it at its
 * buffer size, mid-line, and the log (stderr, often the same file) could
 * land in between. A stdout that would block loses the rest of the report. */
static void
write_stdout(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void
metrics_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	static struct figures f;
	time_t wall = time(NULL);
	size_t n;

	take_figures(&f, mono_ns());
	n = format_log(&f, wall);
	write_stdout(M.out, n);
	if (G.state != G_OFF)
		graphite_round(format_graphite(&f, wall));
}

int
metrics_start(struct err *e)
{
	int64_t now = mono_ns();
	double every = (double)D.cfg.metrics_interval_ns / 1e9;

	if (D.cfg.metrics_interval_ns <= 0) {
		if (D.cfg.graphite_address != NULL)
			return err_set(e, GRPC_INVALID_ARGUMENT, "--graphite-address needs a"
			    " --metrics-interval: metrics are sent once per interval");
		/* Prometheus asks when it wants them: the timers still observe. */
		if (D.cfg.metrics_address == NULL)
			return 0;
	}
	if (D.cfg.graphite_address != NULL) {
		if (graphite_resolve(D.cfg.graphite_address, e) < 0)
			return -1;
		G.spec = D.cfg.graphite_address;
		G.state = G_DOWN;
	}
	for (int i = 0; i < METRIC_TIMERS; i++)
		metrics_timer_init(&M.timers[i], now, (uint64_t)now ^ ((uint64_t)getpid() << 32) ^
		    (uint64_t)(i + 1));
	M.enabled = true;
	if (D.cfg.metrics_interval_ns > 0) {
		ev_timer_init(&M.tick_w, metrics_tick_cb, every, every);
		ev_timer_start(D.loop, &M.tick_w);
	}
	return 0;
}

void
metrics_stop(void)
{
	if (!M.enabled)
		return;
	ev_timer_stop(D.loop, &M.tick_w);
	if (G.fd >= 0) {
		ev_io_stop(D.loop, &G.write_w);
		ev_io_stop(D.loop, &G.read_w);
		close(G.fd);
		G.fd = -1;
	}
	M.enabled = false;
}
