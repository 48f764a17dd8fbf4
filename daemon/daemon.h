/*
 * The daemon's shared types: configuration, the in-memory model of live
 * containers and processes (the database is the durable copy; this is what
 * State answers from), and the entry points of each module.
 */
#ifndef DAEMON_DAEMON_H
#define DAEMON_DAEMON_H

#include <ev.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "api.pb-c.h"
#include "err.h"
#include "reap.h"
#include "store.h"
#include "validate.h"

#include "version.h"

#define DAEMON_VERSION_MAJOR CONTAINERD_VERSION_MAJOR
#define DAEMON_VERSION_MINOR CONTAINERD_VERSION_MINOR
#define DAEMON_VERSION_PATCH CONTAINERD_VERSION_PATCH
#define DAEMON_REVISION CONTAINERD_REVISION

/* The 2017 daemon's error texts, which its clients match inside messages
 * (dockerd treats "container not found" and "process not found" as
 * "already gone"): each such error starts with one, then says more. */
#define MSG_CONTAINER_NOT_FOUND "containerd: container not found"
#define MSG_PROCESS_NOT_FOUND "containerd: process not found for container"
#define MSG_CONTAINER_EXISTS "containerd: container already exists"

struct config {
	const char *state_dir;
	const char *listen;		/* socket path */
	const char *runtime;		/* default runtime */
	char **runtime_args;		/* default global runtime flags */
	int n_runtime_args;
	const char *shim;		/* path of containerd-shim */
	int concurrency;		/* runtime calls in flight */
	int64_t start_timeout_ns;
	int64_t runtime_timeout_ns;	/* a runtime call's deadline; 0: none */
	int64_t metrics_interval_ns;
	const char *graphite_address;	/* host:port, NULL: none */
	const char *metrics_address;	/* Prometheus: loopback host:port or a path; NULL: none */
	int64_t retain_count;		/* events kept; 0: all */
	int64_t retain_age_ns;		/* stopped containers' history kept; 0: forever */
	const char *id;			/* --id, else the hostname (as in 2015) */
	bool id_given;			/* --id: in every log line and metric name */
	int64_t log_max_size;		/* a process log's bytes before it rotates; 0: no cap */
	gid_t group;			/* also allowed on the socket; (gid_t)-1: none */
};

enum container_status {
	CONTAINER_CREATING,
	CONTAINER_RUNNING,
	CONTAINER_PAUSED,
	CONTAINER_STOPPED,
};

enum process_state {
	PROCESS_CREATING,
	PROCESS_RUNNING,
	PROCESS_EXITED,
};

struct container;

struct process_timers {
	ev_timer kill_w, start_w;
};

struct process {
	struct container *ctr;
	struct process *next;
	char *name;			/* "init" or the exec's pid name */
	char *dir;			/* <state>/<id>/<name> */
	enum process_state state;
	pid_t system_pid;
	pid_t shim_pid;
	int64_t shim_start_time;
	/* system_pid's own /proc starttime, read when the shim reported it;
	 * 0: unknown (see shimctl_pid_is). */
	int64_t start_time;
	int64_t started_at;
	/* What State reports: the part many processes share (a counted
	 * reference, procinfo_get) and this one's stdio paths (owned, NULL
	 * for /dev/null; procinfo_stdio). */
	const Types__Process *info;
	char *stdio;
	/* The shim's sync pipe: "created PID", "error MSG", "oom". */
	int sync_fd;
	ev_io sync_w;
	/* A line the pipe delivered only part of, until its end arrives
	 * (owned; NULL nearly always: the shim writes a line at once). */
	char *sync_part;
	size_t sync_len;
	/* Shim exit: reap.c for our own child, a pidfd for an adopted one. */
	struct reap child_w;
	int pidfd;
	ev_io pidfd_w;
	/* With no shim left (adopted, shim gone): the process itself by pidfd. */
	bool orphan;
	/* Its shim died while it ran: it is killed, as the 2017 daemon did
	 * (it lost its stdio and its supervisor). timers->kill_w sends the
	 * kill a moment later, never if the daemon stops meanwhile; kill_sent:
	 * it went out, so an exit whose status cannot be read is that kill's;
	 * shim_lost_note: why, for the exit's note (a static string).
	 * timers->start_w: an exec found being started after a restart polls
	 * for the pid file its runtime writes once the process runs (the sync
	 * pipe is gone). Both are rare: timers is allocated on first use (NULL
	 * nearly always; 112 bytes less per process at 10,000). */
	struct process_timers *timers;
	bool kill_sent;
	const char *shim_lost_note;
	uint64_t op_id;			/* the operation waiting on this process, 0: none */
	/* init only: its exit waits until the execs' exits are recorded. */
	/* The exit the shim reported on its sync pipe ("exited STATUS NS"),
	 * for when its exit file could not be written (a full disk). */
	bool exit_reported;
	int reported_status;
	int64_t reported_at;
	bool exit_pending;
	int pending_status;
	int64_t pending_at;
};

