//! Types exchanged between gate devices and the issuer (JSON over HTTP, or an offline bundle).
//!
//! * [`KeyInfo`]: a verifying key with its validity period.
//! * [`Revocation`]: one entry of the issuer's append-only revocation log. Entries carry a
//!   sequence number assigned in commit order, and the log is protected by a hash chain
//!   ([`chain_hash`]): the hash at `n` covers every entry up to `n`, so a gate can check that a
//!   delta continues exactly where its copy ends and that the result is what the issuer has.
//! * [`AdmissionRecord`]: an admission reported by some gate, shared with the other gates of
//!   the event so a ticket used at gate A is refused at gate B.
//! * [`ScanReport`] / [`ScanBatch`] / [`ScanBatchAck`]: what a gate reports and what it is told.
//! * [`EventFacts`]: what a gate needs to know about an event (doors, zones).
//! * [`VerdictCode`]: the closed set of gate verdicts.
//! * [`GateBundle`]: a signed file to provision a gate with no network.
//! * [`encode_revocation_page`] / [`decode_revocation_page`]: a compact binary form of a
//!   revocation page (about 6 bytes per entry instead of about 95 in JSON), for full snapshots
//!   of millions of entries (`GET /api/v1/device/revocations?after=N`, content type
//!   [`REVOCATIONS_CONTENT_TYPE`]).

use sha2::{Digest, Sha256};

use crate::UnixSeconds;
use crate::keys::{KeyError, KeyId, TrustStore, TrustedKey};
use crate::ticket::{Offer, Tag, TicketClaims};

/// A verifying key as published to gates.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyInfo {
    pub key_id: KeyId,
    /// 32 bytes, base64url without padding.
    pub public_key: String,
    pub valid_from: UnixSeconds,
    pub valid_until: UnixSeconds,
}

impl KeyInfo {
    pub fn from_trusted(k: &TrustedKey) -> KeyInfo {
        KeyInfo {
            key_id: k.id,
            public_key: k.public_key_b64(),
            valid_from: k.valid_from,
            valid_until: k.valid_until,
        }
    }

    /// Parses the key; fails if it is not a valid key or if its id does not match its bytes.
    pub fn to_trusted(&self) -> Result<TrustedKey, KeyError> {
        let k = TrustedKey::from_b64(&self.public_key, self.valid_from, self.valid_until)?;
        if k.id != self.key_id {
            return Err(KeyError::BadPublicKey);
        }
        Ok(k)
    }
}

/// What a revocation names. A ticket (serial) is a whole entitlement, every code of it; a
/// purchase or an account covers every ticket carrying its tag; `superseded` covers the codes
/// of one entitlement older than `generation` (a transfer or re-issue made a newer one, which
/// stays valid); `device_key` covers the rotating codes of one entitlement made by one phone
/// (`key_tag` = [`Tag::of_device_key`]): the holder bound the ticket to another phone, or gave
/// it away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RevocationTarget {
    Ticket { serial: u32 },
    Purchase { tag: Tag },
    Account { tag: Tag },
    Superseded { serial: u32, generation: u8 },
    DeviceKey { serial: u32, key_tag: Tag },
}

impl RevocationTarget {
    /// Whether this revocation covers a static code with these claims (a `device_key`
    /// revocation never does: see [`Self::covers_code`]).
    pub fn covers(&self, t: &TicketClaims) -> bool {
        self.covers_code(t, None)
    }

    /// Whether this revocation covers a code with these claims, made (for a rotating code) by
    /// the device key with tag `holder_key_tag`.
    pub fn covers_code(&self, t: &TicketClaims, holder_key_tag: Option<Tag>) -> bool {
        match *self {
            RevocationTarget::Ticket { serial } => t.serial == serial,
            RevocationTarget::Purchase { tag } => t.purchase_tag == tag,
            RevocationTarget::Account { tag } => t.account_tag == tag,
            RevocationTarget::Superseded { serial, generation } => t.serial == serial && t.generation < generation,
            RevocationTarget::DeviceKey { serial, key_tag } => t.serial == serial && holder_key_tag == Some(key_tag),
        }
    }
}

/// Why something was revoked (shown to staff, kept in reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RevocationReason {
    Refunded,
    Cancelled,
    Transferred,
    AccountBanned,
    Fraud,
    Other,
}

impl RevocationReason {
    fn code(self) -> u8 {
        match self {
            RevocationReason::Refunded => 1,
            RevocationReason::Cancelled => 2,
            RevocationReason::Transferred => 3,
            RevocationReason::AccountBanned => 4,
            RevocationReason::Fraud => 5,
            RevocationReason::Other => 6,
        }
    }

    /// Every reason, in code order.
    pub const ALL: [RevocationReason; 6] = [
        RevocationReason::Refunded,
        RevocationReason::Cancelled,
        RevocationReason::Transferred,
        RevocationReason::AccountBanned,
        RevocationReason::Fraud,
        RevocationReason::Other,
    ];

    /// The snake_case name used in JSON and in the issuer's database.
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationReason::Refunded => "refunded",
            RevocationReason::Cancelled => "cancelled",
            RevocationReason::Transferred => "transferred",
            RevocationReason::AccountBanned => "account_banned",
            RevocationReason::Fraud => "fraud",
            RevocationReason::Other => "other",
        }
    }

    /// Parses [`Self::as_str`].
    pub fn from_name(name: &str) -> Option<RevocationReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    pub fn from_code(c: u8) -> Option<RevocationReason> {
        Some(match c {
            1 => RevocationReason::Refunded,
            2 => RevocationReason::Cancelled,
            3 => RevocationReason::Transferred,
            4 => RevocationReason::AccountBanned,
            5 => RevocationReason::Fraud,
            6 => RevocationReason::Other,
            _ => return None,
        })
    }
}

/// One entry of the revocation log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Revocation {
    /// Position in the log, starting at 1, without gaps, in commit order.
    pub seq: u64,
    pub target: RevocationTarget,
    pub reason: RevocationReason,
    /// When the issuer recorded it.
    pub at: UnixSeconds,
}

/// Length of [`Revocation::to_bytes`].
pub const REVOCATION_LEN: usize = 24;

