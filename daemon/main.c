/* containerd: flags, start-up, the loop. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <time.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "op.h"
#include "prom.h"

struct daemon D;

static void
add_runtime_arg(const char *a)
{
	char **nv = realloc(D.cfg.runtime_args,
	    (size_t)(D.cfg.n_runtime_args + 2) * sizeof(char *));

	if (nv == NULL)
		fatalx("out of memory");
	D.cfg.runtime_args = nv;
	D.cfg.runtime_args[D.cfg.n_runtime_args++] = strdup(a);
	D.cfg.runtime_args[D.cfg.n_runtime_args] = NULL;
}

static int64_t
parse_duration_flag(const char *flag, const char *v)
{
	int64_t ns;

	if (duration_parse(v, &ns) < 0)
		fatalx("--%s: \"%s\" is not a duration (e.g. 30s, 5m0s, 0)", flag, v);
	return ns;
}

static long
parse_int_flag(const char *flag, const char *v, long min)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min)
		fatalx("--%s: \"%s\" is not a number >= %ld", flag, v, min);
	return n;
}

/* Bytes: N, or N with k, m or g (KiB, MiB, GiB); 0 is allowed. */
static int64_t
parse_size_flag(const char *flag, const char *v)
{
	char *end;
	long long n;
	int shift = 0;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (*end == 'k' || *end == 'K')
		shift = 10, end++;
	else if (*end == 'm' || *end == 'M')
		shift = 20, end++;
	else if (*end == 'g' || *end == 'G')
		shift = 30, end++;
	if (errno != 0 || end == v || *end != '\0' || n < 0 || n > (INT64_MAX >> 30))
		fatalx("--%s: \"%s\" is not a size (bytes, or a number with k, m or g)", flag, v);
	return (int64_t)n << shift;
}

/* Go's strconv.ParseBool: 1 true, 0 false, -1 neither. */
static int
parse_go_bool(const char *v)
{
	static const char *const t[] = { "1", "t", "T", "true", "TRUE", "True", NULL };
	static const char *const f[] = { "0", "f", "F", "false", "FALSE", "False", NULL };

	for (int k = 0; t[k] != NULL; k++) {
		if (strcmp(v, t[k]) == 0)
			return 1;
		if (strcmp(v, f[k]) == 0)
			return 0;
	}
	return -1;
}

/* name's executable in one of PATH's directories, or NULL. */
static char *
find_in_path(const char *name)
{
	const char *env = getenv("PATH");
	char *copy = strdup(env ? env : "/usr/local/bin:/usr/bin:/bin"), *save = NULL, *path;

	for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
		if (asprintf(&path, "%s/%s", d, name) < 0)
			break;
		if (access(path, X_OK) == 0) {
			free(copy);
			return path;
		}
		free(path);
	}
	free(copy);
	return NULL;
}

static char *
find_shim(const char *argv0)
{
	char self[PATH_MAX], *dir, *path;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		dir = dirname(self);
		if (asprintf(&path, "%s/containerd-shim", dir) >= 0 && access(path, X_OK) == 0)
			return path;
	}
	if ((path = find_in_path("containerd-shim")) != NULL)
		return path;
	/* Looked up again at each spawn; preflight.c warns. */
	return "containerd-shim";
}

/* A path given relative is taken from the working directory at start (as
 * the 2017 daemon did: its own test suite starts it with a relative
 * --state-dir); the daemon keeps it absolute, for its shims and runtime
 * calls run elsewhere. */
static const char *
from_cwd(const char *flag, const char *path)
{
	char cwd[PATH_MAX], *abs;

	if (path[0] == '/')
		return path;
	if (path[0] == '\0')
		fatalx("%s: an empty path", flag);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		fatal("%s %s: cannot read the working directory", flag, path);
	{
		char *real = realpath(path, NULL); /* when it exists: the same name every start */

		if (real != NULL)
			return real;
	}
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (asprintf(&abs, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd,
		strcmp(path, ".") == 0 ? "" : path) < 0)
		fatalx("out of memory");
	{
		size_t len = strlen(abs);

		if (len > 1 && abs[len - 1] == '/')
			abs[len - 1] = '\0';
	}
	return abs;
}

