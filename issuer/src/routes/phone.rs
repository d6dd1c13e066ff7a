//! The phone ticket (issue 11): the page `/phone/{serial}` where "Use this phone as my ticket"
//! binds the buyer's phone and then shows the rotating code, and what it needs from the issuer:
//! its script (`phone.js`), the vendored QR encoder (`qrcode.js`, qrcode-generator 2.0.4, MIT),
//! the service worker (`sw.js`, scope `/phone/`), the web app manifest and icons, and the
//! issuer's clock (`/phone/time`). The binding itself is `POST /api/v1/tickets/{serial}/binding`
//! (`shop_api`).
//!
//! These are the only answers of the issuer that run script: they carry [`PHONE_CSP`]
//! (same-origin script, fetch, worker and manifest, nothing inline) instead of the script-free
//! policy every other answer gets from `web::security_headers`.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::extract::{ApiQuery, Id};
use super::pages::{PageError, need, places_line, title_case};
use crate::auth::MaybeUser;
use crate::state::AppState;
use crate::web::{notice, when};

/// The content security policy of the phone routes: script, fetch, service worker and manifest
/// from this origin only; no inline script, no eval, nothing from elsewhere.
pub const PHONE_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; worker-src 'self'; \
     manifest-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

const PHONE_JS: &str = include_str!("../../static/phone.js");
const QRCODE_JS: &str = include_str!("../../static/qrcode.js");
const SW_JS: &str = include_str!("../../static/sw.js");

/// Pixels of the code's canvas: a version-10 code (57 modules) plus its 4-module quiet zone on
/// each side at 6 px a module.
const CANVAS_PX: u32 = 390;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/phone/{serial}", get(phone_page))
        .route("/phone/phone.js", get(|| async { script(PHONE_JS) }))
        .route("/phone/qrcode.js", get(|| async { script(QRCODE_JS) }))
        .route("/phone/sw.js", get(|| async { script(SW_JS) }))
        .route("/phone/manifest.webmanifest", get(manifest))
        .route("/phone/icon-192.png", get(|| async { png(&ICON_192) }))
        .route("/phone/icon-512.png", get(|| async { png(&ICON_512) }))
        .route("/phone/time", get(time))
        .layer(axum::middleware::map_response(with_phone_csp))
}

async fn with_phone_csp(mut res: Response) -> Response {
    res.headers_mut()
        .insert("content-security-policy", HeaderValue::from_static(PHONE_CSP));
    res
}

