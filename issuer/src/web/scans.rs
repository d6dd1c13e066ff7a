//! Scan intake: `POST /api/v1/device/scans` with a `ScanBatch`, answered by a `ScanBatchAck`.
//! A body that is not a valid batch is a 400 (`malformed_batch`); everything else is decided
//! per report (see `gates::intake`).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use axum::{Json, Router};
use og_shared::sync::{ScanBatch, ScanBatchAck};
use tower_http::decompression::RequestDecompressionLayer;

use crate::error::{AppError, AppResult};
use crate::gates::auth::DeviceAuth;
use crate::gates::intake;
use crate::ops::OpsMetrics;
use crate::state::AppState;

/// Largest scan batch once decompressed (10,000 reports take about 3 MB of JSON).
pub const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/device/scans", post(scans))
        // Limits the body after decompression (a gzip bomb stops here); the router's
        // RequestBodyLimitLayer limits the bytes on the wire.
        .layer(DefaultBodyLimit::max(MAX_BATCH_BYTES))
        .layer(RequestDecompressionLayer::new())
}

async fn scans(State(state): State<AppState>, device: DeviceAuth, body: Bytes) -> AppResult<Json<ScanBatchAck>> {
    let batch: ScanBatch = serde_json::from_slice(&body)
        .map_err(|e| AppError::bad_request("malformed_batch", format!("not a scan batch: {e}")))?;
    intake::check_batch(&batch)?;
    let m = state.ops_metrics.clone();
    OpsMetrics::add(&m.scans_received, batch.reports.len() as u64);
    let now = crate::now();
    let (ack, counts) = state
        .db
        .write_scoped(intake::WRITE_SCOPE, move |tx| intake::intake(tx, &device, &batch, now))
        .await?;
    OpsMetrics::add(&m.scans_accepted, counts.accepted);
    OpsMetrics::add(&m.scans_duplicate, counts.duplicates);
    OpsMetrics::add(&m.scans_refused, counts.refused);
    OpsMetrics::add(&m.conflicts_detected, counts.new_conflicts);
    if counts.new_conflicts > 0 {
        tracing::warn!(
            conflicts = counts.new_conflicts,
            "tickets admitted more often than they admit"
        );
    }
    Ok(Json(ack))
}
