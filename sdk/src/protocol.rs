//! The natter wire protocol, version 1: the frames exchanged over `/v1/ws` and the shared vocabulary
//! (messages, conversations, authors, error codes) that the REST API in [`crate::api`] reuses.
//!
//! These types are a compatibility promise: servers and clients in other languages are written
//! against `docs/protocol.md`, which documents every frame defined here. Changing a field name or a
//! tag is a protocol change; adding an optional field is not. Every enum that a newer server may
//! extend is `#[non_exhaustive]` and clients must ignore frames whose `type` they do not know
//! (see [`ServerFrame::Unknown`]).
//!
//! The types only derive serde; the JSON encoding itself lives in [`crate::codec`] so that the
//! browser build can parse with the browser's own `JSON` instead of pulling in serde_json.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

/// The protocol version this crate speaks. Sent in [`ClientFrame::Auth`] and echoed in
/// [`ServerFrame::Welcome`].
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest message text, in Unicode scalar values (characters), that a server accepts.
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// Largest WebSocket frame (in bytes) a server accepts from a client. A full-length message of
/// multi-byte characters plus its envelope fits comfortably.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// Most cursors the server accepts in one `sync`; clients split larger syncs.
pub const MAX_SYNC_CURSORS: usize = 200;

/// WebSocket close code: the socket did not authenticate validly in time (bad, expired or
/// missing token, or a first frame that is not `auth`).
pub const CLOSE_UNAUTHENTICATED: u16 = 4001;
/// WebSocket close code: the client speaks another protocol version.
pub const CLOSE_UNSUPPORTED_PROTOCOL: u16 = 4002;
/// WebSocket close code: the principal may not use the socket (reserved; today such sockets
/// are refused with [`CLOSE_UNAUTHENTICATED`]).
pub const CLOSE_FORBIDDEN: u16 = 4003;
/// WebSocket close code: the client reads too slowly; reconnect (with backoff) and sync.
pub const CLOSE_LAGGING: u16 = 4008;
/// WebSocket close code "service restart" (RFC 6455), sent after a `reconnect` frame.
pub const CLOSE_SERVICE_RESTART: u16 = 1012;
/// WebSocket close code "normal closure", used by clients for every close they initiate.
pub const CLOSE_NORMAL: u16 = 1000;

/// A client-chosen identifier for one command, echoed in the response to it. Clients usually count
/// up from 1 per connection.
pub type RequestId = u64;

/// Milliseconds since the Unix epoch (UTC).
pub type Timestamp = i64;

/// A frame sent by a client to the server.
///
/// The first frame on every socket must be [`ClientFrame::Auth`]; the server closes sockets that
/// do not authenticate within a few seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Authenticate this socket with an access token (staff) or a visitor token.
    Auth {
        /// The protocol version the client speaks; must be [`PROTOCOL_VERSION`].
        protocol: u32,
        /// A bearer token obtained from the REST API (`/v1/auth/login` or `/v1/visitor/session`).
        token: String,
    },
    /// Post a message to a conversation. Answered by [`ServerFrame::Sent`] or [`ServerFrame::Error`].
    Send {
        /// Request id echoed in the answer.
        id: RequestId,
        /// The conversation to post to.
        conversation_id: String,
        /// Client-chosen idempotency key (a UUID is recommended). Resending the same
        /// `client_id` in the same conversation stores the message once and is acknowledged
        /// with the same `seq`.
        client_id: String,
        /// The message text, 1 to [`MAX_MESSAGE_CHARS`] characters; stored as given (never
        /// interpreted as HTML).
        text: String,
    },
    /// Ask for every message after a given `seq`, per conversation. The server replays the missed
    /// messages as [`ServerFrame::Message`] frames, in order, then answers [`ServerFrame::Synced`].
    Sync {
        /// Request id echoed in the answer.
        id: RequestId,
        /// One cursor per conversation the client already knows about.
        cursors: Vec<Cursor>,
    },
    /// Tell the other participants that this client started or stopped typing. Not answered.
    Typing {
        /// The conversation being typed in.
        conversation_id: String,
        /// `true` while typing; clients send `false` when the composer is cleared or blurred.
        typing: bool,
        /// Visitors only: what the composer holds right now (at most 500 characters), so agents
        /// can read along when the tenant enables typing previews. Ignored from staff.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        preview: Option<String>,
    },
    /// Application-level heartbeat (browsers cannot send WebSocket pings). Answered by
    /// [`ServerFrame::Pong`] with the same nonce.
    Ping {
        /// Any number; echoed back.
        #[serde(default)]
        nonce: u64,
    },
}

