/*
 * usage: the daemon's flags as --help, as containerd(8) (--man) and as its
 * bash completion (--bash-completion), all from one table. parse_flags
 * (main.c) holds the getopt table; tests/integration/install.bats checks
 * that --help and the man page list the same flags.
 */
#include <stdio.h>

#include "daemon.h"
#include "helpdoc.h"

static const char intro[] =
    "High performance container daemon: runs OCI containers with runc, keeps their\n"
    "state and event history in SQLite, serves the types.API gRPC service.\n";

static const struct helpdoc_flag flags[] = {
	{ "--state-dir DIR", "state directory (default /run/containerd)" },
	{ "-l, --listen ADDR",
	    "socket: a path or unix:///path (tcp:// is refused)\n"
	    "(default <state-dir>/containerd.sock); fd:// or\n"
	    "fd://N: the socket systemd passed (socket activation)" },
	{ "-r, --runtime NAME", "OCI runtime binary (default runc)" },
	{ "--runtime-args ARG", "global flag for the runtime, before the verb (repeatable)" },
	{ "--shim PATH", "containerd-shim binary (default: beside containerd)" },
	{ "--concurrency N", "runtime calls in flight at once (default 10)" },
	{ "--start-timeout DUR", "how long a container may take to start (default 30s)" },
	{ "--runtime-timeout DUR",
	    "how long one runtime call may take before it is killed\n"
	    "(default 1m0s; checkpoint, restore 10 times it; 0 = none)" },
	{ "--metrics-interval DUR", "metrics print interval, 0 = off (default 5m0s)" },
	{ "--graphite-address HOST:PORT",
	    "also send the metrics there each interval, in\n"
	    "Graphite's plaintext protocol (e.g. 127.0.0.1:2003)" },
	{ "--metrics-address ADDR",
	    "serve the metrics to Prometheus (GET /metrics) on a\n"
	    "loopback HOST:PORT (127.0.0.1:9338, [::1]:9338) or a\n"
	    "unix socket path (0660, as the API socket)" },
	{ "--retain-count N",
	    "events kept: past it the oldest stopped containers\n"
	    "go with their history; 0 keeps all (default 100000)" },
	{ "--retain-age DUR",
	    "drop stopped containers' history older than this\n"
	    "(default 0: keep)" },
	{ "--log-max-size SIZE",
	    "a process log's size before it is rotated to .log.1\n"
	    "(bytes, or with k, m, g; default 10m; 0 = no cap)" },
	{ "--group NAME|GID", "group also allowed to use the socket" },
	{ "--pprof-address ADDR", "accepted and ignored (the 2017 daemon's Go profiler)" },
	{ "--id ID",
	    "this daemon's name: given, it tags every log line\n"
	    "([ID]) and metric (containerd.ID.NAME, [containerd ID]);\n"
	    "default the hostname, shown at start only" },
	{ "--debug", "debug logging (same as --log-level debug)" },
	{ "--log-level LEVEL", "debug, info, warn or error (default info)" },
	{ "-v, --version", "print the version and exit" },
	{ "-h, --help", "show this help" },
	{ NULL, NULL },
};

static const char durations[] = "Durations are written like 30s, 5m0s, 1h30m, 250ms or 0.\n";

void
daemon_usage(FILE *f)
{
	fprintf(f, "usage: containerd [flags]\n\n%s\nflags:\n", intro);
	helpdoc_flags_print(f, flags, 24);
	fprintf(f, "\n%s", durations);
}

/* What only the man page says: how the daemon runs, not its flags. */
static const char activation[] =
    "With --listen fd:// the daemon serves the listening unix socket that systemd\n"
    "passed it (LISTEN_PID, LISTEN_FDS), as the installed containerd.socket does;\n"
    "fd://N names one of several. The socket file stays systemd's.\n"
    "\n"
    "The installed containerd.service runs it so, with KillMode=process: stopping\n"
    "or restarting the service stops the daemon alone. Each container's process is\n"
    "held by its containerd-shim, which keeps running; the next start takes the\n"
    "containers over again.\n";

