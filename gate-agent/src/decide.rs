//! The gate's decision: one pure function from (verified ticket or rejection, local view, now,
//! gate policy) to a verdict.
//!
//! Everything the decision needs is looked up *before* (see [`crate::gate`]) and everything it
//! implies (an admission row, an outbox report) is written *after*, so this module does no I/O,
//! reads no clock and can be tested exhaustively. The order of the checks follows pretixSCAN's
//! offline order: trust first (for a rotating code also its freshness, checked by og-shared),
//! then event, revocations (a `device_key` revocation only for the phone it names), the event's
//! holder-binding policy (a static code where the live phone code is required), data age, zone,
//! validity window and finally the admission count (k of N, re-entry after an exit).
//!
//! A rotating code and a static code of the same entitlement count as the same ticket: a
//! screenshot of a live code replayed within the tolerance at another gate, like a copied static
//! code, is a second use of the serial ("already used").
//!
//! Admissions are counted per entitlement (the serial), whatever code was shown: a code may
//! admit at most the people it was issued for (`admits`, less than the offer after a transfer
//! of a partly used ticket) counting its own passages and those of newer codes, and the
//! entitlement at most its offer counting every passage this gate knows of.

use og_shared::sync::{Direction, HolderBinding, RevocationTarget, VerdictCode};
use og_shared::{Rejection, UnixSeconds, VerifiedTicket};

/// How many people one scan of a Duo or Family ticket lets through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PartyPolicy {
    /// One scan admits everyone the ticket still admits (a gate with a steward who counts heads).
    #[default]
    WholeParty,
    /// One scan admits one person (a one-person-per-scan turnstile): "person 2 of 4".
    OnePerScan,
}

impl PartyPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PartyPolicy::WholeParty => "whole_party",
            PartyPolicy::OnePerScan => "one_per_scan",
        }
    }
}

/// How this gate applies the rules. Set at provisioning; the defaults suit an entry turnstile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatePolicy {
    /// The zone this gate guards (None: any zone of the event).
    pub zone: Option<u8>,
    /// Whether this gate lets people in or out.
    pub direction: Direction,
    /// Clock-skew tolerance, in seconds, applied on both sides of a ticket's validity window.
    pub clock_skew: i64,
    /// Refuse every ticket when the local copy of revocations is older than this (None: never).
    pub max_data_age: Option<i64>,
    /// Allow re-entry after an exit for every ticket (otherwise only tickets flagged REENTRY).
    pub reentry_for_all: bool,
    /// Whether one scan admits a Duo's or Family's whole party or one person.
    pub party: PartyPolicy,
    /// Freshness tolerance of rotating codes, seconds on either side of this gate's clock:
    /// an older code is a picture (`stale_code`), a newer one a wrong clock (`code_from_future`).
    pub tolerance: i64,
}

impl Default for GatePolicy {
    fn default() -> GatePolicy {
        GatePolicy {
            zone: None,
            direction: Direction::Entry,
            clock_skew: 300,
            max_data_age: None,
            reentry_for_all: false,
            party: PartyPolicy::WholeParty,
            tolerance: og_shared::bound::DEFAULT_TOLERANCE,
        }
    }
}

/// One past passage of a ticket, from this gate or another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage {
    pub at: UnixSeconds,
    pub gate: String,
    pub direction: Direction,
    /// Which code of the entitlement passed (0 = the first code).
    pub generation: u8,
}

/// What the device knows locally about a ticket, looked up before deciding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalView {
    /// Whether the device has keys and event facts at all.
    pub provisioned: bool,
    /// Events this device admits to.
    pub events: Vec<u32>,
    /// The first revocation covering the ticket, if any.
    pub revoked: Option<RevocationTarget>,
    /// Earlier passages of this ticket, oldest first.
    pub passages: Vec<Passage>,
    /// When the local copy of revocations was last known to be current (sync or bundle).
    pub data_as_of: Option<UnixSeconds>,
    /// The ticket's event's policy on static codes (from the synced event facts).
    pub holder_binding: HolderBinding,
    /// Whether the ticket's serial has a paper exception (its static code is accepted even
    /// when the event requires the phone).
    pub paper_exception: bool,
}

