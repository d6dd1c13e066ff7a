//! Domain newtypes for the buyer side: raw input is parsed once, at the edge, into types that
//! cannot hold an invalid value (an [`Email`] is always plausible, a [`Password`] always within
//! the ASVS length rules, a [`Quantity`] always 1..=[`MAX_QUANTITY`]).

use crate::error::AppError;

/// Most tickets of one offer in one cart line or order line.
pub const MAX_QUANTITY: i64 = 10;

/// An email address, trimmed, at most 254 characters, with the domain lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, AppError> {
        let bad = || AppError::bad_request("invalid_email", "that does not look like an email address");
        let s = raw.trim();
        if s.is_empty() || s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || local.len() > 64
            || local.contains('@')
            || domain.len() < 3
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
            || !domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        {
            return Err(bad());
        }
        Ok(Email(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password: 8 to 128 characters (ASVS 2.1.1/2.1.2), any characters, no composition rules,
/// and not among the most common breached passwords (ASVS 2.1.7, see `passwords`).
#[derive(Clone)]
pub struct Password(zeroize::Zeroizing<String>);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Password, AppError> {
        let n = raw.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&n) {
            return Err(AppError::bad_request(
                "invalid_password",
                format!("a password has {} to {} characters", Self::MIN_CHARS, Self::MAX_CHARS),
            ));
        }
        if crate::passwords::is_breached(raw) {
            return Err(AppError::bad_request(
                "breached_password",
                "this password is one of the most common passwords in known data breaches: choose another \
                 (a phrase of a few unrelated words is easy to remember)",
            ));
        }
        Ok(Password(zeroize::Zeroizing::new(raw.to_owned())))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// How many tickets of one offer: 1..=[`MAX_QUANTITY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(i64);

impl Quantity {
    pub fn parse(n: i64) -> Result<Quantity, AppError> {
        if !(1..=MAX_QUANTITY).contains(&n) {
            return Err(AppError::bad_request(
                "invalid_quantity",
                format!("quantity must be between 1 and {MAX_QUANTITY}"),
            ));
        }
        Ok(Quantity(n))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// A client-chosen idempotency key: 8 to 64 characters of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<IdempotencyKey, AppError> {
        let ok =
            (8..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(AppError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 8 to 64 characters of letters, digits, '-' or '_'",
            ));
        }
        Ok(IdempotencyKey(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name for tickets: trimmed, at most 80 characters, no control characters.
pub fn parse_display_name(raw: &str) -> Result<String, AppError> {
    let s = raw.trim();
    if s.chars().count() > 80 || s.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "invalid_name",
            "a name has at most 80 characters and no control characters",
        ));
    }
    Ok(s.to_owned())
}

/// A status column as a closed set of values: the Rust enum, its one database and JSON
/// spelling (`as_str`), and the conversions the store binds and reads, so no rule compares
/// strings.
macro_rules! status_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vm])* $variant),+
        }

        impl $name {
            /// The database and JSON spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Parses [`Self::as_str`].
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl crate::store::sql::ToSql for $name {
            fn to_value(&self) -> crate::store::sql::Value {
                crate::store::sql::Value::Text(self.as_str().to_owned())
            }
        }

        impl crate::store::sql::FromSql for $name {
            fn from_sql(v: crate::store::sql::ValueRef<'_>) -> Result<Self, String> {
                match v {
                    crate::store::sql::ValueRef::Text(s) => {
                        $name::parse(s).ok_or_else(|| format!("unknown {} {s:?}", stringify!($name)))
                    }
                    _ => Err(format!("expected a {} as text", stringify!($name))),
                }
            }
        }
    };
}

status_enum!(
    /// Where an order stands.
    OrderStatus {
        /// Seats held, waiting for payment (until it expires).
        Pending => "pending",
        Paid => "paid",
        /// Expired or cancelled before payment.
        Cancelled => "cancelled",
        Refunded => "refunded",
    }
);

status_enum!(
    /// Whether an event takes place.
    EventStatus {
        Scheduled => "scheduled",
        Cancelled => "cancelled",
    }
);

status_enum!(
    /// Where an account stands.
    AccountStatus {
        /// Signed up, not yet activated from the mailed link.
        Pending => "pending",
        Active => "active",
        Banned => "banned",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_emails_parse_and_broken_ones_are_refused() {
        assert_eq!(Email::parse(" Ana@Example.ORG ").unwrap().as_str(), "Ana@example.org");
        for bad in [
            "",
            "ana",
            "ana@",
            "@x.org",
            "a b@x.org",
            "ana@localhost",
            "ana@x..org",
            "a@b@c.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn passwords_follow_asvs_length_rules_without_composition_rules() {
        assert!(Password::parse("abcdefg").is_err());
        assert!(Password::parse("zq8vw3kp").is_ok());
        assert_eq!(
            Password::parse("abcdefgh").unwrap_err().code(),
            "breached_password",
            "a common password is refused whatever its length"
        );
        assert!(Password::parse(&"é".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
    }

    #[test]
    fn quantities_outside_one_to_ten_are_refused() {
        assert!(Quantity::parse(0).is_err());
        assert!(Quantity::parse(-3).is_err());
        assert!(Quantity::parse(11).is_err());
        assert_eq!(Quantity::parse(10).unwrap().get(), 10);
    }
}
