/* logfile.c: the process's output as k8s-file records (see logfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>	/* rename() only */
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fmt.h"
#include "logfile.h"
#include "shim.h"

#define READ_ROUNDS 16	/* per call, so one busy stream cannot starve the rest */

int shim_logfile_open(struct shim_logfile *l, const char *path, unsigned long long max_size)
{
	off_t end;

	l->path = path;
	l->path1 = shim_concat(path, ".1", "");
	l->max_size = max_size;
	l->dropped = l->dropped_bytes = 0;
	l->failing = 0;
	if (l->path1 == NULL) {
		errno = ENAMETOOLONG;
		return -1;
	}
	l->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (l->fd < 0)
		return -1;
	end = lseek(l->fd, 0, SEEK_END);
	l->size = end > 0 ? (unsigned long long)end : 0;
	return 0;
}

static void rotate(struct shim_logfile *l)
{
	int fd;

	if (rename(l->path, l->path1) < 0) {
		shim_log("log: rename %s to %s", l->path, l->path1);
		return;	/* go on in the file we have: better too big than lost */
	}
	fd = open(l->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		shim_log("log: open %s after rotating", l->path);
		return;	/* the old fd still writes, into PATH.1 */
	}
	close(l->fd);
	l->fd = fd;
	l->size = 0;
}

static void record(struct shim_logfile *l, const char *stream, int partial, const char *data,
    size_t len)
{
	char head[SHIM_TIME_LEN + 16];
	struct iovec iov[3];
	size_t total;
	ssize_t n;
	int hl;

	if (l->fd < 0)
		return;
	shim_time_format(shim_now_ns(), head);
	hl = SHIM_TIME_WIDTH;
	head[hl++] = ' ';
	hl += shim_snprintf(head + hl, sizeof(head) - (size_t)hl, "%s %c ", stream,
	    partial ? 'P' : 'F');
	total = (size_t)hl + len + 1;
	if (l->max_size > 0 && l->size > 0 && l->size + total > l->max_size)
		rotate(l);
	iov[0].iov_base = head;
	iov[0].iov_len = (size_t)hl;
	iov[1].iov_base = (void *)data;
	iov[1].iov_len = len;
	iov[2].iov_base = "\n";
	iov[2].iov_len = 1;
	do
		n = writev(l->fd, iov, 3);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)total) {
		l->size += total;
		if (l->failing)
			shim_logx("log: writing again; %llu records (%llu bytes) were dropped",
			    l->dropped, l->dropped_bytes);
		l->failing = 0;
		return;
	}
	/* A full disk (or a quota): drop the record, never stall the process.
	 * Half a record is cut off again, so the file stays whole lines. */
	if (n > 0 && ftruncate(l->fd, (off_t)l->size) < 0)
		shim_log("log: cutting a short write");
	if (!l->failing)
		shim_log("log: write %s: dropping output until it works again", l->path);
	l->failing = 1;
	l->dropped++;
	l->dropped_bytes += len;
}

/* Writes the complete lines of s->buf, keeps the rest at its start. */
static void lines(struct shim_logfile *l, struct shim_logstream *s)
{
	size_t off = 0;
	char *nl;

	while ((nl = memchr(s->buf + off, '\n', s->len - off)) != NULL) {
		record(l, s->name, 0, s->buf + off, (size_t)(nl - (s->buf + off)));
		off = (size_t)(nl - s->buf) + 1;
	}
	if (off == 0 && s->len == SHIM_LOG_LINE) {
		/* A line longer than the buffer: this much of it, marked partial. */
		record(l, s->name, 1, s->buf, s->len);
		off = s->len;
	}
	memmove(s->buf, s->buf + off, s->len - off);
	s->len -= off;
}

int shim_logstream_run(struct shim_logfile *l, struct shim_logstream *s)
{
	for (int round = 0; s->in >= 0 && round < READ_ROUNDS; round++) {
		ssize_t n = read(s->in, s->buf + s->len, SHIM_LOG_LINE - s->len);

		if (n > 0) {
			s->len += (size_t)n;
			lines(l, s);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		/* EOF, or EIO: a pty master whose other side is gone. */
		s->in = -1;
		return 1;
	}
	return 0;
}

void shim_logstream_flush(struct shim_logfile *l, struct shim_logstream *s)
{
	if (s->len > 0)
		record(l, s->name, 1, s->buf, s->len);
	s->len = 0;
}
