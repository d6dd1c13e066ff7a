//! Decoder measurements (a bench binary, `harness = false`), side by side in one run,
//! single-threaded: the gate's pipeline (zxing-cpp first, rqrr with the locator as the second
//! opinion), zxing-cpp's passes alone, rqrr with the locator alone, plain rqrr, and zxing-cpp
//! called the way a library user would (`zxingcpp::read()` with QR only, default options).
//!
//! `cargo bench -p og-gate-agent --bench decoders` (add `-- quick` for fewer frames, and any of
//! `photos`, `frames`, `verdict`, `writes` to run only those parts).
//!
//! 1. `../shared/qr-photos/` (beside the checkout): images read with the exact expected text,
//!    with the file deadline of `gate-agent decode` (3 s), and the gate once more with the live
//!    one.
//! 2. Camera-like ticket frames from `og_fixtures::frames` (1280x720): read rate, for default
//!    frames, phone screens (moire, strong glare), and version-10 symbols of both kinds.
//! 3. Frame-to-verdict on 1280x720 and 1920x1080 frames with a ticket and without any code:
//!    decode + verify + lookups + decide + the durable write, through `og_gate::gate::Gate`, in
//!    wall-clock and CPU time, with decode and the check apart.
//! 4. The admission check alone, with its durable write, on 2,000 tickets (the fsync tail), side
//!    by side with the same checks at `synchronous=NORMAL` and `OFF` and `verify_qr_text` alone.
//!
//! `OG_BENCH_DUMP=DIR` writes the camera-like frames our pipeline missed, for inspection.
//! `OG_BENCH_MISS_ROUNDS=N` (5 by default) sets how many interleaved rounds the photos zxing-cpp's
//! passes miss get, gate against rqrr + locator, for the best time of each (issue 12).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::GrayImage;
use og_gate::decode::{DecodeOptions, Decoders, decode_luma, decode_rqrr_plain, load_luma, payload_text};

/// zxing-cpp as a library user calls it: QR only, every other option at its default (try
/// harder, rotate, invert, downscale), on a view of the luma plane.
fn zxing_default(img: &GrayImage) -> Vec<Vec<u8>> {
    let Ok(view) = zxingcpp::ImageView::from_slice(
        img.as_raw().as_slice(),
        img.width(),
        img.height(),
        zxingcpp::ImageFormat::Lum,
    ) else {
        return Vec::new();
    };
    zxingcpp::read()
        .formats([zxingcpp::BarcodeFormat::QRCode])
        .from(view)
        .map(|v| v.iter().map(|b| b.bytes()).collect())
        .unwrap_or_default()
}

/// zxing-cpp's cheapest whole-frame call: QR only, no try-harder, rotate, invert or downscale.
fn zxing_fast_whole(img: &GrayImage) -> Vec<Vec<u8>> {
    let Ok(view) = zxingcpp::ImageView::from_slice(
        img.as_raw().as_slice(),
        img.width(),
        img.height(),
        zxingcpp::ImageFormat::Lum,
    ) else {
        return Vec::new();
    };
    zxingcpp::read()
        .formats([zxingcpp::BarcodeFormat::QRCode])
        .try_harder(false)
        .try_rotate(false)
        .try_invert(false)
        .try_downscale(false)
        .from(view)
        .map(|v| v.iter().map(|b| b.bytes()).collect())
        .unwrap_or_default()
}

/// Image files get the deadline `gate-agent decode` and `scan` give them (3 s): photos are
/// files, and their read rate must not depend on how loaded the machine is.
fn file(decoders: Decoders) -> DecodeOptions {
    DecodeOptions {
        deadline: Duration::from_secs(3),
        ..with(decoders)
    }
}

fn with(decoders: Decoders) -> DecodeOptions {
    DecodeOptions {
        decoders,
        ..DecodeOptions::default()
    }
}

