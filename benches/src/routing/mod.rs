//! The routing benchmark (`natter-benches routing`): how many assignment decisions natter makes
//! per second, and how long a conversation waits for its agent when a burst arrives.
//!
//! Two parts, each for A agents and N arrivals (default 1,000 and 10,000):
//! - [`in_process`]: the sans-IO routing engine alone, in this process ([`engine::plan`] on generated
//!   tenants): decisions per second of one full plan, and the cost of planning one arrival at a
//!   time;
//! - [`burst`]: the real server in a child process, on SQLite and on MongoDB: A agents online on
//!   their staff sockets, a burst of N arrivals, and per conversation the time from its start
//!   request to the assignment frame on its agent's socket.
//!
//! See the "Routing" section of `benches/README.md` for the method and the figures.
//!
//! [`engine::plan`]: natter_server::routing::engine::plan

mod burst;
mod in_process;
mod sockets;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::StoreChoice;
use crate::report::{cpu_line, load_average, machine_summary};
use crate::run::StoreKind;
use crate::stats::ms;
use burst::{BurstRun, BurstSettings};
use in_process::{CoreResult, CoreSettings};

/// Which parts to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Part {
    /// The routing engine in-process only.
    Core,
    /// The end-to-end burst against the server only.
    EndToEnd,
    /// Both.
    Both,
}

/// Settings of `natter-benches routing`.
#[derive(Debug, Clone, Args)]
pub struct RoutingArgs {
    /// Parts to run.
    #[arg(long, value_enum, default_value_t = Part::Both)]
    part: Part,
    /// Store(s) for the end-to-end part.
    #[arg(long, value_enum, default_value_t = StoreChoice::Both)]
    store: StoreChoice,
    /// Agents (accounts with an online staff socket each).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    agents: u64,
    /// Arrivals in the burst (and waiting conversations in the core's full plan).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    arrivals: u64,
    /// The tenant's default capacity per agent; agents × capacity must hold every arrival.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100))]
    capacity: u32,
    /// Arrivals in flight at once (each one a visitor session, then the start request).
    #[arg(long, default_value_t = 192, value_parser = clap::value_parser!(u64).range(1..=4096))]
    concurrency: u64,
    /// Timed full plans per scenario in the core part.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    plan_iterations: u64,
    /// MongoDB connection string (a unique database is created and dropped per run); without
    /// it the MongoDB run is skipped.
    #[arg(long, env = "NATTER_BENCH_MONGODB_URI")]
    mongodb_uri: Option<String>,
    /// Parent directory of the embedded store's throw-away data directory (default: the
    /// system temp directory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Print the results tables in Markdown.
    #[arg(long)]
    markdown: bool,
    /// Also write each arrival's timeline (start sent, answered, assigned; seconds since the
    /// burst began) to `<PREFIX>-<store>.csv`.
    #[arg(long, value_name = "PREFIX")]
    timeline_csv: Option<PathBuf>,
}

