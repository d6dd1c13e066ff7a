//! Settings of a running issuer, resolved once from (highest first) command-line flags,
//! environment variables (`OG_*`), a TOML file (`--config`), values stored in the data dir,
//! and built-in defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use og_shared::DeploymentId;

/// Default listen address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Default deployment id for a demo data dir.
pub const DEFAULT_DEPLOYMENT: &str = "og-demo";
/// File in the data dir remembering which deployment it belongs to.
pub const DEPLOYMENT_FILE: &str = "deployment-id";

/// The TOML file. Every field is optional; unknown fields are an error (a typo should not be
/// silently ignored).
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    /// `sqlite:PATH` or `postgres://...` (default: the SQLite file in the data dir).
    pub database_url: Option<String>,
    /// The PostgreSQL password's file, for a `database_url` that names none.
    pub database_password_file: Option<PathBuf>,
    pub bind: Option<SocketAddr>,
    pub deployment_id: Option<String>,
    pub public_url: Option<String>,
    pub seed_demo: Option<bool>,
    pub smtp: Option<SmtpFileConfig>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (see `proxy`).
    pub trusted_proxies: Option<Vec<crate::proxy::Cidr>>,
    /// How many times a ticket may be bound again from another phone (default 3).
    pub max_rebinds: Option<u32>,
    /// Seconds between two rotating codes on the phone page (default 5).
    pub rotation_period_secs: Option<u32>,
    /// The buyers' language when neither their choice, their account nor their browser names
    /// one we have (default `en`; any `issuer/locales/<code>/`).
    pub default_language: Option<String>,
}

/// `[smtp]` in the TOML file.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpFileConfig {
    pub url: Option<String>,
    pub from: Option<String>,
    pub username: Option<String>,
    pub password_file: Option<PathBuf>,
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<FileConfig, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("config {}: {e}", path.display()))
    }
}

/// Outgoing mail. Without it, mails are written to `<data dir>/outbox-mail/`.
#[derive(Clone)]
pub struct SmtpSettings {
    /// `smtp://host:port` (plain, for a local relay or a test sink) or `smtps://host:port`.
    pub url: String,
    pub from: String,
    pub username: Option<String>,
    /// Read from a file, never from the command line.
    pub password: Option<zeroize::Zeroizing<String>>,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("url", &self.url)
            .field("from", &self.from)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Everything the running issuer needs to know.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// The database; `None` is the SQLite file in the data dir.
    pub database: Option<crate::store::DatabaseUrl>,
    pub bind: SocketAddr,
    pub deployment: DeploymentId,
    /// Base URL used in links sent by mail (defaults to `http://<bind>`).
    pub public_url: Option<String>,
    pub seed_demo: bool,
    pub smtp: Option<SmtpSettings>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (see `proxy`).
    pub trusted_proxies: Vec<crate::proxy::Cidr>,
    /// Holder-bound tickets on the buyer's phone (see `binding`).
    pub phone: PhoneSettings,
    /// The buyers' language when nothing else names one (see `i18n`; default `en`).
    pub default_language: String,
}

/// The default of `default_language`: English, so existing clients and tests read what they did.
pub const DEFAULT_LANGUAGE: &str = "en";

