//! When the console alerts its staff member: the decision, without the browser.
//!
//! Alerts are for a tab in the background: a desktop notification (when the browser grants it)
//! and a short beep, for a new conversation that needs someone, one that just became the staff
//! member's, or a message in one of their own conversations. A visible tab already shows all of
//! it; the mute switch silences both.

use natter_sdk::protocol::{AuthorKind, ConversationStatus, ConversationSummary, Message, preview};

use crate::inbox::display_name;

/// Longest message text in a notification body.
const BODY_CHARS: usize = 140;

/// The browser's answer about desktop notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Permission {
    /// Not asked yet (asking needs a user gesture).
    #[default]
    Default,
    /// Allowed.
    Granted,
    /// Refused; only the browser's site settings can change it.
    Denied,
    /// The browser has no notifications (or not in this context).
    Unsupported,
}

impl Permission {
    /// From the browser's `Notification.permission` string.
    pub fn parse(value: &str) -> Permission {
        match value {
            "granted" => Permission::Granted,
            "denied" => Permission::Denied,
            "default" => Permission::Default,
            _ => Permission::Unsupported,
        }
    }
}

/// What the console knows when something happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Situation<'a> {
    /// The signed-in staff member's id.
    pub me: &'a str,
    /// The page is hidden (another tab, minimised).
    pub hidden: bool,
    /// The staff member muted alerts.
    pub muted: bool,
    /// The desktop-notification permission.
    pub permission: Permission,
}

