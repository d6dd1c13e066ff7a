//! Rotating codes (`OGR:`, issue 11): the committed golden vectors keep their verdicts and
//! regenerate byte for byte; every single-bit flip of a live code is refused; arbitrary input
//! never panics and is never accepted; random bound tickets round-trip through the text.

use std::path::PathBuf;

use og_fixtures::{
    FIXTURE_NOW, RotatingVector, sample_bound_ticket, sample_claims, test_device, test_new_device, test_signer,
    test_trust_store,
};
use og_shared::bound::{DEFAULT_TOLERANCE, ROTATING_TEXT_LEN};
use og_shared::ticket::{Tag, TicketFlags, Zones};
use og_shared::{
    BoundTicket, DeviceSigner, KeyId, Offer, Rejection, RotatingCode, TicketClaims, verify_code_text,
    verify_rotating_qr_text,
};
use proptest::prelude::*;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/vectors")
}

fn committed() -> Vec<RotatingVector> {
    let json = std::fs::read_to_string(vectors_dir().join("rotating.json")).expect("fixtures/vectors/rotating.json");
    serde_json::from_str(&json).expect("rotating.json parses")
}

fn outcome(text: &[u8], now: i64, tolerance: i64) -> String {
    match verify_rotating_qr_text(text, &test_trust_store(), now, tolerance) {
        Ok(_) => "valid".to_owned(),
        Err(r) => r.code().to_owned(),
    }
}

#[test]
fn every_committed_rotating_vector_gives_its_expected_verdict_from_text_and_png() {
    let vectors = committed();
    assert!(vectors.len() >= 5);
    for v in &vectors {
        let text = std::fs::read(vectors_dir().join(format!("{}.txt", v.name))).unwrap();
        assert_eq!(outcome(&text, v.now, v.tolerance), v.expect, "{}: {}", v.name, v.note);
        let img = image::open(vectors_dir().join(format!("{}.png", v.name)))
            .unwrap()
            .to_luma8();
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1, "{}.png holds one QR code", v.name);
        assert_eq!(
            grids[0].decode().unwrap().1,
            v.text,
            "{}.png decodes to its text",
            v.name
        );
    }
}

#[test]
fn the_valid_vector_tells_the_phone_and_the_issuer_every_intermediate_value() {
    let v = committed().into_iter().find(|v| v.name == "rotating-valid").unwrap();
    let code = RotatingCode::parse_text(v.text.as_bytes()).unwrap();
    assert_eq!(code.bound.to_base64url(), v.bound_ticket);
    assert_eq!(code.time, v.time);
    assert_eq!(hex(code.bound.device_key.as_bytes()), v.device_public_key);
    assert_eq!(code.bound.holder_key_tag().to_hex(), v.holder_key_tag);
    assert_eq!(
        hex(&og_shared::bound::rotating_message(
            &code.bound.issuer_signature,
            code.time
        )),
        v.device_message
    );
    let verified = verify_rotating_qr_text(v.text.as_bytes(), &test_trust_store(), v.now, v.tolerance).unwrap();
    assert_eq!(verified.claims.serial, v.serial);
    assert_eq!(verified.holder_key_tag.unwrap().to_hex(), v.holder_key_tag);
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn regenerating_the_rotating_fixtures_reproduces_the_committed_files_exactly() {
    let fresh = og_fixtures::rotating_vectors();
    assert_eq!(
        fresh,
        committed(),
        "run `cargo run -p og-fixtures --bin regen-fixtures` and review the diff"
    );
    for v in &fresh {
        let png = std::fs::read(vectors_dir().join(format!("{}.png", v.name))).unwrap();
        assert_eq!(png, og_fixtures::qr_png(&v.text), "{}.png", v.name);
    }
    let jwk = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/keys/TEST-ONLY-DO-NOT-USE-device-key.jwk"),
    )
    .unwrap();
    assert_eq!(jwk.trim_end(), og_fixtures::test_device_jwk());
}

#[test]
fn a_rotating_code_fits_qr_version_10_at_level_m() {
    for v in committed() {
        assert_eq!(v.text.len(), ROTATING_TEXT_LEN);
        let version = og_fixtures::qr_version(&v.text);
        assert!((1..=10).contains(&version), "{} needs version {version}", v.name);
    }
}

#[test]
fn every_single_bit_flip_of_a_live_code_is_refused() {
    let text = test_device()
        .rotating_code(&sample_bound_ticket(&test_device()), FIXTURE_NOW, 5)
        .to_text();
    let trust = test_trust_store();
    assert!(verify_rotating_qr_text(text.as_bytes(), &trust, FIXTURE_NOW, DEFAULT_TOLERANCE).is_ok());
    let bytes = text.as_bytes();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut m = bytes.to_vec();
            m[i] ^= 1 << bit;
            assert!(
                verify_code_text(&m, &trust, FIXTURE_NOW, DEFAULT_TOLERANCE).is_err(),
                "flipping bit {bit} of byte {i} was accepted"
            );
        }
    }
}

