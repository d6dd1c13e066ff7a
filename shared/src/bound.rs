//! Holder-bound tickets and the rotating code a phone shows (issue 11): screenshot-proof,
//! verified offline with public keys only.
//!
//! The issuer signs a **bound ticket**: the usual claims (with the `HOLDER_BOUND` flag) plus a
//! public key of the holder's device. The device (the phone's browser, WebCrypto ECDSA P-256, a
//! non-extractable key) signs the current time every few seconds; the phone shows bound ticket +
//! time + device signature as a QR code. A gate checks the issuer's Ed25519 signature (same trust
//! store, key ids and validity as static codes), the device's P-256 signature, and that the time
//! is within a tolerance of its own clock. A screenshot older than the tolerance is refused
//! ([`Rejection::StaleCode`]); nobody can make a fresh code without the device's private key, and
//! the gate holds no secret at all.
//!
//! Wire format (all integers big-endian; agreed in the team's `rotating-format.md`):
//!
//! ```text
//! bound ticket, 133 bytes:
//!   0  36  claims (ticket.rs layout, version 2) with flags bit 0x80 (holder-bound) set
//!  36  33  device public key, P-256 SEC1 compressed (0x02 | 0x03, X)
//!  69  64  issuer Ed25519 signature over
//!          "og-tickets bound-ticket v1\0" || len(deployment id) (1 byte) || deployment id || bytes 0..69
//!          (the deployment id is length-prefixed exactly as in static ticket signatures)
//!
//! rotating code, 201 bytes:
//!   0 133  bound ticket
//! 133   4  time: Unix seconds (the phone's clock corrected by what it learnt from the issuer),
//!          rounded down to the rotation period
//! 137  64  device signature: ECDSA P-256 / SHA-256, IEEE P1363 r || s (what WebCrypto returns), over
//!          "og-tickets rotating-code v1\0" || issuer signature (bytes 69..133) || time (4 bytes)
//!
//! QR text: "OGR:" + Base45(201 bytes) = 306 characters (QR version 10 at level M holds 311).
//! ```
//!
//! The text is canonical in the same sense as static codes: exactly one text per 201 bytes. The
//! ECDSA signature itself is malleable (`(r, s)` and `(r, n - s)` both verify; WebCrypto does not
//! normalise), so two texts can carry the same (ticket, time); nothing counts texts, though:
//! admissions are counted per serial, and a replay is a second use of the entitlement.
//!
//! Device signatures are verified with `ring` (about 51 us here, against about 220 us for the
//! RustCrypto `p256` crate); `ring` needs the uncompressed key, so the compressed one in the code
//! is decompressed with `p256` first (see BENCHMARKS.md for both costs). Making codes
//! ([`DeviceSigner`], for tests, fixtures and benchmarks) uses `p256`'s deterministic RFC 6979
//! signatures, so fixtures are reproducible and this crate still draws no randomness.

use ed25519_dalek::Signature;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use sha2::{Digest, Sha256};

use crate::UnixSeconds;
use crate::keys::{TicketSigner, TrustStore, signed_message};
use crate::qr::{Malformed, Rejection, VerifiedTicket, decode_text, parse_claims, trusted_key_for};
use crate::ticket::{CLAIMS_LEN, SIGNATURE_LEN, TAG_LEN, Tag, TicketClaims, TicketFlags};