/// Runs the routing benchmark.
pub async fn run(args: RoutingArgs) -> anyhow::Result<()> {
    let agents = usize::try_from(args.agents)?;
    let arrivals = usize::try_from(args.arrivals)?;
    let concurrency = usize::try_from(args.concurrency)?;
    eprintln!(
        "machine: {}; load average {}",
        machine_summary(),
        load_average()
    );

    let mut core_results = Vec::new();
    if args.part != Part::EndToEnd {
        let settings = CoreSettings {
            agents,
            waiting: arrivals,
            capacity: args.capacity,
            iterations: usize::try_from(args.plan_iterations)?,
        };
        eprintln!(
            "[core] planning {agents} agents x {arrivals} waiting, {} timed plans per scenario, then {arrivals} arrivals one at a time",
            settings.iterations
        );
        core_results = tokio::task::spawn_blocking(move || in_process::run(settings)).await?;
    }

    let mut runs: Vec<BurstRun> = Vec::new();
    if args.part != Part::Core {
        if (agents as u64) * u64::from(args.capacity) < arrivals as u64 {
            anyhow::bail!(
                "{agents} agents x capacity {} cannot hold {arrivals} arrivals; raise --capacity",
                args.capacity
            );
        }
        check_open_files(agents + concurrency)?;
        let settings = BurstSettings {
            agents,
            arrivals,
            capacity: args.capacity,
            concurrency,
            mongod_pid: args
                .mongodb_uri
                .as_deref()
                .and_then(crate::local_mongodb_port)
                .and_then(crate::cpu::find_mongod),
        };
        for store in stores(&args) {
            eprintln!(
                "[{}] load average before the run: {}",
                store.name(),
                load_average()
            );
            let run = crate::with_fresh_store(
                store,
                args.data_dir.as_deref(),
                args.mongodb_uri.as_deref(),
                "bench-routing",
                |url| burst::run_store(store, url, settings),
            )
            .await?;
            eprintln!("{}", burst_details(&run));
            if let (Some(prefix), Some(burst)) = (&args.timeline_csv, &run.burst) {
                let path = PathBuf::from(format!("{}-{}.csv", prefix.display(), store.name()));
                match std::fs::write(&path, timeline_csv(burst)) {
                    Ok(()) => eprintln!("wrote {}", path.display()),
                    Err(error) => eprintln!("could not write {}: {error}", path.display()),
                }
            }
            runs.push(run);
        }
    }

    println!();
    println!(
        "natter routing benchmark: {agents} agents, {arrivals} arrivals, capacity {}, {concurrency} arrivals in flight; {}",
        args.capacity,
        machine_summary()
    );
    if !core_results.is_empty() {
        println!();
        println!("{}", core_table(&core_results, args.markdown));
        for r in &core_results {
            println!(
                "{}: {} timed full plans; one arrival per plan: {} plans made {} assignments in {:.1} ms",
                r.scenario,
                r.plan_times.len(),
                r.sequential_plans,
                r.sequential_decisions,
                r.sequential_total().as_secs_f64() * 1000.0,
            );
        }
    }
    if !runs.is_empty() {
        println!();
        println!("{}", burst_table(&runs, args.markdown));
        println!();
        for run in &runs {
            println!("{}", burst_details(run));
        }
    }
    if runs.iter().any(|r| !r.problems.is_empty()) {
        anyhow::bail!("some runs failed (see PROBLEM lines above)");
    }
    Ok(())
}

/// `sent,answered,assigned` per arrival, seconds since the burst began (empty: not assigned).
fn timeline_csv(burst: &burst::BurstOutcome) -> String {
    let mut out = String::from("sent_s,answered_s,assigned_s\n");
    for (sent, answered, assigned) in &burst.timeline {
        let assigned = assigned.map_or_else(String::new, |a| format!("{a:.6}"));
        out.push_str(&format!("{sent:.6},{answered:.6},{assigned}\n"));
    }
    out
}

fn stores(args: &RoutingArgs) -> Vec<StoreKind> {
    let mut stores = Vec::new();
    if matches!(args.store, StoreChoice::Sqlite | StoreChoice::Both) {
        stores.push(StoreKind::Sqlite);
    }
    if matches!(args.store, StoreChoice::Mongo | StoreChoice::Both) {
        if args.mongodb_uri.is_some() {
            stores.push(StoreKind::Mongo);
        } else {
            eprintln!(
                "notice: skipping MongoDB: give --mongodb-uri or set NATTER_BENCH_MONGODB_URI"
            );
        }
    }
    stores
}

/// Fails early if the agents' sockets and the arrivals' connections (both ends live on this
/// machine, the server child inherits the limit) would not fit in the open-files limit.
fn check_open_files(sockets: usize) -> anyhow::Result<()> {
    let Some(limit) = crate::idle::open_files_limit() else {
        return Ok(());
    };
    let needed = sockets as u64 + 256;
    if needed > limit {
        anyhow::bail!(
            "the open-files limit (ulimit -n) is {limit}; this run needs about {needed}: raise it or lower --agents / --concurrency"
        );
    }
    Ok(())
}

