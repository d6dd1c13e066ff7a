//! A real SMTP sink for tests: a TCP server on 127.0.0.1 that speaks enough SMTP (RFC 5321:
//! EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for lettre to deliver to it, and keeps every
//! message so a test can read the activation link out of it.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// One delivered message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The DATA section, dot-unstuffed, with CRLF line ends.
    pub data: String,
}

impl Mail {
    /// The message body with quoted-printable soft line breaks and `=3D` undone, which is enough
    /// to find links in what lettre sends.
    pub fn text(&self) -> String {
        self.data.replace("=\r\n", "").replace("=3D", "=")
    }

    /// The first `http://` or `https://` link that contains `needle`.
    pub fn link_containing(&self, needle: &str) -> Option<String> {
        let text = self.text();
        text.split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
            .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
            .find(|w| w.contains(needle))
            .map(|w| w.trim_end_matches(['.', ',', ')']).to_owned())
    }
}

#[derive(Default)]
struct Inbox {
    mails: Mutex<Vec<Mail>>,
    arrived: Condvar,
}

/// A running sink. It stops accepting when dropped (the thread ends with the test process).
pub struct SmtpSink {
    addr: SocketAddr,
    inbox: Arc<Inbox>,
}

impl SmtpSink {
    /// Starts the sink on a free port.
    pub fn start() -> std::io::Result<SmtpSink> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let inbox = Arc::new(Inbox::default());
        let inbox2 = inbox.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let inbox = inbox2.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &inbox);
                });
            }
        });
        Ok(SmtpSink { addr, inbox })
    }

    /// `smtp://127.0.0.1:PORT`, for the issuer's `--smtp-url`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every message so far.
    pub fn mails(&self) -> Vec<Mail> {
        self.inbox.mails.lock().expect("inbox lock").clone()
    }

    /// Waits for a message to `rcpt` (case-insensitive), up to `timeout`.
    pub fn wait_for(&self, rcpt: &str, timeout: Duration) -> Option<Mail> {
        let deadline = Instant::now() + timeout;
        let mut mails = self.inbox.mails.lock().expect("inbox lock");
        loop {
            if let Some(m) = mails
                .iter()
                .rev()
                .find(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(rcpt)))
            {
                return Some(m.clone());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            mails = self.inbox.arrived.wait_timeout(mails, left).expect("inbox lock").0;
        }
    }
}

fn addr_of(arg: &str) -> String {
    let start = arg.find('<').map_or(0, |i| i + 1);
    let end = arg.rfind('>').unwrap_or(arg.len());
    arg[start..end].trim().to_owned()
}

fn serve(stream: TcpStream, inbox: &Inbox) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    out.write_all(b"220 og-test-sink ESMTP ready\r\n")?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end();
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            out.write_all(b"250-og-test-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")?;
        } else if upper.starts_with("HELO") {
            out.write_all(b"250 og-test-sink\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            from = addr_of(&cmd[10..]);
            to.clear();
            out.write_all(b"250 OK\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(addr_of(&cmd[8..]));
            out.write_all(b"250 OK\r\n")?;
        } else if upper == "DATA" {
            out.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let l = line.strip_prefix('.').unwrap_or(&line);
                data.push_str(l);
            }
            let mail = Mail {
                from: from.clone(),
                to: std::mem::take(&mut to),
                data,
            };
            inbox.mails.lock().expect("inbox lock").push(mail);
            inbox.arrived.notify_all();
            out.write_all(b"250 OK: queued\r\n")?;
        } else if upper == "RSET" {
            to.clear();
            out.write_all(b"250 OK\r\n")?;
        } else if upper == "NOOP" {
            out.write_all(b"250 OK\r\n")?;
        } else if upper == "QUIT" {
            out.write_all(b"221 Bye\r\n")?;
            return Ok(());
        } else {
            out.write_all(b"502 Command not implemented\r\n")?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_sent_over_smtp_arrives_in_the_sink_with_its_link() {
        let sink = SmtpSink::start().unwrap();
        let s = TcpStream::connect(sink.addr()).unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut w = s;
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        for cmd in ["EHLO me", "MAIL FROM:<a@x.org>", "RCPT TO:<B@y.org>", "DATA"] {
            w.write_all(format!("{cmd}\r\n").as_bytes()).unwrap();
            loop {
                l.clear();
                r.read_line(&mut l).unwrap();
                if l.as_bytes().get(3) != Some(&b'-') {
                    break;
                }
            }
        }
        w.write_all(b"Subject: hi\r\n\r\nGo to http://127.0.0.1:1/activate?t=3Dabc now.\r\n..dot\r\n.\r\nQUIT\r\n")
            .unwrap();
        let m = sink.wait_for("b@y.org", Duration::from_secs(5)).unwrap();
        assert_eq!(m.from, "a@x.org");
        assert_eq!(
            m.link_containing("activate").unwrap(),
            "http://127.0.0.1:1/activate?t=abc"
        );
        assert!(m.data.contains("\r\n.dot\r\n"), "dot-stuffing undone");
    }
}
