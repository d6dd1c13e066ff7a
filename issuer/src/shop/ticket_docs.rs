//! What a printed ticket says: gathers a ticket (or an order's tickets) the account holds, with
//! the same ownership checks as the ticket page (`shop::get_ticket`, `shop::get_order`), and
//! words it for [`crate::shop::ticket_pdf`]: local times in the event's zone as every page shows them
//! (`Lang::datetime`), the venue and its address, who the offer admits, and either the QR or, where the
//! event requires the phone-bound code (`lifecycle::static_code_shown`), why there is none.
//!
//! Every word comes from the locale files (`pdf-` messages), in the language the caller names:
//! the request's for a download, the account's for a mail.

use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::shop::orders::{self as shop, TicketView};
use crate::shop::ticket_pdf::{SheetCode, TicketSheet};
use crate::store::sql::Connection;
use crate::tr;

/// The printable sheet of one ticket the account holds.
pub fn ticket_sheet(
    conn: &Connection,
    l: Lang,
    account_id: i64,
    serial: i64,
    base_url: &str,
) -> AppResult<TicketSheet> {
    let t = shop::get_ticket(conn, account_id, serial)?;
    if t.qr_text.is_none() {
        return Err(AppError::conflict(
            "ticket_revoked",
            "this ticket no longer opens the gate: there is nothing to print",
        ));
    }
    Ok(sheet(l, &t, base_url))
}

/// The sheets of every valid ticket of an order that the account still holds (tickets given
/// away or refunded are not theirs to print).
pub fn order_sheets(
    conn: &Connection,
    l: Lang,
    account_id: i64,
    order_id: i64,
    base_url: &str,
) -> AppResult<Vec<TicketSheet>> {
    // The order must be the account's: the same check and the same 404 as its page.
    shop::get_order(conn, account_id, order_id, base_url)?;
    let sheets = held_sheets(conn, l, account_id, order_id, base_url)?;
    if sheets.is_empty() {
        return Err(AppError::conflict(
            "no_printable_ticket",
            "this order has no ticket to print: it is not paid yet, or its tickets were refunded or given away",
        ));
    }
    Ok(sheets)
}

/// [`order_sheets`] for an order already known to be the account's, none when it holds none of
/// its tickets any more (the order confirmation, `order_mail`, is then a receipt alone).
pub fn held_sheets(
    conn: &Connection,
    l: Lang,
    account_id: i64,
    order_id: i64,
    base_url: &str,
) -> AppResult<Vec<TicketSheet>> {
    crate::store::tickets::valid_serials_of_order_held_by(conn, order_id, account_id)?
        .into_iter()
        .map(|s| ticket_sheet(conn, l, account_id, s, base_url))
        .collect()
}

/// The PDF's title for one ticket or an order.
pub fn ticket_title(l: Lang, serial: i64) -> String {
    tr!(l, "pdf-title-ticket", serial = serial.to_string())
}

pub fn order_title(l: Lang, order_id: i64) -> String {
    tr!(l, "pdf-title-order", order = order_id.to_string())
}

/// Every word of a sheet in `l`: labels and sentences from the `pdf-` messages of the locale
/// files, times as every page shows them (`Lang::datetime`, local to the venue, zone named).
fn sheet(l: Lang, t: &TicketView, base_url: &str) -> TicketSheet {
    let serial = t.serial.to_string();
    let offer = l.offer_name(&t.offer);
    let offer_line = if t.left < t.admits {
        tr!(
            l,
            "pdf-places-left",
            offer = offer.as_str(),
            left = t.left,
            n = t.admits
        )
    } else {
        tr!(l, "pdf-admits", offer = offer.as_str(), n = t.admits)
    };
    let venue = if t.venue_address.trim().is_empty() {
        t.venue.clone()
    } else {
        format!("{}, {}", t.venue, t.venue_address.trim())
    };
    let doors = l.datetime(t.doors_open, &t.time_zone);
    let left = t.left.clamp(1, t.admits.max(1));
    let code = match (&t.qr_text, t.phone.static_code) {
        (Some(text), true) => SheetCode::Qr {
            text: text.clone(),
            caption: tr!(l, "pdf-caption", serial = serial.as_str()),
        },
        _ => SheetCode::PhoneOnly {
            title: tr!(l, "pdf-phone-title"),
            lines: vec![
                tr!(l, "pdf-phone-line-why"),
                tr!(l, "pdf-phone-line-how", url = format!("{base_url}/tickets/{serial}")),
            ],
        },
    };
    TicketSheet {
        lang: l.code().to_owned(),
        heading: tr!(l, "pdf-heading"),
        number: tr!(l, "pdf-ticket", serial = serial.as_str()),
        event: t.event_name.clone(),
        sport: t.sport.clone(),
        rows: vec![
            (tr!(l, "pdf-date"), l.datetime(t.starts_at, &t.time_zone)),
            (tr!(l, "pdf-doors"), doors.clone()),
            (tr!(l, "pdf-venue"), venue),
            (tr!(l, "pdf-offer"), offer_line),
            (tr!(l, "pdf-holder"), t.holder_name.clone()),
            (tr!(l, "pdf-number"), serial.clone()),
        ],
        code,
        entry_title: tr!(l, "pdf-entry-title"),
        entry_lines: vec![
            tr!(l, "pdf-entry-scan"),
            tr!(l, "pdf-entry-people", n = left),
            tr!(l, "pdf-entry-doors", doors = doors.as_str()),
        ],
        footer: tr!(l, "pdf-footer", serial = serial.as_str()),
    }
}
