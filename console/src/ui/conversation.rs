//! The conversation view: header with the actions (claim, close, reopen, transfer), the
//! messages (older ones load on scrolling up), typing indicators with the visitor's live draft,
//! the composer, and the contact panel. `Messages` and `Composer` also serve the staff room.

use leptos::html;
use leptos::prelude::*;
use natter_sdk::api::TransferRequest;
use natter_sdk::protocol::{AuthorKind, ConversationStatus, StaffRole};

use super::list::back_to_list;
use super::{clock_time, date_time};
use crate::inbox::{display_name, initials};
use crate::store::Console;
use crate::thread::Line;
use crate::useragent::browser_label;

/// Loading older messages starts when the list is scrolled this close to its top.
const LOAD_OLDER_PX: i32 = 80;

#[component]
pub fn ConversationView(id: String) -> impl IntoView {
    let console = expect_context::<Console>();
    console.open_thread(&id, true);
    let summary = {
        let id = id.clone();
        Memo::new(move |_| console.inbox.with(|i| i.get(&id).cloned()))
    };
    let me = console.my_id();
    let transfer_open = RwSignal::new(false);
    // The contact panel has its own column on wide screens; narrower ones open it over the
    // conversation with the "Contact" button.
    let contact_open = RwSignal::new(false);
    let id_actions = id.clone();
    let actions = move || {
        let summary = summary.get()?;
        let id = id_actions.clone();
        let mine = summary.assignee.as_ref().is_some_and(|a| a.id == me);
        let manager = console.is_manager();
        let (id1, id2) = (id.clone(), id);
        Some(view! {
            <div class="actions">
                {match summary.status {
                    ConversationStatus::Unassigned => view! {
                        <button type="button" class="primary" on:click=move |_| console.act(&id1, "claim", "Conversation claimed")>"Claim"</button>
                    }.into_any(),
                    ConversationStatus::Open if !mine => view! {
                        <button type="button" on:click=move |_| console.act(&id1, "claim", "You took over the conversation")>"Take over"</button>
                    }.into_any(),
                    ConversationStatus::Closed => view! {
                        <button type="button" on:click=move |_| console.act(&id1, "reopen", "Conversation reopened")>"Reopen"</button>
                    }.into_any(),
                    ConversationStatus::Open => ().into_any(),
                }}
                {(summary.status == ConversationStatus::Open && (mine || manager)).then(|| view! {
                    <button type="button" on:click=move |_| transfer_open.set(true)>"Transfer"</button>
                })}
                {(summary.status != ConversationStatus::Closed).then(|| view! {
                    <button type="button" class="danger" on:click=move |_| console.act(&id2, "close", "Conversation closed")>"Close"</button>
                })}
            </div>
        })
    };
    let title = move || {
        summary
            .get()
            .map(|s| display_name(&s.contact))
            .unwrap_or_else(|| "Conversation".to_owned())
    };
    let subtitle = move || {
        summary.get().map(|s| match (s.status, s.assignee) {
            (ConversationStatus::Unassigned, _) => "Waiting for someone".to_owned(),
            (ConversationStatus::Closed, _) => "Closed".to_owned(),
            (_, Some(a)) => format!("Assigned to {}", a.name),
            (_, None) => "Open".to_owned(),
        })
    };
    let closed = move || {
        summary
            .get()
            .is_some_and(|s| s.status == ConversationStatus::Closed)
    };
    view! {
        <div class="conversation">
            <div class="thread">
                <header class="thread-head">
                    <button type="button" class="back" aria-label="Back to the list" on:click=move |_| back_to_list(console)>"‹"</button>
                    <div class="thread-title">
                        <h2>{title}</h2>
                        <span class="muted">{subtitle}</span>
                    </div>
                    {actions}
                    <button type="button" class="contact-toggle" aria-controls="contact-panel"
                        aria-expanded=move || contact_open.get().to_string()
                        title="Contact details" on:click=move |_| contact_open.update(|o| *o = !*o)>
                        {super::icons::contact()}<span class="visually-hidden">"Contact details"</span>
                    </button>
                </header>
                <Messages id=id.clone() />
                <TypingLine id=id.clone() />
                <Composer id=id.clone() disabled=Signal::derive(closed) />
            </div>
            <ContactPanel summary=summary open=contact_open />
            {move || transfer_open.get().then(|| view! { <TransferDialog id=id.clone() open=transfer_open /> })}
        </div>
    }
}

