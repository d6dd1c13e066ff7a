//! The queries of gate devices (`devices`, `device_events`) and of the one-time tokens that
//! enrol them (`enrolment_tokens`): enrolment, the credential lookup of every device request,
//! the operators' list, rename/revoke/rotate, and the contact a device records when it syncs or
//! pushes scans. The rules that call them (who may enrol, what a name may be, when a device is
//! refused) are in `gates::devices`, `gates::auth`, `gates::sync` and `gates::intake`. The
//! count of active devices is a gauge of `ops::metrics`.

use super::sql::{Connection, OptionalExtension, Result, Transaction, params};

/// A device as its credential finds it (`gates::auth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByCredential {
    pub id: i64,
    pub public_id: String,
    pub name: String,
    pub zone: Option<u8>,
    /// `active` or `revoked`.
    pub status: String,
    /// Its events, a JSON array of ids.
    pub event_ids: String,
}

/// The device whose credential hashes to `credential_hash`, revoked or not.
pub fn by_credential(conn: &Connection, credential_hash: &[u8]) -> Result<Option<ByCredential>> {
    let sql = format!(
        "SELECT d.id, d.public_id, d.name, d.zone, d.status,
                (SELECT {} FROM device_events WHERE device_id = d.id)
         FROM devices d WHERE d.credential_hash = ?1",
        conn.json_array_agg("event_id")
    );
    conn.query_row(&sql, [credential_hash], |r| {
        Ok(ByCredential {
            id: r.get(0)?,
            public_id: r.get(1)?,
            name: r.get(2)?,
            zone: r.get(3)?,
            status: r.get(4)?,
            event_ids: r.get(5)?,
        })
    })
    .optional()
}

/// A device as operators list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub public_id: String,
    pub name: String,
    pub status: String,
    pub zone: Option<u8>,
    pub enrolled_at: i64,
    pub last_contact: Option<i64>,
    pub revocation_cursor: i64,
    /// When it last had the whole revocation log.
    pub up_to_date_at: Option<i64>,
    pub queued: i64,
    pub software_version: String,
    /// Its events, a JSON array of ids.
    pub event_ids: String,
    pub sync_refusal: Option<String>,
    pub sync_refusal_at: Option<i64>,
    pub clock_offset: Option<i64>,
}

/// Every device, newest first.
pub fn all(conn: &Connection) -> Result<Vec<Listed>> {
    let sql = format!(
        "SELECT d.public_id, d.name, d.status, d.zone, d.enrolled_at, d.last_contact, d.revocation_cursor,
                d.up_to_date_at, d.queued, d.software_version,
                (SELECT {} FROM device_events WHERE device_id = d.id),
                d.sync_refusal, d.sync_refusal_at, d.clock_offset
         FROM devices d ORDER BY d.id DESC",
        conn.json_array_agg("event_id")
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Listed {
                public_id: r.get(0)?,
                name: r.get(1)?,
                status: r.get(2)?,
                zone: r.get(3)?,
                enrolled_at: r.get(4)?,
                last_contact: r.get(5)?,
                revocation_cursor: r.get(6)?,
                up_to_date_at: r.get(7)?,
                queued: r.get(8)?,
                software_version: r.get(9)?,
                event_ids: r.get(10)?,
                sync_refusal: r.get(11)?,
                sync_refusal_at: r.get(12)?,
                clock_offset: r.get(13)?,
            })
        })?
        .collect::<Result<Vec<_>>>()?;
    Ok(rows)
}

