//! Events as operators and gates see them, offline gate bundles and complimentary tickets.

use crate::store::sql::{Connection, Transaction};
use crate::store::{accounts, events, offers};
use og_shared::sync::{EventFacts, GateBundle};
use og_shared::ticket::TicketFlags;
use og_shared::{Offer, TicketSigner};

use crate::domain::EventStatus;
use crate::error::{AppError, AppResult};
use crate::trust::issuance::{self, IssuedTicket, PurchaseKind, TicketRequest};
use crate::trust::revocation;
use og_shared::sync::RevocationReason;

/// An offer of an event.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct OfferRow {
    pub offer_id: i64,
    pub kind: String,
    pub admits: u8,
    pub price_cents: i64,
    /// Tickets of this offer that may be sold (`None`: only the event's capacity limits it).
    #[serde(default)]
    pub capacity: Option<i64>,
    /// Tickets of it held by pending and paid orders.
    #[serde(default)]
    pub sold: i64,
}

/// An event with its offers (what `issuer events list` prints).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct EventRow {
    pub id: u32,
    pub sport: String,
    pub name: String,
    pub venue: String,
    pub starts_at: i64,
    pub doors_open: i64,
    pub doors_close: i64,
    pub capacity: i64,
    pub reserved: i64,
    pub status: crate::domain::EventStatus,
    pub zones: Vec<String>,
    pub offers: Vec<OfferRow>,
    /// The sales window and deadlines (`null`: the default rule of `lifecycle`).
    #[serde(flatten)]
    pub deadlines: Deadlines,
    /// Whether gates need the ticket open on the holder's phone (`optional` or `required`).
    #[serde(default)]
    pub holder_binding: crate::shop::lifecycle::HolderBinding,
    /// The venue's IANA time zone: every time shown for the event is local to it.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// The venue's street address (may be empty).
    #[serde(default)]
    pub venue_address: String,
}

fn default_time_zone() -> String {
    og_shared::DEFAULT_TIME_ZONE.to_owned()
}

/// An event's sales window and refund/transfer deadlines, Unix seconds; `None` means the
/// default (`crate::shop::lifecycle`: sales close when the doors close, refunds and transfers when
/// they open).
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Deadlines {
    #[serde(default)]
    pub sales_open_at: Option<i64>,
    #[serde(default)]
    pub sales_close_at: Option<i64>,
    #[serde(default)]
    pub refund_deadline: Option<i64>,
    #[serde(default)]
    pub transfer_deadline: Option<i64>,
}

impl NewEvent {
    pub fn deadlines(&self) -> Deadlines {
        Deadlines {
            sales_open_at: self.sales_open_at,
            sales_close_at: self.sales_close_at,
            refund_deadline: self.refund_deadline,
            transfer_deadline: self.transfer_deadline,
        }
    }
}

impl EventChanges {
    pub fn deadlines(&self) -> Deadlines {
        Deadlines {
            sales_open_at: self.sales_open_at,
            sales_close_at: self.sales_close_at,
            refund_deadline: self.refund_deadline,
            transfer_deadline: self.transfer_deadline,
        }
    }
}

impl Deadlines {
    fn merge(self, changes: Deadlines) -> Deadlines {
        Deadlines {
            sales_open_at: changes.sales_open_at.or(self.sales_open_at),
            sales_close_at: changes.sales_close_at.or(self.sales_close_at),
            refund_deadline: changes.refund_deadline.or(self.refund_deadline),
            transfer_deadline: changes.transfer_deadline.or(self.transfer_deadline),
        }
    }

    fn check(&self) -> AppResult<()> {
        if let (Some(o), Some(c)) = (self.sales_open_at, self.sales_close_at)
            && c <= o
        {
            return Err(AppError::bad_request("bad_event", "sales must close after they open"));
        }
        Ok(())
    }
}

