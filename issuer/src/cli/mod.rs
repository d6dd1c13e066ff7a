//! The `issuer` command line.
//!
//! `issuer serve` runs the shop and the gate API. Other subcommands work directly on a data
//! dir (the issuer need not be running). Precedence: flags, then `OG_*` environment variables,
//! then the `--config` TOML file, then what the data dir remembers, then defaults. The offline
//! commands of gate operations are in [`admin`]. Like `web`, this is a front end: it parses,
//! calls one domain function and prints.

pub mod admin;
pub mod common;

pub use common::Common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{self, FileConfig, Settings, SmtpSettings};

#[derive(Debug, Parser)]
#[command(
    name = "issuer",
    version,
    about = "og-tickets issuer: shop, ticket signing and gate operations"
)]
pub struct Cli {
    /// Data directory (SQLite database, keys, outgoing mail).
    #[arg(long, global = true, env = "OG_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// TOML configuration file.
    #[arg(long, global = true, env = "OG_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Database: `sqlite:PATH` or `postgres://USER@HOST/DB` (default: `issuer.sqlite3` in the
    /// data dir). Several `serve` replicas share one PostgreSQL database.
    #[arg(
        long = "database",
        global = true,
        env = "OG_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database: Option<String>,

    /// File holding the PostgreSQL password (its first line), for a `postgres://` URL that names
    /// none: keeps the password out of the URL, the command line and the environment (a Docker
    /// secret, a file only the issuer's user reads).
    #[arg(long, global = true, env = "OG_DATABASE_PASSWORD_FILE", value_name = "FILE")]
    pub database_password_file: Option<PathBuf>,

    /// Deployment id mixed into every signature (a data dir remembers its own).
    #[arg(long, global = true, env = "OG_DEPLOYMENT_ID", value_name = "ID")]
    pub deployment_id: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web shop, the JSON API and the gate API.
    Serve(ServeArgs),
    /// Administration (operators).
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// The event catalogue.
    #[command(subcommand)]
    Events(admin::EventsCommand),
    /// Write a signed offline bundle (keys, revocations, event facts) for `gate-agent import`.
    ExportGateBundle(admin::ExportBundleArgs),
    /// Issue complimentary tickets (no payment) and write their QR codes as PNG and text.
    Comp(admin::CompArgs),
    /// The revocation log (re-publishing it after a restore from backup).
    #[command(subcommand)]
    Revocations(admin::RevocationsCommand),
    /// Retire the ticket-signing key (kept in keys/retired/ to sign the key set gates adopt) and
    /// create a new one. Stop the issuer first.
    RotateSigningKey,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port and prints it.
    #[arg(long, env = "OG_BIND", value_name = "ADDR")]
    pub bind: Option<SocketAddr>,

    /// Base URL used in links sent by mail (e.g. https://tickets.example.org).
    #[arg(long, env = "OG_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    /// Do not seed the demo catalogue into an empty database.
    #[arg(long)]
    pub no_seed: bool,

    /// SMTP server for outgoing mail (smtp://host:port or smtps://host:port). Without it, mails
    /// are written to <data dir>/outbox-mail/.
    #[arg(long, env = "OG_SMTP_URL", value_name = "URL")]
    pub smtp_url: Option<String>,

    /// Sender address of outgoing mail.
    #[arg(long, env = "OG_SMTP_FROM", value_name = "ADDR")]
    pub smtp_from: Option<String>,

    /// SMTP user name.
    #[arg(long, env = "OG_SMTP_USERNAME", value_name = "NAME")]
    pub smtp_username: Option<String>,

    /// File holding the SMTP password (never pass secrets as flags).
    #[arg(long, env = "OG_SMTP_PASSWORD_FILE", value_name = "FILE")]
    pub smtp_password_file: Option<PathBuf>,

    /// Reverse proxies whose `X-Forwarded-For` is believed for the client address (rate
    /// limits); comma-separated addresses or networks (10.0.0.2, 172.16.0.0/12). Without any,
    /// the header is ignored.
    #[arg(
        long = "trusted-proxy",
        env = "OG_TRUSTED_PROXIES",
        value_name = "IP",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<crate::proxy::Cidr>,

    /// How many times a buyer may move a ticket to another phone (default 3).
    #[arg(long, env = "OG_MAX_REBINDS", value_name = "N")]
    pub max_rebinds: Option<u32>,

