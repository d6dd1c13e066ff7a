//! Process helpers for system tests: start a real `issuer` on a free port of 127.0.0.1 with a
//! temp data dir, kill it (SIGKILL) and bring it back on the same port.

#![allow(dead_code)]

pub mod mitm;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub fn issuer_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sys-issuer"))
}

/// A blocking HTTP client (rustls with ring, no proxy).
pub fn http() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client builds")
}

/// A running issuer process.
pub struct IssuerProc {
    child: Option<Child>,
    pub url: String,
    pub port: u16,
    pub data_dir: PathBuf,
    extra: Vec<String>,
}

impl IssuerProc {
    /// Starts `issuer serve` on a free port with `data_dir`, passing `extra` flags.
    pub fn start(data_dir: &Path, extra: &[&str]) -> IssuerProc {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let (child, url, port) = spawn(data_dir, 0, &extra);
        IssuerProc {
            child: Some(child),
            url,
            port,
            data_dir: data_dir.to_owned(),
            extra,
        }
    }

    /// Kills the process with SIGKILL (no graceful shutdown), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and data dir.
    pub fn restart(&mut self) {
        self.kill();
        let mut last = String::new();
        let started = og_fixtures::poll::within(
            Duration::from_secs(10),
            Duration::from_millis(200),
            || match try_spawn(&self.data_dir, self.port, &self.extra) {
                Ok((child, url, _)) => Some((child, url)),
                Err(e) => {
                    eprintln!("restart: {e}; retrying");
                    last = e.to_string();
                    None
                }
            },
        );
        let (child, url) = started.unwrap_or_else(|| panic!("issuer did not restart: {last}"));
        self.child = Some(child);
        self.url = url;
    }

    /// The issuer's stderr log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("issuer-stderr.log")).unwrap_or_default()
    }
}

impl Drop for IssuerProc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn(data_dir: &Path, port: u16, extra: &[String]) -> (Child, String, u16) {
    try_spawn(data_dir, port, extra).unwrap_or_else(|e| panic!("issuer did not start: {e}"))
}

fn try_spawn(data_dir: &Path, port: u16, extra: &[String]) -> Result<(Child, String, u16), String> {
    std::fs::create_dir_all(data_dir).map_err(|e| e.to_string())?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.join("issuer-stderr.log"))
        .map_err(|e| e.to_string())?;
    let mut child = Command::new(issuer_bin())
        .arg("--data-dir")
        .arg(data_dir)
        .arg("serve")
        .arg("--bind")
        .arg(format!("127.0.0.1:{port}"))
        .args(extra)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .map_err(|e| e.to_string())?;
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if !sent && let Some(i) = line.find("listening on ") {
                let _ = tx.send(line[i + "listening on ".len()..].trim().to_owned());
                sent = true;
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(url) => {
            let port = url
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or("no port in URL")?;
            Ok((child, url, port))
        }
        Err(_) => {
            let _ = child.kill();
            let status = child.wait().map_err(|e| e.to_string())?;
            Err(format!("no 'listening on' line (exit {status})"))
        }
    }
}

