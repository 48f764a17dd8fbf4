/*
 * log.c: the shim's own error log and two small helpers.
 *
 * Before shim_log_open() (that is, before the shim is in PROC_DIR) messages
 * go to stderr, which is /dev/null when the daemon spawned us but useful by
 * hand. Each line: "2024-01-02T03:04:05.123456789Z containerd-shim[PID]: msg".
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "shim.h"

static int log_fd = 2;

void shim_log_open(void)
{
	int fd = open("shim.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd >= 0)
		log_fd = fd;
}

struct civil {
	int year, mon, mday, hour, min, sec;
};

/* Seconds since the epoch to a UTC date (days-to-civil); gmtime_r would link the tz code. */
static void utc(time_t t, struct civil *c)
{
	long long days = t / 86400, secs = t % 86400, era, doe, yoe, doy, mp;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	c->hour = (int)(secs / 3600);
	c->min = (int)(secs / 60 % 60);
	c->sec = (int)(secs % 60);
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	c->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	c->year = (int)(yoe + era * 400 + (c->mon <= 2));
}

static void log_vwrite(const char *fmt, va_list ap, int errnum)
{
	char line[768];
	struct timespec ts;
	struct civil tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	utc(ts.tv_sec, &tm);
	n = (size_t)shim_snprintf(line, sizeof(line),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ containerd-shim[%d]: ",
	    tm.year, tm.mon, tm.mday, tm.hour, tm.min, tm.sec, (long)ts.tv_nsec, (int)getpid());
	if (n < sizeof(line))
		n += (size_t)shim_vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (errnum && n < sizeof(line))
		n += (size_t)shim_snprintf(line + n, sizeof(line) - n, ": %s", strerror(errnum));
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)shim_write_all(log_fd, line, n);
}

void shim_log(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(fmt, ap, saved);
	va_end(ap);
	errno = saved;
}

void shim_logx(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(fmt, ap, 0);
	va_end(ap);
	errno = saved;
}

int shim_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

unsigned long long shim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}
