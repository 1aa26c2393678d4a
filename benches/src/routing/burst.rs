//! The end-to-end routing benchmark against one store: A agents online on their staff
//! sockets, then a burst of N arrivals, each timed from its start request to the moment its
//! agent's socket receives the `conversation` frame that assigns it.
//!
//! Steps, against a fresh server child (the demo tenant, rate limits off):
//! 1. as the demo owner, set the tenant's routing to `auto` with `queue` when nobody is free and
//!    the default capacity C, and close the conversations already waiting (the demo tenant's
//!    sample one), so that the A × C places are the burst's alone;
//! 2. create and sign in A agent accounts (two argon2 hashes each: this is most of the set-up);
//! 3. connect one staff socket per agent ([`super::sockets`]), wait until
//!    `GET /v1/routing/agents` shows every one online, and until the sockets have been quiet for
//!    a second (each connection's presence change is broadcast to every staff socket);
//! 4. the burst: N arrivals, `--concurrency` at a time, each a new visitor session and
//!    `POST /v1/conversations`; the instant just before the start request is its send instant;
//! 5. wait until every accepted arrival's assignment has reached a socket (giving up after
//!    [`STALL_LIMIT`] without progress), and read on for [`LATE_FRAMES_GRACE`] to catch any second
//!    assignment;
//! 6. check: every arrival assigned exactly once, to the agent whose socket was told, no agent
//!    above capacity, nothing left waiting (from the sockets and from the REST API).
//!
//! Around the burst the server's `/metrics` (its own time-to-first-assignment and plan-time
//! summaries) and `/proc` (CPU split, RSS) are read.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{StreamExt, stream};
use natter_sdk::protocol::{
    AgentStatus, ConversationSummary, Presence, RoutingPolicy, WhenUnavailable,
};

use super::sockets::{AgentLog, AgentSockets, FrameCounts};
use crate::cpu::{CpuSample, CpuUse};
use crate::run::{StoreKind, progress};
use crate::server::{MetricsSnapshot, ServerProcess};
use crate::setup::Api;
use crate::stats::percentile;

/// Give up waiting for assignments after this long without a new one.
const STALL_LIMIT: Duration = Duration::from_secs(30);
/// After the last expected assignment, keep reading this long for duplicates.
const LATE_FRAMES_GRACE: Duration = Duration::from_secs(1);
/// How long the agents' sockets must be silent before the burst starts.
const QUIET_FOR: Duration = Duration::from_secs(1);
/// How often `/metrics` is read during the burst (see [`scrape`]).
const SCRAPE_EVERY: Duration = Duration::from_millis(100);
/// Longest wait for the agents to show as online, and for the sockets to fall quiet.
const SETTLE_LIMIT: Duration = Duration::from_secs(120);

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct BurstSettings {
    /// Agents (accounts and staff sockets).
    pub agents: usize,
    /// Arrivals in the burst.
    pub arrivals: usize,
    /// The tenant's default capacity.
    pub capacity: u32,
    /// Arrivals in flight at once.
    pub concurrency: usize,
    /// The local mongod, to report its CPU use apart.
    pub mongod_pid: Option<u32>,
}

