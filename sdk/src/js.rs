//! JSON in the browser: the protocol's frames and the REST bodies a browser client needs,
//! converted to and from the browser's own `JSON.parse` / `JSON.stringify` values (feature `js`).
//!
//! Its one user is the visitor widget (the agent console reads JSON with serde_json), so it
//! decodes the server frames a **visitor** can receive (docs/protocol.md, "Who receives what");
//! staff-only frames decode as [`ServerFrame::Unknown`], which clients ignore. Of the REST
//! bodies it reads what the widget uses: the `teams` of an [`AvailabilityResponse`] (also inside
//! [`WidgetConfigResponse`]) are not read and come out empty, because the widget offers no choice
//! of team (it starts conversations with `team` absent).
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

use js_sys::{Array, JSON, Object};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use crate::api::{
    AvailabilityResponse, ErrorBody, ErrorDetail, StartConversationRequest, VisitorSessionRequest,
    VisitorSessionResponse, WidgetConfigResponse, WidgetPosition, WidgetSettingsBody,
};
use crate::client::OutboxEntry;
use crate::protocol::{
    AgentCard, Author, AuthorKind, ClientFrame, Contact, ConversationStatus, ConversationSummary,
    ErrorCode, Message, Principal, PrincipalKind, ServerFrame, StaffRef, StaffRole, TransferTarget,
    WhenUnavailable,
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

// Hand-declared rather than js-sys's `Reflect::get` and `Reflect::set`: the key goes over as
// text instead of as a JavaScript string made for each call, and there is no exception to catch,
// because the target here is always an object (checked before reading, or new when writing), on
// which `Reflect.get` and `Reflect.set` cannot throw: ~70 B less zopfli gzip of the widget.
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Reflect, js_name = get)]
    fn property(object: &JsValue, key: &str) -> JsValue;

    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    fn set_property(object: &Object, key: &str, value: &JsValue) -> bool;
}

// ---- reading ----------------------------------------------------------------------------------

/// The field `key` of `object`, which must be an object (every caller checked it).
fn get(object: &JsValue, key: &str) -> JsValue {
    property(object, key)
}

fn absent(value: &JsValue) -> bool {
    // One import where `is_undefined() || is_null()` took two, each with its glue.
    value.is_null_or_undefined()
}

fn is_plain_object(value: &JsValue) -> bool {
    value.is_object() && !Array::is_array(value)
}

/// Largest integer a JavaScript number holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// `value` as a whole number that a JavaScript number holds exactly.
fn integer(value: &JsValue) -> Option<f64> {
    // Whole when the round trip through i64 keeps it (`f64::fract` needs std); NaN and the
    // infinities fail one of the two tests.
    value
        .as_f64()
        .filter(|&n| n.abs() <= MAX_SAFE_INTEGER && n as i64 as f64 == n)
}

/// The fields of one object being decoded.
///
/// Reading a scalar field (string, number, boolean) never returns early: a missing or mistyped
/// one is noted (the first one only), a placeholder stands in for it, and [`Record::done`] turns
/// the note into the error. With a `?` after every field, each decoder carried one clean-up path
/// per field, dropping the strings read so far, which cost the widget ~1 KB gzip of wasm. The
/// fields that have no placeholder (nested objects, lists, enums) are read first, with `?`,
/// while there is little or nothing to drop yet; so when several fields are wrong, the one named
/// is the first of those, or else the first wrong scalar.
struct Record<'a> {
    object: &'a JsValue,
    error: Option<&'static str>,
}

impl<'a> Record<'a> {
    /// Starts reading `value`, which must be an object (and not an array).
    fn new(value: &'a JsValue) -> Decoded<Self> {
        if is_plain_object(value) {
            Ok(Record {
                object: value,
                error: None,
            })
        } else {
            bad("object")
        }
    }

    /// Notes that `key` is missing or mistyped, unless an earlier field was, and returns a
    /// placeholder.
    fn miss<T: Default>(&mut self, key: &'static str) -> T {
        self.error.get_or_insert(key);
        T::default()
    }

    fn string(&mut self, key: &'static str) -> String {
        match get(self.object, key).as_string() {
            Some(text) => text,
            None => self.miss(key),
        }
    }

    fn opt_string(&mut self, key: &'static str) -> Option<String> {
        let value = get(self.object, key);
        if absent(&value) {
            return None;
        }
        match value.as_string() {
            Some(text) => Some(text),
            None => self.miss(key),
        }
    }

