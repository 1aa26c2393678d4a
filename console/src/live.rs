//! The live connection: one sdk [`ClientCore`] driven over a browser WebSocket and one timer,
//! like the widget's session but with serde_json (`natter_sdk::codec`).
//!
//! **A reply is written to `localStorage` before it is sent**: the core's outbox is exported
//! after every input, under a key per staff member, and imported again after a reload. The
//! server stores each `client_id` once, so a reply typed while the server is down survives a
//! reload and goes out exactly once when it returns.
//!
//! Re-entrancy: the owner's callback may call back in (to send, to follow), so the state is
//! never borrowed while it runs: [`Live::drive`] applies an input and carries out the core's
//! outputs, releases the borrow, then reports.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use natter_sdk::client::{
    Action, ClientConfig, ClientCore, ClientEvent, CloseReason, ConnectionState, HistoryPolicy,
    OutboxEntry,
};
use natter_sdk::protocol::{ServerFrame, TextError};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use crate::storage;

/// What the owner hears after every input.
#[derive(Debug, Clone)]
pub struct Report {
    /// The core's events, in order.
    pub events: Vec<ClientEvent>,
    /// The connection state now.
    pub state: ConnectionState,
    /// The core gave up on the token.
    pub refused: bool,
    /// Replies not yet acknowledged, oldest first.
    pub pending: Vec<OutboxEntry>,
    /// The core's clock now, for countdowns.
    pub now: u64,
}

/// The live connection; cheap to clone (clones drive the same core).
#[derive(Clone)]
pub struct Live(Rc<RefCell<State>>);

struct State {
    me: Weak<RefCell<State>>,
    core: ClientCore,
    socket: Option<Socket>,
    timer: Option<i32>,
    on_timer: Option<Closure<dyn FnMut()>>,
    outbox_key: String,
    saved_outbox: Vec<OutboxEntry>,
    report: Rc<dyn Fn(Report)>,
}

/// The open WebSocket and its handlers; dropping it detaches and closes the socket.
struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
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

/// Milliseconds on the monotonic clock the core runs on.
pub fn mono_now() -> u64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0, |p| p.now() as u64)
}

/// A seed from the browser's cryptographic generator, so that `client_id`s of different tabs
/// never collide.
fn seed() -> u64 {
    let mut bytes = [0u8; 8];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if filled {
        u64::from_le_bytes(bytes)
    } else {
        (js_sys::Math::random() * u64::MAX as f64) as u64 ^ js_sys::Date::now() as u64
    }
}

/// `ws://host/v1/ws` or `wss://host/v1/ws` for the page's own origin.
fn socket_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss:"
    } else {
        "ws:"
    };
    Some(format!("{scheme}//{}/v1/ws", location.host().ok()?))
}

impl Live {
    /// A connection for staff member `staff_id` with `token`, restoring the replies an earlier
    /// page left unsent. Nothing happens until [`Live::connect`].
    pub fn new(staff_id: &str, token: String, report: impl Fn(Report) + 'static) -> Live {
        let config = ClientConfig {
            // The console loads history over REST and follows the conversations it shows.
            history: HistoryPolicy::LiveOnly,
            ..ClientConfig::default()
        };
        let mut core = ClientCore::new(config, seed());
        core.set_token(token);
        let outbox_key = format!("outbox:{staff_id}");
        let saved: Vec<OutboxEntry> = storage::load(&outbox_key).unwrap_or_default();
        core.import_outbox(saved.clone());
        let state = Rc::new_cyclic(|me| {
            RefCell::new(State {
                me: me.clone(),
                core,
                socket: None,
                timer: None,
                on_timer: None,
                outbox_key,
                saved_outbox: saved,
                report: Rc::new(report),
            })
        });
        Live(state)
    }

    /// Applies `input` to the core, carries out its outputs, then reports.
    fn drive<R>(&self, input: impl FnOnce(&mut ClientCore, u64) -> R) -> R {
        let (result, report, callback) = {
            let mut state = self.0.borrow_mut();
            let now = mono_now();
            let result = input(&mut state.core, now);
            let report = state.settle(now);
            (result, report, state.report.clone())
        };
        callback(report);
        result
    }

    /// Starts connecting (and keeps reconnecting until [`Live::shutdown`]).
    pub fn connect(&self) {
        self.drive(|core, now| core.connect_requested(now));
    }

    /// Skips the reconnect delay ("Retry now", the browser coming back online).
    pub fn retry_now(&self) {
        self.drive(|core, now| core.retry_now(now));
    }

    /// Uses a refreshed token from now on (reconnecting if the old one was refused).
    pub fn set_token(&self, token: String) {
        self.drive(|core, _| core.set_token(token));
    }

