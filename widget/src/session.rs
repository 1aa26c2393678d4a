//! The browser driver: one visitor's connection to natter, shared by the widget and the headless
//! `ChatClient`.
//!
//! It carries out what the sans-IO [`ClientCore`] decides (open the WebSocket, write frames,
//! wake up at `poll_timeout`), does the REST calls the core does not know about (the visitor
//! session, starting a conversation, the widget's settings), and keeps the [`Model`] the UI draws.
//!
//! Delivery guarantees come from the core's outbox plus one rule here: **a message is written to
//! `localStorage` before anything is sent**, with its `client_id`. Messages written before a
//! conversation exists wait under an empty conversation id until `POST /v1/conversations` (which
//! returns the visitor's open conversation if there is one, so retrying it is safe) names one.
//! After a reload the outbox is restored and resent with the same ids, and the server stores each
//! `client_id` once: sent exactly once, whatever fails in between.
//!
//! Re-entrancy: JavaScript listeners may call back into the widget, so the state is never
//! borrowed while they run; [`drive`] applies an input, collects what to emit, releases the
//! borrow, then notifies.

use alloc::rc::{Rc, Weak};
use core::cell::RefCell;

use js_sys::{Date, Function};
use natter_sdk::api::{
    ErrorBody, StartConversationRequest, VisitorIdentity, VisitorSessionRequest,
    WidgetConfigResponse, WidgetPosition,
};
use natter_sdk::client::{
    Action, ClientConfig, ClientCore, ClientEvent, CloseReason, ConnectionState, OutboxEntry,
};
use natter_sdk::js::{self, ToJs};
use natter_sdk::protocol::{
    AuthorKind, ConversationStatus, ConversationSummary, ErrorCode, Message, ServerFrame,
    WhenUnavailable,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use crate::model::{Appearance, Connection, Delivery, Line, Model, Routing, Side};
use crate::prelude::*;

/// What a session tells its owner after a change (the widget re-renders).
pub type Observer = Rc<dyn Fn()>;

/// Longest delay between retries of the REST calls that precede the socket.
const REST_RETRY_MAX_MS: f64 = 30_000.0;

/// A session, cheap to clone (all clones drive the same state).
#[derive(Clone)]
pub struct Session(Rc<RefCell<State>>);

/// The open WebSocket and the closures it calls; dropping it detaches and closes the socket.
struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    // Both typed on `JsValue`: closures of one signature share their glue.
    _on_message: Closure<dyn FnMut(JsValue)>,
    _on_close: Closure<dyn FnMut(JsValue)>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        let _ = self.ws.close();
    }
}

