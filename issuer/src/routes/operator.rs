//! The operators' JSON API under `/api/v1/ops/`: events, revocations, conflicts, scans per
//! gate per minute, complimentary tickets, refunds due. Every route takes [`OperatorAuth`].

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use og_shared::Offer;
use og_shared::sync::{Conflict, Revocation, RevocationReason, RevocationTarget};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult};
use crate::issuance::IssuedTicket;
use crate::ops::auth::OperatorAuth;
use crate::ops::catalogue::{self, EventRow};
use crate::state::AppState;

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
}

/// A ticket's whole story: holder, entries at gates, transfers, refund.
async fn ticket_history(
    State(state): State<AppState>,
    _op: OperatorAuth,
    Path(serial): Path<i64>,
) -> AppResult<Json<crate::shop::TicketHistory>> {
    Ok(Json(
        state.db.read(move |c| crate::shop::ticket_history(c, serial)).await?,
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
    JsonBody(d): JsonBody<RefundDecision>,
) -> AppResult<(StatusCode, Json<Option<crate::ops::refunds::RefundDue>>)> {
    let now = crate::now();
    let operator = op.account_id;
    let due = state
        .db
        .write(move |tx| crate::shop::operator_refund(tx, serial, operator, &d.reason, now))
        .await?;
    tracing::info!(
        operator = op.account_id,
        serial,
        "ticket refunded by an operator's decision"
    );
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
    JsonBody(d): JsonBody<PaperExceptionRequest>,
) -> AppResult<(StatusCode, Json<crate::binding::PaperException>)> {
    let now = crate::now();
    let operator = op.account_id;
    let row = state
        .db
        .write(move |tx| crate::binding::add_paper_exception(tx, serial, &d.name, operator, &d.reason, now))
        .await?;
    tracing::info!(operator, serial, "paper exception recorded");
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
    q: Result<Query<RefundsQuery>, QueryRejection>,
) -> AppResult<Json<Vec<crate::ops::refunds::RefundDue>>> {
    let Query(q) = q.map_err(bad_query)?;
    Ok(Json(state.db.read(move |c| crate::ops::refunds::list(c, q.all)).await?))
}

async fn settle_refund(
    State(state): State<AppState>,
    op: OperatorAuth,
    Path(id): Path<i64>,
) -> AppResult<Json<crate::ops::refunds::RefundDue>> {
    Ok(Json(mark_refund_settled(&state, &op, id).await?))
}

/// Marks a refund made by this operator (API and console).
pub(crate) async fn mark_refund_settled(
    state: &AppState,
    op: &OperatorAuth,
    id: i64,
) -> AppResult<crate::ops::refunds::RefundDue> {
    let now = crate::now();
    let operator = op.account_id;
    let row = state
        .db
        .write(move |tx| crate::ops::refunds::settle(tx, id, operator, now))
        .await?;
    tracing::info!(operator, refund = id, order = row.order_id, "refund marked settled");
    Ok(row)
}

fn bad_query(e: QueryRejection) -> AppError {
    AppError::bad_request("bad_query", e.body_text())
}

/// A JSON body whose every failure (syntax, missing field, wrong type) is a JSON 400.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| AppError::bad_request("bad_body", e.body_text()))?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| AppError::bad_request("bad_json", e.to_string()))
    }
}

async fn events(State(state): State<AppState>, _op: OperatorAuth) -> AppResult<Json<Vec<EventRow>>> {
    Ok(Json(state.db.read(catalogue::list_events).await?))
}

async fn create_event(
    State(state): State<AppState>,
    op: OperatorAuth,
    JsonBody(e): JsonBody<catalogue::NewEvent>,
) -> AppResult<(StatusCode, Json<EventRow>)> {
    let row = state.db.write(move |tx| catalogue::create_event(tx, &e)).await?;
    tracing::info!(operator = op.account_id, event = row.id, "event created");
    Ok((StatusCode::CREATED, Json(row)))
}

async fn update_event(
    State(state): State<AppState>,
    op: OperatorAuth,
    Path(id): Path<u32>,
    JsonBody(c): JsonBody<catalogue::EventChanges>,
) -> AppResult<Json<EventRow>> {
    Ok(Json(change_event(&state, &op, id, c).await?))
}

/// Applies changes to an event (API and console). A cancellation revokes its tickets and records
/// refunds in the same transaction; each buyer is then told, once, after the commit.
pub(crate) async fn change_event(
    state: &AppState,
    op: &OperatorAuth,
    id: u32,
    c: catalogue::EventChanges,
) -> AppResult<EventRow> {
    let now = crate::now();
    let (row, refunds) = state
        .db
        .write(move |tx| catalogue::update_event(tx, id, &c, now))
        .await?;
    tracing::info!(operator = op.account_id, event = id, status = %row.status, "event changed");
    let starts = crate::shop::day_of(row.starts_at);
    crate::ops::refunds::notify_event_cancelled(state, &row.name, &starts, &refunds);
    Ok(row)
}

/// Scans of one gate in one minute.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct GateMinute {
    pub gate: String,
    /// Start of the minute (Unix seconds, device clock).
    pub minute: i64,
    pub admitted: u64,
    pub refused: u64,
}

