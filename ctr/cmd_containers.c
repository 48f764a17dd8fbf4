/* ctr containers [list]: the group of container verbs, and the listing. */
#include "ctr.h"

#include <stdlib.h>
#include <string.h>

static const struct ctr_cmd *const containers_subs[] = {
	&cmd_containers_list, &cmd_containers_start, &cmd_containers_exec,
	&cmd_containers_kill, &cmd_containers_pause, &cmd_containers_resume,
	&cmd_containers_update, &cmd_containers_stats, &cmd_containers_state,
	&cmd_containers_watch, NULL,
};

const struct ctr_cmd cmd_containers = {
	.name = "containers",
	.summary = "start, list and manage containers",
	.subs = containers_subs,
};

/* "init,e1,e2": the process names of one container. */
static char *
process_names(const Types__Container *ct)
{
	size_t i, len = 1;
	char *s;

	for (i = 0; i < ct->n_processes; i++)
		len += strlen(ct->processes[i]->pid) + 1;
	if ((s = malloc(len)) == NULL)
		return NULL;
	s[0] = '\0';
	for (i = 0; i < ct->n_processes; i++) {
		if (i > 0)
			strcat(s, ",");
		strcat(s, ct->processes[i]->pid);
	}
	return s;
}

static int
list_run(struct ctr *c, const struct ctr_args *a)
{
	Types__StateRequest req = TYPES__STATE_REQUEST__INIT;
	Types__StateResponse *r;
	struct ctr_table *t;
	struct err e;
	size_t i;

	(void)a;
	if (ctr_call(c, "State", &req.base, &types__state_response__descriptor,
	    (ProtobufCMessage **)&r, &e) < 0)
		return ctr_fail(&e);
	t = ctr_table_new(20, 3);
	ctr_table_addf(t, "ID\tPATH\tSTATUS\tPROCESSES");
	for (i = 0; i < r->n_containers; i++) {
		const Types__Container *ct = r->containers[i];
		char *procs = process_names(ct);

		ctr_table_addf(t, "%s\t%s\t%s\t%s", ct->id, ct->bundlepath,
		    ct->status, procs ? procs : "");
		free(procs);
	}
	ctr_table_flush(t, stdout);
	types__state_response__free_unpacked(r, NULL);
	return 0;
}

const struct ctr_cmd cmd_containers_list = {
	.name = "list",
	.summary = "list the containers: ID PATH STATUS PROCESSES",
	.max_args = 0,
	.run = list_run,
};
