//! What a gate trusts, attacked through real processes: a man in the middle (a proxy on
//! 127.0.0.1 between `gate-agent` and `issuer`, see `support::mitm`) rewrites sync answers as an
//! attacker on a plain-HTTP link would, and an issuer restored from a backup serves an older
//! revocation log. Each time the gate keeps refusing the revoked ticket (or the forged one), says
//! why, and changes nothing.

mod support;

use std::path::Path;
use std::sync::{Arc, Mutex};

use og_shared::sync::{GENESIS_HASH, KeyInfo, REVOCATIONS_CONTENT_TYPE, RevocationPage, encode_revocation_page};
use og_shared::ticket::{CLAIMS_LEN, TicketClaims};
use og_shared::{DeploymentId, Offer, TicketSigner};
use support::mitm::{Answer, Mitm, Seen};
use support::{Gate, GateRun, IssuerProc, comp_tickets, enrolment_token, http, operator_token};

const SYNC: &str = "/api/v1/device/sync";
const SNAPSHOT: &str = "/api/v1/device/revocations";

/// An issuer with three complimentary tickets for event 1, the first one revoked.
struct World {
    issuer: IssuerProc,
    op: String,
    client: reqwest::blocking::Client,
    tickets: Vec<(u32, String, std::path::PathBuf)>,
}

impl World {
    fn start(dir: &Path, email: &str) -> World {
        let issuer = IssuerProc::start(&dir.join("issuer"), &[]);
        let op = operator_token(&issuer.data_dir);
        let tickets = comp_tickets(&issuer.data_dir, 1, "solo", email, 3);
        let w = World {
            issuer,
            op,
            client: http(),
            tickets,
        };
        w.revoke(0);
        w
    }

