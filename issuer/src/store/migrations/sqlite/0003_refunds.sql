-- Migration 3: refunds due, and indexes for cancelling an event and for expiring rate-limit hits.
--
-- Money taken that the issuer cannot honour: a payment that arrived after its order was
-- closed (expired or cancelled), a payment for an event that was cancelled before it arrived,
-- or a paid order whose event was cancelled afterwards. Each row is one refund someone must make
-- through the payment provider; an operator marks it settled. One row per order and reason.
CREATE TABLE refunds_due (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders (id),
    reason       TEXT    NOT NULL CHECK (reason IN ('order_closed', 'event_cancelled')),
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    created_at   INTEGER NOT NULL,
    settled_at   INTEGER,
    settled_by   INTEGER REFERENCES accounts (id),
    UNIQUE (order_id, reason)
);
CREATE INDEX refunds_due_open ON refunds_due (settled_at, created_at);

-- Cancelling an event revokes its valid tickets: find them without scanning every ticket.
CREATE INDEX tickets_by_event ON tickets (event_id, status);

-- Rate-limit hits older than a day are deleted on every hit: by time, not by a full scan.
CREATE INDEX rate_hits_by_time ON rate_hits (at);
