//! Matches: `POST /v1/matchmake`, `POST /v1/matches`, `GET /v1/matches`,
//! `GET /v1/matches/{id}` — on one server, or across the cluster when `redis_url` is set.

use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CONNECTION, CONTENT_TYPE, HOST, HeaderName};
use axum::response::{IntoResponse, Response};
use shared::api::{MatchState, MatchSummary, MatchTicket};

use crate::cluster::AddressPlace;
use crate::error::AppError;
use crate::game::options::{MatchOptionsRequest, resolve};
use crate::http::bearer::PlayerAuth;
use crate::http::json::OptionsBody;
use crate::listener::{Peer, Reached};
use crate::registry::{Creator, MatchHandle};
use crate::state::AppState;

/// Where a client should connect for a match: `public_url` when configured; else the Host the
/// client called if it names this server (its address, or `localhost` for a loopback address)
/// or `trust_host_header` is on; else the address the connection reached. Then
/// `/v1/ws?match=ID`, plus the ticket of a private match for its creator.
fn ws_url(state: &AppState, req: &Requester, m: &MatchHandle, ticket: bool) -> String {
    let ticket = match (&m.ticket, ticket) {
        (Some(t), true) => format!("&ticket={t}"),
        _ => String::new(),
    };
    let id = &m.id;
    if let Some(cluster) = &state.cluster {
        return format!("{}/v1/ws?match={id}{ticket}", cluster.ws_base);
    }
    if let Some(base) = &state.config.public_url {
        return format!("{base}/v1/ws?match={id}{ticket}");
    }
    let scheme = if state.config.tls.is_some() {
        "wss"
    } else {
        "ws"
    };
    let reached = req.reached.unwrap_or(state.config.bind);
    let host = match req.host.as_deref() {
        Some(h) if state.config.trust_host_header || names(h, reached, scheme) => h.to_owned(),
        _ => reached.to_string(),
    };
    format!("{scheme}://{host}/v1/ws?match={id}{ticket}")
}

/// Whether a Host header value names the server at `local`: its IP and port, or `localhost`
/// and the port when that IP is a loopback one (the port may be left out when it is the
/// scheme's default).
fn names(host: &str, local: SocketAddr, scheme: &str) -> bool {
    let default_port = if scheme == "wss" { 443 } else { 80 };
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) if !p.contains(']') => match p.parse::<u16>() {
            Ok(p) => (n, p),
            Err(_) => return false,
        },
        _ => (host, default_port),
    };
    if port != local.port() {
        return false;
    }
    let ip = name.trim_start_matches('[').trim_end_matches(']');
    ip.parse::<IpAddr>().is_ok_and(|ip| ip == local.ip())
        || (local.ip().is_loopback() && name.eq_ignore_ascii_case("localhost"))
}

