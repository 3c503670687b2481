//! `AppState`: what every handler shares (configuration, auth, the registry, metrics, the
//! drain, connection places), built once at start. It knows no handler: the router in
//! [`crate::app`] puts the two together.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use shared::arena::Arena;

use crate::maps::Maps;

use crate::address_budget;
use crate::auth::Auth;
use crate::cluster::Cluster;
use crate::config::Config;
use crate::drain::Drain;
use crate::metrics::Metrics;
use crate::places::Places;
use crate::record::writer::Recorder;
use crate::registry::Registry;
use crate::results::ResultsLog;

/// The map every match is played on, embedded so one binary deploys.
pub const DEFAULT_MAP: &str = include_str!("../maps/arena.json");

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub auth: Arc<Auth>,
    pub registry: Arc<Registry>,
    pub metrics: Arc<Metrics>,
    pub drain: Arc<Drain>,
    /// Loaded at start when `tls_cert` / `tls_key` are set.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// One place per open connection (HTTP or WebSocket), in all and per address; a WebSocket
    /// session holds its connection's place until it ends.
    pub places: Arc<Places>,
    /// Requests per address to the routes that create state; `None`: no limit.
    pub http_budget: Option<address_budget::Budget>,
    /// WebSocket handshakes per address (a budget of their own, the same size); `None`: no
    /// limit.
    pub handshake_budget: Option<address_budget::Budget>,
    /// Reads of the public listings per address (`GET /v1/matches`, `/v1/matches/{id}`): five
    /// times the request budget; `None`: no limit.
    pub read_budget: Option<address_budget::Budget>,
    /// Replay streams being built (`GET /v1/admin/recordings/{id}/replay`): two at once.
    pub replay_builds: Arc<tokio::sync::Semaphore>,
    /// This node's membership of a cluster (`redis_url`); set by [`crate::app::serve`] once
    /// the listener's address is known.
    pub cluster: Option<Arc<Cluster>>,
    conn_ids: Arc<AtomicU64>,
}

impl AppState {
    /// Builds the state; fails on a bad map, results log, public key or TLS files.
    pub fn new(config: Config) -> Result<AppState, String> {
        let file = match &config.map_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| format!("map_file {}: {e}", path.display()))?,
            ),
            None => None,
        };
        let in_file = |e: String| match &config.map_file {
            Some(path) => format!("map_file {}: {e}", path.display()),
            None => e,
        };
        let maps = Maps::load(file.as_deref()).map_err(in_file)?;
        for (name, arena) in maps.iter() {
            check_welcome_fits(arena).map_err(|e| match name {
                crate::maps::FILE => in_file(e),
                _ => format!("map {name}: {e}"),
            })?;
        }
        let config = Arc::new(config);
        let metrics = Arc::new(Metrics::default());
        let mut auth = Auth::new(
            &config.jwt_secret,
            &config.jwt_issuer,
            &config.jwt_audience,
            config.token_lifetime,
        );
        if let Some(pem) = &config.jwt_public_key {
            auth = auth.with_public_key(pem)?;
        }
        let auth = Arc::new(auth);
        let places = Places::new(config.max_connections, config.max_sockets_per_ip);
        let tls = match &config.tls {
            Some((cert, key)) => Some(crate::listener::load(cert, key)?),
            None => None,
        };
        let results = match &config.results_log {
            Some(path) => {
                Some(Arc::new(ResultsLog::open(path).map_err(|e| {
                    format!("results_log {}: {e}", path.display())
                })?))
            }
            None => None,
        };
        let recorder = match &config.record_dir {
            Some(dir) => Some(Arc::new(
                Recorder::start(dir, config.record_retention, metrics.clone())
                    .map_err(|e| format!("record_dir {}: {e}", dir.display()))?,
            )),
            None => None,
        };
        let registry = Arc::new(Registry::new(
            config.clone(),
            metrics.clone(),
            results,
            recorder,
            maps,
        ));
        let (rate, burst) = (config.http_rate_limit, config.http_rate_burst);
        let http_budget = address_budget::budget(rate, burst, axum::http::Method::POST);
        let handshake_budget = address_budget::budget(rate, burst, axum::http::Method::GET);
        let read_budget = address_budget::budget(
            rate.saturating_mul(5),
            burst.saturating_mul(5),
            axum::http::Method::GET,
        );
        Ok(AppState {
            config,
            auth,
            registry,
            metrics,
            drain: Arc::new(Drain::default()),
            tls,
            places,
            http_budget,
            handshake_budget,
            read_budget,
            replay_builds: Arc::new(tokio::sync::Semaphore::new(2)),
            cluster: None,
            conn_ids: Arc::new(AtomicU64::new(1)),
        })
    }

    /// Joins the cluster configured by `redis_url` as the node listening on `bound` (its
    /// address goes into what other nodes and players are told). No-op without `redis_url`.
    pub fn join_cluster(&mut self, bound: std::net::SocketAddr) -> Result<(), String> {
        let Some(c) = &self.config.cluster else {
            return Ok(());
        };
        let tls = self.config.tls.is_some();
        let public = self.config.public_url.as_deref();
        let http = c.http_base(public, bound, tls);
        let ws = crate::config::ClusterConfig::ws_base(public, bound, tls);
        let cluster = Cluster::new(c, http, ws, self.config.seat_reservation)?;
        tracing::info!(node = %cluster.node_id, http = %cluster.http_base, ws = %cluster.ws_base, "cluster node");
        self.cluster = Some(Arc::new(cluster));
        Ok(())
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> shared::ids::ConnId {
        shared::ids::ConnId(self.conn_ids.fetch_add(1, Relaxed))
    }
}

/// The Welcome carries the map, and a connection holds at most `WRITE_BUFFER_CAP` unsent bytes:
/// a map whose Welcome would not fit could never be sent, so it is refused at start.
fn check_welcome_fits(arena: &Arena) -> Result<(), String> {
    use shared::protocol::{ServerMsg, Welcome};
    let welcome = ServerMsg::Welcome(Welcome {
        protocol_version: shared::protocol::PROTOCOL_VERSION,
        match_id: String::new(),
        player_id: String::new(),
        entity: u32::MAX,
        tick_rate: u16::MAX,
        snapshot_interval: u16::MAX,
        tick: u32::MAX,
        score_limit: u16::MAX,
        time_limit_secs: u32::MAX,
        interest_radius: u32::MAX,
        arena: arena.clone(),
    });
    // Room for the match and player ids (12 and 18 bytes today) and then some.
    let size = shared::codec::encode_server(&welcome).len() + 256;
    let cap = crate::net::WRITE_BUFFER_CAP;
    if size > cap {
        return Err(format!(
            "the map makes a {size}-byte Welcome; a connection sends at most {cap} bytes at once"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Arena, DEFAULT_MAP, check_welcome_fits};
    use shared::arena::Point;

    #[test]
    fn a_map_whose_welcome_cannot_be_sent_is_refused() {
        let mut arena = Arena::from_json(DEFAULT_MAP).expect("default map");
        assert!(check_welcome_fits(&arena).is_ok());
        // Spawn points are not capped by the map rules; 20 000 of them make a list well over 64 KiB.
        let spawn = arena.spawns[0];
        arena.spawns = vec![Point { x: 99_000, ..spawn }; 20_000];
        let err = check_welcome_fits(&arena).expect_err("too big");
        assert!(err.contains("Welcome"), "{err}");
    }
}
