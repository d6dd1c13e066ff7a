//! An event's day at a glance (the console's event dashboard): the gates serving it with their
//! devices' health, people admitted against people holding tickets, entries per gate per minute
//! and the conflicts to act on.

use og_shared::sync::Conflict;

use crate::error::{AppError, AppResult};
use crate::gates::devices::DeviceView;
use crate::ops::catalogue::EventRow;
use crate::ops::metrics::GateMinute;
use crate::store::sql::Connection;

/// How far back the entries chart looks.
pub const CHART_MINUTES: i64 = 60;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Dashboard {
    pub event: EventRow,
    /// Devices enrolled for this event, newest first.
    pub devices: Vec<DeviceView>,
    /// People the event's valid tickets admit.
    pub sold_people: i64,
    /// Entries recorded by the gates (one per person).
    pub admitted_people: i64,
    /// Scans refused at the gates.
    pub refused_scans: i64,
    /// Scans per gate per minute over the last [`CHART_MINUTES`].
    pub minutes: Vec<GateMinute>,
    pub conflicts: Vec<Conflict>,
    /// Sales per offer.
    pub sales: Vec<OfferSales>,
    /// When this was read (issuer clock).
    pub now: i64,
}

/// What one offer of an event sold.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OfferSales {
    pub offer: String,
    /// Tickets issued (paid and complimentary), and how many still valid.
    pub tickets: i64,
    pub valid: i64,
    /// Paid for them (cents), and owed or given back.
    pub revenue_cents: i64,
    pub refunds_cents: i64,
}

fn sales(conn: &Connection, event: u32) -> AppResult<Vec<OfferSales>> {
    let mut out: Vec<OfferSales> = conn
        .prepare_cached(
            "SELECT offer, CAST(count(*) AS BIGINT), CAST(SUM(CASE WHEN status = 'valid' THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(COALESCE(SUM(unit_price_cents), 0) AS BIGINT)
             FROM tickets WHERE event_id = ?1 GROUP BY offer ORDER BY offer",
        )?
        .query_map([event], |r| {
            Ok(OfferSales {
                offer: r.get(0)?,
                tickets: r.get(1)?,
                valid: r.get(2)?,
                revenue_cents: r.get(3)?,
                refunds_cents: 0,
            })
        })?
        .collect::<crate::store::sql::Result<Vec<_>>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT t.offer, CAST(COALESCE(SUM(r.amount_cents), 0) AS BIGINT)
         FROM refunds_due r JOIN tickets t ON t.serial = r.serial WHERE t.event_id = ?1 GROUP BY t.offer",
    )?;
    for row in stmt.query_map([event], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (offer, cents) = row?;
        if let Some(s) = out.iter_mut().find(|s| s.offer == offer) {
            s.refunds_cents = cents;
        }
    }
    Ok(out)
}

/// Reads an event's dashboard.
pub fn dashboard(conn: &Connection, event: u32, now: i64) -> AppResult<Dashboard> {
    let row = crate::ops::catalogue::list_events(conn)?
        .into_iter()
        .find(|e| e.id == event)
        .ok_or_else(|| AppError::not_found(format!("no event {event}")))?;
    let devices = crate::gates::devices::list(conn, now)?
        .into_iter()
        .filter(|d| d.event_ids.contains(&event))
        .collect();
    let sold_people: i64 = conn.query_row(
        "SELECT CAST(COALESCE(SUM(COALESCE(admits, CASE offer WHEN 'solo' THEN 1 WHEN 'duo' THEN 2 ELSE 4 END)), 0) AS BIGINT)
         FROM tickets WHERE event_id = ?1 AND status = 'valid'",
        [event],
        |r| r.get(0),
    )?;
    let admitted_people: i64 = conn.query_row(
        "SELECT CAST(count(*) AS BIGINT) FROM admissions WHERE event_id = ?1 AND direction = 'entry'",
        [event],
        |r| r.get(0),
    )?;
    let refused_scans: i64 = conn.query_row(
        "SELECT CAST(count(*) AS BIGINT) FROM scans WHERE event_id = ?1 AND verdict NOT IN ('admitted', 'exited')",
        [event],
        |r| r.get(0),
    )?;
    let minutes = crate::ops::metrics::gate_minutes(conn, event, now - CHART_MINUTES * 60)?;
    let conflicts = crate::gates::sync::conflicts(conn, Some(&[event]), 100)?;
    Ok(Dashboard {
        event: row,
        devices,
        sold_people,
        admitted_people,
        refused_scans,
        minutes,
        conflicts,
        sales: sales(conn, event)?,
        now,
    })
}
