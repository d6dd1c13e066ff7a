//! CSV exports of orders, tickets and scans for a date range, read a page at a time (by
//! primary key, [`PAGE`] rows per read transaction) so that an export of any size never sits in
//! memory: the console streams each page to the browser as it is read.

use crate::error::{AppError, AppResult};
use crate::store::sql::Connection;
use crate::store::{orders, scans, tickets};

/// Rows per page (one read transaction each).
pub const PAGE: i64 = 1000;

/// What can be exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Orders,
    Tickets,
    Scans,
}

impl ExportKind {
    pub const ALL: [ExportKind; 3] = [ExportKind::Orders, ExportKind::Tickets, ExportKind::Scans];

    pub fn name(self) -> &'static str {
        match self {
            ExportKind::Orders => "orders",
            ExportKind::Tickets => "tickets",
            ExportKind::Scans => "scans",
        }
    }

    pub fn parse(s: &str) -> Option<ExportKind> {
        ExportKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// The CSV header line.
    pub fn header(self) -> &'static str {
        match self {
            ExportKind::Orders => "order,created_utc,paid_utc,status,buyer_email,total_eur\r\n",
            ExportKind::Tickets => {
                "ticket,issued_utc,event,event_name,offer,holder_email,status,order,price_eur,generation\r\n"
            }
            ExportKind::Scans => "scan,scanned_utc,received_utc,event,ticket,gate,direction,verdict,reason,device\r\n",
        }
    }
}

/// A CSV field: quoted when it holds a comma, quote or line break; text that a spreadsheet
/// would run as a formula (`=`, `+`, `-`, `@`) gets a leading apostrophe.
pub fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn utc(t: Option<i64>) -> String {
    t.and_then(|t| jiff::Timestamp::from_second(t).ok())
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn eur(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// The rows of `kind` made in `[from, to)` (Unix seconds) with a key above `after`, at most
/// [`PAGE`], as CSV lines; and the last key read (`None`: nothing more).
pub fn page(conn: &Connection, kind: ExportKind, from: i64, to: i64, after: i64) -> AppResult<(String, Option<i64>)> {
    let mut out = String::new();
    let mut last = None;
    match kind {
        ExportKind::Orders => {
            for o in orders::export_page(conn, after, from, to, PAGE)? {
                let (id, created, paid, status, email, total) =
                    (o.id, o.created_at, o.paid_at, o.status, o.buyer_email, o.total_cents);
                out.push_str(&format!(
                    "{id},{},{},{},{},{}\r\n",
                    utc(Some(created)),
                    utc(paid),
                    field(&status),
                    field(&email),
                    eur(total)
                ));
                last = Some(id);
            }
        }
        ExportKind::Tickets => {
            for t in tickets::export_page(conn, after, from, to, PAGE)? {
                let tickets::Exported {
                    serial,
                    issued_at: issued,
                    event_id: event,
                    event_name: name,
                    offer,
                    holder_email: email,
                    status,
                    order_id: order,
                    unit_price_cents: price,
                    generation,
                } = t;
                out.push_str(&format!(
                    "{serial},{},{event},{},{},{},{},{},{},{generation}\r\n",
                    utc(Some(issued)),
                    field(&name),
                    field(&offer),
                    field(&email),
                    field(&status),
                    order.map(|o| o.to_string()).unwrap_or_default(),
                    eur(price)
                ));
                last = Some(serial);
            }
        }
        ExportKind::Scans => {
            for s in scans::export_page(conn, after, from, to, PAGE)? {
                let scans::Exported {
                    id,
                    scanned_at: scanned,
                    received_at: received,
                    event_id: event,
                    serial,
                    gate,
                    direction,
                    verdict,
                    reason,
                    device,
                } = s;
                out.push_str(&format!(
                    "{id},{},{},{},{},{},{},{},{},{}\r\n",
                    utc(Some(scanned)),
                    utc(Some(received)),
                    event.map(|e| e.to_string()).unwrap_or_default(),
                    serial.map(|s| s.to_string()).unwrap_or_default(),
                    field(&gate),
                    field(&direction),
                    field(&verdict),
                    field(&reason),
                    field(&device)
                ));
                last = Some(id);
            }
        }
    }
    Ok((out, last))
}

/// A date range `YYYY-MM-DD` to `YYYY-MM-DD` (both included, UTC days) as `[from, to)` seconds.
pub fn day_range(from: &str, to: &str) -> AppResult<(i64, i64)> {
    let day = |s: &str| -> AppResult<i64> {
        let d = jiff::civil::Date::strptime("%Y-%m-%d", s.trim())
            .map_err(|_| AppError::bad_request("bad_date", format!("{s:?} is not a date like 2026-07-27")))?;
        let z = d
            .to_datetime(jiff::civil::Time::midnight())
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map_err(|_| AppError::bad_request("bad_date", format!("{s:?} is out of range")))?;
        Ok(z.timestamp().as_second())
    };
    let (a, b) = (day(from)?, day(to)? + 86_400);
    if b <= a {
        return Err(AppError::bad_request(
            "bad_range",
            "the range must end on or after its first day",
        ));
    }
    Ok((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_commas_quotes_or_formulas_are_made_harmless() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }

    #[test]
    fn a_day_range_includes_both_days() {
        let (a, b) = day_range("2026-07-27", "2026-07-28").unwrap();
        assert_eq!(b - a, 2 * 86_400);
        assert!(day_range("2026-07-28", "2026-07-27").is_err());
        assert!(day_range("yesterday", "2026-07-27").is_err());
    }
}
