//! The phone ticket (issue 11): the page `/phone/{serial}` where "Use this phone as my ticket"
//! binds the buyer's phone and then shows the rotating code, and what it needs from the issuer:
//! its script (`phone.js`), the vendored QR encoder (`qrcode.js`, qrcode-generator 2.0.4, MIT),
//! the service worker (`sw.js`, scope `/phone/`), the web app manifest and icons, and the
//! issuer's clock (`/phone/time`). The binding itself is `POST /api/v1/tickets/{serial}/binding`
//! (`shop_api`).
//!
//! These are the only answers of the issuer that run script: they carry [`PHONE_CSP`]
//! (same-origin script, fetch, worker and manifest, nothing inline) instead of the script-free
//! policy every other answer gets from `web::layout::security_headers`.

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
use super::pages::{PageError, explanation, need, offer_name, places_line, ticket_facts};
use crate::i18n::{self, Lang};
use crate::shop::auth::MaybeUser;
use crate::state::AppState;
use crate::tr;
use crate::web::layout::notice;

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
    let l = i18n::current();
    let body = json!({
        "name": tr!(l, "phone-app-name"),
        "short_name": tr!(l, "phone-app-short-name"),
        "lang": l.code(),
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

/// The issuer's clock, for the phone's offset (never cached: `no-store` from the headers layer).
async fn time() -> Response {
    axum::Json(json!({ "now_ms": crate::now_ms() })).into_response()
}

async fn phone_page(State(s): State<AppState>, user: MaybeUser, Id(serial): Id) -> Result<Response, PageError> {
    let u = need(user)?;
    let uid = u.id;
    let (t, view, tag) =
        s.db.read(move |c| {
            Ok((
                crate::shop::orders::get_ticket(c, uid, serial)?,
                crate::shop::binding::phone_view(c, serial)?,
                crate::shop::binding::active_key_tag(c, serial)?,
            ))
        })
        .await
        .map_err(|e| PageError::with_user(e, &u))?;
    let period = s.settings.phone.rotation_period_secs;
    let max_rebinds = s.settings.phone.max_rebinds;
    let l = i18n::current();
    let head = html! {
        link rel="manifest" href={ "/phone/manifest.webmanifest?ticket=" (t.serial) };
        meta name="theme-color" content="#0a2540";
        style { "@keyframes og-bar{from{transform:scaleX(1)}to{transform:scaleX(0)}}" }
        script src="/phone/qrcode.js" defer {}
        script src="/phone/phone.js" defer {}
    };
    let body = html! {
        section #phone data-serial=(t.serial) data-period=(period) data-bound-tag=(tag.unwrap_or_default())
            data-zone=(t.time_zone) data-words=(phone_words(l, max_rebinds)) {
            div.ticket {
                h1 { (t.event_name) }
                (ticket_facts(l, &t))
                p { strong { (offer_name(l, &t.offer)) } " — " (places_line(l, &t)) " · " (tr!(l, "ticket-number", serial = t.serial)) }
                @if t.qr_text.is_none() {
                    (notice("error", &explanation(l, t.state)))
                } @else {
                    (live_code(l, &t.holder_name, period))
                    div #bind-box {
                        p { (tr!(l, "phone-explained", period = period)) }
                        @if view.phone_bound {
                            p.meta { (tr!(l, "phone-another-shows", max = max_rebinds)) }
                        }
                        button #bind type="button" { (tr!(l, "use-this-phone")) }
                        noscript { (notice("error", &tr!(l, "phone-needs-js"))) }
                    }
                }
                p #phone-status.notice role="status" hidden {}
            }
            p.noprint style="text-align:center" { a href={ "/tickets/" (t.serial) } { (tr!(l, "phone-back")) } }
        }
    };
    Ok(crate::web::layout::page_with_head(&tr!(l, "phone-title"), Some(&u), head, body).into_response())
}

/// Every sentence `phone.js` may show, in the page's language, as JSON for `data-words`
/// (`errors` maps the binding API's error codes to sentences).
fn phone_words(l: Lang, max_rebinds: u32) -> String {
    let codes = [
        "event_cancelled",
        "ticket_refunded",
        "ticket_revoked",
        "device_key_revoked",
        "bad_public_key",
        "not_found",
        "rate_limited",
        "internal",
    ];
    let mut errors = serde_json::Map::new();
    for c in codes {
        let e = crate::error::AppError::conflict(c, String::new());
        errors.insert(c.to_owned(), json!(l.error(&e)));
    }
    errors.insert(
        "too_many_rebinds".to_owned(),
        json!(tr!(l, "phone-too-many-rebinds", max = max_rebinds)),
    );
    json!({
        "creating": tr!(l, "phone-creating-key"),
        "sessionEnded": tr!(l, "phone-session-ended"),
        "bindFailed": tr!(l, "phone-bind-failed", why = "{why}"),
        "answered": tr!(l, "phone-issuer-answered", status = "{status}"),
        "replaced": tr!(l, "phone-replaced-done"),
        "noCrypto": tr!(l, "phone-no-crypto"),
        "movedAway": tr!(l, "phone-moved-away"),
        "wentWrong": tr!(l, "phone-went-wrong", why = "{why}"),
        "errors": errors,
    })
    .to_string()
}

fn live_code(l: Lang, holder: &str, period: u32) -> Markup {
    html! {
        div #live hidden {
            div style="display:flex;flex-wrap:wrap;gap:16px;align-items:center;justify-content:center" {
                canvas #code width=(CANVAS_PX) height=(CANVAS_PX) role="img" aria-label=(tr!(l, "phone-code-label"))
                    style="max-width:100%;image-rendering:pixelated;border:1px solid #000" {}
                div style="min-width:160px" {
                    p { (tr!(l, "holder")) br; strong #holder style="font-size:1.3rem" { (holder) } }
                    div style="height:14px;border:2px solid #000;border-radius:7px;overflow:hidden;background:#fff" {
                        div #bar style="height:100%;width:100%;background:#146c2e;transform-origin:left;will-change:transform" {}
                    }
                    p.meta { (tr!(l, "phone-code-of")) " " span #step { "…" } ". " (tr!(l, "phone-changes-every", period = period)) }
                }
            }
            p.hint { (tr!(l, "brightness-hint")) }
        }
    }
}
