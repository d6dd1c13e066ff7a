//! The console's event pages: create and edit an event with its offers (forms whose times are
//! typed in the venue's time zone), publish (open sales now), and the event-day dashboard with
//! its live panel and a server-drawn SVG chart of entries per gate per minute.

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, PreEscaped, html};

use super::auth::ConsoleOperator;
use super::console_ui::{self as ui, Section, live_panel, local, table};
use crate::error::{AppError, AppResult};
use crate::ops::access::Permission;
use crate::ops::actions;
use crate::ops::auth::OperatorAuth;
use crate::ops::catalogue::{EventChanges, EventRow, NewEvent};
use crate::ops::dashboard::{CHART_MINUTES, Dashboard};
use crate::state::AppState;
use crate::web::layout::csrf_field;

/// Time zones offered in the form's list (any IANA name is accepted).
const ZONES: &[&str] = &[
    "Europe/Paris",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Madrid",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Brisbane",
    "Pacific/Tahiti",
    "UTC",
];

/// The event form as typed (every field text, so a refused form comes back as typed).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct EventForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    sport: String,
    #[serde(default)]
    venue: String,
    #[serde(default)]
    venue_address: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    doors_open: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    doors_close: String,
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    zones: String,
    #[serde(default)]
    price_solo: String,
    #[serde(default)]
    price_duo: String,
    #[serde(default)]
    price_family: String,
    #[serde(default)]
    limit_solo: String,
    #[serde(default)]
    limit_duo: String,
    #[serde(default)]
    limit_family: String,
    #[serde(default)]
    sales_open_at: String,
    #[serde(default)]
    refund_deadline: String,
    #[serde(default)]
    transfer_deadline: String,
    #[serde(default)]
    holder_binding: String,
}

const LOCAL_INPUT: &str = "%Y-%m-%dT%H:%M";

fn local_input(ts: Option<i64>, tz: &str) -> String {
    ts.map(|t| ui::local_fmt(t, tz, LOCAL_INPUT)).unwrap_or_default()
}

impl EventForm {
    fn from_event(e: &EventRow) -> EventForm {
        let price = |k: &str| {
            e.offers
                .iter()
                .find(|o| o.kind == k)
                .map(|o| format!("{}.{:02}", o.price_cents / 100, o.price_cents % 100))
                .unwrap_or_default()
        };
        let limit = |k: &str| {
            e.offers
                .iter()
                .find(|o| o.kind == k)
                .and_then(|o| o.capacity)
                .map(|c| c.to_string())
                .unwrap_or_default()
        };
        let tz = &e.time_zone;
        EventForm {
            name: e.name.clone(),
            sport: e.sport.clone(),
            venue: e.venue.clone(),
            venue_address: e.venue_address.clone(),
            time_zone: tz.clone(),
            doors_open: local_input(Some(e.doors_open), tz),
            starts_at: local_input(Some(e.starts_at), tz),
            doors_close: local_input(Some(e.doors_close), tz),
            capacity: e.capacity.to_string(),
            zones: e.zones.join(", "),
            price_solo: price("solo"),
            price_duo: price("duo"),
            price_family: price("family"),
            limit_solo: limit("solo"),
            limit_duo: limit("duo"),
            limit_family: limit("family"),
            sales_open_at: local_input(e.deadlines.sales_open_at, tz),
            refund_deadline: local_input(e.deadlines.refund_deadline, tz),
            transfer_deadline: local_input(e.deadlines.transfer_deadline, tz),
            holder_binding: match e.holder_binding {
                crate::shop::lifecycle::HolderBinding::Required => "required".into(),
                _ => "optional".into(),
            },
        }
    }

