//! The chat application layer: starting, reading, posting to, claiming and closing
//! conversations. Each operation checks `domain::permissions`, calls the stores, and publishes
//! what changed to the [`hub::Hub`]; who gets a conversation is `crate::routing`'s business,
//! which this layer informs (a start, a close) and delegates to (a claim is an accept). HTTP
//! handlers and WebSocket sessions both call in here, so the two paths behave the same.
//!
//! **Architecture Invariant**: a message is published (fanned out) only after
//! its batch is stored, i.e. after it is durable; the writer lane publishes it, in `seq` order.

pub mod hub;
pub mod relay;
pub mod writer;

use std::sync::Arc;

use natter_sdk::protocol::{ServerFrame, validate_text};

use crate::auth::{Caller, StaffCaller, VisitorCaller};
use crate::domain::permissions;
use crate::domain::{
    AuthorKind, Conversation, ConversationStatus, Message, NewMessage, TypingNotice, now_ms,
};
use crate::error::{AppError, AppResult};
use crate::routing::Routing;
use crate::store::{Appended, ConversationFilter, ReadPosition, Stores};
use crate::wire;

use hub::{ConnectionId, Hub};
use relay::TypingForwarder;
use writer::MessageWriter;

/// Longest accepted client id (idempotency key).
pub const MAX_CLIENT_ID_CHARS: usize = 64;

/// Checks a client-chosen message id: 1 to 64 characters of `A-Z a-z 0-9 - _ . :`.
pub fn validate_client_id(client_id: &str) -> AppResult<()> {
    let ok = !client_id.is_empty()
        && client_id.len() <= MAX_CLIENT_ID_CHARS
        && client_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if ok {
        Ok(())
    } else {
        Err(AppError::Invalid(format!(
            "client_id: 1 to {MAX_CLIENT_ID_CHARS} characters of A-Z a-z 0-9 - _ . :"
        )))
    }
}

/// The chat service. Cheap to clone.
#[derive(Clone)]
pub struct Chat {
    stores: Stores,
    writer: MessageWriter,
    hub: Arc<Hub>,
    routing: Routing,
    /// Hands typing to the other instances; `None` for stores that serve a single instance.
    typing: Option<TypingForwarder>,
}

impl Chat {
    /// A service over `stores`, writing through `writer`, publishing to `hub` and routing
    /// conversations with `routing`. With a store several instances share (one with a change
    /// feed), it starts the task that announces typing to the other instances.
    pub fn new(stores: Stores, writer: MessageWriter, hub: Arc<Hub>, routing: Routing) -> Self {
        let typing = stores.changes.clone().map(TypingForwarder::spawn);
        Chat {
            stores,
            writer,
            hub,
            routing,
            typing,
        }
    }

    /// Shows that someone started or stopped typing in `conversation` (already loaded and
    /// visible to them) to everyone who follows its messages, on this instance and the others,
    /// except the typing socket `from`. The notice's preview must already obey
    /// [`TypingNotice::allowed_preview`]; only staff receive it.
    pub fn typing(&self, conversation: &Conversation, notice: TypingNotice, from: ConnectionId) {
        let (to_visitor, to_staff) = wire::typing_frames(&notice);
        self.hub
            .publish_typing(conversation, &to_visitor, &to_staff, Some(from));
        if let Some(forwarder) = &self.typing {
            forwarder.forward(notice);
        }
    }

    /// The hub this service publishes to.
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// The routing service.
    pub fn routing(&self) -> &Routing {
        &self.routing
    }

