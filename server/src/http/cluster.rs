//! The cluster's HTTP surface: `GET /v1/admin/cluster` (every node and match, for operators),
//! `POST /v1/cluster/matches` (another node asks this one to host a new match), and the layer
//! that routes admin actions on a match to the node that owns it.

use axum::Json;
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shared::api::MatchTicket;

use crate::cluster::{MatchEntry, NodeEntry};
use crate::error::AppError;
use crate::http::bearer::{AdminAuth, NodeAuth};
use crate::http::json::JsonBody;
use crate::node::matchmaker;
use crate::node::remote::{self, CreateFor};
use crate::state::AppState;

/// Largest admin request body passed on to another node (the router's own limit).
const FORWARD_BODY_LIMIT: usize = 16 * 1024;

/// `GET /v1/admin/cluster`.
#[derive(Serialize, Deserialize, Debug)]
pub struct ClusterView {
    /// False on a server with no `redis_url` (the lists are then empty).
    pub enabled: bool,
    /// The node that answered.
    pub node: Option<String>,
    /// Whether that node reaches Redis now.
    pub redis_up: bool,
    pub nodes: Vec<NodeEntry>,
    pub matches: Vec<ClusterMatch>,
}

/// One match of the cluster with its seats taken (held plus unexpired reservations).
#[derive(Serialize, Deserialize, Debug)]
pub struct ClusterMatch {
    #[serde(flatten)]
    pub entry: MatchEntry,
    pub seats_taken: u32,
}

/// Every live node and match of the cluster.
pub async fn admin_view(
    State(state): State<AppState>,
    AdminAuth(_): AdminAuth,
) -> Result<Json<ClusterView>, AppError> {
    let Some(cluster) = &state.cluster else {
        return Ok(Json(ClusterView {
            enabled: false,
            node: None,
            redis_up: false,
            nodes: Vec::new(),
            matches: Vec::new(),
        }));
    };
    let nodes = cluster.nodes().await?;
    let matches = cluster.matches(None).await?;
    Ok(Json(ClusterView {
        enabled: true,
        node: Some(cluster.node_id.clone()),
        redis_up: cluster.is_up(),
        nodes,
        matches: matches
            .into_iter()
            .map(|(entry, seats_taken)| ClusterMatch { entry, seats_taken })
            .collect(),
    }))
}

/// `POST /v1/cluster/matches` (node token): creates a matchmaking match here with a seat
/// reserved for the player another node is placing.
pub async fn create_for(
    State(state): State<AppState>,
    NodeAuth(_): NodeAuth,
    JsonBody(body): JsonBody<CreateFor>,
) -> Result<Json<MatchTicket>, AppError> {
    let Some(cluster) = &state.cluster else {
        return Err(AppError::new(
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            "this server is not in a cluster",
        ));
    };
    Ok(Json(
        matchmaker::create_here(&state, cluster, &body.player).await?,
    ))
}

/// Routes `/v1/admin/matches/{id}…` to the match's owner when it runs on another node (after
/// checking the admin token here, so strangers cannot make nodes call each other).
pub async fn route_to_owner(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(cluster) = state.cluster.clone() else {
        return next.run(req).await;
    };
    let id = req
        .uri()
        .path()
        .strip_prefix("/v1/admin/matches/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
        .to_owned();
    if id.is_empty() || state.registry.get(&id).is_some() {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    if let Err(e) = AdminAuth::from_request_parts(&mut parts, &state).await {
        return e.into_response();
    }
    let owner = match owner_of(&cluster, &id).await {
        Ok(Some(owner)) if owner.id != cluster.node_id => owner,
        Ok(_) => return next.run(Request::from_parts(parts, body)).await,
        Err(e) => return e.into_response(),
    };
    let Ok(body) = axum::body::to_bytes(body, FORWARD_BODY_LIMIT).await else {
        return AppError::bad_request("body_too_large", "request body too large").into_response();
    };
    let target = parts
        .uri
        .path_and_query()
        .map_or(parts.uri.path(), |p| p.as_str());
    remote::forward(
        &cluster,
        &owner,
        parts.method.clone(),
        target,
        &parts.headers,
        body,
    )
    .await
}

/// The live node that owns match `id`, if any.
async fn owner_of(
    cluster: &crate::cluster::Cluster,
    id: &str,
) -> Result<Option<NodeEntry>, AppError> {
    let Some(m) = cluster.find(id).await? else {
        return Ok(None);
    };
    Ok(cluster.nodes().await?.into_iter().find(|n| n.id == m.node))
}
