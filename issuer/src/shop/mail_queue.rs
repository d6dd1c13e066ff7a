//! The mail worker: sends the mails queued in the outbox (`shop::mail::queue`) and deletes each
//! one as soon as the mail server took it. Every replica runs one (`background::spawn`); they
//! share the queue through claims (`store::mail_outbox::claim_due`): a claimed mail is not due
//! for anyone else for [`CLAIM_SECS`], so two replicas never send the same mail, and a replica
//! that dies holding some leaves them to the others once its claim lapses.
//!
//! Delivery is at least once: a replica killed after the mail server took a mail and before it
//! deleted the row sends that one mail again from another replica (SMTP has no idempotency
//! key); nothing else is ever sent twice. A mail the server turns away for now (4xx, no answer)
//! is tried again after a pause that doubles up to [`MAX_PAUSE_SECS`]. One it refuses for good
//! (5xx, an address that is not one) or that has waited [`GIVE_UP_AFTER_SECS`] is dropped and
//! logged (its kind and id, never its text, which may hold a link that logs in). The mails of a
//! claim are sent side by side: a slow one (an order confirmation's PDF tickets being written,
//! a mail server taking its time) holds up no other, so an activation link never waits behind a
//! confirmation.

use crate::error::AppResult;
use crate::store::WriteScope;
use crate::store::mail_outbox::{self, Claimed};

use super::Services;
use super::mail::{self, Queued, RichMail, SendError};

/// How long a claim keeps a mail from other replicas' workers. Every send of a claim starts at
/// once and ends within [`SEND_DEADLINE`], so a claim never lapses while its mail is being sent.
pub const CLAIM_SECS: i64 = 60;
/// One send (writing the mail included) ends within this, or counts as turned away for now.
const SEND_DEADLINE: std::time::Duration = std::time::Duration::from_secs(15);
/// Mails claimed (and sent side by side) at once.
const BATCH: i64 = 10;
/// The longest pause between two attempts at one mail.
pub const MAX_PAUSE_SECS: i64 = 900;
/// A mail still not taken this long after it was queued is dropped (its links have expired).
pub const GIVE_UP_AFTER_SECS: i64 = 2 * 24 * 3600;

/// The pause after the `attempts`-th failed attempt: 2 s, 4 s, 8 s... up to [`MAX_PAUSE_SECS`].
pub fn pause_after(attempts: i64) -> i64 {
    1i64.checked_shl(attempts.clamp(1, 20) as u32)
        .unwrap_or(MAX_PAUSE_SECS)
        .min(MAX_PAUSE_SECS)
}

/// What became of one claimed mail.
enum Outcome {
    Sent,
    /// Dropped: refused for good, unreadable, or too old.
    Dropped,
    /// Turned away for now (due again later).
    Later,
}

/// Sends every due mail this worker can claim; returns how many went out.
pub async fn deliver_due(state: &Services) -> usize {
    let mut sent = 0;
    loop {
        let now = crate::now();
        // Most looks find nothing: a read says so without writing.
        let due = state.db.read_one(move |c| Ok(mail_outbox::any_due(c, now)?)).await;
        if !matches!(due, Ok(true)) {
            return sent;
        }
        let claimed = match state
            .db
            .write_scoped(WriteScope::Shared, move |tx| {
                Ok(mail_outbox::claim_due(tx, now, now + CLAIM_SECS, BATCH)?)
            })
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "could not claim queued mails");
                return sent;
            }
        };
        if claimed.is_empty() {
            return sent;
        }
        let full = claimed.len() as i64 == BATCH;
        sent += send_batch(state, &claimed).await;
        if !full {
            return sent;
        }
    }
}

/// Sends a claimed batch, its mails side by side, each deleted as soon as the mail server took
/// it (or dropped). Returns how many went out.
async fn send_batch(state: &Services, batch: &[Claimed]) -> usize {
    let outcomes = futures_util::future::join_all(batch.iter().map(|m| async move {
        let outcome = attempt(state, m).await;
        if matches!(outcome, Outcome::Sent | Outcome::Dropped) {
            let id = m.id;
            if let Err(e) = state
                .db
                .write_scoped(WriteScope::Shared, move |tx| Ok(mail_outbox::delete(tx, id)?))
                .await
            {
                tracing::error!(mail = id, error = %e, "could not record a mail as sent");
            }
        }
        outcome
    }))
    .await;
    outcomes.iter().filter(|o| matches!(o, Outcome::Sent)).count()
}