    /// Queues a reply; it is saved before it is sent. Returns its `client_id`.
    pub fn send(&self, conversation_id: &str, text: &str) -> Result<String, TextError> {
        self.drive(|core, now| {
            core.set_typing(now, conversation_id, false);
            core.send_message(now, conversation_id, text)
        })
    }

    /// The staff member is typing (or stopped) in a conversation.
    pub fn set_typing(&self, conversation_id: &str, typing: bool) {
        self.drive(|core, now| core.set_typing(now, conversation_id, typing));
    }

    /// Follows a conversation live from `after_seq` (the newest message loaded over REST).
    pub fn follow(&self, conversation_id: &str, after_seq: u64) {
        self.drive(|core, now| core.follow(now, conversation_id, after_seq));
    }

    /// Catches up on everything followed (the page became visible again).
    pub fn request_sync(&self) {
        self.drive(|core, now| core.request_sync(now));
    }

    /// Closes the socket for good (signing out).
    pub fn shutdown(&self) {
        self.drive(|core, _| core.shutdown());
        let mut state = self.0.borrow_mut();
        if let Some(timer) = state.timer.take()
            && let Some(window) = web_sys::window()
        {
            window.clear_timeout_with_handle(timer);
        }
        state.on_timer = None;
        state.socket = None;
    }

    /// Replies not yet acknowledged.
    pub fn pending(&self) -> Vec<OutboxEntry> {
        self.0.borrow().core.pending().cloned().collect()
    }
}

impl State {
    /// Carries out the core's outputs after an input and collects what to report.
    fn settle(&mut self, now: u64) -> Report {
        // Persist before anything is written to the socket.
        let outbox = self.core.export_outbox();
        if outbox != self.saved_outbox {
            if outbox.is_empty() {
                storage::remove(&self.outbox_key);
            } else {
                storage::save(&self.outbox_key, &outbox);
            }
            self.saved_outbox = outbox;
        }
        while let Some(action) = self.core.poll_action() {
            match action {
                Action::Connect => self.open_socket(now),
                Action::Close { .. } => self.socket = None,
            }
        }
        while let Some(frame) = self.core.poll_transmit() {
            if let Some(socket) = &self.socket {
                let _ = socket.ws.send_with_str(&frame.to_json());
            }
        }
        let mut events = Vec::new();
        while let Some(event) = self.core.poll_event() {
            events.push(event);
        }
        self.schedule(now);
        Report {
            events,
            state: self.core.state(),
            refused: self.core.is_auth_refused(),
            pending: self.core.pending().cloned().collect(),
            now,
        }
    }

    /// Opens a socket; its events come back through [`Live::drive`].
    fn open_socket(&mut self, now: u64) {
        self.socket = None;
        let ws = match socket_url().map(|url| WebSocket::new(&url)) {
            Some(Ok(ws)) => ws,
            _ => {
                self.core.transport_closed(
                    now,
                    CloseReason::ConnectFailed("the WebSocket could not be created".into()),
                );
                return;
            }
        };
        let me = self.me.clone();
        let live = move || me.upgrade().map(Live);
        let on_open = {
            let live = live.clone();
            Closure::<dyn FnMut()>::new(move || {
                if let Some(live) = live() {
                    live.drive(|core, now| core.transport_opened(now));
                }
            })
        };
        let on_message = {
            let live = live.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let Some(text) = event.data().as_string() else {
                    return;
                };
                // A frame this console cannot read is skipped, as the protocol asks.
                let Ok(frame) = ServerFrame::from_json(&text) else {
                    return;
                };
                if let Some(live) = live() {
                    live.drive(|core, now| core.frame_received(now, frame));
                }
            })
        };
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            let reason = CloseReason::Closed {
                code: event.code(),
                reason: event.reason(),
            };
            if let Some(live) = live() {
                live.drive(|core, now| core.transport_closed(now, reason));
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

    /// Arms the one timer for the core's next deadline.
    fn schedule(&mut self, now: u64) {
        let Some(window) = web_sys::window() else {
            return;
        };
        if let Some(timer) = self.timer.take() {
            window.clear_timeout_with_handle(timer);
        }
        let Some(deadline) = self.core.poll_timeout() else {
            return;
        };
        if self.on_timer.is_none() {
            let me = self.me.clone();
            self.on_timer = Some(Closure::<dyn FnMut()>::new(move || {
                if let Some(state) = me.upgrade() {
                    state.borrow_mut().timer = None;
                    Live(state).drive(|core, now| core.handle_timeout(now));
                }
            }));
        }
        let delay = deadline.saturating_sub(now).min(i32::MAX as u64) as i32;
        if let Some(callback) = &self.on_timer {
            self.timer = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    callback.as_ref().unchecked_ref(),
                    delay,
                )
                .ok();
        }
    }
}
