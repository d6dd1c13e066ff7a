//! Every word the gate shows its staff: the verdict line, the kiosk page and `status` for
//! humans. One module, so that a translation replaces these functions and nothing else.
//!
//! Times shown to staff are local wall-clock times in the venue's time zone (an IANA name,
//! [`DEFAULT_TIME_ZONE`] unless the gate was given another with `--time-zone`), read from the
//! IANA database bundled in the binary (jiff), never Unix seconds. JSON output (`--json`) keeps
//! Unix seconds: it is for scripts.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use og_shared::UnixSeconds;
use og_shared::sync::VerdictCode;

use crate::gate::Outcome;

/// The venue's zone when the gate was given none.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Paris";

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

    fn format(&self, t: UnixSeconds, pattern: &str) -> String {
        match Timestamp::from_second(t) {
            Ok(ts) => ts.to_zoned_datetime(self.tz.clone()).strftime(pattern).to_string(),
            Err(_) => "an invalid time".to_owned(),
        }
    }

    /// `20:41` when `t` is on the same local day as `now`, else `Sat 28 Nov 20:41`.
    pub fn when(&self, t: UnixSeconds, now: UnixSeconds) -> String {
        if self.format(t, "%Y-%m-%d") == self.format(now, "%Y-%m-%d") {
            self.format(t, "%H:%M")
        } else {
            self.format(t, "%a %-d %b %H:%M")
        }
    }

    /// Midnight of `now`'s local day (for "today" counts).
    pub fn start_of_day(&self, now: UnixSeconds) -> UnixSeconds {
        Timestamp::from_second(now)
            .ok()
            .and_then(|ts| ts.to_zoned_datetime(self.tz.clone()).start_of_day().ok())
            .map_or(now - now.rem_euclid(86_400), |z| z.timestamp().as_second())
    }
}

/// A duration in words: `45 s`, `12 min`, `3 h 05 min`, `2 days`.
pub fn duration(secs: i64) -> String {
    let s = secs.unsigned_abs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..172_800 => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
        _ => format!("{} days", s / 86_400),
    }
}

/// Said of a rotating code older than the tolerance: a screenshot, a photo, a print.
pub const PICTURE: &str = "code is a picture: open the ticket on the phone";
/// Said of a static code where the event requires the live code on the phone.
pub const PHONE_REQUIRED: &str = "this event needs the ticket open on the phone";

/// Said of a repeat: the same code again within the suppression window (nothing new recorded).
pub const SAME_CODE: &str = "same code, already counted";

/// The large-type verdict: `ADMIT`, `ADMIT 4 - Family`, `ADMIT - person 2 of 4`, `EXIT`, `REJECT`.
pub fn headline(o: &Outcome) -> String {
    let v = &o.verdict;
    match v.code {
        VerdictCode::Admitted => {
            let offer = o.offer.map(|x| x.to_string()).unwrap_or_default();
            match (v.party, v.admits, v.admitted_index) {
                (p, _, _) if p > 1 => format!("ADMIT {p} - {offer}"),
                (_, Some(n), Some(k)) if n > 1 => format!("ADMIT - person {k} of {n}"),
                _ => "ADMIT".to_owned(),
            }
        }
        VerdictCode::Exited => "EXIT".to_owned(),
        _ => "REJECT".to_owned(),
    }
}

