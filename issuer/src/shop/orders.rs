//! The buyer's domain operations: catalogue queries, carts, checkout with atomic seat
//! reservation, payment confirmation with ticket issuance, expiry, cancellation/refund and
//! transfer. Every function that changes state takes the caller's write transaction, so each
//! operation is all-or-nothing; HTTP handlers and pages only parse input and call these.
//!
//! Capacity is counted in people: a Duo ticket reserves 2 seats. A reservation is one
//! `UPDATE events SET reserved = reserved + n WHERE reserved + n <= capacity` inside an
//! IMMEDIATE transaction (SQLite has one writer at a time, and the column's CHECK constraint
//! backs it up), so concurrent buyers can never oversell.
//!
//! An offer may also have a sale limit in tickets (`offers.capacity`, migration 11): checkout
//! takes both in the same transaction, the event's seats and the offer's tickets
//! ([`take_seats_and_offer_tickets`]), each by a conditional update, and every path that gives
//! seats back ([`release_seats`], an operator's refund of an unused ticket) gives the offer's
//! tickets back.

use crate::store;
use crate::store::sql::{Connection, Transaction};
use og_shared::Offer;
use og_shared::TicketSigner;
use og_shared::sync::RevocationReason;
use serde::Serialize;

use crate::domain::{IdempotencyKey, MAX_QUANTITY, OrderStatus, Quantity};
use crate::error::{AppError, AppResult};
use crate::shop::entitlements::{entitlement, event_rules, offer_admits, rules_from};
use crate::shop::lifecycle::{self, Allowed, Refusal, Sale, TicketState};
use crate::shop::refunds::RefundReason;
use crate::trust::issuance::{self, PurchaseKind, TicketRequest};

/// How long a pending order holds its seats.
pub const ORDER_HOLD_SECS: i64 = 15 * 60;

#[derive(Debug, Clone, Serialize)]
pub struct OfferView {
    pub id: i64,
    /// `solo`, `duo` or `family`.
    pub kind: String,
    /// People admitted by one ticket.
    pub admits: u8,
    pub price_cents: i64,
    /// Tickets of this offer still on sale when it has a sale limit (`None`: only the event's
    /// capacity limits it).
    pub tickets_left: Option<i64>,
}

impl OfferView {
    /// Whether a buyer can still add `quantity` of it, as far as the offer's own limit goes.
    pub fn fits(&self, quantity: i64) -> bool {
        self.tickets_left.is_none_or(|left| quantity <= left)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub id: i64,
    pub sport: String,
    pub name: String,
    pub venue: String,
    /// The venue's street address.
    pub venue_address: String,
    /// The venue's IANA time zone (`Europe/Paris`): every time a buyer reads is local to it.
    pub time_zone: String,
    /// Unix seconds (UTC).
    pub starts_at: i64,
    /// When the doors open (Unix seconds).
    pub doors_open: i64,
    /// `YYYY-MM-DD` of the start, in the venue's time zone.
    pub day: String,
    pub capacity: i64,
    pub capacity_left: i64,
    pub status: crate::domain::EventStatus,
    /// Whether it can be bought now, and until when (`lifecycle::sale`).
    pub sale: Sale,
    pub offers: Vec<OfferView>,
}

/// Catalogue filters (all optional, exact match; `day` is `YYYY-MM-DD`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventFilter {
    pub sport: Option<String>,
    pub day: Option<String>,
    pub venue: Option<String>,
}

/// The calendar day (`YYYY-MM-DD`) of `ts` at the venue (an unknown zone reads as UTC).
pub fn day_of(ts: i64, time_zone: &str) -> String {
    let Ok(t) = jiff::Timestamp::from_second(ts) else {
        return String::new();
    };
    let z = t
        .in_tz(time_zone)
        .unwrap_or_else(|_| t.to_zoned_datetime(jiff::tz::TimeZone::UTC));
    format!("{:04}-{:02}-{:02}", z.year(), z.month(), z.day())
}

/// How far a venue's day may start before or end after the UTC day of the same date (UTC-12
/// to UTC+14).
const DAY_SLACK_SECS: i64 = 14 * 3600;

/// Events matching the filter, soonest first, with their offers.
pub fn list_events(conn: &Connection, f: &EventFilter) -> AppResult<Vec<EventView>> {
    query_events(conn, None, f)
}

/// One event with its offers.
pub fn get_event(conn: &Connection, id: i64) -> AppResult<EventView> {
    query_events(conn, Some(id), &EventFilter::default())?
        .pop()
        .ok_or_else(|| AppError::not_found(format!("no event {id}")))
}

