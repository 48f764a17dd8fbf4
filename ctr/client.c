/*
 * client: ctr's calls to the daemon. One connection for unary calls, made
 * on first use; each Events stream gets its own so that a unary call made
 * while attached never interleaves with the stream's reads.
 */
#include "ctr.h"
#include "pbcall.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "google/protobuf/timestamp.pb-c.h"
#include "health.pb-c.h"

#define API_PREFIX "/types.API/"

/* Health/Check, the contract's first call on a connection: queued here,
 * it goes out with the first write. */
static struct grpc_stream *
health_start(struct ctr *c, struct grpc_client *cl, struct err *e)
{
	Grpc__Health__V1__HealthCheckRequest req =
	    GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
	uint8_t buf[16];
	size_t len;

	len = grpc__health__v1__health_check_request__pack(&req, buf);
	return grpc_client_unary_start(cl, "/grpc.health.v1.Health/Check", buf,
	    len, c->conn_timeout_ms, e);
}

/* Its answer: this is where --conn-timeout applies. A daemon without the
 * health service (it answers UNIMPLEMENTED) is still usable. */
static int
health_finish(struct ctr *c, struct grpc_stream *st, struct err *e)
{
	Grpc__Health__V1__HealthCheckResponse *resp;
	uint8_t *out;
	size_t out_len;
	struct err ce;

	if (grpc_client_unary_finish(st, &out, &out_len, &ce) < 0) {
		if (ce.code == GRPC_UNIMPLEMENTED)
			return 0;
		if (ce.code == GRPC_DEADLINE_EXCEEDED)
			return err_set(e, GRPC_UNAVAILABLE, "cannot connect to "
			    "the daemon at %s: no answer within %d ms "
			    "(--conn-timeout)", c->address, c->conn_timeout_ms);
		*e = ce;
		return -1;
	}
	resp = grpc__health__v1__health_check_response__unpack(NULL, out_len, out);
	free(out);
	if (resp == NULL)
		return err_set(e, GRPC_INTERNAL, "the daemon at %s sent a bad "
		    "health check reply", c->address);
	if (resp->status != GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING) {
		grpc__health__v1__health_check_response__free_unpacked(resp, NULL);
		return err_set(e, GRPC_UNAVAILABLE, "the daemon at %s is not "
		    "serving", c->address);
	}
	grpc__health__v1__health_check_response__free_unpacked(resp, NULL);
	return 0;
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* --debug: one line on stderr per connection and call. */
static void __attribute__((format(printf, 2, 3)))
debugf(const struct ctr *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->debug)
		return;
	fprintf(stderr, "ctr: debug: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
debug_result(const struct ctr *c, const char *what, double t0, int rc,
    const struct err *e)
{
	if (rc < 0)
		debugf(c, "%s: %s after %.1f ms: %s", what,
		    grpc_code_name(e->code), mono_ms() - t0, e->msg);
	else
		debugf(c, "%s: OK in %.1f ms", what, mono_ms() - t0);
}

/*
 * A new connection, health-checked. With first (a unary call, not yet
 * started), that call is queued behind the health check and both go out in
 * one write: a ctr command pays one round trip to the daemon, not two. The
 * call is only answered after the health check was (the daemon serves a
 * connection's requests in order), and it is reset when the check fails.
 * *first is then the call's stream, for grpc_client_unary_finish.
 */
static struct grpc_client *
dial(struct ctr *c, const char *first_path, const uint8_t *first_req,
    size_t first_len, struct grpc_stream **first, struct err *e)
{
	struct grpc_client *cl;
	struct grpc_stream *hs, *st = NULL;
	double t0 = mono_ms();

	debugf(c, "connecting to %s (--conn-timeout %d ms)", c->address,
	    c->conn_timeout_ms);
	if ((cl = grpc_client_connect(c->address, e)) == NULL) {
		debug_result(c, "connect", t0, -1, e);
		return NULL;
	}
	if ((hs = health_start(c, cl, e)) == NULL)
		goto fail;
	if (first_path != NULL && (st = grpc_client_unary_start(cl, first_path,
	    first_req, first_len, 0, e)) == NULL) {
		grpc_stream_free(hs);
		goto fail;
	}
	if (health_finish(c, hs, e) < 0)	/* frees hs */
		goto fail;
	debug_result(c, "connect and health check", t0, 0, e);
	if (first != NULL)
		*first = st;
	return cl;
fail:
	debug_result(c, "connect and health check", t0, -1, e);
	grpc_stream_free(st);	/* resets the call: it must not run */
	grpc_client_free(cl);
	return NULL;
}

struct grpc_client *
ctr_dial(struct ctr *c, struct err *e)
{
	return dial(c, NULL, NULL, 0, NULL, e);
}

int
ctr_call(struct ctr *c, const char *method, const ProtobufCMessage *req,
    const ProtobufCMessageDescriptor *rd, ProtobufCMessage **resp,
    struct err *e)
{
	struct grpc_stream *st = NULL;
	char path[128];
	uint8_t *buf, *out;
	size_t len, out_len;
	double t0 = mono_ms();
	int rc;

	*resp = NULL;
	if (c->client != NULL) {
		rc = pb_call(c->client, method, req, rd, resp, 0, e);
		debug_result(c, method, t0, rc, e);
		return rc;
	}
	/* The first call rides with the health check (packed and named as
	 * pb_call does); its time in --debug includes the connection. */
	if ((buf = pb_pack(req, &len, e)) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s%s", method[0] == '/' ? "" : API_PREFIX,
	    method);
	c->client = dial(c, path, buf, len, &st, e);
	free(buf);
	if (c->client == NULL)
		return -1;
	rc = grpc_client_unary_finish(st, &out, &out_len, e);
	if (rc == 0) {
		*resp = protobuf_c_message_unpack(rd, NULL, out_len, out);
		free(out);
		if (*resp == NULL)
			rc = err_set(e, GRPC_INTERNAL, "cannot decode the "
			    "daemon's reply to %s", method);
	}
	debug_result(c, method, t0, rc, e);
	return rc;
}

int
ctr_call_empty(struct ctr *c, const char *method, const ProtobufCMessage *req,
    const ProtobufCMessageDescriptor *rd, struct err *e)
{
	ProtobufCMessage *resp;

	if (ctr_call(c, method, req, rd, &resp, e) < 0)
		return -1;
	protobuf_c_message_free_unpacked(resp, NULL);
	return 0;
}

struct grpc_stream *
ctr_events_open(struct ctr *c, const Types__EventsRequest *req,
    struct grpc_client **clp, struct err *e)
{
	struct grpc_client *cl;
	struct grpc_stream *st;
	uint8_t *buf;
	size_t len;

	*clp = NULL;
	if ((cl = ctr_dial(c, e)) == NULL)
		return NULL;
	if ((buf = pb_pack(&req->base, &len, e)) == NULL) {
		grpc_client_free(cl);
		return NULL;
	}
	st = grpc_client_stream(cl, API_PREFIX "Events", buf, len, e);
	free(buf);
	if (st == NULL) {
		debug_result(c, "Events", 0, -1, e);
		grpc_client_free(cl);
		return NULL;
	}
	debugf(c, "Events: stream opened (id \"%s\", from %lld.%09d, stored "
	    "only: %s)", req->id ? req->id : "",
	    req->timestamp ? (long long)req->timestamp->seconds : 0LL,
	    req->timestamp ? (int)req->timestamp->nanos : 0,
	    req->storedonly ? "yes" : "no");
	*clp = cl;
	return st;
}

int
ctr_events_next(struct grpc_stream *st, Types__Event **ev, int timeout_ms,
    struct err *e)
{
	uint8_t *msg;
	size_t len;
	int rc;

	*ev = NULL;
	if ((rc = grpc_stream_next(st, &msg, &len, timeout_ms, e)) <= 0)
		return rc;
	*ev = types__event__unpack(NULL, len, msg);
	free(msg);
	if (*ev == NULL)
		return err_set(e, GRPC_INTERNAL, "cannot decode an event from "
		    "the daemon");
	return 1;
}

int
ctr_fail(const struct err *e)
{
	fprintf(stderr, "ctr: %s\n", e->msg[0] ? e->msg : grpc_code_name(e->code));
	return CTR_EXIT_ERROR;
}

void
ctr_close(struct ctr *c)
{
	grpc_client_free(c->client);
	c->client = NULL;
}
