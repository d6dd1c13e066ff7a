//! Gate operations' own side: device enrolment and credentials ([`devices`]), what a gate
//! downloads ([`sync`]: the signed catalogue, keys, revocation log pages) and what it uploads
//! ([`intake`]: scan batches, admissions, conflicts). Plain functions over a store connection or
//! transaction; the HTTP handlers are in `web::{devices, device_sync, scans}`. The rules are
//! here, the queries they run in `store::{devices, scans, signing_keys, events, tickets}`: this
//! context runs no SQL itself (`issuer/tests/architecture.rs`).

pub mod auth;
pub mod devices;
pub mod intake;
pub mod sync;

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The last full binary revocation snapshot served (`after=0`), keyed by the log head it
/// covers. The log is append-only and hash-chained, so a snapshot at head H never changes:
/// new devices arriving together are served from memory instead of re-reading the log.
#[derive(Debug, Default)]
pub struct SnapshotCache {
    inner: std::sync::Mutex<Option<(u64, axum::body::Bytes)>>,
}

impl SnapshotCache {
    /// The cached snapshot if it covers exactly `head`.
    pub fn get(&self, head: u64) -> Option<axum::body::Bytes> {
        let g = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        g.as_ref().filter(|(h, _)| *h == head).map(|(_, b)| b.clone())
    }

    pub fn put(&self, head: u64, bytes: axum::body::Bytes) {
        let mut g = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if g.as_ref().is_none_or(|(h, _)| *h <= head) {
            *g = Some((head, bytes));
        }
    }
}

/// A random bearer secret: `prefix` + 43 base64url characters (32 random bytes).
pub fn new_secret(prefix: &str) -> zeroize::Zeroizing<String> {
    let raw = crate::trust::keys::random_32();
    zeroize::Zeroizing::new(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw[..])
    ))
}

/// SHA-256 of a bearer secret: what the database stores and looks up by.
pub fn secret_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Prefix of one-time device enrolment tokens.
pub const ENROLMENT_TOKEN_PREFIX: &str = "ogenr_";
/// Prefix of device credentials.
pub const DEVICE_CREDENTIAL_PREFIX: &str = "ogdev_";

/// Parses a JSON array of event ids stored in a TEXT column.
pub(crate) fn parse_ids(s: &str) -> Vec<u32> {
    serde_json::from_str(s).unwrap_or_default()
}
