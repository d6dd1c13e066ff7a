//! Scan intake: batches of scan reports from gate devices.
//!
//! Idempotent by nonce: a report already stored with the same content is a duplicate (safe for
//! the gate to drop); the same nonce with other content is refused (`nonce_conflict`). Reports
//! the issuer cannot accept for good (time in the future, event outside the device's scope,
//! missing fields) are refused and recorded in `scan_refusals`, so nothing sent is lost.
//! Admissions and exits also go to the `admissions` log (commit-ordered `seq`) that other gates
//! of the event sync; a ticket admitted more often than its offer admits becomes a conflict.

use std::collections::BTreeSet;

use crate::store::sql::{OptionalExtension, Transaction, params};
use og_shared::Offer;
use og_shared::sync::{Conflict, Direction, RefusedReport, ScanBatch, ScanBatchAck, ScanReport, VerdictCode};
use og_shared::ticket::TicketFlags;
use sha2::{Digest, Sha256};

use super::auth::DeviceAuth;
use crate::error::{AppError, AppResult};

/// How far in the future (issuer clock) a scan time may be before it is refused.
pub const FUTURE_TOLERANCE_SECS: i64 = 300;
/// Most reports in one batch.
pub const MAX_BATCH_REPORTS: usize = 10_000;
/// Longest gate name and reason text kept.
const MAX_GATE_LEN: usize = 64;
const MAX_REASON_LEN: usize = 500;

/// Counts of one intake, for metrics.
#[derive(Debug, Default, Clone, Copy)]
pub struct IntakeCounts {
    pub accepted: u64,
    pub duplicates: u64,
    pub refused: u64,
    pub new_conflicts: u64,
}

/// Checks what can be checked about a batch as a whole (400 when wrong).
pub fn check_batch(batch: &ScanBatch) -> AppResult<()> {
    if batch.reports.len() > MAX_BATCH_REPORTS {
        return Err(AppError::bad_request(
            "batch_too_large",
            format!("at most {MAX_BATCH_REPORTS} reports per batch"),
        ));
    }
    Ok(())
}

fn is_nonce(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn content_hash(device: i64, r: &ScanReport) -> [u8; 32] {
    let body = serde_json::to_vec(r).expect("report serialises");
    Sha256::new()
        .chain_update(device.to_be_bytes())
        .chain_update(&body)
        .finalize()
        .into()
}

fn direction_str(d: Direction) -> &'static str {
    match d {
        Direction::Entry => "entry",
        Direction::Exit => "exit",
    }
}

/// Why a report is refused, if it is.
fn validate(device: &DeviceAuth, r: &ScanReport, now: i64) -> Option<(&'static str, String)> {
    if !is_nonce(&r.nonce) {
        return Some(("bad_nonce", "a nonce is 32 lowercase hex digits".into()));
    }
    if r.scanned_at > now + FUTURE_TOLERANCE_SECS {
        return Some((
            "future_timestamp",
            format!(
                "scan time {} is {} s ahead of the issuer's clock: check the device clock",
                r.scanned_at,
                r.scanned_at - now
            ),
        ));
    }
    if let Some(e) = r.event_id
        && !device.event_ids.contains(&e)
    {
        return Some((
            "event_out_of_scope",
            format!("this device is not enrolled for event {e}"),
        ));
    }
    if r.verdict.lets_through() && (r.event_id.is_none() || r.serial.is_none()) {
        return Some((
            "malformed_report",
            "an admission or exit names its event and ticket serial".into(),
        ));
    }
    if r.gate.trim().is_empty() {
        return Some(("malformed_report", "the gate name is empty".into()));
    }
    None
}

fn refuse(
    tx: &Transaction<'_>,
    device: i64,
    r: &ScanReport,
    hash: &[u8; 32],
    code: &'static str,
    message: String,
    now: i64,
) -> AppResult<RefusedReport> {
    tx.prepare_cached(
        "INSERT INTO scan_refusals (device_id, nonce, content_hash, code, message, report, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
    )?
    .execute(params![
        device,
        r.nonce.chars().take(64).collect::<String>(),
        &hash[..],
        code,
        message,
        serde_json::to_string(r).expect("report serialises"),
        now
    ])?;
    Ok(RefusedReport {
        nonce: r.nonce.clone(),
        code: code.into(),
        message,
    })
}

