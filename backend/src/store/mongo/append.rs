//! `append_batch` on MongoDB: one multi-document transaction per batch, with a number of round
//! trips that does not depend on the batch size.
//!
//! One attempt, inside a snapshot transaction committed with `w: majority, j: true`:
//!
//! 1. one `find` of the batch's conversations (tenant-scoped; `_id`, tenant, status, `last_seq`);
//! 2. one `find` of already stored messages with the batch's `(conversation_id, client_id)`
//!    pairs (skipped when no item carries a client id);
//! 3. [`plan`] decides every item's outcome and `seq` (`last_seq + position`) without I/O;
//! 4. one pipeline `update_many` moves every touched conversation's `last_seq`, preview and
//!    `last_activity_at` (none of which is in a conversation index, so this is cheap; see
//!    `MongoStore::create_indexes`);
//! 5. one `insert_many` of the new messages;
//! 6. commit.
//!
//! Two writers that touch the same conversation (several natter instances, or one client id
//! resent to two instances at once) both update its document, so the later one gets a
//! `WriteConflict` (labelled `TransientTransactionError`), is rolled back and retried from
//! step 1, where it sees the winner's messages and `last_seq`. (Snapshot isolation makes a
//! condition on the `last_seq` read in step 1 redundant; measured, it cost a third of the
//! update.) The unique indexes on `(conversation_id, seq)` and `(conversation_id, client_id)` are
//! backstops: if one ever trips, the attempt is rolled back and retried the same way, as it is
//! when the update matches fewer conversations than expected. Hence `seq` stays gap-free and
//! unique per conversation, and a message is stored at most once per client id.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use mongodb::ClientSession;
use mongodb::bson::doc;
use mongodb::error::{Error, UNKNOWN_TRANSACTION_COMMIT_RESULT};
use mongodb::options::Hint;

use natter_sdk::protocol::preview;

use super::MongoStore;
use super::errors::{is_duplicate_key, is_transient_transaction_error, store_error};
use super::records::{CONVERSATION_CLIENT_ID_INDEX, ConversationHead, MessageDoc};
use crate::domain::{ConversationStatus, Message, NewMessage, PREVIEW_CHARS, Timestamp, new_id};
use crate::store::{Appended, StoreError, StoreResult};

/// Attempts of one batch's transaction before giving up with `Unavailable`. Conflicts only arise
/// between writers touching the same conversation, and each retry backs off (randomly, up to
/// [`MAX_BACKOFF`]), so this many means the database is pathologically contended.
pub(super) const MAX_ATTEMPTS: u32 = 25;

/// Upper bound of the random pause between two attempts.
const MAX_BACKOFF: Duration = Duration::from_millis(100);

/// Times a commit whose outcome is unknown (a network error or failover during the commit) is
/// retried; committing is idempotent.
const MAX_COMMIT_ATTEMPTS: u32 = 3;

/// Scratch field of the conversation update pipeline: the document's position in the batch.
const POSITION: &str = "_natter_position";
/// [`POSITION`] as a field path.
const POSITION_REF: &str = "$_natter_position";

/// Why one attempt failed.
enum Failure {
    /// A driver or server error; retried when transient.
    Mongo(Error),
    /// The update matched fewer conversations than read: one was closed or removed in between
    /// (which the transaction should have reported as a write conflict). Retried.
    Raced,
    /// Not retried.
    Store(StoreError),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure::Mongo(err)
    }
}

impl Failure {
    fn is_retryable(&self) -> bool {
        match self {
            // A duplicate key inside our transaction means a concurrent writer won a race the
            // write-conflict check did not catch; the next attempt reads its result.
            Failure::Mongo(e) => is_transient_transaction_error(e) || is_duplicate_key(e),
            Failure::Raced => true,
            Failure::Store(_) => false,
        }
    }

    fn into_store_error(self) -> StoreError {
        match self {
            Failure::Mongo(e) => match store_error(e) {
                // A duplicate key that persisted through every retry is contention, not a
                // conflict the caller caused.
                StoreError::Conflict(_) => {
                    StoreError::Unavailable("mongodb: append kept conflicting".into())
                }
                other => other,
            },
            Failure::Raced => StoreError::Unavailable("mongodb: append kept conflicting".into()),
            Failure::Store(e) => e,
        }
    }
}