/// Every event, by start time.
pub fn list_events(conn: &Connection) -> AppResult<Vec<EventRow>> {
    let mut events: Vec<EventRow> = events::all(conn)?
        .into_iter()
        .map(|r| EventRow {
            id: r.id,
            sport: r.sport,
            name: r.name,
            venue: r.venue,
            starts_at: r.starts_at,
            doors_open: r.doors_open,
            doors_close: r.doors_close,
            capacity: r.capacity,
            reserved: r.reserved,
            status: r.status,
            zones: serde_json::from_str(&r.zones).unwrap_or_default(),
            offers: Vec::new(),
            deadlines: Deadlines {
                sales_open_at: r.sales_open_at,
                sales_close_at: r.sales_close_at,
                refund_deadline: r.refund_deadline,
                transfer_deadline: r.transfer_deadline,
            },
            holder_binding: crate::shop::lifecycle::HolderBinding::default(),
            time_zone: r.time_zone,
            venue_address: r.venue_address,
        })
        .collect();
    let policies = crate::shop::binding::policies(conn)?;
    let ids: Vec<u32> = events.iter().map(|e| e.id).collect();
    for (e, offers) in events.iter_mut().zip(offers::of_events(conn, &ids)?) {
        e.holder_binding = policies.get(&e.id).map(|p| p.0).unwrap_or_default();
        e.offers = offers
            .into_iter()
            .map(|o| OfferRow {
                offer_id: o.id,
                admits: Offer::from_name(&o.kind).map_or(0, Offer::admits),
                kind: o.kind,
                price_cents: o.price_cents,
                capacity: o.capacity,
                sold: o.sold,
            })
            .collect();
    }
    Ok(events)
}

/// The facts gates need about the given events (all events when `ids` is `None`).
pub fn event_facts(conn: &Connection, ids: Option<&[u32]>) -> AppResult<Vec<EventFacts>> {
    let all: Vec<EventFacts> = events::all_facts(conn)?
        .into_iter()
        .map(|r| EventFacts {
            event_id: r.id,
            name: r.name,
            sport: r.sport,
            venue: r.venue,
            starts_at: r.starts_at,
            doors_open: r.doors_open,
            doors_close: r.doors_close,
            zones: serde_json::from_str(&r.zones).unwrap_or_default(),
            holder_binding: Default::default(),
            paper_exceptions: Vec::new(),
        })
        .collect();
    // Whether each event needs the phone code, and its paper exceptions (issue 11).
    let policies = crate::shop::binding::policies(conn)?;
    let all: Vec<EventFacts> = all
        .into_iter()
        .map(|mut e| {
            if let Some((policy, exceptions)) = policies.get(&e.event_id) {
                e.holder_binding = *policy;
                e.paper_exceptions = exceptions.clone();
            }
            e
        })
        .collect();
    Ok(match ids {
        None => all,
        Some(ids) => all.into_iter().filter(|e| ids.contains(&e.event_id)).collect(),
    })
}

/// Builds a signed offline bundle: keys, the whole revocation log and event facts.
pub fn gate_bundle(
    conn: &Connection,
    signer: &TicketSigner,
    event: Option<u32>,
    zone: Option<u8>,
    now: i64,
) -> AppResult<Vec<u8>> {
    let ids = event.map(|e| vec![e]);
    let events = event_facts(conn, ids.as_deref())?;
    if let Some(e) = event {
        let Some(facts) = events.first() else {
            return Err(AppError::not_found(format!("no event {e}")));
        };
        if let Some(z) = zone
            && usize::from(z) >= facts.zones.len()
        {
            return Err(AppError::bad_request(
                "unknown_zone",
                format!("event {e} has no zone {z}"),
            ));
        }
    }
    let revocations = crate::gates::sync::full_page_after(conn, 0)?
        .ok_or_else(|| AppError::internal("revocation log has no start"))?;
    let bundle = GateBundle {
        deployment: signer.deployment().clone(),
        created_at: now,
        keys: crate::gates::sync::keys(conn)?,
        revocations,
        events,
        zone,
        log_epoch: crate::trust::revocation::epoch(conn)?,
    };
    Ok(bundle.to_signed_file(signer))
}

/// An operator's decision to issue complimentary tickets beyond an event's capacity.
#[derive(Debug, Clone)]
pub struct ForceCapacity {
    /// Who decided (an operator's email or the CLI user).
    pub operator: String,
    pub reason: String,
}

