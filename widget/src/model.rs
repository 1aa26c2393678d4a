//! The widget's view state, as plain data: what the visitor sees, with no DOM and no I/O.
//!
//! The browser driver (`session`) turns the client core's events into calls on [`Model`]; the
//! `ui` module draws whatever [`Model`] holds. Everything that decides something (where a
//! message goes in the list, when a line starts a new group, when the unread badge counts) lives
//! here, so it is unit-tested natively without a browser.

use crate::i18n::Texts;
use crate::prelude::*;
use natter_sdk::protocol::{AgentCard, AuthorKind, Message};

/// Two messages of the same author closer than this share one group (one name, one avatar).
pub const GROUP_GAP_MS: i64 = 5 * 60 * 1000;

/// The languages the widget speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    /// English, the fallback.
    #[default]
    En,
    /// French.
    Fr,
    /// Russian.
    Ru,
    /// Portuguese.
    Pt,
}

impl Locale {
    /// The locale for a BCP 47 tag such as `fr-CA` or `pt_BR`, if the widget speaks it.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        // Byte by byte rather than `split` and `to_ascii_lowercase`: ~0.3 KB less wasm, 0.1 KB
        // gzipped. `| 0x20` lowercases an ASCII letter, and only its two cases turn into it.
        let ([first, second], rest) = tag.as_bytes().split_first_chunk::<2>()?;
        if !matches!(rest.first(), None | Some(b'-' | b'_')) {
            return None;
        }
        match [first | 0x20, second | 0x20] {
            [b'e', b'n'] => Some(Locale::En),
            [b'f', b'r'] => Some(Locale::Fr),
            [b'r', b'u'] => Some(Locale::Ru),
            [b'p', b't'] => Some(Locale::Pt),
            _ => None,
        }
    }

    /// The first supported locale among the browser's preferences, else English.
    pub fn negotiate(preferred: impl IntoIterator<Item = impl AsRef<str>>) -> Locale {
        preferred
            .into_iter()
            .find_map(|tag| Locale::from_tag(tag.as_ref()))
            .unwrap_or_default()
    }

    /// The locale numbered `index` (`locale as u32`), for answers tagged with it; English for
    /// any other number.
    pub fn from_index(index: u32) -> Locale {
        match index {
            1 => Locale::Fr,
            2 => Locale::Ru,
            3 => Locale::Pt,
            _ => Locale::En,
        }
    }

    /// The BCP 47 tag, for `lang` attributes and `Intl` formatting.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Fr => "fr",
            Locale::Ru => "ru",
            Locale::Pt => "pt",
        }
    }
}

/// The tenant's appearance settings, as the widget applies them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appearance {
    /// Accent colour, `#rrggbb`.
    pub color: String,
    /// Launcher and panel on the left of the page instead of the right.
    pub left: bool,
    /// The greeting shown at the top of the panel; `None` for the localized default.
    pub greeting: Option<String>,
    /// Text beside the launcher icon; `None` for an icon-only launcher.
    pub launcher_text: Option<String>,
    /// Panel title; `None` for the site name.
    pub title: Option<String>,
    /// The site's display name.
    pub site_name: String,
}

impl Default for Appearance {
    fn default() -> Self {
        Self {
            color: "#4f46e5".into(),
            left: false,
            greeting: None,
            launcher_text: None,
            title: None,
            site_name: String::new(),
        }
    }
}

/// The connection as the visitor should understand it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Connection {
    /// Not started yet (the visitor has not opened the panel or written).
    #[default]
    Idle,
    /// Opening the first connection.
    Connecting,
    /// Live.
    Online,
    /// The connection dropped; the next attempt is at `retry_at` (epoch milliseconds, for a
    /// countdown). `server_down` when the server itself could not be reached for a while.
    Reconnecting {
        /// Wall-clock time of the next attempt.
        retry_at: i64,
        /// Several attempts in a row failed: the server looks unavailable, not just a blip.
        server_down: bool,
    },
    /// The browser reports no network.
    Offline,
    /// The server refused this page or visitor for good (origin not allowed, identity required,
    /// unknown site key). The widget cannot work here.
    Refused,
}

/// Where the visitor's conversation stands with routing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Routing {
    /// Nothing known yet (no conversation, or no routing news).
    #[default]
    None,
    /// Waiting in line.
    Queued {
        /// 1 = next.
        position: u32,
        /// Estimated wait, when the server has one.
        estimated_wait_ms: Option<u64>,
    },
    /// Nobody is available; the message is kept for later.
    Away {
        /// The tenant's away message.
        message: String,
    },
    /// An advisor handles the conversation.
    Assigned {
        /// Who.
        agent: AgentCard,
    },
    /// The conversation was closed; the next message starts a new one.
    Closed,
}

