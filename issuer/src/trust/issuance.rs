//! Signing tickets: the one place where the issuer creates codes gates will accept.
//!
//! A ticket combines the buyer's account key (made at activation) and a purchase key (made
//! here, when a purchase is recorded): the signed ticket carries the tags of both, so a
//! revocation can name one ticket, a whole purchase or a whole account. Callers run
//! [`issue_purchase`] inside the same transaction that makes an order paid (or records a
//! complimentary or transferred ticket), so there is never a paid order without tickets. The
//! queries are in `store`'s table modules (`signing_keys`, `accounts`, `purchases`,
//! `events`, `tickets`).

use crate::store::sql::Transaction;
use crate::store::tickets::{NewTicket, Reissued};
use crate::store::{accounts, events, purchases, signing_keys, tickets};
use og_shared::ticket::{Tag, TicketFlags, Zones};
use og_shared::{KeyId, Offer, TicketClaims, TicketSigner};

use crate::error::{AppError, AppResult};
use crate::store::Db;

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

/// One ticket (entitlement) to sign.
#[derive(Debug, Clone)]
pub struct TicketRequest {
    pub event_id: i64,
    pub offer: Offer,
    pub flags: u8,
    pub holder_name: String,
    /// What was paid for it (0 for a complimentary ticket).
    pub unit_price_cents: i64,
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
    db.write_sync(|conn| register_signing_key_in(conn, signer, now))
}

