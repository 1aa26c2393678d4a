//! The domain model of natter: tenants, staff, visitors, conversations and messages, as the server
//! and its stores see them. No I/O and no JSON here; HTTP and WebSocket handlers convert these to the
//! wire types of `natter_sdk` explicitly (see `crate::http::wire`).
//!
//! The small closed vocabularies (roles, statuses, author kinds, the widget's position) are reused
//! from `natter_sdk` because they are the same on both sides and already have one spelling.

pub mod permissions;
mod routing;
mod widget;

use natter_sdk::api::{OriginError, parse_origin};
pub use natter_sdk::protocol::{
    AuthorKind, ConversationStatus, Presence, RoutingPolicy, StaffRole, Timestamp, WhenUnavailable,
};
pub use routing::{
    Agent, AgentProfile, ConversationEvent, EventKind, FRONT_OF_QUEUE, Lease, RoutingSettings, Team,
};
pub use widget::{
    DEFAULT_COLOR, InvalidWidgetSettings, MAX_GREETING_CHARS, MAX_LAUNCHER_TEXT_CHARS,
    MAX_TITLE_CHARS, WidgetPosition, WidgetSettings,
};

/// A website or company served by natter. Every other record belongs to exactly one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Id (UUID v7 string).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Public key embedded in the site's `<script>` tag; unique across natter.
    pub site_key: String,
    /// Origins (`scheme://host[:port]`) allowed to open visitor sessions and call the API from a
    /// browser.
    pub allowed_origins: Vec<String>,
    /// Key for verifying visitor identities (HMAC-SHA256). Never sent to browsers.
    pub identity_secret: String,
    /// When true, a visitor must present a valid signed identity.
    pub require_verified_identity: bool,
    /// How conversations reach agents.
    pub routing: RoutingSettings,
    /// How the visitor widget looks on the tenant's site.
    pub widget: WidgetSettings,
    /// When true, staff read along what a visitor is typing (the widget's draft, sent with its
    /// `typing` frames); when false the server drops those drafts.
    pub typing_preview: bool,
    /// Creation time.
    pub created_at: Timestamp,
}

/// A staff account (owner, admin or agent) of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    /// Id.
    pub id: String,
    /// The tenant.
    pub tenant_id: String,
    /// Login e-mail, stored lowercased; unique across natter.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: StaffRole,
    /// PHC string of the argon2id hash of the password.
    pub password_hash: String,
    /// Deactivated accounts cannot sign in and their tokens are refused.
    pub active: bool,
    /// Creation time.
    pub created_at: Timestamp,
}

/// A website visitor, anonymous or identified by the site owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    /// Id.
    pub id: String,
    /// The tenant.
    pub tenant_id: String,
    /// The site owner's user id, set only for verified identities; unique per tenant.
    pub external_id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// The page the widget ran on when the visitor last opened a session (`location.href`).
    pub page_url: Option<String>,
    /// The browser's `User-Agent` at the visitor's last session, truncated.
    pub user_agent: Option<String>,
    /// Creation time: when natter first saw the visitor.
    pub created_at: Timestamp,
}

/// What a conversation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ConversationKind {
    /// A visitor talking to the tenant's staff: listed, routed, claimed and closed.
    #[default]
    Visitor,
    /// The tenant's one staff room: a group chat of all its staff, with no visitor. It uses the
    /// message paths of ordinary conversations (seq, outbox, sync) but is never listed, routed,
    /// claimed, transferred or closed.
    StaffRoom,
}

impl ConversationKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationKind::Visitor => "visitor",
            ConversationKind::StaffRoom => "staff_room",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "visitor" => Some(ConversationKind::Visitor),
            "staff_room" => Some(ConversationKind::StaffRoom),
            _ => None,
        }
    }
}

