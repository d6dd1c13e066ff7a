//! The operators' audit log (`ops_audit`, append-only): every change an operator makes (events
//! and offers, revocations and bans, refunds, complimentary tickets, paper exceptions, device
//! enrolment, renaming, rotation and revocation) with who and when. [`record`] is called by
//! `ops::actions` inside the transaction of the change, so a change and its entry commit
//! together or not at all.

use crate::error::AppResult;
use crate::store::ops_audit;
use crate::store::sql::{Connection, Transaction};

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
    ops_audit::insert(tx, now, operator_id, action, subject, detail)?;
    Ok(())
}

fn entry(e: ops_audit::Entry) -> AuditEntry {
    AuditEntry {
        id: e.id,
        at: e.at,
        operator_id: e.operator_id,
        operator: e.operator,
        action: e.action,
        subject: e.subject,
        detail: e.detail,
    }
}

/// The newest entries first, at most `limit`, older than entry `before` if given.
pub fn list(conn: &Connection, before: Option<i64>, limit: i64) -> AppResult<Vec<AuditEntry>> {
    let rows = ops_audit::before(conn, before.unwrap_or(i64::MAX), limit.clamp(1, 1000))?;
    Ok(rows.into_iter().map(entry).collect())
}

/// Every entry about one subject (`ticket:1043`), oldest first.
pub fn for_subject(conn: &Connection, subject: &str) -> AppResult<Vec<AuditEntry>> {
    Ok(ops_audit::of_subject(conn, subject)?.into_iter().map(entry).collect())
}
