//! Storage behind one trait per aggregate, so handlers and the domain never see a database.
//!
//! Two implementations pass the same contract suite (`backend/tests/api/store_contract.rs`):
//! [`mongo`] for production and scale-out (several natter instances on one MongoDB replica set),
//! and [`sqlite`], the embedded default that needs no external service.
//!
//! **Architecture Invariant**: every method that reads or writes tenant data takes the tenant id
//! and filters by it; nothing here can reach across tenants. The only global look-ups are by
//! tenant site key and by staff e-mail (for sign-in), which identify the tenant.
//!
//! **Architecture Invariant**: [`MessageStore::append_batch`] assigns each conversation's `seq`
//! atomically with storing the messages, so `seq` is gap-free and unique even with several
//! server instances on one database, and a message is durable before the call returns.

pub mod mongo;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::{
    Agent, AgentProfile, Conversation, ConversationEvent, ConversationStatus, Message, NewMessage,
    Presence, RoutingSettings, Staff, Tenant, Timestamp, TypingNotice, Visitor, WidgetSettings,
};

/// What can go wrong in a store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist (in this tenant).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule or a state precondition was violated; the text says which.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The conversation is closed and takes no more messages.
    #[error("conversation closed")]
    ConversationClosed,
    /// The agent already has as many open conversations as the capacity given; nothing changed.
    #[error("agent at capacity")]
    AtCapacity,
    /// The database could not be reached or timed out; retrying later may work.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else (corrupt record, driver bug); logged, shown to users as an internal error.
    #[error("storage error: {0}")]
    Internal(String),
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Tenants (websites).
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Inserts a tenant; `Conflict` if its id or site key is taken.
    async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()>;
    /// Finds a tenant by id.
    async fn tenant_by_id(&self, id: &str) -> StoreResult<Option<Tenant>>;
    /// Finds a tenant by its public site key.
    async fn tenant_by_site_key(&self, site_key: &str) -> StoreResult<Option<Tenant>>;
    /// Writes the settings present in `changes`, and only those, in one atomic step, and
    /// returns the tenant as stored afterwards: two saves of different settings never undo
    /// each other. `id`, `site_key`, `created_at` and the identity secret are never written
    /// here (see [`TenantStore::set_identity_secret`]). `NotFound` if absent.
    async fn update_tenant(&self, tenant_id: &str, changes: &TenantChanges) -> StoreResult<Tenant>;
    /// Replaces the identity secret (a rotation). Only this method writes it, so a settings
    /// change that read the tenant before a rotation cannot bring the old secret back.
    /// `NotFound` if absent.
    async fn set_identity_secret(&self, tenant_id: &str, secret: &str) -> StoreResult<()>;
}

/// Settings to change with [`TenantStore::update_tenant`]; `None` leaves a setting as stored.
/// Values are already validated and normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantChanges {
    /// Display name.
    pub name: Option<String>,
    /// Origins the widget may be embedded on.
    pub allowed_origins: Option<Vec<String>>,
    /// Whether visitors must present a signed identity.
    pub require_verified_identity: Option<bool>,
    /// Whether staff see visitors' drafts.
    pub typing_preview: Option<bool>,
    /// Routing policy, teams and capacities (replaced as a whole).
    pub routing: Option<RoutingSettings>,
    /// The widget's look and texts (replaced as a whole).
    pub widget: Option<WidgetSettings>,
}

