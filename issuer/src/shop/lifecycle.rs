//! The ticket lifecycle: what may happen to an entitlement and to an event's sale, and when.
//!
//! An *entitlement* is what a buyer paid for: one offer (Solo, Duo, Family) of one event,
//! admitting N people. It is a row of `tickets`, named by its serial, and keeps that identity
//! through transfers and re-issues; each of those signs a new *code* (generation + 1) for what
//! is left of it and supersedes the older codes (see `og_shared::ticket`).
//!
//! Every rule about refunds, transfers and sales lives here, as pure functions of
//! (entitlement state, event rules, now). The shop API, the HTML pages and the operator routes
//! all ask these functions, both to show what is possible (buttons, deadlines) and to decide
//! (inside the write transaction that acts), so a rule is never written twice.
//!
//! The defaults, when an event sets nothing:
//! * sales open when the event is published and close when its doors close;
//! * a buyer may refund until the doors open, never after an admission, never after a transfer;
//! * a ticket may be given to someone until the doors open, only while admissions are left;
//! * an operator may refund any entitlement that is not refunded or cancelled already (recorded
//!   with who and why);
//! * a cancelled event is off sale and its entitlements are cancelled (refund due);
//! * a holder may bind the ticket to a phone, and bind it again from another phone up to a
//!   configured number of times (default 3); each rebinding and each transfer revokes the
//!   previous phone's key (the recipient binds their own); binding the same phone again is free;
//! * an event that requires the phone shows no static code to a holder without a paper exception.

use og_shared::sync::RevocationReason;
use serde::Serialize;

use crate::error::AppError;

/// Where an entitlement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum TicketState {
    /// Its current code admits what is left of it.
    Valid,
    /// Refunded (by its buyer, or by an operator's decision): every code is revoked.
    Refunded,
    /// Its event was cancelled: every code is revoked, the money is owed back.
    Cancelled,
    /// Revoked for another reason (fraud, a banned account...).
    Revoked(RevocationReason),
}

impl TicketState {
    /// The database form: `tickets.status` and `tickets.revoked_reason`.
    pub fn to_columns(self) -> (&'static str, Option<&'static str>) {
        match self {
            TicketState::Valid => ("valid", None),
            TicketState::Refunded => ("revoked", Some(RevocationReason::Refunded.as_str())),
            TicketState::Cancelled => ("revoked", Some(RevocationReason::Cancelled.as_str())),
            TicketState::Revoked(r) => ("revoked", Some(r.as_str())),
        }
    }

    /// Parses [`Self::to_columns`]. A revoked row without a reason (written before migration 4)
    /// reads as `Revoked(Other)`.
    pub fn from_columns(status: &str, reason: Option<&str>) -> TicketState {
        if status == "valid" {
            return TicketState::Valid;
        }
        match reason.and_then(RevocationReason::from_name) {
            Some(RevocationReason::Refunded) => TicketState::Refunded,
            Some(RevocationReason::Cancelled) => TicketState::Cancelled,
            Some(r) => TicketState::Revoked(r),
            None => TicketState::Revoked(RevocationReason::Other),
        }
    }

    /// What a buyer reads about a ticket that no longer works.
    pub fn explanation(self) -> Option<&'static str> {
        match self {
            TicketState::Valid => None,
            TicketState::Refunded => Some("Refunded: this ticket no longer admits anyone."),
            TicketState::Cancelled => Some(
                "The event was cancelled: this ticket no longer admits anyone, the money is owed back to the buyer.",
            ),
            TicketState::Revoked(RevocationReason::AccountBanned) => {
                Some("The account that held it was closed: this ticket no longer admits anyone.")
            }
            TicketState::Revoked(RevocationReason::Fraud) => Some("Revoked by the organiser (suspected fraud)."),
            TicketState::Revoked(RevocationReason::Transferred) => {
                Some("Given to someone else: this code no longer admits anyone.")
            }
            TicketState::Revoked(_) => Some("Revoked by the organiser: this ticket no longer admits anyone."),
        }
    }
}

