//! Checkout latency under 200 concurrent buyers (issue 13's target: p99 < 100 ms over 3
//! replicas), on SQLite (one process: SQLite is one writer) and on PostgreSQL with one and with
//! three issuer processes, side by side in one run.
//!
//! Each buyer is a real account (signed up, activated from the mailed link, logged in) with its
//! own client address (behind the load balancer, `X-Forwarded-For`). When all 200 are ready they
//! start together and each buys `ROUNDS` times in a row: put a Solo in the cart, `POST
//! /api/v1/checkout` (capacity reserved, payment started), `POST /api/v1/payments/{id}/card` (paid:
//! tickets signed and stored). Buyer `i` goes through replica `i % n`. Latencies are measured per
//! request on the client, release build of the issuer. The buyers are tasks on one client thread,
//! each with its own connection, so the load generator takes little of the cores it shares with
//! the servers. Under each row, the checkout p99 of the first 2 s of the measured part and of the
//! rest says whether the slow checkouts came at the start or all along.
//!
//! Two loads: buyers pausing `OG_BENCH_THINK_MS` (default 500 ms) before each request, as people
//! clicking through do (200 buyers in the shop at once), then no pause at all (each of the 200
//! fires its next request the moment the last one answers: saturation, where the latency is the
//! queue, 200 divided by what the machine completes per second).
//!
//! `cargo bench -p og-system-tests --bench checkout_p99` (needs PostgreSQL, as the tests do;
//! `OG_BENCH_BUYERS`, `OG_BENCH_ROUNDS` and `OG_BENCH_THINK_MS` change the load,
//! `OG_BENCH_ENGINES` and `OG_BENCH_LOADS` pick rows).

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use og_issuer::store::ScratchDatabase;
use og_system_tests::smtp::SmtpSink;
use serde_json::{Value, json};
use support::{IssuerProc, http, issuer_bin, now};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// `n` issuer processes on one database (`None`: each its own SQLite file, so only `n = 1`).
fn start(dirs: &Path, database: Option<&str>, n: usize, sink: &SmtpSink) -> Vec<IssuerProc> {
    let smtp = sink.url();
    let mut flags = vec!["--smtp-url", smtp.as_str(), "--trusted-proxy", "127.0.0.1/32"];
    if let Some(url) = database {
        flags.extend(["--database", url]);
    }
    let mut procs = vec![IssuerProc::start(&dirs.join("r0"), &flags)];
    for i in 1..n {
        let dir = dirs.join(format!("r{i}"));
        copy_dir(&dirs.join("r0/keys"), &dir.join("keys"));
        std::fs::copy(dirs.join("r0/deployment-id"), dir.join("deployment-id")).unwrap();
        procs.push(IssuerProc::start(&dir, &flags));
    }
    procs
}

