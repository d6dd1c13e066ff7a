//! The queries of the payment webhooks the issuer has processed (`webhook_seen`, by event id):
//! the once-only guard of `shop::webhook`, whose transaction records the event first and
//! processes it only if it was new.

use super::sql::{Connection, Result, params};

/// Records a webhook event as processed at `now`; answers whether it was new (`false`: seen
/// before, nothing written).
pub fn insert(tx: &Connection, event_id: &str, now: i64) -> Result<bool> {
    let fresh = tx.execute(
        "INSERT INTO webhook_seen (event_id, received_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        params![event_id, now],
    )?;
    Ok(fresh != 0)
}
