#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "timefmt.h"

static int log_level = LOG_LEVEL_INFO;
/* Put after the level on every line, e.g. the daemon's --id; NULL: none. */
static const char *log_tag;

void
log_set_tag(const char *tag)
{
	log_tag = tag;
}

static void
log_write_tag(void)
{
	if (log_tag != NULL)
		fprintf(stderr, "[%s] ", log_tag);
}

void
log_set_level(int level)
{
	log_level = level;
}

int
log_level_parse(const char *name)
{
	if (strcasecmp(name, "debug") == 0)
		return LOG_LEVEL_DEBUG;
	if (strcasecmp(name, "info") == 0)
		return LOG_LEVEL_INFO;
	if (strcasecmp(name, "warn") == 0 || strcasecmp(name, "warning") == 0)
		return LOG_LEVEL_WARN;
	if (strcasecmp(name, "error") == 0)
		return LOG_LEVEL_ERROR;
	return -1;
}

int
log_enabled(int level)
{
	return level >= log_level;
}

static void
log_vwrite(int level, int with_errno, const char *fmt, va_list ap)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	int saved = errno;
	char when[TIME_FMT_LEN];

	if (!log_enabled(level))
		return;
	/* The one time format (UTC, nanoseconds), as ctr and the shim print. */
	fprintf(stderr, "%s %s ", time_format(time_now_ns(), when), names[level]);
	log_write_tag();
	vfprintf(stderr, fmt, ap);
	if (with_errno)
		fprintf(stderr, ": %s", strerror(saved));
	fputc('\n', stderr);
	errno = saved;
}

#define LOG_BODY(level, with_errno)             \
	va_list ap;                             \
	va_start(ap, fmt);                      \
	log_vwrite(level, with_errno, fmt, ap); \
	va_end(ap)

void log_debug(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_DEBUG, 0); }
void log_info(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_INFO, 0); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_WARN, 0); }
void log_warn(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_WARN, 1); }
void log_errorx(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_ERROR, 0); }

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, 0);
	exit(1);
}

void
fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, 1);
	exit(1);
}