struct container {
	struct container *next, *prev;
	struct container *id_next;	/* in container_find's table */
	char *id;
	char *bundle;
	/* The runtime and its global flags for every runtime call: the
	 * daemon's own (D.cfg's, not copied) when the same; container_set_runtime. */
	char *runtime;
	char **runtime_args;
	int n_runtime_args;
	char **labels;
	int n_labels;
	enum container_status status;
	int64_t created_at;
	struct process *procs;
	bool deleting;			/* init exited; `runtime delete` under way */
	int64_t delete_started;		/* mono ns, for container-delete-time */
	uint64_t exit_commit;		/* the commit holding the init's exit */
	/* While deleting: the init's exit, recorded once the delete is done
	 * (exit_note owned, NULL for none). */
	int exit_status;
	int64_t exited_at;
	char *exit_note;
	uint64_t op_id;			/* a create under way */
};

struct daemon {
	struct config cfg;
	struct ev_loop *loop;
	struct store *store;
	struct container *containers;	/* in creation order */
	struct container *containers_tail;
	int n_containers;
	/* Where this loop iteration's time went (main.c logs slow ones). */
	int64_t iter_spawn_ns;
	int iter_spawns;
};

extern struct daemon D;

/* container.c: the model. */
struct container *container_find(const char *id);
struct container *container_new(const char *id);
void container_free(struct container *c);	/* unlinks too */
/* Sets c's runtime (NULL or "": the daemon's) and its global flags: the
 * daemon's own are shared, not copied (10,000 copies of "runc" and
 * "--root=..." are about 1.3 MB). -1 when out of memory. */
int container_set_runtime(struct container *c, const char *runtime, char **args, int n);
struct process *process_find(struct container *c, const char *name);
struct process *process_new(struct container *c, const char *name);
void process_free(struct process *p);		/* unlinks, stops watchers */
/* p's rare timers, allocated on first use; NULL when out of memory. */
struct process_timers *process_timers(struct process *p);
const char *container_status_name(enum container_status s);
/* A process ended with status at exited_at (ns): record and announce it.
 * For init, the container is deleted in the runtime first; its exit is
 * recorded (and so announced) in the iteration the delete ends, the one
 * that also frees the id: a client that saw the exit can create the id at
 * once. why: a note for the log when the status is not the process's own
 * (e.g. 255 unknown). */
void process_exited(struct process *p, int status, int64_t exited_at, const char *why);
/* Fills a Types__Container (pointers into c, valid while c lives); procs,
 * store and pids have room for each of c's processes. */
void container_to_pb(struct container *c, Types__Container *out, Types__Process **procs,
    Types__Process *store, uint32_t *pids);
/* Sets p's State info from an OCI process object and its stdio paths; on
 * failure (out of memory) p has none and State leaves it out. */
void process_set_info(struct process *p, json_t *process, const char *in, const char *out,
    const char *err);
/* Records an event in the current transaction, for the bus to push. */
int event_record(const char *type, const char *id, const char *pid, uint32_t status,
    int64_t ts, struct err *e);