    /// The whole number under `key`; `None` only when it is absent and `optional`. Anything
    /// else that is not a whole number (or is negative while `unsigned`) is a miss.
    fn whole(&mut self, key: &'static str, optional: bool, unsigned: bool) -> Option<f64> {
        let value = get(self.object, key);
        if optional && absent(&value) {
            return None;
        }
        match integer(&value) {
            Some(n) if !(unsigned && n < 0.0) => Some(n),
            _ => Some(self.miss(key)),
        }
    }

    fn uint(&mut self, key: &'static str) -> u64 {
        self.whole(key, false, true).unwrap_or_default() as u64
    }

    fn opt_uint(&mut self, key: &'static str) -> Option<u64> {
        self.whole(key, true, true).map(|n| n as u64)
    }

    fn u32(&mut self, key: &'static str) -> u32 {
        let n = self.uint(key);
        u32::try_from(n).unwrap_or_else(|_| self.miss(key))
    }

    fn int(&mut self, key: &'static str) -> i64 {
        self.whole(key, false, false).unwrap_or_default() as i64
    }

    fn opt_int(&mut self, key: &'static str) -> Option<i64> {
        self.whole(key, true, false).map(|n| n as i64)
    }

    fn boolean(&mut self, key: &'static str) -> bool {
        match get(self.object, key).as_bool() {
            Some(flag) => flag,
            None => self.miss(key),
        }
    }

    /// `value` if every field read was right, else the first wrong field's error.
    fn done<T>(self, value: T) -> Decoded<T> {
        match self.error {
            None => Ok(value),
            Some(field) => bad(field),
        }
    }
}

// Fields without a placeholder, read with `?` before the record's scalars (see [`Record`]).

fn object(parent: &JsValue, key: &'static str) -> Decoded<JsValue> {
    let value = get(parent, key);
    if is_plain_object(&value) {
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

/// The list under `key`.
fn list<T: FromJs>(parent: &JsValue, key: &'static str) -> Decoded<Vec<T>> {
    match get(parent, key).dyn_ref::<Array>() {
        Some(array) => items(array),
        None => bad(key),
    }
}

/// Where `name` stands in `names`, wire names each followed by a comma.
///
/// The wire names of the enums that have no `parse` of their own in `protocol` (kinds, roles,
/// error codes) are looked up in one such list each rather than matched with `match` arms of
/// strings, which compiled to one comparison call per name plus one generic copy of the field
/// reader per enum: ~0.1 KB less zopfli gzip of the widget's wasm. Enums that have a `parse`
/// go through it ([`parsed`]), so that their names stay defined once (~0.15 KB more).
fn position(names: &str, name: &str) -> Option<usize> {
    let mut rest = names.as_bytes();
    let mut index = 0;
    while let Some(end) = rest.iter().position(|&byte| byte == b',') {
        if rest.get(..end) == Some(name.as_bytes()) {
            return Some(index);
        }
        rest = rest.get(end + 1..)?;
        index += 1;
    }
    None
}

/// Reads a string field that must be one of `names` (see [`position`]) and returns its position.
fn choice(object: &JsValue, key: &'static str, names: &str) -> Decoded<usize> {
    get(object, key)
        .as_string()
        .and_then(|name| position(names, &name))
        .ok_or(DecodeError { field: key })
}

/// Reads a string field through an enum's own `parse` (its wire names are defined once, next to
/// the enum; only enums without one are looked up with [`choice`]).
fn parsed<T>(object: &JsValue, key: &'static str, parse: fn(&str) -> Option<T>) -> Decoded<T> {
    get(object, key)
        .as_string()
        .and_then(|name| parse(&name))
        .ok_or(DecodeError { field: key })
}

/// The optional staff `role` of a principal or an author.
fn opt_role(object: &JsValue) -> Decoded<Option<StaffRole>> {
    if absent(&get(object, "role")) {
        return Ok(None);
    }
    Ok(Some(match choice(object, "role", "owner,admin,agent,")? {
        0 => StaffRole::Owner,
        1 => StaffRole::Admin,
        _ => StaffRole::Agent,
    }))
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
        let mut r = Record::new(v)?;
        let kind = match choice(v, "kind", "visitor,staff,")? {
            0 => PrincipalKind::Visitor,
            _ => PrincipalKind::Staff,
        };
        let role = opt_role(v)?;
        let principal = Principal {
            kind,
            id: r.string("id"),
            tenant_id: r.string("tenant_id"),
            name: r.opt_string("name"),
            role,
        };
        r.done(principal)
    }
}

impl FromJs for Author {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        let mut r = Record::new(v)?;
        let kind = match choice(v, "kind", "visitor,staff,system,")? {
            0 => AuthorKind::Visitor,
            1 => AuthorKind::Staff,
            _ => AuthorKind::System,
        };
        let role = opt_role(v)?;
        let author = Author {
            kind,
            id: r.string("id"),
            name: r.opt_string("name"),
            role,
        };
        r.done(author)
    }
}

