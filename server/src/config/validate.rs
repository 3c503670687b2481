//! `RawConfig` → `Config`: every key checked, errors naming the key, the value and the range.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::duration;
use crate::config::raw::RawConfig;
use crate::config::{
    ClusterConfig, Config, ConfigError, LogFormat, MIN_SECRET_BYTES, random_secret,
};

fn int<T: TryFrom<i64>>(key: &str, v: i64, lo: i64, hi: i64) -> Result<T, ConfigError> {
    if v < lo || v > hi {
        return Err(ConfigError(format!("{key} = {v}: must be in {lo}..={hi}")));
    }
    T::try_from(v).map_err(|_| ConfigError(format!("{key} = {v}: out of range")))
}

fn dur(key: &str, v: &str, lo: Duration, hi: Duration) -> Result<Duration, ConfigError> {
    let d = duration::parse(v).map_err(|e| ConfigError(format!("{key} = {e}")))?;
    if d < lo || d > hi {
        return Err(ConfigError(format!(
            "{key} = {v:?}: must be in {}..={}",
            duration::format(lo),
            duration::format(hi)
        )));
    }
    Ok(d)
}

fn addr(key: &str, v: &str) -> Result<SocketAddr, ConfigError> {
    v.parse().map_err(|_| {
        ConfigError(format!(
            "{key} = {v:?}: expected an address like 127.0.0.1:8080"
        ))
    })
}

fn optional(v: &str) -> Option<&str> {
    (!v.trim().is_empty()).then_some(v)
}

fn read_file(key: &str, path: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| ConfigError(format!("{key} = {path:?}: {e}")))
}

const SEC: Duration = Duration::from_secs(1);

