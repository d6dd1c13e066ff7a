//! How verdicts are shown: one big coloured line for a steward, or one JSON object per line for
//! scripts (`--json`).
//!
//! The human line starts with a solid block reading `ADMIT` (green) or `REJECT` (red) so the two
//! cannot be confused at a glance even without colour, followed by the reason and ticket details.

use std::time::Duration;

use og_shared::UnixSeconds;

use crate::gate::Outcome;

/// One verdict as printed with `--json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VerdictLine {
    /// `ADMIT` or `REJECT`.
    pub verdict: &'static str,
    /// The machine reason code (`admitted`, `already_used`, `revoked`, ...).
    pub reason: &'static str,
    /// The sentence shown to the steward.
    pub message: String,
    pub event_id: Option<u32>,
    pub ticket_serial: Option<u32>,
    pub offer: Option<String>,
    /// k of N for Duo/Family.
    pub admitted: Option<u8>,
    pub admits: Option<u8>,
    pub first_admitted_at: Option<UnixSeconds>,
    pub first_admitted_gate: Option<String>,
    pub scan_id: Option<String>,
    pub scanned_at: UnixSeconds,
    pub offline: bool,
    /// Same code as the previous frame: nothing new recorded.
    pub repeat: bool,
    /// The issuer flagged this ticket: admitted more often than it admits, across gates.
    pub conflict: bool,
    pub source: Option<String>,
    pub decode_ms: Option<f64>,
    pub decide_ms: f64,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

impl VerdictLine {
    pub fn new(o: &Outcome, source: Option<&str>, decode: Option<Duration>) -> VerdictLine {
        VerdictLine {
            verdict: if o.verdict.lets_through() { "ADMIT" } else { "REJECT" },
            reason: o.verdict.code.as_str(),
            message: o.verdict.reason.clone(),
            event_id: o.event_id,
            ticket_serial: o.serial,
            offer: o.offer.map(|x| x.name().to_owned()),
            admitted: o.verdict.admitted_index,
            admits: o.verdict.admits,
            first_admitted_at: o.verdict.first_use.as_ref().map(|p| p.at),
            first_admitted_gate: o.verdict.first_use.as_ref().map(|p| p.gate.clone()),
            scan_id: o.scan_id.clone(),
            scanned_at: o.scanned_at,
            offline: o.offline,
            repeat: o.repeat,
            conflict: o.conflict,
            source: source.map(str::to_owned),
            decode_ms: decode.map(ms),
            decide_ms: ms(o.decide_time),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("verdict serialises")
    }

    /// The steward's line; `colour` adds ANSI colours.
    pub fn to_human(&self, colour: bool) -> String {
        let admit = self.verdict == "ADMIT";
        let block = if admit { "  ✔ ADMIT   " } else { "  ✘ REJECT  " };
        let head = if colour {
            let bg = if admit { "\x1b[1;97;42m" } else { "\x1b[1;97;41m" };
            format!("{bg}{block}\x1b[0m")
        } else {
            format!("[{}]", block.trim())
        };
        let mut s = format!("{head} {}", self.message);
        if let (Some(serial), Some(offer)) = (self.ticket_serial, &self.offer) {
            s.push_str(&format!("  · ticket {serial} ({offer})"));
        }
        if self.offline {
            s.push_str("  · offline");
        }
        if self.repeat {
            s.push_str("  · same code again");
        }
        if self.conflict {
            s.push_str("  · CONFLICT: used at several gates, call a supervisor");
        }
        if let Some(src) = &self.source {
            s.push_str(&format!("  · {src}"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::{Passage, Verdict};
    use og_shared::sync::{Direction, VerdictCode};

    fn outcome(code: VerdictCode) -> Outcome {
        Outcome {
            verdict: Verdict {
                code,
                reason: "already used: first admitted at 5 by gate north".into(),
                admitted_index: None,
                admits: Some(2),
                first_use: Some(Passage {
                    at: 5,
                    gate: "north".into(),
                    direction: Direction::Entry,
                    generation: 0,
                }),
                record: None,
            },
            scan_id: Some("abc".into()),
            event_id: Some(1),
            serial: Some(1002),
            offer: Some(og_shared::Offer::Duo),
            scanned_at: 10,
            offline: true,
            repeat: false,
            conflict: false,
            decide_time: Duration::from_micros(120),
        }
    }

    #[test]
    fn the_json_line_carries_first_use_scan_id_and_timings() {
        let line = VerdictLine::new(
            &outcome(VerdictCode::AlreadyUsed),
            Some("f.png"),
            Some(Duration::from_millis(3)),
        );
        let v: serde_json::Value = serde_json::from_str(&line.to_json()).unwrap();
        assert_eq!(v["verdict"], "REJECT");
        assert_eq!(v["reason"], "already_used");
        assert_eq!(v["first_admitted_gate"], "north");
        assert_eq!(v["first_admitted_at"], 5);
        assert_eq!(v["ticket_serial"], 1002);
        assert_eq!(v["offer"], "duo");
        assert_eq!(v["scan_id"], "abc");
        assert_eq!(v["offline"], true);
        assert_eq!(v["decode_ms"], 3.0);
    }

    #[test]
    fn the_human_line_says_admit_or_reject_in_words_even_without_colour() {
        let rej = VerdictLine::new(&outcome(VerdictCode::AlreadyUsed), None, None).to_human(false);
        assert!(rej.starts_with("[✘ REJECT]"), "{rej}");
        let adm = VerdictLine::new(&outcome(VerdictCode::Admitted), None, None).to_human(true);
        assert!(adm.contains("ADMIT") && adm.contains("\x1b[1;97;42m"), "{adm}");
    }
}