#[test]
fn a_phone_replaced_by_a_new_one_makes_codes_only_the_new_binding_accepts() {
    let old = sample_bound_ticket(&test_device());
    let new = sample_bound_ticket(&test_new_device());
    assert_ne!(old.holder_key_tag(), new.holder_key_tag());
    let trust = test_trust_store();
    let t = |b: &BoundTicket, d: &DeviceSigner| d.rotating_code(b, FIXTURE_NOW, 5).to_text();
    let old_tag = verify_rotating_qr_text(t(&old, &test_device()).as_bytes(), &trust, FIXTURE_NOW, 30)
        .unwrap()
        .holder_key_tag;
    let new_tag = verify_rotating_qr_text(t(&new, &test_new_device()).as_bytes(), &trust, FIXTURE_NOW, 30)
        .unwrap()
        .holder_key_tag;
    assert_ne!(old_tag, new_tag, "a device_key revocation can tell them apart");
    assert_eq!(
        verify_rotating_qr_text(t(&new, &test_device()).as_bytes(), &trust, FIXTURE_NOW, 30),
        Err(Rejection::BadDeviceSignature),
        "the old phone cannot make codes for the new binding"
    );
}

fn arb_claims() -> impl Strategy<Value = TicketClaims> {
    (
        any::<u32>(),
        any::<u32>(),
        prop_oneof![Just(Offer::Solo), Just(Offer::Duo), Just(Offer::Family)],
        any::<[u8; 6]>(),
        any::<[u8; 6]>(),
        any::<u16>(),
        0u8..8,
        any::<u8>(),
        1u8..=4,
    )
        .prop_map(
            |(event_id, serial, offer, p, a, zones, flags, generation, left)| TicketClaims {
                key_id: KeyId(0),
                event_id,
                serial,
                generation,
                offer,
                admits: left.min(offer.admits()),
                purchase_tag: Tag(p),
                account_tag: Tag(a),
                valid_from: (FIXTURE_NOW - 3600) as u32,
                valid_until: (FIXTURE_NOW + 3600) as u32,
                zones: Zones(zones),
                flags: TicketFlags(flags),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_bound_claims_round_trip_through_a_live_code_and_any_bit_flip_is_refused(
        claims in arb_claims(),
        seed in any::<[u8; 31]>(),
        skew in -30i64..=30,
        pos in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        // A 31-byte seed with a zero first byte is always a valid P-256 scalar (below the order).
        let mut secret = [1u8; 32];
        secret[1..].copy_from_slice(&seed);
        secret[0] = 0;
        let device = DeviceSigner::from_secret_bytes(&secret).unwrap();
        let s = test_signer();
        let bound = s.sign_bound_ticket(&claims, &device.public_key());
        let text = device.rotating_code(&bound, FIXTURE_NOW + skew, 1).to_text();
        let trust = test_trust_store();
        let v = verify_rotating_qr_text(text.as_bytes(), &trust, FIXTURE_NOW, 30).unwrap();
        let expected = TicketClaims {
            key_id: s.key_id(),
            flags: TicketFlags(claims.flags.0 | TicketFlags::HOLDER_BOUND),
            ..claims
        };
        prop_assert_eq!(v.claims, expected);
        prop_assert_eq!(v.holder_key_tag, Some(device.public_key().tag()));
        // Canonical: parsing and printing give back the very same text.
        prop_assert_eq!(RotatingCode::parse_text(text.as_bytes()).unwrap().to_text(), text.clone());
        let mut m = text.into_bytes();
        let i = pos.index(m.len());
        m[i] ^= 1 << bit;
        prop_assert!(verify_code_text(&m, &trust, FIXTURE_NOW, 30).is_err());
    }

    #[test]
    fn arbitrary_bytes_after_the_rotating_prefix_never_panic_and_are_never_accepted(
        body in proptest::collection::vec(any::<u8>(), 0..700),
    ) {
        let mut input = b"OGR:".to_vec();
        input.extend_from_slice(&body);
        prop_assert!(verify_code_text(&input, &test_trust_store(), FIXTURE_NOW, 30).is_err());
    }

    #[test]
    fn arbitrary_alphanumeric_text_of_the_right_length_is_never_accepted(body in "[0-9A-Z $%*+./:-]{302}") {
        let text = format!("OGR:{body}");
        prop_assert!(verify_rotating_qr_text(text.as_bytes(), &test_trust_store(), FIXTURE_NOW, 30).is_err());
    }

    #[test]
    fn any_201_bytes_either_refuse_or_verify_to_a_text_that_re_encodes_exactly(
        bytes in proptest::collection::vec(any::<u8>(), 201),
    ) {
        let b: [u8; 201] = bytes.try_into().unwrap();
        if let Ok(code) = RotatingCode::from_bytes(&b) {
            prop_assert_eq!(code.to_bytes(), b);
        }
    }
}

#[test]
fn a_static_code_of_the_same_entitlement_still_verifies_through_the_one_entry_point() {
    let text = test_signer().sign_ticket(&sample_claims(Offer::Duo, 3001));
    let v = verify_code_text(text.as_bytes(), &test_trust_store(), FIXTURE_NOW, 30).unwrap();
    assert_eq!(v.holder_key_tag, None);
}