/// What the rules need to know about one entitlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entitlement {
    pub state: TicketState,
    /// People the offer admits (1, 2 or 4).
    pub offer_admits: u8,
    /// Entries the issuer knows of (reported by gates), whatever code was shown.
    pub admitted: u32,
    /// How many times it was given to someone (its code generation).
    pub transfers: u32,
    /// Whether money was paid for it (complimentary tickets have nothing to refund).
    pub paid: bool,
}

impl Entitlement {
    /// People its next code may admit: the offer less the known entries.
    pub fn left(&self) -> u8 {
        u32::from(self.offer_admits).saturating_sub(self.admitted) as u8
    }
}

/// What the rules need to know about an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventRules {
    pub cancelled: bool,
    pub starts_at: i64,
    pub doors_open: i64,
    pub doors_close: i64,
    /// When sales open (None: as soon as the event is published).
    pub sales_open_at: Option<i64>,
    /// When sales close (None: when the doors close).
    pub sales_close_at: Option<i64>,
    /// Until when a buyer may refund (None: until the doors open).
    pub refund_deadline: Option<i64>,
    /// Until when a ticket may be given to someone (None: until the doors open).
    pub transfer_deadline: Option<i64>,
}

impl EventRules {
    pub fn sales_close(&self) -> i64 {
        self.sales_close_at.unwrap_or(self.doors_close)
    }
    pub fn refund_until(&self) -> i64 {
        self.refund_deadline.unwrap_or(self.doors_open)
    }
    pub fn transfer_until(&self) -> i64 {
        // Never after the event, whatever was configured.
        self.transfer_deadline.unwrap_or(self.doors_open).min(self.doors_close)
    }
}

/// Whether an event can be bought now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Sale {
    /// On sale until `closes_at`.
    Open { closes_at: i64 },
    /// Not on sale yet.
    NotYet { opens_at: i64 },
    /// Sales are over (closed, or the event is past).
    Closed,
    /// The event was cancelled.
    Cancelled,
}

impl Sale {
    pub fn is_open(self) -> bool {
        matches!(self, Sale::Open { .. })
    }

    /// The refusal a cart or a checkout gets when the event is not on sale.
    pub fn refusal(self) -> Option<Refusal> {
        match self {
            Sale::Open { .. } => None,
            Sale::NotYet { .. } => Some(Refusal::new(
                "sales_not_open",
                "tickets for this event are not on sale yet",
            )),
            Sale::Closed => Some(Refusal::new("sales_closed", "sales for this event are closed")),
            Sale::Cancelled => Some(Refusal::new("event_cancelled", "this event is cancelled")),
        }
    }
}

/// The sale state of an event at `now`.
pub fn sale(ev: &EventRules, now: i64) -> Sale {
    if ev.cancelled {
        return Sale::Cancelled;
    }
    if let Some(open) = ev.sales_open_at
        && now < open
    {
        return Sale::NotYet { opens_at: open };
    }
    let closes_at = ev.sales_close();
    if now >= closes_at {
        return Sale::Closed;
    }
    Sale::Open { closes_at }
}

/// Why an action is not possible: a stable code and a sentence for the person who asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> AppError {
        AppError::conflict(r.code, r.message)
    }
}

fn not_valid(ent: &Entitlement) -> Option<Refusal> {
    match ent.state {
        TicketState::Valid => None,
        TicketState::Refunded => Some(Refusal::new("ticket_refunded", "this ticket was refunded already")),
        TicketState::Cancelled => Some(Refusal::new(
            "event_cancelled",
            "the event was cancelled: the refund is on its way",
        )),
        TicketState::Revoked(_) => Some(Refusal::new("ticket_revoked", "this ticket is no longer valid")),
    }
}

/// Whether the buyer may refund this entitlement now; `Ok` carries the deadline.
pub fn buyer_refund(ent: &Entitlement, ev: &EventRules, now: i64) -> Result<i64, Refusal> {
    if let Some(r) = not_valid(ent) {
        return Err(r);
    }
    if !ent.paid {
        return Err(Refusal::new("not_paid", "a complimentary ticket has nothing to refund"));
    }
    if ent.transfers > 0 {
        return Err(Refusal::new(
            "ticket_transferred",
            "this ticket was given to someone else: it cannot be refunded",
        ));
    }
    if ent.admitted > 0 {
        return Err(Refusal::new(
            "ticket_used",
            "this ticket was already used at a gate: it cannot be refunded",
        ));
    }
    let until = ev.refund_until();
    if now >= until {
        return Err(refund_deadline_passed());
    }
    Ok(until)
}

