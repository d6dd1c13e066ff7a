//! Black-box tests of the gate-operations API through real HTTP (issue 4).

mod ops_support;

use og_shared::Offer;
use og_shared::sync::{
    GENESIS_HASH, REVOCATIONS_CONTENT_TYPE, RevocationReason, RevocationTarget, ScanBatchAck, SyncResponse,
    VerdictCode, decode_revocation_page,
};
use ops_support::{admission, batch, spawn_app};
use serde_json::{Value, json};

async fn error_code(r: reqwest::Response) -> String {
    let v: Value = r.json().await.unwrap();
    v["error"]["code"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_enrolment_token_works_once_and_a_replay_is_refused() {
    let app = spawn_app().await;
    let op = app.operator();
    let token = app.enrolment_token(&op, &[1, 2], Some(0)).await;
    let body = json!({ "token": token, "name": "North gate 3", "software_version": "1.0" });
    let r = app.post("/api/v1/devices/enroll", None, &body).await;
    assert_eq!(r.status(), 200);
    let d: Value = r.json().await.unwrap();
    assert_eq!(d["device_name"], "North gate 3");
    assert_eq!(d["event_ids"], json!([1, 2]));
    assert_eq!(d["zone"], 0);
    assert!(d["credential"].as_str().unwrap().starts_with("ogdev_"));
    assert_eq!(d["keys"].as_array().unwrap().len(), 1);

    let replay = app.post("/api/v1/devices/enroll", None, &body).await;
    assert_eq!(replay.status(), 410);
    assert_eq!(error_code(replay).await, "enrolment_token_used");
    let unknown = app
        .post(
            "/api/v1/devices/enroll",
            None,
            &json!({ "token": "ogenr_nope", "software_version": "1" }),
        )
        .await;
    assert_eq!(unknown.status(), 401);
    assert_eq!(
        app.count("SELECT count(*) FROM devices"),
        1,
        "a replay makes no second device"
    );
}

#[tokio::test]
async fn an_enrolment_token_pasted_with_spaces_around_it_still_enrols_the_gate() {
    let app = spawn_app().await;
    let op = app.operator();
    let token = app.enrolment_token(&op, &[1], None).await;
    let r = app
        .post(
            "/api/v1/devices/enroll",
            None,
            &json!({ "token": format!("  {token}\n"), "software_version": "1" }),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.count("SELECT count(*) FROM devices"), 1);
}

#[tokio::test]
async fn an_expired_enrolment_token_is_refused() {
    let app = spawn_app().await;
    let op = app.operator();
    let token = app.enrolment_token(&op, &[1], None).await;
    app.db
        .write_sync(|c| Ok(c.execute("UPDATE enrolment_tokens SET expires_at = ?1", [og_issuer::now() - 1])?))
        .unwrap();
    let r = app
        .post(
            "/api/v1/devices/enroll",
            None,
            &json!({ "token": token, "software_version": "1" }),
        )
        .await;
    assert_eq!(r.status(), 410);
    assert_eq!(error_code(r).await, "enrolment_token_expired");
}

#[tokio::test]
async fn an_enrolment_token_for_an_unknown_event_or_zone_is_not_made() {
    let app = spawn_app().await;
    let op = app.operator();
    let r = app
        .post(
            "/api/v1/ops/enrolment-tokens",
            Some(&op),
            &json!({ "event_ids": [999] }),
        )
        .await;
    assert_eq!(r.status(), 400);
    let r = app
        .post(
            "/api/v1/ops/enrolment-tokens",
            Some(&op),
            &json!({ "event_ids": [3], "zone": 5 }),
        )
        .await;
    assert_eq!(r.status(), 400);
    let r = app
        .post("/api/v1/ops/enrolment-tokens", Some(&op), &json!({ "event_ids": "x" }))
        .await;
    // The same codes as the shop's API: a well-formed body of the wrong shape is a 422.
    assert_eq!(r.status(), 422);
    assert_eq!(error_code(r).await, "invalid_body");
}

#[tokio::test]
async fn a_revoked_device_is_refused_at_once_and_a_rotated_credential_replaces_the_old_one() {
    let app = spawn_app().await;
    let op = app.operator();
    let d = app.device(&op, &[1], "A").await;
    assert_eq!(app.sync(&d.credential, 0, 0).await.status(), 200);

    let rotated: Value = app
        .post(
            &format!("/api/v1/ops/devices/{}/rotate", d.device_id),
            Some(&op),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let new = rotated["credential"].as_str().unwrap();
    assert_eq!(
        app.sync(&d.credential, 0, 0).await.status(),
        401,
        "old credential refused"
    );
    assert_eq!(app.sync(new, 0, 0).await.status(), 200);

    let r = app
        .post(
            &format!("/api/v1/ops/devices/{}/revoke", d.device_id),
            Some(&op),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 204);
    let refused = app.sync(new, 0, 0).await;
    assert_eq!(refused.status(), 401);
    let v: Value = refused.json().await.unwrap();
    assert!(v["error"]["message"].as_str().unwrap().contains("re-enrol"));
    assert_eq!(app.scans(new, &batch(vec![])).await.status(), 401);
    let r = app
        .post(
            &format!("/api/v1/ops/devices/{}/rotate", d.device_id),
            Some(&op),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 409, "a revoked device is not brought back by a rotation");
}

#[tokio::test]
async fn operators_see_devices_with_contact_data_age_queue_and_version_and_can_rename_them() {
    let app = spawn_app().await;
    let op = app.operator();
    let d = app.device(&op, &[1], "A").await;
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/ops/devices/{}", d.device_id)))
        .bearer_auth(&op)
        .json(&json!({ "name": "South gate 1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(app.sync(&d.credential, 0, 0).await.status(), 200);
    let list: Value = app.get("/api/v1/ops/devices", Some(&op)).await.json().await.unwrap();
    let dev = &list[0];
    assert_eq!(dev["name"], "South gate 1");
    assert_eq!(dev["queued"], 3);
    assert_eq!(dev["software_version"], "gate-test 1.0");
    assert!(dev["last_contact"].as_i64().unwrap() >= og_issuer::now() - 5);
    assert!(dev["data_age_secs"].as_i64().unwrap() <= 5);
}

#[tokio::test]
async fn sync_sends_keys_the_devices_events_and_new_revocations_and_answers_304_when_nothing_changed() {
    let app = spawn_app().await;
    let op = app.operator();
    let d = app.device(&op, &[1], "A").await;
    let r = app.sync(&d.credential, 0, 0).await;
    assert_eq!(r.status(), 200);
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let s: SyncResponse = r.json().await.unwrap();
    assert_eq!(s.keys.len(), 1);
    assert_eq!(s.events.iter().map(|e| e.event_id).collect::<Vec<_>>(), [1]);
    assert_eq!(s.events[0].zones.len(), 4);
    let (seq, hash) = s.revocations.check_continues(0, &GENESIS_HASH).unwrap();

    let same = app
        .client
        .get(app.url("/api/v1/device/sync?revocations_after=0&admissions_after=0&queued=3&version=gate-test%201.0"))
        .bearer_auth(&d.credential)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 304);

    let t = app.tickets(1, Offer::Solo, 1);
    let r = app
        .post(
            "/api/v1/ops/revocations",
            Some(&op),
            &json!({ "kind": "ticket", "serial": t[0].serial, "reason": "fraud" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let changed = app
        .client
        .get(app.url("/api/v1/device/sync?revocations_after=0&admissions_after=0"))
        .bearer_auth(&d.credential)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200, "a new revocation changes the answer");
    let s: SyncResponse = changed.json().await.unwrap();
    let (seq2, _) = s.revocations.check_continues(seq, &hash).unwrap();
    assert_eq!(seq2, seq + 1);
    assert_eq!(s.revocations_head, seq2);
}

#[tokio::test]
async fn sync_is_gzipped_for_clients_that_ask() {
    let app = spawn_app().await;
    let op = app.operator();
    let d = app.device(&op, &[1], "A").await;
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let r = raw
        .get(app.url("/api/v1/device/sync"))
        .bearer_auth(&d.credential)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn a_cursor_beyond_the_log_gets_revocations_reset_and_a_long_log_comes_in_pages() {
    let app = spawn_app().await;
    let op = app.operator();
    let d = app.device(&op, &[1], "A").await;
    let r = app.sync(&d.credential, 5, 0).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "revocations_reset");
    app.db
        .write_sync(|tx| {
            for serial in 1..=10_050 {
                og_issuer::trust::revocation::append(
                    tx,
                    og_shared::sync::RevocationTarget::Ticket { serial },
                    og_shared::sync::RevocationReason::Refunded,
                    1000,
                )?;
            }
            Ok(())
        })
        .unwrap();
    let first: SyncResponse = app.synced(&d.credential, 0, 0).await;
    assert_eq!((first.revocations.to_seq, first.revocations_head), (10_000, 10_050));
    let (seq, hash) = first.revocations.check_continues(0, &GENESIS_HASH).unwrap();
    let rest: SyncResponse = app.synced(&d.credential, seq, 0).await;
    assert_eq!(rest.revocations.check_continues(seq, &hash).unwrap().0, 10_050);

    // The binary page carries the whole log at once and checks against the same chain.
    let bin = app.get("/api/v1/device/revocations?after=0", Some(&d.credential)).await;
    assert_eq!(bin.headers()["content-type"], REVOCATIONS_CONTENT_TYPE);
    let page = decode_revocation_page(&bin.bytes().await.unwrap()).unwrap();
    assert_eq!(page.check_continues(0, &GENESIS_HASH).unwrap().0, 10_050);
    // A new entry is in the next snapshot (the cached one covers the old head only).
    let t = app.tickets(1, Offer::Solo, 1);
    app.post(
        "/api/v1/ops/revocations",
        Some(&op),
        &json!({ "kind": "ticket", "serial": t[0].serial, "reason": "fraud" }),
    )
    .await;
    let bin = app.get("/api/v1/device/revocations?after=0", Some(&d.credential)).await;
    let page = decode_revocation_page(&bin.bytes().await.unwrap()).unwrap();
    assert_eq!(page.check_continues(0, &GENESIS_HASH).unwrap().0, 10_051);
    let bin = app
        .get("/api/v1/device/revocations?after=10050", Some(&d.credential))
        .await;
    let delta = decode_revocation_page(&bin.bytes().await.unwrap()).unwrap();
    assert_eq!((delta.from_seq, delta.entries.len()), (10_050, 1));
    let beyond = app
        .get("/api/v1/device/revocations?after=20000", Some(&d.credential))
        .await;
    assert_eq!(beyond.status(), 409);
}

#[tokio::test]
async fn a_batch_sent_twice_is_stored_once_and_a_reused_nonce_with_other_content_is_refused() {
    let app = spawn_app().await;
    let op = app.operator();
    let d = app.device(&op, &[1], "A").await;
    let t = app.tickets(1, Offer::Duo, 1);
    let mut reject = admission(2, 1, t[0].serial, Offer::Duo, "N1");
    reject.verdict = VerdictCode::AlreadyUsed;
    let b = batch(vec![admission(1, 1, t[0].serial, Offer::Duo, "N1"), reject]);
    let ack: ScanBatchAck = app.scan_ack(&d.credential, &b).await;
    assert_eq!(ack.accepted.len(), 2, "rejected scans are stored too");
    let again: ScanBatchAck = app.scan_ack(&d.credential, &b).await;
    assert_eq!((again.accepted.len(), again.duplicates.len()), (0, 2));
    assert_eq!(app.count("SELECT count(*) FROM scans"), 2);
    assert_eq!(app.count("SELECT count(*) FROM admissions"), 1);

    let mut other = admission(1, 1, t[0].serial, Offer::Duo, "N2");
    other.scanned_at -= 60;
    let ack: ScanBatchAck = app.scan_ack(&d.credential, &batch(vec![other])).await;
    assert_eq!(ack.refused.len(), 1);
    assert_eq!(ack.refused[0].code, "nonce_conflict");
    assert_eq!(
        app.count("SELECT count(*) FROM admissions"),
        1,
        "nothing double-counted"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM scan_refusals"),
        1,
        "the refused report is kept"
    );
}

#[tokio::test]
async fn future_timestamps_and_foreign_events_are_refused_and_recorded_and_malformed_batches_get_400() {
    let app = spawn_app().await;
    let op = app.operator();
    let d = app.device(&op, &[1], "A").await;
    let t = app.tickets(1, Offer::Solo, 1);
    let mut future = admission(1, 1, t[0].serial, Offer::Solo, "N1");
    future.scanned_at = og_issuer::now() + 3600;
    let foreign = admission(2, 2, 5, Offer::Solo, "N1");
    let mut no_serial = admission(3, 1, 1, Offer::Solo, "N1");
    no_serial.serial = None;
    let mut bad_nonce = admission(4, 1, 1, Offer::Solo, "N1");
    bad_nonce.nonce = "short".into();
    let ack: ScanBatchAck = app
        .scan_ack(&d.credential, &batch(vec![future, foreign, no_serial, bad_nonce]))
        .await;
    let codes: Vec<_> = ack.refused.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "future_timestamp",
            "event_out_of_scope",
            "malformed_report",
            "bad_nonce"
        ]
    );
    assert_eq!(app.count("SELECT count(*) FROM scan_refusals"), 4);
    assert_eq!(app.count("SELECT count(*) FROM admissions"), 0);

    for body in ["{", "{\"reports\": 5}", "[]"] {
        let r = app
            .client
            .post(app.url("/api/v1/device/scans"))
            .bearer_auth(&d.credential)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
        assert_eq!(error_code(r).await, "malformed_batch");
    }
}

#[tokio::test]
async fn a_ticket_used_at_gate_a_reaches_gate_b_and_a_solo_admitted_twice_is_a_conflict() {
    let app = spawn_app().await;
    let op = app.operator();
    let a = app.device(&op, &[1], "A").await;
    let b = app.device(&op, &[1], "B").await;
    let other_event = app.device(&op, &[2], "C").await;
    let solo = app.tickets(1, Offer::Solo, 1)[0].serial;
    let duo = app.tickets(1, Offer::Duo, 1)[0].serial;

    let ack: ScanBatchAck = app
        .scan_ack(
            &a.credential,
            &batch(vec![
                admission(1, 1, solo, Offer::Solo, "A1"),
                admission(2, 1, duo, Offer::Duo, "A1"),
            ]),
        )
        .await;
    assert!(ack.conflicts.is_empty());
    let sb: SyncResponse = app.synced(&b.credential, 0, 0).await;
    let seen: Vec<_> = sb.admissions.iter().map(|x| (x.serial, x.device_id.as_str())).collect();
    assert_eq!(seen, [(solo, a.device_id.as_str()), (duo, a.device_id.as_str())]);
    let sa: SyncResponse = app.synced(&a.credential, 0, 0).await;
    assert!(sa.admissions.is_empty(), "a device is not sent its own admissions");
    assert_eq!(sa.admissions_to, sb.admissions_to);
    let sc: SyncResponse = app.synced(&other_event.credential, 0, 0).await;
    assert!(sc.admissions.is_empty(), "another event's gates see nothing");

    // Gate B was offline and admitted both again.
    let ack: ScanBatchAck = app
        .scan_ack(
            &b.credential,
            &batch(vec![
                admission(3, 1, solo, Offer::Solo, "B1"),
                admission(4, 1, duo, Offer::Duo, "B1"),
            ]),
        )
        .await;
    assert_eq!(ack.conflicts.len(), 1, "the duo still admits two");
    let c = &ack.conflicts[0];
    assert_eq!((c.serial, c.allowed, c.admitted), (solo, 1, 2));
    assert_eq!(c.gates, ["A1", "B1"]);
    let sa: SyncResponse = app.synced(&a.credential, 0, sa.admissions_to).await;
    assert_eq!(sa.admissions.len(), 2);
    assert_eq!(sa.conflicts.len(), 1, "conflicts are pushed to gates");
    let list: Value = app.get("/api/v1/ops/conflicts", Some(&op)).await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(metrics.contains("og_conflicts_detected_total 1"), "{metrics}");
    assert!(metrics.contains("og_scans_received_total 4"), "{metrics}");
}

#[tokio::test]
async fn operators_revoke_purchases_and_accounts_and_list_the_log() {
    let app = spawn_app().await;
    let op = app.operator();
    let t = app.tickets(1, Offer::Family, 2);
    let (purchase, account): (i64, i64) = app
        .db
        .read_sync(|c| {
            Ok(c.query_row(
                "SELECT purchase_id, account_id FROM tickets WHERE serial = ?1",
                [t[0].serial],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .unwrap();
    for (body, status) in [
        (
            json!({ "kind": "purchase", "purchase_id": purchase, "reason": "refunded" }),
            201,
        ),
        (
            json!({ "kind": "account", "account_id": account, "reason": "account_banned" }),
            201,
        ),
        (json!({ "kind": "ticket", "serial": 9999, "reason": "fraud" }), 404),
    ] {
        let r = app.post("/api/v1/ops/revocations", Some(&op), &body).await;
        assert_eq!(r.status(), status, "{body}");
    }
    let log: Value = app
        .get("/api/v1/ops/revocations?after=0", Some(&op))
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"]["kind"].clone())
        .collect();
    assert_eq!(kinds, ["purchase", "account"]);
    assert_eq!(app.count("SELECT count(*) FROM tickets WHERE status = 'revoked'"), 2);
    assert_eq!(app.count("SELECT count(*) FROM accounts WHERE status = 'banned'"), 1);
}

#[tokio::test]
async fn scans_per_gate_per_minute_count_admitted_and_refused() {
    let app = spawn_app().await;
    let op = app.operator();
    let d = app.device(&op, &[1], "A").await;
    let t = app.tickets(1, Offer::Family, 1)[0].serial;
    let mut refused = admission(2, 1, t, Offer::Family, "North 1");
    refused.verdict = VerdictCode::Revoked;
    let mut b = batch(vec![admission(1, 1, t, Offer::Family, "North 1"), refused]);
    let minute = (og_issuer::now() - 600) / 60 * 60;
    for r in &mut b.reports {
        r.scanned_at = minute + 30;
    }
    app.scans(&d.credential, &b).await;
    let rows: Value = app
        .get("/api/v1/ops/events/1/scans-per-minute?since=0", Some(&op))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        rows,
        json!([{ "gate": "North 1", "minute": minute, "admitted": 1, "refused": 1 }])
    );
}

#[tokio::test]
async fn the_console_signs_in_with_an_operator_token_into_a_strict_httponly_cookie() {
    let app = spawn_app().await;
    let op = app.operator();
    let (csrf_cookie, csrf) = app.csrf();
    let anon = app.get("/ops", None).await;
    assert_eq!(anon.status(), 303);
    assert_eq!(anon.headers()["location"], "/ops/login");
    let bad = app
        .client
        .post(app.url("/ops/login"))
        .header("cookie", &csrf_cookie)
        .form(&[("token", "ogop_wrong"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let r = app
        .client
        .post(app.url("/ops/login"))
        .header("cookie", &csrf_cookie)
        .form(&[("token", op.as_str()), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("__Host-og_ops=")
            && cookie.contains("HttpOnly")
            && cookie.contains("Secure")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/;"),
        "{cookie}"
    );
    assert!(!cookie.contains(&op), "the API token never goes into the cookie");
    let jar = format!("{}; {csrf_cookie}", cookie.split(';').next().unwrap());
    let d = app.device(&op, &[1], "Main gate").await;
    for path in [
        "/ops",
        "/ops/events",
        "/ops/events/1/scans",
        "/ops/conflicts",
        "/ops/revocations",
        "/ops/enrol",
        "/ops/comp",
    ] {
        let page = app
            .client
            .get(app.url(path))
            .header("cookie", &jar)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "{path}");
        let html = page.text().await.unwrap();
        if path == "/ops" {
            assert!(html.contains("Main gate") && html.contains(&d.device_id));
            // Live panels update in place (fragment polling), never by reloading the page.
            assert!(html.contains("data-live=\"/ops/panels/devices\""), "{html}");
            assert!(!html.contains("http-equiv=\"refresh\""), "{html}");
        }
    }
    let enrol = app
        .client
        .post(app.url("/ops/enrol"))
        .header("cookie", &jar)
        .form(&[("events", "1"), ("zone", ""), ("ttl_minutes", "30"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    let html = enrol.text().await.unwrap();
    assert!(html.contains("ogenr_") && html.contains("data:image/png;base64,"));
    // The enrolment QR (issuer address + token, read by `gate-agent enroll --scan`) and the
    // same thing as a command to copy.
    assert!(
        html.contains("id=\"enrol-qr\"") && html.contains("gate-agent enroll --scan"),
        "{html}"
    );
    assert!(
        html.contains(&format!("gate-agent enroll --issuer {} --token ogenr_", app.base)),
        "{html}"
    );
    let comp = app
        .client
        .post(app.url("/ops/comp"))
        .header("cookie", &jar)
        .form(&[
            ("event_id", "1"),
            ("offer", "duo"),
            ("email", "vip@example.org"),
            ("count", "1"),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(comp.status(), 200);
    assert!(comp.text().await.unwrap().contains("OG2:"));
}

#[tokio::test]
async fn operators_create_and_change_events_and_offers_but_cannot_renumber_zones() {
    let app = spawn_app().await;
    let op = app.operator();
    let r = app
        .post(
            "/api/v1/ops/events",
            Some(&op),
            &json!({ "sport": "Rowing", "name": "Men's Eight Final", "venue": "Vaires-sur-Marne",
                     "starts_at": 2_000_000_000i64, "doors_open": 1_999_990_000i64, "doors_close": 2_000_010_000i64,
                     "capacity": 100, "zones": ["Grandstand"], "offers": { "solo": 4500, "duo": 8000 } }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let e: Value = r.json().await.unwrap();
    let id = e["id"].as_i64().unwrap();
    assert_eq!(e["offers"].as_array().unwrap().len(), 2);
    let patch = |body: Value| {
        app.client
            .patch(app.url(&format!("/api/v1/ops/events/{id}")))
            .bearer_auth(&op)
            .json(&body)
            .send()
    };
    let r = patch(json!({ "zones": ["Grandstand", "Riverside"], "offers": { "family": 15000 } }))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["zones"], json!(["Grandstand", "Riverside"]));
    assert_eq!(e["offers"].as_array().unwrap().len(), 3);
    let r = patch(json!({ "zones": ["Riverside", "Grandstand"] })).await.unwrap();
    assert_eq!(r.status(), 409);
    let r = patch(json!({ "doors_close": 1 })).await.unwrap();
    assert_eq!(r.status(), 400);
    let r = patch(json!({ "status": "cancelled" })).await.unwrap();
    assert_eq!(r.status(), 200);
    let events: Value = app.get("/api/v1/ops/events", Some(&op)).await.json().await.unwrap();
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == id && e["status"] == "cancelled")
    );
}

#[tokio::test]
async fn exits_are_shared_with_other_gates_and_are_not_counted_as_admissions() {
    let app = spawn_app().await;
    let op = app.operator();
    let a = app.device(&op, &[1], "A").await;
    let b = app.device(&op, &[1], "B").await;
    let serial = app.tickets(1, Offer::Solo, 1)[0].serial;
    let mut exit = admission(2, 1, serial, Offer::Solo, "A1");
    exit.verdict = VerdictCode::Exited;
    let ack: ScanBatchAck = app
        .scan_ack(
            &a.credential,
            &batch(vec![admission(1, 1, serial, Offer::Solo, "A1"), exit]),
        )
        .await;
    assert!(ack.conflicts.is_empty(), "an exit is no second admission");
    let s: SyncResponse = app.synced(&b.credential, 0, 0).await;
    let dirs: Vec<_> = s.admissions.iter().map(|x| x.direction).collect();
    assert_eq!(
        dirs,
        [og_shared::sync::Direction::Entry, og_shared::sync::Direction::Exit]
    );
    assert!(s.admissions[0].seq < s.admissions[1].seq);
}

#[tokio::test]
async fn a_gzipped_scan_batch_is_accepted() {
    use std::io::Write as _;
    let app = spawn_app().await;
    let op = app.operator();
    let d = app.device(&op, &[1], "A").await;
    let serial = app.tickets(1, Offer::Solo, 1)[0].serial;
    let body = serde_json::to_vec(&batch(vec![admission(1, 1, serial, Offer::Solo, "A1")])).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&body).unwrap();
    let r = app
        .client
        .post(app.url("/api/v1/device/scans"))
        .bearer_auth(&d.credential)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ack: ScanBatchAck = r.json().await.unwrap();
    assert_eq!(ack.accepted.len(), 1);
}

#[tokio::test]
async fn admissions_sent_concurrently_get_a_gap_free_seq_and_a_cursor_misses_none() {
    let app = spawn_app().await;
    let op = app.operator();
    let reader = app.device(&op, &[1], "reader").await;
    let mut writers = Vec::new();
    for i in 0..4 {
        writers.push(app.device(&op, &[1], &format!("w{i}")).await);
    }
    let tickets = app.tickets(1, Offer::Family, 80);
    // Interleave syncs by the reader with concurrent batches from four writers.
    let mut cursor = 0;
    let mut seen = Vec::new();
    let mut batches = Vec::new();
    for (i, w) in writers.iter().enumerate() {
        for round in 0..5u64 {
            let reports = (0..4u64)
                .map(|k| {
                    let n = 1000 * i as u64 + 10 * round + k;
                    admission(n, 1, tickets[(n % 80) as usize].serial, Offer::Family, &format!("G{i}"))
                })
                .collect();
            batches.push((w.credential.clone(), batch(reports)));
        }
    }
    for s in app.send_scans_at_once(batches) {
        assert_eq!(s.await.unwrap(), 200);
        let r: SyncResponse = app.synced(&reader.credential, 0, cursor).await;
        seen.extend(r.admissions.iter().map(|a| a.seq));
        cursor = r.admissions_to;
    }
    let r: SyncResponse = app.synced(&reader.credential, 0, cursor).await;
    seen.extend(r.admissions.iter().map(|a| a.seq));
    assert_eq!(
        seen,
        (1..=80).collect::<Vec<u64>>(),
        "every admission once, in seq order"
    );
}

#[tokio::test]
async fn solos_admitted_at_two_gates_in_batches_sent_at_the_same_moment_are_each_one_conflict() {
    let app = spawn_app().await;
    let op = app.operator();
    let gates = [app.device(&op, &[1], "A").await, app.device(&op, &[1], "B").await];
    let solos: Vec<u32> = app.tickets(1, Offer::Solo, 30).iter().map(|t| t.serial).collect();
    // Each gate was offline and admitted all 30; both queues arrive at once, in several batches.
    let mut batches = Vec::new();
    for (g, gate) in gates.iter().enumerate() {
        for part in solos.chunks(10) {
            let reports = part
                .iter()
                .map(|s| admission(10_000 * g as u64 + u64::from(*s), 1, *s, Offer::Solo, &format!("G{g}")))
                .collect();
            batches.push((gate.credential.clone(), batch(reports)));
        }
    }
    for s in app.send_scans_at_once(batches) {
        assert_eq!(s.await.unwrap(), 200);
    }
    let list: Value = app.get("/api/v1/ops/conflicts", Some(&op)).await.json().await.unwrap();
    let mut flagged: Vec<u64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(
                (c["allowed"].as_u64(), c["admitted"].as_u64()),
                (Some(1), Some(2)),
                "{c}"
            );
            c["serial"].as_u64().unwrap()
        })
        .collect();
    flagged.sort_unstable();
    let expected: Vec<u64> = solos.iter().map(|s| u64::from(*s)).collect();
    assert_eq!(
        flagged, expected,
        "every ticket in through both gates is one conflict, none missed"
    );
}

#[tokio::test]
async fn the_console_renames_rotates_and_revokes_devices() {
    let app = spawn_app().await;
    let op = app.operator();
    let d = app.device(&op, &[1], "Old name").await;
    let (csrf_cookie, csrf) = app.csrf();
    let login = app
        .client
        .post(app.url("/ops/login"))
        .header("cookie", &csrf_cookie)
        .form(&[("token", op.as_str()), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    let session = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let jar = format!("{session}; {csrf_cookie}");
    let post = |path: String, form: Vec<(&'static str, &'static str)>| {
        let mut form: Vec<(&str, &str)> = form;
        form.push(("csrf", csrf.as_str()));
        app.client
            .post(app.url(&path))
            .header("cookie", jar.clone())
            .form(&form)
            .send()
    };
    let r = post(format!("/ops/devices/{}/rename", d.device_id), vec![("name", "East 2")])
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = post(format!("/ops/devices/{}/rotate", d.device_id), vec![])
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("ogdev_"));
    assert_eq!(
        app.sync(&d.credential, 0, 0).await.status(),
        401,
        "the old credential is refused"
    );
    post(format!("/ops/devices/{}/revoke", d.device_id), vec![])
        .await
        .unwrap();
    let list: Value = app.get("/api/v1/ops/devices", Some(&op)).await.json().await.unwrap();
    assert_eq!(
        (list[0]["name"].as_str(), list[0]["status"].as_str()),
        (Some("East 2"), Some("revoked"))
    );
}

#[tokio::test]
async fn a_large_batch_is_taken_and_a_gzip_bomb_is_refused_without_decompressing_it_all() {
    use std::io::Write as _;
    let app = spawn_app().await;
    let op = app.operator();
    let d = app.device(&op, &[1], "A").await;
    let serial = app.tickets(1, Offer::Solo, 1)[0].serial;
    let mut reports: Vec<_> = (0..9_000u64)
        .map(|n| {
            let mut r = admission(n, 1, serial, Offer::Solo, "A1");
            r.verdict = VerdictCode::AlreadyUsed;
            r.reason = "ticket already used at another gate a moment ago".into();
            r
        })
        .collect();
    reports[0].verdict = VerdictCode::Admitted;
    let body = serde_json::to_vec(&batch(reports)).unwrap();
    assert!(body.len() > 2_200_000, "{}", body.len());
    let r = app
        .client
        .post(app.url("/api/v1/device/scans"))
        .bearer_auth(&d.credential)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ack: ScanBatchAck = r.json().await.unwrap();
    assert_eq!(ack.accepted.len(), 9_000);

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..200 {
        gz.write_all(&spaces).unwrap();
    }
    let r = app
        .client
        .post(app.url("/api/v1/device/scans"))
        .bearer_auth(&d.credential)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert!(r.status() == 413 || r.status() == 400, "{}", r.status());
}

#[tokio::test]
async fn cancelling_an_event_revokes_its_tickets_for_gates_and_it_cannot_be_scheduled_again() {
    let app = spawn_app().await;
    let op = app.operator();
    let cancelled: Vec<u32> = app.tickets(1, Offer::Duo, 3).iter().map(|t| t.serial).collect();
    let other = app.tickets(2, Offer::Solo, 1)[0].serial;
    let patch = |body: Value| {
        app.client
            .patch(app.url("/api/v1/ops/events/1"))
            .bearer_auth(&op)
            .json(&body)
            .send()
    };
    let r = patch(json!({ "status": "cancelled" })).await.unwrap();
    assert_eq!(r.status(), 200);
    let log = app.revocation_log(&op).await;
    let revoked: Vec<u32> = log
        .iter()
        .filter(|e| e.reason == RevocationReason::Cancelled)
        .filter_map(|e| match e.target {
            RevocationTarget::Ticket { serial } => Some(serial),
            _ => None,
        })
        .collect();
    assert_eq!(revoked, cancelled, "every ticket of the event, and only those");
    assert!(!revoked.contains(&other));
    // Cancelling again changes nothing; scheduling again is refused.
    assert_eq!(patch(json!({ "status": "cancelled" })).await.unwrap().status(), 200);
    let again = app.revocation_log(&op).await;
    assert_eq!(again.len(), log.len());
    let r = patch(json!({ "status": "scheduled" })).await.unwrap();
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "event_cancelled");
}

#[tokio::test]
async fn a_gates_clock_offset_reported_at_sync_shows_in_the_device_list_and_warns_when_too_far() {
    let app = spawn_app().await;
    let op = app.operator();
    let north = app.device(&op, &[1], "North 1").await;
    let south = app.device(&op, &[1], "South 2").await;
    for (d, offset) in [(&north, 3), (&south, -40)] {
        let r = app
            .get(
                &format!("/api/v1/device/sync?revocations_after=0&admissions_after=0&clock_offset={offset}"),
                Some(&d.credential),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    // A sync that does not report it keeps the last known offset.
    assert_eq!(app.sync(&north.credential, 0, 0).await.status(), 200);
    let list: Value = app.get("/api/v1/ops/devices", Some(&op)).await.json().await.unwrap();
    let offset =
        |name: &str| list.as_array().unwrap().iter().find(|d| d["name"] == name).unwrap()["clock_offset_secs"].clone();
    assert_eq!(offset("North 1"), 3);
    assert_eq!(offset("South 2"), -40);
    let html = app.get("/ops", Some(&op)).await.text().await.unwrap();
    assert!(html.contains("3 s ahead"), "{html}");
    assert!(html.contains("40 s behind"), "{html}");
    assert_eq!(
        html.matches("set the gate&#39;s clock").count() + html.matches("set the gate's clock").count(),
        1,
        "only the gate 40 s off is flagged"
    );
}

#[tokio::test]
async fn one_nonce_twice_in_a_batch_is_stored_once_and_its_copy_with_other_content_is_refused_in_order() {
    let app = spawn_app().await;
    let op = app.operator();
    let d = app.device(&op, &[1], "A").await;
    let t = app.tickets(1, Offer::Solo, 2);
    let first = admission(7, 1, t[0].serial, Offer::Solo, "N1");
    let mut changed = first.clone();
    changed.gate = "N2".into();
    let b = batch(vec![
        first.clone(),
        admission(8, 1, t[1].serial, Offer::Solo, "N1"),
        first.clone(),
        changed,
    ]);
    let ack: ScanBatchAck = app.scan_ack(&d.credential, &b).await;
    assert_eq!(ack.accepted, vec![ops_support::nonce(7), ops_support::nonce(8)]);
    assert_eq!(ack.duplicates, vec![ops_support::nonce(7)]);
    assert_eq!(ack.refused.len(), 1);
    assert_eq!(ack.refused[0].code, "nonce_conflict");
    assert_eq!(app.count("SELECT count(*) FROM scans"), 2);
    assert_eq!(app.count("SELECT count(*) FROM admissions"), 2);
    assert_eq!(
        app.count("SELECT count(*) FROM admissions WHERE seq IN (1, 2)"),
        2,
        "admissions keep a gap-free sequence"
    );
}
