//! The command line: argument parsing (clap) and one function per subcommand.
//!
//! Exit codes are part of the interface for turnstile scripts: `check` and `scan` return 0 when
//! every code was admitted, 1 when any was rejected, 2 on an error (unreadable file, device not
//! provisioned, corrupted database).

use std::io::{BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use og_shared::UnixSeconds;
use og_shared::sync::Direction;

use crate::bundle::{ImportOptions, import_file};
use crate::decide::{GatePolicy, PartyPolicy};
use crate::decode::{DecodeOptions, Decoded, Decoders, decode_luma, load_luma};
use crate::gate::{Gate, Outcome};
use crate::i18n::Lang;
use crate::kiosk::Display;
use crate::output::VerdictLine;
use crate::source::{CameraRequest, FileFrames, FrameSource, Input, LineCodes, open_camera};
use crate::staff::{self, Clock, Health, Voice};
use crate::store::{Store, read_credential};
use crate::sync::{Backoff, ProgressOutput, enroll, sync_round};

/// Writes a line to stderr, ignoring a closed or broken stderr: a gate must keep admitting even
/// when nobody reads its messages (`eprintln!` would panic).
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

/// og-tickets gate agent: reads ticket QR codes, decides ADMIT or REJECT on its own (no network
/// needed), records every scan durably and reports scans back to the issuer when it can.
///
/// First provision the device (`enroll` online, or `import` a bundle file), then use `run`
/// at the turnstile. `check`, `scan` and `decode` help test a ticket, an image or a camera.
#[derive(Debug, Parser)]
#[command(name = "gate-agent", version, about, long_about)]
pub struct Cli {
    /// Directory holding this gate's database and credential.
    #[arg(
        long,
        global = true,
        default_value = "./gate-data",
        env = "OG_GATE_DATA_DIR",
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,
    /// Print one JSON object per line instead of the coloured line for humans.
    #[arg(long, global = true)]
    pub json: bool,
    /// Never use colours (also when NO_COLOR is set or output is not a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// The venue's time zone (IANA name) for times shown to staff; given to `import` or `enroll`
    /// it is kept as the gate's zone. Default: the kept zone, else Europe/Paris.
    #[arg(long, global = true, env = "OG_GATE_TIME_ZONE", value_name = "ZONE")]
    pub time_zone: Option<String>,
    /// The language staff read (verdicts, kiosk page, `status`): `fr` or `en` (every language
    /// the gate has a file for); given to `import` or `enroll` it is kept as the gate's
    /// language. Default: the kept language, else French. `--json` codes never change.
    #[arg(long, global = true, env = "OG_GATE_LANG", value_name = "LANG")]
    pub lang: Option<String>,
    /// How far from this gate's clock the time in a phone's rotating code may be, in seconds
    /// (default 30): an older code is refused as a picture, a newer one as a wrong clock. Given
    /// to `import` or `enroll` it is kept as the gate's setting; given to another command it
    /// applies to that run.
    #[arg(long, global = true, env = "OG_GATE_TOLERANCE", value_name = "SECONDS",
          value_parser = clap::value_parser!(i64).range(1..=3600))]
    pub tolerance: Option<i64>,
    /// Pretend the clock reads this Unix time (tests and replays only).
    #[arg(long, global = true, hide = true, env = "OG_GATE_NOW", value_name = "UNIX")]
    pub now: Option<i64>,
    #[command(subcommand)]
    pub command: Command,
}

/// When `sync` shows how far a revocation download got (on stderr).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    /// A bar when stderr is a terminal, nothing otherwise.
    #[default]
    Auto,
    /// A bar on a terminal, else plain lines `revocations DONE/TOTAL` (for a log or the journal).
    Always,
    /// Nothing.
    Never,
}

impl ProgressArg {
    /// What to draw, given whether stderr is a terminal.
    pub fn output(self, stderr_is_terminal: bool) -> ProgressOutput {
        match (self, stderr_is_terminal) {
            (ProgressArg::Never, _) | (ProgressArg::Auto, false) => ProgressOutput::Hidden,
            (_, true) => ProgressOutput::Bar,
            (ProgressArg::Always, false) => ProgressOutput::Lines,
        }
    }
}

/// How many people one scan of a Duo or Family ticket admits.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PartyArg {
    /// One scan admits the whole party ("ADMIT 4 - Family").
    WholeParty,
    /// One scan admits one person ("person 2 of 4"), for one-person-per-scan turnstiles.
    OnePerScan,
}

