/* lib/timefmt.c (the one time format and syntax) and lib/utf8.c. */
#include <regex.h>
#include <stdlib.h>

#include "tap.h"
#include "timefmt.h"
#include "utf8.h"

#define S 1000000000LL
#define T0 (1700000000LL * S)	/* 2023-11-14T22:13:20Z */

static void
parses(const char *s, int64_t now, int64_t want, const char *what)
{
	int64_t got = -1;

	ok(time_parse(s, now, &got) == 0 && got == want, "parse %s: %s", what, s);
	if (got != want)
		printf("#   got %lld, want %lld\n", (long long)got, (long long)want);
}

static void
refused(const char *s, const char *what)
{
	int64_t got = 12345;

	ok(time_parse(s, T0, &got) < 0 && got == 12345, "refused, %s: \"%s\"", what, s);
}

static void
formats(int64_t ns, const char *want, const char *what)
{
	char buf[TIME_FMT_LEN];

	is_str(time_format(ns, buf), want, "format %s", what);
}

int
main(void)
{
	static const char *const re_text =
	    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z$";
	static const int64_t samples[] = {
		0, 1, -1, 999999999, T0, T0 + 42, -S, -S - 1, INT64_MAX, INT64_MIN,
	};
	char buf[TIME_FMT_LEN], *u;
	int64_t v;
	regex_t re;
	size_t i;
	int all = 1;

	/* Written: UTC, nine digits, fixed width. */
	formats(T0 + 42, "2023-11-14T22:13:20.000000042Z", "nanoseconds kept, zeros too");
	formats(0, "1970-01-01T00:00:00.000000000Z", "the epoch");
	formats(T0 + 999999999, "2023-11-14T22:13:20.999999999Z", "the last ns of a second");
	formats(-1, "1969-12-31T23:59:59.999999999Z", "-1 ns: the second before, not -0.000000001");
	formats(-S - 1, "1969-12-31T23:59:58.999999999Z", "negative, a second and a ns");
	formats(-86400LL * 365 * S, "1969-01-01T00:00:00.000000000Z", "pre-1970");
	formats(951782400LL * S, "2000-02-29T00:00:00.000000000Z", "a leap day");
	formats(INT64_MAX, "2262-04-11T23:47:16.854775807Z", "the last ns an int64 holds");
	formats(INT64_MIN, "1677-09-21T00:12:43.145224192Z", "the first one");
	ok(regcomp(&re, re_text, REG_EXTENDED | REG_NOSUB) == 0, "the regex compiles");
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		time_format(samples[i], buf);
		if (strlen(buf) != TIME_FMT_WIDTH || regexec(&re, buf, 0, NULL, 0) != 0) {
			printf("#   %lld -> \"%s\"\n", (long long)samples[i], buf);
			all = 0;
		}
	}
	regfree(&re);
	ok(all, "fixed width (%d) and the regex for %zu moments from 1677 to 2262",
	    TIME_FMT_WIDTH, sizeof(samples) / sizeof(samples[0]));
	for (i = 0, all = 1; i < sizeof(samples) / sizeof(samples[0]); i++) {
		time_format(samples[i], buf);
		if (time_parse(buf, 0, &v) < 0 || v != samples[i]) {
			printf("#   %lld -> \"%s\" -> %lld\n", (long long)samples[i], buf,
			    (long long)v);
			all = 0;
		}
	}
	ok(all, "each written time reads back to the same ns");

	/* Read: RFC 3339. */
	parses("2023-11-14T22:13:20Z", 0, T0, "UTC");
	parses("2023-11-14t22:13:20z", 0, T0, "lower-case t and z");
	parses("2023-11-14 22:13:20Z", 0, T0, "a space for T (RFC 3339 allows it)");
	parses("2023-11-14T22:13:20.5Z", 0, T0 + 500000000, "a short fraction");
	parses("2023-11-14T22:13:20.000000001Z", 0, T0 + 1, "one ns");
	parses("2023-11-14T22:13:20.1234567891Z", 0, T0 + 123456789,
	    "a tenth digit is dropped (no rounding into the next second)");
	parses("2023-11-14T22:13:20.9999999999Z", 0, T0 + 999999999,
	    "fractions past ns stay in their second");
	parses("2023-11-15T00:13:20+02:00", 0, T0, "an offset +02:00");
	parses("2023-11-14T20:43:20-01:30", 0, T0, "an offset -01:30");
	parses("2023-11-15T00:13:20.25+02:00", 0, T0 + 250000000, "a fraction and an offset");
	parses("1969-12-31T23:59:59.999999999Z", 0, -1, "pre-1970, the last ns");
	parses("1900-01-01T00:00:00Z", 0, -2208988800LL * S, "1900");
	parses("2000-02-29T00:00:00Z", 0, 951782400LL * S, "Feb 29 of a leap year");
	parses("2016-12-31T23:59:60Z", 0, 1483228800LL * S,
	    "a leap second: the next second (POSIX time has no :60)");

	/* Read: a Go duration before now. */
	parses("10m", T0, T0 - 600 * S, "a duration ago");
	parses("1h30m", T0, T0 - 5400 * S, "hours and minutes");
	parses("1.5s", T0, T0 - 1500000000LL, "a fractional duration");
	parses("250ms", T0, T0 - 250000000LL, "milliseconds");
	parses("0", T0, T0, "0: now");

	/* Garbage. */
	refused("", "empty");
	refused(NULL, "NULL");
	refused("yesterday", "a word");
	refused("-5m", "a negative duration (the future is not 'ago')");
	refused("5", "a number without a unit");
	refused("10x", "an unknown unit");
	refused("2023-11-14T22:13:20", "no zone");
	refused("2023-11-14", "a date alone");
	refused("2023-13-14T22:13:20Z", "month 13");
	refused("2023-02-29T00:00:00Z", "Feb 29 of a common year");
	refused("2023-04-31T00:00:00Z", "April 31");
	refused("2023-11-14T24:00:00Z", "hour 24");
	refused("2023-11-14T22:13:20.Z", "a dot without digits");
	refused("2023-11-14T22:13:20+0200", "an offset without its colon");
	refused("2023-11-14T22:13:20+24:00", "an offset of 24 h");
	refused("2023-11-14T22:13:20Z ", "a trailing space");
	refused("2023-11-14T22:13:20ZZ", "trailing garbage");
	refused("99999-01-01T00:00:00Z", "a five-digit year");
	refused("3000-01-01T00:00:00Z", "past 2262 (ns since 1970 overflow int64)");

	ok(time_now_ns() > T0, "the clock reads after 2023");

	/* utf8_sanitize: what ctr events --json does to a string first. */
	u = utf8_sanitize("plain ascii");
	is_str(u, "plain ascii", "utf8: ASCII unchanged");
	free(u);
	u = utf8_sanitize("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3");
	is_str(u, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3", "utf8: 2-, 3-, 4-byte sequences kept");
	free(u);
	u = utf8_sanitize("a\xffz");
	is_str(u, "a\xef\xbf\xbdz", "utf8: a stray byte becomes U+FFFD");
	free(u);
	u = utf8_sanitize("\xe2\x82");
	is_str(u, "\xef\xbf\xbd\xef\xbf\xbd", "utf8: a cut sequence: one U+FFFD per byte");
	free(u);
	u = utf8_sanitize("\xc0\xaf");
	is_str(u, "\xef\xbf\xbd\xef\xbf\xbd", "utf8: an overlong '/' is not let through");
	free(u);
	u = utf8_sanitize("\xed\xa0\x80");
	is_str(u, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "utf8: a surrogate is refused");
	free(u);
	u = utf8_sanitize("");
	is_str(u, "", "utf8: empty");
	free(u);
	/* utf8_escape: what the daemon sends for a stored bad string. */
	u = utf8_escape("ex\xff\xe2\x82 caf\xc3\xa9");
	is_str(u, "ex\\xff\\xe2\\x82 caf\xc3\xa9", "utf8: bad bytes escaped as \\xNN, good ones kept");
	free(u);
	u = utf8_escape("\xff\xff\xff\xff");
	is_str(u, "\\xff\\xff\\xff\\xff", "utf8: four bad bytes take four times the room");
	free(u);
	return done_testing();
}
