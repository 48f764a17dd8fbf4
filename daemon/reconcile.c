/*
 * reconcile: after a start, make the model agree with what is true.
 * For each container not in a final state, each process not exited:
 *   shim alive (same start time)      -> watch it again (so is a live shim
 *                                        found working at its dir)
 *   shim gone, exit file written      -> record that exit, real status and time
 *   shim gone, process still alive    -> kill it, as the 2017 daemon did at
 *                                        its restore: exit 137, with a note
 *   nothing at all                    -> exit 255, said so in the log
 * A container still "creating" was never acknowledged: it is undone.
 * Then a sweep: a shim or a directory under the state dir that belongs to
 * no live container is what a create left when the daemon died before its
 * rows reached the disk; it is killed and removed, so nothing runs unlisted.
 */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "procinfo.h"

static char **
strv_from_json_text(const char *text, int *n)
{
	json_t *a = json_loads(text, 0, NULL);
	size_t len = json_array_size(a);
	char **v = calloc(len + 1, sizeof(char *));

	*n = 0;
	for (size_t i = 0; v != NULL && i < len; i++) {
		const char *s = json_string_value(json_array_get(a, i));

		if (s != NULL)
			v[(*n)++] = strdup(s);
	}
	json_decref(a);
	return v;
}

static int
load_label(void *arg, const char *cid, const char *label)
{
	struct container *c = arg;
	char **nv = realloc(c->labels, (size_t)(c->n_labels + 2) * sizeof(char *));

	if (nv == NULL)
		return 0;
	c->labels = nv;
	c->labels[c->n_labels++] = strdup(label);
	c->labels[c->n_labels] = NULL;
	return 0;
}

static int
load_process(void *arg, const struct store_process *sp)
{
	struct container *c = arg;
	struct process *p;
	json_t *spec;

	if (strcmp(sp->status, "exited") == 0) {
		/* A finished exec's directory left by an earlier run. */
		if (strcmp(sp->pid, "init") != 0) {
			char dir[PATH_MAX_LEN + 300];
			struct process *init = process_find(c, "init");
			const char *slash = init != NULL ? strrchr(init->dir, '/') : NULL;

			if (slash != NULL) {
				snprintf(dir, sizeof(dir), "%.*s/%s", (int)(slash - init->dir),
				    init->dir, sp->pid);
				retention_exec_exited(dir);
			}
		}
		return 0;
	}
	if ((p = process_new(c, sp->pid)) == NULL)
		return 0;
	p->state = strcmp(sp->status, "running") == 0 ? PROCESS_RUNNING : PROCESS_CREATING;
	p->system_pid = (pid_t)sp->system_pid;
	p->shim_pid = (pid_t)sp->shim_pid;
	p->shim_start_time = sp->shim_start_time;
	p->started_at = sp->started_at;
	{
		struct err e;

		if (store_process_start_time(D.store, c->id, sp->pid, &p->start_time, &e) < 0)
			log_warnx("container %s process %s: %s", c->id, sp->pid, e.msg);
	}
	spec = json_loads(sp->spec, 0, NULL);
	process_set_info(p, spec, sp->stdin_path, sp->stdout_path, sp->stderr_path);
	json_decref(spec);
	return 0;
}

static int
load_container(void *arg, const struct store_container *sc)
{
	struct container *c = container_new(sc->id);

	if (c == NULL)
		return 0;
	c->bundle = strdup(sc->bundle);
	{
		int n = 0;
		char **args = strv_from_json_text(sc->runtime_args, &n);

		/* Out of memory: the daemon's own runtime, as for a bad row. */
		if (args == NULL || container_set_runtime(c, sc->runtime, args, n) < 0)
			container_set_runtime(c, NULL, NULL, 0);
		for (int i = 0; args != NULL && i < n; i++)
			free(args[i]);
		free(args);
	}
	c->labels = calloc(1, sizeof(char *));
	c->created_at = sc->created_at;
	if (strcmp(sc->status, "creating") == 0)
		c->status = CONTAINER_CREATING;
	else if (strcmp(sc->status, "paused") == 0)
		c->status = CONTAINER_PAUSED;
	else
		c->status = CONTAINER_RUNNING;
	return 0;
}

