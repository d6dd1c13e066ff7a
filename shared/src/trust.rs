//! What a gate accepts from the issuer, and why: signed key sets and signed revocation
//! checkpoints, and the rules for moving its copy forward (never backwards).
//!
//! A gate pins the issuer's key set when it is provisioned (enrolment or first bundle). From
//! then on it believes only what is signed by a key it already trusts:
//!
//! * [`KeySetProof`]: the issuer's signatures over the exact key set it publishes
//!   ([`key_set_bytes`]). A changed key set (a rotation) is accepted only when one of the
//!   signatures is by a key the gate trusts now, and never an older one than it has.
//! * [`SignedCheckpoint`]: the issuer's signature over the state of its revocation log (log
//!   epoch, sequence number, chain hash, issuer time, deployment). A gate applies a page or a
//!   snapshot only when its entries hash to a signed checkpoint, so a man in the middle can
//!   neither invent nor drop revocations.
//! * [`Checkpoint::check_successor`]: a gate never moves backwards. A lower head in the same
//!   log, a checkpoint older than the last one accepted, or a log epoch older than the gate's is
//!   refused. A newer epoch is the issuer's signed *reset* (after a restore from backup, see
//!   `deploy/README.md`); the gate still accepts it only if it keeps every revocation the gate
//!   knew ([`missing_from`]).
//!
//! Every signature covers a domain-separation tag and the deployment id (`keys::signed_message`).

use std::collections::HashSet;

use base64::Engine as _;

use crate::UnixSeconds;
use crate::keys::{CHECKPOINT_DOMAIN, KEY_SET_DOMAIN, KeyId, TicketSigner, TrustStore};
use crate::sync::{KeyInfo, Revocation, RevocationTarget};

/// HTTP header carrying a [`SignedCheckpoint`] on answers without a JSON body (304 and the
/// binary revocation page).
pub const CHECKPOINT_HEADER: &str = "og-checkpoint";

/// Why a gate refuses what the issuer (or someone in between) sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    #[error("the answer carries no issuer signature (an issuer too old for this gate, or someone in between)")]
    Unsigned,
    #[error("the issuer signature is malformed")]
    Malformed,
    #[error("the {what} is not signed by a key this gate trusts for this deployment")]
    BadSignature { what: &'static str },
    #[error("the issuer's key set is older than the one this gate has (issued at {answer}, the gate has {local})")]
    OlderKeySet { local: UnixSeconds, answer: UnixSeconds },
    #[error("the issuer's key set is invalid: {0}")]
    BadKeySet(&'static str),
    #[error(
        "the revocation log is from before a reset this gate already accepted (epoch {answer}, the gate has {local})"
    )]
    OlderLog { local: UnixSeconds, answer: UnixSeconds },
    #[error("the revocation checkpoint is older than the last one this gate accepted (a replay)")]
    Replayed,
    #[error(
        "the issuer's revocation log ends at {answer}, before this gate's copy at {local}: a rollback (restored backup?)"
    )]
    Rollback { local: u64, answer: u64 },
    #[error("the revocations do not end at the signed checkpoint")]
    NotCheckpointed,
    #[error(
        "the issuer's revocation log does not continue this gate's copy and comes with no signed reset: \
         a rollback (restored backup?)"
    )]
    NotAContinuation,
    #[error(
        "the issuer's revocation log lacks {missing} revocations this gate knows: a rollback (restored backup?); \
         the issuer must re-publish them"
    )]
    DropsRevocations { missing: u64 },
}

