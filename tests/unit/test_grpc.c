/*
 * test_grpc: the gRPC server core in memory against a raw nghttp2 client
 * session, then grpc_client against a real server loop on a unix socket in
 * a forked child.
 */
#include <errno.h>
#include <fcntl.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "grpc.h"
#include "grpc_core.h"
#include "grpc_internal.h"
#include "tap.h"

/* ---- a fake daemon: the server callbacks ---- */

enum tmode { T_NONE, T_ECHO, T_ERROR, T_SEND_ERROR };

struct tsrv {
	enum tmode mode;
	int code;
	const char *emsg;
	int nreq, nclosed, ndrained;
	char path[128];
	uint8_t msg[256];
	size_t len;
	uint64_t ids[2048];
	int nids;
	struct grpc_call *last;
};

static void
t_request(void *ctx, struct grpc_call *call, const char *path,
    const uint8_t *msg, size_t len)
{
	struct tsrv *s = ctx;

	s->nreq++;
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->len = len;
	memcpy(s->msg, msg, len < sizeof(s->msg) ? len : sizeof(s->msg));
	if (s->nids < (int)(sizeof(s->ids) / sizeof(s->ids[0])))
		s->ids[s->nids++] = grpc_call_id(call);
	s->last = call;
	switch (s->mode) {
	case T_NONE:
		break;
	case T_ECHO:
		grpc_call_send(call, msg, len);
		grpc_call_finish(call, GRPC_OK, NULL);
		break;
	case T_ERROR:
		grpc_call_finish(call, s->code, s->emsg);
		break;
	case T_SEND_ERROR:
		grpc_call_send(call, msg, len);
		grpc_call_finish(call, s->code, s->emsg);
		break;
	}
}

static void
t_closed(void *ctx, struct grpc_call *call)
{
	struct tsrv *s = ctx;

	s->nclosed++;
	if (s->last == call)
		s->last = NULL;
}

static void
t_drained(void *ctx, struct grpc_call *call)
{
	struct tsrv *s = ctx;

	s->ndrained++;
}

static const struct grpc_server_cbs t_cbs = { t_request, t_closed, t_drained };

/* ---- a raw nghttp2 client in memory ---- */

struct tstream {
	int32_t id;
	const uint8_t *body;
	size_t body_len, body_off;
	const size_t *chunks;	/* DATA frame sizes, 0-terminated; NULL: any */
	int chunk_i;
	bool no_end;		/* keep the stream open after the body */
	int http_status;
	int grpc_status;	/* -1: none */
	char grpc_message[512];	/* raw, still percent-encoded */
	char content_type[64];
	int nheaders;		/* HEADERS frames received */
	int ndata;		/* DATA frames received */
	struct gbuf data;
	bool closed;
	uint32_t close_code;
	bool got_rst;
};

struct tcli {
	nghttp2_session *ses;
	struct tstream *st;
	int n, cap;
};

static struct tstream *
tc_stream(struct tcli *c, int32_t id)
{
	return nghttp2_session_get_stream_user_data(c->ses, id);
}

static int
tc_header_cb(nghttp2_session *ses, const nghttp2_frame *frame,
    const uint8_t *name, size_t namelen, const uint8_t *value, size_t valuelen,
    uint8_t flags, void *user)
{
	struct tstream *st = tc_stream(user, frame->hd.stream_id);
	char v[512];

	if (st == NULL)
		return 0;
	snprintf(v, sizeof(v), "%.*s", (int)valuelen, value);
	if (namelen == 7 && memcmp(name, ":status", 7) == 0)
		st->http_status = atoi(v);
	else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
		st->grpc_status = atoi(v);
	else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0)
		snprintf(st->grpc_message, sizeof(st->grpc_message), "%s", v);
	else if (namelen == 12 && memcmp(name, "content-type", 12) == 0)
		snprintf(st->content_type, sizeof(st->content_type), "%.63s", v);
	return 0;
}

static int
tc_frame_recv_cb(nghttp2_session *ses, const nghttp2_frame *frame, void *user)
{
	struct tstream *st = tc_stream(user, frame->hd.stream_id);

	if (st == NULL)
		return 0;
	if (frame->hd.type == NGHTTP2_HEADERS)
		st->nheaders++;
	if (frame->hd.type == NGHTTP2_DATA)
		st->ndata++;
	if (frame->hd.type == NGHTTP2_RST_STREAM)
		st->got_rst = true;
	return 0;
}

static int
tc_data_cb(nghttp2_session *ses, uint8_t flags, int32_t id,
    const uint8_t *data, size_t len, void *user)
{
	struct tstream *st = tc_stream(user, id);

	if (st != NULL)
		gbuf_append(&st->data, data, len);
	return 0;
}

static int
tc_close_cb(nghttp2_session *ses, int32_t id, uint32_t code, void *user)
{
	struct tstream *st = tc_stream(user, id);

	if (st != NULL) {
		st->closed = true;
		st->close_code = code;
	}
	return 0;
}

static ssize_t
tc_read_cb(nghttp2_session *ses, int32_t id, uint8_t *buf, size_t length,
    uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct tstream *st = src->ptr;
	size_t n = st->body_len - st->body_off;

	if (st->chunks != NULL && st->chunks[st->chunk_i] != 0) {
		if (n > st->chunks[st->chunk_i])
			n = st->chunks[st->chunk_i];
		st->chunk_i++;
	}
	if (n > length)
		n = length;
	memcpy(buf, st->body + st->body_off, n);
	st->body_off += n;
	if (st->body_off == st->body_len) {
		if (st->no_end)
			return n > 0 ? (ssize_t)n : NGHTTP2_ERR_DEFERRED;
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	}
	return (ssize_t)n;
}

