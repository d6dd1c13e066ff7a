//! Signing and verifying keys, key ids and the deployment id.
//!
//! * A [`TicketSigner`] holds the issuer's Ed25519 signing key. It is loaded from and saved to
//!   PKCS#8 PEM; its `Debug` never shows the secret, and nothing here prints it.
//! * A [`KeyId`] is derived from the public key, so a key file is self-describing.
//! * A [`TrustStore`] is what a gate trusts: the deployment id and the set of verifying keys,
//!   each with the period in which tickets signed by it are accepted. Several keys can be valid
//!   at once, so keys rotate without invalidating tickets already sold.
//! * The [`DeploymentId`] is mixed into every signed message, so a ticket signed by a staging
//!   issuer never verifies in production even if the same key were used by mistake.

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::Zeroizing;

use crate::UnixSeconds;

/// Identifies a signing key: the first two bytes of a SHA-256 of its public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct KeyId(pub u16);

impl KeyId {
    /// The id of a public key.
    pub fn of(public: &VerifyingKey) -> KeyId {
        let d = Sha256::new()
            .chain_update(b"og-tickets/key-id/v1")
            .chain_update(public.as_bytes())
            .finalize();
        KeyId(u16::from_be_bytes([d[0], d[1]]))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}", self.0)
    }
}

/// Names one deployment of og-tickets (for example `paris2024-prod`). Part of every signed
/// message. 1 to 64 bytes of `[a-z0-9._-]`.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeploymentId(String);

/// A deployment id that does not follow the rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a deployment id is 1 to 64 characters of a-z, 0-9, '.', '_' or '-'")]
pub struct InvalidDeploymentId;

impl DeploymentId {
    pub fn parse(s: &str) -> Result<DeploymentId, InvalidDeploymentId> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if ok {
            Ok(DeploymentId(s.to_owned()))
        } else {
            Err(InvalidDeploymentId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DeploymentId {
    type Error = InvalidDeploymentId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        DeploymentId::parse(&s)
    }
}

impl From<DeploymentId> for String {
    fn from(d: DeploymentId) -> String {
        d.0
    }
}

impl fmt::Debug for DeploymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeploymentId({:?})", self.0)
    }
}

impl fmt::Display for DeploymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Builds the exact bytes that are signed: a fixed domain tag, the deployment id
/// (length-prefixed) and the payload.
pub(crate) fn signed_message(domain: &[u8], deployment: &DeploymentId, payload: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(domain.len() + 1 + deployment.0.len() + payload.len());
    m.extend_from_slice(domain);
    m.push(deployment.0.len() as u8);
    m.extend_from_slice(deployment.0.as_bytes());
    m.extend_from_slice(payload);
    m
}

/// Domain tag for ticket signatures.
pub(crate) const TICKET_DOMAIN: &[u8] = b"og-tickets/ticket/v1\0";
/// Domain tag for offline gate bundles and other signed documents.
pub(crate) const DOCUMENT_DOMAIN: &[u8] = b"og-tickets/document/v1\0";
/// Domain tag for revocation checkpoints (`sync::SignedCheckpoint`).
pub(crate) const CHECKPOINT_DOMAIN: &[u8] = b"og-tickets/revocation-checkpoint/v1\0";
/// Domain tag for the key set published to gates (`sync::KeySetProof`).
pub(crate) const KEY_SET_DOMAIN: &[u8] = b"og-tickets/key-set/v1\0";

/// A key file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("not a PKCS#8 PEM Ed25519 private key")]
    NotPkcs8Ed25519,
    #[error("the key could not be encoded as PKCS#8 PEM")]
    Encode,
    #[error("a public key is 32 bytes of base64url")]
    BadPublicKey,
}

/// The issuer's ticket-signing key together with the deployment it signs for.
///
/// Its `Debug` shows only the key id; the secret is zeroised on drop.
pub struct TicketSigner {
    key: SigningKey,
    id: KeyId,
    deployment: DeploymentId,
}

impl fmt::Debug for TicketSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketSigner")
            .field("key_id", &self.id)
            .field("deployment", &self.deployment)
            .finish_non_exhaustive()
    }
}