    fn revoke(&self, i: usize) {
        let r = self
            .client
            .post(format!("{}/api/v1/ops/revocations", self.issuer.url))
            .bearer_auth(&self.op)
            .json(&serde_json::json!({"kind": "ticket", "serial": self.tickets[i].0, "reason": "refunded"}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 201, "{}", self.issuer.log());
    }

    /// Enrols `gate` with the issuer at `url` (the issuer itself or a proxy in front of it).
    fn enrol(&self, gate: &Gate, url: &str) {
        let token = enrolment_token(&self.client, &self.issuer, &self.op, &[1]);
        let r = gate.run(&["enroll", "--issuer", url, "--token", &token, "--gate", &gate.name]);
        assert_eq!(r.code, 0, "{r:?}\n{}", self.issuer.log());
    }

    /// The issuer's record of the only enrolled device.
    fn device_record(&self) -> serde_json::Value {
        let devices: Vec<serde_json::Value> = self
            .client
            .get(format!("{}/api/v1/ops/devices", self.issuer.url))
            .bearer_auth(&self.op)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(devices.len(), 1, "{devices:?}");
        devices[0].clone()
    }
}

fn reason(gate: &Gate, text: &str) -> String {
    gate.check(text)["reason"].as_str().unwrap().to_owned()
}

/// A sync the gate refused: exit code, the JSON line, `status` and the error all say why.
fn assert_refused(gate: &Gate, r: &GateRun, code: &str) {
    assert_eq!(r.code, 2, "{r:?}");
    let line = r.only();
    assert_eq!(line["synced"], false, "{r:?}");
    assert_eq!(line["refused"], code, "{r:?}");
    assert!(r.stderr.contains("sync refused"), "{r:?}");
    let status = gate.run(&["status"]);
    let refused = &status.only()["sync_refused"];
    assert_eq!(refused["code"], code, "{status:?}");
    assert!(!refused["reason"].as_str().unwrap().is_empty(), "{status:?}");
}

fn revocations_after(seen: &Seen) -> u64 {
    seen.param("revocations_after")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_man_in_the_middle_answering_revocations_reset_with_an_empty_snapshot_cannot_unrevoke_a_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let w = World::start(dir.path(), "reset@example.org");
    let mitm = Mitm::start(&w.issuer.url);
    let gate = Gate::new(dir.path(), "gate-mitm-reset");
    w.enrol(&gate, &mitm.url);
    assert_eq!(reason(&gate, &w.tickets[0].1), "revoked");

    // "Your copy is beyond my log: start over", then an empty log, in binary and in JSON.
    mitm.set(|seen, mut answer| {
        if seen.path == SYNC && revocations_after(seen) > 0 {
            return Answer::json(
                409,
                &serde_json::json!({"error": {"code": "revocations_reset", "message": "discard your copy"}}),
            );
        }
        let empty = RevocationPage::build(0, GENESIS_HASH, vec![]);
        if seen.path == SNAPSHOT {
            answer.body = encode_revocation_page(&empty).unwrap();
            answer.headers.retain(|(k, _)| k != "content-type");
            answer
                .headers
                .push(("content-type".into(), REVOCATIONS_CONTENT_TYPE.into()));
        } else if seen.path == SYNC && answer.status == 200 {
            let mut v = answer.json_body();
            v["revocations"] = serde_json::to_value(&empty).unwrap();
            v["revocations_head"] = 0.into();
            answer.body = serde_json::to_vec(&v).unwrap();
        }
        answer
    });
    let r = gate.sync();
    assert_eq!(
        reason(&gate, &w.tickets[0].1),
        "revoked",
        "the copy was not wiped: {r:?}"
    );
    assert_refused(&gate, &r, "not_checkpointed");
    assert_eq!(reason(&gate, &w.tickets[1].1), "admitted");

    // Without its signature the forged answer is refused as unsigned.
    mitm.set(|seen, mut answer| {
        if seen.path == SYNC && answer.status == 200 {
            let mut v = answer.json_body();
            v["revocations"] = serde_json::to_value(RevocationPage::build(0, GENESIS_HASH, vec![])).unwrap();
            v["revocations_head"] = 0.into();
            v.as_object_mut().unwrap().remove("checkpoint");
            answer.body = serde_json::to_vec(&v).unwrap();
        }
        answer
    });
    let r = gate.run(&["sync"]);
    assert_refused(&gate, &r, "unsigned");
    assert_eq!(reason(&gate, &w.tickets[0].1), "revoked");

    // The attacker gone, the next sync works, and the issuer learnt what the gate refused.
    mitm.pass();
    let r = gate.sync();
    assert_eq!(r.code, 0, "{r:?}");
    assert!(gate.run(&["status"]).only()["sync_refused"].is_null());
    let record = w.device_record();
    assert!(
        record["sync_refusal"].as_str().unwrap().starts_with("unsigned:"),
        "{record}"
    );
    assert_eq!(gate.sync().code, 0);
    assert!(
        w.device_record()["sync_refusal"].is_null(),
        "cleared once the gate accepts again"
    );
}

#[test]
fn a_man_in_the_middle_injecting_its_own_key_cannot_make_a_gate_admit_its_forged_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let w = World::start(dir.path(), "keys@example.org");
    let mitm = Mitm::start(&w.issuer.url);
    let gate = Gate::new(dir.path(), "gate-mitm-keys");
    w.enrol(&gate, &mitm.url);

    // The attacker knows the deployment (it is public) and copies a genuine ticket's claims.
    let deployment = gate.run(&["status"]).only()["deployment"].as_str().unwrap().to_owned();
    let attacker = TicketSigner::from_secret_bytes(&[0x66; 32], DeploymentId::parse(&deployment).unwrap());
    let genuine = og_shared::qr::decode_ticket_bytes(w.tickets[1].1.as_bytes()).unwrap();
    let mut claims = TicketClaims::from_bytes(genuine[..CLAIMS_LEN].try_into().unwrap()).unwrap();
    claims.serial = 3_999_999_999;
    claims.offer = Offer::Family;
    let forged = attacker.sign_ticket(&claims);
    assert_eq!(reason(&gate, &forged), "unknown_key");

    let injected = serde_json::to_value(vec![KeyInfo::from_trusted(&attacker.trusted_key(0, i64::MAX))]).unwrap();
    let add = injected.clone();
    mitm.set(move |seen, mut answer| {
        if seen.path == SYNC && answer.status == 200 {
            let mut v = answer.json_body();
            v["keys"] = add.clone();
            answer.body = serde_json::to_vec(&v).unwrap();
        }
        answer
    });
    let r = gate.sync();
    assert_eq!(
        reason(&gate, &forged),
        "unknown_key",
        "the attacker's key was not trusted: {r:?}"
    );
    assert_refused(&gate, &r, "bad_signature");
    assert_eq!(reason(&gate, &w.tickets[1].1), "admitted", "the issuer's key still is");

