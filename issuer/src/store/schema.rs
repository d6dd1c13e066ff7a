//! The issuer database schema: one ordered list of migrations for both engines.
//!
//! Migration N (1-based) is `MIGRATIONS[N - 1]`, written for SQLite and for PostgreSQL side by
//! side. The version lives in `PRAGMA user_version` on SQLite and in the one-row table
//! `og_schema` on PostgreSQL; each migration runs in its own transaction together with the
//! version bump, so a crash leaves the database at a whole version. PostgreSQL support started
//! at version 7: its migration 7 is the whole schema of SQLite's 1 to 7 (versions 1 to 6 have
//! nothing to run there). Released migrations are never edited: add a new one. A database
//! newer than this build is refused, on both engines.

use rusqlite::Connection;

/// One schema change, for each engine.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub sqlite: &'static str,
    /// Empty for the versions PostgreSQL's baseline (7) includes.
    pub postgres: &'static str,
}

/// Every migration, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        sqlite: include_str!("migrations/sqlite/0001_core.sql"),
        postgres: "",
    },
    Migration {
        sqlite: include_str!("migrations/sqlite/0002_ops.sql"),
        postgres: "",
    },
    Migration {
        sqlite: include_str!("migrations/sqlite/0003_refunds.sql"),
        postgres: "",
    },
    Migration {
        sqlite: include_str!("migrations/sqlite/0004_lifecycle.sql"),
        postgres: "",
    },
    Migration {
        sqlite: include_str!("migrations/sqlite/0005_web_sessions.sql"),
        postgres: "",
    },
    Migration {
        sqlite: include_str!("migrations/sqlite/0006_transfer_invites.sql"),
        postgres: "",
    },
    Migration {
        sqlite: include_str!("migrations/sqlite/0007_trust.sql"),
        postgres: include_str!("migrations/postgres/0007_baseline.sql"),
    },
    Migration {
        sqlite: include_str!("migrations/sqlite/0008_holder_binding.sql"),
        postgres: include_str!("migrations/postgres/0008_holder_binding.sql"),
    },
    Migration {
        sqlite: include_str!("migrations/sqlite/0009_clock_offset.sql"),
        postgres: include_str!("migrations/postgres/0009_clock_offset.sql"),
    },
    Migration {
        sqlite: include_str!("migrations/sqlite/0010_venue_language_roles.sql"),
        postgres: include_str!("migrations/postgres/0010_venue_language_roles.sql"),
    },
    Migration {
        sqlite: include_str!("migrations/sqlite/0011_offer_capacity.sql"),
        postgres: include_str!("migrations/postgres/0011_offer_capacity.sql"),
    },
    Migration {
        sqlite: include_str!("migrations/sqlite/0012_mail_outbox.sql"),
        postgres: include_str!("migrations/postgres/0012_mail_outbox.sql"),
    },
    Migration {
        sqlite: include_str!("migrations/sqlite/0013_mail_outbox_account.sql"),
        postgres: include_str!("migrations/postgres/0013_mail_outbox_account.sql"),
    },
    Migration {
        sqlite: include_str!("migrations/sqlite/0014_gate_logs.sql"),
        postgres: include_str!("migrations/postgres/0014_gate_logs.sql"),
    },
];

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    #[error("the database is at schema version {found}, newer than this build's {supported}: upgrade the issuer")]
    TooNew { found: i64, supported: i64 },
    #[error("migration {version} failed: {source}")]
    Failed { version: i64, source: rusqlite::Error },
    #[error("migration {version} failed: {source}")]
    FailedPostgres { version: i64, source: postgres::Error },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] postgres::Error),
}

/// Applies every migration a SQLite database does not have yet.
pub fn migrate(conn: &mut Connection) -> Result<i64, MigrationError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let latest = latest_version();
    if current > latest {
        return Err(MigrationError::TooNew {
            found: current,
            supported: latest,
        });
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as i64 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(m.sqlite)
            .map_err(|source| MigrationError::Failed { version, source })?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(latest)
}

