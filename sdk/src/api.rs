//! Request and response bodies of the natter REST API (`/v1/...`), shared by the server and by
//! Rust clients. Like [`crate::protocol`], these are a compatibility promise; the server's OpenAPI
//! document at `/openapi.json` is generated from them.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::protocol::{
    AgentStatus, ConversationSummary, ErrorCode, Message, Presence, Principal, QueueLength,
    RoutingPolicy, StaffRef, StaffRole, Timestamp, WhenUnavailable,
};

/// Why a string is not a bare web origin (see [`parse_origin`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginError {
    /// It does not start with `http://` or `https://`.
    Scheme,
    /// It has a path, query or fragment after the host.
    Path,
    /// The host or port is malformed.
    Malformed,
}

/// Checks that `origin` is a bare web origin as allowed origins are spelled: `http` or `https`,
/// a host, an optional port, and nothing else. Returns it normalised (lowercase, no trailing
/// slash), the spelling the server stores. Shared by the server's validation and the console's
/// form so that both accept exactly the same origins.
pub fn parse_origin(origin: &str) -> Result<String, OriginError> {
    let trimmed = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or(OriginError::Scheme)?;
    if rest.contains(['/', '?', '#']) {
        return Err(OriginError::Path);
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.contains(']') || host.ends_with(']') => (host, Some(port)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.parse::<u16>().is_ok());
    if host_ok && port_ok {
        Ok(trimmed)
    } else {
        Err(OriginError::Malformed)
    }
}

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
    /// The page the widget runs on (`location.href`), shown to agents; at most 2,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
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
    /// When true, staff see what visitors are typing (the `preview` of `typing` frames).
    /// Absent from older servers, which had no previews.
    #[serde(default)]
    pub typing_preview: bool,
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
    /// Show staff what visitors are typing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typing_preview: Option<bool>,
}

/// `GET /v1/tenant/identity-secret` and `POST /v1/tenant/identity-secret/rotate` (owners and
/// admins): the key the site's server signs visitor identities with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentitySecretResponse {
    /// The secret (after a rotation: the new one; the old one no longer verifies).
    pub identity_secret: String,
}

/// `GET /v1/staff-room` (staff): the tenant's staff group chat, an ordinary conversation id for
/// the WebSocket `send`, `sync` and `typing` frames and the REST message endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffRoomResponse {
    /// The staff room's conversation id (stable for the tenant).
    pub conversation_id: String,
    /// The `seq` of its newest message (0 when empty).
    pub last_seq: u64,
}

/// `PUT /v1/conversations/{id}/read` (staff): the caller has read the conversation up to `seq`.
/// Positions only move forward (a lower `seq` is accepted and ignored); `seq` may not exceed
/// the conversation's `last_seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadRequest {
    /// The last message read.
    pub seq: u64,
}

/// A staff member's read position in one conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadPositionInfo {
    /// The conversation.
    pub conversation_id: String,
    /// The last message read; later ones are unread.
    pub seq: u64,
}

/// `GET /v1/read-positions` (staff): the caller's read positions, one per conversation they
/// have marked read on any device. `PUT /v1/conversations/{id}/read` answers with one
/// [`ReadPositionInfo`], the position kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadPositions {
    /// One per conversation, in no particular order.
    pub positions: Vec<ReadPositionInfo>,
}

/// `POST /v1/conversations` (visitor): start a conversation, optionally with a first message.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartConversationRequest {
    /// An optional first message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<SendMessageRequest>,
    /// The team to talk to (a team id of the site); absent: anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Start even when nobody is available under the `reject` policy: the visitor leaves a
    /// message for later.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub leave_message: bool,
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

/// `GET /v1/visitor/availability`: whether an advisor can take a new conversation now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AvailabilityResponse {
    /// An eligible advisor is online with room for one more conversation.
    pub available: bool,
    /// What a request gets when nobody is: `queue`, `reject` or `offline`.
    pub when_unavailable: WhenUnavailable,
    /// The tenant's away message, when nobody is available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub away_message: Option<String>,
    /// The site's teams a visitor may ask for.
    pub teams: Vec<TeamInfo>,
}

/// A team as visitors and staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamInfo {
    /// Stable id (`a-z`, `0-9`, `-`; 1 to 32 characters).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Its own policy (absent: the tenant's). Omitted for visitors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<RoutingPolicy>,
}

/// `GET` and `PUT /v1/routing/settings`: how conversations reach agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoutingSettingsBody {
    /// `auto` (natter assigns) or `manual` (agents accept from a pending list).
    pub policy: RoutingPolicy,
    /// What a request gets when nobody is available: `queue`, `reject` or `offline`.
    pub when_unavailable: WhenUnavailable,
    /// Most open conversations per agent unless an agent has their own (0 to 100).
    pub default_capacity: u32,
    /// Keep a lost agent's conversations assigned instead of returning them to the line.
    pub keep_assigned_on_agent_loss: bool,
    /// Shown to visitors while nobody is available (1 to 500 characters).
    pub away_message: String,
    /// Teams (at most 50); an empty list makes the tenant one pool.
    pub teams: Vec<TeamInfo>,
}

