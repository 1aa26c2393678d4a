//! JSON in the browser: the protocol's frames and the REST bodies a browser client needs,
//! converted to and from the browser's own `JSON.parse` / `JSON.stringify` values (feature `js`).
//!
//! Its one user is the visitor widget (the agent console reads JSON with serde_json), so it
//! decodes the server frames a **visitor** can receive (docs/protocol.md, "Who receives what");
//! staff-only frames decode as [`ServerFrame::Unknown`], which clients ignore.
//!
//! Why not serde: serde-derived deserializers for internally tagged enums buffer every frame into
//! an intermediate tree, and either serde_json or serde-wasm-bindgen adds 28–57 KB gzip to a wasm
//! module, more than the widget's whole budget allows. These hand-written conversions add a few
//! KB. The types stay the ones of [`crate::protocol`] and [`crate::api`]; only the field names are
//! spelled a second time here, and `sdk/tests/js_codec.rs` runs in a real browser to check that
//! every frame encoded by serde_json decodes here to the same value (and the other way round for
//! what browsers send), so the two spellings cannot drift apart silently.
//!
//! Errors name the field that was missing or mistyped and avoid formatting machinery, which would
//! cost the widget another ~10 KB.

use alloc::string::String;
use alloc::vec::Vec;

use js_sys::{Array, JSON, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::api::{
    AvailabilityResponse, ErrorBody, ErrorDetail, StartConversationRequest, TeamInfo,
    VisitorSessionRequest, VisitorSessionResponse, WidgetConfigResponse, WidgetPosition,
    WidgetSettingsBody,
};
use crate::client::OutboxEntry;
use crate::protocol::{
    AgentCard, Author, AuthorKind, ClientFrame, Contact, ConversationStatus, ConversationSummary,
    ErrorCode, Message, Principal, PrincipalKind, RoutingPolicy, ServerFrame, StaffRef, StaffRole,
    TransferTarget, WhenUnavailable,
};

/// A JSON text that is not the expected shape: `field` is the first field found missing or of
/// the wrong type (`"json"` when the text is not JSON at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    /// The offending field's name.
    pub field: &'static str,
}

type Decoded<T> = Result<T, DecodeError>;

fn bad<T>(field: &'static str) -> Decoded<T> {
    Err(DecodeError { field })
}

/// A value that can be read from a parsed JSON value.
pub trait FromJs: Sized {
    /// Reads `value` (an object, string, number... as `JSON.parse` returns it).
    fn from_js(value: &JsValue) -> Decoded<Self>;
}

/// A value that can be turned into a JSON-ready JavaScript value.
pub trait ToJs {
    /// Builds the JavaScript value (`JSON.stringify` turns it into the wire text).
    fn to_js(&self) -> JsValue;
}

/// Parses a JSON text into `T`.
pub fn parse<T: FromJs>(text: &str) -> Decoded<T> {
    let value = JSON::parse(text).map_err(|_| DecodeError { field: "json" })?;
    T::from_js(&value)
}

