//! The ticket lifecycle through the real HTTP API (issue 10): a ticket admits exactly what was
//! sold for it, whatever happens to it. Each test names what a buyer, an operator or a gate
//! would notice; the first seven are the cases the review reproduced on the old main.

mod support;

use og_shared::Offer;
use og_shared::sync::{Direction, EnrollResponse, ScanBatch, ScanReport, VerdictCode};
use serde_json::{Value, json};
use support::{Buyer, TestApp, spawn_app};

/// Event 2 of the demo catalogue: its doors open tomorrow.
const LATER: i64 = 2;

async fn enrolled_gate(app: &TestApp, op: &str, event: i64) -> EnrollResponse {
    let (st, t) = post_bearer(
        app,
        "/api/v1/ops/enrolment-tokens",
        op,
        &json!({ "event_ids": [event] }),
    )
    .await;
    assert_eq!(st, 201, "{t}");
    let (st, d) = app
        .post_json(
            "/api/v1/devices/enroll",
            None,
            &json!({ "token": t["token"], "name": "north-3", "software_version": "test" }),
        )
        .await;
    assert_eq!(st, 200, "{d}");
    serde_json::from_value(d).unwrap()
}

async fn post_bearer(app: &TestApp, path: &str, bearer: &str, body: &Value) -> (u16, Value) {
    app.post_json(path, Some(bearer), body).await
}

async fn patch_event(app: &TestApp, op: &str, event: i64, body: Value) {
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/ops/events/{event}")))
        .bearer_auth(op)
        .json(&body)
        .send()
        .await
        .unwrap();
    let st = res.status().as_u16();
    assert_eq!(st, 200, "{}", res.text().await.unwrap());
}

/// A gate reports `people` entries of a ticket (code generation `generation`).
async fn gate_admits(app: &TestApp, gate: &EnrollResponse, event: i64, serial: u32, generation: u8, people: u8) {
    let reports = (0..people)
        .map(|i| ScanReport {
            nonce: format!("{:032x}", rand_u128() ^ u128::from(i)),
            scanned_at: og_issuer::now() - 5,
            verdict: VerdictCode::Admitted,
            reason: "ok".into(),
            event_id: Some(event as u32),
            serial: Some(serial),
            generation,
            offer: None,
            admitted_index: Some(i + 1),
            gate: "north-3".into(),
            zone: None,
            direction: Direction::Entry,
            offline: false,
        })
        .collect();
    let batch = ScanBatch {
        sent_at: og_issuer::now(),
        queued: 0,
        software_version: "test".into(),
        reports,
    };
    let (st, ack) = post_bearer(
        app,
        "/api/v1/device/scans",
        &gate.credential,
        &serde_json::to_value(&batch).unwrap(),
    )
    .await;
    assert_eq!(st, 200, "{ack}");
    assert_eq!(ack["accepted"].as_array().unwrap().len(), usize::from(people), "{ack}");
}

fn rand_u128() -> u128 {
    u128::from_le_bytes(og_issuer::trust::keys::random_32()[..16].try_into().unwrap())
}

async fn tickets_of(app: &TestApp, b: &Buyer) -> Vec<Value> {
    let (st, t) = app.get_json("/api/v1/tickets", Some(&b.access)).await;
    assert_eq!(st, 200);
    t["tickets"].as_array().unwrap().clone()
}

