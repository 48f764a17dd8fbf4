/*
 * grpc_client: a blocking gRPC client over a unix socket, for ctr, tools
 * and tests. One nghttp2 client session per connection; the socket is
 * non-blocking and every wait goes through poll() so timeouts hold.
 */
#include "grpc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "grpc_internal.h"

#define CLIENT_WINDOW (1u << 20)
/* A reply this large is garbage, not a message. */
#define CLIENT_MAX_MESSAGE (256u << 20)

struct grpc_client {
	int fd;
	nghttp2_session *ses;
	char *path;
	struct gbuf out;
	struct grpc_stream *streams;
	bool broken;		/* transport failed: every call fails */
	struct err broken_err;
};

struct grpc_stream {
	struct grpc_client *cl;	/* NULL once the client was freed */
	struct grpc_stream *next;
	int32_t id;
	uint8_t *req;		/* prefixed request, until sent */
	size_t req_len, req_off;
	struct gbuf in;		/* DATA not yet split into messages */
	bool closed;
	uint32_t reset_code;
	int http_status;
	bool has_status;
	int status;
	char *message;
};

/* ---- percent decoding ---- */

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

char *
grpc_percent_decode(const char *s, size_t len)
{
	char *out, *q;
	size_t i;
	int hi, lo;

	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0, q = out; i < len; i++) {
		if (s[i] == '%' && i + 2 < len &&
		    (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			*q++ = (char)(hi << 4 | lo);
			i += 2;
		} else {
			*q++ = s[i];
		}
	}
	*q = '\0';
	return out;
}

/* ---- time ---- */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
deadline_in(int timeout_ms)
{
	return timeout_ms > 0 ? now_ms() + timeout_ms : -1;
}

static int
poll_timeout(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	return left < 0 ? 0 : (int)left;
}

/* ---- transport ---- */

/* Why the connection is unusable. */
static int
client_broken_err(struct grpc_client *cl, struct err *e)
{
	if (e != NULL)
		*e = cl->broken_err;
	return -1;
}

static int
client_break(struct grpc_client *cl, struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The connection is unusable from now on; every later call says why. */
static int
client_break(struct grpc_client *cl, struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (!cl->broken) {
		cl->broken = true;
		cl->broken_err.code = GRPC_UNAVAILABLE;
		va_start(ap, fmt);
		vsnprintf(cl->broken_err.msg, sizeof(cl->broken_err.msg), fmt,
		    ap);
		va_end(ap);
	}
	if (e != NULL)
		*e = cl->broken_err;
	return -1;
}

static int
client_fill(struct grpc_client *cl, struct err *e)
{
	const uint8_t *p;
	ssize_t n;

	for (;;) {
		n = nghttp2_session_mem_send(cl->ses, &p);
		if (n < 0)
			return client_break(cl, e, "HTTP/2 error: %s",
			    nghttp2_strerror((int)n));
		if (n == 0)
			return 0;
		if (gbuf_append(&cl->out, p, (size_t)n) < 0)
			return client_break(cl, e, "out of memory");
	}
}

static int
client_read(struct grpc_client *cl, struct err *e)
{
	uint8_t buf[65536];
	ssize_t n, rv;

	n = read(cl->fd, buf, sizeof(buf));
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		return client_break(cl, e, "reading from the daemon at %s: %s",
		    cl->path, strerror(errno));
	}
	if (n == 0)
		return client_break(cl, e, "the daemon at %s closed the "
		    "connection", cl->path);
	rv = nghttp2_session_mem_recv(cl->ses, buf, (size_t)n);
	if (rv < 0)
		return client_break(cl, e, "bad HTTP/2 from the daemon at %s: %s",
		    cl->path, nghttp2_strerror((int)rv));
	return client_fill(cl, e);
}