/// One contender of a side-by-side run: how many images it read, and how fast.
struct Contender {
    name: &'static str,
    read: u32,
    t: Stats,
    /// CPU time of every thread of the process per image (see [`cpu_time`]).
    cpu: Stats,
}

impl Contender {
    fn new(name: &'static str) -> Contender {
        Contender {
            name,
            read: 0,
            t: Stats::new(),
            cpu: Stats::new(),
        }
    }

    /// Times `f` on an image and counts it read when `ok` says so.
    fn run<T>(&mut self, f: impl FnOnce() -> T, ok: impl FnOnce(&T) -> bool) -> T {
        let c = cpu_time();
        let s = Instant::now();
        let r = f();
        self.t.push(s.elapsed());
        self.cpu.push(cpu_time().saturating_sub(c));
        self.read += u32::from(ok(&r));
        r
    }

    fn line(&self, n: u32) -> String {
        format!(
            "- {:<38} {}/{n} ({:.1}%), {}; CPU median {:.2} ms, max {:.2} ms",
            self.name,
            self.read,
            100.0 * f64::from(self.read) / f64::from(n.max(1)),
            self.t.line(),
            self.cpu.q(0.5),
            self.cpu.q(1.0)
        )
    }
}

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

/// CPU time used so far by every thread of this process (`CLOCK_PROCESS_CPUTIME_ID`): what a
/// frame costs in work, whatever else runs on the machine. Wall-clock times on a loaded machine
/// also count the time spent waiting for a core (and for the disk).
fn cpu_time() -> Duration {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    let mut t = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `t` is a valid, writable timespec for the duration of the call (Linux x86-64 and
    // aarch64 layout: two 64-bit fields).
    if unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut t) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(t.sec as u64, t.nsec as u32)
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
    let mut n = 0u32;
    let mut ours = Contender::new("gate (zxing-cpp, then rqrr)");
    let mut zx = Contender::new("zxing-cpp passes alone");
    let mut rq = Contender::new("rqrr + locator alone (before)");
    let mut plain = Contender::new("rqrr alone, plain");
    let mut zdef = Contender::new("zxing-cpp library defaults");
    let mut live = Contender::new("gate, live-frame deadline (40 ms)");
    let mut over_100 = Vec::new();
    let mut rescued = Vec::new();
    // Where zxing-cpp's passes alone read nothing: the gate now against the gate before zxing-cpp
    // (rqrr + locator), on the same images (issue 12: "never slower than today" there).
    let mut zx_missed_gate = Stats::new();
    let mut zx_missed_before = Stats::new();
    let mut zx_missed_each = Vec::new();
    let mut zx_missed_images = Vec::new();
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
        // Compared as text, the way zbar and zxing-cpp report codes (their expected files are UTF-8).
        let as_text = |codes: &[Vec<u8>]| codes.iter().any(|c| payload_text(c).as_bytes() == expected.as_slice());
        let s = Instant::now();
        let d = ours.run(|| decode_luma(&img, &file(Decoders::Both)), |d| as_text(&d.codes));
        let e = s.elapsed();
        if e > Duration::from_millis(100) {
            over_100.push(format!("{} {:.0} ms", cols[0], e.as_secs_f64() * 1e3));
        }
        let z = zx.run(|| decode_luma(&img, &file(Decoders::Zxing)), |d| as_text(&d.codes));
        if as_text(&d.codes) && !as_text(&z.codes) {
            rescued.push(cols[0].to_owned());
        }
        if !as_text(&d.codes) && std::env::var_os("OG_BENCH_MISSES").is_some() {
            println!(
                "  miss {} {}x{}: eyes {}, passes {} (zxing {}), timeouts {}, panics {}, {:.1} ms, other codes {:?}",
                cols[0],
                img.width(),
                img.height(),
                d.eyes,
                d.passes,
                d.zxing_passes,
                d.timeouts,
                d.panics,
                e.as_secs_f64() * 1e3,
                d.codes
                    .iter()
                    .map(|c| payload_text(c).chars().take(40).collect::<String>())
                    .collect::<Vec<_>>()
            );
        }
        rq.run(|| decode_luma(&img, &file(Decoders::Rqrr)), |d| as_text(&d.codes));
        if !as_text(&z.codes) {
            zx_missed_images.push((cols[0].to_owned(), img.clone()));
            let (g, b) = (e, *rq.t.times.last().expect("just timed"));
            zx_missed_gate.push(g);
            zx_missed_before.push(b);
            zx_missed_each.push(format!(
                "{} {:.1} vs {:.1} ms",
                cols[0],
                g.as_secs_f64() * 1e3,
                b.as_secs_f64() * 1e3
            ));
        }
        plain.run(|| decode_rqrr_plain(&img), |p| p.as_deref().is_some_and(as_text));
        zdef.run(|| zxing_default(&img), |c| as_text(c));
        live.run(|| decode_luma(&img, &DecodeOptions::default()), |d| as_text(&d.codes));
    }
    println!("## qr-photos ({n} images, exact expected text; file deadline 3 s, as `gate-agent decode`)");
    for c in [&ours, &zx, &rq, &plain, &zdef, &live] {
        println!("{}", c.line(n));
    }
    println!("- read by the gate but not by zxing-cpp's passes alone (rqrr's rescues): {rescued:?}");
    println!("- gate over 100 ms: {over_100:?}");
    println!(
        "- where zxing-cpp's passes alone read nothing ({} photos): gate {} (mean {:.2} ms); the gate before zxing-cpp (rqrr + locator) {} (mean {:.2} ms)",
        zx_missed_gate.times.len(),
        zx_missed_gate.line(),
        zx_missed_gate.mean(),
        zx_missed_before.line(),
        zx_missed_before.mean()
    );
    println!("  each (gate vs before): {zx_missed_each:?}");
    zx_missed_rounds(&zx_missed_images);
}

