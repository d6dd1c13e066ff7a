//! The buyer's JSON API under `/api/v1`: catalogue, accounts and sessions, cart, checkout,
//! orders, the built-in processor's card endpoint and webhook, tickets (with QR images) and
//! transfers. Everything the web pages do is available here; `openapi.rs` describes it.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{ApiJson, ApiQuery, Id};
use crate::domain::{Email, IdempotencyKey, Password, Quantity, parse_display_name};
use crate::error::{AppError, AppResult};
use crate::shop::accounts;
use crate::shop::auth::{self, AuthUser, SensitiveUser};
use crate::shop::orders::{self as shop, EventFilter};
use crate::state::AppState;
use crate::store::WriteScope;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/events", get(list_events))
        .route("/api/v1/events/{id}", get(get_event))
        .route("/api/v1/accounts", post(sign_up))
        .route("/api/v1/accounts/activate", post(activate))
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/password/forgot", post(forgot))
        .route("/api/v1/password/reset", post(reset))
        .route("/api/v1/password/change", post(change_password))
        .route("/api/v1/me", get(me))
        .route("/api/v1/cart", get(get_cart).delete(clear_cart))
        .route("/api/v1/cart/items", put(put_cart_item))
        .route("/api/v1/cart/items/{id}", axum::routing::delete(delete_cart_item))
        .route("/api/v1/checkout", post(checkout))
        .route("/api/v1/orders", get(list_orders))
        .route("/api/v1/orders/{id}", get(get_order))
        .route("/api/v1/orders/{id}/cancel", post(cancel_order))
        .route("/api/v1/payments/{payment_id}/card", post(pay_card))
        .route(crate::shop::payment::WEBHOOK_PATH, post(webhook))
        .route("/api/v1/tickets", get(list_tickets))
        .route("/api/v1/tickets/{id}", get(get_ticket))
        .route("/api/v1/tickets/{id}/qr.png", get(ticket_png))
        .route("/api/v1/tickets/{id}/qr.svg", get(ticket_svg))
        .route("/api/v1/tickets/{id}/transfer", post(transfer))
        .route("/api/v1/tickets/{id}/binding", post(bind_phone))
        .route("/api/v1/transfers/claim", post(claim))
        .route("/api/v1/openapi.json", get(super::openapi::document))
}

pub(crate) fn client_ip(ci: &ConnectInfo<SocketAddr>) -> String {
    ci.0.ip().to_string()
}

async fn list_events(State(s): State<AppState>, ApiQuery(f): ApiQuery<EventFilter>) -> AppResult<Response> {
    let body = s.catalogue.list_json(&s.db, f).await?;
    Ok(([(CONTENT_TYPE, "application/json")], body).into_response())
}

async fn get_event(State(s): State<AppState>, Id(id): Id) -> AppResult<Json<Value>> {
    let e = s.catalogue.event(&s.db, id).await?;
    Ok(Json(json!(*e)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignUpBody {
    email: String,
    password: String,
    #[serde(default)]
    name: String,
    /// Must be `true`: the buyer accepted the terms of sale and the privacy policy (`/terms`,
    /// `/privacy`); recorded as `accounts.terms_accepted_at`.
    #[serde(default)]
    accept_terms: bool,
}

async fn sign_up(
    State(s): State<AppState>,
    ci: ConnectInfo<SocketAddr>,
    ApiJson(b): ApiJson<SignUpBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let email = Email::parse(&b.email)?;
    let password = Password::parse(&b.password)?;
    let name = parse_display_name(&b.name)?;
    let terms = accounts::TermsAccepted::check(b.accept_terms)?;
    accounts::sign_up(&s, &client_ip(&ci), email, password, name, terms).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "message": "check your mailbox: we sent a link to finish signing up" })),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    token: String,
}

