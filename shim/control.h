/*
 * control.h: the shim's control fifo protocol, PROC_DIR/control.
 *
 * The daemon writes one command per line:
 *   close-stdin        the process's stdin gets EOF (a tty gets ^D)
 *   resize W H         set the tty window size (columns, rows; 0..65535)
 * The parser does no I/O so it can be unit tested and fuzzed.
 */
#ifndef SHIM_CONTROL_H
#define SHIM_CONTROL_H

#include <stddef.h>

enum shim_cmd_type {
	SHIM_CMD_CLOSE_STDIN = 1,
	SHIM_CMD_RESIZE,
};

struct shim_cmd {
	enum shim_cmd_type type;
	unsigned short width;	/* SHIM_CMD_RESIZE only */
	unsigned short height;
};

/*
 * Parses one line of len bytes (without its '\n'; a trailing '\r', spaces
 * and tabs are ignored; the line need not be NUL-terminated). Words are
 * separated by spaces or tabs. Returns 0 and fills *out, or -1 for an empty,
 * unknown or malformed line (bad number, extra words, NUL bytes); *out is
 * then unspecified.
 */
int shim_control_parse(const char *line, size_t len, struct shim_cmd *out);

#endif
