//! What operators do, each action one function shared by the JSON API (`routes::operator`) and
//! the console (`routes::console`): change an event, issue complimentary tickets, revoke (a
//! ticket, a purchase, an account, with a ban), mark a refund made. Each runs its rules in one
//! write transaction and logs who did it.

use og_shared::Offer;
use og_shared::sync::{Revocation, RevocationReason, RevocationTarget};

use crate::error::{AppError, AppResult};
use crate::issuance::IssuedTicket;
use crate::ops::auth::OperatorAuth;
use crate::ops::catalogue::{self, EventRow};
use crate::state::AppState;
use crate::store::sql::{OptionalExtension, Transaction};

/// Marks a refund made by this operator (API and console).
pub async fn mark_refund_settled(
    state: &AppState,
    op: &OperatorAuth,
    id: i64,
) -> AppResult<crate::ops::refunds::RefundDue> {
    let now = crate::now();
    let operator = op.account_id;
    let row = state
        .db
        .write(move |tx| crate::ops::refunds::settle(tx, id, operator, now))
        .await?;
    tracing::info!(operator, refund = id, order = row.order_id, "refund marked settled");
    Ok(row)
}

/// Applies changes to an event (API and console). A cancellation revokes its tickets and records
/// refunds in the same transaction; each buyer is then told, once, after the commit.
pub async fn change_event(
    state: &AppState,
    op: &OperatorAuth,
    id: u32,
    c: catalogue::EventChanges,
) -> AppResult<EventRow> {
    let now = crate::now();
    let (row, refunds) = state
        .db
        .write(move |tx| catalogue::update_event(tx, id, &c, now))
        .await?;
    tracing::info!(operator = op.account_id, event = id, status = %row.status, "event changed");
    if !refunds.is_empty() {
        let event = i64::from(id);
        let zone = state.db.read(move |c| crate::shop::event_time_zone(c, event)).await?;
        crate::ops::refunds::notify_event_cancelled(state, &row.name, row.starts_at, &zone, &refunds);
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

/// Applies a revocation; returns the new log entry, or `None` when nothing changed (a ticket
/// already revoked).
pub fn apply_revocation(tx: &Transaction<'_>, req: &RevokeRequest, now: i64) -> AppResult<Option<Revocation>> {
    use crate::revocation as rv;
    let before = rv::head(tx)?.0;
    match *req {
        RevokeRequest::Ticket { serial, reason } => {
            let exists: Option<i64> = tx
                .query_row("SELECT serial FROM tickets WHERE serial = ?1", [serial], |r| r.get(0))
                .optional()?;
            if exists.is_none() {
                return Err(AppError::not_found("no such ticket"));
            }
            rv::revoke_ticket(tx, serial, reason, now)?;
        }
        RevokeRequest::Purchase { purchase_id, reason } => rv::revoke_purchase(tx, purchase_id, reason, now)?,
        RevokeRequest::Account { account_id, reason } => {
            rv::revoke_account(tx, account_id, reason, now)?;
            if reason == RevocationReason::AccountBanned {
                tx.execute("UPDATE accounts SET status = 'banned' WHERE id = ?1", [account_id])?;
            }
        }
    }
    let after = rv::head(tx)?.0;
    Ok(if after > before {
        crate::revocation::entries_after(tx, before, Some(1))?.pop()
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

pub async fn issue_comps(state: &AppState, op: &OperatorAuth, req: CompRequest) -> AppResult<Vec<IssuedTicket>> {
    let signer = state.signer.clone();
    let now = crate::now();
    let r = req.clone();
    let force = req.force_reason.clone().map(|reason| catalogue::ForceCapacity {
        operator: op.email.clone(),
        reason,
    });
    let tickets = state
        .db
        .write(move |tx| {
            catalogue::issue_comps(tx, &signer, r.event_id, r.offer, &r.email, r.count, force.as_ref(), now)
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
