//! Availability and the team: my presence and capacity, alerts (desktop permission, mute),
//! the waiting line per team, and colleagues' presence and load.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_sdk::protocol::Presence;

use super::list::PresenceSwitch;
use crate::alerts;
use crate::inbox::initials;
use crate::notify::Permission;
use crate::store::Console;

#[component]
pub fn TeamPanel() -> impl IntoView {
    let console = expect_context::<Console>();
    console.load_routing();
    let capacity = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(status) = console.my_status() {
            capacity.set(status.capacity.to_string());
        }
    });
    let save_capacity = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        match capacity.get_untracked().trim().parse::<u32>() {
            Ok(n) if (1..=100).contains(&n) => console.set_capacity(n),
            _ => console.say("Capacity: a whole number from 1 to 100", true),
        }
    };
    let ask_permission = move |_| {
        spawn_local(async move {
            let permission = alerts::request_permission().await;
            console.permission.set(permission);
        });
    };
    let me = console.my_id();
    view! {
        <div class="team">
            <header class="thread-head"><div class="thread-title"><h2>"Availability and team"</h2></div></header>
            <div class="cards">
                <section class="card" aria-labelledby="me-title">
                    <h3 id="me-title">"You"</h3>
                    <PresenceSwitch />
                    <p class="muted">{move || console.my_status().map(|s| format!(
                        "{} of {} conversations in hand", s.load, s.capacity))}</p>
                    <form class="inline" on:submit=save_capacity>
                        <label for="capacity">"Capacity"</label>
                        <input id="capacity" type="number" min="1" max="100" inputmode="numeric"
                            prop:value=move || capacity.get() on:input=move |e| capacity.set(event_target_value(&e)) />
                        <button type="submit">"Save"</button>
                    </form>
                </section>
                <section class="card" aria-labelledby="alerts-title">
                    <h3 id="alerts-title">"Alerts"</h3>
                    <p class="muted">"When this tab is in the background: a desktop notification and a short sound for new conversations and messages in yours."</p>
                    <p>{move || match console.permission.get() {
                        Permission::Granted => view! { <span class="pill ok">"Desktop notifications on"</span> }.into_any(),
                        Permission::Denied => view! { <span class="pill">"Blocked in the browser's site settings"</span> }.into_any(),
                        Permission::Unsupported => view! { <span class="pill">"Not supported by this browser"</span> }.into_any(),
                        Permission::Default => view! {
                            <button type="button" class="primary" on:click=ask_permission>"Enable desktop notifications"</button>
                        }.into_any(),
                    }}</p>
                    <label class="switch">
                        <input type="checkbox" prop:checked=move || console.muted.get()
                            on:change=move |e| console.set_muted(event_target_checked(&e)) />
                        "Mute alerts"
                    </label>
                    <button type="button" class="link" on:click=move |_| alerts::beep()>"Play the sound"</button>
                </section>
                <section class="card" aria-labelledby="queue-title">
                    <h3 id="queue-title">"Waiting line"</h3>
                    {move || {
                        let queues = console.queues.get();
                        if queues.iter().all(|q| q.waiting == 0) {
                            view! { <p class="muted">"Nobody is waiting."</p> }.into_any()
                        } else {
                            view! { <ul class="plain">{queues.into_iter().map(|q| view! {
                                <li><strong>{q.waiting}</strong>" waiting · "{q.team.unwrap_or_else(|| "everyone".to_owned())}</li>
                            }).collect_view()}</ul> }.into_any()
                        }
                    }}
                    <a href="#/inbox/unassigned">"Open the queue"</a>
                </section>
            </div>
            <section class="card wide" aria-labelledby="colleagues-title">
                <h3 id="colleagues-title">"Colleagues"</h3>
                <ul class="colleagues" role="list">
                    {move || {
                        let mut agents = console.agents.get();
                        agents.sort_by(|a, b| a.name.cmp(&b.name));
                        agents.into_iter().map(|a| {
                            let presence = a.presence.as_str();
                            let label = match a.presence {
                                Presence::Online => "Online",
                                Presence::Away => "Away",
                                Presence::Offline => "Offline",
                            };
                            let you = a.id == me;
                            view! {
                                <li class="colleague" data-agent=a.id.clone()>
                                    <span class="avatar" aria-hidden="true">{initials(&a.name)}<span class=format!("status-dot {presence}")></span></span>
                                    <span class="colleague-name">{a.name.clone()}{you.then_some(" (you)")}</span>
                                    <span class=format!("pill {presence}")>{label}</span>
                                    <span class="muted">{format!("{}/{}", a.load, a.capacity)}</span>
                                    <span class="muted">{a.teams.join(", ")}</span>
                                </li>
                            }
                        }).collect_view()
                    }}
                </ul>
            </section>
        </div>
    }
}
