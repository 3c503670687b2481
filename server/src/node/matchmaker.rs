//! Matchmaking across the cluster: a seat in the fullest open match on any node, or else a new
//! match on the least loaded live node that is not draining.

use std::time::{Duration, Instant};

use shared::api::MatchTicket;

use crate::cluster::{Cluster, NodeEntry, Placement};
use crate::error::AppError;
use crate::game::options::{MatchOptionsRequest, resolve};
use crate::node::remote;
use crate::state::AppState;

/// How long a request waits for another node's new match to open before making one itself.
const WAIT_FOR_CREATION: Duration = Duration::from_secs(2);

/// Between looks at the open index while another node creates a match.
const CREATION_POLL: Duration = Duration::from_millis(20);

fn ticket(p: &Placement) -> MatchTicket {
    MatchTicket {
        match_id: p.match_id.clone(),
        ws_url: p.ws_url(),
        ticket: None,
        summary: None,
    }
}

/// A seat for `player` anywhere in the cluster. When no open match has room, one node at a time
/// creates a match (the creation lock); the others wait for it to open and join it.
pub async fn matchmake(
    state: &AppState,
    cluster: &Cluster,
    player: &str,
) -> Result<MatchTicket, AppError> {
    let deadline = Instant::now() + WAIT_FOR_CREATION;
    loop {
        if let Some(p) = cluster.place(player, None).await? {
            return Ok(ticket(&p));
        }
        if let Some(lock) = cluster.lock_creation().await? {
            // Someone may have opened a match between the look and the lock.
            let placed = match cluster.place(player, None).await {
                Ok(Some(p)) => Ok(ticket(&p)),
                Ok(None) => create_somewhere(state, cluster, player).await,
                Err(e) => Err(e.into()),
            };
            cluster.unlock_creation(&lock).await;
            return placed;
        }
        if Instant::now() >= deadline {
            return create_somewhere(state, cluster, player).await;
        }
        tokio::time::sleep(CREATION_POLL).await;
    }
}

/// Creates a match for `player` on the least loaded node that takes one (trying the next when
/// a node does not answer).
async fn create_somewhere(
    state: &AppState,
    cluster: &Cluster,
    player: &str,
) -> Result<MatchTicket, AppError> {
    let nodes = least_loaded_first(cluster.nodes().await?, &cluster.node_id);
    let mut last = None;
    for node in nodes {
        let made = if node.id == cluster.node_id {
            create_here(state, cluster, player).await
        } else {
            remote::create_on(cluster, &state.auth, &node, player)
                .await
                .map_err(AppError::from)
        };
        match made {
            Ok(t) => return Ok(t),
            Err(e) => {
                tracing::warn!(node = %node.id, error = %e.message, "could not create a match there; trying the next node");
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or_else(|| {
        AppError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "no_node_available",
            "no live node takes new matches (all draining or full)",
        )
    }))
}

/// Live nodes that take matches, least loaded first: fewest players, then least tick budget
/// used (in 5 % steps, so noise does not reorder equals), then this node (no extra hop).
pub fn least_loaded_first(mut nodes: Vec<NodeEntry>, this: &str) -> Vec<NodeEntry> {
    nodes.retain(|n| !n.draining && n.matches < n.max_matches);
    nodes.sort_by_key(|n| {
        (
            n.players,
            (n.budget_used * 20.0) as u32,
            n.id != this,
            n.id.clone(),
        )
    });
    nodes
}

/// Creates a matchmaking match on this node and publishes it with a seat reserved for `player`
/// (one script call: the seat is theirs before anyone else can see the match).
pub async fn create_here(
    state: &AppState,
    cluster: &Cluster,
    player: &str,
) -> Result<MatchTicket, AppError> {
    if state.drain.is_draining() {
        return Err(AppError::draining());
    }
    let request = MatchOptionsRequest {
        matchmaking: Some(true),
        ..Default::default()
    };
    let options = resolve(&request, &state.config)?;
    let handle = state.registry.create(options, None)?;
    crate::node::sync::refresh_reserving(state, Some((&handle.id, player))).await?;
    Ok(ticket(&Placement {
        match_id: handle.id.clone(),
        ws_base: cluster.ws_base.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, players: u32, budget: f64, draining: bool) -> NodeEntry {
        NodeEntry {
            id: id.into(),
            http: String::new(),
            ws: String::new(),
            version: String::new(),
            draining,
            players,
            matches: 1,
            max_matches: 10,
            budget_used: budget,
            started_ms: 0,
        }
    }

    #[test]
    fn fewest_players_then_least_budget_and_never_a_draining_node() {
        let order = least_loaded_first(
            vec![
                node("a", 10, 0.1, false),
                node("b", 3, 0.5, false),
                node("c", 3, 0.1, false),
                node("d", 0, 0.0, true),
            ],
            "a",
        );
        let ids: Vec<_> = order.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["c", "b", "a"]);
    }

    #[test]
    fn this_node_wins_a_tie() {
        let order = least_loaded_first(
            vec![node("a", 2, 0.1, false), node("b", 2, 0.11, false)],
            "b",
        );
        assert_eq!(order[0].id, "b");
    }
}
