-- 002: events.seq is never handed out twice, even after retention pruned
-- the newest rows (a plain INTEGER PRIMARY KEY reuses max(seq) + 1, and a
-- subscriber's cursor would then skip the new events). SQLite cannot alter
-- a key: the table is rebuilt with its rows, indexes and view.

CREATE TABLE events_new (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	ts           INTEGER NOT NULL,
	type         TEXT NOT NULL,
	container_id TEXT NOT NULL DEFAULT '',
	pid          TEXT NOT NULL DEFAULT '',
	status       INTEGER NOT NULL DEFAULT 0
);
INSERT INTO events_new (seq, ts, type, container_id, pid, status)
	SELECT seq, ts, type, container_id, pid, status FROM events ORDER BY seq;
DROP VIEW event_history;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_ts ON events(ts);
CREATE INDEX events_container ON events(container_id, seq);

CREATE VIEW event_history AS
	SELECT seq,
	       strftime('%Y-%m-%d %H:%M:%f', ts / 1000000000.0, 'unixepoch') AS time,
	       type, container_id, pid, status
	FROM events ORDER BY seq;
