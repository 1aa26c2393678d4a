//! Tests of the client core against an in-memory stand-in for the server.
//!
//! [`FakeServer`] implements just enough of protocol version 1 (auth, idempotent `send`, `sync`
//! replay, `ping`) to exercise the core; it is not the real server. [`Sim`] wires the two together
//! with explicit queues in both directions, so tests (and the property test at the bottom) choose
//! exactly when frames travel, when connections drop and how far the clock moves.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use proptest::prelude::*;

use super::*;
use crate::protocol::{AuthorKind, Contact, ConversationStatus, PrincipalKind};

const HEARTBEAT_MS: u64 = 10_000;

#[test]
fn refusal_texts_match_the_errors_display() {
    for refusal in [TextError::Empty, TextError::TooLong] {
        assert_eq!(refusal_text(refusal), refusal.to_string());
    }
}

fn principal() -> Principal {
    Principal {
        kind: PrincipalKind::Visitor,
        id: "v1".into(),
        tenant_id: "t1".into(),
        name: None,
        role: None,
    }
}

fn welcome() -> ServerFrame {
    ServerFrame::Welcome {
        protocol: PROTOCOL_VERSION,
        principal: principal(),
        heartbeat_ms: HEARTBEAT_MS,
    }
}

fn message(conversation_id: &str, seq: u64, client_id: Option<&str>) -> Message {
    Message {
        id: format!("{conversation_id}-m{seq}"),
        conversation_id: conversation_id.into(),
        seq,
        client_id: client_id.map(Into::into),
        author: Author {
            kind: AuthorKind::Staff,
            id: "s1".into(),
            name: None,
            role: None,
        },
        text: format!("message {seq}"),
        created_at: 0,
    }
}

fn summary(id: &str, last_seq: u64) -> ConversationSummary {
    ConversationSummary {
        id: id.into(),
        status: ConversationStatus::Open,
        contact: Contact {
            visitor_id: "v1".into(),
            external_id: None,
            name: None,
            email: None,
            page_url: None,
            user_agent: None,
            first_seen_at: None,
        },
        assignee: None,
        last_seq,
        last_message_preview: None,
        created_at: 0,
        last_activity_at: 0,
        team: None,
    }
}

/// A core connected at time 0 with `welcome` received and its outputs drained.
fn connected_core(config: ClientConfig) -> ClientCore {
    let mut core = ClientCore::new(config, 99);
    core.set_token("token");
    core.connect_requested(0);
    core.transport_opened(0);
    core.frame_received(0, welcome());
    drain(&mut core);
    core
}

/// Everything the core wants to output right now.
#[derive(Debug, Default)]
struct Outputs {
    actions: Vec<Action>,
    frames: Vec<ClientFrame>,
    events: Vec<ClientEvent>,
}

fn drain(core: &mut ClientCore) -> Outputs {
    let mut out = Outputs::default();
    out.actions
        .extend(std::iter::from_fn(|| core.poll_action()));
    out.frames
        .extend(std::iter::from_fn(|| core.poll_transmit()));
    out.events.extend(std::iter::from_fn(|| core.poll_event()));
    out
}

fn delivered_seqs(events: &[ClientEvent]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Message(m) => Some(m.seq),
            _ => None,
        })
        .collect()
}

fn sent_client_ids(frames: &[ClientFrame]) -> Vec<String> {
    frames
        .iter()
        .filter_map(|f| match f {
            ClientFrame::Send { client_id, .. } => Some(client_id.clone()),
            _ => None,
        })
        .collect()
}

/// An in-memory stand-in for the natter server (protocol version 1), for tests only.
#[derive(Debug, Default)]
struct FakeServer {
    /// Every stored message per conversation, in `seq` order.
    log: BTreeMap<String, Vec<Message>>,
    /// `(conversation_id, client_id)` → `seq`, for idempotent sends.
    stored: BTreeMap<(String, String), u64>,
    open: bool,
    authenticated: bool,
    /// Frames from the client not yet processed.
    inbox: VecDeque<ClientFrame>,
    /// Frames to the client not yet delivered.
    outbox: VecDeque<ServerFrame>,
    /// Close the socket with this code once `outbox` is delivered.
    close_after: Option<u16>,
    /// Refuse this many upcoming sends with `rate_limited`.
    rate_limit_sends: u32,
    /// Tokens the server refuses.
    bad_token: Option<String>,
}

impl FakeServer {
    fn accept(&mut self) {
        self.disconnect();
        self.open = true;
    }

    fn disconnect(&mut self) {
        self.open = false;
        self.authenticated = false;
        self.inbox.clear();
        self.outbox.clear();
        self.close_after = None;
    }

    fn summaries(&self) -> Vec<ConversationSummary> {
        self.log
            .iter()
            .map(|(id, messages)| summary(id, messages.len() as u64))
            .collect()
    }

    /// Stores a message once per client_id; returns it and whether it is new.
    fn store(
        &mut self,
        conversation_id: &str,
        client_id: Option<&str>,
        text: &str,
    ) -> (Message, bool) {
        if let Some(client_id) = client_id
            && let Some(&seq) = self
                .stored
                .get(&(conversation_id.to_owned(), client_id.to_owned()))
        {
            return (self.log[conversation_id][seq as usize - 1].clone(), false);
        }
        let log = self.log.entry(conversation_id.to_owned()).or_default();
        let mut stored = message(conversation_id, log.len() as u64 + 1, client_id);
        stored.text = text.to_owned();
        log.push(stored.clone());
        if let Some(client_id) = client_id {
            self.stored.insert(
                (conversation_id.to_owned(), client_id.to_owned()),
                stored.seq,
            );
        }
        (stored, true)
    }

    /// Someone else writes; pushed to the client only if `push` (otherwise the client learns about
    /// it through a gap or a sync).
    fn other_writes(&mut self, conversation_id: &str, push: bool) {
        let (stored, _) = self.store(conversation_id, None, "from someone else");
        if push && self.authenticated {
            self.outbox
                .push_back(ServerFrame::Message { message: stored });
        }
    }