/// What `drive` hands out once the state is no longer borrowed.
type Emission = (&'static str, JsValue);

/// The session's state; only the view model is visible outside this module.
pub struct State {
    me: Weak<RefCell<State>>,
    site_key: String,
    api_base: String,
    /// `localStorage` key prefix of this session's persisted data.
    storage_prefix: String,
    core: ClientCore,
    socket: Option<Socket>,
    /// The pending `setTimeout` handle and the closure it calls (kept for the session's life).
    timer: Option<i32>,
    on_timer: Option<Closure<dyn FnMut()>>,
    token: Option<String>,
    /// Messages written before a conversation exists, in order.
    unplaced: Vec<OutboxEntry>,
    /// The conversation new messages go to; `None` before the first one or after it closed.
    conversation: Option<String>,
    /// A REST call (session or conversation start) is in flight.
    busy: bool,
    /// An identity given while a REST call was in flight, applied when it ends.
    pending_identity: Option<VisitorIdentity>,
    /// Consecutive failed REST attempts, for their retry delay and the "server down" display.
    rest_failures: u32,
    /// Wall-clock time of the next REST retry, while one is scheduled.
    rest_retry_at: Option<f64>,
    /// The server refused this page or site for good.
    refused: bool,
    /// The browser says it is offline.
    offline: bool,
    /// The owner wants to be connected.
    wanted: bool,
    pub model: Model,
    listeners: Vec<(String, Function)>,
    observer: Option<Observer>,
    emissions: Vec<Emission>,
    last_status: &'static str,
    last_unread: u32,
    _window_listeners: Vec<Closure<dyn FnMut()>>,
}

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

/// Milliseconds on the monotonic clock the core runs on.
fn mono_now() -> u64 {
    window()
        .and_then(|w| w.performance())
        .map(|p| p.now() as u64)
        .unwrap_or(0)
}

fn storage() -> Option<web_sys::Storage> {
    // Throws in some privacy modes and sandboxed frames: the widget then works without memory.
    window().and_then(|w| w.local_storage().ok().flatten())
}

fn random_seed() -> u64 {
    let mut bytes = [0u8; 8];
    if let Some(crypto) = window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    u64::from_le_bytes(bytes) ^ (Date::now() as u64)
}

impl Session {
    /// A session for `site_key` on the natter server at `api_base` (`https://chat.example.com`),
    /// restoring what an earlier page of this browser persisted under `storage_prefix`.
    pub fn new(site_key: &str, api_base: &str, storage_prefix: Option<&str>) -> Session {
        let prefix = match storage_prefix {
            Some(p) => p.to_owned(),
            None => ["natter:", site_key, ":"].concat(),
        };
        let state = Rc::new_cyclic(|me| {
            RefCell::new(State {
                me: me.clone(),
                site_key: site_key.to_owned(),
                api_base: api_base.trim_end_matches('/').to_owned(),
                storage_prefix: prefix,
                core: ClientCore::new(ClientConfig::default(), random_seed()),
                socket: None,
                timer: None,
                on_timer: None,
                token: None,
                unplaced: Vec::new(),
                conversation: None,
                busy: false,
                pending_identity: None,
                rest_failures: 0,
                rest_retry_at: None,
                refused: false,
                offline: false,
                wanted: false,
                model: Model::default(),
                listeners: Vec::new(),
                observer: None,
                emissions: Vec::new(),
                last_status: "idle",
                last_unread: 0,
                _window_listeners: Vec::new(),
            })
        });
        let session = Session(state);
        session.restore();
        session.listen_to_window();
        session
    }

    /// Runs `input` on the state, carries out the core's outputs, then (borrow released) calls
    /// the JavaScript listeners and the observer.
    pub fn drive(&self, input: impl FnOnce(&mut State)) {
        drive(&self.0, input);
    }

    /// Reads the state.
    pub fn with<R>(&self, read: impl FnOnce(&State) -> R) -> R {
        read(&self.0.borrow())
    }

    /// Sets who re-renders after changes.
    #[cfg(not(feature = "headless"))]
    pub fn set_observer(&self, observer: Observer) {
        self.0.borrow_mut().observer = Some(observer);
    }

    /// Registers a JavaScript listener for `event`.
    pub fn on(&self, event: &str, listener: Function) {
        self.0
            .borrow_mut()
            .listeners
            .push((event.to_owned(), listener));
    }

    /// Removes a listener registered with [`Session::on`].
    pub fn off(&self, event: &str, listener: &Function) {
        self.0
            .borrow_mut()
            .listeners
            .retain(|(e, f)| !(e == event && f == listener));
    }

    /// Emits an event to the JavaScript listeners (after the current borrow).
    #[cfg(not(feature = "headless"))]
    pub fn emit(&self, event: &'static str, payload: JsValue) {
        self.drive(|s| s.emissions.push((event, payload)));
    }

    /// Starts connecting (creating the visitor session first if there is none).
    pub fn connect(&self) {
        self.drive(|s| {
            s.wanted = true;
            if s.token.is_some() {
                s.core.connect_requested(mono_now());
            } else {
                s.open_visitor_session(None);
            }
        });
    }

    /// Loads the tenant's widget settings and availability into the model.
    pub fn load_settings(&self) {
        let me = self.0.clone();
        let url = {
            let s = self.0.borrow();
            [
                s.api_base.as_str(),
                "/v1/visitor/widget?site_key=",
                &String::from(js_sys::encode_uri_component(&s.site_key)),
            ]
            .concat()
        };
        let me = Rc::downgrade(&me);
        http(
            "GET",
            &url,
            None,
            None,
            Box::new(move |answer| {
                let Some(me) = me.upgrade() else { return };
                drive(&me, |s| match answer {
                    Ok((200, body)) => s.apply_settings(&body),
                    Ok((403, _)) => s.refuse(ErrorCode::OriginNotAllowed),
                    Ok((404, _)) => s.refuse(ErrorCode::NotFound),
                    _ => {}
                });
            }),
        );
    }

    /// Queues a message; returns its `client_id`. The text is validated first.
    pub fn send(&self, text: &str) -> Result<String, &'static str> {
        if natter_sdk::protocol::validate_text(text).is_err() {
            return Err("natter: a message needs 1 to 4000 characters of text");
        }
        let mut id = String::new();
        self.drive(|s| id = s.send(text));
        Ok(id)
    }

    /// The visitor's composer now holds `text` (empty: they stopped typing). While a
    /// conversation exists the core sends it as a typing preview, throttled, and the timer
    /// (which follows the core's `poll_timeout`) sends the latest text when the interval ends.
    #[cfg(not(feature = "headless"))]
    pub fn draft(&self, text: &str) {
        self.drive(|s| {
            if let Some(conversation) = &s.conversation {
                s.core.set_draft(mono_now(), conversation, text);
            }
        });
    }

    /// The visitor is (or stopped) typing, without a preview (`ChatClient.setTyping`).
    #[cfg(feature = "headless")]
    pub fn typing(&self, typing: bool) {
        self.drive(|s| {
            if let Some(conversation) = &s.conversation {
                s.core.set_typing(mono_now(), conversation, typing);
            }
        });
    }

    /// Skips the remaining reconnect delay.
    pub fn retry_now(&self) {
        self.drive(|s| {
            s.rest_retry_at = None;
            s.core.retry_now(mono_now());
            s.resume_rest();
        });
    }

    /// Signs the visitor in as a site user (identity verified with the site's secret); the
    /// conversation history becomes that user's.
    pub fn identify(&self, identity: VisitorIdentity) {
        self.drive(|s| s.open_visitor_session(Some(identity)));
    }

    /// Forgets the visitor: closes the connection and erases what this browser kept.
    pub fn shutdown(&self) {
        self.drive(|s| {
            s.wanted = false;
            s.core.shutdown();
            s.socket = None;
            s.token = None;
            s.unplaced.clear();
            s.conversation = None;
            s.model.lines.clear();
            s.model.conversation_id = None;
            s.model.routing = Routing::None;
            s.model.unread = 0;
            if let Some(store) = storage() {
                for key in ["visitor", "outbox", "open"] {
                    let _ = store.remove_item(&s.key(key));
                }
            }
            s.core = ClientCore::new(ClientConfig::default(), random_seed());
        });
    }

    fn restore(&self) {
        self.drive(|s| {
            let Some(store) = storage() else { return };
            s.token = store.get_item(&s.key("visitor")).ok().flatten();
            if let Some(token) = &s.token {
                s.core.set_token(token.clone());
            }
            let saved = store.get_item(&s.key("outbox")).ok().flatten();
            let entries: Vec<OutboxEntry> = saved
                .and_then(|text| js::parse(&text).ok())
                .unwrap_or_default();
            let now = Date::now() as i64;
            for entry in entries {
                s.model.push_pending(&entry.client_id, &entry.text, now);
                if entry.conversation_id.is_empty() {
                    s.unplaced.push(entry);
                } else {
                    s.conversation = Some(entry.conversation_id.clone());
                    s.model.conversation_id = Some(entry.conversation_id.clone());
                    s.core.import_outbox([entry]);
                }
            }
            if let Some(appearance) = store
                .get_item(&s.key("appearance"))
                .ok()
                .flatten()
                .and_then(|t| js_sys::JSON::parse(&t).ok())
            {
                s.model.appearance = appearance_from_cache(&appearance);
            }
            if !s.unplaced.is_empty() || s.core.pending_len() > 0 {
                // Unsent messages from an earlier page: deliver them without waiting for a click.
                s.wanted = true;
            }
        });
        let wants = self.with(|s| s.wanted);
        if wants {
            self.connect();
        }
    }

    fn listen_to_window(&self) {
        let Some(win) = window() else { return };
        let mut closures = Vec::new();
        let online: fn(&mut State) = |s| {
            s.offline = false;
            s.core.retry_now(mono_now());
            s.rest_retry_at = None;
            s.resume_rest();
        };
        for (event, apply) in [
            ("online", online),
            ("offline", |s: &mut State| s.offline = true),
        ] {
            let closure = callback(Rc::downgrade(&self.0), apply);
            let _ = win.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
            closures.push(closure);
        }
        // Coming back to the tab with the panel open counts as reading what arrived meanwhile.
        if let Some(document) = win.document() {
            let closure = callback(Rc::downgrade(&self.0), |s| {
                if s.visible() {
                    s.model.mark_read();
                }
            });
            let _ = document.add_event_listener_with_callback(
                "visibilitychange",
                closure.as_ref().unchecked_ref(),
            );
            closures.push(closure);
        }
        let offline = !win.navigator().on_line();
        let mut s = self.0.borrow_mut();
        s.offline = offline;
        s._window_listeners = closures;
    }
}