/* The shims alive for this state dir, found by their --dir argument: a
 * create the daemon died in may not have recorded its shim's pid. */
struct shim_seen {
	pid_t pid;
	char dir[PATH_MAX_LEN + 300];	/* its --dir */
};

static struct shim_seen *shims_seen;
static int n_shims_seen;

static void
scan_shims(void)
{
	size_t plen = strlen(D.cfg.state_dir);
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char path[64], buf[8192];
		const char *dir = NULL;
		pid_t pid = (pid_t)atoi(de->d_name);
		ssize_t n;
		int fd;

		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		{
			const char *base = strrchr(buf, '/');

			base = base ? base + 1 : buf;
			/* Ours under any of its names: the --shim given, or
			 * either name a build installs (dockerd's default mode
			 * starts it as docker-containerd-shim). */
			if (strcmp(buf, D.cfg.shim) != 0 && strcmp(base, "containerd-shim") != 0 &&
			    strcmp(base, "docker-containerd-shim") != 0)
				continue;
		}
		for (char *a = buf; a < buf + n; a += strlen(a) + 1) {
			if (strcmp(a, "--dir") == 0 && a + strlen(a) + 1 < buf + n) {
				dir = a + strlen(a) + 1;
				break;
			}
		}
		if (dir == NULL || strncmp(dir, D.cfg.state_dir, plen) != 0 || dir[plen] != '/')
			continue;
		{
			struct shim_seen *nv = realloc(shims_seen,
			    (size_t)(n_shims_seen + 1) * sizeof(*nv));

			if (nv == NULL)
				break;
			char now_at[PATH_MAX_LEN + 256];

			shims_seen = nv;
			shims_seen[n_shims_seen].pid = pid;
			/* A shim of the old layout names <state>/<id>/<pid>; its
			 * directory has moved into the area since (layout_migrate). */
			layout_translate_old_dir(dir, now_at, sizeof(now_at));
			snprintf(shims_seen[n_shims_seen].dir, sizeof(shims_seen[0].dir), "%s/",
			    now_at);
			n_shims_seen++;
		}
	}
	closedir(d);
}

/* Kills the session of each shim seen whose --dir is under prefix (it and
 * a runtime create it may be running). */
static void
kill_shims_under(const char *prefix)
{
	size_t len = strlen(prefix);

	for (int i = 0; i < n_shims_seen; i++) {
		if (shims_seen[i].pid > 0 && strncmp(shims_seen[i].dir, prefix, len) == 0) {
			log_warnx("killing shim %d (%.*s): it works for nothing the database"
				  " knows as running", (int)shims_seen[i].pid,
			    (int)strlen(shims_seen[i].dir) - 1, shims_seen[i].dir);
			kill(-shims_seen[i].pid, SIGKILL);
			kill(shims_seen[i].pid, SIGKILL);
			shims_seen[i].pid = 0;
		}
	}
}

/* An undo waits for two things before it looks for the cgroups: the
 * runtime's delete, and the bundle's linux.cgroupsPath, read off the loop
 * (the bundle is the client's, and may not answer). */
struct undo {
	char *id;
	char *cg_path;	/* config.json's linux.cgroupsPath; NULL: runc's default */
	int pending;
};

static void
undo_step_done(struct undo *u)
{
	if (--u->pending > 0)
		return;
	/* A runtime create killed mid-way leaves its cgroups: the runtime's
	 * delete does not know the container. */
	cgroups_remove_empty(u->id, u->cg_path != NULL ? u->cg_path : "");
	container_remove_dir(u->id);
	free(u->id);
	free(u->cg_path);
	free(u);
}

