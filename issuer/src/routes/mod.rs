//! HTTP routes. Each area is a module with its handlers and a `routes()` that returns its
//! part of the router; [`router`] puts them together with the common layers.

pub mod health;

use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// Largest request body accepted anywhere (scan batches are the largest legitimate bodies).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The whole application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::routes())
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> crate::error::AppError {
    crate::error::AppError::not_found("no such page or API route")
}
