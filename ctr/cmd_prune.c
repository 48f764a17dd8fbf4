/* ctr containers prune: forgets every stopped container's records (the
 * Records service's Prune), or those that exited before a time. */
#include "ctr.h"

#include "google/protobuf/timestamp.pb-c.h"
#include "records.pb-c.h"
#include "timefmt.h"

static const struct ctr_opt prune_opts[] = {
	{ "before", 0, CTR_OPT_STRING, NULL,
	    "only those that exited before T: RFC 3339, or a duration ago (1h, 30m)" },
	{ NULL, 0, 0, NULL, NULL },
};

static int
prune_run(struct ctr *c, const struct ctr_args *a)
{
	Containerd__Records__V1__PruneRequest req = CONTAINERD__RECORDS__V1__PRUNE_REQUEST__INIT;
	Containerd__Records__V1__PruneResponse *r;
	Google__Protobuf__Timestamp before = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	const char *t = ctr_arg_str(a, "before");
	struct err e;
	int64_t ns;

	if (t != NULL) {
		if (time_parse(t, time_now_ns(), &ns) < 0 || ns <= 0)
			return ctr_usage_error(a, "invalid --before \"%s\": want RFC 3339 "
			    "(2024-05-01T10:00:00Z) or a duration ago (1h, 30m)", t);
		ctr_timestamp_set(&before, ns);
		req.before = &before;
	}
	if (ctr_call(c, RECORDS_PREFIX "Prune", &req.base,
	    &containerd__records__v1__prune_response__descriptor, (ProtobufCMessage **)&r,
	    &e) < 0)
		return ctr_fail(&e);
	for (size_t i = 0; i < r->n_removed; i++)
		printf("%s\n", r->removed[i]);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return fflush(stdout) != 0 || ferror(stdout) ? ctr_stdout_failed() : 0;
}

const struct ctr_cmd cmd_containers_prune = {
	.name = "prune",
	.summary = "forget every stopped container (that exited before --before)",
	.opts = prune_opts,
	.max_args = 0,
	.run = prune_run,
	.epilog = "Prints the ids removed, sorted; as `ctr containers rm` for each stopped\n"
	    "container: its records, event history and logs go, its checkpoints stay.\n",
};
