/*
 * spawn: fork + exec without waiting for the child to be scheduled.
 *
 * posix_spawn (glibc: clone with CLONE_VFORK) suspends the caller until the
 * child has exec'd. On a loaded machine the new child queues behind every
 * other runnable task, so each spawn stalled the whole loop for a
 * scheduler slice or more (measured with the slow-iteration log under
 * tools/bench-events: one spawn took 30 ms, and spawns were 60% of the
 * time of all slow iterations). A plain fork returns as soon as the page
 * tables are copied (the daemon is a few MB), and the child execs on its
 * own time. The daemon is single-threaded, so the child may use libc.
 *
 * An exec failure cannot be returned from here any more: the child writes
 * it to the descriptor the caller reads anyway (the runtime's stderr, the
 * shim's sync pipe) and exits 127.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

extern char **environ;

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
	p = fork();
	if (p == 0)
		child_run(r, &old);
	if (p < 0)
		rc = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	*pid = p;
	D.iter_spawn_ns += mono_ns() - t0;
	D.iter_spawns++;
	return rc;
}
