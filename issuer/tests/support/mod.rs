//! Test support for the issuer's black-box tests: [`spawn_app`] starts a real issuer on
//! 127.0.0.1 port 0 with a temp data dir and its mail going to a real SMTP sink
//! ([`SmtpSink`], the shared sink from og-fixtures); [`TestApp`] has helpers to sign up,
//! activate (from the mailed link), log in and buy through the real HTTP API.
//!
//! Each test binary includes it with `mod support;`; not every binary uses every helper.
#![allow(dead_code)]

pub mod browser;
pub mod poll;

use std::sync::Arc;
use std::time::Duration;

use og_issuer::config::{Settings, SmtpSettings};
use og_issuer::startup::Application;
use og_issuer::state::AppState;
use serde_json::{Value, json};

/// The shared SMTP sink ([`og_fixtures::smtp`], a real SMTP server on 127.0.0.1 with its own
/// threads), with an async wait that does not block the test's runtime.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    sink: Arc<og_fixtures::smtp::SmtpSink>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let sink = og_fixtures::smtp::SmtpSink::start().expect("start the SMTP sink");
        SmtpSink {
            port: sink.addr().port(),
            sink: Arc::new(sink),
        }
    }

    /// Turns every mail away with a temporary failure (`true`), as a mail server that is
    /// overloaded does, or takes them again.
    pub fn set_refusing(&self, refusing: bool) {
        self.sink.set_refusing(refusing);
    }

    /// How many mails were turned away so far.
    pub fn refused(&self) -> usize {
        self.sink.refused()
    }

    /// Every message so far, as received (DATA section).
    pub fn messages(&self) -> Vec<String> {
        self.sink.mails().into_iter().map(|m| m.data).collect()
    }

    /// Waits (up to 5 s) for a mail to `to` whose text contains `needle`; returns its text
    /// with quoted-printable soft line breaks undone.
    pub async fn wait_for(&self, to: &str, needle: &str) -> String {
        let needle_owned = needle.to_owned();
        self.wait_for_matching(to, Duration::from_secs(5), move |m| m.text().contains(&needle_owned))
            .await
            .unwrap_or_else(|| panic!("no mail to {to} containing {needle:?}; got {:#?}", self.messages()))
            .text()
    }

    /// Waits (up to `timeout`, woken by each arrival, on a blocking thread so the test's runtime
    /// keeps serving the app) for the newest mail to `to` that `matches`.
    pub async fn wait_for_matching(
        &self,
        to: &str,
        timeout: Duration,
        matches: impl Fn(&og_fixtures::smtp::Mail) -> bool + Send + 'static,
    ) -> Option<og_fixtures::smtp::Mail> {
        let (sink, to) = (self.sink.clone(), to.to_owned());
        tokio::task::spawn_blocking(move || sink.wait_for_matching(&to, timeout, matches))
            .await
            .expect("the mail wait ends")
    }
}

/// Extracts `token=...` from a mailed link.
pub fn token_in(mail: &str, path: &str) -> String {
    let start = mail.find(path).unwrap_or_else(|| panic!("no {path} link in {mail}")) + path.len();
    mail[start..]
        .split(|c: char| !c.is_ascii_hexdigit())
        .next()
        .unwrap()
        .to_owned()
}

/// A running issuer.
pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub smtp: SmtpSink,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database when the suite runs with `OG_TEST_ENGINE=postgres`.
    pub pg: Option<Arc<og_issuer::store::ScratchDatabase>>,
}

/// A signed-in buyer.
#[derive(Clone, Debug)]
pub struct Buyer {
    pub email: String,
    pub access: String,
    pub refresh: String,
}

pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Starts an issuer on port 0 with a fresh data dir, the demo catalogue and SMTP to a sink.
pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    spawn_app_with(dir, |_| {}).await
}

/// Same, with settings changed by `configure` before the start.
pub async fn spawn_app_with(dir: tempfile::TempDir, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let pg = og_issuer::store::ScratchDatabase::for_engine_under_test("og_issuer_test").map(Arc::new);
    start(dir, pg, configure).await
}

impl TestApp {
    /// Starts a second issuer on the same data dir and database (a restart after a crash: the
    /// first one keeps running, as a crashed process's leftovers would).
    pub async fn restart(self) -> TestApp {
        start(self.dir, self.pg, |_| {}).await
    }
}

async fn start(
    dir: tempfile::TempDir,
    pg: Option<Arc<og_issuer::store::ScratchDatabase>>,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    // The issuer's own warnings and errors go to the test's output (shown when a test fails).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("og_issuer=warn"))
        .with_test_writer()
        .try_init();
    let smtp = SmtpSink::start().await;
    let mut settings = Settings::for_tests(dir.path());
    settings.database = pg.as_ref().map(|p| p.url());
    settings.smtp = Some(SmtpSettings {
        url: format!("smtp://127.0.0.1:{}", smtp.port),
        from: "og-tickets <tickets@og.test>".into(),
        username: None,
        password: None,
    });
    configure(&mut settings);
    let app = Application::build(settings).await.expect("app builds");
    let base = app.base_url();
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        state,
        smtp,
        client: http_client(),
        dir,
        pg,
    }
}

