//! Payment: the [`PaymentProvider`] seam and the built-in card processor.
//!
//! The built-in processor behaves like a hosted card processor living at `/pay/...` on the
//! issuer: checkout opens a payment (`pay_...` id) for the order, the buyer enters a card on
//! the hosted page, and the processor reports the outcome with a webhook POSTed to
//! `/api/v1/payments/webhook` of the issuer process it runs in (`Services::own_url`, not the
//! public URL, which a replica behind a proxy may not reach), signed `OG-Signature: t=<unix>,v1=<hex HMAC-SHA256(key,
//! "<t>.<body>")>` with `secrets.webhook`. Webhooks wait in the `webhook_outbox` table and are
//! retried with backoff until the issuer acknowledges them (2xx, or 409 "already processed").
//!
//! Test cards: `4242 4242 4242 4242` succeeds, `4000 0000 0000 0002` is declined; any other
//! number that passes the Luhn check is declined too, anything else is refused as malformed.
//!
//! The issuer checks a webhook's signature here ([`verify_signature`], in constant time,
//! refusing timestamps more than [`WEBHOOK_TOLERANCE_SECS`] away); what it then does with the
//! payment (replays refused, the order marked paid and its tickets signed in one transaction)
//! is `webhook::handle_webhook`, a layer above the orders.

use std::time::Duration;

use crate::store::sql::{Connection, Transaction};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::{AppError, AppResult};
use crate::shop::Services;
use crate::store::{WriteScope, payments, webhook_outbox};

pub const SIGNATURE_HEADER: &str = "og-signature";
pub const WEBHOOK_PATH: &str = "/api/v1/payments/webhook";
pub const WEBHOOK_TOLERANCE_SECS: i64 = 300;

/// A payment processor the shop can send buyers to.
pub trait PaymentProvider: Send + Sync {
    /// Opens a payment for an order, inside the checkout transaction; returns its id.
    fn create_payment(&self, tx: &Transaction<'_>, order_id: i64, amount_cents: i64, now: i64) -> AppResult<String>;
    /// Where the buyer goes to pay.
    fn payment_url(&self, payment_id: &str) -> String;
}

/// The built-in processor (hosted page at `/pay/{id}` on this issuer).
pub struct BuiltinProcessor {
    pub base_url: String,
}

impl PaymentProvider for BuiltinProcessor {
    fn create_payment(&self, tx: &Transaction<'_>, order_id: i64, amount_cents: i64, now: i64) -> AppResult<String> {
        let id = format!("pay_{}", &crate::shop::auth::random_token()[..24]);
        payments::insert_requiring_card(tx, &id, order_id, amount_cents, now)?;
        Ok(id)
    }

    fn payment_url(&self, payment_id: &str) -> String {
        format!("{}/pay/{payment_id}", self.base_url)
    }
}

/// The provider of this issuer.
pub fn provider(state: &Services) -> BuiltinProcessor {
    BuiltinProcessor {
        base_url: state.base_url.to_string(),
    }
}

/// The webhook body.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookEvent {
    pub id: String,
    /// `payment.succeeded` or `payment.declined`.
    #[serde(rename = "type")]
    pub kind: String,
    pub payment_id: String,
    pub amount_cents: i64,
    pub created: i64,
}

/// `t=..,v1=..` for a body at a time.
pub fn sign(key: &[u8], t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a webhook's `OG-Signature` header over its body, in constant time, and refuses a
/// timestamp more than [`WEBHOOK_TOLERANCE_SECS`] from `now`.
pub fn verify_signature(key: &[u8], header: &str, body: &[u8], now: i64) -> AppResult<()> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", x)) => t = x.parse::<i64>().ok(),
            Some(("v1", x)) => v1 = hex::decode(x).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return Err(AppError::bad_request(
            "bad_signature_header",
            "OG-Signature must be t=<unix seconds>,v1=<hex HMAC>",
        ));
    };
    if (now - t).abs() > WEBHOOK_TOLERANCE_SECS {
        return Err(AppError::bad_request(
            "stale_webhook",
            "the webhook timestamp is too far from now (replay?)",
        ));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&v1)
        .map_err(|_| AppError::Unauthorized("the webhook signature does not match".into()))
}

