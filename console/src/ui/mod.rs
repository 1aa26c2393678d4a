//! The console's screens, as Leptos components (client-side rendering): the sign-in form, the
//! shell (navigation rail, connection banner, notices, keyboard shortcuts) and the screens the
//! route selects. `list` is the conversation list, `conversation` the conversation view with
//! its contact panel, `room` the staff room, `team` availability and colleagues, `help` the
//! shortcuts dialog. Styles are in `console/style.css`; no inline styles, so the page's CSP can
//! forbid them.

mod conversation;
mod help;
mod icons;
mod list;
mod room;
mod team;

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_sdk::protocol::{Principal, PrincipalKind};
use wasm_bindgen::JsCast;

use crate::api::{Api, ApiError};
use crate::inbox::{Tab, initials};
use crate::notify::page_title;
use crate::route::Route;
use crate::settings::Settings;
use crate::status::{Banner, banner};
use crate::storage;
use crate::store::{Console, navigate};

/// Where the app stands. `Console` is a few hundred bytes of copyable handles held once, so
/// boxing it (as clippy suggests) would only cost the `Copy` the signal needs.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy)]
enum Phase {
    /// Checking saved tokens.
    Checking,
    /// Signed out; the reason, if the session ended on its own or was refused.
    SignedOut,
    /// Signed in.
    Ready(Console),
}

/// The message for a principal that may not use the console.
const NOT_STAFF: &str = "This console is for staff accounts. Sign in with your staff e-mail.";

/// Mounts the console on the page's body.
pub fn mount() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let api = Api::restore();
    let phase = RwSignal::new(if api.has_tokens() {
        Phase::Checking
    } else {
        Phase::SignedOut
    });
    let reason = RwSignal::new(None::<String>);
    let api = StoredValue::new_local(api);
    let owner = StoredValue::new_local(Owner::current());

    let begin = move |principal: Principal| {
        if principal.kind != PrincipalKind::Staff {
            api.with_value(Api::forget);
            reason.set(Some(NOT_STAFF.to_owned()));
            phase.set(Phase::SignedOut);
            return;
        }
        // Created under the app's owner, so the signals live as long as the page.
        let start = || Console::start(principal, api.get_value());
        let console = match owner.get_value() {
            Some(owner) => owner.with(start),
            None => start(),
        };
        phase.set(Phase::Ready(console));
    };

    api.with_value(|a| {
        a.on_signed_out(move || {
            if let Phase::Ready(console) = phase.get_untracked() {
                console.stop();
            }
            reason.set(Some("Your session ended. Please sign in again.".to_owned()));
            phase.set(Phase::SignedOut);
        })
    });

    // A token that is plainly not a staff member's (a visitor's planted in this origin's
    // storage) is not even sent: the server would refuse it, and this says why.
    if phase.get_untracked() == Phase::Checking
        && api.with_value(|a| {
            a.access_token()
                .is_some_and(|t| crate::token::is_foreign(&t))
        })
    {
        api.with_value(Api::forget);
        reason.set(Some(NOT_STAFF.to_owned()));
        phase.set(Phase::SignedOut);
    }
    if phase.get_untracked() == Phase::Checking {
        let a = api.get_value();
        spawn_local(async move {
            match a.get::<Principal>("/v1/auth/me").await {
                Ok(principal) => begin(principal),
                Err(ApiError::SignedOut) => {}
                Err(
                    error @ ApiError::Server {
                        status: 401 | 403, ..
                    },
                ) => {
                    a.forget();
                    reason.set(Some(format!("{NOT_STAFF} ({error})")));
                    phase.set(Phase::SignedOut);
                }
                Err(error) => {
                    reason.set(Some(format!("Could not reach natter: {error}")));
                    phase.set(Phase::SignedOut);
                }
            }
        });
    }

    let sign_out = move || {
        if let Phase::Ready(console) = phase.get_untracked() {
            let pending = console.pending.with_untracked(Vec::len);
            if pending > 0 {
                let question = format!(
                    "{pending} replies have not reached the server yet and will be lost. Sign out anyway?"
                );
                let confirmed = window().confirm_with_message(&question).unwrap_or(false);
                if !confirmed {
                    return;
                }
            }
            console.stop();
        }
        api.with_value(Api::forget);
        storage::clear_all();
        reason.set(None);
        phase.set(Phase::SignedOut);
    };

    move || match phase.get() {
        Phase::Checking => {
            view! { <div class="splash" role="status">"Loading natter…"</div> }.into_any()
        }
        Phase::SignedOut => view! { <Login api=api reason=reason on_signed_in=begin /> }.into_any(),
        Phase::Ready(console) => view! { <Shell console=console sign_out=sign_out /> }.into_any(),
    }
}

