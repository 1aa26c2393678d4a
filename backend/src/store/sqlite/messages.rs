//! Messages: the batched append (the hot path) and history pages.

use std::collections::HashMap;

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use super::rows::{MESSAGE_COLUMNS, author_kind_str, message_from_row, role_str};
use super::{SqliteStore, db_error, sql_limit};
use crate::domain::{self, ConversationStatus, Message, NewMessage, Timestamp};
use crate::store::{Appended, MessageStore, StoreError, StoreResult};

/// What the batch knows about one conversation it touches.
struct Target {
    tenant_id: String,
    closed: bool,
    /// The highest `seq` so far, including messages of this batch.
    last_seq: u64,
    /// Index in the batch of this batch's newest message to it, if any; its text becomes the
    /// preview when the batch ends.
    newest: Option<usize>,
}

/// Appends `batch` inside `tx`; see [`MessageStore::append_batch`].
///
/// Each conversation is read once and written once per batch, however many of its messages the
/// batch carries. Per item, in this order: a conversation absent from the item's tenant is
/// `NotFound`; a `client_id` already stored (by an earlier batch or earlier in this one) is
/// `Duplicate`, even when the conversation has since closed, because the message *was*
/// accepted and a retrying client must learn its `seq`; otherwise a closed conversation is
/// `ConversationClosed`.
///
/// The common case costs one insert per message: duplicates are found by the insert itself
/// (`ON CONFLICT ... DO NOTHING` on the client-id index) rather than by a look-up first.
fn append_in(
    tx: &Transaction<'_>,
    batch: &[NewMessage],
    now: Timestamp,
) -> rusqlite::Result<Vec<StoreResult<Appended>>> {
    let mut load =
        tx.prepare_cached("SELECT tenant_id, status, last_seq FROM conversations WHERE id = ?1")?;
    let mut find_dup = tx.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 AND client_id = ?2"
    ))?;
    // The conflict target is the partial unique index on (conversation_id, client_id): only a
    // resent client id is skipped; any other violation (a taken seq) still fails the batch.
    let mut insert = tx.prepare_cached(
        "INSERT INTO messages (id, tenant_id, conversation_id, seq, client_id, author_kind, \
         author_id, author_name, text, created_at, author_role) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
         ON CONFLICT (conversation_id, client_id) WHERE client_id IS NOT NULL DO NOTHING",
    )?;

    // `None` records a conversation that does not exist at all.
    let mut targets: HashMap<&str, Option<Target>> = HashMap::new();
    let mut outcomes = Vec::with_capacity(batch.len());

    for (index, item) in batch.iter().enumerate() {
        let conversation_id = item.conversation_id.as_str();
        if !targets.contains_key(conversation_id) {
            let target = load
                .query_row([conversation_id], |row| {
                    Ok(Target {
                        tenant_id: row.get(0)?,
                        closed: row.get_ref(1)?.as_str().ok()
                            == Some(ConversationStatus::Closed.as_str()),
                        last_seq: row.get(2)?,
                        newest: None,
                    })
                })
                .optional()?;
            targets.insert(conversation_id, target);
        }
        let Some(Some(target)) = targets
            .get_mut(conversation_id)
            .filter(|t| t.as_ref().is_some_and(|t| t.tenant_id == item.tenant_id))
        else {
            outcomes.push(Err(StoreError::NotFound));
            continue;
        };

        if target.closed {
            // Rare path: a resend of a message accepted before the close is still a duplicate.
            let earlier = match item.client_id.as_deref() {
                Some(client_id) => find_dup
                    .query_row([conversation_id, client_id], message_from_row)
                    .optional()?,
                None => None,
            };
            outcomes.push(match earlier {
                Some(earlier) => Ok(Appended::Duplicate(earlier)),
                None => Err(StoreError::ConversationClosed),
            });
            continue;
        }

        let message = Message {
            id: domain::new_id(),
            tenant_id: item.tenant_id.clone(),
            conversation_id: item.conversation_id.clone(),
            seq: target.last_seq + 1,
            client_id: item.client_id.clone(),
            author_kind: item.author_kind,
            author_id: item.author_id.clone(),
            author_name: item.author_name.clone(),
            author_role: item.author_role,
            text: item.text.clone(),
            created_at: now,
        };
        let inserted = insert.execute(params![
            message.id,
            message.tenant_id,
            message.conversation_id,
            message.seq,
            message.client_id,
            author_kind_str(message.author_kind),
            message.author_id,
            message.author_name,
            message.text,
            message.created_at,
            message.author_role.map(role_str),
        ])?;
        if inserted == 0 {
            // The client id was taken, by an earlier batch or earlier in this one (the
            // transaction sees its own writes). Nothing was written; report the stored one.
            let client_id = item.client_id.as_deref().unwrap_or_default();
            let earlier = find_dup
                .query_row([conversation_id, client_id], message_from_row)
                .optional()?
                .ok_or(rusqlite::Error::QueryReturnedNoRows)?;
            outcomes.push(Ok(Appended::Duplicate(earlier)));
            continue;
        }
        target.last_seq = message.seq;
        target.newest = Some(index);
        outcomes.push(Ok(Appended::Stored(message)));
    }

    let mut bump = tx.prepare_cached(
        "UPDATE conversations SET last_seq = ?2, last_message_preview = ?3, \
         last_activity_at = ?4 WHERE id = ?1",
    )?;
    for (conversation_id, target) in &targets {
        if let Some(Target {
            last_seq,
            newest: Some(newest),
            ..
        }) = target
        {
            let preview =
                natter_sdk::protocol::preview(&batch[*newest].text, domain::PREVIEW_CHARS);
            bump.execute(params![conversation_id, last_seq, preview, now])?;
        }
    }
    Ok(outcomes)
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn append_batch(
        &self,
        batch: &[NewMessage],
        now: Timestamp,
    ) -> StoreResult<Vec<StoreResult<Appended>>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let batch = batch.to_vec();
        self.write(move |conn| {
            // One transaction per batch: one fsync for hundreds of messages, and all or
            // nothing if anything fails below. Dropping `tx` on an error rolls back.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_error)?;
            let outcomes = append_in(&tx, &batch, now).map_err(db_error)?;
            tx.commit().map_err(db_error)?;
            Ok(outcomes)
        })
        .await
    }

    async fn messages_after(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        after_seq: u64,
        limit: usize,
    ) -> StoreResult<Vec<Message>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (tenant_id, conversation_id) = (tenant_id.to_owned(), conversation_id.to_owned());
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages \
                 WHERE conversation_id = ?1 AND tenant_id = ?2 AND seq > ?3 \
                 ORDER BY seq LIMIT ?4"
            ))
            .and_then(|mut stmt| {
                stmt.query_map(
                    params![conversation_id, tenant_id, after_seq, sql_limit(limit)],
                    message_from_row,
                )?
                .collect()
            })
            .map_err(db_error)
        })
        .await
    }

    async fn messages_before(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        before_seq: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<Message>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (tenant_id, conversation_id) = (tenant_id.to_owned(), conversation_id.to_owned());
        // Seqs are at most i64::MAX, so "no bound" is that.
        let before = before_seq.map_or(i64::MAX, |s| i64::try_from(s).unwrap_or(i64::MAX));
        self.read(move |conn| {
            let mut page: Vec<Message> = conn
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages \
                     WHERE conversation_id = ?1 AND tenant_id = ?2 AND seq < ?3 \
                     ORDER BY seq DESC LIMIT ?4"
                ))
                .and_then(|mut stmt| {
                    stmt.query_map(
                        params![conversation_id, tenant_id, before, sql_limit(limit)],
                        message_from_row,
                    )?
                    .collect()
                })
                .map_err(db_error)?;
            page.reverse();
            Ok(page)
        })
        .await
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::domain::{
        AuthorKind, Conversation, RoutingSettings, Tenant, Visitor, WidgetSettings,
    };
    use crate::store::{ConversationStore, TenantStore, VisitorStore};

    async fn store_with_conversations(n: usize) -> (SqliteStore, tempfile::TempDir) {
        let tmp = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(tmp.path()).await.unwrap();
        store
            .create_tenant(&Tenant {
                typing_preview: false,
                id: "t".into(),
                name: "T".into(),
                site_key: "sk".into(),
                allowed_origins: vec![],
                identity_secret: "s".into(),
                require_verified_identity: false,
                routing: RoutingSettings::default(),
                widget: WidgetSettings::default(),
                created_at: 1,
            })
            .await
            .unwrap();
        store
            .create_visitor(&Visitor {
                page_url: None,
                user_agent: None,
                id: "v".into(),
                tenant_id: "t".into(),
                external_id: None,
                name: None,
                email: None,
                created_at: 1,
            })
            .await
            .unwrap();
        for i in 0..n {
            store
                .create_conversation(&Conversation {
                    id: format!("c{i}"),
                    tenant_id: "t".into(),
                    visitor_id: "v".into(),
                    created_at: 1,
                    last_activity_at: 1,
                    ..crate::domain::fixtures::conversation(ConversationStatus::Unassigned, None)
                })
                .await
                .unwrap();
        }
        (store, tmp)
    }

    fn new_message(conversation: usize, client_id: Option<String>) -> NewMessage {
        NewMessage {
            author_role: None,
            tenant_id: "t".into(),
            conversation_id: format!("c{conversation}"),
            client_id,
            author_kind: AuthorKind::Visitor,
            author_id: "v".into(),
            author_name: None,
            text: "hello there, how can I get a refund for my order?".into(),
        }
    }

    #[tokio::test]
    async fn a_failing_batch_stores_nothing() {
        let (store, _tmp) = store_with_conversations(1).await;
        // Make the second insert fail inside the transaction: a trigger stands in for a disk
        // error, which cannot be provoked portably.
        store
            .write(|conn| {
                conn.execute_batch(
                    "CREATE TRIGGER fail AFTER INSERT ON messages WHEN NEW.seq = 2 \
                     BEGIN SELECT RAISE(ABORT, 'injected'); END;",
                )
                .map_err(db_error)
            })
            .await
            .unwrap();
        let batch = [new_message(0, None), new_message(0, None)];
        assert!(store.append_batch(&batch, 5).await.is_err());
        assert!(
            store
                .messages_after("t", "c0", 0, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let c = store.conversation("t", "c0").await.unwrap().unwrap();
        assert_eq!((c.last_seq, c.last_activity_at), (0, 1));
    }
}
