//! The natter server under test, in its own process so that its memory can be measured apart
//! from the load generator's.
//!
//! The child side is the hidden `server` subcommand ([`run_child`]): it starts
//! `natter_server::serve` on `127.0.0.1:0` with rate limits off, the demo tenant on and a fixed
//! JWT secret, and prints `LISTENING <address>` as its first line on stdout. It stops on SIGTERM,
//! Ctrl-C, or when its stdin closes, which is how it notices that the parent died without
//! cleaning up (even a SIGKILLed parent closes the pipe).
//!
//! The parent side is [`ServerProcess`]: it re-executes the current binary, waits for that line,
//! forwards the child's log lines (warnings and errors only) to stderr, reads the child's RSS and
//! `/metrics`, and stops the child with SIGTERM, falling back to SIGKILL. Dropping a
//! `ServerProcess` kills the child, so error paths leave no orphan behind.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;

/// The JWT secret of every benchmark server (required with MongoDB; the data is throw-away).
pub const JWT_SECRET: &str = "natter-bench-jwt-secret-not-for-production-0123456789";

/// Prefix of the child's first stdout line.
const READY_PREFIX: &str = "LISTENING ";

/// Child log lines forwarded to stderr before the rest are only counted.
const MAX_FORWARDED_LOG_LINES: u64 = 40;

/// Arguments of the hidden `server` subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// `mongodb://...` or the directory of the embedded store.
    #[arg(long)]
    pub database_url: String,
}

/// Runs the server in this (child) process until SIGTERM, Ctrl-C or the end of stdin.
pub fn run_child(args: &ServerArgs) -> anyhow::Result<()> {
    let cli = natter_server::config::Cli::parse_from([
        "natter",
        "--database-url",
        &args.database_url,
        "--bind",
        "127.0.0.1:0",
        "--demo",
        "--rate-limits",
        "false",
        "--jwt-secret",
        JWT_SECRET,
        "--log",
        "warn",
        "--shutdown-grace-secs",
        "2",
    ]);
    let config = cli.config;
    natter_server::telemetry::init_tracing(&config.log, config.log_format);

    // The parent holds our stdin open for as long as it wants us; EOF means it is gone.
    let (stdin_closed_tx, stdin_closed) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
        let _ = stdin_closed_tx.send(());
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.bind).await?;
        // stdout is line-buffered, so the parent sees this line at once.
        println!("{READY_PREFIX}{}", listener.local_addr()?);
        natter_server::serve(config, listener, shutdown_signal(stdin_closed)).await
    });
    // SQLite work runs on the blocking pool; do not wait for it forever.
    runtime.shutdown_timeout(Duration::from_secs(2));
    result
}

/// Completes on SIGTERM, Ctrl-C, or when the parent closes our stdin.
async fn shutdown_signal(stdin_closed: tokio::sync::oneshot::Receiver<()>) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
        _ = stdin_closed => {}
    }
}

/// A running server child. Dropping it kills the child.
pub struct ServerProcess {
    /// `None` once stopped.
    child: Option<Child>,
    /// Process id, for `/proc/<pid>/status`.
    pub pid: u32,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Child log lines that were not forwarded.
    suppressed_log_lines: Arc<AtomicU64>,
    /// Child log lines seen in total (warnings and errors).
    log_lines: Arc<AtomicU64>,
}

impl ServerProcess {
    /// Starts a server off the async runtime; `None` after recording why it could not start
    /// in `problems` (the run then reports that instead of measuring).
    pub async fn spawn_recorded(
        database_url: String,
        label: &'static str,
        problems: &mut Vec<String>,
    ) -> Option<Self> {
        let spawned = tokio::task::spawn_blocking(move || Self::spawn(&database_url, label)).await;
        match spawned {
            Ok(Ok(server)) => Some(server),
            Ok(Err(error)) => {
                problems.push(format!("{error:#}"));
                None
            }
            Err(error) => {
                problems.push(format!("starting the server: {error}"));
                None
            }
        }
    }