    /// The parsed fields, or what is wrong in words.
    fn parse(&self) -> Result<Parsed, String> {
        let tz = match self.time_zone.trim() {
            "" => og_shared::DEFAULT_TIME_ZONE.to_owned(),
            t => crate::ops::catalogue::check_time_zone(t).map_err(|e| e.public_message())?,
        };
        let zone = jiff::tz::TimeZone::get(&tz).map_err(|_| format!("{tz:?} is not a time zone"))?;
        let when = |label: &str, s: &str| -> Result<Option<i64>, String> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            let dt = jiff::civil::DateTime::strptime(LOCAL_INPUT, s)
                .or_else(|_| jiff::civil::DateTime::strptime("%Y-%m-%dT%H:%M:%S", s))
                .or_else(|_| jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", s))
                .map_err(|_| format!("{label}: {s:?} is not a date and time like 2026-07-27T19:30"))?;
            let z = dt
                .to_zoned_datetime(zone.clone())
                .map_err(|_| format!("{label}: {s:?} does not exist in {tz}"))?;
            Ok(Some(z.timestamp().as_second()))
        };
        let needed = |label: &str, s: &str| -> Result<i64, String> {
            when(label, s)?.ok_or_else(|| format!("{label} is needed"))
        };
        let price = |label: &str, s: &str| -> Result<Option<i64>, String> {
            let s = s.trim().trim_start_matches('€').trim();
            if s.is_empty() {
                return Ok(None);
            }
            let (euros, cents) = s.split_once(['.', ',']).unwrap_or((s, "0"));
            let cents = format!("{cents:0<2}");
            match (euros.parse::<i64>(), cents.parse::<i64>()) {
                (Ok(e), Ok(c)) if cents.len() == 2 && (0..=1_000_000).contains(&e) && c >= 0 => Ok(Some(e * 100 + c)),
                _ => Err(format!("{label}: {s:?} is not a price like 45.00")),
            }
        };
        let limit = |label: &str, s: &str| -> Result<Option<i64>, String> {
            match s.trim() {
                "" => Ok(None),
                s => s
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (0..=10_000_000).contains(n))
                    .map(Some)
                    .ok_or_else(|| format!("{label}: {s:?} is not a number of tickets")),
            }
        };
        let mut offers = std::collections::BTreeMap::new();
        // The limit of every kind on sale: a number, or `None` (no limit of its own).
        let mut offer_capacity = std::collections::BTreeMap::new();
        for (kind, label, v, l) in [
            ("solo", "Solo", &self.price_solo, &self.limit_solo),
            ("duo", "Duo", &self.price_duo, &self.limit_duo),
            ("family", "Family", &self.price_family, &self.limit_family),
        ] {
            let limit = limit(&format!("{label} tickets on sale"), l)?;
            match price(&format!("{label} price"), v)? {
                Some(c) => {
                    offers.insert(kind.to_owned(), c);
                    offer_capacity.insert(kind.to_owned(), limit);
                }
                None if limit.is_some() => {
                    return Err(format!(
                        "{label}: a limit of tickets needs a price (the offer is not sold)"
                    ));
                }
                None => {}
            }
        }
        let capacity = self
            .capacity
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("capacity: {:?} is not a number of seats", self.capacity.trim()))?;
        let zones: Vec<String> = self
            .zones
            .split(',')
            .map(|z| z.trim().to_owned())
            .filter(|z| !z.is_empty())
            .collect();
        let holder_binding = match self.holder_binding.trim() {
            "required" => Some(crate::shop::lifecycle::HolderBinding::Required),
            "" | "optional" => Some(crate::shop::lifecycle::HolderBinding::Optional),
            other => return Err(format!("{other:?} is not a holder-binding policy")),
        };
        let (doors_open, starts_at, doors_close) = (
            needed("Doors open", &self.doors_open)?,
            needed("Start", &self.starts_at)?,
            needed("Doors close", &self.doors_close)?,
        );
        if !(doors_open <= starts_at && starts_at <= doors_close) {
            return Err("the start must be between the doors opening and closing".into());
        }
        Ok(Parsed {
            name: self.name.clone(),
            sport: self.sport.clone(),
            venue: self.venue.clone(),
            venue_address: self.venue_address.clone(),
            time_zone: tz.clone(),
            doors_open,
            starts_at,
            doors_close,
            capacity,
            zones,
            offers,
            offer_capacity,
            sales_open_at: when("Sales open", &self.sales_open_at)?,
            refund_deadline: when("Refund deadline", &self.refund_deadline)?,
            transfer_deadline: when("Transfer deadline", &self.transfer_deadline)?,
            holder_binding,
        })
    }
}

