/* jsonlax: any valid JSON into jansson (see jsonlax.h). */
#include "jsonlax.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* U+FFFD, as an escape and as UTF-8. */
#define FFFD_ESC "\\ufffd"
#define FFFD_UTF8 "\xef\xbf\xbd"

struct out {
	char *p;
	size_t len, cap;
	int failed;		/* out of memory */
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->failed)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = 2 * (o->len + n + 1);
		char *np = realloc(o->p, cap);

		if (np == NULL) {
			o->failed = 1;
			return;
		}
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

/* Length of the well-formed UTF-8 sequence at p (at most n bytes), or 0:
 * no overlong form, no surrogate, nothing past U+10FFFF (jansson's rules). */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	unsigned long cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[k] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

static int
hex4(const char *p, const char *end, unsigned *v)
{
	*v = 0;
	if (end - p < 4)
		return -1;
	for (int k = 0; k < 4; k++) {
		char c = p[k];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* At the opening '"': copies the string, mending what jansson refuses and
 * Go takes. Returns where it stopped (past the closing quote, or at what
 * is left for jansson to report). */
static const char *
copy_string(const char *p, const char *end, struct out *o)
{
	put(o, p++, 1);
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		unsigned v, lo;
		size_t n;

		if (c == '"') {
			put(o, p, 1);
			return p + 1;
		}
		if (c == '\\') {
			if (end - p >= 2 && p[1] == 'u' && hex4(p + 2, end, &v) == 0) {
				if (v >= 0xd800 && v <= 0xdbff && end - p >= 12 && p[6] == '\\' &&
				    p[7] == 'u' && hex4(p + 8, end, &lo) == 0 && lo >= 0xdc00 &&
				    lo <= 0xdfff) {
					put(o, p, 12); /* a pair */
					p += 12;
				} else {
					if (v == 0 || (v >= 0xd800 && v <= 0xdfff))
						put(o, FFFD_ESC, 6);
					else
						put(o, p, 6);
					p += 6;
				}
			} else {
				n = end - p >= 2 ? 2 : 1; /* \" \\ \n ...: as they are */
				put(o, p, n);
				p += n;
			}
			continue;
		}
		if (c < 0x80) {
			put(o, p++, 1);
			continue;
		}
		if ((n = utf8_len((const unsigned char *)p, (size_t)(end - p))) == 0) {
			put(o, FFFD_UTF8, 3);
			p++;
		} else {
			put(o, p, n);
			p += n;
		}
	}
	return p;
}

/* Whether the integer of ndigits digits at d (no sign, no leading zero)
 * is beyond int64's range on its side. */
static int
int64_overflows(const char *d, size_t ndigits, int negative)
{
	const char *lim = negative ? "9223372036854775808" : "9223372036854775807";

	if (ndigits != 19)
		return ndigits > 19;
	return memcmp(d, lim, 19) > 0;
}

/* At '-' or a digit: copies the number, or the real that stands for it
 * when jansson would refuse it. Returns the end of the token. */
static const char *
copy_number(const char *p, const char *end, struct out *o)
{
	const char *start = p, *digits;
	int negative = 0, integer = 1;
	char *tok, rep[40];
	double v;

	if (*p == '-')
		negative = 1, p++;
	digits = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p == digits || (p - digits > 1 && *digits == '0')) {
		put(o, start, (size_t)(p - start)); /* malformed: jansson says so */
		return p;
	}
	if (p < end && *p == '.') {
		integer = 0;
		for (p++; p < end && *p >= '0' && *p <= '9'; p++)
			;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		integer = 0;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (integer && !int64_overflows(digits, (size_t)(p - digits), negative)) {
		put(o, start, (size_t)(p - start));
		return p;
	}
	if ((tok = strndup(start, (size_t)(p - start))) == NULL) {
		put(o, start, (size_t)(p - start));
		return p;
	}
	v = strtod(tok, NULL);
	free(tok);
	if (!integer && !isinf(v)) {
		put(o, start, (size_t)(p - start)); /* a real in range: as it is */
		return p;
	}
	if (isinf(v))
		v = v > 0 ? DBL_MAX : -DBL_MAX;
	/* Beyond int64, 17 significant digits always come out with an
	 * exponent, so jansson reads a real. */
	snprintf(rep, sizeof(rep), "%.17g", v);
	put(o, rep, strlen(rep));
	return p;
}

char *
jsonlax_rewrite(const char *buf, size_t len, size_t *out_len)
{
	const char *p = buf, *end = buf + len;
	/* Most text comes out as long as it went in. */
	struct out o = { malloc(len + 64), 0, len + 64, 0 };

	if (o.p == NULL)
		return NULL;
	while (p < end) {
		if (*p == '"')
			p = copy_string(p, end, &o);
		else if (*p == '-' || (*p >= '0' && *p <= '9'))
			p = copy_number(p, end, &o);
		else
			put(&o, p++, 1);
	}
	if (o.failed) {
		free(o.p);
		return NULL;
	}
	o.p[o.len] = '\0';
	*out_len = o.len;
	return o.p;
}

json_t *
jsonlax_loadb(const char *buf, size_t len, json_error_t *error)
{
	json_error_t first, again;
	size_t n;
	char *fixed;
	json_t *j;

	/* runc's json.Decoder reads the first value and no further. */
	if ((j = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, &first)) != NULL)
		return j;
	if ((fixed = jsonlax_rewrite(buf, len, &n)) != NULL) {
		j = json_loadb(fixed, n, JSON_DISABLE_EOF_CHECK, &again);
		free(fixed);
		if (j != NULL)
			return j;
	}
	if (error != NULL)
		*error = first; /* where the text as given is wrong */
	return NULL;
}

json_t *
jsonlax_load_file(const char *path, json_error_t *error)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t size = 0;
	json_t *j = NULL;

	if (f == NULL) {
		if (error != NULL)
			snprintf(error->text, sizeof(error->text), "%s: %s", path, strerror(errno));
		return NULL;
	}
	{
		FILE *m = open_memstream(&buf, &size);
		char chunk[8192];
		size_t n;

		while (m != NULL && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, m);
		if (m != NULL && fclose(m) == 0)
			j = jsonlax_loadb(buf, size, error);
	}
	fclose(f);
	free(buf);
	return j;
}

uint64_t
jsonlax_uint64(const json_t *j)
{
	double v;

	if (json_is_integer(j))
		return (uint64_t)json_integer_value(j);
	if (!json_is_real(j))
		return 0;
	v = json_real_value(j);
	if (!(v > 0))
		return 0;
	if (v >= 18446744073709551616.0) /* 2^64: UINT64_MAX's nearest double */
		return UINT64_MAX;
	return (uint64_t)v;
}
