//! The conversation list as plain data: what each tab shows and in which order, unread counts
//! from the last `seq` read per conversation (the staff member's, kept by the server for all
//! their devices), the contact-name filter, and waiting times.
//!
//! [`Inbox`] merges what the REST pages and the live `conversation` / `message` frames say about
//! each conversation; a page loaded before a live change cannot undo it, because a summary only
//! replaces one that is not newer. Everything is a pure function of its inputs (time included),
//! so it is unit-tested natively.

use std::collections::HashMap;

use natter_sdk::protocol::{
    AuthorKind, Contact, ConversationStatus, ConversationSummary, Message, Timestamp, preview,
};

/// Length of the last-message preview kept from live messages, like the server's.
const PREVIEW_CHARS: usize = 120;

/// The tabs of the conversation list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Tab {
    /// Open conversations assigned to me.
    #[default]
    Mine,
    /// Conversations waiting for someone (the queue).
    Unassigned,
    /// Every conversation that is not closed.
    All,
    /// Closed conversations.
    Closed,
}

impl Tab {
    /// Every tab, in display order.
    pub const ALL: [Tab; 4] = [Tab::Mine, Tab::Unassigned, Tab::All, Tab::Closed];

    /// The name used in routes.
    pub fn as_str(self) -> &'static str {
        match self {
            Tab::Mine => "mine",
            Tab::Unassigned => "unassigned",
            Tab::All => "all",
            Tab::Closed => "closed",
        }
    }

    /// Parses a route name.
    pub fn parse(name: &str) -> Option<Tab> {
        Tab::ALL.into_iter().find(|tab| tab.as_str() == name)
    }

    /// The label shown on the tab.
    pub fn label(self) -> &'static str {
        match self {
            Tab::Mine => "Mine",
            Tab::Unassigned => "Queue",
            Tab::All => "All",
            Tab::Closed => "Closed",
        }
    }

    /// The query string of `GET /v1/conversations` that loads this tab.
    pub fn list_query(self) -> &'static str {
        match self {
            Tab::Mine => "status=open&assignee=me",
            Tab::Unassigned => "status=unassigned",
            // Every status; the tab itself leaves the closed ones out.
            Tab::All => "",
            Tab::Closed => "status=closed",
        }
    }

    /// Whether `summary` belongs in this tab for the staff member `me`.
    pub fn contains(self, summary: &ConversationSummary, me: &str) -> bool {
        match self {
            Tab::Mine => {
                summary.status == ConversationStatus::Open
                    && summary.assignee.as_ref().is_some_and(|a| a.id == me)
            }
            Tab::Unassigned => summary.status == ConversationStatus::Unassigned,
            Tab::All => summary.status != ConversationStatus::Closed,
            Tab::Closed => summary.status == ConversationStatus::Closed,
        }
    }
}

/// What merging a summary into the inbox did, so the caller can decide about notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// The conversation was not known before.
    New,
    /// It was known and just became assigned to me (claimed, routed or transferred to me).
    BecameMine,
    /// It was known and changed in another way (or not at all).
    Updated,
    /// The summary was older than what the inbox holds, and ignored.
    Stale,
}

/// The conversations the console knows about and what the staff member has read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inbox {
    /// The signed-in staff member's id.
    me: String,
    conversations: HashMap<String, ConversationSummary>,
    /// Per conversation, the highest `seq` the staff member has seen, on this device or (through
    /// the server's read positions and `read` frames) on another; cached by the glue.
    last_read: HashMap<String, u64>,
    /// Conversations that are not part of the customer inbox (the staff room).
    excluded: Vec<String>,
}

impl Inbox {
    /// An empty inbox for the staff member `me`, with the read positions saved earlier.
    pub fn new(me: impl Into<String>, last_read: HashMap<String, u64>) -> Self {
        Inbox {
            me: me.into(),
            last_read,
            ..Inbox::default()
        }
    }

    /// The signed-in staff member's id.
    pub fn me(&self) -> &str {
        &self.me
    }

