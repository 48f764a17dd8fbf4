/*
 * ctr containers wait ID: waits for the container's init to exit, prints
 * its status and exits with it. A container already gone is looked up in
 * the daemon's stored events (its last init exit), as long as the history
 * keeps it.
 */
#include "ctr.h"

static int
exit_with(uint32_t status)
{
	printf("%u\n", status);
	if (fflush(stdout) != 0 || ferror(stdout))
		return ctr_stdout_failed();
	/* A process's status is 0-255; anything above says "failed". */
	return status > 255 ? 255 : (int)status;
}

static int
wait_run(struct ctr *c, const struct ctr_args *a)
{
	const char *id = a->argv[0];
	struct ctr_exit_watch *w;
	struct ctr_history h;
	uint32_t status;
	struct err e;
	bool gone;
	int rc;

	if ((w = ctr_exit_watch_new(c, id, &gone, &e)) != NULL) {
		rc = ctr_exit_watch_wait(w, -1, &status, &e);
		ctr_exit_watch_free(w);
		return rc < 0 ? ctr_fail(&e) : exit_with(status);
	}
	if (!gone)
		return ctr_fail(&e);
	/* Gone from State: its exit was recorded before it left. */
	if (ctr_history_lookup(c, id, 0, &h, &e) < 0)
		return ctr_fail(&e);
	if (!h.exited) {
		err_set(&e, GRPC_NOT_FOUND, "no such container: %s (not running, "
		    "and no exit of it in the daemon's history)", id);
		return ctr_fail(&e);
	}
	return exit_with(h.exit_status);
}

const struct ctr_cmd cmd_containers_wait = {
	.name = "wait",
	.args = "ID",
	.summary = "wait until a container exits; print its exit status and "
	    "exit with it (also for one already gone, from the history)",
	.min_args = 1,
	.max_args = 1,
	.run = wait_run,
	.epilog = "Exit status:\n"
	    "  the container's: 0-255 (128+S when signal S ended it); 1 when ctr\n"
	    "  failed (the message follows \"ctr: \"), 2 for a usage error.\n",
};
