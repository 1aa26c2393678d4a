//! MongoDB store, for production and for several natter instances sharing one database.
//!
//! Every record is one document whose `_id` is the domain id (agent profiles, which have none
//! of their own, are keyed by tenant and staff id); the shapes live in `records`. The deployment must be a replica set (or sharded
//! cluster): appending messages and moving conversations between the line and agents use
//! multi-document transactions (see `append` and `assign` for the designs), and
//! [`MongoStore::connect`] refuses a standalone server rather than failing on the first message.
//! Agent profiles, presence and leases live in `agents`; staff members' read positions in `reads`.
//!
//! Durability: every write is acknowledged with `w: majority, j: true`, so an acknowledged
//! message survives a crash or a failover; reads use read concern `majority` (transactions use
//! `snapshot`), so nothing is read that a failover could roll back.
//!
//! Conversation indexes do not contain `last_activity_at`, which every appended message moves:
//! closed conversations are listed in index order by their frozen `closed_activity_at`, live
//! ones are few and sorted in memory (see `MongoStore::create_indexes` and
//! `list_conversations`). This keeps the conversation update of an append off every index.
//!
//! Several natter instances may share one database: each store stamps its writes with a random
//! instance id and follows the others' through a change stream (`changes`, the
//! [`ChangeFeed`]); [`MongoStore::into_stores`] wires it into [`Stores`].
//!
//! Errors from the driver become [`StoreError`]s in `errors` only; duplicate keys (code 11000)
//! become `Conflict` there and nowhere else.

mod agents;
mod append;
mod assign;
mod changes;
mod errors;
#[cfg(test)]
mod live;
mod reads;
mod records;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::{
    Acknowledgment, ClientOptions, CollectionOptions, IndexOptions, ReadConcern, ReturnDocument,
    TransactionOptions, WriteConcern,
};
use mongodb::{Client, Collection, Database, IndexModel};

use self::errors::{on_duplicate_key, store_error};
use self::records::{
    AGENTS, AgentDoc, CONVERSATION_CLIENT_ID_INDEX, CONVERSATION_EVENTS, CONVERSATIONS,
    ConversationDoc, EventDoc, MESSAGES, MessageDoc, READ_POSITIONS, ReadPositionDoc,
    RoutingSettingsDoc, STAFF, StaffDoc, TENANTS, TYPING, TenantDoc, TypingDoc, VISITORS,
    VisitorDoc, WidgetSettingsDoc, seq_to_bson,
};
use crate::domain::{
    Conversation, ConversationEvent, ConversationKind, ConversationStatus, Message, NewMessage,
    Staff, Tenant, Timestamp, TypingNotice, Visitor,
};
use crate::store::{
    Appended, Assignment, ChangeFeed, ChangeStream, ConversationFilter, ConversationStore,
    ListCursor, MessageStore, StaffStore, StoreError, StoreHealth, StoreResult, Stores,
    TenantChanges, TenantStore, VisitorStore,
};

/// The database used when the URL names none.
const DEFAULT_DATABASE: &str = "natter";

/// How long an operation waits for a usable server when the URL does not say
/// (`serverSelectionTimeoutMS`). The driver's 30 s default would leave requests and `/readyz`
/// hanging long after the database is gone.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// The MongoDB implementation of every store trait. Cheap to clone (the driver's client is a
/// handle to a shared connection pool).
#[derive(Clone, Debug)]
pub struct MongoStore {
    client: Client,
    db: Database,
    tenants: Collection<TenantDoc>,
    staff: Collection<StaffDoc>,
    visitors: Collection<VisitorDoc>,
    conversations: Collection<ConversationDoc>,
    messages: Collection<MessageDoc>,
    agents: Collection<AgentDoc>,
    events: Collection<EventDoc>,
    /// Staff members' read positions (see `reads`).
    reads: Collection<ReadPositionDoc>,
    /// Typing notices for other instances, written with `w: 1` (see `changes`).
    typing: Collection<TypingDoc>,
    /// Options of the transactions that append messages and move conversations.
    transaction_options: TransactionOptions,
    /// Random id of this store (this natter instance), stamped on what it writes so that its
    /// change feed can skip its own changes; see `changes`.
    instance: String,
    /// Where the change feed stopped: a new subscription resumes after it, so events committed
    /// while the feed was re-established are not lost.
    resume_token:
        std::sync::Arc<std::sync::Mutex<Option<mongodb::change_stream::event::ResumeToken>>>,
}

