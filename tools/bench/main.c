/*
 * containerd-bench: starts --count containers at once through the API from
 * --workers client threads, each with its own connection (the lib/grpc
 * client is blocking, so concurrency here means threads; the daemon itself
 * stays one thread). It subscribes to Events first, then:
 *
 *   create    every worker calls CreateContainer until all ids are taken;
 *             each call's latency is one sample of the start time; the
 *             time the k-th create returned, for k a multiple of --slice,
 *             gives the rate per slice (is it falling with N?), and a
 *             progress line goes to stderr every --progress seconds
 *   state     State, timed, with every container running
 *   at-peak   --at-peak CMD runs here, for measuring the daemon at N running
 *   teardown  the workers Signal SIGKILL to each init; the teardown time is
 *             from the first kill until the last `exit` arrived on Events
 *   verify    State, until none of the bench's containers is listed
 *
 * Exit status: 0 when every container was created, killed, reported and
 * gone; 1 otherwise (each error printed, counted); 2 for bad usage.
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_ADDRESS "/run/containerd/containerd.sock"
#define STATE_SAMPLES 5

struct bench {
	/* flags */
	const char *address;
	char *bundle;			/* absolute, owned */
	char prefix[64];
	size_t count;
	size_t workers;
	const char *at_peak;
	int timeout_ms;
	size_t slice;			/* creates per slice of the rate table */
	int progress_s;			/* seconds between progress lines, 0: none */

	/* the phase the workers run: create or kill */
	int (*job)(struct bench *b, struct grpc_client *cl, size_t k,
	    struct err *e);
	atomic_size_t next;		/* the next index a worker takes */
	pthread_barrier_t ready;	/* all workers connected, clock starts */

	/* per container, indexed like the ids; written by the one worker
	 * that took the index */
	int64_t *create_ns;		/* latency of a successful create */
	bool *created;
	char **errors;			/* the phase's error, malloc'd, or NULL */
	atomic_size_t done;		/* creates that returned success */
	atomic_size_t failed;		/* creates that returned an error */
	int64_t *slice_at;		/* monotonic ns the (k+1)*slice-th
					 * success returned, written once */
	_Atomic int64_t pool_t0;	/* the create phase's clock start */

	/* the Events reader's, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int64_t *exit_at;		/* monotonic ns the exit arrived, 0: not yet */
	size_t exits;			/* exits of created containers */
	size_t starts;			/* start-container events */
	size_t early_exits;		/* exits before the kills */
	bool killing;
	bool ev_failed;
	char ev_error[ERR_MSG_MAX];
	atomic_bool ev_stop;
};

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " BENCH_PROG " [--count N] [--workers W] [--address SOCK]\n"
	    "                        --bundle PATH [--id-prefix P] [--at-peak CMD]\n"
	    "\n"
	    "Starts N containers at once through the types.API service from W\n"
	    "client threads, prints the CreateContainer latency distribution and\n"
	    "containers/second, times State with all of them running, then\n"
	    "SIGKILLs them all and reports the time until every exit event\n"
	    "arrived, and checks that State lists none of them any more.\n"
	    "\n"
	    "  -n, --count N        containers to start (1000)\n"
	    "  -w, --workers W      concurrent clients, one connection each (100)\n"
	    "  -a, --address SOCK   the daemon's socket (" DEFAULT_ADDRESS ")\n"
	    "  -b, --bundle PATH    an OCI bundle whose process runs until killed,\n"
	    "                       e.g. tools/mkbundle /tmp/sleep sleep 100000\n"
	    "  -p, --id-prefix P    container ids are P0 .. P(N-1) (bench-PID-)\n"
	    "      --at-peak CMD    run `sh -c CMD` while all N are running\n"
	    "                       (BENCH_RUNNING in its environment = how many)\n"
	    "      --timeout SECS   for one call, and for each wait (300)\n"
	    "      --slice K        print the create rate of every K creates\n"
	    "                       (1000 from N=5000 on, else N/5)\n"
	    "      --progress SECS  a progress line on stderr every SECS (10;\n"
	    "                       0: none)\n"
	    "  -h, --help           this help\n"
	    "\n"
	    "Exit status 0 when every container was created, killed, reported\n"
	    "and gone; 1 otherwise (errors printed, counted).\n");
}

