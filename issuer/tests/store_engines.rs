//! The storage layer on both engines: one migration list brings an empty PostgreSQL database to the
//! version SQLite reaches (and logs no PostgreSQL notices), starting twice changes nothing, a
//! database from a newer build is refused on both engines, replicas starting at once migrate once,
//! a version-10 snapshot upgrades (offers' held tickets, ticket serials after the highest) and a
//! version-12 one keeps its queued mails (addressed to no account), a version-13 one keeps its
//! admissions log and a batch then reads only its own tickets of it, whatever PostgreSQL's
//! statistics say; checkout's seats and an offer's tickets are taken both or neither (one statement
//! on PostgreSQL, two on SQLite); after the server ends every connection of the pool, the next
//! read and write go through on new ones; a failed write leaves nothing and its connection ready;
//! a single-statement read answers on both engines and refuses a second statement and any change;
//! a password file completes a PostgreSQL URL for every subcommand, and a server's refusal is said
//! in its own words.
//! Needs a PostgreSQL server (`OG_TEST_DATABASE_URL`).

use og_issuer::store::schema::{self, latest_version};
use og_issuer::store::{DatabaseUrl, Db, ScratchDatabase};

fn version(db: &Db) -> i64 {
    db.read_sync(schema::version).unwrap()
}

/// A new PostgreSQL database at `version`, as a build of that version left it (a snapshot), and a
/// client to fill it.
fn snapshot(prefix: &str, version: usize) -> (ScratchDatabase, postgres::Client) {
    let pg = ScratchDatabase::create(prefix);
    let DatabaseUrl::Postgres(url) = pg.url() else {
        unreachable!()
    };
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    for m in &schema::MIGRATIONS[..version] {
        if !m.postgres.is_empty() {
            client.batch_execute(m.postgres).unwrap();
        }
    }
    client
        .batch_execute(&format!(
            "CREATE TABLE og_schema (version BIGINT NOT NULL); INSERT INTO og_schema (version) VALUES ({version});"
        ))
        .unwrap();
    (pg, client)
}

/// A SQLite file and a PostgreSQL database, for a test that runs on both engines (the first two
/// values hold them until the test ends).
fn both_engines(prefix: &str) -> (tempfile::TempDir, ScratchDatabase, [DatabaseUrl; 2]) {
    let dir = tempfile::tempdir().unwrap();
    let pg = ScratchDatabase::create(prefix);
    let urls = [DatabaseUrl::Sqlite(dir.path().join("s.sqlite3")), pg.url()];
    (dir, pg, urls)
}

/// Adds an account with `email`, in a write of its own.
fn add_account(db: &Db, email: &'static str) -> og_issuer::error::AppResult<()> {
    db.write_sync(move |tx| {
        tx.execute(
            "INSERT INTO accounts (email, password_hash, created_at) VALUES (?1, 'x', 1)",
            [email],
        )?;
        Ok(())
    })
}

#[test]
fn an_empty_postgres_database_reaches_the_latest_version_and_a_restart_changes_nothing() {
    let pg = ScratchDatabase::create("og_store_fresh");
    let db = Db::connect(&pg.url()).unwrap();
    assert_eq!(version(&db), latest_version());
    db.write_sync(|tx| {
        tx.execute(
            "INSERT INTO accounts (email, password_hash, created_at) VALUES ('Ann@Example.org', 'x', 1)",
            [],
        )?;
        Ok(())
    })
    .unwrap();
    drop(db);
    let again = Db::connect(&pg.url()).unwrap();
    assert_eq!(version(&again), latest_version());
    // Emails compare without case on both engines (SQLite's COLLATE NOCASE, PostgreSQL's CITEXT).
    let dup = again.write_sync(|tx| {
        Ok(tx.execute(
            "INSERT INTO accounts (email, password_hash, created_at) VALUES ('ann@example.org', 'x', 1)",
            [],
        )?)
    });
    assert!(dup.is_err(), "the same address in other case is a duplicate");
}

