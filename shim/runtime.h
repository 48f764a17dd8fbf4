/*
 * runtime.h: running the OCI runtime (runc's CLI) for the shim's one verb:
 * `create` for an init, `restore --detach` from a checkpoint, `exec --detach`.
 */
#ifndef SHIM_RUNTIME_H
#define SHIM_RUNTIME_H

#include <stddef.h>
#include <sys/types.h>

#include "shim.h"

#define SHIM_RUNTIME_MAX_ARGV (SHIM_MAX_RUNTIME_ARGS + 24)

/* The verb the shim runs: "create", "restore" or "exec". */
const char *shim_runtime_verb(const struct shim_opts *o);

/*
 * Fills argv (at most SHIM_RUNTIME_MAX_ARGV entries with the NULL) for the
 * runtime. console is the --console-socket path or NULL. The strings are
 * built with shim_concat and live until exit. Returns argc, or -1 (no room).
 */
int shim_runtime_argv(const struct shim_opts *o, const char *console, char **argv);

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
