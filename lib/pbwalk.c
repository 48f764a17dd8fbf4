/* pbwalk: see pbwalk.h. */
#include "pbwalk.h"

#include <stdint.h>
#include <stdio.h>

#define PBWALK_DEPTH_MAX 32
#define PBWALK_WHERE_MAX 256

static int
walk(ProtobufCMessage *m, pbwalk_string_cb cb, void *arg, char *where, size_t at, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *base = (char *)m;
		size_t n = 1;
		void **vals = (void **)(base + f->offset);

		if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)(base + f->quantifier_offset);
			vals = *(void ***)(base + f->offset);
		}
		for (size_t k = 0; k < n; k++) {
			int w, rc = 0;

			if (vals[k] == NULL)
				continue;
			if (where == NULL) {
				/* No paths wanted: pbwalk_strings_quick. */
				if (f->type == PROTOBUF_C_TYPE_STRING)
					rc = cb(arg, (char **)&vals[k], "");
				else if (depth < PBWALK_DEPTH_MAX)
					rc = walk(vals[k], cb, arg, NULL, 0, depth + 1);
				if (rc != 0)
					return rc;
				continue;
			}
			if (f->label == PROTOBUF_C_LABEL_REPEATED)
				w = snprintf(where + at, PBWALK_WHERE_MAX - at, "%s%s[%zu]",
				    at ? "." : "", f->name, k);
			else
				w = snprintf(where + at, PBWALK_WHERE_MAX - at, "%s%s", at ? "." : "",
				    f->name);
			if (w < 0 || (size_t)w >= PBWALK_WHERE_MAX - at)
				w = (int)(PBWALK_WHERE_MAX - at - 1);
			if (f->type == PROTOBUF_C_TYPE_STRING)
				rc = cb(arg, (char **)&vals[k], where);
			else if (depth < PBWALK_DEPTH_MAX)
				rc = walk(vals[k], cb, arg, where, at + (size_t)w, depth + 1);
			where[at] = '\0';
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

int
pbwalk_strings(ProtobufCMessage *m, pbwalk_string_cb cb, void *arg)
{
	char where[PBWALK_WHERE_MAX] = "";

	return walk(m, cb, arg, where, 0, 0);
}

int
pbwalk_strings_quick(ProtobufCMessage *m, pbwalk_string_cb cb, void *arg)
{
	return walk(m, cb, arg, NULL, 0, 0);
}
