//! Three issuer processes on one PostgreSQL database, as a real deployment runs them behind a
//! load balancer: buyers racing through all three never get a seat that does not exist, two gates
//! syncing from different replicas while others append revocations see one gap-free log in commit
//! order, the same scan batch posted to two replicas is stored once, and a replica killed in the
//! middle of checkouts loses no order and issues nothing twice.
//!
//! Needs a PostgreSQL server (`OG_TEST_DATABASE_URL`, default the local one): without one it fails
//! with a sentence saying how to start one.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use og_issuer::store::ScratchDatabase;
use og_shared::sync::{Direction, EnrollResponse, ScanBatch, ScanBatchAck, ScanReport, VerdictCode};
use og_system_tests::smtp::SmtpSink;
use serde_json::{Value, json};
use support::{Gate, IssuerProc, PASSWORD, buyer_from, enrolment_token, get_json, http, issuer_bin, now};

const BUYERS: usize = 50;
const CAPACITY: i64 = 20; // ten Duos

/// A cluster: replica 0 made the keys; the others got copies (as a mounted secret would give them).
struct Cluster {
    _pg: ScratchDatabase,
    url: String,
    replicas: Vec<IssuerProc>,
    _dirs: tempfile::TempDir,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn cluster(sink: &SmtpSink) -> Cluster {
    let pg = ScratchDatabase::create("og_replicas");
    let url = match pg.url() {
        og_issuer::store::DatabaseUrl::Postgres(u) => u,
        other => panic!("not PostgreSQL: {other:?}"),
    };
    let dirs = tempfile::tempdir().unwrap();
    // Behind the load balancer: the client address comes from X-Forwarded-For.
    let flags = [
        "--database",
        url.as_str(),
        "--smtp-url",
        &sink.url(),
        "--trusted-proxy",
        "127.0.0.1/32",
    ];
    let first = IssuerProc::start(&dirs.path().join("r0"), &flags);
    let mut replicas = vec![first];
    for i in 1..3 {
        let dir = dirs.path().join(format!("r{i}"));
        copy_dir(&dirs.path().join("r0/keys"), &dir.join("keys"));
        std::fs::copy(dirs.path().join("r0/deployment-id"), dir.join("deployment-id")).unwrap();
        replicas.push(IssuerProc::start(&dir, &flags));
    }
    Cluster {
        _pg: pg,
        url,
        replicas,
        _dirs: dirs,
    }
}

impl Cluster {
    /// `issuer admin create-operator` against the shared database.
    fn operator(&self) -> String {
        let out = Command::new(issuer_bin())
            .arg("--data-dir")
            .arg(&self.replicas[0].data_dir)
            .args([
                "--database",
                &self.url,
                "admin",
                "create-operator",
                "--email",
                "ops@example.org",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn db(&self) -> og_issuer::store::Db {
        og_issuer::store::Db::connect(&og_issuer::store::DatabaseUrl::Postgres(self.url.clone())).unwrap()
    }

    fn count(&self, sql: &str) -> i64 {
        self.db()
            .read_sync(|c| Ok(c.query_row(sql, [], |r| r.get(0))?))
            .unwrap()
    }
}

/// How many order confirmations (`Your order N: tickets attached`) each address got.
fn confirmations(sink: &SmtpSink) -> BTreeMap<String, usize> {
    let mut got = BTreeMap::new();
    for m in sink.mails() {
        if m.text().contains("tickets attached") {
            for to in m.to {
                *got.entry(to).or_default() += 1;
            }
        }
    }
    got
}

/// Waits until the mail queue is empty and every address of `buyers` got its confirmation, then
/// answers how many each got.
fn wait_for_confirmations(
    cl: &Cluster,
    sink: &SmtpSink,
    buyers: &[String],
    within: Duration,
) -> BTreeMap<String, usize> {
    og_fixtures::poll::until(
        "every paid buyer's confirmation sent and the mail queue empty",
        within,
        Duration::from_millis(100),
        || {
            let got = confirmations(sink);
            (buyers.iter().all(|b| got.contains_key(b)) && cl.count("SELECT count(*) FROM mail_outbox") == 0)
                .then_some(got)
        },
    )
}

fn create_event(c: &reqwest::blocking::Client, issuer: &IssuerProc, op: &str, capacity: i64) -> (i64, i64) {
    let t = now();
    let created: Value = c
        .post(format!("{}/api/v1/ops/events", issuer.url))
        .bearer_auth(op)
        .json(&json!({
            "sport": "Breaking", "name": "B-Boys Final", "venue": "La Concorde", "starts_at": t + 7200,
            "doors_open": t, "doors_close": t + 14400, "capacity": capacity, "zones": ["General"],
            "offers": { "duo": 9000 }
        }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let event_id = created["id"].as_i64().expect("event id");
    let event = get_json(c, issuer, &format!("/api/v1/events/{event_id}"), None);
    (event_id, event["offers"][0]["id"].as_i64().unwrap())
}

/// Checkout and card payment of one buyer's cart through `issuer`: (checkout status, body).
fn checkout_and_pay(issuer_url: &str, access: &str, key: &str) -> (u16, Value) {
    let c = http();
    let r = match c
        .post(format!("{issuer_url}/api/v1/checkout"))
        .bearer_auth(access)
        .header("Idempotency-Key", key)
        .send()
    {
        Ok(r) => r,
        Err(e) => return (0, json!({ "transport": e.to_string() })),
    };
    let status = r.status().as_u16();
    let body: Value = r.json().unwrap_or(Value::Null);
    // Pay unless this (idempotent) checkout answered an order that is already paid.
    if status == 201 && body["status"] == "pending" {
        let pid = body["payment_id"].as_str().unwrap();
        match c
            .post(format!("{issuer_url}/api/v1/payments/{pid}/card"))
            .json(&json!({"card_number": "4242424242424242"}))
            .send()
        {
            Ok(paid) => {
                let paid_status = paid.status();
                let paid_body: Value = paid.json().unwrap_or(Value::Null);
                // A replica that died after taking the card but before its webhook marked the
                // order paid leaves the order pending with the payment done: paying again is
                // refused as `already_paid`, and a surviving replica delivers that webhook.
                assert!(
                    paid_status.is_success() || (paid_status == 409 && paid_body["error"]["code"] == "already_paid"),
                    "payment through {issuer_url}: {paid_status} {paid_body}"
                )
            }
            Err(e) => return (0, json!({ "transport": e.to_string() })),
        }
    }
    (status, body)
}

#[test]
fn fifty_buyers_racing_through_three_replicas_never_oversell_and_never_see_a_server_error() {
    let sink = SmtpSink::start().unwrap();
    let cl = cluster(&sink);
    let op = cl.operator();
    let c = http();
    let (event_id, duo) = create_event(&c, &cl.replicas[1], &op, CAPACITY);

    // Sign-ups, activations and carts spread over the replicas (a mail link made by one replica
    // is redeemed by another).
    let urls: Vec<String> = cl.replicas.iter().map(|r| r.url.clone()).collect();
    let signups: Vec<_> = (0..BUYERS)
        .map(|i| {
            let issuer = &cl.replicas[i % 3];
            let access = buyer_from(
                &c,
                &issuer.url,
                &sink,
                &format!("racer{i}@example.org"),
                "Racer",
                Some(&format!("10.0.0.{i}")),
            );
            let r = c
                .put(format!("{}/api/v1/cart/items", urls[(i + 1) % 3]))
                .bearer_auth(&access)
                .json(&json!({"offer_id": duo, "quantity": 1}))
                .send()
                .unwrap();
            assert!(r.status().is_success(), "cart of buyer {i}: {}", r.status());
            access
        })
        .collect();

    let barrier = Arc::new(Barrier::new(BUYERS));
    let handles: Vec<_> = signups
        .into_iter()
        .enumerate()
        .map(|(i, access)| {
            let (barrier, url) = (barrier.clone(), urls[(i + 2) % 3].clone());
            std::thread::spawn(move || {
                barrier.wait();
                checkout_and_pay(&url, &access, &format!("replica-race-{i:04}"))
            })
        })
        .collect();
    let results: Vec<(u16, Value)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for (status, body) in &results {
        assert!(*status == 201 || *status == 409, "unexpected {status}: {body}");
    }
    let won = results.iter().filter(|(s, _)| *s == 201).count() as i64;
    assert_eq!(won, CAPACITY / 2, "every seat sold once, none twice: {results:?}");
    for r in &cl.replicas {
        let event = get_json(&c, r, &format!("/api/v1/events/{event_id}"), None);
        assert_eq!(event["capacity_left"], 0, "seen from {}", r.url);
    }
    let tickets = cl.count(&format!("SELECT count(*) FROM tickets WHERE event_id = {event_id}"));
    assert_eq!(tickets, won, "one ticket per paid Duo");
    // Each winner is mailed their tickets once, whichever replica's mail worker took it.
    let winners: Vec<String> = (0..BUYERS)
        .filter(|&i| results[i].0 == 201)
        .map(|i| format!("racer{i}@example.org"))
        .collect();
    let got = wait_for_confirmations(&cl, &sink, &winners, Duration::from_secs(30));
    assert_eq!(got.len(), winners.len(), "confirmations only to winners: {got:?}");
    assert!(got.values().all(|&n| n == 1), "none twice: {got:?}");
}

#[test]
fn gates_syncing_from_different_replicas_see_one_gap_free_log_while_others_append() {
    let sink = SmtpSink::start().unwrap();
    let cl = cluster(&sink);
    let op = cl.operator();
    let c = http();
    // Tickets to revoke, then revocations appended through replicas 1 and 2 at once while gates
    // sync from replicas 0 and 1.
    let comps: Value = c
        .post(format!("{}/api/v1/ops/comps", cl.replicas[0].url))
        .bearer_auth(&op)
        .json(
            &json!({"event_id": 1, "offer": "solo", "email": "crowd@example.org", "count": 60, "force_reason": "test"}),
        )
        .send()
        .unwrap()
        .json()
        .unwrap();
    let serials: Vec<u64> = comps
        .as_array()
        .expect("issued tickets")
        .iter()
        .map(|t| t["serial"].as_u64().unwrap())
        .collect();
    assert_eq!(serials.len(), 60);
    let root = tempfile::tempdir().unwrap();
    let gates: Vec<Gate> = (0..2).map(|g| Gate::new(root.path(), &format!("gate-{g}"))).collect();
    for (g, gate) in gates.iter().enumerate() {
        let token = enrolment_token(&c, &cl.replicas[g], &op, &[1]);
        gate.enroll(&cl.replicas[g], &token);
    }
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let url = cl.replicas[w + 1].url.clone();
            let (op, mine) = (
                op.clone(),
                serials.iter().skip(w).step_by(2).copied().collect::<Vec<_>>(),
            );
            std::thread::spawn(move || {
                let c = http();
                for serial in mine {
                    let r = c
                        .post(format!("{url}/api/v1/ops/revocations"))
                        .bearer_auth(&op)
                        .json(&json!({"kind": "ticket", "serial": serial, "reason": "refunded"}))
                        .send()
                        .unwrap();
                    assert_eq!(r.status(), 201, "revocation of {serial} through {url}");
                }
            })
        })
        .collect();
    // The gates sync repeatedly while the log grows: every sync must be accepted (a gap or a
    // reordering breaks the hash chain the gate checks, and it refuses the answer).
    let mut syncs = 0;
    while writers.iter().any(|w| !w.is_finished()) {
        for gate in &gates {
            let r = gate.sync();
            assert_eq!(r.code, 0, "a sync refused while replicas appended: {r:?}");
            syncs += 1;
        }
    }
    for w in writers {
        w.join().unwrap();
    }
    let head = cl.count("SELECT max(seq) FROM revocations");
    assert!(head >= 60, "every revocation is in the log (head {head})");
    assert_eq!(cl.count("SELECT count(*) FROM revocations"), head, "no gap in the log");
    for gate in &gates {
        assert_eq!(gate.sync().code, 0);
        // Every revoked ticket is refused by both gates.
        for (i, serial) in serials.iter().enumerate().step_by(15) {
            let text = comps[i]["qr_text"].as_str().unwrap();
            let v = gate.check(text);
            assert_eq!(v["reason"], "revoked", "ticket {serial} at {}: {v}", gate.name);
        }
    }
    assert!(syncs >= 2, "the gates synced while the log grew");
    // Every sync after the first reports the clock offset the gate measured (operators see it).
    assert_eq!(
        cl.count("SELECT count(*) FROM devices WHERE clock_offset IS NOT NULL AND ABS(clock_offset) <= 2"),
        2,
        "both gates reported their clock offset"
    );
}

#[test]
fn the_same_scan_batch_posted_to_two_replicas_at_once_is_stored_once() {
    let sink = SmtpSink::start().unwrap();
    let cl = cluster(&sink);
    let op = cl.operator();
    let c = http();
    let token = enrolment_token(&c, &cl.replicas[0], &op, &[1]);
    let dev: EnrollResponse = c
        .post(format!("{}/api/v1/devices/enroll", cl.replicas[0].url))
        .json(&json!({ "token": token, "name": "north-1", "software_version": "test" }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let t = now();
    let batch = ScanBatch {
        sent_at: t,
        queued: 40,
        software_version: "test".into(),
        reports: (0..40u32)
            .map(|i| ScanReport {
                nonce: format!("{:032x}", 0xfeed_0000u64 + u64::from(i)),
                scanned_at: t - 5,
                verdict: VerdictCode::Admitted,
                reason: "admitted 1 of 1".into(),
                event_id: Some(1),
                serial: Some(900_000 + i),
                generation: 0,
                offer: Some(og_shared::Offer::Solo),
                admitted_index: Some(1),
                gate: "north-1".into(),
                zone: None,
                direction: Direction::Entry,
                offline: false,
            })
            .collect(),
    };
    let barrier = Arc::new(Barrier::new(4));
    let senders: Vec<_> = (0..4)
        .map(|i| {
            let (url, cred, batch, barrier) = (
                cl.replicas[i % 2].url.clone(),
                dev.credential.clone(),
                batch.clone(),
                barrier.clone(),
            );
            std::thread::spawn(move || {
                barrier.wait();
                let r = http()
                    .post(format!("{url}/api/v1/device/scans"))
                    .bearer_auth(&cred)
                    .json(&batch)
                    .send()
                    .unwrap();
                assert!(r.status().is_success(), "{url}: {}", r.status());
                r.json::<ScanBatchAck>().unwrap()
            })
        })
        .collect();
    let acks: Vec<ScanBatchAck> = senders.into_iter().map(|s| s.join().unwrap()).collect();
    for ack in &acks {
        assert!(ack.refused.is_empty(), "{ack:?}");
    }
    assert_eq!(cl.count("SELECT count(*) FROM scans"), 40, "each report stored once");
    assert_eq!(cl.count("SELECT count(*) FROM admissions"), 40);
    assert_eq!(
        cl.count("SELECT count(*) FROM admissions"),
        cl.count("SELECT max(seq) FROM admissions"),
        "the admissions sequence has no gap"
    );
}

#[test]
fn a_replica_killed_in_the_middle_of_checkouts_loses_no_order_and_issues_nothing_twice() {
    let sink = SmtpSink::start().unwrap();
    let mut cl = cluster(&sink);
    let op = cl.operator();
    let c = http();
    let (event_id, duo) = create_event(&c, &cl.replicas[0], &op, 200);
    let buyers: Vec<String> = (0..12)
        .map(|i| {
            let access = buyer_from(
                &c,
                &cl.replicas[i % 2].url,
                &sink,
                &format!("crash{i}@example.org"),
                "Racer",
                Some("10.0.1.1"),
            );
            let r = c
                .put(format!("{}/api/v1/cart/items", cl.replicas[0].url))
                .bearer_auth(&access)
                .json(&json!({"offer_id": duo, "quantity": 2}))
                .send()
                .unwrap();
            assert!(r.status().is_success());
            access
        })
        .collect();
    let victim = cl.replicas[2].url.clone();
    let barrier = Arc::new(Barrier::new(buyers.len() + 1));
    let handles: Vec<_> = buyers
        .iter()
        .enumerate()
        .map(|(i, access)| {
            let (barrier, url, access) = (barrier.clone(), victim.clone(), access.clone());
            std::thread::spawn(move || {
                barrier.wait();
                checkout_and_pay(&url, &access, &format!("crash-{i:04}"))
            })
        })
        .collect();
    barrier.wait();
    cl.replicas[2].kill();
    let results: Vec<(u16, Value)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for (status, body) in &results {
        assert!(
            matches!(status, 0 | 201 | 409),
            "a transport error (the replica died), 201 or 409, never a 5xx: {status} {body}"
        );
    }
    // Whatever the dying replica committed is whole: a paid order has all its tickets, seats
    // reserved match the orders that hold them. The buyers retry on a surviving replica with the
    // same idempotency key and end with exactly one order each.
    let paid_without_tickets = cl.count(
        "SELECT count(*) FROM orders o WHERE o.status = 'paid'
           AND (SELECT count(*) FROM tickets t WHERE t.order_id = o.id) <> 2",
    );
    assert_eq!(paid_without_tickets, 0, "a paid order always has its two Duo tickets");
    for (i, access) in buyers.iter().enumerate() {
        let (status, body) = checkout_and_pay(&cl.replicas[i % 2].url, access, &format!("crash-{i:04}"));
        assert!(matches!(status, 200 | 201 | 409), "retry of buyer {i}: {status} {body}");
    }
    // A card the dying replica took whose webhook it never delivered: a survivor delivers it
    // once the claim lapses, and the order ends paid with its tickets.
    og_fixtures::poll::until(
        "every order whose card was taken is paid",
        Duration::from_secs(og_issuer::shop::payment::WEBHOOK_CLAIM_SECS as u64 + 30),
        Duration::from_millis(200),
        || {
            (cl.count(
                "SELECT count(*) FROM payments p JOIN orders o ON o.id = p.order_id
                  WHERE p.status = 'succeeded' AND o.status = 'pending'",
            ) == 0)
                .then_some(())
        },
    );
    let orders = cl.count(&format!(
        "SELECT count(*) FROM orders WHERE id IN (SELECT order_id FROM order_lines l JOIN offers o ON o.id = l.offer_id WHERE o.event_id = {event_id})"
    ));
    assert_eq!(
        orders,
        buyers.len() as i64,
        "one order per buyer, none lost, none doubled"
    );
    let reserved = cl.count(&format!("SELECT reserved FROM events WHERE id = {event_id}"));
    let held = cl.count(&format!(
        "SELECT COALESCE(SUM(l.quantity * 2), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id
         WHERE o.status IN ('pending', 'paid') AND l.offer_id = {duo}"
    ));
    assert_eq!(reserved, held, "seats reserved are exactly the seats orders hold");
    let tickets = cl.count(&format!("SELECT count(*) FROM tickets WHERE event_id = {event_id}"));
    let paid = cl.count(&format!(
        "SELECT count(*) FROM orders WHERE status = 'paid' AND id IN (SELECT order_id FROM order_lines WHERE offer_id = {duo})"
    ));
    assert_eq!(tickets, paid * 2, "tickets issued once per paid order");
    // Every paid buyer is mailed their tickets, those whose mail the dead replica had queued or
    // claimed included (picked up by the survivors once its claim lapsed).
    let paid_buyers: Vec<String> = cl
        .db()
        .read_sync(|c| {
            Ok(c.query_all(
                "SELECT a.email FROM orders o JOIN accounts a ON a.id = o.account_id WHERE o.status = 'paid'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(paid_buyers.len() as i64, paid);
    wait_for_confirmations(
        &cl,
        &sink,
        &paid_buyers,
        Duration::from_secs(og_issuer::shop::mail_queue::CLAIM_SECS as u64 + 30),
    );
}

#[test]
fn a_sign_up_limit_per_address_holds_across_replicas() {
    let sink = SmtpSink::start().unwrap();
    let cl = cluster(&sink);
    let c = http();
    let sign_up = |i: usize| {
        c.post(format!("{}/api/v1/accounts", cl.replicas[i % 3].url))
            .header("X-Forwarded-For", "192.0.2.7")
            .json(&json!({"accept_terms": true, "email": format!("many{i}@example.org"), "password": PASSWORD, "name": "M"}))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    // The limit is 30 an hour per address, counted in the shared database whichever replica
    // answers; three replicas do not make it 90.
    for i in 0..30 {
        assert_eq!(sign_up(i), 202, "sign-up {i}");
    }
    for i in 30..33 {
        assert_eq!(sign_up(i), 429, "sign-up {i} through replica {}", i % 3);
    }
}