/* With a note for the history (events.note), e.g. why a status is unknown. */
int event_record_note(const char *type, const char *id, const char *pid, uint32_t status,
    int64_t ts, const char *note, struct err *e);
/* Reads <dir>/exit: 0 and the status/time, -1 when absent or unreadable. */
int process_read_exit_file(const char *dir, int *status, int64_t *exited_at);
/* A wait(2) status as this daemon reports it: the exit code, or
 * 128 + the signal. */
int exit_status_of(int wstatus);
/* /proc/<pid>/stat starttime, 0 if gone. */
int64_t proc_start_time(pid_t pid);
/* rm -r of the container's directory, if the daemon made it (its marker is
 * there); else it is left and logged (layout.c). */
void container_remove_dir(const char *id);

/* layout.c: the state dir's layout (see there). */
/* Locks the state dir for this daemon's lifetime; -1 with e (naming the
 * holder's pid) when another daemon holds it. Before anything else. */
int layout_lock(struct err *e);
/* Makes the containers' area. */
int layout_init(struct err *e);
void layout_area_path(char *buf, size_t n);
/* <state>/_containers/<id> */
void layout_container_path(const char *id, char *buf, size_t n);
/* Makes the container's directory and its marker; a directory already
 * there is an error (FAILED_PRECONDITION): it is not this create's. */
int layout_container_mkdir(const char *id, struct err *e);
/* The directory is there with the daemon's marker. */
bool layout_container_is_ours(const char *id);
/* An entry of the area named as a directory being made or removed: a
 * create or removal the daemon died in. Removed if marked or empty (else
 * logged); true if name is such an entry. At start only. */
bool layout_sweep_tmp(const char *name);
/* Moves the old layout's <state>/<id> of every container row into the area. */
int layout_migrate(struct err *e);
/* Logs each entry of the state dir that is not the daemon's (left alone). */
void layout_log_foreign(void);
/* rpc_logs.c: Records/Logs, a process's log records (streamed). */
struct Containerd__Records__V1__LogsRequest;
void logs_start(uint64_t call_id, const struct Containerd__Records__V1__LogsRequest *req);
void logs_call_closed(uint64_t call_id);
void logs_call_drained(uint64_t call_id);
/* The state dir's folder of process logs (layout.c, logs_forget.c). */
#define LAYOUT_LOGS "_logs"
/* The record of the metrics socket the daemon made (layout.c, prom.c). */
#define LAYOUT_METRICS_RECORD "_metrics_socket"
/* <state>/_logs/ID/PID.log: a process's log (its shim writes it), and
 * making its directories (0700); -1 with e. */
void layout_log_path(const char *id, const char *pid, char *buf, size_t n);
int layout_log_mkdir(const char *id, struct err *e);
/* Removes one process's log (a create or exec undone: nothing records it),
 * and ID's log dir if that leaves it empty. */
void layout_log_remove(const char *id, const char *pid);
/* A shim's --dir under the state dir, as it reads after layout_migrate. */
void layout_translate_old_dir(const char *dir, char *out, size_t n);
/* How many container directories the daemon made are in the area. */
int layout_count_marked(void);

/* server.c: socket, connections, replies after commit. */
int server_listen(const char *path, struct err *e);
/* Serves on fd, a listening unix socket systemd passed (never unlinked). */
int server_adopt(int fd, struct err *e);

/* activation.c: sockets passed by systemd. spec: what follows --listen's
 * fd:// (NULL when --listen names path instead). Returns the listening fd
 * to serve (its description in name), -2 when path is to be bound as usual,
 * -1 with *e when the passed sockets do not fit. Unsets LISTEN_* always
 * and closes the passed fds it does not return. */
int activation_listener(const char *spec, const char *path, char *name, size_t namelen,
    struct err *e);
void server_close(void);
/* Queue a reply for the call; sent after this iteration's commit. msg
 * NULL with e: an error reply. */
