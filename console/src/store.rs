//! The console's reactive state and the operations the screens call: one [`Console`] of copyable
//! signal handles, provided as context. It applies the live connection's reports to the sans-IO
//! models ([`Inbox`], [`Thread`]) and runs the REST calls, turning failures into a visible
//! notice rather than a broken screen.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_sdk::api::{
    AgentList, ConversationPage, MessagePage, PresenceRequest, QueueResponse, ReadPositionInfo,
    ReadPositions, ReadRequest, TransferRequest, UpdateAgentRequest,
};
use natter_sdk::client::{ClientEvent, ConnectionState, OutboxEntry};
use natter_sdk::protocol::{
    AgentStatus, Author, ConversationSummary, ErrorCode, Presence, Principal, QueueLength,
    ServerFrame, StaffRole, TextError,
};
use serde::Deserialize;

use crate::alerts;
use crate::api::{Api, ApiError};
use crate::inbox::{Inbox, Merge, Tab};
use crate::live::{Live, Report, mono_now};
use crate::notify::{self, Happening, Permission, Situation};
use crate::read_sync::ReadSync;
use crate::route::Route;
use crate::storage;
use crate::thread::{Failed, Thread};

/// Messages per history page.
const PAGE: usize = 50;
/// A typing indicator without a refresh disappears after this long (the `false` may be lost).
const TYPING_TTL_MS: u64 = 6_000;

/// `GET /v1/staff-room`.
#[derive(Debug, Clone, Deserialize)]
pub struct StaffRoom {
    /// The staff room's conversation id. (The answer's `last_seq` is not needed: the history
    /// is loaded like any conversation's.)
    pub conversation_id: String,
}

/// Someone typing in a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typing {
    /// The conversation.
    pub conversation_id: String,
    /// Who.
    pub author: Author,
    /// The visitor's draft, when the tenant shares it.
    pub preview: Option<String>,
    /// When the indicator lapses (the core's clock).
    pub until: u64,
}

/// A short message at the bottom of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The text.
    pub text: String,
    /// An error (drawn in red, announced assertively).
    pub error: bool,
}

/// The whole console state; every field is a copyable handle.
#[derive(Clone, Copy)]
pub struct Console {
    /// Who is signed in.
    pub me: StoredValue<Principal>,
    /// The conversation list.
    pub inbox: RwSignal<Inbox>,
    /// Loaded conversations, by id.
    pub threads: RwSignal<HashMap<String, Thread>>,
    /// Replies waiting for the server.
    pub pending: RwSignal<Vec<OutboxEntry>>,
    /// The connection state and whether the token was refused.
    pub connection: RwSignal<(ConnectionState, bool)>,
    /// The core's clock (milliseconds) and the wall clock, ticking every second.
    pub clock: RwSignal<(u64, i64)>,
    /// Typing indicators.
    pub typing: RwSignal<Vec<Typing>>,
    /// Every agent's routing status (colleagues and oneself).
    pub agents: RwSignal<Vec<AgentStatus>>,
    /// Waiting conversations per team.
    pub queues: RwSignal<Vec<QueueLength>>,
    /// Requests offered to me under the manual policy.
    pub offers: RwSignal<Vec<ConversationSummary>>,
    /// The staff room's conversation id, once known.
    pub staff_room: RwSignal<Option<String>>,
    /// The screen.
    pub route: RwSignal<Route>,
    /// The contact search.
    pub search: RwSignal<String>,
    /// The current notice.
    pub notice: RwSignal<Option<Notice>>,
    /// Alerts muted.
    pub muted: RwSignal<bool>,
    /// Desktop notification permission.
    pub permission: RwSignal<Permission>,
    /// The browser reports no network.
    pub offline: RwSignal<bool>,
    /// Loading the list failed (shown in the list).
    pub list_error: RwSignal<Option<String>>,
    /// The page is hidden.
    pub hidden: RwSignal<bool>,
    /// The help dialog is open.
    pub help_open: RwSignal<bool>,
    /// Read positions on their way to the server.
    read_sync: StoredValue<ReadSync>,
    live: StoredValue<Option<Live>, LocalStorage>,
    /// The REST client.
    pub api: StoredValue<Api, LocalStorage>,
}