impl PartyArg {
    fn policy(self) -> PartyPolicy {
        match self {
            PartyArg::WholeParty => PartyPolicy::WholeParty,
            PartyArg::OnePerScan => PartyPolicy::OnePerScan,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DirectionArg {
    Entry,
    Exit,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Register this device with the issuer using a one-time enrolment token, then sync.
    ///
    /// Either scan the enrolment QR the operator console shows (`--scan IMAGE`, or
    /// `--scan --camera N`), or type `--issuer URL --token TOKEN`.
    Enroll {
        /// Issuer address, e.g. https://tickets.example.org
        #[arg(long, value_name = "URL", required_unless_present = "scan", conflicts_with = "scan")]
        issuer: Option<String>,
        /// One-time enrolment token shown by the issuer's operator page.
        #[arg(
            long,
            value_name = "TOKEN",
            required_unless_present = "scan",
            conflicts_with = "scan"
        )]
        token: Option<String>,
        /// Read the issuer address and the token from the console's enrolment QR: in this image
        /// file, or with `--camera N` from a camera.
        #[arg(long, value_name = "IMAGE", num_args = 0..=1, default_missing_value = "")]
        scan: Option<PathBuf>,
        /// With `--scan`: the camera to read the enrolment QR from.
        #[arg(long, value_name = "N", requires = "scan")]
        camera: Option<u32>,
        /// How many people one scan of a Duo or Family admits at this gate.
        #[arg(long, value_enum, value_name = "POLICY")]
        party: Option<PartyArg>,
        /// Name of this gate as shown to operators (e.g. "north-3").
        #[arg(long, value_name = "NAME")]
        gate: Option<String>,
        /// Show the progress of the first revocation download on stderr.
        #[arg(long, value_enum, default_value_t, value_name = "WHEN")]
        progress: ProgressArg,
        /// Allow a plain http:// issuer that is not on this machine (only on a network you
        /// control: whoever is on the path could change what this gate trusts).
        #[arg(long)]
        insecure_http: bool,
    },
    /// Provision or refresh this device offline from a signed bundle file.
    Import {
        /// The bundle file exported by the issuer (`export-gate-bundle`).
        bundle: PathBuf,
        /// Name of this gate as shown in reports (e.g. "north-3").
        #[arg(long, value_name = "NAME")]
        gate: Option<String>,
        /// Whether this gate lets people in (default) or out.
        #[arg(long, value_enum)]
        direction: Option<DirectionArg>,
        /// Refuse tickets when revocation data is older than this many seconds.
        #[arg(long, value_name = "SECONDS")]
        max_data_age: Option<i64>,
        /// How many people one scan of a Duo or Family admits at this gate.
        #[arg(long, value_enum, value_name = "POLICY")]
        party: Option<PartyArg>,
    },
    /// One synchronisation round with the issuer: send queued scans, fetch revocations.
    Sync {
        /// Show the progress of the revocation download on stderr.
        #[arg(long, value_enum, default_value_t, value_name = "WHEN")]
        progress: ProgressArg,
    },
    /// Give the verdict for QR texts typed or pasted (records the scans like a real entry).
    Check {
        /// The code texts (`OG2:...`).
        #[arg(required = true)]
        text: Vec<String>,
    },
    /// Decode image files and give a verdict for every ticket code in them.
    Scan {
        #[arg(required = true, value_name = "IMAGE")]
        images: Vec<PathBuf>,
    },
    /// Print every QR text found in image files, one per line (like `zbarimg --raw`).
    Decode {
        #[arg(required = true, value_name = "IMAGE")]
        images: Vec<PathBuf>,
        /// Also say on stderr what each decoder (zxing-cpp, rqrr) read alone, and how fast.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Run the gate: read codes continuously, show verdicts, sync in the background.
    Run {
        /// Read frames from this camera (`gate-agent cameras` lists them).
        #[arg(long, value_name = "N", group = "input")]
        camera: Option<u32>,
        /// The camera's resolution, e.g. 1280x720 (the closest mode the camera has).
        #[arg(long, value_name = "WxH", requires = "camera", value_parser = parse_resolution)]
        resolution: Option<(u32, u32)>,
        /// The camera's frame rate (the closest the camera has).
        #[arg(long, value_name = "F", requires = "camera")]
        fps: Option<u32>,
        /// Replay image files from a directory, in name order.
        #[arg(long, value_name = "DIR", group = "input")]
        frames: Option<PathBuf>,
        /// Read one code per line from standard input (keyboard-wedge or serial scanner).
        #[arg(long, group = "input")]
        stdin: bool,
        /// Serve a full-screen green/red page with the last verdict, e.g. 127.0.0.1:8088.
        #[arg(long, value_name = "ADDR")]
        status_addr: Option<String>,
        /// Shell command run after each admission (a beep, a turnstile relay).
        #[arg(long, value_name = "CMD")]
        on_admit: Option<String>,
        /// Shell command run after each rejection.
        #[arg(long, value_name = "CMD")]
        on_reject: Option<String>,
        /// Do not sync with the issuer in the background.
        #[arg(long)]
        no_sync: bool,
        /// The same code seen again within this many milliseconds is the same person.
        #[arg(long, default_value_t = 3000, value_name = "MS")]
        repeat_window_ms: u64,
        /// When replaying frames, wait this long between frames (simulates a camera's rate).
        #[arg(long, default_value_t = 0, value_name = "MS")]
        pace_ms: u64,
        /// Seconds between two background syncs while online (after a failure the agent
        /// retries with a growing backoff).
        #[arg(long, default_value_t = 30, value_name = "SECONDS")]
        sync_every: u64,
    },
    /// Show provisioning, data age, clock, queued reports, last sync and admissions today.
    Status,
    /// Write this gate's revocation copy to a file, for an issuer restored from a backup
    /// (`issuer revocations republish FILE`).
    ExportRevocations {
        /// Where to write the copy.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// List the cameras this machine has, with their modes (resolution, format, frame rate).
    Cameras,
}

fn parse_resolution(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("{s:?}: write the resolution as WxH, e.g. 1280x720"))?;
    let n = |v: &str| v.trim().parse::<u32>().ok().filter(|&n| (16..=8192).contains(&n));
    match (n(w), n(h)) {
        (Some(w), Some(h)) => Ok((w, h)),
        _ => Err(format!("{s:?}: width and height must be numbers from 16 to 8192")),
    }
}

/// Exit code for "every code admitted".
const OK: u8 = 0;
/// Exit code for "some code rejected".
const REJECTED: u8 = 1;
/// Exit code for an error.
const ERROR: u8 = 2;

/// Image files are not live frames: give the decoder far more time than a camera frame gets, so
/// that a file gives the same answer on a busy machine as on an idle one (the deadline still
/// stops rqrr's pathological cases).
const FILE_DECODE: DecodeOptions = DecodeOptions {
    fast_side: 960,
    max_side: 1280,
    deadline: Duration::from_millis(3000),
    thorough: true,
    full_frame_needs_eyes: false,
    hint: None,
    decoders: crate::decode::Decoders::Both,
};

/// The wall clock as unix seconds (0 if the clock is before 1970).
fn unix_now() -> UnixSeconds {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

struct Ctx {
    data_dir: PathBuf,
    json: bool,
    colour: bool,
    fixed_now: Option<i64>,
    /// The gate's language and the venue's clock for staff (`--lang`/`--time-zone`, else the
    /// gate's kept ones, else the defaults).
    voice: Voice,
    /// `--time-zone` was given: `import` and `enroll` keep it as the gate's zone.
    time_zone_given: bool,
    /// `--lang` was given: `import` and `enroll` keep it as the gate's language.
    lang_given: bool,
    /// `--tolerance`: kept by `import` and `enroll`, applied to this run by the others.
    tolerance: Option<i64>,
}

impl Ctx {
    /// Prints a command's result: `json` as one line with `--json`, else the human sentence.
    fn report(&self, human: impl FnOnce() -> String, json: serde_json::Value) {
        let line = if self.json { json.to_string() } else { human() };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }

    /// One sync round now, with progress as `--progress` asks.
    fn sync_round(&self, progress: ProgressArg) -> Result<crate::sync::SyncSummary, crate::sync::SyncError> {
        sync_round(
            &self.data_dir,
            self.now(),
            progress.output(std::io::stderr().is_terminal()),
        )
    }

    fn now(&self) -> UnixSeconds {
        self.fixed_now.unwrap_or_else(unix_now)
    }

    fn print(&self, o: &Outcome, source: Option<&str>, decode: Option<Duration>) -> VerdictLine {
        let line = VerdictLine::new(o, source, decode, &self.voice);
        let text = if self.json {
            line.to_json()
        } else {
            line.to_human(self.colour, &self.voice)
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
        line
    }

    /// After `import` or `enroll`: keeps `--time-zone` and `--party` as this gate's settings.
    fn keep_settings(&self, party: Option<PartyArg>) -> Result<(), crate::store::StoreError> {
        let store = Store::open(&self.data_dir)?;
        if self.time_zone_given {
            store.set_meta("time_zone", self.voice.clock.name())?;
        }
        if self.lang_given {
            store.set_meta("language", &self.voice.lang.tag())?;
        }
        if let Some(t) = self.tolerance {
            store.set_meta("rotating_tolerance", &t.to_string())?;
            let g: i64 = store.meta("generation")?.and_then(|g| g.parse().ok()).unwrap_or(0);
            store.set_meta("generation", &(g + 1).to_string())?;
        }
        if let Some(p) = party {
            store.set_meta("party_policy", p.policy().as_str())?;
            // Open gates re-read their configuration when the generation changes.
            let g: i64 = store.meta("generation")?.and_then(|g| g.parse().ok()).unwrap_or(0);
            store.set_meta("generation", &(g + 1).to_string())?;
        }
        Ok(())
    }
}

/// A setting kept by `import`/`enroll` in the gate's database, if any.
fn kept_setting(data_dir: &Path, key: &str) -> Option<String> {
    Store::open_if_present(data_dir)
        .ok()
        .flatten()
        .and_then(|s| s.meta(key).ok().flatten())
}

/// The venue's clock: `--time-zone`, else the zone kept by `import`/`enroll`, else the default.
fn venue_clock(data_dir: &Path, given: Option<&str>) -> Result<Clock, String> {
    if let Some(z) = given {
        return Clock::new(z);
    }
    Clock::new(
        kept_setting(data_dir, "time_zone")
            .as_deref()
            .unwrap_or(staff::DEFAULT_TIME_ZONE),
    )
}

/// The gate's language: `--lang`, else the language kept by `import`/`enroll`, else French.
fn gate_lang(data_dir: &Path, given: Option<&str>) -> Result<Lang, String> {
    if let Some(l) = given {
        return Lang::new(l);
    }
    Lang::new(
        kept_setting(data_dir, "language")
            .as_deref()
            .unwrap_or(crate::i18n::DEFAULT_LANG),
    )
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    say!("gate-agent: error: {msg}");
    ExitCode::from(ERROR)
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let colour =
        !cli.no_color && !cli.json && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
    let clock = match venue_clock(&cli.data_dir, cli.time_zone.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let lang = match gate_lang(&cli.data_dir, cli.lang.as_deref()) {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let ctx = Ctx {
        data_dir: cli.data_dir,
        json: cli.json,
        colour,
        fixed_now: cli.now,
        voice: Voice::new(lang, clock),
        time_zone_given: cli.time_zone.is_some(),
        lang_given: cli.lang.is_some(),
        tolerance: cli.tolerance,
    };
    match cli.command {
        Command::Enroll {
            issuer,
            token,
            scan,
            camera,
            party,
            gate,
            progress,
            insecure_http,
        } => {
            let target = match (issuer, token, scan) {
                (Some(i), Some(t), None) => Ok((i, t)),
                (_, _, Some(image)) => scan_enrolment(&image, camera).map(|c| (c.issuer, c.token)),
                _ => Err("give --issuer and --token, or --scan".to_owned()),
            };
            match target {
                Ok((issuer, token)) => {
                    cmd_enroll(&ctx, &issuer, &token, gate.as_deref(), party, progress, insecure_http)
                }
                Err(e) => fail(e),
            }
        }
        Command::Import {
            bundle,
            gate,
            direction,
            max_data_age,
            party,
        } => cmd_import(&ctx, &bundle, gate, direction, max_data_age, party),
        Command::Sync { progress } => cmd_sync(&ctx, progress),
        Command::Check { text } => cmd_check(&ctx, &text),
        Command::Scan { images } => cmd_scan(&ctx, &images),
        Command::Decode { images, verbose } => cmd_decode(&images, verbose),
        Command::Cameras => cmd_cameras(&ctx),
        Command::Run {
            camera,
            resolution,
            fps,
            frames,
            stdin,
            status_addr,
            on_admit,
            on_reject,
            no_sync,
            repeat_window_ms,
            pace_ms,
            sync_every,
        } => {
            let source: Result<Box<dyn FrameSource>, String> = match (camera, frames, stdin) {
                (Some(n), _, _) => open_camera(n, CameraRequest { resolution, fps }).map_err(|e| e.to_string()),
                (_, Some(dir), _) => FileFrames::dir(&dir)
                    .map(|f| Box::new(f) as Box<dyn FrameSource>)
                    .map_err(|e| e.to_string()),
                (_, _, true) => Ok(Box::new(LineCodes::new(BufReader::new(std::io::stdin())))),
                _ => Err("choose an input: --camera N, --frames DIR or --stdin".into()),
            };
            match source {
                Ok(src) => cmd_run(
                    &ctx,
                    src,
                    RunOptions {
                        status_addr,
                        on_admit,
                        on_reject,
                        sync: !no_sync,
                        sync_every: Duration::from_secs(sync_every.max(1)),
                        repeat_window: Duration::from_millis(repeat_window_ms),
                        pace: Duration::from_millis(pace_ms),
                        live: camera.is_some(),
                    },
                ),
                Err(e) => fail(e),
            }
        }
        Command::Status => cmd_status(&ctx),
        Command::ExportRevocations { out } => cmd_export_revocations(&ctx, &out),
    }
}

/// Reads the console's enrolment QR from an image file (`image` not empty) or a camera.
fn scan_enrolment(image: &Path, camera: Option<u32>) -> Result<og_shared::enrol::EnrolmentCode, String> {
    let found = |d: &Decoded, first_error: &mut Option<String>| {
        for c in &d.codes {
            match og_shared::enrol::EnrolmentCode::parse(c) {
                Ok(code) => return Some(code),
                Err(e) => {
                    first_error.get_or_insert_with(|| e.to_string());
                }
            }
        }
        None
    };
    let mut first_error = None;
    match camera {
        None if image.as_os_str().is_empty() => Err("--scan needs an IMAGE, or --camera N".into()),
        None => {
            let img = load_luma(image).map_err(|e| e.to_string())?;
            let d = decode_luma(&img, &FILE_DECODE);
            found(&d, &mut first_error).ok_or_else(|| match first_error {
                Some(e) => format!("{}: {e}", image.display()),
                None => format!("{}: no QR code found", image.display()),
            })
        }
        Some(n) => {
            let mut src = open_camera(n, CameraRequest::default()).map_err(|e| e.to_string())?;
            say!("gate-agent: hold the enrolment QR code in front of camera {n}");
            let until = Instant::now() + ENROL_SCAN_TIME;
            let mut cadence = crate::decode::LiveCadence::default();
            while Instant::now() < until {
                match src.next_input() {
                    Some(Ok(Input::Frame { image, .. })) => {
                        let d = decode_luma(&image, &cadence.next_options());
                        cadence.saw(&d);
                        if let Some(code) = found(&d, &mut first_error) {
                            return Ok(code);
                        }
                    }
                    Some(Ok(Input::Code { .. })) => {}
                    Some(Err(e)) => return Err(e.to_string()),
                    None => break,
                }
            }
            Err(match first_error {
                Some(e) => format!("camera {n}: {e}"),
                None => format!(
                    "camera {n}: no enrolment QR code seen in {} s",
                    ENROL_SCAN_TIME.as_secs()
                ),
            })
        }
    }
}

/// How long `enroll --scan --camera N` looks for the enrolment QR.
const ENROL_SCAN_TIME: Duration = Duration::from_secs(60);

fn cmd_enroll(
    ctx: &Ctx,
    issuer: &str,
    token: &str,
    gate: Option<&str>,
    party: Option<PartyArg>,
    progress: ProgressArg,
    insecure_http: bool,
) -> ExitCode {
    match enroll(&ctx.data_dir, issuer, token, gate, insecure_http, ctx.now()) {
        Ok(en) => {
            if let Err(e) = ctx.keep_settings(party) {
                return fail(format!("enrolled, but the gate's settings were not kept: {e}"));
            }
            if !ctx.json {
                println!(
                    "enrolled as device {} ({}) for events {:?}",
                    en.device_id, en.device_name, en.event_ids
                );
            }
            let queued = report_queued_scope(ctx, &en.event_ids);
            match ctx.sync_round(progress) {
                Ok(s) => {
                    ctx.report(
                        || format!("synced: revocations up to {}", s.revocation_seq),
                        serde_json::json!({
                            "enrolled": true,
                            "device_id": en.device_id,
                            "device_name": en.device_name,
                            "event_ids": en.event_ids,
                            "queued_before_enrolment": queued,
                            "sync": sync_json(&s),
                        }),
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(format!("enrolled, but the first sync failed: {e}")),
            }
        }
        Err(e) => fail(e),
    }
}

/// After an enrolment: says that reports queued before it will be sent by the enrolled device,
/// and warns about those the issuer will refuse because the token does not cover their event.
/// Returns how many are queued.
fn report_queued_scope(ctx: &Ctx, scope: &[u32]) -> u64 {
    let Ok(queued) = Store::open(&ctx.data_dir).and_then(|s| s.queued_per_event()) else {
        return 0;
    };
    let total: u64 = queued.iter().map(|(_, n)| n).sum();
    if total > 0 && !ctx.json {
        println!("{total} scan reports queued before the enrolment will be sent as this device's");
    }
    for (event, n) in queued {
        if let Some(e) = event.filter(|e| !scope.contains(e)) {
            let _ = writeln!(
                std::io::stderr(),
                "gate-agent: warning: {n} queued reports are for event {e}, which this enrolment does not cover: \
                 the issuer will refuse them (they stay listed as refused in `status`)"
            );
        }
    }
    total
}

fn cmd_import(
    ctx: &Ctx,
    bundle: &Path,
    gate: Option<String>,
    direction: Option<DirectionArg>,
    max_data_age: Option<i64>,
    party: Option<PartyArg>,
) -> ExitCode {
    let opts = ImportOptions {
        gate_name: gate,
        direction: direction.map(|d| match d {
            DirectionArg::Entry => Direction::Entry,
            DirectionArg::Exit => Direction::Exit,
        }),
        max_data_age,
    };
    match import_file(&ctx.data_dir, bundle, &opts, ctx.now()) {
        Ok(s) => {
            if let Err(e) = ctx.keep_settings(party) {
                return fail(format!("imported, but the gate's settings were not kept: {e}"));
            }
            ctx.report(
                || {
                    format!(
                        "imported: {} keys, {} events, revocations up to {}{}",
                        s.keys,
                        s.events,
                        s.revocations,
                        if s.kept_newer_revocations {
                            " (kept the newer local copy)"
                        } else {
                            ""
                        }
                    )
                },
                serde_json::json!({
                    "imported": true,
                    "keys": s.keys,
                    "events": s.events,
                    "revocation_seq": s.revocations,
                    "kept_newer_revocations": s.kept_newer_revocations,
                }),
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn cmd_sync(ctx: &Ctx, progress: ProgressArg) -> ExitCode {
    match ctx.sync_round(progress) {
        Ok(s) => {
            ctx.report(
                || {
                    format!(
                        "sync ok: {} reports sent, {} refused, {} held; {} revocations applied{} (now at {}); {} admissions from other gates",
                        s.pushed,
                        s.refused,
                        s.held,
                        s.revocations_applied,
                        if s.snapshot { " from a full snapshot" } else { "" },
                        s.revocation_seq,
                        s.admissions
                    )
                },
                sync_json(&s),
            );
            ExitCode::SUCCESS
        }
        Err(crate::sync::SyncError::Refused(t)) => {
            // The refusal is a result to show, also to scripts reading --json.
            if ctx.json {
                ctx.report(
                    String::new,
                    serde_json::json!({"synced": false, "refused": t.code(), "reason": t.to_string()}),
                );
            }
            fail(crate::sync::SyncError::Refused(t))
        }
        Err(e) => fail(e),
    }
}

fn cmd_export_revocations(ctx: &Ctx, out: &Path) -> ExitCode {
    let export = match Store::open(&ctx.data_dir).and_then(|s| s.revocation_export()) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let written = export
        .to_bytes()
        .map_err(|e| e.to_string())
        .and_then(|b| std::fs::write(out, b).map_err(|e| format!("cannot write {}: {e}", out.display())));
    if let Err(e) = written {
        return fail(e);
    }
    ctx.report(
        || {
            format!(
                "exported {} revocations (up to {}{}) to {}",
                export.page.entries.len(),
                export.page.to_seq,
                if export.checkpoint.is_some() {
                    ", signed by the issuer"
                } else {
                    ""
                },
                out.display()
            )
        },
        serde_json::json!({
            "exported": export.page.entries.len(),
            "revocation_seq": export.page.to_seq,
            "signed": export.checkpoint.is_some(),
        }),
    );
    ExitCode::SUCCESS
}

/// A sync round's summary as JSON (`sync --json`, and inside `enroll --json`).
fn sync_json(s: &crate::sync::SyncSummary) -> serde_json::Value {
    serde_json::json!({
        "synced": true,
        "reports_sent": s.pushed,
        "reports_refused": s.refused,
        "reports_held": s.held,
        "revocations_applied": s.revocations_applied,
        "from_snapshot": s.snapshot,
        "revocation_seq": s.revocation_seq,
        "admissions_from_other_gates": s.admissions,
    })
}

fn open_gate(ctx: &Ctx) -> Result<Gate, ExitCode> {
    let mut gate = Gate::open(&ctx.data_dir).map_err(fail)?;
    gate.tolerance = ctx.tolerance;
    Ok(gate)
}

/// The gate's policy as stored, with this run's `--tolerance`.
fn effective_policy(ctx_tolerance: Option<i64>, stored: Option<GatePolicy>) -> GatePolicy {
    let mut p = stored.unwrap_or_default();
    if let Some(t) = ctx_tolerance {
        p.tolerance = t;
    }
    p
}

fn cmd_check(ctx: &Ctx, texts: &[String]) -> ExitCode {
    let mut gate = match open_gate(ctx) {
        Ok(g) => g,
        Err(c) => return c,
    };
    if gate.config().is_none() {
        return fail("device not provisioned: run `gate-agent import BUNDLE` or `gate-agent enroll`");
    }
    let mut code = OK;
    for t in texts {
        match gate.check(t.as_bytes(), ctx.now()) {
            Ok(o) => {
                if !o.verdict.lets_through() {
                    code = code.max(REJECTED);
                }
                ctx.print(&o, None, None);
            }
            Err(e) => return fail(e),
        }
    }
    ExitCode::from(code)
}

fn cmd_scan(ctx: &Ctx, images: &[PathBuf]) -> ExitCode {
    let mut gate = match open_gate(ctx) {
        Ok(g) => g,
        Err(c) => return c,
    };
    if gate.config().is_none() {
        return fail("device not provisioned: run `gate-agent import BUNDLE` or `gate-agent enroll`");
    }
    let opts = FILE_DECODE;
    let mut code = OK;
    for path in images {
        let label = path.display().to_string();
        let img = match load_luma(path) {
            Ok(i) => i,
            Err(e) => {
                say!("gate-agent: error: {e}");
                code = ERROR;
                continue;
            }
        };
        let d = decode_luma(&img, &opts);
        if d.codes.is_empty() {
            code = code.max(REJECTED);
            if ctx.json {
                println!(
                    "{}",
                    serde_json::json!({"verdict": "REJECT", "reason": "no_code", "message": ctx.voice.t("reason-no-code"), "source": label, "decode_ms": d.elapsed.as_secs_f64() * 1e3})
                );
            } else {
                let reject = ctx.voice.t("headline-reject");
                println!(
                    "{} {}  · {label}",
                    if ctx.colour {
                        format!("\x1b[1;97;41m  ✘ {reject}  \x1b[0m")
                    } else {
                        format!("[✘ {reject}]")
                    },
                    ctx.voice.t("reason-no-code")
                );
            }
            continue;
        }
        for text in &d.codes {
            match gate.check(text, ctx.now()) {
                Ok(o) => {
                    if !o.verdict.lets_through() {
                        code = code.max(REJECTED);
                    }
                    ctx.print(&o, Some(&label), Some(d.elapsed));
                }
                Err(e) => return fail(e),
            }
        }
    }
    ExitCode::from(code)
}

fn cmd_decode(images: &[PathBuf], verbose: bool) -> ExitCode {
    let opts = FILE_DECODE;
    let mut code = OK;
    let mut out = std::io::stdout().lock();
    for path in images {
        match load_luma(path) {
            Ok(img) => {
                let d = decode_luma(&img, &opts);
                if verbose {
                    for dec in [Decoders::Zxing, Decoders::Rqrr] {
                        let alone = decode_luma(&img, &DecodeOptions { decoders: dec, ..opts });
                        say!("{}: {}", path.display(), describe_decode(dec, &alone));
                    }
                    say!("{}: {}", path.display(), describe_decode(Decoders::Both, &d));
                }
                if d.codes.is_empty() {
                    say!("{}: no QR code found", path.display());
                    code = code.max(REJECTED);
                }
                for c in d.codes {
                    let _ = writeln!(out, "{}", crate::decode::payload_text(&c));
                }
            }
            Err(e) => {
                say!("gate-agent: error: {e}");
                code = ERROR;
            }
        }
    }
    ExitCode::from(code)
}

/// One line for `decode --verbose`: what a decoder (or the gate's pipeline) read, how fast.
fn describe_decode(dec: Decoders, d: &Decoded) -> String {
    let who = match dec {
        Decoders::Zxing => "zxing-cpp alone",
        Decoders::Rqrr => "rqrr alone (locator + preprocessing)",
        Decoders::Both => "the gate (zxing-cpp, then rqrr)",
    };
    let mut s = if d.codes.is_empty() {
        format!("{who} read nothing")
    } else {
        format!(
            "{who} read {} code{}",
            d.codes.len(),
            if d.codes.len() == 1 { "" } else { "s" }
        )
    };
    s.push_str(&format!(
        " in {:.2} ms ({} pass{}",
        d.elapsed.as_secs_f64() * 1e3,
        d.passes,
        if d.passes == 1 { "" } else { "es" }
    ));
    if dec != Decoders::Zxing {
        s.push_str(&format!("; {} eyes, {} groups", d.eyes, d.regions));
    }
    if d.timeouts > 0 || d.panics > 0 {
        s.push_str(&format!("; {} timed out, {} failed", d.timeouts, d.panics));
    }
    s.push(')');
    for (c, by) in d.codes.iter().zip(&d.found_by) {
        let text: String = crate::decode::payload_text(c).chars().take(80).collect();
        s.push_str(&format!("\n    {}: {text:?}", by.name()));
    }
    s
}

/// Whether the data and the clock can be trusted, from what sync and import recorded.
fn gate_health(store: &Store, policy: &GatePolicy, now: UnixSeconds) -> Result<Health, crate::store::StoreError> {
    let num =
        |k: &str| -> Result<Option<i64>, crate::store::StoreError> { Ok(store.meta(k)?.and_then(|v| v.parse().ok())) };
    Ok(Health {
        data_age: num("data_as_of")?.map(|t| now - t),
        max_data_age: policy.max_data_age.unwrap_or(staff::DATA_AGE_WARNING),
        clock_offset: num("clock_offset")?,
        max_clock_offset: staff::clock_warning_threshold(policy),
        sync_refused: store.sync_refusal()?.map(|r| r.reason),
    })
}

fn cmd_status(ctx: &Ctx) -> ExitCode {
    let store = match Store::open(&ctx.data_dir) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    if let Err(e) = store.integrity_check() {
        return fail(e);
    }
    let now = ctx.now();
    let res = (|| -> Result<(serde_json::Value, staff::StatusFacts), crate::store::StoreError> {
        let config = store.config()?;
        let counts = store.counts(ctx.voice.clock.start_of_day(now))?;
        let data_as_of: Option<i64> = store.meta("data_as_of")?.and_then(|s| s.parse().ok());
        let last_sync: Option<i64> = store.meta("last_sync_ok")?.and_then(|s| s.parse().ok());
        let last_error = store.meta("last_sync_error")?.filter(|s| !s.is_empty());
        let policy = effective_policy(ctx.tolerance, config.as_ref().map(|c| c.policy.clone()));
        let health = gate_health(&store, &policy, now)?;
        let conflicts = store.conflicts()?;
        let device_revoked = store.meta("device_revoked")?.as_deref() == Some("1");
        let enrolled_online = read_credential(&ctx.data_dir).is_some();
        let json = serde_json::json!({
            "provisioned": config.is_some(),
            "deployment": config.as_ref().map(|c| c.deployment.to_string()),
            "device_id": config.as_ref().map(|c| c.device_id.clone()),
            "gate": config.as_ref().map(|c| c.gate_name.clone()),
            "zone": config.as_ref().and_then(|c| c.policy.zone),
            "issuer": config.as_ref().and_then(|c| c.issuer_url.clone()),
            "enrolled_online": enrolled_online,
            "device_revoked": device_revoked,
            "data_as_of": data_as_of,
            "data_age_seconds": data_as_of.map(|t| now - t),
            "last_sync_ok": last_sync,
            "last_sync_error": last_error,
            "sync_refused": store.sync_refusal()?,
            "clock_offset_seconds": health.clock_offset,
            "time_zone": ctx.voice.clock.name(),
            "language": ctx.voice.lang.tag(),
            "party_policy": policy.party.as_str(),
            "rotating_tolerance_seconds": policy.tolerance,
            "counts": counts,
            "conflicts": conflicts,
        });
        let facts = staff::StatusFacts {
            provisioned: config.is_some(),
            gate: config.as_ref().map(|c| c.gate_name.clone()),
            device_id: config.as_ref().map(|c| c.device_id.clone()),
            deployment: config.as_ref().map(|c| c.deployment.to_string()),
            zone: policy.zone,
            issuer: config.as_ref().and_then(|c| c.issuer_url.clone()),
            enrolled_online,
            device_revoked,
            party_one_per_scan: policy.party == PartyPolicy::OnePerScan,
            data_as_of,
            last_sync_ok: last_sync,
            last_sync_error: last_error,
            health,
            tolerance: policy.tolerance,
            queued: counts.outbox,
            held: counts.held,
            refused: counts.refused,
            admitted_today: counts.admissions_since,
            admitted_all_time: counts.own_admissions,
            other_gates: counts.other_admissions,
            keys: counts.keys,
            events: counts.events,
            revocations: counts.revocations,
            revocation_seq: counts.revocation_seq,
            conflicts: conflicts
                .iter()
                .map(|k| (k.serial, k.event_id, k.admitted, u32::from(k.allowed), k.gates.clone()))
                .collect(),
        };
        Ok((json, facts))
    })();
    let (v, facts) = match res {
        Ok(v) => v,
        Err(e) => return fail(e),
    };
    if ctx.json {
        println!("{v}");
    } else {
        print!("{}", staff::status_text(&facts, &ctx.voice, now));
        if let Some(r) = v["sync_refused"]["reason"].as_str() {
            println!(
                "{}",
                ctx.voice
                    .t_args("status-sync-refused", &[("why", crate::i18n::text(r))])
            );
        }
    }
    if facts.provisioned {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(ERROR)
    }
}

fn cmd_cameras(ctx: &Ctx) -> ExitCode {
    match crate::source::list_cameras() {
        Ok(cams) if cams.is_empty() => {
            say!("gate-agent: no camera found (a V4L2 camera appears as /dev/video*)");
            ExitCode::from(REJECTED)
        }
        Ok(cams) => {
            let mut out = std::io::stdout().lock();
            for c in cams {
                let line = if ctx.json {
                    serde_json::json!({"index": c.index, "name": c.name, "description": c.description, "modes": c.modes})
                        .to_string()
                } else {
                    let mut l = format!("camera {}: {} ({})", c.index, c.name, c.description);
                    for m in &c.modes {
                        l.push_str(&format!("\n    {m}"));
                    }
                    l
                };
                let _ = writeln!(out, "{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

struct RunOptions {
    status_addr: Option<String>,
    on_admit: Option<String>,
    on_reject: Option<String>,
    sync: bool,
    sync_every: Duration,
    repeat_window: Duration,
    pace: Duration,
    /// A live camera (not a replay): see `decode::LiveCadence`.
    live: bool,
}

fn spawn_hook(cmd: &str, line: &VerdictLine) {
    let child = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .env("OG_VERDICT", line.verdict)
        .env("OG_REASON", line.reason)
        .env(
            "OG_SERIAL",
            line.ticket_serial.map(|s| s.to_string()).unwrap_or_default(),
        )
        .stdin(std::process::Stdio::null())
        .spawn();
    match child {
        // Reap in the background so a slow relay never delays the next verdict.
        Ok(mut c) => {
            std::thread::spawn(move || c.wait());
        }
        Err(e) => say!("gate-agent: hook failed to start: {e}"),
    }
}

fn start_sync_thread(
    data_dir: PathBuf,
    fixed_now: Option<i64>,
    every: Duration,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let backoff = Backoff::default();
        let mut failures = 0u32;
        let mut next = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            if Instant::now() >= next {
                let now = fixed_now.unwrap_or_else(unix_now);
                match sync_round(&data_dir, now, ProgressOutput::Hidden) {
                    Ok(_) => {
                        failures = 0;
                        next = Instant::now() + every;
                    }
                    Err(e) => {
                        failures += 1;
                        let d = backoff.delay(failures, now as u64 ^ u64::from(failures));
                        tracing::warn!("sync failed ({e}); next try in {d:?}");
                        next = Instant::now() + d;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    })
}

fn cmd_run(ctx: &Ctx, mut source: Box<dyn FrameSource>, opts: RunOptions) -> ExitCode {
    let mut gate = match open_gate(ctx) {
        Ok(g) => g,
        Err(c) => return c,
    };
    if gate.config().is_none() {
        return fail("device not provisioned: run `gate-agent import BUNDLE` or `gate-agent enroll`");
    }
    if let Err(e) = gate.store().integrity_check() {
        return fail(e);
    }
    gate.repeat_window = opts.repeat_window;
    let display: Arc<Mutex<Display>> = Arc::default();
    if let Some(addr) = &opts.status_addr {
        // The kiosk's banner reads the data age and the clock offset from its own connection.
        let banner_store = match Store::open(&ctx.data_dir) {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        let fixed_now = ctx.fixed_now;
        let tolerance = ctx.tolerance;
        let voice = ctx.voice.clone();
        let banner = Box::new(move || {
            let policy = effective_policy(tolerance, banner_store.config().ok().flatten().map(|c| c.policy));
            let now = fixed_now.unwrap_or_else(unix_now);
            gate_health(&banner_store, &policy, now)
                .ok()
                .and_then(|h| h.banner(&voice))
        });
        match crate::kiosk::serve(addr, display.clone(), banner, ctx.voice.clone()) {
            Ok(a) => say!("gate-agent: status page on http://{a}/"),
            Err(e) => return fail(format!("cannot serve the status page on {addr}: {e}")),
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let enrolled = read_credential(&ctx.data_dir).is_some() && gate.config().is_some_and(|c| c.issuer_url.is_some());
    let sync_thread = (opts.sync && enrolled)
        .then(|| start_sync_thread(ctx.data_dir.clone(), ctx.fixed_now, opts.sync_every, stop.clone()));
    let mut last_dismissed: Option<Vec<u8>> = None;
    // A repeat is said once per stretch of camera frames, and for every scan of a scanner.
    let mut repeat_said = false;
    // A live camera spreads the slow passes over frames (`LiveCadence`). Replayed files always get
    // every pass and the file deadline, like `scan`, so a replay gives the same verdicts on a busy
    // machine as on an idle one.
    let live = opts.live;
    let mut cadence = crate::decode::LiveCadence::default();
    while let Some(item) = source.next_input() {
        let dopts = if live { cadence.next_options() } else { FILE_DECODE };
        if !opts.pace.is_zero() {
            std::thread::sleep(opts.pace);
        }
        let (codes, label, decode_time, scanner) = match item {
            Ok(Input::Frame { image, label }) => {
                let d = decode_luma(&image, &dopts);
                cadence.saw(&d);
                (d.codes, label, Some(d.elapsed), false)
            }
            Ok(Input::Code { text, label }) => (vec![text], label, None, true),
            Err(e) => {
                say!("gate-agent: skipped: {e}");
                continue;
            }
        };
        for text in codes {
            let o = match gate.check(&text, ctx.now()) {
                Ok(o) => o,
                Err(e) => {
                    // The scan could not be recorded: never show ADMIT for it.
                    say!("gate-agent: error: scan not recorded, REJECT: {e}");
                    continue;
                }
            };
            if o.repeat {
                // Never silent, never counted again: staff see that this code was counted.
                if scanner || !repeat_said {
                    if let Ok(mut d) = display.lock() {
                        d.repeat();
                    }
                    if !ctx.json {
                        let line = VerdictLine::new(&o, Some(&label), decode_time, &ctx.voice);
                        let mut out = std::io::stdout().lock();
                        let _ = writeln!(
                            out,
                            "[= {}] {}{}",
                            line.headline,
                            ctx.voice.t("line-same-code"),
                            line.ticket_serial
                                .map(|s| format!(
                                    "  · {}",
                                    ctx.voice
                                        .t_args("line-ticket-serial", &[("serial", crate::i18n::text(s.to_string()))])
                                ))
                                .unwrap_or_default()
                        );
                    }
                    repeat_said = true;
                }
                continue;
            }
            if o.serial.is_none() && o.verdict.code == og_shared::sync::VerdictCode::NotATicket {
                // Other apps' codes in view of the camera: dismissed, mentioned once.
                if last_dismissed.as_deref() != Some(&text[..]) {
                    say!("gate-agent: dismissed a code that is not a ticket ({label})");
                    last_dismissed = Some(text);
                }
                continue;
            }
            repeat_said = false;
            let line = ctx.print(&o, Some(&label), decode_time);
            let hook = if o.verdict.lets_through() {
                &opts.on_admit
            } else {
                &opts.on_reject
            };
            if let Some(cmd) = hook {
                spawn_hook(cmd, &line);
            }
            if let Ok(mut d) = display.lock() {
                d.verdict(line);
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    if let Some(t) = sync_thread {
        let _ = t.join();
        // The input ended (the replayed files, a scanner's stream closed): this run's scans go
        // to the issuer now, not at some later start. Offline they stay queued (durably) for
        // the next sync, and the agent still stops, after at most the client's timeouts.
        if let Err(e) = sync_round(&ctx.data_dir, ctx.now(), ProgressOutput::Hidden) {
            say!("gate-agent: the scan reports stay queued for the next sync ({e})");
        }
    }
    ExitCode::SUCCESS
}

/// The `gate-agent` program: quiets rqrr's panic messages (they are caught), sets up logging
/// (`OG_GATE_LOG`), parses the command line and runs it.
pub fn main() -> ExitCode {
    crate::decode::quiet_rqrr_panics();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("OG_GATE_LOG"))
        .with_writer(std::io::stderr)
        .init();
    run(Cli::parse())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_a_bar_on_a_terminal_plain_lines_in_a_log_only_when_asked_and_never_when_refused() {
        assert_eq!(ProgressArg::Auto.output(true), ProgressOutput::Bar);
        assert_eq!(ProgressArg::Auto.output(false), ProgressOutput::Hidden);
        assert_eq!(ProgressArg::Always.output(true), ProgressOutput::Bar);
        assert_eq!(ProgressArg::Always.output(false), ProgressOutput::Lines);
        assert_eq!(ProgressArg::Never.output(true), ProgressOutput::Hidden);
        assert_eq!(ProgressArg::Never.output(false), ProgressOutput::Hidden);
    }

    #[test]
    fn sync_takes_a_progress_option_that_defaults_to_auto() {
        let cli = Cli::try_parse_from(["gate-agent", "sync"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Sync {
                progress: ProgressArg::Auto
            }
        ));
        let cli = Cli::try_parse_from(["gate-agent", "sync", "--progress", "always"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Sync {
                progress: ProgressArg::Always
            }
        ));
        assert!(Cli::try_parse_from(["gate-agent", "sync", "--progress", "sometimes"]).is_err());
    }
}
