//! The sans-IO client core: everything a natter client decides, with none of the doing.
//!
//! [`ClientCore`] owns the connection state machine, the outbox of unacknowledged messages, the
//! per-conversation resume cursors, reconnect backoff and heartbeats. It performs no I/O, reads no
//! clock and draws no randomness of its own, in the style of `quinn-proto` and
//! `matrix-sdk-crypto`: a driver (the native `transport` module, the browser widget, the console)
//! feeds it inputs and carries out its outputs.
//!
//! - **Time** is a caller-chosen monotonic clock in milliseconds (`now: u64`), passed to every
//!   input that needs it. Only differences matter; the core never goes backwards even if the
//!   caller's clock does.
//! - **Randomness** comes from the `seed` given to [`ClientCore::new`]: a splitmix64 generator
//!   jitters reconnect delays and creates `client_id`s as random version-4 UUIDs. Seed it from a
//!   real source (`crypto.getRandomValues`, the OS), and differently for every instance: two
//!   cores with the same seed would create the same `client_id`s. Callers that prefer their own
//!   ids use [`ClientCore::send_message_with_client_id`].
//!
//! # Inputs and outputs
//!
//! Inputs are method calls: [`connect_requested`](ClientCore::connect_requested),
//! [`transport_opened`](ClientCore::transport_opened),
//! [`transport_closed`](ClientCore::transport_closed),
//! [`frame_received`](ClientCore::frame_received), [`send_message`](ClientCore::send_message),
//! [`set_typing`](ClientCore::set_typing), [`set_draft`](ClientCore::set_draft),
//! [`set_token`](ClientCore::set_token),
//! [`handle_timeout`](ClientCore::handle_timeout), [`shutdown`](ClientCore::shutdown), ...
//!
//! After any input the driver drains the outputs:
//! [`poll_action`](ClientCore::poll_action) (open or close the socket),
//! [`poll_transmit`](ClientCore::poll_transmit) (frames to write),
//! [`poll_event`](ClientCore::poll_event) (for the UI) and finally
//! [`poll_timeout`](ClientCore::poll_timeout) (when to call `handle_timeout` next).
//!
//! ```
//! use natter_sdk::client::{Action, ClientConfig, ClientCore, ConnectionState};
//! use natter_sdk::protocol::ClientFrame;
//!
//! let mut core = ClientCore::new(ClientConfig::default(), 0x5eed);
//! core.set_token("visitor-token");
//! core.connect_requested(0);
//! assert_eq!(core.poll_action(), Some(Action::Connect)); // the driver opens a WebSocket...
//! core.transport_opened(20); // ...and reports it open
//! assert!(matches!(core.poll_transmit(), Some(ClientFrame::Auth { .. })));
//! assert_eq!(core.state(), ConnectionState::Authenticating);
//! // The driver now writes the frame, feeds every server frame to `frame_received`, and calls
//! // `handle_timeout` at `poll_timeout()`.
//! ```
//!
//! # Rules the driver follows
//!
//! - Open a socket for every [`Action::Connect`], then call `transport_opened` or, if opening
//!   failed, `transport_closed`.
//! - On [`Action::Close`], close and drop the current socket (if any) and do **not** report its
//!   closing: the core has already moved on.
//! - Write the frames from `poll_transmit` in order, on the current socket only.
//! - Call `handle_timeout` no later than the instant `poll_timeout` returned; early is harmless.

mod backoff;
mod outbox;
mod rng;
mod sorted_map;
mod timeline;

#[cfg(test)]
mod tests;

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

pub use outbox::OutboxEntry;

use crate::protocol::{
    Author, ClientFrame, ConversationSummary, Cursor, ErrorCode, Message, PROTOCOL_VERSION,
    Principal, RequestId, ServerFrame, TextError, validate_text,
};
use backoff::Backoff;
use outbox::Outbox;
use rng::SplitMix64;
use timeline::{SyncOutcome, Timelines};

pub use crate::protocol::{
    CLOSE_FORBIDDEN, CLOSE_LAGGING, CLOSE_NORMAL, CLOSE_SERVICE_RESTART, CLOSE_UNAUTHENTICATED,
    CLOSE_UNSUPPORTED_PROTOCOL, MAX_SYNC_CURSORS,
};

/// The shortest heartbeat interval the core accepts from a server; smaller values are raised to
/// this so that a misconfigured server cannot make clients ping continuously.
pub const MIN_HEARTBEAT_MS: u64 = 1000;

/// How the core treats the history of a conversation it hears about for the first time (from a
/// `synced` list or a pushed message), as opposed to one restored with
/// [`ClientCore::set_cursor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistoryPolicy {
    /// Deliver the whole conversation from `seq` 1: the core syncs new conversations from 0.
    /// Right for the visitor widget, whose principal has a few short conversations.
    #[default]
    Replay,
    /// Deliver only what comes after the moment the core learns about the conversation (the
    /// `last_seq` of the `synced` list that introduced it, or the first pushed message). Older
    /// messages are the application's to load over REST; it then calls
    /// [`ClientCore::follow`] with the last `seq` it loaded. Right for the agent console, whose
    /// sockets receive the messages of every unassigned conversation of the tenant.
    LiveOnly,
}

