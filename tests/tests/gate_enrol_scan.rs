//! A gate enrolled by scanning the operator console's enrolment QR (no token typed at the
//! turnstile), with a real issuer process, then `status` for staff when the issuer is gone.

mod support;

use base64::Engine as _;
use support::{Gate, IssuerProc, http, operator_token};

#[test]
fn a_gate_enrols_by_scanning_the_console_qr_once_and_status_then_says_in_plain_words_why_sync_fails() {
    let dir = tempfile::tempdir().unwrap();
    let mut issuer = IssuerProc::start(&dir.path().join("issuer"), &[]);
    let op = operator_token(&issuer.data_dir);
    let r = http()
        .post(format!("{}/api/v1/ops/enrolment-tokens", issuer.url))
        .bearer_auth(&op)
        .json(&serde_json::json!({ "event_ids": [1] }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", issuer.log());
    let created: serde_json::Value = r.json().unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    assert_eq!(created["issuer_url"], issuer.url.as_str());
    // The QR the console shows, saved as the image a technician would photograph.
    let png = dir.path().join("enrol-qr.png");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(created["qr_png_base64"].as_str().unwrap())
        .unwrap();
    std::fs::write(&png, bytes).unwrap();

    let gate = Gate::new(dir.path(), "north-3");
    // A ticket's QR is not an enrolment code: refused with the reason, nothing created.
    let ticket_png = dir.path().join("ticket.png");
    og_fixtures::qr_luma("OG1:NOT-AN-ENROLMENT", 6)
        .save(&ticket_png)
        .unwrap();
    let wrong = gate
        .command()
        .args(["enroll", "--scan", ticket_png.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("not an enrolment code"),
        "{wrong:?}"
    );
    assert!(!gate.dir.exists(), "nothing was created");

    let out = gate
        .command()
        .args(["enroll", "--scan", png.to_str().unwrap(), "--gate", "north-3"])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}{stderr}\n{}", issuer.log());
    assert!(stdout.contains("enrolled as device"), "{stdout}");
    assert!(
        !stdout.contains(&token) && !stderr.contains(&token),
        "the token is a secret"
    );
    // The code works once.
    let again = gate
        .command()
        .args(["enroll", "--scan", png.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("token used"),
        "{again:?}"
    );

    // The issuer goes away: the sync fails, and `status` says where and why, in plain words.
    issuer.kill();
    assert_ne!(gate.sync().code, 0);
    let status = gate.command().arg("status").output().unwrap();
    assert!(status.status.success());
    let text = String::from_utf8(status.stdout).unwrap();
    for expected in [
        "Gate north-3, device ",
        "Times in Europe/Paris.",
        &format!("Issuer: {}", issuer.url),
        "Ticket data: current as of ",
        "Clock: this gate",
        "Last sync: ",
        &format!("Last sync error: {}: issuer unreachable", issuer.url),
        "Queue: 0 reports waiting to be sent.",
        "Admitted today: 0 people",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    assert!(!text.contains("Last sync: never"), "{text}");
    assert!(
        !text.contains("null") && !text.contains('"'),
        "no JSON in the human status:\n{text}"
    );
    // (The device id is 12 random hex digits, which may all be decimal ones: leave it out.)
    let unix_like = text
        .split_whitespace()
        .filter(|w| !w.starts_with("dev-"))
        .flat_map(|w| w.split(|c: char| !c.is_ascii_digit()))
        .any(|w| w.len() >= 9);
    assert!(!unix_like, "no Unix seconds shown to staff:\n{text}");
}