/// Issues `count` complimentary tickets of `offer` for `event_id` to the account of `email`
/// (created active, with its account key, if it does not exist yet). They take seats like sold
/// tickets: beyond the capacity only with `force`, which raises the capacity by what is missing
/// and records who and why in `capacity_overrides`.
#[allow(clippy::too_many_arguments)]
pub fn issue_comps(
    tx: &Transaction<'_>,
    signer: &TicketSigner,
    event_id: u32,
    offer: Offer,
    email: &str,
    count: u32,
    force: Option<&ForceCapacity>,
    now: i64,
) -> AppResult<Vec<IssuedTicket>> {
    let email = email.trim();
    if !email.contains('@') || email.len() > 254 || email.chars().any(char::is_whitespace) {
        return Err(AppError::bad_request("bad_email", "not an email address"));
    }
    if !(1..=100).contains(&count) {
        return Err(AppError::bad_request(
            "bad_count",
            "issue between 1 and 100 tickets at once",
        ));
    }
    if !events::exists(tx, event_id)? {
        return Err(AppError::not_found(format!("no event {event_id}")));
    }
    let account: Option<(i64, crate::domain::AccountStatus)> = accounts::id_and_status_by_email(tx, email)?;
    let account_id = match account {
        Some((_, crate::domain::AccountStatus::Banned)) => {
            return Err(AppError::conflict("account_banned", "this account is banned"));
        }
        Some((id, status)) => {
            if status != crate::domain::AccountStatus::Active {
                accounts::activate(tx, id, now)?;
            }
            id
        }
        None => {
            // No password yet: the holder sets one with the shop's password reset.
            accounts::insert_active_without_password(tx, email, now)?
        }
    };
    issuance::ensure_account_key(tx, account_id)?;
    let seats = i64::from(count) * i64::from(offer.admits());
    if !crate::shop::orders::take_seats(tx, i64::from(event_id), seats)? {
        let (capacity, reserved, status): (i64, i64, EventStatus) = events::seats(tx, event_id)?;
        if status != EventStatus::Scheduled {
            return Err(AppError::conflict("event_cancelled", "the event is cancelled"));
        }
        let Some(force) = force.filter(|f| !f.reason.trim().is_empty()) else {
            return Err(AppError::conflict(
                "not_enough_seats",
                format!(
                    "only {} seats are left for this event: issuing {seats} needs a forced capacity increase with a reason",
                    capacity - reserved
                ),
            ));
        };
        let missing = reserved + seats - capacity;
        events::raise_capacity_and_reserve(tx, event_id, missing, seats)?;
        events::insert_capacity_override(tx, event_id, missing, &force.operator, force.reason.trim(), now)?;
        tracing::warn!(
            event = event_id,
            seats = missing,
            "capacity raised to issue complimentary tickets"
        );
    }
    let req = TicketRequest {
        event_id: i64::from(event_id),
        offer,
        flags: TicketFlags::COMPLIMENTARY,
        holder_name: String::new(),
        unit_price_cents: 0,
    };
    let reqs = vec![req; count as usize];
    issuance::issue_purchase(tx, signer, account_id, None, PurchaseKind::Complimentary, &reqs, now)
}

/// The non-empty fields of a request as compact JSON (what the audit log keeps of a change).
fn summary_of<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::Object(m)) => {
            let m: serde_json::Map<String, serde_json::Value> = m.into_iter().filter(|(_, v)| !v.is_null()).collect();
            serde_json::Value::Object(m).to_string()
        }
        _ => String::new(),
    }
}

impl NewEvent {
    pub fn summary(&self) -> String {
        summary_of(self)
    }
}

impl EventChanges {
    pub fn summary(&self) -> String {
        summary_of(self)
    }
}

