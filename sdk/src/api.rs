//! Request and response bodies of the natter REST API (`/v1/...`), shared by the server and by
//! Rust clients. Like [`crate::protocol`], these are a compatibility promise; the server's OpenAPI
//! document at `/openapi.json` is generated from them.

use serde::{Deserialize, Serialize};

use crate::protocol::{ConversationSummary, ErrorCode, Message, Principal, StaffRole, Timestamp};

/// The body of every REST error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// A typed error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Machine-readable reason.
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
}

/// `POST /v1/auth/login`: a staff member signs in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// The staff member's e-mail address.
    pub email: String,
    /// Their password.
    pub password: String,
}

/// `POST /v1/auth/refresh`: trade a refresh token for a new token pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    /// The refresh token from a previous [`TokenResponse`].
    pub refresh_token: String,
}

/// Tokens for a staff member.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// Short-lived bearer token for the API and the WebSocket `auth` frame.
    pub access_token: String,
    /// Long-lived token for `/v1/auth/refresh`.
    pub refresh_token: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: u64,
    /// Who the tokens belong to.
    pub principal: Principal,
}

/// `POST /v1/visitor/session`: a website visitor opens (or continues) a session.
///
/// Sent from the widget with the page's `Origin`, which must be among the tenant's allowed origins.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitorSessionRequest {
    /// The tenant's public site key (from the embed snippet).
    pub site_key: String,
    /// A visitor token from an earlier session, to continue as the same visitor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_token: Option<String>,
    /// The site owner's signed statement of who the visitor is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<VisitorIdentity>,
    /// Display name the visitor typed (ignored when `identity` carries one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E-mail the visitor typed (ignored when `identity` carries one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// An identity vouched for by the site owner's server: `user_hash` is the lowercase hex
/// HMAC-SHA256 of `user_id` keyed with the tenant's identity-verification secret.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitorIdentity {
    /// The site's own user id.
    pub user_id: String,
    /// `hex(HMAC-SHA256(secret, user_id))`.
    pub user_hash: String,
    /// The user's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The user's e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A visitor session.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitorSessionResponse {
    /// Bearer token for the API and the WebSocket; keep it to continue later.
    pub visitor_token: String,
    /// Lifetime of the token in seconds.
    pub expires_in: u64,
    /// Who the visitor is.
    pub principal: Principal,
    /// Whether the identity was verified with the tenant's secret.
    pub verified: bool,
}

/// A staff account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffMember {
    /// Id.
    pub id: String,
    /// Login e-mail.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: StaffRole,
    /// Deactivated accounts cannot sign in.
    pub active: bool,
    /// When it was created.
    pub created_at: Timestamp,
}

/// `POST /v1/staff`: an owner or admin creates an account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateStaffRequest {
    /// Login e-mail; unique across natter.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Initial password (at least 8 characters).
    pub password: String,
    /// Role; only an owner may create owners or admins.
    pub role: StaffRole,
}

/// `PATCH /v1/staff/{id}`: change an account; absent fields are left alone.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateStaffRequest {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<StaffRole>,
    /// `false` deactivates the account (its tokens stop working).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// New password (at least 8 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// The tenant's settings as seen by its staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantInfo {
    /// Id.
    pub id: String,
    /// Name of the website or company.
    pub name: String,
    /// Public key used in the embed snippet.
    pub site_key: String,
    /// Origins (`scheme://host[:port]`) allowed to open visitor sessions.
    pub allowed_origins: Vec<String>,
    /// When true, visitors must present a valid signed identity.
    pub require_verified_identity: bool,
}

/// `PATCH /v1/tenant`: owners and admins change settings; absent fields are left alone.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateTenantRequest {
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New list of allowed origins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    /// Require verified identities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_verified_identity: Option<bool>,
}

/// `POST /v1/conversations` (visitor): start a conversation, optionally with a first message.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartConversationRequest {
    /// An optional first message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<SendMessageRequest>,
}

/// `POST /v1/conversations/{id}/messages`: post a message over HTTP (the WebSocket `send` frame
/// does the same).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendMessageRequest {
    /// Client-chosen idempotency key.
    pub client_id: String,
    /// The text.
    pub text: String,
}

/// A page of conversations, newest activity first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationPage {
    /// The conversations on this page.
    pub items: Vec<ConversationSummary>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A page of messages in ascending `seq` order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessagePage {
    /// The messages on this page.
    pub items: Vec<Message>,
    /// Whether older messages exist before the first item.
    pub has_more: bool,
}

/// `GET /healthz` and `GET /readyz`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthResponse {
    /// `ok`, or what is wrong.
    pub status: String,
}