static void
undo_done_cb(void *arg, int status, const char *out, const char *errmsg)
{
	struct undo *u = arg;

	if (status != 0)
		log_warnx("container %s: runtime delete of a half-created container: %s", u->id,
		    errmsg);
	undo_step_done(u);
}

static void
undo_read_done(struct bundle_read *r, const struct err *e, json_t *cfg)
{
	struct undo *u = r->arg;
	const char *p;

	if (e->code == GRPC_OK) {
		p = json_string_value(json_object_get(json_object_get(cfg, "linux"),
		    "cgroupsPath"));
		u->cg_path = strdup(p != NULL ? p : "");
	} else
		log_warnx("container %s: %s; its cgroups are looked for where runc puts them by"
			  " default", u->id, e->msg);
	undo_step_done(u);
}

/* Never acknowledged: remove every trace. */
static void
undo_creating(struct container *c)
{
	const char *args[] = { "delete", "--force", c->id, NULL };
	struct err e;
	struct undo *u = calloc(1, sizeof(*u));
	struct bundle_read *r = NULL;

	log_warnx("container %s was being created when the daemon stopped: removing it", c->id);
	for (struct process *p = c->procs; p != NULL; p = p->next) {
		if (p->shim_pid > 0 && proc_start_time(p->shim_pid) == p->shim_start_time)
			kill(-p->shim_pid, SIGKILL);
	}
	/* Its shim's pid is recorded only once it runs: find it by its dir. */
	{
		char prefix[PATH_MAX_LEN + 256];

		layout_container_path(c->id, prefix, sizeof(prefix) - 1);
		strcat(prefix, "/");
		kill_shims_under(prefix);
	}
	if (store_container_remove(D.store, c->id, &e) < 0)
		log_warnx("container %s: %s", c->id, e.msg);
	if (u == NULL || (u->id = strdup(c->id)) == NULL) {
		free(u);
		container_remove_dir(c->id);
		container_free(c);
		return;
	}
	u->pending = 2;
	if (runtime_run(c, args, undo_done_cb, u) < 0)
		undo_step_done(u);
	if (c->bundle == NULL || (r = bundle_read_new(c->bundle, NULL)) == NULL) {
		undo_step_done(u);
	} else {
		r->done = undo_read_done;
		r->arg = u;
		if (bundle_read_start(r, &e) < 0) {
			bundle_read_discard(r);
			undo_step_done(u);
		}
	}
	container_free(c);
}

/* A killed shim whose parent (the daemon that died) is gone may stay a
 * zombie until init reaps it: its /proc entry and start time are still
 * there, but it watches nothing. */