/// The outcome of [`decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub code: VerdictCode,
    /// A short sentence for the steward.
    pub reason: String,
    /// For an admission: this is person k (the last of the party this scan admits) ...
    pub admitted_index: Option<u8>,
    /// ... of N.
    pub admits: Option<u8>,
    /// For "already used": the first admission.
    pub first_use: Option<Passage>,
    /// What to record as a passage (admission or exit), if anything.
    pub record: Option<Direction>,
    /// People this scan lets in: persons `admitted_index - party + 1 ..= admitted_index`, one
    /// admission recorded for each (0 when nobody is admitted).
    pub party: u8,
    /// What a rejection is about when its code alone does not say (staff words are chosen
    /// from it, in the gate's language; `reason` stays the English sentence reported upstream).
    pub detail: Detail,
}

/// What a verdict is about beyond its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    #[default]
    None,
    /// Which kind of revocation refused the code.
    Revoked(RevokedBy),
    /// The gate's zone, which the ticket does not cover.
    WrongZone(u8),
}

/// The kind of revocation that refused a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokedBy {
    Ticket,
    Purchase,
    Account,
    /// An older code of a transferred or re-issued ticket.
    Superseded,
    /// A replaced phone's key.
    DeviceKey,
}

impl RevokedBy {
    fn of(t: &RevocationTarget) -> RevokedBy {
        match t {
            RevocationTarget::Ticket { .. } => RevokedBy::Ticket,
            RevocationTarget::Purchase { .. } => RevokedBy::Purchase,
            RevocationTarget::Account { .. } => RevokedBy::Account,
            RevocationTarget::Superseded { .. } => RevokedBy::Superseded,
            RevocationTarget::DeviceKey { .. } => RevokedBy::DeviceKey,
        }
    }
}

impl Verdict {
    fn reject(code: VerdictCode, reason: impl Into<String>) -> Verdict {
        Verdict {
            code,
            reason: reason.into(),
            admitted_index: None,
            admits: None,
            first_use: None,
            record: None,
            party: 0,
            detail: Detail::None,
        }
    }

    /// Whether the person may pass.
    pub fn lets_through(&self) -> bool {
        self.code.lets_through()
    }
}

/// Maps a verifier rejection to its verdict code.
pub fn rejection_code(r: &Rejection) -> VerdictCode {
    match r {
        Rejection::Malformed(_) => VerdictCode::NotATicket,
        Rejection::UnsupportedVersion(_) => VerdictCode::UnsupportedVersion,
        Rejection::UnknownKey(_) => VerdictCode::UnknownKey,
        Rejection::KeyNotValidAt(_) => VerdictCode::KeyNotValid,
        Rejection::BadSignature => VerdictCode::BadSignature,
        Rejection::BadDeviceSignature => VerdictCode::BadDeviceSignature,
        Rejection::StaleCode { .. } => VerdictCode::StaleCode,
        Rejection::CodeFromFuture { .. } => VerdictCode::CodeFromFuture,
        _ => VerdictCode::NotATicket,
    }
}

fn revocation_reason(t: &RevocationTarget) -> &'static str {
    match t {
        RevocationTarget::Ticket { .. } => "ticket revoked",
        RevocationTarget::Purchase { .. } => "purchase revoked (refunded or cancelled)",
        RevocationTarget::Account { .. } => "buyer's account revoked",
        RevocationTarget::Superseded { .. } => {
            "old code: this ticket was transferred or re-issued, ask for the new code"
        }
        RevocationTarget::DeviceKey { .. } => "this phone was replaced: open the ticket on the new phone",
    }
}