    // Nor when the attacker adds its key beside the issuer's.
    mitm.set(move |seen, mut answer| {
        if seen.path == SYNC && answer.status == 200 {
            let mut v = answer.json_body();
            v["keys"].as_array_mut().unwrap().push(injected[0].clone());
            answer.body = serde_json::to_vec(&v).unwrap();
        }
        answer
    });
    assert_refused(&gate, &gate.sync(), "bad_signature");
    assert_eq!(reason(&gate, &forged), "unknown_key");
}

#[test]
fn a_man_in_the_middle_replaying_an_older_signed_log_cannot_roll_a_gate_back() {
    let dir = tempfile::tempdir().unwrap();
    let w = World::start(dir.path(), "replay@example.org");
    let mitm = Mitm::start(&w.issuer.url);
    // The attacker records the issuer's genuine, signed answers while the log holds one entry.
    let recorded: Arc<Mutex<Vec<(Seen, Answer)>>> = Arc::default();
    let rec = recorded.clone();
    mitm.set(move |seen, answer| {
        rec.lock().unwrap().push((seen.clone(), answer.clone()));
        answer
    });
    let gate = Gate::new(dir.path(), "gate-mitm-replay");
    w.enrol(&gate, &mitm.url);
    mitm.pass();
    // The next signature is made in a later second than the recorded ones (poll, no fixed sleep).
    let recorded_at = support::now();
    og_fixtures::poll::within(
        std::time::Duration::from_secs(5),
        std::time::Duration::from_millis(20),
        || (support::now() > recorded_at).then_some(()),
    );
    w.revoke(1);
    assert_eq!(gate.sync().code, 0);
    assert_eq!(reason(&gate, &w.tickets[1].1), "revoked");

    let old: Vec<(Seen, Answer)> = recorded.lock().unwrap().clone();
    let binary = old
        .iter()
        .find(|(s, _)| s.path == SNAPSHOT)
        .expect("a recorded snapshot")
        .1
        .clone();
    let json = old
        .iter()
        .find(|(s, a)| s.path == SYNC && a.status == 200)
        .expect("a recorded sync answer")
        .clone();
    mitm.set(move |seen, answer| {
        if seen.path == SNAPSHOT {
            binary.clone()
        } else if seen.path == SYNC && revocations_after(seen) == revocations_after(&json.0) {
            json.1.clone()
        } else if seen.path == SYNC {
            Answer::json(
                409,
                &serde_json::json!({"error": {"code": "revocations_reset", "message": "discard your copy"}}),
            )
        } else {
            answer
        }
    });
    let r = gate.sync();
    assert_eq!(
        reason(&gate, &w.tickets[1].1),
        "revoked",
        "the older log was not taken: {r:?}"
    );
    assert_refused(&gate, &r, "replayed");
    assert_eq!(reason(&gate, &w.tickets[0].1), "revoked");
}