/// A table, plain (aligned) or Markdown; the first column is left-aligned.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>], markdown: bool) -> String {
    if markdown {
        let mut out = format!("| {} |\n|---|", headers.join(" | "));
        out.push_str(&"---:|".repeat(headers.len() - 1));
        for row in rows {
            out.push_str(&format!("\n| {} |", row.join(" | ")));
        }
        return out;
    }
    let widths: Vec<usize> = (0..headers.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].len())
                .chain([headers[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, width))| {
                if c == 0 {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = line(headers.to_vec());
    out.push('\n');
    out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
    for row in rows {
        out.push('\n');
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

fn core_table(results: &[CoreResult], markdown: bool) -> String {
    let headers = [
        "engine::plan scenario",
        "agents",
        "waiting",
        "free places",
        "decisions per plan",
        "full plan median (ms)",
        "full plan min (ms)",
        "decisions/s (full plan)",
        "one arrival per plan: p50 (µs)",
        "p99 (µs)",
        "plans/s (one arrival each)",
    ];
    let micros = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1e6);
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            vec![
                r.scenario.to_owned(),
                r.agents.to_string(),
                r.waiting.to_string(),
                r.free_places.to_string(),
                r.decisions.to_string(),
                ms(r.plan_median()),
                ms(r.plan_min()),
                format!("{:.0}", r.plan_decisions_per_sec()),
                micros(r.sequential_percentile(50.0)),
                micros(r.sequential_percentile(99.0)),
                format!("{:.0}", r.sequential_plans_per_sec()),
            ]
        })
        .collect();
    table(&headers, &rows, markdown)
}

fn burst_table(runs: &[BurstRun], markdown: bool) -> String {
    let headers = [
        "store",
        "agents x capacity",
        "arrivals accepted",
        "burst (s)",
        "arrivals/s",
        "assignments/s",
        "time to assignment p50 (ms)",
        "p90 (ms)",
        "p99 (ms)",
        "max (ms)",
        "checks",
    ];
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|run| {
            let mut row = vec![
                run.store.name().to_owned(),
                format!("{} x {}", run.settings.agents, run.settings.capacity),
            ];
            match &run.burst {
                Some(b) => row.extend([
                    format!("{} of {}", b.accepted, run.settings.arrivals),
                    format!("{:.2}", b.burst.as_secs_f64()),
                    format!("{:.0}", b.arrivals_per_sec()),
                    format!("{:.0}", b.assignments_per_sec()),
                    ms(b.tta(50.0)),
                    ms(b.tta(90.0)),
                    ms(b.tta(99.0)),
                    ms(b.tta(100.0)),
                ]),
                None => row.extend(std::iter::repeat_n("-".to_owned(), 8)),
            }
            row.push(match &run.check {
                Some(c) if c.passed() => "passed".to_owned(),
                Some(_) => "FAILED".to_owned(),
                None => "-".to_owned(),
            });
            row
        })
        .collect();
    table(&headers, &rows, markdown)
}