/// Who wrote a line, from the visitor's point of view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Side {
    /// The visitor (this browser, another tab, or another device of theirs).
    Visitor,
    /// An advisor.
    Agent {
        /// Their id, for grouping.
        id: String,
        /// Display name.
        name: Option<String>,
    },
    /// natter itself.
    System,
}

/// Delivery state of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Written, not acknowledged by the server yet; goes out by itself.
    Pending,
    /// Stored by the server.
    Sent,
    /// Refused for good (too long, conversation closed, ...).
    Failed,
}

/// One line of the message list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Stable identity for the UI: the `client_id` when there is one, else the message id.
    pub key: String,
    /// The server's message id once stored.
    pub id: Option<String>,
    /// Position in the conversation once stored.
    pub seq: Option<u64>,
    /// Who wrote it.
    pub side: Side,
    /// The text, rendered as text (never HTML).
    pub text: String,
    /// Epoch milliseconds: when written (pending) or stored.
    pub at: i64,
    /// Pending, sent or failed.
    pub delivery: Delivery,
}

/// Everything the panel shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Model {
    /// The panel is open.
    pub open: bool,
    /// The language of the interface, as asked for.
    pub locale: Locale,
    /// The texts the interface shows: those of `locale` once fetched (until then, those of the
    /// language shown before, if any). Nothing is drawn before the first texts arrive.
    pub texts: Option<Texts>,
    /// The tenant's look.
    pub appearance: Appearance,
    /// Connection status.
    pub connection: Connection,
    /// The conversation shown, once one exists.
    pub conversation_id: Option<String>,
    /// The message list, in order: stored lines by `seq`, then pending ones in writing order.
    pub lines: Vec<Line>,
    /// Advisor messages the visitor has not seen.
    pub unread: u32,
    /// The advisor currently typing, by name (empty name: unknown).
    pub agent_typing: Option<String>,
    /// Routing status.
    pub routing: Routing,
}

impl Model {
    /// Adds a line the visitor just wrote (or one restored from the persisted outbox).
    pub fn push_pending(&mut self, client_id: &str, text: &str, at: i64) {
        if self.lines.iter().any(|l| l.key == client_id) {
            return;
        }
        self.lines.push(Line {
            key: client_id.to_owned(),
            id: None,
            seq: None,
            side: Side::Visitor,
            text: text.to_owned(),
            at,
            delivery: Delivery::Pending,
        });
    }

    /// A stored message arrived (replayed, pushed, or the acknowledgement of our own). Returns
    /// `None` when it changes nothing visible (an echo, or another conversation's message),
    /// else `Some(from_advisor)`: it was stored now (our pending line became sent, or a new line
    /// appeared), and whether an advisor wrote it.
    ///
    /// `visible` says whether the visitor can see the panel right now; unseen advisor messages
    /// count as unread.
    pub fn message_stored(&mut self, message: &Message, visible: bool) -> Option<bool> {
        if self.conversation_id.as_deref() != Some(message.conversation_id.as_str()) {
            // A message of an older (closed) conversation, or of a newer one: show the newest.
            match &self.conversation_id {
                None => self.conversation_id = Some(message.conversation_id.clone()),
                Some(_) => return None,
            }
        }
        let key = message.client_id.as_deref().unwrap_or(&message.id);
        let side = match message.author.kind {
            AuthorKind::Visitor => Side::Visitor,
            AuthorKind::Staff => Side::Agent {
                id: message.author.id.clone(),
                name: message.author.name.clone(),
            },
            AuthorKind::System => Side::System,
        };
        let stored = Line {
            key: key.to_owned(),
            id: Some(message.id.clone()),
            seq: Some(message.seq),
            side,
            text: message.text.clone(),
            at: message.created_at,
            delivery: Delivery::Sent,
        };
        // Our own pending line (or an earlier copy): replace it in place, then move it to its
        // seq position if other messages were stored in between.
        if let Some(index) = self
            .lines
            .iter()
            .position(|l| l.key == stored.key || (l.seq.is_some() && l.seq == stored.seq))
        {
            // Read from the removed line: indexing first added a bounds check, wasm +6 B gzip.
            let was_pending = self.lines.remove(index).delivery != Delivery::Sent;
            self.insert_stored(stored);
            return was_pending.then_some(false);
        }
        let from_agent = matches!(stored.side, Side::Agent { .. });
        if from_agent {
            self.agent_typing = None;
            if !visible {
                self.unread += 1;
            }
        }
        self.insert_stored(stored);
        Some(from_agent)
    }

    /// Inserts a stored line after every stored line with a lower `seq` and before pending ones.
    fn insert_stored(&mut self, line: Line) {
        let seq = line.seq.unwrap_or(0);
        let index = self
            .lines
            .iter()
            .position(|l| match l.seq {
                Some(s) => s > seq,
                None => true,
            })
            .unwrap_or(self.lines.len());
        self.lines.insert(index, line);
    }

