//! Refunds due: money the issuer owes back, kept until an operator settles it.
//!
//! Every refund, whoever starts it, is a row here written in the same transaction as the
//! revocation it goes with: a buyer's refund (one row per ticket), an operator's decision (one
//! row per ticket, with who and why), the tickets of an event an operator cancels (one row per
//! paid ticket still valid), and, with no ticket to name, a payment that arrives after its order
//! was closed or for an event cancelled while the buyer paid (one row per order). A ticket's
//! money is owed back at most once (a unique index on the serial). The built-in payment
//! processor has no refund call, so the refund itself is made outside (the provider's
//! dashboard) and marked settled here.

use crate::store::refunds_due;
use crate::store::sql::{Connection, Transaction};
use crate::tr;
use serde::Serialize;

use crate::error::{AppError, AppResult};

/// Why money must be given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefundReason {
    /// The payment arrived after the order was closed.
    OrderClosed,
    /// The order's event was cancelled.
    EventCancelled,
    /// The buyer refunded the order (before the deadline, nothing used or transferred).
    BuyerRefund,
    /// An operator decided to refund a ticket (recorded with who and why).
    OperatorDecision,
}

impl RefundReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundReason::OrderClosed => "order_closed",
            RefundReason::EventCancelled => "event_cancelled",
            RefundReason::BuyerRefund => "buyer_refund",
            RefundReason::OperatorDecision => "operator_decision",
        }
    }
}

/// One refund to make, as operators see it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct RefundDue {
    pub id: i64,
    pub order_id: i64,
    /// The ticket refunded (None: a payment with no ticket).
    #[serde(default)]
    pub serial: Option<u32>,
    pub buyer_email: String,
    /// The language the buyer chose (mails to them are written in it).
    #[serde(default, skip_serializing)]
    pub buyer_language: Option<String>,
    /// The buyer's account (mails to them are deleted with it while they wait).
    #[serde(default, skip_serializing)]
    pub buyer_account: Option<i64>,
    pub reason: String,
    /// For an operator's decision: who decided, and why.
    #[serde(default)]
    pub decided_by: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    pub amount_cents: i64,
    pub created_at: i64,
    pub settled_at: Option<i64>,
}

/// Records a refund due for a whole order that has no ticket to name (once per order and
/// reason; a second call changes nothing). Returns the new row, or `None` if it was recorded
/// before.
pub fn record(
    tx: &Transaction<'_>,
    order_id: i64,
    reason: RefundReason,
    amount_cents: i64,
    now: i64,
) -> AppResult<Option<RefundDue>> {
    let id = refunds_due::insert_for_order(tx, order_id, reason.as_str(), amount_cents.max(0), now)?;
    let Some(id) = id else {
        return Ok(None);
    };
    Ok(Some(refunds_due::by_id(tx, id)?.into()))
}

/// Records the refund due for one ticket (at most once per ticket, whoever asks: a second call
/// changes nothing and returns `None`). `decision` is the operator and their reason.
pub fn record_for_ticket(
    tx: &Transaction<'_>,
    order_id: i64,
    serial: u32,
    reason: RefundReason,
    amount_cents: i64,
    decision: Option<(i64, &str)>,
    now: i64,
) -> AppResult<Option<RefundDue>> {
    let id = refunds_due::insert_for_ticket(
        tx,
        &refunds_due::NewForTicket {
            order_id,
            serial,
            reason: reason.as_str(),
            amount_cents: amount_cents.max(0),
            created_at: now,
            decided_by: decision.map(|d| d.0),
            note: decision.map(|d| d.1),
        },
    )?;
    let Some(id) = id else {
        return Ok(None);
    };
    Ok(Some(refunds_due::by_id(tx, id)?.into()))
}

/// Records a refund for every paid ticket of `event_id` that is still valid (run before the
/// cancellation revokes them). Returns the refunds recorded now (not those recorded before).
pub fn record_for_cancelled_event(tx: &Transaction<'_>, event_id: u32, now: i64) -> AppResult<Vec<RefundDue>> {
    let tickets = crate::store::tickets::valid_paid_of_event(tx, event_id)?;
    let mut recorded = Vec::new();
    for (order_id, serial, amount) in tickets {
        recorded.extend(record_for_ticket(
            tx,
            order_id,
            serial,
            RefundReason::EventCancelled,
            amount,
            None,
            now,
        )?);
    }
    Ok(recorded)
}

