//! `/metrics` in the Prometheus text format: request, sync, scan and conflict counters, plus a
//! few gauges read from the database. Public like `/health` (no secrets or personal data);
//! restrict it at the reverse proxy if needed.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::AppResult;
use crate::ops::OpsMetrics;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// Middleware counting every request.
pub async fn count_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    OpsMetrics::inc(&state.ops_metrics.http_requests);
    next.run(req).await
}

async fn metrics(State(state): State<AppState>) -> AppResult<Response> {
    let now = crate::now();
    let g = state.db.read(move |c| crate::ops::metrics::gauges(c, now)).await?;
    let body = state.ops_metrics.render(&[
        ("og_conflicts", "Tickets currently in conflict", g.conflicts),
        ("og_devices_active", "Enrolled, unrevoked gate devices", g.devices),
        ("og_revocations_head", "Last revocation log seq", g.revocations_head),
        ("og_admissions_head", "Last admission log seq", g.admissions_head),
        (
            "og_mails_waiting",
            "Mails queued and not yet taken by the mail server",
            g.mails_waiting,
        ),
        (
            "og_mail_oldest_waiting_seconds",
            "How long the oldest waiting mail has waited",
            g.oldest_mail_age,
        ),
    ]);
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response())
}
