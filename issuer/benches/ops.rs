//! Gate-operations benchmarks through real HTTP on loopback (a bench binary, not criterion:
//! each figure is one end-to-end measurement over a large data set, repeated a few times).
//!
//! `cargo bench -p og-issuer --bench ops` (set `OG_BENCH_REVOCATIONS` to change the log size,
//! default 1,000,000; `OG_BENCH_ENGINE=postgres` runs it on a scratch PostgreSQL database). Prints: full binary snapshot (bytes identity and gzip, seconds to serve,
//! seconds to decode + verify the hash chain + load into sets), a 1,000-entry JSON delta, and
//! scan intake in batches of 500: from two gates in turn (one batch in flight at a time), then
//! from eight gates at once (as gates report on an event day).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use og_issuer::config::Settings;
use og_issuer::startup::Application;
use og_issuer::store::sql::params;
use og_shared::Offer;
use og_shared::sync::{
    Direction, GENESIS_HASH, Revocation, RevocationReason, RevocationTarget, ScanBatch, ScanBatchAck, ScanReport,
    SyncResponse, VerdictCode, chain_hash, decode_revocation_page,
};
use og_shared::ticket::Tag;
use serde_json::json;

fn fill_revocations(db: &og_issuer::store::Db, n: u64) {
    db.write_sync(|tx| fill_revocations_in(tx, n)).unwrap();
}