#[test]
fn the_same_tables_exist_on_both_engines() {
    let dir = tempfile::tempdir().unwrap();
    let lite = Db::connect(&DatabaseUrl::Sqlite(dir.path().join("s.sqlite3"))).unwrap();
    let pg = ScratchDatabase::create("og_store_tables");
    let pgdb = Db::connect(&pg.url()).unwrap();
    let mut lite_tables: Vec<String> = lite
        .read_sync(|c| {
            Ok(c.query_all(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    let mut pg_tables: Vec<String> = pgdb
        .read_sync(|c| {
            Ok(c.query_all(
                "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
                 WHERE table_schema = 'public' AND table_name <> 'og_schema' ORDER BY table_name",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    lite_tables.sort();
    pg_tables.sort();
    assert_eq!(lite_tables, pg_tables);
}

#[test]
fn a_postgres_database_from_a_newer_build_is_refused_with_a_clear_message() {
    let pg = ScratchDatabase::create("og_store_newer");
    let db = Db::connect(&pg.url()).unwrap();
    db.write_sync(|tx| Ok(tx.execute("UPDATE og_schema SET version = 999", [])?))
        .unwrap();
    drop(db);
    let err = Db::connect(&pg.url()).unwrap_err();
    assert!(err.contains("schema version 999, newer than this build"), "{err}");
}

#[test]
fn replicas_starting_at_once_migrate_the_database_once() {
    let pg = ScratchDatabase::create("og_store_race");
    let url = pg.url();
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || Db::connect(&url).map(|db| version(&db)))
        })
        .collect();
    for s in starts {
        assert_eq!(s.join().unwrap(), Ok(latest_version()));
    }
}

#[test]
fn an_unknown_database_url_is_a_clear_error() {
    let err = DatabaseUrl::parse("mysql://root@localhost/og").unwrap_err();
    assert!(err.contains("expected sqlite:PATH or postgres://"), "{err}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_issuer"))
        .args(["--data-dir"])
        .arg(tempfile::tempdir().unwrap().path())
        .args(["--database", "mysql://root@localhost/og", "events", "list"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unsupported database URL"), "{stderr}");
    assert!(!stderr.contains("root@localhost"), "no credentials echoed: {stderr}");
}

#[test]
fn a_password_file_completes_the_database_url_and_a_refusal_is_said_in_the_servers_words_without_the_password() {
    let pg = ScratchDatabase::create("og_pwfile");
    let DatabaseUrl::Postgres(url) = pg.url() else {
        unreachable!()
    };
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("postgres-password");
    // The test server trusts local connections, so any password lets the user in: what is shown
    // is that every subcommand reads the file and that nothing says the password.
    std::fs::write(&secret, "Not-Said-4nywhere\n").unwrap();
    let issuer = |database: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_issuer"))
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .env("OG_DATABASE_URL", database)
            .env("OG_DATABASE_PASSWORD_FILE", &secret)
            .args(["events", "list"])
            .output()
            .unwrap()
    };
    let out = issuer(&url);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(!format!("{stdout}{stderr}").contains("Not-Said-4nywhere"));
    // It used the PostgreSQL database, not a SQLite file in the data dir.
    assert!(!dir.path().join("data/issuer.sqlite3").exists());

    // A database the server does not have: its own words, not the driver's "db error".
    let missing = format!("{}_missing", url);
    let out = issuer(&missing);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(!stderr.contains("Not-Said-4nywhere"), "{stderr}");

    // A password file without a PostgreSQL URL is a mistake, said before anything is opened.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_issuer"))
        .arg("--data-dir")
        .arg(dir.path().join("sqlite"))
        .arg("--database-password-file")
        .arg(&secret)
        .args(["events", "list"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("goes with a postgres:// database URL"), "{stderr}");
}

#[test]
fn a_version_ten_postgres_database_upgrades_its_offers_numbers_new_tickets_after_its_highest_and_queues_mails() {
    let (pg, mut client) = snapshot("og_store_v10", 10);
    client
        .batch_execute(
            "INSERT INTO events (id, sport, name, venue, starts_at, doors_open, doors_close, capacity, reserved)
                 VALUES (1, 'Judo', 'Final', 'Arena', 100, 50, 400, 100, 6);
             INSERT INTO offers (id, event_id, kind, price_cents) VALUES (1, 1, 'duo', 9000);
             INSERT INTO accounts (id, email, password_hash, created_at) VALUES (1, 'b@example.org', 'x', 1);
             INSERT INTO orders (id, account_id, status, total_cents, idempotency_key, created_at, expires_at)
                 VALUES (1, 1, 'paid', 1, 'k1', 1, 2), (2, 1, 'cancelled', 1, 'k2', 1, 2);
             INSERT INTO order_lines (order_id, offer_id, quantity, unit_price_cents) VALUES (1, 1, 3, 9000), (2, 1, 5, 9000);
             INSERT INTO purchases (id, order_id, account_id, kind, purchase_key, purchase_tag, created_at)
                 VALUES (1, 1, 1, 'paid', '\\x00', 'aabbccddeeff', 1);
             INSERT INTO tickets (serial, purchase_id, account_id, event_id, offer, key_id, qr_text, issued_at)
                 VALUES (41, 1, 1, 1, 'duo', 1, 'OG2:A', 1);",
        )
        .unwrap();
    drop(client);
    let db = Db::connect(&pg.url()).unwrap();
    assert_eq!(version(&db), latest_version());
    let (capacity, sold): (Option<i64>, i64) = db
        .read_sync(|c| {
            Ok(c.query_row("SELECT capacity, sold FROM offers WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?)
        })
        .unwrap();
    assert_eq!(
        (capacity, sold),
        (None, 3),
        "no limit yet; the paid order's three Duos are held"
    );
    let serials = db.write_sync(|tx| Ok(tx.new_ticket_serials(2)?)).unwrap();
    assert_eq!(
        serials,
        vec![42, 43],
        "new tickets are numbered after the highest issued"
    );
    // Migration 12: the mail queue, empty, its ids numbered by the database.
    let queued = db
        .write_sync(|tx| {
            og_issuer::store::mail_outbox::insert(tx, None, "{}", 5)?;
            Ok(tx.query_row("SELECT count(*), MIN(id) FROM mail_outbox", [], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
            })?)
        })
        .unwrap();
    assert_eq!(queued, (1, 1), "the mail queue starts empty and numbers what is queued");
}

#[test]
fn a_version_twelve_postgres_database_upgrades_keeping_its_queued_mails_and_erases_an_accounts_own() {
    let (pg, mut client) = snapshot("og_store_v12", 12);
    client
        .batch_execute(
            "INSERT INTO accounts (id, email, password_hash, created_at) VALUES (1, 'b@example.org', 'x', 1);
             INSERT INTO mail_outbox (message, queued_at, next_attempt_at, attempts, last_error)
                 VALUES ('{\"kind\":\"order_confirmation\",\"order_id\":7}', 5, 9, 2, '451 later');",
        )
        .unwrap();
    drop(client);
    let db = Db::connect(&pg.url()).unwrap();
    assert_eq!(version(&db), latest_version());
    let kept: (i64, String, i64, i64, i64, Option<i64>) = db
        .read_sync(|c| {
            Ok(c.query_row(
                "SELECT id, message, queued_at, next_attempt_at, attempts, account_id FROM mail_outbox",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )?)
        })
        .unwrap();
    assert_eq!(
        kept,
        (
            1,
            r#"{"kind":"order_confirmation","order_id":7}"#.to_owned(),
            5,
            9,
            2,
            None
        ),
        "a mail queued before keeps waiting, for no account"
    );
    // Migration 13: a mail names its account, and the account's deletion takes only its own.
    let left = db
        .write_sync(|tx| {
            og_issuer::store::mail_outbox::insert(tx, Some(1), "{}", 10)?;
            let deleted = og_issuer::store::mail_outbox::delete_of_account(tx, 1)?;
            Ok((deleted, og_issuer::store::mail_outbox::waiting(tx)?.0))
        })
        .unwrap();
    assert_eq!(left, (1, 1), "the account's mail is deleted, the older one waits");
    let unknown = db.write_sync(|tx| Ok(og_issuer::store::mail_outbox::insert(tx, Some(99), "{}", 10)?));
    assert!(unknown.is_err(), "a mail is addressed to an account that exists");
}

#[test]
fn seats_and_an_offers_tickets_are_taken_both_or_neither_on_both_engines() {
    use og_issuer::store::events::take_seats_and_offer_tickets;
    let (_dir, _pg, urls) = both_engines("og_store_take");
    for url in urls {
        let db = Db::connect(&url).unwrap();
        db.write_sync(|tx| {
            tx.execute_batch(
                "INSERT INTO events (id, sport, name, venue, starts_at, doors_open, doors_close, capacity, reserved)
                     VALUES (1, 'Judo', 'Final', 'Arena', 100, 50, 400, 10, 6);
                 INSERT INTO offers (id, event_id, kind, price_cents, capacity, sold) VALUES (1, 1, 'duo', 9000, 3, 2);
                 INSERT INTO offers (id, event_id, kind, price_cents) VALUES (2, 1, 'solo', 5000);",
            )?;
            Ok(())
        })
        .unwrap();
        // As checkout does: false rolls the transaction back.
        let taken = |seats, offer, tickets| {
            db.write_sync(move |tx| {
                if take_seats_and_offer_tickets(tx, 1, seats, offer, tickets)? {
                    Ok(())
                } else {
                    Err(og_issuer::error::AppError::conflict("sold_out", "no"))
                }
            })
            .is_ok()
        };
        let counts = || {
            db.read_sync(|c| {
                Ok(c.query_row(
                    "SELECT e.reserved, o.sold FROM events e JOIN offers o ON o.event_id = e.id WHERE o.id = 1",
                    [],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
                )?)
            })
            .unwrap()
        };
        // The seats fit, the offer's one ticket left does too.
        assert!(taken(2, 1, 1), "{url:?}");
        assert_eq!(counts(), (8, 3), "{url:?}");
        // The seats would fit, the offer has none left: neither is taken.
        assert!(!taken(2, 1, 1), "{url:?}");
        assert_eq!(counts(), (8, 3), "{url:?}");
        // The offer has no limit, the event has 2 seats left: 3 do not fit, and no ticket was
        // counted against the offer either.
        assert!(!taken(3, 2, 3), "{url:?}");
        let solo_sold: i64 = db
            .read_sync(|c| Ok(c.query_row("SELECT sold FROM offers WHERE id = 2", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(solo_sold, 0, "{url:?}");
        assert!(taken(2, 2, 2), "{url:?}");
        assert_eq!(counts().0, 10, "{url:?}");
    }
}

#[test]
fn a_version_thirteen_postgres_database_upgrades_and_a_batch_reads_its_own_tickets_not_the_whole_days_log() {
    use og_issuer::store::scans::{Passages, passages};
    let (pg, mut client) = snapshot("og_store_v13", 13);
    // Ticket 41 went in, out and in again; 42 once; a report of the same serial at event 2 (a
    // device's mistake) is not event 1's.
    client
        .batch_execute(
            "INSERT INTO devices (id, public_id, name, credential_hash, enrolled_at)
                 VALUES (1, 'dev-1', 'Gate A', '\\x00', 1);
             INSERT INTO scans (id, nonce, device_id, content_hash, scanned_at, received_at, verdict, reason, gate,
                                direction, offline)
                 SELECT n, lpad(n::text, 32, '0'), 1, '\\x00', n, n, 'admitted', '', 'A', 'entry', 0
                 FROM generate_series(1, 4) AS n;
             INSERT INTO admissions (seq, scan_id, event_id, serial, device_id, gate, admitted_at, direction)
                 VALUES (1, 1, 1, 41, 1, 'A', 5, 'entry'), (2, 2, 1, 41, 1, 'A', 6, 'exit'),
                        (3, 3, 1, 41, 1, 'B', 7, 'entry'), (4, 4, 1, 42, 1, 'B', 8, 'entry');",
        )
        .unwrap();
    drop(client);
    let db = Db::connect(&pg.url()).unwrap();
    assert_eq!(version(&db), latest_version());
    let (found, tuples_read) = db
        .write_sync(|tx| {
            // An event day's log that PostgreSQL has no statistics of yet (never analysed), as in
            // the first hour of an event: 40,000 admissions of event 1.
            tx.execute_batch(
                "INSERT INTO scans (id, nonce, device_id, content_hash, scanned_at, received_at, verdict, reason,
                                    gate, direction, offline)
                     SELECT n, lpad(n::text, 32, '0'), 1, '\\x00', n, n, 'admitted', '', 'A', 'entry', 0
                     FROM generate_series(5, 40005) AS n;
                 INSERT INTO admissions (seq, scan_id, event_id, serial, device_id, gate, admitted_at, direction)
                     SELECT n, n, CASE WHEN n = 5 THEN 2 ELSE 1 END, CASE WHEN n = 5 THEN 42 ELSE 1000 + n END, 1,
                            'C', n, 'entry'
                     FROM generate_series(5, 40005) AS n;",
            )?;
            tx.plan_as_key_lookups()?;
            // A chunk of a batch: 50 serials, two of them admitted before.
            let serials: Vec<u32> = (41..91).collect();
            let found = passages(tx, 1, &serials)?;
            let read: i64 = tx.query_row(
                "SELECT CAST(seq_tup_read + COALESCE(idx_tup_fetch, 0) AS BIGINT) FROM pg_stat_xact_user_tables
                 WHERE relname = 'admissions'",
                [],
                |r| r.get(0),
            )?;
            Ok((found, read))
        })
        .unwrap();
    let mut found = found;
    found.sort_by_key(|p| p.serial);
    assert_eq!(
        found,
        vec![
            Passages {
                event_id: 1,
                serial: 41,
                entries: 2,
                exits: 1
            },
            Passages {
                event_id: 1,
                serial: 42,
                entries: 1,
                exits: 0
            },
        ],
        "the snapshot's log is kept, and event 2's report of serial 42 is not counted at event 1"
    );
    assert!(
        tuples_read <= 10,
        "50 tickets' admissions read {tuples_read} rows of the day's log"
    );
}

#[test]
fn a_first_start_on_postgres_logs_no_notices_from_the_migrations() {
    let pg = ScratchDatabase::create("og_store_quiet");
    let DatabaseUrl::Postgres(url) = pg.url() else {
        unreachable!()
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_issuer"))
        .args(["--data-dir"])
        .arg(tempfile::tempdir().unwrap().path())
        .args(["--database", &url, "events", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!log.contains("NOTICE"), "{log}");
}

#[test]
fn after_the_server_ends_every_connection_the_next_read_and_write_go_through_on_new_ones() {
    let pg = ScratchDatabase::create("og_store_reconnect");
    let db = Db::connect(&pg.url()).unwrap();
    // Several connections in the pool: four reads holding theirs at once.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                db.read_sync(|c| Ok(c.execute_batch("SELECT pg_sleep(0.05)")?)).unwrap();
            });
        }
    });
    let DatabaseUrl::Postgres(url) = pg.url() else {
        unreachable!()
    };
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()";
    let ended: i64 = admin
        .query_one(&format!("SELECT count(pg_terminate_backend(pid)) {others}"), &[])
        .unwrap()
        .get(0);
    assert!(ended >= 2, "the pool held {ended} connections");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while admin
        .query_one(&format!("SELECT count(*) {others}"), &[])
        .unwrap()
        .get::<_, i64>(0)
        > 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not end the connections"
        );
        std::thread::yield_now();
    }
    // The pool still holds the dead connections: each is found closed by its first statement
    // (a single-statement read's own, or a transaction's BEGIN) and replaced, and no caller sees
    // an error.
    let none: i64 = db
        .read_one_sync(|c| Ok(c.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(none, 0);
    add_account(&db, "back@example.org").unwrap();
    let n: i64 = db
        .read_sync(|c| Ok(c.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn a_failed_write_is_rolled_back_and_leaves_its_connection_ready_for_the_next() {
    let pg = ScratchDatabase::create("og_store_rollback");
    let db = Db::connect(&pg.url()).unwrap();
    add_account(&db, "one@example.org").unwrap();
    // A statement that fails inside the work: nothing of the transaction stays.
    let failed = db.write_sync(|tx| {
        tx.execute(
            "INSERT INTO accounts (email, password_hash, created_at) VALUES ('two@example.org', 'x', 1)",
            [],
        )?;
        tx.execute(
            "INSERT INTO accounts (email, password_hash, created_at) VALUES ('ONE@example.org', 'x', 1)",
            [],
        )?;
        Ok(())
    });
    assert!(failed.is_err());
    // Work that gives up without a failed statement: rolled back too.
    let gave_up: Result<(), _> = db.write_sync(|tx| {
        tx.execute(
            "INSERT INTO accounts (email, password_hash, created_at) VALUES ('three@example.org', 'x', 1)",
            [],
        )?;
        Err(og_issuer::error::AppError::conflict("no", "given up"))
    });
    assert!(gave_up.is_err());
    // The same connection (the pool keeps one idle) takes the next write and read at once.
    add_account(&db, "four@example.org").unwrap();
    let emails: Vec<String> = db
        .read_sync(|c| Ok(c.query_all("SELECT email FROM accounts ORDER BY id", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(emails, ["one@example.org", "four@example.org"]);
}

#[test]
fn a_single_statement_read_answers_on_both_engines_and_refuses_a_second_statement_and_any_change() {
    let (_dir, _pg, urls) = both_engines("og_store_single");
    for url in urls {
        let db = Db::connect(&url).unwrap();
        add_account(&db, "solo@example.org").unwrap();
        let email: String = db
            .read_one_sync(|c| Ok(c.query_row("SELECT email FROM accounts", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(email, "solo@example.org", "{url:?}");
        // Two statements would read two snapshots: refused before the second reaches the
        // database, the first one's answer not given.
        let two = db.read_one_sync(|c| {
            let n: i64 = c.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))?;
            let m: i64 = c.query_row("SELECT count(*) FROM orders", [], |r| r.get(0))?;
            Ok(n + m)
        });
        let err = two.unwrap_err();
        assert!(err.to_string().contains("second statement"), "{url:?}: {err}");
        // Nor may it change anything: the statement runs outside a READ ONLY transaction.
        let change = db.read_one_sync(|c| Ok(c.execute("UPDATE accounts SET email = 'other@example.org'", [])?));
        let err = change.unwrap_err();
        assert!(
            err.to_string().contains("a change in a single-statement read"),
            "{url:?}: {err}"
        );
        // The connection it used serves the next read.
        let again: i64 = db
            .read_one_sync(|c| Ok(c.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(again, 1, "{url:?}");
        let email: String = db
            .read_one_sync(|c| Ok(c.query_row("SELECT email FROM accounts", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(email, "solo@example.org", "{url:?}: the refused change changed nothing");
    }
}
