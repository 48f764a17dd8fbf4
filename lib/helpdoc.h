/*
 * helpdoc: one description of a program's flags, printed three ways: as
 * --help, as a man page (roff) and as a bash completion script. Each
 * program keeps its flags in one table and prints all three from it
 * (hidden flags --man and --bash-completion), so the man page and the
 * completion cannot drift from --help; `make` writes them into build/.
 *
 * Text given here is laid out as --help prints it: lines joined by '\n',
 * a blank line between paragraphs, an indented "- " line starts a bullet
 * and further indented lines continue it.
 */
#ifndef LIB_HELPDOC_H
#define LIB_HELPDOC_H

#include <stdio.h>

/* One flag, as --help lists it. A table ends with a { NULL } entry. */
struct helpdoc_flag {
	const char *flags;	/* "-l, --listen ADDR": names, then the value's name */
	const char *help;	/* its lines, '\n' between them, as --help wraps them */
};

/* --help's list: "  FLAGS" padded to width, a space, then HELP, whose
 * further lines start under the first; FLAGS wider than width have a line
 * of their own. */
void helpdoc_flags_print(FILE *f, const struct helpdoc_flag *flags, int width);

/* ---- roff (man(7)) ---- */

/* .TH and NAME: "name \- what". section: "1", "8". */
void helpdoc_man_head(FILE *f, const char *name, const char *section, const char *what);
/* .SH TITLE */
void helpdoc_man_section(FILE *f, const char *title);
/* A usage line ("ctr containers start [OPTIONS] ID BUNDLE") after .macro
 * (a paragraph when NULL): the command words, lower case and outside
 * brackets, in bold. */
void helpdoc_man_usage(FILE *f, const char *macro, const char *usage);
/* Paragraphs of --help text (see above), escaped for roff. */
void helpdoc_man_text(FILE *f, const char *text);
/* One flag: .TP, the names in bold and the value's name in italics, then
 * its help. */
void helpdoc_man_flag(FILE *f, const char *flags, const char *help);
void helpdoc_man_flags(FILE *f, const struct helpdoc_flag *flags);
/* .TP with term in bold (a verb), then text. */
void helpdoc_man_item(FILE *f, const char *term, const char *text);

/* ---- bash completion ---- */

/* Words separated by spaces, for one level of the completion script. */
struct helpdoc_words {
	char buf[2048];
	size_t len;
};
void helpdoc_words_add(struct helpdoc_words *w, const char *word);
/* The names of flags ("-l, --listen ADDR": -l --listen) to opts, and to
 * vals as well when a value's name follows them. */
void helpdoc_flag_words(const char *flags, struct helpdoc_words *opts,
    struct helpdoc_words *vals);

/*
 * The script: helpdoc_bash_begin, then one helpdoc_bash_level per command
 * path ("ctr", "ctr containers", ...) with its verbs, its flags and those of
 * its flags that take a value, then helpdoc_bash_end. The words before the
 * cursor are walked from the program's own level: a verb of the current
 * level goes down into it, a value flag skips its value. At the cursor a
 * word starting with '-' completes the level's flags, another its verbs;
 * with no verbs left (or after a value flag) bash's default completion, file
 * names, takes over.
 */
void helpdoc_bash_begin(FILE *f, const char *prog);
void helpdoc_bash_level(FILE *f, const char *path, const struct helpdoc_words *cmds,
    const struct helpdoc_words *opts, const struct helpdoc_words *vals);
void helpdoc_bash_end(FILE *f, const char *prog);

#endif
