//! Server-rendered web pages of the shop (maud): catalogue, event, cart, sign-up, activation,
//! login, password reset, checkout, the built-in processor's hosted payment page, orders, my
//! tickets and the printable ticket. Plain HTML forms (POST, then 303 redirect), no JavaScript.
//!
//! Guests keep their cart in the `__Host-og_cart` cookie (`offer-qty.offer-qty`); it is
//! merged into the account's cart at login. Signed-in pages use the session cookies set at
//! login (see `auth`); an expired access cookie is refreshed by the `refresh_pages` middleware.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use super::extract::{ApiForm, ApiQuery, Id};
use super::shop_api::client_ip;
use crate::accounts;
use crate::auth::{self, AuthUser, MaybeUser};
use crate::domain::{Email, IdempotencyKey, MAX_QUANTITY, Password, Quantity, parse_display_name};
use crate::error::AppError;
use crate::lifecycle::Sale;
use crate::shop::{self, EventFilter};
use crate::state::AppState;
use crate::web::{csrf_field, euros, notice, page, when};

pub const CART_COOKIE: &str = "__Host-og_cart";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(catalogue))
        .route("/events/{id}", get(event_page))
        .route("/cart", get(cart_page))
        .route("/cart/add", post(cart_add))
        .route("/cart/update", post(cart_update))
        .route("/checkout", post(checkout))
        .route("/signup", get(signup_page).post(signup))
        .route("/activate", get(activate_page).post(activate))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/password/forgot", get(forgot_page).post(forgot))
        .route("/password/reset", get(reset_page).post(reset))
        .route("/orders", get(orders_page))
        .route("/orders/{id}", get(order_page))
        .route("/orders/{id}/refund", get(order_refund_page))
        .route("/orders/{id}/cancel", post(order_cancel))
        .route("/pay/{payment_id}", get(pay_page).post(pay))
        .route("/tickets", get(tickets_page))
        .route("/tickets/{id}", get(ticket_page))
        .route("/tickets/{id}/transfer", post(ticket_transfer))
        .route("/claim", get(claim_page).post(claim))
}

/// An error shown as a page (sign-in errors redirect to the login page).
pub struct PageError(AppError, Option<Box<AuthUser>>);

impl PageError {
    /// An error shown on a page with the signed-in user's navigation.
    pub(crate) fn with_user(e: AppError, u: &AuthUser) -> PageError {
        PageError(e, Some(Box::new(u.clone())))
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> PageError {
        PageError(e, None)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let PageError(e, user) = self;
        if matches!(e, AppError::Unauthorized(_)) {
            return see_other("/login");
        }
        if let AppError::Internal(detail) = &e {
            tracing::error!(%detail, "internal error");
        }
        let status = e.status();
        let body = page(
            "Problem",
            user.as_deref(),
            html! {
                h1 { (if status.is_client_error() { "That did not work" } else { "Something went wrong" }) }
                (notice("error", &e.public_message()))
                p { a href="/" { "Back to the events" } }
            },
        );
        let mut res = (status, body).into_response();
        e.add_retry_after(&mut res);
        res
    }
}

type PageResult = Result<Response, PageError>;

fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

pub(crate) fn need(user: MaybeUser) -> Result<AuthUser, PageError> {
    user.0
        .ok_or_else(|| PageError(AppError::Unauthorized("sign in".into()), None))
}

/// Guest cart from its cookie: up to 20 lines, malformed parts ignored.
pub fn guest_cart(headers: &HeaderMap) -> Vec<(i64, i64)> {
    auth::get_cookie(headers, CART_COOKIE)
        .unwrap_or_default()
        .split('.')
        .filter_map(|p| {
            let (o, q) = p.split_once('-')?;
            let o: i64 = o.parse().ok()?;
            let q = Quantity::parse(q.parse().ok()?).ok()?;
            Some((o, q.get()))
        })
        .take(20)
        .collect()
}

fn guest_cookie(items: &[(i64, i64)]) -> HeaderValue {
    let v: Vec<String> = items.iter().map(|(o, q)| format!("{o}-{q}")).collect();
    auth::cookie(
        CART_COOKIE,
        &v.join("."),
        if items.is_empty() { 0 } else { 30 * 24 * 3600 },
    )
}

// ---- catalogue ----

async fn catalogue(State(s): State<AppState>, user: MaybeUser, ApiQuery(f): ApiQuery<EventFilter>) -> PageResult {
    let events = s.catalogue.list(&s, f.clone()).await?;
    let events: &[shop::EventView] = &events;
    let facets = s.catalogue.facets(&s).await?;
    let (sports, venues, days): (&[String], &[String], &[String]) = (&facets.0, &facets.1, &facets.2);
    let sel = |v: &Option<String>, x: &str| v.as_deref() == Some(x);
    let body = html! {
        h1 { "Events" }
        form.filters method="get" action="/" aria-label="Filter events" {
            div { label for="sport" { "Sport" }
                select #sport name="sport" { option value="" { "All sports" }
                    @for x in sports { option value=(x) selected[sel(&f.sport, x)] { (x) } } } }
            div { label for="day" { "Day" }
                select #day name="day" { option value="" { "All days" }
                    @for x in days { option value=(x) selected[sel(&f.day, x)] { (x) } } } }
            div { label for="venue" { "Venue" }
                select #venue name="venue" { option value="" { "All venues" }
                    @for x in venues { option value=(x) selected[sel(&f.venue, x)] { (x) } } } }
            div { button type="submit" { "Show" } }
        }
        @if events.is_empty() { (notice("", "No event matches these filters.")) }
        div.grid {
            @for e in events {
                article.card {
                    span.sport { (e.sport) }
                    h2 { a href={ "/events/" (e.id) } { (e.name) } }
                    p.meta { (e.venue) br; (when(e.starts_at)) }
                    @if e.sale.is_open() {
                        p { (e.capacity_left) " of " (e.capacity) " seats left" }
                        p.meta { "From " (euros(e.offers.iter().map(|o| o.price_cents).min().unwrap_or(0))) }
                        a.button href={ "/events/" (e.id) } aria-label={ "Choose tickets for " (e.name) } { "Choose tickets" }
                    } @else {
                        p.status.off-sale { (sale_line(e.sale)) }
                        a href={ "/events/" (e.id) } { "See the event" }
                    }
                }
            }
        }
    };
    Ok(page("Events", user.0.as_ref(), body).into_response())
}

