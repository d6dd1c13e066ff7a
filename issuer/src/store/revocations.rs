//! The queries of the revocation log (`revocations`, `revocation_resets`). The rules (the hash
//! chain, which tickets a target covers, when an entry is appended) are in `trust::revocation`;
//! it calls these inside the write transaction whose commit order is the log's order (the
//! ticket states a revocation changes are in `store::tickets`). Operators read a ticket's entries
//! for its story (`ops::search`).

use og_shared::sync::{Revocation, RevocationReason, RevocationTarget};
use og_shared::ticket::Tag;

use super::sql::{Connection, OptionalExtension, Result, Row, params};

/// The last entry's (seq, chain hash), if the log has one.
pub fn head(conn: &Connection) -> Result<Option<(i64, Vec<u8>)>> {
    conn.query_row(
        "SELECT seq, chain_hash FROM revocations ORDER BY seq DESC LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// The chain hash stored with entry `seq`, if there is one.
pub fn chain_hash_at(conn: &Connection, seq: i64) -> Result<Option<Vec<u8>>> {
    conn.query_row("SELECT chain_hash FROM revocations WHERE seq = ?1", [seq], |r| r.get(0))
        .optional()
}

/// Stores `entry` with the chain hash after it.
pub fn insert(tx: &Connection, entry: &Revocation, hash: &[u8; 32]) -> Result<()> {
    let (kind, serial, generation, tag): (&str, Option<u32>, Option<u8>, Option<String>) = match entry.target {
        RevocationTarget::Ticket { serial } => ("ticket", Some(serial), None, None),
        RevocationTarget::Purchase { tag } => ("purchase", None, None, Some(tag.to_hex())),
        RevocationTarget::Account { tag } => ("account", None, None, Some(tag.to_hex())),
        RevocationTarget::Superseded { serial, generation } => ("superseded", Some(serial), Some(generation), None),
        RevocationTarget::DeviceKey { serial, key_tag } => ("device_key", Some(serial), None, Some(key_tag.to_hex())),
    };
    tx.execute(
        "INSERT INTO revocations (seq, kind, serial, generation, tag, reason, at, chain_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            entry.seq as i64,
            kind,
            serial,
            generation,
            tag,
            entry.reason.as_str(),
            entry.at,
            &hash[..]
        ],
    )?;
    Ok(())
}

fn row_to_revocation(r: &Row<'_>) -> Result<Revocation> {
    let seq: i64 = r.get(0)?;
    let kind: String = r.get(1)?;
    let serial: Option<u32> = r.get(2)?;
    let tag: Option<String> = r.get(3)?;
    let reason: String = r.get(4)?;
    let at: i64 = r.get(5)?;
    let generation: Option<u8> = r.get(6)?;
    let bad = || super::sql::Error::conversion(3, "a ticket revocation needs a serial, the others a tag");
    let target = match kind.as_str() {
        "ticket" => RevocationTarget::Ticket {
            serial: serial.ok_or_else(bad)?,
        },
        "superseded" => RevocationTarget::Superseded {
            serial: serial.ok_or_else(bad)?,
            generation: generation.ok_or_else(bad)?,
        },
        "device_key" => RevocationTarget::DeviceKey {
            serial: serial.ok_or_else(bad)?,
            key_tag: tag.as_deref().and_then(Tag::from_hex).ok_or_else(bad)?,
        },
        "purchase" => RevocationTarget::Purchase {
            tag: tag.as_deref().and_then(Tag::from_hex).ok_or_else(bad)?,
        },
        _ => RevocationTarget::Account {
            tag: tag.as_deref().and_then(Tag::from_hex).ok_or_else(bad)?,
        },
    };
    Ok(Revocation {
        seq: seq as u64,
        target,
        reason: RevocationReason::from_name(&reason).unwrap_or(RevocationReason::Other),
        at,
    })
}

/// Entries after `after`, in order, at most `limit` of them. The one query that reads the log.
pub fn entries_after(conn: &Connection, after: i64, limit: i64) -> Result<Vec<Revocation>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, kind, serial, tag, reason, at, generation FROM revocations WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    stmt.query_map(params![after, limit], row_to_revocation)?
        .collect::<Result<Vec<_>>>()
}

/// The epoch of the last reset (0 when the log was never reset).
pub fn epoch(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT COALESCE(MAX(epoch), 0) FROM revocation_resets", [], |r| {
        r.get(0)
    })
}

/// Records a reset of the log (a republish after a restore).
pub fn insert_reset(tx: &Connection, epoch: i64, head_before: i64, republished: i64, now: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO revocation_resets (epoch, head_before, republished, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![epoch, head_before, republished, now],
    )?;
    Ok(())
}

/// An entry about one ticket as its story tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfTicket {
    /// `ticket`, `superseded`, `device_key`, ...
    pub kind: String,
    pub generation: Option<i64>,
    pub tag: Option<String>,
    pub reason: String,
    pub at: i64,
    pub seq: i64,
}

/// The entries naming the ticket with this serial, in log order.
pub fn of_ticket(conn: &Connection, serial: i64) -> Result<Vec<OfTicket>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, generation, tag, reason, at, seq FROM revocations WHERE serial = ?1 ORDER BY seq",
    )?;
    stmt.query_map([serial], |r| {
        Ok(OfTicket {
            kind: r.get(0)?,
            generation: r.get(1)?,
            tag: r.get(2)?,
            reason: r.get(3)?,
            at: r.get(4)?,
            seq: r.get(5)?,
        })
    })?
    .collect()
}
