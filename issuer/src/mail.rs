//! Outgoing mail (activation and password-reset links, transfer notices).
//!
//! With `settings.smtp` set, mail goes out through lettre's async SMTP transport (rustls;
//! `smtp://host:port` is plain SMTP for a local relay or a test sink). Without it, each mail is
//! written as an `.eml` file (0600, in a 0700 directory: they hold activation and reset links)
//! to `<data dir>/outbox-mail/` so the demo works offline; the caller may additionally log the
//! link, in demo mode only (`Settings::demo_mode`). Sending happens in a background task: a
//! slow or failing mail server never delays or fails the request (and the answer time does not
//! reveal whether a mail was sent).

use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::state::AppState;

/// A mail to send.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Sends in the background; failures are logged.
pub fn send_later(state: &AppState, mail: Mail) {
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = send(&state, &mail).await {
            tracing::error!(error = %e, "could not send mail");
        }
    });
}

/// Sends now (SMTP) or writes the `.eml` file (no SMTP configured).
pub async fn send(state: &AppState, mail: &Mail) -> Result<(), String> {
    let from = state
        .settings
        .smtp
        .as_ref()
        .map(|s| s.from.clone())
        .unwrap_or_else(|| "og-tickets <tickets@localhost>".into());
    let msg = Message::builder()
        .from(from.parse().map_err(|e| format!("sender address: {e}"))?)
        .to(mail.to.parse().map_err(|e| format!("recipient address: {e}"))?)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.clone())
        .map_err(|e| e.to_string())?;
    match &state.settings.smtp {
        Some(smtp) => {
            let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp.url).map_err(|e| e.to_string())?;
            if let (Some(user), Some(pass)) = (&smtp.username, &smtp.password) {
                builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
                    user.clone(),
                    pass.to_string(),
                ));
            }
            builder.build().send(msg).await.map_err(|e| e.to_string())?;
            Ok(())
        }
        None => {
            let name = format!("{}-{}.eml", crate::now(), &crate::auth::random_token()[..12]);
            crate::keys::write_private_file(&state.settings.mail_dir().join(name), &msg.formatted())
                .map_err(|e| e.to_string())
        }
    }
}
