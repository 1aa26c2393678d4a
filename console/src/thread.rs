//! One conversation's messages as the conversation view shows them: pages of history loaded
//! over REST (older ones as the agent scrolls up), live messages from the socket, and the
//! agent's own replies that are still pending or that failed, merged into one ordered list of
//! [`Line`]s. Pure data, unit-tested natively.

use natter_sdk::client::OutboxEntry;
use natter_sdk::protocol::{AuthorKind, Message, StaffRole, Timestamp};

/// Messages by the same author closer than this are drawn as one group (one name, one time).
const GROUP_GAP_MS: Timestamp = 5 * 60_000;

/// A reply the server refused for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// Its idempotency key.
    pub client_id: String,
    /// What the agent wrote.
    pub text: String,
    /// The server's explanation.
    pub reason: String,
}

/// One row of the conversation view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A stored message.
    Message {
        /// The message.
        message: Message,
        /// The first of a run by the same author (shows the name and time).
        starts_group: bool,
        /// Written by the signed-in staff member (drawn on the right).
        mine: bool,
        /// Written by an owner or admin (the "director" of the staff room, set apart).
        lead: bool,
    },
    /// A reply waiting for the server's acknowledgement.
    Pending {
        /// Its idempotency key.
        client_id: String,
        /// The text.
        text: String,
    },
    /// A reply the server refused.
    Failed(Failed),
}

impl Line {
    /// A key that stays the same while the line is on screen (for keyed rendering). A pending
    /// reply and the stored message it becomes share the `client_id`, but the key changes with
    /// the kind so the row is redrawn.
    pub fn key(&self) -> String {
        match self {
            Line::Message { message, .. } => format!("m{}", message.seq),
            Line::Pending { client_id, .. } => format!("p{client_id}"),
            Line::Failed(failed) => format!("f{}", failed.client_id),
        }
    }
}

/// The loaded part of one conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Thread {
    /// Stored messages in `seq` order, without duplicates.
    messages: Vec<Message>,
    /// The server has messages older than the oldest one loaded.
    pub has_more_before: bool,
    /// The first page arrived.
    pub loaded: bool,
    /// Replies the server refused, shown until dismissed.
    pub failed: Vec<Failed>,
}

impl Thread {
    /// Adds a page of history (any order), as returned by `GET .../messages`; `has_more` is the
    /// page's flag when it was a page of older messages (`before_seq`) or the first page.
    pub fn add_page(&mut self, items: Vec<Message>, has_more_before: bool) {
        for message in items {
            self.insert(message);
        }
        self.has_more_before = has_more_before;
        self.loaded = true;
    }

    /// Adds one live message; duplicates (replays, `sent` and `message` both) are ignored.
    /// Returns whether it was new.
    pub fn insert(&mut self, message: Message) -> bool {
        match self.messages.binary_search_by_key(&message.seq, |m| m.seq) {
            Ok(_) => false,
            Err(at) => {
                self.messages.insert(at, message);
                true
            }
        }
    }

    /// The oldest loaded `seq`, for the next `before_seq` request.
    pub fn oldest_seq(&self) -> Option<u64> {
        self.messages.first().map(|m| m.seq)
    }

    /// The newest loaded `seq` (0 when empty), to follow the conversation live from.
    pub fn newest_seq(&self) -> u64 {
        self.messages.last().map_or(0, |m| m.seq)
    }

    /// How many stored messages are loaded.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Whether no stored message is loaded.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// A refused reply, to show with its reason.
    pub fn fail(&mut self, failed: Failed) {
        if !self.failed.iter().any(|f| f.client_id == failed.client_id) {
            self.failed.push(failed);
        }
    }

    /// Forgets a refused reply (dismissed, or put back in the composer).
    pub fn dismiss(&mut self, client_id: &str) {
        self.failed.retain(|f| f.client_id != client_id);
    }

    /// The rows to draw for the staff member `me`: stored messages, then the pending replies of
    /// this conversation (those not stored yet, in the order written), then the refused ones.
    pub fn lines<'a>(
        &self,
        me: &str,
        pending: impl IntoIterator<Item = &'a OutboxEntry>,
    ) -> Vec<Line> {
        let mut lines = Vec::with_capacity(self.messages.len() + 1);
        let mut previous: Option<&Message> = None;
        for message in &self.messages {
            let starts_group = previous.is_none_or(|p| {
                p.author.kind != message.author.kind
                    || p.author.id != message.author.id
                    || message.created_at - p.created_at > GROUP_GAP_MS
            });
            lines.push(Line::Message {
                message: message.clone(),
                starts_group,
                mine: message.author.kind == AuthorKind::Staff && message.author.id == me,
                lead: message.author.kind == AuthorKind::Staff
                    && matches!(
                        message.author.role,
                        Some(StaffRole::Owner | StaffRole::Admin)
                    ),
            });
            previous = Some(message);
        }
        let stored = |client_id: &str| {
            self.messages
                .iter()
                .rev()
                .any(|m| m.client_id.as_deref() == Some(client_id))
        };
        for entry in pending {
            if !stored(&entry.client_id) {
                lines.push(Line::Pending {
                    client_id: entry.client_id.clone(),
                    text: entry.text.clone(),
                });
            }
        }
        lines.extend(self.failed.iter().cloned().map(Line::Failed));
        lines
    }
}

