//! The console's screens as hash routes (`#/inbox/mine`, `#/c/<id>`, ...), parsed and written
//! without touching the browser.
//!
//! A hash router keeps every screen on the one `/console` page the server serves, so a reload or
//! a shared link lands on the same screen without server-side routes, and the back button works.

use crate::inbox::Tab;

/// A screen of the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The conversation list of one tab, with no conversation open.
    Inbox(Tab),
    /// One conversation, shown next to the list of `tab` on a wide screen.
    Conversation {
        /// The list beside it.
        tab: Tab,
        /// The conversation's id.
        id: String,
    },
    /// The staff's group chat.
    StaffRoom,
    /// Availability, capacity, alerts, the waiting line and colleagues.
    Team,
    /// Settings (owners and admins), optionally one section by its slug.
    Settings(Option<String>),
}

impl Default for Route {
    fn default() -> Self {
        Route::Inbox(Tab::Mine)
    }
}

impl Route {
    /// The route for a location hash (`#/c/abc?tab=all`, with or without the `#`). Anything
    /// unknown is the default screen, so an old or mistyped link still opens the console.
    pub fn parse(hash: &str) -> Route {
        let hash = hash.trim_start_matches('#').trim_start_matches('/');
        let (path, query) = hash.split_once('?').unwrap_or((hash, ""));
        let tab = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("tab="))
            .and_then(Tab::parse)
            .unwrap_or_default();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments[..] {
            ["inbox", name] => Tab::parse(name).map_or_else(Route::default, Route::Inbox),
            ["c", id] if is_plain_id(id) => Route::Conversation {
                tab,
                id: id.to_owned(),
            },
            ["staff-room"] => Route::StaffRoom,
            ["team"] => Route::Team,
            ["settings"] => Route::Settings(None),
            ["settings", section] if is_plain_id(section) => {
                Route::Settings(Some(section.to_owned()))
            }
            _ => Route::default(),
        }
    }

    /// The location hash of this route, with the leading `#`.
    pub fn to_hash(&self) -> String {
        match self {
            Route::Inbox(tab) => format!("#/inbox/{}", tab.as_str()),
            Route::Conversation { tab, id } if *tab == Tab::default() => format!("#/c/{id}"),
            Route::Conversation { tab, id } => format!("#/c/{id}?tab={}", tab.as_str()),
            Route::StaffRoom => "#/staff-room".to_owned(),
            Route::Team => "#/team".to_owned(),
            Route::Settings(None) => "#/settings".to_owned(),
            Route::Settings(Some(section)) => format!("#/settings/{section}"),
        }
    }

    /// The list tab this screen shows or sits beside.
    pub fn tab(&self) -> Tab {
        match self {
            Route::Inbox(tab) | Route::Conversation { tab, .. } => *tab,
            Route::StaffRoom | Route::Team | Route::Settings(_) => Tab::default(),
        }
    }

    /// The open conversation, if any.
    pub fn conversation(&self) -> Option<&str> {
        match self {
            Route::Conversation { id, .. } => Some(id),
            _ => None,
        }
    }
}

/// Ids are server-made (UUIDs); anything else in a link is not a conversation of ours.
fn is_plain_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_survives_a_round_trip_through_its_hash() {
        let routes = [
            Route::Inbox(Tab::Mine),
            Route::Inbox(Tab::Unassigned),
            Route::Inbox(Tab::All),
            Route::Inbox(Tab::Closed),
            Route::Conversation {
                tab: Tab::Mine,
                id: "0190-abc".into(),
            },
            Route::Conversation {
                tab: Tab::Closed,
                id: "x1".into(),
            },
            Route::StaffRoom,
            Route::Team,
            Route::Settings(None),
            Route::Settings(Some("widget".into())),
        ];
        for route in routes {
            assert_eq!(Route::parse(&route.to_hash()), route, "{}", route.to_hash());
        }
    }

    #[test]
    fn unknown_or_malformed_hashes_open_the_default_inbox() {
        for hash in [
            "",
            "#",
            "#/",
            "#/nowhere",
            "#/inbox/elsewhere",
            "#/c/",
            "#/c/a b",
        ] {
            assert_eq!(Route::parse(hash), Route::Inbox(Tab::Mine), "{hash}");
        }
    }

    #[test]
    fn a_conversation_link_keeps_the_tab_it_was_opened_from() {
        let route = Route::parse("#/c/abc?tab=unassigned");
        assert_eq!(route.tab(), Tab::Unassigned);
        assert_eq!(route.conversation(), Some("abc"));
        assert_eq!(Route::parse("c/abc").tab(), Tab::Mine);
        assert_eq!(Route::parse("#/c/abc?tab=bogus").tab(), Tab::Mine);
    }
}
