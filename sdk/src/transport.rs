//! The native transport: drives a [`ClientCore`] over a tokio-tungstenite WebSocket.
//!
//! [`NativeClient::connect`] spawns one driver task that owns the core, the socket and the timer.
//! The task is a loop around the core's sans-IO contract: carry out [`Action`]s, write
//! [`ClientCore::poll_transmit`] frames, forward [`ClientEvent`]s, and wait for whichever comes
//! first of a command from a [`NativeClient`] handle, the socket, the pending connect, or
//! [`ClientCore::poll_timeout`]. All protocol decisions (reconnects, resends, heartbeats, ordering)
//! are the core's; this module only does I/O. The core's clock is milliseconds since the driver
//! started, on tokio's monotonic clock.
//!
//! Only `ws://` URLs work with the crate's current features; `wss://` needs one of
//! tokio-tungstenite's TLS features enabled.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tracing::{debug, info, warn};

use crate::client::{
    Action, ClientConfig, ClientCore, ClientEvent, CloseReason, ConnectionState, OutboxEntry,
};
use crate::protocol::{ErrorCode, MAX_FRAME_BYTES, Message, ServerFrame, TextError};

/// How long a client-initiated close waits for the server's close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Settings of a [`NativeClient`].
#[derive(Debug, Clone)]
pub struct NativeConfig {
    /// Tuning of the client core (backoff, timeouts, history policy).
    pub client: ClientConfig,
    /// Largest WebSocket message accepted from the server.
    pub max_message_bytes: usize,
    /// Capacity of the events channel.
    pub event_capacity: usize,
    /// Events held by the driver while the events channel is full. Past this the driver waits for
    /// the application to read, which also pauses the protocol (heartbeats included), so read the
    /// events or drop the receiver.
    pub max_buffered_events: usize,
    /// Seed of the core's generator; `None` draws one from the process's random hasher keys and
    /// the wall clock. Fix it only in tests.
    pub seed: Option<u64>,
}

impl Default for NativeConfig {
    fn default() -> Self {
        Self {
            client: ClientConfig::default(),
            max_message_bytes: MAX_FRAME_BYTES,
            event_capacity: 1024,
            max_buffered_events: 65_536,
            seed: None,
        }
    }
}

/// Why a [`NativeClient`] call failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The server URL is not a valid WebSocket URL.
    #[error("invalid server URL: {0}")]
    InvalidUrl(String),
    /// `connect` was called outside a tokio runtime.
    #[error("NativeClient::connect must be called within a tokio runtime")]
    NoRuntime,
    /// The text was refused before sending.
    #[error(transparent)]
    Text(#[from] TextError),
    /// The server refused the message for good.
    #[error("the server refused the message ({code:?}): {message}")]
    Refused {
        /// Why.
        code: ErrorCode,
        /// The server's explanation.
        message: String,
    },
    /// The client was shut down (or its driver task ended).
    #[error("the client is shut down")]
    Closed,
}

/// A handle to a running native client. Cheap to clone; the client shuts down when
/// [`shutdown`](Self::shutdown) is called or every handle is dropped.
#[derive(Debug, Clone)]
pub struct NativeClient {
    commands: mpsc::Sender<Command>,
}

type AckSender = oneshot::Sender<Result<Message, TransportError>>;

#[derive(Debug)]
enum Command {
    Send {
        conversation_id: String,
        text: String,
        reply: oneshot::Sender<Result<String, TextError>>,
        ack: Option<AckSender>,
    },
    Typing {
        conversation_id: String,
        typing: bool,
    },
    Sync,
    Follow {
        conversation_id: String,
        after_seq: u64,
    },
    SetToken(String),
    RetryNow,
    ExportOutbox(oneshot::Sender<Vec<OutboxEntry>>),
    State(oneshot::Sender<ConnectionState>),
    Shutdown(oneshot::Sender<()>),
}

