#include "validate.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
validate_id(const char *what, const char *id, struct err *e)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0)
		return err_set(e, GRPC_INVALID_ARGUMENT, "%s is empty", what);
	if (n > ID_MAX)
		return err_set(e, GRPC_INVALID_ARGUMENT,
		    "%s is %zu characters long; at most %d are allowed", what, n, ID_MAX);
	if (!isalnum((unsigned char)id[0]))
		return err_set(e, GRPC_INVALID_ARGUMENT,
		    "%s \"%.*s\" must start with a letter or digit", what, 64, id);
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)id[i];

		if (!isalnum(c) && c != '_' && c != '.' && c != '-')
			return err_set(e, GRPC_INVALID_ARGUMENT,
			    "%s \"%.*s\" has a character outside [A-Za-z0-9_.-]", what, 64, id);
	}
	return 0;
}

int
validate_labels(char *const *labels, size_t n, struct err *e)
{
	size_t total = 0;

	if (n > LABELS_MAX)
		return err_set(e, GRPC_INVALID_ARGUMENT,
		    "%zu labels; at most %d are allowed per container", n, LABELS_MAX);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(labels[i]);

		if (len > LABEL_MAX_LEN)
			return err_set(e, GRPC_INVALID_ARGUMENT,
			    "label %zu is %zu bytes; at most %d are allowed per label", i, len,
			    LABEL_MAX_LEN);
		total += len;
	}
	if (total > LABELS_MAX_BYTES)
		return err_set(e, GRPC_INVALID_ARGUMENT,
		    "the labels are %zu bytes in all; at most %d are allowed per container",
		    total, LABELS_MAX_BYTES);
	return 0;
}

int
validate_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned char c = *p;
		size_t k;
		unsigned char lo = 0x80, hi = 0xBF; /* the second byte's range */

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			k = 1;
		else if (c >= 0xE0 && c <= 0xEF)
			k = 2;
		else if (c >= 0xF0 && c <= 0xF4)
			k = 3;
		else
			return 0; /* a continuation byte, C0/C1 (overlong), F5-FF */
		if (c == 0xE0)
			lo = 0xA0;	/* overlong */
		else if (c == 0xED)
			hi = 0x9F;	/* surrogates */
		else if (c == 0xF0)
			lo = 0x90;	/* overlong */
		else if (c == 0xF4)
			hi = 0x8F;	/* past U+10FFFF */
		if ((size_t)(end - p) <= k || p[1] < lo || p[1] > hi)
			return 0;
		for (size_t i = 2; i <= k; i++)
			if ((p[i] & 0xC0) != 0x80)
				return 0;
		p += k + 1;
	}
	return 1;
}

int
validate_path(const char *what, const char *path, int empty_ok, struct err *e)
{
	size_t n = path ? strlen(path) : 0;
	const char *p;

	if (n == 0) {
		if (empty_ok)
			return 0;
		return err_set(e, GRPC_INVALID_ARGUMENT, "%s is empty", what);
	}
	if (n > PATH_MAX_LEN)
		return err_set(e, GRPC_INVALID_ARGUMENT, "%s is longer than %d bytes", what,
		    PATH_MAX_LEN);
	if (path[0] != '/')
		return err_set(e, GRPC_INVALID_ARGUMENT, "%s \"%s\" must be an absolute path",
		    what, path);
	for (p = path; *p; p++) {
		if ((unsigned char)*p < 0x20)
			return err_set(e, GRPC_INVALID_ARGUMENT,
			    "%s has a control character", what);
	}
	for (p = path; (p = strstr(p, "..")) != NULL; p += 2) {
		if (p[-1] == '/' && (p[2] == '/' || p[2] == '\0'))
			return err_set(e, GRPC_INVALID_ARGUMENT,
			    "%s \"%s\" must not contain \"..\"", what, path);
	}
	return 0;
}

int
duration_parse(const char *s, int64_t *ns)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "µs", 1e3 }, { "ms", 1e6 },
		{ "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
	};
	double total = 0;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return -1;
	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return 0;
	}
	while (*p) {
		char *end;
		double v;
		size_t best = 0;
		double mult = 0;

		if (!isdigit((unsigned char)*p) && *p != '.')
			return -1;
		v = strtod(p, &end);
		if (end == p)
			return -1;
		p = end;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].unit);

			if (strncmp(p, units[i].unit, l) == 0 && l > best) {
				best = l;
				mult = units[i].mult;
			}
		}
		if (best == 0)
			return -1;
		p += best;
		total += v * mult;
	}
	if (total > 9.2e18)
		return -1;
	*ns = (int64_t)total;
	return 0;
}

/* n decimal digits at *p into *v. */
static int
take_digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int k = 0; k < n; k++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		*v = *v * 10 + (**p - '0');
	}
	return 0;
}

static int
take_char(const char **p, const char *any)
{
	if (**p == '\0' || strchr(any, **p) == NULL)
		return -1;
	(*p)++;
	return 0;
}

int
rfc3339_parse(const char *s, int64_t *ns)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = s;
	int y, mo, d, h, mi, se, oh = 0, om = 0;
	int64_t frac = 0, scale = 100000000, off = 0, sec;
	struct tm tm = { 0 };
	time_t t;

	if (take_digits(&p, 4, &y) < 0 || take_char(&p, "-") < 0 ||
	    take_digits(&p, 2, &mo) < 0 || take_char(&p, "-") < 0 ||
	    take_digits(&p, 2, &d) < 0 || take_char(&p, "Tt ") < 0 ||
	    take_digits(&p, 2, &h) < 0 || take_char(&p, ":") < 0 ||
	    take_digits(&p, 2, &mi) < 0 || take_char(&p, ":") < 0 ||
	    take_digits(&p, 2, &se) < 0)
		return -1;
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return -1;
		for (; isdigit((unsigned char)*p); p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;

		if (take_digits(&p, 2, &oh) < 0 || take_char(&p, ":") < 0 ||
		    take_digits(&p, 2, &om) < 0)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 ||
	    oh > 23 || om > 59)
		return -1;
	/* timegm would roll Feb 30 into March: refuse it, as Go does. */
	if (d > mdays[mo - 1] + (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	/* Nanoseconds since the epoch fit an int64 only for 1677..2262;
	 * outside, the multiplication would overflow (found by fuzzing).
	 * Checked exactly, so every time that time_format writes reads back;
	 * before 1970 the fraction is taken from the next second up, as the
	 * first moment of 1677 needs it. */
	sec = (int64_t)t - off;
	if (sec < 0 && frac > 0) {
		sec++;
		frac -= 1000000000;
	}
	if (__builtin_mul_overflow(sec, (int64_t)1000000000, &sec) ||
	    __builtin_add_overflow(sec, frac, &sec))
		return -1;
	*ns = sec;
	return 0;
}

int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
