//! Tickets signed and stored per second when payments are confirmed (issue 3 target: at
//! least 5,000/s on the 2-core machine). Each iteration confirms one paid order of 100 Solo
//! tickets (10 lines of 10) in one IMMEDIATE transaction on a real SQLite file in WAL mode:
//! the order becomes paid, a purchase key is made, 100 tickets are signed (Ed25519) and
//! stored, and the transaction commits.
//!
//! Run: `cargo bench -p og-issuer --bench checkout_issuance`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use og_issuer::db::Db;
use og_shared::{DeploymentId, TicketSigner};
use rusqlite::params;

const TICKETS_PER_ORDER: u64 = 100;

fn setup() -> (tempfile::TempDir, Db, TicketSigner) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("bench.sqlite3")).unwrap();
    og_issuer::seed::seed_if_empty(&db, og_issuer::now()).unwrap();
    let signer = TicketSigner::from_secret_bytes(&[7; 32], DeploymentId::parse("bench").unwrap());
    og_issuer::issuance::register_signing_key(&db, &signer, og_issuer::now()).unwrap();
    let mut conn = db.conn().unwrap();
    let tx = conn.transaction().unwrap();
    tx.execute(
        "INSERT INTO accounts (email, password_hash, display_name, status, created_at)
         VALUES ('bench@example.org', 'x', 'Bench Buyer', 'active', 0)",
        [],
    )
    .unwrap();
    og_issuer::issuance::ensure_account_key(&tx, 1).unwrap();
    tx.commit().unwrap();
    (dir, db, signer)
}

/// A pending order of 100 Solo tickets for event 1; returns its payment id and total.
fn pending_order(db: &Db, n: u64) -> (String, i64) {
    let mut conn = db.conn().unwrap();
    let tx = conn.transaction().unwrap();
    let offer: i64 = tx
        .query_row("SELECT id FROM offers WHERE event_id = 1 AND kind = 'solo'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let pid = format!("pay_bench_{n}");
    tx.execute(
        "INSERT INTO orders (account_id, status, total_cents, idempotency_key, payment_id, created_at, expires_at)
         VALUES (1, 'pending', 850000, ?1, ?2, 0, 9999999999)",
        params![format!("bench-key-{n}"), pid],
    )
    .unwrap();
    let order = tx.last_insert_rowid();
    for _ in 0..10 {
        tx.execute(
            "INSERT INTO order_lines (order_id, offer_id, quantity, unit_price_cents) VALUES (?1, ?2, 10, 8500)",
            params![order, offer],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    (pid, 850000)
}

fn confirm_orders(c: &mut Criterion) {
    let (_dir, db, signer) = setup();
    let mut n = 0u64;
    let mut g = c.benchmark_group("checkout");
    g.throughput(Throughput::Elements(TICKETS_PER_ORDER));
    g.sample_size(30);
    g.bench_function("confirm_payment_100_tickets", |b| {
        b.iter_batched(
            || {
                n += 1;
                pending_order(&db, n)
            },
            |(pid, total)| {
                let mut conn = db.conn().unwrap();
                let tx = conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .unwrap();
                let out = og_issuer::shop::confirm_payment(&tx, &signer, &pid, total, og_issuer::now()).unwrap();
                tx.commit().unwrap();
                out
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, confirm_orders);
criterion_main!(benches);
