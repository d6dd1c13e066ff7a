//! Support for the system tests in `tests/tests/`: the real SMTP sink (from og-fixtures, shared
//! with the issuer's own tests). The process helpers live
//! in `tests/tests/support/` because Cargo gives binary paths only to integration tests.

pub use og_fixtures::smtp;
