//! Scan intake: batches of scan reports from gate devices.
//!
//! Idempotent by nonce: a report already stored with the same content is a duplicate (safe for
//! the gate to drop); the same nonce with other content is refused (`nonce_conflict`). Reports
//! the issuer cannot accept for good (time in the future, event outside the device's scope,
//! missing fields) are refused and recorded in `scan_refusals`, so nothing sent is lost.
//! Admissions and exits also go to the `admissions` log (commit-ordered `seq`) that other gates
//! of the event sync; a ticket admitted more often than its offer admits becomes a conflict.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::store::sql::Transaction;
use crate::store::{self, Log};
use og_shared::Offer;
use og_shared::sync::{Direction, RefusedReport, ScanBatch, ScanBatchAck, ScanReport, VerdictCode};
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

/// The write scope [`intake`] runs in: beside buyers' writes and other batches, never beside an
/// exclusive writer (it appends to the admissions log under that log's own lock).
pub const WRITE_SCOPE: crate::store::WriteScope = crate::store::WriteScope::Shared;

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
    store::scans::insert_refusal(
        tx,
        &store::scans::NewRefusal {
            device_id: device,
            nonce: &r.nonce.chars().take(64).collect::<String>(),
            content_hash: &hash[..],
            code,
            message: &message,
            report: &serde_json::to_string(r).expect("report serialises"),
            received_at: now,
        },
    )?;
    Ok(RefusedReport {
        nonce: r.nonce.clone(),
        code: code.into(),
        message,
    })
}

/// Where one entitlement stands after a batch: what it allows and how many are inside.
struct Count {
    allowed: u8,
    admitted: i64,
}

/// Entries, exits and what each ticket allows, for every (event, serial) touched by a batch, in
/// a few statements.
fn counts(
    tx: &Transaction<'_>,
    touched: &BTreeMap<(u32, u32), Option<Offer>>,
) -> AppResult<BTreeMap<(u32, u32), Count>> {
    let mut tickets: BTreeMap<(u32, u32), (Option<Offer>, bool)> = BTreeMap::new();
    let mut inside: BTreeMap<(u32, u32), (i64, i64)> = BTreeMap::new();
    for (event, serials) in store::scans::by_event(touched.keys().copied()) {
        // The tickets are found by serial alone: keep those of this event.
        for t in store::tickets::kinds_by_serial(tx, &serials)? {
            if t.event_id == event {
                tickets.insert(
                    (t.event_id, t.serial),
                    (Offer::from_name(&t.offer), TicketFlags(t.flags).reentry()),
                );
            }
        }
        for p in store::scans::passages(tx, event, &serials)? {
            inside.insert((p.event_id, p.serial), (p.entries, p.exits));
        }
    }
    Ok(touched
        .iter()
        .map(|(k, fallback)| {
            let (offer, reentry) = tickets.get(k).copied().unwrap_or((*fallback, false));
            let (entries, exits) = inside.get(k).copied().unwrap_or((0, 0));
            // A re-entry ticket may come back after an exit: count who is inside, not every entry.
            let admitted = if reentry { (entries - exits).max(0) } else { entries };
            (
                *k,
                Count {
                    allowed: offer.map_or(1, Offer::admits),
                    admitted,
                },
            )
        })
        .collect())
}

/// Records (or updates) the conflict of one ticket admitted more than it allows; returns whether
/// it is new.
fn record_conflict(tx: &Transaction<'_>, event: u32, serial: u32, c: &Count, now: i64) -> AppResult<bool> {
    let gates = store::scans::entry_gates(tx, event, serial)?;
    let existed = store::scans::conflict_exists(tx, event, serial)?;
    store::scans::upsert_conflict(
        tx,
        event,
        serial,
        c.allowed,
        c.admitted,
        &serde_json::to_string(&gates).expect("gates serialise"),
        now,
    )?;
    Ok(!existed)
}

/// A report that passed validation, ready to store.
struct Candidate<'a> {
    report: &'a ScanReport,
    hash: [u8; 32],
    direction: Direction,
    gate: String,
}

