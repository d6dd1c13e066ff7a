//! The check pipeline: untrusted text in, durable verdict out.
//!
//! `verify_code_text` (a static `OG2:` code, or a rotating `OGR:` code from a phone with its
//! freshness checked against this gate's clock and tolerance) -> lookups in the local store
//! (revocations, passages of the serial, the event's holder-binding policy) -> [`decide`] -> one
//! SQLite transaction that
//! writes the admission (if any) and the outbox report -> commit -> only then the verdict is
//! returned to be shown. A crash at any point either loses the whole scan (nobody was shown
//! ADMIT) or keeps both rows.
//!
//! Cameras see the same phone in many consecutive frames: a code equal to the previous one seen
//! within [`Gate::repeat_window`] returns the previous outcome (flagged `repeat`) instead of a
//! second scan that would say "already used". A phone's rotating code changes every few seconds
//! while it is held under the camera: codes of the same bound ticket count as the same code
//! for this purpose (the comparison uses the bound ticket, not the time and signature).

use std::path::Path;
use std::time::{Duration, Instant};

use og_shared::bound::{BOUND_TICKET_LEN, ROTATING_PREFIX};
use og_shared::sync::HolderBinding;
use og_shared::sync::{Direction, ScanReport, VerdictCode};
use og_shared::{Offer, TrustStore, UnixSeconds, verify_code_text};
use rusqlite::TransactionBehavior;

use crate::decide::{LocalView, Verdict, decide};
use crate::store::{self, DeviceConfig, Store, StoreError};

/// A scan is considered offline when the last successful sync is older than this.
pub const ONLINE_FRESHNESS: i64 = 300;

/// Everything known about one scan after it was decided and recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub verdict: Verdict,
    /// The report nonce (None when nothing was queued, e.g. not a ticket).
    pub scan_id: Option<String>,
    pub event_id: Option<u32>,
    pub serial: Option<u32>,
    pub offer: Option<Offer>,
    pub scanned_at: UnixSeconds,
    pub offline: bool,
    /// Same code as the previous scan within the repeat window: nothing new was recorded.
    pub repeat: bool,
    /// The issuer reported this ticket as admitted more often than it admits (across gates).
    pub conflict: bool,
    pub decide_time: Duration,
}

/// Why a scan could not be processed at all (as opposed to a rejection verdict).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database error while recording the scan: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

struct Recent {
    text: Vec<u8>,
    seen: Instant,
    outcome: Outcome,
}

/// An open gate: the store, the trust store and the configuration.
pub struct Gate {
    store: Store,
    trust: Option<TrustStore>,
    config: Option<DeviceConfig>,
    generation: Option<String>,
    /// Event ids the gate serves (synced facts, else the enrolment scope); refreshed with
    /// `generation`, which every writer of events or enrolment bumps.
    events: Vec<u32>,
    /// Each event's holder-binding policy and paper exceptions (events absent: optional).
    binding: Vec<(u32, HolderBinding, Vec<u32>)>,
    /// When the revocation data was last complete (`data_as_of`) and the last good sync
    /// (`last_sync_ok`); refreshed with `generation`, which import and every sync round bump.
    data_as_of: Option<UnixSeconds>,
    last_sync_ok: Option<UnixSeconds>,
    recent: Option<Recent>,
    /// Same-code suppression window (zero disables it).
    pub repeat_window: Duration,
    /// Overrides the kept freshness tolerance of rotating codes (`--tolerance`).
    pub tolerance: Option<i64>,
}

