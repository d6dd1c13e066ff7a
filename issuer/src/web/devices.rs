//! Device enrolment (`POST /api/v1/devices/enroll`, public: the one-time token is the
//! credential) and device management for operators (`/api/v1/ops/enrolment-tokens`,
//! `/api/v1/ops/devices...`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use base64::Engine as _;
use og_shared::sync::{EnrollRequest, EnrollResponse};

use crate::error::AppResult;
use crate::gates::devices::{self, DeviceView, NewEnrolmentToken};
use crate::ops::OpsMetrics;
use crate::ops::auth::OperatorAuth;
use crate::state::AppState;
use crate::web::extract::ApiJson;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/devices/enroll", post(enroll))
        .route("/api/v1/ops/enrolment-tokens", post(create_token))
        .route("/api/v1/ops/devices", get(list))
        .route("/api/v1/ops/devices/{id}", patch(rename))
        .route("/api/v1/ops/devices/{id}/revoke", post(revoke))
        .route("/api/v1/ops/devices/{id}/rotate", post(rotate))
}

async fn enroll(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> AppResult<Json<EnrollResponse>> {
    let (signer, retired) = (state.signer.clone(), state.retired_signers.clone());
    let now = crate::now();
    let resp = state
        .db
        .write(move |tx| {
            let signing = crate::gates::sync::GateSigning {
                current: &signer,
                retired: &retired,
            };
            devices::enroll(tx, &req, signing, now)
        })
        .await?;
    OpsMetrics::inc(&state.ops_metrics.enrolments);
    tracing::info!(device = %resp.device_id, "device enrolled");
    Ok(Json(resp))
}

/// A new enrolment token, with its QR (PNG, base64) for the device's camera. The QR holds the
/// enrolment code (`og_shared::enrol`: this issuer's public address and the token), which
/// `gate-agent enroll --scan` reads.
#[derive(Debug, serde::Serialize)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: devices::EnrolmentToken,
    /// The issuer address a gate enrols with (this issuer's public URL).
    pub issuer_url: String,
    /// The enrolment code in the QR (`og-enrol:?issuer=...&token=...`).
    pub enrolment_code: String,
    pub qr_png_base64: String,
}

pub(crate) async fn make_token(state: &AppState, op: &OperatorAuth, req: NewEnrolmentToken) -> AppResult<CreatedToken> {
    let token = crate::ops::actions::create_enrolment_token(state, op, req).await?;
    let code = og_shared::enrol::EnrolmentCode {
        issuer: state.base_url.to_string(),
        token: token.token.clone(),
    }
    .to_uri();
    let png = crate::trust::qr_image::png(&code, 8)?;
    Ok(CreatedToken {
        token,
        issuer_url: state.base_url.to_string(),
        enrolment_code: code,
        qr_png_base64: base64::engine::general_purpose::STANDARD.encode(png),
    })
}

async fn create_token(
    State(state): State<AppState>,
    op: OperatorAuth,
    ApiJson(req): ApiJson<NewEnrolmentToken>,
) -> AppResult<(StatusCode, Json<CreatedToken>)> {
    Ok((StatusCode::CREATED, Json(make_token(&state, &op, req).await?)))
}

async fn list(State(state): State<AppState>, _op: OperatorAuth) -> AppResult<Json<Vec<DeviceView>>> {
    let now = crate::now();
    Ok(Json(state.db.read(move |c| devices::list(c, now)).await?))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Rename {
    name: String,
}

async fn rename(
    State(state): State<AppState>,
    op: OperatorAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Rename>,
) -> AppResult<StatusCode> {
    crate::ops::actions::rename_device(&state, &op, id, body.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke(State(state): State<AppState>, op: OperatorAuth, Path(id): Path<String>) -> AppResult<StatusCode> {
    crate::ops::actions::revoke_device(&state, &op, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Serialize)]
struct Rotated {
    device_id: String,
    credential: String,
}

async fn rotate(State(state): State<AppState>, op: OperatorAuth, Path(id): Path<String>) -> AppResult<Json<Rotated>> {
    let credential = crate::ops::actions::rotate_device(&state, &op, id.clone()).await?;
    Ok(Json(Rotated {
        device_id: id,
        credential: credential.to_string(),
    }))
}