static bool
pid_is_zombie(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

/* Whether pid runs in c's pid namespace (its init's, the init checked by
 * start time): a process of the container, not a stranger with its pid. */
static bool
pid_in_container(struct container *c, pid_t pid)
{
	struct process *init = process_find(c, "init");
	char a[64], b[64], la[128], lb[128];
	ssize_t na, nb;

	if (init == NULL || pid <= 0 || pid_is_zombie(pid) || !shimctl_pid_is(init))
		return false;
	snprintf(a, sizeof(a), "/proc/%d/ns/pid", (int)pid);
	snprintf(b, sizeof(b), "/proc/%d/ns/pid", (int)init->system_pid);
	if ((na = readlink(a, la, sizeof(la) - 1)) <= 0 ||
	    (nb = readlink(b, lb, sizeof(lb) - 1)) <= 0)
		return false;
	return na == nb && memcmp(la, lb, (size_t)na) == 0;
}

/* A shim seen alive whose --dir is dir: its pid, 0 if none. */
static pid_t
shim_seen_at(const char *dir)
{
	size_t len = strlen(dir);

	for (int i = 0; i < n_shims_seen; i++)
		if (shims_seen[i].pid > 0 && strncmp(shims_seen[i].dir, dir, len) == 0 &&
		    strcmp(shims_seen[i].dir + len, "/") == 0)
			return shims_seen[i].pid;
	return 0;
}

/*
 * An exec the daemon died while starting (its row "creating": the call was
 * never answered). What ran is kept, listed, with its real exit; what never
 * ran leaves nothing, no event either:
 *   shim alive             -> watched; started once its pid file is there,
 *                             forgotten if the shim ends without one
 *   shim gone, no pid file -> never started: forgotten
 *   shim gone, pid file    -> started: recorded so; then its exit file, or,
 *                             if it still runs, it is killed (137)
 */
static void
reconcile_starting_exec(struct process *p)
{
	int status;
	int64_t at;
	pid_t pid;

	if (p->shim_pid <= 0 || p->shim_start_time == 0) {
		/* A row from before the shim was recorded: found by its dir. */
		p->shim_pid = shim_seen_at(p->dir);
		p->shim_start_time = p->shim_pid > 0 ? proc_start_time(p->shim_pid) : 0;
	}
	if (p->shim_pid > 0 && !pid_is_zombie(p->shim_pid) && shimctl_adopt_starting(p) == 0) {
		log_info("container %s exec %s: its shim %d still runs: watching it", p->ctr->id,
		    p->name, (int)p->shim_pid);
		return;
	}
	p->shim_pid = 0;
	if ((pid = shimctl_read_pid_file(p->dir)) <= 0) {
		op_exec_forget(p, "was being started when the daemon stopped, and never ran");
		return;
	}
	if (process_read_exit_file(p->dir, &status, &at) == 0) {
		shimctl_found_started(p, pid, 0);
		process_exited(p, status, at, NULL);
		return;
	}
	if (pid_in_container(p->ctr, pid)) {
		shimctl_found_started(p, pid, proc_start_time(pid));
		if (shimctl_kill_orphan(p, SHIM_LOST_DOWN_NOTE) == 0) {
			log_warnx("container %s process %s: its shim died while the daemon was down"
				  " and the process runs without it: killing it", p->ctr->id, p->name);
			return;
		}
	} else {
		shimctl_found_started(p, pid, 0);
	}
	process_exited(p, 255, now_ns(), "it started while the daemon was down, and its shim"
	    " is gone without an exit record: the status is unknown");
}

/* Shims working in c's directory for no process of c: an exec the daemon
 * spawned in the iteration it died in, before its row was committed.
 * Nothing records it: it and its process are killed. */
static void
kill_rowless_execs(struct container *c)
{
	struct process *init = process_find(c, "init");
	char cdir[PATH_MAX_LEN + 256];
	const char *slash;
	size_t len;

	if (init == NULL || (slash = strrchr(init->dir, '/')) == NULL)
		return;
	len = (size_t)(slash - init->dir) + 1;
	if (len >= sizeof(cdir))
		return;
	memcpy(cdir, init->dir, len);
	cdir[len] = '\0';
	for (int i = 0; i < n_shims_seen; i++) {
		char dir[PATH_MAX_LEN + 256];
		bool known = false;
		pid_t pid;

		if (shims_seen[i].pid <= 0 || strncmp(shims_seen[i].dir, cdir, len) != 0)
			continue;
		for (struct process *p = c->procs; p != NULL && !known; p = p->next)
			known = strncmp(shims_seen[i].dir, p->dir, strlen(p->dir)) == 0 &&
			    strcmp(shims_seen[i].dir + strlen(p->dir), "/") == 0;
		if (known)
			continue;
		snprintf(dir, sizeof(dir), "%.*s", (int)strlen(shims_seen[i].dir) - 1,
		    shims_seen[i].dir);
		log_warnx("container %s: shim %d (%s) starts an exec no row records: killing it"
			  " and what it started", c->id, (int)shims_seen[i].pid, dir);
		kill(-shims_seen[i].pid, SIGKILL);
		kill(shims_seen[i].pid, SIGKILL);
		if ((pid = shimctl_read_pid_file(dir)) > 0 && pid_in_container(c, pid))
			kill(pid, SIGKILL);
		shims_seen[i].pid = 0;
	}
}

static void
reconcile_process(struct process *p)
{
	int status;
	int64_t at;

	if (p->state == PROCESS_CREATING) {
		reconcile_starting_exec(p);
		return;
	}
	if (p->shim_pid > 0 && proc_start_time(p->shim_pid) == p->shim_start_time &&
	    p->shim_start_time != 0 && !pid_is_zombie(p->shim_pid) && shimctl_adopt(p) == 0) {
		log_info("container %s process %s: shim %d still running", p->ctr->id, p->name,
		    (int)p->shim_pid);
		return;
	}
	if (process_read_exit_file(p->dir, &status, &at) == 0) {
		process_exited(p, status, at, NULL);
		return;
	}
	if (p->system_pid > 0 && kill(p->system_pid, 0) == 0 && !pid_is_zombie(p->system_pid)) {
		pid_t seen = shim_seen_at(p->dir);

		/* A shim works for it after all, though not the one recorded:
		 * adopted, never killed for. */
		if (seen > 0 && !pid_is_zombie(seen)) {
			p->shim_pid = seen;
			p->shim_start_time = proc_start_time(seen);
			if (p->shim_start_time != 0 && shimctl_adopt(p) == 0) {
				log_warnx("container %s process %s: its shim runs as pid %d, not the"
					  " one recorded: watching it", p->ctr->id, p->name, (int)seen);
				return;
			}
		}
		/* Its shim is gone: the process lost its stdio and its
		 * supervisor. The 2017 daemon killed it at its restore (137). */
		if (shimctl_kill_orphan(p, SHIM_LOST_DOWN_NOTE) == 0) {
			log_warnx("container %s process %s: its shim died while the daemon was down"
				  " and the process runs without it: killing it", p->ctr->id, p->name);
			return;
		}
		if (!shimctl_pid_is(p)) {
			/* Not ours: never adopted, never signalled. */
			log_warnx("container %s process %s: pid %d now belongs to another process"
				  " (start time %lld, recorded %lld): not adopted",
			    p->ctr->id, p->name, (int)p->system_pid,
			    (long long)proc_start_time(p->system_pid), (long long)p->start_time);
			process_exited(p, 255, now_ns(), "its shim and exit record are gone and its"
			    " pid was reused by another process: the status is unknown");
			return;
		}
	}
	process_exited(p, 255, now_ns(),
	    "neither its shim nor an exit record is left: the status is unknown");
}

static void
sweep_done_cb(void *arg, int status, const char *out, const char *errmsg)
{
	char *id = arg;

	/* The runtime may never have heard of it: that is fine. A runtime
	 * create cut short left its cgroups where runc puts them by default
	 * (the bundle, with any other place, is not known without rows). */
	if (container_find(id) == NULL) {
		cgroups_remove_empty(id, "");
		container_remove_dir(id);
	}
	free(id);
}

/* What is left of containers the database does not know as live: a create
 * whose rows never reached the disk, or a stopped container whose runtime
 * delete the daemon died before. Its shims die, the runtime deletes it, its
 * directory goes. Only directories of the daemon's area that carry its
 * marker: anything else is not provably the daemon's, and is left and
 * logged. Runs once the live containers are loaded, before the
 * half-created ones among them are undone (they are not its business). */
static void
sweep_unknown(void)
{
	char area[PATH_MAX_LEN + 64];
	DIR *d;
	struct dirent *de;

	layout_area_path(area, sizeof(area));
	if ((d = opendir(area)) == NULL) {
		log_warn("cannot read %s", area);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char prefix[PATH_MAX_LEN + 256];
		struct err e;
		char *id;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    layout_sweep_tmp(de->d_name) || container_find(de->d_name) != NULL)
			continue;
		if (validate_id("container id", de->d_name, &e) < 0 ||
		    !layout_container_is_ours(de->d_name)) {
			log_warnx("%s/%s: left as it is: not a directory the daemon made (no"
				  " marker)", area, de->d_name);
			continue;
		}
		log_warnx("container %s: not live in the database, yet its directory is there"
			  " (a create or delete cut short): removing what is left", de->d_name);
		layout_container_path(de->d_name, prefix, sizeof(prefix) - 1);
		strcat(prefix, "/");
		kill_shims_under(prefix);
		if ((id = strdup(de->d_name)) == NULL)
			continue;
		{
			const char *args[] = { "delete", "--force", id, NULL };

			if (runtime_run(NULL, args, sweep_done_cb, id) < 0) {
				container_remove_dir(id);
				free(id);
			}
		}
	}
	closedir(d);
	/* A shim whose directory is gone already. */
	for (int i = 0; i < n_shims_seen; i++) {
		size_t alen = strlen(area);
		const char *rest;
		char cid[256];
		size_t k = 0;

		if (shims_seen[i].pid <= 0 || strncmp(shims_seen[i].dir, area, alen) != 0 ||
		    shims_seen[i].dir[alen] != '/')
			continue;
		rest = shims_seen[i].dir + alen + 1;
		while (rest[k] != '\0' && rest[k] != '/' && k + 1 < sizeof(cid)) {
			cid[k] = rest[k];
			k++;
		}
		cid[k] = '\0';
		if (container_find(cid) == NULL) {
			char prefix[PATH_MAX_LEN + 256];

			snprintf(prefix, sizeof(prefix), "%s/%s/", area, cid);
			kill_shims_under(prefix);
		}
	}
	layout_log_foreign();
}