impl Console {
    /// The state for `principal`, connecting at once. Read positions start from this
    /// browser's cache and are brought up to date from the server's (which every device of
    /// the staff member shares) as soon as they load.
    pub fn start(principal: Principal, api: Api) -> Console {
        let read: HashMap<String, u64> =
            storage::load(&format!("read:{}", principal.id)).unwrap_or_default();
        let console = Console {
            inbox: RwSignal::new(Inbox::new(principal.id.clone(), read)),
            me: StoredValue::new(principal),
            threads: RwSignal::new(HashMap::new()),
            pending: RwSignal::new(Vec::new()),
            connection: RwSignal::new((ConnectionState::Connecting, false)),
            clock: RwSignal::new((mono_now(), js_sys::Date::now() as i64)),
            typing: RwSignal::new(Vec::new()),
            agents: RwSignal::new(Vec::new()),
            queues: RwSignal::new(Vec::new()),
            offers: RwSignal::new(Vec::new()),
            staff_room: RwSignal::new(None),
            route: RwSignal::new(Route::default()),
            search: RwSignal::new(String::new()),
            notice: RwSignal::new(None),
            muted: RwSignal::new(storage::load("muted").unwrap_or(false)),
            permission: RwSignal::new(alerts::permission()),
            offline: RwSignal::new(false),
            list_error: RwSignal::new(None),
            hidden: RwSignal::new(false),
            help_open: RwSignal::new(false),
            read_sync: StoredValue::new(ReadSync::default()),
            live: StoredValue::new_local(None),
            api: StoredValue::new_local(api.clone()),
        };
        let token = api.access_token().unwrap_or_default();
        let live = Live::new(&console.my_id(), token, move |report| console.apply(report));
        console.pending.set(live.pending());
        api.on_refreshed({
            let live = live.clone();
            move |token| live.set_token(token)
        });
        console.live.set_value(Some(live.clone()));
        live.connect();
        console.load_staff_room();
        console.load_routing();
        console.load_read_positions();
        console
    }

    /// The signed-in staff member's id.
    pub fn my_id(&self) -> String {
        self.me.with_value(|p| p.id.clone())
    }

    /// Whether the signed-in staff member manages the tenant (owner or admin).
    pub fn is_manager(&self) -> bool {
        self.me
            .with_value(|p| matches!(p.role, Some(StaffRole::Owner | StaffRole::Admin)))
    }

    fn live(&self) -> Option<Live> {
        self.live.get_value()
    }

    /// Shows a notice.
    pub fn say(&self, text: impl Into<String>, error: bool) {
        self.notice.set(Some(Notice {
            text: text.into(),
            error,
        }));
    }

    /// Closes the socket (signing out).
    pub fn stop(&self) {
        if let Some(live) = self.live() {
            live.shutdown();
        }
    }

    /// Skips the reconnect delay.
    pub fn retry_now(&self) {
        if let Some(live) = self.live() {
            live.retry_now();
        }
    }

    /// The page became visible or hidden.
    pub fn set_hidden(&self, hidden: bool) {
        self.hidden.set(hidden);
        if !hidden {
            if let Some(live) = self.live() {
                live.request_sync();
            }
            if let Some(id) = self
                .route
                .with_untracked(|r| r.conversation().map(str::to_owned))
            {
                self.mark_read(&id);
            }
        }
    }

    /// The browser went offline or came back.
    pub fn set_offline(&self, offline: bool) {
        self.offline.set(offline);
        if !offline {
            self.retry_now();
        }
    }

