-- Migration 11: a sale limit per offer (issue 15: "capacity per offer"), and an index for the
-- sweep of expired holds.
-- `capacity`: how many tickets of this offer may be sold (NULL: only the event's capacity in
-- people limits it). `sold`: tickets of it held by pending and paid orders, taken by one
-- conditional update at checkout and given back when an order expires, is cancelled or refunded
-- (the same moments as the event's `reserved` seats). Complimentary tickets count against the
-- event's capacity only: they are an operator's decision, not a sale.
ALTER TABLE offers ADD COLUMN capacity INTEGER CHECK (capacity IS NULL OR capacity >= 0);
ALTER TABLE offers ADD COLUMN sold INTEGER NOT NULL DEFAULT 0
    CHECK (sold >= 0 AND (capacity IS NULL OR sold <= capacity));
UPDATE offers SET sold = (
    SELECT COALESCE(SUM(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id
    WHERE l.offer_id = offers.id AND o.status IN ('pending', 'paid'));
-- Pending orders by the end of their hold: the sweep that puts expired holds back on sale looks
-- for one every 2 s on every replica.
CREATE INDEX orders_pending_by_expiry ON orders (expires_at) WHERE status = 'pending';
-- Webhooks not yet delivered by when they are due: every replica looks for one every 2 s.
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE delivered_at IS NULL;