void server_reply(uint64_t call_id, const ProtobufCMessage *msg);
/* reply_utf8.c: strings of msg that are not UTF-8 (stored by an earlier
 * release) swapped for escaped copies until reply_utf8_undo(handle). */
void *reply_utf8_fix(const ProtobufCMessage *msg);
void reply_utf8_undo(void *handle);
/* A malloc'd copy of s with its non-UTF-8 bytes as \xNN text; NULL if out of memory. */
char *reply_utf8_text(const char *s);
void server_reply_error(uint64_t call_id, const struct err *e);
/* While on, queued replies changed nothing and go out at once, not after
 * the sync of this iteration's commit (rpc_dispatch: read-only methods). */
void server_replies_readonly(bool on);
/* Before the loop sleeps: commit, send replies, push events, flush. */
void server_before_sleep(void);
/* Commits synced off the loop when the kernel can (store_sync_async). */
void server_sync_start(void);
/* Flush every connection's pending output now. */
void server_flush(void);
int server_connection_count(void);

/* rpc.c: one request arrived. */
void rpc_dispatch(uint64_t call_id, const char *path, const uint8_t *msg, size_t len);
/* rpc_events.c: the event bus. */
void events_subscribe(uint64_t call_id, const Types__EventsRequest *req);
void events_call_closed(uint64_t call_id);
void events_call_drained(uint64_t call_id);
void events_push(void);		/* after a commit */
int events_subscriber_count(void);
/* The lowest seq every subscriber has been sent up to (INT64_MAX: none). */
int64_t events_min_cursor(void);

/* runtime.c: runtime invocations, at most cfg.concurrency in flight. */
typedef void (*runtime_done_cb)(void *arg, int status, const char *out, const char *errmsg);
/* Runs `<runtime> <global args> <verb> <args...>` for container c (which
 * gives the runtime and its global flags; NULL: the defaults). The callback
 * gets the exit status (-1: could not run), stdout, and the runtime's own
 * error message (from stderr / its JSON log). */
int runtime_run(const struct container *c, const char *const *args, runtime_done_cb cb,
    void *arg);
/* The same with a deadline of timeout_ns from its start (0: none):
 * past it the call is killed and cb gets RUNTIME_TIMED_OUT. Returns the
 * job's id, 0 when it cannot run (out of memory). */
#define RUNTIME_TIMED_OUT (-2)
uint64_t runtime_run_within(const struct container *c, const char *const *args,
    int64_t timeout_ns, runtime_done_cb cb, void *arg);
/* A verb's deadline: --runtime-timeout (checkpoint and restore 10 times
 * it; start no more than --start-timeout). */
int64_t runtime_timeout_for(const char *verb);
/* Kills a job (or drops it from the queue): its callback never runs. */
void runtime_cancel(uint64_t job_id);
/* The gRPC code for a failed call's status: DEADLINE_EXCEEDED past the
 * deadline, else UNKNOWN (the runtime's own failure). */
#define runtime_error_code(status) \
	((status) == RUNTIME_TIMED_OUT ? GRPC_DEADLINE_EXCEEDED : GRPC_UNKNOWN)
void runtime_jobs_init(void);
/* Runtime calls running or queued now. */
int runtime_jobs_pending(void);

/* spawn.c: fork + exec, not waiting for the child to run (see there). */
#define SPAWN_MAX_FDS 4
struct spawn_req {
	const char *path;		/* no '/': searched in PATH */
	char *const *argv;
	int fds[SPAWN_MAX_FDS];		/* the child's fd i: this fd, or -1: /dev/null */
	int nfds;
	bool default_signals;		/* every signal to its default, none blocked */
	int report_fd;			/* the child's fd for an exec failure, -1: none */
	bool new_pgroup;		/* its own process group, killed as one */
	const char *report_prefix;	/* put before that message */
};
/* 0 and *pid, or an errno when fork failed. A failed exec is written by
 * the child to report_fd ("<prefix>cannot run PATH: REASON") and it
 * exits 127. */