/// The reason in one short line, with local times.
pub fn reason(o: &Outcome, clock: &Clock) -> String {
    let v = &o.verdict;
    match v.code {
        VerdictCode::Admitted => {
            let offer = o.offer.map(|x| x.to_string()).unwrap_or_else(|| "ticket".into());
            let n = v.admits.unwrap_or(1);
            let k = v.admitted_index.unwrap_or(1);
            match v.party {
                p if p > 1 && p == n => format!("{offer}: all {n} people"),
                p if p > 1 => format!("{offer}: {p} people ({} of {n} already in)", n - p),
                _ if n > 1 => format!("{offer}: person {k} of {n}"),
                _ => format!("{offer}: 1 person"),
            }
        }
        VerdictCode::AlreadyUsed => match &v.first_use {
            Some(p) => format!("already used at {} at {}", clock.when(p.at, o.scanned_at), p.gate),
            None => "already used".to_owned(),
        },
        VerdictCode::Exited => "exit recorded".to_owned(),
        VerdictCode::NotYetValid => "ticket not valid yet".to_owned(),
        VerdictCode::Expired => "ticket expired".to_owned(),
        VerdictCode::DataTooOld => "ticket list too old: connect the gate or import a fresh bundle".to_owned(),
        VerdictCode::NotProvisioned => "gate not set up: enrol it or import a bundle".to_owned(),
        VerdictCode::UnknownKey | VerdictCode::KeyNotValid | VerdictCode::BadSignature => {
            "not a genuine ticket (signature not accepted)".to_owned()
        }
        VerdictCode::UnsupportedVersion => "ticket from a newer system: update this gate".to_owned(),
        VerdictCode::NotATicket => "not a ticket code".to_owned(),
        VerdictCode::StaleCode => PICTURE.to_owned(),
        VerdictCode::CodeFromFuture => {
            "phone clock is wrong: set the phone to automatic time, then show the ticket again".to_owned()
        }
        VerdictCode::BadDeviceSignature => {
            "code not made by the phone this ticket is on: open it on that phone".to_owned()
        }
        VerdictCode::PhoneCodeRequired => PHONE_REQUIRED.to_owned(),
        // Revocations (which kind), wrong event or zone: the decision's own words.
        _ => v.reason.clone(),
    }
}

/// What the kiosk shows while no ticket was scanned yet.
pub const READY: &str = "READY";
pub const WAITING: &str = "waiting for the first ticket";

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
    pub fn banner(&self) -> Option<String> {
        let mut parts = Vec::new();
        match self.data_age {
            None => parts.push("TICKET LIST NEVER UPDATED: connect the gate or import a bundle".to_owned()),
            Some(a) if a > self.max_data_age => parts.push(format!(
                "TICKET LIST {} OLD: connect the gate or import a fresh bundle",
                duration(a).to_uppercase()
            )),
            _ => {}
        }
        if let Some(off) = self.clock_offset.filter(|o| o.abs() > self.max_clock_offset) {
            parts.push(format!(
                "CLOCK OFF BY {}: {}",
                duration(off).to_uppercase(),
                clock_words(off)
            ));
        }
        if let Some(why) = &self.sync_refused {
            parts.push(format!("ISSUER DATA REFUSED, TELL AN OPERATOR: {why}"));
        }
        (!parts.is_empty()).then(|| parts.join(" - "))
    }
}

