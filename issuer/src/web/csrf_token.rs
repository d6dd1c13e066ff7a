//! The per-browser form token of the CSRF defence (the check itself is the layer in
//! [`crate::web::csrf`]): the random `__Host-og_csrf` cookie, the token every page form carries
//! (`HMAC(secret, cookie)`, rendered by `web::layout::csrf_field`), and the token of the request
//! being answered, available to page rendering ([`current_token`]).

use std::sync::Arc;

use axum::http::HeaderMap;
use hmac::{KeyInit, Mac};

use crate::state::AppState;

/// The browser's CSRF cookie (random, 64 hex digits).
pub const COOKIE_NAME: &str = "__Host-og_csrf";
/// The form field carrying the token.
pub const FIELD: &str = "csrf";

tokio::task_local! {
    /// The form token of the request being answered (set by the [`crate::web::csrf::protect`]
    /// layer).
    pub static TOKEN: Arc<str>;
}

/// The token for forms rendered while handling the current request (empty outside the layer,
/// so a form rendered elsewhere fails closed).
pub fn current_token() -> String {
    TOKEN.try_with(|t| t.to_string()).unwrap_or_default()
}

/// Runs `render` with the form token of the browser's CSRF cookie available to
/// [`current_token`]: for pages rendered outside the [`crate::web::csrf::protect`] layer
/// (`layout::html_errors`'s error pages, whose header has the log-out form). Without a valid
/// cookie the forms get no token, as outside the layer.
pub fn render_with_token<R>(state: &AppState, headers: &HeaderMap, render: impl FnOnce() -> R) -> R {
    match cookie_value(headers) {
        Some(cookie) => TOKEN.sync_scope(token_for_cookie(state, &cookie).into(), render),
        None => render(),
    }
}

/// The form token for a CSRF cookie value, `HMAC(secret, cookie)`: what
/// [`crate::web::layout::csrf_field`] renders for a browser holding that cookie, and what the
/// layer expects back (black-box tests post forms the way a browser does).
pub fn token_for_cookie(state: &AppState, cookie: &str) -> String {
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&state.secrets.jwt[..])
        .expect("HMAC takes any key length");
    mac.update(b"og-csrf-v1:");
    mac.update(cookie.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The browser's CSRF cookie, when it has a well-formed one.
pub fn cookie_value(headers: &HeaderMap) -> Option<String> {
    crate::shop::auth::get_cookie(headers, COOKIE_NAME)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}
