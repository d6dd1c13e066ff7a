//! The operators' audit log: every change, with who and when, committed with the change.

mod ops_support;

use og_shared::Offer;
use ops_support::spawn_app;
use serde_json::{Value, json};

fn event_body() -> Value {
    json!({ "sport": "Rowing", "name": "Women's Pair Final", "venue": "Vaires-sur-Marne",
            "starts_at": 2_000_000_000i64, "doors_open": 1_999_990_000i64, "doors_close": 2_000_010_000i64,
            "capacity": 100, "zones": ["Grandstand"], "offers": { "solo": 4500 } })
}

#[tokio::test]
async fn every_operator_change_is_in_the_audit_log_with_who_did_it_and_when() {
    let app = spawn_app().await;
    let email = "auditor@example.org";
    let op = app
        .db
        .write_sync(|tx| og_issuer::ops::auth::create_operator(tx, email, og_issuer::now()))
        .unwrap()
        .1
        .to_string();
    let before = og_issuer::now();
    let created: Value = app
        .post("/api/v1/ops/events", Some(&op), &event_body())
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_i64().unwrap();
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/ops/events/{id}")))
        .bearer_auth(&op)
        .json(&json!({ "offers": { "duo": 8000 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let comps = app
        .post(
            "/api/v1/ops/comps",
            Some(&op),
            &json!({ "event_id": 1, "offer": "solo", "email": "vip@example.org" }),
        )
        .await;
    assert_eq!(comps.status(), 201);
    let serial = app.tickets(1, Offer::Solo, 1)[0].serial;
    let revoked = app
        .post(
            "/api/v1/ops/revocations",
            Some(&op),
            &json!({ "kind": "ticket", "serial": serial, "reason": "fraud" }),
        )
        .await;
    assert_eq!(revoked.status(), 201);
    let buyer = app.buyer("cheat@example.org");
    let ban = app
        .post(
            "/api/v1/ops/revocations",
            Some(&op),
            &json!({ "kind": "account", "account_id": buyer, "reason": "account_banned" }),
        )
        .await;
    assert!(ban.status().is_success());
    let d = app.device(&op, &[1], "North 1").await;
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/ops/devices/{}", d.device_id)))
        .bearer_auth(&op)
        .json(&json!({ "name": "North 2" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = app
        .post(
            &format!("/api/v1/ops/devices/{}/revoke", d.device_id),
            Some(&op),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 204);

    let log: Vec<Value> = app.get("/api/v1/ops/audit", Some(&op)).await.json().await.unwrap();
    let mut actions: Vec<(String, String)> = log
        .iter()
        .map(|e| {
            assert_eq!(e["operator"], email, "{e}");
            assert!(e["at"].as_i64().unwrap() >= before, "{e}");
            (
                e["action"].as_str().unwrap().to_owned(),
                e["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    actions.reverse();
    let expected = [
        ("event.create", format!("event:{id}")),
        ("event.change", format!("event:{id}")),
        ("comps.issue", "event:1".to_owned()),
        ("ticket.revoke", format!("ticket:{serial}")),
        ("account.ban", format!("account:{buyer}")),
        ("device.rename", format!("device:{}", d.device_id)),
        ("device.revoke", format!("device:{}", d.device_id)),
    ];
    for (action, subject) in &expected {
        assert!(
            actions.iter().any(|(a, s)| a == action && s == subject),
            "{action} {subject} missing from {actions:?}"
        );
    }
    assert!(
        actions.iter().any(|(a, _)| a == "device.enrolment_token"),
        "{actions:?}"
    );
    let change = log.iter().find(|e| e["action"] == "event.change").unwrap();
    assert!(change["detail"].as_str().unwrap().contains("8000"), "{change}");

    // The console lists it.
    let html = app.get("/ops/audit", Some(&op)).await.text().await.unwrap();
    assert!(html.contains("event.create") && html.contains(email), "{html}");
}

#[tokio::test]
async fn a_refused_change_leaves_no_entry_in_the_audit_log() {
    let app = spawn_app().await;
    let op = app.operator();
    let mut bad = event_body();
    bad["zones"] = json!([]);
    assert_eq!(app.post("/api/v1/ops/events", Some(&op), &bad).await.status(), 400);
    let missing = app
        .post(
            "/api/v1/ops/revocations",
            Some(&op),
            &json!({ "kind": "ticket", "serial": 999_999, "reason": "fraud" }),
        )
        .await;
    assert_eq!(missing.status(), 404);
    assert_eq!(app.count("SELECT count(*) FROM ops_audit"), 0);
}
