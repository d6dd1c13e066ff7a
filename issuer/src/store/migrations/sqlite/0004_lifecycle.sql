-- Migration 4: the ticket lifecycle (issue 10).
--
-- A row of `tickets` is an entitlement: what a buyer paid for (one offer of one event, N
-- people). Its serial stays the same through transfers and re-issues; each of those signs a new
-- code (generation + 1) for the new holder and what is left, and supersedes the older codes in
-- the revocation log. Admissions are counted per serial on the issuer and on every gate.

-- Sales window and deadlines per event. NULL means the default rule (issuer/src/lifecycle.rs):
-- sales close when the doors close; refunds and transfers close when the doors open.
ALTER TABLE events ADD COLUMN sales_open_at INTEGER;
ALTER TABLE events ADD COLUMN sales_close_at INTEGER;
ALTER TABLE events ADD COLUMN refund_deadline INTEGER;
ALTER TABLE events ADD COLUMN transfer_deadline INTEGER;

-- The current code's generation, and how many people it admits (NULL: the whole offer).
ALTER TABLE tickets ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN admits INTEGER;
-- Why a revoked entitlement was revoked (an og_shared RevocationReason name).
ALTER TABLE tickets ADD COLUMN revoked_reason TEXT;
-- The order that paid for it (NULL: complimentary), kept through transfers, and its price.
ALTER TABLE tickets ADD COLUMN order_id INTEGER REFERENCES orders (id);
ALTER TABLE tickets ADD COLUMN unit_price_cents INTEGER NOT NULL DEFAULT 0;
UPDATE tickets SET order_id = (SELECT p.order_id FROM purchases p WHERE p.id = tickets.purchase_id);
UPDATE tickets SET unit_price_cents = COALESCE((
    SELECT l.unit_price_cents FROM order_lines l JOIN offers o ON o.id = l.offer_id
    WHERE l.order_id = tickets.order_id AND o.event_id = tickets.event_id AND o.kind = tickets.offer
    LIMIT 1), 0);
UPDATE tickets SET revoked_reason = (
    SELECT r.reason FROM revocations r WHERE r.kind = 'ticket' AND r.serial = tickets.serial ORDER BY r.seq LIMIT 1)
WHERE status = 'revoked';
UPDATE tickets SET revoked_reason = 'other' WHERE status = 'revoked' AND revoked_reason IS NULL;
CREATE INDEX tickets_by_order ON tickets (order_id);

-- Every transfer of an entitlement: who gave it to whom, when, and what the new code admits.
CREATE TABLE ticket_transfers (
    id           INTEGER PRIMARY KEY,
    serial       INTEGER NOT NULL REFERENCES tickets (serial),
    generation   INTEGER NOT NULL,
    from_account INTEGER NOT NULL REFERENCES accounts (id),
    to_account   INTEGER NOT NULL REFERENCES accounts (id),
    admits       INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    UNIQUE (serial, generation)
);
CREATE INDEX ticket_transfers_from ON ticket_transfers (from_account);

-- Which code of the entitlement a gate scanned or admitted.
ALTER TABLE scans ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE admissions ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;

-- The revocation log gains the kind 'superseded': the codes of one serial older than
-- `generation`. SQLite cannot alter a CHECK constraint: the table is rebuilt, rows unchanged.
CREATE TABLE revocations_v4 (
    seq        INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('ticket', 'purchase', 'account', 'superseded')),
    serial     INTEGER,
    generation INTEGER,
    tag        TEXT,
    reason     TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    chain_hash BLOB    NOT NULL,
    CHECK ((kind IN ('ticket', 'superseded')) = (serial IS NOT NULL)),
    CHECK ((kind IN ('ticket', 'superseded')) = (tag IS NULL)),
    CHECK ((kind = 'superseded') = (generation IS NOT NULL))
);
INSERT INTO revocations_v4 (seq, kind, serial, generation, tag, reason, at, chain_hash)
    SELECT seq, kind, serial, NULL, tag, reason, at, chain_hash FROM revocations;
DROP TABLE revocations;
ALTER TABLE revocations_v4 RENAME TO revocations;

-- Refunds due are owed per entitlement once (whoever starts the refund), or per order when
-- no ticket exists (a payment that arrived too late). Buyer refunds and operators' decisions
-- join the reasons; a decision records who made it and why.
CREATE TABLE refunds_due_v4 (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders (id),
    serial       INTEGER REFERENCES tickets (serial),
    reason       TEXT    NOT NULL CHECK (reason IN ('order_closed', 'event_cancelled', 'buyer_refund', 'operator_decision')),
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    created_at   INTEGER NOT NULL,
    settled_at   INTEGER,
    settled_by   INTEGER REFERENCES accounts (id),
    decided_by   INTEGER REFERENCES accounts (id),
    note         TEXT
);
INSERT INTO refunds_due_v4 (id, order_id, serial, reason, amount_cents, created_at, settled_at, settled_by)
    SELECT id, order_id, NULL, reason, amount_cents, created_at, settled_at, settled_by FROM refunds_due;
DROP TABLE refunds_due;
ALTER TABLE refunds_due_v4 RENAME TO refunds_due;
CREATE UNIQUE INDEX refunds_due_once_per_entitlement ON refunds_due (serial) WHERE serial IS NOT NULL;
CREATE UNIQUE INDEX refunds_due_once_per_order ON refunds_due (order_id, reason) WHERE serial IS NULL;
CREATE INDEX refunds_due_open ON refunds_due (settled_at, created_at);

-- Seats an operator added beyond an event's capacity to issue complimentary tickets.
CREATE TABLE capacity_overrides (
    id         INTEGER PRIMARY KEY,
    event_id   INTEGER NOT NULL REFERENCES events (id),
    seats      INTEGER NOT NULL CHECK (seats > 0),
    operator   TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    at         INTEGER NOT NULL
);
