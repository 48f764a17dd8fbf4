/* utf8: see utf8.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "validate.h"

/* The length of the well-formed sequence at p (1 to 4), 0 if none. */
static size_t
seq_len(const unsigned char *p, const unsigned char *end)
{
	size_t k;

	if (*p < 0x80)
		return 1;
	k = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : 2;
	if ((size_t)(end - p) < k || !validate_utf8((const char *)p, k))
		return 0;
	return k;
}

/* A copy of s with each byte outside a well-formed sequence replaced by
 * U+FFFD (escape false) or by the text \xNN (escape true). */
static char *
utf8_fix(const char *s, bool escape)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
	char *out = malloc(strlen(s) * 4 + 1), *o = out;

	if (out == NULL)
		return NULL;
	while (p < end) {
		size_t k = seq_len(p, end);

		if (k == 0 && escape) {
			o += sprintf(o, "\\x%02x", *p);
			p++;
		} else if (k == 0) {
			memcpy(o, "\xEF\xBF\xBD", 3);
			o += 3;
			p++;
		} else {
			memcpy(o, p, k);
			o += k;
			p += k;
		}
	}
	*o = '\0';
	return out;
}

char *
utf8_sanitize(const char *s)
{
	return utf8_fix(s, false);
}

char *
utf8_escape(const char *s)
{
	return utf8_fix(s, true);
}
