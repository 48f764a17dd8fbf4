/*
 * man: ctr(1) and ctr's bash completion, walked from the same command
 * descriptors and option tables that parse the flags and print --help
 * (opts.c), so a new verb or flag appears in all three. main.c runs them
 * for the hidden `ctr --man` and `ctr --bash-completion`; `make` writes
 * their output into build/.
 */
#include "ctr.h"

#include <stdlib.h>
#include <string.h>

#include "helpdoc.h"
#include "log.h"

/* An option as --help shows it: "-a, --address value" and its help with
 * "(repeatable)" and the default. */
static void
opt_flags(const struct ctr_opt *o, char *buf, size_t len)
{
	const char *meta = o->kind == CTR_OPT_BOOL ? "" : " value";

	if (o->short_name)
		snprintf(buf, len, "-%c, --%s%s", o->short_name, o->name, meta);
	else
		snprintf(buf, len, "--%s%s", o->name, meta);
}

static void
opt_help(const struct ctr_opt *o, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s", o->help, o->kind == CTR_OPT_LIST ? " (repeatable)" : "",
	    o->def != NULL ? " (default: " : o->kind == CTR_OPT_BOOL ? " (default: false)" : "",
	    o->def != NULL ? o->def : "", o->def != NULL ? ")" : "");
}

/* The usage line --help prints after "Usage: ". */
static void
usage_line(const struct ctr_cmd *cmd, const char *path, char *buf, size_t len)
{
	if (cmd->subs != NULL)
		snprintf(buf, len, "%s [OPTIONS] COMMAND [ARGS...]", path);
	else
		snprintf(buf, len, "%s [OPTIONS]%s%s", path, cmd->args ? " " : "",
		    cmd->args ? cmd->args : "");
}

static char *
sub_path(const char *path, const struct ctr_cmd *sub)
{
	char *p;

	if (asprintf(&p, "%s %s", path, sub->name) < 0)
		fatal("ctr: out of memory");
	return p;
}

static void
man_commands(FILE *f, const struct ctr_cmd *cmd)
{
	char text[512];

	for (size_t k = 0; cmd->subs[k] != NULL; k++) {
		snprintf(text, sizeof(text), "%s%s", cmd->subs[k]->summary,
		    k == 0 && cmd->run == NULL ? " (the default)" : "");
		helpdoc_man_item(f, cmd->subs[k]->name, text);
	}
}

static void
man_options(FILE *f, const struct ctr_cmd *cmd)
{
	char flags[96], help[1024];

	for (size_t k = 0; cmd->opts != NULL && cmd->opts[k].name != NULL; k++) {
		opt_flags(&cmd->opts[k], flags, sizeof(flags));
		opt_help(&cmd->opts[k], help, sizeof(help));
		helpdoc_man_flag(f, flags, help);
	}
	helpdoc_man_flag(f, "-h, --help", "show this help");
}

/* One .SS per command below the root, depth first, in --help's order. */
static void
man_cmd(FILE *f, const struct ctr_cmd *cmd, const char *path)
{
	char line[512];

	usage_line(cmd, path, line, sizeof(line));
	helpdoc_man_usage(f, "SS", line);
	helpdoc_man_text(f, cmd->summary);
	if (cmd->subs != NULL) {
		helpdoc_man_text(f, "Commands:");
		man_commands(f, cmd);
	}
	helpdoc_man_text(f, "Options:");
	man_options(f, cmd);
	for (size_t k = 0; cmd->subs != NULL && cmd->subs[k] != NULL; k++) {
		char *p = sub_path(path, cmd->subs[k]);

		man_cmd(f, cmd->subs[k], p);
		free(p);
	}
}

int
ctr_man(FILE *f)
{
	char line[512];

	helpdoc_man_head(f, "ctr", "1", "the command-line client of containerd");
	helpdoc_man_section(f, "SYNOPSIS");
	usage_line(&cmd_root, "ctr", line, sizeof(line));
	helpdoc_man_usage(f, "", line);
	helpdoc_man_section(f, "DESCRIPTION");
	helpdoc_man_text(f, cmd_root.summary);
	helpdoc_man_text(f, "Every command answers --help with its flags, as listed here.");
	helpdoc_man_section(f, "OPTIONS");
	man_options(f, &cmd_root);
	helpdoc_man_section(f, "COMMANDS");
	man_commands(f, &cmd_root);
	for (size_t k = 0; cmd_root.subs[k] != NULL; k++) {
		char *p = sub_path("ctr", cmd_root.subs[k]);

		man_cmd(f, cmd_root.subs[k], p);
		free(p);
	}
	helpdoc_man_section(f, "EXIT STATUS");
	helpdoc_man_text(f,
	    "0 on success; 1 on an error (printed as \"ctr: MESSAGE\"); 2 on a usage error;\n"
	    "with --attach, the status of the container's or the process's own exit.");
	helpdoc_man_section(f, "SEE ALSO");
	fputs("\\fBcontainerd\\fR(8), \\fBcontainerd\\-state\\fR(1), \\fBrunc\\fR(8)\n", f);
	return ferror(f) ? CTR_EXIT_ERROR : 0;
}

static void
bash_level(FILE *f, const struct ctr_cmd *cmd, const char *path)
{
	struct helpdoc_words cmds = { .len = 0 }, opts = { .len = 0 }, vals = { .len = 0 };
	char flags[96];

	for (size_t k = 0; cmd->subs != NULL && cmd->subs[k] != NULL; k++)
		helpdoc_words_add(&cmds, cmd->subs[k]->name);
	for (size_t k = 0; cmd->opts != NULL && cmd->opts[k].name != NULL; k++) {
		opt_flags(&cmd->opts[k], flags, sizeof(flags));
		helpdoc_flag_words(flags, &opts, &vals);
	}
	helpdoc_flag_words("-h, --help", &opts, &vals);
	helpdoc_bash_level(f, path, &cmds, &opts, &vals);
	for (size_t k = 0; cmd->subs != NULL && cmd->subs[k] != NULL; k++) {
		char *p = sub_path(path, cmd->subs[k]);

		bash_level(f, cmd->subs[k], p);
		free(p);
	}
}

int
ctr_bash_completion(FILE *f)
{
	helpdoc_bash_begin(f, "ctr");
	bash_level(f, &cmd_root, "ctr");
	helpdoc_bash_end(f, "ctr");
	return ferror(f) ? CTR_EXIT_ERROR : 0;
}
