/*
 * ctr containers exec --id ID --pid NAME CMD [ARGS...]: runs another
 * process in a running container; with --attach, relays its stdio and
 * exits with its status.
 */
#include "ctr.h"

#include <stdint.h>

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const struct ctr_opt exec_opts[] = {
	{ "id", 0, CTR_OPT_STRING, NULL, "the container (required)" },
	{ "pid", 0, CTR_OPT_STRING, NULL, "a name for the new process (required)" },
	{ "attach", 'a', CTR_OPT_BOOL, NULL,
	    "relay the process's stdio and exit with its status" },
	{ "cwd", 0, CTR_OPT_STRING, "/", "working directory in the container" },
	{ "tty", 't', CTR_OPT_BOOL, NULL, "give the process a terminal" },
	{ "env", 'e', CTR_OPT_LIST, NULL,
	    "an environment variable K=V (default: a standard PATH)" },
	{ "uid", 'u', CTR_OPT_STRING, "0", "user id of the process" },
	{ "gid", 'g', CTR_OPT_STRING, "0", "group id of the process" },
	{ NULL, 0, 0, NULL, NULL },
};

static int
exec_run(struct ctr *c, const struct ctr_args *a)
{
	Types__AddProcessRequest req = TYPES__ADD_PROCESS_REQUEST__INIT;
	Types__User user = TYPES__USER__INIT;
	static char *default_env[] = { DEFAULT_PATH };
	ProtobufCMessage *resp;
	struct ctr_attach *at = NULL;
	uint64_t uid, gid;
	size_t n;
	struct err e;
	int status = 0;

	if (ctr_arg_str(a, "id") == NULL || *ctr_arg_str(a, "id") == '\0')
		return ctr_usage_error(a, "--id is required");
	if (ctr_arg_str(a, "pid") == NULL || *ctr_arg_str(a, "pid") == '\0')
		return ctr_usage_error(a, "--pid is required");
	if (ctr_arg_uint(a, "uid", UINT32_MAX, false, &uid) < 0 ||
	    ctr_arg_uint(a, "gid", UINT32_MAX, false, &gid) < 0)
		return CTR_EXIT_USAGE;
	user.uid = (uint32_t)uid;
	user.gid = (uint32_t)gid;
	req.id = (char *)ctr_arg_str(a, "id");
	req.pid = (char *)ctr_arg_str(a, "pid");
	req.user = &user;
	req.args = a->argv;
	req.n_args = (size_t)a->argc;
	req.cwd = (char *)ctr_arg_str(a, "cwd");
	req.terminal = ctr_arg_bool(a, "tty");
	req.env = (char **)ctr_arg_list(a, "env", &n);
	req.n_env = n;
	if (n == 0) {
		req.env = default_env;
		req.n_env = 1;
	}
	if (ctr_arg_bool(a, "attach")) {
		if ((at = ctr_attach_new(c, req.id, req.pid, req.terminal, &e)) == NULL)
			return ctr_fail(&e);
		req.stdin = (char *)ctr_attach_stdin(at);
		req.stdout = (char *)ctr_attach_stdout(at);
		req.stderr = (char *)ctr_attach_stderr(at);
	}
	if (ctr_call(c, "AddProcess", &req.base,
	    &types__add_process_response__descriptor, &resp, &e) < 0) {
		ctr_attach_free(at);
		return ctr_fail(&e);
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	if (at == NULL)
		fprintf(stderr, "%s %s: started; its output is logged: ctr containers logs --pid %s %s\n",
		    req.id, req.pid, req.pid, req.id);
	if (at != NULL && ctr_attach_run(at, &status, &e) < 0) {
		ctr_attach_free(at);
		return ctr_fail(&e);
	}
	ctr_attach_free(at);
	return status;
}

const struct ctr_cmd cmd_containers_exec = {
	.name = "exec",
	.args = "CMD [ARGS...]",
	.summary = "run another process in a running container",
	.opts = exec_opts,
	.min_args = 1,
	.max_args = -1,
	.args_stop = true,
	.run = exec_run,
};
