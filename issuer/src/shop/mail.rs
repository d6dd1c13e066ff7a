//! Outgoing mail (activation and password-reset links, transfer notices, order confirmations
//! with their PDF tickets, refund and password-change notices). Every mail a buyer gets has an
//! HTML alternative in one shared frame ([`frame`]; a [`Queued::Framed`] mail is a plain text
//! framed as it is), and is written in the account's language ([`mail_language`]).
//!
//! A mail is **queued in the transaction of the change it tells of** ([`queue`], the
//! `mail_outbox` table): the change is never committed without its mail, whichever replica made
//! it and whether or not that replica lives to send it. It names the account it is addressed
//! to, so that deleting the account deletes what still waits for it. After the commit the
//! caller [`wake`]s this replica's mail worker (`shop::mail_queue`), which sends it at once; any
//! replica's worker picks up what is left. A slow or failing mail server never delays or fails
//! the request (and the answer time does not reveal whether a mail was sent); a mail it turned
//! away is tried again later.
//!
//! With `settings.smtp` set, mail goes out through lettre's async SMTP transport (rustls;
//! `smtp://host:port` is plain SMTP for a local relay or a test sink). Without it, each mail is
//! written as an `.eml` file (0600, in a 0700 directory: they hold activation and reset links)
//! to `<data dir>/outbox-mail/` so the demo works offline; the caller may additionally log the
//! link, in demo mode only (`Settings::demo_mode`).

use lettre::message::header::ContentType;
use lettre::message::{Attachment as MailAttachment, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use maud::{DOCTYPE, Markup, html};

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::shop::Services;
use crate::store::sql::Transaction;

/// The language mails to an account are written in: its preference, else the deployment's.
pub fn mail_language(state: &Services, preference: Option<&str>) -> Lang {
    Lang::for_account(preference, &state.settings.default_language)
}

/// A mail to send.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// A mail with an HTML alternative to its plain text and files attached.
#[derive(Debug, Clone)]
pub struct RichMail {
    pub mail: Mail,
    /// The same words as `mail.body`, as HTML (shown by mail programs that can).
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
}

/// A file attached to a mail.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: String,
    /// `application/pdf`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A mail waiting in the outbox, as stored (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Queued {
    /// A buyer's mail: a plain text sent with the shared HTML frame, in the language `lang`.
    Framed {
        lang: String,
        to: String,
        subject: String,
        body: String,
    },
    /// The confirmation of a paid order with its PDF tickets, written when it is sent
    /// (`order_mail`).
    OrderConfirmation { order_id: i64 },
}

impl Queued {
    /// A buyer's mail in `l`, framed as it is.
    pub fn framed(l: Lang, mail: Mail) -> Queued {
        Queued::Framed {
            lang: l.code().to_owned(),
            to: mail.to,
            subject: mail.subject,
            body: mail.body,
        }
    }

    /// What the mail is, for logs (never its text: it may hold a link that logs in).
    pub fn kind(&self) -> &'static str {
        match self {
            Queued::Framed { .. } => "framed",
            Queued::OrderConfirmation { .. } => "order_confirmation",
        }
    }
}

/// Queues a mail in the transaction `tx` of the change it tells of: sent once that commits
/// (call [`wake`] after the commit), never if it does not. `account` is the account the mail
/// is addressed to (`None`: an address with no account): deleting that account deletes the
/// mail while it waits, address and all.
pub fn queue(tx: &Transaction<'_>, account: Option<i64>, mail: &Queued, now: i64) -> AppResult<()> {
    let json = serde_json::to_string(mail).map_err(AppError::internal)?;
    Ok(crate::store::mail_outbox::insert(tx, account, &json, now)?)
}

/// [`queue`] for a buyer's plain-text mail with the shared frame, in `l`.
pub fn queue_framed(tx: &Transaction<'_>, account: Option<i64>, l: Lang, mail: Mail, now: i64) -> AppResult<()> {
    queue(tx, account, &Queued::framed(l, mail), now)
}

/// Tells this replica's mail worker that mails were queued by a commit that just ended, so they
/// go out now rather than at its next look (every replica's worker looks every few seconds).
pub fn wake(state: &Services) {
    state.mail_queued.notify_one();
}

/// Why a mail was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// Trying again cannot help (an address that is not one, a mail server's 5xx refusal).
    pub permanent: bool,
    pub message: String,
}

impl SendError {
    fn permanent(message: impl Into<String>) -> SendError {
        SendError {
            permanent: true,
            message: message.into(),
        }
    }

