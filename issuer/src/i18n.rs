//! What buyers read, in their language (Project Fluent) and in the venue's time.
//!
//! Every word a buyer reads in the shop's pages, form errors, the phone ticket page and mails
//! comes from `issuer/locales/<language>/main.ftl` (one file per language, compiled in by
//! `build.rs`: adding a language is adding a file). No buyer-facing sentence is written in the
//! code; the JSON API keeps its English messages and stable codes.
//!
//! The language of a request is, in order: the buyer's explicit choice (the header's switcher,
//! `GET /lang/{code}`, kept in the `__Host-og_lang` cookie), the signed-in account's preference
//! (`accounts.language`, set when they switch while signed in), `Accept-Language`, then the
//! deployment's `default_language` (default `en`). [`negotiate`] (a layer over the whole router)
//! records what the request says; [`current`] resolves it wherever a page is rendered. Mails to
//! an account use its preference, else the deployment default ([`Lang::for_account`]).
//!
//! Dates are shown in the event's IANA time zone (jiff's bundled database) with the zone named,
//! day and month names from the `.ftl` files; money as each language writes euros.

use std::sync::{Arc, LazyLock, Mutex};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use crate::error::AppError;

include!(concat!(env!("OUT_DIR"), "/locales.rs"));

/// The language every key must exist in, and the one used outside any request.
pub const FALLBACK: &str = "en";
/// The cookie keeping a browser's explicit choice (a year).
pub const COOKIE: &str = "__Host-og_lang";

/// One language: its Fluent bundle and the ids of its messages.
pub struct Locale {
    code: &'static str,
    bundle: FluentBundle<FluentResource>,
    keys: Vec<String>,
}

struct Locales {
    all: Vec<Locale>,
    /// Parse errors, per file (empty when every file is clean).
    errors: Vec<String>,
}

static LOCALES: LazyLock<Locales> = LazyLock::new(|| {
    let mut all = Vec::new();
    let mut errors = Vec::new();
    for (code, text) in LOCALE_FILES {
        let res = match FluentResource::try_new((*text).to_owned()) {
            Ok(r) => r,
            Err((r, errs)) => {
                errors.push(format!("locales/{code}/main.ftl: {errs:?}"));
                r
            }
        };
        // Message ids: `id =` at the start of a line (terms start with `-`, comments with `#`).
        let keys = text
            .lines()
            .filter_map(|line| {
                let (id, _) = line.split_once('=')?;
                let id = id.trim_end();
                let ok = id.starts_with(|c: char| c.is_ascii_alphabetic())
                    && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                ok.then(|| id.to_owned())
            })
            .collect();
        let id: unic_langid::LanguageIdentifier = match code.parse() {
            Ok(id) => id,
            Err(e) => {
                errors.push(format!("locales/{code}: not a language tag: {e}"));
                continue;
            }
        };
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        // Plain text mails and attribute values must not carry Unicode isolation marks.
        bundle.set_use_isolating(false);
        if let Err(errs) = bundle.add_resource(res) {
            errors.push(format!("locales/{code}/main.ftl: {errs:?}"));
        }
        all.push(Locale { code, bundle, keys });
    }
    Locales { all, errors }
});

