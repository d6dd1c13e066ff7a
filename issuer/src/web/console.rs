//! The operator console: server-rendered pages under `/ops` (maud) in the shop's design
//! language (`console_ui`). Monitoring panels (devices, conflicts, an event's gates and scans)
//! update in place: `/ops/console.js` fetches each panel's HTML fragment every few seconds and
//! replaces that panel only, leaving alone a panel whose fields are being typed in; without
//! script the pages still work (reload to update).
//!
//! Sign-in: the operator pastes an operator token; the console checks it and starts a
//! server-side session (see `ops::auth`): the browser gets only the session's random id in the
//! `__Host-og_ops` cookie (HttpOnly, Secure, SameSite=Strict), which logout, idleness and an
//! absolute lifetime end. Every form carries the CSRF token (`web::layout::csrf_field`). Who may open
//! which page is decided by `ops::access` (one table, one layer), not here.

use std::collections::HashMap;

use axum::Router;

use super::csrf;
use axum::extract::{Form, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use maud::{Markup, html};
use og_shared::Offer;
use og_shared::sync::RevocationReason;

use super::auth::ConsoleOperator;
use super::console_ui::{self as ui, ONLINE_SECS, Section, live_panel, local, table};
use crate::error::{AppError, AppResult};
use crate::gates::devices::{self, DeviceView, NewEnrolmentToken};
use crate::ops::access::Permission;
use crate::ops::actions::{self, CompRequest, RevokeRequest};
use crate::ops::auth::{OPERATOR_COOKIE, OperatorAuth, operator_for_token};
use crate::ops::catalogue::EventRow;
use crate::state::AppState;
use crate::web::layout::csrf_field;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ops/login", get(login_page).post(login))
        .route("/ops/logout", post(logout))
        .route("/ops/console.js", get(script))
        .route("/ops", get(devices_page))
        .route("/ops/panels/devices", get(devices_panel))
        .route("/ops/devices/{id}/revoke", post(revoke_device))
        .route("/ops/devices/{id}/rename", post(rename_device))
        .route("/ops/devices/{id}/rotate", post(rotate_device))
        .route("/ops/enrol", get(enrol_page).post(enrol))
        .route("/ops/events", get(events_page))
        .route(
            "/ops/events/new",
            get(super::console_events::new_event_page).post(super::console_events::create_event),
        )
        .route("/ops/events/{id}", get(super::console_events::dashboard_page))
        .route("/ops/events/{id}/panel", get(super::console_events::dashboard_panel))
        .route(
            "/ops/events/{id}/edit",
            get(super::console_events::edit_event_page).post(super::console_events::edit_event),
        )
        .route("/ops/events/{id}/publish", post(super::console_events::publish_event))
        .route("/ops/events/{id}/scans", get(scans_page))
        .route("/ops/events/{id}/scans/panel", get(scans_panel))
        .route("/ops/events/{id}/cancel", post(cancel_event))
        .route("/ops/conflicts", get(conflicts_page))
        .route("/ops/panels/conflicts", get(conflicts_panel))
        .route("/ops/revocations", get(revocations_page).post(revoke))
        .route("/ops/comp", get(comp_page).post(comp))
        .route("/ops/refunds", get(refunds_page))
        .route("/ops/refunds/{id}/settle", post(settle_refund))
        .route("/ops/audit", get(audit_page))
        .route("/ops/search", get(super::console_find::search_page))
        .route(
            csrf::SEARCH_IMAGE,
            post(super::console_find::search_image).layer(axum::extract::DefaultBodyLimit::max(
                csrf::upload_limit(csrf::SEARCH_IMAGE).unwrap_or(0),
            )),
        )
        .route(
            "/ops/accounts/{id}/resend-activation",
            post(super::console_find::resend_activation),
        )
        .route("/ops/tickets/{serial}", get(super::console_find::ticket_page))
        .route("/ops/tickets/{serial}/revoke", post(super::console_find::revoke_ticket))
        .route("/ops/tickets/{serial}/refund", post(super::console_find::refund_ticket))
        .route(
            "/ops/tickets/{serial}/paper-exception",
            post(super::console_find::paper_exception),
        )
        .route("/ops/export", get(super::console_find::export_page))
        .route("/ops/export/csv", get(super::console_find::export_csv))
        .layer(axum::middleware::map_response(ui::with_console_csp))
}