impl NativeClient {
    /// Starts a client for the WebSocket endpoint `url` (for example `ws://localhost:8080/v1/ws`)
    /// authenticating with `token`, and returns its handle and its events. Connecting happens in
    /// the background; watch for [`ClientEvent::StateChanged`]. Must be called within a tokio
    /// runtime.
    pub fn connect(
        url: &str,
        token: impl Into<String>,
        config: NativeConfig,
    ) -> Result<(NativeClient, mpsc::Receiver<ClientEvent>), TransportError> {
        url.into_client_request()
            .map_err(|e| TransportError::InvalidUrl(e.to_string()))?;
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| TransportError::NoRuntime)?;
        let (command_tx, command_rx) = mpsc::channel(64);
        let (event_tx, event_rx) = mpsc::channel(config.event_capacity.max(1));
        let mut core = ClientCore::new(
            config.client.clone(),
            config.seed.unwrap_or_else(random_seed),
        );
        core.set_token(token);
        let ws_config = WebSocketConfig::default()
            .max_message_size(Some(config.max_message_bytes))
            .max_frame_size(Some(config.max_message_bytes))
            // Chat frames are small and latency matters more than syscalls.
            .write_buffer_size(0);
        let driver = Driver {
            core,
            url: url.to_owned(),
            ws_config,
            started: Instant::now(),
            events: event_tx,
            events_open: true,
            pending_events: VecDeque::new(),
            max_buffered_events: config.max_buffered_events,
            waiters: HashMap::new(),
        };
        runtime.spawn(driver.run(command_rx));
        Ok((
            NativeClient {
                commands: command_tx,
            },
            event_rx,
        ))
    }

    /// Queues a message and returns its `client_id` once the core accepted it (it is then in the
    /// outbox and will be delivered across reconnects). Watch for [`ClientEvent::Sent`] or use
    /// [`send_and_wait_ack`](Self::send_and_wait_ack).
    pub async fn send_message(
        &self,
        conversation_id: impl Into<String>,
        text: impl Into<String>,
    ) -> Result<String, TransportError> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::Send {
            conversation_id: conversation_id.into(),
            text: text.into(),
            reply,
            ack: None,
        })
        .await?;
        Ok(answer.await.map_err(|_| TransportError::Closed)??)
    }

    /// Sends a message and waits until the server stored it (across reconnects if need be).
    /// Returns the stored message, or the server's permanent refusal. While the server refuses
    /// the credentials this waits for [`set_token`](Self::set_token); wrap it in a timeout where
    /// that matters.
    pub async fn send_and_wait_ack(
        &self,
        conversation_id: impl Into<String>,
        text: impl Into<String>,
    ) -> Result<Message, TransportError> {
        let (reply, answer) = oneshot::channel();
        let (ack, acked) = oneshot::channel();
        self.command(Command::Send {
            conversation_id: conversation_id.into(),
            text: text.into(),
            reply,
            ack: Some(ack),
        })
        .await?;
        answer.await.map_err(|_| TransportError::Closed)??;
        acked.await.map_err(|_| TransportError::Closed)?
    }

    /// Tells the conversation's other participants that the user started or stopped typing.
    pub async fn set_typing(
        &self,
        conversation_id: impl Into<String>,
        typing: bool,
    ) -> Result<(), TransportError> {
        self.command(Command::Typing {
            conversation_id: conversation_id.into(),
            typing,
        })
        .await
    }

    /// Syncs every tracked conversation now (see [`ClientCore::request_sync`]).
    pub async fn sync(&self) -> Result<(), TransportError> {
        self.command(Command::Sync).await
    }

    /// Follows a conversation from `after_seq` (see [`ClientCore::follow`]).
    pub async fn follow(
        &self,
        conversation_id: impl Into<String>,
        after_seq: u64,
    ) -> Result<(), TransportError> {
        self.command(Command::Follow {
            conversation_id: conversation_id.into(),
            after_seq,
        })
        .await
    }

    /// Replaces the token (for example after a refresh, or after [`ClientEvent::AuthRefused`]).
    pub async fn set_token(&self, token: impl Into<String>) -> Result<(), TransportError> {
        self.command(Command::SetToken(token.into())).await
    }

    /// Skips the remaining reconnect delay.
    pub async fn retry_now(&self) -> Result<(), TransportError> {
        self.command(Command::RetryNow).await
    }

    /// The messages not yet acknowledged, to persist (see [`ClientCore::export_outbox`]).
    pub async fn export_outbox(&self) -> Result<Vec<OutboxEntry>, TransportError> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::ExportOutbox(reply)).await?;
        answer.await.map_err(|_| TransportError::Closed)
    }

    /// The current connection state.
    pub async fn state(&self) -> Result<ConnectionState, TransportError> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::State(reply)).await?;
        answer.await.map_err(|_| TransportError::Closed)
    }

    /// Closes the socket, stops the driver and waits for it. Pending
    /// [`send_and_wait_ack`](Self::send_and_wait_ack) calls fail with
    /// [`TransportError::Closed`]. Shutting down twice is harmless.
    pub async fn shutdown(&self) -> Result<(), TransportError> {
        let (reply, answer) = oneshot::channel();
        if self.command(Command::Shutdown(reply)).await.is_err() {
            return Ok(());
        }
        let _ = answer.await;
        Ok(())
    }

    async fn command(&self, command: Command) -> Result<(), TransportError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| TransportError::Closed)
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Connecting = Pin<Box<dyn Future<Output = Result<Socket, tungstenite::Error>> + Send>>;

