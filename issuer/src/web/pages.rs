//! Server-rendered web pages of the shop (maud): catalogue, event, cart, sign-up, activation,
//! login, password reset, checkout, the built-in processor's hosted payment page, orders, my
//! tickets and the printable ticket, the account page (name, language, password, my data, delete
//! my account), terms and privacy, the language switcher (`/lang/{code}`). Plain HTML forms (POST,
//! then 303 redirect), no JavaScript.
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
use crate::domain::{Email, IdempotencyKey, MAX_QUANTITY, Password, Quantity, parse_display_name};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::shop::accounts;
use crate::shop::auth::{self, AuthUser, MaybeUser};
use crate::shop::lifecycle::Sale;
use crate::shop::orders::{self as shop, EventFilter};
use crate::state::AppState;
use crate::tr;
use crate::web::layout::{csrf_field, notice, page};

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
        .route("/lang/{code}", get(switch_language))
        .route("/terms", get(terms_page))
        .route("/privacy", get(privacy_page))
        .route("/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
        .route("/account", get(account_page).post(account_save))
        .route("/account/password", post(account_password))
        .route("/account/data.json", get(account_data))
        .route("/account/delete", post(account_delete))
}

async fn favicon() -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, "image/svg+xml"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        crate::web::layout::FAVICON_SVG,
    )
        .into_response()
}

/// A page of paragraphs from the `.ftl` files: `{prefix}-1`, `{prefix}-2`... up to the first
/// missing one, each with its heading `{prefix}-1-title`.
fn text_page(l: Lang, title_key: &str, prefix: &str, user: Option<&AuthUser>) -> Response {
    let title = l.t(title_key);
    let sections: Vec<(String, String)> = (1..=20)
        .map(|i| (format!("{prefix}-{i}-title"), format!("{prefix}-{i}")))
        .take_while(|(_, body)| l.has(body))
        .map(|(h, body)| (l.t(&h), l.t(&body)))
        .collect();
    page(
        &title,
        user,
        html! {
            article.narrow style="max-width:720px" {
                h1 { (title) }
                p.meta { (tr!(l, "legal-updated")) }
                @for (h, body) in &sections {
                    h2 { (h) }
                    @for para in body.split("\n\n") { p { (para) } }
                }
            }
        },
    )
    .into_response()
}

async fn terms_page(user: MaybeUser) -> Response {
    text_page(i18n::current(), "terms-title", "terms", user.0.as_ref())
}

async fn privacy_page(user: MaybeUser) -> Response {
    text_page(i18n::current(), "privacy-title", "privacy", user.0.as_ref())
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
        let l = i18n::current();
        let body = page(
            &tr!(l, "problem-title"),
            user.as_deref(),
            html! {
                h1 { (if status.is_client_error() { tr!(l, "problem-client") } else { tr!(l, "problem-server") }) }
                (notice("error", &l.error(&e)))
                p { a href="/" { (tr!(l, "back-to-events")) } }
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
    let events = s.catalogue.list(&s.db, f.clone()).await?;
    let events: &[shop::EventView] = &events;
    let facets = s.catalogue.facets(&s.db).await?;
    let (sports, venues, days): (&[String], &[String], &[String]) = (&facets.0, &facets.1, &facets.2);
    let sel = |v: &Option<String>, x: &str| v.as_deref() == Some(x);
    let l = i18n::current();
    let body = html! {
        h1 { (tr!(l, "events-title")) }
        form.filters method="get" action="/" aria-label=(tr!(l, "events-filter-label")) {
            div { label for="sport" { (tr!(l, "events-sport")) }
                select #sport name="sport" { option value="" { (tr!(l, "events-all-sports")) }
                    @for x in sports { option value=(x) selected[sel(&f.sport, x)] { (x) } } } }
            div { label for="day" { (tr!(l, "events-day")) }
                select #day name="day" { option value="" { (tr!(l, "events-all-days")) }
                    @for x in days { option value=(x) selected[sel(&f.day, x)] { (l.day(x)) } } } }
            div { label for="venue" { (tr!(l, "events-venue")) }
                select #venue name="venue" { option value="" { (tr!(l, "events-all-venues")) }
                    @for x in venues { option value=(x) selected[sel(&f.venue, x)] { (x) } } } }
            div { button type="submit" { (tr!(l, "events-show")) } }
        }
        @if events.is_empty() { (notice("", &tr!(l, "events-none"))) }
        div.grid {
            @for e in events {
                article.card {
                    span.sport { (e.sport) }
                    h2 { a href={ "/events/" (e.id) } { (e.name) } }
                    p.meta { (e.venue) br; (l.datetime(e.starts_at, &e.time_zone)) }
                    @if e.sale.is_open() {
                        p { (tr!(l, "seats-left", left = l.number(e.capacity_left), capacity = l.number(e.capacity))) }
                        p.meta { (tr!(l, "price-from", price = l.money(e.offers.iter().map(|o| o.price_cents).min().unwrap_or(0)))) }
                        a.button href={ "/events/" (e.id) } aria-label=(tr!(l, "choose-tickets-for", event = &e.name)) { (tr!(l, "choose-tickets")) }
                    } @else {
                        p.status.off-sale { (sale_line(l, e.sale, &e.time_zone)) }
                        a href={ "/events/" (e.id) } { (tr!(l, "see-the-event")) }
                    }
                }
            }
        }
    };
    Ok(page(&tr!(l, "events-title"), user.0.as_ref(), body).into_response())
}

