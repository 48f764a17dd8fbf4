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

/* Frees what stats_collect allocated and leaves *out empty; safe to call twice. */
void stats_free(Types__StatsResponse *out);

#endif
