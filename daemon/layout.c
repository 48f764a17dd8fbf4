/*
 * layout: what the daemon keeps in its state dir, and how it tells its own
 * directories from everything else there.
 *
 *   <state>/state.db, -wal, -shm   the database
 *   <state>/containerd.sock        the socket (unless --listen elsewhere)
 *   <state>/_daemon.lock           flock()ed for the daemon's lifetime
 *   <state>/_metrics_socket        the --metrics-address socket this daemon
 *                                  made (device, inode, path): proof that a
 *                                  stale one there may go (prom.c)
 *   <state>/_containers/<id>/      one per container, made by a create, with
 *       .containerd                the marker, made (O_EXCL) before the
 *                                  directory gets the id's name
 *       <pid>/                     one per process: the shim's --dir
 *   <state>/_containers/.tmp-*     a container dir being made or removed
 *   <state>/_logs/<id>/<pid>.log   the output of a process created without
 *       (and .log.1)               stdout/stderr paths, written by its shim;
 *                                  outlives the container's dir (mode 0700,
 *                                  files 0600), goes with its records
 *
 * No container id starts with '_', so no id can name the daemon's own files
 * or the area, and the area is never taken for an id by an older daemon. A
 * directory is removed only with its marker in it: what the daemon cannot
 * prove it made (a user's files, a runtime --root placed here) is left and
 * logged. Up to 0.2.9-c the containers lived at <state>/<id>/: the start
 * moves those of known containers into the area (layout_migrate).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "prom.h"

#define AREA "_containers"
#define MARKER ".containerd"
#define TMP_PREFIX ".tmp-"
#define LOCK_NAME "_daemon.lock"
#define LOGS LAYOUT_LOGS

static int lock_fd = -1;

void
layout_area_path(char *buf, size_t n)
{
	snprintf(buf, n, "%s/" AREA, D.cfg.state_dir);
}

void
layout_container_path(const char *id, char *buf, size_t n)
{
	snprintf(buf, n, "%s/" AREA "/%s", D.cfg.state_dir, id);
}

void
layout_log_path(const char *id, const char *pid, char *buf, size_t n)
{
	snprintf(buf, n, "%s/" LOGS "/%s/%s.log", D.cfg.state_dir, id, pid);
}

int
layout_log_mkdir(const char *id, struct err *e)
{
	char path[PATH_MAX_LEN + 64];

	struct stat st;

	snprintf(path, sizeof(path), "%s/" LOGS, D.cfg.state_dir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return err_set(e, GRPC_INTERNAL, "cannot create %s: %s", path, strerror(errno));
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		goto not_dir;
	snprintf(path, sizeof(path), "%s/" LOGS "/%s", D.cfg.state_dir, id);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return err_set(e, GRPC_INTERNAL, "cannot create %s: %s", path, strerror(errno));
	/* Something put there in its place (a symlink to elsewhere) would have
	 * the shim write a log where the daemon never removes it. */
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		goto not_dir;
	return 0;
not_dir:
	return err_set(e, GRPC_FAILED_PRECONDITION, "%s is not a directory (a symlink or a "
	    "file put there?): the process's log cannot be written; remove it", path);
}

void
layout_log_remove(const char *id, const char *pid)
{
	char path[PATH_MAX_LEN + 64];

	layout_log_path(id, pid, path, sizeof(path) - 2);
	(void)unlink(path);
	strcat(path, ".1");
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/" LOGS "/%s", D.cfg.state_dir, id);
	(void)rmdir(path);	/* only when nothing else is logged there */
}

/* The pid of another containerd process (an older one, which takes no
 * lock file) that has the database open, 0 if none. Its name is what
 * singles it out: a reader (containerd-state, sqlite3) may hold it too. */
