//! The PDF ticket as its holder prints it: a buyer pays for a Duo and a Solo, downloads each
//! ticket's PDF and the order's; the pages are rendered as a printer would (`pdftoppm`, 150 dpi)
//! and the gate's own decoder reads each ticket's code back from the page. Nobody else gets
//! them; and once the event requires the phone-bound code, the PDF has no code and says why.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use og_gate::decode::{DecodeOptions, decode_luma, load_luma, payload_text};
use og_system_tests::smtp::SmtpSink;
use serde_json::{Value, json};
use support::{IssuerProc, buyer, get_json, http, operator_token};

fn ok(r: reqwest::blocking::Response, what: &str) -> Value {
    let status = r.status();
    let body: Value = r.json().unwrap_or(Value::Null);
    assert!(status.is_success(), "{what}: {status} {body}");
    body
}

/// Renders every page of `pdf` at 150 dpi; returns the PNG paths in page order.
fn pages(pdf: &Path) -> Vec<PathBuf> {
    let prefix = pdf.with_extension("");
    let out = Command::new("pdftoppm")
        .args(["-r", "150", "-png"])
        .arg(pdf)
        .arg(&prefix)
        .output()
        .expect("pdftoppm (Debian poppler-utils) renders the PDF");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stem = prefix.file_name().unwrap().to_string_lossy().into_owned();
    let mut pngs: Vec<PathBuf> = std::fs::read_dir(pdf.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "png")
                && p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("{stem}-"))
        })
        .collect();
    pngs.sort();
    pngs
}