impl Revocation {
    /// Canonical 24-byte form: seq (8), kind (1), target (6: a serial is zero-padded on the
    /// left; `superseded` puts its generation in the second byte), reason (1), time (8).
    /// `device_key` (kind 5) needs 10 bytes of target: key tag (6) in the target bytes, then
    /// reason (1), serial (4) and the time as 4 bytes (Unix seconds 0 to 2^32 - 1; an entry
    /// outside that range has no canonical form and is refused, see [`Self::is_canonical`]).
    /// Used for the hash chain and for compact transfer.
    pub fn to_bytes(&self) -> [u8; REVOCATION_LEN] {
        let mut b = [0u8; REVOCATION_LEN];
        b[0..8].copy_from_slice(&self.seq.to_be_bytes());
        match self.target {
            RevocationTarget::Ticket { serial } => {
                b[8] = 1;
                b[11..15].copy_from_slice(&serial.to_be_bytes());
            }
            RevocationTarget::Purchase { tag } => {
                b[8] = 2;
                b[9..15].copy_from_slice(&tag.0);
            }
            RevocationTarget::Account { tag } => {
                b[8] = 3;
                b[9..15].copy_from_slice(&tag.0);
            }
            RevocationTarget::Superseded { serial, generation } => {
                b[8] = 4;
                b[10] = generation;
                b[11..15].copy_from_slice(&serial.to_be_bytes());
            }
            RevocationTarget::DeviceKey { serial, key_tag } => {
                b[8] = 5;
                b[9..15].copy_from_slice(&key_tag.0);
                b[15] = self.reason.code();
                b[16..20].copy_from_slice(&serial.to_be_bytes());
                let at = u32::try_from(self.at.clamp(0, i64::from(u32::MAX))).unwrap_or(u32::MAX);
                b[20..24].copy_from_slice(&at.to_be_bytes());
                return b;
            }
        }
        b[15] = self.reason.code();
        b[16..24].copy_from_slice(&self.at.to_be_bytes());
        b
    }

    /// Whether [`Self::to_bytes`] represents this entry exactly (always, except a `device_key`
    /// entry whose time is outside 0..2^32). The chain hash covers only what the bytes hold, so
    /// a gate refuses a page with a non-canonical entry.
    pub fn is_canonical(&self) -> bool {
        match self.target {
            RevocationTarget::DeviceKey { .. } => u32::try_from(self.at).is_ok(),
            _ => true,
        }
    }

    /// Parses [`Self::to_bytes`]; `None` for anything it cannot produce.
    pub fn from_bytes(b: &[u8; REVOCATION_LEN]) -> Option<Revocation> {
        let mut tag = [0u8; 6];
        tag.copy_from_slice(&b[9..15]);
        let target = match b[8] {
            1 if b[9] == 0 && b[10] == 0 => RevocationTarget::Ticket {
                serial: u32::from_be_bytes([b[11], b[12], b[13], b[14]]),
            },
            2 => RevocationTarget::Purchase { tag: Tag(tag) },
            3 => RevocationTarget::Account { tag: Tag(tag) },
            4 if b[9] == 0 => RevocationTarget::Superseded {
                serial: u32::from_be_bytes([b[11], b[12], b[13], b[14]]),
                generation: b[10],
            },
            5 => {
                return Some(Revocation {
                    seq: u64::from_be_bytes(b[0..8].try_into().ok()?),
                    target: RevocationTarget::DeviceKey {
                        serial: u32::from_be_bytes([b[16], b[17], b[18], b[19]]),
                        key_tag: Tag(tag),
                    },
                    reason: RevocationReason::from_code(b[15])?,
                    at: i64::from(u32::from_be_bytes([b[20], b[21], b[22], b[23]])),
                });
            }
            _ => return None,
        };
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&b[0..8]);
        let mut at = [0u8; 8];
        at.copy_from_slice(&b[16..24]);
        Some(Revocation {
            seq: u64::from_be_bytes(seq),
            target,
            reason: RevocationReason::from_code(b[15])?,
            at: i64::from_be_bytes(at),
        })
    }
}

/// The hash of an empty revocation log.
pub const GENESIS_HASH: [u8; 32] = [0u8; 32];

/// The chain hash after appending `entry` to a log whose hash was `prev`.
pub fn chain_hash(prev: &[u8; 32], entry: &Revocation) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"og-tickets/revocation-chain/v1")
        .chain_update(prev)
        .chain_update(entry.to_bytes())
        .finalize()
        .into()
}

/// Why a page of revocations cannot be applied to a local copy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    #[error("the answer starts after entry {answer_from}, but the local copy ends at {local}")]
    WrongBase { local: u64, answer_from: u64 },
    #[error("the answer's base hash differs from the local copy's: the issuer's log was rolled back or replaced")]
    BaseHashMismatch,
    #[error("entry {got} follows {expected_after}: the answer has a gap or is out of order")]
    Gap { expected_after: u64, got: u64 },
    #[error("the entries do not hash to the announced head: the answer is incomplete or corrupted")]
    HeadHashMismatch,
    #[error("the answer ends at {answer_to}, before the local copy's {local}: a rollback")]
    Rollback { local: u64, answer_to: u64 },
    #[error("a hash is not 64 hex digits")]
    BadHash,
}

/// A contiguous run of the revocation log: entries `from_seq + 1 ..= to_seq`.
/// With `from_seq == 0` it is a full snapshot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RevocationPage {
    pub from_seq: u64,
    /// Chain hash at `from_seq` (hex).
    pub base_hash: String,
    pub to_seq: u64,
    /// Chain hash at `to_seq` (hex).
    pub head_hash: String,
    pub entries: Vec<Revocation>,
}

fn parse_hash(s: &str) -> Result<[u8; 32], ChainError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|_| ChainError::BadHash)?;
    Ok(out)
}

impl RevocationPage {
    /// Builds a page from a base and the entries after it (issuer side).
    pub fn build(from_seq: u64, base_hash: [u8; 32], entries: Vec<Revocation>) -> RevocationPage {
        let mut h = base_hash;
        for e in &entries {
            h = chain_hash(&h, e);
        }
        RevocationPage {
            from_seq,
            base_hash: hex::encode(base_hash),
            to_seq: entries.last().map_or(from_seq, |e| e.seq),
            head_hash: hex::encode(h),
            entries,
        }
    }

