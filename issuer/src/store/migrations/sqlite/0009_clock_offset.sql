-- Migration 9: each gate's clock offset (its clock minus the issuer's, seconds), as it reports
-- it at every sync (issue 11: rotating phone codes depend on gate clocks).
ALTER TABLE devices ADD COLUMN clock_offset INTEGER;
