/*
 * shimctl: the daemon's side of containerd-shim. Spawns a shim per process
 * with a sync pipe on its fd 3, reads its report lines ("created PID",
 * "error MSG", "oom"), and learns of its exit through reap.c (our own
 * child) or a pidfd (a shim adopted after a restart). The exit status
 * itself always comes from the exit file the shim wrote.
 *
 * A shim that dies before its process (killed, say) leaves that process
 * without its stdio and its supervisor: as the 2017 daemon did, the
 * daemon kills it and records its exit, 137, with a note saying why
 * (shimctl_kill_orphan). An exit file the shim wrote still wins.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"


static int
pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/*
 * Pid reuse. A pid the daemon keeps names its process only while that
 * process lives: after it exits (while the daemon is down, say) another may
 * get the same number. Its start time (/proc/<pid>/stat starttime, clock
 * ticks since boot) tells them apart. A row from before schema 005 has no
 * start time: then the pid is taken only if its process started before
 * the row's start was recorded (a stranger that reused it started after
 * the recorded process exited, so after that).
 */
static int64_t
ticks_to_ns(int64_t ticks)
{
	static long hz;

	if (hz <= 0 && (hz = sysconf(_SC_CLK_TCK)) <= 0)
		hz = 100;
	return ticks * (1000000000 / hz);
}

bool
shimctl_pid_is(const struct process *p)
{
	int64_t st;
	struct timespec boot;

	if (p->system_pid <= 0 || (st = proc_start_time(p->system_pid)) == 0)
		return false;
	if (p->start_time != 0)
		return st == p->start_time;
	if (p->started_at <= 0 || clock_gettime(CLOCK_BOOTTIME, &boot) < 0)
		return false;
	/* Its start on the wall clock: now less its age. Ticks are 10 ms. */
	{
		int64_t age = (int64_t)boot.tv_sec * 1000000000 + boot.tv_nsec - ticks_to_ns(st);

		return now_ns() - age <= p->started_at + ticks_to_ns(2);
	}
}

