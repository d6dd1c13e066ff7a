//! Who is calling: operators ([`OperatorAuth`]) and enrolled gate devices ([`DeviceAuth`]).
//!
//! Operators authenticate with an operator API token (`Authorization: Bearer ogop_...`, or the
//! `og_operator` HttpOnly cookie the console login sets). The token's account must have
//! role `operator` and be active, so a buyer can never reach an operator route. This is the
//! one place operator authentication happens: accepting an operator's login JWT later means
//! extending [`OperatorAuth`] only.
//!
//! Devices authenticate with the credential they got at enrolment (`Bearer ogdev_...`); a
//! revoked device is refused at its next request.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rusqlite::{Connection, OptionalExtension, params};

use super::{DEVICE_CREDENTIAL_PREFIX, OPERATOR_TOKEN_PREFIX, new_secret, parse_ids, secret_hash};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Name of the console's session cookie (holds the operator token).
pub const OPERATOR_COOKIE: &str = "og_operator";

/// The bearer token of a request, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// An authenticated operator.
#[derive(Debug, Clone)]
pub struct OperatorAuth {
    pub account_id: i64,
    pub email: String,
}

/// Looks an operator token up (active operator accounts only).
pub fn operator_for_token(conn: &Connection, token: &str) -> AppResult<Option<OperatorAuth>> {
    if !token.starts_with(OPERATOR_TOKEN_PREFIX) {
        return Ok(None);
    }
    let hash = secret_hash(token);
    Ok(conn
        .query_row(
            "SELECT a.id, a.email FROM operator_tokens t JOIN accounts a ON a.id = t.account_id
             WHERE t.token_hash = ?1 AND t.revoked_at IS NULL AND a.role = 'operator' AND a.status = 'active'",
            [&hash[..]],
            |r| {
                Ok(OperatorAuth {
                    account_id: r.get(0)?,
                    email: r.get(1)?,
                })
            },
        )
        .optional()?)
}

impl FromRequestParts<AppState> for OperatorAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)
            .or_else(|| cookie(parts, OPERATOR_COOKIE))
            .ok_or_else(|| AppError::Unauthorized("operator token required".into()))?
            .to_owned();
        // A buyer's valid access token identifies someone who is simply not allowed here: 403.
        // An operator who signed in with a password is let in like one with a token.
        if let Some(account_id) = crate::auth::verify_access(state, &token) {
            let op = state
                .db
                .read(move |c| {
                    Ok(c.query_row(
                        "SELECT email FROM accounts WHERE id = ?1 AND role = 'operator' AND status = 'active'",
                        [account_id],
                        |r| r.get::<_, String>(0),
                    )
                    .optional()?)
                })
                .await?;
            return match op {
                Some(email) => Ok(OperatorAuth { account_id, email }),
                None => Err(AppError::Forbidden("operators only".into())),
            };
        }
        state
            .db
            .read(move |c| operator_for_token(c, &token))
            .await?
            .ok_or_else(|| AppError::Unauthorized("not an operator token (or it was revoked)".into()))
    }
}

/// Creates (or promotes) an operator account for `email` and returns a new operator token.
/// The token is returned once; only its hash is stored.
pub fn create_operator(conn: &mut Connection, email: &str, now: i64) -> AppResult<(i64, zeroize::Zeroizing<String>)> {
    let email = email.trim();
    if !email.contains('@') || email.len() > 254 || email.chars().any(char::is_whitespace) {
        return Err(AppError::bad_request("bad_email", "not an email address"));
    }
    let tx = conn.transaction()?;
    let existing: Option<i64> = tx
        .query_row("SELECT id FROM accounts WHERE email = ?1", [email], |r| r.get(0))
        .optional()?;
    let id = match existing {
        Some(id) => {
            tx.execute(
                "UPDATE accounts SET role = 'operator', status = 'active', activated_at = COALESCE(activated_at, ?2)
                 WHERE id = ?1",
                params![id, now],
            )?;
            id
        }
        None => {
            // '!' is no valid password hash: this account signs in with operator tokens only.
            tx.execute(
                "INSERT INTO accounts (email, password_hash, role, status, created_at, activated_at)
                 VALUES (?1, '!', 'operator', 'active', ?2, ?2)",
                params![email, now],
            )?;
            tx.last_insert_rowid()
        }
    };
    let token = new_secret(OPERATOR_TOKEN_PREFIX);
    tx.execute(
        "INSERT INTO operator_tokens (account_id, token_hash, created_at) VALUES (?1, ?2, ?3)",
        params![id, &secret_hash(&token)[..], now],
    )?;
    tx.commit()?;
    Ok((id, token))
}

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
    let row: Option<(i64, String, String, Option<u8>, String, String)> = conn
        .query_row(
            "SELECT d.id, d.public_id, d.name, d.zone, d.status,
                    (SELECT json_group_array(event_id) FROM device_events WHERE device_id = d.id)
             FROM devices d WHERE d.credential_hash = ?1",
            [&hash[..]],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
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

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let cred = bearer(parts)
            .ok_or_else(|| AppError::Unauthorized("device credential required".into()))?
            .to_owned();
        state.db.read(move |c| device_for_credential(c, &cred)).await
    }
}
