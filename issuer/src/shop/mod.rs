//! The shop: the buyer's side of og-tickets. Accounts and sessions, the public catalogue,
//! orders (cart, seats, tickets), payment, refunds, holder binding on a phone, the rules of a
//! ticket's life, and the mails and documents a buyer receives.

pub mod accounts;
pub mod auth;
pub mod binding;
pub mod catalogue;
pub mod lifecycle;
pub mod mail;
pub mod notice_mail;
pub mod order_mail;
pub mod orders;
pub mod payment;
pub mod refunds;
pub mod ticket_docs;
pub mod ticket_pdf;