/// "I have every message of `conversation_id` up to and including `after_seq`."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cursor {
    /// The conversation.
    pub conversation_id: String,
    /// The highest `seq` the client holds (0 when it holds none).
    pub after_seq: u64,
}

/// A frame sent by the server to a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ServerFrame {
    /// The socket is authenticated. Always the first frame the server sends.
    Welcome {
        /// The protocol version the server speaks for this socket.
        protocol: u32,
        /// Who this socket acts as.
        principal: Principal,
        /// The client should send a [`ClientFrame::Ping`] when it has sent nothing for this long;
        /// it should consider the socket dead after twice this long without any frame.
        heartbeat_ms: u64,
    },
    /// Answer to [`ClientFrame::Send`]: the message is durably stored.
    Sent {
        /// The request id of the `send` command.
        id: RequestId,
        /// The stored message (its `seq` is final).
        message: Message,
    },
    /// Answer to [`ClientFrame::Sync`], sent after all replayed messages.
    Synced {
        /// The request id of the `sync` command.
        id: RequestId,
        /// Conversations with their latest `seq`: for a visitor, all of theirs (so a client learns
        /// about conversations it did not ask for); for staff, the ones the cursors named.
        conversations: Vec<ConversationSummary>,
    },
    /// A command failed, or (without `id`) the connection-level problem that precedes a close.
    Error {
        /// The request id of the failed command, if the error answers one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        /// Machine-readable reason.
        code: ErrorCode,
        /// Human-readable explanation (English); never contains secrets or message bodies.
        message: String,
    },
    /// A new message in a conversation this socket follows (including the socket's own messages,
    /// so every tab of the same visitor sees them).
    Message {
        /// The stored message.
        message: Message,
    },
    /// Someone started or stopped typing.
    Typing {
        /// The conversation.
        conversation_id: String,
        /// Who is typing.
        author: Author,
        /// Started (`true`) or stopped (`false`).
        typing: bool,
        /// The visitor's draft, sent to staff only and only when the tenant enables typing
        /// previews.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        preview: Option<String>,
    },
    /// A conversation was created or changed (claimed, closed, new activity).
    Conversation {
        /// Its new state.
        conversation: ConversationSummary,
    },
    /// Answer to [`ClientFrame::Ping`].
    Pong {
        /// The nonce of the ping.
        nonce: u64,
    },
    /// The server is going away (for example a deploy); reconnect after the given delay. The
    /// server closes the socket right after this frame.
    Reconnect {
        /// Why, for logs.
        reason: String,
        /// Suggested delay before reconnecting.
        retry_after_ms: u64,
    },
    /// To a visitor: their conversation waits for an advisor. Sent when it starts waiting and
    /// whenever its position or estimate changes.
    Queued {
        /// The waiting conversation.
        conversation_id: String,
        /// 1 for the next conversation to be assigned in its team's line.
        position: u32,
        /// Estimated wait until assignment, from the recent pace of the line; absent while
        /// natter has no estimate.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        estimated_wait_ms: Option<u64>,
    },
    /// To a visitor: nobody is available and the tenant takes messages for later (policy
    /// `offline`); the conversation waits until an advisor returns.
    Away {
        /// The waiting conversation.
        conversation_id: String,
        /// The tenant's away message.
        message: String,
    },
    /// To a visitor: an advisor now handles their conversation.
    Assigned {
        /// The conversation.
        conversation_id: String,
        /// The advisor.
        agent: AgentCard,
    },
    /// To a visitor and to staff: the conversation changed hands. Visitors never see the note.
    Transferred {
        /// The conversation.
        conversation_id: String,
        /// The advisor it came from (the one who handed it over, or the one natter took it from
        /// after they were lost).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<StaffRef>,
        /// Where it went.
        to: TransferTarget,
        /// The internal note for the next advisor (staff only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// To eligible staff (policy `manual`): a request waits for someone to accept or refuse it.
    Offer {
        /// The waiting conversation.
        conversation: ConversationSummary,
    },
    /// To staff who saw an [`ServerFrame::Offer`]: it is no longer open to them (accepted by
    /// someone, refused by them, closed, or moved to another team).
    OfferWithdrawn {
        /// The conversation.
        conversation_id: String,
    },
    /// To staff: how many conversations wait, per team. Sent on connect and when it changes.
    QueueLength {
        /// Waiting conversations per team (`team` absent for the tenant-wide pool).
        queues: Vec<QueueLength>,
    },
    /// To staff: a colleague's (or one's own) presence, load or capacity changed.
    Presence {
        /// Their routing status.
        agent: AgentStatus,
    },
    /// To a staff member's own sockets (every device they are signed in on): they have read a
    /// conversation up to `seq` (set with `PUT /v1/conversations/{id}/read`). Only moves
    /// forward; visitors never get it.
    Read {
        /// The conversation.
        conversation_id: String,
        /// The last message read; later ones are unread.
        seq: u64,
    },
    /// A frame type this version of the crate does not know. Clients ignore it; it is never sent.
    #[serde(other, skip_serializing)]
    Unknown,
}

