//! Black-box tests of the buyer API through real HTTP (issue 3): catalogue, accounts, cart,
//! checkout, payment, issuance, delivery, refunds and transfers.

mod support;

use og_shared::{Offer, TrustStore, verify_qr_text};
use serde_json::{Value, json};
use support::{PASSWORD, TestApp, set_cookie, spawn_app};

fn trust(app: &TestApp) -> TrustStore {
    let s = &app.state.signer;
    TrustStore::new(s.deployment().clone()).with(s.trusted_key(0, u32::MAX as i64))
}

fn verify(app: &TestApp, qr: &str) -> og_shared::TicketClaims {
    // Verify at the ticket's own opening time so any demo event works.
    let raw = og_shared::qr::decode_ticket_bytes(qr.as_bytes()).unwrap();
    let mut payload = [0u8; og_shared::ticket::CLAIMS_LEN];
    payload.copy_from_slice(&raw[..og_shared::ticket::CLAIMS_LEN]);
    let c = og_shared::TicketClaims::from_bytes(&payload).unwrap();
    verify_qr_text(qr.as_bytes(), &trust(app), i64::from(c.valid_from) + 1)
        .expect("the ticket verifies offline")
        .claims
}

#[tokio::test]
async fn the_catalogue_lists_a_dozen_sessions_with_three_offers_and_filters_by_sport_day_and_venue() {
    let app = spawn_app().await;
    let (st, body) = app.get_json("/api/v1/events", None).await;
    assert_eq!(st, 200);
    let events = body["events"].as_array().unwrap();
    assert_eq!(events.len(), 12);
    for e in events {
        let kinds: Vec<&str> = e["offers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["solo", "duo", "family"]);
        assert_eq!(e["capacity_left"], e["capacity"]);
    }
    let (_, judo) = app.get_json("/api/v1/events?sport=judo", None).await;
    assert!(judo["events"].as_array().unwrap().iter().all(|e| e["sport"] == "Judo"));
    assert_eq!(judo["events"].as_array().unwrap().len(), 1);
    let day = events[0]["day"].as_str().unwrap();
    let (_, on_day) = app.get_json(&format!("/api/v1/events?day={day}"), None).await;
    assert!(on_day["events"].as_array().unwrap().iter().all(|e| e["day"] == day));
    let (_, sdf) = app.get_json("/api/v1/events?venue=Stade%20de%20France", None).await;
    assert!(!sdf["events"].as_array().unwrap().is_empty());
    assert!(
        sdf["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["venue"] == "Stade de France")
    );
    let (st, err) = app.get_json("/api/v1/events?day=tomorrow", None).await;
    assert_eq!((st, err["error"]["code"].as_str()), (400, Some("invalid_day")));
}

#[tokio::test]
async fn a_newcomer_signs_up_gets_an_activation_mail_by_smtp_activates_and_logs_in() {
    let app = spawn_app().await;
    let (st, _) = app
        .post_json(
            "/api/v1/accounts",
            None,
            &json!({ "accept_terms": true, "email": "ana@example.org", "password": PASSWORD }),
        )
        .await;
    assert_eq!(st, 202);
    // Not active yet: the right password is refused with a hint.
    let (st, body) = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({ "email": "ana@example.org", "password": PASSWORD }),
        )
        .await;
    assert_eq!(st, 403, "{body}");
    let mail = app.smtp.wait_for("ana@example.org", "/activate?token=").await;
    let token = support::token_in(&mail, "/activate?token=");
    let (st, _) = app
        .post_json("/api/v1/accounts/activate", None, &json!({ "token": token }))
        .await;
    assert_eq!(st, 200);
    assert_eq!(
        app.db_i64("SELECT count(*) FROM accounts WHERE email = 'ana@example.org' AND account_key IS NOT NULL"),
        1,
        "the account key is made at activation"
    );
    let (st, again) = app
        .post_json("/api/v1/accounts/activate", None, &json!({ "token": token }))
        .await;
    assert_eq!((st, again["error"]["code"].as_str()), (410, Some("token_used")));
    let b = app.log_in("ana@example.org").await;
    let (st, me) = app.get_json("/api/v1/me", Some(&b.access)).await;
    assert_eq!(st, 200);
    assert_eq!(me["email"], "ana@example.org");
}

#[tokio::test]
async fn signing_up_with_a_registered_email_answers_exactly_as_for_a_new_one() {
    let app = spawn_app().await;
    app.registered("bo@example.org").await;
    let (st, body) = app
        .post_json(
            "/api/v1/accounts",
            None,
            &json!({ "accept_terms": true, "email": "bo@example.org", "password": "another password" }),
        )
        .await;
    let (st2, body2) = app
        .post_json(
            "/api/v1/accounts",
            None,
            &json!({ "accept_terms": true, "email": "new@example.org", "password": "another password" }),
        )
        .await;
    assert_eq!((st, &body), (st2, &body2));
    app.smtp.wait_for("bo@example.org", "already has one").await;
    // Wrong password and unknown email fail the same way.
    let (s1, b1) = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({ "email": "bo@example.org", "password": "wrong password" }),
        )
        .await;
    let (s2, b2) = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({ "email": "nobody@example.org", "password": "wrong password" }),
        )
        .await;
    assert_eq!((s1, &b1), (s2, &b2));
    assert_eq!(s1, 401);
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/refresh"))
        .header("cookie", format!("__Host-og_rt={token}"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reusing_an_old_one_ends_the_whole_family() {
    let app = spawn_app().await;
    let b = app.buyer("cy@example.org").await;
    let res = refresh(&app, &b.refresh).await;
    assert_eq!(res.status().as_u16(), 200);
    let second = set_cookie(&res, "__Host-og_rt").unwrap();
    let cookie_line = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert!(cookie_line.iter().any(|c| c.starts_with("__Host-og_rt=")
        && c.contains("HttpOnly")
        && c.contains("Secure")
        && c.contains("SameSite=Lax")
        && c.contains("Path=/")));
    assert_ne!(second, b.refresh);
    // Pretend the first token was used a minute ago (outside the parallel-request grace).
    app.db_exec("UPDATE refresh_tokens SET used_at = used_at - 60 WHERE used_at IS NOT NULL");
    let stolen = refresh(&app, &b.refresh).await;
    assert_eq!(stolen.status().as_u16(), 401);
    let after = refresh(&app, &second).await;
    assert_eq!(
        after.status().as_u16(),
        401,
        "the newest token of the family is revoked too"
    );
}

#[tokio::test]
async fn expired_or_forged_access_tokens_are_refused() {
    let app = spawn_app().await;
    let b = app.buyer("dee@example.org").await;
    let mut forged = b.access.clone();
    forged.pop();
    forged.push(if b.access.ends_with('A') { 'B' } else { 'A' });
    let (st, body) = app.get_json("/api/v1/me", Some(&forged)).await;
    assert_eq!((st, body["error"]["code"].as_str()), (401, Some("unauthorized")));
    // A token signed with the right key but expired.
    let id = app.db_i64("SELECT id FROM accounts WHERE email = 'dee@example.org'");
    let old = og_issuer::shop::auth::issue_access(&app.state, id, 0, og_issuer::now() - 3600).unwrap();
    assert_eq!(app.get_json("/api/v1/me", Some(&old)).await.0, 401);
    // alg=none is refused.
    let none = format!(
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
        b.access.split('.').nth(1).unwrap()
    );
    assert_eq!(app.get_json("/api/v1/me", Some(&none)).await.0, 401);
}

#[tokio::test]
async fn a_password_reset_by_mail_changes_the_password_and_ends_old_sessions() {
    let app = spawn_app().await;
    let b = app.buyer("eve@example.org").await;
    let (st, _) = app
        .post_json("/api/v1/password/forgot", None, &json!({ "email": "eve@example.org" }))
        .await;
    assert_eq!(st, 202);
    let (st, _) = app
        .post_json(
            "/api/v1/password/forgot",
            None,
            &json!({ "email": "ghost@example.org" }),
        )
        .await;
    assert_eq!(st, 202, "unknown addresses get the same answer");
    let mail = app.smtp.wait_for("eve@example.org", "/password/reset?token=").await;
    let token = support::token_in(&mail, "/password/reset?token=");
    let (st, _) = app
        .post_json(
            "/api/v1/password/reset",
            None,
            &json!({ "token": token, "password": "a brand new secret" }),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(refresh(&app, &b.refresh).await.status().as_u16(), 401);
    let (st, _) = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({ "email": "eve@example.org", "password": PASSWORD }),
        )
        .await;
    assert_eq!(st, 401);
    let (st, _) = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({ "email": "eve@example.org", "password": "a brand new secret" }),
        )
        .await;
    assert_eq!(st, 200);
}

#[tokio::test]
async fn repeated_failed_logins_for_one_email_slow_further_attempts_down() {
    let app = spawn_app().await;
    let attempt = || async {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({ "email": "target@example.org", "password": "guess guess" }))
            .send()
            .await
            .unwrap()
    };
    for _ in 0..og_issuer::shop::auth::FREE_FAILURES {
        assert_eq!(attempt().await.status().as_u16(), 401);
    }
    let slowed = attempt().await;
    assert_eq!(slowed.status().as_u16(), 429);
    let wait: u64 = slowed.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
}