#[test]
fn after_a_restore_from_backup_a_gate_refuses_the_older_log_until_the_issuer_republishes_what_gates_knew() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = World::start(dir.path(), "restore@example.org");
    let gate = Gate::new(dir.path(), "gate-restore");
    w.enrol(&gate, &w.issuer.url.clone());
    let db = w.issuer.data_dir.join("issuer.sqlite3");
    let backup = dir.path().join("backup.sqlite3");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("VACUUM INTO ?1", [backup.to_str().unwrap()])
        .unwrap();

    w.revoke(1);
    assert_eq!(gate.sync().code, 0);
    assert_eq!(reason(&gate, &w.tickets[1].1), "revoked");

    // The database is restored from the backup: the log is one entry shorter.
    w.issuer.kill();
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(w.issuer.data_dir.join(format!("issuer.sqlite3{suffix}")));
    }
    std::fs::copy(&backup, &db).unwrap();
    w.issuer.restart();
    let r = gate.sync();
    assert_eq!(
        reason(&gate, &w.tickets[1].1),
        "revoked",
        "the gate did not move backwards: {r:?}"
    );
    assert_refused(&gate, &r, "rollback");
    assert!(
        r.only()["reason"].as_str().unwrap().contains("restored backup"),
        "{r:?}"
    );
    assert_eq!(reason(&gate, &w.tickets[0].1), "revoked");
    // Operators see it in the device's record (reported with the gate's next request).
    assert_eq!(gate.sync().code, 2);
    let record = w.device_record();
    assert!(
        record["sync_refusal"].as_str().unwrap().starts_with("rollback:"),
        "{record}"
    );

    // The restore procedure: export the gates' copies, re-publish them on the issuer.
    let copy = dir.path().join("gate-restore.ogrev");
    let exported = gate.run(&["export-revocations", "--out", copy.to_str().unwrap()]);
    assert_eq!(exported.code, 0, "{exported:?}");
    assert_eq!(exported.only()["signed"], true, "{exported:?}");
    let out = support::issuer_cli(
        &w.issuer.data_dir,
        &["revocations", "republish", copy.to_str().unwrap()],
    );
    assert!(out.contains("re-published 1 revocations"), "{out}");
    let r = gate.sync();
    assert_eq!(r.code, 0, "{r:?}\n{}", w.issuer.log());
    assert_eq!(reason(&gate, &w.tickets[1].1), "revoked");
    assert_eq!(reason(&gate, &w.tickets[0].1), "revoked");
    assert_eq!(reason(&gate, &w.tickets[2].1), "admitted");
    assert!(gate.run(&["status"]).only()["sync_refused"].is_null());
    // The issuer's own records agree: the ticket is revoked there again.
    let r = w
        .client
        .post(format!("{}/api/v1/ops/revocations", w.issuer.url))
        .bearer_auth(&w.op)
        .json(&serde_json::json!({"kind": "ticket", "serial": w.tickets[1].0, "reason": "refunded"}))
        .send()
        .unwrap();
    assert_ne!(r.status(), 201, "already revoked");
}

#[test]
fn enrol_refuses_a_plain_http_issuer_off_this_machine_unless_told_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let gate = Gate::new(dir.path(), "gate-http");
    let r = gate.run(&[
        "enroll",
        "--issuer",
        "http://tickets.example.invalid",
        "--token",
        "ogE_x",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("plain HTTP") && r.stderr.contains("https://"),
        "{r:?}"
    );
    assert!(!gate.dir.join("gate.db").exists(), "nothing was created");
    // With --insecure-http the request is made (and fails here for want of a server).
    let r = gate.run(&[
        "enroll",
        "--issuer",
        "http://tickets.example.invalid",
        "--token",
        "ogE_x",
        "--insecure-http",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(!r.stderr.contains("plain HTTP"), "{r:?}");
    // Loopback is this machine: allowed.
    let r = gate.run(&["enroll", "--issuer", "http://127.0.0.1:9", "--token", "ogE_x"]);
    assert!(!r.stderr.contains("plain HTTP"), "{r:?}");
}

#[test]
fn a_gate_adopts_a_rotated_key_because_the_key_it_trusts_signed_the_new_key_set() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = World::start(dir.path(), "rotate@example.org");
    let gate = Gate::new(dir.path(), "gate-rotate");
    w.enrol(&gate, &w.issuer.url.clone());
    assert_eq!(gate.run(&["status"]).only()["counts"]["keys"], 1);

    w.issuer.kill();
    let out = support::issuer_cli(&w.issuer.data_dir, &["rotate-signing-key"]);
    assert!(out.contains("new signing key"), "{out}");
    w.issuer.restart();
    let fresh = comp_tickets(&w.issuer.data_dir, 1, "duo", "rotated@example.org", 1);
    assert_eq!(reason(&gate, &fresh[0].1), "unknown_key", "not synced yet");

    let r = gate.sync();
    assert_eq!(r.code, 0, "{r:?}\n{}", w.issuer.log());
    assert_eq!(gate.run(&["status"]).only()["counts"]["keys"], 2);
    assert_eq!(reason(&gate, &fresh[0].1), "admitted", "the new key is trusted");
    assert_eq!(
        reason(&gate, &w.tickets[1].1),
        "admitted",
        "and so is the old one, for tickets sold"
    );
    assert_eq!(reason(&gate, &w.tickets[0].1), "revoked");
}