fn operator(first: &IssuerProc, database: Option<&str>) -> String {
    let mut cmd = std::process::Command::new(issuer_bin());
    cmd.arg("--data-dir").arg(&first.data_dir);
    if let Some(url) = database {
        cmd.args(["--database", url]);
    }
    let out = cmd
        .args(["admin", "create-operator", "--email", "ops@example.org"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// An event with room for everyone and its Solo offer id.
fn event(c: &reqwest::blocking::Client, issuer: &IssuerProc, op: &str) -> i64 {
    let t = now();
    let created: Value = c
        .post(format!("{}/api/v1/ops/events", issuer.url))
        .bearer_auth(op)
        .json(&json!({
            "sport": "Breaking", "name": "B-Girls Final", "venue": "La Concorde", "starts_at": t + 7200,
            "doors_open": t, "doors_close": t + 14400, "capacity": 1_000_000, "zones": ["General"],
            "offers": { "solo": 4500 }
        }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = created["id"].as_i64().expect("event id");
    let event = support::get_json(c, issuer, &format!("/api/v1/events/{id}"), None);
    event["offers"][0]["id"].as_i64().unwrap()
}

/// Signs up, activates and logs in buyer `i` through `issuer`, from an address of its own.
fn ready_buyer(issuer: &str, sink: &SmtpSink, i: usize) -> String {
    let ip = format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256);
    support::buyer_from(
        &http(),
        issuer,
        sink,
        &format!("buyer{i}@example.org"),
        "Bench Buyer",
        Some(&ip),
    )
}

#[derive(Default)]
struct Samples {
    checkout: Vec<Duration>,
    /// When each of `checkout` was sent.
    checkout_started: Vec<Instant>,
    pay: Vec<Duration>,
    both: Vec<Duration>,
    errors: Vec<String>,
}

/// The buyer reading the page before the next click: the load's think time (what the bench
/// measures under), not a wait for something to happen, so there is no condition to poll.
async fn pause(think: Duration) {
    tokio::time::sleep(think).await;
}

async fn buy(c: &reqwest::Client, url: &str, access: &str, offer: i64, key: &str, think: Duration, s: &mut Samples) {
    pause(think).await;
    let r = c
        .put(format!("{url}/api/v1/cart/items"))
        .bearer_auth(access)
        .json(&json!({"offer_id": offer, "quantity": 1}))
        .send()
        .await;
    match r {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => return s.errors.push(format!("cart {}", r.status())),
        Err(e) => return s.errors.push(format!("cart {e}")),
    }
    pause(think).await;
    let t0 = Instant::now();
    let r = c
        .post(format!("{url}/api/v1/checkout"))
        .bearer_auth(access)
        .header("Idempotency-Key", key)
        .send()
        .await;
    let body: Value = match r {
        Ok(r) if r.status() == 201 => r.json().await.unwrap_or(Value::Null),
        Ok(r) => return s.errors.push(format!("checkout {}", r.status())),
        Err(e) => return s.errors.push(format!("checkout {e}")),
    };
    let checkout = t0.elapsed();
    let Some(pid) = body["payment_id"].as_str() else {
        return s.errors.push(format!("checkout answered {body}"));
    };
    pause(think).await;
    let t1 = Instant::now();
    let r = c
        .post(format!("{url}/api/v1/payments/{pid}/card"))
        .json(&json!({"card_number": "4242424242424242"}))
        .send()
        .await;
    match r {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => return s.errors.push(format!("pay {}", r.status())),
        Err(e) => return s.errors.push(format!("pay {e}")),
    }
    let pay = t1.elapsed();
    s.checkout.push(checkout);
    s.checkout_started.push(t0);
    s.pay.push(pay);
    s.both.push(checkout + pay);
}

/// A buyer's browser: its own connection, kept open from one request to the next.
fn browser() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client builds")
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[i].as_secs_f64() * 1000.0
}

struct Load {
    buyers: usize,
    rounds: usize,
    /// A buyer's pause before each request (0: every buyer back at once, the saturation case).
    think: Duration,
}

fn run(label: &str, database: Option<&str>, replicas: usize, load: &Load) {
    let Load { buyers, rounds, think } = *load;
    let sink = SmtpSink::start().unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let procs = start(dirs.path(), database, replicas, &sink);
    let urls: Vec<String> = procs.iter().map(|p| p.url.clone()).collect();
    let op = operator(&procs[0], database);
    let offer = event(&http(), &procs[0], &op);

    // Accounts made 8 at a time (argon2 on sign-up and log-in is not what is measured).
    let tokens: Vec<String> = {
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let out = Arc::new(std::sync::Mutex::new(vec![String::new(); buyers]));
        std::thread::scope(|s| {
            for _ in 0..8 {
                let (next, out, urls, sink) = (next.clone(), out.clone(), &urls, &sink);
                s.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        if i >= buyers {
                            break;
                        }
                        let t = ready_buyer(&urls[i % urls.len()], sink, i);
                        out.lock().unwrap()[i] = t;
                    }
                });
            }
        });
        Arc::try_unwrap(out).unwrap().into_inner().unwrap()
    };

    // The buyers are tasks on one client thread, not a thread (and a reqwest runtime thread)
    // each: the load generator shares the 2 cores with the servers it measures (its clients
    // were a fifth of the samples of an earlier profile, and are 5 % now). `OG_BENCH_CLIENT=per-order`: a new client
    // and connection every order, as this bench did before 2026-12-06, to compare.
    let per_order = std::env::var("OG_BENCH_CLIENT").is_ok_and(|v| v == "per-order");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let mut all = runtime.block_on(async {
        let buyers_started = tokens.into_iter().enumerate().map(|(i, access)| {
            let url = urls[i % urls.len()].clone();
            tokio::spawn(async move {
                let mut s = Samples::default();
                // Arrivals spread over one buyer's cycle (three pauses), not all at one instant.
                tokio::time::sleep(think * 3 * i as u32 / buyers as u32).await;
                let mut c = browser();
                for r in 0..rounds {
                    if per_order {
                        c = browser();
                    }
                    buy(&c, &url, &access, offer, &format!("bench-{i:05}-{r:03}"), think, &mut s).await;
                }
                s
            })
        });
        let handles: Vec<_> = buyers_started.collect();
        let mut all = Samples::default();
        for h in handles {
            let s = h.await.unwrap();
            all.checkout.extend(s.checkout);
            all.checkout_started.extend(s.checkout_started);
            all.pay.extend(s.pay);
            all.both.extend(s.both);
            all.errors.extend(s.errors);
        }
        all
    });
    let elapsed = started.elapsed().as_secs_f64();
    let orders = all.both.len();
    // The confirmations (PDF tickets attached) wait in the mail queue: how long after the last
    // order the queue is empty says what the measured rows put off.
    let last_order = Instant::now();
    let drained = if mail_queue_empty(&urls[0], Duration::from_secs(300)) {
        format!("{:.1} s", last_order.elapsed().as_secs_f64())
    } else {
        "> 300 s".to_owned()
    };
    // Where in the run the slow checkouts were: the first seconds (payments, webhooks and
    // confirmations starting beside the checkouts) or all along.
    let split = all.checkout_started.iter().min().map(|&first| {
        let cut = first + Duration::from_secs(2);
        let (mut early, mut late): (Vec<Duration>, Vec<Duration>) = (Vec::new(), Vec::new());
        for (at, d) in all.checkout_started.iter().zip(&all.checkout) {
            if *at < cut { early.push(*d) } else { late.push(*d) }
        }
        format!(
            "  checkout p99 of those sent in the first 2 s: {:.1} ms ({} checkouts); after: {:.1} ms ({})",
            pct(&mut early, 0.99),
            early.len(),
            pct(&mut late, 0.99),
            late.len()
        )
    });
    println!(
        "| {label} | {} ms | {orders} | {:.0} | {:.1} / {:.1} / {:.1} | {:.1} / {:.1} / {:.1} | {:.1} / {:.1} / {:.1} | {drained} | {} |",
        think.as_millis(),
        orders as f64 / elapsed,
        pct(&mut all.checkout, 0.5),
        pct(&mut all.checkout, 0.99),
        pct(&mut all.checkout, 1.0),
        pct(&mut all.pay, 0.5),
        pct(&mut all.pay, 0.99),
        pct(&mut all.pay, 1.0),
        pct(&mut all.both, 0.5),
        pct(&mut all.both, 0.99),
        pct(&mut all.both, 1.0),
        all.errors.len(),
    );
    if let Some(line) = split {
        println!("{line}");
    }
    if !all.errors.is_empty() {
        let mut kinds = all.errors.clone();
        kinds.sort();
        kinds.dedup();
        println!("  errors: {kinds:?}");
    }
}

