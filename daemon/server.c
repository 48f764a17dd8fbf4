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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "grpc.h"
#include "log.h"

/*
 * The connection cap: MAX_CONNECTIONS, or half of RLIMIT_NOFILE when that
 * is less. The other half stays for what containers cost the daemon (shim
 * sync pipes, pidfds, runtime calls), the database and the loop, so that
 * clients alone cannot make a container start fail for want of an fd.
 * Past the cap a connection is accepted and closed at once.
 */
#define MAX_CONNECTIONS 4096
#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif
/* accept(2) out of fds (or memory): the listener is not watched for this
 * long, so the loop does not spin on a socket that stays readable. */
#define ACCEPT_PAUSE 0.5
/* Seconds a connection being closed may take to read its last output. */
#define CLOSE_LINGER 5.0
/*
 * A connection that has not sent a whole request this long after connect
 * is closed (a peer that connects and says nothing holds an fd and a slot
 * under the cap); one with no call under way and no traffic for the idle
 * time is told GOAWAY and closed. A client waiting on an Events stream, or
 * for a reply, is never idle. At the cap the longest-waiting silent
 * connection, or else the longest-idle one, makes room for a new client.
 * CONTAINERD_HANDSHAKE_TIMEOUT and CONTAINERD_IDLE_TIMEOUT (durations) set
 * them, for tests.
 */
#define HANDSHAKE_TIMEOUT 10.0
#define IDLE_TIMEOUT 300.0

struct conn {
	struct conn *next, *prev;
	int fd;
	ev_io rw, ww;
	ev_timer linger_w;
	ev_timer idle_w;	/* the handshake, then the idle timeout */
	ev_tstamp accepted, last_active;
	struct grpc_conn *g;
	bool closing;
	bool handshaken;	/* a whole request came */
	/* Not root nor in --group: every call is answered PERMISSION_DENIED
	 * and the connection goes after CLOSE_LINGER. */
	bool denied;
	uid_t uid;
	gid_t gid;
	pid_t pid;
};

struct reply {
	struct reply *next;
	uint64_t call_id;
	int code;
	char *msg;		/* error message, or NULL */
	uint8_t *data;		/* packed response when code is OK */
	size_t len;
	bool readonly;		/* changed nothing: need not wait for a sync */
	uint64_t commit;	/* store_commits() that must be durable first */
	ev_tstamp since;	/* waiting since (loop time) */
};

static int listen_fd = -1;
static ev_io listen_w;
static struct conn *conns;
static int n_conns;
static int max_conns = MAX_CONNECTIONS;
static double handshake_timeout = HANDSHAKE_TIMEOUT, idle_timeout = IDLE_TIMEOUT;
static ev_timer accept_resume_w;
static ev_tstamp refusal_logged;
static unsigned refusals_unlogged;
static struct reply *replies, **replies_tail = &replies;
/* Replies whose commit is written but not yet synced, in order. */
static struct reply *waiting, **waiting_tail = &waiting;
/* A read-only request is being dispatched: its reply can go at once. */
static bool dispatching_read;
static ev_io sync_w;
/*
 * A stalled store (see store_commit: the database locked by another
 * process, a full disk, the file deleted) keeps every write in memory and
 * is retried from this timer, 100 ms and then up to once a second. A
 * reply waiting for a stalled commit waits at most STALL_REPLY_WAIT; then
 * it is told UNAVAILABLE: the change is made and will be recorded.
 */
#define RETRY_MIN 0.1
#define RETRY_MAX 1.0
#define STALL_REPLY_WAIT 5.0
static ev_timer retry_w;
static ev_tstamp retry_delay = RETRY_MIN;
static ev_tstamp stalled_since, stall_logged;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static void conn_close(struct conn *c);

static void
grpc_request_cb(void *ctx, struct grpc_call *call, const char *path, const uint8_t *msg,
    size_t len)
{
	struct conn *c = ctx;

	if (!c->handshaken && !c->denied) {
		c->handshaken = true;
		ev_timer_stop(D.loop, &c->idle_w);
		ev_timer_set(&c->idle_w, idle_timeout, 0.);
		if (idle_timeout > 0)
			ev_timer_start(D.loop, &c->idle_w);
	}
	if (c->denied) {
		struct err e;

		err_set(&e, GRPC_PERMISSION_DENIED, "uid %d gid %d may not use this daemon: only"
		    " root and the group given with containerd --group may", (int)c->uid,
		    (int)c->gid);
		server_reply_error(grpc_call_id(call), &e);
		return;
	}
	rpc_dispatch(grpc_call_id(call), path, msg, len);
}

