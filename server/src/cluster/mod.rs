//! A node's connection to the cluster's shared state in Redis (docs/cluster.md): what the node
//! publishes there (itself and its matches, refreshed with a TTL so a dead node disappears on
//! its own), and the atomic questions it asks (a seat anywhere, a seat at a handshake, who is
//! live). Off when `redis_url` is not set. The tasks and calls that use it, above the
//! application state, are `crate::node`.

pub(crate) mod scripts;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use shared::api::{MatchState, MatchSummary};
use tokio::sync::Notify;

use crate::config::ClusterConfig;
use scripts::{
    LEAVE_SCRIPT, MATCHES_SCRIPT, NODES_SCRIPT, PLACE_SCRIPT, TAKE_SCRIPT, UNLOCK_SCRIPT,
};

/// Every key starts with this, so a Redis can hold other data (and `redis-cli --scan
/// --pattern 'tickwire:*'` shows the cluster).
pub const PREFIX: &str = "tickwire:";

/// Open matches the placement script looks at per request, fullest first. Entries it finds
/// stale are dropped as it goes, so this bounds one request's work, not the cluster's size.
const PLACE_SCAN: usize = 16;

/// How long the cluster-wide lock on creating a match is held at most: one node creates while
/// the others wait for its match to open, so a burst of players fills one match instead of
/// starting several half-empty ones.
const CREATION_LOCK: Duration = Duration::from_secs(3);

/// Redis must answer within this; longer counts as unreachable.
const REDIS_TIMEOUT: Duration = Duration::from_millis(1000);

/// Milliseconds, as the scripts take durations.
pub(crate) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Why the cluster could not answer.
#[derive(Debug)]
pub enum ClusterError {
    /// Redis did not answer (down, unreachable, timed out, or refused the command).
    Redis(redis::RedisError),
    /// Another node did not answer, or refused.
    Node(String),
}

impl std::fmt::Display for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClusterError::Redis(e) => write!(f, "redis: {e}"),
            ClusterError::Node(e) => write!(f, "node: {e}"),
        }
    }
}

impl std::error::Error for ClusterError {}

impl From<redis::RedisError> for ClusterError {
    fn from(e: redis::RedisError) -> ClusterError {
        ClusterError::Redis(e)
    }
}

/// A node as it publishes itself (`tickwire:node:{id}`, JSON).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct NodeEntry {
    pub id: String,
    /// Where other nodes call it (admin actions, creating matches).
    pub http: String,
    /// Where its players connect: `{ws}/v1/ws?match=ID`.
    pub ws: String,
    pub version: String,
    pub draining: bool,
    pub players: u32,
    pub matches: u32,
    pub max_matches: u32,
    /// Share of its worker threads' time spent running ticks over the last refresh, 0..=1.
    pub budget_used: f64,
    /// Unix ms when the process started.
    pub started_ms: u64,
}

/// A match as its node publishes it (`tickwire:match:{id}`, JSON). Seats taken are counted
/// from `tickwire:seats:{id}`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct MatchEntry {
    pub id: String,
    pub node: String,
    pub ws: String,
    pub capacity: u16,
    /// Players holding seats at the last refresh.
    pub players: u32,
    pub tick_rate: u16,
    pub snapshot_interval: u16,
    pub tick: u32,
    pub state: MatchState,
    pub matchmaking: bool,
    pub private: bool,
}

impl MatchEntry {
    /// As `GET /v1/matches` lists it.
    pub fn summary(&self) -> MatchSummary {
        MatchSummary {
            id: self.id.clone(),
            players: self.players,
            capacity: self.capacity,
            tick_rate: self.tick_rate,
            snapshot_interval: self.snapshot_interval,
            tick: self.tick,
            state: self.state,
            matchmaking: self.matchmaking,
            private: self.private,
            node: Some(self.node.clone()),
            ws_url: Some(format!("{}/v1/ws?match={}", self.ws, self.id)),
        }
    }
}

/// A reserved seat: the match and where its owner takes players.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub match_id: String,
    pub ws_base: String,
}

impl Placement {
    pub fn ws_url(&self) -> String {
        format!("{}/v1/ws?match={}", self.ws_base, self.match_id)
    }
}

/// What [`Cluster::reserve_for_address`] did with a player's reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressPlace {
    /// The address holds its cap already.
    Refused,
    /// Counted, as a new place of the address.
    New,
    /// The player's place was there already, and its time is renewed.
    Refreshed,
}