fn fill_revocations_in(tx: &og_issuer::store::Transaction<'_>, n: u64) -> og_issuer::error::AppResult<()> {
    let mut prev = GENESIS_HASH;
    let mut stmt = tx.prepare(
        "INSERT INTO revocations (seq, kind, serial, tag, reason, at, chain_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for seq in 1..=n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let at = 1_790_000_000 + (seq as i64) / 3;
        let target = match x % 20 {
            0 => RevocationTarget::Account {
                tag: Tag(x.to_be_bytes()[..6].try_into().unwrap()),
            },
            1..=3 => RevocationTarget::Purchase {
                tag: Tag(x.to_be_bytes()[2..8].try_into().unwrap()),
            },
            _ => RevocationTarget::Ticket {
                serial: (x % 9_000_000) as u32 + 1,
            },
        };
        let e = Revocation {
            seq,
            target,
            reason: RevocationReason::Refunded,
            at,
        };
        prev = chain_hash(&prev, &e);
        let (kind, serial, tag) = match target {
            RevocationTarget::Ticket { serial } => ("ticket", Some(serial), None),
            RevocationTarget::Purchase { tag } => ("purchase", None, Some(tag.to_hex())),
            RevocationTarget::Account { tag } => ("account", None, Some(tag.to_hex())),
            RevocationTarget::Superseded { .. } | RevocationTarget::DeviceKey { .. } => {
                unreachable!("the bench appends no superseded or device_key entries")
            }
        };
        stmt.execute(params![seq as i64, kind, serial, tag, "refunded", at, &prev[..]])?;
    }
    Ok(())
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let n: u64 = std::env::var("OG_BENCH_REVOCATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        // OG_BENCH_ENGINE=postgres: the same run on a scratch PostgreSQL database.
        let pg = match std::env::var("OG_BENCH_ENGINE").as_deref() {
            Ok("postgres") => Some(og_issuer::store::ScratchDatabase::create("og_bench_ops")),
            _ => None,
        };
        let mut settings = Settings::for_tests(dir.path());
        settings.database = pg.as_ref().map(|p| p.url());
        println!("engine: {}", if pg.is_some() { "postgres" } else { "sqlite" });
        let app = Application::build(settings).await.unwrap();
        let base = app.base_url();
        let db = app.state().db.clone();
        let signer = app.state().signer.clone();
        tokio::spawn(app.run_until_stopped());
        let t = Instant::now();
        let db2 = db.clone();
        tokio::task::spawn_blocking(move || fill_revocations(&db2, n)).await.unwrap();
        println!("setup: {n} revocations written in {}", secs(t.elapsed()));
        // Fold the setup's write-ahead log into the database, as a running issuer does over time,
        // so the first measured commits do not pay for it.
        db.checkpoint().unwrap();

        let op = db
            .write_sync(|tx| og_issuer::ops::auth::create_operator(tx, "bench@example.org", og_issuer::now()))
            .unwrap()
            .1
            .to_string();
        let client = reqwest::Client::builder().no_gzip().build().unwrap();
        let mut creds = Vec::new();
        for name in ["bench-a", "bench-b", "bench-c", "bench-d", "bench-e", "bench-f", "bench-g", "bench-h"] {
            let tok: serde_json::Value = client
                .post(format!("{base}/api/v1/ops/enrolment-tokens"))
                .bearer_auth(&op)
                .json(&json!({ "event_ids": [1] }))
                .send().await.unwrap().json().await.unwrap();
            let d: serde_json::Value = client
                .post(format!("{base}/api/v1/devices/enroll"))
                .json(&json!({ "token": tok["token"], "name": name, "software_version": "bench" }))
                .send().await.unwrap().json().await.unwrap();
            creds.push(d["credential"].as_str().unwrap().to_owned());
        }

        // 1. Full snapshot, binary.
        for enc in ["identity", "gzip"] {
            for round in 0..3 {
                let t = Instant::now();
                let resp = client
                    .get(format!("{base}/api/v1/device/revocations?after=0"))
                    .bearer_auth(&creds[0])
                    .header("accept-encoding", enc)
                    .send().await.unwrap();
                let wire = resp.bytes().await.unwrap();
                let served = t.elapsed();
                let t2 = Instant::now();
                let bytes = if enc == "gzip" {
                    use std::io::Read as _;
                    let mut out = Vec::new();
                    flate2::read::GzDecoder::new(&wire[..]).read_to_end(&mut out).unwrap();
                    out
                } else {
                    wire.to_vec()
                };
                let page = decode_revocation_page(&bytes).unwrap();
                let (seq, _) = page.check_continues(0, &GENESIS_HASH).unwrap();
                let mut serials = HashSet::new();
                let mut tags = HashSet::new();
                for e in &page.entries {
                    match e.target {
                        RevocationTarget::Ticket { serial }
                        | RevocationTarget::Superseded { serial, .. }
                        | RevocationTarget::DeviceKey { serial, .. } => {
                            serials.insert(serial);
                        }
                        RevocationTarget::Purchase { tag } | RevocationTarget::Account { tag } => {
                            tags.insert(tag);
                        }
                    }
                }
                let applied = t2.elapsed();
                assert_eq!(seq, n);
                println!(
                    "full snapshot {enc} round {round}: {} bytes on the wire ({:.2} MB), served+received {}, decode+verify+load {}, total {}",
                    wire.len(),
                    wire.len() as f64 / 1e6,
                    secs(served),
                    secs(applied),
                    secs(served + applied)
                );
            }
        }
        // For comparison: the same entries as JSON.
        {
            let page = db.read_sync(|c| og_issuer::gates::sync::full_page_after(c, 0)).unwrap().unwrap();
            println!("(the same snapshot as JSON would be {:.1} MB)", serde_json::to_vec(&page).unwrap().len() as f64 / 1e6);
        }

        // 2. A 1,000-entry delta through the JSON sync route.
        let after = n.saturating_sub(1000);
        let mut best = Duration::MAX;
        for _ in 0..10 {
            let t = Instant::now();
            let s: SyncResponse = client
                .get(format!("{base}/api/v1/device/sync?revocations_after={after}&admissions_after=0"))
                .bearer_auth(&creds[0])
                .send().await.unwrap().json().await.unwrap();
            let local = db.read_sync(|c| og_issuer::trust::revocation::hash_at(c, after)).unwrap().unwrap();
            s.revocations.check_continues(after, &local).unwrap();
            assert_eq!(s.revocations.entries.len() as u64, n - after);
            best = best.min(t.elapsed());
        }
        println!("1,000-entry delta (JSON sync, request + parse + chain check): best of 10 {:.1} ms", best.as_secs_f64() * 1e3);

        // 3. Scan intake, batches of 500: from two devices in turn, then from eight at once.
        // One distinct ticket per admission, as at a real gate: 120,000 tickets for 6 rounds.
        let tickets: Vec<u32> = {
            let mut all = Vec::new();
            let force = og_issuer::ops::catalogue::ForceCapacity {
                operator: "bench".into(),
                reason: "more tickets than the demo venue holds".into(),
            };
            db.write_sync(|tx| {
                for _ in 0..1200 {
                    let t = og_issuer::ops::catalogue::issue_comps(
                        tx,
                        &signer,
                        1,
                        Offer::Solo,
                        "crowd@example.org",
                        100,
                        Some(&force),
                        og_issuer::now(),
                    )?;
                    all.extend(t.into_iter().map(|t| t.serial));
                }
                Ok(())
            })
            .unwrap();
            all
        };
        db.checkpoint().unwrap();
        let total = 20_000u64;
        let per_batch = 500u64;
        let now = og_issuer::now();
        for (round, gates_at_once) in [(0u64, 1usize), (1, 1), (2, 1), (3, 8), (4, 8), (5, 8)] {
            // Batch `b` comes from device `b % 2` (in turn: one queue) or `b % 8` (at once: a
            // queue per device); a queue holds (device, body) and is sent one batch at a time.
            let devices = if gates_at_once == 1 { 2 } else { gates_at_once };
            let mut queues: Vec<Vec<(usize, Vec<u8>)>> = vec![Vec::new(); gates_at_once];
            for b in 0..total / per_batch {
                let b = b + round * (total / per_batch);
                let reports = (0..per_batch)
                    .map(|i| {
                        let k = b * per_batch + i;
                        ScanReport {
                            nonce: format!("{:032x}", u128::from(k) + 1),
                            scanned_at: now - 100,
                            // 1 in 20 refused at the gate, the rest admitted.
                            verdict: if k.is_multiple_of(20) { VerdictCode::AlreadyUsed } else { VerdictCode::Admitted },
                            reason: "bench".into(),
                            event_id: Some(1),
                            serial: Some(tickets[k as usize]),
                            generation: 0,
                            offer: Some(Offer::Solo),
                            admitted_index: Some(1),
                            gate: format!("G{}", b % 8),
                            zone: None,
                            direction: Direction::Entry,
                            offline: false,
                        }
                    })
                    .collect();
                let batch = ScanBatch { sent_at: now, queued: per_batch, software_version: "bench".into(), reports };
                let dev = (b as usize) % devices;
                queues[dev % gates_at_once].push((dev, serde_json::to_vec(&batch).unwrap()));
            }
            let t = Instant::now();
            let sends: Vec<_> = queues
                .into_iter()
                .map(|queue| {
                    let (client, base) = (client.clone(), base.clone());
                    let batches: Vec<(String, Vec<u8>)> =
                        queue.into_iter().map(|(dev, body)| (creds[dev].clone(), body)).collect();
                    tokio::spawn(async move {
                        for (cred, body) in batches {
                            let ack: ScanBatchAck = client
                                .post(format!("{base}/api/v1/device/scans"))
                                .bearer_auth(&cred)
                                .header("content-type", "application/json")
                                .body(body)
                                .send().await.unwrap().json().await.unwrap();
                            assert_eq!(ack.accepted.len() as u64, per_batch);
                        }
                    })
                })
                .collect();
            for s in sends {
                s.await.unwrap();
            }
            let el = t.elapsed();
            let how = if gates_at_once == 1 { "2 gates in turn".to_owned() } else { format!("{gates_at_once} gates at once") };
            println!(
                "scan intake round {round} ({how}): {total} scans in batches of {per_batch}: {} -> {:.0} scans/s",
                secs(el),
                total as f64 / el.as_secs_f64()
            );
        }
    });
}
