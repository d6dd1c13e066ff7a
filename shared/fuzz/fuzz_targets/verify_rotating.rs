//! Fuzzes the rotating-code parser (`OGR:`, issue 11): any bytes must give a verdict, never a
//! panic; anything accepted must re-encode to exactly the input (canonical text). Inputs that
//! do not start with the prefix get it prepended, so the fuzzer spends its time past it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static TRUST: OnceLock<og_shared::TrustStore> = OnceLock::new();
    let trust = TRUST.get_or_init(og_fixtures::test_trust_store);
    let mut input = data.to_vec();
    if !input.starts_with(b"OGR:") {
        input.splice(0..0, b"OGR:".iter().copied());
    }
    let now = og_fixtures::FIXTURE_NOW;
    if og_shared::verify_code_text(&input, trust, now, 30).is_ok() {
        let code = og_shared::RotatingCode::parse_text(&input).expect("accepted text parses");
        let end = input.iter().rposition(|b| !matches!(b, b'\r' | b'\n')).map_or(0, |i| i + 1);
        assert_eq!(code.to_text().as_bytes(), &input[..end], "accepted a non-canonical text");
    }
    // The structural parser alone must hold the same property on everything it accepts.
    if let Ok(code) = og_shared::RotatingCode::parse_text(&input) {
        let end = input.iter().rposition(|b| !matches!(b, b'\r' | b'\n')).map_or(0, |i| i + 1);
        assert_eq!(code.to_text().as_bytes(), &input[..end], "parsed a non-canonical text");
    }
});