async fn serials_of_order(app: &TestApp, b: &Buyer, order: &Value) -> Vec<u32> {
    let (_, o) = app
        .get_json(&format!("/api/v1/orders/{}", order["id"]), Some(&b.access))
        .await;
    o["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["serial"].as_u64().unwrap() as u32)
        .collect()
}

async fn refund(app: &TestApp, b: &Buyer, order: &Value) -> (u16, Value) {
    app.post_json(
        &format!("/api/v1/orders/{}/cancel", order["id"]),
        Some(&b.access),
        &json!({}),
    )
    .await
}

async fn transfer(app: &TestApp, b: &Buyer, serial: u32, to: &str) -> (u16, Value) {
    app.post_json(
        &format!("/api/v1/tickets/{serial}/transfer"),
        Some(&b.access),
        &json!({ "to_email": to }),
    )
    .await
}

async fn refunds_due(app: &TestApp, op: &str) -> Vec<Value> {
    let res = app
        .client
        .get(app.url("/api/v1/ops/refunds-due?all=true"))
        .bearer_auth(op)
        .send()
        .await
        .unwrap();
    res.json::<Vec<Value>>().await.unwrap()
}

#[tokio::test]
async fn a_buyer_cannot_refund_an_order_once_a_gate_reported_an_entry_even_before_the_refund_deadline() {
    let app = spawn_app().await;
    let op = app.operator();
    // Refunds stay open until the doors close for this event, so only the entry can stop them.
    let closes: i64 = app.db_i64("SELECT doors_close FROM events WHERE id = 2");
    patch_event(&app, &op, LATER, json!({ "refund_deadline": closes })).await;
    let b = app.buyer("fam@example.org").await;
    let order = app.buy(&b, LATER, "family", 1).await;
    let serial = serials_of_order(&app, &b, &order).await[0];
    let gate = enrolled_gate(&app, &op, LATER).await;
    gate_admits(&app, &gate, LATER, serial, 0, 1).await;

    let (st, body) = refund(&app, &b, &order).await;
    assert_eq!(st, 409, "{body}");
    assert_eq!(body["error"]["code"], "ticket_used");
    let (_, o) = app
        .get_json(&format!("/api/v1/orders/{}", order["id"]), Some(&b.access))
        .await;
    assert_eq!(o["status"], "paid");
    assert_eq!(o["refund"]["code"], "ticket_used", "{o}");
}

#[tokio::test]
async fn a_refund_after_the_doors_open_is_refused_with_a_clear_message() {
    let app = spawn_app().await;
    let b = app.buyer("late@example.org").await;
    // Event 1's doors are open already.
    let order = app.buy(&b, 1, "solo", 1).await;
    let (st, body) = refund(&app, &b, &order).await;
    assert_eq!(st, 409, "{body}");
    assert_eq!(body["error"]["code"], "refund_deadline_passed");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("deadline"),
        "{body}"
    );
}

#[tokio::test]
async fn a_fully_used_duo_cannot_be_given_away_and_a_half_used_one_gives_only_the_place_left() {
    let app = spawn_app().await;
    let op = app.operator();
    let closes: i64 = app.db_i64("SELECT doors_close FROM events WHERE id = 2");
    patch_event(&app, &op, LATER, json!({ "transfer_deadline": closes })).await;
    let alice = app.buyer("alice@example.org").await;
    let bob = app.buyer("bob@example.org").await;
    let order = app.buy(&alice, LATER, "duo", 2).await;
    let serials = serials_of_order(&app, &alice, &order).await;
    let gate = enrolled_gate(&app, &op, LATER).await;
    gate_admits(&app, &gate, LATER, serials[0], 0, 2).await;
    gate_admits(&app, &gate, LATER, serials[1], 0, 1).await;

    let (st, body) = transfer(&app, &alice, serials[0], "bob@example.org").await;
    assert_eq!(st, 409, "{body}");
    assert_eq!(body["error"]["code"], "ticket_used");

    let (st, body) = transfer(&app, &alice, serials[1], "bob@example.org").await;
    assert_eq!(st, 202, "{body}");
    let bobs = tickets_of(&app, &bob).await;
    assert_eq!(bobs[0]["serial"], serials[1], "the same ticket: {}", bobs[0]);
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0]["left"], 1, "Bob sees 'Duo, 1 of 2 left': {}", bobs[0]);
    assert_eq!(bobs[0]["admits"], 2);
    let qr = bobs[0]["qr_text"].as_str().unwrap();
    let trust = og_shared::TrustStore::new(app.state.signer.deployment().clone())
        .with(app.state.signer.trusted_key(0, i64::MAX));
    let claims = og_shared::verify_qr_text(qr.as_bytes(), &trust, og_issuer::now())
        .unwrap()
        .claims;
    assert_eq!(
        (claims.serial, claims.generation, claims.offer, claims.admits),
        (serials[1], 1, Offer::Duo, 1)
    );
    // The old code is superseded in the log gates read.
    assert_eq!(
        app.db_i64(&format!(
            "SELECT count(*) FROM revocations WHERE kind = 'superseded' AND serial = {} AND generation = 1",
            serials[1]
        )),
        1
    );
}