/// The messages of a conversation, oldest at the top.
#[component]
pub fn Messages(id: String) -> impl IntoView {
    let console = expect_context::<Console>();
    let me = console.my_id();
    let scroller = NodeRef::<html::Div>::new();
    let lines = {
        let id = id.clone();
        Memo::new(move |_| {
            let pending = console.pending.get();
            let mine: Vec<_> = pending.iter().filter(|e| e.conversation_id == id).collect();
            console
                .threads
                .with(|t| t.get(&id).map(|t| t.lines(&me, mine)).unwrap_or_default())
        })
    };
    let loaded = {
        let id = id.clone();
        move || {
            console
                .threads
                .with(|t| t.get(&id).is_some_and(|t| t.loaded))
        }
    };
    let has_more = {
        let id = id.clone();
        move || {
            console
                .threads
                .with(|t| t.get(&id).is_some_and(|t| t.has_more_before))
        }
    };
    // Keeps the view pinned: to the bottom when it was there, to the same message when older
    // ones are added above.
    let previous = StoredValue::new((0usize, String::new(), 0i32));
    Effect::new(move |_| {
        let lines = lines.get();
        let Some(el) = scroller.get() else { return };
        let first = lines.first().map(Line::key).unwrap_or_default();
        let (count, old_first, old_height) = previous.get_value();
        let height = el.scroll_height();
        let near_bottom = old_height - el.scroll_top() - el.client_height() < 120;
        if count > 0 && first != old_first && lines.len() > count {
            el.set_scroll_top(el.scroll_top() + height - old_height);
        } else if count == 0 || near_bottom {
            el.set_scroll_top(height);
        }
        previous.set_value((lines.len(), first, height));
    });
    let on_scroll = {
        let id = id.clone();
        move |_| {
            if let Some(el) = scroller.get()
                && el.scroll_top() < LOAD_OLDER_PX
            {
                console.load_older(&id);
            }
        }
    };
    let id_older = id.clone();
    view! {
        <div class="messages" node_ref=scroller on:scroll=on_scroll role="log" aria-live="polite" aria-label="Messages" tabindex="0">
            {move || has_more().then(|| {
                let id = id_older.clone();
                view! { <button type="button" class="link older" on:click=move |_| console.load_older(&id)>"Load older messages"</button> }
            })}
            {move || (!loaded()).then(|| view! { <p class="muted center">"Loading…"</p> })}
            <For each=move || lines.get() key=Line::key let:line>
                <MessageLine line=line id=id.clone() />
            </For>
        </div>
    }
}

#[component]
fn MessageLine(line: Line, id: String) -> impl IntoView {
    let console = expect_context::<Console>();
    match line {
        Line::Message {
            message,
            starts_group,
            mine,
            lead,
        } => {
            let system = message.author.kind == AuthorKind::System;
            if system {
                return view! { <div class="system-line">{message.text}</div> }.into_any();
            }
            let name = message
                .author
                .name
                .clone()
                .unwrap_or_else(|| match message.author.kind {
                    AuthorKind::Visitor => "Visitor".to_owned(),
                    _ => "Staff".to_owned(),
                });
            let role = match message.author.role {
                Some(StaffRole::Owner) => Some("Owner"),
                Some(StaffRole::Admin) => Some("Admin"),
                _ => None,
            };
            let side = if mine {
                "mine"
            } else if message.author.kind == AuthorKind::Visitor {
                "theirs"
            } else {
                "colleague"
            };
            view! {
                <div class=format!("line {side}") class:lead=lead class:grouped=!starts_group data-seq=message.seq.to_string()>
                    {starts_group.then(|| view! {
                        <div class="line-head">
                            <span class="line-name">{if mine { "You".to_owned() } else { name }}</span>
                            {(lead && role.is_some()).then(|| view! { <span class="role-badge">{role}</span> })}
                            <time>{clock_time(message.created_at)}</time>
                        </div>
                    })}
                    <div class="bubble">{message.text}</div>
                </div>
            }
            .into_any()
        }
        Line::Pending { text, .. } => view! {
            <div class="line mine pending" data-state="pending">
                <div class="bubble">{text}</div>
                <div class="line-state">"Sending…"</div>
            </div>
        }
        .into_any(),
        Line::Failed(failed) => {
            let client_id = failed.client_id.clone();
            view! {
                <div class="line mine failed" data-state="failed" role="alert">
                    <div class="bubble">{failed.text}</div>
                    <div class="line-state">
                        {format!("Not sent: {}", failed.reason)}
                        <button type="button" class="link" on:click=move |_| console.dismiss_failed(&id, &client_id)>"Dismiss"</button>
                    </div>
                </div>
            }
            .into_any()
        }
    }
}

