//! The refresh: every `cluster_heartbeat` (and at once when woken) a node writes its entry and
//! its matches to Redis with the TTL, in one script call. A node that stops refreshing (killed,
//! cut off) leaves the cluster when the TTL runs out, with no help from any other node.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use shared::api::MatchState;

use crate::cluster::scripts::SYNC_SCRIPT;
use crate::cluster::{ClusterError, MatchEntry, NodeEntry, PREFIX, ms};
use crate::state::AppState;

/// How long a match's entry lives in Redis without being rewritten: a safety net only (a match
/// is live while its node's entry is, and a live node rewrites each of its matches every
/// [`RESEND_EVERY`]); it frees the keys of a dead node's matches if no node sweeps them.
const ENTRY_TTL: Duration = Duration::from_secs(30);

/// Each match is sent again after this even if nothing changed: its tick in listings, and its
/// place in the open index once expired reservations left it room.
const RESEND_EVERY: Duration = Duration::from_secs(5);

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

/// What a refresh sends about the matches.
#[derive(Serialize)]
struct Payload<'a> {
    /// Every match is in `matches`: Redis forgets the node's others.
    full: bool,
    matches: &'a [&'a MatchRefresh],
    gone: &'a [String],
}

/// Writes this node and what changed in its matches to Redis now.
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
    let mut published = cluster.published.lock().await;
    let draining = state.drain.is_draining();
    let now = Instant::now();
    let mut players = 0u32;
    // (match, fingerprint): the fingerprint leaves out the tick, which changes every tick.
    let mut all: Vec<(MatchRefresh, String)> = Vec::new();
    for m in state.registry.list().iter().filter(|m| !m.is_ended()) {
        let mut holders = m.seats().holder_ids();
        holders.sort_unstable();
        let held = u32::try_from(holders.len()).unwrap_or(u32::MAX);
        players = players.saturating_add(held);
        let mut entry = MatchEntry {
            id: m.id.clone(),
            node: cluster.node_id.clone(),
            ws: cluster.ws_base.clone(),
            capacity: m.options.max_players,
            players: held,
            tick_rate: m.tick_rate.load(Relaxed),
            snapshot_interval: m.snapshot_interval.load(Relaxed),
            tick: 0,
            state: MatchState::Running,
            matchmaking: m.options.matchmaking,
            private: m.options.private,
        };
        let fingerprint = format!(
            "{}{}",
            serde_json::to_string(&entry).unwrap_or_default(),
            holders.join(",")
        );
        entry.tick = m.tick.load(Relaxed);
        let refresh = MatchRefresh {
            id: m.id.clone(),
            entry: serde_json::to_string(&entry).unwrap_or_default(),
            open: m.options.matchmaking && !m.options.private,
            capacity: m.options.max_players,
            holders,
            reserve: reserve
                .filter(|(id, _)| *id == m.id)
                .map(|(_, player)| player.to_owned()),
        };
        all.push((refresh, fingerprint));
    }
    let node = NodeEntry {
        id: cluster.node_id.clone(),
        http: cluster.http_base.clone(),
        ws: cluster.ws_base.clone(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        draining,
        players,
        matches: u32::try_from(all.len()).unwrap_or(u32::MAX),
        max_matches: state.config.max_matches,
        budget_used: cluster.budget_permille.load(Relaxed) as f64 / 1000.0,
        started_ms: started_ms(),
    };
    let mut full = published.stale || published.draining != draining;
    loop {
        let changed = |(m, fp): &(MatchRefresh, String)| {
            full || m.reserve.is_some()
                || published
                    .sent
                    .get(&m.id)
                    .is_none_or(|(sent, at)| sent != fp || now.duration_since(*at) >= RESEND_EVERY)
        };
        let (send, fingerprints): (Vec<&MatchRefresh>, Vec<&String>) = all
            .iter()
            .filter(|m| changed(m))
            .map(|(m, fp)| (m, fp))
            .unzip();
        let live: std::collections::HashSet<&str> =
            all.iter().map(|(m, _)| m.id.as_str()).collect();
        let gone: Vec<String> = published
            .sent
            .keys()
            .filter(|id| !live.contains(id.as_str()))
            .cloned()
            .collect();
        let payload = Payload {
            full,
            matches: &send,
            gone: &gone,
        };
        let mut conn = cluster.conn();
        let r: redis::RedisResult<Vec<redis::Value>> = SYNC_SCRIPT
            .arg(PREFIX)
            .arg(&cluster.node_id)
            .arg(ms(cluster.ttl))
            .arg(serde_json::to_string(&node).unwrap_or_default())
            .arg(if draining { "1" } else { "0" })
            .arg(serde_json::to_string(&payload).unwrap_or_default())
            .arg(ms(state.config.seat_reservation))
            .arg(ms(ENTRY_TTL))
            .invoke_async(&mut conn)
            .await;
        let v = match cluster.noted(r) {
            Ok(v) => v,
            Err(e) => {
                published.invalidate();
                cluster.gauges.refresh_failures.fetch_add(1, Relaxed);
                return Err(e);
            }
        };
        match int_at(&v, 0) {
            // The node's entry was gone (Redis restarted, or this node was taken for dead):
            // everything again, now.
            Some(-2) if !full => {
                full = true;
                continue;
            }
            Some(-1) => {
                let other = match v.get(1) {
                    Some(redis::Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
                    _ => "?".into(),
                };
                tracing::error!(node = %cluster.node_id, other = %other, "another live node uses this node_id: not registering until it is gone (give each node its own node_id)");
                published.invalidate();
                cluster.gauges.refresh_failures.fetch_add(1, Relaxed);
                return Err(ClusterError::Node(format!(
                    "node_id {} is used by the live node at {other}",
                    cluster.node_id
                )));
            }
            _ => {}
        }
        let n = |i| u64::try_from(int_at(&v, i).unwrap_or(0)).unwrap_or(0);
        cluster.gauges.nodes.store(n(0), Relaxed);
        cluster.gauges.matches.store(n(1), Relaxed);
        cluster.gauges.open.store(n(2), Relaxed);
        for id in gone {
            published.sent.remove(&id);
        }
        for (m, fp) in send.iter().zip(fingerprints) {
            published.sent.insert(m.id.clone(), (fp.clone(), now));
        }
        published.stale = false;
        published.draining = draining;
        return Ok(());
    }
}

fn int_at(v: &[redis::Value], i: usize) -> Option<i64> {
    match v.get(i)? {
        redis::Value::Int(n) => Some(*n),
        _ => None,
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
    let _refreshing = cluster.published.lock().await;
    match tokio::time::timeout(Duration::from_secs(2), cluster.leave()).await {
        Ok(Ok(())) => tracing::info!(node = %cluster.node_id, "left the cluster"),
        _ => {
            tracing::warn!(node = %cluster.node_id, "could not leave the cluster cleanly; its entry expires with the TTL")
        }
    }
}