static void
mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0755);
			*p = '/';
		}
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		fatal("cannot create the state directory %s", path);
	chmod(buf, mode);
}

static void
dump_op(void *arg, const struct op *op)
{
	log_info("dump:   op %llu %s", (unsigned long long)op->id, op->kind);
}

/* SIGUSR1: what the daemon holds, to the log (the 2017 daemon dumped its
 * goroutines there); it goes on serving. */
static void
dump_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	log_info("dump: daemon %s (pid %d)", D.cfg.id, (int)getpid());
	log_info("dump: %d container(s), %d connection(s), %d subscriber(s), %d runtime"
		 " call(s) running or queued; database %s, %d change(s) not yet written",
	    D.n_containers, server_connection_count(), events_subscriber_count(),
	    runtime_jobs_pending(), store_stalled(D.store) ? "stalled" : "writable",
	    store_unwritten(D.store));
	for (struct container *c = D.containers; c != NULL; c = c->next) {
		int n = 0;

		for (struct process *p = c->procs; p != NULL; p = p->next)
			n++;
		log_info("dump:   container %s %s, %d process(es)%s", c->id,
		    container_status_name(c->status), n, c->deleting ? ", being deleted" : "");
	}
	op_foreach(dump_op, NULL);
}

static void
stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	log_info("signal %d: stopping; containers keep running", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

/*
 * Loop latency: a request that arrives while the loop is busy waits for
 * the whole iteration, so an iteration's length is every client's delay.
 * check_cb marks the wake-up; prepare_cb, just before the loop sleeps
 * again, measures the callbacks' time and the commit's, and logs the
 * iterations that took long with where the time went.
 */
#define SLOW_ITERATION_NS (20 * 1000000LL)
static int64_t iter_woke_ns, iter_cpu_ns;

/* The CPU time this thread used: wall time much above it is time spent
 * waiting for a CPU or for the disk, not working. */
static int64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
check_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	iter_woke_ns = mono_ns();
	iter_cpu_ns = cpu_ns();
	D.iter_spawn_ns = 0;
	D.iter_spawns = 0;
}

static void
prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	int64_t t0 = mono_ns(), t1;

	server_before_sleep();
	t1 = mono_ns();
	if (iter_woke_ns != 0 && t1 - iter_woke_ns >= SLOW_ITERATION_NS) {
		log_info("slow loop iteration: %.1f ms (callbacks %.1f ms, of which %d spawns"
			 " %.1f ms; commit and replies %.1f ms; on the CPU %.1f ms)",
		    (t1 - iter_woke_ns) / 1e6, (t0 - iter_woke_ns) / 1e6, D.iter_spawns,
		    D.iter_spawn_ns / 1e6, (t1 - t0) / 1e6, (cpu_ns() - iter_cpu_ns) / 1e6);
	}
	iter_woke_ns = 0;
}

/* --listen fd://...: the socket is systemd's (activation.c). */
static bool
listen_activated(void)
{
	return D.cfg.listen != NULL && strncmp(D.cfg.listen, "fd://", 5) == 0;
}

/* --id names this daemon in its log lines and metrics (metrics.c) when
 * given; else it is the hostname, as the 2015 daemon's default was, shown
 * at start and in SIGUSR1's dump, and lines and names stay as they were. */
static void
daemon_id_init(void)
{
	static char host[256];

	if (D.cfg.id_given) {
		log_set_tag(D.cfg.id);
		return;
	}
	if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	D.cfg.id = host;
}

enum {
	OPT_STATE_DIR = 256, OPT_RUNTIME_ARGS, OPT_SHIM, OPT_DEBUG, OPT_LOG_LEVEL,
	OPT_CONCURRENCY, OPT_START_TIMEOUT, OPT_METRICS, OPT_RETAIN, OPT_RETAIN_AGE, OPT_ID,
	OPT_GROUP, OPT_GRAPHITE, OPT_RUNTIME_TIMEOUT, OPT_PPROF, OPT_MAN, OPT_BASH_COMPLETION,
	OPT_LOG_MAX_SIZE, OPT_METRICS_ADDRESS,
};

