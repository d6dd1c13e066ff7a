//! Decoder measurements (a bench binary, `harness = false`): our pipeline vs rqrr alone, side by
//! side in one run, single-threaded.
//!
//! `cargo bench -p og-gate-agent --bench decoders` (add `-- quick` for fewer frames, and any of
//! `photos`, `frames`, `verdict`, `writes` to run only those parts).
//!
//! 1. `../shared/qr-photos/` (beside the checkout): images read with the exact expected text.
//! 2. Camera-like ticket frames from `og_fixtures::frames` (1280x720): read rate.
//! 3. Frame-to-verdict on 1280x720 and 1920x1080 frames with a ticket and without any code:
//!    decode + verify + lookups + decide + the durable write, through `og_gate::gate::Gate`.
//! 4. The admission check alone, with its durable write, on 2,000 tickets (the fsync tail).
//!
//! `OG_BENCH_DUMP=DIR` writes the camera-like frames our pipeline missed, for inspection.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::GrayImage;
use og_gate::decode::{DecodeOptions, decode_luma, decode_rqrr_plain, load_luma, payload_text};

struct Stats {
    times: Vec<Duration>,
}

impl Stats {
    fn new() -> Stats {
        Stats { times: Vec::new() }
    }
    fn push(&mut self, d: Duration) {
        self.times.push(d);
    }
    fn q(&self, q: f64) -> f64 {
        let mut t = self.times.clone();
        t.sort();
        if t.is_empty() {
            return 0.0;
        }
        let i = ((t.len() - 1) as f64 * q).round() as usize;
        t[i].as_secs_f64() * 1e3
    }
    fn mean(&self) -> f64 {
        let n = self.times.len().max(1) as f64;
        self.times.iter().map(Duration::as_secs_f64).sum::<f64>() / n * 1e3
    }
    fn line(&self) -> String {
        format!(
            "median {:.2} ms, p95 {:.2} ms, max {:.2} ms",
            self.q(0.5),
            self.q(0.95),
            self.q(1.0)
        )
    }
}

fn photos_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/qr-photos")
}

fn photos() {
    let dir = photos_dir();
    let Ok(index) = std::fs::read_to_string(dir.join("index.tsv")) else {
        println!("photos: {} not found, skipped", dir.display());
        return;
    };
    let opts = DecodeOptions::default();
    let (mut ours, mut plain, mut n, mut plain_panics) = (0, 0, 0, 0);
    let (mut t_ours, mut t_plain) = (Stats::new(), Stats::new());
    let mut over_100 = Vec::new();
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 2 {
            continue;
        }
        let expected = std::fs::read(dir.join(cols[1])).expect("expected text");
        let Ok(img) = load_luma(&dir.join(cols[0])) else {
            println!("photos: cannot load {}", cols[0]);
            continue;
        };
        n += 1;
        let s = Instant::now();
        let d = decode_luma(&img, &opts);
        let e = s.elapsed();
        t_ours.push(e);
        if e > Duration::from_millis(100) {
            over_100.push(format!("{} {:.0} ms", cols[0], e.as_secs_f64() * 1e3));
        }
        // Compared as text, the way zbar and zxing-cpp report codes (their expected files are UTF-8).
        let as_text = |codes: &[Vec<u8>]| codes.iter().any(|c| payload_text(c).as_bytes() == expected.as_slice());
        if as_text(&d.codes) {
            ours += 1;
        } else if std::env::var_os("OG_BENCH_MISSES").is_some() {
            println!(
                "  miss {} {}x{}: eyes {}, passes {}, timeouts {}, panics {}, {:.1} ms, other codes {}",
                cols[0],
                img.width(),
                img.height(),
                d.eyes,
                d.passes,
                d.timeouts,
                d.panics,
                e.as_secs_f64() * 1e3,
                d.codes.len()
            );
        }
        let s = Instant::now();
        let p = decode_rqrr_plain(&img);
        t_plain.push(s.elapsed());
        match p {
            Some(codes) if as_text(&codes) => plain += 1,
            None => plain_panics += 1,
            _ => {}
        }
    }
    println!("## qr-photos ({n} images, exact expected text)");
    println!(
        "- ours:       {ours}/{n} ({:.1}%), {}",
        100.0 * ours as f64 / n as f64,
        t_ours.line()
    );
    println!(
        "- rqrr alone: {plain}/{n} ({:.1}%), {} ({plain_panics} panics caught)",
        100.0 * plain as f64 / n as f64,
        t_plain.line()
    );
    println!("- ours over 100 ms: {over_100:?}");
}