#[tokio::test]
async fn buying_a_duo_signs_one_ticket_for_two_that_verifies_offline_with_both_tags() {
    let app = spawn_app().await;
    let b = app.buyer("fay@example.org").await;
    let order = app.buy(&b, 3, "duo", 1).await;
    let (_, o) = app
        .get_json(&format!("/api/v1/orders/{}", order["id"]), Some(&b.access))
        .await;
    assert_eq!(o["status"], "paid");
    let (_, t) = app.get_json("/api/v1/tickets", Some(&b.access)).await;
    let tickets = t["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 1);
    let claims = verify(&app, tickets[0]["qr_text"].as_str().unwrap());
    assert_eq!(claims.offer, Offer::Duo);
    assert_eq!(claims.offer.admits(), 2);
    assert_eq!(claims.event_id, 3);
    let account_tag: String = app
        .state
        .db
        .read_sync(|c| {
            Ok(c.query_row(
                "SELECT account_tag FROM accounts WHERE email = 'fay@example.org'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(claims.account_tag.to_hex(), account_tag);
    let (_, ev) = app.get_json("/api/v1/events/3", None).await;
    assert_eq!(
        ev["capacity"].as_i64().unwrap() - ev["capacity_left"].as_i64().unwrap(),
        2
    );
}

#[tokio::test]
async fn every_qr_image_decodes_with_rqrr_and_zbarimg_to_the_signed_code() {
    let app = spawn_app().await;
    let b = app.buyer("gus@example.org").await;
    app.buy(&b, 1, "family", 2).await;
    let (_, t) = app.get_json("/api/v1/tickets", Some(&b.access)).await;
    for t in t["tickets"].as_array().unwrap() {
        let serial = t["serial"].as_i64().unwrap();
        let text = t["qr_text"].as_str().unwrap();
        let png = app
            .client
            .get(app.url(&format!("/api/v1/tickets/{serial}/qr.png")))
            .bearer_auth(&b.access)
            .send()
            .await
            .unwrap();
        assert_eq!(png.headers()["content-type"], "image/png");
        let png = png.bytes().await.unwrap();
        assert_eq!(support::rqrr_decode_png(&png), vec![text.to_owned()]);
        let path = app.dir.path().join(format!("t{serial}.png"));
        std::fs::write(&path, &png).unwrap();
        assert_eq!(support::zbarimg_decode(&path), text);

        let svg = app
            .client
            .get(app.url(&format!("/api/v1/tickets/{serial}/qr.svg")))
            .bearer_auth(&b.access)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"));
        let svg_path = app.dir.path().join(format!("t{serial}.svg"));
        std::fs::write(&svg_path, &svg).unwrap();
        let png_from_svg = support::rasterize_svg(&svg);
        assert_eq!(support::rqrr_decode_png(&png_from_svg), vec![text.to_owned()]);
        let p2 = app.dir.path().join(format!("t{serial}-svg.png"));
        std::fs::write(&p2, &png_from_svg).unwrap();
        assert_eq!(support::zbarimg_decode(&p2), text);
    }
    // Someone else's ticket is not found.
    let other = app.buyer("hal@example.org").await;
    let (st, _) = app.get_json("/api/v1/tickets/1/qr.png", Some(&other.access)).await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn a_declined_card_leaves_the_order_pending_without_tickets_and_a_good_card_then_pays_it() {
    let app = spawn_app().await;
    let b = app.buyer("ida@example.org").await;
    let offer = app.offer_id(2, "solo").await;
    let (st, order) = app.order(&b, offer, 1, "decline-then-pay").await;
    assert_eq!(st, 201);
    let (st, r) = app.pay(&order, "4000 0000 0000 0002").await;
    assert_eq!((st, r["status"].as_str()), (200, Some("declined")));
    let (_, o) = app
        .get_json(&format!("/api/v1/orders/{}", order["id"]), Some(&b.access))
        .await;
    assert_eq!(o["status"], "pending");
    assert_eq!(app.db_i64("SELECT count(*) FROM tickets"), 0);
    let (st, r) = app.pay(&order, "4242424242424242").await;
    assert_eq!((st, r["status"].as_str()), (200, Some("succeeded")));
    let (_, o) = app
        .get_json(&format!("/api/v1/orders/{}", order["id"]), Some(&b.access))
        .await;
    assert_eq!(o["status"], "paid");
    assert_eq!(app.db_i64("SELECT count(*) FROM tickets"), 1);
    let (st, r) = app.pay(&order, "4242424242424242").await;
    assert_eq!((st, r["error"]["code"].as_str()), (409, Some("already_paid")));
    let (st, r) = app.pay(&order, "1234 5678").await;
    assert_eq!((st, r["error"]["code"].as_str()), (400, Some("invalid_card_number")));
}

#[tokio::test]
async fn checkout_with_the_same_idempotency_key_returns_the_same_order_and_reserves_once() {
    let app = spawn_app().await;
    let b = app.buyer("jo@example.org").await;
    let offer = app.offer_id(4, "family").await;
    let (st, first) = app.order(&b, offer, 2, "same-key-123").await;
    assert_eq!(st, 201);
    let (st, second) = app.order(&b, offer, 2, "same-key-123").await;
    assert_eq!(st, 201);
    assert_eq!(first["id"], second["id"]);
    assert_eq!(app.db_i64("SELECT count(*) FROM orders"), 1);
    assert_eq!(app.db_i64("SELECT reserved FROM events WHERE id = 4"), 8);
    let res = app
        .client
        .post(app.url("/api/v1/checkout"))
        .bearer_auth(&b.access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400, "the key is required");
}

#[tokio::test]
async fn the_order_a_checkout_answers_is_the_order_the_buyer_reads_back() {
    let app = spawn_app().await;
    // Two events, the first in a venue with a time zone of its own: the order shows its times
    // in its first line's zone.
    app.db_exec("UPDATE events SET time_zone = 'Pacific/Tahiti' WHERE id = 6");
    let b = app.buyer("vaimiti@example.org").await;
    for (offer, quantity) in [(app.offer_id(9, "solo").await, 1), (app.offer_id(6, "duo").await, 2)] {
        assert_eq!(app.put_in_cart(&b, offer, quantity).await.0, 200);
    }
    let checkout = |key: &'static str| {
        app.client
            .post(app.url("/api/v1/checkout"))
            .bearer_auth(&b.access)
            .header("Idempotency-Key", key)
            .send()
    };
    let res = checkout("two-events-1").await.unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let placed: Value = res.json().await.unwrap();
    let (st, read) = app
        .get_json(&format!("/api/v1/orders/{}", placed["id"]), Some(&b.access))
        .await;
    assert_eq!(st, 200);
    assert_eq!(placed, read, "the checkout's answer is the stored order");
    assert_eq!(placed["status"], "pending");
    assert_eq!(placed["time_zone"], "Pacific/Tahiti");
    assert_eq!(placed["lines"].as_array().unwrap().len(), 2);
    assert!(
        placed["payment_url"]
            .as_str()
            .unwrap()
            .ends_with(placed["payment_id"].as_str().unwrap())
    );
    // Asked again with the same key once paid: the order as it is now.
    let (st, _) = app.pay(&placed, "4242424242424242").await;
    assert_eq!(st, 200);
    let again: Value = checkout("two-events-1").await.unwrap().json().await.unwrap();
    let (_, read) = app
        .get_json(&format!("/api/v1/orders/{}", placed["id"]), Some(&b.access))
        .await;
    assert_eq!(again["status"], "paid");
    assert_eq!(again, read);
}

#[tokio::test]
async fn many_concurrent_buyers_never_oversell_an_event() {
    let app = spawn_app().await;
    // 9 seats left; 24 buyers each try a Duo at the same moment: exactly 4 succeed.
    app.db_exec("UPDATE events SET capacity = 9 WHERE id = 5");
    let offer = app.offer_id(5, "duo").await;
    let mut buyers = Vec::new();
    for i in 0..24 {
        let email = format!("crowd{i}@example.org");
        app.registered(&email).await;
        buyers.push(app.log_in(&email).await);
    }
    for b in &buyers {
        let (st, _) = app
            .put_json(
                "/api/v1/cart/items",
                Some(&b.access),
                &json!({ "offer_id": offer, "quantity": 1 }),
            )
            .await;
        assert_eq!(st, 200);
    }
    let mut tasks = Vec::new();
    for (i, b) in buyers.iter().enumerate() {
        let client = app.client.clone();
        let url = app.url("/api/v1/checkout");
        let access = b.access.clone();
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .bearer_auth(access)
                .header("Idempotency-Key", format!("crowd-key-{i}"))
                .send()
                .await
                .unwrap();
            let st = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            (st, body)
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let (st, body) = t.await.unwrap();
        match st {
            201 => ok += 1,
            409 => assert_eq!(body["error"]["code"], "sold_out"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(ok, 4);
    assert_eq!(app.db_i64("SELECT reserved FROM events WHERE id = 5"), 8);
    let (st, body) = app
        .put_json(
            "/api/v1/cart/items",
            Some(&buyers[0].access),
            &json!({ "offer_id": offer, "quantity": 1 }),
        )
        .await;
    assert_eq!((st, body["error"]["code"].as_str()), (409, Some("not_enough_seats")));
}

#[tokio::test]
async fn a_pending_order_that_runs_out_of_time_is_cancelled_and_its_seats_return_to_sale() {
    let app = spawn_app().await;
    let b = app.buyer("kim@example.org").await;
    let offer = app.offer_id(6, "family").await;
    let (_, order) = app.order(&b, offer, 1, "expire-me-1").await;
    assert_eq!(app.db_i64("SELECT reserved FROM events WHERE id = 6"), 4);
    app.db_exec("UPDATE orders SET expires_at = 0");
    // The background sweep (every 2 s) puts the seats back on sale.
    support::poll::until_sync("the expired hold swept", std::time::Duration::from_secs(20), || {
        (app.db_i64("SELECT reserved FROM events WHERE id = 6") == 0).then_some(())
    })
    .await;
    let (_, o) = app
        .get_json(&format!("/api/v1/orders/{}", order["id"]), Some(&b.access))
        .await;
    assert_eq!(o["status"], "cancelled");
    let (st, r) = app.pay(&order, "4242424242424242").await;
    assert_eq!((st, r["error"]["code"].as_str()), (409, Some("order_closed")));
}

#[tokio::test]
async fn refunding_a_paid_order_revokes_its_tickets_in_the_log_and_issues_no_new_code() {
    let app = spawn_app().await;
    let b = app.buyer("max@example.org").await;
    let order = app.buy(&b, 8, "solo", 2).await;
    let tickets_before = app.db_i64("SELECT count(*) FROM tickets");
    let (st, o) = app
        .post_json(
            &format!("/api/v1/orders/{}/cancel", order["id"]),
            Some(&b.access),
            &json!({}),
        )
        .await;
    assert_eq!((st, o["status"].as_str()), (200, Some("refunded")));
    assert_eq!(
        app.db_i64("SELECT count(*) FROM tickets"),
        tickets_before,
        "no new code"
    );
    assert_eq!(app.db_i64("SELECT count(*) FROM tickets WHERE status = 'valid'"), 0);
    assert_eq!(
        app.db_i64("SELECT count(*) FROM revocations WHERE kind = 'purchase' AND reason = 'refunded'"),
        1
    );
    assert_eq!(app.db_i64("SELECT reserved FROM events WHERE id = 8"), 0);
    let (_, t) = app.get_json("/api/v1/tickets", Some(&b.access)).await;
    assert!(
        t["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["status"] == "revoked" && t["qr_text"].is_null())
    );
    let (st, _) = app.get_json("/api/v1/tickets/1/qr.png", Some(&b.access)).await;
    assert_eq!(st, 409);
    let (st, r) = app
        .post_json(
            &format!("/api/v1/orders/{}/cancel", order["id"]),
            Some(&b.access),
            &json!({}),
        )
        .await;
    assert_eq!((st, r["error"]["code"].as_str()), (409, Some("order_closed")));
}

#[tokio::test]
async fn a_transfer_supersedes_the_old_code_and_signs_a_new_one_of_the_same_ticket_for_the_recipient() {
    let app = spawn_app().await;
    let giver = app.buyer("ned@example.org").await;
    let taker = app.buyer("ola@example.org").await;
    app.buy(&giver, 9, "duo", 1).await;
    let (_, t) = app.get_json("/api/v1/tickets", Some(&giver.access)).await;
    let old = t["tickets"][0].clone();
    let (st, body) = app
        .post_json(
            &format!("/api/v1/tickets/{}/transfer", old["serial"]),
            Some(&giver.access),
            &json!({ "to_email": "nobody@example.org" }),
        )
        .await;
    assert_eq!(
        st, 202,
        "an unknown recipient is invited, and the answer says nothing more: {body}"
    );
    let (st, body) = app
        .post_json(
            &format!("/api/v1/tickets/{}/transfer", old["serial"]),
            Some(&giver.access),
            &json!({ "to_email": "ola@example.org" }),
        )
        .await;
    assert_eq!(st, 202, "{body}");
    let (_, mine) = app.get_json("/api/v1/tickets", Some(&giver.access)).await;
    assert_eq!(
        mine["tickets"].as_array().unwrap().len(),
        0,
        "the giver holds it no more: {mine}"
    );
    let (_, theirs) = app.get_json("/api/v1/tickets", Some(&taker.access)).await;
    let new = &theirs["tickets"][0];
    assert_eq!(new["status"], "valid");
    assert_eq!(new["serial"], old["serial"], "the same ticket, a new code");
    let claims = verify(&app, new["qr_text"].as_str().unwrap());
    assert_eq!((claims.offer, claims.generation, claims.admits), (Offer::Duo, 1, 2));
    assert_ne!(new["qr_text"], old["qr_text"]);
    assert_eq!(
        app.db_i64(&format!(
            "SELECT count(*) FROM revocations WHERE kind = 'superseded' AND serial = {} AND generation = 1 AND reason = 'transferred'",
            old["serial"]
        )),
        1
    );
    // The giver can no longer refund the order.
    let (_, orders) = app.get_json("/api/v1/orders", Some(&giver.access)).await;
    let id = orders["orders"][0]["id"].clone();
    let (st, _) = app
        .post_json(&format!("/api/v1/orders/{id}/cancel"), Some(&giver.access), &json!({}))
        .await;
    assert_eq!(st, 409);
}

#[tokio::test]
async fn a_guest_cart_sent_at_login_is_merged_into_the_account_cart() {
    let app = spawn_app().await;
    app.registered("pia@example.org").await;
    let solo = app.offer_id(10, "solo").await;
    let duo = app.offer_id(11, "duo").await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "email": "pia@example.org", "password": PASSWORD,
                       "cart": [{ "offer_id": solo, "quantity": 2 }, { "offer_id": duo, "quantity": 1 }, { "offer_id": 99999, "quantity": 1 }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let access = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, cart) = app.get_json("/api/v1/cart", Some(&access)).await;
    let items = cart["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{cart}");
    assert_eq!(items[0]["quantity"], 2);
}

#[tokio::test]
async fn a_paid_order_left_without_tickets_by_a_crash_gets_them_at_the_next_start() {
    let app = spawn_app().await;
    let b = app.buyer("quinn@example.org").await;
    let offer = app.offer_id(12, "duo").await;
    let (_, order) = app.order(&b, offer, 3, "crash-test-key").await;
    // Simulate a crash after the order became paid but before issuance committed (e.g. data
    // from an older build): paid, no purchase.
    app.db_exec(&format!(
        "UPDATE orders SET status = 'paid', paid_at = 1 WHERE id = {}",
        order["id"]
    ));
    assert_eq!(app.db_i64("SELECT count(*) FROM tickets"), 0);
    let app2 = app.restart().await;
    assert_eq!(app2.db_i64("SELECT count(*) FROM tickets WHERE status = 'valid'"), 3);
}

#[tokio::test]
async fn the_openapi_document_lists_every_operation_and_each_is_routed() {
    let app = spawn_app().await;
    let (st, doc) = app.get_json("/api/v1/openapi.json", None).await;
    assert_eq!(st, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut n = 0;
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            n += 1;
            let url = app.url(&path.replace("{id}", "1"));
            let res = app
                .client
                .request(method.to_uppercase().parse().unwrap(), url)
                .send()
                .await
                .unwrap();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            assert_ne!(
                body["error"]["message"], "no such page or API route",
                "{method} {path} is documented but not routed"
            );
        }
    }
    assert_eq!(n, og_issuer::web::openapi::OPERATIONS.len());
}

#[tokio::test]
async fn without_smtp_the_activation_mail_is_written_as_an_eml_file_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let settings = og_issuer::config::Settings::for_tests(dir.path());
    let app = og_issuer::startup::Application::build(settings).await.unwrap();
    let base = app.base_url();
    tokio::spawn(app.run_until_stopped());
    let client = support::http_client();
    let res = client
        .post(format!("{base}/api/v1/accounts"))
        .json(&json!({ "accept_terms": true, "email": "offline@example.org", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
    let mail_dir = dir.path().join("outbox-mail");
    let entry = support::poll::until_sync(".eml written to the outbox", std::time::Duration::from_secs(5), || {
        std::fs::read_dir(&mail_dir)
            .ok()?
            .filter_map(Result::ok)
            .find(|e| e.path().extension().is_some_and(|x| x == "eml"))
    })
    .await;
    let text = og_fixtures::smtp::unquote(&std::fs::read_to_string(entry.path()).unwrap());
    assert!(text.contains("To: offline@example.org") && text.contains("/activate?token="));
}

#[tokio::test]
async fn logging_out_ends_the_refresh_token_family() {
    let app = spawn_app().await;
    let b = app.buyer("uma@example.org").await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .header("cookie", format!("__Host-og_rt={}", b.refresh))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    assert!(
        set_cookie(&res, "__Host-og_rt").is_some_and(|v| v.is_empty()),
        "the cookie is cleared"
    );
    assert_eq!(refresh(&app, &b.refresh).await.status().as_u16(), 401);
}

#[tokio::test]
async fn sign_ups_from_one_address_are_rate_limited() {
    let app = spawn_app().await;
    let mut last = 0;
    for i in 0..31 {
        let (st, _) = app
            .post_json(
                "/api/v1/accounts",
                None,
                &json!({ "accept_terms": true, "email": format!("flood{i}@example.org"), "password": "zq8vw3kp" }),
            )
            .await;
        last = st;
        if i < 30 {
            assert_eq!(st, 202);
        }
    }
    assert_eq!(last, 429);
    assert_eq!(app.db_i64("SELECT count(*) FROM accounts"), 30);
}

#[tokio::test]
async fn a_purchase_shows_at_once_on_the_cached_list_the_event_and_its_page() {
    let app = spawn_app().await;
    let left =
        |v: &Value| v["events"].as_array().unwrap().iter().find(|e| e["id"] == 2).unwrap()["capacity_left"].as_i64();
    let en = og_issuer::i18n::find("en").unwrap();
    let page = |left: i64, capacity: i64| {
        format!(
            "<strong>{}</strong> of {} seats left",
            en.number(left),
            en.number(capacity)
        )
    };
    // Read everything once, so the catalogue cache holds it.
    let (_, list) = app.get_json("/api/v1/events", None).await;
    let (_, event) = app.get_json("/api/v1/events/2", None).await;
    let (before, capacity) = (left(&list).unwrap(), event["capacity"].as_i64().unwrap());
    assert_eq!(event["capacity_left"].as_i64(), Some(before));
    let html = app.get_page("/events/2", None).await;
    assert!(html.contains(&page(before, capacity)), "{html}");

    let b = app.buyer("vera@example.org").await;
    app.buy(&b, 2, "family", 1).await;

    let (_, list) = app.get_json("/api/v1/events", None).await;
    assert_eq!(left(&list), Some(before - 4));
    let (_, event) = app.get_json("/api/v1/events/2", None).await;
    assert_eq!(event["capacity_left"].as_i64(), Some(before - 4));
    let html = app.get_page("/events/2", None).await;
    assert!(html.contains(&page(before - 4, capacity)), "{html}");
}

#[tokio::test]
async fn a_card_payment_leaves_its_webhook_delivered_after_one_attempt_and_nothing_to_retry() {
    let app = spawn_app().await;
    let b = app.buyer("wes@example.org").await;
    let offer = app.offer_id(5, "solo").await;
    let (_, order) = app.order(&b, offer, 1, "one-attempt").await;
    let (_, r) = app.pay(&order, "4242424242424242").await;
    assert_eq!(r["status"], "succeeded");
    assert_eq!(
        app.db_i64("SELECT count(*) FROM webhook_outbox WHERE delivered_at IS NOT NULL AND attempts = 1"),
        1,
        "marked delivered by the commit that issued the tickets"
    );
    assert_eq!(
        app.db_i64("SELECT count(*) FROM webhook_outbox WHERE delivered_at IS NULL"),
        0
    );
}

#[tokio::test]
async fn an_offer_with_a_sale_limit_sells_no_more_than_it_and_a_cancelled_order_puts_its_tickets_back_on_sale() {
    let app = spawn_app().await;
    let op = app.operator();
    let day = og_issuer::now() + 30 * 86_400;
    let (st, e) = app
        .post_json(
            "/api/v1/ops/events",
            Some(&op),
            &json!({ "sport": "Rowing", "name": "Limited Duo Final", "venue": "Vaires-sur-Marne",
                     "starts_at": day, "doors_open": day - 3600, "doors_close": day + 7200,
                     "capacity": 100, "zones": ["Grandstand"], "offers": { "solo": 1000, "duo": 3000 },
                     "offer_capacity": { "duo": 2 } }),
        )
        .await;
    assert_eq!(st, 201, "{e}");
    let id = e["id"].as_i64().unwrap();
    let (solo, duo) = (app.offer_id(id, "solo").await, app.offer_id(id, "duo").await);
    let left = |ev: &Value, kind: &str| {
        ev["offers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == kind)
            .unwrap()["tickets_left"]
            .clone()
    };
    let (_, ev) = app.get_json(&format!("/api/v1/events/{id}"), None).await;
    assert_eq!((left(&ev, "duo"), left(&ev, "solo")), (json!(2), Value::Null));

    let a = app.buyer("limit-a@example.org").await;
    let b = app.buyer("limit-b@example.org").await;
    let (st, order_a) = app.order(&a, duo, 2, "limit-a-duo-0001").await;
    assert_eq!(st, 201, "{order_a}");
    // The event has 96 seats left, but the Duo's two tickets are taken.
    let (st, refused) = app.order(&b, duo, 1, "limit-b-duo-0001").await;
    assert_eq!(st, 409, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("0 duo tickets are left"),
        "{refused}"
    );
    let (_, ev) = app.get_json(&format!("/api/v1/events/{id}"), None).await;
    assert_eq!((left(&ev, "duo"), ev["capacity_left"].clone()), (json!(0), json!(96)));
    let (st, order_b) = app.order(&b, solo, 1, "limit-b-solo-0001").await;
    assert_eq!(st, 201, "the other offer still sells: {order_b}");

    // An operator cannot set the limit below what buyers hold.
    let event = format!("/api/v1/ops/events/{id}");
    let (st, body) = app
        .patch_json(&event, Some(&op), &json!({ "offer_capacity": { "duo": 1 } }))
        .await;
    assert_eq!(st, 409);
    assert!(body.to_string().contains("capacity_below_sold"));

    // A's order cancelled: its two Duos are on sale again, and B gets them.
    let (st, body) = app
        .post_json(
            &format!("/api/v1/orders/{}/cancel", order_a["id"]),
            Some(&a.access),
            &json!({}),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let (_, ev) = app.get_json(&format!("/api/v1/events/{id}"), None).await;
    assert_eq!(left(&ev, "duo"), json!(2));
    let (st, order_b2) = app.order(&b, duo, 2, "limit-b-duo-0002").await;
    assert_eq!(st, 201, "{order_b2}");

    // Lifting the limit: only the event's capacity counts again.
    let (st, _) = app
        .patch_json(&event, Some(&op), &json!({ "offer_capacity": { "duo": null } }))
        .await;
    assert_eq!(st, 200);
    let (_, ev) = app.get_json(&format!("/api/v1/events/{id}"), None).await;
    assert_eq!(left(&ev, "duo"), Value::Null);
}

#[tokio::test]
async fn a_checkout_short_of_seats_held_by_an_expired_order_gets_them() {
    let app = spawn_app().await;
    app.db_exec("UPDATE events SET capacity = 4 WHERE id = 6");
    let family = app.offer_id(6, "family").await;
    let lea = app.buyer("lea-late@example.org").await;
    let (st, _) = app
        .put_json(
            "/api/v1/cart/items",
            Some(&lea.access),
            &json!({ "offer_id": family, "quantity": 1 }),
        )
        .await;
    assert_eq!(st, 200, "the last four seats fit in Lea's cart");
    let kim = app.buyer("kim-first@example.org").await;
    let (st, _) = app.order(&kim, family, 1, "kim-takes-the-last").await;
    assert_eq!(st, 201, "Kim checks out first and holds them");
    app.db_exec("UPDATE orders SET expires_at = 0");
    let res = app
        .client
        .post(app.url("/api/v1/checkout"))
        .bearer_auth(&lea.access)
        .header("Idempotency-Key", "lea-gets-them-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201, "Kim's hold ran out: Lea gets the seats");
    assert_eq!(app.db_i64("SELECT reserved FROM events WHERE id = 6"), 4);
    assert_eq!(app.db_i64("SELECT count(*) FROM orders WHERE status = 'cancelled'"), 1);
}
