//! The kiosk page: a tiny HTTP server on a local address showing the last verdict full-screen
//! for the steward, readable from 3 m: green for ADMIT, red for REJECT, the party count
//! (`ADMIT 4 - Family`), the reason in one short line, "same code, already counted" on a repeat,
//! a red banner when the ticket data is too old or the clock is off, and a sound for admit and
//! reject made by the browser (WebAudio oscillators: no audio file, nothing downloaded).
//!
//! Plain `std::net` on a background thread: one request at a time is plenty for one display,
//! and it keeps the gate free of an async runtime. The page polls `/state.json` (what the page
//! shows); `/last.json` gives the last verdict as the JSON line `--json` prints.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::i18n::num;
use crate::output::VerdictLine;
use crate::staff;

/// What the page shows.
#[derive(Debug, Clone, Default)]
pub struct Display {
    /// The last verdict (None: waiting for the first scan).
    pub last: Option<VerdictLine>,
    /// Counts verdicts shown: the page plays a sound when it changes.
    pub seq: u64,
    /// Counts repeats of the last code (same code within the window): the page says so.
    pub repeats: u64,
}

impl Display {
    /// A new verdict to show.
    pub fn verdict(&mut self, line: VerdictLine) {
        self.last = Some(line);
        self.seq += 1;
        self.repeats = 0;
    }

    /// The code just shown was scanned again within the suppression window.
    pub fn repeat(&mut self) {
        self.repeats += 1;
    }
}

/// The banner's source: called per request (None: data and clock are fine).
pub type BannerFn = Box<dyn FnMut() -> Option<String> + Send>;

/// Starts serving on `addr` and returns the bound address; the page speaks `voice`'s language.
pub fn serve(
    addr: &str,
    display: Arc<Mutex<Display>>,
    mut banner: BannerFn,
    voice: staff::Voice,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = handle(stream, &display, &mut banner, &voice);
        }
    });
    Ok(bound)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The party line under the verdict: `4 people`, `person 2 of 4`, or nothing for one person.
fn party_line(l: &VerdictLine, v: &staff::Voice) -> String {
    match (l.party, l.admitted, l.admits) {
        (p, _, _) if p > 1 => v.t_args("party-people", &[("n", num(p))]),
        (1, Some(k), Some(n)) if n > 1 => v.t_args("party-person", &[("k", num(k)), ("n", num(n))]),
        _ => String::new(),
    }
}

/// What the page script reads.
#[derive(Debug, serde::Serialize)]
struct State {
    seq: u64,
    repeats: u64,
    /// `admit`, `reject` or `ready`.
    kind: &'static str,
    headline: String,
    party: String,
    reason: String,
    note: String,
    banner: Option<String>,
}

fn state(d: &Display, banner: Option<String>, v: &staff::Voice) -> State {
    let (kind, headline, party, reason) = match &d.last {
        Some(l) => (
            if l.verdict == "ADMIT" { "admit" } else { "reject" },
            l.headline.clone(),
            party_line(l, v),
            l.message.clone(),
        ),
        None => ("ready", v.t("kiosk-ready"), String::new(), v.t("kiosk-waiting")),
    };
    State {
        seq: d.seq,
        repeats: d.repeats,
        kind,
        headline,
        party,
        reason,
        note: if d.repeats > 0 {
            v.t("line-same-code")
        } else {
            String::new()
        },
        banner,
    }
}

const SCRIPT: &str = r#"
let seq = null, repeats = 0, audio = null;
window.ogSounds = [];
function tone(ctx, f, start, len, type) {
  const o = ctx.createOscillator(), g = ctx.createGain();
  o.type = type; o.frequency.value = f;
  g.gain.setValueAtTime(0.0001, ctx.currentTime + start);
  g.gain.exponentialRampToValueAtTime(0.5, ctx.currentTime + start + 0.02);
  g.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + start + len);
  o.connect(g); g.connect(ctx.destination);
  o.start(ctx.currentTime + start); o.stop(ctx.currentTime + start + len + 0.05);
}
function sound(kind) {
  window.ogSounds.push(kind);
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === 'suspended') audio.resume();
    if (kind === 'admit') { tone(audio, 880, 0, 0.12, 'sine'); tone(audio, 1320, 0.13, 0.18, 'sine'); }
    else if (kind === 'reject') { tone(audio, 220, 0, 0.45, 'square'); tone(audio, 180, 0.5, 0.45, 'square'); }
    else { tone(audio, 660, 0, 0.08, 'sine'); }
  } catch (e) { /* no audio device: the screen still says it */ }
}
function show(s) {
  document.body.className = s.kind;
  document.getElementById('verdict').textContent = s.headline;
  document.getElementById('party').textContent = s.party;
  document.getElementById('reason').textContent = s.reason;
  document.getElementById('note').textContent = s.note;
  const b = document.getElementById('banner');
  b.textContent = s.banner || '';
  b.hidden = !s.banner;
  document.title = s.headline;
  if (seq !== null && s.seq !== seq && s.kind !== 'ready') sound(s.kind);
  else if (seq !== null && s.repeats > repeats) sound('repeat');
  seq = s.seq; repeats = s.repeats;
}
async function poll() {
  try { const r = await fetch('/state.json', {cache: 'no-store'}); show(await r.json()); }
  catch (e) { /* the agent restarts: keep the last screen */ }
  setTimeout(poll, 250);
}
document.addEventListener('click', () => { if (audio) audio.resume(); });
poll();
"#;

