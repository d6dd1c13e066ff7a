//! What a gate device pulls: keys, revocations, admissions at other gates, event facts and
//! conflicts (`GET /api/v1/device/sync`), plus the compact binary revocation pages
//! (`GET /api/v1/device/revocations`).
//!
//! Everything is read in one SQLite read transaction, so an answer is one consistent state.
//! The ETag is derived from that state and the device's cursors (not from the body, which
//! carries the server time), so an unchanged state answers 304 without reading any page.
//!
//! Every answer is signed: the key set with a [`KeySetProof`], the revocations with a
//! checkpoint at the page's end (on a 304, at the head, in the `og-checkpoint` header), so a
//! gate believes nothing a man in the middle wrote (`og_shared::trust`).

use crate::store::sql::{Connection, params};
use og_shared::TicketSigner;
use og_shared::sync::{
    AdmissionRecord, Conflict, Direction, EventFacts, KeyInfo, RevocationPage, SyncQuery, SyncResponse,
};
use og_shared::trust::{KeySetProof, SignedCheckpoint};
use sha2::{Digest, Sha256};

use super::auth::DeviceAuth;
use crate::error::{AppError, AppResult};

/// Most revocations in one JSON sync answer.
pub const REVOCATIONS_PER_PAGE: usize = 10_000;
/// Most admissions in one sync answer.
pub const ADMISSIONS_PER_PAGE: usize = 10_000;
/// Most conflicts in one sync answer (newest first).
pub const CONFLICTS_PER_ANSWER: usize = 1_000;

/// The answer to a sync request.
#[derive(Debug)]
pub enum SyncAnswer {
    NotModified {
        etag: String,
        up_to_date: bool,
        /// The signed checkpoint at the head (the device's copy ends there when it is up to date).
        checkpoint: SignedCheckpoint,
    },
    Fresh {
        body: Box<SyncResponse>,
        etag: String,
        up_to_date: bool,
    },
}

fn reset() -> AppError {
    AppError::conflict(
        "revocations_reset",
        "your revocation cursor is beyond the issuer's log: discard your copy and sync from 0",
    )
}

fn ids_json(ids: &[u32]) -> String {
    serde_json::to_string(ids).expect("ids serialise")
}

/// Conflicts on the given events, newest first.
pub fn conflicts(conn: &Connection, events: Option<&[u32]>, limit: usize) -> AppResult<Vec<Conflict>> {
    let sql = format!(
        "SELECT event_id, serial, allowed, admitted, gates, detected_at FROM conflicts
         WHERE {} ORDER BY updated_at DESC, id DESC LIMIT ?2",
        conn.in_json_ids_or_all("event_id", 1)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params![events.map(ids_json), limit as i64], conflict_from_row)?
        .collect::<crate::store::sql::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The last admission seq (0 when none).
pub fn admissions_head(conn: &Connection) -> AppResult<u64> {
    Ok(conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM admissions", [], |r| {
        r.get::<_, i64>(0)
    })? as u64)
}

