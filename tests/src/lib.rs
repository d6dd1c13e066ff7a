//! Support for the system tests in `tests/tests/`: a real SMTP sink. The process helpers live
//! in `tests/tests/support/` because Cargo gives binary paths only to integration tests.

pub mod smtp;
