/*
 * attach: relays a process's stdio through three fifos in a private temp
 * dir, and waits for the process's exit event.
 *
 * Order matters, so that nothing blocks and no exit is missed:
 *  1. fifos made; stdout/stderr opened O_RDONLY|O_NONBLOCK (no writer
 *     needed), stdin O_RDWR (Linux: opens without a reader, and our own
 *     read side keeps early writes from failing);
 *  2. Events subscribed (own connection) with a replay timestamp of "now",
 *     so an exit stored before the subscription is live is still sent;
 *  3. the caller creates the process, then ctr_attach_run relays until the
 *     exit event came and the output fifos reached EOF (or went quiet).
 * A fifo read end reports POLLHUP only after a writer came and went, so
 * "read returned 0 after poll" means the writer is done.
 */
#include "ctr.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "google/protobuf/timestamp.pb-c.h"

/* After the exit event: stop when the output has been quiet this long, or
 * at the latest after DRAIN_MAX_MS (a background child may hold it open). */
#define DRAIN_IDLE_MS 150
#define DRAIN_MAX_MS 2000
#define RELAY_BUF 65536

enum { IO_IN, IO_OUT, IO_ERR, IO_N };

static const char *const io_names[IO_N] = { "stdin", "stdout", "stderr" };

struct ctr_attach {
	struct ctr *c;
	char *id, *pid;
	bool tty;
	char dir[32];		/* "" until made */
	char *path[IO_N];
	int fd[IO_N];		/* our ends; -1 once closed */
	struct grpc_client *evcl;
	struct grpc_stream *ev;
	bool raw;		/* the local terminal is in raw mode */
	struct termios saved;
	int sigfd;
	bool masked;
	sigset_t oldmask;
	int last_sig;		/* the last signal passed on, and when */
	int64_t last_sig_ms;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
make_fifos(struct ctr_attach *at, struct err *e)
{
	static const int flags[IO_N] = {
		O_RDWR | O_NONBLOCK | O_CLOEXEC,
		O_RDONLY | O_NONBLOCK | O_CLOEXEC,
		O_RDONLY | O_NONBLOCK | O_CLOEXEC,
	};
	int i;

	snprintf(at->dir, sizeof(at->dir), "/tmp/ctr-XXXXXX");
	if (mkdtemp(at->dir) == NULL) {
		at->dir[0] = '\0';
		return err_set(e, GRPC_INTERNAL, "cannot make a temp dir for "
		    "the stdio fifos in /tmp: %s", strerror(errno));
	}
	for (i = 0; i < IO_N; i++) {
		if (asprintf(&at->path[i], "%s/%s", at->dir, io_names[i]) < 0) {
			at->path[i] = NULL;
			return err_set(e, GRPC_INTERNAL, "out of memory");
		}
		if (mkfifo(at->path[i], 0600) < 0)
			return err_set(e, GRPC_INTERNAL, "mkfifo %s: %s",
			    at->path[i], strerror(errno));
		if ((at->fd[i] = open(at->path[i], flags[i])) < 0)
			return err_set(e, GRPC_INTERNAL, "open %s: %s",
			    at->path[i], strerror(errno));
	}
	return 0;
}

static int
subscribe(struct ctr_attach *at, struct err *e)
{
	Types__EventsRequest req = TYPES__EVENTS_REQUEST__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t)now.tv_nsec;
	req.timestamp = &ts;
	req.legacytimestamp = (uint64_t)now.tv_sec;
	req.id = at->id;
	if ((at->ev = ctr_events_open(at->c, &req, &at->evcl, e)) == NULL)
		return -1;
	return 0;
}

struct ctr_attach *
ctr_attach_new(struct ctr *c, const char *id, const char *pid, bool tty,
    struct err *e)
{
	struct ctr_attach *at;
	int i;

