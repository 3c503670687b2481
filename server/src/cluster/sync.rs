//! The refresh: every `cluster_heartbeat` (and at once when woken) a node writes its entry and
//! its matches to Redis with the TTL, in one script call. A node that stops refreshing (killed,
//! cut off) leaves the cluster when the TTL runs out, with no help from any other node.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use shared::api::MatchState;

use crate::cluster::scripts::SYNC_SCRIPT;
use crate::cluster::{ClusterError, MatchEntry, NodeEntry, PREFIX};
use crate::state::AppState;

/// One match in a refresh: its entry, whether matchmaking may place players in it, and who
/// holds its seats.
#[derive(Serialize)]
struct MatchRefresh {
    id: String,
    entry: String,
    open: bool,
    capacity: u16,
    holders: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reserve: Option<String>,
}

/// Writes this node and its matches to Redis now.
pub async fn refresh(state: &AppState) -> Result<(), ClusterError> {
    refresh_reserving(state, None).await
}

/// [`refresh`], also reserving a seat for `(match id, player)` in the same script call: how a
/// match created for a player is published with their seat already in it.
pub async fn refresh_reserving(
    state: &AppState,
    reserve: Option<(&str, &str)>,
) -> Result<(), ClusterError> {
    let Some(cluster) = &state.cluster else {
        return Ok(());
    };
    let _one_at_a_time = cluster.refreshing.lock().await;
    let draining = state.drain.is_draining();
    let mut players = 0u32;
    let matches: Vec<MatchRefresh> = state
        .registry
        .list()
        .iter()
        .filter(|m| !m.is_ended())
        .map(|m| {
            let holders = m.seats().holder_ids();
            let held = u32::try_from(holders.len()).unwrap_or(u32::MAX);
            players = players.saturating_add(held);
            let entry = MatchEntry {
                id: m.id.clone(),
                node: cluster.node_id.clone(),
                ws: cluster.ws_base.clone(),
                capacity: m.options.max_players,
                players: held,
                tick_rate: m.tick_rate.load(Relaxed),
                snapshot_interval: m.snapshot_interval.load(Relaxed),
                tick: m.tick.load(Relaxed),
                state: MatchState::Running,
                matchmaking: m.options.matchmaking,
                private: m.options.private,
            };
            MatchRefresh {
                id: m.id.clone(),
                entry: serde_json::to_string(&entry).unwrap_or_default(),
                open: m.options.matchmaking && !m.options.private,
                capacity: m.options.max_players,
                holders,
                reserve: reserve
                    .filter(|(id, _)| *id == m.id)
                    .map(|(_, player)| player.to_owned()),
            }
        })
        .collect();
    let node = NodeEntry {
        id: cluster.node_id.clone(),
        http: cluster.http_base.clone(),
        ws: cluster.ws_base.clone(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        draining,
        players,
        matches: u32::try_from(matches.len()).unwrap_or(u32::MAX),
        max_matches: state.config.max_matches,
        budget_used: cluster.budget_permille.load(Relaxed) as f64 / 1000.0,
        started_ms: started_ms(),
    };
    let mut conn = cluster.conn();
    let r: redis::RedisResult<Vec<redis::Value>> = SYNC_SCRIPT
        .arg(PREFIX)
        .arg(&cluster.node_id)
        .arg(u64::try_from(cluster.ttl.as_millis()).unwrap_or(u64::MAX))
        .arg(serde_json::to_string(&node).unwrap_or_default())
        .arg(if draining { "1" } else { "0" })
        .arg(serde_json::to_string(&matches).unwrap_or_default())
        .arg(u64::try_from(state.config.seat_reservation.as_millis()).unwrap_or(u64::MAX))
        .invoke_async(&mut conn)
        .await;
    let counts = |v: &[redis::Value]| -> Option<[i64; 3]> {
        let int = |x: &redis::Value| match x {
            redis::Value::Int(n) => Some(*n),
            _ => None,
        };
        Some([int(v.first()?)?, int(v.get(1)?)?, int(v.get(2)?)?])
    };
    match cluster.noted(r) {
        Ok(v) => match counts(&v) {
            Some([nodes, matches, open]) => {
                let n = |x: i64| u64::try_from(x).unwrap_or(0);
                cluster.gauges.nodes.store(n(nodes), Relaxed);
                cluster.gauges.matches.store(n(matches), Relaxed);
                cluster.gauges.open.store(n(open), Relaxed);
                Ok(())
            }
            None => {
                let other = match v.get(1) {
                    Some(redis::Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
                    _ => "?".into(),
                };
                tracing::error!(node = %cluster.node_id, other = %other, "another live node uses this node_id: not registering until it is gone (give each node its own node_id)");
                cluster.gauges.refresh_failures.fetch_add(1, Relaxed);
                Err(ClusterError::Node(format!(
                    "node_id {} is used by the live node at {other}",
                    cluster.node_id
                )))
            }
        },
        Err(e) => {
            cluster.gauges.refresh_failures.fetch_add(1, Relaxed);
            Err(e)
        }
    }
}

/// Unix ms when this process started (taken on first call, which is at start).
fn started_ms() -> u64 {
    static STARTED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *STARTED.get_or_init(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0))
    })
}

/// Refreshes every `cluster_heartbeat` until `stop` completes, then leaves the cluster (a clean
/// stop removes the node and its matches at once instead of waiting for the TTL).
pub async fn run(state: AppState, stop: impl Future<Output = ()>) {
    let Some(cluster) = state.cluster.clone() else {
        return;
    };
    let workers = match state.config.worker_threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let mut since = (Instant::now(), state.metrics.tick_sum_ns.load(Relaxed));
    let beat = async {
        loop {
            let now = Instant::now();
            let busy = state.metrics.tick_sum_ns.load(Relaxed);
            let wall = now.duration_since(since.0);
            if wall >= cluster.heartbeat / 2 {
                let used = (busy.saturating_sub(since.1)) as f64
                    / (wall.as_nanos() as f64 * workers as f64);
                cluster
                    .budget_permille
                    .store((used.clamp(0.0, 1.0) * 1000.0) as u64, Relaxed);
                since = (now, busy);
            }
            if let Err(e) = refresh(&state).await {
                tracing::debug!(error = %e, "cluster refresh failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(cluster.heartbeat) => {}
                _ = cluster.wake.notified() => {}
                _ = state.drain.started(), if !state.drain.is_draining() => {}
            }
        }
    };
    tokio::select! {
        _ = beat => {}
        _ = stop => {}
    }
    let _refreshing = cluster.refreshing.lock().await;
    match tokio::time::timeout(Duration::from_secs(2), cluster.leave()).await {
        Ok(Ok(())) => tracing::info!(node = %cluster.node_id, "left the cluster"),
        _ => {
            tracing::warn!(node = %cluster.node_id, "could not leave the cluster cleanly; its entry expires with the TTL")
        }
    }
}