fn burst_details(run: &BurstRun) -> String {
    let s = &run.setup;
    let mut out = vec![format!(
        "{}: set-up: closed {} waiting conversation(s); {} agents created and signed in in {:.1} s; sockets connected in {:.1} s, all online {:.1} s later, quiet {:.1} s after that ({:.0} frames per socket meanwhile)",
        run.store.name(),
        s.closed_before,
        run.settings.agents,
        s.accounts,
        s.sockets,
        s.online,
        s.quiet,
        s.frames_per_socket,
    )];
    if let Some(b) = &run.burst {
        out.push(format!(
            "  burst: {} accepted, {} failed in {:.2} s ({:.0}/s); {} assigned, last {:.2} s after the first start ({:.0} assignments/s)",
            b.accepted,
            b.failed,
            b.burst.as_secs_f64(),
            b.arrivals_per_sec(),
            b.assigned,
            b.assignment_span.as_secs_f64(),
            b.assignments_per_sec(),
        ));
        out.push(format!(
            "    time to assignment (start request -> agent socket): p50 {} ms, p90 {} ms, p99 {} ms, max {} ms; start request answered: p50 {} ms, p99 {} ms; {} assignments arrived before their start request was answered",
            ms(b.tta(50.0)),
            ms(b.tta(90.0)),
            ms(b.tta(99.0)),
            ms(b.tta(100.0)),
            ms(b.answer(50.0)),
            ms(b.answer(99.0)),
            b.assigned_before_answer,
        ));
        if let Some(error) = &b.first_error {
            out.push(format!("    first failed arrival: {error}"));
        }
        let f = &b.frames;
        let per = |n: u64| n as f64 / b.assigned.max(1) as f64;
        out.push(format!(
            "    frames to the agent sockets during the burst: {} in all ({:.1} per assignment): {} assignments, {} other conversation, {} queue_length ({:.1} per assignment), {} presence, {} other",
            f.total(),
            per(f.total()),
            f.assigned,
            f.other_conversation,
            f.queue_length,
            per(f.queue_length),
            f.presence,
            f.other,
        ));
    }
    if let Some(server) = &run.server {
        let ms1 = |s: f64| format!("{:.1}", s * 1000.0);
        let ms3 = |s: f64| format!("{:.3}", s * 1000.0);
        let per_plan = if server.plans > 0.0 {
            server.assignments / server.plans
        } else {
            0.0
        };
        out.push(format!(
            "    server: {:.0} auto assignments, {:.0} lost races; time to first assignment (server clock, creation -> assignment announced; {:.0} samples) mean {} ms, p50 {} / p90 {} / p99 {} / max {} ms (exporter's window; /metrics read {} times during the burst); {:.0} plans, {per_plan:.1} conversations per plan, plan time mean {} ms, p50 {} / p99 {} / max {} ms",
            server.assignments,
            server.lost_races,
            server.ttfa_count,
            ms1(server.ttfa_mean),
            ms1(server.ttfa_quantiles[0]),
            ms1(server.ttfa_quantiles[1]),
            ms1(server.ttfa_quantiles[2]),
            ms1(server.ttfa_quantiles[3]),
            server.scrapes,
            server.plans,
            ms3(server.plan_mean),
            ms3(server.plan_quantiles[0]),
            ms3(server.plan_quantiles[1]),
            ms3(server.plan_quantiles[2]),
        ));
    }
    if let Some(server) = &run.server {
        out.push(format!(
            "    sockets kicked as lagging by the server (`natter_websocket_lagging_total`): {:.0} during the set-up, {:.0} during the burst",
            server.lagging_before, server.lagging
        ));
    }
    if let Some(c) = &run.cpu {
        out.push(cpu_line(c));
    }
    if let Some(c) = &run.check {
        out.push(format!(
            "  checks {}: {} never assigned, {} assigned twice, {} unexpected assignments, {} still waiting, {} where the API disagrees with the socket; loads sum {} (max {}, {} agents over capacity, {} agents whose load differs from their assignments, per agent {}..{}); {} agents not online, {} agents not connected at the end",
            if c.passed() { "passed" } else { "FAILED" },
            c.never_assigned,
            c.assigned_twice,
            c.unexpected,
            c.still_waiting,
            c.api_disagrees,
            c.load_sum,
            c.max_load,
            c.over_capacity,
            c.load_mismatch,
            c.spread.0,
            c.spread.1,
            c.not_online,
            c.not_connected,
        ));
        if !c.loss_reasons.is_empty() {
            let reasons: Vec<String> = c
                .loss_reasons
                .iter()
                .map(|(reason, n)| format!("{n} x {reason:?}"))
                .collect();
            out.push(format!(
                "    agent connections lost (then reconnected): {} during the set-up, {} from the burst on; {}",
                run.setup.losses,
                c.losses_during,
                reasons.join(", ")
            ));
        }
    }
    if !run.rss_trace.is_empty() {
        let trace: Vec<String> = run
            .rss_trace
            .iter()
            .map(|(label, rss)| format!("{label} {:.0} MiB", *rss as f64 / 1048576.0))
            .collect();
        out.push(format!("  server RSS: {}", trace.join(", ")));
    }
    let (lines, suppressed) = run.server_log_lines;
    if lines > 0 {
        out.push(format!(
            "  server wrote {lines} warning/error log lines ({suppressed} not shown)"
        ));
    }
    for problem in &run.problems {
        out.push(format!("  PROBLEM: {problem}"));
    }
    out.join("\n")
}
