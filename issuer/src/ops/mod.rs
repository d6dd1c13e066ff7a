//! Gate operations seen by operators (issue 4): operators and their roles, events and offers,
//! offline provisioning, complimentary tickets, refunds to make, the audit log, the event-day
//! dashboard, search, exports and metrics. What devices do (enrolment, sync, scan intake,
//! conflicts) is in `gates`; the buyer-side rules operator actions reuse are in `shop`.
//!
//! The domain logic lives here as plain functions over a store connection or transaction (or
//! the `shop::Services` for actions that also send mail), so the HTTP handlers
//! (`web::{devices, device_sync, scans, operator, console, metrics}`) and the offline CLI
//! commands (`cli::admin`) share it. Secrets made here (operator tokens, enrolment tokens,
//! device credentials) are random 32-byte values shown once; only their SHA-256 is stored.
//!
//! Routes (errors are always `{"error":{"code","message"}}`):
//!
//! | route | who | what |
//! |---|---|---|
//! | `POST /api/v1/devices/enroll` | enrolment token in the body | `EnrollRequest` -> `EnrollResponse`; 401 unknown, 410 used/expired |
//! | `GET /api/v1/device/sync` | device | `SyncQuery` -> `SyncResponse`, ETag/304, gzip, 409 `revocations_reset` |
//! | `GET /api/v1/device/revocations?after=N` | device | binary page `application/x-og-revocations` (all entries after N) |
//! | `POST /api/v1/device/scans` | device | `ScanBatch` -> `ScanBatchAck`; 400 `malformed_batch`; gzip bodies accepted |
//! | `POST /api/v1/ops/enrolment-tokens` | operator | `{event_ids, zone?, ttl_secs?}` -> 201 token + `qr_png_base64` |
//! | `GET /api/v1/ops/devices`, `PATCH /api/v1/ops/devices/{id}` `{name}` | operator | list, rename |
//! | `POST /api/v1/ops/devices/{id}/revoke`, `.../rotate` | operator | 204; 200 `{credential}` |
//! | `GET/POST /api/v1/ops/events`, `PATCH /api/v1/ops/events/{id}` | operator | catalogue with offers; create; change |
//! | `GET /api/v1/ops/events/{id}/scans-per-minute?since=T` | operator | per gate per minute, admitted/refused |
//! | `GET /api/v1/ops/conflicts` | operator | conflicts, newest first |
//! | `GET /api/v1/ops/revocations?after=N&limit=L`, `POST` `{kind, serial/purchase_id/account_id, reason}` | operator | log; revoke |
//! | `POST /api/v1/ops/comps` `{event_id, offer, email, count}` | operator | 201 issued tickets (QR text) |
//! | `GET /api/v1/ops/refunds-due?all=true`, `POST /api/v1/ops/refunds-due/{id}/settle` | operator | money to give back; mark one made |
//! | `GET /api/v1/ops/audit?before=ID&limit=N` | operator (admin, supervisor) | the audit log, newest first |
//! | `/ops/...` pages | operator (cookie from `/ops/login`, or bearer) | console; others are redirected to `/ops/login` |
//! | `GET /metrics` | anyone | Prometheus text |
//!
//! Which role may use which operator route: [`access::ROUTES`] (one table, one layer).
//! Operators: `Authorization: Bearer ogop_...` ([`auth::OperatorAuth`]); devices:
//! `Authorization: Bearer ogdev_...` (`gates::auth::DeviceAuth`).

pub mod access;
pub mod actions;
pub mod audit;
pub mod auth;
pub mod catalogue;
pub mod dashboard;
pub mod export;
pub mod metrics;
pub mod search;

pub use metrics::OpsMetrics;

/// Prefix of operator API tokens.
pub const OPERATOR_TOKEN_PREFIX: &str = "ogop_";

/// Money in cents as euros, English style (the operators' console and the texts of operator
/// actions; buyers' pages use [`crate::i18n::Lang::money`]).
pub fn euros(cents: i64) -> String {
    format!("€{}.{:02}", cents / 100, cents % 100)
}
