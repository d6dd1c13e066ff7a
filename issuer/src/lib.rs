//! og-issuer: the public shop and the trust authority of og-tickets.
//!
//! Code map (see ARCHITECTURE.md for the whole system). The contexts are directories; each
//! imports only the ones below it, and no import cycle runs between them or the top-level
//! modules (`issuer/tests/architecture.rs`):
//!
//! ```text
//! web, cli          front ends: parse, call one domain function, render or print
//!  └─ ops           operators: roles, actions, events and offers, audit, dashboard, search, export
//!      ├─ shop      buyers: accounts, sessions, catalogue, orders, payment, refunds, binding, mails
//!      └─ gates     devices: enrolment, credentials, sync, scan intake
//!          trust    (under shop and gates) keys, ticket issuance, the revocation log, QR images
//!           └─ store  the SQLite/PostgreSQL pool, migrations, the query API
//! ```
//!
//! * [`web`]: HTTP routes, one module per area with its `routes()`, the page layout, CSRF, the
//!   extractors and the operator role layer ([`web::auth`]).
//! * [`cli`]: the command line; [`cli::admin`] holds the offline commands of gate operations.
//! * [`ops`]: gate operations seen by operators: [`ops::access`] (roles and the route table),
//!   [`ops::auth`], [`ops::actions`] (one function per operator action, audited),
//!   [`ops::catalogue`] (events and offers), [`ops::dashboard`], [`ops::search`],
//!   [`ops::export`], [`ops::metrics`], [`ops::audit`].
//! * [`shop`]: the buyer's side: [`shop::orders`] (cart, seats, checkout, tickets, transfer),
//!   [`shop::actions`] (what the API and the pages both ask for), [`shop::accounts`],
//!   [`shop::auth`], [`shop::catalogue`], [`shop::payment`],
//!   [`shop::refunds`], [`shop::lifecycle`] (the rules of a ticket's life, pure functions),
//!   [`shop::binding`], the mails and the PDF ticket. Domain functions take the
//!   [`shop::Services`] they need (database, signer, settings, secrets, base URL), never the web
//!   layer's `AppState`.
//! * [`gates`]: [`gates::devices`], [`gates::auth`], [`gates::sync`], [`gates::intake`].
//! * [`trust`]: [`trust::keys`], [`trust::issuance`], [`trust::revocation`], [`trust::qr_image`].
//! * [`store`]: the only module that knows which database runs.
//! * Below every context: [`error`] (the one `AppError`), [`domain`] (input parsed once into
//!   newtypes, statuses), [`passwords`], [`i18n`] (what buyers read), [`secrets`] (randomness and
//!   owner-only files), [`config`] and [`proxy`] (settings), [`now`].
//! * Assembling the issuer: [`state`] (`AppState`), [`startup`], [`background`], [`seed`].

pub mod background;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
pub mod gates;
pub mod i18n;
pub mod low_priority;
pub mod ops;
pub mod passwords;
pub mod proxy;
pub mod secrets;
pub mod seed;
pub mod shop;
pub mod startup;
pub mod state;
pub mod store;
pub mod trust;
pub mod web;

/// Current Unix time in seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Milliseconds since the Unix epoch on the issuer's clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