/// Waits until `/metrics` of the issuer at `url` says no mail waits; false at the deadline.
fn mail_queue_empty(url: &str, within: Duration) -> bool {
    let c = http();
    og_fixtures::poll::within(within, Duration::from_millis(100), || {
        let text = c.get(format!("{url}/metrics")).send().ok()?.text().ok()?;
        text.lines()
            .any(|l| l.strip_prefix("og_mails_waiting ").is_some_and(|v| v.trim() == "0"))
            .then_some(())
    })
    .is_some()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: both run it.
    let buyers = env_usize("OG_BENCH_BUYERS", 200);
    let rounds = env_usize("OG_BENCH_ROUNDS", 5);
    let think = Duration::from_millis(env_usize("OG_BENCH_THINK_MS", 500) as u64);
    println!(
        "{buyers} concurrent buyers x {rounds} orders each, load average at start: {}",
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim()
    );
    println!(
        "| engine, processes | pause before each request | orders | orders/s | checkout p50 / p99 / max (ms) | payment (tickets signed) p50 / p99 / max | checkout + payment p50 / p99 / max | mail queue empty after the last order | errors |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let pg_url = |pg: &ScratchDatabase| match pg.url() {
        og_issuer::store::DatabaseUrl::Postgres(u) => u,
        other => panic!("not PostgreSQL: {other:?}"),
    };
    // `OG_BENCH_ENGINES=sqlite,pg1,pg3` (the default) picks the rows; `OG_BENCH_LOADS=pause,busy`
    // the two loads (to profile one of them alone).
    let engines = std::env::var("OG_BENCH_ENGINES").unwrap_or_else(|_| "sqlite,pg1,pg3".into());
    let loads = std::env::var("OG_BENCH_LOADS").unwrap_or_else(|_| "pause,busy".into());
    let wanted = |list: &str, name: &str| list.split(',').any(|x| x.trim() == name);
    for (load_name, think) in [("pause", think), ("busy", Duration::ZERO)] {
        if !wanted(&loads, load_name) {
            continue;
        }
        let load = Load { buyers, rounds, think };
        if wanted(&engines, "sqlite") {
            run("SQLite, 1 process", None, 1, &load);
        }
        for replicas in [1, 3] {
            if !wanted(&engines, &format!("pg{replicas}")) {
                continue;
            }
            let pg = ScratchDatabase::create("og_bench_p99");
            let label = format!("PostgreSQL, {replicas} replica{}", if replicas > 1 { "s" } else { "" });
            run(&label, Some(&pg_url(&pg)), replicas, &load);
        }
    }
}