/// Tuning of the client core. The defaults suit both browsers and native clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Ceiling of the first reconnect delay; it doubles per consecutive failure.
    pub backoff_base_ms: u64,
    /// Largest reconnect delay.
    pub backoff_max_ms: u64,
    /// A connection that stayed authenticated this long resets the backoff, so that one flaky
    /// reconnect after hours of uptime starts from the base delay again.
    pub stable_after_ms: u64,
    /// Time from [`Action::Connect`] to the server's `welcome` after which the attempt counts as
    /// failed. The server itself closes sockets that do not authenticate within 5 s.
    pub handshake_timeout_ms: u64,
    /// First delay before resending a message (or sync) the server refused for a transient reason
    /// (`rate_limited`, `unavailable`, `internal`); it doubles per refusal up to
    /// `backoff_max_ms`.
    pub retry_base_ms: u64,
    /// While the user keeps typing, `typing: true` is repeated at most this often.
    pub typing_refresh_ms: u64,
    /// Typing previews ([`ClientCore::set_draft`]) go out at most this often; the latest draft
    /// is sent when the interval ends.
    pub preview_interval_ms: u64,
    /// What to deliver of conversations the core did not know.
    pub history: HistoryPolicy,
    /// Messages buffered behind a gap per conversation; more are dropped and replayed by the sync
    /// that fills the gap.
    pub max_buffered_per_conversation: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            backoff_base_ms: 500,
            backoff_max_ms: 30_000,
            stable_after_ms: 10_000,
            handshake_timeout_ms: 10_000,
            retry_base_ms: 1000,
            typing_refresh_ms: 3000,
            preview_interval_ms: 400,
            history: HistoryPolicy::Replay,
            max_buffered_per_conversation: 1000,
        }
    }
}

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// Not connected and not trying: never asked to, or the server refused the credentials
    /// (see [`ClientCore::is_auth_refused`]).
    Idle,
    /// Waiting for the driver to open the socket.
    Connecting,
    /// The socket is open and `auth` was sent; waiting for `welcome`.
    Authenticating,
    /// Authenticated; messages flow.
    Connected,
    /// The connection was lost; the next attempt starts at `retry_at`.
    Reconnecting {
        /// Consecutive failed connections so far; a graceful server restart does not count.
        attempt: u32,
        /// When the next attempt starts, on the caller's clock.
        retry_at: u64,
    },
    /// Shut down with [`ClientCore::shutdown`].
    Closed,
}

/// What the driver must do to the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open a WebSocket to the server's `/v1/ws`, then call
    /// [`ClientCore::transport_opened`] or [`ClientCore::transport_closed`].
    Connect,
    /// Close the current socket with this close code and reason and drop it, without reporting
    /// its closing back to the core.
    Close {
        /// WebSocket close code ([`CLOSE_NORMAL`]).
        code: u16,
        /// Short reason for the close frame and logs.
        reason: &'static str,
    },
}

/// Why the transport went away, as reported by the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The socket could not be opened (DNS, TCP, TLS, HTTP upgrade).
    ConnectFailed(String),
    /// The server closed the socket with a close frame.
    Closed {
        /// The WebSocket close code (for example [`CLOSE_UNAUTHENTICATED`]).
        code: u16,
        /// The close reason text.
        reason: String,
    },
    /// The socket broke (I/O error, protocol violation, end of stream without a close frame).
    Error(String),
}

/// Something the UI should know.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// The connection state changed.
    StateChanged(ConnectionState),
    /// The next message of a conversation. Per conversation, messages arrive exactly once and in
    /// `seq` order; the client's own messages arrive here too (after their [`ClientEvent::Sent`]).
    Message(Message),
    /// The server stored a message from the outbox; it left the outbox.
    Sent {
        /// The outbox entry's idempotency key.
        client_id: String,
        /// The stored message.
        message: Message,
    },
    /// The server refused a message for good (empty, too long, conversation closed, forbidden,
    /// ...); it left the outbox. Transient refusals are retried and never reported here.
    SendFailed {
        /// The outbox entry's idempotency key.
        client_id: String,
        /// The conversation it was meant for.
        conversation_id: String,
        /// Why.
        code: ErrorCode,
        /// The server's explanation.
        message: String,
    },
    /// Someone started or stopped typing.
    Typing {
        /// The conversation.
        conversation_id: String,
        /// Who.
        author: Author,
        /// Started or stopped.
        typing: bool,
        /// The visitor's draft (staff only, when the tenant enables typing previews).
        preview: Option<String>,
    },
    /// A conversation was created or changed.
    Conversation(ConversationSummary),
    /// The conversation list of a `synced` answer: for a visitor all of their conversations, for
    /// staff the ones the sync asked about.
    ConversationList(Vec<ConversationSummary>),
    /// Routing news, passed through as the server sent it: one of the frames `queued`,
    /// `away`, `assigned`, `transferred` (visitors and staff), `offer`, `offer_withdrawn`,
    /// `queue_length`, `presence` and `read` (staff; `read` is a staff member's own read
    /// position from another device, passed along here for the same reason). See
    /// `docs/protocol.md`.
    Routing(ServerFrame),
    /// The server refused the credentials (or the protocol version): the core stopped
    /// reconnecting until [`ClientCore::set_token`] or [`ClientCore::connect_requested`].
    AuthRefused {
        /// `unauthenticated`, `forbidden`, `origin_not_allowed`, `identity_required` or
        /// `unsupported_protocol`.
        code: ErrorCode,
        /// The server's explanation.
        message: String,
    },
    /// Any other error the server reported (the connection recovers on its own).
    Error {
        /// Why.
        code: ErrorCode,
        /// The explanation.
        message: String,
    },
}

/// What a request id on the current connection stands for.
#[derive(Debug, Clone)]
enum Request {
    Send { client_id: String },
    Sync { conversations: Vec<String> },
}

/// State of the socket being opened or in use; dropped with it.
#[derive(Debug, Clone)]
struct Connection {
    /// When [`Action::Connect`] was issued, for the handshake timeout.
    started_at: u64,
    /// The driver reported the socket open.
    opened: bool,
    /// When `welcome` arrived.
    connected_at: Option<u64>,
    /// From `welcome`; 0 disables heartbeats.
    heartbeat_ms: u64,
    /// When the last frame was queued for this socket.
    last_sent: u64,
    /// When the last frame arrived on this socket.
    last_received: u64,
    /// A ping was sent since the last frame arrived.
    ping_outstanding: bool,
    next_request_id: RequestId,
    /// Requests awaiting their answer, in no particular order. A plain list rather than a
    /// `SortedMap` (as `typing` below): looked up by scanning, the handful of entries cost
    /// nothing, and the widget's wasm sheds the map's code for two more entry types (~0.2 KB
    /// gzip).
    requests: Vec<(RequestId, Request)>,
    next_nonce: u64,
    /// Per conversation: the last typing state sent and when.
    typing: Vec<(String, (bool, u64))>,
    /// The composer draft being previewed, if any.
    draft: Option<Draft>,
}

/// The draft [`ClientCore::set_draft`] is previewing on the current connection.
#[derive(Debug, Clone)]
struct Draft {
    conversation_id: String,
    /// The preview last sent, and when.
    sent: String,
    sent_at: u64,
    /// A newer preview waiting for the interval to end.
    waiting: Option<String>,
}

