//! The look of the operator console: the shop's stylesheet (`web::CSS`) plus a few console
//! rules, one layout (header with search, navigation showing where the operator is and only
//! what their role allows), tables that become cards on a phone, live panels, and times local to
//! the venue (jiff's bundled time zone database, `events.time_zone`), when a gate counts as
//! online ([`ONLINE_SECS`]), and the page a role that may not open a route gets ([`forbidden`]).
//!
//! Console answers carry [`CONSOLE_CSP`]: like the shop's script-free policy, plus script and
//! fetch from this origin only (the live panels' `/ops/console.js`; nothing inline, no eval).

use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::ops::access::Permission;
use crate::ops::auth::OperatorAuth;
use crate::web::layout::csrf_field;

/// A device is shown online when it was heard from this recently (3 default sync periods).
pub const ONLINE_SECS: i64 = 90;

/// The answer to an operator whose role does not allow the route (403): what they may not do
/// and where to go instead.
pub fn forbidden(op: &OperatorAuth, needed: Permission) -> Response {
    let body = page(
        op,
        Section::None,
        "Not allowed",
        html! {
            div.notice.error role="alert" { "Your role (" (op.role.name()) ") cannot " (needed.describe()) "." }
            p { "Ask an admin if you need to. " a href="/ops" { "Back to the console" } }
        },
    );
    let mut res = (axum::http::StatusCode::FORBIDDEN, body).into_response();
    res.headers_mut()
        .insert("content-security-policy", HeaderValue::from_static(CONSOLE_CSP));
    res
}

/// The console's content security policy.
pub const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
     style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The live panels' script.
pub const CONSOLE_JS: &str = include_str!("../../static/console.js");

/// Seconds between two refreshes of a live panel.
pub const LIVE_SECS: u32 = 3;

/// Console rules on top of the shop's stylesheet.
const CSS: &str = r#"
header .who{color:#cfe0f5;font-size:.9rem}
.role{display:inline-block;background:#e8f0fb;color:#0a2540;border-radius:999px;padding:1px 8px;font-size:.8rem;font-weight:700;text-transform:uppercase;letter-spacing:.04em}
form.search{display:flex;gap:6px;flex:1 1 260px;max-width:460px;margin:0}
form.search input{flex:1;min-width:0;border-color:#fff}
form.search button{border:1px solid #fff}
nav.ops{background:#fff;border-bottom:1px solid var(--line)}
nav.ops ul{max-width:1100px;margin:0 auto;padding:0 8px;list-style:none;display:flex;flex-wrap:wrap;gap:2px}
nav.ops a{display:block;padding:10px 10px 7px;text-decoration:none;border-bottom:3px solid transparent;color:var(--ink)}
nav.ops a[aria-current=page]{border-bottom-color:var(--accent);color:var(--accent);font-weight:700}
main{overflow-wrap:anywhere}
.tablebox{overflow-x:auto;max-width:100%}
code{overflow-wrap:anywhere;word-break:break-word}
img{max-width:100%;height:auto}
td form{display:inline-flex;flex-wrap:wrap;gap:4px;margin:2px 0}
td input{width:9em}
td input[type=checkbox]{width:auto}
.bad{color:var(--bad);font-weight:700}
.good{color:var(--ok);font-weight:700}
.pill{display:inline-block;border-radius:999px;padding:1px 9px;font-size:.85rem;font-weight:700}
.pill.on{background:#dff3e4;color:var(--ok)}.pill.off{background:#fbe3e4;color:var(--bad)}
.panel{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px;margin:0 0 16px}
.panel>h2{font-size:1.15rem;margin:.2rem 0 .6rem}
.live-status{color:var(--muted);font-size:.85rem;margin:.2rem 0}
.live-status.stale{color:var(--bad);font-weight:700}
.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px}
.stat{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 14px}
.stat b{display:block;font-size:1.6rem}
.alert{border:2px solid var(--bad);background:#fff5f5;border-radius:10px;padding:10px 14px;margin:0 0 16px}
.formgrid{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:4px 16px}
.formgrid input,.formgrid select{width:100%}
fieldset{border:1px solid var(--line);border-radius:10px;margin:12px 0;padding:8px 14px}
.chart svg{width:100%;height:auto;display:block}
.timeline{list-style:none;padding:0;margin:0}
.timeline li{border-left:3px solid var(--accent);padding:4px 0 8px 12px;margin-left:4px}
.timeline li.bad{border-left-color:var(--bad);font-weight:400}
.actions{display:flex;flex-wrap:wrap;gap:12px}
.actions form{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 14px;flex:1 1 260px}
@media (max-width:700px){
 table.cards thead{display:none}
 table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}
 table.cards{background:none}
 table.cards tr{background:var(--card);border:1px solid var(--line);border-radius:10px;margin:0 0 12px;padding:6px 12px}
 table.cards td{border:0;padding:4px 0 4px 38%;position:relative;overflow-wrap:anywhere;min-height:1.5em}
 table.cards td::before{content:attr(data-label);font-weight:600;color:var(--muted);position:absolute;left:0;top:4px;width:35%}
 table.cards td[data-label=""]{padding-left:0}
 table.cards td[data-label=""]::before{display:none}
 table.cards td:empty{display:none}
 main{padding:12px}
 nav.ops ul{flex-wrap:nowrap;overflow-x:auto;scrollbar-width:thin}
 nav.ops a{white-space:nowrap}
}
"#;

/// The console's sections, in navigation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Devices,
    Events,
    Conflicts,
    Search,
    Revocations,
    Comps,
    Refunds,
    Audit,
    Enrol,
    Export,
    None,
}

const NAV: &[(Section, &str, &str, Permission)] = &[
    (Section::Devices, "/ops", "Devices", Permission::Read),
    (Section::Events, "/ops/events", "Events", Permission::Read),
    (Section::Conflicts, "/ops/conflicts", "Conflicts", Permission::Read),
    (Section::Enrol, "/ops/enrol", "Enrol a gate", Permission::ManageGates),
    (
        Section::Revocations,
        "/ops/revocations",
        "Revocations",
        Permission::Read,
    ),
    (Section::Refunds, "/ops/refunds", "Refunds", Permission::Read),
    (Section::Comps, "/ops/comp", "Complimentary", Permission::IssueComps),
    (Section::Audit, "/ops/audit", "Audit log", Permission::ReadAudit),
    (Section::Export, "/ops/export", "Export", Permission::Export),
];

/// The head every console page shares.
fn head(title: &str) -> Markup {
    html! {
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        title { (title) " · og-tickets operations" }
        style { (PreEscaped(crate::web::layout::CSS)) (PreEscaped(CSS)) }
        script src="/ops/console.js" defer {}
    }
}

/// A console page: header (brand, search, who is signed in with which role, sign out),
/// navigation with the current section marked, and the body.
pub fn page(op: &OperatorAuth, section: Section, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { (head(title)) }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    div.bar {
                        a href="/ops" { "og-tickets · operations" }
                        form.search method="get" action="/ops/search" role="search" {
                            input #search name="q" type="search" aria-label="Find a buyer, order, ticket or scanned code"
                                placeholder="Email, order, ticket or scanned code" autocomplete="off";
                            button.secondary type="submit" { "Find" }
                        }
                        div style="display:flex;gap:10px;align-items:center;flex-wrap:wrap" {
                            span.who { (op.email) " " span.role { (op.role.name()) } }
                            form method="post" action="/ops/logout" { (csrf_field()) button type="submit" { "Sign out" } }
                        }
                    }
                }
                nav.ops aria-label="Console" {
                    ul {
                        @for (s, href, label, p) in NAV {
                            @if op.can(*p) {
                                li { a href=(href) aria-current=[(*s == section).then_some("page")] { (label) } }
                            }
                        }
                    }
                }
                main #main { h1 { (title) } (body) }
            }
        }
    }
}

