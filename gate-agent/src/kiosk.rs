//! The kiosk status page: a tiny HTTP server on a local address showing the last verdict
//! full-screen, green for ADMIT and red for REJECT, refreshing itself every second.
//!
//! Plain `std::net` on a background thread: one request at a time is plenty for one display,
//! and it keeps the gate free of an async runtime. `/last.json` gives the same verdict as JSON.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::output::VerdictLine;

/// Starts serving on `addr` and returns the bound address.
pub fn serve(addr: &str, last: Arc<Mutex<Option<VerdictLine>>>) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = handle(stream, &last);
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

/// The page for a verdict (None: waiting for the first scan).
pub fn page(last: Option<&VerdictLine>) -> String {
    let (bg, big, small) = match last {
        Some(l) if l.verdict == "ADMIT" => ("#0a7d2c", "ADMIT", escape(&l.message)),
        Some(l) => ("#b00020", "REJECT", escape(&l.message)),
        None => ("#333", "READY", "waiting for the first ticket".to_owned()),
    };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"1\">\
         <title>{big}</title><style>html,body{{margin:0;height:100%;background:{bg};color:#fff;\
         font-family:sans-serif;display:flex;flex-direction:column;align-items:center;justify-content:center}}\
         h1{{font-size:22vw;margin:0}}p{{font-size:4vw}}</style></head>\
         <body><h1 id=\"verdict\">{big}</h1><p id=\"reason\">{small}</p></body></html>"
    )
}

fn handle(mut stream: TcpStream, last: &Mutex<Option<VerdictLine>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut line = String::new();
    BufReader::new(&stream).take_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/");
    let current = last.lock().map(|l| l.clone()).unwrap_or(None);
    let (ctype, body) = if path == "/last.json" {
        ("application/json", current.map_or("null".to_owned(), |l| l.to_json()))
    } else {
        ("text/html; charset=utf-8", page(current.as_ref()))
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

    #[test]
    fn the_page_is_red_for_a_rejection_and_escapes_the_reason() {
        let p = page(None);
        assert!(p.contains("READY"));
        let line: VerdictLine = VerdictLine {
            verdict: "REJECT",
            reason: "revoked",
            message: "<script>".into(),
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
        };
        let p = page(Some(&line));
        assert!(p.contains("#b00020") && p.contains("REJECT") && p.contains("&lt;script&gt;"));
    }
}
