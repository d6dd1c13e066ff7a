//! Who is calling: operators ([`OperatorAuth`]); enrolled gate devices are `gates::auth`.
//!
//! Operators authenticate with an operator API token (`Authorization: Bearer ogop_...`) or,
//! in the console, with a server-side session: signing in with a token creates a session whose
//! random id is the `__Host-og_ops` cookie (HttpOnly, Secure, SameSite=Strict); it ends at
//! logout, after [`CONSOLE_IDLE_SECS`] without a request or [`CONSOLE_MAX_SECS`] after sign-in,
//! and when its account stops being an active operator. The API token itself never goes into a
//! cookie and stays separately revocable. The account must have role `operator` and be active,
//! so a buyer can never reach an operator route. This is the one place operator
//! authentication happens.
//!
//! Devices authenticate with the credential they got at enrolment (`Bearer ogdev_...`); a
//! revoked device is refused at its next request.

use crate::store::sql::{Connection, Transaction};
use crate::store::{accounts, operator_sessions, operator_tokens};
use axum::http::request::Parts;

use super::OPERATOR_TOKEN_PREFIX;
use super::access::{Permission, Role};
use crate::error::{AppError, AppResult};
use crate::gates::{new_secret, secret_hash};
use crate::shop::Services;

/// Name of the console's session cookie (holds a random session id, never the API token).
pub const OPERATOR_COOKIE: &str = "__Host-og_ops";
/// A console session ends after this long without a request...
pub const CONSOLE_IDLE_SECS: i64 = 30 * 60;
/// ...and at the latest this long after sign-in.
pub const CONSOLE_MAX_SECS: i64 = 12 * 3600;
/// `last_seen_at` is written at most this often (monitoring pages refresh every few seconds).
const TOUCH_EVERY_SECS: i64 = 60;

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

/// An authenticated operator, with the role its account has now (a change of role takes effect
/// at the next request, whatever the token or session).
#[derive(Debug, Clone)]
pub struct OperatorAuth {
    pub account_id: i64,
    pub email: String,
    pub role: Role,
}

impl OperatorAuth {
    /// `Ok` if this operator's role allows `p`, else 403 (the one check every operator route and
    /// every action whose requirement depends on its input goes through: see `ops::access`).
    pub fn require(&self, p: Permission) -> AppResult<()> {
        if self.role.allows(p) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "the {} role cannot {}",
                self.role.name(),
                p.describe()
            )))
        }
    }

    pub fn can(&self, p: Permission) -> bool {
        self.role.allows(p)
    }
}

/// The role of an operator account (`accounts.operator_role`; missing counts as the least).
fn role_of(s: Option<String>) -> Role {
    s.as_deref().and_then(Role::parse).unwrap_or(Role::Support)
}

/// Looks an operator token up (active operator accounts only).
pub fn operator_for_token(conn: &Connection, token: &str) -> AppResult<Option<OperatorAuth>> {
    if !token.starts_with(OPERATOR_TOKEN_PREFIX) {
        return Ok(None);
    }
    let hash = secret_hash(token);
    Ok(
        operator_tokens::active_operator(conn, &hash[..])?.map(|(account_id, email, role)| OperatorAuth {
            account_id,
            email,
            role: role_of(role),
        }),
    )
}

/// Starts a console session for an operator; returns the id for the cookie (shown once).
pub fn start_console_session(tx: &crate::store::sql::Transaction<'_>, account_id: i64, now: i64) -> AppResult<String> {
    let id = crate::shop::auth::random_token();
    operator_sessions::insert(tx, &secret_hash(&id), account_id, now)?;
    Ok(id)
}

/// Ends a console session (logout). Unknown ids are ignored.
pub fn end_console_session(tx: &crate::store::sql::Transaction<'_>, id: &str, now: i64) -> AppResult<()> {
    operator_sessions::end(tx, &secret_hash(id), now)?;
    Ok(())
}

/// The operator of a live console session, and whether its `last_seen_at` is due a refresh.
pub fn operator_for_session(conn: &Connection, id: &str, now: i64) -> AppResult<Option<(OperatorAuth, bool)>> {
    let row =
        operator_sessions::live_operator(conn, &secret_hash(id), now - CONSOLE_IDLE_SECS, now - CONSOLE_MAX_SECS)?;
    Ok(row.map(|s| {
        (
            OperatorAuth {
                account_id: s.account_id,
                email: s.email,
                role: role_of(s.operator_role),
            },
            now - s.last_seen_at >= TOUCH_EVERY_SECS,
        )
    }))
}

