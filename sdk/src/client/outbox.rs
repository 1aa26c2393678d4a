//! The outbox: messages the user wrote that the server has not acknowledged yet.
//!
//! Entries keep the order they were written in. An entry leaves the outbox only when the server
//! acknowledges its `client_id` (a `sent` answer or a `message` frame carrying it) or refuses it
//! permanently; a dropped connection never loses one. Because the server stores a
//! `(conversation_id, client_id)` pair once, resending an entry after a reconnect is always safe.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::protocol::RequestId;

/// A message waiting for the server's acknowledgement, as plain data so that a page can persist
/// it (for example in `localStorage`) and restore it after a reload with
/// [`ClientCore::import_outbox`](super::ClientCore::import_outbox).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The idempotency key sent with every attempt; the server stores the message once per key.
    pub client_id: String,
    /// The conversation it is posted to.
    pub conversation_id: String,
    /// The text, already validated with [`crate::protocol::validate_text`].
    pub text: String,
}

/// One entry plus the bookkeeping of the current connection.
#[derive(Debug, Clone)]
struct Slot {
    entry: OutboxEntry,
    /// The `send` request carrying this entry on the current connection, if one is in flight.
    in_flight: Option<RequestId>,
    /// After a transient refusal (rate limited, unavailable): when to try again on this
    /// connection. A reconnect resends regardless.
    retry_at: Option<u64>,
    /// Transient refusals in a row, for the retry delay.
    transient_failures: u32,
}

/// The ordered set of unacknowledged entries.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outbox {
    slots: Vec<Slot>,
}

impl Outbox {
    /// Appends an entry unless one with the same `client_id` is already waiting.
    /// Returns whether it was added.
    pub(crate) fn push(&mut self, entry: OutboxEntry) -> bool {
        if self.contains(&entry.client_id) {
            return false;
        }
        self.slots.push(Slot {
            entry,
            in_flight: None,
            retry_at: None,
            transient_failures: 0,
        });
        true
    }

    /// Whether an entry with this `client_id` is waiting.
    pub(crate) fn contains(&self, client_id: &str) -> bool {
        self.slots.iter().any(|s| s.entry.client_id == client_id)
    }

    /// Removes and returns the entry with this `client_id` (it was acknowledged or refused), if
    /// it was written for `conversation_id` when one is given (an acknowledgement names both).
    /// One lookup for both checks rather than a lookup of the conversation, then another to
    /// remove: ~25 B less zopfli gzip of the widget's wasm.
    pub(crate) fn remove(
        &mut self,
        client_id: &str,
        conversation_id: Option<&str>,
    ) -> Option<OutboxEntry> {
        let index = self.slots.iter().position(|s| {
            s.entry.client_id == client_id
                && conversation_id.is_none_or(|id| s.entry.conversation_id == id)
        })?;
        Some(self.slots.remove(index).entry)
    }

    /// The waiting entries, oldest first.
    pub(crate) fn entries(&self) -> impl ExactSizeIterator<Item = &OutboxEntry> {
        self.slots.iter().map(|s| &s.entry)
    }

    /// Number of waiting entries.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Forgets everything tied to the connection that just ended: nothing is in flight any more
    /// and pending retries will happen on the next connection.
    pub(crate) fn connection_lost(&mut self) {
        for slot in &mut self.slots {
            slot.in_flight = None;
            slot.retry_at = None;
        }
    }

    /// The first entry from position `index` on that should be sent now (not in flight and not
    /// waiting for a retry time later than `now`), copied; `index` moves past it. Called until
    /// it returns `None`, it yields the due entries oldest first.
    pub(crate) fn next_due(&self, index: &mut usize, now: u64) -> Option<OutboxEntry> {
        while let Some(slot) = self.slots.get(*index) {
            *index += 1;
            if slot.in_flight.is_none() && slot.retry_at.is_none_or(|at| at <= now) {
                return Some(slot.entry.clone());
            }
        }
        None
    }

    /// Records that `client_id` went out in request `id`.
    pub(crate) fn mark_in_flight(&mut self, client_id: &str, id: RequestId) {
        if let Some(slot) = self.slot_mut(client_id) {
            slot.in_flight = Some(id);
            slot.retry_at = None;
        }
    }

    /// Records a transient refusal. The entry stays, to be sent again at the time `retry_at`
    /// computes from the number of transient refusals in a row (at least 1).
    pub(crate) fn transient_failure(&mut self, client_id: &str, retry_at: impl FnOnce(u32) -> u64) {
        if let Some(slot) = self.slot_mut(client_id) {
            slot.transient_failures = slot.transient_failures.saturating_add(1);
            slot.in_flight = None;
            slot.retry_at = Some(retry_at(slot.transient_failures));
        }
    }

    /// The earliest pending retry time, if any.
    pub(crate) fn next_retry(&self) -> Option<u64> {
        // A loop rather than `filter`, `filter_map` and `min`, like the ones in `timeline.rs` and
        // `ClientCore::send_sync` instead of iterator chains: ~0.5 KB gzip less wasm together.
        let mut next = None;
        for slot in &self.slots {
            if slot.in_flight.is_none() {
                next = super::earliest(next, slot.retry_at);
            }
        }
        next
    }

    fn slot_mut(&mut self, client_id: &str) -> Option<&mut Slot> {
        self.slots
            .iter_mut()
            .find(|s| s.entry.client_id == client_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str) -> OutboxEntry {
        OutboxEntry {
            client_id: id.into(),
            conversation_id: "c".into(),
            text: "hi".into(),
        }
    }

    #[test]
    fn a_client_id_is_queued_once_and_order_is_kept() {
        let mut outbox = Outbox::default();
        assert!(outbox.push(entry("a")));
        assert!(outbox.push(entry("b")));
        assert!(!outbox.push(entry("a")));
        let ids: Vec<&str> = outbox.entries().map(|e| e.client_id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
    }

    /// Every entry `next_due` yields, in order.
    fn due(outbox: &Outbox, now: u64) -> Vec<OutboxEntry> {
        let (mut index, mut due) = (0, Vec::new());
        while let Some(entry) = outbox.next_due(&mut index, now) {
            due.push(entry);
        }
        due
    }

    #[test]
    fn in_flight_and_retrying_entries_are_not_due_until_the_connection_is_lost() {
        let mut outbox = Outbox::default();
        outbox.push(entry("a"));
        outbox.push(entry("b"));
        outbox.mark_in_flight("a", 1);
        outbox.mark_in_flight("b", 2);
        outbox.transient_failure("b", |n| 100 * u64::from(n));
        assert!(due(&outbox, 50).is_empty());
        assert_eq!(outbox.next_retry(), Some(100));
        assert_eq!(due(&outbox, 100), [entry("b")]);
        outbox.connection_lost();
        assert_eq!(due(&outbox, 0), [entry("a"), entry("b")]);
    }
}