/* Writes what the socket takes now, without waiting. */
static int
client_send(struct grpc_client *cl, struct err *e)
{
	ssize_t n;

	if (gbuf_used(&cl->out) == 0)
		return 0;
	n = send(cl->fd, gbuf_data(&cl->out), gbuf_used(&cl->out),
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return client_break(cl, e, "writing to the daemon at %s: %s",
		    cl->path, strerror(errno));
	if (n > 0)
		gbuf_consume(&cl->out, (size_t)n);
	return 0;
}

/*
 * One round: writes what it can of the pending output and reads what has
 * arrived (a peer blocked on writing to us must be able to go on). Waits
 * until the socket is ready or the deadline passed (-1 and
 * DEADLINE_EXCEEDED, the connection still sound). The output is tried
 * before the wait: a request nearly always fits the socket at once, and
 * then no poll is spent on writing (one system call less per request).
 */
static int
client_step(struct grpc_client *cl, int64_t deadline, struct err *e)
{
	struct pollfd pfd;
	int rv;

	if (cl->broken)
		return client_broken_err(cl, e);
	if (client_fill(cl, e) < 0 || client_send(cl, e) < 0)
		return -1;
	pfd.fd = cl->fd;
	pfd.events = POLLIN | (gbuf_used(&cl->out) > 0 ? POLLOUT : 0);
	pfd.revents = 0;
	rv = poll(&pfd, 1, poll_timeout(deadline));
	if (rv < 0) {
		if (errno == EINTR)
			return 0;
		return client_break(cl, e, "poll: %s", strerror(errno));
	}
	if (rv == 0)
		return err_set(e, GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
	if ((pfd.revents & POLLOUT) && client_send(cl, e) < 0)
		return -1;
	if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
		return client_read(cl, e);
	return 0;
}

/* Writes all pending output. */
static int
client_flush(struct grpc_client *cl, int64_t deadline, struct err *e)
{
	for (;;) {
		if (cl->broken)
			return client_broken_err(cl, e);
		if (client_fill(cl, e) < 0 || client_send(cl, e) < 0)
			return -1;
		if (gbuf_used(&cl->out) == 0)
			return 0;
		if (client_step(cl, deadline, e) < 0)
			return -1;
	}
}

/* ---- nghttp2 callbacks ---- */

static struct grpc_stream *
client_stream(nghttp2_session *ses, int32_t id)
{
	return nghttp2_session_get_stream_user_data(ses, id);
}

static int
client_header_cb(nghttp2_session *ses, const nghttp2_frame *frame,
    const uint8_t *name, size_t namelen, const uint8_t *value, size_t valuelen,
    uint8_t flags, void *user)
{
	struct grpc_stream *st;
	char num[16];

	if (frame->hd.type != NGHTTP2_HEADERS ||
	    (st = client_stream(ses, frame->hd.stream_id)) == NULL)
		return 0;
	if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
		snprintf(num, sizeof(num), "%.*s", (int)valuelen, value);
		st->http_status = atoi(num);
	} else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0) {
		snprintf(num, sizeof(num), "%.*s", (int)valuelen, value);
		st->status = atoi(num);
		st->has_status = true;
	} else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0) {
		free(st->message);
		if ((st->message = grpc_percent_decode((const char *)value,
		    valuelen)) == NULL)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	return 0;
}