static void
tc_init(struct tcli *c, int cap)
{
	nghttp2_session_callbacks *cb;

	memset(c, 0, sizeof(*c));
	c->cap = cap;
	c->st = calloc((size_t)cap, sizeof(*c->st));
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_on_header_callback(cb, tc_header_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb,
	    tc_frame_recv_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb,
	    tc_data_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, tc_close_cb);
	nghttp2_session_client_new(&c->ses, cb, c);
	nghttp2_session_callbacks_del(cb);
	nghttp2_submit_settings(c->ses, NGHTTP2_FLAG_NONE, NULL, 0);
}

static void
tc_free(struct tcli *c)
{
	int i;

	nghttp2_session_del(c->ses);
	for (i = 0; i < c->n; i++)
		gbuf_free(&c->st[i].data);
	free(c->st);
}

/* Starts a request; body NULL: HEADERS with END_STREAM only. */
static struct tstream *
tc_request(struct tcli *c, const char *path, const char *ctype,
    const uint8_t *body, size_t len, const size_t *chunks, bool no_end)
{
	struct tstream *st = &c->st[c->n++];
	nghttp2_data_provider prd;
	nghttp2_nv nva[] = {
		{ (uint8_t *)":method", (uint8_t *)"POST", 7, 4, 0 },
		{ (uint8_t *)":scheme", (uint8_t *)"http", 7, 4, 0 },
		{ (uint8_t *)":path", (uint8_t *)path, 5, strlen(path), 0 },
		{ (uint8_t *)":authority", (uint8_t *)"localhost", 10, 9, 0 },
		{ (uint8_t *)"te", (uint8_t *)"trailers", 2, 8, 0 },
		{ (uint8_t *)"content-type", (uint8_t *)ctype, 12,
		    ctype ? strlen(ctype) : 0, 0 },
	};

	st->body = body;
	st->body_len = len;
	st->chunks = chunks;
	st->no_end = no_end;
	st->grpc_status = -1;
	prd.source.ptr = st;
	prd.read_callback = tc_read_cb;
	st->id = nghttp2_submit_request(c->ses, NULL, nva, ctype ? 6 : 5,
	    body ? &prd : NULL, st);
	return st;
}

/* A gRPC-framed message in a static buffer. */
static uint8_t *
frame_msg(uint8_t *buf, const void *msg, size_t len)
{
	grpc_prefix_put(buf, (uint32_t)len);
	memcpy(buf + 5, msg, len);
	return buf;
}

/* Client output into the server, step bytes per grpc_conn_recv (0: all). */
static int
tc_to_server(struct tcli *c, struct grpc_conn *conn, size_t step)
{
	const uint8_t *p;
	ssize_t n;
	size_t off, k;
	int moved = 0;

	while ((n = nghttp2_session_mem_send(c->ses, &p)) > 0) {
		moved = 1;
		for (off = 0; off < (size_t)n; off += k) {
			k = step ? step : (size_t)n;
			if (k > (size_t)n - off)
				k = (size_t)n - off;
			if (grpc_conn_recv(conn, p + off, k) < 0)
				return -1;
		}
	}
	return moved;
}

static int
server_to_tc(struct grpc_conn *conn, struct tcli *c)
{
	const uint8_t *p;
	size_t n;
	int moved = 0;

	while ((n = grpc_conn_pending(conn, &p)) > 0) {
		moved = 1;
		if (nghttp2_session_mem_recv(c->ses, p, n) != (ssize_t)n)
			return -1;
		grpc_conn_consumed(conn, n);
	}
	return moved;
}

/* Runs both sides until neither has anything to say. */
static int
pump_step(struct tcli *c, struct grpc_conn *conn, size_t step)
{
	int a, b;

	do {
		if ((a = tc_to_server(c, conn, step)) < 0)
			return -1;
		if ((b = server_to_tc(conn, c)) < 0)
			return -1;
	} while (a || b);
	return 0;
}

static int
pump(struct tcli *c, struct grpc_conn *conn)
{
	return pump_step(c, conn, 0);
}

/* The messages of a response body, concatenated without prefixes; -1 on
 * bad framing. */
static long
unframe(const struct gbuf *b, uint8_t *out, size_t cap, int *count)
{
	const uint8_t *p = gbuf_data(b);
	size_t n = gbuf_used(b), off = 0, total = 0;
	uint32_t len;

	*count = 0;
	while (off < n) {
		if (n - off < 5 || p[off] != 0)
			return -1;
		len = grpc_prefix_len(p + off);
		if (n - off - 5 < len)
			return -1;
		if (out != NULL && total + len <= cap)
			memcpy(out + total, p + off + 5, len);
		total += len;
		off += 5 + len;
		(*count)++;
	}
	return (long)total;
}

/* ---- in-memory tests ---- */