    /// Checks that this page continues a local copy ending at (`local_seq`, `local_hash`) and
    /// hashes to its announced head. Returns the new (seq, hash). Pure: the caller stores.
    pub fn check_continues(&self, local_seq: u64, local_hash: &[u8; 32]) -> Result<(u64, [u8; 32]), ChainError> {
        if self.to_seq < local_seq {
            return Err(ChainError::Rollback {
                local: local_seq,
                answer_to: self.to_seq,
            });
        }
        if self.from_seq != local_seq {
            return Err(ChainError::WrongBase {
                local: local_seq,
                answer_from: self.from_seq,
            });
        }
        if &parse_hash(&self.base_hash)? != local_hash {
            return Err(ChainError::BaseHashMismatch);
        }
        let mut seq = self.from_seq;
        let mut h = *local_hash;
        for e in &self.entries {
            if !e.is_canonical() {
                return Err(ChainError::HeadHashMismatch);
            }
            if e.seq != seq + 1 {
                return Err(ChainError::Gap {
                    expected_after: seq,
                    got: e.seq,
                });
            }
            seq = e.seq;
            h = chain_hash(&h, e);
        }
        if seq != self.to_seq || h != parse_hash(&self.head_hash)? {
            return Err(ChainError::HeadHashMismatch);
        }
        Ok((seq, h))
    }
}

/// The closed set of verdicts a gate gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum VerdictCode {
    Admitted,
    /// An exit scan that was recorded (the holder may come back in if the policy allows).
    Exited,
    AlreadyUsed,
    Revoked,
    WrongEvent,
    WrongZone,
    NotYetValid,
    Expired,
    UnknownKey,
    KeyNotValid,
    BadSignature,
    UnsupportedVersion,
    NotATicket,
    NotProvisioned,
    DataTooOld,
    /// A genuine rotating code older than the gate's tolerance: a screenshot or a photo.
    StaleCode,
    /// A genuine rotating code from the future beyond the tolerance: a clock is wrong.
    CodeFromFuture,
    /// A rotating code whose phone signature does not match the ticket's device key.
    BadDeviceSignature,
    /// A static code (picture, print) at an event that requires the live code on the phone.
    PhoneCodeRequired,
}

impl VerdictCode {
    /// Whether this verdict lets someone through.
    pub fn lets_through(self) -> bool {
        matches!(self, VerdictCode::Admitted | VerdictCode::Exited)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            VerdictCode::Admitted => "admitted",
            VerdictCode::Exited => "exited",
            VerdictCode::AlreadyUsed => "already_used",
            VerdictCode::Revoked => "revoked",
            VerdictCode::WrongEvent => "wrong_event",
            VerdictCode::WrongZone => "wrong_zone",
            VerdictCode::NotYetValid => "not_yet_valid",
            VerdictCode::Expired => "expired",
            VerdictCode::UnknownKey => "unknown_key",
            VerdictCode::KeyNotValid => "key_not_valid",
            VerdictCode::BadSignature => "bad_signature",
            VerdictCode::UnsupportedVersion => "unsupported_version",
            VerdictCode::NotATicket => "not_a_ticket",
            VerdictCode::NotProvisioned => "not_provisioned",
            VerdictCode::DataTooOld => "data_too_old",
            VerdictCode::StaleCode => "stale_code",
            VerdictCode::CodeFromFuture => "code_from_future",
            VerdictCode::BadDeviceSignature => "bad_device_signature",
            VerdictCode::PhoneCodeRequired => "phone_code_required",
        }
    }
}

/// Direction of a scan at a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Entry,
    Exit,
}

/// One scan, as a gate reports it. `nonce` makes intake idempotent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScanReport {
    /// 32 lowercase hex digits, random per scan.
    pub nonce: String,
    /// Device clock at the scan.
    pub scanned_at: UnixSeconds,
    pub verdict: VerdictCode,
    /// Human-readable detail.
    pub reason: String,
    /// Present when the code was a verified ticket.
    pub event_id: Option<u32>,
    pub serial: Option<u32>,
    /// Which code of the entitlement was scanned (0 for reports of older gates).
    #[serde(default)]
    pub generation: u8,
    pub offer: Option<Offer>,
    /// For an admission: this was person `admitted_index` of `offer.admits()` (1-based).
    pub admitted_index: Option<u8>,
    pub gate: String,
    pub zone: Option<u8>,
    #[serde(default)]
    pub direction: Direction,
    /// Whether the gate decided without a recent successful sync.
    pub offline: bool,
}

/// A batch of reports pushed by a device.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScanBatch {
    /// Device clock when the batch was sent (lets the issuer estimate clock skew).
    pub sent_at: UnixSeconds,
    /// How many reports the device still holds, including these.
    pub queued: u64,
    pub software_version: String,
    pub reports: Vec<ScanReport>,
}

/// A report the issuer refused for good (the gate keeps it locally, marked, and stops resending).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RefusedReport {
    pub nonce: String,
    pub code: String,
    pub message: String,
}

/// A ticket admitted more times than it admits, across gates.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Conflict {
    pub event_id: u32,
    pub serial: u32,
    pub allowed: u8,
    pub admitted: u32,
    pub gates: Vec<String>,
    pub detected_at: UnixSeconds,
}

/// The issuer's answer to a batch.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ScanBatchAck {
    /// Stored now.
    pub accepted: Vec<String>,
    /// Already stored earlier with identical content (safe to delete locally).
    pub duplicates: Vec<String>,
    /// Refused for good.
    pub refused: Vec<RefusedReport>,
    /// Conflicts involving tickets of the batch.
    pub conflicts: Vec<Conflict>,
}

/// An admission known to the issuer, shared with the other gates of the event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AdmissionRecord {
    /// Issuer commit order, the cursor gates sync by.
    pub seq: u64,
    pub nonce: String,
    pub event_id: u32,
    pub serial: u32,
    /// Which code of the entitlement was admitted.
    #[serde(default)]
    pub generation: u8,
    pub device_id: String,
    pub gate: String,
    pub admitted_at: UnixSeconds,
    #[serde(default)]
    pub direction: Direction,
}

