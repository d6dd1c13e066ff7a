//! Many gates syncing and reporting at once against one real issuer process: every report is
//! stored exactly once (batches are also re-sent concurrently, as a gate retrying after a
//! timeout would), no request fails with a server error, and each gate learns the admissions
//! of all the others.

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use og_shared::sync::{Direction, EnrollResponse, ScanBatch, ScanBatchAck, ScanReport, SyncResponse, VerdictCode};
use support::{IssuerProc, enrolment_token, http, now, operator_token, recorded_scans};

const GATES: usize = 12;
const BATCHES: usize = 5;
const PER_BATCH: usize = 40;

/// Batch `b` of gate `gate`, scanned at `t`. Both senders build byte-identical batches.
fn batch(gate: usize, b: usize, t: i64) -> ScanBatch {
    let reports = (0..PER_BATCH)
        .map(|i| {
            let serial = (gate * BATCHES * PER_BATCH + b * PER_BATCH + i + 1) as u32;
            ScanReport {
                nonce: format!("{:08x}{:08x}{:016x}", gate, b, i),
                scanned_at: t,
                verdict: VerdictCode::Admitted,
                reason: "admitted 1 of 1".into(),
                event_id: Some(1),
                serial: Some(serial),
                generation: 0,
                offer: Some(og_shared::Offer::Solo),
                admitted_index: Some(1),
                gate: format!("gate-{gate}"),
                zone: None,
                direction: Direction::Entry,
                offline: false,
            }
        })
        .collect();
    ScanBatch {
        sent_at: t,
        queued: PER_BATCH as u64,
        software_version: "load-test".into(),
        reports,
    }
}

#[test]
fn a_dozen_gates_reporting_and_syncing_at_once_store_every_report_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = Arc::new(IssuerProc::start(dir.path(), &[]));
    let op = operator_token(dir.path());
    let client = http();
    let devices: Vec<EnrollResponse> = (0..GATES)
        .map(|g| {
            let token = enrolment_token(&client, &issuer, &op, &[1]);
            let r = client
                .post(format!("{}/api/v1/devices/enroll", issuer.url))
                .json(&serde_json::json!({ "token": token, "name": format!("gate-{g}"), "software_version": "load-test" }))
                .send()
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json().unwrap()
        })
        .collect();

    let t0 = now();
    let mut threads = Vec::new();
    for (g, dev) in devices.iter().enumerate() {
        // Two senders per gate push the same batches concurrently: the second copy of every
        // batch must be recognised as duplicates, never stored twice.
        for sender in 0..2 {
            let issuer = issuer.clone();
            let cred = dev.credential.clone();
            threads.push(std::thread::spawn(move || {
                let client = http();
                let mut accepted = 0usize;
                for b in 0..BATCHES {
                    let r = client
                        .post(format!("{}/api/v1/device/scans", issuer.url))
                        .bearer_auth(&cred)
                        .json(&batch(g, b, t0))
                        .send()
                        .unwrap();
                    assert!(r.status().is_success(), "gate {g} sender {sender}: {}", r.status());
                    let ack: ScanBatchAck = r.json().unwrap();
                    assert!(
                        ack.refused.is_empty(),
                        "{} refused, first: {:?}",
                        ack.refused.len(),
                        ack.refused.first()
                    );
                    assert_eq!(ack.accepted.len() + ack.duplicates.len(), PER_BATCH);
                    accepted += ack.accepted.len();
                    let s = client
                        .get(format!(
                            "{}/api/v1/device/sync?revocations_after=0&admissions_after=0",
                            issuer.url
                        ))
                        .bearer_auth(&cred)
                        .send()
                        .unwrap();
                    assert!(s.status().is_success(), "sync of gate {g}: {}", s.status());
                }
                accepted
            }));
        }
    }
    let accepted: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(
        accepted,
        GATES * BATCHES * PER_BATCH,
        "every report accepted exactly once"
    );

    let (admitted, refused) = recorded_scans(&client, &issuer, &op, 1);
    assert_eq!((admitted, refused), ((GATES * BATCHES * PER_BATCH) as u64, 0));

    // Gate 0 pages through the admissions of the other gates.
    let mut cursor = 0;
    let mut seen = HashSet::new();
    loop {
        let s: SyncResponse = client
            .get(format!(
                "{}/api/v1/device/sync?revocations_after=0&admissions_after={cursor}",
                issuer.url
            ))
            .bearer_auth(&devices[0].credential)
            .send()
            .unwrap()
            .json()
            .unwrap();
        if s.admissions.is_empty() {
            break;
        }
        for a in &s.admissions {
            assert_ne!(
                a.device_id, devices[0].device_id,
                "a gate is not sent its own admissions"
            );
            assert!(seen.insert(a.nonce.clone()), "admission {} sent twice", a.nonce);
        }
        assert!(s.admissions_to > cursor);
        cursor = s.admissions_to;
    }
    assert_eq!(seen.len(), (GATES - 1) * BATCHES * PER_BATCH);
}
