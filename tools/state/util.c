/* util: times, /proc, and the allocation bag shared by the verbs. */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "state.h"
#include "timefmt.h"
#include "validate.h"

int
state_time_parse(const char *s, int64_t now, int64_t *ns)
{
	return time_parse(s, now, ns);
}

void
state_time_format(int64_t ns, char buf[STATE_TIME_LEN])
{
	time_format(ns, buf);
}

int
state_proc_start(int64_t pid, int64_t *start)
{
	char path[64], buf[1024], *p, state;
	unsigned long long st;
	ssize_t n;
	int fd;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold ") ": the fields go on after the last ')'.
	 * Then: 3 state, 4..21, 22 starttime. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s"
			  " %*s %*s %*s %llu", &state, &st) != 2)
		return 0;
	if (state == 'Z' || state == 'X')
		return 0;
	*start = (int64_t)st;
	return 1;
}

void
state_oom(void)
{
	fputs(STATE_PROG ": out of memory\n", stderr);
	exit(1);
}

void *
bag_alloc(struct bag *b, size_t size)
{
	void *m;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		void **np = realloc(b->p, cap * sizeof(*np));

		if (np == NULL)
			state_oom();
		b->p = np;
		b->cap = cap;
	}
	if ((m = calloc(1, size ? size : 1)) == NULL)
		state_oom();
	b->p[b->n++] = m;
	return m;
}

char *
bag_strdup(struct bag *b, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	char *d = bag_alloc(b, n + 1);

	if (n > 0)
		memcpy(d, s, n);
	return d;
}

void
bag_free(struct bag *b)
{
	for (size_t k = 0; k < b->n; k++)
		free(b->p[k]);
	free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
}
