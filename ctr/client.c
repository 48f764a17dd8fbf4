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

/* Calls Health/Check right after dialing, as the contract asks; this is
 * where --conn-timeout applies. A daemon without the health service (it
 * answers UNIMPLEMENTED) is still usable. */
static int
health_check(struct ctr *c, struct grpc_client *cl, struct err *e)
{
	Grpc__Health__V1__HealthCheckRequest req =
	    GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
	Grpc__Health__V1__HealthCheckResponse *resp;
	uint8_t buf[16], *out;
	size_t len, out_len;
	struct err ce;

	len = grpc__health__v1__health_check_request__pack(&req, buf);
	if (grpc_client_unary(cl, "/grpc.health.v1.Health/Check", buf, len,
	    &out, &out_len, c->conn_timeout_ms, &ce) < 0) {
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

struct grpc_client *
ctr_dial(struct ctr *c, struct err *e)
{
	struct grpc_client *cl;
	double t0 = mono_ms();

	debugf(c, "connecting to %s (--conn-timeout %d ms)", c->address,
	    c->conn_timeout_ms);
	if ((cl = grpc_client_connect(c->address, e)) == NULL) {
		debug_result(c, "connect", t0, -1, e);
		return NULL;
	}
	if (health_check(c, cl, e) < 0) {
		debug_result(c, "connect and health check", t0, -1, e);
		grpc_client_free(cl);
		return NULL;
	}
	debug_result(c, "connect and health check", t0, 0, e);
	return cl;
}

int
ctr_call(struct ctr *c, const char *method, const ProtobufCMessage *req,
    const ProtobufCMessageDescriptor *rd, ProtobufCMessage **resp,
    struct err *e)
{
	double t0;
	int rc;

	*resp = NULL;
	if (c->client == NULL && (c->client = ctr_dial(c, e)) == NULL)
		return -1;
	t0 = mono_ms();
	rc = pb_call(c->client, method, req, rd, resp, 0, e);
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
