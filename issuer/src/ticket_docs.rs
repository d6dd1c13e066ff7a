//! What a printed ticket says: gathers a ticket (or an order's tickets) the account holds, with
//! the same ownership checks as the ticket page (`shop::get_ticket`, `shop::get_order`), and
//! words it for [`crate::ticket_pdf`]: local times in the event's zone (jiff's bundled IANA
//! database), the venue and its address, who the offer admits, and either the QR or, where the
//! event requires the phone-bound code (`lifecycle::static_code_shown`), why there is none.
//!
//! The words are English for now, all in [`Words`], so that a translation replaces that one
//! struct and nothing else.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::error::{AppError, AppResult};
use crate::shop::{self, TicketView};
use crate::store::sql::{Connection, OptionalExtension, params};
use crate::ticket_pdf::{SheetCode, TicketSheet};

/// The event facts a sheet needs that the ticket view does not carry.
struct Venue {
    address: String,
    zone: String,
}

fn venue(conn: &Connection, event_id: i64) -> AppResult<Venue> {
    let v = conn
        .query_row(
            "SELECT venue_address, time_zone FROM events WHERE id = ?1",
            params![event_id],
            |r| {
                Ok(Venue {
                    address: r.get(0)?,
                    zone: r.get(1)?,
                })
            },
        )
        .optional()?;
    v.ok_or_else(|| AppError::not_found(format!("no event {event_id}")))
}

/// The printable sheet of one ticket the account holds.
pub fn ticket_sheet(conn: &Connection, account_id: i64, serial: i64, base_url: &str) -> AppResult<TicketSheet> {
    let t = shop::get_ticket(conn, account_id, serial)?;
    if t.qr_text.is_none() {
        return Err(AppError::conflict(
            "ticket_revoked",
            "this ticket no longer opens the gate: there is nothing to print",
        ));
    }
    let v = venue(conn, t.event_id)?;
    Ok(Words::ENGLISH.sheet(&t, &v, base_url))
}

/// The sheets of every valid ticket of an order that the account still holds (tickets given
/// away or refunded are not theirs to print).
pub fn order_sheets(conn: &Connection, account_id: i64, order_id: i64, base_url: &str) -> AppResult<Vec<TicketSheet>> {
    // The order must be the account's: the same check and the same 404 as its page.
    shop::get_order(conn, account_id, order_id, base_url)?;
    let serials: Vec<i64> = conn
        .prepare_cached(
            "SELECT serial FROM tickets WHERE order_id = ?1 AND account_id = ?2 AND status = 'valid' ORDER BY serial",
        )?
        .query_map(params![order_id, account_id], |r| r.get(0))?
        .collect::<crate::store::sql::Result<Vec<_>>>()?;
    if serials.is_empty() {
        return Err(AppError::conflict(
            "no_printable_ticket",
            "this order has no ticket to print: it is not paid yet, or its tickets were refunded or given away",
        ));
    }
    serials
        .into_iter()
        .map(|s| ticket_sheet(conn, account_id, s, base_url))
        .collect()
}

/// The PDF's title for one ticket or an order.
pub fn ticket_title(serial: i64) -> String {
    format!("Ticket {serial}")
}

pub fn order_title(order_id: i64) -> String {
    format!("Tickets of order {order_id}")
}

