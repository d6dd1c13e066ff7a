//! The operator console: server-rendered pages under `/ops` (maud). Monitoring pages refresh
//! themselves every few seconds (`<meta http-equiv="refresh">`, no script needed).
//!
//! Sign-in: the operator pastes an operator token; the console checks it and starts a
//! server-side session (see `ops::auth`): the browser gets only the session's random id in the
//! `__Host-og_ops` cookie (HttpOnly, Secure, SameSite=Strict), which logout, idleness and an
//! absolute lifetime end. Every form carries the CSRF token (`web::csrf_field`).

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use maud::{DOCTYPE, Markup, html};
use og_shared::Offer;
use og_shared::sync::RevocationReason;

use crate::error::{AppError, AppResult};
use crate::ops::actions::{self, CompRequest, RevokeRequest};
use crate::ops::auth::{OPERATOR_COOKIE, OperatorAuth, operator_for_token};
use crate::ops::devices::{self, NewEnrolmentToken};
use crate::state::AppState;
use crate::web::csrf_field;

/// Seconds between refreshes of monitoring pages.
pub const REFRESH_SECS: u32 = 5;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ops/login", get(login_page).post(login))
        .route("/ops/logout", post(logout))
        .route("/ops", get(devices_page))
        .route("/ops/devices/{id}/revoke", post(revoke_device))
        .route("/ops/devices/{id}/rename", post(rename_device))
        .route("/ops/devices/{id}/rotate", post(rotate_device))
        .route("/ops/enrol", get(enrol_page).post(enrol))
        .route("/ops/events", get(events_page))
        .route("/ops/events/{id}/scans", get(scans_page))
        .route("/ops/events/{id}/cancel", post(cancel_event))
        .route("/ops/conflicts", get(conflicts_page))
        .route("/ops/revocations", get(revocations_page).post(revoke))
        .route("/ops/comp", get(comp_page).post(comp))
        .route("/ops/refunds", get(refunds_page))
        .route("/ops/refunds/{id}/settle", post(settle_refund))
        .route("/ops/audit", get(audit_page))
}

#[derive(serde::Deserialize)]
struct AuditQuery {
    before: Option<i64>,
}

/// The audit log, newest first, 100 a page.
async fn audit_page(
    State(state): State<AppState>,
    _: ConsoleOperator,
    axum::extract::Query(q): axum::extract::Query<AuditQuery>,
) -> AppResult<Response> {
    let list = state
        .db
        .read(move |c| crate::ops::audit::list(c, q.before, 100))
        .await?;
    Ok(page(
        "Audit log",
        false,
        html! {
            p { "Every change an operator made, newest first." }
            @if list.is_empty() { p { "Nothing yet." } }
            @else {
                table {
                    thead { tr { th { "When" } th { "Who" } th { "What" } th { "Subject" } th { "Detail" } } }
                    tbody { @for e in &list { tr {
                        td { (time(Some(e.at))) } td { (e.operator.as_deref().unwrap_or("command line")) }
                        td { (e.action) } td { (e.subject) } td { (e.detail) }
                    } } }
                }
                @if list.len() == 100 { @if let Some(last) = list.last() {
                    p { a href={ "/ops/audit?before=" (last.id) } { "Older entries" } }
                } }
            }
        },
    )
    .into_response())
}

/// The signed-in operator of a console page: anyone else is sent to `/ops/login` (the one guard
/// every console route shares).
pub struct ConsoleOperator(pub OperatorAuth);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ConsoleOperator
where
    OperatorAuth: axum::extract::FromRequestParts<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Response> {
        OperatorAuth::from_request_parts(parts, state)
            .await
            .map(ConsoleOperator)
            .map_err(|_| Redirect::to("/ops/login").into_response())
    }
}

/// The answer to an operator whose role does not allow the route (403): what they may not do
/// and where to go instead.
pub fn forbidden(op: &OperatorAuth, needed: crate::ops::access::Permission) -> Response {
    (
        StatusCode::FORBIDDEN,
        page(
            "Not allowed",
            false,
            html! {
                p.bad role="alert" { "Your role (" (op.role.name()) ") cannot " (needed.describe()) "." }
                p { "Ask an admin if you need to. " a href="/ops" { "Back to the console" } }
            },
        ),
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

fn time(t: Option<i64>) -> String {
    match t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok()) {
        None => "never".into(),
        Some(d) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        ),
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

fn page(title: &str, refresh: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if refresh { meta http-equiv="refresh" content=(REFRESH_SECS); }
                title { (title) " · og-tickets operations" }
                style { "body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:75rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}nav a{margin-right:1rem}.bad{color:#b00020;font-weight:bold}.ok{color:#006400}" }
            }
            body {
                nav {
                    a href="/ops" { "Devices" } a href="/ops/enrol" { "Enrol a device" } a href="/ops/events" { "Events" }
                    a href="/ops/conflicts" { "Conflicts" } a href="/ops/revocations" { "Revocations" }
                    a href="/ops/comp" { "Complimentary tickets" } a href="/ops/refunds" { "Refunds due" }
                    form method="post" action="/ops/logout" style="display:inline" { (csrf_field()) button { "Sign out" } }
                }
                h1 { (title) }
                (body)
            }
        }
    }
}

