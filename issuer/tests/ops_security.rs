//! The access matrix of every gate-operations route: who may call what, and what everybody
//! else gets. Buyers present a real-looking HS256 JWT signed with the server's own JWT secret,
//! which must not open any operator or device route.

mod ops_support;

use og_shared::Offer;
use og_shared::sync::ScanBatchAck;
use ops_support::{admission, batch, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Anonymous,
    Buyer,
    OtherBuyer,
    Operator,
    Device,
    RevokedDevice,
    OtherEventDevice,
}

const ALL: [Who; 7] = [
    Who::Anonymous,
    Who::Buyer,
    Who::OtherBuyer,
    Who::Operator,
    Who::Device,
    Who::RevokedDevice,
    Who::OtherEventDevice,
];

fn buyer_jwt(secret_hex: &str, account: i64) -> String {
    let secret = hex::decode(secret_hex.trim()).unwrap();
    let claims = json!({ "sub": account.to_string(), "iat": og_issuer::now(), "exp": og_issuer::now() + 600 });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&secret),
    )
    .unwrap()
}

#[tokio::test]
async fn every_ops_and_device_route_admits_only_who_it_should() {
    let app = spawn_app().await;
    let op = app.operator();
    let device = app.device(&op, &[1], "D").await;
    let revoked = app.device(&op, &[1], "R").await;
    let other = app.device(&op, &[2], "O").await;
    let target = app.device(&op, &[1], "T").await;
    let target2 = app.device(&op, &[1], "T2").await;
    app.post(
        &format!("/api/v1/ops/devices/{}/revoke", revoked.device_id),
        Some(&op),
        &json!({}),
    )
    .await;
    let secret = std::fs::read_to_string(app.dir.path().join("keys/jwt-secret.hex")).unwrap();
    let buyer = buyer_jwt(&secret, app.buyer("b1@example.org"));
    let other_buyer = buyer_jwt(&secret, app.buyer("b2@example.org"));
    let serial = app.tickets(1, Offer::Solo, 1)[0].serial;

    let cred = |w: Who| -> Option<String> {
        match w {
            Who::Anonymous => None,
            Who::Buyer => Some(buyer.clone()),
            Who::OtherBuyer => Some(other_buyer.clone()),
            Who::Operator => Some(op.clone()),
            Who::Device => Some(device.credential.clone()),
            Who::RevokedDevice => Some(revoked.credential.clone()),
            Who::OtherEventDevice => Some(other.credential.clone()),
        }
    };
    let ops_only = |w: Who, ok: u16| match w {
        Who::Operator => ok,
        // A signed-in buyer is known but not allowed.
        Who::Buyer | Who::OtherBuyer => 403,
        _ => 401,
    };
    let devices_only = |w: Who, ok: u16| match w {
        Who::Device | Who::OtherEventDevice => ok,
        _ => 401,
    };
    let console = |w: Who| if w == Who::Operator { 200 } else { 303 };

    let t = &target.device_id;
    let t2 = &target2.device_id;
    type Expect = Box<dyn Fn(Who) -> u16>;
    let mut cases: Vec<(Method, String, Option<Value>, Expect)> = vec![
        (
            Method::POST,
            "/api/v1/ops/enrolment-tokens".into(),
            Some(json!({ "event_ids": [1] })),
            Box::new(move |w| ops_only(w, 201)),
        ),
        (
            Method::GET,
            "/api/v1/ops/devices".into(),
            None,
            Box::new(move |w| ops_only(w, 200)),
        ),
        (
            Method::PATCH,
            format!("/api/v1/ops/devices/{t}"),
            Some(json!({ "name": "x" })),
            Box::new(move |w| ops_only(w, 204)),
        ),
        (
            Method::POST,
            format!("/api/v1/ops/devices/{t}/rotate"),
            Some(json!({})),
            Box::new(move |w| ops_only(w, 200)),
        ),
        (
            Method::POST,
            format!("/api/v1/ops/devices/{t2}/revoke"),
            Some(json!({})),
            Box::new(move |w| ops_only(w, 204)),
        ),
        (
            Method::GET,
            "/api/v1/ops/events".into(),
            None,
            Box::new(move |w| ops_only(w, 200)),
        ),
        (
            Method::POST,
            "/api/v1/ops/events".into(),
            Some(
                json!({ "sport": "S", "name": "N", "venue": "V", "starts_at": 10, "doors_open": 5,
                         "doors_close": 20, "capacity": 10, "zones": ["A"], "offers": { "solo": 100 } }),
            ),
            Box::new(move |w| ops_only(w, 201)),
        ),
        (
            Method::PATCH,
            "/api/v1/ops/events/3".into(),
            Some(json!({ "name": "Renamed" })),
            Box::new(move |w| ops_only(w, 200)),
        ),
        (
            Method::GET,
            "/api/v1/ops/events/1/scans-per-minute".into(),
            None,
            Box::new(move |w| ops_only(w, 200)),
        ),
        (
            Method::GET,
            "/api/v1/ops/conflicts".into(),
            None,
            Box::new(move |w| ops_only(w, 200)),
        ),
        (
            Method::GET,
            "/api/v1/ops/revocations".into(),
            None,
            Box::new(move |w| ops_only(w, 200)),
        ),
        (
            Method::POST,
            "/api/v1/ops/revocations".into(),
            Some(json!({ "kind": "ticket", "serial": serial, "reason": "fraud" })),
            Box::new(move |w| ops_only(w, 201)),
        ),
        (
            Method::GET,
            "/api/v1/ops/refunds-due".into(),
            None,
            Box::new(move |w| ops_only(w, 200)),
        ),
        (
            Method::POST,
            "/api/v1/ops/refunds-due/999/settle".into(),
            Some(json!({})),
            Box::new(move |w| ops_only(w, 404)),
        ),
        (
            Method::POST,
            "/api/v1/ops/comps".into(),
            Some(json!({ "event_id": 1, "offer": "solo", "email": "vip@example.org" })),
            Box::new(move |w| ops_only(w, 201)),
        ),
        (
            Method::GET,
            "/api/v1/device/sync".into(),
            None,
            Box::new(move |w| devices_only(w, 200)),
        ),
        (
            Method::GET,
            "/api/v1/device/revocations?after=0".into(),
            None,
            Box::new(move |w| devices_only(w, 200)),
        ),
        (
            Method::POST,
            "/api/v1/device/scans".into(),
            Some(serde_json::to_value(batch(vec![])).unwrap()),
            Box::new(move |w| devices_only(w, 200)),
        ),
        (
            Method::POST,
            "/api/v1/devices/enroll".into(),
            Some(json!({ "token": "ogenr_not-a-token", "software_version": "1" })),
            Box::new(|_| 401),
        ),
        (Method::GET, "/ops".into(), None, Box::new(console)),
        (Method::GET, "/ops/conflicts".into(), None, Box::new(console)),
        (Method::GET, "/ops/revocations".into(), None, Box::new(console)),
        (Method::GET, "/ops/events/1/scans".into(), None, Box::new(console)),
        (Method::GET, "/metrics".into(), None, Box::new(|_| 200)),
        (Method::GET, "/health".into(), None, Box::new(|_| 200)),
    ];
    let mut wrong = Vec::new();
    for (method, path, body, expected) in cases.drain(..) {
        for who in ALL {
            let mut req = app.client.request(method.clone(), app.url(&path));
            if let Some(c) = cred(who) {
                req = req.bearer_auth(c);
            }
            if let Some(b) = &body {
                req = req.json(b);
            }
            let got = req.send().await.unwrap().status().as_u16();
            if got != expected(who) {
                wrong.push(format!(
                    "{method} {path} as {who:?}: got {got}, expected {}",
                    expected(who)
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_device_cannot_report_scans_of_an_event_it_is_not_enrolled_for() {
    let app = spawn_app().await;
    let op = app.operator();
    let other = app.device(&op, &[2], "O").await;
    let serial = app.tickets(1, Offer::Solo, 1)[0].serial;
    let ack: ScanBatchAck = app
        .scans(
            &other.credential,
            &batch(vec![admission(1, 1, serial, Offer::Solo, "X")]),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ack.refused[0].code, "event_out_of_scope");
    assert_eq!(app.count("SELECT count(*) FROM admissions"), 0);
}

#[tokio::test]
async fn an_operator_token_of_a_demoted_or_banned_account_stops_working() {
    let app = spawn_app().await;
    let op = app.operator();
    assert_eq!(app.get("/api/v1/ops/devices", Some(&op)).await.status(), 200);
    app.db
        .write_sync(|c| Ok(c.execute("UPDATE accounts SET role = 'buyer' WHERE role = 'operator'", [])?))
        .unwrap();
    assert_eq!(app.get("/api/v1/ops/devices", Some(&op)).await.status(), 401);
}
