-- Schema version 2: gate operations (devices, enrolment, scan intake, admissions, conflicts).
-- Owned by the gate-operations work (issue 4); filled in there.
CREATE TABLE ops_placeholder_removed_in_v2 (id INTEGER PRIMARY KEY);
DROP TABLE ops_placeholder_removed_in_v2;
