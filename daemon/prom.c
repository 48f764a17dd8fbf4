/*
 * prom: GET /metrics for Prometheus on --metrics-address (a loopback
 * host:port or a unix socket path), plain HTTP/1.1, on the daemon's one
 * loop.
 *
 * Nothing here blocks or waits: sockets are non-blocking; a request head is
 * at most REQUEST_MAX bytes (431 past it) and must arrive within the
 * timeout of the connect, its answer be read within the timeout of its
 * start (a peer that never speaks or never reads is dropped); at most
 * MAX_CLIENTS at once (at the cap the longest-silent one makes room if it
 * has been silent a second, else the newcomer is told 503). Every answer says Connection: close; after it
 * the write side is shut and what the peer still sends is read away for a
 * moment, so that the close does not reset the answer out of its hands.
 *
 * A scrape: the registry (metrics.c) and a list of the containers (ids,
 * states, pids) at once, from memory; then each container's state line and
 * each running one's memory usage from its cgroup, SLICE_NS of them per
 * loop iteration, so that 10,000 containers delay the loop by a slice at a
 * time, never by the whole scrape. Clients that ask while a scrape is
 * being built share it.
 *
 * The socket path: refused if something listens there or if it is not a
 * socket; a dead socket is removed only if this state dir's record
 * (LAYOUT_METRICS_RECORD: its device and inode) proves the daemon made it. The
 * daemon removes its socket and the record when it stops.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "prom.h"

#define MAX_CLIENTS 32
#define REQUEST_MAX 8192
/* Seconds to send a request head, and again to read the answer;
 * CONTAINERD_METRICS_TIMEOUT (a duration) sets it, for tests. */
#define TIMEOUT 10.0
#define LINGER 2.0			/* s, reading away after the answer */
#define LINGER_MAX (256 << 10)		/* bytes read away at most */
#define ACCEPT_PAUSE 0.5
#define EVICT_AFTER 1.0			/* s silent before a newcomer may push one out */
#define SLICE_NS (2 * 1000000LL)	/* cgroup reads per loop iteration */
#define BODY_MAX (256u << 20)
#define SLOW_SCRAPE_NS (1000 * 1000000LL)
#define CGROUP_ROOT "/sys/fs/cgroup"

static const char content_type[] = "text/plain; version=0.0.4; charset=utf-8";

/* One container as the scrape found it. */
struct item {
	pid_t pid;			/* its init's, while it runs; 0: no memory to read */
	uint32_t id_off;		/* its escaped id in ids */
	enum container_status status;
};

struct scrape {
	int refs;			/* clients holding it */
	bool building;
	struct prom_buf b;
	struct item *items;
	size_t n_items;
	size_t next;			/* 0..n: state lines; n..2n: memory */
	bool mem_head;			/* the memory family's HELP and TYPE are in */
	struct prom_buf ids;		/* escaped ids, NUL-separated */
	int64_t started, cost_ns;
	size_t reads, reads_failed;
};

enum pc_state { PC_READING, PC_WAITING, PC_WRITING, PC_LINGER };

struct pclient {
	struct pclient *next, *prev;
	int fd;
	enum pc_state state;
	ev_io rw, ww;
	ev_timer tw;
	ev_tstamp since;
	char req[REQUEST_MAX];
	size_t req_len;
	bool head;
	char hdr[512];			/* the status line and headers (and an error's body) */
	size_t hdr_len;
	struct scrape *s;		/* the body, when 200 */
	size_t off;			/* sent of hdr, then of the body */
	size_t drained;
};

static struct {
	bool on;
	bool unix_sock;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char record[PATH_MAX];
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char shown[300];		/* for messages */
	int fd;
	dev_t dev;
	ino_t ino;
	ev_io listen_w;
	ev_timer resume_w, slice_w;
	struct pclient *clients;
	int n_clients;
	double timeout;
	struct scrape *building;
	unsigned refused;
	ev_tstamp refused_logged;
} P = { .fd = -1 };

static void client_close(struct pclient *c);
static void client_write(struct pclient *c);

/* ---------------------------------------------------------------- address */

