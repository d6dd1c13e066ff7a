//! What the lifecycle's rules are asked about, read from the database: one entitlement (its
//! state, the entries gates reported, its transfers, whether it was paid for), the rules of an
//! event (dates, deadlines, cancellation), and how many people an offer admits. The rules
//! themselves are pure functions in [`crate::shop::lifecycle`]; every module that asks them
//! (orders, binding) reads their input here, in the caller's transaction.

use crate::store::sql::{Connection, OptionalExtension, params};
use og_shared::Offer;

use crate::error::{AppError, AppResult};
use crate::shop::lifecycle::{Entitlement, EventRules, TicketState};

/// People an offer of this kind admits (an unknown kind admits one).
pub fn offer_admits(kind: &str) -> u8 {
    Offer::from_name(kind).map(Offer::admits).unwrap_or(1)
}

/// The columns every rule needs, in this order from column `at`: starts_at, (capacity, reserved,)
/// status, doors_open, doors_close, sales_open_at, sales_close_at, refund_deadline,
/// transfer_deadline. See [`EVENT_RULES_SELECT`].
pub fn rules_from_row(r: &crate::store::sql::Row<'_>, at: usize) -> crate::store::sql::Result<EventRules> {
    let status: crate::domain::EventStatus = r.get(at + 3)?;
    Ok(EventRules {
        cancelled: status == crate::domain::EventStatus::Cancelled,
        starts_at: r.get(at)?,
        doors_open: r.get(at + 4)?,
        doors_close: r.get(at + 5)?,
        sales_open_at: r.get(at + 6)?,
        sales_close_at: r.get(at + 7)?,
        refund_deadline: r.get(at + 8)?,
        transfer_deadline: r.get(at + 9)?,
    })
}

/// Selects what [`rules_from_row`] reads, from column 0.
const EVENT_RULES_SELECT: &str = "SELECT starts_at, capacity, reserved, status, doors_open, doors_close,
        sales_open_at, sales_close_at, refund_deadline, transfer_deadline FROM events";

/// The rules of one event.
pub fn event_rules(conn: &Connection, event_id: i64) -> AppResult<EventRules> {
    conn.prepare_cached(&format!("{EVENT_RULES_SELECT} WHERE id = ?1"))?
        .query_row([event_id], |r| rules_from_row(r, 0))
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("no event {event_id}")))
}

/// The rules' view of one entitlement and its event, read in the caller's transaction.
pub fn entitlement(conn: &Connection, serial: i64) -> AppResult<(Entitlement, EventRules)> {
    struct Row {
        event_id: i64,
        offer: String,
        status: String,
        reason: Option<String>,
        generation: u32,
        order_id: Option<i64>,
    }
    let Row {
        event_id,
        offer,
        status,
        reason,
        generation,
        order_id,
    } = conn
        .prepare_cached(
            "SELECT event_id, offer, status, revoked_reason, generation, order_id FROM tickets WHERE serial = ?1",
        )?
        .query_row([serial], |r| {
            Ok(Row {
                event_id: r.get(0)?,
                offer: r.get(1)?,
                status: r.get(2)?,
                reason: r.get(3)?,
                generation: r.get(4)?,
                order_id: r.get(5)?,
            })
        })
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("no ticket {serial}")))?;
    let admitted: u32 = conn
        .prepare_cached("SELECT count(*) FROM admissions WHERE event_id = ?1 AND serial = ?2 AND direction = 'entry'")?
        .query_row(params![event_id, serial], |r| r.get(0))?;
    let ent = Entitlement {
        state: TicketState::from_columns(&status, reason.as_deref()),
        offer_admits: offer_admits(&offer),
        admitted,
        transfers: generation,
        paid: order_id.is_some(),
    };
    Ok((ent, event_rules(conn, event_id)?))
}
