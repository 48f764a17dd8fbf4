-- 001: containers, labels, processes, checkpoints, events, and views for people.
-- Times are integers: nanoseconds since the epoch (UTC).

CREATE TABLE containers (
	id             TEXT PRIMARY KEY NOT NULL,
	bundle         TEXT NOT NULL,
	runtime        TEXT NOT NULL,
	runtime_args   TEXT NOT NULL DEFAULT '[]',   -- JSON array
	status         TEXT NOT NULL CHECK (status IN
	                 ('creating', 'running', 'paused', 'stopped', 'deleted', 'failed')),
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	stdin          TEXT NOT NULL DEFAULT '',
	stdout         TEXT NOT NULL DEFAULT '',
	stderr         TEXT NOT NULL DEFAULT '',
	no_pivot_root  INTEGER NOT NULL DEFAULT 0,
	checkpoint     TEXT NOT NULL DEFAULT '',     -- restored from, if any
	checkpoint_dir TEXT NOT NULL DEFAULT ''
);
CREATE INDEX containers_status ON containers(status);

CREATE TABLE labels (
	container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
	label        TEXT NOT NULL,
	PRIMARY KEY (container_id, label)
);

CREATE TABLE processes (
	container_id    TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
	pid             TEXT NOT NULL,              -- the API's name: 'init' or the exec's name
	system_pid      INTEGER NOT NULL DEFAULT 0,
	shim_pid        INTEGER NOT NULL DEFAULT 0,
	shim_start_time INTEGER NOT NULL DEFAULT 0, -- /proc/<pid>/stat starttime, to detect pid reuse
	args            TEXT NOT NULL DEFAULT '[]', -- JSON array
	env             TEXT NOT NULL DEFAULT '[]', -- JSON array
	cwd             TEXT NOT NULL DEFAULT '',
	uid             INTEGER NOT NULL DEFAULT 0,
	gid             INTEGER NOT NULL DEFAULT 0,
	terminal        INTEGER NOT NULL DEFAULT 0,
	stdin           TEXT NOT NULL DEFAULT '',
	stdout          TEXT NOT NULL DEFAULT '',
	stderr          TEXT NOT NULL DEFAULT '',
	spec            TEXT NOT NULL DEFAULT '{}', -- the rest of the process, JSON
	status          TEXT NOT NULL CHECK (status IN ('creating', 'running', 'exited')),
	exit_status     INTEGER,                    -- NULL until exited
	started_at      INTEGER,
	exited_at       INTEGER,
	PRIMARY KEY (container_id, pid)
);

-- No foreign key: a checkpoint is files on disk that outlive the container's
-- rows (a container checkpointed with exit, then restored under the same id).
CREATE TABLE checkpoints (
	container_id TEXT NOT NULL,
	name         TEXT NOT NULL,
	path         TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	exit         INTEGER NOT NULL DEFAULT 0,
	tcp          INTEGER NOT NULL DEFAULT 0,
	unix_sockets INTEGER NOT NULL DEFAULT 0,
	shell        INTEGER NOT NULL DEFAULT 0,
	empty_ns     TEXT NOT NULL DEFAULT '[]',
	PRIMARY KEY (container_id, name)
);

-- The log. No foreign key: the history outlives the rows it speaks of.
CREATE TABLE events (
	seq          INTEGER PRIMARY KEY,            -- strictly increasing (002: never reused)
	ts           INTEGER NOT NULL,               -- ns since the epoch
	type         TEXT NOT NULL,
	container_id TEXT NOT NULL DEFAULT '',
	pid          TEXT NOT NULL DEFAULT '',
	status       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX events_ts ON events(ts);
CREATE INDEX events_container ON events(container_id, seq);

CREATE VIEW running_containers AS
	SELECT c.id, c.bundle, c.status,
	       p.system_pid AS init_pid,
	       datetime(c.created_at / 1000000000, 'unixepoch') AS created
	FROM containers c LEFT JOIN processes p ON p.container_id = c.id AND p.pid = 'init'
	WHERE c.status IN ('running', 'paused');

CREATE VIEW event_history AS
	SELECT seq,
	       strftime('%Y-%m-%d %H:%M:%f', ts / 1000000000.0, 'unixepoch') AS time,
	       type, container_id, pid, status
	FROM events ORDER BY seq;

CREATE VIEW process_exits AS
	SELECT container_id, pid, exit_status,
	       datetime(exited_at / 1000000000, 'unixepoch') AS exited
	FROM processes WHERE status = 'exited';
