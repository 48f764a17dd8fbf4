/*
 * io.c: opening the container's stdio and relaying bytes (see io.h).
 *
 * Fifos are opened so that nothing ever blocks the shim: an output fifo
 * O_RDWR (no ENXIO and no wait for a reader), the stdin fifo O_RDONLY |
 * O_NONBLOCK plus a write handle of our own so a daemon closing its end is
 * not an EOF for the container: only "close-stdin" is.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt.h"
#include "io.h"

#define SPLICE_CHUNK (64 * 1024)
#define RELAY_ROUNDS 16	/* per call, so one busy relay cannot starve the rest */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int is_fifo(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISFIFO(st.st_mode);
}

static int open_devnull(int flags)
{
	return open("/dev/null", flags | O_CLOEXEC);
}

/* An output: a fifo read-write (non-blocking if only the shim writes it). */
static int open_output(const char *path, int shim_only)
{
	if (path == NULL || path[0] == '\0')
		return open_devnull(O_WRONLY);
	if (is_fifo(path))
		return open(path, O_RDWR | O_CLOEXEC | (shim_only ? O_NONBLOCK : 0));
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static int open_stdin(struct shim_stdio *s, const struct shim_opts *o)
{
	const char *path = o->stdin_path;
	int p[2];

	if (path == NULL || path[0] == '\0') {
		s->child_in = open_devnull(O_RDONLY);
		return s->child_in < 0 ? -1 : 0;
	}
	if (!is_fifo(path)) {
		/* A plain file: the container reads it directly, or a tty is fed from it. */
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return -1;
		if (o->terminal) {
			s->stdin_fifo = fd;
			s->child_in = open_devnull(O_RDONLY);
			return s->child_in < 0 ? -1 : 0;
		}
		s->child_in = fd;
		return 0;
	}
	s->stdin_fifo = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (s->stdin_fifo < 0)
		return -1;
	s->stdin_keep = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (s->stdin_keep < 0)
		return -1;
	if (o->terminal) {
		s->child_in = open_devnull(O_RDONLY);
		return s->child_in < 0 ? -1 : 0;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	s->child_in = p[0];
	s->stdin_pipe = p[1];
	/* Only our end: the container's read end stays blocking. */
	return fcntl(s->stdin_pipe, F_SETFL, O_NONBLOCK);
}

/* Logging: pipes the shim reads (a tty's output is read from its master). */
static int open_log_pipes(struct shim_stdio *s, const struct shim_opts *o, char *err,
    size_t errsz)
{
	int p[2];

	if (o->terminal) {
		s->child_out = open_devnull(O_WRONLY);
		s->child_err = open_devnull(O_WRONLY);
		if (s->child_out < 0 || s->child_err < 0)
			goto fail;
		return 0;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		goto fail;
	s->log_out = p[0];
	s->child_out = p[1];
	if (pipe2(p, O_CLOEXEC) < 0)
		goto fail;
	s->log_err = p[0];
	s->child_err = p[1];
	/* Only our ends: the process's stay blocking. */
	if (fcntl(s->log_out, F_SETFL, O_NONBLOCK) < 0 || fcntl(s->log_err, F_SETFL, O_NONBLOCK) < 0)
		goto fail;
	return 0;
fail:
	shim_snprintf(err, errsz, "make the log pipes: %s", strerror(errno));
	shim_stdio_close_child(s);
	shim_stdio_close_stdin(s);
	close_fd(&s->log_out);
	close_fd(&s->log_err);
	return -1;
}

int shim_stdio_open(struct shim_stdio *s, const struct shim_opts *o, char *err, size_t errsz)
{
	const char *what = "stdin", *path = o->stdin_path;

	s->child_in = s->child_out = s->child_err = -1;
	s->stdin_fifo = s->stdin_keep = s->stdin_pipe = s->tty_out = -1;
	s->log_out = s->log_err = -1;
	if (open_stdin(s, o) < 0)
		goto fail;
	if (o->log_path != NULL)
		return open_log_pipes(s, o, err, errsz);
	what = "stdout";
	path = o->stdout_path;
	if (o->terminal) {
		s->tty_out = open_output(path, 1);
		if (s->tty_out < 0)
			goto fail;
		s->child_out = open_devnull(O_WRONLY);
	} else {
		s->child_out = open_output(path, 0);
	}
	if (s->child_out < 0)
		goto fail;
	what = "stderr";
	path = o->stderr_path;
	s->child_err = open_output(path, 0);
	if (s->child_err < 0)
		goto fail;
	return 0;
fail:
	shim_snprintf(err, errsz, "open %s %s: %s", what, path && path[0] ? path : "/dev/null",
	    strerror(errno));
	shim_stdio_close_child(s);
	shim_stdio_close_stdin(s);
	close_fd(&s->tty_out);
	return -1;
}

void shim_stdio_close_child(struct shim_stdio *s)
{
	close_fd(&s->child_in);
	close_fd(&s->child_out);
	close_fd(&s->child_err);
}

void shim_stdio_close_stdin(struct shim_stdio *s)
{
	close_fd(&s->stdin_fifo);
	close_fd(&s->stdin_keep);
	close_fd(&s->stdin_pipe);
}

int shim_fd_pending(int fd)
{
	int n = 0;

	if (fd < 0 || ioctl(fd, FIONREAD, &n) < 0)
		return 0;
	return n > 0 ? n : 0;
}

void shim_relay_init(struct shim_relay *r, int in, int out, char *buf, size_t size)
{
	r->in = in;
	r->out = out;
	r->want_out = 0;
	r->no_splice = out < 0;
	r->buf = buf;
	r->size = size;
	r->off = r->len = 0;
}

int shim_relay_pollfd(const struct shim_relay *r, short *events)
{
	if (r->in < 0)
		return -1;
	if (r->want_out && r->out >= 0) {
		*events = POLLOUT;
		return r->out;
	}
	*events = POLLIN;
	return r->in;
}

int shim_relay_pending(const struct shim_relay *r)
{
	return r->in >= 0 && r->len > r->off;
}

static int writable_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

/* Writes the buffered bytes; 1 if all out, 0 if it must wait, -1 on error. */
static int flush_buf(struct shim_relay *r)
{
	while (r->len > r->off) {
		ssize_t n;

		if (r->out < 0) {	/* discarding */
			r->off = r->len = 0;
			break;
		}
		n = write(r->out, r->buf + r->off, r->len - r->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				r->want_out = 1;
				return 0;
			}
			return -1;
		}
		r->off += (size_t)n;
	}
	r->off = r->len = 0;
	return 1;
}

int shim_relay_run(struct shim_relay *r)
{
	int round;

	r->want_out = 0;
	for (round = 0; round < RELAY_ROUNDS; round++) {
		ssize_t n;
		int f = flush_buf(r);

		if (f < 0)
			return SHIM_RELAY_OUT_ERR;
		if (f == 0)
			return SHIM_RELAY_OK;
		if (!r->no_splice) {
			n = splice(r->in, NULL, r->out, NULL, SPLICE_CHUNK,
			    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
			if (n > 0)
				continue;
			if (n == 0)
				return SHIM_RELAY_EOF;
			switch (errno) {
			case EINTR:
				continue;
			case EAGAIN:
				/* Either side may be the one that would block. */
				if (!writable_now(r->out))
					r->want_out = 1;
				return SHIM_RELAY_OK;
			case EIO:
				return SHIM_RELAY_EOF;
			case EPIPE:
				return SHIM_RELAY_OUT_ERR;
			default:	/* EINVAL and friends: neither side is a pipe */
				r->no_splice = 1;
				continue;
			}
		}
		n = read(r->in, r->buf, r->size);
		if (n > 0) {
			r->len = (size_t)n;
			continue;
		}
		if (n == 0)
			return SHIM_RELAY_EOF;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return SHIM_RELAY_OK;
		return SHIM_RELAY_EOF;	/* EIO: a pty whose other side is gone */
	}
	return SHIM_RELAY_OK;
}
