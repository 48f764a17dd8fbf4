/*
 * containerd-shim: one per container process (an init or an exec).
 *
 * It runs the runtime (`create`, `restore --detach` or `exec --detach`),
 * reports "created <pid>" or "error <msg>" on the daemon's sync fd, then
 * supervises the process alone: relays its stdin (and tty), forwards control
 * commands, reports OOM kills, reaps it as child subreaper and writes
 * PROC_DIR/exit ("STATUS EXITED_AT_NS") atomically, so a daemon that died or
 * restarted meanwhile still learns how it ended. Single-threaded poll() loop.
 *
 * With --log (the daemon passes it when no stdout and no stderr were named)
 * the process gets pipes (or its tty's master is read) and the shim writes
 * its output as records to the log file (logfile.h), all of it before the
 * exit is reported.
 *
 * Phases: CREATE (the runtime runs) -> RUNNING (the pid is known and was
 * reported) -> EXITED (reaped; drain the tty, write exit, leave).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>	/* rename() only: no stdio code is linked */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "control.h"
#include "fmt.h"
#include "io.h"
#include "logfile.h"
#include "oom.h"
#include "protocol.h"
#include "runtime.h"
#include "shim.h"

#define CONTROL_NAME "control"
#define CONSOLE_NAME "console.sock"
#define EXIT_NAME "exit"
#define EXIT_TMP "exit.tmp"
#define OOM_NAME "oom"
#define PID_NAME "pid"
#define RUNTIME_LOG "runtime.log"
#define DRAIN_MS 2000		/* at most, for the tty output after exit */
#define DRAIN_IDLE_MS 200	/* ... and stop once it is quiet this long */
#define MAX_REAPED 16

enum phase { PHASE_CREATE, PHASE_RUNNING, PHASE_EXITED };

/* A child reaped before we knew its pid was the container's. */
struct reaped {
	pid_t pid;
	int status;
};

struct shim {
	struct shim_opts o;
	int in_dir;			/* chdir(PROC_DIR) done: relative names work */
	int sync_fd;			/* -1 once the daemon is gone */
	int sig_fd;
	int ctl_fd;
	int con_listen, con_conn, master;
	const char *console_path;	/* as given to the runtime */
	struct shim_stdio io;
	struct shim_relay in_relay;	/* stdin fifo -> pipe or pty master */
	struct shim_relay out_relay;	/* pty master -> stdout */
	int stdin_closing, stdin_closed;
	int ws_pending;
	struct winsize ws;
	char ctl_buf[128];
	size_t ctl_len;
	int ctl_skip;			/* discarding an overlong line */
	enum phase phase;
	pid_t runtime_pid, pid;
	struct reaped reaped[MAX_REAPED];
	unsigned n_reaped;
	int exit_status;
	unsigned long long exited_at;
	struct shim_oom oom;
	struct shim_logfile log;
	struct shim_logstream ls[2];	/* stdout, stderr */
};

/* Copy buffers for relays that cannot splice; untouched (no RSS) otherwise. */
static char in_buf[4096], out_buf[4096];
/* Log lines being assembled; touched only when logging. */
static char log_buf[2][SHIM_LOG_LINE];

static const char usage_text[] =
    "usage: containerd-shim --id ID --bundle DIR --dir PROC_DIR --runtime RUNTIME\n"
    "           [--runtime-arg ARG]... [--stdin PATH] [--stdout PATH] [--stderr PATH]\n"
    "           [--terminal] [--exec PROCESS_JSON] [--checkpoint DIR] [--no-pivot]\n"
    "           [--sync-fd N] [--log PATH [--log-max-size BYTES]]\n"
    "\n"
    "Runs RUNTIME create (or restore, or exec --detach) for one container process,\n"
    "reports \"created PID\" or \"error MSG\" on the sync fd (default 3), then\n"
    "supervises the process and writes PROC_DIR/exit (\"STATUS EXITED_AT_NS\").\n"
    "With --log (no --stdout, no --stderr) its output is written to PATH as\n"
    "k8s-file records (\"TIME STREAM F|P DATA\"), rotated to PATH.1 past BYTES\n"
    "(0 = no cap).\n"

    "--version prints the line the daemon checks at start (" SHIM_VERSION_LINE ").\n";

