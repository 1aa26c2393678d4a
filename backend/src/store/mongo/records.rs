//! The BSON shape of each collection's documents and the conversions to and from the domain
//! types. Every record uses its domain id as `_id`, except agent profiles, which are keyed by
//! `(tenant_id, staff_id)` (see [`AgentDoc`]); timestamps are `i64` milliseconds, and sequence
//! numbers and counts `i64` (BSON has no unsigned integers), converted on the way out.
//!
//! Fields added after a collection first shipped are `#[serde(default)]`, so documents written
//! by older versions still decode: a tenant without `routing` or `widget` gets the default
//! settings, a conversation without routing fields is in no team and was never assigned through
//! routing.

use serde::{Deserialize, Serialize};

use crate::domain::{
    Agent, AuthorKind, Conversation, ConversationEvent, ConversationKind, ConversationStatus,
    EventKind, Lease, Message, Presence, RoutingPolicy, RoutingSettings, Staff, StaffRole, Team,
    Tenant, Timestamp, TypingNotice, Visitor, WhenUnavailable, WidgetPosition, WidgetSettings,
};
use crate::store::{ReadPosition, StoreError, StoreResult};

/// Collection names, in one place so the indexes and the queries cannot disagree.
pub(super) const TENANTS: &str = "tenants";
pub(super) const STAFF: &str = "staff";
pub(super) const VISITORS: &str = "visitors";
pub(super) const CONVERSATIONS: &str = "conversations";
pub(super) const MESSAGES: &str = "messages";
pub(super) const AGENTS: &str = "agents";
pub(super) const CONVERSATION_EVENTS: &str = "conversation_events";
/// Staff members' read positions, one document per (tenant, staff member, conversation).
pub(super) const READ_POSITIONS: &str = "read_positions";
/// Typing notices on their way to other instances' change feeds; expire after a minute or two.
pub(super) const TYPING: &str = "typing";

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
    /// Absent from tenants stored before routing existed: they get the defaults.
    #[serde(default)]
    pub routing: RoutingSettingsDoc,
    /// Absent from tenants stored before the widget settings: they get the default look.
    #[serde(default)]
    pub widget: WidgetSettingsDoc,
    /// Absent from tenants stored before the console: previews off.
    #[serde(default)]
    pub typing_preview: bool,
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
            routing: RoutingSettingsDoc::from(&t.routing),
            widget: WidgetSettingsDoc::from(&t.widget),
            typing_preview: t.typing_preview,
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
            routing: RoutingSettings::from(d.routing),
            widget: WidgetSettings::from(d.widget),
            typing_preview: d.typing_preview,
            created_at: d.created_at,
        }
    }
}

/// The `routing` sub-document of a tenant. Every field falls back to
/// [`RoutingSettings::default`] when absent, so settings added later decode from older documents.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct RoutingSettingsDoc {
    pub policy: RoutingPolicy,
    pub when_unavailable: WhenUnavailable,
    /// `i64` because BSON has no unsigned integers; clamped into `u32` on the way out.
    pub default_capacity: i64,
    pub keep_assigned_on_agent_loss: bool,
    pub away_message: String,
    pub teams: Vec<TeamDoc>,
}

impl Default for RoutingSettingsDoc {
    fn default() -> Self {
        RoutingSettingsDoc::from(&RoutingSettings::default())
    }
}

impl From<&RoutingSettings> for RoutingSettingsDoc {
    fn from(r: &RoutingSettings) -> Self {
        RoutingSettingsDoc {
            policy: r.policy,
            when_unavailable: r.when_unavailable,
            default_capacity: i64::from(r.default_capacity),
            keep_assigned_on_agent_loss: r.keep_assigned_on_agent_loss,
            away_message: r.away_message.clone(),
            teams: r.teams.iter().map(TeamDoc::from).collect(),
        }
    }
}

impl From<RoutingSettingsDoc> for RoutingSettings {
    fn from(d: RoutingSettingsDoc) -> Self {
        RoutingSettings {
            policy: d.policy,
            when_unavailable: d.when_unavailable,
            default_capacity: count_from_bson(d.default_capacity),
            keep_assigned_on_agent_loss: d.keep_assigned_on_agent_loss,
            away_message: d.away_message,
            teams: d.teams.into_iter().map(Team::from).collect(),
        }
    }
}

