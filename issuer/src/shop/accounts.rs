//! Account life cycle shared by the JSON API and the web pages: sign-up, activation (which
//! makes the account key), login, password reset, the data export and the account's deletion
//! (its personal data erased, the mails still queued for it included). None of these answers
//! reveals whether an email address is registered: sign-up and "forgot password" always say
//! "check your mail", and login fails the same way (and takes the same time) for unknown
//! addresses and wrong passwords.

use crate::domain::{Email, Password};
use crate::error::{AppError, AppResult};
use crate::i18n;
use crate::shop::Services;
use crate::shop::auth;
use crate::shop::mail::{self, Mail};
use crate::store::{accounts, mail_tokens};
use crate::tr;

pub const ACTIVATION_TTL_SECS: i64 = 48 * 3600;
pub const RESET_TTL_SECS: i64 = 3600;

/// Limits per client address and per email.
const SIGNUP_PER_IP_PER_HOUR: i64 = 30;
const LOGIN_PER_IP_PER_5MIN: i64 = 60;

/// A fresh single-use mail token and the hash stored for it.
fn new_mail_token() -> (String, String) {
    let token = auth::random_token();
    let hash = auth::token_hash(&token);
    (token, hash)
}

/// The link to mail for `token` at `path` (logged in demo mode).
fn mail_link(state: &Services, what: &str, path: &str, token: &str) -> String {
    let link = format!("{}{path}?token={token}", state.base_url);
    demo_log_link(state, what, &link);
    link
}

fn demo_log_link(state: &Services, what: &str, link: &str) {
    if state.settings.demo_mode() {
        // Demo mode only (no SMTP): the link is short-lived and single-use.
        tracing::info!(
            "{what} link (demo mode, mail written to {}): {link}",
            state.settings.mail_dir().display()
        );
    }
}

/// Proof that the buyer accepted the terms of sale and the privacy policy (the sign-up page's
/// required checkbox, the API's `accept_terms: true`); no account is made without it.
#[derive(Debug, Clone, Copy)]
pub struct TermsAccepted(());

impl TermsAccepted {
    pub fn check(accepted: bool) -> AppResult<TermsAccepted> {
        if accepted {
            Ok(TermsAccepted(()))
        } else {
            Err(AppError::bad_request(
                "terms_not_accepted",
                "accept the terms of sale and the privacy policy (/terms, /privacy): send accept_terms: true",
            ))
        }
    }
}

/// Registers a pending account and mails an activation link. If the address is already
/// registered, the owner gets a mail saying so instead; the caller's answer is the same.
pub async fn sign_up(
    state: &Services,
    ip: &str,
    email: Email,
    password: Password,
    name: String,
    _terms: TermsAccepted,
) -> AppResult<()> {
    auth::rate_limit(state, vec![format!("signup:{ip}")], 3600, SIGNUP_PER_IP_PER_HOUR).await?;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(password.expose()))
        .await
        .map_err(AppError::internal)??;
    let now = crate::now();
    let (token, th) = new_mail_token();
    let em = email.as_str().to_owned();
    // The language the buyer chose or their browser asked for becomes the account's preference
    // (mails written later, without a request, use it); the deployment's default does not.
    let lang = i18n::current();
    let language = i18n::current_is_chosen().then(|| lang.code().to_owned());
    let services = state.clone();
    let to = email.as_str().to_owned();
    state
        .db
        .write(move |tx| {
            let existing = accounts::id_and_language_by_email(tx, &em)?;
            // The address's owner is told either way, so the page says the same thing whether
            // or not the address has an account.
            let mail = match existing {
                Some((id, existing_language)) => {
                    let l = existing_language.as_deref().and_then(i18n::find).unwrap_or(lang);
                    let forgot = format!("{}/password/forgot", services.base_url);
                    (
                        id,
                        l,
                        tr!(l, "mail-signup-exists-subject"),
                        tr!(l, "mail-signup-exists-body", link = forgot),
                    )
                }
                None => {
                    let id = accounts::insert_pending(tx, &em, &hash, &name, language.as_deref(), now)?;
                    mail_tokens::insert_activation(tx, &th, id, now + ACTIVATION_TTL_SECS)?;
                    let link = mail_link(&services, "activation", "/activate", &token);
                    (
                        id,
                        lang,
                        tr!(lang, "mail-activate-subject"),
                        tr!(lang, "mail-activate-body", link = link),
                    )
                }
            };
            let (id, l, subject, body) = mail;
            mail::queue_framed(tx, Some(id), l, Mail { to, subject, body }, now)
        })
        .await?;
    mail::wake(state);
    Ok(())
}

