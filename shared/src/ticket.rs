//! Ticket claims and their fixed binary layout.
//!
//! A ticket is 36 bytes of claims followed by a 64-byte Ed25519 signature. Every field has a
//! fixed width so that exactly one byte string encodes a given ticket (no varints, no optional
//! fields, no padding): canonical by construction.
//!
//! ```text
//! offset size field
//!  0      1   format version (2)
//!  1      2   key id (big-endian)
//!  3      4   event id
//!  7      4   ticket serial: the entitlement (what was paid for), unique per deployment and
//!             kept through transfers and re-issues
//! 11      1   code generation: 0 for the first code, +1 for each transfer or re-issue
//! 12      1   offer and admits: low nibble = offer (1 = Solo, 2 = Duo, 4 = Family, the
//!             people the entitlement admits), high nibble = people THIS code may still
//!             admit (1..=offer; less than the offer after a transfer of a partly used ticket)
//! 13      6   purchase tag  (SHA-256 of the purchase key, truncated)
//! 19      6   account tag   (SHA-256 of the account key, truncated)
//! 25      4   valid from    (Unix seconds)
//! 29      4   valid until   (Unix seconds)
//! 33      2   zones bitmask (bit i = zone i of the event)
//! 35      1   flags
//! ```
//!
//! Admissions are counted per serial (the entitlement) on the issuer and on every gate, so a
//! new code for the same entitlement never admits more than what is left of it. The keys
//! themselves never appear: only 48-bit tags, enough for a revocation list to name a purchase
//! or an account (a false match needs a 2^-48 collision against a revoked tag).
//!
//! Version 1 (35 bytes, no generation, no admits) is no longer read: the issuer re-signs
//! every stored version-1 code as version 2 when it starts, and a gate refuses a version-1
//! code as `unsupported_version` ("ask the holder to open the ticket again").

use sha2::{Digest, Sha256};
use std::fmt;

use crate::UnixSeconds;
use crate::keys::KeyId;

/// The only format version this build reads and writes.
pub const FORMAT_VERSION: u8 = 2;
/// Length of the signed claims.
pub const CLAIMS_LEN: usize = 36;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Length of a whole signed ticket in bytes.
pub const TICKET_LEN: usize = CLAIMS_LEN + SIGNATURE_LEN;
/// Length of a purchase or account tag.
pub const TAG_LEN: usize = 6;

/// What a ticket admits. The discriminant is the number of people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Offer {
    Solo,
    Duo,
    Family,
}

impl Offer {
    /// How many people one ticket of this offer admits.
    pub fn admits(self) -> u8 {
        match self {
            Offer::Solo => 1,
            Offer::Duo => 2,
            Offer::Family => 4,
        }
    }

    /// Parses the wire code (which is the admit count).
    pub fn from_code(code: u8) -> Option<Offer> {
        match code {
            1 => Some(Offer::Solo),
            2 => Some(Offer::Duo),
            4 => Some(Offer::Family),
            _ => None,
        }
    }

    /// Parses a user-facing name (`solo`, `duo`, `family`, case-insensitive).
    pub fn from_name(name: &str) -> Option<Offer> {
        match name.to_ascii_lowercase().as_str() {
            "solo" => Some(Offer::Solo),
            "duo" => Some(Offer::Duo),
            "family" | "famille" => Some(Offer::Family),
            _ => None,
        }
    }

    /// The lowercase name used in APIs and on screens.
    pub fn name(self) -> &'static str {
        match self {
            Offer::Solo => "solo",
            Offer::Duo => "duo",
            Offer::Family => "family",
        }
    }

    /// All offers, smallest first.
    pub const ALL: [Offer; 3] = [Offer::Solo, Offer::Duo, Offer::Family];
}

impl fmt::Display for Offer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Offer::Solo => "Solo",
            Offer::Duo => "Duo",
            Offer::Family => "Family",
        };
        f.write_str(s)
    }
}

/// The zones of an event a ticket is valid for, as a bitmask (bit i = zone i).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Zones(pub u16);

impl Zones {
    /// Valid in every zone of the event.
    pub const ALL: Zones = Zones(u16::MAX);

    /// A ticket for a single zone (0..=15).
    pub fn single(zone: u8) -> Option<Zones> {
        (zone < 16).then(|| Zones(1 << zone))
    }

    /// Whether zone `zone` (0..=15) is included.
    pub fn contains(self, zone: u8) -> bool {
        zone < 16 && self.0 & (1 << zone) != 0
    }
}

/// Ticket flags. Unknown bits make a ticket malformed: new meanings need a new format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct TicketFlags(pub u8);

