//! Dedicated mode: one match per process, for orchestrators. The process exits 0 when the match
//! ends and writes the match's results as JSON to a file or stdout. With `--agones` (cargo
//! feature `agones`) it also speaks the Agones SDK lifecycle ([`crate::agones`]).

use std::path::Path;

use tokio::net::TcpListener;
use tracing::info;

use crate::app::{AppState, serve};
use crate::cli::DedicatedArgs;
use crate::config::{Config, duration};
use crate::game::options::{MatchOptionsRequest, resolve};

/// Applies the dedicated flags to the configuration: one match, its empty timeout.
pub fn configure(mut config: Config, args: &DedicatedArgs) -> Result<Config, String> {
    config.max_matches = 1;
    // A dedicated match is recorded unless told where else (a tournament keeps its matches).
    if config.record_dir.is_none() {
        config.record_dir = Some("recordings".into());
    }
    config.empty_match_timeout =
        duration::parse(&args.empty_timeout).map_err(|e| format!("--empty-timeout: {e}"))?;
    Ok(config)
}

/// Runs the one match until it ends (or a shutdown drains it), then writes its results.
pub async fn run(
    config: Config,
    args: DedicatedArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let time_limit = duration::parse(&args.time_limit).map_err(|e| format!("--time-limit: {e}"))?;
    let request = MatchOptionsRequest {
        score_limit: Some(args.score_limit),
        time_limit_secs: Some(time_limit.as_secs().max(1).try_into().unwrap_or(u32::MAX)),
        seed: args.seed,
        matchmaking: Some(true),
        ..Default::default()
    };
    let options = resolve(&request, &config).map_err(|e| format!("dedicated: {e}"))?;
    // Before anything else: without its SDK server a game server under Agones is useless.
    #[cfg(feature = "agones")]
    let mut agones = match args.agones {
        true => Some(crate::agones::Lifecycle::connect().await?),
        false => None,
    };
    let bind = config.bind;
    let listener = TcpListener::bind(bind)
        .await
        .map_err(|e| format!("bind {bind}: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("bind {bind}: {e}"))?;
    let state = AppState::new(config)?;
    let handle = state
        .registry
        .create(options, None)
        .map_err(|e| format!("dedicated: could not create the match: {e:?}"))?;
    let base = state.config.public_url.clone().unwrap_or_else(|| {
        let scheme = if state.tls.is_some() { "wss" } else { "ws" };
        format!("{scheme}://{addr}")
    });
    eprintln!("tickwire dedicated match {} listening on {addr}", handle.id);
    eprintln!(
        "join: POST http://{addr}/v1/auth/guest {{\"name\": ...}}, then connect to {base}/v1/ws?match={} with the token",
        handle.id
    );
    #[cfg(feature = "agones")]
    if let Some(agones) = &mut agones {
        agones.ready(handle.clone()).await?;
    }
    let registry = state.registry.clone();
    let ended = async move {
        tokio::select! {
            _ = shutdown => {},
            _ = registry.all_ended() => {},
        }
    };
    serve(listener, state, ended)
        .await
        .map_err(|e| format!("serve: {e}"))?;
    let record = handle.record().ok_or("the match ended without results")?;
    let json = serde_json::to_string_pretty(&record).map_err(|e| e.to_string())?;
    match &args.results_file {
        Some(path) => write_file(path, &json)?,
        None => println!("{json}"),
    }
    info!(match_id = %handle.id, reason = %record.reason, "dedicated match over");
    // Only now, with the results on disk (or printed), may Agones take the pod away.
    #[cfg(feature = "agones")]
    if let Some(agones) = agones {
        agones.shutdown().await?;
    }
    Ok(())
}

fn write_file(path: &Path, json: &str) -> Result<(), String> {
    std::fs::write(path, format!("{json}\n"))
        .map_err(|e| format!("--results-file {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> DedicatedArgs {
        use clap::Parser;
        match crate::cli::Cli::parse_from(["tickwire-server", "dedicated"]).command {
            Some(crate::cli::Command::Dedicated(a)) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn dedicated_matches_are_recorded_unless_told_where() {
        let config = Config::with_secret(vec![1; 32]);
        assert_eq!(config.record_dir, None, "serve records nothing by default");
        let dedicated = configure(config.clone(), &args()).expect("configure");
        assert_eq!(dedicated.record_dir, Some("recordings".into()));
        let mut chosen = config;
        chosen.record_dir = Some("/srv/matches".into());
        let kept = configure(chosen, &args()).expect("configure");
        assert_eq!(kept.record_dir, Some("/srv/matches".into()));
    }
}
