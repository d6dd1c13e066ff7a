//! The QR text of a ticket, and the single function that trusts one.
//!
//! Text form: `OG2:` followed by the Base45 (RFC 9285) encoding of the 100-byte signed ticket:
//! 154 characters, all in the QR alphanumeric set, so a ticket fits QR version 6 at
//! error-correction level M (capacity 154, exactly). A version-1 code (`OG1:`) is refused as
//! [`Rejection::UnsupportedVersion`]. See BENCHMARKS.md for the measured comparison with
//! base64url (version 8).
//!
//! [`verify_qr_text`] takes untrusted bytes from a camera or a keyboard-wedge scanner and returns
//! a [`VerifiedTicket`] or a typed [`Rejection`]. It never panics and never allocates more than a
//! small fixed amount: the input length is capped before any decoding. The text is canonical:
//! exactly one text is accepted per ticket, because after decoding the bytes are re-encoded and
//! must match the input character for character (so lower case, padding or another encoding of
//! the same bytes is refused).

use ed25519_dalek::Signature;

use crate::UnixSeconds;
use crate::keys::{KeyId, TICKET_DOMAIN, TicketSigner, TrustStore, signed_message};
use crate::ticket::{CLAIMS_LEN, ClaimsError, SIGNATURE_LEN, TICKET_LEN, Tag, TicketClaims};

/// The prefix naming the format and its version.
pub const PREFIX: &str = "OG2:";
/// Length of the Base45 part.
pub const BODY_LEN: usize = TICKET_LEN / 2 * 3 + (TICKET_LEN % 2) * 2;
/// Length of a whole ticket text.
pub const TEXT_LEN: usize = PREFIX.len() + BODY_LEN;
/// Inputs longer than this (before trimming) are refused without being decoded.
pub const MAX_INPUT_LEN: usize = 512;

/// A ticket whose signature checked out under a key trusted at the time of the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedTicket {
    pub claims: TicketClaims,
    /// For a rotating code (`OGR:`, see [`crate::bound`]): the tag of the device key the ticket
    /// is bound to, whose fresh signature was checked (what a `device_key` revocation names).
    /// None for a static code (`OG2:`, a picture or a print).
    pub holder_key_tag: Option<Tag>,
}

impl VerifiedTicket {
    /// A verified static code (no holder binding).
    pub fn static_code(claims: TicketClaims) -> VerifiedTicket {
        VerifiedTicket {
            claims,
            holder_key_tag: None,
        }
    }

    /// Whether this was a live rotating code from the holder's phone.
    pub fn is_rotating(&self) -> bool {
        self.holder_key_tag.is_some()
    }
}

/// Why some input is not structurally a ticket of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Malformed {
    #[error("empty input")]
    Empty,
    #[error("input longer than {MAX_INPUT_LEN} bytes")]
    TooLong,
    #[error("not an og-tickets code")]
    NotOurs,
    #[error("wrong length for an og-tickets code")]
    WrongLength,
    #[error("characters outside the ticket alphabet")]
    BadEncoding,
    #[error("not the canonical encoding of a ticket")]
    NonCanonical,
    #[error("invalid ticket fields: {0}")]
    BadClaims(ClaimsError),
    #[error("a rotating code whose ticket is not marked holder-bound")]
    NotHolderBound,
    #[error("the device key is not a compressed P-256 point")]
    BadDeviceKey,
}

/// Why a code was not accepted as a genuine ticket. Rejections are normal results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    #[error("not a ticket: {0}")]
    Malformed(Malformed),
    #[error("ticket format version {0} is not supported by this device")]
    UnsupportedVersion(u16),
    #[error("signed with unknown key {0}")]
    UnknownKey(KeyId),
    #[error("signing key {0} is not valid at this time")]
    KeyNotValidAt(KeyId),
    #[error("signature does not match")]
    BadSignature,
    /// A rotating code whose device signature does not verify under the key its ticket is
    /// bound to (forged, or made by another phone).
    #[error("the phone's signature does not match the ticket's device key")]
    BadDeviceSignature,
    /// A genuine rotating code older than the tolerance: a screenshot or a photo.
    #[error("rotating code is {age} s old: a picture, not the live code")]
    StaleCode { age: i64 },
    /// A genuine rotating code from further in the future than the tolerance: the phone's clock
    /// (or the gate's) is wrong.
    #[error("rotating code is {ahead} s in the future: a clock is wrong")]
    CodeFromFuture { ahead: i64 },
}

