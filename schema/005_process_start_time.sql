-- 005: processes.start_time is the process's own start time, the starttime
-- field of /proc/<system_pid>/stat (clock ticks since boot), read when its
-- shim reports the pid. Every pid the daemon keeps is checked against it
-- before it is adopted or signalled: a pid whose start time differs was
-- reused by another process, and the recorded one has exited. 0: not known
-- (a row from before 005, or a process gone before it could be read); then
-- the daemon accepts the pid only if it started before the row's started_at.

ALTER TABLE processes ADD COLUMN start_time INTEGER NOT NULL DEFAULT 0;
