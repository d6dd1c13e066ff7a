//! Synchronisation with the issuer: enrolment, pulling keys / revocations / admissions, pushing the
//! outbox of scan reports (contract: `/api/v1/devices/enroll`, `/api/v1/device/sync`,
//! `/api/v1/device/scans`).
//!
//! The decisions are pure functions tested here ([`Backoff`], [`plan_page`], [`plan_ack`],
//! [`classify_status`], [`ProgressLines`]); the HTTP client (blocking reqwest over rustls with the ring provider)
//! and [`sync_round`] only move bytes and apply those decisions in transactions. A failure never
//! loses a queued report: rows leave the outbox only when the issuer acknowledged them
//! (accepted or duplicate) or refused them for good (then they move to the `refused` table).
//!
//! The gate believes only what is signed by a key it already trusts (`og_shared::trust`): the
//! key set pinned at enrolment or bundle import changes only under a signature by a trusted key,
//! and a revocation page or snapshot is applied only when it ends at a signed checkpoint that
//! does not move the copy backwards ([`plan_snapshot`]). A refused answer changes nothing
//! locally; the refusal is kept (`status`), printed, and reported to the issuer with the next
//! request.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use og_shared::sync::{
    ChainError, EnrollRequest, EnrollResponse, GENESIS_HASH, Revocation, RevocationPage, ScanBatch, ScanBatchAck,
    SyncResponse, chain_hash,
};
use og_shared::trust::{CHECKPOINT_HEADER, Checkpoint, SignedCheckpoint, TrustError, missing_from};
use og_shared::{DeploymentId, TrustStore, UnixSeconds};
use rusqlite::TransactionBehavior;

use crate::bundle::bump_generation;
use crate::decide::GatePolicy;
use crate::store::{self, DeviceConfig, Store, StoreError};

/// Reports sent per request.
pub const BATCH_SIZE: usize = 200;
/// This build's version, sent to the issuer.
pub const SOFTWARE_VERSION: &str = concat!("gate-agent/", env!("CARGO_PKG_VERSION"));

/// Exponential backoff with deterministic jitter (the seed comes from the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            base: Duration::from_secs(2),
            max: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    /// Delay before the next attempt after `failures` consecutive failures (0: no delay).
    /// Between 50% and 100% of `base * 2^(failures-1)`, capped at `max`.
    pub fn delay(&self, failures: u32, seed: u64) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        let exp = self.base.saturating_mul(1u32 << (failures - 1).min(20));
        let full = exp.min(self.max);
        // splitmix64 of the seed -> a fraction in [0.5, 1.0].
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let frac = 0.5 + (z % 1000) as f64 / 2000.0;
        full.mul_f64(frac)
    }
}

/// What to do with a revocation page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationStep {
    /// Append these entries; the copy now ends at `seq` with chain hash `hash`.
    Apply {
        entries: Vec<Revocation>,
        seq: u64,
        hash: [u8; 32],
    },
    /// The page does not continue the local copy: discard it and fetch a full snapshot.
    Snapshot(ChainError),
}

/// Decides whether a page continues the local copy (cursor `local_seq`, chain hash `local_hash`).
pub fn plan_page(page: &RevocationPage, local_seq: u64, local_hash: &[u8; 32]) -> RevocationStep {
    match page.check_continues(local_seq, local_hash) {
        Ok((seq, hash)) => RevocationStep::Apply {
            entries: page.entries.clone(),
            seq,
            hash,
        },
        Err(e) => RevocationStep::Snapshot(e),
    }
}

/// The local copy's position in the issuer's log, as far as the gate has verified it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalLog {
    /// Whether the gate has a copy at all (a fresh device takes any signed snapshot).
    pub has_copy: bool,
    /// The last checkpoint it accepted (`issued_at` 0 when it never saw one: a bundle, or a
    /// copy from before signed checkpoints).
    pub checkpoint: Checkpoint,
}

/// What to do with a complete, chained, checkpointed snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotStep {
    /// Replace the copy: the snapshot continues it (or there was none).
    Replace,
    /// Replace the copy: a signed reset (newer log epoch) that keeps every known revocation.
    Reset,
    /// Keep the copy.
    Refuse(TrustError),
}

/// Decides whether a snapshot (`entries`, ending at the verified checkpoint `cp`) may replace
/// the local copy: it must continue the copy (its chain hash at the copy's end is the copy's),
/// or come with a newer log epoch and keep every revocation the copy has (`known`).
pub fn plan_snapshot(
    local: &LocalLog,
    known: &[og_shared::sync::RevocationTarget],
    entries: &[Revocation],
    cp: &Checkpoint,
) -> SnapshotStep {
    if !local.has_copy {
        return SnapshotStep::Replace;
    }
    if let Err(e) = local.checkpoint.check_successor(cp) {
        return SnapshotStep::Refuse(e);
    }
    let at_local = entries
        .iter()
        .take_while(|e| e.seq <= local.checkpoint.seq)
        .try_fold((0u64, GENESIS_HASH), |(seq, h), e| {
            (e.seq == seq + 1).then(|| (e.seq, chain_hash(&h, e)))
        });
    if at_local == Some((local.checkpoint.seq, local.checkpoint.hash)) {
        return SnapshotStep::Replace;
    }
    let missing = missing_from(known, entries);
    if local.checkpoint.is_reset(cp) {
        if missing == 0 {
            SnapshotStep::Reset
        } else {
            SnapshotStep::Refuse(TrustError::DropsRevocations { missing })
        }
    } else if cp.seq < local.checkpoint.seq {
        SnapshotStep::Refuse(TrustError::Rollback {
            local: local.checkpoint.seq,
            answer: cp.seq,
        })
    } else if missing > 0 {
        SnapshotStep::Refuse(TrustError::DropsRevocations { missing })
    } else {
        SnapshotStep::Refuse(TrustError::NotAContinuation)
    }
}