static pid_t
other_daemon_on_db(void)
{
	char db[PATH_MAX_LEN + 64], real[PATH_MAX_LEN + 64], path[96], link[PATH_MAX_LEN + 64];
	DIR *proc, *fds;
	struct dirent *de, *fe;
	pid_t found = 0;
	ssize_t k;
	int fd;

	snprintf(db, sizeof(db), "%s/state.db", D.cfg.state_dir);
	if (realpath(db, real) == NULL || (proc = opendir("/proc")) == NULL)
		return 0;
	while (found == 0 && (de = readdir(proc)) != NULL) {
		pid_t pid = (pid_t)atoi(de->d_name);
		char comm[32];

		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		k = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (k <= 0)
			continue;
		comm[k] = '\0';
		if (strcmp(comm, "containerd\n") != 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
		if ((fds = opendir(path)) == NULL)
			continue;
		while ((fe = readdir(fds)) != NULL) {
			char fdpath[320];

			if (fe->d_name[0] == '.')
				continue;
			snprintf(fdpath, sizeof(fdpath), "/proc/%d/fd/%s", (int)pid, fe->d_name);
			k = readlink(fdpath, link, sizeof(link) - 1);
			if (k <= 0)
				continue;
			link[k] = '\0';
			if (strcmp(link, real) == 0) {
				found = pid;
				break;
			}
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

int
layout_lock(struct err *e)
{
	char path[PATH_MAX_LEN + 64], buf[32];
	ssize_t k;

	snprintf(path, sizeof(path), "%s/" LOCK_NAME, D.cfg.state_dir);
	/* CLOEXEC: a shim or a runtime call must not hold it after we are gone. */
	lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (lock_fd < 0)
		return err_set(e, GRPC_INTERNAL, "cannot open the lock file %s: %s", path,
		    strerror(errno));
	if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;
		long pid = 0;

		if (err == EWOULDBLOCK) {
			k = pread(lock_fd, buf, sizeof(buf) - 1, 0);
			if (k > 0) {
				buf[k] = '\0';
				pid = strtol(buf, NULL, 10);
			}
			close(lock_fd);
			lock_fd = -1;
			if (pid > 0)
				return err_set(e, GRPC_FAILED_PRECONDITION,
				    "another containerd (pid %ld) is using the state dir %s (it holds"
				    " %s); two daemons on one state dir would undo each other's"
				    " work: stop it or choose another --state-dir", pid,
				    D.cfg.state_dir, path);
			return err_set(e, GRPC_FAILED_PRECONDITION,
			    "another containerd is using the state dir %s (it holds %s); stop it"
			    " or choose another --state-dir", D.cfg.state_dir, path);
		}
		close(lock_fd);
		lock_fd = -1;
		return err_set(e, GRPC_INTERNAL, "cannot lock %s: %s", path, strerror(err));
	}
	/* A daemon older than the lock file runs here without it. */
	{
		pid_t other = other_daemon_on_db();

		if (other > 0) {
			close(lock_fd);
			lock_fd = -1;
			return err_set(e, GRPC_FAILED_PRECONDITION,
			    "another containerd (pid %d, a version without %s) has %s/state.db"
			    " open: two daemons on one state dir would undo each other's work:"
			    " stop it first", (int)other, LOCK_NAME, D.cfg.state_dir);
		}
	}
	/* Who holds it, for the message of the next one to try. */
	k = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(lock_fd, 0) < 0 || pwrite(lock_fd, buf, (size_t)k, 0) != k)
		log_warn("cannot write the pid into %s", path);
	return 0;
}

int
layout_init(struct err *e)
{
	char area[PATH_MAX_LEN + 64];
	struct stat st;

	layout_area_path(area, sizeof(area));
	if (mkdir(area, 0711) < 0 && errno != EEXIST)
		return err_set(e, GRPC_INTERNAL, "cannot create %s: %s", area, strerror(errno));
	if (lstat(area, &st) < 0 || !S_ISDIR(st.st_mode))
		return err_set(e, GRPC_INTERNAL, "%s is not a directory: the daemon keeps its"
		    " containers there; move it away", area);
	return 0;
}

/* Writes the marker into dir (made just now, or moved by a migration). */
static int
write_marker(const char *dir, int excl)
{
	char path[PATH_MAX_LEN + 512];
	int fd;

	snprintf(path, sizeof(path), "%s/" MARKER, dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
	    (excl ? O_EXCL : 0), 0600);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* A fresh name in the area that no id can take: a directory being made or
 * being removed has it, so one cut short (a crash) never blocks an id and
 * is recognised at the next start. */
static void
tmp_name(const char *id, char *buf, size_t n)
{
	static unsigned seq;

	snprintf(buf, n, "%s/" AREA "/" TMP_PREFIX "%s.%ld.%u", D.cfg.state_dir, id,
	    (long)getpid(), seq++);
}

/* dir holds the marker, a regular file: the daemon made dir. */
static bool
has_marker(const char *dir)
{
	char path[PATH_MAX_LEN + 512];
	struct stat st;

	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return false;
	snprintf(path, sizeof(path), "%s/" MARKER, dir);
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *rm_keep;	/* the marker: removed last */

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	if (ftw->level == 0 || (rm_keep != NULL && strcmp(path, rm_keep) == 0))
		return 0;
	if (remove(path) < 0 && errno != ENOENT)
		log_warn("cannot remove %s", path);
	return 0;
}

/* rm -r of a marked dir, the marker last: a removal cut short leaves a
 * directory the next start still knows as the daemon's. */
static void
remove_marked(const char *dir)
{
	char marker[PATH_MAX_LEN + 400];

	snprintf(marker, sizeof(marker), "%s/" MARKER, dir);
	rm_keep = marker;
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	rm_keep = NULL;
	if (unlink(marker) < 0 || rmdir(dir) < 0)
		log_warn("cannot remove %s", dir);
}

/* The directory appears in one step, marker inside: made under a
 * temporary name, marked, then renamed to the id, never over anything. */
int
layout_container_mkdir(const char *id, struct err *e)
{
	char dir[PATH_MAX_LEN + 64], tmp[PATH_MAX_LEN + 400];
	struct stat st;
	int err, rc;

	layout_container_path(id, dir, sizeof(dir));
	if (lstat(dir, &st) == 0)
		goto exists;
	tmp_name(id, tmp, sizeof(tmp));
	if (mkdir(tmp, 0711) < 0) {
		err = errno;
		return err_set(e, err == ENOSPC ? GRPC_RESOURCE_EXHAUSTED : GRPC_INTERNAL,
		    "cannot create %s: %s", tmp, strerror(err));
	}
	if (write_marker(tmp, 1) < 0) {
		err = errno;
		rmdir(tmp);
		return err_set(e, err == ENOSPC ? GRPC_RESOURCE_EXHAUSTED : GRPC_INTERNAL,
		    "cannot create %s/%s: %s", tmp, MARKER, strerror(err));
	}
	rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_NOREPLACE);
	if (rc < 0 && (errno == EINVAL || errno == ENOSYS)) {
		/* A filesystem without RENAME_NOREPLACE: only the daemon makes
		 * directories here, and it looked just above. */
		if (lstat(dir, &st) == 0)
			errno = EEXIST;
		else
			rc = rename(tmp, dir);
	}
	if (rc < 0) {
		err = errno;
		remove_marked(tmp);
		if (err == EEXIST || err == ENOTEMPTY)
			goto exists;
		return err_set(e, err == ENOSPC ? GRPC_RESOURCE_EXHAUSTED : GRPC_INTERNAL,
		    "cannot create %s: %s", dir, strerror(err));
	}
	return 0;
exists:
	return err_set(e, GRPC_FAILED_PRECONDITION,
	    "container %s: its directory %s is there already, and this create did not make"
	    " it: left as it is (the daemon's own leftovers are removed at its next start;"
	    " anything else is not the daemon's)", id, dir);
}

int
layout_count_marked(void)
{
	char area[PATH_MAX_LEN + 64], dir[PATH_MAX_LEN + 400];
	DIR *d;
	struct dirent *de;
	int n = 0;

	layout_area_path(area, sizeof(area));
	if ((d = opendir(area)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue; /* ".", "..", and .tmp-*: a create or removal cut short */
		snprintf(dir, sizeof(dir), "%s/%s", area, de->d_name);
		if (has_marker(dir))
			n++;
	}
	closedir(d);
	return n;
}

bool
layout_container_is_ours(const char *id)
{
	char dir[PATH_MAX_LEN + 64];

	layout_container_path(id, dir, sizeof(dir));
	return has_marker(dir);
}

void
container_remove_dir(const char *id)
{
	char dir[PATH_MAX_LEN + 64], gone[PATH_MAX_LEN + 400];

	layout_container_path(id, dir, sizeof(dir));
	if (!has_marker(dir)) {
		if (access(dir, F_OK) == 0)
			log_warnx("%s: left as it is: it has no %s marker, so the daemon did not"
				  " make it", dir, MARKER);
		return;
	}
	/* Out of the id's way in one step first. */
	tmp_name(id, gone, sizeof(gone));
	if (rename(dir, gone) < 0) {
		log_warn("cannot rename %s to %s", dir, gone);
		remove_marked(dir);
		return;
	}
	remove_marked(gone);
}

bool
layout_sweep_tmp(const char *name)
{
	char path[PATH_MAX_LEN + 400];

	if (strncmp(name, TMP_PREFIX, sizeof(TMP_PREFIX) - 1) != 0)
		return false;
	snprintf(path, sizeof(path), "%s/" AREA "/%s", D.cfg.state_dir, name);
	if (has_marker(path)) {
		log_info("%s: a create or a removal cut short: removing it", path);
		remove_marked(path);
	} else if (rmdir(path) == 0)
		log_info("%s: an empty directory of a create cut short: removed", path);
	else
		log_warnx("%s: left as it is: not a directory the daemon made (no marker)",
		    path);
	return true;
}

/* A directory of the old layout, <state>/<id>, of a container the database
 * knows: move it into the area, marked. A running shim keeps working: it
 * chdir()ed into its --dir and writes its exit file there by relative names. */
static int
migrate_one(void *arg, const struct store_container *sc)
{
	char old[PATH_MAX_LEN + 64], new[PATH_MAX_LEN + 64];
	struct stat st;

	snprintf(old, sizeof(old), "%s/%s", D.cfg.state_dir, sc->id);
	layout_container_path(sc->id, new, sizeof(new));
	if (lstat(old, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	if (lstat(new, &st) == 0) {
		log_warnx("%s: not moved to %s, which exists already", old, new);
		return 0;
	}
	if (rename(old, new) < 0) {
		log_warn("cannot move %s to %s", old, new);
		return 0;
	}
	if (write_marker(new, 0) < 0)
		log_warn("cannot mark %s", new);
	log_info("container %s: its directory moved from %s to %s (the new layout)", sc->id,
	    old, new);
	return 0;
}

int
layout_migrate(struct err *e)
{
	return store_containers_foreach(D.store, false, migrate_one, NULL, e);
}

/* path is <state>/name. */
static bool
is_here(const char *path, const char *name)
{
	const char *slash = path != NULL ? strrchr(path, '/') : NULL;
	size_t plen = strlen(D.cfg.state_dir);

	return slash != NULL && (size_t)(slash - path) == plen &&
	    strncmp(path, D.cfg.state_dir, plen) == 0 && strcmp(slash + 1, name) == 0;
}

static bool
is_own_name(const char *name)
{
	static const char *const own[] = { "state.db", "state.db-wal", "state.db-shm",
		"state.db-journal", AREA, LOCK_NAME, LOGS, LAYOUT_METRICS_RECORD, NULL };

	for (int i = 0; own[i] != NULL; i++)
		if (strcmp(name, own[i]) == 0)
			return true;
	/* The sockets, when they are here. */
	return is_here(D.cfg.listen, name) || is_here(prom_socket_path(), name);
}

void
layout_log_foreign(void)
{
	DIR *d = opendir(D.cfg.state_dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    is_own_name(de->d_name))
			continue;
		log_info("%s/%s: not the daemon's (its containers are in %s/" AREA "): left"
			 " as it is", D.cfg.state_dir, de->d_name, D.cfg.state_dir);
	}
	closedir(d);
}

void
layout_translate_old_dir(const char *dir, char *out, size_t n)
{
	size_t plen = strlen(D.cfg.state_dir);
	const char *rest = dir + plen + 1;

	if (strncmp(rest, AREA "/", sizeof(AREA)) == 0)
		snprintf(out, n, "%s", dir);
	else
		snprintf(out, n, "%s/" AREA "/%s", D.cfg.state_dir, rest);
}
