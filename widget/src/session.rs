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

use js_sys::Date;
use natter_sdk::api::{
    ErrorBody, StartConversationRequest, VisitorIdentity, VisitorSessionRequest,
    WidgetConfigResponse, WidgetPosition,
};
use natter_sdk::client::{
    Action, ClientConfig, ClientCore, ClientEvent, CloseReason, ConnectionState, OutboxEntry,
};
use natter_sdk::js::{self, FromJs, ToJs};
use natter_sdk::protocol::{
    AuthorKind, ConversationStatus, ConversationSummary, ErrorCode, Message, ServerFrame,
    WhenUnavailable,
};
use wasm_bindgen::prelude::*;

#[cfg(not(feature = "headless"))]
use crate::i18n::Texts;
#[cfg(not(feature = "headless"))]
use crate::model::Locale;
use crate::model::{Appearance, Connection, Delivery, Line, Model, Routing, Side};
use crate::prelude::*;

/// What a session tells its owner after a change (the widget re-renders).
pub type Observer = Rc<dyn Fn()>;

/// Longest delay between retries of the REST calls that precede the socket.
const REST_RETRY_MAX_MS: f64 = 30_000.0;

// What the browser tells [`State::woke`], the session's one callback: one closure, where a
// closure per source (timers, window, socket, `ready`, each REST call) cost ~0.2 KB gzip more.
// `watch`, `connect` and `request` in `browser.js` call it with these numbers.
/// The core's timer went off (`set_timeout`).
const CORE_TIMER: u32 = 0;
/// The browser went online (`watch`).
const ONLINE: u32 = 1;
/// The browser went offline (`watch`).
const OFFLINE: u32 = 2;
/// The page's visibility changed (`watch`).
const VISIBILITY: u32 = 3;
/// A REST retry's timer went off (`set_timeout`).
const REST_TIMER: u32 = 4;
/// Time to emit `ready` (`watch`).
const READY: u32 = 5;
/// The socket opened (`connect`).
const SOCKET_OPENED: u32 = 6;
/// The socket received a text message, given as the text (`connect`). A close code (1000 to
/// 4999), with the reason as the text, says it closed.
const SOCKET_MESSAGE: u32 = 7;
/// Plus the HTTP status (0 when the network failed): the answer to the settings' call...
const SETTINGS_ANSWER: u32 = 10_000;
/// ... or to the call in flight (`request`)...
const CALL_ANSWER: u32 = 20_000;
/// ... or, plus 1000 times the locale's number too, to the fetch of a language's texts.
#[cfg(not(feature = "headless"))]
const TEXTS_ANSWER: u32 = 30_000;

/// What [`read`] reads: `document.hidden`...
const HIDDEN: u32 = 0;
/// ... `location.href`...
const PAGE: u32 = 1;
/// ... or the browser's preferred languages (the bubble's default language).
#[cfg(not(feature = "headless"))]
pub(crate) const LANGUAGES: u32 = 2;

/// A session, cheap to clone (all clones drive the same state).
#[derive(Clone)]
pub struct Session(Rc<RefCell<State>>);

/// What the browser calls the session back with: a number saying what happened (see
/// [`CORE_TIMER`] and what follows it) and maybe a text (a JavaScript string, else `undefined`).
/// One closure, made with the state, for everything (answers, socket events, timers, window
/// events): each closure type costs its own glue, and each closure its own code. `Fn` like every
/// other closure of the widget, so that the glue needs no `FnMut` wrapper (~50 B gzip). The text
/// stays a JavaScript string, which [`decode`] hands to `browser.js`'s `parse` as it is: copied
/// into a Rust `String` first and back out for js-sys's `JSON.parse`, it cost first open 111 B
/// gzip more (wasm +128 B, glue −18 B).
type Callback = dyn Fn(u32, JsValue);

// The browser plumbing (see `browser.js` for why it is JavaScript). None of these throws.
#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    /// An open WebSocket.
    type WebSocket;

    /// `fetch` of `api_base + path`, followed by `query` URI-encoded if given: a `GET`, or a
    /// `POST` of `body` as JSON unless `body` is `undefined`; calls `on` (a [`Callback`]) once
    /// with `(tag + status, body)`, or `(tag, undefined)` when the network failed.
    /// (Stringified there, like the frames `transmit` sends: the sdk's `stringify` was a copy
    /// per type, reading `JSON.stringify`'s answer back into a Rust string: first open −0.14 KB
    /// gzip, glue included. Encoded there too: `encodeURIComponent` by an import of its own,
    /// its answer read into a Rust string and joined to the path, cost first open 56 B gzip
    /// more.)
    #[allow(clippy::too_many_arguments)]
    fn request(
        api_base: &str,
        path: &str,
        query: Option<&str>,
        token: Option<&str>,
        body: &JsValue,
        on: &JsValue,
        tag: u32,
    );
    /// `request` of the text pack of `language`, where `at` says (a URL per language, or a
    /// prefix; see `Session::texts_at`): its answer calls `on` with `tag`.
    #[cfg(not(feature = "headless"))]
    fn texts(at: &JsValue, language: &str, on: &JsValue, tag: u32);
    /// Opens a WebSocket to `<api_base>/v1/ws` (`https://` becoming `wss://`, `http://`
    /// `ws://`) whose events call `on`: `(6, None)` opened, `(7, text)` a text message,
    /// `(code, reason)` closed (see [`SOCKET_OPENED`]). `None` if the URL is refused.
    fn connect(api_base: &str, on: &JsValue) -> Option<WebSocket>;
    /// Sends `frame` as a JSON text frame (dropped unless the socket is open); `Some(false)`
    /// when the socket refused it. `Option` only for the glue, like `watch` below.
    fn transmit(socket: &WebSocket, frame: &JsValue) -> Option<bool>;
    /// Detaches the socket from its callback and closes it, with `code` and `reason` if given.
    #[wasm_bindgen(js_name = hangUp)]
    fn hang_up(socket: &WebSocket, code: Option<u16>, reason: Option<&str>);
    /// `localStorage.getItem(prefix + name)`, parsed if `json` (`null` when missing,
    /// `undefined` when not JSON); `undefined` where storage is unavailable. One function for
    /// text and JSON items, like `store` (see [`read`] for what these merges saved).
    fn load(prefix: &str, name: &str, json: bool) -> JsValue;
    /// `localStorage.setItem(prefix + name, value)`, as JSON text if `json`, or `removeItem`
    /// for `null` or `undefined`; ignores an unavailable storage. (The key is joined there:
    /// joining it in Rust at each call cost ~80 B gzip. Stringified there: `JSON.stringify` and
    /// reading its answer back into a Rust string at each caller, and `JSON.parse` on the way
    /// back, cost ~70 B gzip more, glue included.)
    fn store(prefix: &str, name: &str, value: &JsValue, json: bool);
    // `watch` answers `Option<bool>` although it always answers: with a plain `bool`
    // wasm-bindgen would import it straight from `browser.js`, a second import module, which
    // the build's renaming of imports (xtask/src/widget.rs) does not handle.
    /// Registers `on` (a [`Callback`]) for the window's `online` (1), `offline` (2) and the
    /// document's `visibilitychange` (3), and calls it with [`READY`] in a microtask (once the
    /// JavaScript that made the session is done); returns whether the browser is offline now.
    /// (Rather than a function of its own for `ready`: see [`read`].)
    fn watch(on: &JsValue) -> Option<bool>;
    /// What the page says: `document.hidden` ([`HIDDEN`]), `location.href` ([`PAGE`]) or the
    /// browser's preferred languages, best first, as an array ([`LANGUAGES`]). One function
    /// for the three. (Seven imports of `browser.js` merged into others, this one, `load`,
    /// `store`, `watch` and `listen`: first open −131 B gzip, measured together, wasm −21 B
    /// and glue −110 B; `location.href` by a function of its own again cost +95 B.)
    pub(crate) fn read(what: u32) -> JsValue;
    /// `object[key]`, `undefined` where that throws: the options of the JavaScript API and
    /// the appearance kept in `localStorage` may be anything. (Rather than js-sys's
    /// `Reflect::get`, a catching import whose key is a JavaScript string made at each call:
    /// first open −86 B gzip: wasm −92 B, glue +6 B.)
    pub(crate) fn property(object: &JsValue, key: &str) -> JsValue;
    /// `JSON.parse(text)`, `None` where it throws (`text` is no JSON) or for `null`. `Option`
    /// only for the glue, like `watch`'s answer.
    fn parse(text: &JsValue) -> Option<JsValue>;
    /// A `ChatMessage` of the JavaScript API (`npm/index.d.ts`), absent values as `null`. Built
    /// in one call: setting its ten fields one by one from Rust cost ~0.3 KB gzip more, glue
    /// included.
    #[wasm_bindgen(js_name = chatMessage)]
    #[allow(clippy::too_many_arguments)]
    fn chat_message(
        key: &str,
        id: Option<&str>,
        seq: Option<f64>,
        conversation_id: Option<&str>,
        text: &str,
        author_kind: &str,
        author_name: Option<&str>,
        created_at: f64,
        delivery: &str,
    ) -> JsValue;
    /// A plain object with the comma-separated `keys`, valued in order by `a`, `b` and `c`
    /// (those past the last key are left out). One call per object: creating it and setting
    /// each field from Rust cost ~40 B gzip more, glue included.
    fn record(keys: &str, a: &JsValue, b: &JsValue, c: &JsValue) -> JsValue;
    // The JavaScript listeners of the session's events: kept in JavaScript, as keeping them in
    // Rust (event names as `String`s, cloned for each dispatch) cost ~0.2 KB gzip more.
    /// Adds `[event, value]` to `list`, or (`add` false) removes every such pair: registers
    /// a listener in (or removes it from) `listeners`, or queues an event and its payload in
    /// `events`, for `dispatch` to deliver next. One function for both, and the event name
    /// passed as the caller gave it (no Rust string): ~60 B gzip less, glue included (and
    /// queueing through it rather than a function of its own: see [`read`]).
    fn listen(list: &js_sys::Array, event: &JsValue, value: &JsValue, add: bool);
    /// Empties `events` and calls the listeners of each, in order, with its payload; what
    /// they throw is ignored. The listeners called are the ones registered when it starts,
    /// whatever they register or remove meanwhile. (The queue is a JavaScript array rather
    /// than a `Vec` of events dispatched one by one: ~0.13 KB gzip less, glue included.)
    /// `Option` only for the glue, like `watch` below.
    fn dispatch(listeners: &js_sys::Array, events: &js_sys::Array) -> Option<bool>;
}