/* ---- small helpers ---- */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* p made absolute against the cwd; NULL if that fails. */
static const char *abs_path(const char *p)
{
	static char cwd[4096];

	if (p == NULL || p[0] == '\0' || p[0] == '/')
		return p;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	return shim_concat(cwd, "/", p);
}

/* The daemon gives us /dev/null; make sure 0, 1, 2 are taken in any case. */
static void ensure_std_fds(void)
{
	int fd;

	for (fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0)
			_exit(2);
}

/* Nothing inherited but 0, 1, 2 and the sync fd survives. */
static void close_other_fds(int keep)
{
#ifdef SYS_close_range
	if ((keep == 3 || syscall(SYS_close_range, 3U, (unsigned)keep - 1, 0U) == 0) &&
	    syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U) == 0)
		return;
#endif
	for (int fd = 3; fd < 1024; fd++)
		if (fd != keep)
			close(fd);
}

/* ---- talking to the daemon ---- */

static void sync_send(struct shim *s, const char *msg, size_t len)
{
	if (s->sync_fd < 0)
		return;
	if (shim_write_all(s->sync_fd, msg, len) == 0)
		return;
	if (errno == EPIPE) {
		shim_logx("sync fd: the daemon is gone; going on without it");
		close_fd(&s->sync_fd);
	} else {
		shim_log("sync fd: dropped \"%.*s\"", (int)(len ? len - 1 : 0), msg);
	}
}

static void cleanup_files(struct shim *s)
{
	if (!s->in_dir)
		return;
	(void)unlink(CONTROL_NAME);
	if (s->o.terminal)
		(void)unlink(CONSOLE_NAME);
}

