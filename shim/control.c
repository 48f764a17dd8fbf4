/* control.c: parses the lines of the control fifo (see control.h). */
#include <string.h>

#include "control.h"

#define MAX_WORDS 3

struct word {
	const char *p;
	size_t len;
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Splits into at most MAX_WORDS words; -1 if there are more or a NUL. */
static int split(const char *line, size_t len, struct word *w, int *n)
{
	size_t i = 0;

	*n = 0;
	while (i < len) {
		size_t start;

		if (line[i] == '\0')
			return -1;
		if (is_blank(line[i])) {
			i++;
			continue;
		}
		if (*n == MAX_WORDS)
			return -1;
		start = i;
		while (i < len && !is_blank(line[i])) {
			if (line[i] == '\0')
				return -1;
			i++;
		}
		w[*n].p = line + start;
		w[*n].len = i - start;
		(*n)++;
	}
	return 0;
}

static int word_is(const struct word *w, const char *s)
{
	size_t n = strlen(s);

	return w->len == n && memcmp(w->p, s, n) == 0;
}

/* A decimal in 0..65535, digits only (0: the kernel keeps it as given). */
static int parse_dim(const struct word *w, unsigned short *out)
{
	unsigned long v = 0;
	size_t i;

	if (w->len == 0 || w->len > 5)
		return -1;
	for (i = 0; i < w->len; i++) {
		if (w->p[i] < '0' || w->p[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(w->p[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = (unsigned short)v;
	return 0;
}

int shim_control_parse(const char *line, size_t len, struct shim_cmd *out)
{
	struct word w[MAX_WORDS];
	int n;

	if (line == NULL || out == NULL || split(line, len, w, &n) < 0 || n == 0)
		return -1;
	if (word_is(&w[0], "close-stdin") && n == 1) {
		out->type = SHIM_CMD_CLOSE_STDIN;
		out->width = out->height = 0;
		return 0;
	}
	if (word_is(&w[0], "resize") && n == 3) {
		out->type = SHIM_CMD_RESIZE;
		if (parse_dim(&w[1], &out->width) < 0 || parse_dim(&w[2], &out->height) < 0)
			return -1;
		return 0;
	}
	return -1;
}