static void
parse_flags(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "listen", required_argument, NULL, 'l' },
		{ "runtime", required_argument, NULL, 'r' },
		{ "runtime-args", required_argument, NULL, OPT_RUNTIME_ARGS },
		{ "shim", required_argument, NULL, OPT_SHIM },
		{ "debug", optional_argument, NULL, OPT_DEBUG },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "concurrency", required_argument, NULL, OPT_CONCURRENCY },
		{ "start-timeout", required_argument, NULL, OPT_START_TIMEOUT },
		{ "runtime-timeout", required_argument, NULL, OPT_RUNTIME_TIMEOUT },
		{ "metrics-interval", required_argument, NULL, OPT_METRICS },
		{ "graphite-address", required_argument, NULL, OPT_GRAPHITE },
		{ "metrics-address", required_argument, NULL, OPT_METRICS_ADDRESS },
		{ "retain-count", required_argument, NULL, OPT_RETAIN },
		{ "retain-age", required_argument, NULL, OPT_RETAIN_AGE },
		{ "id", required_argument, NULL, OPT_ID },
		{ "log-max-size", required_argument, NULL, OPT_LOG_MAX_SIZE },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "pprof-address", required_argument, NULL, OPT_PPROF },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		/* Hidden: what `make` writes into containerd.8 and the completion. */
		{ "man", no_argument, NULL, OPT_MAN },
		{ "bash-completion", no_argument, NULL, OPT_BASH_COMPLETION },
		{ NULL, 0, NULL, 0 },
	};
	int ch, level;

	D.cfg.state_dir = "/run/containerd";
	D.cfg.runtime = "runc";
	D.cfg.concurrency = 10;
	D.cfg.start_timeout_ns = 30 * 1000000000LL;
	D.cfg.runtime_timeout_ns = 60 * 1000000000LL;
	D.cfg.metrics_interval_ns = 300 * 1000000000LL;
	D.cfg.retain_count = 100000;
	D.cfg.log_max_size = 10 << 20;
	D.cfg.group = (gid_t)-1;
	/* _only: "-state-dir X" and "-debug" too, as Go's flag package (the
	 * 2017 daemon's) took them; -l, -r, -v, -h stay short options. */
	while ((ch = getopt_long_only(argc, argv, "l:r:vh", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_STATE_DIR:
			D.cfg.state_dir = optarg;
			break;
		case 'l':
			/* No authentication over TCP: the socket's peer credentials
			 * are the only access check this daemon has. */
			if (strncmp(optarg, "tcp://", 6) == 0)
				fatalx("--listen %s: TCP is not served: it has no authentication, and"
				       " anyone who reaches it could run anything as root; use a unix"
				       " socket (a path or unix:///path)", optarg);
			/* fd:// stays as it is: systemd's socket (activation.c). */
			D.cfg.listen = strncmp(optarg, "unix://", 7) == 0 ? optarg + 7 : optarg;
			break;
		case OPT_PPROF:
			/* The 2017 daemon's Go profiler: accepted, so old unit files start. */
			log_warnx("--pprof-address %s: ignored (this daemon is not written in Go; its"
				  " state is logged on SIGUSR1)", optarg);
			break;
		case 'r':
			D.cfg.runtime = optarg;
			break;
		case OPT_RUNTIME_ARGS:
			add_runtime_arg(optarg);
			break;
		case OPT_SHIM:
			D.cfg.shim = optarg;
			break;
		case OPT_DEBUG:
			/* Go's flag package: --debug, --debug=true, --debug=false. */
			if (optarg == NULL || parse_go_bool(optarg) == 1)
				log_set_level(LOG_LEVEL_DEBUG);
			else if (parse_go_bool(optarg) < 0)
				fatalx("--debug=%s: not a boolean (true or false)", optarg);
			break;
		case OPT_LOG_LEVEL:
			/* logrus's names; fatal and panic are this daemon's error. An
			 * unknown one was info with a warning in 2017: unit files that
			 * carry one still start. */
			if (strcasecmp(optarg, "fatal") == 0 || strcasecmp(optarg, "panic") == 0)
				level = LOG_LEVEL_ERROR;
			else if ((level = log_level_parse(optarg)) < 0) {
				log_set_level(LOG_LEVEL_INFO);
				log_warnx("--log-level: \"%s\" is not one of debug, info, warn, error;"
					  " info it is", optarg);
				level = LOG_LEVEL_INFO;
			}
			log_set_level(level);
			break;
		case OPT_CONCURRENCY:
			D.cfg.concurrency = (int)parse_int_flag("concurrency", optarg, 1);
			break;
		case OPT_START_TIMEOUT:
			D.cfg.start_timeout_ns = parse_duration_flag("start-timeout", optarg);
			break;
		case OPT_RUNTIME_TIMEOUT:
			D.cfg.runtime_timeout_ns = parse_duration_flag("runtime-timeout", optarg);
			break;
		case OPT_METRICS:
			D.cfg.metrics_interval_ns = parse_duration_flag("metrics-interval", optarg);
			break;
		case OPT_GRAPHITE:
			D.cfg.graphite_address = optarg;
			break;
		case OPT_METRICS_ADDRESS:
			/* Checked by prom_check (loopback only), bound by prom_start. */
			D.cfg.metrics_address = optarg;
			break;
		case OPT_RETAIN:
			D.cfg.retain_count = parse_int_flag("retain-count", optarg, 0);
			break;
		case OPT_RETAIN_AGE:
			D.cfg.retain_age_ns = parse_duration_flag("retain-age", optarg);
			break;
		case OPT_LOG_MAX_SIZE:
			D.cfg.log_max_size = parse_size_flag("log-max-size", optarg);
			break;
		case OPT_ID:
			/* It goes into log lines and Graphite names as it is. */
			if (optarg[0] == '\0' || strlen(optarg) > 128 ||
			    strspn(optarg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				"0123456789_.-") != strlen(optarg))
				fatalx("--id \"%s\": want 1 to 128 letters, digits, '_', '.' or '-'",
				    optarg);
			D.cfg.id = optarg;
			D.cfg.id_given = true;
			break;
		case OPT_GROUP: {
			struct group *g = getgrnam(optarg);
			char *end;

			if (g != NULL)
				D.cfg.group = g->gr_gid;
			else if ((D.cfg.group = (gid_t)strtoul(optarg, &end, 10)), *end != '\0')
				fatalx("--group: no group named \"%s\"", optarg);
			break;
		}
		case 'v':
			printf("containerd version %d.%d.%d commit: %s\n", DAEMON_VERSION_MAJOR,
			    DAEMON_VERSION_MINOR, DAEMON_VERSION_PATCH, DAEMON_REVISION);
			exit(0);
		case 'h':
			daemon_usage(stdout);
			exit(0);
		case OPT_MAN:
			daemon_man(stdout);
			exit(0);
		case OPT_BASH_COMPLETION:
			daemon_bash_completion(stdout);
			exit(0);
		default:
			daemon_usage(stderr);
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "containerd: unexpected argument \"%s\"\n", argv[optind]);
		daemon_usage(stderr);
		exit(2);
	}
	daemon_id_init();
	D.cfg.state_dir = from_cwd("--state-dir", D.cfg.state_dir);
	if (D.cfg.listen != NULL && !listen_activated())
		D.cfg.listen = from_cwd("--listen", D.cfg.listen);
	if (D.cfg.listen == NULL) {
		char *l;

		if (asprintf(&l, "%s/containerd.sock", D.cfg.state_dir) < 0)
			fatalx("out of memory");
		D.cfg.listen = l;
	}
	if (D.cfg.shim == NULL) {
		D.cfg.shim = find_shim(argv[0]);
	} else if (strchr(D.cfg.shim, '/') == NULL) {
		/* A bare name is looked up in PATH, as the 2017 daemon did: dockerd
		 * starts it with --shim docker-containerd-shim. */
		const char *name = D.cfg.shim;

		/* Not there (yet): the name stays, looked up again at each
		 * spawn; preflight.c warns. */
		if ((D.cfg.shim = find_in_path(name)) == NULL)
			D.cfg.shim = name;
		/* Found through a relative PATH entry: the shims start elsewhere.
		 * The name stays (not the link's target): it is what ps shows. */
		else if (D.cfg.shim[0] != '/') {
			char cwd[PATH_MAX], *abs;

			if (getcwd(cwd, sizeof(cwd)) == NULL ||
			    asprintf(&abs, "%s/%s", cwd, D.cfg.shim) < 0)
				fatalx("--shim %s: cannot make %s absolute", name, D.cfg.shim);
			D.cfg.shim = abs;
		}
	} else {
		/* Missing or not executable: preflight.c warns. */
		D.cfg.shim = from_cwd("--shim", D.cfg.shim);
	}
}