/// Domain tag of the issuer's signature over a bound ticket.
pub const BOUND_DOMAIN: &[u8] = b"og-tickets bound-ticket v1\0";
/// Domain tag of the device's signature over the time.
pub const ROTATING_DOMAIN: &[u8] = b"og-tickets rotating-code v1\0";
/// Length of a compressed SEC1 P-256 public key.
pub const DEVICE_KEY_LEN: usize = 33;
/// Length of an uncompressed SEC1 P-256 public key (what WebCrypto's `exportKey("raw")` gives).
pub const DEVICE_KEY_UNCOMPRESSED_LEN: usize = 65;
/// Length of the part of a bound ticket the issuer signs (claims + device key).
pub const BOUND_SIGNED_LEN: usize = CLAIMS_LEN + DEVICE_KEY_LEN;
/// Length of a bound ticket.
pub const BOUND_TICKET_LEN: usize = BOUND_SIGNED_LEN + SIGNATURE_LEN;
/// Length of a rotating code's bytes.
pub const ROTATING_CODE_LEN: usize = BOUND_TICKET_LEN + 4 + SIGNATURE_LEN;
/// The prefix of a rotating code's text.
pub const ROTATING_PREFIX: &str = "OGR:";
/// Length of the Base45 part of a rotating code's text.
pub const ROTATING_BODY_LEN: usize = ROTATING_CODE_LEN / 2 * 3 + (ROTATING_CODE_LEN % 2) * 2;
/// Length of a rotating code's text (306).
pub const ROTATING_TEXT_LEN: usize = ROTATING_PREFIX.len() + ROTATING_BODY_LEN;
/// Length of the message the device signs.
pub const ROTATING_MESSAGE_LEN: usize = ROTATING_DOMAIN.len() + SIGNATURE_LEN + 4;
/// Default freshness tolerance of a gate, seconds on either side of its clock.
pub const DEFAULT_TOLERANCE: i64 = 30;
/// Default rotation period of the phone page, seconds.
pub const DEFAULT_ROTATION_PERIOD: u32 = 5;

/// A device public key (P-256), kept in SEC1 compressed form as it travels in a bound ticket.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceKey([u8; DEVICE_KEY_LEN]);

/// A device key that is not a P-256 point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a P-256 public key (SEC1, 33 bytes compressed or 65 bytes uncompressed)")]
pub struct InvalidDeviceKey;

impl DeviceKey {
    /// Parses and validates a SEC1 public key, compressed (33 bytes) or uncompressed (65 bytes,
    /// WebCrypto's raw export): it must be a point of the curve. The issuer calls this on what a
    /// phone sends before signing a binding.
    pub fn from_sec1(bytes: &[u8]) -> Result<DeviceKey, InvalidDeviceKey> {
        if bytes.len() != DEVICE_KEY_LEN && bytes.len() != DEVICE_KEY_UNCOMPRESSED_LEN {
            return Err(InvalidDeviceKey);
        }
        let key = p256::PublicKey::from_sec1_bytes(bytes).map_err(|_| InvalidDeviceKey)?;
        let mut out = [0u8; DEVICE_KEY_LEN];
        out.copy_from_slice(key.to_encoded_point(true).as_bytes());
        Ok(DeviceKey(out))
    }

    /// The 33 compressed bytes.
    pub fn as_bytes(&self) -> &[u8; DEVICE_KEY_LEN] {
        &self.0
    }

    /// The key's tag: the first 6 bytes of SHA-256 of the compressed key (what a `device_key`
    /// revocation names).
    pub fn tag(&self) -> Tag {
        Tag::of_device_key(&self.0)
    }

    /// The 65-byte uncompressed form `ring` verifies with. Costs a field square root.
    pub fn decompress(&self) -> Result<[u8; DEVICE_KEY_UNCOMPRESSED_LEN], InvalidDeviceKey> {
        decompress(&self.0).ok_or(InvalidDeviceKey)
    }
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceKey({})", hex::encode(self.0))
    }
}

fn decompress(compressed: &[u8; DEVICE_KEY_LEN]) -> Option<[u8; DEVICE_KEY_UNCOMPRESSED_LEN]> {
    if !matches!(compressed[0], 0x02 | 0x03) {
        return None;
    }
    let key = p256::PublicKey::from_sec1_bytes(compressed).ok()?;
    let mut out = [0u8; DEVICE_KEY_UNCOMPRESSED_LEN];
    out.copy_from_slice(key.to_encoded_point(false).as_bytes());
    Some(out)
}

impl Tag {
    /// The tag of a device public key: SHA-256 of its 33 compressed bytes, truncated.
    pub fn of_device_key(compressed: &[u8; DEVICE_KEY_LEN]) -> Tag {
        let d = Sha256::digest(compressed);
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(&d[..TAG_LEN]);
        Tag(out)
    }
}

/// A ticket the issuer bound to one device key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundTicket {
    /// The claims; their flags always carry [`TicketFlags::HOLDER_BOUND`].
    pub claims: TicketClaims,
    pub device_key: DeviceKey,
    pub issuer_signature: [u8; SIGNATURE_LEN],
}

