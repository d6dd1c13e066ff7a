//! The gate's SQLite schema and its migrations, versioned with `PRAGMA user_version`.
//!
//! Each entry of [`MIGRATIONS`] moves the database from version i to i+1 inside one transaction.
//! A device may have been switched off for a season: opening its database upgrades it in place and
//! keeps every admission and queued report (tested by upgrading a version-1 snapshot).
//!
//! Rotating codes (issue 11) need no migration: the new `device_key` revocation kind is one more
//! value of the integer `revocations.kind` column (5, indexed by serial), and an event's
//! `holder_binding` and `paper_exceptions` live in its JSON `facts`, where facts written before
//! them read as `optional` with no exceptions (tested on a version-4 snapshot in `store`).

use rusqlite::Connection;

/// Migration i brings the schema from version i to i+1.
pub const MIGRATIONS: &[&str] = &[
    // v1: the first field release.
    r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE trust_keys (
        key_id INTEGER PRIMARY KEY,
        public_key TEXT NOT NULL,
        valid_from INTEGER NOT NULL,
        valid_until INTEGER NOT NULL
    );
    CREATE TABLE events (
        event_id INTEGER PRIMARY KEY,
        facts TEXT NOT NULL
    );
    CREATE TABLE revocations (
        seq INTEGER PRIMARY KEY,
        kind INTEGER NOT NULL,
        target BLOB NOT NULL,
        entry BLOB NOT NULL
    );
    CREATE INDEX revocations_target ON revocations(kind, target);
    CREATE TABLE admissions (
        id INTEGER PRIMARY KEY,
        nonce TEXT NOT NULL UNIQUE,
        event_id INTEGER NOT NULL,
        serial INTEGER NOT NULL,
        gate TEXT NOT NULL,
        at INTEGER NOT NULL,
        direction TEXT NOT NULL,
        own INTEGER NOT NULL
    );
    CREATE INDEX admissions_ticket ON admissions(event_id, serial);
    CREATE TABLE outbox (
        nonce TEXT PRIMARY KEY,
        report TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    );
    "#,
    // v2: reports the issuer refused are kept apart (never retried, never lost), and the
    // issuer's sequence number of admissions learnt from other gates.
    r#"
    CREATE TABLE refused (
        nonce TEXT PRIMARY KEY,
        report TEXT NOT NULL,
        code TEXT NOT NULL,
        message TEXT NOT NULL,
        refused_at INTEGER NOT NULL
    );
    ALTER TABLE admissions ADD COLUMN issuer_seq INTEGER;
    ALTER TABLE outbox ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
    "#,
    // v3: conflicts the issuer found (a ticket admitted more often than it admits, across
    // gates), pushed to every gate of the event so stewards see them.
    r#"
    CREATE TABLE conflicts (
        event_id INTEGER NOT NULL,
        serial INTEGER NOT NULL,
        allowed INTEGER NOT NULL,
        admitted INTEGER NOT NULL,
        gates TEXT NOT NULL,
        detected_at INTEGER NOT NULL,
        PRIMARY KEY (event_id, serial)
    );
    "#,
    // v4: ticket format 2. A serial is an entitlement with several codes over its life (a
    // transfer makes a new one): each passage remembers which code (generation) it used, so a
    // code admits at most what it was issued for and the entitlement at most its offer.
    r#"
    ALTER TABLE admissions ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
    "#,
];

/// The schema version this build writes.
pub const CURRENT_VERSION: u32 = MIGRATIONS.len() as u32;

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    #[error("the database was written by a newer gate-agent (schema {found}, this build knows {CURRENT_VERSION})")]
    TooNew { found: u32 },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Applies every pending migration.
pub fn migrate(conn: &mut Connection) -> Result<u32, SchemaError> {
    migrate_to(conn, CURRENT_VERSION)
}

/// Applies migrations up to `target` (tests use it to build old snapshots).
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<u32, SchemaError> {
    let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > CURRENT_VERSION {
        return Err(SchemaError::TooNew { found });
    }
    for v in found..target {
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[v as usize])?;
        tx.pragma_update(None, "user_version", v + 1)?;
        tx.commit()?;
    }
    Ok(target.max(found))
}
