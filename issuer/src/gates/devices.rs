//! Device enrolment and management.
//!
//! An operator makes a one-time enrolment token scoped to one or more events and optionally a
//! zone, valid for a limited time. A gate exchanges it once ([`enroll`]) for its own
//! credential. Operators list, rename, revoke and rotate devices; revocation takes effect at
//! the device's next request because every device request looks the credential up.

use crate::store;
use crate::store::sql::{Connection, Transaction};
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
        let Some(zones) = store::events::zones(conn, *id)? else {
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
    let id = store::devices::insert_enrolment_token(
        tx,
        &secret_hash(&token)[..],
        &serde_json::to_string(&ids).expect("ids serialise"),
        req.zone,
        operator,
        now,
        now + ttl,
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
    // Pasted tokens may carry spaces or a line end around them: the same token either way.
    let token = req.token.trim();
    if !token.starts_with(ENROLMENT_TOKEN_PREFIX) {
        return Err(unknown());
    }
    let store::devices::EnrolmentToken {
        id: token_id,
        event_ids: events,
        zone,
        expires_at,
        used_at,
    } = store::devices::enrolment_token_by_hash(tx, &secret_hash(token)[..])?.ok_or_else(unknown)?;
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
    let device = store::devices::insert(
        tx,
        &public_id,
        &name,
        &secret_hash(&credential)[..],
        zone,
        now,
        &version,
    )?;
    store::devices::insert_events(tx, device, &event_ids)?;
    store::devices::mark_enrolment_token_used(tx, token_id, now, device)?;
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
    Ok(store::devices::all(conn)?
        .into_iter()
        .map(|d| DeviceView {
            device_id: d.public_id,
            name: d.name,
            status: d.status,
            zone: d.zone,
            enrolled_at: d.enrolled_at,
            last_contact: d.last_contact,
            revocation_cursor: d.revocation_cursor as u64,
            data_age_secs: d.up_to_date_at.map(|t| (now - t).max(0)),
            queued: d.queued as u64,
            software_version: d.software_version,
            event_ids: parse_ids(&d.event_ids),
            sync_refusal: d.sync_refusal,
            sync_refusal_at: d.sync_refusal_at,
            clock_offset_secs: d.clock_offset,
        })
        .collect())
}

fn device_row(tx: &Transaction<'_>, public_id: &str) -> AppResult<(i64, String)> {
    store::devices::id_and_status(tx, public_id)?.ok_or_else(|| AppError::not_found("no such device"))
}

/// Renames a device.
pub fn rename(tx: &Transaction<'_>, public_id: &str, name: &str) -> AppResult<()> {
    let (id, _) = device_row(tx, public_id)?;
    store::devices::set_name(tx, id, &clean_name(name)?)?;
    Ok(())
}

/// Revokes a device: its credential is refused from now on. Idempotent.
pub fn revoke(tx: &Transaction<'_>, public_id: &str, now: i64) -> AppResult<()> {
    let (id, _) = device_row(tx, public_id)?;
    store::devices::revoke(tx, id, now)?;
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
    store::devices::set_credential(tx, id, &secret_hash(&credential)[..], now)?;
    Ok(credential)
}