/// Encodes `value` as JSON text.
pub fn stringify<T: ToJs + ?Sized>(value: &T) -> String {
    JSON::stringify(&value.to_js())
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

// ---- reading ----------------------------------------------------------------------------------

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn absent(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

fn string(object: &JsValue, key: &'static str) -> Decoded<String> {
    get(object, key)
        .as_string()
        .ok_or(DecodeError { field: key })
}

fn opt_string(object: &JsValue, key: &'static str) -> Decoded<Option<String>> {
    let value = get(object, key);
    if absent(&value) {
        return Ok(None);
    }
    value
        .as_string()
        .map(Some)
        .ok_or(DecodeError { field: key })
}

/// Largest integer a JavaScript number holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

fn integer(value: &JsValue, key: &'static str) -> Decoded<f64> {
    match value.as_f64() {
        // Whole when the round trip through i64 keeps it (`f64::fract` needs std); NaN and the
        // infinities fail one of the two tests.
        Some(n) if n.abs() <= MAX_SAFE_INTEGER && n as i64 as f64 == n => Ok(n),
        _ => bad(key),
    }
}

fn uint(object: &JsValue, key: &'static str) -> Decoded<u64> {
    let n = integer(&get(object, key), key)?;
    if n < 0.0 {
        return bad(key);
    }
    Ok(n as u64)
}

fn opt_uint(object: &JsValue, key: &'static str) -> Decoded<Option<u64>> {
    let value = get(object, key);
    if absent(&value) {
        return Ok(None);
    }
    uint(object, key).map(Some)
}

fn u32_field(object: &JsValue, key: &'static str) -> Decoded<u32> {
    u32::try_from(uint(object, key)?).or(bad(key))
}

fn int(object: &JsValue, key: &'static str) -> Decoded<i64> {
    integer(&get(object, key), key).map(|n| n as i64)
}

fn opt_int(object: &JsValue, key: &'static str) -> Decoded<Option<i64>> {
    if absent(&get(object, key)) {
        return Ok(None);
    }
    int(object, key).map(Some)
}

fn boolean(object: &JsValue, key: &'static str) -> Decoded<bool> {
    get(object, key).as_bool().ok_or(DecodeError { field: key })
}

fn object(parent: &JsValue, key: &'static str) -> Decoded<JsValue> {
    let value = get(parent, key);
    if value.is_object() && !Array::is_array(&value) {
        Ok(value)
    } else {
        bad(key)
    }
}

fn nested<T: FromJs>(parent: &JsValue, key: &'static str) -> Decoded<T> {
    T::from_js(&object(parent, key)?)
}

fn opt_nested<T: FromJs>(parent: &JsValue, key: &'static str) -> Decoded<Option<T>> {
    if absent(&get(parent, key)) {
        return Ok(None);
    }
    nested(parent, key).map(Some)
}

/// The array under `key`.
fn array(parent: &JsValue, key: &'static str) -> Decoded<Array> {
    get(parent, key).dyn_into::<Array>().or(bad(key))
}

/// Reads every item of `array`, stopping at the first error. An index loop rather than
/// `iter().map().collect::<Result<_, _>>()`: that adapter chain costs ~0.6 KB of wasm per item
/// type.
fn items<T: FromJs>(array: &Array) -> Decoded<Vec<T>> {
    let mut items = Vec::new();
    for index in 0..array.length() {
        items.push(T::from_js(&array.get(index))?);
    }
    Ok(items)
}

fn list<T: FromJs>(parent: &JsValue, key: &'static str) -> Decoded<Vec<T>> {
    items(&array(parent, key)?)
}

/// Reads a string field and maps it through `pick` (an enum's wire names).
fn named<T>(
    object: &JsValue,
    key: &'static str,
    pick: impl FnOnce(&str) -> Option<T>,
) -> Decoded<T> {
    pick(&string(object, key)?).ok_or(DecodeError { field: key })
}

/// The optional staff `role` of a principal or an author.
fn opt_role(object: &JsValue) -> Decoded<Option<StaffRole>> {
    match opt_string(object, "role")?.as_deref() {
        None => Ok(None),
        Some("owner") => Ok(Some(StaffRole::Owner)),
        Some("admin") => Ok(Some(StaffRole::Admin)),
        Some("agent") => Ok(Some(StaffRole::Agent)),
        Some(_) => bad("role"),
    }
}

fn is_object(value: &JsValue) -> Decoded<()> {
    if value.is_object() && !Array::is_array(value) {
        Ok(())
    } else {
        bad("object")
    }
}

impl FromJs for String {
    fn from_js(value: &JsValue) -> Decoded<Self> {
        value.as_string().ok_or(DecodeError { field: "string" })
    }
}

impl<T: FromJs> FromJs for Vec<T> {
    fn from_js(value: &JsValue) -> Decoded<Self> {
        let Some(array) = value.dyn_ref::<Array>() else {
            return bad("array");
        };
        items(array)
    }
}

impl FromJs for Principal {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        is_object(v)?;
        let role = opt_role(v)?;
        Ok(Principal {
            kind: named(v, "kind", |s| match s {
                "visitor" => Some(PrincipalKind::Visitor),
                "staff" => Some(PrincipalKind::Staff),
                _ => None,
            })?,
            id: string(v, "id")?,
            tenant_id: string(v, "tenant_id")?,
            name: opt_string(v, "name")?,
            role,
        })
    }
}

impl FromJs for Author {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        is_object(v)?;
        Ok(Author {
            kind: named(v, "kind", |s| match s {
                "visitor" => Some(AuthorKind::Visitor),
                "staff" => Some(AuthorKind::Staff),
                "system" => Some(AuthorKind::System),
                _ => None,
            })?,
            id: string(v, "id")?,
            name: opt_string(v, "name")?,
            role: opt_role(v)?,
        })
    }
}

