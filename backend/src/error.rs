//! The one error type of the application layer, [`AppError`], and its mapping to HTTP statuses
//! and wire [`ErrorCode`]s. Handlers and WebSocket sessions return it; `IntoResponse` turns it
//! into `{"error":{"code","message"}}`. Server-side failures (5xx) get a generic body; their cause
//! is logged once, here, inside the request's span.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use natter_sdk::api::{ErrorBody, ErrorDetail};
use natter_sdk::protocol::{ErrorCode, TextError};

use crate::store::StoreError;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: malformed request (bad JSON, missing field, wrong type).
    #[error("{0}")]
    BadRequest(String),
    /// 422: a field has an invalid value.
    #[error("{0}")]
    Invalid(String),
    /// 422: the message text is empty or too long.
    #[error(transparent)]
    Text(#[from] TextError),
    /// 413: body or frame too large.
    #[error("request too large")]
    TooLarge,
    /// 401: missing, malformed, forged or expired credentials.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// 403: authenticated but not allowed.
    #[error("{0}")]
    Forbidden(&'static str),
    /// 401: the tenant requires a verified identity and none or a wrong one was given.
    #[error("this site requires a verified identity")]
    IdentityRequired,
    /// 403: the request's Origin is not allowed for this tenant.
    #[error("origin not allowed for this site")]
    OriginNotAllowed,
    /// 404: absent or not visible to the caller (deliberately indistinguishable).
    #[error("not found")]
    NotFound,
    /// 409: conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// 409: the conversation is closed.
    #[error("the conversation is closed")]
    ConversationClosed,
    /// 409: no advisor is available and the tenant refuses requests then; the visitor may leave
    /// a message instead.
    #[error("no advisor is available right now; you can leave a message instead")]
    NoAgentAvailable,
    /// 409: the agent already has as many open conversations as their capacity allows.
    #[error("at capacity: close a conversation or raise your capacity first")]
    AtCapacity,
    /// 429: rate limited.
    #[error("too many requests")]
    RateLimited,
    /// 503: storage unreachable or the server is shutting down.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 500: a bug or a corrupt record; the cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// The wire code.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::BadRequest(_) => ErrorCode::BadRequest,
            AppError::Invalid(_) => ErrorCode::Invalid,
            AppError::Text(e) => e.code(),
            AppError::TooLarge => ErrorCode::TooLarge,
            AppError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            AppError::Forbidden(_) => ErrorCode::Forbidden,
            AppError::IdentityRequired => ErrorCode::IdentityRequired,
            AppError::OriginNotAllowed => ErrorCode::OriginNotAllowed,
            AppError::NotFound => ErrorCode::NotFound,
            AppError::Conflict(_) => ErrorCode::Conflict,
            AppError::ConversationClosed => ErrorCode::ConversationClosed,
            AppError::NoAgentAvailable => ErrorCode::NoAgentAvailable,
            AppError::AtCapacity => ErrorCode::AtCapacity,
            AppError::RateLimited => ErrorCode::RateLimited,
            AppError::Unavailable(_) => ErrorCode::Unavailable,
            AppError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Invalid(_) | AppError::Text(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unauthenticated(_) | AppError::IdentityRequired => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::OriginNotAllowed => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_)
            | AppError::ConversationClosed
            | AppError::NoAgentAvailable
            | AppError::AtCapacity => StatusCode::CONFLICT,
            AppError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message shown to clients: the error itself for client errors, a generic sentence for
    /// server errors (whose cause is logged instead).
    pub fn public_message(&self) -> String {
        match self {
            AppError::Unavailable(_) => "the service is temporarily unavailable".to_owned(),
            AppError::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        }
    }

    /// Logs server-side failures once; client errors are not logged as errors.
    pub fn log(&self) {
        match self {
            AppError::Internal(cause) => tracing::error!(%cause, "internal error"),
            AppError::Unavailable(cause) => tracing::warn!(%cause, "service unavailable"),
            _ => {}
        }
    }

    /// The wire body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.public_message(),
            },
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(what) => AppError::Conflict(what),
            StoreError::ConversationClosed => AppError::ConversationClosed,
            StoreError::AtCapacity => AppError::AtCapacity,
            StoreError::Unavailable(cause) => AppError::Unavailable(cause),
            StoreError::Internal(cause) => AppError::Internal(cause),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        (self.status(), Json(self.body())).into_response()
    }
}

/// Result of an application call.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_error_hides_its_cause_from_the_client() {
        let e = AppError::Internal("mongo said something secret".into());
        assert_eq!(e.body().error.message, "internal error");
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn the_error_body_json_is_pinned() {
        let body = serde_json::to_string(&AppError::ConversationClosed.body()).unwrap_or_default();
        assert_eq!(
            body,
            r#"{"error":{"code":"conversation_closed","message":"the conversation is closed"}}"#
        );
    }

    #[test]
    fn text_errors_map_to_their_own_codes() {
        assert_eq!(
            AppError::from(TextError::Empty).code(),
            ErrorCode::EmptyMessage
        );
        assert_eq!(
            AppError::from(TextError::TooLong).status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
}