/* Before the process exists: report "error MSG" and exit 1. */
static void __attribute__((noreturn, format(printf, 2, 3)))
fail(struct shim *s, const char *fmt, ...)
{
	char line[3072];
	va_list ap;
	int n;

	memcpy(line, "error ", 6);
	va_start(ap, fmt);
	n = shim_vsnprintf(line + 6, sizeof(line) - 7, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	n += 6;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	for (int i = 6; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	shim_logx("%.*s", n, line);
	line[n++] = '\n';
	cleanup_files(s);
	sync_send(s, line, (size_t)n);
	exit(1);
}

static void report_oom(struct shim *s)
{
	char line[48];
	int fd, n;

	n = shim_snprintf(line, sizeof(line), "oom %llu\n", shim_now_ns());
	fd = open(OOM_NAME, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0 || shim_write_all(fd, line, (size_t)n) < 0)
		shim_log("write %s", OOM_NAME);
	if (fd >= 0)
		close(fd);
	shim_logx("the container was OOM killed");
	sync_send(s, "oom\n", 4);
}

static void check_oom(struct shim *s)
{
	int n = shim_oom_check(&s->oom);

	while (n-- > 0)
		report_oom(s);
}

/* ---- the command line ---- */

static int usage_error(const char *what, const char *arg)
{
	shim_puts(2, "containerd-shim: ");
	shim_puts(2, what);
	if (arg != NULL) {
		shim_puts(2, " ");
		shim_puts(2, arg);
	}
	shim_puts(2, "\n");
	shim_puts(2, usage_text);
	return -1;
}

/* 0 to run, 1 after --help or --version, -1 on bad usage (message printed). */
static int parse_args(int argc, char **argv, struct shim_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sync_fd = 3;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL, *eq;
		char name[32];
		size_t nlen;

		if (strncmp(a, "--", 2) != 0)
			return usage_error("unexpected argument", a);
		eq = strchr(a, '=');
		nlen = eq ? (size_t)(eq - a) : strlen(a);
		if (nlen >= sizeof(name))
			return usage_error("unknown option", a);
		memcpy(name, a, nlen);
		name[nlen] = '\0';
		if (strcmp(name, "--help") == 0) {
			shim_puts(1, usage_text);
			return 1;
		}
		/* The daemon's handshake at start (protocol.h): one fixed line. */
		if (strcmp(name, "--version") == 0) {
			shim_puts(1, SHIM_VERSION_LINE "\n");
			return 1;
		}
		if (strcmp(name, "--terminal") == 0 || strcmp(name, "--no-pivot") == 0) {
			if (eq)
				return usage_error("takes no value:", name);
			if (name[2] == 't')
				o->terminal = 1;
			else
				o->no_pivot = 1;
			continue;
		}
		if (eq)
			v = eq + 1;
		else if (i + 1 < argc)
			v = argv[++i];
		else
			return usage_error("needs a value:", name);
		if (strcmp(name, "--id") == 0)
			o->id = v;
		else if (strcmp(name, "--bundle") == 0)
			o->bundle = v;
		else if (strcmp(name, "--dir") == 0)
			o->dir = v;
		else if (strcmp(name, "--runtime") == 0)
			o->runtime = v;
		else if (strcmp(name, "--runtime-arg") == 0) {
			if (o->n_runtime_args == SHIM_MAX_RUNTIME_ARGS)
				return usage_error("too many", name);
			o->runtime_args[o->n_runtime_args++] = v;
		} else if (strcmp(name, "--stdin") == 0)
			o->stdin_path = v;
		else if (strcmp(name, "--stdout") == 0)
			o->stdout_path = v;
		else if (strcmp(name, "--stderr") == 0)
			o->stderr_path = v;
		else if (strcmp(name, "--exec") == 0)
			o->exec_json = v;
		else if (strcmp(name, "--log") == 0)
			o->log_path = v;
		else if (strcmp(name, "--log-max-size") == 0) {
			const char *end;

			if (shim_parse_u64(v, &end, &o->log_max_size) < 0 || *end != '\0')
				return usage_error("--log-max-size wants a number of bytes, not", v);
		} else if (strcmp(name, "--checkpoint") == 0)
			o->checkpoint = v;
		else if (strcmp(name, "--sync-fd") == 0) {
			const char *end;
			unsigned long long n;

			if (shim_parse_u64(v, &end, &n) < 0 || *end != '\0' || n < 3 || n > 65535)
				return usage_error("--sync-fd wants a number >= 3, not", v);
			o->sync_fd = (int)n;
		} else
			return usage_error("unknown option", name);
	}
	if (o->id == NULL || o->id[0] == '\0' || o->id[0] == '-')
		return usage_error("--id is required", NULL);
	if (o->dir == NULL || o->dir[0] == '\0')
		return usage_error("--dir is required", NULL);
	if (o->runtime == NULL || o->runtime[0] == '\0')
		return usage_error("--runtime is required", NULL);
	if (o->exec_json == NULL && (o->bundle == NULL || o->bundle[0] == '\0'))
		return usage_error("--bundle is required", NULL);
	if (o->log_path != NULL && (o->log_path[0] == '\0' ||
	    (o->stdout_path && o->stdout_path[0]) || (o->stderr_path && o->stderr_path[0])))
		return usage_error("--log wants a path, and excludes --stdout and --stderr", NULL);
	if (o->exec_json != NULL && o->checkpoint != NULL)
		return usage_error("--exec and --checkpoint exclude each other", NULL);
	/* Everything is opened after chdir(PROC_DIR): make paths absolute first. */
	{
		const char **paths[] = { &o->dir, &o->bundle, &o->exec_json, &o->checkpoint,
			&o->stdin_path, &o->stdout_path, &o->stderr_path, &o->runtime, &o->log_path };

		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
			if (*paths[i] == NULL || (paths[i] == &o->runtime && strchr(o->runtime, '/') == NULL))
				continue;	/* absent, or a name looked up in PATH */
			if ((*paths[i] = abs_path(*paths[i])) == NULL)
				return usage_error("cannot make a path absolute (cwd gone or too long)", NULL);
		}
	}
	return 0;
}

