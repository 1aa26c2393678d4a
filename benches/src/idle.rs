//! Memory per idle socket: K authenticated visitor WebSockets that do nothing.
//!
//! The sockets are raw tokio-tungstenite connections that send the `auth` frame, wait for
//! `welcome`, and then only read (so that tungstenite answers the server's pings), which keeps
//! the client side light. The server child's RSS is read before the first socket opens and again
//! after all are open and 2 s have passed; the difference divided by K is the cost of one idle
//! socket in the server (session task, hub registration, socket buffers, kernel-side memory is
//! not included in RSS).

use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt, stream};
use natter_sdk::protocol::{ClientFrame, PROTOCOL_VERSION, ServerFrame};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::server::ServerProcess;
use crate::setup::{self, Api};

/// Sockets opened at once.
const OPEN_CONCURRENCY: usize = 200;
/// Time limit for one socket to connect and be welcomed.
const OPEN_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the sockets stay idle before the second RSS reading.
const IDLE_FOR: Duration = Duration::from_secs(2);

/// The result of the idle-socket phase.
#[derive(Debug, Clone, Default)]
pub struct IdleOutcome {
    /// Sockets requested.
    pub requested: usize,
    /// Sockets authenticated and idle at the second reading.
    pub open: usize,
    /// Sockets that failed to open, and the first error.
    pub failed: usize,
    /// The first failure, if any.
    pub first_error: Option<String>,
    /// Server RSS before opening, in bytes.
    pub rss_before: u64,
    /// Server RSS with all sockets open and idle, in bytes.
    pub rss_after: u64,
    /// Time to open the visitor sessions over REST (before the first reading).
    pub sessions_seconds: f64,
    /// Time to open and authenticate all sockets.
    pub open_seconds: f64,
}

impl IdleOutcome {
    /// Server memory per idle socket, in bytes.
    pub fn bytes_per_socket(&self) -> f64 {
        if self.open == 0 {
            return 0.0;
        }
        (self.rss_after as f64 - self.rss_before as f64) / self.open as f64
    }
}

/// The soft limit on open files of this process, from `/proc/self/limits`.
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Opens `k` idle visitor sockets on `server` and measures its RSS before and after.
pub async fn measure(server: &ServerProcess, api: &Api, k: usize) -> anyhow::Result<IdleOutcome> {
    let started = Instant::now();
    let tokens = setup::visitor_tokens(api, k).await?;
    let sessions_seconds = started.elapsed().as_secs_f64();
    // Let the session-creation burst settle before the baseline reading.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = server.rss_bytes()?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let url = server.ws_url();
    let started = Instant::now();
    let results: Vec<anyhow::Result<JoinHandle<()>>> = stream::iter(tokens)
        .map(|token| open_idle(url.clone(), token, stop_rx.clone()))
        .buffer_unordered(OPEN_CONCURRENCY)
        .collect()
        .await;
    let open_seconds = started.elapsed().as_secs_f64();
    let mut sockets = Vec::with_capacity(results.len());
    let mut failed = 0;
    let mut first_error = None;
    for result in results {
        match result {
            Ok(socket) => sockets.push(socket),
            Err(error) => {
                failed += 1;
                first_error.get_or_insert_with(|| format!("{error:#}"));
            }
        }
    }
    tokio::time::sleep(IDLE_FOR).await;
    let rss_after = server.rss_bytes()?;
    let open = sockets.iter().filter(|s| !s.is_finished()).count();
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(
        Duration::from_secs(10),
        futures_util::future::join_all(sockets),
    )
    .await;
    Ok(IdleOutcome {
        requested: k,
        open,
        failed,
        first_error,
        rss_before,
        rss_after,
        sessions_seconds,
        open_seconds,
    })
}

/// Connects, authenticates, and leaves a task reading the socket until `stop`.
async fn open_idle(
    url: String,
    token: String,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<()>> {
    // Small client buffers: tungstenite's default read buffer is 128 KiB per socket.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, _) = tokio::time::timeout(
        OPEN_TIMEOUT,
        tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), true),
    )
    .await
    .context("connect timed out")?
    .context("connect failed")?;
    let auth = ClientFrame::Auth {
        protocol: PROTOCOL_VERSION,
        token,
    };
    ws.send(WsMessage::text(auth.to_json())).await?;
    let deadline = Instant::now() + OPEN_TIMEOUT;
    loop {
        let message = tokio::time::timeout_at(deadline, ws.next())
            .await
            .context("no welcome in time")?;
        match message {
            Some(Ok(WsMessage::Text(text))) => match ServerFrame::from_json(text.as_str())? {
                ServerFrame::Welcome { .. } => break,
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
    Ok(tokio::spawn(async move {
        loop {
            tokio::select! {
                message = ws.next() => {
                    if !matches!(message, Some(Ok(_))) {
                        break;
                    }
                }
                _ = stop.changed() => {
                    let _ = ws.close(None).await;
                    break;
                }
            }
        }
    }))
}
