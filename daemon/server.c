/*
 * server: the unix socket, its connections, and the order of output.
 *
 * Handlers never write to a client directly: replies are queued and sent
 * by server_before_sleep() after the iteration's transaction committed, so
 * an acknowledged request is on disk. Output is flushed once per iteration.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "grpc.h"
#include "log.h"

#define MAX_CONNECTIONS 4096
/* Seconds a connection being closed may take to read its last output. */
#define CLOSE_LINGER 5.0

struct conn {
	struct conn *next, *prev;
	int fd;
	ev_io rw, ww;
	ev_timer linger_w;
	struct grpc_conn *g;
	bool closing;
	uid_t uid;
	pid_t pid;
};

struct reply {
	struct reply *next;
	uint64_t call_id;
	int code;
	char *msg;		/* error message, or NULL */
	uint8_t *data;		/* packed response when code is OK */
	size_t len;
};

static int listen_fd = -1;
static ev_io listen_w;
static struct conn *conns;
static int n_conns;
static struct reply *replies, **replies_tail = &replies;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static void conn_close(struct conn *c);

static void
grpc_request_cb(void *ctx, struct grpc_call *call, const char *path, const uint8_t *msg,
    size_t len)
{
	rpc_dispatch(grpc_call_id(call), path, msg, len);
}

static void
grpc_closed_cb(void *ctx, struct grpc_call *call)
{
	events_call_closed(grpc_call_id(call));
}

static void
grpc_drained_cb(void *ctx, struct grpc_call *call)
{
	events_call_drained(grpc_call_id(call));
}

static const struct grpc_server_cbs cbs = {
	.request = grpc_request_cb,
	.closed = grpc_closed_cb,
	.drained = grpc_drained_cb,
};

static void
conn_flush(struct conn *c)
{
	const uint8_t *data;
	size_t n;

	while ((n = grpc_conn_pending(c->g, &data)) > 0) {
		ssize_t w = send(c->fd, data, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			if (!ev_is_active(&c->ww))
				ev_io_start(D.loop, &c->ww);
			/* Its last output (a GOAWAY, replies) gets a while to go
			 * out; a peer that reads nothing must not hold the fd and
			 * the buffers for ever. */
			if (c->closing && !ev_is_active(&c->linger_w))
				ev_timer_start(D.loop, &c->linger_w);
			return;
		}
		if (w < 0) {
			c->closing = true;
			break;
		}
		grpc_conn_consumed(c->g, (size_t)w);
	}
	if (ev_is_active(&c->ww))
		ev_io_stop(D.loop, &c->ww);
	if (c->closing || grpc_conn_done(c->g))
		conn_close(c);
}

static void
conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	uint8_t buf[65536];
	ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		c->closing = true;
		ev_io_stop(loop, &c->rw);
		return; /* closed at the flush, after this iteration's replies */
	}
	if (grpc_conn_recv(c->g, buf, (size_t)n) < 0) {
		log_warnx("connection from pid %d: protocol error; closing it", (int)c->pid);
		c->closing = true;
		ev_io_stop(loop, &c->rw);
	}
}

static void
conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	conn_flush(w->data);
}

static void
conn_linger_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;

	log_warnx("connection from pid %d: its output was not read for %.0fs; dropping it",
	    (int)c->pid, CLOSE_LINGER);
	conn_close(c);
}

static void
conn_close(struct conn *c)
{
	ev_io_stop(D.loop, &c->rw);
	ev_io_stop(D.loop, &c->ww);
	ev_timer_stop(D.loop, &c->linger_w);
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	n_conns--;
	grpc_conn_free(c->g); /* closes its calls: subscribers go */
	close(c->fd);
	free(c);
}

static bool
peer_allowed(int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) < 0)
		return false;
	if (cred->uid == 0 || cred->uid == geteuid())
		return true;
	if (D.cfg.group != (gid_t)-1) {
		if (cred->gid == D.cfg.group)
			return true;
		/* Supplementary groups: /proc/<pid>/status Groups: line. */
		char path[64], line[4096];
		FILE *f;
		bool ok = false;

		snprintf(path, sizeof(path), "/proc/%d/status", (int)cred->pid);
		if ((f = fopen(path, "re")) != NULL) {
			while (!ok && fgets(line, sizeof(line), f) != NULL) {
				if (strncmp(line, "Groups:", 7) != 0)
					continue;
				for (char *t = strtok(line + 7, " \t\n"); t; t = strtok(NULL, " \t\n"))
					if ((gid_t)strtoul(t, NULL, 10) == D.cfg.group)
						ok = true;
			}
			fclose(f);
		}
		return ok;
	}
	return false;
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cred = { 0 };
		struct conn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("accept");
			return;
		}
		if (!peer_allowed(fd, &cred)) {
			log_warnx("refused a connection from uid %d gid %d pid %d: not root nor"
				  " in the --group", (int)cred.uid, (int)cred.gid, (int)cred.pid);
			close(fd);
			continue;
		}
		if (n_conns >= MAX_CONNECTIONS) {
			log_warnx("refused a connection from pid %d: %d connections already",
			    (int)cred.pid, n_conns);
			close(fd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    (c->g = grpc_conn_new(&cbs, c, GRPC_MAX_MESSAGE)) == NULL) {
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->uid = cred.uid;
		c->pid = cred.pid;
		ev_io_init(&c->rw, conn_read_cb, fd, EV_READ);
		ev_io_init(&c->ww, conn_write_cb, fd, EV_WRITE);
		ev_timer_init(&c->linger_w, conn_linger_cb, CLOSE_LINGER, 0.);
		c->rw.data = c->ww.data = c->linger_w.data = c;
		ev_io_start(D.loop, &c->rw);
		c->next = conns;
		if (conns)
			conns->prev = c;
		conns = c;
		n_conns++;
	}
}

