/*
 * timefmt: the one way this project writes and reads a moment.
 *
 * Written: RFC 3339 in UTC with nine fraction digits, fixed width
 * (2024-05-01T10:00:00.123456789Z, TIME_FMT_WIDTH characters), so columns
 * line up and text order is time order. Read: RFC 3339 (fractions and
 * offsets too) or a Go duration meaning that long before now (10m, 1h30m).
 */
#ifndef TIMEFMT_H
#define TIMEFMT_H

#include <stdint.h>

#define TIME_FMT_WIDTH 30
#define TIME_FMT_LEN 40		/* a buffer for time_format, with room to spare */

/* ns since the epoch; 0, or -1 when s is neither form. */
int time_parse(const char *s, int64_t now_ns, int64_t *ns);
/* Writes ns (since the epoch, UTC) into buf; returns buf. */
char *time_format(int64_t ns, char buf[TIME_FMT_LEN]);
/* The wall clock, ns since the epoch. */
int64_t time_now_ns(void);

#endif
