/*
 * oom.h: watching the container's memory cgroup for OOM kills.
 *
 * Best effort and quiet: if there is no memory controller, or the cgroup
 * cannot be found, nothing is watched. cgroup v1: an eventfd registered on
 * memory.oom_control through cgroup.event_control. cgroup v2: inotify on
 * memory.events, an OOM being an increase of its oom_kill count.
 */
#ifndef SHIM_OOM_H
#define SHIM_OOM_H

#include <sys/types.h>

struct shim_oom {
	int fd;			/* to poll for POLLIN; -1 when not watching */
	int v2;
	int ctl_fd;		/* v1: memory.oom_control, kept open while registered */
	unsigned long long kills;	/* v2: the last oom_kill count seen */
	char path[512];		/* v1: the cgroup directory; v2: its memory.events */
};

void shim_oom_init(struct shim_oom *o);
/* Starts watching pid's memory cgroup. 0 if watching, -1 if not (quiet). */
int shim_oom_watch(struct shim_oom *o, pid_t pid);
/* After POLLIN on o->fd, or to check one last time: how many new OOMs. */
int shim_oom_check(struct shim_oom *o);
void shim_oom_close(struct shim_oom *o);

#endif
