//! # natter-server
//!
//! The natter backend: an axum server with a REST API (`http`) and a WebSocket gateway (`ws`),
//! storing data in MongoDB or an embedded SQLite database (`store`). `main.rs` only parses the
//! configuration and calls [`serve`]; everything else lives here so tests and benchmarks can
//! start the real application in-process.
//!
//! Layers, outermost first: `http` / `ws` (transport, wire types) → `chat` (application
//! operations, fan-out, group commit) and `routing` (conversations to agents, presence) →
//! `domain` (records, permissions; no I/O) and `auth` → `store` (one trait per aggregate, two
//! implementations).

pub mod app;
pub mod auth;
pub mod chat;
pub mod config;
pub mod demo;
pub mod domain;
pub mod error;
pub mod http;
pub mod routing;
pub mod store;
pub mod telemetry;
pub mod wire;
pub mod ws;

use std::future::Future;

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use app::AppState;
pub use config::Config;

/// Opens the configured store, seeds the demo tenant if asked, and serves `listener` until
/// `shutdown` completes.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let stores = store::Stores::open(&config.database_url).await?;
    if config.demo && demo::seed(&stores).await? {
        tracing::info!(site_key = demo::SITE_KEY, "created the demo tenant");
    }
    let tokens = app::token_service(&config)?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let state = AppState::new(config, stores, tokens, shutdown_rx);
    if state.assets.is_empty() {
        tracing::info!(
            "this binary has no widget built in; /widget.js answers 404 until natter is rebuilt \
             after `cargo xtask build-widget`"
        );
    } else {
        tracing::info!(
            files = state.assets.len(),
            "serving the widget at /widget.js"
        );
    }
    tracing::info!(address = %listener.local_addr()?, "natter is listening");
    app::run(listener, state, shutdown_tx, shutdown).await
}
