//! Cross-site request forgery defence for everything a browser can be made to send.
//!
//! [`protect`] is one layer over the whole router:
//!
//! * **Every unsafe request** (POST, PUT, PATCH, DELETE), page or API, is refused with 403 when
//!   the browser says it comes from another origin: `Sec-Fetch-Site` other than `same-origin`
//!   or `none`, or an `Origin` whose host is not the request's `Host`. Browsers send both on
//!   cross-origin posts; API clients that are not browsers send neither and are unaffected
//!   (they authenticate with bearer tokens, which no other site can make a browser send).
//! * **Every form post** to a page (any path outside `/api/`) must also carry the per-browser
//!   token in the `csrf` field: `HMAC(secret, cookie)` of the random `__Host-og_csrf` cookie
//!   (HttpOnly, Secure, host-only, so a sibling host can neither read nor plant it; Lax, so a
//!   visit arriving from a mailed link keeps the browser's cookie and its other tabs' forms).
//!   The layer sets the cookie on the first page a browser gets and makes the token available
//!   to page rendering (the cookie and its token: [`crate::web::csrf_token`]); forms get it
//!   through [`crate::web::layout::csrf_field`], the one helper every form uses.
//!
//! The check happens before any handler runs, so no handler can forget it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, HOST, ORIGIN, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::csrf_token::{self, COOKIE_NAME, FIELD, cookie_value, token_for_cookie};
use crate::error::AppError;
use crate::state::AppState;

/// Largest form body the check reads (page and console forms are far smaller).
const MAX_FORM_BYTES: usize = 64 * 1024;
/// The page paths that take a file (`multipart/form-data`, token in its `csrf` part) and the
/// largest body each may send; every other path gets urlencoded forms only.
pub const UPLOADS: &[(&str, usize)] = &[(SEARCH_IMAGE, 10 * 1024 * 1024)];
/// The console's search by a picture of a code.
pub const SEARCH_IMAGE: &str = "/ops/search/image";

/// The largest body `path` may upload, when it takes uploads at all.
pub fn upload_limit(path: &str) -> Option<usize> {
    UPLOADS.iter().find(|(p, _)| *p == path).map(|(_, limit)| *limit)
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

/// Whether the browser's own headers say this request comes from another origin than the
/// request's `Host` or the public base URL (`public_url`, e.g. behind a proxy that rewrites the
/// host).
pub fn cross_origin(headers: &HeaderMap, base_url: &str) -> bool {
    let site = headers.get("sec-fetch-site").map(|v| v.to_str().unwrap_or("?"));
    if site.is_some_and(|s| !matches!(s, "same-origin" | "none")) {
        return true;
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return false;
    };
    // Browsers send `Origin: null` under some referrer policies even for their own origin's
    // forms; the browser's own Sec-Fetch-Site then tells.
    if origin == "null" && site == Some("same-origin") {
        return false;
    }
    let host = headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest.trim_end_matches('/'));
    let public = origin
        .to_str()
        .is_ok_and(|o| o.eq_ignore_ascii_case(base_url.trim_end_matches('/')));
    match origin_host {
        _ if public => false,
        Some(o) => host.is_empty() || !o.eq_ignore_ascii_case(host),
        None => true, // "null" (sandboxed frames, some redirects) or garbage
    }
}

fn refused(api: bool, why: &str) -> Response {
    let e = AppError::Forbidden(format!("cross-site request refused: {why}"));
    if api {
        return e.into_response();
    }
    let l = crate::i18n::current();
    let body = super::layout::page(
        &crate::tr!(l, "refused-title"),
        None,
        maud::html! {
            h1 { (crate::tr!(l, "problem-client")) }
            (super::layout::notice("error", &crate::tr!(l, "csrf-refused")))
            p { (crate::tr!(l, "csrf-retry")) }
        },
    );
    (StatusCode::FORBIDDEN, body).into_response()
}