impl TrustError {
    /// A stable short code (JSON output, reports to the issuer).
    pub fn code(&self) -> &'static str {
        match self {
            TrustError::Unsigned => "unsigned",
            TrustError::Malformed | TrustError::BadSignature { .. } => "bad_signature",
            TrustError::BadKeySet(_) => "bad_key_set",
            TrustError::OlderKeySet { .. } | TrustError::OlderLog { .. } | TrustError::Replayed => "replayed",
            TrustError::Rollback { .. } | TrustError::DropsRevocations { .. } | TrustError::NotAContinuation => {
                "rollback"
            }
            TrustError::NotCheckpointed => "not_checkpointed",
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn sig_from_b64(s: &str) -> Result<[u8; 64], TrustError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|v| <[u8; 64]>::try_from(v).ok())
        .ok_or(TrustError::Malformed)
}

/// One signature by one of the issuer's keys.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeySignature {
    pub key_id: KeyId,
    /// 64 bytes, base64url without padding.
    pub signature: String,
}

/// The canonical bytes of a key set issued at `issued_at`: the time, the count, then each key
/// ordered by id as id (2), public key (32), valid from (8), valid until (8), big-endian.
/// Fails on an invalid key or two entries with one id.
pub fn key_set_bytes(keys: &[KeyInfo], issued_at: UnixSeconds) -> Result<Vec<u8>, TrustError> {
    let mut parsed = Vec::with_capacity(keys.len());
    for k in keys {
        parsed.push(k.to_trusted().map_err(|_| TrustError::BadKeySet("a key is invalid"))?);
    }
    parsed.sort_by_key(|k| k.id);
    if parsed.windows(2).any(|w| w[0].id == w[1].id) {
        return Err(TrustError::BadKeySet("two keys have the same id"));
    }
    let count = u16::try_from(parsed.len()).map_err(|_| TrustError::BadKeySet("too many keys"))?;
    let mut out = Vec::with_capacity(10 + parsed.len() * 50);
    out.extend_from_slice(&issued_at.to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    for k in parsed {
        out.extend_from_slice(&k.id.0.to_be_bytes());
        out.extend_from_slice(k.key.as_bytes());
        out.extend_from_slice(&k.valid_from.to_be_bytes());
        out.extend_from_slice(&k.valid_until.to_be_bytes());
    }
    Ok(out)
}

/// The issuer's signatures over the key set it publishes. The issuer signs with its current key
/// and with every retired key it still holds, so a gate that trusts only an older key accepts a
/// rotation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeySetProof {
    /// Issuer time of the signature: a gate never goes back to an older key set.
    pub issued_at: UnixSeconds,
    pub signatures: Vec<KeySignature>,
}

impl KeySetProof {
    /// Signs `keys` with each signer.
    pub fn sign(
        keys: &[KeyInfo],
        issued_at: UnixSeconds,
        signers: &[&TicketSigner],
    ) -> Result<KeySetProof, TrustError> {
        let body = key_set_bytes(keys, issued_at)?;
        Ok(KeySetProof {
            issued_at,
            signatures: signers
                .iter()
                .map(|s| KeySignature {
                    key_id: s.key_id(),
                    signature: b64(&s.sign_in_domain(KEY_SET_DOMAIN, &body)),
                })
                .collect(),
        })
    }

    /// Checks that `keys` is signed by a key of `trusted` valid at `now`, and not older than the
    /// key set the gate accepted last (`last_issued_at`). Returns the trust store `keys`
    /// describe (same deployment), which the gate may adopt.
    pub fn verify(
        &self,
        keys: &[KeyInfo],
        trusted: &TrustStore,
        last_issued_at: Option<UnixSeconds>,
        now: UnixSeconds,
    ) -> Result<TrustStore, TrustError> {
        let body = key_set_bytes(keys, self.issued_at)?;
        let mut signed = false;
        for s in &self.signatures {
            let sig = sig_from_b64(&s.signature)?;
            if trusted.verify_in_domain(KEY_SET_DOMAIN, &body, s.key_id, &sig, now) {
                signed = true;
                break;
            }
        }
        if !signed {
            return Err(TrustError::BadSignature { what: "key set" });
        }
        if let Some(local) = last_issued_at
            && self.issued_at < local
        {
            return Err(TrustError::OlderKeySet {
                local,
                answer: self.issued_at,
            });
        }
        let mut next = TrustStore::new(trusted.deployment().clone());
        for k in keys {
            next.add(k.to_trusted().map_err(|_| TrustError::BadKeySet("a key is invalid"))?);
        }
        Ok(next)
    }