/// Longest preview sent, in characters (the server keeps at most this many).
const MAX_PREVIEW_CHARS: usize = 500;

/// The first [`MAX_PREVIEW_CHARS`] characters of `draft`.
fn preview_of(draft: &str) -> &str {
    // `get` rather than slicing: a slice's panic path drags formatting and Unicode tables
    // (about 4 KB gzip) into the widget's wasm. `cut` is a char boundary, so `get` succeeds.
    // Counted one character at a time rather than with `nth`, like `validate_text`.
    let mut chars = draft.char_indices().enumerate();
    match chars.find(|&(index, _)| index == MAX_PREVIEW_CHARS) {
        Some((_, (cut, _))) => draft.get(..cut).unwrap_or(draft),
        None => draft,
    }
}

impl Connection {
    /// The last typing state sent in a conversation, and when.
    fn typing_sent(&self, conversation_id: &str) -> Option<&(bool, u64)> {
        self.typing
            .iter()
            .find(|(id, _)| id == conversation_id)
            .map(|(_, sent)| sent)
    }

    /// Records a typing state sent in a conversation now.
    fn typing_sent_now(&mut self, conversation_id: &str, typing: bool, now: u64) {
        match self.typing.iter_mut().find(|(id, _)| id == conversation_id) {
            Some((_, sent)) => *sent = (typing, now),
            None => self
                .typing
                .push((conversation_id.to_owned(), (typing, now))),
        }
    }

    /// When the socket counts as dead, and when a ping is due (it was idle, or quiet with no
    /// ping outstanding); `None` without heartbeats. Shared by `poll_timeout` and
    /// `check_heartbeat`, which each computed them (see `SortedMap::get_or_insert_with` for
    /// the saving).
    fn heartbeat_deadlines(&self) -> Option<(u64, u64)> {
        let hb = self.heartbeat_ms;
        if hb == 0 {
            return None;
        }
        let dead = self.last_received.saturating_add(2 * hb);
        let idle_send = self.last_sent.saturating_add(hb);
        let ping_at = if self.ping_outstanding {
            idle_send
        } else {
            idle_send.min(self.last_received.saturating_add(hb))
        };
        Some((dead, ping_at))
    }

    fn new(now: u64) -> Self {
        Self {
            started_at: now,
            opened: false,
            connected_at: None,
            heartbeat_ms: 0,
            last_sent: now,
            last_received: now,
            ping_outstanding: false,
            next_request_id: 1,
            requests: Vec::new(),
            next_nonce: 1,
            typing: Vec::new(),
            draft: None,
        }
    }
}

/// How a connection ended, which decides what comes next.
#[derive(Debug)]
enum Loss {
    /// Broken, refused by the network, timed out: back off.
    Failure,
    /// The server announced a restart: come back after its delay, without counting a failure.
    ServerRestart { retry_after_ms: u64 },
    /// The credentials were refused: stop.
    Refused { code: ErrorCode, message: String },
    /// The application shut the client down.
    Shutdown,
}

/// The sans-IO natter client. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct ClientCore {
    config: ClientConfig,
    rng: SplitMix64,
    backoff: Backoff,
    token: Option<String>,
    state: ConnectionState,
    /// The application asked to be connected (and has not shut down).
    wanted: bool,
    auth_refused: bool,
    /// The latest time seen on any input.
    now: u64,
    conn: Option<Connection>,
    principal: Option<Principal>,
    outbox: Outbox,
    timelines: Timelines,
    /// After a transient `sync` refusal: when to sync again, and refusals in a row.
    sync_retry_at: Option<u64>,
    sync_failures: u32,
    transmits: Queue<ClientFrame>,
    events: Queue<ClientEvent>,
    actions: Queue<Action>,
}

impl ClientCore {
    /// A core in [`ConnectionState::Idle`] whose randomness is determined by `seed`.
    pub fn new(config: ClientConfig, seed: u64) -> Self {
        Self {
            backoff: Backoff::new(config.backoff_base_ms, config.backoff_max_ms),
            config,
            rng: SplitMix64::new(seed),
            token: None,
            state: ConnectionState::Idle,
            wanted: false,
            auth_refused: false,
            now: 0,
            conn: None,
            principal: None,
            outbox: Outbox::default(),
            timelines: Timelines::default(),
            sync_retry_at: None,
            sync_failures: 0,
            transmits: Queue::default(),
            events: Queue::default(),
            actions: Queue::default(),
        }
    }

    // ----- inputs ---------------------------------------------------------------------------

    /// Sets the token sent in the next `auth` frame (for example after a refresh). If the
    /// application wants a connection but has none because the token was missing or refused,
    /// connecting starts at once.
    pub fn set_token(&mut self, token: impl Into<String>) {
        self.token = Some(token.into());
        if self.wanted && self.state == ConnectionState::Idle {
            self.auth_refused = false;
            self.start_connect();
        }
    }

    /// The application wants to be connected. Starts connecting when idle or shut down (even
    /// after a refusal: an explicit request tries once more); otherwise changes nothing.
    pub fn connect_requested(&mut self, now: u64) {
        self.tick(now);
        self.wanted = true;
        if matches!(self.state, ConnectionState::Idle | ConnectionState::Closed) {
            self.auth_refused = false;
            self.start_connect();
        }
    }

    /// Skips the remaining reconnect delay.
    pub fn retry_now(&mut self, now: u64) {
        self.tick(now);
        if matches!(self.state, ConnectionState::Reconnecting { .. }) {
            self.start_connect();
        }
    }

    /// The socket requested by [`Action::Connect`] is open; the core queues `auth`.
    pub fn transport_opened(&mut self, now: u64) {
        self.tick(now);
        let now = self.now;
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        if conn.opened {
            return;
        }
        conn.opened = true;
        conn.last_received = now;
        let token = self.token.clone().unwrap_or_default();
        self.set_state(ConnectionState::Authenticating);
        self.queue(ClientFrame::Auth {
            protocol: PROTOCOL_VERSION,
            token,
        });
    }

