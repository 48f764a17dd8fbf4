/*
 * grpc: the server side protocol core. nghttp2 parses and produces the
 * HTTP/2 frames; this file turns streams into calls, splits the gRPC
 * message framing, and queues replies. No I/O: see grpc.h.
 */
#include "grpc.h"

#include <nghttp2/nghttp2.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc_core.h"
#include "grpc_internal.h"
#include "log.h"

/* Stop pulling frames out of nghttp2 while this much output is unwritten:
 * what is left stays queued on its call, where grpc_call_queued sees it. */
#define OUT_HIGH (128u << 10)
#define MAX_PATH_LEN 1024

/* ---- call ids ---- */

static struct {
	struct grpc_call **b;
	size_t nb, n;
} calls_tab;
static uint64_t calls_next_id;


static size_t
tab_slot(uint64_t id, size_t nb)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & (nb - 1);
}

static void
tab_grow(void)
{
	struct grpc_call **b, *call, *next;
	size_t nb, i, s;

	nb = calls_tab.nb ? calls_tab.nb * 2 : 64;
	/* Without memory the chains just get longer. */
	if ((b = calloc(nb, sizeof(*b))) == NULL)
		return;
	for (i = 0; i < calls_tab.nb; i++) {
		for (call = calls_tab.b[i]; call != NULL; call = next) {
			next = call->hnext;
			s = tab_slot(call->id, nb);
			call->hnext = b[s];
			b[s] = call;
		}
	}
	free(calls_tab.b);
	calls_tab.b = b;
	calls_tab.nb = nb;
}

static int
tab_add(struct grpc_call *call)
{
	size_t s;

	if (calls_tab.n >= calls_tab.nb)
		tab_grow();
	if (calls_tab.nb == 0)
		return -1;
	s = tab_slot(call->id, calls_tab.nb);
	call->hnext = calls_tab.b[s];
	calls_tab.b[s] = call;
	calls_tab.n++;
	return 0;
}

static void
tab_remove(struct grpc_call *call)
{
	struct grpc_call **pp;

	if (calls_tab.nb == 0)
		return;
	for (pp = &calls_tab.b[tab_slot(call->id, calls_tab.nb)]; *pp != NULL;
	    pp = &(*pp)->hnext) {
		if (*pp == call) {
			*pp = call->hnext;
			calls_tab.n--;
			break;
		}
	}
	if (calls_tab.n == 0) {
		free(calls_tab.b);
		calls_tab.b = NULL;
		calls_tab.nb = 0;
	}
}

struct grpc_call *
grpc_call_find(uint64_t id)
{
	struct grpc_call *call;

	if (id == 0 || calls_tab.nb == 0)
		return NULL;
	for (call = calls_tab.b[tab_slot(id, calls_tab.nb)]; call != NULL;
	    call = call->hnext)
		if (call->id == id)
			return call;
	return NULL;
}

/* ---- percent encoding ---- */

char *
grpc_percent_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	size_t n = 0;
	char *out, *q;

	for (p = (const unsigned char *)s; *p; p++)
		n += (*p < 0x20 || *p > 0x7E || *p == '%') ? 3 : 1;
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (p = (const unsigned char *)s, q = out; *p; p++) {
		if (*p < 0x20 || *p > 0x7E || *p == '%') {
			*q++ = '%';
			*q++ = hex[*p >> 4];
			*q++ = hex[*p & 15];
		} else {
			*q++ = (char)*p;
		}
	}
	*q = '\0';
	return out;
}

/* ---- calls ---- */

static struct grpc_call *
call_new(struct grpc_conn *c, int32_t stream_id)
{
	struct grpc_call *call;

	if ((call = calloc(1, sizeof(*call))) == NULL)
		return NULL;
	call->id = ++calls_next_id;
	if (call->id == 0)
		call->id = ++calls_next_id;
	call->stream_id = stream_id;
	call->conn = c;
	if (tab_add(call) < 0) {
		free(call);
		return NULL;
	}
	call->next = c->calls;
	if (c->calls != NULL)
		c->calls->prev = call;
	c->calls = call;
	return call;
}