/* 127.0.0.0/8, ::1, ::ffff:127.x */
static bool
loopback_parse(const char *host, struct sockaddr_storage *ss, socklen_t *len, int port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*len = sizeof(*in);
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127);
	}
	return false;
}

int
prom_check(struct err *e)
{
	const char *a = D.cfg.metrics_address, *colon, *host;
	char hostbuf[256];
	size_t hl;
	char *end;
	long port;

	if (a == NULL)
		return 0;
	/* unix:///path, tcp://host:port; else a path starts with / or . (or
	 * is a bare name with no colon, in the working directory). */
	if (strncmp(a, "unix://", 7) == 0)
		a += 7;
	else if (strncmp(a, "tcp://", 6) == 0) {
		a += 6;
		goto tcp;
	} else if (a[0] != '/' && a[0] != '.' && strchr(a, ':') != NULL)
		goto tcp;
	if (a[0] == '\0')
		return err_set(e, GRPC_INVALID_ARGUMENT, "--metrics-address: an empty path");
	P.unix_sock = true;
	if (a[0] != '/') {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return err_set(e, GRPC_INTERNAL, "--metrics-address %s: cannot read the working"
			    " directory: %s", a, strerror(errno));
		if ((size_t)snprintf(P.path, sizeof(P.path), "%s/%s", cwd, a) >= sizeof(P.path))
			goto too_long;
	} else if ((size_t)snprintf(P.path, sizeof(P.path), "%s", a) >= sizeof(P.path))
		goto too_long;
	snprintf(P.shown, sizeof(P.shown), "unix socket %s", P.path);
	return 0;
too_long:
	return err_set(e, GRPC_INVALID_ARGUMENT, "--metrics-address %s: a socket path must be"
	    " shorter than %zu bytes", a, sizeof(P.path));

tcp:
	if ((colon = strrchr(a, ':')) == NULL)
		goto bad;
	host = a;
	hl = (size_t)(colon - a);
	if (a[0] == '[') {
		if (hl < 2 || colon[-1] != ']')
			goto bad;
		host = a + 1;
		hl -= 2;
	} else if (memchr(a, ':', hl) != NULL)
		goto bad;	/* an IPv6 address wants its brackets */
	if (hl >= sizeof(hostbuf))
		goto bad;
	memcpy(hostbuf, host, hl);
	hostbuf[hl] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || port < 1 ||
	    port > 65535)
		return err_set(e, GRPC_INVALID_ARGUMENT, "--metrics-address %s: \"%s\" is not a port"
		    " (1 to 65535)", D.cfg.metrics_address, colon + 1);
	if (!loopback_parse(hostbuf, &P.addr, &P.addrlen, (int)port))
		return err_set(e, GRPC_INVALID_ARGUMENT, "--metrics-address %s: \"%s\" is not a"
		    " loopback address. The metrics name every container and are served without"
		    " authentication, so only this host may read them: use 127.0.0.1:%ld,"
		    " [::1]:%ld or a unix socket path (and a proxy with authentication to publish"
		    " them)", D.cfg.metrics_address, hostbuf, port, port);
	snprintf(P.shown, sizeof(P.shown), "http://%s%s%s:%ld/metrics",
	    P.addr.ss_family == AF_INET6 ? "[" : "", hostbuf,
	    P.addr.ss_family == AF_INET6 ? "]" : "", port);
	return 0;
bad:
	return err_set(e, GRPC_INVALID_ARGUMENT, "--metrics-address %s: want 127.0.0.1:PORT,"
	    " [::1]:PORT or a unix socket path", D.cfg.metrics_address);
}

/* ---------------------------------------------------------------- the socket path */

static int
record_read(dev_t *dev, ino_t *ino, char *path, size_t n)
{
	FILE *f = fopen(P.record, "re");
	unsigned long long d, i;
	char fmt[32];
	int got;

	if (f == NULL)
		return -1;
	snprintf(fmt, sizeof(fmt), "%%llu %%llu %%%zu[^\n]", n - 1);
	got = fscanf(f, fmt, &d, &i, path);
	fclose(f);
	if (got != 3)
		return -1;
	*dev = (dev_t)d;
	*ino = (ino_t)i;
	return 0;
}