/// The layer (see the module documentation).
pub async fn protect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let unsafe_method = is_unsafe(req.method());
    if unsafe_method && cross_origin(req.headers(), &state.base_url) {
        return refused(api, "it comes from another site");
    }
    if api {
        return next.run(req).await;
    }
    let existing = cookie_value(req.headers());
    let req = if unsafe_method {
        let Some(cookie) = existing.as_deref() else {
            return refused(false, "the form has no valid token (are cookies enabled?)");
        };
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let is_form = content_type.starts_with("application/x-www-form-urlencoded");
        let upload_limit = upload_limit(req.uri().path()).filter(|_| content_type.starts_with("multipart/form-data"));
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, upload_limit.unwrap_or(MAX_FORM_BYTES)).await else {
            return AppError::PayloadTooLarge.into_response();
        };
        let sent = if is_form {
            form_urlencoded_field(&bytes, FIELD)
        } else if upload_limit.is_some() {
            multipart_field(&content_type, bytes.clone(), FIELD).await
        } else {
            None
        };
        let expected = token_for_cookie(&state, cookie);
        let ok = sent.is_some_and(|s| bool::from(s.as_bytes().ct_eq(expected.as_bytes())));
        if !ok {
            return refused(false, "the form has no valid token (reload the page and try again)");
        }
        Request::from_parts(parts, Body::from(bytes))
    } else {
        req
    };
    let (cookie, fresh) = match existing {
        Some(c) => (c, false),
        None => (crate::shop::auth::random_token(), true),
    };
    let token: Arc<str> = token_for_cookie(&state, &cookie).into();
    let mut res = csrf_token::TOKEN.scope(token, next.run(req)).await;
    if let (true, Ok(v)) = (
        fresh,
        HeaderValue::from_str(&format!(
            "{COOKIE_NAME}={cookie}; Path=/; HttpOnly; Secure; SameSite=Lax"
        )),
    ) {
        res.headers_mut().append(SET_COOKIE, v);
    }
    res
}

/// The text of the part called `name` in a `multipart/form-data` body (`None` when it is not
/// there or the body is not well formed).
async fn multipart_field(content_type: &str, body: axum::body::Bytes, name: &str) -> Option<String> {
    use axum::extract::FromRequest;
    let req = Request::builder()
        .header(CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .ok()?;
    let mut parts = axum::extract::Multipart::from_request(req, &()).await.ok()?;
    while let Ok(Some(field)) = parts.next_field().await {
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
}

/// The first value of `name` in an `application/x-www-form-urlencoded` body.
fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    body.split(|b| *b == b'&').find_map(|pair| {
        let mut kv = pair.splitn(2, |b| *b == b'=');
        let k = percent_decode(kv.next()?)?;
        if k != name {
            return None;
        }
        percent_decode(kv.next().unwrap_or(b""))
    })
}

fn percent_decode(raw: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = raw.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_static(v));
        }
        m
    }

    fn cross_origin_t(h: &HeaderMap) -> bool {
        cross_origin(h, "https://tickets.example")
    }

    #[test]
    fn a_request_from_another_origin_or_site_is_recognised() {
        assert!(!cross_origin_t(&h(&[
            ("host", "internal:8080"),
            ("origin", "https://tickets.example")
        ])));
        assert!(!cross_origin_t(&h(&[("host", "shop.example")])));
        assert!(!cross_origin_t(&h(&[
            ("host", "shop.example"),
            ("origin", "https://shop.example")
        ])));
        assert!(!cross_origin_t(&h(&[
            ("host", "shop.example"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(cross_origin_t(&h(&[
            ("host", "shop.example"),
            ("origin", "https://evil.shop.example")
        ])));
        assert!(cross_origin_t(&h(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:9090")
        ])));
        assert!(cross_origin_t(&h(&[("host", "shop.example"), ("origin", "null")])));
        assert!(!cross_origin_t(&h(&[
            ("host", "shop.example"),
            ("origin", "null"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(cross_origin_t(&h(&[
            ("host", "shop.example"),
            ("sec-fetch-site", "same-site")
        ])));
        assert!(cross_origin_t(&h(&[
            ("host", "shop.example"),
            ("sec-fetch-site", "cross-site")
        ])));
    }

    #[test]
    fn the_token_field_is_found_among_the_form_fields() {
        assert_eq!(
            form_urlencoded_field(b"offer_id=1&csrf=ab%20c&quantity=2", "csrf").as_deref(),
            Some("ab c")
        );
        assert_eq!(form_urlencoded_field(b"offer_id=1", "csrf"), None);
        assert_eq!(form_urlencoded_field(b"\xff\xfe=%%", "csrf"), None);
    }
}
