/*
 * ctr: the command-line client of the types.API service.
 *
 * Every verb is one descriptor (struct ctr_cmd) in its own cmd_<verb>.c;
 * groups ("containers", "checkpoints", and the root "ctr") list their verbs.
 * main.c hands argv to ctr_cmd_exec(), which parses each level's flags from
 * the descriptor's option table, prints --help from the same table, and
 * runs the verb. A verb returns the process exit status: 0, 1 for an error
 * (printed as "ctr: MESSAGE"), 2 for a usage error, or a relayed process
 * status.
 */
#ifndef CTR_CTR_H
#define CTR_CTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "api.pb-c.h"
#include "err.h"
#include "grpc.h"

#define CTR_EXIT_ERROR 1
#define CTR_EXIT_USAGE 2
#define RECORDS_PREFIX "/containerd.records.v1.Records/"
#define CTR_DEFAULT_ADDRESS "/run/containerd/containerd.sock"
#define CTR_ADDRESS_ENV "CONTAINERD_ADDRESS"

/* ---- command descriptors and flags (opts.c) ---- */

enum ctr_opt_kind {
	CTR_OPT_BOOL,	/* --x, --x=true|false */
	CTR_OPT_STRING,	/* --x V, --x=V, -x V, -xV; the last one wins */
	CTR_OPT_LIST,	/* repeatable: every value is kept, in order */
};

struct ctr_opt {
	const char *name;	/* long name, without dashes */
	char short_name;	/* 0: none */
	enum ctr_opt_kind kind;
	const char *def;	/* default, used when unset and shown in --help */
	const char *help;
};

#define CTR_MAX_OPTS 24

struct ctr;
struct ctr_args;

struct ctr_cmd {
	const char *name;
	const char *args;	/* synopsis of the arguments, e.g. "ID BUNDLE" */
	const char *summary;	/* one line for --help and the group's list */
	const struct ctr_opt *opts;	/* ends with a {NULL} entry; may be NULL */
	int min_args, max_args;	/* max_args -1: any number */
	bool args_stop;		/* flags end at the first argument (exec CMD...) */
	/* A group: its verbs, NULL-terminated; the first is the default
	 * when no verb is named. */
	const struct ctr_cmd *const *subs;
	/* A verb: runs it. A group: called with its own flags before the
	 * verb runs; returns -1 to go on, or an exit status. */
	int (*run)(struct ctr *c, const struct ctr_args *a);
	/* More text for --help, after the options (exit statuses, the
	 * environment); ends with a newline. May be NULL. */
	const char *epilog;
};

/* One level's parsed command line. Values point into argv. */
struct ctr_args {
	const struct ctr_cmd *cmd;
	const char *path;	/* "ctr containers start", for messages */
	bool set[CTR_MAX_OPTS];
	const char *val[CTR_MAX_OPTS];	/* last value, or NULL */
	const char **list[CTR_MAX_OPTS];	/* CTR_OPT_LIST values (malloc'd) */
	size_t nlist[CTR_MAX_OPTS];
	int argc;
	char **argv;		/* the positional arguments */
};

/* Parses and runs cmd (recursing into groups); returns the exit status. */
int ctr_cmd_exec(struct ctr *c, const struct ctr_cmd *cmd, const char *path,
    int argc, char **argv);

/* Accessors by long name (the name must be in the table: a typo aborts). */
const char *ctr_arg_str(const struct ctr_args *a, const char *name);
bool ctr_arg_bool(const struct ctr_args *a, const char *name);
bool ctr_arg_isset(const struct ctr_args *a, const char *name);
const char **ctr_arg_list(const struct ctr_args *a, const char *name, size_t *n);
/* Unsigned flag value with an optional k/m/g/t suffix (binary multiples)
 * when suffixes is set. Returns 0, or prints a usage error and returns -1. */
int ctr_arg_uint(const struct ctr_args *a, const char *name, uint64_t max,
    bool suffixes, uint64_t *out);

/* Prints "ctr: MESSAGE", the usage line and a pointer to --help on stderr;
 * returns CTR_EXIT_USAGE. */
