//! Server configuration: embedded defaults ← TOML file (`--config`) ← `TICKWIRE_*` environment
//! ← command-line flags, validated once into a [`Config`] with errors that name the key, the
//! value and the allowed range.

pub mod duration;
pub mod layers;
pub mod raw;
mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use layers::{Layers, load_raw};
pub use raw::RawConfig;

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The validated settings the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    /// Base of the `ws_url` handed to clients (`ws://host:port` or `wss://…`); `None`: derived from
    /// each request's Host header.
    pub public_url: Option<String>,
    pub tick_rate: u16,
    pub snapshot_interval: u16,
    pub max_players: u16,
    pub max_matches: u32,
    pub max_connections: u32,
    /// Most WebSocket connections from one IP address (more: 429 before the upgrade).
    pub max_connections_per_ip: u32,
    /// Most TCP connections open from one IP address (HTTP, WebSocket, lingering), counted at
    /// accept; more are answered 429 and closed. Also: in the last tenth of `max_connections`
    /// only addresses holding fewer than 8 get in.
    pub max_sockets_per_ip: u32,
    /// A client that has not sent a request's whole header by then is disconnected (slowloris).
    pub header_read_timeout: Duration,
    /// A new connection must send its first byte (plain) or finish the TLS handshake by then.
    pub handshake_timeout: Duration,
    /// A request's body and handling must be done by then (408): trickled bodies end.
    pub request_timeout: Duration,
    /// A write to a connection (an HTTP answer, a WebSocket frame) that makes no progress for
    /// this long fails the connection: a peer that reads nothing is let go.
    pub write_timeout: Duration,
    /// Largest request header section; larger gets 431.
    pub max_header_bytes: usize,
    /// With no `public_url`: build `ws_url` from the request's Host header (only behind a proxy
    /// that sets it); otherwise from the address the client's connection reached.
    pub trust_host_header: bool,
    /// Requests per second one address may make to the routes that create state (guest login,
    /// matchmake, create match); 0: no limit.
    pub http_rate_limit: u32,
    /// How many of those requests one address may make at once before the rate applies.
    pub http_rate_burst: u32,
    /// Live matches one player may have created (`POST /v1/matches`).
    pub max_created_matches_per_player: u32,
    /// Live matches the players of one address may have created.
    pub max_created_matches_per_ip: u32,
    /// HS256 secret; never logged. Generated at start when none is configured.
    pub jwt_secret: Vec<u8>,
    /// True when `jwt_secret` was generated for this process.
    pub jwt_secret_generated: bool,
    /// PEM public key for RS256 / ES256 tokens from an external issuer.
    pub jwt_public_key: Option<Vec<u8>>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub token_lifetime: Duration,
    pub guest_login: bool,
    /// Browser origins allowed to open WebSockets besides the server's own; `*` allows any.
    pub allowed_origins: Vec<String>,
    /// More places the game page may open WebSockets to (its CSP `connect-src`), e.g. every
    /// node of a cluster: `wss://*.play.example`.
    pub connect_src: Vec<String>,
    /// Whether upgrades without an Origin header (native clients) are allowed.
    pub allow_missing_origin: bool,
    /// Largest WebSocket message and frame accepted from a client.
    pub max_message_bytes: usize,
    /// Client messages per second per connection; 0 means twice the match's tick rate plus 5.
    pub input_rate_limit: u32,
    /// Snapshots a client's outbox holds before it is skipped.
    pub outbox_frames: usize,
    /// Threads of the async runtime that runs matches and connections; 0: one per core.
    pub worker_threads: usize,
    /// A client skipped this long in a row is closed as too slow.
    pub slow_client_timeout: Duration,
    /// Kernel send buffer asked for on each accepted socket.
    pub socket_send_buffer: usize,
    /// How long a dropped player's entity waits (standing still) for them to reconnect.
    pub reconnect_grace: Duration,
    /// A connection silent this long (no data, no pong to the 1 s pings) counts as dropped.
    pub keepalive_timeout: Duration,
    /// On shutdown, how long running matches may go on before they are ended.
    pub drain_timeout: Duration,
    /// A match with nobody in it for this long ends.
    pub empty_match_timeout: Duration,
    /// How long a matchmaking seat reservation waits for its player to connect.
    pub seat_reservation: Duration,
    pub log_format: LogFormat,
    pub log_level: String,
    /// Serve `/metrics` on its own address too (it is always on the main listener).
    pub metrics_bind: Option<SocketAddr>,
    /// Append-only JSON-lines file of match results (fsynced before a match is torn down).
    pub results_log: Option<PathBuf>,
    /// A JSON map, offered as the map named `file` (and the default one unless `map` names
    /// another).
    pub map_file: Option<PathBuf>,
    /// The map of matches that do not name one: `arena`, `large` or `file`.
    pub map: String,
    /// Default radius of each player's area of interest in world units (0: everything).
    pub interest_radius: u32,
    /// Default bound on how far back a shot is tested (lag compensation; 0: off).
    pub lag_compensation_max_ms: u16,
    /// Where match recordings are written (none: matches are not recorded).
    pub record_dir: Option<PathBuf>,
    /// Which finished recordings are kept.
    pub record_retention: Retention,
    /// Default cap on spectators per match.
    pub max_spectators: u16,
    /// Default delay of what spectators see, ms (0: live).
    pub spectator_delay_ms: u32,
    /// TLS certificate chain and private key (PEM) for `wss://`.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Queue between sessions and one match.
    pub match_inbox: usize,
    /// Set when `redis_url` is: this process is one node of a cluster.
    pub cluster: Option<ClusterConfig>,
}