	if ((at = calloc(1, sizeof(*at))) == NULL ||
	    (at->id = strdup(id)) == NULL || (at->pid = strdup(pid)) == NULL) {
		if (at != NULL)
			free(at->id);
		free(at);
		err_set(e, GRPC_INTERNAL, "out of memory");
		return NULL;
	}
	at->c = c;
	at->tty = tty;
	at->sigfd = -1;
	for (i = 0; i < IO_N; i++)
		at->fd[i] = -1;
	if (make_fifos(at, e) < 0 || subscribe(at, e) < 0) {
		ctr_attach_free(at);
		return NULL;
	}
	return at;
}

const char *
ctr_attach_stdin(const struct ctr_attach *at)
{
	return at->path[IO_IN];
}

const char *
ctr_attach_stdout(const struct ctr_attach *at)
{
	return at->path[IO_OUT];
}

const char *
ctr_attach_stderr(const struct ctr_attach *at)
{
	return at->path[IO_ERR];
}

static void
io_close(struct ctr_attach *at, int i)
{
	if (at->fd[i] >= 0)
		close(at->fd[i]);
	at->fd[i] = -1;
}

void
ctr_attach_free(struct ctr_attach *at)
{
	int i;

	if (at == NULL)
		return;
	if (at->raw)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &at->saved);
	if (at->sigfd >= 0)
		close(at->sigfd);
	if (at->masked)
		sigprocmask(SIG_SETMASK, &at->oldmask, NULL);
	grpc_stream_free(at->ev);
	grpc_client_free(at->evcl);
	for (i = 0; i < IO_N; i++) {
		io_close(at, i);
		if (at->path[i] != NULL)
			unlink(at->path[i]);
		free(at->path[i]);
	}
	if (at->dir[0] != '\0')
		rmdir(at->dir);
	free(at->id);
	free(at->pid);
	free(at);
}

/* ---- relaying ---- */

static void
send_update(struct ctr_attach *at, bool close_stdin, uint32_t w, uint32_t h)
{
	Types__UpdateProcessRequest req = TYPES__UPDATE_PROCESS_REQUEST__INIT;
	struct err e;

	req.id = at->id;
	req.pid = at->pid;
	req.closestdin = close_stdin;
	req.width = w;
	req.height = h;
	/* Best effort: the process may be gone already. */
	if (ctr_call_empty(at->c, "UpdateProcess", &req.base,
	    &types__update_process_response__descriptor, &e) < 0 &&
	    e.code != GRPC_NOT_FOUND)
		fprintf(stderr, "ctr: %s %s: %s\n", close_stdin ? "closing stdin "
		    "of" : "resizing", at->pid, e.msg);
}

static void
send_size(struct ctr_attach *at)
{
	struct winsize ws;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		send_update(at, false, ws.ws_col, ws.ws_row);
}

/* Writes all of buf to a local fd, waiting if it is non-blocking. */
static int
write_all(int fd, const char *buf, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				poll(&pfd, 1, -1);
				continue;
			}
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

struct relay {
	char in[RELAY_BUF];
	size_t inlen, inoff;
	bool local_in;		/* local stdin not at EOF yet */
	bool out_ok[IO_N];	/* local stdout/stderr still writable */
	bool exited;
	int status;
	int64_t exited_at;
};

/* Handles the events that have arrived; 0, or -1 when the stream failed. */
static int
read_events(struct ctr_attach *at, struct relay *r, struct err *e)
{
	Types__Event *ev;
	int rc;

	for (;;) {
		if ((rc = ctr_events_next(at->ev, &ev, 1, e)) < 0)
			return e->code == GRPC_DEADLINE_EXCEEDED ? 0 : -1;
		if (rc == 0)
			return err_set(e, GRPC_UNAVAILABLE, "the daemon ended the "
			    "event stream before %s of %s exited", at->pid, at->id);
		/* An exec's exit comes before its container's; the init's
		 * exit ends any process of the container. */
		if (!r->exited && strcmp(ev->type, "exit") == 0 &&
		    strcmp(ev->id, at->id) == 0 &&
		    (strcmp(ev->pid, at->pid) == 0 || strcmp(ev->pid, "init") == 0)) {
			r->exited = true;
			r->status = (int)ev->status;
			r->exited_at = mono_ms();
		}
		types__event__free_unpacked(ev, NULL);
	}
}

