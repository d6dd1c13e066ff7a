//! CSV exports of orders, tickets and scans for a date range, read a page at a time (by
//! primary key, [`PAGE`] rows per read transaction) so that an export of any size never sits in
//! memory: the console streams each page to the browser as it is read.

use crate::error::{AppError, AppResult};
use crate::store::sql::{Connection, params};

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
            let mut stmt = conn.prepare_cached(
                "SELECT o.id, o.created_at, o.paid_at, o.status, a.email, o.total_cents
                 FROM orders o JOIN accounts a ON a.id = o.account_id
                 WHERE o.id > ?1 AND o.created_at >= ?2 AND o.created_at < ?3 ORDER BY o.id LIMIT ?4",
            )?;
            for r in stmt.query_map(params![after, from, to, PAGE], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })? {
                let (id, created, paid, status, email, total) = r?;
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
            let mut stmt = conn.prepare_cached(
                "SELECT t.serial, t.issued_at, t.event_id, e.name, t.offer, a.email, t.status, t.order_id,
                        t.unit_price_cents, t.generation
                 FROM tickets t JOIN events e ON e.id = t.event_id JOIN accounts a ON a.id = t.account_id
                 WHERE t.serial > ?1 AND t.issued_at >= ?2 AND t.issued_at < ?3 ORDER BY t.serial LIMIT ?4",
            )?;
            for r in stmt.query_map(params![after, from, to, PAGE], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, Option<i64>>(7)?,
                    r.get::<_, i64>(8)?,
                    r.get::<_, i64>(9)?,
                ))
            })? {
                let (serial, issued, event, name, offer, email, status, order, price, generation) = r?;
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
            let mut stmt = conn.prepare_cached(
                "SELECT s.id, s.scanned_at, s.received_at, s.event_id, s.serial, s.gate, s.direction, s.verdict,
                        s.reason, d.public_id
                 FROM scans s JOIN devices d ON d.id = s.device_id
                 WHERE s.id > ?1 AND s.scanned_at >= ?2 AND s.scanned_at < ?3 ORDER BY s.id LIMIT ?4",
            )?;
            for r in stmt.query_map(params![after, from, to, PAGE], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, String>(9)?,
                ))
            })? {
                let (id, scanned, received, event, serial, gate, direction, verdict, reason, device) = r?;
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
