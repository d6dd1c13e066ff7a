# Every word the gate shows its staff, in English. Keys are the same in every language
# (gate-agent/src/i18n.rs tests it); arguments are named the same too.

## Verdict headlines (large type on the kiosk, the block at the start of a terminal line)
headline-admit = ADMIT
headline-admit-party = ADMIT { $people } - { $offer }
headline-admit-person = ADMIT - person { $k } of { $n }
headline-exit = EXIT
headline-reject = REJECT

## Offers
offer-solo = Solo
offer-duo = Duo
offer-family = Family
offer-unknown = ticket

## What an admission lets in
admit-all = { $offer }: all { $n } people
admit-some = { $offer }: { $people } people ({ $inside } of { $n } already in)
admit-person = { $offer }: person { $k } of { $n }
admit-one = { $offer }: 1 person
party-people = { $n } people
party-person = person { $k } of { $n }

## Why a code is refused, and what to do
reason-already-used = already used
reason-already-used-at = already used at { $when } at { $gate }
reason-exit = exit recorded
reason-not-yet-valid = ticket not valid yet
reason-expired = ticket expired
reason-data-too-old = ticket list too old: connect the gate or import a fresh bundle
reason-not-provisioned = gate not set up: enrol it or import a bundle
reason-not-genuine = not a genuine ticket (signature not accepted)
reason-unsupported-version = ticket from a newer system: update this gate
reason-not-a-ticket = not a ticket code
reason-stale-code = code is a picture: open the ticket on the phone
reason-code-from-future = phone clock is wrong: set the phone to automatic time, then show the ticket again
reason-bad-device-signature = code not made by the phone this ticket is on: open it on that phone
reason-phone-required = this event needs the ticket open on the phone
reason-wrong-event = ticket is for event { $event }, not this gate's
reason-wrong-zone = ticket not valid in zone { $zone }
reason-wrong-zone-any = ticket not valid in this gate's zone
reason-revoked-ticket = ticket revoked
reason-revoked-purchase = purchase revoked (refunded or cancelled)
reason-revoked-account = buyer's account revoked
reason-revoked-superseded = old code: this ticket was transferred or re-issued, ask for the new code
reason-revoked-device-key = this phone was replaced: open the ticket on the new phone
reason-revoked = ticket revoked
reason-refused = refused
reason-no-code = no QR code found

## The rest of a verdict line
line-ticket = ticket { $serial } ({ $offer })
line-ticket-serial = ticket { $serial }
line-offline = offline
line-same-code = same code, already counted
line-conflict = CONFLICT: used at several gates, call a supervisor

## The kiosk before the first scan
kiosk-ready = READY
kiosk-waiting = waiting for the first ticket

## The red banner (kiosk and status)
banner-never-updated = TICKET LIST NEVER UPDATED: connect the gate or import a bundle
banner-too-old = TICKET LIST { $age } OLD: connect the gate or import a fresh bundle
banner-clock-off = CLOCK OFF BY { $offset }: { $words }
banner-sync-refused = ISSUER DATA REFUSED, TELL AN OPERATOR: { $why }
clock-matches = this gate's clock matches the issuer's
clock-behind = this gate is { $duration } behind the issuer
clock-ahead = this gate is { $duration } ahead of the issuer

## Durations and local times
duration-seconds = { $n } s
duration-minutes = { $n } min
duration-hours = { $h } h { $mm } min
duration-days = { $n ->
    [one] { $n } day
   *[other] { $n } days
}
# $hh: hour 00-23, $h: hour 0-23, $mm: minutes 00-59
time-of-day = { $hh }:{ $mm }
date-and-time = { $weekday } { $day } { $month } { $time }
weekday-1 = Mon
weekday-2 = Tue
weekday-3 = Wed
weekday-4 = Thu
weekday-5 = Fri
weekday-6 = Sat
weekday-7 = Sun
month-1 = Jan
month-2 = Feb
month-3 = Mar
month-4 = Apr
month-5 = May
month-6 = Jun
month-7 = Jul
month-8 = Aug
month-9 = Sep
month-10 = Oct
month-11 = Nov
month-12 = Dec

## `gate-agent status`
status-not-set-up = This gate is not set up: enrol it (`gate-agent enroll`) or import a bundle.
status-gate = Gate { $gate }
status-device = , device { $device }
status-deployment = , deployment { $deployment }
status-settings = Zone: { $zone }. Party tickets: { $party }. Times in { $tz }.
status-every-zone = every zone
status-zone-only = zone { $zone } only
status-party-one-per-scan = one person per scan
status-party-whole = one scan admits the whole party
status-issuer = Issuer: { $url }
status-issuer-no-credential = Issuer: { $url } (no device credential: enrol again to sync)
status-issuer-none = Issuer: none (set up from a bundle; updates come by importing bundles)
status-device-revoked = DEVICE REVOKED BY THE ISSUER: enrol this gate again.
status-data = Ticket data: current as of { $when } ({ $ago } ago), revocations up to number { $seq }.
status-data-never = Ticket data: never updated.
status-clock = Clock: { $words } (at the last sync); phone codes must be within { $tolerance } of it.
status-clock-never = Clock: not compared with the issuer yet; phone codes must be within { $tolerance } of it.
status-last-sync = Last sync: { $when } ({ $ago } ago).
status-last-sync-never = Last sync: never.
status-sync-error-issuer = Last sync error: { $url }: { $error }
status-sync-error = Last sync error: { $error }
status-sync-error-none = Last sync error: none.
status-queue = Queue: { $n ->
    [one] { $n } report
   *[other] { $n } reports
} waiting to be sent.
status-queue-held = Queue: { $n ->
    [one] { $n } report
   *[other] { $n } reports
} waiting to be sent ({ $held } held, { $refused } refused by the issuer).
status-admitted = Admitted today: { $today ->
    [one] { $today } person
   *[other] { $today } people
} ({ $all } in all, { $other } at other gates).
status-data-held = Data held: { $keys ->
    [one] { $keys } key
   *[other] { $keys } keys
}, { $events ->
    [one] { $events } event
   *[other] { $events } events
}, { $revocations ->
    [one] { $revocations } revocation
   *[other] { $revocations } revocations
}.
status-warning = WARNING: { $banner }
status-conflict = CONFLICT: ticket { $serial } of event { $event } admitted { $admitted } times (it admits { $allowed }) at { $gates }: call a supervisor.
status-sync-refused = ISSUER DATA REFUSED (revocations kept, tell an operator): { $why }
