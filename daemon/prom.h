/*
 * prom: the daemon's metrics for Prometheus, served with --metrics-address
 * on GET /metrics in the text exposition format 0.0.4.
 *
 *   prom.c       the HTTP/1.1 listener and its clients, on the loop; a
 *                scrape's text, built over several loop iterations
 *   prom_text.c  what does no I/O of the loop's: the text buffer, label
 *                escaping, the request head's parse, a container's memory
 *                usage from its cgroup (tests/unit/test_prom.c)
 *   metrics.c    its registry's families (metrics_prom_write)
 *
 * Ownership: a prom_buf's text is its own (prom_buf_free); everything else
 * here borrows.
 */
#ifndef DAEMON_PROM_H
#define DAEMON_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* Grows as text is appended, up to max bytes (0: no cap). Past the cap or
 * out of memory, failed is set and nothing more is appended: the scrape
 * that owns it answers 500 rather than a torn exposition. */
struct prom_buf {
	char *p;		/* NUL-terminated while not failed */
	size_t len, cap, max;
	bool failed;
};

void prom_buf_put(struct prom_buf *b, const char *s, size_t n);
void prom_buf_printf(struct prom_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s as a label value, without the quotes: backslash, double quote and
 * newline escaped as the format wants; bytes that are not UTF-8 become the
 * text \xNN first (as the gRPC replies show them), so the value is valid
 * UTF-8 and nothing is lost. */
void prom_buf_label(struct prom_buf *b, const char *s);
void prom_buf_free(struct prom_buf *b);

/*
 * An HTTP/1.x request head in buf[0..len) (not NUL-terminated):
 *   0    not complete yet (no blank line), and nothing wrong so far
 *   200  GET or HEAD of /metrics (a query string is ignored); *head: HEAD
 *   400  a malformed request line or header line, or a control byte
 *        (seen as soon as it arrives: a TLS hello is answered at once)
 *   404  another path
 *   405  /metrics with another method
 *   505  an HTTP version other than 1.0 and 1.1
 * *head_len: the head's length with its blank line, when complete.
 */
int prom_request_parse(const char *buf, size_t len, bool *head, size_t *head_len);

/* The reason phrase of an HTTP status this server sends. */
const char *prom_status_text(int status);

/*
 * The memory a process's cgroup uses, in bytes: from <proc_root>/<pid>/cgroup,
 * the v1 memory hierarchy's memory.usage_in_bytes (at
 * <cgroup_root>/memory<path>, or under the co-mounted name the line gives),
 * else the unified one's memory.current (at <cgroup_root><path>, or
 * <cgroup_root>/unified<path> on a hybrid host). 0, or -1 when the process
 * is gone or no such file is there. Reads two small files; allocates nothing.
 */
int prom_cgroup_memory(const char *proc_root, const char *cgroup_root, pid_t pid,
    uint64_t *bytes);

/* prom.c. prom_check: --metrics-address parsed and checked (a loopback
 * host:port, or a socket path), before anything is made; prom_start: bound
 * and served (after the state dir is locked); -1 with e. */
int prom_check(struct err *e);
int prom_start(struct err *e);
void prom_stop(void);
/* The unix socket's absolute path (after prom_check), else NULL. */
const char *prom_socket_path(void);

/* metrics.c: the registry's families (timers as histograms, counters,
 * gauges), each with its HELP and TYPE. */
void metrics_prom_write(struct prom_buf *b);

#endif
