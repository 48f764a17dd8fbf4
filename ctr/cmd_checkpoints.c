/* ctr checkpoints [list] ID: the group of checkpoint verbs, and the listing. */
#include "ctr.h"

#include <stdlib.h>

static const struct ctr_cmd *const checkpoints_subs[] = {
	&cmd_checkpoints_list, &cmd_checkpoints_create, &cmd_checkpoints_delete,
	NULL,
};

const struct ctr_cmd cmd_checkpoints = {
	.name = "checkpoints",
	.summary = "create, list and delete checkpoints of containers",
	.subs = checkpoints_subs,
};

static const struct ctr_opt list_opts[] = {
	{ "checkpoint-dir", 0, CTR_OPT_STRING, NULL,
	    "the folder of checkpoints, each DIR/NAME with a config.json (default: BUNDLE/checkpoints)" },
	{ NULL, 0, 0, NULL, NULL },
};

static int
list_run(struct ctr *c, const struct ctr_args *a)
{
	Types__ListCheckpointRequest req = TYPES__LIST_CHECKPOINT_REQUEST__INIT;
	Types__ListCheckpointResponse *r;
	const char *dir = ctr_arg_str(a, "checkpoint-dir");
	struct ctr_table *t;
	char *absdir = NULL;
	struct err e;
	size_t i;
	int rc;

	req.id = a->argv[0];
	if (dir != NULL && *dir != '\0') {
		if ((absdir = ctr_abspath(dir, &e)) == NULL)
			return ctr_fail(&e);
		req.checkpointdir = absdir;
	}
	rc = ctr_call(c, "ListCheckpoint", &req.base,
	    &types__list_checkpoint_response__descriptor,
	    (ProtobufCMessage **)&r, &e);
	free(absdir);
	if (rc < 0)
		return ctr_fail(&e);
	t = ctr_table_new(20, 3);
	ctr_table_addf(t, "NAME\tTCP\tUNIX SOCKETS\tSHELL");
	for (i = 0; i < r->n_checkpoints; i++) {
		const Types__Checkpoint *cp = r->checkpoints[i];

		ctr_table_addf(t, "%s\t%s\t%s\t%s", cp->name,
		    cp->tcp ? "true" : "false", cp->unixsockets ? "true" : "false",
		    cp->shell ? "true" : "false");
	}
	ctr_table_flush(t, stdout);
	types__list_checkpoint_response__free_unpacked(r, NULL);
	return 0;
}

const struct ctr_cmd cmd_checkpoints_list = {
	.name = "list",
	.args = "ID",
	.summary = "list a container's checkpoints: NAME TCP UNIX SOCKETS SHELL",
	.opts = list_opts,
	.min_args = 1,
	.max_args = 1,
	.run = list_run,
};
