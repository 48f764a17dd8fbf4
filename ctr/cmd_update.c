/* ctr containers update: changes a running container's resource limits. */
#include "ctr.h"

#include <stdint.h>

static const struct ctr_opt update_opts[] = {
	{ "memory-limit", 0, CTR_OPT_STRING, NULL, "memory limit in bytes (k, m, g suffixes)" },
	{ "memory-reservation", 0, CTR_OPT_STRING, NULL, "memory soft limit in bytes" },
	{ "memory-swap", 0, CTR_OPT_STRING, NULL, "memory plus swap limit in bytes" },
	{ "cpu-shares", 0, CTR_OPT_STRING, NULL, "relative CPU weight" },
	{ "cpu-quota", 0, CTR_OPT_STRING, NULL, "CPU time in microseconds per period" },
	{ "cpu-period", 0, CTR_OPT_STRING, NULL, "CFS period in microseconds" },
	{ "cpuset-cpus", 0, CTR_OPT_STRING, NULL, "CPUs the container may use (0-3,5)" },
	{ "cpuset-mems", 0, CTR_OPT_STRING, NULL, "memory nodes the container may use" },
	{ "kernel-limit", 0, CTR_OPT_STRING, NULL, "kernel memory limit in bytes" },
	{ "kernel-tcp-limit", 0, CTR_OPT_STRING, NULL, "kernel TCP buffer memory limit in bytes" },
	{ "blkio-weight", 0, CTR_OPT_STRING, NULL, "block IO weight (10-1000)" },
	{ "pids-limit", 0, CTR_OPT_STRING, NULL, "maximum number of processes" },
	{ NULL, 0, 0, NULL, NULL },
};

static int
update_run(struct ctr *c, const struct ctr_args *a)
{
	Types__UpdateContainerRequest req = TYPES__UPDATE_CONTAINER_REQUEST__INIT;
	Types__UpdateResource res = TYPES__UPDATE_RESOURCE__INIT;
	const struct {
		const char *flag;
		uint64_t *field;
		bool bytes;
	} nums[] = {
		{ "memory-limit", &res.memorylimit, true },
		{ "memory-reservation", &res.memoryreservation, true },
		{ "memory-swap", &res.memoryswap, true },
		{ "cpu-shares", &res.cpushares, false },
		{ "cpu-quota", &res.cpuquota, false },
		{ "cpu-period", &res.cpuperiod, false },
		{ "kernel-limit", &res.kernelmemorylimit, true },
		{ "kernel-tcp-limit", &res.kerneltcpmemorylimit, true },
		{ "blkio-weight", &res.blkioweight, false },
		{ "pids-limit", &res.pidslimit, false },
	};
	struct err e;
	size_t i, given = 0;

	/* The daemon takes an empty update as a no-op (dockerd sends them);
	 * from the command line it is a mistake worth saying. */
	for (i = 0; i < sizeof(update_opts) / sizeof(update_opts[0]); i++)
		if (update_opts[i].name != NULL && ctr_arg_isset(a, update_opts[i].name))
			given++;
	if (given == 0) {
		fprintf(stderr, "ctr: containers update: nothing to update: give at least one"
		    " resource flag\n");
		return CTR_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (ctr_arg_uint(a, nums[i].flag, UINT64_MAX, nums[i].bytes,
		    nums[i].field) < 0)
			return CTR_EXIT_USAGE;
	if (ctr_arg_isset(a, "cpuset-cpus"))
		res.cpusetcpus = (char *)ctr_arg_str(a, "cpuset-cpus");
	if (ctr_arg_isset(a, "cpuset-mems"))
		res.cpusetmems = (char *)ctr_arg_str(a, "cpuset-mems");
	req.id = a->argv[0];
	req.pid = "init";
	req.resources = &res;
	if (ctr_call_empty(c, "UpdateContainer", &req.base,
	    &types__update_container_response__descriptor, &e) < 0)
		return ctr_fail(&e);
	return 0;
}

const struct ctr_cmd cmd_containers_update = {
	.name = "update",
	.args = "ID",
	.summary = "update a container's resource limits",
	.opts = update_opts,
	.min_args = 1,
	.max_args = 1,
	.run = update_run,
};
