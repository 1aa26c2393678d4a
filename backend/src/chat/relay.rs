//! Cross-instance fan-out: follows the store's [`ChangeFeed`] (changes committed by other natter
//! instances on the same database) and publishes them to this instance's sockets, so a visitor
//! connected to one instance and an agent connected to another still talk live.
//!
//! Local changes are published directly by `crate::chat` and `crate::routing` right after they
//! are stored; the feed carries only the other instances' changes, so nothing is published
//! twice. Conversation and agent changes also wake this instance's routing dispatcher.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::Instant;

use crate::chat::hub::Hub;
use crate::domain::Conversation;
use crate::routing::Routing;
use crate::store::{Change, ChangeFeed, Stores};
use crate::wire;

/// How long a conversation fetched for routing a remote message is reused.
const CONVERSATION_TTL: Duration = Duration::from_secs(2);

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
    let mut conversations: HashMap<String, (Conversation, Instant)> = HashMap::new();
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
                    conversations.insert(conversation.id.clone(), (conversation, Instant::now()));
                }
                Some(Ok(Change::Agent(agent))) => routing.remote_agent(&agent).await,
                Some(Ok(Change::Message(message))) => {
                    let cached = conversations
                        .get(&message.conversation_id)
                        .filter(|(_, at)| at.elapsed() < CONVERSATION_TTL)
                        .map(|(c, _)| c.clone());
                    let conversation = match cached {
                        Some(c) => Some(c),
                        None => match stores
                            .conversations
                            .conversation(&message.tenant_id, &message.conversation_id)
                            .await
                        {
                            Ok(found) => found,
                            Err(error) => {
                                tracing::warn!(%error, "cannot route a remote message");
                                None
                            }
                        },
                    };
                    if let Some(conversation) = conversation {
                        hub.publish_message(&conversation, &wire::message_frame(&message));
                        if conversations.len() > 10_000 {
                            conversations.clear();
                        }
                        conversations
                            .insert(conversation.id.clone(), (conversation, Instant::now()));
                    }
                }
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
