/*
 * rpc_logs: containerd.records.v1.Records/Logs, a process's log records as
 * its shim wrote them (<state>/_logs/ID/PID.log and .log.1, k8s-file lines
 * "TIME STREAM F|P DATA"; see shim/logfile.h).
 *
 * A reader is one call: it reads .log.1 then .log in chunks of READ_CHUNK,
 * one chunk per loop iteration, so a huge log never holds the daemon; a
 * client that reads slowly stops it (the call's output is bounded) until
 * its stream drains. With tail, a first pass over the same files counts the
 * matching records, the second sends the last N of them. With follow, a
 * reader at the end looks again every FOLLOW_POLL: new bytes, a rotation
 * (.log is another file: the rest of the old one first, then the new one)
 * and the process's exit. The shim writes all the output before it reports
 * the exit, so once the daemon knows of the exit, one last read to the end
 * has everything: the call then ends OK.
 *
 * A call that goes away (closed) frees its reader at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "grpc.h"
#include "log.h"
#include "records.pb-c.h"
#include "timefmt.h"

#define READ_CHUNK (64 * 1024)
#define LINE_MAX_BYTES (32 * 1024)	/* a line the shim wrote is at most 8 KiB + 40 */
#define FOLLOW_POLL 0.1

struct reader {
	struct reader *next;
	uint64_t call_id;
	char *id, *pid;
	int64_t created_at;	/* of the container followed: an id re-created is not it */
	char *path, *path1;
	bool follow, counting, blocked, past_until;
	uint64_t tail, skip;	/* skip: matching records still to pass over */
	int64_t since, until;	/* ns; 0: no bound */
	int fds[2];		/* [0] the .log.1 still to read, [1] the .log; -1 done/none */
	ino_t ino;		/* of fds[1] */
	char *buf;		/* LINE_MAX_BYTES */
	size_t len;
	bool skipping;		/* inside an overlong line: drop up to its newline */
	ev_timer w;
};

static struct reader *readers;