static int
client_data_chunk_cb(nghttp2_session *ses, uint8_t flags, int32_t id,
    const uint8_t *data, size_t len, void *user)
{
	struct grpc_stream *st;

	if ((st = client_stream(ses, id)) == NULL)
		return 0;
	if (gbuf_append(&st->in, data, len) < 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static int
client_stream_close_cb(nghttp2_session *ses, int32_t id, uint32_t code,
    void *user)
{
	struct grpc_stream *st;

	if ((st = client_stream(ses, id)) == NULL)
		return 0;
	st->closed = true;
	st->reset_code = code;
	return 0;
}

static ssize_t
client_read_cb(nghttp2_session *ses, int32_t id, uint8_t *buf, size_t length,
    uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct grpc_stream *st = client_stream(ses, id);
	size_t n;

	/* Looked up, not taken from src: a freed stream has no user data. */
	if (st == NULL || st->req == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	n = st->req_len - st->req_off;
	if (n > length)
		n = length;
	memcpy(buf, st->req + st->req_off, n);
	st->req_off += n;
	if (st->req_off == st->req_len) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		free(st->req);
		st->req = NULL;
	}
	return (ssize_t)n;
}

/* ---- connection ---- */

struct grpc_client *
grpc_client_connect(const char *address, struct err *e)
{
	struct grpc_client *cl;
	struct sockaddr_un sun;
	nghttp2_session_callbacks *cb;
	const char *path = address;
	int fd, rv;
	const nghttp2_settings_entry settings[] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, CLIENT_WINDOW },
	};

	if (strncmp(path, "unix://", 7) == 0)
		path += 7;
	else if (strncmp(path, "unix:", 5) == 0)
		path += 5;
	if (*path == '\0') {
		err_set(e, GRPC_INVALID_ARGUMENT, "empty daemon address \"%s\"",
		    address);
		return NULL;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		err_set(e, GRPC_INVALID_ARGUMENT, "socket path %s is longer "
		    "than %zu bytes", path, sizeof(sun.sun_path) - 1);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		err_set(e, GRPC_UNAVAILABLE, "socket: %s", strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		err_set(e, GRPC_UNAVAILABLE, "cannot connect to the daemon at "
		    "%s: %s (is containerd running?)", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    (cl = calloc(1, sizeof(*cl))) == NULL) {
		err_set(e, GRPC_INTERNAL, "setting up the connection: %s",
		    strerror(errno));
		close(fd);
		return NULL;
	}
	cl->fd = fd;
	if ((cl->path = strdup(path)) == NULL ||
	    nghttp2_session_callbacks_new(&cb) != 0) {
		err_set(e, GRPC_INTERNAL, "out of memory");
		grpc_client_free(cl);
		return NULL;
	}
	nghttp2_session_callbacks_set_on_header_callback(cb, client_header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb,
	    client_data_chunk_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb,
	    client_stream_close_cb);
	rv = nghttp2_session_client_new(&cl->ses, cb, cl);
	nghttp2_session_callbacks_del(cb);
	if (rv != 0 || nghttp2_submit_settings(cl->ses, NGHTTP2_FLAG_NONE,
	    settings, 2) != 0 || nghttp2_session_set_local_window_size(cl->ses,
	    NGHTTP2_FLAG_NONE, 0, CLIENT_WINDOW) != 0) {
		err_set(e, GRPC_INTERNAL, "cannot start an HTTP/2 session");
		grpc_client_free(cl);
		return NULL;
	}
	return cl;
}

void
grpc_client_free(struct grpc_client *cl)
{
	struct grpc_stream *st;

	if (cl == NULL)
		return;
	for (st = cl->streams; st != NULL; st = st->next)
		st->cl = NULL;
	if (cl->ses != NULL)
		nghttp2_session_del(cl->ses);
	if (cl->fd >= 0)
		close(cl->fd);
	gbuf_free(&cl->out);
	free(cl->path);
	free(cl);
}

int
grpc_client_fd(const struct grpc_client *cl)
{
	return cl->fd;
}

/* ---- calls ---- */

static void
stream_unlink(struct grpc_stream *st)
{
	struct grpc_stream **pp;

	if (st->cl == NULL)
		return;
	for (pp = &st->cl->streams; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == st) {
			*pp = st->next;
			break;
		}
	}
}

static struct grpc_stream *
stream_start(struct grpc_client *cl, const char *path, const uint8_t *req,
    size_t req_len, int timeout_ms, int64_t deadline, struct err *e)
{
	struct grpc_stream *st;
	nghttp2_data_provider prd;
	char tmo[24];
	nghttp2_nv nva[] = {
		{ (uint8_t *)":method", (uint8_t *)"POST", 7, 4, 0 },
		{ (uint8_t *)":scheme", (uint8_t *)"http", 7, 4, 0 },
		{ (uint8_t *)":path", (uint8_t *)path, 5, strlen(path), 0 },
		{ (uint8_t *)":authority", (uint8_t *)"localhost", 10, 9, 0 },
		{ (uint8_t *)"content-type", (uint8_t *)"application/grpc", 12,
		    16, 0 },
		{ (uint8_t *)"te", (uint8_t *)"trailers", 2, 8, 0 },
		{ (uint8_t *)"grpc-timeout", (uint8_t *)tmo, 12, 0, 0 },
	};
	size_t nnv = 6;

	if (cl->broken) {
		client_broken_err(cl, e);
		return NULL;
	}
	if (req_len > UINT32_MAX) {
		err_set(e, GRPC_INVALID_ARGUMENT, "request of %zu bytes is too "
		    "large", req_len);
		return NULL;
	}
	if (timeout_ms > 0) {
		/* At most 8 digits, says the gRPC spec. */
		if (timeout_ms <= 99999999)
			nva[6].valuelen = (size_t)snprintf(tmo, sizeof(tmo),
			    "%dm", timeout_ms);
		else
			nva[6].valuelen = (size_t)snprintf(tmo, sizeof(tmo),
			    "%dS", timeout_ms / 1000);
		nnv = 7;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->req = malloc(req_len + 5)) == NULL) {
		free(st);
		err_set(e, GRPC_INTERNAL, "out of memory");
		return NULL;
	}
	grpc_prefix_put(st->req, (uint32_t)req_len);
	if (req_len > 0)
		memcpy(st->req + 5, req, req_len);
	st->req_len = req_len + 5;
	st->cl = cl;
	prd.source.ptr = st;
	prd.read_callback = client_read_cb;
	st->id = nghttp2_submit_request(cl->ses, NULL, nva, nnv, &prd, st);
	if (st->id < 0) {
		err_set(e, GRPC_INTERNAL, "cannot start a call to %s: %s",
		    path, nghttp2_strerror(st->id));
		free(st->req);
		free(st);
		return NULL;
	}
	st->next = cl->streams;
	cl->streams = st;
	if (client_flush(cl, deadline, e) < 0) {
		grpc_stream_free(st);
		return NULL;
	}
	return st;
}

