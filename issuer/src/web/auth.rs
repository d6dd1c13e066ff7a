//! Who is calling, for the handlers: the extractors of a signed-in buyer ([`AuthUser`],
//! [`SensitiveUser`], [`MaybeUser`]), an operator ([`OperatorAuth`]; [`ConsoleOperator`] on a
//! console page, which sends anyone else to the login page) and a gate device
//! ([`DeviceAuth`]), and [`authorize`], the one layer that checks an operator's role for every
//! operator route against `ops::access::ROUTES`. The rules they apply are in `shop::auth`,
//! `ops::auth` and `gates::auth`.

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::AppError;
use crate::gates::auth::{DeviceAuth, device_for_credential};
use crate::ops::access::Access::{Needs, Open};
use crate::ops::access::{is_operator_path, requirement};
use crate::ops::auth::{OperatorAuth, bearer};
use crate::shop::auth::{AuthUser, MaybeUser, SensitiveUser, user_from_headers};
use crate::state::AppState;

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<AuthUser, AppError> {
        if let Some(u) = parts.extensions.get::<AuthUser>() {
            return Ok(u.clone());
        }
        match user_from_headers(state, &parts.headers).await? {
            Some(u) => {
                crate::i18n::note_account(u.language.as_deref());
                parts.extensions.insert(u.clone());
                Ok(u)
            }
            None => Err(AppError::Unauthorized(
                "sign in first: the access token is missing, expired or invalid".into(),
            )),
        }
    }
}

impl FromRequestParts<AppState> for SensitiveUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<SensitiveUser, AppError> {
        let u = AuthUser::from_request_parts(parts, state).await?;
        u.ensure_current_session()?;
        Ok(SensitiveUser(u))
    }
}

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<MaybeUser, AppError> {
        match AuthUser::from_request_parts(parts, state).await {
            Ok(u) => Ok(MaybeUser(Some(u))),
            Err(AppError::Unauthorized(_)) => Ok(MaybeUser(None)),
            Err(e) => Err(e),
        }
    }
}

impl FromRequestParts<AppState> for OperatorAuth {
    type Rejection = AppError;

    /// The operator [`authorize`] already authenticated for this route (every
    /// operator route has it), or authenticates now.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(op) = parts.extensions.get::<OperatorAuth>() {
            return Ok(op.clone());
        }
        OperatorAuth::authenticate(parts, state).await
    }
}

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let cred = bearer(parts)
            .ok_or_else(|| AppError::Unauthorized("device credential required".into()))?
            .to_owned();
        state.db.read(move |c| device_for_credential(c, &cred)).await
    }
}

/// The layer over every operator route: finds the route's requirement, authenticates the
/// operator, checks the role and hands the operator to the handler (request extension). The
/// console sends whoever is not signed in to `/ops/login` and shows a page for a refusal; the
/// API answers 401/403 in JSON.
pub async fn authorize(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path().to_owned(), |m| m.as_str().to_owned());
    if !is_operator_path(&path) {
        return next.run(req).await;
    }
    let console = !path.starts_with("/api/");
    let needed = match requirement(req.method(), &path) {
        Some(Open) => return next.run(req).await,
        Some(Needs(p)) => p,
        None => {
            tracing::error!(method = %req.method(), %path, "operator route without a declared permission");
            return AppError::Forbidden("this route declares no permission".into()).into_response();
        }
    };
    let (mut parts, body) = req.into_parts();
    let op = match OperatorAuth::authenticate(&parts, &state).await {
        Ok(op) => op,
        Err(AppError::Unauthorized(_) | AppError::Forbidden(_)) if console => {
            return Redirect::to("/ops/login").into_response();
        }
        Err(e) => return e.into_response(),
    };
    if let Err(e) = op.require(needed) {
        tracing::info!(operator = op.account_id, role = op.role.name(), %path, "operator route refused to the role");
        return if console {
            super::console_ui::forbidden(&op, needed)
        } else {
            e.into_response()
        };
    }
    parts.extensions.insert(op);
    next.run(Request::from_parts(parts, body)).await
}

/// The signed-in operator of a console page (authenticated and checked against the route's
/// permission by `web::auth::authorize`; anyone else never reaches a handler).
pub struct ConsoleOperator(pub OperatorAuth);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ConsoleOperator
where
    OperatorAuth: axum::extract::FromRequestParts<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Response> {
        OperatorAuth::from_request_parts(parts, state)
            .await
            .map(ConsoleOperator)
            .map_err(|_| Redirect::to("/ops/login").into_response())
    }
}