/// Everything measured against one store; parts that failed are `None` and explained in
/// `problems`.
#[derive(Debug, Clone)]
pub struct BurstRun {
    /// The store.
    pub store: StoreKind,
    /// The settings.
    pub settings: BurstSettings,
    /// Set-up durations.
    pub setup: SetupTimes,
    /// The burst.
    pub burst: Option<BurstOutcome>,
    /// The checks after it.
    pub check: Option<Verification>,
    /// The server's own routing metrics over the burst.
    pub server: Option<ServerRouting>,
    /// CPU use from the first arrival to the last assignment.
    pub cpu: Option<CpuUse>,
    /// The server's RSS at points of the run, in bytes.
    pub rss_trace: Vec<(&'static str, u64)>,
    /// Server log lines at warn level or above (total, not forwarded).
    pub server_log_lines: (u64, u64),
    /// What went wrong.
    pub problems: Vec<String>,
}

/// How long each set-up step took, in seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct SetupTimes {
    /// Conversations waiting before the run (closed by the set-up).
    pub closed_before: usize,
    /// Creating and signing in the agents.
    pub accounts: f64,
    /// Connecting their sockets.
    pub sockets: f64,
    /// From the last socket connected until every agent shows online.
    pub online: f64,
    /// Until the sockets fell quiet.
    pub quiet: f64,
    /// Frames each agent socket received during the set-up (mostly colleagues' presence).
    pub frames_per_socket: f64,
    /// Agent connections the server closed during the set-up (each reconnected).
    pub losses: u64,
}

/// The burst.
#[derive(Debug, Clone, Default)]
pub struct BurstOutcome {
    /// Arrivals whose start request succeeded.
    pub accepted: usize,
    /// Arrivals that failed.
    pub failed: usize,
    /// The first failure.
    pub first_error: Option<String>,
    /// From the first arrival's first request to the last start answered.
    pub burst: Duration,
    /// Accepted arrivals whose assignment reached an agent socket.
    pub assigned: usize,
    /// From the first start request to the last assignment received.
    pub assignment_span: Duration,
    /// Start request → assignment frame, per assigned arrival, in nanoseconds (sorted).
    pub time_to_assignment: Vec<u64>,
    /// Start request → its HTTP answer, in nanoseconds (sorted).
    pub start_answer: Vec<u64>,
    /// Assignment frames that arrived before the start request was answered.
    pub assigned_before_answer: usize,
    /// Frames the agent sockets received from the burst's start to the last assignment.
    pub frames: FrameCounts,
    /// Per accepted arrival, seconds since the burst's start: start request sent, answered,
    /// and assignment received (if it was), in the order sent.
    pub timeline: Vec<(f64, f64, Option<f64>)>,
}

impl BurstOutcome {
    /// Accepted arrivals per second of the burst.
    pub fn arrivals_per_sec(&self) -> f64 {
        per_sec(self.accepted, self.burst)
    }

    /// Assignments per second, first start request to last assignment (end-to-end decisions/s).
    pub fn assignments_per_sec(&self) -> f64 {
        per_sec(self.assigned, self.assignment_span)
    }

    /// Percentile `p` of the time to assignment.
    pub fn tta(&self, p: f64) -> Duration {
        Duration::from_nanos(percentile(&self.time_to_assignment, p))
    }

    /// Percentile `p` of the start request's answer time.
    pub fn answer(&self, p: f64) -> Duration {
        Duration::from_nanos(percentile(&self.start_answer, p))
    }
}

/// The checks after the burst. Every count but `load_sum` and `max_load` should be 0.
#[derive(Debug, Clone, Default)]
pub struct Verification {
    /// Arrivals whose assignment no socket received.
    pub never_assigned: usize,
    /// Arrivals that more than one agent (or one agent more than once) was told about.
    pub assigned_twice: usize,
    /// Assignment frames for conversations the burst did not start.
    pub unexpected: usize,
    /// Arrivals still waiting according to the API.
    pub still_waiting: usize,
    /// Arrivals not open with the agent whose socket was told, according to the API.
    pub api_disagrees: usize,
    /// Sum of the agents' loads (API).
    pub load_sum: u64,
    /// Highest load of one agent (API).
    pub max_load: u32,
    /// Agents above capacity (API).
    pub over_capacity: usize,
    /// Agents whose load (API) differs from the assignments their socket received.
    pub load_mismatch: usize,
    /// Agents no longer online at the end.
    pub not_online: usize,
    /// Agent connections lost (and reconnected) from the burst's start to the end: each may
    /// have missed assignments.
    pub losses_during: usize,
    /// Agents not connected at the end.
    pub not_connected: usize,
    /// Why connections were lost (set-up included), with how many each.
    pub loss_reasons: Vec<(String, usize)>,
    /// Fewest and most conversations one agent received.
    pub spread: (usize, usize),
}

