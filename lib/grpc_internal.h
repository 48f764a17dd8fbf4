/*
 * grpc_internal: helpers shared by the gRPC server core (grpc.c), the
 * client (grpc_client.c) and their unit test. Not for other modules.
 */
#ifndef LIB_GRPC_INTERNAL_H
#define LIB_GRPC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A byte queue: bytes [off, len) of p are pending. */
struct gbuf {
	uint8_t *p;
	size_t off, len, cap;
};

static inline size_t
gbuf_used(const struct gbuf *b)
{
	return b->len - b->off;
}

static inline const uint8_t *
gbuf_data(const struct gbuf *b)
{
	/* A freed (or never used) buffer has no bytes, and NULL + 0 is UB. */
	return b->p != NULL ? b->p + b->off : NULL;
}

/* Makes room for n more bytes; -1 when out of memory. */
static inline int
gbuf_reserve(struct gbuf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (b->cap - b->len >= n)
		return 0;
	/* Moving the pending bytes down is cheaper than growing. */
	if (b->off > 0) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->cap - b->len >= n)
			return 0;
	}
	if (n > SIZE_MAX / 2 - b->len)
		return -1;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static inline int
gbuf_append(struct gbuf *b, const void *data, size_t n)
{
	if (n == 0)
		return 0;
	if (gbuf_reserve(b, n) < 0)
		return -1;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

static inline void
gbuf_consume(struct gbuf *b, size_t n)
{
	if (n > gbuf_used(b))
		n = gbuf_used(b);
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

static inline void
gbuf_free(struct gbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* The gRPC message prefix: compressed flag, then the length big-endian. */
static inline void
grpc_prefix_put(uint8_t pfx[5], uint32_t len)
{
	pfx[0] = 0;
	pfx[1] = (uint8_t)(len >> 24);
	pfx[2] = (uint8_t)(len >> 16);
	pfx[3] = (uint8_t)(len >> 8);
	pfx[4] = (uint8_t)len;
}

static inline uint32_t
grpc_prefix_len(const uint8_t pfx[5])
{
	return (uint32_t)pfx[1] << 24 | (uint32_t)pfx[2] << 16 |
	    (uint32_t)pfx[3] << 8 | (uint32_t)pfx[4];
}

/* grpc-message encoding (gRPC HTTP/2 spec): bytes outside 0x20-0x7E and
 * '%' become %XX. Both return a malloc'd NUL-terminated string, or NULL
 * when out of memory. Decoding leaves malformed escapes as they are. */
char *grpc_percent_encode(const char *s);
char *grpc_percent_decode(const char *s, size_t len);

#endif
