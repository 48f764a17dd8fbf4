/* err: an error a caller can act on, carried as a gRPC status code and a message. */
#ifndef LIB_ERR_H
#define LIB_ERR_H

#include <stdarg.h>

enum grpc_code {
	GRPC_OK = 0,
	GRPC_CANCELLED = 1,
	GRPC_UNKNOWN = 2,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_NOT_FOUND = 5,
	GRPC_ALREADY_EXISTS = 6,
	GRPC_PERMISSION_DENIED = 7,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_FAILED_PRECONDITION = 9,
	GRPC_ABORTED = 10,
	GRPC_OUT_OF_RANGE = 11,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
};

#define ERR_MSG_MAX 1024

struct err {
	int code;		/* enum grpc_code; GRPC_OK when no error */
	char msg[ERR_MSG_MAX];	/* for a person: what was wrong and what to do */
};

/* err_set fills e (if not NULL) and returns -1, so callers can `return err_set(...)`. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void err_clear(struct err *e);
/* Name of a gRPC status code, e.g. "NOT_FOUND". */
const char *grpc_code_name(int code);

#endif
