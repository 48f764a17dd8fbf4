/*
 * console.h: receiving the pty master from the runtime (--console-socket).
 * The runtime connects to a unix socket we listen on and sends the master
 * fd with SCM_RIGHTS.
 */
#ifndef SHIM_CONSOLE_H
#define SHIM_CONSOLE_H

/*
 * Listens on the unix socket `name` (a path that fits sun_path; a stale
 * socket there is removed). Returns the non-blocking, close-on-exec fd, or
 * -1 with errno.
 */
int shim_console_listen(const char *name);

/* Accepts a connection (non-blocking, close-on-exec), or -1 with errno. */
int shim_console_accept(int listen_fd);

/*
 * Reads one message from a connection accepted on it. Returns the received
 * fd (close-on-exec; the caller owns it); or -1 with errno EAGAIN when
 * nothing has arrived yet; or -1 with another errno (ECONNRESET when the peer
 * closed without sending an fd) when the connection is done for.
 */
int shim_console_recv(int conn);

#endif