void
server_replies_readonly(bool on)
{
	dispatching_read = on;
}

static void
grpc_closed_cb(void *ctx, struct grpc_call *call)
{
	events_call_closed(grpc_call_id(call));
	logs_call_closed(grpc_call_id(call));
}

/* A drained subscriber is caught up by the next events_push, in the next
 * iteration's server_before_sleep: make sure there is one soon, even when
 * nothing else wakes the loop. */
static ev_timer push_soon_w;

static void
push_soon_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
}

static void
grpc_drained_cb(void *ctx, struct grpc_call *call)
{
	events_call_drained(grpc_call_id(call));
	logs_call_drained(grpc_call_id(call));
	if (!ev_is_active(&push_soon_w)) {
		ev_timer_init(&push_soon_w, push_soon_cb, 0., 0.);
		ev_timer_start(D.loop, &push_soon_w);
	}
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
		c->last_active = ev_now(D.loop);
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
	c->last_active = ev_now(loop);
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

	if (c->denied)
		log_debug("refused connection from pid %d closed", (int)c->pid);
	else
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
	ev_timer_stop(D.loop, &c->idle_w);
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

/* Refusals are logged at most once a second, with a count of the ones in
 * between: a client retrying in a loop must not fill the log. */
static void refusal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
refusal(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (refusal_logged != 0 && ev_now(D.loop) - refusal_logged < 1.0) {
		refusals_unlogged++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (refusals_unlogged > 0)
		log_warnx("%s (and %u more refusals in the last second)", msg, refusals_unlogged);
	else
		log_warnx("%s", msg);
	refusal_logged = ev_now(D.loop);
	refusals_unlogged = 0;
}

static void
conn_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;
	ev_tstamp left;

	if (c->closing)
		return;
	if (!c->handshaken) {
		refusal("connection from pid %d: no request within %.1fs of connecting; closing it",
		    (int)c->pid, handshake_timeout);
		conn_close(c);
		return;
	}
	left = grpc_conn_active_calls(c->g) > 0 ? idle_timeout :
	    c->last_active + idle_timeout - ev_now(loop);
	if (left > 0.001) {
		ev_timer_set(w, left, 0.);
		ev_timer_start(loop, w);
		return;
	}
	log_debug("connection from pid %d: idle for %.1fs; closing it", (int)c->pid, idle_timeout);
	grpc_conn_shutdown(c->g);
	c->closing = true;
	ev_io_stop(loop, &c->rw);
	conn_flush(c); /* the GOAWAY, then closed */
}

/* At the cap: closes the connection that waited longest without a request,
 * or else the one idle longest, to admit a new client. False when every
 * connection has a call under way. */
static bool
conn_evict(void)
{
	struct conn *silent = NULL, *idle = NULL;

	for (struct conn *c = conns; c != NULL; c = c->next) {
		if (!c->handshaken) {
			if (silent == NULL || c->accepted <= silent->accepted)
				silent = c;
		} else if (grpc_conn_active_calls(c->g) == 0 &&
		    (idle == NULL || c->last_active <= idle->last_active)) {
			idle = c;
		}
	}
	if (silent == NULL && idle == NULL)
		return false;
	refusal("%d connections, the most allowed: closed the %s connection from pid %d "
		"(%.1fs) to admit a new one", n_conns, silent ? "silent" : "idle",
	    (int)(silent ? silent : idle)->pid,
	    ev_now(D.loop) - (silent ? silent->accepted : idle->last_active));
	conn_close(silent ? silent : idle);
	return true;
}

static void
accept_resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	if (listen_fd >= 0)
		ev_io_start(loop, &listen_w);
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
		socklen_t glen = 0;
		gid_t *groups;
		bool ok = false;

		if (cred->gid == D.cfg.group)
			return true;
		/* The supplementary groups as they were at connect(2): unlike
		 * /proc/<pid>/status, they cannot belong to a reused pid. */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, NULL, &glen) < 0 && errno != ERANGE)
			return false;
		if ((groups = malloc(glen ? glen : 1)) == NULL)
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0)
			for (size_t i = 0; i < glen / sizeof(gid_t); i++)
				ok |= groups[i] == D.cfg.group;
		free(groups);
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
		bool denied;

		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			if (errno == ECONNABORTED || errno == EPROTO)
				continue;
			/* EMFILE and the like: the client waits in the backlog. */
			refusal("accept: %s, with %d connections open; not accepting for %.1fs",
			    strerror(errno), n_conns, ACCEPT_PAUSE);
			ev_io_stop(loop, &listen_w);
			/* Set again: a one-shot libev timer keeps what was left. */
			ev_timer_set(&accept_resume_w, ACCEPT_PAUSE, 0.);
			ev_timer_start(loop, &accept_resume_w);
			return;
		}
		/* A refused peer is told why (PERMISSION_DENIED), and closed. */
		denied = !peer_allowed(fd, &cred);
		if (denied)
			refusal("refused a connection from uid %d gid %d pid %d: not root nor"
			    " in the --group", (int)cred.uid, (int)cred.gid, (int)cred.pid);
		if (n_conns >= max_conns && !conn_evict()) {
			refusal("refused a connection from pid %d: %d connections already, the"
			    " most allowed", (int)cred.pid, n_conns);
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
		c->gid = cred.gid;
		c->pid = cred.pid;
		c->denied = denied;
		ev_io_init(&c->rw, conn_read_cb, fd, EV_READ);
		ev_io_init(&c->ww, conn_write_cb, fd, EV_WRITE);
		ev_timer_init(&c->linger_w, conn_linger_cb, CLOSE_LINGER, 0.);
		ev_timer_init(&c->idle_w, conn_idle_cb, handshake_timeout, 0.);
		c->rw.data = c->ww.data = c->linger_w.data = c->idle_w.data = c;
		c->accepted = c->last_active = ev_now(D.loop);
		ev_io_start(D.loop, &c->rw);
		if (handshake_timeout > 0)
			ev_timer_start(D.loop, &c->idle_w);
		if (denied)
			ev_timer_start(D.loop, &c->linger_w);
		c->next = conns;
		if (conns)
			conns->prev = c;
		conns = c;
		n_conns++;
	}
}

