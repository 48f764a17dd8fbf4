/*
 * pbcall: one unary types.API call with protobuf messages, over lib/grpc's
 * blocking client (for ctr and the tools).
 */
#ifndef LIB_PBCALL_H
#define LIB_PBCALL_H

#include <protobuf-c/protobuf-c.h>

#include "err.h"
#include "grpc.h"

/* m packed into a malloc'd buffer of *len bytes; NULL with e. */
uint8_t *pb_pack(const ProtobufCMessage *m, size_t *len, struct err *e);

/* Calls "/types.API/<method>" (or method itself when it starts with '/',
 * a method of another service) with req. resp NULL: the reply is not
 * decoded; else *resp is the decoded reply (rd), freed by the caller with
 * protobuf_c_message_free_unpacked. 0, or -1 with e (the grpc-status). */
int pb_call(struct grpc_client *cl, const char *method, const ProtobufCMessage *req,
    const ProtobufCMessageDescriptor *rd, ProtobufCMessage **resp, int timeout_ms,
    struct err *e);

#endif
