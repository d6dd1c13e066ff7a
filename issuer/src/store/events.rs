//! The queries of events (`events`) that the gates' side reads: an event's zones when an
//! operator scopes an enrolment token to it. The rules that call them are in `gates::devices`;
//! the catalogue's own event queries are still in `ops::catalogue` and `shop`.

use super::sql::{Connection, OptionalExtension, Result};

/// An event's zone names as stored (a JSON array of names); `None` if there is no such event.
pub fn zones(conn: &Connection, id: u32) -> Result<Option<String>> {
    conn.query_row("SELECT zones FROM events WHERE id = ?1", [id], |r| r.get(0))
        .optional()
}
