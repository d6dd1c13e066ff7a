//! Buyer authentication: password hashing, access tokens, rotating refresh tokens, cookies,
//! the [`AuthUser`] extractor and rate limiting.
//!
//! * Passwords: argon2id with the OWASP parameters (19 MiB, t=2, p=1; the crate's defaults),
//!   PHC strings in the database. Unknown emails are checked against a dummy hash so the
//!   answer time does not reveal whether an address is registered.
//! * Access token: a JWT signed HS256 with `secrets.jwt`, 15 minutes, algorithm fixed on both
//!   sides. Sent as `Authorization: Bearer` by API clients, or as the `__Host-og_at` cookie.
//! * Refresh token: 32 random bytes in the `__Host-og_rt` cookie (HttpOnly, Secure,
//!   SameSite=Lax, Path=/), stored as SHA-256. Each use rotates it; presenting a used token
//!   again revokes its whole family (a stolen token is detected when either party uses it).
//! * Rate limits: counted in the `rate_hits` table per client address and per email.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use rusqlite::{OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub const ACCESS_COOKIE: &str = "__Host-og_at";
pub const REFRESH_COOKIE: &str = "__Host-og_rt";
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
pub const REFRESH_TTL_SECS: i64 = 30 * 24 * 3600;
/// A refresh token presented twice within this many seconds is a browser race (two tabs or
/// parallel requests), not theft: the second request is just not refreshed.
const REUSE_GRACE_SECS: i64 = 10;

/// Hashes a password with argon2id (OWASP parameters) into a PHC string. CPU-heavy: call it
/// from a blocking thread.
pub fn hash_password(password: &str) -> AppResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("argon2: {e}")))
}

static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_password("dummy password for timing").unwrap_or_default());

/// Checks a password against a stored PHC string; with `None`, burns the same time and fails.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    let phc = stored.unwrap_or(DUMMY_HASH.as_str());
    let ok = match PasswordHash::new(phc) {
        Ok(h) => Argon2::default().verify_password(password.as_bytes(), &h).is_ok(),
        Err(_) => false,
    };
    ok && stored.is_some()
}

/// A fresh random token (64 hex digits) for links and refresh cookies.
pub fn random_token() -> String {
    hex::encode(&crate::keys::random_32()[..])
}

/// What is stored instead of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct AccessClaims {
    sub: String,
    iat: i64,
    exp: i64,
}

/// Signs a 15-minute access token for an account.
pub fn issue_access(state: &AppState, account_id: i64, now: i64) -> AppResult<String> {
    let claims = AccessClaims {
        sub: account_id.to_string(),
        iat: now,
        exp: now + ACCESS_TTL_SECS,
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&state.secrets.jwt[..]),
    )
    .map_err(AppError::internal)
}

/// Checks an access token (signature, HS256 only, expiry with no leeway) and returns the account id.
pub fn verify_access(state: &AppState, token: &str) -> Option<i64> {
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.leeway = 0;
    v.set_required_spec_claims(&["exp", "sub"]);
    let data = jsonwebtoken::decode::<AccessClaims>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(&state.secrets.jwt[..]),
        &v,
    )
    .ok()?;
    data.claims.sub.parse().ok()
}

