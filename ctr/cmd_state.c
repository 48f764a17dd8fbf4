/* ctr state [ID], ctr containers state [ID]: the daemon's State as JSON. */
#include "ctr.h"

#include "statejson.h"

static int
state_run(struct ctr *c, const struct ctr_args *a)
{
	Types__StateRequest req = TYPES__STATE_REQUEST__INIT;
	Types__StateResponse *r;
	struct err e;
	int rc;

	req.id = a->argc > 0 ? a->argv[0] : "";
	if (ctr_call(c, "State", &req.base, &types__state_response__descriptor,
	    (ProtobufCMessage **)&r, &e) < 0)
		return ctr_fail(&e);
	rc = ctr_print_json(statejson_state(r));
	types__state_response__free_unpacked(r, NULL);
	return rc;
}

const struct ctr_cmd cmd_state = {
	.name = "state",
	.args = "[ID]",
	.summary = "print the daemon's state (every container, or one) as JSON",
	.max_args = 1,
	.run = state_run,
};

const struct ctr_cmd cmd_containers_state = {
	.name = "state",
	.args = "[ID]",
	.summary = "print the state of every container, or of one, as JSON",
	.max_args = 1,
	.run = state_run,
};
