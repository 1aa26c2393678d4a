//! [`ChangeFeed`](crate::store::ChangeFeed) on MongoDB: one change stream on the database,
//! filtered on the server to what *other* natter instances committed.
//!
//! Each [`MongoStore`] has a random instance id. It stamps every message it appends with that id
//! (`origin`); every conversation it creates, assigns, returns to the line, refuses or closes
//! with `change_id: "<instance>:<unique>"`; and every agent profile whose visible state it
//! changes (presence, load, capacity, teams, name, avatar) the same way. The unique part makes
//! the field change on every such write, so it shows in the update event's `updatedFields` even
//! when the same instance writes twice. The stream's `$match` then keeps:
//! - inserted messages whose `origin` is not ours;
//! - inserted conversations and agents, and updates of either that set `change_id`, whose
//!   `change_id` is not ours. Message appends also update conversations, and lease refreshes
//!   update agents, but neither sets `change_id`, so neither is reported (the message event
//!   carries the former; the latter changes nothing staff see, and would otherwise flood the
//!   feed with one event per agent every few seconds).
//!
//! Read positions work the same way: a write that moves a staff member's position sets a fresh
//! `change_id` (one that moves nothing keeps the old one, so it is not reported).
//!
//! Conversation and agent updates are looked up by id when they arrive (the current state, like
//! the driver's `updateLookup`, but only for these rarer writes rather than for every event).
//!
//! Typing indicators cross instances the same way: [`MongoStore::announce_typing_impl`] inserts
//! each notice into the small `typing` collection, stamped with `origin` like a message, and
//! the stream keeps the other instances' inserts. The collection is only a mailbox: a TTL index
//! removes notices a minute after they were written (the server's TTL pass runs once a minute,
//! so within two; their deletions are filtered out like every other delete),
//! the writes are acknowledged by the primary alone (`w: 1`, no journal wait: a notice lost in
//! a failover is a typing indicator that did not show), and the instance writes them from one
//! task, several at a time (see `crate::chat::relay::TypingForwarder`).

use futures_util::{StreamExt, TryStreamExt};
use mongodb::bson::{self, Bson, Document, Regex, doc};
use mongodb::change_stream::event::{ChangeStreamEvent, OperationType};

use super::MongoStore;
use super::errors::store_error;
use super::records::{
    AGENTS, AgentDoc, CONVERSATIONS, ConversationDoc, MESSAGES, MessageDoc, READ_POSITIONS,
    ReadPositionDoc, TYPING, TypingDoc,
};
use crate::domain::{Agent, Conversation, Message, TypingNotice};
use crate::store::{Change, ChangeStream, ReadPosition, StoreError, StoreResult};

/// The `change_id` of a conversation or agent write by this instance.
pub(super) fn change_id(instance: &str) -> String {
    format!("{instance}:{}", crate::domain::new_id())
}

/// The server-side filter: other instances' messages, typing notices, conversation and agent
/// changes.
fn pipeline(instance: &str) -> Vec<Document> {
    let not_ours = Bson::RegularExpression(Regex {
        pattern: format!("^{instance}:"),
        options: String::new(),
    });
    let mut branches = vec![doc! {
        "ns.coll": { "$in": [MESSAGES, TYPING] },
        "operationType": "insert",
        "fullDocument.origin": { "$ne": instance },
    }];
    for collection in [CONVERSATIONS, AGENTS, READ_POSITIONS] {
        branches.push(doc! {
            "ns.coll": collection,
            "operationType": "insert",
            "fullDocument.change_id": { "$not": not_ours.clone() },
        });
        branches.push(doc! {
            "ns.coll": collection,
            "operationType": "update",
            "updateDescription.updatedFields.change_id": {
                "$exists": true,
                "$not": not_ours.clone(),
            },
        });
    }
    vec![doc! { "$match": { "$or": branches } }]
}

impl MongoStore {
    /// See [`crate::store::ChangeFeed::subscribe`] and the module docs.
    ///
    /// After the first subscription, a new one resumes right after the last event the previous
    /// one delivered; if the server no longer has that point in its oplog, it starts from now.
    pub(super) async fn subscribe_impl(&self) -> StoreResult<ChangeStream> {
        let resume = self
            .resume_token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let watch = || self.db.watch().pipeline(pipeline(&self.instance));
        let stream = match resume {
            Some(token) => match watch().resume_after(token).await {
                Ok(stream) => stream,
                Err(error) => {
                    tracing::warn!(error = %store_error(error), "cannot resume the change feed; following from now");
                    watch().await.map_err(store_error)?
                }
            },
            None => watch().await.map_err(store_error)?,
        };
        let store = self.clone();
        let changes = stream
            .map_err(store_error)
            .and_then(move |event| {
                let store = store.clone();
                async move {
                    let token = event.id.clone();
                    let change = store.change(event).await;
                    *store.resume_token.lock().unwrap_or_else(|e| e.into_inner()) = Some(token);
                    change
                }
            })
            // Events that turned out to be nothing (a conversation or agent gone by the time it
            // was looked up) are dropped.
            .try_filter_map(|change| async move { Ok(change) })
            .boxed();
        Ok(changes)
    }