/// Fails when a `.ftl` file does not parse, the fallback language is missing, or a key exists
/// in one language and not in another (run at start-up and by the tests).
pub fn check() -> Result<(), String> {
    let l = &*LOCALES;
    if !l.errors.is_empty() {
        return Err(l.errors.join("; "));
    }
    if find(FALLBACK).is_none() {
        return Err(format!("no locales/{FALLBACK}/main.ftl"));
    }
    let mut problems = Vec::new();
    for a in &l.all {
        for b in &l.all {
            for k in &a.keys {
                if !b.keys.contains(k) {
                    problems.push(format!("{k} is in {} but not in {}", a.code, b.code));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The languages found, by code.
pub fn available() -> impl Iterator<Item = Lang> {
    LOCALES.all.iter().map(Lang)
}

/// The language with this code (`fr`, `en`, ...), if there is a file for it.
pub fn find(code: &str) -> Option<Lang> {
    let code = code.trim();
    LOCALES.all.iter().find(|l| l.code.eq_ignore_ascii_case(code)).map(Lang)
}

fn fallback() -> Lang {
    find(FALLBACK)
        .or_else(|| LOCALES.all.first().map(Lang))
        .expect("at least one locale is compiled in (checked at start-up)")
}

/// A language to write in.
#[derive(Clone, Copy)]
pub struct Lang(&'static Locale);

impl std::fmt::Debug for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.code)
    }
}

impl PartialEq for Lang {
    fn eq(&self, other: &Lang) -> bool {
        self.0.code == other.0.code
    }
}

/// An argument of a message: text or a number (numbers choose plural forms).
pub enum Arg {
    Text(String),
    Number(i64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_owned())
    }
}
impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::Text(s.clone())
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}
macro_rules! number_arg {
    ($($t:ty),*) => { $(impl From<$t> for Arg { fn from(n: $t) -> Arg { Arg::Number(i64::from(n)) } })* };
}
number_arg!(u8, u16, u32, i32, i64);
impl From<usize> for Arg {
    fn from(n: usize) -> Arg {
        Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// `tr!(lang, KEY)` or `tr!(lang, KEY, name = value, ...)` with a literal KEY: the message in that language.
#[macro_export]
macro_rules! tr {
    ($lang:expr, $key:literal) => { $lang.t($key) };
    ($lang:expr, $key:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $lang.t_args($key, &[$((stringify!($name), $crate::i18n::Arg::from($value))),+])
    };
}

impl Lang {
    /// `en`, `fr`...
    pub fn code(self) -> &'static str {
        self.0.code
    }

    /// The language an account is written to in mails: its preference, else the deployment's.
    pub fn for_account(preference: Option<&str>, default: &str) -> Lang {
        preference
            .and_then(find)
            .or_else(|| find(default))
            .unwrap_or_else(fallback)
    }

    /// The message `key` (the fallback language's when this one lacks it, the key itself when
    /// no language has it: the parity tests make both impossible in a release).
    pub fn t(self, key: &str) -> String {
        self.t_args(key, &[])
    }

    pub fn t_args(self, key: &str, args: &[(&str, Arg)]) -> String {
        let mut fa = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Text(s) => fa.set(*name, FluentValue::from(s.as_str())),
                Arg::Number(n) => fa.set(*name, FluentValue::from(*n)),
            }
        }
        for lang in [self, fallback()] {
            let b = &lang.0.bundle;
            if let Some(pattern) = b.get_message(key).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                let s = b.format_pattern(pattern, Some(&fa), &mut errors);
                if !errors.is_empty() {
                    tracing::warn!(key, lang = lang.0.code, ?errors, "message formatted with errors");
                }
                return s.into_owned();
            }
        }
        tracing::warn!(key, "no such message in any language");
        key.to_owned()
    }

    /// An offer's name (`solo`, `duo`, `family`) in this language.
    pub fn offer_name(self, kind: &str) -> String {
        self.t_args("offer-name", &[("kind", kind.into())])
    }

    /// Whether this language has the message `key`.
    pub fn has(self, key: &str) -> bool {
        self.0.bundle.has_message(key)
    }

    /// A whole number with this language's thousands separator: `77,000`, `77 000`.
    pub fn number(self, n: i64) -> String {
        let digits = n.unsigned_abs().to_string();
        let group = self.t("number-group-separator");
        let mut out = String::from(if n < 0 { "-" } else { "" });
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push_str(&group);
            }
            out.push(c);
        }
        out
    }

    /// Cents as this language writes euros: `€1,234.50`, `1 234,50 €`.
    pub fn money(self, cents: i64) -> String {
        let abs = cents.unsigned_abs();
        let units = self.number(i64::try_from(abs / 100).unwrap_or(i64::MAX));
        let amount = format!(
            "{}{units}{}{:02}",
            if cents < 0 { "-" } else { "" },
            self.t("number-decimal-separator"),
            abs % 100
        );
        tr!(self, "money", amount = amount)
    }

    /// A moment in the venue's zone, with the zone named: `Sat 3 Aug 2024, 8:30 PM (Paris time)`.
    pub fn datetime(self, ts: i64, zone: &str) -> String {
        match local(ts, zone) {
            Some(z) => tr!(
                self,
                "datetime",
                date = self.date_of(&z),
                time = self.time_of(&z),
                zone = self.zone_name(zone)
            ),
            None => String::new(),
        }
    }

    /// The time of day only, with the zone named: `8:30 PM (Paris time)`.
    pub fn time(self, ts: i64, zone: &str) -> String {
        match local(ts, zone) {
            Some(z) => tr!(
                self,
                "time-in-zone",
                time = self.time_of(&z),
                zone = self.zone_name(zone)
            ),
            None => String::new(),
        }
    }

    /// A calendar day (`YYYY-MM-DD`) in words: `Sat 3 Aug 2024`.
    pub fn day(self, day: &str) -> String {
        match day.parse::<jiff::civil::Date>() {
            Ok(d) => self.date_words(d),
            Err(_) => day.to_owned(),
        }
    }

    fn date_of(self, z: &jiff::ZonedDateTime) -> String {
        self.date_words(z.date())
    }

    fn date_words(self, d: jiff::civil::Date) -> String {
        let weekday = self.t_args(
            "weekday-short",
            &[(
                "n",
                Arg::Number(i64::from(jiff::civil::Weekday::Monday.until(d.weekday()) + 1)),
            )],
        );
        let month = self.t_args("month-short", &[("n", Arg::Number(i64::from(d.month())))]);
        tr!(
            self,
            "date",
            weekday = weekday,
            day = i64::from(d.day()),
            month = month,
            year = i64::from(d.year())
        )
    }

    fn time_of(self, z: &jiff::ZonedDateTime) -> String {
        let (h, m) = (i64::from(z.hour()), i64::from(z.minute()));
        let h12 = if h % 12 == 0 { 12 } else { h % 12 };
        tr!(
            self,
            "time",
            hour = h,
            hour12 = h12,
            minute = format!("{m:02}"),
            pm = if h >= 12 { "pm" } else { "am" }
        )
    }

    /// `Paris time` / `heure de Paris`, from the zone's city (`Europe/Paris`), or the zone itself.
    pub fn zone_name(self, zone: &str) -> String {
        let city = zone.rsplit('/').next().unwrap_or(zone).replace('_', " ");
        if zone.contains('/') {
            tr!(self, "zone-city", city = city)
        } else {
            zone.to_owned()
        }
    }

    /// What a page says about an error: the message of its code in this language, else the
    /// general sentence for its status.
    pub fn error(self, e: &AppError) -> String {
        let retry = match e {
            AppError::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        self.error_code(e.code(), retry, e.status().is_server_error())
    }

    /// The sentence of an error code (`invalid_email`), else the general one.
    pub fn error_code(self, code: &str, retry_after_secs: Option<u64>, server: bool) -> String {
        let key = format!("error-{}", code.replace('_', "-"));
        if let Some(secs) = retry_after_secs {
            return self.t_args(
                &key,
                &[("seconds", Arg::Number(i64::try_from(secs).unwrap_or(i64::MAX)))],
            );
        }
        if self.has(&key) || fallback().has(&key) {
            return self.t(&key);
        }
        self.t(if server { "error-internal" } else { "error-generic" })
    }
}