/// A JavaScript callback that applies `apply` to the session, if it still exists. One closure
/// type for the socket, timer and window callbacks: each closure type costs its own glue.
fn callback(me: Weak<RefCell<State>>, apply: fn(&mut State)) -> Closure<dyn FnMut()> {
    Closure::new(move || {
        if let Some(me) = me.upgrade() {
            drive(&me, apply);
        }
    })
}

/// Applies `input`, then notifies without holding the borrow.
fn drive(rc: &Rc<RefCell<State>>, input: impl FnOnce(&mut State)) {
    let Ok(mut state) = rc.try_borrow_mut() else {
        // Called from inside a notification of this same session: dropped, as the caller is
        // already being served.
        return;
    };
    input(&mut state);
    drop(state);
    settle(rc);
}

/// Carries out the core's outputs, then calls the JavaScript listeners and the observer. Kept
/// out of line: `drive` is generic and inlined at every call site, this part must not be.
#[inline(never)]
fn settle(rc: &Rc<RefCell<State>>) {
    let (emissions, listeners, observer) = {
        let Ok(mut state) = rc.try_borrow_mut() else {
            return;
        };
        state.pump();
        let emissions = core::mem::take(&mut state.emissions);
        let listeners = if emissions.is_empty() {
            Vec::new()
        } else {
            state.listeners.clone()
        };
        (emissions, listeners, state.observer.clone())
    };
    for (event, payload) in emissions {
        for (name, listener) in &listeners {
            if name == event {
                let _ = listener.call1(&JsValue::UNDEFINED, &payload);
            }
        }
    }
    if let Some(observer) = observer {
        observer();
    }
}

impl State {
    fn key(&self, name: &str) -> String {
        [self.storage_prefix.as_str(), name].concat()
    }

    /// Sets or clears a flag item in `localStorage`.
    #[cfg(not(feature = "headless"))]
    pub fn set_stored_flag(&self, name: &str, on: bool) {
        if let Some(store) = storage() {
            let key = self.key(name);
            let _ = if on {
                store.set_item(&key, "1")
            } else {
                store.remove_item(&key)
            };
        }
    }

    /// Whether a flag item is set in `localStorage`.
    #[cfg(not(feature = "headless"))]
    pub fn stored_flag(&self, name: &str) -> bool {
        storage()
            .and_then(|s| s.get_item(&self.key(name)).ok().flatten())
            .is_some()
    }

    /// Whether this browser already has a visitor session (so opening the panel should connect
    /// to show the conversation).
    #[cfg(not(feature = "headless"))]
    pub fn has_visitor(&self) -> bool {
        self.token.is_some()
    }

    /// Whether the visitor can see new messages right now.
    fn visible(&self) -> bool {
        self.model.open
            && window()
                .and_then(|w| w.document())
                .is_some_and(|d| !d.hidden())
    }

