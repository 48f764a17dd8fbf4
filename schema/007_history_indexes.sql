-- 007: indexes for a long history (issue 13: 1,000,000 events, 10,000
-- containers; figures in BENCHMARKS.md, "The event history at scale").
--
-- events_type: the events of one type, in seq order (the rowid ends every
-- index entry): `containerd-state events --type`, retention's search for
-- pause/resume pairs, and the README's queries of one type (starts per
-- container, ooms), which scanned the whole table (8 s and 1.2 s at 1M
-- events; 0.3 s and 0.1 s with it). About 17 bytes an event.
--
-- processes_exits: the columns people ask about exits and running
-- processes by (the README's process queries), in (container_id, pid)
-- order, so those read this index instead of the table, whose rows carry
-- args, env and the spec (~2 KB each): 3.6 s to 0.4 s with 378,000
-- process rows. About 165 bytes a process row with 64-hex ids.
--
-- IF NOT EXISTS: a file that already has them (made by hand) migrates too.

CREATE INDEX IF NOT EXISTS events_type ON events(type);
CREATE INDEX IF NOT EXISTS processes_exits ON processes(container_id, pid, status, exit_status,
	system_pid, started_at, exited_at);
