/* ctr containers kill: sends a signal to a container's process. */
#include "ctr.h"

static const struct ctr_opt kill_opts[] = {
	{ "pid", 'p', CTR_OPT_STRING, "init", "the process: init or an exec's pid name" },
	{ "signal", 's', CTR_OPT_STRING, "15", "signal number or name (KILL, SIGKILL, ...)" },
	{ NULL, 0, 0, NULL, NULL },
};

static int
kill_run(struct ctr *c, const struct ctr_args *a)
{
	Types__SignalRequest req = TYPES__SIGNAL_REQUEST__INIT;
	const char *s = ctr_arg_str(a, "signal");
	struct err e;
	int sig;

	if (ctr_signal_parse(s, &sig) < 0)
		return ctr_usage_error(a, "invalid signal \"%s\": want a number "
		    "or a name like KILL or SIGTERM", s);
	req.id = a->argv[0];
	req.pid = (char *)ctr_arg_str(a, "pid");
	req.signal = (uint32_t)sig;
	if (ctr_call_empty(c, "Signal", &req.base,
	    &types__signal_response__descriptor, &e) < 0)
		return ctr_fail(&e);
	return 0;
}

const struct ctr_cmd cmd_containers_kill = {
	.name = "kill",
	.args = "ID",
	.summary = "send a signal to a container's process",
	.opts = kill_opts,
	.min_args = 1,
	.max_args = 1,
	.run = kill_run,
};