impl Rejection {
    /// A stable snake_case code for JSON output and reports.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Malformed(_) => "malformed",
            Rejection::UnsupportedVersion(_) => "unsupported_version",
            Rejection::UnknownKey(_) => "unknown_key",
            Rejection::KeyNotValidAt(_) => "key_not_valid",
            Rejection::BadSignature => "bad_signature",
            Rejection::BadDeviceSignature => "bad_device_signature",
            Rejection::StaleCode { .. } => "stale_code",
            Rejection::CodeFromFuture { .. } => "code_from_future",
        }
    }
}

impl From<Malformed> for Rejection {
    fn from(m: Malformed) -> Rejection {
        Rejection::Malformed(m)
    }
}

impl TicketSigner {
    /// Signs the claims (their key id is set to this signer's) and returns the QR text.
    pub fn sign_ticket(&self, claims: &TicketClaims) -> String {
        let mut claims = *claims;
        claims.key_id = self.key_id();
        let payload = claims.to_bytes();
        let sig = self.sign_ticket_payload(&payload);
        let mut bytes = [0u8; TICKET_LEN];
        bytes[..CLAIMS_LEN].copy_from_slice(&payload);
        bytes[CLAIMS_LEN..].copy_from_slice(&sig.to_bytes());
        encode_ticket_bytes(&bytes)
    }
}

/// Encodes 100 signed-ticket bytes as QR text. Exposed for fixtures and tests.
pub fn encode_ticket_bytes(bytes: &[u8; TICKET_LEN]) -> String {
    let mut s = String::with_capacity(TEXT_LEN);
    s.push_str(PREFIX);
    s.push_str(&base45::encode(bytes));
    s
}

/// Decodes QR text to the 100 signed-ticket bytes without checking the signature: the
/// structural half of [`verify_qr_text`]. Useful to tools that inspect a code.
pub fn decode_ticket_bytes(input: &[u8]) -> Result<[u8; TICKET_LEN], Rejection> {
    decode_text(input, PREFIX, BODY_LEN)
}

