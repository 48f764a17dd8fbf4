-- 003: events.note says why an event's facts are what they are where that
-- is not plain: an exit status of 255 says why the status is unknown. Empty
-- for most events; not part of the API's Event message, which has no such
-- field, but in the history for people and containerd-state.

ALTER TABLE events ADD COLUMN note TEXT NOT NULL DEFAULT '';

DROP VIEW event_history;
CREATE VIEW event_history AS
	SELECT seq,
	       strftime('%Y-%m-%d %H:%M:%f', ts / 1000000000.0, 'unixepoch') AS time,
	       type, container_id, pid, status, note
	FROM events ORDER BY seq;