/// Something that may deserve an alert.
#[derive(Debug, Clone, Copy)]
pub enum Happening<'a> {
    /// A conversation the console did not know about arrived live.
    NewConversation(&'a ConversationSummary),
    /// A known conversation was just assigned to the staff member.
    AssignedToMe(&'a ConversationSummary),
    /// A live message, with its conversation when known.
    Message {
        /// The message.
        message: &'a Message,
        /// Its conversation.
        conversation: Option<&'a ConversationSummary>,
    },
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Show a desktop notification.
    pub desktop: bool,
    /// Play the beep.
    pub sound: bool,
    /// The notification's title.
    pub title: String,
    /// Its text.
    pub body: String,
    /// The conversation it is about, to open on click and to replace older notifications of it.
    pub conversation_id: String,
}

/// Whether and how to alert about `happening`.
pub fn decide(situation: Situation<'_>, happening: Happening<'_>) -> Option<Alert> {
    if !situation.hidden || situation.muted {
        return None;
    }
    let (title, body, conversation_id) = match happening {
        Happening::NewConversation(summary) => {
            // Routed straight to someone else: not mine to worry about.
            let waiting = summary.status == ConversationStatus::Unassigned;
            let mine = summary
                .assignee
                .as_ref()
                .is_some_and(|a| a.id == situation.me);
            if summary.status == ConversationStatus::Closed || !(waiting || mine) {
                return None;
            }
            (
                format!("New conversation: {}", display_name(&summary.contact)),
                summary_body(summary),
                summary.id.clone(),
            )
        }
        Happening::AssignedToMe(summary) => (
            format!("Assigned to you: {}", display_name(&summary.contact)),
            summary_body(summary),
            summary.id.clone(),
        ),
        Happening::Message {
            message,
            conversation,
        } => {
            let conversation = conversation?;
            let mine = conversation
                .assignee
                .as_ref()
                .is_some_and(|a| a.id == situation.me);
            let from_me =
                message.author.kind == AuthorKind::Staff && message.author.id == situation.me;
            if !mine || from_me || message.author.kind == AuthorKind::System {
                return None;
            }
            let who = match message.author.kind {
                AuthorKind::Visitor => display_name(&conversation.contact),
                _ => message
                    .author
                    .name
                    .clone()
                    .unwrap_or_else(|| "A colleague".into()),
            };
            (
                who,
                preview(&message.text, BODY_CHARS),
                conversation.id.clone(),
            )
        }
    };
    Some(Alert {
        desktop: situation.permission == Permission::Granted,
        sound: true,
        title,
        body,
        conversation_id,
    })
}

/// What a notification about a conversation says: its last message, else the page the visitor
/// is on (a conversation is often announced before its first message is stored), never nothing.
fn summary_body(summary: &ConversationSummary) -> String {
    if let Some(text) = summary
        .last_message_preview
        .as_deref()
        .filter(|t| !t.is_empty())
    {
        return text.to_owned();
    }
    match summary.contact.page_url.as_deref() {
        Some(page) => format!("On {page}"),
        None => "Waiting for an answer".to_owned(),
    }
}

/// The page title: the product name, preceded by the count of what needs attention.
pub fn page_title(attention: u64) -> String {
    match attention {
        0 => "natter".to_owned(),
        n if n > 99 => "(99+) natter".to_owned(),
        n => format!("({n}) natter"),
    }
}

#[cfg(test)]
mod tests {
    use natter_sdk::protocol::{Author, Contact, StaffRef};

    use super::*;

    fn summary(status: ConversationStatus, assignee: Option<&str>) -> ConversationSummary {
        ConversationSummary {
            id: "c1".into(),
            status,
            contact: Contact {
                visitor_id: "v1".into(),
                external_id: None,
                name: Some("Sam".into()),
                email: None,
                page_url: None,
                user_agent: None,
                first_seen_at: None,
            },
            assignee: assignee.map(|id| StaffRef {
                id: id.into(),
                name: id.into(),
            }),
            last_seq: 1,
            last_message_preview: Some("Hi!".into()),
            created_at: 0,
            last_activity_at: 0,
            team: None,
        }
    }

    fn message(kind: AuthorKind, id: &str) -> Message {
        Message {
            id: "m".into(),
            conversation_id: "c1".into(),
            seq: 2,
            client_id: None,
            author: Author {
                kind,
                id: id.into(),
                name: Some("Grace".into()),
                role: None,
            },
            text: "Where is my order?".into(),
            created_at: 0,
        }
    }

    const HIDDEN: Situation<'static> = Situation {
        me: "me",
        hidden: true,
        muted: false,
        permission: Permission::Granted,
    };

    #[test]
    fn a_visible_or_muted_console_never_alerts() {
        let waiting = summary(ConversationStatus::Unassigned, None);
        let happening = Happening::NewConversation(&waiting);
        assert!(decide(HIDDEN, happening).is_some());
        let visible = Situation {
            hidden: false,
            ..HIDDEN
        };
        assert_eq!(decide(visible, happening), None);
        let muted = Situation {
            muted: true,
            ..HIDDEN
        };
        assert_eq!(decide(muted, happening), None);
    }

    #[test]
    fn a_new_waiting_conversation_alerts_with_the_contact_and_first_words() {
        let waiting = summary(ConversationStatus::Unassigned, None);
        let alert = decide(HIDDEN, Happening::NewConversation(&waiting));
        assert_eq!(
            alert,
            Some(Alert {
                desktop: true,
                sound: true,
                title: "New conversation: Sam".into(),
                body: "Hi!".into(),
                conversation_id: "c1".into(),
            })
        );
        let routed_elsewhere = summary(ConversationStatus::Open, Some("other"));
        assert_eq!(
            decide(HIDDEN, Happening::NewConversation(&routed_elsewhere)),
            None
        );
        let routed_to_me = summary(ConversationStatus::Open, Some("me"));
        assert!(decide(HIDDEN, Happening::NewConversation(&routed_to_me)).is_some());
    }

    #[test]
    fn only_others_messages_in_my_conversations_alert() {
        let mine = summary(ConversationStatus::Open, Some("me"));
        let theirs = summary(ConversationStatus::Open, Some("other"));
        let from_visitor = message(AuthorKind::Visitor, "v1");
        let alert = decide(
            HIDDEN,
            Happening::Message {
                message: &from_visitor,
                conversation: Some(&mine),
            },
        );
        assert_eq!(
            alert.map(|a| (a.title, a.body)),
            Some(("Sam".into(), "Where is my order?".into()))
        );
        for (message, conversation) in [
            (&from_visitor, Some(&theirs)),
            (&from_visitor, None),
            (&message(AuthorKind::Staff, "me"), Some(&mine)),
            (&message(AuthorKind::System, ""), Some(&mine)),
        ] {
            let happening = Happening::Message {
                message,
                conversation,
            };
            assert_eq!(decide(HIDDEN, happening), None);
        }
        let colleague = message(AuthorKind::Staff, "grace");
        let alert = decide(
            HIDDEN,
            Happening::Message {
                message: &colleague,
                conversation: Some(&mine),
            },
        );
        assert_eq!(alert.map(|a| a.title), Some("Grace".into()));
    }

    #[test]
    fn a_conversation_announced_before_its_first_message_still_says_something() {
        let mut waiting = summary(ConversationStatus::Unassigned, None);
        waiting.last_message_preview = None;
        let body =
            |s: &ConversationSummary| decide(HIDDEN, Happening::NewConversation(s)).map(|a| a.body);
        assert_eq!(body(&waiting), Some("Waiting for an answer".to_owned()));
        waiting.contact.page_url = Some("https://shop.example/cart".into());
        assert_eq!(
            body(&waiting),
            Some("On https://shop.example/cart".to_owned())
        );
        waiting.last_message_preview = Some("Hi!".into());
        assert_eq!(body(&waiting), Some("Hi!".to_owned()));
    }

    #[test]
    fn without_permission_the_alert_is_only_a_sound() {
        let waiting = summary(ConversationStatus::Unassigned, None);
        for permission in [
            Permission::Default,
            Permission::Denied,
            Permission::Unsupported,
        ] {
            let situation = Situation {
                permission,
                ..HIDDEN
            };
            let alert = decide(situation, Happening::AssignedToMe(&waiting));
            assert_eq!(alert.map(|a| (a.desktop, a.sound)), Some((false, true)));
        }
    }

    #[test]
    fn the_title_counts_what_needs_attention() {
        assert_eq!(page_title(0), "natter");
        assert_eq!(page_title(3), "(3) natter");
        assert_eq!(page_title(250), "(99+) natter");
        assert_eq!(Permission::parse("granted"), Permission::Granted);
        assert_eq!(Permission::parse("denied"), Permission::Denied);
        assert_eq!(Permission::parse("default"), Permission::Default);
        assert_eq!(Permission::parse(""), Permission::Unsupported);
    }
}