/// Strips trailing CR/LF (keyboard-wedge scanners) for repeat comparison only.
fn trim_eol(t: &[u8]) -> &[u8] {
    let mut end = t.len();
    while end > 0 && matches!(t[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    &t[..end]
}

/// What "the same code" means for the repeat window: the whole text of a static code; for a
/// rotating code, the characters that encode its bound ticket (the time and the device
/// signature change every few seconds while the phone is held up).
fn repeat_key(t: &[u8]) -> &[u8] {
    let t = trim_eol(t);
    let bound_chars = ROTATING_PREFIX.len() + BOUND_TICKET_LEN / 2 * 3;
    if t.starts_with(ROTATING_PREFIX.as_bytes()) && t.len() > bound_chars {
        &t[..bound_chars]
    } else {
        t
    }
}

fn new_nonce() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

impl Gate {
    /// Opens the gate over an existing data directory.
    pub fn open(data_dir: &Path) -> Result<Gate, GateError> {
        let store = Store::open(data_dir)?;
        let mut g = Gate {
            store,
            trust: None,
            config: None,
            generation: None,
            events: Vec::new(),
            binding: Vec::new(),
            data_as_of: None,
            last_sync_ok: None,
            recent: None,
            repeat_window: Duration::ZERO,
            tolerance: None,
        };
        g.reload()?;
        Ok(g)
    }

    fn reload(&mut self) -> Result<(), GateError> {
        self.config = self.store.config()?;
        self.trust = self.store.trust_store()?;
        self.generation = self.store.meta("generation")?;
        self.binding = store::event_facts(self.store.conn())?
            .into_iter()
            .map(|e| (e.event_id, e.holder_binding, e.paper_exceptions))
            .collect();
        let mut events = store::event_ids(self.store.conn())?;
        if events.is_empty() {
            // Enrolled online but no event facts synced yet: the token's scope applies.
            events = self
                .store
                .meta("enrolled_events")?
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default();
        }
        self.events = events;
        let time = |key: &str| -> Result<Option<UnixSeconds>, StoreError> {
            Ok(self.store.meta(key)?.and_then(|s| s.parse().ok()))
        };
        self.data_as_of = time("data_as_of")?;
        self.last_sync_ok = time("last_sync_ok")?;
        Ok(())
    }

    /// The store (for status and sync).
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> Option<&DeviceConfig> {
        self.config.as_ref()
    }

    /// Checks one code and records it. `now` is the gate's clock.
    pub fn check(&mut self, text: &[u8], now: UnixSeconds) -> Result<Outcome, GateError> {
        let key = repeat_key(text);
        if !self.repeat_window.is_zero()
            && let Some(r) = &mut self.recent
            && r.text == key
            && r.seen.elapsed() <= self.repeat_window
        {
            r.seen = Instant::now();
            return Ok(Outcome {
                repeat: true,
                ..r.outcome.clone()
            });
        }
        let outcome = self.check_fresh(text, now)?;
        // Only codes that were read as tickets are remembered: noise does not mask a ticket.
        if outcome.serial.is_some() {
            self.recent = Some(Recent {
                text: key.to_vec(),
                seen: Instant::now(),
                outcome: outcome.clone(),
            });
        }
        Ok(outcome)
    }

    fn check_fresh(&mut self, text: &[u8], now: UnixSeconds) -> Result<Outcome, GateError> {
        let started = Instant::now();
        if self.store.meta("generation")? != self.generation {
            self.reload()?;
        }
        let (gate_name, mut policy) = match &self.config {
            Some(c) => (c.gate_name.clone(), c.policy.clone()),
            None => ("unprovisioned".to_owned(), Default::default()),
        };
        if let Some(t) = self.tolerance {
            policy.tolerance = t;
        }
        let verified = self
            .trust
            .as_ref()
            .map(|t| verify_code_text(text, t, now, policy.tolerance));
        let conn = self.store.conn_mut();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let offline = self.last_sync_ok.is_none_or(|t| now - t > ONLINE_FRESHNESS);
        let (verdict, claims) = match verified {
            None => (
                decide(
                    &Err(og_shared::Rejection::BadSignature),
                    &LocalView::default(),
                    now,
                    &policy,
                ),
                None,
            ),
            Some(verified) => {
                let mut view = LocalView {
                    provisioned: true,
                    events: self.events.clone(),
                    data_as_of: self.data_as_of,
                    ..LocalView::default()
                };
                if let Ok(t) = &verified {
                    view.revoked = store::revocation_for(&tx, &t.claims, t.holder_key_tag)?;
                    view.passages = store::passages(&tx, t.claims.event_id, t.claims.serial)?;
                    if let Some((_, binding, exceptions)) =
                        self.binding.iter().find(|(id, _, _)| *id == t.claims.event_id)
                    {
                        view.holder_binding = *binding;
                        view.paper_exception = exceptions.contains(&t.claims.serial);
                    }
                }
                let v = decide(&verified, &view, now, &policy);
                (v, verified.ok().map(|t| t.claims))
            }
        };
        let queue = !matches!(verdict.code, VerdictCode::NotATicket | VerdictCode::NotProvisioned);
        // A whole party admitted by one scan is one admission (and one report) per person, so
        // every count (here, at the issuer, at other gates) sees each person.
        let people = match verdict.record {
            Some(Direction::Entry) => verdict.party.max(1),
            _ => 1,
        };
        let mut nonce = None;
        for k in (0..people).filter(|_| queue) {
            let n = new_nonce();
            let index = verdict
                .admitted_index
                .map(|last| last.saturating_add(1).saturating_sub(people).saturating_add(k));
            if let (Some(dir), Some(c)) = (verdict.record, &claims) {
                store::insert_own_passage(&tx, &n, c.event_id, (c.serial, c.generation), &gate_name, now, dir)?;
            }
            let report = ScanReport {
                nonce: n.clone(),
                scanned_at: now,
                verdict: verdict.code,
                reason: verdict.reason.clone(),
                event_id: claims.map(|c| c.event_id),
                serial: claims.map(|c| c.serial),
                generation: claims.map_or(0, |c| c.generation),
                offer: claims.map(|c| c.offer),
                admitted_index: index,
                gate: gate_name.clone(),
                zone: policy.zone,
                direction: verdict.record.unwrap_or(policy.direction),
                offline,
            };
            store::queue_report(&tx, &report)?;
            nonce.get_or_insert(n);
        }
        let conflict = match &claims {
            Some(c) => store::in_conflict(&tx, c.event_id, c.serial)?,
            None => false,
        };
        tx.commit()?;
        Ok(Outcome {
            verdict,
            scan_id: nonce,
            event_id: claims.map(|c| c.event_id),
            serial: claims.map(|c| c.serial),
            offer: claims.map(|c| c.offer),
            scanned_at: now,
            offline,
            repeat: false,
            conflict,
            decide_time: started.elapsed(),
        })
    }
}

impl Outcome {
    /// Whether this outcome recorded an entry.
    pub fn recorded_entry(&self) -> bool {
        !self.repeat && self.verdict.record == Some(Direction::Entry)
    }
}