// Globals the session calls directly (no `window` lookup first).
#[wasm_bindgen]
extern "C" {
    /// Calls `callback` (a [`Callback`]) with `(timer, None)` after `ms`.
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &JsValue, ms: i32, timer: u32) -> i32;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: i32);
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn fill_random(bytes: &mut [u8]);
}

/// The open WebSocket; dropping it detaches its callback and closes it.
struct Socket(WebSocket);

impl Drop for Socket {
    fn drop(&mut self) {
        hang_up(&self.0, None, None);
    }
}

/// The session's state; only the view model is visible outside this module.
pub struct State {
    site_key: String,
    api_base: String,
    /// `localStorage` key prefix of this session's persisted data.
    storage_prefix: String,
    core: ClientCore,
    socket: Option<Socket>,
    /// The pending `setTimeout` handle of the core's timer.
    timer: Option<i32>,
    /// The session's [`callback`] to [`State::woke`], made with the state: what the timers,
    /// the window's events and the socket call.
    on_wake: JsValue,
    token: Option<String>,
    /// Messages written before a conversation exists, in order.
    unplaced: Vec<OutboxEntry>,
    /// The conversation new messages go to; `None` before the first one or after it closed.
    conversation: Option<String>,
    /// The REST call (session or conversation start) in flight, whose answer
    /// [`State::answered`] handles; at most one at a time, so it also says the session is busy.
    /// (The settings' call, made once, is apart.)
    call: Option<Call>,
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
    /// Where each language's texts are (see `Session::texts_at`).
    #[cfg(not(feature = "headless"))]
    texts_at: JsValue,
    /// The language whose texts are being fetched.
    #[cfg(not(feature = "headless"))]
    texts_asked: Option<Locale>,
    pub model: Model,
    /// The JavaScript listeners, as `[event, function]` pairs (see `browser.js`).
    listeners: js_sys::Array,
    observer: Option<Observer>,
    /// The events for the JavaScript listeners, as `[event, payload]` pairs, until `settle`
    /// dispatches them once the state is no longer borrowed.
    events: js_sys::Array,
    last_status: &'static str,
    last_unread: u32,
}

/// Milliseconds on the monotonic clock the core runs on.
fn mono_now() -> u64 {
    performance_now() as u64
}

/// `base.trim_end_matches('/')` without decoding backwards (`trim_end_matches` does, ~0.2 KB of
/// wasm that nothing else needs; see `ui::events::trimmed`).
fn without_trailing_slashes(mut base: &str) -> &str {
    while let Some(rest) = base.strip_suffix('/') {
        base = rest;
    }
    base
}

/// `parts.concat()`, by `push_str`: the standard `concat` brings a copy routine of its own,
/// ~0.35 KB gzip (measured) where `push_str` is in the wasm anyway.
fn joined(parts: &[&str]) -> String {
    let mut out = String::new();
    for part in parts {
        out.push_str(part);
    }
    out
}

fn random_seed() -> u64 {
    let mut bytes = [0u8; 8];
    fill_random(&mut bytes);
    u64::from_le_bytes(bytes) ^ (Date::now() as u64)
}

impl Session {
    /// A session for `site_key` on the natter server at `api_base` (`https://chat.example.com`),
    /// restoring what an earlier page of this browser persisted under `storage_prefix`.
    pub fn new(site_key: &str, api_base: &str, storage_prefix: Option<&str>) -> Session {
        let prefix = match storage_prefix {
            Some(p) => p.to_owned(),
            None => joined(&["natter:", site_key, ":"]),
        };
        let state = Rc::new(RefCell::new(State {
            site_key: site_key.to_owned(),
            api_base: without_trailing_slashes(api_base).to_owned(),
            storage_prefix: prefix,
            core: ClientCore::new(ClientConfig::default(), random_seed()),
            socket: None,
            timer: None,
            on_wake: JsValue::UNDEFINED,
            token: None,
            unplaced: Vec::new(),
            conversation: None,
            call: None,
            pending_identity: None,
            rest_failures: 0,
            rest_retry_at: None,
            refused: false,
            offline: false,
            wanted: false,
            #[cfg(not(feature = "headless"))]
            texts_at: JsValue::UNDEFINED,
            #[cfg(not(feature = "headless"))]
            texts_asked: None,
            model: Model::default(),
            listeners: js_sys::Array::new(),
            observer: None,
            events: js_sys::Array::new(),
            last_status: "idle",
            last_unread: 0,
        }));
        // The callback holds a weak reference to the state, so it is made once the state is:
        // set after the fact rather than with `Rc::new_cyclic`, whose own copy of the state's
        // construction cost ~10–40 B gzip.
        let on_wake = callback(Rc::downgrade(&state));
        let session = Session(state);
        session.set(|s| s.on_wake = on_wake);
        session.restore();
        session.listen_to_window();
        session
    }

    /// Runs `input` on the state, carries out the core's outputs, then (borrow released) calls
    /// the JavaScript listeners and the observer.
    pub fn drive(&self, input: impl FnOnce(&mut State)) {
        drive(&self.0, input);
    }

    /// Reads the state. Every shared borrow goes through here: each `borrow` call site costs the
    /// wasm a panic location of its own (~0.15 KB gzip with `set` below, `i18n::push_u32` and
    /// `bubble::mount`, which shed theirs too).
    pub fn with<R>(&self, read: impl FnOnce(&State) -> R) -> R {
        match self.0.try_borrow() {
            Ok(state) => read(&state),
            Err(_) => borrowed(),
        }
    }

    /// Changes the state without carrying out the core's outputs or notifying anyone (unlike
    /// [`Session::drive`]), for plumbing that decides nothing. The one exclusive borrow site,
    /// like [`Session::with`].
    fn set(&self, change: impl FnOnce(&mut State)) {
        match self.0.try_borrow_mut() {
            Ok(mut state) => change(&mut state),
            Err(_) => borrowed(),
        }
    }

    /// Sets who re-renders after changes.
    #[cfg(not(feature = "headless"))]
    pub fn set_observer(&self, observer: Observer) {
        self.set(|s| s.observer = Some(observer));
    }

    /// Registers a JavaScript listener for `event` (`add`), or removes every registration of
    /// it for `event`. An event name that is no string never matches an event.
    pub fn listen(&self, event: &JsValue, listener: &JsValue, add: bool) {
        self.with(|s| listen(&s.listeners, event, listener, add));
    }