/// The write scope of a payment's work: its buyer's account ([`WriteScope::Account`]), or every
/// writer when `account_of` (the store's query of the account of `payment_id`) finds none. A card changes only the order's
/// own payment and adds its webhook to the outbox; the webhook marks it seen and delivered,
/// marks the order paid and issues its tickets (serials from `new_ticket_serials`), or records
/// a refund due for it: the order's own rows, and the event's seats by a row update when the
/// event was cancelled. Two deliveries of one webhook are the same account's, one after the
/// other.
pub async fn payment_scope(
    state: &Services,
    account_of: fn(&Connection<'_>, &str) -> crate::store::sql::Result<Option<i64>>,
    payment_id: String,
) -> AppResult<WriteScope> {
    let account: Option<i64> = state.db.read_one(move |c| Ok(account_of(c, &payment_id)?)).await?;
    Ok(account.map_or(WriteScope::All, WriteScope::Account))
}

/// Outcome of a card on the hosted page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardOutcome {
    Succeeded,
    Declined,
}

fn luhn_ok(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(*d);
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// Facts of a payment for the hosted page.
#[derive(Debug, Clone)]
pub struct PaymentFacts {
    pub id: String,
    pub order_id: i64,
    pub amount_cents: i64,
    pub status: String,
    pub order_status: String,
}

pub async fn payment_facts(state: &Services, id: String) -> AppResult<PaymentFacts> {
    state
        .db
        .read(move |c| {
            payments::with_order(c, &id)?
                .map(|p| PaymentFacts {
                    id: p.id,
                    order_id: p.order_id,
                    amount_cents: p.amount_cents,
                    status: p.status,
                    order_status: p.order_status,
                })
                .ok_or_else(|| AppError::not_found("no such payment"))
        })
        .await
}

/// The processor charges a card for a payment, queues the webhook and tries to deliver it at
/// once (the background worker retries if that fails).
pub async fn pay_with_card(state: &Services, payment_id: String, card_number: &str) -> AppResult<(CardOutcome, i64)> {
    let digits: Vec<u8> = card_number
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_digit(10).map(|d| d as u8))
        .collect::<Option<Vec<u8>>>()
        .unwrap_or_default();
    if !(12..=19).contains(&digits.len()) || !luhn_ok(&digits) {
        return Err(AppError::bad_request(
            "invalid_card_number",
            "that is not a valid card number",
        ));
    }
    let number: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    let outcome = if number == "4242424242424242" {
        CardOutcome::Succeeded
    } else {
        CardOutcome::Declined
    };
    let now = crate::now();
    let last4 = number[number.len() - 4..].to_owned();
    let scope = payment_scope(state, payments::account_of, payment_id.clone()).await?;
    let (event_id, payload, order_id) = state
        .db
        .write_scoped(scope, move |tx| {
            let (order_id, amount, status, order_status) =
                payments::for_card(tx, &payment_id)?.ok_or_else(|| AppError::not_found("no such payment"))?;
            if status == "succeeded" {
                return Err(AppError::conflict("already_paid", "this payment has already succeeded"));
            }
            if order_status != "pending" {
                return Err(AppError::conflict(
                    "order_closed",
                    format!("the order is {order_status}"),
                ));
            }
            let new_status = match outcome {
                CardOutcome::Succeeded => "succeeded",
                CardOutcome::Declined => "declined",
            };
            payments::set_card_outcome(tx, &payment_id, new_status, &last4, now)?;
            let ev = WebhookEvent {
                id: format!("evt_{}", &crate::shop::auth::random_token()[..24]),
                kind: format!("payment.{new_status}"),
                payment_id: payment_id.clone(),
                amount_cents: amount,
                created: now,
            };
            let payload = serde_json::to_string(&ev).map_err(AppError::internal)?;
            // Claimed by this replica, which delivers it right away (below); the others
            // retry it only if that fails or this replica dies before it is delivered.
            webhook_outbox::insert(tx, &ev.id, &payload, now + WEBHOOK_CLAIM_SECS)?;
            Ok((ev.id, payload, order_id))
        })
        .await?;
    deliver(state, &event_id, payload).await;
    Ok((outcome, order_id))
}

fn client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("HTTP client builds")
    })
}

/// Tries to deliver one outbox entry; records the attempt. Returns whether it was acknowledged.
pub async fn deliver_one(state: &Services, event_id: &str) -> bool {
    let id = event_id.to_owned();
    let payload: Option<String> = state
        .db
        .read(move |c| Ok(webhook_outbox::undelivered_payload(c, &id)?))
        .await
        .ok()
        .flatten();
    let Some(payload) = payload else { return true };
    deliver(state, event_id, payload).await
}