/// Every word of a sheet, in one language.
pub struct Words {
    pub lang: &'static str,
    pub heading: &'static str,
    pub ticket: &'static str,
    pub date: &'static str,
    pub doors: &'static str,
    pub venue: &'static str,
    pub offer: &'static str,
    pub holder: &'static str,
    pub number: &'static str,
    pub weekdays: [&'static str; 7],
    pub months: [&'static str; 12],
    /// `{zone} time` with the city of the IANA name.
    pub zone_time: &'static str,
    pub admits_one: &'static str,
    pub admits_many: &'static str,
    pub places_left: &'static str,
    pub people_one: &'static str,
    pub people_many: &'static str,
    pub caption: &'static str,
    pub phone_title: &'static str,
    pub phone_lines: [&'static str; 2],
    pub entry_title: &'static str,
    pub entry_lines: [&'static str; 3],
    pub footer: &'static str,
}

impl Words {
    pub const ENGLISH: Words = Words {
        lang: "en",
        heading: "E-TICKET",
        ticket: "Ticket {serial}",
        date: "Date",
        doors: "Doors open",
        venue: "Venue",
        offer: "Offer",
        holder: "Holder",
        number: "Ticket number",
        weekdays: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        months: [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ],
        zone_time: "{zone} time",
        admits_one: "{offer}, admits 1 person",
        admits_many: "{offer}, admits {n} people",
        places_left: "{offer}, {left} of {n} places left",
        people_one: "1 person",
        people_many: "{n} people",
        caption: "Ticket {serial}: show this code at the gate, printed or on a screen.",
        phone_title: "Open this ticket on your phone",
        phone_lines: [
            "This event needs the live code on the holder's phone: a print or a picture of a code is refused at the gate, so this page has none.",
            "On your phone, log in at {url} and choose \"Use this phone as my ticket\". The code changes every few seconds and works offline.",
        ],
        entry_title: "How entry works",
        entry_lines: [
            "At the gate, the steward scans the code: the gate says ADMIT or REJECT at once, even without network. Turn a phone's brightness up.",
            "One scan lets in {people}. Each place is used once: a copy of this code shown after you is refused.",
            "Doors open {doors}. Keep this ticket to yourself: whoever shows the code first gets in.",
        ],
        footer: "og-tickets · ticket {serial} · this code is signed: any change to it is refused at the gate.",
    };

    /// `Sat 3 Aug 2024, 20:30 (Paris time)` in the event's zone.
    fn when(&self, t: i64, zone: &str) -> String {
        let tz = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
        let Ok(ts) = Timestamp::from_second(t) else {
            return t.to_string();
        };
        let z = ts.to_zoned_datetime(tz);
        let weekday = self.weekdays[usize::try_from(z.weekday().to_monday_zero_offset()).unwrap_or(0) % 7];
        let month = self.months[usize::try_from(z.month() - 1).unwrap_or(0) % 12];
        let city = zone.rsplit('/').next().unwrap_or(zone).replace('_', " ");
        format!(
            "{weekday} {} {month} {}, {:02}:{:02} ({})",
            z.day(),
            z.year(),
            z.hour(),
            z.minute(),
            self.zone_time.replace("{zone}", &city)
        )
    }

    fn sheet(&self, t: &TicketView, v: &Venue, base_url: &str) -> TicketSheet {
        let serial = t.serial.to_string();
        let offer = crate::routes::pages::title_case(&t.offer);
        let n = t.admits.to_string();
        let offer_line = if t.left < t.admits {
            self.places_left
                .replace("{left}", &t.left.to_string())
                .replace("{n}", &n)
        } else if t.admits == 1 {
            self.admits_one.to_owned()
        } else {
            self.admits_many.replace("{n}", &n)
        }
        .replace("{offer}", &offer);
        let venue = if v.address.trim().is_empty() {
            t.venue.clone()
        } else {
            format!("{}, {}", t.venue, v.address.trim())
        };
        let doors = self.when(t.doors_open, &v.zone);
        let left = t.left.min(t.admits);
        let people = if left <= 1 {
            self.people_one.to_owned()
        } else {
            self.people_many.replace("{n}", &left.to_string())
        };
        let code = match (&t.qr_text, t.phone.static_code) {
            (Some(text), true) => SheetCode::Qr {
                text: text.clone(),
                caption: self.caption.replace("{serial}", &serial),
            },
            _ => SheetCode::PhoneOnly {
                title: self.phone_title.to_owned(),
                lines: self
                    .phone_lines
                    .iter()
                    .map(|l| l.replace("{url}", &format!("{base_url}/tickets/{serial}")))
                    .collect(),
            },
        };
        TicketSheet {
            lang: self.lang.to_owned(),
            heading: self.heading.to_owned(),
            number: self.ticket.replace("{serial}", &serial),
            event: t.event_name.clone(),
            sport: t.sport.clone(),
            rows: vec![
                (self.date.to_owned(), self.when(t.starts_at, &v.zone)),
                (self.doors.to_owned(), doors.clone()),
                (self.venue.to_owned(), venue),
                (self.offer.to_owned(), offer_line),
                (self.holder.to_owned(), t.holder_name.clone()),
                (self.number.to_owned(), serial.clone()),
            ],
            code,
            entry_title: self.entry_title.to_owned(),
            entry_lines: self
                .entry_lines
                .iter()
                .map(|l| l.replace("{people}", &people).replace("{doors}", &doors))
                .collect(),
            footer: self.footer.replace("{serial}", &serial),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_on_a_ticket_are_local_to_the_venue_with_its_zone_named() {
        // 2024-08-03 18:30 UTC.
        let w = &Words::ENGLISH;
        assert_eq!(
            w.when(1_722_709_800, "Europe/Paris"),
            "Sat 3 Aug 2024, 20:30 (Paris time)"
        );
        assert_eq!(
            w.when(1_722_709_800, "America/New_York"),
            "Sat 3 Aug 2024, 14:30 (New York time)"
        );
    }
}
