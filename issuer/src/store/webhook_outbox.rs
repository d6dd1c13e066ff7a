//! The queries of the built-in card processor's webhook outbox (`webhook_outbox`: each
//! webhook's JSON, by its event id, until the issuer acknowledges it): queued with a card's
//! outcome, claimed for delivery by one replica at a time, retried after a doubling pause,
//! marked delivered. The rules (what is acknowledged, the pause, how long a claim holds) are
//! in `shop::payment`; `shop::webhook` marks an entry delivered in the transaction that
//! processes it.

use super::sql::{Connection, OptionalExtension, Result, params};

/// Queues a webhook, due at `next_attempt_at`.
pub fn insert(tx: &Connection, event_id: &str, payload: &str, next_attempt_at: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO webhook_outbox (event_id, payload, next_attempt_at) VALUES (?1, ?2, ?3)",
        params![event_id, payload, next_attempt_at],
    )?;
    Ok(())
}

/// The JSON of a webhook not delivered yet, if there is one.
pub fn undelivered_payload(conn: &Connection, event_id: &str) -> Result<Option<String>> {
    conn.query_row(
        "SELECT payload FROM webhook_outbox WHERE event_id = ?1 AND delivered_at IS NULL",
        [event_id],
        |r| r.get(0),
    )
    .optional()
}

/// Marks a webhook not delivered yet delivered at `now` (one more attempt); an unknown event
/// id (an outside provider's) changes nothing.
pub fn mark_delivered(tx: &Connection, event_id: &str, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE webhook_outbox SET delivered_at = ?2, attempts = attempts + 1
                 WHERE event_id = ?1 AND delivered_at IS NULL",
        params![event_id, now],
    )?;
    Ok(())
}

/// Records a failed attempt of a webhook not delivered yet: due again 2, 4, ... seconds after
/// `now` (doubling with each attempt), 300 from the ninth on.
pub fn retry_later(tx: &Connection, event_id: &str, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE webhook_outbox SET attempts = attempts + 1,
                     next_attempt_at = ?2 + CASE WHEN attempts + 1 >= 9 THEN 300 ELSE (1 << (attempts + 1)) END
                 WHERE event_id = ?1 AND delivered_at IS NULL",
        params![event_id, now],
    )?;
    Ok(())
}

/// Whether a webhook not delivered yet is due at `now` (a read, so that an idle tick never
/// writes).
pub fn any_due(conn: &Connection, now: i64) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM webhook_outbox WHERE delivered_at IS NULL AND next_attempt_at <= ?1 LIMIT 1",
            [now],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The event ids of up to 50 webhooks not delivered yet and due at `now`, the longest due first.
pub fn due(conn: &Connection, now: i64) -> Result<Vec<String>> {
    conn.query_all(
        "SELECT event_id FROM webhook_outbox WHERE delivered_at IS NULL AND next_attempt_at <= ?1
                 ORDER BY next_attempt_at LIMIT 50",
        [now],
        |r| r.get(0),
    )
}

/// Makes a webhook due next at `next_attempt_at` (a replica's claim on it until then).
pub fn set_next_attempt(tx: &Connection, event_id: &str, next_attempt_at: i64) -> Result<()> {
    tx.execute(
        "UPDATE webhook_outbox SET next_attempt_at = ?2 WHERE event_id = ?1",
        params![event_id, next_attempt_at],
    )?;
    Ok(())
}