/// `PUT /v1/routing/me/presence`: an agent sets their availability.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PresenceRequest {
    /// `online`, `away` or `offline`.
    pub presence: Presence,
}

/// `PATCH /v1/routing/agents/{id}`: change an agent's routing profile; absent fields are left
/// alone. Agents may change their own capacity and picture; teams and other agents are for
/// owners and admins.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateAgentRequest {
    /// Their own capacity (0 to 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// `true`: use the tenant's default capacity again (cannot be combined with `capacity`).
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub use_default_capacity: bool,
    /// Team ids (replaces the list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<Vec<String>>,
    /// Picture URL (`http(s)://`); an empty string removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
}

/// `GET /v1/routing/agents`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentList {
    /// Every agent of the tenant.
    pub items: Vec<AgentStatus>,
}

/// One waiting conversation in `GET /v1/routing/queue`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueEntry {
    /// The conversation.
    pub conversation: ConversationSummary,
    /// Its 1-based position in its team's line.
    pub position: u32,
    /// Agents who refused it.
    pub refused_by: Vec<String>,
}

/// `GET /v1/routing/queue`: the waiting line (the pending list under the manual policy).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueResponse {
    /// Waiting conversations in line order.
    pub items: Vec<QueueEntry>,
    /// How many wait per team.
    pub queues: Vec<QueueLength>,
}

/// `POST /v1/conversations/{id}/transfer`: hand an open conversation over. Give exactly one of
/// `to_agent`, `to_team` and `to_queue`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferRequest {
    /// A staff id: straight to that agent (your own id takes the conversation over).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_agent: Option<String>,
    /// A team id: to the front of that team's line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_team: Option<String>,
    /// `true`: back to the front of its line.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub to_queue: bool,
    /// An internal note for the next advisor (at most 1000 characters; staff only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One entry of a conversation's staff-only history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationEventInfo {
    /// Id.
    pub id: String,
    /// `transferred` or `requeued` (its agent was lost).
    pub kind: String,
    /// Who did it (absent: natter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<StaffRef>,
    /// The agent it went to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_agent: Option<StaffRef>,
    /// The team whose line it went to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_team: Option<String>,
    /// The internal note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When.
    pub created_at: Timestamp,
}

/// `GET /v1/conversations/{id}/events`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventList {
    /// Oldest first.
    pub items: Vec<ConversationEventInfo>,
}

/// Which bottom corner of the page the widget's launcher sits in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WidgetPosition {
    /// Bottom right (the default).
    #[default]
    Right,
    /// Bottom left, for sites whose own controls sit on the right.
    Left,
}

impl WidgetPosition {
    /// The wire name, also used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            WidgetPosition::Right => "right",
            WidgetPosition::Left => "left",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "right" => Some(WidgetPosition::Right),
            "left" => Some(WidgetPosition::Left),
            _ => None,
        }
    }
}

/// `GET` and `PUT /v1/tenant/widget`: how the visitor widget looks on the tenant's site. A `PUT`
/// replaces every field: an absent optional text goes back to the widget's default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetSettingsBody {
    /// Accent colour of the launcher and the header: `#` and six hex digits (`#4f46e5`), sent
    /// back in lowercase.
    pub color: String,
    /// `right` or `left`: the bottom corner the launcher sits in.
    pub position: WidgetPosition,
    /// First line shown in an empty chat (at most 280 characters). Absent: the widget's own
    /// greeting in the visitor's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
    /// Text next to the launcher icon (at most 40 characters). Absent: the icon alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launcher_text: Option<String>,
    /// Title of the chat window (at most 60 characters). Absent: the site's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `GET /v1/visitor/widget`: everything the widget needs at boot, in one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetConfigResponse {
    /// The tenant's display name (the window title when `widget.title` is absent).
    pub site_name: String,
    /// The tenant's appearance settings.
    pub widget: WidgetSettingsBody,
    /// Whether an advisor is available now, as `GET /v1/visitor/availability` answers.
    pub availability: AvailabilityResponse,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_widget_configuration_has_a_pinned_json_shape_without_absent_texts() {
        let config = WidgetConfigResponse {
            site_name: "Demo Shop".into(),
            widget: WidgetSettingsBody {
                color: "#0f766e".into(),
                position: WidgetPosition::Left,
                greeting: Some("Hi!".into()),
                launcher_text: None,
                title: None,
            },
            availability: AvailabilityResponse {
                available: true,
                when_unavailable: WhenUnavailable::Queue,
                away_message: None,
                teams: Vec::new(),
            },
        };
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(
            json,
            r##"{"site_name":"Demo Shop","widget":{"color":"#0f766e","position":"left","greeting":"Hi!"},"availability":{"available":true,"when_unavailable":"queue","teams":[]}}"##
        );
        let back: WidgetConfigResponse = serde_json::from_str(&json).unwrap();
        assert_eq!(back, config);
        assert_eq!(WidgetPosition::parse("right"), Some(WidgetPosition::Right));
        assert_eq!(WidgetPosition::Left.as_str(), "left");
        assert_eq!(WidgetPosition::parse("top"), None);
    }
}
