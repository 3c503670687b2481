//! `tickwire-server`: read the configuration, then serve, print the configuration, or mint an
//! admin token.

use std::process::ExitCode;

use clap::Parser;
use server::app::{AppState, serve};
use server::auth::TokenKind;
use server::cli::{Cli, Command};
use server::config::{Config, LogFormat, load_raw};
use tracing::{info, warn};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Reading a recording needs no configuration.
    if let Some(Command::Replay(args)) = &cli.command {
        return server::replay::cli::run(args);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tickwire-server: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let layers = cli.settings.layers().map_err(|e| e.to_string())?;
    let raw = load_raw(&layers).map_err(|e| e.to_string())?;
    let config = raw.validate().map_err(|e| e.to_string())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Config => {
            print!("{}", raw.to_redacted_toml());
            Ok(())
        }
        Command::AdminToken { name } => {
            if config.jwt_secret_generated {
                return Err("admin-token needs a configured jwt_secret or jwt_secret_file".into());
            }
            // Only the signing key: no map, results log or listener (nothing is written).
            let auth = server::auth::Auth::new(
                &config.jwt_secret,
                &config.jwt_issuer,
                &config.jwt_audience,
                config.token_lifetime,
            );
            let (token, _) = auth
                .issue(&format!("admin:{name}"), &name, TokenKind::Admin)
                .map_err(|e| e.to_string())?;
            println!("{token}");
            Ok(())
        }
        Command::Serve => {
            init_logging(&config);
            let runtime = runtime(&config)?;
            runtime.block_on(serve_forever(config))
        }
        Command::Replay(_) => Ok(()),
        Command::Dedicated(args) => {
            init_logging(&config);
            let config = server::dedicated::configure(config, &args)?;
            let runtime = runtime(&config)?;
            runtime.block_on(server::dedicated::run(config, args, shutdown_signal()))
        }
    }
}

/// The multi-thread runtime, with `worker_threads` workers (0: tokio's default, one per core).
fn runtime(config: &Config) -> Result<tokio::runtime::Runtime, String> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if config.worker_threads > 0 {
        builder.worker_threads(config.worker_threads);
    }
    builder.build().map_err(|e| format!("runtime: {e}"))
}

fn init_logging(config: &Config) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level).unwrap_or_default();
    // Logs go to stderr (stdout carries `config` output and dedicated results); colour only on
    // a terminal.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match config.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn serve_forever(config: Config) -> Result<(), String> {
    if config.jwt_secret_generated {
        warn!(
            "no JWT secret configured (jwt_secret or jwt_secret_file): generated one; tokens will not survive a restart"
        );
    }
    let bind = config.bind;
    let state = AppState::new(config)?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| format!("bind {bind}: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("bind {bind}: {e}"))?;
    info!(addr = %addr, "tickwire listening");
    serve(listener, state, shutdown_signal())
        .await
        .map_err(|e| format!("serve: {e}"))?;
    info!("stopped");
    Ok(())
}

/// Completes on the first ctrl-c or SIGTERM; a second one exits the process at once.
async fn shutdown_signal() {
    one_signal().await;
    info!("shutting down: draining (a second signal exits at once)");
    tokio::spawn(async {
        one_signal().await;
        eprintln!("tickwire-server: second signal, exiting now");
        std::process::exit(130);
    });
}

async fn one_signal() {
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
}