int
reconcile(struct err *e)
{
	struct container *c, *next;
	int n = 0;

	if (layout_migrate(e) < 0)
		return -1;
	scan_shims();
	if (store_containers_foreach(D.store, true, load_container, NULL, e) < 0)
		return -1;
	for (c = D.containers; c != NULL; c = c->next) {
		if (store_labels_foreach(D.store, c->id, load_label, c, e) < 0 ||
		    store_processes_foreach(D.store, c->id, load_process, c, e) < 0)
			return -1;
	}
	sweep_unknown();
	for (c = D.containers; c != NULL; c = next) {
		next = c->next;
		n++;
		if (c->status == CONTAINER_CREATING) {
			undo_creating(c);
			continue;
		}
		kill_rowless_execs(c);
		/* Execs first: their exits come before the init's. */
		for (struct process *p = c->procs, *pn; p != NULL; p = pn) {
			pn = p->next;
			if (strcmp(p->name, "init") != 0)
				reconcile_process(p);
		}
		{
			struct process *init = process_find(c, "init");

			if (init == NULL) {
				log_warnx("container %s has no init process row: marking it stopped",
				    c->id);
				int64_t now = now_ns();
				struct err e2;

				store_container_set_status(D.store, c->id, "stopped", now, NULL);
				/* The history must say so too, or replay would disagree. */
				event_record("exit", c->id, "init", 255, now, &e2);
				container_free(c);
				continue;
			}
			reconcile_process(init);
		}
	}
	/* Paused or running is the runtime's to say (a crash between its
	 * pause and the commit left the table behind). */
	for (c = D.containers; c != NULL; c = c->next)
		if ((c->status == CONTAINER_RUNNING || c->status == CONTAINER_PAUSED) &&
		    !c->deleting)
			rpc_update_probe_pause(c);
	free(shims_seen);
	shims_seen = NULL;
	n_shims_seen = 0;
	if (n > 0)
		log_info("reconciled %d container(s) from the database", n);
	return 0;
}
