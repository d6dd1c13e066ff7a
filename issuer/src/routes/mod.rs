//! HTTP routes. Each area is a module with its handlers and a `routes()` that returns its
//! part of the router; [`router`] puts them together with the common layers.

pub mod console;
pub mod device_sync;
pub mod devices;
pub mod extract;
pub mod health;
pub mod metrics;
pub mod openapi;
pub mod operator;
pub mod pages;
pub mod scans;
pub mod shop_api;

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
        // Gate operations (issue 4).
        .merge(devices::routes())
        .merge(device_sync::routes())
        .merge(scans::routes())
        .merge(operator::routes())
        .merge(console::routes())
        .merge(metrics::routes())
        .merge(shop_routes(state.clone()))
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count_requests,
        ))
        .with_state(state)
}

async fn not_found() -> crate::error::AppError {
    crate::error::AppError::not_found("no such page or API route")
}

/// The buyer side (issue 3): JSON API and web pages, with a small body limit and the
/// transparent session refresh for pages.
fn shop_routes(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(shop_api::routes())
        .merge(pages::routes())
        .layer(axum::extract::DefaultBodyLimit::max(extract::SHOP_BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state, crate::auth::refresh_pages))
        .layer(axum::middleware::from_fn(crate::web::security_headers))
}