    /// Processes one frame from the client; false when there was none.
    fn process_one(&mut self) -> bool {
        let Some(frame) = self.inbox.pop_front() else {
            return false;
        };
        if !self.authenticated {
            match frame {
                ClientFrame::Auth { token, .. } if Some(&token) != self.bad_token.as_ref() => {
                    self.authenticated = true;
                    self.outbox.push_back(welcome());
                }
                _ => {
                    self.outbox.push_back(ServerFrame::Error {
                        id: None,
                        code: ErrorCode::Unauthenticated,
                        message: "invalid token".into(),
                    });
                    self.close_after = Some(CLOSE_UNAUTHENTICATED);
                }
            }
            return true;
        }
        match frame {
            ClientFrame::Auth { .. } => {}
            ClientFrame::Send {
                id,
                conversation_id,
                client_id,
                text,
            } => {
                if self.rate_limit_sends > 0 {
                    self.rate_limit_sends -= 1;
                    self.outbox.push_back(ServerFrame::Error {
                        id: Some(id),
                        code: ErrorCode::RateLimited,
                        message: "slow down".into(),
                    });
                } else if conversation_id == "closed" {
                    self.outbox.push_back(ServerFrame::Error {
                        id: Some(id),
                        code: ErrorCode::ConversationClosed,
                        message: "closed".into(),
                    });
                } else {
                    let (stored, new) = self.store(&conversation_id, Some(&client_id), &text);
                    self.outbox.push_back(ServerFrame::Sent {
                        id,
                        message: stored.clone(),
                    });
                    if new {
                        self.outbox
                            .push_back(ServerFrame::Message { message: stored });
                    }
                }
            }
            ClientFrame::Sync { id, cursors } => {
                for cursor in cursors {
                    let replay: Vec<Message> = self
                        .log
                        .get(&cursor.conversation_id)
                        .map(|log| {
                            log.iter()
                                .skip(cursor.after_seq as usize)
                                .cloned()
                                .collect()
                        })
                        .unwrap_or_default();
                    self.outbox.extend(
                        replay
                            .into_iter()
                            .map(|message| ServerFrame::Message { message }),
                    );
                }
                self.outbox.push_back(ServerFrame::Synced {
                    id,
                    conversations: self.summaries(),
                });
            }
            ClientFrame::Typing { .. } => {}
            ClientFrame::Ping { nonce } => self.outbox.push_back(ServerFrame::Pong { nonce }),
        }
        true
    }
}

/// The core and the fake server, with everything the client observed.
struct Sim {
    core: ClientCore,
    server: FakeServer,
    now: u64,
    socket_open: bool,
    /// Delivered seqs per conversation, checked to be contiguous from 1 as they arrive.
    delivered: BTreeMap<String, Vec<u64>>,
    /// client_ids the application queued, in order.
    queued: Vec<String>,
    acked: BTreeSet<String>,
    failed: BTreeSet<String>,
    states: Vec<ConnectionState>,
}

impl Sim {
    fn new(seed: u64) -> Self {
        let mut core = ClientCore::new(ClientConfig::default(), seed);
        core.set_token("token");
        let mut sim = Self {
            core,
            server: FakeServer::default(),
            now: 0,
            socket_open: false,
            delivered: BTreeMap::new(),
            queued: Vec::new(),
            acked: BTreeSet::new(),
            failed: BTreeSet::new(),
            states: Vec::new(),
        };
        sim.core.connect_requested(0);
        sim.drive();
        sim
    }

    /// Carries out the core's actions and collects its frames and events (no server work).
    fn drive(&mut self) {
        loop {
            let mut acted = false;
            while let Some(action) = self.core.poll_action() {
                acted = true;
                match action {
                    Action::Connect => {
                        self.server.accept();
                        self.socket_open = true;
                        self.core.transport_opened(self.now);
                    }
                    Action::Close { .. } => {
                        self.server.disconnect();
                        self.socket_open = false;
                    }
                }
            }
            while let Some(frame) = self.core.poll_transmit() {
                assert!(self.socket_open, "frame {frame:?} queued without a socket");
                self.server.inbox.push_back(frame);
            }
            while let Some(event) = self.core.poll_event() {
                self.record(event);
            }
            if !acted {
                break;
            }
        }
    }

    fn record(&mut self, event: ClientEvent) {
        match event {
            ClientEvent::Message(m) => {
                let seqs = self.delivered.entry(m.conversation_id.clone()).or_default();
                let expected = seqs.last().map_or(1, |last| last + 1);
                assert_eq!(
                    m.seq, expected,
                    "delivered out of order or twice: {seqs:?} then {}",
                    m.seq
                );
                seqs.push(m.seq);
            }
            ClientEvent::Sent { client_id, .. } => {
                assert!(
                    self.acked.insert(client_id.clone()),
                    "{client_id} acknowledged twice"
                );
            }
            ClientEvent::SendFailed { client_id, .. } => {
                assert!(self.failed.insert(client_id));
            }
            ClientEvent::StateChanged(state) => self.states.push(state),
            _ => {}
        }
    }

    fn send(&mut self, conversation_id: &str) -> String {
        let client_id = self
            .core
            .send_message(self.now, conversation_id, "hello")
            .expect("valid text");
        self.queued.push(client_id.clone());
        self.drive();
        client_id
    }

    /// The server processes up to `n` frames.
    fn server_step(&mut self, n: usize) {
        for _ in 0..n {
            if !self.server.process_one() {
                break;
            }
        }
    }

    /// The client receives up to `n` frames (and the close, if the server closes).
    fn client_step(&mut self, n: usize) {
        for _ in 0..n {
            let Some(frame) = self.server.outbox.pop_front() else {
                break;
            };
            self.core.frame_received(self.now, frame);
            self.drive();
        }
        if self.server.outbox.is_empty()
            && let Some(code) = self.server.close_after.take()
        {
            self.server.disconnect();
            self.socket_open = false;
            self.core.transport_closed(
                self.now,
                CloseReason::Closed {
                    code,
                    reason: String::new(),
                },
            );
            self.drive();
        }
    }

    /// Exchanges frames until both directions are quiet.
    fn settle(&mut self) {
        for _ in 0..10_000 {
            if self.server.inbox.is_empty()
                && self.server.outbox.is_empty()
                && self.server.close_after.is_none()
            {
                return;
            }
            self.server_step(usize::MAX);
            self.client_step(usize::MAX);
        }
        panic!("the exchange did not settle");
    }

    /// The network drops the connection.
    fn drop_connection(&mut self) {
        if self.socket_open {
            self.server.disconnect();
            self.socket_open = false;
            self.core
                .transport_closed(self.now, CloseReason::Error("connection reset".into()));
            self.drive();
        }
    }

    /// Moves the clock, firing every timeout on the way.
    fn advance(&mut self, ms: u64) {
        let target = self.now + ms;
        while let Some(at) = self.core.poll_timeout().filter(|&at| at <= target) {
            self.now = self.now.max(at);
            self.core.handle_timeout(self.now);
            self.drive();
        }
        self.now = target;
    }

