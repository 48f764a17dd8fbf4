/*
 * fmt.h: a small printf subset and number parsing, so the static shim links
 * none of libc's stdio (whose code would be most of its size and RSS).
 *
 * Conversions: %% %c %s %d %i %u %x with flags '0' and '-', a width, a
 * precision (".N" or ".*", strings only) and the length modifiers l, ll, z.
 */
#ifndef SHIM_FMT_H
#define SHIM_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Like vsnprintf: always NUL-terminates (size > 0); returns the untruncated length. */
int shim_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int shim_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Parses a decimal without sign at s (no leading blanks). Returns 0 and
 * *out, *end just past the digits; -1 if there is no digit or it overflows.
 */
int shim_parse_u64(const char *s, const char **end, unsigned long long *out);

/*
 * a + b + c in a static arena: the shim's few long-lived strings (paths).
 * Never freed. NULL when the arena is full.
 */
char *shim_concat(const char *a, const char *b, const char *c);

/*
 * ns since the epoch as the project's one time format: RFC 3339 UTC with
 * nine fraction digits, fixed width (2024-01-02T03:04:05.123456789Z,
 * SHIM_TIME_WIDTH characters, NUL-terminated), as lib/timefmt.h writes it.
 */
#define SHIM_TIME_WIDTH 30
#define SHIM_TIME_LEN 32
void shim_time_format(unsigned long long ns, char buf[SHIM_TIME_LEN]);

/* Writes a string to fd, ignoring errors. */
void shim_puts(int fd, const char *s);

#endif
