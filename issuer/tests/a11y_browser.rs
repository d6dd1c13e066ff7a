//! The accessibility audit, in headless Chromium: axe-core (from npm, see `.ci/run`) runs on
//! every page a buyer goes through (catalogue, event, cart, sign-up, log-in, the hosted payment
//! page, order, orders, tickets, ticket, account, terms, privacy, forgotten password, the 404
//! page), in English and in French, at 1280 px and 390 px wide, and no page may have a serious or
//! critical violation. Every violation found is printed (rule, impact, the elements' selectors)
//! so a failure says what to fix. The sign-up is done with the keyboard alone (Tab, Space,
//! Enter), every element reached showing a focus outline that contrasts with its surroundings
//! (screenshot: `$CARGO_TARGET_TMPDIR/a11y-focus-*.png`).
//!
//! axe-core is not in the repository: the test reads `axe.min.js` from `OG_AXE_JS`, by default
//! `target/axe/node_modules/axe-core/axe.min.js`, which `.ci/run` installs with npm.

mod support;

use serde_json::{Value, json};
use support::browser::Driver;
use support::{PASSWORD, TestApp, spawn_app};

/// Where `.ci/run` puts axe-core (`npm install --prefix target/axe axe-core@…`).
const AXE_DEFAULT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../target/axe/node_modules/axe-core/axe.min.js"
);
/// The command that installs it, as `.ci/run` runs it (the version pinned there too).
const AXE_INSTALL: &str = "npm install --prefix target/axe axe-core@4.14.1";

fn axe_source() -> String {
    let path = std::env::var("OG_AXE_JS").unwrap_or_else(|_| AXE_DEFAULT.to_owned());
    std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!("axe-core is missing ({path}): run `{AXE_INSTALL}` in the repository root (or set OG_AXE_JS).")
    })
}

/// Runs axe-core on the current page at a desktop and a phone width (the layout changes: one
/// column, the header wraps); returns one line per violation (any impact).
async fn audit(d: &Driver, axe: &str, page: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for width in [390, 1280] {
        d.call("POST", "/window/rect", Some(json!({ "width": width, "height": 1000 })))
            .await;
        found.extend(audit_once(d, axe, &format!("{page} at {width} px")).await);
    }
    found
}

/// Runs axe-core once on the current page.
///
/// The library is injected through WebDriver's script execution, which the pages' CSP
/// (`default-src 'none'`, no script) does not govern, then `axe.run` reports asynchronously.
async fn audit_once(d: &Driver, axe: &str, page: &str) -> Vec<(String, String)> {
    let loaded = d
        .call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": format!("{axe}\n;return typeof window.axe;"), "args": [] })),
        )
        .await;
    assert_eq!(loaded, "object", "axe-core did not load on the {page} page");
    let found = d
        .call(
            "POST",
            "/execute/async",
            Some(json!({ "script": r#"
                const done = arguments[arguments.length - 1];
                axe.run(document, { resultTypes: ['violations'] }).then(
                    r => done(r.violations.map(v => ({
                        id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.map(n => n.target.join(' '))
                    }))),
                    e => done({ error: String(e) }));
            "#, "args": [] })),
        )
        .await;
    assert!(found["error"].is_null(), "axe-core failed on the {page} page: {found}");
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|v: &Value| {
            let impact = v["impact"].as_str().unwrap_or("unknown").to_owned();
            let line = format!("{page}: {} [{impact}] {} at {}", v["id"], v["help"], v["nodes"]);
            println!("axe: {line}");
            (impact, line)
        })
        .collect()
}

const TAB: char = '\u{E004}';
const ENTER: char = '\u{E007}';

/// Presses then releases each key of `keys` (WebDriver actions: the keyboard alone).
async fn press(d: &Driver, keys: &str) {
    let actions: Vec<Value> = keys
        .chars()
        .flat_map(|c| {
            let k = c.to_string();
            [
                json!({ "type": "keyDown", "value": k }),
                json!({ "type": "keyUp", "value": k }),
            ]
        })
        .collect();
    d.call(
        "POST",
        "/actions",
        Some(json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] })),
    )
    .await;
}

