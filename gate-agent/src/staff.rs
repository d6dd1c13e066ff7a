//! Every word the gate shows its staff: the verdict line, the kiosk page and `status` for
//! humans, in the gate's language ([`crate::i18n`]: the words themselves are in
//! `gate-agent/locales/<lang>/gate.ftl`; this module only chooses which and fills them in).
//!
//! Times shown to staff are local wall-clock times in the venue's time zone (an IANA name,
//! [`DEFAULT_TIME_ZONE`] unless the gate was given another with `--time-zone`), read from the
//! IANA database bundled in the binary (jiff), never Unix seconds, with day and month names
//! from the language file ("sam. 3 août, 20 h 30"). JSON output (`--json`) keeps Unix seconds
//! and machine codes: it is for scripts.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use og_shared::sync::VerdictCode;
use og_shared::{Offer, UnixSeconds};

use crate::decide::{Detail, RevokedBy};
use crate::gate::Outcome;
use crate::i18n::{Arg, Lang, num, text};

/// The venue's zone when the gate was given none (one value with the issuer's).
pub use og_shared::DEFAULT_TIME_ZONE;

/// Local wall-clock time in the venue's zone.
#[derive(Debug, Clone)]
pub struct Clock {
    tz: TimeZone,
    name: String,
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::new(DEFAULT_TIME_ZONE).expect("the bundled database has the default zone")
    }
}

impl Clock {
    /// The clock of an IANA zone (`Europe/Paris`), or a sentence saying the name is unknown.
    pub fn new(name: &str) -> Result<Clock, String> {
        TimeZone::get(name)
            .map(|tz| Clock {
                tz,
                name: name.to_owned(),
            })
            .map_err(|_| format!("unknown time zone {name:?}: give an IANA zone name such as Europe/Paris"))
    }

    /// The zone's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn local(&self, t: UnixSeconds) -> Option<jiff::ZonedDateTime> {
        Timestamp::from_second(t)
            .ok()
            .map(|ts| ts.to_zoned_datetime(self.tz.clone()))
    }

    /// Midnight of `now`'s local day (for "today" counts).
    pub fn start_of_day(&self, now: UnixSeconds) -> UnixSeconds {
        self.local(now)
            .and_then(|z| z.start_of_day().ok())
            .map_or(now - now.rem_euclid(86_400), |z| z.timestamp().as_second())
    }
}

/// How the gate speaks to its staff: its language and the venue's clock.
#[derive(Debug, Clone, Default)]
pub struct Voice {
    pub lang: Lang,
    pub clock: Clock,
}

impl Voice {
    pub fn new(lang: Lang, clock: Clock) -> Voice {
        Voice { lang, clock }
    }

