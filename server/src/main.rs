//! `tickwire-server`: parse flags, set up logging, serve until ctrl-c or SIGTERM.

use clap::Parser;
use server::app::{AppState, serve};
use server::config::{Args, Config};
use tracing::{info, warn};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&args.log).unwrap_or_default())
        .init();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tickwire-server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let (config, generated_secret) = Config::from_args(&args)?;
    if generated_secret {
        warn!(
            "no JWT secret configured (TICKWIRE_JWT_SECRET or --jwt-secret-file): generated one; tokens will not survive a restart"
        );
    }
    let bind = config.bind;
    let state = AppState::new(config)?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| format!("bind {bind}: {e}"))?;
    info!(addr = %bind, "tickwire listening");
    serve(listener, state, shutdown_signal())
        .await
        .map_err(|e| format!("serve: {e}"))
}

/// Completes on ctrl-c or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    info!("shutting down");
}
