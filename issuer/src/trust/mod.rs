//! The trust authority: the signing keys and secrets on disk ([`keys`]), signing tickets
//! ([`issuance`]), the hash-chained revocation log ([`revocation`]) and QR images ([`qr_image`]).
//! These are the operations that change what gates must believe.

pub mod issuance;
pub mod keys;
pub mod qr_image;
pub mod revocation;