/// A `Set-Cookie` value by name from a response.
pub fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap().to_owned())
        })
}

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get_json(&self, path: &str, access: Option<&str>) -> (u16, Value) {
        let mut rb = self.client.get(self.url(path));
        if let Some(a) = access {
            rb = rb.bearer_auth(a);
        }
        let res = rb.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_json(&self, path: &str, access: Option<&str>, body: &Value) -> (u16, Value) {
        let mut rb = self.client.post(self.url(path)).json(body);
        if let Some(a) = access {
            rb = rb.bearer_auth(a);
        }
        let res = rb.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn patch_json(&self, path: &str, access: Option<&str>, body: &Value) -> (u16, Value) {
        let mut rb = self.client.patch(self.url(path)).json(body);
        if let Some(a) = access {
            rb = rb.bearer_auth(a);
        }
        let res = rb.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn put_json(&self, path: &str, access: Option<&str>, body: &Value) -> (u16, Value) {
        let mut rb = self.client.put(self.url(path)).json(body);
        if let Some(a) = access {
            rb = rb.bearer_auth(a);
        }
        let res = rb.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Signs up and activates through the mailed link.
    pub async fn registered(&self, email: &str) {
        let (st, _) = self
            .post_json(
                "/api/v1/accounts",
                None,
                &json!({ "accept_terms": true, "email": email, "password": PASSWORD, "name": "Test Buyer" }),
            )
            .await;
        assert_eq!(st, 202);
        let mail = self.smtp.wait_for(email, "/activate?token=").await;
        let token = token_in(&mail, "/activate?token=");
        let (st, body) = self
            .post_json("/api/v1/accounts/activate", None, &json!({ "token": token }))
            .await;
        assert_eq!(st, 200, "{body}");
    }

    pub async fn log_in(&self, email: &str) -> Buyer {
        let res = self
            .client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        let refresh = set_cookie(&res, "__Host-og_rt").expect("refresh cookie");
        let body: Value = res.json().await.unwrap();
        Buyer {
            email: email.into(),
            access: body["access_token"].as_str().unwrap().to_owned(),
            refresh,
        }
    }

    /// Signs up, activates and logs in.
    pub async fn buyer(&self, email: &str) -> Buyer {
        self.registered(email).await;
        self.log_in(email).await
    }

    /// The offer id of `kind` for event `event_id`.
    pub async fn offer_id(&self, event_id: i64, kind: &str) -> i64 {
        let (_, ev) = self.get_json(&format!("/api/v1/events/{event_id}"), None).await;
        ev["offers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == kind)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// Cart with `quantity` x offer, checkout; returns the order JSON.
    /// Sets the quantity of an offer in the buyer's cart; returns the answer.
    pub async fn put_in_cart(&self, b: &Buyer, offer_id: i64, quantity: i64) -> (u16, Value) {
        self.put_json(
            "/api/v1/cart/items",
            Some(&b.access),
            &json!({ "offer_id": offer_id, "quantity": quantity }),
        )
        .await
    }

    pub async fn order(&self, b: &Buyer, offer_id: i64, quantity: i64, key: &str) -> (u16, Value) {
        let (st, body) = self.put_in_cart(b, offer_id, quantity).await;
        if st != 200 {
            return (st, body);
        }
        let res = self
            .client
            .post(self.url("/api/v1/checkout"))
            .bearer_auth(&b.access)
            .header("Idempotency-Key", key)
            .send()
            .await
            .unwrap();
        let st = res.status().as_u16();
        (st, res.json().await.unwrap())
    }

    /// Pays an order's payment with a card; returns the processor's answer.
    pub async fn pay(&self, order: &Value, card: &str) -> (u16, Value) {
        let pid = order["payment_id"].as_str().unwrap();
        self.post_json(
            &format!("/api/v1/payments/{pid}/card"),
            None,
            &json!({ "card_number": card }),
        )
        .await
    }

    /// Buys and pays; returns the tickets JSON list of the buyer afterwards.
    pub async fn buy(&self, b: &Buyer, event_id: i64, kind: &str, quantity: i64) -> Value {
        let offer = self.offer_id(event_id, kind).await;
        let key = format!("key-{}", og_issuer::shop::auth::random_token());
        let (st, order) = self.order(b, offer, quantity, &key[..40]).await;
        assert_eq!(st, 201, "{order}");
        let (st, paid) = self.pay(&order, "4242 4242 4242 4242").await;
        assert_eq!(st, 200, "{paid}");
        order
    }

    /// The `OG-Signature` header value the built-in processor would send for `body` at `t`.
    pub fn signed_webhook(&self, t: i64, body: &str) -> String {
        og_issuer::shop::payment::sign(&self.state.secrets.webhook[..], t, body.as_bytes())
    }

    /// Posts a processor webhook (with the given signature header, if any).
    pub async fn post_webhook(&self, sig: Option<String>, body: &str) -> (u16, Value) {
        let mut rb = self
            .client
            .post(self.url("/api/v1/payments/webhook"))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(s) = sig {
            rb = rb.header("OG-Signature", s);
        }
        let res = rb.send().await.unwrap();
        let st = res.status().as_u16();
        (st, res.json().await.unwrap_or(Value::Null))
    }

    /// A new operator API token.
    pub fn operator(&self) -> String {
        self.state
            .db
            .write_sync(|tx| og_issuer::ops::auth::create_operator(tx, "ops@example.org", og_issuer::now()))
            .unwrap()
            .1
            .to_string()
    }

    /// The text of a page (HTML) at `path`, optionally with a cookie (`name=value`).
    pub async fn get_page(&self, path: &str, cookie: Option<&str>) -> String {
        let mut rb = self.client.get(self.url(path));
        if let Some(c) = cookie {
            rb = rb.header("cookie", c);
        }
        rb.send().await.unwrap().text().await.unwrap()
    }

    /// The console's cookies (`name=value; name=value`) for an operator token: the session and
    /// the CSRF cookie; form posts add `("csrf", app.csrf_token(&jar))`.
    pub async fn console_cookie(&self, op: &str) -> String {
        let csrf = csrf_cookie();
        let login = self
            .client
            .post(self.url("/ops/login"))
            .header("cookie", &csrf)
            .form(&[("token", op), ("csrf", &self.csrf_token(&csrf))])
            .send()
            .await
            .unwrap();
        let cookie = login.headers()["set-cookie"].to_str().unwrap();
        format!("{}; {csrf}", cookie.split(';').next().unwrap())
    }

    /// The CSRF form token for the `__Host-og_csrf` cookie in a cookie header.
    pub fn csrf_token(&self, cookies: &str) -> String {
        csrf_token_in(&self.state, cookies)
    }

    pub fn db_i64(&self, sql: &str) -> i64 {
        self.state
            .db
            .read_sync(|c| Ok(c.query_row(sql, [], |r| r.get(0))?))
            .unwrap()
    }

    pub fn db_exec(&self, sql: &str) {
        self.state.db.write_sync(|c| Ok(c.execute_batch(sql)?)).unwrap();
    }
}

/// A fresh CSRF cookie (`__Host-og_csrf=...`), as a browser gets on its first page.
pub fn csrf_cookie() -> String {
    format!(
        "{}={}",
        og_issuer::web::csrf_token::COOKIE_NAME,
        og_issuer::shop::auth::random_token()
    )
}

/// The CSRF form token for the `__Host-og_csrf` cookie in a cookie header.
pub fn csrf_token_in(state: &AppState, cookies: &str) -> String {
    let value = cookies
        .split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == og_issuer::web::csrf_token::COOKIE_NAME)
        .map(|(_, v)| v)
        .expect("a CSRF cookie in the jar");
    og_issuer::web::csrf_token::token_for_cookie(state, value)
}

/// Decodes a PNG with rqrr; returns the texts found.
pub fn rqrr_decode_png(png: &[u8]) -> Vec<String> {
    let img = image::load_from_memory(png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect()
}

/// Decodes an image file with Debian's `zbarimg` (zbar-tools). Panics if it is not installed.
pub fn zbarimg_decode(path: &std::path::Path) -> String {
    let out = std::process::Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(path)
        .output()
        .expect("zbarimg must be installed (Debian package zbar-tools)");
    assert!(
        out.status.success(),
        "zbarimg failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim_end_matches('\n').to_owned()
}

/// Rasterizes the qrcode crate's SVG (a path of unit squares in module coordinates, or rects)
/// to a PNG, one pixel per SVG unit (the crate draws in pixels), so the same decoders can read it.
pub fn rasterize_svg(svg: &str) -> Vec<u8> {
    // The qrcode crate emits a white rect and one black path of "M{x} {y}h{w}v{h}H{x}V{y}" rects.
    let vb = svg.split("viewBox=\"").nth(1).unwrap().split('"').next().unwrap();
    let dims: Vec<u32> = vb.split_whitespace().map(|x| x.parse().unwrap()).collect();
    let (w, h) = (dims[2], dims[3]);
    let scale = 1;
    let mut img = image::GrayImage::from_pixel(w * scale, h * scale, image::Luma([255]));
    let d = svg.split(" d=\"").nth(1).unwrap().split('"').next().unwrap();

    for cmd in d.split('M').filter(|s| !s.is_empty()) {
        let nums: Vec<u32> = cmd
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        let (x, y, run) = (nums[0], nums[1], nums[2]);
        let height = nums[3];
        for px in x * scale..(x + run) * scale {
            for py in y * scale..(y + height) * scale {
                img.put_pixel(px, py, image::Luma([0]));
            }
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}