    /// Emits an event to the JavaScript listeners (after the current borrow).
    #[cfg(not(feature = "headless"))]
    pub fn emit(&self, event: &'static str, payload: JsValue) {
        self.drive(|s| s.emit(event, &payload));
    }

    /// Starts connecting (creating the visitor session first if there is none).
    #[cfg(feature = "headless")]
    pub fn connect(&self) {
        self.drive(State::connect);
    }

    /// Sets where the texts of each language are fetched from, as `mount`'s `texts` option
    /// gives it: an object with a URL per language tag (`en`, `fr`, `ru`, `pt`), or a prefix
    /// to which the tag and `.txt` are appended.
    #[cfg(not(feature = "headless"))]
    pub fn texts_at(&self, urls: JsValue) {
        self.set(|s| s.texts_at = urls);
    }

    /// Loads the tenant's widget settings and availability into the model.
    pub fn load_settings(&self) {
        self.with(|s| {
            s.request(
                "/v1/visitor/widget?site_key=",
                Some(&s.site_key),
                None,
                &JsValue::UNDEFINED,
                SETTINGS_ANSWER,
            );
        });
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
        self.drive(State::retry_now);
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
            // A sign-in on its way (or waiting for one) is the leaving visitor's: its answer
            // must not bring them back for whoever uses this browser next.
            if s.call.is_some() {
                s.call = Some(Call::Abandoned);
            }
            s.pending_identity = None;
            s.forget_conversation();
            s.token = None;
            s.unplaced.clear();
            s.model.lines.clear();
            s.model.unread = 0;
            for key in ["visitor", "outbox", "open"] {
                s.store(key, None);
            }
        });
    }

    fn restore(&self) {
        self.drive(|s| {
            s.token = s.load("visitor");
            if let Some(token) = &s.token {
                s.core.set_token(token.clone());
            }
            let entries: Vec<OutboxEntry> =
                FromJs::from_js(&s.recall("outbox")).unwrap_or_default();
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
            s.restore_appearance(&s.recall("appearance"));
            if !s.unplaced.is_empty() || s.core.pending_len() > 0 {
                // Unsent messages from an earlier page: deliver them without waiting for a click.
                s.connect();
            }
        });
    }

    fn listen_to_window(&self) {
        self.set(|s| s.offline = watch(&s.on_wake).unwrap_or(false));
    }
}

/// A JavaScript function that passes its arguments to [`State::woke`] if the session still
/// exists: the session's one [`Callback`]. JavaScript owns it (it is freed once nothing there
/// refers to it): it may outlive the session, as the window keeps its listeners and a timer or
/// a request may still be pending.
fn callback(me: Weak<RefCell<State>>) -> JsValue {
    Closure::<Callback>::new(move |what, text| {
        if let Some(me) = me.upgrade() {
            drive(&me, |s| s.woke(what, &text));
        }
    })
    .into_js_value()
}

/// Where [`Session::with`] or [`Session::set`] finds the state borrowed, which never happens: it
/// is borrowed exclusively only while no JavaScript runs (see [`drive`]). Traps, as a panic
/// does in the wasm that ships, but without `RefCell::borrow`'s panic: its message, location
/// and formatting call, and those of `borrow_mut`, were the only ones of their kind left
/// (first open −137 B gzip).
#[cold]
fn borrowed() -> ! {
    core::arch::wasm32::unreachable()
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
    let (listeners, events, observer) = {
        let Ok(mut state) = rc.try_borrow_mut() else {
            return;
        };
        state.pump();
        (
            state.listeners.clone(),
            state.events.clone(),
            state.observer.clone(),
        )
    };
    let _ = dispatch(&listeners, &events);
    if let Some(observer) = observer {
        observer();
    }
}

impl State {
    /// This session's `localStorage` item `name`.
    fn load(&self, name: &str) -> Option<String> {
        load(&self.storage_prefix, name, false).as_string()
    }

    /// This session's `localStorage` item `name`, parsed as JSON (anything when it is missing
    /// or damaged).
    fn recall(&self, name: &str) -> JsValue {
        load(&self.storage_prefix, name, true)
    }

    /// Stores this session's `localStorage` item `name`, or removes it for `None`.
    fn store(&self, name: &str, value: Option<&str>) {
        store(&self.storage_prefix, name, &nullable(value), false);
    }

    /// Stores `value` as this session's `localStorage` item `name`, as JSON text.
    fn keep(&self, name: &str, value: &JsValue) {
        store(&self.storage_prefix, name, value, true);
    }

    /// Whether a flag item is set in `localStorage`. (Not read into a `String` just to see
    /// that it is there: first open −45 B gzip.)
    #[cfg(not(feature = "headless"))]
    pub fn stored_flag(&self, name: &str) -> bool {
        !load(&self.storage_prefix, name, false).is_null_or_undefined()
    }

    /// Shows the interface in `locale`, fetching its texts unless they are here already (the
    /// current ones stay until they arrive).
    #[cfg(not(feature = "headless"))]
    pub fn set_locale(&mut self, locale: Locale) {
        self.model.locale = locale;
        self.fetch_texts();
    }

    /// Fetches the texts of the language the model asks for, unless they are shown or on
    /// their way. A failed fetch is tried again when the visitor opens the panel, when the
    /// browser comes back online, or at the next change of language.
    #[cfg(not(feature = "headless"))]
    fn fetch_texts(&mut self) {
        let locale = self.model.locale;
        let shown = self.model.texts.as_ref().map(Texts::locale);
        if shown == Some(locale) || self.texts_asked == Some(locale) {
            return;
        }
        self.texts_asked = Some(locale);
        let tag = TEXTS_ANSWER + 1000 * locale as u32;
        texts(&self.texts_at, locale.tag(), &self.on_wake, tag);
    }

    /// The answer (`status`, 0 when the network failed, and `pack`) to the fetch of the
    /// texts of `locale`: shown if they are still wanted and read whole.
    #[cfg(not(feature = "headless"))]
    fn texts_arrived(&mut self, locale: Locale, status: u32, pack: Option<String>) {
        if self.texts_asked == Some(locale) {
            self.texts_asked = None;
        }
        if status == 200
            && locale == self.model.locale
            && let Some(texts) = pack.and_then(|pack| Texts::parse(locale, pack))
        {
            self.model.texts = Some(texts);
        }
    }

    /// Opens or closes the bubble's panel, remembered for the next pages (a flag item in
    /// `localStorage`). Opening it connects a visitor this browser already has, to show their
    /// conversation. (One `drive`: one for the model and another for connecting, each
    /// settling, cost ~40 B gzip more.)
    #[cfg(not(feature = "headless"))]
    pub fn set_open(&mut self, open: bool) {
        self.model.set_open(open);
        self.store("open", open.then_some("1"));
        // Asking for the panel is when texts that failed to arrive are asked for again.
        self.fetch_texts();
        // Emits `unread` (cleared by opening) now, before connecting changes `status`: the
        // order listeners always heard them in.
        self.update_connection();
        if open && self.token.is_some() {
            self.connect();
        }
    }

    /// Closes the connection and forgets the conversation: a new core (with an empty outbox),
    /// no conversation, no routing. One copy for `shutdown` and a change of visitor: replacing
    /// the core and clearing the conversation in place at each cost ~0.1 KB gzip.
    #[inline(never)]
    fn forget_conversation(&mut self) {
        self.core.shutdown();
        self.socket = None;
        self.core = ClientCore::new(ClientConfig::default(), random_seed());
        self.conversation = None;
        self.model.conversation_id = None;
        self.model.routing = Routing::None;
    }

    /// Starts connecting (creating the visitor session first if there is none).
    fn connect(&mut self) {
        self.wanted = true;
        if self.token.is_some() {
            self.core.connect_requested(mono_now());
        } else {
            self.open_visitor_session(None);
        }
    }

    /// Applies the appearance the last settings left in `localStorage` (`cache`, which is
    /// anything when there was none or it was damaged) to the default one, so that the widget
    /// looks right before this page's settings arrive.
    fn restore_appearance(&mut self, cache: &JsValue) {
        // `undefined` for a field of `null` or `undefined`.
        let get = |key| property(cache, key);
        let appearance = &mut self.model.appearance;
        if let Some(color) = get("color").as_string() {
            appearance.color = color;
        }
        appearance.left = get("left").as_bool() == Some(true);
        appearance.launcher_text = get("launcher_text").as_string();
    }

