//! The gate's languages: one Project Fluent file per language, `gate-agent/locales/<lang>/gate.ftl`,
//! built into the binary (fluent-templates' `static_loader`). Adding a language is adding its
//! directory and file, nothing else; a test fails when a key exists in one language and not in
//! another. The language is `--lang`/`OG_GATE_LANG`, else the one kept by `import`/`enroll`,
//! else [`DEFAULT_LANG`]: a turnstile in Paris speaks French first.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Terminal lines and the kiosk page: no Unicode isolation marks around arguments.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The language a gate speaks when none was chosen.
pub const DEFAULT_LANG: &str = "fr";

/// An argument of a message: a number (plural rules apply) or a text.
pub type Arg = FluentValue<'static>;

/// A number argument.
pub fn num(n: impl Into<i64>) -> Arg {
    FluentValue::from(n.into())
}

/// A text argument.
pub fn text(s: impl Into<String>) -> Arg {
    FluentValue::from(s.into())
}

/// One of the gate's languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lang(LanguageIdentifier);

impl Default for Lang {
    fn default() -> Lang {
        Lang::new(DEFAULT_LANG).expect("the default language has a file")
    }
}

/// The languages the gate has files for, by tag (`en`, `fr`), sorted.
pub fn available() -> Vec<String> {
    let mut tags: Vec<String> = LOCALES.locales().map(|l| l.to_string()).collect();
    tags.sort();
    tags
}

impl Lang {
    /// The gate's language for a tag: the same tag, else the same language (`fr-CA` -> `fr`),
    /// else a sentence naming the languages there are.
    pub fn new(tag: &str) -> Result<Lang, String> {
        let unknown = || {
            format!(
                "no language {tag:?} at this gate: choose one of {}",
                available().join(", ")
            )
        };
        let wanted: LanguageIdentifier = tag.trim().parse().map_err(|_| unknown())?;
        let have: Vec<&LanguageIdentifier> = LOCALES.locales().collect();
        have.iter()
            .find(|l| ***l == wanted)
            .or_else(|| have.iter().find(|l| l.language == wanted.language))
            .map(|l| Lang((*l).clone()))
            .ok_or_else(unknown)
    }

    /// The language's tag (`fr`), as HTML's `lang` wants it.
    pub fn tag(&self) -> String {
        self.0.to_string()
    }

    /// The message `key` with no argument.
    pub fn t(&self, key: &str) -> String {
        self.t_args(key, &[])
    }

    /// The message `key` with its arguments.
    pub fn t_args(&self, key: &str, args: &[(&'static str, Arg)]) -> String {
        let map: HashMap<Cow<'static, str>, Arg> = args.iter().map(|(k, v)| (Cow::Borrowed(*k), v.clone())).collect();
        match LOCALES.try_lookup_with_args(&self.0, key, &map) {
            Some(s) => s,
            None => {
                // Every key is in every file (tested); a key missing from the code's side is a bug
                // the tests meet, while a release gate still shows something.
                debug_assert!(false, "no message {key:?} in the gate's language files");
                key.to_owned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;

    /// Every message and term id of one language's files.
    fn keys(dir: &Path) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "ftl") {
                let src = std::fs::read_to_string(&path).unwrap();
                let res = fluent_syntax::parser::parse(src.as_str())
                    .unwrap_or_else(|(_, errs)| panic!("{}: {errs:?}", path.display()));
                for entry in res.body {
                    match entry {
                        fluent_syntax::ast::Entry::Message(m) => out.insert(m.id.name.to_owned()),
                        fluent_syntax::ast::Entry::Term(t) => out.insert(format!("-{}", t.id.name)),
                        _ => false,
                    };
                }
            }
        }
        out
    }

    #[test]
    fn every_language_has_every_key_of_every_other_language() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
        let langs: Vec<(String, BTreeSet<String>)> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), keys(&p)))
            .collect();
        assert!(langs.len() >= 2, "French and English at least: {langs:?}");
        let all: BTreeSet<&String> = langs.iter().flat_map(|(_, k)| k).collect();
        for (lang, k) in &langs {
            let missing: Vec<&&String> = all.iter().filter(|key| !k.contains(**key)).collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
        }
        assert_eq!(
            available(),
            langs
                .iter()
                .map(|(l, _)| l.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>(),
            "the binary has exactly the languages of the directory"
        );
    }

    #[test]
    fn a_language_is_chosen_by_tag_or_by_its_language_and_an_unknown_one_is_refused_with_the_choices() {
        assert_eq!(Lang::new("fr").unwrap().tag(), "fr");
        assert_eq!(Lang::new("fr-CA").unwrap().tag(), "fr");
        assert_eq!(Lang::new("en").unwrap().tag(), "en");
        assert_eq!(Lang::default().tag(), "fr");
        let e = Lang::new("xx").unwrap_err();
        assert!(e.contains("en, fr"), "{e}");
        assert!(Lang::new("not a tag!").is_err());
    }

    #[test]
    fn plurals_follow_each_language_s_rules() {
        let en = Lang::new("en").unwrap();
        let fr = Lang::new("fr").unwrap();
        assert_eq!(en.t_args("duration-days", &[("n", num(1))]), "1 day");
        assert_eq!(en.t_args("duration-days", &[("n", num(3))]), "3 days");
        assert_eq!(fr.t_args("duration-days", &[("n", num(3))]), "3 jours");
    }
}