/// The refusal of a refund asked for too late.
pub fn refund_deadline_passed() -> Refusal {
    Refusal::new(
        "refund_deadline_passed",
        "the refund deadline has passed (refunds close when the doors open)",
    )
}

/// Whether the holder may give this entitlement to someone now; `Ok` carries the deadline and
/// how many people the new code will admit.
pub fn transfer(ent: &Entitlement, ev: &EventRules, now: i64) -> Result<(i64, u8), Refusal> {
    if let Some(r) = not_valid(ent) {
        return Err(r);
    }
    if ev.cancelled {
        return Err(Refusal::new("event_cancelled", "this event is cancelled"));
    }
    let left = ent.left();
    if left == 0 {
        return Err(Refusal::new(
            "ticket_used",
            "every place of this ticket was used: there is nothing left to give",
        ));
    }
    let until = ev.transfer_until();
    if now >= until {
        return Err(Refusal::new(
            "transfer_deadline_passed",
            "tickets can no longer be given to someone for this event (transfers close when the doors open)",
        ));
    }
    if ent.transfers >= u32::from(u8::MAX) {
        return Err(Refusal::new(
            "too_many_transfers",
            "this ticket was transferred too many times",
        ));
    }
    Ok((until, left))
}

/// Whether an operator may refund this entitlement by decision (any time, even after entry:
/// what is left is revoked and the decision recorded).
pub fn operator_refund(ent: &Entitlement) -> Result<(), Refusal> {
    match ent.state {
        TicketState::Valid | TicketState::Revoked(_) => Ok(()),
        TicketState::Refunded => Err(Refusal::new("ticket_refunded", "this ticket was refunded already")),
        TicketState::Cancelled => Err(Refusal::new(
            "event_cancelled",
            "the event was cancelled: its refund is already due",
        )),
    }
}

/// Everything a page shows about an entitlement: each action with its deadline or its reason.
/// In JSON each is `{"allowed": true, "until": ..}` or `{"allowed": false, "code": .., "message": ..}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allowed {
    /// `Ok(deadline)` or why not.
    #[serde(serialize_with = "permission")]
    pub refund: Result<i64, Refusal>,
    /// `Ok((deadline, people the new code admits))` or why not.
    #[serde(serialize_with = "transfer_permission")]
    pub transfer: Result<(i64, u8), Refusal>,
}

#[derive(Serialize)]
struct Permission<'a> {
    allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    until: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    admits: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

impl<'a> Permission<'a> {
    fn of(r: Result<(i64, Option<u8>), &'a Refusal>) -> Permission<'a> {
        match r {
            Ok((until, admits)) => Permission {
                allowed: true,
                until: Some(until),
                admits,
                code: None,
                message: None,
            },
            Err(e) => Permission {
                allowed: false,
                until: None,
                admits: None,
                code: Some(e.code),
                message: Some(&e.message),
            },
        }
    }
}

/// Serialises `Ok(deadline)` / `Err(refusal)` as a [`Permission`].
pub fn permission<S: serde::Serializer>(r: &Result<i64, Refusal>, s: S) -> Result<S::Ok, S::Error> {
    Permission::of(r.as_ref().map(|&u| (u, None))).serialize(s)
}

fn transfer_permission<S: serde::Serializer>(r: &Result<(i64, u8), Refusal>, s: S) -> Result<S::Ok, S::Error> {
    Permission::of(r.as_ref().map(|&(u, n)| (u, Some(n)))).serialize(s)
}

/// Same, for an optional permission (`null` when the question does not arise).
pub fn maybe_permission<S: serde::Serializer>(r: &Option<Result<i64, Refusal>>, s: S) -> Result<S::Ok, S::Error> {
    match r {
        None => s.serialize_none(),
        Some(r) => permission(r, s),
    }
}

pub fn allowed(ent: &Entitlement, ev: &EventRules, now: i64) -> Allowed {
    Allowed {
        refund: buyer_refund(ent, ev, now),
        transfer: transfer(ent, ev, now),
    }
}

/// Whether an event needs the ticket open on the holder's phone (`events.holder_binding`): the
/// same policy gates get in their event facts.
pub use og_shared::sync::HolderBinding;

/// Whether the holder is shown (and may download or print) the static code: always, unless the
/// event requires the phone and the ticket has no paper exception.
pub fn static_code_shown(policy: HolderBinding, paper_exception: bool) -> bool {
    policy == HolderBinding::Optional || paper_exception
}

/// What the rules need to know about an entitlement's phone bindings for its current holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bindings {
    /// Phones bound for the current holder (its code generation), revoked ones included.
    pub made: u32,
    /// Whether the phone asking is the one bound now (same device key, not revoked).
    pub same_phone: bool,
    /// Whether some phone is bound now.
    pub active: bool,
    /// Whether the key asking was bound before and revoked (gates refuse it for good).
    pub key_revoked: bool,
}