#[cfg(test)]
mod tests {
    use natter_sdk::protocol::Author;

    use super::*;

    fn message(seq: u64, author: &str, at: Timestamp) -> Message {
        Message {
            id: format!("m{seq}"),
            conversation_id: "c".into(),
            seq,
            client_id: Some(format!("client-{seq}")),
            author: Author {
                kind: if author == "visitor" {
                    AuthorKind::Visitor
                } else {
                    AuthorKind::Staff
                },
                id: author.into(),
                name: Some(author.into()),
                role: None,
            },
            text: format!("text {seq}"),
            created_at: at,
        }
    }

    fn entry(client_id: &str) -> OutboxEntry {
        OutboxEntry {
            client_id: client_id.into(),
            conversation_id: "c".into(),
            text: "pending".into(),
        }
    }

    fn seqs(thread: &Thread) -> Vec<u64> {
        thread
            .lines("me", [])
            .iter()
            .filter_map(|l| match l {
                Line::Message { message, .. } => Some(message.seq),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn pages_and_live_messages_merge_in_seq_order_without_duplicates() {
        let mut thread = Thread::default();
        thread.add_page(
            vec![message(5, "visitor", 0), message(4, "visitor", 0)],
            true,
        );
        assert!(thread.insert(message(6, "me", 0)));
        assert!(!thread.insert(message(6, "me", 0)));
        thread.add_page(
            vec![message(2, "visitor", 0), message(3, "visitor", 0)],
            false,
        );
        assert_eq!(seqs(&thread), [2, 3, 4, 5, 6]);
        assert_eq!(thread.oldest_seq(), Some(2));
        assert_eq!(thread.newest_seq(), 6);
        assert!(!thread.has_more_before);
        assert!(thread.loaded);
    }

    #[test]
    fn a_pending_reply_disappears_once_its_message_is_stored() {
        let mut thread = Thread::default();
        thread.add_page(vec![message(1, "visitor", 0)], false);
        let pending = [entry("client-2"), entry("client-9")];
        let lines = thread.lines("me", &pending);
        assert_eq!(lines.len(), 3);
        thread.insert(message(2, "me", 0));
        let lines = thread.lines("me", &pending);
        let keys: Vec<String> = lines.iter().map(Line::key).collect();
        assert_eq!(keys, ["m1", "m2", "pclient-9"]);
    }

    #[test]
    fn runs_by_one_author_are_grouped_and_mine_are_marked() {
        let mut thread = Thread::default();
        thread.add_page(
            vec![
                message(1, "visitor", 0),
                message(2, "visitor", 60_000),
                message(3, "me", 70_000),
                message(4, "me", 70_000 + GROUP_GAP_MS + 1),
            ],
            false,
        );
        let flags: Vec<(bool, bool)> = thread
            .lines("me", [])
            .iter()
            .map(|l| match l {
                Line::Message {
                    starts_group, mine, ..
                } => (*starts_group, *mine),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            flags,
            [(true, false), (false, false), (true, true), (true, true)]
        );
    }

    #[test]
    fn messages_of_owners_and_admins_are_marked_as_from_a_lead() {
        let mut thread = Thread::default();
        let mut owner = message(1, "boss", 0);
        owner.author.role = Some(StaffRole::Owner);
        let mut agent = message(2, "ada", 0);
        agent.author.role = Some(StaffRole::Agent);
        thread.add_page(vec![owner, agent], false);
        let leads: Vec<bool> = thread
            .lines("me", [])
            .iter()
            .map(|l| matches!(l, Line::Message { lead: true, .. }))
            .collect();
        assert_eq!(leads, [true, false]);
    }

    #[test]
    fn refused_replies_stay_until_dismissed() {
        let mut thread = Thread::default();
        let failed = Failed {
            client_id: "x".into(),
            text: "hello".into(),
            reason: "conversation closed".into(),
        };
        thread.fail(failed.clone());
        thread.fail(failed.clone());
        assert_eq!(thread.lines("me", []), [Line::Failed(failed)]);
        thread.dismiss("x");
        assert!(thread.lines("me", []).is_empty());
    }
}
