/* helpdoc: --help's layout, roff escaping, completion words (lib/helpdoc.c). */
#include <stdlib.h>
#include <string.h>

#include "helpdoc.h"
#include "tap.h"

/* What call printed on f, copied into buf. */
#define CAPTURE(buf, call)                                               \
	do {                                                             \
		char *cap_p_ = NULL;                                     \
		size_t cap_n_ = 0;                                       \
		FILE *f = open_memstream(&cap_p_, &cap_n_);              \
		call;                                                    \
		fclose(f);                                               \
		snprintf(buf, sizeof(buf), "%s", cap_p_ ? cap_p_ : "");  \
		free(cap_p_);                                            \
	} while (0)

int
main(void)
{
	static const struct helpdoc_flag flags[] = {
		{ "--a X", "one line" },
		{ "-l, --long-name VALUE", "first\nsecond" },
		{ NULL, NULL },
	};
	struct helpdoc_words opts = { .len = 0 }, vals = { .len = 0 };
	char out[2048];

	CAPTURE(out, helpdoc_flags_print(f, flags, 8));
	is_str(out,
	    "  --a X    one line\n"
	    "  -l, --long-name VALUE\n"
	    "           first\n"
	    "           second\n",
	    "--help: padded; a wide flag on its own line, further lines under the first");

	CAPTURE(out, helpdoc_man_flag(f, "-l, --long-name VALUE", "a\n  b"));
	is_str(out, ".TP\n\\fB\\-l\\fR, \\fB\\-\\-long\\-name\\fR \\fIVALUE\\fR\na\nb\n",
	    "man flag: names bold with ASCII dashes, the value italic, help lines unindented");

	CAPTURE(out, helpdoc_man_text(f, ".dot first\nback\\slash 'q' `c`\n\nnext\n  - item\n    more\nafter"));
	is_str(out,
	    ".PP\n\\&.dot first\nback\\eslash \\(aqq\\(aq \\(gac\\(ga\n"
	    ".PP\nnext\n.IP \\(bu 2\nitem\nmore\n.PP\nafter\n",
	    "man text: a leading dot, backslash and quotes escaped; paragraphs; a bullet");

	CAPTURE(out, helpdoc_man_usage(f, "SS", "prog [--x DIR | --y] verb [OPTIONS] ID"));
	is_str(out, ".SS \\fBprog\\fR [\\-\\-x DIR | \\-\\-y] \\fBverb\\fR [OPTIONS] ID\n",
	    "usage: the command words bold, nothing in brackets or upper case");

	helpdoc_flag_words("-l, --listen ADDR", &opts, &vals);
	helpdoc_flag_words("--debug", &opts, &vals);
	is_str(opts.buf, "-l --listen --debug", "completion: every flag name");
	is_str(vals.buf, "-l --listen", "completion: only those that take a value");
	return done_testing();
}
