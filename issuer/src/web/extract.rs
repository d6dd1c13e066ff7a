//! Extractors that turn axum's rejections into [`AppError`]s, so every client mistake in a body
//! or query string gets the same JSON error shape with a stable code (never a plain-text 4xx or
//! a 500).

use axum::body::Bytes;
use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// Largest JSON or form body the shop accepts.
pub const SHOP_BODY_LIMIT: usize = 16 * 1024;

fn body_error(status: StatusCode, text: String) -> AppError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::bad_request("unsupported_media_type", text),
        StatusCode::UNPROCESSABLE_ENTITY => AppError::Unprocessable {
            code: "invalid_body",
            message: text,
        },
        _ => AppError::bad_request("malformed_body", text),
    }
}

/// JSON body (`deny_unknown_fields` on the target type makes unknown fields an error).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        if !json_content_type(req.headers()) {
            return Err(AppError::bad_request(
                "unsupported_media_type",
                "send Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| body_error(e.status(), e.body_text()))?;
        let v = match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => v,
            Err(e) => {
                return Err(match &e {
                    JsonRejection::JsonSyntaxError(_) => AppError::bad_request("malformed_json", e.body_text()),
                    JsonRejection::JsonDataError(_) => AppError::Unprocessable {
                        code: "invalid_body",
                        message: e.body_text(),
                    },
                    _ => body_error(e.status(), e.body_text()),
                });
            }
        };
        // serde's derived structs also accept a JSON array (their fields by position): every body
        // of this API is one object, so anything else is refused, not read positionally.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(AppError::Unprocessable {
                code: "invalid_body",
                message: "the body must be one JSON object".into(),
            });
        }
        Ok(ApiJson(v))
    }
}

/// `application/json` or `application/<something>+json`, as axum's `Json` accepts.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// URL-encoded form body (web pages).
pub struct ApiForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(ApiForm(v)),
            Err(e) => Err(match &e {
                FormRejection::FailedToDeserializeForm(_) | FormRejection::FailedToDeserializeFormBody(_) => {
                    AppError::bad_request("invalid_form", e.body_text())
                }
                _ => body_error(e.status(), e.body_text()),
            }),
        }
    }
}

/// Query string.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e @ QueryRejection::FailedToDeserializeQueryString(_)) => {
                Err(AppError::bad_request("invalid_query", e.body_text()))
            }
            Err(e) => Err(AppError::bad_request("invalid_query", e.body_text())),
        }
    }
}

/// A numeric id in the path; anything else is a 404 (not a plain-text 400).
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::not_found("no such resource"))?;
        raw.parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Id)
            .ok_or_else(|| AppError::not_found(format!("no such resource {raw:?}")))
    }
}
