-- 006: the views show times in the one format every program of this project
-- prints: RFC 3339 in UTC with nine fraction digits, fixed width
-- (2026-12-02T16:02:30.123456789Z), so a time read with sqlite3 is the same
-- text ctr, containerd-state and the logs show, and text order is time order.
-- Before, event_history had milliseconds and a space, the other views whole
-- seconds. The tables keep integer nanoseconds.

DROP VIEW running_containers;
CREATE VIEW running_containers AS
	SELECT c.id, c.bundle, c.status,
	       p.system_pid AS init_pid,
	       strftime('%Y-%m-%dT%H:%M:%S', c.created_at / 1000000000, 'unixepoch') ||
	           printf('.%09dZ', c.created_at % 1000000000) AS created
	FROM containers c LEFT JOIN processes p ON p.container_id = c.id AND p.pid = 'init'
	WHERE c.status IN ('running', 'paused');

DROP VIEW event_history;
CREATE VIEW event_history AS
	SELECT seq,
	       strftime('%Y-%m-%dT%H:%M:%S', ts / 1000000000, 'unixepoch') ||
	           printf('.%09dZ', ts % 1000000000) AS time,
	       type, container_id, pid, status, note,
	       strftime('%Y-%m-%dT%H:%M:%S', occurred_at / 1000000000, 'unixepoch') ||
	           printf('.%09dZ', occurred_at % 1000000000) AS occurred
	FROM events ORDER BY seq;

DROP VIEW process_exits;
CREATE VIEW process_exits AS
	SELECT container_id, pid, exit_status,
	       strftime('%Y-%m-%dT%H:%M:%S', exited_at / 1000000000, 'unixepoch') ||
	           printf('.%09dZ', exited_at % 1000000000) AS exited
	FROM processes WHERE status = 'exited';
