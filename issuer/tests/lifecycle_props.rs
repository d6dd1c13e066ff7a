//! Property test of the ticket lifecycle on a real SQLite database: for any sequence of
//! transfers, buyer refunds, operator refunds, admissions and an event cancellation, the people
//! admitted never exceed what was sold, and money owed back is recorded exactly once per
//! refunded ticket, never for a buyer refund of a used ticket.
//!
//! Admissions happen at two online gates (each entry reported at once, every revocation and
//! entry known): any code ever issued may be shown at either gate. Gates that do not sync can
//! each admit a code fully: that is the offline case the issuer flags as a conflict, and the
//! case where a gate never saw the entries made before a transfer is covered by
//! `lifecycle.rs` and the system test `lifecycle_gates` (the new code admits what was left).

use og_issuer::shop::lifecycle::TicketState;
use og_issuer::shop::orders as shop;
use og_issuer::store::Db;
use og_issuer::store::sql::Connection as Store;
use og_shared::{Offer, TicketSigner, TrustStore, verify_qr_text};
use proptest::prelude::*;
use rusqlite::params;

const DOORS: i64 = 2_000_000_000;

#[derive(Debug, Clone)]
enum Op {
    /// The current holder gives the ticket to the other account.
    Transfer,
    /// The buyer refunds the order.
    BuyerRefund,
    /// An operator refunds by decision.
    OperatorRefund,
    /// Someone shows the code of this generation (any code ever issued, the newest if past) at
    /// gate 0 or 1.
    Admit { generation: u8, gate: usize },
    /// The event is cancelled.
    Cancel,
    /// Time moves on by this many minutes (doors open at 0, the event is over at 360).
    Wait(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Transfer),
        2 => Just(Op::BuyerRefund),
        1 => Just(Op::OperatorRefund),
        6 => (0u8..4, 0usize..2).prop_map(|(generation, gate)| Op::Admit { generation, gate }),
        1 => Just(Op::Cancel),
        2 => (0u16..240).prop_map(Op::Wait),
    ]
}

struct World {
    _dir: tempfile::TempDir,
    _db: Db,
    signer: TicketSigner,
    trust: TrustStore,
    serial: i64,
    order_id: i64,
    /// Every code issued so far, by generation.
    codes: Vec<String>,
    accounts: [i64; 2],
    holder: usize,
    operator: i64,
    devices: [i64; 2],
    now: i64,
    scans: i64,
}

impl World {
    /// A plain SQLite connection to the issuer's file, for the test's own statements.
    fn conn(&self) -> rusqlite::Connection {
        let c = rusqlite::Connection::open(self._dir.path().join("p.sqlite3")).unwrap();
        c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
        c
    }