/// What the focused element looks like: whether it matches `css`, its outline, and the
/// contrast of the outline's colour with what lies just outside it (WCAG 1.4.11, 3:1 for a focus
/// indicator: the first opaque background behind the point 6 px beside the element).
const FOCUS_PROBE: &str = r#"
    const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
    const rgba = c => c.match(/[\d.]+/g).map(Number);
    const lum = c => {
        const [r, g, b] = rgba(c).slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const x = r.left >= 6 ? r.left - 6 : r.right + 6, y = r.top + r.height / 2;
    let p = document.elementsFromPoint(x, y).find(n => n !== e && !e.contains(n)) || document.body;
    while (p && p.parentElement && (rgba(getComputedStyle(p).backgroundColor)[3] === 0)) p = p.parentElement;
    const bg = getComputedStyle(p).backgroundColor;
    const [a, b] = [lum(s.outlineColor), rgba(bg)[3] === 0 ? 1 : lum(bg)];
    return { html: e.outerHTML.slice(0, 100), matches: e.matches(arguments[0]),
             outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
             contrast: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), against: bg,
             onscreen: r.right > 0 && r.bottom > 0 && r.width > 0 };
"#;

/// Presses Tab until the focused element matches `css` (in at most 30 presses); every element
/// reached on the way must lie on the screen with a focus outline that contrasts 3:1 with
/// what surrounds it.
async fn tab_to(d: &Driver, css: &str) {
    for _ in 0..30 {
        press(d, &TAB.to_string()).await;
        let f = d
            .call(
                "POST",
                "/execute/sync",
                Some(json!({ "script": FOCUS_PROBE, "args": [css] })),
            )
            .await;
        assert!(
            f["outline"] == true && f["onscreen"] == true && f["contrast"].as_f64().unwrap() >= 3.0,
            "the focus is not visible enough on {}: {f}",
            f["html"]
        );
        if f["matches"] == true {
            return;
        }
    }
    panic!("Tab never reached {css}");
}

/// Signs up on the open sign-up page with the keyboard alone: the skip link first (visible
/// when focused, and Enter on it brings the next Tab into the page), then the fields in order,
/// Space ticks the consent, Enter on the button sends the form.
async fn sign_up_with_the_keyboard(d: &Driver, email: &str, name: &str) {
    tab_to(d, "a.skip").await;
    press(d, &ENTER.to_string()).await;
    tab_to(d, "#email").await;
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("a11y-focus-{email}.png"));
    std::fs::write(shot, d.screenshot().await).unwrap();
    press(d, email).await;
    tab_to(d, "#name").await;
    press(d, name).await;
    tab_to(d, "#password").await;
    press(d, PASSWORD).await;
    tab_to(d, "#accept_terms").await;
    press(d, " ").await;
    tab_to(d, "form[action='/signup'] button").await;
    press(d, &ENTER.to_string()).await;
}

/// What the pages say once a step is done, per language.
struct Words {
    code: &'static str,
    mailbox: &'static str,
    activated: &'static str,
    paid: &'static str,
    holder: &'static str,
    name: &'static str,
}

const ENGLISH: Words = Words {
    code: "en",
    mailbox: "Check your mailbox",
    activated: "Account activated",
    paid: "Paid. Your tickets are ready.",
    holder: "Holder:",
    name: "Ada Reader",
};

const FRENCH: Words = Words {
    code: "fr",
    mailbox: "Consultez votre boîte de réception",
    activated: "Compte activé",
    paid: "Payée. Vos billets sont prêts.",
    holder: "Titulaire",
    name: "Zoé Lectrice",
};