int
shimctl_pidfd(const struct process *p)
{
	int fd;

	if (p->system_pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	if ((fd = pidfd_open_(p->system_pid)) < 0)
		return -1;
	/* Checked after the open: the pidfd holds that very process. */
	if (!shimctl_pid_is(p)) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

static int sync_drain(struct process *p);

/* Notes of an exit whose process was killed because its shim died. */
#define SHIM_KILLED_NOTE \
	"its shim was killed: the process was killed with it, having lost its stdio and its" \
	" supervisor"
#define SHIM_DIED_NOTE \
	"its shim died: the process was killed with it, having lost its stdio and its" \
	" supervisor"

/* The note for an orphan's exit with status: why, if it is the kill's. */
static const char *
orphan_note(const struct process *p, int status)
{
	return status == 128 + SIGKILL ? p->shim_lost_note : NULL;
}

/*
 * The process whose sync line a handler is working on. A handler may free
 * it (a failed exec frees its process at once): process_free then clears
 * this, and the reader touches p no more (found by ASan).
 */
static struct process *sync_current;

/* How many processes are orphans (their shim gone, watched themselves). */
static size_t n_orphans;

static void
set_orphan(struct process *p, bool on)
{
	if (p->orphan != on)
		n_orphans += on ? 1 : (size_t)-1;
	p->orphan = on;
	/* An orphan is our child (we are its subreaper) that no watcher
	 * waits for: its exit is found only by a sweep. */
	reap_sweep_always(n_orphans > 0);
}

void
shimctl_process_freed(struct process *p)
{
	if (p == sync_current)
		sync_current = NULL;
	set_orphan(p, false);
}

/*
 * The daemon is a child subreaper (shimctl_init): when a shim dies while we
 * run, the container process it supervised becomes our child, so its real
 * exit status still reaches us. reap.c hands us the children no watcher
 * was waiting for, found by its sweeps (every SIGCHLD while there are
 * orphans; see set_orphan). One that belongs to a
 * process whose shim is gone is that process's exit; one that comes before
 * we learned of the shim's death (waitpid's order is not ours) is kept for
 * shim_gone to find.
 */
#define REAPED_KEPT 64
static struct {
	pid_t pid;
	int status;
	int64_t at;
} reaped[REAPED_KEPT];
static unsigned reaped_next;

static struct process *
orphan_find(pid_t pid)
{
	/* Nearly always none: then every reaped runtime call would walk all
	 * processes for nothing (10% of the daemon's CPU at 7,500 running). */
	if (n_orphans == 0)
		return NULL;
	for (struct container *c = D.containers; c != NULL; c = c->next)
		for (struct process *p = c->procs; p != NULL; p = p->next)
			if (p->orphan && p->system_pid == pid && p->state == PROCESS_RUNNING)
				return p;
	return NULL;
}

static void
any_child(pid_t pid, int wstatus)
{
	struct process *p;

	if (!WIFEXITED(wstatus) && !WIFSIGNALED(wstatus))
		return;
	if ((p = orphan_find(pid)) != NULL) {
		int status = exit_status_of(wstatus);

		shimctl_stop_watching(p);
		process_exited(p, status, now_ns(), orphan_note(p, status));
		return;
	}
	reaped[reaped_next % REAPED_KEPT].pid = pid;
	reaped[reaped_next % REAPED_KEPT].status = exit_status_of(wstatus);
	reaped[reaped_next % REAPED_KEPT].at = now_ns();
	reaped_next++;
}

/* The kept exit of pid, taken out: 0, or -1 if none. */
static int
reaped_take(pid_t pid, int *status, int64_t *at)
{
	for (unsigned k = 0; k < REAPED_KEPT; k++) {
		if (pid > 0 && reaped[k].pid == pid) {
			*status = reaped[k].status;
			*at = reaped[k].at;
			reaped[k].pid = 0;
			return 0;
		}
	}
	return -1;
}

void
shimctl_init(void)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("cannot become a child subreaper: a process whose shim dies will end"
			 " with an unknown status");
	reap_init(any_child);
}

pid_t
shimctl_read_pid_file(const char *dir)
{
	char path[PATH_MAX_LEN + 300], buf[32];
	ssize_t n;
	long v;
	int fd;

	snprintf(path, sizeof(path), "%s/pid", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	v = strtol(buf, NULL, 10);
	return v > 0 && v < 0x7fffffff ? (pid_t)v : 0;
}

void
shimctl_found_started(struct process *p, pid_t pid, int64_t start_time)
{
	int64_t now = now_ns();
	struct err e;

	if (p->timers != NULL && ev_is_active(&p->timers->start_w))
		ev_timer_stop(D.loop, &p->timers->start_w);
	p->system_pid = pid;
	p->start_time = start_time;
	p->state = PROCESS_RUNNING;
	p->started_at = now;
	if (store_process_started(D.store, p->ctr->id, p->name, pid, p->shim_pid,
		p->shim_start_time, now, &e) < 0 ||
	    store_process_set_start_time(D.store, p->ctr->id, p->name, start_time, &e) < 0)
		log_warnx("container %s process %s: %s", p->ctr->id, p->name, e.msg);
	event_record("start-process", p->ctr->id, p->name, 0, now, &e);
	log_warnx("container %s: exec %s was being started when the daemon stopped; it started"
		  " (pid %d): recorded now", p->ctr->id, p->name, (int)pid);
}

static void
starting_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct process *p = w->data;
	pid_t pid = shimctl_read_pid_file(p->dir);

	if (pid > 0)
		shimctl_found_started(p, pid, proc_start_time(pid));
}

/* A shim adopted while it was starting an exec ended: the pid file says
 * whether the exec ever ran. false: it did not, and p is gone. */
static bool
starting_shim_gone(struct process *p)
{
	pid_t pid;

	if (p->timers != NULL && ev_is_active(&p->timers->start_w))
		ev_timer_stop(D.loop, &p->timers->start_w);
	if ((pid = shimctl_read_pid_file(p->dir)) <= 0) {
		p->shim_pid = 0;
		op_exec_forget(p, "was being started when the daemon stopped, and its runtime"
				  " never ran it");
		return false;
	}
	shimctl_found_started(p, pid, proc_start_time(pid));
	return true;
}

/* A shim's end as the log says it: "was killed (signal 9)", "exited with
 * status 2", or "died" when not known (an adopted shim is not our child). */
static const char *
shim_end_text(int wstatus, char *buf, size_t n)
{
	if (wstatus >= 0 && WIFSIGNALED(wstatus))
		snprintf(buf, n, "was killed (signal %d)", WTERMSIG(wstatus));
	else if (wstatus >= 0 && WIFEXITED(wstatus))
		snprintf(buf, n, "exited with status %d", WEXITSTATUS(wstatus));
	else
		snprintf(buf, n, "died");
	return buf;
}

/* shim_wstatus: its wait status, -1 when not known (not our child). */
static void
shim_gone(struct process *p, int shim_wstatus)
{
	int status;
	int64_t at;
	char how[64];

	if (sync_drain(p) < 0)
		return; /* a report line's handler freed p */
	if (p->state == PROCESS_CREATING && p->op_id == 0 && strcmp(p->name, "init") != 0 &&
	    !starting_shim_gone(p))
		return;
	if (p->state == PROCESS_CREATING) {
		if (strcmp(p->name, "init") == 0)
			op_create_shim_died(p);
		else
			op_exec_shim_died(p);
		return;
	}
	if (p->state == PROCESS_EXITED)
		return;
	if (process_read_exit_file(p->dir, &status, &at) == 0) {
		process_exited(p, status, at, NULL);
		return;
	}
	if (p->exit_reported) {
		log_warnx("container %s process %s: its shim could not write the exit file (see"
			  " its shim.log; a full disk?): the status it reported is recorded",
		    p->ctr->id, p->name);
		process_exited(p, p->reported_status, p->reported_at, NULL);
		return;
	}
	/* The shim died (killed?) before its process: the process is our
	 * child now (we are a subreaper), and an exit that came already is
	 * its own, real status. */
	shim_end_text(shim_wstatus, how, sizeof(how));
	if (reaped_take(p->system_pid, &status, &at) == 0) {
		log_warnx("container %s process %s: its shim %s; the process's own exit"
			  " status %d came to the daemon", p->ctr->id, p->name, how, status);
		process_exited(p, status, at, NULL);
		return;
	}
	/* Still running, without its stdio and its supervisor: killed, as
	 * the 2017 daemon did; its exit comes to any_child_cb or pidfd_cb. */
	if (p->system_pid > 0 &&
	    shimctl_kill_orphan(p, shim_wstatus >= 0 && WIFSIGNALED(shim_wstatus) ?
		SHIM_KILLED_NOTE : SHIM_DIED_NOTE) == 0) {
		log_warnx("container %s process %s: its shim %s while the process ran: killing"
			  " the process (pid %d), which lost its stdio and its supervisor",
		    p->ctr->id, p->name, how, (int)p->system_pid);
		return;
	}
	process_exited(p, 255, now_ns(),
	    "the shim exited without recording the exit status, and the process is gone:"
	    " unknown");
}

static void
shim_reported(struct process *p, pid_t pid, const char *errmsg)
{
	if (strcmp(p->name, "init") == 0)
		op_create_shim_reported(p, pid, errmsg);
	else
		op_exec_shim_reported(p, pid, errmsg);
}

static void
handle_line(struct process *p, char *line)
{
	if (strncmp(line, "created ", 8) == 0) {
		long pid = strtol(line + 8, NULL, 10);
		struct err e;

		if (p->state != PROCESS_CREATING || pid <= 0)
			return;
		/* Read at once: the pid is checked against it for ever after. */
		p->start_time = proc_start_time((pid_t)pid);
		if (store_process_set_start_time(D.store, p->ctr->id, p->name, p->start_time,
			&e) < 0)
			log_warnx("container %s process %s: %s", p->ctr->id, p->name, e.msg);
		shim_reported(p, (pid_t)pid, NULL);
	} else if (strncmp(line, "error ", 6) == 0) {
		if (p->state == PROCESS_CREATING)
			shim_reported(p, 0, line + 6);
	} else if (strncmp(line, "exited ", 7) == 0) {
		int status;
		long long at;

		if (sscanf(line + 7, "%d %lld", &status, &at) == 2) {
			p->exit_reported = true;
			p->reported_status = status;
			p->reported_at = (int64_t)at;
		}
	} else if (strcmp(line, "oom") == 0) {
		struct err e;

		log_warnx("container %s: out of memory", p->ctr->id);
		/* No pid, as the 2017 daemon sent it. */
		event_record("oom", p->ctr->id, "", 0, now_ns(), &e);
	} else {
		log_warnx("container %s process %s: unexpected line from the shim: %s",
		    p->ctr->id, p->name, line);
	}
}

/* The longest report line; a longer one is dropped. */
#define SYNC_LINE_MAX 1024

/*
 * Reads what the shim wrote; returns 1 at EOF, -1 if a handler freed p.
 * Lines are split in a buffer on the stack, so a process holds none for
 * its whole life (1 KB each, 1 MB with 1000 running): only a line cut
 * short by the pipe is kept, on the heap, until the rest arrives.
 */
static int
sync_read(struct process *p)
{
	char buf[SYNC_LINE_MAX];
	size_t len = 0;

	if (p->sync_part != NULL) {
		len = p->sync_len;
		memcpy(buf, p->sync_part, len);
		free(p->sync_part);
		p->sync_part = NULL;
		p->sync_len = 0;
	}
	for (;;) {
		ssize_t n = read(p->sync_fd, buf + len, sizeof(buf) - 1 - len);
		char *line, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			return 1;
		len += (size_t)n;
		buf[len] = '\0';
		line = buf;
		while ((nl = memchr(line, '\n', len - (size_t)(line - buf))) != NULL) {
			*nl = '\0';
			sync_current = p;
			handle_line(p, line);
			if (sync_current == NULL)
				return -1;
			sync_current = NULL;
			if (p->sync_fd < 0)
				return 1; /* the handler let go of p's watchers */
			line = nl + 1;
		}
		len -= (size_t)(line - buf);
		memmove(buf, line, len);
		if (len == sizeof(buf) - 1)
			len = 0; /* an over-long line: drop it */
	}
	if (len > 0 && (p->sync_part = malloc(len)) != NULL) {
		memcpy(p->sync_part, buf, len);
		p->sync_len = len;
	}
	return 0;
}

static void
sync_close(struct process *p)
{
	if (p->sync_fd >= 0) {
		ev_io_stop(D.loop, &p->sync_w);
		close(p->sync_fd);
		p->sync_fd = -1;
		/* Its shim has closed its end, or is of no more use to us:
		 * either way it is ending; ask for it by pid from now on. */
		reap_expect(&p->child_w);
	}
	free(p->sync_part);
	p->sync_part = NULL;
	p->sync_len = 0;
}

/* Reads what is left before the shim's exit is handled; -1 if p was freed. */
static int
sync_drain(struct process *p)
{
	int r;

	if (p->sync_fd < 0)
		return 0;
	if ((r = sync_read(p)) == 1)
		sync_close(p);
	return r < 0 ? -1 : 0;
}

static void
sync_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct process *p = w->data;

	if (sync_read(p) == 1)
		sync_close(p);
}

