//! `RawConfig`: every key with its embedded default, as written in TOML (flat, one key a line).

use serde::{Deserialize, Serialize};

/// All keys. Numbers are wide here so that out-of-range values reach validation, which names
/// the key and the allowed range; durations are strings such as `"30s"`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub bind: String,
    pub public_url: String,
    pub tick_rate: i64,
    pub snapshot_interval: i64,
    pub max_players: i64,
    pub max_matches: i64,
    pub max_connections: i64,
    pub max_connections_per_ip: i64,
    pub max_sockets_per_ip: i64,
    pub header_read_timeout: String,
    pub handshake_timeout: String,
    pub request_timeout: String,
    pub write_timeout: String,
    pub max_header_bytes: i64,
    pub trust_host_header: bool,
    pub http_rate_limit: i64,
    pub http_rate_burst: i64,
    pub max_created_matches_per_player: i64,
    pub max_created_matches_per_ip: i64,
    pub jwt_secret: String,
    pub jwt_secret_file: String,
    pub jwt_public_key_file: String,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub token_lifetime: String,
    pub guest_login: bool,
    pub allowed_origins: Vec<String>,
    pub connect_src: Vec<String>,
    pub allow_missing_origin: bool,
    pub max_message_bytes: i64,
    pub input_rate_limit: i64,
    pub outbox_frames: i64,
    pub worker_threads: i64,
    pub slow_client_timeout: String,
    pub socket_send_buffer: i64,
    pub reconnect_grace: String,
    pub keepalive_timeout: String,
    pub drain_timeout: String,
    pub empty_match_timeout: String,
    pub seat_reservation: String,
    pub log_format: String,
    pub log_level: String,
    pub metrics_bind: String,
    pub results_log: String,
    pub map_file: String,
    pub map: String,
    pub interest_radius: i64,
    pub lag_compensation_max_ms: i64,
    pub record_dir: String,
    pub record_keep: i64,
    pub record_keep_per_creator: i64,
    pub record_max_age: String,
    pub max_spectators: i64,
    pub spectator_delay_ms: i64,
    pub tls_cert: String,
    pub tls_key: String,
    pub redis_url: String,
    pub redis_ca_file: String,
    pub node_id: String,
    pub node_url: String,
    pub cluster_heartbeat: String,
    pub cluster_ttl: String,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            bind: "127.0.0.1:8080".into(),
            public_url: String::new(),
            tick_rate: 30,
            snapshot_interval: 1,
            max_players: 16,
            max_matches: 1000,
            max_connections: 10_000,
            max_connections_per_ip: 32,
            max_sockets_per_ip: 256,
            header_read_timeout: "10s".into(),
            handshake_timeout: "10s".into(),
            request_timeout: "10s".into(),
            write_timeout: "10s".into(),
            max_header_bytes: 16 * 1024,
            trust_host_header: false,
            http_rate_limit: 2,
            http_rate_burst: 10,
            max_created_matches_per_player: 2,
            max_created_matches_per_ip: 8,
            jwt_secret: String::new(),
            jwt_secret_file: String::new(),
            jwt_public_key_file: String::new(),
            jwt_issuer: "tickwire".into(),
            jwt_audience: "tickwire".into(),
            token_lifetime: "1h".into(),
            guest_login: true,
            allowed_origins: Vec::new(),
            connect_src: Vec::new(),
            allow_missing_origin: true,
            max_message_bytes: 4096,
            input_rate_limit: 0,
            outbox_frames: 8,
            worker_threads: 0,
            slow_client_timeout: "3s".into(),
            socket_send_buffer: 64 * 1024,
            reconnect_grace: "10s".into(),
            keepalive_timeout: "10s".into(),
            drain_timeout: "30s".into(),
            empty_match_timeout: "30s".into(),
            seat_reservation: "15s".into(),
            log_format: "text".into(),
            log_level: "info".into(),
            metrics_bind: String::new(),
            results_log: "tickwire-results.jsonl".into(),
            map_file: String::new(),
            map: String::new(),
            interest_radius: 0,
            lag_compensation_max_ms: 200,
            record_dir: String::new(),
            record_keep: 100,
            record_keep_per_creator: 5,
            record_max_age: "0s".into(),
            max_spectators: 32,
            spectator_delay_ms: 0,
            tls_cert: String::new(),
            tls_key: String::new(),
            redis_url: String::new(),
            redis_ca_file: String::new(),
            node_id: String::new(),
            node_url: String::new(),
            cluster_heartbeat: "1s".into(),
            cluster_ttl: "5s".into(),
        }
    }
}

/// Keys whose values are secrets: printed as `<redacted>` (`redis_url` only when it carries a
/// password, `redis://user:password@host`).
pub const SECRET_KEYS: [&str; 2] = ["jwt_secret", "redis_url"];

impl RawConfig {
    /// The configuration as TOML, secrets redacted.
    pub fn to_redacted_toml(&self) -> String {
        let mut shown = self.clone();
        if !shown.jwt_secret.is_empty() {
            shown.jwt_secret = "<redacted>".into();
        }
        if shown.redis_url.contains('@') {
            shown.redis_url = "<redacted>".into();
        }
        toml::to_string(&shown).unwrap_or_default()
    }
}