    fn send(&mut self, text: &str) -> String {
        let now = mono_now();
        let client_id = self.core.new_client_id();
        self.model
            .push_pending(&client_id, text, Date::now() as i64);
        if let Some(line) = self.model.lines.last() {
            let payload = line_payload(line, self.conversation.as_deref());
            self.emissions.push(("message", payload));
        }
        match self.conversation.clone() {
            Some(conversation) => {
                let _ = self.core.send_message_with_client_id(
                    now,
                    conversation,
                    client_id.clone(),
                    text,
                );
            }
            None => self.unplaced.push(OutboxEntry {
                client_id: client_id.clone(),
                conversation_id: String::new(),
                text: text.to_owned(),
            }),
        }
        // Written down before anything goes out: a reload or crash from here on loses nothing.
        self.persist_outbox();
        self.wanted = true;
        if self.token.is_none() {
            self.open_visitor_session(None);
        } else {
            self.core.connect_requested(now);
            self.start_conversation_if_needed();
        }
        client_id
    }

    fn persist_outbox(&self) {
        let Some(store) = storage() else { return };
        // Encoded from both lists in place: copying them into one `Vec` first cost ~0.5 KB.
        let entries = js_sys::Array::new();
        for entry in &self.unplaced {
            entries.push(&entry.to_js());
        }
        for entry in self.core.pending() {
            entries.push(&entry.to_js());
        }
        if entries.length() == 0 {
            let _ = store.remove_item(&self.key("outbox"));
        } else {
            let json = js_sys::JSON::stringify(&entries)
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_default();
            let _ = store.set_item(&self.key("outbox"), &json);
        }
    }

    /// Retries whichever REST step is due.
    fn resume_rest(&mut self) {
        if !self.wanted || self.busy {
            return;
        }
        if self.token.is_none() {
            self.open_visitor_session(None);
        } else {
            self.start_conversation_if_needed();
        }
    }

    fn open_visitor_session(&mut self, identity: Option<VisitorIdentity>) {
        if self.refused {
            return;
        }
        if self.busy {
            // `identify()` right after the page opened a session: run it once that call ends
            // (see `pump`), never drop it.
            if identity.is_some() {
                self.pending_identity = identity;
            }
            return;
        }
        self.busy = true;
        let identified = identity.is_some();
        let request = VisitorSessionRequest {
            site_key: self.site_key.clone(),
            visitor_token: if identified { None } else { self.token.clone() },
            identity,
            name: None,
            email: None,
            page_url: page_url(),
        };
        let url = [self.api_base.as_str(), "/v1/visitor/session"].concat();
        let body = js::stringify(&request);
        let me = self.me.clone();
        let done = move |answer: Answer| {
            let Some(me) = me.upgrade() else { return };
            drive(&me, |s| {
                s.busy = false;
                match answer {
                    Ok((200, text)) => {
                        match js::parse::<natter_sdk::api::VisitorSessionResponse>(&text) {
                            Ok(session) => s.session_opened(session.visitor_token, identified),
                            Err(_) => s.rest_failed(),
                        }
                    }
                    Ok((status, text)) if (400..500).contains(&status) && status != 429 => {
                        let code = error_code(&text);
                        s.refuse(code);
                    }
                    _ => s.rest_failed(),
                }
            });
        };
        http("POST", &url, None, Some(body), Box::new(done));
    }

    fn session_opened(&mut self, token: String, identified: bool) {
        self.rest_failures = 0;
        self.rest_retry_at = None;
        let changed_visitor = identified && self.token.as_deref() != Some(token.as_str());
        if let Some(store) = storage() {
            let _ = store.set_item(&self.key("visitor"), &token);
        }
        self.token = Some(token.clone());
        if changed_visitor {
            // Another visitor now: the old conversation is not theirs. Keep only what was
            // written before any conversation existed.
            self.core.shutdown();
            self.socket = None;
            self.core = ClientCore::new(ClientConfig::default(), random_seed());
            self.conversation = None;
            self.model.lines.retain(|l| l.delivery == Delivery::Pending);
            self.model.conversation_id = None;
            self.model.routing = Routing::None;
            self.persist_outbox();
        }
        self.core.set_token(token);
        if self.wanted {
            self.core.connect_requested(mono_now());
            self.start_conversation_if_needed();
        }
    }

    fn start_conversation_if_needed(&mut self) {
        if self.unplaced.is_empty() || self.conversation.is_some() || self.busy {
            return;
        }
        let Some(token) = self.token.clone() else {
            return;
        };
        self.busy = true;
        self.post_conversation(token, false);
    }

    /// `POST /v1/conversations`: returns the visitor's open conversation or starts one, so
    /// repeating it after a lost answer is harmless.
    fn post_conversation(&mut self, token: String, leave_message: bool) {
        let url = [self.api_base.as_str(), "/v1/conversations"].concat();
        let request = StartConversationRequest {
            message: None,
            team: None,
            leave_message,
        };
        let me = self.me.clone();
        let retry_token = token.clone();
        let done = move |answer: Answer| {
            let Some(me) = me.upgrade() else { return };
            drive(&me, |s| match answer {
                // Under the `reject` policy nobody is there: leave the message for later.
                Ok((409, text))
                    if !leave_message && error_code(&text) == ErrorCode::NoAgentAvailable =>
                {
                    s.post_conversation(retry_token, true);
                }
                Ok((200 | 201, text)) => {
                    s.busy = false;
                    match js::parse::<ConversationSummary>(&text) {
                        Ok(summary) => s.conversation_ready(&summary),
                        Err(_) => s.rest_failed(),
                    }
                }
                Ok((401, _)) => {
                    // The visitor token expired or was revoked: a new session.
                    s.busy = false;
                    s.token = None;
                    s.open_visitor_session(None);
                }
                _ => {
                    s.busy = false;
                    s.rest_failed();
                }
            });
        };
        http(
            "POST",
            &url,
            Some(&token),
            Some(js::stringify(&request)),
            Box::new(done),
        );
    }

