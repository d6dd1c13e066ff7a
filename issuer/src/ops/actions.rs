//! What operators do, each action one function shared by the JSON API (`web::operator`,
//! `web::devices`) and the console (`web::console`): create and change events and offers,
//! issue complimentary tickets, revoke (a ticket, a purchase, an account, with a ban), refund a
//! ticket by decision, mark a refund made, record a paper exception, make enrolment tokens and
//! rename, rotate or revoke devices. Each runs its rules and appends its `ops_audit` entry
//! (`ops::audit`, who, when, what) in one write transaction.

use og_shared::Offer;
use og_shared::sync::{Revocation, RevocationReason, RevocationTarget};

use crate::error::{AppError, AppResult};
use crate::gates::devices::{self, EnrolmentToken, NewEnrolmentToken};
use crate::ops::access::Permission;
use crate::ops::audit;
use crate::ops::auth::OperatorAuth;
use crate::ops::catalogue::{self, EventRow};
use crate::shop::Services;
use crate::store::sql::Transaction;
use crate::store::{accounts, mail_tokens, tickets};
use crate::trust::issuance::IssuedTicket;

/// Marks a refund made by this operator (API and console).
pub async fn mark_refund_settled(
    state: &Services,
    op: &OperatorAuth,
    id: i64,
) -> AppResult<crate::shop::refunds::RefundDue> {
    let now = crate::now();
    let operator = op.account_id;
    let row = state
        .db
        .write(move |tx| {
            let row = crate::shop::refunds::settle(tx, id, operator, now)?;
            let detail = format!(
                "{} to {} ({})",
                crate::ops::euros(row.amount_cents),
                row.buyer_email,
                row.reason
            );
            audit::record(
                tx,
                Some(operator),
                "refund.settle",
                &format!("order:{}", row.order_id),
                &detail,
                now,
            )?;
            Ok(row)
        })
        .await?;
    tracing::info!(operator, refund = id, order = row.order_id, "refund marked settled");
    Ok(row)
}

/// Applies changes to an event (API and console). A cancellation revokes its tickets, records
/// refunds and queues each buyer's mail, all in the same transaction.
pub async fn change_event(
    state: &Services,
    op: &OperatorAuth,
    id: u32,
    c: catalogue::EventChanges,
) -> AppResult<EventRow> {
    let now = crate::now();
    let operator = op.account_id;
    let s = state.clone();
    let (row, told) = state
        .db
        .write(move |tx| {
            let (row, refunds) = catalogue::update_event(tx, id, &c, now)?;
            let action = if c.status.as_deref() == Some("cancelled") {
                "event.cancel"
            } else {
                "event.change"
            };
            audit::record(tx, Some(operator), action, &format!("event:{id}"), &c.summary(), now)?;
            if !refunds.is_empty() {
                let zone = crate::shop::orders::event_time_zone(tx, i64::from(id))?;
                crate::shop::refunds::queue_event_cancelled(tx, &s, &row.name, row.starts_at, &zone, &refunds, now)?;
            }
            Ok((row, !refunds.is_empty()))
        })
        .await?;
    tracing::info!(operator = op.account_id, event = id, status = %row.status, "event changed");
    if told {
        crate::shop::mail::wake(state);
    }
    Ok(row)
}

/// What an operator revokes.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RevokeRequest {
    Ticket { serial: u32, reason: RevocationReason },
    Purchase { purchase_id: i64, reason: RevocationReason },
    Account { account_id: i64, reason: RevocationReason },
}

impl RevokeRequest {
    /// Revoking one ticket is a supervisor's call; a whole purchase or account is an admin's.
    pub fn permission(&self) -> Permission {
        match self {
            RevokeRequest::Ticket { .. } => Permission::RevokeTicket,
            RevokeRequest::Purchase { .. } | RevokeRequest::Account { .. } => Permission::RevokeAccount,
        }
    }
}

