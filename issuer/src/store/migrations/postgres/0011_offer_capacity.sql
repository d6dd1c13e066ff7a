-- Migration 11: a sale limit per offer (see the SQLite text beside this file for the meaning).
ALTER TABLE offers ADD COLUMN capacity BIGINT CHECK (capacity IS NULL OR capacity >= 0);
ALTER TABLE offers ADD COLUMN sold BIGINT NOT NULL DEFAULT 0 CHECK (sold >= 0);
ALTER TABLE offers ADD CONSTRAINT offers_sold_within_capacity CHECK (capacity IS NULL OR sold <= capacity);
UPDATE offers SET sold = (
    SELECT COALESCE(SUM(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id
    WHERE l.offer_id = offers.id AND o.status IN ('pending', 'paid'));
