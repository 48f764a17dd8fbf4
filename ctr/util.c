/* util: values on ctr's command line and in its output. */
#include "ctr.h"
#include "timefmt.h"
#include "validate.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int
ctr_signal_parse(const char *s, int *sig)
{
	char *end;
	long n;
	int i;

	if (isdigit((unsigned char)*s)) {
		errno = 0;
		n = strtol(s, &end, 10);
		if (*end != '\0' || errno != 0 || n < 1 || n >= NSIG)
			return -1;
		*sig = (int)n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 1; i < NSIG; i++) {
		const char *name = sigabbrev_np(i);

		if (name != NULL && strcasecmp(name, s) == 0) {
			*sig = i;
			return 0;
		}
	}
	return -1;
}

int
ctr_time_parse(const char *s, int64_t now, int64_t *ns)
{
	long long v;
	char *end;

	/* Plain seconds since the epoch: what --timestamp took before it
	 * took durations, kept for scripts ("0" is the epoch here, not now). */
	errno = 0;
	v = strtoll(s, &end, 10);
	if (isdigit((unsigned char)*s) && *end == '\0' && errno == 0 &&
	    v <= INT64_MAX / 1000000000) {
		*ns = (int64_t)v * 1000000000;
		return 0;
	}
	return time_parse(s, now, ns);
}

int64_t
ctr_time_ns(int64_t sec, int32_t nsec)
{
	int64_t ns;

	if (__builtin_mul_overflow(sec, (int64_t)1000000000, &ns) ||
	    __builtin_add_overflow(ns, nsec, &ns))
		return sec < 0 ? INT64_MIN : INT64_MAX;
	return ns;
}

void
ctr_timestamp_set(Google__Protobuf__Timestamp *t, int64_t ns)
{
	t->seconds = ns / 1000000000;
	t->nanos = (int32_t)(ns % 1000000000);
}

void
ctr_time_format(int64_t sec, int32_t nsec, char *buf, size_t len)
{
	char t[TIME_FMT_LEN];

	snprintf(buf, len, "%s", time_format(ctr_time_ns(sec, nsec), t));
}

/* Like Go's filepath.Abs: joined to the working directory, then cleaned
 * lexically ("." and ".." resolved, no symlinks followed), since the daemon
 * refuses relative paths and paths with "..". */
char *
ctr_abspath(const char *path, struct err *e)
{
	char cwd[PATH_MAX], *joined, *out, *tok, *save;
	size_t n = 0;

	if (path[0] == '/') {
		cwd[0] = '\0';
	} else if (getcwd(cwd, sizeof(cwd)) == NULL) {
		err_set(e, GRPC_INTERNAL, "cannot find the working directory "
		    "for %s: %s", path, strerror(errno));
		return NULL;
	}
	if (asprintf(&joined, "%s/%s", cwd, path) < 0 ||
	    (out = malloc(strlen(joined) + 2)) == NULL) {
		err_set(e, GRPC_INTERNAL, "out of memory");
		return NULL;
	}
	for (tok = strtok_r(joined, "/", &save); tok != NULL;
	    tok = strtok_r(NULL, "/", &save)) {
		if (strcmp(tok, ".") == 0)
			continue;
		if (strcmp(tok, "..") == 0) {
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
			continue;
		}
		out[n++] = '/';
		memcpy(out + n, tok, strlen(tok));
		n += strlen(tok);
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	free(joined);
	return out;
}

int
ctr_stdout_failed(void)
{
	struct err e;

	if (errno == EPIPE)
		return 128 + SIGPIPE;
	err_set(&e, GRPC_INTERNAL, "writing to stdout: %s", strerror(errno));
	return ctr_fail(&e);
}

int
ctr_print_json(json_t *j)
{
	struct err e;

	if (j == NULL) {
		err_set(&e, GRPC_INTERNAL, "out of memory");
		return ctr_fail(&e);
	}
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(j);
	if (fflush(stdout) != 0 || ferror(stdout))
		return ctr_stdout_failed();
	return 0;
}

void
ctr_time_ago(int64_t sec, int64_t now, char *buf, size_t len)
{
	int64_t d = now - sec;

	if (d < 1)
		snprintf(buf, len, "less than a second ago");
	else if (d < 60)
		snprintf(buf, len, "%lld second%s ago", (long long)d, d == 1 ? "" : "s");
	else if (d < 120)
		snprintf(buf, len, "about a minute ago");
	else if (d < 3600)
		snprintf(buf, len, "%lld minutes ago", (long long)(d / 60));
	else if (d < 7200)
		snprintf(buf, len, "about an hour ago");
	else if (d < 2 * 86400)
		snprintf(buf, len, "%lld hours ago", (long long)(d / 3600));
	else if (d < 14 * 86400)
		snprintf(buf, len, "%lld days ago", (long long)(d / 86400));
	else if (d < 60 * 86400)
		snprintf(buf, len, "%lld weeks ago", (long long)(d / (7 * 86400)));
	else if (d < 730 * 86400)
		snprintf(buf, len, "%lld months ago", (long long)(d / (30 * 86400)));
	else
		snprintf(buf, len, "%lld years ago", (long long)(d / (365 * 86400)));
}

/* v scaled by base until below it, with up to 3 significant digits. */
static void
human(double v, double base, const char *const *units, size_t nunits,
    char *buf, size_t len)
{
	size_t u = 0;

	while (v >= base && u + 1 < nunits) {
		v /= base;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f%s", v, units[0]);
	else
		snprintf(buf, len, "%.*f%s", v < 10 ? 2 : v < 100 ? 1 : 0, v, units[u]);
}

void
ctr_bytes_binary(uint64_t v, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };

	human((double)v, 1024, units, 7, buf, len);
}

void
ctr_bytes_decimal(uint64_t v, char *buf, size_t len)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };

	human((double)v, 1000, units, 7, buf, len);
}
