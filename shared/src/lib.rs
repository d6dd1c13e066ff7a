//! The og-tickets trust core, shared by the issuer and the gate agent.
//!
//! This crate defines what an e-ticket *is* on the wire and how it is trusted:
//!
//! * [`ticket`]: the signed claims (event, serial, offer, purchase and account tags,
//!   validity window, zones, flags) and their fixed 36-byte binary layout;
//! * [`keys`]: Ed25519 signing and verifying keys, key ids, the deployment id that
//!   domain-separates signatures, and the [`keys::TrustStore`] a gate verifies against;
//! * [`qr`]: the canonical QR text (`OG2:` + Base45) and [`qr::verify_qr_text`], the one
//!   entry point that turns untrusted scanner bytes into a verified ticket or a typed
//!   [`qr::Rejection`];
//! * [`bound`]: holder-bound tickets and the rotating code a phone shows (`OGR:`), verified with
//!   [`bound::verify_rotating_qr_text`]; [`verify_code_text`] takes either kind of code;
//! * [`enrol`]: the content of the enrolment QR a gate scans to enrol (issuer URL + token);
//! * [`sync`]: the JSON types exchanged between gates and the issuer (keys, revocations,
//!   admissions, scan reports, event facts, offline bundles);
//! * [`trust`]: what a gate accepts from the issuer: signed key sets, signed revocation
//!   checkpoints, and the rules that keep its revocation copy from moving backwards.
//!
//! Invariant: this crate performs no I/O (no files, clock, network or randomness). Callers pass
//! in the current time and random bytes, which keeps every rule here deterministic and testable.

/// The venue's time zone when an event names none (events made before zones were recorded, a
/// gate given no `--time-zone`): the host city's. The issuer and the gate read it from here.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Paris";

pub mod bound;
pub mod enrol;
pub mod keys;
pub mod qr;
pub mod sync;
pub mod ticket;
pub mod trust;

pub use bound::{BoundTicket, DeviceKey, DeviceSigner, RotatingCode, verify_code_text, verify_rotating_qr_text};
pub use keys::{DeploymentId, KeyId, TicketSigner, TrustStore, TrustedKey};
pub use qr::{Rejection, VerifiedTicket, verify_qr_text};
pub use ticket::{Offer, TicketClaims, TicketFlags, Zones};

/// Seconds since the Unix epoch (UTC). All times in og-tickets use this unit.
pub type UnixSeconds = i64;
