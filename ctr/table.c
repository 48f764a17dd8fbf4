/*
 * table: rows of tab-separated cells printed in aligned columns, like Go's
 * text/tabwriter (a column is as wide as its widest cell plus padding, at
 * least minwidth; the last cell of a row is not padded).
 */
#include "ctr.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct ctr_table {
	size_t minwidth, padding;
	char **rows;
	size_t nrows;
};

struct ctr_table *
ctr_table_new(size_t minwidth, size_t padding)
{
	struct ctr_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		fatal("ctr: out of memory");
	t->minwidth = minwidth;
	t->padding = padding;
	return t;
}

void
ctr_table_addf(struct ctr_table *t, const char *fmt, ...)
{
	char **rows;
	va_list ap;
	int rc;

	if ((rows = realloc(t->rows, (t->nrows + 1) * sizeof(*rows))) == NULL)
		fatal("ctr: out of memory");
	t->rows = rows;
	va_start(ap, fmt);
	rc = vasprintf(&rows[t->nrows], fmt, ap);
	va_end(ap);
	if (rc < 0)
		fatal("ctr: out of memory");
	t->nrows++;
}

void
ctr_table_flush(struct ctr_table *t, FILE *f)
{
	size_t *width = NULL, ncols = 0, r, col, len;
	const char *p, *tab;

	/* Widths of every column but the last cell of each row. */
	for (r = 0; r < t->nrows; r++) {
		for (col = 0, p = t->rows[r]; (tab = strchr(p, '\t')) != NULL;
		    col++, p = tab + 1) {
			if (col >= ncols) {
				if ((width = realloc(width, (col + 1) * sizeof(*width))) == NULL)
					fatal("ctr: out of memory");
				width[col] = t->minwidth;
				ncols = col + 1;
			}
			len = (size_t)(tab - p) + t->padding;
			if (len > width[col])
				width[col] = len;
		}
	}
	for (r = 0; r < t->nrows; r++) {
		for (col = 0, p = t->rows[r]; (tab = strchr(p, '\t')) != NULL;
		    col++, p = tab + 1)
			fprintf(f, "%-*.*s", (int)width[col], (int)(tab - p), p);
		fprintf(f, "%s\n", p);
		free(t->rows[r]);
	}
	fflush(f);
	free(width);
	free(t->rows);
	free(t);
}