/// `ts` in `zone` (an unknown zone reads as UTC, never an error on a page).
fn local(ts: i64, zone: &str) -> Option<jiff::ZonedDateTime> {
    let t = jiff::Timestamp::from_second(ts).ok()?;
    Some(
        t.in_tz(zone)
            .unwrap_or_else(|_| t.to_zoned_datetime(jiff::tz::TimeZone::UTC)),
    )
}

/// What a request says about its language.
#[derive(Debug)]
pub struct RequestLang {
    explicit: Option<Lang>,
    accept: Option<Lang>,
    default: Lang,
    account: Mutex<Option<Lang>>,
    /// The path and query being answered (the switcher's links come back to it).
    pub here: String,
}

impl RequestLang {
    fn resolve(&self) -> Lang {
        let account = self.account.lock().map(|a| *a).unwrap_or(None);
        self.explicit.or(account).or(self.accept).unwrap_or(self.default)
    }
}

tokio::task_local! {
    static CURRENT: Arc<RequestLang>;
}

/// The language of the request being answered (the fallback language outside a request).
pub fn current() -> Lang {
    CURRENT.try_with(|c| c.resolve()).unwrap_or_else(|_| fallback())
}

/// The path and query of the request being answered (`/` outside a request).
pub fn current_path() -> String {
    CURRENT.try_with(|c| c.here.clone()).unwrap_or_else(|_| "/".to_owned())
}

