/* containerd-state: the global flags, the verbs' flag parsing, dispatch. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

static const struct state_cmd *const verbs[] = {
	&state_cmd_dump,
	&state_cmd_events,
	&state_cmd_replay,
	&state_cmd_check,
	NULL,
};

static const char common_help[] =
    "  --state-dir DIR  the daemon's state directory (default " STATE_DEFAULT_DIR ")\n"
    "  --db PATH        the database file itself (default <state-dir>/state.db)\n"
    "  -h, --help       show this help\n";

static void
usage(FILE *f)
{
	fprintf(f, "Usage: " STATE_PROG " [--state-dir DIR | --db PATH] COMMAND [OPTIONS]\n\n"
		   "Reads containerd's database, <state-dir>/state.db, read-only: while the"
		   " daemon runs\nor not, and from a read-only copy. It never migrates or"
		   " writes it.\n\nCommands:\n");
	for (int k = 0; verbs[k] != NULL; k++)
		fprintf(f, "  %-8s %s\n", verbs[k]->name, verbs[k]->summary);
	fprintf(f, "\nOptions:\n%s\nRun '" STATE_PROG " COMMAND --help' for a command's options."
		   "\nExit status: 0 when all is well; 1 on an error, a difference (replay) or"
		   " a problem (check).\n", common_help);
}

static void
verb_usage(const struct state_cmd *cmd)
{
	printf("Usage: " STATE_PROG " [--state-dir DIR | --db PATH] %s%s%s\n\n%s.\n\nOptions:\n%s%s",
	    cmd->name, *cmd->usage ? " " : "", cmd->usage, cmd->summary,
	    cmd->options ? cmd->options : "", common_help);
	if (cmd->help != NULL)
		printf("\n%s", cmd->help);
}

int
state_fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs(STATE_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int
state_usage_error(const struct state_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, STATE_PROG "%s%s: ", cmd ? " " : "", cmd ? cmd->name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun '" STATE_PROG "%s%s --help' for usage.\n", cmd ? " " : "",
	    cmd ? cmd->name : "");
	return -1;
}

int
state_flush(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return state_fail("cannot write the output: %s", "stdout closed or full");
	return 0;
}

int
state_parse_flags(struct state_ctx *ctx, const struct state_cmd *cmd, int argc, char **argv,
    const struct option *opts, int (*flag)(void *arg, int opt, const char *v), void *arg)
{
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case OPT_HELP:
			verb_usage(cmd);
			return 1;
		case OPT_STATE_DIR:
			ctx->state_dir = optarg;
			break;
		case OPT_DB:
			ctx->db_path = optarg;
			break;
		case ':':
			return state_usage_error(cmd, "%s needs a value", argv[optind - 1]);
		case '?':
			if (optopt != 0)
				return state_usage_error(cmd, "unknown option -%c", optopt);
			return state_usage_error(cmd, "unknown option %s", argv[optind - 1]);
		default:
			if (flag == NULL || flag(arg, c, optarg) < 0)
				return -1;
			break;
		}
	}
	if (optind < argc)
		return state_usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
	if (*ctx->state_dir == '\0')
		return state_usage_error(cmd, "--state-dir is empty");
	if (ctx->db_path != NULL && *ctx->db_path == '\0')
		return state_usage_error(cmd, "--db is empty");
	return 0;
}

struct store_query *
state_open(struct state_ctx *ctx)
{
	struct err e = { 0 };

	if (ctx->q != NULL)
		return ctx->q;
	if (ctx->db_path != NULL)
		snprintf(ctx->path, sizeof(ctx->path), "%s", ctx->db_path);
	else
		snprintf(ctx->path, sizeof(ctx->path), "%s/state.db", ctx->state_dir);
	if ((ctx->q = store_query_open(ctx->path, &e)) == NULL) {
		if (e.code == GRPC_NOT_FOUND && ctx->db_path == NULL)
			state_fail("no database at %s: is --state-dir right? (the daemon creates"
				   " it when it first starts)", ctx->path);
		else if (e.code == GRPC_NOT_FOUND)
			state_fail("no database at %s: is --db right?", ctx->path);
		else
			state_fail("%s", e.msg);
		return NULL;
	}
	if (store_query_wal_pending(ctx->q))
		fprintf(stderr, STATE_PROG ": warning: %s is in a directory we cannot write, so"
				" it is read as a snapshot of the main file; the changes still in"
				" %s-wal are not shown\n", ctx->path, ctx->path);
	return ctx->q;
}

/* Global flags, then the verb with the rest. */
int
main(int argc, char **argv)
{
	struct state_ctx ctx = { .state_dir = STATE_DEFAULT_DIR };
	const struct state_cmd *cmd = NULL;
	int k = 1, rc;

	signal(SIGPIPE, SIG_IGN);
	while (k < argc && argv[k][0] == '-') {
		const char *a = argv[k], *v = NULL;
		size_t n = strcspn(a, "=");

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strncmp(a, "--state-dir", n) == 0 && n == strlen("--state-dir")) {
			v = a[n] == '=' ? a + n + 1 : argv[++k];
			ctx.state_dir = v;
		} else if (strncmp(a, "--db", n) == 0 && n == strlen("--db")) {
			v = a[n] == '=' ? a + n + 1 : argv[++k];
			ctx.db_path = v;
		} else {
			state_usage_error(NULL, "unknown option %s", a);
			return 1;
		}
		if (v == NULL) {
			state_usage_error(NULL, "%.*s needs a value", (int)n, a);
			return 1;
		}
		k++;
	}
	if (k >= argc) {
		usage(stderr);
		return 1;
	}
	for (int j = 0; verbs[j] != NULL; j++)
		if (strcmp(verbs[j]->name, argv[k]) == 0)
			cmd = verbs[j];
	if (cmd == NULL) {
		state_usage_error(NULL, "unknown command \"%s\"", argv[k]);
		return 1;
	}
	rc = cmd->run(&ctx, argc - k, argv + k);
	store_query_close(ctx.q);
	return rc;
}
