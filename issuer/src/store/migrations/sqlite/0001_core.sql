-- Schema version 1: catalogue, accounts, orders, purchases, tickets, revocations, keys.
-- Times are Unix seconds (UTC). Money is integer cents (EUR).

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    sport       TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    venue       TEXT    NOT NULL,
    starts_at   INTEGER NOT NULL,
    doors_open  INTEGER NOT NULL,
    doors_close INTEGER NOT NULL CHECK (doors_close >= doors_open),
    -- Seats (people), and how many are reserved by pending or paid orders.
    capacity    INTEGER NOT NULL CHECK (capacity >= 0),
    reserved    INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= capacity),
    -- JSON array of zone names; index i is bit i of a ticket's zone mask.
    zones       TEXT    NOT NULL DEFAULT '["General"]',
    status      TEXT    NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled'))
);
CREATE INDEX events_by_start ON events (starts_at);

CREATE TABLE offers (
    id          INTEGER PRIMARY KEY,
    event_id    INTEGER NOT NULL REFERENCES events (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('solo', 'duo', 'family')),
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    UNIQUE (event_id, kind)
);

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,
    display_name  TEXT    NOT NULL DEFAULT '',
    role          TEXT    NOT NULL DEFAULT 'buyer' CHECK (role IN ('buyer', 'operator')),
    status        TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'banned')),
    -- 32 random bytes made at activation; NULL before. Never leaves the issuer.
    account_key   BLOB,
    account_tag   TEXT,
    created_at    INTEGER NOT NULL,
    activated_at  INTEGER
);

CREATE TABLE orders (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id),
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'paid', 'cancelled', 'refunded')),
    total_cents     INTEGER NOT NULL,
    idempotency_key TEXT    NOT NULL,
    payment_id      TEXT    UNIQUE,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    paid_at         INTEGER,
    closed_at       INTEGER,
    UNIQUE (account_id, idempotency_key)
);

CREATE TABLE order_lines (
    id               INTEGER PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES orders (id),
    offer_id         INTEGER NOT NULL REFERENCES offers (id),
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL
);

-- A purchase key is made when an order is paid (or a complimentary or transferred ticket is
-- issued). Its tag is what tickets carry and what revocations name.
CREATE TABLE purchases (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER UNIQUE REFERENCES orders (id),
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    kind         TEXT    NOT NULL CHECK (kind IN ('paid', 'complimentary', 'transfer')),
    purchase_key BLOB    NOT NULL,
    purchase_tag TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL
);

CREATE TABLE tickets (
    serial      INTEGER PRIMARY KEY AUTOINCREMENT,
    purchase_id INTEGER NOT NULL REFERENCES purchases (id),
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    event_id    INTEGER NOT NULL REFERENCES events (id),
    offer       TEXT    NOT NULL CHECK (offer IN ('solo', 'duo', 'family')),
    key_id      INTEGER NOT NULL,
    qr_text     TEXT    NOT NULL UNIQUE,
    flags       INTEGER NOT NULL DEFAULT 0,
    holder_name TEXT    NOT NULL DEFAULT '',
    status      TEXT    NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked')),
    issued_at   INTEGER NOT NULL,
    revoked_at  INTEGER,
    replaced_by INTEGER REFERENCES tickets (serial)
);
CREATE INDEX tickets_by_account ON tickets (account_id);
CREATE INDEX tickets_by_purchase ON tickets (purchase_id);

-- The append-only revocation log gates sync. seq is assigned inside the writing transaction
-- (SQLite has one writer at a time), so it is commit-ordered and gap-free; chain_hash is the
-- og_shared::sync::chain_hash after this entry.
CREATE TABLE revocations (
    seq        INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('ticket', 'purchase', 'account')),
    serial     INTEGER,
    tag        TEXT,
    reason     TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    chain_hash BLOB    NOT NULL,
    CHECK ((kind = 'ticket') = (serial IS NOT NULL)),
    CHECK ((kind = 'ticket') = (tag IS NULL))
);

-- Public halves of the ticket-signing keys and the period gates accept them. The private key
-- lives only in the 0600 PEM file in the data dir.
CREATE TABLE signing_keys (
    key_id      INTEGER PRIMARY KEY,
    public_key  TEXT    NOT NULL UNIQUE,
    valid_from  INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Buyer side (issue 3): one-time mail tokens, refresh-token families, carts, payments,
-- webhook outbox, rate-limit hits.

-- Activation and password-reset links. Only the SHA-256 of the token is stored.
CREATE TABLE mail_tokens (
    token_hash TEXT    PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    purpose    TEXT    NOT NULL CHECK (purpose IN ('activate', 'reset')),
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

-- Rotating refresh tokens. Every login starts a family; each refresh marks the presented token
-- used and issues the next one. Presenting a used token revokes the whole family.
CREATE TABLE refresh_tokens (
    token_hash TEXT    PRIMARY KEY,
    family     TEXT    NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    revoked_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX refresh_by_family ON refresh_tokens (family);

CREATE TABLE cart_items (
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    offer_id   INTEGER NOT NULL REFERENCES offers (id),
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (account_id, offer_id)
);

-- Payments of the built-in card processor (its own books: it only knows order ids and amounts).
CREATE TABLE payments (
    id           TEXT    PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders (id),
    amount_cents INTEGER NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('requires_card', 'succeeded', 'declined')),
    card_last4   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

-- Webhooks the processor still has to deliver (retried until acknowledged).
CREATE TABLE webhook_outbox (
    event_id        TEXT    PRIMARY KEY,
    payload         TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER
);

-- Webhook events the issuer has accepted (replay protection).
CREATE TABLE webhook_seen (
    event_id    TEXT    PRIMARY KEY,
    received_at INTEGER NOT NULL
);

-- Login and sign-up attempts, per client address and per email (rate limiting).
CREATE TABLE rate_hits (
    bucket TEXT    NOT NULL,
    at     INTEGER NOT NULL
);
CREATE INDEX rate_hits_by_bucket ON rate_hits (bucket, at);
