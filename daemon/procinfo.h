/* procinfo: a process as State reports it (Types__Process), built from the
 * OCI process object of config.json or an exec request. The result is owned
 * by the caller: free it with procinfo_free. */
#ifndef DAEMON_PROCINFO_H
#define DAEMON_PROCINFO_H

#include <jansson.h>

#include "api.pb-c.h"

Types__Process *procinfo_from_oci(const char *name, json_t *process, const char *stdin_path,
    const char *stdout_path, const char *stderr_path);
void procinfo_free(Types__Process *p);
/* JSON array text of a string list (malloc'd). */
char *procinfo_strv_json(char **v, size_t n);

#endif
