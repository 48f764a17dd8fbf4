/* timefmt: writing and reading moments (see timefmt.h). */
#include <stdio.h>
#include <time.h>

#include "timefmt.h"
#include "validate.h"

int
time_parse(const char *s, int64_t now_ns, int64_t *ns)
{
	int64_t ago;

	if (s == NULL || *s == '\0')
		return -1;
	if (rfc3339_parse(s, ns) == 0)
		return 0;
	if (duration_parse(s, &ago) == 0 && ago >= 0) {
		*ns = now_ns - ago;
		return 0;
	}
	return -1;
}

char *
time_format(int64_t ns, char buf[TIME_FMT_LEN])
{
	int64_t sec = ns / 1000000000, frac = ns % 1000000000;
	time_t t;
	struct tm tm;
	char date[24];

	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	t = (time_t)sec;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(date, sizeof(date), "%lld", (long long)sec);
	snprintf(buf, TIME_FMT_LEN, "%s.%09lldZ", date, (long long)frac);
	return buf;
}

int64_t
time_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