struct Parsed {
    name: String,
    sport: String,
    venue: String,
    venue_address: String,
    time_zone: String,
    doors_open: i64,
    starts_at: i64,
    doors_close: i64,
    capacity: i64,
    zones: Vec<String>,
    offers: std::collections::BTreeMap<String, i64>,
    offer_capacity: std::collections::BTreeMap<String, Option<i64>>,
    sales_open_at: Option<i64>,
    refund_deadline: Option<i64>,
    transfer_deadline: Option<i64>,
    holder_binding: Option<crate::shop::lifecycle::HolderBinding>,
}

impl Parsed {
    fn new_event(self) -> NewEvent {
        NewEvent {
            sport: self.sport,
            name: self.name,
            venue: self.venue,
            starts_at: self.starts_at,
            doors_open: self.doors_open,
            doors_close: self.doors_close,
            capacity: self.capacity,
            zones: self.zones,
            offers: self.offers,
            offer_capacity: self
                .offer_capacity
                .into_iter()
                .filter_map(|(k, v)| Some((k, v?)))
                .collect(),
            sales_open_at: self.sales_open_at,
            sales_close_at: None,
            refund_deadline: self.refund_deadline,
            transfer_deadline: self.transfer_deadline,
            holder_binding: self.holder_binding,
            time_zone: Some(self.time_zone),
            venue_address: Some(self.venue_address),
        }
    }

    fn changes(self) -> EventChanges {
        EventChanges {
            sport: Some(self.sport),
            name: Some(self.name),
            venue: Some(self.venue),
            starts_at: Some(self.starts_at),
            doors_open: Some(self.doors_open),
            doors_close: Some(self.doors_close),
            capacity: Some(self.capacity),
            zones: Some(self.zones),
            status: None,
            offers: Some(self.offers).filter(|o| !o.is_empty()),
            offer_capacity: Some(self.offer_capacity).filter(|o| !o.is_empty()),
            sales_open_at: self.sales_open_at,
            sales_close_at: None,
            refund_deadline: self.refund_deadline,
            transfer_deadline: self.transfer_deadline,
            holder_binding: self.holder_binding,
            time_zone: Some(self.time_zone),
            venue_address: Some(self.venue_address),
        }
    }
}