static void
child_cb(struct reap *r)
{
	struct process *p = r->data;

	p->shim_pid = 0;
	shim_gone(p, r->status);
}

static void
pidfd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct process *p = w->data;

	ev_io_stop(loop, w);
	close(p->pidfd);
	p->pidfd = -1;
	if (p->orphan) {
		int ws, status;
		int64_t at;

		/* Our own child (its shim died while we ran): its real status. */
		if (waitpid(p->system_pid, &ws, WNOHANG) == p->system_pid &&
		    (WIFEXITED(ws) || WIFSIGNALED(ws))) {
			status = exit_status_of(ws);
			process_exited(p, status, now_ns(), orphan_note(p, status));
		} else if (reaped_take(p->system_pid, &status, &at) == 0) {
			process_exited(p, status, at, orphan_note(p, status));
		} else if (p->kill_sent) {
			/* Not our child (its shim was adopted after a restart):
			 * what ended it is the kill we sent. */
			process_exited(p, 128 + SIGKILL, now_ns(), p->shim_lost_note);
		} else {
			process_exited(p, 255, now_ns(),
			    "the process ended while no shim watched it: its status is unknown");
		}
		return;
	}
	shim_gone(p, -1);
}

void
shimctl_stop_watching(struct process *p)
{
	sync_close(p);
	if (p->timers != NULL && ev_is_active(&p->timers->start_w))
		ev_timer_stop(D.loop, &p->timers->start_w);
	if (p->timers != NULL && ev_is_active(&p->timers->kill_w))
		ev_timer_stop(D.loop, &p->timers->kill_w);
	reap_stop(&p->child_w);
	if (p->pidfd >= 0) {
		ev_io_stop(D.loop, &p->pidfd_w);
		close(p->pidfd);
		p->pidfd = -1;
	}
}

