/*
 * preflight: what the daemon checks once at start, and warns about.
 *
 * Nothing here stops the daemon: Docker, a package manager or a unit file
 * may start it before the runtime (or even the shim) is installed, and a
 * daemon that runs serves State, Events and the history, and takes over the
 * containers whose shims already run, none of which needs either program.
 * So each problem is one warning line saying what will fail and why; the
 * create that meets it fails with its own clear error.
 *
 *   - not root: what will not work (rootless runtime only, cgroups, access);
 *   - --runtime not found (looked up as it will be run: a bare name in PATH,
 *     a path as it is), or `RUNTIME --version` failing or not answering;
 *   - --shim not found, or not this project's shim: `SHIM --version` must
 *     print shim/protocol.h's line with this daemon's protocol number.
 *
 * The two `--version` runs are children on the loop, like runtime jobs:
 * the daemon serves at once, and each run is killed (its process group,
 * SIGKILL) at PROBE_NS if it has not answered; libev reaps it, so no
 * zombie is left, and its pipe is closed then, so no fd either. A program
 * that waits for input gets /dev/null; one that ignores SIGTERM is killed
 * all the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "../shim/protocol.h"

/* How long a `--version` may take; it answers in milliseconds. */
#define PROBE_NS (2 * 1000000000LL)
#define PROBE_OUT_MAX 4096
/* What of a program's answer is quoted in a warning. */
#define QUOTE_MAX 160

struct probe {
	const char *flag;	/* "--runtime", "--shim" */
	const char *name;	/* as configured */
	char path[4096];	/* as found */
	bool is_shim;
	pid_t pid;
	struct reap child_w;
	ev_io out_w;
	ev_timer deadline_w;
	char out[PROBE_OUT_MAX + 1];
	size_t len;
	bool reaped, eof, judged;
	int status;
	int64_t started;
};

static struct probe probes[2];

/*
 * Where execvp would find name: a name with a '/' as it is, else the first
 * PATH entry holding an executable file of that name. 0 and path, or -1
 * and why (for "--flag NAME: WHY").
 */
static int
program_lookup(const char *name, char *path, size_t pathsz, char *why, size_t whysz)
{
	struct stat st;

	if (name[0] == '\0') {
		snprintf(why, whysz, "an empty name");
		return -1;
	}
	if (strchr(name, '/') != NULL) {
		if (stat(name, &st) < 0) {
			snprintf(why, whysz, "%s", strerror(errno));
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			snprintf(why, whysz, "not a regular file");
			return -1;
		}
		if (access(name, X_OK) < 0) {
			snprintf(why, whysz, "not executable (%s)", strerror(errno));
			return -1;
		}
		snprintf(path, pathsz, "%s", name);
		return 0;
	}
	{
		const char *env = getenv("PATH");
		/* glibc's execvp without PATH: confstr(_CS_PATH). */
		const char *list = env != NULL ? env : "/bin:/usr/bin";
		const char *p = list;

		while (*p != '\0' || p == list) {
			size_t n = strcspn(p, ":");

			/* An empty entry is the working directory, as for execvp. */
			snprintf(path, pathsz, "%.*s%s%s", (int)n, n ? p : ".", "/", name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0)
				return 0;
			p += n;
			if (*p == ':')
				p++;
			else
				break;
		}
		snprintf(why, whysz, "no such program in PATH (%s)", env != NULL ? env : "unset");
		return -1;
	}
}

/* The first line of out, made printable and short, for a warning. */
static void
first_line(const char *out, char *q, size_t qsz)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)out; *p && *p != '\n'; p++) {
		if (n + 4 >= qsz || n >= QUOTE_MAX) {
			snprintf(q + n, qsz - n, "...");
			return;
		}
		q[n++] = (*p >= 0x20 && *p < 0x7f) ? (char)*p : '?';
	}
	q[n] = '\0';
}

static void
judge_runtime(struct probe *p, bool timed_out)
{
	char line[QUOTE_MAX + 8];

	first_line(p->out, line, sizeof(line));
	if (timed_out) {
		log_warnx("--runtime %s: `%s --version` did not answer within %.0f s and was"
			  " killed: a runtime that hangs makes every create wait for"
			  " --runtime-timeout", p->name, p->path, PROBE_NS / 1e9);
		return;
	}
	if (!WIFEXITED(p->status) || WEXITSTATUS(p->status) != 0 || line[0] == '\0') {
		log_warnx("--runtime %s: `%s --version` failed (%s %d)%s%s%s: creates will likely"
			  " fail too", p->name, p->path,
		    WIFSIGNALED(p->status) ? "killed by signal" : "exit status",
		    WIFSIGNALED(p->status) ? WTERMSIG(p->status) : WEXITSTATUS(p->status),
		    line[0] ? ": \"" : ", no output", line, line[0] ? "\"" : "");
		return;
	}
	log_info("runtime %s: %s", p->path, line);
}