    /// Keeps a conversation (the staff room) out of every list and count.
    pub fn exclude(&mut self, id: &str) {
        self.conversations.remove(id);
        if !self.excluded.iter().any(|e| e == id) {
            self.excluded.push(id.to_owned());
        }
    }

    /// One conversation, if known.
    pub fn get(&self, id: &str) -> Option<&ConversationSummary> {
        self.conversations.get(id)
    }

    /// Merges a summary from a REST page or a live frame. A summary older than the one held (by
    /// `last_activity_at`, then `last_seq`) is ignored, so late pages cannot undo live news.
    pub fn merge(&mut self, summary: ConversationSummary) -> Merge {
        if self.excluded.contains(&summary.id) {
            return Merge::Stale;
        }
        let mine = |s: &ConversationSummary| Tab::Mine.contains(s, &self.me);
        let outcome = match self.conversations.get(&summary.id) {
            None => Merge::New,
            Some(held)
                if (summary.last_activity_at, summary.last_seq)
                    < (held.last_activity_at, held.last_seq) =>
            {
                return Merge::Stale;
            }
            Some(held) if !mine(held) && mine(&summary) => Merge::BecameMine,
            Some(_) => Merge::Updated,
        };
        let mut summary = summary;
        if let Some(held) = self.conversations.get(&summary.id)
            && held.last_seq > summary.last_seq
        {
            // A live message may be ahead of the summary that announced a claim or close.
            summary.last_seq = held.last_seq;
            summary.last_message_preview = held.last_message_preview.clone();
        }
        self.conversations.insert(summary.id.clone(), summary);
        outcome
    }

    /// Applies a live message to its conversation's summary (last `seq`, preview, activity).
    /// The staff member's own messages count as read. Returns whether the conversation is known.
    pub fn note_message(&mut self, message: &Message) -> bool {
        if message.author.kind == AuthorKind::Staff && message.author.id == self.me {
            self.mark_read(&message.conversation_id, message.seq);
        }
        let Some(summary) = self.conversations.get_mut(&message.conversation_id) else {
            return false;
        };
        if message.seq > summary.last_seq {
            summary.last_seq = message.seq;
            summary.last_message_preview = Some(preview(&message.text, PREVIEW_CHARS));
            summary.last_activity_at = summary.last_activity_at.max(message.created_at);
        }
        true
    }

    /// The staff member has seen every message of `id` up to `seq`. Returns whether that moved
    /// the read position (so the glue knows to persist it).
    pub fn mark_read(&mut self, id: &str, seq: u64) -> bool {
        let read = self.last_read.entry(id.to_owned()).or_insert(0);
        if seq > *read {
            *read = seq;
            true
        } else {
            false
        }
    }

    /// The read positions, to persist.
    pub fn read_positions(&self) -> &HashMap<String, u64> {
        &self.last_read
    }

    /// Unread messages of a conversation: those after the last one read. Closed conversations
    /// have nothing left to answer, so they count none.
    pub fn unread(&self, id: &str) -> u64 {
        match self.conversations.get(id) {
            Some(s) if s.status != ConversationStatus::Closed => s
                .last_seq
                .saturating_sub(self.last_read.get(id).copied().unwrap_or(0)),
            _ => 0,
        }
    }

