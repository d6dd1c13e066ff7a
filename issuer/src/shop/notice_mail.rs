//! The mails that tell a buyer a change went through: a ticket they sent (to the sender; the
//! recipient gets "ticket received" from `shop::actions::transfer`), a refund granted (the
//! buyer's own refund of an order, an operator's refund of a ticket), their password changed
//! (on the account page or with a reset link). Each is queued in the transaction of the change
//! (`mail::queue_framed`: sent once it commits; a failing mail server changes nothing), in the
//! account's language (`mail-transfer-sent-`, `mail-refund-confirmed-`, `mail-password-changed-`
//! messages), as plain text with the shared HTML frame.

use crate::error::AppResult;
use crate::i18n::Lang;
use crate::shop::Services;
use crate::shop::mail::{self, Mail};
use crate::store::sql::{Connection, Transaction};
use crate::tr;

/// The name of the event a ticket is for (empty for an unknown ticket).
pub fn ticket_event(conn: &Connection, serial: i64) -> AppResult<String> {
    Ok(crate::store::tickets::event_name(conn, serial)?.unwrap_or_default())
}

/// The names of the events an order is for, joined with ", ".
fn order_events(conn: &Connection, order_id: i64) -> AppResult<String> {
    let names = crate::store::order_lines::event_names(conn, order_id)?;
    Ok(names.join(", "))
}

/// Tells a sender that their ticket went to `to` (`invited`: `to` has no account yet and was
/// mailed a link to claim it).
#[allow(clippy::too_many_arguments)]
pub fn transfer_sent(
    tx: &Transaction<'_>,
    state: &Services,
    sender: &crate::shop::auth::AuthUser,
    to: &str,
    serial: i64,
    event: &str,
    invited: bool,
    now: i64,
) -> AppResult<()> {
    let l = mail::mail_language(state, sender.language.as_deref());
    let body = tr!(
        l,
        "mail-transfer-sent-body",
        how = if invited { "invited" } else { "sent" },
        to = to,
        ticket = serial.to_string(),
        event = event,
        link = format!("{}/tickets", state.base_url),
        password = format!("{}/account", state.base_url)
    );
    mail::queue_framed(
        tx,
        Some(sender.id),
        l,
        Mail {
            to: sender.email.clone(),
            subject: tr!(l, "mail-transfer-sent-subject", ticket = serial.to_string(), to = to),
            body,
        },
        now,
    )
}

/// A refund granted, as its mail tells it.
#[derive(Debug, Clone)]
pub struct RefundNotice {
    /// The buyer's account.
    pub account: Option<i64>,
    pub to: String,
    pub language: Option<String>,
    pub order_id: i64,
    /// The ticket refunded; `None`: the whole order.
    pub serial: Option<u32>,
    pub amount_cents: i64,
    /// The event(s) the money was for.
    pub event: String,
}

/// What the buyer's refund of a whole order owes back (every `buyer_refund` row of the order),
/// read after its commit; `None` when nothing is owed (a pending order just cancelled).
pub fn buyer_refund_notice(conn: &Connection, order_id: i64) -> AppResult<Option<RefundNotice>> {
    let row = crate::store::orders::buyer_refund_owed(conn, order_id)?;
    let Some(crate::store::orders::BuyerRefundOwed {
        account_id,
        email: to,
        language,
        rows,
        amount_cents,
    }) = row
    else {
        return Ok(None);
    };
    if rows == 0 {
        return Ok(None);
    }
    Ok(Some(RefundNotice {
        account: Some(account_id),
        to,
        language,
        order_id,
        serial: None,
        amount_cents,
        event: order_events(conn, order_id)?,
    }))
}

/// The notice of an operator's refund of one ticket, from the refund due it recorded.
pub fn operator_refund_notice(conn: &Connection, due: &crate::shop::refunds::RefundDue) -> AppResult<RefundNotice> {
    let event = match due.serial {
        Some(serial) => ticket_event(conn, i64::from(serial))?,
        None => order_events(conn, due.order_id)?,
    };
    Ok(RefundNotice {
        account: due.buyer_account,
        to: due.buyer_email.clone(),
        language: due.buyer_language.clone(),
        order_id: due.order_id,
        serial: due.serial,
        amount_cents: due.amount_cents,
        event,
    })
}

/// Tells the buyer their refund is granted: how much, for what, where the money goes.
pub fn refund_confirmed(tx: &Transaction<'_>, state: &Services, n: &RefundNotice, now: i64) -> AppResult<()> {
    let l = mail::mail_language(state, n.language.as_deref());
    let body = tr!(
        l,
        "mail-refund-confirmed-body",
        amount = l.money(n.amount_cents),
        what = if n.serial.is_some() { "ticket" } else { "order" },
        order = n.order_id.to_string(),
        ticket = n.serial.map(|s| s.to_string()).unwrap_or_default(),
        event = n.event.as_str(),
        link = format!("{}/orders/{}", state.base_url, n.order_id)
    );
    mail::queue_framed(
        tx,
        n.account,
        l,
        Mail {
            to: n.to.clone(),
            subject: tr!(l, "mail-refund-confirmed-subject", order = n.order_id.to_string()),
            body,
        },
        now,
    )
}

/// Tells an account (`account_id`, at `to`) its password was changed at `at` (`reset`: with a
/// mailed link, else on the account page), and what to do if it was not them.
pub fn password_changed(
    tx: &Transaction<'_>,
    state: &Services,
    account_id: i64,
    to: &str,
    language: Option<&str>,
    at: i64,
    reset: bool,
) -> AppResult<()> {
    let l: Lang = mail::mail_language(state, language);
    let body = tr!(
        l,
        "mail-password-changed-body",
        email = to,
        when = l.datetime(at, og_shared::DEFAULT_TIME_ZONE),
        how = if reset { "reset" } else { "account" },
        link = format!("{}/password/forgot", state.base_url)
    );
    mail::queue_framed(
        tx,
        Some(account_id),
        l,
        Mail {
            to: to.to_owned(),
            subject: tr!(l, "mail-password-changed-subject"),
            body,
        },
        at,
    )
}