/// Creates an event with its offers (API and console).
pub async fn create_event(state: &Services, op: &OperatorAuth, e: catalogue::NewEvent) -> AppResult<EventRow> {
    let now = crate::now();
    let operator = op.account_id;
    let row = state
        .db
        .write(move |tx| {
            let row = catalogue::create_event(tx, &e)?;
            audit::record(
                tx,
                Some(operator),
                "event.create",
                &format!("event:{}", row.id),
                &e.summary(),
                now,
            )?;
            Ok(row)
        })
        .await?;
    tracing::info!(operator, event = row.id, "event created");
    Ok(row)
}

/// Revokes what an operator asked for (API and console), if their role allows that kind.
pub async fn revoke(state: &Services, op: &OperatorAuth, req: RevokeRequest) -> AppResult<Option<Revocation>> {
    op.require(req.permission())?;
    let now = crate::now();
    let r = req.clone();
    let operator = op.account_id;
    let entry = state
        .db
        .write(move |tx| {
            let entry = apply_revocation(tx, &r, now)?;
            let (action, subject, reason) = match r {
                RevokeRequest::Ticket { serial, reason } => ("ticket.revoke", format!("ticket:{serial}"), reason),
                RevokeRequest::Purchase { purchase_id, reason } => {
                    ("purchase.revoke", format!("purchase:{purchase_id}"), reason)
                }
                RevokeRequest::Account { account_id, reason } if reason == RevocationReason::AccountBanned => {
                    ("account.ban", format!("account:{account_id}"), reason)
                }
                RevokeRequest::Account { account_id, reason } => {
                    ("account.revoke", format!("account:{account_id}"), reason)
                }
            };
            let detail = format!(
                "reason {}{}",
                serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                if entry.is_none() {
                    " (nothing left to revoke)"
                } else {
                    ""
                }
            );
            audit::record(tx, Some(operator), action, &subject, &detail, now)?;
            Ok(entry)
        })
        .await?;
    tracing::info!(operator = op.account_id, ?req, "revocation by an operator");
    Ok(entry)
}

/// Applies a revocation; returns the new log entry, or `None` when nothing changed (a ticket
/// already revoked).
pub fn apply_revocation(tx: &Transaction<'_>, req: &RevokeRequest, now: i64) -> AppResult<Option<Revocation>> {
    use crate::trust::revocation as rv;
    let before = rv::head(tx)?.0;
    match *req {
        RevokeRequest::Ticket { serial, reason } => {
            if !tickets::exists(tx, serial)? {
                return Err(AppError::not_found("no such ticket"));
            }
            rv::revoke_ticket(tx, serial, reason, now)?;
        }
        RevokeRequest::Purchase { purchase_id, reason } => rv::revoke_purchase(tx, purchase_id, reason, now)?,
        RevokeRequest::Account { account_id, reason } => {
            rv::revoke_account(tx, account_id, reason, now)?;
            if reason == RevocationReason::AccountBanned {
                accounts::ban(tx, account_id)?;
            }
        }
    }
    let after = rv::head(tx)?.0;
    Ok(if after > before {
        crate::trust::revocation::entries_after(tx, before, Some(1))?.pop()
    } else {
        None
    })
}

/// Complimentary tickets asked for by an operator.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompRequest {
    pub event_id: u32,
    pub offer: Offer,
    pub email: String,
    #[serde(default = "one")]
    pub count: u32,
    /// To issue beyond the event's capacity: why (recorded with the operator). Without it, comps
    /// that do not fit are refused.
    #[serde(default)]
    pub force_reason: Option<String>,
}

fn one() -> u32 {
    1
}