impl RawConfig {
    /// Checks every key and builds the runtime [`Config`].
    pub fn validate(&self) -> Result<Config, ConfigError> {
        let rates = shared::limits::TICK_RATE;
        let tick_rate: u16 = int(
            "tick_rate",
            self.tick_rate,
            i64::from(*rates.start()),
            i64::from(*rates.end()),
        )?;
        let public_url = match optional(&self.public_url) {
            None => None,
            Some(u) if u.starts_with("ws://") || u.starts_with("wss://") => {
                Some(u.trim_end_matches('/').to_owned())
            }
            Some(u) => {
                return Err(ConfigError(format!(
                    "public_url = {u:?}: must start with ws:// or wss://"
                )));
            }
        };
        let (jwt_secret, jwt_secret_generated) = self.secret()?;
        let jwt_public_key = optional(&self.jwt_public_key_file)
            .map(|p| read_file("jwt_public_key_file", p))
            .transpose()?;
        let log_format = match self.log_format.as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError(format!(
                    "log_format = {other:?}: must be \"text\" or \"json\""
                )));
            }
        };
        if tracing_subscriber::EnvFilter::try_new(&self.log_level).is_err() {
            return Err(ConfigError(format!(
                "log_level = {:?}: expected a level (error, warn, info, debug, trace) or a filter",
                self.log_level
            )));
        }
        for o in &self.allowed_origins {
            let ok = o == "*" || o.starts_with("http://") || o.starts_with("https://");
            if !ok || o.ends_with('/') {
                return Err(ConfigError(format!(
                    "allowed_origins: {o:?} must be \"*\" or an origin like https://game.example (no path)"
                )));
            }
        }
        for src in &self.connect_src {
            let scheme_ok = ["ws://", "wss://", "http://", "https://"]
                .iter()
                .any(|s| src.starts_with(s));
            let clean =
                !src.contains(|c: char| c.is_whitespace() || c == ';' || c == ',' || c == '\'');
            if !scheme_ok || !clean {
                return Err(ConfigError(format!(
                    "connect_src: {src:?} must be a CSP source like wss://*.play.example or ws://10.0.0.5:8080"
                )));
            }
        }
        let tls = match (optional(&self.tls_cert), optional(&self.tls_key)) {
            (None, None) => None,
            (Some(c), Some(k)) => Some((PathBuf::from(c), PathBuf::from(k))),
            _ => {
                return Err(ConfigError(
                    "tls_cert and tls_key must be set together".into(),
                ));
            }
        };
        let bind = addr("bind", &self.bind)?;
        let cluster = self.cluster(bind, public_url.is_some(), jwt_secret_generated)?;
        Ok(Config {
            bind,
            public_url,
            tick_rate,
            snapshot_interval: int(
                "snapshot_interval",
                self.snapshot_interval,
                1,
                i64::from(tick_rate),
            )?,
            max_players: int(
                "max_players",
                self.max_players,
                i64::from(*shared::limits::MAX_PLAYERS.start()),
                i64::from(*shared::limits::MAX_PLAYERS.end()),
            )?,
            max_matches: int("max_matches", self.max_matches, 1, 100_000)?,
            max_connections: int("max_connections", self.max_connections, 1, 1_000_000)?,
            max_connections_per_ip: int(
                "max_connections_per_ip",
                self.max_connections_per_ip,
                1,
                1_000_000,
            )?,
            max_sockets_per_ip: int("max_sockets_per_ip", self.max_sockets_per_ip, 1, 1_000_000)?,
            header_read_timeout: dur(
                "header_read_timeout",
                &self.header_read_timeout,
                SEC,
                300 * SEC,
            )?,
            handshake_timeout: dur("handshake_timeout", &self.handshake_timeout, SEC, 300 * SEC)?,
            request_timeout: dur("request_timeout", &self.request_timeout, SEC, 300 * SEC)?,
            write_timeout: dur("write_timeout", &self.write_timeout, SEC, 300 * SEC)?,
            max_header_bytes: int("max_header_bytes", self.max_header_bytes, 8192, 1 << 20)?,
            trust_host_header: self.trust_host_header,
            http_rate_limit: int("http_rate_limit", self.http_rate_limit, 0, 1_000_000)?,
            http_rate_burst: int("http_rate_burst", self.http_rate_burst, 1, 1_000_000)?,
            max_created_matches_per_player: int(
                "max_created_matches_per_player",
                self.max_created_matches_per_player,
                1,
                100_000,
            )?,
            max_created_matches_per_ip: int(
                "max_created_matches_per_ip",
                self.max_created_matches_per_ip,
                1,
                100_000,
            )?,
            jwt_secret,
            jwt_secret_generated,
            jwt_public_key,
            jwt_issuer: nonempty("jwt_issuer", &self.jwt_issuer)?,
            jwt_audience: nonempty("jwt_audience", &self.jwt_audience)?,
            token_lifetime: dur(
                "token_lifetime",
                &self.token_lifetime,
                60 * SEC,
                30 * 86_400 * SEC,
            )?,
            guest_login: self.guest_login,
            allowed_origins: self.allowed_origins.clone(),
            connect_src: self.connect_src.clone(),
            allow_missing_origin: self.allow_missing_origin,
            max_message_bytes: int("max_message_bytes", self.max_message_bytes, 64, 1 << 20)?,
            input_rate_limit: int("input_rate_limit", self.input_rate_limit, 0, 10_000)?,
            outbox_frames: int("outbox_frames", self.outbox_frames, 1, 1024)?,
            worker_threads: int("worker_threads", self.worker_threads, 0, 1024)?,
            slow_client_timeout: dur(
                "slow_client_timeout",
                &self.slow_client_timeout,
                Duration::from_millis(100),
                60 * SEC,
            )?,
            socket_send_buffer: int(
                "socket_send_buffer",
                self.socket_send_buffer,
                4096,
                16 << 20,
            )?,
            reconnect_grace: dur(
                "reconnect_grace",
                &self.reconnect_grace,
                Duration::ZERO,
                600 * SEC,
            )?,
            keepalive_timeout: dur(
                "keepalive_timeout",
                &self.keepalive_timeout,
                2 * SEC,
                600 * SEC,
            )?,
            drain_timeout: dur(
                "drain_timeout",
                &self.drain_timeout,
                Duration::ZERO,
                3600 * SEC,
            )?,
            empty_match_timeout: dur(
                "empty_match_timeout",
                &self.empty_match_timeout,
                SEC,
                86_400 * SEC,
            )?,
            seat_reservation: dur("seat_reservation", &self.seat_reservation, SEC, 600 * SEC)?,
            log_format,
            log_level: self.log_level.clone(),
            metrics_bind: optional(&self.metrics_bind)
                .map(|a| addr("metrics_bind", a))
                .transpose()?,
            results_log: optional(&self.results_log).map(PathBuf::from),
            map_file: optional(&self.map_file).map(PathBuf::from),
            map: self.map_name()?,
            interest_radius: int(
                "interest_radius",
                self.interest_radius,
                i64::from(*shared::limits::INTEREST_RADIUS.start()),
                i64::from(*shared::limits::INTEREST_RADIUS.end()),
            )?,
            lag_compensation_max_ms: int(
                "lag_compensation_max_ms",
                self.lag_compensation_max_ms,
                i64::from(*shared::limits::LAG_COMPENSATION_MS.start()),
                i64::from(*shared::limits::LAG_COMPENSATION_MS.end()),
            )?,
            record_dir: optional(&self.record_dir).map(PathBuf::from),
            record_retention: super::Retention {
                keep: int("record_keep", self.record_keep, 0, 1_000_000)?,
                max_age: dur(
                    "record_max_age",
                    &self.record_max_age,
                    Duration::ZERO,
                    100_000 * 3600 * SEC,
                )?,
                per_creator: int(
                    "record_keep_per_creator",
                    self.record_keep_per_creator,
                    0,
                    1_000_000,
                )?,
            },
            max_spectators: int(
                "max_spectators",
                self.max_spectators,
                i64::from(*shared::limits::MAX_SPECTATORS.start()),
                i64::from(*shared::limits::MAX_SPECTATORS.end()),
            )?,
            spectator_delay_ms: int(
                "spectator_delay_ms",
                self.spectator_delay_ms,
                i64::from(*shared::limits::SPECTATOR_DELAY_MS.start()),
                i64::from(*shared::limits::SPECTATOR_DELAY_MS.end()),
            )?,
            tls,
            match_inbox: 1024,
            cluster,
        })
    }

    /// The default map's name: `map`, else `file` with a `map_file`, else `arena`.
    fn map_name(&self) -> Result<String, ConfigError> {
        let has_file = optional(&self.map_file).is_some();
        match self.map.as_str() {
            "" if has_file => Ok(crate::maps::FILE.into()),
            "" => Ok(crate::maps::DEFAULT.into()),
            name if crate::maps::exists(name, has_file) => Ok(name.into()),
            name => Err(ConfigError(format!(
                "map = {name:?}: not one of {}",
                crate::maps::names(has_file).join(", ")
            ))),
        }
    }

    /// The cluster settings when `redis_url` is set. Every node must accept every node's tokens
    /// (a configured secret) and tell others where it is (an address they can reach).
    fn cluster(
        &self,
        bind: SocketAddr,
        has_public_url: bool,
        secret_generated: bool,
    ) -> Result<Option<ClusterConfig>, ConfigError> {
        let Some(url) = optional(&self.redis_url) else {
            return Ok(None);
        };
        let scheme_ok = ["redis://", "rediss://", "redis+unix://", "unix://"]
            .iter()
            .any(|s| url.starts_with(s));
        // The error never echoes the URL: it may carry a password.
        if !scheme_ok || redis::Client::open(url).is_err() {
            return Err(ConfigError(
                "redis_url: expected redis://host:port or rediss://host:port (optionally user:password@ and /db)".into(),
            ));
        }
        let redis_ca = optional(&self.redis_ca_file)
            .map(|p| read_file("redis_ca_file", p))
            .transpose()?;
        if redis_ca.is_some() && !url.starts_with("rediss://") {
            return Err(ConfigError(
                "redis_ca_file is for TLS: set redis_url to rediss://…".into(),
            ));
        }
        if secret_generated {
            return Err(ConfigError(
                "redis_url needs a configured jwt_secret or jwt_secret_file: every node must accept the tokens every other node issues".into(),
            ));
        }
        let node_id = match optional(&self.node_id) {
            None => format!("{:08x}", rand::random::<u32>()),
            Some(id)
                if id.len() <= 64
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
            {
                id.to_owned()
            }
            Some(id) => {
                return Err(ConfigError(format!(
                    "node_id = {id:?}: at most 64 letters, digits, - and _"
                )));
            }
        };
        let node_url = match optional(&self.node_url) {
            None => None,
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
                Some(u.trim_end_matches('/').to_owned())
            }
            Some(u) => {
                return Err(ConfigError(format!(
                    "node_url = {u:?}: must start with http:// or https://"
                )));
            }
        };
        if !has_public_url && bind.ip().is_unspecified() {
            return Err(ConfigError(format!(
                "redis_url with bind = {bind}: set public_url (where players reach this node) \
                 or bind a specific address, so other nodes can send players here"
            )));
        }
        let heartbeat = dur(
            "cluster_heartbeat",
            &self.cluster_heartbeat,
            Duration::from_millis(100),
            10 * SEC,
        )?;
        let ttl = dur("cluster_ttl", &self.cluster_ttl, SEC, 120 * SEC)?;
        if ttl < 2 * heartbeat {
            return Err(ConfigError(format!(
                "cluster_ttl = {:?}: must be at least twice cluster_heartbeat ({:?}), or one late refresh drops the node",
                self.cluster_ttl, self.cluster_heartbeat
            )));
        }
        Ok(Some(ClusterConfig {
            redis_url: url.to_owned(),
            redis_ca,
            node_id,
            node_url,
            heartbeat,
            ttl,
        }))
    }

    /// The HS256 secret from `jwt_secret` or `jwt_secret_file` (not both), else a generated one.
    fn secret(&self) -> Result<(Vec<u8>, bool), ConfigError> {
        let secret = match (optional(&self.jwt_secret), optional(&self.jwt_secret_file)) {
            (Some(_), Some(_)) => {
                return Err(ConfigError(
                    "set jwt_secret or jwt_secret_file, not both".into(),
                ));
            }
            (Some(s), None) => Some(("jwt_secret", s.as_bytes().to_vec())),
            (None, Some(path)) => Some((
                "jwt_secret_file",
                read_file("jwt_secret_file", path)?.trim_ascii().to_vec(),
            )),
            (None, None) => None,
        };
        match secret {
            // Never echo the secret itself.
            Some((key, s)) if s.len() < MIN_SECRET_BYTES => Err(ConfigError(format!(
                "{key}: {} bytes, must be at least {MIN_SECRET_BYTES}",
                s.len()
            ))),
            Some((_, s)) => Ok((s, false)),
            None => Ok((random_secret(), true)),
        }
    }
}

