/*
 * gen_grpc_seeds: writes the seed corpus of fuzz_grpc. Each seed is every
 * byte an nghttp2 client wrote in one session against the server core
 * (lib/grpc.c) in memory, so it holds what a real client sends: the
 * preface, SETTINGS, the ACK of the server's SETTINGS, HEADERS, DATA,
 * WINDOW_UPDATEs, and whatever the scenario adds (PING, RST_STREAM, GOAWAY).
 *
 *   gen_grpc_seeds DIR      writes DIR/seed-<scenario>
 *
 * Run by `make fuzz-seeds`; the output is committed in tests/fuzz/corpus/grpc.
 */
#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc.h"
#include "grpc_internal.h"

/* ---- the server side: answers unary calls, streams on Events ---- */

static void
srv_request(void *ctx, struct grpc_call *call, const char *path,
    const uint8_t *msg, size_t len)
{
	if (strcmp(path, "/types.API/Events") == 0) {
		grpc_call_send(call, msg, len);
		grpc_call_send(call, msg, len);
		return;		/* left open: the client resets it */
	}
	grpc_call_send(call, msg, len);
	grpc_call_finish(call, GRPC_OK, NULL);
}

static const struct grpc_server_cbs srv_cbs = { srv_request, NULL, NULL };

/* ---- the client ---- */

struct body {
	uint8_t buf[512];
	size_t len, off;
	size_t chunk;		/* bytes per DATA frame; 0: as many as fit */
};

