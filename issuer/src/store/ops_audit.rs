//! The queries of the operators' audit log (`ops_audit`, append-only): an entry appended in the
//! caller's transaction, the newest entries a page at a time, every entry about one subject.
//! What is recorded and when (every operator change, in the transaction of the change) is the
//! rule of `ops::audit` and `ops::actions`, which call these.

use super::sql::{Connection, Result, Row, params};

/// Appends an entry.
pub fn insert(
    tx: &Connection,
    at: i64,
    operator_id: Option<i64>,
    action: &str,
    subject: &str,
    detail: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO ops_audit (at, operator_id, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![at, operator_id, action, subject, detail],
    )?;
    Ok(())
}

/// One entry, with its operator's address (`None`: the command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    pub operator_id: Option<i64>,
    pub operator: Option<String>,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

const SELECT: &str = "SELECT l.id, l.at, l.operator_id, a.email, l.action, l.subject, l.detail
     FROM ops_audit l LEFT JOIN accounts a ON a.id = l.operator_id";

fn entry(r: &Row<'_>) -> Result<Entry> {
    Ok(Entry {
        id: r.get(0)?,
        at: r.get(1)?,
        operator_id: r.get(2)?,
        operator: r.get(3)?,
        action: r.get(4)?,
        subject: r.get(5)?,
        detail: r.get(6)?,
    })
}

/// The entries with an id below `before`, newest first, at most `limit`.
pub fn before(conn: &Connection, before: i64, limit: i64) -> Result<Vec<Entry>> {
    let sql = format!("{SELECT} WHERE l.id < ?1 ORDER BY l.id DESC LIMIT ?2");
    conn.prepare_cached(&sql)?
        .query_map(params![before, limit], entry)?
        .collect()
}

/// Every entry about one subject (`ticket:1043`), oldest first.
pub fn of_subject(conn: &Connection, subject: &str) -> Result<Vec<Entry>> {
    let sql = format!("{SELECT} WHERE l.subject = ?1 ORDER BY l.id");
    conn.prepare_cached(&sql)?.query_map([subject], entry)?.collect()
}
