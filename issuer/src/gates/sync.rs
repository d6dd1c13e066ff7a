//! What a gate device pulls: keys, revocations, admissions at other gates, event facts and
//! conflicts (`GET /api/v1/device/sync`), plus the compact binary revocation pages
//! (`GET /api/v1/device/revocations`).
//!
//! Everything is read in one read transaction (a snapshot on either engine), so an answer is one consistent state.
//! The ETag is derived from that state and the device's cursors (not from the body, which
//! carries the server time), so an unchanged state answers 304 without reading any page.
//!
//! Every answer is signed: the key set with a [`KeySetProof`], the revocations with a
//! checkpoint at the page's end (on a 304, at the head, in the `og-checkpoint` header), so a
//! gate believes nothing a man in the middle wrote (`og_shared::trust`).

use crate::store;
use crate::store::sql::Connection;
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

/// Conflicts on the given events, newest first.
pub fn conflicts(conn: &Connection, events: Option<&[u32]>, limit: usize) -> AppResult<Vec<Conflict>> {
    Ok(store::scans::conflicts(conn, events, limit)?
        .into_iter()
        .map(conflict)
        .collect())
}

/// The last admission seq (0 when none).
pub fn admissions_head(conn: &Connection) -> AppResult<u64> {
    Ok(store::scans::admissions_head(conn)? as u64)
}

/// Admissions after `after` on `events`, reported by devices other than `exclude_device`.
pub fn admissions_after(
    conn: &Connection,
    events: &[u32],
    exclude_device: i64,
    after: u64,
    limit: usize,
) -> AppResult<Vec<AdmissionRecord>> {
    Ok(
        store::scans::admissions_after(conn, events, exclude_device, after, limit)?
            .into_iter()
            .map(|a| AdmissionRecord {
                seq: a.seq as u64,
                nonce: a.nonce,
                event_id: a.event_id,
                serial: a.serial,
                generation: a.generation,
                device_id: a.device_id,
                gate: a.gate,
                admitted_at: a.admitted_at,
                direction: if a.direction == "exit" {
                    Direction::Exit
                } else {
                    Direction::Entry
                },
            })
            .collect(),
    )
}

/// The verifying keys gates must trust.
pub fn keys(conn: &Connection) -> AppResult<Vec<KeyInfo>> {
    Ok(store::signing_keys::all(conn)?
        .into_iter()
        .map(|k| KeyInfo {
            key_id: og_shared::KeyId(k.key_id),
            public_key: k.public_key,
            valid_from: k.valid_from,
            valid_until: k.valid_until,
        })
        .collect())
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
    store::devices::record_sync_contact(
        conn,
        &store::devices::SyncContact {
            device,
            now,
            revocation_cursor: q.revocations_after as i64,
            queued: q.queued as i64,
            software_version: version,
            up_to_date,
            refused,
            // A clock years off is reported as such, not stored as an overflow.
            clock_offset: q.clock_offset.map(|o| o.clamp(-10 * 365 * 86_400, 10 * 365 * 86_400)),
        },
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

/// A conflict as gates and operators see it (the names of its gates unreadable: none).
pub(crate) fn conflict(row: store::scans::ConflictRow) -> Conflict {
    Conflict {
        event_id: row.event_id,
        serial: row.serial,
        allowed: row.allowed,
        admitted: row.admitted,
        gates: serde_json::from_str(&row.gates).unwrap_or_default(),
        detected_at: row.detected_at,
    }
}