/// Who a socket or token acts as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Principal {
    /// Visitor or staff member.
    pub kind: PrincipalKind,
    /// The visitor's or staff member's id.
    pub id: String,
    /// The tenant (website) this principal belongs to.
    pub tenant_id: String,
    /// Display name, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The staff role; absent for visitors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<StaffRole>,
}

/// The two kinds of principals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// A website visitor (anonymous or identified by the site owner).
    Visitor,
    /// A staff member of the tenant (owner, admin or agent).
    Staff,
}

/// Staff roles. Owners and admins manage the tenant; agents answer conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Created the tenant; can do everything.
    Owner,
    /// Manages staff and settings.
    Admin,
    /// Answers conversations.
    Agent,
}

/// The author of a message or a typing indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Author {
    /// Visitor, staff or system.
    pub kind: AuthorKind,
    /// The visitor's or staff member's id (empty for system messages).
    pub id: String,
    /// Display name at the time of writing, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Staff only: their role at the time of writing, so owners and admins can be shown apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<StaffRole>,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    /// The conversation's visitor.
    Visitor,
    /// A staff member.
    Staff,
    /// natter itself (for example "conversation closed").
    System,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    /// Server-assigned id.
    pub id: String,
    /// The conversation it belongs to.
    pub conversation_id: String,
    /// Position in the conversation: 1, 2, 3, ... with no gaps.
    pub seq: u64,
    /// The idempotency key the sender chose (absent for system messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Who wrote it.
    pub author: Author,
    /// The text, exactly as sent. Render it as text, never as HTML.
    pub text: String,
    /// When the server stored it.
    pub created_at: Timestamp,
}

/// Lifecycle of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// Waiting for an agent.
    Unassigned,
    /// Claimed by an agent.
    Open,
    /// Closed; the visitor starts a new conversation to write again.
    Closed,
}

impl ConversationStatus {
    /// The wire name (`unassigned`, `open`, `closed`), also used in query strings and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Unassigned => "unassigned",
            ConversationStatus::Open => "open",
            ConversationStatus::Closed => "closed",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "unassigned" => Some(ConversationStatus::Unassigned),
            "open" => Some(ConversationStatus::Open),
            "closed" => Some(ConversationStatus::Closed),
            _ => None,
        }
    }
}