    /// Reconnects and exchanges frames until nothing is pending any more.
    fn heal(&mut self) {
        for _ in 0..100 {
            self.settle();
            if self.core.state() == ConnectionState::Connected && self.core.pending_len() == 0 {
                return;
            }
            let next = self
                .core
                .poll_timeout()
                .map_or(1000, |at| at.saturating_sub(self.now).max(1));
            self.advance(next);
        }
        panic!(
            "did not heal: {:?}, {} pending",
            self.core.state(),
            self.core.pending_len()
        );
    }

    fn assert_outbox_holds_everything_unacknowledged(&self) {
        let expected: Vec<&String> = self
            .queued
            .iter()
            .filter(|id| !self.acked.contains(*id) && !self.failed.contains(*id))
            .collect();
        let pending: Vec<&String> = self.core.pending().map(|e| &e.client_id).collect();
        assert_eq!(pending, expected, "the outbox lost or reordered an entry");
    }
}

// ----- connection lifecycle -----------------------------------------------------------------

#[test]
fn connecting_authenticates_then_syncs_after_welcome() {
    let mut core = ClientCore::new(ClientConfig::default(), 1);
    core.set_token("secret");
    core.connect_requested(5);
    let out = drain(&mut core);
    assert_eq!(out.actions, [Action::Connect]);
    assert_eq!(
        out.events,
        [ClientEvent::StateChanged(ConnectionState::Connecting)]
    );
    assert!(core.wants_connection());

    core.transport_opened(10);
    let out = drain(&mut core);
    assert_eq!(
        out.frames,
        [ClientFrame::Auth {
            protocol: PROTOCOL_VERSION,
            token: "secret".into()
        }]
    );

    core.frame_received(20, welcome());
    let out = drain(&mut core);
    assert_eq!(
        out.frames,
        [ClientFrame::Sync {
            id: 1,
            cursors: vec![]
        }]
    );
    assert_eq!(
        out.events,
        [ClientEvent::StateChanged(ConnectionState::Connected)]
    );
    assert_eq!(core.principal(), Some(&principal()));
}

#[test]
fn without_a_token_connecting_waits_for_one() {
    let mut core = ClientCore::new(ClientConfig::default(), 1);
    core.connect_requested(0);
    assert_eq!(drain(&mut core).actions, []);
    assert_eq!(core.state(), ConnectionState::Idle);
    core.set_token("later");
    assert_eq!(drain(&mut core).actions, [Action::Connect]);
}

#[test]
fn a_handshake_that_takes_too_long_is_abandoned_and_retried() {
    let mut core = ClientCore::new(ClientConfig::default(), 1);
    core.set_token("t");
    core.connect_requested(0);
    core.transport_opened(10);
    drain(&mut core);
    assert_eq!(core.poll_timeout(), Some(10_000));
    core.handle_timeout(10_000);
    let out = drain(&mut core);
    assert!(matches!(out.actions[..], [Action::Close { .. }]));
    assert!(matches!(
        core.state(),
        ConnectionState::Reconnecting { attempt: 1, .. }
    ));
}

#[test]
fn a_close_reported_after_the_core_abandoned_the_socket_is_ignored() {
    let mut core = connected_core(ClientConfig::default());
    core.handle_timeout(3 * HEARTBEAT_MS); // dead: the core closes on its own
    let state = core.state();
    assert!(matches!(
        state,
        ConnectionState::Reconnecting { attempt: 1, .. }
    ));
    drain(&mut core);
    core.transport_closed(3 * HEARTBEAT_MS, CloseReason::Error("late".into()));
    assert_eq!(core.state(), state);
    assert!(drain(&mut core).events.is_empty());
}

#[test]
fn shutdown_closes_the_socket_and_stops_reconnecting() {
    let mut core = connected_core(ClientConfig::default());
    core.shutdown();
    let out = drain(&mut core);
    assert_eq!(
        out.actions,
        [Action::Close {
            code: CLOSE_NORMAL,
            reason: "client shutdown"
        }]
    );
    assert_eq!(core.state(), ConnectionState::Closed);
    assert_eq!(core.poll_timeout(), None);
    core.handle_timeout(1_000_000);
    assert!(drain(&mut core).actions.is_empty());
}

#[test]
fn an_unknown_server_frame_is_ignored() {
    let mut core = connected_core(ClientConfig::default());
    core.frame_received(1, ServerFrame::Unknown);
    let out = drain(&mut core);
    assert!(out.events.is_empty() && out.frames.is_empty() && out.actions.is_empty());
    assert_eq!(core.state(), ConnectionState::Connected);
}

// ----- outbox -------------------------------------------------------------------------------

#[test]
fn reconnect_resends_the_outbox_with_the_same_client_ids_and_in_order() {
    let mut sim = Sim::new(7);
    sim.settle();
    let first = [sim.send("c1"), sim.send("c2"), sim.send("c1")];
    // The connection drops before the server read anything.
    sim.drop_connection();
    let offline = sim.send("c1");
    sim.assert_outbox_holds_everything_unacknowledged();

    sim.advance(ClientConfig::default().backoff_base_ms);
    assert_eq!(sim.core.state(), ConnectionState::Authenticating);
    sim.server_step(1); // auth
    sim.client_step(1); // welcome
    let resent: Vec<ClientFrame> = sim.server.inbox.iter().cloned().collect();
    assert!(
        matches!(resent[0], ClientFrame::Sync { .. }),
        "sync goes first"
    );
    let mut expected = first.to_vec();
    expected.push(offline);
    assert_eq!(sent_client_ids(&resent), expected);

    sim.settle();
    assert_eq!(sim.core.pending_len(), 0);
    assert_eq!(sim.acked.len(), 4);
    assert_eq!(sim.delivered["c1"], [1, 2, 3]);
}

#[test]
fn a_message_stored_before_the_drop_is_acknowledged_once_after_the_resend() {
    let mut sim = Sim::new(8);
    sim.settle();
    let client_id = sim.send("c1");
    sim.server_step(1); // stored, but the ack is lost with the connection
    sim.drop_connection();
    sim.heal();
    assert!(sim.acked.contains(&client_id));
    assert_eq!(sim.server.log["c1"].len(), 1, "stored once");
    assert_eq!(sim.delivered["c1"], [1]);
}

