//! The issuer's side of the payment webhook: the signature checked ([`payment::verify_signature`]),
//! a replayed event refused, and in one transaction the processor's outbox entry marked
//! delivered and the order's payment confirmed (`orders::confirm_payment`: the order paid, its
//! tickets signed and the order confirmation with them queued (`order_mail`), or a refund due
//! when it came too late and the notice that the money will be given back queued
//! (`refunds::queue_payment_refused`)).

use crate::error::{AppError, AppResult};
use crate::shop::Services;
use crate::shop::orders::{self, Confirmation};
use crate::shop::payment::{self, WebhookEvent};
use crate::store::{orders as order_rows, webhook_outbox, webhook_seen};

/// The issuer's webhook endpoint logic. Returns what happened (for the JSON answer).
pub async fn handle_webhook(state: &Services, signature: Option<&str>, body: &[u8]) -> AppResult<String> {
    let now = crate::now();
    let sig =
        signature.ok_or_else(|| AppError::bad_request("missing_signature", "the OG-Signature header is missing"))?;
    payment::verify_signature(&state.secrets.webhook[..], sig, body, now)?;
    let ev: WebhookEvent = serde_json::from_slice(body)
        .map_err(|e| AppError::bad_request("malformed_json", format!("webhook body: {e}")))?;
    let signer = state.signer.clone();
    let scope = payment::payment_scope(state, order_rows::account_by_payment_id, ev.payment_id.clone()).await?;
    let services = state.clone();
    let outcome = state
        .db
        .write_scoped(scope, move |tx| {
            if !webhook_seen::insert(tx, &ev.id, now)? {
                return Err(AppError::conflict(
                    "replayed_webhook",
                    "this webhook event was already processed",
                ));
            }
            // The built-in processor keeps its outbox in this database: its entry is marked
            // delivered in the commit that processes it, so a payment costs no further write
            // (and a processed webhook is never left looking undelivered). A webhook from an
            // outside provider has no entry here and updates nothing.
            webhook_outbox::mark_delivered(tx, &ev.id, now)?;
            match ev.kind.as_str() {
                "payment.succeeded" => {
                    match orders::confirm_payment(tx, &signer, &ev.payment_id, ev.amount_cents, now)? {
                        Confirmation::Paid { order_id, tickets } => {
                            Ok(format!("order {order_id} paid, {tickets} tickets"))
                        }
                        Confirmation::AlreadyPaid { order_id } => Ok(format!("order {order_id} was already paid")),
                        Confirmation::TooLate { order_id, refund } => {
                            // Money taken for nothing: the buyer is told once.
                            if let Some(r) = &refund {
                                crate::shop::refunds::queue_payment_refused(tx, &services, r, now)?;
                            }
                            Ok(format!("order {order_id} had expired: refund due"))
                        }
                        Confirmation::EventCancelled { order_id, refund } => {
                            if let Some(r) = &refund {
                                crate::shop::refunds::queue_payment_refused(tx, &services, r, now)?;
                            }
                            Ok(format!("order {order_id} is for a cancelled event: refund due"))
                        }
                    }
                }
                "payment.declined" => {
                    let known = order_rows::id_by_payment_id(tx, &ev.payment_id)?;
                    known.ok_or_else(|| AppError::not_found("no order has this payment id"))?;
                    Ok("declined noted".into())
                }
                other => Err(AppError::bad_request(
                    "unknown_event",
                    format!("unknown webhook type {other:?}"),
                )),
            }
        })
        .await?;
    // Mails queued by the commit (the confirmation, or the notice of a refund) go out now.
    crate::shop::mail::wake(state);
    Ok(outcome)
}