/// A conversation as shown in lists and pushed on change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationSummary {
    /// Server-assigned id.
    pub id: String,
    /// Unassigned, open or closed.
    pub status: ConversationStatus,
    /// The visitor who started it.
    pub contact: Contact,
    /// The agent who claimed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<StaffRef>,
    /// The `seq` of the newest message (0 when empty).
    pub last_seq: u64,
    /// The beginning of the newest message's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_preview: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed (message, claim, close); lists are sorted by this, newest first.
    pub last_activity_at: Timestamp,
    /// The team the visitor asked for (absent: the tenant-wide pool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
}

/// The visitor side of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    /// The visitor's id.
    pub visitor_id: String,
    /// The site owner's user id, when the visitor is identified and verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Display name, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E-mail, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The page the visitor was on when they last opened a session (from the widget).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    /// The visitor's browser `User-Agent`, as the server saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// When natter first saw this visitor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen_at: Option<Timestamp>,
}

/// A reference to a staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffRef {
    /// The staff member's id.
    pub id: String,
    /// Their display name.
    pub name: String,
}

/// An agent's availability for new conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Takes new conversations.
    Online,
    /// Connected, keeps their conversations, takes no new ones.
    Away,
    /// Not working; takes nothing.
    Offline,
}

impl Presence {
    /// The wire name (`online`, `away`, `offline`), also used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Online => "online",
            Presence::Away => "away",
            Presence::Offline => "offline",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "online" => Some(Presence::Online),
            "away" => Some(Presence::Away),
            "offline" => Some(Presence::Offline),
            _ => None,
        }
    }
}

/// How a tenant (or one of its teams) hands out new conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RoutingPolicy {
    /// natter assigns each request to the eligible online agent with the lowest load relative
    /// to capacity, round-robin among equals.
    Auto,
    /// Requests wait in a pending list; eligible agents accept (first accept wins) or refuse.
    Manual,
}

impl RoutingPolicy {
    /// The wire name, also used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            RoutingPolicy::Auto => "auto",
            RoutingPolicy::Manual => "manual",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(RoutingPolicy::Auto),
            "manual" => Some(RoutingPolicy::Manual),
            _ => None,
        }
    }
}

/// What happens to a new request when no eligible agent is available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WhenUnavailable {
    /// It waits in line; the visitor sees a live position and estimated wait.
    Queue,
    /// It is refused (`no_agent_available`), with the offer to leave a message instead.
    Reject,
    /// It is accepted and waits unassigned; the visitor sees the away message.
    Offline,
}

impl WhenUnavailable {
    /// The wire name, also used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            WhenUnavailable::Queue => "queue",
            WhenUnavailable::Reject => "reject",
            WhenUnavailable::Offline => "offline",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queue" => Some(WhenUnavailable::Queue),
            "reject" => Some(WhenUnavailable::Reject),
            "offline" => Some(WhenUnavailable::Offline),
            _ => None,
        }
    }
}

/// An advisor as a visitor sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentCard {
    /// The staff member's id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Picture URL, if they set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
}

/// Where a transferred conversation went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TransferTarget {
    /// Straight to another advisor.
    Agent {
        /// The new advisor.
        agent: AgentCard,
    },
    /// To the front of a team's line.
    Team {
        /// The team id.
        team: String,
    },
    /// To the front of the tenant-wide line.
    Queue,
}

/// How many conversations wait in one team's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueLength {
    /// The team (absent: conversations that named no team).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Waiting conversations.
    pub waiting: u32,
}

/// An agent's routing status, as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentStatus {
    /// The staff member's id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Picture URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// Effective presence (what routing uses): the chosen one while connected, `offline` after
    /// the last connection dropped and the grace period passed.
    pub presence: Presence,
    /// What the agent chose.
    pub chosen_presence: Presence,
    /// Open conversations assigned to them.
    pub load: u32,
    /// Most open conversations they take (their own or the tenant default).
    pub capacity: u32,
    /// Teams they belong to.
    pub teams: Vec<String>,
}