/// The cluster settings (docs/cluster.md).
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// `redis://…` or `rediss://…`; may carry a password, so never logged.
    pub redis_url: String,
    /// PEM roots to trust for `rediss://` instead of the webpki and system roots (a private CA).
    pub redis_ca: Option<Vec<u8>>,
    pub node_id: String,
    /// Where other nodes reach this one over HTTP; `None`: derived at start (see
    /// [`ClusterConfig::http_base`]).
    pub node_url: Option<String>,
    pub heartbeat: Duration,
    pub ttl: Duration,
}

impl ClusterConfig {
    /// This node's HTTP base for other nodes: `node_url`, else `public_url` with ws → http
    /// (wss → https), else the bound address.
    pub fn http_base(&self, public_url: Option<&str>, bound: SocketAddr, tls: bool) -> String {
        if let Some(u) = &self.node_url {
            return u.clone();
        }
        match public_url {
            Some(u) => match u.strip_prefix("wss://") {
                Some(rest) => format!("https://{rest}"),
                None => format!("http://{}", u.trim_start_matches("ws://")),
            },
            None if tls => format!("https://{bound}"),
            None => format!("http://{bound}"),
        }
    }

    /// This node's WebSocket base for clients: `public_url`, else the bound address.
    pub fn ws_base(public_url: Option<&str>, bound: SocketAddr, tls: bool) -> String {
        match public_url {
            Some(u) => u.to_owned(),
            None if tls => format!("wss://{bound}"),
            None => format!("ws://{bound}"),
        }
    }
}

/// Smallest accepted HS256 secret, in bytes (RFC 7518 §3.2: at least the hash size).
pub const MIN_SECRET_BYTES: usize = 32;

/// A configuration error, naming the key and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "config: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// The embedded defaults with the given secret and no results log (tests use this).
    pub fn with_secret(jwt_secret: Vec<u8>) -> Config {
        let mut config = RawConfig::default()
            .validate()
            .unwrap_or_else(|e| unreachable!("embedded defaults are valid: {e}"));
        config.jwt_secret = jwt_secret;
        config.jwt_secret_generated = false;
        config.results_log = None;
        config
    }

    /// Loads every layer and validates the result.
    pub fn load(layers: &Layers) -> Result<Config, ConfigError> {
        load_raw(layers)?.validate()
    }
}

/// 32 random bytes, for a dev server with no configured secret.
pub fn random_secret() -> Vec<u8> {
    use rand::RngCore;
    let mut s = vec![0u8; MIN_SECRET_BYTES];
    rand::rng().fill_bytes(&mut s);
    s
}

/// Which finished recordings are kept (`record_keep`, `record_max_age`,
/// `record_keep_per_creator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// The newest this many are kept (0: no count limit).
    pub keep: u32,
    /// Older than this are deleted (zero: no age limit).
    pub max_age: Duration,
    /// Of the recordings of player-created matches, the newest this many per creator are kept
    /// (0: no per-creator limit).
    pub per_creator: u32,
}