struct grpc_stream *
grpc_client_stream(struct grpc_client *cl, const char *path,
    const uint8_t *req, size_t req_len, struct err *e)
{
	return stream_start(cl, path, req, req_len, 0, -1, e);
}

static int
http_to_grpc(int http_status)
{
	switch (http_status) {
	case 400:
		return GRPC_INTERNAL;
	case 401:
		return 16;	/* UNAUTHENTICATED */
	case 403:
		return GRPC_PERMISSION_DENIED;
	case 404:
		return GRPC_UNIMPLEMENTED;
	case 429:
	case 502:
	case 503:
	case 504:
		return GRPC_UNAVAILABLE;
	default:
		return GRPC_UNKNOWN;
	}
}

/* The stream closed and every message was taken: its outcome. */
static int
stream_outcome(struct grpc_stream *st, struct err *e)
{
	if (st->has_status) {
		if (st->status == GRPC_OK) {
			if (gbuf_used(&st->in) > 0)
				return err_set(e, GRPC_INTERNAL, "the reply "
				    "ends inside a message (%zu bytes left)",
				    gbuf_used(&st->in));
			return 0;
		}
		return err_set(e, st->status, "%s",
		    st->message ? st->message : grpc_code_name(st->status));
	}
	if (st->http_status != 0 && st->http_status != 200)
		return err_set(e, http_to_grpc(st->http_status),
		    "the daemon answered HTTP status %d", st->http_status);
	if (st->reset_code == NGHTTP2_CANCEL)
		return err_set(e, GRPC_CANCELLED, "the daemon cancelled the "
		    "call");
	if (st->reset_code == NGHTTP2_REFUSED_STREAM)
		return err_set(e, GRPC_UNAVAILABLE, "the daemon refused the "
		    "call");
	if (st->reset_code != NGHTTP2_NO_ERROR)
		return err_set(e, GRPC_INTERNAL, "the daemon reset the call: %s",
		    nghttp2_http2_strerror(st->reset_code));
	return err_set(e, GRPC_INTERNAL, "the call ended without a status");
}

/* 1 and a message when a whole one is buffered, 0 when not, -1 on bad
 * framing. */
static int
stream_take(struct grpc_stream *st, uint8_t **msg, size_t *len,
    struct err *e)
{
	const uint8_t *p = gbuf_data(&st->in);
	uint32_t n;

