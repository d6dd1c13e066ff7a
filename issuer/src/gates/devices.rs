//! Device enrolment and management.
//!
//! An operator makes a one-time enrolment token scoped to one or more events and optionally a
//! zone, valid for a limited time. A gate exchanges it once ([`enroll`]) for its own
//! credential. Operators list, rename, revoke and rotate devices; revocation takes effect at
//! the device's next request because every device request looks the credential up.

use crate::store::sql::{Connection, OptionalExtension, Transaction, params};
use og_shared::sync::{EnrollRequest, EnrollResponse};

use super::{DEVICE_CREDENTIAL_PREFIX, ENROLMENT_TOKEN_PREFIX, new_secret, parse_ids, secret_hash};
use crate::error::{AppError, AppResult};

/// Default lifetime of an enrolment token.
pub const DEFAULT_TOKEN_TTL_SECS: i64 = 3600;
/// Longest lifetime an operator may give an enrolment token.
pub const MAX_TOKEN_TTL_SECS: i64 = 7 * 24 * 3600;
/// Longest device name.
pub const MAX_NAME_LEN: usize = 64;

/// What an operator asks for.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEnrolmentToken {
    pub event_ids: Vec<u32>,
    #[serde(default)]
    pub zone: Option<u8>,
    #[serde(default)]
    pub ttl_secs: Option<i64>,
}

/// A fresh enrolment token (the only time its text exists outside the device).
#[derive(Debug, Clone, serde::Serialize)]
pub struct EnrolmentToken {
    pub id: i64,
    pub token: String,
    pub event_ids: Vec<u32>,
    pub zone: Option<u8>,
    pub expires_at: i64,
}

fn check_events(conn: &Connection, ids: &[u32], zone: Option<u8>) -> AppResult<()> {
    if ids.is_empty() || ids.len() > 64 {
        return Err(AppError::bad_request("bad_events", "name between 1 and 64 event ids"));
    }
    for id in ids {
        let zones: Option<String> = conn
            .query_row("SELECT zones FROM events WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        let Some(zones) = zones else {
            return Err(AppError::bad_request("unknown_event", format!("no event {id}")));
        };
        if let Some(z) = zone {
            let n = serde_json::from_str::<Vec<String>>(&zones)
                .map(|v| v.len())
                .unwrap_or(0);
            if usize::from(z) >= n {
                return Err(AppError::bad_request(
                    "unknown_zone",
                    format!("event {id} has no zone {z}"),
                ));
            }
        }
    }
    Ok(())
}

/// Creates a one-time enrolment token.
pub fn create_enrolment_token(
    tx: &Transaction<'_>,
    operator: i64,
    req: &NewEnrolmentToken,
    now: i64,
) -> AppResult<EnrolmentToken> {
    let mut ids = req.event_ids.clone();
    ids.sort_unstable();
    ids.dedup();
    check_events(tx, &ids, req.zone)?;
    let ttl = req.ttl_secs.unwrap_or(DEFAULT_TOKEN_TTL_SECS);
    if !(1..=MAX_TOKEN_TTL_SECS).contains(&ttl) {
        return Err(AppError::bad_request(
            "bad_ttl",
            format!("ttl_secs must be between 1 and {MAX_TOKEN_TTL_SECS}"),
        ));
    }
    let token = new_secret(ENROLMENT_TOKEN_PREFIX);
    let id: i64 = tx.query_row(
        "INSERT INTO enrolment_tokens (token_hash, event_ids, zone, created_by, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        params![
            &secret_hash(&token)[..],
            serde_json::to_string(&ids).expect("ids serialise"),
            req.zone,
            operator,
            now,
            now + ttl
        ],
        |r| r.get(0),
    )?;
    Ok(EnrolmentToken {
        id,
        token: token.to_string(),
        event_ids: ids,
        zone: req.zone,
        expires_at: now + ttl,
    })
}

fn clean_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "bad_name",
            format!("a device name has 1 to {MAX_NAME_LEN} printable characters"),
        ));
    }
    Ok(name.to_owned())
}