    /// The conversations of `tab` whose contact matches `search`, most recent activity first.
    pub fn list(&self, tab: Tab, search: &str) -> Vec<&ConversationSummary> {
        let search = search.trim().to_lowercase();
        let mut items: Vec<&ConversationSummary> = self
            .conversations
            .values()
            .filter(|s| tab.contains(s, &self.me))
            .filter(|s| search.is_empty() || contact_matches(&s.contact, &search))
            .collect();
        items.sort_by(|a, b| {
            b.last_activity_at
                .cmp(&a.last_activity_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        items
    }

    /// Unread messages over a tab's conversations, for the badge on the tab.
    pub fn tab_unread(&self, tab: Tab) -> u64 {
        self.conversations
            .values()
            .filter(|s| tab.contains(s, &self.me))
            .map(|s| self.unread(&s.id))
            .sum()
    }

    /// How many conversations a tab holds.
    pub fn tab_len(&self, tab: Tab) -> usize {
        self.conversations
            .values()
            .filter(|s| tab.contains(s, &self.me))
            .count()
    }

    /// Whether the waiting conversations held differ in number from `waiting`, the server's
    /// count (`queue_length`): agents are not sent every waiting conversation live (under the
    /// `auto` policy only owners and admins are), so the Queue tab must then be reloaded.
    pub fn line_is_stale(&self, waiting: u32) -> bool {
        self.tab_len(Tab::Unassigned) != waiting as usize
    }

    /// The conversations held as waiting that are not in `waiting` (the ids of the server's
    /// line, `GET /v1/routing/queue`): someone took them or they were closed without this
    /// console hearing of it. The glue fetches each again, so the Queue tab never shows a
    /// conversation that no longer waits.
    pub fn left_the_line<'a>(&self, waiting: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let waiting: Vec<&str> = waiting.into_iter().collect();
        let mut gone: Vec<String> = self
            .conversations
            .values()
            .filter(|s| s.status == ConversationStatus::Unassigned)
            .filter(|s| !waiting.contains(&s.id.as_str()))
            .map(|s| s.id.clone())
            .collect();
        gone.sort();
        gone
    }

    /// The count in the page title: unread messages in my conversations and in waiting ones,
    /// the two that need me.
    pub fn attention(&self) -> u64 {
        self.tab_unread(Tab::Mine) + self.tab_unread(Tab::Unassigned)
    }
}

/// `search` (lower case) appears in the contact's name or e-mail.
fn contact_matches(contact: &Contact, search: &str) -> bool {
    [&contact.name, &contact.email]
        .into_iter()
        .flatten()
        .any(|field| field.to_lowercase().contains(search))
}

/// How a contact is called in lists: their name, else their e-mail, else "Visitor" and the start
/// of their id (so two anonymous visitors can be told apart).
pub fn display_name(contact: &Contact) -> String {
    if let Some(name) = contact.name.as_deref().filter(|n| !n.trim().is_empty()) {
        return name.to_owned();
    }
    if let Some(email) = contact.email.as_deref().filter(|e| !e.trim().is_empty()) {
        return email.to_owned();
    }
    let short: String = contact
        .visitor_id
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("Visitor {short}")
}

/// One or two capital letters for an avatar: the initials of a name.
pub fn initials(name: &str) -> String {
    let mut letters = name
        .split(|c: char| c.is_whitespace() || c == '.' || c == '@')
        .filter_map(|word| word.chars().find(|c| c.is_alphanumeric()))
        .flat_map(char::to_uppercase);
    let first = letters.next();
    let second = letters.next();
    first.into_iter().chain(second).collect()
}

/// A short relative duration for lists: "now", "5m", "3h", "2d", from `since` to `now`
/// (milliseconds; a `since` in the future counts as now).
pub fn ago(now: Timestamp, since: Timestamp) -> String {
    let minutes = (now - since).max(0) / 60_000;
    match minutes {
        0 => "now".to_owned(),
        1..=59 => format!("{minutes}m"),
        60..=1439 => format!("{}h", minutes / 60),
        _ => format!("{}d", minutes / 1440),
    }
}

/// How long a conversation has been waiting, for the queue: "waiting 12 min", "waiting 1 h 5 min".
pub fn waiting_text(now: Timestamp, since: Timestamp) -> String {
    let minutes = (now - since).max(0) / 60_000;
    match minutes {
        0 => "waiting < 1 min".to_owned(),
        1..=59 => format!("waiting {minutes} min"),
        60..=1439 if minutes % 60 == 0 => format!("waiting {} h", minutes / 60),
        60..=1439 => format!("waiting {} h {} min", minutes / 60, minutes % 60),
        _ => format!("waiting {} d", minutes / 1440),
    }
}

#[cfg(test)]
mod tests {
    use natter_sdk::protocol::{Author, StaffRef};

    use super::*;

    fn contact(name: Option<&str>) -> Contact {
        Contact {
            visitor_id: "visitor-0001abcd".into(),
            external_id: None,
            name: name.map(str::to_owned),
            email: None,
            page_url: None,
            user_agent: None,
            first_seen_at: None,
        }
    }

    fn summary(
        id: &str,
        status: ConversationStatus,
        assignee: Option<&str>,
    ) -> ConversationSummary {
        ConversationSummary {
            id: id.into(),
            status,
            contact: contact(Some(&format!("Contact {id}"))),
            assignee: assignee.map(|a| StaffRef {
                id: a.into(),
                name: a.to_uppercase(),
            }),
            last_seq: 0,
            last_message_preview: None,
            created_at: 1000,
            last_activity_at: 1000,
            team: None,
        }
    }

    fn message(conversation: &str, seq: u64, author: &str, kind: AuthorKind) -> Message {
        Message {
            id: format!("m{seq}"),
            conversation_id: conversation.into(),
            seq,
            client_id: None,
            author: Author {
                kind,
                id: author.into(),
                name: None,
                role: None,
            },
            text: format!("text {seq}"),
            created_at: 5000 + seq as i64,
        }
    }

    #[test]
    fn tabs_sort_conversations_by_status_and_assignee() {
        let mut inbox = Inbox::new("me", HashMap::new());
        inbox.merge(summary("a", ConversationStatus::Open, Some("me")));
        inbox.merge(summary("b", ConversationStatus::Open, Some("other")));
        inbox.merge(summary("c", ConversationStatus::Unassigned, None));
        inbox.merge(summary("d", ConversationStatus::Closed, Some("me")));
        let ids = |tab| -> Vec<String> {
            let mut ids: Vec<String> = inbox.list(tab, "").iter().map(|s| s.id.clone()).collect();
            ids.sort();
            ids
        };
        assert_eq!(ids(Tab::Mine), ["a"]);
        assert_eq!(ids(Tab::Unassigned), ["c"]);
        assert_eq!(ids(Tab::All), ["a", "b", "c"]);
        assert_eq!(ids(Tab::Closed), ["d"]);
        assert_eq!(inbox.tab_len(Tab::All), 3);
    }

    #[test]
    fn lists_put_the_latest_activity_first() {
        let mut inbox = Inbox::new("me", HashMap::new());
        for (id, at) in [("old", 10), ("new", 30), ("mid", 20)] {
            let mut s = summary(id, ConversationStatus::Unassigned, None);
            s.last_activity_at = at;
            inbox.merge(s);
        }
        let order: Vec<&str> = inbox
            .list(Tab::Unassigned, "")
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(order, ["new", "mid", "old"]);
        // A message moves its conversation to the top.
        let mut late = message("old", 1, "v", AuthorKind::Visitor);
        late.created_at = 40;
        assert!(inbox.note_message(&late));
        assert_eq!(inbox.list(Tab::Unassigned, "")[0].id, "old");
    }

    #[test]
    fn an_older_summary_does_not_undo_a_newer_one() {
        let mut inbox = Inbox::new("me", HashMap::new());
        let mut claimed = summary("a", ConversationStatus::Open, Some("me"));
        claimed.last_activity_at = 2000;
        assert_eq!(inbox.merge(claimed), Merge::New);
        let waiting = summary("a", ConversationStatus::Unassigned, None);
        assert_eq!(inbox.merge(waiting), Merge::Stale);
        assert_eq!(
            inbox.get("a").map(|s| s.status),
            Some(ConversationStatus::Open)
        );
    }

    #[test]
    fn a_conversation_that_becomes_mine_is_reported_as_such() {
        let mut inbox = Inbox::new("me", HashMap::new());
        inbox.merge(summary("a", ConversationStatus::Unassigned, None));
        let mut claimed = summary("a", ConversationStatus::Open, Some("me"));
        claimed.last_activity_at = 2000;
        assert_eq!(inbox.merge(claimed.clone()), Merge::BecameMine);
        claimed.last_activity_at = 3000;
        assert_eq!(inbox.merge(claimed), Merge::Updated);
    }

    #[test]
    fn unread_counts_messages_after_the_last_one_read() {
        let mut read = HashMap::new();
        read.insert("a".to_owned(), 2);
        let mut inbox = Inbox::new("me", read);
        let mut a = summary("a", ConversationStatus::Open, Some("me"));
        a.last_seq = 5;
        inbox.merge(a);
        assert_eq!(inbox.unread("a"), 3);
        assert!(inbox.note_message(&message("a", 6, "v", AuthorKind::Visitor)));
        assert_eq!(inbox.unread("a"), 4);
        assert!(inbox.mark_read("a", 6));
        assert!(!inbox.mark_read("a", 4), "read positions never go back");
        assert_eq!(inbox.unread("a"), 0);
        // My own reply counts as read.
        inbox.note_message(&message("a", 7, "me", AuthorKind::Staff));
        assert_eq!(inbox.unread("a"), 0);
        assert_eq!(inbox.read_positions().get("a"), Some(&7));
    }

    #[test]
    fn positions_from_the_server_and_other_devices_lower_unread_counts_only() {
        // A browser that never saw the console: everything is unread until the server's
        // positions (shared by all the staff member's devices) arrive.
        let mut inbox = Inbox::new("me", HashMap::new());
        for id in ["a", "b"] {
            let mut s = summary(id, ConversationStatus::Open, Some("me"));
            s.last_seq = 76;
            inbox.merge(s);
        }
        assert_eq!(inbox.attention(), 152);
        assert!(inbox.mark_read("a", 76), "read on another device");
        assert_eq!((inbox.unread("a"), inbox.unread("b")), (0, 76));
        // A late answer or frame with an older position cannot make messages unread again.
        assert!(!inbox.mark_read("a", 40));
        assert_eq!(inbox.unread("a"), 0);
        // This browser's cache may be ahead of the server's answer: the furthest wins.
        let mut cached = HashMap::new();
        cached.insert("b".to_owned(), 70);
        let mut inbox = Inbox::new("me", cached);
        let mut b = summary("b", ConversationStatus::Open, Some("me"));
        b.last_seq = 76;
        inbox.merge(b);
        assert!(!inbox.mark_read("b", 60));
        assert_eq!(inbox.unread("b"), 6);
    }

    #[test]
    fn closed_conversations_count_no_unread_and_the_title_counts_what_needs_me() {
        let mut inbox = Inbox::new("me", HashMap::new());
        for (id, status, assignee) in [
            ("mine", ConversationStatus::Open, Some("me")),
            ("theirs", ConversationStatus::Open, Some("other")),
            ("waiting", ConversationStatus::Unassigned, None),
            ("done", ConversationStatus::Closed, Some("me")),
        ] {
            let mut s = summary(id, status, assignee);
            s.last_seq = 2;
            inbox.merge(s);
        }
        assert_eq!(inbox.unread("done"), 0);
        assert_eq!(inbox.unread("unknown"), 0);
        assert_eq!(inbox.tab_unread(Tab::All), 6);
        assert_eq!(inbox.attention(), 4);
    }

    #[test]
    fn the_queue_tab_is_reloaded_when_the_servers_line_differs() {
        let mut inbox = Inbox::new("me", HashMap::new());
        assert!(!inbox.line_is_stale(0));
        assert!(
            inbox.line_is_stale(1),
            "a waiting conversation this agent was not sent"
        );
        inbox.merge(summary("a", ConversationStatus::Unassigned, None));
        inbox.merge(summary("b", ConversationStatus::Unassigned, None));
        inbox.merge(summary("c", ConversationStatus::Open, Some("other")));
        assert!(!inbox.line_is_stale(2));
        assert!(inbox.line_is_stale(1));
        // The server's line has only "b" now: "a" was taken by someone else, unseen here.
        assert_eq!(inbox.left_the_line(["b"]), ["a"]);
        assert!(inbox.left_the_line(["a", "b"]).is_empty());
        assert_eq!(inbox.left_the_line([]), ["a", "b"]);
    }

    #[test]
    fn a_message_to_an_unknown_conversation_is_reported() {
        let mut inbox = Inbox::new("me", HashMap::new());
        assert!(!inbox.note_message(&message("zzz", 1, "v", AuthorKind::Visitor)));
    }

    #[test]
    fn a_late_claim_summary_keeps_the_newer_message_it_did_not_know() {
        let mut inbox = Inbox::new("me", HashMap::new());
        inbox.merge(summary("a", ConversationStatus::Unassigned, None));
        let mut m = message("a", 3, "v", AuthorKind::Visitor);
        m.created_at = 900;
        inbox.note_message(&m);
        let mut claimed = summary("a", ConversationStatus::Open, Some("me"));
        claimed.last_seq = 2;
        claimed.last_activity_at = 1500;
        inbox.merge(claimed);
        let held = inbox
            .get("a")
            .map(|s| (s.last_seq, s.last_message_preview.clone()));
        assert_eq!(held, Some((3, Some("text 3".to_owned()))));
    }

    #[test]
    fn the_search_matches_name_or_email_ignoring_case() {
        let mut inbox = Inbox::new("me", HashMap::new());
        let mut a = summary("a", ConversationStatus::Unassigned, None);
        a.contact.name = Some("Ada Lovelace".into());
        let mut b = summary("b", ConversationStatus::Unassigned, None);
        b.contact.name = None;
        b.contact.email = Some("grace@navy.mil".into());
        inbox.merge(a);
        inbox.merge(b);
        let found = |q| -> Vec<String> {
            inbox
                .list(Tab::Unassigned, q)
                .iter()
                .map(|s| s.id.clone())
                .collect()
        };
        assert_eq!(found("LOVE"), ["a"]);
        assert_eq!(found("  navy "), ["b"]);
        assert!(found("nobody").is_empty());
    }

    #[test]
    fn the_staff_room_stays_out_of_the_inbox() {
        let mut inbox = Inbox::new("me", HashMap::new());
        inbox.merge(summary("room", ConversationStatus::Open, Some("me")));
        inbox.exclude("room");
        assert_eq!(inbox.tab_len(Tab::All), 0);
        assert_eq!(
            inbox.merge(summary("room", ConversationStatus::Open, Some("me"))),
            Merge::Stale
        );
    }

    #[test]
    fn contacts_without_a_name_get_a_distinguishable_label() {
        assert_eq!(display_name(&contact(Some("Sam"))), "Sam");
        assert_eq!(display_name(&contact(Some("  "))), "Visitor abcd");
        let mut c = contact(None);
        c.email = Some("sam@example.com".into());
        assert_eq!(display_name(&c), "sam@example.com");
        assert_eq!(initials("Ada Lovelace"), "AL");
        assert_eq!(initials("grace"), "G");
        assert_eq!(initials("Visitor abcd"), "VA");
        assert_eq!(initials(""), "");
    }

    #[test]
    fn durations_read_naturally() {
        let min = 60_000;
        assert_eq!(ago(10 * min, 10 * min), "now");
        assert_eq!(ago(10 * min, 11 * min), "now");
        assert_eq!(ago(10 * min, 5 * min), "5m");
        assert_eq!(ago(200 * min, 20 * min), "3h");
        assert_eq!(ago(3000 * min, 0), "2d");
        assert_eq!(waiting_text(30_000, 0), "waiting < 1 min");
        assert_eq!(waiting_text(12 * min, 0), "waiting 12 min");
        assert_eq!(waiting_text(65 * min, 0), "waiting 1 h 5 min");
        assert_eq!(waiting_text(120 * min, 0), "waiting 2 h");
        assert_eq!(waiting_text(3 * 1440 * min, 0), "waiting 3 d");
    }

    #[test]
    fn tab_names_round_trip() {
        for tab in Tab::ALL {
            assert_eq!(Tab::parse(tab.as_str()), Some(tab));
        }
        assert_eq!(Tab::parse("nope"), None);
    }
}