static void
record_write(void)
{
	char tmp[PATH_MAX + 8];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", P.record);
	if ((f = fopen(tmp, "we")) == NULL) {
		log_warn("metrics: cannot write %s (a stale %s will be refused at the next start)",
		    tmp, P.path);
		return;
	}
	fprintf(f, "%llu %llu %s\n", (unsigned long long)P.dev, (unsigned long long)P.ino, P.path);
	if (fclose(f) != 0 || rename(tmp, P.record) < 0) {
		log_warn("metrics: cannot write %s", P.record);
		unlink(tmp);
	}
}

/* What is at P.path may go: nothing, or a dead socket this daemon made. */
static int
path_clear(struct err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	char rpath[PATH_MAX];
	dev_t rdev;
	ino_t rino;
	int fd;

	if (lstat(P.path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return err_set(e, GRPC_INTERNAL, "--metrics-address %s: %s", P.path, strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return err_set(e, GRPC_ALREADY_EXISTS, "--metrics-address %s exists and is not a"
		    " socket; remove it or give another path", P.path);
	strcpy(sa.sun_path, P.path);
	/* Non-blocking: a listener whose backlog is full answers EAGAIN
	 * rather than holding the start up. */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return err_set(e, GRPC_INTERNAL, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN) {
		close(fd);
		return err_set(e, GRPC_ALREADY_EXISTS, "--metrics-address %s: something already"
		    " listens there (another daemon?); stop it or give another path", P.path);
	}
	close(fd);
	if (record_read(&rdev, &rino, rpath, sizeof(rpath)) < 0 || rdev != st.st_dev ||
	    rino != st.st_ino || strcmp(rpath, P.path) != 0)
		return err_set(e, GRPC_ALREADY_EXISTS, "--metrics-address %s: a socket no one"
		    " listens on, which this daemon did not make (%s does not name it); remove it"
		    " if it is stale, or give another path", P.path, P.record);
	if (unlink(P.path) < 0 && errno != ENOENT)
		return err_set(e, GRPC_INTERNAL, "cannot remove the daemon's stale metrics socket"
		    " %s: %s", P.path, strerror(errno));
	log_info("metrics: removed the stale socket %s an earlier run left", P.path);
	return 0;
}

static int
listen_unix(struct err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd, rc;

	snprintf(P.record, sizeof(P.record), "%s/" LAYOUT_METRICS_RECORD, D.cfg.state_dir);
	if (path_clear(e) < 0)
		return -1;
	strcpy(sa.sun_path, P.path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return err_set(e, GRPC_INTERNAL, "socket: %s", strerror(errno));
	old = umask(0117);	/* 0660 from the start, as the API socket */
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || lstat(P.path, &st) < 0) {
		rc = errno;
		close(fd);
		return err_set(e, GRPC_INTERNAL, "--metrics-address: cannot listen on %s: %s",
		    P.path, strerror(rc));
	}
	P.dev = st.st_dev;
	P.ino = st.st_ino;
	P.fd = fd;
	record_write();
	if (D.cfg.group != (gid_t)-1 && chown(P.path, 0, D.cfg.group) < 0)
		log_warn("metrics: chown %s to group %d", P.path, (int)D.cfg.group);
	return 0;
}

static int
listen_tcp(struct err *e)
{
	int fd = socket(P.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return err_set(e, GRPC_INTERNAL, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	if (P.addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ 1 }, sizeof(int));
	if (bind(fd, (struct sockaddr *)&P.addr, P.addrlen) < 0) {
		int rc = errno;

		close(fd);
		return err_set(e, GRPC_INTERNAL, "--metrics-address %s: cannot listen: %s",
		    D.cfg.metrics_address, strerror(rc));
	}
	P.fd = fd;
	return 0;
}

/* ---------------------------------------------------------------- scrapes */

static void slice_cb(struct ev_loop *loop, ev_timer *w, int revents);

static void
scrape_free(struct scrape *s)
{
	prom_buf_free(&s->b);
	prom_buf_free(&s->ids);
	free(s->items);
	free(s);
}

static void
scrape_release(struct scrape *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	if (P.building == s) {
		/* Everyone who asked has gone: no need to finish it. */
		ev_timer_stop(D.loop, &P.slice_w);
		P.building = NULL;
	}
	scrape_free(s);
}

/* The registry and the build info, and a list of the containers (ids,
 * states, pids): all from memory, in one go. */
static struct scrape *
scrape_new(void)
{
	struct scrape *s = calloc(1, sizeof(*s));
	size_t n = 0;

	if (s == NULL)
		return NULL;
	s->b.max = BODY_MAX;
	s->started = mono_ns();
	metrics_prom_write(&s->b);
	prom_buf_printf(&s->b, "# HELP containerd_build_info This daemon's version; the value"
	    " is 1.\n# TYPE containerd_build_info gauge\ncontainerd_build_info{version=\"%d.%d.%d\","
	    "revision=\"", DAEMON_VERSION_MAJOR, DAEMON_VERSION_MINOR, DAEMON_VERSION_PATCH);
	prom_buf_label(&s->b, DAEMON_REVISION);
	prom_buf_printf(&s->b, "\"} 1\n");
	prom_buf_printf(&s->b, "# HELP containerd_container_state Each container the daemon holds,"
	    " with its state (creating, running, paused, stopped); the value is 1.\n"
	    "# TYPE containerd_container_state gauge\n");
	for (struct container *c = D.containers; c != NULL; c = c->next)
		n++;
	if ((s->items = calloc(n ? n : 1, sizeof(*s->items))) == NULL)
		s->b.failed = true;
	for (struct container *c = D.containers; c != NULL && s->items != NULL; c = c->next) {
		struct process *p = process_find(c, "init");
		struct item *it = &s->items[s->n_items++];

		it->status = c->status;
		it->id_off = (uint32_t)s->ids.len;
		if (p != NULL && p->state == PROCESS_RUNNING && p->system_pid > 0 &&
		    (c->status == CONTAINER_RUNNING || c->status == CONTAINER_PAUSED))
			it->pid = p->system_pid;
		prom_buf_label(&s->ids, c->id);
		prom_buf_put(&s->ids, "", 1);
	}
	if (s->ids.failed)
		s->b.failed = true;
	s->cost_ns = mono_ns() - s->started;
	return s;
}

/* Hands the finished text to the clients waiting for it. */
static void
scrape_done(struct scrape *s)
{
	struct pclient *next;

	P.building = NULL;
	ev_timer_stop(D.loop, &P.slice_w);
	s->building = false;
	if (mono_ns() - s->started >= SLOW_SCRAPE_NS)
		log_info("metrics: a scrape of %zu bytes took %.0f ms (%.0f ms of it on the loop; %zu"
		    " containers, %zu cgroups read, %zu not)", s->b.len,
		    (mono_ns() - s->started) / 1e6, s->cost_ns / 1e6, s->n_items, s->reads,
		    s->reads_failed);
	else
		log_debug("metrics: a scrape of %zu bytes in %.1f ms, %.1f ms on the loop (%zu"
		    " containers, %zu cgroups read, %zu not)", s->b.len,
		    (mono_ns() - s->started) / 1e6, s->cost_ns / 1e6, s->n_items, s->reads,
		    s->reads_failed);
	for (struct pclient *c = P.clients; c != NULL; c = next) {
		next = c->next;
		if (c->state == PC_WAITING && c->s == s)
			client_write(c);
	}
}

/* One slice: the containers' state lines, then their memory reads, for
 * SLICE_NS at most; then the loop's turn. The list was taken when the
 * scrape began: a container gone since shows its state then, and no
 * memory (its process is gone). */
static void
scrape_step(struct scrape *s)
{
	int64_t t0 = mono_ns();
	size_t n = s->n_items, done = 0;

	for (;;) {
		const struct item *it;
		uint64_t bytes;

		if (s->next == n && !s->mem_head) {
			prom_buf_printf(&s->b, "# HELP containerd_container_memory_usage_bytes Memory the"
			    " cgroup of a running or paused container uses (v1 memory.usage_in_bytes,"
			    " v2 memory.current).\n"
			    "# TYPE containerd_container_memory_usage_bytes gauge\n");
			s->mem_head = true;
		}
		if (s->next >= 2 * n || s->b.failed)
			break;
		if (s->next < n) {
			it = &s->items[s->next++];
			prom_buf_printf(&s->b, "containerd_container_state{id=\"%s\",state=\"%s\"} 1\n",
			    s->ids.p + it->id_off, container_status_name(it->status));
		} else {
			it = &s->items[s->next++ - n];
			if (it->pid <= 0)
				continue;
			s->reads++;
			if (prom_cgroup_memory("/proc", CGROUP_ROOT, it->pid, &bytes) == 0)
				prom_buf_printf(&s->b, "containerd_container_memory_usage_bytes{id=\"%s\"}"
				    " %llu\n", s->ids.p + it->id_off, (unsigned long long)bytes);
			else
				s->reads_failed++;
		}
		if ((++done & 15) == 0 && mono_ns() - t0 >= SLICE_NS)
			break;
	}
	s->cost_ns += mono_ns() - t0;
	if (s->next < 2 * n && !s->b.failed) {
		ev_timer_set(&P.slice_w, 0., 0.);
		ev_timer_start(D.loop, &P.slice_w);
		return;
	}
	scrape_done(s);
}

static void
slice_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	if (P.building != NULL)
		scrape_step(P.building);
}

/* ---------------------------------------------------------------- clients */

static void
client_timer_restart(struct pclient *c, double after)
{
	ev_timer_stop(D.loop, &c->tw);
	ev_timer_set(&c->tw, after, 0.);
	ev_timer_start(D.loop, &c->tw);
}

static void
client_close(struct pclient *c)
{
	ev_io_stop(D.loop, &c->rw);
	ev_io_stop(D.loop, &c->ww);
	ev_timer_stop(D.loop, &c->tw);
	close(c->fd);
	scrape_release(c->s);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		P.clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	P.n_clients--;
	free(c);
}

/* The answer is out: no more writing; what the peer still sends is read
 * away (so the close does not reset the answer) until its end, LINGER_MAX
 * bytes or LINGER. */
static void
client_linger(struct pclient *c)
{
	c->state = PC_LINGER;
	ev_io_stop(D.loop, &c->ww);
	shutdown(c->fd, SHUT_WR);
	scrape_release(c->s);
	c->s = NULL;
	if (!ev_is_active(&c->rw))
		ev_io_start(D.loop, &c->rw);
	client_timer_restart(c, LINGER);
}

static void
client_write(struct pclient *c)
{
	const char *body = NULL;
	size_t blen = 0;

	if (c->state != PC_WRITING) {
		c->state = PC_WRITING;
		ev_io_stop(D.loop, &c->rw);
		if (c->s != NULL) {
			if (c->s->b.failed) {
				/* Out of memory or past BODY_MAX: a torn exposition would
				 * be worse than none. */
				scrape_release(c->s);
				c->s = NULL;
				c->hdr_len = (size_t)snprintf(c->hdr, sizeof(c->hdr), "HTTP/1.1 500 %s\r\n"
				    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n"
				    "Connection: close\r\n\r\n%s", prom_status_text(500),
				    strlen("out of memory: no metrics\n"), "out of memory: no metrics\n");
			} else {
				c->hdr_len = (size_t)snprintf(c->hdr, sizeof(c->hdr), "HTTP/1.1 200 OK\r\n"
				    "Content-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
				    content_type, c->s->b.len);
			}
		}
		c->off = 0;
		client_timer_restart(c, P.timeout);
	}
	if (c->s != NULL && !c->head) {
		body = c->s->b.p;
		blen = c->s->b.len;
	}
	while (c->off < c->hdr_len + blen) {
		struct iovec iov[2];
		struct msghdr mh = { .msg_iov = iov };
		ssize_t n;

		if (c->off < c->hdr_len) {
			iov[0] = (struct iovec){ c->hdr + c->off, c->hdr_len - c->off };
			iov[1] = (struct iovec){ (void *)body, blen };
			mh.msg_iovlen = blen ? 2 : 1;
		} else {
			iov[0] = (struct iovec){ (void *)(body + (c->off - c->hdr_len)),
				blen - (c->off - c->hdr_len) };
			mh.msg_iovlen = 1;
		}
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!ev_is_active(&c->ww))
				ev_io_start(D.loop, &c->ww);
			return;
		}
		if (n <= 0) {
			client_close(c);	/* the peer went */
			return;
		}
		c->off += (size_t)n;
	}
	client_linger(c);
}

/* An error answer, with a line of text saying why. */
static void
client_error(struct pclient *c, int status, const char *why)
{
	c->hdr_len = (size_t)snprintf(c->hdr, sizeof(c->hdr), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n%s"
	    "Connection: close\r\n\r\n%s\n", status, prom_status_text(status), strlen(why) + 1,
	    status == 405 ? "Allow: GET, HEAD\r\n" : "", why);
	if (c->hdr_len >= sizeof(c->hdr))
		c->hdr_len = sizeof(c->hdr) - 1;
	client_write(c);
}

static void
client_request(struct pclient *c, int status)
{
	switch (status) {
	case 200:
		break;
	case 404:
		client_error(c, 404, "not found: the metrics are at /metrics");
		return;
	case 405:
		client_error(c, 405, "only GET and HEAD are served");
		return;
	case 505:
		client_error(c, 505, "HTTP/1.0 and HTTP/1.1 only");
		return;
	default:
		client_error(c, 400, "not an HTTP/1.x request");
		return;
	}
	c->state = PC_WAITING;
	ev_io_stop(D.loop, &c->rw);
	client_timer_restart(c, P.timeout);
	if (P.building == NULL) {
		struct scrape *s = scrape_new();

		if (s == NULL) {
			client_error(c, 500, "out of memory: no metrics");
			return;
		}
		s->building = true;
		P.building = s;
	}
	c->s = P.building;
	c->s->refs++;
	/* The first slice now; the rest in the next iterations (scrape_done
	 * writes to every client waiting, this one too). */
	if (c->s->refs == 1)
		scrape_step(c->s);
}

static void
client_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct pclient *c = w->data;
	ssize_t n;
	size_t head_len;
	int status;

	if (c->state == PC_LINGER) {
		char junk[4096];

		n = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n > 0 && (c->drained += (size_t)n) < LINGER_MAX)
			return;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		client_close(c);
		return;
	}
	n = recv(c->fd, c->req + c->req_len, sizeof(c->req) - c->req_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c);	/* gone before asking */
		return;
	}
	c->req_len += (size_t)n;
	status = prom_request_parse(c->req, c->req_len, &c->head, &head_len);
	if (status != 0) {
		client_request(c, status);
		return;
	}
	if (c->req_len == sizeof(c->req))
		client_error(c, 431, "the request head is too large (8 KiB at most)");
}

