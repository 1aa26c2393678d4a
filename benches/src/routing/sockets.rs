//! The agents' staff WebSockets of the end-to-end routing benchmark: raw tokio-tungstenite
//! connections that authenticate and then only read, noting the instant each `conversation`
//! frame assigning a conversation to *this* agent arrives.
//!
//! Connected staff sockets are what makes an agent online (presence follows connections), so
//! these sockets are the agents. They must keep reading: tungstenite answers the server's pings
//! while reading, and a socket whose server-side queue fills up is kicked as lagging. A kicked or
//! failed socket reconnects, as the console does, and the loss is recorded: an assignment sent
//! while it was away is missed, which the checks then report. Every other frame is only counted
//! by type, which shows the fan-out the server does around each assignment (queue lengths and
//! presence go to every staff socket).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt, stream};
use natter_sdk::protocol::{ClientFrame, ConversationStatus, PROTOCOL_VERSION, ServerFrame};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Sockets opened at once.
const OPEN_CONCURRENCY: usize = 100;
/// Time limit for one socket to connect and be welcomed.
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);

/// Frames received by all agent sockets, by kind. Cumulative; take [`FrameCounts`] snapshots.
#[derive(Debug, Default)]
pub struct Counters {
    assigned: AtomicU64,
    other_conversation: AtomicU64,
    queue_length: AtomicU64,
    presence: AtomicU64,
    other: AtomicU64,
    losses: AtomicU64,
    reconnects: AtomicU64,
    /// Sockets connected now (not a cumulative count).
    connected: AtomicU64,
}

impl Counters {
    /// Sockets connected now.
    pub fn connected(&self) -> u64 {
        self.connected.load(Ordering::Relaxed)
    }

    /// The counts now.
    pub fn snapshot(&self) -> FrameCounts {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        FrameCounts {
            assigned: read(&self.assigned),
            other_conversation: read(&self.other_conversation),
            queue_length: read(&self.queue_length),
            presence: read(&self.presence),
            other: read(&self.other),
            losses: read(&self.losses),
            reconnects: read(&self.reconnects),
        }
    }
}

/// Frames received by the agent sockets, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameCounts {
    /// `conversation` frames with status `open` and the receiving agent as assignee.
    pub assigned: u64,
    /// Other `conversation` frames.
    pub other_conversation: u64,
    /// `queue_length` frames.
    pub queue_length: u64,
    /// `presence` frames.
    pub presence: u64,
    /// Everything else.
    pub other: u64,
    /// Connections the server closed (or that failed) before the benchmark stopped them.
    pub losses: u64,
    /// Connections opened again after a loss.
    pub reconnects: u64,
}

impl FrameCounts {
    /// Frames of every kind.
    pub fn total(&self) -> u64 {
        self.assigned + self.other_conversation + self.queue_length + self.presence + self.other
    }

    /// The difference `self - earlier`.
    pub fn since(&self, earlier: &FrameCounts) -> FrameCounts {
        FrameCounts {
            assigned: self.assigned - earlier.assigned,
            other_conversation: self.other_conversation - earlier.other_conversation,
            queue_length: self.queue_length - earlier.queue_length,
            presence: self.presence - earlier.presence,
            other: self.other - earlier.other,
            losses: self.losses - earlier.losses,
            reconnects: self.reconnects - earlier.reconnects,
        }
    }
}

/// One connected agent.
pub struct AgentSocket {
    /// The agent's staff id (from the `welcome` frame).
    pub staff_id: String,
    task: JoinHandle<AgentLog>,
}

/// What one agent socket saw, returned when it stops.
#[derive(Debug, Default)]
pub struct AgentLog {
    /// Conversations assigned to this agent and when each frame arrived.
    pub assigned: Vec<(String, Instant)>,
    /// Each time the connection was lost before the benchmark stopped it: why, and when.
    pub losses: Vec<(String, Instant)>,
    /// Whether the socket was connected when told to stop.
    pub connected_at_end: bool,
}

/// The agents' sockets and their stop switch.
pub struct AgentSockets {
    /// Connected agents, in the order of the tokens given.
    pub agents: Vec<AgentSocket>,
    /// Shared frame counters.
    pub counters: Arc<Counters>,
    stop: watch::Sender<bool>,
}

