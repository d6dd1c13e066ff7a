//! Finding anything for an operator: a buyer by (part of) an email, an order or a ticket by its
//! number, a ticket by a pasted scanned code (static `OG2:` or rotating `OGR:`, decoded without
//! trusting it, only to read its serial); and a ticket's whole story, oldest first (issued,
//! bound to a phone, transferred, admitted or refused at gates, revoked, refunded, what
//! operators did to it). A code can also be read from a picture the buyer sent
//! ([`read_code_image`]).

use crate::error::{AppError, AppResult};
use crate::store::sql::Connection;
use crate::store::{accounts, orders, refunds_due, revocations, scans, ticket_bindings, ticket_transfers, tickets};

/// Longest query read.
pub const MAX_QUERY: usize = 400;

/// A ticket found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TicketHit {
    pub serial: i64,
    pub event_id: i64,
    pub event_name: String,
    pub offer: String,
    pub holder_email: String,
    pub status: String,
}

/// An order found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OrderHit {
    pub id: i64,
    pub buyer_email: String,
    pub status: String,
    pub total_cents: i64,
    pub created_at: i64,
}

/// An account found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccountHit {
    pub id: i64,
    pub email: String,
    pub status: String,
    pub role: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Found {
    pub accounts: Vec<AccountHit>,
    pub orders: Vec<OrderHit>,
    pub tickets: Vec<TicketHit>,
    /// What the query was read as ("ticket number", "scanned code", ...).
    pub read_as: String,
}

impl Found {
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.orders.is_empty() && self.tickets.is_empty()
    }
}

/// `s` percent-encoded for a query string value.
pub fn query_value(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The serial a scanned code names (its signature is not checked: this only finds the ticket).
pub fn serial_of_code(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(bytes) = og_shared::qr::decode_ticket_bytes(text.as_bytes()) {
        let mut claims = [0u8; og_shared::ticket::CLAIMS_LEN];
        claims.copy_from_slice(&bytes[..og_shared::ticket::CLAIMS_LEN]);
        return og_shared::ticket::TicketClaims::from_bytes(&claims)
            .ok()
            .map(|c| i64::from(c.serial));
    }
    og_shared::bound::RotatingCode::parse_text(text.as_bytes())
        .ok()
        .map(|c| i64::from(c.bound.claims.serial))
}

/// Largest side of a picture [`read_code_image`] decodes (a 50 Mpx phone photo is 8,160 px).
pub const MAX_IMAGE_SIDE: u32 = 10_000;
/// Pictures are also read shrunk to this side: rqrr finds codes in big photos faster and more
/// reliably once the sensor noise is averaged away.
const SHRUNK_SIDE: u32 = 1_600;

/// The text of a QR code in a picture (PNG or JPEG: a screenshot or photo a buyer sent to
/// support), read as it is and shrunk. Only the text: [`search`] then finds what it names,
/// without trusting it.
pub fn read_code_image(bytes: &[u8]) -> AppResult<String> {
    let unreadable = || {
        AppError::bad_request(
            "unreadable_image",
            "not a PNG or JPEG picture (or larger than 10,000 pixels a side)",
        )
    };
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| unreadable())?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(512 << 20);
    reader.limits(limits);
    let luma = reader.decode().map_err(|_| unreadable())?.into_luma8();
    let read = |g: &image::GrayImage| -> Option<String> {
        let (w, h) = (g.width() as usize, g.height() as usize);
        let raw = g.as_raw();
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| raw[y * w + x]);
        prepared
            .detect_grids()
            .into_iter()
            .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
    };
    let side = luma.width().max(luma.height());
    let shrunk = (side > SHRUNK_SIDE).then(|| {
        let k = f64::from(SHRUNK_SIDE) / f64::from(side);
        image::imageops::resize(
            &luma,
            ((f64::from(luma.width()) * k) as u32).max(1),
            ((f64::from(luma.height()) * k) as u32).max(1),
            image::imageops::FilterType::Triangle,
        )
    });
    shrunk
        .as_ref()
        .and_then(read)
        .or_else(|| read(&luma))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::bad_request(
                "no_code_in_image",
                "no QR code could be read in this picture: ask for a sharper one, the code filling the frame, or type the ticket number",
            )
        })
}

fn ticket_hit(t: tickets::Found) -> TicketHit {
    TicketHit {
        serial: t.serial,
        event_id: t.event_id,
        event_name: t.event_name,
        offer: t.offer,
        holder_email: t.holder_email,
        status: t.status,
    }
}

fn ticket_hits(found: Vec<tickets::Found>) -> Vec<TicketHit> {
    found.into_iter().map(ticket_hit).collect()
}

fn order_hits(found: Vec<orders::Found>) -> Vec<OrderHit> {
    found
        .into_iter()
        .map(|o| OrderHit {
            id: o.id,
            buyer_email: o.buyer_email,
            status: o.status,
            total_cents: o.total_cents,
            created_at: o.created_at,
        })
        .collect()
}

