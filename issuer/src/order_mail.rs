//! The order confirmation a buyer gets once their payment is confirmed: a receipt (order number,
//! items, the total with VAT included) in plain text and HTML, with the order's PDF tickets
//! attached (`ticket_docs`, `ticket_pdf`). Sent after the commit that issued the tickets, in the
//! background, through the mail seam (`mail::send_rich`); a failure is logged and changes nothing
//! (the tickets are on the site either way). English for now, every word in this module.

use maud::html;

use crate::error::{AppError, AppResult};
use crate::mail::{self, Attachment, Mail, RichMail};
use crate::shop::{self, OrderView};
use crate::state::AppState;
use crate::store::sql::{Connection, OptionalExtension, params};
use crate::ticket_pdf::TicketSheet;
use crate::web::euros;

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
    order: OrderView,
    sheets: Vec<TicketSheet>,
}

fn facts(conn: &Connection, order_id: i64, base_url: &str) -> AppResult<Facts> {
    let (account, to, name): (i64, String, String) = conn
        .query_row(
            "SELECT a.id, a.email, a.display_name FROM orders o JOIN accounts a ON a.id = o.account_id
             WHERE o.id = ?1",
            params![order_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("no order {order_id}")))?;
    let order = shop::get_order(conn, account, order_id, base_url)?;
    let sheets = crate::ticket_docs::order_sheets(conn, account, order_id, base_url)?;
    Ok(Facts {
        to,
        name,
        order,
        sheets,
    })
}

/// Mails the confirmation of a paid order, in the background.
pub fn confirmation_later(state: &AppState, order_id: i64) {
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = confirmation(&state, order_id).await {
            tracing::error!(order_id, error = %e, "could not mail the order confirmation");
        }
    });
}

/// Builds and sends the confirmation of a paid order.
pub async fn confirmation(state: &AppState, order_id: i64) -> Result<(), String> {
    let base = state.base_url.to_string();
    let f = state
        .db
        .read(move |c| facts(c, order_id, &base))
        .await
        .map_err(|e| e.to_string())?;
    let title = crate::ticket_docs::order_title(order_id);
    let sheets = f.sheets.clone();
    let pdf = tokio::task::spawn_blocking(move || crate::ticket_pdf::render(&title, &sheets))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    mail::send_rich(state, &message(&f, &state.base_url, pdf)).await
}

fn message(f: &Facts, base_url: &str, pdf: Vec<u8>) -> RichMail {
    let o = &f.order;
    let hello = if f.name.trim().is_empty() {
        "Hello,".to_owned()
    } else {
        format!("Hello {},", f.name.trim())
    };
    let vat = vat_included(o.total_cents);
    let vat_line = format!(
        "Total, VAT included: {} (of which VAT at {}.{} %: {})",
        euros(o.total_cents),
        VAT_PER_MILLE / 10,
        VAT_PER_MILLE % 10,
        euros(vat)
    );
    let order_url = format!("{base_url}/orders/{}", o.id);
    let mut text = format!(
        "{hello}\n\nThank you: your payment is confirmed and your tickets are ready.\n\nOrder number: {}\n\n",
        o.id
    );
    for l in &o.lines {
        text.push_str(&format!(
            "  {} x {} - {}: {}\n",
            l.quantity,
            crate::routes::pages::title_case(&l.kind),
            l.event_name,
            euros(l.quantity * l.unit_price_cents)
        ));
    }
    text.push_str(&format!(
        "\n{vat_line}\n\nYour tickets are attached as a PDF: print it or show it on a screen at the gate. \
         They are also on {order_url}.\n\nog-tickets\n"
    ));
    let html = html! {
        p { (hello) }
        p { "Thank you: your payment is confirmed and your tickets are ready." }
        p { "Order number: " strong { (o.id) } }
        table {
            thead { tr { th { "Qty" } th { "Offer" } th { "Event" } th { "Price" } } }
            tbody { @for l in &o.lines { tr {
                td { (l.quantity) } td { (crate::routes::pages::title_case(&l.kind)) }
                td { (l.event_name) } td { (euros(l.quantity * l.unit_price_cents)) }
            } } }
        }
        p { strong { (vat_line) } }
        p { "Your tickets are attached as a PDF: print it or show it on a screen at the gate. They are also on "
            a href=(order_url) { (order_url) } "." }
        p { "og-tickets" }
    };
    RichMail {
        mail: Mail {
            to: f.to.clone(),
            subject: format!("Your order {}: tickets attached", o.id),
            body: text,
        },
        html: Some(html.into_string()),
        attachments: vec![Attachment {
            filename: format!("order-{}-tickets.pdf", o.id),
            content_type: "application/pdf".to_owned(),
            bytes: pdf,
        }],
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
