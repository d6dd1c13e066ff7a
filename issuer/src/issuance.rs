//! Signing tickets: the one place where the issuer creates codes gates will accept.
//!
//! A ticket combines the buyer's account key (made at activation) and a purchase key (made
//! here, when a purchase is recorded): the signed ticket carries the tags of both, so a
//! revocation can name one ticket, a whole purchase or a whole account. Callers run
//! [`issue_purchase`] inside the same transaction that makes an order paid (or records a
//! complimentary or transferred ticket), so there is never a paid order without tickets.

use og_shared::ticket::{Tag, TicketFlags, Zones};
use og_shared::{KeyId, Offer, TicketClaims, TicketSigner};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::db::Db;
use crate::error::{AppError, AppResult};

/// How long a newly created signing key is accepted by gates.
pub const KEY_VALIDITY_SECS: i64 = 3 * 365 * 24 * 3600;

/// Why a purchase key was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurchaseKind {
    Paid,
    Complimentary,
    Transfer,
}

impl PurchaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PurchaseKind::Paid => "paid",
            PurchaseKind::Complimentary => "complimentary",
            PurchaseKind::Transfer => "transfer",
        }
    }
}

/// One ticket to sign.
#[derive(Debug, Clone)]
pub struct TicketRequest {
    pub event_id: i64,
    pub offer: Offer,
    pub flags: u8,
    pub holder_name: String,
}

/// A ticket that was signed and stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IssuedTicket {
    pub serial: u32,
    pub event_id: i64,
    pub offer: Offer,
    pub qr_text: String,
}

/// Records the signer's public key (idempotent) so gates can fetch it.
pub fn register_signing_key(db: &Db, signer: &TicketSigner, now: i64) -> AppResult<()> {
    let conn = db.conn()?;
    let k = signer.trusted_key(now - 24 * 3600, now + KEY_VALIDITY_SECS);
    conn.execute(
        "INSERT INTO signing_keys (key_id, public_key, valid_from, valid_until, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key_id) DO NOTHING",
        params![k.id.0, k.public_key_b64(), k.valid_from, k.valid_until, now],
    )?;
    let stored: String = conn.query_row("SELECT public_key FROM signing_keys WHERE key_id = ?1", [k.id.0], |r| {
        r.get(0)
    })?;
    if stored != k.public_key_b64() {
        return Err(AppError::internal(format!(
            "key id {} is already used by another key: make a new signing key",
            k.id
        )));
    }
    Ok(())
}

