-- Schema version 2: gate operations (issue 4): operator tokens, device enrolment, devices,
-- scan intake, admissions shared between gates, and conflicts.
-- Secrets (operator tokens, enrolment tokens, device credentials) are stored only as SHA-256
-- hashes of the token text.

CREATE TABLE operator_tokens (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    token_hash  BLOB    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

-- One-time tokens that a gate device exchanges for its credential.
CREATE TABLE enrolment_tokens (
    id          INTEGER PRIMARY KEY,
    token_hash  BLOB    NOT NULL UNIQUE,
    -- JSON array of event ids the enrolled device may serve.
    event_ids   TEXT    NOT NULL,
    zone        INTEGER CHECK (zone IS NULL OR (zone >= 0 AND zone < 16)),
    created_by  INTEGER REFERENCES accounts (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    device_id   INTEGER REFERENCES devices (id)
);

CREATE TABLE devices (
    id                INTEGER PRIMARY KEY,
    -- What the device and operators see ("dev-" + 12 hex digits).
    public_id         TEXT    NOT NULL UNIQUE,
    name              TEXT    NOT NULL,
    credential_hash   BLOB    NOT NULL UNIQUE,
    zone              INTEGER,
    status            TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    enrolled_at       INTEGER NOT NULL,
    revoked_at        INTEGER,
    rotated_at        INTEGER,
    -- Reported by the device at each contact.
    last_contact      INTEGER,
    revocation_cursor INTEGER NOT NULL DEFAULT 0,
    -- Last time the device was sent the revocation log up to its head (its data age is now - this).
    up_to_date_at     INTEGER,
    queued            INTEGER NOT NULL DEFAULT 0,
    software_version  TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE device_events (
    device_id INTEGER NOT NULL REFERENCES devices (id),
    event_id  INTEGER NOT NULL REFERENCES events (id),
    PRIMARY KEY (device_id, event_id)
) WITHOUT ROWID;

-- Every scan report a device sent and the issuer stored (admitted or refused at the gate).
CREATE TABLE scans (
    id             INTEGER PRIMARY KEY,
    nonce          TEXT    NOT NULL UNIQUE,
    device_id      INTEGER NOT NULL REFERENCES devices (id),
    -- SHA-256 of the device id and the report as sent: same nonce + other content = conflict.
    content_hash   BLOB    NOT NULL,
    scanned_at     INTEGER NOT NULL,
    received_at    INTEGER NOT NULL,
    verdict        TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    event_id       INTEGER,
    serial         INTEGER,
    offer          TEXT,
    admitted_index INTEGER,
    gate           TEXT    NOT NULL,
    zone           INTEGER,
    direction      TEXT    NOT NULL CHECK (direction IN ('entry', 'exit')),
    offline        INTEGER NOT NULL
);
CREATE INDEX scans_by_event_time ON scans (event_id, scanned_at);

-- Reports the issuer refused for good (future time, out of scope, nonce conflict...): kept
-- so nothing a gate sent is lost.
CREATE TABLE scan_refusals (
    id           INTEGER PRIMARY KEY,
    device_id    INTEGER NOT NULL REFERENCES devices (id),
    nonce        TEXT    NOT NULL,
    content_hash BLOB    NOT NULL,
    code         TEXT    NOT NULL,
    message      TEXT    NOT NULL,
    report       TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    UNIQUE (device_id, nonce, content_hash)
);

-- Admissions (and exits) shared with the other gates of the event. seq is assigned inside the
-- writing IMMEDIATE transaction: commit-ordered and gap-free, the cursor gates sync by.
CREATE TABLE admissions (
    seq         INTEGER PRIMARY KEY,
    scan_id     INTEGER NOT NULL UNIQUE REFERENCES scans (id),
    event_id    INTEGER NOT NULL,
    serial      INTEGER NOT NULL,
    device_id   INTEGER NOT NULL REFERENCES devices (id),
    gate        TEXT    NOT NULL,
    admitted_at INTEGER NOT NULL,
    direction   TEXT    NOT NULL CHECK (direction IN ('entry', 'exit'))
);
CREATE INDEX admissions_by_event ON admissions (event_id, seq);
CREATE INDEX admissions_by_ticket ON admissions (event_id, serial);

-- A ticket admitted more times than it admits, across gates.
CREATE TABLE conflicts (
    id          INTEGER PRIMARY KEY,
    event_id    INTEGER NOT NULL,
    serial      INTEGER NOT NULL,
    allowed     INTEGER NOT NULL,
    admitted    INTEGER NOT NULL,
    -- JSON array of gate names involved.
    gates       TEXT    NOT NULL,
    detected_at INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (event_id, serial)
);
