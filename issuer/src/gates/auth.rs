//! An enrolled gate device's credential (`Authorization: Bearer ogdev_...`): who is calling.
//! A revoked device is refused at its next request. The extractor is in `web::auth`.

use crate::error::{AppError, AppResult};
use crate::store::sql::{Connection, OptionalExtension};

use super::{DEVICE_CREDENTIAL_PREFIX, parse_ids, secret_hash};

/// An authenticated, unrevoked gate device.
#[derive(Debug, Clone)]
pub struct DeviceAuth {
    pub id: i64,
    pub public_id: String,
    pub name: String,
    pub event_ids: Vec<u32>,
    pub zone: Option<u8>,
}

/// Looks a device credential up. `Err(Unauthorized)` for unknown or revoked devices.
pub fn device_for_credential(conn: &Connection, credential: &str) -> AppResult<DeviceAuth> {
    if !credential.starts_with(DEVICE_CREDENTIAL_PREFIX) {
        return Err(AppError::Unauthorized("not a device credential".into()));
    }
    let hash = secret_hash(credential);
    let sql = format!(
        "SELECT d.id, d.public_id, d.name, d.zone, d.status,
                (SELECT {} FROM device_events WHERE device_id = d.id)
         FROM devices d WHERE d.credential_hash = ?1",
        conn.json_array_agg("event_id")
    );
    let row: Option<(i64, String, String, Option<u8>, String, String)> = conn
        .query_row(&sql, [&hash[..]], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .optional()?;
    match row {
        None => Err(AppError::Unauthorized("unknown device credential".into())),
        Some((_, _, _, _, status, _)) if status != "active" => {
            Err(AppError::Unauthorized("device revoked: re-enrol".into()))
        }
        Some((id, public_id, name, zone, _, events)) => Ok(DeviceAuth {
            id,
            public_id,
            name,
            event_ids: parse_ids(&events),
            zone,
        }),
    }
}