/// The `widget` sub-document of a tenant. Every field falls back to
/// [`WidgetSettings::default`] when absent; absent texts are left out rather than stored as
/// `null`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct WidgetSettingsDoc {
    pub color: String,
    pub position: WidgetPosition,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launcher_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl Default for WidgetSettingsDoc {
    fn default() -> Self {
        WidgetSettingsDoc::from(&WidgetSettings::default())
    }
}

impl From<&WidgetSettings> for WidgetSettingsDoc {
    fn from(w: &WidgetSettings) -> Self {
        WidgetSettingsDoc {
            color: w.color.clone(),
            position: w.position,
            greeting: w.greeting.clone(),
            launcher_text: w.launcher_text.clone(),
            title: w.title.clone(),
        }
    }
}

impl From<WidgetSettingsDoc> for WidgetSettings {
    fn from(d: WidgetSettingsDoc) -> Self {
        WidgetSettings {
            color: d.color,
            position: d.position,
            greeting: d.greeting,
            launcher_text: d.launcher_text,
            title: d.title,
        }
    }
}

/// A team in a tenant's routing settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct TeamDoc {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub policy: Option<RoutingPolicy>,
}

impl From<&Team> for TeamDoc {
    fn from(t: &Team) -> Self {
        TeamDoc {
            id: t.id.clone(),
            name: t.name.clone(),
            policy: t.policy,
        }
    }
}

impl From<TeamDoc> for Team {
    fn from(d: TeamDoc) -> Self {
        Team {
            id: d.id,
            name: d.name,
            policy: d.policy,
        }
    }
}

/// A stored count (capacity) as a `u32`: negative values read as 0, huge ones as `u32::MAX`.
/// Counts are written from `u32`s, so this only guards against hand-edited documents.
fn count_from_bson(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
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
    /// Absent from visitors stored before the console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
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
            page_url: v.page_url.clone(),
            user_agent: v.user_agent.clone(),
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
            page_url: d.page_url,
            user_agent: d.user_agent,
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
    /// The fields below came with routing; documents stored before decode with their defaults.
    #[serde(default)]
    pub team_id: Option<String>,
    /// Place in the waiting line while unassigned, `null` otherwise; the sort key of the
    /// `tenant_status_queue_rank` index.
    #[serde(default)]
    pub queue_rank: Option<i64>,
    #[serde(default)]
    pub refused_by: Vec<String>,
    #[serde(default)]
    pub first_assigned_at: Option<Timestamp>,
    /// Set by every create, assignment, return to the line, refusal and close to
    /// `"<instance>:<unique>"`, for the change feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_id: Option<String>,
    /// `"staff_room"` for the tenant's staff room; absent for visitor conversations (and all
    /// documents stored before the staff room existed). The partial unique index
    /// `tenant_staff_room_unique` keeps one per tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The contact fields below came with the console; older documents decode them as absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_page_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_first_seen_at: Option<Timestamp>,
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
            team_id: c.team_id.clone(),
            queue_rank: c.queue_rank,
            refused_by: c.refused_by.clone(),
            first_assigned_at: c.first_assigned_at,
            change_id: None,
            kind: c.is_staff_room().then(|| c.kind.as_str().to_owned()),
            contact_page_url: c.contact_page_url.clone(),
            contact_user_agent: c.contact_user_agent.clone(),
            contact_first_seen_at: c.contact_first_seen_at,
        }
    }
}

impl TryFrom<ConversationDoc> for Conversation {
    type Error = StoreError;