/// Two queries whatever the number of events: the events, then all their offers.
fn query_events(conn: &Connection, only: Option<i64>, f: &EventFilter) -> AppResult<Vec<EventView>> {
    let empty = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let (sport, day, venue) = (empty(&f.sport), empty(&f.day), empty(&f.venue));
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let day_start = match &day {
        None => None,
        Some(d) => Some(
            time::Date::parse(d, fmt)
                .map_err(|_| AppError::bad_request("invalid_day", "day must be YYYY-MM-DD"))?
                .midnight()
                .assume_utc()
                .unix_timestamp(),
        ),
    };
    let now = crate::now();
    let mut events = store::events::catalogue::<crate::domain::EventStatus>(
        conn,
        sport.as_deref(),
        venue.as_deref(),
        day_start,
        only,
        DAY_SLACK_SECS,
    )?
    .into_iter()
    .map(|e| {
        let rules = rules_from(&e.rules);
        EventView {
            id: e.id,
            sport: e.sport,
            name: e.name,
            venue: e.venue,
            venue_address: e.venue_address,
            day: day_of(e.rules.starts_at, &e.time_zone),
            time_zone: e.time_zone,
            starts_at: e.rules.starts_at,
            doors_open: rules.doors_open,
            capacity: e.rules.capacity,
            capacity_left: e.rules.capacity - e.rules.reserved,
            status: e.rules.status,
            sale: lifecycle::sale(&rules, now),
            offers: Vec::new(),
        }
    })
    .collect::<Vec<_>>();
    // The day asked for is the venue's local day (the query took a wider UTC window).
    if let Some(d) = &day {
        events.retain(|e| &e.day == d);
    }
    if events.is_empty() {
        return Ok(events);
    }
    let index: std::collections::HashMap<i64, usize> = events.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
    for o in store::offers::catalogue(conn, only)? {
        if let Some(&i) = index.get(&o.event_id) {
            events[i].offers.push(OfferView {
                id: o.id,
                admits: offer_admits(&o.kind),
                kind: o.kind,
                price_cents: o.price_cents,
                tickets_left: o.tickets_left.map(|l| l.max(0)),
            });
        }
    }
    Ok(events)
}

/// Refuses unless the event is on sale now (cart, checkout).
fn ensure_on_sale(conn: &Connection, event_id: i64, now: i64) -> AppResult<()> {
    match lifecycle::sale(&event_rules(conn, event_id)?, now).refusal() {
        None => Ok(()),
        Some(r) => Err(r.into()),
    }
}

/// Takes `seats` of an event's capacity, or returns false when they do not fit: one conditional
/// update, never a read-then-write. Paid orders and complimentary tickets alike.
pub(crate) fn take_seats(tx: &Transaction<'_>, event_id: i64, seats: i64) -> AppResult<bool> {
    Ok(store::events::take_seats(tx, event_id, seats)?)
}

/// Takes `seats` of an event's capacity and `tickets` of an offer's sale limit (always fits when
/// the offer has none), both or neither: false when either does not fit (the caller rolls
/// back). Conditional updates like [`take_seats`], in one statement on PostgreSQL.
pub(crate) fn take_seats_and_offer_tickets(
    tx: &Transaction<'_>,
    event_id: i64,
    seats: i64,
    offer_id: i64,
    tickets: i64,
) -> AppResult<bool> {
    Ok(store::events::take_seats_and_offer_tickets(
        tx, event_id, seats, offer_id, tickets,
    )?)
}

/// Distinct sports, venues and days (for the filter form).
pub fn facets(conn: &Connection) -> AppResult<(Vec<String>, Vec<String>, Vec<String>)> {
    let days = store::events::starts_and_time_zones(conn)?;
    let mut d: Vec<String> = days.into_iter().map(|(ts, tz)| day_of(ts, &tz)).collect();
    d.sort();
    d.dedup();
    Ok((store::events::sports(conn)?, store::events::venues(conn)?, d))
}