/* ---- setup ---- */

static void setup_process(struct shim *s)
{
	struct sigaction sa;
	sigset_t chld;

	(void)setsid();	/* fails only if we lead a group already: fine */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		fail(s, "prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_DFL;	/* an ignored SIGCHLD would reap for us */
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0)
		fail(s, "sigprocmask: %s", strerror(errno));
	s->sig_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sig_fd < 0)
		fail(s, "signalfd: %s", strerror(errno));
}

static void setup_control(struct shim *s)
{
	(void)unlink(CONTROL_NAME);
	if (mkfifo(CONTROL_NAME, 0600) < 0)
		fail(s, "mkfifo %s/%s: %s", s->o.dir, CONTROL_NAME, strerror(errno));
	/* O_RDWR: never an EOF when a writer goes away, never ENXIO. */
	s->ctl_fd = open(CONTROL_NAME, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (s->ctl_fd < 0)
		fail(s, "open %s/%s: %s", s->o.dir, CONTROL_NAME, strerror(errno));
}

static void setup_console(struct shim *s)
{
	struct sockaddr_un sa;
	size_t n = strlen(s->o.dir) + 1 + sizeof(CONSOLE_NAME);

	s->con_listen = shim_console_listen(CONSOLE_NAME);
	if (s->con_listen < 0)
		fail(s, "listen on %s/%s: %s", s->o.dir, CONSOLE_NAME, strerror(errno));
	/*
	 * Too long for a socket address (Docker's 64-character ids under
	 * /var/run/docker/libcontainerd/containerd/ always are): name it
	 * through our cwd, which is the directory. Not a relative path: `runc
	 * create` chdirs into the bundle before it dials the socket.
	 */
	if (n > sizeof(sa.sun_path)) {
		char buf[64];

		snprintf(buf, sizeof(buf), "/proc/%d/cwd/%s", (int)getpid(), CONSOLE_NAME);
		s->console_path = shim_concat(buf, "", "");
		if (s->console_path == NULL)
			fail(s, "out of memory");
		return;
	}
	s->console_path = shim_concat(s->o.dir, "/", CONSOLE_NAME);
	if (s->console_path == NULL)
		fail(s, "paths too long");
}

static void spawn_runtime(struct shim *s)
{
	static struct shim_restore restore;	/* argv points into it */
	char *argv[SHIM_RUNTIME_MAX_ARGV], err[1024];
	int rc, restoring = s->o.checkpoint != NULL && s->o.exec_json == NULL;

	if (restoring && mkdir("criu-work", 0700) < 0 && errno != EEXIST)
		fail(s, "mkdir %s/criu-work: %s", s->o.dir, strerror(errno));
	if (restoring && shim_restore_load(s->o.checkpoint, &restore, err, sizeof(err)) < 0)
		fail(s, "%s", err);
	if (shim_runtime_argv(&s->o, s->o.terminal ? s->console_path : NULL,
	    restoring ? &restore : NULL, argv) < 0)
		fail(s, "paths too long");
	rc = shim_runtime_spawn(argv, s->io.child_in, s->io.child_out, s->io.child_err,
	    &s->runtime_pid);
	if (rc != 0)
		fail(s, "start runtime %s: %s", s->o.runtime, strerror(rc));
	/* The runtime (then the process) holds these now; our copies would keep the pipe alive. */
	shim_stdio_close_child(&s->io);
}

/* ---- stdin and the tty ---- */

static void stdin_maybe_finish(struct shim *s)
{
	if (!s->stdin_closing || s->stdin_closed)
		return;
	if (s->o.terminal && s->master < 0)
		return;	/* the ^D needs the master; tried again when it arrives */
	if (s->in_relay.in >= 0 &&
	    (shim_relay_pending(&s->in_relay) || shim_fd_pending(s->in_relay.in) > 0))
		return;	/* what was written before close-stdin goes first */
	if (s->o.terminal && write(s->master, "\x04", 1) < 0)
		shim_log("close-stdin: write ^D");
	s->in_relay.in = -1;
	shim_stdio_close_stdin(&s->io);
	s->stdin_closed = 1;
}

static void run_stdin_relay(struct shim *s)
{
	switch (shim_relay_run(&s->in_relay)) {
	case SHIM_RELAY_OK:
		break;
	case SHIM_RELAY_EOF:	/* a plain file as the tty's input ran out */
		s->in_relay.in = -1;
		break;
	case SHIM_RELAY_OUT_ERR:	/* the process closed its stdin, or exited */
		if (errno != EPIPE && errno != EIO)
			shim_log("stdin relay");
		s->in_relay.in = -1;
		shim_stdio_close_stdin(&s->io);
		break;
	}
	stdin_maybe_finish(s);
}

/* 1 when the master's output has ended. */
static int run_tty_relay(struct shim *s)
{
	switch (shim_relay_run(&s->out_relay)) {
	case SHIM_RELAY_EOF:
		s->out_relay.in = -1;
		return 1;
	case SHIM_RELAY_OUT_ERR:
		/* Keep reading so the process never blocks on a full tty. */
		shim_log("tty output: discarding from now on");
		s->out_relay.out = -1;
		s->out_relay.no_splice = 1;
		break;
	}
	return 0;
}

static void got_master(struct shim *s, int fd)
{
	s->master = fd;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		shim_log("pty master: O_NONBLOCK");
	if (s->ws_pending && ioctl(fd, TIOCSWINSZ, &s->ws) < 0)
		shim_log("pty master: resize");
	if (s->log.fd >= 0)
		s->ls[0].in = fd;	/* the tty's output is the log's stdout */
	else
		shim_relay_init(&s->out_relay, fd, s->io.tty_out, out_buf, sizeof(out_buf));
	if (s->io.stdin_fifo >= 0 && !s->stdin_closed)
		shim_relay_init(&s->in_relay, s->io.stdin_fifo, fd, in_buf, sizeof(in_buf));
	close_fd(&s->con_conn);
	close_fd(&s->con_listen);
	(void)unlink(CONSOLE_NAME);
	stdin_maybe_finish(s);
}

static void console_recv(struct shim *s)
{
	int fd = shim_console_recv(s->con_conn);

	if (fd >= 0) {
		got_master(s, fd);
	} else if (errno != EAGAIN) {
		shim_log("console socket: no pty master received");
		close_fd(&s->con_conn);
	}
}

static void console_accept(struct shim *s)
{
	int c = shim_console_accept(s->con_listen);

	if (c < 0) {
		if (errno != EAGAIN && errno != EINTR)
			shim_log("console socket: accept");
		return;
	}
	close_fd(&s->con_conn);
	s->con_conn = c;
	console_recv(s);
}

/* ---- control commands ---- */

static void control_line(struct shim *s, const char *line, size_t len)
{
	struct shim_cmd cmd;

	if (shim_control_parse(line, len, &cmd) < 0) {
		shim_logx("control: ignoring \"%.*s\"", (int)(len > 80 ? 80 : len), line);
		return;
	}
	switch (cmd.type) {
	case SHIM_CMD_CLOSE_STDIN:
		s->stdin_closing = 1;
		stdin_maybe_finish(s);
		break;
	case SHIM_CMD_RESIZE:
		if (!s->o.terminal)
			break;
		s->ws.ws_col = cmd.width;
		s->ws.ws_row = cmd.height;
		s->ws_pending = 1;
		if (s->master >= 0 && ioctl(s->master, TIOCSWINSZ, &s->ws) < 0)
			shim_log("resize");
		break;
	}
}

static void on_control(struct shim *s)
{
	for (;;) {
		ssize_t n = read(s->ctl_fd, s->ctl_buf + s->ctl_len, sizeof(s->ctl_buf) - s->ctl_len);
		char *nl;

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return;
		}
		s->ctl_len += (size_t)n;
		while ((nl = memchr(s->ctl_buf, '\n', s->ctl_len)) != NULL) {
			size_t len = (size_t)(nl - s->ctl_buf);

			if (!s->ctl_skip)
				control_line(s, s->ctl_buf, len);
			s->ctl_skip = 0;
			s->ctl_len -= len + 1;
			memmove(s->ctl_buf, nl + 1, s->ctl_len);
		}
		if (s->ctl_len == sizeof(s->ctl_buf)) {
			if (!s->ctl_skip)
				shim_logx("control: ignoring an overlong line");
			s->ctl_skip = 1;
			s->ctl_len = 0;
		}
	}
}