static int
watch_fd(struct process *p, int fd)
{
	p->pidfd = fd;
	ev_io_init(&p->pidfd_w, pidfd_cb, fd, EV_READ);
	p->pidfd_w.data = p;
	ev_io_start(D.loop, &p->pidfd_w);
	return 0;
}

int
shimctl_adopt(struct process *p)
{
	int fd = pidfd_open_(p->shim_pid);

	if (fd < 0)
		return -1;
	/* After the open: the pidfd holds the shim that was recorded. */
	if (proc_start_time(p->shim_pid) != p->shim_start_time || p->shim_start_time == 0) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	set_orphan(p, false);
	return watch_fd(p, fd);
}

int
shimctl_adopt_starting(struct process *p)
{
	if (process_timers(p) == NULL || shimctl_adopt(p) < 0)
		return -1;
	ev_timer_init(&p->timers->start_w, starting_cb, 0.05, 0.05);
	p->timers->start_w.data = p;
	ev_timer_start(D.loop, &p->timers->start_w);
	/* Written already: no need to wait for the first tick. */
	starting_cb(D.loop, &p->timers->start_w, 0);
	return 0;
}

/*
 * Killing a process whose shim is gone. The kill goes out KILL_DELAY
 * later, from the loop's next iterations: a daemon being stopped (SIGTERM,
 * SIGINT) leaves its loop at the end of the iteration that saw the signal,
 * so a shim that dies as part of that stop kills nothing, and the
 * containers of a live restore run on.
 */