/*
 * The daemon holds one fd per running process (its shim's sync pipe, or
 * the pidfd of a shim adopted after a restart; see shimctl.c for why that
 * is the design) besides its clients: 10,000 containers need 10,000 fds
 * and more. So it raises its own RLIMIT_NOFILE soft limit to the hard one
 * and, as root, the hard one too, as far as fs.nr_open allows, and logs
 * what it set. Its children (shims, runtimes, so the containers) get the
 * limits it was started with (spawn.c), as Go programs do since Go 1.19:
 * a container whose config sets no rlimit must not start with a
 * million-fd soft limit (programs that close every fd up to it crawl).
 */
static void
raise_fd_limit(void)
{
	struct rlimit rl, old;
	unsigned long long nr_open = 0;
	char why[128] = "";
	FILE *f;

	if (getrlimit(RLIMIT_NOFILE, &old) < 0)
		return;
	spawn_child_nofile(&old);
	rl = old;
	if (geteuid() == 0 && (f = fopen("/proc/sys/fs/nr_open", "re")) != NULL) {
		if (fscanf(f, "%llu", &nr_open) != 1)
			nr_open = 0;
		fclose(f);
		if (nr_open > 0 && rl.rlim_max != RLIM_INFINITY && nr_open > rl.rlim_max)
			rl.rlim_max = (rlim_t)nr_open;
	}
	rl.rlim_cur = rl.rlim_max;
	if (rl.rlim_cur == old.rlim_cur && rl.rlim_max == old.rlim_max) {
		log_info("fds: RLIMIT_NOFILE %llu (the hard limit already)",
		    (unsigned long long)old.rlim_cur);
		return;
	}
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && rl.rlim_max != old.rlim_max) {
		/* The hard limit could not be raised (no CAP_SYS_RESOURCE, say):
		 * the soft one to it. */
		snprintf(why, sizeof(why), " (raising the hard limit to %llu: %s)",
		    (unsigned long long)rl.rlim_max, strerror(errno));
		rl.rlim_max = old.rlim_max;
		rl.rlim_cur = old.rlim_max;
		if (rl.rlim_cur == old.rlim_cur) {
			log_info("fds: RLIMIT_NOFILE %llu, the hard limit%s",
			    (unsigned long long)old.rlim_cur, why);
			return;
		}
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			log_warn("fds: cannot raise RLIMIT_NOFILE from %llu",
			    (unsigned long long)old.rlim_cur);
			return;
		}
	}
	log_info("fds: RLIMIT_NOFILE raised from %llu (hard %llu) to %llu (hard %llu)%s; shims"
		 " and runtimes get %llu (hard %llu)", (unsigned long long)old.rlim_cur,
	    (unsigned long long)old.rlim_max, (unsigned long long)rl.rlim_cur,
	    (unsigned long long)rl.rlim_max, why, (unsigned long long)old.rlim_cur,
	    (unsigned long long)old.rlim_max);
}

