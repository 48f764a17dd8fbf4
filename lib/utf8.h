/* utf8: text from elsewhere made printable as UTF-8. */
#ifndef LIB_UTF8_H
#define LIB_UTF8_H

#include <stddef.h>

/*
 * A copy of s (NUL-terminated) in which every byte that is not part of a
 * well-formed UTF-8 sequence (validate_utf8's rules) is replaced by U+FFFD,
 * one per byte, as Go's encoding/json does: the result is valid UTF-8, so a
 * JSON writer can escape it. NULL when out of memory. Caller frees.
 */
char *utf8_sanitize(const char *s);

/*
 * The same, but each such byte becomes the text \xNN (lower-case hex), so
 * nothing is lost: what the daemon sends for a stored string that is not
 * UTF-8. NULL when out of memory. Caller frees.
 */
char *utf8_escape(const char *s);

#endif