/// Exchanges an enrolment token (once) for a device credential.
pub fn enroll(
    tx: &Transaction<'_>,
    req: &EnrollRequest,
    signing: super::sync::GateSigning<'_>,
    now: i64,
) -> AppResult<EnrollResponse> {
    let unknown = || AppError::Unauthorized("unknown enrolment token".into());
    if !req.token.starts_with(ENROLMENT_TOKEN_PREFIX) {
        return Err(unknown());
    }
    type TokenRow = (i64, String, Option<u8>, i64, Option<i64>);
    let row: Option<TokenRow> = tx
        .query_row(
            "SELECT id, event_ids, zone, expires_at, used_at FROM enrolment_tokens WHERE token_hash = ?1",
            [&secret_hash(req.token.trim())[..]],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let (token_id, events, zone, expires_at, used_at) = row.ok_or_else(unknown)?;
    if used_at.is_some() {
        return Err(AppError::Gone {
            code: "enrolment_token_used",
            message: "this enrolment token was already used: ask an operator for a new one".into(),
        });
    }
    if now >= expires_at {
        return Err(AppError::Gone {
            code: "enrolment_token_expired",
            message: "this enrolment token has expired: ask an operator for a new one".into(),
        });
    }
    let event_ids = parse_ids(&events);
    let public_id = format!("dev-{}", hex::encode(&crate::trust::keys::random_32()[..6]));
    let name = match req.name.as_deref() {
        Some(n) => clean_name(n)?,
        // Unnamed: its device id, which every screen already prefixes with "Gate"/"gate"
        // (a "gate dev-..." name read "Gate gate dev-..." on the gate's status).
        None => public_id.clone(),
    };
    let version: String = req.software_version.chars().take(64).collect();
    let credential = new_secret(DEVICE_CREDENTIAL_PREFIX);
    let device = tx.query_row(
        "INSERT INTO devices (public_id, name, credential_hash, zone, enrolled_at, last_contact, software_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) RETURNING id",
        params![public_id, name, &secret_hash(&credential)[..], zone, now, version],
        |r| r.get::<_, i64>(0),
    )?;
    for e in &event_ids {
        tx.execute(
            "INSERT INTO device_events (device_id, event_id) VALUES (?1, ?2)",
            params![device, e],
        )?;
    }
    tx.execute(
        "UPDATE enrolment_tokens SET used_at = ?2, device_id = ?3 WHERE id = ?1",
        params![token_id, now, device],
    )?;
    let keys = super::sync::keys(tx)?;
    Ok(EnrollResponse {
        device_id: public_id,
        device_name: name,
        credential: credential.to_string(),
        deployment: signing.current.deployment().clone(),
        event_ids,
        zone,
        keys_proof: Some(super::sync::key_set_proof(&keys, signing, now)?),
        keys,
    })
}

/// A device as operators see it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct DeviceView {
    pub device_id: String,
    pub name: String,
    pub status: String,
    pub event_ids: Vec<u32>,
    pub zone: Option<u8>,
    pub enrolled_at: i64,
    pub last_contact: Option<i64>,
    pub revocation_cursor: u64,
    /// Seconds since the device last had the whole revocation log (None: never).
    pub data_age_secs: Option<i64>,
    pub queued: u64,
    pub software_version: String,
    /// Why the device refuses the issuer's sync answers (a rollback after a restore, a bad
    /// signature), as it reported at its last contact; None when it accepts them.
    #[serde(default)]
    pub sync_refusal: Option<String>,
    /// Since when it has been reporting that refusal.
    #[serde(default)]
    pub sync_refusal_at: Option<i64>,
    /// The device's clock minus the issuer's (seconds) as it measured at its last sync; None
    /// until it reports one.
    #[serde(default)]
    pub clock_offset_secs: Option<i64>,
}

/// Above this clock difference (seconds) operators are warned: half of the gates' default
/// tolerance for rotating phone codes.
pub const CLOCK_WARNING_SECS: i64 = og_shared::bound::DEFAULT_TOLERANCE / 2;

/// Every device, newest first.
pub fn list(conn: &Connection, now: i64) -> AppResult<Vec<DeviceView>> {
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
            let up: Option<i64> = r.get(7)?;
            Ok(DeviceView {
                device_id: r.get(0)?,
                name: r.get(1)?,
                status: r.get(2)?,
                zone: r.get(3)?,
                enrolled_at: r.get(4)?,
                last_contact: r.get(5)?,
                revocation_cursor: r.get::<_, i64>(6)? as u64,
                data_age_secs: up.map(|t| (now - t).max(0)),
                queued: r.get::<_, i64>(8)? as u64,
                software_version: r.get(9)?,
                event_ids: parse_ids(&r.get::<_, String>(10)?),
                sync_refusal: r.get(11)?,
                sync_refusal_at: r.get(12)?,
                clock_offset_secs: r.get(13)?,
            })
        })?
        .collect::<crate::store::sql::Result<Vec<_>>>()?;
    Ok(rows)
}

fn device_row(tx: &Transaction<'_>, public_id: &str) -> AppResult<(i64, String)> {
    tx.query_row(
        "SELECT id, status FROM devices WHERE public_id = ?1",
        [public_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| AppError::not_found("no such device"))
}

/// Renames a device.
pub fn rename(tx: &Transaction<'_>, public_id: &str, name: &str) -> AppResult<()> {
    let (id, _) = device_row(tx, public_id)?;
    tx.execute(
        "UPDATE devices SET name = ?2 WHERE id = ?1",
        params![id, clean_name(name)?],
    )?;
    Ok(())
}

/// Revokes a device: its credential is refused from now on. Idempotent.
pub fn revoke(tx: &Transaction<'_>, public_id: &str, now: i64) -> AppResult<()> {
    let (id, _) = device_row(tx, public_id)?;
    tx.execute(
        "UPDATE devices SET status = 'revoked', revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// Gives an active device a new credential; the old one is refused from now on.
pub fn rotate(tx: &Transaction<'_>, public_id: &str, now: i64) -> AppResult<zeroize::Zeroizing<String>> {
    let (id, status) = device_row(tx, public_id)?;
    if status != "active" {
        return Err(AppError::conflict(
            "device_revoked",
            "a revoked device cannot be rotated: enrol it again",
        ));
    }
    let credential = new_secret(DEVICE_CREDENTIAL_PREFIX);
    tx.execute(
        "UPDATE devices SET credential_hash = ?2, rotated_at = ?3 WHERE id = ?1",
        params![id, &secret_hash(&credential)[..], now],
    )?;
    Ok(credential)
}