/// `w: majority, j: true`: acknowledged writes survive a crash and a failover.
fn durable_write_concern() -> WriteConcern {
    WriteConcern::builder()
        .w(Acknowledgment::Majority)
        .journal(true)
        .build()
}

impl MongoStore {
    /// Connects to the deployment at `url` (database name from the URL path, default `natter`),
    /// checks that it supports transactions, and creates the indexes.
    ///
    /// The write concern is always `majority` with journaling, whatever the URL says: natter
    /// promises that acknowledged messages are durable.
    pub async fn connect(url: &str) -> StoreResult<MongoStore> {
        let mut options = ClientOptions::parse(url).await.map_err(store_error)?;
        options.app_name.get_or_insert_with(|| "natter".into());
        options
            .server_selection_timeout
            .get_or_insert(SERVER_SELECTION_TIMEOUT);
        options.write_concern = Some(durable_write_concern());
        options.read_concern = Some(ReadConcern::majority());
        let database = options
            .default_database
            .clone()
            .unwrap_or_else(|| DEFAULT_DATABASE.into());
        let client = Client::with_options(options).map_err(store_error)?;

        let hello = client
            .database("admin")
            .run_command(doc! { "hello": 1 })
            .await
            .map_err(store_error)?;
        let is_replica_set = hello.get_str("setName").is_ok();
        let is_mongos = hello.get_str("msg") == Ok("isdbgrid");
        if !is_replica_set && !is_mongos {
            return Err(StoreError::Internal(
                "MongoDB must be a replica set or a sharded cluster: natter needs transactions \
                 (a single server can run as a one-member replica set)"
                    .into(),
            ));
        }

        let db = client.database(&database);
        let store = MongoStore {
            tenants: db.collection(TENANTS),
            staff: db.collection(STAFF),
            visitors: db.collection(VISITORS),
            conversations: db.collection(CONVERSATIONS),
            messages: db.collection(MESSAGES),
            agents: db.collection(AGENTS),
            events: db.collection(CONVERSATION_EVENTS),
            reads: db.collection(READ_POSITIONS),
            typing: db.collection_with_options(
                TYPING,
                CollectionOptions::builder()
                    .write_concern(
                        WriteConcern::builder()
                            .w(Acknowledgment::Nodes(1))
                            .journal(false)
                            .build(),
                    )
                    .build(),
            ),
            transaction_options: TransactionOptions::builder()
                .read_concern(ReadConcern::snapshot())
                .write_concern(durable_write_concern())
                .build(),
            instance: uuid::Uuid::new_v4().simple().to_string()[..16].to_owned(),
            resume_token: Default::default(),
            client,
            db,
        };
        store.create_indexes().await?;
        Ok(store)
    }

    /// Every store handle backed by this store, including its change feed (several instances
    /// can share a MongoDB database, so each follows the others' changes).
    pub fn into_stores(self) -> Stores {
        let store = Arc::new(self);
        let mut stores = Stores::from_single(store.clone());
        stores.changes = Some(store);
        stores
    }