impl TicketFlags {
    /// Issued without payment (press, staff, sponsors).
    pub const COMPLIMENTARY: u8 = 0b0000_0001;
    /// The holder may leave and come back in (the gate policy still decides).
    pub const REENTRY: u8 = 0b0000_0010;
    /// Accessible entrance / companion seating.
    pub const ACCESSIBLE: u8 = 0b0000_0100;
    /// Every bit a static code may carry.
    pub const KNOWN: u8 = Self::COMPLIMENTARY | Self::REENTRY | Self::ACCESSIBLE;
    /// Holder-bound: the claims of a bound ticket (`crate::bound`), signed together with the
    /// holder's device key. Never in a static code (refused there as an unknown bit), always in
    /// a bound ticket, so neither can pass for the other.
    pub const HOLDER_BOUND: u8 = 0b1000_0000;

    pub fn complimentary(self) -> bool {
        self.0 & Self::COMPLIMENTARY != 0
    }
    pub fn reentry(self) -> bool {
        self.0 & Self::REENTRY != 0
    }
    pub fn accessible(self) -> bool {
        self.0 & Self::ACCESSIBLE != 0
    }
    pub fn holder_bound(self) -> bool {
        self.0 & Self::HOLDER_BOUND != 0
    }
}

/// A 48-bit tag naming a purchase key or an account key without revealing it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(pub [u8; TAG_LEN]);

impl Tag {
    /// The tag of a purchase key.
    pub fn of_purchase_key(key: &[u8; 32]) -> Tag {
        Tag::derive(b"og-tickets/purchase-tag/v1", key)
    }

    /// The tag of an account key.
    pub fn of_account_key(key: &[u8; 32]) -> Tag {
        Tag::derive(b"og-tickets/account-tag/v1", key)
    }

    fn derive(domain: &[u8], key: &[u8; 32]) -> Tag {
        let digest = Sha256::new().chain_update(domain).chain_update(key).finalize();
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(&digest[..TAG_LEN]);
        Tag(out)
    }

    /// Lowercase hex, as used in JSON.
    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }

    /// Parses 12 hex digits.
    pub fn from_hex(s: &str) -> Option<Tag> {
        let mut out = [0u8; TAG_LEN];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Tag(out))
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({})", self.to_hex())
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl serde::Serialize for Tag {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Tag {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Tag, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Tag::from_hex(&s).ok_or_else(|| serde::de::Error::custom("a tag is 12 hex digits"))
    }
}

/// Everything a ticket claims, before or after signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct TicketClaims {
    pub key_id: KeyId,
    pub event_id: u32,
    /// The entitlement: stable through transfers and re-issues.
    pub serial: u32,
    /// Which code of the entitlement this is (0 = first; a later one supersedes it).
    pub generation: u8,
    pub offer: Offer,
    /// People this code may admit (1..=`offer.admits()`).
    pub admits: u8,
    pub purchase_tag: Tag,
    pub account_tag: Tag,
    pub valid_from: u32,
    pub valid_until: u32,
    pub zones: Zones,
    pub flags: TicketFlags,
}

/// Why 35 bytes are not valid claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimsError {
    #[error("unsupported format version {0}")]
    UnsupportedVersion(u8),
    #[error("unknown offer code {0}")]
    UnknownOffer(u8),
    #[error("a code admitting {admits} of an offer for {offer}")]
    BadAdmits { offer: u8, admits: u8 },
    #[error("unknown flag bits {0:#04x}")]
    UnknownFlags(u8),
    #[error("validity window ends before it starts")]
    EmptyWindow,
}

impl TicketClaims {
    /// Whether `now` falls inside the validity window, widened by `skew` seconds on both sides.
    pub fn is_valid_at(&self, now: UnixSeconds, skew: i64) -> bool {
        now + skew >= i64::from(self.valid_from) && now - skew <= i64::from(self.valid_until)
    }

    /// The fixed 36-byte encoding. `admits` is clamped to 1..=`offer.admits()` (a code that
    /// admits nobody is never signed: revoke the entitlement instead).
    pub fn to_bytes(&self) -> [u8; CLAIMS_LEN] {
        let mut b = [0u8; CLAIMS_LEN];
        b[0] = FORMAT_VERSION;
        b[1..3].copy_from_slice(&self.key_id.0.to_be_bytes());
        b[3..7].copy_from_slice(&self.event_id.to_be_bytes());
        b[7..11].copy_from_slice(&self.serial.to_be_bytes());
        b[11] = self.generation;
        b[12] = self.offer.admits() | (self.admits.clamp(1, self.offer.admits()) << 4);
        b[13..19].copy_from_slice(&self.purchase_tag.0);
        b[19..25].copy_from_slice(&self.account_tag.0);
        b[25..29].copy_from_slice(&self.valid_from.to_be_bytes());
        b[29..33].copy_from_slice(&self.valid_until.to_be_bytes());
        b[33..35].copy_from_slice(&self.zones.0.to_be_bytes());
        b[35] = self.flags.0;
        b
    }

