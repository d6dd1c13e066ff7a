//! Holder-bound tickets on the buyer's phone (issue 11): the binding of a device key to an
//! entitlement, the per-event policy (`holder_binding`) and operators' paper exceptions.
//!
//! Every rule about bindings, the policy and paper exceptions lives in this module; their
//! queries are in the store's table modules (`store::ticket_bindings`, `store::paper_exceptions`,
//! `store::events`, `store::tickets`: hex TEXT instead of BLOB, BIGINT-compatible integers),
//! called inside the caller's [`crate::store::Db`] transaction. The rules (first
//! binding, same phone, rebinding limit, what a transfer does) are pure functions in
//! [`crate::shop::lifecycle`]; this module reads the state they need, asks them, and writes what they
//! decided: the bound ticket signed by `og_shared::bound`, and a `device_key` revocation for
//! the replaced phone in the same transaction.

use crate::store::sql::{Connection, Transaction};
use crate::store::ticket_bindings::{self, Active, NewBinding};
use crate::store::{events, paper_exceptions, tickets};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use og_shared::TicketSigner;
use og_shared::bound::DeviceKey;
use og_shared::sync::{RevocationReason, RevocationTarget};
use og_shared::ticket::{CLAIMS_LEN, Tag, TicketClaims};
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::shop::lifecycle::{self, Bind, Bindings, HolderBinding};

/// Parses the public key a phone sent: base64url (padded or not) of a SEC1 P-256 point,
/// compressed (33 bytes) or uncompressed (65 bytes, what WebCrypto exports as `raw`). Anything
/// else (not base64url, another length, not a point of the curve) is a clear 400.
pub fn parse_device_key(b64: &str) -> AppResult<DeviceKey> {
    let bad = |why: &str| {
        AppError::bad_request(
            "bad_public_key",
            format!("public_key must be base64url of a P-256 public key (SEC1, 33 or 65 bytes): {why}"),
        )
    };
    if b64.len() > 200 {
        return Err(bad("too long"));
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(b64.trim_end_matches('='))
        .map_err(|_| bad("not base64url"))?;
    if bytes.len() != 33 && bytes.len() != 65 {
        return Err(bad(&format!("{} bytes", bytes.len())));
    }
    DeviceKey::from_sec1(&bytes).map_err(|_| bad("not a point of the curve"))
}

/// What the phone gets back from a binding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bound {
    pub serial: u32,
    /// The issuer-signed bound ticket (133 bytes), base64url without padding.
    pub bound_ticket: String,
    /// How many phones this holder has bound (1 for the first), and how many more moves to
    /// another phone are allowed.
    pub binding_no: u32,
    pub rebinds_left: u32,
    /// Whether this request replaced another phone (its key is revoked).
    pub replaced_phone: bool,
}

/// The current binding of a serial (not revoked), if any.
fn active(conn: &Connection, serial: i64) -> AppResult<Option<Active>> {
    Ok(ticket_bindings::active(conn, serial)?)
}

/// Phones bound for the serial's given code generation (its current holder), revoked included.
fn made_for(conn: &Connection, serial: i64, generation: u32) -> AppResult<u32> {
    Ok(ticket_bindings::count_for_generation(conn, serial, generation)?)
}

/// Whether `device_key` (hex) was bound to `serial` before and revoked.
fn was_revoked(conn: &Connection, serial: i64, device_key: &str) -> AppResult<bool> {
    Ok(ticket_bindings::count_ended_with_key(conn, serial, device_key)? > 0)
}

fn next_no(conn: &Connection, serial: i64) -> AppResult<u32> {
    Ok(ticket_bindings::max_binding_no(conn, serial)?.unwrap_or(0) + 1)
}