    /// For a device with no keys yet (first enrolment): the key set must be signed by one of
    /// its own keys (integrity; trust comes from the TLS connection the gate enrolled over).
    pub fn verify_self_signed(
        &self,
        keys: &[KeyInfo],
        deployment: &crate::DeploymentId,
        now: UnixSeconds,
    ) -> Result<TrustStore, TrustError> {
        let mut own = TrustStore::new(deployment.clone());
        for k in keys {
            own.add(k.to_trusted().map_err(|_| TrustError::BadKeySet("a key is invalid"))?);
        }
        self.verify(keys, &own, None, now)
    }
}

/// The state of the issuer's revocation log at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// When the log was (re)started: 0 for the original log, the issuer time of a reset
    /// (`issuer revocations republish`) after a restore from backup.
    pub epoch: UnixSeconds,
    /// The last entry's sequence number (0: empty).
    pub seq: u64,
    /// The chain hash at `seq`.
    pub hash: [u8; 32],
    /// Issuer time of the signature.
    pub issued_at: UnixSeconds,
}

impl Checkpoint {
    fn payload(&self) -> [u8; 56] {
        let mut b = [0u8; 56];
        b[0..8].copy_from_slice(&self.epoch.to_be_bytes());
        b[8..16].copy_from_slice(&self.seq.to_be_bytes());
        b[16..48].copy_from_slice(&self.hash);
        b[48..56].copy_from_slice(&self.issued_at.to_be_bytes());
        b
    }

    /// Signs the checkpoint (issuer side).
    pub fn sign(&self, signer: &TicketSigner) -> SignedCheckpoint {
        SignedCheckpoint {
            epoch: self.epoch,
            seq: self.seq,
            hash: hex::encode(self.hash),
            issued_at: self.issued_at,
            key_id: signer.key_id(),
            signature: b64(&signer.sign_in_domain(CHECKPOINT_DOMAIN, &self.payload())),
        }
    }

    /// Whether a gate whose last accepted checkpoint is `self` may accept `next` (already
    /// verified). A newer epoch is a reset: the caller must still check that the new log keeps
    /// every revocation it knew ([`missing_from`]).
    pub fn check_successor(&self, next: &Checkpoint) -> Result<(), TrustError> {
        if next.epoch < self.epoch {
            return Err(TrustError::OlderLog {
                local: self.epoch,
                answer: next.epoch,
            });
        }
        if next.issued_at < self.issued_at {
            return Err(TrustError::Replayed);
        }
        if next.epoch == self.epoch && next.seq < self.seq {
            return Err(TrustError::Rollback {
                local: self.seq,
                answer: next.seq,
            });
        }
        Ok(())
    }

    /// Whether `next` starts a new log (a signed reset) relative to this one.
    pub fn is_reset(&self, next: &Checkpoint) -> bool {
        next.epoch > self.epoch
    }

    /// Checks that a page or snapshot ends exactly at this checkpoint.
    pub fn covers(&self, seq: u64, hash: &[u8; 32]) -> Result<(), TrustError> {
        if self.seq == seq && &self.hash == hash {
            Ok(())
        } else {
            Err(TrustError::NotCheckpointed)
        }
    }
}

/// A [`Checkpoint`] with the issuer's signature, as sent to gates (JSON, or the
/// [`CHECKPOINT_HEADER`] header in its [`Self::to_header`] form).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignedCheckpoint {
    pub epoch: UnixSeconds,
    pub seq: u64,
    /// Chain hash at `seq` (hex).
    pub hash: String,
    pub issued_at: UnixSeconds,
    pub key_id: KeyId,
    /// 64 bytes, base64url without padding.
    pub signature: String,
}