/// One attempt at one mail; a failure for now is recorded here.
async fn attempt(state: &Services, m: &Claimed) -> Outcome {
    let now = crate::now();
    let queued: Queued = match serde_json::from_str(&m.message) {
        Ok(q) => q,
        Err(e) => {
            tracing::error!(mail = m.id, error = %e, "dropped a queued mail this build cannot read");
            return Outcome::Dropped;
        }
    };
    let send = async {
        match written(state, &queued).await {
            Ok(rich) => mail::send_rich(state, &rich).await,
            // The order is gone (its account was deleted): nothing left to confirm. Any other
            // failure to read it: try again, as after a mail server's refusal.
            Err(e) => Err(SendError {
                permanent: matches!(e, crate::error::AppError::NotFound(_)),
                message: e.to_string(),
            }),
        }
    };
    let result = tokio::time::timeout(SEND_DEADLINE, send).await.unwrap_or_else(|_| {
        Err(SendError {
            permanent: false,
            message: format!("no answer within {SEND_DEADLINE:?}"),
        })
    });
    match result {
        Ok(()) => Outcome::Sent,
        Err(e) if e.permanent || now - m.queued_at >= GIVE_UP_AFTER_SECS => {
            tracing::error!(mail = m.id, kind = queued.kind(), attempts = m.attempts + 1, error = %e,
                "dropped a mail that cannot be delivered");
            Outcome::Dropped
        }
        Err(e) => {
            let at = now + pause_after(m.attempts + 1);
            tracing::warn!(mail = m.id, kind = queued.kind(), attempts = m.attempts + 1, error = %e,
                retry_in_secs = at - now, "mail not taken by the mail server; will retry");
            let (id, message) = (m.id, e.message.clone());
            if let Err(e) = state
                .db
                .write_scoped(WriteScope::Shared, move |tx| {
                    Ok(mail_outbox::retry_at(tx, id, at, &message)?)
                })
                .await
            {
                tracing::error!(mail = id, error = %e, "could not record a failed mail");
            }
            Outcome::Later
        }
    }
}

/// The mail as it goes out.
async fn written(state: &Services, queued: &Queued) -> AppResult<RichMail> {
    match queued {
        Queued::Framed {
            lang,
            to,
            subject,
            body,
        } => {
            let l = crate::i18n::find(lang).unwrap_or_else(|| mail::mail_language(state, None));
            Ok(RichMail {
                html: Some(mail::frame(l, subject, mail::text_html(body))),
                mail: mail::Mail {
                    to: to.clone(),
                    subject: subject.clone(),
                    body: body.clone(),
                },
                attachments: Vec::new(),
            })
        }
        Queued::OrderConfirmation { order_id } => super::order_mail::confirmation(state, *order_id).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_between_attempts_doubles_up_to_a_quarter_of_an_hour() {
        let pauses: Vec<i64> = (1..=12).map(pause_after).collect();
        assert_eq!(pauses, vec![2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]);
        assert_eq!(pause_after(500), MAX_PAUSE_SECS);
    }

    #[test]
    fn a_queued_mail_reads_back_as_it_was_queued() {
        let q = Queued::framed(
            crate::i18n::find("fr").unwrap(),
            mail::Mail {
                to: "a@example.org".into(),
                subject: "Sujet".into(),
                body: "Bonjour".into(),
            },
        );
        let json = serde_json::to_string(&q).unwrap();
        assert_eq!(serde_json::from_str::<Queued>(&json).unwrap(), q);
        let conf: Queued = serde_json::from_str(r#"{"kind":"order_confirmation","order_id":7}"#).unwrap();
        assert_eq!(conf, Queued::OrderConfirmation { order_id: 7 });
    }
}