static void
read_output(struct ctr_attach *at, struct relay *r, int i)
{
	char buf[RELAY_BUF];
	ssize_t n;

	n = read(at->fd[i], buf, sizeof(buf));
	if (n > 0) {
		if (r->out_ok[i] && write_all(i == IO_OUT ? STDOUT_FILENO :
		    STDERR_FILENO, buf, (size_t)n) < 0)
			r->out_ok[i] = false;	/* keep draining the fifo */
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		io_close(at, i);
	}
}

static void
relay_stdin(struct ctr_attach *at, struct relay *r, short in_rev, short fifo_rev)
{
	ssize_t n;

	if (in_rev & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) {
		n = (in_rev & POLLNVAL) ? 0 : read(STDIN_FILENO, r->in, sizeof(r->in));
		if (n > 0) {
			r->inlen = (size_t)n;
			r->inoff = 0;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			r->local_in = false;
		}
	}
	if (fifo_rev & (POLLOUT | POLLERR)) {
		n = write(at->fd[IO_IN], r->in + r->inoff, r->inlen - r->inoff);
		if (n > 0)
			r->inoff += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			r->inoff = r->inlen;	/* nobody will read it */
		if (r->inoff == r->inlen)
			r->inlen = r->inoff = 0;
	}
	/* Local EOF and everything handed over: the process gets EOF too. */
	if (!r->local_in && r->inlen == 0 && at->fd[IO_IN] >= 0) {
		io_close(at, IO_IN);
		send_update(at, true, 0, 0);
	}
}

static int
setup_signals(struct ctr_attach *at, struct err *e)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	if (sigprocmask(SIG_BLOCK, &set, &at->oldmask) < 0)
		return err_set(e, GRPC_INTERNAL, "sigprocmask: %s", strerror(errno));
	at->masked = true;
	if ((at->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		return err_set(e, GRPC_INTERNAL, "signalfd: %s", strerror(errno));
	return 0;
}

static void
setup_tty(struct ctr_attach *at)
{
	struct termios raw;

	if (!at->tty || !isatty(STDIN_FILENO) ||
	    tcgetattr(STDIN_FILENO, &at->saved) < 0)
		return;
	raw = at->saved;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0)
		at->raw = true;
	send_size(at);
}

/*
 * SIGINT or SIGTERM to ctr goes on to the process (as docker run's signal
 * proxy does), and ctr relays on until its exit. The process may ignore it
 * (a shell as a container's pid 1 ignores both), so the same signal again
 * within DETACH_MS detaches instead, saying the process still runs. A signal
 * that cannot be delivered, and SIGHUP (the terminal is gone), detach too.
 */
#define DETACH_MS 2000

static int
detach(struct ctr_attach *at, int signo, const char *why)
{
	const char *nl = at->raw ? "\r\n" : "\n";

	fprintf(stderr, "%sctr: %s: detached; %s %s keeps running "
	    "(ctr containers kill%s%s %s stops it)%s", at->raw ? nl : "", why, at->id, at->pid,
	    strcmp(at->pid, "init") == 0 ? "" : " --pid ",
	    strcmp(at->pid, "init") == 0 ? "" : at->pid, at->id, nl);
	return 128 + signo;
}

