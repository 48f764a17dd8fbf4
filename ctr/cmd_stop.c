/*
 * ctr containers stop [-t SECONDS] ID: asks the init to stop with SIGTERM
 * (or --signal), and if it is still there after the timeout, kills it with
 * SIGKILL, as docker stop does. Returns once the init's exit is recorded.
 */
#include "ctr.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

static const struct ctr_opt stop_opts[] = {
	{ "time", 't', CTR_OPT_STRING, "10",
	    "seconds to wait for the container to exit before SIGKILL" },
	{ "signal", 's', CTR_OPT_STRING, "TERM",
	    "the first signal, a number or a name (TERM, SIGINT, ...)" },
	{ NULL, 0, 0, NULL, NULL },
};

static int
send_signal(struct ctr *c, const char *id, int sig, struct err *e)
{
	Types__SignalRequest req = TYPES__SIGNAL_REQUEST__INIT;

	req.id = (char *)id;
	req.pid = "init";
	req.signal = (uint32_t)sig;
	return ctr_call_empty(c, "Signal", &req.base,
	    &types__signal_response__descriptor, e);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
stop_run(struct ctr *c, const struct ctr_args *a)
{
	const char *id = a->argv[0], *s = ctr_arg_str(a, "signal");
	struct ctr_exit_watch *w;
	uint64_t secs;
	uint32_t status = 0;
	int64_t t0;
	bool gone, killed = false;
	struct err e;
	int sig, rc;

	if (ctr_arg_uint(a, "time", INT32_MAX / 1000, false, &secs) < 0)
		return CTR_EXIT_USAGE;
	if (ctr_signal_parse(s, &sig) < 0)
		return ctr_usage_error(a, "invalid signal \"%s\": want a number "
		    "or a name like TERM or SIGINT", s);
	/* Subscribed before signalling: the exit cannot be missed. */
	if ((w = ctr_exit_watch_new(c, id, &gone, &e)) == NULL)
		return ctr_fail(&e);
	t0 = mono_ms();
	/* NOT_FOUND: the init exited between State and now; its exit is
	 * on the stream. */
	if (send_signal(c, id, sig, &e) < 0 && e.code != GRPC_NOT_FOUND)
		goto fail;
	if ((rc = ctr_exit_watch_wait(w, (int)secs * 1000, &status, &e)) < 0)
		goto fail;
	if (rc == 0) {
		killed = true;
		if (send_signal(c, id, SIGKILL, &e) < 0 && e.code != GRPC_NOT_FOUND)
			goto fail;
		if (ctr_exit_watch_wait(w, -1, &status, &e) < 0)
			goto fail;
	}
	ctr_exit_watch_free(w);
	printf("%s: exit status %u after %.1f s%s\n", id, status,
	    (double)(mono_ms() - t0) / 1000.0,
	    killed ? " (SIGKILL: still running at the timeout)" : "");
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : ctr_stdout_failed();
fail:
	ctr_exit_watch_free(w);
	return ctr_fail(&e);
}

const struct ctr_cmd cmd_containers_stop = {
	.name = "stop",
	.args = "ID",
	.summary = "stop a container: SIGTERM, then SIGKILL after the timeout; "
	    "returns once it exited",
	.opts = stop_opts,
	.min_args = 1,
	.max_args = 1,
	.run = stop_run,
};
