/*
 * logs_forget: a forgotten container's logs go with its records. The
 * shim writes a container's process logs into <state-dir>/_logs/<id>/;
 * once the container's history is gone (RemoveContainer, Prune, retention,
 * a create that replaces its rows) they go too, so a new container of the
 * same id never shows the old one's output.
 *
 * Only what the daemon made is removed: the directory is opened without
 * following a symlink (at _logs as at <id>), only its regular files are
 * unlinked, and the directory itself is removed once they are gone. A
 * symlink or anything else found there stays (and so does the directory),
 * with a log line.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

int
logs_forget(const char *id)
{
	char area[PATH_MAX_LEN + 64];
	struct dirent *de;
	struct stat st;
	int afd, dfd, kept = 0;
	DIR *d;

	if (id == NULL || validate_id("container id", id, NULL) < 0)
		return -1;
	snprintf(area, sizeof(area), "%s/" LAYOUT_LOGS, D.cfg.state_dir);
	if ((afd = open(area, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		log_warn("logs of %s: cannot open %s", id, area);
		return -1;
	}
	if (fstatat(afd, id, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		close(afd);
		return errno == ENOENT ? 0 : -1;
	}
	if (!S_ISDIR(st.st_mode) ||
	    (dfd = openat(afd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		log_warnx("logs of %s: %s/%s is not a directory: left alone", id, area, id);
		close(afd);
		return -1;
	}
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		close(afd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && unlinkat(dfd, de->d_name, 0) == 0)
			continue;
		log_warnx("logs of %s: %s/%s/%s is not a file the daemon wrote: left alone", id,
		    area, id, de->d_name);
		kept++;
	}
	closedir(d);
	if (kept == 0 && unlinkat(afd, id, AT_REMOVEDIR) < 0 && errno != ENOENT) {
		log_warn("logs of %s: cannot remove %s/%s", id, area, id);
		kept++;
	}
	close(afd);
	return kept == 0 ? 0 : -1;
}