/// Queues, in the transaction that recorded the refund, the mail telling the buyer that a payment
/// arrived for an order that could not be honoured and will be refunded (in their language).
pub fn queue_payment_refused(
    tx: &Transaction<'_>,
    state: &crate::shop::Services,
    r: &RefundDue,
    now: i64,
) -> AppResult<()> {
    let l = crate::shop::mail::mail_language(state, r.buyer_language.as_deref());
    let why = if r.reason == RefundReason::EventCancelled.as_str() {
        "event-cancelled"
    } else {
        "order-expired"
    };
    crate::shop::mail::queue_framed(
        tx,
        r.buyer_account,
        l,
        crate::shop::mail::Mail {
            to: r.buyer_email.clone(),
            subject: tr!(l, "mail-payment-refused-subject", order = r.order_id),
            body: tr!(
                l,
                "mail-payment-refused-body",
                order = r.order_id,
                why = why,
                amount = amount(l, r.amount_cents)
            ),
        },
        now,
    )
}

/// An amount as mails write it: `45.00 EUR`, `45,00 EUR`.
fn amount(l: crate::i18n::Lang, cents: i64) -> String {
    tr!(
        l,
        "mail-amount",
        units = format!("{}", cents / 100),
        cents = format!("{:02}", cents % 100)
    )
}

/// Queues, in the transaction that cancels the event, one mail per order telling its buyer that
/// the event is cancelled, their tickets no longer work and the money is owed back (each in the
/// buyer's language, the start local to the venue; a failing mail server changes nothing here).
#[allow(clippy::too_many_arguments)]
pub fn queue_event_cancelled(
    tx: &Transaction<'_>,
    state: &crate::shop::Services,
    event: &str,
    starts_at: i64,
    time_zone: &str,
    refunds: &[RefundDue],
    now: i64,
) -> AppResult<()> {
    // One mail per order, for the sum of its tickets.
    let mut per_order: std::collections::BTreeMap<i64, RefundDue> = std::collections::BTreeMap::new();
    for r in refunds {
        per_order
            .entry(r.order_id)
            .and_modify(|o| o.amount_cents += r.amount_cents)
            .or_insert_with(|| r.clone());
    }
    for r in per_order.values() {
        let l = crate::shop::mail::mail_language(state, r.buyer_language.as_deref());
        crate::shop::mail::queue_framed(
            tx,
            r.buyer_account,
            l,
            crate::shop::mail::Mail {
                to: r.buyer_email.clone(),
                subject: tr!(l, "mail-event-cancelled-subject", event = event),
                body: tr!(
                    l,
                    "mail-event-cancelled-body",
                    event = event,
                    starts = l.datetime(starts_at, time_zone),
                    amount = amount(l, r.amount_cents),
                    order = r.order_id
                ),
            },
            now,
        )?;
    }
    Ok(())
}

impl From<refunds_due::Due> for RefundDue {
    fn from(d: refunds_due::Due) -> RefundDue {
        RefundDue {
            id: d.id,
            order_id: d.order_id,
            serial: d.serial,
            buyer_email: d.buyer_email,
            buyer_language: d.buyer_language,
            buyer_account: Some(d.buyer_account_id),
            reason: d.reason,
            decided_by: d.decided_by,
            note: d.note,
            amount_cents: d.amount_cents,
            created_at: d.created_at,
            settled_at: d.settled_at,
        }
    }
}

/// Refunds still to make, oldest first (or every refund, settled too, with `all`).
pub fn list(conn: &Connection, all: bool) -> AppResult<Vec<RefundDue>> {
    Ok(refunds_due::list(conn, all)?.into_iter().map(RefundDue::from).collect())
}

/// The refund owed for one ticket, if any.
pub fn for_ticket(conn: &Connection, serial: i64) -> AppResult<Option<RefundDue>> {
    Ok(refunds_due::for_serial(conn, serial)?.map(RefundDue::from))
}

/// Marks a refund made. 404 if unknown, 409 if already settled.
pub fn settle(tx: &Transaction<'_>, id: i64, operator: i64, now: i64) -> AppResult<RefundDue> {
    let settled = refunds_due::settled_at(tx, id)?;
    match settled {
        None => return Err(AppError::not_found(format!("no refund {id}"))),
        Some(Some(_)) => return Err(AppError::conflict("already_settled", "this refund is already settled")),
        Some(None) => {}
    }
    refunds_due::settle(tx, id, now, operator)?;
    Ok(refunds_due::by_id(tx, id)?.into())
}