/// The page, rendered with the current state (the script keeps it current without reloading).
pub fn page(d: &Display, banner: Option<String>, v: &staff::Voice) -> String {
    let s = state(d, banner, v);
    let hidden = if s.banner.is_some() { "" } else { " hidden" };
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <noscript><meta http-equiv=\"refresh\" content=\"1\"></noscript>\
         <title>{title}</title><style>\
         html,body{{margin:0;height:100%;color:#fff;font-family:'DejaVu Sans',Arial,sans-serif;}}\
         body{{display:flex;flex-direction:column;text-align:center;background:#333}}\
         main{{flex:1;display:flex;flex-direction:column;align-items:center;justify-content:center}}\
         body.admit{{background:#0a7d2c}} body.reject{{background:#b00020}}\
         #verdict{{font-size:min(11vw,22vh);font-weight:900;margin:0;line-height:1.05}}\
         #party{{font-size:min(9vw,18vh);font-weight:800;margin:.1em 0}}\
         #reason{{font-size:min(5.5vw,11vh);font-weight:700;margin:.2em 1em}}\
         #note{{font-size:min(5vw,10vh);font-weight:700;margin:.2em;color:#ffeb3b}}\
         #banner{{flex:none;background:#d50000;color:#fff;border-bottom:.3em solid #fff;\
         font-size:min(3.6vw,7vh);font-weight:900;padding:.3em}}\
         </style></head><body class=\"{kind}\">\
         <div id=\"banner\" role=\"alert\"{hidden}>{banner}</div>\
         <main><h1 id=\"verdict\">{title}</h1><p id=\"party\">{party}</p><p id=\"reason\">{reason}</p><p id=\"note\">{note}</p></main>\
         <script>{SCRIPT}</script></body></html>",
        lang = escape(&v.lang.tag()),
        title = escape(&s.headline),
        kind = s.kind,
        banner = escape(s.banner.as_deref().unwrap_or("")),
        party = escape(&s.party),
        reason = escape(&s.reason),
        note = escape(&s.note),
    )
}

fn handle(
    mut stream: TcpStream,
    display: &Mutex<Display>,
    banner: &mut BannerFn,
    voice: &staff::Voice,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut line = String::new();
    BufReader::new(&stream).take_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/");
    let current = display.lock().map(|d| d.clone()).unwrap_or_default();
    let (ctype, body) = match path {
        "/last.json" => (
            "application/json",
            current.last.map_or("null".to_owned(), |l| l.to_json()),
        ),
        "/state.json" => (
            "application/json",
            serde_json::to_string(&state(&current, banner(), voice)).unwrap_or_default(),
        ),
        _ => ("text/html; charset=utf-8", page(&current, banner(), voice)),
    };
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

trait TakeLine {
    fn take_line(self, buf: &mut String) -> std::io::Result<usize>;
}

impl<R: BufRead> TakeLine for R {
    fn take_line(self, buf: &mut String) -> std::io::Result<usize> {
        self.take(8192).read_line(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(verdict: &'static str, message: &str) -> VerdictLine {
        VerdictLine {
            verdict,
            reason: "revoked",
            message: message.into(),
            event_id: None,
            ticket_serial: None,
            offer: None,
            admitted: None,
            admits: None,
            first_admitted_at: None,
            first_admitted_gate: None,
            scan_id: None,
            scanned_at: 0,
            offline: false,
            repeat: false,
            conflict: false,
            source: None,
            decode_ms: None,
            decide_ms: 0.0,
            headline: verdict.into(),
            party: 0,
        }
    }

    fn en() -> staff::Voice {
        staff::Voice::new(crate::i18n::Lang::new("en").unwrap(), staff::Clock::default())
    }

    #[test]
    fn the_page_is_red_for_a_rejection_and_escapes_the_reason() {
        let mut d = Display::default();
        assert!(page(&d, None, &en()).contains("READY"));
        d.verdict(line("REJECT", "<script>"));
        let p = page(&d, None, &en());
        assert!(p.contains("class=\"reject\"") && p.contains("REJECT") && p.contains("&lt;script&gt;"));
        assert!(!p.contains("<p id=\"reason\"><script>"));
    }

    #[test]
    fn a_party_and_a_repeat_and_a_banner_are_shown() {
        let mut d = Display::default();
        let mut l = line("ADMIT", "Family: all 4 people");
        l.headline = "ADMIT 4 - Family".into();
        l.party = 4;
        d.verdict(l);
        d.repeat();
        let p = page(&d, Some("CLOCK OFF".into()), &en());
        assert!(p.contains(">ADMIT 4 - Family<") && p.contains(">4 people<"), "{p}");
        assert!(p.contains("same code, already counted"));
        assert!(p.contains("role=\"alert\">CLOCK OFF<"), "{p}");
        let s = state(&d, None, &en());
        assert_eq!((s.kind, s.seq, s.repeats), ("admit", 1, 1));
    }

    #[test]
    fn a_french_kiosk_says_pret_then_the_party_and_the_repeat_in_french() {
        let fr = staff::Voice::default();
        let mut d = Display::default();
        let p = page(&d, None, &fr);
        assert!(
            p.contains("lang=\"fr\"") && p.contains(">PRÊT<") && p.contains("en attente du premier billet"),
            "{p}"
        );
        let mut l = line("ADMIT", "Famille : les 4 personnes");
        l.party = 4;
        d.verdict(l);
        d.repeat();
        let s = state(&d, None, &fr);
        assert_eq!(
            (s.party.as_str(), s.note.as_str()),
            ("4 personnes", "même code, déjà compté")
        );
    }
}