int spawn_start(const struct spawn_req *r, pid_t *pid);
/* Reserves the low descriptors spawn_start uses; once, before the daemon
 * opens anything per container. Without it the table is copied whole. */
void spawn_init(void);
/* The RLIMIT_NOFILE every child gets (the daemon's own is raised). */
struct rlimit;
void spawn_child_nofile(const struct rlimit *rl);

/* errtext.c: a failure's own words from logs the undo removes (any thread).
 * errtext_log_tail: the last lines of path (those holding want, or any),
 * writers' prefixes cut, joined with " | "; 0, or -1 if none.
 * errtext_criu_log: msg with its "log file: PATH" (PATH inside removed_dir)
 * swapped for that log's last errors; 0, or -1 (out untouched) if none. */
int errtext_log_tail(const char *path, const char *want, char *out, size_t n);
int errtext_criu_log(const char *msg, const char *removed_dir, char *out, size_t n);

/* preflight.c: the checks at start (root, --runtime, --shim's handshake),
 * each a warning, never fatal; the `--version` runs finish on the loop. */
void preflight_start(void);
void preflight_stop(void);	/* kills a check still running */

/* shimctl.c: spawning and watching shims. */
struct shim_spec {
	const char *stdin_path, *stdout_path, *stderr_path;
	bool terminal;
	const char *exec_process_json;	/* path, for an exec */
	const char *checkpoint_dir;	/* restore */
	bool no_pivot;
};
/* Spawns the shim for p; its "created"/"error" line ends in op_shim_reported(). */
int shimctl_spawn(struct process *p, const struct shim_spec *spec, struct err *e);
/* Makes the daemon a child subreaper and watches children no one else waits for. */
void shimctl_init(void);
/* Watches an existing shim (after a restart). -1 if it cannot be watched. */
int shimctl_adopt(struct process *p);
/* p's shim is gone while its process runs: watches the process (by a
 * pidfd checked by start time) and kills it a moment later, the init
 * through the runtime (`kill ID KILL`), an exec through the pidfd; the
 * exit is recorded 137 with note. -1 if the pid is not p's process any
 * more (nothing is signalled). */
int shimctl_kill_orphan(struct process *p, const char *note);
/* Notes of those exits. */
#define SHIM_LOST_DOWN_NOTE \
	"its shim died while the daemon was down: the process was killed with it, having" \
	" lost its stdio and its supervisor"
void shimctl_stop_watching(struct process *p);
/* Whether p's process still holds its system_pid: the pid's start time is
 * the one recorded (or, unknown, it started before p's start was
 * recorded). A pid that fails this was reused: p's process has exited. */
bool shimctl_pid_is(const struct process *p);
/* A pidfd for p's process once it is checked by shimctl_pid_is (so a
 * signal through it cannot reach a stranger), or -1 with errno (ESRCH:
 * not p's any more). */
int shimctl_pidfd(const struct process *p);
/* After a restart, an exec whose shim still runs its runtime (the daemon
 * died before the "created" line): watches the shim and its pid file; the
 * exec is recorded started once the pid file is there, or forgotten (no
 * row, no event) if the shim ends without one. -1 if the shim is not the
 * recorded one. */
int shimctl_adopt_starting(struct process *p);
/* An exec never acknowledged was found started (pid): recorded running,
 * with its start-process event, so it is listed and its exit has a start.
 * start_time: its /proc start time, 0 when it is gone. */
void shimctl_found_started(struct process *p, pid_t pid, int64_t start_time);
/* The pid the runtime wrote in <dir>/pid, 0 if none. */
pid_t shimctl_read_pid_file(const char *dir);
/* process_free calls it: p is going away, a sync reader must let go of it. */
void shimctl_process_freed(struct process *p);

/* op_create.c, op_exec.c: the shim of p reported "created" (pid > 0) or an
 * error message; or it went away before reporting. */