#[derive(Debug, Clone, Serialize)]
pub struct CartLine {
    pub offer_id: i64,
    pub event_id: i64,
    pub event_name: String,
    pub sport: String,
    pub kind: String,
    pub admits: u8,
    pub quantity: i64,
    pub unit_price_cents: i64,
    /// The event venue's time zone (an order placed from the cart shows its times in it).
    #[serde(skip)]
    pub time_zone: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CartView {
    pub items: Vec<CartLine>,
    pub total_cents: i64,
}

/// Lines of a guest cart (`offer_id`, `quantity`) resolved against the catalogue; unknown
/// offers are dropped.
pub fn resolve_lines(conn: &Connection, items: &[(i64, i64)]) -> AppResult<CartView> {
    let mut out = Vec::new();
    for &(offer_id, quantity) in items {
        let row = store::offers::for_cart(conn, offer_id)?.map(|o| CartLine {
            offer_id,
            event_id: o.event_id,
            event_name: o.event_name,
            sport: o.sport,
            admits: offer_admits(&o.kind),
            kind: o.kind,
            quantity,
            unit_price_cents: o.price_cents,
            time_zone: o.time_zone,
        });
        out.extend(row);
    }
    let total_cents = out.iter().map(|l| l.quantity * l.unit_price_cents).sum();
    Ok(CartView {
        items: out,
        total_cents,
    })
}

pub fn account_cart(conn: &Connection, account_id: i64) -> AppResult<CartView> {
    let items = store::carts::items(conn, account_id)?;
    resolve_lines(conn, &items)
}

/// Checks that `quantity` tickets of an offer fit in what is left of its event and of the
/// offer's own sale limit.
pub fn check_fits(conn: &Connection, offer_id: i64, quantity: Quantity) -> AppResult<()> {
    let store::offers::Facts {
        event_id,
        kind,
        seats_left: left,
        tickets_left: offer_left,
    } = store::offers::facts(conn, offer_id)?.ok_or_else(|| AppError::not_found(format!("no offer {offer_id}")))?;
    ensure_on_sale(conn, event_id, crate::now())?;
    if let Some(offer_left) = offer_left
        && quantity.get() > offer_left
    {
        return Err(AppError::conflict(
            "not_enough_seats",
            format!("only {} {kind} tickets are left", offer_left.max(0)),
        ));
    }
    let seats = quantity.get() * i64::from(offer_admits(&kind));
    if seats > left {
        return Err(AppError::conflict(
            "not_enough_seats",
            format!("only {left} seats are left for this event"),
        ));
    }
    Ok(())
}

/// Sets the quantity of one offer in an account's cart (after checking it fits).
pub fn set_cart_item(tx: &Transaction<'_>, account_id: i64, offer_id: i64, quantity: Quantity) -> AppResult<()> {
    check_fits(tx, offer_id, quantity)?;
    store::carts::set(tx, account_id, offer_id, quantity.get())?;
    Ok(())
}

pub fn remove_cart_item(tx: &Transaction<'_>, account_id: i64, offer_id: i64) -> AppResult<()> {
    store::carts::remove(tx, account_id, offer_id)?;
    Ok(())
}

/// Empties an account's cart.
pub fn clear_cart(tx: &Transaction<'_>, account_id: i64) -> AppResult<()> {
    store::carts::clear(tx, account_id)?;
    Ok(())
}

/// How many of an offer the account's cart holds (0 when none).
pub fn cart_quantity(conn: &Connection, account_id: i64, offer_id: i64) -> AppResult<i64> {
    Ok(store::carts::quantity_or_zero(conn, account_id, offer_id)?)
}

/// Merges a guest cart into the account's cart at login: quantities add up (capped at the
/// per-line maximum); offers that no longer exist or no longer fit are skipped.
pub fn merge_cart(tx: &Transaction<'_>, account_id: i64, items: &[(i64, i64)]) -> AppResult<()> {
    for &(offer_id, qty) in items {
        let existing = store::carts::quantity(tx, account_id, offer_id)?.unwrap_or(0);
        let Ok(q) = Quantity::parse((existing + qty).min(MAX_QUANTITY)) else {
            continue;
        };
        match set_cart_item(tx, account_id, offer_id, q) {
            Ok(()) | Err(AppError::NotFound(_) | AppError::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderLineView {
    pub offer_id: i64,
    pub event_id: i64,
    pub event_name: String,
    pub kind: String,
    pub quantity: i64,
    pub unit_price_cents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub id: i64,
    pub status: crate::domain::OrderStatus,
    pub total_cents: i64,
    pub payment_id: Option<String>,
    /// Where the buyer pays (pending orders only).
    pub payment_url: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    /// The time zone of its (first) event's venue, for the times shown with the order.
    pub time_zone: String,
    pub lines: Vec<OrderLineView>,
    /// The tickets the order paid for, each with where it stands now.
    pub tickets: Vec<OrderTicket>,
    /// For a paid order: whether the buyer may refund it now (`Ok(deadline)`) or why not.
    #[serde(serialize_with = "lifecycle::maybe_permission")]
    pub refund: Option<Result<i64, Refusal>>,
}

/// One ticket of an order as its buyer sees it.
#[derive(Debug, Clone, Serialize)]
pub struct OrderTicket {
    pub serial: u32,
    pub event_name: String,
    pub offer: String,
    pub admits: u8,
    pub state: TicketState,
    /// Entries gates reported for it.
    pub used: u32,
    /// Whom it was given to and when (the first transfer), if it was.
    pub given_to: Option<(String, i64)>,
}

fn order_tickets(conn: &Connection, order_id: i64) -> AppResult<Vec<OrderTicket>> {
    Ok(store::tickets::of_order(conn, order_id)?
        .into_iter()
        .map(|t| OrderTicket {
            serial: t.serial,
            event_name: t.event_name,
            admits: offer_admits(&t.offer),
            offer: t.offer,
            state: TicketState::from_columns(&t.status, t.revoked_reason.as_deref()),
            used: t.entries,
            given_to: t.first_given_to.zip(t.first_given_at),
        })
        .collect())
}

pub fn get_order(conn: &Connection, account_id: i64, order_id: i64, base_url: &str) -> AppResult<OrderView> {
    let o = store::orders::of_buyer::<OrderStatus>(conn, account_id, order_id)?
        .ok_or_else(|| AppError::not_found(format!("no order {order_id}")))?;
    let shown = store::order_lines::shown(conn, order_id)?;
    let time_zone = shown.first().map(|l| l.time_zone.clone());
    let lines = shown
        .into_iter()
        .map(|l| OrderLineView {
            offer_id: l.offer_id,
            event_id: l.event_id,
            event_name: l.event_name,
            kind: l.kind,
            quantity: l.quantity,
            unit_price_cents: l.unit_price_cents,
        })
        .collect();
    let refund = if o.status == OrderStatus::Paid {
        Some(order_refund(conn, order_id, crate::now())?)
    } else {
        None
    };
    Ok(OrderView {
        payment_url: payment_url(base_url, o.payment_id.as_deref(), o.status),
        id: o.id,
        status: o.status,
        total_cents: o.total_cents,
        payment_id: o.payment_id,
        created_at: o.created_at,
        expires_at: o.expires_at,
        time_zone: time_zone.unwrap_or_else(|| og_shared::DEFAULT_TIME_ZONE.to_owned()),
        lines,
        tickets: order_tickets(conn, order_id)?,
        refund,
    })
}

/// Where the buyer pays an order: only a pending one, with a payment opened.
fn payment_url(base_url: &str, payment_id: Option<&str>, status: OrderStatus) -> Option<String> {
    match (payment_id, status) {
        (Some(pid), OrderStatus::Pending) => Some(format!("{base_url}/pay/{pid}")),
        _ => None,
    }
}

pub fn list_orders(conn: &Connection, account_id: i64, base_url: &str) -> AppResult<Vec<OrderView>> {
    let ids = store::orders::ids_of_account(conn, account_id)?;
    ids.into_iter()
        .map(|id| get_order(conn, account_id, id, base_url))
        .collect()
}

/// Releases the seats of an order's lines, and their tickets of each offer's sale limit.
fn release_seats(tx: &Transaction<'_>, order_id: i64) -> AppResult<()> {
    store::offers::release_order_tickets(tx, order_id)?;
    store::events::release_order_seats(tx, order_id, Offer::ALL.map(|o| (o.name(), o.admits())))?;
    Ok(())
}

/// Cancels pending orders whose hold has run out and releases their seats. Returns how many.
/// Whether a pending order's hold has run out (what [`expire_overdue`] would cancel).
pub fn any_overdue(conn: &Connection, now: i64) -> AppResult<bool> {
    Ok(store::orders::any_overdue(conn, now)?)
}

pub fn expire_overdue(tx: &Transaction<'_>, now: i64) -> AppResult<usize> {
    let ids = store::orders::overdue_ids(tx, now)?;
    for id in &ids {
        release_seats(tx, *id)?;
        store::orders::set_cancelled(tx, *id, now)?;
    }
    Ok(ids.len())
}

/// Turns the account's cart into a pending order holding its seats, and opens a payment for it
/// with `provider`; answers the order as [`get_order`] would read it after the commit, made from
/// what the checkout wrote (no read of it again, on the buyer's path). The same idempotency key
/// returns the same order as it is now (and changes nothing).
/// It changes only the account's own rows and, by conditional updates, its events' seats and
/// offers' tickets, so it may run in `WriteScope::Account`; other buyers' expired holds are
/// swept by [`expire_overdue`] (the background job, and `actions::place_order` when seats run
/// short), never here.
pub fn checkout(
    tx: &Transaction<'_>,
    account_id: i64,
    key: &IdempotencyKey,
    provider: &dyn crate::shop::payment::PaymentProvider,
    base_url: &str,
    now: i64,
) -> AppResult<OrderView> {
    if let Some(id) = store::orders::id_by_idempotency_key(tx, account_id, key.as_str())? {
        return get_order(tx, account_id, id, base_url);
    }
    issuance::account_tag(tx, account_id)?;
    let cart = account_cart(tx, account_id)?;
    if cart.items.is_empty() {
        return Err(AppError::conflict("cart_empty", "the cart is empty"));
    }
    for line in &cart.items {
        ensure_on_sale(tx, line.event_id, now)?;
    }
    let order_id = store::orders::insert_pending(
        tx,
        account_id,
        cart.total_cents,
        key.as_str(),
        now,
        now + ORDER_HOLD_SECS,
    )?;
    for line in &cart.items {
        store::order_lines::insert(tx, order_id, line.offer_id, line.quantity, line.unit_price_cents)?;
    }
    let payment_id = provider.create_payment(tx, order_id, cart.total_cents, now)?;
    store::orders::set_payment_id(tx, order_id, &payment_id)?;
    store::carts::clear(tx, account_id)?;
    let placed = OrderView {
        id: order_id,
        status: OrderStatus::Pending,
        total_cents: cart.total_cents,
        payment_url: payment_url(base_url, Some(&payment_id), OrderStatus::Pending),
        payment_id: Some(payment_id),
        created_at: now,
        expires_at: now + ORDER_HOLD_SECS,
        // The lines in the order they were written (the cart's), as `order_lines::shown` reads them.
        time_zone: cart
            .items
            .first()
            .map_or_else(|| og_shared::DEFAULT_TIME_ZONE.to_owned(), |l| l.time_zone.clone()),
        lines: cart
            .items
            .iter()
            .map(|l| OrderLineView {
                offer_id: l.offer_id,
                event_id: l.event_id,
                event_name: l.event_name.clone(),
                kind: l.kind.clone(),
                quantity: l.quantity,
                unit_price_cents: l.unit_price_cents,
            })
            .collect(),
        tickets: Vec::new(),
        refund: None,
    };
    // Seats are taken last (the event's row stays locked until the commit, and every buyer of
    // the event needs it), event by event in id order, an offer's tickets right after its
    // event's seats: two checkouts running at once (PostgreSQL, `WriteScope::Account`) lock the
    // rows they share in the same order, so neither waits for the other in a circle.
    let mut lines: Vec<&CartLine> = cart.items.iter().collect();
    lines.sort_by_key(|l| (l.event_id, l.offer_id));
    for line in lines {
        let seats = line.quantity * i64::from(line.admits);
        if !take_seats_and_offer_tickets(tx, line.event_id, seats, line.offer_id, line.quantity)? {
            return Err(AppError::conflict(
                "sold_out",
                format!("not enough seats left for {} ({})", line.event_name, line.kind),
            ));
        }
    }
    Ok(placed)
}

/// What confirming a payment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// The order became paid and this many tickets were signed.
    Paid { order_id: i64, tickets: usize },
    /// It was paid already (nothing changed).
    AlreadyPaid { order_id: i64 },
    /// The order was cancelled (hold expired) before the money arrived: a refund is due
    /// (`refund` is `None` when this payment was already recorded as owed).
    TooLate {
        order_id: i64,
        refund: Option<crate::shop::refunds::RefundDue>,
    },
    /// An event of the order was cancelled before the money arrived: the order is cancelled,
    /// its seats released, no ticket signed, and a refund is due.
    EventCancelled {
        order_id: i64,
        refund: Option<crate::shop::refunds::RefundDue>,
    },
}

fn order_ticket_requests(tx: &Transaction<'_>, order_id: i64, holder: &str) -> AppResult<Vec<TicketRequest>> {
    let lines = store::order_lines::to_issue(tx, order_id)?;
    let mut reqs = Vec::new();
    for (event_id, kind, qty, price) in lines {
        let offer = Offer::from_name(&kind).ok_or_else(|| AppError::internal("bad offer kind"))?;
        for _ in 0..qty {
            reqs.push(TicketRequest {
                event_id,
                offer,
                flags: 0,
                holder_name: holder.to_owned(),
                unit_price_cents: price,
            });
        }
    }
    Ok(reqs)
}

fn holder_of(tx: &Transaction<'_>, account_id: i64) -> AppResult<String> {
    let (email, name) = store::accounts::email_and_display_name(tx, account_id)?;
    Ok(if name.is_empty() { email } else { name })
}

/// Marks the order behind `payment_id` paid, signs its tickets and queues the buyer's order
/// confirmation, in the caller's transaction.
pub fn confirm_payment(
    tx: &Transaction<'_>,
    signer: &TicketSigner,
    payment_id: &str,
    amount_cents: i64,
    now: i64,
) -> AppResult<Confirmation> {
    let (order_id, account_id, status, total) = store::orders::by_payment_id(tx, payment_id)?
        .ok_or_else(|| AppError::not_found("no order has this payment id"))?;
    if amount_cents != total {
        return Err(AppError::Unprocessable {
            code: "amount_mismatch",
            message: "the paid amount differs from the order total".into(),
        });
    }
    match status.as_str() {
        "paid" | "refunded" => return Ok(Confirmation::AlreadyPaid { order_id }),
        "cancelled" => {
            let refund = crate::shop::refunds::record(tx, order_id, RefundReason::OrderClosed, amount_cents, now)?;
            tracing::warn!(order_id, "payment arrived for a cancelled order: a refund is due");
            return Ok(Confirmation::TooLate { order_id, refund });
        }
        _ => {}
    }
    let cancelled_events = store::order_lines::count_for_cancelled_events(tx, order_id)?;
    if cancelled_events > 0 {
        // Acknowledged, not refused: the provider would retry a refusal forever.
        release_seats(tx, order_id)?;
        store::orders::set_cancelled(tx, order_id, now)?;
        let refund = crate::shop::refunds::record(tx, order_id, RefundReason::EventCancelled, amount_cents, now)?;
        tracing::warn!(order_id, "payment arrived for a cancelled event: a refund is due");
        return Ok(Confirmation::EventCancelled { order_id, refund });
    }
    store::orders::set_paid(tx, order_id, now)?;
    let tickets = issue_order_tickets(tx, signer, order_id, account_id, now)?;
    // The receipt and the PDF tickets go out once this commits (written when sent).
    crate::shop::mail::queue(
        tx,
        Some(account_id),
        &crate::shop::mail::Queued::OrderConfirmation { order_id },
        now,
    )?;
    Ok(Confirmation::Paid { order_id, tickets })
}

fn issue_order_tickets(
    tx: &Transaction<'_>,
    signer: &TicketSigner,
    order_id: i64,
    account_id: i64,
    now: i64,
) -> AppResult<usize> {
    let holder = holder_of(tx, account_id)?;
    let reqs = order_ticket_requests(tx, order_id, &holder)?;
    let issued = issuance::issue_purchase(tx, signer, account_id, Some(order_id), PurchaseKind::Paid, &reqs, now)?;
    Ok(issued.len())
}

/// Issues the tickets of paid orders that have none (data written by an older build, which
/// committed them apart) and queues their confirmations. Run at start. Returns the orders
/// repaired.
pub fn recover_paid_without_tickets(tx: &Transaction<'_>, signer: &TicketSigner, now: i64) -> AppResult<Vec<i64>> {
    let rows = store::orders::paid_without_purchase(tx)?;
    for (order_id, account_id) in &rows {
        issue_order_tickets(tx, signer, *order_id, *account_id, now)?;
        let confirmation = crate::shop::mail::Queued::OrderConfirmation { order_id: *order_id };
        crate::shop::mail::queue(tx, Some(*account_id), &confirmation, now)?;
    }
    Ok(rows.iter().map(|r| r.0).collect())
}

/// Cancels a pending order (seats released) or refunds a paid one: allowed only when the
/// lifecycle allows the buyer to refund every ticket of it (before the refund deadline, none
/// used, none transferred). The seats are released, every code revoked through the log and a
/// refund due recorded per ticket, all in the caller's transaction. No new code is issued.
pub fn cancel_order(tx: &Transaction<'_>, account_id: i64, order_id: i64, now: i64) -> AppResult<String> {
    let status = store::orders::status_of_buyer(tx, account_id, order_id)?
        .ok_or_else(|| AppError::not_found(format!("no order {order_id}")))?;
    match status.as_str() {
        "pending" => {
            release_seats(tx, order_id)?;
            store::orders::set_cancelled(tx, order_id, now)?;
            Ok("cancelled".into())
        }
        "paid" => {
            let refund = order_refund(tx, order_id, now)?;
            if let Err(r) = refund {
                return Err(r.into());
            }
            release_seats(tx, order_id)?;
            let serials = order_serials(tx, order_id)?;
            for &(serial, price) in &serials {
                crate::shop::refunds::record_for_ticket(
                    tx,
                    order_id,
                    serial,
                    RefundReason::BuyerRefund,
                    price,
                    None,
                    now,
                )?;
            }
            // A paid order whose tickets were never issued (see recovery) has nothing to revoke;
            // its money is still owed back.
            if serials.is_empty() {
                let total = store::orders::total_cents(tx, order_id)?;
                crate::shop::refunds::record(tx, order_id, RefundReason::BuyerRefund, total, now)?;
            }
            let purchase_id = store::purchases::id_of_order(tx, order_id)?;
            if let Some(purchase_id) = purchase_id {
                crate::trust::revocation::revoke_purchase(tx, purchase_id, RevocationReason::Refunded, now)?;
            }
            store::orders::set_refunded(tx, order_id, now)?;
            Ok("refunded".into())
        }
        other => Err(AppError::conflict(
            "order_closed",
            format!("the order is already {other}"),
        )),
    }
}

/// The entitlements an order paid for, with their prices.
fn order_serials(conn: &Connection, order_id: i64) -> AppResult<Vec<(u32, i64)>> {
    Ok(store::tickets::serials_and_prices_of_order(conn, order_id)?)
}

/// Whether the buyer may refund the whole order now: `Ok(deadline)` when every ticket of it may
/// be refunded (the earliest deadline), else the first ticket's refusal.
pub fn order_refund(conn: &Connection, order_id: i64, now: i64) -> AppResult<Result<i64, Refusal>> {
    let mut until = i64::MAX;
    for (serial, _) in order_serials(conn, order_id)? {
        let (ent, ev) = entitlement(conn, i64::from(serial))?;
        match lifecycle::buyer_refund(&ent, &ev, now) {
            Ok(d) => until = until.min(d),
            Err(r) => return Ok(Err(r)),
        }
    }
    if until == i64::MAX {
        // No ticket issued yet (see recovery): the events' own deadlines apply.
        for ev_id in order_events(conn, order_id)? {
            until = until.min(event_rules(conn, ev_id)?.refund_until());
        }
        if now >= until {
            return Ok(Err(lifecycle::refund_deadline_passed()));
        }
    }
    Ok(Ok(until))
}

fn order_events(conn: &Connection, order_id: i64) -> AppResult<Vec<i64>> {
    Ok(store::order_lines::event_ids(conn, order_id)?)
}

/// An operator refunds one entitlement by decision (even after entry): what is left of it is
/// revoked, seats not used return to sale, and the refund due is recorded with who decided and
/// why, in the caller's transaction.
pub fn operator_refund(
    tx: &Transaction<'_>,
    serial: i64,
    operator_account: i64,
    note: &str,
    now: i64,
) -> AppResult<Option<crate::shop::refunds::RefundDue>> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 500 {
        return Err(AppError::bad_request(
            "reason_required",
            "say why in 1 to 500 characters: the decision is recorded",
        ));
    }
    let (ent, ev) = entitlement(tx, serial)?;
    lifecycle::operator_refund(&ent).map_err(AppError::from)?;
    let (order_id, price, event_id, offer) = store::tickets::for_operator_refund(tx, serial)?;
    let serial_u32 = u32::try_from(serial).map_err(|_| AppError::not_found("no such ticket"))?;
    if ent.state == TicketState::Valid {
        crate::trust::revocation::revoke_ticket(tx, serial_u32, RevocationReason::Refunded, now)?;
        let unused = i64::from(ent.left());
        if unused > 0 && now < ev.doors_close {
            store::events::give_back_seats(tx, event_id, unused)?;
            // A ticket nobody used goes back on sale under its offer's limit too (a part-used
            // Duo gives its seat back to the event, not a whole Duo to the offer).
            if order_id.is_some() && unused == i64::from(ent.offer_admits) {
                store::offers::give_back_one_ticket(tx, event_id, &offer)?;
            }
        }
    } else {
        store::tickets::set_revoked_reason_refunded(tx, serial)?;
    }
    let Some(order_id) = order_id else {
        // Complimentary: nothing was paid, nothing is owed; the revocation is the decision.
        return Ok(None);
    };
    let due = crate::shop::refunds::record_for_ticket(
        tx,
        order_id,
        serial_u32,
        RefundReason::OperatorDecision,
        price,
        Some((operator_account, note)),
        now,
    )?;
    let open = store::tickets::valid_count_of_order(tx, order_id)?;
    if open == 0 {
        store::orders::set_refunded_if_paid(tx, order_id, now)?;
    }
    Ok(due)
}

/// An entry a gate reported for a ticket, as its holder sees it.
#[derive(Debug, Clone, Serialize)]
pub struct UseView {
    pub gate: String,
    pub at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TicketView {
    pub serial: u32,
    /// Which code of the entitlement the holder has now (0 = the first).
    pub generation: u8,
    pub event_id: i64,
    pub event_name: String,
    pub sport: String,
    pub venue: String,
    pub venue_address: String,
    /// The venue's IANA time zone.
    pub time_zone: String,
    pub starts_at: i64,
    pub doors_open: i64,
    pub offer: String,
    /// People the offer admits.
    pub admits: u8,
    /// People the current code may still admit, as the issuer knows it.
    pub left: u8,
    pub holder_name: String,
    /// `valid` or `revoked` (see `state` for why).
    pub status: String,
    pub state: TicketState,
    /// Why it no longer works, in a sentence (revoked tickets only).
    pub explanation: Option<String>,
    /// Entries gates reported, oldest first.
    pub uses: Vec<UseView>,
    /// What the holder may do now, with deadlines or reasons.
    pub allowed: Allowed,
    /// The signed code the QR carries (valid tickets only).
    pub qr_text: Option<String>,
    /// The phone ticket: the event's policy, a paper exception, whether a phone is bound, and
    /// whether the static code may be shown (`lifecycle::static_code_shown`).
    pub phone: crate::shop::binding::PhoneView,
}

fn ticket_view(t: store::tickets::Shown) -> TicketView {
    TicketView {
        serial: t.serial,
        generation: t.generation,
        event_id: t.event_id,
        event_name: t.event_name,
        sport: t.sport,
        venue: t.venue,
        venue_address: t.venue_address,
        time_zone: t.time_zone,
        starts_at: t.starts_at,
        doors_open: t.doors_open,
        admits: offer_admits(&t.offer),
        left: 0,
        offer: t.offer,
        holder_name: t.holder_name,
        qr_text: (t.status == "valid").then_some(t.qr_text),
        status: t.status,
        state: TicketState::Valid,
        explanation: None,
        uses: Vec::new(),
        allowed: Allowed {
            refund: Ok(0),
            transfer: Ok((0, 0)),
        },
        phone: crate::shop::binding::PhoneView::default(),
    }
}

impl TicketView {
    /// What the JSON API hands out: without the static code when the event needs the phone code
    /// (the pages and the PNG/SVG routes refuse it the same way; gates refuse it anyway).
    pub fn for_api(mut self) -> TicketView {
        if !self.phone.static_code {
            self.qr_text = None;
        }
        self
    }
}

/// Fills in what the rules and the gates' reports say about a ticket.
fn complete(conn: &Connection, mut t: TicketView, now: i64) -> AppResult<TicketView> {
    let (ent, ev) = entitlement(conn, i64::from(t.serial))?;
    t.state = ent.state;
    t.explanation = ent.state.explanation().map(str::to_owned);
    t.left = if ent.state == TicketState::Valid { ent.left() } else { 0 };
    t.allowed = lifecycle::allowed(&ent, &ev, now);
    t.phone = crate::shop::binding::phone_view(conn, i64::from(t.serial))?;
    t.uses = store::scans::entry_gates_and_times(conn, t.event_id, t.serial)?
        .into_iter()
        .map(|(gate, at)| UseView { gate, at })
        .collect();
    Ok(t)
}

/// The IANA time zone of an event's venue.
pub fn event_time_zone(conn: &Connection, event_id: i64) -> AppResult<String> {
    store::events::time_zone(conn, event_id)?.ok_or_else(|| AppError::not_found(format!("no event {event_id}")))
}

/// The account of an address, if it has one, and the language it chose.
pub fn account_of_address(conn: &Connection, email: &str) -> AppResult<Option<(i64, Option<String>)>> {
    Ok(store::accounts::id_and_language_by_email(conn, email)?)
}

/// A ticket the account gave to someone else.
#[derive(Debug, Clone, Serialize)]
pub struct GivenTicket {
    pub serial: u32,
    pub event_name: String,
    pub offer: String,
    pub to_email: String,
    pub at: i64,
    /// The event venue's time zone.
    pub time_zone: String,
    /// People the recipient's code admits.
    pub admits: u8,
}

/// The account's tickets: valid ones first, then those that no longer work (with why).
pub fn list_tickets(conn: &Connection, account_id: i64) -> AppResult<Vec<TicketView>> {
    let rows = store::tickets::shown_of_account(conn, account_id)?;
    let now = crate::now();
    rows.into_iter().map(|t| complete(conn, ticket_view(t), now)).collect()
}

/// Tickets the account gave away, newest first.
pub fn given_tickets(conn: &Connection, account_id: i64) -> AppResult<Vec<GivenTicket>> {
    Ok(store::ticket_transfers::given_by(conn, account_id)?
        .into_iter()
        .map(|g| GivenTicket {
            serial: g.serial,
            event_name: g.event_name,
            offer: g.offer,
            to_email: g.to_email,
            at: g.at,
            admits: g.admits,
            time_zone: g.time_zone,
        })
        .collect())
}

pub fn get_ticket(conn: &Connection, account_id: i64, serial: i64) -> AppResult<TicketView> {
    let t = store::tickets::shown_of_holder(conn, account_id, serial)?
        .ok_or_else(|| AppError::not_found(format!("no ticket {serial}")))?;
    complete(conn, ticket_view(t), crate::now())
}

/// A ticket's whole story as operators see it: the entitlement, its holder, every entry gates
/// reported, every transfer and the refund owed for it, if any.
#[derive(Debug, Clone, Serialize)]
pub struct TicketHistory {
    pub ticket: TicketView,
    pub holder_email: String,
    pub order_id: Option<i64>,
    pub transfers: Vec<TransferView>,
    pub refund: Option<crate::shop::refunds::RefundDue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TransferView {
    pub generation: u8,
    pub from: String,
    pub to: String,
    pub admits: u8,
    pub at: i64,
}

pub fn ticket_history(conn: &Connection, serial: i64) -> AppResult<TicketHistory> {
    let (account_id, holder_email, order_id) = store::tickets::holder_and_order(conn, serial)?
        .ok_or_else(|| AppError::not_found(format!("no ticket {serial}")))?;
    let transfers = store::ticket_transfers::of_ticket(conn, serial)?
        .into_iter()
        .map(|x| {
            let small = |n: i64| u8::try_from(n).map_err(|_| AppError::internal("transfer out of range"));
            Ok(TransferView {
                generation: small(x.generation)?,
                from: x.from_email,
                to: x.to_email,
                admits: small(x.admits)?,
                at: x.at,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(TicketHistory {
        ticket: get_ticket(conn, account_id, serial)?,
        holder_email,
        order_id,
        transfers,
        refund: crate::shop::refunds::for_ticket(conn, serial)?,
    })
}

/// What a transfer did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transferred {
    /// The entitlement: the same serial, now held by the recipient.
    pub serial: u32,
    /// The recipient's code.
    pub generation: u8,
    /// People the recipient's code admits.
    pub admits: u8,
}

/// How long a mailed invitation to claim a ticket is valid (the transfer deadline still applies
/// when it is claimed).
pub const INVITE_TTL_SECS: i64 = 7 * 24 * 3600;

/// What giving a ticket did. The caller answers both the same way (the sender must not learn
/// whether the recipient has an account); only the mail differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferOutcome {
    /// The recipient has an active account: the ticket is theirs now.
    Sent(Transferred),
    /// The recipient has none: they are invited by mail to claim it with this one-time token;
    /// the ticket stays with its holder until then.
    Invited { token: String },
}

/// Gives a ticket to the account of `to_email` when the lifecycle allows it (before the
/// transfer deadline, admissions left): the entitlement keeps its serial and moves to the
/// recipient with a new code for what is left, and the sender's codes are superseded in the
/// revocation log. A recipient without an active account gets an invitation to claim it
/// instead ([`claim_invite`]); any earlier pending invitation for the ticket is closed.
pub fn transfer_ticket(
    tx: &Transaction<'_>,
    signer: &TicketSigner,
    from_account: i64,
    serial: i64,
    to_email: &str,
    now: i64,
) -> AppResult<TransferOutcome> {
    let holder = store::tickets::holder_if(tx, serial, from_account)?;
    let Some((_, from_email)) = holder else {
        return Err(AppError::not_found(format!("no ticket {serial}")));
    };
    if from_email.eq_ignore_ascii_case(to_email) {
        return Err(AppError::Unprocessable {
            code: "same_account",
            message: "you already hold this ticket".into(),
        });
    }
    let (ent, ev) = entitlement(tx, serial)?;
    let (_, left) = lifecycle::transfer(&ent, &ev, now)?;
    store::transfer_invites::close_open_of_ticket(tx, serial, now)?;
    let to = store::accounts::id_and_status_by_email::<String>(tx, to_email)?;
    let to_id = match to {
        Some((id, st)) if st == "active" => id,
        _ => {
            let token = crate::shop::auth::random_token();
            store::transfer_invites::insert(
                tx,
                &store::transfer_invites::NewInvite {
                    token_hash: &crate::shop::auth::token_hash(&token),
                    serial,
                    from_account,
                    to_email,
                    created_at: now,
                    expires_at: now + INVITE_TTL_SECS,
                },
            )?;
            return Ok(TransferOutcome::Invited { token });
        }
    };
    let serial_u32 = u32::try_from(serial).map_err(|_| AppError::not_found("no such ticket"))?;
    let holder = holder_of(tx, to_id)?;
    let generation = issuance::reissue(tx, signer, serial_u32, to_id, &holder, left, now)?;
    // The sender's phone no longer shows it; the recipient binds their own.
    crate::shop::binding::on_transfer(tx, serial, now)?;
    store::ticket_transfers::insert(tx, serial, generation, from_account, to_id, left, now)?;
    Ok(TransferOutcome::Sent(Transferred {
        serial: serial_u32,
        generation,
        admits: left,
    }))
}

/// The signed-in account claims a ticket it was invited to take: the invitation must be open,
/// unexpired and addressed to this account's email, and the transfer's rules are checked again
/// now (the holder may have used or refunded it meanwhile).
pub fn claim_invite(
    tx: &Transaction<'_>,
    signer: &TicketSigner,
    account_id: i64,
    token: &str,
    now: i64,
) -> AppResult<Transferred> {
    let invite = store::transfer_invites::open_by_token_hash(tx, &crate::shop::auth::token_hash(token))?
        .map(|i| (i.id, i.serial, i.from_account, i.to_email, i.expires_at));
    let gone = || AppError::Gone {
        code: "invite_not_valid",
        message: "this invitation was already used, replaced or has expired".into(),
    };
    let (id, serial, from, to_email, expires_at) = invite.ok_or_else(gone)?;
    if now >= expires_at {
        return Err(gone());
    }
    let email = store::accounts::email(tx, account_id)?;
    if !email.eq_ignore_ascii_case(&to_email) {
        return Err(AppError::Forbidden(format!(
            "this invitation is for {to_email}: log in with that address"
        )));
    }
    let still_holder = store::tickets::is_held_by(tx, serial, from)?;
    if !still_holder {
        return Err(gone());
    }
    let done = match transfer_ticket(tx, signer, from, serial, &email, now)? {
        TransferOutcome::Sent(t) => t,
        TransferOutcome::Invited { .. } => {
            return Err(AppError::conflict("account_not_active", "activate your account first"));
        }
    };
    store::transfer_invites::close(tx, id, now)?;
    Ok(done)
}
