//! The web side holding against the web (issue 16): CSRF, security headers, rate limits that
//! never lock an owner out, console and buyer sessions, breached passwords, file modes and the
//! API contract. Through real HTTP on 127.0.0.1 (and the real binary for the file modes); the
//! browser attacks are in `web_browser.rs`.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::{Value, json};
use support::{PASSWORD, TestApp, csrf_cookie, set_cookie, spawn_app, spawn_app_with};

async fn login_status(app: &TestApp, email: &str, password: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut rb = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": password }));
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb.send().await.unwrap()
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()
        .get("retry-after")
        .expect("a 429 says when to retry")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

// ---- 3. CSRF ----

#[tokio::test]
async fn a_form_post_without_its_csrf_token_or_from_another_origin_changes_nothing() {
    let app = spawn_app().await;
    let offer = app.offer_id(2, "solo").await.to_string();
    let post = |cookie: Option<String>, form: Vec<(&'static str, String)>, origin: Option<&'static str>| {
        let mut rb = app.client.post(app.url("/cart/add")).form(&form);
        if let Some(c) = cookie {
            rb = rb.header("cookie", c);
        }
        if let Some(o) = origin {
            rb = rb.header("origin", o);
        }
        rb.send()
    };
    let fields = || vec![("offer_id", offer.clone()), ("quantity", "1".to_owned())];
    let res = post(None, fields(), None).await.unwrap();
    assert_eq!(res.status(), 403, "no token, no change");
    assert!(set_cookie(&res, "__Host-og_cart").is_none());

    let jar = csrf_cookie();
    let token = app.csrf_token(&jar);
    let mut wrong = fields();
    wrong.push(("csrf", "0".repeat(64)));
    assert_eq!(post(Some(jar.clone()), wrong, None).await.unwrap().status(), 403);
    let mut good = fields();
    good.push(("csrf", token.clone()));
    assert_eq!(
        post(Some(jar.clone()), good.clone(), Some("http://127.0.0.1:1"))
            .await
            .unwrap()
            .status(),
        403,
        "a valid token from another origin's page is still refused"
    );
    let res = post(Some(jar.clone()), good, None).await.unwrap();
    assert_eq!(res.status(), 303, "the shop's own form works");
    assert!(set_cookie(&res, "__Host-og_cart").is_some());

    // The JSON API accepts the access cookie too: a cross-site post with it is refused.
    let b = app.buyer("csrf@example.org").await;
    let (st, order) = app.order(&b, offer.parse().unwrap(), 1, "csrf-order-key-000001").await;
    assert_eq!(st, 201);
    let res = app
        .client
        .post(app.url(&format!("/api/v1/orders/{}/cancel", order["id"])))
        .header("cookie", format!("__Host-og_at={}", b.access))
        .header("sec-fetch-site", "same-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let (_, o) = app
        .get_json(&format!("/api/v1/orders/{}", order["id"]), Some(&b.access))
        .await;
    assert_eq!(o["status"], "pending");
}

// ---- 4. headers ----

#[tokio::test]
async fn pages_and_the_console_forbid_framing_and_sniffing_and_secret_pages_are_never_stored() {
    let app = spawn_app().await;
    let op = app.operator();
    let jar = app.console_cookie(&op).await;
    let b = app.buyer("headers@example.org").await;
    app.buy(&b, 2, "solo", 1).await;
    let (_, t) = app.get_json("/api/v1/tickets", Some(&b.access)).await;
    let serial = t["tickets"][0]["serial"].as_i64().unwrap();
    let buyer_cookie = format!("__Host-og_at={}", b.access);

    let get = |path: String, cookie: String| app.client.get(app.url(&path)).header("cookie", cookie).send();
    let enrol = app
        .client
        .post(app.url("/ops/enrol"))
        .header("cookie", &jar)
        .form(&[("events", "1"), ("ttl_minutes", "30"), ("csrf", &app.csrf_token(&jar))])
        .send()
        .await
        .unwrap();
    let answers = vec![
        ("/ops/login", get("/ops/login".into(), String::new()).await.unwrap()),
        ("/ops", get("/ops".into(), jar.clone()).await.unwrap()),
        ("/", get("/".into(), String::new()).await.unwrap()),
        (
            "ticket page",
            get(format!("/tickets/{serial}"), buyer_cookie.clone()).await.unwrap(),
        ),
        ("enrolment token", enrol),
    ];
    for (what, res) in &answers {
        assert_eq!(res.status(), 200, "{what}");
        let h = res.headers();
        let csp = h
            .get("content-security-policy")
            .map(|v| v.to_str().unwrap())
            .unwrap_or("");
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: CSP {csp:?}");
        assert_eq!(
            h.get("x-frame-options").map(|v| v.to_str().unwrap()),
            Some("DENY"),
            "{what}"
        );
        assert_eq!(
            h.get("x-content-type-options").map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{what}"
        );
        assert!(h.contains_key("referrer-policy"), "{what}");
    }
    for (what, res) in &answers[3..] {
        let cc = res
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap())
            .unwrap_or("");
        assert!(cc.contains("no-store"), "{what}: Cache-Control {cc:?}");
    }
    let ticket_json = app
        .client
        .get(app.url(&format!("/api/v1/tickets/{serial}")))
        .bearer_auth(&b.access)
        .send()
        .await
        .unwrap();
    assert!(
        ticket_json.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
}

// ---- 5. rate limits ----

#[tokio::test]
async fn wrong_passwords_slow_an_account_down_but_never_lock_its_owner_out() {
    let app = spawn_app().await;
    app.registered("owner@example.org").await;
    // The owner signed in on their phone before: it holds the known-device cookie.
    let first = login_status(&app, "owner@example.org", PASSWORD, &[]).await;
    assert_eq!(first.status(), 200);
    let kd = format!(
        "__Host-og_kd={}",
        set_cookie(&first, "__Host-og_kd").expect("known-device cookie")
    );

    // Someone guesses, from anywhere.
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(
            login_status(&app, "owner@example.org", "wrong guess!", &[])
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(statuses.contains(&429), "guessing is slowed down: {statuses:?}");

    // The owner's phone gets in at once...
    let phone = login_status(&app, "owner@example.org", PASSWORD, &[("cookie", &kd)]).await;
    assert_eq!(
        phone.status(),
        200,
        "the right password from a known device is never refused"
    );
    // ...and a new device only has to wait a little.
    let new_device = login_status(&app, "owner@example.org", PASSWORD, &[]).await;
    assert_eq!(new_device.status(), 429);
    let wait = retry_after(&new_device);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    app.db_exec("UPDATE rate_hits SET at = at - 61 WHERE bucket LIKE 'login-fail:%'");
    let later = login_status(&app, "owner@example.org", PASSWORD, &[]).await;
    assert_eq!(later.status(), 200, "after the wait the right password works");
}

/// 60 failed logins (different accounts, so no account slows down) from the address that
/// `headers` make the issuer see; returns the status of the 61st.
async fn exhaust_address(app: &TestApp, headers: &[(&str, &str)]) -> reqwest::Response {
    for i in 0..60 {
        let r = login_status(app, &format!("nobody{i}@example.org"), "wrong guess!", headers).await;
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    login_status(app, "nobody-more@example.org", "wrong guess!", headers).await
}

#[tokio::test]
async fn per_address_limits_believe_forwarded_addresses_only_from_trusted_proxies() {
    // Behind a trusted proxy (the test client plays nginx): one limit per forwarded client.
    let proxied = spawn_app_with(tempfile::tempdir().unwrap(), |s| {
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let limited = exhaust_address(&proxied, &[("x-forwarded-for", "198.51.100.7")]).await;
    assert_eq!(limited.status(), 429);
    assert!(retry_after(&limited) >= 1);
    let other = login_status(
        &proxied,
        "nobody@example.org",
        "wrong guess!",
        &[("x-forwarded-for", "198.51.100.8")],
    )
    .await;
    assert_eq!(
        other.status(),
        401,
        "another client behind the same proxy is not limited"
    );

    // Without trusted proxies the header is the client's own claim and is ignored.
    let direct = spawn_app().await;
    let limited = exhaust_address(&direct, &[("x-forwarded-for", "198.51.100.7")]).await;
    assert_eq!(limited.status(), 429);
    let spoofed = login_status(
        &direct,
        "nobody@example.org",
        "wrong guess!",
        &[("x-forwarded-for", "198.51.100.8")],
    )
    .await;
    assert_eq!(
        spoofed.status(),
        429,
        "a made-up X-Forwarded-For does not escape the limit"
    );
}

// ---- 6. operator console sessions ----

#[tokio::test]
async fn a_console_session_is_a_host_only_cookie_that_logout_idleness_and_age_end() {
    let app = spawn_app().await;
    let op = app.operator();
    let console = |jar: String| app.client.get(app.url("/ops")).header("cookie", jar).send();

    let jar = app.console_cookie(&op).await;
    assert!(jar.starts_with("__Host-og_ops="), "{jar}");
    assert!(!jar.contains(&op), "the cookie is not the API token");
    assert_eq!(console(jar.clone()).await.unwrap().status(), 200);
    let out = app
        .client
        .post(app.url("/ops/logout"))
        .header("cookie", &jar)
        .form(&[("csrf", app.csrf_token(&jar))])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let after = console(jar).await.unwrap();
    assert_eq!(
        (after.status().as_u16(), after.headers()["location"].to_str().unwrap()),
        (303, "/ops/login"),
        "a copied cookie is worthless after logout"
    );
    let (st, _) = app.get_json("/api/v1/ops/devices", Some(&op)).await;
    assert_eq!(st, 200, "the API token is separate and still works");

    let idle = app.console_cookie(&op).await;
    app.db_exec("UPDATE operator_sessions SET last_seen_at = last_seen_at - 31 * 60 WHERE ended_at IS NULL");
    assert_eq!(
        console(idle).await.unwrap().status(),
        303,
        "30 idle minutes end a session"
    );

    let old = app.console_cookie(&op).await;
    app.db_exec(
        "UPDATE operator_sessions SET created_at = created_at - 13 * 3600 WHERE ended_at IS NULL AND last_seen_at > 0",
    );
    assert_eq!(
        console(old).await.unwrap().status(),
        303,
        "no session lives past 12 hours"
    );
}

// ---- 7. buyer sessions ----

#[tokio::test]
async fn an_access_token_is_short_lived_and_worthless_for_sensitive_actions_once_its_session_ends() {
    let app = spawn_app().await;
    app.registered("friend@example.org").await;
    let b = app.buyer("holder@example.org").await;
    let order = app.buy(&b, 2, "solo", 1).await;
    let (_, t) = app.get_json("/api/v1/tickets", Some(&b.access)).await;
    let serial = t["tickets"][0]["serial"].as_i64().unwrap();

    let res = login_status(&app, "holder@example.org", PASSWORD, &[]).await;
    let body: Value = res.json().await.unwrap();
    assert!(body["expires_in"].as_i64().unwrap() <= 300, "{body}");

    let transfer = |access: String| {
        app.client
            .post(app.url(&format!("/api/v1/tickets/{serial}/transfer")))
            .bearer_auth(access)
            .json(&json!({ "to_email": "friend@example.org" }))
            .send()
    };
    let refund = |access: String| {
        app.client
            .post(app.url(&format!("/api/v1/orders/{}/cancel", order["id"])))
            .bearer_auth(access)
            .send()
    };

    // Logout: the copied access token can no longer move the ticket or refund the order.
    let out = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .header("cookie", format!("__Host-og_rt={}", b.refresh))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(transfer(b.access.clone()).await.unwrap().status(), 401);
    assert_eq!(refund(b.access.clone()).await.unwrap().status(), 401);

    // Refresh-token reuse (a thief and the owner both used it): same.
    let b2 = app.log_in("holder@example.org").await;
    let rotated = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .header("cookie", format!("__Host-og_rt={}", b2.refresh))
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), 200);
    app.db_exec("UPDATE refresh_tokens SET used_at = used_at - 60 WHERE used_at IS NOT NULL");
    let reused = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .header("cookie", format!("__Host-og_rt={}", b2.refresh))
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), 401);
    assert_eq!(transfer(b2.access.clone()).await.unwrap().status(), 401);

    // A fresh sign-in can.
    let b3 = app.log_in("holder@example.org").await;
    assert_ne!(transfer(b3.access).await.unwrap().status(), 401);
}

#[tokio::test]
async fn changing_the_password_needs_a_current_session_and_the_old_password_and_ends_every_session() {
    let app = spawn_app().await;
    let b = app.buyer("changer@example.org").await;
    let other_device = app.log_in("changer@example.org").await;
    let change = |access: String, current: &'static str, new: &'static str| {
        app.client
            .post(app.url("/api/v1/password/change"))
            .bearer_auth(access)
            .json(&json!({ "current_password": current, "new_password": new }))
            .send()
    };
    let wrong = change(b.access.clone(), "not my password", "plum tractor eleven")
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403, "the current password is required");
    let common = change(b.access.clone(), PASSWORD, "password123").await.unwrap();
    assert_eq!(common.status(), 400, "a breached password is refused here too");
    let ok = change(b.access.clone(), PASSWORD, "plum tractor eleven").await.unwrap();
    assert_eq!(ok.status(), 200);
    // Every session ended: the other device's token cannot change it back, its refresh is dead.
    let again = change(other_device.access.clone(), "plum tractor eleven", PASSWORD)
        .await
        .unwrap();
    assert_eq!(again.status(), 401);
    let refresh = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .header("cookie", format!("__Host-og_rt={}", other_device.refresh))
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), 401);
    assert_eq!(
        login_status(&app, "changer@example.org", "plum tractor eleven", &[])
            .await
            .status(),
        200
    );
}

