//! What the lifecycle's rules are asked about, read from the database: one entitlement (its
//! state, the entries gates reported, its transfers, whether it was paid for), the rules of an
//! event (dates, deadlines, cancellation), and how many people an offer admits. The rules
//! themselves are pure functions in [`crate::shop::lifecycle`]; every module that asks them
//! (orders, binding) reads their input here, in the caller's transaction.

use crate::store::{self, Connection};
use og_shared::Offer;

use crate::error::{AppError, AppResult};
use crate::shop::lifecycle::{Entitlement, EventRules, TicketState};

/// People an offer of this kind admits (an unknown kind admits one).
pub fn offer_admits(kind: &str) -> u8 {
    Offer::from_name(kind).map(Offer::admits).unwrap_or(1)
}

/// The rules' view of an event's facts as the store reads them.
pub fn rules_from(r: &store::events::Rules<crate::domain::EventStatus>) -> EventRules {
    EventRules {
        cancelled: r.status == crate::domain::EventStatus::Cancelled,
        starts_at: r.starts_at,
        doors_open: r.doors_open,
        doors_close: r.doors_close,
        sales_open_at: r.sales_open_at,
        sales_close_at: r.sales_close_at,
        refund_deadline: r.refund_deadline,
        transfer_deadline: r.transfer_deadline,
    }
}

/// The rules of one event.
pub fn event_rules(conn: &Connection, event_id: i64) -> AppResult<EventRules> {
    store::events::rules(conn, event_id)?
        .as_ref()
        .map(rules_from)
        .ok_or_else(|| AppError::not_found(format!("no event {event_id}")))
}

/// The rules' view of one entitlement and its event, read in the caller's transaction.
pub fn entitlement(conn: &Connection, serial: i64) -> AppResult<(Entitlement, EventRules)> {
    let store::tickets::ForRules {
        event_id,
        offer,
        status,
        revoked_reason: reason,
        generation,
        order_id,
    } = store::tickets::for_rules(conn, serial)?.ok_or_else(|| AppError::not_found(format!("no ticket {serial}")))?;
    let admitted = store::scans::entries_of_ticket(conn, event_id, serial)?;
    let ent = Entitlement {
        state: TicketState::from_columns(&status, reason.as_deref()),
        offer_admits: offer_admits(&offer),
        admitted,
        transfers: generation,
        paid: order_id.is_some(),
    };
    Ok((ent, event_rules(conn, event_id)?))
}
