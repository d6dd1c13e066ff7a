//! Counters for `/metrics` (Prometheus text format): plain atomics, cheap enough to bump on
//! every request.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::AppResult;
use crate::store::sql::Connection;
use crate::store::{devices, scans};

/// Process-wide counters of the gate-operations side (reset when the issuer restarts, as
/// Prometheus counters may be).
#[derive(Debug, Default)]
pub struct OpsMetrics {
    pub http_requests: AtomicU64,
    pub sync_full: AtomicU64,
    pub sync_not_modified: AtomicU64,
    pub sync_reset: AtomicU64,
    pub revocation_snapshots: AtomicU64,
    pub scans_received: AtomicU64,
    pub scans_accepted: AtomicU64,
    pub scans_duplicate: AtomicU64,
    pub scans_refused: AtomicU64,
    pub conflicts_detected: AtomicU64,
    pub enrolments: AtomicU64,
}

impl OpsMetrics {
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    /// Renders the counters plus the given gauges in the Prometheus text exposition format.
    pub fn render(&self, gauges: &[(&str, &str, i64)]) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let counters: [(&str, &str, &AtomicU64, Option<&str>); 11] = [
            (
                "og_http_requests_total",
                "HTTP requests served",
                &self.http_requests,
                None,
            ),
            (
                "og_sync_answers_total",
                "Device sync answers by result",
                &self.sync_full,
                Some("result=\"ok\""),
            ),
            (
                "og_sync_answers_total",
                "",
                &self.sync_not_modified,
                Some("result=\"not_modified\""),
            ),
            ("og_sync_answers_total", "", &self.sync_reset, Some("result=\"reset\"")),
            (
                "og_revocation_snapshots_total",
                "Binary revocation pages served",
                &self.revocation_snapshots,
                None,
            ),
            (
                "og_scans_received_total",
                "Scan reports received from devices",
                &self.scans_received,
                None,
            ),
            (
                "og_scans_stored_total",
                "Scan reports by intake result",
                &self.scans_accepted,
                Some("result=\"accepted\""),
            ),
            (
                "og_scans_stored_total",
                "",
                &self.scans_duplicate,
                Some("result=\"duplicate\""),
            ),
            (
                "og_scans_stored_total",
                "",
                &self.scans_refused,
                Some("result=\"refused\""),
            ),
            (
                "og_conflicts_detected_total",
                "Tickets found admitted more often than they admit",
                &self.conflicts_detected,
                None,
            ),
            ("og_device_enrolments_total", "Devices enrolled", &self.enrolments, None),
        ];
        for (name, help, c, labels) in counters {
            if !help.is_empty() {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            }
            let v = c.load(Ordering::Relaxed);
            match labels {
                Some(l) => {
                    let _ = writeln!(out, "{name}{{{l}}} {v}");
                }
                None => {
                    let _ = writeln!(out, "{name} {v}");
                }
            }
        }
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        out
    }
}

/// Scans of one gate in one minute.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct GateMinute {
    pub gate: String,
    /// Start of the minute (Unix seconds, device clock).
    pub minute: i64,
    pub admitted: u64,
    pub refused: u64,
}

/// Scans per gate per minute for an event since `since`.
pub fn gate_minutes(conn: &Connection, event: u32, since: i64) -> AppResult<Vec<GateMinute>> {
    Ok(scans::per_gate_minute(conn, event, since)?
        .into_iter()
        .map(|m| GateMinute {
            gate: m.gate,
            minute: m.minute,
            admitted: m.admitted as u64,
            refused: m.refused as u64,
        })
        .collect())
}

/// The gauges `/metrics` reads from the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gauges {
    /// Tickets currently in conflict.
    pub conflicts: i64,
    /// Enrolled, unrevoked gate devices.
    pub devices: i64,
    pub revocations_head: i64,
    pub admissions_head: i64,
    /// Mails queued and not yet taken by the mail server.
    pub mails_waiting: i64,
    /// Seconds the oldest of them has waited (0 when none waits).
    pub oldest_mail_age: i64,
}

/// Reads the gauges at `now`.
pub fn gauges(c: &Connection, now: i64) -> AppResult<Gauges> {
    let conflicts = scans::conflicts_count(c)?;
    let devices = devices::active_count(c)?;
    let (mails_waiting, oldest) = crate::store::mail_outbox::waiting(c)?;
    Ok(Gauges {
        conflicts,
        devices,
        revocations_head: crate::trust::revocation::head(c)?.0 as i64,
        admissions_head: crate::gates::sync::admissions_head(c)? as i64,
        mails_waiting,
        oldest_mail_age: oldest.map_or(0, |q| (now - q).max(0)),
    })
}