fn touch_console_session(tx: &crate::store::sql::Transaction<'_>, id: &str, now: i64) -> AppResult<()> {
    operator_sessions::touch(tx, &secret_hash(id), now)?;
    Ok(())
}

/// The console session id a request carries, if any.
pub fn console_session_id(parts: &Parts) -> Option<String> {
    cookie(parts, OPERATOR_COOKIE).map(str::to_owned)
}

/// The operator of a password-signed-in operator account (a buyer access token of an operator).
fn operator_by_id(conn: &Connection, account_id: i64) -> AppResult<Option<OperatorAuth>> {
    Ok(
        accounts::active_operator(conn, account_id)?.map(|(email, role)| OperatorAuth {
            account_id,
            email,
            role: role_of(role),
        }),
    )
}

impl OperatorAuth {
    /// Who sends this request: an operator token, a console session cookie, or an operator's
    /// access token. 401 when none is valid, 403 for a buyer's access token.
    pub async fn authenticate(parts: &Parts, state: &Services) -> AppResult<OperatorAuth> {
        let Some(token) = bearer(parts).map(str::to_owned) else {
            let sid = console_session_id(parts)
                .ok_or_else(|| AppError::Unauthorized("operator token or console session required".into()))?;
            let now = crate::now();
            let s2 = sid.clone();
            let found = state.db.read(move |c| operator_for_session(c, &s2, now)).await?;
            let Some((op, touch)) = found else {
                return Err(AppError::Unauthorized(
                    "the console session has ended: sign in again".into(),
                ));
            };
            if touch {
                state.db.write(move |tx| touch_console_session(tx, &sid, now)).await?;
            }
            return Ok(op);
        };
        // A buyer's valid access token identifies someone who is simply not allowed here: 403.
        // An operator who signed in with a password is let in like one with a token.
        if let Some((account_id, _)) = crate::shop::auth::verify_access(state, &token) {
            return state
                .db
                .read(move |c| operator_by_id(c, account_id))
                .await?
                .ok_or_else(|| AppError::Forbidden("operators only".into()));
        }
        state
            .db
            .read(move |c| operator_for_token(c, &token))
            .await?
            .ok_or_else(|| AppError::Unauthorized("not an operator token (or it was revoked)".into()))
    }
}

/// Creates (or promotes) an admin operator account for `email` and returns a new operator token
/// (see [`create_operator_with_role`]).
pub fn create_operator(tx: &Transaction<'_>, email: &str, now: i64) -> AppResult<(i64, zeroize::Zeroizing<String>)> {
    create_operator_with_role(tx, email, Role::Admin, now)
}

/// Creates (or promotes) an operator account for `email` with `role` (an existing operator gets
/// the new role) and returns a new operator token. The token is returned once; only its hash is
/// stored.
pub fn create_operator_with_role(
    tx: &Transaction<'_>,
    email: &str,
    role: Role,
    now: i64,
) -> AppResult<(i64, zeroize::Zeroizing<String>)> {
    let email = email.trim();
    if !email.contains('@') || email.len() > 254 || email.chars().any(char::is_whitespace) {
        return Err(AppError::bad_request("bad_email", "not an email address"));
    }
    let existing: Option<i64> = accounts::id_by_email(tx, email)?;
    let id = match existing {
        Some(id) => {
            accounts::make_operator(tx, id, role.name(), now)?;
            id
        }
        None => {
            // '!' is no valid password hash: this account signs in with operator tokens only.
            accounts::insert_operator(tx, email, role.name(), now)?
        }
    };
    let token = new_secret(OPERATOR_TOKEN_PREFIX);
    operator_tokens::insert(tx, id, &secret_hash(&token)[..], now)?;
    Ok((id, token))
}

/// Revokes every token of the operator with this email; answers how many.
pub fn revoke_operator_tokens(tx: &Transaction<'_>, email: &str, now: i64) -> AppResult<usize> {
    Ok(operator_tokens::revoke_all_of_email(tx, email, now)?)
}
