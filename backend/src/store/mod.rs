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
    Conversation, ConversationStatus, Message, NewMessage, Staff, Tenant, Timestamp, Visitor,
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
    /// Replaces a tenant's mutable fields (name, allowed origins, identity secret,
    /// `require_verified_identity`); `id`, `site_key` and `created_at` never change. `NotFound`
    /// if absent.
    async fn update_tenant(&self, tenant: &Tenant) -> StoreResult<()>;
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
    /// Lists a tenant's conversations matching `filter`, newest activity first (ties by id,
    /// descending), starting after `after`, at most `limit`.
    async fn list_conversations(
        &self,
        tenant_id: &str,
        filter: &ConversationFilter,
        after: Option<&ListCursor>,
        limit: usize,
    ) -> StoreResult<Vec<Conversation>>;
    /// Atomically assigns an unassigned conversation to a staff member and marks it open.
    /// `Conflict` if it is not unassigned (someone else won, or it is closed); `NotFound` if absent.
    async fn claim(
        &self,
        tenant_id: &str,
        id: &str,
        assignee_id: &str,
        assignee_name: &str,
        now: Timestamp,
    ) -> StoreResult<Conversation>;
    /// Marks a conversation closed; closing a closed conversation returns it unchanged.
    /// `NotFound` if absent.
    async fn close(&self, tenant_id: &str, id: &str, now: Timestamp) -> StoreResult<Conversation>;
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
    /// A conversation was created, claimed or closed (not: a new message in it).
    Conversation(Conversation),
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
            + StoreHealth
            + 'static,
    {
        Stores {
            tenants: store.clone(),
            staff: store.clone(),
            visitors: store.clone(),
            conversations: store.clone(),
            messages: store.clone(),
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