async fn event_page(State(s): State<AppState>, user: MaybeUser, Id(id): Id) -> PageResult {
    let e = s.catalogue.event(&s, id).await?;
    let body = html! {
        p { a href="/" { "← All events" } }
        span.sport { (e.sport) }
        h1 { (e.name) }
        p.meta { (e.venue) " · " (when(e.starts_at)) br; "Doors open " (when(e.doors_open)) }
        @if e.sale.is_open() {
            p { strong { (e.capacity_left) } " of " (e.capacity) " seats left" }
            p.meta { (sale_line(e.sale)) }
        } @else {
            (notice(if matches!(e.sale, Sale::Cancelled) { "error" } else { "" }, &sale_line(e.sale)))
        }
        @if e.sale.is_open() {
        section.card aria-labelledby="offers-h" {
            h2 #offers-h { "Offers" }
            ul.offers {
                @for o in &e.offers {
                    li {
                        div {
                            strong { (title_case(&o.kind)) } " — admits " (o.admits) (if o.admits == 1 { " person" } else { " people" })
                            br; span.meta { (euros(o.price_cents)) " per ticket" }
                        }
                        @if e.capacity_left < i64::from(o.admits) {
                            p.status { "Sold out" }
                        } @else {
                        form method="post" action="/cart/add" {
                            (csrf_field())
                            input type="hidden" name="offer_id" value=(o.id);
                            label for={ "q" (o.id) } style="display:inline;margin-right:6px" { "Quantity" }
                            select id={ "q" (o.id) } name="quantity" {
                                @for q in 1..=MAX_QUANTITY { option value=(q) { (q) } }
                            }
                            " "
                            button type="submit" name="add" value=(o.kind) { "Add " (title_case(&o.kind)) " to cart" }
                        }
                        }
                    }
                }
            }
        }
        }
    };
    Ok(page(&e.name, user.0.as_ref(), body).into_response())
}

/// Where an event's sale stands, in one sentence.
fn sale_line(s: Sale) -> String {
    match s {
        Sale::Open { closes_at } => format!("On sale until {}.", when(closes_at)),
        Sale::NotYet { opens_at } => format!("Not on sale yet: sales open {}.", when(opens_at)),
        Sale::Closed => "Sales are closed for this event.".to_owned(),
        Sale::Cancelled => {
            "This event is cancelled. Its tickets no longer admit anyone; buyers are refunded automatically.".to_owned()
        }
    }
}