/// `this gate is 5 min behind the issuer` / `... ahead of ...`.
fn clock_words(offset: i64) -> String {
    match offset {
        0 => "this gate's clock matches the issuer's".to_owned(),
        o if o > 0 => format!("this gate is {} behind the issuer", duration(o)),
        o => format!("this gate is {} ahead of the issuer", duration(o)),
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

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `status` for humans: plain sentences, local times, no JSON quoting and no `null`.
pub fn status_text(f: &StatusFacts, clock: &Clock, now: UnixSeconds) -> String {
    let mut out = Vec::new();
    if !f.provisioned {
        out.push("This gate is not set up: enrol it (`gate-agent enroll`) or import a bundle.".to_owned());
        return out.join("\n") + "\n";
    }
    let gate = f.gate.as_deref().unwrap_or("gate");
    let mut head = format!("Gate {gate}");
    if let Some(d) = f.device_id.as_deref().filter(|d| !d.is_empty()) {
        head.push_str(&format!(", device {d}"));
    }
    if let Some(dep) = &f.deployment {
        head.push_str(&format!(", deployment {dep}"));
    }
    out.push(head);
    out.push(format!(
        "Zone: {}. Party tickets: {}. Times in {}.",
        f.zone.map_or("every zone".to_owned(), |z| format!("zone {z} only")),
        if f.party_one_per_scan {
            "one person per scan"
        } else {
            "one scan admits the whole party"
        },
        clock.name()
    ));
    out.push(match (&f.issuer, f.enrolled_online) {
        (Some(u), true) => format!("Issuer: {u}"),
        (Some(u), false) => format!("Issuer: {u} (no device credential: enrol again to sync)"),
        (None, _) => "Issuer: none (set up from a bundle; updates come by importing bundles)".to_owned(),
    });
    if f.device_revoked {
        out.push("DEVICE REVOKED BY THE ISSUER: enrol this gate again.".to_owned());
    }
    out.push(match f.data_as_of {
        Some(t) => format!(
            "Ticket data: current as of {} ({} ago), revocations up to number {}.",
            clock.when(t, now),
            duration(now - t),
            f.revocation_seq
        ),
        None => "Ticket data: never updated.".to_owned(),
    });
    out.push(match f.health.clock_offset {
        Some(o) => format!(
            "Clock: {} (at the last sync); phone codes must be within {} of it.",
            clock_words(o),
            duration(f.tolerance)
        ),
        None => format!(
            "Clock: not compared with the issuer yet; phone codes must be within {} of it.",
            duration(f.tolerance)
        ),
    });
    out.push(match f.last_sync_ok {
        Some(t) => format!("Last sync: {} ({} ago).", clock.when(t, now), duration(now - t)),
        None => "Last sync: never.".to_owned(),
    });
    out.push(match (&f.last_sync_error, &f.issuer) {
        (Some(e), Some(u)) => format!("Last sync error: {u}: {e}"),
        (Some(e), None) => format!("Last sync error: {e}"),
        (None, _) => "Last sync error: none.".to_owned(),
    });
    let mut queue = format!("Queue: {} waiting to be sent", plural(f.queued, "report", "reports"));
    if f.held > 0 || f.refused > 0 {
        queue.push_str(&format!(" ({} held, {} refused by the issuer)", f.held, f.refused));
    }
    out.push(queue + ".");
    out.push(format!(
        "Admitted today: {} ({} in all, {} at other gates).",
        plural(f.admitted_today, "person", "people"),
        f.admitted_all_time,
        f.other_gates
    ));
    out.push(format!(
        "Data held: {}, {}, {}.",
        plural(f.keys, "key", "keys"),
        plural(f.events, "event", "events"),
        plural(f.revocations, "revocation", "revocations")
    ));
    if let Some(b) = f.health.banner() {
        out.push(format!("WARNING: {b}"));
    }
    for (serial, event, admitted, allowed, gates) in &f.conflicts {
        out.push(format!(
            "CONFLICT: ticket {serial} of event {event} admitted {admitted} times (it admits {allowed}) at {}: call a supervisor.",
            gates.join(", ")
        ));
    }
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-07-26 18:00:00 UTC = 20:00 in Paris (summer time).
    const T: i64 = 1_785_088_800;

    #[test]
    fn times_are_local_wall_clock_in_the_venue_zone() {
        let paris = Clock::default();
        assert_eq!(paris.when(T + 41 * 60, T), "20:41");
        assert_eq!(Clock::new("America/New_York").unwrap().when(T, T), "14:00");
        assert_eq!(paris.when(T - 86_400, T), "Sat 25 Jul 20:00");
        assert!(Clock::new("Mars/Olympus").unwrap_err().contains("IANA"));
        assert_eq!(paris.start_of_day(T), T - 20 * 3600);
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(-720), "12 min");
        assert_eq!(duration(3 * 3600 + 5 * 60), "3 h 05 min");
        assert_eq!(duration(5 * 86_400), "5 days");
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
        assert_eq!(health(15).banner(), None);
        let b = health(-20).banner().unwrap();
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
        assert_eq!(ok.banner(), None);
        let old = Health {
            data_age: Some(3 * 3600),
            ..ok.clone()
        };
        assert!(old.banner().unwrap().contains("TICKET LIST 3 H 00 MIN OLD"));
        let skewed = Health {
            clock_offset: Some(-900),
            ..ok.clone()
        };
        let b = skewed.banner().unwrap();
        assert!(b.contains("CLOCK OFF BY 15 MIN") && b.contains("ahead"), "{b}");
        let lied_to = Health {
            sync_refused: Some("the issuer's log went backwards (rollback)".into()),
            ..ok
        };
        let b = lied_to.banner().unwrap();
        assert!(b.contains("ISSUER DATA REFUSED") && b.contains("rollback"), "{b}");
    }
}
