//! Ticket signing and verification costs.
//!
//! `cargo bench -p og-shared --bench ticket`. The target (issue 2): parse + verify of a valid
//! ticket within 1.5x of a bare `verify_strict` of the same signature on the same machine.

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::{Signature, Signer, SigningKey};
use og_fixtures::{FIXTURE_NOW, sample_claims, test_signer, test_trust_store};
use og_shared::{Offer, verify_qr_text};
use std::hint::black_box;

fn benches(c: &mut Criterion) {
    let signer = test_signer();
    let claims = sample_claims(Offer::Duo, 42);
    let text = signer.sign_ticket(&claims);
    let trust = test_trust_store();

    // Baseline: a bare verify_strict over a message of the same size (35-byte claims plus the
    // 38-byte domain and deployment prefix).
    let raw = SigningKey::from_bytes(&[7; 32]);
    let msg = [0x5au8; 35 + 38];
    let sig: Signature = raw.sign(&msg);
    let vk = raw.verifying_key();

    let mut g = c.benchmark_group("ticket");
    g.bench_function("bare_verify_strict", |b| {
        b.iter(|| vk.verify_strict(black_box(&msg), black_box(&sig)))
    });
    g.bench_function("sign_ticket", |b| b.iter(|| signer.sign_ticket(black_box(&claims))));
    g.bench_function("parse_and_verify_valid", |b| {
        b.iter(|| verify_qr_text(black_box(text.as_bytes()), &trust, FIXTURE_NOW).unwrap())
    });
    let garbage = b"https://example.org/some/other/app?code=123456".to_vec();
    g.bench_function("reject_garbage", |b| {
        b.iter(|| verify_qr_text(black_box(&garbage), &trust, FIXTURE_NOW).unwrap_err())
    });
    let mut forged = text.clone().into_bytes();
    forged[40] = if forged[40] == b'A' { b'B' } else { b'A' };
    g.bench_function("reject_bad_signature", |b| {
        b.iter(|| verify_qr_text(black_box(&forged), &trust, FIXTURE_NOW).unwrap_err())
    });
    g.finish();
}

criterion_group!(ticket, benches);
criterion_main!(ticket);
