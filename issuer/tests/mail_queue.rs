//! Mails wait in the database until a mail server takes them (`mail_outbox`, queued in the
//! transaction of the change they tell of): a mail server that turns mail away for a while
//! delays mails, never loses them; what another replica queued, or claimed and never sent
//! because it died, is sent by this one (after the claim lapses, never before); a mail that can
//! never be delivered is dropped without holding up the others; two issuers on one database
//! send each mail once; the mails still waiting for a buyer who deletes their account are
//! deleted with it and never reach their address. Runs on both engines
//! (`OG_TEST_ENGINE=postgres`).

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use support::{Buyer, PASSWORD, TestApp, poll, spawn_app, token_in};

/// A gauge of `/metrics`.
async fn gauge(app: &TestApp, name: &str) -> i64 {
    let text = app.get_page("/metrics", None).await;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .trim()
        .parse()
        .unwrap()
}

/// What a replica queues for a plain mail (`shop::mail::Queued::Framed`), as stored.
fn framed(to: &str, subject: &str) -> String {
    json!({"kind": "framed", "lang": "en", "to": to, "subject": subject, "body": "Hello"}).to_string()
}

/// Puts a mail in the outbox, due at `due`, as another replica's transaction would have.
fn queue_directly(app: &TestApp, message: &str, due: i64) {
    app.db_exec(&format!(
        "INSERT INTO mail_outbox (message, queued_at, next_attempt_at) VALUES ('{}', {}, {due})",
        message.replace('\'', "''"),
        og_issuer::now()
    ));
}

/// The recipients of the mails a sink got, with how many each got.
fn recipients(mails: &[String]) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for m in mails {
        let to = m
            .lines()
            .find_map(|l| l.strip_prefix("To: "))
            .unwrap_or_default()
            .trim()
            .to_owned();
        *seen.entry(to).or_default() += 1;
    }
    seen
}

#[tokio::test]
async fn a_mail_the_mail_server_turns_away_is_delivered_once_it_takes_mail_again() {
    let app = spawn_app().await;
    app.smtp.set_refusing(true);
    let (st, body) = app
        .post_json(
            "/api/v1/accounts",
            None,
            &json!({ "accept_terms": true, "email": "patient@example.org", "password": PASSWORD, "name": "Pat" }),
        )
        .await;
    assert_eq!(st, 202, "the sign-up does not wait for the mail server: {body}");
    poll::until(
        "the mail server turned the activation mail away",
        Duration::from_secs(10),
        Duration::from_millis(20),
        || async { (app.smtp.refused() >= 1).then_some(()) },
    )
    .await;
    assert_eq!(gauge(&app, "og_mails_waiting").await, 1, "the mail waits in the queue");
    assert!(app.smtp.messages().is_empty());

    app.smtp.set_refusing(false);
    let mail = poll::until(
        "the activation mail, once the mail server takes mail again",
        Duration::from_secs(15),
        Duration::from_millis(50),
        || async {
            app.smtp
                .messages()
                .into_iter()
                .find(|m| m.contains("patient@example.org"))
        },
    )
    .await;
    let token = token_in(&og_fixtures::smtp::unquote(&mail), "/activate?token=");
    let (st, body) = app
        .post_json("/api/v1/accounts/activate", None, &json!({ "token": token }))
        .await;
    assert_eq!(st, 200, "the delayed link works: {body}");
    poll::until(
        "the queue is empty once the mail is sent",
        Duration::from_secs(5),
        Duration::from_millis(50),
        || async { (gauge(&app, "og_mails_waiting").await == 0).then_some(()) },
    )
    .await;
    assert_eq!(app.smtp.messages().len(), 1, "sent once");
}

#[tokio::test]
async fn mails_another_replica_queued_or_claimed_before_it_died_are_sent_here_and_a_claim_is_respected() {
    let app = spawn_app().await;
    let now = og_issuer::now();
    // Queued and never sent (its replica died after the commit)...
    queue_directly(&app, &framed("queued@example.org", "Queued elsewhere"), now);
    // ...and claimed by a replica that died: due again when its claim lapses, 3 s from now.
    let lapses = now + 3;
    queue_directly(&app, &framed("claimed@example.org", "Claimed elsewhere"), lapses);
    let sent_at = |to: &'static str| {
        let app = &app;
        async move {
            poll::until(
                &format!("the mail to {to}"),
                Duration::from_secs(15),
                Duration::from_millis(50),
                || async { app.smtp.messages().iter().any(|m| m.contains(to)).then(og_issuer::now) },
            )
            .await
        }
    };
    sent_at("queued@example.org").await;
    let claimed = sent_at("claimed@example.org").await;
    assert!(
        claimed >= lapses,
        "a claimed mail is not sent before its claim lapses ({claimed} < {lapses})"
    );
    assert_eq!(app.smtp.messages().len(), 2, "each once");
}

