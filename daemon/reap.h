/*
 * reap: the daemon's children reaped by pid.
 *
 * Every shim is a child of the daemon for as long as its container runs,
 * so at 10,000 containers the daemon has 10,000 children. libev's child
 * watchers reap with waitpid(-1), and the kernel answers that by walking
 * the whole list of children, twice per SIGCHLD at least: 22.6% of the
 * daemon's CPU at 7,500 running (perf). waitpid(pid) is answered without
 * that walk. So on SIGCHLD only the children that may have ended are
 * asked: the runtime calls and probes (few at a time, each a candidate
 * from its start) and the shims whose sync pipe has closed (the shim's
 * end closes as it exits). A SIGCHLD that none of them explains, and the
 * children nobody watches (a container process whose shim died, see
 * shimctl.c), are found by a sweep with waitpid(-1): at once while such
 * orphans exist, at the next loop iteration after an unexplained SIGCHLD,
 * and two seconds after any SIGCHLD as a safety net (signals coalesce).
 */
#ifndef REAP_H
#define REAP_H

#include <stdbool.h>
#include <sys/types.h>

struct reap;
typedef void reap_cb(struct reap *r);

struct reap {
	pid_t pid;
	int status;		/* its wait status, when cb runs */
	reap_cb *cb;		/* runs once; the watcher is stopped before */
	void *data;
	struct reap *hnext;	/* the pid table's chain */
	struct reap *cnext, *cprev; /* the candidates, asked on every SIGCHLD */
	bool active, candidate;
};

/* other: a child that no watcher waits for (pid, wait status). */
void reap_init(void (*other)(pid_t pid, int wstatus));
/* candidate: asked on every SIGCHLD (short-lived children). */
void reap_start(struct reap *r, pid_t pid, bool candidate, reap_cb *cb, void *data);
/* r's child is ending (its pipe closed): asked now and on every SIGCHLD. */
void reap_expect(struct reap *r);
void reap_stop(struct reap *r);
bool reap_active(const struct reap *r);
/* Sweep on every SIGCHLD (while children nobody watches matter). */
void reap_sweep_always(bool on);
/* Sweeps made so far, for tests and the debug log. */
unsigned long reap_sweeps(void);

#endif
