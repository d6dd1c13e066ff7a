//! Event-day scenarios with real processes: one issuer, several gate agents, the network
//! failing and processes dying.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use support::{
    Gate, IssuerProc, comp_tickets, enrolment_token, get_json, http, issuer_cli, operator_token, recorded_scans,
};

/// A running issuer with `count` complimentary Solo tickets for event 1 (sent to `email`), an
/// operator token, and a gate bundle for event 1 exported to `dir/gate.ogb`.
struct BundleSetup {
    issuer: IssuerProc,
    op: String,
    client: reqwest::blocking::Client,
    tickets: Vec<(u32, String, std::path::PathBuf)>,
    bundle: std::path::PathBuf,
}

impl BundleSetup {
    fn start(dir: &std::path::Path, email: &str, count: u32) -> BundleSetup {
        let issuer = IssuerProc::start(&dir.join("issuer"), &[]);
        let op = operator_token(&issuer.data_dir);
        let tickets = comp_tickets(&issuer.data_dir, 1, "solo", email, count);
        let bundle = dir.join("gate.ogb");
        issuer_cli(
            &issuer.data_dir,
            &["export-gate-bundle", "--event", "1", "--out", bundle.to_str().unwrap()],
        );
        BundleSetup {
            issuer,
            op,
            client: http(),
            tickets,
            bundle,
        }
    }
}

#[test]
fn gates_cut_off_from_the_issuer_keep_admitting_and_every_queued_scan_arrives_once_with_the_conflict_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let mut issuer = IssuerProc::start(&dir.path().join("issuer"), &[]);
    let op = operator_token(&issuer.data_dir);
    let client = http();
    let tickets = comp_tickets(&issuer.data_dir, 1, "solo", "fan@example.org", 4);
    // One ticket is revoked before the gates exist: they learn it from their first snapshot.
    let r = client
        .post(format!("{}/api/v1/ops/revocations", issuer.url))
        .bearer_auth(&op)
        .json(&serde_json::json!({"kind": "ticket", "serial": tickets[3].0, "reason": "fraud"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let (a, b) = (Gate::new(dir.path(), "gate-a"), Gate::new(dir.path(), "gate-b"));
    a.enroll(&issuer, &enrolment_token(&client, &issuer, &op, &[1]));
    b.enroll(&issuer, &enrolment_token(&client, &issuer, &op, &[1]));

    let metrics = client
        .get(format!("{}/metrics", issuer.url))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.lines().any(|l| l == "og_revocation_snapshots_total 2"),
        "each gate fetched the compact binary snapshot once:\n{metrics}"
    );
    issuer.kill();
    assert_eq!(b.check(&tickets[3].1)["reason"], "revoked");
    assert_eq!(a.check(&tickets[0].1)["reason"], "admitted");
    assert_eq!(a.check(&tickets[1].1)["reason"], "admitted");
    // Gate B cannot know gate A admitted ticket 0: it admits it too. That is the conflict.
    assert_eq!(b.check(&tickets[0].1)["reason"], "admitted");
    assert_eq!(b.check(&tickets[2].1)["reason"], "admitted");
    assert_ne!(a.sync().code, 0, "a sync with the issuer down reports a failure");

    issuer.restart();
    for g in [&a, &b, &a, &b] {
        let r = g.sync();
        assert_eq!(r.code, 0, "{} sync: {r:?}\n{}", g.name, issuer.log());
    }
    assert_eq!(
        recorded_scans(&client, &issuer, &op, 1),
        (4, 1),
        "every queued scan arrived exactly once"
    );

    let conflicts: Vec<serde_json::Value> = client
        .get(format!("{}/api/v1/ops/conflicts", issuer.url))
        .bearer_auth(&op)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0]["serial"], tickets[0].0);
    assert_eq!(conflicts[0]["admitted"], 2);

    // The conflict is pushed to the gates: status lists it and the verdict flags it.
    let status = a.run(&["status"]);
    let listed = status.only()["conflicts"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1, "{status:?}");
    assert_eq!(listed[0]["serial"], tickets[0].0);
    let flagged = b.check(&tickets[0].1);
    assert_eq!(
        (flagged["reason"].as_str(), flagged["conflict"].as_bool()),
        (Some("already_used"), Some(true))
    );

    // Each gate now knows what the other admitted.
    let again = b.check(&tickets[1].1);
    assert_eq!(again["reason"], "already_used");
    assert_eq!(again["first_admitted_gate"], "gate-a");
    assert_eq!(a.check(&tickets[2].1)["reason"], "already_used");
}