    /// Returns the visitor's current (not closed) conversation, or starts one for `team` (a
    /// team id of the tenant, or `None` for anyone). Idempotent, so a widget retrying over a
    /// flaky network never opens two. Under the `reject` policy a new request is refused with
    /// `NoAgentAvailable` while nobody is available, unless the visitor leaves a message.
    pub async fn start_conversation(
        &self,
        visitor: &VisitorCaller,
        team: Option<&str>,
        leave_message: bool,
    ) -> AppResult<(Conversation, bool)> {
        let filter = ConversationFilter {
            visitor_id: Some(visitor.visitor_id.clone()),
            ..Default::default()
        };
        let existing = self
            .stores
            .conversations
            .list_conversations(&visitor.tenant_id, &filter, None, 20)
            .await?;
        if let Some(current) = existing
            .into_iter()
            .find(|c| c.status != ConversationStatus::Closed)
        {
            return Ok((current, false));
        }
        let tenant = self
            .stores
            .tenants
            .tenant_by_id(&visitor.tenant_id)
            .await?
            .ok_or(AppError::Unauthenticated("unknown site"))?;
        self.routing.admit(&tenant, team, leave_message).await?;
        let profile = self
            .stores
            .visitors
            .visitor_by_id(&visitor.tenant_id, &visitor.visitor_id)
            .await?
            .ok_or(AppError::Unauthenticated("unknown visitor"))?;
        let mut conversation = Conversation::start(&profile, now_ms());
        conversation.team_id = team.map(str::to_owned);
        self.stores
            .conversations
            .create_conversation(&conversation)
            .await?;
        metrics::counter!("natter_conversations_started_total").increment(1);
        self.hub.publish_conversation(
            &conversation,
            &wire::conversation_frame(&conversation),
            None,
        );
        self.routing.started(&conversation).await;
        Ok((conversation, true))
    }

    /// Loads a conversation the caller may see.
    pub async fn conversation(&self, caller: &Caller, id: &str) -> AppResult<Conversation> {
        let conversation = self
            .stores
            .conversations
            .conversation(caller.tenant_id(), id)
            .await?
            .ok_or(AppError::NotFound)?;
        permissions::can_view(caller, &conversation)?;
        Ok(conversation)
    }

    /// Posts a message as `caller` to `conversation` (already loaded and visible to the caller)
    /// and waits until it is stored. Returns the message and whether it is new; a resent
    /// `client_id` returns the earlier message and `false`.
    pub async fn post(
        &self,
        caller: &Caller,
        conversation: &Conversation,
        client_id: &str,
        text: &str,
    ) -> AppResult<(Message, bool)> {
        self.submit_post(caller, conversation, client_id, text)
            .await?
            .finish()
            .await
    }

    /// The first half of [`Chat::post`]: validates and queues the message for storage, and
    /// returns at once. Posts submitted in order are stored in order, so a WebSocket session
    /// can submit several before awaiting their [`PendingPost::finish`].
    pub async fn submit_post(
        &self,
        caller: &Caller,
        conversation: &Conversation,
        client_id: &str,
        text: &str,
    ) -> AppResult<PendingPost> {
        validate_client_id(client_id)?;
        validate_text(text)?;
        permissions::can_post(caller, conversation)?;
        let (author_kind, author_id, author_name, author_role) = match caller {
            Caller::Staff(s) => (
                AuthorKind::Staff,
                s.staff_id.clone(),
                Some(s.name.clone()),
                Some(s.role),
            ),
            Caller::Visitor(v) => (
                AuthorKind::Visitor,
                v.visitor_id.clone(),
                v.name.clone(),
                None,
            ),
        };
        let stored = self
            .writer
            .submit(
                NewMessage {
                    tenant_id: conversation.tenant_id.clone(),
                    conversation_id: conversation.id.clone(),
                    client_id: Some(client_id.to_owned()),
                    author_kind,
                    author_id: author_id.clone(),
                    author_name,
                    author_role,
                    text: text.to_owned(),
                },
                conversation.clone(),
            )
            .await?;
        Ok(PendingPost { stored, author_id })
    }

    /// Claims (accepts) a waiting conversation for `staff`; exactly one of several concurrent
    /// claims wins, the others get `Conflict`. Capacity and refusals apply (see
    /// [`Routing::accept`]).
    pub async fn claim(&self, staff: &StaffCaller, id: &str) -> AppResult<Conversation> {
        let claimed = self.routing.accept(staff, id).await?;
        metrics::counter!("natter_conversations_claimed_total").increment(1);
        Ok(claimed)
    }

    /// Closes a conversation.
    pub async fn close(&self, caller: &Caller, id: &str) -> AppResult<Conversation> {
        let conversation = self.conversation(caller, id).await?;
        permissions::can_close(caller, &conversation)?;
        if conversation.status == ConversationStatus::Closed {
            return Ok(conversation);
        }
        let closed = self
            .stores
            .conversations
            .close(caller.tenant_id(), id, now_ms())
            .await?;
        self.hub.publish_conversation(
            &closed,
            &wire::conversation_frame(&closed),
            conversation.assignee_id.as_deref(),
        );
        self.routing.closed(&conversation).await;
        Ok(closed)
    }
}