/// Finds what `q` names; at most 50 of each kind.
pub fn search(conn: &Connection, q: &str) -> AppResult<Found> {
    let q = q.trim();
    if q.is_empty() || q.len() > MAX_QUERY {
        return Err(AppError::bad_request(
            "bad_query",
            format!("type 1 to {MAX_QUERY} characters"),
        ));
    }
    let mut found = Found::default();
    let upper = q.to_ascii_uppercase();
    if upper.starts_with("OG2:") || upper.starts_with("OGR:") {
        found.read_as = "scanned code".into();
        let serial = serial_of_code(q);
        if let Some(s) = serial {
            found.tickets = ticket_hits(tickets::found_by_serial(conn, s)?);
        } else {
            found.read_as = "a code this issuer did not make (or a damaged one)".into();
        }
        return Ok(found);
    }
    let digits = q.trim_start_matches('#');
    if !digits.is_empty() && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = digits.parse().unwrap_or(-1);
        found.read_as = "ticket or order number".into();
        found.tickets = ticket_hits(tickets::found_by_serial_or_order(conn, n)?);
        found.orders = order_hits(orders::found_by_id(conn, n)?);
        return Ok(found);
    }
    found.read_as = "email".into();
    let pattern = format!(
        "%{}%",
        q.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    found.accounts = accounts::email_like(conn, &pattern)?
        .into_iter()
        .map(|a| AccountHit {
            id: a.id,
            email: a.email,
            status: a.status,
            role: a.role,
        })
        .collect();
    found.orders = order_hits(orders::found_by_buyer_email_like(conn, &pattern)?);
    found.tickets = ticket_hits(tickets::found_by_holder_email_like(conn, &pattern)?);
    Ok(found)
}

/// One moment of a ticket's life.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Moment {
    pub at: i64,
    /// `issued`, `bound`, `unbound`, `transferred`, `admitted`, `exited`, `refused`, `revoked`,
    /// `refund_due`, `refund_settled`, `paper_exception`, `operator`.
    pub kind: String,
    pub text: String,
    /// Whether it stops or endangers an entry (shown in red).
    pub bad: bool,
}

/// A ticket as an operator reads it: the facts and its story.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TicketStory {
    pub serial: i64,
    pub event_id: i64,
    pub event_name: String,
    pub time_zone: String,
    pub offer: String,
    pub holder_email: String,
    pub holder_name: String,
    pub status: String,
    pub order_id: Option<i64>,
    pub generation: i64,
    pub requires_phone: bool,
    pub moments: Vec<Moment>,
}