void op_create_start(uint64_t call_id, const Types__CreateContainerRequest *req);
void op_create_shim_reported(struct process *p, pid_t pid, const char *errmsg);
void op_create_shim_died(struct process *p);
void op_exec_start(uint64_t call_id, const Types__AddProcessRequest *req);
void op_exec_shim_reported(struct process *p, pid_t pid, const char *errmsg);
void op_exec_shim_died(struct process *p);
/* An exec that never started: its row and files go, no event; p is freed
 * (and a pending init exit that waited for it is recorded). */
void op_exec_forget(struct process *p, const char *why);

/* rpc_update.c */
void rpc_update_container(uint64_t call_id, const Types__UpdateContainerRequest *req);
void rpc_update_process(uint64_t call_id, const Types__UpdateProcessRequest *req);
/* At start: asks the runtime whether c is paused (in turn with pause and
 * resume requests) and records its answer where the table differs. */
void rpc_update_probe_pause(struct container *c);
/* c's init was sent SIGKILL: thaw c if it is (or is being) paused, so that
 * the signal takes effect (queued behind its pause/resume under way). */
void rpc_update_thaw_killed(struct container *c);
/* rpc_checkpoint.c */
/* Where checkpoint name (NULL: the folder of them) of a container lives:
 * DIR/NAME given a checkpoint dir, else <bundle>/checkpoints/NAME (2017). */
void checkpoint_path(char *buf, size_t n, const char *dir, const char *bundle, const char *name);
/* The container must be known, running or not (a checkpoint with exit
 * leaves it stopped): its checkpoint dir (dir, or <bundle>/checkpoints)
 * in buf, 1; 0 after an error reply (bad id or dir, unknown container). */
int checkpoint_known_dir(uint64_t call_id, const char *id, const char *dir, char *buf, size_t n);
/* A filesystem errno as a gRPC code (ENOSPC: RESOURCE_EXHAUSTED, ...). */
int checkpoint_errno_code(int err);
void rpc_create_checkpoint(uint64_t call_id, const Types__CreateCheckpointRequest *req);
void rpc_list_checkpoint(uint64_t call_id, const Types__ListCheckpointRequest *req);
void rpc_delete_checkpoint(uint64_t call_id, const Types__DeleteCheckpointRequest *req);
/* The live process a request names, or NULL after an error reply. */
struct process *rpc_lookup_process(uint64_t call_id, const char *id, const char *pid);

/* rpc_records.c: containerd.records.v1.Records' ListContainers,
 * RemoveContainer and Prune (req: their request messages). */
void rpc_records_list(uint64_t call_id, const void *req);
void rpc_records_remove(uint64_t call_id, const void *req);
void rpc_records_prune(uint64_t call_id, const void *req);
/* logs_forget.c: removes <state-dir>/_logs/<id>/ (its regular files, then
 * the directory), never following a symlink nor touching anything else;
 * 0, or -1 when something was left (logged). */
int logs_forget(const char *id);

/* metrics.c: timers, counters, gauges, printed every --metrics-interval and
 * sent to --graphite-address; served to Prometheus with --metrics-address
 * (prom.h). Observing costs a sample and a histogram update, nothing when
 * metrics are off. */
enum metric_timer {
	METRIC_CONTAINER_START,		/* CreateContainer: request to reply */
	METRIC_CONTAINER_CREATE,	/* the runtime's create: shim spawned to "created" */
	METRIC_CONTAINER_DELETE,	/* init exit recorded to runtime delete done */
	METRIC_EXEC_PROCESS,		/* AddProcess: request to reply */
	METRIC_EXIT_PROCESS,		/* an exit: noticed to recorded */
	METRIC_TIMERS,
};
/* Before the loop runs; -1 with e for a bad --graphite-address. */
int metrics_start(struct err *e);
void metrics_stop(void);
void metrics_observe(enum metric_timer t, int64_t ns);
/* type: the event's (containerd_events_total counts by it). */
void metrics_event_recorded(const char *type);

