//! The staff room: one group chat for all staff of the tenant. Messages from owners and admins
//! (the "director" of seed 002) carry a badge and an accent colour.

use leptos::prelude::*;

use natter_sdk::protocol::Presence;

use super::conversation::{Composer, Messages, TypingLine};
use super::list::back_to_list;
use crate::inbox::initials;
use crate::store::Console;

#[component]
pub fn StaffRoom() -> impl IntoView {
    let console = expect_context::<Console>();
    move || match console.staff_room.get() {
        Some(id) => {
            console.open_thread(&id, false);
            view! {
                <div class="conversation room">
                    <div class="thread">
                        <header class="thread-head">
                            <button type="button" class="back" aria-label="Back to the list" on:click=move |_| back_to_list(console)>"‹"</button>
                            <div class="thread-title">
                                <h2>"Staff room"</h2>
                                <span class="muted">"Everyone on the team. Visitors never see this."</span>
                            </div>
                            <Present />
                        </header>
                        <Messages id=id.clone() />
                        <TypingLine id=id.clone() />
                        <Composer id=id disabled=Signal::derive(|| false) />
                    </div>
                </div>
            }
            .into_any()
        }
        None => view! {
            <div class="empty">
                <h2>"Staff room"</h2>
                <p>"The staff room is not available on this server yet."</p>
            </div>
        }
        .into_any(),
    }
}

/// Who is around: the colleagues not offline, as a row of avatars.
#[component]
fn Present() -> impl IntoView {
    let console = expect_context::<Console>();
    move || {
        let mut around: Vec<_> = console.agents.with(|agents| {
            agents
                .iter()
                .filter(|a| a.presence != Presence::Offline)
                .map(|a| (a.name.clone(), a.presence))
                .collect()
        });
        around.sort_by(|a, b| a.0.cmp(&b.0));
        let label = match around.len() {
            0 => "Nobody else is around".to_owned(),
            1 => "1 person around".to_owned(),
            n => format!("{n} people around"),
        };
        view! {
            <ul class="present" aria-label=label.clone() title=label>
                {around.into_iter().map(|(name, presence)| {
                    let letters = initials(&name);
                    let title = name.clone();
                    view! {
                        <li class="avatar small" title=title>
                            {letters}
                            <span class=format!("status-dot {}", presence.as_str())></span>
                            <span class="visually-hidden">{name}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
    }
}