impl BoundTicket {
    /// The 133 wire bytes.
    pub fn to_bytes(&self) -> [u8; BOUND_TICKET_LEN] {
        let mut b = [0u8; BOUND_TICKET_LEN];
        b[..BOUND_SIGNED_LEN].copy_from_slice(&self.signed_bytes());
        b[BOUND_SIGNED_LEN..].copy_from_slice(&self.issuer_signature);
        b
    }

    /// The 69 bytes the issuer signs: claims (with the holder-bound flag) and the device key.
    pub fn signed_bytes(&self) -> [u8; BOUND_SIGNED_LEN] {
        let mut claims = self.claims;
        claims.flags.0 |= TicketFlags::HOLDER_BOUND;
        let mut b = [0u8; BOUND_SIGNED_LEN];
        b[..CLAIMS_LEN].copy_from_slice(&claims.to_bytes());
        b[CLAIMS_LEN..].copy_from_slice(&self.device_key.0);
        b
    }

    /// Parses the 133 bytes without checking any signature. Refuses every byte string
    /// [`Self::to_bytes`] cannot produce (claims without the holder-bound flag, a key that does
    /// not start with 0x02 or 0x03). Whether the key is a curve point is checked when a code is
    /// verified (it costs a square root).
    pub fn from_bytes(b: &[u8; BOUND_TICKET_LEN]) -> Result<BoundTicket, Rejection> {
        let mut raw = [0u8; CLAIMS_LEN];
        raw.copy_from_slice(&b[..CLAIMS_LEN]);
        if raw[0] == crate::ticket::FORMAT_VERSION && raw[CLAIMS_LEN - 1] & TicketFlags::HOLDER_BOUND == 0 {
            return Err(Malformed::NotHolderBound.into());
        }
        raw[CLAIMS_LEN - 1] &= !TicketFlags::HOLDER_BOUND;
        let mut claims = parse_claims(&raw)?;
        claims.flags.0 |= TicketFlags::HOLDER_BOUND;
        let mut key = [0u8; DEVICE_KEY_LEN];
        key.copy_from_slice(&b[CLAIMS_LEN..BOUND_SIGNED_LEN]);
        if !matches!(key[0], 0x02 | 0x03) {
            return Err(Malformed::BadDeviceKey.into());
        }
        let mut issuer_signature = [0u8; SIGNATURE_LEN];
        issuer_signature.copy_from_slice(&b[BOUND_SIGNED_LEN..]);
        Ok(BoundTicket {
            claims,
            device_key: DeviceKey(key),
            issuer_signature,
        })
    }

    /// Base64url (no padding) of the 133 bytes: how the issuer hands a bound ticket to a phone.
    pub fn to_base64url(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.to_bytes())
    }

    /// Parses [`Self::to_base64url`] (structure only, like [`Self::from_bytes`]).
    pub fn from_base64url(s: &str) -> Result<BoundTicket, Rejection> {
        use base64::Engine as _;
        let v = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| Malformed::BadEncoding)?;
        let b: [u8; BOUND_TICKET_LEN] = v.try_into().map_err(|_| Malformed::WrongLength)?;
        BoundTicket::from_bytes(&b)
    }

    /// Checks the issuer's signature: key known, trusted at `now`, signature over this
    /// deployment's bound-ticket message.
    pub fn verify_issuer(&self, trust: &TrustStore, now: UnixSeconds) -> Result<(), Rejection> {
        let key = trusted_key_for(trust, &self.claims, now)?;
        let msg = signed_message(BOUND_DOMAIN, trust.deployment(), &self.signed_bytes());
        key.key
            .verify_strict(&msg, &Signature::from_bytes(&self.issuer_signature))
            .map_err(|_| Rejection::BadSignature)
    }

    /// The tag of the device key this ticket is bound to.
    pub fn holder_key_tag(&self) -> Tag {
        self.device_key.tag()
    }
}

impl TicketSigner {
    /// Signs a bound ticket (issuer side): the claims' key id is set to this signer's and the
    /// holder-bound flag is set. `device_key` comes from [`DeviceKey::from_sec1`].
    pub fn sign_bound_ticket(&self, claims: &TicketClaims, device_key: &DeviceKey) -> BoundTicket {
        let mut claims = *claims;
        claims.key_id = self.key_id();
        claims.flags.0 |= TicketFlags::HOLDER_BOUND;
        let mut t = BoundTicket {
            claims,
            device_key: *device_key,
            issuer_signature: [0; SIGNATURE_LEN],
        };
        t.issuer_signature = self.sign_in_domain(BOUND_DOMAIN, &t.signed_bytes());
        t
    }
}