#[tokio::test]
async fn a_buyers_own_refund_records_the_money_owed_per_ticket_in_the_same_transaction_as_the_revocation() {
    let app = spawn_app().await;
    let op = app.operator();
    let b = app.buyer("refund@example.org").await;
    let order = app.buy(&b, LATER, "duo", 2).await;
    let (st, body) = refund(&app, &b, &order).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["status"], "refunded");
    let due = refunds_due(&app, &op).await;
    let mine: Vec<&Value> = due.iter().filter(|r| r["order_id"] == order["id"]).collect();
    assert_eq!(mine.len(), 2, "{due:?}");
    assert!(mine.iter().all(|r| r["reason"] == "buyer_refund"));
    let paid: i64 = mine.iter().map(|r| r["amount_cents"].as_i64().unwrap()).sum();
    assert_eq!(paid, order["total_cents"].as_i64().unwrap());
    for t in tickets_of(&app, &b).await {
        assert_eq!(t["status"], "revoked");
        assert!(t["explanation"].as_str().unwrap().contains("Refunded"), "{t}");
    }
}

#[tokio::test]
async fn a_cancelled_event_is_off_sale_in_the_catalogue_the_event_page_the_cart_and_says_so() {
    let app = spawn_app().await;
    let op = app.operator();
    patch_event(&app, &op, LATER, json!({ "status": "cancelled" })).await;
    let (_, ev) = app.get_json("/api/v1/events/2", None).await;
    assert_eq!(ev["sale"]["state"], "cancelled", "{ev}");
    let catalogue = app.get_page("/", None).await;
    let card = catalogue_card(&catalogue, "href=\"/events/2\"");
    assert!(card.contains("cancelled"), "{card}");
    assert!(!card.contains("Choose tickets"), "{card}");
    let page = app.get_page("/events/2", None).await;
    assert!(page.contains("This event is cancelled"), "{page}");
    assert!(!page.contains("to cart"), "no way to add a cancelled event to a cart");
    let b = app.buyer("c@example.org").await;
    let offer = app.offer_id(LATER, "solo").await;
    let (st, body) = app
        .put_json(
            "/api/v1/cart/items",
            Some(&b.access),
            &json!({ "offer_id": offer, "quantity": 1 }),
        )
        .await;
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (409, Some("event_cancelled")),
        "{body}"
    );
}

/// The catalogue card (an `<article>`) that contains `needle`.
fn catalogue_card(html: &str, needle: &str) -> String {
    html.split("<article")
        .find(|a| a.contains(needle))
        .unwrap_or_else(|| panic!("no card with {needle}"))
        .split("</article>")
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn complimentary_tickets_take_seats_and_cannot_overbook_unless_an_operator_forces_it_with_a_reason() {
    let app = spawn_app().await;
    let op = app.operator();
    patch_event(&app, &op, LATER, json!({ "capacity": 10 })).await;
    let (st, body) = post_bearer(
        &app,
        "/api/v1/ops/comps",
        &op,
        &json!({ "event_id": LATER, "offer": "family", "email": "press@example.org", "count": 2 }),
    )
    .await;
    assert_eq!(st, 201, "{body}");
    let (_, ev) = app.get_json("/api/v1/events/2", None).await;
    assert_eq!(ev["capacity_left"], 2, "8 of 10 seats went to comps");
    let (st, body) = post_bearer(
        &app,
        "/api/v1/ops/comps",
        &op,
        &json!({ "event_id": LATER, "offer": "family", "email": "press@example.org" }),
    )
    .await;
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (409, Some("not_enough_seats")),
        "{body}"
    );
    let (st, body) = post_bearer(
        &app,
        "/api/v1/ops/comps",
        &op,
        &json!({ "event_id": LATER, "offer": "family", "email": "press@example.org", "force_reason": "minister's family" }),
    )
    .await;
    assert_eq!(st, 201, "{body}");
    assert_eq!(app.db_i64("SELECT capacity FROM events WHERE id = 2"), 12);
    assert_eq!(
        app.db_i64(
            "SELECT count(*) FROM capacity_overrides WHERE event_id = 2 AND seats = 2 AND reason = 'minister''s family'"
        ),
        1
    );
}

