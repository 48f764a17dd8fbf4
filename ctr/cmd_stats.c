/* ctr containers stats: one sample of a container's cgroup stats, as JSON. */
#include "ctr.h"

#include "statejson.h"

static int
stats_run(struct ctr *c, const struct ctr_args *a)
{
	Types__StatsRequest req = TYPES__STATS_REQUEST__INIT;
	Types__StatsResponse *r;
	struct err e;
	int rc;

	req.id = a->argv[0];
	if (ctr_call(c, "Stats", &req.base, &types__stats_response__descriptor,
	    (ProtobufCMessage **)&r, &e) < 0)
		return ctr_fail(&e);
	rc = ctr_print_json(statejson_message(&r->base));
	types__stats_response__free_unpacked(r, NULL);
	return rc;
}

const struct ctr_cmd cmd_containers_stats = {
	.name = "stats",
	.args = "ID",
	.summary = "print a container's resource usage as JSON",
	.min_args = 1,
	.max_args = 1,
	.run = stats_run,
};
