#include "op.h"

#include <stddef.h>
#include <string.h>

static struct op *ops;
static uint64_t next_id = 1;

uint64_t
op_register(struct op *op, const char *kind, void *self)
{
	op->id = next_id++;
	op->kind = kind;
	op->self = self;
	op->next = ops;
	ops = op;
	return op->id;
}

void
op_unregister(struct op *op)
{
	for (struct op **pp = &ops; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == op) {
			*pp = op->next;
			return;
		}
	}
}

void *
op_find(uint64_t id, const char *kind)
{
	for (struct op *o = ops; o != NULL; o = o->next)
		if (o->id == id && strcmp(o->kind, kind) == 0)
			return o->self;
	return NULL;
}

void
op_foreach(void (*fn)(void *arg, const struct op *op), void *arg)
{
	for (const struct op *o = ops; o != NULL; o = o->next)
		fn(arg, o);
}
