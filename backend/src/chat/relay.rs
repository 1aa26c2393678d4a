//! Cross-instance fan-out: follows the store's [`ChangeFeed`] (changes committed by other natter
//! instances on the same database) and publishes them to this instance's sockets, so a visitor
//! connected to one instance and an agent connected to another still talk live.
//!
//! Local changes are published directly by `crate::chat` and `crate::routing` right after they
//! are stored; the feed carries only the other instances' changes, so nothing is published
//! twice. Conversation and agent changes also wake this instance's routing dispatcher. A staff
//! member's read position ([`Change::Read`]) goes to their own sockets here as a `read` frame.
//!
//! Typing indicators are not stored, so they have no change of their own: a
//! [`TypingForwarder`] hands this instance's to the others through
//! [`ChangeFeed::announce_typing`], and they come back on the others' feeds as
//! [`Change::Typing`], which this relay publishes to the same audience as local typing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use natter_sdk::protocol::ServerFrame;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::chat::hub::Hub;
use crate::domain::{Conversation, TypingNotice};
use crate::routing::Routing;
use crate::store::{Change, ChangeFeed, Stores};
use crate::wire;

/// How long a conversation fetched for routing a remote message is reused.
const CONVERSATION_TTL: Duration = Duration::from_secs(2);

/// Typing notices waiting to be announced; past this the newest are dropped (an indicator that
/// does not show on other instances), never waited for.
const TYPING_QUEUE: usize = 1024;
/// Most typing notices announced in one write.
const TYPING_BATCH: usize = 256;

/// Announces this instance's typing notices to the other instances, from one task: notices
/// queue while a write is in flight and go out together in the next one, each typist's latest
/// only ([`coalesce_typing`]). Clients already throttle typing (a refresh every few seconds, a
/// preview at most every 400 ms), so this costs about one small insert per typist per
/// interval, in order. Cheap to clone.
#[derive(Clone)]
pub struct TypingForwarder {
    tx: mpsc::Sender<TypingNotice>,
}

impl TypingForwarder {
    /// Starts the task that writes to `feed`; it ends when the last clone is dropped.
    pub fn spawn(feed: Arc<dyn ChangeFeed>) -> Self {
        let (tx, mut rx) = mpsc::channel(TYPING_QUEUE);
        tokio::spawn(async move {
            let mut queued = Vec::with_capacity(TYPING_BATCH);
            while rx.recv_many(&mut queued, TYPING_BATCH).await > 0 {
                let batch = coalesce_typing(std::mem::take(&mut queued));
                if let Err(error) = feed.announce_typing(&batch).await {
                    tracing::warn!(%error, "cannot announce typing to other instances");
                }
            }
        });
        TypingForwarder { tx }
    }

    /// Queues a notice for the other instances; drops it if the queue is full.
    pub fn forward(&self, notice: TypingNotice) {
        if self.tx.try_send(notice).is_err() {
            metrics::counter!("natter_typing_dropped_total").increment(1);
        }
    }
}

/// The notices worth announcing of a queued run: the latest of each typist in each
/// conversation (an earlier one would be overridden at once), in the order of those latest.
pub fn coalesce_typing(notices: Vec<TypingNotice>) -> Vec<TypingNotice> {
    let mut latest: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for (index, n) in notices.iter().enumerate() {
        latest.insert((&n.tenant_id, &n.conversation_id, &n.author_id), index);
    }
    let mut keep: Vec<usize> = latest.into_values().collect();
    keep.sort_unstable();
    let mut keep = keep.into_iter().peekable();
    notices
        .into_iter()
        .enumerate()
        .filter_map(|(index, n)| (keep.next_if_eq(&index).is_some()).then_some(n))
        .collect()
}

/// Conversations recently loaded by the relay, to route remote messages and typing without a
/// read per event.
#[derive(Default)]
struct ConversationCache {
    entries: HashMap<String, (Conversation, Instant)>,
}

impl ConversationCache {
    /// Remembers a conversation as of now.
    fn put(&mut self, conversation: Conversation) {
        if self.entries.len() > 10_000 {
            self.entries.clear();
        }
        self.entries
            .insert(conversation.id.clone(), (conversation, Instant::now()));
    }