/// Where a request came from and what it called, for `ws_url` and the budgets.
#[derive(Debug)]
pub struct Requester {
    ip: Option<IpAddr>,
    reached: Option<SocketAddr>,
    host: Option<String>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Requester {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Requester {
            ip: parts.extensions.get::<Peer>().map(|Peer(a)| a.ip()),
            reached: parts.extensions.get::<Reached>().map(|Reached(a)| *a),
            host: parts
                .headers
                .get(HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned),
        })
    }
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
    req: Requester,
) -> Result<([(HeaderName, &'static str); 1], Json<MatchTicket>), AppError> {
    if state.drain.is_draining() {
        return Err(AppError::draining());
    }
    if let Some(cluster) = &state.cluster {
        // Reservations count against the address across the cluster, as a single server
        // counts them against `max_connections_per_ip`.
        let place = match req.ip {
            Some(ip) => {
                cluster
                    .reserve_for_address(ip, &claims.sub, state.config.max_connections_per_ip)
                    .await?
            }
            None => AddressPlace::Refreshed,
        };
        if place == AddressPlace::Refused {
            return Err(shared::api::Rejection::TooManyFromAddress.into());
        }
        let ticket = match crate::node::matchmaker::matchmake(&state, cluster, &claims.sub).await {
            Ok(ticket) => ticket,
            Err(e) => {
                // No reservation was made: the place counted for it goes back, as a single
                // server's does.
                if let (Some(ip), AddressPlace::New) = (req.ip, place) {
                    cluster.release_for_address(ip, &claims.sub).await;
                }
                return Err(e);
            }
        };
        return Ok(([(CONNECTION, "close")], Json(ticket)));
    }
    let defaults = || {
        let req = MatchOptionsRequest {
            matchmaking: Some(true),
            ..Default::default()
        };
        // Server defaults are validated at start, so resolving them cannot fail.
        resolve(&req, &state.config).unwrap_or_else(|_| unreachable!("defaults are valid"))
    };
    let handle = state.registry.matchmake(&claims.sub, req.ip, defaults)?;
    let ticket = MatchTicket {
        match_id: handle.id.clone(),
        ws_url: ws_url(&state, &req, &handle, false),
        ticket: None,
        summary: None,
    };
    Ok(([(CONNECTION, "close")], Json(ticket)))
}

/// Creates a match with the given options (joinable by id; matchmaking only if asked; a
/// private one only with the ticket in the answer).
pub async fn create(
    State(state): State<AppState>,
    PlayerAuth(claims): PlayerAuth,
    req: Requester,
    OptionsBody(options): OptionsBody<MatchOptionsRequest>,
) -> Result<(StatusCode, Json<MatchTicket>), AppError> {
    if state.drain.is_draining() {
        return Err(AppError::draining());
    }
    let options = resolve(&options, &state.config)?;
    let creator = Creator {
        player: claims.sub,
        ip: req.ip,
    };
    let handle = state.registry.create(options, Some(creator))?;
    // Listed across the cluster at once; a failed publish is retried at each refresh.
    if let Err(e) = crate::node::sync::refresh(&state).await {
        tracing::warn!(error = %e, "new match not yet published to the cluster");
    }
    let ticket = MatchTicket {
        match_id: handle.id.clone(),
        ws_url: ws_url(&state, &req, &handle, true),
        ticket: handle.ticket.clone(),
        summary: Some(summary(&state, &req, &handle)),
    };
    Ok((StatusCode::CREATED, Json(ticket)))
}

fn summary(state: &AppState, req: &Requester, m: &MatchHandle) -> MatchSummary {
    MatchSummary {
        id: m.id.clone(),
        players: u32::try_from(m.players()).unwrap_or(u32::MAX),
        capacity: m.options.max_players,
        tick_rate: m.tick_rate.load(std::sync::atomic::Ordering::Relaxed),
        snapshot_interval: m
            .snapshot_interval
            .load(std::sync::atomic::Ordering::Relaxed),
        tick: m.tick.load(std::sync::atomic::Ordering::Relaxed),
        state: if m.is_ended() {
            MatchState::Ended
        } else {
            MatchState::Running
        },
        matchmaking: m.options.matchmaking,
        private: m.options.private,
        node: state.cluster.as_ref().map(|c| c.node_id.clone()),
        ws_url: Some(ws_url(state, req, m, false)),
    }
}

/// Lists running matches: this server's, or the whole cluster's.
pub async fn list(State(state): State<AppState>, req: Requester) -> Result<Response, AppError> {
    if let Some(cluster) = &state.cluster {
        let body = cluster.listing().await?;
        return Ok(([(CONTENT_TYPE, "application/json")], body).into_response());
    }
    let list: Vec<MatchSummary> = state
        .registry
        .list()
        .iter()
        .map(|m| summary(&state, &req, m))
        .collect();
    Ok(Json(list).into_response())
}

/// One match, wherever in the cluster it runs, with where to connect to it: how a client that
/// lost its connection finds its match again. 404 once the match (or its node) is gone.
pub async fn one(
    State(state): State<AppState>,
    req: Requester,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<MatchSummary>, AppError> {
    if let Some(m) = state.registry.get(&id).filter(|m| !m.is_ended()) {
        return Ok(Json(summary(&state, &req, &m)));
    }
    if let Some(cluster) = &state.cluster
        && let Some(m) = cluster.find(&id).await?
    {
        return Ok(Json(m.summary()));
    }
    Err(AppError::no_such_match())
}

#[cfg(test)]
mod tests {
    use super::names;

    #[test]
    fn only_names_of_this_server_are_taken_from_host() {
        let loopback = "127.0.0.1:8080".parse().expect("addr");
        assert!(names("127.0.0.1:8080", loopback, "ws"));
        assert!(names("localhost:8080", loopback, "ws"));
        assert!(names("LOCALHOST:8080", loopback, "ws"));
        assert!(!names("evil.example:8080", loopback, "ws"));
        assert!(!names("localhost:9999", loopback, "ws"));
        assert!(!names("127.0.0.1", loopback, "ws"));
        let public = "203.0.113.7:443".parse().expect("addr");
        assert!(names("203.0.113.7", public, "wss"));
        assert!(!names("localhost:443", public, "wss"));
        let v6 = "[::1]:8080".parse().expect("addr");
        assert!(names("[::1]:8080", v6, "ws"));
    }
}
