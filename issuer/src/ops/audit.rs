//! The operators' audit log (`ops_audit`, append-only): every change an operator makes (events
//! and offers, revocations and bans, refunds, complimentary tickets, paper exceptions, device
//! enrolment, renaming, rotation and revocation) with who and when. [`record`] is called by
//! `ops::actions` inside the transaction of the change, so a change and its entry commit
//! together or not at all.

use crate::error::AppResult;
use crate::store::sql::{Connection, Transaction, params};

/// One entry, with the operator's address (`None`: the command line).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub operator_id: Option<i64>,
    pub operator: Option<String>,
    /// What was done, e.g. `event.create`, `ticket.revoke`, `device.revoke`.
    pub action: String,
    /// What it was done to, e.g. `event:12`, `ticket:1043`, `device:dev_...`.
    pub subject: String,
    pub detail: String,
}

/// Appends an entry in the caller's transaction.
pub fn record(
    tx: &Transaction<'_>,
    operator_id: Option<i64>,
    action: &str,
    subject: &str,
    detail: &str,
    now: i64,
) -> AppResult<()> {
    tx.execute(
        "INSERT INTO ops_audit (at, operator_id, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![now, operator_id, action, subject, detail],
    )?;
    Ok(())
}

const SELECT: &str = "SELECT l.id, l.at, l.operator_id, a.email, l.action, l.subject, l.detail
     FROM ops_audit l LEFT JOIN accounts a ON a.id = l.operator_id";

fn entry(r: &crate::store::sql::Row<'_>) -> crate::store::sql::Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.get(0)?,
        at: r.get(1)?,
        operator_id: r.get(2)?,
        operator: r.get(3)?,
        action: r.get(4)?,
        subject: r.get(5)?,
        detail: r.get(6)?,
    })
}

/// The newest entries first, at most `limit`, older than entry `before` if given.
pub fn list(conn: &Connection, before: Option<i64>, limit: i64) -> AppResult<Vec<AuditEntry>> {
    let sql = format!("{SELECT} WHERE l.id < ?1 ORDER BY l.id DESC LIMIT ?2");
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![before.unwrap_or(i64::MAX), limit.clamp(1, 1000)], entry)?
        .collect::<crate::store::sql::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Every entry about one subject (`ticket:1043`), oldest first.
pub fn for_subject(conn: &Connection, subject: &str) -> AppResult<Vec<AuditEntry>> {
    let sql = format!("{SELECT} WHERE l.subject = ?1 ORDER BY l.id");
    let rows = conn
        .prepare_cached(&sql)?
        .query_map([subject], entry)?
        .collect::<crate::store::sql::Result<Vec<_>>>()?;
    Ok(rows)
}
