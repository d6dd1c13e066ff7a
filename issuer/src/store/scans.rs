//! The queries of what gates report: `scans` (every report stored, unique by nonce),
//! `scan_refusals` (reports refused for good, kept), the `admissions` log (commit-ordered `seq`,
//! synced by the other gates of an event) and `conflicts` (tickets admitted more often than they
//! allow). The rules that call them (validation, duplicates and nonce conflicts, the order of
//! inserts, the admissions log's lock, what counts as a conflict) are in `gates::intake`; what a
//! gate pulls is read for `gates::sync`. Operators read them too: a ticket's scans for its story
//! (`ops::search`), an event's entries and refusals (`ops::dashboard`), scans per gate per minute
//! and the count of conflicts (`ops::metrics`), the CSV export a page at a time (`ops::export`).
//! The shop reads a ticket's entries in the log: how many for the lifecycle's rules
//! (`shop::entitlements`), which gates and when for the ticket's page (`shop::orders`).
//!
//! Several rows go in one statement (a round trip each on PostgreSQL): [`insert_scans`] and
//! [`insert_admissions`] write at most `ROWS_PER_STATEMENT` rows a statement, and the reads of
//! "this event and these serials" take the chunks [`by_event`] makes.

use std::collections::BTreeMap;

use super::sql::{Connection, Result, ToSql, Transaction, Value, params};

/// Rows per multi-row statement of an intake (a round trip each on PostgreSQL; at most 16
/// values a row, far below both engines' parameter limits).
const ROWS_PER_STATEMENT: usize = 50;