    fn transient(message: impl Into<String>) -> SendError {
        SendError {
            permanent: false,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// How long the mail server may take for one step of a delivery before the attempt counts as
/// failed (lettre's default is a minute; a claimed batch must end well within its claim).
pub const SMTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The one HTML frame every buyer's mail has (so they look alike): the name on top, the
/// content in a narrow column, styles inline (mail programs drop style sheets).
pub fn frame(l: Lang, subject: &str, content: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (subject) }
            }
            body style="margin:0;padding:0;background:#f3f4f6;" {
                div style="max-width:600px;margin:0 auto;padding:24px;background:#ffffff;color:#1f2937;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;font-size:16px;line-height:1.5;" {
                    p style="margin:0 0 16px;font-size:20px;font-weight:bold;color:#1e3a8a;" { "og-tickets" }
                    h1 style="margin:0 0 16px;font-size:18px;" { (subject) }
                    (content)
                }
            }
        }
    }
    .into_string()
}

/// A plain-text body as HTML: blank lines part paragraphs, line breaks stay, links are clickable.
pub fn text_html(text: &str) -> Markup {
    html! {
        @for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
            p {
                @for (i, line) in para.lines().enumerate() {
                    @if i > 0 { br; }
                    (linked(line.trim()))
                }
            }
        }
    }
}

/// One line with its `http(s)://` words as links (a trailing `.`, `,` or `)` stays text).
fn linked(line: &str) -> Markup {
    let words: Vec<&str> = line.split(' ').collect();
    html! {
        @for (i, w) in words.iter().enumerate() {
            @if i > 0 { " " }
            @if w.starts_with("http://") || w.starts_with("https://") {
                @let url = w.trim_end_matches(['.', ',', ')']);
                a href=(url) style="color:#1d4ed8;" { (url) } (&w[url.len()..])
            } @else {
                (w)
            }
        }
    }
}

/// The message: plain text alone, or plain text and HTML as alternatives, with the attachments.
fn body(builder: lettre::message::MessageBuilder, rich: &RichMail) -> Result<Message, String> {
    let text = SinglePart::plain(rich.mail.body.clone());
    if rich.html.is_none() && rich.attachments.is_empty() {
        return builder
            .header(ContentType::TEXT_PLAIN)
            .body(rich.mail.body.clone())
            .map_err(|e| e.to_string());
    }
    let words = match &rich.html {
        Some(html) => MultiPart::alternative()
            .singlepart(text)
            .singlepart(SinglePart::html(html.clone())),
        None => MultiPart::mixed().singlepart(text),
    };
    let mut all = MultiPart::mixed().multipart(words);
    for a in &rich.attachments {
        let ct = ContentType::parse(&a.content_type).map_err(|e| e.to_string())?;
        all = all.singlepart(MailAttachment::new(a.filename.clone()).body(a.bytes.clone(), ct));
    }
    builder.multipart(all).map_err(|e| e.to_string())
}

/// Sends a mail with its HTML and attachments now (SMTP) or writes the `.eml` file. Only the
/// mail worker calls it (`shop::mail_queue`): everyone else [`queue`]s.
pub async fn send_rich(state: &Services, rich: &RichMail) -> Result<(), SendError> {
    let mail = &rich.mail;
    let from = state
        .settings
        .smtp
        .as_ref()
        .map(|s| s.from.clone())
        .unwrap_or_else(|| "og-tickets <tickets@localhost>".into());
    let msg = body(
        Message::builder()
            .from(
                from.parse()
                    .map_err(|e| SendError::permanent(format!("sender address: {e}")))?,
            )
            .to(mail
                .to
                .parse()
                .map_err(|e| SendError::permanent(format!("recipient address: {e}")))?)
            .subject(mail.subject.clone()),
        rich,
    )
    .map_err(SendError::permanent)?;
    match &state.settings.smtp {
        Some(smtp) => {
            let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp.url)
                .map_err(|e| SendError::permanent(format!("mail server URL: {e}")))?
                .timeout(Some(SMTP_TIMEOUT));
            if let (Some(user), Some(pass)) = (&smtp.username, &smtp.password) {
                builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
                    user.clone(),
                    pass.to_string(),
                ));
            }
            builder.build().send(msg).await.map_err(|e| SendError {
                permanent: e.is_permanent(),
                message: e.to_string(),
            })?;
            Ok(())
        }
        None => {
            let name = format!("{}-{}.eml", crate::now(), &crate::shop::auth::random_token()[..12]);
            crate::trust::keys::write_private_file(&state.settings.mail_dir().join(name), &msg.formatted())
                .map_err(|e| SendError::transient(e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_framed_text_keeps_its_paragraphs_and_makes_its_links_clickable() {
        let l = crate::i18n::find("fr").unwrap();
        let html = frame(
            l,
            "Sujet <b>",
            text_html("Bonjour,\n\nVoir https://x.test/a?b=1&c=2.\nFin"),
        );
        assert!(html.contains(r#"<html lang="fr">"#), "{html}");
        assert!(html.contains("Sujet &lt;b&gt;"), "{html}");
        assert!(
            html.contains(r#"<a href="https://x.test/a?b=1&amp;c=2" style="color:#1d4ed8;">https://x.test/a?b=1&amp;c=2</a>.<br>Fin"#),
            "{html}"
        );
        assert!(html.contains("<p>Bonjour,</p>"), "{html}");
    }
}
