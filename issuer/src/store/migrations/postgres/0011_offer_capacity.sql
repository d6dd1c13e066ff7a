-- Migration 11: a sale limit per offer (see the SQLite text beside this file for the meaning).
ALTER TABLE offers ADD COLUMN capacity BIGINT CHECK (capacity IS NULL OR capacity >= 0);
ALTER TABLE offers ADD COLUMN sold BIGINT NOT NULL DEFAULT 0 CHECK (sold >= 0);
ALTER TABLE offers ADD CONSTRAINT offers_sold_within_capacity CHECK (capacity IS NULL OR sold <= capacity);
UPDATE offers SET sold = (
    SELECT COALESCE(SUM(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id
    WHERE l.offer_id = offers.id AND o.status IN ('pending', 'paid'));
-- Pending orders by the end of their hold: the sweep that puts expired holds back on sale looks
-- for one every 2 s on every replica.
CREATE INDEX orders_pending_by_expiry ON orders (expires_at) WHERE status = 'pending';
-- Ticket serials for issuances that run side by side (buyers' payments, `WriteScope::Account`):
-- each takes its numbers from this sequence, starting after every serial issued so far.
CREATE SEQUENCE ticket_serials AS BIGINT;
SELECT setval('ticket_serials', (SELECT COALESCE(MAX(serial), 0) + 1 FROM tickets), false);
-- Webhooks not yet delivered by when they are due: every replica looks for one every 2 s.
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE delivered_at IS NULL;
