/*
 * spawn: vfork + exec, the child set up by hand (descriptors, signals,
 * process group) so that an exec failure is reported where the caller
 * reads anyway.
 *
 * The loop is suspended until the child has exec'd. A plain fork does not
 * suspend it, but costs it more: the page tables are copied, every page
 * the loop then writes takes a copy-on-write fault until the child execs,
 * and on a loaded machine the new child preempts the loop, which then
 * waits for a CPU all the same. Measured (tests/grpc/test_events_load.py's
 * pause/resume burst on a no-op runtime, 8 containers, 2 cores at load 5,
 * three runs each): fork 71-77 events/s, vfork 103-178 events/s; the
 * slow-iteration log showed one forked spawn costing the loop ~20 ms.
 *
 * The child runs on the parent's memory until it execs: it only makes
 * system calls (and, to report a failure, snprintf into its own stack)
 * and leaves by exec or _exit, never by returning. The sanitized build
 * (ASan) forks: its runtime's bookkeeping is not for a shared address space.
 *
 * An exec failure is not returned from here: the child writes it to the
 * descriptor the caller reads anyway (the runtime's stderr, the shim's
 * sync pipe) and exits 127.
 *
 * The descriptor table is not copied. At 10,000 containers it holds one
 * sync pipe per container; a vfork copies all 10,000 entries, taking a
 * reference on each file, and the exec then closes them one by one
 * (dup_fd alone was 11.3% of the daemon's CPU at 7,500 running, perf).
 * Instead the child starts on the parent's table (CLONE_FILES) and its
 * first act is close_range(low_end, ~0, CLOSE_RANGE_UNSHARE): the kernel
 * gives it a copy of only the descriptors below low_end, a handful opened
 * before the daemon opened anything per container. Among them are
 * SPAWN_MAX_FDS reserved slots (spawn_init): the parent puts the child's
 * descriptors there just before the clone, and /dev/null back just after.
 * A kernel without CLOSE_RANGE_UNSHARE (before 5.9) gets unshare(), a
 * whole copy, as vfork made.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon.h"

extern char **environ;

#if defined(__SANITIZE_ADDRESS__)
#define SPAWN_FORK() fork()
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPAWN_FORK() fork()
#endif
#endif
#ifndef SPAWN_FORK
#define SPAWN_FORK() vfork()
#define SPAWN_SHARED 1
#endif

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

/* The reserved slots, /dev/null (what they hold between spawns), and the
 * lowest descriptor above all of them; low_end 0: not set up (the
 * descriptors go as they are, the table copied whole). */
static int slots[SPAWN_MAX_FDS] = { -1, -1, -1, -1 };
static int devnull = -1;
static int low_end;

/* RLIMIT_NOFILE as the daemon was started with it: its children's. */
static struct rlimit child_nofile;
static bool child_nofile_set;

void
spawn_child_nofile(const struct rlimit *rl)
{
	child_nofile = *rl;
	child_nofile_set = true;
}

/* Where the child's fd i comes from: its fds[i] must not be below this, so
 * setting up 0..SPAWN_MAX_FDS-1 never overwrites a source still needed. */
#define SPAWN_HIGH_FD 64