/// What a gate needs to know about an event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EventFacts {
    pub event_id: u32,
    pub name: String,
    pub sport: String,
    pub venue: String,
    pub starts_at: UnixSeconds,
    pub doors_open: UnixSeconds,
    pub doors_close: UnixSeconds,
    /// Zone names; index i is bit i of a ticket's zones.
    pub zones: Vec<String>,
    /// Whether gates accept static codes (`optional`, the default and what older issuers
    /// mean) or only the live rotating code from the holder's phone (`required`).
    #[serde(default)]
    pub holder_binding: HolderBinding,
    /// Serials whose static code is still accepted when `holder_binding` is `required`: paper
    /// exceptions an operator granted to a named person (no phone, accessibility).
    #[serde(default)]
    pub paper_exceptions: Vec<u32>,
}

/// An event's policy on static codes (see [`EventFacts::holder_binding`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolderBinding {
    /// Static codes and rotating codes are both accepted.
    #[default]
    Optional,
    /// Only rotating codes (and paper exceptions) are accepted.
    Required,
}

impl HolderBinding {
    pub fn as_str(self) -> &'static str {
        match self {
            HolderBinding::Optional => "optional",
            HolderBinding::Required => "required",
        }
    }

    /// Parses [`Self::as_str`].
    pub fn from_name(name: &str) -> Option<HolderBinding> {
        match name {
            "optional" => Some(HolderBinding::Optional),
            "required" => Some(HolderBinding::Required),
            _ => None,
        }
    }
}

/// Everything a gate pulls in one sync round.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SyncResponse {
    pub deployment: crate::keys::DeploymentId,
    pub server_time: UnixSeconds,
    pub keys: Vec<KeyInfo>,
    pub revocations: RevocationPage,
    /// The issuer's last revocation seq. When `revocations.to_seq` is below it, the page was
    /// capped: ask again after `to_seq`.
    pub revocations_head: u64,
    /// Admissions at other gates of the device's events after the requested cursor.
    pub admissions: Vec<AdmissionRecord>,
    /// Cursor to send next time.
    pub admissions_to: u64,
    pub events: Vec<EventFacts>,
    pub conflicts: Vec<Conflict>,
    /// The issuer's signatures over `keys`. A gate adopts a changed key set only when it is
    /// signed by a key the gate already trusts (absent from issuers older than signed sync
    /// answers: a gate refuses those).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys_proof: Option<crate::trust::KeySetProof>,
    /// The issuer's signed checkpoint at `revocations.to_seq` (`revocations.head_hash`): a gate
    /// applies the page only if it ends there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<crate::trust::SignedCheckpoint>,
}

/// Query of `GET /api/v1/device/sync` (the device authenticates with
/// `Authorization: Bearer <credential>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SyncQuery {
    /// The device's revocation cursor (0 for a full snapshot).
    #[serde(default)]
    pub revocations_after: u64,
    /// The device's admissions cursor.
    #[serde(default)]
    pub admissions_after: u64,
    /// Reports the device still has queued (shown to operators).
    #[serde(default)]
    pub queued: u64,
    /// The device's software version (shown to operators).
    #[serde(default)]
    pub version: Option<String>,
    /// Why the device refused the issuer's last answers, if it did (a rollback, a bad
    /// signature): recorded in the device's record for operators.
    #[serde(default)]
    pub refused: Option<String>,
    /// The device's clock minus the issuer's, in seconds, as measured at its previous sync
    /// (positive: the gate is ahead). Shown to operators: rotating phone codes depend on it.
    #[serde(default)]
    pub clock_offset: Option<i64>,
}

/// Body of `POST /api/v1/devices/enroll`: a one-time enrolment token for a device credential.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EnrollRequest {
    pub token: String,
    /// A name for the device (defaults to one the issuer picks).
    #[serde(default)]
    pub name: Option<String>,
    pub software_version: String,
}

/// Answer to an enrolment. `credential` is shown once; the issuer stores only its hash.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EnrollResponse {
    pub device_id: String,
    pub device_name: String,
    pub credential: String,
    pub deployment: crate::keys::DeploymentId,
    pub event_ids: Vec<u32>,
    pub zone: Option<u8>,
    pub keys: Vec<KeyInfo>,
    /// The issuer's signatures over `keys` (see [`SyncResponse::keys_proof`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys_proof: Option<crate::trust::KeySetProof>,
}

impl std::fmt::Debug for EnrollResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollResponse")
            .field("device_id", &self.device_id)
            .field("device_name", &self.device_name)
            .field("credential", &"<redacted>")
            .field("deployment", &self.deployment)
            .field("event_ids", &self.event_ids)
            .field("zone", &self.zone)
            .finish_non_exhaustive()
    }
}

/// A signed offline provisioning file: keys, revocations and event facts.
///
/// On disk: `OGBUNDLE1 <key id hex> <signature base64url>\n` followed by the JSON body. The
/// signature covers the body bytes exactly, under the document domain and deployment id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GateBundle {
    pub deployment: crate::keys::DeploymentId,
    pub created_at: UnixSeconds,
    pub keys: Vec<KeyInfo>,
    pub revocations: RevocationPage,
    pub events: Vec<EventFacts>,
    /// The zone this bundle is for (None: every zone).
    pub zone: Option<u8>,
    /// The epoch of the issuer's revocation log (see `trust::Checkpoint::epoch`).
    #[serde(default)]
    pub log_epoch: UnixSeconds,
}

/// Why a bundle file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    #[error("not an og-tickets gate bundle (bad header)")]
    BadHeader,
    #[error("the bundle body is not valid: {0}")]
    BadBody(String),
    #[error("the bundle signature does not verify under any key it or the device trusts")]
    BadSignature,
    #[error("the bundle contains an invalid key")]
    BadKey,
}

const BUNDLE_MAGIC: &str = "OGBUNDLE1";