    /// Creates the indexes every query relies on (idempotent; existing ones are kept).
    async fn create_indexes(&self) -> StoreResult<()> {
        fn index(name: &str, keys: Document) -> IndexModel {
            IndexModel::builder()
                .keys(keys)
                .options(IndexOptions::builder().name(name.to_owned()).build())
                .build()
        }
        fn unique(name: &str, keys: Document, only_strings: Option<&str>) -> IndexModel {
            let partial = only_strings.map(|field| doc! { field: { "$type": "string" } });
            IndexModel::builder()
                .keys(keys)
                .options(
                    IndexOptions::builder()
                        .name(name.to_owned())
                        .unique(true)
                        .partial_filter_expression(partial)
                        .build(),
                )
                .build()
        }

        self.tenants
            .create_index(unique("site_key_unique", doc! { "site_key": 1 }, None))
            .await
            .map_err(store_error)?;
        self.staff
            .create_indexes([
                unique("email_unique", doc! { "email": 1 }, None),
                index(
                    "tenant_created",
                    doc! { "tenant_id": 1, "created_at": 1, "_id": 1 },
                ),
            ])
            .await
            .map_err(store_error)?;
        self.visitors
            .create_index(unique(
                "tenant_external_id_unique",
                doc! { "tenant_id": 1, "external_id": 1 },
                Some("external_id"),
            ))
            .await
            .map_err(store_error)?;
        // No conversation index contains `last_activity_at`. Every appended message moves it,
        // and in a transaction each index key that changes costs a delete, an insert and
        // catalog checks: with activity-sorted indexes the conversation update cost more than
        // inserting the message itself. Instead:
        // - closed conversations, the vast majority, are sorted by `closed_activity_at` (their
        //   final `last_activity_at`), which the indexes below contain;
        // - live (unassigned or open) conversations are found through the same indexes by
        //   status and sorted in memory: there are only as many as chats going on;
        // - a visitor's few conversations are found by `tenant_visitor` and sorted in memory.
        // See `list_conversations`. The waiting line's index sorts by `queue_rank`, which only
        // changes when a conversation enters or leaves the line, never on a message.
        self.conversations
            .create_indexes([
                index(
                    "tenant_status_closed_activity",
                    doc! { "tenant_id": 1, "status": 1, "closed_activity_at": -1, "_id": -1 },
                ),
                index(
                    "tenant_assignee_status_closed_activity",
                    doc! {
                        "tenant_id": 1,
                        "assignee_id": 1,
                        "status": 1,
                        "closed_activity_at": -1,
                        "_id": -1,
                    },
                ),
                index("tenant_visitor", doc! { "tenant_id": 1, "visitor_id": 1 }),
                index(
                    "tenant_status_queue_rank",
                    doc! { "tenant_id": 1, "status": 1, "queue_rank": 1, "_id": 1 },
                ),
                // One staff room per tenant; visitor conversations have no `kind`.
                IndexModel::builder()
                    .keys(doc! { "tenant_id": 1 })
                    .options(
                        IndexOptions::builder()
                            .name("tenant_staff_room_unique".to_owned())
                            .unique(true)
                            .partial_filter_expression(doc! { "kind": "staff_room" })
                            .build(),
                    )
                    .build(),
            ])
            .await
            .map_err(store_error)?;
        self.messages
            .create_indexes([
                unique(
                    "conversation_seq_unique",
                    doc! { "conversation_id": 1, "seq": 1 },
                    None,
                ),
                unique(
                    CONVERSATION_CLIENT_ID_INDEX,
                    doc! { "conversation_id": 1, "client_id": 1 },
                    Some("client_id"),
                ),
            ])
            .await
            .map_err(store_error)?;
        // `tenant_staff_unique` is the key of a profile and serves `list_agents`;
        // `presence_seen_until` serves the sweep for lost agents across tenants.
        self.agents
            .create_indexes([
                unique(
                    "tenant_staff_unique",
                    doc! { "tenant_id": 1, "staff_id": 1 },
                    None,
                ),
                index(
                    "presence_seen_until",
                    doc! { "presence": 1, "seen_until": 1 },
                ),
            ])
            .await
            .map_err(store_error)?;
        self.events
            .create_index(index(
                "conversation_created",
                doc! { "conversation_id": 1, "created_at": 1, "_id": 1 },
            ))
            .await
            .map_err(store_error)?;
        // The key of a position; a staff member's positions are a prefix of it.
        self.reads
            .create_index(unique(
                "tenant_staff_conversation_unique",
                doc! { "tenant_id": 1, "staff_id": 1, "conversation_id": 1 },
                None,
            ))
            .await
            .map_err(store_error)?;
        // Typing notices are only a mailbox for the change streams: the server removes them
        // one to two minutes after they were announced (its TTL pass runs once a minute).
        self.typing
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "at": 1 })
                    .options(
                        IndexOptions::builder()
                            .name("expire_at".to_owned())
                            .expire_after(Duration::from_secs(60))
                            .build(),
                    )
                    .build(),
            )
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// A conversation of a tenant, decoded.
    async fn find_conversation(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> StoreResult<Option<Conversation>> {
        self.conversations
            .find_one(doc! { "_id": id, "tenant_id": tenant_id })
            .await
            .map_err(store_error)?
            .map(Conversation::try_from)
            .transpose()
    }

    /// Conversations matching `query`, newest first by `sort_key` (then by id), at most `limit`.
    async fn find_conversations(
        &self,
        query: Document,
        limit: usize,
        sort_key: &str,
    ) -> StoreResult<Vec<Conversation>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let docs: Vec<ConversationDoc> = self
            .conversations
            .find(query)
            .sort(doc! { sort_key: -1, "_id": -1 })
            .limit(limit)
            .batch_size(u32::try_from(limit).unwrap_or(u32::MAX))
            .await
            .map_err(store_error)?
            .try_collect()
            .await
            .map_err(store_error)?;
        docs.into_iter().map(Conversation::try_from).collect()
    }

    /// Messages of a conversation matching `range` (a filter on `seq`), in `seq` order
    /// (`direction` 1 or -1), at most `limit`.
    async fn find_messages(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        range: Option<Document>,
        direction: i32,
        limit: usize,
    ) -> StoreResult<Vec<Message>> {
        // MongoDB reads `limit(0)` as "no limit".
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut filter = doc! { "conversation_id": conversation_id, "tenant_id": tenant_id };
        if let Some(range) = range {
            filter.insert("seq", range);
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let docs: Vec<MessageDoc> = self
            .messages
            .find(filter)
            .sort(doc! { "seq": direction })
            .limit(limit)
            .batch_size(u32::try_from(limit).unwrap_or(u32::MAX))
            .await
            .map_err(store_error)?
            .try_collect()
            .await
            .map_err(store_error)?;
        docs.into_iter().map(Message::try_from).collect()
    }
}

