-- Migration 14: a ticket's admissions are found by serial first.
--
-- Scan intake reads the entries and exits of the tickets of a batch as `event_id = ? AND serial
-- IN (...)`. On (event_id, serial), PostgreSQL's planner, when its statistics are older than the
-- table (a new event day, or autovacuum off), took `event_id` alone as the index condition and
-- filtered the serials out of every admission of the event: each batch read the whole day's log
-- again (5-7 ms a statement at 40,000 admissions, ten statements a batch). On (serial, event_id)
-- the only use of the index is the serials themselves. Every other reader of this index names
-- both columns (a ticket's story, its entries, the gates it went through); reads of a whole
-- event use `admissions_by_event`. The same index on both engines.
--
-- (PostgreSQL's migration 14 also drops three row-by-row reference checks of `scans` and
-- `admissions`, each a trigger running a query per row there. SQLite checks a reference
-- in-process with one index probe, and dropping a constraint here means rebuilding the table,
-- every scan of an event day copied: SQLite keeps them.)
DROP INDEX admissions_by_ticket;
CREATE INDEX admissions_by_ticket ON admissions (serial, event_id);