fn nonempty(key: &str, v: &str) -> Result<String, ConfigError> {
    optional(v)
        .map(str::to_owned)
        .ok_or_else(|| ConfigError(format!("{key} must not be empty")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let c = RawConfig::default().validate().expect("valid");
        assert_eq!(c.tick_rate, 30);
        assert!(c.jwt_secret_generated);
    }

    #[test]
    fn errors_name_key_value_and_range() {
        let raw = RawConfig {
            tick_rate: 500,
            ..RawConfig::default()
        };
        assert_eq!(
            raw.validate().expect_err("invalid").0,
            "tick_rate = 500: must be in 1..=240"
        );
        let raw = RawConfig {
            drain_timeout: "2h".into(),
            ..RawConfig::default()
        };
        assert_eq!(
            raw.validate().expect_err("invalid").0,
            "drain_timeout = \"2h\": must be in 0s..=1h"
        );
        let raw = RawConfig {
            jwt_secret: "short".into(),
            ..RawConfig::default()
        };
        let e = raw.validate().expect_err("invalid").0;
        assert!(e.contains("at least 32") && !e.contains("short"), "{e}");
    }

    #[test]
    fn the_default_map_is_named_and_checked() {
        assert_eq!(RawConfig::default().validate().expect("valid").map, "arena");
        let with_file = RawConfig {
            map_file: "my.json".into(),
            ..RawConfig::default()
        };
        assert_eq!(with_file.validate().expect("valid").map, "file");
        let large = RawConfig {
            map: "large".into(),
            interest_radius: 1000,
            ..RawConfig::default()
        };
        assert_eq!(large.validate().expect("valid").interest_radius, 1000);
        let unknown = RawConfig {
            map: "file".into(),
            ..RawConfig::default()
        };
        assert_eq!(
            unknown.validate().expect_err("no map_file").0,
            "map = \"file\": not one of arena, large"
        );
        let far = RawConfig {
            lag_compensation_max_ms: 5000,
            ..RawConfig::default()
        };
        assert_eq!(
            far.validate().expect_err("too far").0,
            "lag_compensation_max_ms = 5000: must be in 0..=1000"
        );
    }

    fn clustered(change: impl FnOnce(&mut RawConfig)) -> Result<Config, ConfigError> {
        let mut raw = RawConfig {
            redis_url: "redis://:hunter2@127.0.0.1:6379/0".into(),
            jwt_secret: "0123456789abcdef0123456789abcdef".into(),
            ..RawConfig::default()
        };
        change(&mut raw);
        raw.validate()
    }

    #[test]
    fn a_cluster_needs_a_redis_url_a_shared_secret_and_a_reachable_address() {
        let c = clustered(|_| {}).expect("valid");
        let cluster = c.cluster.expect("cluster on");
        assert_eq!(
            (cluster.heartbeat, cluster.ttl),
            (SEC, 5 * SEC),
            "refresh 1 s, TTL 5 s"
        );
        assert_eq!(cluster.node_id.len(), 8, "a random id");
        assert!(clustered(|r| r.redis_url = "rediss://cache.example:6380".into()).is_ok());
        assert!(
            RawConfig::default()
                .validate()
                .expect("valid")
                .cluster
                .is_none()
        );

        let e = clustered(|r| r.redis_url = "http://127.0.0.1:6379".into())
            .expect_err("scheme")
            .0;
        assert!(e.starts_with("redis_url:"), "{e}");
        let e = clustered(|r| r.redis_url = "redis://:hunter2@".into())
            .expect_err("no host")
            .0;
        assert!(!e.contains("hunter2"), "the password is never echoed: {e}");
        let e = clustered(|r| r.jwt_secret = String::new())
            .expect_err("generated secret")
            .0;
        assert!(e.contains("jwt_secret"), "{e}");
        let e = clustered(|r| r.bind = "0.0.0.0:8080".into())
            .expect_err("no address to advertise")
            .0;
        assert!(e.contains("public_url"), "{e}");
        assert!(
            clustered(|r| {
                r.bind = "0.0.0.0:8080".into();
                r.public_url = "wss://eu-1.play.example".into();
            })
            .is_ok()
        );
        let e = clustered(|r| r.cluster_ttl = "1s".into())
            .expect_err("ttl below two refreshes")
            .0;
        assert!(e.starts_with("cluster_ttl"), "{e}");
        let e = clustered(|r| r.node_id = "a b".into())
            .expect_err("node id")
            .0;
        assert!(e.starts_with("node_id"), "{e}");
        let e = clustered(|r| r.redis_ca_file = "Cargo.toml".into())
            .expect_err("a CA without TLS")
            .0;
        assert!(e.starts_with("redis_ca_file"), "{e}");
        let e = clustered(|r| r.node_url = "ws://x".into())
            .expect_err("node url")
            .0;
        assert!(e.starts_with("node_url"), "{e}");
    }

    #[test]
    fn a_node_is_reached_where_it_is_told_to_be() {
        let c = clustered(|_| {}).expect("valid").cluster.expect("on");
        let bound: SocketAddr = "10.0.0.5:8080".parse().expect("addr");
        assert_eq!(c.http_base(None, bound, false), "http://10.0.0.5:8080");
        assert_eq!(
            c.http_base(Some("wss://eu-1.play.example"), bound, true),
            "https://eu-1.play.example"
        );
        assert_eq!(
            ClusterConfig::ws_base(Some("wss://eu-1.play.example"), bound, true),
            "wss://eu-1.play.example"
        );
        assert_eq!(
            ClusterConfig::ws_base(None, bound, false),
            "ws://10.0.0.5:8080"
        );
    }

    #[test]
    fn connect_src_takes_csp_sources_only() {
        let ok = RawConfig {
            connect_src: vec!["wss://*.play.example".into(), "ws://127.0.0.1:*".into()],
            ..RawConfig::default()
        };
        assert!(ok.validate().is_ok());
        let bad = RawConfig {
            connect_src: vec!["wss://a.example; script-src *".into()],
            ..RawConfig::default()
        };
        assert!(
            bad.validate()
                .expect_err("injection")
                .0
                .starts_with("connect_src")
        );
    }
}