/// "Strictly after the cursor in (`last_activity_at` desc, id desc) order", for queries sorted in
/// memory.
fn after_in_memory(after: &ListCursor) -> Vec<Document> {
    vec![
        doc! { "last_activity_at": { "$lt": after.last_activity_at } },
        doc! { "last_activity_at": after.last_activity_at, "_id": { "$lt": &after.id } },
    ]
}

/// The first `limit` of two lists sorted newest first (`last_activity_at` desc, id desc).
fn merge_newest_first(
    a: Vec<Conversation>,
    b: Vec<Conversation>,
    limit: usize,
) -> Vec<Conversation> {
    let mut all = a;
    all.extend(b);
    all.sort_by(|x, y| (y.last_activity_at, &y.id).cmp(&(x.last_activity_at, &x.id)));
    all.truncate(limit);
    all
}

/// `text` as a regular expression matching itself. Every ASCII punctuation character is escaped
/// (always safe in PCRE); other characters stand for themselves.
fn escape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if c.is_ascii_punctuation() || c == ' ' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[async_trait]
impl TenantStore for MongoStore {
    async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        self.tenants
            .insert_one(TenantDoc::from(tenant))
            .await
            .map_err(on_duplicate_key("tenant id or site key already in use"))?;
        Ok(())
    }

    async fn tenant_by_id(&self, id: &str) -> StoreResult<Option<Tenant>> {
        let found = self
            .tenants
            .find_one(doc! { "_id": id })
            .await
            .map_err(store_error)?;
        Ok(found.map(Tenant::from))
    }

    async fn tenant_by_site_key(&self, site_key: &str) -> StoreResult<Option<Tenant>> {
        let found = self
            .tenants
            .find_one(doc! { "site_key": site_key })
            .await
            .map_err(store_error)?;
        Ok(found.map(Tenant::from))
    }

    async fn update_tenant(&self, tenant_id: &str, changes: &TenantChanges) -> StoreResult<Tenant> {
        // Only the settings given are `$set`, so concurrent saves of different settings both
        // survive; the document is returned as this update left it.
        let mut set = Document::new();
        if let Some(name) = &changes.name {
            set.insert("name", name);
        }
        if let Some(origins) = &changes.allowed_origins {
            set.insert("allowed_origins", origins);
        }
        if let Some(require) = changes.require_verified_identity {
            set.insert("require_verified_identity", require);
        }
        if let Some(preview) = changes.typing_preview {
            set.insert("typing_preview", preview);
        }
        if let Some(routing) = &changes.routing {
            let routing =
                mongodb::bson::to_bson(&RoutingSettingsDoc::from(routing)).map_err(|_| {
                    StoreError::Internal("mongodb: cannot encode routing settings".into())
                })?;
            set.insert("routing", routing);
        }
        if let Some(widget) = &changes.widget {
            let widget =
                mongodb::bson::to_bson(&WidgetSettingsDoc::from(widget)).map_err(|_| {
                    StoreError::Internal("mongodb: cannot encode widget settings".into())
                })?;
            set.insert("widget", widget);
        }
        let found = if set.is_empty() {
            self.tenants
                .find_one(doc! { "_id": tenant_id })
                .await
                .map_err(store_error)?
        } else {
            self.tenants
                .find_one_and_update(doc! { "_id": tenant_id }, doc! { "$set": set })
                .return_document(ReturnDocument::After)
                .await
                .map_err(store_error)?
        };
        found.map(Tenant::from).ok_or(StoreError::NotFound)
    }

    async fn set_identity_secret(&self, tenant_id: &str, secret: &str) -> StoreResult<()> {
        let result = self
            .tenants
            .update_one(
                doc! { "_id": tenant_id },
                doc! { "$set": { "identity_secret": secret } },
            )
            .await
            .map_err(store_error)?;
        if result.matched_count == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

#[async_trait]
impl StaffStore for MongoStore {
    async fn create_staff(&self, staff: &Staff) -> StoreResult<()> {
        self.staff
            .insert_one(StaffDoc::from(staff))
            .await
            .map_err(on_duplicate_key("e-mail already in use"))?;
        Ok(())
    }

    async fn staff_by_id(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Staff>> {
        let found = self
            .staff
            .find_one(doc! { "_id": id, "tenant_id": tenant_id })
            .await
            .map_err(store_error)?;
        Ok(found.map(Staff::from))
    }

    async fn staff_by_email(&self, email: &str) -> StoreResult<Option<Staff>> {
        let found = self
            .staff
            .find_one(doc! { "email": email.to_lowercase() })
            .await
            .map_err(store_error)?;
        Ok(found.map(Staff::from))
    }

    async fn list_staff(&self, tenant_id: &str) -> StoreResult<Vec<Staff>> {
        let docs: Vec<StaffDoc> = self
            .staff
            .find(doc! { "tenant_id": tenant_id })
            .sort(doc! { "created_at": 1, "_id": 1 })
            .await
            .map_err(store_error)?
            .try_collect()
            .await
            .map_err(store_error)?;
        Ok(docs.into_iter().map(Staff::from).collect())
    }

    async fn update_staff(&self, staff: &Staff) -> StoreResult<()> {
        let result = self
            .staff
            .update_one(
                doc! { "_id": &staff.id, "tenant_id": &staff.tenant_id },
                doc! { "$set": {
                    "name": &staff.name,
                    "role": staff_role(staff),
                    "password_hash": &staff.password_hash,
                    "active": staff.active,
                } },
            )
            .await
            .map_err(store_error)?;
        if result.matched_count == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

/// The stored spelling of a staff member's role (the serde name, as in [`StaffDoc`]).
fn staff_role(staff: &Staff) -> &'static str {
    use crate::domain::StaffRole;
    match staff.role {
        StaffRole::Owner => "owner",
        StaffRole::Admin => "admin",
        StaffRole::Agent => "agent",
    }
}

#[async_trait]
impl VisitorStore for MongoStore {
    async fn create_visitor(&self, visitor: &Visitor) -> StoreResult<()> {
        self.visitors
            .insert_one(VisitorDoc::from(visitor))
            .await
            .map_err(on_duplicate_key("visitor id or external id already in use"))?;
        Ok(())
    }

    async fn visitor_by_id(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Visitor>> {
        let found = self
            .visitors
            .find_one(doc! { "_id": id, "tenant_id": tenant_id })
            .await
            .map_err(store_error)?;
        Ok(found.map(Visitor::from))
    }

    async fn visitor_by_external_id(
        &self,
        tenant_id: &str,
        external_id: &str,
    ) -> StoreResult<Option<Visitor>> {
        let found = self
            .visitors
            .find_one(doc! { "tenant_id": tenant_id, "external_id": external_id })
            .await
            .map_err(store_error)?;
        Ok(found.map(Visitor::from))
    }

    async fn update_visitor(&self, visitor: &Visitor) -> StoreResult<()> {
        let result = self
            .visitors
            .update_one(
                doc! { "_id": &visitor.id, "tenant_id": &visitor.tenant_id },
                doc! { "$set": { "name": &visitor.name, "email": &visitor.email } },
            )
            .await
            .map_err(store_error)?;
        if result.matched_count == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn record_visit(
        &self,
        tenant_id: &str,
        visitor_id: &str,
        page_url: Option<&str>,
        user_agent: Option<&str>,
    ) -> StoreResult<Vec<Conversation>> {
        let result = self
            .visitors
            .update_one(
                doc! { "_id": visitor_id, "tenant_id": tenant_id },
                doc! { "$set": { "page_url": page_url, "user_agent": user_agent } },
            )
            .await
            .map_err(store_error)?;
        if result.matched_count == 0 {
            return Err(StoreError::NotFound);
        }
        // Not one transaction with the visitor: the copies only feed what staff are shown, and
        // the next session writes both again. The change id makes other instances push the
        // updated conversations to their staff.
        let live = doc! {
            "tenant_id": tenant_id,
            "visitor_id": visitor_id,
            "status": { "$ne": ConversationStatus::Closed.as_str() },
        };
        self.conversations
            .update_many(
                live.clone(),
                doc! { "$set": {
                    "contact_page_url": page_url,
                    "contact_user_agent": user_agent,
                    "change_id": changes::change_id(&self.instance),
                } },
            )
            .await
            .map_err(store_error)?;
        self.find_conversations(live, 20, "last_activity_at").await
    }
}

#[async_trait]
impl ConversationStore for MongoStore {
    async fn create_conversation(&self, conversation: &Conversation) -> StoreResult<()> {
        let mut doc = ConversationDoc::from(conversation);
        doc.change_id = Some(changes::change_id(&self.instance));
        self.conversations
            .insert_one(doc)
            .await
            .map_err(on_duplicate_key("conversation id already in use"))?;
        Ok(())
    }

    async fn conversation(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Conversation>> {
        self.find_conversation(tenant_id, id).await
    }

    async fn list_conversations(
        &self,
        tenant_id: &str,
        filter: &ConversationFilter,
        after: Option<&ListCursor>,
        limit: usize,
    ) -> StoreResult<Vec<Conversation>> {
        // MongoDB reads `limit(0)` as "no limit".
        if limit == 0 {
            return Ok(Vec::new());
        }
        // See `create_indexes` for why live and closed conversations are found apart.
        // The staff room is never listed.
        let mut common = doc! { "tenant_id": tenant_id, "kind": { "$exists": false } };
        if let Some(assignee_id) = &filter.assignee_id {
            common.insert("assignee_id", assignee_id);
        }
        if let Some(search) = &filter.contact_search {
            common.insert(
                "contact_name",
                doc! { "$regex": escape_regex(search), "$options": "i" },
            );
        }

        if let Some(visitor_id) = &filter.visitor_id {
            let mut query = common;
            query.insert("visitor_id", visitor_id);
            if let Some(status) = filter.status {
                query.insert("status", status.as_str());
            }
            if let Some(after) = after {
                query.insert("$or", after_in_memory(after));
            }
            return self
                .find_conversations(query, limit, "last_activity_at")
                .await;
        }

        // Live conversations: few, found by status and sorted in memory.
        let live: Option<Bson> = match filter.status {
            Some(ConversationStatus::Closed) => None,
            Some(status) => Some(status.as_str().into()),
            None => Some(
                doc! { "$in": [
                    ConversationStatus::Unassigned.as_str(),
                    ConversationStatus::Open.as_str(),
                ] }
                .into(),
            ),
        };
        let mut page = Vec::new();
        if let Some(statuses) = live {
            let mut query = common.clone();
            query.insert("status", statuses);
            if let Some(after) = after {
                query.insert("$or", after_in_memory(after));
            }
            page = self
                .find_conversations(query, limit, "last_activity_at")
                .await?;
        }
        // Closed conversations: many, read in order from the index.
        if matches!(filter.status, None | Some(ConversationStatus::Closed)) {
            let mut query = common;
            query.insert("status", ConversationStatus::Closed.as_str());
            if let Some(after) = after {
                // An index range plus a residual filter for the ties; the `$or` of the two
                // cases would defeat the index order.
                query.insert(
                    "closed_activity_at",
                    doc! { "$lte": after.last_activity_at },
                );
                query.insert(
                    "$nor",
                    vec![doc! {
                        "closed_activity_at": after.last_activity_at,
                        "_id": { "$gte": &after.id },
                    }],
                );
            }
            let closed = self
                .find_conversations(query, limit, "closed_activity_at")
                .await?;
            page = merge_newest_first(page, closed, limit);
        }
        Ok(page)
    }

    async fn assign_batch(
        &self,
        tenant_id: &str,
        batch: &[Assignment],
        now: Timestamp,
    ) -> StoreResult<Vec<StoreResult<Conversation>>> {
        self.assign_batch_impl(tenant_id, batch, now).await
    }

    async fn requeue(
        &self,
        tenant_id: &str,
        id: &str,
        from: &str,
        team_id: Option<&str>,
        rank: i64,
        refused_by: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Conversation> {
        self.requeue_impl(tenant_id, id, from, team_id, rank, refused_by, now)
            .await
    }

    async fn waiting(&self, tenant_id: &str, limit: usize) -> StoreResult<Vec<Conversation>> {
        // MongoDB reads `limit(0)` as "no limit".
        if limit == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let docs: Vec<ConversationDoc> = self
            .conversations
            .find(doc! {
                "tenant_id": tenant_id,
                "status": ConversationStatus::Unassigned.as_str(),
            })
            .sort(doc! { "queue_rank": 1, "_id": 1 })
            .limit(limit)
            .await
            .map_err(store_error)?
            .try_collect()
            .await
            .map_err(store_error)?;
        docs.into_iter().map(Conversation::try_from).collect()
    }

    async fn refuse(&self, tenant_id: &str, id: &str, staff_id: &str) -> StoreResult<Conversation> {
        let refused = self
            .conversations
            .find_one_and_update(
                doc! {
                    "_id": id,
                    "tenant_id": tenant_id,
                    "status": ConversationStatus::Unassigned.as_str(),
                },
                doc! {
                    "$addToSet": { "refused_by": staff_id },
                    "$set": { "change_id": changes::change_id(&self.instance) },
                },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(store_error)?;
        match refused {
            Some(doc) => Conversation::try_from(doc),
            None => match self.find_conversation(tenant_id, id).await? {
                Some(_) => Err(StoreError::Conflict(
                    "conversation is not unassigned".into(),
                )),
                None => Err(StoreError::NotFound),
            },
        }
    }

    async fn add_event(&self, event: &ConversationEvent) -> StoreResult<()> {
        self.events
            .insert_one(EventDoc::from(event))
            .await
            .map_err(on_duplicate_key("event id already in use"))?;
        Ok(())
    }

    async fn events(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        limit: usize,
    ) -> StoreResult<Vec<ConversationEvent>> {
        // MongoDB reads `limit(0)` as "no limit".
        if limit == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let docs: Vec<EventDoc> = self
            .events
            .find(doc! { "conversation_id": conversation_id, "tenant_id": tenant_id })
            .sort(doc! { "created_at": 1, "_id": 1 })
            .limit(limit)
            .await
            .map_err(store_error)?
            .try_collect()
            .await
            .map_err(store_error)?;
        docs.into_iter().map(ConversationEvent::try_from).collect()
    }

    async fn close(&self, tenant_id: &str, id: &str, now: Timestamp) -> StoreResult<Conversation> {
        self.close_impl(tenant_id, id, now).await
    }

    async fn staff_room(
        &self,
        tenant_id: &str,
        candidate: &Conversation,
    ) -> StoreResult<Conversation> {
        let find = || async {
            self.conversations
                .find_one(doc! {
                    "tenant_id": tenant_id,
                    "kind": ConversationKind::StaffRoom.as_str(),
                })
                .await
                .map_err(store_error)?
                .map(Conversation::try_from)
                .transpose()
        };
        if let Some(room) = find().await? {
            return Ok(room);
        }
        // The partial unique index lets exactly one of racing first calls (on any instance)
        // insert; the others read the winner's.
        match self.create_conversation(candidate).await {
            Ok(()) => Ok(candidate.clone()),
            Err(StoreError::Conflict(_)) => find().await?.ok_or_else(|| {
                StoreError::Internal("the staff room vanished after a conflict".into())
            }),
            Err(e) => Err(e),
        }
    }

    async fn reopen(
        &self,
        tenant_id: &str,
        id: &str,
        agent_id: &str,
        agent_name: &str,
        capacity: u32,
        now: Timestamp,
    ) -> StoreResult<Conversation> {
        self.reopen_impl(tenant_id, id, agent_id, agent_name, capacity, now)
            .await
    }
}

#[async_trait]
impl MessageStore for MongoStore {
    async fn append_batch(
        &self,
        batch: &[NewMessage],
        now: Timestamp,
    ) -> StoreResult<Vec<StoreResult<Appended>>> {
        self.append_batch_impl(batch, now).await
    }

    async fn messages_after(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        after_seq: u64,
        limit: usize,
    ) -> StoreResult<Vec<Message>> {
        let range = doc! { "$gt": seq_to_bson(after_seq) };
        self.find_messages(tenant_id, conversation_id, Some(range), 1, limit)
            .await
    }

    async fn messages_before(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        before_seq: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<Message>> {
        let range = before_seq.map(|before| doc! { "$lt": seq_to_bson(before) });
        let mut page = self
            .find_messages(tenant_id, conversation_id, range, -1, limit)
            .await?;
        page.reverse();
        Ok(page)
    }
}

#[async_trait]
impl ChangeFeed for MongoStore {
    async fn subscribe(&self) -> StoreResult<ChangeStream> {
        self.subscribe_impl().await
    }

    async fn announce_typing(&self, notices: &[TypingNotice]) -> StoreResult<()> {
        self.announce_typing_impl(notices).await
    }
}

#[async_trait]
impl StoreHealth for MongoStore {
    async fn ping(&self) -> StoreResult<()> {
        self.db
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_search_text_has_no_regex_metacharacters_left() {
        assert_eq!(escape_regex("a.b*c"), r"a\.b\*c");
        assert_eq!(escape_regex("(x)|[y]"), r"\(x\)\|\[y\]");
        assert_eq!(escape_regex("Zoë 1"), r"Zoë\ 1");
    }
}