    fn new(offer: Offer) -> World {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("p.sqlite3")).unwrap();
        let signer = TicketSigner::from_secret_bytes(&[7; 32], og_shared::DeploymentId::parse("prop").unwrap());
        let trust = TrustStore::new(signer.deployment().clone()).with(signer.trusted_key(0, i64::MAX));
        let mut conn = rusqlite::Connection::open(dir.path().join("p.sqlite3")).unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute(
            "INSERT INTO events (id, sport, name, venue, starts_at, doors_open, doors_close, capacity)
             VALUES (1, 'Judo', 'Final', 'Arena', ?1, ?2, ?3, 100)",
            params![DOORS + 3600, DOORS, DOORS + 6 * 3600],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO offers (id, event_id, kind, price_cents) VALUES (1, 1, ?1, 9000)",
            [offer.name()],
        )
        .unwrap();
        let mut accounts = [0; 2];
        for (i, email) in ["a@p.test", "b@p.test"].iter().enumerate() {
            tx.execute(
                "INSERT INTO accounts (email, password_hash, status, created_at) VALUES (?1, 'x', 'active', 0)",
                [email],
            )
            .unwrap();
            accounts[i] = tx.last_insert_rowid();
            og_issuer::trust::issuance::ensure_account_key(&Store::sqlite(&tx), accounts[i]).unwrap();
        }
        tx.execute(
            "INSERT INTO accounts (email, password_hash, role, status, created_at) VALUES ('op@p.test', 'x', 'operator', 'active', 0)",
            [],
        )
        .unwrap();
        let operator = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO orders (account_id, status, total_cents, idempotency_key, created_at, expires_at, paid_at)
             VALUES (?1, 'paid', 9000, 'k', 0, 0, 0)",
            [accounts[0]],
        )
        .unwrap();
        let order_id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO order_lines (order_id, offer_id, quantity, unit_price_cents) VALUES (?1, 1, 1, 9000)",
            [order_id],
        )
        .unwrap();
        tx.execute("UPDATE events SET reserved = ?1 WHERE id = 1", [offer.admits()])
            .unwrap();
        let req = og_issuer::trust::issuance::TicketRequest {
            event_id: 1,
            offer,
            flags: 0,
            holder_name: "A".into(),
            unit_price_cents: 9000,
        };
        let issued = og_issuer::trust::issuance::issue_purchase(
            &Store::sqlite(&tx),
            &signer,
            accounts[0],
            Some(order_id),
            og_issuer::trust::issuance::PurchaseKind::Paid,
            &[req],
            0,
        )
        .unwrap();
        let mut devices = [0; 2];
        for (i, d) in devices.iter_mut().enumerate() {
            tx.execute(
                "INSERT INTO devices (public_id, name, credential_hash, enrolled_at) VALUES (?1, 'g', ?2, 0)",
                params![format!("dev-{i}"), vec![i as u8]],
            )
            .unwrap();
            *d = tx.last_insert_rowid();
        }
        tx.commit().unwrap();
        drop(conn);
        World {
            _dir: dir,
            _db: db,
            signer,
            trust,
            serial: i64::from(issued[0].serial),
            order_id,
            codes: vec![issued[0].qr_text.clone()],
            accounts,
            holder: 0,
            operator,
            devices,
            now: DOORS - 3600,
            scans: 0,
        }
    }

    /// Every entry the issuer (and so every online gate) knows of: the generations of the
    /// codes used.
    fn entries(&self) -> Vec<u8> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT generation FROM admissions WHERE serial = ?1 AND direction = 'entry'")
            .unwrap();
        stmt.query_map([self.serial], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Gate `gate` decides on this code, as `gate-agent`'s `decide` does: revoked or superseded
    /// codes are refused; a code admits at most what it was issued for (its own and newer
    /// codes' entries) and the ticket at most its offer, counting the entries the gate knows of.
    fn admit(&mut self, generation: u8, gate: usize) {
        let Some(text) = self.codes.get(usize::from(generation)).or(self.codes.last()).cloned() else {
            return;
        };
        let claims = verify_qr_text(text.as_bytes(), &self.trust, self.now).unwrap().claims;
        let conn = self.conn();
        let (status, current): (String, u8) = conn
            .query_row(
                "SELECT status, generation FROM tickets WHERE serial = ?1",
                [self.serial],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        if status != "valid" || claims.generation < current {
            return;
        }
        let entries = self.entries();
        let by_code = entries.iter().filter(|&&g| g >= claims.generation).count();
        let left = usize::from(claims.admits)
            .saturating_sub(by_code)
            .min(usize::from(claims.offer.admits()).saturating_sub(entries.len()));
        if left == 0 {
            return;
        }
        self.scans += 1;
        conn.execute(
            "INSERT INTO scans (nonce, device_id, content_hash, scanned_at, received_at, verdict, reason, gate, direction, offline)
             VALUES (?1, ?2, x'00', ?3, ?3, 'admitted', 'ok', 'g', 'entry', 0)",
            params![format!("n{}", self.scans), self.devices[gate], self.now],
        )
        .unwrap();
        let scan = conn.last_insert_rowid();
        conn.execute(
            "INSERT INTO admissions (seq, scan_id, event_id, serial, device_id, gate, admitted_at, direction, generation)
             VALUES (?1, ?2, 1, ?3, ?4, 'g', ?5, 'entry', ?6)",
            params![self.scans, scan, self.serial, self.devices[gate], self.now, claims.generation],
        )
        .unwrap();
    }

    fn apply(&mut self, op: &Op) {
        let mut conn = self.conn();
        let tx = conn.transaction().unwrap();
        match op {
            Op::Transfer => {
                let to = ["a@p.test", "b@p.test"][1 - self.holder];
                if shop::transfer_ticket(
                    &Store::sqlite(&tx),
                    &self.signer,
                    self.accounts[self.holder],
                    self.serial,
                    to,
                    self.now,
                )
                .is_ok()
                {
                    self.holder = 1 - self.holder;
                    let text: String = tx
                        .query_row("SELECT qr_text FROM tickets WHERE serial = ?1", [self.serial], |r| {
                            r.get(0)
                        })
                        .unwrap();
                    self.codes.push(text);
                }
            }
            Op::BuyerRefund => {
                let used_before = self.entries().len();
                if shop::cancel_order(&Store::sqlite(&tx), self.accounts[0], self.order_id, self.now).is_ok() {
                    assert_eq!(used_before, 0, "a buyer refunded a used ticket");
                }
            }
            Op::OperatorRefund => {
                let _ = shop::operator_refund(&Store::sqlite(&tx), self.serial, self.operator, "decided", self.now);
            }
            Op::Cancel => {
                let changes = og_issuer::ops::catalogue::EventChanges {
                    status: Some("cancelled".into()),
                    ..Default::default()
                };
                og_issuer::ops::catalogue::update_event(&Store::sqlite(&tx), 1, &changes, self.now).unwrap();
            }
            Op::Admit { .. } | Op::Wait(_) => {}
        }
        tx.commit().unwrap();
        drop(conn);
        match op {
            Op::Admit { generation, gate } => self.admit(*generation, *gate),
            Op::Wait(m) => self.now += i64::from(*m) * 60,
            _ => {}
        }
    }

    fn check(&self, offer: Offer) {
        assert!(
            self.entries().len() <= usize::from(offer.admits()),
            "{} entries for a {offer}",
            self.entries().len()
        );
        let conn = self.conn();
        let (ent, _) = og_issuer::shop::entitlements::entitlement(&Store::sqlite(&conn), self.serial).unwrap();
        let owed: i64 = conn
            .query_row(
                "SELECT count(*) FROM refunds_due WHERE serial = ?1",
                [self.serial],
                |r| r.get(0),
            )
            .unwrap();
        let expected = i64::from(matches!(ent.state, TicketState::Refunded | TicketState::Cancelled));
        assert_eq!(owed, expected, "refunds due for a ticket in state {:?}", ent.state);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn whatever_happens_to_a_ticket_it_admits_at_most_what_was_sold_and_money_is_owed_back_once(
        offer in prop_oneof![Just(Offer::Solo), Just(Offer::Duo), Just(Offer::Family)],
        ops in proptest::collection::vec(op(), 1..24),
    ) {
        let mut w = World::new(offer);
        for op in &ops {
            w.apply(op);
            w.check(offer);
        }
    }
}
