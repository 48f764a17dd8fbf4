/*
 * cgroups: removing the empty cgroups a create cut short leaves behind.
 * A `runtime create` killed after it made the container's cgroups and
 * before it wrote its state leaves them for good: `runtime delete --force`
 * does not know the container. The daemon knows where they are: runc's
 * cgroupfs driver puts a container at linux.cgroupsPath (absolute: from
 * each hierarchy's root; relative: under runc's own cgroup), or, with none,
 * at <runc's own cgroup>/<id>, in every v1 hierarchy and in the v2 one.
 * runc ran as the shim's child, in the daemon's cgroups. Only rmdir: a
 * cgroup with processes in it (or child cgroups) refuses, and is logged.
 * A runtime process killed a moment ago may still be leaving its cgroup:
 * a busy one is tried again for a few seconds before it is left.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

#define RETRY_EVERY 0.1	/* s */
#define RETRY_TRIES 30

/* The busy cgroups of one container, tried again. */
struct cg_retry {
	ev_timer w;
	char *id;
	char **dirs;	/* NULL once removed */
	int n, tries;
};

static void
retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cg_retry *r = w->data;
	int left = 0;

	r->tries++;
	for (int i = 0; i < r->n; i++) {
		if (r->dirs[i] == NULL)
			continue;
		if (rmdir(r->dirs[i]) == 0)
			log_info("container %s: removed its empty cgroup %s", r->id, r->dirs[i]);
		else if (errno == EBUSY && r->tries < RETRY_TRIES) {
			left++;
			continue;
		} else if (errno != ENOENT)
			log_warn("container %s: cgroup %s left as it is", r->id, r->dirs[i]);
		free(r->dirs[i]);
		r->dirs[i] = NULL;
	}
	if (left > 0)
		return;
	ev_timer_stop(loop, w);
	free(r->dirs);
	free(r->id);
	free(r);
}

/* /proc/self/cgroup's path for the hierarchy whose controllers are ctrls
 * ("" for v2's "0::" line), into out. -1 if none. */
static int
own_cgroup(const char *ctrls, char *out, size_t n)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];
	int rc = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (c2 == NULL)
			continue;
		*c2 = '\0';
		line[strcspn(line, "\n")] = '\0';
		c2[1 + strcspn(c2 + 1, "\n")] = '\0';
		if (strcmp(c1 + 1, ctrls) == 0) {
			snprintf(out, n, "%s", c2 + 1);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* A v1 mount's controllers, as /proc/self/cgroup names them, from its
 * super options ("rw,cpu,cpuacct" -> "cpu,cpuacct"; "rw,name=systemd"). */
static void
v1_controllers(const char *opts, char *out, size_t n)
{
	char buf[512], *save = NULL;
	size_t len = 0;

	snprintf(buf, sizeof(buf), "%s", opts);
	out[0] = '\0';
	for (char *o = strtok_r(buf, ",", &save); o != NULL; o = strtok_r(NULL, ",", &save)) {
		if (strcmp(o, "rw") == 0 || strcmp(o, "ro") == 0 || strncmp(o, "release_agent=", 14) == 0 ||
		    strcmp(o, "noprefix") == 0 || strcmp(o, "clone_children") == 0 ||
		    strcmp(o, "xattr") == 0 || strcmp(o, "cpuset_v2_mode") == 0)
			continue;
		len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s%s", len ? "," : "", o);
	}
}

static void
remove_one(const char *mnt, const char *mnt_root, const char *ctrls, const char *cg_path,
    const char *id, struct cg_retry **retry)
{
	char own[2048], inner[4096], dir[8192];
	size_t rlen = strlen(mnt_root);

	if (cg_path[0] == '/')
		snprintf(inner, sizeof(inner), "%s", cg_path);
	else {
		if (own_cgroup(ctrls, own, sizeof(own)) < 0)
			return;
		snprintf(inner, sizeof(inner), "%s/%s", strcmp(own, "/") == 0 ? "" : own,
		    cg_path[0] ? cg_path : id);
	}
	/* The mount shows the hierarchy from mnt_root down. */
	if (strcmp(mnt_root, "/") != 0) {
		if (strncmp(inner, mnt_root, rlen) != 0 || (inner[rlen] != '/' && inner[rlen] != '\0'))
			return;
		snprintf(dir, sizeof(dir), "%s%s", mnt, inner + rlen);
	} else
		snprintf(dir, sizeof(dir), "%s%s", mnt, inner);
	if (rmdir(dir) == 0)
		log_info("container %s: removed its empty cgroup %s", id, dir);
	else if (errno == EBUSY) {
		struct cg_retry *r = *retry;
		char **nv;

		if (r == NULL && (r = *retry = calloc(1, sizeof(*r))) != NULL &&
		    (r->id = strdup(id)) == NULL) {
			free(r);
			r = *retry = NULL;
		}
		if (r == NULL || (nv = realloc(r->dirs, (size_t)(r->n + 1) * sizeof(*nv))) == NULL)
			return;
		r->dirs = nv;
		if ((r->dirs[r->n] = strdup(dir)) != NULL)
			r->n++;
	} else if (errno != ENOENT)
		log_warn("container %s: cgroup %s left as it is", id, dir);
}

void
cgroups_remove_empty(const char *id, const char *cg_path)
{
	struct cg_retry *retry = NULL;
	FILE *f;
	char line[8192];

	if (cg_path == NULL)
		cg_path = "";
	/* The systemd driver's "slice:prefix:name" is systemd's to remove; a
	 * path climbing out with ".." is not a container's. */
	if (strchr(cg_path, ':') != NULL || strstr(cg_path, "..") != NULL) {
		log_warnx("container %s: its cgroups (%s) are not looked for", id, cg_path);
		return;
	}
	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER */
		char *field[6], *dash, *save = NULL, *fstype, *super;
		int k = 0;

		line[strcspn(line, "\n")] = '\0';
		if ((dash = strstr(line, " - ")) == NULL)
			continue;
		*dash = '\0';
		for (char *t = strtok_r(line, " ", &save); t != NULL && k < 6;
		    t = strtok_r(NULL, " ", &save))
			field[k++] = t;
		if (k < 5)
			continue;
		save = NULL;
		fstype = strtok_r(dash + 3, " ", &save);
		(void)strtok_r(NULL, " ", &save); /* source */
		super = strtok_r(NULL, " ", &save);
		if (fstype == NULL)
			continue;
		/* Mount points with spaces are escaped (\040): not ours to guess. */
		if (strcmp(fstype, "cgroup2") == 0)
			remove_one(field[4], field[3], "", cg_path, id, &retry);
		else if (strcmp(fstype, "cgroup") == 0 && super != NULL) {
			char ctrls[512];

			v1_controllers(super, ctrls, sizeof(ctrls));
			if (ctrls[0] != '\0')
				remove_one(field[4], field[3], ctrls, cg_path, id, &retry);
		}
	}
	fclose(f);
	if (retry != NULL) {
		if (retry->n == 0) {
			free(retry->id);
			free(retry);
			return;
		}
		ev_timer_init(&retry->w, retry_cb, RETRY_EVERY, RETRY_EVERY);
		retry->w.data = retry;
		ev_timer_start(D.loop, &retry->w);
	}
}