/// A page without navigation (sign-in).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { (head(title)) }
            body {
                header { div.bar { a href="/ops" { "og-tickets · operations" } } }
                main #main.narrow { h1 { (title) } (body) }
            }
        }
    }
}

/// A live panel: its body now, refreshed in place from `src` every [`LIVE_SECS`].
pub fn live_panel(id: &str, title: &str, src: &str, body: Markup) -> Markup {
    html! {
        section.panel #(id) data-live=(src) data-every=(LIVE_SECS) aria-live="polite" {
            h2 { (title) }
            p.live-status { "Refreshes every " (LIVE_SECS) " s" }
            div.panel-body { (body) }
        }
    }
}

/// A table that is a table on a wide screen and one card per row on a phone (each cell labelled
/// with its column), inside a box that scrolls on its own if it must.
pub fn table(cols: &[&str], rows: Vec<Vec<Markup>>) -> Markup {
    html! {
        div.tablebox {
            table.cards {
                thead { tr { @for c in cols { th scope="col" { (c) } } } }
                tbody {
                    @for row in rows {
                        tr { @for (i, cell) in row.into_iter().enumerate() {
                            td data-label=(cols.get(i).copied().unwrap_or("")) { (cell) }
                        } }
                    }
                }
            }
        }
    }
}

/// `2026-07-27 20:30 CEST` in the venue's time zone (UTC if the zone is unknown).
pub fn local(ts: i64, tz: &str) -> String {
    local_fmt(ts, tz, "%Y-%m-%d %H:%M %Z")
}

/// `20:30:05` in the venue's time zone.
pub fn local_clock(ts: i64, tz: &str) -> String {
    local_fmt(ts, tz, "%H:%M:%S")
}

pub fn local_fmt(ts: i64, tz: &str, pattern: &str) -> String {
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    match jiff::Timestamp::from_second(ts) {
        Ok(t) => t.to_zoned_datetime(zone).strftime(pattern).to_string(),
        Err(_) => "?".into(),
    }
}

/// Whether `tz` is an IANA time zone name jiff knows.
pub fn known_zone(tz: &str) -> bool {
    jiff::tz::TimeZone::get(tz).is_ok()
}

/// Sets the console's CSP on an answer.
pub async fn with_console_csp(mut res: Response) -> Response {
    res.headers_mut()
        .insert("content-security-policy", HeaderValue::from_static(CONSOLE_CSP));
    res
}