fn register_signing_key_in(conn: &Transaction<'_>, signer: &TicketSigner, now: i64) -> AppResult<()> {
    let k = signer.trusted_key(now - 24 * 3600, now + KEY_VALIDITY_SECS);
    let stored = signing_keys::register(conn, k.id.0, &k.public_key_b64(), k.valid_from, k.valid_until, now)?;
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
    match accounts::tag_and_status::<crate::domain::AccountStatus>(tx, account_id)? {
        None => Err(AppError::not_found("no such account")),
        Some((_, crate::domain::AccountStatus::Banned)) => {
            Err(AppError::conflict("account_banned", "this account is banned"))
        }
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
    let purchase_key = crate::trust::keys::random_32();
    let purchase_tag = Tag::of_purchase_key(&purchase_key);
    let purchase_id = purchases::insert(
        tx,
        order_id,
        account_id,
        kind.as_str(),
        &purchase_key[..],
        &purchase_tag.to_hex(),
        now,
    )?;
    let serials = tx.new_ticket_serials(requests.len())?;
    let mut out = Vec::with_capacity(requests.len());
    let mut new = Vec::with_capacity(requests.len());
    let mut windows = std::collections::HashMap::new();
    for (next_serial, req) in serials.into_iter().zip(requests) {
        let serial = u32::try_from(next_serial).map_err(|_| AppError::internal("ticket serials exhausted"))?;
        let code = Code {
            event_id: req.event_id,
            serial,
            generation: 0,
            offer: req.offer,
            admits: req.offer.admits(),
            purchase_tag,
            account_tag,
            flags: req.flags,
        };
        let window = match windows.get(&req.event_id) {
            Some(w) => *w,
            None => *windows.entry(req.event_id).or_insert(event_window(tx, req.event_id)?),
        };
        let qr_text = sign_code_in(signer, &code, window)?;
        new.push(NewTicket {
            serial,
            purchase_id,
            account_id,
            event_id: req.event_id,
            offer: req.offer.name(),
            key_id: signer.key_id().0,
            qr_text: qr_text.clone(),
            flags: req.flags & TicketFlags::KNOWN,
            holder_name: req.holder_name.clone(),
            issued_at: now,
            order_id,
            unit_price_cents: req.unit_price_cents,
            admits: req.offer.admits(),
        });
        out.push(IssuedTicket {
            serial,
            event_id: req.event_id,
            offer: req.offer,
            qr_text,
        });
    }
    tickets::insert(tx, &new)?;
    Ok(out)
}

/// What one code of an entitlement says.
struct Code {
    event_id: i64,
    serial: u32,
    generation: u8,
    offer: Offer,
    admits: u8,
    purchase_tag: Tag,
    account_tag: Tag,
    flags: u8,
}

/// Signs a code, valid from the event's doors opening to their closing. Refuses for a
/// cancelled event: nothing signed after a cancellation may admit anyone.
fn sign_code(tx: &Transaction<'_>, signer: &TicketSigner, c: &Code) -> AppResult<String> {
    let window = event_window(tx, c.event_id)?;
    sign_code_in(signer, c, window)
}

/// When an event's codes open the gate (doors open to doors close), refusing a cancelled or
/// unknown event: nothing signed after a cancellation may admit anyone.
fn event_window(tx: &Transaction<'_>, event_id: i64) -> AppResult<(i64, i64)> {
    let (doors_open, doors_close, status) = events::window::<crate::domain::EventStatus>(tx, event_id)?
        .ok_or_else(|| AppError::not_found(format!("no event {event_id}")))?;
    if status != crate::domain::EventStatus::Scheduled {
        return Err(AppError::conflict("event_cancelled", "the event is cancelled"));
    }
    Ok((doors_open, doors_close))
}

/// Signs a code valid from doors open to doors close.
fn sign_code_in(signer: &TicketSigner, c: &Code, (doors_open, doors_close): (i64, i64)) -> AppResult<String> {
    let claims = TicketClaims {
        key_id: KeyId(0),
        event_id: u32::try_from(c.event_id).map_err(|_| AppError::internal("event id out of range"))?,
        serial: c.serial,
        generation: c.generation,
        offer: c.offer,
        admits: c.admits,
        purchase_tag: c.purchase_tag,
        account_tag: c.account_tag,
        valid_from: clamp_u32(doors_open),
        valid_until: clamp_u32(doors_close),
        zones: Zones::ALL,
        flags: TicketFlags(c.flags & TicketFlags::KNOWN),
    };
    Ok(signer.sign_ticket(&claims))
}

/// A new code of an existing entitlement for `to_account` (a transfer): a fresh purchase key
/// for the new holder, generation + 1, admitting `admits` people. The older codes are
/// superseded in the revocation log in the same transaction. Returns the new generation.
pub fn reissue(
    tx: &Transaction<'_>,
    signer: &TicketSigner,
    serial: u32,
    to_account: i64,
    holder_name: &str,
    admits: u8,
    now: i64,
) -> AppResult<u8> {
    let (event_id, offer, flags, generation) = tickets::for_reissue(tx, serial)?;
    let offer = Offer::from_name(&offer).ok_or_else(|| AppError::internal("bad offer kind"))?;
    let generation = generation
        .checked_add(1)
        .ok_or_else(|| AppError::conflict("too_many_transfers", "this ticket was transferred too many times"))?;
    let account_tag = account_tag(tx, to_account)?;
    let purchase_key = crate::trust::keys::random_32();
    let purchase_tag = Tag::of_purchase_key(&purchase_key);
    let purchase_id = purchases::insert(
        tx,
        None,
        to_account,
        PurchaseKind::Transfer.as_str(),
        &purchase_key[..],
        &purchase_tag.to_hex(),
        now,
    )?;
    let code = Code {
        event_id,
        serial,
        generation,
        offer,
        admits,
        purchase_tag,
        account_tag,
        flags,
    };
    let qr_text = sign_code(tx, signer, &code)?;
    tickets::update_reissued(
        tx,
        &Reissued {
            serial,
            account_id: to_account,
            purchase_id,
            qr_text: &qr_text,
            key_id: signer.key_id().0,
            holder_name,
            generation,
            admits,
            issued_at: now,
        },
    )?;
    crate::trust::revocation::supersede(tx, serial, generation, now)?;
    Ok(generation)
}

/// Re-signs every valid code stored in an older ticket format (version 1, before
/// entitlements) as the current format, same serial, purchase and account, generation 0, the
/// whole offer. Gates of this build refuse version-1 codes, so a buyer opening the ticket
/// gets a code that works. Run at start; returns how many were re-signed.
pub fn resign_legacy_codes(tx: &Transaction<'_>, signer: &TicketSigner) -> AppResult<usize> {
    let legacy = tickets::valid_codes_not_starting_with(tx, og_shared::qr::PREFIX)?;
    let mut done = 0;
    for (serial, event_id, offer, flags, purchase_tag, account_tag) in legacy {
        let offer = Offer::from_name(&offer).ok_or_else(|| AppError::internal("bad offer kind"))?;
        let tag = |h: Option<String>| {
            h.as_deref()
                .and_then(Tag::from_hex)
                .ok_or_else(|| AppError::internal("stored tag is not hex"))
        };
        let code = Code {
            event_id,
            serial,
            generation: 0,
            offer,
            admits: offer.admits(),
            purchase_tag: tag(Some(purchase_tag))?,
            account_tag: tag(account_tag)?,
            flags,
        };
        match sign_code(tx, signer, &code) {
            Ok(qr_text) => {
                tickets::set_code(tx, serial, &qr_text, signer.key_id().0)?;
                done += 1;
            }
            // A cancelled event's tickets are revoked in the same transaction as the
            // cancellation; nothing to re-sign.
            Err(AppError::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

fn clamp_u32(t: i64) -> u32 {
    t.clamp(0, i64::from(u32::MAX)) as u32
}

/// Makes the account key (32 random bytes) of an account being activated, if it has none.
pub fn ensure_account_key(tx: &Transaction<'_>, account_id: i64) -> AppResult<Tag> {
    let existing = accounts::tag(tx, account_id)?.ok_or_else(|| AppError::not_found("no such account"))?;
    if let Some(tag) = existing {
        return Tag::from_hex(&tag).ok_or_else(|| AppError::internal("stored account tag is not hex"));
    }
    let key = crate::trust::keys::random_32();
    let tag = Tag::of_account_key(&key);
    accounts::set_key(tx, account_id, &key[..], &tag.to_hex())?;
    Ok(tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sql::Connection as S;
    use og_shared::{TrustStore, verify_qr_text};

    #[test]
    fn issued_tickets_verify_under_the_registered_key_and_carry_both_tags() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.sqlite3")).unwrap();
        let signer = TicketSigner::from_secret_bytes(&[1; 32], og_shared::DeploymentId::parse("t").unwrap());
        register_signing_key(&db, &signer, 1_000).unwrap();
        let mut conn = rusqlite::Connection::open(dir.path().join("t.sqlite3")).unwrap();
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
        let account_tag = ensure_account_key(&S::sqlite(&tx), 1).unwrap();
        let req = TicketRequest {
            event_id: 1,
            offer: Offer::Duo,
            flags: 0,
            holder_name: "A".into(),
            unit_price_cents: 0,
        };
        let issued = issue_purchase(
            &S::sqlite(&tx),
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
        let _db = Db::open(&dir.path().join("t.sqlite3")).unwrap();
        let signer = TicketSigner::from_secret_bytes(&[1; 32], og_shared::DeploymentId::parse("t").unwrap());
        let mut conn = rusqlite::Connection::open(dir.path().join("t.sqlite3")).unwrap();
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
            unit_price_cents: 0,
        };
        let err = issue_purchase(&S::sqlite(&tx), &signer, 1, None, PurchaseKind::Paid, &[req], 0).unwrap_err();
        assert_eq!(err.code(), "account_not_active");
    }
}
