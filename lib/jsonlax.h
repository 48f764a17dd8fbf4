/*
 * jsonlax: a bundle's config.json read as the runtime reads it.
 *
 * runc decodes config.json with Go's encoding/json, which takes any valid
 * JSON; jansson refuses some of it. A config the runtime accepts must not
 * be refused here, so what jansson would refuse is first brought into a
 * form it takes, for the daemon's view only (the file itself is never
 * rewritten; the runtime reads its own copy):
 *   - an integer outside int64 (the OCI spec's uint64 fields: Docker writes
 *     memory.swappiness as 18446744073709551615, an rlimit's RLIM_INFINITY
 *     is that too) becomes a real, the nearest double; jsonlax_uint64 reads
 *     it back, 18446744073709551615 exactly;
 *   - a real beyond a double's range (1e400, Go skips it in an unknown
 *     field) becomes +-DBL_MAX;
 *   - "\u0000" and a lone surrogate escape become U+FFFD, and so does each
 *     byte of invalid UTF-8 in a string (Go does the same for those two);
 *   - what follows the top-level value is ignored (runc's json.Decoder
 *     stops there too).
 * Text jansson takes as it is is parsed as it is: only a config that would
 * have been refused goes through the rewrite.
 */
#ifndef LIB_JSONLAX_H
#define LIB_JSONLAX_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The object or array in buf[0..len); NULL with *error filled (the error of
 * the text as given) if it is not valid JSON. The caller owns the result. */
json_t *jsonlax_loadb(const char *buf, size_t len, json_error_t *error);

/* The same for a file (ctr's look at a bundle). */
json_t *jsonlax_load_file(const char *path, json_error_t *error);

/* A number read as a uint64 field: an integer as it is (a negative one as
 * its two's complement, as before), a real rounded down and clamped to
 * [0, UINT64_MAX]; anything else 0. */
uint64_t jsonlax_uint64(const json_t *j);

/* The text jansson is given for buf[0..len) (exposed for the unit test):
 * malloc'd, NUL-terminated, its length in *out_len. NULL: out of memory. */
char *jsonlax_rewrite(const char *buf, size_t len, size_t *out_len);

#endif