static void serve(int fd);

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
	{
		struct stat st;

		/* Whatever else is there is not ours to remove. */
		if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
			return err_set(e, GRPC_ALREADY_EXISTS,
			    "%s exists and is not a socket; remove it or give --listen another"
			    " path", path);
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(e, GRPC_INTERNAL, "cannot remove the stale socket %s: %s", path,
		    strerror(errno));
	/* Bound and listening under a temporary name, then renamed: a client
	 * that sees the socket file can connect (no ECONNREFUSED window). */
	{
		struct sockaddr_un tmp = { .sun_family = AF_UNIX };
		int n = snprintf(tmp.sun_path, sizeof(tmp.sun_path), "%s.%d.tmp", path,
		    (int)getpid());
		bool renamed = n > 0 && (size_t)n < sizeof(tmp.sun_path);
		const struct sockaddr_un *at = renamed ? &tmp : &sa;
		mode_t old;
		int rc;

		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
			return err_set(e, GRPC_INTERNAL, "socket: %s", strerror(errno));
		if (renamed)
			unlink(tmp.sun_path);
		old = umask(0117); /* 0660 from the start: no window */
		rc = bind(fd, (const struct sockaddr *)at, sizeof(*at));
		umask(old);
		if (rc < 0) {
			close(fd);
			return err_set(e, GRPC_INTERNAL, "cannot listen on %s: %s", path,
			    strerror(errno));
		}
		chmod(at->sun_path, 0660);
		if (D.cfg.group != (gid_t)-1 && chown(at->sun_path, 0, D.cfg.group) < 0)
			log_warn("chown %s to group %d", path, (int)D.cfg.group);
		if (listen(fd, 1024) < 0 || (renamed && rename(tmp.sun_path, path) < 0)) {
			rc = errno;
			close(fd);
			if (renamed)
				unlink(tmp.sun_path);
			return err_set(e, GRPC_INTERNAL, "listen on %s: %s", path, strerror(rc));
		}
	}
	snprintf(sock_path, sizeof(sock_path), "%s", path);
	serve(fd);
	return 0;
}