#[tokio::test]
async fn after_a_transfer_the_order_says_where_the_ticket_went_and_offers_no_refund() {
    let app = spawn_app().await;
    let alice = app.buyer("giver@example.org").await;
    app.registered("taker@example.org").await;
    let order = app.buy(&alice, LATER, "solo", 1).await;
    let serial = serials_of_order(&app, &alice, &order).await[0];
    let (st, body) = transfer(&app, &alice, serial, "taker@example.org").await;
    assert_eq!(st, 202, "{body}");

    let (_, o) = app
        .get_json(&format!("/api/v1/orders/{}", order["id"]), Some(&alice.access))
        .await;
    assert_eq!(o["refund"]["code"], "ticket_transferred", "{o}");
    let (st, body) = refund(&app, &alice, &order).await;
    assert_eq!((st, body["error"]["code"].as_str()), (409, Some("ticket_transferred")));

    let cookie = format!("__Host-og_at={}", alice.access);
    let page = app.get_page(&format!("/orders/{}", order["id"]), Some(&cookie)).await;
    assert!(page.contains("given to taker@example.org"), "{page}");
    assert!(!page.contains("Refund this order"), "no refund button after a transfer");
    let mine = app.get_page("/tickets", Some(&cookie)).await;
    assert!(
        mine.contains("Tickets you gave away") && mine.contains("taker@example.org"),
        "{mine}"
    );
}