/// The words of a PDF, as `pdftotext` extracts them, on one line.
fn words(pdf: &Path) -> String {
    let out = Command::new("pdftotext").arg(pdf).arg("-").output().expect("pdftotext");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every code the gate's decoder reads on a rendered page.
fn codes(png: &Path) -> Vec<String> {
    let img = load_luma(png).unwrap();
    let opts = DecodeOptions {
        deadline: Duration::from_secs(3),
        max_side: 2048,
        ..DecodeOptions::default()
    };
    decode_luma(&img, &opts)
        .codes
        .iter()
        .map(|c| payload_text(c).into_owned())
        .collect()
}

/// Keeps a rendered page where people can look at it after the run.
fn keep(png: &Path, name: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ticket_pdf");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::copy(png, dir.join(name));
}

fn download(c: &reqwest::blocking::Client, url: &str, access: &str, to: &Path) {
    let r = c.get(url).bearer_auth(access).send().unwrap();
    assert_eq!(r.status(), 200, "GET {url}");
    assert_eq!(r.headers()["content-type"], "application/pdf");
    std::fs::write(to, r.bytes().unwrap()).unwrap();
}

#[test]
fn a_printed_pdf_ticket_is_read_by_the_gate_and_a_phone_only_event_prints_no_code() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start().unwrap();
    let issuer = IssuerProc::start(&dir.path().join("issuer"), &["--smtp-url", &sink.url()]);
    let c = http();
    let url = |p: &str| format!("{}{p}", issuer.url);
    let alice = buyer(&c, &issuer, &sink, "alice@example.org");

    // A Duo and a Solo of event 2, paid.
    let event = get_json(&c, &issuer, "/api/v1/events/2", None);
    for kind in ["duo", "solo"] {
        let offer = event["offers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == kind)
            .unwrap()["id"]
            .clone();
        ok(
            c.put(url("/api/v1/cart/items"))
                .bearer_auth(&alice)
                .json(&json!({ "offer_id": offer, "quantity": 1 }))
                .send()
                .unwrap(),
            "cart",
        );
    }
    let order = ok(
        c.post(url("/api/v1/checkout"))
            .bearer_auth(&alice)
            .header("Idempotency-Key", "ticket-pdf-order-000001")
            .send()
            .unwrap(),
        "checkout",
    );
    let order_id = order["id"].as_i64().unwrap();
    let pid = order["payment_id"].as_str().unwrap();
    ok(
        c.post(url(&format!("/api/v1/payments/{pid}/card")))
            .json(&json!({ "card_number": "4242 4242 4242 4242" }))
            .send()
            .unwrap(),
        "pay",
    );
    // The card payment answers once the webhook has issued the tickets.
    let tickets = get_json(&c, &issuer, "/api/v1/tickets", Some(&alice))["tickets"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(tickets.len(), 2, "a ticket per paid offer\n{}", issuer.log());
    let duo = tickets.iter().find(|t| t["offer"] == "duo").unwrap();
    let serial = duo["serial"].as_u64().unwrap();
    let qr_text = duo["qr_text"].as_str().unwrap();

    // The ticket and order pages link their PDFs.
    for (page, link) in [
        (format!("/tickets/{serial}"), format!("/tickets/{serial}/ticket.pdf")),
        (format!("/orders/{order_id}"), format!("/orders/{order_id}/tickets.pdf")),
    ] {
        let html = c.get(url(&page)).bearer_auth(&alice).send().unwrap().text().unwrap();
        assert!(html.contains(&format!("href=\"{link}\"")), "{page} links {link}");
    }

    // One ticket: its page carries the event, who and what it admits, and a code the gate reads.
    let pdf = dir.path().join("ticket.pdf");
    download(&c, &url(&format!("/tickets/{serial}/ticket.pdf")), &alice, &pdf);
    let text = words(&pdf);
    for expected in [
        event["name"].as_str().unwrap(),
        "Doors open",
        "Duo, admits 2 people",
        "Holder Test Buyer",
        "Ticket number",
        &format!("Ticket {serial}"),
        "How entry works",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    let page = pages(&pdf);
    assert_eq!(page.len(), 1);
    keep(&page[0], "ticket.png");
    assert_eq!(
        codes(&page[0]),
        vec![qr_text.to_owned()],
        "the gate reads the ticket's own code"
    );

    // In French (the browser asks for it): the same page worded in French, times in Paris.
    let fr_pdf = dir.path().join("ticket-fr.pdf");
    let r = c
        .get(url(&format!("/tickets/{serial}/ticket.pdf")))
        .bearer_auth(&alice)
        .header("Accept-Language", "fr-FR,fr;q=0.9")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    std::fs::write(&fr_pdf, r.bytes().unwrap()).unwrap();
    let text = words(&fr_pdf);
    for expected in [
        "Ouverture des portes",
        "Duo, 2 personnes",
        "Titulaire Test Buyer",
        &format!("Billet {serial}"),
        "Comment se passe l’entrée",
        "(heure de Paris)",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    assert_eq!(codes(&pages(&fr_pdf)[0]), vec![qr_text.to_owned()]);

    // The order: a page per ticket, each read back as that ticket's code.
    let order_pdf = dir.path().join("order.pdf");
    download(&c, &url(&format!("/orders/{order_id}/tickets.pdf")), &alice, &order_pdf);
    let mut read: Vec<Vec<String>> = pages(&order_pdf).iter().map(|p| codes(p)).collect();
    read.sort();
    let mut expected: Vec<Vec<String>> = tickets
        .iter()
        .map(|t| vec![t["qr_text"].as_str().unwrap().to_owned()])
        .collect();
    expected.sort();
    assert_eq!(read, expected, "one page per ticket, each with its code");

    // Nobody else: another buyer gets a 404, a browser with no session the login page.
    let bob = buyer(&c, &issuer, &sink, "bob@example.org");
    for path in [
        format!("/tickets/{serial}/ticket.pdf"),
        format!("/orders/{order_id}/tickets.pdf"),
    ] {
        let r = c.get(url(&path)).bearer_auth(&bob).send().unwrap();
        assert_eq!(r.status(), 404, "{path} for another account");
        let no_redirect = reqwest::blocking::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = no_redirect.get(url(&path)).send().unwrap();
        assert_eq!(
            (r.status().as_u16(), r.headers()["location"].to_str().unwrap()),
            (303, "/login")
        );
    }

    // The event now requires the phone-bound code: the PDF shows none and says what to do.
    let op = operator_token(&issuer.data_dir);
    ok(
        c.patch(url(&format!("/api/v1/ops/events/{}", duo["event_id"])))
            .bearer_auth(&op)
            .json(&json!({ "holder_binding": "required" }))
            .send()
            .unwrap(),
        "holder binding",
    );
    let phone_pdf = dir.path().join("phone.pdf");
    download(&c, &url(&format!("/tickets/{serial}/ticket.pdf")), &alice, &phone_pdf);
    let page = pages(&phone_pdf);
    keep(&page[0], "ticket-phone-only.png");
    assert_eq!(
        codes(&page[0]),
        Vec::<String>::new(),
        "no code on paper for a phone-only event"
    );
    let text = words(&phone_pdf);
    assert!(text.contains("Open this ticket on your phone"), "{text}");
    assert!(
        text.contains("a print or a picture of a code is refused at the gate"),
        "{text}"
    );
}