    /// The conversation new messages go to exists: hand every waiting message to the core.
    fn conversation_ready(&mut self, summary: &ConversationSummary) {
        self.rest_failures = 0;
        self.rest_retry_at = None;
        self.conversation = Some(summary.id.clone());
        self.model.conversation_started(&summary.id);
        let now = mono_now();
        for entry in core::mem::take(&mut self.unplaced) {
            let _ = self.core.send_message_with_client_id(
                now,
                summary.id.clone(),
                entry.client_id,
                entry.text,
            );
        }
        self.core.follow(now, &summary.id, 0);
        self.persist_outbox();
    }

    fn rest_failed(&mut self) {
        self.rest_failures += 1;
        let delay = (1000.0 * f64::from(1u32 << self.rest_failures.min(5))).min(REST_RETRY_MAX_MS);
        let at = Date::now() + delay;
        self.rest_retry_at = Some(at);
        let me = self.me.clone();
        let retry: Closure<dyn FnMut()> = Closure::once(move || {
            if let Some(me) = me.upgrade() {
                drive(&me, |s| {
                    if s.rest_retry_at.is_some_and(|t| t <= Date::now() + 50.0) {
                        s.rest_retry_at = None;
                        s.resume_rest();
                    }
                });
            }
        });
        if let Some(win) = window() {
            let _ = win.set_timeout_with_callback_and_timeout_and_arguments_0(
                retry.as_ref().unchecked_ref(),
                delay as i32,
            );
        }
        retry.forget();
    }

    fn refuse(&mut self, code: ErrorCode) {
        self.refused = true;
        self.wanted = false;
        self.core.shutdown();
        self.socket = None;
        self.emissions.push(("error", error_payload(code)));
    }

    fn apply_settings(&mut self, body: &str) {
        let Ok(config) = js::parse::<WidgetConfigResponse>(body) else {
            return;
        };
        let widget = config.widget;
        let appearance = Appearance {
            color: widget.color,
            left: widget.position == WidgetPosition::Left,
            greeting: widget.greeting,
            launcher_text: widget.launcher_text,
            title: widget.title,
            site_name: config.site_name,
        };
        if let Some(store) = storage() {
            // The loader draws the launcher from this before the wasm loads on the next page.
            let cache = object(&[
                ("color", appearance.color.as_str().into()),
                ("left", appearance.left.into()),
                (
                    "launcher_text",
                    appearance
                        .launcher_text
                        .as_deref()
                        .map_or(JsValue::NULL, JsValue::from_str),
                ),
            ]);
            if let Some(json) = js_sys::JSON::stringify(&cache)
                .ok()
                .and_then(|s| s.as_string())
            {
                let _ = store.set_item(&self.key("appearance"), &json);
            }
        }
        self.model.appearance = appearance;
        // Before the visitor writes, say what will happen while nobody is available.
        let availability = config.availability;
        if self.conversation.is_none()
            && !availability.available
            && availability.when_unavailable != WhenUnavailable::Queue
            && let Some(message) = availability.away_message
        {
            self.model.routing = Routing::Away { message };
        }
    }

    /// Carries out the core's outputs and keeps the model, storage and timer in step.
    #[inline(never)]
    fn pump(&mut self) {
        if !self.busy
            && let Some(identity) = self.pending_identity.take()
        {
            self.open_visitor_session(Some(identity));
        }
        let now = mono_now();
        let outbox_before = self.core.pending_len();
        loop {
            let mut progressed = false;
            while let Some(action) = self.core.poll_action() {
                progressed = true;
                match action {
                    Action::Connect => self.open_socket(),
                    Action::Close { code, reason } => {
                        if let Some(socket) = self.socket.take() {
                            let _ = socket.ws.close_with_code_and_reason(code, reason);
                        }
                    }
                }
            }
            while let Some(frame) = self.core.poll_transmit() {
                progressed = true;
                if let Some(socket) = &self.socket {
                    let _ = socket.ws.send_with_str(&js::stringify(&frame));
                }
            }
            while let Some(event) = self.core.poll_event() {
                progressed = true;
                self.apply(event);
            }
            if !progressed {
                break;
            }
        }
        if self.core.pending_len() != outbox_before {
            self.persist_outbox();
        }
        self.update_connection();
        self.schedule(now);
    }