    /// Parses the fixed 36-byte encoding. Rejects every byte string [`Self::to_bytes`] cannot
    /// produce, so the encoding is a bijection.
    pub fn from_bytes(b: &[u8; CLAIMS_LEN]) -> Result<TicketClaims, ClaimsError> {
        if b[0] != FORMAT_VERSION {
            return Err(ClaimsError::UnsupportedVersion(b[0]));
        }
        let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let offer = Offer::from_code(b[12] & 0x0f).ok_or(ClaimsError::UnknownOffer(b[12] & 0x0f))?;
        let admits = b[12] >> 4;
        if admits == 0 || admits > offer.admits() {
            return Err(ClaimsError::BadAdmits {
                offer: offer.admits(),
                admits,
            });
        }
        let flags = b[35];
        if flags & !TicketFlags::KNOWN != 0 {
            return Err(ClaimsError::UnknownFlags(flags & !TicketFlags::KNOWN));
        }
        let mut purchase = [0u8; TAG_LEN];
        purchase.copy_from_slice(&b[13..19]);
        let mut account = [0u8; TAG_LEN];
        account.copy_from_slice(&b[19..25]);
        let claims = TicketClaims {
            key_id: KeyId(u16::from_be_bytes([b[1], b[2]])),
            event_id: u32_at(3),
            serial: u32_at(7),
            generation: b[11],
            offer,
            admits,
            purchase_tag: Tag(purchase),
            account_tag: Tag(account),
            valid_from: u32_at(25),
            valid_until: u32_at(29),
            zones: Zones(u16::from_be_bytes([b[33], b[34]])),
            flags: TicketFlags(flags),
        };
        if claims.valid_until < claims.valid_from {
            return Err(ClaimsError::EmptyWindow);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TicketClaims {
        TicketClaims {
            key_id: KeyId(0xBEEF),
            event_id: 7,
            serial: 123_456,
            generation: 3,
            offer: Offer::Duo,
            admits: 1,
            purchase_tag: Tag::of_purchase_key(&[1; 32]),
            account_tag: Tag::of_account_key(&[2; 32]),
            valid_from: 1_700_000_000,
            valid_until: 1_700_086_400,
            zones: Zones::ALL,
            flags: TicketFlags(TicketFlags::REENTRY),
        }
    }

    #[test]
    fn claims_survive_a_round_trip_through_bytes() {
        let c = sample();
        assert_eq!(TicketClaims::from_bytes(&c.to_bytes()), Ok(c));
    }

    #[test]
    fn an_offer_code_that_is_not_an_admit_count_is_refused() {
        let mut b = sample().to_bytes();
        b[12] = 0x13;
        assert_eq!(TicketClaims::from_bytes(&b), Err(ClaimsError::UnknownOffer(3)));
    }

    #[test]
    fn a_code_admitting_nobody_or_more_than_its_offer_is_refused() {
        let mut b = sample().to_bytes();
        b[12] = 0x02;
        assert_eq!(
            TicketClaims::from_bytes(&b),
            Err(ClaimsError::BadAdmits { offer: 2, admits: 0 })
        );
        b[12] = 0x32;
        assert_eq!(
            TicketClaims::from_bytes(&b),
            Err(ClaimsError::BadAdmits { offer: 2, admits: 3 })
        );
    }

    #[test]
    fn the_generation_and_what_is_left_survive_the_encoding() {
        let c = TicketClaims::from_bytes(&sample().to_bytes()).unwrap();
        assert_eq!((c.serial, c.generation, c.offer, c.admits), (123_456, 3, Offer::Duo, 1));
    }

    #[test]
    fn unknown_flag_bits_are_refused_rather_than_ignored() {
        let mut b = sample().to_bytes();
        b[35] = 0x80;
        assert_eq!(TicketClaims::from_bytes(&b), Err(ClaimsError::UnknownFlags(0x80)));
    }

    #[test]
    fn purchase_and_account_tags_of_the_same_key_differ() {
        let k = [9u8; 32];
        assert_ne!(Tag::of_purchase_key(&k), Tag::of_account_key(&k));
    }

    #[test]
    fn validity_window_honours_clock_skew_on_both_sides() {
        let c = sample();
        assert!(!c.is_valid_at(1_699_999_000, 0));
        assert!(c.is_valid_at(1_699_999_000, 1_000));
        assert!(c.is_valid_at(1_700_086_400 + 60, 60));
        assert!(!c.is_valid_at(1_700_086_400 + 61, 60));
    }

    #[test]
    fn offers_admit_one_two_and_four_people() {
        assert_eq!(
            Offer::ALL.map(Offer::admits),
            [1, 2, 4],
            "Solo, Duo and Family admit 1, 2 and 4"
        );
    }
}