static void
test_unary(void)
{
	struct tsrv s = { .mode = T_ECHO };
	struct grpc_conn *conn = grpc_conn_new(&t_cbs, &s, 0);
	struct tcli c;
	struct tstream *st;
	uint8_t body[64], out[64];
	int count;
	uint64_t id;

	tc_init(&c, 4);
	st = tc_request(&c, "/types.API/State", "application/grpc",
	    frame_msg(body, "hello", 5), 10, NULL, false);
	ok(pump(&c, conn) == 0, "unary: pump");
	is_int(s.nreq, 1, "unary: request delivered once");
	is_str(s.path, "/types.API/State", "unary: path");
	ok(s.len == 5 && memcmp(s.msg, "hello", 5) == 0, "unary: message");
	is_int(st->http_status, 200, "unary: :status 200");
	is_str(st->content_type, "application/grpc", "unary: content-type");
	is_int(unframe(&st->data, out, sizeof(out), &count), 5,
	    "unary: 5 response bytes");
	ok(count == 1 && memcmp(out, "hello", 5) == 0, "unary: echoed message");
	is_int(st->grpc_status, 0, "unary: grpc-status 0");
	is_int(st->nheaders, 2, "unary: headers and trailers");
	ok(st->closed && st->close_code == 0, "unary: stream closed cleanly");
	is_int(s.nclosed, 1, "unary: closed fired once");
	id = s.ids[0];
	ok(id != 0 && grpc_call_find(id) == NULL,
	    "unary: call gone after close");
	ok(!grpc_conn_done(conn), "unary: connection still open");
	grpc_conn_free(conn);
	is_int(s.nclosed, 1, "unary: no second closed on free");
	tc_free(&c);
}

static void
test_split(void)
{
	static const size_t ones[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
		1, 1, 1, 1, 1, 1, 0 };
	static const size_t split_prefix[] = { 2, 1000, 0 };
	struct tsrv s = { .mode = T_ECHO };
	struct grpc_conn *conn;
	struct tcli c;
	struct tstream *st;
	uint8_t body[64];
	const char *m = "a message split into many frames";
	size_t ml = strlen(m);

	/* One byte per DATA frame: prefix and body both split. */
	conn = grpc_conn_new(&t_cbs, &s, 0);
	tc_init(&c, 4);
	st = tc_request(&c, "/t/Split", "application/grpc",
	    frame_msg(body, m, ml), ml + 5, ones, false);
	pump(&c, conn);
	ok(s.nreq == 1 && s.len == ml && memcmp(s.msg, m, ml) == 0,
	    "split: message from %zu one-byte DATA frames", ml + 5);
	ok(st->ndata >= 1 && st->grpc_status == 0, "split: answered OK");
	grpc_conn_free(conn);
	tc_free(&c);

	/* The prefix split, the body whole in the next frame. */
	memset(&s, 0, sizeof(s));
	s.mode = T_ECHO;
	conn = grpc_conn_new(&t_cbs, &s, 0);
	tc_init(&c, 4);
	st = tc_request(&c, "/t/Split", "application/grpc",
	    frame_msg(body, m, ml), ml + 5, split_prefix, false);
	pump(&c, conn);
	ok(s.nreq == 1 && s.len == ml && memcmp(s.msg, m, ml) == 0,
	    "split: prefix split 2+3, body in one frame");
	grpc_conn_free(conn);
	tc_free(&c);

	/* Every byte of the connection fed on its own. */
	memset(&s, 0, sizeof(s));
	s.mode = T_ECHO;
	conn = grpc_conn_new(&t_cbs, &s, 0);
	tc_init(&c, 4);
	st = tc_request(&c, "/t/Bytes", "application/grpc",
	    frame_msg(body, m, ml), ml + 5, ones, false);
	ok(pump_step(&c, conn, 1) == 0, "split: byte-by-byte feed accepted");
	ok(s.nreq == 1 && s.len == ml && memcmp(s.msg, m, ml) == 0 &&
	    strcmp(s.path, "/t/Bytes") == 0, "split: byte-by-byte message");
	is_int(st->grpc_status, 0, "split: byte-by-byte answered");
	grpc_conn_free(conn);
	tc_free(&c);
}

static void
test_two_in_one_feed(void)
{
	struct tsrv s = { .mode = T_NONE };
	struct grpc_conn *conn = grpc_conn_new(&t_cbs, &s, 0);
	struct tcli c;
	uint8_t b1[16], b2[16];
	struct gbuf all = { 0 };
	const uint8_t *p;
	ssize_t n;

	tc_init(&c, 4);
	tc_request(&c, "/t/One", "application/grpc", frame_msg(b1, "one", 3),
	    8, NULL, false);
	tc_request(&c, "/t/Two", "application/grpc", frame_msg(b2, "two", 3),
	    8, NULL, false);
	while ((n = nghttp2_session_mem_send(c.ses, &p)) > 0)
		gbuf_append(&all, p, (size_t)n);
	is_int(grpc_conn_recv(conn, gbuf_data(&all), gbuf_used(&all)), 0,
	    "two in one: one recv");
	is_int(s.nreq, 2, "two in one: both requests delivered");
	is_str(s.path, "/t/Two", "two in one: second path");
	ok(s.nids == 2 && s.ids[0] != s.ids[1] && grpc_call_find(s.ids[0]) &&
	    grpc_call_find(s.ids[1]), "two in one: two live calls");
	ok(grpc_call_find(s.ids[0]) != NULL &&
	    grpc_call_conn(grpc_call_find(s.ids[0])) == conn,
	    "two in one: call_conn");
	grpc_call_set_data(grpc_call_find(s.ids[1]), &s);
	ok(grpc_call_data(grpc_call_find(s.ids[1])) == &s, "call data kept");
	grpc_conn_free(conn);
	is_int(s.nclosed, 2, "conn_free: closed fired for each open call");
	ok(grpc_call_find(s.ids[0]) == NULL && grpc_call_find(s.ids[1]) == NULL,
	    "conn_free: calls gone");
	gbuf_free(&all);
	tc_free(&c);
}

