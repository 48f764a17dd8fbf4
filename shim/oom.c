/* oom.c: OOM notifications from the memory cgroup (see oom.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt.h"
#include "oom.h"
#include "shim.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

void shim_oom_init(struct shim_oom *o)
{
	o->fd = -1;
	o->ctl_fd = -1;
	o->v2 = 0;
	o->kills = 0;
	o->path[0] = '\0';
}

void shim_oom_close(struct shim_oom *o)
{
	if (o->fd >= 0)
		close(o->fd);
	if (o->ctl_fd >= 0)
		close(o->ctl_fd);
	o->fd = o->ctl_fd = -1;
}

static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return -1;
	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (int)len;
}

/* Is `name` one of the comma-separated controllers in list[0..len)? */
static int has_controller(const char *list, size_t len, const char *name)
{
	size_t n = strlen(name);
	const char *p = list, *end = list + len;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t l = comma ? (size_t)(comma - p) : (size_t)(end - p);

		if (l == n && memcmp(p, name, n) == 0)
			return 1;
		p += l + 1;
	}
	return 0;
}

/*
 * From /proc/PID/cgroup ("ID:CONTROLLERS:PATH" lines): the v1 memory path,
 * or failing that the v2 ("0::") path. Returns 1 for v1, 2 for v2, 0 none.
 */
static int find_cgroup(pid_t pid, char *v1, char *v2, size_t size)
{
	char path[64], buf[2048];
	char *line, *next;
	int found = 0;

	shim_snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	v1[0] = v2[0] = '\0';
	for (line = buf; line != NULL && *line; line = next) {
		char *c1, *c2;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		c1 = strchr(line, ':');
		c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 == NULL || strlen(c2 + 1) >= size)
			continue;
		if (has_controller(c1 + 1, (size_t)(c2 - c1 - 1), "memory")) {
			strcpy(v1, c2 + 1);
			found |= 1;
		} else if (c2 == c1 + 1 && strncmp(line, "0:", 2) == 0) {
			strcpy(v2, c2 + 1);
			found |= 2;
		}
	}
	return (found & 1) ? 1 : (found & 2) ? 2 : 0;
}

static int watch_v1(struct shim_oom *o, const char *cg)
{
	char file[600], cmd[32];
	int efd, ctl, n;

	n = shim_snprintf(o->path, sizeof(o->path), CGROUP_ROOT "/memory%s", cg);
	if (n < 0 || (size_t)n >= sizeof(o->path))
		return -1;
	shim_snprintf(file, sizeof(file), "%s/memory.oom_control", o->path);
	ctl = open(file, O_RDONLY | O_CLOEXEC);
	if (ctl < 0)
		return -1;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0) {
		close(ctl);
		return -1;
	}
	shim_snprintf(file, sizeof(file), "%s/cgroup.event_control", o->path);
	n = shim_snprintf(cmd, sizeof(cmd), "%d %d", efd, ctl);
	{
		int ec = open(file, O_WRONLY | O_CLOEXEC);

		if (ec < 0 || write(ec, cmd, (size_t)n) != n) {
			shim_log("oom: register %s", file);
			if (ec >= 0)
				close(ec);
			close(efd);
			close(ctl);
			return -1;
		}
		close(ec);
	}
	o->fd = efd;
	o->ctl_fd = ctl;
	o->v2 = 0;
	return 0;
}

static unsigned long long v2_kills(const char *events)
{
	char buf[512];
	const char *p;

	if (read_small(events, buf, sizeof(buf)) <= 0)
		return 0;
	for (p = buf; p != NULL; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, "oom_kill ", 9) == 0) {
			unsigned long long v;

			return shim_parse_u64(p + 9, NULL, &v) == 0 ? v : 0;
		}
	}
	return 0;
}

static int watch_v2(struct shim_oom *o, const char *cg)
{
	struct stat st;
	const char *root = CGROUP_ROOT;
	int n, fd;

	if (stat(CGROUP_ROOT "/cgroup.controllers", &st) < 0)
		root = CGROUP_ROOT "/unified";	/* hybrid */
	n = shim_snprintf(o->path, sizeof(o->path), "%s%s/memory.events", root,
	    strcmp(cg, "/") == 0 ? "" : cg);
	if (n < 0 || (size_t)n >= sizeof(o->path) || access(o->path, R_OK) < 0)
		return -1;
	fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd < 0)
		return -1;
	if (inotify_add_watch(fd, o->path, IN_MODIFY) < 0) {
		close(fd);
		return -1;
	}
	o->fd = fd;
	o->v2 = 1;
	o->kills = v2_kills(o->path);
	return 0;
}

int shim_oom_watch(struct shim_oom *o, pid_t pid)
{
	char v1[256], v2[256];

	switch (find_cgroup(pid, v1, v2, sizeof(v1))) {
	case 1:
		if (watch_v1(o, v1) == 0)
			return 0;
		if (v2[0] && watch_v2(o, v2) == 0)
			return 0;
		return -1;
	case 2:
		return watch_v2(o, v2);
	default:
		return -1;
	}
}

int shim_oom_check(struct shim_oom *o)
{
	if (o->fd < 0)
		return 0;
	if (o->v2) {
		char ev[256];
		unsigned long long k;
		int n;

		while (read(o->fd, ev, sizeof(ev)) > 0)
			;	/* drain the inotify events; the count is the truth */
		k = v2_kills(o->path);
		n = k > o->kills ? (int)(k - o->kills) : 0;
		o->kills = k;
		return n;
	} else {
		uint64_t count;
		struct stat st;

		if (read(o->fd, &count, sizeof(count)) != (ssize_t)sizeof(count))
			return 0;
		/* The eventfd also fires when the cgroup is removed: not an OOM. */
		if (stat(o->path, &st) < 0) {
			shim_oom_close(o);
			return 0;
		}
		return count > 1000 ? 1000 : (int)count;
	}
}