impl PartialEq for Phase {
    fn eq(&self, other: &Self) -> bool {
        matches!(
            (self, other),
            (Phase::Checking, Phase::Checking) | (Phase::SignedOut, Phase::SignedOut)
        )
    }
}

#[component]
fn Login(
    api: StoredValue<Api, LocalStorage>,
    reason: RwSignal<Option<String>>,
    on_signed_in: impl Fn(Principal) + Copy + 'static,
) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let submit = move |event: ev::SubmitEvent| {
        event.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        reason.set(None);
        let a = api.get_value();
        spawn_local(async move {
            let outcome = a
                .login(email.get_untracked().trim(), &password.get_untracked())
                .await;
            busy.set(false);
            match outcome {
                Ok(tokens) => on_signed_in(tokens.principal),
                Err(error @ ApiError::Server { status: 401, .. }) => {
                    reason.set(Some(format!("Wrong e-mail or password ({error}).")))
                }
                Err(error) => reason.set(Some(format!("Could not sign in: {error}"))),
            }
        });
    };
    view! {
        <main class="login">
            <form class="login-card" on:submit=submit aria-labelledby="login-title">
                <div class="brand"><span class="logo" aria-hidden="true">"n"</span>"natter"</div>
                <h1 id="login-title">"Sign in to your inbox"</h1>
                <label for="email">"E-mail"</label>
                <input id="email" type="email" autocomplete="username" required
                    prop:value=email on:input=move |e| email.set(event_target_value(&e)) />
                <label for="password">"Password"</label>
                <input id="password" type="password" autocomplete="current-password" required
                    prop:value=password on:input=move |e| password.set(event_target_value(&e)) />
                {move || reason.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
                <button class="primary" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </main>
    }
}

