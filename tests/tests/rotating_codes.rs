//! Holder-bound rotating codes (issue 11) through the real `gate-agent` binary: a live code made
//! from a ticket the real issuer signed is admitted, a 60-s-old one is refused as a picture, a
//! replay at another gate is a second use of the entitlement, a replaced phone's codes are
//! refused once the gate has the `device_key` revocation, codes scanned at two gates cut off
//! from the issuer become a conflict exactly like static codes, and the 306-character code
//! renders at QR version 10 or less and reads back through the gate's own decoder.
//!
//! The bound ticket is signed with the test issuer's own signing key (read from its data dir,
//! as its issuance code would) until the issuer exposes binding itself; the `device_key`
//! revocation arrives in an offline bundle made the same way `export-gate-bundle` makes one.

mod support;

use std::path::Path;

use og_fixtures::{test_device, test_new_device};
use og_shared::sync::{
    GENESIS_HASH, GateBundle, HolderBinding, Revocation, RevocationPage, RevocationReason, RevocationTarget,
};
use og_shared::{BoundTicket, DeviceSigner, TicketClaims, TicketSigner};
use support::{Gate, IssuerProc, comp_tickets, enrolment_token, http, issuer_cli, now, operator_token};

/// The issuer's signing key and deployment, as its own issuance code holds them.
fn issuer_signer(issuer_dir: &Path, bundle: &GateBundle) -> TicketSigner {
    let pem = std::fs::read_to_string(issuer_dir.join("keys").join("ticket-signing-key.pem")).expect("signing key");
    TicketSigner::from_pkcs8_pem(&pem, bundle.deployment.clone()).expect("PKCS#8 key")
}

fn read_bundle(path: &Path) -> GateBundle {
    GateBundle::from_signed_file(&std::fs::read(path).unwrap(), None, now()).expect("the issuer's bundle loads")
}

/// The claims of a static code the issuer signed (structure only: the gate verifies).
fn claims_of(static_text: &str) -> TicketClaims {
    let bytes = og_shared::qr::decode_ticket_bytes(static_text.as_bytes()).unwrap();
    let mut c = [0u8; og_shared::ticket::CLAIMS_LEN];
    c.copy_from_slice(&bytes[..og_shared::ticket::CLAIMS_LEN]);
    TicketClaims::from_bytes(&c).unwrap()
}

fn bind(signer: &TicketSigner, static_text: &str, phone: &DeviceSigner) -> BoundTicket {
    signer.sign_bound_ticket(&claims_of(static_text), &phone.public_key())
}

fn live(bound: &BoundTicket, phone: &DeviceSigner, at: i64) -> String {
    phone.rotating_code(bound, at, 5).to_text()
}

struct Setup {
    _dir: tempfile::TempDir,
    issuer: IssuerProc,
    tickets: Vec<(u32, String, std::path::PathBuf)>,
    bundle_path: std::path::PathBuf,
    bundle: GateBundle,
    signer: TicketSigner,
}

fn setup(count: u32) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let issuer = IssuerProc::start(&dir.path().join("issuer"), &[]);
    let tickets = comp_tickets(&issuer.data_dir, 1, "solo", "holder@example.org", count);
    let bundle_path = dir.path().join("gate.ogb");
    issuer_cli(
        &issuer.data_dir,
        &[
            "export-gate-bundle",
            "--event",
            "1",
            "--out",
            bundle_path.to_str().unwrap(),
        ],
    );
    let bundle = read_bundle(&bundle_path);
    let signer = issuer_signer(&issuer.data_dir, &bundle);
    Setup {
        _dir: dir,
        issuer,
        tickets,
        bundle_path,
        bundle,
        signer,
    }
}