impl TicketSigner {
    /// A signer from 32 secret bytes (from a CSPRNG, or a fixed seed for test fixtures).
    pub fn from_secret_bytes(secret: &[u8; 32], deployment: DeploymentId) -> TicketSigner {
        let key = SigningKey::from_bytes(secret);
        let id = KeyId::of(&key.verifying_key());
        TicketSigner { key, id, deployment }
    }

    /// Loads a PKCS#8 PEM private key.
    pub fn from_pkcs8_pem(pem: &str, deployment: DeploymentId) -> Result<TicketSigner, KeyError> {
        let key = SigningKey::from_pkcs8_pem(pem).map_err(|_| KeyError::NotPkcs8Ed25519)?;
        let id = KeyId::of(&key.verifying_key());
        Ok(TicketSigner { key, id, deployment })
    }

    /// The private key as PKCS#8 PEM, to be written to a 0600 file and nowhere else.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        self.key
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .map_err(|_| KeyError::Encode)
    }

    pub fn key_id(&self) -> KeyId {
        self.id
    }

    pub fn deployment(&self) -> &DeploymentId {
        &self.deployment
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The public half, trusted for the given period.
    pub fn trusted_key(&self, valid_from: UnixSeconds, valid_until: UnixSeconds) -> TrustedKey {
        TrustedKey {
            id: self.id,
            key: self.key.verifying_key(),
            valid_from,
            valid_until,
        }
    }

    /// Signs ticket claims. The claims' key id must be this signer's; it is set here.
    pub(crate) fn sign_ticket_payload(&self, payload: &[u8]) -> Signature {
        self.key.sign(&signed_message(TICKET_DOMAIN, &self.deployment, payload))
    }

    /// Signs an arbitrary document (an offline bundle, say) under the document domain.
    pub fn sign_document(&self, body: &[u8]) -> [u8; 64] {
        self.sign_in_domain(DOCUMENT_DOMAIN, body)
    }

    /// Signs `payload` under one of the crate's domain tags (checkpoints, key sets).
    pub(crate) fn sign_in_domain(&self, domain: &[u8], payload: &[u8]) -> [u8; 64] {
        self.key
            .sign(&signed_message(domain, &self.deployment, payload))
            .to_bytes()
    }
}

/// A verifying key a gate trusts, and the period in which tickets under it are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedKey {
    pub id: KeyId,
    pub key: VerifyingKey,
    pub valid_from: UnixSeconds,
    pub valid_until: UnixSeconds,
}

impl TrustedKey {
    /// Whether tickets under this key are accepted at `now`.
    pub fn is_valid_at(&self, now: UnixSeconds) -> bool {
        self.valid_from <= now && now <= self.valid_until
    }

    /// The public key as base64url without padding (as used in JSON).
    pub fn public_key_b64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.key.as_bytes())
    }

    /// Parses a base64url public key; the key id is derived, never taken on trust.
    pub fn from_b64(b64: &str, valid_from: UnixSeconds, valid_until: UnixSeconds) -> Result<TrustedKey, KeyError> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b64)
            .map_err(|_| KeyError::BadPublicKey)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::BadPublicKey)?;
        let key = VerifyingKey::from_bytes(&arr).map_err(|_| KeyError::BadPublicKey)?;
        Ok(TrustedKey {
            id: KeyId::of(&key),
            key,
            valid_from,
            valid_until,
        })
    }
}

/// Everything a gate needs to verify tickets offline: which deployment, which keys, when.
#[derive(Debug, Clone)]
pub struct TrustStore {
    deployment: DeploymentId,
    keys: Vec<TrustedKey>,
}

impl TrustStore {
    pub fn new(deployment: DeploymentId) -> TrustStore {
        TrustStore {
            deployment,
            keys: Vec::new(),
        }
    }

    /// Adds a key, replacing an earlier entry with the same id and public key (a changed
    /// validity period). Returns false, adding nothing, if a *different* key has the same id.
    pub fn add(&mut self, key: TrustedKey) -> bool {
        match self.keys.iter_mut().find(|k| k.id == key.id) {
            Some(existing) if existing.key == key.key => {
                *existing = key;
                true
            }
            Some(_) => false,
            None => {
                self.keys.push(key);
                true
            }
        }
    }

