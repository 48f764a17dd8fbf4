/*
 * containerd-state: reads <state-dir>/state.db read-only and never through
 * the daemon: dump, events, replay, check. One file per verb, each exporting
 * one struct state_cmd; main.c parses the global flags and dispatches.
 *
 * Exit status: 0 when all is well; 1 for an error (message on stderr), a
 * difference (replay) or a problem (check).
 */
#ifndef TOOLS_STATE_STATE_H
#define TOOLS_STATE_STATE_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "helpdoc.h"
#include "query.h"

#define STATE_PROG "containerd-state"
#define STATE_DEFAULT_DIR "/run/containerd"

/* What the verbs share: where the database is, and its handle once open. */
struct state_ctx {
	const char *state_dir;		/* --state-dir, or the default */
	const char *db_path;		/* --db, or NULL: <state_dir>/state.db */
	char path[4200];		/* the file actually opened */
	struct store_query *q;		/* owned; NULL until state_open() */
};

struct state_cmd {
	const char *name;
	const char *usage;		/* the verb's flags, for the usage line */
	const char *summary;		/* one line */
	const struct helpdoc_flag *options;	/* the verb's own flags (NULL: none) */
	const char *help;		/* the rules, for --help (NULL: none) */
	/* argv[0] is the verb; returns the exit status. */
	int (*run)(struct state_ctx *ctx, int argc, char **argv);
};

extern const struct state_cmd state_cmd_dump;
extern const struct state_cmd state_cmd_events;
extern const struct state_cmd state_cmd_replay;
extern const struct state_cmd state_cmd_check;

/* Opens the database (once); NULL after printing why. */
struct store_query *state_open(struct state_ctx *ctx);

/* Flags every verb takes besides its own: --state-dir, --db, --help. The
 * verb's table ends with these (STATE_COMMON_OPTS) then a zero entry. */
enum { OPT_STATE_DIR = 1000, OPT_DB, OPT_HELP, OPT_VERB_FIRST };
#define STATE_COMMON_OPTS \
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR }, \
	{ "db", required_argument, NULL, OPT_DB }, \
	{ "help", no_argument, NULL, OPT_HELP }
/* Parses argv with opts; each flag of the verb's own goes to
 * flag(arg, opt, value), which returns 0 or -1 after state_usage_error().
 * Returns 0, 1 if --help was printed, -1 on a usage error (printed). */
int state_parse_flags(struct state_ctx *ctx, const struct state_cmd *cmd, int argc,
    char **argv, const struct option *opts, int (*flag)(void *arg, int opt, const char *v),
    void *arg);
/* Prints "containerd-state VERB: MSG" and a hint; returns -1. */
int state_usage_error(const struct state_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "containerd-state: MSG" on stderr; returns 1 (the exit status). */
int state_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* stdout flushed and without error, else 1 with a message. */
int state_flush(void);

/* Times. RFC 3339 (2024-05-01T10:00:00Z, fractions and offsets too) or a
 * Go duration meaning that long ago (10m, 1h30m); 0 or -1. */
int state_time_parse(const char *s, int64_t now, int64_t *ns);
/* RFC 3339, UTC, nine fraction digits: 2024-05-01T10:00:00.123456789Z. */
#define STATE_TIME_LEN 40
void state_time_format(int64_t ns, char buf[STATE_TIME_LEN]);

/* The start time (field 22 of /proc/PID/stat) of a live process: 1 and
 * *start, 0 if it is gone or a zombie. */
int state_proc_start(int64_t pid, int64_t *start);

/* A bag of allocations freed together (a dump's messages). Out of memory
 * ends the program with a message: there is nothing better a reader can do. */
struct bag {
	void **p;
	size_t n, cap;
};
void *bag_alloc(struct bag *b, size_t size);	/* zeroed */
char *bag_strdup(struct bag *b, const char *s);	/* NULL gives "" */
void bag_free(struct bag *b);
void state_oom(void) __attribute__((noreturn));

#endif
