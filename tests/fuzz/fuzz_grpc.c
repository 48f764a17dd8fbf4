/*
 * fuzz_grpc: the daemon's whole request path below rpc.c — HTTP/2 frames
 * (nghttp2), streams into calls, gRPC message framing, replies — fed raw
 * client bytes in memory.
 *
 * The input is what a client writes on the socket, from the connection
 * preface on, so a captured or generated session is a seed as it is. Each
 * input runs twice: in one grpc_conn_recv, then cut into small pieces, since
 * frames and message prefixes split across reads are where framing code
 * goes wrong. The fake owner answers each request one of several ways
 * (reply now, error with the request's bytes as message, reply later by id,
 * stream until the call is closed) so the reply paths run too.
 *
 * Invariants checked (abort, which libFuzzer reports as a crash): every
 * delivered call is closed exactly once by grpc_conn_free at the latest;
 * no callback for a call that was never delivered; grpc_call_find never
 * returns a closed call.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc.h"
#include "log.h"

#define MAX_LATER 64
#define MAX_TRACK 4096

struct fz_srv {
	uint64_t later[MAX_LATER];	/* calls to answer after grpc_conn_recv */
	size_t nlater;
	uint64_t delivered[MAX_TRACK];	/* ids handed to request, not yet closed */
	size_t ndelivered;
	size_t nreq, nclosed;
	size_t streamed;		/* bytes sent by streaming calls */
};

static void
fz_track_add(struct fz_srv *s, uint64_t id)
{
	if (s->ndelivered < MAX_TRACK)
		s->delivered[s->ndelivered++] = id;
}

/* Removes id; false if it was not delivered (or already closed). */
static bool
fz_track_del(struct fz_srv *s, uint64_t id)
{
	for (size_t i = 0; i < s->ndelivered; i++) {
		if (s->delivered[i] == id) {
			s->delivered[i] = s->delivered[--s->ndelivered];
			return true;
		}
	}
	return s->ndelivered >= MAX_TRACK;	/* untracked overflow: trust */
}

static void
fz_request(void *ctx, struct grpc_call *call, const char *path,
    const uint8_t *msg, size_t len)
{
	struct fz_srv *s = ctx;
	char text[128];
	size_t n;
	static const uint8_t big[4096];

	s->nreq++;
	fz_track_add(s, grpc_call_id(call));
	/* The owner's choice depends on the request, so the fuzzer steers it. */
	switch ((len + strlen(path)) % 5) {
	case 0:
		grpc_call_send(call, msg, len);
		grpc_call_finish(call, GRPC_OK, NULL);
		break;
	case 1:
		/* Arbitrary bytes as grpc-message: the percent encoder. */
		n = len < sizeof(text) - 1 ? len : sizeof(text) - 1;
		memcpy(text, msg, n);
		text[n] = '\0';
		grpc_call_finish(call, GRPC_INVALID_ARGUMENT, text);
		break;
	case 2:
		if (s->nlater < MAX_LATER)
			s->later[s->nlater++] = grpc_call_id(call);
		break;
	case 3:
		/* A stream of replies past the low-water mark, left open. */
		for (int k = 0; k < 40; k++) {
			if (grpc_call_send(call, big, sizeof(big)) < 0)
				break;
			s->streamed += sizeof(big);
		}
		break;
	default:
		grpc_call_send(call, msg, len);
		grpc_call_send(call, msg, len);
		grpc_call_finish(call, GRPC_NOT_FOUND, path);
		break;
	}
}

static void
fz_closed(void *ctx, struct grpc_call *call)
{
	struct fz_srv *s = ctx;

	s->nclosed++;
	if (!fz_track_del(s, grpc_call_id(call))) {
		fprintf(stderr, "closed a call that was not delivered: %llu\n",
		    (unsigned long long)grpc_call_id(call));
		abort();
	}
}

static void
fz_drained(void *ctx, struct grpc_call *call)
{
	struct fz_srv *s = ctx;
	static const uint8_t more[1024];

	/* A streaming reader caught up: give it a bit more, then end. */
	if (s->streamed < (1u << 20)) {
		grpc_call_send(call, more, sizeof(more));
		s->streamed += sizeof(more);
	} else {
		grpc_call_finish(call, GRPC_OK, NULL);
	}
}

static const struct grpc_server_cbs fz_cbs = { fz_request, fz_closed, fz_drained };

/* Writes out everything the core has, as a fast peer would. */
static void
fz_drain(struct grpc_conn *c)
{
	const uint8_t *p;
	size_t n;
	int rounds = 0;

	while ((n = grpc_conn_pending(c, &p)) > 0 && rounds++ < 1000)
		grpc_conn_consumed(c, n);
}

static void
fz_answer_later(struct fz_srv *s)
{
	for (size_t i = 0; i < s->nlater; i++) {
		struct grpc_call *call = grpc_call_find(s->later[i]);

		if (call == NULL)
			continue;
		grpc_call_send(call, (const uint8_t *)"late", 4);
		grpc_call_finish(call, GRPC_OK, NULL);
	}
	s->nlater = 0;
}

static void
fz_run(const uint8_t *data, size_t size, size_t step)
{
	struct fz_srv s;
	struct grpc_conn *c;
	size_t off, k;

	memset(&s, 0, sizeof(s));
	if ((c = grpc_conn_new(&fz_cbs, &s, 64u << 10)) == NULL)
		return;
	for (off = 0; off < size; off += k) {
		k = step ? step : size;
		if (k > size - off)
			k = size - off;
		if (grpc_conn_recv(c, data + off, k) < 0)
			break;
		fz_drain(c);
		fz_answer_later(&s);
		fz_drain(c);
	}
	fz_answer_later(&s);
	fz_drain(c);
	(void)grpc_conn_done(c);
	grpc_conn_free(c);
	if (s.ndelivered != 0 && s.ndelivered < MAX_TRACK) {
		fprintf(stderr, "%zu delivered calls never closed\n", s.ndelivered);
		abort();
	}
	for (size_t i = 0; i < s.nlater; i++) {
		if (grpc_call_find(s.later[i]) != NULL) {
			fprintf(stderr, "a call outlived its connection\n");
			abort();
		}
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_LEVEL_ERROR + 1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_run(data, size, 0);
	/* 1..13 bytes per read, from the input so a crash reproduces. */
	fz_run(data, size, size % 13 + 1);
	return 0;
}
