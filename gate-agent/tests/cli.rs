//! Black-box tests: the real `gate-agent` binary in a temporary data directory, provisioned from
//! a bundle signed with the TEST-ONLY fixture key, with the clock pinned to `FIXTURE_NOW`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::Duration;

use og_fixtures::{FIXTURE_EVENT, FIXTURE_NOW, sample_claims, test_signer, test_trust_store};
use og_shared::Offer;
use og_shared::sync::{
    EventFacts, GENESIS_HASH, GateBundle, KeyInfo, Revocation, RevocationPage, RevocationReason, RevocationTarget,
};

const BIN: &str = env!("CARGO_BIN_EXE_gate-agent");

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/vectors")
}

struct Gate {
    dir: tempfile::TempDir,
}

impl Gate {
    /// A data directory with nothing in it.
    fn blank() -> Gate {
        Gate {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A gate provisioned from a bundle with these revocations.
    fn provisioned(revoked: &[RevocationTarget]) -> Gate {
        let g = Gate::blank();
        let bundle = g.dir.path().join("bundle.ogb");
        std::fs::write(&bundle, bundle_file(revoked)).unwrap();
        let out = g.cmd(&["import", bundle.to_str().unwrap(), "--gate", "north-1"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        g
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--data-dir")
            .arg(self.data())
            .args(args)
            .env("OG_GATE_NOW", FIXTURE_NOW.to_string())
            .env_remove("OG_GATE_DATA_DIR")
            // These tests read the English words; the French ones (the default) are read by the
            // tests that remove this (`french_command`).
            .env("OG_GATE_LANG", "en");
        c
    }

    /// The gate as it comes: no language chosen, so French.
    fn french_command(&self, args: &[&str]) -> Command {
        let mut c = self.command(args);
        c.env_remove("OG_GATE_LANG");
        c
    }

    /// Spawns `--json run --stdin --no-sync` plus `extra`, with piped stdin and stdout.
    fn spawn_run(&self, extra: &[&str]) -> (Child, ChildStdin) {
        self.spawn_run_with_stderr(extra, Stdio::null())
    }

    /// `--json run --stdin --no-sync` plus `extra`, stdout piped, stderr as given.
    fn spawn_run_with_stderr(&self, extra: &[&str], stderr: Stdio) -> (Child, ChildStdin) {
        let mut args = vec!["--json", "run", "--stdin", "--no-sync"];
        args.extend_from_slice(extra);
        let mut child = self
            .command(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        (child, stdin)
    }

    fn cmd(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs with `--json` and parses every stdout line.
    fn json(&self, args: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let out = self.cmd(&a);
        let lines = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        (
            out.status.code().unwrap_or(-1),
            lines,
            String::from_utf8_lossy(&out.stderr).into(),
        )
    }

    fn check(&self, text: &str) -> (i32, serde_json::Value) {
        let (code, mut lines, err) = self.json(&["check", text]);
        assert_eq!(lines.len(), 1, "stderr: {err}");
        (code, lines.remove(0))
    }

    fn status(&self) -> serde_json::Value {
        let (code, mut lines, err) = self.json(&["status"]);
        assert_eq!(code, 0, "{err}");
        lines.remove(0)
    }
}

fn bundle_file(revoked: &[RevocationTarget]) -> Vec<u8> {
    bundle_file_in_epoch(revoked, 0)
}

/// A bundle whose revocation log is of the given epoch (a newer one after a signed reset).
fn bundle_file_in_epoch(revoked: &[RevocationTarget], log_epoch: i64) -> Vec<u8> {
    let entries = revoked
        .iter()
        .enumerate()
        .map(|(i, t)| Revocation {
            seq: i as u64 + 1,
            target: *t,
            reason: RevocationReason::Refunded,
            at: FIXTURE_NOW - 100,
        })
        .collect();
    let bundle = GateBundle {
        deployment: test_signer().deployment().clone(),
        created_at: FIXTURE_NOW - 60,
        keys: test_trust_store().keys().iter().map(KeyInfo::from_trusted).collect(),
        revocations: RevocationPage::build(0, GENESIS_HASH, entries),
        events: vec![EventFacts {
            event_id: FIXTURE_EVENT,
            name: "Fixture final".into(),
            sport: "athletics".into(),
            venue: "Stade de France".into(),
            starts_at: FIXTURE_NOW,
            doors_open: FIXTURE_NOW - 7200,
            doors_close: FIXTURE_NOW + 3600,
            zones: vec!["A".into(), "B".into()],
            holder_binding: Default::default(),
            paper_exceptions: vec![],
        }],
        zone: None,
        log_epoch,
    };
    bundle.to_signed_file(&test_signer())
}

fn ticket(offer: Offer, serial: u32) -> String {
    test_signer().sign_ticket(&sample_claims(offer, serial))
}

#[test]
fn a_gate_provisioned_from_a_bundle_admits_a_valid_ticket() {
    let g = Gate::provisioned(&[]);
    let (code, v) = g.check(&ticket(Offer::Solo, 1));
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["verdict"], "ADMIT");
    assert_eq!(v["reason"], "admitted");
    assert_eq!(v["ticket_serial"], 1);
    assert_eq!(v["offer"], "solo");
    assert_eq!((v["admitted"].as_u64(), v["admits"].as_u64()), (Some(1), Some(1)));
    assert_eq!(v["offline"], true);
    assert!(v["scan_id"].as_str().is_some_and(|s| s.len() == 32));
}

#[test]
fn revoked_tickets_purchases_and_accounts_are_refused() {
    let solo = sample_claims(Offer::Solo, 11);
    let g = Gate::provisioned(&[
        RevocationTarget::Ticket { serial: 10 },
        RevocationTarget::Purchase { tag: solo.purchase_tag },
    ]);
    for serial in [10, 11] {
        let (code, v) = g.check(&ticket(Offer::Solo, serial));
        assert_eq!((code, v["reason"].as_str()), (1, Some("revoked")), "{v}");
    }
    let (code, _) = g.check(&ticket(Offer::Solo, 12));
    assert_eq!(code, 0, "an unrevoked ticket still passes");
    // The fixture account owns every fixture ticket: revoking it refuses them all.
    let g = Gate::provisioned(&[RevocationTarget::Account { tag: solo.account_tag }]);
    let (code, v) = g.check(&ticket(Offer::Family, 13));
    assert_eq!(code, 1);
    assert_eq!(v["reason"], "revoked");
    assert!(v["message"].as_str().unwrap().contains("account"), "{v}");
}

/// "HH:MM" of a Unix time in Paris, the default venue zone.
fn paris(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .unwrap()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Paris").unwrap())
        .strftime("%H:%M")
        .to_string()
}

#[test]
fn one_scan_of_a_duo_admits_both_and_says_so_then_the_next_says_when_and_where_in_local_time() {
    let g = Gate::provisioned(&[]);
    let t = ticket(Offer::Duo, 20);
    let out = g.cmd(&["--no-color", "check", &t]);
    let human = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(human.starts_with("[✔ ADMIT 2 - Duo] Duo: all 2 people"), "{human}");
    let (c2, v2) = g.check(&t);
    assert_eq!((c2, v2["reason"].as_str()), (1, Some("already_used")));
    assert_eq!(v2["first_admitted_gate"], "north-1");
    assert_eq!(v2["first_admitted_at"], FIXTURE_NOW, "scripts keep Unix seconds");
    let when = paris(FIXTURE_NOW);
    assert_eq!(v2["message"], format!("already used at {when} at north-1"));
    // Both people count: one admission and one report each.
    let s = g.status();
    assert_eq!(
        (s["counts"]["own_admissions"].as_u64(), s["counts"]["outbox"].as_u64()),
        (Some(2), Some(3))
    );
    // In another venue's zone the same admission reads in that zone's time.
    let ny = g.cmd(&["--no-color", "--time-zone", "America/New_York", "check", &t]);
    assert!(String::from_utf8_lossy(&ny.stdout).contains("already used at 14:00 at north-1"));
    let bad = g.cmd(&["--time-zone", "Mars/Olympus", "check", &t]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("IANA"));
}

#[test]
fn a_gate_with_no_language_chosen_speaks_french_to_stewards_and_keeps_a_language_given_to_import() {
    let g = Gate::blank();
    let bundle = g.dir.path().join("bundle.ogb");
    std::fs::write(&bundle, bundle_file(&[])).unwrap();
    let out = g
        .french_command(&["import", bundle.to_str().unwrap(), "--gate", "nord-1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let t = ticket(Offer::Family, 25);
    let first = g.french_command(&["--no-color", "check", &t]).output().unwrap();
    let human = String::from_utf8(first.stdout).unwrap();
    assert!(
        human.starts_with("[✔ ENTRÉE 4 - Famille] Famille : les 4 personnes"),
        "{human}"
    );
    let again = g.french_command(&["--no-color", "check", &t]).output().unwrap();
    let human = String::from_utf8(again.stdout).unwrap();
    let when = paris(FIXTURE_NOW)
        .replace(':', " h ")
        .trim_start_matches('0')
        .to_owned();
    assert!(
        human.starts_with(&format!("[✘ REFUSÉ] déjà utilisé ({when}, porte nord-1)")),
        "REFUSÉ, why and where, in local time: {human}"
    );
    // Scripts read the same codes whatever the language.
    let json = g.french_command(&["--json", "check", &t]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        (v["verdict"].as_str(), v["reason"].as_str()),
        (Some("REJECT"), Some("already_used"))
    );
    let status = String::from_utf8(g.french_command(&["status"]).output().unwrap().stdout).unwrap();
    assert!(status.contains("Entrées aujourd'hui : 4 personnes"), "{status}");
    assert!(status.contains("Heures locales : Europe/Paris."), "{status}");
    // A language given to import is the gate's from then on; an unknown one is refused.
    let out = g
        .french_command(&["--lang", "en", "import", bundle.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let kept = g.french_command(&["--no-color", "check", &t]).output().unwrap();
    assert!(String::from_utf8_lossy(&kept.stdout).starts_with("[✘ REJECT] already used"));
    let bad = g.french_command(&["--lang", "xx", "status"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("en, fr"));
}

#[test]
fn a_one_person_per_scan_turnstile_admits_a_duo_as_person_1_then_2_then_already_used() {
    let g = Gate::blank();
    let bundle = g.dir.path().join("bundle.ogb");
    std::fs::write(&bundle, bundle_file(&[])).unwrap();
    let out = g.cmd(&[
        "import",
        bundle.to_str().unwrap(),
        "--gate",
        "turnstile-1",
        "--party",
        "one-per-scan",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let t = ticket(Offer::Duo, 21);
    let (c1, v1) = g.check(&t);
    assert_eq!((c1, v1["admitted"].as_u64()), (0, Some(1)));
    let second = g.cmd(&["--no-color", "check", &t]);
    let human = String::from_utf8(second.stdout).unwrap();
    assert!(
        human.starts_with("[✔ ADMIT - person 2 of 2] Duo: person 2 of 2"),
        "{human}"
    );
    let (c3, v3) = g.check(&t);
    assert_eq!((c3, v3["reason"].as_str()), (1, Some("already_used")));
    assert_eq!(g.status()["party_policy"], "one_per_scan");
}

#[test]
fn status_for_humans_speaks_plain_words_with_local_times_and_no_json() {
    let g = Gate::provisioned(&[]);
    g.check(&ticket(Offer::Family, 22));
    let out = g.cmd(&["status"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let as_of = paris(FIXTURE_NOW - 60);
    for expected in [
        "Gate north-1, device offline-",
        ", deployment og-test-fixtures",
        "Zone: every zone. Party tickets: one scan admits the whole party. Times in Europe/Paris.",
        "Issuer: none (set up from a bundle; updates come by importing bundles)",
        &format!("Ticket data: current as of {as_of} (1 min ago), revocations up to number 0."),
        "Clock: not compared with the issuer yet; phone codes must be within 30 s of it.",
        "Last sync: never.",
        "Last sync error: none.",
        "Queue: 4 reports waiting to be sent.",
        "Admitted today: 4 people (4 in all, 0 at other gates).",
        "Data held: 2 keys, 1 event, 0 revocations.",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    assert!(!text.contains("null") && !text.contains('"'), "{text}");
}

#[test]
fn decode_verbose_says_what_each_decoder_read_and_how_fast() {
    let g = Gate::blank();
    let frame =
        og_fixtures::frames::camera_frame("OG1:VERBOSE", 1280, 720, 3, &og_fixtures::frames::Difficulty::default());
    let png = g.dir.path().join("frame.png");
    frame.save(&png).unwrap();
    let out = g.cmd(&["decode", "--verbose", png.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "OG1:VERBOSE\n");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("zxing-cpp alone read 1 code in "), "{err}");
    assert!(err.contains("rqrr alone (locator + preprocessing) read "), "{err}");
    assert!(err.contains("the gate (zxing-cpp, then rqrr) read 1 code"), "{err}");
    assert!(err.contains("zxing-cpp: \"OG1:VERBOSE\""), "{err}");
}

#[test]
fn admissions_survive_a_restart_of_the_agent() {
    let g = Gate::provisioned(&[]);
    let t = ticket(Offer::Solo, 30);
    assert_eq!(g.check(&t).0, 0);
    // Each `check` is a fresh process: the second one only knows what the first wrote.
    let (code, v) = g.check(&t);
    assert_eq!((code, v["reason"].as_str()), (1, Some("already_used")));
    let s = g.status();
    assert_eq!(s["counts"]["own_admissions"], 1);
    assert_eq!(s["counts"]["outbox"], 2, "both scans are queued for the issuer");
}

#[test]
fn an_unprovisioned_device_gives_a_clear_error_and_creates_nothing() {
    let g = Gate::blank();
    let out = g.cmd(&["check", &ticket(Offer::Solo, 1)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not provisioned"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("ADMIT"));
    assert!(!g.data().join("gate.db").exists());
}

#[test]
fn a_corrupted_database_is_a_clear_error_never_an_admit() {
    let g = Gate::provisioned(&[]);
    let db = g.data().join("gate.db");
    std::fs::write(&db, vec![0x42; 16384]).unwrap();
    let _ = std::fs::remove_file(g.data().join("gate.db-wal"));
    let _ = std::fs::remove_file(g.data().join("gate.db-shm"));
    for args in [vec!["check", &*ticket(Offer::Solo, 1)], vec!["status"]] {
        let out = g.cmd(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("corrupted"), "{err}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("ADMIT"));
    }
    // A deleted database after provisioning is refused the same way.
    std::fs::remove_file(&db).unwrap();
    let out = g.cmd(&["check", &ticket(Offer::Solo, 1)]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_inputs_are_rejections_not_crashes() {
    let g = Gate::provisioned(&[]);
    let t = ticket(Offer::Solo, 40);
    let lower = format!("OG2:{}", t[4..].to_ascii_lowercase());
    let huge = "A".repeat(100_000);
    let mid_crlf = format!("{}\r\n{}", &t[..60], &t[60..]);
    let inputs = [
        "https://example.org/not-a-ticket",
        &t[..t.len() - 1],
        &lower,
        &huge,
        &mid_crlf,
        "WIFI:S:net;T:WPA;P:secret;;",
        "OG2:",
        "",
    ];
    for input in inputs {
        let (code, v) = g.check(input);
        assert_eq!(code, 1, "{}", &input[..input.len().min(40)]);
        assert_eq!(v["verdict"], "REJECT");
    }
    // Nothing was admitted, and noise does not fill the outbox.
    assert_eq!(g.status()["counts"]["own_admissions"], 0);
    assert_eq!(g.status()["counts"]["outbox"], 0);
    // The ticket itself is still good afterwards.
    assert_eq!(g.check(&t).0, 0);
}

#[test]
fn a_scanner_on_stdin_gets_binary_noise_dismissed_and_the_next_ticket_admitted() {
    let g = Gate::provisioned(&[]);
    let (child, mut stdin) = g.spawn_run_with_stderr(&[], Stdio::piped());
    stdin.write_all(b"\xff\xfe\x00\x01binary\n").unwrap();
    stdin.write_all(&vec![b'Z'; 100_000]).unwrap();
    stdin.write_all(b"\n").unwrap();
    stdin
        .write_all(format!("{}\r\n", ticket(Offer::Solo, 50)).as_bytes())
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert_eq!(lines[0]["verdict"], "ADMIT");
    assert_eq!(lines[0]["ticket_serial"], 50);
}

#[test]
fn a_scanner_that_ends_each_code_with_a_carriage_return_only_gets_a_verdict_per_scan_at_once() {
    let g = Gate::provisioned(&[]);
    let (mut child, mut stdin) = g.spawn_run(&[]);
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    // CR alone, nothing after it until the next scan: the verdict must not wait for more input.
    for serial in [52, 53] {
        stdin
            .write_all(format!("{}\r", ticket(Offer::Solo, serial)).as_bytes())
            .unwrap();
        stdin.flush().unwrap();
        line.clear();
        out.read_line(&mut line).unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            (v["verdict"].as_str(), v["ticket_serial"].as_u64()),
            (Some("ADMIT"), Some(u64::from(serial)))
        );
    }
    // LF and CRLF scanners still work, and a CRLF is one line end, not a blank code.
    stdin
        .write_all(format!("{}\n{}\r\n", ticket(Offer::Solo, 54), ticket(Offer::Solo, 55)).as_bytes())
        .unwrap();
    drop(stdin);
    let rest: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    let serials: Vec<u64> = rest.iter().map(|v| v["ticket_serial"].as_u64().unwrap()).collect();
    assert_eq!(serials, [54, 55]);
    assert!(child.wait().unwrap().success());
}

#[test]
fn the_golden_vectors_scanned_from_png_give_their_expected_verdicts() {
    for v in og_fixtures::vectors() {
        // A fresh gate each: the Duo's second code draws on the same ticket as the first.
        let g = Gate::provisioned(&[]);
        let png = vectors_dir().join(format!("{}.png", v.name));
        let (code, lines, err) = g.json(&["scan", png.to_str().unwrap()]);
        assert_eq!(lines.len(), 1, "{}: {err}", v.name);
        let expected = match v.expect.as_str() {
            "valid" => "admitted",
            "malformed" => "not_a_ticket",
            other => other,
        };
        assert_eq!(lines[0]["reason"], expected, "{}", v.name);
        assert_eq!(code, if expected == "admitted" { 0 } else { 1 }, "{}", v.name);
    }
}

#[test]
fn the_rotating_golden_vectors_scanned_from_png_give_their_expected_verdicts() {
    for v in og_fixtures::rotating_vectors() {
        let g = Gate::provisioned(&[]);
        let png = vectors_dir().join(format!("{}.png", v.name));
        let (code, lines, err) = g.json(&["scan", png.to_str().unwrap()]);
        assert_eq!(lines.len(), 1, "{}: {err}", v.name);
        let expected = if v.expect == "valid" {
            "admitted"
        } else {
            v.expect.as_str()
        };
        assert_eq!(lines[0]["reason"], expected, "{}: {}", v.name, lines[0]);
        assert_eq!(code, if expected == "admitted" { 0 } else { 1 }, "{}", v.name);
    }
}

/// The fixture phone's live code for Duo 3001, made at `at`.
fn phone_code(at: i64) -> String {
    let phone = og_fixtures::test_device();
    phone
        .rotating_code(&og_fixtures::sample_bound_ticket(&phone), at, 5)
        .to_text()
}

#[test]
fn a_tolerance_given_to_import_is_kept_shown_by_status_and_can_be_widened_for_one_run() {
    let g = Gate::blank();
    let bundle = g.dir.path().join("bundle.ogb");
    std::fs::write(&bundle, bundle_file(&[])).unwrap();
    let out = g.cmd(&["--tolerance", "10", "import", bundle.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(g.status()["rotating_tolerance_seconds"], 10);
    let (code, v) = g.check(&phone_code(FIXTURE_NOW - 20));
    assert_eq!((code, v["reason"].as_str()), (1, Some("stale_code")), "{v}");
    assert_eq!(v["message"], "code is a picture: open the ticket on the phone");
    let (code, lines, _) = g.json(&["--tolerance", "30", "check", &phone_code(FIXTURE_NOW - 20)]);
    assert_eq!((code, lines[0]["reason"].as_str()), (0, Some("admitted")), "{lines:?}");
    let text = String::from_utf8(g.cmd(&["status"]).stdout).unwrap();
    assert!(text.contains("phone codes must be within 10 s of it"), "{text}");
    let bad = g.cmd(&["--tolerance", "0", "status"]);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a tolerance of 0 s would refuse every phone"
    );
}

#[test]
fn a_phone_held_under_the_camera_while_its_code_rotates_is_one_scan_not_already_used() {
    let g = Gate::provisioned(&[]);
    let (mut child, mut stdin) = g.spawn_run(&[]);
    let mut out = BufReader::new(child.stdout.take().unwrap());
    // Two successive codes of the same phone, 5 s apart: different texts, same bound ticket.
    let (first, next) = (phone_code(FIXTURE_NOW - 5), phone_code(FIXTURE_NOW));
    assert_ne!(first, next);
    writeln!(stdin, "{first}").unwrap();
    writeln!(stdin, "{next}").unwrap();
    drop(stdin);
    let lines: Vec<serde_json::Value> = (&mut out)
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    // The JSON lines do not repeat: one verdict, and nothing more recorded than its admissions.
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["reason"], "admitted", "{}", lines[0]);
    assert!(child.wait().unwrap().success());
    let s = g.status();
    assert_eq!(
        (s["counts"]["own_admissions"].as_u64(), s["counts"]["outbox"].as_u64()),
        (Some(2), Some(2)),
        "{s}"
    );
    // Scanned again later (a new scan, not a repeat): the Duo's places are used.
    let (code, v) = g.check(&phone_code(FIXTURE_NOW));
    assert_eq!((code, v["reason"].as_str()), (1, Some("already_used")), "{v}");
}

#[test]
fn an_unreadable_image_is_a_clear_error_and_a_frames_run_goes_on() {
    let g = Gate::provisioned(&[]);
    let frames = g.dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    std::fs::write(frames.join("01-broken.png"), b"\x89PNG\r\n\x1a\nnot really").unwrap();
    std::fs::write(
        frames.join("02-ticket.png"),
        og_fixtures::qr_png(&ticket(Offer::Solo, 60)),
    )
    .unwrap();
    let broken = frames.join("01-broken.png");
    let out = g.cmd(&["scan", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("01-broken.png"));
    let missing = g.cmd(&["scan", "/nonexistent/x.png"]);
    assert_eq!(missing.status.code(), Some(2));

    let (code, lines, err) = g.json(&["run", "--frames", frames.to_str().unwrap(), "--no-sync"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("01-broken.png"), "{err}");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["verdict"], "ADMIT");
}

#[test]
fn the_same_code_in_consecutive_frames_gives_one_verdict_not_already_used() {
    let g = Gate::provisioned(&[]);
    let frames = g.dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    let png = og_fixtures::qr_png(&ticket(Offer::Solo, 70));
    for i in 0..4 {
        std::fs::write(frames.join(format!("{i:02}.png")), &png).unwrap();
    }
    let (code, lines, err) = g.json(&["run", "--frames", frames.to_str().unwrap(), "--no-sync"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["reason"], "admitted");
    assert_eq!(g.status()["counts"]["own_admissions"], 1);
}

#[test]
fn camera_like_frames_of_tickets_are_read_and_admitted() {
    let g = Gate::provisioned(&[]);
    let dir = g.dir.path().join("cam");
    std::fs::create_dir(&dir).unwrap();
    let d = og_fixtures::frames::Difficulty::default();
    let mut paths = Vec::new();
    for i in 0..6u32 {
        let img = og_fixtures::frames::camera_frame(&ticket(Offer::Solo, 100 + i), 1280, 720, u64::from(i), &d);
        let p = dir.join(format!("{i}.png"));
        std::fs::write(&p, og_fixtures::frames::png_bytes(&img)).unwrap();
        paths.push(p.to_str().unwrap().to_owned());
    }
    let mut args = vec!["scan"];
    args.extend(paths.iter().map(String::as_str));
    let (_, lines, err) = g.json(&args);
    let admitted = lines.iter().filter(|l| l["reason"] == "admitted").count();
    assert!(admitted >= 5, "{admitted} of 6 admitted; {err}");
}

#[test]
fn decode_prints_every_text_and_a_shift_jis_payload_as_text_like_zbarimg() {
    let g = Gate::blank();
    let sjis = qrcode::QrCode::with_error_correction_level(b"\x82\xa0\x82\xa2 ticket", qrcode::EcLevel::M).unwrap();
    let img = sjis
        .render::<image::Luma<u8>>()
        .module_dimensions(6, 6)
        .quiet_zone(true)
        .build();
    let path = g.dir.path().join("sjis.png");
    img.save(&path).unwrap();
    let solo = vectors_dir().join("valid-solo.png");
    let out = g.cmd(&["decode", path.to_str().unwrap(), solo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    // 0x82A0 0x82A2 are HIRAGANA A and I in Shift_JIS.
    assert_eq!(lines[0], "\u{3042}\u{3044} ticket", "{text}");
    assert!(lines[1].starts_with("OG2:"), "{text}");
}

#[test]
fn killing_the_agent_mid_run_loses_no_admission_and_no_report() {
    let g = Gate::provisioned(&[]);
    let frames = g.dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    for i in 0..200u32 {
        let png = og_fixtures::qr_png(&ticket(Offer::Solo, 1000 + i));
        std::fs::write(frames.join(format!("{i:04}.png")), png).unwrap();
    }
    let mut child = g
        .command(&[
            "--json",
            "run",
            "--frames",
            frames.to_str().unwrap(),
            "--no-sync",
            "--pace-ms",
            "5",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while seen.len() < 10 {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "run ended early");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["verdict"], "ADMIT");
        seen.push(v["scan_id"].as_str().unwrap().to_owned());
    }
    assert!(child.try_wait().unwrap().is_none(), "still running when killed");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let conn = rusqlite::Connection::open(g.data().join("gate.db")).unwrap();
    for id in &seen {
        let adm: i64 = conn
            .query_row("SELECT count(*) FROM admissions WHERE nonce = ?1", [id], |r| r.get(0))
            .unwrap();
        let rep: i64 = conn
            .query_row("SELECT count(*) FROM outbox WHERE nonce = ?1", [id], |r| r.get(0))
            .unwrap();
        assert_eq!(
            (adm, rep),
            (1, 1),
            "scan {id} shown as ADMIT must be recorded and queued"
        );
    }
    let s = g.status();
    assert_eq!(s["counts"]["own_admissions"], s["counts"]["outbox_admitted"]);
    assert!(s["counts"]["own_admissions"].as_u64().unwrap() >= 10);
    assert!(s["counts"]["own_admissions"].as_u64().unwrap() < 200);
}

#[test]
fn the_kiosk_page_shows_the_last_verdict() {
    let g = Gate::provisioned(&[]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let (mut child, mut stdin) = g.spawn_run(&["--status-addr", &addr]);
    writeln!(stdin, "{}", ticket(Offer::Solo, 80)).unwrap();
    writeln!(stdin, "{}", ticket(Offer::Solo, 80)).unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    // The same code again within the repeat window is the same person: no second line.
    writeln!(stdin, "{}", &ticket(Offer::Solo, 81)).unwrap();
    line.clear();
    reader.read_line(&mut line).unwrap();
    assert!(line.contains("\"ticket_serial\":81"), "{line}");
    let page = og_fixtures::poll::within(Duration::from_secs(5), Duration::from_millis(20), || {
        let mut s = std::net::TcpStream::connect(&addr).ok()?;
        let mut page = String::new();
        write!(s, "GET / HTTP/1.0\r\n\r\n").unwrap();
        std::io::Read::read_to_string(&mut s, &mut page).unwrap();
        Some(page)
    })
    .unwrap_or_default();
    assert!(page.contains("ADMIT") && page.contains("#0a7d2c"), "{page}");
    drop(stdin);
    child.wait().unwrap();
}

#[test]
fn help_explains_the_commands_to_a_technician() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for word in [
        "enroll",
        "import",
        "sync",
        "check",
        "scan",
        "decode",
        "run",
        "status",
        "--data-dir",
    ] {
        assert!(help.contains(word), "{word} missing from --help");
    }
    assert!(!help.contains("--now"), "the test clock stays hidden");
}

#[test]
fn a_tampered_or_foreign_bundle_is_refused_and_changes_nothing() {
    let g = Gate::blank();
    let mut file = bundle_file(&[]);
    let n = file.len();
    file[n - 5] ^= 0x01; // flip a bit in the JSON body
    let path = g.dir.path().join("tampered.ogb");
    std::fs::write(&path, &file).unwrap();
    let out = g.cmd(&["import", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bundle refused"));
    assert!(
        !g.data().join("gate.db").exists(),
        "a refused bundle provisions nothing"
    );

    // A provisioned gate refuses a bundle signed by a key it does not trust.
    let g = Gate::provisioned(&[]);
    let rogue = og_fixtures::rogue_test_signer();
    let bundle = GateBundle {
        deployment: rogue.deployment().clone(),
        created_at: FIXTURE_NOW,
        keys: vec![KeyInfo::from_trusted(&rogue.trusted_key(0, i64::MAX))],
        revocations: RevocationPage::build(0, GENESIS_HASH, vec![]),
        events: vec![],
        zone: None,
        log_epoch: 0,
    };
    let path = g.dir.path().join("rogue.ogb");
    std::fs::write(&path, bundle.to_signed_file(&rogue)).unwrap();
    let out = g.cmd(&["import", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let forged = rogue.sign_ticket(&sample_claims(Offer::Solo, 7));
    assert_eq!(g.check(&forged).1["reason"], "unknown_key");
}

#[test]
fn the_admit_and_reject_hooks_run_with_the_verdict_in_their_environment() {
    let g = Gate::provisioned(&[RevocationTarget::Ticket { serial: 61 }]);
    let log = g.dir.path().join("relay.log");
    let hook = |kind: &str| format!("echo {kind} $OG_VERDICT $OG_REASON $OG_SERIAL >> '{}'", log.display());
    let (child, mut stdin) = g.spawn_run(&["--on-admit", &hook("open"), "--on-reject", &hook("buzz")]);
    writeln!(stdin, "{}", ticket(Offer::Solo, 60)).unwrap();
    writeln!(stdin, "{}", ticket(Offer::Solo, 61)).unwrap();
    drop(stdin);
    assert!(child.wait_with_output().unwrap().status.success());
    // Hooks run in the background so a slow relay never delays a verdict: wait for both lines.
    let mut lines: Vec<String> = og_fixtures::poll::within(Duration::from_secs(10), Duration::from_millis(50), || {
        let lines: Vec<String> = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        (lines.len() >= 2).then_some(lines)
    })
    .unwrap_or_default();
    lines.sort();
    assert_eq!(
        lines,
        vec!["buzz REJECT revoked 61".to_owned(), "open ADMIT admitted 60".to_owned()]
    );
}

#[test]
fn a_gate_whose_stderr_nobody_reads_keeps_admitting() {
    let g = Gate::provisioned(&[]);
    let (mut child, mut stdin) = g.spawn_run_with_stderr(&[], Stdio::piped());
    // The reading end of stderr is gone: every message the gate writes there fails (EPIPE).
    drop(child.stderr.take());
    writeln!(stdin, "https://example.org/not-a-ticket").unwrap();
    writeln!(stdin, "{}", ticket(Offer::Solo, 70)).unwrap();
    writeln!(stdin, "OG1:TRUNCATED").unwrap();
    writeln!(stdin, "{}", ticket(Offer::Solo, 71)).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    let verdicts: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let admitted: Vec<&serde_json::Value> = verdicts.iter().filter(|v| v["reason"] == "admitted").collect();
    assert_eq!(admitted.len(), 2, "{verdicts:?}");
}

#[test]
fn a_bundle_whose_log_lost_a_revocation_the_gate_knew_changes_no_revocation_unless_it_is_a_reset_keeping_them_all() {
    let g = Gate::provisioned(&[RevocationTarget::Ticket { serial: 61 }]);
    let import = |file: Vec<u8>| {
        let path = g.dir.path().join("next.ogb");
        std::fs::write(&path, file).unwrap();
        let (code, lines, err) = g.json(&["import", path.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        lines[0].clone()
    };
    // Another log of the same epoch (an issuer restored from a backup, then a new refund): the
    // gate keeps its copy.
    let other = import(bundle_file(&[RevocationTarget::Ticket { serial: 62 }]));
    assert_eq!(other["kept_newer_revocations"], true, "{other}");
    assert_eq!(g.check(&ticket(Offer::Solo, 61)).1["reason"], "revoked");
    // A signed reset that lost 61: kept too.
    let lossy = import(bundle_file_in_epoch(&[RevocationTarget::Ticket { serial: 62 }], 5));
    assert_eq!(lossy["kept_newer_revocations"], true, "{lossy}");
    assert_eq!(g.check(&ticket(Offer::Solo, 61)).1["reason"], "revoked");
    // A signed reset that re-published 61: taken.
    let reset = import(bundle_file_in_epoch(
        &[
            RevocationTarget::Ticket { serial: 62 },
            RevocationTarget::Ticket { serial: 61 },
        ],
        5,
    ));
    assert_eq!(reset["kept_newer_revocations"], false, "{reset}");
    assert_eq!(g.check(&ticket(Offer::Solo, 61)).1["reason"], "revoked");
    assert_eq!(g.check(&ticket(Offer::Solo, 62)).1["reason"], "revoked");
    assert_eq!(g.check(&ticket(Offer::Solo, 63)).1["reason"], "admitted");
}

/// A headless Chromium driven over WebDriver (Debian's `chromium` + `chromedriver`).
struct Browser {
    child: Child,
    base: String,
    session: String,
    http: reqwest::blocking::Client,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    /// Ends chromedriver and every browser process it started (its own process group): killing
    /// chromedriver alone leaves its Chromium running after the test.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_addr() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

impl Browser {
    fn start() -> Browser {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let addr = free_addr();
        let child = Command::new("chromedriver")
            .arg(format!("--port={}", addr.rsplit(':').next().unwrap()))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver must be installed (Debian packages chromium and chromium-driver)");
        let base = format!("http://{addr}");
        let http = reqwest::blocking::Client::new();
        og_fixtures::poll::until(
            "chromedriver starting",
            Duration::from_secs(20),
            Duration::from_millis(50),
            || http.get(format!("{base}/status")).send().ok(),
        );
        let profile = tempfile::tempdir().unwrap();
        let binary = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("chromium is installed");
        let caps = serde_json::json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": {
            "binary": binary,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                     "--autoplay-policy=no-user-gesture-required",
                     "--window-size=1280,720", format!("--user-data-dir={}", profile.path().display())]
        } } } });
        let mut b = Browser {
            child,
            base,
            session: String::new(),
            http,
            _profile: profile,
        };
        b.session = b.call("POST", "", Some(caps))["sessionId"].as_str().unwrap().to_owned();
        b
    }

    fn call(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> serde_json::Value {
        let url = if self.session.is_empty() {
            format!("{}/session", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let mut rb = self.http.request(method.parse().unwrap(), url);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let v: serde_json::Value = rb.send().unwrap().json().unwrap();
        assert!(v["value"]["error"].is_null(), "WebDriver {method} {path}: {v}");
        v["value"].clone()
    }

    fn script(&self, js: &str) -> serde_json::Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(serde_json::json!({ "script": js, "args": [] })),
        )
    }

    /// Waits (up to 10 s) until the page shows what `check` wants; returns the page's state.
    fn wait_for(&self, what: &str, check: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let read = "const t = id => { const e = document.getElementById(id); \
                    return { text: e.textContent, shown: !e.hidden && e.offsetHeight > 0, \
                    px: parseFloat(getComputedStyle(e).fontSize) }; }; \
                    return { verdict: t('verdict'), party: t('party'), reason: t('reason'), note: t('note'), \
                    banner: t('banner'), body: document.body.className, sounds: window.ogSounds || [] };";
        let mut v = serde_json::Value::Null;
        og_fixtures::poll::within(Duration::from_secs(10), Duration::from_millis(50), || {
            v = self.script(read);
            check(&v).then(|| v.clone())
        })
        .unwrap_or_else(|| panic!("the kiosk page never showed {what}: {v}"))
    }
}

#[test]
fn the_kiosk_page_in_chromium_shows_verdict_party_reason_repeat_and_banner_with_a_sound_each() {
    let g = Gate::provisioned(&[RevocationTarget::Ticket { serial: 99 }]);
    let addr = free_addr();
    // Three hours after the bundle: the ticket list is too old for comfort (red banner), and the
    // tickets are still valid.
    let mut child = g
        .command(&["--json", "run", "--stdin", "--no-sync", "--status-addr", &addr])
        .env("OG_GATE_NOW", (FIXTURE_NOW + 3 * 3600).to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let b = Browser::start();
    let page = format!("http://{addr}/");
    og_fixtures::poll::until(
        "the status page coming up",
        Duration::from_secs(10),
        Duration::from_millis(20),
        || std::net::TcpStream::connect(&addr).ok(),
    );
    b.call("POST", "/url", Some(serde_json::json!({ "url": page })));
    let ready = b.wait_for("READY", |v| v["verdict"]["text"] == "READY");
    assert!(ready["banner"]["shown"].as_bool().unwrap(), "{ready}");
    assert!(
        ready["banner"]["text"]
            .as_str()
            .unwrap()
            .contains("TICKET LIST 3 H 01 MIN OLD"),
        "{ready}"
    );

    let mut line = String::new();
    let family = ticket(Offer::Family, 90);
    writeln!(stdin, "{family}").unwrap();
    out.read_line(&mut line).unwrap();
    let v = b.wait_for("the family admitted", |v| v["verdict"]["text"] == "ADMIT 4 - Family");
    assert_eq!(v["party"]["text"], "4 people");
    assert_eq!(v["reason"]["text"], "Family: all 4 people");
    assert_eq!(v["body"], "admit");
    assert!(v["verdict"]["shown"].as_bool().unwrap() && v["party"]["shown"].as_bool().unwrap());
    // Readable from 3 m: the verdict is over 100 px tall on a 720-line screen, the reason over 30.
    assert!(v["verdict"]["px"].as_f64().unwrap() >= 100.0, "{v}");
    assert!(v["reason"]["px"].as_f64().unwrap() >= 30.0, "{v}");
    b.wait_for("the admit sound", |v| v["sounds"] == serde_json::json!(["admit"]));

    // The same code again within the window: no new verdict line, but the screen says so.
    writeln!(stdin, "{family}").unwrap();
    let v = b.wait_for("the repeat", |v| v["note"]["text"] == "same code, already counted");
    assert_eq!(v["verdict"]["text"], "ADMIT 4 - Family");
    b.wait_for("the repeat sound", |v| {
        v["sounds"] == serde_json::json!(["admit", "repeat"])
    });

    writeln!(stdin, "{}", ticket(Offer::Solo, 99)).unwrap();
    line.clear();
    out.read_line(&mut line).unwrap();
    assert!(line.contains("\"reason\":\"revoked\""), "{line}");
    let v = b.wait_for("the rejection", |v| v["verdict"]["text"] == "REJECT");
    assert_eq!(
        (v["body"].as_str(), v["note"]["text"].as_str()),
        (Some("reject"), Some(""))
    );
    assert_eq!(v["reason"]["text"], "ticket revoked");
    assert_eq!(v["sounds"], serde_json::json!(["admit", "repeat", "reject"]));
    drop(stdin);
    // Exactly two JSON lines: the repeat printed none (turnstile scripts see what they saw).
    let rest: Vec<String> = out.lines().map(Result::unwrap).collect();
    assert!(rest.is_empty(), "{rest:?}");
    assert!(child.wait().unwrap().success());
}