#[tokio::test]
async fn a_mail_that_can_never_be_delivered_is_dropped_without_holding_up_the_next() {
    let app = spawn_app().await;
    let now = og_issuer::now();
    queue_directly(&app, &framed("not an address", "Never"), now);
    queue_directly(&app, r#"{"kind":"from_a_newer_build"}"#, now);
    // The confirmation of an order that is gone (its buyer deleted their account).
    queue_directly(&app, r#"{"kind":"order_confirmation","order_id":999999}"#, now);
    queue_directly(&app, &framed("next@example.org", "Next"), now);
    app.state.mail_queued.notify_one();
    poll::until(
        "the next mail",
        Duration::from_secs(10),
        Duration::from_millis(50),
        || async {
            app.smtp
                .messages()
                .iter()
                .any(|m| m.contains("next@example.org"))
                .then_some(())
        },
    )
    .await;
    poll::until(
        "the queue empty: the undeliverable mails dropped, not retried",
        Duration::from_secs(5),
        Duration::from_millis(50),
        || async { (gauge(&app, "og_mails_waiting").await == 0).then_some(()) },
    )
    .await;
    assert_eq!(app.smtp.messages().len(), 1);
}

#[tokio::test]
async fn two_issuers_on_one_database_send_each_queued_mail_once() {
    let first = spawn_app().await;
    let (first_sink, first_state) = (first.smtp.clone(), first.state.clone());
    // A second issuer on the same data dir and database; the first keeps running.
    let second = first.restart().await;
    const MAILS: usize = 40;
    let now = og_issuer::now();
    for i in 0..MAILS {
        queue_directly(&second, &framed(&format!("once{i:02}@example.org"), "Once"), now);
    }
    // Both workers look at once.
    first_state.mail_queued.notify_one();
    second.state.mail_queued.notify_one();
    poll::until(
        "every mail sent and the queue empty",
        Duration::from_secs(30),
        Duration::from_millis(50),
        || async {
            let n = first_sink.messages().len() + second.smtp.messages().len();
            (n >= MAILS && gauge(&second, "og_mails_waiting").await == 0).then_some(())
        },
    )
    .await;
    let mut all = first_sink.messages();
    all.extend(second.smtp.messages());
    let seen = recipients(&all);
    assert_eq!(seen.len(), MAILS, "every recipient got their mail: {seen:?}");
    assert!(seen.values().all(|&n| n == 1), "none twice: {seen:?}");
}

/// Deletes a buyer's account as they would on the account page (password asked again); answers
/// the page's status.
async fn delete_account(app: &TestApp, b: &Buyer) -> u16 {
    let cookies = format!(
        "{}={}; {}",
        og_issuer::shop::auth::ACCESS_COOKIE,
        b.access,
        support::csrf_cookie()
    );
    let csrf = app.csrf_token(&cookies);
    app.client
        .post(app.url("/account/delete"))
        .header("cookie", &cookies)
        .form(&[("password", PASSWORD), ("understood", "yes"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn mails_waiting_for_a_buyer_who_deletes_their_account_are_deleted_with_it_and_never_reach_them() {
    let app = spawn_app().await;
    let leaving = app.buyer("leaving@example.org").await;
    let staying = app.buyer("staying@example.org").await;
    poll::until(
        "the activation mails sent and the queue empty",
        Duration::from_secs(10),
        Duration::from_millis(50),
        || async { (gauge(&app, "og_mails_waiting").await == 0).then_some(()) },
    )
    .await;
    let sent_before = app.smtp.messages().len();

    // The mail server turns mail away for now; mails for both buyers wait in the queue.
    app.smtp.set_refusing(true);
    // Another buyer gives them one of two tickets ("ticket received" to them, "ticket sent" and
    // the order confirmation to the giver)...
    app.buy(&staying, 4, "solo", 2).await;
    let (_, tickets) = app.get_json("/api/v1/tickets", Some(&staying.access)).await;
    let serial = tickets["tickets"][0]["serial"].as_i64().unwrap();
    let (st, body) = app
        .post_json(
            &format!("/api/v1/tickets/{serial}/transfer"),
            Some(&staying.access),
            &json!({ "to_email": "leaving@example.org" }),
        )
        .await;
    assert_eq!(st, 202, "{body}");
    // ...they buy one themselves (their order confirmation) and ask for a reset link.
    app.buy(&leaving, 4, "solo", 1).await;
    let (st, _) = app
        .post_json(
            "/api/v1/password/forgot",
            None,
            &json!({ "email": "leaving@example.org" }),
        )
        .await;
    assert_eq!(st, 202);
    poll::until(
        "the five mails queued and turned away by the mail server",
        Duration::from_secs(15),
        Duration::from_millis(20),
        || async { (app.smtp.refused() >= 5 && gauge(&app, "og_mails_waiting").await == 5).then_some(()) },
    )
    .await;

    assert_eq!(delete_account(&app, &leaving).await, 200, "the account is deleted");
    assert_eq!(
        gauge(&app, "og_mails_waiting").await,
        2,
        "their three mails are gone from the queue at once; the giver's two still wait"
    );

    // The mail server takes mail again: the giver's mails go out, and then nothing is left.
    app.smtp.set_refusing(false);
    poll::until(
        "the giver's mails sent and the queue empty",
        Duration::from_secs(30),
        Duration::from_millis(50),
        || async {
            let mails = app.smtp.messages();
            let to_giver = recipients(&mails[sent_before..])
                .get("staying@example.org")
                .copied()
                .unwrap_or(0);
            (to_giver == 2 && gauge(&app, "og_mails_waiting").await == 0).then_some(())
        },
    )
    .await;
    let after: Vec<String> = app.smtp.messages().split_off(sent_before);
    assert_eq!(
        recipients(&after).keys().collect::<Vec<_>>(),
        vec!["staying@example.org"],
        "nothing reached the deleted account, under its address or the erased one"
    );
}