static void
judge_shim(struct probe *p, bool timed_out)
{
	size_t hl = strlen(SHIM_HANDSHAKE);
	char line[QUOTE_MAX + 8];

	first_line(p->out, line, sizeof(line));
	if (timed_out) {
		log_warnx("--shim %s: not this project's shim: `%s --version` did not answer"
			  " within %.0f s and was killed (the Go 0.2.9 shim waits for its"
			  " container instead); creates will fail: give --shim the"
			  " containerd-shim built with this daemon", p->name, p->path, PROBE_NS / 1e9);
		return;
	}
	if (strcmp(line, SHIM_VERSION_LINE) == 0 && WIFEXITED(p->status) &&
	    WEXITSTATUS(p->status) == 0) {
		log_debug("shim %s: %s", p->path, line);
		return;
	}
	if (strncmp(line, SHIM_HANDSHAKE, hl) == 0) {
		log_warnx("--shim %s speaks shim protocol %s, this daemon speaks %s: its"
			  " containers may fail or be misread; install the containerd-shim built"
			  " with this daemon", p->path, line + hl, SHIM_PROTOCOL);
		return;
	}
	log_warnx("--shim %s: not this project's shim: `%s --version` answered %s%s%s"
		  " (%s %d), not \"%s\"; creates will fail: give --shim the containerd-shim"
		  " built with this daemon", p->name, p->path, line[0] ? "\"" : "nothing",
	    line, line[0] ? "\"" : "", WIFSIGNALED(p->status) ? "killed by signal" : "exit status",
	    WIFSIGNALED(p->status) ? WTERMSIG(p->status) : WEXITSTATUS(p->status),
	    SHIM_VERSION_LINE);
}

static void
probe_close(struct probe *p)
{
	if (ev_is_active(&p->out_w)) {
		ev_io_stop(D.loop, &p->out_w);
		close(p->out_w.fd);
	}
	p->eof = true;
}

static void
probe_judge(struct probe *p, bool timed_out)
{
	if (p->judged)
		return;
	p->judged = true;
	ev_timer_stop(D.loop, &p->deadline_w);
	p->out[p->len] = '\0';
	log_debug("%s %s: --version answered in %.1f ms", p->flag, p->path,
	    (double)(mono_ns() - p->started) / 1e6);
	if (p->is_shim)
		judge_shim(p, timed_out);
	else
		judge_runtime(p, timed_out);
}

/* Answered once reaped and its pipe at EOF, in either order. */
static void
probe_maybe_done(struct probe *p)
{
	if (p->reaped && p->eof)
		probe_judge(p, false);
}

static void
probe_child_cb(struct reap *r)
{
	struct probe *p = r->data;

	p->reaped = true;
	p->status = r->status;
	probe_maybe_done(p);
}

static void
probe_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct probe *p = w->data;
	char chunk[1024];
	ssize_t n = read(w->fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		probe_close(p);
		probe_maybe_done(p);
		return;
	}
	if (p->len < PROBE_OUT_MAX) {
		size_t k = (size_t)n < PROBE_OUT_MAX - p->len ? (size_t)n : PROBE_OUT_MAX - p->len;

		memcpy(p->out + p->len, chunk, k);
		p->len += k;
	}
}

/* Not answered in time (or exited while a child of it holds the pipe):
 * the whole process group goes; libev reaps the probe itself later. */
static void
probe_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct probe *p = w->data;

	kill(-p->pid, SIGKILL);
	if (!p->reaped)
		kill(p->pid, SIGKILL);
	probe_close(p);
	probe_judge(p, !p->reaped);
}

static void
probe_start(struct probe *p)
{
	char *argv[] = { p->path, "--version", NULL };
	int fds[2], rc;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		log_warn("%s %s: cannot check it", p->flag, p->name);
		return;
	}
	/* stdin /dev/null: a program waiting for input reads EOF at once. */
	rc = spawn_start(&(struct spawn_req){ .path = p->path, .argv = argv,
			     .fds = { -1, fds[1], fds[1] }, .nfds = 3, .default_signals = true,
			     .report_fd = 2, .report_prefix = "", .new_pgroup = true },
	    &p->pid);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		errno = rc;
		log_warn("%s %s: cannot run it", p->flag, p->name);
		return;
	}
	p->started = mono_ns();
	reap_start(&p->child_w, p->pid, true, probe_child_cb, p);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	ev_io_init(&p->out_w, probe_read_cb, fds[0], EV_READ);
	p->out_w.data = p;
	ev_io_start(D.loop, &p->out_w);
	/* Reconcile may have kept the loop from its clock a while. */
	ev_now_update(D.loop);
	ev_timer_init(&p->deadline_w, probe_deadline_cb, (double)PROBE_NS / 1e9, 0.);
	p->deadline_w.data = p;
	ev_timer_start(D.loop, &p->deadline_w);
}

static void
check_program(struct probe *p, const char *flag, const char *name, bool is_shim,
    const char *what_fails)
{
	char why[512];

	p->flag = flag;
	p->name = name;
	p->is_shim = is_shim;
	if (program_lookup(name, p->path, sizeof(p->path), why, sizeof(why)) < 0) {
		log_warnx("%s %s: %s: %s", flag, name, why, what_fails);
		return;
	}
	probe_start(p);
}

static void
check_root(void)
{
	uid_t euid = geteuid();

	if (euid == 0)
		return;
	log_warnx("not running as root (euid %d): the runtime can run only rootless"
		  " containers (a bundle with a user namespace; others fail with the runtime's"
		  " \"rootless container requires user namespaces\"), cgroup limits, updates,"
		  " stats and OOM notices need cgroups delegated to this user, and only root,"
		  " uid %d and --group may use the socket", (int)euid, (int)euid);
}

void
preflight_start(void)
{
	check_root();
	check_program(&probes[0], "--runtime", D.cfg.runtime, false,
	    "every create will fail until it is installed");
	check_program(&probes[1], "--shim", D.cfg.shim, true,
	    "every create will fail until it is installed");
}

void
preflight_stop(void)
{
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		struct probe *p = &probes[i];

		if (p->pid <= 0 || p->reaped)
			continue;
		/* The daemon is stopping: the probe goes with it, unjudged. */
		kill(-p->pid, SIGKILL);
		kill(p->pid, SIGKILL);
		reap_stop(&p->child_w);
		ev_timer_stop(D.loop, &p->deadline_w);
		probe_close(p);
	}
}
