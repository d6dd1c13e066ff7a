//! Work the buyer side does outside requests: recovery at start (paid orders without tickets,
//! codes of an older ticket format re-signed)
//! and three jobs (retrying undelivered payment webhooks, expiring pending orders whose
//! hold ran out so their seats return to sale, sending the queued mails).

use std::time::Duration;

use crate::state::AppState;

/// Repairs what a crash may have left. Called by `Application::build` before serving.
pub fn recover_on_start(state: &AppState) -> Result<(), String> {
    let now = crate::now();
    let (repaired, expired, resigned) = state
        .db
        .write_sync(|tx| {
            Ok((
                crate::shop::orders::recover_paid_without_tickets(tx, &state.signer, now)?,
                crate::shop::orders::expire_overdue(tx, now)?,
                crate::trust::issuance::resign_legacy_codes(tx, &state.signer)?,
            ))
        })
        .map_err(|e| e.to_string())?;
    if resigned > 0 {
        tracing::info!(resigned, "re-signed tickets of an older format");
    }
    if !repaired.is_empty() {
        tracing::warn!(orders = ?repaired, "issued the missing tickets of paid orders");
    }
    if expired > 0 {
        tracing::info!(expired, "expired pending orders");
    }
    Ok(())
}

/// How often the mail worker looks for mails queued by other replicas (or due again) when
/// nothing wakes it.
const MAIL_LOOK_EVERY: Duration = Duration::from_secs(2);

/// Starts the jobs on the current runtime.
pub fn spawn(state: AppState) {
    let mailer = state.services.clone();
    tokio::spawn(async move {
        loop {
            crate::shop::mail_queue::deliver_due(&mailer).await;
            // Woken by a commit of this replica that queued mails (`shop::mail::wake`; a wake
            // while sending is kept for the next wait), else look again after a while.
            let _ = tokio::time::timeout(MAIL_LOOK_EVERY, mailer.mail_queued.notified()).await;
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        loop {
            tick.tick().await;
            crate::shop::payment::deliver_due(&state).await;
            // Holds that ran out of time go back on sale within a tick (checkouts no longer
            // sweep them: they run beside each other, see `store::WriteScope`); the exclusive
            // write only when a read finds one due.
            let now = crate::now();
            let due = state
                .db
                .read_one(move |c| crate::shop::orders::any_overdue(c, now))
                .await;
            if matches!(due, Ok(true))
                && let Err(e) = state
                    .db
                    .write(move |tx| crate::shop::orders::expire_overdue(tx, now))
                    .await
            {
                tracing::error!(error = %e, "could not expire orders");
            }
        }
    });
}
