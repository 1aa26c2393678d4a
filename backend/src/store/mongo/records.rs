//! The BSON shape of each collection's documents and the conversions to and from the domain
//! types. Every record uses its domain id as `_id`; timestamps are `i64` milliseconds and
//! sequence numbers `i64` (BSON has no unsigned integers), converted to `u64` on the way out.

use serde::{Deserialize, Serialize};

use crate::domain::{
    AuthorKind, Conversation, ConversationStatus, Message, Staff, StaffRole, Tenant, Timestamp,
    Visitor,
};
use crate::store::{StoreError, StoreResult};

/// Collection names, in one place so the indexes and the queries cannot disagree.
pub(super) const TENANTS: &str = "tenants";
pub(super) const STAFF: &str = "staff";
pub(super) const VISITORS: &str = "visitors";
pub(super) const CONVERSATIONS: &str = "conversations";
pub(super) const MESSAGES: &str = "messages";

/// Name of the unique index on `messages (conversation_id, client_id)`, which appending hints.
pub(super) const CONVERSATION_CLIENT_ID_INDEX: &str = "conversation_client_id_unique";

/// A `u64` sequence number as stored. Sequence numbers start at 1 and grow by one per message,
/// so they never come near `i64::MAX`; saturating keeps range queries correct even for absurd
/// cursors sent by clients.
pub(super) fn seq_to_bson(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

fn seq_from_bson(seq: i64) -> StoreResult<u64> {
    u64::try_from(seq).map_err(|_| StoreError::Internal("stored seq is negative".into()))
}

/// A document of `tenants`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct TenantDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub site_key: String,
    pub allowed_origins: Vec<String>,
    pub identity_secret: String,
    pub require_verified_identity: bool,
    pub created_at: Timestamp,
}

impl From<&Tenant> for TenantDoc {
    fn from(t: &Tenant) -> Self {
        TenantDoc {
            id: t.id.clone(),
            name: t.name.clone(),
            site_key: t.site_key.clone(),
            allowed_origins: t.allowed_origins.clone(),
            identity_secret: t.identity_secret.clone(),
            require_verified_identity: t.require_verified_identity,
            created_at: t.created_at,
        }
    }
}

impl From<TenantDoc> for Tenant {
    fn from(d: TenantDoc) -> Self {
        Tenant {
            id: d.id,
            name: d.name,
            site_key: d.site_key,
            allowed_origins: d.allowed_origins,
            identity_secret: d.identity_secret,
            require_verified_identity: d.require_verified_identity,
            created_at: d.created_at,
        }
    }
}

/// A document of `staff`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct StaffDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    pub name: String,
    pub role: StaffRole,
    pub password_hash: String,
    pub active: bool,
    pub created_at: Timestamp,
}

impl From<&Staff> for StaffDoc {
    fn from(s: &Staff) -> Self {
        StaffDoc {
            id: s.id.clone(),
            tenant_id: s.tenant_id.clone(),
            email: s.email.clone(),
            name: s.name.clone(),
            role: s.role,
            password_hash: s.password_hash.clone(),
            active: s.active,
            created_at: s.created_at,
        }
    }
}

impl From<StaffDoc> for Staff {
    fn from(d: StaffDoc) -> Self {
        Staff {
            id: d.id,
            tenant_id: d.tenant_id,
            email: d.email,
            name: d.name,
            role: d.role,
            password_hash: d.password_hash,
            active: d.active,
            created_at: d.created_at,
        }
    }
}

/// A document of `visitors`. `external_id` is stored as `null` when absent; the unique index on
/// `(tenant_id, external_id)` only covers string values, so anonymous visitors never collide.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct VisitorDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub tenant_id: String,
    pub external_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub created_at: Timestamp,
}

impl From<&Visitor> for VisitorDoc {
    fn from(v: &Visitor) -> Self {
        VisitorDoc {
            id: v.id.clone(),
            tenant_id: v.tenant_id.clone(),
            external_id: v.external_id.clone(),
            name: v.name.clone(),
            email: v.email.clone(),
            created_at: v.created_at,
        }
    }
}

