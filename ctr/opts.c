/*
 * opts: flag parsing, --help and dispatch, all driven by the descriptors,
 * so a verb's help always lists exactly the flags it accepts.
 *
 * Accepted forms: --name, --name=V, --name V, -name (Go style, when it is a
 * whole long name), -x, -xV, -x V, clustered booleans -at, and "--" to end
 * the flags. Flags may follow arguments except in groups and in verbs with
 * args_stop (exec: everything after CMD belongs to CMD).
 */
#include "ctr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const struct ctr_opt *
opt_at(const struct ctr_cmd *cmd, size_t i)
{
	return cmd->opts != NULL && cmd->opts[i].name != NULL ? &cmd->opts[i] : NULL;
}

static int
opt_long(const struct ctr_cmd *cmd, const char *name, size_t len)
{
	const struct ctr_opt *o;
	size_t i;

	for (i = 0; (o = opt_at(cmd, i)) != NULL; i++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return (int)i;
	return -1;
}

static int
opt_short(const struct ctr_cmd *cmd, char ch)
{
	const struct ctr_opt *o;
	size_t i;

	for (i = 0; (o = opt_at(cmd, i)) != NULL; i++)
		if (o->short_name == ch)
			return (int)i;
	return -1;
}

static int
opt_index(const struct ctr_args *a, const char *name)
{
	int i = opt_long(a->cmd, name, strlen(name));

	if (i < 0)
		fatalx("ctr: %s has no flag --%s", a->path, name);
	return i;
}

/* ---- help ---- */

static void
opt_left(const struct ctr_opt *o, char *buf, size_t len)
{
	const char *meta = o->kind == CTR_OPT_BOOL ? "" : " value";

	if (o->short_name)
		snprintf(buf, len, "-%c, --%s%s", o->short_name, o->name, meta);
	else
		snprintf(buf, len, "    --%s%s", o->name, meta);
}

static void
print_usage_line(const struct ctr_cmd *cmd, const char *path, FILE *f)
{
	if (cmd->subs != NULL)
		fprintf(f, "Usage: %s [OPTIONS] COMMAND [ARGS...]\n", path);
	else
		fprintf(f, "Usage: %s [OPTIONS]%s%s\n", path,
		    cmd->args ? " " : "", cmd->args ? cmd->args : "");
}

static void
print_help(const struct ctr_cmd *cmd, const char *path, FILE *f)
{
	const struct ctr_opt *o;
	char left[96];
	size_t i, w = 10;

	print_usage_line(cmd, path, f);
	fprintf(f, "\n%s\n", cmd->summary);
	if (cmd->subs != NULL) {
		fprintf(f, "\nCommands:\n");
		for (i = 0; cmd->subs[i] != NULL; i++)
			w = strlen(cmd->subs[i]->name) > w ? strlen(cmd->subs[i]->name) : w;
		for (i = 0; cmd->subs[i] != NULL; i++)
			fprintf(f, "  %-*s  %s%s\n", (int)w, cmd->subs[i]->name,
			    cmd->subs[i]->summary,
			    i == 0 && cmd->run == NULL ? " (the default)" : "");
	}
	w = strlen("-h, --help");
	for (i = 0; (o = opt_at(cmd, i)) != NULL; i++) {
		opt_left(o, left, sizeof(left));
		w = strlen(left) > w ? strlen(left) : w;
	}
	fprintf(f, "\nOptions:\n");
	for (i = 0; (o = opt_at(cmd, i)) != NULL; i++) {
		opt_left(o, left, sizeof(left));
		fprintf(f, "  %-*s  %s", (int)w, left, o->help);
		if (o->kind == CTR_OPT_LIST)
			fprintf(f, " (repeatable)");
		if (o->def != NULL)
			fprintf(f, " (default: %s)", o->def);
		else if (o->kind == CTR_OPT_BOOL)
			fprintf(f, " (default: false)");
		fprintf(f, "\n");
	}
	fprintf(f, "  %-*s  %s\n", (int)w, "-h, --help", "show this help");
	if (cmd->epilog != NULL)
		fprintf(f, "\n%s", cmd->epilog);
	if (cmd->subs != NULL)
		fprintf(f, "\nRun '%s COMMAND --help' for a command's flags.\n", path);
}

int
ctr_usage_error(const struct ctr_args *a, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ctr: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	print_usage_line(a->cmd, a->path, stderr);
	fprintf(stderr, "Run '%s --help' for more.\n", a->path);
	return CTR_EXIT_USAGE;
}

/* ---- "did you mean" ---- */

/* Edit distance with adjacent transpositions (optimal string alignment),
 * capped: anything above 3 is 3. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[32][32];

	if (la >= 32 || lb >= 32)
		return 3;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], v = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb] > 3 ? 3 : d[la][lb];
}

/* How far a typo is from name: 0 for a prefix of at least two letters,
 * else the edit distance; SIZE_MAX when too far (more than one edit for
 * short words, two for longer ones). */
static size_t
closeness(const char *typed, const char *name)
{
	size_t len = strlen(typed), d;

	if (len >= 2 && strncmp(name, typed, len) == 0)
		return 0;
	d = distance(typed, name);
	return d <= (len <= 4 ? 1 : 2) ? d : SIZE_MAX;
}

int
ctr_suggest(const char *typed, const char *const *names, size_t n,
    const char *prefix, char *buf, size_t len)
{
	size_t i, used = 0, found = 0, best = SIZE_MAX;

	buf[0] = '\0';
	/* Only the closest: "strat" is "start", not also "stats". */
	for (i = 0; i < n; i++)
		if (closeness(typed, names[i]) < best)
			best = closeness(typed, names[i]);
	for (i = 0; best != SIZE_MAX && i < n; i++) {
		if (closeness(typed, names[i]) != best)
			continue;
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0,
		    "%s\"%s%s\"", found == 0 ? "did you mean " : " or ",
		    prefix, names[i]);
		found++;
		if (used >= len)
			break;
	}
	if (found > 0 && used < len)
		snprintf(buf + used, len - used, "?");
	return found > 0 ? 0 : -1;
}

