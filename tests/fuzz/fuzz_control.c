/*
 * fuzz_control: the shim's control-fifo line parser (shim/control.c), built
 * for the host with clang rather than musl. The input is one line as the
 * shim's reader hands it over: not NUL-terminated, any bytes.
 *
 * Beyond not crashing: the parser reads only the len bytes it was given
 * (the input is copied to an exact-size heap block, so ASan sees a read
 * past it), and an accepted command means what its canonical spelling
 * means: "resize W H" re-parses to the same numbers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shim_cmd cmd, again;
	char canon[32];
	char *line;
	int n;

	if ((line = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	if (shim_control_parse(line, size, &cmd) == 0) {
		switch (cmd.type) {
		case SHIM_CMD_CLOSE_STDIN:
			n = snprintf(canon, sizeof(canon), "close-stdin");
			break;
		case SHIM_CMD_RESIZE:
			n = snprintf(canon, sizeof(canon), "resize %u %u",
			    (unsigned)cmd.width, (unsigned)cmd.height);
			break;
		default:
			fprintf(stderr, "accepted with unknown type %d\n", (int)cmd.type);
			abort();
		}
		if (shim_control_parse(canon, (size_t)n, &again) != 0 ||
		    again.type != cmd.type || again.width != cmd.width ||
		    again.height != cmd.height) {
			fprintf(stderr, "\"%s\" does not re-parse the same\n", canon);
			abort();
		}
		/* A NUL anywhere makes the line malformed. */
		if (memchr(line, '\0', size) != NULL) {
			fprintf(stderr, "accepted %zu bytes with a NUL\n", size);
			abort();
		}
	}
	free(line);
	return 0;
}