/// A console page answered with a status (a refused form shown again with its error).
fn with_status(status: StatusCode, page: Markup) -> Response {
    (status, page).into_response()
}

async fn script() -> Response {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        ui::CONSOLE_JS,
    )
        .into_response()
}

/// "3 s ahead", "40 s behind", "in step".
fn clock_offset(o: i64) -> String {
    match o {
        0 => "in step with the issuer".into(),
        o if o > 0 => format!("{o} s ahead"),
        o => format!("{} s behind", -o),
    }
}

fn age(secs: Option<i64>) -> String {
    match secs {
        None => "no data".into(),
        Some(s) if s < 120 => format!("{s} s"),
        Some(s) if s < 7200 => format!("{} min", s / 60),
        Some(s) => format!("{} h", s / 3600),
    }
}

/// Each event's time zone, to show a device's or a conflict's times at its venue.
fn zones(events: &[EventRow]) -> HashMap<u32, String> {
    events.iter().map(|e| (e.id, e.time_zone.clone())).collect()
}

/// The time zone of the first of `ids` that is known (UTC otherwise).
fn zone_of<'a>(zones: &'a HashMap<u32, String>, ids: &[u32]) -> &'a str {
    ids.iter().find_map(|i| zones.get(i)).map_or("UTC", String::as_str)
}

async fn login_page() -> Markup {
    login_form(None)
}

fn login_form(error: Option<&str>) -> Markup {
    ui::bare(
        "Operator sign-in",
        html! {
            @if let Some(e) = error { div.notice.error role="alert" { (e) } }
            form method="post" action="/ops/login" { (csrf_field())
                label for="token" { "Operator token" }
                input #token name="token" type="password" autocomplete="off" required style="width:100%";
                p { button type="submit" { "Sign in" } }
            }
            p.meta { "Get a token with " code { "issuer admin create-operator --email you@example.org --role support" } "." }
        },
    )
}

#[derive(serde::Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(State(state): State<AppState>, Form(f): Form<LoginForm>) -> AppResult<Response> {
    let token = f.token.trim().to_owned();
    let ok = state.db.read(move |c| operator_for_token(c, &token)).await?;
    let Some(op) = ok else {
        return Ok(with_status(
            StatusCode::UNAUTHORIZED,
            login_form(Some("That is not a valid operator token.")),
        ));
    };
    let now = crate::now();
    let sid = state
        .db
        .write(move |tx| crate::ops::auth::start_console_session(tx, op.account_id, now))
        .await?;
    let cookie = format!("{OPERATOR_COOKIE}={sid}; Path=/; HttpOnly; Secure; SameSite=Strict");
    let mut resp = Redirect::to("/ops").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(AppError::internal)?,
    );
    Ok(resp)
}

async fn logout(State(state): State<AppState>, headers: axum::http::HeaderMap) -> AppResult<Response> {
    if let Some(sid) = crate::shop::auth::get_cookie(&headers, OPERATOR_COOKIE) {
        let now = crate::now();
        state
            .db
            .write(move |tx| crate::ops::auth::end_console_session(tx, &sid, now))
            .await?;
    }
    let mut resp = Redirect::to("/ops/login").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("__Host-og_ops=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0"),
    );
    Ok(resp)
}

// ------------------------------------------------------------------------------------------
// Devices

async fn devices_data(state: &AppState) -> AppResult<(Vec<DeviceView>, HashMap<u32, String>, i64)> {
    let now = crate::now();
    let (list, events) = state
        .db
        .read(move |c| Ok((devices::list(c, now)?, crate::ops::catalogue::list_events(c)?)))
        .await?;
    Ok((list, zones(&events), now))
}