int ctr_usage_error(const struct ctr_args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "did you mean "PREFIXname"?" (or "... or ...") into buf for the names
 * close to typed (a typo or a prefix); -1 and "" when none is. */
int ctr_suggest(const char *typed, const char *const *names, size_t n,
    const char *prefix, char *buf, size_t len);

/* ---- connection and calls (client.c) ---- */

struct ctr {
	const char *address;
	int conn_timeout_ms;	/* 0: none */
	bool debug;		/* --debug: each call and its time on stderr */
	struct grpc_client *client;	/* for unary calls, on first use */
};

/* A new connection, health-checked within conn_timeout. Caller frees. */
struct grpc_client *ctr_dial(struct ctr *c, struct err *e);
/* Calls /types.API/<method> (a path starting with '/': that method of
 * another service, e.g. RECORDS_PREFIX "Prune"): packs req, unpacks the reply with rd into
 * *resp (free with protobuf_c_message_free_unpacked). */
int ctr_call(struct ctr *c, const char *method, const ProtobufCMessage *req,
    const ProtobufCMessageDescriptor *rd, ProtobufCMessage **resp,
    struct err *e);
/* A call whose reply carries nothing we use. */
int ctr_call_empty(struct ctr *c, const char *method,
    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *rd,
    struct err *e);
/* Opens an Events stream on its own connection (*cl, caller frees after
 * the stream). */
struct grpc_stream *ctr_events_open(struct ctr *c, const Types__EventsRequest *req,
    struct grpc_client **cl, struct err *e);
/* 1 and *ev (free with types__event__free_unpacked), 0 at the stream's
 * end, -1 on error (DEADLINE_EXCEEDED when timeout_ms passed; 0 = block). */
int ctr_events_next(struct grpc_stream *st, Types__Event **ev, int timeout_ms,
    struct err *e);
/* Prints "ctr: MESSAGE" on stderr; returns CTR_EXIT_ERROR. */
int ctr_fail(const struct err *e);
void ctr_close(struct ctr *c);

/* ---- parsing and printing values (util.c) ---- */

/* A signal number, or a name with or without SIG (KILL, sigkill, SIGKILL). */
int ctr_signal_parse(const char *s, int *sig);
/* --timestamp's syntax: seconds since the epoch (as before), or what
 * time_parse() reads (RFC 3339, or a Go duration before now). ns since the
 * epoch; 0, or -1 when s is none of these. */
int ctr_time_parse(const char *s, int64_t now, int64_t *ns);
/* sec and nsec (a Timestamp's) as ns since the epoch, clamped to int64. */
int64_t ctr_time_ns(int64_t sec, int32_t nsec);
/* The other way: ns since the epoch into a request's Timestamp. */
void ctr_timestamp_set(Google__Protobuf__Timestamp *t, int64_t ns);
/* The one time format (lib/timefmt.h): RFC 3339, UTC, nine fraction
 * digits, fixed width (TIME_FMT_WIDTH). */
void ctr_time_format(int64_t sec, int32_t nsec, char *buf, size_t len);
/* "3 minutes ago", as docker ps prints CREATED: sec is the moment, now the
 * current time, both seconds since the epoch. */
void ctr_time_ago(int64_t sec, int64_t now, char *buf, size_t len);
/* Sizes for people: memory in binary units (1.5MiB), I/O in decimal ones
 * (12.3kB), as docker stats prints them. */
void ctr_bytes_binary(uint64_t v, char *buf, size_t len);
void ctr_bytes_decimal(uint64_t v, char *buf, size_t len);
/* An absolute version of path (relative to the working directory), or NULL
 * with e set. Caller frees. */
char *ctr_abspath(const char *path, struct err *e);
/* stdout failed: quietly 141 (as if killed by SIGPIPE) for a closed pipe,
 * else prints the error and returns CTR_EXIT_ERROR. */
int ctr_stdout_failed(void);
/* Prints j pretty (indent 2) with a newline; frees j. */
int ctr_print_json(json_t *j);

/* ---- tables (table.c): columns aligned like Go's tabwriter ---- */

struct ctr_table;

struct ctr_table *ctr_table_new(size_t minwidth, size_t padding);
/* Adds one row; cells are separated by '\t' in the formatted text. */
void ctr_table_addf(struct ctr_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints every row and frees the table. */
void ctr_table_flush(struct ctr_table *t, FILE *f);

/* ---- events (cmd_events.c) ---- */

/* The header, and one event as a table line; each flushed at once.
 * 0, or -1 when f cannot be written (errno set). */
int ctr_event_header(FILE *f);
int ctr_event_print(FILE *f, const Types__Event *ev);

/* ---- a container's history and exit (history.c) ---- */

/* The last start and the last init exit among id's stored events. */
struct ctr_history {
	bool started, exited;
	int64_t start_sec, exit_sec;
	int32_t start_nsec, exit_nsec;
	uint32_t exit_status;
};

/* Replays id's stored events into *h (zeroed first; a kind not found stays
 * false). 0, or -1 with e set (DEADLINE_EXCEEDED after timeout_ms; 0: no
 * limit). */
int ctr_history_lookup(struct ctr *c, const char *id, int timeout_ms,
    struct ctr_history *h, struct err *e);

struct ctr_exit_watch;

/* Subscribes to id's events, then checks with State that id exists: NULL
 * with e set on failure, and *gone set when the container is not there
 * (NOT_FOUND). Free with ctr_exit_watch_free. */
struct ctr_exit_watch *ctr_exit_watch_new(struct ctr *c, const char *id,
    bool *gone, struct err *e);
/* Waits up to timeout_ms (-1: no limit) for the init's exit: 1 and *status,
 * 0 when the time ran out, -1 on error. */
int ctr_exit_watch_wait(struct ctr_exit_watch *w, int timeout_ms,
    uint32_t *status, struct err *e);
void ctr_exit_watch_free(struct ctr_exit_watch *w);

/* ---- attaching to a process's stdio (attach.c) ---- */

struct ctr_attach;

/* Makes the private fifos and subscribes to id's events, before the
 * process is created so its exit cannot be missed. */
struct ctr_attach *ctr_attach_new(struct ctr *c, const char *id,
    const char *pid, bool tty, struct err *e);
const char *ctr_attach_stdin(const struct ctr_attach *at);
const char *ctr_attach_stdout(const struct ctr_attach *at);
const char *ctr_attach_stderr(const struct ctr_attach *at);
/* After the create call succeeded: relays stdio until the process's exit
 * event arrived and its output drained. Returns 0 and *status, or -1. */
int ctr_attach_run(struct ctr_attach *at, int *status, struct err *e);
/* Restores the terminal, closes and removes the fifos and their dir. */
void ctr_attach_free(struct ctr_attach *at);

/* ---- ctr(1) and the bash completion (man.c), from the descriptors ---- */

/* Print them to f; 0, or CTR_EXIT_ERROR when f failed. */
int ctr_man(FILE *f);
int ctr_bash_completion(FILE *f);

/* ---- the verbs ---- */

extern const struct ctr_cmd cmd_root;
extern const struct ctr_cmd cmd_version;
extern const struct ctr_cmd cmd_state;
extern const struct ctr_cmd cmd_events;
extern const struct ctr_cmd cmd_containers;
extern const struct ctr_cmd cmd_containers_list;
extern const struct ctr_cmd cmd_containers_start;
extern const struct ctr_cmd cmd_containers_kill;
extern const struct ctr_cmd cmd_containers_exec;
extern const struct ctr_cmd cmd_containers_pause;
extern const struct ctr_cmd cmd_containers_resume;
extern const struct ctr_cmd cmd_containers_update;
extern const struct ctr_cmd cmd_containers_stats;
extern const struct ctr_cmd cmd_containers_state;
extern const struct ctr_cmd cmd_containers_watch;
extern const struct ctr_cmd cmd_containers_stop;
extern const struct ctr_cmd cmd_containers_wait;
extern const struct ctr_cmd cmd_containers_rm;
extern const struct ctr_cmd cmd_containers_prune;
extern const struct ctr_cmd cmd_containers_logs;
extern const struct ctr_cmd cmd_checkpoints;
extern const struct ctr_cmd cmd_checkpoints_list;
extern const struct ctr_cmd cmd_checkpoints_create;
extern const struct ctr_cmd cmd_checkpoints_delete;

#endif