    /// Seconds between two rotating codes on the buyer's phone (default 5).
    #[arg(long, env = "OG_ROTATION_PERIOD", value_name = "SECONDS")]
    pub rotation_period: Option<u32>,

    /// Buyers' language when neither their choice, their account nor their browser names one
    /// we have (default en; any directory of issuer/locales/).
    #[arg(long, env = "OG_DEFAULT_LANGUAGE", value_name = "CODE")]
    pub default_language: Option<String>,
}

impl Cli {
    /// Loads the config file and resolves the data dir and deployment id.
    pub fn common(&self) -> Result<Common, String> {
        let file = match &self.config {
            Some(p) => FileConfig::load(p)?,
            None => FileConfig::default(),
        };
        let data_dir = self
            .data_dir
            .clone()
            .or_else(|| file.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from("data"));
        let explicit = self.deployment_id.clone().or_else(|| file.deployment_id.clone());
        let deployment = config::resolve_deployment(&data_dir, explicit.as_deref())?;
        let database = match self.database.clone().or_else(|| file.database_url.clone()) {
            Some(url) => Some(crate::store::DatabaseUrl::parse(&url)?),
            None => None,
        };
        let password_file = self
            .database_password_file
            .clone()
            .or_else(|| file.database_password_file.clone());
        let database = match (database, password_file) {
            (Some(db), Some(path)) => {
                Some(db.with_password(&crate::secrets::read_password_file(&path, "database password")?)?)
            }
            (None, Some(path)) => {
                return Err(format!(
                    "a database password file ({}) goes with a postgres:// database URL (--database, OG_DATABASE_URL), and none is given",
                    path.display()
                ));
            }
            (database, None) => database,
        };
        Ok(Common {
            file,
            data_dir,
            database,
            deployment,
        })
    }
}

impl ServeArgs {
    /// Combines these flags with the common options into [`Settings`].
    pub fn settings(&self, common: Common) -> Result<Settings, String> {
        let file = common.file;
        let fsmtp = file.smtp.clone().unwrap_or_default();
        let smtp_url = self.smtp_url.clone().or(fsmtp.url);
        let smtp = match smtp_url {
            None => None,
            Some(url) => {
                let password = match self.smtp_password_file.clone().or(fsmtp.password_file) {
                    Some(p) => Some(crate::secrets::read_password_file(&p, "SMTP password")?),
                    None => None,
                };
                Some(SmtpSettings {
                    url,
                    from: self
                        .smtp_from
                        .clone()
                        .or(fsmtp.from)
                        .unwrap_or_else(|| "og-tickets <tickets@localhost>".into()),
                    username: self.smtp_username.clone().or(fsmtp.username),
                    password,
                })
            }
        };
        Ok(Settings {
            data_dir: common.data_dir,
            database: common.database,
            bind: self
                .bind
                .or(file.bind)
                .unwrap_or_else(|| config::DEFAULT_BIND.parse().expect("valid default")),
            deployment: common.deployment,
            public_url: self.public_url.clone().or(file.public_url),
            seed_demo: !self.no_seed && file.seed_demo.unwrap_or(true),
            smtp,
            trusted_proxies: if self.trusted_proxies.is_empty() {
                file.trusted_proxies.unwrap_or_default()
            } else {
                self.trusted_proxies.clone()
            },
            phone: config::PhoneSettings::resolve(
                self.max_rebinds.or(file.max_rebinds),
                self.rotation_period.or(file.rotation_period_secs),
            )?,
            default_language: config::resolve_default_language(
                self.default_language.clone().or(file.default_language),
            )?,
        })
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("issuer: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let common = cli.common()?;
    match &cli.command {
        Command::Serve(args) => {
            let settings = args.settings(common)?;
            let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let app = crate::startup::Application::build(settings).await?;
                // The address bound, not the public URL (behind a proxy they differ).
                println!("og-tickets issuer listening on http://{}", app.addr());
                println!("shop: {}/", app.base_url());
                app.run_until_stopped().await.map_err(|e| e.to_string())
            })
        }
        Command::Admin(cmd) => admin::admin(common, cmd),
        Command::Events(cmd) => admin::events(common, cmd),
        Command::ExportGateBundle(args) => admin::export_gate_bundle(common, args),
        Command::Comp(args) => admin::comp(common, args),
        Command::Revocations(cmd) => admin::revocations(common, cmd),
        Command::RotateSigningKey => admin::rotate_signing_key(common),
    }
}