int
server_adopt(int fd, struct err *e)
{
	if (D.cfg.group != (gid_t)-1)
		log_warnx("--group: not applied to a socket systemd passed (SocketGroup= in the"
			  " .socket unit sets it)");
	sock_path[0] = '\0'; /* systemd's: never unlinked here */
	serve(fd);
	return 0;
}

/* From now on fd is the listener. */
static void
serve(int fd)
{
	listen_fd = fd;
	ev_io_init(&listen_w, accept_cb, fd, EV_READ);
	ev_io_start(D.loop, &listen_w);
	ev_timer_init(&accept_resume_w, accept_resume_cb, ACCEPT_PAUSE, 0.);
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		    rl.rlim_cur / 2 < MAX_CONNECTIONS)
			max_conns = rl.rlim_cur >= 2 ? (int)(rl.rlim_cur / 2) : 1;
		log_info("clients: %d connections at most (RLIMIT_NOFILE %llu)", max_conns,
		    (unsigned long long)rl.rlim_cur);
	}
	{
		const char *h = getenv("CONTAINERD_HANDSHAKE_TIMEOUT");
		const char *i = getenv("CONTAINERD_IDLE_TIMEOUT");
		int64_t ns;

		if (h != NULL && duration_parse(h, &ns) == 0)
			handshake_timeout = (double)ns / 1e9;
		if (i != NULL && duration_parse(i, &ns) == 0)
			idle_timeout = (double)ns / 1e9;
		if (h != NULL || i != NULL)
			log_info("clients: a request within %.1fs of connecting, idle for %.1fs"
			    " at most", handshake_timeout, idle_timeout);
	}
}

void
server_close(void)
{
	while (conns != NULL) {
		conn_flush(conns);
		if (conns != NULL)
			conn_close(conns);
	}
	ev_timer_stop(D.loop, &push_soon_w);
	if (listen_fd >= 0) {
		ev_io_stop(D.loop, &listen_w);
		ev_timer_stop(D.loop, &accept_resume_w);
		close(listen_fd);
		if (sock_path[0] != '\0')
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
	r->readonly = dispatching_read;
	*replies_tail = r;
	replies_tail = &r->next;
}

void
server_reply(uint64_t call_id, const ProtobufCMessage *msg)
{
	struct reply *r = calloc(1, sizeof(*r));
	void *fixed;

	if (r == NULL)
		return;
	r->call_id = call_id;
	fixed = reply_utf8_fix(msg);
	r->len = protobuf_c_message_get_packed_size(msg);
	/* Packed behind room for the gRPC prefix: the buffer becomes the
	 * call's output as it is (grpc_call_send_take). */
	r->data = malloc(GRPC_PREFIX_LEN + r->len);
	if (r->data == NULL) {
		r->code = GRPC_RESOURCE_EXHAUSTED;
		r->msg = strdup("out of memory");
	} else {
		protobuf_c_message_pack(msg, r->data + GRPC_PREFIX_LEN);
	}
	reply_utf8_undo(fixed);
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
	r->msg = reply_utf8_text(e->msg);
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

static void
reply_send(struct reply *r, const struct err *lost)
{
	struct grpc_call *call = grpc_call_find(r->call_id);

	if (call != NULL && lost != NULL && r->code == GRPC_OK) {
		grpc_call_finish(call, lost->code, lost->msg);
	} else if (call != NULL) {
		int rc = -1;

		if (r->code == GRPC_OK) {
			rc = grpc_call_send_take(call, r->data, r->len);
			r->data = NULL; /* the call's now */
		}
		if (rc == 0)
			grpc_call_finish(call, GRPC_OK, NULL);
		else
			grpc_call_finish(call, r->code ? r->code : GRPC_INTERNAL,
			    r->msg ? r->msg : "cannot send the reply");
	}
	free(r->msg);
	free(r->data);
	free(r);
}

/* Sends the waiting replies whose commit is now durable (all of them, with
 * the error, when the sync failed). */
static void
release_waiting(const struct err *failed)
{
	while (waiting != NULL && (failed != NULL || waiting->commit <= store_durable(D.store))) {
		struct reply *r = waiting;

		if ((waiting = r->next) == NULL)
			waiting_tail = &waiting;
		reply_send(r, failed);
	}
}

/* A stalled store: the replies waiting past STALL_REPLY_WAIT for a commit
 * not yet made are told so. Their change is made (in the model, and kept
 * in the store's journal), so the answer says it will be recorded. */
static void
expire_waiting(const struct err *why)
{
	ev_tstamp now = ev_now(D.loop);
	struct reply **pp = &waiting, *r;
	struct err e;

	err_set(&e, GRPC_UNAVAILABLE, "the change is made but not yet recorded: %s. It is kept"
	    " in memory and recorded once the database can be written", why->msg);
	while ((r = *pp) != NULL) {
		if (r->commit <= store_commits(D.store) || now - r->since < STALL_REPLY_WAIT) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		reply_send(r, &e);
	}
	waiting_tail = &waiting;
	while (*waiting_tail != NULL)
		waiting_tail = &(*waiting_tail)->next;
}

static void
retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct err e = { 0 };
	int n = store_unwritten(D.store);

	/* (A create or exec may have retried it already, successfully.) */
	if (store_retry(D.store, &e) == 0) {
		log_info("database: the change(s) kept in memory are recorded (%d left for this"
			 " retry), %.1fs after the first failed commit", n,
		    ev_now(loop) - stalled_since);
		retry_delay = RETRY_MIN;
		return; /* server_before_sleep, next, syncs and answers */
	}
	if (ev_now(loop) - stall_logged >= 10.0) {
		log_errorx("database: still cannot record %d change(s) kept in memory: %s", n,
		    e.msg);
		stall_logged = ev_now(loop);
	}
	expire_waiting(&e);
	retry_delay = retry_delay * 2 < RETRY_MAX ? retry_delay * 2 : RETRY_MAX;
	ev_timer_set(w, retry_delay, 0.);
	ev_timer_start(loop, w);
}

static void
sync_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct err e = { 0 };

	if (store_sync_reap(D.store, &e) < 0) {
		log_errorx("%s: the changes waiting for it are answered with this error", e.msg);
		release_waiting(&e);
	}
	/* server_before_sleep, next, sends what became durable. */
}