/// Staff accounts.
#[async_trait]
pub trait StaffStore: Send + Sync {
    /// Inserts an account; `Conflict` if the e-mail is taken (anywhere).
    async fn create_staff(&self, staff: &Staff) -> StoreResult<()>;
    /// Finds an account of a tenant by id.
    async fn staff_by_id(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Staff>>;
    /// Finds an account by e-mail, across tenants, for sign-in. Matches exactly: callers pass
    /// the address lowercased, as it is stored.
    async fn staff_by_email(&self, email: &str) -> StoreResult<Option<Staff>>;
    /// Lists a tenant's accounts, oldest first.
    async fn list_staff(&self, tenant_id: &str) -> StoreResult<Vec<Staff>>;
    /// Replaces an account's mutable fields (name, role, password hash, active); `NotFound` if
    /// absent from that tenant.
    async fn update_staff(&self, staff: &Staff) -> StoreResult<()>;
}

/// Visitors.
#[async_trait]
pub trait VisitorStore: Send + Sync {
    /// Inserts a visitor; `Conflict` if the tenant already has one with the same external id.
    async fn create_visitor(&self, visitor: &Visitor) -> StoreResult<()>;
    /// Finds a visitor of a tenant by id.
    async fn visitor_by_id(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Visitor>>;
    /// Finds a visitor of a tenant by the site owner's user id.
    async fn visitor_by_external_id(
        &self,
        tenant_id: &str,
        external_id: &str,
    ) -> StoreResult<Option<Visitor>>;
    /// Replaces a visitor's name and e-mail; `NotFound` if absent.
    async fn update_visitor(&self, visitor: &Visitor) -> StoreResult<()>;
    /// Records where the visitor is now (page URL and browser) on the visitor and on each of
    /// their conversations that is not closed (their contact copies; nothing else of them
    /// changes, `last_activity_at` included). Returns those conversations as updated.
    /// `NotFound` if the visitor is absent.
    async fn record_visit(
        &self,
        tenant_id: &str,
        visitor_id: &str,
        page_url: Option<&str>,
        user_agent: Option<&str>,
    ) -> StoreResult<Vec<Conversation>>;
}

/// Which conversations to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationFilter {
    /// Only this status.
    pub status: Option<ConversationStatus>,
    /// Only conversations claimed by this staff member.
    pub assignee_id: Option<String>,
    /// Only this visitor's conversations.
    pub visitor_id: Option<String>,
    /// Case-insensitive substring of the contact's name (Unicode case folding; `%`, `_` and other
    /// pattern characters are literal). `Some("")` matches every named contact, so callers turn
    /// an empty search into `None`.
    pub contact_search: Option<String>,
}

/// A position in a list sorted by `(last_activity_at desc, id desc)`: the last item of the
/// previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCursor {
    /// `last_activity_at` of the last item seen.
    pub last_activity_at: Timestamp,
    /// `id` of the last item seen.
    pub id: String,
}