static void
client_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	client_write(w->data);
}

static void
client_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pclient *c = w->data;

	if (c->state == PC_READING)
		log_debug("metrics: a client sent no whole request within %.1fs: dropped",
		    P.timeout);
	else if (c->state != PC_LINGER)
		log_info("metrics: a client did not read its answer within %.1fs: dropped",
		    P.timeout);
	client_close(c);
}

/* ---------------------------------------------------------------- accepting */

static void
refusal_note(void)
{
	ev_tstamp now = ev_now(D.loop);

	P.refused++;
	if (now - P.refused_logged < 60)
		return;
	log_warnx("metrics: %u client(s) refused: %d at once is the cap", P.refused, MAX_CLIENTS);
	P.refused = 0;
	P.refused_logged = now;
}

/* At the cap: the client that has been silent longest goes, if it has been
 * for EVICT_AFTER (one that connects and says nothing must not lock
 * Prometheus out; one that has only just connected is not silent yet, and
 * a burst of clients must not push each other out). false: none such. */
static bool
make_room(void)
{
	struct pclient *old = NULL;
	double after = P.timeout < EVICT_AFTER ? P.timeout / 2 : EVICT_AFTER;

	for (struct pclient *c = P.clients; c != NULL; c = c->next)
		if ((c->state == PC_READING || c->state == PC_LINGER) &&
		    (old == NULL || c->since < old->since))
			old = c;
	if (old == NULL || ev_now(D.loop) - old->since < after)
		return false;
	log_debug("metrics: at %d clients, the longest silent one is dropped", MAX_CLIENTS);
	client_close(old);
	return true;
}

