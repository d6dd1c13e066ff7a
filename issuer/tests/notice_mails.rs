//! The mails that tell a buyer a change went through, read from a real SMTP sink: a ticket sent
//! (to its sender), a refund granted (by the buyer or by an operator), a password changed (on
//! the account page or with a reset link). Each arrives in the account's language, as plain
//! text with an HTML alternative, with the facts the buyer needs. The older plain-text mails
//! (activation...) have the same HTML frame.

mod support;

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use support::{Buyer, PASSWORD, TestApp, spawn_app};

/// A mail as its reader sees it: the decoded plain-text and HTML parts.
struct Read {
    text: String,
    html: String,
}

/// The decoded body of the first part of `raw` with this content type.
fn part(raw: &str, content_type: &str) -> String {
    let Some(start) = raw.find(&format!("Content-Type: {content_type}")) else {
        return String::new();
    };
    let part = &raw[start..];
    let Some(head_end) = part.find("\r\n\r\n") else {
        return String::new();
    };
    let (head, body) = (&part[..head_end], &part[head_end + 4..]);
    let body: String = body
        .split("\r\n")
        .take_while(|l| !l.starts_with("--"))
        .collect::<Vec<_>>()
        .join("\r\n");
    if head.contains("Content-Transfer-Encoding: base64") {
        let b64: String = body.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    } else if head.contains("Content-Transfer-Encoding: quoted-printable") {
        og_fixtures::smtp::unquote(&body)
    } else {
        body
    }
}

/// Waits (up to 10 s) for a mail to `to` whose plain text contains `needle`.
async fn mail_to(app: &TestApp, to: &str, needle: &str) -> Read {
    let want = needle.to_owned();
    let m = app
        .smtp
        .wait_for_matching(to, Duration::from_secs(10), move |m| {
            part(&m.data, "text/plain").contains(&want)
        })
        .await
        .unwrap_or_else(|| panic!("no mail to {to} containing {needle:?}; got {:#?}", app.smtp.messages()));
    Read {
        text: part(&m.data, "text/plain"),
        html: part(&m.data, "text/html"),
    }
}

/// A signed-in buyer whose account is written to in French.
async fn french_buyer(app: &TestApp, email: &str) -> Buyer {
    app.registered(email).await;
    app.db_exec(&format!("UPDATE accounts SET language = 'fr' WHERE email = '{email}'"));
    app.log_in(email).await
}

fn fr() -> og_issuer::i18n::Lang {
    og_issuer::i18n::find("fr").unwrap()
}

