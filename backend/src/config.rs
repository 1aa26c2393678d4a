//! The server's configuration: one struct, read once at start from flags or `NATTER_*`
//! environment variables (see `.env.example` for every key), then passed down explicitly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

/// Command line of the `natter` binary.
#[derive(Debug, Parser)]
#[command(name = "natter", version, about = "Self-hostable live chat server")]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings shared by every command.
    #[command(flatten)]
    pub config: Config,
}

/// Subcommands.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum Command {
    /// Serve the API, the WebSocket gateway and the docs.
    Serve,
    /// Create the demo tenant, accounts and conversation (if missing), then exit.
    SeedDemo,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines, for development.
    Pretty,
    /// One JSON object per line, for production log pipelines.
    Json,
}

/// Every setting of the server.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(
        long,
        env = "NATTER_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: SocketAddr,

    /// `mongodb://...` for MongoDB (database from the URL path, default `natter`); anything
    /// else is the directory of the embedded SQLite store.
    #[arg(
        long,
        env = "NATTER_DATABASE_URL",
        default_value = "./natter-data",
        global = true
    )]
    pub database_url: String,

    /// Key that signs access, refresh and visitor tokens (at least 32 bytes). Optional with the
    /// embedded store (a random one is kept in `<data dir>/jwt-secret`); required with MongoDB,
    /// shared by every instance.
    #[arg(long, env = "NATTER_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<SecretString>,

    /// Create the demo tenant at start if it is missing, and serve the demo shop page at
    /// `/demo`.
    #[arg(long, env = "NATTER_DEMO", default_value_t = false, global = true)]
    pub demo: bool,

    /// Tracing filter (for example `info,natter_server=debug`).
    #[arg(long, env = "NATTER_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Log format.
    #[arg(
        long,
        env = "NATTER_LOG_FORMAT",
        value_enum,
        default_value = "pretty",
        global = true
    )]
    pub log_format: LogFormat,

    /// Lifetime of staff access tokens, in seconds.
    #[arg(
        long,
        env = "NATTER_ACCESS_TOKEN_TTL_SECS",
        default_value_t = 900,
        global = true
    )]
    pub access_token_ttl_secs: u64,

    /// Lifetime of staff refresh tokens, in seconds.
    #[arg(long, env = "NATTER_REFRESH_TOKEN_TTL_SECS", default_value_t = 30 * 24 * 3600, global = true)]
    pub refresh_token_ttl_secs: u64,

    /// Lifetime of visitor tokens, in seconds.
    #[arg(long, env = "NATTER_VISITOR_TOKEN_TTL_SECS", default_value_t = 180 * 24 * 3600, global = true)]
    pub visitor_token_ttl_secs: u64,

    /// Key rate limits on X-Forwarded-For / X-Real-IP / Forwarded instead of the socket peer.
    /// Only behind a trusted reverse proxy, or clients can pick their own key.
    #[arg(
        long,
        env = "NATTER_TRUST_PROXY",
        default_value_t = false,
        global = true
    )]
    pub trust_proxy: bool,

    /// Largest accepted HTTP request body, in bytes.
    #[arg(long, env = "NATTER_MAX_BODY_BYTES", default_value_t = 64 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// How long a graceful shutdown waits for connections to drain, in seconds.
    #[arg(
        long,
        env = "NATTER_SHUTDOWN_GRACE_SECS",
        default_value_t = 10,
        global = true
    )]
    pub shutdown_grace_secs: u64,

    /// WebSocket heartbeat period, in seconds: the server pings every socket this often and
    /// tells clients to ping when idle this long.
    #[arg(
        long,
        env = "NATTER_WS_HEARTBEAT_SECS",
        default_value_t = 25,
        global = true
    )]
    pub ws_heartbeat_secs: u64,

    /// A WebSocket silent for this many seconds (no frame, no pong) is considered dead and closed.
    #[arg(
        long,
        env = "NATTER_WS_IDLE_TIMEOUT_SECS",
        default_value_t = 60,
        global = true
    )]
    pub ws_idle_timeout_secs: u64,

    /// After an agent's last connection drops, how long before they count as offline (and
    /// their conversations return to the line, unless the tenant keeps them assigned).
    #[arg(
        long,
        env = "NATTER_PRESENCE_GRACE_SECS",
        default_value_t = 30,
        global = true
    )]
    pub presence_grace_secs: u64,

    /// Per-IP and per-token rate limits. Turn off only for load benchmarks.
    #[arg(long, env = "NATTER_RATE_LIMITS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub rate_limits: bool,
}

impl Config {
    /// Whether the database URL selects MongoDB.
    pub fn uses_mongodb(&self) -> bool {
        self.database_url.starts_with("mongodb://")
            || self.database_url.starts_with("mongodb+srv://")
    }

    /// The embedded store's directory (meaningless with MongoDB).
    pub fn data_dir(&self) -> PathBuf {
        PathBuf::from(&self.database_url)
    }

    /// Access token lifetime.
    pub fn access_token_ttl(&self) -> Duration {
        Duration::from_secs(self.access_token_ttl_secs)
    }

    /// A configuration for tests: embedded store in `dir`, a fixed secret, port 0.
    pub fn for_tests(database_url: &str) -> Config {
        let cli = Cli::parse_from([
            "natter",
            "--database-url",
            database_url,
            "--bind",
            "127.0.0.1:0",
        ]);
        Config {
            jwt_secret: Some(SecretString::from(
                "test-secret-that-is-long-enough-0123456789",
            )),
            ..cli.config
        }
    }
}
