//! When to tell the server how far the staff member has read (`PUT /v1/conversations/{id}/read`):
//! at once for the first change, then at most once per [`MIN_INTERVAL_MS`] per conversation
//! while messages keep arriving in an open conversation, always with the furthest position, and
//! never for a position the server already has (from `GET /v1/read-positions`, a `read` frame
//! from another device, or an earlier answer). Pure data with the time passed in, so it is
//! unit-tested natively; the glue in `store` does the calls and ticks it every second.

use std::collections::HashMap;

/// The shortest time between two calls for one conversation.
pub const MIN_INTERVAL_MS: u64 = 1_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Entry {
    /// The server is known to have at least this.
    confirmed: u64,
    /// The furthest position sent (answered or not).
    sent: u64,
    /// When the last call went out.
    sent_at: Option<u64>,
    /// A position waiting for the interval to pass.
    pending: Option<u64>,
}

/// Read positions on their way to the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadSync {
    entries: HashMap<String, Entry>,
}

impl ReadSync {
    /// The staff member has read `id` up to `seq` at `now` (milliseconds). Returns the position
    /// to send now, or `None` when there is nothing new for the server or it must wait (then
    /// [`ReadSync::due`] returns it later).
    pub fn read(&mut self, id: &str, seq: u64, now: u64) -> Option<u64> {
        let entry = self.entries.entry(id.to_owned()).or_default();
        let target = seq.max(entry.pending.unwrap_or(0));
        if target <= entry.confirmed.max(entry.sent) {
            entry.pending = None;
            return None;
        }
        if entry
            .sent_at
            .is_some_and(|at| now < at.saturating_add(MIN_INTERVAL_MS))
        {
            entry.pending = Some(target);
            return None;
        }
        entry.sent = target;
        entry.sent_at = Some(now);
        entry.pending = None;
        Some(target)
    }

    /// The positions whose wait is over at `now`, to send (sorted by conversation id).
    pub fn due(&mut self, now: u64) -> Vec<(String, u64)> {
        let mut waiting: Vec<(String, u64)> = self
            .entries
            .iter()
            .filter_map(|(id, e)| e.pending.map(|seq| (id.clone(), seq)))
            .collect();
        waiting.sort();
        waiting
            .into_iter()
            .filter_map(|(id, seq)| self.read(&id, seq, now).map(|seq| (id, seq)))
            .collect()
    }

    /// The server has at least `seq` for `id` (its answer, a `read` frame, the initial load).
    pub fn known(&mut self, id: &str, seq: u64) {
        let entry = self.entries.entry(id.to_owned()).or_default();
        entry.confirmed = entry.confirmed.max(seq);
        if entry.pending.is_some_and(|p| p <= entry.confirmed) {
            entry.pending = None;
        }
    }

    /// Sending `seq` for `id` failed. With `retry` (the network or the server was unavailable)
    /// it is sent again once the interval has passed; without (the server refused it) it is
    /// dropped, so a refused position is not sent over and over.
    pub fn failed(&mut self, id: &str, seq: u64, retry: bool) {
        let entry = self.entries.entry(id.to_owned()).or_default();
        if entry.sent == seq {
            entry.sent = entry.confirmed;
        }
        if retry && seq > entry.confirmed {
            entry.pending = Some(entry.pending.unwrap_or(0).max(seq));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_read_goes_out_at_once_and_later_ones_at_most_once_a_second() {
        let mut sync = ReadSync::default();
        assert_eq!(sync.read("c1", 3, 10_000), Some(3));
        assert_eq!(sync.read("c1", 4, 10_200), None, "too soon");
        assert_eq!(sync.read("c1", 6, 10_500), None, "still too soon");
        assert_eq!(sync.due(10_900), vec![]);
        assert_eq!(sync.due(11_000), vec![("c1".to_owned(), 6)], "the furthest");
        assert_eq!(sync.due(12_500), vec![], "sent once");
        // Another conversation has its own interval.
        assert_eq!(sync.read("c2", 1, 11_100), Some(1));
    }

    #[test]
    fn positions_the_server_has_are_never_sent() {
        let mut sync = ReadSync::default();
        sync.known("c1", 5);
        assert_eq!(sync.read("c1", 5, 0), None);
        assert_eq!(sync.read("c1", 2, 0), None);
        assert_eq!(sync.read("c1", 7, 0), Some(7));
        assert_eq!(sync.read("c1", 7, 5_000), None, "already sent");
        // Waiting to be sent, then another device reads further: nothing left to send.
        assert_eq!(sync.read("c1", 9, 5_100), Some(9));
        assert_eq!(sync.read("c1", 10, 5_200), None);
        sync.known("c1", 12);
        assert_eq!(sync.due(9_000), vec![]);
    }

    #[test]
    fn a_failed_call_is_retried_unless_the_server_refused_it() {
        let mut sync = ReadSync::default();
        assert_eq!(sync.read("c1", 3, 0), Some(3));
        sync.failed("c1", 3, true);
        assert_eq!(sync.due(500), vec![]);
        assert_eq!(sync.due(1_000), vec![("c1".to_owned(), 3)]);
        sync.failed("c1", 3, false);
        assert_eq!(sync.due(5_000), vec![], "refused: dropped");
        assert_eq!(
            sync.read("c1", 4, 5_000),
            Some(4),
            "a new position still goes"
        );
        sync.known("c1", 4);
        sync.failed("c1", 4, true);
        assert_eq!(sync.due(9_000), vec![], "the server had it after all");
    }
}