impl SignedCheckpoint {
    /// Verifies the signature under a key of `trust` valid at `now` (which also fixes the
    /// deployment) and returns the checkpoint.
    pub fn verify(&self, trust: &TrustStore, now: UnixSeconds) -> Result<Checkpoint, TrustError> {
        let mut hash = [0u8; 32];
        hex::decode_to_slice(&self.hash, &mut hash).map_err(|_| TrustError::Malformed)?;
        let cp = Checkpoint {
            epoch: self.epoch,
            seq: self.seq,
            hash,
            issued_at: self.issued_at,
        };
        let sig = sig_from_b64(&self.signature)?;
        if trust.verify_in_domain(CHECKPOINT_DOMAIN, &cp.payload(), self.key_id, &sig, now) {
            Ok(cp)
        } else {
            Err(TrustError::BadSignature {
                what: "revocation checkpoint",
            })
        }
    }

    /// One header value: `v1.EPOCH.SEQ.HASH.ISSUED_AT.KEY_ID.SIGNATURE`.
    pub fn to_header(&self) -> String {
        format!(
            "v1.{}.{}.{}.{}.{}.{}",
            self.epoch, self.seq, self.hash, self.issued_at, self.key_id, self.signature
        )
    }

    /// Parses [`Self::to_header`] (the signature is checked by [`Self::verify`]).
    pub fn from_header(s: &str) -> Result<SignedCheckpoint, TrustError> {
        let p: Vec<&str> = s.trim().split('.').collect();
        let [v, epoch, seq, hash, issued_at, key_id, signature] = p[..] else {
            return Err(TrustError::Malformed);
        };
        if v != "v1" {
            return Err(TrustError::Malformed);
        }
        let num = |s: &str| s.parse::<i64>().map_err(|_| TrustError::Malformed);
        Ok(SignedCheckpoint {
            epoch: num(epoch)?,
            seq: seq.parse().map_err(|_| TrustError::Malformed)?,
            hash: hash.to_owned(),
            issued_at: num(issued_at)?,
            key_id: KeyId(u16::from_str_radix(key_id, 16).map_err(|_| TrustError::Malformed)?),
            signature: signature.to_owned(),
        })
    }
}

/// A gate's revocation copy written to a file (`gate-agent export-revocations`), so that an
/// issuer restored from a backup can re-publish what the gates knew
/// (`issuer revocations republish`).
///
/// Layout: a line `OGREVOCATIONS1 <checkpoint header form, or ->` then the binary page
/// (`sync::encode_revocation_page`) of the whole copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationExport {
    /// The last checkpoint the gate accepted for this copy (None: provisioned from a bundle).
    pub checkpoint: Option<SignedCheckpoint>,
    pub page: crate::sync::RevocationPage,
}

const EXPORT_MAGIC: &str = "OGREVOCATIONS1";

