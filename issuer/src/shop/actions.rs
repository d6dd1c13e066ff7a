//! What a buyer does that both the JSON API (`web::shop_api`) and the pages (`web::pages`) ask
//! for, one async function each: check out, cancel or refund an order, show a ticket's code,
//! give a ticket, claim one; each runs its transaction, then sends the mails it owes.

use crate::domain::{Email, IdempotencyKey};
use crate::error::{AppError, AppResult};
use crate::tr;

use super::Services;
use super::auth::AuthUser;
use super::orders::{self, OrderView, TransferOutcome, Transferred};
use crate::store::WriteScope;

/// Checks the buyer's cart out: the order with its seats held, and the payment to make. It
/// runs beside other buyers' checkouts (`WriteScope::Account`); when seats run short, holds that
/// ran out of time are swept (an exclusive write) and the checkout is tried once more.
pub async fn place_order(s: &Services, account_id: i64, key: IdempotencyKey) -> AppResult<OrderView> {
    let attempt = |key: IdempotencyKey| {
        let provider = super::payment::provider(s);
        let base = s.base_url.to_string();
        let now = crate::now();
        s.db.write_scoped(WriteScope::Account(account_id), move |tx| {
            orders::checkout(tx, account_id, &key, &provider, &base, now)
        })
    };
    match attempt(key.clone()).await {
        Err(e) if e.code() == "sold_out" => {
            // A sold-out event draws many refused checkouts at once: a read first, so only a
            // shortage that expired holds can end takes the exclusive lock.
            let now = crate::now();
            if !s.db.read_one(move |c| orders::any_overdue(c, now)).await? {
                return Err(e);
            }
            let expired = s.db.write(move |tx| orders::expire_overdue(tx, now)).await?;
            if expired == 0 {
                return Err(e);
            }
            attempt(key).await
        }
        other => other,
    }
}

/// The buyer cancels a pending order or refunds a paid one ([`orders::cancel_order`]); a refund
/// is mailed to them (`notice_mail`, queued in the same transaction). Returns the order as it is
/// now.
pub async fn buyer_cancel(s: &Services, account_id: i64, order_id: i64) -> AppResult<OrderView> {
    let now = crate::now();
    let base = s.base_url.to_string();
    let services = s.clone();
    let (order, told) =
        s.db.write(move |tx| {
            let notice = match orders::cancel_order(tx, account_id, order_id, now)?.as_str() {
                "refunded" => super::notice_mail::buyer_refund_notice(tx, order_id)?,
                _ => None,
            };
            if let Some(n) = &notice {
                super::notice_mail::refund_confirmed(tx, &services, n, now)?;
            }
            Ok((orders::get_order(tx, account_id, order_id, &base)?, notice.is_some()))
        })
        .await?;
    if told {
        super::mail::wake(s);
    }
    Ok(order)
}

/// The code of one of the buyer's tickets, if it may be shown as a static code now.
pub async fn valid_qr_text(s: &Services, account_id: i64, serial: i64) -> AppResult<String> {
    let t = s.db.read(move |c| orders::get_ticket(c, account_id, serial)).await?;
    if !t.phone.static_code && t.state == super::lifecycle::TicketState::Valid {
        return Err(AppError::conflict(
            "phone_code_required",
            "this event needs the ticket open on your phone: use \"Use this phone as my ticket\" on the ticket page",
        ));
    }
    t.qr_text
        .ok_or_else(|| AppError::conflict("ticket_revoked", "this ticket was revoked: it has no code any more"))
}

/// Redeems an invitation to claim a given ticket for `account_id`.
pub async fn claim(s: &Services, account_id: i64, token: String) -> AppResult<Transferred> {
    let now = crate::now();
    let signer = s.signer.clone();
    s.db.write(move |tx| orders::claim_invite(tx, &signer, account_id, &token, now))
        .await
}

/// Gives a ticket (or invites its recipient to claim it) and mails the recipient and the sender
/// (queued in the same transaction).
pub async fn transfer(s: &Services, user: &AuthUser, serial: i64, to: Email) -> AppResult<TransferOutcome> {
    let now = crate::now();
    let signer = s.signer.clone();
    let (services, sender) = (s.clone(), user.clone());
    // The recipient's language if they have an account and chose one, else the sender's page's.
    let page = crate::i18n::current();
    let done =
        s.db.write(move |tx| {
            let to = to.as_str();
            let done = orders::transfer_ticket(tx, &signer, sender.id, serial, to, now)?;
            // The recipient's account, if the address has one (an invitation may go to a
            // pending one): mails waiting for it are deleted with it.
            let (recipient, language) = orders::account_of_address(tx, to)?.unzip();
            let l = language
                .flatten()
                .as_deref()
                .and_then(crate::i18n::find)
                .unwrap_or(page);
            let base = &services.base_url;
            let body = match &done {
                TransferOutcome::Sent(t) => tr!(
                    l,
                    "mail-ticket-received-body",
                    from = &sender.email,
                    places = t.admits,
                    link = format!("{base}/tickets")
                ),
                TransferOutcome::Invited { token } => tr!(
                    l,
                    "mail-ticket-invite-body",
                    from = &sender.email,
                    signup = format!("{base}/signup"),
                    link = format!("{base}/claim?token={token}")
                ),
            };
            super::mail::queue_framed(
                tx,
                recipient,
                l,
                super::mail::Mail {
                    to: to.to_owned(),
                    subject: tr!(l, "mail-ticket-received-subject"),
                    body,
                },
                now,
            )?;
            let event = super::notice_mail::ticket_event(tx, serial)?;
            let invited = matches!(done, TransferOutcome::Invited { .. });
            super::notice_mail::transfer_sent(tx, &services, &sender, to, serial, &event, invited, now)?;
            Ok(done)
        })
        .await?;
    super::mail::wake(s);
    Ok(done)
}