/// The exact bytes a device signs for `time`: the domain tag, the bound ticket's issuer
/// signature and the time (4 bytes, big-endian). The phone page builds the same 96 bytes.
pub fn rotating_message(issuer_signature: &[u8; SIGNATURE_LEN], time: u32) -> [u8; ROTATING_MESSAGE_LEN] {
    let mut m = [0u8; ROTATING_MESSAGE_LEN];
    let d = ROTATING_DOMAIN.len();
    m[..d].copy_from_slice(ROTATING_DOMAIN);
    m[d..d + SIGNATURE_LEN].copy_from_slice(issuer_signature);
    m[d + SIGNATURE_LEN..].copy_from_slice(&time.to_be_bytes());
    m
}

/// A rotating code as the phone shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotatingCode {
    pub bound: BoundTicket,
    /// Unix seconds, rounded down to the phone's rotation period.
    pub time: u32,
    /// ECDSA P-256 r || s over [`rotating_message`].
    pub device_signature: [u8; SIGNATURE_LEN],
}

impl RotatingCode {
    /// The 201 wire bytes.
    pub fn to_bytes(&self) -> [u8; ROTATING_CODE_LEN] {
        let mut b = [0u8; ROTATING_CODE_LEN];
        b[..BOUND_TICKET_LEN].copy_from_slice(&self.bound.to_bytes());
        b[BOUND_TICKET_LEN..BOUND_TICKET_LEN + 4].copy_from_slice(&self.time.to_be_bytes());
        b[BOUND_TICKET_LEN + 4..].copy_from_slice(&self.device_signature);
        b
    }

    /// Parses the 201 bytes (structure only).
    pub fn from_bytes(b: &[u8; ROTATING_CODE_LEN]) -> Result<RotatingCode, Rejection> {
        let mut bound = [0u8; BOUND_TICKET_LEN];
        bound.copy_from_slice(&b[..BOUND_TICKET_LEN]);
        let bound = BoundTicket::from_bytes(&bound)?;
        let t = &b[BOUND_TICKET_LEN..BOUND_TICKET_LEN + 4];
        let mut device_signature = [0u8; SIGNATURE_LEN];
        device_signature.copy_from_slice(&b[BOUND_TICKET_LEN + 4..]);
        Ok(RotatingCode {
            bound,
            time: u32::from_be_bytes([t[0], t[1], t[2], t[3]]),
            device_signature,
        })
    }

    /// The QR text: `OGR:` + Base45, 306 characters.
    pub fn to_text(&self) -> String {
        let mut s = String::with_capacity(ROTATING_TEXT_LEN);
        s.push_str(ROTATING_PREFIX);
        s.push_str(&base45::encode(self.to_bytes()));
        s
    }

    /// Parses a rotating code's text without checking signatures or time: length cap,
    /// trailing CR/LF, prefix, Base45, canonical spelling, structure.
    pub fn parse_text(input: &[u8]) -> Result<RotatingCode, Rejection> {
        let b: [u8; ROTATING_CODE_LEN] = decode_text(input, ROTATING_PREFIX, ROTATING_BODY_LEN)?;
        RotatingCode::from_bytes(&b)
    }
}

/// A device's P-256 signing key, as the phone holds it (there: non-extractable, in WebCrypto).
/// Here for tests, fixtures and benchmarks: signatures are deterministic (RFC 6979).
pub struct DeviceSigner(p256::ecdsa::SigningKey);

impl std::fmt::Debug for DeviceSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DeviceSigner").field(&self.public_key()).finish()
    }
}

impl DeviceSigner {
    /// A signer from a 32-byte secret scalar (a fixed seed for TEST-ONLY fixtures, or random
    /// bytes from the caller). Fails if the bytes are zero or not below the curve order.
    pub fn from_secret_bytes(secret: &[u8; 32]) -> Result<DeviceSigner, InvalidDeviceKey> {
        p256::ecdsa::SigningKey::from_slice(secret)
            .map(DeviceSigner)
            .map_err(|_| InvalidDeviceKey)
    }

    /// The public key, compressed.
    pub fn public_key(&self) -> DeviceKey {
        let mut out = [0u8; DEVICE_KEY_LEN];
        out.copy_from_slice(self.0.verifying_key().to_encoded_point(true).as_bytes());
        DeviceKey(out)
    }