/* The suggestion for a mistyped verb of group cmd, or "" when none is close. */
static void
suggest_verb(const struct ctr_cmd *cmd, const char *path, const char *typed,
    char *buf, size_t len)
{
	const char *names[32];
	char prefix[128];
	size_t n;

	for (n = 0; cmd->subs[n] != NULL && n < 32; n++)
		names[n] = cmd->subs[n]->name;
	snprintf(prefix, sizeof(prefix), "%s ", path);
	if (ctr_suggest(typed, names, n, prefix, buf, len) < 0)
		buf[0] = '\0';
}

static void
suggest_flag(const struct ctr_cmd *cmd, const char *typed, char *buf, size_t len)
{
	const char *names[CTR_MAX_OPTS + 1];
	const struct ctr_opt *o;
	size_t n;

	for (n = 0; (o = opt_at(cmd, n)) != NULL; n++)
		names[n] = o->name;
	names[n++] = "help";
	if (ctr_suggest(typed, names, n, "--", buf, len) < 0)
		buf[0] = '\0';
}

/* ---- parsing ---- */

static int
set_value(struct ctr_args *a, int i, const char *v)
{
	const struct ctr_opt *o = &a->cmd->opts[i];

	a->set[i] = true;
	if (o->kind == CTR_OPT_BOOL) {
		if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
			a->val[i] = "true";
		else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
			a->val[i] = "false";
		else
			return ctr_usage_error(a, "invalid value \"%s\" for "
			    "flag --%s: want true or false", v, o->name);
		return -1;
	}
	a->val[i] = v;
	if (o->kind == CTR_OPT_LIST) {
		const char **l = realloc(a->list[i], (a->nlist[i] + 1) * sizeof(*l));

		if (l == NULL)
			fatal("ctr: out of memory");
		l[a->nlist[i]++] = v;
		a->list[i] = l;
	}
	return -1;
}

/* --name[=V] or -name[=V]: returns -1 to go on, or an exit status. */
static int
parse_long(struct ctr_args *a, const char *s, int argc, char **argv, int *ip)
{
	const char *eq = strchr(s, '=');
	size_t len = eq ? (size_t)(eq - s) : strlen(s);
	int i;

	if (len == 4 && strncmp(s, "help", 4) == 0) {
		print_help(a->cmd, a->path, stdout);
		return 0;
	}
	if ((i = opt_long(a->cmd, s, len)) < 0) {
		char typed[64], hint[256];

		snprintf(typed, sizeof(typed), "%.*s", (int)len, s);
		suggest_flag(a->cmd, typed, hint, sizeof(hint));
		return ctr_usage_error(a, "unknown flag: --%s%s%s", typed,
		    hint[0] ? "; " : "", hint);
	}
	if (eq != NULL)
		return set_value(a, i, eq + 1);
	if (a->cmd->opts[i].kind == CTR_OPT_BOOL)
		return set_value(a, i, "true");
	if (*ip + 1 >= argc)
		return ctr_usage_error(a, "flag needs a value: --%s", a->cmd->opts[i].name);
	return set_value(a, i, argv[++*ip]);
}

