-- Migration 14: the gates' logs written faster by scan intake (see the SQLite text beside this
-- file for the index).
--
-- 1. A ticket's admissions are found by serial first: `admissions_by_ticket` becomes
--    (serial, event_id), as on SQLite.
--
-- 2. `scans` and `admissions` no longer have PostgreSQL check their references row by row. Each
--    reference was checked by a trigger running one query per inserted row: three per admitted
--    scan (scans.device_id, admissions.scan_id, admissions.device_id), 44 % of the server's time
--    in scan intake (perf; BENCHMARKS.md, "Scan intake: the plan and the reference checks"). The
--    values cannot dangle: `gates::intake` is their only writer, and writes the device it has
--    just authenticated and the scan ids its own insert returned, in one transaction; devices,
--    scans and admissions are never deleted (revoking a device keeps its row). SQLite keeps the
--    constraints: it checks a reference in-process with one index probe, and dropping one there
--    means rebuilding the table (every scan of an event day copied).
DROP INDEX admissions_by_ticket;
CREATE INDEX admissions_by_ticket ON admissions (serial, event_id);
ALTER TABLE scans DROP CONSTRAINT scans_device_id_fkey;
ALTER TABLE admissions DROP CONSTRAINT admissions_scan_id_fkey;
ALTER TABLE admissions DROP CONSTRAINT admissions_device_id_fkey;