async fn login_page() -> Markup {
    login_form(None)
}

fn login_form(error: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "Operator sign-in · og-tickets" } }
            body {
                h1 { "Operator sign-in" }
                @if let Some(e) = error { p.bad role="alert" { (e) } }
                form method="post" action="/ops/login" { (csrf_field())
                    label for="token" { "Operator token" }
                    " " input #token name="token" type="password" autocomplete="off" required;
                    " " button { "Sign in" }
                }
                p { "Get a token with " code { "issuer admin create-operator --email you@example.org" } "." }
            }
        }
    }
}

#[derive(serde::Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(State(state): State<AppState>, Form(f): Form<LoginForm>) -> AppResult<Response> {
    let token = f.token.trim().to_owned();
    let ok = state.db.read(move |c| operator_for_token(c, &token)).await?;
    let Some(op) = ok else {
        return Ok((
            StatusCode::UNAUTHORIZED,
            login_form(Some("That is not a valid operator token.")),
        )
            .into_response());
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
    if let Some(sid) = crate::auth::get_cookie(&headers, OPERATOR_COOKIE) {
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

async fn devices_page(State(state): State<AppState>, _: ConsoleOperator) -> AppResult<Response> {
    let now = crate::now();
    let list = state.db.read(move |c| devices::list(c, now)).await?;
    Ok(page("Devices", true, html! {
        @if list.is_empty() { p { "No device enrolled yet. " a href="/ops/enrol" { "Enrol one" } "." } }
        @else {
            table {
                thead { tr { th { "Device" } th { "Name" } th { "Status" } th { "Events" } th { "Last contact" }
                    th { "Data age" } th { "Clock" } th { "Queued reports" } th { "Version" } th {} } }
                tbody {
                    @for d in &list {
                        tr {
                            td { code { (d.device_id) } } td { (d.name) }
                            td class=(if d.status == "active" { "ok" } else { "bad" }) { (d.status) }
                            td { (d.event_ids.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")) }
                            td { (time(d.last_contact)) }
                            td class=(if d.data_age_secs.is_none_or(|a| a > 600) || d.sync_refusal.is_some() { "bad" } else { "" }) {
                                (age(d.data_age_secs))
                                @if let Some(r) = &d.sync_refusal { br; strong { "refuses the issuer's data: " } (r) } }
                            @match d.clock_offset_secs {
                                None => td { "not reported" },
                                Some(o) if o.abs() > devices::CLOCK_WARNING_SECS => td.bad {
                                    (clock_offset(o)) br; strong { "set the gate's clock: phone codes may be refused" } },
                                Some(o) => td { (clock_offset(o)) },
                            }
                            td { (d.queued) } td { (d.software_version) }
                            td { @if d.status == "active" {
                                form method="post" action={ "/ops/devices/" (d.device_id) "/rename" } { (csrf_field())
                                    input name="name" aria-label="new name" size="12"; " " button { "Rename" } }
                                form method="post" action={ "/ops/devices/" (d.device_id) "/rotate" } { (csrf_field()) button { "New credential" } }
                                form method="post" action={ "/ops/devices/" (d.device_id) "/revoke" } { (csrf_field()) button { "Revoke" } }
                            } }
                        }
                    }
                }
            }
        }
    })
    .into_response())
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
    Ok(page(
        "New device credential",
        false,
        html! {
            p { "Device " code { (id) } "'s old credential is refused from now on. Enter this one on the device; it is shown only now." }
            p { code #credential { (credential.as_str()) } }
            p { a href="/ops" { "Back to devices" } }
        },
    )
    .into_response())
}

async fn enrol_page(_: ConsoleOperator) -> Response {
    page("Enrol a device", false, enrol_form(None)).into_response()
}

fn enrol_form(error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error { p.bad role="alert" { (e) } }
        form method="post" action="/ops/enrol" { (csrf_field())
            p { label for="events" { "Event ids (comma-separated)" } " " input #events name="events" required; }
            p { label for="zone" { "Zone number (empty: every zone)" } " " input #zone name="zone"; }
            p { label for="ttl" { "Valid for (minutes)" } " " input #ttl name="ttl_minutes" value="60"; }
            button { "Make an enrolment token" }
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

async fn enrol(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Form(f): Form<EnrolForm>,
) -> AppResult<Response> {
    let parsed = (|| -> Result<NewEnrolmentToken, String> {
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
                    .map_err(|_| format!("{t:?} is not a number of minutes"))?
                    * 60,
            ),
        };
        Ok(NewEnrolmentToken {
            event_ids,
            zone,
            ttl_secs,
        })
    })();
    let req = match parsed {
        Ok(r) => r,
        Err(e) => {
            return Ok((
                StatusCode::BAD_REQUEST,
                page("Enrol a device", false, enrol_form(Some(&e))),
            )
                .into_response());
        }
    };
    let created = match super::devices::make_token(&state, &op, req).await {
        Ok(c) => c,
        Err(e) if e.status().is_client_error() => {
            return Ok((
                e.status(),
                page("Enrol a device", false, enrol_form(Some(&e.public_message()))),
            )
                .into_response());
        }
        Err(e) => return Err(e),
    };
    let command = format!(
        "gate-agent enroll --issuer {} --token {}",
        created.issuer_url, created.token.token
    );
    Ok(page("Enrolment token", false, html! {
        p { "At the gate, run " code { "gate-agent enroll --scan --camera 0" } " and hold this code in front of its camera "
            "(or save it as an image and run " code { "gate-agent enroll --scan IMAGE" } "). It works once, until "
            (time(Some(created.token.expires_at))) ", for events "
            (created.token.event_ids.iter().map(u32::to_string).collect::<Vec<_>>().join(", "))
            @if let Some(z) = created.token.zone { ", zone " (z) } "." }
        p { img #enrol-qr alt="enrolment QR code (issuer address and one-time token)" src={ "data:image/png;base64," (created.qr_png_base64) }; }
        p { "Without a camera, copy this command to the gate:" }
        p { code #enrol-command { (command) } }
        p { "Token: " code #token { (created.token.token) } }
        p { "This token is shown only now." }
    })
    .into_response())
}

async fn events_page(State(state): State<AppState>, _: ConsoleOperator) -> AppResult<Response> {
    let events = state.db.read(crate::ops::catalogue::list_events).await?;
    Ok(page("Events", false, html! {
        table {
            thead { tr { th { "Id" } th { "Sport" } th { "Event" } th { "Venue" } th { "Doors open" } th { "Zones" } th {} th { "Status" } } }
            tbody { @for e in &events { tr {
                td { (e.id) } td { (e.sport) } td { (e.name) } td { (e.venue) } td { (time(Some(e.doors_open))) }
                td { (e.zones.join(", ")) }
                td { a href={ "/ops/events/" (e.id) "/scans" } { "Scans per gate" } }
                td {
                    @if e.status == crate::domain::EventStatus::Cancelled { span.bad { "cancelled" } }
                    @else {
                        form method="post" action={ "/ops/events/" (e.id) "/cancel" } { (csrf_field())
                            label { input type="checkbox" name="confirm" value="yes" required; " revoke its tickets and owe its buyers a refund" }
                            " " button { "Cancel event" }
                        }
                    }
                }
            } } }
        }
    })
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

async fn scans_page(State(state): State<AppState>, _: ConsoleOperator, Path(id): Path<u32>) -> AppResult<Response> {
    let since = crate::now() - 3 * 3600;
    let rows = state
        .db
        .read(move |c| crate::ops::metrics::gate_minutes(c, id, since))
        .await?;
    Ok(page(
        &format!("Scans per gate per minute, event {id}"),
        true,
        html! {
            p { "Last 3 hours, by the gates' clocks. Refreshes every " (REFRESH_SECS) " s." }
            @if rows.is_empty() { p { "No scans reported yet." } }
            @else {
                table {
                    thead { tr { th { "Minute" } th { "Gate" } th { "Admitted" } th { "Refused" } } }
                    tbody { @for r in rows.iter().rev() { tr {
                        td { (time(Some(r.minute))) } td { (r.gate) } td { (r.admitted) }
                        td class=(if r.refused > 0 { "bad" } else { "" }) { (r.refused) }
                    } } }
                }
            }
        },
    )
    .into_response())
}

async fn conflicts_page(State(state): State<AppState>, _: ConsoleOperator) -> AppResult<Response> {
    let list = state.db.read(|c| crate::ops::sync::conflicts(c, None, 1000)).await?;
    Ok(page("Conflicts", true, html! {
        p { "Tickets admitted more often than they admit, across gates (usually gates that were offline)." }
        @if list.is_empty() { p.ok { "No conflicts." } }
        @else {
            table {
                thead { tr { th { "Event" } th { "Ticket" } th { "Admits" } th { "Admitted" } th { "Gates" } th { "Detected" } } }
                tbody { @for c in &list { tr {
                    td { (c.event_id) } td { (c.serial) } td { (c.allowed) } td.bad { (c.admitted) }
                    td { (c.gates.join(", ")) } td { (time(Some(c.detected_at))) }
                } } }
            }
        }
    })
    .into_response())
}

async fn revocations_page(State(state): State<AppState>, _: ConsoleOperator) -> AppResult<Response> {
    let list = state
        .db
        .read(|c| {
            let head = crate::revocation::head(c)?.0;
            crate::revocation::entries_after(c, head.saturating_sub(200), Some(200))
        })
        .await?;
    Ok(page("Revocations", true, html! {
        form method="post" action="/ops/revocations" { (csrf_field())
            label for="serial" { "Revoke ticket serial" } " " input #serial name="serial" required;
            " " select name="reason" { option value="fraud" { "fraud" } option value="cancelled" { "cancelled" } option value="other" { "other" } }
            " " button { "Revoke" }
        }
        h2 { "Latest entries" }
        table {
            thead { tr { th { "Seq" } th { "What" } th { "Reason" } th { "When" } } }
            tbody { @for r in list.iter().rev() { tr {
                td { (r.seq) } td { (actions::describe(&r.target)) } td { (format!("{:?}", r.reason)) } td { (time(Some(r.at))) }
            } } }
        }
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

async fn refunds_page(State(state): State<AppState>, _: ConsoleOperator) -> AppResult<Response> {
    let list = state.db.read(|c| crate::ops::refunds::list(c, false)).await?;
    Ok(page("Refunds due", true, html! {
        p { "Money taken that no ticket stands for: pay it back through the payment provider, then mark it settled." }
        @if list.is_empty() { p.ok { "Nothing to pay back." } }
        @else {
            table {
                thead { tr { th { "Order" } th { "Buyer" } th { "Why" } th { "Amount" } th { "Since" } th {} } }
                tbody { @for r in &list { tr {
                    td { (r.order_id) } td { (r.buyer_email) }
                    td { (if r.reason == "event_cancelled" { "event cancelled" } else { "paid after the order closed" }) }
                    td.bad { (crate::web::euros(r.amount_cents)) }
                    td { (time(Some(r.created_at))) }
                    td { form method="post" action={ "/ops/refunds/" (r.id) "/settle" } { (csrf_field()) button { "Mark refunded" } } }
                } } }
            }
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

async fn comp_page(_: ConsoleOperator) -> Response {
    page("Complimentary tickets", false, comp_form(None)).into_response()
}

fn comp_form(error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error { p.bad role="alert" { (e) } }
        form method="post" action="/ops/comp" { (csrf_field())
            p { label for="event" { "Event id" } " " input #event name="event_id" required; }
            p { label for="offer" { "Offer" } " " select #offer name="offer" {
                option value="solo" { "Solo (1)" } option value="duo" { "Duo (2)" } option value="family" { "Family (4)" } } }
            p { label for="email" { "Holder's email" } " " input #email name="email" type="email" required; }
            p { label for="count" { "Number of tickets" } " " input #count name="count" value="1"; }
            p { label for="force" { "Beyond capacity? Reason (leave empty to refuse when full)" } " " input #force name="force_reason"; }
            button { "Issue" }
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
        return Ok((
            StatusCode::BAD_REQUEST,
            page(
                "Complimentary tickets",
                false,
                comp_form(Some("Event id and number must be numbers.")),
            ),
        )
            .into_response());
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
            return Ok((
                e.status(),
                page("Complimentary tickets", false, comp_form(Some(&e.public_message()))),
            )
                .into_response());
        }
        Err(e) => return Err(e),
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut imgs = Vec::new();
    for t in &tickets {
        imgs.push(b64.encode(crate::qr_image::png(&t.qr_text, 8)?));
    }
    Ok(page(
        "Complimentary tickets issued",
        false,
        html! {
            @for (t, img) in tickets.iter().zip(&imgs) {
                section {
                    h2 { "Ticket " (t.serial) " · event " (t.event_id) " · " (t.offer.name()) }
                    img alt={ "ticket " (t.serial) " QR code" } src={ "data:image/png;base64," (img) };
                    p { code { (t.qr_text) } }
                }
            }
        },
    )
    .into_response())
}
