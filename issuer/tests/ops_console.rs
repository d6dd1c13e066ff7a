//! The console's forms, search, ticket pages and exports over HTTP (the browser journey is in
//! `console_browser.rs`).

mod ops_support;
#[path = "support/poll.rs"]
mod poll;

use og_issuer::ops::access::Role;
use og_shared::Offer;
use ops_support::spawn_app;
use serde_json::Value;

fn operator(app: &ops_support::TestApp, role: Role) -> String {
    let email = format!("{}-{}@example.org", role.name(), og_issuer::trust::keys::random_32()[0]);
    app.db
        .write_sync(|tx| og_issuer::ops::auth::create_operator_with_role(tx, &email, role, og_issuer::now()))
        .unwrap()
        .1
        .to_string()
}

async fn form(app: &ops_support::TestApp, op: &str, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let (cookie, csrf) = app.csrf();
    let mut f: Vec<(&str, &str)> = fields.to_vec();
    f.push(("csrf", &csrf));
    app.client
        .post(app.url(path))
        .bearer_auth(op)
        .header("cookie", cookie)
        .form(&f)
        .send()
        .await
        .unwrap()
}

const EVENT: &[(&str, &str)] = &[
    ("name", "Canoe Slalom K1 Final"),
    ("sport", "Canoe Slalom"),
    ("venue", "Vaires-sur-Marne"),
    ("venue_address", "Route de Torcy, 77360 Vaires-sur-Marne"),
    ("time_zone", "America/New_York"),
    ("capacity", "300"),
    ("zones", "North, South"),
    ("doors_open", "2031-07-29T13:00"),
    ("starts_at", "2031-07-29T14:30"),
    ("doors_close", "2031-07-29T17:00"),
    ("price_solo", "25"),
    ("price_family", "80.50"),
    ("holder_binding", "required"),
];

#[tokio::test]
async fn an_admin_creates_an_event_in_the_venues_time_zone_and_a_wrong_zone_is_refused_as_typed() {
    let app = spawn_app().await;
    let admin = operator(&app, Role::Admin);
    let mut bad = EVENT.to_vec();
    bad[4] = ("time_zone", "Mars/Olympus_Mons");
    let r = form(&app, &admin, "/ops/events/new", &bad).await;
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("is not a time zone name like Europe/Paris"), "{html}");
    assert!(
        html.contains("value=\"Canoe Slalom K1 Final\""),
        "the form comes back as typed"
    );

    let r = form(&app, &admin, "/ops/events/new", EVENT).await;
    assert_eq!(r.status(), 303);
    let at = r.headers()["location"].to_str().unwrap().to_owned();
    let id: u32 = at.rsplit('/').next().unwrap().parse().unwrap();
    let events: Vec<Value> = app.get("/api/v1/ops/events", Some(&admin)).await.json().await.unwrap();
    let e = events.iter().find(|e| e["id"] == id).unwrap();
    // 13:00 in New York in July (EDT, UTC-4) is 17:00 UTC.
    let doors = jiff::Timestamp::from_second(e["doors_open"].as_i64().unwrap()).unwrap();
    assert_eq!(doors.to_string(), "2031-07-29T17:00:00Z");
    assert_eq!(e["time_zone"], "America/New_York");
    assert_eq!(e["venue_address"], "Route de Torcy, 77360 Vaires-sur-Marne");
    assert_eq!(e["holder_binding"], "required");
    let prices: Vec<(String, i64)> = e["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["kind"].as_str().unwrap().to_owned(),
                o["price_cents"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(prices, [("family".to_owned(), 8050), ("solo".to_owned(), 2500)]);

    // A limit of tickets for an offer that is not sold is refused, as typed.
    let mut edit = EVENT.to_vec();
    edit.push(("limit_duo", "12"));
    let r = form(&app, &admin, &format!("/ops/events/{id}/edit"), &edit).await;
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Duo: a limit of tickets needs a price")
    );

    // Edited: a duo offer added with 12 tickets on sale, the start moved; the change is audited.
    edit.push(("price_duo", "45"));
    edit[8] = ("starts_at", "2031-07-29T15:00");
    let r = form(&app, &admin, &format!("/ops/events/{id}/edit"), &edit).await;
    assert_eq!(r.status(), 303);
    let events: Value = app.get("/api/v1/ops/events", Some(&admin)).await.json().await.unwrap();
    let duo = events.as_array().unwrap().iter().find(|e| e["id"] == id).unwrap()["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "duo")
        .unwrap()
        .clone();
    assert_eq!(
        (duo["capacity"].clone(), duo["sold"].clone()),
        (serde_json::json!(12), serde_json::json!(0))
    );
    let page = app
        .get(&format!("/ops/events/{id}"), Some(&admin))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("start 15:00") && page.contains("duo €45.00 (0 of 12 sold)"),
        "{page}"
    );
    assert!(page.contains("(America/New_York)"), "{page}");
    assert_eq!(
        app.count("SELECT count(*) FROM ops_audit WHERE action IN ('event.create', 'event.change')"),
        2
    );
    // A supervisor may look but not edit.
    let supervisor = operator(&app, Role::Supervisor);
    assert_eq!(
        form(&app, &supervisor, &format!("/ops/events/{id}/edit"), &edit)
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn search_finds_a_ticket_by_number_by_pasted_code_and_by_part_of_the_holders_email() {
    let app = spawn_app().await;
    let support = operator(&app, Role::Support);
    let t = app.tickets(1, Offer::Duo, 1).remove(0);
    let by_code = app
        .get(&format!("/ops/search?q={}", urlencode(&t.qr_text)), Some(&support))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        by_code.contains("Read as scanned code") && by_code.contains(&format!("/ops/tickets/{}", t.serial)),
        "{by_code}"
    );
    let by_number = app
        .get(&format!("/ops/search?q={}", t.serial), Some(&support))
        .await
        .text()
        .await
        .unwrap();
    assert!(by_number.contains(&format!("/ops/tickets/{}", t.serial)), "{by_number}");
    let by_mail = app
        .get("/ops/search?q=HOLDER", Some(&support))
        .await
        .text()
        .await
        .unwrap();
    assert!(by_mail.contains(&format!("/ops/tickets/{}", t.serial)), "{by_mail}");
    let damaged = app
        .get("/ops/search?q=OG2:NOT-A-CODE", Some(&support))
        .await
        .text()
        .await
        .unwrap();
    assert!(damaged.contains("did not make"), "{damaged}");
    let too_long = app
        .get(&format!("/ops/search?q={}", "x".repeat(500)), Some(&support))
        .await;
    assert_eq!(too_long.status(), 400);

    // Support reads the history but is offered no action that changes it.
    let page = app
        .get(&format!("/ops/tickets/{}", t.serial), Some(&support))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("issued as a complimentary duo ticket"), "{page}");
    assert!(!page.contains("Revoke ticket") && !page.contains(">Refund<"), "{page}");
    assert!(page.contains("Nothing your role (support) allows"), "{page}");
    assert_eq!(app.get("/ops/tickets/999999", Some(&support)).await.status(), 404);
}

