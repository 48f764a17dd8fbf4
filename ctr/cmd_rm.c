/* ctr containers rm: forgets stopped containers' records (the Records
 * service's RemoveContainer): their rows, event history and logs. */
#include "ctr.h"

#include "records.pb-c.h"

static int
rm_run(struct ctr *c, const struct ctr_args *a)
{
	int rc = 0;

	/* Each id on its own: one that fails is said, the others still go. */
	for (int i = 0; i < a->argc; i++) {
		Containerd__Records__V1__RemoveContainerRequest req =
		    CONTAINERD__RECORDS__V1__REMOVE_CONTAINER_REQUEST__INIT;
		struct err e;

		req.id = a->argv[i];
		if (ctr_call_empty(c, RECORDS_PREFIX "RemoveContainer", &req.base,
		    &containerd__records__v1__remove_container_response__descriptor, &e) < 0) {
			fprintf(stderr, "ctr: %s: %s\n", a->argv[i],
			    e.msg[0] ? e.msg : grpc_code_name(e.code));
			rc = CTR_EXIT_ERROR;
			/* No daemon: the rest would fail the same way. */
			if (e.code == GRPC_UNAVAILABLE)
				break;
			continue;
		}
		printf("%s\n", a->argv[i]);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		return ctr_stdout_failed();
	return rc;
}

const struct ctr_cmd cmd_containers_rm = {
	.name = "rm",
	.args = "ID...",
	.summary = "forget stopped containers: their records, event history and logs",
	.min_args = 1,
	.max_args = -1,
	.run = rm_run,
	.epilog = "Prints each id removed. A live container (creating, running, paused or\n"
	    "still stopping) is refused, as is an id the daemon has no record of;\n"
	    "the error is printed for that id, the others are still removed, and\n"
	    "the exit status is 1. A container's checkpoints stay (their files and\n"
	    "the daemon's record of them): a restore under the same id reads them.\n",
};