/* The stream is gone: unregister, tell the owner, free. Only from places
 * where nghttp2 no longer needs the call (stream close, session freed). */
static void
call_close(struct grpc_call *call)
{
	struct grpc_conn *c = call->conn;

	call->closed = true;
	tab_remove(call);
	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		c->calls = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
	if (call->state == CALL_DELIVERED)
		c->n_active--;
	if (call->state == CALL_DELIVERED && c->cbs.closed != NULL)
		c->cbs.closed(c->ctx, call);
	grpc_budget_forget(call);
	free(call->path);
	free(call->content_type);
	free(call->message);
	gbuf_free(&call->in);
	grpc_call_in_sync(call);
	gbuf_free(&call->out);
	grpc_call_out_sync(call);
	free(call);
}

uint64_t
grpc_call_id(const struct grpc_call *call)
{
	return call->id;
}

struct grpc_conn *
grpc_call_conn(const struct grpc_call *call)
{
	return call->conn;
}

void
grpc_call_set_data(struct grpc_call *call, void *data)
{
	call->data = data;
}

void *
grpc_call_data(const struct grpc_call *call)
{
	return call->data;
}

size_t
grpc_call_queued(const struct grpc_call *call)
{
	return gbuf_used(&call->out);
}

static bool
call_usable(const struct grpc_call *call)
{
	return call != NULL && !call->closed && !call->finished &&
	    call->conn->ses != NULL && !call->conn->failed;
}

void
grpc_drain_note(struct grpc_conn *c, uint64_t id)
{
	uint64_t *d;
	size_t cap;

	if (c->ndrain == c->drain_cap) {
		cap = c->drain_cap ? c->drain_cap * 2 : 16;
		if ((d = realloc(c->drain, cap * sizeof(*d))) == NULL) {
			log_warnx("grpc: out of memory, drained event lost");
			return;
		}
		c->drain = d;
		c->drain_cap = cap;
	}
	c->drain[c->ndrain++] = id;
}

#define NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), \
	NGHTTP2_NV_FLAG_NONE }

static int
call_submit_trailers(struct grpc_call *call)
{
	const nghttp2_nv nva[] = {
		NV("grpc-status", call->status),
		NV("grpc-message", call->message ? call->message : ""),
	};

	return nghttp2_submit_trailer(call->conn->ses, call->stream_id, nva,
	    call->message ? 2 : 1);
}

