//! A buyer who reads French, in headless Chromium: switches the shop to French with the header's
//! switcher, browses (dates local to the Paris venue, in French, euros written the French way),
//! signs up (the activation mail in French), buys and opens the ticket. The main pages are
//! screenshotted at 1280 px and 390 px wide into `$CARGO_TARGET_TMPDIR/i18n-fr-*.png`.

mod support;

use serde_json::json;
use support::browser::Driver;
use support::{PASSWORD, spawn_app};

/// Screenshots of the current page at a desktop and a phone width.
async fn shots(d: &Driver, name: &str) {
    for width in [1280, 390] {
        d.call("POST", "/window/rect", Some(json!({ "width": width, "height": 1000 })))
            .await;
        let png = d.screenshot().await;
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("i18n-fr-{name}-{width}.png"));
        std::fs::write(&path, &png).unwrap();
    }
    d.call("POST", "/window/rect", Some(json!({ "width": 1280, "height": 1000 })))
        .await;
}

/// `20 h 30`: the local Paris time of `ts` as the French pages write it.
fn paris_time(ts: i64) -> String {
    let z = jiff::Timestamp::from_second(ts).unwrap().in_tz("Europe/Paris").unwrap();
    format!("{} h {:02}", z.hour(), z.minute())
}

#[tokio::test]
async fn in_chromium_a_french_reader_switches_to_french_sees_paris_times_and_euros_signs_up_and_buys() {
    let app = spawn_app().await;
    let d = Driver::start().await;

    // English by default (the deployment's default, and Chromium asks for en-US).
    d.goto(&app.url("/events/3")).await;
    d.wait_for(&["<html lang=\"en\"", "Add Duo to cart", "(Paris time)"])
        .await;

    // The switcher comes back to the same page, in French, and remembers the choice.
    d.click("a[hreflang='fr']").await;
    let event = d
        .wait_for(&["<html lang=\"fr\"", "Ajouter Duo au panier", "(heure de Paris)"])
        .await
        .replace("&nbsp;", "\u{a0}");
    assert!(d.url().await.ends_with("/events/3"), "{}", d.url().await);
    let (starts, doors): (i64, i64) = app
        .state
        .db
        .read_sync(|c| {
            Ok(
                c.query_row("SELECT starts_at, doors_open FROM events WHERE id = 3", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?,
            )
        })
        .unwrap();
    assert!(event.contains(&paris_time(starts)), "the start in Paris time: {event}");
    assert!(
        event.contains(&format!("Ouverture des portes\u{a0}: {}", paris_time(doors))),
        "doors open in Paris time: {event}"
    );
    assert!(
        event.contains("2 Place Joffre, 75007 Paris"),
        "the venue's address: {event}"
    );
    assert!(event.contains(",00\u{a0}€ le billet"), "euros the French way: {event}");
    shots(&d, "event").await;

    d.goto(&app.url("/")).await;
    let home = d.wait_for(&["Événements", "Choisir des billets"]).await;
    assert!(
        home.contains("À partir de") && home.contains("(heure de Paris)"),
        "{home}"
    );
    assert!(!home.contains("UTC"), "no UTC time is shown: {home}");
    shots(&d, "catalogue").await;

    d.goto(&app.url("/events/3")).await;
    d.click("button[value='duo']").await;
    let cart = d
        .wait_for(&["Votre panier", "Mixed Team Final", "Se connecter pour commander"])
        .await
        .replace("&nbsp;", "\u{a0}");
    assert!(cart.contains(",00\u{a0}€"), "{cart}");
    shots(&d, "cart").await;

    d.goto(&app.url("/signup")).await;
    d.wait_for(&["Créer un compte", "Nom sur vos billets"]).await;
    shots(&d, "signup").await;
    d.type_in("#email", "zoe@example.org").await;
    d.type_in("#name", "Zoé Lectrice").await;
    d.type_in("#password", PASSWORD).await;
    // The consent is required: the browser itself refuses the form without it.
    d.click("form[action='/signup'] button").await;
    assert!(d.url().await.ends_with("/signup"), "sent without consent");
    d.click("#accept_terms").await;
    d.click("form[action='/signup'] button").await;
    d.wait_for(&["Consultez votre boîte de réception"]).await;
    let mail = app.smtp.wait_for("zoe@example.org", "/activate?token=").await;
    assert!(mail.contains("Bienvenue"), "the activation mail is in French: {mail}");
    let (language, terms_at): (Option<String>, Option<i64>) = app
        .state
        .db
        .read_sync(|c| {
            Ok(c.query_row(
                "SELECT language, terms_accepted_at FROM accounts WHERE email = 'zoe@example.org'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .unwrap();
    assert_eq!(
        language.as_deref(),
        Some("fr"),
        "the choice becomes the account's preference"
    );
    assert!(terms_at.is_some(), "the consent is recorded with its time");
    let token = support::token_in(&mail, "/activate?token=");
    d.goto(&app.url(&format!("/activate?token={token}"))).await;
    d.click("form[action='/activate'] button").await;
    d.wait_for(&["Compte activé"]).await;

    d.goto(&app.url("/login?next=/cart")).await;
    d.type_in("#email", "zoe@example.org").await;
    d.type_in("#password", PASSWORD).await;
    d.click("form[action='/login'] button").await;
    d.wait_for(&["Votre panier", "Commander et payer"]).await;
    d.click("form[action='/checkout'] button").await;
    d.wait_for(&["Numéro de carte"]).await;
    shots(&d, "payment").await;
    d.type_in("#card", "4242 4242 4242 4242").await;
    d.click("form[action^='/pay/'] button").await;
    d.wait_for(&["Payée. Vos billets sont prêts."]).await;
    shots(&d, "order").await;
    d.click("a[href='/tickets']").await;
    d.wait_for(&["Mes billets", "Afficher le billet"]).await;
    d.click("a[href^='/tickets/']").await;
    let ticket = d
        .wait_for(&["Titulaire", "Zoé Lectrice", "<svg", "Ouverture des portes"])
        .await;
    assert!(
        ticket.contains("2 Place Joffre") && ticket.contains(&paris_time(starts)),
        "{ticket}"
    );
    shots(&d, "ticket").await;

    let ticket_url = d.url().await;

    d.goto(&app.url("/account")).await;
    d.wait_for(&["Mon compte", "Télécharger mes données", "Supprimer mon compte"])
        .await;
    shots(&d, "account").await;

    // A mistyped address is a page in the layout, in French; the API answers JSON.
    d.goto(&app.url("/evenements")).await;
    let missing = d
        .wait_for(&["Page introuvable", "<html lang=\"fr\"", "Mes billets"])
        .await;
    assert!(!missing.contains("\"error\""), "{missing}");
    shots(&d, "not-found").await;
    d.goto(&app.url("/api/v1/evenements")).await;
    d.wait_for(&["\"code\":\"not_found\""]).await;

    // Back to English from the ticket page: the page and the account follow.
    d.goto(&ticket_url).await;
    d.click("a[hreflang='en']").await;
    d.wait_for(&["<html lang=\"en\"", "Holder:", "Doors open"]).await;
    let language: Option<String> = app
        .state
        .db
        .read_sync(|c| {
            Ok(c.query_row(
                "SELECT language FROM accounts WHERE email = 'zoe@example.org'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(language.as_deref(), Some("en"));
    d.call("DELETE", "", None).await;
}

#[tokio::test]
async fn the_language_comes_from_the_choice_then_the_account_then_the_browser_then_the_default() {
    let app = spawn_app().await;
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut rb = app.client.get(app.url(path));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        async move {
            let res = rb.send().await.unwrap();
            res.text().await.unwrap()
        }
    };
    assert!(
        get("/", &[]).await.contains("<html lang=\"en\""),
        "the default is English"
    );
    assert!(
        get("/", &[("accept-language", "fr-FR,fr;q=0.9,en;q=0.5")])
            .await
            .contains("<html lang=\"fr\"")
    );
    assert!(
        get("/", &[("accept-language", "de-DE,de;q=0.9")])
            .await
            .contains("<html lang=\"en\""),
        "a language we do not have falls back to the default"
    );
    assert!(
        get("/", &[("accept-language", "fr"), ("cookie", "__Host-og_lang=en")])
            .await
            .contains("<html lang=\"en\""),
        "an explicit choice beats the browser"
    );

    // A signed-in account's preference beats the browser, not an explicit choice.
    let b = app.buyer("ana@example.org").await;
    app.db_exec("UPDATE accounts SET language = 'fr' WHERE email = 'ana@example.org'");
    let auth = format!("Bearer {}", b.access);
    let page = get("/tickets", &[("authorization", &auth), ("accept-language", "en")]).await;
    assert!(
        page.contains("<html lang=\"fr\"") && page.contains("Mes billets"),
        "{page}"
    );
    let page = get("/tickets", &[("authorization", &auth), ("cookie", "__Host-og_lang=en")]).await;
    assert!(page.contains("<html lang=\"en\""), "{page}");

    // The switcher only ever sends back to a path of this site.
    for (back, to) in [
        ("/events/3?sport=Judo", "/events/3?sport=Judo"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ] {
        let res = app
            .client
            .get(app.url("/lang/fr"))
            .query(&[("back", back)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], to, "back={back}");
        assert_eq!(support::set_cookie(&res, "__Host-og_lang").as_deref(), Some("fr"));
    }
    let res = app.client.get(app.url("/lang/xx")).send().await.unwrap();
    assert_eq!(res.status(), 404, "no such language");

    // Browsers get error pages, everything else (and the API, always) JSON.
    let html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    for (path, accept, status, page) in [
        ("/no-such-page", html, 404, true),
        ("/no-such-page", "*/*", 404, false),
        ("/api/v1/no-such-route", html, 404, false),
        ("/events/999999", html, 404, true),
        ("/checkout", html, 405, true),
        ("/api/v1/events/x", html, 404, false),
    ] {
        let res = app
            .client
            .get(app.url(path))
            .header("accept", accept)
            .header("accept-language", "fr")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{path}");
        let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
        let allow = res.headers().get("allow").is_some();
        let body = res.text().await.unwrap();
        if page {
            assert!(ct.starts_with("text/html"), "{path}: {ct}");
            assert!(
                body.contains("<html lang=\"fr\"") && body.contains("href=\"/terms\""),
                "{body}"
            );
            if status == 404 {
                assert!(
                    body.contains("Page introuvable") || body.contains("Cela n’a pas fonctionné"),
                    "{body}"
                );
            } else {
                assert!(allow, "a 405 page keeps its Allow header");
            }
        } else {
            assert!(ct.starts_with("application/json"), "{path}: {ct}");
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert!(v["error"]["code"].is_string(), "{body}");
        }
    }
    let res = app.client.get(app.url("/favicon.svg")).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "image/svg+xml");

    // The JSON API stays English whatever the browser asks.
    let (st, body) = app.get_json("/api/v1/events/9999", None).await;
    assert_eq!(st, 404);
    let res = app
        .client
        .get(app.url("/api/v1/events/9999"))
        .header("accept-language", "fr")
        .send()
        .await
        .unwrap();
    let fr: serde_json::Value = res.json().await.unwrap();
    assert_eq!(fr, body);
}

#[tokio::test]
async fn an_event_after_midnight_in_paris_is_listed_under_its_paris_day() {
    let app = spawn_app().await;
    // 2030-07-01 23:30 UTC is 2 July, 01:30 in Paris.
    app.db_exec(
        "UPDATE events SET starts_at = 1909179000, doors_open = 1909171800, doors_close = 1909193400 WHERE id = 1",
    );
    let ids = |v: &serde_json::Value| -> Vec<i64> {
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect()
    };
    let (st, paris_day) = app.get_json("/api/v1/events?day=2030-07-02", None).await;
    assert_eq!(st, 200, "{paris_day}");
    assert_eq!(ids(&paris_day), vec![1]);
    assert_eq!(paris_day["events"][0]["day"], "2030-07-02");
    let (_, utc_day) = app.get_json("/api/v1/events?day=2030-07-01", None).await;
    assert!(ids(&utc_day).is_empty(), "{utc_day}");
    let page = app.get_page("/?day=2030-07-02", None).await;
    assert!(page.contains("Tue 2 Jul 2030, 1:30 AM (Paris time)"), "{page}");
}