/// Stores a batch from `device`. Runs in one write transaction (`WriteScope::Shared`: beside
/// other devices' batches on PostgreSQL, the admissions appended under their log's lock): all
/// or nothing. Rows go in a
/// few multi-row statements (each a round trip on PostgreSQL), not one per report.
pub fn intake(
    tx: &Transaction<'_>,
    device: &DeviceAuth,
    batch: &ScanBatch,
    now: i64,
) -> AppResult<(ScanBatchAck, IntakeCounts)> {
    check_batch(batch)?;
    let mut ack = ScanBatchAck::default();
    let mut counts_ = IntakeCounts::default();
    // 1. Validate; refused reports are kept in `scan_refusals` (rare: one statement each).
    let mut candidates = Vec::with_capacity(batch.reports.len());
    let mut outcome: Vec<Option<Result<(), RefusedReport>>> = vec![None; batch.reports.len()];
    for (i, r) in batch.reports.iter().enumerate() {
        let hash = content_hash(device.id, r);
        if let Some((code, message)) = validate(device, r, now) {
            outcome[i] = Some(Err(refuse(tx, device.id, r, &hash, code, message, now)?));
            continue;
        }
        let direction = if r.verdict == VerdictCode::Exited {
            Direction::Exit
        } else {
            r.direction
        };
        let gate: String = r.gate.trim().chars().take(MAX_GATE_LEN).collect();
        candidates.push((
            i,
            Candidate {
                report: r,
                hash,
                direction,
                gate,
            },
        ));
    }
    // 2. Insert the scans; a nonce already stored (or twice in this batch) is not inserted again.
    //    In nonce order: a batch running beside another (PostgreSQL, `WriteScope::Shared`) that
    //    holds some of the same nonces waits for it at the first shared one, never in a circle.
    let mut stored: HashMap<String, i64> = HashMap::new();
    let mut by_nonce: Vec<&(usize, Candidate)> = candidates.iter().collect();
    by_nonce.sort_by(|a, b| a.1.report.nonce.cmp(&b.1.report.nonce));
    let scans: Vec<store::scans::NewScan<'_>> = by_nonce
        .iter()
        .map(|(_, c)| {
            let r = c.report;
            store::scans::NewScan {
                nonce: &r.nonce,
                device_id: device.id,
                content_hash: &c.hash[..],
                scanned_at: r.scanned_at,
                received_at: now,
                verdict: r.verdict.as_str(),
                reason: r.reason.chars().take(MAX_REASON_LEN).collect(),
                event_id: r.event_id,
                serial: r.serial,
                offer: r.offer.map(Offer::name),
                admitted_index: r.admitted_index,
                gate: &c.gate,
                zone: r.zone,
                direction: direction_str(c.direction),
                offline: r.offline,
                generation: r.generation,
            }
        })
        .collect();
    for (id, nonce) in store::scans::insert_scans(tx, &scans)? {
        stored.insert(nonce, id);
    }
    // 3. In the batch's order: the first report of each newly stored nonce is accepted; any other
    //    is a duplicate (same content) or a nonce conflict (refused and kept).
    //    The admissions log's lock from here to the commit: `seq` in commit order, and the
    //    counts below see every batch committed before this one.
    tx.lock_log(Log::Admissions)?;
    // Every statement below looks rows up by key (nonce, serial, sequence, device).
    tx.plan_as_key_lookups()?;
    let mut next_seq = store::scans::next_admission_seq(tx)?;
    let mut admissions: Vec<store::scans::NewAdmission<'_>> = Vec::new();
    let mut touched: BTreeMap<(u32, u32), Option<Offer>> = BTreeMap::new();
    let mut entered: BTreeSet<(u32, u32)> = BTreeSet::new();
    for (i, c) in &candidates {
        let r = c.report;
        let Some(scan_id) = stored.remove(&r.nonce) else {
            let h = store::scans::content_hash(tx, &r.nonce)?;
            outcome[*i] = Some(if h == c.hash {
                Ok(())
            } else {
                let msg = "this nonce was already reported with other content".to_owned();
                Err(refuse(tx, device.id, r, &c.hash, "nonce_conflict", msg, now)?)
            });
            if h == c.hash {
                ack.duplicates.push(r.nonce.clone());
                counts_.duplicates += 1;
            }
            continue;
        };
        counts_.accepted += 1;
        ack.accepted.push(r.nonce.clone());
        if let (true, Some(event), Some(serial)) = (r.verdict.lets_through(), r.event_id, r.serial) {
            admissions.push(store::scans::NewAdmission {
                seq: next_seq,
                scan_id,
                event_id: event,
                serial,
                device_id: device.id,
                gate: &c.gate,
                admitted_at: r.scanned_at,
                direction: direction_str(c.direction),
                generation: r.generation,
            });
            next_seq += 1;
            touched.insert((event, serial), r.offer);
            if c.direction == Direction::Entry {
                entered.insert((event, serial));
            }
        }
    }
    for o in outcome {
        if let Some(Err(refused)) = o {
            ack.refused.push(refused);
            counts_.refused += 1;
        }
    }
    // 4. The admissions, in the batch's order (commit-ordered `seq`).
    store::scans::insert_admissions(tx, &admissions)?;
    // 5. Conflicts: tickets entered more often than they allow.
    let counted = counts(tx, &touched)?;
    for key in &entered {
        if let Some(c) = counted.get(key)
            && c.admitted > i64::from(c.allowed)
            && record_conflict(tx, key.0, key.1, c, now)?
        {
            counts_.new_conflicts += 1;
        }
    }
    for (event, serials) in store::scans::by_event(touched.keys().copied()) {
        ack.conflicts.extend(
            store::scans::conflicts_of(tx, event, &serials)?
                .into_iter()
                .map(super::sync::conflict),
        );
    }
    store::devices::record_batch_contact(
        tx,
        device.id,
        now,
        batch.queued.saturating_sub(batch.reports.len() as u64) as i64,
        &batch.software_version.chars().take(64).collect::<String>(),
    )?;
    Ok((ack, counts_))
}
