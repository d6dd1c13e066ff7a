//! og-gate: the gate agent's library.
//!
//! A turnstile device that reads ticket QR codes, decides ADMIT or REJECT alone (no network),
//! records every scan durably and reports scans back to the issuer when it can.
//!
//! Flow: [`source`] (camera, image files, scanner lines) -> [`decode`] (zxing-cpp, then rqrr with
//! preprocessing, and guards) -> [`gate`] (verify, look up, [`decide`], record in one transaction) ->
//! [`output`] / [`kiosk`]. [`sync`] and [`bundle`] keep the local [`store`] current.

pub mod bundle;
pub mod cli;
pub mod decide;
pub mod decode;
pub mod gate;
pub mod i18n;
pub mod kiosk;
pub mod locate;
pub mod output;
pub mod schema;
pub mod source;
pub mod staff;
pub mod store;
pub mod sync;
pub mod zxing;