// ---- 8. breached passwords ----

#[tokio::test]
async fn a_common_breached_password_is_refused_at_sign_up_and_reset_whatever_its_length() {
    let app = spawn_app().await;
    for pw in ["password1", "qwertyuiop", "Iloveyou1"] {
        let (st, body) = app
            .post_json(
                "/api/v1/accounts",
                None,
                &json!({ "accept_terms": true, "email": "pw@example.org", "password": pw }),
            )
            .await;
        assert_eq!(
            (st, body["error"]["code"].as_str()),
            (400, Some("breached_password")),
            "{pw}"
        );
    }
    app.registered("reset@example.org").await;
    let (st, _) = app
        .post_json(
            "/api/v1/password/forgot",
            None,
            &json!({ "email": "reset@example.org" }),
        )
        .await;
    assert_eq!(st, 202);
    let mail = app.smtp.wait_for("reset@example.org", "/password/reset?token=").await;
    let token = support::token_in(&mail, "/password/reset?token=");
    let (st, body) = app
        .post_json(
            "/api/v1/password/reset",
            None,
            &json!({ "token": token, "password": "123456789" }),
        )
        .await;
    assert_eq!((st, body["error"]["code"].as_str()), (400, Some("breached_password")));
    let (st, _) = app
        .post_json(
            "/api/v1/password/reset",
            None,
            &json!({ "token": token, "password": "plum tractor eleven" }),
        )
        .await;
    assert_eq!(st, 200, "an uncommon password of any composition is fine");
}