    /// See [`crate::store::ChangeFeed::announce_typing`] and the module docs.
    pub(super) async fn announce_typing_impl(&self, notices: &[TypingNotice]) -> StoreResult<()> {
        if notices.is_empty() {
            return Ok(());
        }
        let docs = notices.iter().map(|t| TypingDoc::new(t, &self.instance));
        self.typing.insert_many(docs).await.map_err(store_error)?;
        Ok(())
    }

    /// The change an event stands for.
    async fn change(&self, event: ChangeStreamEvent<Document>) -> StoreResult<Option<Change>> {
        let collection = event.ns.as_ref().and_then(|ns| ns.coll.as_deref());
        match (collection, &event.operation_type) {
            (Some(MESSAGES), OperationType::Insert) => {
                let doc = event.full_document.ok_or_else(missing_document)?;
                let message: MessageDoc = bson::from_document(doc).map_err(undecodable)?;
                Ok(Some(Change::Message(Message::try_from(message)?)))
            }
            (Some(TYPING), OperationType::Insert) => {
                let doc = event.full_document.ok_or_else(missing_document)?;
                let notice: TypingDoc = bson::from_document(doc).map_err(undecodable)?;
                Ok(Some(Change::Typing(TypingNotice::from(notice))))
            }
            (Some(CONVERSATIONS), OperationType::Insert) => {
                let doc = event.full_document.ok_or_else(missing_document)?;
                let conversation: ConversationDoc =
                    bson::from_document(doc).map_err(undecodable)?;
                Ok(Some(Change::Conversation(Conversation::try_from(
                    conversation,
                )?)))
            }
            (Some(CONVERSATIONS), OperationType::Update) => {
                let Some(id) = event.document_key.as_ref().and_then(|k| k.get("_id")) else {
                    return Err(missing_document());
                };
                let found = self
                    .conversations
                    .find_one(doc! { "_id": id })
                    .await
                    .map_err(store_error)?;
                found
                    .map(|c| Conversation::try_from(c).map(Change::Conversation))
                    .transpose()
            }
            (Some(AGENTS), OperationType::Insert) => {
                let doc = event.full_document.ok_or_else(missing_document)?;
                let agent: AgentDoc = bson::from_document(doc).map_err(undecodable)?;
                Ok(Some(Change::Agent(Agent::try_from(agent)?)))
            }
            (Some(AGENTS), OperationType::Update) => {
                let Some(id) = event.document_key.as_ref().and_then(|k| k.get("_id")) else {
                    return Err(missing_document());
                };
                let found = self
                    .agents
                    .find_one(doc! { "_id": id })
                    .await
                    .map_err(store_error)?;
                found
                    .map(|a| Agent::try_from(a).map(Change::Agent))
                    .transpose()
            }
            (Some(READ_POSITIONS), OperationType::Insert) => {
                let doc = event.full_document.ok_or_else(missing_document)?;
                let read: ReadPositionDoc = bson::from_document(doc).map_err(undecodable)?;
                read_change(read).map(Some)
            }
            (Some(READ_POSITIONS), OperationType::Update) => {
                let Some(id) = event.document_key.as_ref().and_then(|k| k.get("_id")) else {
                    return Err(missing_document());
                };
                let found = self
                    .reads
                    .find_one(doc! { "_id": id })
                    .await
                    .map_err(store_error)?;
                found.map(read_change).transpose()
            }
            // Invalidation (the database was dropped) ends this stream; the caller resubscribes.
            (_, OperationType::Invalidate | OperationType::DropDatabase) => Err(
                StoreError::Unavailable("mongodb: change stream invalidated".into()),
            ),
            _ => Ok(None),
        }
    }
}

fn read_change(read: ReadPositionDoc) -> StoreResult<Change> {
    let (tenant_id, staff_id) = (read.tenant_id.clone(), read.staff_id.clone());
    Ok(Change::Read {
        tenant_id,
        staff_id,
        position: ReadPosition::try_from(read)?,
    })
}

fn missing_document() -> StoreError {
    StoreError::Internal("mongodb: change event without its document".into())
}

fn undecodable(_: bson::de::Error) -> StoreError {
    StoreError::Internal("mongodb: cannot decode a changed record".into())
}