static void
test_limits(void)
{
	struct tsrv s = { .mode = T_ECHO };
	struct grpc_conn *conn = grpc_conn_new(&t_cbs, &s, 100);
	struct tcli c;
	struct tstream *st, *big, *huge;
	static uint8_t body[400], huge_pfx[5] = { 0, 0xff, 0xff, 0xff, 0xff };
	uint8_t zeros[200];

	memset(zeros, 'z', sizeof(zeros));
	tc_init(&c, 8);
	st = tc_request(&c, "/t/At", "application/grpc",
	    frame_msg(body, zeros, 100), 105, NULL, false);
	pump(&c, conn);
	ok(s.nreq == 1 && s.len == 100 && st->grpc_status == 0,
	    "limit: a message of exactly max_msg is delivered");

	/* Over the limit and the client still sending: refused at once. */
	big = tc_request(&c, "/t/Over", "application/grpc",
	    frame_msg(body + 200, zeros, 101), 50, NULL, true);
	pump(&c, conn);
	is_int(s.nreq, 1, "limit: over max_msg not delivered");
	is_int(big->grpc_status, GRPC_RESOURCE_EXHAUSTED,
	    "limit: RESOURCE_EXHAUSTED before the request ended");
	is_str(big->grpc_message,
	    "message of 101 bytes exceeds the limit of 100",
	    "limit: message says so");
	ok(big->closed && big->got_rst && big->close_code == NGHTTP2_NO_ERROR,
	    "limit: stream reset with NO_ERROR");
	is_int(big->nheaders, 1, "limit: trailers-only reply");

	huge = tc_request(&c, "/t/Huge", "application/grpc", huge_pfx, 5,
	    NULL, true);
	pump(&c, conn);
	ok(huge->grpc_status == GRPC_RESOURCE_EXHAUSTED && huge->closed,
	    "limit: a 4 GiB prefix is refused from 5 bytes");
	is_int(s.nclosed, 1, "limit: refused calls fire no closed");
	ok(!grpc_conn_done(conn), "limit: connection survives");
	grpc_conn_free(conn);
	tc_free(&c);
}

static void
test_bad_requests(void)
{
	struct tsrv s = { .mode = T_ECHO };
	struct grpc_conn *conn = grpc_conn_new(&t_cbs, &s, 0);
	struct tcli c;
	struct tstream *st;
	uint8_t comp[16], partial[16], two[32], b[16];

	tc_init(&c, 8);
	frame_msg(comp, "abc", 3);
	comp[0] = 1;
	st = tc_request(&c, "/t/Comp", "application/grpc", comp, 8, NULL,
	    false);
	pump(&c, conn);
	is_int(st->grpc_status, GRPC_UNIMPLEMENTED, "compressed: UNIMPLEMENTED");

	st = tc_request(&c, "/t/None", "application/grpc", NULL, 0, NULL,
	    false);
	pump(&c, conn);
	is_int(st->grpc_status, GRPC_INVALID_ARGUMENT,
	    "zero messages: INVALID_ARGUMENT");
	ok(strstr(st->grpc_message, "no message") != NULL,
	    "zero messages: says so (%s)", st->grpc_message);
	ok(st->closed && st->nheaders == 1 && st->ndata == 0,
	    "zero messages: trailers-only reply");

	frame_msg(partial, "abcdefgh", 8);
	st = tc_request(&c, "/t/Partial", "application/grpc", partial, 9,
	    NULL, false);
	pump(&c, conn);
	is_int(st->grpc_status, GRPC_INVALID_ARGUMENT,
	    "partial message: INVALID_ARGUMENT");

	frame_msg(two, "one", 3);
	frame_msg(two + 8, "two", 3);
	st = tc_request(&c, "/t/Two", "application/grpc", two, 16, NULL,
	    false);
	pump(&c, conn);
	is_int(st->grpc_status, GRPC_INVALID_ARGUMENT,
	    "two messages: INVALID_ARGUMENT");

	st = tc_request(&c, "/t/Json", "application/json",
	    frame_msg(b, "x", 1), 6, NULL, false);
	pump(&c, conn);
	ok(st->http_status == 415 && st->grpc_status == GRPC_INVALID_ARGUMENT,
	    "bad content-type: 415 and INVALID_ARGUMENT");

	st = tc_request(&c, "/t/Plus", "application/grpc+proto",
	    frame_msg(b, "x", 1), 6, NULL, false);
	pump(&c, conn);
	is_int(st->grpc_status, 0, "application/grpc+proto accepted");
	is_int(s.nreq, 1, "bad requests: only the good one delivered");
	is_int(s.nclosed, 1, "bad requests: closed only for it");
	ok(!grpc_conn_done(conn), "bad requests: connection survives");
	grpc_conn_free(conn);
	tc_free(&c);
}