/// `(?a, ?b, ...), (...)`: placeholders for `rows` rows of `width` values, numbered from 1.
fn tuples(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|i| {
            let cells: Vec<String> = (1..=width).map(|k| format!("?{}", i * width + k)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The (event, serial) pairs grouped by event, in chunks: each chunk is one
/// `event_id = ?1 AND serial IN (?2, ...)` query, which both engines answer from the
/// (event_id, serial) indexes.
pub fn by_event(keys: impl Iterator<Item = (u32, u32)>) -> Vec<(u32, Vec<u32>)> {
    let mut grouped: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (e, s) in keys {
        grouped.entry(e).or_default().push(s);
    }
    grouped
        .into_iter()
        .flat_map(|(e, serials)| {
            serials
                .chunks(ROWS_PER_STATEMENT)
                .map(|c| (e, c.to_vec()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `?2, ?3, ...` for `n` serials after the event's `?1`, and the values of the whole query.
fn serial_list(event: u32, serials: &[u32]) -> (String, Vec<Value>) {
    let (marks, mut values) = serials_only(serials, 2);
    values.insert(0, Value::Integer(i64::from(event)));
    (marks, values)
}

/// `?first, ?first+1, ...` for `serials`, and their values.
fn serials_only(serials: &[u32], first: usize) -> (String, Vec<Value>) {
    let marks: Vec<String> = (first..first + serials.len()).map(|i| format!("?{i}")).collect();
    let values = serials.iter().map(|s| Value::Integer(i64::from(*s))).collect();
    (marks.join(", "), values)
}

/// A report refused for good, as kept in `scan_refusals`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewRefusal<'a> {
    pub device_id: i64,
    pub nonce: &'a str,
    pub content_hash: &'a [u8],
    pub code: &'a str,
    pub message: &'a str,
    /// The report as the device sent it (JSON).
    pub report: &'a str,
    pub received_at: i64,
}

/// Keeps a refused report (a second copy of the same refusal is not kept again).
pub fn insert_refusal(tx: &Transaction<'_>, r: &NewRefusal<'_>) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO scan_refusals (device_id, nonce, content_hash, code, message, report, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
    )?
    .execute(params![
        r.device_id,
        r.nonce,
        r.content_hash,
        r.code,
        r.message,
        r.report,
        r.received_at
    ])?;
    Ok(())
}

/// A report to store in `scans`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewScan<'a> {
    pub nonce: &'a str,
    pub device_id: i64,
    pub content_hash: &'a [u8],
    pub scanned_at: i64,
    pub received_at: i64,
    pub verdict: &'a str,
    pub reason: String,
    pub event_id: Option<u32>,
    pub serial: Option<u32>,
    pub offer: Option<&'a str>,
    pub admitted_index: Option<u8>,
    pub gate: &'a str,
    pub zone: Option<u8>,
    /// `entry` or `exit`.
    pub direction: &'a str,
    pub offline: bool,
    pub generation: u8,
}

/// Stores reports, `ROWS_PER_STATEMENT` a statement in the order given; a nonce already stored
/// is not stored again, nor a second report of one nonce in `scans`. Answers the (id, nonce) of
/// each report stored now.
///
/// On PostgreSQL a nonce's unique key makes a second writer of the same nonce wait for the first
/// to commit: callers beside each other give their reports in nonce order, so they never wait
/// in a circle (`gates::intake`).
pub fn insert_scans(tx: &Transaction<'_>, scans: &[NewScan<'_>]) -> Result<Vec<(i64, String)>> {
    let mut stored = Vec::new();
    for chunk in scans.chunks(ROWS_PER_STATEMENT) {
        let values: Vec<Value> = chunk
            .iter()
            .flat_map(|s| {
                [
                    s.nonce.to_value(),
                    s.device_id.to_value(),
                    s.content_hash.to_value(),
                    s.scanned_at.to_value(),
                    s.received_at.to_value(),
                    s.verdict.to_value(),
                    s.reason.to_value(),
                    s.event_id.to_value(),
                    s.serial.to_value(),
                    s.offer.to_value(),
                    s.admitted_index.to_value(),
                    s.gate.to_value(),
                    s.zone.to_value(),
                    s.direction.to_value(),
                    s.offline.to_value(),
                    s.generation.to_value(),
                ]
            })
            .collect();
        let sql = format!(
            "INSERT INTO scans (nonce, device_id, content_hash, scanned_at, received_at, verdict, reason, event_id,
                                serial, offer, admitted_index, gate, zone, direction, offline, generation)
             VALUES {} ON CONFLICT (nonce) DO NOTHING RETURNING id, nonce",
            tuples(chunk.len(), 16)
        );
        stored.extend(tx.query_all(&sql, values, |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?);
    }
    Ok(stored)
}

/// The content hash of the report stored with `nonce` (an error if there is none).
pub fn content_hash(tx: &Transaction<'_>, nonce: &str) -> Result<Vec<u8>> {
    tx.prepare_cached("SELECT content_hash FROM scans WHERE nonce = ?1")?
        .query_row([nonce], |row| row.get(0))
}

/// The last admission seq (0 when none).
pub fn admissions_head(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM admissions", [], |r| {
        r.get::<_, i64>(0)
    })
}

/// The seq the next admission takes. A writer beside others (`WriteScope::Shared`) holds the
/// admissions log's lock (`Connection::lock_log(Log::Admissions)`) from before this read to its
/// commit, so that `seq` stays gap-free and in commit order.
pub fn next_admission_seq(tx: &Transaction<'_>) -> Result<i64> {
    tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM admissions", [], |r| r.get(0))
}

/// An admission (or exit) to append to the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAdmission<'a> {
    pub seq: i64,
    pub scan_id: i64,
    pub event_id: u32,
    pub serial: u32,
    pub device_id: i64,
    pub gate: &'a str,
    pub admitted_at: i64,
    /// `entry` or `exit`.
    pub direction: &'a str,
    pub generation: u8,
}

/// Appends admissions, `ROWS_PER_STATEMENT` a statement in the order given.
pub fn insert_admissions(tx: &Transaction<'_>, admissions: &[NewAdmission<'_>]) -> Result<()> {
    for chunk in admissions.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO admissions (seq, scan_id, event_id, serial, device_id, gate, admitted_at, direction, generation)
             VALUES {}",
            tuples(chunk.len(), 9)
        );
        let values: Vec<Value> = chunk
            .iter()
            .flat_map(|a| {
                [
                    a.seq.to_value(),
                    a.scan_id.to_value(),
                    a.event_id.to_value(),
                    a.serial.to_value(),
                    a.device_id.to_value(),
                    a.gate.to_value(),
                    a.admitted_at.to_value(),
                    a.direction.to_value(),
                    a.generation.to_value(),
                ]
            })
            .collect();
        tx.execute(&sql, values)?;
    }
    Ok(())
}

