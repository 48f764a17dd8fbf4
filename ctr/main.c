/* ctr: parses the global flags and dispatches to the verbs. */
#include "ctr.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"
#include "version.h"

static const struct ctr_opt root_opts[] = {
	{ "address", 'a', CTR_OPT_STRING, CTR_DEFAULT_ADDRESS,
	    "address of the daemon's socket: a path or unix:///path; "
	    "$" CTR_ADDRESS_ENV ", when set, replaces the default" },
	{ "conn-timeout", 0, CTR_OPT_STRING, "1s",
	    "how long to wait for the daemon to answer when connecting (0: forever)" },
	{ "debug", 0, CTR_OPT_BOOL, NULL,
	    "print each connection and call, with its time and result, on stderr" },
	{ "version", 'v', CTR_OPT_BOOL, NULL,
	    "print ctr's own version and exit (\"ctr version\" asks the daemon)" },
	{ NULL, 0, 0, NULL, NULL },
};

static const char root_epilog[] =
    "Environment:\n"
    "  " CTR_ADDRESS_ENV "  the daemon's address when --address is not given\n"
    "\n"
    "Exit status:\n"
    "  0    success\n"
    "  1    an error, explained on stderr after \"ctr: \" (the daemon refused the\n"
    "       request, could not be reached, or the container is gone)\n"
    "  2    a usage error: an unknown command or flag, a missing or extra argument\n"
    "  N    containers start --attach, containers exec --attach, containers wait:\n"
    "       the process's own exit status (128+S when signal S ended it)\n"
    "  141  stdout was closed before everything was printed (as for SIGPIPE)\n";

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

	const char *env = getenv(CTR_ADDRESS_ENV);

	if (ctr_arg_bool(a, "version")) {
		printf("ctr version %d.%d.%d commit: %s\n", CONTAINERD_VERSION_MAJOR,
		    CONTAINERD_VERSION_MINOR, CONTAINERD_VERSION_PATCH,
		    CONTAINERD_REVISION);
		return fflush(stdout) == 0 ? 0 : ctr_stdout_failed();
	}
	c->debug = ctr_arg_bool(a, "debug");
	c->address = ctr_arg_str(a, "address");
	if (!ctr_arg_isset(a, "address") && env != NULL && *env != '\0')
		c->address = env;
	if (c->address[0] == '\0')
		return ctr_usage_error(a, "--address is empty");
	if (duration_parse(t, &ns) < 0 || ns < 0 || ns / 1000000 > INT32_MAX)
		return ctr_usage_error(a, "invalid duration \"%s\" for "
		    "--conn-timeout: want e.g. 1s, 500ms, 1m0s", t);
	/* Rounded up: a timeout of 1ns still waits a little. */
	c->conn_timeout_ms = (int)((ns + 999999) / 1000000);
	if (c->debug)
		fprintf(stderr, "ctr: debug: address %s (%s)\n", c->address,
		    ctr_arg_isset(a, "address") ? "--address" :
		    env != NULL && *env != '\0' ? "$" CTR_ADDRESS_ENV : "the default");
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
	.epilog = root_epilog,
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
