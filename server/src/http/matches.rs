//! Matches: `POST /v1/matchmake`, `POST /v1/matches`, `GET /v1/matches`.

use axum::Json;
use axum::extract::State;
use axum::http::header::{CONNECTION, HOST, HeaderName};
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::bearer::PlayerAuth;
use crate::error::AppError;
use crate::game::options::MatchOptionsRequest;
use crate::http::json::JsonBody;
use crate::registry::{CreateError, MatchHandle};

/// Where a client should connect for a match: `public_url` when configured, else the host it
/// called; then `/v1/ws?match=ID`.
fn ws_url(state: &AppState, headers: &HeaderMap, id: &str) -> String {
    if let Some(base) = &state.config.public_url {
        return format!("{base}/v1/ws?match={id}");
    }
    let scheme = if state.config.tls.is_some() {
        "wss"
    } else {
        "ws"
    };
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map_or_else(|| state.config.bind.to_string(), str::to_owned);
    format!("{scheme}://{host}/v1/ws?match={id}")
}

fn too_many(_: CreateError) -> AppError {
    AppError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "too_many_matches",
        "the server runs as many matches as it may",
    )
}

/// Reserves a seat in the fullest open match with room, or in a new one.
///
/// The answer closes its HTTP connection (`Connection: close`): the client's next step is the
/// WebSocket, and an idle keep-alive connection would hold ~15 KiB of server memory (hyper's
/// buffers and task) until `header_read_timeout` — a third of the server's peak memory when
/// 512 players join at once.
pub async fn matchmake(
    State(state): State<AppState>,
    PlayerAuth(claims): PlayerAuth,
    headers: HeaderMap,
) -> Result<([(HeaderName, &'static str); 1], Json<Value>), AppError> {
    if state.drain.is_draining() {
        return Err(AppError::draining());
    }
    let defaults = || {
        let req = MatchOptionsRequest {
            matchmaking: Some(true),
            ..Default::default()
        };
        // Server defaults are validated at start, so resolving them cannot fail.
        req.resolve(&state.config)
            .unwrap_or_else(|_| unreachable!("defaults are valid"))
    };
    let handle = state
        .registry
        .matchmake(&claims.sub, defaults)
        .map_err(too_many)?;
    Ok((
        [(CONNECTION, "close")],
        Json(json!({ "match_id": handle.id, "ws_url": ws_url(&state, &headers, &handle.id) })),
    ))
}

/// Creates a match with the given options (joinable by id; matchmaking only if asked).
pub async fn create(
    State(state): State<AppState>,
    PlayerAuth(_): PlayerAuth,
    headers: HeaderMap,
    JsonBody(req): JsonBody<MatchOptionsRequest>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    if state.drain.is_draining() {
        return Err(AppError::draining());
    }
    let options = req
        .resolve(&state.config)
        .map_err(|m| AppError::bad_request("invalid_options", m))?;
    let handle = state.registry.create(options).map_err(too_many)?;
    let body = json!({
        "match_id": handle.id,
        "ws_url": ws_url(&state, &headers, &handle.id),
        "match": summary(&handle),
    });
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Serialize, Debug)]
pub struct MatchSummary {
    pub id: String,
    pub players: usize,
    pub capacity: u16,
    pub tick_rate: u16,
    pub snapshot_interval: u16,
    pub tick: u32,
    pub state: &'static str,
    pub matchmaking: bool,
}

fn summary(m: &MatchHandle) -> MatchSummary {
    MatchSummary {
        id: m.id.clone(),
        players: m.players(),
        capacity: m.options.max_players,
        tick_rate: m.tick_rate.load(std::sync::atomic::Ordering::Relaxed),
        snapshot_interval: m
            .snapshot_interval
            .load(std::sync::atomic::Ordering::Relaxed),
        tick: m.tick.load(std::sync::atomic::Ordering::Relaxed),
        state: if m.is_ended() { "ended" } else { "running" },
        matchmaking: m.options.matchmaking,
    }
}

/// Lists running matches.
pub async fn list(State(state): State<AppState>) -> Json<Vec<MatchSummary>> {
    Json(state.registry.list().iter().map(|m| summary(m)).collect())
}
