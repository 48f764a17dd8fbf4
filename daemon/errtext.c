/*
 * errtext: a failed step's own words for the client's error, taken from
 * the log files that the undo is about to remove.
 *
 * A create, exec or checkpoint that fails removes what it made: the
 * process's shim directory (shim.log, runtime.log, criu-work/) or the
 * checkpoint directory (criu.work/dump.log). An error that only named one
 * of those files pointed at nothing, so the useful last lines are quoted
 * instead, bounded, and the path is left out.
 *
 * Files are opened non-blocking, without following a final symlink, and
 * read only when regular, and only their last LOG_TAIL bytes: a FIFO or a
 * huge file put in their place cannot hang or bloat anything. Safe off
 * the loop (no global state).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"

#define LOG_TAIL 16384
/* Lines quoted at most, and each line's length. */
#define QUOTE_LINES 3
#define QUOTE_LINE_MAX 240

/* The last LOG_TAIL bytes of path, NUL-terminated, from a whole line; NULL
 * if it is not a readable regular file. */
static char *
read_tail(const char *path)
{
	struct stat st;
	char *buf;
	off_t at;
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (buf = malloc(LOG_TAIL + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	at = st.st_size > LOG_TAIL ? st.st_size - LOG_TAIL : 0;
	while (len < LOG_TAIL && (n = pread(fd, buf + len, LOG_TAIL - len, at + (off_t)len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (at > 0) {	/* the first line is cut: skip it */
		char *nl = strchr(buf, '\n');

		memmove(buf, nl ? nl + 1 : buf + len, strlen(nl ? nl + 1 : buf + len) + 1);
	}
	return buf;
}

/* line without the writer's prefix: the shim's "TIME containerd-shim[PID]: ",
 * CRIU's "(SS.uuuuuu) ". */
static const char *
strip_prefix(const char *line)
{
	const char *p;

	if (line[0] == '(' && (p = strchr(line, ')')) != NULL && p - line < 20 && p[1] == ' ')
		return p + 2;
	if ((p = strstr(line, " containerd-shim[")) != NULL && p - line < 48 &&
	    (p = strstr(p, "]: ")) != NULL)
		return p + 3;
	return line;
}

int
errtext_log_tail(const char *path, const char *want, char *out, size_t n)
{
	const char *lines[QUOTE_LINES];
	size_t k = 0, used = 0;
	char *buf = read_tail(path), *end;

	out[0] = '\0';
	if (buf == NULL)
		return -1;
	/* From the end backwards: the last QUOTE_LINES that match. */
	end = buf + strlen(buf);
	while (end > buf && k < QUOTE_LINES) {
		char *line = end;

		while (line > buf && line[-1] != '\n')
			line--;
		*end = '\0';
		if (line[0] != '\0' && (want == NULL || strstr(line, want) != NULL))
			lines[k++] = line;
		end = line > buf ? line - 1 : buf;
	}
	/* Oldest first, joined with " | ". */
	while (k > 0) {
		const char *l = strip_prefix(lines[--k]);
		int w = snprintf(out + used, n - used, "%s%.*s%s", used ? " | " : "",
		    QUOTE_LINE_MAX, l, strlen(l) > QUOTE_LINE_MAX ? "..." : "");

		if (w < 0 || (size_t)w >= n - used)
			break;
		used += (size_t)w;
	}
	free(buf);
	return out[0] != '\0' ? 0 : -1;
}

int
errtext_criu_log(const char *msg, const char *removed_dir, char *out, size_t n)
{
	static const char key[] = "log file: ";
	const char *at = strstr(msg, key), *path, *pend, *before;
	char file[4096], quoted[1024];
	size_t dl = strlen(removed_dir);

	if (at == NULL)
		return -1;
	path = at + sizeof(key) - 1;
	pend = path + strcspn(path, " \t\n;\"");
	if ((size_t)(pend - path) >= sizeof(file) || strncmp(path, removed_dir, dl) != 0 ||
	    path[dl] != '/')
		return -1;
	memcpy(file, path, (size_t)(pend - path));
	file[pend - path] = '\0';
	if (errtext_log_tail(file, "Error", quoted, sizeof(quoted)) < 0 &&
	    errtext_log_tail(file, NULL, quoted, sizeof(quoted)) < 0)
		return -1;
	/* "criu failed: type DUMP errno 0 log file: PATH" -> "criu failed: type
	 * DUMP errno 0; criu's log: ..." (and whatever followed the path). */
	before = at;
	while (before > msg && (before[-1] == ' ' || before[-1] == '\n'))
		before--;
	snprintf(out, n, "%.*s; criu's log (removed with the failed attempt) ended: %s%s",
	    (int)(before - msg), msg, quoted, pend);
	return 0;
}
