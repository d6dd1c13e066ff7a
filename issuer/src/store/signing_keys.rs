//! The queries of the issuer's published verifying keys (`signing_keys`) that the gates' side
//! reads: the key set every sync answer and enrolment hands out (`gates::sync::keys`). The keys
//! are written by `trust::issuance`.

use super::sql::{Connection, Result};

/// A published verifying key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedKey {
    pub key_id: u16,
    /// 32 bytes, base64url without padding.
    pub public_key: String,
    pub valid_from: i64,
    pub valid_until: i64,
}

/// Every published key, by key id.
pub fn all(conn: &Connection) -> Result<Vec<PublishedKey>> {
    let mut stmt =
        conn.prepare_cached("SELECT key_id, public_key, valid_from, valid_until FROM signing_keys ORDER BY key_id")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(PublishedKey {
                key_id: r.get(0)?,
                public_key: r.get(1)?,
                valid_from: r.get(2)?,
                valid_until: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>>>()?;
    Ok(rows)
}