static void
test_garbage(void)
{
	struct tsrv s = { 0 };
	struct grpc_conn *conn = grpc_conn_new(&t_cbs, &s, 0);
	const char *junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	const uint8_t *p;
	size_t n;
	int rounds = 0;

	is_int(grpc_conn_recv(conn, (const uint8_t *)junk, strlen(junk)), -1,
	    "garbage preface: -1");
	is_int(grpc_conn_recv(conn, (const uint8_t *)"x", 1), -1,
	    "garbage preface: stays failed");
	while ((n = grpc_conn_pending(conn, &p)) > 0 && rounds++ < 100)
		grpc_conn_consumed(conn, n);
	ok(grpc_conn_done(conn), "garbage preface: done once output is out");
	grpc_conn_free(conn);

	/* Random bytes after a valid preface. */
	conn = grpc_conn_new(&t_cbs, &s, 0);
	{
		static const char pre[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
		uint8_t rnd[512];
		size_t i;
		unsigned x = 12345;

		for (i = 0; i < sizeof(rnd); i++) {
			x = x * 1103515245 + 12345;
			rnd[i] = (uint8_t)(x >> 16);
		}
		is_int(grpc_conn_recv(conn, (const uint8_t *)pre,
		    sizeof(pre) - 1), 0, "random frames: preface accepted");
		is_int(grpc_conn_recv(conn, rnd, sizeof(rnd)), -1,
		    "random frames: -1");
		rounds = 0;
		while ((n = grpc_conn_pending(conn, &p)) > 0 && rounds++ < 100)
			grpc_conn_consumed(conn, n);
		ok(grpc_conn_done(conn), "random frames: connection ends");
	}
	grpc_conn_free(conn);
	is_int(s.nreq, 0, "garbage: nothing delivered");
}

static void
test_errors(void)
{
	const char *msg = "container \"c1\" not found: 100% sure \xc3\xbc\n";
	struct tsrv s = { .mode = T_ERROR, .code = GRPC_NOT_FOUND, .emsg = msg };
	struct grpc_conn *conn = grpc_conn_new(&t_cbs, &s, 0);
	struct tcli c;
	struct tstream *st;
	uint8_t b[16];
	char *dec;

	tc_init(&c, 4);
	st = tc_request(&c, "/t/Err", "application/grpc", frame_msg(b, "x", 1),
	    6, NULL, false);
	pump(&c, conn);
	is_int(st->grpc_status, GRPC_NOT_FOUND, "error: grpc-status 5");
	is_str(st->grpc_message,
	    "container \"c1\" not found: 100%25 sure %C3%BC%0A",
	    "error: grpc-message percent-encoded");
	dec = grpc_percent_decode(st->grpc_message, strlen(st->grpc_message));
	is_str(dec, msg, "error: decodes back");
	free(dec);
	ok(st->nheaders == 1 && st->ndata == 0 && st->http_status == 200 &&
	    st->closed, "error: trailers-only (one HEADERS, END_STREAM)");
	is_int(s.nclosed, 1, "error: closed fired");

	/* A message, then an error status in the trailers. */
	s.mode = T_SEND_ERROR;
	s.code = GRPC_INTERNAL;
	s.emsg = "boom";
	st = tc_request(&c, "/t/Err2", "application/grpc",
	    frame_msg(b, "y", 1), 6, NULL, false);
	pump(&c, conn);
	ok(st->nheaders == 2 && st->grpc_status == GRPC_INTERNAL &&
	    strcmp(st->grpc_message, "boom") == 0 && gbuf_used(&st->data) == 6,
	    "error after a message: in the trailers");
	grpc_conn_free(conn);
	tc_free(&c);

	dec = grpc_percent_decode("%4", 2);
	is_str(dec, "%4", "decode: truncated escape kept");
	free(dec);
	dec = grpc_percent_decode("a%zzb%41", 8);
	is_str(dec, "a%zzbA", "decode: bad escape kept, good one decoded");
	free(dec);
}

static void
test_reset(void)
{
	struct tsrv s = { .mode = T_NONE };
	struct grpc_conn *conn = grpc_conn_new(&t_cbs, &s, 0);
	struct tcli c;
	struct tstream *st;
	uint8_t b[16];
	uint64_t id;

	tc_init(&c, 4);
	st = tc_request(&c, "/t/Hang", "application/grpc",
	    frame_msg(b, "x", 1), 6, NULL, false);
	pump(&c, conn);
	id = s.ids[0];
	ok(s.nreq == 1 && grpc_call_find(id) == s.last,
	    "reset: call found while open");
	nghttp2_submit_rst_stream(c.ses, NGHTTP2_FLAG_NONE, st->id,
	    NGHTTP2_CANCEL);
	pump(&c, conn);
	is_int(s.nclosed, 1, "reset: closed fired");
	ok(grpc_call_find(id) == NULL, "reset: call_find returns NULL");
	grpc_conn_free(conn);
	is_int(s.nclosed, 1, "reset: closed only once");
	tc_free(&c);
}

static void
test_streaming(void)
{
	struct tsrv s = { .mode = T_NONE };
	struct grpc_conn *conn = grpc_conn_new(&t_cbs, &s, 0);
	struct tcli c;
	struct tstream *st;
	struct grpc_call *call;
	uint8_t b[16], m[4096];
	const uint8_t *p;
	size_t q1, q2, n;
	int i, count, bad = 0;
	long total;
	uint64_t id;

	tc_init(&c, 4);
	st = tc_request(&c, "/types.API/Events", "application/grpc",
	    frame_msg(b, "", 0), 5, NULL, false);
	pump(&c, conn);
	ok(s.nreq == 1 && s.len == 0, "stream: empty request message delivered");
	id = s.ids[0];
	call = grpc_call_find(id);
	memset(m, 'e', sizeof(m));
	for (i = 0; i < 100; i++)
		if (grpc_call_send(call, m, sizeof(m)) < 0)
			bad++;
	is_int(bad, 0, "stream: 100 sends queued");
	/* Produce output but let nobody read it. */
	n = grpc_conn_pending(conn, &p);
	q1 = grpc_call_queued(call);
	ok(n > 0 && q1 > GRPC_LOW_WATER, "stream: queued %zu above the low "
	    "water mark with %zu bytes unread", q1, n);
	for (i = 0; i < 50; i++)
		grpc_call_send(call, m, sizeof(m));
	n = grpc_conn_pending(conn, &p);
	q2 = grpc_call_queued(call);
	ok(q2 > q1, "stream: queued grows (%zu -> %zu) while unread", q1, q2);
	is_int(s.ndrained, 0, "stream: no drained yet");
	ok(pump(&c, conn) == 0, "stream: reader catches up");
	is_int(s.ndrained, 1, "stream: drained fired once");
	is_int(grpc_call_queued(call), 0, "stream: nothing queued");
	ok(grpc_call_finish(call, GRPC_OK, NULL) == 0, "stream: finish");
	ok(grpc_call_send(call, m, 1) < 0, "stream: send after finish fails");
	ok(grpc_call_finish(call, GRPC_OK, NULL) < 0,
	    "stream: finish twice fails");
	pump(&c, conn);
	total = unframe(&st->data, NULL, 0, &count);
	ok(total == 150 * 4096 && count == 150, "stream: all 150 messages "
	    "arrived (%d, %ld bytes)", count, total);
	ok(st->grpc_status == 0 && st->closed, "stream: ended OK");
	ok(s.nclosed == 1 && grpc_call_find(id) == NULL, "stream: closed");
	grpc_conn_free(conn);
	tc_free(&c);
}

/* MAX_STREAMS in lib/grpc.c: calls open at once on one connection. */
#define MANY 100

static void
test_many_calls(void)
{
	struct tsrv s = { .mode = T_NONE };
	struct grpc_conn *conn = grpc_conn_new(&t_cbs, &s, 0);
	struct tcli c;
	static uint8_t b[MANY + 20][8];
	int i, found = 0, sent = 0, done = 0;

	/* 20 past the limit: the client holds them until there is room. */
	tc_init(&c, MANY + 20);
	for (i = 0; i < MANY + 20; i++)
		tc_request(&c, "/t/Many", "application/grpc",
		    frame_msg(b[i], "k", 1), 6, NULL, false);
	pump(&c, conn);
	is_int(s.nreq, MANY, "many: 100 calls delivered, the 20 past the limit wait");
	is_int((int)grpc_conn_active_calls(conn), MANY, "many: 100 calls under way");
	for (i = 0; i < s.nids; i++)
		if (grpc_call_find(s.ids[i]) != NULL &&
		    grpc_call_id(grpc_call_find(s.ids[i])) == s.ids[i])
			found++;
	is_int(found, MANY, "many: each found by id");
	for (i = 0; i < MANY; i += 2)
		if (grpc_call_finish(grpc_call_find(s.ids[i]), GRPC_OK,
		    NULL) == 0)
			sent++;
	pump(&c, conn);
	for (i = 0; i < MANY; i++)
		if ((grpc_call_find(s.ids[i]) == NULL) == (i % 2 == 0))
			done++;
	ok(sent == MANY / 2 && done == MANY && s.nclosed == MANY / 2,
	    "many: finished ones gone, others still there");
	is_int(s.nreq, MANY + 20, "many: the 20 waiting delivered once there was room");
	is_int((int)grpc_conn_active_calls(conn), MANY / 2 + 20, "many: 70 calls under way");
	grpc_conn_free(conn);
	is_int(s.nclosed, MANY + 20, "many: the rest closed on free");
	tc_free(&c);
}

/*
 * Partial messages past the connection's budget (max_msg + 1 MiB) get no
 * more stream window: three 2 MiB messages with max_msg 4 MiB stall at
 * about 5 MiB buffered, none delivered; one reset frees room and the
 * other two complete.
 */
static void
test_window_budget(void)
{
	struct tsrv s = { .mode = T_NONE };
	struct grpc_conn *conn = grpc_conn_new(&t_cbs, &s, 4u << 20);
	struct tcli c;
	size_t len = 2u << 20, budget = (4u << 20) + (1u << 20);
	uint8_t *body = calloc(1, len + 5);
	struct tstream *st[3];

	grpc_prefix_put(body, (uint32_t)len);
	tc_init(&c, 3);
	for (int i = 0; i < 3; i++)
		st[i] = tc_request(&c, "/t/Big", "application/grpc", body, len + 5, NULL, false);
	pump(&c, conn);
	is_int(s.nreq, 0, "budget: no message complete while all three wait");
	ok(conn->in_bytes > budget - (1u << 20) && conn->in_bytes <= budget + 3 * (64u << 10),
	    "budget: %zu bytes buffered, the budget %zu and a window per stream at most",
	    conn->in_bytes, budget);
	nghttp2_submit_rst_stream(c.ses, NGHTTP2_FLAG_NONE, st[0]->id, NGHTTP2_CANCEL);
	pump(&c, conn);
	is_int(s.nreq, 2, "budget: once one is reset, the other two are delivered");
	is_int((int)conn->in_bytes, 0, "budget: nothing buffered after");
	grpc_conn_free(conn);
	tc_free(&c);
	free(body);
}

/* ---- a real server in a child process ---- */

struct later {
	uint64_t id;
	struct later *next;
};

struct child {
	int ndelivered, nclosed;
	struct later *later;
};

struct streamer {
	int left, size, seq;
};

static void
streamer_push(struct grpc_call *call)
{
	struct streamer *sm = grpc_call_data(call);
	uint8_t buf[65536];

	while (sm->left > 0 && grpc_call_queued(call) <= GRPC_LOW_WATER) {
		memset(buf, 's', (size_t)sm->size);
		memcpy(buf, &sm->seq, sizeof(sm->seq));
		sm->seq++;
		sm->left--;
		grpc_call_send(call, buf, (size_t)sm->size);
	}
	if (sm->left == 0)
		grpc_call_finish(call, GRPC_OK, NULL);
}

static void
c_request(void *ctx, struct grpc_call *call, const char *path,
    const uint8_t *msg, size_t len)
{
	struct child *ch = ctx;
	char text[256];
	struct streamer *sm;
	struct later *l;

	ch->ndelivered++;
	snprintf(text, sizeof(text), "%.*s", (int)len, (const char *)msg);
	if (strcmp(path, "/test.Echo/Unary") == 0) {
		grpc_call_send(call, msg, len);
		grpc_call_finish(call, GRPC_OK, NULL);
	} else if (strcmp(path, "/test.Echo/Fail") == 0) {
		grpc_call_finish(call, GRPC_NOT_FOUND, text);
	} else if (strcmp(path, "/test.Echo/Stream") == 0) {
		sm = calloc(1, sizeof(*sm));
		sscanf(text, "%d %d", &sm->left, &sm->size);
		grpc_call_set_data(call, sm);
		streamer_push(call);
	} else if (strcmp(path, "/test.Echo/Later") == 0) {
		l = calloc(1, sizeof(*l));
		l->id = grpc_call_id(call);
		l->next = ch->later;
		ch->later = l;
	} else if (strcmp(path, "/test.Echo/Hang") != 0) {
		grpc_call_finish(call, GRPC_UNIMPLEMENTED, "unknown method");
	}
}

static void
c_closed(void *ctx, struct grpc_call *call)
{
	struct child *ch = ctx;

	ch->nclosed++;
	free(grpc_call_data(call));
}

static void
c_drained(void *ctx, struct grpc_call *call)
{
	if (grpc_call_data(call) != NULL)
		streamer_push(call);
}

static const struct grpc_server_cbs c_cbs = { c_request, c_closed, c_drained };

/* The timer of the fake daemon: answers "Later" calls still open. */
static void
child_tick(struct child *ch)
{
	struct later *l;
	struct grpc_call *call;

	while ((l = ch->later) != NULL) {
		ch->later = l->next;
		if ((call = grpc_call_find(l->id)) != NULL) {
			grpc_call_send(call, (const uint8_t *)"late", 4);
			grpc_call_finish(call, GRPC_OK, NULL);
		}
		free(l);
	}
}

#define MAXC 8

static int
child_serve(int lfd, int ctl)
{
	struct child ch = { 0 };
	struct grpc_conn *conns[MAXC] = { 0 };
	int fds[MAXC], n = 0, i, rv, fd;
	struct pollfd pfd[MAXC + 2];
	const uint8_t *p;
	uint8_t buf[16384];
	ssize_t k;
	size_t len;
	bool quit = false;

	while (!quit) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = ctl;
		pfd[1].events = POLLIN;
		for (i = 0; i < n; i++) {
			pfd[i + 2].fd = fds[i];
			pfd[i + 2].events = POLLIN |
			    (grpc_conn_pending(conns[i], &p) ? POLLOUT : 0);
		}
		rv = poll(pfd, (nfds_t)n + 2, 300);
		if (rv < 0 && errno != EINTR)
			return 2;
		if (rv == 0)
			child_tick(&ch);
		if (pfd[1].revents)
			quit = true;
		/* Backwards, so a removal swaps in one already handled. */
		for (i = n - 1; i >= 0; i--) {
			bool gone = false;

			if (pfd[i + 2].revents & (POLLIN | POLLHUP | POLLERR)) {
				k = read(fds[i], buf, sizeof(buf));
				if (k == 0 || (k < 0 && errno != EAGAIN) ||
				    (k > 0 && grpc_conn_recv(conns[i], buf,
				    (size_t)k) < 0))
					gone = true;
			}
			while (!gone && (len = grpc_conn_pending(conns[i],
			    &p)) > 0) {
				k = write(fds[i], p, len);
				if (k <= 0)
					break;
				grpc_conn_consumed(conns[i], (size_t)k);
			}
			if (gone || grpc_conn_done(conns[i])) {
				grpc_conn_free(conns[i]);
				close(fds[i]);
				conns[i] = conns[n - 1];
				fds[i] = fds[n - 1];
				n--;
			}
		}
		if ((pfd[0].revents & POLLIN) && n < MAXC &&
		    (fd = accept(lfd, NULL, NULL)) >= 0) {
			fcntl(fd, F_SETFL, O_NONBLOCK);
			fds[n] = fd;
			conns[n++] = grpc_conn_new(&c_cbs, &ch, 0);
		}
	}
	for (i = 0; i < n; i++) {
		grpc_conn_free(conns[i]);
		close(fds[i]);
	}
	child_tick(&ch);
	return ch.nclosed == ch.ndelivered ? 0 : 3;
}