void
server_sync_start(void)
{
	struct err e = { 0 };

	ev_timer_init(&retry_w, retry_cb, RETRY_MIN, 0.);
	if (store_sync_async(D.store, &e) < 0) {
		log_info("database: synchronous=FULL (%s)", e.msg);
		return;
	}
	ev_io_init(&sync_w, sync_cb, store_sync_fd(D.store), EV_READ);
	ev_io_start(D.loop, &sync_w);
	log_debug("database: commits synced by asynchronous fdatasync");
}

void
server_before_sleep(void)
{
	struct err e = { 0 };
	uint64_t commit;

	/* A stall is noticed (and logged) once; retry_cb takes it from there. */
	if ((store_in_transaction(D.store) ||
		(store_stalled(D.store) && !ev_is_active(&retry_w))) &&
	    store_commit(D.store, &e) < 0) {
		/* Nothing is lost: the store keeps it and retry_cb writes it. */
		log_errorx("commit failed: %s; %d change(s) kept in memory, retried until"
			   " recorded", e.msg, store_unwritten(D.store));
		stalled_since = stall_logged = ev_now(D.loop);
	}
	if (store_stalled(D.store) && !ev_is_active(&retry_w)) {
		retry_delay = RETRY_MIN;
		ev_timer_set(&retry_w, retry_delay, 0.);
		ev_timer_start(D.loop, &retry_w);
	}
	/* Every reply of this iteration waits for everything written so far
	 * (its own changes, and those it may have seen) to be committed and
	 * durable, except reads; a stalled store's next commit holds them. */
	commit = store_commit_target(D.store);
	store_sync_kick(D.store);
	while (replies != NULL) {
		struct reply *r = replies;

		if ((replies = r->next) == NULL)
			replies_tail = &replies;
		if (r->readonly || r->code != GRPC_OK || commit <= store_durable(D.store)) {
			reply_send(r, NULL);
			continue;
		}
		r->commit = commit;
		r->since = ev_now(D.loop);
		r->next = NULL;
		*waiting_tail = r;
		waiting_tail = &r->next;
	}
	/* A container whose exit became durable leaves the model first: a
	 * client that sees the exit can create its id at once; and what waits
	 * for a durable forget (a container's logs) is gone before the reply
	 * that acknowledges it. */
	retention_durable();
	release_waiting(NULL);
	events_push();
	server_flush();
}