    fn try_from(d: ConversationDoc) -> StoreResult<Self> {
        let kind = match d.kind.as_deref() {
            None => ConversationKind::Visitor,
            Some(name) => ConversationKind::parse(name)
                .ok_or_else(|| StoreError::Internal("stored conversation kind unknown".into()))?,
        };
        Ok(Conversation {
            id: d.id,
            tenant_id: d.tenant_id,
            kind,
            visitor_id: d.visitor_id,
            contact_page_url: d.contact_page_url,
            contact_user_agent: d.contact_user_agent,
            contact_first_seen_at: d.contact_first_seen_at,
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
            team_id: d.team_id,
            queue_rank: d.queue_rank,
            refused_by: d.refused_by,
            first_assigned_at: d.first_assigned_at,
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
    /// A staff author's role; absent for others and for messages stored before roles were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_role: Option<StaffRole>,
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
            author_role: m.author_role,
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
            author_role: d.author_role,
            text: d.text,
            created_at: d.created_at,
        })
    }
}

/// A document of `typing`: one [`TypingNotice`] for the other instances' change feeds. `_id`
/// is generated by the driver; a TTL index on `at` removes it a minute or two later, as
/// nothing reads it but the change streams (which see the insert).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct TypingDoc {
    pub tenant_id: String,
    pub conversation_id: String,
    pub author_kind: AuthorKind,
    pub author_id: String,
    pub author_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_role: Option<StaffRole>,
    pub typing: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
    /// The instance id of the store that announced it, for the change feed.
    pub origin: String,
    /// When it was announced (a BSON date, which the TTL index needs).
    pub at: mongodb::bson::DateTime,
}

impl TypingDoc {
    /// The document announcing `t` from instance `origin`.
    pub fn new(t: &TypingNotice, origin: &str) -> Self {
        TypingDoc {
            tenant_id: t.tenant_id.clone(),
            conversation_id: t.conversation_id.clone(),
            author_kind: t.author_kind,
            author_id: t.author_id.clone(),
            author_name: t.author_name.clone(),
            author_role: t.author_role,
            typing: t.typing,
            preview: t.preview.clone(),
            origin: origin.to_owned(),
            at: mongodb::bson::DateTime::now(),
        }
    }
}

impl From<TypingDoc> for TypingNotice {
    fn from(d: TypingDoc) -> Self {
        TypingNotice {
            tenant_id: d.tenant_id,
            conversation_id: d.conversation_id,
            author_kind: d.author_kind,
            author_id: d.author_id,
            author_name: d.author_name,
            author_role: d.author_role,
            typing: d.typing,
            preview: d.preview,
        }
    }
}

/// A document of `agents`: one staff member's routing profile, keyed by `(tenant_id,
/// staff_id)` with a unique index, like every other per-tenant record (a staff id names a
/// profile only within its tenant). `_id` is generated by the server on insert; only the change
/// feed uses it, to look up an updated profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct AgentDoc {
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<mongodb::bson::oid::ObjectId>,
    pub tenant_id: String,
    pub staff_id: String,
    pub name: String,
    pub avatar_url: Option<String>,
    pub chosen_presence: Presence,
    pub presence: Presence,
    pub capacity: Option<i64>,
    pub teams: Vec<String>,
    /// Changed only by `$inc` in the transactions that assign, return and close conversations;
    /// see `assign`.
    pub load: i64,
    pub last_assigned: i64,
    #[serde(default)]
    pub leases: Vec<LeaseDoc>,
    pub seen_until: Timestamp,
    /// Set to `"<instance>:<unique>"` by every write that changes what staff see of the agent
    /// (presence, load, profile), for the change feed; lease refreshes leave it alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_id: Option<String>,
}

/// One instance's lease in an [`AgentDoc`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct LeaseDoc {
    pub instance: String,
    pub expires_at: Timestamp,
}

impl From<&Agent> for AgentDoc {
    fn from(a: &Agent) -> Self {
        AgentDoc {
            id: None,
            tenant_id: a.tenant_id.clone(),
            staff_id: a.staff_id.clone(),
            name: a.name.clone(),
            avatar_url: a.avatar_url.clone(),
            chosen_presence: a.chosen_presence,
            presence: a.presence,
            capacity: a.capacity.map(i64::from),
            teams: a.teams.clone(),
            load: i64::from(a.load),
            last_assigned: a.last_assigned,
            leases: a
                .leases
                .iter()
                .map(|l| LeaseDoc {
                    instance: l.instance.clone(),
                    expires_at: l.expires_at,
                })
                .collect(),
            seen_until: a.seen_until,
            change_id: None,
        }
    }
}

