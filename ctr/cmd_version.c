/* ctr version: the daemon's version. */
#include "ctr.h"

static int
version_run(struct ctr *c, const struct ctr_args *a)
{
	Types__GetServerVersionRequest req = TYPES__GET_SERVER_VERSION_REQUEST__INIT;
	Types__GetServerVersionResponse *r;
	struct err e;

	(void)a;
	if (ctr_call(c, "GetServerVersion", &req.base,
	    &types__get_server_version_response__descriptor,
	    (ProtobufCMessage **)&r, &e) < 0)
		return ctr_fail(&e);
	printf("daemon version %u.%u.%u commit: %s\n", r->major, r->minor,
	    r->patch, r->revision ? r->revision : "");
	types__get_server_version_response__free_unpacked(r, NULL);
	return 0;
}

const struct ctr_cmd cmd_version = {
	.name = "version",
	.summary = "print the daemon's version",
	.max_args = 0,
	.run = version_run,
};