pub async fn issue_comps(state: &Services, op: &OperatorAuth, req: CompRequest) -> AppResult<Vec<IssuedTicket>> {
    let signer = state.signer.clone();
    let now = crate::now();
    let r = req.clone();
    let force = req.force_reason.clone().map(|reason| catalogue::ForceCapacity {
        operator: op.email.clone(),
        reason,
    });
    let operator = op.account_id;
    let tickets = state
        .db
        .write(move |tx| {
            let tickets =
                catalogue::issue_comps(tx, &signer, r.event_id, r.offer, &r.email, r.count, force.as_ref(), now)?;
            let serials = tickets
                .iter()
                .map(|t| t.serial.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let mut detail = format!(
                "{} x {} to {}: tickets {serials}",
                r.count,
                r.offer.name(),
                r.email.trim()
            );
            if let Some(f) = &force {
                detail.push_str(&format!("; beyond capacity because {}", f.reason.trim()));
            }
            audit::record(
                tx,
                Some(operator),
                "comps.issue",
                &format!("event:{}", r.event_id),
                &detail,
                now,
            )?;
            for t in &tickets {
                audit::record(
                    tx,
                    Some(operator),
                    "ticket.comp",
                    &format!("ticket:{}", t.serial),
                    &r.email,
                    now,
                )?;
            }
            Ok(tickets)
        })
        .await?;
    tracing::info!(
        operator = op.account_id,
        event = req.event_id,
        count = req.count,
        "complimentary tickets issued"
    );
    Ok(tickets)
}

/// A revocation target described for people.
pub fn describe(t: &RevocationTarget) -> String {
    match t {
        RevocationTarget::Ticket { serial } => format!("ticket {serial}"),
        RevocationTarget::Purchase { tag } => format!("purchase {}", tag.to_hex()),
        RevocationTarget::Account { tag } => format!("account {}", tag.to_hex()),
        RevocationTarget::Superseded { serial, generation } => {
            format!("codes of ticket {serial} older than generation {generation}")
        }
        RevocationTarget::DeviceKey { serial, key_tag } => format!("phone {key_tag} of ticket {serial}"),
    }
}

/// Refunds one ticket by an operator's decision, even after entry: what is left is revoked and
/// the refund due recorded with who and why (`None` for a complimentary ticket).
pub async fn refund_ticket(
    state: &Services,
    op: &OperatorAuth,
    serial: i64,
    reason: String,
) -> AppResult<Option<crate::shop::refunds::RefundDue>> {
    let now = crate::now();
    let operator = op.account_id;
    let services = state.clone();
    let due = state
        .db
        .write(move |tx| {
            let due = crate::shop::orders::operator_refund(tx, serial, operator, &reason, now)?;
            if let Some(d) = &due {
                let notice = crate::shop::notice_mail::operator_refund_notice(tx, d)?;
                crate::shop::notice_mail::refund_confirmed(tx, &services, &notice, now)?;
            }
            let amount = due
                .as_ref()
                .map_or("nothing owed".to_owned(), |d| crate::ops::euros(d.amount_cents));
            let detail = format!("{amount}; {}", reason.trim());
            audit::record(
                tx,
                Some(operator),
                "ticket.refund",
                &format!("ticket:{serial}"),
                &detail,
                now,
            )?;
            Ok(due)
        })
        .await?;
    if due.is_some() {
        crate::shop::mail::wake(state);
    }
    tracing::info!(operator, serial, "ticket refunded by an operator's decision");
    Ok(due)
}

/// Allows the static (paper) code of a ticket for a named person.
pub async fn paper_exception(
    state: &Services,
    op: &OperatorAuth,
    serial: i64,
    name: String,
    reason: String,
) -> AppResult<crate::shop::binding::PaperException> {
    let now = crate::now();
    let operator = op.account_id;
    let row = state
        .db
        .write(move |tx| {
            let row = crate::shop::binding::add_paper_exception(tx, serial, &name, operator, &reason, now)?;
            let detail = format!("{}: {}", name.trim(), reason.trim());
            audit::record(
                tx,
                Some(operator),
                "ticket.paper_exception",
                &format!("ticket:{serial}"),
                &detail,
                now,
            )?;
            Ok(row)
        })
        .await?;
    tracing::info!(operator, serial, "paper exception recorded");
    Ok(row)
}

/// A one-time enrolment token for a gate.
pub async fn create_enrolment_token(
    state: &Services,
    op: &OperatorAuth,
    req: NewEnrolmentToken,
) -> AppResult<EnrolmentToken> {
    let now = crate::now();
    let operator = op.account_id;
    state
        .db
        .write(move |tx| {
            let t = devices::create_enrolment_token(tx, operator, &req, now)?;
            let events = t.event_ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            let zone = t.zone.map_or("every zone".to_owned(), |z| format!("zone {z}"));
            let detail = format!("events {events}, {zone}, valid {} min", (t.expires_at - now) / 60);
            audit::record(
                tx,
                Some(operator),
                "device.enrolment_token",
                &format!("enrolment:{}", t.id),
                &detail,
                now,
            )?;
            Ok(t)
        })
        .await
}

/// Renames a device.
pub async fn rename_device(state: &Services, op: &OperatorAuth, id: String, name: String) -> AppResult<()> {
    let now = crate::now();
    let operator = op.account_id;
    state
        .db
        .write(move |tx| {
            devices::rename(tx, &id, &name)?;
            audit::record(
                tx,
                Some(operator),
                "device.rename",
                &format!("device:{id}"),
                name.trim(),
                now,
            )
        })
        .await
}

/// Revokes a device: its credential is refused from its next request.
pub async fn revoke_device(state: &Services, op: &OperatorAuth, id: String) -> AppResult<()> {
    let now = crate::now();
    let operator = op.account_id;
    let d = id.clone();
    state
        .db
        .write(move |tx| {
            devices::revoke(tx, &d, now)?;
            audit::record(tx, Some(operator), "device.revoke", &format!("device:{d}"), "", now)
        })
        .await?;
    tracing::info!(device = %id, operator, "device revoked");
    Ok(())
}

/// Gives a device a new credential (shown once); the old one is refused from now on.
pub async fn rotate_device(state: &Services, op: &OperatorAuth, id: String) -> AppResult<zeroize::Zeroizing<String>> {
    let now = crate::now();
    let operator = op.account_id;
    let d = id.clone();
    let credential = state
        .db
        .write(move |tx| {
            let c = devices::rotate(tx, &d, now)?;
            audit::record(tx, Some(operator), "device.rotate", &format!("device:{d}"), "", now)?;
            Ok(c)
        })
        .await?;
    tracing::info!(device = %id, operator, "device credential rotated");
    Ok(credential)
}

/// Mails a buyer whose account is not activated yet a new activation link (support answering
/// "I never got the mail"); answers the address it went to. Older links stay valid until they
/// expire; only the new token's hash is stored.
pub async fn resend_activation(state: &Services, op: &OperatorAuth, account_id: i64) -> AppResult<String> {
    let now = crate::now();
    let token = crate::shop::auth::random_token();
    let hash = crate::shop::auth::token_hash(&token);
    let operator = op.account_id;
    let services = state.clone();
    let email = state
        .db
        .write(move |tx| {
            let row: Option<(String, crate::domain::AccountStatus, Option<String>)> =
                accounts::email_status_language(tx, account_id)?;
            let Some((email, status, language)) = row else {
                return Err(AppError::not_found(format!("no account {account_id}")));
            };
            if status != crate::domain::AccountStatus::Pending {
                return Err(AppError::conflict(
                    "not_pending",
                    "this account is not waiting for its activation",
                ));
            }
            mail_tokens::insert_activation(tx, &hash, account_id, now + crate::shop::accounts::ACTIVATION_TTL_SECS)?;
            audit::record(
                tx,
                Some(operator),
                "account.resend_activation",
                &format!("account:{account_id}"),
                &email,
                now,
            )?;
            let link = format!("{}/activate?token={token}", services.base_url);
            let l = crate::shop::mail::mail_language(&services, language.as_deref());
            crate::shop::mail::queue_framed(
                tx,
                Some(account_id),
                l,
                crate::shop::mail::Mail {
                    to: email.clone(),
                    subject: crate::tr!(l, "mail-activate-subject"),
                    body: crate::tr!(l, "mail-activate-again-body", link = link),
                },
                now,
            )?;
            Ok(email)
        })
        .await?;
    crate::shop::mail::wake(state);
    tracing::info!(operator, account = account_id, "activation mail sent again");
    Ok(email)
}
