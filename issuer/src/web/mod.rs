//! The web layer: HTTP routes, the page layout ([`layout`]) and CSRF protection ([`csrf`]).
//! Each area is a module with its handlers and a `routes()` that returns its
//! part of the router; [`router`] puts them together with the common layers.

pub mod auth;
pub mod console;
pub mod console_events;
pub mod console_find;
pub mod console_ui;
pub mod csrf;
pub mod csrf_token;
pub mod device_sync;
pub mod devices;
pub mod documents;
pub mod extract;
pub mod health;
pub mod layout;
pub mod metrics;
pub mod openapi;
pub mod operator;
pub mod pages;
pub mod phone;
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
        .merge(operator_routes(state.clone()))
        .merge(device_sync::routes())
        .merge(scans::routes())
        .merge(metrics::routes())
        .merge(shop_routes(state.clone()))
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::web::csrf::protect,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), resolve_client))
        .layer(axum::middleware::from_fn(json_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::web::layout::html_errors,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), negotiate_language))
        .layer(axum::middleware::from_fn(crate::web::layout::security_headers))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count_requests,
        ))
        .with_state(state)
}

/// Every operator route (API and console, and the device enrolment beside them), behind the
/// one role check ([`auth::authorize`], which lets non-operator paths through).
fn operator_routes(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(devices::routes())
        .merge(operator::routes())
        .merge(console::routes())
        .route_layer(axum::middleware::from_fn_with_state(state, auth::authorize))
}

/// The client's address behind the configured trusted proxies (see `proxy`).
async fn resolve_client(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    crate::proxy::resolve_client(&state.settings.trusted_proxies, req, next).await
}

/// The request's language: the `__Host-og_lang` choice, else what `i18n::negotiate` finds
/// (see `i18n`), else the deployment's default.
async fn negotiate_language(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let explicit =
        crate::shop::auth::get_cookie(req.headers(), crate::i18n::COOKIE).and_then(|c| crate::i18n::find(&c));
    let default = crate::i18n::Lang::for_account(None, &state.settings.default_language);
    crate::i18n::negotiate(explicit, default, req, next).await
}

async fn not_found() -> crate::error::AppError {
    crate::error::AppError::not_found("no such page or API route")
}

/// The answers axum and tower-http produce themselves (405 for a known path with another
/// method, 413 for a body over the limit) get the same JSON error body as every other error
/// (and, for a browser, the same error page: `layout::html_errors`).
async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let res = next.run(req).await;
    let is_json = res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        return res;
    }
    match res.status() {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = res.headers().get(axum::http::header::ALLOW).cloned();
            let mut out = crate::error::AppError::MethodNotAllowed.into_response();
            if let Some(a) = allow {
                out.headers_mut().insert(axum::http::header::ALLOW, a);
            }
            out
        }
        StatusCode::PAYLOAD_TOO_LARGE => crate::error::AppError::PayloadTooLarge.into_response(),
        _ => res,
    }
}

/// The buyer side (issue 3): JSON API and web pages, with a small body limit and the
/// transparent session refresh for pages.
fn shop_routes(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(shop_api::routes())
        .merge(pages::routes())
        .merge(documents::routes())
        .merge(phone::routes())
        .layer(axum::extract::DefaultBodyLimit::max(extract::SHOP_BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.services.clone(),
            crate::shop::auth::refresh_pages,
        ))
}
