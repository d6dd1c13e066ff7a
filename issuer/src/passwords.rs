//! Breached-password refusal (OWASP ASVS 2.1.7): a new password that is among the 100,000 most
//! common passwords of known breaches is refused, without any network call.
//!
//! The list ships in the binary as `issuer/data/breached-passwords.bin`: the first 6 bytes of
//! the SHA-256 of each lower-cased password, sorted (made by
//! `issuer/data/regen-breached-passwords.py` from a pinned registry package; entries shorter
//! than 8 characters are left out, the length rule refuses them anyway). A lookup is a binary
//! search; comparing lower-cased forms also refuses `Password1` when `password1` is listed.

/// Bytes of SHA-256 kept per password.
const PREFIX: usize = 6;

static LIST: &[u8] = include_bytes!("../data/breached-passwords.bin");

/// How many passwords the shipped list holds.
pub fn listed() -> usize {
    LIST.len() / PREFIX
}

/// Whether `password` (compared lower-cased) is in the breached list.
pub fn is_breached(password: &str) -> bool {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(password.to_lowercase().as_bytes());
    let key = &digest[..PREFIX];
    let (mut lo, mut hi) = (0, listed());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let rec = &LIST[mid * PREFIX..(mid + 1) * PREFIX];
        match rec.cmp(key) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_list_is_whole_and_sorted() {
        assert_eq!(LIST.len() % PREFIX, 0);
        assert!(listed() > 30_000, "{} passwords", listed());
        assert!(LIST.chunks(PREFIX).zip(LIST.chunks(PREFIX).skip(1)).all(|(a, b)| a < b));
    }

    #[test]
    fn common_passwords_are_found_and_uncommon_ones_are_not() {
        for pw in [
            "password",
            "12345678",
            "Password1",
            "iloveyou",
            "qwertyuiop",
            "football",
        ] {
            assert!(is_breached(pw), "{pw}");
        }
        for pw in ["correct horse battery", "a brand new secret", "purple-otter-vaults-7"] {
            assert!(!is_breached(pw), "{pw}");
        }
    }
}