int
main(int argc, char **argv)
{
	static ev_signal sigterm_w, sigint_w, sigusr1_w;
	static ev_prepare prepare_w;
	static ev_check check_w;
	char dbpath[PATH_MAX], listen_name[PATH_MAX];
	struct err e = { 0 };
	int fd, n_left, listen_fd;

	/* Started with stdin, stdout or stderr closed, the database or a socket
	 * would get that number, and the log or the metrics would land in it. */
	while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0 && fd <= 2)
		fcntl(fd, F_SETFD, 0);
	if (fd > 2)
		close(fd);
	parse_flags(argc, argv);
	/* Before anything opens a file: systemd's fds are 3 and up. */
	listen_fd = activation_listener(listen_activated() ? D.cfg.listen + 5 : NULL, D.cfg.listen,
	    listen_name, sizeof(listen_name), &e);
	if (listen_fd == -1)
		fatalx("%s", e.msg);
	signal(SIGPIPE, SIG_IGN);
	/* One malloc arena: the short-lived threads of offload.c each got an
	 * arena of their own (5 more at 1,000 containers, 0.9-1.2 MB of
	 * memory they kept); they allocate little, so sharing costs nothing. */
	mallopt(M_ARENA_MAX, 1);
	raise_fd_limit();
	spawn_init();
	umask(022);
	/* Not libev's default loop: its SIGCHLD handler reaps with
	 * waitpid(-1), a walk of every child (reap.h). */
	D.loop = ev_loop_new(EVFLAG_AUTO);
	if (D.loop == NULL)
		fatalx("cannot initialise libev");
	if (metrics_start(&e) < 0 || prom_check(&e) < 0)
		fatalx("%s", e.msg);
	mkdir_p(D.cfg.state_dir, 0711);
	/* Before the database is opened: a second daemon would kill the first
	 * one's creates and record every exit twice. */
	if (layout_lock(&e) < 0 || layout_init(&e) < 0)
		fatalx("%s", e.msg);
	snprintf(dbpath, sizeof(dbpath), "%s/state.db", D.cfg.state_dir);
	/* No database, yet containers of an earlier run: a new empty one would
	 * make each of them unknown, and the start would kill them all. */
	if (access(dbpath, F_OK) < 0 && errno == ENOENT && (n_left = layout_count_marked()) > 0)
		fatalx("%s is missing, yet %s/_containers holds %d container(s) an earlier run"
		       " made (their processes may still run): a new empty database would kill"
		       " them. Put state.db back; or, to start afresh, stop those containers"
		       " and move %s/_containers away", dbpath, D.cfg.state_dir, n_left,
		    D.cfg.state_dir);
	if ((D.store = store_open(dbpath, false, &e)) == NULL)
		fatalx("%s", e.msg);
	runtime_jobs_init();
	if ((listen_fd >= 0 ? server_adopt(listen_fd, &e) : server_listen(D.cfg.listen, &e)) < 0)
		fatalx("%s", e.msg);
	if (listen_fd >= 0)
		D.cfg.listen = listen_name;
	if (prom_start(&e) < 0)
		fatalx("%s", e.msg);
	server_sync_start();
	shimctl_init();
	if (reconcile(&e) < 0)
		fatalx("reconcile: %s", e.msg);
	/* In the history, a restart is a fact too: exits recorded above
	 * happened while no daemon watched. */
	event_record("start-daemon", "", "", 0, now_ns(), &e);
	ev_signal_init(&sigterm_w, stop_cb, SIGTERM);
	ev_signal_init(&sigint_w, stop_cb, SIGINT);
	ev_signal_start(D.loop, &sigterm_w);
	ev_signal_start(D.loop, &sigint_w);
	ev_signal_init(&sigusr1_w, dump_cb, SIGUSR1);
	ev_signal_start(D.loop, &sigusr1_w);
	retention_start();
	ev_prepare_init(&prepare_w, prepare_cb);
	ev_prepare_start(D.loop, &prepare_w);
	ev_check_init(&check_w, check_cb);
	ev_check_start(D.loop, &check_w);
	preflight_start();
	log_info("containerd %d.%d.%d, id %s, listening on %s (state %s, runtime %s, shim %s)",
	    DAEMON_VERSION_MAJOR, DAEMON_VERSION_MINOR, DAEMON_VERSION_PATCH, D.cfg.id, D.cfg.listen,
	    D.cfg.state_dir, D.cfg.runtime, D.cfg.shim);
	ev_run(D.loop, 0);
	preflight_stop();
	prom_stop();
	metrics_stop();
	server_before_sleep();
	/* What was committed is made durable and answered before we go. */
	store_sync_now(D.store);
	server_before_sleep();
	server_close();
	if (store_commit(D.store, &e) < 0)
		log_errorx("final commit: %s", e.msg);
	store_close(D.store);
	log_info("containerd stopped");
	return 0;
}