impl Verification {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.never_assigned == 0
            && self.assigned_twice == 0
            && self.unexpected == 0
            && self.still_waiting == 0
            && self.api_disagrees == 0
            && self.over_capacity == 0
            && self.load_mismatch == 0
            && self.not_online == 0
            && self.losses_during == 0
            && self.not_connected == 0
    }
}

/// The server's routing metrics over the burst (from `/metrics`).
#[derive(Debug, Clone, Default)]
pub struct ServerRouting {
    /// `natter_routing_time_to_first_assignment_seconds`: samples recorded.
    pub ttfa_count: f64,
    /// Mean, in seconds.
    pub ttfa_mean: f64,
    /// p50, p90, p99, max (the exporter's sliding window), in seconds.
    pub ttfa_quantiles: [f64; 4],
    /// `natter_routing_plan_seconds`: plans made (dispatch rounds that planned).
    pub plans: f64,
    /// Mean plan time, in seconds.
    pub plan_mean: f64,
    /// p50, p99, max plan time, in seconds.
    pub plan_quantiles: [f64; 3],
    /// `natter_routing_assignments_total{how="auto"}`.
    pub assignments: f64,
    /// `natter_routing_lost_races_total`.
    pub lost_races: f64,
    /// Times `/metrics` was read from the burst's start to this reading.
    pub scrapes: u64,
    /// Sockets kicked for lagging (`natter_websocket_lagging_total`) before the burst.
    pub lagging_before: f64,
    /// And during it.
    pub lagging: f64,
}

impl ServerRouting {
    fn between(before: &MetricsSnapshot, after: &MetricsSnapshot) -> Self {
        let delta = |series: &str| after.get(series) - before.get(series);
        let quantile = |name: &str, q: &str| after.get(&format!("{name}{{quantile=\"{q}\"}}"));
        let ttfa = "natter_routing_time_to_first_assignment_seconds";
        let plan = "natter_routing_plan_seconds";
        let ttfa_count = delta(&format!("{ttfa}_count"));
        let plans = delta(&format!("{plan}_count"));
        let mean = |sum: f64, count: f64| if count > 0.0 { sum / count } else { 0.0 };
        ServerRouting {
            ttfa_count,
            ttfa_mean: mean(delta(&format!("{ttfa}_sum")), ttfa_count),
            ttfa_quantiles: [
                quantile(ttfa, "0.5"),
                quantile(ttfa, "0.9"),
                quantile(ttfa, "0.99"),
                quantile(ttfa, "1"),
            ],
            plans,
            plan_mean: mean(delta(&format!("{plan}_sum")), plans),
            plan_quantiles: [
                quantile(plan, "0.5"),
                quantile(plan, "0.99"),
                quantile(plan, "1"),
            ],
            assignments: delta("natter_routing_assignments_total{how=\"auto\"}"),
            lost_races: delta("natter_routing_lost_races_total"),
            scrapes: 1,
            lagging_before: before.get("natter_websocket_lagging_total"),
            lagging: delta("natter_websocket_lagging_total"),
        }
    }
}