static void
reader_free(struct reader *r)
{
	for (struct reader **pp = &readers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	ev_timer_stop(D.loop, &r->w);
	for (int k = 0; k < 2; k++)
		if (r->fds[k] >= 0)
			close(r->fds[k]);
	free(r->id);
	free(r->pid);
	free(r->path);
	free(r->path1);
	free(r->buf);
	free(r);
}

static struct reader *
reader_find(uint64_t call_id)
{
	for (struct reader *r = readers; r != NULL; r = r->next)
		if (r->call_id == call_id)
			return r;
	return NULL;
}

void
logs_call_closed(uint64_t call_id)
{
	struct reader *r = reader_find(call_id);

	if (r != NULL) {
		log_debug("logs: reader %llu gone", (unsigned long long)call_id);
		reader_free(r);
	}
}

void
logs_call_drained(uint64_t call_id)
{
	struct reader *r = reader_find(call_id);

	if (r != NULL && r->blocked) {
		r->blocked = false;
		ev_timer_stop(D.loop, &r->w);
		ev_timer_set(&r->w, 0., 0.);
		ev_timer_start(D.loop, &r->w);
	}
}

/*
 * Whether a follower goes on: until the exit is recorded (and durable), so a
 * client whose -f ended finds the exit in State and the events. An exec
 * leaves the model when its exit is recorded; the init's container stays
 * (listed "stopped") until the commit holding the exit is durable.
 */
static bool
process_live(const struct reader *r)
{
	struct container *c = container_find(r->id);
	struct process *p;

	if (c == NULL || c->created_at != r->created_at)
		return false;
	p = process_find(c, r->pid);
	if (p == NULL)
		return false;
	return strcmp(r->pid, "init") == 0 || p->state != PROCESS_EXITED;
}

/* Opens .log (and, the first time, .log.1 before it). */
static void
open_files(struct reader *r, bool first)
{
	struct stat a, b;
	int fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return;
	if (fstat(fd, &a) < 0) {
		close(fd);
		return;
	}
	r->fds[1] = fd;
	r->ino = a.st_ino;
	if (!first)
		return;
	/* .log.1 after .log: a rotation between the two opens makes .log.1
	 * the file just opened, which is then read once, as .log. */
	fd = open(r->path1, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && fstat(fd, &b) == 0 && b.st_ino != a.st_ino)
		r->fds[0] = fd;
	else if (fd >= 0)
		close(fd);
}

/* One file line: 1 and its parts when it is a record, 0 when not. */
static int
parse_line(const char *l, size_t n, int64_t *ts, const char **stream, bool *partial,
    const char **data, size_t *dlen)
{
	char t[TIME_FMT_LEN];
	size_t k;

	if (n < TIME_FMT_WIDTH + 10 || l[TIME_FMT_WIDTH] != ' ')
		return 0;
	memcpy(t, l, TIME_FMT_WIDTH);
	t[TIME_FMT_WIDTH] = '\0';
	if (time_parse(t, 0, ts) < 0)
		return 0;
	k = TIME_FMT_WIDTH + 1;
	if (memcmp(l + k, "stdout ", 7) == 0)
		*stream = "stdout";
	else if (memcmp(l + k, "stderr ", 7) == 0)
		*stream = "stderr";
	else
		return 0;
	k += 7;
	if ((l[k] != 'F' && l[k] != 'P') || l[k + 1] != ' ')
		return 0;
	*partial = l[k] == 'P';
	k += 2;
	*data = l + k;
	*dlen = n - k;
	return 1;
}

/* One record: counted, passed over or sent. -1 when the call failed. */
static int
emit(struct reader *r, struct grpc_call *call, const char *l, size_t n)
{
	Containerd__Records__V1__LogRecord m = CONTAINERD__RECORDS__V1__LOG_RECORD__INIT;
	Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	const char *stream, *data;
	size_t dlen, size;
	int64_t ts;
	bool partial;
	uint8_t *buf;
	int rc;

	if (!parse_line(l, n, &ts, &stream, &partial, &data, &dlen))
		return 0;
	if (r->until > 0 && ts > r->until) {
		r->past_until = true;	/* records are in time order: none after it matches */
		return 0;
	}
	if (r->since > 0 && ts < r->since)
		return 0;
	if (r->counting) {
		r->skip++;
		return 0;
	}
	if (r->skip > 0) {
		r->skip--;
		return 0;
	}
	t.seconds = ts / 1000000000;
	t.nanos = (int32_t)(ts % 1000000000);
	m.time = &t;
	m.stream = (char *)stream;
	m.data.data = (uint8_t *)data;
	m.data.len = dlen;
	m.partial = partial;
	m.pid = r->pid;
	size = containerd__records__v1__log_record__get_packed_size(&m);
	if ((buf = malloc(GRPC_PREFIX_LEN + size)) == NULL)
		return -1;
	containerd__records__v1__log_record__pack(&m, buf + GRPC_PREFIX_LEN);
	rc = grpc_call_send_take(call, buf, size);
	if (rc == 0 && !grpc_call_writable(call))
		r->blocked = true;
	return rc;
}

/*
 * Reads one chunk of the current file and handles its whole lines. Returns
 * 1 when bytes were read, 0 at the file's end, -1 when the call failed.
 */
static int
read_chunk(struct reader *r, struct grpc_call *call, int fd)
{
	ssize_t n;
	size_t off = 0, want = LINE_MAX_BYTES - r->len;
	char *nl;

	if (want > READ_CHUNK)
		want = READ_CHUNK;
	do
		n = read(fd, r->buf + r->len, want);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	r->len += (size_t)n;
	while (!r->blocked && !r->past_until &&
	    (nl = memchr(r->buf + off, '\n', r->len - off)) != NULL) {
		if (!r->skipping && emit(r, call, r->buf + off, (size_t)(nl - r->buf) - off) < 0)
			return -1;
		r->skipping = false;
		off = (size_t)(nl - r->buf) + 1;
	}
	if (off == 0 && r->len == LINE_MAX_BYTES) {
		r->skipping = true;	/* no line of ours is that long: not a record */
		off = r->len;
	}
	memmove(r->buf, r->buf + off, r->len - off);
	r->len -= off;
	return 1;
}

/* The current file's end: the next file, or the end of this pass. */
static void
next_file(struct reader *r)
{
	int k = r->fds[0] >= 0 ? 0 : 1;

	close(r->fds[k]);
	r->fds[k] = -1;
	r->len = 0;
	r->skipping = false;
}

/* The reader goes first: whatever the finish calls back finds none. */
static void
finish(struct reader *r, struct grpc_call *call, int code, const char *msg)
{
	reader_free(r);
	if (call != NULL)
		grpc_call_finish(call, code, msg);
}

static void
reader_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct reader *r = w->data;
	struct grpc_call *call = grpc_call_find(r->call_id);
	bool live;
	int k, rc;

	if (call == NULL) {
		reader_free(r);
		return;
	}
	/* Before the read: an exit seen now means the file is complete. */
	live = r->follow && !r->counting && process_live(r);
	if (r->fds[0] < 0 && r->fds[1] < 0 && r->ino == 0)
		open_files(r, true);	/* the shim had not made it yet */
	k = r->fds[0] >= 0 ? 0 : 1;
	if (r->fds[k] >= 0) {
		rc = read_chunk(r, call, r->fds[k]);
		if (rc < 0) {
			finish(r, call, GRPC_INTERNAL, "cannot send a log record");
			return;
		}
		if (r->blocked)
			return;	/* logs_call_drained starts the timer again */
		if (r->past_until && !r->counting) {
			finish(r, call, GRPC_OK, NULL);
			return;
		}
		if (rc > 0 && !r->past_until) {
			ev_timer_set(w, 0., 0.);
			ev_timer_start(loop, w);
			return;
		}
		if (k == 0 && !r->past_until) {	/* .log.1 is done: on to .log */
			next_file(r);
			ev_timer_set(w, 0., 0.);
			ev_timer_start(loop, w);
			return;
		}
	}
	/* At the end of .log (or there is none). */
	if (r->counting) {
		/* Counted: now the same files from their start, sending. */
		r->counting = false;
		r->past_until = false;
		r->skip = r->skip > r->tail ? r->skip - r->tail : 0;
		for (k = 0; k < 2; k++)
			if (r->fds[k] >= 0)
				close(r->fds[k]);
		r->fds[0] = r->fds[1] = -1;
		r->ino = 0;
		r->len = 0;
		r->skipping = false;
		open_files(r, true);
		ev_timer_set(w, 0., 0.);
		ev_timer_start(loop, w);
		return;
	}
	/* A rotation gave .log to a new file: it follows once ours is read out. */
	{
		struct stat st;

		if (stat(r->path, &st) == 0 && (r->fds[1] < 0 || st.st_ino != r->ino)) {
			if (r->fds[1] >= 0)
				next_file(r);
			open_files(r, false);
			if (r->fds[1] >= 0) {
				ev_timer_set(w, 0., 0.);
				ev_timer_start(loop, w);
				return;
			}
		}
	}
	if (!live) {
		finish(r, call, GRPC_OK, NULL);
		return;
	}
	ev_timer_set(w, FOLLOW_POLL, 0.);
	ev_timer_start(loop, w);
}