#define KILL_DELAY 0.05

/* The pidfd (checked by start time when opened) names p's very process. */
static int
orphan_signal(struct process *p)
{
	if (p->pidfd < 0) {
		errno = ESRCH;
		return -1;
	}
	return (int)syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
}

struct orphan_kill {
	char *id, *name;
};

static void
orphan_kill_done(void *arg, int status, const char *out, const char *errmsg)
{
	struct orphan_kill *k = arg;
	struct container *c = container_find(k->id);
	struct process *p = c != NULL ? process_find(c, k->name) : NULL;

	if (status != 0 && p != NULL && p->state == PROCESS_RUNNING && p->orphan) {
		/* The runtime could not (its state gone, say): the pidfd. */
		log_warnx("container %s: runtime kill failed (%s): its init is killed by its pid",
		    k->id, errmsg);
		if (orphan_signal(p) < 0 && errno != ESRCH)
			log_warn("container %s process %s: cannot kill it", k->id, k->name);
	}
	free(k->id);
	free(k->name);
	free(k);
}

static void
kill_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct process *p = w->data;
	struct container *c = p->ctr;
	struct orphan_kill *k;

	if (p->state != PROCESS_RUNNING || !p->orphan)
		return;
	p->kill_sent = true;
	/* The init through the runtime, as an exit is handled (it thaws a
	 * paused container for a KILL); an exec by its pidfd. */
	if (strcmp(p->name, "init") == 0 && (k = calloc(1, sizeof(*k))) != NULL) {
		const char *args[] = { "kill", c->id, "KILL", NULL };

		k->id = strdup(c->id);
		k->name = strdup(p->name);
		if (k->id != NULL && k->name != NULL &&
		    runtime_run(c, args, orphan_kill_done, k) == 0)
			return;
		free(k->id);
		free(k->name);
		free(k);
	}
	if (orphan_signal(p) < 0) {
		if (errno == ESRCH)
			p->kill_sent = false; /* ended already: its own exit */
		else
			log_warn("container %s process %s: cannot kill it", c->id, p->name);
	}
}

/* Only p's own process: a pid reused by a stranger is refused (-1). */
int
shimctl_kill_orphan(struct process *p, const char *note)
{
	int fd = shimctl_pidfd(p);

	if (fd < 0)
		return -1;
	if (process_timers(p) == NULL) {
		close(fd);
		return -1;
	}
	set_orphan(p, true);
	p->shim_lost_note = note;
	p->kill_sent = false;
	ev_timer_init(&p->timers->kill_w, kill_cb, KILL_DELAY, 0.);
	p->timers->kill_w.data = p;
	ev_timer_start(D.loop, &p->timers->kill_w);
	return watch_fd(p, fd);
}

