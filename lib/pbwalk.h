/*
 * pbwalk: every string field of a protobuf-c message, by its descriptors:
 * nested messages and repeated fields included, a oneof only where it is
 * set. The request check at the door (UTF-8) and the reply's escaping of
 * old stored strings walk messages the same way.
 */
#ifndef LIB_PBWALK_H
#define LIB_PBWALK_H

#include <protobuf-c/protobuf-c.h>

/* slot: where the string's pointer sits (the callback may replace it);
 * where: the field's path, e.g. "args[2]" or "checkpoint.name" (valid
 * during the call). A non-zero return stops the walk and is returned. */
typedef int (*pbwalk_string_cb)(void *arg, char **slot, const char *where);

int pbwalk_strings(ProtobufCMessage *m, pbwalk_string_cb cb, void *arg);
/* The same walk without the field paths (where is ""): formatting a path
 * per string was most of the cost of checking a State reply of 10,000
 * containers (one snprintf for each of ~300,000 strings). */
int pbwalk_strings_quick(ProtobufCMessage *m, pbwalk_string_cb cb, void *arg);

#endif
