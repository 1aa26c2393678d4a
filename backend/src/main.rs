//! The `natter` binary: parse the configuration, start tracing, run the chosen command.

use clap::Parser;
use natter_server::config::{Cli, Command};
use natter_server::{demo, store, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = cli.config;
    telemetry::init_tracing(&config.log, config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let listener = tokio::net::TcpListener::bind(config.bind).await?;
            natter_server::serve(config, listener, shutdown_signal()).await
        }
        Command::SeedDemo => {
            let stores = store::Stores::open(&config.database_url).await?;
            if demo::seed(&stores).await? {
                println!("created the demo tenant (site key {})", demo::SITE_KEY);
            } else {
                println!("the demo tenant already exists");
            }
            Ok(())
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