/// Starts a refresh-token family for a login; returns the token for the cookie.
pub fn start_refresh_family(tx: &Transaction<'_>, account_id: i64, now: i64) -> AppResult<String> {
    let token = random_token();
    let family = random_token();
    tx.execute(
        "INSERT INTO refresh_tokens (token_hash, family, account_id, expires_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token_hash(&token), family, account_id, now + REFRESH_TTL_SECS, now],
    )?;
    Ok(token)
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum Rotation {
    /// Valid: the account and the next token.
    Rotated { account_id: i64, token: String },
    /// Unknown, expired or revoked token.
    Invalid,
    /// A used token presented again: its family is now revoked (commit this!).
    ReuseDetected,
    /// A used token presented again within seconds (parallel requests): nothing done.
    Race,
}

/// Rotates a refresh token. The caller commits whatever the outcome (reuse revokes the family).
pub fn rotate_refresh(tx: &Transaction<'_>, token: &str, now: i64) -> AppResult<Rotation> {
    type Row = (String, i64, i64, Option<i64>, Option<i64>);
    let row: Option<Row> = tx
        .query_row(
            "SELECT family, account_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = ?1",
            [token_hash(token)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((family, account_id, expires_at, used_at, revoked_at)) = row else {
        return Ok(Rotation::Invalid);
    };
    if revoked_at.is_some() || expires_at <= now {
        return Ok(Rotation::Invalid);
    }
    if let Some(used) = used_at {
        if now - used <= REUSE_GRACE_SECS {
            return Ok(Rotation::Race);
        }
        revoke_family(tx, &family, now)?;
        tracing::warn!(account_id, "refresh token reused: its family is revoked");
        return Ok(Rotation::ReuseDetected);
    }
    let active: Option<String> = tx
        .query_row("SELECT status FROM accounts WHERE id = ?1", [account_id], |r| r.get(0))
        .optional()?;
    if active.as_deref() != Some("active") {
        return Ok(Rotation::Invalid);
    }
    tx.execute(
        "UPDATE refresh_tokens SET used_at = ?2 WHERE token_hash = ?1",
        params![token_hash(token), now],
    )?;
    let next = random_token();
    tx.execute(
        "INSERT INTO refresh_tokens (token_hash, family, account_id, expires_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token_hash(&next), family, account_id, now + REFRESH_TTL_SECS, now],
    )?;
    Ok(Rotation::Rotated {
        account_id,
        token: next,
    })
}

fn revoke_family(tx: &Transaction<'_>, family: &str, now: i64) -> AppResult<()> {
    tx.execute(
        "UPDATE refresh_tokens SET revoked_at = ?2 WHERE family = ?1 AND revoked_at IS NULL",
        params![family, now],
    )?;
    Ok(())
}

/// Revokes the family of a refresh token (logout).
pub fn revoke_by_token(tx: &Transaction<'_>, token: &str, now: i64) -> AppResult<()> {
    let family: Option<String> = tx
        .query_row(
            "SELECT family FROM refresh_tokens WHERE token_hash = ?1",
            [token_hash(token)],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(f) = family {
        revoke_family(tx, &f, now)?;
    }
    Ok(())
}

/// Revokes every refresh token of an account (password reset).
pub fn revoke_all_for_account(tx: &Transaction<'_>, account_id: i64, now: i64) -> AppResult<()> {
    tx.execute(
        "UPDATE refresh_tokens SET revoked_at = ?2 WHERE account_id = ?1 AND revoked_at IS NULL",
        params![account_id, now],
    )?;
    Ok(())
}

/// A `Set-Cookie` value for one of our `__Host-` cookies (`max_age` 0 deletes it).
pub fn cookie(name: &str, value: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("invalid=1; Max-Age=0"))
}

/// The cookies a login or refresh sets.
pub fn session_cookies(access: &str, refresh: &str) -> [HeaderValue; 2] {
    [
        cookie(ACCESS_COOKIE, access, ACCESS_TTL_SECS),
        cookie(REFRESH_COOKIE, refresh, REFRESH_TTL_SECS),
    ]
}

/// The value of a cookie in a request, if present.
pub fn get_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A signed-in, active buyer.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
}

impl AuthUser {
    /// The name printed on tickets.
    pub fn holder_name(&self) -> String {
        if self.display_name.is_empty() {
            self.email.clone()
        } else {
            self.display_name.clone()
        }
    }
}

fn bearer_or_cookie(headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if let Some(t) = bearer {
        return Some(t.trim().to_owned());
    }
    get_cookie(headers, ACCESS_COOKIE)
}

/// Loads the active account behind a request's access token, if any.
pub async fn user_from_headers(state: &AppState, headers: &HeaderMap) -> AppResult<Option<AuthUser>> {
    let Some(token) = bearer_or_cookie(headers) else {
        return Ok(None);
    };
    let Some(id) = verify_access(state, &token) else {
        return Ok(None);
    };
    load_user(state, id).await
}

pub async fn load_user(state: &AppState, id: i64) -> AppResult<Option<AuthUser>> {
    state
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT id, email, display_name, role FROM accounts WHERE id = ?1 AND status = 'active'",
                [id],
                |r| {
                    Ok(AuthUser {
                        id: r.get(0)?,
                        email: r.get(1)?,
                        display_name: r.get(2)?,
                        role: r.get(3)?,
                    })
                },
            )
            .optional()?)
        })
        .await
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<AuthUser, AppError> {
        if let Some(u) = parts.extensions.get::<AuthUser>() {
            return Ok(u.clone());
        }
        match user_from_headers(state, &parts.headers).await? {
            Some(u) => {
                parts.extensions.insert(u.clone());
                Ok(u)
            }
            None => Err(AppError::Unauthorized(
                "sign in first: the access token is missing, expired or invalid".into(),
            )),
        }
    }
}

