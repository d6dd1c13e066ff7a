//! The queries of events (`events`) that the gates and the trust authority read: an event's
//! zones when an operator scopes an enrolment token to it (`gates::devices`), its doors and
//! status when a code is signed (`trust::issuance`). The catalogue's own event queries are still
//! in `ops::catalogue` and `shop`.

use super::sql::{Connection, FromSql, OptionalExtension, Result};

/// An event's zone names as stored (a JSON array of names); `None` if there is no such event.
pub fn zones(conn: &Connection, id: u32) -> Result<Option<String>> {
    conn.query_row("SELECT zones FROM events WHERE id = ?1", [id], |r| r.get(0))
        .optional()
}

/// An event's doors (open, close) and status, if the event exists.
pub fn window<S: FromSql>(conn: &Connection, event_id: i64) -> Result<Option<(i64, i64, S)>> {
    conn.prepare_cached("SELECT doors_open, doors_close, status FROM events WHERE id = ?1")?
        .query_row([event_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
}
