//! The console's "find anything" (search by email, order or ticket number, pasted scanned
//! code or a picture of one), a ticket's page (its whole story and the actions this operator's role allows now) and
//! the CSV exports (streamed: one page of rows read at a time, sent as it is read).

use axum::body::{Body, Bytes};
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use og_shared::sync::RevocationReason;

use super::auth::ConsoleOperator;
use super::console_ui::{self as ui, Section, local, table};
use crate::error::{AppError, AppResult};
use crate::ops::access::Permission;
use crate::ops::actions::{self, RevokeRequest};
use crate::ops::export::{self, ExportKind};
use crate::state::AppState;
use crate::web::layout::csrf_field;

#[derive(serde::Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    /// After a resent activation mail: where it went.
    #[serde(default)]
    sent: Option<String>,
}

pub async fn search_page(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Query(q): Query<SearchQuery>,
) -> AppResult<Response> {
    render_search(&state, &op, q.q.trim(), q.sent.as_deref()).await
}

/// The search form: a query typed or pasted, or a picture of a code uploaded.
fn search_form(query: &str) -> maud::Markup {
    html! {
        form.panel method="get" action="/ops/search" {
            label for="q" { "Buyer email, order number, ticket number or scanned code" }
            div style="display:flex;gap:8px;flex-wrap:wrap" {
                input #q name="q" value=(query) style="flex:1 1 240px" autocomplete="off";
                button type="submit" { "Find" }
            }
        }
        form.panel #find-by-picture method="post" action=(super::csrf::SEARCH_IMAGE) enctype="multipart/form-data" { (csrf_field())
            label for="image" { "Or a picture of the code (a screenshot or photo the buyer sent: PNG or JPEG)" }
            div style="display:flex;gap:8px;flex-wrap:wrap" {
                input #image name="image" type="file" accept="image/png,image/jpeg" required style="flex:1 1 240px";
                button.secondary type="submit" { "Read the code and find" }
            }
        }
    }
}

/// A search page with `error` (a client mistake) in words under the form.
fn search_refused(op: &crate::ops::auth::OperatorAuth, query: &str, e: &AppError) -> Response {
    (
        e.status(),
        ui::page(
            op,
            Section::Search,
            "Find",
            html! { (search_form(query)) div.notice.error role="alert" { (e.public_message()) } },
        ),
    )
        .into_response()
}

/// Finds what a picture's code names: the picture is read (rqrr, on the blocking pool) and its
/// text searched like a pasted code.
pub async fn search_image(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<Response> {
    let Ok(mut form) = form else {
        return Ok(search_refused(
            &op,
            "",
            &AppError::bad_request("bad_upload", "send the picture from the form on this page"),
        ));
    };
    let mut picture = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| AppError::bad_request("bad_upload", "the upload was cut off or not a form"))?
    {
        if field.name() == Some("image") {
            let bytes = field
                .bytes()
                .await
                .map_err(|_| AppError::bad_request("bad_upload", "the upload was cut off"))?;
            picture = Some(bytes);
        }
    }
    let Some(picture) = picture.filter(|p| !p.is_empty()) else {
        return Ok(search_refused(
            &op,
            "",
            &AppError::bad_request("no_image", "choose a picture of the code first"),
        ));
    };
    let read = tokio::task::spawn_blocking(move || crate::ops::search::read_code_image(&picture))
        .await
        .map_err(|_| AppError::internal("the picture reader stopped"))?;
    match read {
        Ok(text) => render_search(&state, &op, &text, None).await,
        Err(e) if e.status().is_client_error() => Ok(search_refused(&op, "", &e)),
        Err(e) => Err(e),
    }
}