#[test]
fn a_gate_killed_mid_run_and_restarted_loses_no_admission_and_no_report() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = IssuerProc::start(&dir.path().join("issuer"), &[]);
    let op = operator_token(&issuer.data_dir);
    let client = http();
    let tickets = comp_tickets(&issuer.data_dir, 1, "solo", "crowd@example.org", 12);
    let frames = dir.path().join("frames");
    std::fs::create_dir_all(&frames).unwrap();
    for (i, (_, _, png)) in tickets.iter().enumerate() {
        std::fs::copy(png, frames.join(format!("frame-{i:03}.png"))).unwrap();
    }
    let gate = Gate::new(dir.path(), "gate-k");
    gate.enroll(&issuer, &enrolment_token(&client, &issuer, &op, &[1]));

    let mut child = gate
        .command()
        .args(["--json", "run", "--no-sync", "--pace-ms", "150", "--frames"])
        .arg(&frames)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut first_run = Vec::new();
    while first_run.len() < 4 {
        let line = lines.next().expect("a verdict line").unwrap();
        first_run.push(serde_json::from_str::<serde_json::Value>(&line).unwrap());
    }
    child.kill().unwrap(); // SIGKILL: no chance to flush or clean up
    child.wait().unwrap();
    for v in &first_run {
        assert_eq!(v["reason"], "admitted", "{v}");
    }

    let second = gate.run(&["run", "--no-sync", "--frames", frames.to_str().unwrap()]);
    assert_eq!(second.lines.len(), tickets.len(), "{second:?}");
    for v in &first_run {
        let serial = &v["ticket_serial"];
        let later = second.lines.iter().find(|l| &l["ticket_serial"] == serial).unwrap();
        assert_eq!(
            later["reason"], "already_used",
            "the admission of {serial} survived the kill"
        );
    }
    let admitted_now = second.lines.iter().filter(|l| l["reason"] == "admitted").count();
    assert!(admitted_now <= tickets.len() - first_run.len());

    assert_eq!(gate.sync().code, 0);
    let (admitted, refused) = recorded_scans(&client, &issuer, &op, 1);
    assert_eq!(
        admitted,
        tickets.len() as u64,
        "each ticket's single admission was reported"
    );
    assert_eq!(
        refused as usize,
        tickets.len() - admitted_now,
        "and so was each 'already used'"
    );
}

#[test]
fn a_revoked_device_is_refused_at_its_next_sync_and_a_new_enrolment_works() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = IssuerProc::start(&dir.path().join("issuer"), &[]);
    let op = operator_token(&issuer.data_dir);
    let client = http();
    let gate = Gate::new(dir.path(), "gate-r");
    gate.enroll(&issuer, &enrolment_token(&client, &issuer, &op, &[1]));
    let devices: Vec<serde_json::Value> = client
        .get(format!("{}/api/v1/ops/devices", issuer.url))
        .bearer_auth(&op)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let device = devices
        .iter()
        .find(|d| d["name"] == "gate-r")
        .expect("the gate is listed");
    let id = device["device_id"].as_str().unwrap();
    let r = client
        .post(format!("{}/api/v1/ops/devices/{id}/revoke", issuer.url))
        .bearer_auth(&op)
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());

    let refused = gate.sync();
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.to_lowercase().contains("revoked"), "{refused:?}");

    let fresh = Gate::new(dir.path(), "gate-r2");
    fresh.enroll(&issuer, &enrolment_token(&client, &issuer, &op, &[1]));
    assert_eq!(fresh.sync().code, 0);
}

