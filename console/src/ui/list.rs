//! The conversation list: availability, tabs with unread badges, the contact search, pending
//! requests to accept or refuse (manual routing), and the conversations of the current tab.

use leptos::prelude::*;
use natter_sdk::protocol::{ConversationStatus, ConversationSummary, Presence};

use crate::inbox::{Tab, ago, display_name, initials, waiting_text};
use crate::route::Route;
use crate::store::{Console, navigate};

#[component]
pub fn ConversationList() -> impl IntoView {
    let console = expect_context::<Console>();
    let route = console.route;
    let tab = Memo::new(move |_| route.with(Route::tab));

    // Load the tab from the server when it or the search changes.
    Effect::new(move |_| {
        let tab = tab.get();
        let search = console.search.get();
        console.load_tab(tab, search);
    });

    let items = move || {
        let tab = tab.get();
        let search = console.search.get();
        console.inbox.with(|i| {
            i.list(tab, &search)
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let queue_total = move || {
        console
            .queues
            .with(|q| q.iter().map(|q| q.waiting).sum::<u32>())
    };

    view! {
        <section class="list" aria-label="Conversations">
            <header class="list-head">
                <div class="list-title">
                    <h1>"Inbox"</h1>
                    <PresenceSwitch />
                </div>
                <div class="queue-line" role="status">
                    {move || match queue_total() {
                        0 => "Nobody is waiting".to_owned(),
                        1 => "1 visitor waiting".to_owned(),
                        n => format!("{n} visitors waiting"),
                    }}
                </div>
                <div class="search">
                    <label for="search" class="visually-hidden">"Search contacts by name"</label>
                    <input id="search" type="search" placeholder="Search by name or e-mail   /"
                        autocomplete="off"
                        prop:value=move || console.search.get()
                        on:input=move |e| console.search.set(event_target_value(&e)) />
                </div>
                <div class="tabs" role="tablist" aria-label="Filter">
                    {Tab::ALL.into_iter().map(|t| {
                        let selected = move || tab.get() == t;
                        let unread = move || console.inbox.with(|i| i.tab_unread(t));
                        view! {
                            <a role="tab" class="tab" href=Route::Inbox(t).to_hash()
                                aria-selected=move || selected().to_string()>
                                {t.label()}
                                {move || {
                                    let n = unread();
                                    (n > 0 && t != Tab::Closed).then(|| view! {
                                        <span class="badge" aria-label=format!("{n} unread")>{n.min(99)}</span>
                                    })
                                }}
                            </a>
                        }
                    }).collect_view()}
                </div>
            </header>
            <Offers />
            {move || console.list_error.get().map(|e| view! { <p class="list-error" role="alert">{e}</p> })}
            {move || items().is_empty().then(|| {
                let (title, hint) = match tab.get() {
                    Tab::Mine => ("Nothing assigned to you", "Conversations routed to you or that you claim show up here."),
                    Tab::Unassigned => ("Nobody is waiting", "New visitors who wait for someone show up here."),
                    Tab::All => ("No open conversations", "When visitors write from your site, their conversations show up here."),
                    Tab::Closed => ("No closed conversations", "Conversations you close are kept here and can be reopened."),
                };
                view! {
                    <div class="list-empty" role="status">
                        <strong>{title}</strong>
                        <span>{hint}</span>
                    </div>
                }
            })}
            <ul class="items" role="list">
                <For each=items key=|s| (s.id.clone(), s.last_activity_at, s.last_seq, s.status, s.assignee.clone().map(|a| a.id)) let:summary>
                    <ListItem summary=summary />
                </For>
            </ul>
        </section>
    }
}

#[component]
fn ListItem(summary: ConversationSummary) -> impl IntoView {
    let console = expect_context::<Console>();
    let id = summary.id.clone();
    let name = display_name(&summary.contact);
    let avatar = initials(&name);
    let preview = summary
        .last_message_preview
        .clone()
        .unwrap_or_else(|| "No messages yet".to_owned());
    let waiting = summary.status == ConversationStatus::Unassigned;
    let created = summary.created_at;
    let activity = summary.last_activity_at;
    let me = console.my_id();
    let assignee = summary.assignee.as_ref().map(|a| {
        if a.id == me {
            "You".to_owned()
        } else {
            a.name.clone()
        }
    });
    let selected = {
        let id = id.clone();
        Memo::new(move |_| {
            console
                .route
                .with(|r| r.conversation() == Some(id.as_str()))
        })
    };
    let unread = {
        let id = id.clone();
        Memo::new(move |_| console.inbox.with(|i| i.unread(&id)))
    };
    let href = {
        let id = id.clone();
        move || {
            Route::Conversation {
                tab: console.route.with(Route::tab),
                id: id.clone(),
            }
            .to_hash()
        }
    };
    let status = match summary.status {
        ConversationStatus::Unassigned => "waiting",
        ConversationStatus::Open => "open",
        ConversationStatus::Closed => "closed",
    };
    view! {
        <li>
            <a class="item" href=href aria-current=move || selected.get().then_some("true")
                class:unread=move || { unread.get() > 0 } data-conversation=id.clone() data-status=status>
                <span class="avatar" aria-hidden="true">{avatar}</span>
                <span class="item-main">
                    <span class="item-top">
                        <span class="item-name">{name}</span>
                        <time class="item-time">{move || ago(console.clock.get().1, activity)}</time>
                    </span>
                    <span class="item-preview">{preview}</span>
                    <span class="item-meta">
                        {if waiting {
                            view! { <span class="pill waiting">{move || waiting_text(console.clock.get().1, created)}</span> }.into_any()
                        } else if let Some(name) = assignee {
                            // In "Mine" every conversation is the viewer's: the pill would only repeat it.
                            let in_mine = move || console.route.with(Route::tab) == Tab::Mine;
                            view! { <span class="pill" hidden=in_mine>{name}</span> }.into_any()
                        } else {
                            view! { <span class="pill">{status}</span> }.into_any()
                        }}
                        {move || {
                            let n = unread.get();
                            (n > 0).then(|| view! { <span class="badge" aria-label=format!("{n} unread")>{n.min(99)}</span> })
                        }}
                    </span>
                </span>
            </a>
        </li>
    }
}

/// Requests offered to me (manual routing), with accept and refuse.
#[component]
fn Offers() -> impl IntoView {
    let console = expect_context::<Console>();
    move || {
        let offers = console.offers.get();
        (!offers.is_empty()).then(|| {
            view! {
                <section class="offers" aria-label="Pending requests">
                    <h2>"Pending requests"</h2>
                    {offers.into_iter().map(|offer| {
                        let id = offer.id.clone();
                        let id2 = offer.id.clone();
                        let name = display_name(&offer.contact);
                        let created = offer.created_at;
                        view! {
                            <div class="offer" data-offer=offer.id.clone()>
                                <div class="offer-text">
                                    <strong>{name}</strong>
                                    <span>{offer.last_message_preview.clone().unwrap_or_default()}</span>
                                    <span class="muted">{move || waiting_text(console.clock.get().1, created)}</span>
                                </div>
                                <div class="offer-actions">
                                    <button type="button" class="primary small" on:click=move |_| {
                                        console.act(&id, "accept", "Request accepted");
                                        console.open(&id);
                                    }>"Accept"</button>
                                    <button type="button" class="small" on:click=move |_| console.act(&id2, "refuse", "Request refused")>"Refuse"</button>
                                </div>
                            </div>
                        }
                    }).collect_view()}
                </section>
            }
        })
    }
}

/// Online / away / offline.
#[component]
pub fn PresenceSwitch() -> impl IntoView {
    let console = expect_context::<Console>();
    let current = move || console.my_status().map(|s| s.chosen_presence);
    view! {
        <div class="presence" role="radiogroup" aria-label="Your availability">
            {[(Presence::Online, "Online"), (Presence::Away, "Away"), (Presence::Offline, "Offline")]
                .into_iter()
                .map(|(presence, label)| view! {
                    <button type="button" role="radio" class=format!("presence-{}", presence.as_str())
                        aria-checked=move || (current() == Some(presence)).to_string()
                        on:click=move |_| console.set_presence(presence)>
                        <span class="presence-dot" aria-hidden="true"></span>{label}
                    </button>
                })
                .collect_view()}
        </div>
    }
}

/// Goes back to the list (phones).
pub fn back_to_list(console: Console) {
    let tab = console.route.with_untracked(Route::tab);
    navigate(&Route::Inbox(tab));
}