/// Why `issuer` cannot be enrolled with: only `https://`, or `http://` on this machine
/// (127.0.0.0/8, ::1, localhost) or when the operator says `--insecure-http`.
pub fn check_issuer_url(issuer: &str, insecure_http: bool) -> Result<(), SyncError> {
    let url = reqwest::Url::parse(issuer)
        .map_err(|e| SyncError::BadIssuerUrl(format!("enrolment refused: {issuer:?} is not a URL ({e})")))?;
    let host = url.host_str().unwrap_or("");
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback || insecure_http => Ok(()),
        "http" => Err(SyncError::BadIssuerUrl(format!(
            "enrolment refused: {issuer} is plain HTTP, so anyone on the network path could change which keys \
             and revocations this gate trusts; use https:// (or --insecure-http on a network you control)"
        ))),
        other => Err(SyncError::BadIssuerUrl(format!(
            "enrolment refused: the issuer URL must start with https://, not {other}://"
        ))),
    }
}

/// Chains several snapshot pages from the genesis; any break is an error.
pub fn chain_snapshot(pages: &[RevocationPage]) -> Result<(Vec<Revocation>, u64, [u8; 32]), ChainError> {
    let (mut seq, mut hash) = (0u64, GENESIS_HASH);
    let mut all = Vec::new();
    for p in pages {
        let (s, h) = p.check_continues(seq, &hash)?;
        all.extend_from_slice(&p.entries);
        seq = s;
        hash = h;
    }
    debug_assert_eq!(
        all.iter().try_fold(GENESIS_HASH, |h, e| Some(chain_hash(&h, e))),
        Some(hash)
    );
    Ok((all, seq, hash))
}

/// How an HTTP status of the issuer is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    Ok,
    NotModified,
    /// 409 `revocations_reset`: fetch a snapshot.
    Reset,
    /// 401: the credential was revoked; keep everything and ask for re-enrolment.
    DeviceRevoked,
    /// Another 4xx: the request is wrong and retrying it will not help.
    Permanent,
    /// 5xx, 408, 429: try again later.
    Retry,
}

/// Classifies an HTTP status.
pub fn classify_status(status: u16) -> StatusClass {
    match status {
        200..=299 => StatusClass::Ok,
        304 => StatusClass::NotModified,
        409 => StatusClass::Reset,
        401 | 403 => StatusClass::DeviceRevoked,
        408 | 429 => StatusClass::Retry,
        400..=499 => StatusClass::Permanent,
        _ => StatusClass::Retry,
    }
}

/// What to do with the outbox rows of a batch after an acknowledgement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AckPlan {
    /// Accepted or duplicate: delete.
    pub delete: Vec<String>,
    /// Refused for good: move to `refused` with (code, message).
    pub refuse: Vec<(String, String, String)>,
    /// Not mentioned by the issuer: keep for the next round.
    pub keep: Vec<String>,
}

/// Splits the sent nonces according to the issuer's acknowledgement.
pub fn plan_ack(sent: &[String], ack: &ScanBatchAck) -> AckPlan {
    let mut plan = AckPlan::default();
    for n in sent {
        if ack.accepted.contains(n) || ack.duplicates.contains(n) {
            plan.delete.push(n.clone());
        } else if let Some(r) = ack.refused.iter().find(|r| &r.nonce == n) {
            plan.refuse.push((n.clone(), r.code.clone(), r.message.clone()));
        } else {
            plan.keep.push(n.clone());
        }
    }
    plan
}

/// How a sync shows the progress of a revocation download on stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProgressOutput {
    /// Nothing (background syncs, `--progress never`, `auto` when stderr is not a terminal).
    #[default]
    Hidden,
    /// A bar redrawn in place (stderr is a terminal).
    Bar,
    /// Plain lines `revocations DONE/TOTAL` for a log file or the journal (see [`ProgressLines`]).
    Lines,
}

/// Which plain progress lines a download prints, at a bounded rate: a line when the download
/// passes another tenth of its size, else at most one every `every`, and always the last one
/// (`DONE` = `TOTAL`). Positions are revocation sequence numbers, as in `status`. A sync that
/// has nothing to download prints nothing.
#[derive(Debug, Clone)]
pub struct ProgressLines {
    start: u64,
    every: Duration,
    /// The last position printed and when.
    printed: Option<(u64, Instant)>,
}

impl ProgressLines {
    /// A download starting after sequence number `start` (the local copy's cursor).
    pub fn new(start: u64, every: Duration) -> ProgressLines {
        ProgressLines {
            start,
            every,
            printed: None,
        }
    }

    /// The download starts over after `start` (a full snapshot replaces the copy).
    pub fn restart(&mut self, start: u64) {
        self.start = start;
        self.printed = None;
    }

    /// The line to print now that the copy reaches `pos` of `total`, if any.
    pub fn line(&mut self, pos: u64, total: u64, now: Instant) -> Option<String> {
        let pos = pos.min(total);
        if total <= self.start || pos <= self.start {
            return None;
        }
        let tenth = |p: u64| (p.saturating_sub(self.start) as u128 * 10 / u128::from(total - self.start)) as u64;
        let due = match self.printed {
            None => true,
            Some((last, _)) if pos <= last => false,
            Some((last, at)) => pos == total || tenth(pos) > tenth(last) || now.duration_since(at) >= self.every,
        };
        if !due {
            return None;
        }
        self.printed = Some((pos, now));
        Some(format!("revocations {pos}/{total}"))
    }
}

/// The progress display of one pull: an indicatif bar, plain lines or nothing.
struct Progress {
    bar: indicatif::ProgressBar,
    lines: Option<ProgressLines>,
    total: Option<u64>,
}

impl Progress {
    /// Plain lines: one every this long at most, besides one per tenth of the download.
    const LINE_EVERY: Duration = Duration::from_secs(5);

