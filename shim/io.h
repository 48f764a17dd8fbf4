/*
 * io.h: the container's stdio as the shim holds it, and the relays that move
 * bytes between fds (splice() where one side is a pipe, a small buffer else).
 *
 * struct shim_stdio owns every fd in it (-1 when closed). A relay owns no fd.
 */
#ifndef SHIM_IO_H
#define SHIM_IO_H

#include <stddef.h>

#include "shim.h"

struct shim_stdio {
	int child_in;		/* the runtime's 0, 1, 2; close after spawning it */
	int child_out;
	int child_err;
	int stdin_fifo;		/* relay input: the stdin fifo read end (non-blocking), or a file */
	int stdin_keep;		/* our write handle on the stdin fifo, so writers never cause EOF */
	int stdin_pipe;		/* no tty: write end of the container's stdin pipe (non-blocking) */
	int tty_out;		/* tty: where the pty master's output goes (-1 with a log) */
	int log_out;		/* with a log, no tty: the read ends of the process's */
	int log_err;		/* stdout and stderr pipes (non-blocking); else -1 */
};

/*
 * Opens the stdio named in o (see the shim's usage). On error returns -1 and
 * writes a one-line message into err; whatever was opened is closed.
 */
int shim_stdio_open(struct shim_stdio *s, const struct shim_opts *o, char *err, size_t errsz);
/* Closes the fds meant for the runtime child only (after it was spawned). */
void shim_stdio_close_child(struct shim_stdio *s);
/* Closes the stdin side: fifo, keep handle and pipe. */
void shim_stdio_close_stdin(struct shim_stdio *s);
/* Bytes waiting in a fifo or tty, 0 if none or unknown. */
int shim_fd_pending(int fd);

enum {
	SHIM_RELAY_OK = 0,	/* wait for poll again */
	SHIM_RELAY_EOF,		/* the input ended (EOF, EIO of a pty master) */
	SHIM_RELAY_OUT_ERR,	/* the output failed (EPIPE...); errno is set */
};

struct shim_relay {
	int in;			/* -1: relay inactive */
	int out;		/* -1: read and discard */
	int want_out;		/* waiting for out to become writable */
	int no_splice;		/* splice() refused these fds: copy through buf */
	char *buf;		/* caller's storage for the copy path */
	size_t size;
	size_t off, len;	/* bytes read but not written yet */
};

void shim_relay_init(struct shim_relay *r, int in, int out, char *buf, size_t size);
/* The fd and poll events the relay waits for; returns -1 if inactive. */
int shim_relay_pollfd(const struct shim_relay *r, short *events);
/* Moves what can be moved without blocking. Returns SHIM_RELAY_*. */
int shim_relay_run(struct shim_relay *r);
/* True if bytes read from in still wait to be written. */
int shim_relay_pending(const struct shim_relay *r);

#endif