/// Machine-readable error codes, shared by WebSocket `error` frames and REST error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The request or frame is malformed (bad JSON, missing or mistyped field).
    BadRequest,
    /// A field has an invalid value (details in the message).
    Invalid,
    /// A message with no visible text.
    EmptyMessage,
    /// A message longer than [`MAX_MESSAGE_CHARS`].
    MessageTooLong,
    /// A request body or frame larger than allowed.
    TooLarge,
    /// Missing, malformed, forged or expired credentials.
    Unauthenticated,
    /// Authenticated, but not allowed to do this.
    Forbidden,
    /// No such thing (or not visible to the caller, which is deliberately indistinguishable).
    NotFound,
    /// The action conflicts with the current state (already claimed, e-mail taken, ...).
    Conflict,
    /// The conversation is closed.
    ConversationClosed,
    /// The tenant requires a verified identity and none (or a wrong one) was given.
    IdentityRequired,
    /// The Origin is not among the tenant's allowed origins.
    OriginNotAllowed,
    /// Too many requests; retry later.
    RateLimited,
    /// The client speaks a protocol version this server does not.
    UnsupportedProtocol,
    /// The server is temporarily unable to serve (storage down, shutting down).
    Unavailable,
    /// No advisor is available and the tenant refuses requests then (policy `reject`); the
    /// visitor may leave a message instead (`leave_message: true`).
    NoAgentAvailable,
    /// The agent already has as many open conversations as their capacity allows.
    AtCapacity,
    /// An unexpected server error; details are in the server's logs.
    Internal,
    /// A code this version of the crate does not know.
    #[serde(other)]
    Unknown,
}

/// Returns at most `max_chars` characters of `text`, for previews.
pub fn preview(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Why a message text is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Only whitespace (or nothing).
    #[error("a message needs some text")]
    Empty,
    /// Longer than [`MAX_MESSAGE_CHARS`].
    #[error("a message can be at most {MAX_MESSAGE_CHARS} characters")]
    TooLong,
}

impl TextError {
    /// The wire code for this refusal.
    pub fn code(self) -> ErrorCode {
        match self {
            TextError::Empty => ErrorCode::EmptyMessage,
            TextError::TooLong => ErrorCode::MessageTooLong,
        }
    }
}

/// Checks a message text the way the server does, so clients can refuse early.
pub fn validate_text(text: &str) -> Result<(), TextError> {
    // `all` rather than `trim().is_empty()`, the same test: `trim` decodes UTF-8 backwards too,
    // code the wasm widget sheds this way (~0.2 KB gzip, with its own trims rewritten).
    if text.chars().all(char::is_whitespace) {
        return Err(TextError::Empty);
    }
    // Counted one character at a time: `chars().nth` brings a chunked fast path, which cost the
    // wasm widget ~0.2 KB gzip for a text of at most a few thousand characters.
    if text
        .chars()
        .enumerate()
        .any(|(index, _)| index == MAX_MESSAGE_CHARS)
    {
        return Err(TextError::TooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whitespace_only_text_is_empty() {
        assert_eq!(validate_text(" \n\t"), Err(TextError::Empty));
    }

    #[test]
    fn a_text_at_the_limit_is_accepted_and_one_more_character_is_not() {
        let at_limit = "é".repeat(MAX_MESSAGE_CHARS);
        assert_eq!(validate_text(&at_limit), Ok(()));
        assert_eq!(
            validate_text(&format!("{at_limit}x")),
            Err(TextError::TooLong)
        );
    }

    #[test]
    fn a_preview_cuts_on_character_boundaries() {
        assert_eq!(preview("héllo wörld", 5), "héllo…");
        assert_eq!(preview("short", 10), "short");
    }
}
