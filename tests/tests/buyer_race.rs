//! Many buyers racing for the last seats of an event, against a real issuer process: nobody is
//! ever sold a seat that does not exist, the losers get a clear 409, and nothing fails with a
//! server error.

mod support;

use std::sync::{Arc, Barrier};

use og_system_tests::smtp::SmtpSink;
use serde_json::{Value, json};
use support::{IssuerProc, buyer, get_json, http, now, operator_token};

const BUYERS: usize = 20;
const CAPACITY: i64 = 12; // six Duos

#[test]
fn twenty_buyers_racing_for_six_duos_never_oversell_and_never_see_a_server_error() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start().unwrap();
    let issuer = Arc::new(IssuerProc::start(
        &dir.path().join("issuer"),
        &["--smtp-url", &sink.url()],
    ));
    let op = operator_token(&issuer.data_dir);
    let c = http();
    let url = |p: &str| format!("{}{p}", issuer.url);
    let t = now();
    let created: Value = c
        .post(url("/api/v1/ops/events"))
        .bearer_auth(&op)
        .json(&json!({
            "sport": "Breaking", "name": "B-Girls Final", "venue": "La Concorde", "starts_at": t + 7200,
            "doors_open": t, "doors_close": t + 14400, "capacity": CAPACITY, "zones": ["General"],
            "offers": { "duo": 9000 }
        }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let event_id = created["id"]
        .as_i64()
        .or_else(|| created["event_id"].as_i64())
        .expect("event id");
    let event = get_json(&c, &issuer, &format!("/api/v1/events/{event_id}"), None);
    let duo = event["offers"][0]["id"].as_i64().unwrap();

    // Every buyer signs up (activation by mail), logs in and fills a cart first...
    let tokens: Vec<String> = (0..BUYERS)
        .map(|i| {
            let access = buyer(&c, &issuer, &sink, &format!("racer{i}@example.org"));
            let r = c
                .put(url("/api/v1/cart/items"))
                .bearer_auth(&access)
                .json(&json!({"offer_id": duo, "quantity": 1}))
                .send()
                .unwrap();
            assert!(r.status().is_success(), "cart of buyer {i}: {}", r.status());
            access
        })
        .collect();

    // ...then they all check out and pay at the same instant.
    let barrier = Arc::new(Barrier::new(BUYERS));
    let handles: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, access)| {
            let (issuer, barrier) = (issuer.clone(), barrier.clone());
            std::thread::spawn(move || {
                let c = http();
                barrier.wait();
                let r = c
                    .post(format!("{}/api/v1/checkout", issuer.url))
                    .bearer_auth(&access)
                    .header("Idempotency-Key", format!("race-{i:04}-checkout"))
                    .send()
                    .unwrap();
                let status = r.status().as_u16();
                let body: Value = r.json().unwrap_or(Value::Null);
                if status == 201 {
                    let pid = body["payment_id"].as_str().unwrap();
                    let paid = c
                        .post(format!("{}/api/v1/payments/{pid}/card", issuer.url))
                        .json(&json!({"card_number": "4242424242424242"}))
                        .send()
                        .unwrap();
                    assert_eq!(paid.status(), 200);
                }
                (status, body)
            })
        })
        .collect();
    let results: Vec<(u16, Value)> = handles.into_iter().map(|h| h.join().unwrap()).collect();

    let won = results.iter().filter(|(s, _)| *s == 201).count();
    for (status, body) in &results {
        assert!(*status == 201 || *status == 409, "unexpected {status}: {body}");
        if *status == 409 {
            assert!(body["error"]["code"].as_str().is_some(), "a clear error code: {body}");
        }
    }
    assert_eq!(won as i64, CAPACITY / 2, "every seat sold, none twice: {results:?}");
    let event = get_json(&c, &issuer, &format!("/api/v1/events/{event_id}"), None);
    assert_eq!(event["capacity_left"], 0);
}