/// The task that owns the core and the socket.
struct Driver {
    core: ClientCore,
    url: String,
    ws_config: WebSocketConfig,
    started: Instant,
    events: mpsc::Sender<ClientEvent>,
    /// False once the application dropped the events receiver.
    events_open: bool,
    /// Events taken from the core but not yet accepted by the channel.
    pending_events: VecDeque<ClientEvent>,
    max_buffered_events: usize,
    /// `send_and_wait_ack` callers by `client_id`.
    waiters: HashMap<String, AckSender>,
}

impl Driver {
    fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut socket: Option<Socket> = None;
        let mut connecting: Option<Connecting> = None;
        self.core.connect_requested(self.now());
        loop {
            self.carry_out_actions(&mut socket, &mut connecting);
            self.write_frames(&mut socket).await;
            self.forward_events().await;
            let deadline = self
                .core
                .poll_timeout()
                .map(|at| self.started + Duration::from_millis(at));
            tokio::select! {
                command = commands.recv() => {
                    let Some(command) = command else {
                        debug!("every handle dropped; shutting down");
                        self.shut_down(&mut socket).await;
                        return;
                    };
                    if let Command::Shutdown(done) = command {
                        self.shut_down(&mut socket).await;
                        let _ = done.send(());
                        return;
                    }
                    self.handle_command(command);
                }
                result = poll_connecting(connecting.as_mut()) => {
                    connecting = None;
                    let now = self.now();
                    match result {
                        Ok(opened) => {
                            info!(url = %self.url, "connected");
                            socket = Some(opened);
                            self.core.transport_opened(now);
                        }
                        Err(error) => {
                            warn!(url = %self.url, %error, "could not connect");
                            self.core.transport_closed(now, CloseReason::ConnectFailed(error.to_string()));
                        }
                    }
                }
                incoming = next_message(socket.as_mut()) => {
                    if let Some(reason) = self.handle_incoming(incoming) {
                        socket = None;
                        let now = self.now();
                        self.core.transport_closed(now, reason);
                    }
                }
                // An owned permit: a borrowed one would hold `self` for the whole `select!`.
                permit = self.events.clone().reserve_owned(), if self.events_open && !self.pending_events.is_empty() => {
                    match permit {
                        Ok(permit) => {
                            if let Some(event) = self.pending_events.pop_front() {
                                permit.send(event);
                            }
                        }
                        Err(_) => self.events_closed(),
                    }
                }
                () = sleep_until(deadline) => {
                    let now = self.now();
                    self.core.handle_timeout(now);
                }
            }
        }
    }

    fn carry_out_actions(
        &mut self,
        socket: &mut Option<Socket>,
        connecting: &mut Option<Connecting>,
    ) {
        while let Some(action) = self.core.poll_action() {
            match action {
                Action::Connect => {
                    debug!(url = %self.url, "connecting");
                    if let Some(old) = socket.take() {
                        tokio::spawn(close_socket(old, crate::client::CLOSE_NORMAL, "replaced"));
                    }
                    let request = self.url.clone();
                    let config = self.ws_config;
                    *connecting = Some(Box::pin(async move {
                        let (socket, _response) = tokio_tungstenite::connect_async_with_config(
                            request,
                            Some(config),
                            true,
                        )
                        .await?;
                        Ok(socket)
                    }));
                }
                Action::Close { code, reason } => {
                    debug!(code, reason, "closing the connection");
                    *connecting = None;
                    if let Some(old) = socket.take() {
                        tokio::spawn(close_socket(old, code, reason));
                    }
                }
            }
        }
    }

    /// Writes every queued frame; a failed write ends the connection.
    async fn write_frames(&mut self, socket: &mut Option<Socket>) {
        let Some(ws) = socket.as_mut() else {
            // Frames are only queued while a socket is open; anything left belongs to none.
            while self.core.poll_transmit().is_some() {}
            return;
        };
        let mut wrote = false;
        let mut result = Ok(());
        while let Some(frame) = self.core.poll_transmit() {
            wrote = true;
            result = ws.feed(WsMessage::text(frame.to_json())).await;
            if result.is_err() {
                break;
            }
        }
        if wrote && result.is_ok() {
            result = ws.flush().await;
        }
        if let Err(error) = result {
            warn!(%error, "write failed");
            *socket = None;
            let now = self.now();
            self.core
                .transport_closed(now, CloseReason::Error(error.to_string()));
            // The core may have decided something new (a reconnect); the next loop turn acts on it.
        }
    }

    /// Moves the core's events to the channel (buffering when it is full) and resolves
    /// `send_and_wait_ack` callers.
    async fn forward_events(&mut self) {
        while let Some(event) = self.core.poll_event() {
            self.resolve_waiters(&event);
            if self.events_open {
                self.pending_events.push_back(event);
            }
        }
        while let Some(event) = self.pending_events.pop_front() {
            match self.events.try_send(event) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(event)) => {
                    self.pending_events.push_front(event);
                    break;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => self.events_closed(),
            }
        }
        // Past the limit, apply backpressure rather than grow without bound.
        while self.pending_events.len() > self.max_buffered_events {
            let Some(event) = self.pending_events.pop_front() else {
                break;
            };
            if self.events.send(event).await.is_err() {
                self.events_closed();
            }
        }
    }

    fn events_closed(&mut self) {
        if self.events_open {
            debug!("the events receiver was dropped; events are discarded from now on");
        }
        self.events_open = false;
        self.pending_events.clear();
    }

    fn resolve_waiters(&mut self, event: &ClientEvent) {
        match event {
            ClientEvent::Sent { client_id, message } => {
                if let Some(waiter) = self.waiters.remove(client_id) {
                    let _ = waiter.send(Ok(message.clone()));
                }
            }
            ClientEvent::SendFailed {
                client_id,
                code,
                message,
                ..
            } => {
                if let Some(waiter) = self.waiters.remove(client_id) {
                    let _ = waiter.send(Err(TransportError::Refused {
                        code: *code,
                        message: message.clone(),
                    }));
                }
            }
            _ => {}
        }
    }

    fn handle_command(&mut self, command: Command) {
        let now = self.now();
        match command {
            Command::Send {
                conversation_id,
                text,
                reply,
                ack,
            } => {
                let result = self.core.send_message(now, conversation_id, text);
                if let (Ok(client_id), Some(ack)) = (&result, ack) {
                    self.waiters.insert(client_id.clone(), ack);
                }
                let _ = reply.send(result);
            }
            Command::Typing {
                conversation_id,
                typing,
            } => self.core.set_typing(now, &conversation_id, typing),
            Command::Sync => self.core.request_sync(now),
            Command::Follow {
                conversation_id,
                after_seq,
            } => self.core.follow(now, &conversation_id, after_seq),
            Command::SetToken(token) => self.core.set_token(token),
            Command::RetryNow => self.core.retry_now(now),
            Command::ExportOutbox(reply) => {
                let _ = reply.send(self.core.export_outbox());
            }
            Command::State(reply) => {
                let _ = reply.send(self.core.state());
            }
            // Handled by the loop, which must stop afterwards.
            Command::Shutdown(done) => {
                let _ = done.send(());
            }
        }
    }

    /// Turns one socket read into a core input; returns why the socket ended, if it did.
    fn handle_incoming(
        &mut self,
        incoming: Option<Result<WsMessage, tungstenite::Error>>,
    ) -> Option<CloseReason> {
        let now = self.now();
        match incoming {
            Some(Ok(WsMessage::Text(text))) => {
                match ServerFrame::from_json(text.as_str()) {
                    Ok(frame) => self.core.frame_received(now, frame),
                    // Unknown frame types decode as `Unknown`; this is JSON that does not even
                    // fit the envelope. Skipping it keeps the session alive.
                    Err(error) => warn!(%error, "ignoring a malformed frame"),
                }
                None
            }
            Some(Ok(WsMessage::Close(frame))) => {
                let (code, reason) = frame
                    .map(|f| (u16::from(f.code), f.reason.as_str().to_owned()))
                    .unwrap_or((1005, String::new()));
                info!(code, %reason, "the server closed the connection");
                Some(CloseReason::Closed { code, reason })
            }
            // Pings are answered by tungstenite; binary frames are not part of the protocol.
            Some(Ok(_)) => None,
            Some(Err(error)) => {
                warn!(%error, "connection error");
                Some(CloseReason::Error(error.to_string()))
            }
            None => Some(CloseReason::Error(
                "connection closed without a close frame".into(),
            )),
        }
    }

    async fn shut_down(&mut self, socket: &mut Option<Socket>) {
        self.core.shutdown();
        while let Some(action) = self.core.poll_action() {
            if let Action::Close { code, reason } = action
                && let Some(old) = socket.take()
            {
                close_socket(old, code, reason).await;
            }
        }
        while self.core.poll_transmit().is_some() {}
        self.forward_events().await;
        // Deliver what is buffered if the application is still reading, without waiting long.
        for event in self.pending_events.drain(..) {
            if self.events.try_send(event).is_err() {
                break;
            }
        }
        for (_, waiter) in self.waiters.drain() {
            let _ = waiter.send(Err(TransportError::Closed));
        }
        info!("client shut down");
    }
}

