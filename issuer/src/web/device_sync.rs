//! What gate devices pull: `GET /api/v1/device/sync` (JSON, ETag/304, gzip) and
//! `GET /api/v1/device/revocations?after=N` (the compact binary page of every revocation after
//! N, `application/x-og-revocations`, see `og_shared::sync::encode_revocation_page`): a new
//! device fetches its full snapshot there instead of 10,000-entry JSON pages.
//!
//! Answers without a JSON body (304, the binary page) carry the issuer's signed checkpoint in
//! the `og-checkpoint` header (`og_shared::trust::CHECKPOINT_HEADER`).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use og_shared::sync::{REVOCATIONS_CONTENT_TYPE, SyncQuery, encode_revocation_page};
use og_shared::trust::{CHECKPOINT_HEADER, SignedCheckpoint};
use tower_http::compression::CompressionLayer;

use crate::error::{AppError, AppResult};
use crate::gates::auth::DeviceAuth;
use crate::gates::sync::{self, SyncAnswer};
use crate::ops::OpsMetrics;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/device/sync", get(device_sync))
        .route("/api/v1/device/revocations", get(revocations))
        .layer(CompressionLayer::new())
}

fn bad_query(e: impl std::fmt::Display) -> AppError {
    AppError::bad_request("bad_query", e.to_string())
}

async fn device_sync(
    State(state): State<AppState>,
    device: DeviceAuth,
    headers: HeaderMap,
    q: Result<Query<SyncQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Response> {
    let Query(q) = q.map_err(bad_query)?;
    let inm = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (signer, retired) = (state.signer.clone(), state.retired_signers.clone());
    let now = crate::now();
    let (dev, query) = (device.clone(), q.clone());
    let answer = state
        .db
        .read(move |c| {
            let signing = sync::GateSigning {
                current: &signer,
                retired: &retired,
            };
            let events = crate::ops::catalogue::event_facts(c, Some(&dev.event_ids))?;
            sync::sync(c, &dev, events, &query, inm.as_deref(), signing, now)
        })
        .await;
    let m = &state.ops_metrics;
    let id = device.id;
    let answer = match answer {
        Err(e) => {
            if e.code() == "revocations_reset" {
                OpsMetrics::inc(&m.sync_reset);
                // A device whose copy is ahead of the log (a restored backup) is still in
                // contact, and says whether it refused what it was sent.
                state
                    .db
                    .write(move |tx| sync::record_contact(tx, id, &q, false, now))
                    .await?;
            }
            return Err(e);
        }
        Ok(a) => a,
    };
    let up_to_date = match &answer {
        SyncAnswer::NotModified { up_to_date, .. } | SyncAnswer::Fresh { up_to_date, .. } => *up_to_date,
    };
    state
        .db
        .write(move |tx| sync::record_contact(tx, id, &q, up_to_date, now))
        .await?;
    let etag_header = |etag: &str| HeaderValue::from_str(etag).map_err(AppError::internal);
    Ok(match answer {
        SyncAnswer::NotModified { etag, checkpoint, .. } => {
            OpsMetrics::inc(&m.sync_not_modified);
            (
                StatusCode::NOT_MODIFIED,
                [
                    (header::ETAG, etag_header(&etag)?),
                    (
                        header::HeaderName::from_static(CHECKPOINT_HEADER),
                        checkpoint_header(&checkpoint)?,
                    ),
                ],
            )
                .into_response()
        }
        SyncAnswer::Fresh { body, etag, .. } => {
            OpsMetrics::inc(&m.sync_full);
            (
                [
                    (header::ETAG, etag_header(&etag)?),
                    (header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache")),
                ],
                Json(body),
            )
                .into_response()
        }
    })
}

fn checkpoint_header(c: &SignedCheckpoint) -> AppResult<HeaderValue> {
    HeaderValue::from_str(&c.to_header()).map_err(AppError::internal)
}

#[derive(Debug, serde::Deserialize)]
struct After {
    #[serde(default)]
    after: u64,
}

async fn revocations(
    State(state): State<AppState>,
    _device: DeviceAuth,
    q: Result<Query<After>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Response> {
    let Query(After { after }) = q.map_err(bad_query)?;
    let reset = || {
        OpsMetrics::inc(&state.ops_metrics.sync_reset);
        AppError::conflict(
            "revocations_reset",
            "your revocation cursor is beyond the issuer's log: discard your copy and fetch from 0",
        )
    };
    let (head, head_hash) = state.db.read(crate::trust::revocation::head).await?;
    if after > head {
        return Err(reset());
    }
    let cached = if after == 0 { state.ops_snapshot.get(head) } else { None };
    let (body, to, to_hash) = match cached {
        Some(b) => (b, head, head_hash),
        None => {
            let page = state.db.read(move |c| sync::full_page_after(c, after)).await?;
            let Some(page) = page else {
                return Err(reset());
            };
            let to = page.to_seq;
            let mut to_hash = [0u8; 32];
            hex::decode_to_slice(&page.head_hash, &mut to_hash).map_err(AppError::internal)?;
            let b = axum::body::Bytes::from(
                tokio::task::spawn_blocking(move || encode_revocation_page(&page))
                    .await
                    .map_err(AppError::internal)?
                    .map_err(AppError::internal)?,
            );
            if after == 0 {
                state.ops_snapshot.put(to, b.clone());
            }
            (b, to, to_hash)
        }
    };
    let signer = state.signer.clone();
    let checkpoint = state
        .db
        .read(move |c| crate::trust::revocation::checkpoint(c, &signer, to, to_hash, crate::now()))
        .await?;
    OpsMetrics::inc(&state.ops_metrics.revocation_snapshots);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(REVOCATIONS_CONTENT_TYPE)),
            (
                header::HeaderName::from_static(CHECKPOINT_HEADER),
                checkpoint_header(&checkpoint)?,
            ),
        ],
        body,
    )
        .into_response())
}