fn event_form(action: &str, f: &EventForm, error: Option<&str>, submit: &str) -> Markup {
    let field = |id: &str, label: &str, value: &str, kind: &str, required: bool, hint: &str| {
        html! {
            div {
                label for=(id) { (label) }
                input #(id) name=(id) type=(kind) value=(value) required[required] list=[(id == "time_zone").then_some("zones")];
                @if !hint.is_empty() { span.meta { (hint) } }
            }
        }
    };
    html! {
        @if let Some(e) = error { div.notice.error role="alert" { (e) } }
        form method="post" action=(action) { (csrf_field())
            fieldset { legend { "The event" }
                div.formgrid {
                    (field("name", "Name", &f.name, "text", true, ""))
                    (field("sport", "Sport", &f.sport, "text", true, ""))
                    (field("venue", "Venue", &f.venue, "text", true, ""))
                    (field("venue_address", "Venue address", &f.venue_address, "text", false, ""))
                    (field("time_zone", "Venue time zone", &f.time_zone, "text", true, "IANA name, e.g. Europe/Paris"))
                    (field("capacity", "Capacity (people)", &f.capacity, "number", true, ""))
                    (field("zones", "Zones (comma-separated)", &f.zones, "text", true, "zones can only be added later"))
                    div { label for="holder_binding" { "Phone ticket" }
                        select #holder_binding name="holder_binding" {
                            option value="optional" selected[f.holder_binding != "required"] { "optional: paper or phone" }
                            option value="required" selected[f.holder_binding == "required"] { "required: phone code only" }
                        }
                    }
                }
                datalist #zones { @for z in ZONES { option value=(z) {} } }
            }
            fieldset { legend { "Times, in the venue's time zone" }
                div.formgrid {
                    (field("doors_open", "Doors open", &f.doors_open, "datetime-local", true, ""))
                    (field("starts_at", "Start", &f.starts_at, "datetime-local", true, ""))
                    (field("doors_close", "Doors close", &f.doors_close, "datetime-local", true, ""))
                    (field("sales_open_at", "Sales open", &f.sales_open_at, "datetime-local", false, "empty: on sale now (published)"))
                    (field("refund_deadline", "Refund deadline", &f.refund_deadline, "datetime-local", false, "empty: when the doors open"))
                    (field("transfer_deadline", "Transfer deadline", &f.transfer_deadline, "datetime-local", false, "empty: when the doors open"))
                }
            }
            fieldset { legend { "Offers: prices (EUR; empty: not sold) and tickets on sale (empty: up to the capacity)" }
                div.formgrid {
                    (field("price_solo", "Solo (1 person) price", &f.price_solo, "text", false, ""))
                    (field("limit_solo", "Solo tickets on sale", &f.limit_solo, "number", false, ""))
                    (field("price_duo", "Duo (2 people) price", &f.price_duo, "text", false, ""))
                    (field("limit_duo", "Duo tickets on sale", &f.limit_duo, "number", false, ""))
                    (field("price_family", "Family (4 people) price", &f.price_family, "text", false, ""))
                    (field("limit_family", "Family tickets on sale", &f.limit_family, "number", false, ""))
                }
            }
            p { button type="submit" { (submit) } }
        }
    }
}

pub async fn new_event_page(ConsoleOperator(op): ConsoleOperator) -> Response {
    let f = EventForm {
        time_zone: og_shared::DEFAULT_TIME_ZONE.into(),
        zones: "General".into(),
        holder_binding: "optional".into(),
        ..Default::default()
    };
    ui::page(
        &op,
        Section::Events,
        "New event",
        event_form("/ops/events/new", &f, None, "Create the event"),
    )
    .into_response()
}

fn refused(
    op: &OperatorAuth,
    title: &str,
    action: &str,
    f: &EventForm,
    status: StatusCode,
    e: &str,
    submit: &str,
) -> Response {
    (
        status,
        ui::page(op, Section::Events, title, event_form(action, f, Some(e), submit)),
    )
        .into_response()
}

pub async fn create_event(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Form(f): Form<EventForm>,
) -> AppResult<Response> {
    let parsed = match f.parse() {
        Ok(p) => p,
        Err(e) => {
            return Ok(refused(
                &op,
                "New event",
                "/ops/events/new",
                &f,
                StatusCode::BAD_REQUEST,
                &e,
                "Create the event",
            ));
        }
    };
    match actions::create_event(&state, &op, parsed.new_event()).await {
        Ok(row) => Ok(Redirect::to(&format!("/ops/events/{}", row.id)).into_response()),
        Err(e) if e.status().is_client_error() => Ok(refused(
            &op,
            "New event",
            "/ops/events/new",
            &f,
            e.status(),
            &e.public_message(),
            "Create the event",
        )),
        Err(e) => Err(e),
    }
}

async fn event(state: &AppState, id: u32) -> AppResult<EventRow> {
    state
        .db
        .read(crate::ops::catalogue::list_events)
        .await?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| AppError::not_found(format!("no event {id}")))
}

pub async fn edit_event_page(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Path(id): Path<u32>,
) -> AppResult<Response> {
    let e = event(&state, id).await?;
    let action = format!("/ops/events/{id}/edit");
    Ok(ui::page(
        &op,
        Section::Events,
        &format!("Edit {}", e.name),
        event_form(&action, &EventForm::from_event(&e), None, "Save changes"),
    )
    .into_response())
}

