/*
 * reply_utf8: a reply's strings made valid UTF-8 before it is packed.
 *
 * Requests with strings that are not UTF-8 are refused at the door
 * (rpc.c), but a database written by an earlier release can hold such
 * strings (a label, a path, an exec's args it accepted). One of them in
 * a State reply made the whole reply unreadable to clients that check
 * (grpcio: "Exception deserializing response"), so every container's
 * State was lost to them after an upgrade. Each byte that is not part of
 * a valid UTF-8 sequence is shown as the text \xNN instead: nothing is
 * dropped, the rest of the string is as stored, and the database itself
 * is left as it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "pbwalk.h"
#include "utf8.h"
#include "validate.h"

struct fix {
	char **slot;
	char *orig;
};

struct fixes {
	struct fix *v;
	size_t n, cap;
};

/* A string that is not UTF-8 is swapped for its escaped copy, and where
 * it was noted so that reply_utf8_undo puts the caller's back. */
static int
fix_one(void *arg, char **slot, const char *where)
{
	struct fixes *fx = arg;
	char *e;

	if (validate_utf8(*slot, strlen(*slot)))
		return 0;
	if (fx->n == fx->cap) {
		size_t cap = fx->cap ? fx->cap * 2 : 8;
		struct fix *nv = realloc(fx->v, cap * sizeof(*nv));

		if (nv == NULL)
			return 1;
		fx->v = nv;
		fx->cap = cap;
	}
	if ((e = utf8_escape(*slot)) == NULL)
		return 1;
	fx->v[fx->n].slot = slot;
	fx->v[fx->n].orig = *slot;
	fx->n++;
	*slot = e;
	return 0;
}

void *
reply_utf8_fix(const ProtobufCMessage *msg)
{
	static bool told;
	struct fixes *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return NULL;
	/* The message is the caller's: changed only until reply_utf8_undo. */
	pbwalk_strings_quick((ProtobufCMessage *)msg, fix_one, fx);
	if (fx->n == 0) {
		free(fx->v);
		free(fx);
		return NULL;
	}
	if (!told) {
		log_warnx("a reply holds %zu stored string(s) that are not UTF-8 (written by an"
			  " earlier release): their bad bytes are sent as \\xNN text", fx->n);
		told = true;
	}
	return fx;
}

void
reply_utf8_undo(void *handle)
{
	struct fixes *fx = handle;

	if (fx == NULL)
		return;
	for (size_t i = 0; i < fx->n; i++) {
		free(*fx->v[i].slot);
		*fx->v[i].slot = fx->v[i].orig;
	}
	free(fx->v);
	free(fx);
}

/* An error's text is built from what runtimes, shims and CRIU wrote (and
 * may be cut at ERR_MSG_MAX inside a character): sent as valid UTF-8 too. */
char *
reply_utf8_text(const char *s)
{
	return validate_utf8(s, strlen(s)) ? strdup(s) : utf8_escape(s);
}