/// Scans per gate per minute for an event since `since`.
pub fn gate_minutes(conn: &Connection, event: u32, since: i64) -> AppResult<Vec<GateMinute>> {
    let mut stmt = conn.prepare_cached(
        "SELECT gate, (scanned_at / 60) * 60 AS minute,
                SUM(verdict IN ('admitted', 'exited')), SUM(verdict NOT IN ('admitted', 'exited'))
         FROM scans WHERE event_id = ?1 AND scanned_at >= ?2
         GROUP BY gate, minute ORDER BY minute, gate",
    )?;
    let rows = stmt
        .query_map(params![event, since], |r| {
            Ok(GateMinute {
                gate: r.get(0)?,
                minute: r.get(1)?,
                admitted: r.get::<_, i64>(2)? as u64,
                refused: r.get::<_, i64>(3)? as u64,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
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
    q: Result<Query<Since>, QueryRejection>,
) -> AppResult<Json<Vec<GateMinute>>> {
    let Query(q) = q.map_err(bad_query)?;
    let since = q.since.unwrap_or_else(|| crate::now() - 3 * 3600);
    Ok(Json(state.db.read(move |c| gate_minutes(c, id, since)).await?))
}

async fn conflicts(State(state): State<AppState>, _op: OperatorAuth) -> AppResult<Json<Vec<Conflict>>> {
    Ok(Json(
        state.db.read(|c| crate::ops::sync::conflicts(c, None, 10_000)).await?,
    ))
}

#[derive(Debug, serde::Deserialize)]
struct Page {
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
}

/// Revocation log entries after `after`.
pub fn revocations_after(conn: &Connection, after: u64, limit: usize) -> AppResult<Vec<Revocation>> {
    crate::revocation::entries_after(conn, after, Some(limit))
}

async fn list_revocations(
    State(state): State<AppState>,
    _op: OperatorAuth,
    q: Result<Query<Page>, QueryRejection>,
) -> AppResult<Json<Vec<Revocation>>> {
    let Query(q) = q.map_err(bad_query)?;
    let limit = q.limit.unwrap_or(1000).clamp(1, 10_000);
    Ok(Json(
        state.db.read(move |c| revocations_after(c, q.after, limit)).await?,
    ))
}

/// What an operator revokes.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RevokeRequest {
    Ticket { serial: u32, reason: RevocationReason },
    Purchase { purchase_id: i64, reason: RevocationReason },
    Account { account_id: i64, reason: RevocationReason },
}

/// Applies a revocation; returns the new log entry, or `None` when nothing changed (a ticket
/// already revoked).
pub fn apply_revocation(tx: &Transaction<'_>, req: &RevokeRequest, now: i64) -> AppResult<Option<Revocation>> {
    use crate::revocation as rv;
    let before = rv::head(tx)?.0;
    match *req {
        RevokeRequest::Ticket { serial, reason } => {
            let exists: Option<i64> = tx
                .query_row("SELECT serial FROM tickets WHERE serial = ?1", [serial], |r| r.get(0))
                .optional()?;
            if exists.is_none() {
                return Err(AppError::not_found("no such ticket"));
            }
            rv::revoke_ticket(tx, serial, reason, now)?;
        }
        RevokeRequest::Purchase { purchase_id, reason } => rv::revoke_purchase(tx, purchase_id, reason, now)?,
        RevokeRequest::Account { account_id, reason } => {
            rv::revoke_account(tx, account_id, reason, now)?;
            if reason == RevocationReason::AccountBanned {
                tx.execute("UPDATE accounts SET status = 'banned' WHERE id = ?1", [account_id])?;
            }
        }
    }
    let after = rv::head(tx)?.0;
    Ok(if after > before {
        revocations_after(tx, before, 1)?.pop()
    } else {
        None
    })
}

async fn revoke(
    State(state): State<AppState>,
    op: OperatorAuth,
    JsonBody(req): JsonBody<RevokeRequest>,
) -> AppResult<(StatusCode, Json<Option<Revocation>>)> {
    let now = crate::now();
    let r = req.clone();
    let entry = state.db.write(move |tx| apply_revocation(tx, &r, now)).await?;
    tracing::info!(operator = op.account_id, ?req, "revocation by an operator");
    let status = if entry.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(entry)))
}

/// Complimentary tickets asked for by an operator.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompRequest {
    pub event_id: u32,
    pub offer: Offer,
    pub email: String,
    #[serde(default = "one")]
    pub count: u32,
    /// To issue beyond the event's capacity: why (recorded with the operator). Without it, comps
    /// that do not fit are refused.
    #[serde(default)]
    pub force_reason: Option<String>,
}

fn one() -> u32 {
    1
}

pub(crate) async fn issue(state: &AppState, op: &OperatorAuth, req: CompRequest) -> AppResult<Vec<IssuedTicket>> {
    let signer = state.signer.clone();
    let now = crate::now();
    let r = req.clone();
    let force = req.force_reason.clone().map(|reason| catalogue::ForceCapacity {
        operator: op.email.clone(),
        reason,
    });
    let tickets = state
        .db
        .write(move |tx| {
            catalogue::issue_comps(tx, &signer, r.event_id, r.offer, &r.email, r.count, force.as_ref(), now)
        })
        .await?;
    tracing::info!(
        operator = op.account_id,
        event = req.event_id,
        count = req.count,
        "complimentary tickets issued"
    );
    Ok(tickets)
}

async fn comps(
    State(state): State<AppState>,
    op: OperatorAuth,
    JsonBody(req): JsonBody<CompRequest>,
) -> AppResult<(StatusCode, Json<Vec<IssuedTicket>>)> {
    Ok((StatusCode::CREATED, Json(issue(&state, &op, req).await?)))
}

/// A revocation target described for people.
pub fn describe(t: &RevocationTarget) -> String {
    match t {
        RevocationTarget::Ticket { serial } => format!("ticket {serial}"),
        RevocationTarget::Purchase { tag } => format!("purchase {}", tag.to_hex()),
        RevocationTarget::Account { tag } => format!("account {}", tag.to_hex()),
        RevocationTarget::Superseded { serial, generation } => {
            format!("codes of ticket {serial} older than generation {generation}")
        }
        RevocationTarget::DeviceKey { serial, key_tag } => format!("phone {key_tag} of ticket {serial}"),
    }
}