/// The photos zxing-cpp's passes miss, decoded again by the gate and by the gate before
/// zxing-cpp (rqrr + locator) in turn, `OG_BENCH_MISS_ROUNDS` rounds (5 by default): the best
/// wall-clock and CPU time of each photo for each, so that other processes' load (which only
/// ever adds time) is mostly left out of the comparison.
fn zx_missed_rounds(images: &[(String, GrayImage)]) {
    let rounds: usize = std::env::var("OG_BENCH_MISS_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    if images.is_empty() || rounds == 0 {
        return;
    }
    // best[i] = (gate wall, gate CPU, before wall, before CPU).
    let mut best = vec![[Duration::MAX; 4]; images.len()];
    for _ in 0..rounds {
        for ((_, img), b) in images.iter().zip(&mut best) {
            for (k, decoders) in [(0, Decoders::Both), (2, Decoders::Rqrr)] {
                let (c, s) = (cpu_time(), Instant::now());
                std::hint::black_box(decode_luma(img, &file(decoders)));
                b[k] = b[k].min(s.elapsed());
                b[k + 1] = b[k + 1].min(cpu_time().saturating_sub(c));
            }
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mean = |k: usize| best.iter().map(|b| ms(b[k])).sum::<f64>() / best.len() as f64;
    let slower: Vec<f64> = best.iter().map(|b| ms(b[1]) - ms(b[3])).filter(|d| *d > 0.0).collect();
    println!(
        "- the same {} photos, best of {rounds} interleaved rounds: gate mean {:.2} ms (CPU {:.2} ms); the gate before zxing-cpp mean {:.2} ms (CPU {:.2} ms); gate slower (CPU) on {} photos, by at most {:.2} ms",
        images.len(),
        mean(0),
        mean(1),
        mean(2),
        mean(3),
        slower.len(),
        slower.iter().copied().fold(0.0, f64::max)
    );
    let each: Vec<String> = images
        .iter()
        .zip(&best)
        .map(|((name, _), b)| {
            format!(
                "{name} {:.1} vs {:.1} ms (CPU {:.1} vs {:.1})",
                ms(b[0]),
                ms(b[2]),
                ms(b[1]),
                ms(b[3])
            )
        })
        .collect();
    println!("  each (gate vs before): {each:?}");
}

/// The camera-like frame sets: (name, difficulty, version 10).
fn frame_sets() -> Vec<(&'static str, og_fixtures::frames::Difficulty, bool)> {
    use og_fixtures::frames::Difficulty;
    vec![
        ("default difficulty, ticket (v6)", Difficulty::default(), false),
        (
            "phone screen (moire, glare), ticket (v6)",
            Difficulty::phone_screen(),
            false,
        ),
        ("default difficulty, v10 at M", Difficulty::default(), true),
        (
            "phone screen (moire, glare), v10 at M",
            Difficulty::phone_screen(),
            true,
        ),
    ]
}

/// Frame `i` of a set, with the text it holds.
fn set_frame(d: &og_fixtures::frames::Difficulty, v10: bool, i: u32, w: u32, h: u32, seed: u64) -> (String, GrayImage) {
    let signer = og_fixtures::test_signer();
    let ticket = signer.sign_ticket(&og_fixtures::sample_claims(og_shared::Offer::Duo, 5000 + i));
    if v10 {
        let text = og_fixtures::frames::rotating_code_text(&ticket, u64::from(i));
        let img = og_fixtures::frames::camera_frame_v10(&text, w, h, seed, d);
        (text, img)
    } else {
        let img = og_fixtures::frames::camera_frame(&ticket, w, h, seed, d);
        (ticket, img)
    }
}

fn camera_frames(count: u32) {
    let dump = std::env::var_os("OG_BENCH_DUMP").map(PathBuf::from);
    let (mut all_ours, mut all_n) = (0u32, 0u32);
    let mut all_t = Stats::new();
    for (name, d, v10) in frame_sets() {
        let mut ours = Contender::new("gate (zxing-cpp, then rqrr)");
        let mut zx = Contender::new("zxing-cpp passes alone");
        let mut rq = Contender::new("rqrr + locator alone (before)");
        let mut plain = Contender::new("rqrr alone, plain");
        let mut zdef = Contender::new("zxing-cpp library defaults");
        let mut quick = Contender::new("gate, quick look (live frame)");
        let (mut by_rqrr, mut at_eyes) = (0, 0);
        // Which pass (1-based) read each frame, for the gate.
        let mut by_pass = std::collections::BTreeMap::<u32, u32>::new();
        for i in 0..count {
            let (text, img) = set_frame(&d, v10, i, 1280, 720, u64::from(i));
            let has = |codes: &[Vec<u8>]| codes.iter().any(|c| c == text.as_bytes());
            let r = ours.run(|| decode_luma(&img, &DecodeOptions::default()), |r| has(&r.codes));
            all_t.push(r.elapsed);
            if has(&r.codes) {
                *by_pass.entry(r.found_in_pass.unwrap_or(0)).or_default() += 1;
                by_rqrr += u32::from(r.found_by.first() == Some(&og_gate::decode::Engine::Rqrr));
                at_eyes += u32::from(r.found_in_crop);
            } else if let Some(dir) = &dump {
                let _ = std::fs::create_dir_all(dir);
                let _ = img.save(dir.join(format!("miss-{}-{i}.png", name.replace([' ', '(', ')', ','], "_"))));
            }
            zx.run(|| decode_luma(&img, &with(Decoders::Zxing)), |r| has(&r.codes));
            rq.run(|| decode_luma(&img, &with(Decoders::Rqrr)), |r| has(&r.codes));
            plain.run(|| decode_rqrr_plain(&img), |p| p.as_deref().is_some_and(has));
            zdef.run(|| zxing_default(&img), |c| has(c));
            let q = DecodeOptions {
                thorough: false,
                full_frame_needs_eyes: true,
                ..DecodeOptions::default()
            };
            quick.run(|| decode_luma(&img, &q), |r| has(&r.codes));
        }
        all_ours += ours.read;
        all_n += count;
        println!("## camera-like frames 1280x720, {name}: {count} frames");
        for c in [&ours, &zx, &rq, &plain, &zdef, &quick] {
            println!("{}", c.line(count));
        }
        println!(
            "- gate: read by rqrr (zxing-cpp found nothing): {by_rqrr}, of which from the crop around the eyes: {at_eyes}; frames read per pass: {by_pass:?}"
        );
    }
    println!(
        "## camera-like frames, all sets: gate read {all_ours}/{all_n} ({:.1}%), {}",
        100.0 * f64::from(all_ours) / f64::from(all_n.max(1)),
        all_t.line()
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
            holder_binding: Default::default(),
            paper_exceptions: vec![],
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
    let mut worst = Duration::ZERO;
    println!("## frame to verdict (decode + verify + lookups + decide + durable write), {count} frames each");
    for (w, h) in [(1280u32, 720u32), (1920, 1080)] {
        let mut with_code = Stats::new();
        let mut held = Stats::new();
        let mut zdef = Stats::new();
        let mut decide_write = Stats::new();
        let mut decode_only = Stats::new();
        let mut with_code_cpu = Stats::new();
        let mut zfast = Stats::new();
        let (mut found, mut zdef_found, mut at_hint, mut zfast_found) = (0, 0, 0, 0);
        for i in 0..count {
            let text = signer.sign_ticket(&og_fixtures::sample_claims(og_shared::Offer::Solo, 90_000 + w + i));
            let img = og_fixtures::frames::camera_frame(&text, w, h, 1000 + u64::from(i), &d);
            // The first frame a ticket is seen in: no hint.
            let c0 = cpu_time();
            let s = Instant::now();
            let r = decode_luma(&img, &opts);
            decode_only.push(r.elapsed);
            for c in &r.codes {
                let t = Instant::now();
                if gate.check(c, og_fixtures::FIXTURE_NOW).unwrap().verdict.lets_through() {
                    found += 1;
                }
                decide_write.push(t.elapsed());
            }
            with_code.push(s.elapsed());
            with_code_cpu.push(cpu_time().saturating_sub(c0));
            // The next frames while the phone is held up: decoded where the code was (the check
            // is a repeat then, but it is timed as a fresh one on another ticket's serial).
            let mut live = og_gate::decode::LiveCadence::default();
            let _ = live.next_options();
            live.saw(&r);
            let o = live.next_options();
            let s = Instant::now();
            let r2 = decode_luma(&img, &o);
            let held_text = signer.sign_ticket(&og_fixtures::sample_claims(og_shared::Offer::Solo, 190_000 + w + i));
            if !r2.codes.is_empty() {
                gate.check(held_text.as_bytes(), og_fixtures::FIXTURE_NOW).unwrap();
            }
            held.push(s.elapsed());
            at_hint += u32::from(r2.found_at_hint);
            let s = Instant::now();
            zdef_found += u32::from(zxing_default(&img).iter().any(|c| c == text.as_bytes()));
            zdef.push(s.elapsed());
            let s = Instant::now();
            zfast_found += u32::from(zxing_fast_whole(&img).iter().any(|c| c == text.as_bytes()));
            zfast.push(s.elapsed());
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
            full_frame_needs_eyes: true,
            ..DecodeOptions::default()
        };
        let mut empty_fast = Stats::new();
        let (mut with_eyes, mut no_decoder) = (0, 0);
        let mut empty_fast_cpu = Stats::new();
        for img in &frames {
            let c0 = cpu_time();
            let s = Instant::now();
            let r = decode_luma(img, &fast);
            assert!(r.codes.is_empty());
            empty_fast.push(s.elapsed());
            empty_fast_cpu.push(cpu_time().saturating_sub(c0));
            with_eyes += u32::from(r.passes > r.zxing_passes);
            no_decoder += u32::from(r.passes == 0);
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
        let mut empty_zdef = Stats::new();
        for img in &frames {
            let s = Instant::now();
            zxing_default(img);
            empty_zdef.push(s.elapsed());
        }
        for st in [&with_code, &held, &empty, &empty_fast, &live] {
            worst = worst.max(st.times.iter().copied().max().unwrap_or_default());
        }
        println!(
            "- {w}x{h} with a ticket, first frame ({found}/{count} admitted): {}",
            with_code.line()
        );
        println!("  - CPU time (all threads): {}", with_code_cpu.line());
        println!("  - of which decode: {}", decode_only.line());
        println!(
            "  - of which verify + lookups + decide + durable write: {}",
            decide_write.line()
        );
        println!(
            "- {w}x{h} with a ticket, next frame while held up (looked at where it was; {at_hint}/{count} read there): {}",
            held.line()
        );
        println!(
            "- {w}x{h} with a ticket, zxing-cpp library defaults, decode only ({zdef_found}/{count} read): {}",
            zdef.line()
        );
        println!(
            "- {w}x{h} with a ticket, zxing-cpp fast pass alone on the whole frame, decode only ({zfast_found}/{count} read): {}",
            zfast.line()
        );
        println!(
            "- {w}x{h} without any code, quick look (live frame): {} (no decoder ran on {no_decoder}/{count}: no eye seen; rqrr ran on {with_eyes}/{count})",
            empty_fast.line()
        );
        println!("  - CPU time (all threads): {}", empty_fast_cpu.line());
        println!(
            "- {w}x{h} without any code, live camera cadence (`LiveCadence`): mean {:.2} ms, {}",
            live.mean(),
            live.line()
        );
        println!(
            "- {w}x{h} without any code, every pass: {} (no eye at all in {empty_no_eyes}/{count}, a group of eyes in {empty_regions}/{count})",
            empty.line()
        );
        println!(
            "- {w}x{h} without any code, zxing-cpp library defaults: {}",
            empty_zdef.line()
        );
    }
    println!("- slowest frame of this part: {:.2} ms", worst.as_secs_f64() * 1e3);
}

/// The durable part alone: `Gate::check` on distinct tickets (verify, lookups, decide, and the
/// admission + outbox transaction with `synchronous=FULL`, the gate's setting), the figure a slow
/// disk moves. Side by side in the same run, for what the fsync costs: the same checks on gates
/// whose connection was switched to `synchronous=NORMAL` (WAL: no fsync per commit, a power cut
/// may lose the last admissions) and `OFF`, and `verify_qr_text` alone. Only FULL is what the
/// gate does; the others are measurements.
fn durable_writes(count: u32) {
    let signer = og_fixtures::test_signer();
    let trust = og_fixtures::test_trust_store();
    println!("## admission check with its durable write ({count} tickets each, temp dir on this machine's disk)");
    for (k, mode) in ["FULL", "NORMAL", "OFF"].iter().enumerate() {
        let (_dir, mut gate) = provisioned_gate();
        gate.store().conn().pragma_update(None, "synchronous", mode).unwrap();
        let texts: Vec<String> = (0..count)
            .map(|i| {
                signer.sign_ticket(&og_fixtures::sample_claims(
                    og_shared::Offer::Solo,
                    200_000 + 10_000 * k as u32 + i,
                ))
            })
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
        let what = if *mode == "FULL" {
            "synchronous=FULL (the gate)"
        } else {
            mode
        };
        println!("- {what:<28} {}, p99 {:.2} ms", t.line(), t.q(0.99));
        if k == 0 {
            let mut v = Stats::new();
            for text in &texts {
                let s = Instant::now();
                assert!(og_shared::verify_qr_text(text.as_bytes(), &trust, og_fixtures::FIXTURE_NOW).is_ok());
                v.push(s.elapsed());
            }
            println!("- {:<28} {}", "verify_qr_text alone", v.line());
        }
    }
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