    /// The socket could not be opened, or it closed. Ignored when the core already abandoned
    /// the socket (after [`Action::Close`]).
    pub fn transport_closed(&mut self, now: u64, reason: CloseReason) {
        self.tick(now);
        if self.conn.is_none() {
            return;
        }
        let loss = match reason {
            CloseReason::Closed {
                code: CLOSE_UNAUTHENTICATED,
                reason,
            } => Loss::Refused {
                code: ErrorCode::Unauthenticated,
                message: or_default(reason, "the server refused the credentials"),
            },
            CloseReason::Closed {
                code: CLOSE_FORBIDDEN,
                reason,
            } => Loss::Refused {
                code: ErrorCode::Forbidden,
                message: or_default(reason, "the server refused this client"),
            },
            CloseReason::Closed {
                code: CLOSE_UNSUPPORTED_PROTOCOL,
                reason,
            } => Loss::Refused {
                code: ErrorCode::UnsupportedProtocol,
                message: or_default(reason, "the server speaks another protocol version"),
            },
            CloseReason::Closed {
                code: CLOSE_SERVICE_RESTART,
                ..
            } => Loss::ServerRestart { retry_after_ms: 0 },
            _ => Loss::Failure,
        };
        self.lose_connection(loss);
    }

    /// A frame arrived on the current socket.
    pub fn frame_received(&mut self, now: u64, frame: ServerFrame) {
        self.tick(now);
        let now = self.now;
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        if !conn.opened {
            return;
        }
        conn.last_received = now;
        conn.ping_outstanding = false;
        let authenticated = conn.connected_at.is_some();
        match frame {
            ServerFrame::Welcome {
                protocol,
                principal,
                heartbeat_ms,
            } => {
                if !authenticated {
                    self.on_welcome(protocol, principal, heartbeat_ms);
                }
            }
            ServerFrame::Error { id, code, message } => self.on_error(id, code, message),
            ServerFrame::Reconnect { retry_after_ms, .. } => {
                self.abandon(Loss::ServerRestart { retry_after_ms }, "server restarting");
            }
            // Nothing else means anything before `welcome`.
            _ if !authenticated => {}
            ServerFrame::Sent { id, message } => self.on_sent(id, message),
            ServerFrame::Synced { id, conversations } => self.on_synced(id, conversations),
            ServerFrame::Message { message } => {
                if let Some(client_id) = &message.client_id {
                    self.acknowledge(client_id, &message);
                }
                self.ingest(message);
            }
            ServerFrame::Typing {
                conversation_id,
                author,
                typing,
                preview,
            } => self.events.push_back(ClientEvent::Typing {
                conversation_id,
                author,
                typing,
                preview,
            }),
            ServerFrame::Conversation { conversation } => {
                if self.config.history == HistoryPolicy::Replay {
                    // Track it from the start so a reconnect replays it; its messages arrive as
                    // pushes, and a gap there triggers a sync.
                    self.timelines.register(&conversation.id, 0);
                }
                self.events
                    .push_back(ClientEvent::Conversation(conversation));
            }
            routing @ (ServerFrame::Queued { .. }
            | ServerFrame::Away { .. }
            | ServerFrame::Assigned { .. }
            | ServerFrame::Transferred { .. }
            | ServerFrame::Offer { .. }
            | ServerFrame::OfferWithdrawn { .. }
            | ServerFrame::QueueLength { .. }
            | ServerFrame::Presence { .. }
            | ServerFrame::Read { .. }) => self.events.push_back(ClientEvent::Routing(routing)),
            ServerFrame::Pong { .. } | ServerFrame::Unknown => {}
        }
    }

    /// Queues a message for `conversation_id` and returns its new `client_id` (a random UUID
    /// from the core's generator). It is sent now if connected, otherwise after the next
    /// `welcome`, and stays in the outbox until acknowledged.
    pub fn send_message(
        &mut self,
        now: u64,
        conversation_id: impl Into<String>,
        text: impl Into<String>,
    ) -> Result<String, TextError> {
        let text = text.into();
        validate_text(&text)?;
        let client_id = self.rng.uuid_v4();
        self.send_message_with_client_id(now, conversation_id, client_id.clone(), text)?;
        Ok(client_id)
    }

    /// A fresh random `client_id` from the core's generator, for a message the application
    /// must hold before it can queue it (for example while the conversation is being created).
    pub fn new_client_id(&mut self) -> String {
        self.rng.uuid_v4()
    }

    /// Like [`send_message`](Self::send_message) with a caller-chosen `client_id` (for example
    /// from `crypto.randomUUID()`). Queuing a `client_id` that is already waiting does nothing.
    pub fn send_message_with_client_id(
        &mut self,
        now: u64,
        conversation_id: impl Into<String>,
        client_id: impl Into<String>,
        text: impl Into<String>,
    ) -> Result<(), TextError> {
        self.tick(now);
        let text = text.into();
        validate_text(&text)?;
        self.outbox.push(OutboxEntry {
            client_id: client_id.into(),
            conversation_id: conversation_id.into(),
            text,
        });
        self.flush_outbox();
        Ok(())
    }

    /// The user started (`true`) or stopped typing in a conversation. Sent only while connected:
    /// typing is ephemeral and never queued. Repeated `true`s are sent at most every
    /// [`ClientConfig::typing_refresh_ms`]; a `false` only after a `true`.
    pub fn set_typing(&mut self, now: u64, conversation_id: &str, typing: bool) {
        self.tick(now);
        let now = self.now;
        if self.state != ConnectionState::Connected {
            return;
        }
        let refresh = self.config.typing_refresh_ms;
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let send = match (typing, conn.typing_sent(conversation_id)) {
            (true, Some(&(true, at))) => now.saturating_sub(at) >= refresh,
            (true, _) => true,
            (false, Some(&(was, _))) => was,
            (false, None) => false,
        };
        if send {
            self.send_typing(conversation_id, typing, None);
        }
    }