impl FromJs for Message {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        is_object(v)?;
        Ok(Message {
            id: string(v, "id")?,
            conversation_id: string(v, "conversation_id")?,
            seq: uint(v, "seq")?,
            client_id: opt_string(v, "client_id")?,
            author: nested(v, "author")?,
            text: string(v, "text")?,
            created_at: int(v, "created_at")?,
        })
    }
}

impl FromJs for StaffRef {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        is_object(v)?;
        Ok(StaffRef {
            id: string(v, "id")?,
            name: string(v, "name")?,
        })
    }
}

impl FromJs for Contact {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        is_object(v)?;
        Ok(Contact {
            visitor_id: string(v, "visitor_id")?,
            external_id: opt_string(v, "external_id")?,
            name: opt_string(v, "name")?,
            email: opt_string(v, "email")?,
            page_url: opt_string(v, "page_url")?,
            user_agent: opt_string(v, "user_agent")?,
            first_seen_at: opt_int(v, "first_seen_at")?,
        })
    }
}

impl FromJs for ConversationSummary {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        is_object(v)?;
        Ok(ConversationSummary {
            id: string(v, "id")?,
            status: named(v, "status", ConversationStatus::parse)?,
            contact: nested(v, "contact")?,
            assignee: opt_nested(v, "assignee")?,
            last_seq: uint(v, "last_seq")?,
            last_message_preview: opt_string(v, "last_message_preview")?,
            created_at: int(v, "created_at")?,
            last_activity_at: int(v, "last_activity_at")?,
            team: opt_string(v, "team")?,
        })
    }
}

impl FromJs for AgentCard {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        is_object(v)?;
        Ok(AgentCard {
            id: string(v, "id")?,
            name: string(v, "name")?,
            avatar_url: opt_string(v, "avatar_url")?,
        })
    }
}

impl FromJs for TransferTarget {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        is_object(v)?;
        match string(v, "kind")?.as_str() {
            "agent" => Ok(TransferTarget::Agent {
                agent: nested(v, "agent")?,
            }),
            "team" => Ok(TransferTarget::Team {
                team: string(v, "team")?,
            }),
            "queue" => Ok(TransferTarget::Queue),
            _ => bad("kind"),
        }
    }
}

impl FromJs for ErrorCode {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        let Some(code) = v.as_string() else {
            return bad("code");
        };
        Ok(match code.as_str() {
            "bad_request" => ErrorCode::BadRequest,
            "invalid" => ErrorCode::Invalid,
            "empty_message" => ErrorCode::EmptyMessage,
            "message_too_long" => ErrorCode::MessageTooLong,
            "too_large" => ErrorCode::TooLarge,
            "unauthenticated" => ErrorCode::Unauthenticated,
            "forbidden" => ErrorCode::Forbidden,
            "not_found" => ErrorCode::NotFound,
            "conflict" => ErrorCode::Conflict,
            "conversation_closed" => ErrorCode::ConversationClosed,
            "identity_required" => ErrorCode::IdentityRequired,
            "origin_not_allowed" => ErrorCode::OriginNotAllowed,
            "rate_limited" => ErrorCode::RateLimited,
            "unsupported_protocol" => ErrorCode::UnsupportedProtocol,
            "unavailable" => ErrorCode::Unavailable,
            "no_agent_available" => ErrorCode::NoAgentAvailable,
            "at_capacity" => ErrorCode::AtCapacity,
            "internal" => ErrorCode::Internal,
            // A newer server's code: clients treat it like any other failure.
            _ => ErrorCode::Unknown,
        })
    }
}