#[test]
fn a_live_phone_code_is_admitted_a_minute_old_one_is_a_picture_and_a_replay_at_another_gate_is_already_used() {
    let s = setup(1);
    let c = http();
    let op = operator_token(&s.issuer.data_dir);
    let dir = s.issuer.data_dir.parent().unwrap();
    let (a, b) = (Gate::new(dir, "gate-a"), Gate::new(dir, "gate-b"));
    a.enroll(&s.issuer, &enrolment_token(&c, &s.issuer, &op, &[1]));
    b.enroll(&s.issuer, &enrolment_token(&c, &s.issuer, &op, &[1]));
    let phone = test_device();
    let bound = bind(&s.signer, &s.tickets[0].1, &phone);

    // A screenshot taken a minute ago: genuine, but a picture. Nothing is counted.
    let old = b.check(&live(&bound, &phone, now() - 60));
    assert_eq!(old["verdict"], "REJECT", "{old}");
    assert_eq!(old["reason"], "stale_code", "{old}");
    assert_eq!(
        old["message"], "code is a picture: open the ticket on the phone",
        "{old}"
    );

    // The live code from the phone.
    let code = live(&bound, &phone, now());
    let first = a.check(&code);
    assert_eq!(first["reason"], "admitted", "{first}");
    assert_eq!(first["ticket_serial"], s.tickets[0].0, "{first}");

    // A screenshot of that very code, sent to a friend at gate B within the tolerance: once the
    // gates have synced it is the second use of the entitlement.
    assert_eq!(a.sync().code, 0);
    assert_eq!(b.sync().code, 0);
    let replay = b.check(&code);
    assert_eq!(replay["reason"], "already_used", "{replay}");
    assert_eq!(replay["first_admitted_gate"], "gate-a", "{replay}");

    // A phone whose clock runs two minutes ahead.
    let ahead = a.check(&live(&bound, &phone, now() + 120));
    assert_eq!(ahead["reason"], "code_from_future", "{ahead}");
    assert!(
        ahead["message"].as_str().unwrap().contains("phone clock is wrong"),
        "{ahead}"
    );

    // `--tolerance` widens the window for this run: the minute-old code is no picture at 90 s.
    let wide = b.run(&["--tolerance", "90", "check", &live(&bound, &phone, now() - 60)]);
    assert_eq!(wide.only()["reason"], "already_used", "{wide:?}");
}

#[test]
fn a_replaced_phones_codes_are_refused_once_the_gate_has_the_device_key_revocation() {
    let s = setup(2);
    let dir = s.issuer.data_dir.parent().unwrap();
    let (old_phone, new_phone) = (test_device(), test_new_device());
    let serial = s.tickets[0].0;
    let on_old = bind(&s.signer, &s.tickets[0].1, &old_phone);
    let on_new = bind(&s.signer, &s.tickets[0].1, &new_phone);

    // The holder rebinds the ticket to a new phone: the issuer appends a `device_key`
    // revocation for the old phone's key; a bundle carrying it reaches the gate.
    let mut entries = s.bundle.revocations.entries.clone();
    entries.push(Revocation {
        seq: s.bundle.revocations.to_seq + 1,
        target: RevocationTarget::DeviceKey {
            serial,
            key_tag: old_phone.public_key().tag(),
        },
        reason: RevocationReason::Other,
        at: now(),
    });
    let with_revocation = GateBundle {
        revocations: RevocationPage::build(0, GENESIS_HASH, entries),
        created_at: now(),
        ..s.bundle.clone()
    };
    let path = dir.join("rebound.ogb");
    std::fs::write(&path, with_revocation.to_signed_file(&s.signer)).unwrap();

    let gate = Gate::new(dir, "gate-c");
    let imported = gate.run(&["import", s.bundle_path.to_str().unwrap(), "--gate", "gate-c"]);
    assert_eq!(imported.code, 0, "{imported:?}");
    // Before the revocation arrives, the old phone still works (the gate cannot know).
    let before = gate.run(&["check", &live(&on_old, &old_phone, now())]);
    assert_eq!(before.only()["reason"], "admitted", "{before:?}");

    let imported = gate.run(&["import", path.to_str().unwrap()]);
    assert_eq!(imported.code, 0, "{imported:?}");
    let old = gate.check(&live(&on_old, &old_phone, now()));
    assert_eq!(old["reason"], "revoked", "{old}");
    assert_eq!(
        old["message"], "this phone was replaced: open the ticket on the new phone",
        "{old}"
    );
    // The new phone's code is the same entitlement: it was used once already (Solo).
    let new = gate.check(&live(&on_new, &new_phone, now()));
    assert_eq!(new["reason"], "already_used", "{new}");
    // Another ticket on the old phone is not touched by that revocation.
    let other = bind(&s.signer, &s.tickets[1].1, &old_phone);
    assert_eq!(gate.check(&live(&other, &old_phone, now()))["reason"], "admitted");
}

