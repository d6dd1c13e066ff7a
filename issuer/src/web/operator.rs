//! The operators' JSON API under `/api/v1/ops/`: events, revocations, conflicts, scans per
//! gate per minute, complimentary tickets, refunds due. Every route takes [`OperatorAuth`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use og_shared::sync::{Conflict, Revocation};

use super::extract::{ApiJson, ApiQuery};
use crate::error::AppResult;
use crate::ops::actions::{self, CompRequest, RevokeRequest};
use crate::ops::auth::OperatorAuth;
use crate::ops::catalogue::{self, EventRow};
use crate::ops::metrics::GateMinute;
use crate::state::AppState;
use crate::trust::issuance::IssuedTicket;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/ops/events", get(events).post(create_event))
        .route("/api/v1/ops/events/{id}", axum::routing::patch(update_event))
        .route("/api/v1/ops/events/{id}/scans-per-minute", get(scans_per_minute))
        .route("/api/v1/ops/conflicts", get(conflicts))
        .route("/api/v1/ops/revocations", get(list_revocations).post(revoke))
        .route("/api/v1/ops/comps", axum::routing::post(comps))
        .route("/api/v1/ops/refunds-due", get(refunds_due))
        .route("/api/v1/ops/tickets/{serial}", get(ticket_history))
        .route(
            "/api/v1/ops/tickets/{serial}/refund",
            axum::routing::post(refund_ticket),
        )
        .route(
            "/api/v1/ops/tickets/{serial}/paper-exception",
            axum::routing::post(paper_exception),
        )
        .route(
            "/api/v1/ops/refunds-due/{id}/settle",
            axum::routing::post(settle_refund),
        )
        .route("/api/v1/ops/audit", get(audit))
}

#[derive(Debug, serde::Deserialize)]
struct AuditQuery {
    /// Entries older than this id (the next page).
    before: Option<i64>,
    limit: Option<i64>,
}