    /// Advances the clocks, drops lapsed typing indicators and sends read positions whose
    /// wait is over.
    pub fn tick(&self) {
        let now = mono_now();
        self.clock.set((now, js_sys::Date::now() as i64));
        let due = self
            .read_sync
            .try_update_value(|sync| sync.due(now))
            .unwrap_or_default();
        for (id, seq) in due {
            self.put_read(id, seq);
        }
        if self
            .typing
            .with_untracked(|t| t.iter().any(|t| t.until <= now))
        {
            self.typing.update(|t| t.retain(|t| t.until > now));
        }
    }

    // ----- the live connection's reports ---------------------------------------------------

    fn apply(&self, report: Report) {
        self.connection.set((report.state, report.refused));
        self.pending.set(report.pending);
        for event in report.events {
            self.apply_event(event, report.now);
        }
    }

    fn apply_event(&self, event: ClientEvent, now: u64) {
        match event {
            ClientEvent::Message(message) | ClientEvent::Sent { message, .. } => {
                let id = message.conversation_id.clone();
                self.typing.update(|t| {
                    t.retain(|t| !(t.conversation_id == id && t.author.id == message.author.id))
                });
                let known = self.threads.try_update(|threads| {
                    threads
                        .get_mut(&id)
                        .map(|thread| thread.insert(message.clone()))
                });
                let new = known.flatten().unwrap_or(true);
                let in_inbox = self.inbox.try_update(|i| i.note_message(&message));
                if self.is_viewing(&id) {
                    self.mark_read(&id);
                }
                if !in_inbox.unwrap_or(false)
                    && self.staff_room.get_untracked().as_deref() != Some(id.as_str())
                {
                    self.fetch_summary(&id);
                }
                if new {
                    self.inbox.with_untracked(|inbox| {
                        self.alert(Happening::Message {
                            message: &message,
                            conversation: inbox.get(&id),
                        })
                    });
                }
            }
            ClientEvent::SendFailed {
                client_id,
                conversation_id,
                message,
                ..
            } => {
                let text = self
                    .pending
                    .with_untracked(|p| {
                        p.iter()
                            .find(|e| e.client_id == client_id)
                            .map(|e| e.text.clone())
                    })
                    .unwrap_or_default();
                self.threads.update(|threads| {
                    threads.entry(conversation_id).or_default().fail(Failed {
                        client_id,
                        text,
                        reason: message,
                    })
                });
            }
            ClientEvent::Typing {
                conversation_id,
                author,
                typing,
                preview,
            } => {
                if author.id == self.my_id() {
                    return;
                }
                self.typing.update(|list| {
                    list.retain(|t| {
                        !(t.conversation_id == conversation_id && t.author.id == author.id)
                    });
                    if typing {
                        list.push(Typing {
                            conversation_id,
                            author,
                            preview,
                            until: now + TYPING_TTL_MS,
                        });
                    }
                });
            }
            ClientEvent::Conversation(summary) => self.merge_live(summary),
            ClientEvent::ConversationList(list) => {
                self.inbox.update(|inbox| {
                    for summary in list {
                        inbox.merge(summary);
                    }
                });
            }
            ClientEvent::Routing(frame) => self.apply_routing(frame),
            // The access token expired: a new one reconnects (see `Api::on_refreshed`).
            ClientEvent::AuthRefused {
                code: ErrorCode::Unauthenticated,
                ..
            } => {
                let api = self.api.get_value();
                spawn_local(async move {
                    let _ = api.refresh().await;
                });
            }
            ClientEvent::Error { .. } | ClientEvent::StateChanged(_) => {}
            _ => {}
        }
    }

    fn merge_live(&self, summary: ConversationSummary) {
        if summary.status != natter_sdk::protocol::ConversationStatus::Unassigned {
            self.offers.update(|o| o.retain(|c| c.id != summary.id));
        }
        let merge = self.inbox.try_update(|i| i.merge(summary.clone()));
        match merge {
            Some(Merge::New) => self.alert(Happening::NewConversation(&summary)),
            Some(Merge::BecameMine) => {
                self.alert(Happening::AssignedToMe(&summary));
                // Messages written while it waited reach me only if I follow it from its start.
                if let Some(live) = self.live()
                    && !self.threads.with_untracked(|t| t.contains_key(&summary.id))
                {
                    live.follow(&summary.id, summary.last_seq);
                }
            }
            _ => {}
        }
    }

