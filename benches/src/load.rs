//! The load phases, driven through the native SDK client ([`NativeClient`]) exactly as an
//! application would use it.
//!
//! Every visitor and every agent is one [`Participant`] with its own socket and its own task.
//! A phase either keeps a window of unacknowledged messages full ([`Pace::Window`], for
//! throughput) or sends on a fixed schedule ([`Pace::Rate`], for latency at a given load). Each
//! message's text is the sender's send time in nanoseconds since a shared [`Instant`]; senders
//! and receivers live in this one process, so the receiver subtracts it from its own reading of
//! the same monotonic clock.
//!
//! Counting: *delivered* counts messages from the other side that arrived inside the measurement
//! window; *stored* counts acknowledgements (`sent`) that arrived inside it. Latencies are taken
//! for every message sent inside the window, however late it arrives (up to the drain limit), so
//! slow messages are not silently dropped from the percentiles. With [`Pace::Rate`] the send time
//! is the tick's *scheduled* time, so a load generator that falls behind shows up as latency
//! instead of hiding it (no coordinated omission).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use natter_sdk::client::{ClientConfig, ClientEvent, ConnectionState, HistoryPolicy};
use natter_sdk::protocol::AuthorKind;
use natter_sdk::transport::{NativeClient, NativeConfig};
use tokio::sync::mpsc;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::setup::Pair;
use crate::stats::LatencySummary;

/// Once every client's messages are acknowledged, clients keep reading this long for the last
/// deliveries (a message is fanned out before its sender's acknowledgement goes out).
const DRAIN_GRACE: Duration = Duration::from_millis(500);
/// How often a draining client checks whether every client's messages are acknowledged.
const DRAIN_POLL: Duration = Duration::from_millis(20);
/// Time limit for connecting and subscribing one client.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Which end of a conversation a participant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The website visitor.
    Visitor,
    /// The agent who claimed the conversation.
    Agent,
}

impl Side {
    /// The author kind of the other side's messages.
    fn other_author(self) -> AuthorKind {
        match self {
            Side::Visitor => AuthorKind::Staff,
            Side::Agent => AuthorKind::Visitor,
        }
    }
}

/// One connected client and its events.
pub struct Participant {
    client: NativeClient,
    events: mpsc::Receiver<ClientEvent>,
    conversation_id: String,
    side: Side,
}

/// The client settings of every participant. `LiveOnly`: the benchmark wants live messages,
/// never a replay of history (a replay after a reconnect would count as deliveries).
fn native_config() -> NativeConfig {
    NativeConfig {
        client: ClientConfig {
            history: HistoryPolicy::LiveOnly,
            ..ClientConfig::default()
        },
        ..NativeConfig::default()
    }
}

/// Connects a visitor and an agent client per pair and waits until each is authenticated and
/// subscribed to its conversation.
pub async fn connect_pairs(ws_url: &str, pairs: &[Pair]) -> anyhow::Result<Vec<Participant>> {
    let mut participants = Vec::with_capacity(pairs.len() * 2);
    for pair in pairs {
        for (side, token) in [
            (Side::Visitor, &pair.visitor_token),
            (Side::Agent, &pair.agent_token),
        ] {
            let (client, events) = NativeClient::connect(ws_url, token.clone(), native_config())?;
            if side == Side::Agent {
                // Staff sockets receive their assigned conversations anyway; following also
                // makes the core track it from seq 0, and its sync answer tells us when the
                // subscription is in place.
                client.follow(pair.conversation_id.clone(), 0).await?;
            }
            participants.push(Participant {
                client,
                events,
                conversation_id: pair.conversation_id.clone(),
                side,
            });
        }
    }
    futures_util::future::try_join_all(participants.iter_mut().map(Participant::until_ready))
        .await?;
    Ok(participants)
}

/// Shuts every client down (at most 5 s in total).
pub async fn disconnect_all(participants: Vec<Participant>) {
    let shutdowns = participants.iter().map(|p| p.client.shutdown());
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        futures_util::future::join_all(shutdowns),
    )
    .await;
}

