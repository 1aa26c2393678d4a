//! `natter-benches`: a load benchmark of the natter server on the embedded SQLite store and on
//! MongoDB, driven by native SDK clients over loopback.
//!
//! For each store it starts the server in a child process (this binary's hidden `server`
//! subcommand, so the server's memory can be read from `/proc`), creates one agent per visitor,
//! and measures: messages delivered and stored per second with a window of unacknowledged
//! messages per client; send→receive latency at half that load; and server memory per idle
//! authenticated WebSocket. See `benches/README.md` for the method and the results.
//!
//! The `routing` subcommand benchmarks conversation routing instead: decisions per second of the
//! routing engine in-process, and end-to-end time-to-assignment with 1,000 agents online and a
//! burst of 10,000 arrivals (see [`routing`]).
//!
//! ```text
//! cargo run --release -p natter-benches -- --store both --mongodb-uri 'mongodb://127.0.0.1:27017/?replicaSet=rs0'
//! cargo run --release -p natter-benches -- routing --store both --mongodb-uri 'mongodb://127.0.0.1:27017/?replicaSet=rs0'
//! ```

mod cpu;
mod idle;
mod load;
mod report;
mod routing;
mod run;
mod server;
mod setup;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use run::{Settings, StoreKind, StoreRun};

/// Command line.
#[derive(Debug, Parser)]
#[command(
    name = "natter-benches",
    about = "Load benchmark of the natter server (throughput, latency at half load, memory per idle socket; `routing`: assignment decisions and time to assignment)"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    bench: BenchArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Internal: run the server under test in this process (started by the benchmark itself).
    #[command(hide = true)]
    Server(server::ServerArgs),
    /// Routing: decisions/s of the routing engine, and time to assignment for a burst of
    /// arrivals with many agents online.
    Routing(routing::RoutingArgs),
}

/// Which stores to benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StoreChoice {
    Sqlite,
    Mongo,
    Both,
}

/// Benchmark settings.
#[derive(Debug, Args)]
struct BenchArgs {
    /// Store(s) to benchmark.
    #[arg(long, value_enum, default_value_t = StoreChoice::Both)]
    store: StoreChoice,
    /// Visitor/agent pairs, each with its own conversation and agent account.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=5000))]
    pairs: u64,
    /// Unacknowledged messages per client in the throughput phase.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    window: u64,
    /// Measured seconds of each load phase.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    seconds: u64,
    /// Warm-up seconds before each measurement.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=60))]
    warmup: u64,
    /// Load of the latency phase, as a fraction of the delivered/s measured at full load.
    #[arg(long, default_value_t = 0.5, value_parser = parse_fraction)]
    latency_load: f64,
    /// Idle authenticated visitor sockets to open for the memory measurement (0 skips it).
    #[arg(long, default_value_t = 10_000)]
    idle_sockets: usize,
    /// MongoDB connection string (a unique database is created and dropped per run); without
    /// it the MongoDB runs are skipped.
    #[arg(long, env = "NATTER_BENCH_MONGODB_URI")]
    mongodb_uri: Option<String>,
    /// Print the results table in Markdown.
    #[arg(long)]
    markdown: bool,
    /// Parent directory of the embedded store's throw-away data directory (default: the
    /// system temp directory). Put it on the disk you want to measure: SQLite fsyncs every batch.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Command::Server(args)) => server::run_child(args),
        Some(Command::Routing(args)) => {
            let args = args.clone();
            block_on(routing::run(args))
        }
        None => block_on(bench(cli.bench)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `future` on a multi-threaded tokio runtime.
fn block_on(future: impl Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(future)
}

async fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let pairs = usize::try_from(args.pairs)?;
    let mut settings = Settings {
        pairs,
        window: usize::try_from(args.window)?,
        warmup: Duration::from_secs(args.warmup),
        measure: Duration::from_secs(args.seconds),
        idle_sockets: args.idle_sockets,
        latency_load: args.latency_load,
        mongod_pid: args
            .mongodb_uri
            .as_deref()
            .and_then(local_mongodb_port)
            .and_then(cpu::find_mongod),
    };
    check_open_files(&mut settings);
    eprintln!(
        "machine: {}; load average {}",
        report::machine_summary(),
        report::load_average()
    );

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

    let mut runs: Vec<StoreRun> = Vec::new();
    for store in stores {
        eprintln!(
            "[{}] load average before the run: {}",
            store.name(),
            report::load_average()
        );
        let run = with_fresh_store(
            store,
            args.data_dir.as_deref(),
            args.mongodb_uri.as_deref(),
            "bench",
            |url| run::run_store(store, url, settings),
        )
        .await?;
        eprintln!("{}", report::details(&run));
        runs.push(run);
    }
    if runs.is_empty() {
        anyhow::bail!("no store to benchmark");
    }

    println!();
    println!(
        "natter load benchmark: {} pairs, window {}, {} s measured after {} s warm-up, latency at {} of the measured throughput, {} idle sockets; {}",
        settings.pairs,
        settings.window,
        settings.measure.as_secs(),
        settings.warmup.as_secs(),
        report::percent_label(settings.latency_load),
        settings.idle_sockets,
        report::machine_summary()
    );
    if args.markdown {
        println!("{}", report::markdown_table(&runs));
    } else {
        println!("{}", report::plain_table(&runs));
    }
    println!();
    for run in &runs {
        println!("{}", report::details(run));
    }
    if runs.iter().any(|r| !r.problems.is_empty()) {
        anyhow::bail!("some phases failed (see PROBLEM lines above)");
    }
    Ok(())
}

/// A fraction in (0, 1].
fn parse_fraction(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|e| format!("{e}"))?;
    if value > 0.0 && value <= 1.0 {
        Ok(value)
    } else {
        Err("expected a fraction above 0 and at most 1 (0.5 = half load)".into())
    }
}