pub(crate) fn title_case(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

// ---- cart ----

#[derive(Deserialize)]
struct CartForm {
    offer_id: i64,
    quantity: i64,
    #[serde(default, rename = "add")]
    _add: Option<String>,
}

async fn cart_add(
    State(s): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    ApiForm(f): ApiForm<CartForm>,
) -> PageResult {
    set_line(&s, user, &headers, f.offer_id, f.quantity, true).await
}

async fn cart_update(
    State(s): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    ApiForm(f): ApiForm<CartForm>,
) -> PageResult {
    set_line(&s, user, &headers, f.offer_id, f.quantity, false).await
}

async fn set_line(s: &AppState, user: MaybeUser, headers: &HeaderMap, offer: i64, qty: i64, add: bool) -> PageResult {
    match user.0 {
        Some(u) => {
            let uid = u.id;
            s.db.write(move |tx| {
                let existing = if add { shop::cart_quantity(tx, uid, offer)? } else { 0 };
                if qty == 0 && !add {
                    return shop::remove_cart_item(tx, uid, offer);
                }
                shop::set_cart_item(tx, uid, offer, Quantity::parse(existing + qty)?)
            })
            .await
            .map_err(|e| PageError(e, Some(Box::new(u))))?;
            Ok(see_other("/cart"))
        }
        None => {
            let mut items = guest_cart(headers);
            let existing = items.iter().find(|(o, _)| *o == offer).map(|x| x.1).unwrap_or(0);
            items.retain(|(o, _)| *o != offer);
            if qty != 0 || add {
                let q = Quantity::parse(if add { existing + qty } else { qty })?;
                s.db.read(move |c| shop::check_fits(c, offer, q)).await?;
                items.push((offer, q.get()));
            }
            let mut r = see_other("/cart");
            r.headers_mut().append(SET_COOKIE, guest_cookie(&items));
            Ok(r)
        }
    }
}

async fn cart_page(State(s): State<AppState>, user: MaybeUser, headers: HeaderMap) -> PageResult {
    let guest = guest_cart(&headers);
    let uid = user.0.as_ref().map(|u| u.id);
    let cart =
        s.db.read(move |c| match uid {
            Some(id) => shop::account_cart(c, id),
            None => shop::resolve_lines(c, &guest),
        })
        .await?;
    let key = auth::random_token();
    let body = html! {
        h1 { "Your cart" }
        @if cart.items.is_empty() {
            p { "Your cart is empty. " a href="/" { "Browse the events" } "." }
        } @else {
            table {
                thead { tr { th scope="col" { "Event" } th scope="col" { "Offer" } th scope="col" { "Quantity" } th scope="col" { "Price" } } }
                tbody {
                    @for l in &cart.items {
                        tr {
                            td { a href={ "/events/" (l.event_id) } { (l.event_name) } br; span.meta { (l.sport) } }
                            td { (title_case(&l.kind)) " (admits " (l.admits) ")" }
                            td {
                                form method="post" action="/cart/update" {
                                    (csrf_field())
                                    input type="hidden" name="offer_id" value=(l.offer_id);
                                    label.meta for={ "cq" (l.offer_id) } style="display:inline" { "Quantity " }
                                    input id={ "cq" (l.offer_id) } type="number" name="quantity" min="0" max=(MAX_QUANTITY) value=(l.quantity) style="width:5em";
                                    " " button.secondary type="submit" { "Update" }
                                }
                            }
                            td { (euros(l.quantity * l.unit_price_cents)) }
                        }
                    }
                }
                tfoot { tr { th colspan="3" { "Total" } th { (euros(cart.total_cents)) } } }
            }
            p.meta { "Set a quantity to 0 to remove a line." }
            @if user.0.is_some() {
                form method="post" action="/checkout" {
                    (csrf_field())
                    input type="hidden" name="idempotency_key" value=(&key[..32]);
                    button type="submit" { "Check out and pay " (euros(cart.total_cents)) }
                }
            } @else {
                p { a.button href="/login?next=/cart" { "Log in to check out" } " or " a href="/signup" { "create an account" } }
            }
        }
    };
    Ok(page("Cart", user.0.as_ref(), body).into_response())
}

#[derive(Deserialize)]
struct CheckoutForm {
    idempotency_key: String,
}

async fn checkout(State(s): State<AppState>, user: MaybeUser, ApiForm(f): ApiForm<CheckoutForm>) -> PageResult {
    let u = need(user)?;
    let key = IdempotencyKey::parse(&f.idempotency_key)?;
    let order = super::shop_api::place_order(&s, u.id, key)
        .await
        .map_err(|e| PageError(e, Some(Box::new(u.clone()))))?;
    Ok(see_other(
        order.payment_url.as_deref().unwrap_or(&format!("/orders/{}", order.id)),
    ))
}

// ---- accounts ----

fn form_page(title: &str, user: Option<&AuthUser>, msg: Option<Markup>, form: Markup) -> Response {
    page(
        title,
        user,
        html! { div.narrow { h1 { (title) } @if let Some(m) = msg { (m) } (form) } },
    )
    .into_response()
}

fn signup_form() -> Markup {
    html! {
        form method="post" action="/signup" {
            (csrf_field())
            label for="email" { "Email" }
            input #email type="email" name="email" required autocomplete="email" maxlength="254";
            label for="name" { "Name on your tickets" }
            input #name type="text" name="name" autocomplete="name" maxlength="80";
            label for="password" { "Password" }
            input #password type="password" name="password" required minlength="8" maxlength="128" autocomplete="new-password" aria-describedby="pwhelp";
            p #pwhelp .meta { "8 to 128 characters. A long phrase is best." }
            button type="submit" { "Create account" }
        }
        p { "Already registered? " a href="/login" { "Log in" } }
    }
}

async fn signup_page(user: MaybeUser) -> Response {
    form_page("Create an account", user.0.as_ref(), None, signup_form())
}

#[derive(Deserialize)]
struct SignupForm {
    email: String,
    password: String,
    #[serde(default)]
    name: String,
}

async fn signup(State(s): State<AppState>, ci: ConnectInfo<SocketAddr>, ApiForm(f): ApiForm<SignupForm>) -> PageResult {
    let parsed = (|| {
        Ok::<_, AppError>((
            Email::parse(&f.email)?,
            Password::parse(&f.password)?,
            parse_display_name(&f.name)?,
        ))
    })();
    let (email, pw, name) = match parsed {
        Ok(x) => x,
        Err(e) => {
            let mut r = form_page(
                "Create an account",
                None,
                Some(notice("error", &e.public_message())),
                signup_form(),
            );
            *r.status_mut() = StatusCode::BAD_REQUEST;
            return Ok(r);
        }
    };
    accounts::sign_up(&s, &client_ip(&ci), email, pw, name).await?;
    let demo = s.settings.smtp.is_none();
    Ok(page(
        "Check your mail",
        None,
        html! {
            h1 { "Check your mailbox" }
            (notice("ok", "We sent a link to finish signing up. It is valid for 48 hours."))
            @if demo {
                p.meta { "Demo mode: no mail server is configured, so the mail was written to "
                    code { (s.settings.mail_dir().display()) } " and the activation link is in the issuer's log." }
            }
        },
    )
    .into_response())
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

async fn activate_page(ApiQuery(q): ApiQuery<TokenQuery>) -> Response {
    form_page(
        "Activate your account",
        None,
        None,
        html! {
            form method="post" action="/activate" {
                (csrf_field())
                input type="hidden" name="token" value=(q.token);
                p { "One click and your account is ready." }
                button type="submit" { "Activate my account" }
            }
        },
    )
}

async fn activate(State(s): State<AppState>, ApiForm(q): ApiForm<TokenQuery>) -> PageResult {
    accounts::activate(&s, &q.token).await?;
    Ok(form_page(
        "Account activated",
        None,
        Some(notice("ok", "Your account is active. Log in to buy tickets.")),
        html! { a.button href="/login" { "Log in" } },
    ))
}

#[derive(Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: String,
}

fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_owned()
    } else {
        "/tickets".to_owned()
    }
}

