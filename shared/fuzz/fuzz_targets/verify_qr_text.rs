//! Fuzzes the ticket parser: any bytes must give a verdict (almost always a rejection), never
//! a panic, and anything accepted must re-encode to exactly the input (canonical text).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static TRUST: OnceLock<og_shared::TrustStore> = OnceLock::new();
    let trust = TRUST.get_or_init(og_fixtures::test_trust_store);
    if let Ok(t) = og_shared::verify_qr_text(data, trust, og_fixtures::FIXTURE_NOW) {
        let again = og_fixtures::test_signer().sign_ticket(&t.claims);
        let end = data.iter().rposition(|b| !matches!(b, b'\r' | b'\n')).map_or(0, |i| i + 1);
        let trimmed = &data[..end];
        assert_eq!(again.as_bytes(), trimmed, "accepted a non-canonical text");
    }
});