/// What the owner's seat check at a handshake said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    Granted,
    Full,
    NeedsTicket,
}

/// Cluster-wide counts from the last refresh, for `/metrics`.
#[derive(Debug, Default)]
pub struct Gauges {
    pub nodes: AtomicU64,
    pub matches: AtomicU64,
    pub open: AtomicU64,
    pub refresh_failures: AtomicU64,
}

/// This node's membership: its Redis connection, identity and the last refresh's results.
pub struct Cluster {
    pub node_id: String,
    pub http_base: String,
    pub ws_base: String,
    pub heartbeat: Duration,
    pub ttl: Duration,
    seat_ttl: Duration,
    conn: ConnectionManager,
    /// Whether the last call to Redis succeeded.
    up: AtomicBool,
    pub gauges: Gauges,
    /// Tick budget used, per mille, as last published.
    pub budget_permille: AtomicU64,
    /// What Redis was last told about each match. Refreshes run one at a time under this lock:
    /// an older picture of this node must never land after a newer one.
    pub(crate) published: tokio::sync::Mutex<Published>,
    /// Wakes the refresh loop at once (a drain started, a match was created).
    pub wake: Notify,
    pub(crate) http: reqwest::Client,
    /// The cluster's listing as last read from Redis, and when: `GET /v1/matches` is served
    /// from it for [`LISTING_TTL`], so listings cost Redis one script per node per interval
    /// however many requests come (the lock makes concurrent requests wait for one read).
    listing: tokio::sync::Mutex<Option<(std::time::Instant, bytes::Bytes)>>,
    /// Reads of the listing from Redis.
    listing_reads: AtomicU64,
}