/* -abc: booleans, the last one may take a value (-s9, -s 9). */
static int
parse_short(struct ctr_args *a, const char *s, int argc, char **argv, int *ip)
{
	size_t j;
	int i, rc;

	for (j = 0; s[j] != '\0'; j++) {
		if ((i = opt_short(a->cmd, s[j])) < 0) {
			if (s[j] == 'h') {
				print_help(a->cmd, a->path, stdout);
				return 0;
			}
			return ctr_usage_error(a, "unknown flag: -%c", s[j]);
		}
		if (a->cmd->opts[i].kind == CTR_OPT_BOOL) {
			if ((rc = set_value(a, i, "true")) >= 0)
				return rc;
			continue;
		}
		if (s[j + 1] != '\0')
			return set_value(a, i, s[j + 1] == '=' ? s + j + 2 : s + j + 1);
		if (*ip + 1 >= argc)
			return ctr_usage_error(a, "flag needs a value: -%c", s[j]);
		return set_value(a, i, argv[++*ip]);
	}
	return -1;
}

/* "containers start" for "ctr containers start": messages already start
 * with "ctr: ". */
static const char *
verb_name(const char *path)
{
	return strncmp(path, "ctr ", 4) == 0 ? path + 4 : path;
}

/* Whether the group's default verb is a verb (not a group) with flags. */
static bool
passes_flags(const struct ctr_cmd *cmd)
{
	return cmd->subs[0] != NULL && cmd->subs[0]->subs == NULL &&
	    cmd->subs[0]->opts != NULL;
}

/* Whether s (starting with '-') is one of the group's own flags or help. */
static bool
group_flag(const struct ctr_cmd *cmd, const char *s)
{
	const char *name = s + 1 + (s[1] == '-');
	size_t len = strcspn(name, "=");

	if ((len == 4 && strncmp(name, "help", 4) == 0) || strcmp(s, "-h") == 0)
		return true;
	if (opt_long(cmd, name, len) >= 0)
		return true;
	return s[1] != '-' && opt_short(cmd, s[1]) >= 0;
}

/* Returns -1 when a holds the parsed line, or the exit status. */
static int
parse(const struct ctr_cmd *cmd, const char *path, int argc, char **argv,
    struct ctr_args *a)
{
	bool stop = cmd->args_stop || cmd->subs != NULL;
	int i, rc;

	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	a->path = path;
	if ((a->argv = calloc((size_t)argc + 1, sizeof(char *))) == NULL)
		fatal("ctr: out of memory");
	for (i = 0; i < argc; i++) {
		const char *s = argv[i];

		if (strcmp(s, "--") == 0) {
			while (++i < argc)
				a->argv[a->argc++] = argv[i];
			break;
		}
		if (s[0] != '-' || s[1] == '\0') {
			a->argv[a->argc++] = argv[i];
			if (stop) {
				while (++i < argc)
					a->argv[a->argc++] = argv[i];
				break;
			}
			continue;
		}
		/* A group hands a flag it does not know to its default verb
		 * ("ctr containers -q" is "ctr containers list -q"). */
		if (cmd->subs != NULL && passes_flags(cmd) && !group_flag(cmd, s)) {
			while (i < argc)
				a->argv[a->argc++] = argv[i++];
			break;
		}
		if (s[1] == '-')
			rc = parse_long(a, s + 2, argc, argv, &i);
		else if (s[2] != '\0' && s[2] != '=' &&
		    opt_long(cmd, s + 1, strcspn(s + 1, "=")) >= 0)
			rc = parse_long(a, s + 1, argc, argv, &i);
		else
			rc = parse_short(a, s + 1, argc, argv, &i);
		if (rc >= 0)
			return rc;
	}
	if (cmd->subs != NULL)
		return -1;
	if (a->argc < cmd->min_args)
		return ctr_usage_error(a, "\"%s\" needs %s", verb_name(path),
		    cmd->args ? cmd->args : "more arguments");
	if (cmd->max_args >= 0 && a->argc > cmd->max_args)
		return ctr_usage_error(a, "unexpected argument \"%s\" (\"%s\" "
		    "takes %s)", a->argv[cmd->max_args], verb_name(path),
		    cmd->args ? cmd->args : "no arguments");
	return -1;
}

static void
args_free(struct ctr_args *a)
{
	size_t i;

	for (i = 0; i < CTR_MAX_OPTS; i++)
		free(a->list[i]);
	free(a->argv);
}

static const struct ctr_cmd *
find_sub(const struct ctr_cmd *cmd, const char *name)
{
	size_t i;

	for (i = 0; cmd->subs[i] != NULL; i++)
		if (strcmp(cmd->subs[i]->name, name) == 0)
			return cmd->subs[i];
	return NULL;
}

