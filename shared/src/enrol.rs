//! The enrolment code: what the operator console's enrolment QR says, so that a gate enrols by
//! scanning it (`gate-agent enroll --scan`) and nobody types a token at a turnstile.
//!
//! Content: a URI `og-enrol:?issuer=<issuer URL>&token=<one-time token>`, both values
//! percent-encoded (RFC 3986 unreserved characters stay as they are). The issuer URL is the
//! issuer's public address (`http://` or `https://`), the token the one-time enrolment token.
//! The token is a secret: this code is shown once, like the token itself.

/// The URI scheme and the start of the query.
pub const PREFIX: &str = "og-enrol:?";

/// Longest code accepted (a QR holds under 3 KB anyway).
const MAX_LEN: usize = 2048;

/// An enrolment code's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentCode {
    /// The issuer's address, e.g. `https://tickets.example.org`.
    pub issuer: String,
    /// The one-time enrolment token.
    pub token: String,
}

/// Why a scanned text is not an enrolment code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnrolCodeError {
    #[error("not an enrolment code (it does not start with {PREFIX})")]
    NotEnrolment,
    #[error("the enrolment code is too long")]
    TooLong,
    #[error("the enrolment code is damaged: {0}")]
    Damaged(&'static str),
}

fn percent_encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

fn percent_decode(s: &str) -> Result<String, EnrolCodeError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or(EnrolCodeError::Damaged("bad percent escape"))?;
                out.push(hex);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| EnrolCodeError::Damaged("not UTF-8"))
}

impl EnrolmentCode {
    /// The text to put in the QR code.
    pub fn to_uri(&self) -> String {
        let mut s = String::from(PREFIX);
        s.push_str("issuer=");
        percent_encode(&self.issuer, &mut s);
        s.push_str("&token=");
        percent_encode(&self.token, &mut s);
        s
    }

    /// Reads a scanned text (trailing CR/LF from a scanner ignored).
    pub fn parse(text: &[u8]) -> Result<EnrolmentCode, EnrolCodeError> {
        let text = std::str::from_utf8(text).map_err(|_| EnrolCodeError::NotEnrolment)?;
        let text = text.trim_end_matches(['\r', '\n']);
        let query = text.strip_prefix(PREFIX).ok_or(EnrolCodeError::NotEnrolment)?;
        if text.len() > MAX_LEN {
            return Err(EnrolCodeError::TooLong);
        }
        let (mut issuer, mut token) = (None, None);
        for pair in query.split('&') {
            let (k, v) = pair
                .split_once('=')
                .ok_or(EnrolCodeError::Damaged("a field without '='"))?;
            let slot = match k {
                "issuer" => &mut issuer,
                "token" => &mut token,
                _ => continue,
            };
            if slot.replace(percent_decode(v)?).is_some() {
                return Err(EnrolCodeError::Damaged("a field given twice"));
            }
        }
        let issuer = issuer.ok_or(EnrolCodeError::Damaged("no issuer address"))?;
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or(EnrolCodeError::Damaged("no token"))?;
        if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
            return Err(EnrolCodeError::Damaged("the issuer address is not an http(s) URL"));
        }
        if issuer.chars().chain(token.chars()).any(|c| c.is_control() || c == ' ') {
            return Err(EnrolCodeError::Damaged("spaces or control characters"));
        }
        Ok(EnrolmentCode { issuer, token })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_round_trips_and_its_uri_is_plain_ascii() {
        let c = EnrolmentCode {
            issuer: "https://tickets.example.org:8443/og".into(),
            token: "ogenr_Ab-9_x~y+z/=".into(),
        };
        let uri = c.to_uri();
        assert!(uri.starts_with("og-enrol:?issuer=https%3A%2F%2Ftickets.example.org%3A8443%2Fog&token="));
        assert!(uri.is_ascii() && !uri.contains(' '));
        assert_eq!(EnrolmentCode::parse(uri.as_bytes()), Ok(c.clone()));
        assert_eq!(EnrolmentCode::parse(format!("{uri}\r\n").as_bytes()), Ok(c));
    }

    #[test]
    fn other_codes_and_damaged_ones_are_refused_with_a_reason() {
        assert_eq!(EnrolmentCode::parse(b"OG1:NOTENROL"), Err(EnrolCodeError::NotEnrolment));
        assert_eq!(EnrolmentCode::parse(b"\xff\xfe"), Err(EnrolCodeError::NotEnrolment));
        for bad in [
            "og-enrol:?issuer=https%3A%2F%2Fx",
            "og-enrol:?token=abc",
            "og-enrol:?issuer=ftp%3A%2F%2Fx&token=abc",
            "og-enrol:?issuer=https%3A%2F%2Fx&token=",
            "og-enrol:?issuer=https%3A%2F%2Fx&token=a%2",
            "og-enrol:?issuer=https%3A%2F%2Fx&token=a&token=b",
            "og-enrol:?issuer=https%3A%2F%2Fx%0A&token=a",
        ] {
            assert!(
                matches!(EnrolmentCode::parse(bad.as_bytes()), Err(EnrolCodeError::Damaged(_))),
                "{bad}"
            );
        }
        let long = format!("og-enrol:?issuer=https%3A%2F%2Fx&token={}", "a".repeat(3000));
        assert_eq!(EnrolmentCode::parse(long.as_bytes()), Err(EnrolCodeError::TooLong));
    }
}
