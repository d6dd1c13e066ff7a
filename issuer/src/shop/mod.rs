//! The shop: the buyer's side of og-tickets. Accounts and sessions, the public catalogue,
//! orders (cart, seats, tickets), payment, refunds, holder binding on a phone, the rules of a
//! ticket's life, and the mails and documents a buyer receives.

pub mod accounts;
pub mod actions;
pub mod auth;
pub mod binding;
pub mod catalogue;
pub mod entitlements;
pub mod lifecycle;
pub mod mail;
pub mod mail_queue;
pub mod notice_mail;
pub mod order_mail;
pub mod orders;
pub mod payment;
pub mod refunds;
pub mod ticket_docs;
pub mod ticket_pdf;
pub mod webhook;

use std::sync::Arc;

use og_shared::TicketSigner;
use zeroize::Zeroizing;

use crate::config::Settings;
use crate::store::Db;

/// What the shop's rules (and the operator actions built on them) need from the running issuer:
/// the database, the ticket signer, the settings, the server secrets and the base URL for
/// links. The web layer's `AppState` holds one; cheap to clone.
#[derive(Clone, Debug)]
pub struct Services {
    pub db: Db,
    pub signer: Arc<TicketSigner>,
    pub settings: Arc<Settings>,
    pub secrets: Arc<Secrets>,
    /// Base URL for links (known once the listener is bound).
    pub base_url: Arc<str>,
    /// This process's own listener (`http://127.0.0.1:PORT` when bound to every interface),
    /// where the built-in card processor delivers its webhooks: straight to the replica that
    /// runs it, never out through the public URL, which behind a proxy may not resolve or be
    /// trusted from the issuer's own host (`https://localhost:8443` in a container).
    pub own_url: Arc<str>,
    /// Woken after a commit that queued mails ([`mail::wake`]): this replica's mail worker
    /// sends them at once.
    pub mail_queued: Arc<tokio::sync::Notify>,
}

/// Server-side random secrets (created 0600 in `<data dir>/keys/` on first start).
pub struct Secrets {
    /// HMAC key for access tokens (JWT, HS256).
    pub jwt: Zeroizing<[u8; 32]>,
    /// HMAC key shared with the built-in payment provider for webhooks.
    pub webhook: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}