#[test]
fn a_gate_provisioned_from_a_bundle_admits_offline_then_enrols_and_every_queued_scan_arrives_once_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let BundleSetup {
        issuer,
        op,
        client,
        tickets,
        bundle,
    } = BundleSetup::start(dir.path(), "field@example.org", 3);

    // Provisioned by hand, no network: it admits and queues its reports.
    let gate = Gate::new(dir.path(), "field-1");
    let imported = gate.run(&["import", bundle.to_str().unwrap(), "--gate", "field-1"]);
    assert_eq!(imported.code, 0, "{imported:?}");
    assert_eq!(imported.only()["events"], 1, "{imported:?}");
    assert_eq!(gate.check(&tickets[0].1)["reason"], "admitted");
    assert_eq!(gate.check(&tickets[1].1)["reason"], "admitted");
    assert_eq!(gate.check(&tickets[0].1)["reason"], "already_used");
    let offline = gate.run(&["status"]).only().clone();
    assert_eq!(offline["enrolled_online"], false, "{offline}");
    assert_eq!(offline["counts"]["outbox"], 3, "{offline}");
    let not_yet = gate.sync();
    assert_ne!(not_yet.code, 0);
    assert!(not_yet.stderr.contains("gate-agent enroll"), "{not_yet:?}");

    // An issuer of another deployment is refused before its token is spent; nothing changes.
    let other = IssuerProc::start(&dir.path().join("other"), &["--deployment-id", "og-elsewhere"]);
    let other_op = operator_token(&other.data_dir);
    let other_token = enrolment_token(&client, &other, &other_op, &[1]);
    let refused = gate.run(&["enroll", "--issuer", &other.url, "--token", &other_token]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused.stderr.contains("deployment og-elsewhere") && refused.stderr.contains("nothing was changed"),
        "{refused:?}"
    );
    assert!(!refused.stderr.contains(&other_token), "the token is never printed");
    let unchanged = gate.run(&["status"]).only().clone();
    for field in ["deployment", "device_id", "gate", "issuer", "enrolled_online", "counts"] {
        assert_eq!(unchanged[field], offline[field], "{field} changed");
    }
    Gate::new(dir.path(), "elsewhere-1").enroll(&other, &other_token);

    // Enrolled later with its own issuer: everything local is kept and sent once.
    let token = enrolment_token(&client, &issuer, &op, &[1]);
    let enrolled = gate.run(&["enroll", "--issuer", &issuer.url, "--token", &token]);
    assert_eq!(enrolled.code, 0, "{enrolled:?}\n{}", issuer.log());
    // `--json` output a script can read: what was queued, and the first sync sending it.
    let summary = enrolled.only();
    assert_eq!(summary["queued_before_enrolment"], 3, "{summary}");
    assert_eq!(
        (&summary["sync"]["reports_sent"], &summary["sync"]["reports_refused"]),
        (&serde_json::json!(3), &serde_json::json!(0)),
        "{summary}"
    );
    let online = gate.run(&["status"]).only().clone();
    assert_eq!(online["enrolled_online"], true, "{online}");
    assert_eq!(online["deployment"], offline["deployment"]);
    assert_eq!(online["gate"], "field-1", "the gate keeps its name");
    let device_id = online["device_id"].as_str().unwrap().to_owned();
    assert_ne!(
        device_id,
        offline["device_id"].as_str().unwrap(),
        "the issuer's device id replaces the local one"
    );
    let counts = &online["counts"];
    assert_eq!(
        (
            counts["own_admissions"].as_u64(),
            counts["outbox"].as_u64(),
            counts["refused"].as_u64()
        ),
        (Some(2), Some(0), Some(0)),
        "admissions kept, every queued report accepted: {online}"
    );
    assert_eq!(recorded_scans(&client, &issuer, &op, 1), (2, 1));
    let again = gate.sync();
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(again.only()["reports_sent"], 0, "{again:?}");
    assert_eq!(
        recorded_scans(&client, &issuer, &op, 1),
        (2, 1),
        "nothing is counted twice"
    );

    // The operator sees the scans under the gate's name and the device's queue empty.
    let since = support::now() - 24 * 3600;
    let minutes = get_json(
        &client,
        &issuer,
        &format!("/api/v1/ops/events/1/scans-per-minute?since={since}"),
        Some(&op),
    );
    let gates: Vec<&str> = minutes
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["gate"].as_str().unwrap())
        .collect();
    assert!(gates.iter().all(|g| *g == "field-1"), "{minutes}");
    let devices = get_json(&client, &issuer, "/api/v1/ops/devices", Some(&op));
    let device = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device_id"] == device_id.as_str())
        .expect("the enrolled device is listed");
    assert_eq!(
        (device["name"].as_str(), device["queued"].as_u64()),
        (Some("field-1"), Some(0)),
        "{device}"
    );

    // The offline admissions were kept at this gate and reach the other gates of the event.
    assert_eq!(gate.check(&tickets[1].1)["reason"], "already_used");
    let north = Gate::new(dir.path(), "north-2");
    north.enroll(&issuer, &enrolment_token(&client, &issuer, &op, &[1]));
    let seen = north.check(&tickets[0].1);
    assert_eq!(
        (seen["reason"].as_str(), seen["first_admitted_gate"].as_str()),
        (Some("already_used"), Some("field-1")),
        "{seen}"
    );
    assert_eq!(north.check(&tickets[2].1)["reason"], "admitted");
}