    fn apply_routing(&self, frame: ServerFrame) {
        match frame {
            ServerFrame::Offer { conversation } => {
                let id = conversation.id.clone();
                self.offers.update(|o| {
                    o.retain(|c| c.id != id);
                    o.push(conversation.clone());
                });
                self.merge_live(conversation);
            }
            ServerFrame::OfferWithdrawn { conversation_id } => {
                self.offers
                    .update(|o| o.retain(|c| c.id != conversation_id));
            }
            ServerFrame::QueueLength { queues } => {
                let waiting = queues.iter().map(|q| q.waiting).sum::<u32>();
                self.queues.set(queues);
                if self.inbox.with_untracked(|i| i.line_is_stale(waiting)) {
                    self.load_line();
                }
            }
            // My read position from another of my devices.
            ServerFrame::Read {
                conversation_id,
                seq,
            } => {
                self.read_sync
                    .update_value(|sync| sync.known(&conversation_id, seq));
                self.note_read(&conversation_id, seq);
            }
            ServerFrame::Presence { agent } => {
                self.agents.update(
                    |agents| match agents.iter_mut().find(|a| a.id == agent.id) {
                        Some(held) => *held = agent,
                        None => agents.push(agent),
                    },
                )
            }
            ServerFrame::Transferred {
                conversation_id,
                note,
                to: natter_sdk::protocol::TransferTarget::Agent { agent },
                ..
            } if agent.id == self.my_id() => {
                let note = note.map(|n| format!(": “{n}”")).unwrap_or_default();
                self.say(
                    format!("A conversation was transferred to you{note}"),
                    false,
                );
                self.fetch_summary(&conversation_id);
            }
            _ => {}
        }
    }

    fn alert(&self, happening: Happening<'_>) {
        let me = self.my_id();
        let situation = Situation {
            me: &me,
            hidden: self.hidden.get_untracked(),
            muted: self.muted.get_untracked(),
            permission: self.permission.get_untracked(),
        };
        if let Some(alert) = notify::decide(situation, happening) {
            let console = *self;
            alerts::show(&alert, move |id| console.open(&id));
        }
    }

    fn is_viewing(&self, id: &str) -> bool {
        !self.hidden.get_untracked()
            && (self.route.with_untracked(|r| r.conversation() == Some(id))
                || (self.route.with_untracked(|r| *r == Route::StaffRoom)
                    && self.staff_room.get_untracked().as_deref() == Some(id)))
    }

    /// Marks a conversation read up to its newest message, saves the position in this
    /// browser and sends it to the server (at most once a second per conversation, see
    /// [`ReadSync`]) for the staff member's other devices.
    pub fn mark_read(&self, id: &str) {
        let newest = self
            .threads
            .with_untracked(|t| t.get(id).map(Thread::newest_seq));
        let last_seq = self
            .inbox
            .with_untracked(|i| i.get(id).map(|s| s.last_seq))
            .unwrap_or(0);
        let seq = newest.unwrap_or(0).max(last_seq);
        if self.inbox.with_untracked(|i| i.unread(id)) == 0 && newest.is_none() {
            return;
        }
        self.note_read(id, seq);
        // Also when the inbox already had it: a position cached in this browser may be one
        // the server never received.
        let send = self
            .read_sync
            .try_update_value(|sync| sync.read(id, seq, mono_now()))
            .flatten();
        if let Some(seq) = send {
            self.put_read(id.to_owned(), seq);
        }
    }

    /// Moves the inbox's read position of `id` forward to `seq` and caches it in this browser.
    fn note_read(&self, id: &str, seq: u64) {
        if self.inbox.try_update(|i| i.mark_read(id, seq)) == Some(true) {
            let key = format!("read:{}", self.my_id());
            self.inbox
                .with_untracked(|i| storage::save(&key, i.read_positions()));
        }
    }

