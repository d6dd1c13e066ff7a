//! After paying, the buyer gets one mail: a receipt (order number, items, the total with VAT
//! included) in plain text and HTML, with the order's tickets attached as a PDF whose pages,
//! rendered as a printer would (`pdftoppm`), carry codes that decode to the tickets' own.

mod support;

use std::process::Command;

use base64::Engine;
use support::{rqrr_decode_png, spawn_app};

/// The attached PDF of a raw mail (base64 part after `Content-Type: application/pdf`).
fn pdf_attachment(raw: &str) -> Vec<u8> {
    let start = raw.find("Content-Type: application/pdf").expect("a PDF part");
    let part = &raw[start..];
    let body_start = part.find("\r\n\r\n").expect("part headers end") + 4;
    let b64: String = part[body_start..]
        .lines()
        .take_while(|l| !l.starts_with("--"))
        .collect::<Vec<_>>()
        .concat();
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .expect("base64 attachment")
}

/// How many order confirmations the mail server got.
fn confirmations(app: &support::TestApp) -> usize {
    app.smtp
        .messages()
        .iter()
        .filter(|m| m.contains("Order number"))
        .count()
}

#[tokio::test]
async fn a_paid_order_is_confirmed_by_mail_with_a_receipt_and_the_tickets_as_a_pdf_the_gate_reads() {
    let app = spawn_app().await;
    let b = app.buyer("receipt@example.org").await;
    let order = app.buy(&b, 2, "duo", 2).await;
    let id = order["id"].as_i64().unwrap();
    let total = order["total_cents"].as_i64().unwrap();

    app.smtp.wait_for(&b.email, "Order number").await;
    let raw = app
        .smtp
        .messages()
        .into_iter()
        .find(|m| m.contains("Content-Type: application/pdf"))
        .expect("the confirmation carries a PDF");
    let text = og_fixtures::smtp::unquote(&raw);
    assert!(text.contains(&format!("Order number: {id}")), "{text}");
    assert!(text.contains("2 x Duo"), "{text}");
    let euros = format!("€{}.{:02}", total / 100, total % 100);
    assert!(text.contains(&format!("Total, VAT included: {euros}")), "{text}");
    assert!(text.contains("Content-Type: text/html"), "an HTML alternative: {text}");

    let pdf = pdf_attachment(&raw);
    assert!(pdf.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("order.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = Command::new("pdftoppm")
        .args(["-r", "150", "-png"])
        .arg(&path)
        .arg(dir.path().join("page"))
        .output()
        .expect("pdftoppm (Debian poppler-utils)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut read: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .flat_map(|p| rqrr_decode_png(&std::fs::read(p).unwrap()))
        .collect();
    read.sort();

    let (_, tickets) = app.get_json("/api/v1/tickets", Some(&b.access)).await;
    let mut codes: Vec<String> = tickets["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["qr_text"].as_str().unwrap().to_owned())
        .collect();
    codes.sort();
    assert_eq!(codes.len(), 2);
    assert_eq!(read, codes, "a page per ticket, each with its own code");

    // One confirmation per order.
    assert_eq!(confirmations(&app), 1);
}

#[tokio::test]
async fn a_confirmation_sent_after_its_only_ticket_was_given_away_is_a_receipt_without_a_pdf() {
    let app = spawn_app().await;
    let giver = app.buyer("giver@example.org").await;
    app.buyer("friend@example.org").await;
    // The mail server turns mail away for now: the confirmation waits in the queue...
    app.smtp.set_refusing(true);
    let order = app.buy(&giver, 4, "solo", 1).await;
    let id = order["id"].as_i64().unwrap();
    support::poll::until(
        "the confirmation turned away once",
        std::time::Duration::from_secs(10),
        std::time::Duration::from_millis(20),
        || async { (app.smtp.refused() >= 1).then_some(()) },
    )
    .await;
    // ...while its one ticket is given away.
    let (_, tickets) = app.get_json("/api/v1/tickets", Some(&giver.access)).await;
    let serial = tickets["tickets"][0]["serial"].as_i64().unwrap();
    let (st, body) = app
        .post_json(
            &format!("/api/v1/tickets/{serial}/transfer"),
            Some(&giver.access),
            &serde_json::json!({ "to_email": "friend@example.org" }),
        )
        .await;
    assert_eq!(st, 202, "{body}");
    app.smtp.set_refusing(false);

    // The mail server takes mail again: the receipt still goes out, once, without the ticket
    // that is no longer the giver's (it was retried for two days before).
    let text = app
        .smtp
        .wait_for_matching(&giver.email, std::time::Duration::from_secs(30), |m| {
            m.text().contains("Order number")
        })
        .await
        .expect("the confirmation arrives")
        .text();
    assert!(text.contains(&format!("Order number: {id}")), "{text}");
    assert!(text.contains("so none is attached"), "{text}");
    assert!(!text.contains("application/pdf"), "no PDF: {text}");
    assert_eq!(confirmations(&app), 1);
}
