//! The web pages through real HTTP with plain form posts (what a browser without JavaScript
//! does): browse, guest cart, sign up, activate, log in (cart merged), check out, pay on the
//! hosted page, see the tickets and the printable ticket.

mod support;

use support::{PASSWORD, TestApp, spawn_app};

/// A tiny cookie jar: name -> value, updated from Set-Cookie (Max-Age=0 deletes).
#[derive(Default)]
struct Jar(std::collections::BTreeMap<String, String>);

impl Jar {
    fn update(&mut self, res: &reqwest::Response) {
        for v in res.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (kv, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.0.remove(k);
            } else {
                self.0.insert(k.to_owned(), val.to_owned());
            }
        }
    }
    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

async fn get(app: &TestApp, jar: &mut Jar, path: &str) -> (u16, String) {
    let res = app
        .client
        .get(app.url(path))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    jar.update(&res);
    let st = res.status().as_u16();
    (st, res.text().await.unwrap())
}

/// Posts a form; returns (status, Location header, body).
async fn post(app: &TestApp, jar: &mut Jar, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    // Like a browser: the CSRF cookie from an earlier page (or a first one now) and its token.
    if !jar.0.contains_key(og_issuer::web::csrf_token::COOKIE_NAME) {
        let (k, v) = support::csrf_cookie()
            .split_once('=')
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .unwrap();
        jar.0.insert(k, v);
    }
    let token = support::csrf_token_in(&app.state, &jar.header());
    let mut form = form.to_vec();
    form.push(("csrf", &token));
    let res = app
        .client
        .post(app.url(path))
        .header("cookie", jar.header())
        .form(&form)
        .send()
        .await
        .unwrap();
    jar.update(&res);
    let st = res.status().as_u16();
    let loc = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (st, loc, res.text().await.unwrap())
}

