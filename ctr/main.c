/* ctr: parses the global flags and dispatches to the verbs. */
#include "ctr.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

static const struct ctr_opt root_opts[] = {
	{ "address", 'a', CTR_OPT_STRING, CTR_DEFAULT_ADDRESS,
	    "address of the daemon's socket: a path or unix:///path" },
	{ "conn-timeout", 0, CTR_OPT_STRING, "1s",
	    "how long to wait for the daemon to answer when connecting (0: forever)" },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct ctr_cmd *const root_subs[] = {
	&cmd_containers, &cmd_checkpoints, &cmd_events, &cmd_state, &cmd_version,
	NULL,
};

/* The global flags go into the context before any verb runs. */
static int
root_run(struct ctr *c, const struct ctr_args *a)
{
	const char *t = ctr_arg_str(a, "conn-timeout");
	int64_t ns;

	c->address = ctr_arg_str(a, "address");
	if (c->address[0] == '\0')
		return ctr_usage_error(a, "--address is empty");
	if (duration_parse(t, &ns) < 0 || ns < 0 || ns / 1000000 > INT32_MAX)
		return ctr_usage_error(a, "invalid duration \"%s\" for "
		    "--conn-timeout: want e.g. 1s, 500ms, 1m0s", t);
	/* Rounded up: a timeout of 1ns still waits a little. */
	c->conn_timeout_ms = (int)((ns + 999999) / 1000000);
	if (a->argc == 0)
		return ctr_usage_error(a, "no command given");
	return -1;
}

const struct ctr_cmd cmd_root = {
	.name = "ctr",
	.summary = "The command-line client of containerd: start, watch and "
	    "checkpoint containers through the daemon.",
	.opts = root_opts,
	.subs = root_subs,
	.run = root_run,
};

int
main(int argc, char **argv)
{
	struct ctr c = { 0 };
	int rc;

	/* A closed stdout or daemon socket is an error to report, not a
	 * reason to die silently. */
	signal(SIGPIPE, SIG_IGN);
	/* Hidden: what `make` writes into ctr.1 and the bash completion. */
	if (argc == 2 && strcmp(argv[1], "--man") == 0)
		return ctr_man(stdout);
	if (argc == 2 && strcmp(argv[1], "--bash-completion") == 0)
		return ctr_bash_completion(stdout);
	rc = ctr_cmd_exec(&c, &cmd_root, "ctr", argc - 1, argv + 1);
	ctr_close(&c);
	return rc;
}