int
server_listen(const char *path, struct err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, GRPC_INVALID_ARGUMENT, "socket path %s is too long", path);
	strcpy(sa.sun_path, path);
	/* A live socket means another daemon: refuse. A stale one goes. */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return err_set(e, GRPC_INTERNAL, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		return err_set(e, GRPC_ALREADY_EXISTS,
		    "another daemon is already listening on %s; stop it first, or use --listen"
		    " and --state-dir elsewhere", path);
	}
	close(fd);
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(e, GRPC_INTERNAL, "cannot remove the stale socket %s: %s", path,
		    strerror(errno));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return err_set(e, GRPC_INTERNAL, "socket: %s", strerror(errno));
	{
		mode_t old = umask(0117); /* 0660 from the start: no window */
		int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));

		umask(old);
		if (rc < 0) {
			close(fd);
			return err_set(e, GRPC_INTERNAL, "cannot listen on %s: %s", path,
			    strerror(errno));
		}
	}
	chmod(path, 0660);
	if (D.cfg.group != (gid_t)-1 && chown(path, 0, D.cfg.group) < 0)
		log_warn("chown %s to group %d", path, (int)D.cfg.group);
	if (listen(fd, 1024) < 0) {
		close(fd);
		return err_set(e, GRPC_INTERNAL, "listen on %s: %s", path, strerror(errno));
	}
	listen_fd = fd;
	snprintf(sock_path, sizeof(sock_path), "%s", path);
	ev_io_init(&listen_w, accept_cb, fd, EV_READ);
	ev_io_start(D.loop, &listen_w);
	return 0;
}

void
server_close(void)
{
	while (conns != NULL) {
		conn_flush(conns);
		if (conns != NULL)
			conn_close(conns);
	}
	if (listen_fd >= 0) {
		ev_io_stop(D.loop, &listen_w);
		close(listen_fd);
		unlink(sock_path);
		listen_fd = -1;
	}
}

int
server_connection_count(void)
{
	return n_conns;
}

static void
queue_reply(struct reply *r)
{
	r->next = NULL;
	*replies_tail = r;
	replies_tail = &r->next;
}

void
server_reply(uint64_t call_id, const ProtobufCMessage *msg)
{
	struct reply *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return;
	r->call_id = call_id;
	r->len = protobuf_c_message_get_packed_size(msg);
	r->data = malloc(r->len ? r->len : 1);
	if (r->data == NULL) {
		r->code = GRPC_RESOURCE_EXHAUSTED;
		r->msg = strdup("out of memory");
	} else {
		protobuf_c_message_pack(msg, r->data);
	}
	queue_reply(r);
}

void
server_reply_error(uint64_t call_id, const struct err *e)
{
	struct reply *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return;
	r->call_id = call_id;
	r->code = e->code != GRPC_OK ? e->code : GRPC_UNKNOWN;
	r->msg = strdup(e->msg);
	queue_reply(r);
}

void
server_flush(void)
{
	struct conn *c = conns, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		conn_flush(c);
	}
}

void
server_before_sleep(void)
{
	struct err e = { 0 };
	bool lost = false;

	if (store_in_transaction(D.store) && store_commit(D.store, &e) < 0) {
		/* Nothing of this iteration reached the disk: acknowledge none of it. */
		log_errorx("commit failed: %s", e.msg);
		lost = true;
	}
	while (replies != NULL) {
		struct reply *r = replies;
		struct grpc_call *call;

		replies = r->next;
		if (replies == NULL)
			replies_tail = &replies;
		if ((call = grpc_call_find(r->call_id)) != NULL) {
			if (lost && r->code == GRPC_OK)
				grpc_call_finish(call, e.code, e.msg);
			else if (r->code == GRPC_OK && grpc_call_send(call, r->data, r->len) == 0)
				grpc_call_finish(call, GRPC_OK, NULL);
			else
				grpc_call_finish(call, r->code ? r->code : GRPC_INTERNAL,
				    r->msg ? r->msg : "cannot send the reply");
		}
		free(r->msg);
		free(r->data);
		free(r);
	}
	events_push();
	server_flush();
}