/// The structural decoding shared by every og-tickets text: length cap, trailing CR/LF,
/// prefix, exact length, Base45, canonical re-encoding. `body_len` is the Base45 length of `N`
/// bytes. Another `OG<n>:` prefix is [`Rejection::UnsupportedVersion`].
pub(crate) fn decode_text<const N: usize>(input: &[u8], prefix: &str, body_len: usize) -> Result<[u8; N], Rejection> {
    if input.len() > MAX_INPUT_LEN {
        return Err(Malformed::TooLong.into());
    }
    let mut end = input.len();
    while end > 0 && matches!(input[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    let input = &input[..end];
    if input.is_empty() {
        return Err(Malformed::Empty.into());
    }
    let body = match input.strip_prefix(prefix.as_bytes()) {
        Some(body) => body,
        None => return Err(other_version(input).map_or(Malformed::NotOurs.into(), Rejection::UnsupportedVersion)),
    };
    if body.len() != body_len {
        return Err(Malformed::WrongLength.into());
    }
    // The body is ASCII-only if it is valid; anything else is refused before decoding.
    let body = std::str::from_utf8(body).map_err(|_| Malformed::BadEncoding)?;
    let decoded = base45::decode(body).map_err(|_| Malformed::BadEncoding)?;
    let bytes: [u8; N] = decoded.try_into().map_err(|_| Malformed::WrongLength)?;
    if base45::encode(bytes) != body {
        return Err(Malformed::NonCanonical.into());
    }
    Ok(bytes)
}

/// `OG<n>:` with another version number: a code of ours this build cannot read.
fn other_version(input: &[u8]) -> Option<u16> {
    let rest = input.strip_prefix(b"OG")?;
    let colon = rest.iter().take(6).position(|&b| b == b':')?;
    let digits = &rest[..colon];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Turns untrusted scanner input into a verified ticket or a rejection.
///
/// Trailing CR/LF is ignored. `now` is the verifier's clock, used to decide whether the signing
/// key is trusted at this time; the ticket's own validity window is left to the gate policy.
pub fn verify_qr_text(input: &[u8], trust: &TrustStore, now: UnixSeconds) -> Result<VerifiedTicket, Rejection> {
    let bytes = decode_ticket_bytes(input)?;
    let mut payload = [0u8; CLAIMS_LEN];
    payload.copy_from_slice(&bytes[..CLAIMS_LEN]);
    let claims = parse_claims(&payload)?;
    let key = trusted_key_for(trust, &claims, now)?;
    let mut sig = [0u8; SIGNATURE_LEN];
    sig.copy_from_slice(&bytes[CLAIMS_LEN..]);
    let msg = signed_message(TICKET_DOMAIN, trust.deployment(), &payload);
    key.key
        .verify_strict(&msg, &Signature::from_bytes(&sig))
        .map_err(|_| Rejection::BadSignature)?;
    Ok(VerifiedTicket::static_code(claims))
}

/// Parses claims, mapping a wrong version to [`Rejection::UnsupportedVersion`].
pub(crate) fn parse_claims(payload: &[u8; CLAIMS_LEN]) -> Result<TicketClaims, Rejection> {
    TicketClaims::from_bytes(payload).map_err(|e| match e {
        ClaimsError::UnsupportedVersion(v) => Rejection::UnsupportedVersion(v.into()),
        other => Rejection::Malformed(Malformed::BadClaims(other)),
    })
}

/// The trusted key named by the claims, if it is trusted at `now`.
pub(crate) fn trusted_key_for<'a>(
    trust: &'a TrustStore,
    claims: &TicketClaims,
    now: UnixSeconds,
) -> Result<&'a crate::keys::TrustedKey, Rejection> {
    let key = trust.key(claims.key_id).ok_or(Rejection::UnknownKey(claims.key_id))?;
    if !key.is_valid_at(now) {
        return Err(Rejection::KeyNotValidAt(claims.key_id));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::DeploymentId;
    use crate::ticket::{Offer, Tag, TicketFlags, Zones};

    const NOW: i64 = 1_750_000_000;

    fn signer() -> TicketSigner {
        TicketSigner::from_secret_bytes(&[42; 32], DeploymentId::parse("unit-test").unwrap())
    }

    fn trust(s: &TicketSigner) -> TrustStore {
        TrustStore::new(s.deployment().clone()).with(s.trusted_key(NOW - 1000, NOW + 1000))
    }

    fn claims(offer: Offer) -> TicketClaims {
        TicketClaims {
            key_id: KeyId(0),
            event_id: 12,
            serial: 99,
            generation: 0,
            offer,
            admits: offer.admits(),
            purchase_tag: Tag::of_purchase_key(&[5; 32]),
            account_tag: Tag::of_account_key(&[6; 32]),
            valid_from: (NOW - 10) as u32,
            valid_until: (NOW + 10) as u32,
            zones: Zones::ALL,
            flags: TicketFlags::default(),
        }
    }

    #[test]
    fn a_signed_ticket_verifies_and_gives_back_its_claims() {
        let s = signer();
        let text = s.sign_ticket(&claims(Offer::Family));
        assert_eq!(text.len(), TEXT_LEN);
        let v = verify_qr_text(text.as_bytes(), &trust(&s), NOW).unwrap();
        assert_eq!(v.claims.offer, Offer::Family);
        assert_eq!(v.claims.key_id, s.key_id());
        assert_eq!(v.claims.serial, 99);
    }

    #[test]
    fn trailing_newlines_from_a_keyboard_wedge_scanner_are_ignored() {
        let s = signer();
        let text = s.sign_ticket(&claims(Offer::Solo)) + "\r\n";
        assert!(verify_qr_text(text.as_bytes(), &trust(&s), NOW).is_ok());
    }

    #[test]
    fn lower_case_or_padded_text_of_a_valid_ticket_is_refused() {
        let s = signer();
        let text = s.sign_ticket(&claims(Offer::Solo));
        let t = trust(&s);
        let lower = format!("{PREFIX}{}", text[PREFIX.len()..].to_ascii_lowercase());
        assert!(verify_qr_text(lower.as_bytes(), &t, NOW).is_err());
        assert!(verify_qr_text(format!("{text} ").as_bytes(), &t, NOW).is_err());
        assert!(verify_qr_text(format!(" {text}").as_bytes(), &t, NOW).is_err());
        assert!(verify_qr_text(format!("{text}=").as_bytes(), &t, NOW).is_err());
    }

    #[test]
    fn a_ticket_from_another_deployment_is_a_bad_signature() {
        let s = signer();
        let text = s.sign_ticket(&claims(Offer::Duo));
        let staging = TrustStore::new(DeploymentId::parse("staging").unwrap()).with(s.trusted_key(0, i64::MAX));
        assert_eq!(
            verify_qr_text(text.as_bytes(), &staging, NOW),
            Err(Rejection::BadSignature)
        );
    }

    #[test]
    fn a_ticket_under_a_retired_key_is_refused_as_key_not_valid() {
        let s = signer();
        let text = s.sign_ticket(&claims(Offer::Duo));
        let t = TrustStore::new(s.deployment().clone()).with(s.trusted_key(0, NOW - 1));
        assert_eq!(
            verify_qr_text(text.as_bytes(), &t, NOW),
            Err(Rejection::KeyNotValidAt(s.key_id()))
        );
    }

    #[test]
    fn a_ticket_under_a_key_the_gate_never_heard_of_is_refused_as_unknown_key() {
        let s = signer();
        let text = s.sign_ticket(&claims(Offer::Duo));
        let other = TicketSigner::from_secret_bytes(&[1; 32], s.deployment().clone());
        let t = trust(&other);
        assert_eq!(
            verify_qr_text(text.as_bytes(), &t, NOW),
            Err(Rejection::UnknownKey(s.key_id()))
        );
    }

    #[test]
    fn a_newer_format_version_is_reported_as_unsupported_not_as_garbage() {
        let s = signer();
        let text = s.sign_ticket(&claims(Offer::Duo)).replacen("OG2:", "OG3:", 1);
        assert_eq!(
            verify_qr_text(text.as_bytes(), &trust(&s), NOW),
            Err(Rejection::UnsupportedVersion(3))
        );
    }

    #[test]
    fn a_version_one_code_from_before_entitlements_is_refused_as_unsupported() {
        // A real version-1 text (153 characters) signed by the fixture generator of that time.
        let v1 = format!("OG1:{}", "0".repeat(149));
        assert_eq!(
            verify_qr_text(v1.as_bytes(), &trust(&signer()), NOW),
            Err(Rejection::UnsupportedVersion(1))
        );
    }

    #[test]
    fn other_apps_codes_are_not_ours() {
        let t = trust(&signer());
        for input in [
            &b"https://example.com/"[..],
            b"OG",
            b"OGX:abc",
            b"\xff\xfe\x00",
            b"WIFI:S:net;;",
        ] {
            assert_eq!(
                verify_qr_text(input, &t, NOW),
                Err(Rejection::Malformed(Malformed::NotOurs)),
                "{input:?}"
            );
        }
        assert_eq!(
            verify_qr_text(b"", &t, NOW),
            Err(Rejection::Malformed(Malformed::Empty))
        );
        assert_eq!(
            verify_qr_text(b"\r\n", &t, NOW),
            Err(Rejection::Malformed(Malformed::Empty))
        );
    }

    #[test]
    fn a_huge_input_is_refused_before_decoding() {
        let t = trust(&signer());
        let huge = vec![b'A'; 1 << 20];
        assert_eq!(
            verify_qr_text(&huge, &t, NOW),
            Err(Rejection::Malformed(Malformed::TooLong))
        );
    }

    #[test]
    fn truncated_text_is_refused_as_wrong_length() {
        let s = signer();
        let text = s.sign_ticket(&claims(Offer::Duo));
        let r = verify_qr_text(&text.as_bytes()[..text.len() - 1], &trust(&s), NOW);
        assert_eq!(r, Err(Rejection::Malformed(Malformed::WrongLength)));
    }

    #[test]
    fn every_ticket_text_is_short_enough_and_in_the_qr_alphanumeric_set() {
        const ALNUM: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
        let s = signer();
        let text = s.sign_ticket(&claims(Offer::Family));
        assert!(text.len() <= 154, "QR version 6-M holds 154 alphanumeric characters");
        assert!(text.chars().all(|c| ALNUM.contains(c)), "{text}");
    }
}