/// A ticket's facts and its story, oldest first.
pub fn ticket_story(conn: &Connection, serial: i64) -> AppResult<TicketStory> {
    let Some(tickets::Story {
        event_id,
        event_name,
        time_zone,
        offer,
        holder_email,
        holder_name,
        status,
        order_id,
        generation,
        issued_at,
        purchase_kind: kind,
        ..
    }) = tickets::story(conn, serial)?
    else {
        return Err(AppError::not_found(format!("no ticket {serial}")));
    };
    let mut moments = Vec::new();
    // The first holder is the buyer: the sender of the first transfer, else today's holder.
    let first_holder: Option<String> = ticket_transfers::first_sender(conn, serial)?;
    moments.push(Moment {
        at: issued_at,
        kind: "issued".into(),
        text: match (kind.as_str(), order_id) {
            ("complimentary", _) => format!(
                "issued as a complimentary {offer} ticket to {}",
                first_holder.as_deref().unwrap_or(&holder_email)
            ),
            (_, Some(o)) => format!(
                "issued: {offer} bought by {} (order {o})",
                first_holder.as_deref().unwrap_or(&holder_email)
            ),
            _ => format!("issued: {offer}"),
        },
        bad: false,
    });
    for x in ticket_transfers::of_ticket(conn, serial)? {
        let (g, from, to, admits) = (x.generation, x.from_email, x.to_email, x.admits);
        moments.push(Moment {
            at: x.at,
            kind: "transferred".into(),
            text: format!("given by {from} to {to} (code {g}, admits {admits})"),
            bad: false,
        });
    }
    for b in ticket_bindings::of_ticket(conn, serial)? {
        let (no, tag, at, ended, why) = (b.binding_no, b.key_tag, b.created_at, b.revoked_at, b.revoked_reason);
        moments.push(Moment {
            at,
            kind: "bound".into(),
            text: format!("bound to phone {tag} (binding {no})"),
            bad: false,
        });
        if let Some(e) = ended {
            moments.push(Moment {
                at: e,
                kind: "unbound".into(),
                text: format!(
                    "phone {tag} stopped showing it ({})",
                    if why.as_deref() == Some("transferred") {
                        "ticket given on"
                    } else {
                        "another phone bound"
                    }
                ),
                bad: false,
            });
        }
    }
    for s in scans::of_ticket(conn, serial, event_id)? {
        let (at, gate, verdict, reason, direction) = (s.scanned_at, s.gate, s.verdict, s.reason, s.direction);
        let admitted = verdict == "admitted" || verdict == "exited";
        moments.push(Moment {
            at,
            kind: if !admitted {
                "refused".into()
            } else if direction == "exit" {
                "exited".into()
            } else {
                "admitted".into()
            },
            text: if admitted {
                format!(
                    "{} at gate {gate}",
                    if direction == "exit" { "left" } else { "admitted" }
                )
            } else {
                format!("refused at gate {gate}: {reason}")
            },
            bad: !admitted,
        });
    }
    for r in revocations::of_ticket(conn, serial)? {
        let (kind, generation, tag, reason, at, seq) = (r.kind, r.generation, r.tag, r.reason, r.at, r.seq);
        let (text, bad) = match kind.as_str() {
            "ticket" => (
                format!("revoked ({reason}), log entry {seq}: no gate admits it any more"),
                true,
            ),
            "superseded" => (
                format!("codes older than {} replaced, log entry {seq}", generation.unwrap_or(0)),
                false,
            ),
            "device_key" => (
                format!("phone {} refused from now on, log entry {seq}", tag.unwrap_or_default()),
                false,
            ),
            other => (format!("{other} revocation ({reason}), log entry {seq}"), true),
        };
        moments.push(Moment {
            at,
            kind: "revoked".into(),
            text,
            bad,
        });
    }
    for r in refunds_due::of_ticket(conn, serial)? {
        let (reason, cents, at, settled, by, note) = (
            r.reason,
            r.amount_cents,
            r.created_at,
            r.settled_at,
            r.decided_by,
            r.note,
        );
        let why = match reason.as_str() {
            "operator_decision" => format!(
                "an operator's decision ({}: {})",
                by.unwrap_or_default(),
                note.unwrap_or_default()
            ),
            "buyer_refund" => "the buyer's request".into(),
            "event_cancelled" => "the event's cancellation".into(),
            other => other.to_owned(),
        };
        moments.push(Moment {
            at,
            kind: "refund_due".into(),
            text: format!("{} owed back after {why}", crate::ops::euros(cents)),
            bad: false,
        });
        if let Some(s) = settled {
            moments.push(Moment {
                at: s,
                kind: "refund_settled".into(),
                text: format!("{} paid back", crate::ops::euros(cents)),
                bad: false,
            });
        }
    }
    for e in crate::ops::audit::for_subject(conn, &format!("ticket:{serial}"))? {
        moments.push(Moment {
            at: e.at,
            kind: "operator".into(),
            text: format!(
                "{} by {}{}",
                e.action,
                e.operator.as_deref().unwrap_or("the command line"),
                if e.detail.is_empty() {
                    String::new()
                } else {
                    format!(": {}", e.detail)
                }
            ),
            bad: false,
        });
    }
    moments.sort_by_key(|m| m.at);
    let requires_phone = crate::shop::binding::policies(conn)?
        .get(&(event_id as u32))
        .is_some_and(|p| p.0 == og_shared::sync::HolderBinding::Required);
    Ok(TicketStory {
        serial,
        event_id,
        event_name,
        time_zone,
        offer,
        holder_email,
        holder_name,
        status,
        order_id,
        generation,
        requires_phone,
        moments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_read_from_a_png_screenshot_and_from_a_big_jpeg_photo_of_it() {
        let text = "OG2:EXAMPLE-CODE-TEXT-0123456789";
        let png = crate::trust::qr_image::png(text, 6).unwrap();
        assert_eq!(read_code_image(&png).unwrap(), text);
        // The same code in the middle of a 3000x2000 grey JPEG, as a phone camera would send it.
        let code = image::load_from_memory(&png).unwrap().into_luma8();
        let mut photo = image::GrayImage::from_pixel(3000, 2000, image::Luma([170]));
        image::imageops::overlay(
            &mut photo,
            &image::imageops::resize(
                &code,
                code.width() * 3,
                code.height() * 3,
                image::imageops::FilterType::Nearest,
            ),
            1100,
            500,
        );
        let mut jpeg = Vec::new();
        image::DynamicImage::ImageLuma8(photo)
            .write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
            .unwrap();
        assert_eq!(read_code_image(&jpeg).unwrap(), text);
    }

    #[test]
    fn a_file_that_is_no_picture_or_has_no_code_gets_a_reason_not_a_failure() {
        let e = read_code_image(b"%PDF-1.7 not a picture").unwrap_err();
        assert_eq!(e.code(), "unreadable_image");
        let blank = image::GrayImage::from_pixel(400, 300, image::Luma([255]));
        let mut png = Vec::new();
        image::DynamicImage::ImageLuma8(blank)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let e = read_code_image(&png).unwrap_err();
        assert_eq!(e.code(), "no_code_in_image");
        assert!(e.status().is_client_error());
    }
}