impl Participant {
    /// Waits until the socket is authenticated and a `synced` answer listed the conversation.
    async fn until_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .with_context(|| format!("{:?} not ready within {READY_TIMEOUT:?}", self.side))?
                .context("the client stopped while connecting")?;
            match event {
                ClientEvent::ConversationList(list)
                    if list.iter().any(|c| c.id == self.conversation_id) =>
                {
                    return Ok(());
                }
                ClientEvent::AuthRefused { code, message } => {
                    bail!("{:?} refused: {code:?}: {message}", self.side)
                }
                _ => {}
            }
        }
    }

    /// Sends a message stamped `stamp_ns`; returns its `client_id`, or `None` if the client
    /// has stopped.
    async fn send(&self, stamp_ns: u64) -> Option<String> {
        self.client
            .send_message(self.conversation_id.clone(), stamp_ns.to_string())
            .await
            .ok()
    }
}

/// How a phase sends.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    /// Keep this many messages unacknowledged per client.
    Window(usize),
    /// One message per `period` per client, clients staggered evenly over the period; a tick
    /// that finds `max_in_flight` messages unacknowledged is skipped (and counted).
    Rate {
        /// Time between two sends of one client.
        period: Duration,
        /// Bound on unacknowledged messages per client.
        max_in_flight: usize,
    },
}

/// The schedule of one phase.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    /// Origin of the timestamps carried in message texts.
    pub clock: Instant,
    /// Sending starts (warm-up begins).
    pub start: Instant,
    /// Measuring starts.
    pub measure_from: Instant,
    /// Measuring and sending stop.
    pub measure_until: Instant,
    /// Longest wait for acknowledgements after sending stopped.
    pub drain_limit: Duration,
    /// How clients send.
    pub pace: Pace,
}

impl Phase {
    /// A phase starting now: `warmup`, then `measure` of measurement.
    pub fn starting_now(clock: Instant, warmup: Duration, measure: Duration, pace: Pace) -> Self {
        // A short lead lets every task start before the first send is due.
        let start = Instant::now() + Duration::from_millis(100);
        Phase {
            clock,
            start,
            measure_from: start + warmup,
            measure_until: start + warmup + measure,
            drain_limit: Duration::from_secs(5),
            pace,
        }
    }

    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.clock).as_nanos()).unwrap_or(u64::MAX)
    }

    fn in_window(&self, at: Instant) -> bool {
        at >= self.measure_from && at < self.measure_until
    }
}

/// What one client saw in one phase.
#[derive(Debug, Default)]
struct ClientStats {
    sent: u64,
    sent_in_window: u64,
    delivered_in_window: u64,
    stored_in_window: u64,
    /// Send→receive latencies of the other side's messages sent inside the window.
    latencies_ns: Vec<u64>,
    /// Send→acknowledgement latencies of own messages sent inside the window.
    ack_latencies_ns: Vec<u64>,
    /// Stamps of own messages sent inside the window and not yet acknowledged, by client id.
    awaiting_ack: HashMap<String, u64>,
    send_failures: u64,
    reconnects: u64,
    errors: u64,
    skipped_ticks: u64,
    syncs: u64,
    unacknowledged_at_end: u64,
}

/// The result of one phase over all clients.
#[derive(Debug, Clone, Default)]
pub struct PhaseOutcome {
    /// Length of the measurement window.
    pub seconds: f64,
    /// Messages sent in total (warm-up and window).
    pub sent: u64,
    /// Messages sent inside the window.
    pub sent_in_window: u64,
    /// Of those, how many reached the other side before the phase ended.
    pub received_of_window: u64,
    /// Messages from the other side received inside the window.
    pub delivered: u64,
    /// Acknowledgements received inside the window.
    pub stored: u64,
    /// Latency of the messages sent inside the window.
    pub latency: LatencySummary,
    /// Send→acknowledgement (`sent`) latency of the same messages, as their senders saw it.
    pub ack_latency: LatencySummary,
    /// Messages the server refused for good.
    pub send_failures: u64,
    /// Connections lost and re-established by the SDK.
    pub reconnects: u64,
    /// Error events, failed sends and clients that stopped.
    pub errors: u64,
    /// Scheduled sends skipped because too many were unacknowledged.
    pub skipped_ticks: u64,
    /// `synced` answers received. Nothing asks for a sync during a phase, so each one is the
    /// SDK filling a gap: a message arrived before an earlier `seq` of its conversation.
    pub syncs: u64,
    /// Messages still unacknowledged when the phase ended.
    pub unacknowledged: u64,
}