    /// The server refused a pending line for good.
    pub fn send_failed(&mut self, client_id: &str) {
        if let Some(line) = self.lines.iter_mut().find(|l| l.key == client_id) {
            line.delivery = Delivery::Failed;
        }
    }

    /// Removes a failed line (the visitor dismissed it or will retry with a new text).
    pub fn dismiss(&mut self, key: &str) {
        self.lines
            .retain(|l| !(l.key == key && l.delivery == Delivery::Failed));
    }

    /// Opens or closes the panel; opening marks everything read.
    pub fn set_open(&mut self, open: bool) {
        self.open = open;
        if open {
            self.unread = 0;
        }
    }

    /// The visitor saw the panel (it is open and the page is visible again).
    pub fn mark_read(&mut self) {
        self.unread = 0;
    }

    /// An advisor started or stopped typing.
    pub fn agent_typing(&mut self, name: Option<&str>, typing: bool) {
        self.agent_typing = typing.then(|| name.unwrap_or_default().to_owned());
    }

    /// The conversation was closed (or a new one replaces it): the next message starts afresh,
    /// but the visible history stays until the visitor writes again.
    pub fn conversation_closed(&mut self) {
        self.routing = Routing::Closed;
        self.agent_typing = None;
    }

    /// A new conversation starts: forget the previous one's lines except what is pending.
    pub fn conversation_started(&mut self, conversation_id: &str) {
        if self.conversation_id.as_deref() == Some(conversation_id) {
            return;
        }
        self.conversation_id = Some(conversation_id.to_owned());
        self.lines.retain(|l| l.delivery == Delivery::Pending);
        self.routing = Routing::None;
        self.agent_typing = None;
    }

    /// Whether line `index` starts a new group: a different author than the line before, or a
    /// long pause since it.
    pub fn starts_group(&self, index: usize) -> bool {
        let Some(line) = self.lines.get(index) else {
            return false;
        };
        let Some(previous) = index.checked_sub(1).and_then(|i| self.lines.get(i)) else {
            return true;
        };
        previous.side != line.side || line.at - previous.at > GROUP_GAP_MS
    }

    /// Whether line `index` needs a day separator above it (first line, or a different local
    /// day than the previous line). `utc_offset_ms` is the visitor's offset from UTC.
    pub fn starts_day(&self, index: usize, utc_offset_ms: i64) -> bool {
        const DAY: i64 = 24 * 60 * 60 * 1000;
        let Some(line) = self.lines.get(index) else {
            return false;
        };
        match index.checked_sub(1).and_then(|i| self.lines.get(i)) {
            None => true,
            Some(previous) => {
                (previous.at + utc_offset_ms).div_euclid(DAY)
                    != (line.at + utc_offset_ms).div_euclid(DAY)
            }
        }
    }

    /// Lines still waiting for the server.
    pub fn pending_count(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| l.delivery == Delivery::Pending)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_sdk::protocol::Author;

    fn message(seq: u64, kind: AuthorKind, client_id: Option<&str>, text: &str) -> Message {
        Message {
            id: format!("m{seq}"),
            conversation_id: "c1".into(),
            seq,
            client_id: client_id.map(str::to_owned),
            author: Author {
                kind,
                id: if kind == AuthorKind::Staff {
                    "a1"
                } else {
                    "v1"
                }
                .into(),
                name: Some("Ada".into()),
                role: None,
            },
            text: text.into(),
            created_at: 1_000 * seq as i64,
        }
    }

    fn model() -> Model {
        Model {
            conversation_id: Some("c1".into()),
            ..Model::default()
        }
    }

