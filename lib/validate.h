/* validate: what the API accepts as ids and paths. */
#ifndef LIB_VALIDATE_H
#define LIB_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define ID_MAX 128
#define PATH_MAX_LEN 4000

/* [A-Za-z0-9][A-Za-z0-9_.-]{0,127}; what names the id in messages ("container id"). */
int validate_id(const char *what, const char *id, struct err *e);
/* An absolute path with no ".." component, at most PATH_MAX_LEN bytes.
 * empty_ok: "" is accepted (means "none"). */
int validate_path(const char *what, const char *path, int empty_ok, struct err *e);

/*
 * Labels per container. State lists every container with its labels, and
 * a default gRPC client reads at most 4 MiB: at these bounds 100
 * containers' labels are 1.6 MiB, leaving room for their processes.
 * Docker's own labels are a few short key=value pairs.
 */
#define LABELS_MAX 64			/* labels per container */
#define LABEL_MAX_LEN 4096		/* bytes in one label */
#define LABELS_MAX_BYTES (16 << 10)	/* bytes of all a container's labels */

/* The labels of one container within the bounds above. */
int validate_labels(char *const *labels, size_t n, struct err *e);

/* True when s[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, nothing past U+10FFFF), as protobuf requires of every
 * `string` field. */
int validate_utf8(const char *s, size_t n);

/* Go-style durations: "30s", "5m0s", "1h2m3.5s", "250ms", "0". Returns 0 and
 * nanoseconds in *ns, or -1. */
int duration_parse(const char *s, int64_t *ns);

/* RFC 3339 ("2026-11-22T05:43:20Z", fractions and offsets allowed) to ns
 * since the epoch; -1 if malformed. */
int rfc3339_parse(const char *s, int64_t *ns);

/* CLOCK_REALTIME in ns since the epoch. */
int64_t now_ns(void);
/* CLOCK_MONOTONIC in ns: for measuring how long something took. */
int64_t mono_ns(void);

#endif
