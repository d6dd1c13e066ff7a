-- Migration 8 (PostgreSQL): holder-bound tickets (issue 11): a phone's device key bound to a ticket, the
-- per-event policy, and operators' paper exceptions. Plain SQL, BIGINT-compatible integers,
-- device keys and tags as hex TEXT (no BLOB), so the same statements suit PostgreSQL.

-- Whether an event needs the ticket open on the holder's phone (a rotating code) at the gate.
ALTER TABLE events ADD COLUMN holder_binding TEXT NOT NULL DEFAULT 'optional'
    CHECK (holder_binding IN ('optional', 'required'));

-- Every device key bound to an entitlement, oldest first (binding_no 1, 2, ...). The newest
-- row with revoked_at NULL is the phone that shows the ticket now; a rebinding from another
-- phone or a transfer sets revoked_at and appends a `device_key` revocation in the same
-- transaction. `bound_ticket` is the issuer-signed 133-byte bound ticket (base64url).
CREATE TABLE ticket_bindings (
    serial         BIGINT NOT NULL REFERENCES tickets (serial),
    binding_no     BIGINT NOT NULL CHECK (binding_no >= 1),
    generation     BIGINT NOT NULL,
    device_key     TEXT   NOT NULL,
    key_tag        TEXT   NOT NULL,
    bound_ticket   TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    revoked_at     BIGINT,
    revoked_reason TEXT CHECK (revoked_reason IN ('rebound', 'transferred')),
    PRIMARY KEY (serial, binding_no),
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);

-- A static (paper) code an operator allowed for a named person at an event that requires the
-- phone (accessibility, no phone), recorded with who and why. At most one open (ended_at NULL)
-- per entitlement; a transfer ends it.
CREATE TABLE paper_exceptions (
    serial      BIGINT NOT NULL REFERENCES tickets (serial),
    person_name TEXT   NOT NULL,
    operator_id BIGINT NOT NULL REFERENCES accounts (id),
    reason      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    ended_at    BIGINT,
    PRIMARY KEY (serial, created_at)
);

-- The revocation log gains the kind 'device_key' {serial, tag = key tag}: one phone's codes of
-- an entitlement. PostgreSQL alters the CHECK constraints in place (SQLite rebuilds the table).
DO $$
DECLARE c record;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'revocations'::regclass AND contype = 'c' LOOP
        EXECUTE format('ALTER TABLE revocations DROP CONSTRAINT %I', c.conname);
    END LOOP;
END $$;
ALTER TABLE revocations
    ADD CONSTRAINT revocations_kind CHECK (kind IN ('ticket', 'purchase', 'account', 'superseded', 'device_key')),
    ADD CONSTRAINT revocations_serial CHECK ((kind IN ('ticket', 'superseded', 'device_key')) = (serial IS NOT NULL)),
    ADD CONSTRAINT revocations_tag CHECK ((kind IN ('ticket', 'superseded')) = (tag IS NULL)),
    ADD CONSTRAINT revocations_generation CHECK ((kind = 'superseded') = (generation IS NOT NULL));