/// Conversations.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Inserts a conversation; `Conflict` if the id is taken.
    async fn create_conversation(&self, conversation: &Conversation) -> StoreResult<()>;
    /// Finds a conversation of a tenant by id.
    async fn conversation(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Conversation>>;
    /// Lists a tenant's visitor conversations matching `filter` (never the staff room), newest
    /// activity first (ties by id, descending), starting after `after`, at most `limit`.
    async fn list_conversations(
        &self,
        tenant_id: &str,
        filter: &ConversationFilter,
        after: Option<&ListCursor>,
        limit: usize,
    ) -> StoreResult<Vec<Conversation>>;
    /// Applies each [`Assignment`] of the batch atomically and on its own (one failing item
    /// leaves the others alone), returning one outcome per item in input order. An item
    /// succeeds only if, in one atomic step: the conversation is in the expected state
    /// (`from: None`: unassigned; `Some(a)`: open and assigned to `a`), and the agent's load is
    /// below `capacity`, and (`from: None`) the agent is not in its `refused_by`. On success the conversation is open, assigned to the agent, leaves the
    /// waiting line (`queue_rank: None`), gets `first_assigned_at` if it had none and
    /// `last_activity_at = now`; the agent's load grows by one and their `last_assigned`
    /// becomes the item's ticket; with `from: Some(a)`, `a`'s load shrinks by one. Per item:
    /// `NotFound` if the conversation or the agent's profile is not in the tenant, `Conflict`
    /// if the conversation is not in the expected state (taken by someone else, closed),
    /// `AtCapacity` if the agent is full. The outer `Err` means the batch could not run at all.
    async fn assign_batch(
        &self,
        tenant_id: &str,
        batch: &[Assignment],
        now: Timestamp,
    ) -> StoreResult<Vec<StoreResult<Conversation>>>;
    /// Returns an open conversation assigned to `from` to the waiting line, atomically: it
    /// becomes unassigned (no assignee), `team_id` becomes `team_id`, `queue_rank` becomes
    /// `rank`, `last_activity_at = now`, `refused_by` keeps its entries and gains `refused_by`
    /// when given (an assignee who refuses it, recorded in the same step so that no instance
    /// hands it straight back); `from`'s load shrinks by one. `Conflict` if it is not open and
    /// assigned to `from`; `NotFound` if absent.
    #[allow(clippy::too_many_arguments)]
    async fn requeue(
        &self,
        tenant_id: &str,
        id: &str,
        from: &str,
        team_id: Option<&str>,
        rank: i64,
        refused_by: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Conversation>;
    /// The tenant's unassigned conversations in line order (`queue_rank` ascending, then id
    /// ascending), at most `limit`.
    async fn waiting(&self, tenant_id: &str, limit: usize) -> StoreResult<Vec<Conversation>>;
    /// Records that `staff_id` refused a waiting conversation (added once to `refused_by`).
    /// `Conflict` if it is not unassigned; `NotFound` if absent.
    async fn refuse(&self, tenant_id: &str, id: &str, staff_id: &str) -> StoreResult<Conversation>;
    /// Stores a staff-only history event; `Conflict` if its id is taken.
    async fn add_event(&self, event: &ConversationEvent) -> StoreResult<()>;
    /// A conversation's staff-only history events, oldest first (by `created_at`, then id), at
    /// most `limit`.
    async fn events(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        limit: usize,
    ) -> StoreResult<Vec<ConversationEvent>>;
    /// The tenant's staff room; if it has none yet, stores `candidate` (a
    /// [`Conversation::staff_room`]) and returns it. At most one per tenant, also when several
    /// callers (or instances) race on the first call: the losers get the winner's.
    async fn staff_room(
        &self,
        tenant_id: &str,
        candidate: &Conversation,
    ) -> StoreResult<Conversation>;
    /// Reopens a closed visitor conversation for `agent`, atomically: it must be closed, its
    /// visitor must have no other conversation that is not closed, and the agent's load must be
    /// below `capacity`. On success it is open, assigned to the agent (`agent_name` stored),
    /// out of the line, with `last_activity_at = now`, and the agent's load grows by one.
    /// `Conflict` (saying which) if it is not closed or the visitor has another live
    /// conversation, `AtCapacity` if the agent is full, `NotFound` if the conversation or the
    /// agent's profile is absent.
    async fn reopen(
        &self,
        tenant_id: &str,
        id: &str,
        agent_id: &str,
        agent_name: &str,
        capacity: u32,
        now: Timestamp,
    ) -> StoreResult<Conversation>;
    /// Marks a conversation closed (and leaves the line: `queue_rank: None`); if it was open,
    /// its assignee's load shrinks by one in the same atomic step. Closing a closed
    /// conversation returns it unchanged. `NotFound` if absent.
    async fn close(&self, tenant_id: &str, id: &str, now: Timestamp) -> StoreResult<Conversation>;
}

/// One hand-over for [`ConversationStore::assign_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The conversation.
    pub conversation_id: String,
    /// Who must hold it now: `None`, nobody (it waits, unassigned); `Some(a)`, agent `a` (a
    /// transfer).
    pub from: Option<String>,
    /// The agent who takes it.
    pub agent_id: String,
    /// Their display name, stored as the assignee name.
    pub agent_name: String,
    /// The most open conversations the agent may hold, this one included.
    pub capacity: u32,
    /// Stored as the agent's `last_assigned` (round-robin order).
    pub ticket: i64,
}