impl FromJs for ServerFrame {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        is_object(v)?;
        Ok(match string(v, "type")?.as_str() {
            "welcome" => ServerFrame::Welcome {
                protocol: u32_field(v, "protocol")?,
                principal: nested(v, "principal")?,
                heartbeat_ms: uint(v, "heartbeat_ms")?,
            },
            "sent" => ServerFrame::Sent {
                id: uint(v, "id")?,
                message: nested(v, "message")?,
            },
            "synced" => ServerFrame::Synced {
                id: uint(v, "id")?,
                conversations: list(v, "conversations")?,
            },
            "error" => ServerFrame::Error {
                id: opt_uint(v, "id")?,
                code: ErrorCode::from_js(&get(v, "code"))?,
                message: string(v, "message")?,
            },
            "message" => ServerFrame::Message {
                message: nested(v, "message")?,
            },
            "typing" => ServerFrame::Typing {
                conversation_id: string(v, "conversation_id")?,
                author: nested(v, "author")?,
                typing: boolean(v, "typing")?,
                preview: opt_string(v, "preview")?,
            },
            "conversation" => ServerFrame::Conversation {
                conversation: nested(v, "conversation")?,
            },
            "pong" => ServerFrame::Pong {
                nonce: uint(v, "nonce")?,
            },
            "reconnect" => ServerFrame::Reconnect {
                reason: string(v, "reason")?,
                retry_after_ms: uint(v, "retry_after_ms")?,
            },
            "queued" => ServerFrame::Queued {
                conversation_id: string(v, "conversation_id")?,
                position: u32_field(v, "position")?,
                estimated_wait_ms: opt_uint(v, "estimated_wait_ms")?,
            },
            "away" => ServerFrame::Away {
                conversation_id: string(v, "conversation_id")?,
                message: string(v, "message")?,
            },
            "assigned" => ServerFrame::Assigned {
                conversation_id: string(v, "conversation_id")?,
                agent: nested(v, "agent")?,
            },
            "transferred" => ServerFrame::Transferred {
                conversation_id: string(v, "conversation_id")?,
                from: opt_nested(v, "from")?,
                to: nested(v, "to")?,
                note: opt_string(v, "note")?,
            },
            // Staff-only frames (`offer`, `offer_withdrawn`, `queue_length`, `presence`) never
            // reach a visitor's socket (docs/protocol.md, "Who receives what"), and the only user
            // of this codec is the visitor widget: they are ignored like frames from a newer
            // server rather than carrying their decoders into the widget's wasm.
            // Frames from a newer server are ignored, as the protocol asks.
            _ => ServerFrame::Unknown,
        })
    }
}

impl FromJs for VisitorSessionResponse {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        is_object(v)?;
        Ok(VisitorSessionResponse {
            visitor_token: string(v, "visitor_token")?,
            expires_in: uint(v, "expires_in")?,
            principal: nested(v, "principal")?,
            verified: boolean(v, "verified")?,
        })
    }
}

impl FromJs for ErrorBody {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        is_object(v)?;
        let detail = object(v, "error")?;
        Ok(ErrorBody {
            error: ErrorDetail {
                code: ErrorCode::from_js(&get(&detail, "code"))?,
                message: string(&detail, "message")?,
            },
        })
    }
}

impl FromJs for TeamInfo {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        is_object(v)?;
        let policy = match opt_string(v, "policy")? {
            None => None,
            Some(p) => Some(RoutingPolicy::parse(&p).ok_or(DecodeError { field: "policy" })?),
        };
        Ok(TeamInfo {
            id: string(v, "id")?,
            name: string(v, "name")?,
            policy,
        })
    }
}

impl FromJs for AvailabilityResponse {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        is_object(v)?;
        Ok(AvailabilityResponse {
            available: boolean(v, "available")?,
            when_unavailable: named(v, "when_unavailable", WhenUnavailable::parse)?,
            away_message: opt_string(v, "away_message")?,
            teams: list(v, "teams")?,
        })
    }
}

impl FromJs for WidgetSettingsBody {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        is_object(v)?;
        Ok(WidgetSettingsBody {
            color: string(v, "color")?,
            position: named(v, "position", WidgetPosition::parse)?,
            greeting: opt_string(v, "greeting")?,
            launcher_text: opt_string(v, "launcher_text")?,
            title: opt_string(v, "title")?,
        })
    }
}

