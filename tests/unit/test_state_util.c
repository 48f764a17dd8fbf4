/* containerd-state's times and /proc reading (tools/state/util.c, built in). */
#include <stdlib.h>
#include <unistd.h>

#include "../../tools/state/util.c"
#include "tap.h"

static void
parses(const char *s, int64_t now, int64_t want, const char *what)
{
	int64_t got = -1;

	ok(state_time_parse(s, now, &got) == 0 && got == want, "%s: %s", what, s);
	if (got != want)
		printf("#   got %lld, want %lld\n", (long long)got, (long long)want);
}

int
main(void)
{
	const int64_t now = 1700000000LL * 1000000000 + 5;
	char buf[STATE_TIME_LEN];
	int64_t v, start;

	parses("2023-11-14T22:13:20Z", 0, 1700000000LL * 1000000000, "RFC 3339, UTC");
	parses("2023-11-14T22:13:20.5Z", 0, 1700000000LL * 1000000000 + 500000000, "a fraction");
	parses("2023-11-14T22:13:20.123456789Z", 0, 1700000000LL * 1000000000 + 123456789,
	    "nanoseconds");
	parses("2023-11-15T00:13:20+02:00", 0, 1700000000LL * 1000000000, "an offset");
	parses("2023-11-14T21:13:20-01:00", 0, 1700000000LL * 1000000000, "a negative offset");
	parses("10m", now, now - 600LL * 1000000000, "a duration ago");
	parses("1h30m", now, now - 5400LL * 1000000000, "hours and minutes ago");
	parses("0", now, now, "0: now");
	ok(state_time_parse("yesterday", now, &v) < 0, "words refused");
	ok(state_time_parse("2023-11-14T22:13:20", now, &v) < 0, "no zone refused");
	ok(state_time_parse("2023-13-14T22:13:20Z", now, &v) < 0, "month 13 refused");
	ok(state_time_parse("", now, &v) < 0, "empty refused");
	ok(state_time_parse("-5m", now, &v) < 0, "negative duration refused");

	state_time_format(1700000000LL * 1000000000 + 42, buf);
	is_str(buf, "2023-11-14T22:13:20.000000042Z", "format: UTC, nine digits");
	state_time_format(0, buf);
	is_str(buf, "1970-01-01T00:00:00.000000000Z", "format: the epoch");
	ok(state_time_parse(buf, 0, &v) == 0 && v == 0, "format parses back");

	ok(state_proc_start(getpid(), &start) == 1 && start > 0, "our own start time");
	ok(state_proc_start(0, &start) == 0, "pid 0: none");
	ok(state_proc_start(999999999, &start) == 0, "a pid that cannot be: gone");
	return done_testing();
}