/// Runs the end-to-end benchmark against a fresh server on `database_url`.
pub async fn run_store(
    store: StoreKind,
    database_url: String,
    settings: BurstSettings,
) -> BurstRun {
    let mut run = BurstRun {
        store,
        settings,
        setup: SetupTimes::default(),
        burst: None,
        check: None,
        server: None,
        cpu: None,
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
    if let Err(error) = steps(&mut run, &server).await {
        run.problems.push(format!("{error:#}"));
    }
    run.server_log_lines = server.log_line_counts();
    // Stopping waits (SIGTERM, then SIGKILL after 5 s); keep it off the async workers.
    let _ = tokio::task::spawn_blocking(move || server.stop()).await;
    run
}

async fn steps(run: &mut BurstRun, server: &ServerProcess) -> anyhow::Result<()> {
    let (store, settings) = (run.store, run.settings);
    let api = Api::new(server.http_base())?;
    api.wait_ready(Duration::from_secs(30)).await?;
    trace_rss(run, server, "ready");

    // 1. Routing settings, and an empty line.
    let owner = api.owner_token().await?;
    let mut routing = api.routing_settings(&owner).await?;
    routing.policy = RoutingPolicy::Auto;
    routing.when_unavailable = WhenUnavailable::Queue;
    routing.default_capacity = settings.capacity;
    api.put_routing_settings(&owner, &routing)
        .await
        .context("setting the routing settings")?;
    let waiting = api.conversations_with_status(&owner, "unassigned").await?;
    for conversation in &waiting {
        api.close(&owner, &conversation.id)
            .await
            .context("closing a conversation waiting before the run")?;
    }
    run.setup.closed_before = waiting.len();

    // 2. Accounts.
    progress(
        store,
        &format!(
            "creating and signing in {} agents (two password hashes each)",
            settings.agents
        ),
    );
    let started = Instant::now();
    let tokens = crate::setup::create_agents(&api, &owner, settings.agents).await?;
    run.setup.accounts = started.elapsed().as_secs_f64();
    trace_rss(run, server, "after creating the agents");

    // 3. Sockets, presence, quiet.
    progress(store, &format!("connecting {} agent sockets", tokens.len()));
    let started = Instant::now();
    let sockets = AgentSockets::connect(&server.ws_url(), &tokens)
        .await
        .context("connecting the agents' sockets")?;
    run.setup.sockets = started.elapsed().as_secs_f64();
    let ours: HashSet<String> = sockets.agents.iter().map(|a| a.staff_id.clone()).collect();
    let started = Instant::now();
    wait_online(&api, &owner, &ours).await?;
    run.setup.online = started.elapsed().as_secs_f64();
    let started = Instant::now();
    wait_quiet(&sockets).await?;
    run.setup.quiet = started.elapsed().as_secs_f64();
    run.setup.frames_per_socket =
        sockets.counters.snapshot().total() as f64 / sockets.agents.len().max(1) as f64;
    trace_rss(run, server, "agents online");
    let setup_frames = sockets.counters.snapshot();
    run.setup.losses = setup_frames.losses;
    if setup_frames.losses > 0 {
        progress(
            store,
            &format!(
                "the server closed {} agent connections during the set-up; all reconnected",
                setup_frames.losses
            ),
        );
    }

    // 4. The burst, and 5. the wait for its assignments.
    progress(
        store,
        &format!(
            "burst: {} arrivals, {} in flight",
            settings.arrivals, settings.concurrency
        ),
    );
    let before = metrics(&api).await?;
    let frames_before = sockets.counters.snapshot();
    let cpu_before = CpuSample::now(server.pid, settings.mongod_pid);
    let (stop_scraping, scraping_stopped) = tokio::sync::watch::channel(false);
    let scraper = tokio::spawn(scrape(api.clone(), scraping_stopped));
    let burst_started = Instant::now();
    let arrivals = fire(&api, settings).await;
    let answered_at = Instant::now();
    let accepted = arrivals.iter().filter(|a| a.is_ok()).count() as u64;
    progress(
        store,
        &format!(
            "{accepted} arrivals accepted in {:.2} s; waiting for their assignments",
            (answered_at - burst_started).as_secs_f64()
        ),
    );
    let stalled = wait_assigned(&sockets, frames_before.assigned + accepted).await;
    let cpu_after = CpuSample::now(server.pid, settings.mongod_pid);
    let frames = sockets.counters.snapshot().since(&frames_before);
    let _ = stop_scraping.send(true);
    let scrapes = scraper.await.unwrap_or_default();
    if let Some(waiting) = stalled {
        run.problems.push(format!(
            "{waiting} assignments still missing after {STALL_LIMIT:?} without progress"
        ));
    }
    tokio::time::sleep(LATE_FRAMES_GRACE).await;
    run.cpu = cpu_before.zip(cpu_after).map(|(a, b)| a.until(&b));
    let mut server_routing = ServerRouting::between(&before, &metrics(&api).await?);
    server_routing.scrapes = scrapes + 1;
    run.server = Some(server_routing);
    trace_rss(run, server, "after the burst");

    // 6. Checks, then close the sockets.
    let agents = api.routing_agents(&owner).await?;
    let open = api.conversations_with_status(&owner, "open").await?;
    let unassigned = api.conversations_with_status(&owner, "unassigned").await?;
    let logs = sockets.stop().await;
    let (outcome, check) = evaluate(
        burst_started,
        answered_at,
        arrivals,
        &logs,
        &agents,
        &open,
        &unassigned,
        frames,
    );
    if !check.passed() {
        run.problems
            .push(format!("the checks after the burst failed: {check:?}"));
    }
    run.burst = Some(outcome);
    run.check = Some(check);
    Ok(())
}

/// One accepted arrival.
struct Arrival {
    conversation_id: String,
    sent: Instant,
    answered: Instant,
}

/// Fires the burst: each arrival opens a visitor session and starts a conversation.
async fn fire(api: &Api, settings: BurstSettings) -> Vec<anyhow::Result<Arrival>> {
    stream::iter(0..settings.arrivals)
        .map(|i| {
            let api = api.clone();
            async move {
                let token = api
                    .visitor_session(&format!("Burst visitor {i}"))
                    .await
                    .context("opening a visitor session")?;
                let sent = Instant::now();
                let conversation_id = api.start_conversation(&token).await?;
                Ok(Arrival {
                    conversation_id,
                    sent,
                    answered: Instant::now(),
                })
            }
        })
        .buffer_unordered(settings.concurrency)
        .collect()
        .await
}

/// Reads `/metrics` every [`SCRAPE_EVERY`] until `stop`, as a Prometheus server would; returns
/// how many times.
///
/// Not only for realism: the exporter (metrics-exporter-prometheus 0.17) moves recorded samples
/// into its sliding-window summaries when `/metrics` is read, newest block of 64 first, and its
/// first window starts at the first sample it moves, so samples older than that are counted in
/// `_sum` and `_count` but left out of the quantiles. Read once after a burst, the quantiles
/// would describe only its last 64 assignments; read often, they lose only a few from the first
/// read.
async fn scrape(api: Api, mut stop: tokio::sync::watch::Receiver<bool>) -> u64 {
    let mut scrapes = 0;
    loop {
        tokio::select! {
            _ = stop.changed() => return scrapes,
            () = tokio::time::sleep(SCRAPE_EVERY) => {}
        }
        if api.metrics_text().await.is_ok() {
            scrapes += 1;
        }
    }
}

/// Waits until every agent in `ours` shows as online.
async fn wait_online(api: &Api, owner: &str, ours: &HashSet<String>) -> anyhow::Result<()> {
    let deadline = Instant::now() + SETTLE_LIMIT;
    loop {
        let agents = api.routing_agents(owner).await?;
        let online = agents
            .iter()
            .filter(|a| ours.contains(&a.id) && a.presence == Presence::Online)
            .count();
        if online == ours.len() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "only {online} of {} agents were online after {SETTLE_LIMIT:?}",
                ours.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits until every agent's socket is connected and all have received nothing for
/// [`QUIET_FOR`].
async fn wait_quiet(sockets: &AgentSockets) -> anyhow::Result<()> {
    let deadline = Instant::now() + SETTLE_LIMIT;
    let all = sockets.agents.len() as u64;
    let mut last = sockets.counters.snapshot().total();
    let mut quiet_since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = sockets.counters.snapshot().total();
        if now != last || sockets.counters.connected() < all {
            last = now;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= QUIET_FOR {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("the agents' sockets were still receiving frames after {SETTLE_LIMIT:?}");
        }
    }
}

/// Waits until the sockets have counted `target` assignments; returns how many were missing
/// if it gave up.
async fn wait_assigned(sockets: &AgentSockets, target: u64) -> Option<u64> {
    let mut last = sockets.counters.snapshot().assigned;
    let mut progress_at = Instant::now();
    loop {
        if last >= target {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        let now = sockets.counters.snapshot().assigned;
        if now != last {
            last = now;
            progress_at = Instant::now();
        } else if progress_at.elapsed() >= STALL_LIMIT {
            return Some(target - last);
        }
    }
}

/// Joins what the arrivals, the sockets and the API say.
#[allow(clippy::too_many_arguments)]
fn evaluate(
    burst_started: Instant,
    answered_at: Instant,
    arrivals: Vec<anyhow::Result<Arrival>>,
    logs: &[(String, AgentLog)],
    agents: &[AgentStatus],
    open: &[ConversationSummary],
    unassigned: &[ConversationSummary],
    frames: FrameCounts,
) -> (BurstOutcome, Verification) {
    let mut outcome = BurstOutcome {
        frames,
        ..BurstOutcome::default()
    };
    let mut check = Verification::default();
    let mut started: HashMap<String, Arrival> = HashMap::new();
    for arrival in arrivals {
        match arrival {
            Ok(arrival) => {
                started.insert(arrival.conversation_id.clone(), arrival);
            }
            Err(error) => {
                outcome.failed += 1;
                outcome
                    .first_error
                    .get_or_insert_with(|| format!("{error:#}"));
            }
        }
    }
    outcome.accepted = started.len();
    let last_answer = started.values().map(|a| a.answered).max();
    outcome.burst = last_answer.unwrap_or(answered_at) - burst_started;
    outcome.start_answer = started
        .values()
        .map(|a| nanos(a.answered - a.sent))
        .collect();
    outcome.start_answer.sort_unstable();

    // Who was told about what.
    let mut told: HashMap<&str, Vec<(&str, Instant)>> = HashMap::new();
    let mut received: HashMap<&str, usize> = HashMap::new();
    let mut reasons: HashMap<&str, usize> = HashMap::new();
    for (staff_id, log) in logs {
        for (reason, at) in &log.losses {
            *reasons.entry(reason.as_str()).or_default() += 1;
            if *at >= burst_started {
                check.losses_during += 1;
            }
        }
        if !log.connected_at_end {
            check.not_connected += 1;
        }
        received.insert(staff_id, log.assigned.len());
        for (conversation_id, at) in &log.assigned {
            told.entry(conversation_id)
                .or_default()
                .push((staff_id.as_str(), *at));
        }
    }
    check.loss_reasons = reasons
        .into_iter()
        .map(|(reason, n)| (reason.to_owned(), n))
        .collect();
    check
        .loss_reasons
        .sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    check.unexpected = told
        .keys()
        .filter(|id| !started.contains_key(**id))
        .map(|id| told[id].len())
        .sum();
    let open_by: HashMap<&str, Option<&str>> = open
        .iter()
        .map(|c| (c.id.as_str(), c.assignee.as_ref().map(|a| a.id.as_str())))
        .collect();
    let waiting: HashSet<&str> = unassigned.iter().map(|c| c.id.as_str()).collect();
    let first_sent = started.values().map(|a| a.sent).min();
    let mut last_assigned: Option<Instant> = None;
    let mut times = Vec::with_capacity(started.len());
    for (id, arrival) in &started {
        if waiting.contains(id.as_str()) {
            check.still_waiting += 1;
        }
        let Some(tellings) = told.get(id.as_str()) else {
            check.never_assigned += 1;
            continue;
        };
        if tellings.len() > 1 {
            check.assigned_twice += 1;
        }
        let (agent, at) = tellings[0];
        if open_by.get(id.as_str()).copied().flatten() != Some(agent) {
            check.api_disagrees += 1;
        }
        if at < arrival.answered {
            outcome.assigned_before_answer += 1;
        }
        times.push(nanos(at.saturating_duration_since(arrival.sent)));
        last_assigned = Some(last_assigned.map_or(at, |l| l.max(at)));
    }
    times.sort_unstable();
    let since = |at: Instant| at.saturating_duration_since(burst_started).as_secs_f64();
    outcome.timeline = started
        .iter()
        .map(|(id, a)| {
            let assigned = told.get(id.as_str()).map(|t| since(t[0].1));
            (since(a.sent), since(a.answered), assigned)
        })
        .collect();
    outcome.timeline.sort_by(|a, b| a.0.total_cmp(&b.0));
    outcome.assigned = times.len();
    outcome.time_to_assignment = times;
    if let (Some(first), Some(last)) = (first_sent, last_assigned) {
        outcome.assignment_span = last.saturating_duration_since(first);
    }

    // Loads, according to the API.
    let mut spread = (usize::MAX, 0);
    for agent in agents {
        let Some(&got) = received.get(agent.id.as_str()) else {
            continue;
        };
        check.load_sum += u64::from(agent.load);
        check.max_load = check.max_load.max(agent.load);
        if agent.load > agent.capacity {
            check.over_capacity += 1;
        }
        if agent.load as usize != got {
            check.load_mismatch += 1;
        }
        if agent.presence != Presence::Online {
            check.not_online += 1;
        }
        spread = (spread.0.min(got), spread.1.max(got));
    }
    check.spread = if spread.0 == usize::MAX {
        (0, 0)
    } else {
        spread
    };
    (outcome, check)
}

fn trace_rss(run: &mut BurstRun, server: &ServerProcess, label: &'static str) {
    if let Ok(rss) = server.rss_bytes() {
        run.rss_trace.push((label, rss));
    }
}

async fn metrics(api: &Api) -> anyhow::Result<MetricsSnapshot> {
    Ok(MetricsSnapshot::parse(&api.metrics_text().await?))
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn per_sec(count: usize, elapsed: Duration) -> f64 {
    if elapsed.is_zero() {
        0.0
    } else {
        count as f64 / elapsed.as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_summaries_are_read_from_the_exposition() {
        let before = MetricsSnapshot::parse(
            "natter_routing_plan_seconds_sum 0.5\n\
             natter_routing_plan_seconds_count 10\n",
        );
        let after = MetricsSnapshot::parse(
            "natter_routing_time_to_first_assignment_seconds{quantile=\"0.5\"} 0.02\n\
             natter_routing_time_to_first_assignment_seconds{quantile=\"1\"} 0.4\n\
             natter_routing_time_to_first_assignment_seconds_sum 30\n\
             natter_routing_time_to_first_assignment_seconds_count 1000\n\
             natter_routing_plan_seconds{quantile=\"0.99\"} 0.004\n\
             natter_routing_plan_seconds_sum 1.5\n\
             natter_routing_plan_seconds_count 60\n\
             natter_routing_assignments_total{how=\"auto\"} 1000\n",
        );
        let server = ServerRouting::between(&before, &after);
        assert_eq!(server.ttfa_count, 1000.0);
        assert!((server.ttfa_mean - 0.03).abs() < 1e-12);
        assert_eq!(server.ttfa_quantiles, [0.02, 0.0, 0.0, 0.4]);
        assert_eq!(server.plans, 50.0);
        assert!((server.plan_mean - 0.02).abs() < 1e-12);
        assert_eq!(server.plan_quantiles[1], 0.004);
        assert_eq!(server.assignments, 1000.0);
        assert_eq!(server.lost_races, 0.0);
    }
}