static int
forward_signal(struct ctr_attach *at, int signo)
{
	Types__SignalRequest req = TYPES__SIGNAL_REQUEST__INIT;
	char why[96];
	struct err e;
	int64_t now = mono_ms();

	if (signo == at->last_sig && now - at->last_sig_ms < DETACH_MS) {
		snprintf(why, sizeof(why), "%s again", strsignal(signo));
		return detach(at, signo, why);
	}
	req.id = at->id;
	req.pid = at->pid;
	req.signal = (uint32_t)signo;
	if (ctr_call_empty(at->c, "Signal", &req.base,
	    &types__signal_response__descriptor, &e) < 0) {
		snprintf(why, sizeof(why), "cannot pass %s on: %.60s",
		    strsignal(signo), e.msg);
		return detach(at, signo, why);
	}
	at->last_sig = signo;
	at->last_sig_ms = now;
	fprintf(stderr, "%sctr: %s passed to %s %s; again within %d s to "
	    "detach%s", at->raw ? "\r\n" : "", strsignal(signo), at->id, at->pid,
	    DETACH_MS / 1000, at->raw ? "\r\n" : "\n");
	return 0;
}

/* A signal: 0 to go on, or 128+signal when ctr must stop. */
static int
read_signals(struct ctr_attach *at)
{
	struct signalfd_siginfo si;
	int rc;

	while (read(at->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGWINCH) {
			if (at->tty)
				send_size(at);
			continue;
		}
		if (si.ssi_signo == SIGHUP)
			return detach(at, SIGHUP, "hung up");
		if ((rc = forward_signal(at, (int)si.ssi_signo)) != 0)
			return rc;
	}
	return 0;
}

int
ctr_attach_run(struct ctr_attach *at, int *status, struct err *e)
{
	enum { P_SIG, P_EV, P_IN, P_FIFO_IN, P_OUT, P_ERR, P_N };
	struct pollfd p[P_N];
	struct relay *r;
	int n, i, sig, rc = -1;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return err_set(e, GRPC_INTERNAL, "out of memory");
	r->local_in = true;
	r->out_ok[IO_OUT] = r->out_ok[IO_ERR] = true;
	if (setup_signals(at, e) < 0)
		goto out;
	setup_tty(at);
	for (;;) {
		for (i = 0; i < P_N; i++) {
			p[i].fd = -1;
			p[i].events = POLLIN;
			p[i].revents = 0;
		}
		p[P_SIG].fd = at->sigfd;
		if (!r->exited)
			p[P_EV].fd = grpc_client_fd(at->evcl);
		if (r->local_in && r->inlen == 0 && at->fd[IO_IN] >= 0 && !r->exited)
			p[P_IN].fd = STDIN_FILENO;
		if (r->inlen > 0 && at->fd[IO_IN] >= 0) {
			p[P_FIFO_IN].fd = at->fd[IO_IN];
			p[P_FIFO_IN].events = POLLOUT;
		}
		p[P_OUT].fd = at->fd[IO_OUT];
		p[P_ERR].fd = at->fd[IO_ERR];
		/* A tty has no stderr: the shim may never open that fifo. */
		if (r->exited && at->fd[IO_OUT] < 0 && (at->fd[IO_ERR] < 0 || at->tty))
			break;
		n = poll(p, P_N, r->exited ? DRAIN_IDLE_MS : -1);
		if (n < 0 && errno != EINTR) {
			err_set(e, GRPC_INTERNAL, "poll: %s", strerror(errno));
			goto out;
		}
		if (n == 0 && r->exited)
			break;	/* the output went quiet */
		if (n <= 0)
			continue;
		if (p[P_SIG].revents && (sig = read_signals(at)) != 0) {
			*status = sig;
			rc = 0;
			goto out;
		}
		if (p[P_EV].revents && read_events(at, r, e) < 0)
			goto out;
		relay_stdin(at, r, p[P_IN].revents, p[P_FIFO_IN].revents);
		if (p[P_OUT].revents)
			read_output(at, r, IO_OUT);
		if (p[P_ERR].revents)
			read_output(at, r, IO_ERR);
		if (r->exited && mono_ms() - r->exited_at > DRAIN_MAX_MS)
			break;
	}
	*status = r->status > 255 ? 255 : r->status;
	rc = 0;
out:
	free(r);
	return rc;
}