/// What a binding request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bind {
    /// The phone bound now asks again (reinstalled page, cleared cache): the same bound ticket.
    Same,
    /// The first phone of this holder.
    First,
    /// Another phone: the one bound now (if any) is revoked.
    Rebind,
}

/// Whether the holder may bind this entitlement to a phone now, given the bindings so far and
/// how many rebindings are allowed (`max_rebinds`, after the first binding).
pub fn bind(ent: &Entitlement, ev: &EventRules, b: &Bindings, max_rebinds: u32) -> Result<Bind, Refusal> {
    if let Some(r) = not_valid(ent) {
        return Err(r);
    }
    if ev.cancelled {
        return Err(Refusal::new("event_cancelled", "this event is cancelled"));
    }
    if b.same_phone && b.active {
        return Ok(Bind::Same);
    }
    if b.key_revoked {
        return Err(Refusal::new(
            "device_key_revoked",
            "this phone's key was replaced and is refused at the gates: reload the page to make a new one",
        ));
    }
    if b.made == 0 {
        return Ok(Bind::First);
    }
    if b.made > max_rebinds {
        return Err(Refusal::new(
            "too_many_rebinds",
            format!(
                "this ticket already moved to another phone as often as allowed ({max_rebinds} times): keep using the phone that shows it now, or ask the organiser"
            ),
        ));
    }
    Ok(Bind::Rebind)
}