/// Agents' routing profiles: presence, capacity, teams, load.
///
/// Presence follows connections across instances through leases: each instance holding a
/// connection of an agent keeps a lease on their profile and refreshes it; `seen_until` is
/// the latest moment the agent is known connected. An agent whose `seen_until` is older than
/// the grace period is lost. See [`Agent`].
#[async_trait]
pub trait AgentStore: Send + Sync {
    /// Inserts `agent` unless the staff member already has a profile; returns the stored one.
    async fn ensure_agent(&self, agent: &Agent) -> StoreResult<Agent>;
    /// A staff member's profile.
    async fn agent(&self, tenant_id: &str, staff_id: &str) -> StoreResult<Option<Agent>>;
    /// Every profile of a tenant, by staff id.
    async fn list_agents(&self, tenant_id: &str) -> StoreResult<Vec<Agent>>;
    /// Replaces name, avatar, own capacity and teams; `NotFound` if absent.
    async fn update_agent_profile(
        &self,
        tenant_id: &str,
        staff_id: &str,
        profile: &AgentProfile,
    ) -> StoreResult<Agent>;
    /// Sets the chosen and the effective presence; `NotFound` if absent.
    async fn set_presence(
        &self,
        tenant_id: &str,
        staff_id: &str,
        chosen: Presence,
        effective: Presence,
    ) -> StoreResult<Agent>;
    /// `instance` holds a connection of the agent until `expires_at` (a new connection or a
    /// refresh): its lease is created or moved, `seen_until` becomes at least `expires_at`,
    /// and the effective presence becomes the chosen one. `NotFound` if absent.
    async fn connect_agent(
        &self,
        tenant_id: &str,
        staff_id: &str,
        instance: &str,
        expires_at: Timestamp,
    ) -> StoreResult<Agent>;
    /// `instance` no longer holds any connection of the agent: its lease is removed and
    /// `seen_until` becomes the latest of `now` and the other leases' expiries. `NotFound` if
    /// absent.
    async fn disconnect_agent(
        &self,
        tenant_id: &str,
        staff_id: &str,
        instance: &str,
        now: Timestamp,
    ) -> StoreResult<Agent>;
    /// Agents of every tenant that are not effectively offline and whose `seen_until` is at or
    /// before `seen_before` (lost), at most `limit`.
    async fn lost_agents(&self, seen_before: Timestamp, limit: usize) -> StoreResult<Vec<Agent>>;
    /// Atomically marks the agent effectively offline if they are still lost (not offline and
    /// `seen_until <= seen_before`); `None` if not (they came back meanwhile, or another
    /// instance marked them first).
    async fn mark_agent_lost(
        &self,
        tenant_id: &str,
        staff_id: &str,
        seen_before: Timestamp,
    ) -> StoreResult<Option<Agent>>;
}

/// How far a staff member has read one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadPosition {
    /// The conversation.
    pub conversation_id: String,
    /// The last message read (its `seq`); later ones are unread.
    pub seq: u64,
}

/// Staff members' read positions, kept per account (not per device) so that every device of
/// an agent shows the same unread counts.
#[async_trait]
pub trait ReadStore: Send + Sync {
    /// Records that `staff_id` has read `conversation_id` up to `seq`, atomically and only
    /// forward: a `seq` below the stored one leaves it as it is. Returns the position stored
    /// afterwards. The caller has checked that the conversation is in the tenant and that
    /// `seq` is at most its `last_seq`.
    async fn mark_read(
        &self,
        tenant_id: &str,
        staff_id: &str,
        conversation_id: &str,
        seq: u64,
    ) -> StoreResult<u64>;
    /// Every position `staff_id` has recorded in the tenant, by conversation id.
    async fn read_positions(
        &self,
        tenant_id: &str,
        staff_id: &str,
    ) -> StoreResult<Vec<ReadPosition>>;
}

/// The outcome of appending one message of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Stored now with a fresh `seq`.
    Stored(Message),
    /// A message with the same `(conversation_id, client_id)` already existed; this is it, and
    /// nothing was written.
    Duplicate(Message),
}

impl Appended {
    /// The stored message, new or earlier.
    pub fn message(&self) -> &Message {
        match self {
            Appended::Stored(m) | Appended::Duplicate(m) => m,
        }
    }
}

/// Messages.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Durably appends a batch of messages (possibly to many conversations) and returns one
    /// outcome per input, in input order. Within a conversation, messages get consecutive `seq`s
    /// in input order; the conversation's `last_seq`, preview and `last_activity_at` move with
    /// them (a duplicate moves nothing). Per item, checked in this order: `Err(NotFound)` if the
    /// conversation is not in that tenant; `Duplicate` if its `client_id` is already stored, even
    /// if the conversation closed since (so a client whose ack was lost learns its message is
    /// in); `Err(ConversationClosed)` if it is closed. Other items still succeed. The outer `Err`
    /// means nothing of the batch was stored.
    async fn append_batch(
        &self,
        batch: &[NewMessage],
        now: Timestamp,
    ) -> StoreResult<Vec<StoreResult<Appended>>>;
    /// Messages of a conversation with `seq > after_seq`, ascending, at most `limit`.
    async fn messages_after(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        after_seq: u64,
        limit: usize,
    ) -> StoreResult<Vec<Message>>;
    /// The newest messages with `seq < before_seq` (all when `None`), at most `limit`, returned
    /// in ascending order: one page of history scrolling upward.
    async fn messages_before(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        before_seq: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<Message>>;
}

