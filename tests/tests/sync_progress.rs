//! `gate-agent sync --progress`: a technician following a long revocation download in a log
//! file or the systemd journal (stderr is not a terminal there) sees plain progress lines with
//! growing counts that end at the total; `--progress never` keeps stderr quiet.

mod support;

use support::{Gate, IssuerProc, append_revocations, enrolment_token, http, operator_token};

/// The `(done, total)` of every `revocations DONE/TOTAL` line in `stderr`.
fn progress_lines(stderr: &str) -> Vec<(u64, u64)> {
    stderr
        .lines()
        .filter_map(|l| {
            let (done, total) = l.strip_prefix("revocations ")?.split_once('/')?;
            Some((done.trim().parse().ok()?, total.trim().parse().ok()?))
        })
        .collect()
}

#[test]
fn a_sync_into_a_log_reports_growing_revocation_counts_ending_at_the_total_and_never_prints_none() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = IssuerProc::start(&dir.path().join("issuer"), &[]);
    let op = operator_token(&issuer.data_dir);
    let client = http();
    let first = append_revocations(&issuer, 10);

    // A new gate gets the whole log as one compact snapshot: one line, at the total.
    let gate = Gate::new(dir.path(), "gate-p");
    let token = enrolment_token(&client, &issuer, &op, &[1]);
    let enrolled = gate.run(&[
        "enroll",
        "--issuer",
        &issuer.url,
        "--token",
        &token,
        "--gate",
        "gate-p",
        "--progress",
        "always",
    ]);
    assert_eq!(enrolled.code, 0, "{enrolled:?}");
    assert_eq!(progress_lines(&enrolled.stderr), vec![(first, first)], "{enrolled:?}");

    // A season of refunds later, the delta comes in JSON pages of 10,000.
    let head = append_revocations(&issuer, 35_000);
    let synced = gate.run(&["sync", "--progress", "always"]);
    assert_eq!(synced.code, 0, "{synced:?}\n{}", issuer.log());
    let lines = progress_lines(&synced.stderr);
    assert!(lines.len() >= 3, "one line per page of a 4-page download: {synced:?}");
    assert!(lines.iter().all(|&(_, total)| total == head), "{lines:?}");
    assert!(lines.windows(2).all(|w| w[0].0 < w[1].0), "counts grow: {lines:?}");
    assert!(lines[0].0 > first, "{lines:?}");
    assert_eq!(lines.last(), Some(&(head, head)), "the last line is the total");
    let status = gate.run(&["status"]);
    assert_eq!(status.only()["counts"]["revocation_seq"], head, "{status:?}");

    // Nothing new: nothing to report.
    let idle = gate.run(&["sync", "--progress", "always"]);
    assert_eq!(idle.code, 0, "{idle:?}");
    assert_eq!(progress_lines(&idle.stderr), vec![], "{idle:?}");

    // `never` keeps a download quiet; so does the default on a non-terminal.
    let head = append_revocations(&issuer, 25_000);
    let quiet = gate.run(&["sync", "--progress", "never"]);
    assert_eq!(quiet.code, 0, "{quiet:?}");
    assert!(!quiet.stderr.contains("revocations"), "{quiet:?}");
    let status = gate.run(&["status"]);
    assert_eq!(status.only()["counts"]["revocation_seq"], head, "{status:?}");
    append_revocations(&issuer, 15_000);
    let default = gate.run(&["sync"]);
    assert_eq!(default.code, 0, "{default:?}");
    assert!(!default.stderr.contains("revocations"), "{default:?}");
}
