//! The offline subcommands of gate operations: they open the data dir directly (the issuer
//! need not be running) and print results on stdout, errors on stderr.
//!
//! * `issuer admin create-operator --email E [--role admin|supervisor|support]`: an operator
//!   account (default role admin) and a one-time token;
//! * `issuer events list [--json]`: the catalogue with ids;
//! * `issuer export-gate-bundle [--event ID] [--zone Z] --out FILE`: a signed offline bundle;
//! * `issuer comp --event ID --offer solo|duo|family --email ADDR [--count N] --out DIR`:
//!   complimentary tickets written as PNG QR codes and text;
//! * `issuer revocations republish [FILE...]`: after a restore from backup, re-append the
//!   revocations gates knew (`gate-agent export-revocations` files) and start a new log epoch;
//! * `issuer rotate-signing-key`: retire the signing key (it keeps signing the key set) and make
//!   a new one.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use og_shared::Offer;

use super::common::Common;
use crate::config::{self, Settings};
use crate::store::Db;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an operator account (or promote an existing one) and print a new operator token
    /// once. Keep it secret: it opens the operator API and console.
    CreateOperator {
        #[arg(long, value_name = "ADDR")]
        email: String,
        /// admin (everything), supervisor (gates, devices, conflicts, revoking single tickets,
        /// reading) or support (search and read, resend mails). An existing operator gets the
        /// new role.
        #[arg(long, value_parser = parse_role, default_value = "admin")]
        role: crate::ops::access::Role,
    },
    /// Revoke every operator token of an account (signs it out of the console too).
    RevokeOperatorTokens {
        #[arg(long, value_name = "ADDR")]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Print every event with its id, doors, zones and offers.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RevocationsCommand {
    /// After restoring the database from a backup: re-append every revocation the given gate
    /// copies hold that the log lacks (revoking their tickets again), and start a new log epoch.
    /// Gates refuse a restored log that lost revocations they knew; they accept the new epoch
    /// once it holds all of them.
    Republish {
        /// Revocation copies written by `gate-agent export-revocations` (as many gates as you
        /// can reach; each adds what it knew).
        #[arg(value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ExportBundleArgs {
    /// Only this event (default: every event).
    #[arg(long, value_name = "ID")]
    pub event: Option<u32>,
    /// Zone number the gate serves (default: every zone).
    #[arg(long, value_name = "Z")]
    pub zone: Option<u8>,
    /// Where to write the bundle.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct CompArgs {
    #[arg(long, value_name = "ID")]
    pub event: u32,
    /// solo, duo or family.
    #[arg(long, value_parser = parse_offer)]
    pub offer: Offer,
    /// The holder's account (created if needed).
    #[arg(long, value_name = "ADDR")]
    pub email: String,
    #[arg(long, default_value_t = 1)]
    pub count: u32,
    /// Issue even beyond the event's capacity, raising it; says why (recorded).
    #[arg(long, value_name = "REASON")]
    pub force_capacity: Option<String>,
    /// Directory for ticket-SERIAL.png and ticket-SERIAL.txt (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

fn parse_role(s: &str) -> Result<crate::ops::access::Role, String> {
    crate::ops::access::Role::parse(&s.to_ascii_lowercase())
        .ok_or_else(|| format!("{s:?} is not admin, supervisor or support"))
}

fn parse_offer(s: &str) -> Result<Offer, String> {
    Offer::from_name(&s.to_ascii_lowercase()).ok_or_else(|| format!("{s:?} is not solo, duo or family"))
}

fn open(common: Common) -> Result<(Db, og_shared::TicketSigner), String> {
    let settings = Settings {
        data_dir: common.data_dir,
        database: common.database,
        bind: config::DEFAULT_BIND.parse().expect("valid default"),
        deployment: common.deployment,
        public_url: common.file.public_url,
        seed_demo: common.file.seed_demo.unwrap_or(true),
        smtp: None,
        trusted_proxies: Vec::new(),
        phone: config::PhoneSettings::default(),
        default_language: config::DEFAULT_LANGUAGE.to_owned(),
    };
    let (db, signer, _secrets) = crate::startup::open_data_dir(&settings)?;
    Ok((db, signer))
}

fn err(e: crate::error::AppError) -> String {
    e.public_message()
}

pub fn admin(common: Common, cmd: &AdminCommand) -> Result<(), String> {
    let (db, _) = open(common)?;
    match cmd {
        AdminCommand::CreateOperator { email, role } => {
            let (id, token) = db
                .write_sync(|tx| crate::ops::auth::create_operator_with_role(tx, email, *role, crate::now()))
                .map_err(err)?;
            eprintln!(
                "operator account {id} ({email}, role {}) is active; its token (shown once, keep it secret):",
                role.name()
            );
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", &*token).map_err(|e| e.to_string())
        }
        AdminCommand::RevokeOperatorTokens { email } => {
            let n = db
                .write_sync(|tx| crate::ops::auth::revoke_operator_tokens(tx, email, crate::now()))
                .map_err(err)?;
            println!("revoked {n} operator token(s) of {email}");
            Ok(())
        }
    }
}

pub fn events(common: Common, cmd: &EventsCommand) -> Result<(), String> {
    let (db, _) = open(common)?;
    let EventsCommand::List { json } = cmd;
    let events = db.read_sync(crate::ops::catalogue::list_events).map_err(err)?;
    let mut out = std::io::stdout().lock();
    let w = |r: std::io::Result<()>| r.map_err(|e| e.to_string());
    if *json {
        w(serde_json::to_writer_pretty(&mut out, &events).map_err(std::io::Error::other))?;
        return w(writeln!(out));
    }
    w(writeln!(
        out,
        "{:>4}  {:<17}  {:<16}  {:<38}  {:<24}  offers",
        "id", "starts (UTC)", "sport", "event", "venue"
    ))?;
    for e in &events {
        let starts = time::OffsetDateTime::from_unix_timestamp(e.starts_at)
            .map(|d| {
                format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}",
                    d.year(),
                    u8::from(d.month()),
                    d.day(),
                    d.hour(),
                    d.minute()
                )
            })
            .unwrap_or_default();
        let offers = e
            .offers
            .iter()
            .map(|o| format!("{} {}.{:02}", o.kind, o.price_cents / 100, o.price_cents % 100))
            .collect::<Vec<_>>()
            .join(", ");
        w(writeln!(
            out,
            "{:>4}  {:<17}  {:<16}  {:<38}  {:<24}  {offers}",
            e.id, starts, e.sport, e.name, e.venue
        ))?;
    }
    Ok(())
}