/// An event an operator creates.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    pub sport: String,
    pub name: String,
    pub venue: String,
    pub starts_at: i64,
    pub doors_open: i64,
    pub doors_close: i64,
    pub capacity: i64,
    /// Zone names (1 to 16); index i is bit i of a ticket's zones.
    pub zones: Vec<String>,
    /// Price in cents per offer kind (`solo`, `duo`, `family`); omitted kinds are not sold.
    pub offers: std::collections::BTreeMap<String, i64>,
    /// Sale limit in tickets per offer kind; omitted kinds are limited by `capacity` only.
    #[serde(default)]
    pub offer_capacity: std::collections::BTreeMap<String, i64>,
    /// Sales window and deadlines, Unix seconds (see [`Deadlines`]).
    #[serde(default)]
    pub sales_open_at: Option<i64>,
    #[serde(default)]
    pub sales_close_at: Option<i64>,
    #[serde(default)]
    pub refund_deadline: Option<i64>,
    #[serde(default)]
    pub transfer_deadline: Option<i64>,
    /// `optional` (default) or `required`: whether gates need the ticket open on the phone.
    #[serde(default)]
    pub holder_binding: Option<crate::shop::lifecycle::HolderBinding>,
    /// The venue's IANA time zone (default `Europe/Paris`).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The venue's street address.
    #[serde(default)]
    pub venue_address: Option<String>,
}

/// Changes to an event; omitted fields stay as they are.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventChanges {
    pub sport: Option<String>,
    pub name: Option<String>,
    pub venue: Option<String>,
    pub starts_at: Option<i64>,
    pub doors_open: Option<i64>,
    pub doors_close: Option<i64>,
    pub capacity: Option<i64>,
    /// Zones may only be appended: existing indices are printed on tickets and gate policies.
    pub zones: Option<Vec<String>>,
    /// `scheduled` or `cancelled`.
    pub status: Option<String>,
    /// New prices in cents per offer kind (adds the offer if missing).
    pub offers: Option<std::collections::BTreeMap<String, i64>>,
    /// New sale limits in tickets per offer kind; `null` lifts a kind's limit, omitted kinds
    /// keep theirs.
    #[serde(default)]
    pub offer_capacity: Option<std::collections::BTreeMap<String, Option<i64>>>,
    /// Sales window and deadlines, Unix seconds (see [`Deadlines`]).
    #[serde(default)]
    pub sales_open_at: Option<i64>,
    #[serde(default)]
    pub sales_close_at: Option<i64>,
    #[serde(default)]
    pub refund_deadline: Option<i64>,
    #[serde(default)]
    pub transfer_deadline: Option<i64>,
    /// `optional` or `required`: whether gates need the ticket open on the phone.
    #[serde(default)]
    pub holder_binding: Option<crate::shop::lifecycle::HolderBinding>,
    /// The venue's IANA time zone.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The venue's street address.
    #[serde(default)]
    pub venue_address: Option<String>,
}

/// An IANA time zone name that the bundled database knows (`Europe/Paris`).
pub fn check_time_zone(tz: &str) -> AppResult<String> {
    let tz = tz.trim();
    if tz.is_empty() || tz.len() > 64 || jiff::tz::TimeZone::get(tz).is_err() {
        return Err(AppError::bad_request(
            "bad_time_zone",
            format!("{tz:?} is not a time zone name like Europe/Paris"),
        ));
    }
    Ok(tz.to_owned())
}

/// A street address: empty, or up to 300 printable characters.
fn address(s: &str) -> AppResult<String> {
    let s = s.trim();
    if s.chars().count() > 300 || s.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "bad_field",
            "venue address: up to 300 printable characters",
        ));
    }
    Ok(s.to_owned())
}

fn text(field: &'static str, s: &str) -> AppResult<String> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > 200 || s.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "bad_field",
            format!("{field}: 1 to 200 printable characters"),
        ));
    }
    Ok(s.to_owned())
}

fn check_zones(zones: &[String]) -> AppResult<()> {
    if zones.is_empty() || zones.len() > 16 {
        return Err(AppError::bad_request("bad_zones", "an event has 1 to 16 zones"));
    }
    for z in zones {
        text("zone", z)?;
    }
    Ok(())
}