impl From<VisitorDoc> for Visitor {
    fn from(d: VisitorDoc) -> Self {
        Visitor {
            id: d.id,
            tenant_id: d.tenant_id,
            external_id: d.external_id,
            name: d.name,
            email: d.email,
            created_at: d.created_at,
        }
    }
}

/// A document of `conversations`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ConversationDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub tenant_id: String,
    pub visitor_id: String,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_external_id: Option<String>,
    pub status: ConversationStatus,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub last_seq: i64,
    pub last_message_preview: Option<String>,
    pub created_at: Timestamp,
    pub last_activity_at: Timestamp,
    /// `last_activity_at` of a closed conversation (which never changes again), absent while
    /// it is live. The sort key of the list indexes, which must not contain `last_activity_at`
    /// itself; see `MongoStore::create_indexes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_activity_at: Option<Timestamp>,
    /// Set by every create, claim and close to `"<instance>:<unique>"`, for the change feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_id: Option<String>,
}

impl From<&Conversation> for ConversationDoc {
    fn from(c: &Conversation) -> Self {
        ConversationDoc {
            id: c.id.clone(),
            tenant_id: c.tenant_id.clone(),
            visitor_id: c.visitor_id.clone(),
            contact_name: c.contact_name.clone(),
            contact_email: c.contact_email.clone(),
            contact_external_id: c.contact_external_id.clone(),
            status: c.status,
            assignee_id: c.assignee_id.clone(),
            assignee_name: c.assignee_name.clone(),
            last_seq: seq_to_bson(c.last_seq),
            last_message_preview: c.last_message_preview.clone(),
            created_at: c.created_at,
            last_activity_at: c.last_activity_at,
            closed_activity_at: (c.status == ConversationStatus::Closed)
                .then_some(c.last_activity_at),
            change_id: None,
        }
    }
}

impl TryFrom<ConversationDoc> for Conversation {
    type Error = StoreError;

    fn try_from(d: ConversationDoc) -> StoreResult<Self> {
        Ok(Conversation {
            id: d.id,
            tenant_id: d.tenant_id,
            visitor_id: d.visitor_id,
            contact_name: d.contact_name,
            contact_email: d.contact_email,
            contact_external_id: d.contact_external_id,
            status: d.status,
            assignee_id: d.assignee_id,
            assignee_name: d.assignee_name,
            last_seq: seq_from_bson(d.last_seq)?,
            last_message_preview: d.last_message_preview,
            created_at: d.created_at,
            last_activity_at: d.last_activity_at,
        })
    }
}

/// The fields of a conversation that appending messages reads (a projection of
/// [`ConversationDoc`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ConversationHead {
    #[serde(rename = "_id")]
    pub id: String,
    pub tenant_id: String,
    pub status: ConversationStatus,
    pub last_seq: i64,
}

/// A document of `messages`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct MessageDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub tenant_id: String,
    pub conversation_id: String,
    pub seq: i64,
    /// `null` for messages without an idempotency key; the unique index on
    /// `(conversation_id, client_id)` only covers string values.
    pub client_id: Option<String>,
    pub author_kind: AuthorKind,
    pub author_id: String,
    pub author_name: Option<String>,
    pub text: String,
    pub created_at: Timestamp,
    /// The instance id of the store that appended it, for the change feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl From<&Message> for MessageDoc {
    fn from(m: &Message) -> Self {
        MessageDoc {
            id: m.id.clone(),
            tenant_id: m.tenant_id.clone(),
            conversation_id: m.conversation_id.clone(),
            seq: seq_to_bson(m.seq),
            client_id: m.client_id.clone(),
            author_kind: m.author_kind,
            author_id: m.author_id.clone(),
            author_name: m.author_name.clone(),
            text: m.text.clone(),
            created_at: m.created_at,
            origin: None,
        }
    }
}

impl TryFrom<MessageDoc> for Message {
    type Error = StoreError;

    fn try_from(d: MessageDoc) -> StoreResult<Self> {
        Ok(Message {
            id: d.id,
            tenant_id: d.tenant_id,
            conversation_id: d.conversation_id,
            seq: seq_from_bson(d.seq)?,
            client_id: d.client_id,
            author_kind: d.author_kind,
            author_id: d.author_id,
            author_name: d.author_name,
            text: d.text,
            created_at: d.created_at,
        })
    }
}
