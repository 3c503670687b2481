//! Calls from this node to another: creating a match there for a player, and passing on an
//! admin request for a match it owns. Node calls carry a node token signed with the shared
//! secret (valid for the configured token lifetime, minted per call).

use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shared::api::MatchTicket;

use crate::auth::{Auth, TokenKind};
use crate::cluster::{Cluster, ClusterError, NodeEntry};
use crate::error::AppError;

/// `POST /v1/cluster/matches`: create a matchmaking match here with a seat for `player`.
#[derive(Serialize, Deserialize, Debug)]
pub struct CreateFor {
    pub player: String,
}

fn node_token(cluster: &Cluster, auth: &Auth) -> Result<String, ClusterError> {
    let sub = format!("node:{}", cluster.node_id);
    auth.issue(&sub, &cluster.node_id, TokenKind::Node)
        .map(|(t, _)| t)
        .map_err(|e| ClusterError::Node(e.to_string()))
}

/// Asks `node` to create a match with a seat reserved for `player`.
pub async fn create_on(
    cluster: &Cluster,
    auth: &Auth,
    node: &NodeEntry,
    player: &str,
) -> Result<MatchTicket, ClusterError> {
    let token = node_token(cluster, auth)?;
    let failed = |e: String| ClusterError::Node(format!("{}: {e}", node.id));
    let resp = cluster
        .http
        .post(format!("{}/v1/cluster/matches", node.http))
        .bearer_auth(token)
        .json(&CreateFor {
            player: player.to_owned(),
        })
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(failed(format!("answered {}", resp.status())));
    }
    resp.json().await.map_err(|e| failed(e.to_string()))
}

/// Passes an admin request on to the node that owns the match and hands back its answer. The
/// caller's own admin token goes with it (every node accepts every node's tokens).
pub async fn forward(
    cluster: &Cluster,
    owner: &NodeEntry,
    method: Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: bytes::Bytes,
) -> Response {
    let mut req = cluster
        .http
        .request(method, format!("{}{path_and_query}", owner.http))
        .body(body);
    for name in [header::AUTHORIZATION, header::CONTENT_TYPE] {
        if let Some(v) = headers.get(&name) {
            req = req.header(name, v);
        }
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => {
            return AppError::new(
                StatusCode::BAD_GATEWAY,
                "node_unavailable",
                format!("node {} did not answer: {e}", owner.id),
            )
            .into_response();
        }
    };
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type = resp.headers().get(header::CONTENT_TYPE).cloned();
    let body = resp.bytes().await.unwrap_or_default();
    let mut out = Response::new(Body::from(body));
    *out.status_mut() = status;
    if let Some(ct) = content_type {
        out.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    out
}