fn event_row(conn: &Connection, id: i64) -> AppResult<EventRow> {
    list_events(conn)?
        .into_iter()
        .find(|e| i64::from(e.id) == id)
        .ok_or_else(|| AppError::not_found(format!("no event {id}")))
}

fn set_offers(tx: &Transaction<'_>, id: i64, offers: &std::collections::BTreeMap<String, i64>) -> AppResult<()> {
    for (kind, cents) in offers {
        let offer = Offer::from_name(kind)
            .ok_or_else(|| AppError::bad_request("bad_offer", format!("{kind:?} is not solo, duo or family")))?;
        if !(0..=100_000_000).contains(cents) {
            return Err(AppError::bad_request(
                "bad_price",
                "a price is 0 to 1,000,000.00 EUR in cents",
            ));
        }
        offers::upsert_price(tx, id, offer.name(), *cents)?;
    }
    Ok(())
}

/// Sets or lifts offers' sale limits (tickets). A limit is 0 to 10,000,000 and never below the
/// tickets of the offer already held; the kind must be an offer of the event.
fn set_offer_capacity(
    tx: &Transaction<'_>,
    id: i64,
    limits: &std::collections::BTreeMap<String, Option<i64>>,
) -> AppResult<()> {
    for (kind, limit) in limits {
        let offer = Offer::from_name(kind)
            .ok_or_else(|| AppError::bad_request("bad_offer", format!("{kind:?} is not solo, duo or family")))?;
        let sold: i64 = offers::sold(tx, id, offer.name())?.ok_or_else(|| {
            AppError::bad_request(
                "bad_offer",
                format!("the event sells no {} tickets: give it a price first", offer.name()),
            )
        })?;
        if let Some(limit) = *limit {
            if !(0..=10_000_000).contains(&limit) {
                return Err(AppError::bad_request(
                    "bad_capacity",
                    "an offer's limit is 0 to 10,000,000 tickets",
                ));
            }
            if limit < sold {
                return Err(AppError::conflict(
                    "capacity_below_sold",
                    format!("{sold} {} tickets are already sold or held", offer.name()),
                ));
            }
        }
        offers::set_capacity(tx, id, offer.name(), *limit)?;
    }
    Ok(())
}

/// Creates an event with its offers.
pub fn create_event(tx: &Transaction<'_>, e: &NewEvent) -> AppResult<EventRow> {
    check_zones(&e.zones)?;
    if e.doors_close < e.doors_open || e.capacity < 0 || e.offers.is_empty() {
        return Err(AppError::bad_request(
            "bad_event",
            "doors must close after they open, capacity must not be negative, and at least one offer is sold",
        ));
    }
    let deadlines = e.deadlines();
    deadlines.check()?;
    let zones = serde_json::to_string(&e.zones).expect("zones serialise");
    let fields = events::Fields {
        sport: &text("sport", &e.sport)?,
        name: &text("name", &e.name)?,
        venue: &text("venue", &e.venue)?,
        starts_at: e.starts_at,
        doors_open: e.doors_open,
        doors_close: e.doors_close,
        capacity: e.capacity,
        zones: &zones,
        sales_open_at: deadlines.sales_open_at,
        sales_close_at: deadlines.sales_close_at,
        refund_deadline: deadlines.refund_deadline,
        transfer_deadline: deadlines.transfer_deadline,
        time_zone: &check_time_zone(e.time_zone.as_deref().unwrap_or(og_shared::DEFAULT_TIME_ZONE))?,
        venue_address: &address(e.venue_address.as_deref().unwrap_or(""))?,
    };
    let id = events::insert(tx, &fields)?;
    set_offers(tx, id, &e.offers)?;
    let limits = e.offer_capacity.iter().map(|(k, v)| (k.clone(), Some(*v))).collect();
    set_offer_capacity(tx, id, &limits)?;
    if let Some(p) = e.holder_binding {
        crate::shop::binding::set_holder_binding(tx, id, p)?;
    }
    event_row(tx, id)
}