impl FromJs for Message {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        let mut r = Record::new(v)?;
        let author = nested(v, "author")?;
        let message = Message {
            id: r.string("id"),
            conversation_id: r.string("conversation_id"),
            seq: r.uint("seq"),
            client_id: r.opt_string("client_id"),
            author,
            text: r.string("text"),
            created_at: r.int("created_at"),
        };
        r.done(message)
    }
}

impl FromJs for StaffRef {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        let mut r = Record::new(v)?;
        let staff = StaffRef {
            id: r.string("id"),
            name: r.string("name"),
        };
        r.done(staff)
    }
}

impl FromJs for Contact {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        let mut r = Record::new(v)?;
        let contact = Contact {
            visitor_id: r.string("visitor_id"),
            external_id: r.opt_string("external_id"),
            name: r.opt_string("name"),
            email: r.opt_string("email"),
            page_url: r.opt_string("page_url"),
            user_agent: r.opt_string("user_agent"),
            first_seen_at: r.opt_int("first_seen_at"),
        };
        r.done(contact)
    }
}

impl FromJs for ConversationSummary {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        let mut r = Record::new(v)?;
        let status = parsed(v, "status", ConversationStatus::parse)?;
        let contact = nested(v, "contact")?;
        let assignee = opt_nested(v, "assignee")?;
        let summary = ConversationSummary {
            id: r.string("id"),
            status,
            contact,
            assignee,
            last_seq: r.uint("last_seq"),
            last_message_preview: r.opt_string("last_message_preview"),
            created_at: r.int("created_at"),
            last_activity_at: r.int("last_activity_at"),
            team: r.opt_string("team"),
        };
        r.done(summary)
    }
}

impl FromJs for AgentCard {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        let mut r = Record::new(v)?;
        let card = AgentCard {
            id: r.string("id"),
            name: r.string("name"),
            avatar_url: r.opt_string("avatar_url"),
        };
        r.done(card)
    }
}

impl FromJs for TransferTarget {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        let mut r = Record::new(v)?;
        let target = match choice(v, "kind", "agent,team,queue,")? {
            0 => TransferTarget::Agent {
                agent: nested(v, "agent")?,
            },
            1 => TransferTarget::Team {
                team: r.string("team"),
            },
            _ => TransferTarget::Queue,
        };
        r.done(target)
    }
}

impl FromJs for ErrorCode {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        let Some(code) = v.as_string() else {
            return bad("code");
        };
        Ok(
            match position(
                "bad_request,invalid,empty_message,message_too_long,too_large,unauthenticated,\
                 forbidden,not_found,conflict,conversation_closed,identity_required,\
                 origin_not_allowed,rate_limited,unsupported_protocol,unavailable,\
                 no_agent_available,at_capacity,internal,",
                &code,
            ) {
                Some(0) => ErrorCode::BadRequest,
                Some(1) => ErrorCode::Invalid,
                Some(2) => ErrorCode::EmptyMessage,
                Some(3) => ErrorCode::MessageTooLong,
                Some(4) => ErrorCode::TooLarge,
                Some(5) => ErrorCode::Unauthenticated,
                Some(6) => ErrorCode::Forbidden,
                Some(7) => ErrorCode::NotFound,
                Some(8) => ErrorCode::Conflict,
                Some(9) => ErrorCode::ConversationClosed,
                Some(10) => ErrorCode::IdentityRequired,
                Some(11) => ErrorCode::OriginNotAllowed,
                Some(12) => ErrorCode::RateLimited,
                Some(13) => ErrorCode::UnsupportedProtocol,
                Some(14) => ErrorCode::Unavailable,
                Some(15) => ErrorCode::NoAgentAvailable,
                Some(16) => ErrorCode::AtCapacity,
                Some(17) => ErrorCode::Internal,
                // A newer server's code: clients treat it like any other failure.
                _ => ErrorCode::Unknown,
            },
        )
    }
}

