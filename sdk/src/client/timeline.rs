//! Resume cursors and in-order, exactly-once delivery of messages.
//!
//! Per conversation the core remembers the highest `seq` it has delivered with no gap before it
//! (the cursor). A message at `cursor + 1` is delivered at once, together with any buffered
//! successors; a message at or below the cursor is a duplicate and dropped; a message further
//! ahead is buffered and reported as a gap, which the core fills with a `sync`. Since the cursor
//! only ever grows, no `seq` is delivered twice or out of order, whatever the server sends.

use alloc::string::String;
use alloc::vec::Vec;

use super::sorted_map::SortedMap;
use super::{ClientEvent, Queue};

use crate::protocol::{Cursor, Message, RequestId};

/// After this many syncs in a row that did not fill a conversation's gap, the core stops
/// re-syncing it on its own (the next gap or reconnect tries again). This only guards against a
/// server that cannot replay what it announced; a correct server fills every gap in one sync.
const MAX_FRUITLESS_SYNCS: u8 = 3;

#[derive(Debug, Clone, Default)]
struct Timeline {
    /// Highest `seq` delivered contiguously.
    cursor: u64,
    /// Messages received ahead of a gap, by descending `seq` so that the next one to deliver
    /// is popped off the end; every `seq` is above `cursor + 1`. A sorted `Vec` of its own
    /// rather than a `SortedMap` keyed by `seq`: ~0.1 KB less gzip in the widget's wasm, which
    /// then compiles the map for one entry type only.
    buffer: Vec<Message>,
    /// The `sync` request currently filling this conversation, on the current connection.
    syncing: Option<RequestId>,
    /// The cursor when that sync was sent, to tell whether it made progress.
    cursor_at_sync: u64,
    /// Syncs in a row that left a gap without advancing the cursor.
    fruitless_syncs: u8,
}

impl Timeline {
    /// Delivers the buffered messages that follow the cursor without a gap.
    fn drain_contiguous(&mut self, events: &mut Queue<ClientEvent>) {
        while let Some(next) = self.buffer.pop_if(|next| next.seq == self.cursor + 1) {
            self.cursor = next.seq;
            events.push_back(ClientEvent::Message(next));
        }
    }
}

/// How a sync ended for one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SyncOutcome {
    /// No gap is left (or the sync was not this conversation's).
    Complete,
    /// A gap is left; sync again.
    Retry,
    /// A gap is left after several syncs that did not help; stop trying for now.
    GiveUp,
}

/// Cursors and buffers of every conversation the core knows about.
#[derive(Debug, Clone, Default)]
pub(crate) struct Timelines {
    conversations: SortedMap<Timeline>,
}

impl Timelines {
    /// Whether the conversation is tracked.
    pub(crate) fn knows(&self, conversation_id: &str) -> bool {
        self.conversations.contains_key(conversation_id)
    }

    /// The cursor of a tracked conversation.
    pub(crate) fn cursor(&self, conversation_id: &str) -> Option<u64> {
        self.conversations.get(conversation_id).map(|t| t.cursor)
    }

    /// The resume cursor of every tracked conversation, ordered by conversation id.
    pub(crate) fn cursors(&self) -> Vec<Cursor> {
        let mut cursors = Vec::new();
        for (id, timeline) in self.conversations.iter() {
            cursors.push(Cursor {
                conversation_id: id.clone(),
                after_seq: timeline.cursor,
            });
        }
        cursors
    }

    /// Ids of tracked conversations that no sync is filling right now.
    pub(crate) fn idle_conversations(&self) -> Vec<String> {
        // Loops rather than iterator chains and `collect`, here and above: smaller wasm.
        let mut idle = Vec::new();
        for (id, timeline) in self.conversations.iter() {
            if timeline.syncing.is_none() {
                idle.push(id.clone());
            }
        }
        idle
    }

    /// Starts tracking a conversation at `cursor` unless it is tracked already.
    pub(crate) fn register(&mut self, conversation_id: &str, cursor: u64) {
        self.timeline(conversation_id, cursor);
    }

    /// A conversation's timeline, tracked from `cursor` first if it was not. One lookup where a
    /// registration followed by a lookup took two.
    fn timeline(&mut self, conversation_id: &str, cursor: u64) -> Option<&mut Timeline> {
        self.conversations
            .get_or_insert_with(conversation_id, || Timeline {
                cursor,
                ..Timeline::default()
            })
    }

    /// Stops tracking a conversation (it is gone or no longer visible).
    pub(crate) fn forget(&mut self, conversation_id: &str) {
        self.conversations.remove(conversation_id);
    }

