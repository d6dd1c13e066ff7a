//! The bad-input matrix of issue 3: every client mistake gets a clear 4xx with a stable code,
//! changes nothing, and is never a 500.

mod support;

use serde_json::{Value, json};
use support::{TestApp, spawn_app};

/// Row counts of every table a mistake could touch.
fn snapshot(app: &TestApp) -> Vec<i64> {
    [
        "accounts",
        "orders",
        "order_lines",
        "purchases",
        "tickets",
        "revocations",
        "payments",
        "cart_items",
        "webhook_seen",
        "refresh_tokens",
    ]
    .iter()
    .map(|t| app.db_i64(&format!("SELECT count(*) FROM {t}")))
    .chain([app.db_i64("SELECT sum(reserved) FROM events")])
    .collect()
}

async fn raw(
    app: &TestApp,
    method: &str,
    path: &str,
    access: Option<&str>,
    ctype: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut rb = app
        .client
        .request(method.parse().unwrap(), app.url(path))
        .header("content-type", ctype)
        .body(body);
    if let Some(a) = access {
        rb = rb.bearer_auth(a);
    }
    let res = rb.send().await.unwrap();
    let st = res.status().as_u16();
    (st, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn each_kind_of_bad_input_gets_a_clear_4xx_with_a_code_and_changes_nothing() {
    let app = spawn_app().await;
    let b = app.buyer("ria@example.org").await;
    let offer = app.offer_id(2, "duo").await;
    let before = snapshot(&app);
    let a = Some(b.access.as_str());
    let j = "application/json";
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, &'a str, Vec<u8>, u16, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            "POST",
            "/api/v1/accounts",
            None,
            j,
            b"{\"email\": ".to_vec(),
            400,
            "malformed_json",
        ),
        (
            "POST",
            "/api/v1/accounts",
            None,
            j,
            br#"{"email":"x@y.org","password":"longenough","admin":true}"#.to_vec(),
            422,
            "invalid_body",
        ),
        (
            "POST",
            "/api/v1/accounts",
            None,
            "text/plain",
            br#"{"email":"x@y.org","password":"longenough"}"#.to_vec(),
            400,
            "unsupported_media_type",
        ),
        (
            "POST",
            "/api/v1/accounts",
            None,
            j,
            format!(r#"{{"email":"x@y.org","password":"{}"}}"#, "p".repeat(40_000)).into_bytes(),
            413,
            "payload_too_large",
        ),
        (
            "POST",
            "/api/v1/accounts",
            None,
            j,
            br#"{"email":"not an email","password":"longenough"}"#.to_vec(),
            400,
            "invalid_email",
        ),
        (
            "POST",
            "/api/v1/accounts",
            None,
            j,
            br#"{"email":"x@y.org","password":"short"}"#.to_vec(),
            400,
            "invalid_password",
        ),
        (
            "POST",
            "/api/v1/accounts",
            None,
            j,
            br#"{"email":"x@y.org","password":"longenough","name":"a\u0000b"}"#.to_vec(),
            400,
            "invalid_name",
        ),
        (
            "POST",
            "/api/v1/accounts",
            None,
            j,
            br#"{"email":"x@y.org","password":"longenough","accept_terms":false}"#.to_vec(),
            400,
            "terms_not_accepted",
        ),
        (
            "PUT",
            "/api/v1/cart/items",
            a,
            j,
            format!(r#"{{"offer_id":{offer},"quantity":-2}}"#).into_bytes(),
            400,
            "invalid_quantity",
        ),
        (
            "PUT",
            "/api/v1/cart/items",
            a,
            j,
            format!(r#"{{"offer_id":{offer},"quantity":0}}"#).into_bytes(),
            400,
            "invalid_quantity",
        ),
        (
            "PUT",
            "/api/v1/cart/items",
            a,
            j,
            format!(r#"{{"offer_id":{offer},"quantity":1000000}}"#).into_bytes(),
            400,
            "invalid_quantity",
        ),
        (
            "PUT",
            "/api/v1/cart/items",
            a,
            j,
            format!(r#"{{"offer_id":{offer},"quantity":99999999999999999999999}}"#).into_bytes(),
            422,
            "invalid_body",
        ),
        (
            "PUT",
            "/api/v1/cart/items",
            a,
            j,
            format!(r#"{{"offer_id":{offer},"quantity":"two"}}"#).into_bytes(),
            422,
            "invalid_body",
        ),
        (
            "PUT",
            "/api/v1/cart/items",
            a,
            j,
            br#"{"offer_id":987654,"quantity":1}"#.to_vec(),
            404,
            "not_found",
        ),
        (
            "PUT",
            "/api/v1/cart/items",
            None,
            j,
            format!(r#"{{"offer_id":{offer},"quantity":1}}"#).into_bytes(),
            401,
            "unauthorized",
        ),
        (
            "PUT",
            "/api/v1/cart/items",
            Some("not.a.jwt"),
            j,
            format!(r#"{{"offer_id":{offer},"quantity":1}}"#).into_bytes(),
            401,
            "unauthorized",
        ),
        ("GET", "/api/v1/events/424242", None, j, vec![], 404, "not_found"),
        ("GET", "/api/v1/events/abc", None, j, vec![], 404, "not_found"),
        ("GET", "/api/v1/events/-1", None, j, vec![], 404, "not_found"),
        ("GET", "/api/v1/events?when=now", None, j, vec![], 400, "invalid_query"),
        ("GET", "/api/v1/orders/77", a, j, vec![], 404, "not_found"),
        ("POST", "/api/v1/orders/77/cancel", a, j, vec![], 404, "not_found"),
        ("GET", "/api/v1/tickets/99", a, j, vec![], 404, "not_found"),
        (
            "POST",
            "/api/v1/tickets/99/transfer",
            a,
            j,
            br#"{"to_email":"someone@example.org"}"#.to_vec(),
            404,
            "not_found",
        ),
        ("POST", "/api/v1/checkout", a, j, vec![], 400, "missing_idempotency_key"),
        (
            "POST",
            "/api/v1/accounts/activate",
            None,
            j,
            br#"{"token":"0000"}"#.to_vec(),
            400,
            "invalid_token",
        ),
        (
            "POST",
            "/api/v1/password/reset",
            None,
            j,
            br#"{"token":"0000","password":"longenough"}"#.to_vec(),
            400,
            "invalid_token",
        ),
        (
            "POST",
            "/api/v1/payments/pay_nothing/card",
            None,
            j,
            br#"{"card_number":"4242424242424242"}"#.to_vec(),
            404,
            "not_found",
        ),
        ("GET", "/api/v1/nope", None, j, vec![], 404, "not_found"),
        // A struct's fields by position: valid JSON, but a body is one object (found by fuzzing).
        (
            "POST",
            "/api/v1/transfers/claim",
            a,
            j,
            br#"[""]"#.to_vec(),
            422,
            "invalid_body",
        ),
        (
            "POST",
            "/api/v1/auth/login",
            None,
            j,
            br#" ["ria@example.org", "correct horse battery staple"]"#.to_vec(),
            422,
            "invalid_body",
        ),
    ];
    for (method, path, access, ctype, body, want, code) in cases {
        let (st, got) = raw(&app, method, path, access, ctype, body).await;
        assert_eq!(
            (st, got["error"]["code"].as_str()),
            (want, Some(code)),
            "{method} {path}: {got}"
        );
        assert!(got["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // An empty cart cannot be checked out.
    let res = app
        .client
        .post(app.url("/api/v1/checkout"))
        .bearer_auth(&b.access)
        .header("Idempotency-Key", "bad key!")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(snapshot(&app), before, "no bad request changed anything");
}

#[tokio::test]
async fn forged_stale_and_replayed_webhooks_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let b = app.buyer("sam@example.org").await;
    // A pending order whose payment a forger would like to confirm.
    let offer = app.offer_id(3, "solo").await;
    let (_, pending) = app.order(&b, offer, 1, "pending-forgery").await;
    let forged = json!({ "id": "evt_forged", "type": "payment.succeeded", "payment_id": pending["payment_id"],
                         "amount_cents": pending["total_cents"], "created": og_issuer::now() })
    .to_string();
    // And a real paid order whose webhook someone replays.
    let paid = app.buy(&b, 4, "solo", 1).await;
    let before = snapshot(&app);
    let now = og_issuer::now();

    let (st, r) = app.post_webhook(None, &forged).await;
    assert_eq!((st, r["error"]["code"].as_str()), (400, Some("missing_signature")));
    let (st, r) = app.post_webhook(Some("t=1,v1=zz".into()), &forged).await;
    assert_eq!((st, r["error"]["code"].as_str()), (400, Some("bad_signature_header")));
    let bad = og_issuer::shop::payment::sign(b"not the key", now, forged.as_bytes());
    let (st, r) = app.post_webhook(Some(bad), &forged).await;
    assert_eq!((st, r["error"]["code"].as_str()), (401, Some("unauthorized")));
    let tampered = forged.replace("payment.succeeded", "payment.declined");
    let (st, _) = app
        .post_webhook(Some(app.signed_webhook(now, &forged)), &tampered)
        .await;
    assert_eq!(st, 401, "the signature covers the body");
    let (st, r) = app
        .post_webhook(Some(app.signed_webhook(now - 3600, &forged)), &forged)
        .await;
    assert_eq!((st, r["error"]["code"].as_str()), (400, Some("stale_webhook")));

    let delivered: String = app
        .state
        .db
        .read_sync(|c| {
            Ok(c.query_row(
                "SELECT payload FROM webhook_outbox WHERE delivered_at IS NOT NULL LIMIT 1",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    let (st, r) = app
        .post_webhook(Some(app.signed_webhook(now, &delivered)), &delivered)
        .await;
    assert_eq!((st, r["error"]["code"].as_str()), (409, Some("replayed_webhook")));
    let wrong_amount = json!({ "id": "evt_amount", "type": "payment.succeeded", "payment_id": pending["payment_id"],
                               "amount_cents": 1, "created": now })
    .to_string();
    let (st, r) = app
        .post_webhook(Some(app.signed_webhook(now, &wrong_amount)), &wrong_amount)
        .await;
    assert_eq!((st, r["error"]["code"].as_str()), (422, Some("amount_mismatch")));
    let unknown = json!({ "id": "evt_unknown", "type": "payment.succeeded", "payment_id": "pay_nope",
                          "amount_cents": 1, "created": now })
    .to_string();
    let (st, _) = app
        .post_webhook(Some(app.signed_webhook(now, &unknown)), &unknown)
        .await;
    assert_eq!(st, 404);
    let (st, _) = app
        .post_webhook(Some(app.signed_webhook(now, "{not json")), "{not json")
        .await;
    assert_eq!(st, 400);

    assert_eq!(snapshot(&app), before);
    let (_, o) = app
        .get_json(&format!("/api/v1/orders/{}", pending["id"]), Some(&b.access))
        .await;
    assert_eq!(o["status"], "pending");
    let (_, o) = app
        .get_json(&format!("/api/v1/orders/{}", paid["id"]), Some(&b.access))
        .await;
    assert_eq!(o["status"], "paid");
}

#[tokio::test]
async fn a_webhook_that_is_not_acknowledged_is_retried_until_it_is() {
    let app = spawn_app().await;
    let b = app.buyer("tia@example.org").await;
    let offer = app.offer_id(5, "solo").await;
    let (_, order) = app.order(&b, offer, 1, "retry-webhook").await;
    let (_, r) = app.pay(&order, "4242424242424242").await;
    assert_eq!(r["status"], "succeeded");
    // Simulate a lost acknowledgement: the order is still pending and the outbox entry undelivered.
    app.db_exec(&format!(
        "UPDATE orders SET status = 'pending', paid_at = NULL WHERE id = {id};
         DELETE FROM tickets; DELETE FROM purchases; DELETE FROM webhook_seen;
         UPDATE webhook_outbox SET delivered_at = NULL, next_attempt_at = 0;",
        id = order["id"]
    ));
    support::poll::within(
        std::time::Duration::from_secs(5),
        std::time::Duration::from_millis(100),
        || {
            std::future::ready(
                (app.db_i64("SELECT count(*) FROM webhook_outbox WHERE delivered_at IS NULL") == 0).then_some(()),
            )
        },
    )
    .await;
    let (_, o) = app
        .get_json(&format!("/api/v1/orders/{}", order["id"]), Some(&b.access))
        .await;
    assert_eq!(o["status"], "paid", "the background worker redelivered the webhook");
    assert_eq!(app.db_i64("SELECT count(*) FROM tickets WHERE status = 'valid'"), 1);
}