    /// Starts `<current exe> server --database-url <url>` and waits (at most 30 s) until it
    /// listens.
    pub fn spawn(database_url: &str, label: &str) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating the benchmark binary")?;
        let mut child = Command::new(exe)
            .args(["server", "--database-url", database_url])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the server process")?;
        let stdout = child.stdout.take();
        let pid = child.id();
        let suppressed_log_lines = Arc::new(AtomicU64::new(0));
        let log_lines = Arc::new(AtomicU64::new(0));
        // From here on, an early return drops `process`, which kills the child.
        let mut process = ServerProcess {
            child: Some(child),
            pid,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            suppressed_log_lines: suppressed_log_lines.clone(),
            log_lines: log_lines.clone(),
        };
        let Some(stdout) = stdout else {
            bail!("the server's stdout was not captured");
        };
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<String>();
        let label = label.to_owned();
        std::thread::spawn(move || {
            let mut ready_tx = Some(ready_tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(address) = line.strip_prefix(READY_PREFIX)
                    && let Some(tx) = ready_tx.take()
                {
                    let _ = tx.send(address.to_owned());
                    continue;
                }
                // Everything else is the server's log (level warn and above).
                if log_lines.fetch_add(1, Ordering::Relaxed) < MAX_FORWARDED_LOG_LINES {
                    eprintln!("[server {label}] {line}");
                } else {
                    suppressed_log_lines.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let address = ready_rx
            .recv_timeout(Duration::from_secs(30))
            .context("the server did not report its address within 30 s")?;
        process.addr = address
            .trim()
            .parse()
            .with_context(|| format!("unexpected server address {address:?}"))?;
        Ok(process)
    }

    /// `http://address`.
    pub fn http_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://address/v1/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/v1/ws", self.addr)
    }

    /// The child's resident set size, from `VmRSS` in `/proc/<pid>/status`.
    pub fn rss_bytes(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .context("reading the server's /proc status")?;
        parse_vm_rss(&status).context("no VmRSS line in /proc/<pid>/status")
    }

    /// Log lines (warn and above) the server wrote so far, and how many were not forwarded.
    pub fn log_line_counts(&self) -> (u64, u64) {
        (
            self.log_lines.load(Ordering::Relaxed),
            self.suppressed_log_lines.load(Ordering::Relaxed),
        )
    }

    /// Asks the child to stop (SIGTERM), waits up to 5 s, then kills it.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        // `kill(1)` rather than libc: the workspace forbids unsafe code.
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("the server did not stop within 5 s of SIGTERM; killing it");
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `VmRSS:   123456 kB` → bytes.
fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Scalar samples of a Prometheus text exposition, by series (name plus labels, as written).
#[derive(Debug, Clone, Default)]
pub struct MetricsSnapshot {
    values: HashMap<String, f64>,
}

impl MetricsSnapshot {
    /// Parses the text format; comments and unparsable lines are skipped.
    pub fn parse(text: &str) -> Self {
        let values = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (series, value) = l.trim().rsplit_once(' ')?;
                Some((series.trim().to_owned(), value.parse().ok()?))
            })
            .collect();
        MetricsSnapshot { values }
    }

    /// A series' value, 0 when absent (counters not incremented yet are not rendered).
    pub fn get(&self, series: &str) -> f64 {
        self.values.get(series).copied().unwrap_or(0.0)
    }
}

/// Mean group-commit batch size and duration between two snapshots of `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchStats {
    /// Batches written.
    pub batches: f64,
    /// Mean messages per batch.
    pub mean_size: f64,
    /// Mean time per `append_batch`, in milliseconds.
    pub mean_ms: f64,
    /// Messages stored (the server's own count).
    pub stored: f64,
    /// Sockets the server kicked for lagging.
    pub lagging_kicks: f64,
}

impl BatchStats {
    /// The difference `after - before`.
    pub fn between(before: &MetricsSnapshot, after: &MetricsSnapshot) -> Self {
        let delta = |series: &str| after.get(series) - before.get(series);
        let batches = delta("natter_message_batch_size_count");
        let per_batch = |sum: f64| if batches > 0.0 { sum / batches } else { 0.0 };
        BatchStats {
            batches,
            mean_size: per_batch(delta("natter_message_batch_size_sum")),
            mean_ms: per_batch(delta("natter_message_batch_seconds_sum")) * 1000.0,
            stored: delta("natter_messages_stored_total"),
            lagging_kicks: delta("natter_websocket_lagging_total"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_is_read_in_bytes() {
        let status = "Name:\tbench\nVmPeak:\t  9000 kB\nVmRSS:\t  1234 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(status), Some(1234 * 1024));
        assert_eq!(parse_vm_rss("Name:\tbench\n"), None);
    }

    #[test]
    fn batch_statistics_are_the_difference_of_two_snapshots() {
        let before = MetricsSnapshot::parse(
            "# TYPE natter_message_batch_size summary\n\
             natter_message_batch_size{quantile=\"0.5\"} 1\n\
             natter_message_batch_size_sum 10\n\
             natter_message_batch_size_count 10\n\
             natter_message_batch_seconds_sum 0.01\n\
             natter_message_batch_seconds_count 10\n",
        );
        let after = MetricsSnapshot::parse(
            "natter_message_batch_size_sum 410\n\
             natter_message_batch_size_count 20\n\
             natter_message_batch_seconds_sum 0.03\n\
             natter_message_batch_seconds_count 20\n\
             natter_messages_stored_total 400\n",
        );
        let stats = BatchStats::between(&before, &after);
        assert_eq!(stats.batches, 10.0);
        assert_eq!(stats.mean_size, 40.0);
        assert!((stats.mean_ms - 2.0).abs() < 1e-9);
        assert_eq!(stats.stored, 400.0);
        assert_eq!(stats.lagging_kicks, 0.0);
    }
}