/// Rechecks a ticket's admissions after a new one; returns whether a conflict was created.
fn check_conflict(tx: &Transaction<'_>, event: u32, serial: u32, fallback: Option<Offer>, now: i64) -> AppResult<bool> {
    let ticket: Option<(String, u8)> = tx
        .prepare_cached("SELECT offer, flags FROM tickets WHERE serial = ?1 AND event_id = ?2")?
        .query_row(params![serial, event], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (offer, reentry) = match &ticket {
        Some((o, f)) => (Offer::from_name(o), TicketFlags(*f).reentry()),
        None => (fallback, false),
    };
    let allowed = offer.map_or(1, Offer::admits);
    let (entries, exits): (i64, i64) = tx
        .prepare_cached(
            "SELECT CAST(COALESCE(SUM(CASE WHEN direction = 'entry' THEN 1 ELSE 0 END), 0) AS BIGINT),
                    CAST(COALESCE(SUM(CASE WHEN direction = 'exit' THEN 1 ELSE 0 END), 0) AS BIGINT)
             FROM admissions WHERE event_id = ?1 AND serial = ?2",
        )?
        .query_row(params![event, serial], |r| Ok((r.get(0)?, r.get(1)?)))?;
    // A re-entry ticket may come back after an exit: count who is inside, not every entry.
    let admitted = if reentry { (entries - exits).max(0) } else { entries };
    if admitted <= i64::from(allowed) {
        return Ok(false);
    }
    let gates: Vec<String> = tx
        .prepare_cached(
            "SELECT DISTINCT gate FROM admissions WHERE event_id = ?1 AND serial = ?2 AND direction = 'entry'
             ORDER BY gate",
        )?
        .query_map(params![event, serial], |r| r.get(0))?
        .collect::<crate::store::sql::Result<_>>()?;
    let existed: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM conflicts WHERE event_id = ?1 AND serial = ?2)")?
        .query_row(params![event, serial], |r| r.get(0))?;
    tx.prepare_cached(
        "INSERT INTO conflicts (event_id, serial, allowed, admitted, gates, detected_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
             ON CONFLICT (event_id, serial) DO UPDATE SET admitted = excluded.admitted, gates = excluded.gates,
                 updated_at = excluded.updated_at",
    )?
    .execute(params![
        event,
        serial,
        allowed,
        admitted,
        serde_json::to_string(&gates).expect("gates serialise"),
        now
    ])?;
    Ok(!existed)
}

/// Stores a batch from `device`. Runs in one write transaction: all or nothing.
pub fn intake(
    tx: &Transaction<'_>,
    device: &DeviceAuth,
    batch: &ScanBatch,
    now: i64,
) -> AppResult<(ScanBatchAck, IntakeCounts)> {
    check_batch(batch)?;
    let mut ack = ScanBatchAck::default();
    let mut counts = IntakeCounts::default();
    let mut touched: BTreeSet<(u32, u32)> = BTreeSet::new();
    let mut next_seq: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM admissions", [], |r| r.get(0))?;
    for r in &batch.reports {
        let hash = content_hash(device.id, r);
        if let Some((code, message)) = validate(device, r, now) {
            ack.refused.push(refuse(tx, device.id, r, &hash, code, message, now)?);
            counts.refused += 1;
            continue;
        }
        let direction = if r.verdict == VerdictCode::Exited {
            Direction::Exit
        } else {
            r.direction
        };
        let gate: String = r.gate.trim().chars().take(MAX_GATE_LEN).collect();
        // Insert first, compare only when the nonce is already there (the rare case).
        let inserted: Option<i64> = tx
            .prepare_cached(
                "INSERT INTO scans (nonce, device_id, content_hash, scanned_at, received_at, verdict, reason, event_id,
                                    serial, offer, admitted_index, gate, zone, direction, offline, generation)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
                 ON CONFLICT (nonce) DO NOTHING RETURNING id",
            )?
            .query_row(
                params![
                    r.nonce,
                    device.id,
                    &hash[..],
                    r.scanned_at,
                    now,
                    r.verdict.as_str(),
                    r.reason.chars().take(MAX_REASON_LEN).collect::<String>(),
                    r.event_id,
                    r.serial,
                    r.offer.map(Offer::name),
                    r.admitted_index,
                    gate,
                    r.zone,
                    direction_str(direction),
                    r.offline,
                    r.generation
                ],
                |row| row.get(0),
            )
            .optional()?;
        let Some(scan_id) = inserted else {
            let h: Vec<u8> = tx
                .prepare_cached("SELECT content_hash FROM scans WHERE nonce = ?1")?
                .query_row([&r.nonce], |row| row.get(0))?;
            if h == hash {
                ack.duplicates.push(r.nonce.clone());
                counts.duplicates += 1;
            } else {
                let msg = "this nonce was already reported with other content".to_owned();
                ack.refused
                    .push(refuse(tx, device.id, r, &hash, "nonce_conflict", msg, now)?);
                counts.refused += 1;
            }
            continue;
        };
        counts.accepted += 1;
        ack.accepted.push(r.nonce.clone());
        if let (true, Some(event), Some(serial)) = (r.verdict.lets_through(), r.event_id, r.serial) {
            tx.prepare_cached(
                "INSERT INTO admissions (seq, scan_id, event_id, serial, device_id, gate, admitted_at, direction, generation)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                next_seq,
                scan_id,
                event,
                serial,
                device.id,
                gate,
                r.scanned_at,
                direction_str(direction),
                r.generation
            ])?;
            next_seq += 1;
            touched.insert((event, serial));
            if direction == Direction::Entry && check_conflict(tx, event, serial, r.offer, now)? {
                counts.new_conflicts += 1;
            }
        }
    }
    for (event, serial) in touched {
        let c: Option<Conflict> = tx
            .prepare_cached(
                "SELECT event_id, serial, allowed, admitted, gates, detected_at FROM conflicts
                 WHERE event_id = ?1 AND serial = ?2",
            )?
            .query_row(params![event, serial], super::sync::conflict_from_row)
            .optional()?;
        ack.conflicts.extend(c);
    }
    tx.prepare_cached("UPDATE devices SET last_contact = ?2, queued = ?3, software_version = ?4 WHERE id = ?1")?
        .execute(params![
            device.id,
            now,
            batch.queued.saturating_sub(batch.reports.len() as u64) as i64,
            batch.software_version.chars().take(64).collect::<String>()
        ])?;
    Ok((ack, counts))
}
