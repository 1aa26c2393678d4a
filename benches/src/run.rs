//! One benchmark run against one store: start the server child, measure idle sockets on the
//! still fresh server, set up the pairs, then measure throughput, then latency at half that
//! load, and stop the child whatever happened.
//!
//! Idle sockets come first on purpose: later phases leave freed memory in the server's
//! allocator (the agents' argon2 password hashes alone leave hundreds of MiB), which new
//! sockets would reuse, making them look cheaper than they are.

use std::time::Duration;

use anyhow::Context;
use tokio::time::Instant;

use crate::cpu::{CpuSample, CpuUse};
use crate::idle::{self, IdleOutcome};
use crate::load::{self, Pace, Phase, PhaseOutcome};
use crate::server::{BatchStats, MetricsSnapshot, ServerProcess};
use crate::setup::{self, Api};

/// The storage back-end under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// The embedded SQLite store.
    Sqlite,
    /// MongoDB.
    Mongo,
}

impl StoreKind {
    /// Short name for tables and logs.
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Mongo => "mongodb",
        }
    }
}

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Visitor/agent pairs.
    pub pairs: usize,
    /// Unacknowledged messages per client in the throughput phase.
    pub window: usize,
    /// Warm-up before each measurement.
    pub warmup: Duration,
    /// Length of each measurement.
    pub measure: Duration,
    /// Idle sockets to open (0 skips the phase).
    pub idle_sockets: usize,
    /// Load of the latency phase as a fraction of the measured delivered/s (0.5: half load).
    pub latency_load: f64,
    /// The local mongod serving the MongoDB runs, to report its CPU use apart.
    pub mongod_pid: Option<u32>,
}