    fn open_socket(&mut self) {
        self.socket = None;
        let url = [ws_base(&self.api_base).as_str(), "/v1/ws"].concat();
        let me = self.me.clone();
        let Ok(ws) = WebSocket::new(&url) else {
            self.core
                .transport_closed(mono_now(), CloseReason::ConnectFailed("bad url".into()));
            return;
        };
        let on_open = callback(me.clone(), |s| s.core.transport_opened(mono_now()));
        let on_message = {
            let me = me.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                let event: MessageEvent = event.unchecked_into();
                let Some(text) = event.data().as_string() else {
                    return;
                };
                let Some(me) = me.upgrade() else { return };
                // A frame this version cannot read is skipped, like an unknown type.
                if let Ok(frame) = js::parse::<ServerFrame>(&text) {
                    drive(&me, |s| s.core.frame_received(mono_now(), frame));
                }
            })
        };
        let on_close = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let event: CloseEvent = event.unchecked_into();
            if let Some(me) = me.upgrade() {
                let reason = if event.code() == 1006 {
                    CloseReason::Error("connection lost".into())
                } else {
                    CloseReason::Closed {
                        code: event.code(),
                        reason: event.reason(),
                    }
                };
                drive(&me, |s| {
                    s.socket = None;
                    s.core.transport_closed(mono_now(), reason);
                });
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        self.socket = Some(Socket {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        });
    }

    fn schedule(&mut self, now: u64) {
        let win = match window() {
            Some(w) => w,
            None => return,
        };
        if let Some(handle) = self.timer.take() {
            win.clear_timeout_with_handle(handle);
        }
        let mut deadline = self.core.poll_timeout();
        // While a countdown shows, tick every second so it counts down.
        if matches!(self.model.connection, Connection::Reconnecting { .. }) {
            deadline = Some(deadline.map_or(now + 1000, |d| d.min(now + 1000)));
        }
        let Some(deadline) = deadline else { return };
        if self.on_timer.is_none() {
            self.on_timer = Some(callback(self.me.clone(), |s| {
                s.timer = None;
                s.core.handle_timeout(mono_now());
            }));
        }
        if let Some(callback) = &self.on_timer {
            let delay = deadline.saturating_sub(now).min(i32::MAX as u64) as i32;
            self.timer = win
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    callback.as_ref().unchecked_ref(),
                    delay,
                )
                .ok();
        }
    }

    #[inline(never)]
    fn apply(&mut self, event: ClientEvent) {
        let visible = self.visible();
        match event {
            ClientEvent::Message(message) | ClientEvent::Sent { message, .. }
                if self.model.message_stored(&message, visible).is_some() =>
            {
                self.emissions.push(("message", message_payload(&message)));
            }
            ClientEvent::SendFailed {
                client_id, code, ..
            } => {
                self.model.send_failed(&client_id);
                self.emissions.push(("error", error_payload(code)));
            }
            ClientEvent::Typing { author, typing, .. } if author.kind == AuthorKind::Staff => {
                self.model.agent_typing(author.name.as_deref(), typing);
                self.emissions.push((
                    "typing",
                    object(&[
                        (
                            "name",
                            author
                                .name
                                .as_deref()
                                .map_or(JsValue::NULL, JsValue::from_str),
                        ),
                        ("typing", typing.into()),
                    ]),
                ));
            }
            ClientEvent::ConversationList(list) => {
                // Show the visitor's live conversation, else their latest one.
                let current = list
                    .iter()
                    .filter(|c| c.status != ConversationStatus::Closed)
                    .max_by_key(|c| c.last_activity_at)
                    .or_else(|| list.iter().max_by_key(|c| c.last_activity_at));
                if let Some(current) = current {
                    self.conversation_changed(current);
                }
            }
            ClientEvent::Conversation(summary) => self.conversation_changed(&summary),
            ClientEvent::Routing(frame) => self.routing(frame),
            ClientEvent::AuthRefused { code, .. } => {
                if code == ErrorCode::Unauthenticated && !self.refused {
                    // An expired or unknown visitor token: start a fresh visitor session.
                    self.token = None;
                    if let Some(store) = storage() {
                        let _ = store.remove_item(&self.key("visitor"));
                    }
                    self.open_visitor_session(None);
                } else {
                    self.refuse(code);
                }
            }
            ClientEvent::Error { code, .. } => self.emissions.push(("error", error_payload(code))),
            _ => {}
        }
    }

    fn conversation_changed(&mut self, summary: &ConversationSummary) {
        let ours = self.model.conversation_id.as_deref() == Some(summary.id.as_str());
        if summary.status == ConversationStatus::Closed {
            if ours || self.model.conversation_id.is_none() {
                self.model.conversation_id = Some(summary.id.clone());
                self.model.conversation_closed();
                if self.conversation.as_deref() == Some(summary.id.as_str())
                    || self.conversation.is_none()
                {
                    self.conversation = None;
                }
                self.routing_event();
            }
            return;
        }
        if !ours {
            self.model.conversation_started(&summary.id);
        }
        self.conversation = Some(summary.id.clone());
        if let Some(agent) = &summary.assignee
            && !matches!(self.model.routing, Routing::Assigned { .. })
        {
            self.model.routing = Routing::Assigned {
                agent: natter_sdk::protocol::AgentCard {
                    id: agent.id.clone(),
                    name: agent.name.clone(),
                    avatar_url: None,
                },
            };
            self.routing_event();
        }
        self.start_conversation_if_needed();
    }

    fn routing(&mut self, frame: ServerFrame) {
        let (conversation, routing) = match frame {
            ServerFrame::Queued {
                conversation_id,
                position,
                estimated_wait_ms,
            } => (
                conversation_id,
                Routing::Queued {
                    position,
                    estimated_wait_ms,
                },
            ),
            ServerFrame::Away {
                conversation_id,
                message,
            } => (conversation_id, Routing::Away { message }),
            ServerFrame::Assigned {
                conversation_id,
                agent,
            } => (conversation_id, Routing::Assigned { agent }),
            ServerFrame::Transferred {
                conversation_id, ..
            } => (conversation_id, Routing::None),
            _ => return,
        };
        if self.model.conversation_id.as_deref() == Some(conversation.as_str()) {
            self.model.routing = routing;
            self.routing_event();
        }
    }

    fn routing_event(&mut self) {
        let payload = routing_payload(&self.model.routing);
        self.emissions.push(("routing", payload));
    }

    /// Derives the visitor-facing connection status and emits `status` / `unread` changes.
    fn update_connection(&mut self) {
        let connection = if self.refused {
            Connection::Refused
        } else if self.offline {
            Connection::Offline
        } else if let Some(at) = self.rest_retry_at {
            Connection::Reconnecting {
                retry_at: at as i64,
                server_down: self.rest_failures >= 2,
            }
        } else {
            match self.core.state() {
                ConnectionState::Idle | ConnectionState::Closed => {
                    if self.wanted {
                        Connection::Connecting
                    } else {
                        Connection::Idle
                    }
                }
                ConnectionState::Connecting | ConnectionState::Authenticating => {
                    Connection::Connecting
                }
                ConnectionState::Connected => Connection::Online,
                ConnectionState::Reconnecting { attempt, retry_at } => {
                    let wall = Date::now() + (retry_at as f64 - mono_now() as f64);
                    Connection::Reconnecting {
                        retry_at: wall as i64,
                        server_down: attempt >= 2,
                    }
                }
            }
        };
        self.model.connection = connection;
        let status = status_name(&self.model.connection);
        if status != self.last_status {
            self.last_status = status;
            self.emissions.push(("status", JsValue::from_str(status)));
        }
        if self.model.unread != self.last_unread {
            self.last_unread = self.model.unread;
            self.emissions
                .push(("unread", JsValue::from_f64(f64::from(self.model.unread))));
        }
    }
}