#[test]
fn a_running_gate_refusing_tickets_for_old_data_admits_again_right_after_a_sync_that_found_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let BundleSetup {
        issuer,
        op,
        client,
        tickets,
        bundle,
    } = BundleSetup::start(dir.path(), "late@example.org", 2);
    let gate = Gate::new(dir.path(), "gate-s");
    let imported = gate.run(&["import", bundle.to_str().unwrap(), "--max-data-age", "60"]);
    assert_eq!(imported.code, 0, "{imported:?}");
    gate.enroll(&issuer, &enrolment_token(&client, &issuer, &op, &[1]));

    // Two minutes later (by the gate's clock) its data is too old for its policy.
    let later = (support::now() + 120).to_string();
    let mut child = gate
        .command()
        .env("OG_GATE_NOW", &later)
        .args(["--json", "run", "--stdin", "--no-sync"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut verdicts = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut verdict = |text: &str| -> serde_json::Value {
        writeln!(stdin, "{text}").unwrap();
        stdin.flush().unwrap();
        serde_json::from_str(&verdicts.next().expect("a verdict line").unwrap()).unwrap()
    };
    assert_eq!(verdict(&tickets[0].1)["reason"], "data_too_old");

    // A sync while the gate runs: the issuer has nothing new (304), yet the data is now fresh.
    let synced = gate.command().env("OG_GATE_NOW", &later).arg("sync").output().unwrap();
    assert!(synced.status.success(), "{}", String::from_utf8_lossy(&synced.stderr));
    let metrics = client
        .get(format!("{}/metrics", issuer.url))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == "og_sync_answers_total{result=\"not_modified\"} 1"),
        "the sync was answered 304:\n{metrics}"
    );
    assert_eq!(
        verdict(&tickets[1].1)["reason"],
        "admitted",
        "the running gate saw the sync"
    );
    drop(stdin);
    assert!(
        child.wait().unwrap().success(),
        "the gate stops at the end of its input"
    );
}