/* ---- children ---- */

static int exit_code(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static void container_exited(struct shim *s, int status)
{
	s->exit_status = exit_code(status);
	s->exited_at = shim_now_ns();
	s->phase = PHASE_EXITED;
}

static pid_t read_pid_file(void)
{
	char buf[32];
	ssize_t n;
	unsigned long long v;
	const char *end;
	int fd = open(PID_NAME, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (shim_parse_u64(buf, &end, &v) < 0 || v == 0 || v > 0x7fffffff ||
	    (*end != '\0' && *end != '\n'))
		return -1;
	return (pid_t)v;
}

static void runtime_failed(struct shim *s, int status, int have_pid)
{
	char msg[2048];
	const char *verb = shim_runtime_verb(&s->o);

	if (shim_runtime_error(RUNTIME_LOG, msg, sizeof(msg)) == 0 && msg[0] != '\0')
		fail(s, "%s", msg);
	if (WIFSIGNALED(status))
		fail(s, "%s %s killed by signal %d", s->o.runtime, verb, WTERMSIG(status));
	if (WEXITSTATUS(status) != 0 || have_pid)
		fail(s, "%s %s exited with status %d", s->o.runtime, verb, WEXITSTATUS(status));
	fail(s, "%s %s exited with status 0 but wrote no valid pid file", s->o.runtime, verb);
}

static void runtime_exited(struct shim *s, int status)
{
	char line[32];
	pid_t pid;
	int n;

	s->runtime_pid = -1;
	pid = read_pid_file();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || pid < 0)
		runtime_failed(s, status, pid > 0);
	s->pid = pid;
	if (s->o.terminal && s->master < 0) {
		/* The runtime sent the master before it exited: it is queued. */
		if (s->con_conn < 0)
			console_accept(s);
		else
			console_recv(s);
		if (s->master < 0)
			shim_logx("no pty master from the runtime: tty output is lost");
	}
	n = shim_snprintf(line, sizeof(line), "created %d\n", (int)pid);
	sync_send(s, line, (size_t)n);
	/* From now on a daemon that does not read must never block us. */
	if (s->sync_fd >= 0)
		(void)fcntl(s->sync_fd, F_SETFL, fcntl(s->sync_fd, F_GETFL) | O_NONBLOCK);
	if (s->o.exec_json == NULL)
		(void)shim_oom_watch(&s->oom, pid);
	s->phase = PHASE_RUNNING;
	for (unsigned i = 0; i < MAX_REAPED && i < s->n_reaped; i++)
		if (s->reaped[i].pid == pid)
			container_exited(s, s->reaped[i].status);
}

static void reap_children(struct shim *s)
{
	struct signalfd_siginfo si;
	pid_t pid;
	int status;

	while (read(s->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == s->runtime_pid) {
			runtime_exited(s, status);
		} else if (s->pid > 0 && pid == s->pid) {
			container_exited(s, status);
		} else {
			/* Maybe the process, exited before the runtime told its pid. */
			s->reaped[s->n_reaped % MAX_REAPED].pid = pid;
			s->reaped[s->n_reaped % MAX_REAPED].status = status;
			s->n_reaped++;
		}
	}
}

/* ---- the loop ---- */

enum tag { T_SIG, T_CTL, T_LISTEN, T_CONN, T_IN, T_OUT, T_OOM, T_LOG_OUT, T_LOG_ERR, T_MAX };

static void run_loop(struct shim *s)
{
	while (s->phase != PHASE_EXITED) {
		struct pollfd p[T_MAX];
		enum tag tags[T_MAX];
		int n = 0, fd;
		short ev;

#define ADD(f, e, t) do { p[n].fd = (f); p[n].events = (e); p[n].revents = 0; tags[n++] = (t); } while (0)
		ADD(s->sig_fd, POLLIN, T_SIG);
		ADD(s->ctl_fd, POLLIN, T_CTL);
		if (s->con_listen >= 0)
			ADD(s->con_listen, POLLIN, T_LISTEN);
		if (s->con_conn >= 0)
			ADD(s->con_conn, POLLIN, T_CONN);
		if ((fd = shim_relay_pollfd(&s->in_relay, &ev)) >= 0)
			ADD(fd, ev, T_IN);
		if ((fd = shim_relay_pollfd(&s->out_relay, &ev)) >= 0)
			ADD(fd, ev, T_OUT);
		if (s->oom.fd >= 0)
			ADD(s->oom.fd, POLLIN, T_OOM);
		if (s->ls[0].in >= 0)
			ADD(s->ls[0].in, POLLIN, T_LOG_OUT);
		if (s->ls[1].in >= 0)
			ADD(s->ls[1].in, POLLIN, T_LOG_ERR);
#undef ADD
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno != EINTR)
				shim_log("poll");
			continue;
		}
		/* Children last: the relays and commands of this round go first. */
		for (int i = n - 1; i >= 0; i--) {
			if (p[i].revents == 0)
				continue;
			switch (tags[i]) {
			case T_SIG: reap_children(s); break;
			case T_CTL: on_control(s); break;
			case T_LISTEN: if (s->con_listen >= 0) console_accept(s); break;
			case T_CONN: if (s->con_conn >= 0) console_recv(s); break;
			case T_IN: if (s->in_relay.in >= 0) run_stdin_relay(s); break;
			case T_OUT: if (s->out_relay.in >= 0) run_tty_relay(s); break;
			case T_OOM: check_oom(s); break;
			case T_LOG_OUT: (void)shim_logstream_run(&s->log, &s->ls[0]); break;
			case T_LOG_ERR: (void)shim_logstream_run(&s->log, &s->ls[1]); break;
			case T_MAX: break;
			}
		}
	}
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The tty's last output must reach stdout before we say the process exited. */
static void drain_tty(struct shim *s)
{
	long long deadline = now_ms() + DRAIN_MS;

	while (s->out_relay.in >= 0) {
		long long left = deadline - now_ms();
		struct pollfd p;
		int r;

		if (left <= 0)
			break;
		p.fd = shim_relay_pollfd(&s->out_relay, &p.events);
		p.revents = 0;
		r = poll(&p, 1, (int)(left < DRAIN_IDLE_MS ? left : DRAIN_IDLE_MS));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (run_tty_relay(s))
			break;
	}
}