/// Admissions after `after` on `events`, reported by devices other than `exclude_device`.
pub fn admissions_after(
    conn: &Connection,
    events: &[u32],
    exclude_device: i64,
    after: u64,
    limit: usize,
) -> AppResult<Vec<AdmissionRecord>> {
    let sql = format!(
        "SELECT a.seq, s.nonce, a.event_id, a.serial, d.public_id, a.gate, a.admitted_at, a.direction, a.generation
         FROM admissions a JOIN scans s ON s.id = a.scan_id JOIN devices d ON d.id = a.device_id
         WHERE a.seq > ?1 AND a.device_id != ?2 AND {}
         ORDER BY a.seq LIMIT ?4",
        conn.in_json_ids_or_all("a.event_id", 3)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(
            params![after as i64, exclude_device, ids_json(events), limit as i64],
            |r| {
                Ok(AdmissionRecord {
                    seq: r.get::<_, i64>(0)? as u64,
                    nonce: r.get(1)?,
                    event_id: r.get(2)?,
                    serial: r.get(3)?,
                    generation: r.get(8)?,
                    device_id: r.get(4)?,
                    gate: r.get(5)?,
                    admitted_at: r.get(6)?,
                    direction: if r.get::<_, String>(7)? == "exit" {
                        Direction::Exit
                    } else {
                        Direction::Entry
                    },
                })
            },
        )?
        .collect::<crate::store::sql::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The verifying keys gates must trust.
pub fn keys(conn: &Connection) -> AppResult<Vec<KeyInfo>> {
    let mut stmt =
        conn.prepare_cached("SELECT key_id, public_key, valid_from, valid_until FROM signing_keys ORDER BY key_id")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(KeyInfo {
                key_id: og_shared::KeyId(r.get(0)?),
                public_key: r.get(1)?,
                valid_from: r.get(2)?,
                valid_until: r.get(3)?,
            })
        })?
        .collect::<crate::store::sql::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The issuer's keys as the gate API uses them.
#[derive(Debug, Clone, Copy)]
pub struct GateSigning<'a> {
    /// Signs checkpoints and the key set.
    pub current: &'a TicketSigner,
    /// Sign the key set too, so gates that trust only a retired key adopt a rotation.
    pub retired: &'a [TicketSigner],
}

/// The issuer's signatures over the key set it publishes.
pub fn key_set_proof(keys: &[KeyInfo], signing: GateSigning<'_>, now: i64) -> AppResult<KeySetProof> {
    let signers: Vec<&TicketSigner> = std::iter::once(signing.current).chain(signing.retired).collect();
    KeySetProof::sign(keys, now, &signers).map_err(AppError::internal)
}

fn parse_hash(hex_hash: &str) -> AppResult<[u8; 32]> {
    let mut h = [0u8; 32];
    hex::decode_to_slice(hex_hash, &mut h).map_err(|_| AppError::internal("a page hash is not hex"))?;
    Ok(h)
}

/// Builds the sync answer for `device` (read-only; the caller records the contact). `events`
/// are the facts of the device's events, read by the caller in the same transaction
/// (`ops::catalogue::event_facts`).
pub fn sync(
    conn: &Connection,
    device: &DeviceAuth,
    events: Vec<EventFacts>,
    q: &SyncQuery,
    if_none_match: Option<&str>,
    signing: GateSigning<'_>,
    now: i64,
) -> AppResult<SyncAnswer> {
    let signer = signing.current;
    // One snapshot: every read of the store runs in one transaction (store::Db::read).
    let (rev_head, rev_hash) = crate::trust::revocation::head(conn)?;
    let epoch = crate::trust::revocation::epoch(conn)?;
    if q.revocations_after > rev_head {
        return Err(reset());
    }
    let adm_head = admissions_head(conn)?;
    let keys = keys(conn)?;
    let conflicts = conflicts(conn, Some(&device.event_ids), CONFLICTS_PER_ANSWER)?;
    let etag = {
        let state = serde_json::to_vec(&(
            device.id,
            q.revocations_after,
            q.admissions_after,
            rev_head,
            hex::encode(rev_hash),
            epoch,
            adm_head,
            &keys,
            &events,
            &conflicts,
        ))
        .expect("state serialises");
        format!("\"{}\"", hex::encode(&Sha256::digest(&state)[..16]))
    };
    if let Some(inm) = if_none_match
        && inm.split(',').any(|t| t.trim().trim_start_matches("W/") == etag)
    {
        return Ok(SyncAnswer::NotModified {
            etag,
            up_to_date: q.revocations_after == rev_head,
            checkpoint: crate::trust::revocation::checkpoint(conn, signer, rev_head, rev_hash, now)?,
        });
    }
    let revocations =
        crate::trust::revocation::page_after(conn, q.revocations_after, REVOCATIONS_PER_PAGE)?.ok_or_else(reset)?;
    let admissions = admissions_after(
        conn,
        &device.event_ids,
        device.id,
        q.admissions_after,
        ADMISSIONS_PER_PAGE,
    )?;
    let admissions_to = if admissions.len() == ADMISSIONS_PER_PAGE {
        admissions.last().map_or(adm_head, |a| a.seq)
    } else {
        adm_head
    };
    let up_to_date = revocations.to_seq == rev_head;
    let checkpoint = crate::trust::revocation::checkpoint(
        conn,
        signer,
        revocations.to_seq,
        parse_hash(&revocations.head_hash)?,
        now,
    )?;
    let keys_proof = key_set_proof(&keys, signing, now)?;
    Ok(SyncAnswer::Fresh {
        body: Box::new(SyncResponse {
            deployment: signer.deployment().clone(),
            server_time: now,
            keys,
            revocations,
            revocations_head: rev_head,
            admissions,
            admissions_to,
            events,
            conflicts,
            keys_proof: Some(keys_proof),
            checkpoint: Some(checkpoint),
        }),
        etag,
        up_to_date,
    })
}

