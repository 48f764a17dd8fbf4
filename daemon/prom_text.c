/* prom_text: the Prometheus endpoint's text, request parse and cgroup
 * reads, apart from the loop; see prom.h. */
#include "prom.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "utf8.h"
#include "validate.h"

/* ---------------------------------------------------------------- text */

static bool
buf_room(struct prom_buf *b, size_t n)
{
	size_t want, cap;
	char *p;

	if (b->failed)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	want = b->len + n + 1;
	if (b->max != 0 && want > b->max) {
		b->failed = true;
		return false;
	}
	for (cap = b->cap ? b->cap : 4096; cap < want; cap *= 2)
		;
	if (b->max != 0 && cap > b->max)
		cap = b->max;
	if ((p = realloc(b->p, cap)) == NULL) {
		b->failed = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void
prom_buf_put(struct prom_buf *b, const char *s, size_t n)
{
	if (!buf_room(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
prom_buf_printf(struct prom_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->cap > b->len ? b->p + b->len : NULL, b->cap > b->len ? b->cap - b->len : 0,
	    fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if (b->len + (size_t)n + 1 > b->cap) {
		if (!buf_room(b, (size_t)n))
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void
prom_buf_label(struct prom_buf *b, const char *s)
{
	char *fixed = NULL;
	const char *run;

	if (!validate_utf8(s, strlen(s))) {
		if ((fixed = utf8_escape(s)) == NULL) {
			b->failed = true;
			return;
		}
		s = fixed;
	}
	for (run = s; *s != '\0'; s++) {
		const char *esc = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;

		if (esc == NULL)
			continue;
		prom_buf_put(b, run, (size_t)(s - run));
		prom_buf_put(b, esc, 2);
		run = s + 1;
	}
	prom_buf_put(b, run, (size_t)(s - run));
	free(fixed);
}

void
prom_buf_free(struct prom_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}

/* ---------------------------------------------------------------- HTTP */

const char *
prom_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Error";
}

/* RFC 9110's tchar. */
static bool
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* One header line (without its line end): "name: value", name a token
 * with no space before the colon; a folded line (leading space) is refused
 * as RFC 9112 allows. */
static bool
header_ok(const char *l, size_t n)
{
	size_t k = 0;

	while (k < n && is_tchar((unsigned char)l[k]))
		k++;
	return k > 0 && k < n && l[k] == ':';
}

/* The request line, complete (without its line end). */
static int
request_line(const char *l, size_t n, bool *head)
{
	const char *sp1 = memchr(l, ' ', n), *sp2, *target, *ver;
	size_t mlen, tlen, vlen, plen;

	if (sp1 == NULL || sp1 == l)
		return 400;
	mlen = (size_t)(sp1 - l);
	for (size_t k = 0; k < mlen; k++)
		if (!is_tchar((unsigned char)l[k]))
			return 400;
	target = sp1 + 1;
	sp2 = memchr(target, ' ', n - (size_t)(target - l));
	if (sp2 == NULL || sp2 == target)
		return 400;
	tlen = (size_t)(sp2 - target);
	ver = sp2 + 1;
	vlen = n - (size_t)(ver - l);
	if (memchr(ver, ' ', vlen) != NULL)
		return 400;
	if (vlen != 8 || memcmp(ver, "HTTP/", 5) != 0 || ver[5] < '0' || ver[5] > '9' ||
	    ver[6] != '.' || ver[7] < '0' || ver[7] > '9')
		return 400;
	if (ver[5] != '1' || (ver[7] != '0' && ver[7] != '1'))
		return 505;
	if (target[0] != '/')
		return tlen == 1 && target[0] == '*' ? 404 : 400;
	plen = tlen;
	for (size_t k = 0; k < tlen; k++)
		if (target[k] == '?') {
			plen = k;
			break;
		}
	if (plen != 8 || memcmp(target, "/metrics", 8) != 0)
		return 404;
	if (mlen == 3 && memcmp(l, "GET", 3) == 0)
		*head = false;
	else if (mlen == 4 && memcmp(l, "HEAD", 4) == 0)
		*head = true;
	else
		return 405;
	return 200;
}

int
prom_request_parse(const char *buf, size_t len, bool *head, size_t *head_len)
{
	size_t start = 0, lines = 0;
	int status = 0;

	*head = false;
	/* A control byte (other than tab and the line ends) has no place in a
	 * head: garbage or another protocol, answered without waiting. */
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)buf[k];

		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
			return 400;
	}
	for (size_t k = 0; k < len; k++) {
		size_t end;

		if (buf[k] != '\n')
			continue;
		end = k > start && buf[k - 1] == '\r' ? k - 1 : k;
		if (memchr(buf + start, '\r', end - start) != NULL)
			return 400;	/* a bare CR */
		if (lines == 0) {
			/* RFC 9112 2.2: empty lines before the request line are ignored. */
			if (end == start) {
				start = k + 1;
				continue;
			}
			status = request_line(buf + start, end - start, head);
			if (status == 400 || status == 505)
				return status;
		} else if (end == start) {
			*head_len = k + 1;
			return status;
		} else if (!header_ok(buf + start, end - start))
			return 400;
		lines++;
		start = k + 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- cgroups */

/* The number in path (a cgroup file: digits and a line end); -1 if none. */
static int
read_u64(const char *path, uint64_t *v)
{
	char buf[64], *end;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -1;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0 || buf[0] < '0' || buf[0] > '9')
		return -1;
	buf[n] = '\0';
	errno = 0;
	*v = strtoull(buf, &end, 10);
	return errno == 0 && (*end == '\n' || *end == '\0') ? 0 : -1;
}

int
prom_cgroup_memory(const char *proc_root, const char *cgroup_root, pid_t pid, uint64_t *bytes)
{
	char text[8192], path[PATH_MAX];
	const char *v1 = NULL, *v1_list = NULL, *v2 = NULL;
	size_t v1_list_len = 0;
	ssize_t n;
	int fd;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	do
		n = read(fd, text, sizeof(text) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	/* "ID:CONTROLLERS:PATH" lines; v2's has no controllers. */
	for (char *line = text, *next; line != NULL && *line != '\0'; line = next) {
		char *c1, *c2;

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((c1 = strchr(line, ':')) == NULL || (c2 = strchr(c1 + 1, ':')) == NULL ||
		    c2[1] != '/')
			continue;
		if (c2 == c1 + 1) {
			v2 = c2 + 1;
			continue;
		}
		for (const char *t = c1 + 1; t < c2;) {
			const char *comma = memchr(t, ',', (size_t)(c2 - t));
			size_t tl = (size_t)((comma ? comma : c2) - t);

			if (tl == 6 && memcmp(t, "memory", 6) == 0) {
				v1 = c2 + 1;
				v1_list = c1 + 1;
				v1_list_len = (size_t)(c2 - c1 - 1);
			}
			t += tl + 1;
		}
	}
	if (v1 != NULL) {
		const char *p = strcmp(v1, "/") == 0 ? "" : v1;

		if ((size_t)snprintf(path, sizeof(path), "%s/memory%s/memory.usage_in_bytes",
			cgroup_root, p) < sizeof(path) && read_u64(path, bytes) == 0)
			return 0;
		/* Co-mounted ("cpu,memory") with no per-controller link. */
		if (v1_list_len != 6 &&
		    (size_t)snprintf(path, sizeof(path), "%s/%.*s%s/memory.usage_in_bytes",
			cgroup_root, (int)v1_list_len, v1_list, p) < sizeof(path) &&
		    read_u64(path, bytes) == 0)
			return 0;
		return -1;
	}
	if (v2 != NULL) {
		const char *p = strcmp(v2, "/") == 0 ? "" : v2;

		if ((size_t)snprintf(path, sizeof(path), "%s%s/memory.current", cgroup_root, p) <
			sizeof(path) && read_u64(path, bytes) == 0)
			return 0;
		if ((size_t)snprintf(path, sizeof(path), "%s/unified%s/memory.current", cgroup_root,
			p) < sizeof(path) && read_u64(path, bytes) == 0)
			return 0;
	}
	return -1;
}
