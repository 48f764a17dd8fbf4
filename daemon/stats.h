/*
 * stats: one sample of a container's cgroup statistics, read straight from
 * the cgroup files (v1 or v2) of the container's init, with the meanings of
 * `runc events --stats`. Starts no process and keeps no state.
 *
 * Ownership: *out belongs to the caller; stats_collect fills it with
 * heap-allocated sub-messages that stats_free releases (not *out itself).
 */
#ifndef DAEMON_STATS_H
#define DAEMON_STATS_H

#include <stdint.h>
#include <sys/types.h>

#include "api.pb-c.h"
#include "err.h"

/*
 * One sample for the process with host pid `pid`. Its cgroups come from
 * /proc/<pid>/cgroup; cgroup_root is where the hierarchies are mounted,
 * "/sys/fs/cgroup" normally. With v1 controllers the v1 files are read,
 * otherwise the unified ("0::") cgroup, at cgroup_root itself when it is a
 * cgroup2 mount, else at <cgroup_root>/unified. A missing controller or file
 * leaves its fields zero. network_stats stays empty. Both timestamps are now.
 *
 * *out is (re)initialised first, so it needs no init by the caller.
 * Errors (-1, *e filled, *out left empty): INVALID_ARGUMENT for pid <= 0,
 * NOT_FOUND when the process is gone, INTERNAL when /proc cannot be read
 * or memory runs out.
 */
int stats_collect(pid_t pid, const char *cgroup_root, Types__StatsResponse *out, struct err *e);

/*
 * The same with proc_root in place of "/proc": reads <proc_root>/<pid>/cgroup
 * and <proc_root>/stat. The seam for tests, which point both roots at a
 * fake tree.
 */
int stats_collect_at(const char *proc_root, pid_t pid, const char *cgroup_root,
    Types__StatsResponse *out, struct err *e);

/*
 * Every pid in the cgroup of the process with host pid `pid` and in the
 * cgroups below it (v1: its pids controller's, else its memory or cpu
 * one's; v2: the unified one): what `runc ps` lists, the 2017 daemon's
 * State pids (`docker top` shows them). *pids is malloc'd, the caller's.
 * -1 when the process or its cgroup cannot be read.
 */
int stats_cgroup_pids(pid_t pid, const char *cgroup_root, uint32_t **pids, size_t *n);

/* Frees what stats_collect allocated and leaves *out empty; safe to call twice. */
void stats_free(Types__StatsResponse *out);

#endif
