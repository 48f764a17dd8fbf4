/*
 * logfile.h: the process's output as records in a log file, in conmon's
 * k8s-file shape: one line per record,
 *
 *     2024-01-02T03:04:05.123456789Z stdout F the line without its newline
 *
 * (time the shim read the bytes, RFC 3339 UTC with nine fraction digits;
 * stream; F a full line, P a partial one that goes on in the next record:
 * longer than SHIM_LOG_LINE bytes, or cut at exit without a newline).
 *
 * Size cap: a record that would take the file past max_size renames it to
 * PATH.1 (replacing the older one) and starts a new PATH (0: no cap).
 *
 * Never blocks the process: a write that fails (a full disk) drops the
 * record, counts it and says so in shim.log; a short write is cut off again
 * so the file stays whole lines. The process never waits on its log.
 */
#ifndef SHIM_LOGFILE_H
#define SHIM_LOGFILE_H

#include <stddef.h>

#define SHIM_LOG_LINE (8 * 1024)

struct shim_logfile {
	int fd;			/* -1: not logging */
	const char *path;	/* absolute */
	const char *path1;	/* path + ".1" */
	unsigned long long max_size, size;
	unsigned long long dropped, dropped_bytes;
	int failing;		/* the last write failed (logged once per run of failures) */
};

struct shim_logstream {
	int in;			/* pipe read end or pty master (non-blocking, not owned); -1 when done */
	const char *name;	/* "stdout" or "stderr" */
	char *buf;		/* SHIM_LOG_LINE bytes */
	size_t len;
};

/* Opens (creates, 0600, append) path; -1 with errno. */
int shim_logfile_open(struct shim_logfile *l, const char *path, unsigned long long max_size);
/*
 * Reads what s's fd has now and writes its complete lines as records.
 * Returns 1 at EOF (or EIO of a pty whose slave is gone: s->in is -1
 * then; the fd stays its owner's), 0 else.
 */
int shim_logstream_run(struct shim_logfile *l, struct shim_logstream *s);
/* Writes what s still holds (a line without its newline) as a P record. */
void shim_logstream_flush(struct shim_logfile *l, struct shim_logstream *s);

#endif