    fn new(output: ProgressOutput, start: u64) -> Progress {
        let bar = indicatif::ProgressBar::hidden();
        if output == ProgressOutput::Bar {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.set_style(
                indicatif::ProgressStyle::with_template("revocations {bar:40} {pos}/{len} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
        }
        Progress {
            bar,
            lines: (output == ProgressOutput::Lines).then(|| ProgressLines::new(start, Self::LINE_EVERY)),
            total: None,
        }
    }

    /// The copy now reaches `pos`; `total` is the issuer's head when known.
    fn update(&mut self, pos: u64, total: Option<u64>) {
        if let Some(t) = total {
            self.total = Some(t);
            self.bar.set_length(t);
        }
        self.bar.set_position(pos);
        if let (Some(lines), Some(total)) = (&mut self.lines, self.total)
            && let Some(line) = lines.line(pos, total, Instant::now())
        {
            // A closed stderr must not stop the sync.
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }

    /// The download starts over from the genesis (full snapshot).
    fn restart(&mut self) {
        self.bar.set_position(0);
        if let Some(l) = &mut self.lines {
            l.restart(0);
        }
    }
}

impl Drop for Progress {
    /// The bar disappears when the pull ends, also on an error (whose message follows it).
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// Why a sync round stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    #[error("this device was provisioned from a bundle and has no issuer: run `gate-agent enroll`")]
    NotEnrolled,
    #[error("device revoked by the issuer: re-enrol this gate")]
    DeviceRevoked,
    #[error("issuer unreachable: {0}")]
    Network(String),
    #[error("issuer error {status}: {message}")]
    Server { status: u16, message: String },
    #[error("enrolment refused: {0}")]
    EnrollRefused(String),
    #[error(
        "enrolment refused: the issuer serves deployment {issuer}, this device belongs to deployment {device} \
         (its admissions and queued reports stay there); nothing was changed on this device{note}"
    )]
    OtherDeployment {
        issuer: String,
        device: String,
        /// What happened on the issuer's side, if anything.
        note: String,
    },
    #[error("the issuer's answer is invalid: {0}")]
    BadAnswer(String),
    #[error("{0}")]
    BadIssuerUrl(String),
    /// The answer is not signed by what the gate trusts, or would move it backwards.
    #[error("sync refused, nothing was changed on this device: {0}")]
    Refused(#[from] TrustError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl SyncError {
    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, SyncError::Network(_) | SyncError::Server { .. })
    }
}

fn http_client() -> Result<reqwest::blocking::Client, SyncError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .user_agent(SOFTWARE_VERSION)
        .build()
        .map_err(network)
}

/// A request that got no answer, said with its cause ("invalid peer certificate: ...",
/// "Connection refused"): reqwest's own message stops at "error sending request", and staff
/// enrolling a gate need to know whether it is the address, the network or the certificate.
/// The URL is left out.
fn network(e: reqwest::Error) -> SyncError {
    let e = e.without_url();
    let mut said = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let more = cause.to_string();
        if !said.contains(&more) {
            said.push_str(": ");
            said.push_str(&more);
        }
        source = cause.source();
    }
    SyncError::Network(said)
}

fn error_message(resp: reqwest::blocking::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.json().unwrap_or(serde_json::Value::Null);
    let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
    let message = body["error"]["message"].as_str().unwrap_or("").to_owned();
    (status, code, message)
}

/// The deployment an issuer serves, from its public `/health` (None when it does not say).
fn issuer_deployment(http: &reqwest::blocking::Client, base: &str) -> Result<Option<DeploymentId>, SyncError> {
    let resp = http.get(format!("{base}/health")).send().map_err(network)?;
    if !resp.status().is_success() {
        return Ok(None);
    }
    let body: serde_json::Value = resp.json().unwrap_or(serde_json::Value::Null);
    Ok(body["deployment"].as_str().and_then(|d| DeploymentId::parse(d).ok()))
}

/// Enrols this device online and provisions the store (the caller then runs a sync round).
///
/// A device that was provisioned before (from a bundle, or an earlier enrolment) keeps
/// everything it holds: admissions, queued and refused reports, the revocation copy and its
/// policy (direction, data age); the enrolment gives it an issuer, a device id, a credential,
/// the issuer's keys and the token's scope (events, zone). Reports queued before the enrolment
/// name only their gate, never a device: the issuer attributes them, like every report, to the
/// device whose credential sends them, i.e. this enrolment. Without `name`, a provisioned device
/// keeps its gate name, so its old and new reports name the same gate.
///
/// A device belongs to one deployment for life (its tickets, admissions and reports are that
/// deployment's): enrolling it with another deployment's issuer is refused before the token is
/// used, and changes nothing.
///
/// The issuer's key set is pinned here: a fresh device takes the (self-signed) set it is sent
/// over the enrolment connection, which is why `issuer` must be `https://` ([`check_issuer_url`]);
/// a provisioned device takes it only if a key it already trusts signed it.
pub fn enroll(
    data_dir: &Path,
    issuer: &str,
    token: &str,
    name: Option<&str>,
    insecure_http: bool,
    now: UnixSeconds,
) -> Result<EnrollResponse, SyncError> {
    check_issuer_url(issuer, insecure_http)?;
    let base = issuer.trim_end_matches('/');
    let http = http_client()?;
    let existing = Store::open_if_present(data_dir)?;
    let old = match &existing {
        Some(s) => s.config()?,
        None => None,
    };
    let trusted = match &existing {
        Some(s) => s.trust_store()?.filter(|t| !t.keys().is_empty()),
        None => None,
    };
    let other_deployment = |issuer: &DeploymentId, device: &DeploymentId, note: String| SyncError::OtherDeployment {
        issuer: issuer.to_string(),
        device: device.to_string(),
        note,
    };
    if let Some(old) = &old
        && let Some(dep) = issuer_deployment(&http, base)?
        && dep != old.deployment
    {
        return Err(other_deployment(&dep, &old.deployment, String::new()));
    }
    let name = name
        .map(str::to_owned)
        .or_else(|| old.as_ref().map(|c| c.gate_name.clone()));
    let req = EnrollRequest {
        token: token.to_owned(),
        name: name.clone(),
        software_version: SOFTWARE_VERSION.into(),
    };
    let resp = http
        .post(format!("{base}/api/v1/devices/enroll"))
        .json(&req)
        .send()
        .map_err(network)?;
    let status = resp.status().as_u16();
    if status != 200 {
        let (status, code, message) = error_message(resp);
        return Err(match status {
            401 | 410 => SyncError::EnrollRefused(format!("token used, expired or unknown ({code}: {message})")),
            _ => SyncError::Server { status, message },
        });
    }
    let en: EnrollResponse = resp.json().map_err(|e| SyncError::BadAnswer(e.to_string()))?;
    if let Some(old) = &old
        && en.deployment != old.deployment
    {
        // The issuer did not say its deployment before the token was used: still change nothing.
        let note = format!(
            "; the token was used: ask an operator of that issuer to revoke device {}",
            en.device_id
        );
        return Err(other_deployment(&en.deployment, &old.deployment, note));
    }
    let keys_at = match &existing {
        Some(s) => s.meta("keys_issued_at")?.and_then(|v| v.parse().ok()),
        None => None,
    };
    let verified = match (&en.keys_proof, &trusted) {
        (None, _) => Err(TrustError::Unsigned),
        (Some(p), Some(t)) => p.verify(&en.keys, t, keys_at, now).map(|_| p),
        (Some(p), None) => p.verify_self_signed(&en.keys, &en.deployment, now).map(|_| p),
    };
    let proof = match verified {
        Ok(p) => p,
        Err(e) => {
            return Err(SyncError::EnrollRefused(format!(
                "{e}; nothing was changed on this device, but the token was used: ask an operator to revoke \
                 device {}",
                en.device_id
            )));
        }
    };
    let mut s = match existing {
        Some(s) => s,
        None => Store::create(data_dir)?,
    };
    let config = DeviceConfig {
        deployment: en.deployment.clone(),
        device_id: en.device_id.clone(),
        gate_name: name.unwrap_or_else(|| en.device_name.clone()),
        issuer_url: Some(base.to_owned()),
        policy: GatePolicy {
            zone: en.zone,
            ..old.map(|c| c.policy).unwrap_or_default()
        },
    };
    let tx = s.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
    store::write_config(&tx, &config)?;
    store::replace_keys(&tx, &en.keys)?;
    store::set_meta(&tx, "keys_issued_at", &proof.issued_at.to_string())?;
    store::retain_events(&tx, &en.event_ids)?;
    store::set_meta(
        &tx,
        "enrolled_events",
        &serde_json::to_string(&en.event_ids).unwrap_or_default(),
    )?;
    // A new device for the issuer: no validator from another device, no revocation of an old one.
    for key in [
        "sync_etag",
        "device_revoked",
        "last_sync_error",
        "sync_refused",
        "sync_refused_code",
        "sync_refused_at",
    ] {
        tx.execute("DELETE FROM meta WHERE key = ?1", [key])?;
    }
    bump_generation(&tx)?;
    tx.commit()?;
    store::write_credential(data_dir, &en.credential)?;
    Ok(en)
}