impl MongoStore {
    /// See [`crate::store::MessageStore::append_batch`] and the module docs.
    pub(super) async fn append_batch_impl(
        &self,
        batch: &[NewMessage],
        now: Timestamp,
    ) -> StoreResult<Vec<StoreResult<Appended>>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let mut session = self
            .client
            .start_session()
            .default_transaction_options(self.transaction_options.clone())
            .await
            .map_err(store_error)?;
        let mut attempt = 1;
        loop {
            match self.attempt(&mut session, batch, now).await {
                Ok(outcomes) => return Ok(outcomes),
                Err(failure) => {
                    // Fails harmlessly when the transaction already ended (a failed commit).
                    let _ = session.abort_transaction().await;
                    if attempt >= MAX_ATTEMPTS || !failure.is_retryable() {
                        return Err(failure.into_store_error());
                    }
                    tracing::debug!(attempt, "append transaction conflicted; retrying");
                }
            }
            attempt += 1;
            tokio::time::sleep(backoff(attempt)).await;
        }
    }

    /// One transaction attempt; see the module docs for its steps.
    async fn attempt(
        &self,
        session: &mut ClientSession,
        batch: &[NewMessage],
        now: Timestamp,
    ) -> Result<Vec<StoreResult<Appended>>, Failure> {
        session.start_transaction().await?;

        let conversation_ids: Vec<&str> = batch
            .iter()
            .map(|m| m.conversation_id.as_str())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let tenant_ids: Vec<&str> = batch
            .iter()
            .map(|m| m.tenant_id.as_str())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();

        let mut heads = HashMap::with_capacity(conversation_ids.len());
        let mut cursor = self
            .conversations
            .clone_with_type::<ConversationHead>()
            .find(doc! {
                "_id": { "$in": &conversation_ids },
                "tenant_id": { "$in": &tenant_ids },
            })
            .projection(doc! { "_id": 1, "tenant_id": 1, "status": 1, "last_seq": 1 })
            .batch_size(batch_size(conversation_ids.len()))
            .session(&mut *session)
            .await?;
        while let Some(head) = cursor.next(&mut *session).await {
            let head = head?;
            heads.insert(head.id.clone(), head);
        }

        let existing = self.existing_messages(session, batch, &heads).await?;
        let mut plan = plan(batch, &heads, &existing, now, new_id).map_err(Failure::Store)?;
        for message in &mut plan.inserts {
            message.origin = Some(self.instance.clone());
        }

        if plan.bumps.is_empty() {
            // Nothing to write: every item was a duplicate or an error.
            session.abort_transaction().await?;
            return Ok(plan.outcomes);
        }

        let ids: Vec<&str> = plan
            .bumps
            .iter()
            .map(|b| b.conversation_id.as_str())
            .collect();
        let new_seqs: Vec<i64> = plan.bumps.iter().map(|b| b.new_last_seq).collect();
        let previews: Vec<&str> = plan.bumps.iter().map(|b| b.preview.as_str()).collect();
        // The position of each document's `_id` in `ids` (computed once per document into a
        // scratch field) picks its values from the parallel arrays, so the update is one
        // statement whatever the batch size. `$literal` keeps the server from evaluating each
        // array element as an expression, per document.
        let position = doc! { "$indexOfArray": [{ "$literal": &ids }, "$_id"] };
        let updated = self
            .conversations
            .update_many(
                doc! {
                    "_id": { "$in": &ids },
                    "status": { "$ne": ConversationStatus::Closed.as_str() },
                },
                vec![
                    doc! { "$set": { POSITION: position } },
                    doc! { "$set": {
                        "last_seq": { "$arrayElemAt": [{ "$literal": &new_seqs }, POSITION_REF] },
                        "last_message_preview": {
                            "$arrayElemAt": [{ "$literal": &previews }, POSITION_REF],
                        },
                        "last_activity_at": now,
                    } },
                    doc! { "$unset": POSITION },
                ],
            )
            .session(&mut *session)
            .await?;
        if updated.matched_count != ids.len() as u64 {
            return Err(Failure::Raced);
        }

        self.messages
            .insert_many(&plan.inserts)
            .ordered(true)
            .session(&mut *session)
            .await?;

        commit(session).await?;
        Ok(plan.outcomes)
    }

    /// Messages already stored under the batch's `(conversation_id, client_id)` pairs, for
    /// conversations that exist in the item's tenant.
    ///
    /// One query, `conversation_id $in [...] AND client_id $in [...]`, answered by the
    /// `(conversation_id, client_id)` index with skip-scanning (a few keys per conversation).
    /// It can match a client id of one conversation in another; such extra hits are dropped.
    /// The `$type: "string"` repeats the index's partial filter so the planner may use it (an
    /// `$in` alone does not prove the values are strings); an `$or` with one branch per
    /// conversation would be planned branch by branch and cost far more.
    async fn existing_messages(
        &self,
        session: &mut ClientSession,
        batch: &[NewMessage],
        heads: &HashMap<String, ConversationHead>,
    ) -> Result<Existing, Failure> {
        let mut wanted: HashSet<(&str, &str)> = HashSet::new();
        for m in batch {
            let Some(client_id) = m.client_id.as_deref() else {
                continue;
            };
            let in_tenant = heads
                .get(&m.conversation_id)
                .is_some_and(|h| h.tenant_id == m.tenant_id);
            if in_tenant {
                wanted.insert((m.conversation_id.as_str(), client_id));
            }
        }
        let mut existing = Existing::new();
        if wanted.is_empty() {
            return Ok(existing);
        }
        // One `$or` clause per conversation with its own client ids: the index is then sought
        // once per wanted pair. (`conversation_id $in … AND client_id $in …` seeks every
        // combination of the two lists: measured on MongoDB 6.0 with 25 conversations of 10
        // messages, 3,300 keys and 8 ms against 240 keys and 1.6 ms.) The hint is needed: without
        // it the planner tries plans for each clause, which costs more than the query.
        let mut by_conversation: HashMap<&str, Vec<&str>> = HashMap::new();
        for (conversation_id, client_id) in &wanted {
            by_conversation
                .entry(conversation_id)
                .or_default()
                .push(client_id);
        }
        let clauses: Vec<_> = by_conversation
            .into_iter()
            .map(|(conversation_id, client_ids)| {
                doc! {
                    "conversation_id": conversation_id,
                    "client_id": { "$in": client_ids, "$type": "string" },
                }
            })
            .collect();
        let mut cursor = self
            .messages
            .find(doc! { "$or": clauses })
            .hint(Hint::Name(CONVERSATION_CLIENT_ID_INDEX.into()))
            .batch_size(batch_size(wanted.len()))
            .session(&mut *session)
            .await?;
        while let Some(found) = cursor.next(&mut *session).await {
            let message = Message::try_from(found?).map_err(Failure::Store)?;
            let Some(client_id) = message.client_id.as_deref() else {
                continue;
            };
            if wanted.contains(&(message.conversation_id.as_str(), client_id)) {
                let client_id = client_id.to_owned();
                existing
                    .entry(message.conversation_id.clone())
                    .or_default()
                    .insert(client_id, message);
            }
        }
        Ok(existing)
    }
}

