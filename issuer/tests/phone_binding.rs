//! Binding a ticket to the holder's phone through the real HTTP API (issue 11): only the holder
//! binds, a bad key is a clear 400, moving to another phone is limited and revokes the old
//! phone's key in the revocation log, a transfer unbinds the sender's phone, and an event that
//! requires the phone hides the static code unless an operator records a paper exception.

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use og_shared::bound::{BoundTicket, DeviceSigner, verify_rotating_qr_text};
use og_shared::sync::{HolderBinding, Revocation, RevocationTarget};
use og_shared::{TrustStore, UnixSeconds};
use serde_json::{Value, json};
use support::{Buyer, TestApp, spawn_app, spawn_app_with};

/// Event 2 of the demo catalogue: its doors open tomorrow (transfers still allowed).
const LATER: i64 = 2;

/// A TEST-ONLY phone key from a fixed seed.
fn phone(seed: u8) -> DeviceSigner {
    DeviceSigner::from_secret_bytes(&[seed; 32]).unwrap()
}

fn key_b64(p: &DeviceSigner) -> String {
    URL_SAFE_NO_PAD.encode(p.public_key().as_bytes())
}

async fn bind(app: &TestApp, b: &Buyer, serial: u64, public_key: &str) -> (u16, Value) {
    app.post_json(
        &format!("/api/v1/tickets/{serial}/binding"),
        Some(&b.access),
        &json!({ "public_key": public_key }),
    )
    .await
}

async fn first_serial(app: &TestApp, b: &Buyer) -> u64 {
    let (st, t) = app.get_json("/api/v1/tickets", Some(&b.access)).await;
    assert_eq!(st, 200, "{t}");
    t["tickets"][0]["serial"].as_u64().unwrap()
}

async fn buyer_with_ticket(app: &TestApp, email: &str) -> (Buyer, u64) {
    let b = app.buyer(email).await;
    app.buy(&b, LATER, "solo", 1).await;
    let serial = first_serial(app, &b).await;
    (b, serial)
}

fn trust(app: &TestApp) -> TrustStore {
    TrustStore::new(app.state.signer.deployment().clone()).with(app.state.signer.trusted_key(0, i64::MAX))
}

fn device_key_revocations(app: &TestApp, serial: u64) -> Vec<Revocation> {
    app.state
        .db
        .read_sync(|c| og_issuer::trust::revocation::entries_after(c, 0, None))
        .unwrap()
        .into_iter()
        .filter(|r| matches!(r.target, RevocationTarget::DeviceKey { serial: s, .. } if u64::from(s) == serial))
        .collect()
}

async fn patch_event(app: &TestApp, op: &str, event: i64, body: Value) -> (u16, Value) {
    app.patch_json(&format!("/api/v1/ops/events/{event}"), Some(op), &body)
        .await
}

#[tokio::test]
async fn the_holder_binds_a_phone_and_its_codes_verify_offline_with_the_issuers_public_key() {
    let app = spawn_app().await;
    let (b, serial) = buyer_with_ticket(&app, "holder@example.org").await;
    let p = phone(7);
    let (st, body) = bind(&app, &b, serial, &key_b64(&p)).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["rotation_period_secs"], 5);
    assert_eq!(body["binding_no"], 1);
    assert_eq!(body["replaced_phone"], false);
    let issuer_ms = body["issuer_time_ms"].as_i64().unwrap();
    assert!(
        (issuer_ms / 1000 - og_issuer::now()).abs() <= 2,
        "the issuer's clock in ms: {issuer_ms}"
    );
    let raw = URL_SAFE_NO_PAD.decode(body["bound_ticket"].as_str().unwrap()).unwrap();
    assert_eq!(raw.len(), 133, "the bound ticket is 133 bytes");
    let bound = BoundTicket::from_base64url(body["bound_ticket"].as_str().unwrap()).unwrap();
    assert_eq!(bound.device_key, p.public_key());
    assert_eq!(u64::from(bound.claims.serial), serial);
    bound.verify_issuer(&trust(&app), og_issuer::now()).unwrap();
    let now: UnixSeconds = og_issuer::now();
    let code = p.rotating_code(&bound, now, 5).to_text();
    assert_eq!(code.len(), 306);
    let verified = verify_rotating_qr_text(code.as_bytes(), &trust(&app), now, 30).unwrap();
    assert_eq!(u64::from(verified.claims.serial), serial);

    // The same phone asking again (a cleared page) gets the same bound ticket, for free.
    let (st, again) = bind(&app, &b, serial, &key_b64(&p)).await;
    assert_eq!(st, 200, "{again}");
    assert_eq!(again["bound_ticket"], body["bound_ticket"]);
    assert_eq!(again["binding_no"], 1);
    assert!(device_key_revocations(&app, serial).is_empty());
}

