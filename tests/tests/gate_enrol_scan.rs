//! A gate enrolled by scanning the operator console's enrolment QR (no token typed at the
//! turnstile), with a real issuer process, then `status` for staff when the issuer is gone; a
//! gate whose input ends reports its scans before it stops.

mod support;

use base64::Engine as _;
use support::{Gate, IssuerProc, comp_tickets, enrolment_token, http, operator_token, recorded_scans};

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

#[test]
fn a_gate_whose_replayed_frames_end_reports_their_scans_before_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = IssuerProc::start(&dir.path().join("issuer"), &[]);
    let op = operator_token(&issuer.data_dir);
    let gate = Gate::new(dir.path(), "south-1");
    gate.enroll(&issuer, &enrolment_token(&http(), &issuer, &op, &[1]));
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    for (serial, _, png) in comp_tickets(&issuer.data_dir, 1, "solo", "guest@example.org", 2) {
        std::fs::copy(png, frames.join(format!("ticket-{serial}.png"))).unwrap();
    }
    // A camera's pace of a frame a second and a sync interval of an hour: the background sync's
    // first round (at the start) is over before the second ticket is scanned, so only a round
    // at the end of the input can report that one.
    let run = gate.run(&[
        "run",
        "--frames",
        frames.to_str().unwrap(),
        "--sync-every",
        "3600",
        "--pace-ms",
        "1000",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let verdicts: Vec<_> = run
        .lines
        .iter()
        .map(|l| l["reason"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(verdicts, ["admitted", "admitted"], "{}", run.stderr);
    // Nothing left in the gate's queue, and the issuer counts both admissions.
    let status = gate.run(&["status"]);
    assert_eq!(status.only()["counts"]["outbox"], 0, "{}", status.only());
    assert_eq!(recorded_scans(&http(), &issuer, &op, 1), (2, 0));
}
