/* ctr checkpoints create ID NAME: checkpoints a running container. */
#include "ctr.h"

#include <stdlib.h>
#include <string.h>

static const struct ctr_opt create_opts[] = {
	{ "tcp", 0, CTR_OPT_BOOL, NULL, "checkpoint established TCP connections" },
	{ "unix-sockets", 0, CTR_OPT_BOOL, NULL, "checkpoint external unix sockets" },
	{ "exit", 0, CTR_OPT_BOOL, NULL, "stop the container after the checkpoint" },
	{ "shell", 0, CTR_OPT_BOOL, NULL, "checkpoint shell jobs" },
	{ "empty-ns", 0, CTR_OPT_LIST, NULL,
	    "namespace to leave out and recreate empty on restore (network, ...)" },
	{ "checkpoint-dir", 0, CTR_OPT_STRING, NULL,
	    "write it to DIR/NAME (default: BUNDLE/checkpoints/NAME)" },
	{ NULL, 0, 0, NULL, NULL },
};

static int
create_run(struct ctr *c, const struct ctr_args *a)
{
	Types__CreateCheckpointRequest req = TYPES__CREATE_CHECKPOINT_REQUEST__INIT;
	Types__Checkpoint cp = TYPES__CHECKPOINT__INIT;
	const char *dir = ctr_arg_str(a, "checkpoint-dir"), **ns;
	char *absdir = NULL, **names = NULL, *copy = NULL, *tok, *save;
	size_t n, i, nnames = 0;
	struct err e;
	int rc;

	/* --empty-ns network --empty-ns ipc, or --empty-ns network,ipc */
	ns = ctr_arg_list(a, "empty-ns", &n);
	for (i = 0; i < n; i++) {
		if ((copy = strdup(ns[i])) == NULL)
			return ctr_fail(&(struct err){ GRPC_INTERNAL, "out of memory" });
		for (tok = strtok_r(copy, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			char **nn = realloc(names, (nnames + 1) * sizeof(*nn));

			if (nn == NULL || (nn[nnames] = strdup(tok)) == NULL) {
				free(nn);
				return ctr_fail(&(struct err){ GRPC_INTERNAL,
				    "out of memory" });
			}
			names = nn;
			nnames++;
		}
		free(copy);
	}
	cp.name = a->argv[1];
	cp.tcp = ctr_arg_bool(a, "tcp");
	cp.unixsockets = ctr_arg_bool(a, "unix-sockets");
	cp.exit = ctr_arg_bool(a, "exit");
	cp.shell = ctr_arg_bool(a, "shell");
	cp.n_emptyns = nnames;
	cp.emptyns = names;
	req.id = a->argv[0];
	req.checkpoint = &cp;
	rc = 0;
	if (dir != NULL && *dir != '\0') {
		if ((absdir = ctr_abspath(dir, &e)) == NULL)
			rc = -1;
		req.checkpointdir = absdir;
	}
	if (rc == 0)
		rc = ctr_call_empty(c, "CreateCheckpoint", &req.base,
		    &types__create_checkpoint_response__descriptor, &e);
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	free(absdir);
	return rc < 0 ? ctr_fail(&e) : 0;
}

const struct ctr_cmd cmd_checkpoints_create = {
	.name = "create",
	.args = "ID NAME",
	.summary = "checkpoint a running container",
	.opts = create_opts,
	.min_args = 2,
	.max_args = 2,
	.run = create_run,
};