/// Whether the request's language came from the buyer (a choice or their browser), not from
/// the deployment's default.
pub fn current_is_chosen() -> bool {
    CURRENT
        .try_with(|c| c.explicit.is_some() || c.accept.is_some())
        .unwrap_or(false)
}

/// Called when the request's signed-in account is known: its preference comes after an
/// explicit choice and before `Accept-Language`.
pub fn note_account(preference: Option<&str>) {
    let _ = CURRENT.try_with(|c| {
        if let Ok(mut a) = c.account.lock() {
            *a = preference.and_then(find);
        }
    });
}

/// The best available language of an `Accept-Language` header (`fr-CA,fr;q=0.9,en;q=0.5`).
pub fn from_accept_language(header: &str) -> Option<Lang> {
    let mut ranges: Vec<(f32, usize, &str)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut it = part.split(';');
            let tag = it.next()?.trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (!tag.is_empty() && q > 0.0).then_some((q, i, tag))
        })
        .collect();
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranges.into_iter().find_map(|(_, _, tag)| {
        let primary = tag.split(['-', '_']).next().unwrap_or(tag);
        find(tag).or_else(|| find(primary))
    })
}

/// The layer over the whole router recording the request's language (see the module doc):
/// `explicit` is the `__Host-og_lang` cookie's language, `default` the deployment's (the web
/// layer reads both and calls this for every request).
pub async fn negotiate(explicit: Option<Lang>, default: Lang, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let accept = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(from_accept_language);
    let here = req
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let ctx = Arc::new(RequestLang {
        explicit,
        accept,
        default,
        account: Mutex::new(None),
        here,
    });
    CURRENT.scope(ctx, next.run(req)).await
}

