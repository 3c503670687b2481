//! `tickwire-server` command line: subcommands, and flags for the common configuration keys
//! (any key can be set with `--set key=value`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{ConfigError, Layers};

#[derive(Parser, Debug)]
#[command(
    name = "tickwire-server",
    version,
    about = "Tickwire authoritative game server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: SettingFlags,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve (the default).
    Serve,
    /// Print the effective configuration (secrets redacted) and exit.
    Config,
    /// Print an admin-kind token signed with the configured secret, for the admin API.
    AdminToken {
        /// Who the token is for; recorded in the audit log of admin actions.
        #[arg(long, default_value = "admin")]
        name: String,
    },
    /// Host exactly one match; exit 0 when it ends, writing its results as JSON.
    /// `--tick-rate` and `--max-players` set the match's timing and size.
    Dedicated(DedicatedArgs),
    /// Read a match recording: a summary, `--verify` (re-simulate and check every world hash
    /// and the results; exit 1 at the first difference), or `--at TICK` (the world as JSON).
    Replay(crate::replay::cli::ReplayArgs),
}

#[derive(Args, Debug)]
pub struct DedicatedArgs {
    /// Kills that end the match.
    #[arg(long, default_value_t = crate::game::options::DEFAULT_SCORE_LIMIT)]
    pub score_limit: u16,
    /// Match length, e.g. 5m.
    #[arg(long, default_value = "5m")]
    pub time_limit: String,
    /// End the match when nobody has been in it this long, e.g. 30s.
    #[arg(long, default_value = "30s")]
    pub empty_timeout: String,
    /// Write the results JSON here instead of stdout.
    #[arg(long)]
    pub results_file: Option<PathBuf>,
    /// Seed of the match's RNG.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Speak the Agones SDK: Ready once listening, health pings, match id and player count as
    /// labels, Shutdown after the results are written (builds with the `agones` feature).
    #[cfg(feature = "agones")]
    #[arg(long)]
    pub agones: bool,
}

/// Flags for configuration keys. Precedence: defaults ← `--config` file ← `TICKWIRE_*` ← flags.
#[derive(Args, Debug, Default)]
pub struct SettingFlags {
    /// TOML configuration file (see tickwire.example.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Listen address [key: bind].
    #[arg(long, global = true)]
    pub bind: Option<String>,
    /// Base URL put in ws_url, e.g. wss://play.example.com [key: public_url].
    #[arg(long, global = true)]
    pub public_url: Option<String>,
    /// Default tick rate of new matches, 1..=240 [key: tick_rate].
    #[arg(long, global = true)]
    pub tick_rate: Option<String>,
    /// Default snapshot interval in ticks [key: snapshot_interval].
    #[arg(long, global = true)]
    pub snapshot_interval: Option<String>,
    /// Default players per match, 1..=64 [key: max_players].
    #[arg(long, global = true)]
    pub max_players: Option<String>,
    /// Most matches at once [key: max_matches].
    #[arg(long, global = true)]
    pub max_matches: Option<String>,
    /// Most WebSocket connections at once [key: max_connections].
    #[arg(long, global = true)]
    pub max_connections: Option<String>,
    /// File holding the HS256 secret [key: jwt_secret_file].
    #[arg(long, global = true)]
    pub jwt_secret_file: Option<String>,
    /// PEM public key to verify RS256/ES256 tokens [key: jwt_public_key_file].
    #[arg(long, global = true)]
    pub jwt_public_key_file: Option<String>,
    /// Allowed browser origins, comma-separated [key: allowed_origins].
    #[arg(long, global = true)]
    pub allowed_origins: Option<String>,
    /// Log level or filter [key: log_level].
    #[arg(long = "log-level", alias = "log", global = true)]
    pub log_level: Option<String>,
    /// text or json [key: log_format].
    #[arg(long, global = true)]
    pub log_format: Option<String>,
    /// Also serve /metrics on this address [key: metrics_bind].
    #[arg(long, global = true)]
    pub metrics_bind: Option<String>,
    /// How long matches may run on after a shutdown signal [key: drain_timeout].
    #[arg(long, global = true)]
    pub drain_timeout: Option<String>,
    /// Match results log (JSON lines, fsynced) [key: results_log].
    #[arg(long, global = true)]
    pub results_log: Option<String>,
    /// TLS certificate chain, PEM [key: tls_cert].
    #[arg(long, global = true)]
    pub tls_cert: Option<String>,
    /// TLS private key, PEM [key: tls_key].
    #[arg(long, global = true)]
    pub tls_key: Option<String>,
    /// Redis of the cluster, e.g. redis://127.0.0.1:6379 or rediss://… [key: redis_url].
    #[arg(long, global = true)]
    pub redis_url: Option<String>,
    /// This node's id in the cluster (default: random) [key: node_id].
    #[arg(long, global = true)]
    pub node_id: Option<String>,
    /// Set any key: --set key=value (repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

impl SettingFlags {
    /// The flags as (key, value) pairs, in precedence order (`--set` last).
    pub fn pairs(&self) -> Result<Vec<(String, String)>, ConfigError> {
        let named = [
            ("bind", &self.bind),
            ("public_url", &self.public_url),
            ("tick_rate", &self.tick_rate),
            ("snapshot_interval", &self.snapshot_interval),
            ("max_players", &self.max_players),
            ("max_matches", &self.max_matches),
            ("max_connections", &self.max_connections),
            ("jwt_secret_file", &self.jwt_secret_file),
            ("jwt_public_key_file", &self.jwt_public_key_file),
            ("allowed_origins", &self.allowed_origins),
            ("log_level", &self.log_level),
            ("log_format", &self.log_format),
            ("metrics_bind", &self.metrics_bind),
            ("drain_timeout", &self.drain_timeout),
            ("results_log", &self.results_log),
            ("tls_cert", &self.tls_cert),
            ("tls_key", &self.tls_key),
            ("redis_url", &self.redis_url),
            ("node_id", &self.node_id),
        ];
        let mut pairs: Vec<(String, String)> = named
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_owned(), v.clone())))
            .collect();
        for kv in &self.set {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| ConfigError(format!("--set {kv:?}: expected KEY=VALUE")))?;
            pairs.push((k.trim().to_owned(), v.to_owned()));
        }
        Ok(pairs)
    }

    /// The layers for this process.
    pub fn layers(&self) -> Result<Layers, ConfigError> {
        Ok(Layers::from_process(self.config.clone(), self.pairs()?))
    }
}
