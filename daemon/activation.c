/*
 * activation: the listening socket systemd passes (socket activation,
 * sd_listen_fds(3)): LISTEN_PID names this process, LISTEN_FDS counts the
 * fds from 3 on.
 *
 * --listen fd:// (or fd:// and a star) takes the one socket passed, and fd://N the
 * passed fd N, closing the others, as the 2017 daemon did (its listeners
 * package: a number only; several sockets with a bare fd:// were "incorrect
 * number of listeners"). The socket must be a listening unix stream socket:
 * the peer's credentials are this daemon's only access check, so a TCP one
 * is refused as --listen tcp:// is.
 *
 * LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are unset in every case, so the
 * shims and runtimes started later do not inherit them, and the passed fds
 * that are not taken are closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

#define LISTEN_FDS_START 3

/* A non-negative decimal int in s, or -1. */
static int
number(const char *s)
{
	char *end;
	long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > INT_MAX)
		return -1;
	return (int)v;
}

/* How many fds systemd passed to this process (0: none, or not to us). */
static int
passed_fds(char *why, size_t whylen)
{
	const char *pid_s = getenv("LISTEN_PID"), *fds_s = getenv("LISTEN_FDS");
	int pid = number(pid_s), n = number(fds_s);

	if (pid_s == NULL || fds_s == NULL) {
		snprintf(why, whylen, "LISTEN_PID and LISTEN_FDS are not set");
		return 0;
	}
	if (pid != (int)getpid()) {
		snprintf(why, whylen, "LISTEN_PID is %s, not this process (%d)", pid_s,
		    (int)getpid());
		return 0;
	}
	if (n <= 0) {
		snprintf(why, whylen, "LISTEN_FDS is \"%s\"", fds_s);
		return 0;
	}
	return n;
}

/* NULL when fd is a listening unix stream socket; else what it is. */
static const char *
unfit(int fd, char *buf, size_t len)
{
	int domain, type, listening;
	socklen_t sl = sizeof(int);

	if (fcntl(fd, F_GETFD) < 0)
		return "not open";
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &sl) < 0)
		return errno == ENOTSOCK ? "not a socket" : strerror(errno);
	if (domain != AF_UNIX) {
		snprintf(buf, len, "%s socket",
		    domain == AF_INET ? "a TCP/IPv4 or UDP/IPv4" :
		    domain == AF_INET6 ? "a TCP/IPv6 or UDP/IPv6" : "a non-unix");
		return buf;
	}
	sl = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) < 0)
		return strerror(errno);
	if (type != SOCK_STREAM)
		return type == SOCK_DGRAM ? "a unix datagram socket" :
		    type == SOCK_SEQPACKET ? "a unix seqpacket socket" : "not a stream socket";
	sl = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &sl) < 0)
		return strerror(errno);
	if (!listening)
		return "a unix stream socket that is not listening";
	return NULL;
}

/* The path fd is bound to ("@name" for an abstract one, "" for none). */
static void
bound_path(int fd, char *buf, size_t len)
{
	struct sockaddr_un sa;
	socklen_t sl = sizeof(sa);

	buf[0] = '\0';
	if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0 ||
	    sl <= offsetof(struct sockaddr_un, sun_path))
		return;
	if (sa.sun_path[0] == '\0')
		snprintf(buf, len, "@%.*s", (int)(sl - offsetof(struct sockaddr_un, sun_path) - 1),
		    sa.sun_path + 1);
	else
		snprintf(buf, len, "%.*s", (int)(sl - offsetof(struct sockaddr_un, sun_path)),
		    sa.sun_path);
}

static void
forget_env(void)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

static void
close_passed(int n, int keep)
{
	for (int fd = LISTEN_FDS_START; fd < LISTEN_FDS_START + n; fd++)
		if (fd != keep)
			close(fd);
}

int
activation_listener(const char *spec, const char *path, char *name, size_t namelen,
    struct err *e)
{
	char why[128], what[64], bound[sizeof(((struct sockaddr_un *)0)->sun_path) + 2];
	const char *bad;
	int n = passed_fds(why, sizeof(why)), fd = -1;

	forget_env();
	if (spec == NULL) {
		/* --listen names a path: a passed socket bound to it is the
		 * one (an old unit file that passes the socket and names it
		 * too); connecting to it would find it "in use" otherwise. */
		for (int k = LISTEN_FDS_START; k < LISTEN_FDS_START + n && fd < 0; k++) {
			bound_path(k, bound, sizeof(bound));
			if (unfit(k, what, sizeof(what)) == NULL && strcmp(bound, path) == 0)
				fd = k;
		}
		if (n > 0)
			log_info("systemd passed %d socket(s); %s", n, fd >= 0 ?
			    "the one bound to --listen's path is taken" : "none is --listen's path:"
			    " closed");
		close_passed(n, fd);
		if (fd < 0)
			return -2;
	} else {
		if (n == 0)
			return err_set(e, GRPC_INVALID_ARGUMENT,
			    "--listen fd://%s: no socket was passed to this process (%s): start it"
			    " from a systemd .socket unit (or systemd-socket-activate), or use"
			    " --listen unix:///path", spec, why);
		if (spec[0] == '\0' || strcmp(spec, "*") == 0) {
			if (n != 1) {
				close_passed(n, -1);
				return err_set(e, GRPC_INVALID_ARGUMENT,
				    "--listen fd://%s: systemd passed %d sockets (fds %d to %d);"
				    " name the one to serve, e.g. --listen fd://%d", spec, n,
				    LISTEN_FDS_START, LISTEN_FDS_START + n - 1, LISTEN_FDS_START);
			}
			fd = LISTEN_FDS_START;
		} else if ((fd = number(spec)) < 0) {
			close_passed(n, -1);
			return err_set(e, GRPC_INVALID_ARGUMENT,
			    "--listen fd://%s: not an fd number; give the number of a passed fd"
			    " (fd://%d%s), or fd:// for the only one (socket names are not"
			    " understood, as in the 2017 daemon)", spec, LISTEN_FDS_START,
			    n > 1 ? " and up" : "");
		} else if (fd < LISTEN_FDS_START || fd >= LISTEN_FDS_START + n) {
			close_passed(n, -1);
			return err_set(e, GRPC_INVALID_ARGUMENT,
			    "--listen fd://%s: fd %d was not passed by systemd (it passed %d: fds"
			    " %d to %d)", spec, fd, n, LISTEN_FDS_START, LISTEN_FDS_START + n - 1);
		}
		close_passed(n, fd);
		if ((bad = unfit(fd, what, sizeof(what))) != NULL) {
			close(fd);
			return err_set(e, GRPC_INVALID_ARGUMENT,
			    "--listen fd://%s: fd %d is %s; this daemon serves only a listening"
			    " unix stream socket (ListenStream=/path in the .socket unit): the"
			    " peer's credentials are its only access check", spec, fd, bad);
		}
		bound_path(fd, bound, sizeof(bound));
	}
	/* Not for the shims and runtimes, and never blocking the loop. */
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	snprintf(name, namelen, "fd %d from systemd (%s)", fd, bound[0] ? bound : "unbound");
	return fd;
}
