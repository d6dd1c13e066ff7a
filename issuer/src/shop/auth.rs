//! Buyer authentication: password hashing, access tokens, rotating refresh tokens, cookies,
//! the [`AuthUser`] extractor and rate limiting.
//!
//! * Passwords: argon2id with the OWASP parameters (19 MiB, t=2, p=1; the crate's defaults),
//!   PHC strings in the database. Unknown emails are checked against a dummy hash so the
//!   answer time does not reveal whether an address is registered.
//! * Access token: a JWT signed HS256 with `secrets.jwt`, 5 minutes, algorithm fixed on both
//!   sides. Sent as `Authorization: Bearer` by API clients, or as the `__Host-og_at` cookie.
//!   It carries the account's session generation (`accounts.session_gen`), which logout,
//!   refresh-token reuse and password changes bump: sensitive actions (refund, transfer,
//!   password change, binding a phone) take [`SensitiveUser`], which refuses a token of an
//!   older generation, so a copied token is worthless for them as soon as the session ends.
//! * Refresh token: 32 random bytes in the `__Host-og_rt` cookie (HttpOnly, Secure,
//!   SameSite=Lax, Path=/), stored as SHA-256. Each use rotates it; presenting a used token
//!   again revokes its whole family (a stolen token is detected when either party uses it).
//! * Rate limits: counted in the `rate_hits` table per client address (see `proxy` for the
//!   address behind nginx); wrong passwords slow further attempts on that account down
//!   ([`login_delay`]) without ever locking its owner out: a browser that signed in to the
//!   account before (the `__Host-og_kd` known-device cookie) is not slowed down, and anyone
//!   else only has to wait (at most a minute).

use std::sync::LazyLock;

use crate::store::sql::Transaction;
use crate::store::{accounts, rate_hits, refresh_tokens};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::shop::Services;

pub const ACCESS_COOKIE: &str = "__Host-og_at";
pub const REFRESH_COOKIE: &str = "__Host-og_rt";
pub const ACCESS_TTL_SECS: i64 = 5 * 60;
/// Cookie marking a browser that signed in to an account before (see [`known_device_token`]).
pub const KNOWN_DEVICE_COOKIE: &str = "__Host-og_kd";
const KNOWN_DEVICE_TTL_SECS: i64 = 400 * 24 * 3600;
/// Wrong passwords for one account within [`FAILURE_WINDOW_SECS`] before attempts slow down.
pub const FREE_FAILURES: i64 = 5;
const FAILURE_WINDOW_SECS: i64 = 15 * 60;
/// The longest an attempt on a slowed-down account has to wait.
pub const MAX_LOGIN_DELAY_SECS: i64 = 60;
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
    hex::encode(&crate::trust::keys::random_32()[..])
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
    /// The account's session generation when the token was issued.
    #[serde(default, rename = "gen")]
    session_gen: i64,
}

/// Signs a short-lived access token for an account at its current session generation.
pub fn issue_access(state: &Services, account_id: i64, session_gen: i64, now: i64) -> AppResult<String> {
    let claims = AccessClaims {
        sub: account_id.to_string(),
        iat: now,
        exp: now + ACCESS_TTL_SECS,
        session_gen,
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&state.secrets.jwt[..]),
    )
    .map_err(AppError::internal)
}

/// Checks an access token (signature, HS256 only, expiry with no leeway) and returns the account
/// id and the session generation it was issued at.
pub fn verify_access(state: &Services, token: &str) -> Option<(i64, i64)> {
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.leeway = 0;
    v.set_required_spec_claims(&["exp", "sub"]);
    let data = jsonwebtoken::decode::<AccessClaims>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(&state.secrets.jwt[..]),
        &v,
    )
    .ok()?;
    Some((data.claims.sub.parse().ok()?, data.claims.session_gen))
}

/// The account's current session generation.
pub fn session_gen(tx: &crate::store::sql::Connection, account_id: i64) -> AppResult<i64> {
    Ok(accounts::session_gen(tx, account_id)?.unwrap_or(0))
}

/// Ends every access token of the account for sensitive actions (logout, refresh-token reuse,
/// password change): they carry an older generation from now on.
pub fn bump_session_gen(tx: &Transaction<'_>, account_id: i64) -> AppResult<()> {
    accounts::bump_session_gen(tx, account_id)?;
    Ok(())
}

