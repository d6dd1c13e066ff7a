//! The revocation log: append-only, hash-chained, commit-ordered.
//!
//! Every refund, cancellation, transfer or ban appends entries here in the same transaction as
//! the change that causes it. `seq` is assigned inside the IMMEDIATE write transaction (one
//! writer at a time), so sequence order is commit order and there are no gaps: a gate syncing
//! "everything after N" can never skip an entry that committed late. Each row stores the chain
//! hash after it ([`og_shared::sync::chain_hash`]), so any answer can carry the hash at its
//! start and end. The queries are in `store::revocations` (the log) and `store::tickets` (the
//! states a revocation changes).

use crate::store::revocations as rows;
use crate::store::sql::{Connection, Transaction};
use crate::store::{accounts, purchases, tickets};
use og_shared::sync::{GENESIS_HASH, Revocation, RevocationPage, RevocationReason, RevocationTarget, chain_hash};
use og_shared::ticket::Tag;
use og_shared::trust::{Checkpoint, SignedCheckpoint};

use crate::error::{AppError, AppResult};

/// The last entry's (seq, chain hash), or (0, genesis) for an empty log.
pub fn head(conn: &Connection) -> AppResult<(u64, [u8; 32])> {
    match rows::head(conn)? {
        None => Ok((0, GENESIS_HASH)),
        Some((seq, h)) => Ok((
            seq as u64,
            h.try_into().map_err(|_| AppError::internal("bad chain hash"))?,
        )),
    }
}

/// The chain hash at `seq` (genesis for 0), or `None` if the log is shorter.
pub fn hash_at(conn: &Connection, seq: u64) -> AppResult<Option<[u8; 32]>> {
    if seq == 0 {
        return Ok(Some(GENESIS_HASH));
    }
    rows::chain_hash_at(conn, seq as i64)?
        .map(|h| h.try_into().map_err(|_| AppError::internal("bad chain hash")))
        .transpose()
}

/// Appends one entry. Must run inside a write transaction.
pub fn append(
    tx: &Transaction<'_>,
    target: RevocationTarget,
    reason: RevocationReason,
    now: i64,
) -> AppResult<Revocation> {
    let (last, prev) = head(tx)?;
    let entry = Revocation {
        seq: last + 1,
        target,
        reason,
        at: now,
    };
    let hash = chain_hash(&prev, &entry);
    rows::insert(tx, &entry, &hash)?;
    Ok(entry)
}

/// Log entries after `after`, in order, at most `limit` of them (`None`: up to the head). The one
/// query that reads the log.
pub fn entries_after(conn: &Connection, after: u64, limit: Option<usize>) -> AppResult<Vec<Revocation>> {
    let limit = limit.map_or(i64::MAX, |l| l.min(i64::MAX as usize) as i64);
    Ok(rows::entries_after(conn, after as i64, limit)?)
}

/// Entries after `after` (at most `limit`), as a page a gate can check. `None` if `after` is
/// beyond the end of the log (the gate's copy is from another or a rolled-back log).
pub fn page_after(conn: &Connection, after: u64, limit: usize) -> AppResult<Option<RevocationPage>> {
    let Some(base) = hash_at(conn, after)? else {
        return Ok(None);
    };
    let entries = entries_after(conn, after, Some(limit))?;
    Ok(Some(RevocationPage::build(after, base, entries)))
}

/// The log's epoch: 0 for the original log, else the epoch of the last reset
/// ([`republish`]). Signed into every checkpoint a gate receives.
pub fn epoch(conn: &Connection) -> AppResult<i64> {
    Ok(rows::epoch(conn)?)
}

/// The issuer's signed checkpoint of this log at (`seq`, `hash`): what a gate checks a page or
/// snapshot ending there against.
pub fn checkpoint(
    conn: &Connection,
    signer: &og_shared::TicketSigner,
    seq: u64,
    hash: [u8; 32],
    now: i64,
) -> AppResult<SignedCheckpoint> {
    Ok(Checkpoint {
        epoch: epoch(conn)?,
        seq,
        hash,
        issued_at: now,
    }
    .sign(signer))
}

