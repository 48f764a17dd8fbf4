/* procinfo: a process as State reports it (Types__Process), built from the
 * OCI process object of config.json or an exec request.
 *
 * Most of it (args, env, user, cwd, capabilities, rlimits, ...) is the same
 * for every container of one image and every exec of one command: that part,
 * the body, is kept once, interned and counted, and a process holds a
 * reference to it. What is each process's own (its name, its stdio paths,
 * its pid) is added by procinfo_fill when a reply is built. At 10,000
 * containers of one bundle the body is one block instead of 10,000. */
#ifndef DAEMON_PROCINFO_H
#define DAEMON_PROCINFO_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "api.pb-c.h"

/* A counted reference to the interned body of process; NULL when out of
 * memory. Its pid and stdio fields are empty. */
const Types__Process *procinfo_get(json_t *process);
/* Drops a reference (NULL: nothing). */
void procinfo_put(const Types__Process *body);
/* How many distinct bodies are held (for tests and the metrics). */
size_t procinfo_count(void);
/* A process's own stdio paths as one block ("in\0out\0err\0"), *out NULL
 * when all three are /dev/null (an empty path means /dev/null); -1 when out
 * of memory. */
int procinfo_stdio(const char *in, const char *out_path, const char *err, char **out);
/* The Types__Process of a process: body, with name, stdio (as made by
 * procinfo_stdio) and pid. out points into body, name and stdio. */
void procinfo_fill(Types__Process *out, const Types__Process *body, const char *name,
    const char *stdio, pid_t pid);
/* JSON array text of a string list (malloc'd). */
char *procinfo_strv_json(char **v, size_t n);

#endif