/// Records the language a signed-in buyer chose (the header's switcher).
pub async fn set_language(state: &Services, account_id: i64, language: &str) -> AppResult<()> {
    let language = language.to_owned();
    state
        .db
        .write(move |tx| Ok(accounts::set_language(tx, account_id, &language)?))
        .await
}

/// Marks a mailed token (activation or reset link) used and returns its account; a token that
/// is unknown (400), already used or expired (410) is refused with the given messages.
fn consume_mail_token(
    tx: &crate::store::sql::Transaction<'_>,
    token_hash: &str,
    purpose: &str,
    now: i64,
    invalid: &str,
    used: &str,
    expired: &str,
) -> AppResult<i64> {
    let row = mail_tokens::by_hash(tx, token_hash, purpose)?;
    let (account_id, expires_at, used_at) = row.ok_or_else(|| AppError::bad_request("invalid_token", invalid))?;
    if used_at.is_some() {
        return Err(AppError::Gone {
            code: "token_used",
            message: used.into(),
        });
    }
    if expires_at <= now {
        return Err(AppError::Gone {
            code: "token_expired",
            message: expired.into(),
        });
    }
    mail_tokens::mark_used(tx, token_hash, now)?;
    Ok(account_id)
}

/// Activates the account behind an activation token and creates its account key.
pub async fn activate(state: &Services, token: &str) -> AppResult<()> {
    let th = auth::token_hash(token);
    let now = crate::now();
    state
        .db
        .write(move |tx| {
            let account_id = consume_mail_token(
                tx,
                &th,
                "activate",
                now,
                "this activation link is not valid",
                "this activation link was already used: log in",
                "this activation link has expired: sign up again",
            )?;
            accounts::activate_pending(tx, account_id, now)?;
            crate::trust::issuance::ensure_account_key(tx, account_id)?;
            Ok(())
        })
        .await
}

/// A successful login.
pub struct Session {
    pub account_id: i64,
    pub access: String,
    pub refresh: String,
    /// `Set-Cookie` marking this browser as known to the account (see `auth::login_delay`).
    pub known_device: axum::http::HeaderValue,
}

impl Session {
    /// Every cookie a login sets: access, refresh and known device.
    pub fn cookies(&self) -> Vec<axum::http::HeaderValue> {
        let mut v = auth::session_cookies(&self.access, &self.refresh).to_vec();
        v.push(self.known_device.clone());
        v
    }
}