    /// The conversation, from the cache when loaded less than [`CONVERSATION_TTL`] ago, else
    /// from the store; `None` if it is gone or cannot be read (logged).
    async fn get(
        &mut self,
        stores: &Stores,
        tenant_id: &str,
        conversation_id: &str,
    ) -> Option<Conversation> {
        if let Some((conversation, at)) = self.entries.get(conversation_id)
            && at.elapsed() < CONVERSATION_TTL
            && conversation.tenant_id == tenant_id
        {
            return Some(conversation.clone());
        }
        match stores
            .conversations
            .conversation(tenant_id, conversation_id)
            .await
        {
            Ok(Some(conversation)) => {
                self.put(conversation.clone());
                Some(conversation)
            }
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(%error, "cannot route a remote event");
                None
            }
        }
    }
}

/// Runs the relay until `stop` flips to true. `following` is set once the feed is followed (and
/// cleared while it is being re-established), so readiness can wait for it: an instance that
/// accepted sockets before following the feed would miss other instances' messages.
pub async fn run(
    feed: Arc<dyn ChangeFeed>,
    stores: Stores,
    hub: Arc<Hub>,
    routing: Routing,
    mut stop: tokio::sync::watch::Receiver<bool>,
    following: tokio::sync::watch::Sender<bool>,
) {
    let mut conversations = ConversationCache::default();
    let mut pause = Duration::from_millis(100);
    loop {
        let mut changes = match feed.subscribe().await {
            Ok(changes) => {
                pause = Duration::from_millis(100);
                let _ = following.send(true);
                changes
            }
            Err(error) => {
                tracing::warn!(%error, "change feed unavailable; retrying");
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    _ = stop.changed() => return,
                }
                pause = (pause * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        loop {
            let change = tokio::select! {
                change = changes.next() => change,
                _ = stop.changed() => return,
            };
            match change {
                Some(Ok(Change::Conversation(conversation))) => {
                    // The previous assignee is not known here; they still hold the conversation
                    // in their list until their next sync shows it moved.
                    hub.publish_conversation(
                        &conversation,
                        &wire::conversation_frame(&conversation),
                        None,
                    );
                    routing.remote_conversation(&conversation).await;
                    conversations.put(conversation);
                }
                Some(Ok(Change::Agent(agent))) => routing.remote_agent(&agent).await,
                // Nothing to do (not even a read) when no socket of the tenant is here.
                Some(Ok(Change::Message(message))) if hub.serves_tenant(&message.tenant_id) => {
                    if let Some(conversation) = conversations
                        .get(&stores, &message.tenant_id, &message.conversation_id)
                        .await
                    {
                        hub.publish_message(&conversation, &wire::message_frame(&message));
                    }
                }
                Some(Ok(Change::Typing(notice))) if hub.serves_tenant(&notice.tenant_id) => {
                    if let Some(conversation) = conversations
                        .get(&stores, &notice.tenant_id, &notice.conversation_id)
                        .await
                    {
                        let (to_visitor, to_staff) = wire::typing_frames(&notice);
                        hub.publish_typing(&conversation, &to_visitor, &to_staff, None);
                    }
                }
                Some(Ok(Change::Read {
                    tenant_id,
                    staff_id,
                    position,
                })) => hub.publish_to_staff(
                    &tenant_id,
                    &ServerFrame::Read {
                        conversation_id: position.conversation_id,
                        seq: position.seq,
                    },
                    |to| to == staff_id,
                ),
                Some(Ok(Change::Message(_) | Change::Typing(_))) => {}
                Some(Err(error)) => {
                    tracing::warn!(%error, "change feed broke; resubscribing");
                    let _ = following.send(false);
                    break;
                }
                None => {
                    let _ = following.send(false);
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AuthorKind;

    fn notice(conversation: &str, author: &str, typing: bool) -> TypingNotice {
        TypingNotice {
            tenant_id: "t1".into(),
            conversation_id: conversation.into(),
            author_kind: AuthorKind::Visitor,
            author_id: author.into(),
            author_name: None,
            author_role: None,
            typing,
            preview: None,
        }
    }

    #[test]
    fn each_typist_keeps_only_their_latest_notice_in_the_order_of_the_latest() {
        let queued = vec![
            notice("c1", "v1", true),
            notice("c2", "v2", true),
            notice("c1", "v1", false),
            notice("c1", "a1", true),
            notice("c2", "v2", true),
        ];
        assert_eq!(
            coalesce_typing(queued),
            vec![
                notice("c1", "v1", false),
                notice("c1", "a1", true),
                notice("c2", "v2", true),
            ]
        );
    }

    #[test]
    fn the_same_typist_in_two_conversations_keeps_both() {
        let queued = vec![notice("c1", "s1", true), notice("c2", "s1", true)];
        assert_eq!(coalesce_typing(queued.clone()), queued);
    }
}