#[component]
fn Shell(console: Console, sign_out: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    provide_context(console);
    console.route.set(Route::parse(&location_hash()));
    let _ = window_event_listener(ev::hashchange, move |_| {
        console.route.set(Route::parse(&location_hash()));
    });
    let _ = window_event_listener(ev::online, move |_| console.set_offline(false));
    let _ = window_event_listener(ev::offline, move |_| console.set_offline(true));
    let _ = window_event_listener_untyped("visibilitychange", move |_| {
        console.set_hidden(document().hidden());
    });
    let _ = window_event_listener(ev::keydown, move |event| shortcuts(console, &event));
    set_interval(move || console.tick(), std::time::Duration::from_secs(1));
    console.set_hidden(document().hidden());
    console.offline.set(!window().navigator().on_line());

    // The page title counts what needs attention.
    Effect::new(move |_| {
        let attention = console.inbox.with(|i| i.attention());
        document().set_title(&page_title(attention));
    });

    let manager = console.is_manager();
    let me = console
        .me
        .with_value(|p| p.name.clone().unwrap_or_else(|| p.id.clone()));
    let my_initials = initials(&me);
    let route = console.route;
    // On phones: the list, a conversation (full screen), or another page with the bottom bar.
    let screen = move || match route.get() {
        Route::Inbox(_) => "list",
        Route::Conversation { .. } | Route::StaffRoom => "detail",
        Route::Team | Route::Settings(_) => "page",
    };
    let is = move |f: fn(&Route) -> bool| move || route.with(f);
    view! {
        <div class="app" data-screen=screen>
            <a class="skip" href="#main">"Skip to content"</a>
            <nav class="rail" aria-label="Main">
                <div class="logo" aria-hidden="true">"n"</div>
                <a href="#/inbox/mine" class="rail-item"
                    aria-current=move || is(|r| matches!(r, Route::Inbox(_) | Route::Conversation { .. }))().then_some("page")>
                    {icons::inbox()}<span class="rail-label">"Inbox"</span>
                    {move || {
                        let n = console.inbox.with(|i| i.attention());
                        (n > 0).then(|| view! { <span class="dot" aria-label=format!("{n} unread")>{n.min(99)}</span> })
                    }}
                </a>
                <a href="#/staff-room" class="rail-item" aria-current=move || is(|r| *r == Route::StaffRoom)().then_some("page")>
                    {icons::room()}<span class="rail-label">"Staff room"</span>
                </a>
                <a href="#/team" class="rail-item" aria-current=move || is(|r| *r == Route::Team)().then_some("page")>
                    {icons::team()}<span class="rail-label">"Team"</span>
                </a>
                {manager.then(|| view! {
                    <a href="#/settings" class="rail-item" aria-current=move || is(|r| matches!(r, Route::Settings(_)))().then_some("page")>
                        {icons::settings()}<span class="rail-label">"Settings"</span>
                    </a>
                })}
                <div class="rail-spacer"></div>
                <button class="rail-item" type="button" on:click=move |_| console.help_open.set(true)
                    aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)">
                    {icons::help()}<span class="rail-label">"Help"</span>
                </button>
                <button class="rail-item me" type="button" on:click=move |_| sign_out()
                    title=format!("Signed in as {me}. Sign out") aria-label="Sign out">
                    <span class="avatar small" aria-hidden="true">{my_initials}</span><span class="rail-label">"Sign out"</span>
                </button>
            </nav>
            <ConnectionBanner />
            <list::ConversationList />
            <main id="main" class="pane" tabindex="-1">
                {move || match route.get() {
                    Route::Conversation { id, .. } => view! { <conversation::ConversationView id=id /> }.into_any(),
                    Route::StaffRoom => view! { <room::StaffRoom /> }.into_any(),
                    Route::Team => view! { <team::TeamPanel /> }.into_any(),
                    Route::Settings(section) if manager => view! { <Settings section=section /> }.into_any(),
                    Route::Settings(_) => view! {
                        <div class="empty"><h2>"Settings"</h2><p>"Only owners and admins can change settings."</p></div>
                    }.into_any(),
                    Route::Inbox(_) => view! {
                        <div class="empty">
                            <div class="empty-art" aria-hidden="true">{icons::inbox()}</div>
                            <h2>"Pick a conversation"</h2>
                            <p>"Choose one from the list, or press "<kbd>"j"</kbd>" and "<kbd>"k"</kbd>" to move through it."</p>
                        </div>
                    }.into_any(),
                }}
            </main>
            <Notices />
            <help::HelpDialog />
        </div>
    }
}