/// What [`republish`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Republished {
    /// Revocations the log lacked, appended now.
    pub appended: usize,
    /// The log's new epoch.
    pub epoch: i64,
    pub head: u64,
}

/// Re-publishes revocations after the database was restored from a backup: appends every
/// target of `known` (gates' copies, see `cli::admin`) that the log lacks, marks the tickets they
/// cover as revoked again, and starts a new log epoch in the same transaction. Gates refuse a
/// restored (shorter or different) log; they accept the new epoch because it is signed and keeps
/// every revocation they knew.
pub fn republish(tx: &Transaction<'_>, known: &[Revocation], now: i64) -> AppResult<Republished> {
    let mut have: std::collections::HashSet<RevocationTarget> =
        entries_after(tx, 0, None)?.into_iter().map(|e| e.target).collect();
    let (head_before, _) = head(tx)?;
    let mut appended = 0;
    for e in known {
        if !have.insert(e.target) {
            continue;
        }
        mark_revoked(tx, e.target, e.reason, now)?;
        append(tx, e.target, e.reason, now)?;
        appended += 1;
    }
    let epoch = now.max(epoch(tx)? + 1);
    rows::insert_reset(tx, epoch, head_before as i64, appended as i64, now)?;
    Ok(Republished {
        appended,
        epoch,
        head: head(tx)?.0,
    })
}

/// Marks the still-valid tickets a target covers as revoked (no log entry). A `superseded`
/// entry revokes older codes only: the entitlement itself stays valid.
fn mark_revoked(tx: &Transaction<'_>, target: RevocationTarget, reason: RevocationReason, now: i64) -> AppResult<()> {
    let reason = reason.as_str();
    match target {
        RevocationTarget::Ticket { serial } => {
            tickets::revoke_valid_ticket(tx, serial, reason, now)?;
        }
        RevocationTarget::Purchase { tag } => tickets::revoke_valid_tickets_of_purchase_tag(tx, &tag, reason, now)?,
        RevocationTarget::Account { tag } => tickets::revoke_valid_tickets_of_account_tag(tx, &tag, reason, now)?,
        RevocationTarget::Superseded { .. } | RevocationTarget::DeviceKey { .. } => {}
    }
    Ok(())
}

/// Revokes one entitlement (every code of it): marks it and appends a log entry. One already
/// revoked is left as is.
pub fn revoke_ticket(tx: &Transaction<'_>, serial: u32, reason: RevocationReason, now: i64) -> AppResult<bool> {
    if !tickets::revoke_valid_ticket(tx, serial, reason.as_str(), now)? {
        return Ok(false);
    }
    append(tx, RevocationTarget::Ticket { serial }, reason, now)?;
    Ok(true)
}

/// Revokes every valid ticket of an event, one log entry per ticket (no tag names an event).
/// Returns how many were revoked.
pub fn revoke_event(tx: &Transaction<'_>, event_id: u32, reason: RevocationReason, now: i64) -> AppResult<usize> {
    let serials = tickets::valid_serials_of_event(tx, event_id)?;
    for serial in &serials {
        revoke_ticket(tx, *serial, reason, now)?;
    }
    Ok(serials.len())
}

/// Supersedes the codes of an entitlement older than `generation` (a transfer or re-issue
/// signed that one): one log entry; the entitlement itself stays valid.
pub fn supersede(tx: &Transaction<'_>, serial: u32, generation: u8, now: i64) -> AppResult<()> {
    append(
        tx,
        RevocationTarget::Superseded { serial, generation },
        RevocationReason::Transferred,
        now,
    )?;
    Ok(())
}

/// Revokes every ticket of a purchase with one log entry naming the purchase tag.
pub fn revoke_purchase(tx: &Transaction<'_>, purchase_id: i64, reason: RevocationReason, now: i64) -> AppResult<()> {
    let tag = purchases::tag(tx, purchase_id)?.ok_or_else(|| AppError::not_found("no such purchase"))?;
    tickets::revoke_valid_tickets_of_purchase(tx, purchase_id, reason.as_str(), now)?;
    let tag = Tag::from_hex(&tag).ok_or_else(|| AppError::internal("stored purchase tag is not hex"))?;
    append(tx, RevocationTarget::Purchase { tag }, reason, now)?;
    Ok(())
}