/// Everything measured against one store; phases that failed are `None` and explained in
/// `problems`.
#[derive(Debug, Clone)]
pub struct StoreRun {
    /// The store.
    pub store: StoreKind,
    /// Pairs.
    pub pairs: usize,
    /// Time to create the accounts, sessions, conversations and claims.
    pub setup_seconds: f64,
    /// Full-load phase.
    pub throughput: Option<PhaseOutcome>,
    /// Group commit during the full-load phase.
    pub throughput_batches: Option<BatchStats>,
    /// CPU use during the full-load measurement.
    pub throughput_cpu: Option<CpuUse>,
    /// Half-load phase.
    pub half_load: Option<PhaseOutcome>,
    /// The latency phase's load as a fraction of the measured throughput.
    pub latency_load: f64,
    /// The rate offered in the half-load phase, messages per second.
    pub half_load_target: f64,
    /// Group commit during the half-load phase.
    pub half_load_batches: Option<BatchStats>,
    /// CPU use during the half-load measurement.
    pub half_load_cpu: Option<CpuUse>,
    /// Idle-socket phase.
    pub idle: Option<IdleOutcome>,
    /// The server's RSS at points of the run, in bytes.
    pub rss_trace: Vec<(&'static str, u64)>,
    /// Server log lines at warn level or above (total, not forwarded).
    pub server_log_lines: (u64, u64),
    /// What went wrong.
    pub problems: Vec<String>,
}

/// Runs every phase against a fresh server on `database_url`.
pub async fn run_store(store: StoreKind, database_url: String, settings: Settings) -> StoreRun {
    let mut run = StoreRun {
        store,
        pairs: settings.pairs,
        setup_seconds: 0.0,
        throughput: None,
        throughput_batches: None,
        throughput_cpu: None,
        half_load: None,
        latency_load: settings.latency_load,
        half_load_target: 0.0,
        half_load_batches: None,
        half_load_cpu: None,
        idle: None,
        rss_trace: Vec::new(),
        server_log_lines: (0, 0),
        problems: Vec::new(),
    };
    let Some(mut server) =
        ServerProcess::spawn_recorded(database_url, store.name(), &mut run.problems).await
    else {
        return run;
    };
    progress(
        store,
        &format!("server pid {} on {}", server.pid, server.addr),
    );
    if let Err(error) = phases(&mut run, &server, settings).await {
        run.problems.push(format!("{error:#}"));
    }
    run.server_log_lines = server.log_line_counts();
    // Stopping waits (SIGTERM, then SIGKILL after 5 s); keep it off the async workers.
    let _ = tokio::task::spawn_blocking(move || server.stop()).await;
    run
}

async fn phases(
    run: &mut StoreRun,
    server: &ServerProcess,
    settings: Settings,
) -> anyhow::Result<()> {
    let store = run.store;
    let api = Api::new(server.http_base())?;
    api.wait_ready(Duration::from_secs(30)).await?;
    trace_rss(run, server, "ready");

    if settings.idle_sockets > 0 {
        progress(
            store,
            &format!("opening {} idle sockets", settings.idle_sockets),
        );
        match idle::measure(server, &api, settings.idle_sockets).await {
            Ok(outcome) => {
                run.idle = Some(outcome);
                trace_rss(run, server, "after idle sockets closed");
            }
            Err(error) => run.problems.push(format!("idle sockets: {error:#}")),
        }
    }

    progress(store, &format!("setting up {} pairs", settings.pairs));
    let started = Instant::now();
    let pairs = setup::set_up_pairs(&api, settings.pairs).await?;
    run.setup_seconds = started.elapsed().as_secs_f64();
    trace_rss(run, server, "after set-up");

    progress(store, &format!("connecting {} clients", settings.pairs * 2));
    let participants = load::connect_pairs(&server.ws_url(), &pairs)
        .await
        .context("connecting the clients")?;
    let clock = Instant::now();

    progress(
        store,
        &format!(
            "throughput: window {}, {:?} warm-up + {:?}",
            settings.window, settings.warmup, settings.measure
        ),
    );
    let before = metrics(&api).await?;
    let phase = Phase::starting_now(
        clock,
        settings.warmup,
        settings.measure,
        Pace::Window(settings.window),
    );
    let database_pid = settings.mongod_pid.filter(|_| store == StoreKind::Mongo);
    let cpu = sample_cpu(server.pid, database_pid, &phase);
    let (participants, throughput) = load::run_phase(participants, phase).await?;
    run.throughput_batches = Some(BatchStats::between(&before, &metrics(&api).await?));
    run.throughput_cpu = cpu.await.ok().flatten();
    trace_rss(run, server, "after full load");
    let target = throughput.delivered_per_sec() * settings.latency_load;
    run.throughput = Some(throughput);

    if target > 0.0 {
        run.half_load_target = target;
        // Every message is delivered to exactly one other client, so the clients together send
        // `target` messages per second.
        let period = Duration::from_secs_f64(participants.len() as f64 / target);
        progress(
            store,
            &format!(
                "{} load: {target:.0} msg/s, one send per {period:?} per client",
                crate::report::percent_label(settings.latency_load)
            ),
        );
        let before = metrics(&api).await?;
        let phase = Phase::starting_now(
            clock,
            settings.warmup,
            settings.measure,
            Pace::Rate {
                period,
                max_in_flight: settings.window.max(64) * 4,
            },
        );
        let cpu = sample_cpu(server.pid, database_pid, &phase);
        let (participants, half_load) = load::run_phase(participants, phase).await?;
        run.half_load_batches = Some(BatchStats::between(&before, &metrics(&api).await?));
        run.half_load_cpu = cpu.await.ok().flatten();
        trace_rss(run, server, "after half load");
        run.half_load = Some(half_load);
        load::disconnect_all(participants).await;
    } else {
        run.problems
            .push("nothing was delivered at full load; skipped the half-load phase".into());
        load::disconnect_all(participants).await;
    }
    Ok(())
}

/// Samples CPU use over the phase's measurement window, in the background.
fn sample_cpu(
    server_pid: u32,
    database_pid: Option<u32>,
    phase: &Phase,
) -> tokio::task::JoinHandle<Option<CpuUse>> {
    let (from, until) = (phase.measure_from, phase.measure_until);
    tokio::spawn(async move {
        tokio::time::sleep_until(from).await;
        let first = CpuSample::now(server_pid, database_pid)?;
        tokio::time::sleep_until(until).await;
        Some(first.until(&CpuSample::now(server_pid, database_pid)?))
    })
}

fn trace_rss(run: &mut StoreRun, server: &ServerProcess, label: &'static str) {
    if let Ok(rss) = server.rss_bytes() {
        run.rss_trace.push((label, rss));
    }
}

async fn metrics(api: &Api) -> anyhow::Result<MetricsSnapshot> {
    Ok(MetricsSnapshot::parse(&api.metrics_text().await?))
}

/// A progress line on stderr.
pub fn progress(store: StoreKind, what: &str) {
    eprintln!("[{}] {what}", store.name());
}