fn login_form(next: &str) -> Markup {
    html! {
        form method="post" action="/login" {
            (csrf_field())
            input type="hidden" name="next" value=(next);
            label for="email" { "Email" }
            input #email type="email" name="email" required autocomplete="username";
            label for="password" { "Password" }
            input #password type="password" name="password" required autocomplete="current-password";
            p { button type="submit" { "Log in" } }
        }
        p { a href="/password/forgot" { "Forgot your password?" } " · " a href="/signup" { "Create an account" } }
    }
}

async fn login_page(user: MaybeUser, ApiQuery(q): ApiQuery<NextQuery>) -> Response {
    form_page("Log in", user.0.as_ref(), None, login_form(&safe_next(&q.next)))
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(
    State(s): State<AppState>,
    ci: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiForm(f): ApiForm<LoginForm>,
) -> PageResult {
    let next = safe_next(&f.next);
    let kd = auth::get_cookie(&headers, auth::KNOWN_DEVICE_COOKIE);
    match accounts::log_in(
        &s,
        &client_ip(&ci),
        &f.email,
        &f.password,
        guest_cart(&headers),
        kd.as_deref(),
    )
    .await
    {
        Ok(sess) => {
            let mut r = see_other(&next);
            for c in sess.cookies() {
                r.headers_mut().append(SET_COOKIE, c);
            }
            r.headers_mut().append(SET_COOKIE, guest_cookie(&[]));
            Ok(r)
        }
        Err(e @ (AppError::Unauthorized(_) | AppError::Forbidden(_) | AppError::TooManyRequests { .. })) => {
            let mut r = form_page(
                "Log in",
                None,
                Some(notice("error", &e.public_message())),
                login_form(&next),
            );
            *r.status_mut() = e.status();
            e.add_retry_after(&mut r);
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

async fn logout(State(s): State<AppState>, headers: HeaderMap) -> PageResult {
    super::shop_api::end_session(&s, &headers).await?;
    let mut r = see_other("/");
    r.headers_mut()
        .append(SET_COOKIE, auth::cookie(auth::ACCESS_COOKIE, "", 0));
    r.headers_mut()
        .append(SET_COOKIE, auth::cookie(auth::REFRESH_COOKIE, "", 0));
    Ok(r)
}

async fn forgot_page() -> Response {
    form_page(
        "Forgot your password?",
        None,
        None,
        html! {
            form method="post" action="/password/forgot" {
                (csrf_field())
                label for="email" { "Email" }
                input #email type="email" name="email" required autocomplete="email";
                p { button type="submit" { "Mail me a reset link" } }
            }
        },
    )
}

#[derive(Deserialize)]
struct EmailForm {
    email: String,
}

async fn forgot(State(s): State<AppState>, ci: ConnectInfo<SocketAddr>, ApiForm(f): ApiForm<EmailForm>) -> PageResult {
    let email = Email::parse(&f.email)?;
    accounts::forgot_password(&s, &client_ip(&ci), email).await?;
    Ok(form_page(
        "Check your mail",
        None,
        Some(notice(
            "ok",
            "If this address has an account, we sent it a link to reset the password.",
        )),
        html! {},
    ))
}

async fn reset_page(ApiQuery(q): ApiQuery<TokenQuery>) -> Response {
    form_page(
        "Choose a new password",
        None,
        None,
        html! {
            form method="post" action="/password/reset" {
                (csrf_field())
                input type="hidden" name="token" value=(q.token);
                label for="password" { "New password" }
                input #password type="password" name="password" required minlength="8" maxlength="128" autocomplete="new-password";
                p { button type="submit" { "Save" } }
            }
        },
    )
}

#[derive(Deserialize)]
struct ResetForm {
    token: String,
    password: String,
}

async fn reset(State(s): State<AppState>, ApiForm(f): ApiForm<ResetForm>) -> PageResult {
    let pw = Password::parse(&f.password)?;
    accounts::reset_password(&s, &f.token, pw).await?;
    Ok(form_page(
        "Password changed",
        None,
        Some(notice(
            "ok",
            "Your password is changed and your other sessions are ended.",
        )),
        html! { a.button href="/login" { "Log in" } },
    ))
}

// ---- orders and payment ----

async fn orders_page(State(s): State<AppState>, user: MaybeUser) -> PageResult {
    let u = need(user)?;
    let uid = u.id;
    let base = s.base_url.to_string();
    let orders = s.db.read(move |c| shop::list_orders(c, uid, &base)).await?;
    let body = html! {
        h1 { "Your orders" }
        @if orders.is_empty() { p { "No orders yet." } }
        @else {
            table {
                thead { tr { th scope="col" { "Order" } th scope="col" { "Placed" } th scope="col" { "Status" } th scope="col" { "Total" } } }
                tbody { @for o in &orders { tr {
                    td { a href={ "/orders/" (o.id) } { "#" (o.id) } }
                    td { (when(o.created_at)) }
                    td.status { (o.status) }
                    td { (euros(o.total_cents)) }
                } } }
            }
        }
    };
    Ok(page("Orders", Some(&u), body).into_response())
}

async fn order_page(State(s): State<AppState>, user: MaybeUser, Id(id): Id) -> PageResult {
    let u = need(user)?;
    let o = load_order(&s, &u, id).await?;
    Ok(page(&format!("Order #{}", o.id), Some(&u), order_body(&o, None)).into_response())
}

async fn load_order(s: &AppState, u: &AuthUser, id: i64) -> Result<shop::OrderView, PageError> {
    let uid = u.id;
    let base = s.base_url.to_string();
    s.db.read(move |c| shop::get_order(c, uid, id, &base))
        .await
        .map_err(|e| PageError(e, Some(Box::new(u.clone()))))
}

fn order_body(o: &shop::OrderView, msg: Option<Markup>) -> Markup {
    html! {
        h1 { "Order #" (o.id) }
        @if let Some(m) = msg { (m) }
        p { "Status: " span.status { (o.status) } }
        @match o.status.as_str() {
            "paid" => { (notice("ok", "Paid. Your tickets are ready.")) p { a.button href="/tickets" { "See my tickets" }
                " " a.button.secondary href={ "/orders/" (o.id) "/tickets.pdf" } { "Tickets as PDF" } } }
            "pending" => {
                (notice("", &format!("Waiting for payment. Seats are held until {}.", when(o.expires_at))))
                @if let Some(url) = &o.payment_url { p { a.button href=(url) { "Pay " (euros(o.total_cents)) } } }
            }
            _ => {}
        }
        table {
            thead { tr { th scope="col" { "Event" } th scope="col" { "Offer" } th scope="col" { "Qty" } th scope="col" { "Price" } } }
            tbody { @for l in &o.lines { tr {
                td { (l.event_name) } td { (title_case(&l.kind)) } td { (l.quantity) } td { (euros(l.quantity * l.unit_price_cents)) }
            } } }
            tfoot { tr { th colspan="3" { "Total" } th { (euros(o.total_cents)) } } }
        }
        @if !o.tickets.is_empty() {
            h2 { "Tickets" }
            ul.order-tickets {
                @for t in &o.tickets {
                    li { "Ticket #" (t.serial) " · " (t.event_name) " · " (title_case(&t.offer)) ": "
                        strong.ticket-state { (t.summary(when)) } }
                }
            }
        }
        @if o.status == crate::domain::OrderStatus::Pending {
            form.noprint method="post" action={ "/orders/" (o.id) "/cancel" } style="margin-top:16px" {
                (csrf_field())
                button.danger type="submit" { "Cancel this order" }
            }
        }
        @match &o.refund {
            Some(Ok(until)) => {
                p.meta { "You can refund this order until " (when(*until)) "." }
                p.noprint { a.button.danger href={ "/orders/" (o.id) "/refund" } { "Refund this order…" } }
            }
            Some(Err(r)) => { p.meta.refund-refusal { "No refund: " (r.message) "." } }
            None => {}
        }
    }
}

/// Asks before a refund: what stops working and what comes back.
async fn order_refund_page(State(s): State<AppState>, user: MaybeUser, Id(id): Id) -> PageResult {
    let u = need(user)?;
    let o = load_order(&s, &u, id).await?;
    let body = match &o.refund {
        Some(Ok(_)) => html! {
            h1 { "Refund order #" (o.id) "?" }
            (notice("", &format!(
                "Your {} ticket(s) stop working at every gate at once, and {} is owed back to the card you paid with. This cannot be undone.",
                o.tickets.len(), euros(o.total_cents)
            )))
            form method="post" action={ "/orders/" (o.id) "/cancel" } {
                (csrf_field())
                input type="hidden" name="confirm" value="yes";
                button.danger type="submit" { "Yes, refund order #" (o.id) }
                " " a href={ "/orders/" (o.id) } { "No, keep my tickets" }
            }
        },
        _ => order_body(&o, None),
    };
    Ok(page(&format!("Refund order #{}", o.id), Some(&u), body).into_response())
}

#[derive(Deserialize, Default)]
struct ConfirmForm {
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    email: String,
}

async fn order_cancel(
    State(s): State<AppState>,
    user: MaybeUser,
    Id(id): Id,
    ApiForm(f): ApiForm<ConfirmForm>,
) -> PageResult {
    let u = need(user)?;
    u.ensure_current_session()?;
    let o = load_order(&s, &u, id).await?;
    if o.status == crate::domain::OrderStatus::Paid && f.confirm != "yes" {
        return Ok(see_other(&format!("/orders/{id}/refund")));
    }
    let uid = u.id;
    let now = crate::now();
    match s.db.write(move |tx| shop::cancel_order(tx, uid, id, now)).await {
        Ok(_) => Ok(see_other(&format!("/orders/{id}"))),
        // Refused (deadline passed meanwhile, a ticket used...): the order page says why.
        Err(e @ AppError::Conflict { .. }) => {
            let o = load_order(&s, &u, id).await?;
            let mut r = page(
                &format!("Order #{id}"),
                Some(&u),
                order_body(&o, Some(notice("error", &e.public_message()))),
            )
            .into_response();
            *r.status_mut() = StatusCode::CONFLICT;
            Ok(r)
        }
        Err(e) => Err(PageError(e, Some(Box::new(u)))),
    }
}

fn pay_form(p: &crate::payment::PaymentFacts, msg: Option<Markup>) -> Markup {
    html! {
        div.narrow {
            p.meta { "OG Pay · test mode · hosted payment page" }
            h1 { "Pay " (euros(p.amount_cents)) }
            p.meta { "Payment " code { (p.id) } " for order #" (p.order_id) }
            @if let Some(m) = msg { (m) }
            form method="post" action={ "/pay/" (p.id) } {
                (csrf_field())
                label for="card" { "Card number" }
                input #card name="card_number" inputmode="numeric" autocomplete="cc-number" required maxlength="23" placeholder="4242 4242 4242 4242" aria-describedby="cards";
                label for="exp" { "Expiry (MM/YY)" }
                input #exp name="expiry" autocomplete="cc-exp" placeholder="12/34" maxlength="5";
                label for="cvc" { "CVC" }
                input #cvc name="cvc" autocomplete="cc-csc" placeholder="123" maxlength="4";
                p { button type="submit" { "Pay " (euros(p.amount_cents)) } }
            }
            div #cards .notice { "Test cards: " code { "4242 4242 4242 4242" } " succeeds, " code { "4000 0000 0000 0002" } " is declined. Any expiry and CVC." }
        }
    }
}

async fn pay_page(State(s): State<AppState>, user: MaybeUser, Path(pid): Path<String>) -> PageResult {
    let p = crate::payment::payment_facts(&s, pid).await?;
    if p.status == "succeeded" || p.order_status != "pending" {
        return Ok(see_other(&format!("/orders/{}", p.order_id)));
    }
    let msg = (p.status == "declined").then(|| notice("error", "The last card was declined. Try another card."));
    Ok(page("Payment", user.0.as_ref(), pay_form(&p, msg)).into_response())
}

#[derive(Deserialize)]
struct PayForm {
    card_number: String,
    #[serde(default)]
    #[allow(dead_code)]
    expiry: String,
    #[serde(default)]
    #[allow(dead_code)]
    cvc: String,
}

async fn pay(
    State(s): State<AppState>,
    user: MaybeUser,
    Path(pid): Path<String>,
    ApiForm(f): ApiForm<PayForm>,
) -> PageResult {
    match crate::payment::pay_with_card(&s, pid.clone(), &f.card_number).await {
        Ok((crate::payment::CardOutcome::Succeeded, order_id)) => Ok(see_other(&format!("/orders/{order_id}"))),
        Ok((crate::payment::CardOutcome::Declined, _)) => Ok(see_other(&format!("/pay/{pid}"))),
        Err(e @ AppError::BadRequest { .. }) => {
            let p = crate::payment::payment_facts(&s, pid).await?;
            let mut r = page(
                "Payment",
                user.0.as_ref(),
                pay_form(&p, Some(notice("error", &e.public_message()))),
            )
            .into_response();
            *r.status_mut() = StatusCode::BAD_REQUEST;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

// ---- tickets ----

fn inline_svg(text: &str) -> Result<Markup, AppError> {
    let svg = crate::qr_image::svg(text)?;
    // Drop the XML prolog and fixed size so the code scales with its box.
    let start = svg.find("<svg").unwrap_or(0);
    let svg = svg[start..]
        .replacen(" width=", " data-w=", 1)
        .replacen(" height=", " data-h=", 1);
    let svg = svg.replacen("<svg ", "<svg role=\"img\" aria-label=\"Ticket QR code\" ", 1);
    Ok(PreEscaped(svg))
}

async fn tickets_page(State(s): State<AppState>, user: MaybeUser) -> PageResult {
    let u = need(user)?;
    let uid = u.id;
    let (tickets, given) =
        s.db.read(move |c| Ok((shop::list_tickets(c, uid)?, shop::given_tickets(c, uid)?)))
            .await?;
    let body = html! {
        h1 { "My tickets" }
        @if tickets.is_empty() && given.is_empty() { p { "No tickets yet. " a href="/" { "Find an event" } "." } }
        div.grid {
            @for t in &tickets {
                article.card {
                    span.sport { (t.sport) }
                    h2 { (t.event_name) }
                    p.meta { (t.venue) br; (when(t.starts_at)) }
                    p { strong { (title_case(&t.offer)) } " — " (places_line(t)) " · " (t.holder_name) }
                    @if let Some(qr) = &t.qr_text {
                        @if t.phone.static_code {
                            div.qr style="max-width:220px" { (inline_svg(qr)?) }
                        } @else {
                            p.meta { "This event needs the ticket open on your phone." }
                        }
                        p { a.button href={ "/tickets/" (t.serial) } { "Show ticket #" (t.serial) } }
                    } @else {
                        p.status style="color:var(--bad)" { "No longer valid" }
                        p.meta { (t.explanation.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
        @if !given.is_empty() {
            h2 { "Tickets you gave away" }
            ul {
                @for g in &given {
                    li { "Ticket #" (g.serial) " · " (g.event_name) " · " (title_case(&g.offer))
                        ": given to " (g.to_email) " on " (when(g.at))
                        " (" (g.admits) (if g.admits == 1 { " place" } else { " places" }) "). Your code for it no longer works." }
                }
            }
        }
    };
    Ok(page("My tickets", Some(&u), body).into_response())
}

/// "admits 2 people", or "1 of 2 places left" once some were used or given on.
pub(crate) fn places_line(t: &shop::TicketView) -> String {
    let people = |n: u8| if n == 1 { "person" } else { "people" };
    if t.qr_text.is_some() && t.left < t.admits {
        format!("{} of {} places left", t.left, t.admits)
    } else {
        format!("admits {} {}", t.admits, people(t.admits))
    }
}

async fn load_ticket(s: &AppState, u: &AuthUser, serial: i64) -> Result<shop::TicketView, PageError> {
    let uid = u.id;
    s.db.read(move |c| shop::get_ticket(c, uid, serial))
        .await
        .map_err(|e| PageError(e, Some(Box::new(u.clone()))))
}

async fn ticket_page(State(s): State<AppState>, user: MaybeUser, Id(serial): Id) -> PageResult {
    let u = need(user)?;
    let t = load_ticket(&s, &u, serial).await?;
    Ok(page(&format!("Ticket #{}", t.serial), Some(&u), ticket_body(&t, None)?).into_response())
}

fn ticket_body(t: &shop::TicketView, msg: Option<Markup>) -> Result<Markup, AppError> {
    Ok(html! {
        @if let Some(m) = msg { (m) }
        div.ticket {
            @if t.qr_text.is_some() {
                p.hint.noprint { "Turn your screen brightness up before you reach the gate." }
            }
            h1 { (t.event_name) }
            p { (t.sport) " · " (t.venue) br; strong { (when(t.starts_at)) } br; "Doors open " (when(t.doors_open)) }
            p { strong { (title_case(&t.offer)) } " — " (places_line(t)) br;
                "Holder: " strong { (t.holder_name) } br; "Ticket #" (t.serial) }
            @if let Some(qr) = &t.qr_text {
                @if t.phone.static_code {
                    div.qr { (inline_svg(qr)?) }
                    p.noprint { a href={ "/api/v1/tickets/" (t.serial) "/qr.png" } download={ "ticket-" (t.serial) ".png" } { "Download PNG" }
                        " · " a href={ "/api/v1/tickets/" (t.serial) "/qr.svg" } { "SVG" } " · Print this page for a paper copy." }
                } @else {
                    (notice("", "This event needs the ticket open on your phone: a picture, a print or a download of the code is refused at the gate."))
                }
                p.noprint { a #ticket-pdf href={ "/tickets/" (t.serial) "/ticket.pdf" } { "Download the PDF ticket" } }
                p.noprint { a.button #use-phone href={ "/phone/" (t.serial) } { "Use this phone as my ticket" } }
                p.meta.noprint { @if t.phone.phone_bound { "A phone shows this ticket now. " }
                    "On your phone, the code changes every few seconds and works offline at the gate; a screenshot of it stops working within a minute." }
            } @else {
                (notice("error", t.explanation.as_deref().unwrap_or("This ticket no longer opens the gate.")))
            }
            @if !t.uses.is_empty() {
                ul.uses {
                    @for use_ in &t.uses { li { "Used at " (use_.gate) ", " (when(use_.at)) } }
                }
            }
        }
        @if t.qr_text.is_some() {
            section.card.noprint style="max-width:520px;margin:16px auto" {
                h2 { "Give this ticket to someone" }
                @match &t.allowed.transfer {
                    Ok((until, left)) => {
                        p.meta { "Possible until " (when(*until)) ". They need an activated account and get a new code for the "
                            (left) (if *left == 1 { " place" } else { " places" }) " left; your code stops working." }
                        form method="post" action={ "/tickets/" (t.serial) "/transfer" } {
                            (csrf_field())
                            label for="to" { "Their email" }
                            input #to type="email" name="email" required;
                            " " button.secondary type="submit" { "Continue" }
                        }
                    }
                    Err(r) => { p.meta.transfer-refusal { "Not possible: " (r.message) "." } }
                }
            }
        }
    })
}

/// Transfers ask first (what the sender loses), then act on `confirm=yes`.
async fn ticket_transfer(
    State(s): State<AppState>,
    user: MaybeUser,
    Id(serial): Id,
    ApiForm(f): ApiForm<ConfirmForm>,
) -> PageResult {
    let u = need(user)?;
    u.ensure_current_session()?;
    let to = Email::parse(&f.email).map_err(|e| PageError(e, Some(Box::new(u.clone()))))?;
    let t = load_ticket(&s, &u, serial).await?;
    if f.confirm != "yes" {
        let body = match &t.allowed.transfer {
            Ok((_, left)) => html! {
                h1 { "Give ticket #" (t.serial) " to " (to.as_str()) "?" }
                (notice("", &format!(
                    "{} gets a new code for the {} place(s) left of this {} ticket (if they have no account yet, they are invited by mail to claim it). Once they have it, your code stops working and the ticket can no longer be refunded.",
                    to.as_str(), left, title_case(&t.offer)
                )))
                form method="post" action={ "/tickets/" (t.serial) "/transfer" } {
                    (csrf_field())
                    input type="hidden" name="email" value=(to.as_str());
                    input type="hidden" name="confirm" value="yes";
                    button.danger type="submit" { "Yes, give it to " (to.as_str()) }
                    " " a href={ "/tickets/" (t.serial) } { "No, keep it" }
                }
            },
            Err(_) => ticket_body(&t, None)?,
        };
        return Ok(page(&format!("Ticket #{}", t.serial), Some(&u), body).into_response());
    }
    match super::shop_api::do_transfer(&s, &u, serial, to).await {
        Ok(_) => Ok(page(
            "Ticket sent",
            Some(&u),
            html! {
                h1 { "Ticket sent" }
                (notice("ok", &format!("{}.", super::shop_api::TRANSFER_SENT)))
                p { a.button href="/tickets" { "Back to my tickets" } }
            },
        )
        .into_response()),
        Err(e @ (AppError::Conflict { .. } | AppError::Unprocessable { .. })) => {
            let t = load_ticket(&s, &u, serial).await?;
            let mut r = page(
                &format!("Ticket #{}", t.serial),
                Some(&u),
                ticket_body(&t, Some(notice("error", &e.public_message())))?,
            )
            .into_response();
            *r.status_mut() = e.status();
            Ok(r)
        }
        Err(e) => Err(PageError(e, Some(Box::new(u)))),
    }
}

#[derive(Deserialize)]
struct ClaimForm {
    #[serde(default)]
    token: String,
}

/// The link mailed to someone a ticket was given to: sign in (or up) with that address, then
/// confirm to take the ticket.
async fn claim_page(user: MaybeUser, ApiQuery(q): ApiQuery<ClaimForm>) -> Response {
    let Some(u) = user.0 else {
        let next = format!("/claim?token={}", q.token);
        return form_page(
            "Claim a ticket",
            None,
            Some(notice(
                "",
                "Someone gave you a ticket. Log in with the address the invitation was sent to (or create an account with it first, then come back to this link).",
            )),
            login_form(&safe_next(&next)),
        );
    };
    page(
        "Claim a ticket",
        Some(&u),
        html! {
            h1 { "Claim your ticket" }
            p { "The ticket will be yours, with its own code; the person who gave it can no longer use it." }
            form method="post" action="/claim" {
                (csrf_field())
                input type="hidden" name="token" value=(q.token);
                button type="submit" { "Take the ticket" }
            }
        },
    )
    .into_response()
}

async fn claim(State(s): State<AppState>, user: MaybeUser, ApiForm(f): ApiForm<ClaimForm>) -> PageResult {
    let u = need(user)?;
    u.ensure_current_session()?;
    let t = super::shop_api::do_claim(&s, &u, f.token)
        .await
        .map_err(|e| PageError(e, Some(Box::new(u.clone()))))?;
    Ok(see_other(&format!("/tickets/{}", t.serial)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guest_cart_cookie_round_trips_and_ignores_garbage() {
        let mut h = HeaderMap::new();
        let set = guest_cookie(&[(3, 2), (7, 1)]);
        let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
        h.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_str(&format!("x=1; {pair}")).unwrap(),
        );
        assert_eq!(guest_cart(&h), vec![(3, 2), (7, 1)]);
        h.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_static("__Host-og_cart=3-2.x-1.5-99.6--1.8-4"),
        );
        assert_eq!(guest_cart(&h), vec![(3, 2), (8, 4)]);
    }

    #[test]
    fn only_local_paths_are_accepted_as_the_page_after_login() {
        assert_eq!(safe_next("/cart"), "/cart");
        assert_eq!(safe_next("//evil.example"), "/tickets");
        assert_eq!(safe_next("https://evil.example"), "/tickets");
        assert_eq!(safe_next("/\\evil.example"), "/tickets");
    }
}