static void
resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_io_start(loop, &P.listen_w);
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	for (int k = 0; k < 16; k++) {
		int fd = accept4(P.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct pclient *c;

		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			/* Out of fds or memory: the peer waits in the backlog. */
			log_warn("metrics: accept; not accepting for %.1fs", ACCEPT_PAUSE);
			ev_io_stop(loop, &P.listen_w);
			ev_timer_start(loop, &P.resume_w);
			return;
		}
		if (P.n_clients >= MAX_CLIENTS && !make_room()) {
			/* 25: the body's length. */
			static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
			    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 25\r\n"
			    "Connection: close\r\n\r\ntoo many clients at once\n";

			(void)send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			refusal_note();
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->state = PC_READING;
		c->since = ev_now(loop);
		ev_io_init(&c->rw, client_read_cb, fd, EV_READ);
		ev_io_init(&c->ww, client_write_cb, fd, EV_WRITE);
		ev_timer_init(&c->tw, client_timeout_cb, P.timeout, 0.);
		c->rw.data = c->ww.data = c->tw.data = c;
		ev_io_start(loop, &c->rw);
		ev_timer_start(loop, &c->tw);
		c->next = P.clients;
		if (P.clients != NULL)
			P.clients->prev = c;
		P.clients = c;
		P.n_clients++;
	}
}

