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

/* The flags every verb takes too. */
static const struct helpdoc_flag common_flags[] = {
	{ "--state-dir DIR", "the daemon's state directory (default " STATE_DEFAULT_DIR ")" },
	{ "--db PATH", "the database file itself (default <state-dir>/state.db)" },
	{ "-h, --help", "show this help" },
	{ NULL, NULL },
};

#define USAGE_LINE STATE_PROG " [--state-dir DIR | --db PATH]"

static const char intro[] =
    "Reads containerd's database, <state-dir>/state.db, read-only: while the daemon runs\n"
    "or not, and from a read-only copy. It never migrates or writes it.\n";

static const char exit_status[] =
    "Exit status: 0 when all is well; 1 on an error, a difference (replay) or a problem"
    " (check).\n";

static void
usage(FILE *f)
{
	fprintf(f, "Usage: " USAGE_LINE " COMMAND [OPTIONS]\n\n%s\nCommands:\n", intro);
	for (int k = 0; verbs[k] != NULL; k++)
		fprintf(f, "  %-8s %s\n", verbs[k]->name, verbs[k]->summary);
	fprintf(f, "\nOptions:\n");
	helpdoc_flags_print(f, common_flags, 16);
	fprintf(f, "\nRun '" STATE_PROG " COMMAND --help' for a command's options.\n%s",
	    exit_status);
}

/* "[--state-dir DIR | --db PATH] dump [--id ID] [--all]" */
static void
verb_usage_line(char *buf, size_t len, const struct state_cmd *cmd)
{
	snprintf(buf, len, USAGE_LINE " %s%s%s", cmd->name, *cmd->usage ? " " : "",
	    cmd->usage);
}

static void
verb_usage(const struct state_cmd *cmd)
{
	char line[512];

	verb_usage_line(line, sizeof(line), cmd);
	printf("Usage: %s\n\n%s.\n\nOptions:\n", line, cmd->summary);
	if (cmd->options != NULL)
		helpdoc_flags_print(stdout, cmd->options, 16);
	helpdoc_flags_print(stdout, common_flags, 16);
	if (cmd->help != NULL)
		printf("\n%s", cmd->help);
}

/* --man: containerd-state(1), from the tables --help prints. */
static void
man(FILE *f)
{
	char line[512];

	helpdoc_man_head(f, STATE_PROG, "1", "read containerd's database, read-only");
	helpdoc_man_section(f, "SYNOPSIS");
	helpdoc_man_usage(f, "", USAGE_LINE " COMMAND [OPTIONS]");
	helpdoc_man_section(f, "DESCRIPTION");
	helpdoc_man_text(f, intro);
	helpdoc_man_section(f, "OPTIONS");
	helpdoc_man_text(f, "Every command takes these too.\n");
	helpdoc_man_flags(f, common_flags);
	helpdoc_man_section(f, "COMMANDS");
	for (int k = 0; verbs[k] != NULL; k++) {
		const struct state_cmd *cmd = verbs[k];

		verb_usage_line(line, sizeof(line), cmd);
		helpdoc_man_usage(f, "SS", line);
		snprintf(line, sizeof(line), "%s.\n", cmd->summary);
		helpdoc_man_text(f, line);
		if (cmd->options != NULL)
			helpdoc_man_flags(f, cmd->options);
		if (cmd->help != NULL)
			helpdoc_man_text(f, cmd->help);
	}
	helpdoc_man_section(f, "EXIT STATUS");
	helpdoc_man_text(f, exit_status);
	helpdoc_man_section(f, "SEE ALSO");
	fputs("\\fBcontainerd\\fR(8), \\fBctr\\fR(1), \\fBsqlite3\\fR(1)\n", f);
}

/* --bash-completion: the verbs and every level's flags. */
static void
bash_completion(FILE *f)
{
	struct helpdoc_words cmds = { .len = 0 }, opts = { .len = 0 }, vals = { .len = 0 };
	char path[64];

	helpdoc_bash_begin(f, STATE_PROG);
	for (int k = 0; verbs[k] != NULL; k++)
		helpdoc_words_add(&cmds, verbs[k]->name);
	for (const struct helpdoc_flag *fl = common_flags; fl->flags != NULL; fl++)
		helpdoc_flag_words(fl->flags, &opts, &vals);
	helpdoc_bash_level(f, STATE_PROG, &cmds, &opts, &vals);
	for (int k = 0; verbs[k] != NULL; k++) {
		struct helpdoc_words none = { .len = 0 }, vopts = opts, vvals = vals;

		for (const struct helpdoc_flag *fl = verbs[k]->options; fl && fl->flags; fl++)
			helpdoc_flag_words(fl->flags, &vopts, &vvals);
		snprintf(path, sizeof(path), STATE_PROG " %s", verbs[k]->name);
		helpdoc_bash_level(f, path, &none, &vopts, &vvals);
	}
	helpdoc_bash_end(f, STATE_PROG);
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
		/* Hidden: what `make` writes into containerd-state.1 and the completion. */
		if (strcmp(a, "--man") == 0) {
			man(stdout);
			return 0;
		}
		if (strcmp(a, "--bash-completion") == 0) {
			bash_completion(stdout);
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
