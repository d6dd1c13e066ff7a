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
fn the_gate_reads_at_least_96_percent_of_the_real_photos_and_more_than_zxing_cpp_alone() {
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
    // 173 of 179 (96.6%) measured (BENCHMARKS.md); the target is 96%.
    assert!(f64::from(both) >= 0.96 * f64::from(n), "the gate read {both}/{n}");
    assert!(
        both > zxing,
        "the union ({both}) reads more than zxing-cpp alone ({zxing})"
    );
}

#[test]
fn behind_zxing_cpp_the_bent_paper_photos_are_read_by_the_even_thresholds_before_rqrr_s_other_passes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/qr-photos");
    if !dir.join("index.tsv").exists() {
        eprintln!("{} not found: this test needs the shared photo set", dir.display());
        return;
    }
    // Codes on bent paper that only rqrr's thresholds at the local mean read (BENCHMARKS.md).
    for name in ["qrcode-4/08", "qrcode-4/13"] {
        let expected = std::fs::read(dir.join(format!("{name}.txt"))).unwrap();
        let img = load_luma(&dir.join(format!("{name}.png"))).unwrap();
        let reads = |d: &og_gate::decode::Decoded| d.codes.iter().any(|c| payload_text(c).as_bytes() == expected);
        let both = decode_luma(&img, &opts(Decoders::Both));
        let alone = decode_luma(&img, &opts(Decoders::Rqrr));
        assert!(reads(&both) && reads(&alone), "{name}: {both:?} {alone:?}");
        assert_eq!(both.found_by, vec![og_gate::decode::Engine::Rqrr], "{name}");
        // rqrr alone tries them last; behind zxing-cpp they come right after the first
        // full-image pass, so fewer of rqrr's passes run before the one that reads.
        let rqrr_passes = both.found_in_pass.unwrap() - both.zxing_passes;
        let alone_passes = alone.found_in_pass.unwrap();
        assert!(
            rqrr_passes + 3 <= alone_passes,
            "{name}: read by rqrr's pass {rqrr_passes} behind zxing-cpp, {alone_passes} alone"
        );
    }
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

#[test]
fn a_live_frame_without_any_eye_runs_no_decoder_but_the_same_frame_as_a_file_gets_every_pass() {
    // A scene with clutter and no code: dark and light boxes on a gradient, nothing shaped 1:1:3:1:1.
    let frame = image::GrayImage::from_fn(1280, 720, |x, y| {
        let boxed = ((300..520).contains(&x) && (100..400).contains(&y))
            || ((800..1100).contains(&x) && (350..650).contains(&y));
        image::Luma([if boxed { 40 } else { (80 + x / 16 + y / 24) as u8 }])
    });
    for live in [
        DecodeOptions {
            thorough: false,
            full_frame_needs_eyes: true,
            ..DecodeOptions::default()
        },
        DecodeOptions {
            full_frame_needs_eyes: true,
            ..DecodeOptions::default()
        },
    ] {
        let d = decode_luma(&frame, &live);
        assert!(d.codes.is_empty());
        assert_eq!((d.eyes, d.passes, d.zxing_passes), (0, 0, 0), "{d:?}");
    }
    let file = decode_luma(&frame, &opts(Decoders::Both));
    assert!(file.zxing_passes >= 2 && file.passes > file.zxing_passes, "{file:?}");
}

#[test]
fn a_ticket_in_a_720p_camera_frame_is_read_by_the_first_pass_on_the_2x_boxed_down_plane() {
    let signer = og_fixtures::test_signer();
    for i in 0..4u32 {
        let ticket = signer.sign_ticket(&og_fixtures::sample_claims(og_shared::Offer::Solo, 900 + i));
        let img = camera_frame(&ticket, 1280, 720, 900 + u64::from(i), &Difficulty::default());
        let d = decode_luma(&img, &opts(Decoders::Both));
        assert_eq!(d.codes, vec![ticket.as_bytes().to_vec()]);
        assert_eq!((d.found_in_pass, d.zxing_passes), (Some(1), 1), "{d:?}");
        // Its box is in the frame's pixels, where the next frame looks first.
        let at = d.position.expect("zxing-cpp gives the box");
        assert!(at.w > 150 && at.x + at.w <= 1280 && at.y + at.h <= 720, "{at:?}");
    }
}

#[test]
fn with_no_time_left_zxing_cpp_runs_only_its_fast_passes_and_no_harder_pass_starts() {
    let frame = image::GrayImage::from_fn(1280, 720, |x, y| image::Luma([(60 + (x + y) / 16) as u8]));
    let d = decode_luma(
        &frame,
        &DecodeOptions {
            deadline: Duration::from_micros(1),
            decoders: Decoders::Zxing,
            ..DecodeOptions::default()
        },
    );
    // The fast pass on the boxed-down plane and on the whole frame, then on their smoothed
    // copies (moire); trying harder would end late.
    assert_eq!(d.zxing_passes, 4, "{d:?}");
}