fn attr_after(html: &str, marker: &str, attr: &str) -> String {
    let at = html.find(marker).unwrap_or_else(|| panic!("no {marker} in page"));
    let rest = &html[at..];
    let v = rest.find(&format!("{attr}=\"")).unwrap() + attr.len() + 2;
    rest[v..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_buyer_without_javascript_browses_signs_up_buys_a_duo_and_sees_the_qr() {
    let app = spawn_app().await;
    let mut jar = Jar::default();
    let res = app.client.get(app.url("/")).send().await.unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    let (st, home) = get(&app, &mut jar, "/").await;
    assert_eq!(st, 200);
    assert!(
        home.contains("Men&#39;s 100m Final") || home.contains("Men's 100m Final"),
        "{home}"
    );
    assert!(home.contains("<html lang=\"en\">") && home.contains("name=\"viewport\""));
    let (_, filtered) = get(&app, &mut jar, "/?sport=Judo").await;
    assert!(filtered.contains("Mixed Team Final") && !filtered.contains("100m Final"));

    let (st, event) = get(&app, &mut jar, "/events/3").await;
    assert_eq!(st, 200);
    assert!(event.contains("Add Duo to cart"));
    let duo = attr_after(&event[event.find("admits 2").unwrap()..], "name=\"offer_id\"", "value");
    // Guest cart in a cookie.
    let (st, loc, _) = post(&app, &mut jar, "/cart/add", &[("offer_id", &duo), ("quantity", "1")]).await;
    assert_eq!((st, loc.as_str()), (303, "/cart"));
    let (_, cart) = get(&app, &mut jar, "/cart").await;
    assert!(cart.contains("Mixed Team Final") && cart.contains("Log in to check out"));

    let (st, _, page) = post(
        &app,
        &mut jar,
        "/signup",
        &[
            ("email", "una@example.org"),
            ("password", PASSWORD),
            ("name", "Una Buyer"),
            ("accept_terms", "yes"),
        ],
    )
    .await;
    assert_eq!(st, 200);
    assert!(page.contains("Check your mailbox"));
    let mail = app.smtp.wait_for("una@example.org", "/activate?token=").await;
    let token = support::token_in(&mail, "/activate?token=");
    let (_, act) = get(&app, &mut jar, &format!("/activate?token={token}")).await;
    assert!(act.contains("Activate my account"));
    let (st, _, done) = post(&app, &mut jar, "/activate", &[("token", &token)]).await;
    assert_eq!(st, 200);
    assert!(done.contains("Account activated"));

    let (st, _, bad) = post(
        &app,
        &mut jar,
        "/login",
        &[
            ("email", "una@example.org"),
            ("password", "wrong password"),
            ("next", "/cart"),
        ],
    )
    .await;
    assert_eq!(st, 401);
    assert!(bad.contains("wrong email or password"));
    let (st, loc, _) = post(
        &app,
        &mut jar,
        "/login",
        &[("email", "una@example.org"), ("password", PASSWORD), ("next", "/cart")],
    )
    .await;
    assert_eq!((st, loc.as_str()), (303, "/cart"));
    assert!(jar.0.contains_key("__Host-og_at") && jar.0.contains_key("__Host-og_rt"));
    assert!(
        !jar.0.contains_key("__Host-og_cart"),
        "the guest cart cookie is cleared once merged"
    );

    let (_, cart) = get(&app, &mut jar, "/cart").await;
    assert!(cart.contains("Mixed Team Final"), "guest cart merged at login");
    let key = attr_after(&cart, "name=\"idempotency_key\"", "value");
    let (st, pay_url, _) = post(&app, &mut jar, "/checkout", &[("idempotency_key", &key)]).await;
    assert_eq!(st, 303);
    let pay_path = pay_url.strip_prefix(&app.base).unwrap().to_owned();
    assert!(pay_path.starts_with("/pay/pay_"));
    let (_, pay) = get(&app, &mut jar, &pay_path).await;
    assert!(
        pay.contains("4242 4242 4242 4242") && pay.contains("Pay €90.00"),
        "{pay}"
    );

    let (st, loc, _) = post(&app, &mut jar, &pay_path, &[("card_number", "4000 0000 0000 0002")]).await;
    assert_eq!((st, loc.as_str()), (303, pay_path.as_str()));
    let (_, declined) = get(&app, &mut jar, &pay_path).await;
    assert!(declined.contains("declined"));
    let (st, order_path, _) = post(
        &app,
        &mut jar,
        &pay_path,
        &[
            ("card_number", "4242 4242 4242 4242"),
            ("expiry", "12/34"),
            ("cvc", "123"),
        ],
    )
    .await;
    assert_eq!(st, 303);
    let (_, order) = get(&app, &mut jar, &order_path).await;
    assert!(order.contains("Paid. Your tickets are ready."), "{order}");

    let (_, tickets) = get(&app, &mut jar, "/tickets").await;
    assert!(tickets.contains("<svg") && tickets.contains("Una Buyer") && tickets.contains("admits 2"));
    let serial = app.db_i64("SELECT serial FROM tickets");
    let (st, ticket) = get(&app, &mut jar, &format!("/tickets/{serial}")).await;
    assert_eq!(st, 200);
    assert!(ticket.contains("brightness") && ticket.contains("@media print") && ticket.contains("Holder"));

    // The access cookie expires: the refresh cookie alone gets the page (and new cookies).
    jar.0.remove("__Host-og_at");
    let old_refresh = jar.0["__Host-og_rt"].clone();
    let (st, again) = get(&app, &mut jar, "/tickets").await;
    assert_eq!(st, 200);
    assert!(again.contains("<svg"));
    assert_ne!(jar.0["__Host-og_rt"], old_refresh, "rotated");

    // Give the ticket away from its page (after confirming): the recipient gets a new code, and
    // ours is listed as given away.
    app.registered("wes@example.org").await;
    let (st, _, confirm) = post(
        &app,
        &mut jar,
        &format!("/tickets/{serial}/transfer"),
        &[("email", "wes@example.org")],
    )
    .await;
    assert_eq!(st, 200);
    assert!(confirm.contains("Yes, give it to wes@example.org"), "{confirm}");
    let (st, loc, _) = post(
        &app,
        &mut jar,
        &format!("/tickets/{serial}/transfer"),
        &[("email", "wes@example.org"), ("confirm", "yes")],
    )
    .await;
    assert_eq!((st, loc.as_str()), (200, ""));
    let (_, mine) = get(&app, &mut jar, "/tickets").await;
    assert!(
        mine.contains("given to wes@example.org") && !mine.contains("<svg"),
        "{mine}"
    );
    let wes = app.log_in("wes@example.org").await;
    let (_, theirs) = app.get_json("/api/v1/tickets", Some(&wes.access)).await;
    assert_eq!(theirs["tickets"][0]["status"], "valid");

    // Logging out ends the session.
    let (st, loc, _) = post(&app, &mut jar, "/logout", &[]).await;
    assert_eq!((st, loc.as_str()), (303, "/"));
    let (st, _) = get(&app, &mut jar, "/tickets").await;
    assert_eq!(st, 303, "back to the login page");
}

#[tokio::test]
async fn pages_show_errors_as_pages_not_json_and_never_500() {
    let app = spawn_app().await;
    let mut jar = Jar::default();
    app.db_exec("UPDATE events SET capacity = 3 WHERE id = 2");
    let (_, two) = get(&app, &mut jar, "/events/2").await;
    assert!(two.contains("Add Solo to cart") && two.contains("Add Duo to cart") && !two.contains("Add Family to cart"));
    assert!(two.contains("Sold out"));
    let (st, page) = get(&app, &mut jar, "/events/9999").await;
    assert_eq!(st, 404);
    assert!(page.contains("That did not work"));
    let (st, _, page) = post(&app, &mut jar, "/signup", &[("email", "nope"), ("password", PASSWORD)]).await;
    assert_eq!(st, 400);
    assert!(page.contains("does not look like an email"));
    let (st, _, page) = post(
        &app,
        &mut jar,
        "/signup",
        &[("email", "terms@example.org"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(st, 400, "no account without consent");
    assert!(page.contains("accept the terms of sale"), "{page}");
    assert_eq!(
        app.db_i64("SELECT count(*) FROM accounts WHERE email = 'terms@example.org'"),
        0
    );
    let (st, _, _) = post(&app, &mut jar, "/cart/add", &[("offer_id", "1"), ("quantity", "-1")]).await;
    assert_eq!(st, 400);
    let (st, _, _) = post(&app, &mut jar, "/cart/add", &[("offer_id", "x")]).await;
    assert_eq!(st, 400);
    let (st, _) = get(&app, &mut jar, "/pay/pay_unknown").await;
    assert_eq!(st, 404);
    let (st, loc, _) = post(
        &app,
        &mut jar,
        "/login",
        &[
            ("email", "a@b.org"),
            ("password", "whatever!"),
            ("next", "//evil.example"),
        ],
    )
    .await;
    assert_eq!((st, loc.as_str()), (401, ""));
}

#[tokio::test]
async fn a_buyer_renames_themselves_downloads_their_data_and_deletes_their_account_whose_tickets_stop_working() {
    let app = spawn_app().await;
    let b = app.buyer("gdpr@example.org").await;
    app.buy(&b, 4, "solo", 1).await;
    let mut jar = Jar::default();
    let (st, loc, _) = post(
        &app,
        &mut jar,
        "/login",
        &[
            ("email", "gdpr@example.org"),
            ("password", PASSWORD),
            ("next", "/account"),
        ],
    )
    .await;
    assert_eq!((st, loc.as_str()), (303, "/account"));
    let (st, page) = get(&app, &mut jar, "/account").await;
    assert_eq!(st, 200);
    assert!(
        page.contains("Download my data") && page.contains("Delete my account"),
        "{page}"
    );

    // Name and language.
    let (st, loc, _) = post(
        &app,
        &mut jar,
        "/account",
        &[("name", "Gaby Renamed"), ("language", "fr")],
    )
    .await;
    assert_eq!((st, loc.as_str()), (303, "/account?saved=1"));
    let (_, page) = get(&app, &mut jar, "/account?saved=1").await;
    assert!(page.contains("<html lang=\"fr\"") && page.contains("Enregistré") && page.contains("Gaby Renamed"));

    // My data, as JSON.
    let res = app
        .client
        .get(app.url("/account/data.json"))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let data: serde_json::Value = res.json().await.unwrap();
    assert_eq!(data["account"]["email"], "gdpr@example.org");
    assert_eq!(data["account"]["language"], "fr");
    assert!(data["account"]["terms_accepted_at"].is_i64());
    assert_eq!(data["orders"].as_array().unwrap().len(), 1);
    assert_eq!(data["tickets"].as_array().unwrap().len(), 1);

    // A wrong password changes nothing; the right one deletes the account.
    let (st, _, page) = post(
        &app,
        &mut jar,
        "/account/delete",
        &[("password", "not my password"), ("understood", "yes")],
    )
    .await;
    assert_eq!(st, 403, "{page}");
    assert_eq!(app.db_i64("SELECT count(*) FROM tickets WHERE status = 'valid'"), 1);
    let (st, _, page) = post(
        &app,
        &mut jar,
        "/account/delete",
        &[("password", PASSWORD), ("understood", "yes")],
    )
    .await;
    assert_eq!(st, 200, "{page}");
    assert!(page.contains("Compte supprimé"), "{page}");
    assert_eq!(
        app.db_i64("SELECT count(*) FROM tickets WHERE status = 'valid'"),
        0,
        "its tickets stop working"
    );
    assert_eq!(
        app.db_i64("SELECT count(*) FROM accounts WHERE email = 'gdpr@example.org' OR display_name = 'Gaby Renamed'"),
        0,
        "the personal data is erased"
    );
    assert_eq!(
        app.db_i64("SELECT count(*) FROM orders"),
        1,
        "orders are kept for accounting"
    );
    assert!(
        app.db_i64("SELECT count(*) FROM revocations WHERE kind = 'account'") >= 1,
        "gates are told"
    );
    let (st, _) = app.get_json("/api/v1/me", Some(&b.access)).await;
    assert_ne!(st, 500);
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({ "email": "gdpr@example.org", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "the account can no longer log in");
}

#[tokio::test]
async fn after_activation_logging_in_goes_back_to_the_cart_when_it_holds_tickets() {
    let app = spawn_app().await;
    let mut jar = Jar::default();
    let (_, event) = get(&app, &mut jar, "/events/3").await;
    let solo = attr_after(&event, "name=\"offer_id\"", "value");
    post(&app, &mut jar, "/cart/add", &[("offer_id", &solo), ("quantity", "1")]).await;
    post(
        &app,
        &mut jar,
        "/signup",
        &[
            ("email", "cartback@example.org"),
            ("password", PASSWORD),
            ("accept_terms", "yes"),
        ],
    )
    .await;
    let mail = app.smtp.wait_for("cartback@example.org", "/activate?token=").await;
    let token = support::token_in(&mail, "/activate?token=");
    let (st, _, done) = post(&app, &mut jar, "/activate", &[("token", &token)]).await;
    assert_eq!(st, 200);
    assert!(done.contains("href=\"/login?next=/cart\""), "{done}");
}

#[tokio::test]
async fn too_many_attempts_is_a_page_in_the_browsers_language() {
    let app = spawn_app().await;
    let mut jar = Jar::default();
    jar.0.insert("__Host-og_lang".into(), "fr".into());
    let mut last = (0, String::new());
    for _ in 0..31 {
        let (st, _, page) = post(&app, &mut jar, "/password/forgot", &[("email", "who@example.org")]).await;
        last = (st, page);
    }
    let (st, page) = last;
    assert_eq!(st, 429);
    assert!(
        page.contains("<html lang=\"fr\"") && page.contains("trop de tentatives"),
        "{page}"
    );
}

#[tokio::test]
async fn logging_in_before_activation_says_to_open_the_mailed_link() {
    let app = spawn_app().await;
    let mut jar = Jar::default();
    post(
        &app,
        &mut jar,
        "/signup",
        &[
            ("email", "early@example.org"),
            ("password", PASSWORD),
            ("accept_terms", "yes"),
        ],
    )
    .await;
    let (st, _, page) = post(
        &app,
        &mut jar,
        "/login",
        &[("email", "early@example.org"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(st, 403);
    assert!(
        page.contains("not activated yet: open the link we mailed you"),
        "{page}"
    );
}

#[tokio::test]
async fn a_used_activation_link_says_to_log_in_and_a_bad_reset_link_says_so() {
    let app = spawn_app().await;
    let mut jar = Jar::default();
    post(
        &app,
        &mut jar,
        "/signup",
        &[
            ("email", "twice@example.org"),
            ("password", PASSWORD),
            ("accept_terms", "yes"),
        ],
    )
    .await;
    let mail = app.smtp.wait_for("twice@example.org", "/activate?token=").await;
    let token = support::token_in(&mail, "/activate?token=");
    let (st, _, _) = post(&app, &mut jar, "/activate", &[("token", &token)]).await;
    assert_eq!(st, 200);
    let (st, _, again) = post(&app, &mut jar, "/activate", &[("token", &token)]).await;
    assert_eq!(st, 410);
    assert!(
        again.contains("this activation link was already used: log in"),
        "{again}"
    );
    let (st, _, bad) = post(
        &app,
        &mut jar,
        "/password/reset",
        &[("token", "00ff"), ("password", "a new long password")],
    )
    .await;
    assert_eq!(st, 400);
    assert!(bad.contains("this reset link is not valid"), "{bad}");
}