/// The operators' audit log, newest first.
async fn audit(
    State(state): State<AppState>,
    _op: OperatorAuth,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> AppResult<Json<Vec<crate::ops::audit::AuditEntry>>> {
    let limit = q.limit.unwrap_or(200);
    Ok(Json(
        state
            .db
            .read(move |c| crate::ops::audit::list(c, q.before, limit))
            .await?,
    ))
}

/// A ticket's whole story: holder, entries at gates, transfers, refund.
async fn ticket_history(
    State(state): State<AppState>,
    _op: OperatorAuth,
    Path(serial): Path<i64>,
) -> AppResult<Json<crate::shop::orders::TicketHistory>> {
    Ok(Json(
        state
            .db
            .read(move |c| crate::shop::orders::ticket_history(c, serial))
            .await?,
    ))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundDecision {
    /// Why (recorded with the operator).
    reason: String,
}

/// An operator refunds one ticket by decision, even after entry: what is left is revoked and
/// the refund due recorded with who and why (`null` for a complimentary ticket: nothing owed).
async fn refund_ticket(
    State(state): State<AppState>,
    op: OperatorAuth,
    Path(serial): Path<i64>,
    ApiJson(d): ApiJson<RefundDecision>,
) -> AppResult<(StatusCode, Json<Option<crate::shop::refunds::RefundDue>>)> {
    let due = actions::refund_ticket(&state, &op, serial, d.reason).await?;
    Ok((StatusCode::CREATED, Json(due)))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PaperExceptionRequest {
    /// The person allowed in with the static (paper) code.
    name: String,
    /// Why (recorded with the operator).
    reason: String,
}

/// An operator allows a static (paper) code for a named person on a ticket of an event that
/// requires the phone (accessibility, no phone): recorded with who and why, listed to gates.
async fn paper_exception(
    State(state): State<AppState>,
    op: OperatorAuth,
    Path(serial): Path<i64>,
    ApiJson(d): ApiJson<PaperExceptionRequest>,
) -> AppResult<(StatusCode, Json<crate::shop::binding::PaperException>)> {
    let row = actions::paper_exception(&state, &op, serial, d.name, d.reason).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

#[derive(Debug, serde::Deserialize)]
struct RefundsQuery {
    #[serde(default)]
    all: bool,
}

async fn refunds_due(
    State(state): State<AppState>,
    _op: OperatorAuth,
    ApiQuery(q): ApiQuery<RefundsQuery>,
) -> AppResult<Json<Vec<crate::shop::refunds::RefundDue>>> {
    Ok(Json(
        state.db.read(move |c| crate::shop::refunds::list(c, q.all)).await?,
    ))
}

async fn settle_refund(
    State(state): State<AppState>,
    op: OperatorAuth,
    Path(id): Path<i64>,
) -> AppResult<Json<crate::shop::refunds::RefundDue>> {
    Ok(Json(actions::mark_refund_settled(&state, &op, id).await?))
}

async fn events(State(state): State<AppState>, _op: OperatorAuth) -> AppResult<Json<Vec<EventRow>>> {
    Ok(Json(state.db.read(catalogue::list_events).await?))
}

async fn create_event(
    State(state): State<AppState>,
    op: OperatorAuth,
    ApiJson(e): ApiJson<catalogue::NewEvent>,
) -> AppResult<(StatusCode, Json<EventRow>)> {
    Ok((StatusCode::CREATED, Json(actions::create_event(&state, &op, e).await?)))
}

async fn update_event(
    State(state): State<AppState>,
    op: OperatorAuth,
    Path(id): Path<u32>,
    ApiJson(c): ApiJson<catalogue::EventChanges>,
) -> AppResult<Json<EventRow>> {
    Ok(Json(actions::change_event(&state, &op, id, c).await?))
}

#[derive(Debug, serde::Deserialize)]
struct Since {
    /// Default: the last 3 hours.
    since: Option<i64>,
}

async fn scans_per_minute(
    State(state): State<AppState>,
    _op: OperatorAuth,
    Path(id): Path<u32>,
    ApiQuery(q): ApiQuery<Since>,
) -> AppResult<Json<Vec<GateMinute>>> {
    let since = q.since.unwrap_or_else(|| crate::now() - 3 * 3600);
    Ok(Json(
        state
            .db
            .read(move |c| crate::ops::metrics::gate_minutes(c, id, since))
            .await?,
    ))
}

async fn conflicts(State(state): State<AppState>, _op: OperatorAuth) -> AppResult<Json<Vec<Conflict>>> {
    Ok(Json(
        state
            .db
            .read(|c| crate::gates::sync::conflicts(c, None, 10_000))
            .await?,
    ))
}

#[derive(Debug, serde::Deserialize)]
struct Page {
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
}

async fn list_revocations(
    State(state): State<AppState>,
    _op: OperatorAuth,
    ApiQuery(q): ApiQuery<Page>,
) -> AppResult<Json<Vec<Revocation>>> {
    let limit = q.limit.unwrap_or(1000).clamp(1, 10_000);
    Ok(Json(
        state
            .db
            .read(move |c| crate::trust::revocation::entries_after(c, q.after, Some(limit)))
            .await?,
    ))
}

async fn revoke(
    State(state): State<AppState>,
    op: OperatorAuth,
    ApiJson(req): ApiJson<RevokeRequest>,
) -> AppResult<(StatusCode, Json<Option<Revocation>>)> {
    let entry = actions::revoke(&state, &op, req).await?;
    let status = if entry.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(entry)))
}

async fn comps(
    State(state): State<AppState>,
    op: OperatorAuth,
    ApiJson(req): ApiJson<CompRequest>,
) -> AppResult<(StatusCode, Json<Vec<IssuedTicket>>)> {
    Ok((StatusCode::CREATED, Json(actions::issue_comps(&state, &op, req).await?)))
}