/// What a round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncSummary {
    pub pushed: usize,
    pub refused: usize,
    pub held: usize,
    pub revocations_applied: usize,
    pub snapshot: bool,
    pub admissions: usize,
    pub revocation_seq: u64,
}

enum Pull {
    Page(Box<SyncResponse>, Option<String>),
    /// 304, with the checkpoint header if the issuer sent one.
    NotModified(Option<String>),
    Reset,
}

fn header_text(resp: &reqwest::blocking::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

struct Client {
    http: reqwest::blocking::Client,
    base: String,
    credential: String,
}

impl Client {
    fn get_sync(
        &self,
        rev_after: u64,
        adm_after: u64,
        queued: u64,
        etag: Option<&str>,
        refused: Option<&str>,
        clock_offset: Option<i64>,
    ) -> Result<Pull, SyncError> {
        let mut req = self
            .http
            .get(format!("{}/api/v1/device/sync", self.base))
            .bearer_auth(&self.credential)
            .query(&[
                ("revocations_after", rev_after.to_string()),
                ("admissions_after", adm_after.to_string()),
                ("queued", queued.to_string()),
                ("version", SOFTWARE_VERSION.to_owned()),
            ]);
        if let Some(r) = refused {
            req = req.query(&[("refused", r)]);
        }
        if let Some(o) = clock_offset {
            req = req.query(&[("clock_offset", o.to_string())]);
        }
        if let Some(e) = etag {
            req = req.header(reqwest::header::IF_NONE_MATCH, e);
        }
        let resp = req.send().map_err(network)?;
        let status = resp.status().as_u16();
        match classify_status(status) {
            StatusClass::Ok => {
                let etag = resp
                    .headers()
                    .get(reqwest::header::ETAG)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body: SyncResponse = resp.json().map_err(|e| SyncError::BadAnswer(e.to_string()))?;
                Ok(Pull::Page(Box::new(body), etag))
            }
            StatusClass::NotModified => Ok(Pull::NotModified(header_text(&resp, CHECKPOINT_HEADER))),
            StatusClass::Reset => Ok(Pull::Reset),
            StatusClass::DeviceRevoked => Err(SyncError::DeviceRevoked),
            _ => {
                let (status, _, message) = error_message(resp);
                Err(SyncError::Server { status, message })
            }
        }
    }

    /// `GET /api/v1/device/revocations?after=N`: the compact binary page
    /// (`og_shared::sync::decode_revocation_page`) and its checkpoint header, checked by the
    /// caller like any page.
    fn get_binary_revocations(&self, after: u64) -> Result<(RevocationPage, Option<String>), SyncError> {
        let resp = self
            .http
            .get(format!("{}/api/v1/device/revocations", self.base))
            .bearer_auth(&self.credential)
            .query(&[("after", after.to_string())])
            .send()
            .map_err(network)?;
        match classify_status(resp.status().as_u16()) {
            StatusClass::Ok => {
                let checkpoint = header_text(&resp, CHECKPOINT_HEADER);
                let bytes = resp.bytes().map_err(network)?;
                let page =
                    og_shared::sync::decode_revocation_page(&bytes).map_err(|e| SyncError::BadAnswer(e.to_string()))?;
                Ok((page, checkpoint))
            }
            StatusClass::DeviceRevoked => Err(SyncError::DeviceRevoked),
            _ => {
                let (status, _, message) = error_message(resp);
                Err(SyncError::Server { status, message })
            }
        }
    }

    fn post_scans(&self, batch: &ScanBatch) -> Result<(StatusClass, Option<ScanBatchAck>, String), SyncError> {
        let resp = self
            .http
            .post(format!("{}/api/v1/device/scans", self.base))
            .bearer_auth(&self.credential)
            .json(batch)
            .send()
            .map_err(network)?;
        let class = classify_status(resp.status().as_u16());
        if class == StatusClass::Ok {
            let ack: ScanBatchAck = resp.json().map_err(|e| SyncError::BadAnswer(e.to_string()))?;
            return Ok((class, Some(ack), String::new()));
        }
        let (status, code, message) = error_message(resp);
        Ok((class, None, format!("{status} {code}: {message}")))
    }
}

/// One sync round: push the outbox, then pull until the revocation copy reaches the head,
/// showing the download's progress on stderr as `progress` says.
pub fn sync_round(data_dir: &Path, now: UnixSeconds, progress: ProgressOutput) -> Result<SyncSummary, SyncError> {
    let mut s = Store::open(data_dir)?;
    let config = s.config()?.ok_or(SyncError::NotEnrolled)?;
    let base = config.issuer_url.clone().ok_or(SyncError::NotEnrolled)?;
    let credential = store::read_credential(data_dir).ok_or(SyncError::NotEnrolled)?;
    let client = Client {
        http: http_client()?,
        base,
        credential,
    };
    let mut sum = SyncSummary::default();
    let res =
        push(&mut s, &client, now, &mut sum).and_then(|_| pull(&mut s, &client, &config, now, progress, &mut sum));
    match &res {
        Ok(()) => {
            // Open gates cache `last_sync_ok` and `data_as_of` per generation: a round that
            // changed nothing else (304) still makes them re-read both.
            let tx = s.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
            store::set_meta(&tx, "last_sync_ok", &now.to_string())?;
            store::set_meta(&tx, "last_sync_error", "")?;
            for key in ["sync_refused", "sync_refused_code", "sync_refused_at"] {
                tx.execute("DELETE FROM meta WHERE key = ?1", [key])?;
            }
            bump_generation(&tx)?;
            tx.commit()?;
        }
        Err(e) => {
            s.set_meta("last_sync_error", &e.to_string())?;
            if matches!(e, SyncError::DeviceRevoked) {
                s.set_meta("device_revoked", "1")?;
            }
            if let SyncError::Refused(t) = e {
                // Kept for `status` and reported to the issuer with the next request, until a
                // round succeeds; `sync_refused_at` is when this kind of refusal started.
                let tx = s.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
                if store::get_meta(&tx, "sync_refused_code")?.as_deref() != Some(t.code()) {
                    store::set_meta(&tx, "sync_refused_at", &now.to_string())?;
                }
                store::set_meta(&tx, "sync_refused_code", t.code())?;
                store::set_meta(&tx, "sync_refused", &t.to_string())?;
                bump_generation(&tx)?;
                tx.commit()?;
            }
        }
    }
    res.map(|()| sum)
}

/// The local copy's verified position (see [`LocalLog`]).
fn local_log(s: &Store) -> Result<LocalLog, SyncError> {
    let (seq, hash) = s.revocation_cursor()?;
    let num = |k: &str| -> Result<i64, SyncError> { Ok(s.meta(k)?.and_then(|v| v.parse().ok()).unwrap_or(0)) };
    Ok(LocalLog {
        has_copy: s.meta("revocation_hash")?.is_some(),
        checkpoint: Checkpoint {
            epoch: num("log_epoch")?,
            seq,
            hash,
            issued_at: num("checkpoint_at")?,
        },
    })
}

/// Verifies a checkpoint: signed by a key of `trust` for this deployment, and not moving the
/// copy backwards (an older epoch, an older signature, a lower head in the same log).
fn accept_checkpoint(
    signed: Option<&SignedCheckpoint>,
    trust: &TrustStore,
    local: &LocalLog,
    now: UnixSeconds,
) -> Result<Checkpoint, TrustError> {
    let cp = signed.ok_or(TrustError::Unsigned)?.verify(trust, now)?;
    local.checkpoint.check_successor(&cp)?;
    Ok(cp)
}

/// Records an accepted checkpoint (inside the transaction that applies what it covers).
fn store_checkpoint(tx: &rusqlite::Transaction<'_>, signed: &SignedCheckpoint) -> Result<(), SyncError> {
    store::set_meta(tx, "log_epoch", &signed.epoch.to_string())?;
    store::set_meta(tx, "checkpoint_at", &signed.issued_at.to_string())?;
    store::set_meta(tx, "checkpoint", &signed.to_header())?;
    Ok(())
}

fn parse_page_hash(h: &str) -> Result<[u8; 32], SyncError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(h, &mut out).map_err(|_| SyncError::BadAnswer("a page hash is not hex".into()))?;
    Ok(out)
}

