//! What every handler receives.

use std::sync::Arc;

use og_shared::TicketSigner;

pub use crate::shop::{Secrets, Services};

/// Shared application state; cheap to clone. It derefs to the [`Services`] the domain
/// functions take (`state.db`, `state.settings`, ...), so a handler passes `&state` where a
/// domain function asks for `&Services`; the rest is the web layer's own.
#[derive(Clone, Debug)]
pub struct AppState {
    pub services: Services,
    /// Retired signing keys: they sign only the key set published to gates (a rotation).
    pub retired_signers: Arc<Vec<TicketSigner>>,
    /// Counters of the gate-operations side, served at `/metrics`.
    pub ops_metrics: Arc<crate::ops::OpsMetrics>,
    /// The last full binary revocation snapshot (see `gates::SnapshotCache`).
    pub ops_snapshot: Arc<crate::gates::SnapshotCache>,
    /// Public catalogue answers, reused while nothing changed (see `shop::catalogue`).
    pub catalogue: Arc<crate::shop::catalogue::CatalogueCache>,
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}