/// Entries and exits of one ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Passages {
    pub event_id: u32,
    pub serial: u32,
    pub entries: i64,
    pub exits: i64,
}

/// Entries and exits of `serials` (one chunk of [`by_event`]) at `event`; a ticket never
/// admitted has no row.
pub fn passages(tx: &Transaction<'_>, event: u32, serials: &[u32]) -> Result<Vec<Passages>> {
    // By serial only (`admissions_by_ticket` is (serial, event_id)), the event kept below: with
    // `event_id = ?` in the query, PostgreSQL, whose statistics lag behind a log growing all day,
    // took the event as the index condition and read every admission of the event for each
    // statement (migration 14).
    let (marks, values) = serials_only(serials, 1);
    let rows = tx.query_all(
        &format!(
            "SELECT event_id, serial,
                        CAST(SUM(CASE WHEN direction = 'entry' THEN 1 ELSE 0 END) AS BIGINT),
                        CAST(SUM(CASE WHEN direction = 'exit' THEN 1 ELSE 0 END) AS BIGINT)
                 FROM admissions WHERE serial IN ({marks}) GROUP BY event_id, serial"
        ),
        values,
        |r| {
            Ok(Passages {
                event_id: r.get::<_, u32>(0)?,
                serial: r.get::<_, u32>(1)?,
                entries: r.get::<_, i64>(2)?,
                exits: r.get::<_, i64>(3)?,
            })
        },
    )?;
    Ok(rows.into_iter().filter(|p| p.event_id == event).collect())
}

/// The gates a ticket entered through, each once, in name order.
pub fn entry_gates(tx: &Transaction<'_>, event: u32, serial: u32) -> Result<Vec<String>> {
    tx.prepare_cached(
        "SELECT DISTINCT gate FROM admissions WHERE event_id = ?1 AND serial = ?2 AND direction = 'entry'
             ORDER BY gate",
    )?
    .query_map(params![event, serial], |r| r.get(0))?
    .collect::<Result<_>>()
}

/// An admission another gate reported, as gates sync it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub seq: i64,
    pub nonce: String,
    pub event_id: u32,
    pub serial: u32,
    /// The reporting device's public id.
    pub device_id: String,
    pub gate: String,
    pub admitted_at: i64,
    /// `entry` or `exit`.
    pub direction: String,
    pub generation: u8,
}

/// Admissions after `after` on `events`, reported by devices other than `exclude_device`, in
/// `seq` order, at most `limit`.
pub fn admissions_after(
    conn: &Connection,
    events: &[u32],
    exclude_device: i64,
    after: u64,
    limit: usize,
) -> Result<Vec<Admission>> {
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
                Ok(Admission {
                    seq: r.get(0)?,
                    nonce: r.get(1)?,
                    event_id: r.get(2)?,
                    serial: r.get(3)?,
                    device_id: r.get(4)?,
                    gate: r.get(5)?,
                    admitted_at: r.get(6)?,
                    direction: r.get(7)?,
                    generation: r.get(8)?,
                })
            },
        )?
        .collect::<Result<Vec<_>>>()?;
    Ok(rows)
}

/// A `conflicts` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictRow {
    pub event_id: u32,
    pub serial: u32,
    pub allowed: u8,
    pub admitted: u32,
    /// The gates the ticket entered through, a JSON array of names.
    pub gates: String,
    pub detected_at: i64,
}