#[tokio::test]
async fn only_the_holder_can_bind_a_ticket_and_nobody_without_a_session() {
    let app = spawn_app().await;
    let (_, serial) = buyer_with_ticket(&app, "owner@example.org").await;
    let other = app.buyer("stranger@example.org").await;
    let (st, body) = bind(&app, &other, serial, &key_b64(&phone(1))).await;
    assert_eq!(st, 404, "another account's ticket is not found: {body}");
    let (st, _) = app
        .post_json(
            &format!("/api/v1/tickets/{serial}/binding"),
            None,
            &json!({ "public_key": key_b64(&phone(1)) }),
        )
        .await;
    assert_eq!(st, 401);
    assert_eq!(app.db_i64("SELECT count(*) FROM ticket_bindings"), 0);
}

#[tokio::test]
async fn a_key_that_is_not_a_p256_public_key_is_a_clear_400_never_a_server_error() {
    let app = spawn_app().await;
    let (b, serial) = buyer_with_ticket(&app, "careful@example.org").await;
    let mut off_curve = vec![0x04];
    off_curve.extend([1u8; 64]);
    let uncompressed = phone(3).public_key().decompress().unwrap();
    for bad in [
        "".to_owned(),
        "not base64 at all!".to_owned(),
        URL_SAFE_NO_PAD.encode([2u8; 32]),
        URL_SAFE_NO_PAD.encode(&off_curve),
        URL_SAFE_NO_PAD.encode([0u8; 33]),
        "A".repeat(5000),
    ] {
        let (st, body) = bind(&app, &b, serial, &bad).await;
        assert_eq!(st, 400, "{bad:?}: {body}");
        assert_eq!(body["error"]["code"], "bad_public_key", "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("P-256"), "{body}");
    }
    let (st, body) = app
        .post_json(
            &format!("/api/v1/tickets/{serial}/binding"),
            Some(&b.access),
            &json!({ "public_key": 42 }),
        )
        .await;
    assert!(st == 400 || st == 422, "{st} {body}");
    // WebCrypto's raw export (65 bytes, uncompressed) is accepted and stored compressed.
    let (st, body) = bind(&app, &b, serial, &URL_SAFE_NO_PAD.encode(uncompressed)).await;
    assert_eq!(st, 200, "{body}");
    let bound = BoundTicket::from_base64url(body["bound_ticket"].as_str().unwrap()).unwrap();
    assert_eq!(bound.device_key, phone(3).public_key());
}

#[tokio::test]
async fn moving_to_another_phone_revokes_the_old_key_in_the_log_and_stops_at_the_configured_limit() {
    let app = spawn_app_with(tempfile::tempdir().unwrap(), |s| s.phone.max_rebinds = 2).await;
    let (b, serial) = buyer_with_ticket(&app, "mover@example.org").await;
    let (st, _) = bind(&app, &b, serial, &key_b64(&phone(1))).await;
    assert_eq!(st, 200);
    for (i, seed) in [2u8, 3].into_iter().enumerate() {
        let (st, body) = bind(&app, &b, serial, &key_b64(&phone(seed))).await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["replaced_phone"], true);
        assert_eq!(body["rebinds_left"], 1 - i as u64, "{body}");
        let revoked = device_key_revocations(&app, serial);
        assert_eq!(revoked.len(), i + 1, "one revocation per replaced phone: {revoked:?}");
        let RevocationTarget::DeviceKey { key_tag, .. } = revoked[i].target else {
            unreachable!()
        };
        assert_eq!(
            key_tag,
            phone(seed - 1).public_key().tag(),
            "the previous phone's key is revoked"
        );
    }
    let (st, body) = bind(&app, &b, serial, &key_b64(&phone(4))).await;
    assert_eq!(st, 409, "{body}");
    assert_eq!(body["error"]["code"], "too_many_rebinds");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("as often as allowed (2 times)"),
        "the refusal says why: {body}"
    );
    assert_eq!(
        device_key_revocations(&app, serial).len(),
        2,
        "a refusal revokes nothing"
    );
    // The phone bound now still works with its own key.
    let (st, _) = bind(&app, &b, serial, &key_b64(&phone(3))).await;
    assert_eq!(st, 200);
}