static int
parse_size(const char *flag, const char *s, size_t min, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v < min ||
	    v > 1000000) {
		fprintf(stderr, BENCH_PROG ": %s: want a number from %zu to "
		    "1000000, got \"%s\"\n", flag, min, s);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

static int
parse_args(struct bench *b, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "workers", required_argument, NULL, 'w' },
		{ "address", required_argument, NULL, 'a' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "id-prefix", required_argument, NULL, 'p' },
		{ "at-peak", required_argument, NULL, 'P' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "slice", required_argument, NULL, 'S' },
		{ "progress", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bundle = NULL, *prefix = NULL;
	char path[PATH_MAX + 16];
	struct stat st;
	size_t secs = 300, progress = 10;
	int c;

	b->address = DEFAULT_ADDRESS;
	b->count = 1000;
	b->workers = 100;
	while ((c = getopt_long(argc, argv, "n:w:a:b:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_size("--count", optarg, 1, &b->count) < 0)
				return -1;
			break;
		case 'w':
			if (parse_size("--workers", optarg, 1, &b->workers) < 0)
				return -1;
			break;
		case 'a':
			b->address = optarg;
			break;
		case 'b':
			bundle = optarg;
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'P':
			b->at_peak = optarg;
			break;
		case 'T':
			if (parse_size("--timeout", optarg, 1, &secs) < 0)
				return -1;
			break;
		case 'S':
			if (parse_size("--slice", optarg, 1, &b->slice) < 0)
				return -1;
			break;
		case 'G':
			if (parse_size("--progress", optarg, 0, &progress) < 0)
				return -1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, BENCH_PROG ": unexpected argument \"%s\"\n",
		    argv[optind]);
		return -1;
	}
	if (bundle == NULL) {
		fprintf(stderr, BENCH_PROG ": --bundle is required (make one with "
		    "tools/mkbundle DIR sleep 100000)\n");
		return -1;
	}
	/* The daemon wants an absolute path, and a missing config.json is
	 * better told here than as N identical create errors. */
	if ((b->bundle = realpath(bundle, NULL)) == NULL) {
		fprintf(stderr, BENCH_PROG ": --bundle %s: %s\n", bundle,
		    strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/config.json", b->bundle);
	if (stat(path, &st) < 0) {
		fprintf(stderr, BENCH_PROG ": --bundle %s: no config.json (%s)\n",
		    b->bundle, strerror(errno));
		return -1;
	}
	/* The pid in the default prefix keeps two runs apart: runc names each
	 * container's host cgroups after its id, whatever its --root. */
	if (prefix == NULL)
		snprintf(b->prefix, sizeof(b->prefix), "bench-%ld-", (long)getpid());
	else if (strlen(prefix) + 8 > sizeof(b->prefix)) {
		fprintf(stderr, BENCH_PROG ": --id-prefix is longer than %zu "
		    "characters\n", sizeof(b->prefix) - 8);
		return -1;
	} else
		snprintf(b->prefix, sizeof(b->prefix), "%s", prefix);
	b->timeout_ms = (int)secs * 1000;
	b->progress_s = (int)progress;
	if (b->slice == 0)
		b->slice = b->count >= 5000 ? 1000 : (b->count + 4) / 5;
	return 0;
}

static void
container_id(const struct bench *b, size_t k, char *buf, size_t len)
{
	snprintf(buf, len, "%s%zu", b->prefix, k);
}

/* The index of one of the bench's ids, or -1 for anyone else's. */
static long
id_index(const struct bench *b, const char *id)
{
	size_t plen = strlen(b->prefix);
	char *end;
	unsigned long v;

	if (strncmp(id, b->prefix, plen) != 0 || id[plen] < '0' || id[plen] > '9')
		return -1;
	v = strtoul(id + plen, &end, 10);
	if (*end != '\0' || v >= b->count)
		return -1;
	return (long)v;
}

/* Keeps the phase's error of container k, with its id written "<id>":
 * the daemon names the container in its messages, and N copies of one
 * error must count as one kind. */
static void
record_error(struct bench *b, size_t k, const struct err *e)
{
	const char *msg = e->msg[0] ? e->msg : grpc_code_name(e->code), *hit;
	char id[96], out[ERR_MSG_MAX + 64];
	size_t idlen, o = 0;

	container_id(b, k, id, sizeof(id));
	idlen = strlen(id);
	while ((hit = strstr(msg, id)) != NULL && o + (size_t)(hit - msg) + 5 <
	    sizeof(out)) {
		memcpy(out + o, msg, (size_t)(hit - msg));
		o += (size_t)(hit - msg);
		memcpy(out + o, "<id>", 4);
		o += 4;
		msg = hit + idlen;
	}
	snprintf(out + o, sizeof(out) - o, "%s", msg);
	free(b->errors[k]);
	b->errors[k] = strdup(out);
}

/* ---- the Events reader */

static void *
events_main(void *arg)
{
	struct bench *b = arg;
	struct grpc_client *cl;
	struct grpc_stream *st;
	struct timespec now;
	struct err e;
	uint8_t *msg;
	size_t len;
	int rc;

	st = NULL;
	cl = NULL;
	clock_gettime(CLOCK_REALTIME, &now);
	if ((cl = grpc_client_connect(b->address, &e)) == NULL ||
	    (st = bench_events_open(cl, (int64_t)now.tv_sec * 1000000000 +
	    now.tv_nsec, &e)) == NULL)
		goto failed;
	while (!atomic_load(&b->ev_stop)) {
		Types__Event *ev;
		long k;

		rc = grpc_stream_next(st, &msg, &len, 200, &e);
		if (rc < 0 && e.code == GRPC_DEADLINE_EXCEEDED)
			continue;
		if (rc < 0)
			goto failed;
		if (rc == 0) {
			err_set(&e, GRPC_UNAVAILABLE, "the daemon ended the Events "
			    "stream");
			goto failed;
		}
		ev = types__event__unpack(NULL, len, msg);
		free(msg);
		if (ev == NULL) {
			err_set(&e, GRPC_INTERNAL, "cannot decode an event");
			goto failed;
		}
		k = id_index(b, ev->id);
		pthread_mutex_lock(&b->mu);
		if (k >= 0 && strcmp(ev->type, "start-container") == 0)
			b->starts++;
		else if (k >= 0 && strcmp(ev->type, "exit") == 0 &&
		    strcmp(ev->pid, "init") == 0 && b->exit_at[k] == 0) {
			b->exit_at[k] = bench_now_ns();
			if (!b->killing)
				b->early_exits++;
			if (b->created[k])
				b->exits++;
			pthread_cond_broadcast(&b->cond);
		}
		pthread_mutex_unlock(&b->mu);
		types__event__free_unpacked(ev, NULL);
	}
	grpc_stream_free(st);
	grpc_client_free(cl);
	return NULL;
failed:
	pthread_mutex_lock(&b->mu);
	b->ev_failed = true;
	snprintf(b->ev_error, sizeof(b->ev_error), "%s",
	    e.msg[0] ? e.msg : grpc_code_name(e.code));
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->mu);
	grpc_stream_free(st);
	grpc_client_free(cl);
	return NULL;
}

/* ---- the worker pool */

static int
job_create(struct bench *b, struct grpc_client *cl, size_t k, struct err *e)
{
	char id[96];
	int64_t t0;

	size_t d;
	int64_t t1;

	container_id(b, k, id, sizeof(id));
	t0 = bench_now_ns();
	if (bench_create(cl, id, b->bundle, b->timeout_ms, e) < 0) {
		atomic_fetch_add(&b->failed, 1);
		return -1;
	}
	t1 = bench_now_ns();
	b->create_ns[k] = t1 - t0;
	b->created[k] = true;
	d = atomic_fetch_add(&b->done, 1) + 1;
	if (d % b->slice == 0)
		b->slice_at[d / b->slice - 1] = t1;
	return 0;
}

static int
job_kill(struct bench *b, struct grpc_client *cl, size_t k, struct err *e)
{
	char id[96];

	if (!b->created[k])
		return 0;
	container_id(b, k, id, sizeof(id));
	return bench_kill(cl, id, SIGKILL, b->timeout_ms, e);
}

struct worker {
	struct bench *b;
	pthread_t thread;
	struct grpc_client *cl;
	bool connected;
	struct err conn_err;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	struct err e;
	size_t k;

	/* Connected before the clock starts: the figure is the daemon's
	 * create time, not connection setup. */
	w->cl = grpc_client_connect(b->address, &w->conn_err);
	w->connected = w->cl != NULL;
	pthread_barrier_wait(&b->ready);
	if (!w->connected)
		return NULL;
	for (;;) {
		/* ^C stops the creates; the kills still run, to clean up. */
		if (interrupted && b->job == job_create)
			break;
		k = atomic_fetch_add(&b->next, 1);
		if (k >= b->count)
			break;
		if (b->job(b, w->cl, k, &e) < 0) {
			record_error(b, k, &e);
			/* A broken transport fails every later call too:
			 * dial again for the next one. */
			if (e.code == GRPC_UNAVAILABLE) {
				grpc_client_free(w->cl);
				if ((w->cl = grpc_client_connect(b->address, &e)) == NULL)
					break;
			}
		}
	}
	return NULL;
}

/*
 * Runs b->job over every index with the workers; returns the wall time
 * from the moment all were connected until the last call returned, or -1
 * when no worker could connect.
 */
static int64_t
run_pool(struct bench *b, int (*job)(struct bench *, struct grpc_client *,
    size_t, struct err *))
{
	struct worker *ws;
	size_t n = b->workers < b->count ? b->workers : b->count, up = 0;
	sigset_t block, old;
	int64_t t0, t1;

	if ((ws = calloc(n, sizeof(*ws))) == NULL)
		return -1;
	b->job = job;
	atomic_store(&b->next, 0);
	pthread_barrier_init(&b->ready, NULL, (unsigned)n + 1);
	/* Signals go to the main thread only: the workers never see EINTR. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (size_t k = 0; k < n; k++) {
		ws[k].b = b;
		if (pthread_create(&ws[k].thread, NULL, worker_main, &ws[k]) != 0) {
			fprintf(stderr, BENCH_PROG ": cannot start a worker thread: "
			    "%s\n", strerror(errno));
			exit(1);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_barrier_wait(&b->ready);
	t0 = bench_now_ns();
	atomic_store(&b->pool_t0, t0);
	for (size_t k = 0; k < n; k++) {
		pthread_join(ws[k].thread, NULL);
		t1 = bench_now_ns();
		if (ws[k].connected)
			up++;
		grpc_client_free(ws[k].cl);
	}
	pthread_barrier_destroy(&b->ready);
	for (size_t k = 0; k < n; k++)
		if (!ws[k].connected) {
			fprintf(stderr, BENCH_PROG ": %zu of %zu workers could "
			    "not connect: %s\n", n - up, n, ws[k].conn_err.msg);
			break;
		}
	free(ws);
	return up == 0 ? -1 : t1 - t0;
}

/* ---- progress of the creates, and the rate per slice */

/* "2h03m", "4m05s", "12s" */
static void
fmt_hms(double secs, char *buf, size_t len)
{
	long s = secs < 0 ? 0 : (long)(secs + 0.5);

	if (s >= 3600)
		snprintf(buf, len, "%ldh%02ldm", s / 3600, s / 60 % 60);
	else if (s >= 60)
		snprintf(buf, len, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(buf, len, "%lds", s);
}

struct progress {
	struct bench *b;
	pthread_t thread;
	atomic_bool stop;
};

/* Every --progress seconds of the create phase, one line on stderr:
 * started so far, the rate overall and over the last interval, the ETA
 * at the current rate, and the rate of the last completed slice. */
static void *
progress_main(void *arg)
{
	struct progress *pg = arg;
	struct bench *b = pg->b;
	int64_t t0, next, now, prev_t = 0;
	size_t prev_d = 0;

	while ((t0 = atomic_load(&b->pool_t0)) == 0) {
		if (atomic_load(&pg->stop))
			return NULL;
		usleep(20000);
	}
	prev_t = t0;
	next = t0 + (int64_t)b->progress_s * 1000000000;
	while (!atomic_load(&pg->stop)) {
		size_t d, f, sl;
		double el, rate, recent, eta;
		char s_el[32], s_eta[32], s_slice[96] = "";

		usleep(50000);
		if ((now = bench_now_ns()) < next)
			continue;
		next += (int64_t)b->progress_s * 1000000000;
		d = atomic_load(&b->done);
		f = atomic_load(&b->failed);
		el = (double)(now - t0) / 1e9;
		rate = el > 0 ? (double)d / el : 0;
		recent = now > prev_t ? (double)(d - prev_d) * 1e9 /
		    (double)(now - prev_t) : 0;
		eta = rate > 0 ? (double)(b->count - d - f) / rate : 0;
		prev_t = now;
		prev_d = d;
		sl = d / b->slice;
		if (sl >= 1) {
			int64_t from = sl >= 2 ? b->slice_at[sl - 2] : t0,
			    to = b->slice_at[sl - 1];

			if (to > from)
				snprintf(s_slice, sizeof(s_slice), ", slice %zu-%zu "
				    "%.1f/s", (sl - 1) * b->slice + 1, sl * b->slice,
				    (double)b->slice * 1e9 / (double)(to - from));
		}
		fmt_hms(el, s_el, sizeof(s_el));
		if (d == 0)
			snprintf(s_eta, sizeof(s_eta), "?");
		else
			fmt_hms(eta, s_eta, sizeof(s_eta));
		fprintf(stderr, "# daemon: %zu/%zu started (%zu errors), %.1f/s "
		    "(last %ds %.1f/s%s), elapsed %s, ETA %s\n", d, b->count, f,
		    rate, b->progress_s, recent, s_slice, s_el, s_eta);
	}
	return NULL;
}

/* One "slice:" line per --slice creates: the count at its end, its
 * seconds, its rate; a last partial slice ends at the phase's end. */
static void
print_slices(struct bench *b, int64_t wall)
{
	int64_t t0 = atomic_load(&b->pool_t0), from = t0, to;
	size_t done = atomic_load(&b->done), full = done / b->slice;

	for (size_t k = 0; k <= full; k++) {
		size_t n = k < full ? b->slice : done - full * b->slice;

		if (n == 0)
			break;
		to = k < full ? b->slice_at[k] : t0 + wall;
		if (to <= from)
			break;
		printf("%-19s %zu %.3f %.1f\n", "slice:", k * b->slice + n,
		    (double)(to - from) / 1e9, (double)n * 1e9 /
		    (double)(to - from));
		from = to;
	}
}

/* Prints the phase's errors, one line per distinct message with its
 * count, and clears them; returns how many there were. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t
report_errors(struct bench *b, const char *what)
{
	char **msgs;
	size_t n = 0;

	if ((msgs = calloc(b->count, sizeof(*msgs))) == NULL)
		return 0;
	for (size_t k = 0; k < b->count; k++)
		if (b->errors[k] != NULL)
			msgs[n++] = b->errors[k];
	qsort(msgs, n, sizeof(*msgs), cmp_str);
	for (size_t k = 0, run; k < n; k += run) {
		for (run = 1; k + run < n && strcmp(msgs[k], msgs[k + run]) == 0; run++)
			;
		fprintf(stderr, BENCH_PROG ": %s failed %zu time%s: %s\n", what,
		    run, run == 1 ? "" : "s", msgs[k]);
	}
	free(msgs);
	for (size_t k = 0; k < b->count; k++) {
		free(b->errors[k]);
		b->errors[k] = NULL;
	}
	return n;
}

static void
print_duration(const char *name, double ns, const char *tail)
{
	char buf[32];

	bench_duration_fmt(ns, buf, sizeof(buf));
	printf("%-19s %s%s\n", name, buf, tail);
}

/* How many of the bench's containers State lists, and of them running. */
static int
state_count(struct bench *b, struct grpc_client *cl, size_t *listed,
    size_t *running, int64_t *took, struct err *e)
{
	Types__StateResponse *resp;
	int64_t t0 = bench_now_ns();

	if (bench_state(cl, &resp, b->timeout_ms, e) < 0)
		return -1;
	*took = bench_now_ns() - t0;
	*listed = *running = 0;
	for (size_t k = 0; k < resp->n_containers; k++) {
		if (id_index(b, resp->containers[k]->id) < 0)
			continue;
		(*listed)++;
		if (strcmp(resp->containers[k]->status, "running") == 0)
			(*running)++;
	}
	types__state_response__free_unpacked(resp, NULL);
	return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* State STATE_SAMPLES times with everything running, each until the whole
 * reply is in (the daemon's part): the median is the figure, the max shows
 * the spread. Then once more with the reply decoded (this client's part
 * too: protobuf-c's unpack of 10,000 containers takes tens of ms), which
 * also counts what is listed. */
static int
phase_state(struct bench *b, struct grpc_client *cl, size_t created)
{
	Types__StateRequest req = TYPES__STATE_REQUEST__INIT;
	int64_t took[STATE_SAMPLES], decoded;
	size_t listed = 0, running = 0;
	char tail[200], med[32], dec[32];
	struct err e;

	for (int k = 0; k < STATE_SAMPLES; k++) {
		int64_t t0 = bench_now_ns();

		if (bench_call(cl, "State", &req.base, &types__state_response__descriptor, NULL,
			b->timeout_ms, &e) < 0) {
			fprintf(stderr, BENCH_PROG ": State: %s\n", e.msg);
			return -1;
		}
		took[k] = bench_now_ns() - t0;
	}
	if (state_count(b, cl, &listed, &running, &decoded, &e) < 0) {
		fprintf(stderr, BENCH_PROG ": State: %s\n", e.msg);
		return -1;
	}
	qsort(took, STATE_SAMPLES, sizeof(took[0]), cmp_i64);
	bench_duration_fmt((double)took[STATE_SAMPLES - 1], med, sizeof(med));
	bench_duration_fmt((double)decoded, dec, sizeof(dec));
	snprintf(tail, sizeof(tail), " (median of %d calls to the reply's last byte, max %s;"
	    " a call with the reply decoded %s; %zu of %zu listed, %zu running)",
	    STATE_SAMPLES, med, dec, listed, created, running);
	print_duration("state:", (double)took[STATE_SAMPLES / 2], tail);
	if (running != created) {
		fprintf(stderr, BENCH_PROG ": State lists %zu of the %zu created "
		    "containers as running\n", running, created);
		return -1;
	}
	return 0;
}

static void
run_at_peak(struct bench *b, size_t created)
{
	char n[32];
	int rc;

	snprintf(n, sizeof(n), "%zu", created);
	setenv("BENCH_RUNNING", n, 1);
	fflush(stdout);
	rc = system(b->at_peak);
	if (rc != 0)
		fprintf(stderr, BENCH_PROG ": --at-peak command exited with "
		    "status %d\n", WIFEXITED(rc) ? WEXITSTATUS(rc) : rc);
	fflush(stdout);
}

/*
 * Kills every created container and waits for its exit event; returns the
 * number of problems (failed kills, missing exits).
 */
static size_t
phase_teardown(struct bench *b, size_t created)
{
	struct timespec dl;
	int64_t t0, kill_wall, last = 0;
	size_t problems, missing;
	char tail[128];

	pthread_mutex_lock(&b->mu);
	b->killing = true;
	pthread_mutex_unlock(&b->mu);
	t0 = bench_now_ns();
	kill_wall = run_pool(b, job_kill);
	problems = report_errors(b, "Signal SIGKILL");

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += b->timeout_ms / 1000;
	pthread_mutex_lock(&b->mu);
	while (b->exits < created && !b->ev_failed &&
	    pthread_cond_timedwait(&b->cond, &b->mu, &dl) != ETIMEDOUT)
		;
	missing = created - b->exits;
	for (size_t k = 0; k < b->count; k++)
		if (b->created[k] && b->exit_at[k] > last)
			last = b->exit_at[k];
	if (b->ev_failed)
		fprintf(stderr, BENCH_PROG ": Events: %s\n", b->ev_error);
	pthread_mutex_unlock(&b->mu);

	if (missing > 0) {
		fprintf(stderr, BENCH_PROG ": %zu of %zu exit events never "
		    "arrived\n", missing, created);
		printf("%-19s incomplete: %zu of %zu exit events\n", "teardown:",
		    created - missing, created);
		return problems + missing;
	}
	snprintf(tail, sizeof(tail), " (%zu exit events; the kills took ", created);
	bench_duration_fmt((double)(kill_wall > 0 ? kill_wall : 0),
	    tail + strlen(tail), sizeof(tail) - strlen(tail));
	strncat(tail, ")", sizeof(tail) - strlen(tail) - 1);
	print_duration("teardown:", (double)(last > t0 ? last - t0 : 0), tail);
	if (last > t0)
		printf("%-19s %.1f\n", "exits/second:",
		    (double)created * 1e9 / (double)(last - t0));
	b->job = NULL;
	return problems;
}

/* Waits until State lists none of the bench's containers. */
static size_t
phase_verify(struct bench *b, struct grpc_client *cl, int64_t since)
{
	int64_t end = bench_now_ns() + (int64_t)b->timeout_ms * 1000000, took;
	size_t listed = 0, running;
	char tail[64];
	struct err e;

	for (;;) {
		if (state_count(b, cl, &listed, &running, &took, &e) < 0) {
			fprintf(stderr, BENCH_PROG ": State: %s\n", e.msg);
			return 1;
		}
		if (listed == 0 || bench_now_ns() > end)
			break;
		usleep(50000);
	}
	if (listed > 0) {
		fprintf(stderr, BENCH_PROG ": State still lists %zu of the "
		    "bench's containers\n", listed);
		printf("%-19s %zu left\n", "state empty:", listed);
		return listed;
	}
	snprintf(tail, sizeof(tail), " after the first kill (0 left)");
	print_duration("state empty:", (double)(bench_now_ns() - since), tail);
	return 0;
}

int
main(int argc, char **argv)
{
	struct bench b = { 0 };
	struct progress pg = { 0 };
	struct grpc_client *cl;
	struct bench_dist d;
	struct sigaction sa;
	pthread_t ev_thread;
	int64_t wall, *lat, kill_t0;
	size_t created = 0, failed, problems = 0, n_lat = 0;
	struct err e;
	char dur[32];

	if (parse_args(&b, argc, argv) < 0)
		return 2;
	b.create_ns = calloc(b.count, sizeof(*b.create_ns));
	b.created = calloc(b.count, sizeof(*b.created));
	b.errors = calloc(b.count, sizeof(*b.errors));
	b.exit_at = calloc(b.count, sizeof(*b.exit_at));
	b.slice_at = calloc(b.count / b.slice + 1, sizeof(*b.slice_at));
	lat = calloc(b.count, sizeof(*lat));
	if (b.create_ns == NULL || b.created == NULL || b.errors == NULL ||
	    b.exit_at == NULL || b.slice_at == NULL || lat == NULL) {
		fprintf(stderr, BENCH_PROG ": out of memory\n");
		return 1;
	}
	pthread_mutex_init(&b.mu, NULL);
	pthread_cond_init(&b.cond, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* A second ^C kills the bench outright. */
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	/* One connection of the main thread's for State; it also proves the
	 * daemon is there before any thread starts. */
	if ((cl = grpc_client_connect(b.address, &e)) == NULL ||
	    state_count(&b, cl, &created, &failed, &wall, &e) < 0) {
		fprintf(stderr, BENCH_PROG ": %s\n", e.msg);
		return 1;
	}
	if (created > 0) {
		fprintf(stderr, BENCH_PROG ": State already lists %zu containers "
		    "with the prefix %s: pick another --id-prefix\n", created,
		    b.prefix);
		return 1;
	}
	created = 0;
	if (pthread_create(&ev_thread, NULL, events_main, &b) != 0) {
		fprintf(stderr, BENCH_PROG ": cannot start a thread\n");
		return 1;
	}

	printf("# %s: %zu containers, %zu workers, ids %s0..%s%zu, bundle %s\n",
	    BENCH_PROG, b.count, b.workers, b.prefix, b.prefix, b.count - 1,
	    b.bundle);
	fflush(stdout);
	pg.b = &b;
	if (b.progress_s > 0 &&
	    pthread_create(&pg.thread, NULL, progress_main, &pg) != 0) {
		fprintf(stderr, BENCH_PROG ": cannot start a thread\n");
		return 1;
	}
	wall = run_pool(&b, job_create);
	if (b.progress_s > 0) {
		atomic_store(&pg.stop, true);
		pthread_join(pg.thread, NULL);
	}
	if (wall < 0)
		return 1;
	for (size_t k = 0; k < b.count; k++)
		if (b.created[k]) {
			created++;
			lat[n_lat++] = b.create_ns[k];
		}
	failed = report_errors(&b, "CreateContainer");
	bench_dist_compute(lat, n_lat, &d);
	bench_dist_print(&d);
	printf("%-19s %.1f\n", "containers/second:",
	    wall > 0 ? (double)created * 1e9 / (double)wall : 0.0);
	bench_duration_fmt((double)wall, dur, sizeof(dur));
	printf("%-19s %s\n", "elapsed:", dur);
	print_slices(&b, wall);
	printf("%-19s %zu\n", "errors:", failed);
	if (created + failed < b.count)
		printf("%-19s %zu\n", "not attempted:", b.count - created - failed);
	if (interrupted)
		fprintf(stderr, BENCH_PROG ": interrupted after %zu creates; "
		    "killing what was created\n", created);
	fflush(stdout);

	/* The daemon closes a connection idle for 5 minutes (its
	 * CONTAINERD_IDLE_TIMEOUT), and the creates of 10,000 take longer:
	 * State gets a fresh one, connected before its clock starts. */
	grpc_client_free(cl);
	if ((cl = grpc_client_connect(b.address, &e)) == NULL) {
		fprintf(stderr, BENCH_PROG ": %s\n", e.msg);
		problems++;
		interrupted = 1;
	}
	if (!interrupted) {
		if (phase_state(&b, cl, created) < 0)
			problems++;
		if (b.at_peak != NULL)
			run_at_peak(&b, created);
	}
	pthread_mutex_lock(&b.mu);
	if (b.early_exits > 0)
		fprintf(stderr, BENCH_PROG ": %zu containers exited before the "
		    "kills: is the bundle's process long-running?\n",
		    b.early_exits);
	pthread_mutex_unlock(&b.mu);

	kill_t0 = bench_now_ns();
	problems += phase_teardown(&b, created);
	/* Fresh again: the teardown of 10,000 may outlast the idle timeout. */
	grpc_client_free(cl);
	if ((cl = grpc_client_connect(b.address, &e)) == NULL) {
		fprintf(stderr, BENCH_PROG ": %s\n", e.msg);
		problems++;
	} else
		problems += phase_verify(&b, cl, kill_t0);
	fflush(stdout);

	atomic_store(&b.ev_stop, true);
	pthread_join(ev_thread, NULL);
	grpc_client_free(cl);
	free(b.create_ns);
	free(b.created);
	free(b.errors);
	free(b.exit_at);
	free(b.slice_at);
	free(b.bundle);
	free(lat);
	if (created < b.count || problems > 0 || interrupted)
		return 1;
	return 0;
}
