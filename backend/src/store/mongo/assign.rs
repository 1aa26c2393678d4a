//! Moving conversations between the waiting line and agents on MongoDB: `assign_batch`,
//! `requeue` and `close`. Each move is one multi-document transaction (snapshot reads,
//! `w: majority, j: true` commit, like appends) over the conversation and the agents' documents
//! whose `load` it changes, retried on transient errors with the backoff of `append`.
//!
//! **Why capacity holds and a conversation never gets two assignees**, even with several natter
//! instances racing: every move *writes* each document whose state it depends on.
//!
//! - The conversation: its update is conditional on the expected state (unassigned, or open and
//!   assigned to `from`), and it is the first write of the transaction.
//! - The agent who takes it: `$inc: { load: 1 }` with the condition `load < capacity`.
//!
//! MongoDB transactions detect write-write conflicts per document: a transaction that writes a
//! document another transaction has written since its snapshot (committed or not) fails with a
//! `WriteConflict`, labelled `TransientTransactionError`, and is retried from a fresh snapshot.
//! Two assignments to one agent thus cannot both read `load = capacity - 1` and both commit:
//! they both write that agent's document, so one of them conflicts, retries, and then finds the
//! agent full. Snapshot isolation's usual anomaly, write skew (two transactions each checking a
//! condition on data the other one writes, neither writing what the other checked), cannot
//! happen because the checked field and the written field are the same document's. The same
//! holds for the conversation: two agents accepting it both write it, and the loser's retry
//! finds it taken. `close` and `requeue` write the conversation and decrement the former
//! assignee's load in one transaction too, so `load` always equals the agent's open
//! conversations.
//!
//! Items of one `assign_batch` that share a conversation or an agent (including the `from` of
//! a transfer) run one after another in input order, so the batch behaves as if applied
//! sequentially and does not conflict with itself; independent groups run concurrently, a
//! bounded number at a time, so a batch of thousands does not cost thousands of sequential
//! round trips.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use futures_util::StreamExt;
use mongodb::ClientSession;
use mongodb::bson::{Bson, Document, doc};
use mongodb::error::Error;
use mongodb::options::ReturnDocument;

use super::MongoStore;
use super::append::{MAX_ATTEMPTS, backoff, commit};
use super::changes::change_id;
use super::errors::{is_transient_transaction_error, store_error};
use super::records::ConversationDoc;
use crate::domain::{Conversation, ConversationStatus, Timestamp};
use crate::store::{Assignment, StoreError, StoreResult};

/// Independent groups of an `assign_batch` in flight at once. Each has its own session, which
/// borrows a pooled connection only while one of its statements runs; 16 hides most of the
/// round-trip latency of a large batch without crowding out other requests' use of the pool.
const CONCURRENT_GROUPS: usize = 16;