/// The schema version of the database behind `conn`, on either engine.
pub fn version(conn: &super::sql::Connection<'_>) -> crate::error::AppResult<i64> {
    Ok(match conn.engine() {
        super::sql::Engine::Sqlite => conn.query_row("PRAGMA user_version", [], |r| r.get(0))?,
        super::sql::Engine::Postgres => conn.query_row("SELECT version FROM og_schema", [], |r| r.get(0))?,
    })
}

/// The schema version of a PostgreSQL database (0 when it has none yet).
pub fn postgres_version(client: &mut impl postgres::GenericClient) -> Result<i64, postgres::Error> {
    let exists: bool = client
        .query_one("SELECT to_regclass('og_schema') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        return Ok(0);
    }
    Ok(client
        .query_opt("SELECT version FROM og_schema", &[])?
        .map(|r| r.get(0))
        .unwrap_or(0))
}

/// Applies every migration a PostgreSQL database does not have yet. Replicas starting together
/// take turns: each migration runs under the store's write lock.
pub fn migrate_postgres(client: &mut postgres::Client) -> Result<i64, MigrationError> {
    let latest = latest_version();
    loop {
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&super::locks::WRITE_LOCK])?;
        // PostgreSQL's notices ("relation og_schema already exists, skipping") are not news for
        // whoever reads the start-up log.
        tx.batch_execute("SET LOCAL client_min_messages = warning")?;
        let current = postgres_version(&mut tx)?;
        if current > latest {
            return Err(MigrationError::TooNew {
                found: current,
                supported: latest,
            });
        }
        if current == latest {
            return Ok(latest);
        }
        // Versions without PostgreSQL text are part of the next one that has it (the baseline).
        let mut version = current + 1;
        while MIGRATIONS[(version - 1) as usize].postgres.is_empty() {
            version += 1;
        }
        tx.batch_execute(MIGRATIONS[(version - 1) as usize].postgres)
            .map_err(|source| MigrationError::FailedPostgres { version, source })?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS og_schema (version BIGINT NOT NULL)")?;
        tx.execute("DELETE FROM og_schema", &[])?;
        tx.execute("INSERT INTO og_schema (version) VALUES ($1)", &[&version])?;
        tx.commit()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brings an empty database to `version`, as a build of that version left it (a snapshot).
    fn schema_at(tx: &rusqlite::Transaction<'_>, version: usize) {
        for m in &MIGRATIONS[..version] {
            tx.execute_batch(m.sqlite).unwrap();
        }
        tx.pragma_update(None, "user_version", version as i64).unwrap();
    }

    #[test]
    fn a_fresh_database_reaches_the_latest_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), latest_version());
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, latest_version());
    }

    #[test]
    fn migrating_twice_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), latest_version());
    }

    #[test]
    fn a_database_from_a_newer_build_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(MigrationError::TooNew { found: 999, .. })
        ));
    }

    #[test]
    fn a_version_one_snapshot_upgrades_and_keeps_its_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute_batch(MIGRATIONS[0].sqlite).unwrap();
        tx.pragma_update(None, "user_version", 1).unwrap();
        tx.execute(
            "INSERT INTO events (sport, name, venue, starts_at, doors_open, doors_close, capacity)
             VALUES ('Athletics', 'Final', 'Stade de France', 100, 50, 200, 10)",
            [],
        )
        .unwrap();
        tx.commit().unwrap();
        migrate(&mut conn).unwrap();
        let n: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn a_version_two_snapshot_upgrades_keeps_its_orders_and_gains_refunds_due() {
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute_batch(MIGRATIONS[0].sqlite).unwrap();
        tx.execute_batch(MIGRATIONS[1].sqlite).unwrap();
        tx.pragma_update(None, "user_version", 2).unwrap();
        tx.execute(
            "INSERT INTO accounts (email, password_hash, created_at) VALUES ('a@example.org', 'x', 1)",
            [],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO orders (account_id, status, total_cents, idempotency_key, created_at, expires_at)
             VALUES (1, 'cancelled', 4500, 'k', 1, 2)",
            [],
        )
        .unwrap();
        tx.commit().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), latest_version());
        let n: i64 = conn.query_row("SELECT count(*) FROM orders", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
        conn.execute(
            "INSERT INTO refunds_due (order_id, reason, amount_cents, created_at) VALUES (1, 'order_closed', 4500, 3)",
            [],
        )
        .unwrap();
        let twice = conn.execute(
            "INSERT INTO refunds_due (order_id, reason, amount_cents, created_at) VALUES (1, 'order_closed', 4500, 4)",
            [],
        );
        assert!(twice.is_err(), "one refund per order and reason");
        let plan: String = conn
            .query_row("EXPLAIN QUERY PLAN DELETE FROM rate_hits WHERE at < 5", [], |r| {
                r.get(3)
            })
            .unwrap();
        assert!(
            plan.contains("rate_hits_by_time"),
            "expiring rate-limit hits uses the index: {plan}"
        );
    }

    #[test]
    fn a_version_three_snapshot_upgrades_its_tickets_to_entitlements_and_keeps_its_log_and_refunds() {
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        schema_at(&tx, 3);
        tx.execute_batch(
            "INSERT INTO events (id, sport, name, venue, starts_at, doors_open, doors_close, capacity)
                 VALUES (1, 'Judo', 'Final', 'Arena', 100, 50, 400, 10);
             INSERT INTO offers (id, event_id, kind, price_cents) VALUES (1, 1, 'duo', 9000);
             INSERT INTO accounts (id, email, password_hash, created_at) VALUES (1, 'a@example.org', 'x', 1);
             INSERT INTO orders (id, account_id, status, total_cents, idempotency_key, created_at, expires_at)
                 VALUES (1, 1, 'paid', 18000, 'k', 1, 2);
             INSERT INTO order_lines (order_id, offer_id, quantity, unit_price_cents) VALUES (1, 1, 2, 9000);
             INSERT INTO purchases (id, order_id, account_id, kind, purchase_key, purchase_tag, created_at)
                 VALUES (1, 1, 1, 'paid', x'00', 'aabbccddeeff', 1);
             INSERT INTO tickets (serial, purchase_id, account_id, event_id, offer, key_id, qr_text, issued_at)
                 VALUES (7, 1, 1, 1, 'duo', 1, 'OG1:A', 1);
             INSERT INTO tickets (serial, purchase_id, account_id, event_id, offer, key_id, qr_text, status, issued_at)
                 VALUES (8, 1, 1, 1, 'duo', 1, 'OG1:B', 'revoked', 1);
             INSERT INTO revocations (seq, kind, serial, reason, at, chain_hash) VALUES (1, 'ticket', 8, 'fraud', 5, x'01');
             INSERT INTO refunds_due (order_id, reason, amount_cents, created_at) VALUES (1, 'event_cancelled', 18000, 3);",
        )
        .unwrap();
        tx.commit().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), latest_version());
        let (order, price, reason): (i64, i64, Option<String>) = conn
            .query_row(
                "SELECT order_id, unit_price_cents, revoked_reason FROM tickets WHERE serial = 8",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((order, price, reason.as_deref()), (1, 9000, Some("fraud")));
        let kept: (String, Vec<u8>) = conn
            .query_row("SELECT kind, chain_hash FROM revocations WHERE seq = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(kept, ("ticket".to_owned(), vec![1]));
        conn.execute(
            "INSERT INTO revocations (seq, kind, serial, generation, reason, at, chain_hash)
             VALUES (2, 'superseded', 7, 1, 'transferred', 6, x'02')",
            [],
        )
        .unwrap();
        let old: i64 = conn
            .query_row("SELECT count(*) FROM refunds_due WHERE serial IS NULL", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(old, 1, "the order-level refund due is kept");
        conn.execute(
            "INSERT INTO refunds_due (order_id, serial, reason, amount_cents, created_at) VALUES (1, 7, 'buyer_refund', 9000, 9)",
            [],
        )
        .unwrap();
        let twice = conn.execute(
            "INSERT INTO refunds_due (order_id, serial, reason, amount_cents, created_at) VALUES (1, 7, 'operator_decision', 9000, 9)",
            [],
        );
        assert!(twice.is_err(), "a ticket's money is owed back once");
    }

    #[test]
    fn a_version_seven_snapshot_upgrades_to_phone_bindings_and_keeps_its_log() {
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        schema_at(&tx, 7);
        tx.execute_batch(
            "INSERT INTO events (id, sport, name, venue, starts_at, doors_open, doors_close, capacity)
                 VALUES (1, 'Judo', 'Final', 'Arena', 100, 50, 400, 10);
             INSERT INTO accounts (id, email, password_hash, created_at) VALUES (1, 'a@example.org', 'x', 1);
             INSERT INTO purchases (id, order_id, account_id, kind, purchase_key, purchase_tag, created_at)
                 VALUES (1, NULL, 1, 'complimentary', x'00', 'aabbccddeeff', 1);
             INSERT INTO tickets (serial, purchase_id, account_id, event_id, offer, key_id, qr_text, issued_at)
                 VALUES (7, 1, 1, 1, 'solo', 1, 'OG2:A', 1);
             INSERT INTO revocations (seq, kind, serial, generation, tag, reason, at, chain_hash)
                 VALUES (1, 'superseded', 7, 1, NULL, 'transferred', 5, x'01');
             INSERT INTO revocations (seq, kind, serial, generation, tag, reason, at, chain_hash)
                 VALUES (2, 'purchase', NULL, NULL, 'aabbccddeeff', 'refunded', 6, x'02');",
        )
        .unwrap();
        tx.commit().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), latest_version());
        let policy: String = conn
            .query_row("SELECT holder_binding FROM events WHERE id = 1", [], |r| r.get(0))
            .unwrap();
        assert_eq!(policy, "optional", "existing events keep static codes");
        let kept: Vec<(i64, String, Option<i64>, Vec<u8>)> = conn
            .prepare("SELECT seq, kind, generation, chain_hash FROM revocations ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            kept,
            vec![
                (1, "superseded".to_owned(), Some(1), vec![1]),
                (2, "purchase".to_owned(), None, vec![2])
            ]
        );
        conn.execute(
            "INSERT INTO revocations (seq, kind, serial, tag, reason, at, chain_hash)
             VALUES (3, 'device_key', 7, '0102030405ff', 'other', 7, x'03')",
            [],
        )
        .unwrap();
        let no_serial = conn.execute(
            "INSERT INTO revocations (seq, kind, tag, reason, at, chain_hash) VALUES (4, 'device_key', '01', 'other', 7, x'04')",
            [],
        );
        assert!(no_serial.is_err(), "a device key revocation names its serial");
        conn.execute(
            "INSERT INTO ticket_bindings (serial, binding_no, generation, device_key, key_tag, bound_ticket, created_at)
             VALUES (7, 1, 0, '02ab', '0102030405ff', 'AAAA', 8)",
            [],
        )
        .unwrap();
        let bad_policy = conn.execute("UPDATE events SET holder_binding = 'sometimes' WHERE id = 1", []);
        assert!(bad_policy.is_err(), "the policy is optional or required");
        conn.execute(
            "INSERT INTO paper_exceptions (serial, person_name, operator_id, reason, created_at)
             VALUES (7, 'Ada', 1, 'no phone', 9)",
            [],
        )
        .unwrap();
    }

    #[test]
    fn a_version_eight_snapshot_upgrades_and_its_gates_have_no_clock_offset_yet() {
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        schema_at(&tx, 8);
        tx.execute(
            "INSERT INTO devices (public_id, name, credential_hash, enrolled_at) VALUES ('dev-1', 'north', x'01', 1)",
            [],
        )
        .unwrap();
        tx.commit().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), latest_version());
        let (name, offset): (String, Option<i64>) = conn
            .query_row("SELECT name, clock_offset FROM devices", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((name.as_str(), offset), ("north", None));
    }

    #[test]
    fn a_version_nine_snapshot_upgrades_its_events_to_paris_time_and_its_operators_to_admins() {
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        schema_at(&tx, 9);
        tx.execute_batch(
            "INSERT INTO events (id, sport, name, venue, starts_at, doors_open, doors_close, capacity)
                 VALUES (1, 'Judo', 'Final', 'Arena', 100, 50, 400, 10);
             INSERT INTO accounts (id, email, password_hash, role, created_at) VALUES (1, 'op@example.org', 'x', 'operator', 1);
             INSERT INTO accounts (id, email, password_hash, created_at) VALUES (2, 'b@example.org', 'x', 1);",
        )
        .unwrap();
        tx.commit().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), latest_version());
        let (zone, address): (String, String) = conn
            .query_row("SELECT time_zone, venue_address FROM events WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((zone.as_str(), address.as_str()), ("Europe/Paris", ""));
        let roles: Vec<(i64, Option<String>, Option<String>)> = conn
            .prepare("SELECT id, operator_role, language FROM accounts ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(roles, vec![(1, Some("admin".to_owned()), None), (2, None, None)]);
        let bad_role = conn.execute("UPDATE accounts SET operator_role = 'root' WHERE id = 1", []);
        assert!(bad_role.is_err(), "an operator is admin, supervisor or support");
        conn.execute(
            "INSERT INTO ops_audit (at, operator_id, action, subject, detail) VALUES (5, 1, 'event.edit', 'event:1', 'name')",
            [],
        )
        .unwrap();
    }

    #[test]
    fn a_version_ten_snapshot_upgrades_with_no_offer_limit_and_counts_what_its_orders_hold() {
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        schema_at(&tx, 10);
        tx.execute_batch(
            "INSERT INTO events (id, sport, name, venue, starts_at, doors_open, doors_close, capacity, reserved)
                 VALUES (1, 'Judo', 'Final', 'Arena', 100, 50, 400, 100, 14);
             INSERT INTO offers (id, event_id, kind, price_cents) VALUES (1, 1, 'duo', 9000), (2, 1, 'solo', 4000);
             INSERT INTO accounts (id, email, password_hash, created_at) VALUES (1, 'b@example.org', 'x', 1);
             INSERT INTO orders (id, account_id, status, total_cents, idempotency_key, created_at, expires_at)
                 VALUES (1, 1, 'paid', 1, 'k1', 1, 2), (2, 1, 'pending', 1, 'k2', 1, 2), (3, 1, 'cancelled', 1, 'k3', 1, 2);
             INSERT INTO order_lines (order_id, offer_id, quantity, unit_price_cents)
                 VALUES (1, 1, 2, 9000), (2, 1, 3, 9000), (3, 1, 5, 9000), (1, 2, 4, 4000);",
        )
        .unwrap();
        tx.commit().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), latest_version());
        let offers: Vec<(i64, Option<i64>, i64)> = conn
            .prepare("SELECT id, capacity, sold FROM offers ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            offers,
            vec![(1, None, 5), (2, None, 4)],
            "paid and pending orders hold tickets"
        );
        assert!(
            conn.execute("UPDATE offers SET capacity = 4 WHERE id = 1", []).is_err(),
            "a limit below the tickets held is refused by the schema too"
        );
    }

    #[test]
    fn a_version_eleven_snapshot_upgrades_with_an_empty_mail_queue_and_keeps_its_accounts() {
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        schema_at(&tx, 11);
        tx.execute_batch(
            "INSERT INTO accounts (id, email, password_hash, created_at) VALUES (1, 'b@example.org', 'x', 1);",
        )
        .unwrap();
        tx.commit().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), latest_version());
        let waiting: i64 = conn
            .query_row("SELECT count(*) FROM mail_outbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(waiting, 0);
        let accounts: i64 = conn
            .query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(accounts, 1);
        conn.execute(
            "INSERT INTO mail_outbox (message, queued_at, next_attempt_at) VALUES ('{}', 1, 1)",
            [],
        )
        .unwrap();
        let attempts: i64 = conn
            .query_row("SELECT attempts FROM mail_outbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(attempts, 0, "a queued mail starts with no attempt");
    }

    #[test]
    fn a_version_twelve_snapshot_upgrades_keeping_its_queued_mails_addressed_to_no_account() {
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        schema_at(&tx, 12);
        tx.execute_batch(
            "INSERT INTO accounts (id, email, password_hash, created_at) VALUES (1, 'b@example.org', 'x', 1);
             INSERT INTO mail_outbox (id, message, queued_at, next_attempt_at, attempts, last_error)
                 VALUES (1, '{\"kind\":\"order_confirmation\",\"order_id\":7}', 5, 9, 2, '451 later');",
        )
        .unwrap();
        tx.commit().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), latest_version());
        let kept: (String, i64, i64, i64, Option<i64>) = conn
            .query_row(
                "SELECT message, queued_at, next_attempt_at, attempts, account_id FROM mail_outbox WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(
            kept,
            (
                r#"{"kind":"order_confirmation","order_id":7}"#.to_owned(),
                5,
                9,
                2,
                None
            ),
            "a mail queued before keeps waiting, for no account"
        );
        // As the store opens every connection.
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        conn.execute(
            "INSERT INTO mail_outbox (account_id, message, queued_at, next_attempt_at) VALUES (1, '{}', 10, 10)",
            [],
        )
        .unwrap();
        let unknown = conn.execute(
            "INSERT INTO mail_outbox (account_id, message, queued_at, next_attempt_at) VALUES (99, '{}', 10, 10)",
            [],
        );
        assert!(unknown.is_err(), "a mail is addressed to an account that exists");
        let plan: String = conn
            .query_row(
                "EXPLAIN QUERY PLAN DELETE FROM mail_outbox WHERE account_id = 1",
                [],
                |r| r.get(3),
            )
            .unwrap();
        assert!(
            plan.contains("mail_outbox_by_account"),
            "deleting an account's mails uses the index: {plan}"
        );
    }

    #[test]
    fn a_version_thirteen_snapshot_upgrades_keeping_its_admissions_found_by_serial() {
        let mut conn = Connection::open_in_memory().unwrap();
        // The log alone, without the scans and devices it names.
        conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
        let tx = conn.transaction().unwrap();
        schema_at(&tx, 13);
        tx.execute_batch(
            "INSERT INTO admissions (seq, scan_id, event_id, serial, device_id, gate, admitted_at, direction)
                 VALUES (1, 1, 1, 41, 1, 'A', 5, 'entry'), (2, 2, 1, 41, 1, 'A', 6, 'exit'),
                        (3, 3, 1, 42, 1, 'B', 7, 'entry');",
        )
        .unwrap();
        tx.commit().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), latest_version());
        let entries: i64 = conn
            .query_row(
                "SELECT count(*) FROM admissions WHERE serial IN (41, 42) AND direction = 'entry'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(entries, 2, "the log is kept");
        let plan: String = conn
            .query_row(
                "EXPLAIN QUERY PLAN SELECT event_id, serial, count(*) FROM admissions
                 WHERE serial IN (41, 42) GROUP BY event_id, serial",
                [],
                |r| r.get(3),
            )
            .unwrap();
        assert!(
            plan.contains("admissions_by_ticket (serial=?)"),
            "a batch's tickets are looked up by serial: {plan}"
        );
    }
}