/// A random pause before attempt number `attempt` (2 or more) of a transaction that conflicted:
/// up to 2^`attempt` ms, capped at [`MAX_BACKOFF`], so that writers contending for the same
/// documents spread out.
pub(super) fn backoff(attempt: u32) -> Duration {
    let max_ms = u64::try_from(MAX_BACKOFF.as_millis()).unwrap_or(100);
    Duration::from_millis(rand::random_range(0..=max_ms.min(1 << attempt.min(10))))
}

/// Commits, retrying a commit whose outcome is unknown.
pub(super) async fn commit(session: &mut ClientSession) -> Result<(), Error> {
    let mut attempt = 1;
    loop {
        match session.commit_transaction().await {
            Ok(()) => return Ok(()),
            Err(e)
                if attempt < MAX_COMMIT_ATTEMPTS
                    && e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT) =>
            {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Stored messages by conversation id and client id.
type Existing = HashMap<String, HashMap<String, Message>>;

/// A cursor batch size that returns `n` documents in the first reply (no `getMore`).
fn batch_size(n: usize) -> u32 {
    u32::try_from(n.saturating_add(1)).unwrap_or(u32::MAX)
}

/// How one conversation's document moves.
#[derive(Debug, PartialEq, Eq)]
struct Bump {
    conversation_id: String,
    new_last_seq: i64,
    /// Preview of the conversation's last new message.
    preview: String,
}

/// What one attempt writes and answers.
#[derive(Debug)]
struct Plan {
    /// One per batch item, in order.
    outcomes: Vec<StoreResult<Appended>>,
    /// New messages, in batch order.
    inserts: Vec<MessageDoc>,
    /// Touched conversations, in order of first appearance.
    bumps: Vec<Bump>,
}

/// Decides every item's outcome from the state read in the transaction. Per item: `NotFound`
/// unless the conversation exists in its tenant; else `Duplicate` of a stored message with the
/// same client id, or of an earlier item of this batch; else `ConversationClosed` if closed; else
/// stored with the conversation's next `seq`.
fn plan(
    batch: &[NewMessage],
    heads: &HashMap<String, ConversationHead>,
    existing: &Existing,
    now: Timestamp,
    mut new_id: impl FnMut() -> String,
) -> StoreResult<Plan> {
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut inserts = Vec::new();
    let mut bumps: Vec<Bump> = Vec::new();
    let mut bump_of: HashMap<&str, usize> = HashMap::new();
    // Messages stored earlier in this batch, by (conversation, client id): index in `outcomes`.
    let mut stored_here: HashMap<(&str, &str), usize> = HashMap::new();

    for item in batch {
        let Some(head) = heads
            .get(&item.conversation_id)
            .filter(|h| h.tenant_id == item.tenant_id)
        else {
            outcomes.push(Err(StoreError::NotFound));
            continue;
        };
        if let Some(client_id) = item.client_id.as_deref() {
            let stored_before = existing
                .get(&item.conversation_id)
                .and_then(|by_client_id| by_client_id.get(client_id));
            if let Some(earlier) = stored_before {
                outcomes.push(Ok(Appended::Duplicate(earlier.clone())));
                continue;
            }
            if let Some(&index) = stored_here.get(&(item.conversation_id.as_str(), client_id)) {
                let earlier = match &outcomes[index] {
                    Ok(appended) => appended.message().clone(),
                    Err(_) => {
                        return Err(StoreError::Internal(
                            "append plan lost an earlier message".into(),
                        ));
                    }
                };
                outcomes.push(Ok(Appended::Duplicate(earlier)));
                continue;
            }
        }
        if head.status == ConversationStatus::Closed {
            outcomes.push(Err(StoreError::ConversationClosed));
            continue;
        }

        let bump_index = *bump_of
            .entry(item.conversation_id.as_str())
            .or_insert_with(|| {
                bumps.push(Bump {
                    conversation_id: item.conversation_id.clone(),
                    new_last_seq: head.last_seq,
                    preview: String::new(),
                });
                bumps.len() - 1
            });
        let bump = &mut bumps[bump_index];
        bump.new_last_seq += 1;
        bump.preview = preview(&item.text, PREVIEW_CHARS);
        let seq = u64::try_from(bump.new_last_seq)
            .map_err(|_| StoreError::Internal("stored last_seq is negative".into()))?;

        let message = Message {
            id: new_id(),
            tenant_id: item.tenant_id.clone(),
            conversation_id: item.conversation_id.clone(),
            seq,
            client_id: item.client_id.clone(),
            author_kind: item.author_kind,
            author_id: item.author_id.clone(),
            author_name: item.author_name.clone(),
            author_role: item.author_role,
            text: item.text.clone(),
            created_at: now,
        };
        if let Some(client_id) = item.client_id.as_deref() {
            stored_here.insert((item.conversation_id.as_str(), client_id), outcomes.len());
        }
        inserts.push(MessageDoc::from(&message));
        outcomes.push(Ok(Appended::Stored(message)));
    }
    Ok(Plan {
        outcomes,
        inserts,
        bumps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AuthorKind;

    fn head(id: &str, tenant: &str, status: ConversationStatus, last_seq: i64) -> ConversationHead {
        ConversationHead {
            id: id.into(),
            tenant_id: tenant.into(),
            status,
            last_seq,
        }
    }

    fn item(tenant: &str, conversation: &str, client_id: Option<&str>, text: &str) -> NewMessage {
        NewMessage {
            author_role: None,
            tenant_id: tenant.into(),
            conversation_id: conversation.into(),
            client_id: client_id.map(Into::into),
            author_kind: AuthorKind::Visitor,
            author_id: "v1".into(),
            author_name: None,
            text: text.into(),
        }
    }

    fn heads(list: Vec<ConversationHead>) -> HashMap<String, ConversationHead> {
        list.into_iter().map(|h| (h.id.clone(), h)).collect()
    }

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("m{n}")
        }
    }

    fn seqs(plan: &Plan) -> Vec<Option<u64>> {
        plan.outcomes
            .iter()
            .map(|o| o.as_ref().ok().map(|a| a.message().seq))
            .collect()
    }

    #[test]
    fn messages_get_consecutive_seqs_per_conversation_in_input_order() {
        let heads = heads(vec![
            head("a", "t", ConversationStatus::Open, 4),
            head("b", "t", ConversationStatus::Unassigned, 0),
        ]);
        let batch = [
            item("t", "a", None, "1"),
            item("t", "b", None, "2"),
            item("t", "a", None, "3"),
        ];
        let plan = plan(&batch, &heads, &Existing::new(), 7, ids()).expect("plan");
        assert_eq!(seqs(&plan), vec![Some(5), Some(1), Some(6)]);
        assert_eq!(
            plan.bumps,
            vec![
                Bump {
                    conversation_id: "a".into(),
                    new_last_seq: 6,
                    preview: "3".into()
                },
                Bump {
                    conversation_id: "b".into(),
                    new_last_seq: 1,
                    preview: "2".into()
                },
            ]
        );
        assert_eq!(plan.inserts.len(), 3);
        assert!(plan.inserts.iter().all(|m| m.created_at == 7));
    }

    #[test]
    fn a_conversation_of_another_tenant_is_not_found_and_a_closed_one_refuses() {
        let heads = heads(vec![
            head("a", "t", ConversationStatus::Open, 0),
            head("c", "t", ConversationStatus::Closed, 3),
        ]);
        let batch = [
            item("other", "a", None, "x"),
            item("t", "missing", None, "x"),
            item("t", "c", None, "x"),
            item("t", "a", None, "ok"),
        ];
        let plan = plan(&batch, &heads, &Existing::new(), 1, ids()).expect("plan");
        assert!(matches!(plan.outcomes[0], Err(StoreError::NotFound)));
        assert!(matches!(plan.outcomes[1], Err(StoreError::NotFound)));
        assert!(matches!(
            plan.outcomes[2],
            Err(StoreError::ConversationClosed)
        ));
        assert_eq!(seqs(&plan)[3], Some(1));
        assert_eq!(plan.bumps.len(), 1);
    }

    #[test]
    fn a_resent_client_id_returns_the_stored_message_and_writes_nothing() {
        let heads = heads(vec![head("a", "t", ConversationStatus::Closed, 1)]);
        let stored = Message {
            author_role: None,
            id: "old".into(),
            tenant_id: "t".into(),
            conversation_id: "a".into(),
            seq: 1,
            client_id: Some("k".into()),
            author_kind: AuthorKind::Visitor,
            author_id: "v1".into(),
            author_name: None,
            text: "first".into(),
            created_at: 1,
        };
        let existing = Existing::from([(
            "a".to_owned(),
            HashMap::from([("k".to_owned(), stored.clone())]),
        )]);
        let plan = plan(
            &[item("t", "a", Some("k"), "again")],
            &heads,
            &existing,
            9,
            ids(),
        )
        .expect("plan");
        assert_eq!(plan.outcomes.len(), 1);
        assert_eq!(
            plan.outcomes[0].as_ref().ok(),
            Some(&Appended::Duplicate(stored))
        );
        assert!(plan.inserts.is_empty() && plan.bumps.is_empty());
    }

    #[test]
    fn a_client_id_repeated_within_the_batch_returns_the_first_message() {
        let heads = heads(vec![
            head("a", "t", ConversationStatus::Open, 0),
            head("b", "t", ConversationStatus::Open, 0),
        ]);
        let batch = [
            item("t", "a", Some("k"), "first"),
            item("t", "b", Some("k"), "other conversation"),
            item("t", "a", Some("k"), "second"),
        ];
        let plan = plan(&batch, &heads, &Existing::new(), 1, ids()).expect("plan");
        let first = match &plan.outcomes[0] {
            Ok(Appended::Stored(m)) => m.clone(),
            other => panic!("unexpected {other:?}"),
        };
        assert!(matches!(&plan.outcomes[1], Ok(Appended::Stored(m)) if m.seq == 1));
        assert_eq!(
            plan.outcomes[2].as_ref().ok(),
            Some(&Appended::Duplicate(first))
        );
        assert_eq!(plan.inserts.len(), 2);
    }

    #[test]
    fn the_preview_keeps_the_first_characters_of_the_last_message() {
        let heads = heads(vec![head("a", "t", ConversationStatus::Open, 0)]);
        let long: String = "é".repeat(PREVIEW_CHARS + 10);
        let plan = plan(
            &[item("t", "a", None, &long)],
            &heads,
            &Existing::new(),
            1,
            ids(),
        )
        .expect("plan");
        assert_eq!(plan.bumps[0].preview, preview(&long, PREVIEW_CHARS));
        assert!(plan.bumps[0].preview.starts_with("éé"));
    }
}