#[test]
fn an_event_that_requires_the_phone_refuses_static_codes_except_paper_exceptions() {
    let s = setup(3);
    let dir = s.issuer.data_dir.parent().unwrap();
    let mut required = s.bundle.clone();
    for e in &mut required.events {
        e.holder_binding = HolderBinding::Required;
        e.paper_exceptions = vec![s.tickets[2].0];
    }
    required.created_at = now();
    let path = dir.join("required.ogb");
    std::fs::write(&path, required.to_signed_file(&s.signer)).unwrap();
    let gate = Gate::new(dir, "gate-d");
    assert_eq!(gate.run(&["import", path.to_str().unwrap()]).code, 0);

    let picture = gate.check(&s.tickets[0].1);
    assert_eq!(picture["reason"], "phone_code_required", "{picture}");
    assert_eq!(
        picture["message"], "this event needs the ticket open on the phone",
        "{picture}"
    );
    let phone = test_device();
    let on_phone = gate.check(&live(&bind(&s.signer, &s.tickets[1].1, &phone), &phone, now()));
    assert_eq!(on_phone["reason"], "admitted", "{on_phone}");
    let paper = gate.check(&s.tickets[2].1);
    assert_eq!(paper["reason"], "admitted", "a paper exception: {paper}");
}

#[test]
fn live_codes_admitted_at_two_gates_cut_off_from_the_issuer_are_flagged_as_a_conflict() {
    let mut s = setup(1);
    let c = http();
    let op = operator_token(&s.issuer.data_dir);
    let dir = s.issuer.data_dir.parent().unwrap().to_owned();
    let (a, b) = (Gate::new(&dir, "gate-a"), Gate::new(&dir, "gate-b"));
    a.enroll(&s.issuer, &enrolment_token(&c, &s.issuer, &op, &[1]));
    b.enroll(&s.issuer, &enrolment_token(&c, &s.issuer, &op, &[1]));
    let phone = test_device();
    let bound = bind(&s.signer, &s.tickets[0].1, &phone);

    s.issuer.kill();
    // The holder at gate A, a screenshot of the live code at gate B seconds later.
    let code = live(&bound, &phone, now());
    assert_eq!(a.check(&code)["reason"], "admitted");
    assert_eq!(b.check(&code)["reason"], "admitted", "gate B cannot know");
    s.issuer.restart();
    for g in [&a, &b, &a, &b] {
        let r = g.sync();
        assert_eq!(r.code, 0, "{} sync: {r:?}\n{}", g.name, s.issuer.log());
    }
    let conflicts: Vec<serde_json::Value> = c
        .get(format!("{}/api/v1/ops/conflicts", s.issuer.url))
        .bearer_auth(&op)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0]["serial"], s.tickets[0].0);
    assert_eq!(conflicts[0]["admitted"], 2);
    let flagged = b.check(&live(&bound, &phone, now()));
    assert_eq!(
        (flagged["reason"].as_str(), flagged["conflict"].as_bool()),
        (Some("already_used"), Some(true)),
        "{flagged}"
    );
}

#[test]
fn a_rotating_code_fits_qr_version_10_at_level_m_and_the_gate_reads_it_back_from_the_image() {
    let s = setup(1);
    let dir = s.issuer.data_dir.parent().unwrap();
    let phone = test_device();
    let text = live(&bind(&s.signer, &s.tickets[0].1, &phone), &phone, now());
    assert_eq!(text.len(), 306);
    // The issuer renders codes with the qrcode crate at level M; so does the fixture helper.
    let version = og_fixtures::qr_version(&text);
    assert!((1..=10).contains(&version), "needs version {version}");
    let png = dir.join("live.png");
    std::fs::write(&png, og_fixtures::qr_png(&text)).unwrap();
    let gate = Gate::new(dir, "gate-e");
    let out = gate.command().args(["decode", png.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), text);
    // And `scan` on the same image admits it at a provisioned gate.
    assert_eq!(gate.run(&["import", s.bundle_path.to_str().unwrap()]).code, 0);
    let scanned = gate.run(&["scan", png.to_str().unwrap()]);
    assert_eq!(scanned.only()["reason"], "admitted", "{scanned:?}");
}