/// The account's tag, or an error if the account has no key yet (not activated) or is banned.
pub fn account_tag(tx: &Transaction<'_>, account_id: i64) -> AppResult<Tag> {
    let row: Option<(Option<String>, String)> = tx
        .query_row(
            "SELECT account_tag, status FROM accounts WHERE id = ?1",
            [account_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        None => Err(AppError::not_found("no such account")),
        Some((_, status)) if status == "banned" => Err(AppError::conflict("account_banned", "this account is banned")),
        Some((None, _)) => Err(AppError::conflict(
            "account_not_active",
            "the account is not activated yet",
        )),
        Some((Some(tag), _)) => Tag::from_hex(&tag).ok_or_else(|| AppError::internal("stored account tag is not hex")),
    }
}

/// Creates a purchase (with a fresh purchase key) for `account_id` and signs one ticket per
/// request. Run it inside the transaction that records why the tickets exist.
pub fn issue_purchase(
    tx: &Transaction<'_>,
    signer: &TicketSigner,
    account_id: i64,
    order_id: Option<i64>,
    kind: PurchaseKind,
    requests: &[TicketRequest],
    now: i64,
) -> AppResult<Vec<IssuedTicket>> {
    let account_tag = account_tag(tx, account_id)?;
    let purchase_key = crate::keys::random_32();
    let purchase_tag = Tag::of_purchase_key(&purchase_key);
    tx.execute(
        "INSERT INTO purchases (order_id, account_id, kind, purchase_key, purchase_tag, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            order_id,
            account_id,
            kind.as_str(),
            &purchase_key[..],
            purchase_tag.to_hex(),
            now
        ],
    )?;
    let purchase_id = tx.last_insert_rowid();
    let first_serial: i64 = tx.query_row("SELECT COALESCE(MAX(serial), 0) + 1 FROM tickets", [], |r| r.get(0))?;
    let mut out = Vec::with_capacity(requests.len());
    for (next_serial, req) in (first_serial..).zip(requests) {
        let (doors_open, doors_close, status): (i64, i64, String) = tx
            .prepare_cached("SELECT doors_open, doors_close, status FROM events WHERE id = ?1")?
            .query_row([req.event_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?
            .ok_or_else(|| AppError::not_found(format!("no event {}", req.event_id)))?;
        if status != "scheduled" {
            return Err(AppError::conflict("event_cancelled", "the event is cancelled"));
        }
        let serial = u32::try_from(next_serial).map_err(|_| AppError::internal("ticket serials exhausted"))?;
        let claims = TicketClaims {
            key_id: KeyId(0),
            event_id: u32::try_from(req.event_id).map_err(|_| AppError::internal("event id out of range"))?,
            serial,
            offer: req.offer,
            purchase_tag,
            account_tag,
            valid_from: clamp_u32(doors_open),
            valid_until: clamp_u32(doors_close),
            zones: Zones::ALL,
            flags: TicketFlags(req.flags & TicketFlags::KNOWN),
        };
        let qr_text = signer.sign_ticket(&claims);
        tx.prepare_cached(
            "INSERT INTO tickets (serial, purchase_id, account_id, event_id, offer, key_id, qr_text, flags,
                                  holder_name, status, issued_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'valid', ?10)",
        )?
        .execute(params![
            serial,
            purchase_id,
            account_id,
            req.event_id,
            req.offer.name(),
            signer.key_id().0,
            qr_text,
            claims.flags.0,
            req.holder_name,
            now
        ])?;
        out.push(IssuedTicket {
            serial,
            event_id: req.event_id,
            offer: req.offer,
            qr_text,
        });
    }
    Ok(out)
}

fn clamp_u32(t: i64) -> u32 {
    t.clamp(0, i64::from(u32::MAX)) as u32
}

/// Makes the account key (32 random bytes) of an account being activated, if it has none.
pub fn ensure_account_key(tx: &Transaction<'_>, account_id: i64) -> AppResult<Tag> {
    let existing: Option<String> =
        tx.query_row("SELECT account_tag FROM accounts WHERE id = ?1", [account_id], |r| {
            r.get(0)
        })?;
    if let Some(tag) = existing {
        return Tag::from_hex(&tag).ok_or_else(|| AppError::internal("stored account tag is not hex"));
    }
    let key = crate::keys::random_32();
    let tag = Tag::of_account_key(&key);
    tx.execute(
        "UPDATE accounts SET account_key = ?1, account_tag = ?2 WHERE id = ?3",
        params![&key[..], tag.to_hex(), account_id],
    )?;
    Ok(tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use og_shared::{TrustStore, verify_qr_text};

    #[test]
    fn issued_tickets_verify_under_the_registered_key_and_carry_both_tags() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.sqlite3")).unwrap();
        let signer = TicketSigner::from_secret_bytes(&[1; 32], og_shared::DeploymentId::parse("t").unwrap());
        register_signing_key(&db, &signer, 1_000).unwrap();
        let mut conn = db.conn().unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute(
            "INSERT INTO events (sport, name, venue, starts_at, doors_open, doors_close, capacity)
             VALUES ('Judo', 'Finals', 'Champ-de-Mars Arena', 2000, 1500, 9000, 100)",
            [],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO accounts (email, password_hash, status, created_at) VALUES ('a@b.c', 'x', 'active', 0)",
            [],
        )
        .unwrap();
        let account_tag = ensure_account_key(&tx, 1).unwrap();
        let req = TicketRequest {
            event_id: 1,
            offer: Offer::Duo,
            flags: 0,
            holder_name: "A".into(),
        };
        let issued = issue_purchase(
            &tx,
            &signer,
            1,
            None,
            PurchaseKind::Complimentary,
            &[req.clone(), req],
            1_000,
        )
        .unwrap();
        tx.commit().unwrap();
        assert_eq!(issued.len(), 2);
        assert_ne!(issued[0].serial, issued[1].serial);
        let trust = TrustStore::new(signer.deployment().clone()).with(signer.trusted_key(0, 10_000));
        let a = verify_qr_text(issued[0].qr_text.as_bytes(), &trust, 1_600)
            .unwrap()
            .claims;
        let b = verify_qr_text(issued[1].qr_text.as_bytes(), &trust, 1_600)
            .unwrap()
            .claims;
        assert_eq!(a.account_tag, account_tag);
        assert_eq!(a.purchase_tag, b.purchase_tag, "tickets of one purchase share its tag");
        assert_eq!((a.valid_from, a.valid_until), (1500, 9000));
    }

    #[test]
    fn an_account_that_is_not_activated_gets_no_tickets() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.sqlite3")).unwrap();
        let signer = TicketSigner::from_secret_bytes(&[1; 32], og_shared::DeploymentId::parse("t").unwrap());
        let mut conn = db.conn().unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute(
            "INSERT INTO accounts (email, password_hash, created_at) VALUES ('a@b.c', 'x', 0)",
            [],
        )
        .unwrap();
        let req = TicketRequest {
            event_id: 1,
            offer: Offer::Solo,
            flags: 0,
            holder_name: String::new(),
        };
        let err = issue_purchase(&tx, &signer, 1, None, PurchaseKind::Paid, &[req], 0).unwrap_err();
        assert_eq!(err.code(), "account_not_active");
    }
}
