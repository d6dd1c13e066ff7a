//! An enrolled gate device's credential (`Authorization: Bearer ogdev_...`): who is calling.
//! A revoked device is refused at its next request. The extractor is in `web::auth`.

use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::sql::Connection;

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
    match store::devices::by_credential(conn, &hash[..])? {
        None => Err(AppError::Unauthorized("unknown device credential".into())),
        Some(d) if d.status != "active" => Err(AppError::Unauthorized("device revoked: re-enrol".into())),
        Some(d) => Ok(DeviceAuth {
            id: d.id,
            public_id: d.public_id,
            name: d.name,
            event_ids: parse_ids(&d.event_ids),
            zone: d.zone,
        }),
    }
}
