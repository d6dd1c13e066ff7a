//! The PostgreSQL advisory locks writers take (`Db::write_scoped`, `Connection::lock_log`,
//! the migrations): their keys in one place, so no two uses share a key by accident.

/// The advisory lock every PostgreSQL write transaction takes first (any constant; "og" in ASCII).
pub const WRITE_LOCK: i64 = 0x6f67;
/// The class of the per-account advisory locks (two-key form, a key space apart from
/// [`WRITE_LOCK`]'s).
pub const ACCOUNT_LOCKS: i32 = 0x6f67;
/// The class of the logs' advisory locks ([`Log`]; two-key form, apart from the accounts').
pub const LOG_LOCKS: i32 = 0x6f68;

/// The logs whose order is their commit order and which writers in `WriteScope::Shared`
/// append to: each has its own lock (`Connection::lock_log`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Log {
    /// `admissions` (gap-free `seq`, synced by the gates) and the `conflicts` read from it.
    Admissions = 1,
}
