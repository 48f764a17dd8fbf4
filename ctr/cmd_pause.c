/* ctr containers pause|resume: freezes or thaws every process of a container. */
#include "ctr.h"

static int
set_status(struct ctr *c, const char *id, const char *status)
{
	Types__UpdateContainerRequest req = TYPES__UPDATE_CONTAINER_REQUEST__INIT;
	struct err e;

	req.id = (char *)id;
	req.pid = "init";
	req.status = (char *)status;
	if (ctr_call_empty(c, "UpdateContainer", &req.base,
	    &types__update_container_response__descriptor, &e) < 0)
		return ctr_fail(&e);
	return 0;
}

static int
pause_run(struct ctr *c, const struct ctr_args *a)
{
	return set_status(c, a->argv[0], "paused");
}

static int
resume_run(struct ctr *c, const struct ctr_args *a)
{
	return set_status(c, a->argv[0], "running");
}

const struct ctr_cmd cmd_containers_pause = {
	.name = "pause",
	.args = "ID",
	.summary = "pause a container",
	.min_args = 1,
	.max_args = 1,
	.run = pause_run,
};

const struct ctr_cmd cmd_containers_resume = {
	.name = "resume",
	.args = "ID",
	.summary = "resume a paused container",
	.min_args = 1,
	.max_args = 1,
	.run = resume_run,
};
