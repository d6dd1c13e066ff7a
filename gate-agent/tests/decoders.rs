//! The decoder on real photos and on generated camera frames (version 6 tickets and version 10
//! rotating-code-sized symbols, plain and as phone screens with moire and glare).

use std::path::Path;
use std::time::Duration;

use og_fixtures::frames::{Difficulty, camera_frame, camera_frame_v10, rotating_code_text};
use og_gate::decode::{DecodeOptions, Decoders, decode_luma, load_luma, payload_text};

/// Files get time: results must not depend on how loaded the test machine is.
fn opts(decoders: Decoders) -> DecodeOptions {
    DecodeOptions {
        deadline: Duration::from_secs(20),
        decoders,
        ..DecodeOptions::default()
    }
}

#[test]
fn the_gate_reads_over_95_percent_of_the_real_photos_and_more_than_zxing_cpp_alone() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/qr-photos");
    let Ok(index) = std::fs::read_to_string(dir.join("index.tsv")) else {
        eprintln!(
            "{} not found: the real-photo test needs the shared photo set beside the checkout",
            dir.display()
        );
        return;
    };
    let (mut n, mut both, mut zxing) = (0, 0, 0);
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 2 {
            continue;
        }
        let expected = std::fs::read(dir.join(cols[1])).unwrap();
        let img = load_luma(&dir.join(cols[0])).unwrap();
        let read = |d: Decoders| {
            decode_luma(&img, &opts(d))
                .codes
                .iter()
                .any(|c| payload_text(c).as_bytes() == expected.as_slice())
        };
        let (b, z) = (read(Decoders::Both), read(Decoders::Zxing));
        assert!(b || !z, "{}: zxing-cpp alone reads it, the gate must too", cols[0]);
        n += 1;
        both += u32::from(b);
        zxing += u32::from(z);
    }
    assert!(n >= 170, "{n} photos");
    // 171 of 179 (95.5%) measured; the aim of 96% is one photo further (BENCHMARKS.md).
    assert!(f64::from(both) >= 0.955 * f64::from(n), "the gate read {both}/{n}");
    assert!(
        both > zxing,
        "the union ({both}) reads more than zxing-cpp alone ({zxing})"
    );
}

#[test]
fn camera_frames_with_tickets_and_version_10_codes_plain_and_on_phone_screens_are_read() {
    let signer = og_fixtures::test_signer();
    let mut missed = Vec::new();
    for (name, d) in [
        ("default", Difficulty::default()),
        ("phone screen", Difficulty::phone_screen()),
    ] {
        for i in 0..8u32 {
            let ticket = signer.sign_ticket(&og_fixtures::sample_claims(og_shared::Offer::Family, 700 + i));
            let v10 = rotating_code_text(&ticket, u64::from(i));
            for (kind, text, img) in [
                (
                    "v6",
                    ticket.clone(),
                    camera_frame(&ticket, 1280, 720, 300 + u64::from(i), &d),
                ),
                (
                    "v10",
                    v10.clone(),
                    camera_frame_v10(&v10, 1280, 720, 400 + u64::from(i), &d),
                ),
            ] {
                let r = decode_luma(&img, &opts(Decoders::Both));
                if !r.codes.iter().any(|c| c == text.as_bytes()) {
                    missed.push(format!("{name} {kind} #{i}"));
                }
            }
        }
    }
    // 32 frames: at most one may be missed (the target is 99% over the benchmark's 400).
    assert!(missed.len() <= 1, "missed {missed:?}");
}