/// A conversation between one visitor and the tenant's staff (or, with
/// [`ConversationKind::StaffRoom`], the staff room).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// Id.
    pub id: String,
    /// The tenant.
    pub tenant_id: String,
    /// A visitor's conversation or the staff room.
    pub kind: ConversationKind,
    /// The visitor who started it; empty for the staff room.
    pub visitor_id: String,
    /// Copied from the visitor when the conversation starts, for listing and searching without a
    /// join.
    pub contact_name: Option<String>,
    /// Copied from the visitor.
    pub contact_email: Option<String>,
    /// Copied from the visitor.
    pub contact_external_id: Option<String>,
    /// The visitor's page, copied from the visitor when the conversation starts and again
    /// whenever the visitor opens a session while the conversation is not closed, so lists and
    /// live pushes show it without a join.
    pub contact_page_url: Option<String>,
    /// The visitor's browser, copied like `contact_page_url`.
    pub contact_user_agent: Option<String>,
    /// When the visitor was first seen (their creation time), copied at start.
    pub contact_first_seen_at: Option<Timestamp>,
    /// Unassigned, open (claimed) or closed.
    pub status: ConversationStatus,
    /// The staff member who claimed it.
    pub assignee_id: Option<String>,
    /// Their display name at claim time.
    pub assignee_name: Option<String>,
    /// The `seq` of the newest message; 0 when empty. The next message gets `last_seq + 1`.
    pub last_seq: u64,
    /// The beginning of the newest message.
    pub last_message_preview: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last message, claim or close; lists sort by this.
    pub last_activity_at: Timestamp,
    /// The team the visitor asked for (or it was transferred to); `None`: the tenant pool.
    pub team_id: Option<String>,
    /// While unassigned: its place in the waiting line (lower waits longer; ties by id). Set
    /// to the arrival time on start and to [`FRONT_OF_QUEUE`] + now when it returns to the
    /// line; `None` while assigned or closed.
    pub queue_rank: Option<i64>,
    /// Agents who refused it (manual policy); it is never offered to them again.
    pub refused_by: Vec<String>,
    /// When an agent first took it, for the time-to-first-assignment metric.
    pub first_assigned_at: Option<Timestamp>,
}

impl Conversation {
    /// A new, empty, unassigned conversation of `visitor`, with the contact details copied.
    pub fn start(visitor: &Visitor, now: Timestamp) -> Conversation {
        Conversation {
            id: new_id(),
            tenant_id: visitor.tenant_id.clone(),
            kind: ConversationKind::Visitor,
            visitor_id: visitor.id.clone(),
            contact_name: visitor.name.clone(),
            contact_email: visitor.email.clone(),
            contact_external_id: visitor.external_id.clone(),
            contact_page_url: visitor.page_url.clone(),
            contact_user_agent: visitor.user_agent.clone(),
            contact_first_seen_at: Some(visitor.created_at),
            status: ConversationStatus::Unassigned,
            assignee_id: None,
            assignee_name: None,
            last_seq: 0,
            last_message_preview: None,
            created_at: now,
            last_activity_at: now,
            team_id: None,
            queue_rank: Some(now),
            refused_by: Vec::new(),
            first_assigned_at: None,
        }
    }

    /// A new staff room for `tenant_id`: open, with no visitor and no assignee, never in line.
    pub fn staff_room(tenant_id: &str, now: Timestamp) -> Conversation {
        Conversation {
            id: new_id(),
            tenant_id: tenant_id.to_owned(),
            kind: ConversationKind::StaffRoom,
            visitor_id: String::new(),
            contact_name: None,
            contact_email: None,
            contact_external_id: None,
            contact_page_url: None,
            contact_user_agent: None,
            contact_first_seen_at: None,
            status: ConversationStatus::Open,
            assignee_id: None,
            assignee_name: None,
            last_seq: 0,
            last_message_preview: None,
            created_at: now,
            last_activity_at: now,
            team_id: None,
            queue_rank: None,
            refused_by: Vec::new(),
            first_assigned_at: None,
        }
    }

    /// Whether this is the tenant's staff room.
    pub fn is_staff_room(&self) -> bool {
        self.kind == ConversationKind::StaffRoom
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Id.
    pub id: String,
    /// The tenant.
    pub tenant_id: String,
    /// The conversation.
    pub conversation_id: String,
    /// Position in the conversation (1, 2, 3, ... without gaps).
    pub seq: u64,
    /// The sender's idempotency key; unique per conversation.
    pub client_id: Option<String>,
    /// Who wrote it.
    pub author_kind: AuthorKind,
    /// The visitor's or staff member's id ("" for system messages).
    pub author_id: String,
    /// The author's display name at the time of writing.
    pub author_name: Option<String>,
    /// A staff author's role at the time of writing; `None` for visitors, system messages and
    /// messages stored before roles were recorded.
    pub author_role: Option<StaffRole>,
    /// The text as given.
    pub text: String,
    /// When it was stored.
    pub created_at: Timestamp,
}

/// A message to be appended; the store assigns `id` (unless a duplicate), `seq` and `created_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The tenant.
    pub tenant_id: String,
    /// The conversation.
    pub conversation_id: String,
    /// The sender's idempotency key.
    pub client_id: Option<String>,
    /// Who writes.
    pub author_kind: AuthorKind,
    /// Their id.
    pub author_id: String,
    /// Their display name.
    pub author_name: Option<String>,
    /// A staff author's role.
    pub author_role: Option<StaffRole>,
    /// The text (already validated).
    pub text: String,
}