/// Why an export file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    #[error("not a gate revocation export (bad header)")]
    BadHeader,
    #[error(transparent)]
    Codec(#[from] crate::sync::CodecError),
    #[error("the revocations are not a valid chain from the start: {0}")]
    Chain(#[from] crate::sync::ChainError),
    #[error("the checkpoint does not match the revocations: {0}")]
    Checkpoint(#[from] TrustError),
}

impl RevocationExport {
    pub fn to_bytes(&self) -> Result<Vec<u8>, crate::sync::CodecError> {
        let cp = self
            .checkpoint
            .as_ref()
            .map_or_else(|| "-".to_owned(), |c| c.to_header());
        let mut out = format!("{EXPORT_MAGIC} {cp}\n").into_bytes();
        out.extend_from_slice(&crate::sync::encode_revocation_page(&self.page)?);
        Ok(out)
    }

    /// Parses an export and checks that its entries chain from the genesis and, when it has a
    /// checkpoint, end there. The checkpoint's signature is the caller's to verify.
    pub fn from_bytes(b: &[u8]) -> Result<RevocationExport, ExportError> {
        let nl = b.iter().position(|&c| c == b'\n').ok_or(ExportError::BadHeader)?;
        let header = std::str::from_utf8(&b[..nl]).map_err(|_| ExportError::BadHeader)?;
        let cp = header
            .strip_prefix(EXPORT_MAGIC)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or(ExportError::BadHeader)?;
        let checkpoint = match cp {
            "-" => None,
            h => Some(SignedCheckpoint::from_header(h)?),
        };
        let page = crate::sync::decode_revocation_page(&b[nl + 1..])?;
        let (seq, hash) = page.check_continues(0, &crate::sync::GENESIS_HASH)?;
        if let Some(c) = &checkpoint
            && (c.seq != seq || c.hash != hex::encode(hash))
        {
            return Err(ExportError::Checkpoint(TrustError::NotCheckpointed));
        }
        Ok(RevocationExport { checkpoint, page })
    }
}

/// How many of the gate's revocation targets (`known`) a new log (`entries`) lacks. A reset is
/// accepted only when this is 0.
pub fn missing_from<'a>(known: impl IntoIterator<Item = &'a RevocationTarget>, entries: &[Revocation]) -> u64 {
    let have: HashSet<&RevocationTarget> = entries.iter().map(|e| &e.target).collect();
    known.into_iter().filter(|t| !have.contains(t)).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DeploymentId;
    use crate::sync::{GENESIS_HASH, RevocationPage, RevocationReason};

    fn dep(s: &str) -> DeploymentId {
        DeploymentId::parse(s).unwrap()
    }

    fn signer(seed: u8) -> TicketSigner {
        TicketSigner::from_secret_bytes(&[seed; 32], dep("paris-prod"))
    }

    fn store(signers: &[&TicketSigner]) -> TrustStore {
        let mut t = TrustStore::new(dep("paris-prod"));
        for s in signers {
            t.add(s.trusted_key(0, 10_000));
        }
        t
    }

    fn rev(seq: u64, serial: u32) -> Revocation {
        Revocation {
            seq,
            target: RevocationTarget::Ticket { serial },
            reason: RevocationReason::Refunded,
            at: 5,
        }
    }

    fn checkpoint_of(page: &RevocationPage, epoch: i64, issued_at: i64) -> Checkpoint {
        let mut hash = [0u8; 32];
        hex::decode_to_slice(&page.head_hash, &mut hash).unwrap();
        Checkpoint {
            epoch,
            seq: page.to_seq,
            hash,
            issued_at,
        }
    }

    #[test]
    fn a_checkpoint_signed_by_the_issuer_verifies_and_survives_the_header_form() {
        let issuer = signer(1);
        let page = RevocationPage::build(0, GENESIS_HASH, vec![rev(1, 10), rev(2, 11)]);
        let cp = checkpoint_of(&page, 0, 1_000);
        let signed = cp.sign(&issuer);
        assert_eq!(signed.verify(&store(&[&issuer]), 1_000), Ok(cp));
        let back = SignedCheckpoint::from_header(&signed.to_header()).unwrap();
        assert_eq!(back, signed);
        assert_eq!(back.verify(&store(&[&issuer]), 1_000), Ok(cp));
        assert_eq!(cp.covers(2, &cp.hash), Ok(()));
        assert_eq!(SignedCheckpoint::from_header("v1.1.2"), Err(TrustError::Malformed));
    }

    #[test]
    fn a_checkpoint_signed_by_another_key_is_refused() {
        let issuer = signer(1);
        let attacker = signer(2);
        let cp = Checkpoint {
            epoch: 0,
            seq: 0,
            hash: GENESIS_HASH,
            issued_at: 1,
        };
        let forged = cp.sign(&attacker);
        assert!(matches!(
            forged.verify(&store(&[&issuer]), 5),
            Err(TrustError::BadSignature { .. })
        ));
        // Claiming the issuer's key id does not help.
        let mut relabelled = forged.clone();
        relabelled.key_id = issuer.key_id();
        assert!(matches!(
            relabelled.verify(&store(&[&issuer]), 5),
            Err(TrustError::BadSignature { .. })
        ));
        // Nor does a key the gate trusts outside its validity period.
        let signed = cp.sign(&issuer);
        assert!(signed.verify(&store(&[&issuer]), 20_000).is_err());
    }

    #[test]
    fn a_checkpoint_of_another_deployment_is_refused() {
        let staging = TicketSigner::from_secret_bytes(&[1; 32], dep("paris-staging"));
        let cp = Checkpoint {
            epoch: 0,
            seq: 3,
            hash: [9; 32],
            issued_at: 1,
        };
        let signed = cp.sign(&staging);
        // Same key bytes, trusted by a production gate: the deployment is part of the signature.
        assert!(signed.verify(&store(&[&signer(1)]), 5).is_err());
    }

    #[test]
    fn a_tampered_head_hash_time_or_epoch_is_refused() {
        let issuer = signer(1);
        let trust = store(&[&issuer]);
        let page = RevocationPage::build(0, GENESIS_HASH, vec![rev(1, 10), rev(2, 11)]);
        let signed = checkpoint_of(&page, 0, 100).sign(&issuer);
        let tamper = [
            |c: &mut SignedCheckpoint| c.seq = 1,
            |c: &mut SignedCheckpoint| c.hash = hex::encode([0u8; 32]),
            |c: &mut SignedCheckpoint| c.issued_at = 200,
            |c: &mut SignedCheckpoint| c.epoch = 7,
        ];
        for (i, t) in tamper.iter().enumerate() {
            let mut c = signed.clone();
            t(&mut c);
            assert!(c.verify(&trust, 100).is_err(), "tamper {i}");
        }
        // A page whose entries do not hash to the checkpoint is not covered by it.
        let cp = signed.verify(&trust, 100).unwrap();
        let other = RevocationPage::build(0, GENESIS_HASH, vec![rev(1, 10)]);
        let mut h = [0u8; 32];
        hex::decode_to_slice(&other.head_hash, &mut h).unwrap();
        assert_eq!(cp.covers(other.to_seq, &h), Err(TrustError::NotCheckpointed));
    }

    #[test]
    fn a_replayed_old_checkpoint_a_lower_head_or_an_older_log_is_refused() {
        let issuer = signer(1);
        let trust = store(&[&issuer]);
        let old_page = RevocationPage::build(0, GENESIS_HASH, vec![rev(1, 10)]);
        let new_page = RevocationPage::build(0, GENESIS_HASH, vec![rev(1, 10), rev(2, 11)]);
        let old = checkpoint_of(&old_page, 0, 100).sign(&issuer);
        let new = checkpoint_of(&new_page, 0, 200).sign(&issuer);
        let accepted = new.verify(&trust, 200).unwrap();
        // The old answer is genuinely signed, yet going back to it is refused.
        let replay = old.verify(&trust, 300).unwrap();
        assert_eq!(accepted.check_successor(&replay), Err(TrustError::Replayed));
        // Even re-signed later by the issuer itself (a restored backup), a lower head is refused.
        let restored = checkpoint_of(&old_page, 0, 300);
        assert_eq!(
            accepted.check_successor(&restored),
            Err(TrustError::Rollback { local: 2, answer: 1 })
        );
        // A log from before a reset the gate accepted is refused.
        let after_reset = Checkpoint { epoch: 250, ..accepted };
        assert!(matches!(
            after_reset.check_successor(&checkpoint_of(&new_page, 0, 400)),
            Err(TrustError::OlderLog { .. })
        ));
        // Moving forward, or staying put, is fine.
        assert_eq!(accepted.check_successor(&accepted), Ok(()));
        assert_eq!(
            replay.check_successor(&Checkpoint {
                issued_at: 300,
                ..accepted
            }),
            Ok(())
        );
        // A newer epoch is a reset, allowed only if it keeps every revocation known.
        let reset = checkpoint_of(&old_page, 300, 300);
        assert_eq!(accepted.check_successor(&reset), Ok(()));
        assert!(accepted.is_reset(&reset));
        let known = [
            RevocationTarget::Ticket { serial: 10 },
            RevocationTarget::Ticket { serial: 11 },
        ];
        assert_eq!(missing_from(&known, &old_page.entries), 1);
        assert_eq!(missing_from(&known, &[rev(1, 11), rev(2, 10), rev(3, 12)]), 0);
    }

    #[test]
    fn a_revocation_export_round_trips_and_refuses_a_checkpoint_of_another_log() {
        let issuer = signer(1);
        let page = RevocationPage::build(0, GENESIS_HASH, vec![rev(1, 10), rev(2, 11)]);
        let export = RevocationExport {
            checkpoint: Some(checkpoint_of(&page, 0, 9).sign(&issuer)),
            page: page.clone(),
        };
        let bytes = export.to_bytes().unwrap();
        assert_eq!(RevocationExport::from_bytes(&bytes).unwrap(), export);
        let other = RevocationPage::build(0, GENESIS_HASH, vec![rev(1, 10)]);
        let mismatched = RevocationExport {
            checkpoint: Some(checkpoint_of(&page, 0, 9).sign(&issuer)),
            page: other,
        };
        assert!(RevocationExport::from_bytes(&mismatched.to_bytes().unwrap()).is_err());
        assert!(RevocationExport::from_bytes(b"hello\n").is_err());
    }

    #[test]
    fn a_key_set_is_accepted_only_when_signed_by_a_trusted_key_and_not_older() {
        let current = signer(1);
        let next = signer(3);
        let attacker = signer(2);
        let trust = store(&[&current]);
        let keys = |ss: &[&TicketSigner]| -> Vec<KeyInfo> {
            ss.iter()
                .map(|s| KeyInfo::from_trusted(&s.trusted_key(0, 10_000)))
                .collect()
        };
        // A rotation signed by the current key (and the new one) is accepted.
        let rotated = keys(&[&current, &next]);
        let proof = KeySetProof::sign(&rotated, 100, &[&next, &current]).unwrap();
        let adopted = proof.verify(&rotated, &trust, Some(50), 100).unwrap();
        assert!(adopted.key(next.key_id()).is_some());
        // The attacker's key set, signed by the attacker, is refused...
        let injected = keys(&[&attacker]);
        let own = KeySetProof::sign(&injected, 100, &[&attacker]).unwrap();
        assert!(matches!(
            own.verify(&injected, &trust, None, 100),
            Err(TrustError::BadSignature { .. })
        ));
        // ...and so is the issuer's signature moved onto another key set.
        let mut grafted = keys(&[&current]);
        grafted.extend(keys(&[&attacker]));
        let genuine = KeySetProof::sign(&keys(&[&current]), 100, &[&current]).unwrap();
        assert!(genuine.verify(&grafted, &trust, None, 100).is_err());
        // An older key set than the one accepted last is refused.
        assert!(matches!(
            proof.verify(&rotated, &trust, Some(150), 160),
            Err(TrustError::OlderKeySet { .. })
        ));
        // Same keys, other deployment: refused.
        let staging = TrustStore::new(dep("paris-staging")).with(current.trusted_key(0, 10_000));
        assert!(proof.verify(&rotated, &staging, None, 100).is_err());
        // First enrolment: a self-signed set is accepted, an unsigned one is not.
        assert!(proof.verify_self_signed(&rotated, &dep("paris-prod"), 100).is_ok());
        let unsigned = KeySetProof {
            issued_at: 100,
            signatures: vec![],
        };
        assert!(unsigned.verify_self_signed(&rotated, &dep("paris-prod"), 100).is_err());
    }
}