/// A `conflicts` row selected as (event_id, serial, allowed, admitted, gates, detected_at).
fn conflict_row(r: &super::sql::Row<'_>) -> Result<ConflictRow> {
    Ok(ConflictRow {
        event_id: r.get(0)?,
        serial: r.get(1)?,
        allowed: r.get(2)?,
        admitted: r.get(3)?,
        gates: r.get(4)?,
        detected_at: r.get(5)?,
    })
}

fn ids_json(ids: &[u32]) -> String {
    serde_json::to_string(ids).expect("ids serialise")
}

/// Conflicts on `events` (every event when `None`), last updated first, at most `limit`.
pub fn conflicts(conn: &Connection, events: Option<&[u32]>, limit: usize) -> Result<Vec<ConflictRow>> {
    let sql = format!(
        "SELECT event_id, serial, allowed, admitted, gates, detected_at FROM conflicts
         WHERE {} ORDER BY updated_at DESC, id DESC LIMIT ?2",
        conn.in_json_ids_or_all("event_id", 1)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params![events.map(ids_json), limit as i64], conflict_row)?
        .collect::<Result<Vec<_>>>()?;
    Ok(rows)
}

/// Conflicts of `serials` (one chunk of [`by_event`]) at `event`, in serial order.
pub fn conflicts_of(tx: &Transaction<'_>, event: u32, serials: &[u32]) -> Result<Vec<ConflictRow>> {
    let (marks, values) = serial_list(event, serials);
    let sql = format!(
        "SELECT event_id, serial, allowed, admitted, gates, detected_at FROM conflicts
             WHERE event_id = ?1 AND serial IN ({marks}) ORDER BY serial"
    );
    tx.query_all(&sql, values, conflict_row)
}

/// Whether a ticket already has a conflict.
pub fn conflict_exists(tx: &Transaction<'_>, event: u32, serial: u32) -> Result<bool> {
    tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM conflicts WHERE event_id = ?1 AND serial = ?2)")?
        .query_row(params![event, serial], |r| r.get(0))
}

/// Records a ticket's conflict, detected now, or brings the one it has up to date (how many
/// entered, through which gates: a JSON array of names).
pub fn upsert_conflict(
    tx: &Transaction<'_>,
    event: u32,
    serial: u32,
    allowed: u8,
    admitted: i64,
    gates: &str,
    now: i64,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO conflicts (event_id, serial, allowed, admitted, gates, detected_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
             ON CONFLICT (event_id, serial) DO UPDATE SET admitted = excluded.admitted, gates = excluded.gates,
                 updated_at = excluded.updated_at",
    )?
    .execute(params![event, serial, allowed, admitted, gates, now])?;
    Ok(())
}

/// One scan of a ticket as its story tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfTicket {
    pub scanned_at: i64,
    pub gate: String,
    pub verdict: String,
    pub reason: String,
    pub direction: String,
}

/// The scans of a ticket at its event, oldest first, at most 500.
pub fn of_ticket(conn: &Connection, serial: i64, event_id: i64) -> Result<Vec<OfTicket>> {
    let mut stmt = conn.prepare_cached(
        "SELECT scanned_at, gate, verdict, reason, direction FROM scans WHERE serial = ?1 AND event_id = ?2
         ORDER BY scanned_at, id LIMIT 500",
    )?;
    stmt.query_map(params![serial, event_id], |r| {
        Ok(OfTicket {
            scanned_at: r.get(0)?,
            gate: r.get(1)?,
            verdict: r.get(2)?,
            reason: r.get(3)?,
            direction: r.get(4)?,
        })
    })?
    .collect()
}

/// The entries the admissions log holds for an event (one per person).
pub fn entries_of_event(conn: &Connection, event: u32) -> Result<i64> {
    conn.query_row(
        "SELECT CAST(count(*) AS BIGINT) FROM admissions WHERE event_id = ?1 AND direction = 'entry'",
        [event],
        |r| r.get(0),
    )
}