pub fn revocations(common: Common, cmd: &RevocationsCommand) -> Result<(), String> {
    let (db, signer) = open(common)?;
    let RevocationsCommand::Republish { files } = cmd;
    let mut trust = og_shared::TrustStore::new(signer.deployment().clone());
    for k in db.read_sync(crate::gates::sync::keys).map_err(err)? {
        if let Ok(k) = k.to_trusted() {
            trust.add(k);
        }
    }
    let mut known = Vec::new();
    for f in files {
        let bytes = std::fs::read(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        let export = og_shared::trust::RevocationExport::from_bytes(&bytes)
            .map_err(|e| format!("{}: not a gate's revocation copy: {e}", f.display()))?;
        let origin = match &export.checkpoint {
            Some(c) => {
                c.verify(&trust, c.issued_at)
                    .map_err(|e| format!("{}: refused: {e}", f.display()))?;
                "signed by this issuer"
            }
            None => "from a bundle-provisioned gate, not signed",
        };
        eprintln!(
            "{}: {} revocations up to {} ({origin})",
            f.display(),
            export.page.entries.len(),
            export.page.to_seq
        );
        known.extend(export.page.entries);
    }
    let r = db
        .write_sync(|tx| crate::trust::revocation::republish(tx, &known, crate::now()))
        .map_err(err)?;
    println!(
        "re-published {} revocations the log lacked; the log ends at {} in epoch {}: gates accept it at their next sync",
        r.appended, r.head, r.epoch
    );
    Ok(())
}

pub fn rotate_signing_key(common: Common) -> Result<(), String> {
    let path = crate::trust::keys::keys_dir(&common.data_dir).join(crate::trust::keys::SIGNING_KEY_FILE);
    let (old, new) = crate::trust::keys::rotate_signer(&path, &common.deployment)?;
    // Registers the new key for gates (and checks the database opens).
    open(common)?;
    println!(
        "retired signing key {} (kept in keys/{}/ to sign the key set), new signing key {}: start the issuer",
        old.key_id(),
        crate::trust::keys::RETIRED_DIR,
        new.key_id()
    );
    Ok(())
}

pub fn export_gate_bundle(common: Common, args: &ExportBundleArgs) -> Result<(), String> {
    let (db, signer) = open(common)?;
    let file = db
        .read_sync(|conn| crate::ops::catalogue::gate_bundle(conn, &signer, args.event, args.zone, crate::now()))
        .map_err(err)?;
    write_file(&args.out, &file)?;
    eprintln!("wrote gate bundle {} ({} bytes)", args.out.display(), file.len());
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn comp(common: Common, args: &CompArgs) -> Result<(), String> {
    let (db, signer) = open(common)?;
    let force = args
        .force_capacity
        .clone()
        .map(|reason| crate::ops::catalogue::ForceCapacity {
            operator: format!("cli:{}", std::env::var("USER").unwrap_or_default()),
            reason,
        });
    // Committed before writing the files: a signed ticket must never exist without its
    // database row (its serial would be reused). If writing fails afterwards, the tickets exist
    // and can be revoked.
    let tickets = db
        .write_sync(|tx| {
            crate::ops::catalogue::issue_comps(
                tx,
                &signer,
                args.event,
                args.offer,
                &args.email,
                args.count,
                force.as_ref(),
                crate::now(),
            )
        })
        .map_err(err)?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    for t in &tickets {
        let written = crate::trust::qr_image::png(&t.qr_text, 8)
            .map_err(|e| e.to_string())
            .and_then(|png| {
                write_file(&args.out.join(format!("ticket-{}.png", t.serial)), &png)?;
                write_file(
                    &args.out.join(format!("ticket-{}.txt", t.serial)),
                    format!("{}\n", t.qr_text).as_bytes(),
                )
            });
        if let Err(e) = written {
            let serials: Vec<String> = tickets.iter().map(|t| t.serial.to_string()).collect();
            return Err(format!(
                "{e}; tickets {} were issued: revoke them if they cannot be handed out",
                serials.join(", ")
            ));
        }
    }
    let mut out = std::io::stdout().lock();
    for t in &tickets {
        writeln!(
            out,
            "ticket {} event {} {} -> {}",
            t.serial,
            t.event_id,
            t.offer.name(),
            args.out.join(format!("ticket-{}.png", t.serial)).display()
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}