    #[test]
    fn a_browser_locale_picks_the_first_supported_language() {
        assert_eq!(Locale::negotiate(["de-DE", "pt-BR", "fr"]), Locale::Pt);
        assert_eq!(Locale::negotiate(["de"]), Locale::En);
        assert_eq!(Locale::from_tag("RU_ru"), Some(Locale::Ru));
        assert_eq!(Locale::from_tag("Fr"), Some(Locale::Fr));
        assert_eq!(Locale::from_tag("pt-BR"), Some(Locale::Pt));
        for unknown in [
            "", "e", "eng", "english", "en.US", "es", "e\u{e9}", "\u{e9}n",
        ] {
            assert_eq!(Locale::from_tag(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn a_locale_comes_back_from_its_number() {
        for locale in [Locale::En, Locale::Fr, Locale::Ru, Locale::Pt] {
            assert_eq!(Locale::from_index(locale as u32), locale);
        }
        assert_eq!(Locale::from_index(7), Locale::En);
    }

    #[test]
    fn an_acknowledged_message_replaces_its_pending_line_without_duplicating_it() {
        let mut m = model();
        m.push_pending("k1", "hello", 5);
        assert_eq!(m.pending_count(), 1);
        let stored = m.message_stored(&message(1, AuthorKind::Visitor, Some("k1"), "hello"), true);
        assert_eq!(stored, Some(false));
        assert_eq!(m.lines.len(), 1);
        assert_eq!(m.lines[0].delivery, Delivery::Sent);
        // The echo of the same message on the socket changes nothing.
        let echo = m.message_stored(&message(1, AuthorKind::Visitor, Some("k1"), "hello"), true);
        assert_eq!(echo, None);
        assert_eq!(m.lines.len(), 1);
    }

    #[test]
    fn stored_lines_stay_in_seq_order_and_pending_ones_stay_last() {
        let mut m = model();
        m.push_pending("k9", "still pending", 1);
        m.message_stored(&message(2, AuthorKind::Staff, None, "two"), true);
        m.message_stored(&message(1, AuthorKind::Visitor, Some("k1"), "one"), true);
        let order: Vec<_> = m.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(order, ["one", "two", "still pending"]);
    }

    #[test]
    fn advisor_messages_count_as_unread_only_while_the_panel_is_not_visible() {
        let mut m = model();
        assert_eq!(
            m.message_stored(&message(1, AuthorKind::Staff, None, "hi"), false),
            Some(true)
        );
        assert_eq!(
            m.message_stored(&message(2, AuthorKind::Staff, None, "there"), false),
            Some(true)
        );
        m.message_stored(&message(3, AuthorKind::Visitor, Some("k"), "me"), false);
        assert_eq!(m.unread, 2);
        m.set_open(true);
        assert_eq!(m.unread, 0);
        m.message_stored(&message(4, AuthorKind::Staff, None, "seen"), true);
        assert_eq!(m.unread, 0);
    }

    #[test]
    fn an_advisor_message_ends_their_typing_indicator() {
        let mut m = model();
        m.agent_typing(Some("Ada"), true);
        assert_eq!(m.agent_typing.as_deref(), Some("Ada"));
        m.message_stored(&message(1, AuthorKind::Staff, None, "hi"), true);
        assert_eq!(m.agent_typing, None);
    }

    #[test]
    fn lines_group_by_author_and_split_after_a_pause() {
        let mut m = model();
        m.message_stored(&message(1, AuthorKind::Staff, None, "a"), true);
        m.message_stored(&message(2, AuthorKind::Staff, None, "b"), true);
        m.message_stored(&message(3, AuthorKind::Visitor, Some("k"), "c"), true);
        assert!(m.starts_group(0));
        assert!(!m.starts_group(1));
        assert!(m.starts_group(2));
        m.lines[2].side = Side::Agent {
            id: "a1".into(),
            name: Some("Ada".into()),
        };
        m.lines[2].at = m.lines[1].at + GROUP_GAP_MS + 1;
        assert!(m.starts_group(2));
    }

    #[test]
    fn a_day_separator_follows_the_visitors_local_midnight() {
        let mut m = model();
        m.push_pending("a", "late", 23 * 3_600_000);
        m.push_pending("b", "later", 25 * 3_600_000);
        assert!(m.starts_day(0, 0));
        assert!(m.starts_day(1, 0));
        // Two hours behind UTC both are on the same local day.
        assert!(!m.starts_day(1, -2 * 3_600_000));
    }

    #[test]
    fn messages_of_another_conversation_are_ignored_once_one_is_shown() {
        let mut m = model();
        let mut other = message(1, AuthorKind::Staff, None, "old");
        other.conversation_id = "c0".into();
        assert_eq!(m.message_stored(&other, false), None);
        assert!(m.lines.is_empty());
        assert_eq!(m.unread, 0);
    }

    #[test]
    fn a_new_conversation_keeps_only_pending_lines() {
        let mut m = model();
        m.message_stored(&message(1, AuthorKind::Staff, None, "old"), true);
        m.conversation_closed();
        assert_eq!(m.routing, Routing::Closed);
        m.push_pending("k", "new question", 9);
        m.conversation_started("c2");
        assert_eq!(m.lines.len(), 1);
        assert_eq!(m.lines[0].key, "k");
        assert_eq!(m.routing, Routing::None);
    }

    #[test]
    fn a_failed_line_can_be_dismissed_but_a_pending_one_cannot() {
        let mut m = model();
        m.push_pending("k1", "x", 1);
        m.push_pending("k2", "y", 2);
        m.send_failed("k1");
        m.dismiss("k1");
        m.dismiss("k2");
        assert_eq!(m.lines.len(), 1);
        assert_eq!(m.lines[0].key, "k2");
    }
}