async fn activate(State(s): State<AppState>, ApiJson(b): ApiJson<TokenBody>) -> AppResult<Json<Value>> {
    accounts::activate(&s, &b.token).await?;
    Ok(Json(json!({ "message": "account activated: you can log in" })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CartItemBody {
    offer_id: i64,
    quantity: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    email: String,
    password: String,
    /// Guest cart to merge into the account's cart.
    #[serde(default)]
    cart: Vec<CartItemBody>,
}

fn session_response(access: &str, refresh: &str, status: StatusCode) -> Response {
    let mut res = (
        status,
        Json(json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": auth::ACCESS_TTL_SECS,
        })),
    )
        .into_response();
    for c in auth::session_cookies(access, refresh) {
        res.headers_mut().append(SET_COOKIE, c);
    }
    res
}

async fn login(
    State(s): State<AppState>,
    ci: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<LoginBody>,
) -> AppResult<Response> {
    if b.cart.len() > 50 {
        return Err(AppError::bad_request("cart_too_large", "at most 50 cart lines"));
    }
    let cart = b
        .cart
        .iter()
        .map(|i| Quantity::parse(i.quantity).map(|q| (i.offer_id, q.get())))
        .collect::<AppResult<Vec<_>>>()?;
    let kd = auth::get_cookie(&headers, auth::KNOWN_DEVICE_COOKIE);
    let sess = accounts::log_in(&s, &client_ip(&ci), &b.email, &b.password, cart, kd.as_deref()).await?;
    let mut res = session_response(&sess.access, &sess.refresh, StatusCode::OK);
    res.headers_mut().append(SET_COOKIE, sess.known_device);
    Ok(res)
}

async fn refresh(State(s): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let rt = auth::get_cookie(&headers, auth::REFRESH_COOKIE)
        .ok_or_else(|| AppError::Unauthorized("no refresh token cookie".into()))?;
    let now = crate::now();
    match s.db.write(move |tx| auth::rotate_refresh(tx, &rt, now)).await? {
        auth::Rotation::Rotated {
            account_id,
            session_gen,
            token,
        } => {
            let access = auth::issue_access(&s, account_id, session_gen, now)?;
            Ok(session_response(&access, &token, StatusCode::OK))
        }
        auth::Rotation::ReuseDetected => Err(AppError::Unauthorized(
            "this refresh token was already used: every session of its family is ended, log in again".into(),
        )),
        auth::Rotation::Race => Err(AppError::Unauthorized(
            "this refresh token was just used: use the newest one".into(),
        )),
        auth::Rotation::Invalid => Err(AppError::Unauthorized("the refresh token is invalid or expired".into())),
    }
}

fn clear_session(mut res: Response) -> Response {
    res.headers_mut()
        .append(SET_COOKIE, auth::cookie(auth::ACCESS_COOKIE, "", 0));
    res.headers_mut()
        .append(SET_COOKIE, auth::cookie(auth::REFRESH_COOKIE, "", 0));
    res
}

pub(crate) async fn end_session(s: &AppState, headers: &HeaderMap) -> AppResult<()> {
    if let Some(rt) = auth::get_cookie(headers, auth::REFRESH_COOKIE) {
        let now = crate::now();
        s.db.write(move |tx| auth::revoke_by_token(tx, &rt, now)).await?;
    }
    Ok(())
}

async fn logout(State(s): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    end_session(&s, &headers).await?;
    Ok(clear_session(StatusCode::NO_CONTENT.into_response()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForgotBody {
    email: String,
}

async fn forgot(
    State(s): State<AppState>,
    ci: ConnectInfo<SocketAddr>,
    ApiJson(b): ApiJson<ForgotBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let email = Email::parse(&b.email)?;
    accounts::forgot_password(&s, &client_ip(&ci), email).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "message": "if this address has an account, we sent it a reset link" })),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetBody {
    token: String,
    password: String,
}

async fn reset(State(s): State<AppState>, ApiJson(b): ApiJson<ResetBody>) -> AppResult<Json<Value>> {
    let pw = Password::parse(&b.password)?;
    accounts::reset_password(&s, &b.token, pw).await?;
    Ok(Json(json!({ "message": "password changed: log in again" })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangePasswordBody {
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(s): State<AppState>,
    SensitiveUser(user): SensitiveUser,
    ApiJson(b): ApiJson<ChangePasswordBody>,
) -> AppResult<Response> {
    let pw = Password::parse(&b.new_password)?;
    accounts::change_password(&s, &user, &b.current_password, pw).await?;
    Ok(clear_session(
        Json(json!({ "message": "password changed: every session is ended, log in again" })).into_response(),
    ))
}

async fn me(user: AuthUser) -> Json<Value> {
    Json(json!({ "id": user.id, "email": user.email, "name": user.display_name, "role": user.role }))
}

async fn get_cart(State(s): State<AppState>, user: AuthUser) -> AppResult<Json<Value>> {
    let cart = s.db.read(move |c| shop::account_cart(c, user.id)).await?;
    Ok(Json(json!(cart)))
}

async fn clear_cart(State(s): State<AppState>, user: AuthUser) -> AppResult<StatusCode> {
    s.db.write_scoped(WriteScope::Account(user.id), move |tx| shop::clear_cart(tx, user.id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn put_cart_item(
    State(s): State<AppState>,
    user: AuthUser,
    ApiJson(b): ApiJson<CartItemBody>,
) -> AppResult<Json<Value>> {
    let q = Quantity::parse(b.quantity)?;
    let cart =
        s.db.write_scoped(WriteScope::Account(user.id), move |tx| {
            shop::set_cart_item(tx, user.id, b.offer_id, q)?;
            shop::account_cart(tx, user.id)
        })
        .await?;
    Ok(Json(json!(cart)))
}

async fn delete_cart_item(State(s): State<AppState>, user: AuthUser, Id(offer): Id) -> AppResult<Json<Value>> {
    let cart =
        s.db.write_scoped(WriteScope::Account(user.id), move |tx| {
            shop::remove_cart_item(tx, user.id, offer)?;
            shop::account_cart(tx, user.id)
        })
        .await?;
    Ok(Json(json!(cart)))
}

/// Checkout: `Idempotency-Key` header required.
async fn checkout(
    State(s): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
) -> AppResult<(StatusCode, Json<Value>)> {
    let raw = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| AppError::bad_request("missing_idempotency_key", "send an Idempotency-Key header"))?;
    let key = IdempotencyKey::parse(raw)?;
    let order = crate::shop::actions::place_order(&s, user.id, key).await?;
    Ok((StatusCode::CREATED, Json(json!(order))))
}

async fn list_orders(State(s): State<AppState>, user: AuthUser) -> AppResult<Json<Value>> {
    let base = s.base_url.to_string();
    let orders = s.db.read(move |c| shop::list_orders(c, user.id, &base)).await?;
    Ok(Json(json!({ "orders": orders })))
}

async fn get_order(State(s): State<AppState>, user: AuthUser, Id(id): Id) -> AppResult<Json<Value>> {
    let base = s.base_url.to_string();
    let o = s.db.read(move |c| shop::get_order(c, user.id, id, &base)).await?;
    Ok(Json(json!(o)))
}

async fn cancel_order(
    State(s): State<AppState>,
    SensitiveUser(user): SensitiveUser,
    Id(id): Id,
) -> AppResult<Json<Value>> {
    let o = crate::shop::actions::buyer_cancel(&s, user.id, id).await?;
    Ok(Json(json!(o)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardBody {
    card_number: String,
}

/// The built-in processor's API (what its hosted page posts).
async fn pay_card(
    State(s): State<AppState>,
    Path(payment_id): Path<String>,
    ApiJson(b): ApiJson<CardBody>,
) -> AppResult<Json<Value>> {
    let (outcome, order_id) = crate::shop::payment::pay_with_card(&s, payment_id, &b.card_number).await?;
    let status = match outcome {
        crate::shop::payment::CardOutcome::Succeeded => "succeeded",
        crate::shop::payment::CardOutcome::Declined => "declined",
    };
    Ok(Json(json!({ "status": status, "order_id": order_id })))
}

async fn webhook(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> AppResult<Json<Value>> {
    let sig = headers
        .get(crate::shop::payment::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let outcome = crate::shop::webhook::handle_webhook(&s, sig, &body).await?;
    Ok(Json(json!({ "received": true, "outcome": outcome })))
}

async fn list_tickets(State(s): State<AppState>, user: AuthUser) -> AppResult<Json<Value>> {
    let t: Vec<shop::TicketView> = s.db.read(move |c| shop::list_tickets(c, user.id)).await?;
    let t: Vec<shop::TicketView> = t.into_iter().map(shop::TicketView::for_api).collect();
    Ok(Json(json!({ "tickets": t })))
}

async fn get_ticket(State(s): State<AppState>, user: AuthUser, Id(id): Id) -> AppResult<Json<Value>> {
    let t = s.db.read(move |c| shop::get_ticket(c, user.id, id)).await?;
    Ok(Json(json!(t.for_api())))
}

async fn ticket_png(State(s): State<AppState>, user: AuthUser, Id(id): Id) -> AppResult<Response> {
    let text = crate::shop::actions::valid_qr_text(&s, user.id, id).await?;
    let png = crate::trust::qr_image::png(&text, 8)?;
    Ok((
        [
            (CONTENT_TYPE, "image/png"),
            (axum::http::header::CACHE_CONTROL, "private, no-store"),
        ],
        png,
    )
        .into_response())
}

async fn ticket_svg(State(s): State<AppState>, user: AuthUser, Id(id): Id) -> AppResult<Response> {
    let text = crate::shop::actions::valid_qr_text(&s, user.id, id).await?;
    let svg = crate::trust::qr_image::svg(&text)?;
    Ok((
        [
            (CONTENT_TYPE, "image/svg+xml"),
            (axum::http::header::CACHE_CONTROL, "private, no-store"),
        ],
        svg,
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BindBody {
    /// The phone's P-256 public key, SEC1 (compressed or uncompressed), base64url.
    public_key: String,
}

/// The holder binds the ticket to their phone: the answer is the issuer-signed bound ticket, the
/// issuer's clock (the phone's offset) and the rotation period. Another phone may take over a
/// limited number of times (409 `too_many_rebinds` after that); the previous phone's key is
/// revoked in the same transaction.
async fn bind_phone(
    State(s): State<AppState>,
    SensitiveUser(user): SensitiveUser,
    Id(id): Id,
    ApiJson(b): ApiJson<BindBody>,
) -> AppResult<Json<Value>> {
    let key = crate::shop::binding::parse_device_key(&b.public_key)?;
    let now = crate::now();
    let signer = s.signer.clone();
    let phone = s.settings.phone;
    let uid = user.id;
    let (bound, holder) =
        s.db.write(move |tx| {
            let bound = crate::shop::binding::bind_phone(tx, &signer, uid, id, &key, phone.max_rebinds, now)?;
            let t = shop::get_ticket(tx, uid, id)?;
            Ok((bound, t.holder_name))
        })
        .await?;
    if bound.replaced_phone {
        tracing::info!(
            account = uid,
            serial = id,
            "ticket moved to another phone: the previous key is revoked"
        );
    }
    Ok(Json(json!({
        "serial": bound.serial,
        "bound_ticket": bound.bound_ticket,
        "binding_no": bound.binding_no,
        "rebinds_left": bound.rebinds_left,
        "replaced_phone": bound.replaced_phone,
        "holder_name": holder,
        "issuer_time_ms": crate::now_ms(),
        "rotation_period_secs": phone.rotation_period_secs,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransferBody {
    to_email: String,
}

async fn transfer(
    State(s): State<AppState>,
    SensitiveUser(user): SensitiveUser,
    Id(id): Id,
    ApiJson(b): ApiJson<TransferBody>,
) -> AppResult<Response> {
    let to = Email::parse(&b.to_email)?;
    crate::shop::actions::transfer(&s, &user, id, to).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "message": TRANSFER_SENT }))).into_response())
}

/// What the sender is told, whether or not the recipient has an account (nothing to enumerate).
pub(crate) const TRANSFER_SENT: &str =
    "ticket sent: the recipient gets it at once if they have an account, or an invitation by mail to claim it";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimBody {
    token: String,
}

/// The signed-in recipient of an invitation claims the ticket.
async fn claim(
    State(s): State<AppState>,
    SensitiveUser(user): SensitiveUser,
    ApiJson(b): ApiJson<ClaimBody>,
) -> AppResult<Json<Value>> {
    let t = crate::shop::actions::claim(&s, user.id, b.token).await?;
    Ok(Json(
        json!({ "serial": t.serial, "generation": t.generation, "admits": t.admits }),
    ))
}
