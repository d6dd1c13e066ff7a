//! The queries of the issuer's published verifying keys (`signing_keys`): written when a
//! signing key is registered (`trust::issuance`), read as the key set every sync answer and
//! enrolment hands out (`gates::sync::keys`).

use super::sql::{Connection, Result, params};

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

/// Records a signing key's public half unless its id is known; answers the public key stored
/// under that id (the given one, or an older key's that took the id first).
pub fn register(
    tx: &Connection,
    key_id: u16,
    public_key_b64: &str,
    valid_from: i64,
    valid_until: i64,
    now: i64,
) -> Result<String> {
    tx.execute(
        "INSERT INTO signing_keys (key_id, public_key, valid_from, valid_until, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key_id) DO NOTHING",
        params![key_id, public_key_b64, valid_from, valid_until, now],
    )?;
    tx.query_row("SELECT public_key FROM signing_keys WHERE key_id = ?1", [key_id], |r| {
        r.get(0)
    })
}