    /// A message with no argument.
    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    /// A message with arguments.
    pub fn t_args(&self, key: &str, args: &[(&'static str, Arg)]) -> String {
        self.lang.t_args(key, args)
    }

    /// `20:41` / `20 h 41` when `t` is on the same local day as `now`, else `Sat 28 Nov 20:41` /
    /// `sam. 28 nov., 20 h 41`.
    pub fn when(&self, t: UnixSeconds, now: UnixSeconds) -> String {
        let Some(z) = self.clock.local(t) else {
            return "?".to_owned();
        };
        let time = self.t_args(
            "time-of-day",
            &[
                ("hh", text(format!("{:02}", z.hour()))),
                ("h", text(z.hour().to_string())),
                ("mm", text(format!("{:02}", z.minute()))),
            ],
        );
        if self.clock.local(now).is_some_and(|n| n.date() == z.date()) {
            return time;
        }
        self.t_args(
            "date-and-time",
            &[
                (
                    "weekday",
                    text(self.t(&format!("weekday-{}", z.weekday().to_monday_one_offset()))),
                ),
                ("day", text(z.day().to_string())),
                ("month", text(self.t(&format!("month-{}", z.month())))),
                ("time", text(time)),
            ],
        )
    }

    /// A duration in words: `45 s`, `12 min`, `3 h 05 min`, `2 days` / `2 jours`.
    pub fn duration(&self, secs: i64) -> String {
        let s = secs.unsigned_abs();
        let n = |v: u64| num(i64::try_from(v).unwrap_or(i64::MAX));
        match s {
            0..60 => self.t_args("duration-seconds", &[("n", n(s))]),
            60..3600 => self.t_args("duration-minutes", &[("n", n(s / 60))]),
            3600..172_800 => self.t_args(
                "duration-hours",
                &[("h", n(s / 3600)), ("mm", text(format!("{:02}", s % 3600 / 60)))],
            ),
            _ => self.t_args("duration-days", &[("n", n(s / 86_400))]),
        }
    }

    /// An offer's name: `Duo`, `Family` / `Famille`.
    pub fn offer(&self, offer: Option<Offer>) -> String {
        self.t(match offer {
            Some(Offer::Solo) => "offer-solo",
            Some(Offer::Duo) => "offer-duo",
            Some(Offer::Family) => "offer-family",
            None => "offer-unknown",
        })
    }

    /// The large-type verdict: `ADMIT`, `ADMIT 4 - Family`, `ADMIT - person 2 of 4`, `EXIT`,
    /// `REJECT` (`ENTRÉE`, `ENTRÉE 4 - Famille`, `SORTIE`, `REFUSÉ`).
    pub fn headline(&self, o: &Outcome) -> String {
        let v = &o.verdict;
        match v.code {
            VerdictCode::Admitted => match (v.party, v.admits, v.admitted_index) {
                (p, _, _) if p > 1 => self.t_args(
                    "headline-admit-party",
                    &[("people", num(p)), ("offer", text(self.offer(o.offer)))],
                ),
                (_, Some(n), Some(k)) if n > 1 => self.t_args("headline-admit-person", &[("k", num(k)), ("n", num(n))]),
                _ => self.t("headline-admit"),
            },
            VerdictCode::Exited => self.t("headline-exit"),
            _ => self.t("headline-reject"),
        }
    }

    /// The reason in one short line, with local times, saying what to do when staff can act.
    pub fn reason(&self, o: &Outcome) -> String {
        let v = &o.verdict;
        let key = match v.code {
            VerdictCode::Admitted => {
                let offer = ("offer", text(self.offer(o.offer)));
                let n = v.admits.unwrap_or(1);
                let k = v.admitted_index.unwrap_or(1);
                return match v.party {
                    p if p > 1 && p == n => self.t_args("admit-all", &[offer, ("n", num(n))]),
                    p if p > 1 => self.t_args(
                        "admit-some",
                        &[offer, ("people", num(p)), ("inside", num(n - p)), ("n", num(n))],
                    ),
                    _ if n > 1 => self.t_args("admit-person", &[offer, ("k", num(k)), ("n", num(n))]),
                    _ => self.t_args("admit-one", &[offer]),
                };
            }
            VerdictCode::AlreadyUsed => {
                return match &v.first_use {
                    Some(p) => self.t_args(
                        "reason-already-used-at",
                        &[
                            ("when", text(self.when(p.at, o.scanned_at))),
                            ("gate", text(p.gate.clone())),
                        ],
                    ),
                    None => self.t("reason-already-used"),
                };
            }
            VerdictCode::WrongEvent => {
                let event = o.event_id.map_or_else(|| "?".to_owned(), |e| e.to_string());
                return self.t_args("reason-wrong-event", &[("event", text(event))]);
            }
            VerdictCode::WrongZone => match v.detail {
                Detail::WrongZone(z) => return self.t_args("reason-wrong-zone", &[("zone", num(z))]),
                _ => "reason-wrong-zone-any",
            },
            VerdictCode::Revoked => match v.detail {
                Detail::Revoked(RevokedBy::Ticket) => "reason-revoked-ticket",
                Detail::Revoked(RevokedBy::Purchase) => "reason-revoked-purchase",
                Detail::Revoked(RevokedBy::Account) => "reason-revoked-account",
                Detail::Revoked(RevokedBy::Superseded) => "reason-revoked-superseded",
                Detail::Revoked(RevokedBy::DeviceKey) => "reason-revoked-device-key",
                _ => "reason-revoked",
            },
            VerdictCode::Exited => "reason-exit",
            VerdictCode::NotYetValid => "reason-not-yet-valid",
            VerdictCode::Expired => "reason-expired",
            VerdictCode::DataTooOld => "reason-data-too-old",
            VerdictCode::NotProvisioned => "reason-not-provisioned",
            VerdictCode::UnknownKey | VerdictCode::KeyNotValid | VerdictCode::BadSignature => "reason-not-genuine",
            VerdictCode::UnsupportedVersion => "reason-unsupported-version",
            VerdictCode::NotATicket => "reason-not-a-ticket",
            VerdictCode::StaleCode => "reason-stale-code",
            VerdictCode::CodeFromFuture => "reason-code-from-future",
            VerdictCode::BadDeviceSignature => "reason-bad-device-signature",
            VerdictCode::PhoneCodeRequired => "reason-phone-required",
            // A code added to the shared crate later: still a refusal, said plainly.
            _ => "reason-refused",
        };
        self.t(key)
    }

    /// `this gate is 5 min behind the issuer` / `... ahead of ...`.
    fn clock_words(&self, offset: i64) -> String {
        let d = ("duration", text(self.duration(offset)));
        match offset {
            0 => self.t("clock-matches"),
            o if o > 0 => self.t_args("clock-behind", &[d]),
            _ => self.t_args("clock-ahead", &[d]),
        }
    }
}

/// Why the data or the clock cannot be trusted, if so (the kiosk's red banner, `status`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// Seconds since the revocation data was last current (None: never).
    pub data_age: Option<i64>,
    /// Data older than this is too old (the policy's limit, else [`DATA_AGE_WARNING`]).
    pub max_data_age: i64,
    /// Issuer clock minus this gate's clock at the last sync, seconds (None: never synced).
    pub clock_offset: Option<i64>,
    /// Offsets beyond this (the policy's clock-skew tolerance) are "clock off".
    pub max_clock_offset: i64,
    /// Why the gate refused the issuer's last answer (a rollback, an unsigned or forged answer),
    /// if it did: staff must tell an operator.
    pub sync_refused: Option<String>,
}

/// Clock offsets from the issuer beyond this many seconds get the banner: the policy's clock-skew
/// tolerance for tickets' validity windows, but at most half the rotating-code tolerance, so staff
/// hear of a drifting clock before phones' live codes start being refused.
pub fn clock_warning_threshold(policy: &crate::decide::GatePolicy) -> i64 {
    policy.clock_skew.min((policy.tolerance / 2).max(1))
}

/// Data older than this gets a warning when the gate's policy sets no limit.
pub const DATA_AGE_WARNING: i64 = 2 * 3600;

impl Health {
    /// The red banner's text, or None when all is well.
    pub fn banner(&self, v: &Voice) -> Option<String> {
        let mut parts = Vec::new();
        match self.data_age {
            None => parts.push(v.t("banner-never-updated")),
            Some(a) if a > self.max_data_age => {
                parts.push(v.t_args("banner-too-old", &[("age", text(v.duration(a).to_uppercase()))]))
            }
            _ => {}
        }
        if let Some(off) = self.clock_offset.filter(|o| o.abs() > self.max_clock_offset) {
            parts.push(v.t_args(
                "banner-clock-off",
                &[
                    ("offset", text(v.duration(off).to_uppercase())),
                    ("words", text(v.clock_words(off))),
                ],
            ));
        }
        if let Some(why) = &self.sync_refused {
            parts.push(v.t_args("banner-sync-refused", &[("why", text(why.clone()))]));
        }
        (!parts.is_empty()).then(|| parts.join(" - "))
    }
}

/// Everything `status` says, gathered by the command.
#[derive(Debug, Clone, Default)]
pub struct StatusFacts {
    pub provisioned: bool,
    pub gate: Option<String>,
    pub device_id: Option<String>,
    pub deployment: Option<String>,
    pub zone: Option<u8>,
    pub issuer: Option<String>,
    pub enrolled_online: bool,
    pub device_revoked: bool,
    pub party_one_per_scan: bool,
    pub data_as_of: Option<UnixSeconds>,
    pub last_sync_ok: Option<UnixSeconds>,
    pub last_sync_error: Option<String>,
    pub health: Health,
    /// Freshness tolerance of phones' rotating codes, seconds.
    pub tolerance: i64,
    pub queued: u64,
    pub held: u64,
    pub refused: u64,
    pub admitted_today: u64,
    pub admitted_all_time: u64,
    pub other_gates: u64,
    pub keys: u64,
    pub events: u64,
    pub revocations: u64,
    pub revocation_seq: u64,
    /// (ticket serial, event, times admitted, times allowed, gates).
    pub conflicts: Vec<(u32, u32, u32, u32, Vec<String>)>,
}

fn count(n: u64) -> Arg {
    num(i64::try_from(n).unwrap_or(i64::MAX))
}

/// `status` for humans: plain sentences, local times, no JSON quoting and no `null`.
pub fn status_text(f: &StatusFacts, v: &Voice, now: UnixSeconds) -> String {
    let mut out = Vec::new();
    if !f.provisioned {
        out.push(v.t("status-not-set-up"));
        return out.join("\n") + "\n";
    }
    let gate = f.gate.as_deref().unwrap_or("gate");
    let mut head = v.t_args("status-gate", &[("gate", text(gate))]);
    if let Some(d) = f.device_id.as_deref().filter(|d| !d.is_empty()) {
        head.push_str(&v.t_args("status-device", &[("device", text(d))]));
    }
    if let Some(dep) = &f.deployment {
        head.push_str(&v.t_args("status-deployment", &[("deployment", text(dep.clone()))]));
    }
    out.push(head);
    let zone = match f.zone {
        Some(z) => v.t_args("status-zone-only", &[("zone", num(z))]),
        None => v.t("status-every-zone"),
    };
    let party = v.t(if f.party_one_per_scan {
        "status-party-one-per-scan"
    } else {
        "status-party-whole"
    });
    out.push(v.t_args(
        "status-settings",
        &[
            ("zone", text(zone)),
            ("party", text(party)),
            ("tz", text(v.clock.name())),
        ],
    ));
    out.push(match (&f.issuer, f.enrolled_online) {
        (Some(u), true) => v.t_args("status-issuer", &[("url", text(u.clone()))]),
        (Some(u), false) => v.t_args("status-issuer-no-credential", &[("url", text(u.clone()))]),
        (None, _) => v.t("status-issuer-none"),
    });
    if f.device_revoked {
        out.push(v.t("status-device-revoked"));
    }
    out.push(match f.data_as_of {
        Some(t) => v.t_args(
            "status-data",
            &[
                ("when", text(v.when(t, now))),
                ("ago", text(v.duration(now - t))),
                ("seq", text(f.revocation_seq.to_string())),
            ],
        ),
        None => v.t("status-data-never"),
    });
    let tolerance = ("tolerance", text(v.duration(f.tolerance)));
    out.push(match f.health.clock_offset {
        Some(o) => v.t_args("status-clock", &[("words", text(v.clock_words(o))), tolerance]),
        None => v.t_args("status-clock-never", &[tolerance]),
    });
    out.push(match f.last_sync_ok {
        Some(t) => v.t_args(
            "status-last-sync",
            &[("when", text(v.when(t, now))), ("ago", text(v.duration(now - t)))],
        ),
        None => v.t("status-last-sync-never"),
    });
    out.push(match (&f.last_sync_error, &f.issuer) {
        (Some(e), Some(u)) => v.t_args(
            "status-sync-error-issuer",
            &[("url", text(u.clone())), ("error", text(e.clone()))],
        ),
        (Some(e), None) => v.t_args("status-sync-error", &[("error", text(e.clone()))]),
        (None, _) => v.t("status-sync-error-none"),
    });
    out.push(if f.held > 0 || f.refused > 0 {
        v.t_args(
            "status-queue-held",
            &[
                ("n", count(f.queued)),
                ("held", count(f.held)),
                ("refused", count(f.refused)),
            ],
        )
    } else {
        v.t_args("status-queue", &[("n", count(f.queued))])
    });
    out.push(v.t_args(
        "status-admitted",
        &[
            ("today", count(f.admitted_today)),
            ("all", count(f.admitted_all_time)),
            ("other", count(f.other_gates)),
        ],
    ));
    out.push(v.t_args(
        "status-data-held",
        &[
            ("keys", count(f.keys)),
            ("events", count(f.events)),
            ("revocations", count(f.revocations)),
        ],
    ));
    if let Some(b) = f.health.banner(v) {
        out.push(v.t_args("status-warning", &[("banner", text(b))]));
    }
    for (serial, event, admitted, allowed, gates) in &f.conflicts {
        out.push(v.t_args(
            "status-conflict",
            &[
                ("serial", text(serial.to_string())),
                ("event", text(event.to_string())),
                ("admitted", num(*admitted)),
                ("allowed", num(*allowed)),
                ("gates", text(gates.join(", "))),
            ],
        ));
    }
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-07-26 18:00:00 UTC = 20:00 in Paris (summer time).
    const T: i64 = 1_785_088_800;

    fn en() -> Voice {
        Voice::new(Lang::new("en").unwrap(), Clock::default())
    }

    fn fr() -> Voice {
        Voice::new(Lang::new("fr").unwrap(), Clock::default())
    }

    #[test]
    fn times_are_local_wall_clock_in_the_venue_zone() {
        let paris = en();
        assert_eq!(paris.when(T + 41 * 60, T), "20:41");
        let new_york = Voice::new(Lang::new("en").unwrap(), Clock::new("America/New_York").unwrap());
        assert_eq!(new_york.when(T, T), "14:00");
        assert_eq!(paris.when(T - 86_400, T), "Sat 25 Jul 20:00");
        assert!(Clock::new("Mars/Olympus").unwrap_err().contains("IANA"));
        assert_eq!(paris.clock.start_of_day(T), T - 20 * 3600);
    }

    #[test]
    fn a_french_gate_says_local_times_the_french_way() {
        let paris = fr();
        assert_eq!(paris.when(T + 41 * 60, T), "20 h 41");
        assert_eq!(
            paris.when(T + 9 * 3600 + 5 * 60, T + 12 * 3600),
            "5 h 05",
            "next day, 05:05"
        );
        // 2024-08-03 18:30 UTC: Saturday 3 August, 20:30 in Paris.
        assert_eq!(paris.when(1_722_709_800, T), "sam. 3 août, 20 h 30");
        assert_eq!(paris.duration(5 * 86_400), "5 jours");
    }

    #[test]
    fn durations_read_as_words() {
        let v = en();
        assert_eq!(v.duration(45), "45 s");
        assert_eq!(v.duration(-720), "12 min");
        assert_eq!(v.duration(3 * 3600 + 5 * 60), "3 h 05 min");
        assert_eq!(v.duration(5 * 86_400), "5 days");
    }

    #[test]
    fn a_gate_clock_drifting_past_half_the_phone_code_tolerance_is_reported_to_staff() {
        let policy = crate::decide::GatePolicy::default();
        assert_eq!(clock_warning_threshold(&policy), 15, "30 s tolerance: warn beyond 15 s");
        let health = |offset| Health {
            data_age: Some(60),
            max_data_age: 3600,
            clock_offset: Some(offset),
            max_clock_offset: clock_warning_threshold(&policy),
            sync_refused: None,
        };
        assert_eq!(health(15).banner(&en()), None);
        let b = health(-20).banner(&en()).unwrap();
        assert!(b.contains("CLOCK OFF BY 20 S"), "{b}");
        let lenient = crate::decide::GatePolicy {
            tolerance: 3600,
            ..policy
        };
        assert_eq!(
            clock_warning_threshold(&lenient),
            300,
            "never above the ticket clock skew"
        );
    }

    #[test]
    fn the_banner_warns_of_old_data_and_an_off_clock_and_is_quiet_otherwise() {
        let ok = Health {
            data_age: Some(60),
            max_data_age: 3600,
            clock_offset: Some(2),
            max_clock_offset: 300,
            sync_refused: None,
        };
        assert_eq!(ok.banner(&en()), None);
        let old = Health {
            data_age: Some(3 * 3600),
            ..ok.clone()
        };
        assert!(old.banner(&en()).unwrap().contains("TICKET LIST 3 H 00 MIN OLD"));
        let skewed = Health {
            clock_offset: Some(-900),
            ..ok.clone()
        };
        let b = skewed.banner(&en()).unwrap();
        assert!(b.contains("CLOCK OFF BY 15 MIN") && b.contains("ahead"), "{b}");
        let lied_to = Health {
            sync_refused: Some("the issuer's log went backwards (rollback)".into()),
            ..ok
        };
        let b = lied_to.banner(&en()).unwrap();
        assert!(b.contains("ISSUER DATA REFUSED") && b.contains("rollback"), "{b}");
        let b = lied_to.banner(&fr()).unwrap();
        assert!(
            b.contains("DONNÉES DE L'ÉMETTEUR REFUSÉES") && b.contains("rollback"),
            "{b}"
        );
        assert!(skewed.banner(&fr()).unwrap().contains("HORLOGE DÉCALÉE DE 15 MIN"));
    }
}
