//! The gate-operations subcommands, run as the real `issuer` binary on a temp data dir.

use std::path::Path;
use std::process::{Command, Output};

use og_shared::sync::GateBundle;
use og_shared::{TrustStore, verify_qr_text};

fn issuer(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_issuer"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("OG_CONFIG")
        .env_remove("OG_DEPLOYMENT_ID")
        .output()
        .expect("issuer runs")
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).expect("utf-8 output")
}

#[test]
fn events_list_prints_the_catalogue_with_ids_as_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let text = ok(issuer(dir.path(), &["events", "list"]));
    assert!(
        text.contains("Men's 100m Final") && text.contains("Stade de France"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&ok(issuer(dir.path(), &["events", "list", "--json"]))).unwrap();
    let events = json.as_array().unwrap();
    assert_eq!(events.len(), 12);
    assert_eq!(events[0]["id"], 1);
    let kinds: Vec<_> = events[0]["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].clone())
        .collect();
    assert_eq!(kinds, ["solo", "duo", "family"]);
}

#[test]
fn create_operator_prints_a_token_once_and_stores_only_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(issuer(
        dir.path(),
        &["admin", "create-operator", "--email", "ops@example.org"],
    ));
    let token = out.trim();
    assert!(token.starts_with("ogop_") && token.len() > 40, "{out}");
    let db = std::fs::read(dir.path().join("issuer.sqlite3")).unwrap();
    assert!(
        !db.windows(token.len()).any(|w| w == token.as_bytes()),
        "the token is not stored in clear"
    );
    let again = ok(issuer(
        dir.path(),
        &["admin", "create-operator", "--email", "ops@example.org"],
    ));
    assert_ne!(again.trim(), token, "each call makes a new token");
    let bad = issuer(dir.path(), &["admin", "create-operator", "--email", "not an email"]);
    assert!(!bad.status.success());
}

#[test]
fn create_operator_gives_the_role_asked_for_and_refuses_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    let o = issuer(
        dir.path(),
        &[
            "admin",
            "create-operator",
            "--email",
            "help@example.org",
            "--role",
            "support",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("role support"));
    let default = issuer(dir.path(), &["admin", "create-operator", "--email", "boss@example.org"]);
    assert!(String::from_utf8_lossy(&default.stderr).contains("role admin"));
    let bad = issuer(
        dir.path(),
        &["admin", "create-operator", "--email", "x@example.org", "--role", "root"],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not admin, supervisor or support"));
}

fn decode_png(path: &Path) -> String {
    let img = image::open(path).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in {}", path.display());
    grids[0].decode().unwrap().1
}

fn now() -> i64 {
    og_issuer::now()
}

#[test]
fn comp_writes_complimentary_tickets_that_verify_offline_and_decode_from_their_png() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("comps");
    let out_s = out.to_str().unwrap();
    ok(issuer(
        dir.path(),
        &[
            "comp",
            "--event",
            "1",
            "--offer",
            "family",
            "--email",
            "press@example.org",
            "--count",
            "2",
            "--out",
            out_s,
        ],
    ));
    let bundle_path = dir.path().join("gate.bundle");
    ok(issuer(
        dir.path(),
        &[
            "export-gate-bundle",
            "--event",
            "1",
            "--out",
            bundle_path.to_str().unwrap(),
        ],
    ));
    let bundle = GateBundle::from_signed_file(&std::fs::read(&bundle_path).unwrap(), None, now()).unwrap();
    let trust: TrustStore = bundle.trust_store().unwrap();
    let mut serials = Vec::new();
    for serial in [1, 2] {
        let text = std::fs::read_to_string(out.join(format!("ticket-{serial}.txt"))).unwrap();
        let text = text.trim_end();
        assert_eq!(decode_png(&out.join(format!("ticket-{serial}.png"))), text);
        // Doors of the first demo event are open now.
        let t = verify_qr_text(text.as_bytes(), &trust, now()).unwrap().claims;
        assert_eq!((t.event_id, t.offer.admits()), (1, 4));
        assert!(t.flags.complimentary());
        serials.push(t.serial);
    }
    assert_ne!(serials[0], serials[1]);
}

#[test]
fn comp_for_an_unknown_event_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("comps");
    let o = issuer(
        dir.path(),
        &[
            "comp",
            "--event",
            "999",
            "--offer",
            "solo",
            "--email",
            "a@example.org",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("999"));
    assert!(!out.join("ticket-1.png").exists());
    let bad_offer = issuer(
        dir.path(),
        &[
            "comp",
            "--event",
            "1",
            "--offer",
            "trio",
            "--email",
            "a@example.org",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(!bad_offer.status.success());
}

#[test]
fn a_gate_bundle_carries_keys_revocations_and_only_the_chosen_event() {
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all.bundle");
    ok(issuer(
        dir.path(),
        &["export-gate-bundle", "--out", all.to_str().unwrap()],
    ));
    let b = GateBundle::from_signed_file(&std::fs::read(&all).unwrap(), None, now()).unwrap();
    assert_eq!(b.events.len(), 12);
    assert_eq!(b.keys.len(), 1);
    assert_eq!(b.revocations.from_seq, 0);
    assert_eq!(b.zone, None);
    let one = dir.path().join("one.bundle");
    ok(issuer(
        dir.path(),
        &[
            "export-gate-bundle",
            "--event",
            "2",
            "--zone",
            "1",
            "--out",
            one.to_str().unwrap(),
        ],
    ));
    let b = GateBundle::from_signed_file(&std::fs::read(&one).unwrap(), None, now()).unwrap();
    assert_eq!(b.events.iter().map(|e| e.event_id).collect::<Vec<_>>(), [2]);
    assert_eq!(b.zone, Some(1));
    let bad = issuer(
        dir.path(),
        &["export-gate-bundle", "--event", "2", "--zone", "9", "--out", "x"],
    );
    assert!(!bad.status.success(), "event 2 has two zones");
}

#[test]
fn revoked_operator_tokens_no_longer_match_an_operator() {
    let dir = tempfile::tempdir().unwrap();
    let token = ok(issuer(
        dir.path(),
        &["admin", "create-operator", "--email", "ops@example.org"],
    ));
    let db = og_issuer::store::Db::open(&dir.path().join("issuer.sqlite3")).unwrap();
    let found = |t: &str| {
        db.read_sync(|c| og_issuer::ops::auth::operator_for_token(c, t))
            .unwrap()
    };
    assert!(found(token.trim()).is_some());
    let out = ok(issuer(
        dir.path(),
        &["admin", "revoke-operator-tokens", "--email", "ops@example.org"],
    ));
    assert!(out.contains("revoked 1"), "{out}");
    assert!(found(token.trim()).is_none());
}