static int
exec_group(struct ctr *c, const struct ctr_args *a)
{
	const struct ctr_cmd *cmd = a->cmd, *sub;
	char **argv = a->argv, hint[256] = "";
	int argc = a->argc, rc;
	char *path;

	if (argc == 0) {
		sub = cmd->subs[0];
	} else if (strcmp(argv[0], "help") == 0) {
		if (argc > 1 && (sub = find_sub(cmd, argv[1])) != NULL) {
			if (asprintf(&path, "%s %s", a->path, sub->name) < 0)
				fatal("ctr: out of memory");
			print_help(sub, path, stdout);
			free(path);
		} else {
			print_help(cmd, a->path, stdout);
		}
		return 0;
	} else if ((sub = find_sub(cmd, argv[0])) != NULL) {
		argv++;
		argc--;
	} else if (cmd->subs[0]->subs == NULL && (argv[0][0] == '-' ||
	    cmd->subs[0]->max_args != 0)) {
		/* "checkpoints ID" is "checkpoints list ID", "containers -q"
		 * is "containers list -q". */
		sub = cmd->subs[0];
		if (argv[0][0] != '-')
			suggest_verb(cmd, a->path, argv[0], hint, sizeof(hint));
	} else {
		suggest_verb(cmd, a->path, argv[0], hint, sizeof(hint));
		return ctr_usage_error(a, "unknown command \"%s\" for \"%s\"%s%s",
		    argv[0], a->path, hint[0] ? "; " : "", hint);
	}
	if (asprintf(&path, "%s %s", a->path, sub->name) < 0)
		fatal("ctr: out of memory");
	rc = ctr_cmd_exec(c, sub, path, argc, argv);
	free(path);
	/* "containers stpo" ran as "containers list stpo" and failed: the
	 * word was more likely a mistyped verb. */
	if (rc != 0 && hint[0] != '\0')
		fprintf(stderr, "ctr: \"%s\" is not a command of \"%s\" either; "
		    "%s\n", argv[0], a->path, hint);
	return rc;
}

int
ctr_cmd_exec(struct ctr *c, const struct ctr_cmd *cmd, const char *path,
    int argc, char **argv)
{
	struct ctr_args a;
	int rc;

	if (cmd->opts != NULL) {
		size_t n = 0;

		while (cmd->opts[n].name != NULL)
			n++;
		if (n > CTR_MAX_OPTS)
			fatalx("ctr: %s has more than %d flags", path, CTR_MAX_OPTS);
	}
	if ((rc = parse(cmd, path, argc, argv, &a)) < 0) {
		if (cmd->subs == NULL)
			rc = cmd->run(c, &a);
		else if (cmd->run == NULL || (rc = cmd->run(c, &a)) < 0)
			rc = exec_group(c, &a);
	}
	args_free(&a);
	return rc;
}

/* ---- accessors ---- */

const char *
ctr_arg_str(const struct ctr_args *a, const char *name)
{
	int i = opt_index(a, name);

	return a->set[i] ? a->val[i] : a->cmd->opts[i].def;
}

bool
ctr_arg_bool(const struct ctr_args *a, const char *name)
{
	const char *v = ctr_arg_str(a, name);

	return v != NULL && strcmp(v, "true") == 0;
}

bool
ctr_arg_isset(const struct ctr_args *a, const char *name)
{
	return a->set[opt_index(a, name)];
}

const char **
ctr_arg_list(const struct ctr_args *a, const char *name, size_t *n)
{
	int i = opt_index(a, name);

	*n = a->nlist[i];
	return a->list[i];
}

int
ctr_arg_uint(const struct ctr_args *a, const char *name, uint64_t max,
    bool suffixes, uint64_t *out)
{
	const char *s = ctr_arg_str(a, name), *unit;
	unsigned long long v;
	char *end;
	int shift = 0;

	*out = 0;
	if (s == NULL)
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || *s == '-' || errno != 0)
		goto bad;
	unit = end;
	if (suffixes && *unit != '\0') {
		switch (*unit | 0x20) {
		case 'k': shift = 10; break;
		case 'm': shift = 20; break;
		case 'g': shift = 30; break;
		case 't': shift = 40; break;
		default: goto bad;
		}
		unit++;
		if ((*unit | 0x20) == 'b')
			unit++;
	}
	if (*unit != '\0' || (shift && v > (UINT64_MAX >> shift)))
		goto bad;
	v <<= shift;
	if (v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	ctr_usage_error(a, "invalid value \"%s\" for flag --%s: want a number%s"
	    " up to %llu", s, name, suffixes ? " (k, m, g, t suffixes allowed)" : "",
	    (unsigned long long)max);
	return -1;
}