/// The status names of the JavaScript API.
pub fn status_name(connection: &Connection) -> &'static str {
    match connection {
        Connection::Idle => "idle",
        Connection::Connecting => "connecting",
        Connection::Online => "online",
        Connection::Reconnecting {
            server_down: false, ..
        } => "reconnecting",
        Connection::Reconnecting {
            server_down: true, ..
        } => "unavailable",
        Connection::Offline => "offline",
        Connection::Refused => "refused",
    }
}

/// The page the visitor is on (`location.href`), cut to 2000 characters, which the server keeps
/// on the contact for the agents.
fn page_url() -> Option<String> {
    let href = window()?.location().href().ok()?;
    // `get` rather than indexing: a slicing panic path drags in ~4 KB gzip of formatting code.
    Some(match href.char_indices().nth(2000) {
        Some((cut, _)) => href.get(..cut).unwrap_or_default().to_owned(),
        None => href,
    })
}

fn ws_base(api_base: &str) -> String {
    if let Some(rest) = api_base.strip_prefix("https://") {
        ["wss://", rest].concat()
    } else if let Some(rest) = api_base.strip_prefix("http://") {
        ["ws://", rest].concat()
    } else {
        api_base.to_owned()
    }
}

fn appearance_from_cache(value: &JsValue) -> Appearance {
    let get = |k: &str| js_sys::Reflect::get(value, &JsValue::from_str(k)).ok();
    Appearance {
        color: get("color")
            .and_then(|v| v.as_string())
            .unwrap_or_else(|| Appearance::default().color),
        left: get("left").and_then(|v| v.as_bool()).unwrap_or(false),
        launcher_text: get("launcher_text").and_then(|v| v.as_string()),
        ..Appearance::default()
    }
}

fn error_code(body: &str) -> ErrorCode {
    js::parse::<ErrorBody>(body)
        .map(|b| b.error.code)
        .unwrap_or(ErrorCode::Unknown)
}

/// A plain object from key/value pairs.
pub fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let object = js_sys::Object::new();
    for (key, value) in fields {
        let _ = js_sys::Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object.into()
}

/// The `{ code, message }` payload of the `error` event.
pub fn error_payload(code: ErrorCode) -> JsValue {
    let (name, message) = match code {
        ErrorCode::OriginNotAllowed => (
            "origin_not_allowed",
            "this website is not allowed to use this chat (check the site's allowed origins)",
        ),
        ErrorCode::NotFound => ("not_found", "unknown site key"),
        ErrorCode::IdentityRequired => (
            "identity_required",
            "this site requires a verified identity",
        ),
        ErrorCode::MessageTooLong => ("message_too_long", "the message is too long"),
        ErrorCode::EmptyMessage => ("empty_message", "the message is empty"),
        ErrorCode::ConversationClosed => ("conversation_closed", "the conversation is closed"),
        ErrorCode::RateLimited => ("rate_limited", "too many messages; slow down"),
        _ => ("error", "the chat server reported an error"),
    };
    object(&[("code", name.into()), ("message", message.into())])
}

fn author_kind(kind: AuthorKind) -> &'static str {
    match kind {
        AuthorKind::Visitor => "visitor",
        AuthorKind::Staff => "staff",
        AuthorKind::System => "system",
    }
}

/// The `ChatMessage` shape of the JavaScript API for a stored message.
pub fn message_payload(message: &Message) -> JsValue {
    object(&[
        (
            "key",
            message.client_id.as_deref().unwrap_or(&message.id).into(),
        ),
        ("id", message.id.as_str().into()),
        ("seq", JsValue::from_f64(message.seq as f64)),
        ("conversationId", message.conversation_id.as_str().into()),
        ("text", message.text.as_str().into()),
        (
            "author",
            object(&[
                ("kind", author_kind(message.author.kind).into()),
                (
                    "name",
                    message
                        .author
                        .name
                        .as_deref()
                        .map_or(JsValue::NULL, JsValue::from_str),
                ),
            ]),
        ),
        ("createdAt", JsValue::from_f64(message.created_at as f64)),
        ("delivery", "sent".into()),
    ])
}