static void
child_fail(const struct spawn_req *r, const char *what)
{
	char msg[512];
	int n, saved = errno;

	n = snprintf(msg, sizeof(msg), "%s%s %s: %s\n", r->report_prefix ? r->report_prefix : "",
	    what, r->path, strerror(saved));
	if (r->report_fd >= 0 && n > 0)
		(void)!write(r->report_fd, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
	_exit(127);
}

static void
child_run(const struct spawn_req *r, const sigset_t *mask)
{
	int tmp[SPAWN_MAX_FDS];

	/* Our handlers (libev's) must not run here: back to the defaults
	 * before any signal is let through. Ignored ones stay ignored, as
	 * across exec, unless the caller wants every default. */
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &sa) < 0)
			continue;
		if (r->default_signals || sa.sa_handler != SIG_IGN)
			signal(sig, SIG_DFL);
	}
	for (int i = 0; i < r->nfds; i++) {
		tmp[i] = -1;
		if (r->fds[i] >= 0 && (tmp[i] = fcntl(r->fds[i], F_DUPFD_CLOEXEC, SPAWN_HIGH_FD)) < 0)
			child_fail(r, "cannot set up the descriptors of");
	}
	for (int i = 0; i < r->nfds; i++) {
		int fd = tmp[i];

		if (fd < 0 && (fd = open("/dev/null", i == 0 ? O_RDONLY : O_WRONLY)) < 0)
			child_fail(r, "cannot open /dev/null for");
		/* fd == i only for a /dev/null opened just now (no CLOEXEC);
		 * dup2 clears CLOEXEC on the copies of the high ones. */
		if (fd != i) {
			if (dup2(fd, i) < 0)
				child_fail(r, "cannot set up the descriptors of");
			close(fd);
		}
	}
	if (child_nofile_set)
		setrlimit(RLIMIT_NOFILE, &child_nofile);
	if (r->new_pgroup)
		setpgid(0, 0);
	{
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, r->default_signals ? &none : mask, NULL);
	}
	if (strchr(r->path, '/') != NULL)
		execve(r->path, r->argv, environ);
	else
		execvp(r->path, r->argv);
	child_fail(r, "cannot run");
}

void
spawn_init(void)
{
	int top;

	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return;
	top = devnull;
	for (int i = 0; i < SPAWN_MAX_FDS; i++) {
		/* Not below SPAWN_MAX_FDS: the child's fds 0..3 are set up
		 * from them. */
		if ((slots[i] = fcntl(devnull, F_DUPFD_CLOEXEC, SPAWN_MAX_FDS)) < 0) {
			for (int k = 0; k < i; k++)
				close(slots[k]);
			close(devnull);
			devnull = -1;
			return;
		}
		if (slots[i] > top)
			top = slots[i];
	}
	low_end = top + 1;
}

#ifdef SPAWN_SHARED
struct child_arg {
	struct spawn_req req;	/* its fds: the slots */
	const sigset_t *mask;
};

/* 128 KiB: the child makes system calls, an snprintf and an execvp. It
 * runs while the parent waits (CLONE_VFORK), so one stack serves all. */
static _Alignas(16) char child_stack[128 << 10];

static int
child_start(void *arg)
{
	const struct child_arg *a = arg;

	/* The table is still the parent's: nothing may change it before. */
	if (syscall(SYS_close_range, (unsigned)low_end, ~0U, CLOSE_RANGE_UNSHARE) < 0 &&
	    unshare(CLONE_FILES) < 0)
		child_fail(&a->req, "cannot set up the descriptors of");
	child_run(&a->req, a->mask);
	return 127;
}

static pid_t
spawn_shared(const struct spawn_req *r, const sigset_t *old)
{
	struct child_arg a = { .req = *r, .mask = old };
	pid_t p;
	int i;

	for (i = 0; i < r->nfds; i++) {
		if (r->fds[i] < 0)
			continue;
		if (dup3(r->fds[i], slots[i], O_CLOEXEC) < 0)
			break;
		a.req.fds[i] = slots[i];
	}
	if (i < r->nfds) {
		p = -1;
	} else {
		p = clone(child_start, child_stack + sizeof(child_stack),
		    CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &a);
	}
	{
		int saved = errno;

		/* The child has its own copies now: ours go. */
		for (int k = 0; k < i; k++)
			if (r->fds[k] >= 0)
				dup3(devnull, slots[k], O_CLOEXEC);
		errno = saved;
	}
	return p;
}
#endif

int
spawn_start(const struct spawn_req *r, pid_t *pid)
{
	sigset_t all, old;
	int64_t t0 = mono_ns();
	pid_t p;
	int rc = 0;

	/* No signal may reach the child before its handlers are reset. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
#ifdef SPAWN_SHARED
	if (low_end > 0)
		p = spawn_shared(r, &old);
	else
#endif
	if ((p = SPAWN_FORK()) == 0)
		child_run(r, &old);
	if (p < 0)
		rc = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	*pid = p;
	D.iter_spawn_ns += mono_ns() - t0;
	D.iter_spawns++;
	return rc;
}
