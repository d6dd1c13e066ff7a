//! The issuer as a newcomer runs it: a real process on a free port with a fresh data dir.

mod support;

use std::os::unix::fs::PermissionsExt;

use support::{IssuerProc, http};

#[test]
fn a_fresh_issuer_prints_its_port_answers_health_and_keeps_its_key_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = IssuerProc::start(dir.path(), &[]);
    assert_ne!(issuer.port, 0);
    let health: serde_json::Value = http()
        .get(format!("{}/health", issuer.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(health["status"], "ok", "{}", issuer.log());
    let key = dir.path().join("keys/ticket-signing-key.pem");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    let pem = std::fs::read_to_string(&key).unwrap();
    let secret_line = pem.lines().nth(1).unwrap();
    assert!(
        !issuer.log().contains(secret_line),
        "the signing key must never be logged"
    );
}

#[test]
fn an_issuer_killed_with_sigkill_comes_back_on_the_same_port_with_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut issuer = IssuerProc::start(dir.path(), &[]);
    let client = http();
    let before: serde_json::Value = client
        .get(format!("{}/health", issuer.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let port = issuer.port;
    issuer.kill();
    assert!(
        client.get(format!("{}/health", issuer.url)).send().is_err(),
        "the issuer is down"
    );
    issuer.restart();
    assert_eq!(issuer.port, port);
    let after: serde_json::Value = client
        .get(format!("{}/health", issuer.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(before["key_id"], after["key_id"]);
}