/* ---------------------------------------------------------------- start, stop */

int
prom_start(struct err *e)
{
	const char *t = getenv("CONTAINERD_METRICS_TIMEOUT");
	int64_t ns;

	if (D.cfg.metrics_address == NULL)
		return 0;
	P.timeout = TIMEOUT;
	if (t != NULL && duration_parse(t, &ns) == 0 && ns > 0)
		P.timeout = (double)ns / 1e9;
	if (P.unix_sock && D.cfg.listen != NULL) {
		/* The API's own socket, by whatever name: not a stranger's. */
		const char *api = D.cfg.listen;
		struct stat a, m;

		if (strncmp(api, "unix://", 7) == 0)
			api += 7;
		if (stat(api, &a) == 0 && stat(P.path, &m) == 0 && a.st_dev == m.st_dev &&
		    a.st_ino == m.st_ino)
			return err_set(e, GRPC_INVALID_ARGUMENT, "--metrics-address %s is the API's"
			    " socket (--listen); give the metrics another path", P.path);
	}
	if ((P.unix_sock ? listen_unix(e) : listen_tcp(e)) < 0)
		return -1;
	if (listen(P.fd, 64) < 0) {
		int rc = errno;

		prom_stop();
		return err_set(e, GRPC_INTERNAL, "--metrics-address %s: listen: %s",
		    D.cfg.metrics_address, strerror(rc));
	}
	P.on = true;
	ev_io_init(&P.listen_w, accept_cb, P.fd, EV_READ);
	ev_io_start(D.loop, &P.listen_w);
	ev_timer_init(&P.resume_w, resume_cb, ACCEPT_PAUSE, 0.);
	ev_timer_init(&P.slice_w, slice_cb, 0., 0.);
	log_info("metrics: Prometheus' /metrics on %s (%d clients at once, %.0fs to ask and as"
		 " long to read)", P.shown, MAX_CLIENTS, P.timeout);
	return 0;
}

void
prom_stop(void)
{
	struct stat st;

	while (P.clients != NULL)
		client_close(P.clients);
	if (P.building != NULL) {
		ev_timer_stop(D.loop, &P.slice_w);
		scrape_free(P.building);
		P.building = NULL;
	}
	if (P.fd < 0)
		return;
	ev_io_stop(D.loop, &P.listen_w);
	ev_timer_stop(D.loop, &P.resume_w);
	close(P.fd);
	P.fd = -1;
	/* Only the socket this daemon bound: another may have taken the path. */
	if (P.unix_sock && lstat(P.path, &st) == 0 && st.st_dev == P.dev && st.st_ino == P.ino) {
		unlink(P.path);
		unlink(P.record);
	}
	P.on = false;
}

const char *
prom_socket_path(void)
{
	return P.unix_sock ? P.path : NULL;
}