#[tokio::test]
async fn refund_and_transfer_in_a_browser_ask_for_confirmation_first() {
    let app = spawn_app().await;
    let alice = app.buyer("careful@example.org").await;
    app.registered("friend@example.org").await;
    let order = app.buy(&alice, LATER, "duo", 1).await;
    let serial = serials_of_order(&app, &alice, &order).await[0];
    let cookie = format!("__Host-og_at={}; {}", alice.access, support::csrf_cookie());
    let csrf = app.csrf_token(&cookie);

    let res = app
        .client
        .post(app.url(&format!("/orders/{}/cancel", order["id"])))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("/orders/{}/refund", order["id"]).as_str()
    );
    let confirm = app
        .get_page(&format!("/orders/{}/refund", order["id"]), Some(&cookie))
        .await;
    assert!(confirm.contains("Yes, refund order"), "{confirm}");
    let (_, o) = app
        .get_json(&format!("/api/v1/orders/{}", order["id"]), Some(&alice.access))
        .await;
    assert_eq!(o["status"], "paid", "nothing happens before the confirmation");

    let res = app
        .client
        .post(app.url(&format!("/tickets/{serial}/transfer")))
        .header("cookie", &cookie)
        .form(&[("email", "friend@example.org"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(text.contains("Yes, give it to friend@example.org"), "{text}");
    assert_eq!(
        tickets_of(&app, &alice).await.len(),
        1,
        "still Alice's before she confirms"
    );
    let res = app
        .client
        .post(app.url(&format!("/tickets/{serial}/transfer")))
        .header("cookie", &cookie)
        .form(&[
            ("email", "friend@example.org"),
            ("confirm", "yes"),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Ticket sent"));
    assert!(tickets_of(&app, &alice).await.is_empty());
}

#[tokio::test]
async fn sales_close_when_the_doors_close_for_the_cart_and_the_checkout() {
    let app = spawn_app().await;
    let op = app.operator();
    let b = app.buyer("slow@example.org").await;
    let offer = app.offer_id(LATER, "solo").await;
    let (st, _) = app
        .put_json(
            "/api/v1/cart/items",
            Some(&b.access),
            &json!({ "offer_id": offer, "quantity": 1 }),
        )
        .await;
    assert_eq!(st, 200);
    // The event took place yesterday: its doors closed 22 hours ago.
    let now = og_issuer::now();
    patch_event(
        &app,
        &op,
        LATER,
        json!({ "starts_at": now - 26 * 3600, "doors_open": now - 28 * 3600, "doors_close": now - 22 * 3600 }),
    )
    .await;
    let res = app
        .client
        .post(app.url("/api/v1/checkout"))
        .bearer_auth(&b.access)
        .header("Idempotency-Key", "late-checkout-key-000000000000000000000")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "sales_closed", "{body}");
    let (_, ev) = app.get_json("/api/v1/events/2", None).await;
    assert_eq!(ev["sale"]["state"], "closed");
    let page = app.get_page("/events/2", None).await;
    assert!(page.contains("Sales are closed"), "{page}");
}

#[tokio::test]
async fn an_operator_refund_after_entry_is_recorded_with_its_reason_and_revokes_what_is_left() {
    let app = spawn_app().await;
    let op = app.operator();
    let b = app.buyer("angry@example.org").await;
    let order = app.buy(&b, 1, "family", 1).await;
    let serial = serials_of_order(&app, &b, &order).await[0];
    let gate = enrolled_gate(&app, &op, 1).await;
    gate_admits(&app, &gate, 1, serial, 0, 2).await;

    let (st, body) = post_bearer(
        &app,
        &format!("/api/v1/ops/tickets/{serial}/refund"),
        &op,
        &json!({ "reason": "" }),
    )
    .await;
    assert_eq!((st, body["error"]["code"].as_str()), (400, Some("reason_required")));
    let (st, due) = post_bearer(
        &app,
        &format!("/api/v1/ops/tickets/{serial}/refund"),
        &op,
        &json!({ "reason": "two seats had no view" }),
    )
    .await;
    assert_eq!(st, 201, "{due}");
    assert_eq!(due["reason"], "operator_decision");
    assert_eq!(due["note"], "two seats had no view");
    assert_eq!(due["decided_by"], "ops@example.org");
    assert_eq!(due["serial"], serial);
    let t = &tickets_of(&app, &b).await[0];
    assert_eq!(t["status"], "revoked");
    assert!(t["qr_text"].is_null());
    assert_eq!(
        t["uses"].as_array().unwrap().len(),
        2,
        "the entries stay on record: {t}"
    );
    let (st, body) = post_bearer(
        &app,
        &format!("/api/v1/ops/tickets/{serial}/refund"),
        &op,
        &json!({ "reason": "again" }),
    )
    .await;
    assert_eq!((st, body["error"]["code"].as_str()), (409, Some("ticket_refunded")));
    assert_eq!(
        refunds_due(&app, &op)
            .await
            .iter()
            .filter(|r| r["serial"] == serial)
            .count(),
        1
    );
    // Operators read the whole story of the ticket.
    let res = app
        .client
        .get(app.url(&format!("/api/v1/ops/tickets/{serial}")))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap();
    let h: Value = res.json().await.unwrap();
    assert_eq!(h["ticket"]["uses"].as_array().unwrap().len(), 2, "{h}");
    assert_eq!(h["refund"]["note"], "two seats had no view");
    assert_eq!(h["holder_email"], "angry@example.org");
}

#[tokio::test]
async fn a_ticket_page_shows_where_and_when_it_was_used() {
    let app = spawn_app().await;
    let op = app.operator();
    let b = app.buyer("used@example.org").await;
    let order = app.buy(&b, 1, "duo", 1).await;
    let serial = serials_of_order(&app, &b, &order).await[0];
    let gate = enrolled_gate(&app, &op, 1).await;
    gate_admits(&app, &gate, 1, serial, 0, 1).await;
    let cookie = format!("__Host-og_at={}", b.access);
    let page = app.get_page(&format!("/tickets/{serial}"), Some(&cookie)).await;
    assert!(page.contains("Used at north-3"), "{page}");
    assert!(page.contains("1 of 2 places left"), "{page}");
}

#[tokio::test]
async fn a_refund_a_transfer_and_a_gate_report_racing_on_one_ticket_end_in_one_consistent_state() {
    let app = spawn_app().await;
    let op = app.operator();
    let closes: i64 = app.db_i64("SELECT doors_close FROM events WHERE id = 2");
    patch_event(
        &app,
        &op,
        LATER,
        json!({ "refund_deadline": closes, "transfer_deadline": closes }),
    )
    .await;
    let gate = enrolled_gate(&app, &op, LATER).await;
    app.registered("racer-b@example.org").await;
    for round in 0..6 {
        let a = app.buyer(&format!("racer-{round}@example.org")).await;
        let order = app.buy(&a, LATER, "solo", 1).await;
        let serial = serials_of_order(&app, &a, &order).await[0];
        let (r, t, ()) = tokio::join!(
            refund(&app, &a, &order),
            transfer(&app, &a, serial, "racer-b@example.org"),
            async {
                if round % 2 == 0 {
                    gate_admits(&app, &gate, LATER, serial, 0, 1).await
                }
            }
        );
        assert!(r.0 < 500 && t.0 < 500, "no server error: {r:?} {t:?}");
        let refunded = r.0 == 200;
        let transferred = t.0 == 202;
        assert!(!(refunded && transferred), "refunded and transferred: {r:?} {t:?}");
        let used = app.db_i64(&format!("SELECT count(*) FROM admissions WHERE serial = {serial}"));
        let due = app.db_i64(&format!("SELECT count(*) FROM refunds_due WHERE serial = {serial}"));
        assert_eq!(due, i64::from(refunded), "money owed back once, and only if refunded");
        if refunded {
            assert_eq!(
                app.db_i64(&format!(
                    "SELECT count(*) FROM ticket_transfers WHERE serial = {serial}"
                )),
                0
            );
        }
        if used > 0 && refunded {
            // The refund won the race: the entry was reported after it (the gate could not know).
            let refunded_at = app.db_i64(&format!("SELECT revoked_at FROM tickets WHERE serial = {serial}"));
            assert!(refunded_at > 0);
        }
    }
}

#[tokio::test]
async fn giving_a_ticket_answers_the_same_whether_or_not_the_recipient_has_an_account_and_a_newcomer_claims_it_by_mail()
{
    let app = spawn_app().await;
    let alice = app.buyer("sender@example.org").await;
    app.registered("member@example.org").await;
    app.buy(&alice, LATER, "solo", 2).await;
    let serials: Vec<u32> = tickets_of(&app, &alice)
        .await
        .iter()
        .map(|t| t["serial"].as_u64().unwrap() as u32)
        .collect();
    let known = transfer(&app, &alice, serials[0], "member@example.org").await;
    let unknown = transfer(&app, &alice, serials[1], "newcomer@example.org").await;
    assert_eq!(known, unknown, "nothing tells the sender who has an account");
    assert_eq!(known.0, 202);
    // The newcomer is invited by mail; the ticket stays with Alice until claimed.
    let mail = app.smtp.wait_for("newcomer@example.org", "/claim?token=").await;
    let token = support::token_in(&mail, "/claim?token=");
    assert_eq!(tickets_of(&app, &alice).await.len(), 1);
    let newcomer = app.buyer("newcomer@example.org").await;
    let stranger = app.buyer("stranger@example.org").await;
    let (st, _) = app
        .post_json(
            "/api/v1/transfers/claim",
            Some(&stranger.access),
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(st, 403, "an invitation is for its addressee only");
    let (st, body) = app
        .post_json(
            "/api/v1/transfers/claim",
            Some(&newcomer.access),
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["serial"], serials[1]);
    assert!(tickets_of(&app, &alice).await.is_empty());
    assert_eq!(tickets_of(&app, &newcomer).await.len(), 1);
    let (st, _) = app
        .post_json(
            "/api/v1/transfers/claim",
            Some(&newcomer.access),
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(st, 410, "an invitation is used once");
}