fn push(s: &mut Store, client: &Client, now: UnixSeconds, sum: &mut SyncSummary) -> Result<(), SyncError> {
    loop {
        let reports = s.outbox_batch(BATCH_SIZE)?;
        if reports.is_empty() {
            return Ok(());
        }
        let nonces: Vec<String> = reports.iter().map(|r| r.nonce.clone()).collect();
        let queued = s.outbox_len()?;
        let batch = ScanBatch {
            sent_at: now,
            queued,
            software_version: SOFTWARE_VERSION.into(),
            reports,
        };
        let (class, ack, err) = match client.post_scans(&batch) {
            Ok(x) => x,
            Err(e) => {
                s.note_attempt(&nonces, &e.to_string())?;
                return Err(e);
            }
        };
        match (class, ack) {
            (StatusClass::Ok, Some(ack)) => {
                let plan = plan_ack(&nonces, &ack);
                s.delete_outbox(&plan.delete)?;
                for (n, code, msg) in &plan.refuse {
                    s.refuse_report(n, code, msg, now)?;
                }
                sum.pushed += plan.delete.len();
                sum.refused += plan.refuse.len();
                if !plan.keep.is_empty() {
                    // The issuer ignored some rows: keep them, try again next round.
                    s.note_attempt(&plan.keep, "not acknowledged")?;
                    return Ok(());
                }
            }
            (StatusClass::DeviceRevoked, _) => return Err(SyncError::DeviceRevoked),
            (StatusClass::Permanent, _) => {
                // Malformed batch: keep the rows, record why, and do not loop on them.
                s.hold_reports(&nonces, &err)?;
                sum.held += nonces.len();
            }
            _ => {
                s.note_attempt(&nonces, &err)?;
                return Err(SyncError::Server {
                    status: 0,
                    message: err,
                });
            }
        }
    }
}