/*
 * Everything the process wrote is in the pipes (or the pty) once it is
 * reaped: read it all before the exit is told, so a `logs` after the exit
 * event has it all. A writer that lives on (a background child of an
 * exec holding the pipe) gets the tty's drain time, then is cut off.
 */
static void drain_logs(struct shim *s)
{
	long long deadline = now_ms() + DRAIN_MS;

	if (s->log.fd < 0)
		return;
	for (;;) {
		struct pollfd p[2];
		int n = 0, r;
		long long left = deadline - now_ms();

		for (int i = 0; i < 2; i++) {
			if (s->ls[i].in < 0)
				continue;
			while (s->ls[i].in >= 0 && shim_logstream_run(&s->log, &s->ls[i]) == 0 &&
			    shim_fd_pending(s->ls[i].in) > 0)
				;	/* a busy stream: READ_ROUNDS at a time until empty */
			if (s->ls[i].in >= 0) {
				p[n].fd = s->ls[i].in;
				p[n].events = POLLIN;
				p[n++].revents = 0;
			}
		}
		if (n == 0 || left <= 0)
			break;
		r = poll(p, (nfds_t)n, (int)(left < DRAIN_IDLE_MS ? left : DRAIN_IDLE_MS));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
	}
	shim_logstream_flush(&s->log, &s->ls[0]);
	shim_logstream_flush(&s->log, &s->ls[1]);
	if (s->log.dropped > 0)
		shim_logx("log: %llu records (%llu bytes) of output were dropped in all",
		    s->log.dropped, s->log.dropped_bytes);
}