async fn render_search(
    state: &AppState,
    op: &crate::ops::auth::OperatorAuth,
    query: &str,
    sent: Option<&str>,
) -> AppResult<Response> {
    let query = query.to_owned();
    let form = search_form(&query);
    if query.is_empty() {
        return Ok(ui::page(op, Section::Search, "Find", form).into_response());
    }
    let q2 = query.clone();
    let found = match state.db.read(move |c| crate::ops::search::search(c, &q2)).await {
        Ok(f) => f,
        Err(e) if e.status().is_client_error() => return Ok(search_refused(op, &query, &e)),
        Err(e) => return Err(e),
    };
    Ok(ui::page(op, Section::Search, "Find", html! {
        (form)
        @if let Some(to) = sent { div.notice.ok role="status" { "A new activation link was mailed to " (to) "." } }
        p.meta { "Read as " (found.read_as) "." }
        @if found.is_empty() { p { "Nothing found for " strong { (query) } "." } }
        @if !found.tickets.is_empty() {
            h2 { "Tickets" }
            (table(&["Ticket", "Event", "Offer", "Holder", "Status"], found.tickets.iter().map(|t| vec![
                html! { a href={ "/ops/tickets/" (t.serial) } { "Ticket " (t.serial) } },
                html! { (t.event_name) " (" (t.event_id) ")" }, html! { (t.offer) }, html! { (t.holder_email) },
                html! { span class=(if t.status == "valid" { "good" } else { "bad" }) { (t.status) } },
            ]).collect()))
        }
        @if !found.orders.is_empty() {
            h2 { "Orders" }
            (table(&["Order", "Buyer", "Status", "Total", "Made (UTC)"], found.orders.iter().map(|o| vec![
                html! { a href={ "/ops/search?q=" (o.id) } { "Order " (o.id) } }, html! { (o.buyer_email) }, html! { (o.status) },
                html! { (crate::web::layout::euros(o.total_cents)) }, html! { (local(o.created_at, "UTC")) },
            ]).collect()))
        }
        @if !found.accounts.is_empty() {
            h2 { "Accounts" }
            (table(&["Email", "Kind", "Status", ""], found.accounts.iter().map(|a| vec![
                html! { a href={ "/ops/search?q=" (crate::ops::search::query_value(&a.email)) } { (a.email) } }, html! { (a.role) },
                html! { span class=(if a.status == "banned" { "bad" } else { "" }) { (a.status) } },
                html! { @if a.status == "pending" && op.can(Permission::ResendMail) {
                    form method="post" action={ "/ops/accounts/" (a.id) "/resend-activation" } { (csrf_field())
                        button.secondary type="submit" { "Resend activation mail" } }
                } },
            ]).collect()))
        }
    })
    .into_response())
}

pub async fn ticket_page(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Path(serial): Path<i64>,
) -> AppResult<Response> {
    let t = state
        .db
        .read(move |c| crate::ops::search::ticket_story(c, serial))
        .await?;
    let tz = &t.time_zone;
    let valid = t.status == "valid";
    let can_revoke = valid && op.can(Permission::RevokeTicket);
    let can_refund = op.can(Permission::Money) && !t.moments.iter().any(|m| m.kind == "refund_due");
    let can_paper = valid && t.requires_phone && op.can(Permission::PaperException);
    Ok(ui::page(&op, Section::Search, &format!("Ticket {}", t.serial), html! {
        div.panel {
            p { strong { (t.event_name) } " (event " a href={ "/ops/events/" (t.event_id) } { (t.event_id) } ") · " (t.offer) br;
                "Holder " strong { (t.holder_email) } @if !t.holder_name.is_empty() { " (" (t.holder_name) ")" } br;
                @if let Some(o) = t.order_id { "Order " (o) " · " } "code " (t.generation) " · "
                span class=(if valid { "good" } else { "bad" }) #ticket-status { (t.status) } }
        }
        h2 { "History (" (tz) ")" }
        ol.timeline #history {
            @for m in &t.moments {
                li class=(if m.bad { "bad" } else { "" }) { strong { (local(m.at, tz)) } " — " (m.text) }
            }
        }
        h2 { "What you can do now" }
        @if !(can_revoke || can_refund || can_paper) { p.meta { "Nothing your role (" (op.role.name()) ") allows for this ticket now." } }
        div.actions {
            @if can_revoke {
                form method="post" action={ "/ops/tickets/" (t.serial) "/revoke" } { (csrf_field())
                    label for="reason" { "Revoke: every gate refuses it after its next sync" }
                    select #reason name="reason" { option value="fraud" { "fraud" } option value="other" { "other" } }
                    p { button.danger type="submit" { "Revoke ticket" } }
                }
            }
            @if can_refund {
                form method="post" action={ "/ops/tickets/" (t.serial) "/refund" } { (csrf_field())
                    label for="refund-reason" { "Refund by decision (revokes what is left; why?)" }
                    input #refund-reason name="reason" required maxlength="500" style="width:100%";
                    p { button.danger type="submit" { "Refund" } }
                }
            }
            @if can_paper {
                form method="post" action={ "/ops/tickets/" (t.serial) "/paper-exception" } { (csrf_field())
                    label for="pe-name" { "Allow the paper code for" } input #pe-name name="name" required style="width:100%";
                    label for="pe-reason" { "Why" } input #pe-reason name="reason" required style="width:100%";
                    p { button type="submit" { "Allow paper code" } }
                }
            }
        }
    })
    .into_response())
}

