/* ctr checkpoints delete ID NAME: removes one checkpoint. */
#include "ctr.h"

#include <stdlib.h>

static const struct ctr_opt delete_opts[] = {
	{ "checkpoint-dir", 0, CTR_OPT_STRING, NULL,
	    "the folder of checkpoints: NAME is DIR/NAME (default: BUNDLE/checkpoints)" },
	{ NULL, 0, 0, NULL, NULL },
};

static int
delete_run(struct ctr *c, const struct ctr_args *a)
{
	Types__DeleteCheckpointRequest req = TYPES__DELETE_CHECKPOINT_REQUEST__INIT;
	const char *dir = ctr_arg_str(a, "checkpoint-dir");
	char *absdir = NULL;
	struct err e;
	int rc;

	req.id = a->argv[0];
	req.name = a->argv[1];
	if (dir != NULL && *dir != '\0') {
		if ((absdir = ctr_abspath(dir, &e)) == NULL)
			return ctr_fail(&e);
		req.checkpointdir = absdir;
	}
	rc = ctr_call_empty(c, "DeleteCheckpoint", &req.base,
	    &types__delete_checkpoint_response__descriptor, &e);
	free(absdir);
	return rc < 0 ? ctr_fail(&e) : 0;
}

const struct ctr_cmd cmd_checkpoints_delete = {
	.name = "delete",
	.args = "ID NAME",
	.summary = "delete a container's checkpoint",
	.opts = delete_opts,
	.min_args = 2,
	.max_args = 2,
	.run = delete_run,
};