/// A change committed by another server instance sharing the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A message was stored.
    Message(Message),
    /// A conversation was created, assigned, requeued, refused or closed (not: a new message
    /// in it).
    Conversation(Conversation),
    /// An agent's profile changed (presence, load, capacity, teams).
    Agent(Agent),
    /// Someone started or stopped typing (announced with [`ChangeFeed::announce_typing`]).
    Typing(TypingNotice),
    /// A staff member's read position moved forward (see [`ReadStore::mark_read`]).
    Read {
        /// Their tenant.
        tenant_id: String,
        /// The staff member.
        staff_id: String,
        /// Where they are now.
        position: ReadPosition,
    },
}

/// The stream of [`Change`]s made by other instances.
pub type ChangeStream = futures_util::stream::BoxStream<'static, StoreResult<Change>>;

/// Changes made by *other* natter instances on the same database, so each instance can fan out
/// live events to its own sockets. Only stores that several instances can share implement it.
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// Follows changes from now on, in commit order per conversation. The stream yields `Err`
    /// or ends when the feed breaks; the caller subscribes again (after a pause).
    async fn subscribe(&self) -> StoreResult<ChangeStream>;
    /// Hands typing notices to the other instances' feeds (as [`Change::Typing`], in this
    /// order). Ephemeral: kept only long enough for the feeds to pick them up, never
    /// durably, and never part of any history.
    async fn announce_typing(&self, notices: &[TypingNotice]) -> StoreResult<()>;
}

/// Liveness of the database, for `/readyz`.
#[async_trait]
pub trait StoreHealth: Send + Sync {
    /// Succeeds when the database answers.
    async fn ping(&self) -> StoreResult<()>;
}

/// One handle per aggregate, all backed by the same database. Cheap to clone.
#[derive(Clone)]
pub struct Stores {
    /// Tenants.
    pub tenants: Arc<dyn TenantStore>,
    /// Staff accounts.
    pub staff: Arc<dyn StaffStore>,
    /// Visitors.
    pub visitors: Arc<dyn VisitorStore>,
    /// Conversations.
    pub conversations: Arc<dyn ConversationStore>,
    /// Messages.
    pub messages: Arc<dyn MessageStore>,
    /// Agents' routing profiles.
    pub agents: Arc<dyn AgentStore>,
    /// Staff members' read positions.
    pub reads: Arc<dyn ReadStore>,
    /// Database liveness.
    pub health: Arc<dyn StoreHealth>,
    /// Changes by other instances; `None` for stores that serve a single instance.
    pub changes: Option<Arc<dyn ChangeFeed>>,
}

impl Stores {
    /// Bundles one value implementing every store trait.
    pub fn from_single<S>(store: Arc<S>) -> Self
    where
        S: TenantStore
            + StaffStore
            + VisitorStore
            + ConversationStore
            + MessageStore
            + AgentStore
            + ReadStore
            + StoreHealth
            + 'static,
    {
        Stores {
            tenants: store.clone(),
            staff: store.clone(),
            visitors: store.clone(),
            conversations: store.clone(),
            messages: store.clone(),
            agents: store.clone(),
            reads: store.clone(),
            health: store,
            changes: None,
        }
    }

    /// Opens the store selected by `database_url`: `mongodb://` or `mongodb+srv://` URLs use
    /// MongoDB (database name from the URL path, default `natter`); anything else is a directory
    /// for the embedded SQLite store.
    pub async fn open(database_url: &str) -> StoreResult<Self> {
        if database_url.starts_with("mongodb://") || database_url.starts_with("mongodb+srv://") {
            let store = mongo::MongoStore::connect(database_url).await?;
            Ok(store.into_stores())
        } else {
            let store = sqlite::SqliteStore::open(std::path::Path::new(database_url)).await?;
            Ok(Stores::from_single(Arc::new(store)))
        }
    }
}