/// What a transfer does to the sender's phone: the bound phone (if any) is unbound (its key
/// revoked), and the recipient starts with no phone and the full allowance of rebindings.
pub fn transfer_unbinds(b: &Bindings) -> bool {
    b.active
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOORS: i64 = 10_000;

    fn ev() -> EventRules {
        EventRules {
            cancelled: false,
            starts_at: DOORS + 3600,
            doors_open: DOORS,
            doors_close: DOORS + 6 * 3600,
            ..EventRules::default()
        }
    }

    fn duo() -> Entitlement {
        Entitlement {
            state: TicketState::Valid,
            offer_admits: 2,
            admitted: 0,
            transfers: 0,
            paid: true,
        }
    }

    #[test]
    fn a_buyer_refunds_an_unused_ticket_until_the_doors_open_and_not_after() {
        assert_eq!(buyer_refund(&duo(), &ev(), DOORS - 1), Ok(DOORS));
        assert_eq!(
            buyer_refund(&duo(), &ev(), DOORS).unwrap_err().code,
            "refund_deadline_passed"
        );
    }

    #[test]
    fn a_ticket_with_a_known_admission_is_never_refunded_by_its_buyer() {
        let used = Entitlement { admitted: 1, ..duo() };
        assert_eq!(buyer_refund(&used, &ev(), 0).unwrap_err().code, "ticket_used");
    }

    #[test]
    fn a_transferred_ticket_is_never_refunded_by_its_buyer() {
        let given = Entitlement { transfers: 1, ..duo() };
        assert_eq!(buyer_refund(&given, &ev(), 0).unwrap_err().code, "ticket_transferred");
    }

    #[test]
    fn a_fully_used_duo_cannot_be_given_away_and_a_half_used_one_gives_one_place() {
        let full = Entitlement { admitted: 2, ..duo() };
        assert_eq!(transfer(&full, &ev(), 0).unwrap_err().code, "ticket_used");
        let half = Entitlement { admitted: 1, ..duo() };
        assert_eq!(transfer(&half, &ev(), 0), Ok((DOORS, 1)));
    }

    #[test]
    fn transfers_close_at_the_doors_and_never_after_the_event_whatever_is_configured() {
        assert_eq!(
            transfer(&duo(), &ev(), DOORS).unwrap_err().code,
            "transfer_deadline_passed"
        );
        let late = EventRules {
            transfer_deadline: Some(DOORS + 100 * 3600),
            ..ev()
        };
        assert_eq!(late.transfer_until(), late.doors_close);
    }

    #[test]
    fn sales_close_when_the_doors_close_and_a_cancelled_event_is_off_sale() {
        assert!(sale(&ev(), DOORS).is_open());
        assert_eq!(sale(&ev(), DOORS + 6 * 3600), Sale::Closed);
        let cancelled = EventRules {
            cancelled: true,
            ..ev()
        };
        assert_eq!(sale(&cancelled, 0), Sale::Cancelled);
        let later = EventRules {
            sales_open_at: Some(500),
            ..ev()
        };
        assert_eq!(sale(&later, 499), Sale::NotYet { opens_at: 500 });
    }

    #[test]
    fn an_operator_may_refund_after_entry_but_never_twice() {
        let used = Entitlement { admitted: 2, ..duo() };
        assert!(operator_refund(&used).is_ok());
        let refunded = Entitlement {
            state: TicketState::Refunded,
            ..duo()
        };
        assert_eq!(operator_refund(&refunded).unwrap_err().code, "ticket_refunded");
    }

    #[test]
    fn a_holder_binds_a_phone_then_moves_it_up_to_the_limit_and_the_same_phone_is_free() {
        let none = Bindings::default();
        assert_eq!(bind(&duo(), &ev(), &none, 3), Ok(Bind::First));
        let one = Bindings {
            made: 1,
            same_phone: false,
            active: true,
            key_revoked: false,
        };
        assert_eq!(bind(&duo(), &ev(), &one, 3), Ok(Bind::Rebind));
        let same = Bindings {
            same_phone: true,
            ..one
        };
        assert_eq!(bind(&duo(), &ev(), &same, 0), Ok(Bind::Same));
        let four = Bindings { made: 4, ..one };
        assert_eq!(bind(&duo(), &ev(), &four, 3).unwrap_err().code, "too_many_rebinds");
        assert_eq!(bind(&duo(), &ev(), &Bindings { made: 3, ..one }, 3), Ok(Bind::Rebind));
        let old_key = Bindings {
            key_revoked: true,
            ..one
        };
        assert_eq!(bind(&duo(), &ev(), &old_key, 3).unwrap_err().code, "device_key_revoked");
        let refunded = Entitlement {
            state: TicketState::Refunded,
            ..duo()
        };
        assert_eq!(bind(&refunded, &ev(), &none, 3).unwrap_err().code, "ticket_refunded");
    }

    #[test]
    fn a_transfer_unbinds_the_senders_phone_and_a_required_event_hides_the_static_code() {
        assert!(transfer_unbinds(&Bindings {
            made: 1,
            same_phone: false,
            active: true,
            key_revoked: false,
        }));
        assert!(!transfer_unbinds(&Bindings::default()));
        assert!(static_code_shown(HolderBinding::Optional, false));
        assert!(!static_code_shown(HolderBinding::Required, false));
        assert!(static_code_shown(HolderBinding::Required, true));
    }

    #[test]
    fn the_state_survives_its_database_columns() {
        for s in [
            TicketState::Valid,
            TicketState::Refunded,
            TicketState::Cancelled,
            TicketState::Revoked(RevocationReason::Fraud),
        ] {
            let (status, reason) = s.to_columns();
            assert_eq!(TicketState::from_columns(status, reason), s);
        }
    }
}
