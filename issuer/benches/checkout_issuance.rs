//! Tickets signed and stored per second when payments are confirmed (target: at least 5,000/s
//! on the 2-core machine, on each engine). Each iteration confirms one paid order of 100 Solo
//! tickets (10 lines of 10) in one write transaction: the order becomes paid, a purchase key is
//! made, 100 tickets are signed (Ed25519) and stored, and the transaction commits. Both engines
//! in one run, side by side: a SQLite file in WAL mode, and a scratch PostgreSQL database on the
//! server `OG_TEST_DATABASE_URL` names (default the local one; skipped with a note if none answers).
//!
//! Run: `cargo bench -p og-issuer --bench checkout_issuance`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use og_issuer::store::sql::params;
use og_issuer::store::{DatabaseUrl, Db, ScratchDatabase};
use og_shared::{DeploymentId, TicketSigner};

const TICKETS_PER_ORDER: u64 = 100;

fn setup(url: &DatabaseUrl) -> (Db, TicketSigner) {
    let db = Db::connect(url).unwrap();
    og_issuer::seed::seed_if_empty(&db, og_issuer::now()).unwrap();
    let signer = TicketSigner::from_secret_bytes(&[7; 32], DeploymentId::parse("bench").unwrap());
    og_issuer::trust::issuance::register_signing_key(&db, &signer, og_issuer::now()).unwrap();
    db.write_sync(|tx| {
        tx.execute(
            "INSERT INTO accounts (id, email, password_hash, display_name, status, created_at)
             VALUES (1, 'bench@example.org', 'x', 'Bench Buyer', 'active', 0)",
            [],
        )?;
        og_issuer::trust::issuance::ensure_account_key(tx, 1)
    })
    .unwrap();
    (db, signer)
}

/// A pending order of 100 Solo tickets for event 1; returns its payment id and total.
fn pending_order(db: &Db, n: u64) -> (String, i64) {
    let pid = format!("pay_bench_{n}");
    db.write_sync(|tx| {
        let offer: i64 = tx.query_row("SELECT id FROM offers WHERE event_id = 1 AND kind = 'solo'", [], |r| {
            r.get(0)
        })?;
        let order: i64 = tx.query_row(
            "INSERT INTO orders (account_id, status, total_cents, idempotency_key, payment_id, created_at, expires_at)
             VALUES (1, 'pending', 850000, ?1, ?2, 0, 9999999999) RETURNING id",
            params![format!("bench-key-{n}"), pid],
            |r| r.get(0),
        )?;
        for _ in 0..10 {
            tx.execute(
                "INSERT INTO order_lines (order_id, offer_id, quantity, unit_price_cents) VALUES (?1, ?2, 10, 8500)",
                params![order, offer],
            )?;
        }
        Ok(())
    })
    .unwrap();
    (pid, 850000)
}

fn confirm_orders(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let pg = match std::panic::catch_unwind(|| ScratchDatabase::create("og_bench_checkout")) {
        Ok(pg) => Some(pg),
        Err(_) => {
            eprintln!("no PostgreSQL server answers: the PostgreSQL half of this benchmark is skipped");
            None
        }
    };
    let mut engines = vec![("sqlite", DatabaseUrl::Sqlite(dir.path().join("bench.sqlite3")))];
    if let Some(pg) = &pg {
        engines.push(("postgres", pg.url()));
    }
    let mut g = c.benchmark_group("checkout");
    g.throughput(Throughput::Elements(TICKETS_PER_ORDER));
    g.sample_size(30);
    for (name, url) in engines {
        let (db, signer) = setup(&url);
        let mut n = 0u64;
        g.bench_function(format!("{name}/confirm_payment_100_tickets"), |b| {
            b.iter_batched(
                || {
                    n += 1;
                    pending_order(&db, n)
                },
                |(pid, total)| {
                    db.write_sync(|tx| {
                        og_issuer::shop::orders::confirm_payment(tx, &signer, &pid, total, og_issuer::now())
                    })
                    .unwrap()
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, confirm_orders);
criterion_main!(benches);
