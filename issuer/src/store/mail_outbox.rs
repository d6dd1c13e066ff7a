//! The queries of the mail outbox (`mail_outbox`, migrations 12 and 13): mails queued in the
//! transaction of the change they tell of, each with the account it is addressed to (if any),
//! claimed by one replica's worker at a time, deleted once a mail server took them, or with
//! their account when it is deleted (`shop::accounts::delete_account`). The rules (what is
//! queued, when a failed mail is tried again) are in `shop::mail` and `shop::mail_queue`.

use super::sql::{Connection, Engine, Result, params};

/// A queued mail as the worker claimed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: i64,
    /// The mail, as `shop::mail::Queued` JSON.
    pub message: String,
    pub queued_at: i64,
    /// Earlier attempts that failed.
    pub attempts: i64,
}

/// Queues a mail to the account `account_id` (`None`: to an address with no account), due now.
pub fn insert(tx: &Connection, account_id: Option<i64>, message: &str, now: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO mail_outbox (account_id, message, queued_at, next_attempt_at) VALUES (?1, ?2, ?3, ?3)",
        params![account_id, message, now],
    )?;
    Ok(())
}

/// Deletes every mail still queued for an account (its deletion erases its address from them);
/// answers how many. One a worker is sending at that moment may still go out.
pub fn delete_of_account(tx: &Connection, account_id: i64) -> Result<usize> {
    tx.execute("DELETE FROM mail_outbox WHERE account_id = ?1", [account_id])
}

/// Whether a mail is due (a read, so that the idle worker never writes).
pub fn any_due(conn: &Connection, now: i64) -> Result<bool> {
    conn.prepare_cached("SELECT 1 FROM mail_outbox WHERE next_attempt_at <= ?1 LIMIT 1")?
        .exists([now])
}

/// Claims up to `limit` due mails, oldest first, until `claimed_until`: no other worker sees
/// them due before then, so a worker that dies holding them leaves them to the others.
pub fn claim_due(tx: &Connection, now: i64, claimed_until: i64, limit: i64) -> Result<Vec<Claimed>> {
    // PostgreSQL: workers of several replicas claim beside each other (`WriteScope::Shared`);
    // each skips the rows another is claiming instead of waiting for them, and a row claimed
    // and committed meanwhile is re-checked on its newest version, no longer due. SQLite has
    // one writer and no row locks (nor this clause).
    let skip_locked = match tx.engine() {
        Engine::Postgres => " FOR UPDATE SKIP LOCKED",
        Engine::Sqlite => "",
    };
    tx.query_all(
        &format!(
            "UPDATE mail_outbox SET next_attempt_at = ?2
             WHERE id IN (SELECT id FROM mail_outbox WHERE next_attempt_at <= ?1 ORDER BY id LIMIT ?3{skip_locked})
             RETURNING id, message, queued_at, attempts"
        ),
        params![now, claimed_until, limit],
        |r| {
            Ok(Claimed {
                id: r.get(0)?,
                message: r.get(1)?,
                queued_at: r.get(2)?,
                attempts: r.get(3)?,
            })
        },
    )
    .map(|mut v| {
        // RETURNING gives no order; send oldest first.
        v.sort_by_key(|c| c.id);
        v
    })
}

/// Removes a mail (sent, or given up).
pub fn delete(tx: &Connection, id: i64) -> Result<()> {
    tx.execute("DELETE FROM mail_outbox WHERE id = ?1", [id])?;
    Ok(())
}

/// Records a failed attempt; the mail is due again at `next_attempt_at`.
pub fn retry_at(tx: &Connection, id: i64, next_attempt_at: i64, error: &str) -> Result<()> {
    tx.execute(
        "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE id = ?1",
        params![id, next_attempt_at, error],
    )?;
    Ok(())
}

/// How many mails wait, and when the oldest was queued.
pub fn waiting(conn: &Connection) -> Result<(i64, Option<i64>)> {
    conn.query_row("SELECT COUNT(*), MIN(queued_at) FROM mail_outbox", [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
}