    /// `PUT /v1/conversations/{id}/read`.
    fn put_read(&self, id: String, seq: u64) {
        let console = *self;
        let api = self.api.get_value();
        spawn_local(async move {
            let path = format!("/v1/conversations/{id}/read");
            match api
                .send_json::<_, ReadPositionInfo>("PUT", &path, &ReadRequest { seq })
                .await
            {
                Ok(kept) => {
                    console
                        .read_sync
                        .update_value(|sync| sync.known(&id, kept.seq));
                    console.note_read(&id, kept.seq);
                }
                Err(error) => {
                    // Unread counts are not worth a notice; a network or server failure is
                    // retried, a refusal (the conversation is gone, say) is not.
                    let retry = error
                        .status()
                        .is_none_or(|status| status >= 500 || status == 429);
                    console.read_sync.update_value(|sync| {
                        sync.failed(&id, seq, retry && error != ApiError::SignedOut)
                    });
                }
            }
        });
    }

    /// Loads the staff member's read positions, shared by all their devices, as the baseline
    /// of the unread counts.
    fn load_read_positions(&self) {
        let console = *self;
        let api = self.api.get_value();
        spawn_local(async move {
            match api.get::<ReadPositions>("/v1/read-positions").await {
                Ok(read) => {
                    console.read_sync.update_value(|sync| {
                        for p in &read.positions {
                            sync.known(&p.conversation_id, p.seq);
                        }
                    });
                    let moved = console.inbox.try_update(|inbox| {
                        read.positions
                            .iter()
                            .filter(|p| inbox.mark_read(&p.conversation_id, p.seq))
                            .count()
                    });
                    if moved.unwrap_or(0) > 0 {
                        let key = format!("read:{}", console.my_id());
                        console
                            .inbox
                            .with_untracked(|i| storage::save(&key, i.read_positions()));
                    }
                    // What is open now may be read further than the server knows.
                    if let Some(id) = console
                        .route
                        .with_untracked(|r| r.conversation().map(str::to_owned))
                        .filter(|id| console.is_viewing(id))
                    {
                        console.mark_read(&id);
                    }
                }
                Err(error) => console.report_error("Read positions could not be loaded", &error),
            }
        });
    }

    /// Goes to a conversation.
    pub fn open(&self, id: &str) {
        let tab = self.route.with_untracked(Route::tab);
        navigate(&Route::Conversation {
            tab,
            id: id.to_owned(),
        });
    }

    // ----- REST ----------------------------------------------------------------------------

    fn report_error(&self, what: &str, error: &ApiError) {
        if *error != ApiError::SignedOut {
            self.say(format!("{what}: {error}"), true);
        }
    }

    /// Loads a tab's conversations (matching the search) into the inbox.
    pub fn load_tab(&self, tab: Tab, search: String) {
        let console = *self;
        let api = self.api.get_value();
        spawn_local(async move {
            let mut query = format!("limit=100&{}", tab.list_query());
            let search = search.trim().to_owned();
            if !search.is_empty() {
                query.push_str("&q=");
                query.push_str(&String::from(js_sys::encode_uri_component(&search)));
            }
            match api
                .get::<ConversationPage>(&format!("/v1/conversations?{query}"))
                .await
            {
                Ok(page) => {
                    console.list_error.set(None);
                    console.inbox.update(|inbox| {
                        for summary in page.items {
                            inbox.merge(summary);
                        }
                    });
                }
                Err(error) if error != ApiError::SignedOut => {
                    console.list_error.set(Some(format!(
                        "The conversations could not be loaded: {error}"
                    )));
                }
                Err(_) => {}
            }
        });
    }