/// Checks credentials and starts a session; merges the guest cart into the account's.
/// Limited per client address; wrong passwords slow further attempts on the account down,
/// except from a browser that signed in to it before (`known_device`, the cookie's value).
pub async fn log_in(
    state: &Services,
    ip: &str,
    email: &str,
    password: &str,
    guest_cart: Vec<(i64, i64)>,
    known_device: Option<&str>,
) -> AppResult<Session> {
    let email_key = email.trim().to_lowercase();
    auth::rate_limit(state, vec![format!("login-ip:{ip}")], 300, LOGIN_PER_IP_PER_5MIN).await?;
    if !auth::is_known_device(state, &email_key, known_device) {
        let wait = auth::login_delay(state, &email_key, crate::now()).await?;
        if wait > 0 {
            return Err(AppError::TooManyRequests {
                retry_after_secs: wait.unsigned_abs(),
            });
        }
    }
    let em = email.trim().to_owned();
    let row: Option<(i64, String, String)> = state
        .db
        .read(move |c| Ok(accounts::credentials_by_email(c, &em)?))
        .await?;
    let pw = password.to_owned();
    let stored = row.as_ref().map(|r| r.1.clone());
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&pw, stored.as_deref()))
        .await
        .map_err(AppError::internal)?;
    let wrong = || AppError::Unauthorized("wrong email or password".into());
    if !ok {
        auth::record_login_failure(state, &email_key).await?;
        return Err(wrong());
    }
    let Some((account_id, _, status)) = row else {
        return Err(wrong());
    };
    if status != "active" {
        return Err(AppError::Forbidden(
            "this account is not activated yet: open the link we mailed you".into(),
        ));
    }
    let now = crate::now();
    let (refresh, generation) = state
        .db
        .write(move |tx| {
            crate::shop::orders::merge_cart(tx, account_id, &guest_cart)?;
            Ok((
                auth::start_refresh_family(tx, account_id, now)?,
                auth::session_gen(tx, account_id)?,
            ))
        })
        .await?;
    let access = auth::issue_access(state, account_id, generation, now)?;
    Ok(Session {
        account_id,
        access,
        refresh,
        known_device: auth::known_device_cookie(state, &email_key),
    })
}

/// Mails a reset link if the address belongs to an active account. Same answer either way.
pub async fn forgot_password(state: &Services, ip: &str, email: Email) -> AppResult<()> {
    auth::rate_limit(state, vec![format!("forgot:{ip}")], 3600, SIGNUP_PER_IP_PER_HOUR).await?;
    let now = crate::now();
    let (token, th) = new_mail_token();
    let em = email.as_str().to_owned();
    let services = state.clone();
    let page = i18n::current();
    let to = email.as_str().to_owned();
    state
        .db
        .write(move |tx| {
            let id = accounts::active_id_and_language_by_email(tx, &em)?;
            if let Some((id, language)) = id {
                mail_tokens::insert_reset(tx, &th, id, now + RESET_TTL_SECS)?;
                let l = language.as_deref().and_then(i18n::find).unwrap_or(page);
                let link = mail_link(&services, "password reset", "/password/reset", &token);
                mail::queue_framed(
                    tx,
                    Some(id),
                    l,
                    Mail {
                        to,
                        subject: tr!(l, "mail-reset-subject"),
                        body: tr!(l, "mail-reset-body", link = link),
                    },
                    now,
                )?;
            }
            Ok(())
        })
        .await?;
    mail::wake(state);
    Ok(())
}

/// Asks the signed-in buyer for their password again before a sensitive change: a wrong one
/// counts as a failed log-in (and is slowed down like one), so the page cannot be used to guess.
async fn confirm_password(state: &Services, user: &auth::AuthUser, password: &str) -> AppResult<()> {
    let email_key = user.email.trim().to_lowercase();
    let wait = auth::login_delay(state, &email_key, crate::now()).await?;
    if wait > 0 {
        return Err(AppError::TooManyRequests {
            retry_after_secs: wait.unsigned_abs(),
        });
    }
    let account_id = user.id;
    let stored: Option<String> = state
        .db
        .read(move |c| Ok(accounts::password_hash(c, account_id)?))
        .await?;
    let pw = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&pw, stored.as_deref()))
        .await
        .map_err(AppError::internal)?;
    if !ok {
        auth::record_login_failure(state, &email_key).await?;
        return Err(AppError::Forbidden("the current password is wrong".into()));
    }
    Ok(())
}

