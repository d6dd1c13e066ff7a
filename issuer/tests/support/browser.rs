//! Headless Debian Chromium (`chromium` + `chromedriver`) driven over the W3C WebDriver
//! protocol with plain HTTP (reqwest), for the browser tests; and [`SecondOrigin`], a tiny web
//! server on another 127.0.0.1 port playing a page of another origin (same site).

use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    /// Ends chromedriver and every browser process it started (its own process group), also
    /// when a test panics before closing its session.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
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
    pub async fn start() -> Driver {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver must be installed (Debian packages chromium and chromium-driver)");
        let base = format!("http://127.0.0.1:{port}");
        let http = super::http_client();
        super::poll::within(Duration::from_secs(5), Duration::from_millis(50), || async {
            http.get(format!("{base}/status")).send().await.ok()
        })
        .await;
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

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
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

    pub async fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url }))).await;
    }

    pub async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                "POST",
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        v[ELEMENT].as_str().unwrap().to_owned()
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call("POST", &format!("/element/{e}/click"), Some(json!({}))).await;
    }

    pub async fn type_in(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call("POST", &format!("/element/{e}/value"), Some(json!({ "text": text })))
            .await;
    }

    pub async fn source(&self) -> String {
        self.call("GET", "/source", None).await.as_str().unwrap().to_owned()
    }

    /// Waits (up to 10 s) until the page contains all of `needles` (a click's navigation may
    /// still be under way when WebDriver returns); returns the page source.
    pub async fn wait_for(&self, needles: &[&str]) -> String {
        match self.source_until(|src| needles.iter().all(|n| src.contains(n))).await {
            Ok(src) => src,
            Err(src) => panic!("page never showed {needles:?}: {src}"),
        }
    }

    /// The page source once `ok` holds for it (up to 10 s), or the last one seen.
    async fn source_until(&self, ok: impl Fn(&str) -> bool) -> Result<String, String> {
        let last = std::cell::RefCell::new(String::new());
        let found = super::poll::within(Duration::from_secs(10), Duration::from_millis(50), || async {
            let src = self.source().await;
            if ok(&src) {
                return Some(src);
            }
            *last.borrow_mut() = src;
            None
        })
        .await;
        found.ok_or_else(|| last.into_inner())
    }

    /// Waits until `script` (a function body with a `return`) gives `want`, re-evaluated in the
    /// page at every change of its DOM (a `MutationObserver`), up to WebDriver's script timeout
    /// (30 s): the browser tells when the condition holds, nothing is polled on a timer.
    pub async fn wait_until_script(&self, script: &str, want: Value) {
        let js = format!(
            "const want = JSON.stringify(arguments[0]); const done = arguments[arguments.length - 1];
             const get = () => {{ try {{ return (function () {{ {script} }})(); }} catch (e) {{ return null; }} }};
             if (JSON.stringify(get()) === want) {{ done(null); return; }}
             const seen = new MutationObserver(() => {{
                 if (JSON.stringify(get()) === want) {{ seen.disconnect(); done(null); }}
             }});
             seen.observe(document, {{ subtree: true, childList: true, characterData: true, attributes: true }});"
        );
        let url = format!("{}/session/{}/execute/async", self.base, self.session);
        let v: Value = self
            .http
            .post(url)
            .json(&json!({ "script": js, "args": [want.clone()] }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if !v["value"]["error"].is_null() {
            let last = self.script(&format!("return (function () {{ {script} }})();")).await;
            panic!("{script} never gave {want}: last {last:?} ({})", v["value"]["error"]);
        }
    }

    /// Loads `url` again until the page contains `needle` (up to 10 s): for what a cache may
    /// serve stale for a moment (the catalogue, at most 1 s).
    pub async fn goto_until(&self, url: &str, needle: &str) -> String {
        let what = format!("{url} showing {needle:?}");
        super::poll::until(&what, Duration::from_secs(10), Duration::from_millis(250), || async {
            self.goto(url).await;
            Some(self.source().await).filter(|src| src.contains(needle))
        })
        .await
    }

    pub async fn url(&self) -> String {
        self.call("GET", "/url", None).await.as_str().unwrap().to_owned()
    }

    pub async fn screenshot(&self) -> Vec<u8> {
        let b64 = self.call("GET", "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap()
    }
}

impl Driver {
    /// Switches into the frame matching `css` (WebDriver "switch to frame").
    pub async fn enter_frame(&self, css: &str) {
        let e = self.find(css).await;
        self.call("POST", "/frame", Some(json!({ "id": { ELEMENT: e } }))).await;
    }

    /// Back to the top-level page.
    pub async fn leave_frames(&self) {
        self.call("POST", "/frame", Some(json!({ "id": null }))).await;
    }

    /// Runs a script in the current page or frame; `None` if WebDriver refused (error pages).
    pub async fn script(&self, js: &str) -> Option<Value> {
        let url = format!("{}/session/{}/execute/sync", self.base, self.session);
        let v: Value = self
            .http
            .post(url)
            .json(&json!({ "script": js, "args": [] }))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        v["value"]["error"].is_null().then(|| v["value"].clone())
    }

    /// Waits (up to 10 s) until the page contains one of `needles`; returns the page source.
    pub async fn wait_for_any(&self, needles: &[&str]) -> String {
        match self.source_until(|src| needles.iter().any(|n| src.contains(n))).await {
            Ok(src) => src,
            Err(src) => panic!("page never showed any of {needles:?}: {src}"),
        }
    }
}

/// A page of another origin: a web server on its own 127.0.0.1 port answering every GET with
/// the given HTML (an attacker's page on a same-site host).
pub struct SecondOrigin {
    pub base: String,
}

impl SecondOrigin {
    pub async fn serve(html: String) -> SecondOrigin {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(move || {
            let html = html.clone();
            async move { axum::response::Html(html) }
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        SecondOrigin { base }
    }
}
