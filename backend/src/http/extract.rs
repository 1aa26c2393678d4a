//! Request extractors that turn every kind of bad input into the one [`AppError`] shape:
//! [`ApiJson`], [`ApiPath`] and [`ApiQuery`] wrap axum's rejections, and the `*Auth` extractors
//! authenticate the bearer token. A malformed or invalid token is always an error, never silently
//! anonymous.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::auth::tokens::TokenKind;
use crate::auth::{Caller, StaffCaller, VisitorCaller};
use crate::error::AppError;

/// JSON body; bad JSON, wrong types and oversized bodies become typed errors.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::TooLarge;
    }
    match rejection {
        JsonRejection::JsonDataError(e) => AppError::BadRequest(e.body_text()),
        JsonRejection::JsonSyntaxError(e) => AppError::BadRequest(e.body_text()),
        JsonRejection::MissingJsonContentType(_) => {
            AppError::BadRequest("expected Content-Type: application/json".into())
        }
        other => AppError::BadRequest(other.body_text()),
    }
}

/// Path parameters with typed errors.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e: PathRejection| AppError::BadRequest(e.body_text()))
    }
}

/// Query string with typed errors.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e: QueryRejection| AppError::BadRequest(e.body_text()))
    }
}

fn bearer(parts: &Parts) -> Result<&str, AppError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or(AppError::Unauthenticated("missing Authorization header"))?;
    let value = header
        .to_str()
        .map_err(|_| AppError::Unauthenticated("malformed Authorization header"))?;
    value
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AppError::Unauthenticated("expected a Bearer token"))
}

/// An authenticated, active staff member.
pub struct StaffAuth(pub StaffCaller);

impl FromRequestParts<AppState> for StaffAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer(parts)?;
        state.staff_from_token(token).await.map(StaffAuth)
    }
}

/// An authenticated visitor.
pub struct VisitorAuth(pub VisitorCaller);

impl FromRequestParts<AppState> for VisitorAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer(parts)?;
        let visitor = state.visitor_from_token(token).await?;
        state
            .check_visitor_origin(&visitor.tenant_id, origin(parts))
            .await?;
        Ok(VisitorAuth(visitor))
    }
}

/// Either kind of caller: staff tokens and visitor tokens are told apart by their audience.
pub struct AnyAuth(pub Caller);

impl FromRequestParts<AppState> for AnyAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer(parts)?;
        if state.tokens.verify(TokenKind::StaffAccess, token).is_ok() {
            return state
                .staff_from_token(token)
                .await
                .map(|s| AnyAuth(Caller::Staff(s)));
        }
        let visitor = state.visitor_from_token(token).await?;
        state
            .check_visitor_origin(&visitor.tenant_id, origin(parts))
            .await?;
        Ok(AnyAuth(Caller::Visitor(visitor)))
    }
}

/// The request's `Origin` header, if any.
pub fn origin(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
}
