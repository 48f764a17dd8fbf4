-- 004: an event's ts is the time it was recorded, strictly increasing in
-- seq order, so that "every event after T" (the Events API's only resume
-- point) is exact. What the fact's own source says of its time (for an
-- exit, the shim's time of the exit) is kept as occurred_at.
--
-- Existing rows: occurred_at takes the old ts, and ts is made strictly
-- increasing with the least change: ts(i) = max over j <= i of
-- (ts(j) - seq(j)), plus seq(i), which is >= the old ts and grows by at
-- least 1 ns from one seq to the next.

ALTER TABLE events ADD COLUMN occurred_at INTEGER NOT NULL DEFAULT 0;
UPDATE events SET occurred_at = ts;
UPDATE events SET ts = m.nts
	FROM (SELECT seq AS s,
	             max(ts - seq) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) + seq AS nts
	      FROM events) AS m
	WHERE events.seq = m.s AND events.ts != m.nts;

DROP VIEW event_history;
CREATE VIEW event_history AS
	SELECT seq,
	       strftime('%Y-%m-%d %H:%M:%f', ts / 1000000000.0, 'unixepoch') AS time,
	       type, container_id, pid, status, note,
	       strftime('%Y-%m-%d %H:%M:%f', occurred_at / 1000000000.0, 'unixepoch') AS occurred
	FROM events ORDER BY seq;
