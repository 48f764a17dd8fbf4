/*
 * ctr containers start ID BUNDLE: creates and starts a container; with
 * --attach, relays its stdio and exits with its status.
 */
#include "ctr.h"
#include "jsonlax.h"

#include <stdlib.h>

static const struct ctr_opt start_opts[] = {
	{ "attach", 'a', CTR_OPT_BOOL, NULL,
	    "relay the container's stdio and exit with its status" },
	{ "label", 'l', CTR_OPT_LIST, NULL, "a label for the container, k=v" },
	{ "checkpoint", 'c', CTR_OPT_STRING, NULL, "restore from this checkpoint" },
	{ "checkpoint-dir", 0, CTR_OPT_STRING, NULL,
	    "the folder of checkpoints: NAME is DIR/NAME (default: BUNDLE/checkpoints)" },
	{ "no-pivot", 0, CTR_OPT_BOOL, NULL,
	    "do not use pivot_root (for a rootfs on a ramdisk)" },
	{ "runtime", 'r', CTR_OPT_STRING, NULL,
	    "OCI runtime to use (default: the daemon's, normally runc)" },
	{ "runtime-args", 0, CTR_OPT_LIST, NULL,
	    "argument for the runtime, before its verb" },
	{ NULL, 0, 0, NULL, NULL },
};

/* Whether the bundle asks for a terminal: then an attached ctr puts the
 * local terminal in raw mode and forwards its size. */
static bool
bundle_terminal(const char *bundle)
{
	char *path;
	json_t *j;
	bool tty;

	if (asprintf(&path, "%s/config.json", bundle) < 0)
		return false;
	j = jsonlax_load_file(path, NULL); /* as the runtime reads it */
	free(path);
	tty = json_is_true(json_object_get(json_object_get(j, "process"), "terminal"));
	json_decref(j);
	return tty;
}

static int
start_run(struct ctr *c, const struct ctr_args *a)
{
	Types__CreateContainerRequest req = TYPES__CREATE_CONTAINER_REQUEST__INIT;
	ProtobufCMessage *resp;
	struct ctr_attach *at = NULL;
	const char *s;
	char *bundle, *cpdir = NULL;
	size_t n;
	struct err e;
	int status = 0, rc = -1;

	req.id = a->argv[0];
	if ((bundle = ctr_abspath(a->argv[1], &e)) == NULL)
		return ctr_fail(&e);
	req.bundlepath = bundle;
	req.labels = (char **)ctr_arg_list(a, "label", &n);
	req.n_labels = n;
	req.runtimeargs = (char **)ctr_arg_list(a, "runtime-args", &n);
	req.n_runtimeargs = n;
	req.nopivotroot = ctr_arg_bool(a, "no-pivot");
	if ((s = ctr_arg_str(a, "runtime")) != NULL)
		req.runtime = (char *)s;
	if ((s = ctr_arg_str(a, "checkpoint")) != NULL)
		req.checkpoint = (char *)s;
	if ((s = ctr_arg_str(a, "checkpoint-dir")) != NULL && *s != '\0') {
		if ((cpdir = ctr_abspath(s, &e)) == NULL)
			goto out;
		req.checkpointdir = cpdir;
	}
	if (ctr_arg_bool(a, "attach")) {
		if ((at = ctr_attach_new(c, req.id, "init", bundle_terminal(bundle),
		    &e)) == NULL)
			goto out;
		req.stdin = (char *)ctr_attach_stdin(at);
		req.stdout = (char *)ctr_attach_stdout(at);
		req.stderr = (char *)ctr_attach_stderr(at);
	}
	if (ctr_call(c, "CreateContainer", &req.base,
	    &types__create_container_response__descriptor, &resp, &e) < 0)
		goto out;
	protobuf_c_message_free_unpacked(resp, NULL);
	if (at == NULL)
		fprintf(stderr, "%s: started; its output is logged: ctr containers logs %s\n", req.id,
		    req.id);
	if (at != NULL && ctr_attach_run(at, &status, &e) < 0)
		goto out;
	rc = 0;
out:
	ctr_attach_free(at);
	free(bundle);
	free(cpdir);
	return rc < 0 ? ctr_fail(&e) : status;
}

const struct ctr_cmd cmd_containers_start = {
	.name = "start",
	.args = "ID BUNDLE",
	.summary = "create and start a container from an OCI bundle",
	.opts = start_opts,
	.min_args = 2,
	.max_args = 2,
	.run = start_run,
};