/// Revokes every ticket of an account (a ban) with one log entry naming the account tag.
pub fn revoke_account(tx: &Transaction<'_>, account_id: i64, reason: RevocationReason, now: i64) -> AppResult<()> {
    let tag = accounts::tag(tx, account_id)?.ok_or_else(|| AppError::not_found("no such account"))?;
    tickets::revoke_valid_tickets_of_account(tx, account_id, reason.as_str(), now)?;
    if let Some(tag) = tag {
        let tag = Tag::from_hex(&tag).ok_or_else(|| AppError::internal("stored account tag is not hex"))?;
        append(tx, RevocationTarget::Account { tag }, reason, now)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Db;
    use crate::store::sql::Connection as S;

    #[test]
    fn the_log_is_gap_free_and_every_page_checks_against_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let _db = Db::open(&dir.path().join("r.sqlite3")).unwrap();
        let mut conn = rusqlite::Connection::open(dir.path().join("r.sqlite3")).unwrap();
        for serial in 1..=5 {
            let tx = conn.transaction().unwrap();
            append(
                &S::sqlite(&tx),
                RevocationTarget::Ticket { serial },
                RevocationReason::Refunded,
                10,
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let full = page_after(&S::sqlite(&conn), 0, 100).unwrap().unwrap();
        let (seq, h) = full.check_continues(0, &GENESIS_HASH).unwrap();
        assert_eq!(seq, 5);
        assert_eq!((seq, h), head(&S::sqlite(&conn)).unwrap());
        let (s3, h3) = page_after(&S::sqlite(&conn), 0, 3)
            .unwrap()
            .unwrap()
            .check_continues(0, &GENESIS_HASH)
            .unwrap();
        let rest = page_after(&S::sqlite(&conn), s3, 100).unwrap().unwrap();
        assert_eq!(rest.check_continues(s3, &h3).unwrap(), (5, h));
        assert!(page_after(&S::sqlite(&conn), 99, 10).unwrap().is_none());
    }

    #[test]
    fn republishing_appends_only_what_the_log_lacks_and_starts_a_newer_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let _db = Db::open(&dir.path().join("r.sqlite3")).unwrap();
        let mut conn = rusqlite::Connection::open(dir.path().join("r.sqlite3")).unwrap();
        let tx = conn.transaction().unwrap();
        let kept = append(
            &S::sqlite(&tx),
            RevocationTarget::Ticket { serial: 1 },
            RevocationReason::Refunded,
            10,
        )
        .unwrap();
        tx.commit().unwrap();
        assert_eq!(epoch(&S::sqlite(&conn)).unwrap(), 0);
        // What a gate knew: the entry the restored log kept, and one it lost.
        let lost = Revocation {
            seq: 2,
            target: RevocationTarget::Purchase { tag: Tag([7; 6]) },
            reason: RevocationReason::Fraud,
            at: 11,
        };
        let tx = conn.transaction().unwrap();
        let r = republish(&S::sqlite(&tx), &[kept, lost], 500).unwrap();
        tx.commit().unwrap();
        assert_eq!((r.appended, r.head, r.epoch), (1, 2, 500));
        let page = page_after(&S::sqlite(&conn), 0, 10).unwrap().unwrap();
        assert_eq!(page.entries[1].target, lost.target);
        assert_eq!(page.entries[1].reason, RevocationReason::Fraud);
        // A second reset in the same second still gets a newer epoch.
        let tx = conn.transaction().unwrap();
        let again = republish(&S::sqlite(&tx), &[kept, lost], 500).unwrap();
        tx.commit().unwrap();
        assert_eq!((again.appended, again.epoch), (0, 501));
        let signer = og_shared::TicketSigner::from_secret_bytes(&[1; 32], og_shared::DeploymentId::parse("t").unwrap());
        let (seq, hash) = head(&S::sqlite(&conn)).unwrap();
        let cp = checkpoint(&S::sqlite(&conn), &signer, seq, hash, 600).unwrap();
        assert_eq!((cp.epoch, cp.seq), (501, 2));
    }
}
