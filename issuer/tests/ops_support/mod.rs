//! Test support for the gate-operations API: a real issuer on 127.0.0.1 port 0 with a temp
//! data dir, and helpers to make operators, buyers, devices, tickets and scan reports.
#![allow(dead_code)]

use og_issuer::config::Settings;
use og_issuer::startup::Application;
use og_issuer::store::Db;
use og_issuer::trust::issuance::IssuedTicket;
use og_shared::Offer;
use og_shared::sync::{Direction, EnrollResponse, ScanBatch, ScanBatchAck, ScanReport, SyncResponse, VerdictCode};
use serde_json::{Value, json};

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub signer: std::sync::Arc<og_shared::TicketSigner>,
    pub state: og_issuer::state::AppState,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database when the suite runs with `OG_TEST_ENGINE=postgres`.
    pub pg: Option<og_issuer::store::ScratchDatabase>,
}

/// Starts the issuer on port 0 with the demo catalogue (event 1's doors are open now).
pub async fn spawn_app() -> TestApp {
    // The issuer's own warnings and errors go to the test's output (shown when a test fails).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("og_issuer=warn"))
        .with_test_writer()
        .try_init();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("temp dir");
    let pg = og_issuer::store::ScratchDatabase::for_engine_under_test("og_ops_test");
    let mut settings = Settings::for_tests(dir.path());
    settings.database = pg.as_ref().map(|p| p.url());
    let app = Application::build(settings).await.expect("app builds");
    let base = app.base_url();
    let db = app.state().db.clone();
    let signer = app.state().signer.clone();
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        db,
        signer,
        state,
        dir,
        pg,
    }
}

pub fn nonce(i: u64) -> String {
    format!("{:032x}", (u128::from(i) << 64) | 0xabcdef)
}

/// A scan report of an admission of `serial` at `gate`.
pub fn admission(n: u64, event: u32, serial: u32, offer: Offer, gate: &str) -> ScanReport {
    ScanReport {
        nonce: nonce(n),
        scanned_at: og_issuer::now() - 10,
        verdict: VerdictCode::Admitted,
        reason: "ok".into(),
        event_id: Some(event),
        serial: Some(serial),
        generation: 0,
        offer: Some(offer),
        admitted_index: Some(1),
        gate: gate.into(),
        zone: None,
        direction: Direction::Entry,
        offline: false,
    }
}

pub fn batch(reports: Vec<ScanReport>) -> ScanBatch {
    ScanBatch {
        sent_at: og_issuer::now(),
        queued: reports.len() as u64,
        software_version: "gate-test 1.0".into(),
        reports,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A fresh CSRF cookie (`name=value`) and the form token that goes with it, as a browser
    /// holds them after its first page.
    pub fn csrf(&self) -> (String, String) {
        let value = og_issuer::shop::auth::random_token();
        (
            format!("{}={value}", og_issuer::web::csrf_token::COOKIE_NAME),
            og_issuer::web::csrf_token::token_for_cookie(&self.state, &value),
        )
    }

    /// A new operator token.
    pub fn operator(&self) -> String {
        let email = format!("op{}@example.org", og_issuer::trust::keys::random_32()[0]);
        self.db
            .write_sync(|tx| og_issuer::ops::auth::create_operator(tx, &email, og_issuer::now()))
            .unwrap()
            .1
            .to_string()
    }

    /// An active buyer account row; returns its id.
    pub fn buyer(&self, email: &str) -> i64 {
        self.db
            .write_sync(|c| {
                Ok(c.query_row(
                    "INSERT INTO accounts (email, password_hash, status, created_at) VALUES (?1, 'x', 'active', 0)
                     RETURNING id",
                    [email],
                    |r| r.get(0),
                )?)
            })
            .unwrap()
    }

    /// Complimentary tickets issued directly in the database.
    pub fn tickets(&self, event: u32, offer: Offer, count: u32) -> Vec<IssuedTicket> {
        let email = format!("holder{}@example.org", og_issuer::trust::keys::random_32()[0]);
        self.db
            .write_sync(|tx| {
                og_issuer::ops::catalogue::issue_comps(
                    tx,
                    &self.signer,
                    event,
                    offer,
                    &email,
                    count,
                    None,
                    og_issuer::now(),
                )
            })
            .unwrap()
    }

    pub async fn post(&self, path: &str, bearer: Option<&str>, body: &Value) -> reqwest::Response {
        let mut r = self.client.post(self.url(path)).json(body);
        if let Some(b) = bearer {
            r = r.bearer_auth(b);
        }
        r.send().await.unwrap()
    }

    /// The whole revocation log, as an operator reads it.
    pub async fn revocation_log(&self, op: &str) -> Vec<og_shared::sync::Revocation> {
        self.get("/api/v1/ops/revocations?after=0", Some(op))
            .await
            .json()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> reqwest::Response {
        let mut r = self.client.get(self.url(path));
        if let Some(b) = bearer {
            r = r.bearer_auth(b);
        }
        r.send().await.unwrap()
    }

    /// A one-time enrolment token for `events`.
    pub async fn enrolment_token(&self, op: &str, events: &[u32], zone: Option<u8>) -> String {
        let r = self
            .post(
                "/api/v1/ops/enrolment-tokens",
                Some(op),
                &json!({ "event_ids": events, "zone": zone }),
            )
            .await;
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    }

    /// An enrolled device for `events`.
    pub async fn device(&self, op: &str, events: &[u32], name: &str) -> EnrollResponse {
        let token = self.enrolment_token(op, events, None).await;
        let r = self
            .post(
                "/api/v1/devices/enroll",
                None,
                &json!({ "token": token, "name": name, "software_version": "gate-test 1.0" }),
            )
            .await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    pub async fn scans(&self, cred: &str, b: &ScanBatch) -> reqwest::Response {
        self.post("/api/v1/device/scans", Some(cred), &serde_json::to_value(b).unwrap())
            .await
    }

    /// Posts a scan batch and reads the acknowledgement.
    pub async fn scan_ack(&self, cred: &str, b: &ScanBatch) -> ScanBatchAck {
        self.scans(cred, b).await.json().await.unwrap()
    }

    /// Posts every (device credential, batch) at the same moment, each on its own task: the
    /// answers' statuses, in the order given, awaited one by one by the caller.
    pub fn send_scans_at_once(
        &self,
        batches: Vec<(String, ScanBatch)>,
    ) -> Vec<tokio::task::JoinHandle<reqwest::StatusCode>> {
        batches
            .into_iter()
            .map(|(cred, b)| {
                let (client, url) = (self.client.clone(), self.url("/api/v1/device/scans"));
                tokio::spawn(async move {
                    client
                        .post(url)
                        .bearer_auth(cred)
                        .json(&b)
                        .send()
                        .await
                        .unwrap()
                        .status()
                })
            })
            .collect()
    }

    pub async fn sync(&self, cred: &str, rev_after: u64, adm_after: u64) -> reqwest::Response {
        self.get(
            &format!("/api/v1/device/sync?revocations_after={rev_after}&admissions_after={adm_after}&queued=3&version=gate-test%201.0"),
            Some(cred),
        )
        .await
    }

    /// Syncs and reads the answer.
    pub async fn synced(&self, cred: &str, rev_after: u64, adm_after: u64) -> SyncResponse {
        self.sync(cred, rev_after, adm_after).await.json().await.unwrap()
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db.read_sync(|c| Ok(c.query_row(sql, [], |r| r.get(0))?)).unwrap()
    }
}
