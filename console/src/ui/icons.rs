//! The navigation's icons as inline SVG line drawings (24×24, `currentColor`), so they follow
//! the text colour in both colour schemes and look the same on every system, which emoji and
//! symbol characters do not. Presentation attributes, not `style`, so the page's CSP allows them.
//! Each is decorative (`aria-hidden`): the label next to it names the control.

use leptos::prelude::*;

/// One icon: `paths` are the `d` attributes of its strokes.
fn icon(paths: &'static [&'static str]) -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 24 24" width="22" height="22" fill="none" stroke="currentColor"
            stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">
            {paths.iter().map(|d| view! { <path d=*d /> }).collect_view()}
        </svg>
    }
}

/// An inbox tray.
pub fn inbox() -> impl IntoView {
    icon(&[
        "M4 13l2.5-7.5A2 2 0 0 1 8.4 4h7.2a2 2 0 0 1 1.9 1.5L20 13",
        "M4 13v5a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-5h-4.5l-1.5 2.5h-4L8.5 13z",
    ])
}

/// Two speech bubbles: the staff room.
pub fn room() -> impl IntoView {
    icon(&[
        "M14 9V6a2 2 0 0 0-2-2H5a2 2 0 0 0-2 2v5a2 2 0 0 0 2 2h1v3l3-3",
        "M10 11a2 2 0 0 1 2-2h7a2 2 0 0 1 2 2v5a2 2 0 0 1-2 2h-1v3l-3-3h-3a2 2 0 0 1-2-2z",
    ])
}

/// Two people: availability and the team.
pub fn team() -> impl IntoView {
    icon(&[
        "M9 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z",
        "M2.5 20a6.5 6.5 0 0 1 13 0",
        "M16 4.3a3.5 3.5 0 0 1 0 6.4",
        "M18 14.2a6.5 6.5 0 0 1 3.5 5.8",
    ])
}

/// A gear: settings.
pub fn settings() -> impl IntoView {
    icon(&[
        "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z",
        "M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z",
    ])
}

/// A question mark in a circle: the shortcuts.
pub fn help() -> impl IntoView {
    icon(&[
        "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z",
        "M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .9-1 1.6v.6",
        "M12 17h.01",
    ])
}

/// A person in a card: the contact panel.
pub fn contact() -> impl IntoView {
    icon(&[
        "M4 5h16a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1z",
        "M9 12a2 2 0 1 0 0-4 2 2 0 0 0 0 4z",
        "M6 16a3 3 0 0 1 6 0",
        "M15 9h3M15 13h3",
    ])
}
