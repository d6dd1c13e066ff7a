//! Attacks of a page on another origin of the same site (another port of 127.0.0.1), in real
//! headless Chromium with a signed-in victim: forged form posts (CSRF) and framing the console.

mod support;

use support::browser::{Driver, SecondOrigin};
use support::{PASSWORD, spawn_app};

/// An attacker's page that posts a form to `action` as soon as it loads.
fn auto_post(action: &str, fields: &[(&str, &str)]) -> String {
    let inputs: String = fields
        .iter()
        .map(|(k, v)| format!(r#"<input type="hidden" name="{k}" value="{v}">"#))
        .collect();
    format!(
        r#"<!doctype html><html><body><h1>Win a prize</h1>
        <form id="f" method="post" action="{action}">{inputs}</form>
        <script>document.getElementById('f').submit()</script></body></html>"#
    )
}

#[tokio::test]
async fn in_chromium_a_page_of_another_origin_can_neither_cancel_a_victims_order_nor_fill_their_cart() {
    let app = spawn_app().await;
    let b = app.buyer("victim@example.org").await;
    let offer = app.offer_id(4, "solo").await;
    let (st, order) = app.order(&b, offer, 1, "victim-order-key-0001").await;
    assert_eq!(st, 201, "{order}");
    let id = order["id"].as_i64().unwrap();
    app.db_exec("DELETE FROM cart_items");

    let d = Driver::start().await;
    d.goto(&app.url("/login?next=/orders")).await;
    d.type_in("#email", "victim@example.org").await;
    d.type_in("#password", PASSWORD).await;
    d.click("form[action='/login'] button").await;
    d.wait_for(&["Your orders"]).await;

    // The victim opens the attacker's page, which cancels the order...
    let cancel = SecondOrigin::serve(auto_post(&app.url(&format!("/orders/{id}/cancel")), &[])).await;
    d.goto(&cancel.base).await;
    let page = d.wait_for_any(&["refused", "Order #"]).await;
    // ...and another that fills the cart.
    let fill = SecondOrigin::serve(auto_post(
        &app.url("/cart/add"),
        &[("offer_id", &offer.to_string()), ("quantity", "10")],
    ))
    .await;
    d.goto(&fill.base).await;
    d.wait_for_any(&["refused", "Your cart"]).await;

    let status: String = app
        .state
        .db
        .read_sync(|c| Ok(c.query_row("SELECT status FROM orders WHERE id = ?1", [id], |r| r.get(0))?))
        .unwrap();
    assert_eq!(status, "pending", "the forged post cancelled the order: {page}");
    assert_eq!(
        app.db_i64("SELECT count(*) FROM cart_items"),
        0,
        "the forged post filled the cart"
    );

    // The shop's own forms still work in the same browser.
    d.goto(&app.url("/events/4")).await;
    d.click("button[value='solo']").await;
    d.wait_for(&["Your cart", "Check out and pay"]).await;
    assert_eq!(app.db_i64("SELECT count(*) FROM cart_items"), 1);
    d.call("DELETE", "", None).await;
}

#[tokio::test]
async fn in_chromium_a_page_of_another_origin_cannot_frame_the_signed_in_console() {
    let app = spawn_app().await;
    let op = app.operator();
    let d = Driver::start().await;
    d.goto(&app.url("/ops/login")).await;
    d.type_in("#token", &op).await;
    d.click("form[action='/ops/login'] button").await;
    d.wait_for(&["Gates and devices"]).await;

    let framer = SecondOrigin::serve(format!(
        r#"<!doctype html><html><body><h1>Totally harmless</h1>
        <iframe id="victim" src="{}" width="900" height="700"></iframe></body></html>"#,
        app.url("/ops")
    ))
    .await;
    d.goto(&framer.base).await;
    d.wait_for(&["Totally harmless"]).await;
    d.enter_frame("#victim").await;
    // Poll until the frame shows Chromium's error page (framing refused) or the console.
    let seen = support::poll::until(
        "the framed console or Chromium's refusal",
        std::time::Duration::from_secs(10),
        std::time::Duration::from_millis(50),
        || async {
            let href = d.script("return location.href").await;
            let text = d.script("return document.body ? document.body.innerText : ''").await;
            Some(format!("{href:?} {text:?}")).filter(|s| s.contains("Gates and devices") || s.contains("chrome-error"))
        },
    )
    .await;
    assert!(
        !seen.contains("Gates and devices"),
        "the signed-in console rendered inside another origin's page: {seen}"
    );
    d.leave_frames().await;
    d.call("DELETE", "", None).await;
}