    /// The visitor's composer in `conversation_id` now holds `draft`: typing starts, carrying the
    /// draft as a preview that agents can read along with (when the tenant allows it), and stops
    /// when the draft is empty. Previews go out at most every
    /// [`ClientConfig::preview_interval_ms`]; a newer draft waits for the interval to end
    /// ([`poll_timeout`](Self::poll_timeout) schedules it), so the agent always ends up seeing
    /// the latest text without a frame per keystroke. Like [`set_typing`](Self::set_typing),
    /// nothing is queued while disconnected.
    pub fn set_draft(&mut self, now: u64, conversation_id: &str, draft: &str) {
        self.tick(now);
        let now = self.now;
        if self.state != ConnectionState::Connected {
            return;
        }
        let interval = self.config.preview_interval_ms;
        let refresh = self.config.typing_refresh_ms;
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let preview = preview_of(draft);
        if preview.is_empty() {
            conn.draft = None;
            // Stop once, and only after a start (from a preview or from `set_typing`).
            if conn
                .typing_sent(conversation_id)
                .is_some_and(|&(typing, _)| typing)
            {
                self.send_typing(conversation_id, false, None);
            }
            return;
        }
        // The draft is updated where it is rather than taken out and put back, which moved it
        // twice (~0.1 KB zopfli gzip of the widget's wasm). A draft of another conversation is
        // replaced by the preview sent below.
        if let Some(d) = conn
            .draft
            .as_mut()
            .filter(|d| d.conversation_id == conversation_id)
        {
            if d.sent == preview && d.waiting.is_none() {
                // Unchanged: only keep the agent's typing indicator alive (sent again below
                // once it is stale).
                if now.saturating_sub(d.sent_at) < refresh {
                    return;
                }
            } else if now.saturating_sub(d.sent_at) < interval {
                d.waiting = (d.sent != preview).then(|| preview.to_owned());
                return;
            }
        }
        self.send_typing(conversation_id, true, Some(preview.to_owned()));
    }

    /// Sends the waiting draft preview once its interval has ended.
    fn flush_draft(&mut self, now: u64) {
        let interval = self.config.preview_interval_ms;
        let Some(d) = self.conn.as_mut().and_then(|conn| conn.draft.as_mut()) else {
            return;
        };
        if now.saturating_sub(d.sent_at) < interval {
            return;
        }
        let Some(preview) = d.waiting.take() else {
            return;
        };
        let conversation_id = d.conversation_id.clone();
        self.send_typing(&conversation_id, true, Some(preview));
    }

    /// Queues a typing frame now and records it. A preview becomes the draft last sent, with
    /// nothing waiting: every way of sending one (a new or stale draft, the end of an interval)
    /// leaves the draft in that state, so they share this one path rather than each updating
    /// the draft its own way (~0.2 KB less zopfli gzip of the widget's wasm).
    #[inline(never)]
    fn send_typing(&mut self, conversation_id: &str, typing: bool, preview: Option<String>) {
        let now = self.now;
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        if let Some(sent) = &preview {
            conn.draft = Some(Draft {
                conversation_id: conversation_id.to_owned(),
                sent: sent.clone(),
                sent_at: now,
                waiting: None,
            });
        }
        conn.typing_sent_now(conversation_id, typing, now);
        self.queue(ClientFrame::Typing {
            conversation_id: conversation_id.to_owned(),
            typing,
            preview,
        });
    }

    /// Syncs every tracked conversation now (when connected), for example when a page becomes
    /// visible again. The answer also refreshes the conversation list.
    pub fn request_sync(&mut self, now: u64) {
        self.tick(now);
        if self.state == ConnectionState::Connected {
            let idle = self.timelines.idle_conversations();
            self.send_sync(idle);
        }
    }

    /// Restores (or advances) a conversation's resume cursor: "every message up to `seq` is
    /// held". Cursors only move forward, so a lower value than the current one is ignored.
    /// Buffered messages that become contiguous are delivered.
    pub fn set_cursor(&mut self, conversation_id: &str, seq: u64) {
        self.timelines.raise(conversation_id, seq, &mut self.events);
    }

    /// Starts (or keeps) following a conversation from `after_seq` and, when connected, syncs it
    /// at once: the server replays what came after and pushes what comes next. Staff sockets only
    /// receive pushes for conversations they synced, so the console calls this when it opens
    /// one (after loading its history over REST). Followed conversations are synced again after
    /// every reconnect.
    pub fn follow(&mut self, now: u64, conversation_id: &str, after_seq: u64) {
        self.tick(now);
        self.set_cursor(conversation_id, after_seq);
        if self.state == ConnectionState::Connected {
            self.send_sync(vec![conversation_id.to_owned()]);
        }
    }

    /// Stops tracking a conversation: its cursor and buffered messages are dropped and it is no
    /// longer synced after reconnects (a console closing a conversation view, for example). If
    /// its messages keep arriving it is tracked again per the [`HistoryPolicy`].
    pub fn forget(&mut self, conversation_id: &str) {
        self.timelines.forget(conversation_id);
    }

    /// Restores outbox entries saved with [`export_outbox`](Self::export_outbox), after the ones
    /// already waiting. Entries whose `client_id` is already waiting are skipped; entries whose
    /// text is invalid are reported as [`ClientEvent::SendFailed`].
    pub fn import_outbox(&mut self, entries: impl IntoIterator<Item = OutboxEntry>) {
        for entry in entries {
            if let Err(refusal) = validate_text(&entry.text) {
                self.events.push_back(ClientEvent::SendFailed {
                    client_id: entry.client_id,
                    conversation_id: entry.conversation_id,
                    code: refusal.code(),
                    message: refusal_text(refusal).to_owned(),
                });
            } else {
                self.outbox.push(entry);
            }
        }
        self.flush_outbox();
    }

    /// Time passed: starts due reconnects, detects handshake and heartbeat timeouts, sends pings
    /// and due retries.
    pub fn handle_timeout(&mut self, now: u64) {
        self.tick(now);
        let now = self.now;
        match self.state {
            ConnectionState::Reconnecting { retry_at, .. } if now >= retry_at => {
                self.start_connect();
            }
            ConnectionState::Connecting | ConnectionState::Authenticating => {
                let deadline = self.conn.as_ref().map(|c| {
                    c.started_at
                        .saturating_add(self.config.handshake_timeout_ms)
                });
                if deadline.is_some_and(|d| now >= d) {
                    self.abandon(Loss::Failure, "handshake timed out");
                }
            }
            ConnectionState::Connected => {
                self.check_heartbeat(now);
                if self.state == ConnectionState::Connected {
                    self.flush_outbox();
                    self.flush_draft(now);
                    if self.sync_retry_at.is_some_and(|at| now >= at) {
                        self.sync_retry_at = None;
                        let idle = self.timelines.idle_conversations();
                        self.send_sync(idle);
                    }
                }
            }
            _ => {}
        }
    }