/// Whether a device was heard from recently.
fn online(d: &DeviceView, now: i64) -> bool {
    d.status == "active" && d.last_contact.is_some_and(|t| now - t <= ONLINE_SECS)
}

fn device_rows(op: &OperatorAuth, list: &[DeviceView], zones: &HashMap<u32, String>, now: i64) -> Markup {
    if list.is_empty() {
        return html! { p { "No gate enrolled yet." @if op.can(Permission::ManageGates) { " " a href="/ops/enrol" { "Enrol one" } "." } } };
    }
    let rows = list
        .iter()
        .map(|d| {
            let tz = zone_of(zones, &d.event_ids);
            let stale = d.data_age_secs.is_none_or(|a| a > 600) || d.sync_refusal.is_some();
            vec![
                html! { strong { (d.name) } br; code.meta { (d.device_id) } },
                html! {
                    @if d.status != "active" { span.pill.off { "revoked" } }
                    @else if online(d, now) { span.pill.on { "online" } }
                    @else { span.pill.off { "offline" } }
                },
                html! { (d.event_ids.iter().map(u32::to_string).collect::<Vec<_>>().join(", "))
                @if let Some(z) = d.zone { " · zone " (z) } },
                html! { @match d.last_contact {
                    None => "never",
                    Some(t) => { (local(t, tz)) br; span.meta { (age(Some(now - t))) " ago" } },
                } },
                html! { span class=(if stale { "bad" } else { "" }) { (age(d.data_age_secs)) }
                @if let Some(r) = &d.sync_refusal { br; strong.bad { "refuses the issuer's data: " } (r) } },
                html! { @match d.clock_offset_secs {
                    None => "not reported",
                    Some(o) if o.abs() > devices::CLOCK_WARNING_SECS => span.bad {
                        (clock_offset(o)) br; "set the gate's clock: phone codes may be refused" },
                    Some(o) => (clock_offset(o)),
                } },
                html! { span class=(if d.queued > 100 { "bad" } else { "" }) { (d.queued) } },
                html! { (d.software_version) },
                html! { @if d.status == "active" && op.can(Permission::ManageGates) {
                    form method="post" action={ "/ops/devices/" (d.device_id) "/rename" } { (csrf_field())
                        input name="name" aria-label={ "new name for " (d.name) } placeholder="new name" maxlength="64";
                        button.secondary type="submit" { "Rename" } }
                    form method="post" action={ "/ops/devices/" (d.device_id) "/rotate" } { (csrf_field())
                        button.secondary type="submit" { "New credential" } }
                    form method="post" action={ "/ops/devices/" (d.device_id) "/revoke" } { (csrf_field())
                        button.danger type="submit" { "Revoke" } }
                } },
            ]
        })
        .collect();
    table(
        &[
            "Gate",
            "State",
            "Events",
            "Last contact",
            "Data age",
            "Clock",
            "Queued",
            "Version",
            "",
        ],
        rows,
    )
}

async fn devices_page(State(state): State<AppState>, ConsoleOperator(op): ConsoleOperator) -> AppResult<Response> {
    let (list, zones, now) = devices_data(&state).await?;
    let online_count = list.iter().filter(|d| online(d, now)).count();
    let active = list.iter().filter(|d| d.status == "active").count();
    Ok(ui::page(&op, Section::Devices, "Gates and devices", html! {
        p.meta { (online_count) " of " (active) " active gates online (heard from in the last " (ONLINE_SECS) " s). Times are local to each gate's venue." }
        (live_panel("devices", "Devices", "/ops/panels/devices", device_rows(&op, &list, &zones, now)))
    })
    .into_response())
}

async fn devices_panel(State(state): State<AppState>, ConsoleOperator(op): ConsoleOperator) -> AppResult<Markup> {
    let (list, zones, now) = devices_data(&state).await?;
    Ok(device_rows(&op, &list, &zones, now))
}