fn script(body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn png(bytes: &'static [u8]) -> Response {
    ([(CONTENT_TYPE, "image/png"), (CACHE_CONTROL, "no-cache")], bytes).into_response()
}

/// A plain icon: a white ticket with a notch on the shop's navy.
fn icon(size: u32) -> Vec<u8> {
    let navy = image::Rgba([10, 37, 64, 255]);
    let white = image::Rgba([255, 255, 255, 255]);
    let img = image::RgbaImage::from_fn(size, size, |x, y| {
        let (m, h) = (size / 6, size / 4);
        let inside = x >= m && x < size - m && y >= h && y < size - h;
        let notch = {
            let (cx, cy, r) = (i64::from(size / 2), i64::from(h), i64::from(size / 12));
            let (dx, dy) = (i64::from(x) - cx, i64::from(y) - cy);
            dx * dx + dy * dy <= r * r
        };
        if inside && !notch { white } else { navy }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    // Encoding a small in-memory image cannot fail.
    let _ = img.write_to(&mut out, image::ImageFormat::Png);
    out.into_inner()
}

static ICON_192: LazyLock<Vec<u8>> = LazyLock::new(|| icon(192));
static ICON_512: LazyLock<Vec<u8>> = LazyLock::new(|| icon(512));

#[derive(Deserialize)]
struct ManifestQuery {
    #[serde(default)]
    ticket: Option<u32>,
}

/// The web app manifest; `?ticket=N` makes the installed app open that ticket.
async fn manifest(ApiQuery(q): ApiQuery<ManifestQuery>) -> Response {
    let start = q
        .ticket
        .map_or_else(|| "/tickets".to_owned(), |n| format!("/phone/{n}"));
    let body = json!({
        "name": "og-tickets: my ticket",
        "short_name": "Ticket",
        "start_url": start,
        "scope": "/phone/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0a2540",
        "icons": [
            { "src": "/phone/icon-192.png", "sizes": "192x192", "type": "image/png" },
            { "src": "/phone/icon-512.png", "sizes": "512x512", "type": "image/png" }
        ]
    });
    ([(CONTENT_TYPE, "application/manifest+json")], body.to_string()).into_response()
}

/// Milliseconds since the Unix epoch on the issuer's clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The issuer's clock, for the phone's offset (never cached: `no-store` from the headers layer).
async fn time() -> Response {
    axum::Json(json!({ "now_ms": now_ms() })).into_response()
}

async fn phone_page(State(s): State<AppState>, user: MaybeUser, Id(serial): Id) -> Result<Response, PageError> {
    let u = need(user)?;
    let uid = u.id;
    let (t, view, tag) =
        s.db.read(move |c| {
            Ok((
                crate::shop::get_ticket(c, uid, serial)?,
                crate::binding::phone_view(c, serial)?,
                crate::binding::active_key_tag(c, serial)?,
            ))
        })
        .await
        .map_err(|e| PageError::with_user(e, &u))?;
    let period = s.settings.phone.rotation_period_secs;
    let head = html! {
        link rel="manifest" href={ "/phone/manifest.webmanifest?ticket=" (t.serial) };
        meta name="theme-color" content="#0a2540";
        style { "@keyframes og-bar{from{transform:scaleX(1)}to{transform:scaleX(0)}}" }
        script src="/phone/qrcode.js" defer {}
        script src="/phone/phone.js" defer {}
    };
    let body = html! {
        section #phone data-serial=(t.serial) data-period=(period) data-bound-tag=(tag.unwrap_or_default()) {
            div.ticket {
                h1 { (t.event_name) }
                p { (t.sport) " · " (t.venue) br; strong { (when(t.starts_at)) } br; "Doors open " (when(t.doors_open)) }
                p { strong { (title_case(&t.offer)) } " — " (places_line(&t)) " · Ticket #" (t.serial) }
                @if t.qr_text.is_none() {
                    (notice("error", t.explanation.as_deref().unwrap_or("This ticket no longer opens the gate.")))
                } @else {
                    (live_code(&t.holder_name, period))
                    div #bind-box {
                        p { "Your phone shows a code that changes every " (period) " seconds, signed by a key that never leaves this phone. "
                            "A screenshot or a copy stops working within a minute, and the code works without any signal at the gate." }
                        @if view.phone_bound {
                            p.meta { "Another phone shows this ticket now. Using this phone instead stops the other one at the next gate update; "
                                "a ticket can move to another phone " (s.settings.phone.max_rebinds) " times." }
                        }
                        button #bind type="button" { "Use this phone as my ticket" }
                        noscript { (notice("error", "The phone ticket needs JavaScript: turn it on for this site.")) }
                    }
                }
                p #phone-status.notice role="status" hidden {}
            }
            p.noprint style="text-align:center" { a href={ "/tickets/" (t.serial) } { "Back to the ticket" } }
        }
    };
    Ok(crate::web::page_with_head("My phone ticket", Some(&u), head, body).into_response())
}

fn live_code(holder: &str, period: u32) -> Markup {
    html! {
        div #live hidden {
            div style="display:flex;flex-wrap:wrap;gap:16px;align-items:center;justify-content:center" {
                canvas #code width=(CANVAS_PX) height=(CANVAS_PX) role="img" aria-label="Rotating ticket code"
                    style="max-width:100%;image-rendering:pixelated;border:1px solid #000" {}
                div style="min-width:160px" {
                    p { "Holder" br; strong #holder style="font-size:1.3rem" { (holder) } }
                    div style="height:14px;border:2px solid #000;border-radius:7px;overflow:hidden;background:#fff" {
                        div #bar style="height:100%;width:100%;background:#146c2e;transform-origin:left;will-change:transform" {}
                    }
                    p.meta { "Code of " span #step { "…" } ". It changes every " (period) " s: a moving bar means a live code, not a picture." }
                }
            }
            p.hint { "Turn your screen brightness up before you reach the gate." }
        }
    }
}