impl PhaseOutcome {
    /// Delivered messages per second.
    pub fn delivered_per_sec(&self) -> f64 {
        self.delivered as f64 / self.seconds
    }

    /// Stored (acknowledged) messages per second.
    pub fn stored_per_sec(&self) -> f64 {
        self.stored as f64 / self.seconds
    }

    /// Messages sent per second inside the window (the offered load).
    pub fn offered_per_sec(&self) -> f64 {
        self.sent_in_window as f64 / self.seconds
    }
}

/// Runs one phase with every participant and hands them back for the next one.
pub async fn run_phase(
    participants: Vec<Participant>,
    phase: Phase,
) -> anyhow::Result<(Vec<Participant>, PhaseOutcome)> {
    let phase = Arc::new(phase);
    let outstanding = Arc::new(AtomicUsize::new(0));
    let of = participants.len();
    let tasks: Vec<_> = participants
        .into_iter()
        .enumerate()
        .map(|(index, p)| tokio::spawn(drive(p, phase.clone(), outstanding.clone(), index, of)))
        .collect();
    let mut participants = Vec::with_capacity(of);
    let mut outcome = PhaseOutcome {
        seconds: (phase.measure_until - phase.measure_from).as_secs_f64(),
        ..PhaseOutcome::default()
    };
    let mut latencies = Vec::new();
    let mut ack_latencies = Vec::new();
    for task in tasks {
        let (participant, stats) = task.await.context("a client task panicked")?;
        participants.push(participant);
        outcome.sent += stats.sent;
        outcome.sent_in_window += stats.sent_in_window;
        outcome.delivered += stats.delivered_in_window;
        outcome.stored += stats.stored_in_window;
        outcome.send_failures += stats.send_failures;
        outcome.reconnects += stats.reconnects;
        outcome.errors += stats.errors;
        outcome.skipped_ticks += stats.skipped_ticks;
        outcome.syncs += stats.syncs;
        outcome.unacknowledged += stats.unacknowledged_at_end;
        latencies.extend(stats.latencies_ns);
        ack_latencies.extend(stats.ack_latencies_ns);
    }
    outcome.received_of_window = latencies.len() as u64;
    outcome.latency = LatencySummary::from_nanos(&mut latencies);
    outcome.ack_latency = LatencySummary::from_nanos(&mut ack_latencies);
    Ok((participants, outcome))
}