/// Starts a refresh-token family for a login; returns the token for the cookie.
pub fn start_refresh_family(tx: &Transaction<'_>, account_id: i64, now: i64) -> AppResult<String> {
    let token = random_token();
    let family = random_token();
    refresh_tokens::insert(
        tx,
        &token_hash(&token),
        &family,
        account_id,
        now + REFRESH_TTL_SECS,
        now,
    )?;
    Ok(token)
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum Rotation {
    /// Valid: the account, its session generation and the next token.
    Rotated {
        account_id: i64,
        session_gen: i64,
        token: String,
    },
    /// Unknown, expired or revoked token.
    Invalid,
    /// A used token presented again: its family is now revoked (commit this!).
    ReuseDetected,
    /// A used token presented again within seconds (parallel requests): nothing done.
    Race,
}

/// Rotates a refresh token. The caller commits whatever the outcome (reuse revokes the family).
pub fn rotate_refresh(tx: &Transaction<'_>, token: &str, now: i64) -> AppResult<Rotation> {
    let Some(refresh_tokens::Token {
        family,
        account_id,
        expires_at,
        used_at,
        revoked_at,
    }) = refresh_tokens::by_hash(tx, &token_hash(token))?
    else {
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
        bump_session_gen(tx, account_id)?;
        tracing::warn!(account_id, "refresh token reused: its family is revoked");
        return Ok(Rotation::ReuseDetected);
    }
    let active: Option<String> = accounts::status(tx, account_id)?;
    if active.as_deref() != Some("active") {
        return Ok(Rotation::Invalid);
    }
    refresh_tokens::mark_used(tx, &token_hash(token), now)?;
    let next = random_token();
    refresh_tokens::insert(tx, &token_hash(&next), &family, account_id, now + REFRESH_TTL_SECS, now)?;
    Ok(Rotation::Rotated {
        account_id,
        session_gen: session_gen(tx, account_id)?,
        token: next,
    })
}

fn revoke_family(tx: &Transaction<'_>, family: &str, now: i64) -> AppResult<()> {
    refresh_tokens::revoke_family(tx, family, now)?;
    Ok(())
}

/// Revokes the family of a refresh token and ends the account's access tokens for sensitive
/// actions (logout).
pub fn revoke_by_token(tx: &Transaction<'_>, token: &str, now: i64) -> AppResult<()> {
    let family = refresh_tokens::family_and_account(tx, &token_hash(token))?;
    if let Some((f, account_id)) = family {
        revoke_family(tx, &f, now)?;
        bump_session_gen(tx, account_id)?;
    }
    Ok(())
}

/// Revokes every refresh token of an account and ends its access tokens for sensitive
/// actions (password reset or change).
pub fn revoke_all_for_account(tx: &Transaction<'_>, account_id: i64, now: i64) -> AppResult<()> {
    refresh_tokens::revoke_all_of_account(tx, account_id, now)?;
    bump_session_gen(tx, account_id)
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
    /// The language the account chose (`accounts.language`), if any.
    pub language: Option<String>,
    /// Whether the token is of the account's current session generation (see
    /// [`AuthUser::ensure_current_session`]).
    pub current_session: bool,
}

impl AuthUser {
    /// The check before a sensitive action (refund, transfer, password change, binding a
    /// phone): refuses an access token that outlived its session (logout, refresh-token reuse,
    /// password change) with 401. [`SensitiveUser`] is the same check as an extractor.
    pub fn ensure_current_session(&self) -> AppResult<()> {
        if self.current_session {
            Ok(())
        } else {
            Err(AppError::Unauthorized(
                "this session has ended (logout, password change or a reused refresh token): sign in again".into(),
            ))
        }
    }

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
pub async fn user_from_headers(state: &Services, headers: &HeaderMap) -> AppResult<Option<AuthUser>> {
    let Some(token) = bearer_or_cookie(headers) else {
        return Ok(None);
    };
    let Some((id, generation)) = verify_access(state, &token) else {
        return Ok(None);
    };
    load_user(state, id, generation).await
}

/// The active account `id`, for a token of session generation `generation`.
pub async fn load_user(state: &Services, id: i64, generation: i64) -> AppResult<Option<AuthUser>> {
    state
        .db
        .read_one(move |c| {
            Ok(accounts::active_buyer(c, id)?.map(|a| AuthUser {
                id: a.id,
                email: a.email,
                display_name: a.display_name,
                role: a.role,
                current_session: a.session_gen == generation,
                language: a.language,
            }))
        })
        .await
}

/// A signed-in buyer whose session is current: the extractor for sensitive actions (refund,
/// transfer, password change, binding a phone). See [`AuthUser::ensure_current_session`].
#[derive(Debug, Clone)]
pub struct SensitiveUser(pub AuthUser);

/// The signed-in user if any (pages that work for guests too).
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<AuthUser>);

/// Middleware for web pages: a browser whose access cookie expired but whose refresh cookie is
/// valid is refreshed transparently (rotation included) before the page handler runs. API
/// clients refresh explicitly with `POST /api/v1/auth/refresh`.
pub async fn refresh_pages(State(state): State<Services>, mut req: Request, next: Next) -> Response {
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
            Ok(Rotation::Rotated {
                account_id,
                session_gen,
                token,
            }) => {
                if let Ok(access) = issue_access(&state, account_id, session_gen, now) {
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
/// the last `window` seconds (the answer says when a slot frees up). Runs in its own
/// transaction so failed logins still count.
pub async fn rate_limit(state: &Services, buckets: Vec<String>, window: i64, max: i64) -> AppResult<()> {
    let now = crate::now();
    let wait = state
        .db
        .write(move |tx| {
            rate_hits::delete_before(tx, now - 24 * 3600)?;
            let mut wait = 0;
            for b in &buckets {
                let (n, oldest) = rate_hits::count_and_oldest_after(tx, b, now - window)?;
                if n >= max {
                    wait = wait.max(oldest.unwrap_or(now) + window - now + 1);
                } else {
                    rate_hits::insert(tx, b, now)?;
                }
            }
            Ok(wait)
        })
        .await?;
    if wait > 0 {
        Err(AppError::TooManyRequests {
            retry_after_secs: wait.unsigned_abs(),
        })
    } else {
        Ok(())
    }
}

/// The known-device cookie value for an account (keyed by its normalised email): an HMAC only
/// the server can compute, given to a browser when it signs in.
pub fn known_device_token(state: &Services, email_key: &str) -> String {
    let mut mac = <hmac::Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&state.secrets.jwt[..])
        .expect("HMAC takes any key length");
    hmac::Mac::update(&mut mac, b"og-known-device-v1:");
    hmac::Mac::update(&mut mac, email_key.as_bytes());
    hex::encode(hmac::Mac::finalize(mac).into_bytes())
}

/// Whether a request's known-device cookie belongs to this account.
pub fn is_known_device(state: &Services, email_key: &str, cookie: Option<&str>) -> bool {
    cookie.is_some_and(|c| {
        bool::from(subtle::ConstantTimeEq::ct_eq(
            c.as_bytes(),
            known_device_token(state, email_key).as_bytes(),
        ))
    })
}

/// The `Set-Cookie` for the known-device cookie.
pub fn known_device_cookie(state: &Services, email_key: &str) -> HeaderValue {
    cookie(
        KNOWN_DEVICE_COOKIE,
        &known_device_token(state, email_key),
        KNOWN_DEVICE_TTL_SECS,
    )
}

fn failure_bucket(email_key: &str) -> String {
    format!("login-fail:{email_key}")
}

/// How long a login attempt on this account must still wait: 0 until [`FREE_FAILURES`] wrong
/// passwords within 15 minutes, then doubling from 2 s with each further failure, at most
/// [`MAX_LOGIN_DELAY_SECS`] after the last failure. The right password is only checked once
/// the wait is over, so guessing is slowed down while the owner is never locked out.
pub async fn login_delay(state: &Services, email_key: &str, now: i64) -> AppResult<i64> {
    let bucket = failure_bucket(email_key);
    let (n, last): (i64, Option<i64>) = state
        .db
        .read(move |c| {
            Ok(rate_hits::count_and_latest_after(
                c,
                &bucket,
                now - FAILURE_WINDOW_SECS,
            )?)
        })
        .await?;
    if n < FREE_FAILURES {
        return Ok(0);
    }
    let exp = u32::try_from(n - FREE_FAILURES + 1).unwrap_or(u32::MAX).min(16);
    let delay = (1i64 << exp).min(MAX_LOGIN_DELAY_SECS);
    Ok((last.unwrap_or(now) + delay - now).max(0))
}

/// Records a wrong password for the account. A later right one does not clear the record (the
/// owner signing in must not hand a guesser fresh free attempts); it expires after 15 minutes.
pub async fn record_login_failure(state: &Services, email_key: &str) -> AppResult<()> {
    let bucket = failure_bucket(email_key);
    let now = crate::now();
    state.db.write(move |tx| Ok(rate_hits::insert(tx, &bucket, now)?)).await
}
