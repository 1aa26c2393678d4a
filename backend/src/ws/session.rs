//! One WebSocket session: authenticate with the first frame, then pump frames both ways until
//! the peer leaves, goes silent, lags, or the server shuts down.
//!
//! Sends are pipelined: each `send` is validated and queued for storage in arrival order, and its
//! `sent` answer goes out when storage confirms, in the same order; the socket keeps reading
//! meanwhile. A message is fanned out only after it is stored (see `crate::chat`).
//!
//! A `sync` registers the socket first and replays afterwards, so nothing stored in between is
//! missed; a message may then arrive both live and replayed, which clients discard by `seq`.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use futures_util::stream::FuturesOrdered;
use futures_util::{SinkExt, StreamExt};
use natter_sdk::protocol::{
    Author, AuthorKind, CLOSE_LAGGING, CLOSE_SERVICE_RESTART, CLOSE_UNAUTHENTICATED,
    CLOSE_UNSUPPORTED_PROTOCOL, ClientFrame, Cursor, MAX_SYNC_CURSORS, PROTOCOL_VERSION, Principal,
    PrincipalKind, RequestId, ServerFrame,
};
use tokio::time::Instant;

use crate::app::AppState;
use crate::auth::Caller;
use crate::auth::tokens::TokenKind;
use crate::chat::PendingPost;
use crate::chat::hub::{Member, Registration};
use crate::domain::{Conversation, ConversationStatus, TypingNotice};
use crate::error::{AppError, AppResult};
use crate::store::ConversationFilter;
use crate::wire;

/// How long a new socket has to send its `auth` frame.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a cached conversation is trusted for permission checks before it is reloaded.
const CONVERSATION_CACHE_TTL: Duration = Duration::from_secs(2);
/// Messages replayed per store query during a sync.
const SYNC_PAGE: usize = 500;

/// Close code "going away" (RFC 6455), for sockets reaped after the idle timeout.
const CLOSE_IDLE: u16 = 1001;

/// Runs a session to completion.
pub async fn run(mut socket: WebSocket, state: AppState, origin: Option<String>) {
    let caller = match authenticate(&mut socket, &state, origin.as_deref()).await {
        Ok(caller) => caller,
        Err((code, error)) => {
            let frame = ServerFrame::Error {
                id: None,
                code: error.code(),
                message: error.public_message(),
            };
            let _ = socket.send(WsMessage::Text(frame.to_json().into())).await;
            close(&mut socket, code, "authentication failed").await;
            return;
        }
    };
    let member = match &caller {
        Caller::Staff(s) => Member::Staff {
            tenant_id: s.tenant_id.clone(),
            staff_id: s.staff_id.clone(),
            supervisor: s.is_manager(),
        },
        Caller::Visitor(v) => Member::Visitor {
            tenant_id: v.tenant_id.clone(),
            visitor_id: v.visitor_id.clone(),
        },
    };
    let registration = state.chat.hub().register(member);
    let welcome = ServerFrame::Welcome {
        protocol: PROTOCOL_VERSION,
        principal: principal(&caller),
        heartbeat_ms: state.config.ws_heartbeat_secs.saturating_mul(1000),
    };
    if socket
        .send(WsMessage::Text(welcome.to_json().into()))
        .await
        .is_err()
    {
        return;
    }
    // A staff socket makes its agent present (see `crate::routing`); the guard undoes it when
    // the session ends, however it ends.
    let presence = match &caller {
        Caller::Staff(staff) => {
            let routing = state.chat.routing().clone();
            let guard = PresenceGuard {
                routing: routing.clone(),
                staff: staff.clone(),
            };
            if let Err(error) = routing.staff_connected(staff, registration.id).await {
                error.log();
            }
            Some(guard)
        }
        Caller::Visitor(_) => None,
    };
    let mut session = Session {
        state,
        caller,
        registration,
        conversations: HashMap::new(),
        typing_preview: None,
        pending: FuturesOrdered::new(),
        _presence: presence,
    };
    session.pump(socket).await;
}

/// Why authentication failed, with the close code to use.
type AuthFailure = (u16, AppError);

