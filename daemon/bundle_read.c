/*
 * bundle_read: a create's look at the client's files (the bundle directory,
 * its config.json, the checkpoint image), off the loop (offload.c): on a
 * filesystem that stopped answering even stat() waits for ever. A read that
 * outlasts --start-timeout is answered DEADLINE_EXCEEDED.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"

/* In the job's thread. */
static void
read_work(struct offload *o)
{
	struct bundle_read *r = (struct bundle_read *)o;
	struct stat st;

	if (stat(r->bundle, &st) < 0)
		err_set(&o->err, GRPC_INVALID_ARGUMENT, "bundle %s: %s", r->bundle, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		err_set(&o->err, GRPC_INVALID_ARGUMENT, "bundle %s: not a directory", r->bundle);
	else if (bundle_config_load(r->bundle, &r->config, &o->err) < 0)
		;
	else if (r->checkpoint_dir != NULL && access(r->checkpoint_dir, R_OK) != 0)
		err_set(&o->err, GRPC_NOT_FOUND, "checkpoint image not found at %s",
		    r->checkpoint_dir);
}

static void
read_done(struct offload *o, const struct err *e)
{
	struct bundle_read *r = (struct bundle_read *)o;

	r->done(r, e, e->code == GRPC_OK ? r->config : NULL);
}

static void
read_release(struct offload *o)
{
	bundle_read_discard((struct bundle_read *)o);
}

int
bundle_read_start(struct bundle_read *r, struct err *e)
{
	r->job.work = read_work;
	r->job.done = read_done;
	r->job.release = read_release;
	r->job.timeout = (double)D.cfg.start_timeout_ns / 1e9;
	return offload_start(&r->job, e);
}

struct bundle_read *
bundle_read_new(const char *bundle, const char *checkpoint_dir)
{
	struct bundle_read *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->bundle = strdup(bundle)) == NULL ||
	    (checkpoint_dir != NULL && (r->checkpoint_dir = strdup(checkpoint_dir)) == NULL) ||
	    asprintf(&r->what, "bundle %s", bundle) < 0) {
		if (r != NULL) {
			free(r->bundle);
			free(r->checkpoint_dir);
		}
		free(r);
		return NULL;
	}
	r->job.what = r->what;
	return r;
}

void
bundle_read_discard(struct bundle_read *r)
{
	json_decref(r->config);
	free(r->bundle);
	free(r->checkpoint_dir);
	free(r->what);
	free(r->req);
	free(r);
}
