/* pbcall: pack, call, unpack. */
#include <stdio.h>
#include <stdlib.h>

#include "pbcall.h"

uint8_t *
pb_pack(const ProtobufCMessage *m, size_t *len, struct err *e)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(m);
	if ((buf = malloc(*len ? *len : 1)) == NULL) {
		err_set(e, GRPC_INTERNAL, "out of memory");
		return NULL;
	}
	protobuf_c_message_pack(m, buf);
	return buf;
}

int
pb_call(struct grpc_client *cl, const char *method, const ProtobufCMessage *req,
    const ProtobufCMessageDescriptor *rd, ProtobufCMessage **resp, int timeout_ms,
    struct err *e)
{
	char path[128];
	uint8_t *buf, *out;
	size_t len, out_len;
	int rc;

	if (resp != NULL)
		*resp = NULL;
	if ((buf = pb_pack(req, &len, e)) == NULL)
		return -1;
	/* A whole path ("/containerd.records.v1.Records/Prune") names
	 * another service. */
	if (method[0] == '/')
		snprintf(path, sizeof(path), "%s", method);
	else
		snprintf(path, sizeof(path), "/types.API/%s", method);
	rc = grpc_client_unary(cl, path, buf, len, &out, &out_len, timeout_ms, e);
	free(buf);
	if (rc < 0)
		return -1;
	if (resp != NULL)
		*resp = protobuf_c_message_unpack(rd, NULL, out_len, out);
	free(out);
	if (resp != NULL && *resp == NULL)
		return err_set(e, GRPC_INTERNAL, "cannot decode the daemon's reply to %s", method);
	return 0;
}
