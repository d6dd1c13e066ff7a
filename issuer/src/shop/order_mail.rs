//! The order confirmation a buyer gets once their payment is confirmed: a receipt (order number,
//! items, the total with VAT included) in plain text and HTML, with the order's PDF tickets
//! attached (`ticket_docs`, `ticket_pdf`). Queued in the commit that issued the tickets
//! (`orders::confirm_payment`) and written when the mail worker sends it (`mail_queue`); a
//! mail server that turns it away changes nothing (the tickets are on the site either way) and
//! it is tried again. Written in the account's language (`mail-order-`
//! messages of the locale files); the attached tickets too.

use maud::html;

use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::shop::Services;
use crate::shop::mail::{self, Attachment, Mail, RichMail};
use crate::shop::orders::{self as shop, OrderView};
use crate::shop::ticket_pdf::TicketSheet;
use crate::store::sql::Connection;
use crate::tr;

/// VAT on admission to sporting events in France (5.5 %), in tenths of a percent: prices are
/// VAT-inclusive and the receipt says how much of the total is VAT.
pub const VAT_PER_MILLE: i64 = 55;

/// The VAT included in a VAT-inclusive amount, rounded to the cent.
pub fn vat_included(total_cents: i64) -> i64 {
    // total - total / (1 + rate), rounded half up.
    let net = (total_cents * 1000 * 2 + (1000 + VAT_PER_MILLE)) / ((1000 + VAT_PER_MILLE) * 2);
    total_cents - net
}

/// What the mail needs, read in one transaction.
struct Facts {
    to: String,
    name: String,
    lang: Lang,
    order: OrderView,
    sheets: Vec<TicketSheet>,
}

fn facts(conn: &Connection, order_id: i64, base_url: &str, default_language: &str) -> AppResult<Facts> {
    let crate::store::orders::Buyer {
        account_id: account,
        email: to,
        display_name: name,
        language,
    } = crate::store::orders::buyer(conn, order_id)?
        .ok_or_else(|| AppError::not_found(format!("no order {order_id}")))?;
    let lang = Lang::for_account(language.as_deref(), default_language);
    let order = shop::get_order(conn, account, order_id, base_url)?;
    // Tickets given away or refunded before this mail went out (a mail server down for a
    // while) are no longer theirs to print: the receipt goes out without them.
    let sheets = crate::shop::ticket_docs::held_sheets(conn, lang, account, order_id, base_url)?;
    Ok(Facts {
        to,
        name,
        lang,
        order,
        sheets,
    })
}

/// Writes the confirmation of a paid order as it is now (the mail worker calls it when the
/// queued confirmation is due, `mail_queue`): its receipt and its PDF tickets.
pub async fn confirmation(state: &Services, order_id: i64) -> AppResult<RichMail> {
    let base = state.base_url.to_string();
    let default_language = state.settings.default_language.clone();
    let f = state
        .db
        .read(move |c| facts(c, order_id, &base, &default_language))
        .await?;
    if f.sheets.is_empty() {
        return Ok(message(&f, &state.base_url, None));
    }
    let title = crate::shop::ticket_docs::order_title(f.lang, order_id);
    let sheets = f.sheets.clone();
    // Nobody stands waiting for this mail: its PDF is written at a lower priority than the
    // requests being answered (`low_priority`).
    let pdf = crate::low_priority::run(move || crate::shop::ticket_pdf::render(&title, &sheets))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    Ok(message(&f, &state.base_url, Some(pdf)))
}

/// The mail; `pdf` is `None` when none of the order's tickets is still the buyer's.
fn message(f: &Facts, base_url: &str, pdf: Option<Vec<u8>>) -> RichMail {
    let (o, l) = (&f.order, f.lang);
    let hello = if f.name.trim().is_empty() {
        tr!(l, "mail-order-hello-anyone")
    } else {
        tr!(l, "mail-order-hello", name = f.name.trim())
    };
    let rate = format!(
        "{}{}{}",
        VAT_PER_MILLE / 10,
        l.t("number-decimal-separator"),
        VAT_PER_MILLE % 10
    );
    let total_line = tr!(
        l,
        "mail-order-total",
        total = l.money(o.total_cents),
        rate = rate,
        vat = l.money(vat_included(o.total_cents))
    );
    let order_url = format!("{base_url}/orders/{}", o.id);
    let thanks = tr!(l, "mail-order-thanks");
    let number = tr!(l, "mail-order-number", order = o.id.to_string());
    let attached = if pdf.is_some() {
        tr!(l, "mail-order-attached", link = order_url.as_str())
    } else {
        tr!(l, "mail-order-none-attached", link = order_url.as_str())
    };
    let offer = |kind: &str| l.offer_name(kind);
    let mut text = format!("{hello}\n\n{thanks}\n\n{number}\n\n");
    for line in &o.lines {
        text.push_str(&format!(
            "  {} x {} - {}: {}\n",
            line.quantity,
            offer(&line.kind),
            line.event_name,
            l.money(line.quantity * line.unit_price_cents)
        ));
    }
    text.push_str(&format!("\n{total_line}\n\n{attached}\n\nog-tickets\n"));
    let html = html! {
        p { (hello) }
        p { (thanks) }
        p { strong { (number) } }
        table {
            thead { tr {
                th { (tr!(l, "mail-order-quantity")) } th { (tr!(l, "mail-order-offer")) }
                th { (tr!(l, "mail-order-event")) } th { (tr!(l, "mail-order-price")) }
            } }
            tbody { @for line in &o.lines { tr {
                td { (line.quantity) } td { (offer(&line.kind)) }
                td { (line.event_name) } td { (l.money(line.quantity * line.unit_price_cents)) }
            } } }
        }
        p { strong { (total_line) } }
        p { (attached) }
        p { "og-tickets" }
    };
    let subject = tr!(l, "mail-order-subject", order = o.id.to_string());
    RichMail {
        html: Some(mail::frame(l, &subject, html)),
        mail: Mail {
            to: f.to.clone(),
            subject,
            body: text,
        },
        attachments: pdf
            .map(|bytes| Attachment {
                filename: format!("order-{}-tickets.pdf", o.id),
                content_type: "application/pdf".to_owned(),
                bytes,
            })
            .into_iter()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vat_in_a_vat_inclusive_price_is_rounded_to_the_cent() {
        // 105.50 at 5.5 % is 100.00 + 5.50.
        assert_eq!(vat_included(10_550), 550);
        assert_eq!(vat_included(0), 0);
        // 85.00: net 80.57, VAT 4.43.
        assert_eq!(vat_included(8_500), 443);
    }
}