/// One transactional move of a conversation.
enum Move<'a> {
    /// See [`crate::store::ConversationStore::assign_batch`].
    Assign(&'a Assignment),
    /// See [`crate::store::ConversationStore::requeue`].
    Requeue(Requeue<'a>),
    /// See [`crate::store::ConversationStore::close`].
    Close { id: &'a str },
    /// See [`crate::store::ConversationStore::reopen`].
    Reopen(Reopen<'a>),
}

/// The arguments of [`crate::store::ConversationStore::reopen`].
struct Reopen<'a> {
    id: &'a str,
    agent_id: &'a str,
    agent_name: &'a str,
    capacity: u32,
}

/// The arguments of [`crate::store::ConversationStore::requeue`].
struct Requeue<'a> {
    id: &'a str,
    from: &'a str,
    team_id: Option<&'a str>,
    rank: i64,
    refused_by: Option<&'a str>,
}

/// What one attempt decided instead of committing: the move is refused (`NotFound`, `Conflict`,
/// `AtCapacity`), or the conversation is already as wanted (closing a closed one).
enum Decided {
    Refused(StoreError),
    /// Boxed: a conversation is much larger than an error, and this case is rare.
    Unchanged(Box<Conversation>),
}

impl MongoStore {
    /// See [`crate::store::ConversationStore::assign_batch`] and the module docs.
    pub(super) async fn assign_batch_impl(
        &self,
        tenant_id: &str,
        batch: &[Assignment],
        now: Timestamp,
    ) -> StoreResult<Vec<StoreResult<Conversation>>> {
        let mut outcomes: Vec<Option<StoreResult<Conversation>>> = vec![None; batch.len()];
        let mut groups = futures_util::stream::iter(dependent_groups(batch))
            .map(|group| async move {
                let mut done = Vec::with_capacity(group.len());
                match self.session().await {
                    Ok(mut session) => {
                        for i in group {
                            let outcome = self
                                .transact(&mut session, tenant_id, &Move::Assign(&batch[i]), now)
                                .await;
                            done.push((i, outcome));
                        }
                    }
                    Err(e) => done.extend(group.into_iter().map(|i| (i, Err(e.clone())))),
                }
                done
            })
            .buffer_unordered(CONCURRENT_GROUPS);
        while let Some(done) = groups.next().await {
            for (i, outcome) in done {
                outcomes[i] = Some(outcome);
            }
        }
        let outcomes: Vec<StoreResult<Conversation>> = outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(StoreError::Internal("assignment not run".into()))))
            .collect();
        // When the database was unreachable for every item, the batch could not run at all.
        if let Some(Err(StoreError::Unavailable(reason))) = outcomes.first()
            && outcomes
                .iter()
                .all(|o| matches!(o, Err(StoreError::Unavailable(_))))
        {
            return Err(StoreError::Unavailable(reason.clone()));
        }
        Ok(outcomes)
    }

    /// See [`crate::store::ConversationStore::requeue`] and the module docs.
    // The arguments of `ConversationStore::requeue`, passed straight through.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn requeue_impl(
        &self,
        tenant_id: &str,
        id: &str,
        from: &str,
        team_id: Option<&str>,
        rank: i64,
        refused_by: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Conversation> {
        let mut session = self.session().await?;
        let requeue = Move::Requeue(Requeue {
            id,
            from,
            team_id,
            rank,
            refused_by,
        });
        self.transact(&mut session, tenant_id, &requeue, now).await
    }

    /// See [`crate::store::ConversationStore::close`] and the module docs.
    pub(super) async fn close_impl(
        &self,
        tenant_id: &str,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<Conversation> {
        let mut session = self.session().await?;
        self.transact(&mut session, tenant_id, &Move::Close { id }, now)
            .await
    }

    /// See [`crate::store::ConversationStore::reopen`] and the module docs.
    pub(super) async fn reopen_impl(
        &self,
        tenant_id: &str,
        id: &str,
        agent_id: &str,
        agent_name: &str,
        capacity: u32,
        now: Timestamp,
    ) -> StoreResult<Conversation> {
        let mut session = self.session().await?;
        let reopen = Move::Reopen(Reopen {
            id,
            agent_id,
            agent_name,
            capacity,
        });
        self.transact(&mut session, tenant_id, &reopen, now).await
    }

    /// A session whose transactions use the store's transaction options.
    async fn session(&self) -> StoreResult<ClientSession> {
        self.client
            .start_session()
            .default_transaction_options(self.transaction_options.clone())
            .await
            .map_err(store_error)
    }

    /// Runs `op` in a transaction on `session`, retrying transient failures (write conflicts
    /// with concurrent moves, failovers) up to [`MAX_ATTEMPTS`] times.
    async fn transact(
        &self,
        session: &mut ClientSession,
        tenant_id: &str,
        op: &Move<'_>,
        now: Timestamp,
    ) -> StoreResult<Conversation> {
        let mut attempt = 1;
        loop {
            let failure = match self.attempt_move(session, tenant_id, op, now).await {
                Ok(Ok(conversation)) => return Ok(conversation),
                Ok(Err(decided)) => {
                    // Aborting undoes what the attempt wrote before it was refused (say, the
                    // conversation update of an assignment whose agent turned out full).
                    let _ = session.abort_transaction().await;
                    return match decided {
                        Decided::Refused(error) => Err(error),
                        Decided::Unchanged(conversation) => Ok(*conversation),
                    };
                }
                Err(failure) => failure,
            };
            // Fails harmlessly when the transaction already ended (a failed commit).
            let _ = session.abort_transaction().await;
            if attempt >= MAX_ATTEMPTS || !is_transient_transaction_error(&failure) {
                return Err(store_error(failure));
            }
            tracing::debug!(attempt, "conversation move conflicted; retrying");
            attempt += 1;
            tokio::time::sleep(backoff(attempt)).await;
        }
    }

    /// One attempt of `op`: `Ok(Ok(_))` committed, `Ok(Err(_))` decided not to commit (the
    /// caller aborts), `Err(_)` failed (the caller aborts and maybe retries).
    async fn attempt_move(
        &self,
        session: &mut ClientSession,
        tenant_id: &str,
        op: &Move<'_>,
        now: Timestamp,
    ) -> Result<Result<Conversation, Decided>, Error> {
        session.start_transaction().await?;
        let change = change_id(&self.instance);
        let outcome = match *op {
            Move::Assign(item) => self.assign(session, tenant_id, item, now, &change).await?,
            Move::Requeue(ref requeue) => {
                self.requeue_in(session, tenant_id, requeue, now, &change)
                    .await?
            }
            Move::Close { id } => self.close_in(session, tenant_id, id, now, &change).await?,
            Move::Reopen(ref reopen) => {
                self.reopen_in(session, tenant_id, reopen, now, &change)
                    .await?
            }
        };
        if outcome.is_ok() {
            commit(session).await?;
        }
        Ok(outcome)
    }

    /// The writes of a return to the line, inside the transaction: the conversation, then the
    /// former assignee's load.
    async fn requeue_in(
        &self,
        session: &mut ClientSession,
        tenant_id: &str,
        &Requeue {
            id,
            from,
            team_id,
            rank,
            refused_by,
        }: &Requeue<'_>,
        now: Timestamp,
        change: &str,
    ) -> Result<Result<Conversation, Decided>, Error> {
        let requeued = self
            .conversations
            .find_one_and_update(
                doc! {
                    "_id": id,
                    "tenant_id": tenant_id,
                    "status": ConversationStatus::Open.as_str(),
                    "assignee_id": from,
                },
                {
                    let mut update = doc! { "$set": {
                        "status": ConversationStatus::Unassigned.as_str(),
                        "assignee_id": Bson::Null,
                        "assignee_name": Bson::Null,
                        "team_id": team_id,
                        "queue_rank": rank,
                        "last_activity_at": now,
                        "change_id": change,
                    } };
                    if let Some(refuser) = refused_by {
                        update.insert("$addToSet", doc! { "refused_by": refuser });
                    }
                    update
                },
            )
            .return_document(ReturnDocument::After)
            .session(&mut *session)
            .await?;
        Ok(match requeued {
            Some(doc) => {
                self.release(session, tenant_id, from, change).await?;
                Conversation::try_from(doc).map_err(Decided::Refused)
            }
            None => {
                let reason = "conversation is not open with that agent";
                Err(self.refusal(session, tenant_id, id, reason).await?)
            }
        })
    }

    /// The writes of a close, inside the transaction: the conversation, then (if it was open)
    /// its assignee's load.
    async fn close_in(
        &self,
        session: &mut ClientSession,
        tenant_id: &str,
        id: &str,
        now: Timestamp,
        change: &str,
    ) -> Result<Result<Conversation, Decided>, Error> {
        let closed = ConversationStatus::Closed.as_str();
        // The state before, to know whose load to release.
        let before = self
            .conversations
            .find_one_and_update(
                doc! { "_id": id, "tenant_id": tenant_id, "status": { "$ne": closed } },
                doc! { "$set": {
                    "status": closed,
                    "last_activity_at": now,
                    "closed_activity_at": now,
                    "queue_rank": Bson::Null,
                    "change_id": change,
                } },
            )
            .return_document(ReturnDocument::Before)
            .session(&mut *session)
            .await?;
        Ok(match before {
            Some(doc) => match Conversation::try_from(doc) {
                Ok(mut conversation) => {
                    if conversation.status == ConversationStatus::Open
                        && let Some(assignee) = &conversation.assignee_id
                    {
                        self.release(session, tenant_id, assignee, change).await?;
                    }
                    // What the update above wrote.
                    conversation.status = ConversationStatus::Closed;
                    conversation.last_activity_at = now;
                    conversation.queue_rank = None;
                    Ok(conversation)
                }
                Err(e) => Err(Decided::Refused(e)),
            },
            // Already closed (returned unchanged) or absent.
            None => Err(match self.find_in(session, tenant_id, id).await? {
                Some(doc) => Conversation::try_from(doc)
                    .map_or_else(Decided::Refused, |c| Decided::Unchanged(Box::new(c))),
                None => Decided::Refused(StoreError::NotFound),
            }),
        })
    }

    /// The writes of a reopen, inside the transaction: the conversation (conditional on being
    /// closed), then the agent's load (conditional on capacity). The visitor's other live
    /// conversations are read in the transaction's snapshot; a conversation the visitor starts
    /// concurrently is not written here, so that check is as strong as the one
    /// `Chat::start_conversation` makes, not stronger.
    async fn reopen_in(
        &self,
        session: &mut ClientSession,
        tenant_id: &str,
        &Reopen {
            id,
            agent_id,
            agent_name,
            capacity,
        }: &Reopen<'_>,
        now: Timestamp,
        change: &str,
    ) -> Result<Result<Conversation, Decided>, Error> {
        let Some(before) = self.find_in(session, tenant_id, id).await? else {
            return Ok(Err(Decided::Refused(StoreError::NotFound)));
        };
        if before.kind.is_some() {
            return Ok(Err(Decided::Refused(StoreError::Conflict(
                "the staff room cannot be reopened".into(),
            ))));
        }
        if before.status != ConversationStatus::Closed {
            return Ok(Err(Decided::Refused(StoreError::Conflict(format!(
                "the conversation is {}, not closed",
                before.status.as_str()
            )))));
        }
        let other_live = self
            .conversations
            .clone_with_type::<Document>()
            .find_one(doc! {
                "tenant_id": tenant_id,
                "visitor_id": &before.visitor_id,
                "status": { "$ne": ConversationStatus::Closed.as_str() },
                "_id": { "$ne": id },
            })
            .projection(doc! { "_id": 1 })
            .session(&mut *session)
            .await?
            .is_some();
        if other_live {
            return Ok(Err(Decided::Refused(StoreError::Conflict(
                "the visitor already has another conversation that is not closed".into(),
            ))));
        }
        let reopened = self
            .conversations
            .find_one_and_update(
                doc! {
                    "_id": id,
                    "tenant_id": tenant_id,
                    "status": ConversationStatus::Closed.as_str(),
                },
                vec![
                    doc! {
                        "$set": {
                            "status": ConversationStatus::Open.as_str(),
                            "assignee_id": { "$literal": agent_id },
                            "assignee_name": { "$literal": agent_name },
                            "queue_rank": Bson::Null,
                            "first_assigned_at": { "$ifNull": ["$first_assigned_at", now] },
                            "last_activity_at": now,
                            "change_id": { "$literal": change },
                        },
                    },
                    doc! { "$unset": "closed_activity_at" },
                ],
            )
            .return_document(ReturnDocument::After)
            .session(&mut *session)
            .await?;
        let Some(reopened) = reopened else {
            let reason = "conversation is not closed";
            return Ok(Err(self.refusal(session, tenant_id, id, reason).await?));
        };
        if let Err(refused) = self
            .take_slot(session, tenant_id, agent_id, capacity, now, change)
            .await?
        {
            return Ok(Err(Decided::Refused(refused)));
        }
        Ok(Conversation::try_from(reopened).map_err(Decided::Refused))
    }

    /// The writes of one assignment, inside the transaction; see the module docs.
    async fn assign(
        &self,
        session: &mut ClientSession,
        tenant_id: &str,
        item: &Assignment,
        now: Timestamp,
        change: &str,
    ) -> Result<Result<Conversation, Decided>, Error> {
        let mut filter = doc! { "_id": &item.conversation_id, "tenant_id": tenant_id };
        match &item.from {
            None => {
                // Another instance may have planned before the refusal was recorded.
                filter.insert("refused_by", doc! { "$ne": &item.agent_id });
                filter.insert("status", ConversationStatus::Unassigned.as_str())
            }
            Some(from) => {
                filter.insert("status", ConversationStatus::Open.as_str());
                filter.insert("assignee_id", from)
            }
        };
        // A pipeline update, for `first_assigned_at`'s "only if unset". Strings from users go in
        // `$literal`: in a pipeline a string starting with `$` would be read as a field path.
        let assigned = self
            .conversations
            .find_one_and_update(
                filter,
                vec![doc! { "$set": {
                    "status": ConversationStatus::Open.as_str(),
                    "assignee_id": { "$literal": &item.agent_id },
                    "assignee_name": { "$literal": &item.agent_name },
                    "queue_rank": Bson::Null,
                    "first_assigned_at": { "$ifNull": ["$first_assigned_at", now] },
                    "last_activity_at": now,
                    "change_id": { "$literal": change },
                } }],
            )
            .return_document(ReturnDocument::After)
            .session(&mut *session)
            .await?;
        let Some(assigned) = assigned else {
            let reason = match item.from {
                None => "conversation is not unassigned",
                Some(_) => "conversation is not open with that agent",
            };
            let id = item.conversation_id.as_str();
            return Ok(Err(self.refusal(session, tenant_id, id, reason).await?));
        };

        // Release the former assignee first, so that a transfer to the same agent does not
        // need a free slot.
        if let Some(from) = &item.from {
            self.release(session, tenant_id, from, change).await?;
        }

        if let Err(refused) = self
            .take_slot(
                session,
                tenant_id,
                &item.agent_id,
                item.capacity,
                item.ticket,
                change,
            )
            .await?
        {
            return Ok(Err(Decided::Refused(refused)));
        }
        Ok(Conversation::try_from(assigned).map_err(Decided::Refused))
    }

    /// Grows `agent_id`'s load by one if it is under `capacity`, inside the transaction, and
    /// stamps `last_assigned` (the round-robin order). Refused with `AtCapacity` when the agent
    /// is full, `NotFound` when they have no routing profile.
    async fn take_slot(
        &self,
        session: &mut ClientSession,
        tenant_id: &str,
        agent_id: &str,
        capacity: u32,
        last_assigned: i64,
        change: &str,
    ) -> Result<Result<(), StoreError>, Error> {
        let taken = self
            .agents
            .update_one(
                doc! {
                    "tenant_id": tenant_id,
                    "staff_id": agent_id,
                    "load": { "$lt": i64::from(capacity) },
                },
                doc! {
                    "$inc": { "load": 1 },
                    "$set": { "last_assigned": last_assigned, "change_id": change },
                },
            )
            .session(&mut *session)
            .await?;
        if taken.matched_count > 0 {
            return Ok(Ok(()));
        }
        // A projection, so read as a plain document rather than an `AgentDoc`.
        let exists = self
            .agents
            .clone_with_type::<Document>()
            .find_one(doc! { "tenant_id": tenant_id, "staff_id": agent_id })
            .projection(doc! { "_id": 1 })
            .session(&mut *session)
            .await?
            .is_some();
        Ok(Err(if exists {
            StoreError::AtCapacity
        } else {
            StoreError::NotFound
        }))
    }

    /// Shrinks `staff_id`'s load by one, inside the transaction. The condition `load > 0`
    /// keeps a load that drifted (a profile created after its conversations) from going
    /// negative; a miss is logged, not an error, since the conversation move itself is valid.
    async fn release(
        &self,
        session: &mut ClientSession,
        tenant_id: &str,
        staff_id: &str,
        change: &str,
    ) -> Result<(), Error> {
        let released = self
            .agents
            .update_one(
                doc! { "tenant_id": tenant_id, "staff_id": staff_id, "load": { "$gt": 0 } },
                doc! { "$inc": { "load": -1 }, "$set": { "change_id": change } },
            )
            .session(&mut *session)
            .await?;
        if released.matched_count == 0 {
            tracing::warn!(
                tenant_id,
                staff_id,
                "agent had no load to release (missing profile or drifted load)"
            );
        }
        Ok(())
    }

    /// Why a conditional conversation update matched nothing: `NotFound` if the conversation
    /// is not in the tenant, else `Conflict(reason)`. Read in the transaction's snapshot, so it
    /// sees what the update saw.
    async fn refusal(
        &self,
        session: &mut ClientSession,
        tenant_id: &str,
        id: &str,
        reason: &str,
    ) -> Result<Decided, Error> {
        Ok(match self.find_in(session, tenant_id, id).await? {
            Some(_) => Decided::Refused(StoreError::Conflict(reason.into())),
            None => Decided::Refused(StoreError::NotFound),
        })
    }

    /// A conversation of a tenant, read in the session's transaction.
    async fn find_in(
        &self,
        session: &mut ClientSession,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<ConversationDoc>, Error> {
        self.conversations
            .find_one(doc! { "_id": id, "tenant_id": tenant_id })
            .session(&mut *session)
            .await
    }
}

/// Splits a batch into groups of items that share a conversation or an agent (as taker or as
/// `from`), each group in input order, groups ordered by their first item. Items of one group
/// would conflict with each other if run concurrently, and their outcomes depend on their order
/// (the first of two items for an agent with one free slot wins), so each group runs
/// sequentially.
fn dependent_groups(batch: &[Assignment]) -> Vec<Vec<usize>> {
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }

    let mut parent: Vec<usize> = (0..batch.len()).collect();
    // The first item seen with each key: (is an agent, id).
    let mut first: HashMap<(bool, &str), usize> = HashMap::new();
    for (i, item) in batch.iter().enumerate() {
        let keys = [
            Some((false, item.conversation_id.as_str())),
            Some((true, item.agent_id.as_str())),
            item.from.as_deref().map(|from| (true, from)),
        ];
        for key in keys.into_iter().flatten() {
            match first.entry(key) {
                Entry::Occupied(seen) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, *seen.get()));
                    // The smaller index is the root, so a group's root is its first item.
                    parent[a.max(b)] = a.min(b);
                }
                Entry::Vacant(slot) => {
                    slot.insert(i);
                }
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of_root: HashMap<usize, usize> = HashMap::new();
    for i in 0..batch.len() {
        let r = root(&mut parent, i);
        let g = *group_of_root.entry(r).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(conversation: &str, from: Option<&str>, agent: &str) -> Assignment {
        Assignment {
            conversation_id: conversation.into(),
            from: from.map(Into::into),
            agent_id: agent.into(),
            agent_name: agent.to_uppercase(),
            capacity: 3,
            ticket: 1,
        }
    }

    #[test]
    fn items_sharing_an_agent_or_a_conversation_run_in_one_group_in_input_order() {
        let batch = [
            item("c1", None, "a"),
            item("c2", None, "b"),
            item("c3", None, "a"),
            item("c4", None, "c"),
            // A transfer from c to b joins the groups of b and c.
            item("c5", Some("c"), "b"),
            item("c2", None, "d"),
        ];
        assert_eq!(dependent_groups(&batch), vec![vec![0, 2], vec![1, 3, 4, 5]]);
    }

    #[test]
    fn independent_items_run_in_groups_of_one() {
        let batch = [item("c1", None, "a"), item("c2", None, "b")];
        assert_eq!(dependent_groups(&batch), vec![vec![0], vec![1]]);
        assert!(dependent_groups(&[]).is_empty());
    }
}