    /// Stops for good (until [`connect_requested`](Self::connect_requested)): closes the socket
    /// and stops reconnecting. The outbox and cursors are kept for export.
    pub fn shutdown(&mut self) {
        self.wanted = false;
        if self.conn.is_some() {
            self.abandon(Loss::Shutdown, "client shutdown");
        } else {
            self.lose_connection(Loss::Shutdown);
        }
    }

    // ----- outputs --------------------------------------------------------------------------

    /// The next transport action (open or close the socket).
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next frame to write to the current socket.
    pub fn poll_transmit(&mut self) -> Option<ClientFrame> {
        self.transmits.pop_front()
    }

    /// The next event for the UI.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next, on the caller's clock;
    /// `None` when nothing is scheduled.
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.state {
            ConnectionState::Reconnecting { retry_at, .. } => Some(retry_at),
            ConnectionState::Connecting | ConnectionState::Authenticating => {
                self.conn.as_ref().map(|c| {
                    c.started_at
                        .saturating_add(self.config.handshake_timeout_ms)
                })
            }
            ConnectionState::Connected => {
                let heartbeat = self
                    .conn
                    .as_ref()
                    .and_then(Connection::heartbeat_deadlines)
                    .map(|(dead, ping_at)| dead.min(ping_at));
                let draft = self.conn.as_ref().and_then(|c| {
                    let d = c.draft.as_ref()?;
                    d.waiting.as_ref()?;
                    Some(d.sent_at.saturating_add(self.config.preview_interval_ms))
                });
                // Pairwise rather than an array's `flatten().min()`, whose iterators the
                // widget's wasm would carry only for this.
                earliest(
                    earliest(heartbeat, self.outbox.next_retry()),
                    earliest(self.sync_retry_at, draft),
                )
            }
            ConnectionState::Idle | ConnectionState::Closed => None,
        }
    }

    // ----- queries --------------------------------------------------------------------------

    /// The connection state.
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// Whether a socket should be open or opening right now (a level-triggered alternative to
    /// watching [`Action`]s).
    pub fn wants_connection(&self) -> bool {
        matches!(
            self.state,
            ConnectionState::Connecting
                | ConnectionState::Authenticating
                | ConnectionState::Connected
        )
    }

    /// Whether the server refused the credentials; the core waits for
    /// [`set_token`](Self::set_token).
    pub fn is_auth_refused(&self) -> bool {
        self.auth_refused
    }

    /// Who the socket is authenticated as (from the last `welcome`).
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }

    /// Messages waiting for acknowledgement, oldest first (to show them as "sending").
    pub fn pending(&self) -> impl ExactSizeIterator<Item = &OutboxEntry> {
        self.outbox.entries()
    }

    /// Number of messages waiting for acknowledgement.
    pub fn pending_len(&self) -> usize {
        self.outbox.len()
    }

    /// The outbox as plain data, to persist and restore with
    /// [`import_outbox`](Self::import_outbox).
    pub fn export_outbox(&self) -> Vec<OutboxEntry> {
        self.outbox.entries().cloned().collect()
    }

    /// Every tracked conversation's resume cursor, to persist and restore with
    /// [`set_cursor`](Self::set_cursor).
    pub fn cursors(&self) -> Vec<Cursor> {
        self.timelines.cursors()
    }

    /// One conversation's resume cursor, if it is tracked.
    pub fn cursor(&self, conversation_id: &str) -> Option<u64> {
        self.timelines.cursor(conversation_id)
    }

    // ----- internals ------------------------------------------------------------------------

    fn tick(&mut self, now: u64) {
        self.now = self.now.max(now);
    }

    fn set_state(&mut self, state: ConnectionState) {
        if self.state != state {
            self.state = state;
            self.events.push_back(ClientEvent::StateChanged(state));
        }
    }

    fn start_connect(&mut self) {
        if self.token.is_none() {
            // Connecting resumes from `set_token`.
            self.set_state(ConnectionState::Idle);
            return;
        }
        self.conn = Some(Connection::new(self.now));
        self.set_state(ConnectionState::Connecting);
        self.actions.push_back(Action::Connect);
    }

    /// Queues a frame for the current socket.
    fn queue(&mut self, frame: ClientFrame) {
        if let Some(conn) = self.conn.as_mut() {
            conn.last_sent = self.now;
            self.transmits.push_back(frame);
        }
    }

    fn next_request(&mut self, request: Request) -> Option<RequestId> {
        let conn = self.conn.as_mut()?;
        let id = conn.next_request_id;
        conn.next_request_id += 1;
        conn.requests.push((id, request));
        Some(id)
    }

    /// Takes request `id` of the current connection out of the requests awaiting an answer.
    fn take_request(&mut self, id: RequestId) -> Option<Request> {
        let requests = &mut self.conn.as_mut()?.requests;
        let index = requests
            .iter()
            .position(|(request_id, _)| *request_id == id)?;
        Some(requests.swap_remove(index).1)
    }

    /// Tells the driver to close the socket, then handles the loss.
    fn abandon(&mut self, loss: Loss, reason: &'static str) {
        // A connect the driver has not picked up yet must not happen after the close.
        self.actions.retain(|a| *a != Action::Connect);
        self.actions.push_back(Action::Close {
            code: CLOSE_NORMAL,
            reason,
        });
        self.lose_connection(loss);
    }

    /// Forgets the current socket and decides what comes next.
    fn lose_connection(&mut self, loss: Loss) {
        let now = self.now;
        if let Some(conn) = self.conn.take()
            && conn
                .connected_at
                .is_some_and(|at| now.saturating_sub(at) >= self.config.stable_after_ms)
        {
            self.backoff.reset();
        }
        self.transmits.clear();
        self.outbox.connection_lost();
        self.timelines.connection_lost();
        self.sync_retry_at = None;
        // The two ways to reconnect compute their delay and share the state change: ~12 B less
        // zopfli gzip of the widget's wasm.
        let delay = match loss {
            Loss::Failure if self.wanted => self.backoff.next_delay(&mut self.rng),
            Loss::ServerRestart { retry_after_ms } if self.wanted => {
                // Every client of the restarting server hears the same delay; spreading them over
                // one more such delay keeps them from arriving all at once.
                let spread = retry_after_ms.max(self.config.backoff_base_ms);
                retry_after_ms.saturating_add(self.rng.up_to(spread))
            }
            Loss::Failure | Loss::ServerRestart { .. } => {
                return self.set_state(ConnectionState::Idle);
            }
            Loss::Refused { code, message } => {
                self.auth_refused = true;
                self.set_state(ConnectionState::Idle);
                self.events
                    .push_back(ClientEvent::AuthRefused { code, message });
                return;
            }
            Loss::Shutdown => return self.set_state(ConnectionState::Closed),
        };
        self.set_state(ConnectionState::Reconnecting {
            attempt: self.backoff.failures(),
            retry_at: now.saturating_add(delay),
        });
    }

    fn on_welcome(&mut self, protocol: u32, principal: Principal, heartbeat_ms: u64) {
        if protocol != PROTOCOL_VERSION {
            self.abandon(
                Loss::Refused {
                    code: ErrorCode::UnsupportedProtocol,
                    message: "the server speaks another protocol version".into(),
                },
                "unsupported protocol",
            );
            return;
        }
        let now = self.now;
        if let Some(conn) = self.conn.as_mut() {
            conn.connected_at = Some(now);
            conn.heartbeat_ms = match heartbeat_ms {
                0 => 0,
                hb => hb.max(MIN_HEARTBEAT_MS),
            };
        }
        self.principal = Some(principal);
        self.set_state(ConnectionState::Connected);
        // Catch up first (the answer also lists conversations this client does not know yet),
        // then resend everything unacknowledged with its original client_id.
        let tracked = self.timelines.idle_conversations();
        self.send_sync(tracked);
        self.flush_outbox();
    }

    /// Sends due outbox entries, oldest first, when connected.
    fn flush_outbox(&mut self) {
        if self.state != ConnectionState::Connected {
            return;
        }
        // One entry at a time rather than a list of the due ones: ~0.1 KB less gzip in the
        // widget's wasm. Sending an entry changes nothing for the ones after it.
        let mut index = 0;
        while let Some(entry) = self.outbox.next_due(&mut index, self.now) {
            let Some(id) = self.next_request(Request::Send {
                client_id: entry.client_id.clone(),
            }) else {
                return;
            };
            self.outbox.mark_in_flight(&entry.client_id, id);
            self.queue(ClientFrame::Send {
                id,
                conversation_id: entry.conversation_id,
                client_id: entry.client_id,
                text: entry.text,
            });
        }
    }

    /// Syncs these conversations, in as few `sync` frames as the server's cursor limit allows (an
    /// empty list still sends one, which fetches the conversation list).
    fn send_sync(&mut self, mut conversations: Vec<String>) {
        // Split off rather than copied chunk by chunk, and the cursors built in a loop: each
        // copy or `collect` here compiled to code of its own in the widget's wasm.
        while conversations.len() > MAX_SYNC_CURSORS {
            let rest = conversations.split_off(MAX_SYNC_CURSORS);
            self.send_one_sync(conversations);
            conversations = rest;
        }
        self.send_one_sync(conversations);
    }

    fn send_one_sync(&mut self, conversations: Vec<String>) {
        let Some(conn) = self.conn.as_ref() else {
            return;
        };
        // The id `next_request` gives it, known first so that the conversations are marked as
        // syncing while their cursors are read, in one lookup each: ~37 B less zopfli gzip of
        // the widget's wasm than reading all cursors, then marking all conversations.
        let cursors = self
            .timelines
            .start_sync(&conversations, conn.next_request_id);
        if let Some(id) = self.next_request(Request::Sync { conversations }) {
            self.queue(ClientFrame::Sync { id, cursors });
        }
    }

    /// Removes an acknowledged entry from the outbox and reports it (once).
    fn acknowledge(&mut self, client_id: &str, message: &Message) {
        // (Client ids are unique in the outbox.)
        if let Some(entry) = self
            .outbox
            .remove(client_id, Some(&message.conversation_id))
        {
            self.events.push_back(ClientEvent::Sent {
                client_id: entry.client_id,
                message: message.clone(),
            });
        }
    }

    /// Passes a message through its conversation's cursor: delivers what is in order, buffers
    /// what is ahead and syncs to fill the gap.
    fn ingest(&mut self, message: Message) {
        let baseline = match self.config.history {
            HistoryPolicy::Replay => 0,
            HistoryPolicy::LiveOnly => message.seq.saturating_sub(1),
        };
        if let Some(conversation_id) = self.timelines.ingest(
            message,
            baseline,
            self.config.max_buffered_per_conversation,
            &mut self.events,
        ) {
            self.send_sync(vec![conversation_id]);
        }
    }

    fn on_sent(&mut self, id: RequestId, message: Message) {
        let request = self.take_request(id);
        // Borrowed rather than cloned, like the `client_id` of a pushed message in
        // `frame_received`: ~40 B less zopfli gzip of the widget's wasm for the two.
        let client_id = match &request {
            Some(Request::Send { client_id }) => Some(client_id),
            _ => message.client_id.as_ref(),
        };
        if let Some(client_id) = client_id {
            self.acknowledge(client_id, &message);
        }
        // The server also pushes the message as a `message` frame; whichever comes second is a
        // duplicate and dropped by the cursor.
        self.ingest(message);
    }

    fn on_synced(&mut self, id: RequestId, conversations: Vec<ConversationSummary>) {
        let covered = match self.take_request(id) {
            Some(Request::Sync { conversations }) => conversations,
            _ => Vec::new(),
        };
        self.sync_failures = 0;
        let mut resync = Vec::new();
        // Borrowed, copying the ids kept, rather than consumed: the consuming loops over lists
        // of ids (here and in `on_error`) compiled to an owning iterator with drop glue of its
        // own, ~30 B more zopfli gzip of the widget's wasm than the copies.
        for conversation_id in &covered {
            match self.timelines.sync_finished(conversation_id, id) {
                SyncOutcome::Complete => {}
                SyncOutcome::Retry => resync.push(conversation_id.clone()),
                SyncOutcome::GiveUp => self.events.push_back(ClientEvent::Error {
                    code: ErrorCode::Internal,
                    message: "the server did not replay missing messages".into(),
                }),
            }
        }
        for summary in &conversations {
            if self.timelines.knows(&summary.id) {
                continue;
            }
            match self.config.history {
                HistoryPolicy::Replay => {
                    self.timelines.register(&summary.id, 0);
                    if summary.last_seq > 0 {
                        resync.push(summary.id.clone());
                    }
                }
                HistoryPolicy::LiveOnly => self.timelines.register(&summary.id, summary.last_seq),
            }
        }
        self.events
            .push_back(ClientEvent::ConversationList(conversations));
        if !resync.is_empty() {
            self.send_sync(resync);
        }
    }

    fn on_error(&mut self, id: Option<RequestId>, code: ErrorCode, message: String) {
        let request = id.and_then(|id| self.take_request(id));
        // The token expired under us (outbox entries stay for the next connection), or the
        // connection itself was refused. One way out for both rather than one per case: ~40 B
        // less zopfli gzip of the widget's wasm.
        let (refused, reason) = match request {
            Some(_) => (code == ErrorCode::Unauthenticated, "unauthenticated"),
            None => (id.is_none() && is_refusal(code), "refused"),
        };
        if refused {
            return self.abandon(Loss::Refused { code, message }, reason);
        }
        match request {
            Some(Request::Send { client_id }) if is_transient(code) => {
                let (now, base, cap) = (
                    self.now,
                    self.config.retry_base_ms,
                    self.config.backoff_max_ms,
                );
                let rng = &mut self.rng;
                self.outbox.transient_failure(&client_id, |failures| {
                    now.saturating_add(retry_delay(rng, base, cap, failures))
                });
            }
            Some(Request::Send { client_id }) => {
                if let Some(entry) = self.outbox.remove(&client_id, None) {
                    self.events.push_back(ClientEvent::SendFailed {
                        client_id,
                        conversation_id: entry.conversation_id,
                        code,
                        message,
                    });
                }
            }
            Some(Request::Sync { conversations }) => {
                if let Some(id) = id {
                    self.timelines.sync_failed(id);
                }
                if is_transient(code) {
                    self.sync_failures = self.sync_failures.saturating_add(1);
                    let delay = retry_delay(
                        &mut self.rng,
                        self.config.retry_base_ms,
                        self.config.backoff_max_ms,
                        self.sync_failures,
                    );
                    self.sync_retry_at = Some(self.now.saturating_add(delay));
                } else if conversations.len() > 1 {
                    // One conversation the principal may no longer see must not keep the others
                    // from syncing: ask for each separately.
                    for conversation_id in &conversations {
                        self.send_sync(vec![conversation_id.clone()]);
                    }
                } else {
                    if let [conversation_id] = &conversations[..]
                        && matches!(code, ErrorCode::NotFound | ErrorCode::Forbidden)
                    {
                        self.timelines.forget(conversation_id);
                    }
                    self.events.push_back(ClientEvent::Error { code, message });
                }
            }
            None => self.events.push_back(ClientEvent::Error { code, message }),
        }
    }

    fn check_heartbeat(&mut self, now: u64) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let Some((dead, ping_at)) = conn.heartbeat_deadlines() else {
            return;
        };
        if now >= dead {
            self.abandon(Loss::Failure, "heartbeat timed out");
        } else if now >= ping_at {
            let nonce = conn.next_nonce;
            conn.next_nonce += 1;
            conn.ping_outstanding = true;
            self.queue(ClientFrame::Ping { nonce });
        }
    }
}

