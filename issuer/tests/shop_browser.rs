//! The buyer's journey in a real headless Chromium (Debian's `chromium` + `chromedriver`),
//! driven over the W3C WebDriver protocol with plain HTTP (reqwest): browse, add a Duo to the
//! guest cart, sign up, activate from the mailed link, log in, check out, pay on the hosted
//! page, open the ticket. The ticket page is screenshotted (kept in
//! `$CARGO_TARGET_TMPDIR/buyer-journey-ticket.png`) and the QR in the screenshot must decode
//! with rqrr and with zbarimg to the ticket's signed code: what the buyer sees is what the
//! gate reads.

mod support;

use support::browser::Driver;
use support::{PASSWORD, spawn_app};

#[tokio::test]
async fn in_headless_chromium_a_newcomer_signs_up_buys_a_duo_and_the_qr_on_screen_scans() {
    let app = spawn_app().await;
    let d = Driver::start().await;

    d.goto(&app.url("/")).await;
    d.wait_for(&["Mixed Team Final"]).await;
    d.click("a[href='/events/3']").await;
    d.wait_for(&["Add Duo to cart"]).await;
    d.click("button[value='duo']").await;
    d.wait_for(&["Your cart", "Mixed Team Final"]).await;

    d.goto(&app.url("/signup")).await;
    d.type_in("#email", "vic@example.org").await;
    d.type_in("#name", "Vic Browser").await;
    d.type_in("#password", PASSWORD).await;
    d.click("#accept_terms").await;
    d.click("form[action='/signup'] button").await;
    d.wait_for(&["Check your mailbox"]).await;
    let mail = app.smtp.wait_for("vic@example.org", "/activate?token=").await;
    let token = support::token_in(&mail, "/activate?token=");
    d.goto(&app.url(&format!("/activate?token={token}"))).await;
    d.click("form[action='/activate'] button").await;
    d.wait_for(&["Account activated"]).await;

    d.goto(&app.url("/login?next=/cart")).await;
    d.type_in("#email", "vic@example.org").await;
    d.type_in("#password", PASSWORD).await;
    d.click("form[action='/login'] button").await;
    // Back to the cart, signed in: the __Host- Secure cookies work on http://127.0.0.1.
    d.wait_for(&["Your cart", "Mixed Team Final", "Check out and pay"])
        .await;

    d.click("form[action='/checkout'] button").await;
    d.wait_for(&["OG Pay"]).await;
    assert!(d.url().await.contains("/pay/pay_"));
    d.type_in("#card", "4242 4242 4242 4242").await;
    d.type_in("#exp", "12/34").await;
    d.type_in("#cvc", "123").await;
    d.click("form[action^='/pay/'] button").await;
    d.wait_for(&["Paid. Your tickets are ready."]).await;
    d.click("a[href='/tickets']").await;
    d.wait_for(&["My tickets", "Show ticket"]).await;
    d.click("a[href^='/tickets/']").await;
    d.wait_for(&["brightness", "Vic Browser", "<svg"]).await;

    let png = d.screenshot().await;
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("buyer-journey-ticket.png");
    std::fs::write(&path, &png).unwrap();
    let qr_text: String = app
        .state
        .db
        .read_sync(|c| Ok(c.query_row("SELECT qr_text FROM tickets", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(
        support::rqrr_decode_png(&png),
        vec![qr_text.clone()],
        "the QR on screen decodes ({})",
        path.display()
    );
    assert_eq!(support::zbarimg_decode(&path), qr_text);
    d.call("DELETE", "", None).await;
}