fn camera_frames(count: u32) {
    let d = og_fixtures::frames::Difficulty::default();
    let signer = og_fixtures::test_signer();
    let opts = DecodeOptions::default();
    let dump = std::env::var_os("OG_BENCH_DUMP").map(PathBuf::from);
    let (mut ours, mut plain) = (0, 0);
    let (mut t_ours, mut t_plain) = (Stats::new(), Stats::new());
    let mut by_pass = [0u32; 8];
    let mut in_crop = 0;
    let quick_opts = DecodeOptions {
        thorough: false,
        ..DecodeOptions::default()
    };
    let (mut quick, mut t_quick) = (0, Stats::new());
    let mut no_eyes = 0;
    let mut quick_miss_regions: Vec<u32> = Vec::new();
    for i in 0..count {
        let text = signer.sign_ticket(&og_fixtures::sample_claims(og_shared::Offer::Duo, 5000 + i));
        let img = og_fixtures::frames::camera_frame(&text, 1280, 720, u64::from(i), &d);
        let s = Instant::now();
        let r = decode_luma(&img, &opts);
        t_ours.push(s.elapsed());
        no_eyes += u32::from(r.eyes == 0);
        if r.codes.iter().any(|c| c == text.as_bytes()) {
            ours += 1;
            by_pass[r.found_in_pass.unwrap_or(0).min(7) as usize] += 1;
            in_crop += u32::from(r.found_in_crop);
        } else if let Some(dir) = &dump {
            let _ = std::fs::create_dir_all(dir);
            let _ = img.save(dir.join(format!("miss-{i}.png")));
        }
        let s = Instant::now();
        if decode_rqrr_plain(&img).is_some_and(|c| c.iter().any(|c| c == text.as_bytes())) {
            plain += 1;
        }
        t_plain.push(s.elapsed());
        let s = Instant::now();
        let q = decode_luma(&img, &quick_opts);
        if q.codes.iter().any(|c| c == text.as_bytes()) {
            quick += 1;
        } else {
            quick_miss_regions.push(q.regions);
        }
        t_quick.push(s.elapsed());
    }
    println!("## camera-like ticket frames (1280x720, {count} frames, og_fixtures::frames default difficulty)");
    println!(
        "- ours:       {ours}/{count} ({:.1}%), {}",
        100.0 * f64::from(ours) / f64::from(count),
        t_ours.line()
    );
    println!(
        "- rqrr alone: {plain}/{count} ({:.1}%), {}",
        100.0 * f64::from(plain) / f64::from(count),
        t_plain.line()
    );
    println!(
        "- ours, quick look only (`thorough: false`): {quick}/{count} ({:.1}%), {}",
        100.0 * f64::from(quick) / f64::from(count),
        t_quick.line()
    );
    println!(
        "- ours, frames read by pass 1..7: {:?}; read from the crop around the eyes: {in_crop}",
        &by_pass[1..]
    );
    println!(
        "- frames where the locator saw no eye at all: {no_eyes}/{count}; groups of eyes in each frame the quick look missed: {quick_miss_regions:?}"
    );
}

fn provisioned_gate() -> (tempfile::TempDir, og_gate::gate::Gate) {
    use og_shared::sync::{EventFacts, GENESIS_HASH, GateBundle, KeyInfo, RevocationPage};
    let dir = tempfile::tempdir().unwrap();
    let bundle = GateBundle {
        deployment: og_fixtures::test_signer().deployment().clone(),
        created_at: og_fixtures::FIXTURE_NOW,
        keys: og_fixtures::test_trust_store()
            .keys()
            .iter()
            .map(KeyInfo::from_trusted)
            .collect(),
        revocations: RevocationPage::build(0, GENESIS_HASH, vec![]),
        events: vec![EventFacts {
            event_id: og_fixtures::FIXTURE_EVENT,
            name: "bench".into(),
            sport: "x".into(),
            venue: "x".into(),
            starts_at: 0,
            doors_open: 0,
            doors_close: 0,
            zones: vec![],
        }],
        zone: None,
        log_epoch: 0,
    };
    let file = dir.path().join("b");
    std::fs::write(&file, bundle.to_signed_file(&og_fixtures::test_signer())).unwrap();
    og_gate::bundle::import_file(dir.path(), &file, &Default::default(), og_fixtures::FIXTURE_NOW).unwrap();
    let gate = og_gate::gate::Gate::open(dir.path()).unwrap();
    (dir, gate)
}