/// The signed-in user if any (pages that work for guests too).
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<AuthUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<MaybeUser, AppError> {
        match AuthUser::from_request_parts(parts, state).await {
            Ok(u) => Ok(MaybeUser(Some(u))),
            Err(AppError::Unauthorized(_)) => Ok(MaybeUser(None)),
            Err(e) => Err(e),
        }
    }
}

/// Middleware for web pages: a browser whose access cookie expired but whose refresh cookie is
/// valid is refreshed transparently (rotation included) before the page handler runs. API
/// clients refresh explicitly with `POST /api/v1/auth/refresh`.
pub async fn refresh_pages(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let is_page = !path.starts_with("/api/");
    let mut set = Vec::new();
    let refresh = if is_page
        && bearer_or_cookie(req.headers())
            .and_then(|t| verify_access(&state, &t))
            .is_none()
    {
        get_cookie(req.headers(), REFRESH_COOKIE)
    } else {
        None
    };
    if let Some(rt) = refresh {
        let now = crate::now();
        let rotated = state.db.write(move |tx| rotate_refresh(tx, &rt, now)).await;
        match rotated {
            Ok(Rotation::Rotated { account_id, token }) => {
                if let Ok(access) = issue_access(&state, account_id, now) {
                    if let Ok(v) = HeaderValue::from_str(&format!("Bearer {access}")) {
                        req.headers_mut().insert(AUTHORIZATION, v);
                    }
                    set.extend(session_cookies(&access, &token));
                }
            }
            // A dead refresh cookie is dropped so later pages do not try it again.
            Ok(Rotation::Invalid | Rotation::ReuseDetected) => {
                set.push(cookie(ACCESS_COOKIE, "", 0));
                set.push(cookie(REFRESH_COOKIE, "", 0));
            }
            Ok(Rotation::Race) | Err(_) => {}
        }
    }
    let mut res = next.run(req).await;
    for c in set {
        res.headers_mut().append(SET_COOKIE, c);
    }
    res
}

/// Counts a hit in each bucket and refuses with 429 when any bucket already has `max` hits in
/// the last `window` seconds. Runs in its own transaction so failed logins still count.
pub async fn rate_limit(state: &AppState, buckets: Vec<String>, window: i64, max: i64) -> AppResult<()> {
    let now = crate::now();
    let limited = state
        .db
        .write(move |tx| {
            tx.execute("DELETE FROM rate_hits WHERE at < ?1", [now - 24 * 3600])?;
            let mut limited = false;
            for b in &buckets {
                let n: i64 = tx.query_row(
                    "SELECT count(*) FROM rate_hits WHERE bucket = ?1 AND at > ?2",
                    params![b, now - window],
                    |r| r.get(0),
                )?;
                if n >= max {
                    limited = true;
                } else {
                    tx.execute("INSERT INTO rate_hits (bucket, at) VALUES (?1, ?2)", params![b, now])?;
                }
            }
            Ok(limited)
        })
        .await?;
    if limited {
        Err(AppError::TooManyRequests)
    } else {
        Ok(())
    }
}
