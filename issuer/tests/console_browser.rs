//! The operator console in a real headless Chromium: an operator creates an event with offers
//! (one with a sale limit) and finds it in the shop, enrols a gate from the enrolment page's QR,
//! watches the gate's scan arrive on the event's dashboard without a reload while typing in the
//! search box (the typed text survives), finds the ticket by its number and by a picture of its
//! code, reads its history and exports the tickets as CSV; and no console page scrolls sideways
//! on a 390 px phone. Screenshots are kept in
//! `$CARGO_TARGET_TMPDIR/console-*.png`.

#[path = "ops_support/mod.rs"]
mod ops_support;
mod support;

use og_shared::Offer;
use serde_json::{Value, json};
use support::browser::Driver;
use support::spawn_app;

async fn js(d: &Driver, script: &str) -> Value {
    d.script(script).await.unwrap_or(Value::Null)
}

fn shot(name: &str, png: &[u8]) {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("console-{name}.png"));
    std::fs::write(path, png).unwrap();
}

#[tokio::test]
async fn in_chromium_an_operator_creates_an_event_enrols_its_gate_watches_a_scan_arrive_while_typing_finds_the_ticket_and_exports_it()
 {
    let app = spawn_app().await;
    let op = app.operator();
    let d = Driver::start().await;
    d.goto(&app.url("/ops/login")).await;
    d.type_in("#token", &op).await;
    d.click("form[action='/ops/login'] button").await;
    d.wait_for(&["Gates and devices", "aria-current=\"page\""]).await;

    // A new event with two offers, from the console's form (times in the venue's zone).
    d.click("nav.ops a[href='/ops/events']").await;
    d.wait_for(&["Men's 100m Final", "New event"]).await;
    d.click("a[href='/ops/events/new']").await;
    d.wait_for(&["The event", "Offers: prices"]).await;
    for (field, value) in [
        ("#name", "Open Water 10 km Final"),
        ("#sport", "Marathon Swimming"),
        ("#venue", "Pont Alexandre III"),
        ("#venue_address", "Pont Alexandre III, 75008 Paris"),
        ("#capacity", "500"),
        ("#price_solo", "35"),
        ("#price_duo", "60.50"),
        ("#limit_duo", "40"),
    ] {
        d.type_in(field, value).await;
    }
    js(
        &d,
        "document.querySelector('#doors_open').value='2031-08-08T06:30';\
         document.querySelector('#starts_at').value='2031-08-08T07:30';\
         document.querySelector('#doors_close').value='2031-08-08T10:30'; return 1",
    )
    .await;
    d.click("form[action='/ops/events/new'] button[type=submit]").await;
    let page = d
        .wait_for(&["Open Water 10 km Final", "Europe/Paris", "duo €60.50 (0 of 40 sold)"])
        .await;
    assert!(page.contains("2031-08-08 06:30 CEST"), "doors in the venue's time");
    let event: u32 = d
        .url()
        .await
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .expect("the dashboard of the new event");

    // The shop sells it (its catalogue is at most 1 s stale), the Duo with its limit shown.
    d.goto_until(&app.url("/"), "Open Water 10 km Final").await;
    d.goto(&app.url(&format!("/events/{event}"))).await;
    d.wait_for(&["40 tickets left at this price"]).await;
    d.goto(&app.url("/ops")).await;

    // A gate for the event, enrolled from the enrolment page: its QR holds the issuer's address
    // and the one-time token, as `gate-agent enroll --scan` reads it.
    d.click("nav.ops a[href='/ops/enrol']").await;
    d.wait_for(&["Make an enrolment code"]).await;
    d.type_in("#events", &event.to_string()).await;
    d.click("form[action='/ops/enrol'] button[type=submit]").await;
    d.wait_for(&["enrol-qr", "gate-agent enroll --scan"]).await;
    let svg = js(&d, "return document.querySelector('#enrol-qr svg').outerHTML").await;
    let read = support::rqrr_decode_png(&support::rasterize_svg(svg.as_str().unwrap()));
    assert_eq!(
        read,
        vec![
            js(&d, "return document.querySelector('#enrol-code').textContent")
                .await
                .as_str()
                .unwrap()
                .to_owned()
        ]
    );
    let code = og_shared::enrol::EnrolmentCode::parse(read[0].as_bytes()).unwrap();
    assert_eq!(code.issuer.trim_end_matches('/'), app.url("").trim_end_matches('/'));
    let (st, enrolled) = app
        .post_json(
            "/api/v1/devices/enroll",
            None,
            &json!({ "token": code.token, "name": "Bridge North", "software_version": "gate-test 1.0" }),
        )
        .await;
    assert_eq!(st, 200, "{enrolled}");
    let credential = enrolled["credential"].as_str().unwrap().to_owned();
    let (st, comps) = app
        .post_json(
            "/api/v1/ops/comps",
            Some(&op),
            &json!({ "event_id": event, "offer": "solo", "email": "swimmer@example.org" }),
        )
        .await;
    assert_eq!(st, 201, "{comps}");
    let serial = comps[0]["serial"].as_u64().unwrap() as u32;

    // The dashboard: the operator types in the search box; a scan arrives; the panel shows it
    // without reloading the page, and what was typed is still there.
    d.goto(&app.url(&format!("/ops/events/{event}"))).await;
    d.wait_for(&["Bridge North", "Entries per minute per gate"]).await;
    js(&d, "window.__still_the_same_page = 'yes'; return 1").await;
    assert_eq!(
        js(&d, "return document.querySelector('#admitted').textContent").await,
        "0"
    );
    d.type_in("#search", "swimmer@exa").await;
    let scan = ops_support::admission(1, event, serial, Offer::Solo, "Bridge North");
    let r = app
        .client
        .post(app.url("/api/v1/device/scans"))
        .bearer_auth(&credential)
        .json(&ops_support::batch(vec![scan]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    d.wait_until_script("return document.querySelector('#admitted').textContent", json!("1"))
        .await;
    assert_eq!(
        js(&d, "return window.__still_the_same_page").await,
        "yes",
        "the page was not reloaded"
    );
    assert_eq!(
        js(&d, "return document.querySelector('#search').value").await,
        "swimmer@exa",
        "what the operator typed survived"
    );
    shot("dashboard", &d.screenshot().await);

    // A field typed in inside a live panel holds the panel still until the operator is done.
    d.goto(&app.url("/ops")).await;
    d.wait_for(&["Bridge North", "Live · every"]).await;
    d.type_in("#devices input[name='name']", "Bridge North 2").await;
    d.wait_until_script(
        "return document.querySelector('#devices .live-status').textContent.startsWith('Live · paused while you type')",
        json!(true),
    )
    .await;
    assert_eq!(
        js(
            &d,
            "return document.querySelector(\"#devices input[name='name']\").value"
        )
        .await,
        "Bridge North 2"
    );
    // Once the field is left empty and unfocused, the panel updates again.
    js(
        &d,
        "var i = document.querySelector(\"#devices input[name='name']\"); i.value = ''; i.blur(); return 1",
    )
    .await;
    d.wait_until_script(
        "return document.querySelector('#devices .live-status').textContent.startsWith('Live · updated')",
        json!(true),
    )
    .await;

    // Find the ticket by its number and read its history.
    js(&d, "document.querySelector('#search').value = ''; return 1").await;
    d.type_in("#search", &serial.to_string()).await;
    d.click("form.search button").await;
    d.wait_for(&["Read as ticket or order number", &format!("Ticket {serial}")])
        .await;
    d.click(&format!("a[href='/ops/tickets/{serial}']")).await;
    let page = d
        .wait_for(&[
            "History (Europe/Paris)",
            "complimentary",
            "admitted at gate Bridge North",
            "Revoke ticket",
        ])
        .await;
    assert!(page.contains("ticket.comp by"), "the operator's action is in the story");
    shot("ticket", &d.screenshot().await);

    // A buyer sends support a picture of their code: the operator uploads it and finds the ticket.
    let picture = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-buyer-code.png");
    std::fs::write(
        &picture,
        og_issuer::trust::qr_image::png(comps[0]["qr_text"].as_str().unwrap(), 5).unwrap(),
    )
    .unwrap();
    d.goto(&app.url("/ops/search")).await;
    d.wait_for(&["Or a picture of the code"]).await;
    d.type_in("#image", picture.to_str().unwrap()).await;
    d.click("#find-by-picture button[type=submit]").await;
    d.wait_for(&["Read as", &format!("/ops/tickets/{serial}")]).await;
    shot("found-by-picture", &d.screenshot().await);

    // The day's tickets as CSV, the way the export form asks for them.
    d.click("nav.ops a[href='/ops/export']").await;
    d.wait_for(&["Download CSV"]).await;
    let csv = js(
        &d,
        "const f = new FormData(document.querySelector(\"form[action='/ops/export/csv']\")); f.set('kind', 'tickets'); \
         return fetch('/ops/export/csv?' + new URLSearchParams(f)).then(r => r.text().then(t => r.status + '\\n' + t))",
    )
    .await;
    let csv = csv.as_str().unwrap();
    assert!(csv.starts_with("200\n"), "{csv}");
    assert!(
        csv.lines()
            .any(|l| l.starts_with(&format!("{serial},")) && l.contains("swimmer@example.org")),
        "the ticket is a line of the export: {csv}"
    );
    d.call("DELETE", "", None).await;
}

#[tokio::test]
async fn in_chromium_no_console_page_scrolls_sideways_on_a_390_px_phone() {
    let app = spawn_app().await;
    let op = app.operator();
    let serial = {
        let (_, t) = app
            .post_json(
                "/api/v1/ops/comps",
                Some(&op),
                &json!({ "event_id": 1, "offer": "duo", "email": "a.very.long.address.for.a.narrow.screen@example.org" }),
            )
            .await;
        t[0]["serial"].as_u64().unwrap()
    };
    let (_, token) = app
        .post_json("/api/v1/ops/enrolment-tokens", Some(&op), &json!({ "event_ids": [1] }))
        .await;
    app.post_json(
        "/api/v1/devices/enroll",
        None,
        &json!({ "token": token["token"], "name": "Main gate 1", "software_version": "gate-test 1.0" }),
    )
    .await;
    let d = Driver::start().await;
    d.call("POST", "/window/rect", Some(json!({ "width": 390, "height": 844 })))
        .await;
    d.goto(&app.url("/ops/login")).await;
    d.type_in("#token", &op).await;
    d.click("form[action='/ops/login'] button").await;
    d.wait_for(&["Gates and devices"]).await;
    let width = js(&d, "return window.innerWidth").await;
    assert!(width.as_i64().unwrap() <= 390, "the viewport is a phone's: {width}");
    let mut wide = Vec::new();
    for (name, path) in [
        ("devices", "/ops".to_owned()),
        ("events", "/ops/events".to_owned()),
        ("event-dashboard", "/ops/events/1".to_owned()),
        ("new-event", "/ops/events/new".to_owned()),
        ("scans", "/ops/events/1/scans".to_owned()),
        ("conflicts", "/ops/conflicts".to_owned()),
        ("revocations", "/ops/revocations".to_owned()),
        ("refunds", "/ops/refunds".to_owned()),
        ("audit", "/ops/audit".to_owned()),
        ("search", "/ops/search?q=example.org".to_owned()),
        ("ticket", format!("/ops/tickets/{serial}")),
        ("enrol", "/ops/enrol".to_owned()),
        ("export", "/ops/export".to_owned()),
    ] {
        d.goto(&app.url(&path)).await;
        d.wait_for(&["og-tickets · operations"]).await;
        let w = js(&d, "return document.documentElement.scrollWidth").await;
        if w.as_i64().is_none_or(|w| w > 390) {
            wide.push(format!("{path}: {w}"));
        }
        shot(&format!("390-{name}"), &d.screenshot().await);
    }
    assert!(wide.is_empty(), "pages wider than the phone: {wide:?}");
    d.call("DELETE", "", None).await;
}