/// The reconnecting / offline banner.
#[component]
fn ConnectionBanner() -> impl IntoView {
    let console = expect_context::<Console>();
    let state = move || {
        let (state, refused) = console.connection.get();
        let (now, _) = console.clock.get();
        banner(
            state,
            now.max(crate::live::mono_now()),
            console.offline.get(),
            refused,
        )
    };
    move || {
        let (text, retry) = match state() {
            Banner::Hidden => return None,
            Banner::Connecting => ("Connecting to natter…".to_owned(), false),
            Banner::Reconnecting { seconds: 0 } => {
                ("Connection lost. Reconnecting…".to_owned(), false)
            }
            Banner::Reconnecting { seconds } => (
                format!(
                    "Connection lost. Retrying in {seconds} s. Replies you write are kept and sent when it returns."
                ),
                true,
            ),
            Banner::Offline => (
                "You are offline. Replies are kept and sent when the network returns.".to_owned(),
                false,
            ),
            Banner::SignedOut => (
                "The server refused this session. Reconnecting with a fresh token…".to_owned(),
                false,
            ),
        };
        Some(view! {
            <div class="banner" role="status" aria-live="polite">
                <span class="spinner" aria-hidden="true"></span>
                <span>{text}</span>
                {retry.then(|| view! {
                    <button type="button" class="link" on:click=move |_| console.retry_now()>"Retry now"</button>
                })}
            </div>
        })
    }
}

/// The notice at the bottom, dismissed by a click or after a while.
#[component]
fn Notices() -> impl IntoView {
    let console = expect_context::<Console>();
    Effect::new(move |_| {
        if console.notice.get().is_some() {
            set_timeout(
                move || console.notice.set(None),
                std::time::Duration::from_secs(6),
            );
        }
    });
    move || {
        console.notice.get().map(|notice| {
            view! {
                <div class="toast" class:error=notice.error role=if notice.error { "alert" } else { "status" }>
                    <span>{notice.text}</span>
                    <button type="button" class="link" aria-label="Dismiss" on:click=move |_| console.notice.set(None)>"✕"</button>
                </div>
            }
        })
    }
}

fn location_hash() -> String {
    window().location().hash().unwrap_or_default()
}

/// Whether an event comes from a text field (where letters are text, not shortcuts).
fn typing_in_field(event: &ev::KeyboardEvent) -> bool {
    event
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
}

/// The keyboard shortcuts listed in the help dialog.
fn shortcuts(console: Console, event: &ev::KeyboardEvent) {
    if event.ctrl_key() || event.meta_key() || event.alt_key() {
        return;
    }
    let key = event.key();
    if key == "Escape" {
        if console.help_open.get_untracked() {
            console.help_open.set(false);
        } else if let Some(el) = document().active_element()
            && typing_in_field(event)
        {
            let _ = el.dyn_into::<web_sys::HtmlElement>().map(|el| el.blur());
        } else if console.route.with_untracked(|r| r.conversation().is_some()) {
            let tab = console.route.with_untracked(Route::tab);
            navigate(&Route::Inbox(tab));
        }
        return;
    }
    if typing_in_field(event) {
        return;
    }
    match key.as_str() {
        "j" | "k" => {
            let route = console.route.get_untracked();
            let tab = route.tab();
            let search = console.search.get_untracked();
            let ids: Vec<String> = console
                .inbox
                .with_untracked(|i| i.list(tab, &search).iter().map(|s| s.id.clone()).collect());
            if ids.is_empty() {
                return;
            }
            let at = route
                .conversation()
                .and_then(|id| ids.iter().position(|i| i == id));
            let next = match (at, key.as_str()) {
                (None, _) => 0,
                (Some(i), "j") => (i + 1).min(ids.len() - 1),
                (Some(i), _) => i.saturating_sub(1),
            };
            navigate(&Route::Conversation {
                tab,
                id: ids[next].clone(),
            });
        }
        "/" => {
            event.prevent_default();
            focus("search");
        }
        "r" => {
            event.prevent_default();
            focus("composer");
        }
        "?" => console.help_open.set(true),
        "1" | "2" | "3" | "4" => {
            let index = key.parse::<usize>().unwrap_or(1) - 1;
            navigate(&Route::Inbox(Tab::ALL[index]));
        }
        _ => {}
    }
}

/// Focuses the element with this id.
pub fn focus(id: &str) {
    if let Some(el) = document()
        .get_element_by_id(id)
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// `HH:MM` in the browser's time zone.
pub fn clock_time(at: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64));
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

/// A date and time for the contact panel.
pub fn date_time(at: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64));
    String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED))
}