async fn revoke_device(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Path(id): Path<String>,
) -> AppResult<Response> {
    actions::revoke_device(&state, &op, id).await?;
    Ok(Redirect::to("/ops").into_response())
}

#[derive(serde::Deserialize)]
struct RenameForm {
    name: String,
}

async fn rename_device(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Path(id): Path<String>,
    Form(f): Form<RenameForm>,
) -> AppResult<Response> {
    actions::rename_device(&state, &op, id, f.name).await?;
    Ok(Redirect::to("/ops").into_response())
}

async fn rotate_device(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let credential = actions::rotate_device(&state, &op, id.clone()).await?;
    Ok(ui::page(&op, Section::Devices, "New device credential", html! {
        p { "Device " code { (id) } "'s old credential is refused from now on. Enter this one on the device; it is shown only now." }
        p { code #credential { (credential.as_str()) } }
        p { a href="/ops" { "Back to devices" } }
    })
    .into_response())
}

// ------------------------------------------------------------------------------------------
// Enrolment

async fn enrol_page(State(state): State<AppState>, ConsoleOperator(op): ConsoleOperator) -> AppResult<Response> {
    let events = state.db.read(crate::ops::catalogue::list_events).await?;
    Ok(ui::page(&op, Section::Enrol, "Enrol a gate", enrol_form(&events, None)).into_response())
}

fn enrol_form(events: &[EventRow], error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error { div.notice.error role="alert" { (e) } }
        form.narrow method="post" action="/ops/enrol" { (csrf_field())
            label for="events" { "Event ids (comma-separated)" }
            input #events name="events" required list="event-ids" inputmode="numeric" style="width:100%";
            datalist #event-ids { @for e in events { option value=(e.id) { (e.id) " · " (e.name) } } }
            label for="zone" { "Zone number (empty: every zone)" }
            input #zone name="zone" inputmode="numeric" style="width:100%";
            label for="ttl" { "Valid for (minutes)" }
            input #ttl name="ttl_minutes" value="60" inputmode="numeric" style="width:100%";
            p { button type="submit" { "Make an enrolment code" } }
        }
        @if !events.is_empty() {
            details { summary { "Event ids" }
                ul { @for e in events { li { (e.id) " · " (e.name) " (" (e.venue) ")" } } } }
        }
    }
}

#[derive(serde::Deserialize)]
struct EnrolForm {
    events: String,
    #[serde(default)]
    zone: String,
    #[serde(default)]
    ttl_minutes: String,
}

fn parse_enrol(f: &EnrolForm) -> Result<NewEnrolmentToken, String> {
    let event_ids = f
        .events
        .split(',')
        .map(|s| s.trim().parse::<u32>().map_err(|_| format!("{s:?} is not an event id")))
        .collect::<Result<Vec<_>, _>>()?;
    let zone = match f.zone.trim() {
        "" => None,
        z => Some(z.parse::<u8>().map_err(|_| format!("{z:?} is not a zone number"))?),
    };
    let ttl_secs = match f.ttl_minutes.trim() {
        "" => None,
        t => Some(
            t.parse::<i64>()
                .ok()
                .and_then(|m| m.checked_mul(60))
                .ok_or_else(|| format!("{t:?} is not a number of minutes"))?,
        ),
    };
    Ok(NewEnrolmentToken {
        event_ids,
        zone,
        ttl_secs,
    })
}

