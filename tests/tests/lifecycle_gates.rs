//! One entitlement, many codes, with real processes: a Duo admits one person at gate A, is given
//! to another buyer, and the recipient's new code admits exactly the one place left at gate B,
//! then nobody; the sender's old code is refused at both gates once they synced.

mod support;

use std::time::Duration;

use og_system_tests::smtp::SmtpSink;
use serde_json::{Value, json};
use support::{Gate, IssuerProc, buyer, enrolment_token, get_json, http, operator_token};

fn ok(r: reqwest::blocking::Response, what: &str) -> Value {
    let status = r.status();
    let body: Value = r.json().unwrap_or(Value::Null);
    assert!(status.is_success(), "{what}: {status} {body}");
    body
}

/// Buys one ticket of `kind` for event `event` and waits (polling) until it is issued.
fn buy(c: &reqwest::blocking::Client, issuer: &IssuerProc, access: &str, event: u32, kind: &str) -> Value {
    let url = |p: &str| format!("{}{p}", issuer.url);
    let ev = get_json(c, issuer, &format!("/api/v1/events/{event}"), None);
    let offer = ev["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap()["id"]
        .clone();
    ok(
        c.put(url("/api/v1/cart/items"))
            .bearer_auth(access)
            .json(&json!({ "offer_id": offer, "quantity": 1 }))
            .send()
            .unwrap(),
        "cart",
    );
    let order = ok(
        c.post(url("/api/v1/checkout"))
            .bearer_auth(access)
            .header("Idempotency-Key", "lifecycle-gates-order-000001")
            .send()
            .unwrap(),
        "checkout",
    );
    let pid = order["payment_id"].as_str().unwrap();
    ok(
        c.post(url(&format!("/api/v1/payments/{pid}/card")))
            .json(&json!({ "card_number": "4242 4242 4242 4242" }))
            .send()
            .unwrap(),
        "pay",
    );
    og_fixtures::poll::within(Duration::from_secs(20), Duration::from_millis(100), || {
        let t = get_json(c, issuer, "/api/v1/tickets", Some(access))["tickets"].clone();
        t.as_array().unwrap().first().cloned()
    })
    .unwrap_or_else(|| panic!("no ticket 20 s after payment\n{}", issuer.log()))
}

#[test]
fn a_transferred_duo_admits_only_the_place_left_at_another_gate_and_the_old_code_is_refused_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start().unwrap();
    let issuer = IssuerProc::start(&dir.path().join("issuer"), &["--smtp-url", &sink.url()]);
    let c = http();
    let op = operator_token(&issuer.data_dir);
    // Event 1's doors are open: let its tickets be given on until the doors close.
    let ev = get_json(&c, &issuer, "/api/v1/ops/events", Some(&op));
    let doors_close = ev.as_array().unwrap().iter().find(|e| e["id"] == 1).unwrap()["doors_close"].clone();
    ok(
        c.patch(format!("{}/api/v1/ops/events/1", issuer.url))
            .bearer_auth(&op)
            .json(&json!({ "transfer_deadline": doors_close }))
            .send()
            .unwrap(),
        "transfer deadline",
    );

    let alice = buyer(&c, &issuer, &sink, "alice@example.org");
    let bob = buyer(&c, &issuer, &sink, "bob@example.org");
    let duo = buy(&c, &issuer, &alice, 1, "duo");
    let serial = duo["serial"].as_u64().unwrap();
    let old_code = duo["qr_text"].as_str().unwrap().to_owned();

    // Gate A is a one-person-per-scan turnstile: one of the two enters.
    let a = Gate::new(dir.path(), "gate-a");
    let token = enrolment_token(&c, &issuer, &op, &[1]);
    let enrolled = a.run(&[
        "enroll",
        "--issuer",
        &issuer.url,
        "--token",
        &token,
        "--gate",
        "gate-a",
        "--party",
        "one-per-scan",
    ]);
    assert_eq!(enrolled.code, 0, "{enrolled:?}");
    let b = Gate::new(dir.path(), "gate-b");
    b.enroll(&issuer, &enrolment_token(&c, &issuer, &op, &[1]));

    // One of the two enters at gate A, which reports it.
    let first = a.check(&old_code);
    assert_eq!(first["reason"], "admitted", "{first}");
    assert_eq!(a.sync().code, 0);

    // Alice gives the Duo to Bob: same ticket, a new code for the one place left.
    let given = ok(
        c.post(format!("{}/api/v1/tickets/{serial}/transfer", issuer.url))
            .bearer_auth(&alice)
            .json(&json!({ "to_email": "bob@example.org" }))
            .send()
            .unwrap(),
        "transfer",
    );
    assert!(given["message"].as_str().unwrap().contains("sent"), "{given}");
    let bobs = get_json(&c, &issuer, "/api/v1/tickets", Some(&bob))["tickets"][0].clone();
    assert_eq!(bobs["left"], 1, "{bobs}");
    let new_code = bobs["qr_text"].as_str().unwrap().to_owned();

    // Gate B (whole party per scan), not synced since the transfer, admits the new code for the
    // one place left, and only once.
    let in_b = b.check(&new_code);
    assert_eq!(in_b["reason"], "admitted", "{in_b}");
    // Gate B never heard of the first entry: by its count this is person 1, and only one.
    assert_eq!(in_b["admitted"], 1, "{in_b}");
    let again = b.check(&new_code);
    assert_eq!(again["reason"], "already_used", "{again}");

    // After syncing, both gates refuse the old code, and gate A refuses the new one too (the
    // Duo's two places are used: one at A, one at B).
    assert_eq!(b.sync().code, 0);
    assert_eq!(a.sync().code, 0);
    for g in [&a, &b] {
        let old = g.check(&old_code);
        assert_eq!(old["reason"], "revoked", "{}: {old}", g.name);
    }
    let new_at_a = a.check(&new_code);
    assert_eq!(new_at_a["reason"], "already_used", "{new_at_a}");

    // The issuer counts two entries against the one ticket, from two gates: no conflict.
    let conflicts = get_json(&c, &issuer, "/api/v1/ops/conflicts", Some(&op));
    assert_eq!(conflicts.as_array().map(Vec::len), Some(0), "{conflicts}");
}