    fn fetch_summary(&self, id: &str) {
        let console = *self;
        let api = self.api.get_value();
        let path = format!("/v1/conversations/{id}");
        spawn_local(async move {
            if let Ok(summary) = api.get::<ConversationSummary>(&path).await {
                console.merge_live(summary);
            }
        });
    }

    /// Loads a conversation's newest messages (once) and follows it live.
    pub fn open_thread(&self, id: &str, with_summary: bool) {
        if with_summary {
            self.fetch_summary(id);
        }
        let loaded = self
            .threads
            .with_untracked(|t| t.get(id).is_some_and(|t| t.loaded));
        if loaded {
            self.mark_read(id);
            return;
        }
        let console = *self;
        let api = self.api.get_value();
        let id = id.to_owned();
        spawn_local(async move {
            let path = format!("/v1/conversations/{id}/messages?limit={PAGE}");
            match api.get::<MessagePage>(&path).await {
                Ok(page) => {
                    console.threads.update(|threads| {
                        threads
                            .entry(id.clone())
                            .or_default()
                            .add_page(page.items, page.has_more)
                    });
                    let newest = console
                        .threads
                        .with_untracked(|t| t.get(&id).map_or(0, Thread::newest_seq));
                    if let Some(live) = console.live() {
                        live.follow(&id, newest);
                    }
                    console.mark_read(&id);
                }
                Err(error) => console.report_error("The conversation could not be loaded", &error),
            }
        });
    }

    /// Loads the page of messages before the oldest one shown.
    pub fn load_older(&self, id: &str) {
        let Some(oldest) = self.threads.with_untracked(|t| {
            t.get(id)
                .filter(|t| t.has_more_before)
                .and_then(Thread::oldest_seq)
        }) else {
            return;
        };
        let console = *self;
        let api = self.api.get_value();
        let id = id.to_owned();
        spawn_local(async move {
            let path = format!("/v1/conversations/{id}/messages?before_seq={oldest}&limit={PAGE}");
            match api.get::<MessagePage>(&path).await {
                Ok(page) => console.threads.update(|threads| {
                    threads
                        .entry(id.clone())
                        .or_default()
                        .add_page(page.items, page.has_more)
                }),
                Err(error) => console.report_error("Older messages could not be loaded", &error),
            }
        });
    }

    /// Sends a reply; it shows as pending until stored.
    pub fn send(&self, id: &str, text: &str) -> bool {
        let Some(live) = self.live() else {
            return false;
        };
        match live.send(id, text) {
            Ok(_) => true,
            Err(TextError::Empty) => false,
            Err(error) => {
                self.say(error.to_string(), true);
                false
            }
        }
    }

    /// Tells the conversation whether I am typing.
    pub fn set_typing(&self, id: &str, typing: bool) {
        if let Some(live) = self.live() {
            live.set_typing(id, typing);
        }
    }

    /// Puts a refused reply back in the composer's hands (removes it from the view).
    pub fn dismiss_failed(&self, id: &str, client_id: &str) {
        self.threads.update(|threads| {
            if let Some(thread) = threads.get_mut(id) {
                thread.dismiss(client_id);
            }
        });
    }

    /// `POST /v1/conversations/{id}/{action}` (claim, accept, refuse, close, reopen).
    pub fn act(&self, id: &str, action: &'static str, done: &'static str) {
        let console = *self;
        let api = self.api.get_value();
        let path = format!("/v1/conversations/{id}/{action}");
        spawn_local(async move {
            match api.post::<ConversationSummary>(&path).await {
                Ok(summary) => {
                    console.merge_live(summary);
                    console.say(done, false);
                }
                Err(error) => console.report_error(&format!("Could not {action}"), &error),
            }
        });
        if matches!(action, "accept" | "refuse" | "claim") {
            let id = id.to_owned();
            self.offers.update(|o| o.retain(|c| c.id != id));
        }
    }