/// One client's loop for one phase.
async fn drive(
    mut p: Participant,
    phase: Arc<Phase>,
    outstanding: Arc<AtomicUsize>,
    index: usize,
    of: usize,
) -> (Participant, ClientStats) {
    let mut stats = ClientStats::default();
    let mut in_flight: usize = 0;
    let hard_end = phase.measure_until + phase.drain_limit;
    let mut drained_at: Option<Instant> = None;
    let mut ticker = match phase.pace {
        Pace::Rate { period, .. } => {
            // Stagger clients over one period so that the server sees an even stream.
            let offset = period.mul_f64(index as f64 / of.max(1) as f64);
            let mut ticker = tokio::time::interval_at(phase.start + offset, period);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
            Some(ticker)
        }
        Pace::Window(_) => None,
    };
    tokio::time::sleep_until(phase.start).await;
    let mut alive = true;
    while alive {
        let now = Instant::now();
        let sending = now < phase.measure_until;
        if sending && let Pace::Window(window) = phase.pace {
            while in_flight < window {
                let at = Instant::now();
                let Some(client_id) = p.send(phase.nanos(at)).await else {
                    stats.errors += 1;
                    alive = false;
                    break;
                };
                in_flight += 1;
                outstanding.fetch_add(1, Ordering::Relaxed);
                stats.record_send(&phase, at, client_id);
            }
        }
        if !sending {
            if now >= hard_end {
                break;
            }
            // Wait for every client's messages, not just this one's: the other side's last
            // messages arrive here only after they are stored.
            if outstanding.load(Ordering::Relaxed) == 0 {
                let at = *drained_at.get_or_insert(now);
                if now >= at + DRAIN_GRACE {
                    break;
                }
            }
        }
        let wake = if sending {
            phase.measure_until
        } else {
            // Other clients' acknowledgements do not wake this task; look again soon.
            drained_at
                .map_or(now + DRAIN_POLL, |at| at + DRAIN_GRACE)
                .min(hard_end)
        };
        tokio::select! {
            tick = next_tick(ticker.as_mut()), if sending => {
                let max_in_flight = match phase.pace {
                    Pace::Rate { max_in_flight, .. } => max_in_flight,
                    Pace::Window(window) => window,
                };
                if tick >= phase.measure_until {
                    continue;
                }
                if in_flight >= max_in_flight {
                    stats.skipped_ticks += 1;
                } else if let Some(client_id) = p.send(phase.nanos(tick)).await {
                    in_flight += 1;
                    outstanding.fetch_add(1, Ordering::Relaxed);
                    stats.record_send(&phase, tick, client_id);
                } else {
                    stats.errors += 1;
                    alive = false;
                }
            }
            event = p.events.recv() => match event {
                Some(event) => {
                    let before = in_flight;
                    handle_event(&p, &phase, event, &mut in_flight, &mut stats);
                    outstanding.fetch_sub(before - in_flight, Ordering::Relaxed);
                }
                None => {
                    stats.errors += 1;
                    alive = false;
                }
            },
            () = tokio::time::sleep_until(wake) => {}
        }
    }
    stats.unacknowledged_at_end = in_flight as u64;
    (p, stats)
}

impl ClientStats {
    /// Counts a send made (or scheduled) at `at`.
    fn record_send(&mut self, phase: &Phase, at: Instant, client_id: String) {
        self.sent += 1;
        if phase.in_window(at) {
            self.sent_in_window += 1;
            self.awaiting_ack.insert(client_id, phase.nanos(at));
        }
    }
}

fn handle_event(
    p: &Participant,
    phase: &Phase,
    event: ClientEvent,
    in_flight: &mut usize,
    stats: &mut ClientStats,
) {
    let now = Instant::now();
    match event {
        ClientEvent::Sent { client_id, .. } => {
            *in_flight = in_flight.saturating_sub(1);
            stats.stored_in_window += u64::from(phase.in_window(now));
            if let Some(stamp) = stats.awaiting_ack.remove(&client_id) {
                stats
                    .ack_latencies_ns
                    .push(phase.nanos(now).saturating_sub(stamp));
            }
        }
        ClientEvent::SendFailed { .. } => {
            *in_flight = in_flight.saturating_sub(1);
            stats.send_failures += 1;
        }
        ClientEvent::Message(message) if message.author.kind == p.side.other_author() => {
            let Ok(stamp) = message.text.parse::<u64>() else {
                return;
            };
            // Leftovers of an earlier phase are neither deliveries nor latencies of this one.
            if stamp < phase.nanos(phase.start) {
                return;
            }
            stats.delivered_in_window += u64::from(phase.in_window(now));
            let sent_in_window = stamp >= phase.nanos(phase.measure_from)
                && stamp < phase.nanos(phase.measure_until);
            if sent_in_window {
                stats
                    .latencies_ns
                    .push(phase.nanos(now).saturating_sub(stamp));
            }
        }
        ClientEvent::ConversationList(_) => stats.syncs += 1,
        ClientEvent::StateChanged(ConnectionState::Reconnecting { .. }) => stats.reconnects += 1,
        ClientEvent::Error { .. } | ClientEvent::AuthRefused { .. } => stats.errors += 1,
        _ => {}
    }
}

/// The next tick's scheduled instant, or never without a ticker.
async fn next_tick(ticker: Option<&mut Interval>) -> Instant {
    match ticker {
        Some(ticker) => ticker.tick().await,
        None => std::future::pending().await,
    }
}