/// The HTML alternative is the shared frame, in the mail's language.
fn assert_framed_in_french(m: &Read) {
    assert!(
        m.html.contains(r#"<html lang="fr">"#),
        "an HTML alternative in French: {}",
        m.html
    );
    assert!(m.html.contains("og-tickets"), "{}", m.html);
}

async fn tickets(app: &TestApp, b: &Buyer) -> Vec<Value> {
    let (_, t) = app.get_json("/api/v1/tickets", Some(&b.access)).await;
    t["tickets"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_sender_is_told_in_french_that_their_ticket_now_belongs_to_its_recipient() {
    let app = spawn_app().await;
    let giver = french_buyer(&app, "lea@example.org").await;
    app.buyer("tom@example.org").await;
    app.buy(&giver, 9, "duo", 1).await;
    let t = tickets(&app, &giver).await[0].clone();
    let serial = t["serial"].as_i64().unwrap();
    let (st, body) = app
        .post_json(
            &format!("/api/v1/tickets/{serial}/transfer"),
            Some(&giver.access),
            &json!({ "to_email": "tom@example.org" }),
        )
        .await;
    assert_eq!(st, 202, "{body}");

    let m = mail_to(&app, "lea@example.org", "tom@example.org").await;
    assert!(
        m.text.contains(&format!(
            "Votre billet n° {serial} pour {} appartient désormais à tom@example.org",
            t["event_name"].as_str().unwrap()
        )),
        "{}",
        m.text
    );
    assert!(m.text.contains("votre code n’ouvre plus les portes"), "{}", m.text);
    assert!(m.text.contains("/account"), "what to do if it was not them: {}", m.text);
    assert_framed_in_french(&m);
    // The recipient still gets theirs.
    app.smtp.wait_for("tom@example.org", "/tickets").await;
}

#[tokio::test]
async fn a_sender_whose_recipient_has_no_account_is_told_the_ticket_stays_theirs_until_claimed() {
    let app = spawn_app().await;
    let giver = french_buyer(&app, "noa@example.org").await;
    app.buy(&giver, 9, "duo", 1).await;
    let serial = tickets(&app, &giver).await[0]["serial"].as_i64().unwrap();
    let (st, _) = app
        .post_json(
            &format!("/api/v1/tickets/{serial}/transfer"),
            Some(&giver.access),
            &json!({ "to_email": "newcomer@example.org" }),
        )
        .await;
    assert_eq!(st, 202);
    let m = mail_to(&app, "noa@example.org", "newcomer@example.org").await;
    assert!(m.text.contains("sous 7 jours"), "{}", m.text);
    assert!(m.text.contains("le billet reste à vous"), "{}", m.text);
}

#[tokio::test]
async fn a_buyer_who_refunds_their_order_is_told_in_french_how_much_comes_back_and_where() {
    let app = spawn_app().await;
    let b = french_buyer(&app, "remi@example.org").await;
    let order = app.buy(&b, 8, "solo", 2).await;
    let id = order["id"].as_i64().unwrap();
    let total = order["total_cents"].as_i64().unwrap();
    let (st, o) = app
        .post_json(&format!("/api/v1/orders/{id}/cancel"), Some(&b.access), &json!({}))
        .await;
    assert_eq!((st, o["status"].as_str()), (200, Some("refunded")), "{o}");

    let m = mail_to(&app, "remi@example.org", "remboursement").await;
    assert!(
        m.text.contains(&format!(
            "Votre remboursement est confirmé : {} pour la commande {id}",
            fr().money(total)
        )),
        "{}",
        m.text
    );
    assert!(
        m.text
            .contains("Les billets de cette commande n’ouvrent plus les portes"),
        "{}",
        m.text
    );
    assert!(m.text.contains("la carte avec laquelle vous avez payé"), "{}", m.text);
    assert!(m.text.contains(&format!("/orders/{id}")), "{}", m.text);
    assert_framed_in_french(&m);
}

#[tokio::test]
async fn a_ticket_an_operator_refunds_is_confirmed_to_its_buyer_in_french_with_its_number_and_amount() {
    let app = spawn_app().await;
    let op = app.operator();
    let b = french_buyer(&app, "ines@example.org").await;
    let order = app.buy(&b, 1, "family", 1).await;
    let id = order["id"].as_i64().unwrap();
    let t = tickets(&app, &b).await[0].clone();
    let serial = t["serial"].as_i64().unwrap();
    let (st, due) = app
        .post_json(
            &format!("/api/v1/ops/tickets/{serial}/refund"),
            Some(&op),
            &json!({ "reason": "two seats had no view" }),
        )
        .await;
    assert_eq!(st, 201, "{due}");

    let m = mail_to(&app, "ines@example.org", "remboursement").await;
    assert!(
        m.text.contains(&format!(
            "{} pour le billet n° {serial} de la commande {id} ({})",
            fr().money(due["amount_cents"].as_i64().unwrap()),
            t["event_name"].as_str().unwrap()
        )),
        "{}",
        m.text
    );
    assert!(m.text.contains("Ce billet n’ouvre plus les portes"), "{}", m.text);
    assert!(
        !m.text.contains("two seats"),
        "the operator's note stays inside: {}",
        m.text
    );
    assert_framed_in_french(&m);
}

#[tokio::test]
async fn a_password_changed_on_the_account_is_confirmed_in_french_with_when_and_what_to_do_if_it_was_not_them() {
    let app = spawn_app().await;
    let b = french_buyer(&app, "zoe@example.org").await;
    let res = app
        .client
        .post(app.url("/api/v1/password/change"))
        .bearer_auth(&b.access)
        .json(&json!({ "current_password": PASSWORD, "new_password": "plum tractor eleven" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let m = mail_to(&app, "zoe@example.org", "zoe@example.org) a ").await;
    assert!(m.text.contains("depuis la page de votre compte"), "{}", m.text);
    assert!(m.text.contains("(heure de Paris)"), "when, local: {}", m.text);
    assert!(m.text.contains("Si ce n’est pas vous"), "{}", m.text);
    assert!(m.text.contains("/password/forgot"), "{}", m.text);
    assert_framed_in_french(&m);
}

#[tokio::test]
async fn a_password_reset_by_mail_is_confirmed_by_a_second_mail_in_french() {
    let app = spawn_app().await;
    french_buyer(&app, "yann@example.org").await;
    let (st, _) = app
        .post_json("/api/v1/password/forgot", None, &json!({ "email": "yann@example.org" }))
        .await;
    assert_eq!(st, 202);
    let mail = app.smtp.wait_for("yann@example.org", "/password/reset?token=").await;
    let token = support::token_in(&mail, "/password/reset?token=");
    let (st, body) = app
        .post_json(
            "/api/v1/password/reset",
            None,
            &json!({ "token": token, "password": "a brand new secret" }),
        )
        .await;
    assert_eq!(st, 200, "{body}");

    let m = mail_to(&app, "yann@example.org", "yann@example.org) a ").await;
    assert!(m.text.contains("avec un lien de réinitialisation"), "{}", m.text);
    assert!(m.text.contains("(heure de Paris)"), "{}", m.text);
    assert_framed_in_french(&m);
}

#[tokio::test]
async fn the_activation_mail_has_an_html_alternative_in_the_shared_frame_with_its_link_clickable() {
    let app = spawn_app().await;
    app.registered("hugo@example.org").await;
    let m = mail_to(&app, "hugo@example.org", "/activate?token=").await;
    assert!(
        m.text.contains("Open this link within 48 hours"),
        "the text as it was: {}",
        m.text
    );
    assert!(m.html.contains(r#"<html lang="en">"#), "{}", m.html);
    assert!(m.html.contains("/activate?token="), "{}", m.html);
    assert!(m.html.contains(r#"<a href=""#), "a clickable link: {}", m.html);
}