impl GateBundle {
    /// Serialises and signs the bundle.
    pub fn to_signed_file(&self, signer: &crate::keys::TicketSigner) -> Vec<u8> {
        use base64::Engine as _;
        let body = serde_json::to_vec(self).expect("bundle serialises");
        let sig = signer.sign_document(&body);
        let mut out = format!(
            "{BUNDLE_MAGIC} {} {}\n",
            signer.key_id(),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig)
        )
        .into_bytes();
        out.extend_from_slice(&body);
        out
    }

    /// Parses and verifies a bundle file. With `trusted` (a device already provisioned) the
    /// signature must verify under a key the device trusts; without (first provisioning) under
    /// a key the bundle itself carries, which proves integrity but not origin: the operator
    /// hands the file over in person.
    pub fn from_signed_file(
        file: &[u8],
        trusted: Option<&TrustStore>,
        now: UnixSeconds,
    ) -> Result<GateBundle, BundleError> {
        use base64::Engine as _;
        let nl = file.iter().position(|&b| b == b'\n').ok_or(BundleError::BadHeader)?;
        let header = std::str::from_utf8(&file[..nl]).map_err(|_| BundleError::BadHeader)?;
        let body = &file[nl + 1..];
        let mut parts = header.split(' ');
        if parts.next() != Some(BUNDLE_MAGIC) {
            return Err(BundleError::BadHeader);
        }
        let _key_id = parts.next().ok_or(BundleError::BadHeader)?;
        let sig = parts
            .next()
            .and_then(|s| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).ok())
            .and_then(|v| <[u8; 64]>::try_from(v).ok())
            .ok_or(BundleError::BadHeader)?;
        if parts.next().is_some() {
            return Err(BundleError::BadHeader);
        }
        let bundle: GateBundle = serde_json::from_slice(body).map_err(|e| BundleError::BadBody(e.to_string()))?;
        let store = match trusted {
            Some(t) => t.clone(),
            None => bundle.trust_store()?,
        };
        store
            .verify_document(body, &sig, now)
            .ok_or(BundleError::BadSignature)?;
        Ok(bundle)
    }

    /// The trust store described by this bundle.
    pub fn trust_store(&self) -> Result<TrustStore, BundleError> {
        let mut t = TrustStore::new(self.deployment.clone());
        for k in &self.keys {
            if !t.add(k.to_trusted().map_err(|_| BundleError::BadKey)?) {
                return Err(BundleError::BadKey);
            }
        }
        Ok(t)
    }
}

/// Content type of the compact binary revocation page ([`encode_revocation_page`]).
pub const REVOCATIONS_CONTENT_TYPE: &str = "application/x-og-revocations";

const REVOCATIONS_MAGIC: &[u8; 5] = b"OGRV1";

/// Why a binary revocation page could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    #[error("not an og-tickets revocation page (bad magic)")]
    BadMagic,
    #[error("the revocation page is truncated")]
    Truncated,
    #[error("the revocation page has bytes after its end")]
    TrailingBytes,
    #[error("the revocation page is inconsistent: {0}")]
    Invalid(&'static str),
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], CodecError> {
        let end = self.pos.checked_add(n).ok_or(CodecError::Truncated)?;
        let s = self.b.get(self.pos..end).ok_or(CodecError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    fn varint(&mut self) -> Result<u64, CodecError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = *self.b.get(self.pos).ok_or(CodecError::Truncated)?;
            self.pos += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(CodecError::Invalid("varint longer than 64 bits"))
    }
}

/// Encodes a revocation page compactly, for full snapshots of millions of entries.
///
/// Layout (all varints are unsigned LEB128; "zz" means zigzag-encoded signed):
/// `"OGRV1"`, from_seq, to_seq, base hash (32 bytes), head hash (32 bytes), then
/// `to_seq - from_seq` entries in columns: one byte each `kind | reason << 2` (kind 1 ticket,
/// 2 purchase, 3 account; kind 1 with bit 0x20 is `superseded`, with bit 0x40 `device_key`);
/// then each entry's time as a zz delta from the previous entry's (the first from 0); then the
/// targets: a serial (ticket, superseded, device_key) as a zz delta from the previous serial,
/// followed by the generation byte (superseded) or the key tag's 6 bytes (device_key); a
/// purchase or account tag as its 6 raw bytes. Sequence numbers are implicit (`from_seq + 1`,
/// `+ 2`, ...), so the entries must be contiguous. The receiver still checks the page with
/// [`RevocationPage::check_continues`]: the hash chain covers every decoded field.
pub fn encode_revocation_page(page: &RevocationPage) -> Result<Vec<u8>, CodecError> {
    let n = page.entries.len();
    if page.to_seq.checked_sub(page.from_seq) != Some(n as u64) {
        return Err(CodecError::Invalid("entry count does not match the seq range"));
    }
    let base = parse_hash(&page.base_hash).map_err(|_| CodecError::Invalid("base hash"))?;
    let head = parse_hash(&page.head_hash).map_err(|_| CodecError::Invalid("head hash"))?;
    let mut out = Vec::with_capacity(80 + n * 6);
    out.extend_from_slice(REVOCATIONS_MAGIC);
    put_varint(&mut out, page.from_seq);
    put_varint(&mut out, page.to_seq);
    out.extend_from_slice(&base);
    out.extend_from_slice(&head);
    for (i, e) in page.entries.iter().enumerate() {
        if e.seq != page.from_seq + 1 + i as u64 {
            return Err(CodecError::Invalid("entries are not contiguous"));
        }
        let kind = match e.target {
            RevocationTarget::Ticket { .. } => 1u8,
            RevocationTarget::Purchase { .. } => 2,
            RevocationTarget::Account { .. } => 3,
            RevocationTarget::Superseded { .. } => 1 | SUPERSEDED_BIT,
            RevocationTarget::DeviceKey { .. } => 1 | DEVICE_KEY_BIT,
        };
        out.push(kind | (e.reason.code() << 2));
    }
    let mut prev_at = 0i64;
    for e in &page.entries {
        put_varint(&mut out, zigzag(e.at.wrapping_sub(prev_at)));
        prev_at = e.at;
    }
    let mut prev_serial = 0i64;
    for e in &page.entries {
        match e.target {
            RevocationTarget::Ticket { serial } => {
                put_varint(&mut out, zigzag(i64::from(serial) - prev_serial));
                prev_serial = i64::from(serial);
            }
            RevocationTarget::Superseded { serial, generation } => {
                put_varint(&mut out, zigzag(i64::from(serial) - prev_serial));
                prev_serial = i64::from(serial);
                out.push(generation);
            }
            RevocationTarget::DeviceKey { serial, key_tag } => {
                put_varint(&mut out, zigzag(i64::from(serial) - prev_serial));
                prev_serial = i64::from(serial);
                out.extend_from_slice(&key_tag.0);
            }
            RevocationTarget::Purchase { tag } | RevocationTarget::Account { tag } => out.extend_from_slice(&tag.0),
        }
    }
    Ok(out)
}