/// `value` for a query string (RFC 3986 unreserved characters and `/` kept).
pub fn query_escape(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_parses_and_has_exactly_the_keys_of_the_others() {
        check().unwrap();
        assert!(find("en").is_some() && find("fr").is_some());
    }

    #[test]
    fn every_key_the_code_uses_exists_in_every_language() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut used = Vec::new();
        let mut stack = vec![src];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    for pat in ["tr!(", ".t(\"", "t_args(\""] {
                        for (at, _) in text.match_indices(pat) {
                            let rest = &text[at + pat.len()..];
                            // In `tr!(l, KEY, ...)` the key is the first string literal.
                            let Some(open) = rest.find('"') else { continue };
                            if pat == "tr!(" && rest[..open].contains(')') {
                                continue;
                            }
                            let key: String = rest[open + 1..]
                                .chars()
                                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                                .collect();
                            if !key.is_empty() && rest[open + 1 + key.len()..].starts_with('"') {
                                used.push((key, p.display().to_string()));
                            }
                        }
                    }
                }
            }
        }
        assert!(used.len() > 100, "found only {} keys: is the scan broken?", used.len());
        let mut missing = Vec::new();
        for lang in available() {
            for (k, file) in &used {
                if !lang.has(k) {
                    missing.push(format!("{k} ({file}) missing in {}", lang.code()));
                }
            }
        }
        assert!(missing.is_empty(), "{missing:#?}");
    }

    #[test]
    fn every_error_code_a_buyer_can_meet_has_its_sentence_in_every_language() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut codes = std::collections::BTreeSet::new();
        let files = [
            "shop/accounts.rs",
            "shop/auth.rs",
            "shop/binding.rs",
            "domain.rs",
            "trust/issuance.rs",
            "shop/lifecycle.rs",
            "shop/payment.rs",
            "shop/orders.rs",
            "shop/actions.rs",
            "web/pages.rs",
            "web/phone.rs",
            "web/shop_api.rs",
            "web/extract.rs",
        ];
        for f in files {
            let text = std::fs::read_to_string(src.join(f)).unwrap();
            for pat in ["bad_request(", "conflict(", "Refusal::new(", "code: "] {
                for (at, _) in text.match_indices(pat) {
                    let rest = text[at + pat.len()..].trim_start();
                    if let Some(r) = rest.strip_prefix('"') {
                        let code: String = r.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                        if !code.is_empty() && r[code.len()..].starts_with('"') {
                            codes.insert(code);
                        }
                    }
                }
            }
        }
        for c in [
            "unauthorized",
            "forbidden",
            "not_found",
            "rate_limited",
            "internal",
            "method_not_allowed",
        ] {
            codes.insert(c.to_owned());
        }
        assert!(codes.len() > 30, "{codes:?}");
        let mut missing = Vec::new();
        for lang in available() {
            for c in &codes {
                let key = format!("error-{}", c.replace('_', "-"));
                if !lang.has(&key) {
                    missing.push(format!("{key} missing in {}", lang.code()));
                }
            }
        }
        assert!(missing.is_empty(), "{missing:#?}");
    }

    #[test]
    fn times_are_local_to_the_venue_with_the_zone_named_in_each_language() {
        // 2024-08-03 18:30 UTC is 20:30 in Paris (summer time).
        let ts = 1_722_709_800;
        assert_eq!(
            find("fr").unwrap().datetime(ts, "Europe/Paris"),
            "sam. 3 août 2024, 20 h 30 (heure de Paris)"
        );
        assert_eq!(
            find("en").unwrap().datetime(ts, "Europe/Paris"),
            "Sat 3 Aug 2024, 8:30 PM (Paris time)"
        );
        assert_eq!(
            find("en").unwrap().time(ts, "America/New_York"),
            "2:30 PM (New York time)"
        );
        assert_eq!(find("en").unwrap().day("2024-08-03"), "Sat 3 Aug 2024");
    }

    #[test]
    fn money_is_written_as_each_language_writes_euros() {
        assert_eq!(find("en").unwrap().money(4500), "€45.00");
        assert_eq!(find("fr").unwrap().money(4500), "45,00\u{a0}€");
        assert_eq!(find("en").unwrap().money(12_345_678), "€123,456.78");
        assert_eq!(find("en").unwrap().number(77_000), "77,000");
        assert_eq!(find("fr").unwrap().number(77_000), "77\u{202f}000");
        assert_eq!(find("fr").unwrap().money(12_345_678), "123\u{202f}456,78\u{a0}€");
    }

    #[test]
    fn accept_language_picks_the_best_language_we_have() {
        let code = |h: &str| from_accept_language(h).map(Lang::code);
        assert_eq!(code("fr-CA,fr;q=0.9,en;q=0.5"), Some("fr"));
        assert_eq!(code("de-DE,de;q=0.9,en;q=0.5,fr;q=0.4"), Some("en"));
        assert_eq!(code("de, *;q=0.1"), None);
        assert_eq!(code("fr;q=0, en"), Some("en"));
        assert_eq!(code(";;;,q=x"), None);
    }

    #[test]
    fn plural_forms_follow_each_language() {
        let en = find("en").unwrap();
        let fr = find("fr").unwrap();
        assert_eq!(tr!(en, "admits-people", count = 1), "admits 1 person");
        assert_eq!(tr!(en, "admits-people", count = 2), "admits 2 people");
        assert_eq!(tr!(fr, "admits-people", count = 1), "pour 1 personne");
        assert_eq!(tr!(fr, "admits-people", count = 4), "pour 4 personnes");
    }
}