/// A device's row id and status (`active` or `revoked`) by its public id.
pub fn id_and_status(tx: &Transaction<'_>, public_id: &str) -> Result<Option<(i64, String)>> {
    tx.query_row(
        "SELECT id, status FROM devices WHERE public_id = ?1",
        [public_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Adds an enrolled device, last seen now; answers its row id.
pub fn insert(
    tx: &Transaction<'_>,
    public_id: &str,
    name: &str,
    credential_hash: &[u8],
    zone: Option<u8>,
    now: i64,
    software_version: &str,
) -> Result<i64> {
    tx.query_row(
        "INSERT INTO devices (public_id, name, credential_hash, zone, enrolled_at, last_contact, software_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) RETURNING id",
        params![public_id, name, credential_hash, zone, now, software_version],
        |r| r.get::<_, i64>(0),
    )
}

/// Scopes a device to its events, one row each, in the order given.
pub fn insert_events(tx: &Transaction<'_>, device: i64, event_ids: &[u32]) -> Result<()> {
    for e in event_ids {
        tx.execute(
            "INSERT INTO device_events (device_id, event_id) VALUES (?1, ?2)",
            params![device, e],
        )?;
    }
    Ok(())
}

/// Renames a device.
pub fn set_name(tx: &Transaction<'_>, id: i64, name: &str) -> Result<()> {
    tx.execute("UPDATE devices SET name = ?2 WHERE id = ?1", params![id, name])?;
    Ok(())
}

/// Marks a device revoked (keeping the time of its first revocation).
pub fn revoke(tx: &Transaction<'_>, id: i64, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE devices SET status = 'revoked', revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// Replaces a device's credential (its hash), rotated now.
pub fn set_credential(tx: &Transaction<'_>, id: i64, credential_hash: &[u8], now: i64) -> Result<()> {
    tx.execute(
        "UPDATE devices SET credential_hash = ?2, rotated_at = ?3 WHERE id = ?1",
        params![id, credential_hash, now],
    )?;
    Ok(())
}

/// What a device says of itself when it syncs (`gates::sync::record_contact`), already cut to
/// what is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncContact {
    pub device: i64,
    pub now: i64,
    pub revocation_cursor: i64,
    pub queued: i64,
    /// Kept as it was when `None`.
    pub software_version: Option<String>,
    /// It has the whole revocation log (recorded as `up_to_date_at` unless it refuses).
    pub up_to_date: bool,
    /// Why it refuses the issuer's answers; `sync_refusal_at` keeps since when while it stays
    /// the same.
    pub refused: Option<String>,
    /// Kept as it was when `None`.
    pub clock_offset: Option<i64>,
}

/// Records a device's contact at a sync.
pub fn record_sync_contact(conn: &Connection, c: &SyncContact) -> Result<()> {
    conn.execute(
        "UPDATE devices SET last_contact = ?2, revocation_cursor = ?3, queued = ?4,
                software_version = COALESCE(?5, software_version),
                up_to_date_at = CASE WHEN ?6 = 1 AND CAST(?7 AS TEXT) IS NULL THEN ?2 ELSE up_to_date_at END,
                sync_refusal_at = CASE WHEN CAST(?7 AS TEXT) IS NULL THEN NULL
                                       WHEN sync_refusal IS NOT DISTINCT FROM ?7 THEN sync_refusal_at ELSE ?2 END,
                sync_refusal = ?7,
                clock_offset = COALESCE(?8, clock_offset)
         WHERE id = ?1",
        params![
            c.device,
            c.now,
            c.revocation_cursor,
            c.queued,
            c.software_version,
            c.up_to_date,
            c.refused,
            c.clock_offset
        ],
    )?;
    Ok(())
}

/// Records a device's contact when it pushes a batch of scans.
pub fn record_batch_contact(
    tx: &Transaction<'_>,
    device: i64,
    now: i64,
    queued: i64,
    software_version: &str,
) -> Result<()> {
    tx.prepare_cached("UPDATE devices SET last_contact = ?2, queued = ?3, software_version = ?4 WHERE id = ?1")?
        .execute(params![device, now, queued, software_version])?;
    Ok(())
}

/// An enrolment token as its text finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentToken {
    pub id: i64,
    /// Its events, a JSON array of ids.
    pub event_ids: String,
    pub zone: Option<u8>,
    pub expires_at: i64,
    /// When it was exchanged for a credential (`None`: not yet).
    pub used_at: Option<i64>,
}

/// Adds a one-time enrolment token (by its hash); answers its id.
pub fn insert_enrolment_token(
    tx: &Transaction<'_>,
    token_hash: &[u8],
    event_ids: &str,
    zone: Option<u8>,
    created_by: i64,
    created_at: i64,
    expires_at: i64,
) -> Result<i64> {
    tx.query_row(
        "INSERT INTO enrolment_tokens (token_hash, event_ids, zone, created_by, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        params![token_hash, event_ids, zone, created_by, created_at, expires_at],
        |r| r.get(0),
    )
}

/// The enrolment token whose text hashes to `token_hash`, used or not.
pub fn enrolment_token_by_hash(tx: &Transaction<'_>, token_hash: &[u8]) -> Result<Option<EnrolmentToken>> {
    tx.query_row(
        "SELECT id, event_ids, zone, expires_at, used_at FROM enrolment_tokens WHERE token_hash = ?1",
        [token_hash],
        |r| {
            Ok(EnrolmentToken {
                id: r.get(0)?,
                event_ids: r.get(1)?,
                zone: r.get(2)?,
                expires_at: r.get(3)?,
                used_at: r.get(4)?,
            })
        },
    )
    .optional()
}

/// Marks an enrolment token used, now, by `device`.
pub fn mark_enrolment_token_used(tx: &Transaction<'_>, id: i64, now: i64, device: i64) -> Result<()> {
    tx.execute(
        "UPDATE enrolment_tokens SET used_at = ?2, device_id = ?3 WHERE id = ?1",
        params![id, now, device],
    )?;
    Ok(())
}

/// How many devices are enrolled and not revoked.
pub fn active_count(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT count(*) FROM devices WHERE status = 'active'", [], |r| r.get(0))
}