/// Changes the password of a signed-in account; the current password must be given (wrong
/// ones count like failed logins and are slowed down the same way). Every session of the
/// account ends, the caller's included. The caller checked that its session is current
/// (`auth::SensitiveUser`).
pub async fn change_password(
    state: &Services,
    user: &auth::AuthUser,
    current: &str,
    password: Password,
) -> AppResult<()> {
    confirm_password(state, user, current).await?;
    let account_id = user.id;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(password.expose()))
        .await
        .map_err(AppError::internal)??;
    let now = crate::now();
    let (services, email, language) = (state.clone(), user.email.clone(), user.language.clone());
    state
        .db
        .write(move |tx| {
            accounts::set_password_hash(tx, account_id, &hash)?;
            auth::revoke_all_for_account(tx, account_id, now)?;
            crate::shop::notice_mail::password_changed(
                tx,
                &services,
                account_id,
                &email,
                language.as_deref(),
                now,
                false,
            )
        })
        .await?;
    mail::wake(state);
    Ok(())
}

/// Sets a new password with a reset token; every session of the account is ended.
pub async fn reset_password(state: &Services, token: &str, password: Password) -> AppResult<()> {
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(password.expose()))
        .await
        .map_err(AppError::internal)??;
    let th = auth::token_hash(token);
    let now = crate::now();
    let services = state.clone();
    state
        .db
        .write(move |tx| {
            let account_id = consume_mail_token(
                tx,
                &th,
                "reset",
                now,
                "this reset link is not valid",
                "this reset link was already used: ask for a new one",
                "this reset link has expired: ask for a new one",
            )?;
            accounts::set_password_hash(tx, account_id, &hash)?;
            auth::revoke_all_for_account(tx, account_id, now)?;
            let (email, language) = accounts::email_and_language(tx, account_id)?;
            crate::shop::notice_mail::password_changed(
                tx,
                &services,
                account_id,
                &email,
                language.as_deref(),
                now,
                true,
            )
        })
        .await?;
    mail::wake(state);
    Ok(())
}

/// Changes the name on the buyer's future tickets and their language.
pub async fn update_profile(state: &Services, account_id: i64, name: String, language: &str) -> AppResult<()> {
    let language = language.to_owned();
    state
        .db
        .write(move |tx| Ok(accounts::set_name_and_language(tx, account_id, &name, &language)?))
        .await
}

/// Everything kept about an account, for its owner ("download my data").
pub async fn export(state: &Services, account_id: i64, base_url: String) -> AppResult<serde_json::Value> {
    state
        .db
        .read(move |c| {
            let kept = accounts::kept(c, account_id)?;
            let account = serde_json::json!({
                "email": kept.email,
                "name": kept.display_name,
                "language": kept.language,
                "status": kept.status,
                "created_at": kept.created_at,
                "activated_at": kept.activated_at,
                "terms_accepted_at": kept.terms_accepted_at,
            });
            Ok(serde_json::json!({
                "account": account,
                "orders": crate::shop::orders::list_orders(c, account_id, &base_url)?,
                "tickets": crate::shop::orders::list_tickets(c, account_id)?,
                "tickets_given": crate::shop::orders::given_tickets(c, account_id)?,
            }))
        })
        .await
}

/// Deletes a buyer's account at their request (the password is asked again; wrong ones count
/// like failed logins). Their tickets that still work are revoked (gates refuse them after
/// their next sync; refund them before, until the doors open, to get the money back); their
/// personal data (address, name, language, password hash) is erased, and so are the mails still
/// queued for it (they hold its address); orders and payments stay, without a name, as
/// accounting requires; every session ends.
pub async fn delete_account(state: &Services, user: &auth::AuthUser, password: &str) -> AppResult<()> {
    confirm_password(state, user, password).await?;
    let account_id = user.id;
    let now = crate::now();
    state
        .db
        .write(move |tx| {
            crate::trust::revocation::revoke_account(tx, account_id, og_shared::sync::RevocationReason::Other, now)?;
            accounts::erase_personal_data(tx, account_id)?;
            crate::store::tickets::clear_holder_names_of_account(tx, account_id)?;
            crate::shop::orders::clear_cart(tx, account_id)?;
            mail_tokens::delete_of_account(tx, account_id)?;
            // The mails still waiting for the account hold its address: they go with it.
            crate::store::mail_outbox::delete_of_account(tx, account_id)?;
            auth::revoke_all_for_account(tx, account_id, now)
        })
        .await
}