/* retention.c */
void retention_start(void);
/* An exec's exit was recorded: its directory goes once that is durable. */
void retention_exec_exited(const char *dir);
/* A stopped container (its init's exit written, the runtime's delete
 * ended) leaves the model once exit_commit (store_commit_target() when the
 * exit was written) is durable, and then its directory (with the init's
 * exit file) goes too if remove_dir. */
void retention_container_stopped(const char *id, uint64_t exit_commit, bool remove_dir);
/* A forgotten container's logs go once the commit that removes its rows
 * (the current one) is durable, unless the id is made anew by then. */
void retention_logs_forget(const char *id);
/* What waits for a commit that is durable now is done: before the event
 * bus pushes (server_before_sleep). */
void retention_durable(void);

/* bundle.c: a bundle's config.json, read so that no path can make the read
 * block or balloon: only a regular file of at most BUNDLE_CONFIG_MAX bytes, opened
 * non-blocking. 0 and *out (a JSON object, the caller's), or -1 with e
 * (INVALID_ARGUMENT naming the path and why). */
#define BUNDLE_CONFIG_MAX (1024 * 1024)
int bundle_config_load(const char *bundle, json_t **out, struct err *e);

/* offload.c: file work on a client's paths in a short-lived thread, so a
 * filesystem that does not answer cannot stop the loop. The caller embeds
 * a struct offload first in its job and sets the four fields. */
struct offload {
	/* In the thread: the work; fills err (left GRPC_OK: success) and the
	 * job's own results. Touches nothing of the loop's. */
	void (*work)(struct offload *o);
	/* On the loop, once: the result, or DEADLINE_EXCEEDED past timeout.
	 * A done called with the result (not a timeout) may start o again
	 * for a next step, with new work/done. */
	void (*done)(struct offload *o, const struct err *e);
	/* On the loop, once the thread is finished too: free the job. */
	void (*release)(struct offload *o);
	const char *what;		/* for messages: "bundle /x" (the job's) */
	double timeout;			/* seconds; 0: none */
	/* Private. */
	struct err err;
	bool answered;
	bool queued;			/* waiting for a free slot, no thread yet */
	unsigned gen;			/* which start this is */
	ev_timer timeout_w;
	struct offload *next_queued;
};
/* 0: done and release will be called. -1 with e: nothing started. */
int offload_start(struct offload *o, struct err *e);

/* bundle_read.c: a create's reads of the client's files (the bundle dir,
 * config.json, the checkpoint image) offloaded; answered within
 * --start-timeout. */
struct bundle_read {
	struct offload job;		/* first: the job is the read */
	char *bundle;			/* in: owned */
	char *checkpoint_dir;		/* in: checked readable; NULL: none; owned */
	/* On the loop, once: e->code GRPC_OK and config (r's: incref to keep
	 * it), or the error (a timeout after --start-timeout too). r is freed
	 * after it returns, or later: keep nothing of it. */
	void (*done)(struct bundle_read *r, const struct err *e, json_t *config);
	uint64_t call_id;		/* for done */
	void *arg;			/* for done */
	uint8_t *req;			/* for done: the packed request, owned */
	size_t req_len;
	int64_t started;		/* for done */
	/* Private. */
	char *what;
	json_t *config;
};
struct bundle_read *bundle_read_new(const char *bundle, const char *checkpoint_dir);
/* 0: done will be called. -1 with e: not started; bundle_read_discard(r). */
int bundle_read_start(struct bundle_read *r, struct err *e);
void bundle_read_discard(struct bundle_read *r);

/* cgroups.c: rmdir the container's empty cgroups in every hierarchy, where
 * runc's cgroupfs driver puts them for cg_path (config.json's
 * linux.cgroupsPath; "" or NULL: none). Non-empty ones are left, logged. */
void cgroups_remove_empty(const char *id, const char *cg_path);

/* reconcile.c: after a restart. */
int reconcile(struct err *e);

/* usage.c: the flags as --help, as containerd(8) in roff (--man) and as a
 * bash completion script (--bash-completion), from one table. */
void daemon_usage(FILE *f);
void daemon_man(FILE *f);
void daemon_bash_completion(FILE *f);

#endif