/// Decides what the gate shows. Pure: no I/O, no clock.
pub fn decide(
    ticket: &Result<VerifiedTicket, Rejection>,
    view: &LocalView,
    now: UnixSeconds,
    policy: &GatePolicy,
) -> Verdict {
    if !view.provisioned {
        return Verdict::reject(
            VerdictCode::NotProvisioned,
            "device not provisioned: run `gate-agent import` or `gate-agent enroll`",
        );
    }
    let (claims, rotating) = match ticket {
        Ok(t) => (t.claims, t.is_rotating()),
        Err(r) => return Verdict::reject(rejection_code(r), r.to_string()),
    };
    if !view.events.contains(&claims.event_id) {
        return Verdict::reject(
            VerdictCode::WrongEvent,
            format!("ticket is for event {}, not this gate's", claims.event_id),
        );
    }
    if policy.direction == Direction::Exit {
        // People are always let out; the exit is recorded so that re-entry can be allowed.
        return Verdict {
            record: Some(Direction::Exit),
            ..Verdict::reject(VerdictCode::Exited, "exit recorded")
        };
    }
    if let Some(t) = &view.revoked {
        return Verdict {
            detail: Detail::Revoked(RevokedBy::of(t)),
            ..Verdict::reject(VerdictCode::Revoked, revocation_reason(t))
        };
    }
    if view.holder_binding == HolderBinding::Required && !rotating && !view.paper_exception {
        return Verdict::reject(
            VerdictCode::PhoneCodeRequired,
            "this event needs the ticket open on the phone",
        );
    }
    if let Some(max) = policy.max_data_age {
        let stale = view.data_as_of.is_none_or(|at| now - at > max);
        if stale {
            return Verdict::reject(
                VerdictCode::DataTooOld,
                "revocation data too old: connect the gate to the network or import a fresh bundle",
            );
        }
    }
    if let Some(zone) = policy.zone
        && !claims.zones.contains(zone)
    {
        return Verdict {
            detail: Detail::WrongZone(zone),
            ..Verdict::reject(VerdictCode::WrongZone, format!("ticket not valid in zone {zone}"))
        };
    }
    if now + policy.clock_skew < i64::from(claims.valid_from) {
        return Verdict::reject(VerdictCode::NotYetValid, "ticket not valid yet");
    }
    if now - policy.clock_skew > i64::from(claims.valid_until) {
        return Verdict::reject(VerdictCode::Expired, "ticket expired");
    }
    admission(
        &claims,
        claims.flags.reentry() || policy.reentry_for_all,
        policy.party,
        view,
    )
}

