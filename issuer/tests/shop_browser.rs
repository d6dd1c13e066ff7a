//! The buyer's journey in a real headless Chromium (Debian's `chromium` + `chromedriver`),
//! driven over the W3C WebDriver protocol with plain HTTP (reqwest): browse, add a Duo to the
//! guest cart, sign up, activate from the mailed link, log in, check out, pay on the hosted
//! page, open the ticket. The ticket page is screenshotted (kept in
//! `$CARGO_TARGET_TMPDIR/buyer-journey-ticket.png`) and the QR in the screenshot must decode
//! with rqrr and with zbarimg to the ticket's signed code: what the buyer sees is what the
//! gate reads.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use support::{PASSWORD, spawn_app};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Driver {
    async fn start() -> Driver {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver must be installed (Debian packages chromium and chromium-driver)");
        let base = format!("http://127.0.0.1:{port}");
        let http = support::http_client();
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let binary = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("chromium is installed");
        let caps = json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": {
            "binary": binary,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                     "--window-size=900,1400", format!("--user-data-dir={}", profile.path().display())]
        } } } });
        let mut d = Driver {
            child,
            base,
            session: String::new(),
            http,
            _profile: profile,
        };
        let v = d.call("POST", "/session", Some(caps)).await;
        d.session = v["sessionId"].as_str().expect("a WebDriver session").to_owned();
        d
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let mut rb = self.http.request(method.parse().unwrap(), url);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let v: Value = rb.send().await.unwrap().json().await.unwrap();
        assert!(v["value"]["error"].is_null(), "WebDriver {method} {path}: {v}");
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url }))).await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                "POST",
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        v[ELEMENT].as_str().unwrap().to_owned()
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call("POST", &format!("/element/{e}/click"), Some(json!({}))).await;
    }

    async fn type_in(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call("POST", &format!("/element/{e}/value"), Some(json!({ "text": text })))
            .await;
    }

    async fn source(&self) -> String {
        self.call("GET", "/source", None).await.as_str().unwrap().to_owned()
    }

    /// Waits (up to 10 s) until the page contains all of `needles` (a click's navigation may
    /// still be under way when WebDriver returns); returns the page source.
    async fn wait_for(&self, needles: &[&str]) -> String {
        let mut src = String::new();
        for _ in 0..200 {
            src = self.source().await;
            if needles.iter().all(|n| src.contains(n)) {
                return src;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("page never showed {needles:?}: {src}");
    }

    async fn url(&self) -> String {
        self.call("GET", "/url", None).await.as_str().unwrap().to_owned()
    }

    async fn screenshot(&self) -> Vec<u8> {
        let b64 = self.call("GET", "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap()
    }
}

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
        .conn()
        .unwrap()
        .query_row("SELECT qr_text FROM tickets", [], |r| r.get(0))
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