    /// Signs `message` (ECDSA P-256 with SHA-256, r || s): what WebCrypto's `sign` returns.
    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        use p256::ecdsa::signature::Signer as _;
        let sig: p256::ecdsa::Signature = self.0.sign(message);
        let mut out = [0u8; SIGNATURE_LEN];
        out.copy_from_slice(&sig.to_bytes());
        out
    }

    /// Makes the rotating code of `bound` at `now` with the given rotation period (time rounded
    /// down to it; a period of 0 counts as 1). The bound ticket should be bound to this key;
    /// nothing stops making a code with another (tests of a wrong device key do exactly that).
    pub fn rotating_code(&self, bound: &BoundTicket, now: UnixSeconds, period: u32) -> RotatingCode {
        let now = u32::try_from(now.max(0)).unwrap_or(u32::MAX);
        let time = now - now % period.max(1);
        RotatingCode {
            bound: *bound,
            time,
            device_signature: self.sign(&rotating_message(&bound.issuer_signature, time)),
        }
    }
}

/// Turns untrusted scanner input into a verified ticket when it is a genuine, fresh rotating
/// code, or a rejection.
///
/// Checks, in order: structure (as [`RotatingCode::parse_text`]); the issuer's signature over the
/// binding (same trust store, key ids and key validity as static codes); the device key is a
/// P-256 point; the device's signature over the time; freshness: `|time - now| <= tolerance`
/// ([`Rejection::StaleCode`] for a code too old, [`Rejection::CodeFromFuture`] too new). The
/// ticket's own validity window, revocations (including `device_key`) and counting are the
/// gate's decision, as for static codes.
pub fn verify_rotating_qr_text(
    input: &[u8],
    trust: &TrustStore,
    now: UnixSeconds,
    tolerance: i64,
) -> Result<VerifiedTicket, Rejection> {
    let code = RotatingCode::parse_text(input)?;
    code.bound.verify_issuer(trust, now)?;
    let uncompressed = decompress(&code.bound.device_key.0).ok_or(Malformed::BadDeviceKey)?;
    let msg = rotating_message(&code.bound.issuer_signature, code.time);
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &uncompressed[..])
        .verify(&msg, &code.device_signature)
        .map_err(|_| Rejection::BadDeviceSignature)?;
    let age = now - i64::from(code.time);
    if age > tolerance {
        return Err(Rejection::StaleCode { age });
    }
    if -age > tolerance {
        return Err(Rejection::CodeFromFuture { ahead: -age });
    }
    Ok(VerifiedTicket {
        claims: code.bound.claims,
        holder_key_tag: Some(code.bound.holder_key_tag()),
    })
}