/// The earlier of two optional instants.
// Not inlined: `poll_timeout` and `Outbox::next_retry` call it four times, and a copy of its
// match at each call cost ~45 B more zopfli gzip of the widget's wasm.
#[inline(never)]
fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// Errors worth retrying: the same request may succeed later.
fn is_transient(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::RateLimited | ErrorCode::Unavailable | ErrorCode::Internal
    )
}

/// Connection-level errors that reconnecting with the same credentials cannot fix.
fn is_refusal(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::Unauthenticated
            | ErrorCode::Forbidden
            | ErrorCode::OriginNotAllowed
            | ErrorCode::IdentityRequired
            | ErrorCode::UnsupportedProtocol
    )
}

/// Delay before the `failures`-th retry of a refused request: exponential from `base`, capped,
/// with "equal jitter" (at least half the ceiling) so that a rate-limited request never retries
/// immediately.
fn retry_delay(rng: &mut SplitMix64, base: u64, cap: u64, failures: u32) -> u64 {
    let ceiling = Backoff::new(base, cap).ceiling(failures);
    ceiling / 2 + rng.up_to(ceiling - ceiling / 2)
}

fn or_default(text: String, default: &str) -> String {
    if text.is_empty() {
        default.to_owned()
    } else {
        text
    }
}

/// `refusal.to_string()` without the formatting machinery (`TooLong`'s message formats a number,
/// which pulls `core::fmt` into the wasm widget). A test checks both texts stay equal.
fn refusal_text(refusal: TextError) -> &'static str {
    match refusal {
        TextError::Empty => "a message needs some text",
        TextError::TooLong => "a message can be at most 4000 characters",
    }
}

/// A first-in first-out queue of outputs on a `Vec`. The queues hold a handful of items between
/// polls, so shifting on `pop_front` costs nothing that matters, while `VecDeque`'s ring buffer
/// cost the wasm widget ~2.5 KB for its three item types.
#[derive(Debug, Clone)]
struct Queue<T>(Vec<T>);

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue(Vec::new())
    }
}

impl<T> Queue<T> {
    fn push_back(&mut self, item: T) {
        self.0.push(item);
    }

    fn pop_front(&mut self) -> Option<T> {
        if self.0.is_empty() {
            None
        } else {
            Some(self.0.remove(0))
        }
    }

    fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        self.0.retain(keep);
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}