/// Runs `issuer --data-dir DIR <args>` (an offline subcommand) and returns its stdout.
pub fn issuer_cli(data_dir: &Path, args: &[&str]) -> String {
    let out = Command::new(issuer_bin())
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("issuer runs");
    assert!(
        out.status.success(),
        "issuer {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Creates an operator and returns its API token.
pub fn operator_token(data_dir: &Path) -> String {
    issuer_cli(data_dir, &["admin", "create-operator", "--email", "ops@example.org"])
        .trim()
        .to_owned()
}

/// A one-time enrolment token for `events` made through the operator API.
pub fn enrolment_token(client: &reqwest::blocking::Client, issuer: &IssuerProc, op: &str, events: &[u32]) -> String {
    let r = client
        .post(format!("{}/api/v1/ops/enrolment-tokens", issuer.url))
        .bearer_auth(op)
        .json(&serde_json::json!({ "event_ids": events }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", issuer.log());
    r.json::<serde_json::Value>().unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Appends `count` ticket revocations (refunds of serials no ticket has) to the running issuer's
/// log through `og_issuer::trust::revocation::append`, in one write transaction of a second connection,
/// as a season of refunds would; returns the new head. Seconds for tens of thousands, where the
/// operator API would take one request each.
pub fn append_revocations(issuer: &IssuerProc, count: u32) -> u64 {
    use og_shared::sync::{RevocationReason, RevocationTarget};
    let db = og_issuer::store::Db::open(&issuer.data_dir.join("issuer.sqlite3")).expect("issuer database opens");
    let now = now();
    db.write_sync(|tx| {
        let (head, _) = og_issuer::trust::revocation::head(tx)?;
        let mut last = head;
        for i in 0..count {
            let serial = 4_000_000_000 - (head as u32) - i;
            last = og_issuer::trust::revocation::append(
                tx,
                RevocationTarget::Ticket { serial },
                RevocationReason::Refunded,
                now,
            )?
            .seq;
        }
        Ok(last)
    })
    .expect("append revocations")
}

/// Scans recorded by the issuer for an event (admitted, refused), summed over gates and minutes.
pub fn recorded_scans(client: &reqwest::blocking::Client, issuer: &IssuerProc, op: &str, event: u32) -> (u64, u64) {
    let since = now() - 24 * 3600;
    let rows: Vec<serde_json::Value> = client
        .get(format!(
            "{}/api/v1/ops/events/{event}/scans-per-minute?since={since}",
            issuer.url
        ))
        .bearer_auth(op)
        .send()
        .unwrap()
        .json()
        .unwrap();
    rows.iter().fold((0, 0), |(a, r), row| {
        (
            a + row["admitted"].as_u64().unwrap(),
            r + row["refused"].as_u64().unwrap(),
        )
    })
}

pub use og_issuer::now;

pub fn gate_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sys-gate-agent"))
}

/// A gate device: a data dir and the `gate-agent` binary.
pub struct Gate {
    pub dir: PathBuf,
    pub name: String,
}

/// What one `gate-agent --json` command printed and how it exited.
#[derive(Debug)]
pub struct GateRun {
    pub code: i32,
    pub lines: Vec<serde_json::Value>,
    pub stderr: String,
}

impl GateRun {
    pub fn only(&self) -> &serde_json::Value {
        assert_eq!(self.lines.len(), 1, "{self:?}");
        &self.lines[0]
    }
}

impl Gate {
    pub fn new(root: &Path, name: &str) -> Gate {
        Gate {
            dir: root.join(name),
            name: name.to_owned(),
        }
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new(gate_bin());
        c.arg("--data-dir")
            .arg(&self.dir)
            .env("NO_COLOR", "1")
            // These tests read the gate's English words (French, the default, is tested in
            // gate-agent's own tests); `--json` codes are the same in every language.
            .env("OG_GATE_LANG", "en")
            .stdin(Stdio::null());
        c
    }

    /// Runs `gate-agent --json <args>`.
    pub fn run(&self, args: &[&str]) -> GateRun {
        let out = self
            .command()
            .arg("--json")
            .args(args)
            .output()
            .expect("gate-agent runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        GateRun {
            code: out.status.code().unwrap_or(-1),
            lines: stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn enroll(&self, issuer: &IssuerProc, token: &str) {
        let r = self.run(&[
            "enroll",
            "--issuer",
            &issuer.url,
            "--token",
            token,
            "--gate",
            &self.name,
        ]);
        assert_eq!(r.code, 0, "enrolment of {} failed: {r:?}", self.name);
    }

    pub fn check(&self, text: &str) -> serde_json::Value {
        self.run(&["check", text]).only().clone()
    }

    pub fn sync(&self) -> GateRun {
        self.run(&["sync"])
    }
}

/// Issues `count` complimentary tickets with `issuer comp`; returns (serial, QR text, PNG path).
pub fn comp_tickets(data_dir: &Path, event: u32, offer: &str, email: &str, count: u32) -> Vec<(u32, String, PathBuf)> {
    let out = data_dir.join(format!("comp-{offer}-{email}"));
    issuer_cli(
        data_dir,
        &[
            "comp",
            "--event",
            &event.to_string(),
            "--offer",
            offer,
            "--email",
            email,
            "--count",
            &count.to_string(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let mut tickets: Vec<(u32, String, PathBuf)> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            let stem = p.file_stem()?.to_str()?.to_owned();
            if p.extension()? != "txt" {
                return None;
            }
            let serial: u32 = stem.strip_prefix("ticket-")?.parse().ok()?;
            let text = std::fs::read_to_string(&p).ok()?.trim().to_owned();
            Some((serial, text, p.with_extension("png")))
        })
        .collect();
    tickets.sort();
    assert_eq!(tickets.len(), count as usize);
    tickets
}

/// The password every test buyer uses.
pub const PASSWORD: &str = "correct horse battery staple";

/// GETs `path` and parses JSON, asserting success.
pub fn get_json(
    c: &reqwest::blocking::Client,
    issuer: &IssuerProc,
    path: &str,
    access: Option<&str>,
) -> serde_json::Value {
    let mut rb = c.get(format!("{}{path}", issuer.url));
    if let Some(a) = access {
        rb = rb.bearer_auth(a);
    }
    let r = rb.send().unwrap();
    assert!(r.status().is_success(), "GET {path}: {}", r.status());
    r.json().unwrap()
}

/// Signs `email` up, activates it through the link mailed to the SMTP sink, logs in and returns
/// the access token.
pub fn buyer(
    c: &reqwest::blocking::Client,
    issuer: &IssuerProc,
    sink: &og_system_tests::smtp::SmtpSink,
    email: &str,
) -> String {
    buyer_from(c, &issuer.url, sink, email, "Test Buyer", None)
}

/// [`buyer`] through any issuer URL, named `name`, and from client address `ip` when given (sent
/// as `X-Forwarded-For`, as a load balancer would: issuers started with `--trusted-proxy` keep
/// their per-address limits per buyer).
pub fn buyer_from(
    c: &reqwest::blocking::Client,
    issuer_url: &str,
    sink: &og_system_tests::smtp::SmtpSink,
    email: &str,
    name: &str,
    ip: Option<&str>,
) -> String {
    let post = |path: &str, body: serde_json::Value| {
        let mut rb = c.post(format!("{issuer_url}{path}")).json(&body);
        if let Some(ip) = ip {
            rb = rb.header("X-Forwarded-For", ip);
        }
        rb.send().unwrap()
    };
    let r = post(
        "/api/v1/accounts",
        serde_json::json!({"accept_terms": true, "email": email, "password": PASSWORD, "name": name}),
    );
    assert_eq!(r.status(), 202, "sign-up of {email} through {issuer_url}");
    let mail = sink.wait_for(email, Duration::from_secs(60)).expect("activation mail");
    let link = mail.link_containing("/activate?token=").expect("activation link");
    let token = link.split("token=").nth(1).unwrap().split('&').next().unwrap();
    let r = post("/api/v1/accounts/activate", serde_json::json!({"token": token}));
    assert!(r.status().is_success(), "activation of {email}: {}", r.status());
    let r = post(
        "/api/v1/auth/login",
        serde_json::json!({"email": email, "password": PASSWORD}),
    );
    assert!(r.status().is_success(), "login of {email}: {}", r.status());
    r.json::<serde_json::Value>().unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}
