//! Golden vectors: the committed fixture tickets (text and PNG) must keep verifying, each
//! invalid vector must keep its own rejection class, and regenerating the fixtures must give
//! the committed files byte for byte. A format change that breaks printed tickets fails here.

use std::path::PathBuf;

use og_fixtures::{FIXTURE_NOW, Vector, test_trust_store};
use og_shared::{Rejection, verify_qr_text};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/vectors")
}

fn committed() -> Vec<Vector> {
    let json = std::fs::read_to_string(vectors_dir().join("vectors.json")).expect("fixtures/vectors/vectors.json");
    serde_json::from_str(&json).expect("vectors.json parses")
}

fn outcome(text: &[u8]) -> String {
    match verify_qr_text(text, &test_trust_store(), FIXTURE_NOW) {
        Ok(_) => "valid".to_owned(),
        Err(r) => r.code().to_owned(),
    }
}

fn decode_png(name: &str) -> String {
    let img = image::open(vectors_dir().join(format!("{name}.png")))
        .expect("PNG opens")
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "{name}.png holds exactly one QR code");
    grids[0].decode().expect("rqrr decodes the fixture").1
}

#[test]
fn every_committed_text_vector_gives_its_expected_verdict() {
    let vectors = committed();
    assert!(vectors.len() >= 9);
    for v in &vectors {
        let text = std::fs::read(vectors_dir().join(format!("{}.txt", v.name))).unwrap();
        assert_eq!(outcome(&text), v.expect, "{}: {}", v.name, v.note);
        assert_eq!(outcome(v.text.as_bytes()), v.expect, "{} (json)", v.name);
    }
}

#[test]
fn every_committed_png_decodes_with_rqrr_to_its_text_and_verdict() {
    for v in committed() {
        let text = decode_png(&v.name);
        assert_eq!(text, v.text, "{}.png decodes to its .txt", v.name);
        assert_eq!(outcome(text.as_bytes()), v.expect, "{}", v.name);
    }
}

#[test]
fn valid_vectors_carry_the_offer_and_serial_they_were_printed_with() {
    for v in committed().into_iter().filter(|v| v.expect == "valid") {
        let t = verify_qr_text(v.text.as_bytes(), &test_trust_store(), FIXTURE_NOW).unwrap();
        assert_eq!(Some(t.claims.offer), v.offer, "{}", v.name);
        assert_eq!(Some(t.claims.serial), v.serial, "{}", v.name);
    }
}

#[test]
fn there_is_a_valid_vector_per_offer_and_an_invalid_vector_per_rejection_class() {
    let vectors = committed();
    for offer in og_shared::Offer::ALL {
        assert!(vectors.iter().any(|v| v.offer == Some(offer)), "{offer}");
    }
    let classes = [
        Rejection::Malformed(og_shared::qr::Malformed::NotOurs).code(),
        Rejection::UnsupportedVersion(2).code(),
        Rejection::UnknownKey(og_shared::KeyId(0)).code(),
        Rejection::KeyNotValidAt(og_shared::KeyId(0)).code(),
        Rejection::BadSignature.code(),
    ];
    for class in classes {
        assert!(vectors.iter().any(|v| v.expect == class), "no vector for {class}");
    }
}

#[test]
fn regenerating_the_fixtures_reproduces_the_committed_files_exactly() {
    let fresh = og_fixtures::vectors();
    assert_eq!(
        fresh,
        committed(),
        "run `cargo run -p og-fixtures --bin regen-fixtures` and review the diff"
    );
    for v in &fresh {
        let png = std::fs::read(vectors_dir().join(format!("{}.png", v.name))).unwrap();
        assert_eq!(png, og_fixtures::qr_png(&v.text), "{}.png", v.name);
    }
}

#[test]
fn the_committed_test_key_file_is_the_fixture_signer() {
    let pem = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/keys/TEST-ONLY-DO-NOT-USE-signing-key.pem"),
    )
    .unwrap();
    let s = og_shared::TicketSigner::from_pkcs8_pem(&pem, test_trust_store().deployment().clone()).unwrap();
    assert_eq!(s.key_id(), og_fixtures::test_signer().key_id());
}

#[test]
fn a_ticket_fits_qr_version_6_at_level_m() {
    for v in committed().into_iter().filter(|v| v.expect == "valid") {
        let version = og_fixtures::qr_version(&v.text);
        assert!((1..=6).contains(&version), "{} needs version {version}", v.name);
    }
}

#[test]
fn the_second_code_of_a_transferred_duo_admits_only_what_was_left() {
    let v = committed()
        .into_iter()
        .find(|v| v.name == "valid-duo-second-code")
        .expect("vector valid-duo-second-code");
    let t = verify_qr_text(v.text.as_bytes(), &test_trust_store(), FIXTURE_NOW).unwrap();
    assert_eq!(
        (t.claims.generation, t.claims.admits, t.claims.offer.admits()),
        (1, 1, 2)
    );
}
