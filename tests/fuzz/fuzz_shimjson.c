/*
 * fuzz_shimjson: the shim's reader of runtime log lines (shim/json.c),
 * built for the host with clang. The shim is a static musl program with no
 * sanitizer of its own, and the lines it reads carry text a client chose
 * (runc's "exec: \"/no/such/command\": ..."), so its escape decoding and
 * truncation are worth a fuzzer.
 *
 * Input: byte 0 picks the output size (1..64), byte 1 the key; the rest is
 * the line, in an exact-size heap block, and the output buffer is exact
 * size too, so ASan sees any byte read or written past either. A success
 * must leave a NUL-terminated string inside the buffer. The same input goes
 * to the config.json readers (shim_json_bool, shim_json_strings).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "level", "msg", "time", "", "a", "tcp", "emptyNS" };
	size_t outsz, len;
	const char *key;
	char *line, *out;

	if (size < 2)
		return 0;
	outsz = (size_t)(data[0] % 64) + 1;
	key = keys[data[1] % (sizeof(keys) / sizeof(keys[0]))];
	len = size - 2;
	if ((line = malloc(len ? len : 1)) == NULL || (out = malloc(outsz)) == NULL) {
		free(line);
		return 0;
	}
	memcpy(line, data + 2, len);
	if (shim_json_string(line, len, key, out, outsz) == 0 &&
	    memchr(out, '\0', outsz) == NULL) {
		fprintf(stderr, "no NUL within the %zu-byte output\n", outsz);
		abort();
	}
	/* A checkpoint's config.json: bools and a list of strings, each
	 * element in an exact-size slot (outsz / 2 of them, outsz bytes). */
	{
		size_t n = 0, each = outsz > 1 ? 2 : 1, max = outsz / each;
		int b = 0;

		(void)shim_json_bool(line, len, key, &b);
		if (shim_json_strings(line, len, key, out, each, max, &n) == 0) {
			if (n > max) {
				fprintf(stderr, "%zu strings for %zu slots\n", n, max);
				abort();
			}
			for (size_t k = 0; k < n; k++)
				if (memchr(out + k * each, '\0', each) == NULL) {
					fprintf(stderr, "string %zu has no NUL in its slot\n", k);
					abort();
				}
		}
	}
	free(out);
	free(line);
	return 0;
}
