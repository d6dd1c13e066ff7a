//! An event's day at a glance (the console's event dashboard): the gates serving it with their
//! devices' health, people admitted against people holding tickets, entries per gate per minute
//! and the conflicts to act on.

use og_shared::sync::Conflict;

use crate::error::{AppError, AppResult};
use crate::gates::devices::DeviceView;
use crate::ops::catalogue::EventRow;
use crate::ops::metrics::GateMinute;
use crate::store::sql::Connection;
use crate::store::{refunds_due, scans, tickets};

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
    let mut out: Vec<OfferSales> = tickets::sales_by_offer(conn, event)?
        .into_iter()
        .map(|s| OfferSales {
            offer: s.offer,
            tickets: s.tickets,
            valid: s.valid,
            revenue_cents: s.revenue_cents,
            refunds_cents: 0,
        })
        .collect();
    for (offer, cents) in refunds_due::amounts_by_offer(conn, event)? {
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
    let offers = og_shared::Offer::ALL.map(|o| (o.name(), o.admits()));
    let sold_people = tickets::people_of_valid_tickets(conn, event, offers)?;
    let admitted_people = scans::entries_of_event(conn, event)?;
    let refused_scans = scans::refused_of_event(conn, event)?;
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
