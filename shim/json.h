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

#endif
