/* runtime.c: the runtime child and what it says when it fails (see runtime.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fmt.h"
#include "json.h"
#include "runtime.h"

/* The tail of the runtime log that is searched for the error. */
#define LOG_TAIL 16384

static char *join(const char *dir, const char *name)
{
	return shim_concat(dir, "/", name);
}

const char *shim_runtime_verb(const struct shim_opts *o)
{
	if (o->exec_json != NULL)
		return "exec";
	if (o->checkpoint != NULL)
		return "restore";
	return "create";
}

/* A real one is a few hundred bytes. */
#define RESTORE_CONFIG_MAX 65536

int shim_restore_load(const char *checkpoint_dir, struct shim_restore *r, char *err,
    size_t errsz)
{
	static char buf[RESTORE_CONFIG_MAX + 1];	/* only touched on a restore */
	static const struct { const char *key; size_t off; } bools[] = {
		{ "tcp", offsetof(struct shim_restore, tcp) },
		{ "unixSockets", offsetof(struct shim_restore, unix_sockets) },
		{ "shell", offsetof(struct shim_restore, shell) },
	};
	char *path = join(checkpoint_dir, "config.json");
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd, rc;

	memset(r, 0, sizeof(*r));
	if (path == NULL) {
		shim_snprintf(err, errsz, "checkpoint %s: path too long", checkpoint_dir);
		return -1;
	}
	/* Non-blocking and regular only: a fifo put there must not hang the restore. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		shim_snprintf(err, errsz, "checkpoint config %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > RESTORE_CONFIG_MAX) {
		shim_snprintf(err, errsz, "checkpoint config %s: not a regular file of at most"
		    " %d bytes", path, RESTORE_CONFIG_MAX);
		close(fd);
		return -1;
	}
	while (len < RESTORE_CONFIG_MAX && (n = read(fd, buf + len, RESTORE_CONFIG_MAX - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			shim_snprintf(err, errsz, "checkpoint config %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		if (shim_json_bool(buf, len, bools[i].key, (int *)((char *)r + bools[i].off)) < 0) {
			shim_snprintf(err, errsz, "checkpoint config %s: not a JSON object with a"
			    " true/false \"%s\"", path, bools[i].key);
			return -1;
		}
	}
	rc = shim_json_strings(buf, len, "emptyNS", &r->empty_ns[0][0], sizeof(r->empty_ns[0]),
	    SHIM_MAX_EMPTY_NS, &r->n_empty_ns);
	if (rc < 0) {
		shim_snprintf(err, errsz, "checkpoint config %s: \"emptyNS\" is not a list of at"
		    " most %d namespace names", path, SHIM_MAX_EMPTY_NS);
		return -1;
	}
	return 0;
}

int shim_runtime_argv(const struct shim_opts *o, const char *console,
    const struct shim_restore *r, char **argv)
{
	char *log = join(o->dir, "runtime.log");
	char *pid = join(o->dir, "pid");
	int i, n = 0;

	if (log == NULL || pid == NULL)
		return -1;
	argv[n++] = (char *)o->runtime;
	for (i = 0; i < o->n_runtime_args; i++)
		argv[n++] = (char *)o->runtime_args[i];
	argv[n++] = "--log";
	argv[n++] = log;
	argv[n++] = "--log-format";
	argv[n++] = "json";
	argv[n++] = (char *)shim_runtime_verb(o);
	if (o->exec_json == NULL && o->checkpoint != NULL) {
		char *work = join(o->dir, "criu-work");

		if (work == NULL)
			return -1;
		argv[n++] = "--detach";
		argv[n++] = "--bundle";
		argv[n++] = (char *)o->bundle;
		argv[n++] = "--image-path";
		argv[n++] = (char *)o->checkpoint;
		argv[n++] = "--work-path";
		argv[n++] = work;
		/* As the checkpoint was taken (its config.json), as in 2017. */
		if (r != NULL && r->tcp)
			argv[n++] = "--tcp-established";
		if (r != NULL && r->unix_sockets)
			argv[n++] = "--ext-unix-sk";
		if (r != NULL && r->shell)
			argv[n++] = "--shell-job";
		for (size_t k = 0; r != NULL && k < r->n_empty_ns; k++) {
			argv[n++] = "--empty-ns";
			argv[n++] = (char *)r->empty_ns[k];
		}
	} else if (o->exec_json == NULL) {
		argv[n++] = "--bundle";
		argv[n++] = (char *)o->bundle;
	} else {
		argv[n++] = "--detach";
	}
	argv[n++] = "--pid-file";
	argv[n++] = pid;
	if (o->exec_json != NULL) {
		argv[n++] = "--process";
		argv[n++] = (char *)o->exec_json;
	}
	if (console != NULL) {
		argv[n++] = "--console-socket";
		argv[n++] = (char *)console;
	}
	if (o->exec_json == NULL && o->no_pivot)
		argv[n++] = "--no-pivot";
	argv[n++] = (char *)o->id;
	argv[n] = NULL;
	return n;
}

int shim_runtime_spawn(char **argv, int in, int out, int err, pid_t *pid)
{
	static const int reset[] = { SIGPIPE, SIGHUP, SIGINT, SIGCHLD };
	sigset_t none;
	int p[2], e = 0;
	ssize_t n;
	pid_t child;

	/* Not posix_spawn: its file actions would link malloc into the shim. */
	if (pipe2(p, O_CLOEXEC) < 0)
		return errno;
	child = fork();
	if (child < 0) {
		e = errno;
		close(p[0]);
		close(p[1]);
		return e;
	}
	if (child == 0) {
		/* 0, 1, 2 were taken before any of these fds was opened: all >= 3. */
		if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
			goto fail;
		for (size_t i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
			signal(reset[i], SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp(argv[0], argv);
fail:
		e = errno;
		(void)!write(p[1], &e, sizeof(e));
		_exit(127);
	}
	close(p[1]);
	do
		n = read(p[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n == (ssize_t)sizeof(e)) {	/* exec failed: reap it here */
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
		return e ? e : ENOEXEC;
	}
	*pid = child;
	return 0;
}

static void one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
}

static int line_error(const char *line, size_t len, char *msg, size_t size)
{
	char level[16];

	if (shim_json_string(line, len, "level", level, sizeof(level)) < 0 ||
	    (strcmp(level, "error") != 0 && strcmp(level, "fatal") != 0))
		return -1;
	if (shim_json_string(line, len, "msg", msg, size) < 0) {
		msg[0] = '\0';
		return -1;
	}
	return 0;
}

int shim_runtime_error(const char *log_path, char *msg, size_t size)
{
	static char tail[LOG_TAIL + 1];	/* only touched when the runtime failed */
	char *line, *end, *first;
	off_t at;
	ssize_t n;
	size_t len = 0;
	int fd;

	fd = open(log_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	at = lseek(fd, 0, SEEK_END);
	at = at > LOG_TAIL ? at - LOG_TAIL : 0;
	if (lseek(fd, at, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	while (len < LOG_TAIL && (n = read(fd, tail + len, LOG_TAIL - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	tail[len] = '\0';
	first = tail;
	if (at > 0) {	/* skip the partial first line */
		first = memchr(tail, '\n', len);
		first = first ? first + 1 : tail + len;
	}
	/* From the last line backwards: the latest error wins. */
	end = tail + len;
	while (end > first) {
		line = end;
		while (line > first && line[-1] != '\n')
			line--;
		if (line_error(line, (size_t)(end - line), msg, size) == 0) {
			one_line(msg);
			return 0;
		}
		end = line > first ? line - 1 : first;
	}
	return -1;
}
