//! og-issuer: the public shop and the trust authority of og-tickets.
//!
//! Code map (see ARCHITECTURE.md for the whole system):
//! * [`cli`] and [`config`]: the command line, the TOML file and the environment, resolved once
//!   into [`config::Settings`].
//! * [`startup`]: builds the axum application (port 0 in tests) and runs it.
//! * [`state`]: what every handler gets: database, ticket signer, settings, secrets.
//! * [`db`]: SQLite pool, schema migrations (`PRAGMA user_version`), transaction helpers.
//! * [`keys`]: the signing key and other secrets on disk (created 0600, never logged).
//! * [`issuance`] and [`revocation`]: the two operations that change what gates must believe:
//!   signing tickets and appending to the hash-chained revocation log.
//! * [`lifecycle`]: the rules of a ticket's life (refund, transfer, sales window, binding a phone),
//!   pure functions every route and page asks.
//! * [`binding`]: holder-bound tickets on the buyer's phone (bindings, the per-event policy,
//!   paper exceptions), all their SQL in one module.
//! * [`ops`]: gate operations: operators, device enrolment, device sync, scan intake,
//!   conflicts, offline gate bundles, complimentary tickets.
//! * [`seed`]: the demo catalogue written on first start.
//! * [`routes`]: HTTP handlers, one module per area, each with its own `routes()`.
//! * Buyer side: [`domain`] (parsed input), [`auth`] and [`accounts`] (sessions, sign-up),
//!   [`shop`] (catalogue, cart, orders, tickets), [`payment`] (processor seam, webhooks),
//!   [`mail`], [`qr_image`], [`ticket_docs`] and [`ticket_pdf`] (the printable PDF ticket),
//!   [`background`] (recovery and periodic jobs).
//! * [`error`]: the one `AppError` every handler returns, rendered as JSON `{error:{code,message}}`.

pub mod background;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
pub mod gates;
pub mod i18n;
pub mod ops;
pub mod passwords;
pub mod proxy;
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
