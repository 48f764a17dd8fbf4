/*
 * reconcile: after a start, make the model agree with what is true.
 * For each container not in a final state, each process not exited:
 *   shim alive (same start time)      -> watch it again
 *   shim gone, exit file written      -> record that exit, real status and time
 *   shim gone, process still alive    -> watch the process (status will be unknown)
 *   nothing at all                    -> exit 255, said so in the log
 * A container still "creating" was never acknowledged: it is undone.
 */
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

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

	if (strcmp(sp->status, "exited") == 0)
		return 0;
	if ((p = process_new(c, sp->pid)) == NULL)
		return 0;
	p->state = strcmp(sp->status, "running") == 0 ? PROCESS_RUNNING : PROCESS_CREATING;
	p->system_pid = (pid_t)sp->system_pid;
	p->shim_pid = (pid_t)sp->shim_pid;
	p->shim_start_time = sp->shim_start_time;
	p->started_at = sp->started_at;
	spec = json_loads(sp->spec, 0, NULL);
	p->info = procinfo_from_oci(sp->pid, spec, sp->stdin_path, sp->stdout_path,
	    sp->stderr_path);
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
	c->runtime = strdup(sc->runtime);
	c->runtime_args = strv_from_json_text(sc->runtime_args, &c->n_runtime_args);
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

static void
undo_done_cb(void *arg, int status, const char *out, const char *errmsg)
{
	char *id = arg;

	if (status != 0)
		log_warnx("container %s: runtime delete of a half-created container: %s", id,
		    errmsg);
	container_remove_dir(id);
	free(id);
}

/* Never acknowledged: remove every trace. */
static void
undo_creating(struct container *c)
{
	const char *args[] = { "delete", "--force", c->id, NULL };
	struct err e;
	char *id = strdup(c->id);

	log_warnx("container %s was being created when the daemon stopped: removing it", c->id);
	for (struct process *p = c->procs; p != NULL; p = p->next) {
		if (p->shim_pid > 0 && proc_start_time(p->shim_pid) == p->shim_start_time)
			kill(-p->shim_pid, SIGKILL);
	}
	if (store_container_remove(D.store, c->id, &e) < 0)
		log_warnx("container %s: %s", c->id, e.msg);
	if (id == NULL || runtime_run(c, args, undo_done_cb, id) < 0) {
		free(id);
		container_remove_dir(c->id);
	}
	container_free(c);
}

static void
reconcile_process(struct process *p)
{
	int status;
	int64_t at;

	if (p->state == PROCESS_CREATING) {
		/* An exec that never reported: nothing acknowledged it. */
		process_exited(p, 255, now_ns(), "was being started when the daemon stopped");
		return;
	}
	if (p->shim_pid > 0 && proc_start_time(p->shim_pid) == p->shim_start_time &&
	    p->shim_start_time != 0 && shimctl_adopt(p) == 0) {
		log_info("container %s process %s: shim %d still running", p->ctr->id, p->name,
		    (int)p->shim_pid);
		return;
	}
	if (process_read_exit_file(p->dir, &status, &at) == 0) {
		process_exited(p, status, at, NULL);
		return;
	}
	if (p->system_pid > 0 && kill(p->system_pid, 0) == 0 && shimctl_watch_orphan(p) == 0) {
		log_warnx("container %s process %s: its shim is gone but the process runs;"
			  " its exit status will be unknown", p->ctr->id, p->name);
		return;
	}
	process_exited(p, 255, now_ns(),
	    "neither its shim nor an exit record is left: the status is unknown");
}

int
reconcile(struct err *e)
{
	struct container *c, *next;
	int n = 0;

	if (store_containers_foreach(D.store, true, load_container, NULL, e) < 0)
		return -1;
	for (c = D.containers; c != NULL; c = c->next) {
		if (store_labels_foreach(D.store, c->id, load_label, c, e) < 0 ||
		    store_processes_foreach(D.store, c->id, load_process, c, e) < 0)
			return -1;
	}
	for (c = D.containers; c != NULL; c = next) {
		next = c->next;
		n++;
		if (c->status == CONTAINER_CREATING) {
			undo_creating(c);
			continue;
		}
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
	if (n > 0)
		log_info("reconciled %d container(s) from the database", n);
	return 0;
}
