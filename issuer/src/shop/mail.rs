//! Outgoing mail (activation and password-reset links, transfer notices, order confirmations
//! with their PDF tickets, refund and password-change notices). Every mail a buyer gets has an
//! HTML alternative in one shared frame ([`frame`]; [`send_framed_later`] frames a plain-text
//! mail as it is), and is written in the account's language ([`mail_language`]).
//!
//! With `settings.smtp` set, mail goes out through lettre's async SMTP transport (rustls;
//! `smtp://host:port` is plain SMTP for a local relay or a test sink). Without it, each mail is
//! written as an `.eml` file (0600, in a 0700 directory: they hold activation and reset links)
//! to `<data dir>/outbox-mail/` so the demo works offline; the caller may additionally log the
//! link, in demo mode only (`Settings::demo_mode`). Sending happens in a background task: a
//! slow or failing mail server never delays or fails the request (and the answer time does not
//! reveal whether a mail was sent).

use lettre::message::header::ContentType;
use lettre::message::{Attachment as MailAttachment, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use maud::{DOCTYPE, Markup, html};

use crate::i18n::Lang;
use crate::shop::Services;

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

/// Sends in the background; failures are logged.
pub fn send_later(state: &Services, mail: Mail) {
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = send(&state, &mail).await {
            tracing::error!(error = %e, "could not send mail");
        }
    });
}

/// Sends a buyer's mail in the background with an HTML alternative: its plain text, unchanged,
/// framed by [`frame`] (paragraphs kept, links clickable).
pub fn send_framed_later(state: &Services, l: Lang, mail: Mail) {
    let html = frame(l, &mail.subject, text_html(&mail.body));
    let rich = RichMail {
        mail,
        html: Some(html),
        attachments: Vec::new(),
    };
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = send_rich(&state, &rich).await {
            tracing::error!(error = %e, "could not send mail");
        }
    });
}

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

/// Sends now (SMTP) or writes the `.eml` file (no SMTP configured).
pub async fn send(state: &Services, mail: &Mail) -> Result<(), String> {
    send_rich(
        state,
        &RichMail {
            mail: mail.clone(),
            html: None,
            attachments: Vec::new(),
        },
    )
    .await
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

/// Sends a mail with its HTML and attachments now (SMTP) or writes the `.eml` file.
pub async fn send_rich(state: &Services, rich: &RichMail) -> Result<(), String> {
    let mail = &rich.mail;
    let from = state
        .settings
        .smtp
        .as_ref()
        .map(|s| s.from.clone())
        .unwrap_or_else(|| "og-tickets <tickets@localhost>".into());
    let msg = body(
        Message::builder()
            .from(from.parse().map_err(|e| format!("sender address: {e}"))?)
            .to(mail.to.parse().map_err(|e| format!("recipient address: {e}"))?)
            .subject(mail.subject.clone()),
        rich,
    )?;
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
            let name = format!("{}-{}.eml", crate::now(), &crate::shop::auth::random_token()[..12]);
            crate::trust::keys::write_private_file(&state.settings.mail_dir().join(name), &msg.formatted())
                .map_err(|e| e.to_string())
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