    pub fn with(mut self, key: TrustedKey) -> TrustStore {
        self.add(key);
        self
    }

    pub fn deployment(&self) -> &DeploymentId {
        &self.deployment
    }

    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    pub fn key(&self, id: KeyId) -> Option<&TrustedKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    /// Verifies a signed document (see [`TicketSigner::sign_document`]) against any key of
    /// this store that is valid at `now`. Returns the key id that signed it.
    pub fn verify_document(&self, body: &[u8], signature: &[u8; 64], now: UnixSeconds) -> Option<KeyId> {
        let msg = signed_message(DOCUMENT_DOMAIN, &self.deployment, body);
        let sig = Signature::from_bytes(signature);
        self.keys
            .iter()
            .filter(|k| k.is_valid_at(now))
            .find(|k| k.key.verify_strict(&msg, &sig).is_ok())
            .map(|k| k.id)
    }

    /// Whether `signature` over `payload` under `domain` is by the key `id` of this store,
    /// valid at `now`, for this store's deployment.
    pub(crate) fn verify_in_domain(
        &self,
        domain: &[u8],
        payload: &[u8],
        id: KeyId,
        signature: &[u8; 64],
        now: UnixSeconds,
    ) -> bool {
        let Some(k) = self.key(id).filter(|k| k.is_valid_at(now)) else {
            return false;
        };
        let msg = signed_message(domain, &self.deployment, payload);
        k.key.verify_strict(&msg, &Signature::from_bytes(signature)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep() -> DeploymentId {
        DeploymentId::parse("unit-test").unwrap()
    }

    #[test]
    fn a_signer_survives_a_round_trip_through_pkcs8_pem() {
        let s = TicketSigner::from_secret_bytes(&[7; 32], dep());
        let pem = s.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let back = TicketSigner::from_pkcs8_pem(&pem, dep()).unwrap();
        assert_eq!(back.verifying_key(), s.verifying_key());
        assert_eq!(back.key_id(), s.key_id());
    }

    #[test]
    fn debug_output_of_a_signer_never_contains_the_secret() {
        let secret = [0xAB; 32];
        let s = TicketSigner::from_secret_bytes(&secret, dep());
        let dbg = format!("{s:?}");
        assert!(!dbg.to_lowercase().contains(&hex::encode(secret)));
        assert!(!dbg.contains("171, 171"), "{dbg}");
        assert!(dbg.contains("key_id"));
    }

    #[test]
    fn garbage_is_not_accepted_as_a_key_file() {
        assert_eq!(
            TicketSigner::from_pkcs8_pem("hello", dep()).unwrap_err(),
            KeyError::NotPkcs8Ed25519
        );
    }

    #[test]
    fn deployment_ids_refuse_uppercase_spaces_and_empty_strings() {
        assert!(DeploymentId::parse("paris2024-prod").is_ok());
        for bad in ["", "Paris", "a b", &"x".repeat(65)] {
            assert!(DeploymentId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_document_verifies_only_in_its_own_deployment() {
        let s = TicketSigner::from_secret_bytes(&[3; 32], dep());
        let sig = s.sign_document(b"bundle");
        let store = TrustStore::new(dep()).with(s.trusted_key(0, 100));
        assert_eq!(store.verify_document(b"bundle", &sig, 50), Some(s.key_id()));
        assert_eq!(store.verify_document(b"bundlE", &sig, 50), None);
        let other = TrustStore::new(DeploymentId::parse("staging").unwrap()).with(s.trusted_key(0, 100));
        assert_eq!(other.verify_document(b"bundle", &sig, 50), None);
    }

    #[test]
    fn a_trusted_key_round_trips_through_base64url() {
        let s = TicketSigner::from_secret_bytes(&[4; 32], dep());
        let k = s.trusted_key(1, 2);
        assert_eq!(TrustedKey::from_b64(&k.public_key_b64(), 1, 2).unwrap(), k);
        assert!(TrustedKey::from_b64("AAAA", 1, 2).is_err());
    }
}