int
shimctl_spawn(struct process *p, const struct shim_spec *spec, struct err *e)
{
	struct container *c = p->ctr;
	const char *rt = c->runtime && *c->runtime ? c->runtime : D.cfg.runtime;
	const char *argv[64 + 2 * 32];
	char log_path[PATH_MAX_LEN + 320], log_max[32];
	int fds[2], k = 0, rc;
	pid_t pid;

	if (mkdir(p->dir, 0700) < 0 && errno != EEXIST)
		return err_set(e, GRPC_INTERNAL, "cannot create %s: %s", p->dir, strerror(errno));
	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_set(e, GRPC_RESOURCE_EXHAUSTED, "cannot make a pipe: %s",
		    strerror(errno));
	argv[k++] = D.cfg.shim;
	argv[k++] = "--id";
	argv[k++] = c->id;
	argv[k++] = "--bundle";
	argv[k++] = c->bundle;
	argv[k++] = "--dir";
	argv[k++] = p->dir;
	argv[k++] = "--runtime";
	argv[k++] = rt;
	for (int i = 0; i < c->n_runtime_args && k < 60 + 2 * 30; i++) {
		argv[k++] = "--runtime-arg";
		argv[k++] = c->runtime_args[i];
	}
	if (spec->stdin_path && *spec->stdin_path) {
		argv[k++] = "--stdin";
		argv[k++] = spec->stdin_path;
	}
	if (spec->stdout_path && *spec->stdout_path) {
		argv[k++] = "--stdout";
		argv[k++] = spec->stdout_path;
	}
	if (spec->stderr_path && *spec->stderr_path) {
		argv[k++] = "--stderr";
		argv[k++] = spec->stderr_path;
	}
	if (spec->terminal)
		argv[k++] = "--terminal";
	if (spec->exec_process_json) {
		argv[k++] = "--exec";
		argv[k++] = spec->exec_process_json;
	}
	if (spec->checkpoint_dir && *spec->checkpoint_dir) {
		argv[k++] = "--checkpoint";
		argv[k++] = spec->checkpoint_dir;
	}
	if (spec->no_pivot)
		argv[k++] = "--no-pivot";
	/* No stdout and no stderr named (ctr without --attach; dockerd always
	 * names fifos): the shim logs the output, under _logs/ so that it
	 * outlives the container's directory. */
	if (!(spec->stdout_path && *spec->stdout_path) && !(spec->stderr_path && *spec->stderr_path)) {
		if (layout_log_mkdir(c->id, e) < 0) {
			close(fds[0]);
			close(fds[1]);
			return -1;
		}
		layout_log_path(c->id, p->name, log_path, sizeof(log_path));
		snprintf(log_max, sizeof(log_max), "%lld", (long long)D.cfg.log_max_size);
		argv[k++] = "--log";
		argv[k++] = log_path;
		argv[k++] = "--log-max-size";
		argv[k++] = log_max;
	}
	argv[k] = NULL;

	/* The shim gets nothing but its sync pipe (fd 3) and every signal at
	 * its default; a failed exec arrives on that pipe as an "error". */
	rc = spawn_start(&(struct spawn_req){ .path = D.cfg.shim, .argv = (char *const *)argv,
			     .fds = { -1, -1, -1, fds[1] }, .nfds = 4, .default_signals = true,
			     .report_fd = 3, .report_prefix = "error " },
	    &pid);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		return err_set(e, GRPC_INTERNAL, "cannot start the shim %s: %s", D.cfg.shim,
		    strerror(rc));
	}
	p->shim_pid = pid;
	reap_start(&p->child_w, pid, false, child_cb, p);
	p->shim_start_time = proc_start_time(pid);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	p->sync_fd = fds[0];
	ev_io_init(&p->sync_w, sync_cb, fds[0], EV_READ);
	p->sync_w.data = p;
	ev_io_start(D.loop, &p->sync_w);
	log_debug("container %s process %s: shim %d started", c->id, p->name, (int)pid);
	return 0;
}
