/* jsonlax: valid JSON that jansson alone refuses (lib/jsonlax.c). */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonlax.h"
#include "tap.h"

static json_t *
load(const char *text)
{
	json_error_t e;
	json_t *j = jsonlax_loadb(text, strlen(text), &e);

	if (j == NULL)
		printf("#   %s: line %d: %s\n", text, e.line, e.text);
	return j;
}

/* The member k of the object text, read as a uint64 field. */
static uint64_t
u64_of(const char *text, const char *k)
{
	json_t *j = load(text);
	uint64_t v = jsonlax_uint64(json_object_get(j, k));

	json_decref(j);
	return v;
}

static int
is_real_member(const char *text, const char *k)
{
	json_t *j = load(text);
	int r = json_is_real(json_object_get(j, k));

	json_decref(j);
	return r;
}

static void
string_is(const char *text, const char *want, const char *what)
{
	json_t *j = load(text);

	is_str(json_string_value(json_object_get(j, "s")), want, "%s", what);
	json_decref(j);
}

int
main(void)
{
	/* What Docker 17.03 writes: the daemon refused every create with it. */
	const char *docker = "{\"process\":{\"user\":{\"uid\":1000,\"gid\":1000}},\"linux\":"
			     "{\"resources\":{\"memory\":{\"swappiness\":18446744073709551615}}}}";
	json_error_t e;
	json_t *j, *p;
	char *s;
	size_t n;

	j = json_loadb(docker, strlen(docker), 0, &e);
	ok(j == NULL && strstr(e.text, "too big integer") != NULL,
	    "jansson alone refuses swappiness 18446744073709551615 (\"%s\")", e.text);
	json_decref(j);
	j = load(docker);
	ok(j != NULL, "jsonlax reads Docker's config");
	p = json_object_get(json_object_get(j, "process"), "user");
	ok(json_is_integer(json_object_get(p, "uid")) &&
	    json_integer_value(json_object_get(p, "uid")) == 1000,
	    "a small integer stays an integer (uid 1000)");
	ok(jsonlax_uint64(json_object_get(json_object_get(json_object_get(json_object_get(j,
	    "linux"), "resources"), "memory"), "swappiness")) == UINT64_MAX,
	    "swappiness reads back as 18446744073709551615");
	json_decref(j);

	/* The edges of int64. */
	ok(!is_real_member("{\"a\":9223372036854775807}", "a"), "INT64_MAX stays an integer");
	ok(u64_of("{\"a\":9223372036854775807}", "a") == INT64_MAX, "INT64_MAX exact");
	ok(is_real_member("{\"a\":9223372036854775808}", "a"), "INT64_MAX + 1 becomes a real");
	ok(u64_of("{\"a\":9223372036854775808}", "a") == 9223372036854775808ULL,
	    "2^63 exact as a uint64");
	ok(!is_real_member("{\"a\":-9223372036854775808}", "a"), "INT64_MIN stays an integer");
	ok(is_real_member("{\"a\":-9223372036854775809}", "a"), "INT64_MIN - 1 becomes a real");
	ok(u64_of("{\"a\":18446744073709551615}", "a") == UINT64_MAX, "UINT64_MAX exact");
	ok(u64_of("{\"a\":123456789012345678901234567890}", "a") == UINT64_MAX,
	    "past uint64: clamped to UINT64_MAX");
	ok(u64_of("{\"a\":-5.5}", "a") == 0, "a negative real reads as 0");
	ok(u64_of("{\"a\":\"7\"}", "a") == 0, "a string is no number");
	ok(u64_of("{\"a\":4096}", "a") == 4096, "a plain integer");

	/* Reals beyond a double. */
	j = load("{\"a\":1e400,\"b\":-1E+400,\"c\":1e-400,\"d\":2.5}");
	ok(j != NULL && json_real_value(json_object_get(j, "a")) == DBL_MAX &&
	    json_real_value(json_object_get(j, "b")) == -DBL_MAX,
	    "1e400 and -1E+400 read as +-DBL_MAX");
	ok(j != NULL && json_real_value(json_object_get(j, "d")) == 2.5, "2.5 as it is");
	json_decref(j);

	/* Each short 1e999 grows fivefold: the rewrite's buffer grows too. */
	{
		size_t k, len = 0, count = 20000;
		char *text = malloc(6 * count + 8);

		text[len++] = '[';
		for (k = 0; k < count; k++)
			len += (size_t)sprintf(text + len, "%s1e999", k ? "," : "");
		text[len++] = ']';
		j = jsonlax_loadb(text, len, &e);
		ok(j != NULL && json_array_size(j) == count &&
		    json_real_value(json_array_get(j, count - 1)) == DBL_MAX,
		    "%zu times 1e999 in %zu bytes", count, len);
		json_decref(j);
		free(text);
	}

	/* Strings: what Go takes. */
	string_is("{\"s\":\"a\\u0000b\"}", "a\xef\xbf\xbd" "b", "\\u0000 reads as U+FFFD");
	string_is("{\"s\":\"x\\ud800y\"}", "x\xef\xbf\xbdy", "a lone high surrogate: U+FFFD");
	string_is("{\"s\":\"x\\udc00\"}", "x\xef\xbf\xbd", "a lone low surrogate: U+FFFD");
	string_is("{\"s\":\"\\ud83d\\ude00\"}", "\xf0\x9f\x98\x80", "a surrogate pair kept");
	string_is("{\"s\":\"a\xff" "b\"}", "a\xef\xbf\xbd" "b", "an invalid byte: U+FFFD");
	string_is("{\"s\":\"\xc0\x80\"}", "\xef\xbf\xbd\xef\xbf\xbd",
	    "an overlong NUL: one U+FFFD a byte, as Go");
	string_is("{\"s\":\"\xed\xa0\x80\"}", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	    "an encoded surrogate: U+FFFD a byte");
	string_is("{\"s\":\"18446744073709551615 \\\" 1e400\",\"n\":18446744073709551615}",
	    "18446744073709551615 \" 1e400", "digits inside a string are left alone");
	string_is("{\"s\":\"h\xc3\xa9 \\n \\\\\"}", "h\xc3\xa9 \n \\", "valid UTF-8, escapes kept");

	/* What follows the value: runc's json.Decoder ignores it. */
	j = load("{\"a\":1}\ntrailing garbage {");
	ok(j != NULL && json_integer_value(json_object_get(j, "a")) == 1,
	    "text after the object is ignored");
	json_decref(j);

	/* Invalid JSON stays refused, with the error of the text as given. */
	j = jsonlax_loadb("{\"a\":}", 6, &e);
	ok(j == NULL && e.line == 1, "{\"a\":} refused (%s)", e.text);
	j = jsonlax_loadb("{\"a\":01}", 8, &e);
	ok(j == NULL, "a leading zero refused");
	j = jsonlax_loadb("{\"a\":\"\x01\"}", 8, &e);
	ok(j == NULL, "a raw control character in a string refused");
	j = jsonlax_loadb("{\"a\":\"\\x\"}", 9, &e);
	ok(j == NULL, "a bad escape refused");
	j = jsonlax_loadb("{\"a\":1", 6, &e);
	ok(j == NULL, "a truncated object refused");
	j = jsonlax_loadb("{\"a\":-}", 7, &e);
	ok(j == NULL, "a lone minus refused");

	/* Text jansson takes is given to it unchanged. */
	{
		const char *plain = "{\"a\": [1, -2, 3.5e10, \"x\\u00e9\\\"\"], \"b\": null}";

		s = jsonlax_rewrite(plain, strlen(plain), &n);
		is_str(s, plain, "the rewrite leaves valid text byte-exact");
		free(s);
	}

	/* The daemon's own record of the process (json_dumps) reads back. */
	j = load("{\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"hard\":18446744073709551615,"
		 "\"soft\":18446744073709551614}]}");
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	j = json_loads(s, 0, &e);
	ok(j != NULL, "the dumped process loads with plain jansson (%s)", s ? s : "null");
	p = json_array_get(json_object_get(j, "rlimits"), 0);
	ok(jsonlax_uint64(json_object_get(p, "hard")) == UINT64_MAX &&
	    jsonlax_uint64(json_object_get(p, "soft")) == UINT64_MAX,
	    "RLIM_INFINITY survives the round trip (the double nearest 2^64-2 is 2^64)");
	json_decref(j);
	free(s);
	return done_testing();
}
