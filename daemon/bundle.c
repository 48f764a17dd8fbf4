/*
 * bundle: reading a bundle's config.json. The path is a client's: opened
 * non-blocking (a FIFO with no writer would block open() for ever), only a
 * regular file, only up to BUNDLE_CONFIG_MAX bytes (a 300 MB file took 12 s
 * and 600 MB). It runs in bundle_read's thread, so a filesystem that does
 * not answer at all stops that thread, not the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "jsonlax.h"

static const char *
kind_of(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

int
bundle_config_load(const char *bundle, json_t **out, struct err *e)
{
	char path[PATH_MAX_LEN + 32];
	json_error_t je;
	struct stat st;
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	/* Not even opened unless it is a regular file: opening a device can
	 * do things (a tape rewinds). fstat below is the check that counts. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return err_set(e, GRPC_INVALID_ARGUMENT,
		    "bundle %s: %s is %s; it must be a regular file", bundle, path,
		    kind_of(st.st_mode));
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, GRPC_INVALID_ARGUMENT, "bundle %s: cannot open %s: %s", bundle,
		    path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		err_set(e, GRPC_INVALID_ARGUMENT, "bundle %s: cannot stat %s: %s", bundle, path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, GRPC_INVALID_ARGUMENT,
		    "bundle %s: %s is %s; it must be a regular file", bundle, path,
		    kind_of(st.st_mode));
	}
	if (st.st_size > BUNDLE_CONFIG_MAX) {
		close(fd);
		return err_set(e, GRPC_INVALID_ARGUMENT,
		    "bundle %s: %s is %lld bytes; at most %d are accepted", bundle, path,
		    (long long)st.st_size, BUNDLE_CONFIG_MAX);
	}
	/* One byte more than the limit: a file that grew since fstat is caught. */
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return err_set(e, GRPC_RESOURCE_EXHAUSTED, "bundle %s: out of memory", bundle);
	}
	while (len <= (size_t)st.st_size &&
	    (n = read(fd, buf + len, (size_t)st.st_size + 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_set(e, GRPC_INVALID_ARGUMENT, "bundle %s: cannot read %s: %s", bundle,
			    path, strerror(errno));
			goto fail;
		}
		len += (size_t)n;
	}
	if (len > (size_t)st.st_size) {
		err_set(e, GRPC_INVALID_ARGUMENT, "bundle %s: %s grew while it was read", bundle,
		    path);
		goto fail;
	}
	close(fd);
	/* As the runtime reads it: valid JSON that jansson alone refuses (uint64
	 * maxima, 1e400, \u0000) must not fail a create the runtime would run. */
	*out = jsonlax_loadb(buf, len, &je);
	free(buf);
	if (*out == NULL)
		return err_set(e, GRPC_INVALID_ARGUMENT, "bundle %s: cannot read config.json: line %d: %s",
		    bundle, je.line, je.text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return err_set(e, GRPC_INVALID_ARGUMENT,
		    "bundle %s: config.json is not a JSON object", bundle);
	}
	return 0;
fail:
	close(fd);
	free(buf);
	return -1;
}