fn pull(
    s: &mut Store,
    client: &Client,
    config: &DeviceConfig,
    now: UnixSeconds,
    progress: ProgressOutput,
    sum: &mut SyncSummary,
) -> Result<(), SyncError> {
    let mut snapshot: Option<Vec<RevocationPage>> = None;
    let start = s.revocation_cursor()?.0;
    if s.meta("revocation_hash")?.is_none() {
        // A device with no revocation copy starts with a full snapshot. A copy of an empty log
        // (cursor 0, hash of the genesis) is a copy: it continues with deltas and 304s.
        snapshot = Some(Vec::new());
    }
    let mut trust = s.trust_store()?.ok_or(SyncError::NotEnrolled)?;
    let mut local = local_log(s)?;
    // Why the last round refused the issuer's answers: the issuer records it for operators.
    let refused = match (s.meta("sync_refused_code")?, s.meta("sync_refused")?) {
        (Some(code), Some(msg)) => Some(format!("{code}: {msg}")),
        _ => None,
    };
    let mut bar = Progress::new(progress, start);
    loop {
        if let Some(pages) = &mut snapshot
            && pages.is_empty()
        {
            // The compact binary snapshot (about 6 bytes per entry) in one request; if the issuer
            // cannot serve it, the JSON pages below get the same entries, 10,000 at a time.
            match client.get_binary_revocations(0) {
                Ok((page, header)) => {
                    // Used only if signed by a key this gate trusts and ending where it says (the
                    // JSON answer's checkpoint must still cover the whole chain).
                    let signed = header
                        .as_deref()
                        .ok_or(TrustError::Unsigned)
                        .and_then(SignedCheckpoint::from_header)
                        .and_then(|c| c.verify(&trust, now))
                        .and_then(|c| c.covers(page.to_seq, &parse_page_hash(&page.head_hash).unwrap_or([0; 32])));
                    match signed {
                        Ok(()) => {
                            // The binary snapshot is the whole log: its end is the head when it was read.
                            bar.update(page.to_seq, Some(page.to_seq));
                            pages.push(page);
                        }
                        Err(e) => tracing::warn!("binary snapshot ignored ({e}); using JSON pages"),
                    }
                }
                Err(SyncError::DeviceRevoked) => return Err(SyncError::DeviceRevoked),
                Err(e) => tracing::info!("binary snapshot unavailable ({e}); using JSON pages"),
            }
        }
        let (seq, hash) = s.revocation_cursor()?;
        let adm: u64 = s.meta("admissions_cursor")?.and_then(|v| v.parse().ok()).unwrap_or(0);
        let rev_after = snapshot.as_ref().map_or(seq, |p| p.last().map_or(0, |p| p.to_seq));
        let etag = if snapshot.is_none() { s.meta("sync_etag")? } else { None };
        let queued = s.outbox_len()?;
        // Stored as the issuer's clock minus ours; reported as ours minus the issuer's.
        let clock_offset = s.meta("clock_offset")?.and_then(|v| v.parse::<i64>().ok()).map(|o| -o);
        let (resp, etag) = match client.get_sync(
            rev_after,
            adm,
            queued,
            etag.as_deref(),
            refused.as_deref(),
            clock_offset,
        )? {
            Pull::NotModified(header) => {
                // "Nothing changed" counts only when the issuer signs that its log still ends
                // where this copy does.
                let signed = header.as_deref().map(SignedCheckpoint::from_header).transpose()?;
                let cp = accept_checkpoint(signed.as_ref(), &trust, &local, now)?;
                cp.covers(seq, &hash)?;
                let tx = s.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
                if let Some(signed) = &signed {
                    store_checkpoint(&tx, signed)?;
                }
                store::set_meta(&tx, "data_as_of", &now.to_string())?;
                tx.commit()?;
                return Ok(());
            }
            Pull::Reset => {
                if snapshot.is_some() {
                    return Err(SyncError::BadAnswer("revocations_reset during a snapshot".into()));
                }
                snapshot = Some(Vec::new());
                sum.snapshot = true;
                bar.restart();
                continue;
            }
            Pull::Page(r, e) => (r, e),
        };
        if resp.deployment != config.deployment {
            return Err(SyncError::BadAnswer(format!(
                "the issuer serves deployment {}, this device belongs to {}",
                resp.deployment, config.deployment
            )));
        }
        // Everything is checked before anything is written: the key set against the keys this
        // gate trusts, the checkpoint against the (possibly rotated) key set and the local copy.
        let proof = resp.keys_proof.as_ref().ok_or(TrustError::Unsigned)?;
        let keys_at: Option<i64> = s.meta("keys_issued_at")?.and_then(|v| v.parse().ok());
        let next_trust = proof.verify(&resp.keys, &trust, keys_at, now)?;
        let signed = resp.checkpoint.as_ref();
        let cp = accept_checkpoint(signed, &next_trust, &local, now)?;
        cp.covers(resp.revocations.to_seq, &parse_page_hash(&resp.revocations.head_hash)?)?;
        let complete = resp.revocations.to_seq >= resp.revocations_head;
        // What to do with the revocations: (entries, seq, hash, replace) to apply, or restart.
        let mut apply: Option<(Vec<Revocation>, u64, [u8; 32], bool)> = None;
        let mut restart_snapshot = false;
        match &mut snapshot {
            Some(pages) => {
                pages.push(resp.revocations.clone());
                if complete {
                    let (entries, seq, hash) =
                        chain_snapshot(pages).map_err(|e| SyncError::BadAnswer(format!("snapshot chain: {e}")))?;
                    cp.covers(seq, &hash)?;
                    let known = store::revocation_targets(s.conn())?;
                    match plan_snapshot(&local, &known, &entries, &cp) {
                        SnapshotStep::Replace | SnapshotStep::Reset => apply = Some((entries, seq, hash, true)),
                        SnapshotStep::Refuse(e) => return Err(e.into()),
                    }
                }
            }
            None => match plan_page(&resp.revocations, seq, &hash) {
                RevocationStep::Apply { entries, seq, hash } => apply = Some((entries, seq, hash, false)),
                RevocationStep::Snapshot(_) => restart_snapshot = true,
            },
        }
        let tx = s.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
        store::replace_keys(&tx, &resp.keys)?;
        store::set_meta(&tx, "keys_issued_at", &proof.issued_at.to_string())?;
        if !resp.events.is_empty() {
            store::replace_events(&tx, &resp.events)?;
        }
        // The issuer's clock minus this gate's, for staff (`status`, the kiosk's banner).
        store::set_meta(&tx, "clock_offset", &(resp.server_time - now).to_string())?;
        store::insert_remote_admissions(&tx, &resp.admissions)?;
        sum.admissions += resp.admissions.len();
        store::upsert_conflicts(&tx, &resp.conflicts)?;
        store::set_meta(&tx, "admissions_cursor", &resp.admissions_to.to_string())?;
        if let Some((entries, seq, hash, replace)) = &apply {
            store::apply_revocations(&tx, entries, *seq, hash, *replace)?;
            if let Some(signed) = signed {
                store_checkpoint(&tx, signed)?;
            }
            sum.revocations_applied += entries.len();
            sum.revocation_seq = *seq;
        }
        if complete && !restart_snapshot {
            store::set_meta(&tx, "data_as_of", &now.to_string())?;
            if let Some(e) = &etag {
                store::set_meta(&tx, "sync_etag", e)?;
            }
        }
        bump_generation(&tx)?;
        tx.commit()?;
        trust = next_trust;
        if apply.is_some() {
            local = LocalLog {
                has_copy: true,
                checkpoint: cp,
            };
        }
        if restart_snapshot {
            snapshot = Some(Vec::new());
            sum.snapshot = true;
            bar.restart();
            continue;
        }
        bar.update(resp.revocations.to_seq, Some(resp.revocations_head));
        if complete {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use og_shared::sync::{RefusedReport, RevocationReason, RevocationTarget};

    #[test]
    fn an_issuer_that_does_not_answer_is_said_with_the_cause_not_only_that_sending_failed() {
        // A port nothing listens on (bound, then freed).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = http_client()
            .unwrap()
            .get(format!("http://127.0.0.1:{port}/health?device=secret-query"))
            .send()
            .map_err(network)
            .unwrap_err();
        let said = err.to_string();
        assert!(said.contains("refused"), "{said}");
        assert!(!said.contains("secret-query"), "{said}");
    }

    fn rev(seq: u64) -> Revocation {
        Revocation {
            seq,
            target: RevocationTarget::Ticket { serial: seq as u32 },
            reason: RevocationReason::Refunded,
            at: 1,
        }
    }

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_is_capped() {
        let b = Backoff::default();
        assert_eq!(b.delay(0, 1), Duration::ZERO);
        for seed in 0..50 {
            let d1 = b.delay(1, seed);
            assert!(d1 >= Duration::from_secs(1) && d1 <= Duration::from_secs(2), "{d1:?}");
            let d3 = b.delay(3, seed);
            assert!(d3 >= Duration::from_secs(4) && d3 <= Duration::from_secs(8), "{d3:?}");
            assert!(b.delay(40, seed) <= b.max);
        }
        assert_ne!(b.delay(5, 1), b.delay(5, 2), "jitter spreads gates apart");
    }

    #[test]
    fn a_page_that_continues_the_copy_is_applied() {
        let first = RevocationPage::build(0, GENESIS_HASH, vec![rev(1), rev(2)]);
        let RevocationStep::Apply { seq, hash, .. } = plan_page(&first, 0, &GENESIS_HASH) else {
            panic!("should apply");
        };
        assert_eq!(seq, 2);
        let next = RevocationPage::build(2, hash, vec![rev(3)]);
        assert!(matches!(
            plan_page(&next, 2, &hash),
            RevocationStep::Apply { seq: 3, .. }
        ));
    }

    #[test]
    fn a_page_from_a_rolled_back_or_foreign_log_falls_back_to_a_snapshot() {
        let first = RevocationPage::build(0, GENESIS_HASH, vec![rev(1), rev(2)]);
        let (_, hash) = first.check_continues(0, &GENESIS_HASH).unwrap();
        // A page built on another base hash (the log was replaced).
        let foreign = RevocationPage::build(2, [7; 32], vec![rev(3)]);
        assert!(matches!(plan_page(&foreign, 2, &hash), RevocationStep::Snapshot(_)));
        // A page starting elsewhere.
        let gap = RevocationPage::build(5, hash, vec![rev(6)]);
        assert!(matches!(plan_page(&gap, 2, &hash), RevocationStep::Snapshot(_)));
        // A tampered entry.
        let mut bad = RevocationPage::build(2, hash, vec![rev(3)]);
        bad.entries[0].target = RevocationTarget::Ticket { serial: 999 };
        assert!(matches!(plan_page(&bad, 2, &hash), RevocationStep::Snapshot(_)));
    }

    #[test]
    fn snapshot_pages_must_chain_from_the_genesis() {
        let p1 = RevocationPage::build(0, GENESIS_HASH, vec![rev(1), rev(2)]);
        let (_, h) = p1.check_continues(0, &GENESIS_HASH).unwrap();
        let p2 = RevocationPage::build(2, h, vec![rev(3)]);
        let (entries, seq, _) = chain_snapshot(&[p1.clone(), p2]).unwrap();
        assert_eq!((entries.len(), seq), (3, 3));
        let wrong = RevocationPage::build(2, [1; 32], vec![rev(3)]);
        assert!(chain_snapshot(&[p1, wrong]).is_err());
    }

    fn local(seq: u64, epoch: i64, entries: &[Revocation]) -> LocalLog {
        let hash = entries.iter().fold(GENESIS_HASH, |h, e| chain_hash(&h, e));
        LocalLog {
            has_copy: true,
            checkpoint: Checkpoint {
                epoch,
                seq,
                hash,
                issued_at: 10,
            },
        }
    }

    fn end(entries: &[Revocation], epoch: i64) -> Checkpoint {
        Checkpoint {
            epoch,
            seq: entries.last().map_or(0, |e| e.seq),
            hash: entries.iter().fold(GENESIS_HASH, |h, e| chain_hash(&h, e)),
            issued_at: 20,
        }
    }

    #[test]
    fn a_snapshot_replaces_the_copy_only_when_it_continues_it_or_is_a_reset_keeping_every_revocation() {
        let copy = [rev(1), rev(2)];
        let known: Vec<_> = copy.iter().map(|e| e.target).collect();
        let here = local(2, 0, &copy);
        // Longer, same log: fine.
        let longer = [rev(1), rev(2), rev(3)];
        assert_eq!(
            plan_snapshot(&here, &known, &longer, &end(&longer, 0)),
            SnapshotStep::Replace
        );
        // Shorter (a restored backup or a replay): refused.
        let shorter = [rev(1)];
        assert!(matches!(
            plan_snapshot(&here, &known, &shorter, &end(&shorter, 0)),
            SnapshotStep::Refuse(TrustError::Rollback { local: 2, answer: 1 })
        ));
        // Empty: refused.
        assert!(matches!(
            plan_snapshot(&here, &known, &[], &end(&[], 0)),
            SnapshotStep::Refuse(_)
        ));
        // Another log of the same epoch, even longer: refused.
        let mut forked = [rev(1), rev(2), rev(3)];
        forked[1].reason = og_shared::sync::RevocationReason::Fraud;
        assert!(matches!(
            plan_snapshot(&here, &known, &forked, &end(&forked, 0)),
            SnapshotStep::Refuse(TrustError::NotAContinuation)
        ));
        // A signed reset (newer epoch) that lost a revocation: refused; one that re-published
        // everything (other seqs): accepted.
        assert!(matches!(
            plan_snapshot(&here, &known, &shorter, &end(&shorter, 5)),
            SnapshotStep::Refuse(TrustError::DropsRevocations { missing: 1 })
        ));
        // The same targets in another order, under other sequence numbers.
        let mut republished = [rev(2), rev(1)];
        republished[0].seq = 1;
        republished[1].seq = 2;
        assert_eq!(
            plan_snapshot(&here, &known, &republished, &end(&republished, 5)),
            SnapshotStep::Reset
        );
        // A gate with no copy takes any (signed) snapshot.
        let fresh = LocalLog {
            has_copy: false,
            ..local(0, 0, &[])
        };
        assert_eq!(
            plan_snapshot(&fresh, &[], &shorter, &end(&shorter, 0)),
            SnapshotStep::Replace
        );
    }

    #[test]
    fn enrolment_takes_https_or_http_on_this_machine_or_when_told() {
        for ok in [
            "https://tickets.example.org",
            "http://127.0.0.1:8080",
            "http://127.8.9.10",
            "http://[::1]:8080/",
            "http://localhost:8080",
            "http://LOCALHOST",
        ] {
            assert!(check_issuer_url(ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "http://tickets.example.org",
            "http://10.0.0.2",
            "http://[::2]",
            "ftp://x",
            "not a url",
        ] {
            assert!(check_issuer_url(bad, false).is_err(), "{bad}");
        }
        let e = check_issuer_url("http://tickets.example.org", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("plain HTTP") && e.contains("--insecure-http"), "{e}");
        assert!(check_issuer_url("http://tickets.example.org", true).is_ok());
        assert!(check_issuer_url("ftp://tickets.example.org", true).is_err());
    }

    #[test]
    fn statuses_map_to_retry_reset_revoked_or_permanent() {
        assert_eq!(classify_status(200), StatusClass::Ok);
        assert_eq!(classify_status(304), StatusClass::NotModified);
        assert_eq!(classify_status(409), StatusClass::Reset);
        assert_eq!(classify_status(401), StatusClass::DeviceRevoked);
        assert_eq!(classify_status(400), StatusClass::Permanent);
        assert_eq!(classify_status(422), StatusClass::Permanent);
        assert_eq!(classify_status(429), StatusClass::Retry);
        assert_eq!(classify_status(500), StatusClass::Retry);
        assert_eq!(classify_status(503), StatusClass::Retry);
    }

    #[test]
    fn progress_lines_come_once_per_tenth_and_end_at_the_total() {
        let t0 = Instant::now();
        let mut p = ProgressLines::new(0, Duration::from_secs(5));
        let printed: Vec<String> = (1..=100u64)
            .filter_map(|page| p.line(page * 10_000, 1_000_000, t0))
            .collect();
        assert_eq!(printed.len(), 11, "{printed:?}");
        assert_eq!(printed[0], "revocations 10000/1000000");
        assert_eq!(printed[1], "revocations 100000/1000000");
        assert_eq!(printed.last().unwrap(), "revocations 1000000/1000000");
    }

    #[test]
    fn progress_lines_within_a_tenth_wait_for_the_interval_and_never_repeat_a_position() {
        let t0 = Instant::now();
        let mut p = ProgressLines::new(500, Duration::from_secs(5));
        assert_eq!(p.line(600, 1_000_500, t0).as_deref(), Some("revocations 600/1000500"));
        assert_eq!(p.line(700, 1_000_500, t0 + Duration::from_secs(1)), None);
        assert_eq!(p.line(700, 1_000_500, t0 + Duration::from_secs(4)), None);
        assert_eq!(
            p.line(800, 1_000_500, t0 + Duration::from_secs(6)).as_deref(),
            Some("revocations 800/1000500")
        );
        assert_eq!(p.line(800, 1_000_500, t0 + Duration::from_secs(60)), None);
        assert_eq!(
            p.line(1_000_500, 1_000_500, t0 + Duration::from_secs(61)).as_deref(),
            Some("revocations 1000500/1000500")
        );
    }

    #[test]
    fn progress_lines_say_nothing_when_there_is_nothing_to_download_and_start_over_after_a_reset() {
        let t0 = Instant::now();
        let mut p = ProgressLines::new(42, Duration::from_secs(5));
        assert_eq!(p.line(42, 42, t0), None, "an up-to-date copy prints nothing");
        assert_eq!(p.line(40, 42, t0), None);
        assert!(p.line(42, 50, t0).is_none());
        assert!(p.line(50, 50, t0).is_some());
        p.restart(0);
        assert_eq!(p.line(50, 50, t0).as_deref(), Some("revocations 50/50"));
    }

    #[test]
    fn an_ack_deletes_accepted_and_duplicates_refuses_the_refused_and_keeps_the_rest() {
        let sent: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let ack = ScanBatchAck {
            accepted: vec!["a".into()],
            duplicates: vec!["b".into()],
            refused: vec![RefusedReport {
                nonce: "c".into(),
                code: "nonce_conflict".into(),
                message: "m".into(),
            }],
            conflicts: vec![],
        };
        let plan = plan_ack(&sent, &ack);
        assert_eq!(plan.delete, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(plan.refuse, vec![("c".into(), "nonce_conflict".into(), "m".into())]);
        assert_eq!(plan.keep, vec!["d".to_string()]);
    }
}
