//! Events as operators and gates see them, offline gate bundles and complimentary tickets.

use og_shared::sync::{EventFacts, GateBundle};
use og_shared::ticket::TicketFlags;
use og_shared::{Offer, TicketSigner};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::{AppError, AppResult};
use crate::issuance::{self, IssuedTicket, PurchaseKind, TicketRequest};

/// An offer of an event.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct OfferRow {
    pub offer_id: i64,
    pub kind: String,
    pub admits: u8,
    pub price_cents: i64,
}

/// An event with its offers (what `issuer events list` prints).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct EventRow {
    pub id: u32,
    pub sport: String,
    pub name: String,
    pub venue: String,
    pub starts_at: i64,
    pub doors_open: i64,
    pub doors_close: i64,
    pub capacity: i64,
    pub reserved: i64,
    pub status: String,
    pub zones: Vec<String>,
    pub offers: Vec<OfferRow>,
}

/// Every event, by start time.
pub fn list_events(conn: &Connection) -> AppResult<Vec<EventRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, sport, name, venue, starts_at, doors_open, doors_close, capacity, reserved, status, zones
         FROM events ORDER BY starts_at, id",
    )?;
    let mut events = stmt
        .query_map([], |r| {
            Ok(EventRow {
                id: r.get(0)?,
                sport: r.get(1)?,
                name: r.get(2)?,
                venue: r.get(3)?,
                starts_at: r.get(4)?,
                doors_open: r.get(5)?,
                doors_close: r.get(6)?,
                capacity: r.get(7)?,
                reserved: r.get(8)?,
                status: r.get(9)?,
                zones: serde_json::from_str(&r.get::<_, String>(10)?).unwrap_or_default(),
                offers: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut offers = conn.prepare_cached("SELECT id, kind, price_cents FROM offers WHERE event_id = ?1 ORDER BY id")?;
    for e in &mut events {
        e.offers = offers
            .query_map([e.id], |r| {
                let kind: String = r.get(1)?;
                Ok(OfferRow {
                    offer_id: r.get(0)?,
                    admits: Offer::from_name(&kind).map_or(0, Offer::admits),
                    kind,
                    price_cents: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
    }
    Ok(events)
}

/// The facts gates need about the given events (all events when `ids` is `None`).
pub fn event_facts(conn: &Connection, ids: Option<&[u32]>) -> AppResult<Vec<EventFacts>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, sport, venue, starts_at, doors_open, doors_close, zones FROM events ORDER BY id",
    )?;
    let all = stmt
        .query_map([], |r| {
            Ok(EventFacts {
                event_id: r.get(0)?,
                name: r.get(1)?,
                sport: r.get(2)?,
                venue: r.get(3)?,
                starts_at: r.get(4)?,
                doors_open: r.get(5)?,
                doors_close: r.get(6)?,
                zones: serde_json::from_str(&r.get::<_, String>(7)?).unwrap_or_default(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(match ids {
        None => all,
        Some(ids) => all.into_iter().filter(|e| ids.contains(&e.event_id)).collect(),
    })
}

/// Builds a signed offline bundle: keys, the whole revocation log and event facts.
pub fn gate_bundle(
    conn: &Connection,
    signer: &TicketSigner,
    event: Option<u32>,
    zone: Option<u8>,
    now: i64,
) -> AppResult<Vec<u8>> {
    let ids = event.map(|e| vec![e]);
    let events = event_facts(conn, ids.as_deref())?;
    if let Some(e) = event {
        let Some(facts) = events.first() else {
            return Err(AppError::not_found(format!("no event {e}")));
        };
        if let Some(z) = zone
            && usize::from(z) >= facts.zones.len()
        {
            return Err(AppError::bad_request(
                "unknown_zone",
                format!("event {e} has no zone {z}"),
            ));
        }
    }
    let revocations = crate::revocation::page_after(conn, 0, usize::MAX >> 1)?
        .ok_or_else(|| AppError::internal("revocation log has no start"))?;
    let bundle = GateBundle {
        deployment: signer.deployment().clone(),
        created_at: now,
        keys: super::devices::keys(conn)?,
        revocations,
        events,
        zone,
    };
    Ok(bundle.to_signed_file(signer))
}

/// Issues `count` complimentary tickets of `offer` for `event_id` to the account of `email`
/// (created active, with its account key, if it does not exist yet).
pub fn issue_comps(
    tx: &Transaction<'_>,
    signer: &TicketSigner,
    event_id: u32,
    offer: Offer,
    email: &str,
    count: u32,
    now: i64,
) -> AppResult<Vec<IssuedTicket>> {
    let email = email.trim();
    if !email.contains('@') || email.len() > 254 || email.chars().any(char::is_whitespace) {
        return Err(AppError::bad_request("bad_email", "not an email address"));
    }
    if !(1..=100).contains(&count) {
        return Err(AppError::bad_request(
            "bad_count",
            "issue between 1 and 100 tickets at once",
        ));
    }
    let exists: Option<i64> = tx
        .query_row("SELECT id FROM events WHERE id = ?1", [event_id], |r| r.get(0))
        .optional()?;
    if exists.is_none() {
        return Err(AppError::not_found(format!("no event {event_id}")));
    }
    let account: Option<(i64, String)> = tx
        .query_row("SELECT id, status FROM accounts WHERE email = ?1", [email], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let account_id = match account {
        Some((_, status)) if status == "banned" => {
            return Err(AppError::conflict("account_banned", "this account is banned"));
        }
        Some((id, status)) => {
            if status != "active" {
                tx.execute(
                    "UPDATE accounts SET status = 'active', activated_at = COALESCE(activated_at, ?2) WHERE id = ?1",
                    params![id, now],
                )?;
            }
            id
        }
        None => {
            // No password yet: the holder sets one with the shop's password reset.
            tx.execute(
                "INSERT INTO accounts (email, password_hash, status, created_at, activated_at)
                 VALUES (?1, '!', 'active', ?2, ?2)",
                params![email, now],
            )?;
            tx.last_insert_rowid()
        }
    };
    issuance::ensure_account_key(tx, account_id)?;
    let req = TicketRequest {
        event_id: i64::from(event_id),
        offer,
        flags: TicketFlags::COMPLIMENTARY,
        holder_name: String::new(),
    };
    let reqs = vec![req; count as usize];
    issuance::issue_purchase(tx, signer, account_id, None, PurchaseKind::Complimentary, &reqs, now)
}