/// Checks a `default_language` against the languages compiled in.
pub fn resolve_default_language(value: Option<String>) -> Result<String, String> {
    let v = value.unwrap_or_else(|| DEFAULT_LANGUAGE.to_owned());
    match crate::i18n::find(&v) {
        Some(l) => Ok(l.code().to_owned()),
        None => Err(format!(
            "default language {v:?}: no issuer/locales/{v}/main.ftl (have: {})",
            crate::i18n::available()
                .map(|l| l.code())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Holder-bound tickets: how often a ticket may move to another phone, how often the code
/// changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneSettings {
    /// Bindings from another phone allowed after the first one, per holder (default 3).
    pub max_rebinds: u32,
    /// Seconds between two rotating codes (default 5; the gate checks only its tolerance).
    pub rotation_period_secs: u32,
}

impl Default for PhoneSettings {
    fn default() -> PhoneSettings {
        PhoneSettings {
            max_rebinds: 3,
            rotation_period_secs: 5,
        }
    }
}

impl PhoneSettings {
    /// Flag or environment value over file value over default. A period outside 1..=20 s is
    /// refused: a code must stay fresh for the gates' tolerance (default 30 s) through a whole
    /// period plus the phone's clock error.
    pub fn resolve(max_rebinds: Option<u32>, rotation_period_secs: Option<u32>) -> Result<PhoneSettings, String> {
        let d = PhoneSettings::default();
        let period = rotation_period_secs.unwrap_or(d.rotation_period_secs);
        if !(1..=20).contains(&period) {
            return Err(format!(
                "rotation period {period} s: choose 1 to 20 seconds (gates accept codes up to 30 s old by default)"
            ));
        }
        Ok(PhoneSettings {
            max_rebinds: max_rebinds.unwrap_or(d.max_rebinds),
            rotation_period_secs: period,
        })
    }
}

impl Settings {
    /// Settings for tests: a temp data dir, port 0, no SMTP, demo catalogue seeded.
    pub fn for_tests(data_dir: &Path) -> Settings {
        Settings {
            data_dir: data_dir.to_owned(),
            database: None,
            bind: "127.0.0.1:0".parse().expect("valid address"),
            deployment: DeploymentId::parse("og-test").expect("valid id"),
            public_url: None,
            seed_demo: true,
            smtp: None,
            trusted_proxies: Vec::new(),
            phone: PhoneSettings::default(),
            default_language: DEFAULT_LANGUAGE.to_owned(),
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("issuer.sqlite3")
    }

    /// The database this issuer uses: the configured one, else the data dir's SQLite file.
    pub fn database_url(&self) -> crate::store::DatabaseUrl {
        self.database
            .clone()
            .unwrap_or_else(|| crate::store::DatabaseUrl::Sqlite(self.db_path()))
    }

    pub fn signing_key_path(&self) -> PathBuf {
        crate::trust::keys::keys_dir(&self.data_dir).join(crate::trust::keys::SIGNING_KEY_FILE)
    }

    /// Demo mode: the demo catalogue and no mail server. Only then are mailed links also
    /// written to the log.
    pub fn demo_mode(&self) -> bool {
        self.seed_demo && self.smtp.is_none()
    }

    /// Where mails go when no SMTP server is configured.
    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.join("outbox-mail")
    }

    /// The base URL for links, given the address actually bound.
    pub fn base_url(&self, bound: SocketAddr) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{bound}"))
    }
}

/// Resolves the deployment id of a data dir: an explicit value must match the stored one; with
/// none, the stored one is used, or the default is stored on first use.
pub fn resolve_deployment(data_dir: &Path, explicit: Option<&str>) -> Result<DeploymentId, String> {
    let file = data_dir.join(DEPLOYMENT_FILE);
    let stored = match std::fs::read_to_string(&file) {
        Ok(s) => Some(DeploymentId::parse(s.trim()).map_err(|e| format!("{}: {e}", file.display()))?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
    };
    let explicit = explicit
        .map(|s| DeploymentId::parse(s).map_err(|e| format!("deployment id {s:?}: {e}")))
        .transpose()?;
    match (explicit, stored) {
        (Some(e), Some(s)) if e != s => Err(format!(
            "the data dir {} belongs to deployment {s}, not {e}",
            data_dir.display()
        )),
        (Some(e), Some(_)) | (None, Some(e)) => Ok(e),
        (explicit, None) => {
            let id = explicit.unwrap_or_else(|| DeploymentId::parse(DEFAULT_DEPLOYMENT).expect("valid default"));
            std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
            std::fs::write(&file, id.as_str()).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            Ok(id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_dir_remembers_its_deployment_and_refuses_another() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            resolve_deployment(dir.path(), None).unwrap().as_str(),
            DEFAULT_DEPLOYMENT
        );
        assert_eq!(
            resolve_deployment(dir.path(), None).unwrap().as_str(),
            DEFAULT_DEPLOYMENT
        );
        assert!(resolve_deployment(dir.path(), Some("prod")).is_err());
    }

    #[test]
    fn the_phone_settings_default_to_three_moves_and_five_seconds_and_refuse_a_silly_period() {
        assert_eq!(
            PhoneSettings::resolve(None, None).unwrap(),
            PhoneSettings {
                max_rebinds: 3,
                rotation_period_secs: 5
            }
        );
        assert_eq!(PhoneSettings::resolve(Some(0), Some(10)).unwrap().max_rebinds, 0);
        assert!(PhoneSettings::resolve(None, Some(0)).unwrap_err().contains("1 to 20"));
        assert!(PhoneSettings::resolve(None, Some(21)).is_err());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "max_rebinds = 1\nrotation_period_secs = 10\n").unwrap();
        let c = FileConfig::load(&p).unwrap();
        assert_eq!((c.max_rebinds, c.rotation_period_secs), (Some(1), Some(10)));
    }

    #[test]
    fn an_unknown_key_in_the_config_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "bind = \"127.0.0.1:9\"\nbnid = 1\n").unwrap();
        assert!(FileConfig::load(&p).unwrap_err().contains("bnid"));
        std::fs::write(&p, "bind = \"127.0.0.1:9\"\n[smtp]\nurl = \"smtp://127.0.0.1:2525\"\n").unwrap();
        let c = FileConfig::load(&p).unwrap();
        assert_eq!(c.bind.unwrap().port(), 9);
    }
}