impl Chat {
    /// Reopens a closed conversation for `staff` (see [`Routing::reopen`]) and notes it in the
    /// history with a system message, which everyone following the conversation receives.
    pub async fn reopen(&self, staff: &StaffCaller, id: &str) -> AppResult<Conversation> {
        let conversation = self.conversation(&Caller::Staff(staff.clone()), id).await?;
        permissions::can_reopen(staff, &conversation)?;
        let reopened = self.routing.reopen(staff, &conversation).await?;
        metrics::counter!("natter_conversations_reopened_total").increment(1);
        let note = NewMessage {
            tenant_id: reopened.tenant_id.clone(),
            conversation_id: reopened.id.clone(),
            client_id: None,
            author_kind: AuthorKind::System,
            author_id: String::new(),
            author_name: None,
            author_role: None,
            text: format!("Conversation reopened by {}", staff.name),
        };
        // The reopen itself is done; a note that cannot be stored (the conversation closed
        // again meanwhile, the database hiccuped) is logged rather than reported as a failed
        // reopen.
        let stored = match self.writer.submit(note, reopened.clone()).await {
            Ok(pending) => pending.wait().await,
            Err(error) => Err(error),
        };
        if let Err(error) = stored {
            AppError::from(error).log();
        }
        // The note moved `last_seq`, the preview and the activity time.
        Ok(self
            .stores
            .conversations
            .conversation(&reopened.tenant_id, &reopened.id)
            .await?
            .unwrap_or(reopened))
    }

    /// The tenant's staff room, created on first use. Staff only.
    pub async fn staff_room(&self, staff: &StaffCaller) -> AppResult<Conversation> {
        let candidate = Conversation::staff_room(&staff.tenant_id, now_ms());
        Ok(self
            .stores
            .conversations
            .staff_room(&staff.tenant_id, &candidate)
            .await?)
    }

    /// Records that `staff` has read conversation `id` (the staff room included) up to `seq`,
    /// and returns their position afterwards, which never moves back: a lower `seq` is
    /// accepted and changes nothing. When the position is `seq`, it is pushed as a `read`
    /// frame to the staff member's sockets on this instance, so their other devices update
    /// (other instances push it from their change feed, `Change::Read`).
    /// `NotFound` if the conversation is not in the tenant; `Invalid` (naming `seq`) if `seq`
    /// is beyond its last message.
    pub async fn mark_read(&self, staff: &StaffCaller, id: &str, seq: u64) -> AppResult<u64> {
        let conversation = self.conversation(&Caller::Staff(staff.clone()), id).await?;
        if seq > conversation.last_seq {
            return Err(AppError::Invalid(format!(
                "seq: at most the conversation's last seq ({})",
                conversation.last_seq
            )));
        }
        let stored = self
            .stores
            .reads
            .mark_read(&staff.tenant_id, &staff.staff_id, id, seq)
            .await?;
        if stored == seq {
            self.hub.publish_to_staff(
                &staff.tenant_id,
                &ServerFrame::Read {
                    conversation_id: id.to_owned(),
                    seq,
                },
                |to| to == staff.staff_id,
            );
        }
        Ok(stored)
    }

    /// Every read position `staff` has recorded.
    pub async fn read_positions(&self, staff: &StaffCaller) -> AppResult<Vec<ReadPosition>> {
        Ok(self
            .stores
            .reads
            .read_positions(&staff.tenant_id, &staff.staff_id)
            .await?)
    }
}

/// A message queued for storage by [`Chat::submit_post`].
pub struct PendingPost {
    stored: writer::Stored,
    author_id: String,
}

impl PendingPost {
    /// Waits until the message is durably stored (and, if new, published to everyone who
    /// follows the conversation). Returns the message and whether it is new.
    pub async fn finish(self) -> AppResult<(Message, bool)> {
        match self.stored.wait().await? {
            Appended::Stored(message) => Ok((message, true)),
            Appended::Duplicate(message) if message.author_id == self.author_id => {
                Ok((message, false))
            }
            Appended::Duplicate(_) => {
                // Another author's client id: never reveal or overwrite their message.
                Err(AppError::Conflict(
                    "client_id already used in this conversation".into(),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_short_plain_tokens() {
        assert!(validate_client_id("0190a1b2-c3d4").is_ok());
        assert!(validate_client_id("").is_err());
        assert!(validate_client_id(&"x".repeat(65)).is_err());
        assert!(validate_client_id("has space").is_err());
        assert!(validate_client_id("<script>").is_err());
    }
}