/// Posts one outbox entry to the webhook endpoint. Acknowledged, the entry was marked delivered
/// by the commit that processed it (`webhook::handle_webhook`); otherwise the failed attempt is
/// recorded and the entry retried later with a growing pause.
async fn deliver(state: &Services, event_id: &str, payload: String) -> bool {
    let now = crate::now();
    let sig = sign(&state.secrets.webhook[..], now, payload.as_bytes());
    let res = client()
        .post(format!("{}{WEBHOOK_PATH}", state.own_url))
        .header(SIGNATURE_HEADER, sig)
        .header("content-type", "application/json")
        .body(payload)
        .send()
        .await;
    // Acknowledged: any 2xx, or 409 `replayed_webhook` (an earlier attempt was processed but
    // its answer was lost). Everything else (other 4xx, 5xx, network errors) is retried.
    let (status, code) = match res {
        Ok(r) => {
            let st = r.status();
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            (Some(st), body["error"]["code"].as_str().map(str::to_owned))
        }
        Err(_) => (None, None),
    };
    if status.is_some_and(|s| s.is_success()) {
        return true;
    }
    let id = event_id.to_owned();
    if status == Some(reqwest::StatusCode::CONFLICT) && code.as_deref() == Some("replayed_webhook") {
        // Processed by an earlier attempt whose answer was lost (or by a build that did not
        // mark its entry): mark it now.
        let _ = state
            .db
            .write(move |tx| Ok(webhook_outbox::mark_delivered(tx, &id, now)?))
            .await;
        return true;
    }
    tracing::warn!(event_id, ?status, ?code, "webhook not acknowledged; will retry");
    let _ = state
        .db
        .write(move |tx| Ok(webhook_outbox::retry_later(tx, &id, now)?))
        .await;
    false
}

/// How long a replica that took a webhook to deliver holds it before others may retry it.
pub const WEBHOOK_CLAIM_SECS: i64 = 30;

/// Delivers every due outbox entry once. Returns how many were acknowledged.
pub async fn deliver_due(state: &Services) -> usize {
    let now = crate::now();
    // Most ticks find nothing due: a read says so without taking the exclusive write lock.
    let any_due = state.db.read_one(move |c| Ok(webhook_outbox::any_due(c, now)?)).await;
    if !matches!(any_due, Ok(true)) {
        return 0;
    }
    // Claim what is due (writes are serialised across replicas: two replicas never claim the
    // same webhook); a claim runs out after WEBHOOK_CLAIM_SECS, so a replica that dies holding
    // one leaves it to the others.
    let due: Vec<String> = state
        .db
        .write(move |tx| {
            let ids = webhook_outbox::due(tx, now)?;
            for id in &ids {
                webhook_outbox::set_next_attempt(tx, id, now + WEBHOOK_CLAIM_SECS)?;
            }
            Ok(ids)
        })
        .await
        .unwrap_or_default();
    let mut n = 0;
    for id in due {
        if deliver_one(state, &id).await {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_with_the_same_key_body_and_a_recent_time() {
        let key = [9u8; 32];
        let sig = sign(&key, 1_000, b"{}");
        assert!(verify_signature(&key, &sig, b"{}", 1_100).is_ok());
        assert_eq!(
            verify_signature(&key, &sig, b"{ }", 1_100).unwrap_err().code(),
            "unauthorized"
        );
        assert_eq!(
            verify_signature(&[8; 32], &sig, b"{}", 1_100).unwrap_err().code(),
            "unauthorized"
        );
        assert_eq!(
            verify_signature(&key, &sig, b"{}", 1_000 + WEBHOOK_TOLERANCE_SECS + 1)
                .unwrap_err()
                .code(),
            "stale_webhook"
        );
        assert_eq!(
            verify_signature(&key, "v1=00", b"{}", 1_000).unwrap_err().code(),
            "bad_signature_header"
        );
    }

    #[test]
    fn the_luhn_check_accepts_the_test_cards_and_refuses_a_typo() {
        let digits = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<u8>>();
        assert!(luhn_ok(&digits("4242424242424242")));
        assert!(luhn_ok(&digits("4000000000000002")));
        assert!(!luhn_ok(&digits("4242424242424241")));
    }
}