struct lookup {
	const char *pid;
	bool found, own_stdio;
	char what[PATH_MAX_LEN + 32];
};

static int
lookup_cb(void *arg, const struct store_process *p)
{
	struct lookup *l = arg;

	if (strcmp(p->pid, l->pid) != 0)
		return 0;
	l->found = true;
	if (p->stdout_path[0] != '\0' || p->stderr_path[0] != '\0') {
		l->own_stdio = true;
		snprintf(l->what, sizeof(l->what), "%s",
		    p->stdout_path[0] != '\0' ? p->stdout_path : p->stderr_path);
	}
	return 1;
}

static int64_t
ts_ns(const Google__Protobuf__Timestamp *t)
{
	return t == NULL ? 0 : t->seconds * 1000000000 + t->nanos;
}

void
logs_start(uint64_t call_id, const Containerd__Records__V1__LogsRequest *req)
{
	const char *pid = req->pid[0] != '\0' ? req->pid : "init";
	struct lookup l = { .pid = pid };
	struct container *c;
	struct reader *r;
	char path[PATH_MAX_LEN + 320];
	struct err e;
	int known;

	if (validate_id("container id", req->id, &e) < 0 ||
	    validate_id("process id (pid)", pid, &e) < 0) {
		server_reply_error(call_id, &e);
		return;
	}
	if (store_processes_foreach(D.store, req->id, lookup_cb, &l, &e) < 0) {
		server_reply_error(call_id, &e);
		return;
	}
	if (!l.found) {
		known = store_container_known(D.store, req->id, &e);
		if (known < 0) {
			server_reply_error(call_id, &e);
			return;
		}
		if (known)
			err_set(&e, GRPC_NOT_FOUND, MSG_PROCESS_NOT_FOUND
			    ": container %s has no process %s", req->id, pid);
		else
			err_set(&e, GRPC_NOT_FOUND, MSG_CONTAINER_NOT_FOUND
			    ": no such container: %s", req->id);
		server_reply_error(call_id, &e);
		return;
	}
	if (l.own_stdio) {
		err_set(&e, GRPC_FAILED_PRECONDITION, "container %s process %s has no log: it was"
		    " started with its own stdio (its output went to %s)", req->id, pid, l.what);
		server_reply_error(call_id, &e);
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		server_reply_error(call_id, &e);
		return;
	}
	r->fds[0] = r->fds[1] = -1;
	layout_log_path(req->id, pid, path, sizeof(path));
	r->id = strdup(req->id);
	r->pid = strdup(pid);
	r->path = strdup(path);
	if (asprintf(&r->path1, "%s.1", path) < 0)
		r->path1 = NULL;
	r->buf = malloc(LINE_MAX_BYTES);
	if (r->id == NULL || r->pid == NULL || r->path == NULL || r->path1 == NULL ||
	    r->buf == NULL) {
		r->next = readers;
		readers = r;	/* reader_free unlinks it */
		reader_free(r);
		err_set(&e, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		server_reply_error(call_id, &e);
		return;
	}
	r->call_id = call_id;
	r->follow = req->follow;
	r->tail = req->tail;
	r->counting = req->tail > 0;
	r->since = ts_ns(req->since);
	r->until = ts_ns(req->until);
	if ((c = container_find(req->id)) != NULL)
		r->created_at = c->created_at;
	open_files(r, true);
	ev_timer_init(&r->w, reader_cb, 0., 0.);
	r->w.data = r;
	ev_timer_start(D.loop, &r->w);
	r->next = readers;
	readers = r;
	log_debug("logs: reader %llu for %s/%s%s%s", (unsigned long long)call_id, r->id, r->pid,
	    r->follow ? ", following" : "", r->tail ? ", tail" : "");
}