/// Someone started or stopped typing in a conversation: what one instance hands to the others
/// (see [`crate::store::ChangeFeed::announce_typing`]), so staff and visitors connected
/// elsewhere see it too. Ephemeral: never part of a conversation's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypingNotice {
    /// The tenant.
    pub tenant_id: String,
    /// The conversation (a visitor's, or the staff room).
    pub conversation_id: String,
    /// Who types.
    pub author_kind: AuthorKind,
    /// Their id.
    pub author_id: String,
    /// Their display name.
    pub author_name: Option<String>,
    /// A staff author's role.
    pub author_role: Option<StaffRole>,
    /// Started (`true`) or stopped.
    pub typing: bool,
    /// A visitor's draft, already cut to [`MAX_TYPING_PREVIEW_CHARS`]; present only when the
    /// instance that received it found the tenant forwarding previews. Staff only.
    pub preview: Option<String>,
}

impl TypingNotice {
    /// The draft that may be forwarded to staff: only a visitor's, only while typing, only
    /// when the tenant enables previews (`enabled`), cut to [`MAX_TYPING_PREVIEW_CHARS`]. Empty
    /// drafts are no preview.
    pub fn allowed_preview(
        author_kind: AuthorKind,
        typing: bool,
        draft: Option<&str>,
        enabled: bool,
    ) -> Option<String> {
        match draft {
            Some(draft)
                if !draft.is_empty() && typing && author_kind == AuthorKind::Visitor && enabled =>
            {
                Some(truncate_chars(draft, MAX_TYPING_PREVIEW_CHARS).to_owned())
            }
            _ => None,
        }
    }
}

/// Characters of a message kept as the conversation's preview.
pub const PREVIEW_CHARS: usize = 120;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Timestamp)
        .unwrap_or_default()
}

/// A new time-ordered unique id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Whether a browser `origin` (`scheme://host[:port]`) is in the tenant's allowed list. The
/// comparison ignores ASCII case and a trailing slash, as browsers never send one.
pub fn origin_allowed(allowed: &[String], origin: &str) -> bool {
    let origin = origin.trim_end_matches('/');
    allowed
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
}

/// Checks that `origin` is a bare web origin: `http` or `https`, a host, an optional port, and
/// nothing else ([`natter_sdk::api::parse_origin`]). Returns it normalised (lowercase, no
/// trailing slash).
pub fn normalize_origin(origin: &str) -> Result<String, String> {
    parse_origin(origin).map_err(|e| match e {
        OriginError::Scheme => format!("{origin:?} must start with http:// or https://"),
        OriginError::Path | OriginError::Malformed => {
            format!("{origin:?} is not an origin like https://shop.example:8443")
        }
    })
}

/// Longest page URL a visitor session may report.
pub const MAX_PAGE_URL_CHARS: usize = 2000;
/// Characters of a `User-Agent` header kept on the visitor.
pub const MAX_USER_AGENT_CHARS: usize = 512;
/// Characters of a visitor's draft forwarded as a typing preview.
pub const MAX_TYPING_PREVIEW_CHARS: usize = 500;