/// Mails a pending buyer a new activation link, then shows the search again.
pub async fn resend_activation(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let email = actions::resend_activation(&state, &op, id).await?;
    let q = crate::ops::search::query_value(&email);
    Ok(Redirect::to(&format!("/ops/search?q={q}&sent={q}")).into_response())
}

#[derive(serde::Deserialize)]
pub struct RevokeForm {
    reason: RevocationReason,
}

pub async fn revoke_ticket(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Path(serial): Path<u32>,
    Form(f): Form<RevokeForm>,
) -> AppResult<Response> {
    actions::revoke(
        &state,
        &op,
        RevokeRequest::Ticket {
            serial,
            reason: f.reason,
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/ops/tickets/{serial}")).into_response())
}

#[derive(serde::Deserialize)]
pub struct ReasonForm {
    reason: String,
}

pub async fn refund_ticket(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Path(serial): Path<i64>,
    Form(f): Form<ReasonForm>,
) -> AppResult<Response> {
    actions::refund_ticket(&state, &op, serial, f.reason).await?;
    Ok(Redirect::to(&format!("/ops/tickets/{serial}")).into_response())
}

#[derive(serde::Deserialize)]
pub struct PaperForm {
    name: String,
    reason: String,
}

pub async fn paper_exception(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Path(serial): Path<i64>,
    Form(f): Form<PaperForm>,
) -> AppResult<Response> {
    actions::paper_exception(&state, &op, serial, f.name, f.reason).await?;
    Ok(Redirect::to(&format!("/ops/tickets/{serial}")).into_response())
}

// ------------------------------------------------------------------------------------------
// Exports

pub async fn export_page(ConsoleOperator(op): ConsoleOperator) -> Response {
    let today = local(crate::now(), "UTC");
    let today = today.get(..10).unwrap_or("");
    ui::page(&op, Section::Export, "Export", html! {
        p { "CSV files of orders, tickets or gate scans made between two days (UTC, both included). "
            "Any size: the file is written while it is read." }
        form.panel method="get" action="/ops/export/csv" {
            div.formgrid {
                div { label for="kind" { "What" } select #kind name="kind" {
                    option value="orders" { "Orders" } option value="tickets" { "Tickets" } option value="scans" { "Scans" } } }
                div { label for="from" { "From" } input #from name="from" type="date" value=(today) required; }
                div { label for="to" { "To" } input #to name="to" type="date" value=(today) required; }
            }
            p { button type="submit" { "Download CSV" } }
        }
    })
    .into_response()
}

#[derive(serde::Deserialize)]
pub struct ExportQuery {
    kind: String,
    from: String,
    to: String,
}

/// The CSV, streamed: a task reads one page of rows per read transaction and sends it through a
/// small channel (so at most a few pages are in memory, whatever the size), the body sends each
/// page as it comes. A failure after the first bytes ends the download early (the browser
/// reports an incomplete file) and is logged.
pub async fn export_csv(
    State(state): State<AppState>,
    ConsoleOperator(op): ConsoleOperator,
    Query(q): Query<ExportQuery>,
) -> AppResult<Response> {
    let kind = ExportKind::parse(&q.kind)
        .ok_or_else(|| AppError::bad_request("bad_kind", "export orders, tickets or scans"))?;
    let (from, to) = export::day_range(&q.from, &q.to)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tracing::info!(operator = op.account_id, kind = kind.name(), from, to, "export started");
    tokio::spawn(async move {
        if tx.send(Ok(Bytes::from_static(kind.header().as_bytes()))).await.is_err() {
            return;
        }
        let mut after = 0_i64;
        loop {
            match state.db.read(move |c| export::page(c, kind, from, to, after)).await {
                Ok((text, Some(last))) => {
                    if tx.send(Ok(Bytes::from(text))).await.is_err() {
                        return;
                    }
                    after = last;
                }
                Ok((_, None)) => return,
                Err(e) => {
                    tracing::error!(error = %e, "export failed");
                    let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
                    return;
                }
            }
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let name = format!("{}-{}-{}.csv", kind.name(), q.from.trim(), q.to.trim());
    let disposition = format!(
        "attachment; filename=\"{}\"",
        name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '.', "_")
    );
    Ok((
        StatusCode::OK,
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