/// Awaits the pending connect, or never if there is none.
async fn poll_connecting(
    connecting: Option<&mut Connecting>,
) -> Result<Socket, tungstenite::Error> {
    match connecting {
        Some(connecting) => connecting.await,
        None => std::future::pending().await,
    }
}

/// The next message from the socket, or never if there is none.
async fn next_message(
    socket: Option<&mut Socket>,
) -> Option<Result<WsMessage, tungstenite::Error>> {
    match socket {
        Some(socket) => socket.next().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Sends a close frame and waits briefly for the server's; the socket is dropped either way.
async fn close_socket(mut socket: Socket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    };
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        let _ = socket.close(Some(frame)).await;
        // Read until the server's close arrives (or the stream ends).
        while let Some(Ok(_)) = socket.next().await {}
    })
    .await;
}

/// A seed for the core's generator: the process's randomly keyed hasher (keys come from the
/// operating system) mixed with the wall clock, so that concurrent clients differ.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    hasher.write_u128(nanos);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    //! The transport against a stand-in server: a few lines of tokio-tungstenite speaking just
    //! enough of protocol version 1 over a real socket. It is not the natter server; it lets these
    //! tests exercise real sockets, reconnects and resends.

    use std::sync::{Arc, Mutex, MutexGuard};

    use tokio::net::TcpListener;

    use super::*;
    use crate::protocol::{
        Author, AuthorKind, ClientFrame, PROTOCOL_VERSION, Principal, PrincipalKind,
    };

    /// What the stand-in stores and how it misbehaves.
    #[derive(Debug, Default)]
    struct StandIn {
        /// Messages of every conversation, in order of storage.
        log: Vec<Message>,
        connections: usize,
        sends_seen: usize,
        /// Store the n-th `send` (1-based), then drop the connection without answering.
        drop_on_send: Option<usize>,
        /// Refuse this token with `error` + close 4001.
        refuse_token: Option<String>,
        /// Ask the first connection to reconnect right after `welcome`.
        restart_first_connection: bool,
    }

    impl StandIn {
        fn store(&mut self, conversation_id: &str, client_id: &str, text: &str) -> (Message, bool) {
            if let Some(existing) = self.log.iter().find(|m| {
                m.conversation_id == conversation_id && m.client_id.as_deref() == Some(client_id)
            }) {
                return (existing.clone(), false);
            }
            let seq = self
                .log
                .iter()
                .filter(|m| m.conversation_id == conversation_id)
                .count() as u64
                + 1;
            let message = Message {
                id: format!("m{}", self.log.len() + 1),
                conversation_id: conversation_id.into(),
                seq,
                client_id: Some(client_id.into()),
                author: Author {
                    kind: AuthorKind::Visitor,
                    id: "v1".into(),
                    name: None,
                    role: None,
                },
                text: text.into(),
                created_at: 0,
            };
            self.log.push(message.clone());
            (message, true)
        }
    }

    fn lock(state: &Mutex<StandIn>) -> MutexGuard<'_, StandIn> {
        state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn spawn_stand_in(state: Arc<Mutex<StandIn>>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(serve(tcp, state.clone()));
            }
        });
        format!("ws://{address}/v1/ws")
    }

    async fn send(ws: &mut WebSocketStream<TcpStream>, frame: ServerFrame) {
        let _ = ws.send(WsMessage::text(frame.to_json())).await;
    }

    async fn serve(tcp: TcpStream, state: Arc<Mutex<StandIn>>) {
        let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
            return;
        };
        let (first_connection, refuse_token) = {
            let mut s = lock(&state);
            s.connections += 1;
            (s.connections == 1, s.refuse_token.clone())
        };
        let Some(Ok(WsMessage::Text(text))) = ws.next().await else {
            return;
        };
        let Ok(ClientFrame::Auth { token, .. }) = ClientFrame::from_json(text.as_str()) else {
            return;
        };
        if Some(&token) == refuse_token.as_ref() {
            let refusal = ServerFrame::Error {
                id: None,
                code: ErrorCode::Unauthenticated,
                message: "invalid token".into(),
            };
            send(&mut ws, refusal).await;
            close_socket_server(ws, 4001).await;
            return;
        }
        let welcome = ServerFrame::Welcome {
            protocol: PROTOCOL_VERSION,
            principal: Principal {
                kind: PrincipalKind::Visitor,
                id: "v1".into(),
                tenant_id: "t1".into(),
                name: None,
                role: None,
            },
            heartbeat_ms: 25_000,
        };
        send(&mut ws, welcome).await;
        if first_connection && lock(&state).restart_first_connection {
            let restart = ServerFrame::Reconnect {
                reason: "deploy".into(),
                retry_after_ms: 20,
            };
            send(&mut ws, restart).await;
            close_socket_server(ws, 1012).await;
            return;
        }
        while let Some(Ok(message)) = ws.next().await {
            let WsMessage::Text(text) = message else {
                continue;
            };
            let Ok(frame) = ClientFrame::from_json(text.as_str()) else {
                continue;
            };
            let replies = {
                let mut s = lock(&state);
                match frame {
                    ClientFrame::Send {
                        id,
                        conversation_id,
                        client_id,
                        text,
                    } => {
                        s.sends_seen += 1;
                        let (message, new) = s.store(&conversation_id, &client_id, &text);
                        if s.drop_on_send == Some(s.sends_seen) {
                            // Stored, but the answer is lost with the connection.
                            return;
                        }
                        let mut replies = vec![ServerFrame::Sent {
                            id,
                            message: message.clone(),
                        }];
                        if new {
                            replies.push(ServerFrame::Message { message });
                        }
                        replies
                    }
                    ClientFrame::Sync { id, cursors } => {
                        let mut replies: Vec<ServerFrame> = cursors
                            .iter()
                            .flat_map(|c| {
                                s.log
                                    .iter()
                                    .filter(|m| {
                                        m.conversation_id == c.conversation_id
                                            && m.seq > c.after_seq
                                    })
                                    .cloned()
                                    .map(|message| ServerFrame::Message { message })
                                    .collect::<Vec<_>>()
                            })
                            .collect();
                        replies.push(ServerFrame::Synced {
                            id,
                            conversations: Vec::new(),
                        });
                        replies
                    }
                    ClientFrame::Ping { nonce } => vec![ServerFrame::Pong { nonce }],
                    ClientFrame::Auth { .. } | ClientFrame::Typing { .. } => Vec::new(),
                }
            };
            for reply in replies {
                send(&mut ws, reply).await;
            }
        }
    }

    async fn close_socket_server(mut ws: WebSocketStream<TcpStream>, code: u16) {
        let _ = ws
            .close(Some(CloseFrame {
                code: CloseCode::from(code),
                reason: "".into(),
            }))
            .await;
        while let Some(Ok(_)) = ws.next().await {}
    }

    fn fast_config() -> NativeConfig {
        NativeConfig {
            client: ClientConfig {
                backoff_base_ms: 20,
                backoff_max_ms: 100,
                ..ClientConfig::default()
            },
            seed: Some(1),
            ..NativeConfig::default()
        }
    }

    /// Runs a test body with a deadline, so a protocol bug fails instead of hanging.
    async fn within_5s<T>(body: impl Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(5), body)
            .await
            .expect("the test took longer than 5 s")
    }

    async fn next_event_matching(
        events: &mut mpsc::Receiver<ClientEvent>,
        wanted: impl Fn(&ClientEvent) -> bool,
    ) -> ClientEvent {
        loop {
            let event = events.recv().await.expect("the event stream ended");
            if wanted(&event) {
                return event;
            }
        }
    }

    #[tokio::test]
    async fn a_message_is_acknowledged_and_delivered_by_a_stand_in_server() {
        let state = Arc::new(Mutex::new(StandIn::default()));
        let url = spawn_stand_in(state.clone()).await;
        let (client, mut events) =
            NativeClient::connect(&url, "token", fast_config()).expect("connect");
        within_5s(async {
            let stored = client
                .send_and_wait_ack("c1", "hello")
                .await
                .expect("acknowledged");
            assert_eq!((stored.seq, stored.text.as_str()), (1, "hello"));
            let delivered =
                next_event_matching(&mut events, |e| matches!(e, ClientEvent::Message(_))).await;
            assert_eq!(delivered, ClientEvent::Message(stored));
            assert_eq!(
                client.state().await.expect("running"),
                ConnectionState::Connected
            );
            client.shutdown().await.expect("shut down");
        })
        .await;
    }

    #[tokio::test]
    async fn a_send_lost_with_its_connection_is_resent_with_the_same_client_id_and_stored_once() {
        let state = Arc::new(Mutex::new(StandIn {
            drop_on_send: Some(1),
            ..StandIn::default()
        }));
        let url = spawn_stand_in(state.clone()).await;
        let (client, _events) =
            NativeClient::connect(&url, "token", fast_config()).expect("connect");
        within_5s(async {
            let stored = client
                .send_and_wait_ack("c1", "hello")
                .await
                .expect("acknowledged");
            assert_eq!(stored.seq, 1);
            let s = lock(&state);
            assert_eq!(s.connections, 2, "the client reconnected");
            assert_eq!(s.sends_seen, 2, "and resent");
            assert_eq!(s.log.len(), 1, "the resend was stored once");
            assert_eq!(s.log[0].client_id, stored.client_id);
        })
        .await;
        client.shutdown().await.expect("shut down");
    }

    #[tokio::test]
    async fn a_refused_token_is_reported_and_not_retried_until_a_new_one_is_set() {
        let state = Arc::new(Mutex::new(StandIn {
            refuse_token: Some("stale".into()),
            ..StandIn::default()
        }));
        let url = spawn_stand_in(state.clone()).await;
        let (client, mut events) =
            NativeClient::connect(&url, "stale", fast_config()).expect("connect");
        within_5s(async {
            let refusal = next_event_matching(&mut events, |e| {
                matches!(e, ClientEvent::AuthRefused { .. })
            })
            .await;
            assert!(matches!(
                refusal,
                ClientEvent::AuthRefused {
                    code: ErrorCode::Unauthenticated,
                    ..
                }
            ));
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_eq!(lock(&state).connections, 1, "no retry with a refused token");
            assert_eq!(
                client.state().await.expect("running"),
                ConnectionState::Idle
            );

            client.set_token("fresh").await.expect("running");
            next_event_matching(&mut events, |e| {
                *e == ClientEvent::StateChanged(ConnectionState::Connected)
            })
            .await;
        })
        .await;
        client.shutdown().await.expect("shut down");
    }

    #[tokio::test]
    async fn a_reconnect_frame_brings_the_client_back_after_the_servers_delay() {
        let state = Arc::new(Mutex::new(StandIn {
            restart_first_connection: true,
            ..StandIn::default()
        }));
        let url = spawn_stand_in(state.clone()).await;
        let (client, mut events) =
            NativeClient::connect(&url, "token", fast_config()).expect("connect");
        within_5s(async {
            next_event_matching(&mut events, |e| {
                matches!(
                    e,
                    ClientEvent::StateChanged(ConnectionState::Reconnecting { attempt: 0, .. })
                )
            })
            .await;
            let stored = client
                .send_and_wait_ack("c1", "after the deploy")
                .await
                .expect("acknowledged");
            assert_eq!(stored.seq, 1);
            assert_eq!(lock(&state).connections, 2);
        })
        .await;
        client.shutdown().await.expect("shut down");
    }

    #[tokio::test]
    async fn shutdown_ends_the_event_stream_and_later_calls_fail() {
        let state = Arc::new(Mutex::new(StandIn::default()));
        let url = spawn_stand_in(state).await;
        let (client, mut events) =
            NativeClient::connect(&url, "token", fast_config()).expect("connect");
        within_5s(async {
            next_event_matching(&mut events, |e| {
                *e == ClientEvent::StateChanged(ConnectionState::Connected)
            })
            .await;
            client.shutdown().await.expect("shut down");
            let mut last = None;
            while let Some(event) = events.recv().await {
                last = Some(event);
            }
            assert_eq!(
                last,
                Some(ClientEvent::StateChanged(ConnectionState::Closed))
            );
            assert!(matches!(
                client.send_message("c1", "too late").await,
                Err(TransportError::Closed)
            ));
            client
                .shutdown()
                .await
                .expect("shutting down twice is harmless");
        })
        .await;
    }

    #[tokio::test]
    async fn invalid_text_is_refused_before_anything_is_sent() {
        let state = Arc::new(Mutex::new(StandIn::default()));
        let url = spawn_stand_in(state.clone()).await;
        let (client, _events) =
            NativeClient::connect(&url, "token", fast_config()).expect("connect");
        within_5s(async {
            assert!(matches!(
                client.send_and_wait_ack("c1", "   ").await,
                Err(TransportError::Text(TextError::Empty))
            ));
            assert_eq!(client.export_outbox().await.expect("running"), []);
        })
        .await;
        client.shutdown().await.expect("shut down");
        assert_eq!(lock(&state).sends_seen, 0);
    }

    #[test]
    fn an_invalid_url_is_refused_up_front() {
        assert!(matches!(
            NativeClient::connect("not a url", "token", NativeConfig::default()),
            Err(TransportError::InvalidUrl(_))
        ));
    }

    #[test]
    fn connecting_outside_a_runtime_is_an_error_not_a_panic() {
        assert!(matches!(
            NativeClient::connect("ws://127.0.0.1:9/v1/ws", "token", NativeConfig::default()),
            Err(TransportError::NoRuntime)
        ));
    }
}