#[test]
fn an_own_message_pushed_before_its_ack_is_reported_sent_once() {
    let mut core = connected_core(ClientConfig::default());
    let client_id = core.send_message(1, "c1", "hi").expect("valid");
    drain(&mut core);
    let stored = message("c1", 1, Some(&client_id));
    core.frame_received(
        2,
        ServerFrame::Message {
            message: stored.clone(),
        },
    );
    core.frame_received(
        3,
        ServerFrame::Sent {
            id: 2,
            message: stored.clone(),
        },
    );
    let out = drain(&mut core);
    assert_eq!(
        out.events,
        [
            ClientEvent::Sent {
                client_id,
                message: stored.clone()
            },
            ClientEvent::Message(stored),
        ]
    );
    assert_eq!(core.pending_len(), 0);
}

#[test]
fn invalid_text_is_refused_before_it_reaches_the_outbox() {
    let mut core = connected_core(ClientConfig::default());
    assert_eq!(core.send_message(1, "c1", "  "), Err(TextError::Empty));
    let long = "x".repeat(crate::protocol::MAX_MESSAGE_CHARS + 1);
    assert_eq!(core.send_message(1, "c1", long), Err(TextError::TooLong));
    assert_eq!(core.pending_len(), 0);
    assert!(drain(&mut core).frames.is_empty());
}

#[test]
fn a_permanent_send_error_drops_the_message_and_reports_it() {
    let mut sim = Sim::new(9);
    sim.settle();
    let client_id = sim.send("closed");
    sim.settle();
    assert!(sim.failed.contains(&client_id));
    assert_eq!(sim.core.pending_len(), 0);
}

#[test]
fn a_transient_send_error_keeps_the_message_and_retries_it_later() {
    let mut sim = Sim::new(10);
    sim.settle();
    sim.server.rate_limit_sends = 1;
    let client_id = sim.send("c1");
    sim.settle();
    assert!(sim.failed.is_empty() && sim.acked.is_empty());
    assert_eq!(
        sim.core.pending().next().map(|e| &e.client_id),
        Some(&client_id)
    );
    // Equal jitter: the retry waits at least half the first retry delay.
    let retry_at = sim.core.poll_timeout().expect("a retry is scheduled");
    assert!(retry_at >= sim.now + ClientConfig::default().retry_base_ms / 2);
    sim.advance(retry_at - sim.now);
    sim.settle();
    assert!(sim.acked.contains(&client_id));
    assert_eq!(sim.core.pending_len(), 0);
}

#[test]
fn the_outbox_survives_an_export_import_round_trip() {
    let mut core = ClientCore::new(ClientConfig::default(), 11);
    let ids = [
        core.send_message(0, "c1", "first").expect("valid"),
        core.send_message(0, "c2", "second").expect("valid"),
    ];
    let saved = serde_json::to_string(&core.export_outbox()).expect("serializable");

    let mut restored = ClientCore::new(ClientConfig::default(), 12);
    let entries: Vec<OutboxEntry> = serde_json::from_str(&saved).expect("deserializable");
    restored.import_outbox(entries.clone());
    restored.import_outbox(entries); // importing twice adds nothing
    assert_eq!(restored.export_outbox(), core.export_outbox());

    restored.set_token("t");
    restored.connect_requested(0);
    restored.transport_opened(0);
    restored.frame_received(0, welcome());
    assert_eq!(sent_client_ids(&drain(&mut restored).frames), ids);
}

#[test]
fn an_imported_entry_with_invalid_text_is_reported_as_failed() {
    let mut core = ClientCore::new(ClientConfig::default(), 11);
    core.import_outbox([OutboxEntry {
        client_id: "x".into(),
        conversation_id: "c1".into(),
        text: String::new(),
    }]);
    assert_eq!(core.pending_len(), 0);
    assert!(matches!(
        drain(&mut core).events[..],
        [ClientEvent::SendFailed {
            code: ErrorCode::EmptyMessage,
            ..
        }]
    ));
}

