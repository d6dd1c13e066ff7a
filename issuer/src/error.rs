//! The one error type of the issuer's handlers.
//!
//! Every client mistake maps to a 4xx with a stable machine-readable `code` and a human
//! `message`; only genuine server faults are 500, and their details go to the log, not to the
//! client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error a handler returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// 400: the request is wrong (bad field, bad JSON, quantity out of range...).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: no or invalid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: authenticated but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 409: the request conflicts with the current state (sold out, already paid...).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 410: something existed but is gone for good (an expired token, a pruned delta).
    #[error("{message}")]
    Gone { code: &'static str, message: String },
    /// 405: the path exists, the method does not.
    #[error("this method is not allowed here (see the Allow header)")]
    MethodNotAllowed,
    /// 413.
    #[error("request body too large")]
    PayloadTooLarge,
    /// 422: well-formed but semantically invalid.
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// 429, with the seconds after which a retry can succeed (`Retry-After`).
    #[error("too many attempts: retry in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// 500: a fault on our side. The detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::BadRequest {
            code,
            message: message.into(),
        }
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Conflict {
            code,
            message: message.into(),
        }
    }
    pub fn not_found(what: impl Into<String>) -> AppError {
        AppError::NotFound(what.into())
    }
    pub fn internal(e: impl std::fmt::Display) -> AppError {
        AppError::Internal(e.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::Gone { .. } => StatusCode::GONE,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::Gone { code, .. }
            | AppError::Unprocessable { code, .. } => code,
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::TooManyRequests { .. } => "rate_limited",
            AppError::Internal(_) => "internal",
        }
    }

    /// Adds `Retry-After` to a 429 answer (pages render their own bodies, then call this).
    pub fn add_retry_after(&self, res: &mut Response) {
        if let AppError::TooManyRequests { retry_after_secs } = self {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, (*retry_after_secs).max(1).into());
        }
    }

    /// The message safe to show to the client.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Internal(_) => "something went wrong on our side; it has been logged".to_owned(),
            other => other.to_string(),
        }
    }
}

/// What an error answer was, kept on the response (an extension) so that one layer
/// (`web::layout::html_errors`) can show it as a page to a browser instead of JSON.
#[derive(Debug, Clone, Copy)]
pub struct ErrorInfo {
    pub code: &'static str,
    pub retry_after_secs: Option<u64>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let body = serde_json::json!({ "error": { "code": self.code(), "message": self.public_message() } });
        let mut res = (self.status(), Json(body)).into_response();
        self.add_retry_after(&mut res);
        res.extensions_mut().insert(ErrorInfo {
            code: self.code(),
            retry_after_secs: match self {
                AppError::TooManyRequests { retry_after_secs } => Some(retry_after_secs),
                _ => None,
            },
        });
        res
    }
}

/// Shorthand for handler results.
pub type AppResult<T> = Result<T, AppError>;