    /// Moves a conversation's cursor up to `seq` (never down, so nothing is delivered twice) and
    /// delivers the buffered messages that became deliverable, as events.
    ///
    /// Here and in `ingest`, delivered messages go straight into the core's event queue rather
    /// than into a list the core then turned into events: ~0.24 KB less zopfli gzip of the
    /// widget's wasm.
    pub(crate) fn raise(
        &mut self,
        conversation_id: &str,
        seq: u64,
        events: &mut Queue<ClientEvent>,
    ) {
        if let Some(timeline) = self.timeline(conversation_id, seq)
            && seq > timeline.cursor
        {
            timeline.cursor = seq;
            // Drop what the new cursor covers: the tail, from the first `seq` at or below it.
            let covered = timeline.buffer.iter().position(|m| m.seq <= seq);
            timeline
                .buffer
                .truncate(covered.unwrap_or(timeline.buffer.len()));
            timeline.drain_contiguous(events);
        }
    }

    /// Takes one message from the server and delivers what is now in order, as events.
    /// `baseline` is the cursor given to a conversation seen for the first time; at most
    /// `max_buffered` messages wait behind a gap (later ones are dropped: the sync that fills the
    /// gap replays them anyway). Returns the conversation's id when the message revealed a gap
    /// that no sync is filling yet (copied only then rather than for every message: ~10 B less
    /// zopfli gzip of the widget's wasm).
    pub(crate) fn ingest(
        &mut self,
        message: Message,
        baseline: u64,
        max_buffered: usize,
        events: &mut Queue<ClientEvent>,
    ) -> Option<String> {
        let timeline = self.timeline(&message.conversation_id, baseline)?;
        if message.seq <= timeline.cursor {
            return None;
        }
        if message.seq == timeline.cursor + 1 {
            timeline.cursor = message.seq;
            events.push_back(ClientEvent::Message(message));
            timeline.drain_contiguous(events);
            return None;
        }
        let gap = timeline
            .syncing
            .is_none()
            .then(|| message.conversation_id.clone());
        // Replaces an earlier copy of this `seq`; a new one only if there is room.
        match timeline
            .buffer
            .binary_search_by(|buffered| message.seq.cmp(&buffered.seq))
        {
            Ok(index) => {
                if let Some(buffered) = timeline.buffer.get_mut(index) {
                    *buffered = message;
                }
            }
            Err(index) if timeline.buffer.len() < max_buffered => {
                timeline.buffer.insert(index, message);
            }
            Err(_) => {}
        }
        gap
    }

    /// Records that request `id` syncs these conversations and returns their cursors (0 for
    /// one that is not tracked).
    pub(crate) fn start_sync(&mut self, conversations: &[String], id: RequestId) -> Vec<Cursor> {
        let mut cursors = Vec::new();
        for conversation_id in conversations {
            let mut after_seq = 0;
            if let Some(timeline) = self.conversations.get_mut(conversation_id) {
                timeline.syncing = Some(id);
                timeline.cursor_at_sync = timeline.cursor;
                after_seq = timeline.cursor;
            }
            cursors.push(Cursor {
                conversation_id: conversation_id.clone(),
                after_seq,
            });
        }
        cursors
    }

    /// The server answered sync request `id`; says whether the conversation needs another one.
    pub(crate) fn sync_finished(&mut self, conversation_id: &str, id: RequestId) -> SyncOutcome {
        let Some(timeline) = self.conversations.get_mut(conversation_id) else {
            return SyncOutcome::Complete;
        };
        if timeline.syncing != Some(id) {
            return SyncOutcome::Complete;
        }
        timeline.syncing = None;
        if timeline.buffer.is_empty() || timeline.cursor > timeline.cursor_at_sync {
            timeline.fruitless_syncs = 0;
            return if timeline.buffer.is_empty() {
                SyncOutcome::Complete
            } else {
                SyncOutcome::Retry
            };
        }
        timeline.fruitless_syncs += 1;
        if timeline.fruitless_syncs < MAX_FRUITLESS_SYNCS {
            SyncOutcome::Retry
        } else {
            timeline.fruitless_syncs = 0;
            SyncOutcome::GiveUp
        }
    }

    /// Sync request `id` failed; its conversations are no longer being filled.
    pub(crate) fn sync_failed(&mut self, id: RequestId) {
        for timeline in self.conversations.values_mut() {
            if timeline.syncing == Some(id) {
                timeline.syncing = None;
            }
        }
    }

    /// The connection ended: no sync is in flight any more. Buffered messages stay; they are
    /// real messages and the next connection's sync fills the gaps before them.
    pub(crate) fn connection_lost(&mut self) {
        for timeline in self.conversations.values_mut() {
            timeline.syncing = None;
        }
    }
}