/// The first `max` characters of `text` (cut on a character boundary, never inside one).
pub fn truncate_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// Checks a page URL reported by the widget: `http://` or `https://` (any case), a host, at most
/// [`MAX_PAGE_URL_CHARS`] characters, no whitespace or control characters. Returns it trimmed.
pub fn validate_page_url(url: &str) -> Result<&str, String> {
    let url = url.trim();
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return Err("must be an http:// or https:// URL".into());
    };
    if url.chars().count() > MAX_PAGE_URL_CHARS {
        return Err(format!("at most {MAX_PAGE_URL_CHARS} characters"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') || host.starts_with('@') {
        return Err("must name a host".into());
    }
    Ok(url)
}

/// Records for unit tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// Conversation `c1` of visitor `v1` in tenant `t1`, with the given status and assignee.
    pub(crate) fn conversation(status: ConversationStatus, assignee: Option<&str>) -> Conversation {
        Conversation {
            id: "c1".into(),
            tenant_id: "t1".into(),
            kind: ConversationKind::Visitor,
            visitor_id: "v1".into(),
            contact_name: None,
            contact_email: None,
            contact_external_id: None,
            contact_page_url: None,
            contact_user_agent: None,
            contact_first_seen_at: None,
            status,
            assignee_id: assignee.map(str::to_owned),
            assignee_name: None,
            last_seq: 0,
            last_message_preview: None,
            created_at: 0,
            last_activity_at: 0,
            team_id: None,
            queue_rank: (status == ConversationStatus::Unassigned).then_some(0),
            refused_by: Vec::new(),
            first_assigned_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_visitors_nonempty_draft_while_typing_with_previews_on_is_forwarded() {
        let allowed = |kind, typing, draft, enabled| {
            TypingNotice::allowed_preview(kind, typing, draft, enabled)
        };
        assert_eq!(
            allowed(AuthorKind::Visitor, true, Some("hi"), true),
            Some("hi".to_owned())
        );
        assert_eq!(allowed(AuthorKind::Visitor, true, Some("hi"), false), None);
        assert_eq!(allowed(AuthorKind::Visitor, false, Some("hi"), true), None);
        assert_eq!(allowed(AuthorKind::Staff, true, Some("hi"), true), None);
        assert_eq!(allowed(AuthorKind::Visitor, true, Some(""), true), None);
        assert_eq!(allowed(AuthorKind::Visitor, true, None, true), None);
        let long = "é".repeat(MAX_TYPING_PREVIEW_CHARS + 1);
        assert_eq!(
            allowed(AuthorKind::Visitor, true, Some(&long), true).map(|p| p.chars().count()),
            Some(MAX_TYPING_PREVIEW_CHARS)
        );
    }

    #[test]
    fn an_origin_matches_regardless_of_case_and_trailing_slash() {
        let allowed = vec!["https://Shop.example".to_owned()];
        assert!(origin_allowed(&allowed, "https://shop.example"));
        assert!(origin_allowed(&allowed, "https://shop.example/"));
        assert!(!origin_allowed(&allowed, "https://evil.example"));
        assert!(!origin_allowed(&allowed, "http://shop.example"));
    }

    #[test]
    fn truncation_counts_characters_and_never_splits_one() {
        assert_eq!(truncate_chars("héllo", 2), "hé");
        assert_eq!(truncate_chars("日本語", 5), "日本語");
        assert_eq!(truncate_chars("👍🏽ok", 1), "👍");
        assert_eq!(truncate_chars("", 3), "");
    }

    #[test]
    fn page_urls_must_be_web_urls_with_a_host_and_a_bounded_length() {
        assert_eq!(
            validate_page_url(" https://shop.example/cart?x=1#top "),
            Ok("https://shop.example/cart?x=1#top")
        );
        assert!(validate_page_url("HTTP://localhost:8080/").is_ok());
        for bad in [
            "javascript:alert(1)",
            "ftp://shop.example/",
            "https://",
            "https:///path",
            "https://shop.example/a b",
            "shop.example/cart",
        ] {
            assert!(validate_page_url(bad).is_err(), "{bad}");
        }
        let long = format!("https://shop.example/{}", "a".repeat(MAX_PAGE_URL_CHARS));
        assert!(validate_page_url(&long).is_err());
    }

    #[test]
    fn origins_with_paths_or_other_schemes_are_refused() {
        assert_eq!(
            normalize_origin("HTTPS://Shop.Example:8443/").as_deref(),
            Ok("https://shop.example:8443")
        );
        assert!(normalize_origin("https://shop.example/path").is_err());
        assert!(normalize_origin("ftp://shop.example").is_err());
        assert!(normalize_origin("https://").is_err());
        assert!(normalize_origin("https://shop.example:99999").is_err());
        assert!(normalize_origin("*").is_err());
    }
}
