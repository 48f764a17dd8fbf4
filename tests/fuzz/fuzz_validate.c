/*
 * fuzz_validate: what the API accepts as ids and paths (lib/validate.c),
 * plus the duration and RFC 3339 parsers beside them, which read flags and
 * request fields. The input, up to its first NUL, is the string.
 *
 * validate_id and validate_path are checked against a second, naive
 * statement of the rule written here: an id is [A-Za-z0-9][A-Za-z0-9_.-]
 * {0,127}; a path is absolute, at most PATH_MAX_LEN bytes, no byte below
 * 0x20 and no ".." component. Any disagreement either way aborts. A refusal
 * must come with a message.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

static bool
oracle_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

static bool
oracle_path(const char *s, bool empty_ok)
{
	size_t n = strlen(s), i, start;

	if (n == 0)
		return empty_ok;
	if (n > PATH_MAX_LEN || s[0] != '/')
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20)
			return false;
	for (i = 0; i <= n; i = start + 1) {
		start = i;
		while (start < n && s[start] != '/')
			start++;
		if (start - i == 2 && s[i] == '.' && s[i + 1] == '.')
			return false;
	}
	return true;
}

static void
check(const char *what, const char *s, int got, bool want, const struct err *e)
{
	if ((got == 0) != want) {
		fprintf(stderr, "%s: \"%s\": validator says %s, the rule says %s\n",
		    what, s, got == 0 ? "ok" : "bad", want ? "ok" : "bad");
		abort();
	}
	if (got != 0 && (e->code != GRPC_INVALID_ARGUMENT || e->msg[0] == '\0')) {
		fprintf(stderr, "%s: refused without INVALID_ARGUMENT and a message\n", what);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	struct err e;
	int64_t ns;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	err_clear(&e);
	check("validate_id", s, validate_id("id", s, &e), oracle_id(s), &e);
	err_clear(&e);
	check("validate_path", s, validate_path("path", s, 0, &e), oracle_path(s, false), &e);
	err_clear(&e);
	check("validate_path empty_ok", s, validate_path("path", s, 1, &e),
	    oracle_path(s, true), &e);

	if (duration_parse(s, &ns) == 0 && ns < 0) {
		fprintf(stderr, "duration \"%s\" parsed negative: %lld\n", s, (long long)ns);
		abort();
	}
	(void)rfc3339_parse(s, &ns);
	free(s);
	return 0;
}