async fn authenticate(
    socket: &mut WebSocket,
    state: &AppState,
    origin: Option<&str>,
) -> Result<Caller, AuthFailure> {
    let unauthenticated = |e: AppError| (CLOSE_UNAUTHENTICATED, e);
    let first = tokio::time::timeout(AUTH_TIMEOUT, next_text(socket))
        .await
        .map_err(|_| unauthenticated(AppError::Unauthenticated("no auth frame in time")))?
        .ok_or_else(|| unauthenticated(AppError::Unauthenticated("closed before auth")))?;
    let Ok(ClientFrame::Auth { protocol, token }) = ClientFrame::from_json(&first) else {
        return Err(unauthenticated(AppError::Unauthenticated(
            "the first frame must be auth",
        )));
    };
    if protocol != PROTOCOL_VERSION {
        return Err((
            CLOSE_UNSUPPORTED_PROTOCOL,
            AppError::BadRequest(format!("this server speaks protocol {PROTOCOL_VERSION}")),
        ));
    }
    if state.tokens.verify(TokenKind::StaffAccess, &token).is_ok() {
        let staff = state
            .staff_from_token(&token)
            .await
            .map_err(unauthenticated)?;
        return Ok(Caller::Staff(staff));
    }
    let visitor = state
        .visitor_from_token(&token)
        .await
        .map_err(unauthenticated)?;
    state
        .check_visitor_origin(&visitor.tenant_id, origin)
        .await
        .map_err(unauthenticated)?;
    Ok(Caller::Visitor(visitor))
}

/// The next text frame, skipping control frames; `None` when the socket closes or fails.
async fn next_text(socket: &mut WebSocket) -> Option<String> {
    while let Some(Ok(message)) = socket.recv().await {
        match message {
            WsMessage::Text(text) => return Some(text.to_string()),
            WsMessage::Close(_) => return None,
            _ => {}
        }
    }
    None
}

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let _ = socket
        .send(WsMessage::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

fn principal(caller: &Caller) -> Principal {
    match caller {
        Caller::Staff(s) => Principal {
            kind: PrincipalKind::Staff,
            id: s.staff_id.clone(),
            tenant_id: s.tenant_id.clone(),
            name: Some(s.name.clone()),
            role: Some(s.role),
        },
        Caller::Visitor(v) => Principal {
            kind: PrincipalKind::Visitor,
            id: v.visitor_id.clone(),
            tenant_id: v.tenant_id.clone(),
            name: v.name.clone(),
            role: None,
        },
    }
}

/// The writing half of the socket.
type Sink = futures_util::stream::SplitSink<WebSocket, WsMessage>;

type PendingAck = std::pin::Pin<Box<dyn std::future::Future<Output = ServerFrame> + Send>>;

struct Session {
    state: AppState,
    caller: Caller,
    registration: Registration,
    /// Conversations this socket used recently, for permission checks without a database read
    /// per message. Entries older than [`CONVERSATION_CACHE_TTL`] are reloaded.
    conversations: HashMap<String, (Conversation, Instant)>,
    /// Whether the tenant forwards typing previews, and when that was read (visitors only).
    typing_preview: Option<(bool, Instant)>,
    /// Answers to `send` commands, in submission order.
    pending: FuturesOrdered<PendingAck>,
    /// Keeps a staff member present while the socket lives.
    _presence: Option<PresenceGuard>,
}

/// Tells routing that a staff socket closed when dropped.
struct PresenceGuard {
    routing: crate::routing::Routing,
    staff: crate::auth::StaffCaller,
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        self.routing.staff_disconnected(&self.staff);
    }
}

/// A frame to write: a live event from the hub, or an answer to this socket's command.
enum Outgoing {
    Live(String),
    Answer(String),
}

enum Flow {
    Continue,
    Stop,
}