async fn enrol(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Form(f): Form<EnrolForm>,
) -> AppResult<Response> {
    let events = state.db.read(crate::ops::catalogue::list_events).await?;
    let req = match parse_enrol(&f) {
        Ok(r) => r,
        Err(e) => {
            return Ok(with_status(
                StatusCode::BAD_REQUEST,
                ui::page(&op, Section::Enrol, "Enrol a gate", enrol_form(&events, Some(&e))),
            ));
        }
    };
    let created = match super::devices::make_token(&state, &op, req).await {
        Ok(c) => c,
        Err(e) if e.status().is_client_error() => {
            return Ok(with_status(
                e.status(),
                ui::page(
                    &op,
                    Section::Enrol,
                    "Enrol a gate",
                    enrol_form(&events, Some(&e.public_message())),
                ),
            ));
        }
        Err(e) => return Err(e),
    };
    let tz = zone_of(&zones(&events), &created.token.event_ids).to_owned();
    let qr_svg = crate::trust::qr_image::svg(&created.enrolment_code)?;
    let command = format!(
        "gate-agent enroll --issuer {} --token {}",
        created.issuer_url, created.token.token
    );
    Ok(ui::page(&op, Section::Enrol, "Enrolment code", html! {
        div.panel {
            p { "At the gate, run " code { "gate-agent enroll --scan --camera 0" } " and hold this code in front of its camera "
                "(or save it as an image and run " code { "gate-agent enroll --scan IMAGE" } "). It works once, until "
                (local(created.token.expires_at, &tz)) ", for events "
                (created.token.event_ids.iter().map(u32::to_string).collect::<Vec<_>>().join(", "))
                @if let Some(z) = created.token.zone { ", zone " (z) } "." }
            div.qr #enrol-qr role="img" aria-label="enrolment QR code (issuer address and one-time token)" style="max-width:360px" {
                (maud::PreEscaped(qr_svg)) }
            p { a download="enrolment-code.png" href={ "data:image/png;base64," (created.qr_png_base64) } { "Save the code as an image" } }
            p { "Without a camera, copy this command to the gate:" }
            p { code #enrol-command { (command) } }
            p { "Enrolment code: " code #enrol-code { (created.enrolment_code) } }
            p { "Token: " code #token { (created.token.token) } }
            p.meta { "Shown only now." }
        }
    })
    .into_response())
}

// ------------------------------------------------------------------------------------------
// Events

async fn events_page(State(state): State<AppState>, ConsoleOperator(op): ConsoleOperator) -> AppResult<Response> {
    let events = state.db.read(crate::ops::catalogue::list_events).await?;
    let manage = op.can(Permission::ManageEvents);
    let now = crate::now();
    let rows = events
        .iter()
        .map(|e| {
            vec![
                html! { (e.id) },
                html! { a href={ "/ops/events/" (e.id) } { strong { (e.name) } } br; span.sport { (e.sport) } },
                html! { (e.venue) },
                html! { (local(e.starts_at, &e.time_zone)) br; span.meta { "doors " (ui::local_fmt(e.doors_open, &e.time_zone, "%H:%M")) } },
                html! { (e.reserved) " / " (e.capacity) },
                html! { @if e.status == crate::domain::EventStatus::Cancelled { span.pill.off { "cancelled" } }
                        @else if e.deadlines.sales_open_at.is_some_and(|t| t > now) { span.pill.off { "not on sale yet" } }
                        @else { span.pill.on { "scheduled" } } },
                html! {
                    a href={ "/ops/events/" (e.id) } { "Dashboard" } " · "
                    a href={ "/ops/events/" (e.id) "/scans" } { "Scans" }
                    @if manage && e.status != crate::domain::EventStatus::Cancelled { " · " a href={ "/ops/events/" (e.id) "/edit" } { "Edit" } }
                    @if manage && e.status != crate::domain::EventStatus::Cancelled {
                        form method="post" action={ "/ops/events/" (e.id) "/cancel" } { (csrf_field())
                            label style="font-weight:400" { input type="checkbox" name="confirm" value="yes" required; " revoke its tickets and owe its buyers a refund" }
                            button.danger type="submit" { "Cancel event" }
                        }
                    }
                },
            ]
        })
        .collect();
    Ok(ui::page(
        &op,
        Section::Events,
        "Events",
        html! {
            @if manage { p { a.button href="/ops/events/new" { "New event" } } }
            p.meta { "Times are local to each venue." }
            (table(&["Id", "Event", "Venue", "Starts", "Seats taken", "Status", ""], rows))
        },
    )
    .into_response())
}

#[derive(serde::Deserialize)]
struct CancelForm {
    #[serde(default)]
    confirm: String,
}

/// Cancels an event from the console: the same change as `PATCH /api/v1/ops/events/{id}`
/// `{"status":"cancelled"}` (tickets revoked, refunds due, buyers mailed), behind a checkbox.
async fn cancel_event(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Path(id): Path<u32>,
    Form(f): Form<CancelForm>,
) -> AppResult<Response> {
    if f.confirm != "yes" {
        return Err(AppError::bad_request(
            "not_confirmed",
            "tick the box to confirm: cancelling revokes every ticket of the event",
        ));
    }
    let changes = crate::ops::catalogue::EventChanges {
        status: Some("cancelled".into()),
        ..Default::default()
    };
    actions::change_event(&state, &op, id, changes).await?;
    Ok(Redirect::to("/ops/events").into_response())
}

/// The scans panel of an event: per gate per minute, the last 3 hours.
async fn scans_rows(state: &AppState, id: u32) -> AppResult<Markup> {
    let since = crate::now() - 3 * 3600;
    let (rows, event) = state
        .db
        .read(move |c| {
            Ok((
                crate::ops::metrics::gate_minutes(c, id, since)?,
                crate::ops::catalogue::list_events(c)?.into_iter().find(|e| e.id == id),
            ))
        })
        .await?;
    let tz = event.map_or_else(|| "UTC".to_owned(), |e| e.time_zone);
    Ok(if rows.is_empty() {
        html! { p { "No scans reported yet." } }
    } else {
        table(
            &["Minute", "Gate", "Admitted", "Refused"],
            rows.iter()
                .rev()
                .map(|r| {
                    vec![
                        html! { (ui::local_clock(r.minute, &tz)) },
                        html! { (r.gate) },
                        html! { (r.admitted) },
                        html! { span class=(if r.refused > 0 { "bad" } else { "" }) { (r.refused) } },
                    ]
                })
                .collect(),
        )
    })
}

async fn scans_page(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Path(id): Path<u32>,
) -> AppResult<Response> {
    let body = scans_rows(&state, id).await?;
    Ok(ui::page(
        &op,
        Section::Events,
        &format!("Scans per gate per minute, event {id}"),
        html! {
            p.meta { "Last 3 hours, by the gates' clocks, in the venue's time." }
            (live_panel("scans", "Scans", &format!("/ops/events/{id}/scans/panel"), body))
        },
    )
    .into_response())
}

async fn scans_panel(State(state): State<AppState>, _: ConsoleOperator, Path(id): Path<u32>) -> AppResult<Markup> {
    scans_rows(&state, id).await
}

// ------------------------------------------------------------------------------------------
// Conflicts

async fn conflict_rows(state: &AppState) -> AppResult<Markup> {
    let (list, events) = state
        .db
        .read(|c| {
            Ok((
                crate::gates::sync::conflicts(c, None, 1000)?,
                crate::ops::catalogue::list_events(c)?,
            ))
        })
        .await?;
    let zones = zones(&events);
    Ok(if list.is_empty() {
        html! { p.good { "No conflicts." } }
    } else {
        table(
            &["Event", "Ticket", "Admits", "Admitted", "Gates", "Detected"],
            list.iter()
                .map(|c| {
                    vec![
                        html! { (c.event_id) },
                        html! { (c.serial) },
                        html! { (c.allowed) },
                        html! { span.bad { (c.admitted) } },
                        html! { (c.gates.join(", ")) },
                        html! { (local(c.detected_at, zone_of(&zones, &[c.event_id]))) },
                    ]
                })
                .collect(),
        )
    })
}

async fn conflicts_page(State(state): State<AppState>, ConsoleOperator(op): ConsoleOperator) -> AppResult<Response> {
    let body = conflict_rows(&state).await?;
    Ok(ui::page(&op, Section::Conflicts, "Conflicts", html! {
        p { "Tickets admitted more often than they admit, across gates (usually gates that were offline). "
            "Find the holder at the gates named, check the people against the ticket, and revoke it if it was copied." }
        (live_panel("conflicts", "Conflicts", "/ops/panels/conflicts", body))
    })
    .into_response())
}

async fn conflicts_panel(State(state): State<AppState>, _: ConsoleOperator) -> AppResult<Markup> {
    conflict_rows(&state).await
}

// ------------------------------------------------------------------------------------------
// Revocations

async fn revocations_page(State(state): State<AppState>, ConsoleOperator(op): ConsoleOperator) -> AppResult<Response> {
    let list = state
        .db
        .read(|c| {
            let head = crate::trust::revocation::head(c)?.0;
            crate::trust::revocation::entries_after(c, head.saturating_sub(200), Some(200))
        })
        .await?;
    Ok(ui::page(&op, Section::Revocations, "Revocations", html! {
        @if op.can(Permission::RevokeTicket) {
            form.panel method="post" action="/ops/revocations" { (csrf_field())
                div.formgrid {
                    div { label for="serial" { "Ticket number" } input #serial name="serial" required inputmode="numeric"; }
                    div { label for="reason" { "Reason" }
                        select #reason name="reason" { option value="fraud" { "fraud" } option value="cancelled" { "cancelled" } option value="other" { "other" } } }
                }
                p { button.danger type="submit" { "Revoke the ticket" } }
            }
        }
        h2 { "Latest entries" }
        (table(&["Seq", "What", "Reason", "When (UTC)"], list.iter().rev().map(|r| vec![
            html! { (r.seq) }, html! { (actions::describe(&r.target)) }, html! { (format!("{:?}", r.reason)) },
            html! { (local(r.at, "UTC")) },
        ]).collect()))
    })
    .into_response())
}

#[derive(serde::Deserialize)]
struct RevokeForm {
    serial: String,
    reason: RevocationReason,
}

async fn revoke(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Form(f): Form<RevokeForm>,
) -> AppResult<Response> {
    let serial: u32 = f
        .serial
        .trim()
        .parse()
        .map_err(|_| AppError::bad_request("bad_serial", "not a ticket serial"))?;
    let req = RevokeRequest::Ticket {
        serial,
        reason: f.reason,
    };
    actions::revoke(&state, &op, req).await?;
    Ok(Redirect::to("/ops/revocations").into_response())
}

// ------------------------------------------------------------------------------------------
// Refunds

async fn refunds_page(State(state): State<AppState>, ConsoleOperator(op): ConsoleOperator) -> AppResult<Response> {
    let list = state.db.read(|c| crate::shop::refunds::list(c, false)).await?;
    let money = op.can(Permission::Money);
    Ok(ui::page(&op, Section::Refunds, "Refunds due", html! {
        p { "Money taken that no ticket stands for: pay it back through the payment provider, then mark it settled." }
        @if list.is_empty() { p.good { "Nothing to pay back." } }
        @else {
            (table(&["Order", "Buyer", "Why", "Amount", "Since (UTC)", ""], list.iter().map(|r| vec![
                html! { (r.order_id) }, html! { (r.buyer_email) },
                html! { (match r.reason.as_str() { "event_cancelled" => "event cancelled", "operator_decision" => "operator's decision", _ => "paid after the order closed" }) },
                html! { span.bad { (crate::web::layout::euros(r.amount_cents)) } },
                html! { (local(r.created_at, "UTC")) },
                html! { @if money { form method="post" action={ "/ops/refunds/" (r.id) "/settle" } { (csrf_field()) button type="submit" { "Mark refunded" } } } },
            ]).collect()))
        }
    })
    .into_response())
}

async fn settle_refund(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    actions::mark_refund_settled(&state, &op, id).await?;
    Ok(Redirect::to("/ops/refunds").into_response())
}

// ------------------------------------------------------------------------------------------
// Complimentary tickets

async fn comp_page(ConsoleOperator(op): ConsoleOperator) -> Response {
    ui::page(&op, Section::Comps, "Complimentary tickets", comp_form(None)).into_response()
}

fn comp_form(error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error { div.notice.error role="alert" { (e) } }
        form.narrow method="post" action="/ops/comp" { (csrf_field())
            label for="event" { "Event id" } input #event name="event_id" required inputmode="numeric" style="width:100%";
            label for="offer" { "Offer" } select #offer name="offer" style="width:100%" {
                option value="solo" { "Solo (1)" } option value="duo" { "Duo (2)" } option value="family" { "Family (4)" } }
            label for="email" { "Holder's email" } input #email name="email" type="email" required style="width:100%";
            label for="count" { "Number of tickets" } input #count name="count" value="1" inputmode="numeric" style="width:100%";
            label for="force" { "Beyond capacity? Reason (leave empty to refuse when full)" } input #force name="force_reason" style="width:100%";
            p { button type="submit" { "Issue" } }
        }
    }
}

#[derive(serde::Deserialize)]
struct CompForm {
    event_id: String,
    offer: Offer,
    email: String,
    count: String,
    #[serde(default)]
    force_reason: String,
}

async fn comp(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Form(f): Form<CompForm>,
) -> AppResult<Response> {
    let (Ok(event_id), Ok(count)) = (f.event_id.trim().parse::<u32>(), f.count.trim().parse::<u32>()) else {
        return Ok(with_status(
            StatusCode::BAD_REQUEST,
            ui::page(
                &op,
                Section::Comps,
                "Complimentary tickets",
                comp_form(Some("Event id and number must be numbers.")),
            ),
        ));
    };
    let req = CompRequest {
        event_id,
        offer: f.offer,
        email: f.email,
        count,
        force_reason: Some(f.force_reason).filter(|r| !r.trim().is_empty()),
    };
    let tickets = match actions::issue_comps(&state, &op, req).await {
        Ok(t) => t,
        Err(e) if e.status().is_client_error() => {
            return Ok(with_status(
                e.status(),
                ui::page(
                    &op,
                    Section::Comps,
                    "Complimentary tickets",
                    comp_form(Some(&e.public_message())),
                ),
            ));
        }
        Err(e) => return Err(e),
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut imgs = Vec::new();
    for t in &tickets {
        imgs.push(b64.encode(crate::trust::qr_image::png(&t.qr_text, 8)?));
    }
    Ok(ui::page(
        &op,
        Section::Comps,
        "Complimentary tickets issued",
        html! {
            div.grid {
                @for (t, img) in tickets.iter().zip(&imgs) {
                    section.card {
                        h2 { "Ticket " (t.serial) " · event " (t.event_id) " · " (t.offer.name()) }
                        img alt={ "ticket " (t.serial) " QR code" } src={ "data:image/png;base64," (img) };
                        p { code { (t.qr_text) } }
                    }
                }
            }
        },
    )
    .into_response())
}

// ------------------------------------------------------------------------------------------
// Audit log

#[derive(serde::Deserialize)]
struct AuditQuery {
    before: Option<i64>,
}

/// The audit log, newest first, 100 a page.
async fn audit_page(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    let list = state
        .db
        .read(move |c| crate::ops::audit::list(c, q.before, 100))
        .await?;
    Ok(ui::page(
        &op,
        Section::Audit,
        "Audit log",
        html! {
            p { "Every change an operator made, newest first (UTC)." }
            @if list.is_empty() { p { "Nothing yet." } }
            @else {
                (table(&["When", "Who", "What", "Subject", "Detail"], list.iter().map(|e| vec![
                    html! { (local(e.at, "UTC")) }, html! { (e.operator.as_deref().unwrap_or("command line")) },
                    html! { code { (e.action) } }, html! { (e.subject) }, html! { (e.detail) },
                ]).collect()))
                @if list.len() == 100 { @if let Some(last) = list.last() {
                    p { a href={ "/ops/audit?before=" (last.id) } { "Older entries" } }
                } }
            }
        },
    )
    .into_response())
}