/// How long a listing read from Redis is served before it is read again.
pub const LISTING_TTL: Duration = Duration::from_secs(1);

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node_id", &self.node_id)
            .field("http_base", &self.http_base)
            .field("ws_base", &self.ws_base)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Connects lazily: the first command connects, and a lost connection is re-made in the
    /// background, so a node starts (and keeps its matches) while Redis is away.
    pub fn new(
        config: &ClusterConfig,
        http_base: String,
        ws_base: String,
        seat_ttl: Duration,
    ) -> Result<Cluster, String> {
        let client = match &config.redis_ca {
            None => redis::Client::open(config.redis_url.as_str()),
            Some(pem) => redis::Client::build_with_tls(
                config.redis_url.as_str(),
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.clone()),
                },
            ),
        }
        .map_err(|e| format!("redis_url / redis_ca_file: {}", e.category()))?;
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_lazy_with_config(client, manager)
            .map_err(|e| format!("redis: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| format!("http client: {e}"))?;
        Ok(Cluster {
            node_id: config.node_id.clone(),
            http_base,
            ws_base,
            heartbeat: config.heartbeat,
            ttl: config.ttl,
            seat_ttl,
            conn,
            up: AtomicBool::new(false),
            gauges: Gauges::default(),
            budget_permille: AtomicU64::new(0),
            published: tokio::sync::Mutex::new(Published::default()),
            wake: Notify::new(),
            http,
            listing: tokio::sync::Mutex::new(None),
            listing_reads: AtomicU64::new(0),
        })
    }

    /// Whether the last call to Redis succeeded.
    pub fn is_up(&self) -> bool {
        self.up.load(Relaxed)
    }

    /// Notes how a call to Redis went; the first failure and the recovery are logged.
    fn note<T>(&self, r: redis::RedisResult<T>) -> Result<T, ClusterError> {
        match r {
            Ok(v) => {
                if !self.up.swap(true, Relaxed) {
                    tracing::info!(node = %self.node_id, "cluster: Redis reachable");
                }
                Ok(v)
            }
            Err(e) => {
                if self.up.swap(false, Relaxed) {
                    tracing::warn!(node = %self.node_id, error = %e, "cluster: Redis unreachable; matches go on, no new seats until it is back");
                }
                Err(ClusterError::Redis(e))
            }
        }
    }

    /// Reserves a seat for `player` in the fullest open match of the cluster (or in `only`).
    pub async fn place(
        &self,
        player: &str,
        only: Option<&str>,
    ) -> Result<Option<Placement>, ClusterError> {
        let mut conn = self.conn.clone();
        let r: redis::RedisResult<Option<(String, String)>> = PLACE_SCRIPT
            .arg(PREFIX)
            .arg(player)
            .arg(ms(self.seat_ttl))
            .arg(PLACE_SCAN)
            .arg(only.unwrap_or(""))
            .invoke_async(&mut conn)
            .await;
        Ok(self
            .note(r)?
            .map(|(match_id, ws_base)| Placement { match_id, ws_base }))
    }

    /// Counts `player`'s matchmaking reservation against `ip` across the cluster (one per
    /// player, for the reservation's time).
    pub async fn reserve_for_address(
        &self,
        ip: std::net::IpAddr,
        player: &str,
        cap: u32,
    ) -> Result<AddressPlace, ClusterError> {
        let mut conn = self.conn.clone();
        let r: redis::RedisResult<i64> = scripts::ADDRESS_RESERVE_SCRIPT
            .arg(PREFIX)
            .arg(ip.to_string())
            .arg(player)
            .arg(ms(self.seat_ttl))
            .arg(cap)
            .invoke_async(&mut conn)
            .await;
        Ok(match self.note(r)? {
            0 => AddressPlace::Refused,
            1 => AddressPlace::Refreshed,
            _ => AddressPlace::New,
        })
    }

    /// Gives back the place [`Cluster::reserve_for_address`] counted as new, when the
    /// matchmake it was for failed (a failure is logged: the place runs out with its time).
    pub async fn release_for_address(&self, ip: std::net::IpAddr, player: &str) {
        let mut conn = self.conn.clone();
        let r: redis::RedisResult<i64> = scripts::ADDRESS_RELEASE_SCRIPT
            .arg(PREFIX)
            .arg(ip.to_string())
            .arg(player)
            .invoke_async(&mut conn)
            .await;
        if let Err(e) = self.note(r) {
            tracing::debug!(error = %e, "an address place is left to run out");
        }
    }

    /// The owner's seat check for `player`, who holds no seat here yet.
    pub async fn take(
        &self,
        match_id: &str,
        player: &str,
        ticket_ok: bool,
        capacity: u16,
    ) -> Result<Take, ClusterError> {
        let mut conn = self.conn.clone();
        let r: redis::RedisResult<String> = TAKE_SCRIPT
            .arg(PREFIX)
            .arg(match_id)
            .arg(player)
            .arg(if ticket_ok { "1" } else { "0" })
            .arg(capacity)
            .arg(ms(self.seat_ttl))
            .invoke_async(&mut conn)
            .await;
        Ok(match self.note(r)?.as_str() {
            "ok" => Take::Granted,
            "ticket" => Take::NeedsTicket,
            _ => Take::Full,
        })
    }

    /// Every live node.
    pub async fn nodes(&self) -> Result<Vec<NodeEntry>, ClusterError> {
        let mut conn = self.conn.clone();
        let r: redis::RedisResult<Vec<String>> =
            NODES_SCRIPT.arg(PREFIX).invoke_async(&mut conn).await;
        Ok(self
            .note(r)?
            .iter()
            .filter_map(|json| serde_json::from_str(json).ok())
            .collect())
    }

    /// Every live match (or just `only`), with its seats taken.
    pub async fn matches(
        &self,
        only: Option<&str>,
    ) -> Result<Vec<(MatchEntry, u32)>, ClusterError> {
        let mut conn = self.conn.clone();
        let r: redis::RedisResult<Vec<(String, u32)>> = MATCHES_SCRIPT
            .arg(PREFIX)
            .arg(only.unwrap_or(""))
            .invoke_async(&mut conn)
            .await;
        let mut all: Vec<(MatchEntry, u32)> = self
            .note(r)?
            .iter()
            .filter_map(|(json, seats)| Some((serde_json::from_str(json).ok()?, *seats)))
            .collect();
        all.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        Ok(all)
    }

    /// Every live match of the cluster as `GET /v1/matches` lists them (its JSON body), at most
    /// [`LISTING_TTL`] old: serialized once per read, each request shares the bytes.
    pub async fn listing(&self) -> Result<bytes::Bytes, ClusterError> {
        let mut cached = self.listing.lock().await;
        if let Some((at, body)) = cached.as_ref()
            && at.elapsed() < LISTING_TTL
        {
            return Ok(body.clone());
        }
        self.listing_reads.fetch_add(1, Relaxed);
        let all = self.matches(None).await?;
        let list: Vec<MatchSummary> = all.iter().map(|(m, _)| m.summary()).collect();
        // A list of plain structs always serializes.
        let body = bytes::Bytes::from(serde_json::to_vec(&list).unwrap_or_default());
        *cached = Some((std::time::Instant::now(), body.clone()));
        Ok(body)
    }

    /// The match `id` anywhere in the cluster.
    pub async fn find(&self, id: &str) -> Result<Option<MatchEntry>, ClusterError> {
        Ok(self
            .matches(Some(id))
            .await?
            .into_iter()
            .next()
            .map(|(m, _)| m))
    }

    /// Takes the cluster-wide creation lock; `Some(token)` when this node got it.
    pub async fn lock_creation(&self) -> Result<Option<String>, ClusterError> {
        let token = format!("{}:{:016x}", self.node_id, rand::random::<u64>());
        let mut conn = self.conn.clone();
        let r: redis::RedisResult<Option<String>> = redis::cmd("SET")
            .arg(format!("{PREFIX}creating"))
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(ms(CREATION_LOCK))
            .query_async(&mut conn)
            .await;
        Ok(self.note(r)?.map(|_| token))
    }

    /// Gives the creation lock back (it expires on its own if this fails).
    pub async fn unlock_creation(&self, token: &str) {
        let mut conn = self.conn.clone();
        let r: redis::RedisResult<i64> = UNLOCK_SCRIPT
            .arg(PREFIX)
            .arg(token)
            .invoke_async(&mut conn)
            .await;
        let _ = self.note(r);
    }

    /// Removes this node and its matches from the cluster at once (a clean stop).
    pub async fn leave(&self) -> Result<(), ClusterError> {
        let mut conn = self.conn.clone();
        let r: redis::RedisResult<i64> = LEAVE_SCRIPT
            .arg(PREFIX)
            .arg(&self.node_id)
            .invoke_async(&mut conn)
            .await;
        self.note(r).map(|_| ())
    }

    /// The cluster gauges in the Prometheus text format, as of the last refresh.
    pub fn render_metrics(&self, out: &mut String) {
        use crate::metrics::{counter, gauge};
        let g = &self.gauges;
        gauge(
            out,
            "tickwire_cluster_redis_up",
            "Whether this node's last call to Redis succeeded (1) or not (0).",
            u64::from(self.is_up()),
        );
        gauge(
            out,
            "tickwire_cluster_nodes",
            "Live nodes in the cluster at the last refresh.",
            g.nodes.load(Relaxed),
        );
        gauge(
            out,
            "tickwire_cluster_matches",
            "Live matches in the cluster at the last refresh.",
            g.matches.load(Relaxed),
        );
        gauge(
            out,
            "tickwire_cluster_open_matches",
            "Matches with free seats that matchmaking may fill, at the last refresh.",
            g.open.load(Relaxed),
        );
        gauge(
            out,
            "tickwire_cluster_budget_used_permille",
            "Tick budget this node used over the last refresh, per mille of its worker threads' time.",
            self.budget_permille.load(Relaxed),
        );
        counter(
            out,
            "tickwire_cluster_listing_reads_total",
            "Reads of the cluster's match listing from Redis (GET /v1/matches is served from the last one for 1 s).",
            self.listing_reads.load(Relaxed),
        );
        counter(
            out,
            "tickwire_cluster_refresh_failures_total",
            "Refreshes of this node's entry that did not reach Redis.",
            g.refresh_failures.load(Relaxed),
        );
    }

    pub(crate) fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    pub(crate) fn noted<T>(&self, r: redis::RedisResult<T>) -> Result<T, ClusterError> {
        self.note(r)
    }
}

/// What this node last told Redis.
#[derive(Debug, Default)]
pub struct Published {
    /// Per match: what was sent (entry without the tick, and holders), and when.
    pub(crate) sent: std::collections::HashMap<String, (String, std::time::Instant)>,
    /// Send every match next time (at start, after a failed refresh).
    pub(crate) stale: bool,
    /// Whether the last refresh said the node was draining (a change re-sends every match:
    /// they leave the open index).
    pub(crate) draining: bool,
}

impl Published {
    /// The next refresh sends everything.
    pub fn invalidate(&mut self) {
        self.stale = true;
    }
}