impl Session {
    async fn pump(&mut self, socket: WebSocket) {
        let (mut tx, mut rx) = socket.split();
        let mut shutdown = self.state.shutdown.clone();
        // Heartbeat and idle timeout come from the configuration (`NATTER_WS_*`).
        let period = Duration::from_secs(self.state.config.ws_heartbeat_secs.max(1));
        let idle_timeout = Duration::from_secs(self.state.config.ws_idle_timeout_secs.max(1));
        let mut heartbeat = tokio::time::interval_at(Instant::now() + period, period);
        let mut last_heard = Instant::now();
        let kick = self.registration.kick.clone();
        loop {
            // Answers go out after the live frames already queued for this socket: the writer
            // publishes a message before answering its sender, so a `sent` for seq n must not
            // overtake the `message` frame of seq n-1.
            let outgoing: Option<Outgoing> = tokio::select! {
                incoming = rx.next() => {
                    let Some(Ok(message)) = incoming else { break };
                    last_heard = Instant::now();
                    match message {
                        WsMessage::Text(text) => match self.handle_text(&text, &mut tx).await {
                            (Flow::Continue, reply) => reply.map(|f| Outgoing::Answer(f.to_json())),
                            (Flow::Stop, _) => break,
                        },
                        WsMessage::Binary(_) => Some(Outgoing::Answer(
                            error_frame(None, &AppError::BadRequest("frames must be JSON text".into()))
                                .to_json(),
                        )),
                        WsMessage::Close(_) => break,
                        // Pings are answered by the WebSocket layer; pongs only prove liveness.
                        WsMessage::Ping(_) | WsMessage::Pong(_) => None,
                    }
                }
                Some(frame) = self.pending.next(), if !self.pending.is_empty() => Some(Outgoing::Answer(frame.to_json())),
                Some(frame) = self.registration.rx.recv() => Some(Outgoing::Live(frame.to_string())),
                () = kick.notified() => {
                    let _ = tx.send(close_message(CLOSE_LAGGING, "lagging; reconnect and sync")).await;
                    break;
                }
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() > idle_timeout {
                        metrics::counter!("natter_websocket_reaped_total").increment(1);
                        let _ = tx.send(close_message(CLOSE_IDLE, "idle timeout")).await;
                        break;
                    }
                    if tx.send(WsMessage::Ping(Default::default())).await.is_err() {
                        break;
                    }
                    None
                }
                () = async { let _ = shutdown.wait_for(|stopping| *stopping).await; } => {
                    // Answer what is already being stored, then ask the client to come back.
                    while let Some(frame) = self.pending.next().await {
                        let _ = tx.send(WsMessage::Text(frame.to_json().into())).await;
                    }
                    let frame = ServerFrame::Reconnect {
                        reason: "server restarting".into(),
                        retry_after_ms: 1000,
                    };
                    let _ = tx.send(WsMessage::Text(frame.to_json().into())).await;
                    let _ = tx.send(close_message(CLOSE_SERVICE_RESTART, "server restarting")).await;
                    break;
                }
            };
            if let Some(outgoing) = outgoing
                && self.write_coalesced(&mut tx, outgoing).await.is_err()
            {
                break;
            }
        }
        // Messages already queued for storage are still stored (the writer does not depend on
        // this socket); only their answers are lost, and the client resends with the same
        // client_id, which is acknowledged with the same seq.
    }

    /// Writes `outgoing` together with every live frame already queued for this socket (a live
    /// frame first, in queue order; an answer after them), then flushes once: under load, many
    /// frames leave in one write instead of one system call each.
    async fn write_coalesced(
        &mut self,
        tx: &mut Sink,
        outgoing: Outgoing,
    ) -> Result<(), axum::Error> {
        let answer = match outgoing {
            Outgoing::Live(text) => {
                tx.feed(WsMessage::Text(text.into())).await?;
                None
            }
            Outgoing::Answer(text) => Some(text),
        };
        while let Ok(queued) = self.registration.rx.try_recv() {
            tx.feed(WsMessage::Text(queued.to_string().into())).await?;
        }
        if let Some(text) = answer {
            tx.feed(WsMessage::Text(text.into())).await?;
        }
        tx.flush().await
    }

    /// Handles one client frame; returns whether to go on and an immediate answer, if any.
    async fn handle_text(&mut self, text: &str, tx: &mut Sink) -> (Flow, Option<ServerFrame>) {
        let frame = match ClientFrame::from_json(text) {
            Ok(frame) => frame,
            Err(e) => {
                return (
                    Flow::Continue,
                    Some(error_frame(
                        request_id_of(text),
                        &AppError::BadRequest(e.to_string()),
                    )),
                );
            }
        };
        match frame {
            ClientFrame::Auth { .. } => (
                Flow::Continue,
                Some(error_frame(
                    None,
                    &AppError::BadRequest("already authenticated".into()),
                )),
            ),
            ClientFrame::Send {
                id,
                conversation_id,
                client_id,
                text,
            } => {
                let answer = match self.submit(&conversation_id, &client_id, &text).await {
                    Ok(pending) => {
                        self.pending.push_back(Box::pin(async move {
                            match pending.finish().await {
                                Ok((message, _)) => ServerFrame::Sent {
                                    id,
                                    message: wire::message(&message),
                                },
                                Err(e) => error_frame(Some(id), &e),
                            }
                        }));
                        None
                    }
                    Err(e) => Some(error_frame(Some(id), &e)),
                };
                (Flow::Continue, answer)
            }
            ClientFrame::Sync { id, cursors } => match self.sync(id, cursors, tx).await {
                Ok(frame) => (Flow::Continue, Some(frame)),
                Err(SyncError::Socket) => (Flow::Stop, None),
                Err(SyncError::App(e)) => (Flow::Continue, Some(error_frame(Some(id), &e))),
            },
            ClientFrame::Typing {
                conversation_id,
                typing,
                preview,
            } => {
                if let Ok(conversation) = self.conversation(&conversation_id, false).await {
                    let author = self.author();
                    // The tenant's setting is only looked up for a visitor's draft.
                    let wants_preview = typing
                        && author.kind == AuthorKind::Visitor
                        && preview.as_deref().is_some_and(|p| !p.is_empty());
                    let enabled = wants_preview && self.typing_preview_enabled().await;
                    let preview = TypingNotice::allowed_preview(
                        author.kind,
                        typing,
                        preview.as_deref(),
                        enabled,
                    );
                    let notice = TypingNotice {
                        tenant_id: conversation.tenant_id.clone(),
                        conversation_id,
                        author_kind: author.kind,
                        author_id: author.id,
                        author_name: author.name,
                        author_role: author.role,
                        typing,
                        preview,
                    };
                    self.state
                        .chat
                        .typing(&conversation, notice, self.registration.id);
                }
                (Flow::Continue, None)
            }
            ClientFrame::Ping { nonce } => (Flow::Continue, Some(ServerFrame::Pong { nonce })),
        }
    }

    async fn submit(
        &mut self,
        conversation_id: &str,
        client_id: &str,
        text: &str,
    ) -> AppResult<PendingPost> {
        self.state.message_limits.check(self.principal_id())?;
        let conversation = self.conversation(conversation_id, false).await?;
        match self
            .state
            .chat
            .submit_post(&self.caller, &conversation, client_id, text)
            .await
        {
            // A refusal may come from a stale cached copy (claimed or reopened meanwhile):
            // check once more against the store before refusing.
            Err(AppError::Forbidden(_) | AppError::ConversationClosed) => {
                let fresh = self.conversation(conversation_id, true).await?;
                self.state
                    .chat
                    .submit_post(&self.caller, &fresh, client_id, text)
                    .await
            }
            other => other,
        }
    }

    /// Whether the caller's tenant forwards typing previews, from a cache as short-lived as the
    /// conversation cache: typing frames come several times a second, and an owner turning
    /// previews off takes effect within that delay. A failed look-up forwards nothing.
    async fn typing_preview_enabled(&mut self) -> bool {
        if let Some((enabled, loaded)) = self.typing_preview
            && loaded.elapsed() < CONVERSATION_CACHE_TTL
        {
            return enabled;
        }
        let enabled = match self
            .state
            .stores
            .tenants
            .tenant_by_id(self.caller.tenant_id())
            .await
        {
            Ok(tenant) => tenant.is_some_and(|t| t.typing_preview),
            Err(error) => {
                AppError::from(error).log();
                false
            }
        };
        self.typing_preview = Some((enabled, Instant::now()));
        enabled
    }

    /// A conversation visible to this socket's caller, from the cache when fresh enough.
    async fn conversation(&mut self, id: &str, reload: bool) -> AppResult<Conversation> {
        if !reload
            && let Some((conversation, loaded)) = self.conversations.get(id)
            && loaded.elapsed() < CONVERSATION_CACHE_TTL
        {
            return Ok(conversation.clone());
        }
        let conversation = self.state.chat.conversation(&self.caller, id).await?;
        if self.conversations.len() > 1000 {
            self.conversations.clear();
        }
        self.conversations
            .insert(id.to_owned(), (conversation.clone(), Instant::now()));
        Ok(conversation)
    }

    /// Replays what the client missed, conversation by conversation, then answers `synced`.
    async fn sync(
        &mut self,
        id: RequestId,
        cursors: Vec<Cursor>,
        tx: &mut Sink,
    ) -> Result<ServerFrame, SyncError> {
        if cursors.len() > MAX_SYNC_CURSORS {
            return Err(SyncError::App(AppError::Invalid(format!(
                "at most {MAX_SYNC_CURSORS} cursors per sync"
            ))));
        }
        let mut summaries = Vec::new();
        let mut requested = Vec::with_capacity(cursors.len());
        for cursor in cursors {
            let conversation = self
                .conversation(&cursor.conversation_id, true)
                .await
                .map_err(SyncError::App)?;
            if let Caller::Staff(_) = self.caller {
                self.state.chat.hub().follow(
                    &conversation.tenant_id,
                    self.registration.id,
                    &conversation.id,
                );
            }
            requested.push((conversation, cursor.after_seq));
        }
        for (conversation, after_seq) in &requested {
            let mut after = *after_seq;
            loop {
                let page = self
                    .state
                    .stores
                    .messages
                    .messages_after(&conversation.tenant_id, &conversation.id, after, SYNC_PAGE)
                    .await
                    .map_err(|e| SyncError::App(e.into()))?;
                for message in &page {
                    tx.send(WsMessage::Text(
                        wire::message_frame(message).to_json().into(),
                    ))
                    .await
                    .map_err(|_| SyncError::Socket)?;
                }
                match page.last() {
                    Some(last) if page.len() == SYNC_PAGE => after = last.seq,
                    _ => break,
                }
            }
        }
        match &self.caller {
            // A visitor learns about all of their conversations (for example one an agent
            // started for them, or one continued from another device).
            Caller::Visitor(v) => {
                let filter = ConversationFilter {
                    visitor_id: Some(v.visitor_id.clone()),
                    ..Default::default()
                };
                let own = self
                    .state
                    .stores
                    .conversations
                    .list_conversations(&v.tenant_id, &filter, None, 50)
                    .await
                    .map_err(|e| SyncError::App(e.into()))?;
                // Where each live conversation stands: queued, away or assigned.
                for conversation in own
                    .iter()
                    .filter(|c| c.status != ConversationStatus::Closed)
                {
                    let status = self
                        .state
                        .chat
                        .routing()
                        .status_for_visitor(conversation)
                        .await
                        .map_err(SyncError::App)?;
                    if let Some(frame) = status {
                        tx.send(WsMessage::Text(frame.to_json().into()))
                            .await
                            .map_err(|_| SyncError::Socket)?;
                    }
                }
                summaries.extend(own.iter().map(wire::conversation));
            }
            Caller::Staff(_) => {
                summaries.extend(requested.iter().map(|(c, _)| wire::conversation(c)));
            }
        }
        Ok(ServerFrame::Synced {
            id,
            conversations: summaries,
        })
    }

    fn principal_id(&self) -> &str {
        match &self.caller {
            Caller::Staff(s) => &s.staff_id,
            Caller::Visitor(v) => &v.visitor_id,
        }
    }

    fn author(&self) -> Author {
        match &self.caller {
            Caller::Staff(s) => Author {
                kind: AuthorKind::Staff,
                id: s.staff_id.clone(),
                name: Some(s.name.clone()),
                role: Some(s.role),
            },
            Caller::Visitor(v) => Author {
                kind: AuthorKind::Visitor,
                id: v.visitor_id.clone(),
                name: v.name.clone(),
                role: None,
            },
        }
    }
}

enum SyncError {
    /// The socket's queue is gone.
    Socket,
    /// A typed error to answer with.
    App(AppError),
}

fn error_frame(id: Option<RequestId>, error: &AppError) -> ServerFrame {
    error.log();
    ServerFrame::Error {
        id,
        code: error.code(),
        message: error.public_message(),
    }
}

fn close_message(code: u16, reason: &'static str) -> WsMessage {
    WsMessage::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// The `id` of a frame that failed to decode, if it has a numeric one, so the client can match
/// the error to its command.
fn request_id_of(text: &str) -> Option<RequestId> {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()?
        .get("id")?
        .as_u64()
}
