/*
 * ctr containers logs ID: the output of a container process started
 * without --attach, as its shim logged it, through the daemon's
 * containerd.records.v1.Records/Logs. stdout records go to stdout, stderr
 * records to stderr, the bytes as they were; a partial record (a line
 * without its newline yet) is joined with the next one of its stream.
 */
#include "ctr.h"

#include <stdlib.h>
#include <string.h>

#include "records.pb-c.h"
#include "timefmt.h"

static const struct ctr_opt logs_opts[] = {
	{ "follow", 'f', CTR_OPT_BOOL, NULL,
	    "keep printing new output until the process exits" },
	{ "tail", 0, CTR_OPT_STRING, NULL, "only the last N lines (records)" },
	{ "since", 0, CTR_OPT_STRING, NULL,
	    "only output since this time: RFC 3339, or a duration ago (10m, 1h30m)" },
	{ "until", 0, CTR_OPT_STRING, NULL,
	    "only output until this time: RFC 3339, or a duration ago" },
	{ "timestamps", 't', CTR_OPT_BOOL, NULL,
	    "start each line with the time the shim read it (UTC)" },
	{ "pid", 0, CTR_OPT_STRING, "init", "the process: init or an exec's name" },
	{ NULL, 0, 0, NULL, NULL },
};

static int
parse_when(const struct ctr_args *a, const char *name, Google__Protobuf__Timestamp *t)
{
	const char *s = ctr_arg_str(a, name);
	int64_t ns;

	if (s == NULL)
		return 0;
	if (time_parse(s, time_now_ns(), &ns) < 0) {
		ctr_usage_error(a, "invalid --%s \"%s\": want RFC 3339 like "
		    "2017-01-02T15:04:05Z, or a duration like 10m", name, s);
		return -1;
	}
	ctr_timestamp_set(t, ns);
	return 1;
}

/* Prints one record; -1 when an output failed. */
static int
print_record(const Containerd__Records__V1__LogRecord *r, bool stamps, bool follow,
    bool midline[2])
{
	int k = strcmp(r->stream, "stderr") == 0 ? 1 : 0;
	FILE *f = k ? stderr : stdout;
	char t[TIME_FMT_LEN];

	if (stamps && !midline[k] && r->time != NULL)
		fprintf(f, "%s ", time_format(ctr_time_ns(r->time->seconds, r->time->nanos), t));
	if (r->data.len > 0)
		fwrite(r->data.data, 1, r->data.len, f);
	if (!r->partial)
		fputc('\n', f);
	midline[k] = r->partial;
	if (follow && fflush(f) != 0)
		return -1;
	return ferror(f) ? -1 : 0;
}

static int
logs_run(struct ctr *c, const struct ctr_args *a)
{
	Containerd__Records__V1__LogsRequest req = CONTAINERD__RECORDS__V1__LOGS_REQUEST__INIT;
	Google__Protobuf__Timestamp since = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__Timestamp until = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	bool stamps = ctr_arg_bool(a, "timestamps"), midline[2] = { false, false };
	struct grpc_client *cl;
	struct grpc_stream *st;
	uint8_t *buf, *msg;
	size_t len;
	struct err e;
	int rc;

	req.id = a->argv[0];
	req.pid = (char *)ctr_arg_str(a, "pid");
	req.follow = ctr_arg_bool(a, "follow");
	if (ctr_arg_isset(a, "tail") && ctr_arg_uint(a, "tail", UINT64_MAX, false, &req.tail) < 0)
		return CTR_EXIT_USAGE;
	if ((rc = parse_when(a, "since", &since)) < 0)
		return CTR_EXIT_USAGE;
	if (rc > 0)
		req.since = &since;
	if ((rc = parse_when(a, "until", &until)) < 0)
		return CTR_EXIT_USAGE;
	if (rc > 0)
		req.until = &until;
	if ((cl = ctr_dial(c, &e)) == NULL)
		return ctr_fail(&e);
	len = containerd__records__v1__logs_request__get_packed_size(&req);
	if ((buf = malloc(len ? len : 1)) == NULL) {
		grpc_client_free(cl);
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return ctr_fail(&e);
	}
	containerd__records__v1__logs_request__pack(&req, buf);
	st = grpc_client_stream(cl, "/containerd.records.v1.Records/Logs", buf, len, &e);
	free(buf);
	if (st == NULL) {
		grpc_client_free(cl);
		return ctr_fail(&e);
	}
	while ((rc = grpc_stream_next(st, &msg, &len, 0, &e)) > 0) {
		Containerd__Records__V1__LogRecord *r =
		    containerd__records__v1__log_record__unpack(NULL, len, msg);

		free(msg);
		if (r == NULL) {
			err_set(&e, GRPC_INTERNAL, "the daemon sent a log record that does not"
			    " decode");
			rc = -1;
			break;
		}
		rc = print_record(r, stamps, req.follow, midline);
		containerd__records__v1__log_record__free_unpacked(r, NULL);
		if (rc < 0) {
			rc = -2;
			break;
		}
	}
	grpc_stream_free(st);
	grpc_client_free(cl);
	if (rc == -2 || fflush(stdout) != 0)
		return ctr_stdout_failed();
	fflush(stderr);
	if (rc < 0 && e.code == GRPC_UNIMPLEMENTED)
		fprintf(stderr, "ctr: this daemon keeps no logs (it has no"
		    " containerd.records.v1.Records service)\n");
	return rc < 0 ? ctr_fail(&e) : 0;
}

const struct ctr_cmd cmd_containers_logs = {
	.name = "logs",
	.args = "ID",
	.summary = "print a container process's logged output (started without --attach)",
	.opts = logs_opts,
	.min_args = 1,
	.max_args = 1,
	.run = logs_run,
	.epilog = "The output of a process started without --attach (no stdout and no stderr\n"
		  "named) is logged by its shim under the daemon's state dir, and kept until\n"
		  "the container's records are removed. A line longer than 8 KiB is logged as\n"
		  "several records and printed whole. Exit status: 0 (with -f: once the process\n"
		  "exited), 1 when there is no such container or process or the process had\n"
		  "its own stdio (no log), 2 for a usage error.\n",
};