static const char prometheus[] =
    "With --metrics-address the daemon serves GET /metrics (HEAD too) over plain\n"
    "HTTP/1.1 in Prometheus' text format, version 0.0.4: the timers as histograms\n"
    "in seconds (containerd_container_start_duration_seconds and the create,\n"
    "delete, exec-process and exit-process ones), containerd_events_total by type,\n"
    "the gauges containerd_containers, containerd_shims, containerd_runtime_calls,\n"
    "containerd_event_subscribers, containerd_open_fds and\n"
    "containerd_resident_memory_bytes, containerd_build_info, and per container\n"
    "containerd_container_state{id,state} and, while it runs,\n"
    "containerd_container_memory_usage_bytes{id} from its memory cgroup.\n"
    "\n"
    "Only a loopback address or a unix socket is taken: the metrics name every\n"
    "container and have no authentication. It is served on the daemon's loop:\n"
    "32 clients at once, a request within 10 s of connecting and its answer read\n"
    "within 10 s, 8 KiB of request head at most; the cgroup reads of a scrape are\n"
    "spread over loop iterations, 2 ms at a time.\n";

static const char signals[] =
    "  - SIGTERM, SIGINT: write what is held to the database, answer, stop;\n"
    "    the containers keep running.\n"
    "  - SIGUSR1: log the containers, connections and runtime calls held; go on.\n";

static const char files[] =
    "  - /run/containerd: the default state directory (mode 0711).\n"
    "  - <state-dir>/state.db: the database of containers, processes, checkpoints\n"
    "    and events (SQLite, WAL mode, 0600); read it with containerd-state(1).\n"
    "  - <state-dir>/containerd.sock: the default socket (0660).\n"
    "  - <state-dir>/_daemon.lock: held while a daemon serves this directory.\n"
    "  - <state-dir>/_metrics_socket: which --metrics-address socket the daemon\n"
    "    made, so that a stale one is replaced and no other file is.\n"
    "  - <state-dir>/_containers/ID/: one directory per container, one below it\n"
    "    per process (the shim's).\n"
    "  - <state-dir>/_logs/ID/PID.log (and .log.1): the output of a process\n"
    "    started without stdout/stderr paths, kept until the container's\n"
    "    records go.\n";

void
daemon_man(FILE *f)
{
	helpdoc_man_head(f, "containerd", "8", "container daemon serving the types.API gRPC service");
	helpdoc_man_section(f, "SYNOPSIS");
	helpdoc_man_usage(f, "", "containerd [flags]");
	helpdoc_man_section(f, "DESCRIPTION");
	helpdoc_man_text(f, intro);
	helpdoc_man_section(f, "OPTIONS");
	helpdoc_man_flags(f, flags);
	helpdoc_man_text(f, durations);
	helpdoc_man_section(f, "SOCKET ACTIVATION");
	helpdoc_man_text(f, activation);
	helpdoc_man_section(f, "PROMETHEUS");
	helpdoc_man_text(f, prometheus);
	helpdoc_man_section(f, "SIGNALS");
	helpdoc_man_text(f, signals);
	helpdoc_man_section(f, "FILES");
	helpdoc_man_text(f, files);
	helpdoc_man_section(f, "SEE ALSO");
	fputs("\\fBctr\\fR(1), \\fBcontainerd\\-state\\fR(1), \\fBrunc\\fR(8),"
	      " \\fBsystemd.socket\\fR(5), \\fBsd_listen_fds\\fR(3)\n", f);
}

void
daemon_bash_completion(FILE *f)
{
	struct helpdoc_words cmds = { .len = 0 }, opts = { .len = 0 }, vals = { .len = 0 };

	for (const struct helpdoc_flag *fl = flags; fl->flags != NULL; fl++)
		helpdoc_flag_words(fl->flags, &opts, &vals);
	helpdoc_bash_begin(f, "containerd");
	helpdoc_bash_level(f, "containerd", &cmds, &opts, &vals);
	helpdoc_bash_end(f, "containerd");
}
