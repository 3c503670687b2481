//! Server configuration: command-line flags and `TICKWIRE_*` environment variables, validated.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// `tickwire-server` flags. Each flag can also come from the environment variable named in
/// `--help`; a flag wins over the environment.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "tickwire-server",
    version,
    about = "Tickwire authoritative game server"
)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "TICKWIRE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Default tick rate (Hz) of new matches, 1..=240.
    #[arg(long, env = "TICKWIRE_TICK_RATE", default_value_t = 30,
          value_parser = clap::value_parser!(u16).range(1..=240))]
    pub tick_rate: u16,
    /// Default players per match, 1..=64.
    #[arg(long, env = "TICKWIRE_MAX_PLAYERS", default_value_t = 16,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub max_players: u16,
    /// Most matches at once.
    #[arg(long, env = "TICKWIRE_MAX_MATCHES", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_matches: u32,
    /// File holding the HS256 secret (at least 32 bytes). `TICKWIRE_JWT_SECRET` sets it
    /// directly; with neither, a random secret is made at start (tokens die with the process).
    #[arg(long, env = "TICKWIRE_JWT_SECRET_FILE")]
    pub jwt_secret_file: Option<PathBuf>,
    /// Log filter, in `tracing` env-filter syntax.
    #[arg(long, env = "TICKWIRE_LOG", default_value = "info")]
    pub log: String,
}

/// The validated settings the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub tick_rate: u16,
    pub max_players: u16,
    pub max_matches: u32,
    /// HS256 signing secret; never logged.
    pub jwt_secret: Vec<u8>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub token_lifetime: Duration,
    /// Snapshots a client's outbox holds before it is skipped.
    pub outbox_frames: usize,
    /// A client skipped this long in a row is closed as too slow.
    pub slow_client_timeout: Duration,
    /// Kernel send buffer asked for on each accepted socket.
    pub socket_send_buffer: usize,
    /// Largest WebSocket message and frame accepted from a client.
    pub max_message_bytes: usize,
    /// Queue between sessions and one match.
    pub match_inbox: usize,
    /// A match with nobody in it for this long ends.
    pub empty_match_timeout: Duration,
    /// How long a matchmaking seat reservation waits for its player to connect.
    pub seat_reservation: Duration,
}

/// Smallest accepted HS256 secret, in bytes (RFC 7518 §3.2: at least the hash size).
pub const MIN_SECRET_BYTES: usize = 32;

impl Config {
    /// Defaults for everything, with the given secret. Used by tests and as the base of `from_args`.
    pub fn with_secret(jwt_secret: Vec<u8>) -> Config {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            tick_rate: 30,
            max_players: 16,
            max_matches: 1000,
            jwt_secret,
            jwt_issuer: "tickwire".into(),
            jwt_audience: "tickwire".into(),
            token_lifetime: Duration::from_secs(3600),
            outbox_frames: 8,
            slow_client_timeout: Duration::from_secs(3),
            socket_send_buffer: 64 * 1024,
            max_message_bytes: 4096,
            match_inbox: 1024,
            empty_match_timeout: Duration::from_secs(30),
            seat_reservation: Duration::from_secs(15),
        }
    }

    /// Builds the config from flags and environment. Returns the config and whether the secret
    /// was generated (the caller warns), or an error naming the setting at fault.
    pub fn from_args(args: &Args) -> Result<(Config, bool), String> {
        let (secret, generated) = load_secret(args)?;
        let mut config = Config::with_secret(secret);
        config.bind = args.bind;
        config.tick_rate = args.tick_rate;
        config.max_players = args.max_players;
        config.max_matches = args.max_matches;
        Ok((config, generated))
    }
}

fn load_secret(args: &Args) -> Result<(Vec<u8>, bool), String> {
    let secret = if let Some(path) = &args.jwt_secret_file {
        let text =
            std::fs::read(path).map_err(|e| format!("jwt secret file {}: {e}", path.display()))?;
        Some(text.trim_ascii().to_vec())
    } else {
        std::env::var("TICKWIRE_JWT_SECRET")
            .ok()
            .map(String::into_bytes)
    };
    match secret {
        Some(s) if s.len() < MIN_SECRET_BYTES => Err(format!(
            "jwt secret: {} bytes, at least {MIN_SECRET_BYTES} required",
            s.len()
        )),
        Some(s) => Ok((s, false)),
        None => Ok((random_secret(), true)),
    }
}

/// 32 random bytes, for a dev server with no configured secret.
pub fn random_secret() -> Vec<u8> {
    use rand::RngCore;
    let mut s = vec![0u8; MIN_SECRET_BYTES];
    rand::rng().fill_bytes(&mut s);
    s
}