/// Changes an event. Cancelling it revokes every valid ticket of the event in the same
/// transaction (one log entry per ticket, reason `cancelled`), so gates refuse them after their
/// next sync, and records a refund due for every paid order of it (`shop::refunds`), returned so
/// the caller can tell the buyers; a cancelled event cannot be scheduled again, since
/// revocations are final.
pub fn update_event(
    tx: &Transaction<'_>,
    id: u32,
    c: &EventChanges,
    now: i64,
) -> AppResult<(EventRow, Vec<crate::shop::refunds::RefundDue>)> {
    let mut e = event_row(tx, i64::from(id))?;
    let was_cancelled = e.status == EventStatus::Cancelled;
    if let Some(s) = &c.sport {
        e.sport = text("sport", s)?;
    }
    if let Some(s) = &c.name {
        e.name = text("name", s)?;
    }
    if let Some(s) = &c.venue {
        e.venue = text("venue", s)?;
    }
    if let Some(tz) = &c.time_zone {
        e.time_zone = check_time_zone(tz)?;
    }
    if let Some(a) = &c.venue_address {
        e.venue_address = address(a)?;
    }
    e.starts_at = c.starts_at.unwrap_or(e.starts_at);
    e.doors_open = c.doors_open.unwrap_or(e.doors_open);
    e.doors_close = c.doors_close.unwrap_or(e.doors_close);
    if e.doors_close < e.doors_open {
        return Err(AppError::bad_request("bad_event", "doors must close after they open"));
    }
    if let Some(cap) = c.capacity {
        if cap < e.reserved {
            return Err(AppError::conflict(
                "capacity_below_reserved",
                format!("{} seats are already reserved", e.reserved),
            ));
        }
        e.capacity = cap;
    }
    if let Some(z) = &c.zones {
        check_zones(z)?;
        if z.len() < e.zones.len() || z[..e.zones.len()] != e.zones[..] {
            return Err(AppError::conflict(
                "zones_renumbered",
                "zones can only be appended: existing zone numbers are used by tickets and gates",
            ));
        }
        e.zones = z.clone();
    }
    if let Some(s) = &c.status {
        let s = EventStatus::parse(s)
            .ok_or_else(|| AppError::bad_request("bad_status", "status is scheduled or cancelled"))?;
        if was_cancelled && s == EventStatus::Scheduled {
            return Err(AppError::conflict(
                "event_cancelled",
                "a cancelled event cannot be scheduled again: its tickets are revoked; create a new event",
            ));
        }
        e.status = s;
    }
    e.deadlines = e.deadlines.merge(c.deadlines());
    e.deadlines.check()?;
    let zones = serde_json::to_string(&e.zones).expect("zones serialise");
    let fields = events::Fields {
        sport: &e.sport,
        name: &e.name,
        venue: &e.venue,
        starts_at: e.starts_at,
        doors_open: e.doors_open,
        doors_close: e.doors_close,
        capacity: e.capacity,
        zones: &zones,
        sales_open_at: e.deadlines.sales_open_at,
        sales_close_at: e.deadlines.sales_close_at,
        refund_deadline: e.deadlines.refund_deadline,
        transfer_deadline: e.deadlines.transfer_deadline,
        time_zone: &e.time_zone,
        venue_address: &e.venue_address,
    };
    events::update(tx, id, &fields, &e.status)?;
    if let Some(o) = &c.offers {
        set_offers(tx, i64::from(id), o)?;
    }
    if let Some(l) = &c.offer_capacity {
        set_offer_capacity(tx, i64::from(id), l)?;
    }
    if let Some(p) = c.holder_binding {
        crate::shop::binding::set_holder_binding(tx, i64::from(id), p)?;
    }
    let mut refunds = Vec::new();
    if e.status == EventStatus::Cancelled && !was_cancelled {
        // Refunds first: they are owed for the paid tickets still valid, which the revocation ends.
        refunds = crate::shop::refunds::record_for_cancelled_event(tx, id, now)?;
        let tickets = revocation::revoke_event(tx, id, RevocationReason::Cancelled, now)?;
        tracing::info!(
            event = id,
            tickets,
            refunds = refunds.len(),
            "event cancelled: tickets revoked, refunds due"
        );
    }
    Ok((event_row(tx, i64::from(id))?, refunds))
}
