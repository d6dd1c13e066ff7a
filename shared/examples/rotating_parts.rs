//! Interleaved timing of a static verify, a rotating verify and the rotating verify's parts,
//! round-robin so that the load of a shared machine hits them alike:
//! `cargo run --release -p og-shared --example rotating_parts`. Prints medians (us).

use og_fixtures::{FIXTURE_NOW, sample_claims, test_signer, test_trust_store};
use og_shared::{Offer, RotatingCode, verify_qr_text, verify_rotating_qr_text};
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let trust = test_trust_store();
    let text = test_signer().sign_ticket(&sample_claims(Offer::Duo, 42));
    let phone = og_fixtures::test_device();
    let bound = og_fixtures::sample_bound_ticket(&phone);
    let live = phone.rotating_code(&bound, FIXTURE_NOW, 5).to_text();
    let code = RotatingCode::parse_text(live.as_bytes()).unwrap();
    let key = bound.device_key;
    let raw = key.decompress().unwrap();
    let msg = og_shared::bound::rotating_message(&bound.issuer_signature, code.time);
    let mut t: [Vec<f64>; 5] = Default::default();
    let rounds = 3000;
    for _ in 0..rounds {
        let mut time = |i: usize, f: &mut dyn FnMut()| {
            let s = Instant::now();
            for _ in 0..5 {
                f();
            }
            t[i].push(s.elapsed().as_secs_f64() * 1e6 / 5.0);
        };
        time(0, &mut || {
            black_box(verify_qr_text(black_box(text.as_bytes()), &trust, FIXTURE_NOW).unwrap());
        });
        time(1, &mut || {
            black_box(verify_rotating_qr_text(black_box(live.as_bytes()), &trust, FIXTURE_NOW, 30).unwrap());
        });
        time(2, &mut || {
            black_box(black_box(&key).decompress().unwrap());
        });
        time(3, &mut || {
            ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &raw[..])
                .verify(black_box(&msg), black_box(&code.device_signature))
                .unwrap();
        });
        time(4, &mut || {
            black_box(RotatingCode::parse_text(black_box(live.as_bytes())).unwrap());
        });
    }
    let names = [
        "static verify (OG2:)",
        "rotating verify (OGR:, both signatures + freshness)",
        "  part: decompress device key (p256)",
        "  part: device signature, ring, uncompressed key",
        "  part: parse text (Base45, canonical check, structure)",
    ];
    let med = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let base = med(&mut t[0].clone());
    for (n, v) in names.iter().zip(t.iter_mut()) {
        let m = med(v);
        println!("| {n} | {m:.1} us | {:.2}x static |", m / base);
    }
}
