/*
 * json.h: just enough JSON to read the runtime's log lines, which are flat
 * objects such as {"level":"error","msg":"...","time":"..."}.
 * No I/O, no allocation.
 */
#ifndef SHIM_JSON_H
#define SHIM_JSON_H

#include <stddef.h>

/*
 * Finds the top-level member `key` of the JSON object in buf[0..len) and, if
 * its value is a string, decodes it into out (NUL-terminated, truncated to
 * outsz - 1 bytes; escapes \" \\ \/ \b \f \n \r \t \uXXXX are decoded, \u to
 * UTF-8). Returns 0 on success; -1 if the key is absent, its value is not a
 * string, or the text is not a well-formed object up to that member.
 */
int shim_json_string(const char *buf, size_t len, const char *key, char *out, size_t outsz);

/*
 * The top-level member `key` as a bool: 0 with *out 1 or 0; 1 if it is
 * absent or null (*out untouched); -1 if it is another type or the text
 * is not a well-formed object up to it.
 */
int shim_json_bool(const char *buf, size_t len, const char *key, int *out);

/*
 * The top-level member `key` as an array of strings, each decoded into
 * out + i * each (NUL-terminated): 0 with *n of them; 1 if it is absent or
 * null (*n 0); -1 if it is not an array of strings, has more than max, or
 * a string does not fit in each - 1 bytes.
 */
int shim_json_strings(const char *buf, size_t len, const char *key, char *out, size_t each,
    size_t max, size_t *n);

#endif
