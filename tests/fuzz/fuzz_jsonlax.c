/*
 * fuzz_jsonlax: the daemon's reader of a client's config.json
 * (lib/jsonlax.c), whose rewrite of what jansson refuses (numbers beyond
 * int64 or a double, \u0000, lone surrogates, invalid UTF-8) writes into a
 * buffer that grows. Input: the file's bytes, in an exact-size heap block.
 * Whatever is read must dump to text that plain jansson reads back: the
 * daemon stores the process object that way and loads it on restart.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonlax.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1), *dumped;
	json_error_t e;
	json_t *j, *back;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	j = jsonlax_loadb(text, size, &e);
	free(text);
	if (j == NULL)
		return 0;
	if ((dumped = json_dumps(j, JSON_COMPACT)) != NULL) {
		if ((back = json_loads(dumped, 0, &e)) == NULL) {
			fprintf(stderr, "dumped text not read back: %s: %s\n", e.text, dumped);
			abort();
		}
		json_decref(back);
		free(dumped);
	}
	json_decref(j);
	return 0;
}