impl TryFrom<AgentDoc> for Agent {
    type Error = StoreError;

    fn try_from(d: AgentDoc) -> StoreResult<Self> {
        let load = u32::try_from(d.load)
            .map_err(|_| StoreError::Internal("stored agent load is out of range".into()))?;
        Ok(Agent {
            tenant_id: d.tenant_id,
            staff_id: d.staff_id,
            name: d.name,
            avatar_url: d.avatar_url,
            chosen_presence: d.chosen_presence,
            presence: d.presence,
            capacity: d.capacity.map(count_from_bson),
            teams: d.teams,
            load,
            last_assigned: d.last_assigned,
            leases: d
                .leases
                .into_iter()
                .map(|l| Lease {
                    instance: l.instance,
                    expires_at: l.expires_at,
                })
                .collect(),
            seen_until: d.seen_until,
        })
    }
}

/// A document of `conversation_events`: a staff-only history entry. `kind` is stored by name
/// ([`EventKind::as_str`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct EventDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub tenant_id: String,
    pub conversation_id: String,
    pub kind: String,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub to_agent_id: Option<String>,
    pub to_agent_name: Option<String>,
    pub to_team: Option<String>,
    pub note: Option<String>,
    pub created_at: Timestamp,
}

impl From<&ConversationEvent> for EventDoc {
    fn from(e: &ConversationEvent) -> Self {
        EventDoc {
            id: e.id.clone(),
            tenant_id: e.tenant_id.clone(),
            conversation_id: e.conversation_id.clone(),
            kind: e.kind.as_str().to_owned(),
            actor_id: e.actor_id.clone(),
            actor_name: e.actor_name.clone(),
            to_agent_id: e.to_agent_id.clone(),
            to_agent_name: e.to_agent_name.clone(),
            to_team: e.to_team.clone(),
            note: e.note.clone(),
            created_at: e.created_at,
        }
    }
}

impl TryFrom<EventDoc> for ConversationEvent {
    type Error = StoreError;

