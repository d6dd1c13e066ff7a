//! What every handler receives.

use std::sync::Arc;

use og_shared::TicketSigner;
use zeroize::Zeroizing;

use crate::config::Settings;
use crate::store::Db;

/// Server-side random secrets (created 0600 in `<data dir>/keys/` on first start).
pub struct Secrets {
    /// HMAC key for access tokens (JWT, HS256).
    pub jwt: Zeroizing<[u8; 32]>,
    /// HMAC key shared with the built-in payment provider for webhooks.
    pub webhook: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

/// Shared application state; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub signer: Arc<TicketSigner>,
    /// Retired signing keys: they sign only the key set published to gates (a rotation).
    pub retired_signers: Arc<Vec<TicketSigner>>,
    pub settings: Arc<Settings>,
    pub secrets: Arc<Secrets>,
    /// Base URL for links (known once the listener is bound).
    pub base_url: Arc<str>,
    /// Counters of the gate-operations side, served at `/metrics`.
    pub ops_metrics: Arc<crate::ops::OpsMetrics>,
    /// The last full binary revocation snapshot (see `gates::SnapshotCache`).
    pub ops_snapshot: Arc<crate::gates::SnapshotCache>,
    /// Public catalogue answers, reused while nothing changed (see `catalogue`).
    pub catalogue: Arc<crate::shop::catalogue::CatalogueCache>,
}