// ---- 10. files ----

#[tokio::test]
async fn data_dir_database_and_mails_are_owner_only_and_links_stay_out_of_the_log_outside_demo_mode() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log_path = dir.path().join("issuer.log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_issuer"))
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--bind", "127.0.0.1:0", "--no-seed"])
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Keep the pipe open until the end: the issuer must not die writing to a closed stdout.
    let (line, _stdout) = tokio::task::spawn_blocking(move || {
        let mut reader = std::io::BufReader::new(stdout);
        let mut line = String::new();
        std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
        (line, reader)
    })
    .await
    .unwrap();
    let base = line.trim().rsplit(' ').next().unwrap().to_owned();
    let client = support::http_client();
    let res = client
        .post(format!("{base}/api/v1/accounts"))
        .json(&json!({ "accept_terms": true, "email": "quiet@example.org", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let mail_dir = data.join("outbox-mail");
    let eml = support::poll::until_sync("the activation mail written", Duration::from_secs(5), || {
        // A mail file appears whole, under its `.eml` name (written beside it first).
        std::fs::read_dir(&mail_dir)
            .ok()?
            .filter_map(Result::ok)
            .find(|e| e.path().extension().is_some_and(|x| x == "eml"))
    })
    .await
    .path();
    let text = og_fixtures::smtp::unquote(&std::fs::read_to_string(&eml).unwrap());
    let token = support::token_in(&text, "/activate?token=");
    let _ = child.kill();
    let _ = child.wait();

    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "data dir");
    assert_eq!(mode(&data.join("issuer.sqlite3")), 0o600, "database");
    for side in ["issuer.sqlite3-wal", "issuer.sqlite3-shm"] {
        let p = data.join(side);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{side}");
        }
    }
    assert_eq!(mode(&mail_dir), 0o700, "mail dir");
    assert_eq!(mode(&eml), 0o600, "mail file");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("listening") || log.contains("INFO"),
        "the log was captured: {log}"
    );
    assert!(!log.contains(&token), "the activation link is in the log: {log}");
}