/// The `ChatMessage` shape for a line of the model (pending lines included).
pub fn line_payload(line: &Line, conversation_id: Option<&str>) -> JsValue {
    let (kind, name) = match &line.side {
        Side::Visitor => ("visitor", None),
        Side::Agent { name, .. } => ("staff", name.as_deref()),
        Side::System => ("system", None),
    };
    let delivery = match line.delivery {
        Delivery::Pending => "pending",
        Delivery::Sent => "sent",
        Delivery::Failed => "failed",
    };
    object(&[
        ("key", line.key.as_str().into()),
        (
            "id",
            line.id.as_deref().map_or(JsValue::NULL, JsValue::from_str),
        ),
        (
            "seq",
            line.seq
                .map_or(JsValue::NULL, |s| JsValue::from_f64(s as f64)),
        ),
        (
            "conversationId",
            conversation_id.map_or(JsValue::NULL, JsValue::from_str),
        ),
        ("text", line.text.as_str().into()),
        (
            "author",
            object(&[
                ("kind", kind.into()),
                ("name", name.map_or(JsValue::NULL, JsValue::from_str)),
            ]),
        ),
        ("createdAt", JsValue::from_f64(line.at as f64)),
        ("delivery", delivery.into()),
    ])
}

/// The `RoutingStatus` shape of the JavaScript API.
pub fn routing_payload(routing: &Routing) -> JsValue {
    match routing {
        Routing::None => object(&[("state", "none".into())]),
        Routing::Queued {
            position,
            estimated_wait_ms,
        } => object(&[
            ("state", "queued".into()),
            ("position", JsValue::from_f64(f64::from(*position))),
            (
                "estimatedWaitMs",
                estimated_wait_ms.map_or(JsValue::NULL, |ms| JsValue::from_f64(ms as f64)),
            ),
        ]),
        Routing::Away { message } => object(&[
            ("state", "away".into()),
            ("message", message.as_str().into()),
        ]),
        Routing::Assigned { agent } => object(&[
            ("state", "assigned".into()),
            (
                "agent",
                object(&[
                    ("id", agent.id.as_str().into()),
                    ("name", agent.name.as_str().into()),
                    (
                        "avatarUrl",
                        agent
                            .avatar_url
                            .as_deref()
                            .map_or(JsValue::NULL, JsValue::from_str),
                    ),
                ]),
            ),
        ]),
        Routing::Closed => object(&[("state", "closed".into())]),
    }
}

/// What a REST call ended with: `Ok((status, body))`, or `Err(())` when the network failed.
type Answer = Result<(u16, String), ()>;

/// One HTTP request with `fetch`, answered through `done`. Promise callbacks rather than
/// `async`: the future machinery cost the widget several KB of wasm.
fn http(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<String>,
    done: Box<dyn FnOnce(Answer)>,
) {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_mode(web_sys::RequestMode::Cors);
    let request = web_sys::Headers::new().ok().and_then(|headers| {
        if let Some(body) = &body {
            let _ = headers.set("content-type", "application/json");
            init.set_body(&JsValue::from_str(body));
        }
        if let Some(token) = token {
            let _ = headers.set("authorization", &["Bearer ", token].concat());
        }
        init.set_headers(&headers);
        web_sys::Request::new_with_str_and_init(url, &init).ok()
    });
    let (Some(request), Some(win)) = (request, window()) else {
        done(Err(()));
        return;
    };
    // Exactly one of the two final callbacks runs; both share `done`.
    let done = Rc::new(core::cell::Cell::new(Some(done)));
    let status = Rc::new(core::cell::Cell::new(0u16));
    let seen = status.clone();
    let on_response: JsValue = Closure::<dyn FnMut(JsValue) -> JsValue>::once_into_js(
        move |response: JsValue| -> JsValue {
            let response: web_sys::Response = response.unchecked_into();
            seen.set(response.status());
            response
                .text()
                .map(JsValue::from)
                .unwrap_or(JsValue::UNDEFINED)
        },
    );
    // One closure type for both (the body text with the status, or the failure): each closure
    // type costs its own glue.
    let finisher = |status: Option<Rc<core::cell::Cell<u16>>>| -> JsValue {
        let done = done.clone();
        Closure::<dyn FnMut(JsValue)>::once_into_js(move |value: JsValue| {
            if let Some(done) = done.take() {
                done(match &status {
                    Some(status) => Ok((status.get(), value.as_string().unwrap_or_default())),
                    None => Err(()),
                });
            }
        })
    };
    let on_text = finisher(Some(status));
    let on_error = finisher(None);
    let fetched = win.fetch_with_request(&request);
    let texted = then(&fetched, &on_response, &JsValue::UNDEFINED);
    then(&texted, &on_text, &on_error);
}

/// `promise.then(on_ok, on_err)` with plain JavaScript functions (js-sys's typed `then` takes
/// closures of one fixed type per call, which these are not).
pub fn then(promise: &JsValue, on_ok: &JsValue, on_err: &JsValue) -> JsValue {
    js_sys::Reflect::get(promise, &JsValue::from_str("then"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .and_then(|then| then.call2(promise, on_ok, on_err).ok())
        .unwrap_or(JsValue::UNDEFINED)
}
