//! Ticket signing and verification costs.
//!
//! `cargo bench -p og-shared --bench ticket`. The target (issue 2): parse + verify of a valid
//! ticket within 1.5x of a bare `verify_strict` of the same signature on the same machine.
//!
//! Group `rotating` (issue 11): a static code's verify and a rotating code's verify (issuer
//! signature + device signature + freshness) side by side; target rotating <= 3x static. Its
//! parts are measured alone too: the P-256 key decompression (`p256`), the device signature with
//! `ring` over the uncompressed key, and the same signature with RustCrypto `p256`.

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::{Signature, Signer, SigningKey};
use og_fixtures::{FIXTURE_NOW, sample_claims, test_signer, test_trust_store};
use og_shared::{Offer, verify_qr_text, verify_rotating_qr_text};
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

    let phone = og_fixtures::test_device();
    let bound = og_fixtures::sample_bound_ticket(&phone);
    let live = phone.rotating_code(&bound, FIXTURE_NOW, 5).to_text();
    let stale = phone.rotating_code(&bound, FIXTURE_NOW - 60, 5).to_text();
    let key = bound.device_key;
    let uncompressed = key.decompress().unwrap();
    let code = og_shared::RotatingCode::parse_text(live.as_bytes()).unwrap();
    let msg = og_shared::bound::rotating_message(&bound.issuer_signature, code.time);
    let mut g = c.benchmark_group("rotating");
    g.bench_function("static_verify", |b| {
        b.iter(|| verify_qr_text(black_box(text.as_bytes()), &trust, FIXTURE_NOW).unwrap())
    });
    g.bench_function("rotating_verify", |b| {
        b.iter(|| verify_rotating_qr_text(black_box(live.as_bytes()), &trust, FIXTURE_NOW, 30).unwrap())
    });
    g.bench_function("rotating_reject_stale", |b| {
        b.iter(|| verify_rotating_qr_text(black_box(stale.as_bytes()), &trust, FIXTURE_NOW, 30).unwrap_err())
    });
    g.bench_function("decompress_device_key", |b| {
        b.iter(|| black_box(&key).decompress().unwrap())
    });
    g.bench_function("ring_p256_verify_uncompressed", |b| {
        b.iter(|| {
            ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &uncompressed[..])
                .verify(black_box(&msg), black_box(&code.device_signature))
                .unwrap()
        })
    });
    let rc_key = p256::ecdsa::VerifyingKey::from_sec1_bytes(key.as_bytes()).unwrap();
    let rc_sig = p256::ecdsa::Signature::from_slice(&code.device_signature).unwrap();
    g.bench_function("rustcrypto_p256_verify", |b| {
        use p256::ecdsa::signature::Verifier as _;
        b.iter(|| rc_key.verify(black_box(&msg), black_box(&rc_sig)).unwrap())
    });
    g.finish();
}

criterion_group!(ticket, benches);
criterion_main!(ticket);
