-- Migration 4: what gates are told about the revocation log's history, and what they refused.
--
-- Resets of the revocation log after a restore from backup (`issuer revocations republish`):
-- the newest row's epoch is the log's epoch, signed into every checkpoint sent to gates. A gate
-- accepts a log that does not continue its copy only under a newer epoch, and only if the log
-- keeps every revocation the gate knew. No row: epoch 0, the original log.
CREATE TABLE revocation_resets (
    epoch       INTEGER PRIMARY KEY,
    -- The log's head when the reset was made, and how many revocations it re-appended.
    head_before INTEGER NOT NULL,
    republished INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Why a device last refused the issuer's sync answers (a rollback, a bad signature), as the
-- device reported it with its next request; NULL once it accepts them again.
ALTER TABLE devices ADD COLUMN sync_refusal TEXT;
ALTER TABLE devices ADD COLUMN sync_refusal_at INTEGER;
