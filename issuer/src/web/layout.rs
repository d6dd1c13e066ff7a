//! The look of the web pages: one layout (header, navigation, main, footer) and one small
//! inline stylesheet. Pages work without JavaScript; the CSS is responsive (one column on
//! phones), keeps WCAG AA contrast, shows focus outlines that contrast 3:1 with what surrounds
//! them (navy on the light page, yellow on the navy header), and has a print style for tickets.
//! `issuer/tests/a11y_browser.rs` audits the pages with axe-core and walks a form by keyboard.

use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, ALLOW, CACHE_CONTROL, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::error::ErrorInfo;
use crate::shop::auth::AuthUser;
use crate::state::AppState;
use crate::tr;

/// The shop's stylesheet (the console adds its own rules after it: `web::console_ui`).
pub(crate) const CSS: &str = r#"
:root{--ink:#111;--muted:#555;--bg:#fafafa;--card:#fff;--accent:#0b5cad;--ok:#146c2e;--bad:#a4161a;--line:#ddd}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
a{color:var(--accent)}
a:focus,button:focus,input:focus,select:focus,summary:focus,textarea:focus{outline:3px solid #0a2540;outline-offset:2px}
header a:focus,header button:focus,.skip:focus{outline-color:#f6b900}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:8px;z-index:9}
header{background:#0a2540;color:#fff}
header .bar{max-width:1100px;margin:0 auto;display:flex;flex-wrap:wrap;gap:12px;align-items:center;justify-content:space-between;padding:12px 16px}
header a{color:#fff;text-decoration:none;font-weight:600}
header nav{display:flex;gap:16px;flex-wrap:wrap;align-items:center}
header form{margin:0}
.langs{display:flex;gap:8px;border-left:1px solid #5a7696;padding-left:12px}
.langs span{font-weight:600;border-bottom:3px solid #f6b900}
header button{background:none;border:1px solid #fff;color:#fff;padding:4px 10px;border-radius:6px;cursor:pointer}
main{max-width:1100px;margin:0 auto;padding:16px}
h1{font-size:1.7rem;margin:.5rem 0 1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px}
.card h2{font-size:1.15rem;margin:.2rem 0}
.meta{color:var(--muted);font-size:.95rem}
.sport{display:inline-block;background:#e8f0fb;color:#0a2540;border-radius:999px;padding:2px 10px;font-size:.85rem;font-weight:600}
form.filters{display:flex;flex-wrap:wrap;gap:12px;align-items:end;margin-bottom:16px}
label{display:block;font-weight:600;margin:.4rem 0 .2rem}
input,select{font:inherit;padding:8px;border:1px solid #888;border-radius:6px;min-width:0;max-width:100%}
button,.button{font:inherit;background:var(--accent);color:#fff;border:0;border-radius:6px;padding:9px 16px;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary{background:#fff;color:var(--accent);border:1px solid var(--accent)}
button.danger{background:var(--bad)}
table{width:100%;border-collapse:collapse;background:var(--card)}
th,td{text-align:left;padding:8px;border-bottom:1px solid var(--line)}
.notice{border-left:4px solid var(--accent);background:#fff;padding:10px 14px;margin:12px 0}
.error{border-left-color:var(--bad)}
.ok{border-left-color:var(--ok)}
.offers{list-style:none;padding:0;margin:0}
.offers li{display:flex;flex-wrap:wrap;justify-content:space-between;gap:8px;align-items:center;padding:10px 0;border-top:1px solid var(--line)}
.narrow{max-width:440px}
.status{font-weight:700;text-transform:uppercase;letter-spacing:.04em}
.qr svg{width:100%;height:auto;display:block}
.ticket{background:#fff;color:#000;border:2px solid #000;border-radius:12px;padding:20px;max-width:520px;margin:0 auto}
.ticket .qr{max-width:420px;margin:12px auto}
.ticket h1{font-size:1.5rem}
.hint{background:#000;color:#fff;padding:8px 12px;border-radius:6px;text-align:center;font-weight:600}
footer{max-width:1100px;margin:24px auto;padding:16px;color:var(--muted);font-size:.9rem}
@media print{header,footer,.noprint{display:none!important}body{background:#fff}main{padding:0}.ticket{border:2px solid #000;max-width:none}}
"#;

pub use crate::ops::euros;

/// The page frame, in the request's language ([`crate::i18n::current`]).
pub fn page(title: &str, user: Option<&AuthUser>, body: Markup) -> Markup {
    page_with_head(title, user, html! {}, body)
}

/// The page frame with extra `<head>` elements (the phone ticket's manifest and scripts, which
/// only routes with their own CSP may add: see `web::phone`).
pub fn page_with_head(title: &str, user: Option<&AuthUser>, head: Markup, body: Markup) -> Markup {
    let l = crate::i18n::current();
    let back = crate::i18n::query_escape(&crate::i18n::current_path());
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · og-tickets" }
                link rel="icon" type="image/svg+xml" href="/favicon.svg";
                style { (PreEscaped(CSS)) }
                (head)
            }
            body {
                a.skip href="#main" { (tr!(l, "skip-to-content")) }
                header {
                    div.bar {
                        a href="/" { "og-tickets" }
                        nav aria-label=(tr!(l, "nav-label")) {
                            a href="/" { (tr!(l, "nav-events")) }
                            a href="/cart" { (tr!(l, "nav-cart")) }
                            @if let Some(u) = user {
                                a href="/orders" { (tr!(l, "nav-orders")) }
                                a href="/tickets" { (tr!(l, "nav-tickets")) }
                                a href="/account" title=(tr!(l, "nav-account")) style="font-weight:400;color:#cfe0f5" { (u.email) }
                                form method="post" action="/logout" { (csrf_field()) button type="submit" { (tr!(l, "nav-log-out")) } }
                            } @else {
                                a href="/login" { (tr!(l, "nav-log-in")) }
                                a href="/signup" { (tr!(l, "nav-sign-up")) }
                            }
                            span.langs aria-label=(tr!(l, "language-switcher")) role="group" {
                                @for other in crate::i18n::available() {
                                    @if other == l {
                                        span lang=(other.code()) aria-current="true" { (tr!(other, "language-name")) }
                                    } @else {
                                        a href={ "/lang/" (other.code()) "?back=" (back) } lang=(other.code()) hreflang=(other.code()) { (tr!(other, "language-name")) }
                                    }
                                }
                            }
                        }
                    }
                }
                main #main { (body) }
                footer {
                    p { (tr!(l, "footer-text")) }
                    p { a href="/terms" { (tr!(l, "terms-title")) } " · " a href="/privacy" { (tr!(l, "privacy-title")) } }
                }
            }
        }
    }
}

/// Error answers shown to a browser as pages: an answer carrying [`ErrorInfo`] (every
/// [`AppError`], the 404 fallback, axum's 405 and 413 once `json_errors` made them `AppError`s)
/// to a request that accepts `text/html` and is not under `/api/` becomes a page in the layout,
/// in the request's language, with the same status (and `Retry-After`). The JSON API, and any
/// client that does not ask for HTML, keeps the JSON error. The one place that decides.
pub async fn html_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let wants_html = !req.uri().path().starts_with("/api/")
        && req
            .headers()
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
    let headers = if wants_html { Some(req.headers().clone()) } else { None };
    let res = next.run(req).await;
    let (Some(headers), Some(info)) = (headers, res.extensions().get::<ErrorInfo>().copied()) else {
        return res;
    };
    let status = res.status();
    // The header shows the signed-in user when there is one (a failure here is no reason to fail).
    let user = match status {
        StatusCode::UNAUTHORIZED => None,
        _ => crate::shop::auth::user_from_headers(&state, &headers)
            .await
            .ok()
            .flatten(),
    };
    let l = crate::i18n::current();
    let (title, heading) = match status.as_u16() {
        404 => (tr!(l, "error-page-404-title"), tr!(l, "error-page-404-title")),
        429 => (tr!(l, "error-page-429-title"), tr!(l, "error-page-429-title")),
        s if s >= 500 => (tr!(l, "problem-title"), tr!(l, "problem-server")),
        _ => (tr!(l, "problem-title"), tr!(l, "problem-client")),
    };
    let text = l.error_code(info.code, info.retry_after_secs, status.is_server_error());
    // This layer is outside `csrf::protect`: the header's log-out form gets its token here.
    let body = crate::web::csrf_token::render_with_token(&state, &headers, || {
        page(
            &title,
            user.as_ref(),
            html! {
                h1 { (heading) }
                (notice("error", &text))
                p { a href="/" { (tr!(l, "back-to-events")) } }
            },
        )
    });
    let mut out = (status, body).into_response();
    for name in [RETRY_AFTER, ALLOW] {
        if let Some(v) = res.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

/// The shop's icon: a white ticket on navy (SVG, cached for a day).
pub const FAVICON_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="12" fill="#0a2540"/><path d="M12 20h40v8a4 4 0 0 0 0 8v8H12v-8a4 4 0 0 0 0-8z" fill="#fff"/><path d="M36 22v20" stroke="#0a2540" stroke-width="2" stroke-dasharray="3 3"/></svg>"##;

/// A message box.
pub fn notice(kind: &str, text: &str) -> Markup {
    html! { div class={ "notice " (kind) } role=(if kind == "error" { "alert" } else { "status" }) { (text) } }
}

/// The hidden field carrying the CSRF token: every form that posts puts `(csrf_field())` first.
/// The token comes from the [`crate::web::csrf::protect`] layer for the request being answered.
pub fn csrf_field() -> Markup {
    html! { input type="hidden" name=(crate::web::csrf_token::FIELD) value=(crate::web::csrf_token::current_token()); }
}

/// Security headers on every answer (pages, console, API): no script at all (except the phone
/// ticket's routes, which set their own policy allowing same-origin script only: see
/// `web::phone::PHONE_CSP`), styles inline only, forms post to us only, no framing by any site, no MIME sniffing, no referrer to other
/// sites (tokens in URLs stay with us; `same-origin` rather than `no-referrer`, under which
/// browsers send `Origin: null` with our own forms). Answers that set no `Cache-Control` get `no-store`: pages show QR codes,
/// enrolment tokens and device credentials, and no answer of this server is meant for a shared
/// or disk cache (the public catalogue is cached in the server, see `catalogue`).
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if !h.contains_key("content-security-policy") {
        h.insert(
            "content-security-policy",
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; \
                 frame-ancestors 'none'; base-uri 'none'",
            ),
        );
    }
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    if !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