#[tokio::test]
async fn a_transfer_unbinds_the_senders_phone_and_the_recipient_binds_their_own() {
    let app = spawn_app().await;
    let (alice, serial) = buyer_with_ticket(&app, "alice@example.org").await;
    let bob = app.buyer("bob@example.org").await;
    let (st, _) = bind(&app, &alice, serial, &key_b64(&phone(1))).await;
    assert_eq!(st, 200);
    let (st, body) = app
        .post_json(
            &format!("/api/v1/tickets/{serial}/transfer"),
            Some(&alice.access),
            &json!({ "to_email": "bob@example.org" }),
        )
        .await;
    assert_eq!(st, 202, "{body}");
    let revoked = device_key_revocations(&app, serial);
    assert_eq!(revoked.len(), 1, "{revoked:?}");
    assert_eq!(
        revoked[0].target,
        RevocationTarget::DeviceKey {
            serial: serial as u32,
            key_tag: phone(1).public_key().tag()
        }
    );
    let (st, _) = bind(&app, &alice, serial, &key_b64(&phone(1))).await;
    assert_eq!(st, 404, "the sender no longer holds it");
    let (st, body) = bind(&app, &bob, serial, &key_b64(&phone(9))).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(
        body["replaced_phone"], false,
        "the recipient's first phone replaces nothing"
    );
    let bound = BoundTicket::from_base64url(body["bound_ticket"].as_str().unwrap()).unwrap();
    assert_eq!(bound.claims.generation, 1, "bound to the recipient's code");
}

