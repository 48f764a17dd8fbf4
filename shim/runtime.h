/*
 * runtime.h: running the OCI runtime (runc's CLI) for the shim's one verb:
 * `create` for an init, `restore --detach` from a checkpoint, `exec --detach`.
 */
#ifndef SHIM_RUNTIME_H
#define SHIM_RUNTIME_H

#include <stddef.h>
#include <sys/types.h>

#include "shim.h"

/* A restore's options from the checkpoint's config.json (see below). */
#define SHIM_MAX_EMPTY_NS 8
struct shim_restore {
	int tcp, unix_sockets, shell;
	size_t n_empty_ns;
	char empty_ns[SHIM_MAX_EMPTY_NS][64];
};

#define SHIM_RUNTIME_MAX_ARGV (SHIM_MAX_RUNTIME_ARGS + 24 + 3 + 2 * SHIM_MAX_EMPTY_NS)

/* The verb the shim runs: "create", "restore" or "exec". */
const char *shim_runtime_verb(const struct shim_opts *o);

/*
 * The options a checkpoint was made with, from CHECKPOINT_DIR/config.json
 * as the 2017 daemon wrote it ({"created":..., "name":..., "tcp":bool,
 * "unixSockets":bool, "shell":bool, "exit":bool, "emptyNS":[...]}; absent
 * members are false or empty), so that the restore passes the same
 * --tcp-established, --ext-unix-sk, --shell-job and --empty-ns. No
 * config.json (a checkpoint taken by something else): 0 with no options.
 * -1 with why in err if it cannot be read or is not such an object.
 */
int shim_restore_load(const char *checkpoint_dir, struct shim_restore *r, char *err,
    size_t errsz);

/*
 * Fills argv (at most SHIM_RUNTIME_MAX_ARGV entries with the NULL) for the
 * runtime. console is the --console-socket path or NULL; r the restore's
 * options (NULL: none). The strings are built with shim_concat or are r's,
 * and live until exit. Returns argc, or -1 (no room).
 */
int shim_runtime_argv(const struct shim_opts *o, const char *console,
    const struct shim_restore *r, char **argv);

/*
 * Spawns argv[0] (looked up in PATH unless it has a slash) with in/out/err as
 * its 0/1/2, default signal dispositions and an empty signal mask.
 * Returns 0 and *pid, or an errno value (e.g. ENOENT from exec).
 */
int shim_runtime_spawn(char **argv, int in, int out, int err, pid_t *pid);

/*
 * The runtime's own explanation of a failure: the "msg" of the last
 * "level":"error" line of its JSON log at log_path, on one line.
 * Returns 0 with msg filled, -1 if there is none.
 */
int shim_runtime_error(const char *log_path, char *msg, size_t size);

#endif
