//! Fuzzes the offline bundle reader: any file must load or be refused, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = og_shared::sync::GateBundle::from_signed_file(data, None, og_fixtures::FIXTURE_NOW);
});