/// A `multipart/form-data` body of (name, file name, bytes) parts, and its content type.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "og-test-boundary-7d1f";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes());
        if let Some(f) = file {
            body.extend_from_slice(format!("; filename=\"{f}\"\r\nContent-Type: application/octet-stream").as_bytes());
        }
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn support_finds_a_ticket_from_a_picture_of_its_code_and_a_picture_without_one_gets_a_reason() {
    let app = spawn_app().await;
    let support = operator(&app, Role::Support);
    let t = app.tickets(1, Offer::Family, 1).remove(0);
    let png = og_issuer::trust::qr_image::png(&t.qr_text, 4).unwrap();
    let (cookie, csrf) = app.csrf();
    let send = |cookie: Option<&str>, csrf: &str, file: &[u8]| {
        let (content_type, body) = multipart(&[("csrf", None, csrf.as_bytes()), ("image", Some("code.png"), file)]);
        let mut req = app
            .client
            .post(app.url("/ops/search/image"))
            .bearer_auth(&support)
            .header("content-type", content_type)
            .body(body);
        if let Some(c) = cookie {
            req = req.header("cookie", c.to_owned());
        }
        req.send()
    };
    let r = send(Some(&cookie), &csrf, &png).await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Read as scanned code") && page.contains(&format!("/ops/tickets/{}", t.serial)),
        "{page}"
    );
    // Without the form's token, or without the browser's cookie, the upload is refused like any
    // other form post.
    assert_eq!(send(Some(&cookie), "not-the-token", &png).await.unwrap().status(), 403);
    assert_eq!(send(None, &csrf, &png).await.unwrap().status(), 403);
    // A PDF, and a picture with no code: the page says what to do.
    let r = send(Some(&cookie), &csrf, b"%PDF-1.7 a ticket").await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("not a PNG or JPEG picture"));
    let mut white = Vec::new();
    image::DynamicImage::ImageLuma8(image::GrayImage::from_pixel(300, 200, image::Luma([255])))
        .write_to(&mut std::io::Cursor::new(&mut white), image::ImageFormat::Png)
        .unwrap();
    let r = send(Some(&cookie), &csrf, &white).await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("no QR code could be read in this picture")
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn an_admin_exports_a_days_tickets_as_a_streamed_csv_of_every_row() {
    let app = spawn_app().await;
    let admin = operator(&app, Role::Admin);
    for _ in 0..12 {
        app.tickets(2, Offer::Solo, 100);
    }
    let today = jiff::Timestamp::from_second(og_issuer::now())
        .unwrap()
        .strftime("%Y-%m-%d")
        .to_string();
    let r = app
        .get(
            &format!("/ops/export/csv?kind=tickets&from={today}&to={today}"),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(r.headers().get("content-length").is_none(), "streamed, not buffered");
    let body = r.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert!(lines[0].starts_with("ticket,issued_utc,event"), "{}", lines[0]);
    assert_eq!(lines.len(), 1 + 1200, "every ticket once, across pages of 1000");
    let yesterday = "2000-01-01";
    let old = app
        .get(
            &format!("/ops/export/csv?kind=orders&from={yesterday}&to={yesterday}"),
            Some(&admin),
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(old.lines().count(), 1, "only the header: {old}");
    let bad = app
        .get("/ops/export/csv?kind=tickets&from=soon&to=later", Some(&admin))
        .await;
    assert_eq!(bad.status(), 400);
    let support = operator(&app, Role::Support);
    assert_eq!(
        app.get(
            &format!("/ops/export/csv?kind=tickets&from={today}&to={today}"),
            Some(&support)
        )
        .await
        .status(),
        403
    );
}

#[tokio::test]
async fn support_mails_a_pending_buyer_a_new_activation_link_and_it_is_audited() {
    let app = spawn_app().await;
    let support = operator(&app, Role::Support);
    let id: i64 = app
        .db
        .write_sync(|c| {
            Ok(c.query_row(
                "INSERT INTO accounts (email, password_hash, status, created_at, language)
                 VALUES ('late@example.org', 'x', 'pending', 0, 'fr') RETURNING id",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    let page = app
        .get("/ops/search?q=late%40", Some(&support))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Resend activation mail"), "{page}");
    let r = form(&app, &support, &format!("/ops/accounts/{id}/resend-activation"), &[]).await;
    assert_eq!(r.status(), 303);
    let back = app
        .get(r.headers()["location"].to_str().unwrap(), Some(&support))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        back.contains("A new activation link was mailed to late@example.org"),
        "{back}"
    );
    // No SMTP here: the mail is written to the outbox, in the buyer's language, with its link.
    let outbox = app.state.settings.mail_dir();
    let mail = poll::until_sync(
        "the activation mail in the outbox",
        std::time::Duration::from_secs(10),
        || {
            std::fs::read_dir(&outbox)
                .into_iter()
                .flatten()
                .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .map(|m| og_fixtures::smtp::unquote(&m))
                .find(|m| m.contains("late@example.org") && m.contains("/activate?token="))
        },
    )
    .await;
    assert!(mail.contains("Comme vous l"), "in French: {mail}");
    assert!(mail.contains("Content-Type: text/html"), "with the HTML frame: {mail}");
    assert_eq!(
        app.count("SELECT count(*) FROM mail_tokens WHERE purpose = 'activate'"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM ops_audit WHERE action = 'account.resend_activation'"),
        1
    );
    let active = app.buyer("on-time@example.org");
    let again = form(
        &app,
        &support,
        &format!("/ops/accounts/{active}/resend-activation"),
        &[],
    )
    .await;
    assert_eq!(again.status(), 409, "an active account needs no activation");
}

#[tokio::test]
async fn the_enrolment_page_shows_the_code_as_svg_with_the_command_to_copy() {
    let app = spawn_app().await;
    let supervisor = operator(&app, Role::Supervisor);
    let r = form(
        &app,
        &supervisor,
        "/ops/enrol",
        &[("events", "1"), ("ttl_minutes", "30")],
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"enrol-qr\"") && html.contains("<svg"), "{html}");
    assert!(html.contains("og-enrol:?issuer="), "{html}");
    assert!(html.contains("gate-agent enroll --issuer"), "{html}");
}

#[tokio::test]
async fn an_events_dashboard_counts_tickets_per_offer_and_people_admitted_against_holding() {
    let app = spawn_app().await;
    let supervisor = operator(&app, Role::Supervisor);
    let tickets = app.tickets(2, Offer::Duo, 3);
    let d = app.device(&supervisor, &[2], "South 3").await;
    let ack = app
        .scan_ack(
            &d.credential,
            &ops_support::batch(vec![ops_support::admission(
                1,
                2,
                tickets[0].serial,
                Offer::Duo,
                "South 3",
            )]),
        )
        .await;
    assert_eq!(ack.accepted.len(), 1);
    let panel = app
        .get("/ops/events/2/panel", Some(&supervisor))
        .await
        .text()
        .await
        .unwrap();
    assert!(panel.contains("id=\"admitted\">1<"), "{panel}");
    assert!(panel.contains("of 6 holding tickets"), "3 duos hold 6 people: {panel}");
    assert!(panel.contains(">duo<") && panel.contains(">3<"), "{panel}");
    assert!(panel.contains("South 3") && panel.contains("online"), "{panel}");
    assert!(panel.contains("<svg"), "the entries chart: {panel}");
    assert!(!panel.contains("<html"), "a fragment, not a page");
}