impl FromJs for ServerFrame {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        let mut r = Record::new(v)?;
        let Some(kind) = get(v, "type").as_string() else {
            return bad("type");
        };
        let frame = match kind.as_str() {
            "welcome" => {
                let principal = nested(v, "principal")?;
                ServerFrame::Welcome {
                    protocol: r.u32("protocol"),
                    principal,
                    heartbeat_ms: r.uint("heartbeat_ms"),
                }
            }
            "sent" => {
                let message = nested(v, "message")?;
                ServerFrame::Sent {
                    id: r.uint("id"),
                    message,
                }
            }
            "synced" => {
                let conversations = list(v, "conversations")?;
                ServerFrame::Synced {
                    id: r.uint("id"),
                    conversations,
                }
            }
            "error" => {
                let code = ErrorCode::from_js(&get(v, "code"))?;
                ServerFrame::Error {
                    id: r.opt_uint("id"),
                    code,
                    message: r.string("message"),
                }
            }
            "message" => ServerFrame::Message {
                message: nested(v, "message")?,
            },
            "typing" => {
                let author = nested(v, "author")?;
                ServerFrame::Typing {
                    conversation_id: r.string("conversation_id"),
                    author,
                    typing: r.boolean("typing"),
                    preview: r.opt_string("preview"),
                }
            }
            "conversation" => ServerFrame::Conversation {
                conversation: nested(v, "conversation")?,
            },
            "pong" => ServerFrame::Pong {
                nonce: r.uint("nonce"),
            },
            "reconnect" => ServerFrame::Reconnect {
                reason: r.string("reason"),
                retry_after_ms: r.uint("retry_after_ms"),
            },
            "queued" => ServerFrame::Queued {
                conversation_id: r.string("conversation_id"),
                position: r.u32("position"),
                estimated_wait_ms: r.opt_uint("estimated_wait_ms"),
            },
            "away" => ServerFrame::Away {
                conversation_id: r.string("conversation_id"),
                message: r.string("message"),
            },
            "assigned" => {
                let agent = nested(v, "agent")?;
                ServerFrame::Assigned {
                    conversation_id: r.string("conversation_id"),
                    agent,
                }
            }
            "transferred" => {
                let from = opt_nested(v, "from")?;
                let to = nested(v, "to")?;
                ServerFrame::Transferred {
                    conversation_id: r.string("conversation_id"),
                    from,
                    to,
                    note: r.opt_string("note"),
                }
            }
            // Staff-only frames (`offer`, `offer_withdrawn`, `queue_length`, `presence`) never
            // reach a visitor's socket (docs/protocol.md, "Who receives what"), and the only user
            // of this codec is the visitor widget: they are ignored like frames from a newer
            // server rather than carrying their decoders into the widget's wasm.
            // Frames from a newer server are ignored, as the protocol asks.
            _ => ServerFrame::Unknown,
        };
        r.done(frame)
    }
}

impl FromJs for VisitorSessionResponse {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        let mut r = Record::new(v)?;
        let principal = nested(v, "principal")?;
        let session = VisitorSessionResponse {
            visitor_token: r.string("visitor_token"),
            expires_in: r.uint("expires_in"),
            principal,
            verified: r.boolean("verified"),
        };
        r.done(session)
    }
}

impl FromJs for ErrorBody {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        Record::new(v)?;
        let detail = object(v, "error")?;
        let mut r = Record::new(&detail)?;
        let code = ErrorCode::from_js(&get(&detail, "code"))?;
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message: r.string("message"),
            },
        };
        r.done(body)
    }
}

impl FromJs for AvailabilityResponse {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        let mut r = Record::new(v)?;
        let when_unavailable = parsed(v, "when_unavailable", WhenUnavailable::parse)?;
        let availability = AvailabilityResponse {
            available: r.boolean("available"),
            when_unavailable,
            away_message: r.opt_string("away_message"),
            // Not read (see the module documentation): the decoders of the teams and of their
            // routing policies cost the widget ~0.3 KB zopfli gzip of wasm for nothing.
            teams: Vec::new(),
        };
        r.done(availability)
    }
}

impl FromJs for WidgetSettingsBody {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        let mut r = Record::new(v)?;
        let position = parsed(v, "position", WidgetPosition::parse)?;
        let settings = WidgetSettingsBody {
            color: r.string("color"),
            position,
            greeting: r.opt_string("greeting"),
            launcher_text: r.opt_string("launcher_text"),
            title: r.opt_string("title"),
        };
        r.done(settings)
    }
}

impl FromJs for WidgetConfigResponse {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        let mut r = Record::new(v)?;
        let widget = nested(v, "widget")?;
        let availability = nested(v, "availability")?;
        let config = WidgetConfigResponse {
            site_name: r.string("site_name"),
            widget,
            availability,
        };
        r.done(config)
    }
}

impl FromJs for OutboxEntry {
    fn from_js(v: &JsValue) -> Decoded<Self> {
        let mut r = Record::new(v)?;
        let entry = OutboxEntry {
            client_id: r.string("client_id"),
            conversation_id: r.string("conversation_id"),
            text: r.string("text"),
        };
        r.done(entry)
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
        set_property(&self.0, key, &value);
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