static ssize_t
call_read_cb(nghttp2_session *ses, int32_t stream_id, uint8_t *buf,
    size_t length, uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct grpc_call *call = src->ptr;
	size_t n;

	n = gbuf_used(&call->out);
	if (n > length)
		n = length;
	if (n > 0)
		memcpy(buf, gbuf_data(&call->out), n);
	gbuf_consume(&call->out, n);
	grpc_call_out_sync(call);
	if (call->above_low && gbuf_used(&call->out) <= GRPC_LOW_WATER) {
		call->above_low = false;
		grpc_drain_note(call->conn, call->id);
	}
	if (gbuf_used(&call->out) > 0)
		return (ssize_t)n;
	if (call->finished) {
		*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		if (call_submit_trailers(call) != 0)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		return (ssize_t)n;
	}
	if (n == 0) {
		call->deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	return (ssize_t)n;
}

/* The bytes in call->out go out: response headers first, once, or the
 * data provider resumes. */
static int
call_submit(struct grpc_call *call)
{
	nghttp2_data_provider prd;
	const nghttp2_nv hdrs[] = {
		NV(":status", "200"),
		NV("content-type", "application/grpc"),
	};

	if (!call->responded) {
		prd.source.ptr = call;
		prd.read_callback = call_read_cb;
		if (nghttp2_submit_response(call->conn->ses, call->stream_id,
		    hdrs, 2, &prd) != 0)
			return -1;
		call->responded = true;
	} else if (call->deferred) {
		if (nghttp2_session_resume_data(call->conn->ses,
		    call->stream_id) != 0)
			return -1;
		call->deferred = false;
	}
	if (gbuf_used(&call->out) > GRPC_LOW_WATER)
		call->above_low = true;
	return 0;
}

int
grpc_call_send(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	uint8_t pfx[5];
	size_t before;

	if (!call_usable(call) || len > UINT32_MAX)
		return -1;
	grpc_prefix_put(pfx, (uint32_t)len);
	if (gbuf_reserve(&call->out, sizeof(pfx) + len) < 0)
		return -1;
	before = call->out.len;
	gbuf_append(&call->out, pfx, sizeof(pfx));
	gbuf_append(&call->out, msg, len);
	if (call_submit(call) < 0) {
		call->out.len = before;
		grpc_call_out_sync(call);
		return -1;
	}
	grpc_call_out_sync(call);
	return 0;
}

int
grpc_call_send_take(struct grpc_call *call, uint8_t *buf, size_t len)
{
	int rc;

	if (!call_usable(call) || len > UINT32_MAX) {
		free(buf);
		return -1;
	}
	if (gbuf_used(&call->out) > 0) {
		/* Behind what is queued: copied after all. */
		rc = grpc_call_send(call, buf + GRPC_PREFIX_LEN, len);
		free(buf);
		return rc;
	}
	grpc_prefix_put(buf, (uint32_t)len);
	gbuf_free(&call->out);
	call->out.p = buf;
	call->out.len = call->out.cap = GRPC_PREFIX_LEN + len;
	call->out.off = 0;
	if (call_submit(call) < 0) {
		call->out.len = 0; /* buf stays the call's, freed with it */
		grpc_call_out_sync(call);
		return -1;
	}
	grpc_call_out_sync(call);
	return 0;
}

/* The reply is complete in a single HEADERS frame (no message was sent). */
static int
call_trailers_only(struct grpc_call *call, const char *http_status)
{
	nghttp2_nv nva[] = {
		NV(":status", http_status),
		NV("content-type", "application/grpc"),
		NV("grpc-status", call->status),
		NV("grpc-message", call->message ? call->message : ""),
	};

	if (nghttp2_submit_response(call->conn->ses, call->stream_id, nva,
	    call->message ? 4 : 3, NULL) != 0)
		return -1;
	call->responded = true;
	/* The client may still be sending: tell it to stop once the reply
	 * is out (RFC 9113 8.1), see conn_frame_send_cb. */
	if (!call->remote_closed)
		call->reset_after = true;
	return 0;
}

static int
call_finish(struct grpc_call *call, int code, const char *message,
    const char *http_status)
{
	char *enc = NULL;

	if (!call_usable(call))
		return -1;
	if (code != GRPC_OK && message != NULL && *message != '\0' &&
	    (enc = grpc_percent_encode(message)) == NULL)
		return -1;
	snprintf(call->status, sizeof(call->status), "%d", code);
	free(call->message);
	call->message = enc;
	if (!call->responded) {
		if (call_trailers_only(call, http_status) < 0)
			return -1;
	} else if (call->deferred) {
		if (nghttp2_session_resume_data(call->conn->ses,
		    call->stream_id) != 0)
			return -1;
		call->deferred = false;
	}
	call->finished = true;
	return 0;
}

int
grpc_call_finish(struct grpc_call *call, int code, const char *message)
{
	return call_finish(call, code, message, "200");
}

/* ---- requests ---- */

static void
call_reject_http(struct grpc_call *call, int code, const char *http_status,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Answers a request this file refuses; the owner never sees the call. */
static void
call_reject_http(struct grpc_call *call, int code, const char *http_status,
    const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (call->state != CALL_RECV)
		return;
	call->state = CALL_REJECTED;
	gbuf_free(&call->in);
	grpc_call_in_sync(call);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_debug("grpc: call %llu %s: %s: %s", (unsigned long long)call->id,
	    call->path ? call->path : "?", grpc_code_name(code), msg);
	if (call_finish(call, code, msg, http_status) < 0)
		nghttp2_submit_rst_stream(call->conn->ses, NGHTTP2_FLAG_NONE,
		    call->stream_id, NGHTTP2_INTERNAL_ERROR);
}

#define call_reject(call, code, ...) \
	call_reject_http(call, code, "200", __VA_ARGS__)

static void
call_feed(struct grpc_call *call, const uint8_t *data, size_t len)
{
	size_t n;
	size_t max = call->conn->max_msg;

	while (len > 0 && call->state == CALL_RECV) {
		if (call->msg_done) {
			call_reject(call, GRPC_INVALID_ARGUMENT,
			    "more than one request message on %s",
			    call->path ? call->path : "a call");
			return;
		}
		if (call->pfx_len < sizeof(call->pfx)) {
			n = sizeof(call->pfx) - call->pfx_len;
			if (n > len)
				n = len;
			memcpy(call->pfx + call->pfx_len, data, n);
			call->pfx_len += n;
			data += n;
			len -= n;
			if (call->pfx_len < sizeof(call->pfx))
				return;
			call->msg_len = grpc_prefix_len(call->pfx);
			if (call->pfx[0] == 1) {
				call_reject(call, GRPC_UNIMPLEMENTED,
				    "compressed messages are not supported");
				return;
			}
			if (call->pfx[0] != 0) {
				call_reject(call, GRPC_INVALID_ARGUMENT,
				    "bad compressed flag %u in message prefix",
				    call->pfx[0]);
				return;
			}
			if (call->msg_len > max) {
				call_reject(call, GRPC_RESOURCE_EXHAUSTED,
				    "message of %lu bytes exceeds the limit of "
				    "%zu", (unsigned long)call->msg_len, max);
				return;
			}
			if (call->msg_len == 0)
				call->msg_done = true;
			continue;
		}
		/* Grow with the data, not with the declared length. */
		n = call->msg_len - gbuf_used(&call->in);
		if (n > len)
			n = len;
		if (gbuf_append(&call->in, data, n) < 0) {
			call_reject(call, GRPC_RESOURCE_EXHAUSTED,
			    "out of memory reading a message of %lu bytes",
			    (unsigned long)call->msg_len);
			return;
		}
		data += n;
		len -= n;
		if (gbuf_used(&call->in) == call->msg_len)
			call->msg_done = true;
	}
}

/* The client half-closed: deliver the one message, or refuse. */
static void
call_end_request(struct grpc_call *call)
{
	struct grpc_conn *c = call->conn;
	static const uint8_t empty[1];

	call->remote_closed = true;
	if (call->state != CALL_RECV)
		return;
	if (call->path == NULL) {
		call_reject(call, GRPC_INVALID_ARGUMENT, "request without :path");
		return;
	}
	if (!call->msg_done) {
		if (call->pfx_len == 0)
			call_reject(call, GRPC_INVALID_ARGUMENT,
			    "request to %s has no message", call->path);
		else
			call_reject(call, GRPC_INVALID_ARGUMENT,
			    "request to %s ends inside a message (%zu of %lu "
			    "bytes)", call->path, call->pfx_len < 5 ?
			    call->pfx_len : gbuf_used(&call->in) + 5,
			    (unsigned long)call->msg_len + 5);
		return;
	}
	call->state = CALL_DELIVERED;
	c->n_active++;
	c->cbs.request(c->ctx, call, call->path,
	    call->in.p ? gbuf_data(&call->in) : empty, gbuf_used(&call->in));
	gbuf_free(&call->in);
	grpc_call_in_sync(call);
}

static bool
content_type_ok(const char *ct)
{
	static const char want[] = "application/grpc";
	size_t n = sizeof(want) - 1;

	return ct != NULL && strncmp(ct, want, n) == 0 &&
	    (ct[n] == '\0' || ct[n] == '+' || ct[n] == ';');
}

/* ---- nghttp2 callbacks ---- */

static struct grpc_call *
stream_call(nghttp2_session *ses, int32_t stream_id)
{
	return nghttp2_session_get_stream_user_data(ses, stream_id);
}

static int
conn_begin_headers_cb(nghttp2_session *ses, const nghttp2_frame *frame,
    void *user)
{
	struct grpc_conn *c = user;
	struct grpc_call *call;

	if (frame->hd.type != NGHTTP2_HEADERS ||
	    frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if ((call = call_new(c, frame->hd.stream_id)) == NULL) {
		log_warnx("grpc: out of memory for a new call");
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	if (nghttp2_session_set_stream_user_data(ses, frame->hd.stream_id,
	    call) != 0) {
		call_close(call);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return 0;
}

static char *
copy_value(const uint8_t *v, size_t len)
{
	char *s;

	if ((s = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(s, v, len);
	s[len] = '\0';
	return s;
}

/* A header field as RFC 9113 8.2.1 allows it: a lower-case token name
 * (a pseudo-header's after its ':') and a value of visible characters
 * and inner blanks. */
static bool
header_ok(const uint8_t *name, size_t namelen, const uint8_t *value,
    size_t valuelen)
{
	if (namelen > 0 && name[0] == ':') {
		name++;
		namelen--;
	}
	return namelen > 0 && nghttp2_check_header_name(name, namelen) &&
	    nghttp2_check_header_value(value, valuelen);
}

static int
conn_header_cb(nghttp2_session *ses, const nghttp2_frame *frame,
    const uint8_t *name, size_t namelen, const uint8_t *value, size_t valuelen,
    uint8_t flags, void *user)
{
	struct grpc_call *call;
	char **dst = NULL;

	if (frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	/* nghttp2's HTTP messaging checks are off (grpc_conn_new): the
	 * field syntax is checked here by nghttp2's own rules, so NUL, CR,
	 * LF or an upper-case name still reset the stream. */
	if (!header_ok(name, namelen, value, valuelen)) {
		nghttp2_submit_rst_stream(ses, NGHTTP2_FLAG_NONE,
		    frame->hd.stream_id, NGHTTP2_PROTOCOL_ERROR);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	if (frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if ((call = stream_call(ses, frame->hd.stream_id)) == NULL)
		return 0;
	if (namelen == 5 && memcmp(name, ":path", 5) == 0)
		dst = &call->path;
	else if (namelen == 12 && memcmp(name, "content-type", 12) == 0)
		dst = &call->content_type;
	if (dst == NULL || *dst != NULL)
		return 0;
	if (valuelen > MAX_PATH_LEN)
		valuelen = MAX_PATH_LEN;
	if ((*dst = copy_value(value, valuelen)) == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return 0;
}

static int
conn_frame_recv_cb(nghttp2_session *ses, const nghttp2_frame *frame,
    void *user)
{
	struct grpc_call *call;

	if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
		return 0;
	if ((call = stream_call(ses, frame->hd.stream_id)) == NULL)
		return 0;
	if (frame->hd.type == NGHTTP2_HEADERS &&
	    frame->headers.cat == NGHTTP2_HCAT_REQUEST &&
	    !content_type_ok(call->content_type)) {
		if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
			call->remote_closed = true;
		call_reject_http(call, GRPC_INVALID_ARGUMENT, "415",
		    "content-type \"%s\" is not application/grpc",
		    call->content_type ? call->content_type : "");
		return 0;
	}
	if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
		call_end_request(call);
	return 0;
}

static int
conn_data_chunk_cb(nghttp2_session *ses, uint8_t flags, int32_t stream_id,
    const uint8_t *data, size_t len, void *user)
{
	struct grpc_call *call = stream_call(ses, stream_id);

	if (call != NULL) {
		call_feed(call, data, len);
		grpc_call_in_sync(call);
	}
	grpc_budget_window(ses, stream_id, call, len);
	return 0;
}

static int
conn_frame_send_cb(nghttp2_session *ses, const nghttp2_frame *frame,
    void *user)
{
	struct grpc_call *call;

	if (frame->hd.type != NGHTTP2_HEADERS ||
	    !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	call = stream_call(ses, frame->hd.stream_id);
	if (call != NULL && call->reset_after && !call->remote_closed) {
		call->reset_after = false;
		nghttp2_submit_rst_stream(ses, NGHTTP2_FLAG_NONE,
		    frame->hd.stream_id, NGHTTP2_NO_ERROR);
	}
	return 0;
}

static int
conn_stream_close_cb(nghttp2_session *ses, int32_t stream_id,
    uint32_t error_code, void *user)
{
	struct grpc_call *call;

	if ((call = stream_call(ses, stream_id)) == NULL)
		return 0;
	if (error_code != NGHTTP2_NO_ERROR)
		log_debug("grpc: call %llu %s reset (%s)",
		    (unsigned long long)call->id, call->path ? call->path : "?",
		    nghttp2_http2_strerror(error_code));
	call_close(call);
	return 0;
}

/* ---- connections ---- */

static void conn_fill(struct grpc_conn *c);

struct grpc_conn *
grpc_conn_new(const struct grpc_server_cbs *cbs, void *ctx, size_t max_msg)
{
	struct grpc_conn *c;
	nghttp2_session_callbacks *cb;
	nghttp2_option *opt;
	int rv;
	const nghttp2_settings_entry settings[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW },
	};

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->cbs = *cbs;
	c->ctx = ctx;
	c->max_msg = max_msg ? max_msg : GRPC_MAX_MESSAGE;
	if (nghttp2_session_callbacks_new(&cb) != 0) {
		free(c);
		return NULL;
	}
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb,
	    conn_begin_headers_cb);
	nghttp2_session_callbacks_set_on_header_callback(cb, conn_header_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb,
	    conn_frame_recv_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb,
	    conn_data_chunk_cb);
	nghttp2_session_callbacks_set_on_frame_send_callback(cb,
	    conn_frame_send_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb,
	    conn_stream_close_cb);
	/* nghttp2 keeps closed streams for the RFC 7540 priority tree, up
	 * to MAX_STREAMS per connection (10 calls on each of 100 connections
	 * kept 270 kB): no client of ours sends priorities, so a stream is
	 * freed once it closes. */
	if ((rv = nghttp2_option_new(&opt)) == 0) {
		nghttp2_option_set_no_closed_streams(opt, 1);
		nghttp2_option_set_no_auto_window_update(opt, 1);
		/* nghttp2 resets a request whose :authority is not a host
		 * name (RFC 3986), but grpc-go (dockerd's libcontainerd) sends
		 * the socket's absolute path there, and other clients send
		 * :scheme "unix": on a unix socket the peer's credentials are
		 * the access check, not the authority. The field syntax is
		 * checked in conn_header_cb instead. */
		nghttp2_option_set_no_http_messaging(opt, 1);
		rv = nghttp2_session_server_new2(&c->ses, cb, c, opt);
		nghttp2_option_del(opt);
	}
	nghttp2_session_callbacks_del(cb);
	if (rv != 0) {
		free(c);
		return NULL;
	}
	if (nghttp2_submit_settings(c->ses, NGHTTP2_FLAG_NONE, settings, 2) != 0 ||
	    nghttp2_session_set_local_window_size(c->ses, NGHTTP2_FLAG_NONE, 0,
	    CONN_WINDOW) != 0) {
		nghttp2_session_del(c->ses);
		free(c);
		return NULL;
	}
	return c;
}

void
grpc_conn_free(struct grpc_conn *c)
{
	struct grpc_call *call;

	if (c == NULL)
		return;
	/* No nghttp2 callback runs from here on, and the owner's `closed`
	 * callbacks cannot reach the session through a call any more. */
	nghttp2_session_del(c->ses);
	c->ses = NULL;
	for (call = c->calls; call != NULL; call = call->next)
		call->closed = true;
	while (c->calls != NULL)
		call_close(c->calls);
	gbuf_free(&c->out);
	free(c->drain);
	free(c);
}

int
grpc_conn_recv(struct grpc_conn *c, const uint8_t *data, size_t len)
{
	ssize_t rv;

	if (c->failed)
		return -1;
	if (c->busy) {
		log_warnx("grpc: grpc_conn_recv called from a callback");
		return -1;
	}
	c->busy = true;
	rv = nghttp2_session_mem_recv(c->ses, data, len);
	c->busy = false;
	if (rv < 0) {
		log_debug("grpc: connection error: %s",
		    nghttp2_strerror((int)rv));
		c->failed = true;
		/* A GOAWAY tells the peer why, if nghttp2 can still say it. */
		if (rv != NGHTTP2_ERR_NOMEM && rv != NGHTTP2_ERR_CALLBACK_FAILURE)
			nghttp2_session_terminate_session(c->ses,
			    rv == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM :
			    NGHTTP2_PROTOCOL_ERROR);
		return -1;
	}
	/* nghttp2 reads no more: it hit a connection error or the client
	 * said goodbye with no call left. A fatal GOAWAY only shows in
	 * want_read once it went out, so produce the output now. */
	conn_fill(c);
	if (!nghttp2_session_want_read(c->ses)) {
		c->failed = true;
		return -1;
	}
	return 0;
}

/* Pulls frames out of nghttp2 into c->out, then runs pending `drained`. */
static void
conn_fill(struct grpc_conn *c)
{
	const uint8_t *p;
	ssize_t n;
	size_t i, nd;
	struct grpc_call *call;

	if (c->busy)
		return;
	c->busy = true;
	for (;;) {
		while (!c->dead && gbuf_used(&c->out) < OUT_HIGH) {
			n = nghttp2_session_mem_send(c->ses, &p);
			if (n < 0) {
				log_warnx("grpc: cannot produce output: %s",
				    nghttp2_strerror((int)n));
				c->failed = c->dead = true;
				break;
			}
			if (n == 0)
				break;
			if (gbuf_append(&c->out, p, (size_t)n) < 0) {
				log_warnx("grpc: out of memory for output");
				c->failed = c->dead = true;
				break;
			}
		}
		if (c->ndrain == 0 || c->cbs.drained == NULL) {
			c->ndrain = 0;
			break;
		}
		/* The callback may queue more and so note more drains. */
		nd = c->ndrain;
		for (i = 0; i < nd; i++) {
			call = grpc_call_find(c->drain[i]);
			if (call != NULL && call->conn == c &&
			    call->state == CALL_DELIVERED && !call->above_low)
				c->cbs.drained(c->ctx, call);
		}
		memmove(c->drain, c->drain + nd, (c->ndrain - nd) *
		    sizeof(*c->drain));
		c->ndrain -= nd;
	}
	c->busy = false;
}

size_t
grpc_conn_pending(struct grpc_conn *c, const uint8_t **data)
{
	if (c->ses != NULL)
		conn_fill(c);
	*data = gbuf_data(&c->out);
	return gbuf_used(&c->out);
}

void
grpc_conn_consumed(struct grpc_conn *c, size_t n)
{
	gbuf_consume(&c->out, n);
	/* A big reply grows the buffer to OUT_HIGH and more (256 kB): give
	 * that back once written rather than keep it for the connection's
	 * life; the usual replies fit in a few kB. */
	if (gbuf_used(&c->out) == 0 && c->out.cap > (16u << 10))
		gbuf_free(&c->out);
}

size_t
grpc_conn_active_calls(const struct grpc_conn *c)
{
	return c->n_active;
}

void
grpc_conn_shutdown(struct grpc_conn *c)
{
	if (c->failed || c->ses == NULL)
		return;
	c->failed = true;
	nghttp2_session_terminate_session(c->ses, NGHTTP2_NO_ERROR);
}

bool
grpc_conn_done(struct grpc_conn *c)
{
	if (gbuf_used(&c->out) > 0)
		return false;
	if (c->dead)
		return true;
	if (c->failed)
		return !nghttp2_session_want_write(c->ses);
	return !nghttp2_session_want_read(c->ses) &&
	    !nghttp2_session_want_write(c->ses);
}