pub async fn edit_event(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Path(id): Path<u32>,
    Form(f): Form<EventForm>,
) -> AppResult<Response> {
    let action = format!("/ops/events/{id}/edit");
    let parsed = match f.parse() {
        Ok(p) => p,
        Err(e) => {
            return Ok(refused(
                &op,
                "Edit event",
                &action,
                &f,
                StatusCode::BAD_REQUEST,
                &e,
                "Save changes",
            ));
        }
    };
    match actions::change_event(&state, &op, id, parsed.changes()).await {
        Ok(_) => Ok(Redirect::to(&format!("/ops/events/{id}")).into_response()),
        Err(e) if e.status().is_client_error() => Ok(refused(
            &op,
            "Edit event",
            &action,
            &f,
            e.status(),
            &e.public_message(),
            "Save changes",
        )),
        Err(e) => Err(e),
    }
}

/// Opens an event's sales now (an event whose sales open later is not on sale yet).
pub async fn publish_event(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Path(id): Path<u32>,
) -> AppResult<Response> {
    let changes = EventChanges {
        sales_open_at: Some(crate::now()),
        ..Default::default()
    };
    actions::change_event(&state, &op, id, changes).await?;
    Ok(Redirect::to(&format!("/ops/events/{id}")).into_response())
}

// ------------------------------------------------------------------------------------------
// Event-day dashboard

const COLOURS: &[&str] = &[
    "#0b5cad", "#146c2e", "#a4161a", "#7a4cc2", "#b35c00", "#0a7d8c", "#555555",
];

/// Entries (admitted scans) per gate per minute over the last [`CHART_MINUTES`], as an SVG line
/// chart drawn here (no script), with its legend.
pub fn entries_chart(d: &Dashboard) -> Markup {
    let (w, h, left, bottom, top) = (600.0_f64, 180.0_f64, 34.0_f64, 22.0_f64, 8.0_f64);
    let end = (d.now / 60) * 60;
    let start = end - (CHART_MINUTES - 1) * 60;
    let mut gates: Vec<&str> = d.minutes.iter().map(|m| m.gate.as_str()).collect();
    gates.sort_unstable();
    gates.dedup();
    let max = d.minutes.iter().map(|m| m.admitted).max().unwrap_or(0).max(1);
    let x = |minute: i64| left + (minute - start) as f64 / ((CHART_MINUTES - 1) * 60) as f64 * (w - left - 6.0);
    let y = |v: u64| top + (h - top - bottom) * (1.0 - v as f64 / max as f64);
    let tz = &d.event.time_zone;
    let mut svg = format!(
        r##"<svg viewBox="0 0 {w} {h}" role="img" aria-label="Entries per gate per minute, last {CHART_MINUTES} minutes" xmlns="http://www.w3.org/2000/svg" font-size="11" font-family="system-ui,sans-serif">"##
    );
    svg.push_str(&format!(
        r##"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#888"/><line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="#888"/>"##,
        h - bottom,
        w - 6.0,
        h - bottom,
        h - bottom
    ));
    svg.push_str(&format!(
        r##"<text x="{}" y="{}" text-anchor="end">{max}</text><text x="{}" y="{}" text-anchor="end">0</text>"##,
        left - 4.0,
        top + 9.0,
        left - 4.0,
        h - bottom
    ));
    svg.push_str(&format!(
        r##"<text x="{left}" y="{}">{}</text><text x="{}" y="{}" text-anchor="end">{}</text>"##,
        h - 6.0,
        ui::local_fmt(start, tz, "%H:%M"),
        w - 6.0,
        h - 6.0,
        ui::local_fmt(end, tz, "%H:%M")
    ));
    for (i, g) in gates.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let mut per: std::collections::BTreeMap<i64, u64> = std::collections::BTreeMap::new();
        for m in d.minutes.iter().filter(|m| m.gate == *g && m.minute >= start) {
            per.insert(m.minute, m.admitted);
        }
        let points: Vec<String> = (0..CHART_MINUTES)
            .map(|k| {
                let minute = start + k * 60;
                let v = per.get(&minute).copied().unwrap_or(0);
                format!("{:.1},{:.1}", x(minute), y(v))
            })
            .collect();
        svg.push_str(&format!(
            r##"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"##,
            points.join(" ")
        ));
    }
    svg.push_str("</svg>");
    html! {
        div.chart { (PreEscaped(svg)) }
        @if gates.is_empty() { p.meta { "No entries in the last " (CHART_MINUTES) " minutes." } }
        @else {
            p.meta { @for (i, g) in gates.iter().enumerate() {
                span style={ "color:" (COLOURS[i % COLOURS.len()]) ";font-weight:700" } { "■ " } (g) " "
            } }
        }
    }
}