/* The exit goes to a daemon that is there on the sync pipe as well as to
 * the file: a full disk can stop the file, not the pipe, and the status
 * must not become "unknown" for want of a page. */
static void report_exit(struct shim *s)
{
	char line[64];
	int n = shim_snprintf(line, sizeof(line), "exited %d %llu\n", s->exit_status,
	    s->exited_at);

	sync_send(s, line, (size_t)n);
}

static void write_exit(struct shim *s)
{
	char line[48];
	int n = shim_snprintf(line, sizeof(line), "%d %llu\n", s->exit_status, s->exited_at);
	int fd = open(EXIT_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || shim_write_all(fd, line, (size_t)n) < 0 || fsync(fd) < 0) {
		shim_log("write %s/%s", s->o.dir, EXIT_TMP);
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	if (rename(EXIT_TMP, EXIT_NAME) < 0) {
		shim_log("rename %s", EXIT_TMP);
		return;
	}
	fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int main(int argc, char **argv)
{
	static struct shim s;
	char err[512];
	int rc;

	ensure_std_fds();
	rc = parse_args(argc, argv, &s.o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	s.sync_fd = s.o.sync_fd;
	s.sig_fd = s.ctl_fd = s.con_listen = s.con_conn = s.master = -1;
	s.runtime_pid = s.pid = -1;
	s.in_relay.in = s.out_relay.in = -1;
	s.io.child_in = s.io.child_out = s.io.child_err = -1;
	s.io.stdin_fifo = s.io.stdin_keep = s.io.stdin_pipe = s.io.tty_out = -1;
	shim_oom_init(&s.oom);
	s.log.fd = s.ls[0].in = s.ls[1].in = -1;
	if (fcntl(s.sync_fd, F_SETFD, FD_CLOEXEC) < 0) {
		shim_puts(2, "containerd-shim: the sync fd is not open\n");
		return 2;
	}
	close_other_fds(s.sync_fd);

	setup_process(&s);
	if (chdir(s.o.dir) < 0)
		fail(&s, "chdir %s: %s", s.o.dir, strerror(errno));
	s.in_dir = 1;
	shim_log_open();
	/* Stale results of an earlier run would be taken for this one's. */
	(void)unlink(PID_NAME);
	(void)unlink(EXIT_NAME);
	(void)unlink(EXIT_TMP);
	if (shim_stdio_open(&s.io, &s.o, err, sizeof(err)) < 0)
		fail(&s, "%s", err);
	if (s.o.log_path != NULL) {
		if (shim_logfile_open(&s.log, s.o.log_path, s.o.log_max_size) < 0)
			fail(&s, "open the log %s: %s", s.o.log_path, strerror(errno));
		s.ls[0] = (struct shim_logstream){ .in = s.io.log_out, .name = "stdout", .buf = log_buf[0] };
		s.ls[1] = (struct shim_logstream){ .in = s.io.log_err, .name = "stderr", .buf = log_buf[1] };
	}
	setup_control(&s);
	if (s.o.terminal)
		setup_console(&s);
	else if (s.io.stdin_fifo >= 0)
		shim_relay_init(&s.in_relay, s.io.stdin_fifo, s.io.stdin_pipe, in_buf, sizeof(in_buf));
	spawn_runtime(&s);
	s.phase = PHASE_CREATE;

	run_loop(&s);

	check_oom(&s);	/* the kill may be reported after the exit */
	drain_tty(&s);
	drain_logs(&s);
	report_exit(&s);
	write_exit(&s);
	cleanup_files(&s);
	return 0;
}