/// "Sam is typing…" with the visitor's draft when the tenant shares it.
#[component]
pub fn TypingLine(id: String) -> impl IntoView {
    let console = expect_context::<Console>();
    let typing = move || {
        console.typing.with(|t| {
            t.iter()
                .filter(|t| t.conversation_id == id)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="typing" aria-live="polite">
            {move || typing().into_iter().map(|t| {
                let name = t.author.name.clone().unwrap_or_else(|| "The visitor".to_owned());
                view! {
                    <div class="typing-line">
                        <span class="dots" aria-hidden="true"><i></i><i></i><i></i></span>
                        <span>{format!("{name} is typing")}</span>
                        {t.preview.filter(|p| !p.is_empty()).map(|p| view! { <q class="preview" title="What they are typing">{p}</q> })}
                    </div>
                }
            }).collect_view()}
        </div>
    }
}

/// The reply box: Enter sends, Shift+Enter starts a new line.
#[component]
pub fn Composer(id: String, disabled: Signal<bool>) -> impl IntoView {
    let console = expect_context::<Console>();
    let text = RwSignal::new(String::new());
    let field = NodeRef::<html::Textarea>::new();
    let id_send = id.clone();
    let send = move || {
        let value = text.get_untracked();
        if value.trim().is_empty() {
            return;
        }
        if console.send(&id_send, &value) {
            text.set(String::new());
            if let Some(el) = field.get() {
                el.set_value("");
            }
        }
    };
    let send_key = send.clone();
    let on_keydown = move |event: leptos::ev::KeyboardEvent| {
        if event.key() == "Enter" && !event.shift_key() && !event.is_composing() {
            event.prevent_default();
            send_key();
        }
    };
    let id_input = id.clone();
    let on_input = move |event| {
        let value = event_target_value(&event);
        console.set_typing(&id_input, !value.trim().is_empty());
        text.set(value);
    };
    let id_blur = id.clone();
    view! {
        <form class="composer" on:submit=move |e: leptos::ev::SubmitEvent| { e.prevent_default(); send(); }>
            <label for="composer" class="visually-hidden">"Reply"</label>
            <textarea id="composer" node_ref=field rows="2"
                placeholder=move || if disabled.get() { "This conversation is closed. Reopen it to reply." } else { "Write a reply…  (Enter to send, Shift+Enter for a new line)" }
                disabled=move || disabled.get()
                on:keydown=on_keydown on:input=on_input
                on:blur=move |_| console.set_typing(&id_blur, false)></textarea>
            <button type="submit" class="primary send" disabled=move || disabled.get() || text.with(|t| t.trim().is_empty())
                aria-label="Send">"Send"</button>
        </form>
    }
}

/// Who the visitor is: name, e-mail, page, browser, first seen.
#[component]
fn ContactPanel(
    summary: Memo<Option<natter_sdk::protocol::ConversationSummary>>,
    open: RwSignal<bool>,
) -> impl IntoView {
    move || {
        summary.get().map(|s| {
            let contact = s.contact;
            let name = display_name(&contact);
            let avatar = initials(&name);
            let browser = contact.user_agent.as_deref().and_then(browser_label);
            view! {
                <aside class="contact" id="contact-panel" class:open=move || open.get() aria-label="Contact">
                    <button type="button" class="link contact-close" on:click=move |_| open.set(false)>"Close details"</button>
                    <div class="contact-head">
                        <span class="avatar large" aria-hidden="true">{avatar}</span>
                        <h3>{name}</h3>
                        {contact.external_id.is_some().then(|| view! { <span class="pill verified">"Verified"</span> })}
                    </div>
                    <dl>
                        <dt>"E-mail"</dt>
                        <dd>{contact.email.clone().unwrap_or_else(|| "—".to_owned())}</dd>
                        <dt>"Page"</dt>
                        <dd class="wrap">{match contact.page_url.clone() {
                            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                                let href = url.clone();
                                view! { <a href=href target="_blank" rel="noopener noreferrer">{url}</a> }.into_any()
                            }
                            Some(url) => view! { <span>{url}</span> }.into_any(),
                            None => view! { <span>"—"</span> }.into_any(),
                        }}</dd>
                        <dt>"Browser"</dt>
                        <dd>{browser.unwrap_or_else(|| "—".to_owned())}</dd>
                        <dt>"First seen"</dt>
                        <dd>{contact.first_seen_at.map(date_time).unwrap_or_else(|| "—".to_owned())}</dd>
                        <dt>"Conversation started"</dt>
                        <dd>{date_time(s.created_at)}</dd>
                        {s.team.map(|team| view! { <dt>"Team"</dt><dd>{team}</dd> })}
                    </dl>
                </aside>
            }
        })
    }
}

/// Hand the conversation to a colleague or a team, with a note.
#[component]
fn TransferDialog(id: String, open: RwSignal<bool>) -> impl IntoView {
    let console = expect_context::<Console>();
    let target = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let me = console.my_id();
    let agents = move || {
        console
            .agents
            .get()
            .into_iter()
            .filter(|a| a.id != me)
            .collect::<Vec<_>>()
    };
    let teams = move || {
        let mut teams: Vec<String> = console
            .agents
            .get()
            .into_iter()
            .flat_map(|a| a.teams)
            .collect();
        teams.sort();
        teams.dedup();
        teams
    };
    // Focus moves into the dialog when it opens; Esc closes it (and goes no further, where it
    // would leave the conversation).
    let first = NodeRef::<html::Select>::new();
    Effect::new(move |_| {
        if let Some(select) = first.get() {
            let _ = select.focus();
        }
    });
    let on_keydown = move |event: leptos::ev::KeyboardEvent| {
        if event.key() == "Escape" {
            event.stop_propagation();
            open.set(false);
        }
    };
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let chosen = target.get_untracked();
        let note = Some(note.get_untracked()).filter(|n| !n.trim().is_empty());
        let request = if let Some(agent) = chosen.strip_prefix("agent:") {
            TransferRequest {
                to_agent: Some(agent.to_owned()),
                to_team: None,
                to_queue: false,
                note,
            }
        } else if let Some(team) = chosen.strip_prefix("team:") {
            TransferRequest {
                to_agent: None,
                to_team: Some(team.to_owned()),
                to_queue: false,
                note,
            }
        } else if chosen == "queue" {
            TransferRequest {
                to_agent: None,
                to_team: None,
                to_queue: true,
                note,
            }
        } else {
            console.say("Choose who should take the conversation", true);
            return;
        };
        console.transfer(&id, request);
        open.set(false);
    };
    view! {
        <div class="dialog-backdrop" on:click=move |_| open.set(false)></div>
        <form class="dialog" role="dialog" aria-modal="true" aria-labelledby="transfer-title" on:submit=submit on:keydown=on_keydown>
            <h2 id="transfer-title">"Transfer conversation"</h2>
            <label for="transfer-target">"To"</label>
            <select id="transfer-target" node_ref=first on:change=move |e| target.set(event_target_value(&e))>
                <option value="">"Choose…"</option>
                <optgroup label="Colleagues">
                    {move || agents().into_iter().map(|a| view! {
                        <option value=format!("agent:{}", a.id)>{format!("{} · {} · {} of {} chats", a.name, a.presence.as_str(), a.load, a.capacity)}</option>
                    }).collect_view()}
                </optgroup>
                <optgroup label="Teams">
                    {move || teams().into_iter().map(|t| view! { <option value=format!("team:{t}")>{t.clone()}</option> }).collect_view()}
                </optgroup>
                <option value="queue">"Back to the queue"</option>
            </select>
            <label for="transfer-note">"Note for them (visitors never see it)"</label>
            <textarea id="transfer-note" rows="3" on:input=move |e| note.set(event_target_value(&e))></textarea>
            <div class="dialog-actions">
                <button type="button" on:click=move |_| open.set(false)>"Cancel"</button>
                <button type="submit" class="primary">"Transfer"</button>
            </div>
        </form>
    }
}
