//! Offline provisioning from a signed gate bundle (`gate-agent import BUNDLE`).
//!
//! A bundle carries trusted keys, event facts and a revocation snapshot. On a fresh device the
//! bundle's signature is checked against the keys it carries (integrity; the operator hands the
//! file over in person); on a provisioned device it must verify under a key the device already
//! trusts, so a stranger's bundle cannot replace the trust store. The revocation page must be a
//! valid hash chain from the genesis. It replaces the local copy only under the rules of a sync
//! (`sync::plan_snapshot`): when it continues the copy, or comes from a newer log epoch and keeps
//! every revocation the copy has; otherwise (an older bundle, a restored issuer's log) the local
//! copy stays. A bundle never replaces a newer key set with an older one.

use std::path::Path;

use og_shared::UnixSeconds;
use og_shared::sync::{Direction, GENESIS_HASH, GateBundle};
use rusqlite::TransactionBehavior;

use crate::decide::GatePolicy;
use crate::store::{self, DeviceConfig, Store, StoreError};
use crate::sync::{LocalLog, SnapshotStep, plan_snapshot};
use og_shared::trust::Checkpoint;

/// Why a bundle was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    #[error("cannot read the bundle {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("bundle refused: {0}")]
    Bundle(#[from] og_shared::sync::BundleError),
    #[error("bundle refused: its revocation list is not a valid chain ({0})")]
    Chain(#[from] og_shared::sync::ChainError),
    #[error("bundle refused: it is for deployment {bundle}, this device belongs to {device}")]
    OtherDeployment { bundle: String, device: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub keys: usize,
    pub events: usize,
    pub revocations: u64,
    pub kept_newer_revocations: bool,
}

/// Provisioning options given on the command line.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub gate_name: Option<String>,
    pub direction: Option<Direction>,
    pub max_data_age: Option<i64>,
}

/// Imports a bundle file into `data_dir`, creating the store if needed.
pub fn import_file(
    data_dir: &Path,
    path: &Path,
    opts: &ImportOptions,
    now: UnixSeconds,
) -> Result<ImportSummary, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Read {
        path: path.display().to_string(),
        source,
    })?;
    // Check the file before creating anything on disk.
    let existing = Store::open_if_present(data_dir)?;
    let trusted = match &existing {
        Some(s) => s.trust_store()?,
        None => None,
    };
    let bundle = GateBundle::from_signed_file(&bytes, trusted.as_ref(), now)?;
    let (seq, hash) = bundle.revocations.check_continues(0, &GENESIS_HASH)?;
    let mut s = match existing {
        Some(s) => s,
        None => Store::create(data_dir)?,
    };
    let old = s.config()?;
    if let Some(old) = &old
        && old.deployment != bundle.deployment
    {
        return Err(ImportError::OtherDeployment {
            bundle: bundle.deployment.to_string(),
            device: old.deployment.to_string(),
        });
    }
    let mut config = old.clone().unwrap_or_else(|| DeviceConfig {
        deployment: bundle.deployment.clone(),
        device_id: format!("offline-{}", hex::encode(rand::random::<[u8; 6]>())),
        gate_name: "gate".into(),
        issuer_url: None,
        policy: GatePolicy::default(),
    });
    config.policy.zone = bundle.zone;
    if let Some(g) = &opts.gate_name {
        config.gate_name = g.clone();
    }
    if let Some(d) = opts.direction {
        config.policy.direction = d;
    }
    if opts.max_data_age.is_some() {
        config.policy.max_data_age = opts.max_data_age;
    }
    s.set_config(&config)?;
    let (local_seq, local_hash) = s.revocation_cursor()?;
    let local = LocalLog {
        has_copy: s.meta("revocation_hash")?.is_some(),
        checkpoint: Checkpoint {
            epoch: s.meta("log_epoch")?.and_then(|v| v.parse().ok()).unwrap_or(0),
            seq: local_seq,
            hash: local_hash,
            // A bundle is signed as a whole when it is made: its age does not make it a replay.
            issued_at: 0,
        },
    };
    let cp = Checkpoint {
        epoch: bundle.log_epoch,
        seq,
        hash,
        issued_at: bundle.created_at,
    };
    let known = store::revocation_targets(s.conn())?;
    let keep_newer = matches!(
        plan_snapshot(&local, &known, &bundle.revocations.entries, &cp),
        SnapshotStep::Refuse(_)
    );
    let keys_at: Option<i64> = s.meta("keys_issued_at")?.and_then(|v| v.parse().ok());
    let conn = s.conn_mut();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if keys_at.is_none_or(|t| t <= bundle.created_at) {
        store::replace_keys(&tx, &bundle.keys)?;
        store::set_meta(&tx, "keys_issued_at", &bundle.created_at.to_string())?;
    }
    store::replace_events(&tx, &bundle.events)?;
    if !keep_newer {
        store::apply_revocations(&tx, &bundle.revocations.entries, seq, &hash, true)?;
        store::set_meta(&tx, "log_epoch", &bundle.log_epoch.to_string())?;
        let as_of = store::get_meta(&tx, "data_as_of")?
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(i64::MIN)
            .max(bundle.created_at);
        store::set_meta(&tx, "data_as_of", &as_of.to_string())?;
    }
    bump_generation(&tx)?;
    tx.commit()?;
    Ok(ImportSummary {
        keys: bundle.keys.len(),
        events: bundle.events.len(),
        revocations: if keep_newer { local_seq } else { seq },
        kept_newer_revocations: keep_newer,
    })
}

/// Tells open gates that keys, events or configuration changed.
pub(crate) fn bump_generation(c: &rusqlite::Connection) -> Result<(), StoreError> {
    let g: u64 = store::get_meta(c, "generation")?
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    store::set_meta(c, "generation", &(g + 1).to_string())
}