impl AgentSockets {
    /// Connects one staff socket per token (at most [`OPEN_CONCURRENCY`] at a time); fails if
    /// any does not get its `welcome`.
    pub async fn connect(url: &str, tokens: &[String]) -> anyhow::Result<Self> {
        let counters = Arc::new(Counters::default());
        let (stop, stop_rx) = watch::channel(false);
        let agents: Vec<AgentSocket> = stream::iter(tokens.iter().enumerate())
            .map(|(index, token)| {
                let reader = Reader {
                    url: url.to_owned(),
                    token: token.clone(),
                    index,
                    counters: counters.clone(),
                    stop: stop_rx.clone(),
                };
                reader.start()
            })
            .buffered(OPEN_CONCURRENCY)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<anyhow::Result<_>>()?;
        Ok(AgentSockets {
            agents,
            counters,
            stop,
        })
    }

    /// Closes every socket and returns what each saw, as `(staff_id, log)`.
    pub async fn stop(self) -> Vec<(String, AgentLog)> {
        let _ = self.stop.send(true);
        let mut logs = Vec::with_capacity(self.agents.len());
        for agent in self.agents {
            let log = match tokio::time::timeout(Duration::from_secs(10), agent.task).await {
                Ok(Ok(log)) => log,
                Ok(Err(error)) => AgentLog {
                    losses: vec![(format!("reader task failed: {error}"), Instant::now())],
                    ..AgentLog::default()
                },
                Err(_) => AgentLog {
                    losses: vec![("reader did not stop within 10 s".into(), Instant::now())],
                    ..AgentLog::default()
                },
            };
            logs.push((agent.staff_id, log));
        }
        logs
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One agent's connection, reconnected whenever the server closes it (as a console does when
/// it is kicked for lagging), until the benchmark stops it.
struct Reader {
    url: String,
    token: String,
    /// Position among the agents, to spread reconnections over time.
    index: usize,
    counters: Arc<Counters>,
    stop: watch::Receiver<bool>,
}

impl Reader {
    /// Connects for the first time, then leaves a task reading until `stop`.
    async fn start(self) -> anyhow::Result<AgentSocket> {
        let (ws, staff_id) = open(&self.url, &self.token).await?;
        self.counters.connected.fetch_add(1, Ordering::Relaxed);
        let me = staff_id.clone();
        let task = tokio::spawn(self.run(ws, me));
        Ok(AgentSocket { staff_id, task })
    }

    async fn run(mut self, mut ws: Socket, me: String) -> AgentLog {
        let mut log = AgentLog::default();
        loop {
            let lost = self.read(&mut ws, &me, &mut log).await;
            self.counters.connected.fetch_sub(1, Ordering::Relaxed);
            let Some(reason) = lost else {
                log.connected_at_end = true;
                return log;
            };
            self.counters.losses.fetch_add(1, Ordering::Relaxed);
            log.losses.push((reason, Instant::now()));
            match self.reconnect().await {
                Some(new) => {
                    ws = new;
                    self.counters.connected.fetch_add(1, Ordering::Relaxed);
                }
                None => return log,
            }
        }
    }

    /// Reads until the benchmark stops (`None`) or the connection ends (`Some(reason)`).
    async fn read(&mut self, ws: &mut Socket, me: &str, log: &mut AgentLog) -> Option<String> {
        let mut reason = None;
        loop {
            tokio::select! {
                message = ws.next() => match message {
                    Some(Ok(WsMessage::Text(text))) => {
                        // The arrival instant, before decoding.
                        let at = Instant::now();
                        count(&self.counters, me, text.as_str(), at, log);
                    }
                    Some(Ok(WsMessage::Close(frame))) => {
                        // tungstenite answers the close; the stream ends next.
                        reason = Some(match frame {
                            Some(frame) => {
                                format!("closed by the server: {} {}", u16::from(frame.code), frame.reason)
                            }
                            None => "closed by the server".into(),
                        });
                    }
                    Some(Ok(_)) => {}
                    Some(Err(error)) => return Some(reason.unwrap_or_else(|| format!("{error}"))),
                    None => return Some(reason.unwrap_or_else(|| "connection ended".into())),
                },
                _ = self.stop.changed() => {
                    let _ = ws.close(None).await;
                    return None;
                }
            }
        }
    }

    /// Reconnects after a pause (spread by agent so that a mass kick does not come back all at
    /// once); `None` if the benchmark stopped meanwhile.
    async fn reconnect(&mut self) -> Option<Socket> {
        let mut pause = Duration::from_millis(100 + (self.index % 50) as u64 * 20);
        loop {
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = self.stop.changed() => return None,
            }
            if let Ok((ws, _)) = open(&self.url, &self.token).await {
                self.counters.reconnects.fetch_add(1, Ordering::Relaxed);
                return Some(ws);
            }
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }
}

/// Connects and authenticates; returns the socket and the staff id from `welcome`.
async fn open(url: &str, token: &str) -> anyhow::Result<(Socket, String)> {
    // Small client buffers: tungstenite's default read buffer is 128 KiB per socket.
    let config = WebSocketConfig::default()
        .read_buffer_size(8192)
        .write_buffer_size(0);
    let (mut ws, _) = tokio::time::timeout(
        OPEN_TIMEOUT,
        tokio_tungstenite::connect_async_with_config(url, Some(config), true),
    )
    .await
    .context("connect timed out")?
    .context("connect failed")?;
    let auth = ClientFrame::Auth {
        protocol: PROTOCOL_VERSION,
        token: token.to_owned(),
    };
    ws.send(WsMessage::text(auth.to_json())).await?;
    let deadline = tokio::time::Instant::now() + OPEN_TIMEOUT;
    loop {
        let message = tokio::time::timeout_at(deadline, ws.next())
            .await
            .context("no welcome in time")?;
        match message {
            Some(Ok(WsMessage::Text(text))) => match ServerFrame::from_json(text.as_str())? {
                ServerFrame::Welcome { principal, .. } => return Ok((ws, principal.id)),
                ServerFrame::Error { code, message, .. } => {
                    bail!("refused: {code:?}: {message}")
                }
                _ => {}
            },
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(error.into()),
            None => bail!("closed before welcome"),
        }
    }
}

/// Sorts one frame into the counters; an assignment to `me` is also logged with its instant.
fn count(counters: &Counters, me: &str, text: &str, at: Instant, log: &mut AgentLog) {
    let counter = match ServerFrame::from_json(text) {
        Ok(ServerFrame::Conversation { conversation })
            if conversation.status == ConversationStatus::Open
                && conversation.assignee.as_ref().is_some_and(|a| a.id == me) =>
        {
            log.assigned.push((conversation.id, at));
            &counters.assigned
        }
        Ok(ServerFrame::Conversation { .. }) => &counters.other_conversation,
        Ok(ServerFrame::QueueLength { .. }) => &counters.queue_length,
        Ok(ServerFrame::Presence { .. }) => &counters.presence,
        _ => &counters.other,
    };
    counter.fetch_add(1, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_open_conversation_assigned_to_me_counts_as_my_assignment() {
        let counters = Counters::default();
        let mut log = AgentLog::default();
        let at = Instant::now();
        let frame = |status: &str, assignee: &str| {
            format!(
                r#"{{"type":"conversation","conversation":{{"id":"c1","status":"{status}",
                "contact":{{"visitor_id":"v1"}},"assignee":{{"id":"{assignee}","name":"A"}},
                "last_seq":0,"created_at":1767225600000,
                "last_activity_at":1767225600000}}}}"#
            )
        };
        count(&counters, "a1", &frame("open", "a1"), at, &mut log);
        count(&counters, "a1", &frame("open", "a2"), at, &mut log);
        count(&counters, "a1", &frame("closed", "a1"), at, &mut log);
        count(
            &counters,
            "a1",
            r#"{"type":"queue_length","queues":[{"waiting":3}]}"#,
            at,
            &mut log,
        );
        let counts = counters.snapshot();
        assert_eq!(log.assigned.len(), 1, "{counts:?}");
        assert_eq!(log.assigned[0].0, "c1");
        assert_eq!(counts.assigned, 1);
        assert_eq!(counts.other_conversation, 2);
        assert_eq!(counts.queue_length, 1);
        assert_eq!(counts.total(), 4);
    }
}