/// A whole purchase in one language, auditing each page on the way; the violations found.
async fn journey(app: &TestApp, d: &Driver, axe: &str, w: &Words) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let lang = format!("<html lang=\"{}\"", w.code);
    let page = |name: &str| format!("{name} ({})", w.code);

    d.goto(&app.url(&format!("/lang/{}?back=/", w.code))).await;
    d.wait_for(&[&lang, "class=\"grid\""]).await;
    found.extend(audit(d, axe, &page("catalogue")).await);

    d.goto(&app.url("/events/3")).await;
    d.wait_for(&[&lang, "action=\"/cart/add\""]).await;
    found.extend(audit(d, axe, &page("event")).await);
    d.click("button[value='duo']").await;
    d.wait_for(&[&lang, "action=\"/cart/update\""]).await;
    found.extend(audit(d, axe, &page("cart, as a guest")).await);

    for (path, name, needle) in [
        ("/terms", "terms of sale", "<h2>"),
        ("/privacy", "privacy", "<h2>"),
        ("/password/forgot", "forgotten password", "action=\"/password/forgot\""),
    ] {
        d.goto(&app.url(path)).await;
        d.wait_for(&[&lang, needle]).await;
        found.extend(audit(d, axe, &page(name)).await);
    }

    d.goto(&app.url("/signup")).await;
    d.wait_for(&[&lang, "action=\"/signup\""]).await;
    found.extend(audit(d, axe, &page("sign-up")).await);
    let email = format!("reader-{}@example.org", w.code);
    sign_up_with_the_keyboard(d, &email, w.name).await;
    d.wait_for(&[w.mailbox]).await;
    let mail = app.smtp.wait_for(&email, "/activate?token=").await;
    let token = support::token_in(&mail, "/activate?token=");
    d.goto(&app.url(&format!("/activate?token={token}"))).await;
    d.wait_for(&[&lang, "action=\"/activate\""]).await;
    found.extend(audit(d, axe, &page("activation")).await);
    d.click("form[action='/activate'] button").await;
    d.wait_for(&[w.activated]).await;

    d.goto(&app.url("/login?next=/cart")).await;
    d.wait_for(&[&lang, "action=\"/login\""]).await;
    found.extend(audit(d, axe, &page("log-in")).await);
    d.type_in("#email", &email).await;
    d.type_in("#password", PASSWORD).await;
    d.click("form[action='/login'] button").await;
    d.wait_for(&[&lang, "action=\"/checkout\""]).await;
    found.extend(audit(d, axe, &page("cart")).await);

    d.click("form[action='/checkout'] button").await;
    d.wait_for(&[&lang, "id=\"card\""]).await;
    found.extend(audit(d, axe, &page("checkout (the hosted payment page)")).await);
    d.type_in("#card", "4242 4242 4242 4242").await;
    d.click("form[action^='/pay/'] button").await;
    d.wait_for(&[w.paid]).await;
    found.extend(audit(d, axe, &page("order")).await);

    d.goto(&app.url("/orders")).await;
    d.wait_for(&[&lang, "href=\"/orders/"]).await;
    found.extend(audit(d, axe, &page("orders")).await);

    d.goto(&app.url("/tickets")).await;
    d.wait_for(&[&lang, "href=\"/tickets/"]).await;
    found.extend(audit(d, axe, &page("tickets")).await);
    d.click("a[href^='/tickets/']").await;
    d.wait_for(&[w.holder, "<svg"]).await;
    found.extend(audit(d, axe, &page("ticket")).await);

    d.goto(&app.url("/account")).await;
    d.wait_for(&[&lang, "action=\"/account/delete\""]).await;
    found.extend(audit(d, axe, &page("account")).await);

    d.goto(&app.url("/no-such-page")).await;
    d.wait_for(&[&lang, "role=\"alert\""]).await;
    found.extend(audit(d, axe, &page("not found")).await);

    // Logging out works from an error page too (its form carries the CSRF token).
    d.click("form[action='/logout'] button").await;
    d.wait_for(&["href=\"/signup\"", "class=\"grid\""]).await;
    found
}

#[tokio::test]
async fn in_chromium_every_buyer_page_passes_the_axe_audit_in_english_and_french_and_sign_up_works_with_the_keyboard() {
    let axe = axe_source();
    let app = spawn_app().await;
    let d = Driver::start().await;
    d.call("POST", "/timeouts", Some(json!({ "script": 60_000 }))).await;

    let mut found = journey(&app, &d, &axe, &ENGLISH).await;
    found.extend(journey(&app, &d, &axe, &FRENCH).await);

    // The audit does see problems: an unlabelled field and pale text put into a page are reported.
    d.script(
        "const i = document.createElement('input'); i.id = 'unlabelled'; \
         const p = document.createElement('p'); p.id = 'pale'; p.textContent = 'pale'; p.style.color = '#bbb'; \
         document.querySelector('main').append(i, p);",
    )
    .await
    .expect("the probe elements are added");
    let probe = audit(&d, &axe, "probe").await;
    for rule in ["\"label\"", "\"color-contrast\""] {
        assert!(
            probe
                .iter()
                .any(|(impact, line)| impact != "minor" && line.contains(rule)),
            "axe-core did not report {rule}: {probe:?}"
        );
    }
    d.call("DELETE", "", None).await;

    let blocking: Vec<&str> = found
        .iter()
        .filter(|(impact, _)| impact == "serious" || impact == "critical")
        .map(|(_, line)| line.as_str())
        .collect();
    assert!(
        blocking.is_empty(),
        "serious or critical accessibility violations:\n{}",
        blocking.join("\n")
    );
}