static void
test_client(void)
{
	char dir[] = "/tmp/test_grpc.XXXXXX", sock[64], addr[96];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct grpc_client *cl, *cl2;
	struct grpc_stream *gs;
	struct err e = { 0 };
	uint8_t *resp = NULL, *msg;
	size_t rlen = 0, mlen;
	int lfd, ctl[2], status, rv, count = 0, seq_ok = 1, seq;
	pid_t pid;
	static uint8_t big[200000];
	const char *fail = "no such container \"x\": 100% \xc3\xa9\tok";

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(sock, sizeof(sock), "%s/grpc.sock", dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);

	cl = grpc_client_connect(sock, &e);
	ok(cl == NULL && e.code == GRPC_UNAVAILABLE &&
	    strstr(e.msg, "cannot connect to the daemon at") &&
	    strstr(e.msg, "No such file or directory"),
	    "client: no daemon -> UNAVAILABLE (%s)", e.msg);

	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(lfd, 8) < 0 || pipe(ctl) < 0) {
		ok(0, "listen: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(ctl[1]);
		rv = child_serve(lfd, ctl[0]);
		close(lfd);
		close(ctl[0]);
		_exit(rv);
	}
	close(ctl[0]);
	close(lfd);

	snprintf(addr, sizeof(addr), "unix://%s", sock);
	cl = grpc_client_connect(addr, &e);
	ok(cl != NULL && grpc_client_fd(cl) >= 0, "client: connect %s", addr);
	if (cl == NULL)
		goto out;
	rv = grpc_client_unary(cl, "/test.Echo/Unary", (const uint8_t *)"ping",
	    4, &resp, &rlen, 5000, &e);
	ok(rv == 0 && rlen == 4 && memcmp(resp, "ping", 4) == 0,
	    "client: unary round trip");
	free(resp);

	memset(big, 'b', sizeof(big));
	rv = grpc_client_unary(cl, "/test.Echo/Unary", big, sizeof(big),
	    &resp, &rlen, 5000, &e);
	ok(rv == 0 && rlen == sizeof(big) && memcmp(resp, big, rlen) == 0,
	    "client: unary of %zu bytes", sizeof(big));
	free(resp);

	rv = grpc_client_unary(cl, "/test.Echo/Unary", NULL, 0, &resp, &rlen,
	    0, &e);
	ok(rv == 0 && rlen == 0 && resp != NULL, "client: empty message");
	free(resp);

	rv = grpc_client_unary(cl, "/test.Echo/Fail", (const uint8_t *)fail,
	    strlen(fail), &resp, &rlen, 5000, &e);
	ok(rv == -1 && e.code == GRPC_NOT_FOUND && resp == NULL &&
	    strcmp(e.msg, fail) == 0,
	    "client: error status and decoded message (%s)", e.msg);

	rv = grpc_client_unary(cl, "/test.Echo/Nope", (const uint8_t *)"", 0,
	    &resp, &rlen, 5000, &e);
	ok(rv == -1 && e.code == GRPC_UNIMPLEMENTED, "client: UNIMPLEMENTED");

	rv = grpc_client_unary(cl, "/test.Echo/Hang", (const uint8_t *)"h", 1,
	    &resp, &rlen, 200, &e);
	ok(rv == -1 && e.code == GRPC_DEADLINE_EXCEEDED,
	    "client: unary timeout -> DEADLINE_EXCEEDED (%s)", e.msg);

	gs = grpc_client_stream(cl, "/test.Echo/Stream",
	    (const uint8_t *)"3000 1000", 9, &e);
	ok(gs != NULL, "client: stream started");
	while (gs != NULL && (rv = grpc_stream_next(gs, &msg, &mlen, 5000,
	    &e)) == 1) {
		memcpy(&seq, msg, sizeof(seq));
		if (seq != count || mlen != 1000)
			seq_ok = 0;
		count++;
		free(msg);
	}
	ok(rv == 0 && count == 3000 && seq_ok,
	    "client: 3000 streamed messages in order, then OK (%d, %s)", count,
	    rv < 0 ? e.msg : "");
	grpc_stream_free(gs);

	gs = grpc_client_stream(cl, "/test.Echo/Fail", (const uint8_t *)"gone",
	    4, &e);
	rv = gs ? grpc_stream_next(gs, &msg, &mlen, 5000, &e) : 1;
	ok(rv == -1 && e.code == GRPC_NOT_FOUND && strcmp(e.msg, "gone") == 0,
	    "client: stream ending in an error status");
	grpc_stream_free(gs);

	gs = grpc_client_stream(cl, "/test.Echo/Later", (const uint8_t *)"l",
	    1, &e);
	rv = grpc_stream_next(gs, &msg, &mlen, 20, &e);
	ok(rv == -1 && e.code == GRPC_DEADLINE_EXCEEDED,
	    "client: stream_next timeout (%s)", e.msg);
	rv = grpc_stream_next(gs, &msg, &mlen, 0, &e);
	ok(rv == 1 && mlen == 4 && memcmp(msg, "late", 4) == 0,
	    "client: stream still usable after a timeout");
	free(msg);
	rv = grpc_stream_next(gs, &msg, &mlen, 0, &e);
	is_int(rv, 0, "client: then the stream ends OK");
	grpc_stream_free(gs);

	/* Stop reading a stream half way; the server gets the reset. */
	gs = grpc_client_stream(cl, "/test.Echo/Stream",
	    (const uint8_t *)"100000 100", 10, &e);
	rv = grpc_stream_next(gs, &msg, &mlen, 5000, &e);
	ok(rv == 1, "client: abandoned stream started");
	free(msg);
	grpc_stream_free(gs);

	/* A second connection at the same time. */
	cl2 = grpc_client_connect(sock, &e);
	rv = cl2 ? grpc_client_unary(cl2, "/grpc.health.v1.Health/Check",
	    (const uint8_t *)"", 0, &resp, &rlen, 5000, &e) : -1;
	ok(rv == -1 && e.code == GRPC_UNIMPLEMENTED,
	    "client: a second connection works");
	grpc_client_free(cl2);

	rv = grpc_client_unary(cl, "/test.Echo/Unary", (const uint8_t *)"again",
	    5, &resp, &rlen, 5000, &e);
	ok(rv == 0 && rlen == 5, "client: unary after all that");
	free(resp);
	grpc_client_free(cl);

out:
	close(ctl[1]);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "server child: closed fired for every delivered call (status %d)",
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	unlink(sock);
	rmdir(dir);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_unary();
	test_split();
	test_two_in_one_feed();
	test_limits();
	test_bad_requests();
	test_garbage();
	test_errors();
	test_reset();
	test_streaming();
	test_many_calls();
	test_window_budget();
	test_client();
	return done_testing();
}
