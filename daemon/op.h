/* op: operations (create, exec, ...) parked by id, never by raw pointer, so
 * a callback for an op that is gone finds nothing instead of freed memory. */
#ifndef DAEMON_OP_H
#define DAEMON_OP_H

#include <stdint.h>

struct op {
	struct op *next;
	uint64_t id;
	const char *kind;	/* "create", ... for logs */
	void *self;		/* the op's own struct */
};

uint64_t op_register(struct op *op, const char *kind, void *self);
void op_unregister(struct op *op);
/* The op's own struct, or NULL if it has ended. */
void *op_find(uint64_t id, const char *kind);
/* Every operation in flight, newest first (the SIGUSR1 dump). */
void op_foreach(void (*fn)(void *arg, const struct op *op), void *arg);

#endif