async fn event_page(State(s): State<AppState>, user: MaybeUser, Id(id): Id) -> PageResult {
    let e = s.catalogue.event(&s.db, id).await?;
    let l = i18n::current();
    let tz = &e.time_zone;
    let body = html! {
        p { a href="/" { (tr!(l, "all-events")) } }
        span.sport { (e.sport) }
        h1 { (e.name) }
        p.meta { (e.venue) " · " (l.datetime(e.starts_at, tz)) br;
            (tr!(l, "doors-open", time = l.time(e.doors_open, tz))) }
        @if !e.venue_address.is_empty() {
            p.meta.address { (tr!(l, "venue-address")) " " (e.venue_address) }
        }
        @if e.sale.is_open() {
            p { strong { (l.number(e.capacity_left)) } " " (tr!(l, "seats-left-of", capacity = l.number(e.capacity))) }
            p.meta { (sale_line(l, e.sale, tz)) }
        } @else {
            (notice(if matches!(e.sale, Sale::Cancelled) { "error" } else { "" }, &sale_line(l, e.sale, tz)))
        }
        @if e.sale.is_open() {
        section.card aria-labelledby="offers-h" {
            h2 #offers-h { (tr!(l, "offers")) }
            ul.offers {
                @for o in &e.offers {
                    li {
                        div {
                            strong { (offer_name(l, &o.kind)) } " — " (tr!(l, "admits-people", count = o.admits))
                            br; span.meta { (tr!(l, "price-per-ticket", price = l.money(o.price_cents))) }
                            @if let Some(left) = o.tickets_left.filter(|&n| n > 0) {
                                br; span.meta { (tr!(l, "offer-tickets-left", left = l.number(left))) }
                            }
                        }
                        @if e.capacity_left < i64::from(o.admits) || !o.fits(1) {
                            p.status { (tr!(l, "sold-out")) }
                        } @else {
                        form method="post" action="/cart/add" {
                            (csrf_field())
                            input type="hidden" name="offer_id" value=(o.id);
                            label for={ "q" (o.id) } style="display:inline;margin-right:6px" { (tr!(l, "quantity")) }
                            select id={ "q" (o.id) } name="quantity" {
                                @for q in (1..=MAX_QUANTITY).take_while(|&q| o.fits(q)) { option value=(q) { (q) } }
                            }
                            " "
                            button type="submit" name="add" value=(o.kind) { (tr!(l, "add-to-cart", offer = offer_name(l, &o.kind))) }
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
fn sale_line(l: Lang, s: Sale, tz: &str) -> String {
    match s {
        Sale::Open { closes_at } => tr!(l, "sale-open", until = l.datetime(closes_at, tz)),
        Sale::NotYet { opens_at } => tr!(l, "sale-not-yet", opens = l.datetime(opens_at, tz)),
        Sale::Closed => tr!(l, "sale-closed"),
        Sale::Cancelled => tr!(l, "sale-cancelled"),
    }
}

/// An offer's name (`solo`, `duo`, `family`) in the page's language.
pub(crate) fn offer_name(l: Lang, kind: &str) -> String {
    l.offer_name(kind)
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
    let lang = i18n::current();
    let body = html! {
        h1 { (tr!(lang, "cart-title")) }
        @if cart.items.is_empty() {
            p { (tr!(lang, "cart-empty")) " " a href="/" { (tr!(lang, "cart-browse")) } }
        } @else {
            table {
                thead { tr { th scope="col" { (tr!(lang, "col-event")) } th scope="col" { (tr!(lang, "col-offer")) } th scope="col" { (tr!(lang, "quantity")) } th scope="col" { (tr!(lang, "col-price")) } } }
                tbody {
                    @for l in &cart.items {
                        tr {
                            td { a href={ "/events/" (l.event_id) } { (l.event_name) } br; span.meta { (l.sport) } }
                            td { (tr!(lang, "cart-offer", offer = offer_name(lang, &l.kind), admits = l.admits)) }
                            td {
                                form method="post" action="/cart/update" {
                                    (csrf_field())
                                    input type="hidden" name="offer_id" value=(l.offer_id);
                                    label.meta for={ "cq" (l.offer_id) } style="display:inline" { (tr!(lang, "quantity")) " " }
                                    input id={ "cq" (l.offer_id) } type="number" name="quantity" min="0" max=(MAX_QUANTITY) value=(l.quantity) style="width:5em";
                                    " " button.secondary type="submit" { (tr!(lang, "cart-update")) }
                                }
                            }
                            td { (lang.money(l.quantity * l.unit_price_cents)) }
                        }
                    }
                }
                tfoot { tr { th colspan="3" { (tr!(lang, "total")) } th { (lang.money(cart.total_cents)) } } }
            }
            p.meta { (tr!(lang, "cart-remove-hint")) }
            @if user.0.is_some() {
                form method="post" action="/checkout" {
                    (csrf_field())
                    input type="hidden" name="idempotency_key" value=(&key[..32]);
                    button type="submit" { (tr!(lang, "cart-checkout", total = lang.money(cart.total_cents))) }
                }
            } @else {
                p { a.button href="/login?next=/cart" { (tr!(lang, "cart-log-in")) } " " (tr!(lang, "cart-or")) " " a href="/signup" { (tr!(lang, "cart-create-account")) } }
            }
        }
    };
    Ok(page(&tr!(lang, "cart-title"), user.0.as_ref(), body).into_response())
}

#[derive(Deserialize)]
struct CheckoutForm {
    idempotency_key: String,
}

async fn checkout(State(s): State<AppState>, user: MaybeUser, ApiForm(f): ApiForm<CheckoutForm>) -> PageResult {
    let u = need(user)?;
    let key = IdempotencyKey::parse(&f.idempotency_key)?;
    let order = crate::shop::actions::place_order(&s, u.id, key)
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
    let l = i18n::current();
    html! {
        form method="post" action="/signup" {
            (csrf_field())
            label for="email" { (tr!(l, "field-email")) }
            input #email type="email" name="email" required autocomplete="email" maxlength="254";
            label for="name" { (tr!(l, "field-name")) }
            input #name type="text" name="name" autocomplete="name" maxlength="80";
            label for="password" { (tr!(l, "field-password")) }
            input #password type="password" name="password" required minlength="8" maxlength="128" autocomplete="new-password" aria-describedby="pwhelp";
            p #pwhelp .meta { (tr!(l, "password-help")) }
            p.consent {
                input #accept_terms type="checkbox" name="accept_terms" value="yes" required;
                " "
                label for="accept_terms" style="display:inline;font-weight:400" {
                    (tr!(l, "signup-consent-before")) " "
                    a href="/terms" target="_blank" { (tr!(l, "terms-title")) } " "
                    (tr!(l, "signup-consent-and")) " "
                    a href="/privacy" target="_blank" { (tr!(l, "privacy-title")) } (tr!(l, "signup-consent-after"))
                }
            }
            button type="submit" { (tr!(l, "signup-submit")) }
        }
        p { (tr!(l, "signup-already")) " " a href="/login" { (tr!(l, "nav-log-in")) } }
    }
}

async fn signup_page(user: MaybeUser) -> Response {
    form_page(
        &tr!(i18n::current(), "signup-title"),
        user.0.as_ref(),
        None,
        signup_form(),
    )
}

#[derive(Deserialize)]
struct SignupForm {
    email: String,
    password: String,
    #[serde(default)]
    name: String,
    /// The consent checkbox (`yes` when ticked).
    #[serde(default)]
    accept_terms: String,
}

async fn signup(State(s): State<AppState>, ci: ConnectInfo<SocketAddr>, ApiForm(f): ApiForm<SignupForm>) -> PageResult {
    let parsed = (|| {
        Ok::<_, AppError>((
            Email::parse(&f.email)?,
            Password::parse(&f.password)?,
            parse_display_name(&f.name)?,
            accounts::TermsAccepted::check(f.accept_terms == "yes")?,
        ))
    })();
    let (email, pw, name, terms) = match parsed {
        Ok(x) => x,
        Err(e) => {
            let l = i18n::current();
            let mut r = form_page(
                &tr!(l, "signup-title"),
                None,
                Some(notice("error", &l.error(&e))),
                signup_form(),
            );
            *r.status_mut() = StatusCode::BAD_REQUEST;
            return Ok(r);
        }
    };
    accounts::sign_up(&s, &client_ip(&ci), email, pw, name, terms).await?;
    let demo = s.settings.smtp.is_none();
    let l = i18n::current();
    Ok(page(
        &tr!(l, "check-mail-title"),
        None,
        html! {
            h1 { (tr!(l, "check-mailbox")) }
            (notice("ok", &tr!(l, "signup-sent")))
            @if demo {
                p.meta { (tr!(l, "signup-demo", dir = s.settings.mail_dir().display().to_string())) }
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
    let l = i18n::current();
    form_page(
        &tr!(l, "activate-title"),
        None,
        None,
        html! {
            form method="post" action="/activate" {
                (csrf_field())
                input type="hidden" name="token" value=(q.token);
                p { (tr!(l, "activate-one-click")) }
                button type="submit" { (tr!(l, "activate-submit")) }
            }
        },
    )
}

async fn activate(State(s): State<AppState>, headers: HeaderMap, ApiForm(q): ApiForm<TokenQuery>) -> PageResult {
    if let Err(e) = accounts::activate(&s, &q.token).await {
        return link_error(e, true);
    }
    let l = i18n::current();
    // Tickets waiting in this browser's cart: logging in goes back to them.
    let login = if guest_cart(&headers).is_empty() {
        "/login"
    } else {
        "/login?next=/cart"
    };
    Ok(form_page(
        &tr!(l, "activated-title"),
        None,
        Some(notice("ok", &tr!(l, "activated-text"))),
        html! { a.button href=(login) { (tr!(l, "nav-log-in")) } },
    ))
}

/// A mailed link that does not work, said for what it was meant to do (activation or reset):
/// an expired activation link means signing up again, an expired reset link asking for another.
fn link_error(e: AppError, activation: bool) -> PageResult {
    let l = i18n::current();
    let text = match (e.code(), activation) {
        ("invalid_token", true) => tr!(l, "link-activate-invalid"),
        ("token_used", true) => tr!(l, "link-activate-used"),
        ("token_expired", true) => tr!(l, "link-activate-expired"),
        ("invalid_token", false) => tr!(l, "link-reset-invalid"),
        ("token_used", false) => tr!(l, "link-reset-used"),
        ("token_expired", false) => tr!(l, "link-reset-expired"),
        _ => return Err(e.into()),
    };
    let mut r = form_page(
        &tr!(l, "problem-title"),
        None,
        Some(notice("error", &text)),
        html! { p { a href="/" { (tr!(l, "back-to-events")) } } },
    );
    *r.status_mut() = e.status();
    Ok(r)
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
    let l = i18n::current();
    html! {
        form method="post" action="/login" {
            (csrf_field())
            input type="hidden" name="next" value=(next);
            label for="email" { (tr!(l, "field-email")) }
            input #email type="email" name="email" required autocomplete="username";
            label for="password" { (tr!(l, "field-password")) }
            input #password type="password" name="password" required autocomplete="current-password";
            p { button type="submit" { (tr!(l, "nav-log-in")) } }
        }
        p { a href="/password/forgot" { (tr!(l, "forgot-title")) } " · " a href="/signup" { (tr!(l, "signup-title")) } }
    }
}

async fn login_page(user: MaybeUser, ApiQuery(q): ApiQuery<NextQuery>) -> Response {
    form_page(
        &tr!(i18n::current(), "nav-log-in"),
        user.0.as_ref(),
        None,
        login_form(&safe_next(&q.next)),
    )
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
            let l = i18n::current();
            let mut r = form_page(
                &tr!(l, "nav-log-in"),
                None,
                // The one refusal of a right password: the account is not activated yet.
                Some(notice(
                    "error",
                    &if matches!(e, AppError::Forbidden(_)) {
                        tr!(l, "error-not-activated")
                    } else {
                        l.error(&e)
                    },
                )),
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
    let l = i18n::current();
    form_page(
        &tr!(l, "forgot-title"),
        None,
        None,
        html! {
            form method="post" action="/password/forgot" {
                (csrf_field())
                label for="email" { (tr!(l, "field-email")) }
                input #email type="email" name="email" required autocomplete="email";
                p { button type="submit" { (tr!(l, "forgot-submit")) } }
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
    let l = i18n::current();
    Ok(form_page(
        &tr!(l, "check-mail-title"),
        None,
        Some(notice("ok", &tr!(l, "forgot-sent"))),
        html! {},
    ))
}

async fn reset_page(ApiQuery(q): ApiQuery<TokenQuery>) -> Response {
    let l = i18n::current();
    form_page(
        &tr!(l, "reset-title"),
        None,
        None,
        html! {
            form method="post" action="/password/reset" {
                (csrf_field())
                input type="hidden" name="token" value=(q.token);
                label for="password" { (tr!(l, "field-new-password")) }
                input #password type="password" name="password" required minlength="8" maxlength="128" autocomplete="new-password";
                p { button type="submit" { (tr!(l, "save")) } }
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
    if let Err(e) = accounts::reset_password(&s, &f.token, pw).await {
        return link_error(e, false);
    }
    let l = i18n::current();
    Ok(form_page(
        &tr!(l, "password-changed-title"),
        None,
        Some(notice("ok", &tr!(l, "password-changed-text"))),
        html! { a.button href="/login" { (tr!(l, "nav-log-in")) } },
    ))
}

// ---- orders and payment ----

async fn orders_page(State(s): State<AppState>, user: MaybeUser) -> PageResult {
    let u = need(user)?;
    let uid = u.id;
    let base = s.base_url.to_string();
    let orders = s.db.read(move |c| shop::list_orders(c, uid, &base)).await?;
    let l = i18n::current();
    let body = html! {
        h1 { (tr!(l, "orders-title")) }
        @if orders.is_empty() { p { (tr!(l, "orders-none")) } }
        @else {
            table {
                thead { tr { th scope="col" { (tr!(l, "col-order")) } th scope="col" { (tr!(l, "col-placed")) } th scope="col" { (tr!(l, "col-status")) } th scope="col" { (tr!(l, "total")) } } }
                tbody { @for o in &orders { tr {
                    td { a href={ "/orders/" (o.id) } { "#" (o.id) } }
                    td { (l.datetime(o.created_at, &o.time_zone)) }
                    td.status { (order_status(l, o.status)) }
                    td { (l.money(o.total_cents)) }
                } } }
            }
        }
    };
    Ok(page(&tr!(l, "nav-orders"), Some(&u), body).into_response())
}

async fn order_page(State(s): State<AppState>, user: MaybeUser, Id(id): Id) -> PageResult {
    let u = need(user)?;
    let o = load_order(&s, &u, id).await?;
    Ok(page(
        &tr!(i18n::current(), "order-title", id = o.id),
        Some(&u),
        order_body(&o, None),
    )
    .into_response())
}

async fn load_order(s: &AppState, u: &AuthUser, id: i64) -> Result<shop::OrderView, PageError> {
    let uid = u.id;
    let base = s.base_url.to_string();
    s.db.read(move |c| shop::get_order(c, uid, id, &base))
        .await
        .map_err(|e| PageError(e, Some(Box::new(u.clone()))))
}

/// An order's status in words.
fn order_status(l: Lang, s: crate::domain::OrderStatus) -> String {
    l.t_args("order-status", &[("status", s.as_str().into())])
}

/// One line for a ticket of an order: "valid", "used 2 of 2", "given to x@... on ...", "refunded".
fn ticket_summary(l: Lang, t: &shop::OrderTicket, tz: &str) -> String {
    use crate::shop::lifecycle::TicketState;
    if let Some((to, at)) = &t.given_to {
        return tr!(l, "ticket-given-to", email = to, when = l.datetime(*at, tz));
    }
    match t.state {
        TicketState::Valid if t.used > 0 => tr!(l, "ticket-used-of", used = t.used, admits = t.admits),
        TicketState::Valid => tr!(l, "ticket-state-valid"),
        TicketState::Refunded => tr!(l, "ticket-state-refunded"),
        TicketState::Cancelled => tr!(l, "ticket-state-cancelled"),
        TicketState::Revoked(r) => tr!(l, "ticket-state-revoked", reason = r.as_str()),
    }
}

/// Why a ticket no longer works, in a sentence.
pub(crate) fn explanation(l: Lang, s: crate::shop::lifecycle::TicketState) -> String {
    use crate::shop::lifecycle::TicketState;
    use og_shared::sync::RevocationReason;
    match s {
        TicketState::Valid => String::new(),
        TicketState::Refunded => tr!(l, "explain-refunded"),
        TicketState::Cancelled => tr!(l, "explain-cancelled"),
        TicketState::Revoked(RevocationReason::AccountBanned) => tr!(l, "explain-account-closed"),
        TicketState::Revoked(RevocationReason::Fraud) => tr!(l, "explain-fraud"),
        TicketState::Revoked(RevocationReason::Transferred) => tr!(l, "explain-transferred"),
        TicketState::Revoked(_) => tr!(l, "explain-revoked"),
    }
}

fn order_body(o: &shop::OrderView, msg: Option<Markup>) -> Markup {
    let lang = i18n::current();
    let tz = &o.time_zone;
    html! {
        h1 { (tr!(lang, "order-title", id = o.id)) }
        @if let Some(m) = msg { (m) }
        p { (tr!(lang, "order-status-label")) " " span.status { (order_status(lang, o.status)) } }
        @match o.status.as_str() {
            "paid" => { (notice("ok", &tr!(lang, "order-paid"))) p { a.button href="/tickets" { (tr!(lang, "order-see-tickets")) }
                " " a.button.secondary href={ "/orders/" (o.id) "/tickets.pdf" } { (tr!(lang, "order-tickets-pdf")) } } }
            "pending" => {
                (notice("", &tr!(lang, "order-waiting", until = lang.datetime(o.expires_at, tz))))
                @if let Some(url) = &o.payment_url { p { a.button href=(url) { (tr!(lang, "pay-amount", amount = lang.money(o.total_cents))) } } }
            }
            _ => {}
        }
        table {
            thead { tr { th scope="col" { (tr!(lang, "col-event")) } th scope="col" { (tr!(lang, "col-offer")) } th scope="col" { (tr!(lang, "col-qty")) } th scope="col" { (tr!(lang, "col-price")) } } }
            tbody { @for l in &o.lines { tr {
                td { (l.event_name) } td { (offer_name(lang, &l.kind)) } td { (l.quantity) } td { (lang.money(l.quantity * l.unit_price_cents)) }
            } } }
            tfoot { tr { th colspan="3" { (tr!(lang, "total")) } th { (lang.money(o.total_cents)) } } }
        }
        @if !o.tickets.is_empty() {
            h2 { (tr!(lang, "order-tickets")) }
            ul.order-tickets {
                @for t in &o.tickets {
                    li { (tr!(lang, "ticket-number", serial = t.serial)) " · " (t.event_name) " · " (offer_name(lang, &t.offer)) (tr!(lang, "colon")) " "
                        strong.ticket-state { (ticket_summary(lang, t, tz)) } }
                }
            }
        }
        @if o.status == crate::domain::OrderStatus::Pending {
            form.noprint method="post" action={ "/orders/" (o.id) "/cancel" } style="margin-top:16px" {
                (csrf_field())
                button.danger type="submit" { (tr!(lang, "order-cancel")) }
            }
        }
        @match &o.refund {
            Some(Ok(until)) => {
                p.meta { (tr!(lang, "order-refund-until", until = lang.datetime(*until, tz))) }
                p.noprint { a.button.danger href={ "/orders/" (o.id) "/refund" } { (tr!(lang, "order-refund")) } }
            }
            Some(Err(r)) => { p.meta.refund-refusal { (tr!(lang, "order-no-refund", why = refusal(lang, r))) } }
            None => {}
        }
    }
}

/// A rule's refusal in the page's language.
pub(crate) fn refusal(l: Lang, r: &crate::shop::lifecycle::Refusal) -> String {
    l.error(&AppError::conflict(r.code, String::new()))
}

/// Asks before a refund: what stops working and what comes back.
async fn order_refund_page(State(s): State<AppState>, user: MaybeUser, Id(id): Id) -> PageResult {
    let u = need(user)?;
    let o = load_order(&s, &u, id).await?;
    let l = i18n::current();
    let body = match &o.refund {
        Some(Ok(_)) => html! {
            h1 { (tr!(l, "refund-ask-title", id = o.id)) }
            (notice("", &tr!(l, "refund-ask-text", count = o.tickets.len(), amount = l.money(o.total_cents))))
            form method="post" action={ "/orders/" (o.id) "/cancel" } {
                (csrf_field())
                input type="hidden" name="confirm" value="yes";
                button.danger type="submit" { (tr!(l, "refund-yes", id = o.id)) }
                " " a href={ "/orders/" (o.id) } { (tr!(l, "refund-no")) }
            }
        },
        _ => order_body(&o, None),
    };
    Ok(page(&tr!(l, "refund-page-title", id = o.id), Some(&u), body).into_response())
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
    match crate::shop::actions::buyer_cancel(&s, u.id, id).await {
        Ok(_) => Ok(see_other(&format!("/orders/{id}"))),
        // Refused (deadline passed meanwhile, a ticket used...): the order page says why.
        Err(e @ AppError::Conflict { .. }) => {
            let o = load_order(&s, &u, id).await?;
            let l = i18n::current();
            let mut r = page(
                &tr!(l, "order-title", id = id),
                Some(&u),
                order_body(&o, Some(notice("error", &l.error(&e)))),
            )
            .into_response();
            *r.status_mut() = StatusCode::CONFLICT;
            Ok(r)
        }
        Err(e) => Err(PageError(e, Some(Box::new(u)))),
    }
}

fn pay_form(p: &crate::shop::payment::PaymentFacts, msg: Option<Markup>) -> Markup {
    let l = i18n::current();
    let pay = tr!(l, "pay-amount", amount = l.money(p.amount_cents));
    html! {
        div.narrow {
            p.meta { (tr!(l, "pay-banner")) }
            h1 { (pay) }
            p.meta { (tr!(l, "pay-payment-for", payment = &p.id, order = p.order_id)) }
            @if let Some(m) = msg { (m) }
            form method="post" action={ "/pay/" (p.id) } {
                (csrf_field())
                label for="card" { (tr!(l, "pay-card-number")) }
                input #card name="card_number" inputmode="numeric" autocomplete="cc-number" required maxlength="23" placeholder="4242 4242 4242 4242" aria-describedby="cards";
                label for="exp" { (tr!(l, "pay-expiry")) }
                input #exp name="expiry" autocomplete="cc-exp" placeholder="12/34" maxlength="5";
                label for="cvc" { (tr!(l, "pay-cvc")) }
                input #cvc name="cvc" autocomplete="cc-csc" placeholder="123" maxlength="4";
                p { button type="submit" { (pay) } }
            }
            div #cards .notice { (tr!(l, "pay-test-cards", ok = "4242 4242 4242 4242", declined = "4000 0000 0000 0002")) }
        }
    }
}

async fn pay_page(State(s): State<AppState>, user: MaybeUser, Path(pid): Path<String>) -> PageResult {
    let p = crate::shop::payment::payment_facts(&s, pid).await?;
    if p.status == "succeeded" || p.order_status != "pending" {
        return Ok(see_other(&format!("/orders/{}", p.order_id)));
    }
    let l = i18n::current();
    let msg = (p.status == "declined").then(|| notice("error", &tr!(l, "pay-declined")));
    Ok(page(&tr!(l, "pay-title"), user.0.as_ref(), pay_form(&p, msg)).into_response())
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
    match crate::shop::payment::pay_with_card(&s, pid.clone(), &f.card_number).await {
        Ok((crate::shop::payment::CardOutcome::Succeeded, order_id)) => Ok(see_other(&format!("/orders/{order_id}"))),
        Ok((crate::shop::payment::CardOutcome::Declined, _)) => Ok(see_other(&format!("/pay/{pid}"))),
        Err(e @ AppError::BadRequest { .. }) => {
            let p = crate::shop::payment::payment_facts(&s, pid).await?;
            let l = i18n::current();
            let mut r = page(
                &tr!(l, "pay-title"),
                user.0.as_ref(),
                pay_form(&p, Some(notice("error", &l.error(&e)))),
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
    let svg = crate::trust::qr_image::svg(text)?;
    // Drop the XML prolog and fixed size so the code scales with its box.
    let start = svg.find("<svg").unwrap_or(0);
    let svg = svg[start..]
        .replacen(" width=", " data-w=", 1)
        .replacen(" height=", " data-h=", 1);
    let label = tr!(i18n::current(), "ticket-qr-label");
    let svg = svg.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{}\" ", html! { (label) }.into_string()),
        1,
    );
    Ok(PreEscaped(svg))
}

async fn tickets_page(State(s): State<AppState>, user: MaybeUser) -> PageResult {
    let u = need(user)?;
    let uid = u.id;
    let (tickets, given) =
        s.db.read(move |c| Ok((shop::list_tickets(c, uid)?, shop::given_tickets(c, uid)?)))
            .await?;
    let l = i18n::current();
    let body = html! {
        h1 { (tr!(l, "nav-tickets")) }
        @if tickets.is_empty() && given.is_empty() { p { (tr!(l, "tickets-none")) " " a href="/" { (tr!(l, "tickets-find-event")) } } }
        div.grid {
            @for t in &tickets {
                article.card {
                    span.sport { (t.sport) }
                    h2 { (t.event_name) }
                    p.meta { (t.venue) br; (l.datetime(t.starts_at, &t.time_zone)) }
                    p { strong { (offer_name(l, &t.offer)) } " — " (places_line(l, t)) " · " (t.holder_name) }
                    @if let Some(qr) = &t.qr_text {
                        @if t.phone.static_code {
                            div.qr style="max-width:220px" { (inline_svg(qr)?) }
                        } @else {
                            p.meta { (tr!(l, "tickets-needs-phone")) }
                        }
                        p { a.button href={ "/tickets/" (t.serial) } { (tr!(l, "tickets-show", serial = t.serial)) } }
                    } @else {
                        p.status style="color:var(--bad)" { (tr!(l, "tickets-no-longer-valid")) }
                        p.meta { (explanation(l, t.state)) }
                    }
                }
            }
        }
        @if !given.is_empty() {
            h2 { (tr!(l, "tickets-given-away")) }
            ul {
                @for g in &given {
                    li { (tr!(l, "ticket-number", serial = g.serial)) " · " (g.event_name) " · " (offer_name(l, &g.offer))
                        (tr!(l, "colon")) " " (tr!(l, "tickets-given-line", email = &g.to_email, when = l.datetime(g.at, &g.time_zone), places = g.admits)) }
                }
            }
        }
    };
    Ok(page(&tr!(l, "nav-tickets"), Some(&u), body).into_response())
}

/// "admits 2 people", or "1 of 2 places left" once some were used or given on.
pub(crate) fn places_line(l: Lang, t: &shop::TicketView) -> String {
    if t.qr_text.is_some() && t.left < t.admits {
        tr!(l, "places-left", left = t.left, admits = t.admits)
    } else {
        tr!(l, "admits-people", count = t.admits)
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
    let l = i18n::current();
    Ok(page(
        &tr!(l, "ticket-number", serial = t.serial),
        Some(&u),
        ticket_body(&t, None)?,
    )
    .into_response())
}

/// The event's facts on a ticket: sport, venue and address, local start and doors.
pub(crate) fn ticket_facts(l: Lang, t: &shop::TicketView) -> Markup {
    html! {
        p { (t.sport) " · " (t.venue)
            @if !t.venue_address.is_empty() { br; span.address { (t.venue_address) } }
            br; strong { (l.datetime(t.starts_at, &t.time_zone)) } br; (tr!(l, "doors-open", time = l.time(t.doors_open, &t.time_zone))) }
    }
}

fn ticket_body(t: &shop::TicketView, msg: Option<Markup>) -> Result<Markup, AppError> {
    let l = i18n::current();
    Ok(html! {
        @if let Some(m) = msg { (m) }
        div.ticket {
            @if t.qr_text.is_some() {
                p.hint.noprint { (tr!(l, "brightness-hint")) }
            }
            h1 { (t.event_name) }
            (ticket_facts(l, t))
            p { strong { (offer_name(l, &t.offer)) } " — " (places_line(l, t)) br;
                (tr!(l, "holder-label")) " " strong { (t.holder_name) } br; (tr!(l, "ticket-number", serial = t.serial)) }
            @if let Some(qr) = &t.qr_text {
                @if t.phone.static_code {
                    div.qr { (inline_svg(qr)?) }
                    p.noprint { a href={ "/api/v1/tickets/" (t.serial) "/qr.png" } download={ "ticket-" (t.serial) ".png" } { (tr!(l, "download-png")) }
                        " · " a href={ "/api/v1/tickets/" (t.serial) "/qr.svg" } { "SVG" } " · " (tr!(l, "print-hint")) }
                } @else {
                    (notice("", &tr!(l, "needs-phone-notice")))
                }
                p.noprint { a #ticket-pdf href={ "/tickets/" (t.serial) "/ticket.pdf" } { (tr!(l, "ticket-pdf-download")) } }
                p.noprint { a.button #use-phone href={ "/phone/" (t.serial) } { (tr!(l, "use-this-phone")) } }
                p.meta.noprint { @if t.phone.phone_bound { (tr!(l, "phone-shows-now")) " " }
                    (tr!(l, "phone-code-explained")) }
            } @else {
                (notice("error", &explanation(l, t.state)))
            }
            @if !t.uses.is_empty() {
                ul.uses {
                    @for use_ in &t.uses { li { (tr!(l, "used-at", gate = &use_.gate, when = l.datetime(use_.at, &t.time_zone))) } }
                }
            }
        }
        @if t.qr_text.is_some() {
            section.card.noprint style="max-width:520px;margin:16px auto" {
                h2 { (tr!(l, "give-title")) }
                @match &t.allowed.transfer {
                    Ok((until, left)) => {
                        p.meta { (tr!(l, "give-possible-until", until = l.datetime(*until, &t.time_zone), left = *left)) }
                        form method="post" action={ "/tickets/" (t.serial) "/transfer" } {
                            (csrf_field())
                            label for="to" { (tr!(l, "give-their-email")) }
                            input #to type="email" name="email" required;
                            " " button.secondary type="submit" { (tr!(l, "continue")) }
                        }
                    }
                    Err(r) => { p.meta.transfer-refusal { (tr!(l, "give-not-possible", why = refusal(l, r))) } }
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
    let l = i18n::current();
    if f.confirm != "yes" {
        let body = match &t.allowed.transfer {
            Ok((_, left)) => html! {
                h1 { (tr!(l, "give-ask-title", serial = t.serial, email = to.as_str())) }
                (notice("", &tr!(l, "give-ask-text", email = to.as_str(), left = *left, offer = offer_name(l, &t.offer))))
                form method="post" action={ "/tickets/" (t.serial) "/transfer" } {
                    (csrf_field())
                    input type="hidden" name="email" value=(to.as_str());
                    input type="hidden" name="confirm" value="yes";
                    button.danger type="submit" { (tr!(l, "give-yes", email = to.as_str())) }
                    " " a href={ "/tickets/" (t.serial) } { (tr!(l, "give-no")) }
                }
            },
            Err(_) => ticket_body(&t, None)?,
        };
        return Ok(page(&tr!(l, "ticket-number", serial = t.serial), Some(&u), body).into_response());
    }
    match crate::shop::actions::transfer(&s, &u, serial, to).await {
        Ok(_) => Ok(page(
            &tr!(l, "ticket-sent"),
            Some(&u),
            html! {
                h1 { (tr!(l, "ticket-sent")) }
                (notice("ok", &tr!(l, "ticket-sent-text")))
                p { a.button href="/tickets" { (tr!(l, "back-to-tickets")) } }
            },
        )
        .into_response()),
        Err(e @ (AppError::Conflict { .. } | AppError::Unprocessable { .. })) => {
            let t = load_ticket(&s, &u, serial).await?;
            let mut r = page(
                &tr!(l, "ticket-number", serial = t.serial),
                Some(&u),
                ticket_body(&t, Some(notice("error", &l.error(&e))))?,
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
    let l = i18n::current();
    let Some(u) = user.0 else {
        let next = format!("/claim?token={}", q.token);
        return form_page(
            &tr!(l, "claim-title"),
            None,
            Some(notice("", &tr!(l, "claim-log-in-first"))),
            login_form(&safe_next(&next)),
        );
    };
    page(
        &tr!(l, "claim-title"),
        Some(&u),
        html! {
            h1 { (tr!(l, "claim-heading")) }
            p { (tr!(l, "claim-text")) }
            form method="post" action="/claim" {
                (csrf_field())
                input type="hidden" name="token" value=(q.token);
                button type="submit" { (tr!(l, "claim-submit")) }
            }
        },
    )
    .into_response()
}

async fn claim(State(s): State<AppState>, user: MaybeUser, ApiForm(f): ApiForm<ClaimForm>) -> PageResult {
    let u = need(user)?;
    u.ensure_current_session()?;
    let t = crate::shop::actions::claim(&s, u.id, f.token)
        .await
        .map_err(|e| PageError(e, Some(Box::new(u.clone()))))?;
    Ok(see_other(&format!("/tickets/{}", t.serial)))
}

// ---- account ----

#[derive(Deserialize)]
struct AccountForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    language: String,
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

#[derive(Deserialize)]
struct DeleteForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    understood: String,
}

/// The account page again with why a password-confirmed action was refused (the same status
/// as the API would give, `Retry-After` when slowed down).
fn account_refused(l: Lang, u: &AuthUser, e: &AppError) -> Response {
    let msg = if matches!(e, AppError::Forbidden(_)) {
        tr!(l, "error-wrong-current-password")
    } else {
        l.error(e)
    };
    let mut r = page(
        &tr!(l, "account-title"),
        Some(u),
        account_body(u, Some(notice("error", &msg))),
    )
    .into_response();
    *r.status_mut() = e.status();
    e.add_retry_after(&mut r);
    r
}

fn account_body(u: &AuthUser, msg: Option<Markup>) -> Markup {
    let l = i18n::current();
    let chosen = u.language.as_deref().and_then(i18n::find);
    html! {
        div.narrow style="max-width:640px" {
            h1 { (tr!(l, "account-title")) }
            @if let Some(m) = msg { (m) }
            section.card {
                h2 { (tr!(l, "account-profile")) }
                p.meta { (tr!(l, "field-email")) " " strong { (u.email) } }
                form method="post" action="/account" {
                    (csrf_field())
                    label for="name" { (tr!(l, "field-name")) }
                    input #name type="text" name="name" autocomplete="name" maxlength="80" value=(u.display_name);
                    label for="language" { (tr!(l, "language-switcher")) }
                    select #language name="language" {
                        @for other in i18n::available() {
                            option value=(other.code()) lang=(other.code()) selected[chosen.unwrap_or(l) == other] { (tr!(other, "language-name")) }
                        }
                    }
                    p { button type="submit" { (tr!(l, "save")) } }
                }
            }
            section.card style="margin-top:16px" {
                h2 { (tr!(l, "account-password")) }
                form method="post" action="/account/password" {
                    (csrf_field())
                    label for="current_password" { (tr!(l, "field-current-password")) }
                    input #current_password type="password" name="current_password" required autocomplete="current-password";
                    label for="new_password" { (tr!(l, "field-new-password")) }
                    input #new_password type="password" name="new_password" required minlength="8" maxlength="128" autocomplete="new-password" aria-describedby="pwhelp";
                    p #pwhelp .meta { (tr!(l, "password-help")) " " (tr!(l, "account-password-ends-sessions")) }
                    p { button type="submit" { (tr!(l, "account-password-submit")) } }
                }
            }
            section.card style="margin-top:16px" {
                h2 { (tr!(l, "account-data")) }
                p { (tr!(l, "account-data-text")) }
                p { a.button href="/account/data.json" download="og-tickets-my-data.json" { (tr!(l, "account-data-download")) } }
            }
            section.card style="margin-top:16px" {
                h2 { (tr!(l, "account-delete")) }
                p { (tr!(l, "account-delete-text")) }
                p.meta { (tr!(l, "account-delete-kept")) }
                form method="post" action="/account/delete" {
                    (csrf_field())
                    label for="delete_password" { (tr!(l, "field-password")) }
                    input #delete_password type="password" name="password" required autocomplete="current-password";
                    p {
                        input #understood type="checkbox" name="understood" value="yes" required;
                        " " label for="understood" style="display:inline;font-weight:400" { (tr!(l, "account-delete-understood")) }
                    }
                    p { button.danger type="submit" { (tr!(l, "account-delete-submit")) } }
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

async fn account_page(user: MaybeUser, ApiQuery(q): ApiQuery<SavedQuery>) -> PageResult {
    let u = need(user)?;
    let l = i18n::current();
    let msg = q.saved.is_some().then(|| notice("ok", &tr!(l, "account-saved")));
    Ok(page(&tr!(l, "account-title"), Some(&u), account_body(&u, msg)).into_response())
}

async fn account_save(State(s): State<AppState>, user: MaybeUser, ApiForm(f): ApiForm<AccountForm>) -> PageResult {
    let u = need(user)?;
    let l = i18n::current();
    let name = match parse_display_name(&f.name) {
        Ok(n) => n,
        Err(e) => {
            let mut r = page(
                &tr!(l, "account-title"),
                Some(&u),
                account_body(&u, Some(notice("error", &l.error(&e)))),
            )
            .into_response();
            *r.status_mut() = StatusCode::BAD_REQUEST;
            return Ok(r);
        }
    };
    let lang = i18n::find(&f.language).unwrap_or(l);
    accounts::update_profile(&s, u.id, name, lang.code())
        .await
        .map_err(|e| PageError::with_user(e, &u))?;
    let mut r = see_other("/account?saved=1");
    r.headers_mut()
        .append(SET_COOKIE, auth::cookie(i18n::COOKIE, lang.code(), 365 * 24 * 3600));
    Ok(r)
}

async fn account_password(State(s): State<AppState>, user: MaybeUser, ApiForm(f): ApiForm<PasswordForm>) -> PageResult {
    let u = need(user)?;
    u.ensure_current_session()?;
    let l = i18n::current();
    let done = match Password::parse(&f.new_password) {
        Ok(pw) => accounts::change_password(&s, &u, &f.current_password, pw).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => {
            // Every session ended, this one too: log in again with the new password.
            let mut r = form_page(
                &tr!(l, "password-changed-title"),
                None,
                Some(notice("ok", &tr!(l, "password-changed-text"))),
                html! { a.button href="/login?next=/account" { (tr!(l, "nav-log-in")) } },
            );
            r.headers_mut()
                .append(SET_COOKIE, auth::cookie(auth::ACCESS_COOKIE, "", 0));
            r.headers_mut()
                .append(SET_COOKIE, auth::cookie(auth::REFRESH_COOKIE, "", 0));
            Ok(r)
        }
        Err(e @ (AppError::BadRequest { .. } | AppError::Forbidden(_) | AppError::TooManyRequests { .. })) => {
            Ok(account_refused(l, &u, &e))
        }
        Err(e) => Err(PageError::with_user(e, &u)),
    }
}

/// Everything the shop keeps about the signed-in buyer, as a JSON file.
async fn account_data(State(s): State<AppState>, user: MaybeUser) -> PageResult {
    let u = need(user)?;
    let base = s.base_url.to_string();
    let data = accounts::export(&s, u.id, base)
        .await
        .map_err(|e| PageError::with_user(e, &u))?;
    let body = serde_json::to_vec_pretty(&data).map_err(AppError::internal)?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/json"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"og-tickets-my-data.json\"",
            ),
        ],
        body,
    )
        .into_response())
}

async fn account_delete(State(s): State<AppState>, user: MaybeUser, ApiForm(f): ApiForm<DeleteForm>) -> PageResult {
    let u = need(user)?;
    u.ensure_current_session()?;
    let l = i18n::current();
    if f.understood != "yes" {
        let mut r = page(
            &tr!(l, "account-title"),
            Some(&u),
            account_body(&u, Some(notice("error", &tr!(l, "account-delete-not-understood")))),
        )
        .into_response();
        *r.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(r);
    }
    match accounts::delete_account(&s, &u, &f.password).await {
        Ok(()) => {
            let mut r = form_page(
                &tr!(l, "account-deleted-title"),
                None,
                Some(notice("ok", &tr!(l, "account-deleted-text"))),
                html! { a.button href="/" { (tr!(l, "back-to-events")) } },
            );
            for c in [
                auth::ACCESS_COOKIE,
                auth::REFRESH_COOKIE,
                auth::KNOWN_DEVICE_COOKIE,
                CART_COOKIE,
            ] {
                r.headers_mut().append(SET_COOKIE, auth::cookie(c, "", 0));
            }
            Ok(r)
        }
        Err(e @ (AppError::Forbidden(_) | AppError::TooManyRequests { .. })) => Ok(account_refused(l, &u, &e)),
        Err(e) => Err(PageError::with_user(e, &u)),
    }
}

#[derive(Deserialize)]
struct BackQuery {
    #[serde(default)]
    back: String,
}

/// The header's language switcher: keeps the choice in a cookie (and as the signed-in
/// account's preference), then goes back to the page it came from (a path of this site only).
async fn switch_language(
    State(s): State<AppState>,
    user: MaybeUser,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<BackQuery>,
) -> PageResult {
    let lang = i18n::find(&code).ok_or_else(|| AppError::not_found("no such language"))?;
    if let Some(u) = &user.0 {
        accounts::set_language(&s, u.id, lang.code())
            .await
            .map_err(|e| PageError::with_user(e, u))?;
    }
    let back = if q.back.bytes().all(|b| b.is_ascii_graphic()) && safe_next(&q.back) == q.back {
        q.back
    } else {
        "/".to_owned()
    };
    let mut r = see_other(&back);
    r.headers_mut()
        .append(SET_COOKIE, auth::cookie(i18n::COOKIE, lang.code(), 365 * 24 * 3600));
    Ok(r)
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