/// The live part of the dashboard.
pub fn dashboard_body(op: &OperatorAuth, d: &Dashboard) -> Markup {
    let tz = &d.event.time_zone;
    let online = |dev: &crate::gates::devices::DeviceView| {
        dev.status == "active"
            && dev
                .last_contact
                .is_some_and(|t| d.now - t <= super::console_ui::ONLINE_SECS)
    };
    html! {
        @if !d.conflicts.is_empty() {
            div.alert role="alert" {
                strong { (d.conflicts.len()) " ticket(s) admitted more often than they admit." }
                " What to do: send a steward to the gates named; compare the people with the ticket's holder and party; "
                "if it was copied, open the ticket and revoke it so every gate refuses it at its next sync."
                ul { @for c in &d.conflicts {
                    li { a href={ "/ops/tickets/" (c.serial) } { "Ticket " (c.serial) } ": admits " (c.allowed) ", admitted " (c.admitted)
                        " at " (c.gates.join(", ")) " (" (ui::local_clock(c.detected_at, tz)) ")" }
                } }
            }
        }
        div.stats {
            div.stat { span.meta { "Admitted" } b #admitted { (d.admitted_people) } span.meta { "of " (d.sold_people) " holding tickets" } }
            div.stat { span.meta { "Still to come" } b { ((d.sold_people - d.admitted_people).max(0)) } }
            div.stat { span.meta { "Refused scans" } b { (d.refused_scans) } }
            div.stat { span.meta { "Gates online" } b { (d.devices.iter().filter(|x| online(x)).count()) " / " (d.devices.iter().filter(|x| x.status == "active").count()) } }
        }
        h2 { "Sales" }
        (table(&["Offer", "Tickets", "Still valid", "Sale limit", "Paid", "Refunds"], sales_rows(d).into_iter().map(|(kind, s, o)| vec![
            html! { (kind) }, html! { (s.map_or(0, |s| s.tickets)) }, html! { (s.map_or(0, |s| s.valid)) },
            html! { @match o.and_then(|o| o.capacity.map(|c| (o.sold, c))) {
                Some((sold, c)) => span class=(if sold >= c { "bad" } else { "" }) { (sold) " of " (c) " sold" },
                None => span.meta { "none" },
            } },
            html! { (crate::web::layout::euros(s.map_or(0, |s| s.revenue_cents))) },
            html! { @let r = s.map_or(0, |s| s.refunds_cents); span class=(if r > 0 { "bad" } else { "" }) { (crate::web::layout::euros(r)) } },
        ]).collect()))
        p.meta { "Capacity " (d.event.capacity) " people, " (d.event.reserved) " taken (paid, pending and complimentary). "
            "A sale limit counts the tickets of pending and paid orders; complimentary tickets count against the capacity only." }
        h2 { "Entries per minute per gate" }
        (entries_chart(d))
        h2 { "Gates" }
        @if d.devices.is_empty() { p { "No gate enrolled for this event." @if op.can(Permission::ManageGates) { " " a href="/ops/enrol" { "Enrol one" } "." } } }
        @else {
            (table(&["Gate", "State", "Last contact", "Data age", "Clock", "Queued"], d.devices.iter().map(|dev| vec![
                html! { strong { (dev.name) } br; code.meta { (dev.device_id) } },
                html! { @if dev.status != "active" { span.pill.off { "revoked" } } @else if online(dev) { span.pill.on { "online" } } @else { span.pill.off { "offline" } } },
                html! { @match dev.last_contact { None => "never", Some(t) => { (ui::local_clock(t, tz)) " (" (d.now - t) " s ago)" } } },
                html! { @match dev.data_age_secs { None => span.bad { "no data" }, Some(a) => span class=(if a > 600 || dev.sync_refusal.is_some() { "bad" } else { "" }) { (a) " s" } } },
                html! { @match dev.clock_offset_secs { None => "not reported", Some(o) => span class=(if o.abs() > crate::gates::devices::CLOCK_WARNING_SECS { "bad" } else { "" }) { (o) " s" } } },
                html! { (dev.queued) },
            ]).collect()))
        }
    }
}

/// One row per offer of the event (sold or not yet) and per offer tickets were issued for.
fn sales_rows(
    d: &Dashboard,
) -> Vec<(
    &str,
    Option<&crate::ops::dashboard::OfferSales>,
    Option<&crate::ops::catalogue::OfferRow>,
)> {
    let mut kinds: Vec<&str> = d.event.offers.iter().map(|o| o.kind.as_str()).collect();
    kinds.extend(
        d.sales
            .iter()
            .map(|s| s.offer.as_str())
            .filter(|k| !d.event.offers.iter().any(|o| o.kind == *k)),
    );
    kinds
        .into_iter()
        .map(|k| {
            (
                k,
                d.sales.iter().find(|s| s.offer == k),
                d.event.offers.iter().find(|o| o.kind == k),
            )
        })
        .collect()
}

async fn dashboard(state: &AppState, id: u32) -> AppResult<Dashboard> {
    let now = crate::now();
    state
        .db
        .read(move |c| crate::ops::dashboard::dashboard(c, id, now))
        .await
}

pub async fn dashboard_page(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Path(id): Path<u32>,
) -> AppResult<Response> {
    let d = dashboard(&state, id).await?;
    let e = &d.event;
    let tz = &e.time_zone;
    let on_sale_later = e.deadlines.sales_open_at.is_some_and(|t| t > d.now);
    Ok(ui::page(&op, Section::Events, &e.name, html! {
        p { span.sport { (e.sport) } " " (e.venue) @if !e.venue_address.is_empty() { ", " (e.venue_address) } br;
            "Doors " (local(e.doors_open, tz)) " · start " (ui::local_fmt(e.starts_at, tz, "%H:%M")) " · doors close " (ui::local_fmt(e.doors_close, tz, "%H:%M"))
            " (" (tz) ")" br;
            @if e.status == crate::domain::EventStatus::Cancelled { span.pill.off { "cancelled" } }
            @else if on_sale_later { span.pill.off { "not on sale until " (local(e.deadlines.sales_open_at.unwrap_or(0), tz)) } }
            @else { span.pill.on { "on sale" } }
            " " (e.offers.iter().map(|o| match o.capacity {
                Some(c) => format!("{} {} ({} of {c} sold)", o.kind, crate::web::layout::euros(o.price_cents), o.sold),
                None => format!("{} {}", o.kind, crate::web::layout::euros(o.price_cents)),
            }).collect::<Vec<_>>().join(" · "))
        }
        @if op.can(Permission::ManageEvents) && e.status != crate::domain::EventStatus::Cancelled {
            div.actions style="margin-bottom:16px" {
                a.button href={ "/ops/events/" (e.id) "/edit" } { "Edit the event and its offers" }
                @if on_sale_later {
                    form method="post" action={ "/ops/events/" (e.id) "/publish" } style="padding:0;border:0;flex:0 0 auto" { (csrf_field())
                        button type="submit" { "Publish: open sales now" } }
                }
                a.button href={ "/events/" (e.id) } style="background:#fff;color:var(--accent);border:1px solid var(--accent)" { "See it in the shop" }
            }
        }
        (live_panel("dashboard", "Now", &format!("/ops/events/{id}/panel"), dashboard_body(&op, &d)))
    })
    .into_response())
}

pub async fn dashboard_panel(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Path(id): Path<u32>,
) -> AppResult<Markup> {
    let d = dashboard(&state, id).await?;
    Ok(dashboard_body(&op, &d))
}