fn frame_to_verdict(count: u32) {
    let (_dir, mut gate) = provisioned_gate();
    let signer = og_fixtures::test_signer();
    let d = og_fixtures::frames::Difficulty::default();
    let opts = DecodeOptions::default();
    println!("## frame to verdict (decode + verify + lookups + decide + durable write), {count} frames each");
    for (w, h) in [(1280u32, 720u32), (1920, 1080)] {
        let mut with = Stats::new();
        let mut decide_write = Stats::new();
        let mut found = 0;
        for i in 0..count {
            let text = signer.sign_ticket(&og_fixtures::sample_claims(og_shared::Offer::Solo, 90_000 + w + i));
            let img = og_fixtures::frames::camera_frame(&text, w, h, 1000 + u64::from(i), &d);
            let s = Instant::now();
            let r = decode_luma(&img, &opts);
            for c in &r.codes {
                let t = Instant::now();
                if gate.check(c, og_fixtures::FIXTURE_NOW).unwrap().verdict.lets_through() {
                    found += 1;
                }
                decide_write.push(t.elapsed());
            }
            with.push(s.elapsed());
        }
        let mut empty = Stats::new();
        let frames: Vec<GrayImage> = (0..count)
            .map(|i| og_fixtures::frames::empty_frame(w, h, u64::from(i)))
            .collect();
        let (mut empty_no_eyes, mut empty_regions) = (0, 0);
        for img in &frames {
            let s = Instant::now();
            let r = decode_luma(img, &opts);
            assert!(r.codes.is_empty());
            empty.push(s.elapsed());
            empty_no_eyes += u32::from(r.eyes == 0);
            empty_regions += u32::from(r.regions > 0);
        }
        let fast = DecodeOptions {
            thorough: false,
            ..DecodeOptions::default()
        };
        let mut empty_fast = Stats::new();
        let mut with_eyes = 0;
        for img in &frames {
            let s = Instant::now();
            let r = decode_luma(img, &fast);
            assert!(r.codes.is_empty());
            empty_fast.push(s.elapsed());
            with_eyes += u32::from(r.passes > 0);
        }
        let mut cadence = og_gate::decode::LiveCadence::default();
        let mut live = Stats::new();
        for img in &frames {
            let o = cadence.next_options();
            let s = Instant::now();
            let r = decode_luma(img, &o);
            live.push(s.elapsed());
            cadence.saw(&r);
        }
        println!("- {w}x{h} with a ticket ({found}/{count} admitted): {}", with.line());
        println!(
            "  - of which verify + lookups + decide + durable write: {}",
            decide_write.line()
        );
        println!(
            "- {w}x{h} without any code, quick look only: {} ({with_eyes}/{count} ran rqrr)",
            empty_fast.line()
        );
        println!(
            "- {w}x{h} without any code, live camera cadence (`LiveCadence`): mean {:.2} ms, {}",
            live.mean(),
            live.line()
        );
        println!(
            "- {w}x{h} without any code, every pass: {} (no eye at all in {empty_no_eyes}/{count}, a group of eyes in {empty_regions}/{count})",
            empty.line()
        );
    }
}

/// The durable part alone: `Gate::check` on 2,000 distinct tickets (verify, lookups, decide, and
/// the admission + outbox transaction with `synchronous=FULL`), the figure a slow disk moves.
fn durable_writes(count: u32) {
    let (_dir, mut gate) = provisioned_gate();
    let signer = og_fixtures::test_signer();
    let texts: Vec<String> = (0..count)
        .map(|i| signer.sign_ticket(&og_fixtures::sample_claims(og_shared::Offer::Solo, 200_000 + i)))
        .collect();
    let mut t = Stats::new();
    for text in &texts {
        let s = Instant::now();
        assert!(
            gate.check(text.as_bytes(), og_fixtures::FIXTURE_NOW)
                .unwrap()
                .verdict
                .lets_through()
        );
        t.push(s.elapsed());
    }
    println!("## admission check with its durable write ({count} tickets, temp dir on this machine's disk)");
    println!("- {}, p99 {:.2} ms", t.line(), t.q(0.99));
}

fn main() {
    // `cargo bench` passes `--bench`; anything else selects a quick run.
    let quick = std::env::args().any(|a| a == "quick");
    og_gate::decode::quiet_rqrr_panics();
    let n = if quick { 20 } else { 100 };
    println!(
        "# og-gate decoder bench ({} build, single thread)",
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    // `photos`, `frames`, `verdict` or `writes` runs only those parts.
    let parts = ["photos", "frames", "verdict", "writes"];
    let chosen: Vec<String> = std::env::args().filter(|a| parts.contains(&a.as_str())).collect();
    let wants = |p: &str| chosen.is_empty() || chosen.iter().any(|c| c == p);
    if wants("photos") {
        photos();
    }
    if wants("frames") {
        camera_frames(n);
    }
    if wants("verdict") {
        frame_to_verdict(if quick { 10 } else { 40 });
    }
    if wants("writes") {
        durable_writes(if quick { 200 } else { 2000 });
    }
}