#[test]
fn request_ids_count_up_per_connection_and_restart_after_a_reconnect() {
    let mut core = connected_core(ClientConfig::default()); // the welcome sync used id 1
    core.send_message(1, "c1", "a").expect("valid");
    core.send_message(1, "c1", "b").expect("valid");
    let ids: Vec<RequestId> = drain(&mut core)
        .frames
        .iter()
        .filter_map(|f| match f {
            ClientFrame::Send { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(ids, [2, 3]);
    core.transport_closed(2, CloseReason::Error("reset".into()));
    core.retry_now(3);
    core.transport_opened(3);
    core.frame_received(3, welcome());
    let frames = drain(&mut core).frames;
    let ids: Vec<RequestId> = frames
        .iter()
        .filter_map(|f| match f {
            ClientFrame::Sync { id, .. } | ClientFrame::Send { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(ids, [1, 2, 3]);
}

// ----- ordering and cursors -----------------------------------------------------------------

#[test]
fn a_message_seen_twice_is_delivered_once() {
    let mut core = connected_core(ClientConfig::default());
    let m1 = message("c1", 1, None);
    core.frame_received(
        1,
        ServerFrame::Message {
            message: m1.clone(),
        },
    );
    core.frame_received(
        2,
        ServerFrame::Message {
            message: m1.clone(),
        },
    );
    let out = drain(&mut core);
    assert_eq!(out.events, [ClientEvent::Message(m1)]);
    assert_eq!(core.cursor("c1"), Some(1));
}

#[test]
fn a_gap_triggers_a_sync_and_nothing_is_delivered_out_of_order() {
    let mut core = connected_core(ClientConfig::default());
    core.frame_received(
        1,
        ServerFrame::Message {
            message: message("c1", 1, None),
        },
    );
    core.frame_received(
        2,
        ServerFrame::Message {
            message: message("c1", 3, None),
        },
    );
    core.frame_received(
        3,
        ServerFrame::Message {
            message: message("c1", 4, None),
        },
    );
    let out = drain(&mut core);
    assert_eq!(delivered_seqs(&out.events), [1]);
    // One sync for the gap, not one per message behind it.
    assert_eq!(
        out.frames,
        [ClientFrame::Sync {
            id: 2,
            cursors: vec![Cursor {
                conversation_id: "c1".into(),
                after_seq: 1
            }]
        }]
    );
    // The replay overlaps what is buffered; everything comes out once and in order.
    for seq in 2..=4 {
        core.frame_received(
            4,
            ServerFrame::Message {
                message: message("c1", seq, None),
            },
        );
    }
    core.frame_received(
        5,
        ServerFrame::Synced {
            id: 2,
            conversations: vec![summary("c1", 4)],
        },
    );
    let out = drain(&mut core);
    assert_eq!(delivered_seqs(&out.events), [2, 3, 4]);
    assert!(out.frames.is_empty());
    assert_eq!(core.cursor("c1"), Some(4));
}

#[test]
fn a_gap_the_server_never_fills_is_given_up_after_a_few_syncs() {
    let mut core = connected_core(ClientConfig::default());
    core.frame_received(
        1,
        ServerFrame::Message {
            message: message("c1", 5, None),
        },
    );
    let mut syncs = 0;
    let mut errors = 0;
    for _ in 0..10 {
        let out = drain(&mut core);
        errors += out
            .events
            .iter()
            .filter(|e| matches!(e, ClientEvent::Error { .. }))
            .count();
        let Some(ClientFrame::Sync { id, .. }) = out.frames.first().cloned() else {
            break;
        };
        syncs += 1;
        core.frame_received(
            2,
            ServerFrame::Synced {
                id,
                conversations: vec![],
            },
        );
    }
    assert_eq!(syncs, 3);
    assert_eq!(errors, 1);
    assert_eq!(core.cursor("c1"), Some(0), "nothing was skipped");
}

#[test]
fn a_restored_cursor_is_used_for_the_resume_sync_and_never_moves_back() {
    let mut core = ClientCore::new(ClientConfig::default(), 1);
    core.set_cursor("c1", 41);
    core.set_cursor("c1", 7);
    assert_eq!(core.cursor("c1"), Some(41));
    core.set_token("t");
    core.connect_requested(0);
    core.transport_opened(0);
    core.frame_received(0, welcome());
    assert_eq!(
        drain(&mut core).frames[1..],
        [ClientFrame::Sync {
            id: 1,
            cursors: vec![Cursor {
                conversation_id: "c1".into(),
                after_seq: 41
            }]
        }]
    );
    core.frame_received(
        1,
        ServerFrame::Message {
            message: message("c1", 41, None),
        },
    );
    assert!(delivered_seqs(&drain(&mut core).events).is_empty());
}

#[test]
fn raising_a_cursor_releases_buffered_messages_behind_it() {
    let mut core = connected_core(ClientConfig::default());
    core.frame_received(
        1,
        ServerFrame::Message {
            message: message("c1", 3, None),
        },
    );
    drain(&mut core);
    core.set_cursor("c1", 2);
    assert_eq!(delivered_seqs(&drain(&mut core).events), [3]);
}

#[test]
fn replay_history_syncs_a_conversation_the_client_did_not_know_from_the_start() {
    let mut core = connected_core(ClientConfig::default());
    core.frame_received(
        1,
        ServerFrame::Synced {
            id: 1,
            conversations: vec![summary("c9", 3)],
        },
    );
    let out = drain(&mut core);
    assert!(matches!(out.events[..], [ClientEvent::ConversationList(_)]));
    assert_eq!(
        out.frames,
        [ClientFrame::Sync {
            id: 2,
            cursors: vec![Cursor {
                conversation_id: "c9".into(),
                after_seq: 0
            }]
        }]
    );
}

#[test]
fn live_only_history_starts_where_the_client_first_hears_of_a_conversation() {
    let config = ClientConfig {
        history: HistoryPolicy::LiveOnly,
        ..ClientConfig::default()
    };
    let mut core = connected_core(config);
    core.frame_received(
        1,
        ServerFrame::Synced {
            id: 1,
            conversations: vec![summary("c9", 30)],
        },
    );
    core.frame_received(
        2,
        ServerFrame::Message {
            message: message("c7", 12, None),
        },
    );
    core.frame_received(
        3,
        ServerFrame::Message {
            message: message("c9", 31, None),
        },
    );
    let out = drain(&mut core);
    assert_eq!(delivered_seqs(&out.events), [12, 31]);
    assert!(out.frames.is_empty(), "no history is fetched");
}

#[test]
fn a_resume_sync_is_split_to_respect_the_servers_cursor_limit() {
    let mut core = ClientCore::new(ClientConfig::default(), 1);
    for i in 0..(MAX_SYNC_CURSORS + 1) {
        core.set_cursor(&format!("c{i:03}"), 1);
    }
    core.set_token("t");
    core.connect_requested(0);
    core.transport_opened(0);
    core.frame_received(0, welcome());
    let sizes: Vec<usize> = drain(&mut core)
        .frames
        .iter()
        .filter_map(|f| match f {
            ClientFrame::Sync { cursors, .. } => Some(cursors.len()),
            _ => None,
        })
        .collect();
    assert_eq!(sizes, [MAX_SYNC_CURSORS, 1]);
}

#[test]
fn a_sync_refused_for_one_invisible_conversation_is_retried_per_conversation_and_it_is_forgotten() {
    let mut core = ClientCore::new(ClientConfig::default(), 1);
    core.set_cursor("gone", 3);
    core.set_cursor("kept", 5);
    core.set_token("t");
    core.connect_requested(0);
    core.transport_opened(0);
    core.frame_received(0, welcome());
    drain(&mut core);
    let not_found = |id| ServerFrame::Error {
        id: Some(id),
        code: ErrorCode::NotFound,
        message: "no such conversation".into(),
    };
    core.frame_received(1, not_found(1));
    let frames = drain(&mut core).frames;
    let singles: Vec<(RequestId, String)> = frames
        .iter()
        .filter_map(|f| match f {
            ClientFrame::Sync { id, cursors } if cursors.len() == 1 => {
                Some((*id, cursors[0].conversation_id.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(singles, [(2, "gone".to_owned()), (3, "kept".to_owned())]);
    core.frame_received(2, not_found(2));
    core.frame_received(
        2,
        ServerFrame::Synced {
            id: 3,
            conversations: vec![summary("kept", 5)],
        },
    );
    assert!(matches!(
        drain(&mut core).events[..],
        [
            ClientEvent::Error {
                code: ErrorCode::NotFound,
                ..
            },
            ClientEvent::ConversationList(_)
        ]
    ));
    assert_eq!(core.cursor("gone"), None);
    assert_eq!(core.cursor("kept"), Some(5));
}

#[test]
fn following_a_conversation_syncs_it_from_the_given_seq() {
    let config = ClientConfig {
        history: HistoryPolicy::LiveOnly,
        ..ClientConfig::default()
    };
    let mut core = connected_core(config);
    core.follow(1, "c4", 17);
    assert_eq!(
        drain(&mut core).frames,
        [ClientFrame::Sync {
            id: 2,
            cursors: vec![Cursor {
                conversation_id: "c4".into(),
                after_seq: 17
            }]
        }]
    );
}

// ----- backoff ------------------------------------------------------------------------------

/// Fails `n` connection attempts in a row and returns each reconnect delay.
fn failed_attempt_delays(core: &mut ClientCore, now: &mut u64, n: usize) -> Vec<(u32, u64)> {
    let mut delays = Vec::new();
    for _ in 0..n {
        core.transport_closed(*now, CloseReason::ConnectFailed("refused".into()));
        let ConnectionState::Reconnecting { attempt, retry_at } = core.state() else {
            panic!("not reconnecting: {:?}", core.state());
        };
        delays.push((attempt, retry_at - *now));
        *now = retry_at;
        core.handle_timeout(*now);
        assert_eq!(core.state(), ConnectionState::Connecting);
        drain(core);
    }
    delays
}

#[test]
fn backoff_grows_is_jittered_within_bounds_and_caps() {
    let config = ClientConfig::default();
    let ceiling =
        |attempt: u32| (config.backoff_base_ms << (attempt - 1).min(20)).min(config.backoff_max_ms);
    let mut schedules = Vec::new();
    for seed in 0..50 {
        let mut core = ClientCore::new(config.clone(), seed);
        core.set_token("t");
        core.connect_requested(0);
        let mut now = 0;
        let delays = failed_attempt_delays(&mut core, &mut now, 12);
        for (i, &(attempt, delay)) in delays.iter().enumerate() {
            assert_eq!(attempt as usize, i + 1);
            assert!(delay <= ceiling(attempt), "attempt {attempt}: {delay} ms");
        }
        schedules.push(delays);
    }
    // Grows: averaged over seeds, later attempts wait longer, up to the cap.
    let mean = |i: usize| schedules.iter().map(|s| s[i].1).sum::<u64>() / schedules.len() as u64;
    assert!(mean(0) < mean(2) && mean(2) < mean(4) && mean(4) < mean(6));
    assert!(mean(11) <= config.backoff_max_ms && mean(11) > config.backoff_max_ms / 4);
    // Jittered: clients with different seeds do not share a schedule.
    assert!(schedules.windows(2).any(|w| w[0] != w[1]));
}

#[test]
fn backoff_resets_after_a_connection_that_stayed_up() {
    let config = ClientConfig::default();
    let mut core = ClientCore::new(config.clone(), 3);
    core.set_token("t");
    core.connect_requested(0);
    let mut now = 0;
    failed_attempt_delays(&mut core, &mut now, 5);
    // This attempt succeeds and stays up long enough.
    core.transport_opened(now);
    core.frame_received(now, welcome());
    now += config.stable_after_ms;
    core.frame_received(now, ServerFrame::Pong { nonce: 1 });
    core.transport_closed(now, CloseReason::Error("reset".into()));
    let ConnectionState::Reconnecting { attempt, retry_at } = core.state() else {
        panic!("not reconnecting");
    };
    assert_eq!(attempt, 1);
    assert!(retry_at - now <= config.backoff_base_ms);
}

#[test]
fn backoff_keeps_growing_across_connections_that_drop_at_once() {
    let mut core = ClientCore::new(ClientConfig::default(), 3);
    core.set_token("t");
    core.connect_requested(0);
    let mut now = 0;
    failed_attempt_delays(&mut core, &mut now, 3);
    core.transport_opened(now);
    core.frame_received(now, welcome());
    core.transport_closed(now + 100, CloseReason::Error("reset".into()));
    assert!(matches!(
        core.state(),
        ConnectionState::Reconnecting { attempt: 4, .. }
    ));
}

#[test]
fn retry_now_skips_the_wait() {
    let mut core = connected_core(ClientConfig::default());
    core.transport_closed(1, CloseReason::Error("reset".into()));
    drain(&mut core);
    core.retry_now(2);
    assert_eq!(drain(&mut core).actions, [Action::Connect]);
    assert_eq!(core.state(), ConnectionState::Connecting);
}

#[test]
fn a_reconnect_frame_is_honoured_without_counting_a_failure() {
    let mut core = connected_core(ClientConfig::default());
    core.frame_received(
        100,
        ServerFrame::Reconnect {
            reason: "deploy".into(),
            retry_after_ms: 2000,
        },
    );
    let out = drain(&mut core);
    assert!(matches!(out.actions[..], [Action::Close { .. }]));
    let ConnectionState::Reconnecting { attempt, retry_at } = core.state() else {
        panic!("not reconnecting");
    };
    assert_eq!(attempt, 0);
    assert!((2100..=4100).contains(&retry_at), "retry at {retry_at}");
    // The server's close that follows changes nothing.
    core.transport_closed(
        101,
        CloseReason::Closed {
            code: CLOSE_SERVICE_RESTART,
            reason: String::new(),
        },
    );
    assert_eq!(
        core.state(),
        ConnectionState::Reconnecting { attempt, retry_at }
    );
}

// ----- heartbeat ----------------------------------------------------------------------------

#[test]
fn a_ping_is_sent_after_a_heartbeat_interval_without_sending() {
    let mut core = connected_core(ClientConfig::default());
    assert_eq!(core.poll_timeout(), Some(HEARTBEAT_MS));
    core.handle_timeout(HEARTBEAT_MS - 1);
    assert!(drain(&mut core).frames.is_empty());
    core.handle_timeout(HEARTBEAT_MS);
    assert_eq!(drain(&mut core).frames, [ClientFrame::Ping { nonce: 1 }]);
    core.frame_received(HEARTBEAT_MS + 30, ServerFrame::Pong { nonce: 1 });
    assert_eq!(core.poll_timeout(), Some(2 * HEARTBEAT_MS));
    core.handle_timeout(2 * HEARTBEAT_MS);
    assert_eq!(drain(&mut core).frames, [ClientFrame::Ping { nonce: 2 }]);
    assert_eq!(core.state(), ConnectionState::Connected);
}

#[test]
fn a_connection_silent_for_two_heartbeats_is_closed_and_reconnected() {
    let mut core = connected_core(ClientConfig::default());
    core.handle_timeout(HEARTBEAT_MS); // ping, never answered
    drain(&mut core);
    assert_eq!(core.poll_timeout(), Some(2 * HEARTBEAT_MS));
    core.handle_timeout(2 * HEARTBEAT_MS);
    let out = drain(&mut core);
    assert_eq!(
        out.actions,
        [Action::Close {
            code: CLOSE_NORMAL,
            reason: "heartbeat timed out"
        }]
    );
    assert!(matches!(
        core.state(),
        ConnectionState::Reconnecting { attempt: 1, .. }
    ));
}

#[test]
fn a_client_that_keeps_sending_still_pings_a_quiet_server() {
    let mut core = connected_core(ClientConfig::default());
    let mut pinged = false;
    // Typing every 3 s keeps the client "sending", but nothing comes back.
    for t in (3000..HEARTBEAT_MS + 3000).step_by(3000) {
        core.set_typing(t, "c1", true);
        core.handle_timeout(t);
        pinged |= drain(&mut core)
            .frames
            .iter()
            .any(|f| matches!(f, ClientFrame::Ping { .. }));
    }
    assert!(
        pinged,
        "a ping must probe a server that said nothing for a heartbeat"
    );
}

#[test]
fn a_heartbeat_of_zero_disables_pings() {
    let mut core = ClientCore::new(ClientConfig::default(), 1);
    core.set_token("t");
    core.connect_requested(0);
    core.transport_opened(0);
    core.frame_received(
        0,
        ServerFrame::Welcome {
            protocol: PROTOCOL_VERSION,
            principal: principal(),
            heartbeat_ms: 0,
        },
    );
    drain(&mut core);
    assert_eq!(core.poll_timeout(), None);
}

// ----- refusals and errors ------------------------------------------------------------------

#[test]
fn an_auth_refusal_stops_retrying_until_a_new_token_is_set() {
    let mut sim = Sim::new(4);
    sim.server.bad_token = Some("token".into());
    sim.settle();
    assert!(sim.core.is_auth_refused());
    assert_eq!(sim.core.state(), ConnectionState::Idle);
    assert_eq!(sim.core.poll_timeout(), None);
    sim.advance(10 * 60 * 1000);
    assert!(!sim.socket_open, "no reconnect with a refused token");

    sim.core.set_token("fresh");
    sim.drive();
    sim.settle();
    assert_eq!(sim.core.state(), ConnectionState::Connected);
    assert!(!sim.core.is_auth_refused());
}

#[test]
fn an_auth_refusal_is_reported_to_the_ui() {
    let mut core = ClientCore::new(ClientConfig::default(), 1);
    core.set_token("expired");
    core.connect_requested(0);
    core.transport_opened(0);
    drain(&mut core);
    core.frame_received(
        1,
        ServerFrame::Error {
            id: None,
            code: ErrorCode::Unauthenticated,
            message: "token expired".into(),
        },
    );
    let out = drain(&mut core);
    assert!(matches!(out.actions[..], [Action::Close { .. }]));
    assert_eq!(
        out.events,
        [
            ClientEvent::StateChanged(ConnectionState::Idle),
            ClientEvent::AuthRefused {
                code: ErrorCode::Unauthenticated,
                message: "token expired".into()
            }
        ]
    );
}

#[test]
fn a_close_with_the_forbidden_code_is_a_refusal() {
    let mut core = connected_core(ClientConfig::default());
    core.transport_closed(
        1,
        CloseReason::Closed {
            code: CLOSE_FORBIDDEN,
            reason: String::new(),
        },
    );
    assert!(core.is_auth_refused());
    assert!(matches!(
        drain(&mut core).events.last(),
        Some(ClientEvent::AuthRefused {
            code: ErrorCode::Forbidden,
            ..
        })
    ));
}

#[test]
fn a_close_for_an_unsupported_protocol_is_a_refusal() {
    let mut core = ClientCore::new(ClientConfig::default(), 1);
    core.set_token("t");
    core.connect_requested(0);
    core.transport_opened(0);
    core.transport_closed(
        1,
        CloseReason::Closed {
            code: CLOSE_UNSUPPORTED_PROTOCOL,
            reason: "this server speaks protocol 2".into(),
        },
    );
    assert!(core.is_auth_refused());
    assert_eq!(core.poll_timeout(), None);
}

#[test]
fn a_welcome_for_another_protocol_version_is_refused() {
    let mut core = ClientCore::new(ClientConfig::default(), 1);
    core.set_token("t");
    core.connect_requested(0);
    core.transport_opened(0);
    core.frame_received(
        1,
        ServerFrame::Welcome {
            protocol: PROTOCOL_VERSION + 1,
            principal: principal(),
            heartbeat_ms: HEARTBEAT_MS,
        },
    );
    assert!(core.is_auth_refused());
    assert!(matches!(
        drain(&mut core).events.last(),
        Some(ClientEvent::AuthRefused {
            code: ErrorCode::UnsupportedProtocol,
            ..
        })
    ));
}

#[test]
fn a_connection_level_error_that_is_not_a_refusal_only_reports_it() {
    let mut core = connected_core(ClientConfig::default());
    core.frame_received(
        1,
        ServerFrame::Error {
            id: None,
            code: ErrorCode::TooLarge,
            message: "frame too large".into(),
        },
    );
    let out = drain(&mut core);
    assert!(out.actions.is_empty());
    assert!(matches!(
        out.events[..],
        [ClientEvent::Error {
            code: ErrorCode::TooLarge,
            ..
        }]
    ));
    assert!(!core.is_auth_refused());
}

// ----- typing -------------------------------------------------------------------------------

#[test]
fn typing_is_throttled_and_a_stop_is_sent_once() {
    let mut core = connected_core(ClientConfig::default());
    core.set_typing(1, "c1", true);
    core.set_typing(500, "c1", true);
    core.set_typing(3001, "c1", true);
    core.set_typing(3100, "c1", false);
    core.set_typing(3200, "c1", false);
    let typing: Vec<bool> = drain(&mut core)
        .frames
        .iter()
        .filter_map(|f| match f {
            ClientFrame::Typing { typing, .. } => Some(*typing),
            _ => None,
        })
        .collect();
    assert_eq!(typing, [true, true, false]);
}

#[test]
fn typing_while_disconnected_is_dropped() {
    let mut core = ClientCore::new(ClientConfig::default(), 1);
    core.set_typing(1, "c1", true);
    assert!(drain(&mut core).frames.is_empty());
}

/// The typing frames the core wants to send: (typing, preview).
fn typing_frames(core: &mut ClientCore) -> Vec<(bool, Option<String>)> {
    drain(core)
        .frames
        .into_iter()
        .filter_map(|f| match f {
            ClientFrame::Typing {
                typing, preview, ..
            } => Some((typing, preview)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_draft_starts_typing_with_its_preview_at_once() {
    let mut core = connected_core(ClientConfig::default());
    core.set_draft(10, "c1", "Hel");
    assert_eq!(typing_frames(&mut core), [(true, Some("Hel".to_owned()))]);
}

#[test]
fn rapid_draft_changes_are_coalesced_and_the_latest_goes_out_when_the_interval_ends() {
    let mut core = connected_core(ClientConfig::default());
    core.set_draft(10, "c1", "H");
    core.set_draft(100, "c1", "He");
    core.set_draft(200, "c1", "Hello");
    assert_eq!(typing_frames(&mut core), [(true, Some("H".to_owned()))]);
    // The waiting preview is scheduled for the end of the interval...
    assert_eq!(core.poll_timeout(), Some(410));
    core.handle_timeout(409);
    assert!(typing_frames(&mut core).is_empty());
    // ...and sent then, once.
    core.handle_timeout(410);
    assert_eq!(typing_frames(&mut core), [(true, Some("Hello".to_owned()))]);
    core.handle_timeout(900);
    assert!(typing_frames(&mut core).is_empty());
}

#[test]
fn a_draft_changed_back_within_the_interval_sends_nothing_more() {
    let mut core = connected_core(ClientConfig::default());
    core.set_draft(10, "c1", "Hi");
    core.set_draft(50, "c1", "Hi!");
    core.set_draft(90, "c1", "Hi");
    core.handle_timeout(1000);
    assert_eq!(typing_frames(&mut core), [(true, Some("Hi".to_owned()))]);
}

#[test]
fn an_emptied_draft_stops_typing_once() {
    let mut core = connected_core(ClientConfig::default());
    core.set_draft(10, "c1", "Hi");
    core.set_draft(20, "c1", "");
    core.set_draft(30, "c1", "");
    assert_eq!(
        typing_frames(&mut core),
        [(true, Some("Hi".to_owned())), (false, None)]
    );
    // A pending preview is dropped with it.
    core.set_draft(1000, "c1", "a");
    core.set_draft(1100, "c1", "ab");
    core.set_draft(1200, "c1", "");
    core.handle_timeout(5000);
    assert_eq!(
        typing_frames(&mut core),
        [(true, Some("a".to_owned())), (false, None)]
    );
}

#[test]
fn an_unchanged_draft_refreshes_typing_like_set_typing() {
    let mut core = connected_core(ClientConfig::default());
    core.set_draft(10, "c1", "Hi");
    core.set_draft(2000, "c1", "Hi");
    core.set_draft(3010, "c1", "Hi");
    assert_eq!(
        typing_frames(&mut core),
        [(true, Some("Hi".to_owned())), (true, Some("Hi".to_owned()))]
    );
}

#[test]
fn previews_are_cut_to_500_characters_on_a_character_boundary() {
    let mut core = connected_core(ClientConfig::default());
    let long = "é".repeat(600);
    core.set_draft(10, "c1", &long);
    let frames = typing_frames(&mut core);
    let preview = frames[0].1.clone().expect("a preview");
    assert_eq!(preview.chars().count(), 500);
    assert!(long.starts_with(&preview));
}

#[test]
fn drafts_while_disconnected_are_dropped() {
    let mut core = ClientCore::new(ClientConfig::default(), 1);
    core.set_draft(1, "c1", "Hi");
    assert!(drain(&mut core).frames.is_empty());
    assert_eq!(core.poll_timeout(), None);
}

// ----- property ------------------------------------------------------------------------------

/// One step of a chaotic session.
#[derive(Debug, Clone)]
enum Op {
    /// The user sends a message to conversation `c{0}`.
    Send(u8),
    /// Someone else writes in conversation `c{0}`; pushed live or not.
    OtherWrites(u8, bool),
    /// The server reads up to this many frames.
    ServerStep(u8),
    /// The client receives up to this many frames.
    ClientStep(u8),
    /// The server delivers an old message again.
    Duplicate(u8, u8),
    /// The network drops the connection.
    Drop,
    /// The server announces a restart and closes.
    Restart,
    /// The server refuses the next sends with `rate_limited`.
    RateLimit(u8),
    /// Time passes.
    Advance(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..3u8).prop_map(Op::Send),
        2 => (0..3u8, any::<bool>()).prop_map(|(c, push)| Op::OtherWrites(c, push)),
        10 => (1..8u8).prop_map(Op::ServerStep),
        10 => (1..8u8).prop_map(Op::ClientStep),
        1 => (0..3u8, any::<u8>()).prop_map(|(c, i)| Op::Duplicate(c, i)),
        1 => Just(Op::Drop),
        1 => Just(Op::Restart),
        1 => (1..3u8).prop_map(Op::RateLimit),
        // Mostly short pauses; sometimes long enough for heartbeat and handshake timeouts.
        3 => (0..3_000u32).prop_map(Op::Advance),
        1 => (10_000..40_000u32).prop_map(Op::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn chaos_never_delivers_a_seq_twice_or_out_of_order_and_never_loses_the_outbox(
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        let mut sim = Sim::new(seed);
        for op in ops {
            match op {
                Op::Send(c) => {
                    sim.send(&format!("c{c}"));
                }
                Op::OtherWrites(c, push) => sim.server.other_writes(&format!("c{c}"), push),
                Op::ServerStep(n) => sim.server_step(n.into()),
                Op::ClientStep(n) => sim.client_step(n.into()),
                Op::Duplicate(c, i) => {
                    if sim.server.authenticated
                        && let Some(log) = sim.server.log.get(&format!("c{c}"))
                        && !log.is_empty()
                    {
                        let message = log[usize::from(i) % log.len()].clone();
                        sim.server.outbox.push_back(ServerFrame::Message { message });
                    }
                }
                Op::Drop => sim.drop_connection(),
                Op::Restart => {
                    if sim.server.authenticated {
                        sim.server.outbox.push_back(ServerFrame::Reconnect {
                            reason: "deploy".into(),
                            retry_after_ms: 1000,
                        });
                        sim.server.close_after = Some(CLOSE_SERVICE_RESTART);
                    }
                }
                Op::RateLimit(n) => sim.server.rate_limit_sends = n.into(),
                Op::Advance(ms) => sim.advance(ms.into()),
            }
            // Ordering is checked as events arrive (`Sim::record`); the outbox after every step.
            sim.assert_outbox_holds_everything_unacknowledged();
        }

        // Once the network behaves, everything converges.
        sim.server.rate_limit_sends = 0;
        sim.heal();
        sim.core.request_sync(sim.now);
        sim.drive();
        sim.settle();
        sim.assert_outbox_holds_everything_unacknowledged();
        prop_assert_eq!(sim.core.pending_len(), 0);
        prop_assert!(sim.failed.is_empty());
        let all_acked = sim.queued.iter().all(|id| sim.acked.contains(id));
        prop_assert!(all_acked);
        for (conversation_id, log) in &sim.server.log {
            let expected: Vec<u64> = (1..=log.len() as u64).collect();
            prop_assert_eq!(sim.delivered.get(conversation_id), Some(&expected));
        }
    }
}
