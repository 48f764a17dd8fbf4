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

static void log_vwrite(const char *fmt, va_list ap, int errnum)
{
	char line[768], t[SHIM_TIME_LEN];
	size_t n;

	shim_time_format(shim_now_ns(), t);
	n = (size_t)shim_snprintf(line, sizeof(line), "%s containerd-shim[%d]: ", t, (int)getpid());
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