    fn try_from(d: EventDoc) -> StoreResult<Self> {
        let kind = EventKind::parse(&d.kind)
            .ok_or_else(|| StoreError::Internal("stored event kind is unknown".into()))?;
        Ok(ConversationEvent {
            id: d.id,
            tenant_id: d.tenant_id,
            conversation_id: d.conversation_id,
            kind,
            actor_id: d.actor_id,
            actor_name: d.actor_name,
            to_agent_id: d.to_agent_id,
            to_agent_name: d.to_agent_name,
            to_team: d.to_team,
            note: d.note,
            created_at: d.created_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use mongodb::bson::{self, doc};

    use super::*;

    #[test]
    fn a_tenant_stored_before_routing_existed_gets_the_default_settings() {
        let stored = doc! {
            "_id": "t1", "name": "Shop", "site_key": "sk", "allowed_origins": [],
            "identity_secret": "s", "require_verified_identity": false, "created_at": 1_i64,
        };
        let tenant = Tenant::from(bson::from_document::<TenantDoc>(stored).expect("decodes"));
        assert_eq!(tenant.routing, RoutingSettings::default());
        assert_eq!(tenant.widget, WidgetSettings::default());
    }

    #[test]
    fn widget_settings_round_trip_and_missing_fields_read_as_the_defaults() {
        let widget = WidgetSettings {
            color: "#0f766e".into(),
            position: WidgetPosition::Left,
            greeting: Some("Hi!".into()),
            launcher_text: None,
            title: Some("Demo Shop".into()),
        };
        let stored = bson::to_document(&WidgetSettingsDoc::from(&widget)).expect("encodes");
        assert_eq!(stored.get_str("position"), Ok("left"));
        assert!(!stored.contains_key("launcher_text"), "absent, not null");
        let decoded = bson::from_document::<WidgetSettingsDoc>(stored).expect("decodes");
        assert_eq!(WidgetSettings::from(decoded), widget);

        let partial = doc! { "greeting": "Hello" };
        let decoded = bson::from_document::<WidgetSettingsDoc>(partial).expect("decodes");
        assert_eq!(
            WidgetSettings::from(decoded),
            WidgetSettings {
                greeting: Some("Hello".into()),
                ..WidgetSettings::default()
            }
        );
    }

    #[test]
    fn routing_settings_missing_a_field_keep_the_others() {
        let stored = doc! { "policy": "manual", "teams": [{ "id": "sales", "name": "Sales" }] };
        let routing = RoutingSettings::from(
            bson::from_document::<RoutingSettingsDoc>(stored).expect("decodes"),
        );
        assert_eq!(routing.policy, RoutingPolicy::Manual);
        assert_eq!(routing.teams[0].policy, None);
        assert_eq!(
            routing.default_capacity,
            RoutingSettings::default().default_capacity
        );
    }

    #[test]
    fn a_conversation_stored_before_routing_existed_decodes_without_routing_fields() {
        let stored = doc! {
            "_id": "c1", "tenant_id": "t1", "visitor_id": "v1", "contact_name": null,
            "contact_email": null, "contact_external_id": null, "status": "unassigned",
            "assignee_id": null, "assignee_name": null, "last_seq": 0_i64,
            "last_message_preview": null, "created_at": 1_i64, "last_activity_at": 1_i64,
        };
        let conversation = Conversation::try_from(
            bson::from_document::<ConversationDoc>(stored).expect("decodes"),
        )
        .expect("converts");
        assert_eq!(conversation.team_id, None);
        assert_eq!(conversation.queue_rank, None);
        assert!(conversation.refused_by.is_empty());
        assert_eq!(conversation.first_assigned_at, None);
    }

    #[test]
    fn a_typing_notice_round_trips_through_its_document() {
        let notice = TypingNotice {
            tenant_id: "t1".into(),
            conversation_id: "c1".into(),
            author_kind: AuthorKind::Visitor,
            author_id: "v1".into(),
            author_name: Some("Zoë".into()),
            author_role: None,
            typing: true,
            preview: Some("Where is my ord".into()),
        };
        let stored = bson::to_document(&TypingDoc::new(&notice, "i1")).expect("encodes");
        assert_eq!(stored.get_str("origin"), Ok("i1"));
        assert!(
            stored.get_datetime("at").is_ok(),
            "the TTL index needs a date"
        );
        let decoded =
            TypingNotice::from(bson::from_document::<TypingDoc>(stored).expect("decodes"));
        assert_eq!(decoded, notice);
    }

    #[test]
    fn an_agent_round_trips_through_its_document() {
        let mut agent = Agent::new("t1", "s1", "Sam");
        agent.capacity = Some(5);
        agent.load = 2;
        agent.leases = vec![Lease {
            instance: "i1".into(),
            expires_at: 9,
        }];
        let stored = bson::to_document(&AgentDoc::from(&agent)).expect("encodes");
        assert_eq!(stored.get_str("staff_id"), Ok("s1"));
        assert!(!stored.contains_key("_id"), "the server generates `_id`");
        let decoded = Agent::try_from(bson::from_document::<AgentDoc>(stored).expect("decodes"))
            .expect("converts");
        assert_eq!(decoded, agent);
    }
}

/// A staff member's read position in one conversation; keyed by the unique index on
/// `(tenant_id, staff_id, conversation_id)`, the server generates `_id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ReadPositionDoc {
    pub tenant_id: String,
    pub staff_id: String,
    pub conversation_id: String,
    pub seq: i64,
    /// Set (`"<instance>:<unique>"`) by each write that moves `seq`, for other instances'
    /// change feeds (see `changes`).
    #[serde(default)]
    pub change_id: Option<String>,
}

impl TryFrom<ReadPositionDoc> for ReadPosition {
    type Error = StoreError;

    fn try_from(doc: ReadPositionDoc) -> StoreResult<Self> {
        Ok(ReadPosition {
            conversation_id: doc.conversation_id,
            seq: seq_from_bson(doc.seq)?,
        })
    }
}
