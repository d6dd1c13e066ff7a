//! Printable tickets for their holder: `GET /tickets/{serial}/ticket.pdf` (one page) and
//! `GET /orders/{id}/tickets.pdf` (a page per ticket of the order the account still holds).
//! Same checks as the ticket and order pages (signed in, the account's own, else 404 or the
//! login page); the words (in the request's language) and facts come from `ticket_docs`, the
//! PDF from `ticket_pdf`.

use axum::Router;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::extract::Id;
use super::pages::{PageError, need};
use crate::error::AppError;
use crate::i18n;
use crate::shop::auth::MaybeUser;
use crate::shop::ticket_docs;
use crate::shop::ticket_pdf::{self, TicketSheet};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tickets/{id}/ticket.pdf", get(ticket_pdf))
        .route("/orders/{id}/tickets.pdf", get(order_pdf))
}

async fn ticket_pdf(State(s): State<AppState>, user: MaybeUser, Id(serial): Id) -> Result<Response, PageError> {
    let u = need(user)?;
    let (uid, base, l) = (u.id, s.base_url.to_string(), i18n::current());
    let sheet =
        s.db.read(move |c| ticket_docs::ticket_sheet(c, l, uid, serial, &base))
            .await
            .map_err(|e| PageError::with_user(e, &u))?;
    pdf(
        ticket_docs::ticket_title(l, serial),
        vec![sheet],
        format!("ticket-{serial}.pdf"),
    )
    .await
    .map_err(|e| PageError::with_user(e, &u))
}

async fn order_pdf(State(s): State<AppState>, user: MaybeUser, Id(order): Id) -> Result<Response, PageError> {
    let u = need(user)?;
    let (uid, base, l) = (u.id, s.base_url.to_string(), i18n::current());
    let sheets =
        s.db.read(move |c| ticket_docs::order_sheets(c, l, uid, order, &base))
            .await
            .map_err(|e| PageError::with_user(e, &u))?;
    pdf(
        ticket_docs::order_title(l, order),
        sheets,
        format!("order-{order}-tickets.pdf"),
    )
    .await
    .map_err(|e| PageError::with_user(e, &u))
}

/// Renders off the async threads (font subsetting takes a few milliseconds a page).
async fn pdf(title: String, sheets: Vec<TicketSheet>, file: String) -> Result<Response, AppError> {
    let bytes = tokio::task::spawn_blocking(move || ticket_pdf::render(&title, &sheets))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    Ok((
        [
            (CONTENT_TYPE, "application/pdf".to_owned()),
            (CONTENT_DISPOSITION, format!("inline; filename=\"{file}\"")),
        ],
        bytes,
    )
        .into_response())
}