#[tokio::test]
async fn an_event_that_requires_the_phone_hides_the_static_code_unless_an_operator_records_a_paper_exception() {
    let app = spawn_app().await;
    let op = app.operator();
    let (b, serial) = buyer_with_ticket(&app, "fan@example.org").await;
    let (st, png) = app
        .get_json(&format!("/api/v1/tickets/{serial}/qr.png"), Some(&b.access))
        .await;
    assert_eq!(st, 200, "{png}");

    let (st, ev) = patch_event(&app, &op, LATER, json!({ "holder_binding": "required" })).await;
    assert_eq!(st, 200, "{ev}");
    assert_eq!(ev["holder_binding"], "required");
    let (st, body) = app
        .get_json(&format!("/api/v1/tickets/{serial}/qr.png"), Some(&b.access))
        .await;
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (409, Some("phone_code_required")),
        "{body}"
    );
    // The JSON API does not hand the static code out either.
    let (st, t) = app
        .get_json(&format!("/api/v1/tickets/{serial}"), Some(&b.access))
        .await;
    assert_eq!(st, 200, "{t}");
    assert!(t["qr_text"].is_null(), "no static code under a required policy: {t}");
    let page = app
        .client
        .get(app.url(&format!("/tickets/{serial}")))
        .bearer_auth(&b.access)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Download PNG"), "no download under a required policy");
    assert!(
        page.contains("Use this phone as my ticket"),
        "the phone is offered instead"
    );
    let (st, bad) = patch_event(&app, &op, LATER, json!({ "holder_binding": "sometimes" })).await;
    assert!(st == 400 || st == 422, "{st} {bad}");

    let (st, body) = app
        .post_json(
            &format!("/api/v1/ops/tickets/{serial}/paper-exception"),
            Some(&op),
            &json!({ "name": "Ada Lovelace", "reason": "no smartphone" }),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    assert_eq!(body["person_name"], "Ada Lovelace");
    let (st, _) = app
        .get_json(&format!("/api/v1/tickets/{serial}/qr.png"), Some(&b.access))
        .await;
    assert_eq!(st, 200, "a paper exception shows the static code again");
    let (st, twice) = app
        .post_json(
            &format!("/api/v1/ops/tickets/{serial}/paper-exception"),
            Some(&op),
            &json!({ "name": "Someone Else", "reason": "again" }),
        )
        .await;
    assert_eq!(st, 409, "{twice}");
    let (st, empty) = app
        .post_json(
            &format!("/api/v1/ops/tickets/{serial}/paper-exception"),
            Some(&op),
            &json!({ "name": " ", "reason": "x" }),
        )
        .await;
    assert_eq!(st, 400, "{empty}");
    let (st, none) = app
        .post_json(
            "/api/v1/ops/tickets/999999/paper-exception",
            Some(&op),
            &json!({ "name": "Ada", "reason": "x" }),
        )
        .await;
    assert_eq!(st, 404, "{none}");
    let (st, _) = app
        .post_json(
            &format!("/api/v1/ops/tickets/{serial}/paper-exception"),
            Some(&b.access),
            &json!({ "name": "Me", "reason": "I want it" }),
        )
        .await;
    assert_eq!(st, 403, "a buyer is no operator");

    // Gates learn both from their event facts.
    let facts = app
        .state
        .db
        .read_sync(|c| og_issuer::ops::catalogue::event_facts(c, Some(&[LATER as u32])))
        .unwrap();
    assert_eq!(facts[0].holder_binding, HolderBinding::Required);
    assert_eq!(facts[0].paper_exceptions, vec![serial as u32]);
}

#[tokio::test]
async fn only_the_phone_pages_may_run_script_and_only_from_the_issuer_itself() {
    let app = spawn_app().await;
    let csp = |path: &'static str| {
        let app = &app;
        async move {
            let res = app.client.get(app.url(path)).send().await.unwrap();
            assert!(
                res.status().is_success() || res.status().is_redirection(),
                "{path}: {}",
                res.status()
            );
            res.headers()["content-security-policy"].to_str().unwrap().to_owned()
        }
    };
    for path in ["/", "/login", "/tickets", "/api/v1/events"] {
        let p = csp(path).await;
        assert!(!p.contains("script-src"), "{path} allows script: {p}");
        assert!(p.contains("default-src 'none'"), "{path}: {p}");
    }
    for path in [
        "/phone/phone.js",
        "/phone/qrcode.js",
        "/phone/sw.js",
        "/phone/manifest.webmanifest",
        "/phone/time",
    ] {
        let p = csp(path).await;
        assert!(p.contains("script-src 'self';"), "{path}: {p}");
        assert!(
            !p.contains("unsafe-eval") && !p.contains("script-src 'self' 'unsafe-inline'"),
            "{path}: {p}"
        );
        assert!(p.contains("frame-ancestors 'none'"), "{path}: {p}");
    }
    let js = app
        .client
        .get(app.url("/phone/qrcode.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        js.contains("Licensed under the MIT license"),
        "the vendored encoder keeps its licence header"
    );
    let (st, manifest) = app.get_json("/phone/manifest.webmanifest?ticket=12", None).await;
    assert_eq!(st, 200);
    assert_eq!(manifest["start_url"], "/phone/12");
    assert_eq!(manifest["scope"], "/phone/");
    let (st, t) = app.get_json("/phone/time", None).await;
    assert_eq!(st, 200);
    assert!(
        (t["now_ms"].as_i64().unwrap() / 1000 - og_issuer::now()).abs() <= 2,
        "{t}"
    );
}
