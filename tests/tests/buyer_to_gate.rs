//! The whole chain with real processes: a buyer signs up (activation link read from a real SMTP
//! sink), logs in, buys a Duo and a Solo, pays through the built-in card processor and downloads
//! the QR PNGs; a gate agent scans those PNG files. The buyer can no longer refund the order (a
//! ticket of it was used); an operator refunds the unused Solo by decision, and a second gate,
//! running on a scanner's input and syncing every second, refuses the refunded code within a few
//! seconds.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::Duration;

use og_system_tests::smtp::SmtpSink;
use serde_json::{Value, json};
use support::{Gate, IssuerProc, buyer, enrolment_token, http, operator_token};

fn json_ok(r: reqwest::blocking::Response, what: &str) -> Value {
    let status = r.status();
    let body: Value = r.json().unwrap_or(Value::Null);
    assert!(status.is_success(), "{what}: {status} {body}");
    body
}

#[test]
fn a_buyer_signs_up_buys_a_duo_and_a_solo_and_the_gate_admits_the_duo_twice_then_refuses_after_a_refund() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start().unwrap();
    let issuer = IssuerProc::start(&dir.path().join("issuer"), &["--smtp-url", &sink.url()]);
    let c = http();
    let url = |p: &str| format!("{}{p}", issuer.url);
    let email = "lea.martin@example.org";

    // Sign up (the activation link arrives by SMTP), log in.
    let access = buyer(&c, &issuer, &sink, email);

    // Fill the cart, check out, pay.
    let event = json_ok(c.get(url("/api/v1/events/1")).send().unwrap(), "event");
    let offer = |kind: &str| {
        event["offers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == kind)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    for (kind, qty) in [("duo", 1), ("solo", 1)] {
        json_ok(
            c.put(url("/api/v1/cart/items"))
                .bearer_auth(&access)
                .json(&json!({"offer_id": offer(kind), "quantity": qty}))
                .send()
                .unwrap(),
            "cart",
        );
    }
    let order = json_ok(
        c.post(url("/api/v1/checkout"))
            .bearer_auth(&access)
            .header("Idempotency-Key", "system-test-order-0001")
            .send()
            .unwrap(),
        "checkout",
    );
    let pid = order["payment_id"].as_str().unwrap();
    json_ok(
        c.post(url(&format!("/api/v1/payments/{pid}/card")))
            .json(&json!({"card_number": "4242 4242 4242 4242"}))
            .send()
            .unwrap(),
        "pay",
    );

    // The webhook confirms the payment asynchronously; tickets appear once it is processed.
    let tickets = og_fixtures::poll::within(Duration::from_secs(20), Duration::from_millis(100), || {
        let t = json_ok(
            c.get(url("/api/v1/tickets")).bearer_auth(&access).send().unwrap(),
            "tickets",
        )["tickets"]
            .clone();
        (t.as_array().unwrap().len() == 2).then_some(t)
    })
    .unwrap_or_else(|| panic!("no tickets 20 s after payment\n{}", issuer.log()));
    let mut pngs = std::collections::HashMap::new();
    for t in tickets.as_array().unwrap() {
        let serial = t["serial"].as_u64().unwrap();
        let png = c
            .get(url(&format!("/api/v1/tickets/{serial}/qr.png")))
            .bearer_auth(&access)
            .send()
            .unwrap();
        assert_eq!(png.status(), 200);
        let path = dir
            .path()
            .join(format!("{}-{serial}.png", t["offer"].as_str().unwrap()));
        std::fs::write(&path, png.bytes().unwrap()).unwrap();
        pngs.insert(t["offer"].as_str().unwrap().to_owned(), path);
    }

    // A gate scans the downloaded PNG files.
    let op = operator_token(&issuer.data_dir);
    let gate = Gate::new(dir.path(), "gate-a");
    gate.enroll(&issuer, &enrolment_token(&c, &issuer, &op, &[1]));
    let scan = |p: &std::path::Path| {
        let r = gate.run(&["scan", p.to_str().unwrap()]);
        (r.code, r.only().clone())
    };
    // One scan of the Duo admits both people (the default party policy); a second is refused.
    let duo = &pngs["duo"];
    let (code, first) = scan(duo);
    assert_eq!((code, first["reason"].as_str()), (0, Some("admitted")), "{first}");
    assert_eq!(
        (first["admitted"].as_u64(), first["admits"].as_u64()),
        (Some(2), Some(2))
    );
    let (code, second) = scan(duo);
    assert_eq!((code, second["reason"].as_str()), (1, Some("already_used")), "{second}");
    assert_eq!(second["first_admitted_gate"], "gate-a");

    // Gate B runs continuously on a keyboard-wedge scanner (stdin), syncing every second.
    let b = Gate::new(dir.path(), "gate-b");
    b.enroll(&issuer, &enrolment_token(&c, &issuer, &op, &[1]));
    let mut run = b
        .command()
        .args(["--json", "run", "--stdin", "--sync-every", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut scanner = run.stdin.take().unwrap();
    let mut verdicts = BufReader::new(run.stdout.take().unwrap()).lines();

    // The buyer cannot refund the order any more: the Duo was used (and the doors are open).
    let order_id = order["id"].as_i64().unwrap();
    let refused = c
        .post(url(&format!("/api/v1/orders/{order_id}/cancel")))
        .bearer_auth(&access)
        .send()
        .unwrap();
    assert_eq!(refused.status(), 409);
    // An operator refunds the Solo, never used, by decision: it is revoked.
    let solo_text = tickets
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["offer"] == "solo")
        .unwrap()["qr_text"]
        .as_str()
        .unwrap()
        .to_owned();
    let solo_serial = tickets
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["offer"] == "solo")
        .unwrap()["serial"]
        .as_u64()
        .unwrap();
    let refunded = json_ok(
        c.post(url(&format!("/api/v1/ops/tickets/{solo_serial}/refund")))
            .bearer_auth(&op)
            .json(&json!({ "reason": "buyer could not come" }))
            .send()
            .unwrap(),
        "operator refund",
    );
    assert_eq!(refunded["reason"], "operator_decision", "{refunded}");

    // Within a few sync intervals (1 s each, plus the round trip) the running gate has the
    // refund (polled through `status` on the same data dir), and refuses the code.
    let log = json_ok(
        c.get(url("/api/v1/ops/revocations?after=0"))
            .bearer_auth(&op)
            .send()
            .unwrap(),
        "revocations",
    );
    let head = log.as_array().unwrap().last().unwrap()["seq"].as_u64().unwrap();
    og_fixtures::poll::until(
        "gate B syncing the refund",
        Duration::from_secs(10),
        Duration::from_millis(100),
        || (b.run(&["status"]).only()["counts"]["revocation_seq"].as_u64() >= Some(head)).then_some(()),
    );
    writeln!(scanner, "{solo_text}").unwrap();
    let line: Value = serde_json::from_str(&verdicts.next().unwrap().unwrap()).unwrap();
    assert_eq!(line["reason"], "revoked", "{line}");
    drop(scanner);
    let _ = run.kill();
    let _ = run.wait();

    // Gate A learns it at its next sync too, and says so for the PNG.
    assert_eq!(gate.sync().code, 0);
    let (code, solo) = scan(&pngs["solo"]);
    assert_eq!((code, solo["reason"].as_str()), (1, Some("revoked")), "{solo}");
}
