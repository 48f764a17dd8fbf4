/*
 * shim.h: what the parts of containerd-shim share.
 *
 * One shim runs per container process. It is single-threaded and uses libc
 * only (static musl), so everything here is plain fds and fixed buffers.
 * Strings in struct shim_opts point into argv and are never freed.
 */
#ifndef SHIM_H
#define SHIM_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#define SHIM_MAX_RUNTIME_ARGS 32

/* The command line, parsed. */
struct shim_opts {
	const char *id;
	const char *bundle;	/* absolute */
	const char *dir;	/* absolute; also the shim's cwd */
	const char *runtime;	/* a path, or a name looked up in PATH */
	const char *runtime_args[SHIM_MAX_RUNTIME_ARGS];
	int n_runtime_args;
	const char *stdin_path;	/* NULL or "" = /dev/null */
	const char *stdout_path;
	const char *stderr_path;
	int terminal;
	const char *exec_json;	/* non-NULL: an exec (absolute) */
	const char *checkpoint;	/* non-NULL: restore (absolute) */
	int no_pivot;
	int sync_fd;
	const char *log_path;	/* non-NULL: log stdout/stderr there (absolute) */
	unsigned long long log_max_size;	/* 0: no cap */
};

/* log.c: the shim's own log, PROC_DIR/shim.log (append, timestamped). */
void shim_log_open(void);
void shim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* appends strerror(errno) */
void shim_logx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* util: write the whole buffer, retrying on EINTR. 0, or -1 with errno. */
int shim_write_all(int fd, const void *buf, size_t len);
/* CLOCK_REALTIME in nanoseconds. */
unsigned long long shim_now_ns(void);

#endif