static ssize_t
body_read_cb(nghttp2_session *ses, int32_t id, uint8_t *buf, size_t length,
    uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct body *b = src->ptr;
	size_t n = b->len - b->off;

	if (b->chunk && n > b->chunk)
		n = b->chunk;
	if (n > length)
		n = length;
	memcpy(buf, b->buf + b->off, n);
	b->off += n;
	if (b->off == b->len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* A body of count gRPC messages, each msg with the given compressed flag. */
static void
body_set(struct body *b, const char *msg, size_t len, int count, uint8_t flag,
    size_t chunk)
{
	memset(b, 0, sizeof(*b));
	for (int k = 0; k < count; k++) {
		grpc_prefix_put(b->buf + b->len, (uint32_t)len);
		b->buf[b->len] = flag;
		memcpy(b->buf + b->len + 5, msg, len);
		b->len += 5 + len;
	}
	b->chunk = chunk;
}

struct session {
	nghttp2_session *cli;
	struct grpc_conn *srv;
	struct gbuf rec;	/* every byte the client wrote */
	struct body bodies[8];
	int nbodies;
};

static void
session_init(struct session *s)
{
	nghttp2_session_callbacks *cb;

	memset(s, 0, sizeof(*s));
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_client_new(&s->cli, cb, s);
	nghttp2_session_callbacks_del(cb);
	nghttp2_submit_settings(s->cli, NGHTTP2_FLAG_NONE, NULL, 0);
	s->srv = grpc_conn_new(&srv_cbs, NULL, 0);
}

/* Submits a request; msg NULL: HEADERS with END_STREAM only. */
static int32_t
session_request(struct session *s, const char *path, const char *ctype,
    const char *msg, size_t len, int count, uint8_t flag, size_t chunk)
{
	nghttp2_data_provider prd;
	nghttp2_nv nva[] = {
		{ (uint8_t *)":method", (uint8_t *)"POST", 7, 4, 0 },
		{ (uint8_t *)":scheme", (uint8_t *)"http", 7, 4, 0 },
		{ (uint8_t *)":path", (uint8_t *)path, 5, strlen(path), 0 },
		{ (uint8_t *)":authority", (uint8_t *)"localhost", 10, 9, 0 },
		{ (uint8_t *)"te", (uint8_t *)"trailers", 2, 8, 0 },
		{ (uint8_t *)"content-type", (uint8_t *)ctype, 12, strlen(ctype), 0 },
		{ (uint8_t *)"user-agent", (uint8_t *)"grpc-c/seed", 10, 11, 0 },
	};
	struct body *b = &s->bodies[s->nbodies++];

	if (msg == NULL)
		return nghttp2_submit_request(s->cli, NULL, nva, 7, NULL, NULL);
	body_set(b, msg, len, count, flag, chunk);
	prd.source.ptr = b;
	prd.read_callback = body_read_cb;
	return nghttp2_submit_request(s->cli, NULL, nva, 7, &prd, NULL);
}

/* Both directions until neither side has anything more to say. */
static void
session_pump(struct session *s)
{
	const uint8_t *p;
	ssize_t n;
	size_t m;
	bool moved;

	do {
		moved = false;
		while ((n = nghttp2_session_mem_send(s->cli, &p)) > 0) {
			moved = true;
			gbuf_append(&s->rec, p, (size_t)n);
			if (grpc_conn_recv(s->srv, p, (size_t)n) < 0)
				return;
		}
		while ((m = grpc_conn_pending(s->srv, &p)) > 0) {
			moved = true;
			nghttp2_session_mem_recv(s->cli, p, m);
			grpc_conn_consumed(s->srv, m);
		}
	} while (moved);
}

static int
session_write(struct session *s, const char *dir, const char *name)
{
	char path[4096];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/seed-%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(gbuf_data(&s->rec), 1, gbuf_used(&s->rec), f) != gbuf_used(&s->rec)) {
		perror(path);
		rc = -1;
	}
	if (f != NULL && fclose(f) != 0)
		rc = -1;
	nghttp2_session_del(s->cli);
	grpc_conn_free(s->srv);
	gbuf_free(&s->rec);
	return rc;
}

/* StateRequest{id: "web"} and CreateContainerRequest{id, bundlePath}. */
static const char state_msg[] = "\x0a\x03web";
static const char create_msg[] = "\x0a\x03web\x12\x08/tmp/web";
/* EventsRequest{timestamp: {seconds: 1}} */
static const char events_msg[] = "\x0a\x02\x08\x01";

int
main(int argc, char **argv)
{
	struct session s;
	const char *dir = argc > 1 ? argv[1] : ".";
	const char *ct = "application/grpc";
	int rc = 0;
	int32_t id;

	/* One unary call, as ctr sends it. */
	session_init(&s);
	session_request(&s, "/types.API/State", ct, state_msg, sizeof(state_msg) - 1, 1, 0, 0);
	session_pump(&s);
	rc |= session_write(&s, dir, "unary-state");

	/* Two calls on one connection, a PING, then GOAWAY from the client. */
	session_init(&s);
	session_request(&s, "/types.API/CreateContainer", "application/grpc+proto",
	    create_msg, sizeof(create_msg) - 1, 1, 0, 0);
	session_request(&s, "/types.API/GetServerVersion", ct, "", 0, 1, 0, 0);
	nghttp2_submit_ping(s.cli, NGHTTP2_FLAG_NONE, NULL);
	session_pump(&s);
	nghttp2_session_terminate_session(s.cli, NGHTTP2_NO_ERROR);
	session_pump(&s);
	rc |= session_write(&s, dir, "two-calls-ping-goaway");

	/* A subscription the client hangs up on (RST_STREAM CANCEL). */
	session_init(&s);
	id = session_request(&s, "/types.API/Events", ct, events_msg, sizeof(events_msg) - 1,
	    1, 0, 0);
	session_pump(&s);
	nghttp2_submit_rst_stream(s.cli, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
	session_pump(&s);
	rc |= session_write(&s, dir, "events-cancel");

	/* The message split over DATA frames of 3 bytes (prefix split too). */
	session_init(&s);
	session_request(&s, "/types.API/CreateContainer", ct, create_msg,
	    sizeof(create_msg) - 1, 1, 0, 3);
	session_pump(&s);
	rc |= session_write(&s, dir, "split-data");

	/* Refused requests: compressed, two messages, none, wrong type. */
	session_init(&s);
	session_request(&s, "/types.API/State", ct, state_msg, sizeof(state_msg) - 1, 1, 1, 0);
	session_request(&s, "/types.API/State", ct, state_msg, sizeof(state_msg) - 1, 2, 0, 0);
	session_request(&s, "/types.API/State", ct, NULL, 0, 0, 0, 0);
	session_request(&s, "/types.API/State", "text/plain", state_msg,
	    sizeof(state_msg) - 1, 1, 0, 0);
	session_pump(&s);
	rc |= session_write(&s, dir, "refused");

	return rc ? 1 : 0;
}