/// Ends the current binding (if any) for `why` and appends its `device_key` revocation. Returns
/// whether there was one.
fn revoke_active(tx: &Transaction<'_>, serial: i64, why: &'static str, now: i64) -> AppResult<bool> {
    let reason = if why == "transferred" {
        RevocationReason::Transferred
    } else {
        RevocationReason::Other
    };
    let Some(a) = active(tx, serial)? else {
        return Ok(false);
    };
    ticket_bindings::end(tx, serial, a.binding_no, now, why)?;
    let tag = Tag::from_hex(&a.key_tag).ok_or_else(|| AppError::internal("bad key tag"))?;
    let serial = u32::try_from(serial).map_err(|_| AppError::internal("serial out of range"))?;
    crate::trust::revocation::append(tx, RevocationTarget::DeviceKey { serial, key_tag: tag }, reason, now)?;
    Ok(true)
}

/// The holder (`account_id`) binds ticket `serial` to the phone holding `key`: asks
/// [`lifecycle::bind`], then signs the bound ticket over the current code's claims, records the
/// binding and, for another phone, revokes the previous phone's key through the log, all in
/// the caller's transaction. A ticket of another account is "not found".
pub fn bind_phone(
    tx: &Transaction<'_>,
    signer: &TicketSigner,
    account_id: i64,
    serial: i64,
    key: &DeviceKey,
    max_rebinds: u32,
    now: i64,
) -> AppResult<Bound> {
    let (qr_text, generation) = tickets::code_of_holder(tx, serial, account_id)?
        .ok_or_else(|| AppError::not_found(format!("no ticket {serial}")))?;
    let (ent, ev) = crate::shop::entitlements::entitlement(tx, serial)?;
    let device_key = hex::encode(key.as_bytes());
    let current = active(tx, serial)?.filter(|a| a.generation == generation);
    let state = Bindings {
        made: made_for(tx, serial, generation)?,
        same_phone: current.as_ref().is_some_and(|a| a.device_key == device_key),
        active: current.is_some(),
        key_revoked: was_revoked(tx, serial, &device_key)?,
    };
    let decision = lifecycle::bind(&ent, &ev, &state, max_rebinds)?;
    let serial_u32 = u32::try_from(serial).map_err(|_| AppError::not_found("no such ticket"))?;
    if let (Bind::Same, Some(a)) = (decision, current) {
        return Ok(Bound {
            serial: serial_u32,
            bound_ticket: a.bound_ticket,
            binding_no: state.made,
            rebinds_left: (max_rebinds + 1).saturating_sub(state.made),
            replaced_phone: false,
        });
    }
    let replaced = revoke_active(tx, serial, "rebound", now)?;
    let bytes = og_shared::qr::decode_ticket_bytes(qr_text.as_bytes())
        .map_err(|_| AppError::internal("the stored code does not parse"))?;
    let mut claims_bytes = [0u8; CLAIMS_LEN];
    claims_bytes.copy_from_slice(&bytes[..CLAIMS_LEN]);
    let claims =
        TicketClaims::from_bytes(&claims_bytes).map_err(|_| AppError::internal("the stored claims do not parse"))?;
    let bound_ticket = signer.sign_bound_ticket(&claims, key).to_base64url();
    let no = next_no(tx, serial)?;
    ticket_bindings::insert(
        tx,
        &NewBinding {
            serial,
            binding_no: no,
            generation,
            device_key: &device_key,
            key_tag: &key.tag().to_hex(),
            bound_ticket: &bound_ticket,
            created_at: now,
        },
    )?;
    let made = state.made + 1;
    Ok(Bound {
        serial: serial_u32,
        bound_ticket,
        binding_no: made,
        rebinds_left: (max_rebinds + 1).saturating_sub(made),
        replaced_phone: replaced,
    })
}

/// A transfer of `serial`: the sender's phone is unbound (its key revoked through the log) when
/// [`lifecycle::transfer_unbinds`] says so, and a paper exception for the sender ends. Runs in
/// the transfer's transaction.
pub fn on_transfer(tx: &Transaction<'_>, serial: i64, now: i64) -> AppResult<()> {
    let a = active(tx, serial)?;
    let state = Bindings {
        active: a.is_some(),
        ..Bindings::default()
    };
    if lifecycle::transfer_unbinds(&state) {
        revoke_active(tx, serial, "transferred", now)?;
    }
    paper_exceptions::end_open(tx, serial, now)?;
    Ok(())
}