/// Lowers the idle-socket count to what the open-files limit allows (the benchmark holds every
/// client socket, and the server child, which inherits the limit, holds the other ends).
fn check_open_files(settings: &mut Settings) {
    let Some(limit) = idle::open_files_limit() else {
        return;
    };
    // Pair clients, HTTP connections, database files and connections, the runtime's own.
    let reserve = settings.pairs * 2 + 256;
    let allowed = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_sub(reserve);
    if settings.idle_sockets > allowed {
        eprintln!(
            "notice: the open-files limit (ulimit -n) is {limit}; {} idle sockets plus {reserve} \
             other descriptors exceed it, so only {allowed} idle sockets are opened \
             (raise it with `ulimit -n` to measure more)",
            settings.idle_sockets
        );
        settings.idle_sockets = allowed;
    } else {
        eprintln!(
            "open-files limit (ulimit -n) {limit}: enough for {} idle sockets",
            settings.idle_sockets
        );
    }
}

/// Runs `bench` on the database URL of a fresh, empty store: a temporary directory (under
/// `data_dir` if given) for SQLite, removed afterwards; for MongoDB a database named
/// `natter_<name>_<pid>_<ms>` on `mongodb_uri`, dropped afterwards.
async fn with_fresh_store<R, F, Fut>(
    store: StoreKind,
    data_dir: Option<&std::path::Path>,
    mongodb_uri: Option<&str>,
    name: &str,
    bench: F,
) -> anyhow::Result<R>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = R>,
{
    match store {
        StoreKind::Sqlite => {
            let parent = data_dir.map_or_else(std::env::temp_dir, std::path::Path::to_path_buf);
            let dir = tempfile::Builder::new()
                .prefix(&format!("natter-{name}-"))
                .tempdir_in(&parent)?;
            Ok(bench(dir.path().to_string_lossy().into_owned()).await)
        }
        StoreKind::Mongo => {
            let database = format!(
                "natter_{}_{}_{}",
                name.replace('-', "_"),
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)?
                    .as_millis()
            );
            let url = with_database(mongodb_uri.unwrap_or_default(), &database)?;
            let run = bench(url.clone()).await;
            if let Err(error) = drop_database(&url, &database).await {
                eprintln!("could not drop the benchmark database {database}: {error:#}");
            }
            Ok(run)
        }
    }
}

/// `uri` with its database path replaced by `database` (options kept).
fn with_database(uri: &str, database: &str) -> anyhow::Result<String> {
    let (scheme, rest) = uri
        .split_once("://")
        .ok_or_else(|| anyhow::anyhow!("not a MongoDB URI: {uri}"))?;
    let (authority_and_path, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let authority = authority_and_path
        .split_once('/')
        .map_or(authority_and_path, |(authority, _)| authority);
    Ok(match query {
        Some(query) => format!("{scheme}://{authority}/{database}?{query}"),
        None => format!("{scheme}://{authority}/{database}"),
    })
}

/// The port of the first host of a MongoDB URI if that host is this machine (27017 when the
/// URI names none).
fn local_mongodb_port(uri: &str) -> Option<u16> {
    let rest = uri.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let hosts = authority
        .rsplit_once('@')
        .map_or(authority, |(_, hosts)| hosts);
    let first = hosts.split(',').next()?;
    let (host, port) = match first.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()?),
        None => (first, 27017),
    };
    matches!(host, "127.0.0.1" | "localhost" | "[::1]").then_some(port)
}

/// Drops the throw-away benchmark database (at most 10 s).
async fn drop_database(uri: &str, database: &str) -> anyhow::Result<()> {
    tokio::time::timeout(Duration::from_secs(10), async {
        let client = mongodb::Client::with_uri_str(uri).await?;
        client.database(database).drop().await?;
        anyhow::Ok(())
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_replaces_the_uri_path_and_keeps_the_options() {
        let db = "natter_bench_1";
        assert_eq!(
            with_database(
                "mongodb://127.0.0.1:27017/?replicaSet=rs0&directConnection=true",
                db
            )
            .expect("valid"),
            "mongodb://127.0.0.1:27017/natter_bench_1?replicaSet=rs0&directConnection=true"
        );
        assert_eq!(
            with_database("mongodb://u:p@h1,h2/natter?w=majority", db).expect("valid"),
            "mongodb://u:p@h1,h2/natter_bench_1?w=majority"
        );
        assert_eq!(
            with_database("mongodb://localhost", db).expect("valid"),
            "mongodb://localhost/natter_bench_1"
        );
        assert!(with_database("localhost:27017", db).is_err());
    }

    #[test]
    fn only_a_local_mongodb_has_a_port_to_watch() {
        let local = "mongodb://127.0.0.1:27017/?replicaSet=rs0&directConnection=true";
        assert_eq!(local_mongodb_port(local), Some(27017));
        assert_eq!(
            local_mongodb_port("mongodb://u:p@localhost/db"),
            Some(27017)
        );
        assert_eq!(
            local_mongodb_port("mongodb://localhost:4000,h2:5/db"),
            Some(4000)
        );
        assert_eq!(local_mongodb_port("mongodb://db.example.com:27017/"), None);
    }
}