impl FromJs for WidgetConfigResponse {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        is_object(v)?;
        Ok(WidgetConfigResponse {
            site_name: string(v, "site_name")?,
            widget: nested(v, "widget")?,
            availability: nested(v, "availability")?,
        })
    }
}

impl FromJs for OutboxEntry {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        is_object(v)?;
        Ok(OutboxEntry {
            client_id: string(v, "client_id")?,
            conversation_id: string(v, "conversation_id")?,
            text: string(v, "text")?,
        })
    }
}

// ---- writing ----------------------------------------------------------------------------------

/// Builds a plain object field by field.
struct Fields(Object);

impl Fields {
    fn new() -> Self {
        Fields(Object::new())
    }

    fn set(self, key: &str, value: JsValue) -> Self {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&self.0, &JsValue::from_str(key), &value);
        self
    }

    fn str(self, key: &str, value: &str) -> Self {
        self.set(key, JsValue::from_str(value))
    }

    fn opt_str(self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(value) => self.str(key, value),
            None => self,
        }
    }

    fn num(self, key: &str, value: u64) -> Self {
        self.set(key, JsValue::from_f64(value as f64))
    }

    fn done(self) -> JsValue {
        self.0.into()
    }
}

impl ToJs for ClientFrame {
    fn to_js(&self) -> JsValue {
        match self {
            ClientFrame::Auth { protocol, token } => Fields::new()
                .str("type", "auth")
                .num("protocol", u64::from(*protocol))
                .str("token", token),
            ClientFrame::Send {
                id,
                conversation_id,
                client_id,
                text,
            } => Fields::new()
                .str("type", "send")
                .num("id", *id)
                .str("conversation_id", conversation_id)
                .str("client_id", client_id)
                .str("text", text),
            ClientFrame::Sync { id, cursors } => {
                let list = Array::new();
                for cursor in cursors {
                    list.push(
                        &Fields::new()
                            .str("conversation_id", &cursor.conversation_id)
                            .num("after_seq", cursor.after_seq)
                            .done(),
                    );
                }
                Fields::new()
                    .str("type", "sync")
                    .num("id", *id)
                    .set("cursors", list.into())
            }
            ClientFrame::Typing {
                conversation_id,
                typing,
                preview,
            } => Fields::new()
                .str("type", "typing")
                .str("conversation_id", conversation_id)
                .set("typing", JsValue::from_bool(*typing))
                .opt_str("preview", preview.as_deref()),
            ClientFrame::Ping { nonce } => Fields::new().str("type", "ping").num("nonce", *nonce),
        }
        .done()
    }
}

impl ToJs for VisitorSessionRequest {
    fn to_js(&self) -> JsValue {
        let mut fields = Fields::new()
            .str("site_key", &self.site_key)
            .opt_str("visitor_token", self.visitor_token.as_deref())
            .opt_str("name", self.name.as_deref())
            .opt_str("email", self.email.as_deref())
            .opt_str("page_url", self.page_url.as_deref());
        if let Some(identity) = &self.identity {
            fields = fields.set(
                "identity",
                Fields::new()
                    .str("user_id", &identity.user_id)
                    .str("user_hash", &identity.user_hash)
                    .opt_str("name", identity.name.as_deref())
                    .opt_str("email", identity.email.as_deref())
                    .done(),
            );
        }
        fields.done()
    }
}

impl ToJs for StartConversationRequest {
    fn to_js(&self) -> JsValue {
        let mut fields = Fields::new()
            .opt_str("team", self.team.as_deref())
            .set("leave_message", JsValue::from_bool(self.leave_message));
        if let Some(message) = &self.message {
            fields = fields.set(
                "message",
                Fields::new()
                    .str("client_id", &message.client_id)
                    .str("text", &message.text)
                    .done(),
            );
        }
        fields.done()
    }
}

impl ToJs for OutboxEntry {
    fn to_js(&self) -> JsValue {
        Fields::new()
            .str("client_id", &self.client_id)
            .str("conversation_id", &self.conversation_id)
            .str("text", &self.text)
            .done()
    }
}

impl<T: ToJs> ToJs for [T] {
    fn to_js(&self) -> JsValue {
        let array = Array::new();
        for item in self {
            array.push(&item.to_js());
        }
        array.into()
    }
}