fn admission(claims: &og_shared::TicketClaims, reentry: bool, party: PartyPolicy, view: &LocalView) -> Verdict {
    let offer = claims.offer;
    let n = offer.admits();
    let entries = view.passages.iter().filter(|p| p.direction == Direction::Entry).count();
    let exits = view.passages.iter().filter(|p| p.direction == Direction::Exit).count();
    let first = view.passages.iter().find(|p| p.direction == Direction::Entry).cloned();
    // What this code may still admit: what it was issued for, less its own entries (and those
    // of newer codes); never more than the entitlement has left.
    let by_this_code = view
        .passages
        .iter()
        .filter(|p| p.direction == Direction::Entry && p.generation >= claims.generation)
        .count();
    let code_left = usize::from(claims.admits).saturating_sub(by_this_code);
    let entitlement_left = usize::from(n).saturating_sub(entries);
    let admit = |k: usize, people: usize, reason: String| Verdict {
        code: VerdictCode::Admitted,
        reason,
        admitted_index: Some(k.min(usize::from(n)) as u8),
        admits: Some(n),
        first_use: None,
        record: Some(Direction::Entry),
        party: people as u8,
        detail: Detail::None,
    };
    let left = code_left.min(entitlement_left);
    if left > 0 {
        let k = entries + 1;
        return match party {
            PartyPolicy::OnePerScan => admit(k, 1, format!("{offer}: person {k} of {n}")),
            PartyPolicy::WholeParty => admit(entries + left, left, format!("{offer}: {left} of {n} people")),
        };
    }
    // Every place used: only a re-entry after a recorded exit may pass (one person per scan).
    let inside = entries.saturating_sub(exits);
    if reentry && exits > 0 && inside < usize::from(n) {
        return admit(
            inside + 1,
            1,
            format!("{offer}: re-entry ({} of {n} inside)", inside + 1),
        );
    }
    let reason = match &first {
        Some(p) => format!("already used: first admitted at {} by gate {}", p.at, p.gate),
        None => "already used".to_owned(),
    };
    Verdict {
        first_use: first,
        admits: Some(n),
        ..Verdict::reject(VerdictCode::AlreadyUsed, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use og_shared::qr::Malformed;
    use og_shared::ticket::{Tag, TicketFlags, Zones};
    use og_shared::{KeyId, Offer, TicketClaims};

    const NOW: i64 = 1_785_088_800;

    fn claims(offer: Offer) -> TicketClaims {
        TicketClaims {
            key_id: KeyId(7),
            event_id: 1,
            serial: 42,
            generation: 0,
            offer,
            admits: offer.admits(),
            purchase_tag: Tag([1; 6]),
            account_tag: Tag([2; 6]),
            valid_from: (NOW - 3600) as u32,
            valid_until: (NOW + 3600) as u32,
            zones: Zones::ALL,
            flags: TicketFlags::default(),
        }
    }

    fn ok(offer: Offer) -> Result<VerifiedTicket, Rejection> {
        Ok(VerifiedTicket::static_code(claims(offer)))
    }

    fn view() -> LocalView {
        LocalView {
            provisioned: true,
            events: vec![1],
            revoked: None,
            passages: vec![],
            data_as_of: Some(NOW - 60),
            holder_binding: HolderBinding::Optional,
            paper_exception: false,
        }
    }

    /// The live rotating code of the same Solo ticket, from the phone with key tag [9; 6].
    fn live(offer: Offer) -> Result<VerifiedTicket, Rejection> {
        let mut c = claims(offer);
        c.flags = TicketFlags(TicketFlags::HOLDER_BOUND);
        Ok(VerifiedTicket {
            claims: c,
            holder_key_tag: Some(Tag([9; 6])),
        })
    }

    fn phone_required() -> LocalView {
        LocalView {
            holder_binding: HolderBinding::Required,
            ..view()
        }
    }

    #[test]
    fn a_static_code_at_an_event_that_requires_the_phone_is_refused_with_a_reason_staff_can_act_on() {
        let v = decide(&ok(Offer::Solo), &phone_required(), NOW, &p());
        assert_eq!(v.code, VerdictCode::PhoneCodeRequired);
        assert!(v.reason.contains("phone"), "{}", v.reason);
        assert_eq!((v.record, v.party), (None, 0));
    }

    #[test]
    fn the_live_phone_code_passes_where_the_phone_is_required() {
        let v = decide(&live(Offer::Solo), &phone_required(), NOW, &p());
        assert_eq!(v.code, VerdictCode::Admitted);
    }

    #[test]
    fn a_paper_exception_lets_its_static_code_in_where_the_phone_is_required() {
        let vw = LocalView {
            paper_exception: true,
            ..phone_required()
        };
        assert_eq!(decide(&ok(Offer::Solo), &vw, NOW, &p()).code, VerdictCode::Admitted);
    }

    #[test]
    fn a_static_code_passes_where_the_phone_is_optional() {
        assert_eq!(decide(&ok(Offer::Solo), &view(), NOW, &p()).code, VerdictCode::Admitted);
    }

    #[test]
    fn a_replaced_phone_is_refused_with_its_own_reason() {
        let vw = LocalView {
            revoked: Some(RevocationTarget::DeviceKey {
                serial: 42,
                key_tag: Tag([9; 6]),
            }),
            ..view()
        };
        let v = decide(&live(Offer::Solo), &vw, NOW, &p());
        assert_eq!(v.code, VerdictCode::Revoked);
        assert!(v.reason.contains("new phone"), "{}", v.reason);
    }

    #[test]
    fn a_live_code_replayed_at_another_gate_is_a_second_use_of_the_entitlement() {
        let mut vw = view();
        assert_eq!(decide(&live(Offer::Solo), &vw, NOW, &p()).code, VerdictCode::Admitted);
        vw.passages.push(entry(NOW - 3, "north-1"));
        let v = decide(&live(Offer::Solo), &vw, NOW, &p());
        assert_eq!(v.code, VerdictCode::AlreadyUsed);
        assert!(v.reason.contains("north-1"), "{}", v.reason);
        // The static code of the same entitlement counts against the same places.
        assert_eq!(decide(&ok(Offer::Solo), &vw, NOW, &p()).code, VerdictCode::AlreadyUsed);
    }

    #[test]
    fn pictures_wrong_clocks_and_other_phones_keep_their_own_verdicts() {
        for (r, code) in [
            (Rejection::StaleCode { age: 60 }, VerdictCode::StaleCode),
            (Rejection::CodeFromFuture { ahead: 90 }, VerdictCode::CodeFromFuture),
            (Rejection::BadDeviceSignature, VerdictCode::BadDeviceSignature),
        ] {
            let v = decide(&Err(r), &view(), NOW, &p());
            assert_eq!(v.code, code);
            assert!(!v.lets_through());
        }
    }

    fn entry(at: i64, gate: &str) -> Passage {
        Passage {
            at,
            gate: gate.into(),
            direction: Direction::Entry,
            generation: 0,
        }
    }

    fn exit(at: i64) -> Passage {
        Passage {
            at,
            gate: "X".into(),
            direction: Direction::Exit,
            generation: 0,
        }
    }

    /// The code a Duo became when given away after one entry: generation 1, admits 1.
    fn second_duo_code() -> Result<VerifiedTicket, Rejection> {
        Ok(VerifiedTicket::static_code(TicketClaims {
            generation: 1,
            admits: 1,
            ..claims(Offer::Duo)
        }))
    }

    #[test]
    fn the_new_code_of_a_half_used_duo_admits_one_person_at_a_gate_that_saw_the_first_entry() {
        let mut vw = view();
        vw.passages.push(entry(NOW - 600, "A"));
        let v = decide(&second_duo_code(), &vw, NOW, &p());
        assert_eq!((v.code, v.admitted_index), (VerdictCode::Admitted, Some(2)));
        vw.passages.push(Passage {
            generation: 1,
            ..entry(NOW - 5, "A")
        });
        assert_eq!(
            decide(&second_duo_code(), &vw, NOW, &p()).code,
            VerdictCode::AlreadyUsed
        );
    }

    #[test]
    fn the_new_code_of_a_half_used_duo_admits_only_one_person_at_a_gate_that_never_heard_of_the_first_entry() {
        let mut vw = view();
        let v = decide(&second_duo_code(), &vw, NOW, &p());
        assert_eq!(v.code, VerdictCode::Admitted);
        vw.passages.push(Passage {
            generation: 1,
            ..entry(NOW - 5, "B")
        });
        let again = decide(&second_duo_code(), &vw, NOW, &p());
        assert_eq!(
            again.code,
            VerdictCode::AlreadyUsed,
            "the code was issued for the one place left, whatever this gate knows"
        );
    }

    #[test]
    fn one_scan_of_a_transferred_half_used_duo_lets_in_only_the_one_person_left_whatever_the_gate_knows() {
        let v = decide(&second_duo_code(), &view(), NOW, &p());
        assert_eq!((v.code, v.party), (VerdictCode::Admitted, 1));
    }

    #[test]
    fn an_old_code_still_counts_against_the_entitlement_its_new_code_draws_on() {
        // The old code (not yet known as superseded here) admitted two people: the new one gets nobody in.
        let mut vw = view();
        vw.passages.push(entry(NOW - 600, "A"));
        vw.passages.push(entry(NOW - 500, "A"));
        assert_eq!(
            decide(&second_duo_code(), &vw, NOW, &p()).code,
            VerdictCode::AlreadyUsed
        );
    }

    #[test]
    fn a_superseded_code_is_refused_with_a_reason_staff_can_act_on() {
        let mut vw = view();
        vw.revoked = Some(RevocationTarget::Superseded {
            serial: 42,
            generation: 1,
        });
        let v = decide(&ok(Offer::Duo), &vw, NOW, &p());
        assert_eq!(v.code, VerdictCode::Revoked);
        assert!(v.reason.contains("new code"), "{}", v.reason);
    }

    fn p() -> GatePolicy {
        GatePolicy::default()
    }

    /// A one-person-per-scan turnstile.
    fn turnstile() -> GatePolicy {
        GatePolicy {
            party: PartyPolicy::OnePerScan,
            ..p()
        }
    }

    #[test]
    fn a_fresh_solo_ticket_is_admitted_as_person_one_of_one() {
        let v = decide(&ok(Offer::Solo), &view(), NOW, &p());
        assert_eq!(v.code, VerdictCode::Admitted);
        assert_eq!((v.admitted_index, v.admits), (Some(1), Some(1)));
        assert_eq!(v.record, Some(Direction::Entry));
        assert!(v.lets_through());
    }

    #[test]
    fn a_duo_ticket_admits_exactly_two_people_then_says_already_used_with_the_first_gate() {
        let mut vw = view();
        let v1 = decide(&ok(Offer::Duo), &vw, NOW, &turnstile());
        assert_eq!(
            (v1.code, v1.admitted_index, v1.party),
            (VerdictCode::Admitted, Some(1), 1)
        );
        vw.passages.push(entry(NOW - 30, "north-1"));
        let v2 = decide(&ok(Offer::Duo), &vw, NOW, &turnstile());
        assert_eq!(
            (v2.code, v2.admitted_index, v2.admits),
            (VerdictCode::Admitted, Some(2), Some(2))
        );
        vw.passages.push(entry(NOW - 10, "north-2"));
        let v3 = decide(&ok(Offer::Duo), &vw, NOW, &turnstile());
        assert_eq!(v3.code, VerdictCode::AlreadyUsed);
        assert_eq!(v3.first_use, Some(entry(NOW - 30, "north-1")));
        assert!(v3.reason.contains("north-1"), "{}", v3.reason);
        assert_eq!(v3.record, None);
    }

    #[test]
    fn a_family_ticket_admits_four_people_one_per_scan_at_a_turnstile() {
        let mut vw = view();
        for k in 1..=4u8 {
            let v = decide(&ok(Offer::Family), &vw, NOW, &turnstile());
            assert_eq!((v.code, v.admitted_index), (VerdictCode::Admitted, Some(k)));
            assert!(v.reason.contains(&format!("person {k} of 4")), "{}", v.reason);
            vw.passages.push(entry(NOW, "g"));
        }
        assert_eq!(
            decide(&ok(Offer::Family), &vw, NOW, &p()).code,
            VerdictCode::AlreadyUsed
        );
    }

    #[test]
    fn by_default_one_scan_admits_the_whole_party_and_a_second_scan_is_already_used() {
        let mut vw = view();
        let v = decide(&ok(Offer::Family), &vw, NOW, &p());
        assert_eq!(
            (v.code, v.admitted_index, v.admits, v.party),
            (VerdictCode::Admitted, Some(4), Some(4), 4)
        );
        assert_eq!(decide(&ok(Offer::Solo), &vw, NOW, &p()).party, 1);
        // One of the four already went through a one-per-scan turnstile: the rest pass together.
        vw.passages.push(entry(NOW - 60, "turnstile-1"));
        let rest = decide(&ok(Offer::Family), &vw, NOW, &p());
        assert_eq!((rest.admitted_index, rest.party), (Some(4), 3));
        for _ in 0..3 {
            vw.passages.push(entry(NOW, "north-3"));
        }
        let again = decide(&ok(Offer::Family), &vw, NOW, &p());
        assert_eq!((again.code, again.party), (VerdictCode::AlreadyUsed, 0));
    }

    #[test]
    fn admissions_from_other_gates_count_toward_the_limit() {
        let mut vw = view();
        vw.passages.push(entry(NOW - 100, "south-7"));
        let v = decide(&ok(Offer::Solo), &vw, NOW, &p());
        assert_eq!(v.code, VerdictCode::AlreadyUsed);
        assert_eq!(v.first_use.unwrap().gate, "south-7");
    }

    #[test]
    fn revoked_tickets_purchases_and_accounts_are_refused_with_their_kind() {
        for (target, word) in [
            (RevocationTarget::Ticket { serial: 42 }, "ticket"),
            (RevocationTarget::Purchase { tag: Tag([1; 6]) }, "purchase"),
            (RevocationTarget::Account { tag: Tag([2; 6]) }, "account"),
        ] {
            let vw = LocalView {
                revoked: Some(target),
                ..view()
            };
            let v = decide(&ok(Offer::Solo), &vw, NOW, &p());
            assert_eq!(v.code, VerdictCode::Revoked);
            assert!(v.reason.contains(word), "{}", v.reason);
            assert_eq!(v.record, None);
        }
    }

    #[test]
    fn a_ticket_for_another_event_is_wrong_event() {
        let vw = LocalView {
            events: vec![2, 3],
            ..view()
        };
        assert_eq!(decide(&ok(Offer::Solo), &vw, NOW, &p()).code, VerdictCode::WrongEvent);
    }

    #[test]
    fn a_zone_gate_refuses_tickets_for_other_zones_and_accepts_its_own() {
        let mut t = claims(Offer::Solo);
        t.zones = Zones::single(3).unwrap();
        let t = Ok(VerifiedTicket::static_code(t));
        let gate3 = GatePolicy { zone: Some(3), ..p() };
        let gate4 = GatePolicy { zone: Some(4), ..p() };
        assert_eq!(decide(&t, &view(), NOW, &gate3).code, VerdictCode::Admitted);
        assert_eq!(decide(&t, &view(), NOW, &gate4).code, VerdictCode::WrongZone);
        assert_eq!(decide(&t, &view(), NOW, &p()).code, VerdictCode::Admitted);
    }

    #[test]
    fn the_validity_window_is_widened_by_the_clock_skew_tolerance() {
        let c = claims(Offer::Solo);
        let from = i64::from(c.valid_from);
        let until = i64::from(c.valid_until);
        let pol = GatePolicy { clock_skew: 120, ..p() };
        let t = ok(Offer::Solo);
        assert_eq!(decide(&t, &view(), from - 120, &pol).code, VerdictCode::Admitted);
        assert_eq!(decide(&t, &view(), from - 121, &pol).code, VerdictCode::NotYetValid);
        assert_eq!(decide(&t, &view(), until + 120, &pol).code, VerdictCode::Admitted);
        assert_eq!(decide(&t, &view(), until + 121, &pol).code, VerdictCode::Expired);
    }

    #[test]
    fn verifier_rejections_keep_their_meaning() {
        let cases = [
            (Rejection::Malformed(Malformed::NotOurs), VerdictCode::NotATicket),
            (Rejection::UnsupportedVersion(2), VerdictCode::UnsupportedVersion),
            (Rejection::UnknownKey(KeyId(9)), VerdictCode::UnknownKey),
            (Rejection::KeyNotValidAt(KeyId(9)), VerdictCode::KeyNotValid),
            (Rejection::BadSignature, VerdictCode::BadSignature),
        ];
        for (r, code) in cases {
            let v = decide(&Err(r), &view(), NOW, &p());
            assert_eq!(v.code, code);
            assert!(!v.lets_through());
            assert_eq!(v.record, None);
        }
    }

    #[test]
    fn an_unprovisioned_device_never_admits_even_a_valid_ticket() {
        let v = decide(&ok(Offer::Solo), &LocalView::default(), NOW, &p());
        assert_eq!(v.code, VerdictCode::NotProvisioned);
        assert!(!v.lets_through());
    }

    #[test]
    fn data_older_than_the_policy_allows_refuses_entry_and_fresh_data_does_not() {
        let pol = GatePolicy {
            max_data_age: Some(3600),
            ..p()
        };
        let old = LocalView {
            data_as_of: Some(NOW - 3601),
            ..view()
        };
        let never = LocalView {
            data_as_of: None,
            ..view()
        };
        assert_eq!(decide(&ok(Offer::Solo), &old, NOW, &pol).code, VerdictCode::DataTooOld);
        assert_eq!(
            decide(&ok(Offer::Solo), &never, NOW, &pol).code,
            VerdictCode::DataTooOld
        );
        assert_eq!(decide(&ok(Offer::Solo), &view(), NOW, &pol).code, VerdictCode::Admitted);
        assert_eq!(decide(&ok(Offer::Solo), &old, NOW, &p()).code, VerdictCode::Admitted);
    }

    #[test]
    fn revocation_wins_over_stale_data_so_the_steward_sees_the_real_reason() {
        let vw = LocalView {
            revoked: Some(RevocationTarget::Ticket { serial: 42 }),
            data_as_of: None,
            ..view()
        };
        let pol = GatePolicy {
            max_data_age: Some(1),
            ..p()
        };
        assert_eq!(decide(&ok(Offer::Solo), &vw, NOW, &pol).code, VerdictCode::Revoked);
    }

    #[test]
    fn an_exit_gate_lets_people_out_and_records_the_exit() {
        let pol = GatePolicy {
            direction: Direction::Exit,
            ..p()
        };
        let v = decide(&ok(Offer::Solo), &view(), NOW + 86_400 * 30, &pol);
        assert_eq!(v.code, VerdictCode::Exited);
        assert_eq!(v.record, Some(Direction::Exit));
    }

    #[test]
    fn re_entry_after_an_exit_needs_the_reentry_flag_or_policy() {
        let mut vw = view();
        vw.passages = vec![entry(NOW - 100, "a"), exit(NOW - 50)];
        assert_eq!(decide(&ok(Offer::Solo), &vw, NOW, &p()).code, VerdictCode::AlreadyUsed);
        let mut flagged = claims(Offer::Solo);
        flagged.flags = TicketFlags(TicketFlags::REENTRY);
        let v = decide(&Ok(VerifiedTicket::static_code(flagged)), &vw, NOW, &p());
        assert_eq!(v.code, VerdictCode::Admitted);
        let all = GatePolicy {
            reentry_for_all: true,
            ..p()
        };
        let back = decide(&ok(Offer::Solo), &vw, NOW, &all);
        assert_eq!((back.code, back.party), (VerdictCode::Admitted, 1));
        // Re-entered: inside again, a second re-entry without a new exit is refused.
        vw.passages.push(entry(NOW - 10, "a"));
        assert_eq!(decide(&ok(Offer::Solo), &vw, NOW, &all).code, VerdictCode::AlreadyUsed);
    }
}