/// Records a device's contact: time, cursor, queue, version (and data freshness), and why it
/// refuses the issuer's answers if it says it does (kept since when while it keeps saying so).
pub fn record_contact(conn: &Connection, device: i64, q: &SyncQuery, up_to_date: bool, now: i64) -> AppResult<()> {
    let version: Option<String> = q.version.as_ref().map(|v| v.chars().take(64).collect());
    let refused: Option<String> = q
        .refused
        .as_ref()
        .map(|v| v.chars().filter(|c| !c.is_control()).take(300).collect());
    conn.execute(
        "UPDATE devices SET last_contact = ?2, revocation_cursor = ?3, queued = ?4,
                software_version = COALESCE(?5, software_version),
                up_to_date_at = CASE WHEN ?6 = 1 AND CAST(?7 AS TEXT) IS NULL THEN ?2 ELSE up_to_date_at END,
                sync_refusal_at = CASE WHEN CAST(?7 AS TEXT) IS NULL THEN NULL
                                       WHEN sync_refusal IS NOT DISTINCT FROM ?7 THEN sync_refusal_at ELSE ?2 END,
                sync_refusal = ?7,
                clock_offset = COALESCE(?8, clock_offset)
         WHERE id = ?1",
        params![
            device,
            now,
            q.revocations_after as i64,
            q.queued as i64,
            version,
            up_to_date,
            refused,
            // A clock years off is reported as such, not stored as an overflow.
            q.clock_offset.map(|o| o.clamp(-10 * 365 * 86_400, 10 * 365 * 86_400))
        ],
    )?;
    Ok(())
}

/// Entries after `after` up to the head, as a page, without recomputing the chain (the stored
/// chain hashes give the base and head). `None` if `after` is beyond the log.
pub fn full_page_after(conn: &Connection, after: u64) -> AppResult<Option<RevocationPage>> {
    // One snapshot: every read of the store runs in one transaction (store::Db::read).
    let Some(base) = crate::trust::revocation::hash_at(conn, after)? else {
        return Ok(None);
    };
    let (head, head_hash) = crate::trust::revocation::head(conn)?;
    let entries = crate::trust::revocation::entries_after(conn, after, None)?;
    Ok(Some(RevocationPage {
        from_seq: after,
        base_hash: hex::encode(base),
        to_seq: head,
        head_hash: hex::encode(head_hash),
        entries,
    }))
}

/// A `conflicts` row selected as (event_id, serial, allowed, admitted, gates, detected_at).
pub(crate) fn conflict_from_row(r: &crate::store::sql::Row<'_>) -> crate::store::sql::Result<Conflict> {
    Ok(Conflict {
        event_id: r.get(0)?,
        serial: r.get(1)?,
        allowed: r.get(2)?,
        admitted: r.get(3)?,
        gates: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
        detected_at: r.get(5)?,
    })
}