    /// Hands a conversation to an agent or a team, with a note for them.
    pub fn transfer(&self, id: &str, request: TransferRequest) {
        let console = *self;
        let api = self.api.get_value();
        let path = format!("/v1/conversations/{id}/transfer");
        spawn_local(async move {
            match api
                .send_json::<_, ConversationSummary>("POST", &path, &request)
                .await
            {
                Ok(summary) => {
                    console.merge_live(summary);
                    console.say("Conversation transferred", false);
                }
                Err(error) => console.report_error("Could not transfer", &error),
            }
        });
    }

    /// Loads the staff room's id and history.
    fn load_staff_room(&self) {
        let console = *self;
        let api = self.api.get_value();
        spawn_local(async move {
            match api.get::<StaffRoom>("/v1/staff-room").await {
                Ok(room) => {
                    console.inbox.update(|i| i.exclude(&room.conversation_id));
                    console.staff_room.set(Some(room.conversation_id.clone()));
                    console.open_thread(&room.conversation_id, false);
                }
                Err(error) if error.status() == Some(404) => {}
                Err(error) => console.report_error("The staff room could not be loaded", &error),
            }
        });
    }

    /// Loads the agents' statuses and the waiting line.
    pub fn load_routing(&self) {
        let console = *self;
        let api = self.api.get_value();
        spawn_local(async move {
            match api.get::<AgentList>("/v1/routing/agents").await {
                Ok(list) => console.agents.set(list.items),
                Err(error) => console.report_error("Colleagues could not be loaded", &error),
            }
        });
        self.load_line();
    }

    /// Loads the waiting line into the Queue tab, and fetches again the conversations the tab
    /// holds as waiting that the line no longer has (taken or closed unseen by this console).
    pub fn load_line(&self) {
        let console = *self;
        let api = self.api.get_value();
        spawn_local(async move {
            let Ok(queue) = api.get::<QueueResponse>("/v1/routing/queue").await else {
                return;
            };
            console.queues.set(queue.queues);
            let gone = console.inbox.try_update(|inbox| {
                let gone =
                    inbox.left_the_line(queue.items.iter().map(|e| e.conversation.id.as_str()));
                for entry in queue.items {
                    inbox.merge(entry.conversation);
                }
                gone
            });
            for id in gone.unwrap_or_default() {
                console.fetch_summary(&id);
            }
        });
    }

    /// Sets my availability.
    pub fn set_presence(&self, presence: Presence) {
        let console = *self;
        let api = self.api.get_value();
        spawn_local(async move {
            match api
                .send_json::<_, AgentStatus>(
                    "PUT",
                    "/v1/routing/me/presence",
                    &PresenceRequest { presence },
                )
                .await
            {
                Ok(agent) => console.apply_routing(ServerFrame::Presence { agent }),
                Err(error) => console.report_error("Could not change availability", &error),
            }
        });
    }

    /// Sets my capacity.
    pub fn set_capacity(&self, capacity: u32) {
        let console = *self;
        let api = self.api.get_value();
        let path = format!("/v1/routing/agents/{}", self.my_id());
        spawn_local(async move {
            let request = UpdateAgentRequest {
                capacity: Some(capacity),
                use_default_capacity: false,
                teams: None,
                avatar_url: None,
            };
            match api
                .send_json::<_, AgentStatus>("PATCH", &path, &request)
                .await
            {
                Ok(agent) => {
                    console.apply_routing(ServerFrame::Presence { agent });
                    console.say(format!("Capacity set to {capacity}"), false);
                }
                Err(error) => console.report_error("Could not change capacity", &error),
            }
        });
    }

    /// My own routing status.
    pub fn my_status(&self) -> Option<AgentStatus> {
        let me = self.my_id();
        self.agents
            .with(|agents| agents.iter().find(|a| a.id == me).cloned())
    }

    /// Mutes or unmutes alerts (remembered).
    pub fn set_muted(&self, muted: bool) {
        self.muted.set(muted);
        storage::save("muted", &muted);
    }
}

/// Changes the location hash; the router follows it (so back and forward work).
pub fn navigate(route: &Route) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_hash(&route.to_hash());
    }
}
