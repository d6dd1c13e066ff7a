//! How verdicts are shown: one big coloured line for a steward, or one JSON object per line for
//! scripts (`--json`).
//!
//! The human line starts with a solid block reading `ADMIT` (green) or `REJECT` (red) so the two
//! cannot be confused at a glance even without colour, followed by the reason and ticket details.

use std::time::Duration;

use og_shared::UnixSeconds;

use crate::gate::Outcome;
use crate::i18n::text;
use crate::staff;

/// One verdict as printed with `--json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VerdictLine {
    /// `ADMIT` or `REJECT`.
    pub verdict: &'static str,
    /// The machine reason code (`admitted`, `already_used`, `revoked`, ...).
    pub reason: &'static str,
    /// The sentence shown to the steward, in the gate's language (scripts read `reason`).
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
    /// The large-type verdict for staff (`ADMIT 4 - Family`); not part of the JSON line.
    #[serde(skip)]
    pub headline: String,
    /// People this scan let in (the party count); not part of the JSON line.
    #[serde(skip)]
    pub party: u8,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

impl VerdictLine {
    /// The line for an outcome; `voice` says it in the gate's language with times in the venue's zone.
    pub fn new(o: &Outcome, source: Option<&str>, decode: Option<Duration>, voice: &staff::Voice) -> VerdictLine {
        VerdictLine {
            verdict: if o.verdict.lets_through() { "ADMIT" } else { "REJECT" },
            reason: o.verdict.code.as_str(),
            message: voice.reason(o),
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
            headline: voice.headline(o),
            party: o.verdict.party,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("verdict serialises")
    }

    /// The steward's line in `voice`'s language; `colour` adds ANSI colours.
    pub fn to_human(&self, colour: bool, voice: &staff::Voice) -> String {
        let admit = self.verdict == "ADMIT";
        let block = format!("  {} {}  ", if admit { "✔" } else { "✘" }, self.headline);
        let head = if colour {
            let bg = if admit { "\x1b[1;97;42m" } else { "\x1b[1;97;41m" };
            format!("{bg}{block}\x1b[0m")
        } else {
            format!("[{}]", block.trim())
        };
        let mut s = format!("{head} {}", self.message);
        if let (Some(serial), Some(offer)) = (self.ticket_serial, &self.offer) {
            let offer = voice.offer(og_shared::Offer::from_name(offer));
            let words = voice.t_args(
                "line-ticket",
                &[("serial", text(serial.to_string())), ("offer", text(offer))],
            );
            s.push_str(&format!("  · {words}"));
        }
        if self.offline {
            s.push_str(&format!("  · {}", voice.t("line-offline")));
        }
        if self.repeat {
            s.push_str(&format!("  · {}", voice.t("line-same-code")));
        }
        if self.conflict {
            s.push_str(&format!("  · {}", voice.t("line-conflict")));
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
                reason: "already used".into(),
                admitted_index: Some(2),
                admits: Some(2),
                first_use: Some(Passage {
                    at: 5,
                    gate: "north".into(),
                    direction: Direction::Entry,
                    generation: 0,
                }),
                record: None,
                party: 2,
                detail: crate::decide::Detail::None,
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
            &staff::Voice::default(),
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
        let v = staff::Voice::new(crate::i18n::Lang::new("en").unwrap(), staff::Clock::default());
        let rej = VerdictLine::new(&outcome(VerdictCode::AlreadyUsed), None, None, &v).to_human(false, &v);
        assert!(rej.starts_with("[✘ REJECT]"), "{rej}");
        // 5 s after the epoch is 01:00 in Paris.
        assert!(rej.contains("already used at 01:00 at north"), "{rej}");
        assert!(!rej.contains(" 5 "), "no Unix seconds for staff: {rej}");
        let adm = VerdictLine::new(&outcome(VerdictCode::Admitted), None, None, &v).to_human(true, &v);
        assert!(adm.contains("ADMIT 2 - Duo") && adm.contains("\x1b[1;97;42m"), "{adm}");
        assert!(adm.contains("Duo: all 2 people"), "{adm}");
    }

    #[test]
    fn a_french_gate_says_entree_or_refuse_with_the_reason_and_what_to_do() {
        let v = staff::Voice::default();
        let rej = VerdictLine::new(&outcome(VerdictCode::AlreadyUsed), None, None, &v).to_human(false, &v);
        assert!(
            rej.starts_with("[✘ REFUSÉ] déjà utilisé (1 h 00, porte north)"),
            "{rej}"
        );
        assert!(rej.contains("billet 1002 (Duo)") && rej.contains("hors ligne"), "{rej}");
        let adm = VerdictLine::new(&outcome(VerdictCode::Admitted), None, None, &v);
        assert_eq!(adm.headline, "ENTRÉE 2 - Duo");
        assert_eq!(adm.message, "Duo : les 2 personnes");
        let stale = VerdictLine::new(&outcome(VerdictCode::StaleCode), None, None, &v);
        assert_eq!(stale.message, "code photographié : ouvrez le billet sur le téléphone");
        let json: serde_json::Value = serde_json::from_str(&stale.to_json()).unwrap();
        assert_eq!(
            (json["verdict"].as_str(), json["reason"].as_str()),
            (Some("REJECT"), Some("stale_code")),
            "scripts read the same codes in every language"
        );
    }
}
