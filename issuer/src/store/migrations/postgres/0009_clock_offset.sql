-- Migration 9 (PostgreSQL): each gate's clock offset (its clock minus the issuer's, seconds),
-- as it reports it at every sync.
ALTER TABLE devices ADD COLUMN clock_offset BIGINT;
