//! Money the issuer took but cannot honour becomes a refund due that operators see and settle:
//! a late payment for a closed order, a payment for an event cancelled meanwhile, and the paid
//! orders of an event an operator cancels. None of them is refused to the payment processor
//! (which would retry forever), and none issues a ticket that works.

mod support;

use serde_json::{Value, json};
use support::{TestApp, spawn_app};

async fn refunds(app: &TestApp, op: &str, all: bool) -> Vec<Value> {
    let (st, list) = app
        .get_json(&format!("/api/v1/ops/refunds-due?all={all}"), Some(op))
        .await;
    assert_eq!(st, 200, "{list}");
    list.as_array().unwrap().clone()
}

async fn cancel_event(app: &TestApp, op: &str, event: i64) {
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/ops/events/{event}")))
        .bearer_auth(op)
        .json(&json!({ "status": "cancelled" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test]
async fn a_card_paid_for_an_event_cancelled_meanwhile_is_acknowledged_issues_nothing_and_is_owed_back() {
    let app = spawn_app().await;
    let op = app.operator();
    let b = app.buyer("ivy@example.org").await;
    let offer = app.offer_id(6, "family").await;
    let (_, order) = app.order(&b, offer, 1, "cancelled-meanwhile").await;
    assert_eq!(app.db_i64("SELECT reserved FROM events WHERE id = 6"), 4);
    cancel_event(&app, &op, 6).await;

    let (st, paid) = app.pay(&order, "4242 4242 4242 4242").await;
    assert_eq!(st, 200, "{paid}");
    let (_, o) = app
        .get_json(&format!("/api/v1/orders/{}", order["id"]), Some(&b.access))
        .await;
    assert_eq!(o["status"], "cancelled");
    assert_eq!(app.db_i64("SELECT count(*) FROM tickets"), 0, "no ticket signed");
    assert_eq!(
        app.db_i64("SELECT reserved FROM events WHERE id = 6"),
        0,
        "seats released"
    );
    assert_eq!(
        app.db_i64("SELECT count(*) FROM webhook_outbox WHERE delivered_at IS NULL"),
        0,
        "the processor's webhook was accepted, not left to retry"
    );
    let due = refunds(&app, &op, false).await;
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(due[0]["order_id"], order["id"]);
    assert_eq!(due[0]["reason"], "event_cancelled");
    assert_eq!(due[0]["amount_cents"], order["total_cents"]);
    assert_eq!(due[0]["buyer_email"], "ivy@example.org");
    let mail = app.smtp.wait_for("ivy@example.org", "will be refunded").await;
    assert!(mail.contains("after its event was cancelled"), "{mail}");
}

#[tokio::test]
async fn a_payment_that_arrives_after_its_order_closed_is_owed_back_once() {
    let app = spawn_app().await;
    let op = app.operator();
    let b = app.buyer("jon@example.org").await;
    let offer = app.offer_id(3, "solo").await;
    let (_, order) = app.order(&b, offer, 1, "paid-too-late").await;
    // The hold ran out while the processor was still confirming the card.
    app.db_exec(&format!(
        "UPDATE orders SET status = 'cancelled' WHERE id = {}",
        order["id"]
    ));
    let now = og_issuer::now();
    for id in ["evt_late_1", "evt_late_2"] {
        let body = json!({ "id": id, "type": "payment.succeeded", "payment_id": order["payment_id"],
                           "amount_cents": order["total_cents"], "created": now })
        .to_string();
        let (st, r) = app.post_webhook(Some(app.signed_webhook(now, &body)), &body).await;
        assert_eq!(st, 200, "{r}");
    }
    let due = refunds(&app, &op, false).await;
    assert_eq!(due.len(), 1, "one refund however often the processor says it: {due:?}");
    assert_eq!(due[0]["reason"], "order_closed");
    assert_eq!(due[0]["amount_cents"], order["total_cents"]);
    assert_eq!(app.db_i64("SELECT count(*) FROM tickets"), 0);
    let mail = app.smtp.wait_for("jon@example.org", "will be refunded").await;
    assert!(mail.contains("after the order had expired"), "{mail}");
    let told = app
        .smtp
        .messages()
        .iter()
        .filter(|m| m.contains("will be refunded"))
        .count();
    assert_eq!(told, 1, "told once, however often the processor says it");
}

#[tokio::test]
async fn cancelling_an_event_owes_its_buyers_their_money_and_operators_settle_each_refund_once() {
    let app = spawn_app().await;
    let op = app.operator();
    let b = app.buyer("kai@example.org").await;
    let order = app.buy(&b, 8, "solo", 2).await;
    let other = app.buy(&b, 9, "solo", 1).await;
    assert_eq!(app.db_i64("SELECT count(*) FROM tickets WHERE status = 'valid'"), 3);
    cancel_event(&app, &op, 8).await;

    assert_eq!(
        app.db_i64("SELECT count(*) FROM tickets WHERE status = 'valid'"),
        1,
        "the cancelled event's tickets are revoked, the other event's are not"
    );
    let due = refunds(&app, &op, false).await;
    assert_eq!(due.len(), 2, "one refund per ticket: {due:?}");
    assert!(
        due.iter()
            .all(|d| d["order_id"] == order["id"] && d["order_id"] != other["id"])
    );
    let owed: i64 = due.iter().map(|d| d["amount_cents"].as_i64().unwrap()).sum();
    assert_eq!(owed, order["total_cents"].as_i64().unwrap());
    // The buyer is told by mail, with the amount owed.
    let total = order["total_cents"].as_i64().unwrap();
    let amount = format!("{}.{:02} EUR of order {}", total / 100, total % 100, order["id"]);
    let mail = app.smtp.wait_for("kai@example.org", "is cancelled").await;
    assert!(mail.contains(&amount), "{mail}");
    assert!(mail.contains("no longer open the gates"), "{mail}");

    let id = due[0]["id"].as_i64().unwrap();

    // The console lists it and settles it.
    let jar = app.console_cookie(&op).await;
    let html = app.get_page("/ops/refunds", Some(&jar)).await;
    assert!(
        html.contains("kai@example.org") && html.contains("event cancelled"),
        "{html}"
    );
    let settle = app
        .client
        .post(app.url(&format!("/ops/refunds/{id}/settle")))
        .header("cookie", &jar)
        .form(&[("csrf", app.csrf_token(&jar))])
        .send()
        .await
        .unwrap();
    assert_eq!(settle.status().as_u16(), 303);
    let (st, _) = app
        .post_json(
            &format!("/api/v1/ops/refunds-due/{}/settle", due[1]["id"]),
            Some(&op),
            &json!({}),
        )
        .await;
    assert_eq!(st, 200);
    let html = app.get_page("/ops/refunds", Some(&jar)).await;
    assert!(html.contains("Nothing to pay back."), "{html}");

    // The API refuses to settle it twice.
    let (st, again) = app
        .post_json(&format!("/api/v1/ops/refunds-due/{id}/settle"), Some(&op), &json!({}))
        .await;
    assert_eq!((st, again["error"]["code"].as_str()), (409, Some("already_settled")));
    let (st, _) = app
        .post_json("/api/v1/ops/refunds-due/999/settle", Some(&op), &json!({}))
        .await;
    assert_eq!(st, 404);
    assert!(refunds(&app, &op, false).await.is_empty(), "nothing left to pay back");
    assert_eq!(refunds(&app, &op, true).await.len(), 2, "the settled ones are kept");
    // A buyer's token is not an operator's.
    let (st, _) = app.get_json("/api/v1/ops/refunds-due", Some(&b.access)).await;
    assert_eq!(st, 403);
}

#[tokio::test]
async fn an_operator_cancels_an_event_from_the_console_only_after_ticking_the_confirmation() {
    let app = spawn_app().await;
    let op = app.operator();
    let jar = app.console_cookie(&op).await;
    let b = app.buyer("lou@example.org").await;
    app.buy(&b, 9, "duo", 1).await;
    let token = app.csrf_token(&jar);
    let cancel = |form: &'static [(&'static str, &'static str)]| {
        let mut form = form.to_vec();
        form.push(("csrf", &token));
        app.client
            .post(app.url("/ops/events/9/cancel"))
            .header("cookie", &jar)
            .form(&form)
            .send()
    };
    let page = app.get_page("/ops/events", Some(&jar)).await;
    assert!(page.contains("action=\"/ops/events/9/cancel\""), "{page}");

    assert_eq!(
        cancel(&[]).await.unwrap().status().as_u16(),
        400,
        "no confirmation, no change"
    );
    let (_, e) = app.get_json("/api/v1/events/9", None).await;
    assert_eq!(e["status"], "scheduled");
    assert_eq!(app.db_i64("SELECT count(*) FROM tickets WHERE status = 'valid'"), 1);

    assert_eq!(cancel(&[("confirm", "yes")]).await.unwrap().status().as_u16(), 303);
    let (_, e) = app.get_json("/api/v1/events/9", None).await;
    assert_eq!(e["status"], "cancelled");
    assert_eq!(app.db_i64("SELECT count(*) FROM tickets WHERE status = 'valid'"), 0);
    assert_eq!(refunds(&app, &op, false).await.len(), 1);
    app.smtp.wait_for("lou@example.org", "is cancelled").await;
}