/// The key tag (hex) of the phone bound to `serial` now, if any.
pub fn active_key_tag(conn: &Connection, serial: i64) -> AppResult<Option<String>> {
    Ok(active(conn, serial)?.map(|a| a.key_tag))
}

/// What the ticket page needs to know: the event's policy, whether a paper exception exists,
/// whether a phone is bound now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PhoneView {
    pub holder_binding: HolderBinding,
    pub paper_exception: bool,
    pub phone_bound: bool,
    /// Whether the static code (QR image, PNG, SVG, print) is shown: `lifecycle::static_code_shown`.
    pub static_code: bool,
}

pub fn phone_view(conn: &Connection, serial: i64) -> AppResult<PhoneView> {
    let policy = events::holder_binding_of_ticket(conn, serial)?;
    let policy = policy
        .as_deref()
        .and_then(HolderBinding::from_name)
        .ok_or_else(|| AppError::not_found(format!("no ticket {serial}")))?;
    let paper: bool = paper_exceptions::count_open(conn, serial)? > 0;
    Ok(PhoneView {
        holder_binding: policy,
        paper_exception: paper,
        phone_bound: active(conn, serial)?.is_some(),
        static_code: lifecycle::static_code_shown(policy, paper),
    })
}

/// An event's policy.
pub fn holder_binding(conn: &Connection, event_id: i64) -> AppResult<HolderBinding> {
    let p = events::holder_binding(conn, event_id)?;
    p.as_deref()
        .and_then(HolderBinding::from_name)
        .ok_or_else(|| AppError::not_found(format!("no event {event_id}")))
}

/// Sets an event's policy (operators).
pub fn set_holder_binding(tx: &Transaction<'_>, event_id: i64, policy: HolderBinding) -> AppResult<()> {
    let n = events::set_holder_binding(tx, event_id, policy.as_str())?;
    if n == 0 {
        return Err(AppError::not_found(format!("no event {event_id}")));
    }
    Ok(())
}

/// Each event's policy and the serials with an open paper exception, for the gates' event facts.
pub fn policies(conn: &Connection) -> AppResult<std::collections::HashMap<u32, (HolderBinding, Vec<u32>)>> {
    let mut out = std::collections::HashMap::new();
    for (id, p) in events::holder_bindings(conn)? {
        out.insert(id, (HolderBinding::from_name(&p).unwrap_or_default(), Vec::new()));
    }
    for (event, serial) in paper_exceptions::open_by_event(conn)? {
        if let Some(e) = out.get_mut(&event) {
            e.1.push(serial);
        }
    }
    Ok(out)
}

/// A recorded paper exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaperException {
    pub serial: u32,
    pub person_name: String,
    pub operator_id: i64,
    pub reason: String,
    pub created_at: i64,
}

/// An operator allows a static (paper) code for a named person on a ticket of an event that
/// requires the phone, recorded with who and why. One open exception per ticket.
pub fn add_paper_exception(
    tx: &Transaction<'_>,
    serial: i64,
    person_name: &str,
    operator_id: i64,
    reason: &str,
    now: i64,
) -> AppResult<PaperException> {
    let name = person_name.trim();
    let reason = reason.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::bad_request(
            "bad_name",
            "name: the person's name, 1 to 200 characters",
        ));
    }
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::bad_request("bad_reason", "reason: why, 1 to 500 characters"));
    }
    let serial_u32 = match u32::try_from(serial) {
        Ok(s) if tickets::exists(tx, s)? => s,
        _ => return Err(AppError::not_found(format!("no ticket {serial}"))),
    };
    let open = paper_exceptions::open_person_name(tx, serial)?;
    if let Some(who) = open {
        return Err(AppError::conflict(
            "paper_exception_exists",
            format!("ticket {serial} already has a paper exception (for {who})"),
        ));
    }
    paper_exceptions::insert(tx, serial, name, operator_id, reason, now)?;
    Ok(PaperException {
        serial: serial_u32,
        person_name: name.to_owned(),
        operator_id,
        reason: reason.to_owned(),
        created_at: now,
    })
}
