/*
 * fuzz_proto: decoding of every request message the daemon accepts
 * (schema/api.proto and the health check), as rpc_dispatch does it: the
 * input is one gRPC message body, tried as each request type in turn.
 *
 * What unpacks must pack again to exactly the size it announces, and
 * decoding that output must give the same bytes once more: a message the
 * daemon stores or forwards is then never something it cannot re-read.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.pb-c.h"
#include "health.pb-c.h"

static void
fz_fail(const char *type, const char *why)
{
	fprintf(stderr, "%s: %s\n", type, why);
	abort();
}

/* True if m or any message inside it kept unknown fields. */
static bool
has_unknown(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	if (m->n_unknown_fields > 0)
		return true;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *at = (const char *)m + f->offset;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
			ProtobufCMessage *const *v = *(ProtobufCMessage *const *const *)at;

			for (size_t k = 0; k < n; k++)
				if (has_unknown(v[k]))
					return true;
		} else {
			const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)at;

			if (sub != NULL && has_unknown(sub))
				return true;
		}
	}
	return false;
}

/*
 * One request type: unpack, pack, unpack the packing, pack again, compare.
 * A macro because protobuf-c's per-type functions are distinct symbols and
 * the point is to call those, as generated, not only the generic ones.
 */
#define FZ_TYPE(prefix, Type)                                                  \
	do {                                                                   \
		Type *m1, *m2;                                                 \
		uint8_t *b1, *b2;                                              \
		size_t n1, n2;                                                 \
                                                                               \
		m1 = prefix##__unpack(NULL, size, data);                       \
		if (m1 == NULL)                                                \
			break;                                                 \
		n1 = prefix##__get_packed_size(m1);                            \
		if ((b1 = malloc(n1 ? n1 : 1)) == NULL)                        \
			abort();                                               \
		if (prefix##__pack(m1, b1) != n1)                              \
			fz_fail(#Type, "pack wrote other than its packed size"); \
		/* Unknown fields are kept as read: protobuf-c takes field  \
		 * number 0 in an overlong tag ("80 80 80 00") but refuses   \
		 * its own canonical "00" when re-reading. Not ours: only a  \
		 * message of known fields must survive the round trip. */   \
		if (has_unknown(&m1->base)) {                                 \
			free(b1);                                              \
			prefix##__free_unpacked(m1, NULL);                     \
			break;                                                 \
		}                                                              \
		if ((m2 = prefix##__unpack(NULL, n1, b1)) == NULL)             \
			fz_fail(#Type, "its own packing does not unpack");     \
		n2 = prefix##__get_packed_size(m2);                            \
		if (n2 != n1)                                                  \
			fz_fail(#Type, "re-packing changed the size");         \
		if ((b2 = malloc(n2 ? n2 : 1)) == NULL)                        \
			abort();                                               \
		prefix##__pack(m2, b2);                                        \
		if (memcmp(b1, b2, n1) != 0)                                   \
			fz_fail(#Type, "re-packing changed the bytes");        \
		free(b1);                                                      \
		free(b2);                                                      \
		prefix##__free_unpacked(m1, NULL);                             \
		prefix##__free_unpacked(m2, NULL);                             \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FZ_TYPE(types__get_server_version_request, Types__GetServerVersionRequest);
	FZ_TYPE(types__create_container_request, Types__CreateContainerRequest);
	FZ_TYPE(types__signal_request, Types__SignalRequest);
	FZ_TYPE(types__update_process_request, Types__UpdateProcessRequest);
	FZ_TYPE(types__add_process_request, Types__AddProcessRequest);
	FZ_TYPE(types__create_checkpoint_request, Types__CreateCheckpointRequest);
	FZ_TYPE(types__delete_checkpoint_request, Types__DeleteCheckpointRequest);
	FZ_TYPE(types__list_checkpoint_request, Types__ListCheckpointRequest);
	FZ_TYPE(types__state_request, Types__StateRequest);
	FZ_TYPE(types__update_container_request, Types__UpdateContainerRequest);
	FZ_TYPE(types__events_request, Types__EventsRequest);
	FZ_TYPE(types__stats_request, Types__StatsRequest);
	FZ_TYPE(grpc__health__v1__health_check_request, Grpc__Health__V1__HealthCheckRequest);
	return 0;
}