/// The one entry point for a gate: a rotating code (`OGR:`) goes to
/// [`verify_rotating_qr_text`] with `tolerance`, anything else to [`crate::verify_qr_text`].
pub fn verify_code_text(
    input: &[u8],
    trust: &TrustStore,
    now: UnixSeconds,
    tolerance: i64,
) -> Result<VerifiedTicket, Rejection> {
    if input.starts_with(ROTATING_PREFIX.as_bytes()) {
        verify_rotating_qr_text(input, trust, now, tolerance)
    } else {
        crate::qr::verify_qr_text(input, trust, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{DeploymentId, KeyId};
    use crate::ticket::{Offer, Zones};

    const NOW: i64 = 1_750_000_000;

    fn signer() -> TicketSigner {
        TicketSigner::from_secret_bytes(&[42; 32], DeploymentId::parse("unit-test").unwrap())
    }

    fn trust(s: &TicketSigner) -> TrustStore {
        TrustStore::new(s.deployment().clone()).with(s.trusted_key(NOW - 1000, NOW + 1000))
    }

    fn device() -> DeviceSigner {
        DeviceSigner::from_secret_bytes(&[7; 32]).unwrap()
    }

    fn claims() -> TicketClaims {
        TicketClaims {
            key_id: KeyId(0),
            event_id: 12,
            serial: 99,
            generation: 0,
            offer: Offer::Duo,
            admits: 2,
            purchase_tag: Tag::of_purchase_key(&[5; 32]),
            account_tag: Tag::of_account_key(&[6; 32]),
            valid_from: (NOW - 10) as u32,
            valid_until: (NOW + 10) as u32,
            zones: Zones::ALL,
            flags: TicketFlags(TicketFlags::REENTRY),
        }
    }

    fn bound() -> BoundTicket {
        signer().sign_bound_ticket(&claims(), &device().public_key())
    }

    fn text_at(t: UnixSeconds) -> String {
        device().rotating_code(&bound(), t, DEFAULT_ROTATION_PERIOD).to_text()
    }

    #[test]
    fn a_fresh_rotating_code_verifies_and_names_its_device_key() {
        let text = text_at(NOW);
        assert_eq!(text.len(), ROTATING_TEXT_LEN);
        assert_eq!(ROTATING_TEXT_LEN, 306);
        let v = verify_rotating_qr_text(text.as_bytes(), &trust(&signer()), NOW, 30).unwrap();
        assert_eq!(v.claims.serial, 99);
        assert!(v.claims.flags.holder_bound() && v.claims.flags.reentry());
        assert_eq!(v.holder_key_tag, Some(device().public_key().tag()));
        assert!(v.is_rotating());
    }

    #[test]
    fn the_time_is_rounded_down_to_the_rotation_period() {
        let c = device().rotating_code(&bound(), NOW + 7, 5);
        assert_eq!(i64::from(c.time), NOW + 5);
    }

    #[test]
    fn a_code_exactly_at_the_tolerance_passes_and_one_second_more_is_a_picture() {
        let t = trust(&signer());
        let text = text_at(NOW);
        assert!(verify_rotating_qr_text(text.as_bytes(), &t, NOW + 30, 30).is_ok());
        assert_eq!(
            verify_rotating_qr_text(text.as_bytes(), &t, NOW + 31, 30),
            Err(Rejection::StaleCode { age: 31 })
        );
        assert!(verify_rotating_qr_text(text.as_bytes(), &t, NOW - 30, 30).is_ok());
        assert_eq!(
            verify_rotating_qr_text(text.as_bytes(), &t, NOW - 31, 30),
            Err(Rejection::CodeFromFuture { ahead: 31 })
        );
    }

    #[test]
    fn a_code_signed_by_another_phone_is_a_bad_device_signature() {
        let other = DeviceSigner::from_secret_bytes(&[8; 32]).unwrap();
        let text = other.rotating_code(&bound(), NOW, 5).to_text();
        assert_eq!(
            verify_rotating_qr_text(text.as_bytes(), &trust(&signer()), NOW, 30),
            Err(Rejection::BadDeviceSignature)
        );
    }

    #[test]
    fn a_code_whose_time_was_edited_is_a_bad_device_signature_not_a_fresh_code() {
        let mut c = device().rotating_code(&bound(), NOW - 600, 5);
        c.time = NOW as u32;
        assert_eq!(
            verify_rotating_qr_text(c.to_text().as_bytes(), &trust(&signer()), NOW, 30),
            Err(Rejection::BadDeviceSignature)
        );
    }

    #[test]
    fn a_binding_to_another_key_is_a_bad_issuer_signature() {
        let mut b = bound();
        b.device_key = DeviceSigner::from_secret_bytes(&[8; 32]).unwrap().public_key();
        let other = DeviceSigner::from_secret_bytes(&[8; 32]).unwrap();
        let text = other.rotating_code(&b, NOW, 5).to_text();
        assert_eq!(
            verify_rotating_qr_text(text.as_bytes(), &trust(&signer()), NOW, 30),
            Err(Rejection::BadSignature)
        );
    }

    #[test]
    fn a_binding_signed_by_an_unknown_key_is_refused_as_unknown_key() {
        let rogue = TicketSigner::from_secret_bytes(&[1; 32], signer().deployment().clone());
        let b = rogue.sign_bound_ticket(&claims(), &device().public_key());
        let text = device().rotating_code(&b, NOW, 5).to_text();
        assert_eq!(
            verify_rotating_qr_text(text.as_bytes(), &trust(&signer()), NOW, 30),
            Err(Rejection::UnknownKey(rogue.key_id()))
        );
    }

    #[test]
    fn a_static_signature_does_not_make_a_binding_and_a_binding_does_not_make_a_static_code() {
        let s = signer();
        // The static code of the same claims: different domain, no holder-bound flag.
        let static_text = s.sign_ticket(&claims());
        let static_bytes = crate::qr::decode_ticket_bytes(static_text.as_bytes()).unwrap();
        let mut b = bound();
        b.issuer_signature.copy_from_slice(&static_bytes[CLAIMS_LEN..]);
        let text = device().rotating_code(&b, NOW, 5).to_text();
        assert_eq!(
            verify_rotating_qr_text(text.as_bytes(), &trust(&s), NOW, 30),
            Err(Rejection::BadSignature)
        );
        // The bound claims as a static code: the holder-bound bit is unknown there.
        let mut stat = [0u8; crate::ticket::TICKET_LEN];
        stat[..CLAIMS_LEN].copy_from_slice(&bound().to_bytes()[..CLAIMS_LEN]);
        let text = crate::qr::encode_ticket_bytes(&stat);
        assert!(matches!(
            crate::verify_qr_text(text.as_bytes(), &trust(&s), NOW),
            Err(Rejection::Malformed(Malformed::BadClaims(_)))
        ));
    }

    #[test]
    fn bound_claims_without_the_holder_bound_flag_are_malformed() {
        let mut bytes = bound().to_bytes();
        bytes[CLAIMS_LEN - 1] &= !TicketFlags::HOLDER_BOUND;
        assert_eq!(
            BoundTicket::from_bytes(&bytes),
            Err(Rejection::Malformed(Malformed::NotHolderBound))
        );
    }

    #[test]
    fn a_device_key_that_is_not_a_curve_point_is_refused_everywhere() {
        let mut beyond_the_field = [0xff; 33];
        beyond_the_field[0] = 0x02;
        assert_eq!(DeviceKey::from_sec1(&beyond_the_field), Err(InvalidDeviceKey));
        assert_eq!(DeviceKey::from_sec1(&[4; 65]), Err(InvalidDeviceKey));
        assert_eq!(DeviceKey::from_sec1(&[2; 10]), Err(InvalidDeviceKey));
        let mut bytes = bound().to_bytes();
        bytes[CLAIMS_LEN] = 0x04;
        assert_eq!(
            BoundTicket::from_bytes(&bytes),
            Err(Rejection::Malformed(Malformed::BadDeviceKey))
        );
    }

    #[test]
    fn webcrypto_raw_keys_are_accepted_and_compressed() {
        let k = device().public_key();
        let raw = k.decompress().unwrap();
        assert_eq!(raw[0], 0x04);
        assert_eq!(DeviceKey::from_sec1(&raw), Ok(k));
        assert_eq!(DeviceKey::from_sec1(k.as_bytes()), Ok(k));
    }

    #[test]
    fn bound_tickets_and_codes_round_trip_through_their_bytes_and_texts() {
        let b = bound();
        assert_eq!(BoundTicket::from_bytes(&b.to_bytes()), Ok(b));
        assert_eq!(BoundTicket::from_base64url(&b.to_base64url()), Ok(b));
        let c = device().rotating_code(&b, NOW, 5);
        assert_eq!(RotatingCode::from_bytes(&c.to_bytes()), Ok(c));
        assert_eq!(RotatingCode::parse_text(c.to_text().as_bytes()), Ok(c));
        let crlf = c.to_text() + "\r\n";
        assert_eq!(RotatingCode::parse_text(crlf.as_bytes()), Ok(c));
        let lower = format!("{ROTATING_PREFIX}{}", c.to_text()[4..].to_ascii_lowercase());
        assert!(RotatingCode::parse_text(lower.as_bytes()).is_err());
    }

    #[test]
    fn the_dispatcher_sends_each_code_to_its_verifier() {
        let s = signer();
        let t = trust(&s);
        let stat = verify_code_text(s.sign_ticket(&claims()).as_bytes(), &t, NOW, 30).unwrap();
        assert_eq!(stat.holder_key_tag, None);
        let rot = verify_code_text(text_at(NOW).as_bytes(), &t, NOW, 30).unwrap();
        assert!(rot.holder_key_tag.is_some());
        assert_eq!(
            verify_code_text(text_at(NOW - 60).as_bytes(), &t, NOW, 30),
            Err(Rejection::StaleCode { age: 60 })
        );
    }

    #[test]
    fn every_rotating_text_is_in_the_qr_alphanumeric_set() {
        const ALNUM: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
        let text = text_at(NOW);
        assert!(text.chars().all(|c| ALNUM.contains(c)), "{text}");
    }
}