    /// Queues an event for the JavaScript listeners, dispatched once the state is released.
    fn emit(&self, event: &str, payload: &JsValue) {
        listen(&self.events, &JsValue::from_str(event), payload, true);
    }

    /// Whether the visitor can see new messages right now.
    fn visible(&self) -> bool {
        self.model.open && read(HIDDEN).as_bool() == Some(false)
    }

    fn send(&mut self, text: &str) -> String {
        let now = mono_now();
        let client_id = self.core.new_client_id();
        self.model
            .push_pending(&client_id, text, Date::now() as i64);
        if let Some(line) = self.model.lines.last() {
            let payload = line_payload(line, self.conversation.as_deref());
            self.emit("message", &payload);
        }
        match self.conversation.clone() {
            Some(conversation) => {
                // An owned text, as where unplaced entries are sent: with the same argument
                // types both calls share one copy of this generic method (~0.15 KB of wasm).
                let _ = self.core.send_message_with_client_id(
                    now,
                    conversation,
                    client_id.clone(),
                    text.to_owned(),
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
        self.connect();
        // (Without a visitor yet, the conversation starts once the session is open.)
        self.start_conversation_if_needed();
        client_id
    }

    fn persist_outbox(&self) {
        // Encoded from both lists in place: copying them into one `Vec` first cost ~0.5 KB.
        let entries = js_sys::Array::new();
        for entry in &self.unplaced {
            entries.push(&entry.to_js());
        }
        for entry in self.core.pending() {
            entries.push(&entry.to_js());
        }
        // An empty outbox is removed rather than stored as `[]`.
        if entries.length() > 0 {
            self.keep("outbox", &entries);
        } else {
            self.store("outbox", None);
        }
    }

    /// Skips the remaining reconnect delay and retries the REST step that is due.
    fn retry_now(&mut self) {
        self.rest_retry_at = None;
        self.core.retry_now(mono_now());
        self.resume_rest();
    }

    /// Retries whichever REST step is due.
    fn resume_rest(&mut self) {
        if !self.wanted || self.call.is_some() {
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
        if self.call.is_some() {
            // `identify()` right after the page opened a session: run it once that call ends
            // (see `pump`), never drop it.
            if identity.is_some() {
                self.pending_identity = identity;
            }
            return;
        }
        let identified = identity.is_some();
        let request = VisitorSessionRequest {
            site_key: self.site_key.clone(),
            visitor_token: if identified { None } else { self.token.clone() },
            identity,
            name: None,
            email: None,
            page_url: Some(page_url()),
        };
        self.send_call(
            Call::Session { identified },
            "/v1/visitor/session",
            None,
            &request.to_js(),
        );
    }

    fn session_opened(&mut self, token: String, identified: bool) {
        self.rest_failures = 0;
        self.rest_retry_at = None;
        let changed_visitor = identified && self.token.as_deref() != Some(token.as_str());
        self.store("visitor", Some(&token));
        self.token = Some(token.clone());
        if changed_visitor {
            // Another visitor now: the old conversation is not theirs. Keep only what was
            // written before any conversation existed.
            self.forget_conversation();
            self.model.lines.retain(|l| l.delivery == Delivery::Pending);
            self.persist_outbox();
        }
        self.core.set_token(token);
        if self.wanted {
            self.core.connect_requested(mono_now());
            self.start_conversation_if_needed();
        }
    }

    fn start_conversation_if_needed(&mut self) {
        if self.unplaced.is_empty() || self.conversation.is_some() || self.call.is_some() {
            return;
        }
        let Some(token) = self.token.clone() else {
            return;
        };
        self.post_conversation(token, false);
    }

    /// `POST /v1/conversations`: returns the visitor's open conversation or starts one, so
    /// repeating it after a lost answer is harmless.
    fn post_conversation(&mut self, token: String, leave_message: bool) {
        let request = StartConversationRequest {
            message: None,
            team: None,
            leave_message,
        };
        self.send_call(
            Call::Conversation {
                leave_message,
                token: token.clone(),
            },
            "/v1/conversations",
            Some(&token),
            &request.to_js(),
        );
    }

    /// Sends a request to the API's `path` with `fetch` (a `POST` of `body` unless it is
    /// `undefined`); [`State::woke`] gets the answer, tagged with `tag`. A callback rather than
    /// `async`: the future machinery cost the widget several KB of wasm.
    fn request(
        &self,
        path: &str,
        query: Option<&str>,
        token: Option<&str>,
        body: &JsValue,
        tag: u32,
    ) {
        request(&self.api_base, path, query, token, body, &self.on_wake, tag);
    }

    /// POSTs `call`'s `body` to the API's `path`; [`State::answered`] gets the answer.
    ///
    /// The call waits in the state rather than in a closure of its own: the session's one
    /// callback then serves REST answers too (a closure per call, even with one body for every
    /// call, cost ~0.2 KB gzip), and the call in flight is also what says the session is busy.
    fn send_call(&mut self, call: Call, path: &str, token: Option<&str>, body: &JsValue) {
        self.call = Some(call);
        self.request(path, None, token, body, CALL_ANSWER);
    }

    /// Handles the answer to the settings' call.
    fn settings_answered(&mut self, answer: Answer) {
        match answer {
            Ok((200, body)) => self.apply_settings(body),
            Ok((403, _)) => self.refuse(ErrorCode::OriginNotAllowed),
            Ok((404, _)) => self.refuse(ErrorCode::NotFound),
            _ => {}
        }
    }

    /// Handles the answer to the REST call that was in flight.
    fn answered(&mut self, call: Call, answer: Answer) {
        match call {
            // What was asked for since then waited for this answer.
            Call::Abandoned => self.resume_rest(),
            Call::Session { identified } => match answer {
                Ok((200, text)) => match decode::<natter_sdk::api::VisitorSessionResponse>(text) {
                    Ok(session) => self.session_opened(session.visitor_token, identified),
                    Err(_) => self.rest_failed(),
                },
                Ok((status, text)) if (400..500).contains(&status) && status != 429 => {
                    let code = error_code(text);
                    self.refuse(code);
                }
                _ => self.rest_failed(),
            },
            Call::Conversation {
                token,
                leave_message,
            } => match answer {
                // Under the `reject` policy nobody is there: leave the message for later.
                Ok((409, text))
                    if !leave_message && error_code(text) == ErrorCode::NoAgentAvailable =>
                {
                    self.post_conversation(token, true);
                }
                Ok((200 | 201, text)) => match decode::<ConversationSummary>(text) {
                    Ok(summary) => self.conversation_ready(&summary),
                    Err(_) => self.rest_failed(),
                },
                Ok((401, _)) => {
                    // The visitor token expired or was revoked: a new session.
                    self.token = None;
                    self.open_visitor_session(None);
                }
                _ => self.rest_failed(),
            },
        }
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
        set_timeout(&self.on_wake, delay as i32, REST_TIMER);
    }

    /// What the browser calls the session back with (see [`CORE_TIMER`] and what follows it);
    /// `text` is a socket's message or close reason, or a REST answer's body.
    fn woke(&mut self, what: u32, text: &JsValue) {
        match what {
            CORE_TIMER => {
                self.timer = None;
                self.core.handle_timeout(mono_now());
            }
            // Online: retry at once.
            ONLINE => {
                self.offline = false;
                self.retry_now();
                #[cfg(not(feature = "headless"))]
                self.fetch_texts();
            }
            OFFLINE => self.offline = true,
            // The page's visibility changed: coming back to the tab with the panel open
            // counts as reading what arrived meanwhile.
            VISIBILITY => {
                if self.visible() {
                    self.model.mark_read();
                }
            }
            REST_TIMER => {
                if self.rest_retry_at.is_some_and(|t| t <= Date::now() + 50.0) {
                    self.rest_retry_at = None;
                    self.resume_rest();
                }
            }
            // (The headless `ChatClient` has no `ready` event.)
            READY => {
                #[cfg(not(feature = "headless"))]
                self.emit("ready", &JsValue::UNDEFINED);
            }
            // A REST answer (`request`), with its status.
            SETTINGS_ANSWER..CALL_ANSWER => {
                self.settings_answered(answer(what - SETTINGS_ANSWER, text));
            }
            #[cfg(not(feature = "headless"))]
            TEXTS_ANSWER.. => {
                let tag = what - TEXTS_ANSWER;
                self.texts_arrived(Locale::from_index(tag / 1000), tag % 1000, text.as_string());
            }
            CALL_ANSWER.. => {
                if let Some(call) = self.call.take() {
                    self.answered(call, answer(what - CALL_ANSWER, text));
                }
            }
            SOCKET_OPENED => self.core.transport_opened(mono_now()),
            SOCKET_MESSAGE => {
                // A frame this version cannot read is skipped, like an unknown type.
                if let Ok(frame) = decode::<ServerFrame>(text) {
                    self.core.frame_received(mono_now(), frame);
                }
            }
            // The socket closed, with this close code.
            code => {
                let reason = if code == 1006 {
                    CloseReason::Error("connection lost".into())
                } else {
                    CloseReason::Closed {
                        code: code as u16,
                        reason: text.as_string().unwrap_or_default(),
                    }
                };
                self.socket = None;
                self.core.transport_closed(mono_now(), reason);
            }
        }
    }

    fn refuse(&mut self, code: ErrorCode) {
        self.refused = true;
        self.wanted = false;
        self.core.shutdown();
        self.socket = None;
        self.emit("error", &error_payload(code));
    }

    fn apply_settings(&mut self, body: &JsValue) {
        let Ok(config) = decode::<WidgetConfigResponse>(body) else {
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
        // The loader draws the launcher from this before the wasm loads on the next page.
        let cache = record(
            "color,left,launcher_text",
            &appearance.color.as_str().into(),
            &appearance.left.into(),
            &nullable(appearance.launcher_text.as_deref()),
        );
        self.keep("appearance", &cache);
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
        if self.call.is_none()
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
                            hang_up(&socket.0, Some(code), Some(reason));
                        }
                    }
                }
            }
            while let Some(frame) = self.core.poll_transmit() {
                progressed = true;
                if let Some(socket) = &self.socket {
                    let _ = transmit(&socket.0, &frame.to_js());
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
        let Some(ws) = connect(&self.api_base, &self.on_wake) else {
            self.core
                .transport_closed(mono_now(), CloseReason::ConnectFailed("bad url".into()));
            return;
        };
        self.socket = Some(Socket(ws));
    }

    fn schedule(&mut self, now: u64) {
        if let Some(handle) = self.timer.take() {
            clear_timeout(handle);
        }
        let mut deadline = self.core.poll_timeout();
        // While a countdown shows, tick every second so it counts down.
        if matches!(self.model.connection, Connection::Reconnecting { .. }) {
            deadline = Some(deadline.map_or(now + 1000, |d| d.min(now + 1000)));
        }
        let Some(deadline) = deadline else { return };
        let delay = deadline.saturating_sub(now).min(i32::MAX as u64) as i32;
        self.timer = Some(set_timeout(&self.on_wake, delay, CORE_TIMER));
    }

    #[inline(never)]
    fn apply(&mut self, event: ClientEvent) {
        // Matched by reference (and `routing` borrows its frame, cloning what it keeps), so
        // that the event is dropped once, after the match: moving parts out in each arm made
        // each arm drop the rest (~0.2 KB gzip).
        let visible = self.visible();
        match &event {
            ClientEvent::Message(message) | ClientEvent::Sent { message, .. }
                if self.model.message_stored(message, visible).is_some() =>
            {
                self.emit("message", &message_payload(message));
            }
            ClientEvent::SendFailed {
                client_id, code, ..
            } => {
                self.model.send_failed(client_id);
                self.emit("error", &error_payload(*code));
            }
            ClientEvent::Typing { author, typing, .. } if author.kind == AuthorKind::Staff => {
                self.model.agent_typing(author.name.as_deref(), *typing);
                self.emit(
                    "typing",
                    &record(
                        "name,typing",
                        &nullable(author.name.as_deref()),
                        &(*typing).into(),
                        &JsValue::UNDEFINED,
                    ),
                );
            }
            ClientEvent::ConversationList(list) => {
                // Show the visitor's live conversation, else their latest one (the last of the
                // most recent, like `max_by_key`). One loop rather than two `max_by_key` chains,
                // each compiled to a fold of its own (~0.1 KB gzip, measured together with a
                // loop in the core's outbox).
                let mut current: Option<&ConversationSummary> = None;
                for candidate in list {
                    let live = candidate.status != ConversationStatus::Closed;
                    let better = current.is_none_or(|best| {
                        let best_live = best.status != ConversationStatus::Closed;
                        if live == best_live {
                            candidate.last_activity_at >= best.last_activity_at
                        } else {
                            live
                        }
                    });
                    if better {
                        current = Some(candidate);
                    }
                }
                if let Some(current) = current {
                    self.conversation_changed(current);
                }
            }
            ClientEvent::Conversation(summary) => self.conversation_changed(summary),
            ClientEvent::Routing(frame) => self.routing(frame),
            ClientEvent::AuthRefused { code, .. } => {
                if *code == ErrorCode::Unauthenticated && !self.refused {
                    // An expired or unknown visitor token: start a fresh visitor session.
                    self.token = None;
                    self.store("visitor", None);
                    self.open_visitor_session(None);
                } else {
                    self.refuse(*code);
                }
            }
            ClientEvent::Error { code, .. } => self.emit("error", &error_payload(*code)),
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

    fn routing(&mut self, frame: &ServerFrame) {
        let (conversation, routing) = match frame {
            ServerFrame::Queued {
                conversation_id,
                position,
                estimated_wait_ms,
            } => (
                conversation_id,
                Routing::Queued {
                    position: *position,
                    estimated_wait_ms: *estimated_wait_ms,
                },
            ),
            ServerFrame::Away {
                conversation_id,
                message,
            } => (
                conversation_id,
                Routing::Away {
                    message: message.clone(),
                },
            ),
            ServerFrame::Assigned {
                conversation_id,
                agent,
            } => (
                conversation_id,
                Routing::Assigned {
                    agent: agent.clone(),
                },
            ),
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
        self.emit("routing", &payload);
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
            self.emit("status", &JsValue::from_str(status));
        }
        if self.model.unread != self.last_unread {
            self.last_unread = self.model.unread;
            self.emit("unread", &JsValue::from_f64(f64::from(self.model.unread)));
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
fn page_url() -> String {
    let href = read(PAGE).as_string().unwrap_or_default();
    // `get` rather than indexing: a slicing panic path drags in ~4 KB gzip of formatting code.
    // Counted one character at a time rather than with `nth`, like `validate_text`.
    let mut chars = href.char_indices().enumerate();
    match chars.find(|&(index, _)| index == 2000) {
        Some((_, (cut, _))) => href.get(..cut).unwrap_or_default().to_owned(),
        None => href,
    }
}

fn error_code(body: &JsValue) -> ErrorCode {
    decode::<ErrorBody>(body)
        .map(|b| b.error.code)
        .unwrap_or(ErrorCode::Unknown)
}

/// A string, or `null` for none.
fn nullable(text: Option<&str>) -> JsValue {
    text.map_or(JsValue::NULL, JsValue::from_str)
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
    record(
        "code,message",
        &name.into(),
        &message.into(),
        &JsValue::UNDEFINED,
    )
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
    chat_message(
        message.client_id.as_deref().unwrap_or(&message.id),
        Some(&message.id),
        Some(message.seq as f64),
        Some(&message.conversation_id),
        &message.text,
        author_kind(message.author.kind),
        message.author.name.as_deref(),
        message.created_at as f64,
        "sent",
    )
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
    chat_message(
        &line.key,
        line.id.as_deref(),
        line.seq.map(|seq| seq as f64),
        conversation_id,
        &line.text,
        kind,
        name,
        line.at as f64,
        delivery,
    )
}

/// The `RoutingStatus` shape of the JavaScript API. One `record` call for every state, with
/// its keys and values picked first (a call per state cost ~50 B gzip).
pub fn routing_payload(routing: &Routing) -> JsValue {
    const NONE: JsValue = JsValue::UNDEFINED;
    let (keys, state, a, b) = match routing {
        Routing::None => ("state", "none", NONE, NONE),
        Routing::Queued {
            position,
            estimated_wait_ms,
        } => (
            "state,position,estimatedWaitMs",
            "queued",
            JsValue::from_f64(f64::from(*position)),
            estimated_wait_ms.map_or(JsValue::NULL, |ms| JsValue::from_f64(ms as f64)),
        ),
        Routing::Away { message } => ("state,message", "away", message.as_str().into(), NONE),
        Routing::Assigned { agent } => (
            "state,agent",
            "assigned",
            record(
                "id,name,avatarUrl",
                &agent.id.as_str().into(),
                &agent.name.as_str().into(),
                &nullable(agent.avatar_url.as_deref()),
            ),
            NONE,
        ),
        Routing::Closed => ("state", "closed", NONE, NONE),
    };
    record(keys, &state.into(), &a, &b)
}

/// What a REST call ended with: `Ok((status, body))`, or `Err(())` when the network failed. The
/// body is borrowed: dropped in one place rather than in each way of handling it (~80 B gzip).
type Answer<'a> = Result<(u16, &'a JsValue), ()>;

/// `browser.js`'s answer to a request, as `(status, body)`, or `(0, undefined)` when the
/// network failed.
fn answer(status: u32, text: &JsValue) -> Answer<'_> {
    if text.is_null_or_undefined() {
        Err(())
    } else {
        Ok((status as u16, text))
    }
}

/// Reads the JSON text `text` (a JavaScript string) as a `T`.
fn decode<T: FromJs>(text: &JsValue) -> Result<T, js::DecodeError> {
    T::from_js(&parse(text).unwrap_or_default())
}

/// A REST call of the session that retries, with what handling its answer needs.
enum Call {
    /// `POST /v1/visitor/session`, with a verified identity or not.
    Session { identified: bool },
    /// `POST /v1/conversations` with the visitor `token`, asking to leave a message or not.
    Conversation { token: String, leave_message: bool },
    /// A call `shutdown` came during: its answer belongs to the forgotten visitor and is
    /// dropped (the call is still waited for, so that no answer is taken for another's).
    Abandoned,
}

/// The browser plumbing and the JavaScript API's payload shapes, in headless Chromium:
/// `cargo test -p natter-widget --target wasm32-unknown-unknown --lib` with
/// `wasm-bindgen-test-runner` as the target's runner and `CHROMEDRIVER` set, which serves
/// `browser.js` with the test module.
#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use js_sys::{Function, JSON, Promise};
    use natter_sdk::protocol::{AgentCard, Author, AuthorKind, ErrorCode, Message};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::JsFuture;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::*;
    use crate::model::{Delivery, Line, Routing, Side};

    wasm_bindgen_test_configure!(run_in_browser);

    fn json(value: &JsValue) -> String {
        JSON::stringify(value).unwrap().as_string().unwrap()
    }

    /// The arguments of each call of a [`Callback`].
    type Calls = Rc<RefCell<Vec<(u32, Option<String>)>>>;

    /// A [`Callback`] that records its calls, and a promise resolved by the first `settled` one.
    fn recorder(settled: fn(u32) -> bool) -> (JsValue, Promise, Calls) {
        let calls = Rc::new(RefCell::new(Vec::new()));
        let seen = calls.clone();
        let mut resolve = None;
        let promise = Promise::new(&mut |ok, _| resolve = Some(ok));
        let resolve = resolve.unwrap();
        let callback = Closure::<Callback>::new(move |number, text: JsValue| {
            seen.borrow_mut().push((number, text.as_string()));
            if settled(number) {
                resolve.call0(&JsValue::UNDEFINED).unwrap();
            }
        });
        (callback.into_js_value(), promise, calls)
    }

    #[wasm_bindgen_test]
    fn trailing_slashes_are_cut_like_trim_end_matches() {
        for base in [
            "",
            "/",
            "https://chat.example.com",
            "https://a.example//",
            "/é/",
        ] {
            assert_eq!(without_trailing_slashes(base), base.trim_end_matches('/'));
        }
    }

    /// The text item `name` under `prefix`.
    fn text(prefix: &str, name: &str) -> Option<String> {
        load(prefix, name, false).as_string()
    }

    #[wasm_bindgen_test]
    fn storage_keeps_replaces_and_removes_items() {
        let (prefix, name) = ("natter-test:", "storage");
        store(prefix, name, &"one".into(), false);
        assert_eq!(text(prefix, name).as_deref(), Some("one"));
        // The key is the prefix and the name joined.
        assert_eq!(text("natter-", "test:storage").as_deref(), Some("one"));
        store(prefix, name, &"two".into(), false);
        assert_eq!(text(prefix, name).as_deref(), Some("two"));
        store(prefix, name, &JsValue::NULL, false);
        assert!(load(prefix, name, false).is_null());
        store(prefix, name, &"three".into(), false);
        store(prefix, name, &JsValue::UNDEFINED, true);
        assert_eq!(text(prefix, name), None);
    }

    #[wasm_bindgen_test]
    fn json_is_stored_as_text_and_recalled_parsed() {
        let (prefix, name) = ("natter-test:", "json");
        store(
            prefix,
            name,
            &record("a,b", &1.into(), &"x".into(), &JsValue::UNDEFINED),
            true,
        );
        assert_eq!(text(prefix, name).as_deref(), Some(r#"{"a":1,"b":"x"}"#));
        assert_eq!(json(&load(prefix, name, true)), r#"{"a":1,"b":"x"}"#);
        // A string as JSON: quoted.
        store(prefix, name, &"x".into(), true);
        assert_eq!(text(prefix, name).as_deref(), Some(r#""x""#));
        // Damaged: nothing comes back.
        store(prefix, name, &"{".into(), false);
        assert!(load(prefix, name, true).is_undefined());
        store(prefix, name, &JsValue::NULL, false);
        assert!(load(prefix, name, true).is_null());
    }

    /// A session of its own (storage under `prefix`) on a server that cannot be reached.
    fn offline_session(prefix: &str) -> Session {
        Session::new("site", "http://127.0.0.1:1/", Some(prefix))
    }

    #[wasm_bindgen_test]
    fn the_cached_appearance_is_restored_and_a_damaged_one_ignored() {
        let prefix = "natter-test-appearance:";
        store(
            prefix,
            "appearance",
            &r##"{"color":"#112233","left":true,"launcher_text":"Chat"}"##.into(),
            false,
        );
        let session = offline_session(prefix);
        session.with(|s| {
            let appearance = &s.model.appearance;
            assert_eq!(appearance.color, "#112233");
            assert!(appearance.left);
            assert_eq!(appearance.launcher_text.as_deref(), Some("Chat"));
            assert_eq!(appearance.title, None);
        });
        for damaged in ["{", "null", "[1]", r#"{"color":5,"left":"yes"}"#] {
            store(prefix, "appearance", &damaged.into(), false);
            let session = offline_session(prefix);
            session.with(|s| assert_eq!(s.model.appearance, Appearance::default(), "{damaged}"));
        }
        store(prefix, "appearance", &JsValue::NULL, false);
    }

    #[wasm_bindgen_test]
    fn a_stored_outbox_is_restored_as_pending_lines_and_shutdown_erases_it() {
        const OUTBOX: &str = concat!(
            r#"[{"client_id":"k1","conversation_id":"","text":"Hi"},"#,
            r#"{"client_id":"k2","conversation_id":"c1","text":"Again"}]"#
        );
        let prefix = "natter-test-outbox:";
        store(prefix, "outbox", &OUTBOX.into(), false);
        let session = offline_session(prefix);
        session.with(|s| {
            let lines: Vec<_> = s
                .model
                .lines
                .iter()
                .map(|line| (line.key.as_str(), line.text.as_str(), line.delivery))
                .collect();
            assert_eq!(
                lines,
                [
                    ("k1", "Hi", Delivery::Pending),
                    ("k2", "Again", Delivery::Pending)
                ]
            );
            assert_eq!(s.unplaced.len(), 1);
            assert_eq!(s.core.pending_len(), 1);
            assert_eq!(s.model.conversation_id.as_deref(), Some("c1"));
            // Unsent messages: it connects at once.
            assert!(s.wanted);
        });
        // Written back as it was (both lists, the unplaced first).
        session.with(State::persist_outbox);
        assert_eq!(json(&load(prefix, "outbox", true)), OUTBOX);
        session.shutdown();
        assert!(load(prefix, "outbox", false).is_null());
        session.with(|s| assert!(s.model.lines.is_empty()));
    }

    #[wasm_bindgen_test]
    fn a_stored_message_is_a_sent_chat_message() {
        let message = Message {
            id: "m1".into(),
            conversation_id: "c1".into(),
            seq: 3,
            client_id: Some("k1".into()),
            author: Author {
                kind: AuthorKind::Staff,
                id: "a1".into(),
                name: Some("Ada".into()),
                role: None,
            },
            text: "Hello".into(),
            created_at: 1_700_000_000_000,
        };
        assert_eq!(
            json(&message_payload(&message)),
            r#"{"key":"k1","id":"m1","seq":3,"conversationId":"c1","text":"Hello","author":{"kind":"staff","name":"Ada"},"createdAt":1700000000000,"delivery":"sent"}"#
        );
        let system = Message {
            client_id: None,
            author: Author {
                kind: AuthorKind::System,
                id: String::new(),
                name: None,
                role: None,
            },
            ..message
        };
        assert_eq!(
            json(&message_payload(&system)),
            r#"{"key":"m1","id":"m1","seq":3,"conversationId":"c1","text":"Hello","author":{"kind":"system","name":null},"createdAt":1700000000000,"delivery":"sent"}"#
        );
    }

    #[wasm_bindgen_test]
    fn a_pending_line_has_nulls_where_the_server_has_not_answered() {
        let line = Line {
            key: "k2".into(),
            id: None,
            seq: None,
            side: Side::Visitor,
            text: "Hi".into(),
            at: 5,
            delivery: Delivery::Pending,
        };
        assert_eq!(
            json(&line_payload(&line, None)),
            r#"{"key":"k2","id":null,"seq":null,"conversationId":null,"text":"Hi","author":{"kind":"visitor","name":null},"createdAt":5,"delivery":"pending"}"#
        );
        let failed = Line {
            side: Side::Agent {
                id: "a1".into(),
                name: None,
            },
            delivery: Delivery::Failed,
            ..line
        };
        assert_eq!(
            json(&line_payload(&failed, Some("c1"))),
            r#"{"key":"k2","id":null,"seq":null,"conversationId":"c1","text":"Hi","author":{"kind":"staff","name":null},"createdAt":5,"delivery":"failed"}"#
        );
    }

    #[wasm_bindgen_test]
    fn routing_statuses_have_the_documented_shapes() {
        let agent = |avatar_url: Option<&str>| AgentCard {
            id: "a1".into(),
            name: "Ada".into(),
            avatar_url: avatar_url.map(str::to_owned),
        };
        let cases = [
            (Routing::None, r#"{"state":"none"}"#),
            (
                Routing::Queued {
                    position: 2,
                    estimated_wait_ms: Some(60_000),
                },
                r#"{"state":"queued","position":2,"estimatedWaitMs":60000}"#,
            ),
            (
                Routing::Queued {
                    position: 1,
                    estimated_wait_ms: None,
                },
                r#"{"state":"queued","position":1,"estimatedWaitMs":null}"#,
            ),
            (
                Routing::Away {
                    message: "Back at 9".into(),
                },
                r#"{"state":"away","message":"Back at 9"}"#,
            ),
            (
                Routing::Assigned { agent: agent(None) },
                r#"{"state":"assigned","agent":{"id":"a1","name":"Ada","avatarUrl":null}}"#,
            ),
            (
                Routing::Assigned {
                    agent: agent(Some("https://x.test/a.png")),
                },
                r#"{"state":"assigned","agent":{"id":"a1","name":"Ada","avatarUrl":"https://x.test/a.png"}}"#,
            ),
            (Routing::Closed, r#"{"state":"closed"}"#),
        ];
        for (routing, expected) in cases {
            assert_eq!(json(&routing_payload(&routing)), expected);
        }
    }

    #[wasm_bindgen_test]
    fn errors_carry_a_code_and_a_message() {
        assert_eq!(
            json(&error_payload(ErrorCode::RateLimited)),
            r#"{"code":"rate_limited","message":"too many messages; slow down"}"#
        );
        assert_eq!(
            json(&error_payload(ErrorCode::Unknown)),
            r#"{"code":"error","message":"the chat server reported an error"}"#
        );
    }

    #[wasm_bindgen_test]
    fn a_property_is_read_from_anything_without_throwing() {
        let object = js_sys::Object::new();
        js_sys::Reflect::set(&object, &"a".into(), &"x".into()).unwrap();
        // A getter that throws.
        let failing: Function =
            Closure::<dyn FnMut()>::new(|| wasm_bindgen::throw_str("a failing getter"))
                .into_js_value()
                .unchecked_into();
        let descriptor = js_sys::Object::new();
        js_sys::Reflect::set(&descriptor, &"get".into(), &failing).unwrap();
        js_sys::Object::define_property(&object, &"b".into(), &descriptor);
        assert_eq!(property(&object, "a").as_string().as_deref(), Some("x"));
        assert!(property(&object, "b").is_undefined());
        assert!(property(&object, "c").is_undefined());
        for nothing in [JsValue::NULL, JsValue::UNDEFINED, JsValue::from_f64(5.0)] {
            assert!(property(&nothing, "a").is_undefined());
        }
    }

    #[wasm_bindgen_test]
    fn a_text_is_decoded_as_json_or_refused() {
        let body = JsValue::from_str(r#"{"error":{"code":"not_found","message":"no"}}"#);
        assert_eq!(error_code(&body), ErrorCode::NotFound);
        for text in ["{", "", "not json"] {
            assert!(decode::<ErrorBody>(&text.into()).is_err(), "{text}");
            assert!(parse(&text.into()).is_none());
        }
        assert_eq!(error_code(&JsValue::UNDEFINED), ErrorCode::Unknown);
    }

    #[wasm_bindgen_test]
    fn a_record_leaves_out_the_values_past_its_keys() {
        let value = record(
            "a,b",
            &JsValue::NULL,
            &JsValue::from_f64(1.0),
            &"more".into(),
        );
        assert_eq!(json(&value), r#"{"a":null,"b":1}"#);
    }

    #[wasm_bindgen_test]
    fn listeners_hear_their_event_in_order_until_removed() {
        let calls = Rc::new(RefCell::new(Vec::new()));
        let listener = |name: &'static str| -> Function {
            let calls = calls.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |payload: JsValue| {
                calls.borrow_mut().push((name, payload.as_f64()));
            })
            .into_js_value()
            .unchecked_into()
        };
        let (first, second) = (listener("first"), listener("second"));
        let listeners = js_sys::Array::new();
        // Throws into `dispatch` (without `eval`, which js-sys is built without).
        let failing: Function =
            Closure::<dyn FnMut()>::new(|| wasm_bindgen::throw_str("a failing listener"))
                .into_js_value()
                .unchecked_into();
        let events = js_sys::Array::new();
        let deliver = |event: &str, payload: f64| {
            listen(&events, &event.into(), &JsValue::from_f64(payload), true);
            let _ = dispatch(&listeners, &events);
        };
        listen(&listeners, &"status".into(), &first, true);
        listen(&listeners, &"status".into(), &failing, true);
        listen(&listeners, &"unread".into(), &second, true);
        listen(&listeners, &"status".into(), &second, true);
        listen(&listeners, &"status".into(), &first, true);
        deliver("status", 1.0);
        assert_eq!(
            *calls.borrow(),
            [
                ("first", Some(1.0)),
                ("second", Some(1.0)),
                ("first", Some(1.0))
            ]
        );
        calls.borrow_mut().clear();
        // Every registration of `first` for `status`, and nothing else.
        listen(&listeners, &"status".into(), &first, false);
        listen(&listeners, &"typing".into(), &second, false);
        deliver("status", 2.0);
        deliver("unread", 3.0);
        assert_eq!(
            *calls.borrow(),
            [("second", Some(2.0)), ("second", Some(3.0))]
        );
    }

    #[wasm_bindgen_test]
    fn a_dispatch_calls_the_listeners_registered_when_it_started() {
        let (listeners, events) = (js_sys::Array::new(), js_sys::Array::new());
        let calls = Rc::new(RefCell::new(Vec::new()));
        let late: Function = {
            let calls = calls.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |payload: JsValue| {
                calls.borrow_mut().push(("late", payload.as_f64()));
            })
            .into_js_value()
            .unchecked_into()
        };
        // The first listener registers `late` and queues another event while it runs.
        let first: Function = {
            let (calls, listeners, events, late) = (
                calls.clone(),
                listeners.clone(),
                events.clone(),
                late.clone(),
            );
            Closure::<dyn FnMut(JsValue)>::new(move |payload: JsValue| {
                calls.borrow_mut().push(("first", payload.as_f64()));
                if payload.as_f64() == Some(1.0) {
                    listen(&listeners, &"status".into(), &late, true);
                    listen(&events, &"status".into(), &JsValue::from_f64(3.0), true);
                }
            })
            .into_js_value()
            .unchecked_into()
        };
        listen(&listeners, &"status".into(), &first, true);
        listen(&events, &"status".into(), &JsValue::from_f64(1.0), true);
        listen(&events, &"status".into(), &JsValue::from_f64(2.0), true);
        let _ = dispatch(&listeners, &events);
        // `late` missed both events of that dispatch; the one queued meanwhile waits for the
        // next dispatch, which both listeners hear.
        assert_eq!(
            *calls.borrow(),
            [("first", Some(1.0)), ("first", Some(2.0))]
        );
        assert_eq!(events.length(), 1);
        let _ = dispatch(&listeners, &events);
        assert_eq!(
            *calls.borrow(),
            [
                ("first", Some(1.0)),
                ("first", Some(2.0)),
                ("first", Some(3.0)),
                ("late", Some(3.0))
            ]
        );
        assert_eq!(events.length(), 0);
    }

    #[wasm_bindgen_test]
    fn the_page_address_and_visibility_come_from_the_document() {
        assert!(page_url().starts_with("http://127.0.0.1:"));
        assert_eq!(read(HIDDEN).as_bool(), Some(false));
    }

    #[wasm_bindgen_test]
    async fn a_request_answers_with_the_status_and_the_body() {
        let (done, answered, calls) = recorder(|_| true);
        // The test runner's own page.
        request(
            &page_url(),
            "",
            None,
            Some("token"),
            &JsValue::UNDEFINED,
            &done,
            SETTINGS_ANSWER,
        );
        JsFuture::from(answered).await.unwrap();
        let calls = calls.borrow();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].0, SETTINGS_ANSWER + 200);
        let body = calls[0].1.as_deref().unwrap_or_default();
        assert!(body.contains("<script"), "the page's text: {body}");
    }

    #[wasm_bindgen_test]
    async fn a_query_is_uri_encoded() {
        // Unencoded, `#` would end a `data:` URL's body and `%41` would read as `A`.
        let (done, answered, calls) = recorder(|_| true);
        let text = "a #b&c=%41/é";
        let data = "data:text/plain;charset=utf-8,";
        request(data, "", Some(text), None, &JsValue::UNDEFINED, &done, 0);
        JsFuture::from(answered).await.unwrap();
        assert_eq!(*calls.borrow(), [(200, Some(text.to_owned()))]);
    }

    #[cfg(not(feature = "headless"))]
    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_name = encodeURIComponent)]
        fn encode_uri_component(text: &str) -> String;
    }

    /// A `data:` URL whose body is `text`.
    #[cfg(not(feature = "headless"))]
    fn data_url(text: &str) -> String {
        joined(&[
            "data:text/plain;charset=utf-8,",
            &encode_uri_component(text),
        ])
    }

    #[cfg(not(feature = "headless"))]
    #[wasm_bindgen_test]
    async fn a_text_pack_is_fetched_by_prefix_or_by_its_own_url() {
        // A prefix: the language and `.txt` are added to it.
        let (done, answered, calls) = recorder(|_| true);
        let prefix = JsValue::from_str("data:text/plain;charset=utf-8,pack%20");
        texts(&prefix, "pt", &done, TEXTS_ANSWER + 3000);
        JsFuture::from(answered).await.unwrap();
        assert_eq!(
            *calls.borrow(),
            [(TEXTS_ANSWER + 3200, Some("pack pt.txt".to_owned()))]
        );

        // A URL per language.
        let (done, answered, calls) = recorder(|_| true);
        let urls = js_sys::Object::new();
        js_sys::Reflect::set(&urls, &"ru".into(), &data_url("Привет").into()).unwrap();
        texts(&urls, "ru", &done, TEXTS_ANSWER + 2000);
        JsFuture::from(answered).await.unwrap();
        assert_eq!(
            *calls.borrow(),
            [(TEXTS_ANSWER + 2200, Some("Привет".to_owned()))]
        );
    }

    /// Waits until `done` holds of the session's state, re-checking after each change.
    #[cfg(not(feature = "headless"))]
    async fn until(session: &Session, done: impl Fn(&State) -> bool) {
        while !session.with(&done) {
            let mut resolve = None;
            let changed = Promise::new(&mut |ok, _| resolve = Some(ok));
            let resolve = resolve.unwrap();
            session.set_observer(Rc::new(move || {
                resolve.call0(&JsValue::UNDEFINED).unwrap();
            }));
            JsFuture::from(changed).await.unwrap();
        }
    }

    #[cfg(not(feature = "headless"))]
    #[wasm_bindgen_test]
    async fn the_texts_of_the_language_asked_for_are_shown_once_they_arrive_whole() {
        let session = Session::new("texts", "http://127.0.0.1:1", Some("natter-test-texts:"));
        let urls = js_sys::Object::new();
        let russian = crate::i18n::pack_of(Locale::Ru);
        js_sys::Reflect::set(&urls, &"ru".into(), &data_url(&russian).into()).unwrap();
        // A French pack of another version: fewer rows than this one reads.
        let (older, _) = crate::i18n::pack_of(Locale::Fr)
            .rsplit_once('\n')
            .map(|(head, tail)| (head.to_owned(), tail.to_owned()))
            .unwrap();
        js_sys::Reflect::set(&urls, &"fr".into(), &data_url(&older).into()).unwrap();
        session.texts_at(urls.into());

        session.drive(|s| s.set_locale(Locale::Ru));
        assert_eq!(session.with(|s| s.texts_asked), Some(Locale::Ru));
        // Asked once, however often it is wanted meanwhile.
        session.drive(|s| s.set_open(true));
        until(&session, |s| s.texts_asked.is_none()).await;
        session.with(|s| {
            let texts = s.model.texts.as_ref().expect("the Russian texts");
            assert_eq!(texts.locale(), Locale::Ru);
            assert_eq!(texts.text(crate::i18n::Key::Send), "Отправить");
        });

        // The French pack does not read: the Russian texts stay, and opening asks again.
        session.drive(|s| s.set_locale(Locale::Fr));
        until(&session, |s| s.texts_asked.is_none()).await;
        session.with(|s| {
            assert_eq!(s.model.locale, Locale::Fr);
            assert_eq!(s.model.texts.as_ref().map(Texts::locale), Some(Locale::Ru));
        });
        session.drive(|s| s.set_open(true));
        assert_eq!(session.with(|s| s.texts_asked), Some(Locale::Fr));
        until(&session, |s| s.texts_asked.is_none()).await;
        session.drive(|s| s.set_open(false));
    }

    #[wasm_bindgen_test]
    async fn a_request_that_cannot_reach_the_server_answers_once_without_a_body() {
        let (done, answered, calls) = recorder(|_| true);
        // Port 1 on the loopback: the connection is refused.
        let body = js_sys::Object::new();
        request(
            "http://127.0.0.1:1",
            "/",
            None,
            None,
            &body,
            &done,
            CALL_ANSWER,
        );
        JsFuture::from(answered).await.unwrap();
        assert_eq!(*calls.borrow(), [(CALL_ANSWER, None)]);
    }

    #[wasm_bindgen_test]
    async fn a_socket_that_cannot_connect_reports_a_lost_connection() {
        // No such port: the URL does not parse, `new WebSocket` throws.
        assert!(connect("http://127.0.0.1:99999", &JsValue::NULL).is_none());
        let (on, closed, calls) = recorder(|number| number >= 1000);
        // Port 1 on the loopback: the connection is refused.
        let socket = connect("http://127.0.0.1:1", &on).unwrap();
        assert_eq!(socket.url(), "ws://127.0.0.1:1/v1/ws");
        // Still connecting: the socket refuses a frame.
        assert_eq!(transmit(&socket, &js_sys::Object::new()), Some(false));
        JsFuture::from(closed).await.unwrap();
        // Never opened: the only event is the close, as "abnormal closure".
        assert_eq!(*calls.borrow(), [(1006, Some(String::new()))]);
        hang_up(&socket, Some(1000), Some("done"));
    }

    #[wasm_bindgen_test]
    fn a_socket_follows_the_api_base_scheme() {
        let secure = connect("https://chat.example.test", &JsValue::NULL).unwrap();
        assert_eq!(secure.url(), "wss://chat.example.test/v1/ws");
        hang_up(&secure, None, None);
    }

    #[wasm_bindgen]
    extern "C" {
        /// The socket's resolved address.
        #[wasm_bindgen(method, getter)]
        fn url(this: &WebSocket) -> String;
    }
}