/// In the compact form's kind byte (kind in bits 0-1, reason in bits 2-4): a `ticket` kind with
/// this bit is `superseded`, and its serial is followed by one generation byte.
const SUPERSEDED_BIT: u8 = 0x20;
/// Likewise: a `ticket` kind with this bit is `device_key`, and its serial is followed by the
/// six bytes of the key tag.
const DEVICE_KEY_BIT: u8 = 0x40;

/// Decodes [`encode_revocation_page`]. Never panics on hostile input; the result must still be
/// checked with [`RevocationPage::check_continues`].
pub fn decode_revocation_page(b: &[u8]) -> Result<RevocationPage, CodecError> {
    if b.len() < REVOCATIONS_MAGIC.len() || &b[..REVOCATIONS_MAGIC.len()] != REVOCATIONS_MAGIC {
        return Err(CodecError::BadMagic);
    }
    let mut r = Reader {
        b,
        pos: REVOCATIONS_MAGIC.len(),
    };
    let from_seq = r.varint()?;
    let to_seq = r.varint()?;
    let n = to_seq
        .checked_sub(from_seq)
        .ok_or(CodecError::Invalid("to_seq before from_seq"))?;
    let base_hash = hex::encode(r.take(32)?);
    let head_hash = hex::encode(r.take(32)?);
    // Each entry takes at least 3 bytes: refuse counts the input cannot hold before allocating.
    if n > (b.len() - r.pos) as u64 / 3 {
        return Err(CodecError::Truncated);
    }
    let n = n as usize;
    let kinds = r.take(n)?.to_vec();
    let mut ats = Vec::with_capacity(n);
    let mut prev_at = 0i64;
    for _ in 0..n {
        prev_at = prev_at.wrapping_add(unzigzag(r.varint()?));
        ats.push(prev_at);
    }
    let mut entries = Vec::with_capacity(n);
    let mut prev_serial = 0i64;
    for (i, (&k, at)) in kinds.iter().zip(ats).enumerate() {
        let extra = k & (SUPERSEDED_BIT | DEVICE_KEY_BIT);
        if k & 0x80 != 0 || (extra != 0 && k & 3 != 1) || extra == SUPERSEDED_BIT | DEVICE_KEY_BIT {
            return Err(CodecError::Invalid("unknown kind"));
        }
        let reason = RevocationReason::from_code((k >> 2) & 7).ok_or(CodecError::Invalid("unknown reason"))?;
        let target = match k & 3 {
            1 => {
                let serial = prev_serial + unzigzag(r.varint()?);
                let s = u32::try_from(serial).map_err(|_| CodecError::Invalid("serial out of range"))?;
                prev_serial = serial;
                if k & SUPERSEDED_BIT != 0 {
                    RevocationTarget::Superseded {
                        serial: s,
                        generation: r.take(1)?[0],
                    }
                } else if k & DEVICE_KEY_BIT != 0 {
                    let mut key_tag = [0u8; 6];
                    key_tag.copy_from_slice(r.take(6)?);
                    RevocationTarget::DeviceKey {
                        serial: s,
                        key_tag: Tag(key_tag),
                    }
                } else {
                    RevocationTarget::Ticket { serial: s }
                }
            }
            kind @ (2 | 3) => {
                let mut tag = [0u8; 6];
                tag.copy_from_slice(r.take(6)?);
                if kind == 2 {
                    RevocationTarget::Purchase { tag: Tag(tag) }
                } else {
                    RevocationTarget::Account { tag: Tag(tag) }
                }
            }
            _ => return Err(CodecError::Invalid("unknown kind")),
        };
        entries.push(Revocation {
            seq: from_seq + 1 + i as u64,
            target,
            reason,
            at,
        });
    }
    if r.pos != b.len() {
        return Err(CodecError::TrailingBytes);
    }
    Ok(RevocationPage {
        from_seq,
        base_hash,
        to_seq,
        head_hash,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{DeploymentId, TicketSigner};

    fn rev(seq: u64, serial: u32) -> Revocation {
        Revocation {
            seq,
            target: RevocationTarget::Ticket { serial },
            reason: RevocationReason::Refunded,
            at: 1000 + seq as i64,
        }
    }

    #[test]
    fn reason_names_match_the_json_names_and_parse_back() {
        for r in RevocationReason::ALL {
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{}\"", r.as_str()));
            assert_eq!(RevocationReason::from_name(r.as_str()), Some(r));
            assert_eq!(RevocationReason::from_code(r.code()), Some(r));
        }
        assert_eq!(RevocationReason::from_name("nonsense"), None);
    }

    #[test]
    fn revocations_round_trip_through_their_canonical_bytes() {
        let tag = Tag([1, 2, 3, 4, 5, 6]);
        for r in [
            rev(1, 77),
            Revocation {
                seq: 9,
                target: RevocationTarget::Purchase { tag },
                reason: RevocationReason::Cancelled,
                at: -5,
            },
            Revocation {
                seq: 10,
                target: RevocationTarget::Account { tag },
                reason: RevocationReason::AccountBanned,
                at: 5,
            },
            Revocation {
                seq: 11,
                target: RevocationTarget::Superseded {
                    serial: 0xdead_beef,
                    generation: 200,
                },
                reason: RevocationReason::Transferred,
                at: 7,
            },
        ] {
            assert_eq!(Revocation::from_bytes(&r.to_bytes()), Some(r));
        }
    }

    #[test]
    fn a_delta_that_continues_the_local_copy_is_accepted() {
        let first = RevocationPage::build(0, GENESIS_HASH, vec![rev(1, 1), rev(2, 2)]);
        let (seq, h) = first.check_continues(0, &GENESIS_HASH).unwrap();
        assert_eq!(seq, 2);
        let delta = RevocationPage::build(2, h, vec![rev(3, 3)]);
        assert_eq!(delta.check_continues(seq, &h).unwrap().0, 3);
    }

    #[test]
    fn a_delta_with_a_missing_entry_is_refused() {
        let mut page = RevocationPage::build(0, GENESIS_HASH, vec![rev(1, 1), rev(2, 2), rev(3, 3)]);
        page.entries.remove(1);
        assert!(matches!(
            page.check_continues(0, &GENESIS_HASH),
            Err(ChainError::Gap { .. })
        ));
    }

    #[test]
    fn a_delta_whose_entries_were_altered_is_refused() {
        let mut page = RevocationPage::build(0, GENESIS_HASH, vec![rev(1, 1), rev(2, 2)]);
        page.entries[1].target = RevocationTarget::Ticket { serial: 999 };
        assert_eq!(
            page.check_continues(0, &GENESIS_HASH),
            Err(ChainError::HeadHashMismatch)
        );
    }

    #[test]
    fn an_issuer_whose_log_went_backwards_is_detected() {
        let page = RevocationPage::build(0, GENESIS_HASH, vec![rev(1, 1)]);
        let (_, h) = page.check_continues(0, &GENESIS_HASH).unwrap();
        assert!(matches!(page.check_continues(5, &h), Err(ChainError::Rollback { .. })));
        let other = RevocationPage::build(1, [9; 32], vec![rev(2, 2)]);
        assert_eq!(other.check_continues(1, &h), Err(ChainError::BaseHashMismatch));
    }

    #[test]
    fn a_purchase_revocation_covers_every_ticket_of_that_purchase() {
        use crate::ticket::{TicketFlags, Zones};
        let p = Tag::of_purchase_key(&[1; 32]);
        let claims = |serial| TicketClaims {
            key_id: KeyId(1),
            event_id: 1,
            serial,
            generation: 0,
            offer: Offer::Solo,
            admits: 1,
            purchase_tag: p,
            account_tag: Tag([0; 6]),
            valid_from: 0,
            valid_until: 1,
            zones: Zones::ALL,
            flags: TicketFlags::default(),
        };
        let r = RevocationTarget::Purchase { tag: p };
        assert!(r.covers(&claims(1)) && r.covers(&claims(2)));
        assert!(!RevocationTarget::Ticket { serial: 3 }.covers(&claims(1)));
    }

    #[test]
    fn a_superseded_revocation_covers_older_codes_of_the_entitlement_and_spares_the_new_one() {
        use crate::ticket::{TicketFlags, Zones};
        let code = |serial, generation| TicketClaims {
            key_id: KeyId(1),
            event_id: 1,
            serial,
            generation,
            offer: Offer::Duo,
            admits: 2,
            purchase_tag: Tag([1; 6]),
            account_tag: Tag([2; 6]),
            valid_from: 0,
            valid_until: 1,
            zones: Zones::ALL,
            flags: TicketFlags::default(),
        };
        let r = RevocationTarget::Superseded {
            serial: 7,
            generation: 2,
        };
        assert!(r.covers(&code(7, 0)) && r.covers(&code(7, 1)));
        assert!(
            !r.covers(&code(7, 2)),
            "the code that superseded the others stays valid"
        );
        assert!(!r.covers(&code(8, 0)), "another entitlement is not touched");
    }

    #[test]
    fn a_signed_bundle_loads_and_a_tampered_one_does_not() {
        let s = TicketSigner::from_secret_bytes(&[8; 32], DeploymentId::parse("t").unwrap());
        let bundle = GateBundle {
            deployment: s.deployment().clone(),
            created_at: 10,
            keys: vec![KeyInfo::from_trusted(&s.trusted_key(0, 100))],
            revocations: RevocationPage::build(0, GENESIS_HASH, vec![rev(1, 4)]),
            events: vec![],
            zone: None,
            log_epoch: 0,
        };
        let file = bundle.to_signed_file(&s);
        assert_eq!(GateBundle::from_signed_file(&file, None, 50).unwrap(), bundle);
        let mut bad = file.clone();
        let n = bad.len();
        bad[n - 3] ^= 1;
        assert!(GateBundle::from_signed_file(&bad, None, 50).is_err());
        assert_eq!(
            GateBundle::from_signed_file(b"hello", None, 50),
            Err(BundleError::BadHeader)
        );
    }

    #[test]
    fn a_binary_revocation_page_decodes_to_the_same_page_and_still_checks() {
        let tag = Tag([9, 8, 7, 6, 5, 4]);
        let mut entries: Vec<Revocation> = (1..=50).map(|s| rev(s, 1000 + (s as u32) * 3)).collect();
        entries.push(Revocation {
            seq: 51,
            target: RevocationTarget::Purchase { tag },
            reason: RevocationReason::Fraud,
            at: 5,
        });
        entries.push(Revocation {
            seq: 52,
            target: RevocationTarget::Account { tag },
            reason: RevocationReason::AccountBanned,
            at: 1_700_000_000,
        });
        entries.push(rev(53, 1));
        entries.push(Revocation {
            seq: 54,
            target: RevocationTarget::Superseded {
                serial: 12,
                generation: 3,
            },
            reason: RevocationReason::Transferred,
            at: 1_700_000_001,
        });
        let page = RevocationPage::build(0, GENESIS_HASH, entries);
        let bytes = encode_revocation_page(&page).unwrap();
        assert!(bytes.len() < 54 * REVOCATION_LEN / 2, "{} bytes", bytes.len());
        let back = decode_revocation_page(&bytes).unwrap();
        assert_eq!(back, page);
        assert_eq!(back.check_continues(0, &GENESIS_HASH).unwrap().0, 54);
        let (h, rest) = (
            page.to_seq,
            RevocationPage::build(54, parse_hash(&page.head_hash).unwrap(), vec![]),
        );
        assert_eq!(
            decode_revocation_page(&encode_revocation_page(&rest).unwrap())
                .unwrap()
                .from_seq,
            h
        );
    }

    #[test]
    fn truncated_or_garbage_binary_pages_are_refused_without_panicking() {
        let page = RevocationPage::build(0, GENESIS_HASH, (1..=20).map(|s| rev(s, s as u32)).collect());
        let bytes = encode_revocation_page(&page).unwrap();
        for cut in 0..bytes.len() {
            assert!(decode_revocation_page(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(decode_revocation_page(&long), Err(CodecError::TrailingBytes));
        assert_eq!(decode_revocation_page(b"hello"), Err(CodecError::BadMagic));
        let mut huge = b"OGRV1".to_vec();
        huge.extend_from_slice(&[0, 0xff, 0xff, 0xff, 0xff, 0x0f]);
        huge.extend_from_slice(&[0; 64]);
        assert_eq!(decode_revocation_page(&huge), Err(CodecError::Truncated));
    }

    fn device_key_entry(seq: u64) -> Revocation {
        Revocation {
            seq,
            target: RevocationTarget::DeviceKey {
                serial: 0x0102_0304,
                key_tag: Tag([0xa, 0xb, 0xc, 0xd, 0xe, 0xf]),
            },
            reason: RevocationReason::Other,
            at: 1_785_088_800,
        }
    }

    #[test]
    fn a_device_key_revocation_has_a_json_wire_form_and_a_canonical_24_byte_form() {
        let r = device_key_entry(12);
        let json = serde_json::to_value(r.target).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "device_key", "serial": 0x0102_0304, "key_tag": "0a0b0c0d0e0f"})
        );
        assert_eq!(serde_json::from_value::<RevocationTarget>(json).unwrap(), r.target);
        let b = r.to_bytes();
        assert_eq!(b.len(), REVOCATION_LEN);
        assert_eq!(b[8], 5);
        assert_eq!(Revocation::from_bytes(&b), Some(r));
        assert!(r.is_canonical());
    }

    #[test]
    fn a_device_key_entry_with_a_time_the_bytes_cannot_hold_is_refused_by_the_chain_check() {
        let mut r = device_key_entry(1);
        r.at = -1;
        assert!(!r.is_canonical());
        let page = RevocationPage::build(0, GENESIS_HASH, vec![r]);
        assert_eq!(
            page.check_continues(0, &GENESIS_HASH),
            Err(ChainError::HeadHashMismatch)
        );
        // Changing a device key entry changes the chain.
        let a = RevocationPage::build(0, GENESIS_HASH, vec![device_key_entry(1)]);
        let mut other = device_key_entry(1);
        other.target = RevocationTarget::DeviceKey {
            serial: 0x0102_0305,
            key_tag: Tag([0xa, 0xb, 0xc, 0xd, 0xe, 0xf]),
        };
        let b = RevocationPage::build(0, GENESIS_HASH, vec![other]);
        assert_ne!(a.head_hash, b.head_hash);
    }

    #[test]
    fn a_device_key_revocation_covers_only_that_phones_codes_of_that_ticket() {
        use crate::ticket::{TicketFlags, Zones};
        let code = |serial| TicketClaims {
            key_id: KeyId(1),
            event_id: 1,
            serial,
            generation: 0,
            offer: Offer::Solo,
            admits: 1,
            purchase_tag: Tag([1; 6]),
            account_tag: Tag([2; 6]),
            valid_from: 0,
            valid_until: 1,
            zones: Zones::ALL,
            flags: TicketFlags::default(),
        };
        let old_phone = Tag([7; 6]);
        let r = RevocationTarget::DeviceKey {
            serial: 5,
            key_tag: old_phone,
        };
        assert!(r.covers_code(&code(5), Some(old_phone)));
        assert!(
            !r.covers_code(&code(5), Some(Tag([8; 6]))),
            "the new phone's codes pass"
        );
        assert!(
            !r.covers_code(&code(6), Some(old_phone)),
            "another ticket on the same phone passes"
        );
        assert!(!r.covers(&code(5)), "a static code is not a phone's code");
        assert!(RevocationTarget::Ticket { serial: 5 }.covers_code(&code(5), Some(old_phone)));
    }

    #[test]
    fn a_binary_page_with_device_key_entries_decodes_to_the_same_page_and_still_checks() {
        let mut entries = vec![rev(1, 40)];
        entries.push(device_key_entry(2));
        entries.push(Revocation {
            seq: 3,
            target: RevocationTarget::Superseded {
                serial: 40,
                generation: 1,
            },
            reason: RevocationReason::Transferred,
            at: 1_785_088_801,
        });
        entries.push(device_key_entry(4));
        entries.push(rev(5, 41));
        let page = RevocationPage::build(0, GENESIS_HASH, entries);
        let bytes = encode_revocation_page(&page).unwrap();
        let back = decode_revocation_page(&bytes).unwrap();
        assert_eq!(back, page);
        assert_eq!(back.check_continues(0, &GENESIS_HASH).unwrap().0, 5);
        for cut in 0..bytes.len() {
            assert!(decode_revocation_page(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn a_kind_byte_with_both_the_superseded_and_the_device_key_bits_is_refused() {
        let page = RevocationPage::build(0, GENESIS_HASH, vec![device_key_entry(1)]);
        let mut bytes = encode_revocation_page(&page).unwrap();
        let kind_at = 5 + 2 + 64; // magic, two one-byte varints, two hashes
        assert_eq!(bytes[kind_at] & 0x43, 0x41);
        bytes[kind_at] |= 0x20;
        assert_eq!(decode_revocation_page(&bytes), Err(CodecError::Invalid("unknown kind")));
    }

    #[test]
    fn event_facts_from_an_issuer_without_holder_binding_read_as_optional_without_exceptions() {
        let old = r#"{"event_id":1,"name":"Final","sport":"rugby","venue":"Stade","starts_at":10,
            "doors_open":5,"doors_close":20,"zones":["north"]}"#;
        let e: EventFacts = serde_json::from_str(old).unwrap();
        assert_eq!(e.holder_binding, HolderBinding::Optional);
        assert!(e.paper_exceptions.is_empty());
        let required = EventFacts {
            holder_binding: HolderBinding::Required,
            paper_exceptions: vec![7, 9],
            ..e
        };
        let json = serde_json::to_value(&required).unwrap();
        assert_eq!(json["holder_binding"], "required");
        assert_eq!(json["paper_exceptions"], serde_json::json!([7, 9]));
        assert_eq!(serde_json::from_value::<EventFacts>(json).unwrap(), required);
        assert_eq!(HolderBinding::from_name("required"), Some(HolderBinding::Required));
        assert_eq!(HolderBinding::from_name("maybe"), None);
    }
}