// ---- 11. API contract ----

#[tokio::test]
async fn a_wrong_method_and_a_too_large_body_answer_the_documented_json_error() {
    let app = spawn_app().await;
    let res = app.client.patch(app.url("/api/v1/events")).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert!(res.headers().contains_key("allow"));
    let body: Value = res.json().await.expect("a JSON body");
    assert_eq!(body["error"]["code"], "method_not_allowed");

    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(vec![b' '; 5 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.expect("a JSON body");
    assert_eq!(body["error"]["code"], "payload_too_large");

    let (_, doc) = app.get_json("/api/v1/openapi.json", None).await;
    let documented = |method: &str, path: &str, status: u16| {
        assert!(
            doc["paths"][path][method]["responses"][status.to_string()].is_object(),
            "{method} {path} answers {status} but the document does not say so"
        );
    };
    let (st, _) = app
        .post_json(
            "/api/v1/accounts",
            None,
            &json!({ "accept_terms": true, "email": "doc@example.org", "password": PASSWORD }),
        )
        .await;
    documented("post", "/api/v1/accounts", st);
    let b = app.buyer("doc2@example.org").await;
    let offer = app.offer_id(2, "solo").await;
    let (st, _) = app.order(&b, offer, 1, "doc-order-key-00000001").await;
    documented("post", "/api/v1/checkout", st);
    let res = app
        .client
        .delete(app.url("/api/v1/cart"))
        .bearer_auth(&b.access)
        .send()
        .await
        .unwrap();
    documented("delete", "/api/v1/cart", res.status().as_u16());
}