	if (gbuf_used(&st->in) < 5)
		return 0;
	if (p[0] != 0)
		return err_set(e, GRPC_INTERNAL, "the daemon sent a compressed "
		    "message");
	n = grpc_prefix_len(p);
	if (n > CLIENT_MAX_MESSAGE)
		return err_set(e, GRPC_RESOURCE_EXHAUSTED, "the daemon sent a "
		    "message of %lu bytes", (unsigned long)n);
	if (gbuf_used(&st->in) - 5 < n)
		return 0;
	if ((*msg = malloc(n ? n : 1)) == NULL)
		return err_set(e, GRPC_INTERNAL, "out of memory");
	memcpy(*msg, p + 5, n);
	*len = n;
	gbuf_consume(&st->in, 5 + (size_t)n);
	return 1;
}

static int
stream_next(struct grpc_stream *st, uint8_t **msg, size_t *len,
    int64_t deadline, struct err *e)
{
	int rv;

	*msg = NULL;
	*len = 0;
	for (;;) {
		if ((rv = stream_take(st, msg, len, e)) != 0)
			return rv;
		if (st->closed)
			return stream_outcome(st, e);
		if (st->cl == NULL)
			return err_set(e, GRPC_UNAVAILABLE, "the connection "
			    "was closed");
		if (client_step(st->cl, deadline, e) < 0)
			return -1;
	}
}

int
grpc_stream_next(struct grpc_stream *st, uint8_t **msg, size_t *len,
    int timeout_ms, struct err *e)
{
	int rv;

	rv = stream_next(st, msg, len, deadline_in(timeout_ms), e);
	if (rv < 0 && e != NULL && e->code == GRPC_DEADLINE_EXCEEDED &&
	    !st->closed)
		snprintf(e->msg, sizeof(e->msg), "no message within %d ms",
		    timeout_ms);
	return rv;
}

/* Sends what the socket takes without waiting; the rest goes out with the
 * next call. */
static void
client_send_now(struct grpc_client *cl)
{
	ssize_t n;

	if (client_fill(cl, NULL) < 0 || gbuf_used(&cl->out) == 0)
		return;
	n = send(cl->fd, gbuf_data(&cl->out), gbuf_used(&cl->out),
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0)
		gbuf_consume(&cl->out, (size_t)n);
}

void
grpc_stream_free(struct grpc_stream *st)
{
	struct grpc_client *cl;

	if (st == NULL)
		return;
	cl = st->cl;
	if (cl != NULL) {
		if (!st->closed) {
			nghttp2_session_set_stream_user_data(cl->ses, st->id,
			    NULL);
			if (!cl->broken) {
				nghttp2_submit_rst_stream(cl->ses,
				    NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
				client_send_now(cl);
			}
		}
		stream_unlink(st);
	}
	free(st->req);
	gbuf_free(&st->in);
	free(st->message);
	free(st);
}

int
grpc_client_unary(struct grpc_client *cl, const char *path,
    const uint8_t *req, size_t req_len, uint8_t **resp, size_t *resp_len,
    int timeout_ms, struct err *e)
{
	struct grpc_stream *st;
	int64_t deadline = deadline_in(timeout_ms);
	uint8_t *msg = NULL, *extra = NULL;
	size_t len = 0, extra_len;
	int rv;

	*resp = NULL;
	*resp_len = 0;
	if ((st = stream_start(cl, path, req, req_len, timeout_ms, deadline,
	    e)) == NULL)
		goto fail;
	if ((rv = stream_next(st, &msg, &len, deadline, e)) < 0)
		goto fail;
	if (rv == 0) {
		err_set(e, GRPC_INTERNAL, "%s returned no message", path);
		goto fail;
	}
	if ((rv = stream_next(st, &extra, &extra_len, deadline, e)) < 0)
		goto fail;
	if (rv == 1) {
		free(extra);
		err_set(e, GRPC_INTERNAL, "%s returned more than one message",
		    path);
		goto fail;
	}
	grpc_stream_free(st);
	*resp = msg;
	*resp_len = len;
	return 0;
fail:
	if (e != NULL && e->code == GRPC_DEADLINE_EXCEEDED && st != NULL &&
	    !st->closed)
		snprintf(e->msg, sizeof(e->msg), "%s: no reply within %d ms",
		    path, timeout_ms);
	grpc_stream_free(st);
	free(msg);
	return -1;
}