/// The scans of an event that were refused (neither admitted nor exited).
pub fn refused_of_event(conn: &Connection, event: u32) -> Result<i64> {
    conn.query_row(
        "SELECT CAST(count(*) AS BIGINT) FROM scans WHERE event_id = ?1 AND verdict NOT IN ('admitted', 'exited')",
        [event],
        |r| r.get(0),
    )
}

/// Scans of one gate in one minute: admitted or exited, and refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateMinute {
    pub gate: String,
    /// Start of the minute (Unix seconds, device clock).
    pub minute: i64,
    pub admitted: i64,
    pub refused: i64,
}

/// An event's scans since `since` per gate per minute, by minute then gate.
pub fn per_gate_minute(conn: &Connection, event: u32, since: i64) -> Result<Vec<GateMinute>> {
    let mut stmt = conn.prepare_cached(
        "SELECT gate, (scanned_at / 60) * 60 AS minute,
                CAST(SUM(CASE WHEN verdict IN ('admitted', 'exited') THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN verdict IN ('admitted', 'exited') THEN 0 ELSE 1 END) AS BIGINT)
         FROM scans WHERE event_id = ?1 AND scanned_at >= ?2
         GROUP BY gate, minute ORDER BY minute, gate",
    )?;
    stmt.query_map(params![event, since], |r| {
        Ok(GateMinute {
            gate: r.get(0)?,
            minute: r.get(1)?,
            admitted: r.get(2)?,
            refused: r.get(3)?,
        })
    })?
    .collect()
}

/// How many tickets are in conflict.
pub fn conflicts_count(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT count(*) FROM conflicts", [], |r| r.get(0))
}

/// A scan as the CSV export writes it, with the public id of the device that sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub id: i64,
    pub scanned_at: i64,
    pub received_at: i64,
    pub event_id: Option<i64>,
    pub serial: Option<i64>,
    pub gate: String,
    pub direction: String,
    pub verdict: String,
    pub reason: String,
    pub device: String,
}

/// The scans made in `[from, to)` (device clock) with an id above `after`, by id, at most
/// `limit`.
pub fn export_page(conn: &Connection, after: i64, from: i64, to: i64, limit: i64) -> Result<Vec<Exported>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.scanned_at, s.received_at, s.event_id, s.serial, s.gate, s.direction, s.verdict,
                        s.reason, d.public_id
                 FROM scans s JOIN devices d ON d.id = s.device_id
                 WHERE s.id > ?1 AND s.scanned_at >= ?2 AND s.scanned_at < ?3 ORDER BY s.id LIMIT ?4",
    )?;
    stmt.query_map(params![after, from, to, limit], |r| {
        Ok(Exported {
            id: r.get(0)?,
            scanned_at: r.get(1)?,
            received_at: r.get(2)?,
            event_id: r.get(3)?,
            serial: r.get(4)?,
            gate: r.get(5)?,
            direction: r.get(6)?,
            verdict: r.get(7)?,
            reason: r.get(8)?,
            device: r.get(9)?,
        })
    })?
    .collect()
}

/// How many entries the admissions log holds for a ticket of an event (`shop::entitlements`).
pub fn entries_of_ticket(conn: &Connection, event_id: i64, serial: i64) -> Result<u32> {
    conn.prepare_cached("SELECT count(*) FROM admissions WHERE event_id = ?1 AND serial = ?2 AND direction = 'entry'")?
        .query_row(params![event_id, serial], |r| r.get(0))
}

/// The entries of a ticket of an event in the admissions log, in log order: (gate, when)
/// (`shop::orders`' ticket view).
pub fn entry_gates_and_times(conn: &Connection, event_id: i64, serial: u32) -> Result<Vec<(String, i64)>> {
    conn.prepare_cached(
        "SELECT gate, admitted_at FROM admissions WHERE event_id = ?1 AND serial = ?2 AND direction = 'entry'
             ORDER BY seq",
    )?
    .query_map(params![event_id, serial], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}
